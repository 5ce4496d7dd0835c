/* test-lock-concurrency.c: tests/test_lock.py's ConcurrencyTest (spec 5.2),
 * the seven scenarios with their numbers and assertions: threads using a
 * resource that expires and is regenerated under one DogpileLock mutex.
 * The creator must never run twice at once; slow waits, generations and
 * staleness stay within dogpile's bounds.  These take real time (about a
 * minute in all), as the Python ones do.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <pthread.h>

#include "test-util.h"

typedef struct {
  int num_threads;
  double expiretime;
  double creation_time;
  int num_usages;
  double usage_time;
  double delay_time;
  double cache_expire_time; /* 0: none */
  gboolean unsafe_cache;
  double max_stale;

  DogpileMutex *mutex;
  pthread_mutex_t resource_lock; /* guards the list, not the dogpile */
  GArray *the_resource;          /* creation times, as doubles */
  gint creating;                 /* the assertion lock */
  gint slow_waiters;
  gint failures;
} Scenario;

static double
now (void)
{
  return (double) g_get_real_time () / G_USEC_PER_SEC;
}

static gboolean
create_resource (gpointer data, GBytes **out_value, double *out_created,
                 GError **error)
{
  Scenario *s = data;
  double made;

  /* _assert_synchronized: never two creators at once */
  if (!g_atomic_int_compare_and_exchange (&s->creating, 0, 1))
    {
      g_atomic_int_inc (&s->failures);
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK,
                   "two creators at once");
      return FALSE;
    }
  g_usleep ((gulong) (s->creation_time * G_USEC_PER_SEC));
  made = now ();
  pthread_mutex_lock (&s->resource_lock);
  g_array_append_val (s->the_resource, made);
  pthread_mutex_unlock (&s->resource_lock);
  g_atomic_int_set (&s->creating, 0);
  *out_value = g_bytes_new (&made, sizeof made);
  *out_created = now ();
  return TRUE;
}

static gboolean
get_value (gpointer data, GBytes **out_value, double *out_created,
           GError **error)
{
  Scenario *s = data;
  double last = 0;

  pthread_mutex_lock (&s->resource_lock);
  if (s->the_resource->len > 0)
    last = g_array_index (s->the_resource, double, s->the_resource->len - 1);
  pthread_mutex_unlock (&s->resource_lock);
  *out_value = NULL;
  if (last == 0)
    return TRUE; /* NeedRegenerationException */
  if (s->cache_expire_time > 0 && now () - last > s->cache_expire_time)
    {
      /* Only an unsafe cache (expiring before the dogpile) gets here. */
      if (!(s->cache_expire_time < s->expiretime))
        g_atomic_int_inc (&s->failures);
      return TRUE;
    }
  *out_value = g_bytes_new (&last, sizeof last);
  *out_created = last;
  return TRUE;
}

static const DogpileLockFuncs scenario_funcs
    = { get_value, create_resource, NULL };

static gpointer
use_dogpile (gpointer data)
{
  Scenario *s = data;

  for (int i = 0; i < s->num_usages; i++)
    {
      g_autoptr (DogpileLock) lock
          = dogpile_lock_new (s->mutex, &scenario_funcs, s, s->expiretime);
      g_autoptr (GBytes) value = NULL;
      g_autoptr (GError) error = NULL;
      double started = now (), waited;

      if (!dogpile_lock_enter (lock, &value, &error))
        {
          g_atomic_int_inc (&s->failures);
          return NULL;
        }
      waited = now () - started;
      if (waited > 0.01)
        g_atomic_int_inc (&s->slow_waiters);
      /* check_value: the value is never older than max_stale */
      if (now () - *(const double *) g_bytes_get_data (value, NULL)
          >= s->max_stale)
        g_atomic_int_inc (&s->failures);
      g_usleep ((gulong) (s->usage_time * G_USEC_PER_SEC));
      g_usleep ((gulong) (s->delay_time * G_USEC_PER_SEC));
    }
  return NULL;
}

