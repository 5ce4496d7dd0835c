/* redis-config.c: the backend arguments (spec 3.4), read and checked once.
 *
 * Names, defaults and precedence are dogpile.cache's:
 *  - `url` overrides host, port, db, username and password (they are not
 *    even passed on in Python); options in the URL's query override the
 *    separate arguments (redis-py's from_url);
 *  - socket_connect_timeout defaults to socket_timeout (redis-py);
 *  - the sentinel modes default distributed_lock to true and
 *    thread_local_lock to false.
 * Where Python has no timeout by default, this plugin has one (see
 * docs/redis.md): a silent server must not hang the caller.  Unknown
 * arguments are ignored, as in Python.
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-config.h"

#include <math.h>

static gboolean
invalid (GError **error, const char *name, const char *what, double value)
{
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "Argument '%s' must be %s, not %g", name, what, value);
  return FALSE;
}

/* A string argument that, when given, must say something: `host=` used to
 * be taken and fail at every call ("Cannot connect to Redis at :6379"). */
static gboolean
get_nonempty_string (GHashTable *arguments, const char *name,
                     const char *default_value, const char **out,
                     GError **error)
{
  const char *p;

  if (!dogpile_arguments_get_string (arguments, name, default_value, out,
                                     error))
    return FALSE;
  for (p = *out; p != NULL && g_ascii_isspace (*p); p++)
    ;
  if (*out != NULL && *out != default_value && *p == '\0')
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "Argument '%s' must not be empty: give a value, or leave "
                   "it out%s%s",
                   name, default_value != NULL ? " for " : "",
                   default_value != NULL ? default_value : "");
      return FALSE;
    }
  return TRUE;
}

/* A duration that must be positive (timeouts). */
static gboolean
get_positive_duration (GHashTable *arguments, const char *name,
                       double default_value, double *out, GError **error)
{
  return dogpile_arguments_get_duration_range (
      arguments, name, default_value, 0, 1e7, DOGPILE_ARGUMENTS_ABOVE_MIN, out,
      error);
}

/* A timeout from the URL's query, through the same check as the
 * argument (a value such as 1e300 or inf must fail here, not at a later
 * time_t cast or at the first call). */
static gboolean
check_url_timeout (const char *name, const char *text, double *out,
                   GError **error)
{
  g_autoptr (GHashTable) one = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (one, (gpointer) name, (gpointer) text);
  if (get_positive_duration (one, name, 0, out, error))
    return TRUE;
  g_prefix_error (error, "In the connection URL: ");
  return FALSE;
}

/* A duration that may be zero; @none_value (negative) when absent. */
static gboolean
get_non_negative_duration (GHashTable *arguments, const char *name,
                           double default_value, double *out, GError **error)
{
  if (!dogpile_arguments_get_duration (arguments, name, default_value, out,
                                       error))
    return FALSE;
  if (*out == default_value)
    return TRUE;
  if (!(*out >= 0) || *out > 1e9)
    return invalid (error, name, "zero or a positive number of seconds", *out);
  return TRUE;
}

static gboolean
parse_endpoint_list (GHashTable *arguments, const char *name,
                     guint16 default_port, RedisEndpoint **out, guint *out_n,
                     GError **error)
{
  g_auto (GStrv) items = NULL;
  guint n;

  if (!dogpile_arguments_dup_list (arguments, name, &items, error))
    return FALSE;
  n = g_strv_length (items);
  *out = g_new0 (RedisEndpoint, MAX (n, 1));
  *out_n = 0;
  for (guint i = 0; i < n; i++)
    {
      if (!redis_endpoint_parse (items[i], default_port, name, &(*out)[i],
                                 error))
        return FALSE;
      (*out_n)++;
    }
  return TRUE;
}

