/* test-redis.c: dogpile.cache.redis against a real server -- the bytes it
 * stores, the commands it sends, connections, databases, authentication,
 * errors and the connection pool.
 *
 * Run one test at a time (--jobs 1): some read the server's own counters
 * (INFO commandstats, connections received) around a call.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-redis-util.h"

static GBytes *
binary_of (const char *data, gsize len)
{
  return g_bytes_new (data, len);
}

static void
assert_bytes (GBytes *got, const void *data, gsize len)
{
  cr_assert_not_null (got);
  cr_assert_eq (g_bytes_get_size (got), len, "size %zu, expected %zu",
                g_bytes_get_size (got), len);
  cr_assert (len == 0
             || memcmp (g_bytes_get_data (got, NULL), data, len) == 0);
}

/* Calls of one command so far (INFO commandstats). */
static long long
calls_of (redisContext *raw, const char *command)
{
  redisReply *reply = raw_command (raw, "INFO commandstats");
  g_autofree char *needle = g_strdup_printf ("cmdstat_%s:calls=", command);
  const char *at = strstr (reply->str, needle);
  long long calls = at != NULL ? strtoll (at + strlen (needle), NULL, 10) : 0;

  freeReplyObject (reply);
  return calls;
}

TestSuite (redis);

Test (redis, values_are_binary_safe)
{
  g_autoptr (GHashTable) a = redis_arguments (NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  redisContext *raw = raw_connect ();
  static const char tricky[] = "a\0b|c\r\n$3\r\n\xff\x00|";
  gsize big_len = 1 << 20;
  g_autofree char *big = g_malloc (big_len);
  struct {
    const char *data;
    gsize len;
  } cases[] = {
    { tricky, sizeof tricky - 1 },
    { "", 0 },
    { big, big_len },
  };

  for (gsize i = 0; i < big_len; i++)
    big[i] = (char) (i * 7);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *key = redis_unique_key ("binary");
      g_autoptr (GBytes) value = binary_of (cases[i].data, cases[i].len);
      g_autoptr (GBytes) got = NULL;
      g_autoptr (GError) error = NULL;
      redisReply *reply;

      cr_assert (dogpile_backend_set (b, key, value, &error));
      assert_no_error (error);
      cr_assert (dogpile_backend_get (b, key, &got, &error));
      assert_bytes (got, cases[i].data, cases[i].len);
      reply = raw_command (raw, "GET %s", key);
      cr_assert_eq (reply->type, REDIS_REPLY_STRING);
      cr_assert_eq (reply->len, cases[i].len);
      cr_assert (cases[i].len == 0
                 || memcmp (reply->str, cases[i].data, cases[i].len) == 0);
      freeReplyObject (reply);
    }
  redisFree (raw);
}

