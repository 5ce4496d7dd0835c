/* test-memcached-lock-python.c: the distributed lock shared with Python
 * (tests/test-lock-python.h): a Python process (dogpile.cache.NAME on its
 * Python client) and this one, 8 threads each, on one expired or missing
 * key, make exactly one creator call between them -- Python's
 * MemcachedLock on both sides: `add _lock<key> 1 <lock_timeout>` on the
 * server the client's hash picks, release by delete.
 *
 * The name is MEMCACHED_TEST_BACKEND (dogpile.cache.NAME); the servers
 * are the harness's: three, so that the lock key must land on the server
 * Python's client picks, except for bmemcached, which gets one: its
 * Python client adds the lock on every server and holds it when any of
 * the adds succeeded, so on three servers two Python threads alone often
 * both hold it (each having won a different server; C's bmemcached lock
 * lets the first server decide).  Both sides: distributed_lock, lock_timeout
 * LOCK_PYTHON_LOCK_TIMEOUT (Python's default is 0, an item that never
 * expires; C's too).  Python's waiter sleeps ((i+1)*random()+2**i)/2.5 s
 * between tries (0.4 to 0.8 s first), C's the same capped at
 * lock_sleep_max (1 s), so a run on a missing value takes a second or two.
 *
 * Values raw only: memcached's stock Python form is a CachedValue pickled
 * by the client (spec 4.3), not a region serializer's record.  And the
 * lock item each side adds is the same (server, value, flags, exptime).
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-memcached-util.h"

#include "test-lock-python.h"

static const char *
backend_name (void)
{
  const char *name = g_getenv ("MEMCACHED_TEST_BACKEND");

  cr_assert_not_null (name, "MEMCACHED_TEST_BACKEND is not set");
  return name;
}

static void
need_python (void)
{
  lock_python_need (backend_name ());
}

/* Whether any of the servers holds @key. */
static gboolean
on_some_server (const char *key)
{
  int ports[MC_MAX_SERVERS];
  int n = memcached_ports (ports);

  for (int i = 0; i < n; i++)
    if (raw_has (ports[i], key))
      return TRUE;
  return FALSE;
}

/* Python's backend arguments for the servers of @url (comma-separated). */
static char *
python_arguments_for (const char *url)
{
  g_auto (GStrv) servers = g_strsplit (url, ",", -1);
  g_autofree char *server_list = NULL;

  for (char **s = servers; *s != NULL; s++)
    {
      char *quoted = g_strdup_printf ("\"%s\"", *s);

      g_free (*s);
      *s = quoted;
    }
  server_list = g_strjoinv (", ", servers);
  return g_strdup_printf (
      "{\"url\": [%s], \"distributed_lock\": true, \"lock_timeout\": %s}",
      server_list, LOCK_PYTHON_LOCK_TIMEOUT);
}

static DogpileRegion *
c_region (const char *url, const char *format)
{
  g_autoptr (GHashTable) arguments
      = arguments_of ("url", url, "distributed_lock", "true", "lock_timeout",
                      LOCK_PYTHON_LOCK_TIMEOUT, NULL);

  return lock_python_region (backend_name (), arguments, format);
}

static void
run_stampede (const char *format, gboolean value_was_missing,
              double python_head_start)
{
  g_autofree char *url = urls ();
  g_autoptr (DogpileRegion) region = c_region (url, format);
  g_autofree char *key
      = g_strdup_printf ("lock-python:%d:%s:%d:%d", (int) getpid (), format,
                         value_was_missing, (int) (python_head_start * 1000));
  g_autofree char *lock_name = g_strconcat ("_lock", key, NULL);
  g_autofree char *python_arguments = python_arguments_for (url);
  LockPython run;

  run = (LockPython){ .region = region,
                      .backend = backend_name (),
                      .python_arguments = python_arguments,
                      .format = format,
                      .key = key,
                      .value_was_missing = value_was_missing,
                      .python_head_start = python_head_start };
  cr_assert_eq (lock_python_run (&run), 1);
  cr_assert_not (on_some_server (lock_name), "the lock was not released");
}

TestSuite (memcached_lock_python, .init = need_python);

/* Started together, C mostly wins and Python waits on C's lock. */
Test (memcached_lock_python, expired_value_one_creator_in_c_and_python)
{
  run_stampede ("raw", FALSE, 0);
}

