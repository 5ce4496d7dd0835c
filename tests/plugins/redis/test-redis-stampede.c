/* test-redis-stampede.c: the dogpile lock across processes
 * (tests/test-stampede.h): 4 processes x 16 threads call get_or_create on
 * one key at the same instant, with distributed_lock: exactly one creator
 * call in total, counted both by the processes (their exit status) and on
 * the server (INCR by the creator).
 *
 * The same program runs on one server, on a cluster (the lock key routed
 * by its own slot) and behind a sentinel: the backend is
 * REDIS_TEST_BACKEND (default dogpile.cache.redis) with the harness's
 * DOGPILE_TEST_ARGUMENTS, and the raw checks go to the server holding
 * each key.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-redis-util.h"
#include "test-stampede.h"

static void
count_on_server (gpointer data)
{
  const char *counter_key = data;
  redisContext *raw = raw_connect_for_key (counter_key);

  freeReplyObject (raw_command (raw, "INCR %s", counter_key));
  redisFree (raw);
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
  Stampede s;
  int total;

  g_hash_table_insert (a, g_strdup ("distributed_lock"), g_strdup ("true"));
  g_hash_table_insert (a, g_strdup ("thread_local_lock"), g_strdup ("false"));
  g_hash_table_insert (a, g_strdup ("lock_timeout"), g_strdup ("10"));
  g_hash_table_insert (a, g_strdup ("lock_sleep"), g_strdup ("0.02"));
  g_hash_table_insert (a, g_strdup ("connection_pool_size"), g_strdup ("8"));
  region = configured_region (backend_name (), 60, a);
  s = (Stampede){ .region = region,
                  .key = key,
                  .on_create = count_on_server,
                  .user_data = counter_key,
                  .value_was_missing = value_was_missing };
  total = stampede_run (&s);
  cr_assert_eq (total, 1, "%d creator calls in %d processes x %d threads",
                total, STAMPEDE_PROCESSES, STAMPEDE_THREADS);
  {
    redisReply *reply = raw_command (raw, "GET %s", counter_key);

    cr_assert_str_eq (reply->str, "1", "the server counted one creation");
    freeReplyObject (reply);
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
