/* test-redis-config.c: the redis plugin's arguments, URLs and lock
 * prefixes (spec 3.4), checked on the parser itself (built into this
 * program from plugins/redis) and, for what users see, through
 * dogpile_backend_new.  No server needed: nothing connects at configure
 * time.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>

#include "redis-config.h"
#include "test-util.h"

static const RedisVariant redis_variant
    = { "dogpile.cache.redis", "Redis", "redis_expiration_time",
        REDIS_MODE_SINGLE };
static const RedisVariant valkey_variant
    = { "dogpile.cache.valkey", "Valkey", "valkey_expiration_time",
        REDIS_MODE_SINGLE };
static const RedisVariant sentinel_variant
    = { "dogpile.cache.redis_sentinel", "Redis", "redis_expiration_time",
        REDIS_MODE_SENTINEL };
static const RedisVariant cluster_variant
    = { "dogpile.cache.redis_cluster", "Redis", "redis_expiration_time",
        REDIS_MODE_CLUSTER };

static RedisConfig *
config_ok (const RedisVariant *variant, GHashTable *arguments)
{
  g_autoptr (GError) error = NULL;
  RedisConfig *config = redis_config_new (variant, arguments, &error);

  assert_no_error (error);
  cr_assert_not_null (config);
  return config;
}

static void
config_fails (const RedisVariant *variant, GHashTable *arguments,
              const char *expected_fragment)
{
  g_autoptr (GError) error = NULL;
  RedisConfig *config = redis_config_new (variant, arguments, &error);

  cr_assert_null (config);
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, expected_fragment) != NULL,
             "'%s' not in '%s'", expected_fragment, error->message);
}

TestSuite (redis_config);

Test (redis_config, defaults_are_python_s_with_timeouts)
{
  g_autoptr (RedisConfig) c = config_ok (&redis_variant, NULL);

  cr_assert_str_eq (c->endpoint.host, "localhost");
  cr_assert_eq (c->endpoint.port, 6379);
  cr_assert_null (c->endpoint.path);
  cr_assert_str_eq (c->endpoint.display, "localhost:6379");
  cr_assert_eq (c->connect.db, 0);
  cr_assert_null (c->connect.username);
  cr_assert_null (c->connect.password);
  cr_assert_float_eq (c->connect.socket_timeout, REDIS_DEFAULT_SOCKET_TIMEOUT,
                      1e-9);
  cr_assert_float_eq (c->connect.connect_timeout, REDIS_DEFAULT_SOCKET_TIMEOUT,
                      1e-9);
  cr_assert_not (c->connect.keepalive);
  cr_assert_eq (c->pool_size, REDIS_DEFAULT_POOL_SIZE);
  cr_assert_eq (c->connect.busy_poll_us, REDIS_DEFAULT_BUSY_POLL_US);
  cr_assert_eq (c->expiration_time, 0);
  cr_assert_not (c->distributed_lock);
  cr_assert (c->thread_local_lock);
  cr_assert (c->lock_blocking);
  cr_assert_str_eq (c->lock_prefix, "_lock");
  cr_assert_float_eq (c->lock_sleep, 0.1, 1e-12);
  /* Finite, unlike Python's (docs/differences.md, issue 11). */
  cr_assert_float_eq (c->lock_timeout, REDIS_DEFAULT_LOCK_TIMEOUT, 1e-12);
  cr_assert_float_eq (c->lock_blocking_timeout, 2 * REDIS_DEFAULT_LOCK_TIMEOUT,
                      1e-12);
}

