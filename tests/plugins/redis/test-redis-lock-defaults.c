/* test-redis-lock-defaults.c: the distributed lock's default times
 * (tests/test-lock-defaults.h, issue 11): a holder SIGKILLed while creating
 * leaves a lock that expires after lock_timeout (PX 30000), after which
 * the next caller creates the value; a waiter on a lock that never
 * expires (a Python holder with Python's defaults, gone) gives up after
 * lock_blocking_timeout, twice lock_timeout, or gets the stale value at
 * once; an explicit "no timeout" is kept and warned about; and a C region
 * with these defaults shares a key with a Python region with Python's
 * (tests/test-lock-python.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-redis-util.h"

#include "test-lock-defaults.h"
#include "test-lock-python.h"

#define BACKEND "dogpile.cache.redis"

static double
lock_ttl (const char *key)
{
  redisContext *raw = raw_connect ();
  long long pttl = raw_integer (raw, "PTTL _lock%s", key);

  redisFree (raw);
  return pttl >= 0 ? (double) pttl / 1000 : (double) pttl;
}

/* The lock of @key as a Python process with Python's defaults leaves it
 * (SET NX without PX) when it dies holding it. */
static void
python_dead_holder (const char *key)
{
  g_autofree char *python_arguments = g_strdup_printf (
      "{\"host\": \"%s\", \"port\": %d, \"distributed_lock\": true, "
      "\"thread_local_lock\": false}",
      redis_host (), redis_port ());
  g_autofree char *acquired = python_helper (
      LOCK_PYTHON_PEER, "acquire", BACKEND, python_arguments, key, NULL);

  cr_assert_str_eq (acquired, "1");
}

TestSuite (redis_lock_defaults, .timeout = LOCK_DEFAULTS_TEST_TIMEOUT);

Test (redis_lock_defaults, a_holder_killed_while_creating_is_outlived)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("distributed_lock", "true", NULL);
  g_autofree char *key = redis_unique_key ("lock-defaults:killed");
  LockDefaults t = { BACKEND, a, key, lock_ttl };

  lock_defaults_killed_holder (&t);
}

/* A Python holder with Python's defaults leaves a lock without PX: C's
 * waiter gives up after the default lock_blocking_timeout. */
Test (redis_lock_defaults, a_lock_that_never_expires_is_given_up_on)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("distributed_lock", "true", NULL);
  g_autofree char *key = redis_unique_key ("lock-defaults:forever");
  LockDefaults t = { BACKEND, a, key, lock_ttl };

  lock_python_need (BACKEND);
  python_dead_holder (key);
  lock_defaults_gives_up (&t, LOCK_DEFAULTS_BLOCKING_TIMEOUT);
}

static void
delete_lock (const char *key)
{
  redisContext *raw = raw_connect ();

  cr_assert_eq (raw_integer (raw, "DEL _lock%s", key), 1);
  redisFree (raw);
}

/* lock_blocking_timeout is twice lock_timeout, but at least 60 s: waiters
 * may queue for several creations in turn. */
Test (redis_lock_defaults, a_short_lock_timeout_keeps_the_blocking_floor)
{
  g_autoptr (GHashTable) a = redis_arguments ("distributed_lock", "true",
                                              "lock_timeout", "1", NULL);
  g_autofree char *key = redis_unique_key ("lock-defaults:floor");
  LockDefaults t = { BACKEND, a, key, lock_ttl };
  redisContext *raw = raw_connect ();

  freeReplyObject (raw_command (raw, "SET _lock%s 0123456789abcdef NX", key));
  redisFree (raw);
  lock_defaults_still_waits (&t, 4, delete_lock);
}

/* With a stale value a busy lock never makes anyone wait (the core's
 * rule), whatever the lock's times. */
Test (redis_lock_defaults, a_dead_holder_s_stale_value_is_served_at_once)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("distributed_lock", "true", NULL);
  g_autoptr (DogpileRegion) region = configured_region (BACKEND, 1, a);
  g_autofree char *key = redis_unique_key ("lock-defaults:stale");
  g_autoptr (GBytes) stale = bytes_of ("stale");
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;
  DogpileMetadata old;
  g_autoptr (GBytes) record = NULL;
  redisContext *raw = raw_connect ();
  double started;
  gint calls = 0;

  dogpile_metadata_init (&old, dogpile_clock_now () - 3600);
  record = dogpile_record_encode (stale, &old);
  cr_assert (dogpile_backend_set (dogpile_region_get_backend (region, NULL),
                                  key, record, &error),
             "%s", error ? error->message : "");
  freeReplyObject (raw_command (raw, "SET _lock%s 0123456789abcdef NX", key));
  redisFree (raw);
  started = monotonic_seconds ();
  cr_assert (dogpile_region_get_or_create (region, key, lock_defaults_count,
                                           &calls, &value, &error),
             "%s", error ? error->message : "");
  cr_assert (monotonic_seconds () - started < 2);
  cr_assert (bytes_equal (value, "stale"));
  cr_assert_eq (calls, 0);
}

