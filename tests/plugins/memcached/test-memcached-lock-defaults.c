/* test-memcached-lock-defaults.c: the distributed lock's default times
 * (tests/test-lock-defaults.h, issue 11), for the name in
 * MEMCACHED_TEST_BACKEND on the harness's servers: a holder SIGKILLed
 * while creating leaves a lock item that expires after lock_timeout
 * (exptime 30), after which the next caller creates the value; a waiter on
 * an item that never expires (a Python holder with Python's defaults,
 * gone) gives up after lock_blocking_timeout, twice lock_timeout, or gets
 * the stale value at once; an explicit "no timeout" is kept and warned
 * about; and a C region with these defaults shares a key with a Python
 * region with Python's (tests/test-lock-python.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-memcached-util.h"

#include "test-lock-defaults.h"
#include "test-lock-python.h"

static const char *
backend_name (void)
{
  const char *name = g_getenv ("MEMCACHED_TEST_BACKEND");

  cr_assert_not_null (name, "MEMCACHED_TEST_BACKEND is not set");
  return name;
}

/* The longest TTL of the lock item of @key on any server; -1 when it never
 * expires, -2 when no server holds it. */
static double
lock_ttl (const char *key)
{
  int ports[MC_MAX_SERVERS];
  int n = memcached_ports (ports);
  g_autofree char *request = g_strdup_printf ("mg _lock%s t\r\nmn", key);
  double ttl = -2;

  for (int i = 0; i < n; i++)
    {
      g_autofree char *reply = raw (ports[i], request, "MN\r\n");
      const char *t = strstr (reply, " t");

      if (g_str_has_prefix (reply, "HD") && t != NULL)
        {
          double here = g_ascii_strtod (t + 2, NULL);

          ttl = here == -1 || ttl == -1 ? -1 : MAX (ttl, here);
        }
    }
  return ttl;
}

/* The lock item of @key, never expiring, on every server (wherever the
 * client's hash puts it), as a holder that set no lock_timeout leaves it
 * when it dies. */
static void
dead_holder (const char *key)
{
  int ports[MC_MAX_SERVERS];
  int n = memcached_ports (ports);
  g_autofree char *add = g_strdup_printf ("add _lock%s 2 0 1\r\n1", key);

  for (int i = 0; i < n; i++)
    {
      g_autofree char *reply = raw (ports[i], add, "\r\n");

      cr_assert_str_eq (reply, "STORED\r\n");
    }
}

static GHashTable *
lock_arguments (const char *first_name, ...)
{
  g_autofree char *url = urls ();
  GHashTable *table
      = arguments_of ("url", url, "distributed_lock", "true", NULL);
  va_list ap;

  va_start (ap, first_name);
  for (const char *n = first_name; n != NULL; n = va_arg (ap, const char *))
    g_hash_table_insert (table, g_strdup (n),
                         g_strdup (va_arg (ap, const char *)));
  va_end (ap);
  return table;
}

static char *
unique_key (const char *stem)
{
  static gint counter;

  return g_strdup_printf ("lock-defaults:%s:%d:%d", stem, (int) getpid (),
                          g_atomic_int_add (&counter, 1));
}

/* Python's backend arguments for the harness's servers, with Python's
 * lock defaults (lock_timeout 0). */
static char *
python_arguments (void)
{
  g_autofree char *url = urls ();
  g_auto (GStrv) servers = g_strsplit (url, ",", -1);
  g_autofree char *server_list = NULL;

  for (char **s = servers; *s != NULL; s++)
    {
      char *quoted = g_strdup_printf ("\"%s\"", *s);

      g_free (*s);
      *s = quoted;
    }
  server_list = g_strjoinv (", ", servers);
  return g_strdup_printf ("{\"url\": [%s], \"distributed_lock\": true}",
                          server_list);
}

TestSuite (memcached_lock_defaults, .timeout = LOCK_DEFAULTS_TEST_TIMEOUT);