Test (memcached_lock_python, missing_value_one_creator_in_c_and_python)
{
  run_stampede ("raw", TRUE, 0);
}

/* Stock regions: the value is the client's pickled CachedValue. */
Test (memcached_lock_python, stock_expired_value_one_creator)
{
  run_stampede ("pickle", FALSE, 0);
}

Test (memcached_lock_python, stock_missing_value_one_creator)
{
  run_stampede ("pickle", TRUE, 0);
}

/* Python 0.1 s ahead: Python mostly wins and C waits on Python's lock. */
Test (memcached_lock_python, python_ahead_expired_value_one_creator)
{
  run_stampede ("raw", FALSE, 0.1);
}

Test (memcached_lock_python, python_ahead_missing_value_one_creator)
{
  run_stampede ("pickle", TRUE, 0.1);
}

/* The item @name on every server that holds it: "server I: f<flags>
 * value <data>; " each, and its TTL in *out_ttl (-2 when none does). */
static char *
lock_record (const char *name, int *out_ttl)
{
  int ports[MC_MAX_SERVERS];
  int n = memcached_ports (ports);
  g_autofree char *request = g_strdup_printf ("mg %s v f t\r\nmn", name);
  GString *out = g_string_new (NULL);

  *out_ttl = -2;
  for (int i = 0; i < n; i++)
    {
      g_autofree char *reply = raw (ports[i], request, "MN\r\n");
      g_auto (GStrv) lines = NULL;
      g_auto (GStrv) fields = NULL;
      const char *flags = "f?";

      if (!g_str_has_prefix (reply, "VA "))
        continue;
      lines = g_strsplit (reply, "\r\n", 3);
      fields = g_strsplit (lines[0], " ", -1);
      for (char **f = fields + 2; *f != NULL; f++)
        if (**f == 'f')
          flags = *f;
        else if (**f == 't')
          *out_ttl = atoi (*f + 1);
      g_string_append_printf (out, "server %d: %s value %s; ", i, flags,
                              lines[1]);
    }
  return g_string_free (out, FALSE);
}

/* Spec 4.6: the same item for a lock Python's MemcachedLock and C's take
 * (on the same server, "1" with the flags the Python client gives an int,
 * exptime lock_timeout). */
Test (memcached_lock_python, the_lock_record_is_python_s)
{
  g_autofree char *url = urls ();
  g_autofree char *python_arguments = python_arguments_for (url);
  g_autoptr (DogpileRegion) region = c_region (url, "raw");
  g_autofree char *key
      = g_strdup_printf ("lock-python-record:%d", (int) getpid ());
  g_autofree char *name = g_strconcat ("_lock", key, NULL);
  g_autofree char *delete = g_strconcat ("delete ", name, NULL);
  g_autoptr (DogpileMutex) m = dogpile_region_get_mutex (region, key, NULL);
  g_autofree char *acquired = NULL;
  g_autofree char *python_record = NULL;
  g_autofree char *c_record = NULL;
  g_autofree char *after = NULL;
  int ports[MC_MAX_SERVERS];
  int n = memcached_ports (ports);
  int python_ttl, c_ttl, none;

  acquired = python_helper (LOCK_PYTHON_PEER, "acquire", backend_name (),
                            python_arguments, key, NULL);
  cr_assert_str_eq (acquired, "1");
  python_record = lock_record (name, &python_ttl);
  cr_assert (*python_record != '\0', "Python left no lock item");
  for (int i = 0; i < n; i++)
    g_free (raw (ports[i], delete, "\r\n"));

  cr_assert (mutex_acquire_ok (m, FALSE));
  c_record = lock_record (name, &c_ttl);
  cr_assert_str_eq (c_record, python_record, "C's lock item differs");
  cr_assert (python_ttl >= 8 && python_ttl <= 10, "Python's TTL %d",
             python_ttl);
  cr_assert (c_ttl >= 8 && c_ttl <= 10, "C's TTL %d", c_ttl);
  cr_assert (dogpile_mutex_release (m, NULL));
  after = lock_record (name, &none);
  cr_assert_str_eq (after, "", "C's release left %s", after);
  cr_log_info ("%s: the lock item is %sTTL %d", backend_name (), c_record,
               c_ttl);
}
