/* test-redis-lock.c: the distributed lock on the wire (spec 4.6) -- its
 * record, exclusion between independent clients, expiry, the release
 * script, lock_blocking_timeout, and a release from another thread (the
 * async runner, RedisAsyncCreationTest).
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-lock.h"
#include "test-redis-util.h"

static DogpileMutex *
mutex_for (DogpileBackend *backend, const char *key)
{
  DogpileMutex *m = dogpile_backend_get_mutex (backend, key);

  cr_assert_not_null (m, "distributed_lock gives a mutex");
  return m;
}

static gboolean
is_lower_hex (const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
      return FALSE;
  return TRUE;
}

TestSuite (redis_lock);

Test (redis_lock, record_on_the_wire)
{
  g_autoptr (GHashTable) a = redis_arguments ("distributed_lock", "true",
                                              "lock_timeout", "7", NULL);
  g_autoptr (GHashTable) forever
      = redis_arguments ("distributed_lock", "true", "lock_prefix", "_lok.",
                         "lock_timeout", "0", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (DogpileBackend) f = redis_backend (forever);
  g_autofree char *key = redis_unique_key ("wire key");
  g_autoptr (DogpileMutex) m = mutex_for (b, key);
  g_autoptr (DogpileMutex) n = mutex_for (f, key);
  redisContext *raw = raw_connect ();
  g_autofree char *first_token = NULL;
  redisReply *reply;
  long long pttl;

  cr_assert (mutex_acquire_ok (m, TRUE));
  reply = raw_command (raw, "GET _lock%s", key);
  cr_assert_eq (reply->type, REDIS_REPLY_STRING);
  cr_assert_eq (reply->len, 32);
  cr_assert (is_lower_hex (reply->str, 32), "%s", reply->str);
  first_token = g_strdup (reply->str);
  freeReplyObject (reply);
  pttl = raw_integer (raw, "PTTL _lock%s", key);
  cr_assert (pttl > 6000 && pttl <= 7000, "PX int(lock_timeout*1000): %lld",
             pttl);
  cr_assert (dogpile_mutex_release (m, NULL));
  cr_assert_eq (raw_integer (raw, "EXISTS _lock%s", key), 0);

  /* A new token each time; no PX with lock_timeout 0; the prefix. */
  cr_assert (mutex_acquire_ok (n, FALSE));
  reply = raw_command (raw, "GET _lok.%s", key);
  cr_assert_eq (reply->len, 32);
  cr_assert (strcmp (reply->str, first_token) != 0);
  freeReplyObject (reply);
  cr_assert_eq (raw_integer (raw, "PTTL _lok.%s", key), -1);
  cr_assert (dogpile_mutex_release (n, NULL));
  redisFree (raw);
}

Test (redis_lock, independent_clients_exclude_each_other)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("distributed_lock", "true", NULL);
  g_autoptr (DogpileBackend) one = redis_backend (a);
  g_autoptr (DogpileBackend) two = redis_backend (a);
  g_autofree char *key = redis_unique_key ("exclusion");
  g_autoptr (DogpileMutex) m1 = mutex_for (one, key);
  g_autoptr (DogpileMutex) m2 = mutex_for (two, key);

  cr_assert_not (mutex_is_locked (m2));
  cr_assert (mutex_acquire_ok (m1, FALSE));
  cr_assert_not (mutex_acquire_ok (m2, FALSE));
  cr_assert_not (mutex_acquire_ok (m1, FALSE), "not reentrant");
  cr_assert (mutex_is_locked (m2), "locked() sees any owner");
  cr_assert (dogpile_mutex_release (m1, NULL));
  cr_assert (mutex_acquire_ok (m2, FALSE));
  cr_assert_not (mutex_acquire_ok (m1, FALSE));
  cr_assert (dogpile_mutex_release (m2, NULL));
  cr_assert_not (mutex_is_locked (m1));
}

Test (redis_lock, releasing_what_is_not_held_fails)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("distributed_lock", "true", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autofree char *key = redis_unique_key ("unheld");
  g_autoptr (DogpileMutex) m = mutex_for (b, key);
  g_autoptr (GError) error = NULL;

  cr_assert_not (dogpile_mutex_release (m, &error));
  assert_error (error, DOGPILE_ERROR_LOCK);
  g_clear_error (&error);
  cr_assert (mutex_acquire_ok (m, FALSE));
  cr_assert (dogpile_mutex_release (m, NULL));
  cr_assert_not (dogpile_mutex_release (m, &error), "released twice");
  assert_error (error, DOGPILE_ERROR_LOCK);
}