Test (redis_config, separate_arguments)
{
  g_autoptr (GHashTable) a = arguments_of (
      "host", "127.0.0.1", "port", "6380", "db", "4", "username", "u",
      "password", "p", "socket_timeout", "0.25", "socket_keepalive", "true",
      "connection_pool_size", "3", "redis_expiration_time", "120", "busy_poll",
      "0", "distributed_lock", "True", "lock_timeout", "7", "lock_sleep",
      "0.05", "lock_blocking_timeout", "2", "lock_prefix", "_lok.",
      "thread_local_lock", "false", "foo", "barf", NULL);
  g_autoptr (RedisConfig) c = config_ok (&redis_variant, a);

  cr_assert_str_eq (c->endpoint.display, "127.0.0.1:6380");
  cr_assert_eq (c->connect.db, 4);
  cr_assert_str_eq (c->connect.username, "u");
  cr_assert_str_eq (c->connect.password, "p");
  cr_assert_eq (c->connect.busy_poll_us, 0);
  cr_assert_float_eq (c->connect.socket_timeout, 0.25, 1e-12);
  /* redis-py: socket_connect_timeout or socket_timeout */
  cr_assert_float_eq (c->connect.connect_timeout, 0.25, 1e-12);
  cr_assert (c->connect.keepalive);
  cr_assert_eq (c->pool_size, 3);
  cr_assert_eq (c->expiration_time, 120);
  cr_assert (c->distributed_lock);
  cr_assert_not (c->thread_local_lock);
  cr_assert_float_eq (c->lock_timeout, 7, 1e-12);
  cr_assert_float_eq (c->lock_sleep, 0.05, 1e-12);
  cr_assert_float_eq (c->lock_blocking_timeout, 2, 1e-12);
  cr_assert_str_eq (c->lock_prefix, "_lok.");
}

Test (redis_config, connect_timeout_of_its_own)
{
  g_autoptr (GHashTable) a = arguments_of (
      "socket_timeout", "3", "socket_connect_timeout", "250ms", NULL);
  g_autoptr (RedisConfig) c = config_ok (&redis_variant, a);

  cr_assert_float_eq (c->connect.socket_timeout, 3, 1e-12);
  cr_assert_float_eq (c->connect.connect_timeout, 0.25, 1e-12);
}

Test (redis_config, url_overrides_separate_arguments)
{
  g_autoptr (GHashTable) a = arguments_of (
      "url",
      "redis://alice:s%40cret@[::1]:6390/2?socket_timeout=1.5"
      "&max_connections=7&socket_keepalive=yes&db=5&db=9&extra=1",
      "host", "ignored", "port", "1", "db", "8", "username", "bob", "password",
      "nope", "socket_timeout", "9", NULL);
  g_autoptr (RedisConfig) c = config_ok (&redis_variant, a);

  cr_assert_str_eq (c->endpoint.host, "::1");
  cr_assert_eq (c->endpoint.port, 6390);
  cr_assert_str_eq (c->endpoint.display, "[::1]:6390");
  cr_assert_str_eq (c->connect.username, "alice");
  cr_assert_str_eq (c->connect.password, "s@cret");
  cr_assert_eq (c->connect.db, 5,
                "the query's db wins over the path, "
                "and its first value over the next");
  cr_assert_float_eq (c->connect.socket_timeout, 1.5, 1e-12);
  cr_assert_float_eq (c->connect.connect_timeout, 1.5, 1e-12);
  cr_assert (c->connect.keepalive);
  cr_assert_eq (c->pool_size, 7);
}

/* Both timeouts in the query: each its own (the connect timeout follows
 * the socket timeout only when neither gives it). */
Test (redis_config, url_gives_both_timeouts)
{
  g_autoptr (GHashTable) a = arguments_of (
      "url", "redis://h/?socket_timeout=2&socket_connect_timeout=0.5", NULL);
  g_autoptr (RedisConfig) c = config_ok (&redis_variant, a);

  cr_assert_float_eq (c->connect.socket_timeout, 2, 1e-12);
  cr_assert_float_eq (c->connect.connect_timeout, 0.5, 1e-12);
}

