/* redis-client.c: arguments to a working client, for each mode.
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-client.h"

/**
 * redis_client_new:
 * @variant: the registered name being configured
 * @arguments: (nullable): the backend arguments
 * @error: return location for a #GError
 *
 * Checks the arguments and sets up routing; connects to nothing yet (as
 * redis-py, the first call connects), so a region can be configured while
 * the server is down.
 *
 * Returns: (transfer full): the client, or %NULL with @error set.
 */
RedisClient *
redis_client_new (const RedisVariant *variant, GHashTable *arguments,
                  GError **error)
{
  g_autoptr (RedisConfig) config
      = redis_config_new (variant, arguments, error);
  RedisRouter *router = NULL;

  if (config == NULL)
    return NULL;
  switch (variant->mode)
    {
    case REDIS_MODE_SINGLE: router = redis_router_single_new (config); break;
    case REDIS_MODE_SENTINEL:
      router = redis_router_sentinel_new (config);
      break;
    case REDIS_MODE_CLUSTER: router = redis_router_cluster_new (config); break;
    }
  return redis_client_new_with_router (g_steal_pointer (&config), router);
}

RedisClient *
redis_client_new_with_router (RedisConfig *config, RedisRouter *router)
{
  RedisClient *self = g_new0 (RedisClient, 1);

  self->ref_count = 1;
  self->config = config;
  self->router = router;
  return self;
}

RedisClient *
redis_client_ref (RedisClient *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
redis_client_unref (RedisClient *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  redis_router_free (self->router);
  redis_config_free (self->config);
  g_free (self);
}
