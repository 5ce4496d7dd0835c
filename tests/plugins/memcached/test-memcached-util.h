/* test-memcached-util.h: helpers for the memcached tests, which run under
 * memcached-servers.py (this folder): the servers' addresses, a plain
 * text-protocol connection (raw_*) that checks what the plugin did on a
 * server independently of the plugin and of libmemcached, and killing
 * and restarting a server.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <stdlib.h>
#include <sys/time.h>

#include "test-faults.h"

#define MC_MAX_SERVERS 8

/* The harness's TCP servers' ports, in order; how many. */
static inline int
memcached_ports (int *ports)
{
  const char *value = g_getenv ("MEMCACHED_PORTS");
  g_auto (GStrv) items = NULL;
  int n = 0;

  cr_assert (value != NULL && *value != '\0',
             "run this program under memcached-servers.py");
  items = g_strsplit (value, ",", -1);
  for (char **item = items; *item != NULL && n < MC_MAX_SERVERS; item++)
    ports[n++] = atoi (*item);
  return n;
}

/* "127.0.0.1:p1,127.0.0.1:p2,..." for the harness's servers. */
static inline char *
urls (void)
{
  int ports[MC_MAX_SERVERS];
  int n = memcached_ports (ports);
  GString *s = g_string_new (NULL);

  for (int i = 0; i < n; i++)
    g_string_append_printf (s, "%s127.0.0.1:%d", i > 0 ? "," : "", ports[i]);
  return g_string_free (s, FALSE);
}

/* A connection to the server on @port, or -1 when nothing answers. */
static inline int
raw_try_connect (int port)
{
  struct sockaddr_in addr = { .sin_family = AF_INET,
                              .sin_port = htons ((uint16_t) port),
                              .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  struct timeval tv = { 2, 0 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  cr_assert (fd >= 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) != 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* Sends @line (with \r\n) to @port and reads the reply up to and
 * including @end ("\r\n" for one line, "END\r\n" for get and stats);
 * NULL when the server does not answer. */
static inline char *
raw_try (int port, const char *line, const char *end)
{
  int fd = raw_try_connect (port);
  g_autofree char *request = g_strconcat (line, "\r\n", NULL);
  GString *reply;
  char buf[4096];
  ssize_t n;

  if (fd < 0)
    return NULL;
  if (write (fd, request, strlen (request)) != (ssize_t) strlen (request))
    {
      close (fd);
      return NULL;
    }
  reply = g_string_new (NULL);
  while (!g_str_has_suffix (reply->str, end)
         && (n = read (fd, buf, sizeof buf)) > 0)
    g_string_append_len (reply, buf, n);
  close (fd);
  if (!g_str_has_suffix (reply->str, end))
    {
      g_string_free (reply, TRUE);
      return NULL;
    }
  return g_string_free (reply, FALSE);
}

static inline char *
raw (int port, const char *line, const char *end)
{
  char *reply = raw_try (port, line, end);

  cr_assert_not_null (reply, "memcached on %d did not answer '%s'", port,
                      line);
  return reply;
}

/* Whether the server on @port holds @key. */
static inline gboolean
raw_has (int port, const char *key)
{
  g_autofree char *line = g_strconcat ("get ", key, NULL);
  g_autofree char *reply = raw (port, line, "END\r\n");

  return g_str_has_prefix (reply, "VALUE ");
}

/* A counter of the server's `stats`, e.g. "total_connections". */
static inline long long
raw_stat (int port, const char *name)
{
  g_autofree char *reply = raw (port, "stats", "END\r\n");
  g_autofree char *needle = g_strdup_printf ("STAT %s ", name);
  const char *at = strstr (reply, needle);

  cr_assert_not_null (at, "memcached on %d has no stat %s", port, name);
  return strtoll (at + strlen (needle), NULL, 10);
}

static inline gboolean
server_answers (int port)
{
  g_autofree char *reply = raw_try (port, "version", "\r\n");

  return reply != NULL && g_str_has_prefix (reply, "VERSION");
}

static inline pid_t
server_pid (int port)
{
  g_autofree char *name
      = g_strdup_printf ("DOGPILE_MEMCACHED_PIDFILE_%d", port);

  return harness_pid (name);
}

/* SIGKILLs the server on @port; returns when it no longer answers. */
static inline void
kill_server (int port)
{
  cr_assert (kill (server_pid (port), SIGKILL) == 0);
  for (int i = 0; i < 200 && server_answers (port); i++)
    g_usleep (10000);
  cr_assert_not (server_answers (port), "memcached on %d survived", port);
}

/* Starts the server on @port again (empty); returns when it answers.  The
 * harness stops it at the end, through its pid file. */
static inline void
restart_server (int port)
{
  g_autofree char *name
      = g_strdup_printf ("DOGPILE_MEMCACHED_COMMAND_%d", port);

  /* It daemonizes (-d): the command returns at once. */
  harness_restart (name, TRUE);
  for (int i = 0; i < 500 && !server_answers (port); i++)
    g_usleep (10000);
  cr_assert (server_answers (port), "memcached on %d did not come back", port);
}

/* A backend of @name (dogpile.cache.NAME) with the NULL-terminated
 * name/value pairs; it must configure. */
static inline DogpileBackend *
memcached_backend (const char *name, const char *first_name, ...)
{
  g_autofree char *full = g_strconcat ("dogpile.cache.", name, NULL);
  g_autoptr (GHashTable) arguments
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GError) error = NULL;
  DogpileBackend *backend;
  va_list ap;

  va_start (ap, first_name);
  for (const char *n = first_name; n != NULL; n = va_arg (ap, const char *))
    g_hash_table_insert (arguments, g_strdup (n),
                         g_strdup (va_arg (ap, const char *)));
  va_end (ap);
  backend = dogpile_backend_new (full, arguments, &error);
  cr_assert_not_null (backend, "%s: %s", full, error ? error->message : "");
  return backend;
}
