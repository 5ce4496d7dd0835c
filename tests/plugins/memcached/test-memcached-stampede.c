/* test-memcached-stampede.c: the dogpile lock across processes on
 * memcached (tests/test-stampede.h): 4 processes x 16 threads on one key
 * with distributed_lock make exactly one creator call, counted by the
 * processes and on the servers (an incr by the creator).
 *
 * The backend is MEMCACHED_TEST_BACKEND (dogpile.cache.NAME) with the
 * harness's DOGPILE_TEST_ARGUMENTS: one server, three with the lock key
 * placed by the client's hash, and bmemcached's replicated lock.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-memcached-util.h"
#include "test-stampede.h"

typedef struct {
  int port;
  const char *counter_key;
} Counter;

static void
count_on_server (gpointer data)
{
  Counter *c = data;
  g_autofree char *incr = g_strdup_printf ("incr %s 1", c->counter_key);

  g_free (raw (c->port, incr, "\r\n"));
}

static const char *
backend_name (void)
{
  const char *name = g_getenv ("MEMCACHED_TEST_BACKEND");

  cr_assert_not_null (name, "MEMCACHED_TEST_BACKEND is not set");
  return name;
}

/* Whether any of the servers still holds @key. */
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

static void
run_stampede (gboolean value_was_missing)
{
  g_autoptr (GHashTable) a = suite_arguments ();
  g_autoptr (DogpileRegion) region = NULL;
  g_autofree char *key
      = g_strdup_printf ("stampede:%d:%d", (int) getpid (), value_was_missing);
  g_autofree char *counter_key = g_strconcat (key, ":creations", NULL);
  g_autofree char *lock_name = g_strconcat ("_lock", key, NULL);
  g_autofree char *set_counter
      = g_strdup_printf ("set %s 0 0 1\r\n0", counter_key);
  g_autofree char *get_counter = g_strdup_printf ("get %s", counter_key);
  g_autofree char *counted = NULL;
  int ports[MC_MAX_SERVERS];
  Counter counter;
  Stampede s;
  int total;

  memcached_ports (ports);
  counter = (Counter){ ports[0], counter_key };
  g_hash_table_insert (a, g_strdup ("distributed_lock"), g_strdup ("true"));
  g_hash_table_insert (a, g_strdup ("thread_local_lock"), g_strdup ("false"));
  g_hash_table_insert (a, g_strdup ("lock_timeout"), g_strdup ("10"));
  g_hash_table_insert (a, g_strdup ("lock_sleep"), g_strdup ("0.02"));
  g_hash_table_insert (a, g_strdup ("pool_size"), g_strdup ("8"));
  region = configured_region (backend_name (), 60, a);
  g_free (raw (ports[0], set_counter, "\r\n"));
  s = (Stampede){ .region = region,
                  .key = key,
                  .on_create = count_on_server,
                  .user_data = &counter,
                  .value_was_missing = value_was_missing };
  total = stampede_run (&s);
  cr_assert_eq (total, 1, "%d creator calls in %d processes x %d threads",
                total, STAMPEDE_PROCESSES, STAMPEDE_THREADS);
  counted = raw (ports[0], get_counter, "END\r\n");
  cr_assert (strstr (counted, "\r\n1\r\nEND\r\n") != NULL,
             "the server did not count one creation: %s", counted);
  cr_assert_not (on_some_server (lock_name), "the lock was not released");
}

TestSuite (memcached_stampede);

Test (memcached_stampede, on_an_expired_value_one_creator_in_all_processes)
{
  run_stampede (FALSE);
}

Test (memcached_stampede, on_a_missing_value_one_creator_in_all_processes)
{
  run_stampede (TRUE);
}
