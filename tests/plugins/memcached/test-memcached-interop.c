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
#include <unistd.h>

#include "test-memcached-util.h"

#define HELPER TEST_SOURCE_DIR "/memcached-python.py"
#define N_KEYS 1000

#define python(...) python_helper (HELPER, __VA_ARGS__)

static void
need_python (void)
{
  python_helper_need (HELPER, "python3-dogpile.cache or a memcached client");
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
      cr_assert_str_eq (got[i], want[i],
                        "%s%s%s: C and Python placed a key "
                        "differently",
                        name, behaviors ? " " : "",
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

/* --- the spec 4.1 record, both ways, and the distributed lock -------- */

static DogpileRegion *
c_region (const char *short_name, const char *url)
{
  g_autoptr (GHashTable) arguments
      = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *name = g_strconcat ("dogpile.cache.", short_name, NULL);

  g_hash_table_insert (arguments, "url", (gpointer) url);
  g_hash_table_insert (arguments, "distributed_lock", "true");
  g_hash_table_insert (arguments, "lock_timeout", "30");
  return configured_region (name, 600, arguments);
}

static void
check_records (const char *short_name)
{
  g_autofree char *url = urls ();
  g_autoptr (DogpileRegion) region = c_region (short_name, url);
  g_autoptr (GBytes) value = bytes_of ("from C \x01|");
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *read = NULL;

  need_python ();
  g_free (python ("flush", url, NULL));
  cr_assert (dogpile_region_set (region, "c-key", value, &error));
  read = python ("read", short_name, url, "c-key", NULL);
  cr_assert_str_eq (read,
                    "66726f6d20432001"
                    "7c",
                    "Python read %s", read);

  g_free (python ("write-raw", short_name, url, "py-key", "00ff707974686f6e",
                  NULL));
  cr_assert (dogpile_region_get (region, "py-key", &got, &error), "%s",
             error ? error->message : "");
  cr_assert_not_null (got, "C missed Python's entry");
  cr_assert_eq (g_bytes_get_size (got), 8);
  cr_assert_eq (memcmp (g_bytes_get_data (got, NULL), "\0\xffpython", 8), 0);
}

Test (records, pylibmc) { check_records ("pylibmc"); }
Test (records, pymemcache) { check_records ("pymemcache"); }
Test (records, memcached) { check_records ("memcached"); }
Test (records, bmemcached) { check_records ("bmemcached"); }

/* A stock Python region (no serializer) pickles CachedValue with flag 1:
 * a region with the raw serializer reads its payload as pickle bytes,
 * one with the pickle serializer reads the value (tests/test-python-stock.c
 * has every value and both directions). */
Test (records, stock_pickle_reads_as_its_payload)
{
  g_autofree char *url = urls ();
  g_autoptr (DogpileRegion) region = c_region ("pylibmc", url);
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) value = NULL;

  need_python ();
  g_free (python ("flush", url, NULL));
  g_free (python ("write", "pylibmc", url, "1", NULL));
  cr_assert (dogpile_region_get (region, "key:0", &got, &error), "%s",
             error ? error->message : "");
  cr_assert_not_null (got);
  value = dogpile_pickle_loads (got, &error);
  cr_assert_not_null (value, "%s", error ? error->message : "");
  cr_assert_str_eq (g_variant_get_string (value, NULL), "v");
}

/* One line from the helper's stdout, without its newline. */
static char *
read_line (int fd)
{
  GString *line = g_string_new (NULL);
  char c;

  while (read (fd, &c, 1) == 1 && c != '\n')
    g_string_append_c (line, c);
  return g_string_free (line, FALSE);
}

static void
check_locks (const char *short_name)
{
  g_autofree char *url = urls ();
  g_autoptr (DogpileRegion) region = c_region (short_name, url);
  DogpileBackend *backend = dogpile_region_get_backend (region, NULL);
  g_autoptr (DogpileMutex) mutex = dogpile_backend_get_mutex (backend, "lk");
  const char *argv[]
      = { TEST_PYTHON, HELPER, "lock-hold", short_name, url, "lk", NULL };
  g_autoptr (GError) error = NULL;
  gboolean acquired = TRUE, locked = FALSE;
  GPid pid;
  int in_fd, out_fd;
  g_autofree char *seen = NULL;
  g_autofree char *held = NULL;
  g_autofree char *released = NULL;

  need_python ();
  g_free (python ("flush", url, NULL));
  /* Python holds: C sees it and cannot take it. */
  cr_assert (g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                                       G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                       &pid, &in_fd, &out_fd, NULL, &error));
  held = read_line (out_fd);
  cr_assert_str_eq (held, "HELD", "the Python side printed '%s'", held);
  cr_assert (dogpile_mutex_locked (mutex, &locked, &error));
  cr_assert (locked, "C does not see Python's lock");
  cr_assert (dogpile_mutex_acquire (mutex, FALSE, &acquired, &error));
  cr_assert_not (acquired, "C took the lock Python holds");
  cr_assert (write (in_fd, "\n", 1) == 1);
  released = read_line (out_fd);
  cr_assert_str_eq (released, "RELEASED");
  close (in_fd);
  close (out_fd);
  g_spawn_close_pid (pid);
  /* C holds: Python sees it. */
  cr_assert (dogpile_mutex_acquire (mutex, FALSE, &acquired, &error));
  cr_assert (acquired, "C cannot take the lock Python released");
  seen = python ("locked", short_name, url, "lk", NULL);
  cr_assert_str_eq (seen, "1", "Python does not see C's lock");
  cr_assert (dogpile_mutex_release (mutex, &error));
  g_free (seen);
  seen = python ("locked", short_name, url, "lk", NULL);
  cr_assert_str_eq (seen, "0", "C's release left the lock");
}

Test (locks, pylibmc) { check_locks ("pylibmc"); }
Test (locks, pymemcache) { check_locks ("pymemcache"); }
Test (locks, memcached) { check_locks ("memcached"); }
Test (locks, bmemcached) { check_locks ("bmemcached"); }
