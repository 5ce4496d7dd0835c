/* redis-refresh.c: single-flight, rate-limited topology refreshes (the
 * policy is in redis-refresh.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-refresh.h"

#include <time.h>

static void
init_condition (pthread_cond_t *cond)
{
  pthread_condattr_t attr;

  pthread_condattr_init (&attr);
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_cond_init (cond, &attr);
  pthread_condattr_destroy (&attr);
}

static void
hook_prepare (RedisForkHook *hook)
{
  pthread_mutex_lock (&((RedisRefresh *) hook)->lock);
}

static void
hook_parent (RedisForkHook *hook)
{
  pthread_mutex_unlock (&((RedisRefresh *) hook)->lock);
}

/* The thread running a refresh, and those waiting for it, stayed in the
 * parent. */
static void
hook_child (RedisForkHook *hook)
{
  RedisRefresh *self = (RedisRefresh *) hook;

  self->running = FALSE;
  init_condition (&self->finished);
  pthread_mutex_unlock (&self->lock);
}

void
redis_refresh_init (RedisRefresh *self, const char *what, gint64 interval_us)
{
  memset (self, 0, sizeof *self);
  pthread_mutex_init (&self->lock, NULL);
  init_condition (&self->finished);
  self->interval = interval_us;
  self->what = what;
  self->hook.prepare = hook_prepare;
  self->hook.parent = hook_parent;
  self->hook.child = hook_child;
  redis_fork_hook_add (&self->hook);
}

void
redis_refresh_clear (RedisRefresh *self)
{
  redis_fork_hook_remove (&self->hook);
  g_clear_error (&self->last_error);
  pthread_mutex_destroy (&self->lock);
  pthread_cond_destroy (&self->finished);
}

/* The last run's outcome, for a caller that needs one.  Called locked. */
static gboolean
last_outcome (RedisRefresh *self, GError **error)
{
  if (self->last_error == NULL)
    return TRUE;
  g_propagate_error (error, g_error_copy (self->last_error));
  return FALSE;
}

/* The caller's deadline passed before it could have %s. */
static gboolean
timed_out (RedisRefresh *self, const RedisDeadline *deadline,
           const char *doing, GError **error)
{
  g_autofree char *budget = redis_deadline_describe (deadline);

  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
               "timed out after %s %s %s (the call's deadline)", budget, doing,
               self->what);
  return FALSE;
}

/* Waits, locked, for the running refresh, at most until the caller's
 * deadline; its outcome. */
static gboolean
wait_for_run (RedisRefresh *self, const RedisDeadline *deadline,
              GError **error)
{
  guint64 runs = self->runs;
  gint64 until = redis_deadline_end (deadline);
  struct timespec ts;

  /* g_get_monotonic_time () is CLOCK_MONOTONIC, the condition's clock. */
  ts.tv_sec = (time_t) (until / G_USEC_PER_SEC);
  ts.tv_nsec = (long) (until % G_USEC_PER_SEC) * 1000;
  while (self->running && self->runs == runs
         && g_get_monotonic_time () < until)
    pthread_cond_timedwait (&self->finished, &self->lock, &ts);
  if (self->runs == runs)
    return timed_out (self, deadline, "waiting for another thread reading",
                      error);
  return last_outcome (self, error);
}

/**
 * redis_refresh_run:
 * @self: the refresher
 * @mode: whether the caller needs the outcome
 * @func: the refresh itself; runs unlocked, in this thread
 * @data: for @func
 * @deadline: the calling call's; @func gets it
 * @error: return location for a #GError
 *
 * See redis-refresh.h.
 *
 * Returns: whether a refresh succeeded (see the header for each mode).
 */
gboolean
redis_refresh_run (RedisRefresh *self, RedisRefreshMode mode,
                   RedisRefreshFunc func, gpointer data,
                   RedisDeadline *deadline, GError **error)
{
  GError *run_error = NULL;
  gboolean ok;
  gint64 now;

  pthread_mutex_lock (&self->lock);
  now = g_get_monotonic_time ();
  if (self->running)
    {
      ok = mode == REDIS_REFRESH_NEEDED
           && wait_for_run (self, deadline, error);
      pthread_mutex_unlock (&self->lock);
      return ok;
    }
  if (self->last_end != 0 && now - self->last_end < self->interval)
    {
      ok = mode == REDIS_REFRESH_NEEDED && last_outcome (self, error);
      pthread_mutex_unlock (&self->lock);
      return ok;
    }
  /* Due, and no time left for it (a call that timed out): a later call
   * runs it.  Nothing is recorded: it did not run. */
  if (redis_deadline_expired (deadline))
    {
      g_atomic_int_set (&self->wanted, 1);
      pthread_mutex_unlock (&self->lock);
      return mode == REDIS_REFRESH_NEEDED
             && timed_out (self, deadline, "before reading", error);
    }
  self->running = TRUE;
  g_atomic_int_set (&self->wanted, 0);
  pthread_mutex_unlock (&self->lock);

  ok = func (data, deadline, &run_error);

  pthread_mutex_lock (&self->lock);
  g_clear_error (&self->last_error);
  if (!ok)
    self->last_error = g_error_copy (run_error);
  self->running = FALSE;
  self->last_end = g_get_monotonic_time ();
  self->runs++;
  pthread_cond_broadcast (&self->finished);
  pthread_mutex_unlock (&self->lock);
  if (!ok)
    {
      g_debug ("Refreshing %s failed: %s", self->what, run_error->message);
      g_propagate_error (error, run_error);
    }
  return ok;
}
