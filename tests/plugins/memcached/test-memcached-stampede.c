/* test-memcached-stampede.c: the dogpile lock across processes on
 * memcached.  4 processes x 16 threads call get_or_create on one key at
 * the same instant, with distributed_lock: exactly one creator call in
 * total, counted both by the processes (their exit status) and on the
 * servers (an incr by the creator).
 *
 * The region is made and used by the parent before it forks, so the
 * children also show that inherited connections are not shared.
 *
 * The backend is MEMCACHED_TEST_BACKEND (dogpile.cache.NAME) with the
 * harness's DOGPILE_TEST_ARGUMENTS: one server, three with the lock key
 * placed by the client's hash, and bmemcached's replicated lock.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-memcached-util.h"

#define PROCESSES 4
#define THREADS 16

typedef struct {
  DogpileRegion *region;
  const char *key;
  const char *counter_key;
  int counter_port;
  gint64 start_at; /* monotonic microseconds, the same in every process */
  gint created;
  gint bad_values;
  gint errors;
  gboolean value_was_missing;
} Stampede;

static GBytes *
slow_creator (const char *key, gpointer data, GError **error)
{
  Stampede *s = data;
  g_autofree char *incr = g_strdup_printf ("incr %s 1", s->counter_key);

  g_free (raw (s->counter_port, incr, "\r\n"));
  g_atomic_int_inc (&s->created);
  g_usleep (500000); /* everyone else arrives while this runs */
  return bytes_of ("fresh");
}

static gpointer
contender (gpointer data)
{
  Stampede *s = data;
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;
  gint64 wait = s->start_at - g_get_monotonic_time ();

  if (wait > 0)
    g_usleep ((gulong) wait);
  if (!dogpile_region_get_or_create (s->region, s->key, slow_creator, s,
                                     &value, &error))
    {
      g_atomic_int_inc (&s->errors);
      return NULL;
    }
  /* A waiter for a missing value gets the new one; with a stale value
   * the losers return the stale one at once. */
  if (!bytes_equal (value, "fresh")
      && (s->value_was_missing || !bytes_equal (value, "stale")))
    g_atomic_int_inc (&s->bad_values);
  return NULL;
}

/* In a child: THREADS contenders; the exit status is the number of
 * creator calls here, or 100 + something when a call went wrong. */
static void G_GNUC_NORETURN
child_main (Stampede *s)
{
  GThread *threads[THREADS];

  for (int i = 0; i < THREADS; i++)
    threads[i] = g_thread_new ("contender", contender, s);
  for (int i = 0; i < THREADS; i++)
    g_thread_join (threads[i]);
  if (s->errors > 0)
    _exit (100 + s->errors);
  if (s->bad_values > 0)
    _exit (150 + s->bad_values);
  _exit (s->created);
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
  g_autofree char *add_counter = NULL;
  g_autofree char *get_counter = NULL;
  g_autofree char *counted = NULL;
  int ports[MC_MAX_SERVERS];
  pid_t children[PROCESSES];
  int total = 0;
  Stampede s;

  memcached_ports (ports);
  g_hash_table_insert (a, g_strdup ("distributed_lock"), g_strdup ("true"));
  g_hash_table_insert (a, g_strdup ("thread_local_lock"), g_strdup ("false"));
  g_hash_table_insert (a, g_strdup ("lock_timeout"), g_strdup ("10"));
  g_hash_table_insert (a, g_strdup ("lock_sleep"), g_strdup ("0.02"));
  g_hash_table_insert (a, g_strdup ("pool_size"), g_strdup ("8"));
  region = configured_region (backend_name (), 60, a);
  s = (Stampede){ region, key, counter_key, ports[0],         0,
                  0,      0,   0,           value_was_missing };
  add_counter = g_strdup_printf ("set %s 0 0 1\r\n0", counter_key);
  g_free (raw (ports[0], add_counter, "\r\n"));

  if (value_was_missing)
    {
      /* The parent still uses the region (and its pool) before forking. */
      g_autoptr (GBytes) nothing = NULL;

      cr_assert (dogpile_region_get (region, key, &nothing, NULL));
      cr_assert_null (nothing);
    }
  else
    {
      /* A value created long ago: expired for a 60 s region. */
      g_autoptr (GBytes) payload = bytes_of ("stale");
      DogpileMetadata old;
      g_autoptr (GBytes) record = NULL;

      dogpile_metadata_init (&old, dogpile_clock_now () - 3600);
      record = dogpile_record_encode (payload, &old);
      cr_assert (dogpile_backend_set (
          dogpile_region_get_backend (region, NULL), key, record, NULL));
    }
  s.start_at = g_get_monotonic_time () + 700000;
  for (int p = 0; p < PROCESSES; p++)
    {
      children[p] = fork ();
      cr_assert (children[p] >= 0);
      if (children[p] == 0)
        child_main (&s);
    }
  for (int p = 0; p < PROCESSES; p++)
    {
      int status = wait_child (children[p], 30);

      cr_assert (status < 100, "process %d: %d errors or wrong values", p,
                 status);
      total += status;
    }
  cr_assert_eq (total, 1, "%d creator calls in %d processes x %d threads",
                total, PROCESSES, THREADS);
  get_counter = g_strdup_printf ("get %s", counter_key);
  counted = raw (ports[0], get_counter, "END\r\n");
  cr_assert (strstr (counted, "\r\n1\r\nEND\r\n") != NULL,
             "the server did not count one creation: %s", counted);
  {
    g_autoptr (GBytes) now = NULL;

    cr_assert (dogpile_region_get (region, key, &now, NULL));
    cr_assert (bytes_equal (now, "fresh"));
  }
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