/* "unsafe": the cache expires at 0.8 x expiretime; "safe": after
 * (expiretime + creation) x 1.1. */
static void
test_multi (int num_threads, double expiretime, double creation_time,
            int num_usages, double usage_time, double delay_time,
            const char *cache)
{
  Scenario s = { .num_threads = num_threads,
                 .expiretime = expiretime,
                 .creation_time = creation_time,
                 .num_usages = num_usages,
                 .usage_time = usage_time,
                 .delay_time = delay_time };
  double effective_expiretime = expiretime;
  double actual, expected_run_time, expected_slow;
  double expected_generations;
  GThread **threads = g_new (GThread *, (gsize) num_threads);
  double started;

  if (cache != NULL && strcmp (cache, "unsafe") == 0)
    {
      s.unsafe_cache = TRUE;
      s.cache_expire_time = expiretime * 0.8;
    }
  else if (cache != NULL)
    s.cache_expire_time = (expiretime + creation_time) * 1.1;
  if (s.cache_expire_time > 0)
    effective_expiretime = MIN (s.cache_expire_time, expiretime);
  s.max_stale
      = (effective_expiretime + creation_time + usage_time + delay_time) * 1.1;
  s.mutex = dogpile_mutex_new_local ();
  pthread_mutex_init (&s.resource_lock, NULL);
  s.the_resource = g_array_new (FALSE, FALSE, sizeof (double));

  started = now ();
  for (int i = 0; i < num_threads; i++)
    threads[i] = g_thread_new ("dogpile", use_dogpile, &s);
  for (int i = 0; i < num_threads; i++)
    g_thread_join (threads[i]);
  actual = now () - started;

  expected_run_time = (num_usages * (usage_time + delay_time)) * 1.1;
  expected_generations = ceil (expected_run_time / effective_expiretime);
  expected_slow = s.unsafe_cache ? expected_generations * num_threads
                                 : expected_generations + num_threads - 1;
  expected_run_time += creation_time;
  expected_run_time += (expected_slow * creation_time) / num_threads;
  expected_run_time *= 1.1;

  cr_assert_eq (s.failures, 0, "%d failures", s.failures);
  cr_assert (actual <= expected_run_time, "ran %.2f s, expected <= %.2f s",
             actual, expected_run_time);
  cr_assert (s.slow_waiters <= expected_slow,
             "%d slow waiters, expected <= %.0f", s.slow_waiters,
             expected_slow);
  cr_assert (s.the_resource->len <= expected_generations,
             "%u generations, expected <= %.0f", s.the_resource->len,
             expected_generations);
  g_array_unref (s.the_resource);
  dogpile_mutex_unref (s.mutex);
  g_free (threads);
}

TestSuite (concurrency, .timeout = 150);

Test (concurrency, quick) { test_multi (10, 2, 0.5, 50, 0.05, 0.1, NULL); }

Test (concurrency, slow) { test_multi (10, 5, 2, 50, 0.1, 0.1, NULL); }

Test (concurrency, return_while_in_progress)
{
  test_multi (10, 5, 2, 50, 1, 0.1, NULL);
}

Test (concurrency, get_value_plus_created_long_create)
{
  test_multi (10, 2, 2.5, 50, 0.05, 0.1, NULL);
}

Test (concurrency, get_value_plus_created_registry_unsafe_cache)
{
  test_multi (10, 1, 0.6, 100, 0.05, 0.1, "unsafe");
}

Test (concurrency, get_value_plus_created_registry_safe_cache_quick)
{
  test_multi (10, 2, 0.5, 50, 0.05, 0.1, "safe");
}

Test (concurrency, get_value_plus_created_registry_safe_cache_slow)
{
  test_multi (10, 5, 2, 50, 0.1, 0.1, "safe");
}
