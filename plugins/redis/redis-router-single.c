/* redis-router-single.c: dogpile.cache.redis -- every key on one server.
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-router.h"

typedef struct {
  RedisRouter parent;
  RedisPool *pool;
} SingleRouter;

static RedisPool *
single_route (RedisRouter *router, const char *key, gsize key_len,
              RedisRouteFlags flags, RedisDeadline *deadline, GError **error)
{
  return ((SingleRouter *) router)->pool;
}

static void
single_failed (RedisRouter *router, RedisPool *pool, RedisFailure failure,
               RedisDeadline *deadline)
{
  /* A closed connection usually means the server went away (restarted,
   * or killed the connection): the idle ones opened before are as dead.
   * A timeout says nothing about the others. */
  if (failure == REDIS_FAILURE_CLOSED)
    redis_pool_drop_idle (pool);
}

static void
single_free (RedisRouter *router)
{
  SingleRouter *self = (SingleRouter *) router;

  redis_pool_free (self->pool);
  g_free (self);
}

static const RedisRouterFuncs single_funcs = {
  .route = single_route,
  .failed = single_failed,
  .free = single_free,
};

RedisRouter *
redis_router_single_new (const RedisConfig *config)
{
  SingleRouter *self = g_new0 (SingleRouter, 1);

  self->parent.funcs = &single_funcs;
  self->pool = redis_pool_new (&config->endpoint, &config->connect,
                               config->pool_size);
  return &self->parent;
}
