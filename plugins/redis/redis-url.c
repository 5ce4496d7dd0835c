/* redis-url.c: connection URLs, server addresses and lock prefixes.
 *
 * URLs follow redis-py's parse_url (what dogpile.cache hands `url` to):
 *   redis://[[username]:[password]@]host[:port][/db][?option=value...]
 *   unix://[[username]:[password]@]/path/to/socket[?db=N...]
 * valkey:// is the same as redis://.  The query options redis-py types
 * (db, socket_timeout, socket_connect_timeout, socket_keepalive,
 * max_connections) override the separate arguments, as from_url's do;
 * other query options are ignored.  rediss:// and valkeys:// ask for TLS,
 * which hiredis 0.14 cannot do: they are refused, never downgraded.
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-config.h"

#include <errno.h>
#include <stdlib.h>

static char *
display_tcp (const char *host, guint16 port)
{
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", host, (guint) port);
  return g_strdup_printf ("%s:%u", host, (guint) port);
}

void
redis_endpoint_init_tcp (RedisEndpoint *endpoint, const char *host,
                         guint16 port)
{
  endpoint->host = g_strdup (host);
  endpoint->port = port;
  endpoint->path = NULL;
  endpoint->display = display_tcp (host, port);
}

void
redis_endpoint_init_unix (RedisEndpoint *endpoint, const char *path)
{
  endpoint->host = NULL;
  endpoint->port = 0;
  endpoint->path = g_strdup (path);
  endpoint->display = g_strdup (path);
}

void
redis_endpoint_copy (RedisEndpoint *dest, const RedisEndpoint *src)
{
  dest->host = g_strdup (src->host);
  dest->port = src->port;
  dest->path = g_strdup (src->path);
  dest->display = g_strdup (src->display);
}

void
redis_endpoint_clear (RedisEndpoint *endpoint)
{
  g_clear_pointer (&endpoint->host, g_free);
  g_clear_pointer (&endpoint->path, g_free);
  g_clear_pointer (&endpoint->display, g_free);
  endpoint->port = 0;
}

gboolean
redis_endpoint_equal (const RedisEndpoint *a, const RedisEndpoint *b)
{
  return g_strcmp0 (a->host, b->host) == 0 && a->port == b->port
         && g_strcmp0 (a->path, b->path) == 0;
}

static gboolean
parse_port (const char *text, guint16 *out)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 1, 65535, &value, NULL))
    return FALSE;
  *out = (guint16) value;
  return TRUE;
}

gboolean
redis_endpoint_parse (const char *text, guint16 default_port,
                      const char *argument, RedisEndpoint *out, GError **error)
{
  g_autofree char *host = NULL;
  const char *port_text = NULL;
  guint16 port = default_port;

  if (text[0] == '/')
    {
      redis_endpoint_init_unix (out, text);
      return TRUE;
    }
  if (text[0] == '[')
    {
      const char *close = strchr (text, ']');

      if (close == NULL || close == text + 1
          || (close[1] != '\0' && close[1] != ':'))
        goto invalid;
      host = g_strndup (text + 1, (gsize) (close - text - 1));
      if (close[1] == ':')
        port_text = close + 2;
    }
  else
    {
      const char *colon = strrchr (text, ':');

      if (colon != NULL && strchr (text, ':') != colon)
        goto invalid; /* a bare v6 address needs brackets */
      host = colon != NULL ? g_strndup (text, (gsize) (colon - text))
                           : g_strdup (text);
      if (colon != NULL)
        port_text = colon + 1;
    }
  if (host[0] == '\0' || (port_text != NULL && !parse_port (port_text, &port)))
    goto invalid;
  redis_endpoint_init_tcp (out, host, port);
  return TRUE;

invalid:
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "Argument '%s': '%s' is not a server address (host:port, "
               "[ipv6]:port or /path/to/socket)",
               argument, text);
  return FALSE;
}

static gboolean
url_error (GError **error, const char *message)
{
  g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       message);
  return FALSE;
}

static gboolean
invalid_query_value (GError **error, const char *name)
{
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "Invalid value for `%s` in connection URL.", name);
  return FALSE;
}

