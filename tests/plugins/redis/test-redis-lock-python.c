/* test-redis-lock-python.c: the distributed lock shared with Python
 * (tests/test-lock-python.h): a Python process (dogpile.cache.redis on
 * redis-py) and this one, 8 threads each, on one expired or missing key,
 * make exactly one creator call between them -- Python's lock name
 * (_lock<key>), SET NX PX and release script on both sides.
 *
 * Both sides: distributed_lock, thread_local_lock false (Python warns
 * otherwise; a C lock ignores it), lock_timeout LOCK_PYTHON_LOCK_TIMEOUT
 * (PX 10000), lock_sleep 0.02 (both default to 0.1).  Values raw and in
 * the stock pickle form.  And the lock's record as each side leaves it on
 * the server is the same (name, token shape, PX).
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-redis-util.h"

#include "test-lock-python.h"

#define BACKEND "dogpile.cache.redis"

static void
need_python (void)
{
  lock_python_need (BACKEND);
}

static void
run_stampede (const char *format, gboolean value_was_missing,
              double python_head_start)
{
  g_autoptr (GHashTable) arguments = redis_arguments (
      "distributed_lock", "true", "thread_local_lock", "false", "lock_timeout",
      LOCK_PYTHON_LOCK_TIMEOUT, "lock_sleep", "0.02", NULL);
  g_autoptr (DogpileRegion) region
      = lock_python_region (BACKEND, arguments, format);
  g_autofree char *key = redis_unique_key ("lock-python");
  g_autofree char *python_arguments = g_strdup_printf (
      "{\"host\": \"%s\", \"port\": %d, \"distributed_lock\": true, "
      "\"thread_local_lock\": false, \"lock_timeout\": %s, "
      "\"lock_sleep\": 0.02}",
      redis_host (), redis_port (), LOCK_PYTHON_LOCK_TIMEOUT);
  LockPython run = { .region = region,
                     .backend = BACKEND,
                     .python_arguments = python_arguments,
                     .format = format,
                     .key = key,
                     .value_was_missing = value_was_missing,
                     .python_head_start = python_head_start };
  redisContext *raw = raw_connect ();

  cr_assert_eq (lock_python_run (&run), 1);
  cr_assert_eq (raw_integer (raw, "EXISTS _lock%s", key), 0,
                "the lock was not released");
  redisFree (raw);
}

TestSuite (redis_lock_python, .init = need_python);

/* Started together, C mostly wins and Python waits on C's lock. */
Test (redis_lock_python, raw_expired_value_one_creator_in_c_and_python)
{
  run_stampede ("raw", FALSE, 0);
}

Test (redis_lock_python, raw_missing_value_one_creator_in_c_and_python)
{
  run_stampede ("raw", TRUE, 0);
}

Test (redis_lock_python, pickled_expired_value_one_creator_in_c_and_python)
{
  run_stampede ("pickle", FALSE, 0);
}

Test (redis_lock_python, pickled_missing_value_one_creator_in_c_and_python)
{
  run_stampede ("pickle", TRUE, 0);
}

/* Python 0.1 s ahead: Python mostly wins and C waits on Python's lock. */
Test (redis_lock_python, python_ahead_expired_value_one_creator)
{
  run_stampede ("raw", FALSE, 0.1);
}

Test (redis_lock_python, python_ahead_missing_value_one_creator)
{
  run_stampede ("raw", TRUE, 0.1);
}

/* "<length> bytes of lower-case hex" or the value itself, for comparing
 * two tokens' shape. */
static char *
token_shape (redisContext *raw, const char *name, long long *out_pttl)
{
  redisReply *reply = raw_command (raw, "GET %s", name);
  char *shape;
  gboolean hex = reply->type == REDIS_REPLY_STRING;

  for (size_t i = 0; hex && i < reply->len; i++)
    hex = g_ascii_isdigit (reply->str[i])
          || (reply->str[i] >= 'a' && reply->str[i] <= 'f');
  shape = hex ? g_strdup_printf ("%zu bytes of lower-case hex", reply->len)
              : g_strdup_printf ("%s", reply->str ? reply->str : "(nil)");
  freeReplyObject (reply);
  *out_pttl = raw_integer (raw, "PTTL %s", name);
  return shape;
}

/* Spec 4.6: a lock Python's redis-py takes and one C takes look alike on
 * the server (_lock<key>, a uuid1().hex-like token, PX lock_timeout). */
Test (redis_lock_python, the_lock_record_is_python_s)
{
  g_autoptr (GHashTable) arguments = redis_arguments (
      "distributed_lock", "true", "thread_local_lock", "false", "lock_timeout",
      LOCK_PYTHON_LOCK_TIMEOUT, NULL);
  g_autoptr (DogpileRegion) region
      = lock_python_region (BACKEND, arguments, "raw");
  g_autofree char *key = redis_unique_key ("lock-python-record");
  g_autofree char *name = g_strconcat ("_lock", key, NULL);
  g_autofree char *python_arguments = g_strdup_printf (
      "{\"host\": \"%s\", \"port\": %d, \"distributed_lock\": true, "
      "\"thread_local_lock\": false, \"lock_timeout\": %s}",
      redis_host (), redis_port (), LOCK_PYTHON_LOCK_TIMEOUT);
  g_autoptr (DogpileMutex) m = dogpile_region_get_mutex (region, key, NULL);
  g_autofree char *acquired = NULL;
  g_autofree char *python_shape = NULL;
  g_autofree char *c_shape = NULL;
  redisContext *raw = raw_connect ();
  long long python_pttl, c_pttl;

  acquired = python_helper (LOCK_PYTHON_PEER, "acquire", BACKEND,
                            python_arguments, key, NULL);
  cr_assert_str_eq (acquired, "1");
  python_shape = token_shape (raw, name, &python_pttl);
  cr_assert_eq (raw_integer (raw, "DEL %s", name), 1);

  cr_assert (mutex_acquire_ok (m, FALSE));
  c_shape = token_shape (raw, name, &c_pttl);
  cr_assert_str_eq (python_shape, "32 bytes of lower-case hex");
  cr_assert_str_eq (c_shape, python_shape);
  cr_assert (python_pttl > 8000 && python_pttl <= 10000, "Python's PTTL %lld",
             python_pttl);
  cr_assert (c_pttl > 8000 && c_pttl <= 10000, "C's PTTL %lld", c_pttl);
  cr_assert (dogpile_mutex_release (m, NULL));
  cr_assert_eq (raw_integer (raw, "EXISTS %s", name), 0);
  redisFree (raw);
}
