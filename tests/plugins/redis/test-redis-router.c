/* test-redis-router.c: the seam the Sentinel and Cluster modes plug into.
 *
 * The plugin's operations run here (built into this program) on routers
 * written for the test, against a real master and a real replica
 * (tests/redis-servers.py --topology replica):
 *  - key_group: multi-key operations split into one command per group,
 *    all sent in one round trip, and the replies put back in order (what
 *    Cluster's hash slots need);
 *  - redirect: a write sent to the replica comes back READONLY and is
 *    followed to the master (what a Sentinel failover and Cluster's MOVED
 *    need), with a bound on redirect loops;
 *  - failed: the router hears about a connection the server closed, and
 *    the call is retried on a new connection.
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-backend.h"
#include "test-redis-util.h"

/* dogpile-redis.c's entry point, built into this program. */
const DogpileBackendDesc *dogpile_backend_redis_get_desc (void);

typedef struct {
  RedisRouter parent;
  RedisPool *master;
  RedisPool *replica;
  gboolean writes_to_replica; /* until redirected */
  gboolean redirect_in_circles;
  gint routed_to_replica;
  gint redirects;
  gint failures;
  gint closed_failures;
} TestRouter;

static RedisPool *
test_route (RedisRouter *router, const char *key, gsize key_len,
            RedisRouteFlags flags, RedisDeadline *deadline, GError **error)
{
  TestRouter *self = (TestRouter *) router;

  if ((flags & REDIS_ROUTE_READ_ONLY) || self->writes_to_replica)
    {
      g_atomic_int_inc (&self->routed_to_replica);
      return self->replica;
    }
  return self->master;
}

/* Keys in five groups, by their last character. */
static guint
test_key_group (RedisRouter *router, const char *key, gsize key_len)
{
  return (guint) (guchar) key[key_len - 1] % 5;
}

static RedisPool *
test_redirect (RedisRouter *router, RedisPool *pool, const redisReply *reply,
               gboolean *out_asking, RedisDeadline *deadline, GError **error)
{
  TestRouter *self = (TestRouter *) router;

  if (!g_str_has_prefix (reply->str, "READONLY"))
    return NULL;
  g_atomic_int_inc (&self->redirects);
  return self->redirect_in_circles ? self->replica : self->master;
}

static void
test_failed (RedisRouter *router, RedisPool *pool, RedisFailure failure,
             RedisDeadline *deadline)
{
  TestRouter *self = (TestRouter *) router;

  g_atomic_int_inc (&self->failures);
  if (failure == REDIS_FAILURE_CLOSED)
    {
      g_atomic_int_inc (&self->closed_failures);
      redis_pool_drop_idle (pool);
    }
}

static void
test_free (RedisRouter *router)
{
  TestRouter *self = (TestRouter *) router;

  redis_pool_free (self->master);
  redis_pool_free (self->replica);
  g_free (self);
}

static const RedisRouterFuncs grouping_funcs = {
  .route = test_route,
  .key_group = test_key_group,
  .redirect = test_redirect,
  .failed = test_failed,
  .free = test_free,
};

static const RedisVariant variant
    = { "dogpile.cache.redis", "Redis", "redis_expiration_time",
        REDIS_MODE_SINGLE };

typedef struct {
  TestRouter *router;
  DogpileBackendImpl *impl;
  const DogpileBackendDesc *desc;
} Setup;

static Setup
setup (const char *expiration)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("redis_expiration_time", expiration, NULL);
  g_autoptr (GError) error = NULL;
  RedisConfig *config = redis_config_new (&variant, a, &error);
  TestRouter *router = g_new0 (TestRouter, 1);
  RedisEndpoint replica;
  int replica_port = atoi (g_getenv ("REDIS_REPLICA_PORT"));
  Setup s;

  assert_no_error (error);
  cr_assert (replica_port > 0, "run with --topology replica");
  router->parent.funcs = &grouping_funcs;
  router->master = redis_pool_new (&config->endpoint, &config->connect, 4);
  redis_endpoint_init_tcp (&replica, "127.0.0.1", (guint16) replica_port);
  router->replica = redis_pool_new (&replica, &config->connect, 4);
  redis_endpoint_clear (&replica);
  s.router = router;
  s.impl = redis_backend_new_for_client (
      redis_client_new_with_router (config, &router->parent));
  s.desc = dogpile_backend_redis_get_desc ();
  return s;
}

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

TestSuite (redis_router);

