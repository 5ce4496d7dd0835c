/* fuzz-redis-url.c: the Redis plugin's parsers of what a user writes
 * (plugins/redis/redis-url.c, redis-config.c): the input's first line as
 * a connection URL (redis_url_parse) and as a server address
 * (redis_endpoint_parse), and every "name=value" line of it as the
 * backend arguments of each of the three modes (redis_config_new).
 *
 * Invariants besides not crashing:
 *  - a URL parsed, written out again (every part percent-encoded, the db
 *    and the options in the query) and parsed, gives the same server,
 *    credentials and options;
 *  - an address parsed, written as host:port, [v6]:port or the path and
 *    parsed, gives the same endpoint, whose display form it is;
 *  - a configuration accepted is within the documented bounds: timeouts
 *    finite, above 0 and at most 1e7 s, a pool of 1 to 100000, a port,
 *    a database >= 0, a valid lock prefix, SETEX seconds from 0 to 2^31-1;
 *  - every error has a message.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz-common.h"

#include <math.h>

#include "redis-config.h"

static const RedisVariant variants[] = {
  { "dogpile.cache.redis", "Redis", "redis_expiration_time",
    REDIS_MODE_SINGLE },
  { "dogpile.cache.redis_sentinel", "Redis", "redis_expiration_time",
    REDIS_MODE_SENTINEL },
  { "dogpile.cache.valkey_cluster", "Valkey", "valkey_expiration_time",
    REDIS_MODE_CLUSTER },
};

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

static void
check_error (const GError *error, const char *what)
{
  fuzz_assert (error != NULL && error->message != NULL
                   && error->message[0] != '\0',
               "%s failed without a message", what);
}

static char *
escaped (const char *text, const char *allowed)
{
  return g_uri_escape_string (text, allowed, FALSE);
}

/* @url as a URL again: canonical, every option in the query.  NULL for
 * what cannot be written so (a relative unix path with credentials). */