/* Python's float(): what socket timeouts in the URL are parsed with. */
static gboolean
parse_float (const char *text, double *out)
{
  char *end;

  errno = 0;
  *out = g_ascii_strtod (text, &end);
  return end != text && *end == '\0' && errno == 0;
}

/* Python's int() on a str: optional sign, digits, surrounding spaces. */
static gboolean
parse_int (const char *text, gint64 *out)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));
  const char *digits = copy + (copy[0] == '+' || copy[0] == '-');
  char *end;

  if (!g_ascii_isdigit (*digits))
    return FALSE;
  errno = 0;
  *out = g_ascii_strtoll (copy, &end, 10);
  return *end == '\0' && errno == 0;
}

/* redis-py's to_bool: "0", "F", "FALSE", "N", "NO" (any case) are false,
 * anything else true. */
static gboolean
parse_bool (const char *text)
{
  static const char *const false_strings[] = { "0", "F", "FALSE", "N", "NO" };

  for (gsize i = 0; i < G_N_ELEMENTS (false_strings); i++)
    if (g_ascii_strcasecmp (text, false_strings[i]) == 0)
      return FALSE;
  return TRUE;
}

static gboolean
apply_query_option (RedisUrl *out, const char *name, const char *value,
                    GError **error)
{
  if (strcmp (name, "db") == 0)
    {
      if (!parse_int (value, &out->db))
        return invalid_query_value (error, name);
      out->has_db = TRUE;
    }
  else if (strcmp (name, "socket_timeout") == 0)
    {
      if (!parse_float (value, &out->socket_timeout))
        return invalid_query_value (error, name);
      out->has_socket_timeout = TRUE;
      g_free (out->socket_timeout_text);
      out->socket_timeout_text = g_strdup (value);
    }
  else if (strcmp (name, "socket_connect_timeout") == 0)
    {
      if (!parse_float (value, &out->connect_timeout))
        return invalid_query_value (error, name);
      out->has_connect_timeout = TRUE;
      g_free (out->connect_timeout_text);
      out->connect_timeout_text = g_strdup (value);
    }
  else if (strcmp (name, "socket_keepalive") == 0)
    {
      out->keepalive = parse_bool (value);
      out->has_keepalive = TRUE;
    }
  else if (strcmp (name, "max_connections") == 0)
    {
      if (!parse_int (value, &out->max_connections))
        return invalid_query_value (error, name);
      out->has_max_connections = TRUE;
    }
  return TRUE;
}

/* parse_qs: '&'-separated name=value pairs, percent-decoded, blank values
 * dropped, the first value of a repeated name kept. */
static gboolean
parse_query (RedisUrl *out, const char *query, GError **error)
{
  g_auto (GStrv) pairs = g_strsplit (query, "&", -1);
  g_autoptr (GHashTable) seen
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (char **pair = pairs; *pair != NULL; pair++)
    {
      char *eq = strchr (*pair, '=');
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (eq == NULL || eq[1] == '\0')
        continue;
      *eq = '\0';
      g_strdelimit (*pair, "+", ' ');
      g_strdelimit (eq + 1, "+", ' ');
      name = g_uri_unescape_string (*pair, NULL);
      value = g_uri_unescape_string (eq + 1, NULL);
      if (name == NULL || value == NULL)
        return url_error (error, "Invalid percent-encoding in the query "
                                 "of the connection URL.");
      if (g_hash_table_contains (seen, name))
        continue;
      if (!apply_query_option (out, name, value, error))
        return FALSE;
      g_hash_table_add (seen, g_steal_pointer (&name));
    }
  return TRUE;
}

/**
 * redis_url_parse:
 * @url: the `url` argument
 * @product: "Redis" or "Valkey", for messages
 * @out: (out caller-allocates): the result; clear with redis_url_clear()
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success; %FALSE with %DOGPILE_ERROR_VALIDATION.
 */
