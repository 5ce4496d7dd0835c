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
redis_refresh_init (RedisRefresh *self, const char *what, gint64 interval_us,
                    gint64 wait_bound_us)
{
  memset (self, 0, sizeof *self);
  pthread_mutex_init (&self->lock, NULL);
  init_condition (&self->finished);
  self->interval = interval_us;
  self->wait_bound = wait_bound_us;
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

/* Waits, locked, for the running refresh; its outcome. */
static gboolean
wait_for_run (RedisRefresh *self, GError **error)
{
  guint64 runs = self->runs;
  gint64 deadline = g_get_monotonic_time () + self->wait_bound;
  struct timespec ts;

  /* g_get_monotonic_time () is CLOCK_MONOTONIC, the condition's clock. */
  ts.tv_sec = (time_t) (deadline / G_USEC_PER_SEC);
  ts.tv_nsec = (long) (deadline % G_USEC_PER_SEC) * 1000;
  while (self->running && self->runs == runs
         && g_get_monotonic_time () < deadline)
    pthread_cond_timedwait (&self->finished, &self->lock, &ts);
  if (self->runs == runs)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "Waited %g s for another thread reading %s",
                   (double) self->wait_bound / G_USEC_PER_SEC, self->what);
      return FALSE;
    }
  return last_outcome (self, error);
}

/**
 * redis_refresh_run:
 * @self: the refresher
 * @mode: whether the caller needs the outcome
 * @func: the refresh itself; runs unlocked, in this thread
 * @data: for @func
 * @error: return location for a #GError
 *
 * See redis-refresh.h.
 *
 * Returns: whether a refresh succeeded (see the header for each mode).
 */
gboolean
redis_refresh_run (RedisRefresh *self, RedisRefreshMode mode,
                   RedisRefreshFunc func, gpointer data, GError **error)
{
  GError *run_error = NULL;
  gboolean ok;
  gint64 now;

  pthread_mutex_lock (&self->lock);
  now = g_get_monotonic_time ();
  if (self->running)
    {
      ok = mode == REDIS_REFRESH_NEEDED && wait_for_run (self, error);
      pthread_mutex_unlock (&self->lock);
      return ok;
    }
  if (self->last_end != 0 && now - self->last_end < self->interval)
    {
      ok = mode == REDIS_REFRESH_NEEDED && last_outcome (self, error);
      pthread_mutex_unlock (&self->lock);
      return ok;
    }
  self->running = TRUE;
  pthread_mutex_unlock (&self->lock);

  ok = func (data, &run_error);

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
