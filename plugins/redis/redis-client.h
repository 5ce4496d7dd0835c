/* redis-client.h: one configured backend -- its configuration and the
 * router of its mode -- shared by the backend and the locks it hands out
 * (a lock may outlive the region that made it).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "redis-command.h"

G_BEGIN_DECLS

typedef struct {
  gint ref_count;
  RedisConfig *config;
  RedisRouter *router;
} RedisClient;

RedisClient *redis_client_new (const RedisVariant *variant,
                               GHashTable *arguments, GError **error);
/* A client on a router built elsewhere (tests of the router seam); takes
 * both. */
RedisClient *redis_client_new_with_router (RedisConfig *config,
                                           RedisRouter *router);
RedisClient *redis_client_ref (RedisClient *self);
void redis_client_unref (RedisClient *self);

/* One call: its deadline starts here (docs/redis.md, "Timeouts"). */
static inline gboolean
redis_client_execute (RedisClient *self, RedisBatch *batches, gsize n,
                      GError **error)
{
  RedisDeadline deadline;

  redis_deadline_start (&deadline, &self->config->connect);
  return redis_execute (self->router, &deadline, batches, n, error);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RedisClient, redis_client_unref)

G_END_DECLS
