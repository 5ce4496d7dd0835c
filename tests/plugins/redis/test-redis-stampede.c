/* test-redis-stampede.c: the dogpile lock across processes.  4 processes
 * x 16 threads call get_or_create on one key at the same instant, with
 * distributed_lock: exactly one creator call in total, counted both by the
 * processes (their exit status) and on the server (INCR by the creator).
 *
 * The region is made and used by the parent before it forks, so the
 * children also show that inherited connections are not shared.
 *
 * The same program runs on one server, on a cluster (the lock key routed
 * by its own slot) and behind a sentinel: the backend is
 * REDIS_TEST_BACKEND (default dogpile.cache.redis) with the harness's
 * DOGPILE_TEST_ARGUMENTS, and the raw checks go to the server holding
 * each key.
 *
 * SPDX-License-Identifier: MIT
 */
#include <sys/wait.h>

#include "test-redis-util.h"

#define PROCESSES 4
#define THREADS 16

typedef struct {
  DogpileRegion *region;
  const char *key;
  const char *counter_key;
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
  redisContext *raw = raw_connect_for_key (s->counter_key);

  freeReplyObject (raw_command (raw, "INCR %s", s->counter_key));
  redisFree (raw);
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
  const char *name = g_getenv ("REDIS_TEST_BACKEND");

  return name != NULL ? name : "dogpile.cache.redis";
}

static void
run_stampede (gboolean value_was_missing)
{
  g_autoptr (GHashTable) a = suite_arguments ();
  g_autoptr (DogpileRegion) region = NULL;
  g_autofree char *key = redis_unique_key ("stampede");
  g_autofree char *counter_key = redis_unique_key ("stampede-creations");
  g_autofree char *lock_name = g_strconcat ("_lock", key, NULL);
  redisContext *raw = raw_connect_for_key (counter_key);
  redisContext *raw_lock = raw_connect_for_key (lock_name);
  pid_t children[PROCESSES];
  int total = 0;
  Stampede s;

  g_hash_table_insert (a, g_strdup ("distributed_lock"), g_strdup ("true"));
  g_hash_table_insert (a, g_strdup ("thread_local_lock"), g_strdup ("false"));
  g_hash_table_insert (a, g_strdup ("lock_timeout"), g_strdup ("10"));
  g_hash_table_insert (a, g_strdup ("lock_sleep"), g_strdup ("0.02"));
  g_hash_table_insert (a, g_strdup ("connection_pool_size"), g_strdup ("8"));
  region = configured_region (backend_name (), 60, a);
  s = (Stampede){ region, key, counter_key, 0, 0, 0, 0, value_was_missing };

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
      int status = 0;

      cr_assert_eq (waitpid (children[p], &status, 0), children[p]);
      cr_assert (WIFEXITED (status), "process %d died", p);
      cr_assert (WEXITSTATUS (status) < 100,
                 "process %d: %d errors or wrong values", p,
                 WEXITSTATUS (status));
      total += WEXITSTATUS (status);
    }
  cr_assert_eq (total, 1, "%d creator calls in %d processes x %d threads",
                total, PROCESSES, THREADS);
  {
    redisReply *reply = raw_command (raw, "GET %s", counter_key);

    cr_assert_str_eq (reply->str, "1", "the server counted one creation");
    freeReplyObject (reply);
  }
  {
    g_autoptr (GBytes) now = NULL;

    cr_assert (dogpile_region_get (region, key, &now, NULL));
    cr_assert (bytes_equal (now, "fresh"));
  }
  cr_assert_eq (raw_integer (raw_lock, "EXISTS %s", lock_name), 0,
                "the lock was released");
  redisFree (raw);
  redisFree (raw_lock);
}

TestSuite (redis_stampede, .timeout = 60);

Test (redis_stampede, on_an_expired_value_one_creator_in_all_processes)
{
  run_stampede (FALSE);
}

Test (redis_stampede, on_a_missing_value_one_creator_in_all_processes)
{
  run_stampede (TRUE);
}