/* The lock's PX with nothing said, with lock_timeout 0 or none. */
static long long
pttl_of_a_lock (GHashTable *arguments)
{
  g_autoptr (DogpileBackend) b = redis_backend (arguments);
  g_autofree char *key = redis_unique_key ("lock-defaults:px");
  g_autoptr (DogpileMutex) m = dogpile_backend_get_mutex (b, key);
  redisContext *raw = raw_connect ();
  long long pttl;

  cr_assert_not_null (m);
  cr_assert (mutex_acquire_ok (m, FALSE));
  pttl = raw_integer (raw, "PTTL _lock%s", key);
  cr_assert (dogpile_mutex_release (m, NULL));
  redisFree (raw);
  return pttl;
}

Test (redis_lock_defaults, an_explicit_no_timeout_is_kept_and_warned_about)
{
  static const char *const none_timeouts[] = { "0", "None", "none", " NONE " };
  g_autoptr (GHashTable) defaults
      = redis_arguments ("distributed_lock", "true", NULL);
  g_autoptr (GHashTable) no_lock = redis_arguments (
      "lock_timeout", "0", "lock_blocking_timeout", "None", NULL);
  g_autofree char *quiet = NULL;
  g_autofree char *unused = NULL;
  long long pttl;

  lock_defaults_capture_warnings ();
  quiet = lock_defaults_configure_warnings (BACKEND, defaults);
  cr_assert_str_eq (quiet, "", "the defaults warn: %s", quiet);
  pttl = pttl_of_a_lock (defaults);
  cr_assert (pttl > 25000 && pttl <= 30000, "the default PX: %lld", pttl);
  /* Without the distributed lock, its arguments do nothing. */
  unused = lock_defaults_configure_warnings (BACKEND, no_lock);
  cr_assert_str_eq (unused, "");

  for (gsize i = 0; i < G_N_ELEMENTS (none_timeouts); i++)
    {
      g_autoptr (GHashTable) a = redis_arguments (
          "distributed_lock", "true", "lock_timeout", none_timeouts[i], NULL);
      g_autofree char *w = lock_defaults_configure_warnings (BACKEND, a);

      cr_assert (
          strstr (w, "lock_timeout is none") != NULL
              && strstr (w, "dogpile.cache.redis") != NULL
              && strstr (w, "for ever") != NULL && strchr (w, '\n') == NULL,
          "lock_timeout=%s: one warning, not '%s'", none_timeouts[i], w);
      cr_assert_eq (pttl_of_a_lock (a), -1, "lock_timeout=%s: no PX",
                    none_timeouts[i]);
    }
  for (gsize i = 1; i < G_N_ELEMENTS (none_timeouts); i++)
    {
      g_autoptr (GHashTable) a
          = redis_arguments ("distributed_lock", "true",
                             "lock_blocking_timeout", none_timeouts[i], NULL);
      g_autofree char *w = lock_defaults_configure_warnings (BACKEND, a);

      cr_assert (strstr (w, "lock_blocking_timeout is none") != NULL
                     && strchr (w, '\n') == NULL,
                 "lock_blocking_timeout=%s: one warning, not '%s'",
                 none_timeouts[i], w);
      cr_assert (pttl_of_a_lock (a) > 25000, "lock_timeout keeps its default");
    }
  /* 0 is "do not wait", not "for ever": no warning. */
  {
    g_autoptr (GHashTable) a = redis_arguments (
        "distributed_lock", "true", "lock_blocking_timeout", "0", NULL);
    g_autofree char *w = lock_defaults_configure_warnings (BACKEND, a);

    cr_assert_str_eq (w, "");
  }
}

/* C with these defaults and Python with its own on one key, 8 threads
 * each: one creator between them, every thread the new value. */
static void
run_stampede (gboolean value_was_missing)
{
  g_autoptr (GHashTable) arguments = redis_arguments (
      "distributed_lock", "true", "thread_local_lock", "false", NULL);
  g_autoptr (DogpileRegion) region
      = lock_python_region (BACKEND, arguments, "raw");
  g_autofree char *key = redis_unique_key ("lock-defaults:python");
  g_autofree char *python_arguments = g_strdup_printf (
      "{\"host\": \"%s\", \"port\": %d, \"distributed_lock\": true, "
      "\"thread_local_lock\": false}",
      redis_host (), redis_port ());
  LockPython run = { .region = region,
                     .backend = BACKEND,
                     .python_arguments = python_arguments,
                     .format = "raw",
                     .key = key,
                     .value_was_missing = value_was_missing };

  lock_python_need (BACKEND);
  cr_assert_eq (lock_python_run (&run), 1);
  cr_assert_eq (lock_ttl (key), -2, "the lock was not released");
}

Test (redis_lock_defaults, python_s_defaults_and_ours_share_a_missing_key)
{
  run_stampede (TRUE);
}

Test (redis_lock_defaults, python_s_defaults_and_ours_share_an_expired_key)
{
  run_stampede (FALSE);
}