Test (redis_lock, an_expired_lock_is_not_released_from_its_new_owner)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("distributed_lock", "true", "lock_timeout", "0.2",
                         "lock_sleep", "0.02", NULL);
  g_autoptr (DogpileBackend) one = redis_backend (a);
  g_autoptr (DogpileBackend) two = redis_backend (a);
  g_autofree char *key = redis_unique_key ("expired");
  g_autoptr (DogpileMutex) m1 = mutex_for (one, key);
  g_autoptr (DogpileMutex) m2 = mutex_for (two, key);
  redisContext *raw = raw_connect ();
  g_autoptr (GError) error = NULL;

  cr_assert (mutex_acquire_ok (m1, FALSE));
  cr_assert (mutex_acquire_ok (m2, TRUE), "taken once the first one expired");
  cr_assert_not (dogpile_mutex_release (m1, &error));
  assert_error (error, DOGPILE_ERROR_LOCK);
  cr_assert (strstr (error->message, "no longer owned") != NULL, "%s",
             error->message);
  cr_assert_eq (raw_integer (raw, "EXISTS _lock%s", key), 1,
                "the new owner's lock is intact");
  cr_assert (dogpile_mutex_release (m2, NULL));
  redisFree (raw);
}

Test (redis_lock, a_dead_owner_s_lock_expires)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("distributed_lock", "true", "lock_timeout", "0.3",
                         "lock_sleep", "0.02", NULL);
  g_autoptr (DogpileBackend) waiter = redis_backend (a);
  g_autofree char *key = redis_unique_key ("dead");
  g_autoptr (DogpileMutex) m = mutex_for (waiter, key);
  double started;

  {
    /* The owner takes the lock and goes away without releasing it. */
    g_autoptr (DogpileBackend) owner = redis_backend (a);
    g_autoptr (DogpileMutex) lost = mutex_for (owner, key);

    cr_assert (mutex_acquire_ok (lost, FALSE));
  }
  started = monotonic_seconds ();
  cr_assert_not (mutex_acquire_ok (m, FALSE));
  cr_assert (mutex_acquire_ok (m, TRUE));
  cr_assert (monotonic_seconds () - started < 1.5);
  cr_assert (dogpile_mutex_release (m, NULL));
}

Test (redis_lock, release_loads_the_script_on_noscript)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("distributed_lock", "true", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autofree char *key = redis_unique_key ("noscript");
  g_autoptr (DogpileMutex) m = mutex_for (b, key);
  redisContext *raw = raw_connect ();
  redisReply *reply;

  freeReplyObject (raw_command (raw, "SCRIPT FLUSH"));
  cr_assert (mutex_acquire_ok (m, FALSE));
  cr_assert (dogpile_mutex_release (m, NULL));
  cr_assert_eq (raw_integer (raw, "EXISTS _lock%s", key), 0);
  reply = raw_command (raw, "SCRIPT EXISTS %s", REDIS_LOCK_RELEASE_SHA1);
  cr_assert_eq (reply->type, REDIS_REPLY_ARRAY);
  cr_assert_eq (reply->element[0]->integer, 1,
                "the script loaded is the one whose SHA1 we send");
  freeReplyObject (reply);
  /* and now EVALSHA finds it straight away */
  cr_assert (mutex_acquire_ok (m, FALSE));
  cr_assert (dogpile_mutex_release (m, NULL));
  redisFree (raw);
}

typedef struct {
  DogpileMutex *mutex;
  gulong hold_us;
} Holder;

static gpointer
hold_then_release (gpointer data)
{
  Holder *h = data;

  g_usleep (h->hold_us);
  cr_assert (dogpile_mutex_release (h->mutex, NULL));
  return NULL;
}

Test (redis_lock, a_waiter_gets_the_lock_within_lock_sleep_of_its_release)
{
  g_autoptr (GHashTable) a = redis_arguments ("distributed_lock", "true",
                                              "lock_sleep", "0.05", NULL);
  g_autoptr (DogpileBackend) one = redis_backend (a);
  g_autoptr (DogpileBackend) two = redis_backend (a);
  g_autofree char *key = redis_unique_key ("poll");
  g_autoptr (DogpileMutex) m1 = mutex_for (one, key);
  g_autoptr (DogpileMutex) m2 = mutex_for (two, key);
  Holder h = { m1, 200000 };
  GThread *thread;
  double started, waited;

  cr_assert (mutex_acquire_ok (m1, FALSE));
  started = monotonic_seconds ();
  thread = g_thread_new ("holder", hold_then_release, &h);
  cr_assert (mutex_acquire_ok (m2, TRUE));
  waited = monotonic_seconds () - started;
  g_thread_join (thread);
  cr_assert (waited >= 0.19 && waited < 0.2 + 0.05 + 0.3, "waited %.3f s",
             waited);
  cr_assert (dogpile_mutex_release (m2, NULL));
}