/* Connection arguments: url, or host/port/db/username/password. */
static gboolean
parse_connection (RedisConfig *config, GHashTable *arguments, GError **error)
{
  RedisConnectOptions *c = &config->connect;
  const char *url = NULL, *host = NULL, *username = NULL, *password = NULL;
  gboolean ssl = FALSE;
  gint64 port, db, pool_size;
  double socket_timeout;
  RedisUrl parsed = { 0 };

  c->product = config->variant->product;
  if (!dogpile_arguments_get_boolean (arguments, "ssl", FALSE, &ssl, error))
    return FALSE;
  if (ssl)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "Argument 'ssl' asks for TLS, and this plugin is built on "
                   "hiredis 0.14, which has no TLS support; refusing to "
                   "connect in plaintext. Use a local TLS tunnel (e.g. "
                   "stunnel) to the %s server and connect to that.",
                   config->variant->product);
      return FALSE;
    }

  if (!get_nonempty_string (arguments, "url", NULL, &url, error)
      || !get_nonempty_string (arguments, "host", "localhost", &host, error)
      || !dogpile_arguments_get_int (arguments, "port", REDIS_DEFAULT_PORT,
                                     &port, error)
      || !dogpile_arguments_get_int (arguments, "db", 0, &db, error)
      || !dogpile_arguments_get_string (arguments, "username", NULL, &username,
                                        error)
      || !dogpile_arguments_get_string (arguments, "password", NULL, &password,
                                        error)
      || !get_positive_duration (arguments, "socket_timeout",
                                 REDIS_DEFAULT_SOCKET_TIMEOUT, &socket_timeout,
                                 error)
      || !get_positive_duration (arguments, "socket_connect_timeout",
                                 socket_timeout, &c->connect_timeout, error)
      || !dogpile_arguments_get_boolean (arguments, "socket_keepalive", FALSE,
                                         &c->keepalive, error)
      || !dogpile_arguments_get_int (arguments, "connection_pool_size",
                                     REDIS_DEFAULT_POOL_SIZE, &pool_size,
                                     error)
      || !dogpile_arguments_get_int_range (
          arguments, "busy_poll", REDIS_DEFAULT_BUSY_POLL_US, 0,
          REDIS_MAX_BUSY_POLL_US, &c->busy_poll_us, error))
    return FALSE;
  c->socket_timeout = socket_timeout;

  if (dogpile_arguments_has (arguments, "url")
      && config->variant->mode != REDIS_MODE_SENTINEL)
    {
      g_autofree char *stripped = g_strstrip (g_strdup (url));
      g_autofree char *timeout_text = NULL, *connect_text = NULL;

      if (!redis_url_parse (stripped, config->variant->product, &parsed,
                            error))
        return FALSE;
      timeout_text = g_steal_pointer (&parsed.socket_timeout_text);
      connect_text = g_steal_pointer (&parsed.connect_timeout_text);
      config->endpoint = parsed.endpoint;
      c->username = g_steal_pointer (&parsed.username);
      c->password = g_steal_pointer (&parsed.password);
      db = parsed.has_db ? parsed.db : 0;
      if (parsed.has_socket_timeout
          && !check_url_timeout ("socket_timeout", timeout_text,
                                 &c->socket_timeout, error))
        return FALSE;
      if (parsed.has_connect_timeout)
        {
          if (!check_url_timeout ("socket_connect_timeout", connect_text,
                                  &c->connect_timeout, error))
            return FALSE;
        }
      else if (parsed.has_socket_timeout
               && !dogpile_arguments_has (arguments, "socket_connect_timeout"))
        c->connect_timeout = c->socket_timeout;
      if (parsed.has_keepalive)
        c->keepalive = parsed.keepalive;
      if (parsed.has_max_connections)
        pool_size = parsed.max_connections;
      if (!(c->socket_timeout > 0))
        return invalid (error, "socket_timeout",
                        "a positive number of seconds", c->socket_timeout);
      if (!(c->connect_timeout > 0))
        return invalid (error, "socket_connect_timeout",
                        "a positive number of seconds", c->connect_timeout);
    }
  else
    {
      if (port < 1 || port > 65535)
        return invalid (error, "port", "a TCP port (1 to 65535)",
                        (double) port);
      redis_endpoint_init_tcp (&config->endpoint, host, (guint16) port);
      c->username = username != NULL && username[0] != '\0'
                        ? g_strdup (username)
                        : NULL;
      c->password = password != NULL && password[0] != '\0'
                        ? g_strdup (password)
                        : NULL;
    }
  if (db < 0)
    return invalid (error, "db", "a database number (0 or more)", (double) db);
  c->db = db;
  if (pool_size < 1 || pool_size > 100000)
    return invalid (error, "connection_pool_size", "between 1 and 100000",
                    (double) pool_size);
  config->pool_size = (guint) pool_size;
  return TRUE;
}