Test (redis_config, url_defaults)
{
  g_autoptr (GHashTable) a = arguments_of ("url", "redis://", "db", "3", NULL);
  g_autoptr (RedisConfig) c = config_ok (&redis_variant, a);

  cr_assert_str_eq (c->endpoint.display, "localhost:6379");
  cr_assert_eq (c->connect.db, 0, "with a url, db is not passed on");
}

Test (redis_config, url_path_that_is_no_number_is_ignored)
{
  g_autoptr (GHashTable) a = arguments_of ("url", "redis://h:1/x?", NULL);
  g_autoptr (RedisConfig) c = config_ok (&redis_variant, a);

  cr_assert_eq (c->connect.db, 0);
  cr_assert_str_eq (c->endpoint.display, "h:1");
}

Test (redis_config, unix_url)
{
  g_autoptr (GHashTable) a = arguments_of (
      "url", "unix://:pw@/run/redis/redis%20x.sock?db=2", NULL);
  g_autoptr (RedisConfig) c = config_ok (&redis_variant, a);

  cr_assert_null (c->endpoint.host);
  cr_assert_str_eq (c->endpoint.path, "/run/redis/redis x.sock");
  cr_assert_str_eq (c->endpoint.display, "/run/redis/redis x.sock");
  cr_assert_eq (c->connect.db, 2);
  cr_assert_null (c->connect.username);
  cr_assert_str_eq (c->connect.password, "pw");
}

Test (redis_config, valkey_scheme)
{
  g_autoptr (GHashTable) a = arguments_of ("url", "valkey://h:7000/1", NULL);
  g_autoptr (RedisConfig) c = config_ok (&valkey_variant, a);

  cr_assert_str_eq (c->endpoint.display, "h:7000");
  cr_assert_eq (c->connect.db, 1);
}

Test (redis_config, bad_urls)
{
  struct {
    const char *url;
    const char *fragment;
  } cases[] = {
    { "rediss://h:6380", "hiredis 0.14" },
    { "valkeys://h", "no TLS support" },
    { "http://h", "must specify one of the following schemes" },
    { "localhost:6379", "must specify one of the following schemes" },
    { "redis://h:99999", "Invalid connection URL" },
    { "redis://h/?db=x", "Invalid value for `db` in connection URL." },
    { "redis://h/?socket_timeout=soon", "Invalid value for `socket_timeout`" },
    { "redis://h/?socket_timeout=-1", "socket_timeout" },
    /* the same range as the argument: 1e300 reached a time_t cast, inf
     * failed only at the first call, 1e10 was taken */
    { "redis://h/?socket_timeout=1e300",
      "In the connection URL: Argument 'socket_timeout' must be a duration "
      "above 0 and at most 1e+07 seconds, not '1e300'" },
    { "redis://h/?socket_timeout=inf", "Argument 'socket_timeout' must be" },
    { "redis://h/?socket_timeout=nan", "Argument 'socket_timeout' must be" },
    { "redis://h/?socket_timeout=1e10", "at most 1e+07 seconds" },
    { "redis://h/?socket_connect_timeout=1e300",
      "Argument 'socket_connect_timeout' must be" },
    { "unix://", "needs a socket path" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GHashTable) a = arguments_of ("url", cases[i].url, NULL);

      config_fails (&redis_variant, a, cases[i].fragment);
    }
}

Test (redis_config, ssl_is_refused_not_ignored)
{
  g_autoptr (GHashTable) yes = arguments_of ("ssl", "true", NULL);
  g_autoptr (GHashTable) no = arguments_of ("ssl", "false", NULL);
  g_autoptr (RedisConfig) c = NULL;

  config_fails (&redis_variant, yes, "no TLS support");
  c = config_ok (&redis_variant, no);
}

