/* memcached-servers.c: the server forms Python's memcached clients accept.
 *
 * `url` is one server or a list (dogpile.cache's to_list: a string is one
 * server; here a config file's list is split on commas and spaces, and
 * the brackets and quotes of a Python list literal are dropped).  Each
 * server is written as python-memcached, pymemcache and pylibmc all read
 * it: host[:port], [v6][:port], a socket path, or python-memcached's
 * unix:/inet:/inet6: prefixes.  A bare IPv6 address is refused rather
 * than split at its last colon (pymemcache would take "::1" as host "::"
 * port 1).  UDP ("udp:") and weights are refused: libmemcached's UDP mode
 * cannot read, and a weight would change the key distribution of the
 * Python clients differently in each.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memcached-servers.h"

#include <errno.h>
#include <stdlib.h>

#define DEFAULT_PORT 11211

void
mc_server_free (McServer *server)
{
  if (server == NULL)
    return;
  g_free (server->host);
  g_free (server->path);
  g_free (server->display);
  g_free (server->node_name);
  g_free (server);
}

/* The item quoted as UTF-8 (GError messages are), whatever it holds. */
static gboolean
invalid (GError **error, const char *item, const char *why)
{
  g_autofree char *shown = g_utf8_make_valid (item, -1);

  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "url: '%s' is not a memcached server: %s", shown, why);
  return FALSE;
}

static gboolean
parse_port (const char *text, const char *item, guint16 *out_port,
            GError **error)
{
  char *end = NULL;
  gint64 port;

  if (!g_ascii_isdigit (*text))
    return invalid (error, item, "the port must be a number from 1 to 65535");
  errno = 0;
  port = g_ascii_strtoll (text, &end, 10);
  if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
    return invalid (error, item, "the port must be a number from 1 to 65535");
  *out_port = (guint16) port;
  return TRUE;
}

static McServer *
socket_server (const char *path)
{
  McServer *server = g_new0 (McServer, 1);

  server->path = g_strdup (path);
  server->display = g_strdup (path);
  server->node_name = g_strdup (path);
  return server;
}

static McServer *
tcp_server (const char *host, guint16 port)
{
  McServer *server = g_new0 (McServer, 1);

  server->host = g_strdup (host);
  server->port = port;
  server->display = strchr (host, ':') != NULL
                        ? g_strdup_printf ("[%s]:%u", host, (guint) port)
                        : g_strdup_printf ("%s:%u", host, (guint) port);
  server->node_name = g_strdup_printf ("%s:%u", host, (guint) port);
  return server;
}

McServer *
mc_server_parse (const char *item, GError **error)
{
  const char *spec = item;
  g_autofree char *host = NULL;
  guint16 port = DEFAULT_PORT;
  const char *colon;

  if (g_str_has_prefix (spec, "unix:"))
    {
      if (spec[5] == '\0')
        return invalid (error, item, "unix: needs a socket path"), NULL;
      return socket_server (spec + 5);
    }
  if (spec[0] == '/')
    return socket_server (spec);
  if (g_str_has_prefix (spec, "udp:"))
    return invalid (error, item,
                    "UDP is not supported (libmemcached cannot read over "
                    "UDP); use TCP"),
           NULL;
  if (g_str_has_prefix (spec, "inet6:"))
    spec += 6;
  else if (g_str_has_prefix (spec, "inet:"))
    spec += 5;

  if (spec[0] == '[')
    {
      const char *close = strchr (spec, ']');

      if (close == NULL || close == spec + 1)
        return invalid (error, item, "an IPv6 address needs a closing ']'"),
               NULL;
      host = g_strndup (spec + 1, (gsize) (close - spec - 1));
      if (close[1] == ':')
        {
          if (!parse_port (close + 2, item, &port, error))
            return NULL;
        }
      else if (close[1] != '\0')
        return invalid (error, item, "expected ':port' after ']'"), NULL;
      return tcp_server (host, port);
    }

  colon = strchr (spec, ':');
  if (colon != NULL && strchr (colon + 1, ':') != NULL)
    return invalid (error, item,
                    "write an IPv6 address in brackets, as in "
                    "[::1]:11211 (a weight after the port is not "
                    "supported)"),
           NULL;
  host = colon != NULL ? g_strndup (spec, (gsize) (colon - spec))
                       : g_strdup (spec);
  if (*host == '\0')
    return invalid (error, item, "the host is empty"), NULL;
  for (const char *c = host; *c != '\0'; c++)
    if (g_ascii_isspace (*c) || *c == '/' || *c == '@')
      return invalid (error, item,
                      "the host name has a character no host "
                      "name has"),
             NULL;
  if (colon != NULL && !parse_port (colon + 1, item, &port, error))
    return NULL;
  return tcp_server (host, port);
}

/* Drops what a Python list literal wraps an item in ("['a:1'," and
 * "'b:2']"): brackets that are the list's, parentheses and quotes.  The
 * brackets of "[::1]:11211" stay. */
static char *
unwrap (const char *item)
{
  const char *s = item;
  const char *e = item + strlen (item);

  if (*s == '['
      && (s[1] == '\'' || s[1] == '"' || !memchr (s, ']', (gsize) (e - s))))
    s++;
  while (s < e && strchr ("(\"'", *s) != NULL)
    s++;
  if (e > s && e[-1] == ']'
      && ((e - s >= 2 && (e[-2] == '\'' || e[-2] == '"'))
          || !memchr (s, '[', (gsize) (e - s))))
    e--;
  while (e > s && strchr (")\"'", e[-1]) != NULL)
    e--;
  return g_strndup (s, (gsize) (e - s));
}

gboolean
mc_servers_parse (const char *const *items, GPtrArray **out_servers,
                  GError **error)
{
  g_autoptr (GPtrArray) servers
      = g_ptr_array_new_with_free_func ((GDestroyNotify) mc_server_free);

  for (const char *const *item = items; *item != NULL; item++)
    {
      g_autofree char *spec = unwrap (*item);
      McServer *server;

      if (*spec == '\0')
        continue;
      server = mc_server_parse (spec, error);
      if (server == NULL)
        return FALSE;
      g_ptr_array_add (servers, server);
    }
  if (servers->len == 0)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "url is required: one memcached server or a list of them, "
                   "such as 127.0.0.1:11211");
      return FALSE;
    }
  *out_servers = g_steal_pointer (&servers);
  return TRUE;
}
