/* redis-refresh.h: one topology refresh at a time, not too often.
 *
 * Both routers that learn their servers at run time (Cluster's slot map,
 * Sentinel's master) refresh it from the callers' own threads when
 * something went wrong: a MOVED reply, a node that failed, a master that
 * turned out demoted.  Many threads notice the same event at once, so:
 *  - one of them runs the refresh, the I/O outside any lock;
 *  - a thread that cannot go on without it (no slot map yet, a master to
 *    find) waits for that run, at most until its own call's deadline, and
 *    takes its outcome; one that merely noticed something skips it;
 *  - a run is part of the call that runs it and ends with that call's
 *    deadline (the refresh function gets it).  A run that is due when the
 *    caller's deadline has passed (a call that timed out) is left for the
 *    next call: it is marked wanted (redis_refresh_wanted), and the
 *    router runs it at the start of a later call;
 *  - a run starts no sooner than one interval after the last one ended:
 *    an outage that fails every call does not turn into a storm of
 *    discovery requests; within the interval a caller that needs a run
 *    gets the last one's outcome (its error, if it failed) at once.
 *
 * The lock also guards the router's own tables (redis_refresh_lock), and
 * is registered with the fork handlers: a child never inherits it held,
 * nor a run in progress by a thread that does not exist there.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <pthread.h>

#include "redis-pool.h"

G_BEGIN_DECLS

typedef gboolean (*RedisRefreshFunc) (gpointer data, RedisDeadline *deadline,
                                      GError **error);

typedef struct {
  RedisForkHook hook; /* first: the fork handlers find us from it */
  pthread_mutex_t lock;
  pthread_cond_t finished;
  gboolean running;
  guint64 runs;       /* finished runs */
  gint64 last_end;    /* monotonic µs when the last run ended; 0: never */
  GError *last_error; /* of the last run; NULL if it succeeded */
  gint64 interval;    /* µs from the end of a run to the next, at least */
  gint wanted;        /* atomic: a run was due and left for a later call */
  const char *what;   /* "the slot map", for messages */
} RedisRefresh;

typedef enum {
  /* Run unless one is running or one ended within the interval. */
  REDIS_REFRESH_IF_DUE,
  /* The caller needs the outcome: wait for a running one; within the
   * interval, the last run's outcome; else run. */
  REDIS_REFRESH_NEEDED,
} RedisRefreshMode;

void redis_refresh_init (RedisRefresh *self, const char *what,
                         gint64 interval_us);
void redis_refresh_clear (RedisRefresh *self);

/* IF_DUE: TRUE when this call ran @func and it succeeded (FALSE without
 * @error when skipped).  NEEDED: TRUE when the run this call ran, waited
 * for, or found within the interval succeeded, else FALSE with @error.
 * @deadline is the calling call's. */
gboolean redis_refresh_run (RedisRefresh *self, RedisRefreshMode mode,
                            RedisRefreshFunc func, gpointer data,
                            RedisDeadline *deadline, GError **error);

/* Whether a run was left for a later call (one atomic load: for the
 * routers' hot paths). */
static inline gboolean
redis_refresh_wanted (RedisRefresh *self)
{
  return g_atomic_int_get (&self->wanted) != 0;
}

static inline void
redis_refresh_lock (RedisRefresh *self)
{
  pthread_mutex_lock (&self->lock);
}

static inline void
redis_refresh_unlock (RedisRefresh *self)
{
  pthread_mutex_unlock (&self->lock);
}

G_END_DECLS