Test (redis_config, bad_values_name_the_argument)
{
  struct {
    const char *name;
    const char *value;
  } cases[] = {
    { "port", "0" },
    { "port", "65536" },
    { "port", "http" },
    { "db", "-1" },
    { "socket_timeout", "0" },
    { "socket_timeout", "-2" },
    { "socket_connect_timeout", "0" },
    { "connection_pool_size", "0" },
    { "busy_poll", "-1" },
    { "busy_poll", "10001" },
    { "busy_poll", "50us" },
    { "redis_expiration_time", "1.5" },
    { "redis_expiration_time", "-1" },
    { "lock_timeout", "0.0005" },
    { "lock_timeout", "-1" },
    { "lock_sleep", "-0.1" },
    { "lock_blocking_timeout", "-5" },
    { "distributed_lock", "maybe" },
    { "socket_keepalive", "2" },
    /* configure time, not "Cannot connect to Redis at :6379" per call */
    { "host", "" },
    { "host", "  " },
    { "url", "" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GHashTable) a
          = arguments_of (cases[i].name, cases[i].value, NULL);

      config_fails (&redis_variant, a, cases[i].name);
    }
}

Test (redis_config, expiration_argument_follows_the_name)
{
  g_autoptr (GHashTable) a = arguments_of (
      "redis_expiration_time", "60", "valkey_expiration_time", "90", NULL);
  g_autoptr (RedisConfig) redis = config_ok (&redis_variant, a);
  g_autoptr (RedisConfig) valkey = config_ok (&valkey_variant, a);
  g_autoptr (GHashTable) whole
      = arguments_of ("redis_expiration_time", "2h", NULL);
  g_autoptr (RedisConfig) hours = config_ok (&redis_variant, whole);

  cr_assert_eq (redis->expiration_time, 60);
  cr_assert_eq (valkey->expiration_time, 90);
  cr_assert_eq (hours->expiration_time, 7200);
}