static char *
format_url (const RedisUrl *url)
{
  g_autoptr (GString) out = g_string_new (NULL);
  const RedisEndpoint *e = &url->endpoint;
  char sep = '?';

  if (e->path != NULL)
    {
      if (e->path[0] != '/' && (url->username != NULL || url->password))
        return NULL;
      g_string_append (out, e->path[0] == '/' ? "unix://" : "unix:");
    }
  else
    g_string_append (out, "redis://");
  if (url->username != NULL || url->password != NULL)
    {
      g_autofree char *user
          = escaped (url->username != NULL ? url->username : "", NULL);

      g_string_append (out, user);
      if (url->password != NULL)
        {
          g_autofree char *password = escaped (url->password, NULL);

          g_string_append_printf (out, ":%s", password);
        }
      g_string_append_c (out, '@');
    }
  if (e->path != NULL)
    {
      g_autofree char *path = escaped (e->path, "/");

      g_string_append (out, path);
    }
  else
    {
      /* an IPv6 address (the only host with a colon) in brackets, its
       * zone's '%' encoded; any other host all encoded */
      gboolean v6 = strchr (e->host, ':') != NULL;
      g_autofree char *host = escaped (e->host, v6 ? ":" : NULL);

      g_string_append_printf (out, v6 ? "[%s]:%u/" : "%s:%u/", host,
                              (guint) e->port);
    }
  if (url->has_db)
    {
      g_string_append_printf (out, "%cdb=%" G_GINT64_FORMAT, sep, url->db);
      sep = '&';
    }
  if (url->has_socket_timeout)
    {
      g_autofree char *t = escaped (url->socket_timeout_text, NULL);

      g_string_append_printf (out, "%csocket_timeout=%s", sep, t);
      sep = '&';
    }
  if (url->has_connect_timeout)
    {
      g_autofree char *t = escaped (url->connect_timeout_text, NULL);

      g_string_append_printf (out, "%csocket_connect_timeout=%s", sep, t);
      sep = '&';
    }
  if (url->has_keepalive)
    {
      g_string_append_printf (out, "%csocket_keepalive=%d", sep,
                              url->keepalive ? 1 : 0);
      sep = '&';
    }
  if (url->has_max_connections)
    g_string_append_printf (out, "%cmax_connections=%" G_GINT64_FORMAT, sep,
                            url->max_connections);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
same_double (double a, double b)
{
  return memcmp (&a, &b, sizeof a) == 0;
}

static void
check_url (const char *text)
{
  RedisUrl url, again;
  g_autoptr (GError) error = NULL;
  g_autofree char *written = NULL;

  if (!redis_url_parse (text, "Redis", &url, &error))
    {
      check_error (error, "redis_url_parse");
      return;
    }
  fuzz_assert ((url.endpoint.path != NULL) != (url.endpoint.host != NULL),
               "a URL gives an endpoint with %s",
               url.endpoint.path != NULL ? "a path and a host"
                                         : "neither path nor host");
  fuzz_assert (url.endpoint.path != NULL || url.endpoint.port > 0,
               "a URL gives port 0");
  written = format_url (&url);
  if (written != NULL)
    {
      fuzz_assert (redis_url_parse (written, "Redis", &again, &error),
                   "'%s' written as '%s' does not parse: %s", text, written,
                   error->message);
      fuzz_assert (redis_endpoint_equal (&url.endpoint, &again.endpoint)
                       && strcmp (url.endpoint.display, again.endpoint.display)
                              == 0,
                   "'%s' written as '%s': %s, then %s", text, written,
                   url.endpoint.display, again.endpoint.display);
      fuzz_assert (g_strcmp0 (url.username, again.username) == 0
                       && g_strcmp0 (url.password, again.password) == 0,
                   "'%s' written as '%s': other credentials", text, written);
      fuzz_assert (url.has_db == again.has_db
                       && (!url.has_db || url.db == again.db),
                   "'%s' written as '%s': another db", text, written);
      fuzz_assert (
          url.has_socket_timeout == again.has_socket_timeout
              && (!url.has_socket_timeout
                  || (same_double (url.socket_timeout, again.socket_timeout)
                      && strcmp (url.socket_timeout_text,
                                 again.socket_timeout_text)
                             == 0)),
          "'%s' written as '%s': another socket_timeout", text, written);
      fuzz_assert (
          url.has_connect_timeout == again.has_connect_timeout
              && (!url.has_connect_timeout
                  || (same_double (url.connect_timeout, again.connect_timeout)
                      && strcmp (url.connect_timeout_text,
                                 again.connect_timeout_text)
                             == 0)),
          "'%s' written as '%s': another socket_connect_timeout", text,
          written);
      fuzz_assert (url.has_keepalive == again.has_keepalive
                       && url.keepalive == again.keepalive,
                   "'%s' written as '%s': another socket_keepalive", text,
                   written);
      fuzz_assert (url.has_max_connections == again.has_max_connections
                       && (!url.has_max_connections
                           || url.max_connections == again.max_connections),
                   "'%s' written as '%s': another max_connections", text,
                   written);
      redis_url_clear (&again);
    }
  redis_url_clear (&url);
}

static char *
format_endpoint (const RedisEndpoint *e)
{
  if (e->path != NULL)
    return g_strdup (e->path);
  if (strchr (e->host, ':') != NULL || e->host[0] == '/' || e->host[0] == '[')
    return g_strdup_printf ("[%s]:%u", e->host, (guint) e->port);
  return g_strdup_printf ("%s:%u", e->host, (guint) e->port);
}

static void
check_endpoint (const char *text)
{
  RedisEndpoint endpoint = { 0 }, again = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *written = NULL;

  if (!redis_endpoint_parse (text, 6379, "startup_nodes", &endpoint, &error))
    {
      check_error (error, "redis_endpoint_parse");
      return;
    }
  fuzz_assert (endpoint.path != NULL
                   || (endpoint.host[0] != '\0' && endpoint.port > 0),
               "'%s' parses as an endpoint without a host or a port", text);
  written = format_endpoint (&endpoint);
  fuzz_assert (
      redis_endpoint_parse (written, 1, "startup_nodes", &again, &error),
      "'%s' written as '%s' does not parse: %s", text, written,
      error->message);
  fuzz_assert (redis_endpoint_equal (&endpoint, &again)
                   && strcmp (endpoint.display, again.display) == 0,
               "'%s' written as '%s' parses as another endpoint", text,
               written);
  if (endpoint.path == NULL && endpoint.host[0] != '/'
      && endpoint.host[0] != '[')
    fuzz_assert (strcmp (written, endpoint.display) == 0,
                 "'%s' is displayed as '%s', not '%s'", text, endpoint.display,
                 written);
  redis_endpoint_clear (&again);
  redis_endpoint_clear (&endpoint);
}

static gboolean
duration_ok (double seconds)
{
  return isfinite (seconds) && seconds > 0 && seconds <= 1e7;
}

static void
check_config (GHashTable *arguments)
{
  for (gsize v = 0; v < G_N_ELEMENTS (variants); v++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (RedisConfig) config
          = redis_config_new (&variants[v], arguments, &error);
      const RedisConnectOptions *c;

      if (config == NULL)
        {
          check_error (error, "redis_config_new");
          continue;
        }
      c = &config->connect;
      fuzz_assert (duration_ok (c->socket_timeout)
                       && duration_ok (c->connect_timeout),
                   "%s: timeouts %g and %g s", variants[v].backend_name,
                   c->socket_timeout, c->connect_timeout);
      fuzz_assert (config->pool_size >= 1 && config->pool_size <= 100000,
                   "a pool of %u", config->pool_size);
      fuzz_assert (c->db >= 0, "database %" G_GINT64_FORMAT, c->db);
      fuzz_assert (c->busy_poll_us >= 0
                       && c->busy_poll_us <= REDIS_MAX_BUSY_POLL_US,
                   "busy_poll %" G_GINT64_FORMAT, c->busy_poll_us);
      fuzz_assert (
          config->endpoint.path != NULL
              || (config->endpoint.host != NULL && config->endpoint.port > 0),
          "a server without a host or a port");
      fuzz_assert (config->expiration_time >= 0
                       && config->expiration_time <= G_MAXINT32,
                   "SETEX %" G_GINT64_FORMAT " s", config->expiration_time);
      fuzz_assert (
          isfinite (config->lock_timeout)
              && (config->lock_timeout == 0 || config->lock_timeout >= 0.001),
          "lock_timeout %g", config->lock_timeout);
      fuzz_assert (isfinite (config->lock_sleep) && config->lock_sleep >= 0,
                   "lock_sleep %g", config->lock_sleep);
      fuzz_assert (isfinite (config->lock_blocking_timeout)
                       && (config->lock_blocking_timeout >= 0
                           || config->lock_blocking_timeout == -1),
                   "lock_blocking_timeout %g", config->lock_blocking_timeout);
      fuzz_assert (redis_lock_prefix_is_valid (config->lock_prefix),
                   "lock prefix '%s'", config->lock_prefix);
      if (variants[v].mode == REDIS_MODE_SENTINEL)
        fuzz_assert (config->n_sentinels > 0 && config->service_name[0],
                     "a sentinel config without sentinels or service");
      if (variants[v].mode == REDIS_MODE_CLUSTER)
        fuzz_assert (config->n_startup_nodes > 0 && c->db == 0,
                     "a cluster config without nodes, or with a db");
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_auto (GStrv) lines = fuzz_split (data, size, '\n');
  g_autoptr (GHashTable) arguments
      = g_hash_table_new (g_str_hash, g_str_equal);

  if (lines[0] != NULL)
    {
      check_url (lines[0]);
      check_endpoint (lines[0]);
    }
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *eq = strchr (lines[i], '=');

      if (eq == NULL)
        continue;
      *eq = '\0';
      g_hash_table_replace (arguments, lines[i], eq + 1);
    }
  check_config (arguments);
  return 0;
}