/* The lock's times.  Python's defaults (no expiry, no limit on a wait)
 * make one process killed while creating block its key in every process
 * for ever, so ours are finite (docs/redis.md): the lock expires after
 * REDIS_DEFAULT_LOCK_TIMEOUT, and a waiter gives up with
 * DOGPILE_ERROR_LOCK (the core then never creates unlocked; with a stale
 * value it never waits) after twice lock_timeout -- the dead holder's
 * lock expiring, then one whole creation by whoever takes it next -- and
 * never before 60 s, since waiters may queue for several creations in
 * turn.  "none" (or lock_timeout 0) spelt out is Python's "for ever",
 * with a warning. */
static gboolean
parse_lock_times (RedisConfig *config, GHashTable *arguments, GError **error)
{
  const char *backend = config->variant->backend_name;

  if (dogpile_arguments_is_none (arguments, "lock_timeout"))
    config->lock_timeout = 0;
  else if (!get_non_negative_duration (arguments, "lock_timeout",
                                       REDIS_DEFAULT_LOCK_TIMEOUT,
                                       &config->lock_timeout, error))
    return FALSE;
  /* PX takes whole milliseconds; Python would send PX 0 and fail later. */
  if (config->lock_timeout > 0 && config->lock_timeout < 0.001)
    return invalid (error, "lock_timeout",
                    "0 (no expiry) or at least 0.001 seconds",
                    config->lock_timeout);
  if (dogpile_arguments_is_none (arguments, "lock_blocking_timeout"))
    config->lock_blocking_timeout = -1;
  else if (!dogpile_arguments_has (arguments, "lock_blocking_timeout"))
    config->lock_blocking_timeout
        = MAX (2 * REDIS_DEFAULT_LOCK_TIMEOUT, 2 * config->lock_timeout);
  else if (!get_non_negative_duration (arguments, "lock_blocking_timeout", -1,
                                       &config->lock_blocking_timeout, error))
    return FALSE;

  if (!config->distributed_lock)
    return TRUE;
  if (config->lock_timeout == 0)
    g_warning ("%s: distributed_lock is on and lock_timeout is none, so a "
               "process that dies while creating a value leaves its lock "
               "for ever, and every later caller of that key without a "
               "stale value waits lock_blocking_timeout and fails; set "
               "lock_timeout to a little more than the longest creation "
               "time, or leave it out for %g s (docs/redis.md)",
               backend, REDIS_DEFAULT_LOCK_TIMEOUT);
  if (config->lock_blocking_timeout < 0)
    g_warning ("%s: distributed_lock is on and lock_blocking_timeout is "
               "none, so a caller waiting for a lock that is never released "
               "waits for ever; leave it out for twice lock_timeout, at "
               "least 60 s (docs/redis.md)",
               backend);
  return TRUE;
}

static gboolean
parse_lock (RedisConfig *config, GHashTable *arguments, GError **error)
{
  gboolean sentinel = config->variant->mode == REDIS_MODE_SENTINEL;
  const char *prefix = NULL;

  if (!dogpile_arguments_get_boolean (arguments, "distributed_lock", sentinel,
                                      &config->distributed_lock, error)
      || !dogpile_arguments_get_boolean (arguments, "thread_local_lock",
                                         !sentinel, &config->thread_local_lock,
                                         error)
      || !dogpile_arguments_get_boolean (arguments, "lock_blocking", TRUE,
                                         &config->lock_blocking, error)
      || !get_non_negative_duration (arguments, "lock_sleep", 0.1,
                                     &config->lock_sleep, error)
      || !parse_lock_times (config, arguments, error)
      || !dogpile_arguments_get_string (arguments, "lock_prefix", NULL,
                                        &prefix, error))
    return FALSE;
  if (prefix == NULL || prefix[0] == '\0')
    prefix = REDIS_DEFAULT_LOCK_PREFIX;
  else if (!redis_lock_prefix_is_valid (prefix))
    {
      /* valkey.py leaves the value out of its message. */
      if (strcmp (config->variant->product, "Valkey") == 0)
        g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                             "Invalid `lock_prefix` submitted.");
      else
        g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                     "Invalid `lock_prefix` submitted: `%s`.", prefix);
      return FALSE;
    }
  config->lock_prefix = g_strdup (prefix);
  return TRUE;
}