gboolean
redis_url_parse (const char *url, const char *product, RedisUrl *out,
                 GError **error)
{
  g_autoptr (GError) uri_error = NULL;
  g_autofree char *scheme = NULL;
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;
  g_autofree char *host = NULL;
  g_autofree char *path = NULL;
  g_autofree char *query = NULL;
  int port = -1;

  memset (out, 0, sizeof *out);
  if (!g_uri_split_with_user (url, G_URI_FLAGS_HAS_PASSWORD, &scheme, &user,
                              &password, NULL, &host, &port, &path, &query,
                              NULL, &uri_error))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "Invalid connection URL: %s", uri_error->message);
      return FALSE;
    }
  if (scheme != NULL
      && (g_ascii_strcasecmp (scheme, "rediss") == 0
          || g_ascii_strcasecmp (scheme, "valkeys") == 0))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "%s:// asks for TLS, and this plugin is built on hiredis "
                   "0.14, which has no TLS support; refusing to connect in "
                   "plaintext. Use a local TLS tunnel (e.g. stunnel) and a "
                   "redis:// URL to it.",
                   scheme);
      return FALSE;
    }
  if (query != NULL && !parse_query (out, query, error))
    goto fail;
  if (user != NULL && user[0] != '\0')
    out->username = g_steal_pointer (&user);
  if (password != NULL && password[0] != '\0')
    out->password = g_steal_pointer (&password);

  if (scheme != NULL && g_ascii_strcasecmp (scheme, "unix") == 0)
    {
      if (path == NULL || path[0] == '\0')
        {
          url_error (error, "A unix:// connection URL needs a socket path, "
                            "as in unix:///run/redis/redis.sock");
          goto fail;
        }
      redis_endpoint_init_unix (&out->endpoint, path);
      return TRUE;
    }
  if (scheme == NULL
      || (g_ascii_strcasecmp (scheme, "redis") != 0
          && g_ascii_strcasecmp (scheme, "valkey") != 0))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "%s URL must specify one of the following schemes "
                   "(redis://, %sunix://)",
                   product,
                   strcmp (product, "Valkey") == 0 ? "valkey://, " : "");
      goto fail;
    }
  /* A path that is not a number is ignored, as redis-py does. */
  if (!out->has_db && path != NULL && path[0] != '\0')
    {
      g_auto (GStrv) parts = g_strsplit (path, "/", -1);
      g_autofree char *joined = g_strjoinv ("", parts);
      gint64 db;

      if (parse_int (joined, &db))
        {
          out->db = db;
          out->has_db = TRUE;
        }
    }
  redis_endpoint_init_tcp (
      &out->endpoint, host != NULL && host[0] != '\0' ? host : "localhost",
      port > 0 ? (guint16) port : REDIS_DEFAULT_PORT);
  return TRUE;

fail:
  redis_url_clear (out);
  return FALSE;
}

void
redis_url_clear (RedisUrl *url)
{
  redis_endpoint_clear (&url->endpoint);
  g_clear_pointer (&url->username, g_free);
  g_clear_pointer (&url->password, g_free);
  g_clear_pointer (&url->socket_timeout_text, g_free);
  g_clear_pointer (&url->connect_timeout_text, g_free);
}

/**
 * redis_lock_prefix_is_valid:
 * @prefix: a lock_prefix argument
 *
 * dogpile.cache checks `re.match(r"^[\w\-\.\:]{2,10}$", prefix)` on a str:
 * 2 to 10 characters (code points, not bytes), each a Unicode word
 * character (str.isalnum() or "_") or one of "-.:".  Python's `$` also
 * matches before one final newline, so that is accepted too.
 */
gboolean
redis_lock_prefix_is_valid (const char *prefix)
{
  gsize len = strlen (prefix);
  glong chars;

  if (len > 0 && prefix[len - 1] == '\n')
    len--;
  if (!g_utf8_validate_len (prefix, len, NULL))
    return FALSE;
  chars = g_utf8_strlen (prefix, (gssize) len);
  if (chars < 2 || chars > 10)
    return FALSE;
  for (const char *p = prefix; p < prefix + len; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (!(g_unichar_isalnum (c) || c == '_' || c == '-' || c == '.'
            || c == ':'))
        return FALSE;
    }
  return TRUE;
}