Test (memcached_lock_defaults, a_holder_killed_while_creating_is_outlived)
{
  g_autoptr (GHashTable) a = lock_arguments (NULL);
  g_autofree char *key = unique_key ("killed");
  LockDefaults t = { backend_name (), a, key, lock_ttl };

  lock_defaults_killed_holder (&t);
}

/* A Python holder with Python's defaults adds a lock item that never
 * expires: C's waiter gives up after the default lock_blocking_timeout. */
Test (memcached_lock_defaults, a_lock_that_never_expires_is_given_up_on)
{
  g_autoptr (GHashTable) a = lock_arguments (NULL);
  g_autofree char *key = unique_key ("forever");
  g_autofree char *python = python_arguments ();
  g_autofree char *acquired = NULL;
  LockDefaults t = { backend_name (), a, key, lock_ttl };

  lock_python_need (backend_name ());
  acquired = python_helper (LOCK_PYTHON_PEER, "acquire", backend_name (),
                            python, key, NULL);
  cr_assert_str_eq (acquired, "1");
  lock_defaults_gives_up (&t, LOCK_DEFAULTS_BLOCKING_TIMEOUT);
}

static void
delete_lock (const char *key)
{
  int ports[MC_MAX_SERVERS];
  int n = memcached_ports (ports);
  g_autofree char *delete = g_strdup_printf ("delete _lock%s", key);

  for (int i = 0; i < n; i++)
    g_free (raw (ports[i], delete, "\r\n"));
}

/* lock_blocking_timeout is twice lock_timeout, but at least 60 s: waiters
 * may queue for several creations in turn. */
Test (memcached_lock_defaults, a_short_lock_timeout_keeps_the_blocking_floor)
{
  g_autoptr (GHashTable) a = lock_arguments ("lock_timeout", "1", NULL);
  g_autofree char *key = unique_key ("floor");
  LockDefaults t = { backend_name (), a, key, lock_ttl };

  dead_holder (key);
  lock_defaults_still_waits (&t, 4, delete_lock);
}

/* lock_blocking_timeout given (C only): a blocked acquire gives up then. */
Test (memcached_lock_defaults, lock_blocking_timeout_bounds_a_wait)
{
  g_autoptr (GHashTable) a
      = lock_arguments ("lock_blocking_timeout", "1.5", NULL);
  g_autofree char *key = unique_key ("blocking");
  LockDefaults t = { backend_name (), a, key, lock_ttl };

  dead_holder (key);
  lock_defaults_gives_up (&t, 1.5);
}

/* With a stale value a busy lock never makes anyone wait (the core's
 * rule), whatever the lock's times. */
Test (memcached_lock_defaults, a_dead_holder_s_stale_value_is_served_at_once)
{
  g_autoptr (GHashTable) a = lock_arguments (NULL);
  g_autoptr (DogpileRegion) region = configured_region (backend_name (), 1, a);
  g_autofree char *key = unique_key ("stale");
  g_autoptr (GBytes) stale = bytes_of ("stale");
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) record = NULL;
  DogpileMetadata old;
  double started;
  gint calls = 0;

  dogpile_metadata_init (&old, dogpile_clock_now () - 3600);
  record = dogpile_record_encode (stale, &old);
  cr_assert (dogpile_backend_set (dogpile_region_get_backend (region, NULL),
                                  key, record, &error),
             "%s", error ? error->message : "");
  dead_holder (key);
  started = monotonic_seconds ();
  cr_assert (dogpile_region_get_or_create (region, key, lock_defaults_count,
                                           &calls, &value, &error),
             "%s", error ? error->message : "");
  cr_assert (monotonic_seconds () - started < 2);
  cr_assert (bytes_equal (value, "stale"));
  cr_assert_eq (calls, 0);
}

/* The TTL of a lock item taken with @arguments. */
static double
ttl_of_a_lock (GHashTable *arguments)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileBackend) b
      = dogpile_backend_new (backend_name (), arguments, &error);
  g_autofree char *key = unique_key ("exptime");
  g_autoptr (DogpileMutex) m = NULL;
  double ttl;

  cr_assert_not_null (b, "%s", error ? error->message : "");
  m = dogpile_backend_get_mutex (b, key);
  cr_assert_not_null (m);
  cr_assert (mutex_acquire_ok (m, FALSE));
  ttl = lock_ttl (key);
  cr_assert (dogpile_mutex_release (m, NULL));
  return ttl;
}