static gboolean
parse_expiration (RedisConfig *config, GHashTable *arguments, GError **error)
{
  const char *name = config->variant->expiration_argument;
  double seconds;

  if (!dogpile_arguments_get_duration (arguments, name, 0, &seconds, error))
    return FALSE;
  /* SETEX takes whole seconds; Python would send a float and fail on the
   * first write. */
  if (seconds < 0 || seconds != floor (seconds)
      || seconds > (double) G_MAXINT32)
    return invalid (error, name, "a whole number of seconds (0: no expiry)",
                    seconds);
  config->expiration_time = (gint64) seconds;
  return TRUE;
}

static gboolean
parse_sentinel (RedisConfig *config, GHashTable *arguments, GError **error)
{
  const char *service_name = NULL, *username = NULL, *password = NULL;

  if (!parse_endpoint_list (arguments, "sentinels",
                            REDIS_DEFAULT_SENTINEL_PORT, &config->sentinels,
                            &config->n_sentinels, error)
      || !dogpile_arguments_get_string (arguments, "service_name",
                                        REDIS_DEFAULT_SERVICE_NAME,
                                        &service_name, error)
      || !dogpile_arguments_get_string (arguments, "sentinel_username",
                                        config->connect.username, &username,
                                        error)
      || !dogpile_arguments_get_string (arguments, "sentinel_password",
                                        config->connect.password, &password,
                                        error)
      || !dogpile_arguments_get_boolean (arguments, "read_from_replicas",
                                         FALSE, &config->read_from_replicas,
                                         error))
    return FALSE;
  if (config->n_sentinels == 0)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "Argument 'sentinels' is required for %s: the sentinels' "
                   "addresses as host:port, separated by commas",
                   config->variant->backend_name);
      return FALSE;
    }
  if (service_name[0] == '\0')
    {
      g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                           "Argument 'service_name' must not be empty");
      return FALSE;
    }
  config->service_name = g_strdup (service_name);
  config->sentinel_username = g_strdup (username);
  config->sentinel_password = g_strdup (password);
  return TRUE;
}

static gboolean
parse_cluster (RedisConfig *config, GHashTable *arguments, GError **error)
{
  if (!parse_endpoint_list (arguments, "startup_nodes", REDIS_DEFAULT_PORT,
                            &config->startup_nodes, &config->n_startup_nodes,
                            error))
    return FALSE;
  /* Without startup_nodes the url names the one node to start from. */
  if (config->n_startup_nodes == 0 && dogpile_arguments_has (arguments, "url"))
    {
      redis_endpoint_copy (&config->startup_nodes[0], &config->endpoint);
      config->n_startup_nodes = 1;
    }
  if (config->n_startup_nodes == 0)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "%s needs 'startup_nodes' (host:port, separated by "
                   "commas) or a 'url' of one node of the cluster",
                   config->variant->backend_name);
      return FALSE;
    }
  if (config->connect.db != 0)
    return invalid (error, "db", "0 (a cluster has only database 0)",
                    (double) config->connect.db);
  return TRUE;
}

/**
 * redis_config_new:
 * @variant: the registered name being configured
 * @arguments: (nullable): the backend arguments; not modified
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the configuration, or %NULL with
 * %DOGPILE_ERROR_VALIDATION naming the argument.
 */
RedisConfig *
redis_config_new (const RedisVariant *variant, GHashTable *arguments,
                  GError **error)
{
  g_autoptr (RedisConfig) config = g_new0 (RedisConfig, 1);

  config->variant = variant;
  if (!parse_connection (config, arguments, error)
      || !parse_expiration (config, arguments, error)
      || !parse_lock (config, arguments, error))
    return NULL;
  if (variant->mode == REDIS_MODE_SENTINEL
      && !parse_sentinel (config, arguments, error))
    return NULL;
  if (variant->mode == REDIS_MODE_CLUSTER
      && !parse_cluster (config, arguments, error))
    return NULL;
  return g_steal_pointer (&config);
}

static void
free_endpoints (RedisEndpoint *endpoints, guint n)
{
  for (guint i = 0; i < n; i++)
    redis_endpoint_clear (&endpoints[i]);
  g_free (endpoints);
}

void
redis_config_free (RedisConfig *config)
{
  if (config == NULL)
    return;
  redis_endpoint_clear (&config->endpoint);
  g_free (config->connect.username);
  g_free (config->connect.password);
  g_free (config->lock_prefix);
  free_endpoints (config->sentinels, config->n_sentinels);
  g_free (config->service_name);
  g_free (config->sentinel_username);
  g_free (config->sentinel_password);
  free_endpoints (config->startup_nodes, config->n_startup_nodes);
  g_free (config);
}