Test (redis_router, multi_key_operations_split_by_group_and_reassemble)
{
  const char *expirations[] = { "0", "100" };

  for (gsize e = 0; e < G_N_ELEMENTS (expirations); e++)
    {
      Setup s = setup (expirations[e]);
      redisContext *raw = raw_connect ();
      enum { N = 37 };
      char *keys[N];
      GBytes *values[N];
      GBytes *got[N] = { NULL };
      g_autoptr (GError) error = NULL;
      long long mget, del, writes;
      const char *write_command = e == 0 ? "mset" : "exec";

      for (int i = 0; i < N; i++)
        {
          keys[i] = g_strdup_printf ("group-%d-%zu:%c", i, e,
                                     (char) ('a' + i % 26));
          values[i] = g_bytes_new (keys[i], strlen (keys[i]) - i % 3);
        }
      writes = calls_of (raw, write_command);
      cr_assert (s.desc->set_multi (s.impl, (const char *const *) keys, values,
                                    N, &error));
      assert_no_error (error);
      cr_assert_eq (calls_of (raw, write_command), writes + 5,
                    "one %s per group", write_command);
      if (e == 1)
        {
          long long ttl = raw_integer (raw, "TTL %s", keys[7]);

          cr_assert (ttl > 90 && ttl <= 100, "SETEX in every block");
        }
      /* Reads go to the replica: wait until it has the writes. */
      wait_for_replica (raw);
      mget = calls_of (raw, "mget");
      cr_assert (s.desc->get_multi (s.impl, (const char *const *) keys, N, got,
                                    &error));
      assert_no_error (error);
      cr_assert_gt (g_atomic_int_get (&s.router->routed_to_replica), 0);
      cr_assert_eq (calls_of (raw, "mget"), mget,
                    "the reads went to the replica, not the master");
      for (int i = 0; i < N; i++)
        {
          cr_assert (got[i] != NULL && g_bytes_equal (got[i], values[i]),
                     "slot %d", i);
          g_bytes_unref (got[i]);
        }
      del = calls_of (raw, "del");
      cr_assert (s.desc->delete_multi (s.impl, (const char *const *) keys, N,
                                       &error));
      cr_assert_eq (calls_of (raw, "del"), del + 5, "one DEL per group");
      for (int i = 0; i < N; i++)
        {
          cr_assert_eq (raw_integer (raw, "EXISTS %s", keys[i]), 0);
          g_free (keys[i]);
          g_bytes_unref (values[i]);
        }
      s.desc->destroy (s.impl);
      redisFree (raw);
    }
}

Test (redis_router, a_write_refused_by_a_replica_is_redirected)
{
  Setup s = setup ("0");
  redisContext *raw = raw_connect ();
  g_autofree char *key = redis_unique_key ("redirected");
  g_autoptr (GBytes) value = bytes_of ("to the master");
  const char *keys[] = { key };
  GBytes *values[] = { value };
  g_autoptr (GError) error = NULL;
  redisReply *reply;

  s.router->writes_to_replica = TRUE;
  cr_assert (s.desc->set (s.impl, key, value, &error));
  assert_no_error (error);
  cr_assert_eq (s.router->redirects, 1);
  reply = raw_command (raw, "GET %s", key);
  cr_assert_str_eq (reply->str, "to the master");
  freeReplyObject (reply);
  cr_assert (s.desc->set_multi (s.impl, keys, values, 1, &error));
  cr_assert (s.desc->delete (s.impl, key, &error));
  assert_no_error (error);
  cr_assert_eq (s.router->redirects, 3);
  cr_assert_eq (raw_integer (raw, "EXISTS %s", key), 0);
  s.desc->destroy (s.impl);
  redisFree (raw);
}

Test (redis_router, redirect_loops_are_bounded)
{
  Setup s = setup ("0");
  g_autoptr (GBytes) value = bytes_of ("v");
  g_autoptr (GError) error = NULL;

  s.router->writes_to_replica = TRUE;
  s.router->redirect_in_circles = TRUE;
  cr_assert_not (s.desc->set (s.impl, "circles", value, &error));
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (strstr (error->message, "redirections") != NULL, "%s",
             error->message);
  cr_assert_eq (s.router->redirects, REDIS_MAX_REDIRECTS + 1);
  s.desc->destroy (s.impl);
}

Test (redis_router, the_router_hears_of_a_closed_connection)
{
  Setup s = setup ("0");
  redisContext *raw = raw_connect ();
  g_autofree char *key = redis_unique_key ("killed");
  g_autoptr (GBytes) value = bytes_of ("v");
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;

  cr_assert (s.desc->set (s.impl, key, value, &error));
  /* The server closes every client connection but this one. */
  freeReplyObject (raw_command (raw, "CLIENT KILL TYPE normal SKIPME yes"));
  cr_assert (s.desc->set (s.impl, key, value, &error),
             "retried on a new connection: %s",
             error != NULL ? error->message : "");
  cr_assert_eq (s.router->closed_failures, 1);
  s.desc->destroy (s.impl);
  redisFree (raw);
}
