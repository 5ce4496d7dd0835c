/* redis-pool.h: a thread-safe pool of connections to one server.
 *
 * At most `size` connections are open; they are made lazily, when every
 * open one is busy, and a caller finding the pool full waits for one to be
 * released (at most until its call's deadline: the wait is part of the
 * call).  A connection that failed is closed
 * on release; after a failure that suggests the server went away, the
 * idle ones are dropped too (redis_pool_drop_idle), so the next call
 * connects afresh and a restarted server is picked up without the user
 * doing anything.
 *
 * Fork: a child process never uses or closes-with-QUIT a connection its
 * parent opened.  Each pool belongs to a "fork generation" that a
 * pthread_atfork child handler bumps; the first acquire in a child closes
 * the inherited sockets locally (nothing is sent) and connects afresh.
 * This costs one integer comparison per call, where checking getpid()
 * would cost a system call (glibc no longer caches the pid).
 *
 * A pool serves one endpoint for its whole life: a router that learns a
 * new address (a sentinel failover, a cluster node) makes a new pool.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "redis-connection.h"

G_BEGIN_DECLS

typedef struct RedisPool RedisPool;

/* @options must outlive the pool. */
RedisPool *redis_pool_new (const RedisEndpoint *endpoint,
                           const RedisConnectOptions *options, guint size);

/* Every connection must have been released. */
void redis_pool_free (RedisPool *self);

RedisConnection *redis_pool_acquire (RedisPool *self, RedisDeadline *deadline,
                                     GError **error);
void redis_pool_release (RedisPool *self, RedisConnection *connection);

/* Closes the idle connections, and marks the busy ones to be closed on
 * release: they were opened before a failure that suggests they are all
 * dead (a restarted server). */
void redis_pool_drop_idle (RedisPool *self);

const RedisEndpoint *redis_pool_get_endpoint (RedisPool *self);
const RedisConnectOptions *redis_pool_get_options (RedisPool *self);

/* Changes in a child process after each fork (see above). */
guint redis_fork_generation (void);

/* Other locks that must not be caught half-held by a fork: a router's.
 * prepare() takes the lock before a fork, parent() releases it after, and
 * child() releases it in the child after resetting whatever the parent's
 * other threads were in the middle of (they do not exist there).  The
 * hooks run before the pools' locks are taken, so a hook's lock may be
 * held while a pool is created, never the other way round. */
typedef struct RedisForkHook RedisForkHook;

struct RedisForkHook {
  void (*prepare) (RedisForkHook *hook);
  void (*parent) (RedisForkHook *hook);
  void (*child) (RedisForkHook *hook);
  DogpileForkHook *registered; /* private */
};

void redis_fork_hook_add (RedisForkHook *hook);
void redis_fork_hook_remove (RedisForkHook *hook);

G_END_DECLS
