/* redis-router.h: which server a command goes to -- the seam between the
 * command layer and the deployment modes.
 *
 * The command layer (redis-command.c) asks a router for the pool that
 * serves a key, sends each node's commands in one round trip, and tells
 * the router what happened: an error reply that may be a redirect
 * (Cluster's MOVED / ASK, a demoted master's READONLY), or an I/O failure
 * (a node down: refresh the topology, rediscover the master).  The
 * operations (dogpile-redis.c) never see nodes: they ask the router only
 * how to split multi-key commands.
 *
 *   single   redis-router-single.c: one pool; no redirects.
 *   sentinel redis-router-sentinel.c: the master's pool, found through
 *            the sentinels; rediscovered after a failure or a READONLY
 *            reply; a replica's pool for REDIS_ROUTE_READ_ONLY batches
 *            when read_from_replicas is set.
 *   cluster  redis-router-cluster.c: a pool per master, the slot map from
 *            CLUSTER SLOTS; key_group = the key's hash slot (CRC16 of the
 *            {hash tag}); redirect = MOVED (update the map) or ASK
 *            (*out_asking), TRYAGAIN (the same pool again).
 *
 * Time: route, redirect and failed get the call's deadline, and whatever
 * I/O they do (reading the topology) is part of the call and waits only
 * for what is left of it (redis-connection.h).
 *
 * A router is shared by every thread of a backend: all its functions are
 * thread-safe.  Pools it hands out stay valid until the router is freed
 * (a router replacing a pool retires it, it does not free it).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "redis-pool.h"

G_BEGIN_DECLS

typedef struct RedisRouter RedisRouter;

typedef enum {
  REDIS_ROUTE_WRITE = 0,
  REDIS_ROUTE_READ_ONLY = 1 << 0, /* a replica may serve it */
} RedisRouteFlags;

typedef struct {
  /* The pool for commands on @key (@key NULL: any node will do), or NULL
   * with @error set when no node is known to serve it. */
  RedisPool *(*route) (RedisRouter *self, const char *key, gsize key_len,
                       RedisRouteFlags flags, RedisDeadline *deadline,
                       GError **error);

  /* Optional.  Keys with the same group may share one multi-key command
   * (MGET, MSET, DEL, a MULTI block); NULL: all keys may. */
  guint (*key_group) (RedisRouter *self, const char *key, gsize key_len);

  /* Optional.  @reply, an error reply from @pool, asks for the command to
   * go elsewhere: return that pool (and *out_asking = TRUE when the
   * command must be preceded by ASKING; @pool itself to send it again as
   * before, a TRYAGAIN); NULL when it is an ordinary error, or with
   * @error set when the redirect cannot be followed.  Called with no
   * connection held: it may do I/O (read the topology). */
  RedisPool *(*redirect) (RedisRouter *self, RedisPool *pool,
                          const redisReply *reply, gboolean *out_asking,
                          RedisDeadline *deadline, GError **error);

  /* Optional.  A connection of @pool failed (@failure says how); called
   * with no connection held, before the command is retried (if it is).
   * After a timeout the deadline has passed: I/O is left for later. */
  void (*failed) (RedisRouter *self, RedisPool *pool, RedisFailure failure,
                  RedisDeadline *deadline);

  void (*free) (RedisRouter *self);
} RedisRouterFuncs;

/* Implementations embed this first. */
struct RedisRouter {
  const RedisRouterFuncs *funcs;
};

static inline void
redis_router_free (RedisRouter *self)
{
  if (self != NULL)
    self->funcs->free (self);
}

/* redis-router-single.c */
RedisRouter *redis_router_single_new (const RedisConfig *config);

/* redis-router-cluster.c */
RedisRouter *redis_router_cluster_new (const RedisConfig *config);
/* The key's hash slot: CRC16-XMODEM of its {hash tag}, & 16383. */
guint redis_cluster_key_slot (const char *key, gsize len);

/* redis-router-sentinel.c */
RedisRouter *redis_router_sentinel_new (const RedisConfig *config);

G_END_DECLS