Test (redis_config, lock_prefix_as_python_validates_it)
{
  const char *valid[] = { "_l",
                          "_lok.",
                          "a-b.c:d_e",
                          "0123456789",
                          "\xc3\xa9t\xc3\xa9", /* "été": \w is Unicode */
                          "ab\n" /* re's $ matches before a final \n */ };
  const char *invalid[] = { "x",      "01234567890", "a b",     "a/b", "{tag}",
                            "ab\n\n", "\xff\xfe",    "\xc3\xa9" /* 1 char */ };

  for (gsize i = 0; i < G_N_ELEMENTS (valid); i++)
    cr_assert (redis_lock_prefix_is_valid (valid[i]), "'%s'", valid[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (invalid); i++)
    cr_assert_not (redis_lock_prefix_is_valid (invalid[i]), "'%s'",
                   invalid[i]);
}

Test (redis_config, lock_prefix_messages)
{
  g_autoptr (GHashTable) a = arguments_of ("lock_prefix", "no way", NULL);
  g_autoptr (GHashTable) empty = arguments_of ("lock_prefix", "", NULL);
  g_autoptr (RedisConfig) c = NULL;
  g_autoptr (GError) error = NULL;
  RedisConfig *none;

  config_fails (&redis_variant, a,
                "Invalid `lock_prefix` submitted: "
                "`no way`.");
  none = redis_config_new (&valkey_variant, a, &error);
  cr_assert_null (none);
  cr_assert_str_eq (error->message, "Invalid `lock_prefix` submitted.");
  /* Python: `if lock_prefix:` -- an empty one means the default. */
  c = config_ok (&redis_variant, empty);
  cr_assert_str_eq (c->lock_prefix, "_lock");
}

Test (redis_config, sentinel_arguments)
{
  g_autoptr (GHashTable) a = arguments_of (
      "sentinels", "127.0.0.1:26380, [::1]:26381 sentinel-host",
      "service_name", "pifpaf", "password", "p", "db", "2",
      "read_from_replicas", "true", "url", "rediss://ignored", NULL);
  g_autoptr (RedisConfig) c = config_ok (&sentinel_variant, a);

  cr_assert_eq (c->n_sentinels, 3);
  cr_assert_str_eq (c->sentinels[0].display, "127.0.0.1:26380");
  cr_assert_str_eq (c->sentinels[1].host, "::1");
  cr_assert_eq (c->sentinels[1].port, 26381);
  cr_assert_str_eq (c->sentinels[2].display, "sentinel-host:26379");
  cr_assert_str_eq (c->service_name, "pifpaf");
  cr_assert_str_eq (c->sentinel_password, "p",
                    "sentinel credentials default to the server's");
  cr_assert_null (c->sentinel_username);
  cr_assert (c->read_from_replicas);
  cr_assert_eq (c->connect.db, 2);
  /* Python's sentinel defaults */
  cr_assert (c->distributed_lock);
  cr_assert_not (c->thread_local_lock);
}

Test (redis_config, sentinel_needs_sentinels)
{
  g_autoptr (GHashTable) bad = arguments_of ("sentinels", "h:port", NULL);
  g_autoptr (GHashTable) own = arguments_of (
      "sentinels", "h", "sentinel_username", "su", "sentinel_password", "sp",
      "distributed_lock", "false", NULL);
  g_autoptr (RedisConfig) c = NULL;

  config_fails (&sentinel_variant, NULL, "'sentinels' is required");
  config_fails (&sentinel_variant, bad, "not a server address");
  c = config_ok (&sentinel_variant, own);
  cr_assert_str_eq (c->service_name, "mymaster");
  cr_assert_str_eq (c->sentinel_username, "su");
  cr_assert_str_eq (c->sentinel_password, "sp");
  cr_assert_not (c->distributed_lock);
  cr_assert_not (c->read_from_replicas);
}

Test (redis_config, cluster_arguments)
{
  g_autoptr (GHashTable) nodes
      = arguments_of ("startup_nodes", "127.0.0.1:7000,127.0.0.1:7001", NULL);
  g_autoptr (GHashTable) url = arguments_of ("url", "redis://n1:7005", NULL);
  g_autoptr (GHashTable) db
      = arguments_of ("startup_nodes", "n:1", "db", "1", NULL);
  g_autoptr (RedisConfig) a = config_ok (&cluster_variant, nodes);
  g_autoptr (RedisConfig) b = config_ok (&cluster_variant, url);

  cr_assert_eq (a->n_startup_nodes, 2);
  cr_assert_str_eq (a->startup_nodes[1].display, "127.0.0.1:7001");
  cr_assert_eq (b->n_startup_nodes, 1);
  cr_assert_str_eq (b->startup_nodes[0].display, "n1:7005");
  config_fails (&cluster_variant, NULL, "needs 'startup_nodes'");
  config_fails (&cluster_variant, db, "only database 0");
}

Test (redis_config, endpoints)
{
  RedisEndpoint e = { 0 };
  g_autoptr (GError) error = NULL;

  cr_assert (redis_endpoint_parse ("/tmp/r.sock", 1, "x", &e, NULL));
  cr_assert_str_eq (e.path, "/tmp/r.sock");
  redis_endpoint_clear (&e);
  cr_assert (redis_endpoint_parse ("[fe80::1]", 9, "x", &e, NULL));
  cr_assert_str_eq (e.display, "[fe80::1]:9");
  redis_endpoint_clear (&e);
  cr_assert_not (redis_endpoint_parse ("fe80::1", 9, "nodes", &e, &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, "'nodes'") != NULL);
  g_clear_error (&error);
  cr_assert_not (redis_endpoint_parse ("h:0", 9, "x", &e, &error));
  g_clear_error (&error);
  cr_assert_not (redis_endpoint_parse (":80", 9, "x", &e, &error));
}

/* What a user sees through the registry: the plugin loads and checks the
 * arguments of every mode. */
TestSuite (redis_backend_create);

static GError *
create_error (const char *name, GHashTable *arguments)
{
  GError *error = NULL;
  DogpileBackend *backend = dogpile_backend_new (name, arguments, &error);

  cr_assert_null (backend);
  return error;
}

Test (redis_backend_create, configures_without_a_server)
{
  /* No server on port 1: configure() does not connect (as redis-py). */
  g_autoptr (GHashTable) a
      = arguments_of ("host", "127.0.0.1", "port", "1", NULL);
  const char *names[] = { "dogpile.cache.redis", "dogpile.cache.valkey" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (DogpileBackend) b = dogpile_backend_new (names[i], a, &error);
      g_autoptr (GBytes) got = NULL;

      assert_no_error (error);
      cr_assert_str_eq (dogpile_backend_get_name (b), names[i]);
      /* ... and the first call says what is wrong, with the address. */
      cr_assert_not (dogpile_backend_get (b, "k", &got, &error));
      assert_error (error, DOGPILE_ERROR_BACKEND);
      cr_assert (strstr (error->message, "127.0.0.1:1") != NULL, "%s",
                 error->message);
      cr_assert (strstr (error->message, i == 0 ? "Redis" : "Valkey") != NULL,
                 "%s", error->message);
    }
}

Test (redis_backend_create, sentinel_and_cluster_configure_without_a_server)
{
  /* Nothing listens on port 1: configuring connects to nothing; the
   * first call names the sentinel or node it could not reach, in the
   * product's words. */
  struct {
    const char *name;
    const char *argument;
    const char *fragment;
  } cases[] = {
    { "dogpile.cache.redis_sentinel", "sentinels",
      "Redis Sentinel: cannot find the master of 'mymaster': sentinel "
      "127.0.0.1:1: Cannot connect to Redis at 127.0.0.1:1" },
    { "dogpile.cache.valkey_sentinel", "sentinels",
      "Valkey Sentinel: cannot find the master of 'mymaster': sentinel "
      "127.0.0.1:1: Cannot connect to Valkey at 127.0.0.1:1" },
    { "dogpile.cache.redis_cluster", "startup_nodes",
      "Redis Cluster: cannot read the slot map (CLUSTER SLOTS) from any "
      "node: Cannot connect to Redis at 127.0.0.1:1" },
    { "dogpile.cache.valkey_cluster", "startup_nodes",
      "Valkey Cluster: cannot read the slot map (CLUSTER SLOTS) from any "
      "node: Cannot connect to Valkey at 127.0.0.1:1" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GHashTable) a
          = arguments_of (cases[i].argument, "127.0.0.1:1", NULL);
      g_autoptr (GHashTable) bad = arguments_of (
          cases[i].argument, "127.0.0.1:1", "lock_prefix", "?", NULL);
      g_autoptr (GError) argument_error = create_error (cases[i].name, bad);
      g_autoptr (GError) error = NULL;
      g_autoptr (DogpileBackend) b
          = dogpile_backend_new (cases[i].name, a, &error);
      g_autoptr (GBytes) got = NULL;

      assert_no_error (error);
      cr_assert_str_eq (dogpile_backend_get_name (b), cases[i].name);
      cr_assert_not (dogpile_backend_get (b, "k", &got, &error));
      assert_error (error, DOGPILE_ERROR_BACKEND);
      cr_assert (strstr (error->message, cases[i].fragment) != NULL, "%s",
                 error->message);
      /* Arguments are still checked when configuring. */
      assert_error (argument_error, DOGPILE_ERROR_VALIDATION);
      cr_assert (strstr (argument_error->message, "lock_prefix") != NULL, "%s",
                 argument_error->message);
    }
}

Test (redis_backend_create, validation_errors_reach_the_caller)
{
  g_autoptr (GHashTable) a = arguments_of ("socket_timeout", "never", NULL);
  g_autoptr (GError) error = create_error ("dogpile.cache.redis", a);

  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, "socket_timeout") != NULL, "%s",
             error->message);
}