Test (memcached_lock_defaults, an_explicit_no_timeout_is_kept_and_warned_about)
{
  static const char *const none_timeouts[] = { "0", "None", "none", " NONE " };
  g_autoptr (GHashTable) defaults = lock_arguments (NULL);
  g_autofree char *url = urls ();
  g_autoptr (GHashTable) no_lock = arguments_of (
      "url", url, "lock_timeout", "0", "lock_blocking_timeout", "None", NULL);
  g_autofree char *quiet = NULL;
  g_autofree char *unused = NULL;
  double ttl;

  lock_defaults_capture_warnings ();
  quiet = lock_defaults_configure_warnings (backend_name (), defaults);
  cr_assert_str_eq (quiet, "", "the defaults warn: %s", quiet);
  ttl = ttl_of_a_lock (defaults);
  cr_assert (ttl >= 28 && ttl <= 30, "the default exptime: %g", ttl);
  /* Without the distributed lock, its arguments do nothing. */
  unused = lock_defaults_configure_warnings (backend_name (), no_lock);
  cr_assert_str_eq (unused, "");

  for (gsize i = 0; i < G_N_ELEMENTS (none_timeouts); i++)
    {
      g_autoptr (GHashTable) a
          = lock_arguments ("lock_timeout", none_timeouts[i], NULL);
      g_autofree char *w
          = lock_defaults_configure_warnings (backend_name (), a);

      cr_assert (
          strstr (w, "lock_timeout is none") != NULL
              && strstr (w, backend_name ()) != NULL
              && strstr (w, "for ever") != NULL && strchr (w, '\n') == NULL,
          "lock_timeout=%s: one warning, not '%s'", none_timeouts[i], w);
      cr_assert_eq (ttl_of_a_lock (a), -1, "lock_timeout=%s: exptime 0",
                    none_timeouts[i]);
    }
  for (gsize i = 1; i < G_N_ELEMENTS (none_timeouts); i++)
    {
      g_autoptr (GHashTable) a
          = lock_arguments ("lock_blocking_timeout", none_timeouts[i], NULL);
      g_autofree char *w
          = lock_defaults_configure_warnings (backend_name (), a);

      cr_assert (strstr (w, "lock_blocking_timeout is none") != NULL
                     && strchr (w, '\n') == NULL,
                 "lock_blocking_timeout=%s: one warning, not '%s'",
                 none_timeouts[i], w);
      cr_assert (ttl_of_a_lock (a) >= 28, "lock_timeout keeps its default");
    }
  {
    g_autoptr (GHashTable) a
        = lock_arguments ("lock_blocking_timeout", "0", NULL);
    g_autofree char *w = lock_defaults_configure_warnings (backend_name (), a);

    cr_assert_str_eq (w, "");
  }
}

/* C with these defaults and Python with its own on one key, 8 threads
 * each: one creator between them, every thread the new value. */
static void
run_stampede (gboolean value_was_missing)
{
  g_autoptr (GHashTable) arguments = lock_arguments (NULL);
  g_autoptr (DogpileRegion) region
      = lock_python_region (backend_name (), arguments, "raw");
  g_autofree char *key = unique_key ("python");
  g_autofree char *python = python_arguments ();
  LockPython run = { .region = region,
                     .backend = backend_name (),
                     .python_arguments = python,
                     .format = "raw",
                     .key = key,
                     .value_was_missing = value_was_missing };

  lock_python_need (backend_name ());
  cr_assert_eq (lock_python_run (&run), 1);
  cr_assert_eq (lock_ttl (key), -2, "the lock was not released");
}

Test (memcached_lock_defaults, python_s_defaults_and_ours_share_a_missing_key)
{
  run_stampede (TRUE);
}

Test (memcached_lock_defaults, python_s_defaults_and_ours_share_an_expired_key)
{
  run_stampede (FALSE);
}
