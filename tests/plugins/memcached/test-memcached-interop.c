/* test-memcached-interop.c: C and Python sharing a pool of memcached
 * servers.
 *
 * The Python side is Debian's dogpile.cache with its four memcached
 * clients, driven through memcached-python.py (this folder):
 *  - placement: for 1000 keys, the server C stores a key on is the server
 *    the named Python client stores it on (each server asked directly),
 *    for every name, and for pylibmc with ketama too;
 *  - records: entries written by either side with a serializer (the spec
 *    4.1 bytes) are read by the other;
 *  - locks: a lock held by Python is seen and waited on by C, and the
 *    other way round.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#include "test-util.h"

#define PYTHON "/usr/bin/python3"
#define HELPER TEST_SOURCE_DIR "/memcached-python.py"
#define N_KEYS 1000

static char *
python (const char *command, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) PYTHON);
  g_ptr_array_add (argv, (gpointer) HELPER);
  g_ptr_array_add (argv, (gpointer) command);
  va_start (ap, command);
  for (const char *a = va_arg (ap, const char *); a != NULL;
       a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  cr_assert (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT,
                           NULL, NULL, &out, &err, &status, &error),
             "%s", error != NULL ? error->message : "");
  cr_assert (g_spawn_check_wait_status (status, NULL),
             "memcached-python.py %s failed:\n%s", command, err);
  return g_strchomp (g_steal_pointer (&out));
}

/* Debian's Python with dogpile.cache and the four clients, or a skip (a
 * failure under CI=true, where tools/dev/install-deps installs them). */
static void
need_python (void)
{
  const char *argv[] = { PYTHON, HELPER, "check", NULL };
  int status = -1;

  if (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                    NULL, NULL, NULL, NULL, &status, NULL)
      && g_spawn_check_wait_status (status, NULL))
    return;
  cr_assert (g_strcmp0 (g_getenv ("CI"), "true") != 0,
             PYTHON " lacks python3-dogpile.cache or a memcached client");
  cr_skip_test (PYTHON " lacks python3-dogpile.cache or a memcached client");
}

/* "127.0.0.1:p1,127.0.0.1:p2,..." for the harness's servers. */
static char *
urls (void)
{
  g_auto (GStrv) ports = g_strsplit (g_getenv ("MEMCACHED_PORTS"), ",", -1);
  GString *s = g_string_new (NULL);

  for (char **p = ports; *p != NULL; p++)
    g_string_append_printf (s, "%s127.0.0.1:%s", s->len ? "," : "", *p);
  return g_string_free (s, FALSE);
}

static DogpileBackend *
backend_for (const char *name, const char *url, const char *behaviors)
{
  g_autoptr (GHashTable) arguments
      = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;
  DogpileBackend *backend;

  g_hash_table_insert (arguments, "url", (gpointer) url);
  if (behaviors != NULL)
    g_hash_table_insert (arguments, "behaviors", (gpointer) behaviors);
  backend = dogpile_backend_new (name, arguments, &error);
  cr_assert_not_null (backend, "%s: %s", name, error ? error->message : "");
  return backend;
}

static void
check_placement (const char *short_name, const char *behaviors)
{
  g_autofree char *url = urls ();
  g_autofree char *name = g_strconcat ("dogpile.cache.", short_name, NULL);
  g_autoptr (DogpileBackend) backend = backend_for (name, url, behaviors);
  g_autoptr (GBytes) value = bytes_of ("v");
  g_autofree char *n = g_strdup_printf ("%d", N_KEYS);
  g_autofree char *expected = NULL;
  g_autofree char *actual = NULL;
  g_auto (GStrv) want = NULL;
  g_auto (GStrv) got = NULL;

  need_python ();
  g_free (python ("flush", url, NULL));
  g_free (python ("write", short_name, url, n, behaviors, NULL));
  expected = python ("where", url, n, NULL);
  g_free (python ("flush", url, NULL));
  for (int i = 0; i < N_KEYS; i++)
    {
      g_autofree char *key = g_strdup_printf ("key:%d", i);
      g_autoptr (GError) error = NULL;

      cr_assert (dogpile_backend_set (backend, key, value, &error), "%s",
                 error ? error->message : "");
    }
  actual = python ("where", url, n, NULL);
  want = g_strsplit (expected, "\n", -1);
  got = g_strsplit (actual, "\n", -1);
  cr_assert_eq (g_strv_length (want), N_KEYS);
  cr_assert_eq (g_strv_length (got), N_KEYS);
  for (int i = 0; i < N_KEYS; i++)
    {
      cr_assert_str_eq (got[i], want[i], "%s%s%s: C and Python placed a key "
                        "differently", name, behaviors ? " " : "",
                        behaviors ? behaviors : "");
      cr_assert (!g_str_has_suffix (got[i], " -"), "%s lost", got[i]);
    }
  /* Spread over all three (or, for bmemcached, on all three): else the
   * comparison would prove nothing. */
  {
    g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

    for (int i = 0; i < N_KEYS; i++)
      g_hash_table_add (seen, strchr (got[i], ' ') + 1);
    if (strcmp (short_name, "bmemcached") == 0)
      cr_assert (g_hash_table_size (seen) == 1
                     && g_hash_table_contains (seen, "0,1,2"),
                 "bmemcached did not write every key to every server");
    else
      cr_assert (g_hash_table_size (seen) == 3
                     && g_hash_table_contains (seen, "0")
                     && g_hash_table_contains (seen, "1")
                     && g_hash_table_contains (seen, "2"),
                 "%s did not spread the keys over the three servers", name);
  }
}

TestSuite (placement);

Test (placement, pylibmc) { check_placement ("pylibmc", NULL); }

Test (placement, pylibmc_ketama)
{
  check_placement ("pylibmc", "{\"ketama\": true}");
}

Test (placement, memcached) { check_placement ("memcached", NULL); }

Test (placement, pymemcache) { check_placement ("pymemcache", NULL); }

Test (placement, bmemcached) { check_placement ("bmemcached", NULL); }