Test (redis, keys_are_sent_as_counted_bytes)
{
  g_autoptr (GHashTable) a = redis_arguments (NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  redisContext *raw = raw_connect ();
  g_autofree char *key = redis_unique_key ("a key|with \r\n spaces \xc3\xa9");
  g_autoptr (GBytes) value = bytes_of ("v");
  redisReply *reply;

  cr_assert (dogpile_backend_set (b, key, value, NULL));
  reply = raw_command (raw, "GET %b", key, strlen (key));
  cr_assert_eq (reply->type, REDIS_REPLY_STRING);
  cr_assert_str_eq (reply->str, "v");
  freeReplyObject (reply);
  redisFree (raw);
}

Test (redis, a_miss_is_not_an_error)
{
  g_autoptr (GHashTable) a = redis_arguments (NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *key = redis_unique_key ("missing");

  cr_assert (dogpile_backend_get (b, key, &got, &error));
  assert_no_error (error);
  cr_assert_null (got);
}

Test (redis, get_multi_is_one_mget_in_order)
{
  g_autoptr (GHashTable) a = redis_arguments (NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  redisContext *raw = raw_connect ();
  enum { N = 300 };
  char *keys[N];
  GBytes *got[N] = { NULL };
  g_autoptr (GError) error = NULL;
  long long mget_before;

  for (int i = 0; i < N; i++)
    {
      keys[i] = redis_unique_key ("multi");
      if (i % 3 != 0)
        freeReplyObject (raw_command (raw, "SET %s value-%d", keys[i], i));
    }
  mget_before = calls_of (raw, "mget");
  cr_assert (dogpile_backend_get_multi (b, (const char *const *) keys, N, got,
                                        &error));
  assert_no_error (error);
  cr_assert_eq (calls_of (raw, "mget"), mget_before + 1);
  for (int i = 0; i < N; i++)
    {
      if (i % 3 == 0)
        cr_assert_null (got[i], "slot %d", i);
      else
        {
          g_autofree char *expected = g_strdup_printf ("value-%d", i);

          cr_assert (bytes_equal (got[i], expected), "slot %d", i);
          g_bytes_unref (got[i]);
        }
      g_free (keys[i]);
    }
  redisFree (raw);
}

Test (redis, set_multi_without_expiration_is_one_mset)
{
  g_autoptr (GHashTable) a = redis_arguments (NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  redisContext *raw = raw_connect ();
  g_autofree char *k1 = redis_unique_key ("mset");
  g_autofree char *k2 = redis_unique_key ("mset");
  const char *keys[] = { k1, k2 };
  g_autoptr (GBytes) v1 = bytes_of ("one");
  g_autoptr (GBytes) v2 = binary_of ("t\0o", 3);
  GBytes *values[] = { v1, v2 };
  long long mset = calls_of (raw, "mset");
  redisReply *reply;

  cr_assert (dogpile_backend_set_multi (b, keys, values, 2, NULL));
  cr_assert_eq (calls_of (raw, "mset"), mset + 1);
  reply = raw_command (raw, "GET %s", k2);
  cr_assert (reply->len == 3 && memcmp (reply->str, "t\0o", 3) == 0);
  freeReplyObject (reply);
  cr_assert_eq (raw_integer (raw, "TTL %s", k1), -1, "no expiry");
  redisFree (raw);
}

Test (redis, expiration_uses_setex_and_a_multi_block)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("redis_expiration_time", "100", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  redisContext *raw = raw_connect ();
  g_autofree char *single = redis_unique_key ("setex");
  char *keys[5];
  GBytes *values[5];
  g_autoptr (GBytes) value = bytes_of ("v");
  long long setex = calls_of (raw, "setex");
  long long multi = calls_of (raw, "multi");
  long long exec = calls_of (raw, "exec");
  long long ttl;

  cr_assert (dogpile_backend_set (b, single, value, NULL));
  ttl = raw_integer (raw, "TTL %s", single);
  cr_assert (ttl > 90 && ttl <= 100, "TTL %lld", ttl);
  for (int i = 0; i < 5; i++)
    {
      keys[i] = redis_unique_key ("setex-multi");
      values[i] = value;
    }
  cr_assert (dogpile_backend_set_multi (b, (const char *const *) keys, values,
                                        5, NULL));
  cr_assert_eq (calls_of (raw, "setex"), setex + 6);
  cr_assert_eq (calls_of (raw, "multi"), multi + 1);
  cr_assert_eq (calls_of (raw, "exec"), exec + 1);
  for (int i = 0; i < 5; i++)
    {
      ttl = raw_integer (raw, "TTL %s", keys[i]);
      cr_assert (ttl > 90 && ttl <= 100, "TTL %lld", ttl);
      g_free (keys[i]);
    }
  redisFree (raw);
}

Test (redis, deletes_and_an_empty_delete_sends_nothing)
{
  g_autoptr (GHashTable) a = redis_arguments (NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  redisContext *raw = raw_connect ();
  g_autofree char *k1 = redis_unique_key ("del");
  g_autofree char *k2 = redis_unique_key ("del");
  const char *keys[] = { k1, k2, "never-set" };
  long long del;

  freeReplyObject (raw_command (raw, "MSET %s 1 %s 2", k1, k2));
  del = calls_of (raw, "del");
  cr_assert (dogpile_backend_delete_multi (b, keys, 0, NULL));
  cr_assert (dogpile_backend_get_multi (b, keys, 0, NULL, NULL));
  cr_assert (dogpile_backend_set_multi (b, keys, NULL, 0, NULL));
  cr_assert_eq (calls_of (raw, "del"), del, "nothing sent for no keys");
  cr_assert (dogpile_backend_delete_multi (b, keys, 3, NULL));
  cr_assert_eq (calls_of (raw, "del"), del + 1, "one DEL for all keys");
  cr_assert_eq (raw_integer (raw, "EXISTS %s %s", k1, k2), 0);
  cr_assert (dogpile_backend_delete (b, k1, NULL));
  redisFree (raw);
}

Test (redis, regions_store_python_s_record)
{
  g_autoptr (GHashTable) a = redis_arguments (NULL);
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.redis", 60, a);
  redisContext *raw = raw_connect ();
  g_autofree char *key = redis_unique_key ("record");
  g_autoptr (GBytes) payload = binary_of ("pay|load\0!", 10);
  g_autoptr (GBytes) got = NULL;
  redisReply *reply;
  const char *bar;

  cr_assert (dogpile_region_set (region, key, payload, NULL));
  reply = raw_command (raw, "GET %s", key);
  cr_assert_eq (reply->type, REDIS_REPLY_STRING);
  cr_assert (g_str_has_prefix (reply->str, "{\"ct\": "), "%s", reply->str);
  bar = memchr (reply->str, '|', reply->len);
  cr_assert_not_null (bar);
  cr_assert (bar - reply->str > 9 && memcmp (bar - 9, ", \"v\": 2}", 9) == 0,
             "%s", reply->str);
  cr_assert_eq ((gsize) (reply->str + reply->len - bar - 1), 10);
  cr_assert (memcmp (bar + 1, "pay|load\0!", 10) == 0);
  freeReplyObject (reply);
  cr_assert (dogpile_region_get (region, key, &got, NULL));
  assert_bytes (got, "pay|load\0!", 10);
  redisFree (raw);
}

Test (redis, url_selects_the_database)
{
  g_autofree char *url = g_strdup_printf ("redis://%s:%s/5", redis_host (),
                                          redis_port_string ());
  g_autoptr (GHashTable) a = arguments_of ("url", url, NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  redisContext *raw = raw_connect ();
  g_autofree char *key = redis_unique_key ("db5");
  g_autoptr (GBytes) value = bytes_of ("in five");
  redisReply *reply;

  cr_assert (dogpile_backend_set (b, key, value, NULL));
  cr_assert_eq (raw_integer (raw, "EXISTS %s", key), 0, "not in db 0");
  freeReplyObject (raw_command (raw, "SELECT 5"));
  reply = raw_command (raw, "GET %s", key);
  cr_assert_str_eq (reply->str, "in five");
  freeReplyObject (reply);
  redisFree (raw);
}

Test (redis, unix_socket_url)
{
  const char *path = g_getenv ("REDIS_SOCKET");
  g_autofree char *url = g_strdup_printf ("unix://%s?db=2", path);
  g_autoptr (GHashTable) a = arguments_of ("url", url, NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  redisContext *raw = raw_connect ();
  g_autofree char *key = redis_unique_key ("unix");
  g_autoptr (GBytes) value = bytes_of ("over the socket");
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;

  cr_assert_not_null (path);
  cr_assert (dogpile_backend_set (b, key, value, &error));
  assert_no_error (error);
  cr_assert (dogpile_backend_get (b, key, &got, NULL));
  cr_assert (bytes_equal (got, "over the socket"));
  freeReplyObject (raw_command (raw, "SELECT 2"));
  cr_assert_eq (raw_integer (raw, "EXISTS %s", key), 1);
  redisFree (raw);
}

Test (redis, auth_with_username_and_password)
{
  redisContext *raw = raw_connect ();
  g_autofree char *user = redis_unique_key ("user");
  g_autoptr (GHashTable) good
      = redis_arguments ("username", user, "password", "s3cret", NULL);
  g_autoptr (GHashTable) bad
      = redis_arguments ("username", user, "password", "wrong", NULL);
  g_autoptr (DogpileBackend) ok = NULL;
  g_autoptr (DogpileBackend) refused = NULL;
  g_autofree char *key = redis_unique_key ("auth");
  g_autoptr (GBytes) value = bytes_of ("v");
  g_autoptr (GError) error = NULL;
  redisReply *reply;

  reply = raw_command (raw, "ACL SETUSER %s on >s3cret ~* &* +@all", user);
  cr_assert_eq (reply->type, REDIS_REPLY_STATUS);
  freeReplyObject (reply);
  ok = redis_backend (good);
  cr_assert (dogpile_backend_set (ok, key, value, &error));
  assert_no_error (error);
  refused = redis_backend (bad);
  cr_assert_not (dogpile_backend_set (refused, key, value, &error));
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (strstr (error->message, "AUTH failed") != NULL, "%s",
             error->message);
  cr_assert (strstr (error->message, redis_port_string ()) != NULL);
  freeReplyObject (raw_command (raw, "ACL DELUSER %s", user));
  redisFree (raw);
}

Test (redis, error_replies_name_command_and_server)
{
  g_autoptr (GHashTable) a = redis_arguments (NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  redisContext *raw = raw_connect ();
  g_autofree char *key = redis_unique_key ("list");
  g_autofree char *where = g_strdup_printf ("Redis at %s:%s", redis_host (),
                                            redis_port_string ());
  const char *keys[] = { key };
  GBytes *got[1] = { NULL };
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;

  freeReplyObject (raw_command (raw, "RPUSH %s x", key));
  cr_assert_not (dogpile_backend_get (b, key, &value, &error));
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (strstr (error->message, where) != NULL, "%s", error->message);
  cr_assert (strstr (error->message, "GET failed: WRONGTYPE") != NULL, "%s",
             error->message);
  cr_assert_null (value);
  /* MGET of a list is a nil, as Redis answers it: a miss. */
  cr_assert (dogpile_backend_get_multi (b, keys, 1, got, NULL));
  cr_assert_null (got[0]);
  redisFree (raw);
}

/* --- the pool ----------------------------------------------------------- */

typedef struct {
  DogpileBackend *backend;
  int thread;
  int rounds;
  gint failures;
} PoolRun;

static gpointer
pool_worker (gpointer data)
{
  PoolRun *run = data;

  for (int i = 0; i < run->rounds; i++)
    {
      g_autofree char *key = g_strdup_printf ("pool:%d:%d:%d", (int) getpid (),
                                              run->thread, i % 10);
      g_autofree char *text = g_strdup_printf ("%d-%d", run->thread, i);
      g_autoptr (GBytes) value = bytes_of (text);
      g_autoptr (GBytes) got = NULL;

      if (!dogpile_backend_set (run->backend, key, value, NULL)
          || !dogpile_backend_get (run->backend, key, &got, NULL)
          || !bytes_equal (got, text))
        g_atomic_int_inc (&run->failures);
    }
  return NULL;
}

static void
run_threads (DogpileBackend *backend, int n_threads, int rounds,
             gint *out_failures)
{
  PoolRun *runs = g_new0 (PoolRun, n_threads);
  GThread **threads = g_new (GThread *, n_threads);

  *out_failures = 0;
  for (int t = 0; t < n_threads; t++)
    {
      runs[t] = (PoolRun){ backend, t, rounds, 0 };
      threads[t] = g_thread_new ("pool", pool_worker, &runs[t]);
    }
  for (int t = 0; t < n_threads; t++)
    {
      g_thread_join (threads[t]);
      *out_failures += runs[t].failures;
    }
  g_free (runs);
  g_free (threads);
}

Test (redis, many_threads_share_a_bounded_pool, .timeout = 60)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("connection_pool_size", "4", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  redisContext *raw = raw_connect ();
  long long before = raw_info (raw, "stats", "total_connections_received");
  gint failures;

  run_threads (b, 32, 300, &failures);
  cr_assert_eq (failures, 0);
  {
    long long made
        = raw_info (raw, "stats", "total_connections_received") - before;

    cr_assert (made >= 1 && made <= 4, "%lld connections for a pool of 4",
               made);
  }
  redisFree (raw);
}

Test (redis, a_pool_of_one_makes_callers_wait_their_turn, .timeout = 60)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("connection_pool_size", "1", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  redisContext *raw = raw_connect ();
  long long before = raw_info (raw, "stats", "total_connections_received");
  gint failures;

  run_threads (b, 8, 200, &failures);
  cr_assert_eq (failures, 0);
  cr_assert_eq (raw_info (raw, "stats", "total_connections_received"),
                before + 1);
  redisFree (raw);
}

Test (redis, keepalive_connections_work)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("socket_keepalive", "true", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autofree char *key = redis_unique_key ("keepalive");
  g_autoptr (GBytes) value = bytes_of ("v");
  g_autoptr (GBytes) got = NULL;

  cr_assert (dogpile_backend_set (b, key, value, NULL));
  cr_assert (dogpile_backend_get (b, key, &got, NULL));
  cr_assert (bytes_equal (got, "v"));
}

Test (redis, connection_refused_names_the_server)
{
  g_autofree char *port = g_strdup_printf ("%d", unused_loopback_port ());
  g_autoptr (GHashTable) a
      = arguments_of ("host", "127.0.0.1", "port", port, NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;
  double started = monotonic_seconds ();

  cr_assert_not (dogpile_backend_get (b, "k", &got, &error));
  cr_assert (monotonic_seconds () - started < 1.0);
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (strstr (error->message, "Cannot connect to Redis at 127.0.0.1:")
                 != NULL,
             "%s", error->message);
  cr_assert (strstr (error->message, "Connection refused") != NULL, "%s",
             error->message);
}
