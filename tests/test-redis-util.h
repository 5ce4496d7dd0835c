/* test-redis-util.h: helpers for the redis tests, which run under
 * tests/redis-servers.py (it exports REDIS_HOST and REDIS_PORT).
 *
 * A plain hiredis connection (raw_*) checks what the plugin did on the
 * server, independently of the plugin.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>

#include "test-util.h"

static inline const char *
redis_host (void)
{
  const char *host = g_getenv ("REDIS_HOST");

  cr_assert_not_null (host, "run this program under tests/redis-servers.py");
  return host;
}

static inline const char *
redis_port_string (void)
{
  const char *port = g_getenv ("REDIS_PORT");

  cr_assert_not_null (port, "run this program under tests/redis-servers.py");
  return port;
}

static inline int
redis_port (void)
{
  return atoi (redis_port_string ());
}

/* host/port of the test server plus NULL-terminated name/value pairs. */
static inline GHashTable *
redis_arguments (const char *first_name, ...)
{
  GHashTable *table = arguments_of ("host", redis_host (), "port",
                                    redis_port_string (), NULL);
  va_list ap;

  va_start (ap, first_name);
  for (const char *name = first_name; name != NULL;
       name = va_arg (ap, const char *))
    g_hash_table_insert (table, g_strdup (name),
                         g_strdup (va_arg (ap, const char *)));
  va_end (ap);
  return table;
}

static inline DogpileBackend *
redis_backend (GHashTable *arguments)
{
  g_autoptr (GError) error = NULL;
  DogpileBackend *backend = dogpile_backend_new ("dogpile.cache.redis",
                                                 arguments, &error);

  assert_no_error (error);
  return backend;
}

/* A key of its own for each test process and call. */
static inline char *
redis_unique_key (const char *stem)
{
  static gint counter;

  return g_strdup_printf ("%s:%d:%d", stem, (int) getpid (),
                          g_atomic_int_add (&counter, 1));
}

static inline redisContext *
raw_connect_to (int port)
{
  struct timeval tv = { 5, 0 };
  redisContext *c = redisConnectWithTimeout ("127.0.0.1", port, tv);

  cr_assert (c != NULL && c->err == 0, "raw connect to %d: %s", port,
             c != NULL ? c->errstr : "out of memory");
  redisSetTimeout (c, tv);
  return c;
}

static inline redisContext *
raw_connect (void)
{
  return raw_connect_to (redis_port ());
}

/* redisCommand with the context checked; the reply is the caller's. */
static inline redisReply *
raw_command (redisContext *c, const char *format, ...)
{
  redisReply *reply;
  va_list ap;

  va_start (ap, format);
  reply = redisvCommand (c, format, ap);
  va_end (ap);
  cr_assert_not_null (reply, "raw command: %s", c->errstr);
  return reply;
}

static inline long long
raw_integer (redisContext *c, const char *format, ...)
{
  redisReply *reply;
  long long value;
  va_list ap;

  va_start (ap, format);
  reply = redisvCommand (c, format, ap);
  va_end (ap);
  cr_assert (reply != NULL && reply->type == REDIS_REPLY_INTEGER,
             "raw integer command: %s",
             reply == NULL ? c->errstr
                           : (reply->str != NULL ? reply->str : "?"));
  value = reply->integer;
  freeReplyObject (reply);
  return value;
}

/* A field of INFO, e.g. ("stats", "total_connections_received"). */
static inline long long
raw_info (redisContext *c, const char *section, const char *field)
{
  redisReply *reply = raw_command (c, "INFO %s", section);
  g_autofree char *needle = g_strdup_printf ("\r\n%s:", field);
  const char *at;
  long long value;

  cr_assert_eq (reply->type, REDIS_REPLY_STRING);
  at = strstr (reply->str, needle);
  cr_assert_not_null (at, "INFO %s has no %s", section, field);
  value = strtoll (at + strlen (needle), NULL, 10);
  freeReplyObject (reply);
  return value;
}

static inline double
monotonic_seconds (void)
{
  return (double) g_get_monotonic_time () / G_USEC_PER_SEC;
}

/* A loopback TCP socket bound to a port of the kernel's choice; *out_port
 * is that port.  Listening with @backlog when it is >= 0. */
static inline int
loopback_socket (int backlog, int *out_port)
{
  struct sockaddr_in addr = { .sin_family = AF_INET };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  cr_assert (fd >= 0);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  cr_assert (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0);
  cr_assert (getsockname (fd, (struct sockaddr *) &addr, &len) == 0);
  if (backlog >= 0)
    cr_assert (listen (fd, backlog) == 0);
  *out_port = ntohs (addr.sin_port);
  return fd;
}

/* A port that was free a moment ago and has no listener. */
static inline int
unused_loopback_port (void)
{
  int port;
  int fd = loopback_socket (-1, &port);

  close (fd);
  return port;
}