static GBytes *
never_called (const char *key, gpointer data, GError **error)
{
  g_atomic_int_inc ((gint *) data);
  return bytes_of ("made unlocked");
}

Test (redis_lock, lock_blocking_timeout_gives_up_without_creating)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("distributed_lock", "true", "lock_blocking_timeout",
                         "0.3", "lock_sleep", "0.05", NULL);
  g_autoptr (DogpileBackend) other = redis_backend (a);
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.redis", 60, a);
  g_autofree char *key = redis_unique_key ("blocking");
  g_autoptr (DogpileMutex) held = mutex_for (other, key);
  g_autoptr (DogpileMutex) waiter = mutex_for (other, key);
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;
  gint calls = 0;
  double started;

  cr_assert (mutex_acquire_ok (held, FALSE));
  started = monotonic_seconds ();
  cr_assert_not (mutex_acquire_ok (waiter, TRUE), "gave up");
  cr_assert (monotonic_seconds () - started < 0.3 + 0.3);
  cr_assert (monotonic_seconds () - started >= 0.2);

  /* Through the region: a miss while another process creates. */
  cr_assert_not (dogpile_region_get_or_create (region, key, never_called,
                                               &calls, &value, &error));
  assert_error (error, DOGPILE_ERROR_LOCK);
  cr_assert_eq (calls, 0, "the creator never runs unlocked");
  cr_assert (dogpile_mutex_release (held, NULL));
}

static GBytes *
numbered (const char *key, gpointer data, GError **error)
{
  int n = g_atomic_int_add ((gint *) data, 1) + 1;
  g_autofree char *text = g_strdup_printf ("v%d", n);

  g_usleep (50000);
  return bytes_of (text);
}

/* RedisAsyncCreationTest.test_distributed_async_locks: the runner's thread
 * releases the lock the caller's thread took. */
Test (redis_lock, async_runner_releases_from_its_own_thread)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileAsyncPool) pool = dogpile_async_pool_new (2, &error);
  g_autoptr (GHashTable) a = redis_arguments (
      "distributed_lock", "true", "thread_local_lock", "false", NULL);
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autofree char *key = redis_unique_key ("async");
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) stale = NULL;
  g_autoptr (GBytes) fresh = NULL;
  gint *counter = g_new0 (gint, 1);
  redisContext *raw = raw_connect ();
  gboolean locked = TRUE;

  cr_assert_not_null (pool);
  dogpile_region_set_async_creation_runner (region, dogpile_async_pool_run,
                                            pool, NULL);
  cr_assert (dogpile_region_configure (region, "dogpile.cache.redis", 0.1, a,
                                       0, &error));
  cr_assert (dogpile_region_get_or_create_full (
      region, key, numbered, counter, NULL, DOGPILE_EXPIRATION_DEFAULT, NULL,
      NULL, &first, &error));
  cr_assert (bytes_equal (first, "v1"), "made synchronously");
  g_usleep (300000);
  cr_assert (dogpile_region_get_or_create_full (
      region, key, numbered, counter, g_free, DOGPILE_EXPIRATION_DEFAULT, NULL,
      NULL, &stale, &error));
  cr_assert (bytes_equal (stale, "v1"), "the stale value at once");
  for (int i = 0; i < 200 && locked; i++)
    {
      g_usleep (5000);
      cr_assert (dogpile_region_key_is_locked (region, key, &locked, NULL));
    }
  cr_assert_not (locked, "released by the runner's thread within 1 s");
  cr_assert_eq (raw_integer (raw, "EXISTS _lock%s", key), 0);
  cr_assert (dogpile_region_get_full (region, key, DOGPILE_EXPIRATION_NONE, 0,
                                      &fresh, NULL));
  cr_assert (bytes_equal (fresh, "v2"));
  cr_assert_eq (dogpile_async_pool_get_failures (pool), 0);
  redisFree (raw);
}
