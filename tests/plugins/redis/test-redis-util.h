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

#include "test-faults.h"
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

/* Adds NULL-terminated name, value pairs to @table. */
static inline void
arguments_add_valist (GHashTable *table, const char *first_name, va_list ap)
{
  for (const char *name = first_name; name != NULL;
       name = va_arg (ap, const char *))
    g_hash_table_insert (table, g_strdup (name),
                         g_strdup (va_arg (ap, const char *)));
}

/* host/port of the test server plus NULL-terminated name/value pairs. */
static inline GHashTable *
redis_arguments (const char *first_name, ...)
{
  GHashTable *table = arguments_of ("host", redis_host (), "port",
                                    redis_port_string (), NULL);
  va_list ap;

  va_start (ap, first_name);
  arguments_add_valist (table, first_name, ap);
  va_end (ap);
  return table;
}

/* A backend of the plugin's @name, which must configure. */
static inline DogpileBackend *
redis_backend_named (const char *name, GHashTable *arguments)
{
  g_autoptr (GError) error = NULL;
  DogpileBackend *backend = dogpile_backend_new (name, arguments, &error);

  assert_no_error (error);
  return backend;
}

static inline DogpileBackend *
redis_backend (GHashTable *arguments)
{
  return redis_backend_named ("dogpile.cache.redis", arguments);
}

static inline void
set_value (DogpileBackend *backend, const char *key, const char *value)
{
  g_autoptr (GBytes) bytes = bytes_of (value);
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_backend_set (backend, key, bytes, &error), "set %s: %s",
             key, error != NULL ? error->message : "");
}

static inline void
assert_get (DogpileBackend *backend, const char *key, const char *expected)
{
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_backend_get (backend, key, &got, &error), "get %s: %s",
             key, error != NULL ? error->message : "");
  cr_assert (bytes_equal (got, expected), "get %s", key);
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

/* Waits until the master's replica has what was written so far.  WAIT
 * counts only the calling connection's own writes, so @raw writes a mark
 * of its own first (replication keeps the order); a WAIT with nothing
 * written returns at once, which made the read-from-replica tests flaky
 * on a loaded machine. */
static inline void
wait_for_replica (redisContext *raw)
{
  freeReplyObject (raw_command (raw, "INCR dogpile-test:replication-mark"));
  cr_assert_geq (raw_integer (raw, "WAIT 1 10000"), 1,
                 "the replica did not catch up in 10 s");
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

/* --- cluster and sentinel topologies ------------------------------------ */

/* The ports in a comma-separated environment variable (REDIS_CLUSTER_PORTS,
 * REDIS_SENTINEL_PORTS); how many. */
static inline int
ports_from_env (const char *name, int *ports, int max)
{
  const char *value = g_getenv (name);
  g_auto (GStrv) items = NULL;
  int n = 0;

  cr_assert_not_null (value,
                      "%s: run under tests/redis-servers.py with "
                      "the matching --topology",
                      name);
  items = g_strsplit (value, ",", -1);
  for (char **item = items; *item != NULL && n < max; item++)
    ports[n++] = atoi (*item);
  return n;
}

/* "127.0.0.1:p1,127.0.0.1:p2,..." for the ports in @name. */
static inline char *
addresses_from_env (const char *name)
{
  int ports[16];
  int n = ports_from_env (name, ports, 16);
  GString *s = g_string_new (NULL);

  for (int i = 0; i < n; i++)
    g_string_append_printf (s, "%s127.0.0.1:%d", i > 0 ? "," : "", ports[i]);
  return g_string_free (s, FALSE);
}

/* A raw connection to @port, or NULL when nothing answers there. */
static inline redisContext *
raw_try_connect_to (int port, double timeout)
{
  struct timeval tv = { (time_t) timeout,
                        (suseconds_t) ((timeout - (time_t) timeout) * 1e6) };
  redisContext *c = redisConnectWithTimeout ("127.0.0.1", port, tv);

  if (c == NULL || c->err != 0)
    {
      redisFree (c);
      return NULL;
    }
  redisSetTimeout (c, tv);
  return c;
}

/* In a cluster, the port of the master serving hash slot @slot now, by
 * CLUSTER SLOTS from the first node that answers; 0 when none does. */
static inline int
raw_cluster_port_for_slot (int slot)
{
  int ports[16];
  int n = ports_from_env ("REDIS_CLUSTER_PORTS", ports, 16);

  for (int i = 0; i < n; i++)
    {
      redisContext *c = raw_try_connect_to (ports[i], 1.0);
      redisReply *reply;
      int found = 0;

      if (c == NULL)
        continue;
      reply = redisCommand (c, "CLUSTER SLOTS");
      if (reply != NULL && reply->type == REDIS_REPLY_ARRAY)
        for (size_t r = 0; r < reply->elements && found == 0; r++)
          {
            redisReply *range = reply->element[r];

            if (slot >= range->element[0]->integer
                && slot <= range->element[1]->integer)
              found = (int) range->element[2]->element[1]->integer;
          }
      if (reply != NULL)
        freeReplyObject (reply);
      redisFree (c);
      if (found != 0)
        return found;
    }
  return 0;
}

/* The hash slot of @key as the cluster computes it (CLUSTER KEYSLOT). */
static inline int
raw_cluster_key_slot (const char *key)
{
  int ports[16];
  int n = ports_from_env ("REDIS_CLUSTER_PORTS", ports, 16);

  for (int i = 0; i < n; i++)
    {
      redisContext *c = raw_try_connect_to (ports[i], 1.0);
      long long slot;

      if (c == NULL)
        continue;
      slot = raw_integer (c, "CLUSTER KEYSLOT %s", key);
      redisFree (c);
      return (int) slot;
    }
  cr_assert_fail ("no cluster node answers");
  return -1;
}

/* Behind sentinels: the port of the master the first sentinel names. */
static inline int
sentinel_master_port (void)
{
  int sentinels[8];
  int n = ports_from_env ("REDIS_SENTINEL_PORTS", sentinels, 8);
  const char *service = g_getenv ("REDIS_SENTINEL_SERVICE");

  for (int i = 0; i < n; i++)
    {
      redisContext *c = raw_try_connect_to (sentinels[i], 1.0);
      redisReply *reply;
      int port = 0;

      if (c == NULL)
        continue;
      reply = redisCommand (c, "SENTINEL get-master-addr-by-name %s", service);
      if (reply != NULL && reply->type == REDIS_REPLY_ARRAY
          && reply->elements == 2)
        port = atoi (reply->element[1]->str);
      if (reply != NULL)
        freeReplyObject (reply);
      redisFree (c);
      if (port != 0)
        return port;
    }
  cr_assert_fail ("no sentinel names the master of %s", service);
  return 0;
}

/* A raw connection to the server holding @key: in a cluster
 * (REDIS_CLUSTER_PORTS set) the master serving its slot, behind sentinels
 * the master they name, else REDIS_PORT. */
static inline redisContext *
raw_connect_for_key (const char *key)
{
  int port;

  if (g_getenv ("REDIS_SENTINEL_PORTS") != NULL)
    return raw_connect_to (sentinel_master_port ());
  if (g_getenv ("REDIS_CLUSTER_PORTS") == NULL)
    return raw_connect ();
  port = raw_cluster_port_for_slot (raw_cluster_key_slot (key));
  cr_assert_gt (port, 0, "no master serves the slot of %s", key);
  return raw_connect_to (port);
}

/* The server's process id, from the pid file the harness gave it. */
static inline pid_t
redis_server_pid (int port)
{
  g_autofree char *name = g_strdup_printf ("DOGPILE_REDIS_PIDFILE_%d", port);

  return harness_pid (name);
}

/* Starts the server of @port again, as the harness first did. */
static inline void
redis_server_restart (int port)
{
  g_autofree char *name = g_strdup_printf ("DOGPILE_REDIS_COMMAND_%d", port);

  harness_restart (name, FALSE);
}

/* Polls @check (with @data) every 20 ms for up to @seconds. */
static inline gboolean
wait_for (gboolean (*check) (gpointer data), gpointer data, double seconds)
{
  double deadline = monotonic_seconds () + seconds;

  do
    {
      if (check (data))
        return TRUE;
      g_usleep (20000);
    }
  while (monotonic_seconds () < deadline);
  return check (data);
}

/* A field of INFO's @section on the server at @port, as a string
 * (g_free it), or NULL when it has none. */
static inline char *
raw_info_string (int port, const char *section, const char *field)
{
  redisContext *c = raw_try_connect_to (port, 1.0);
  redisReply *reply;
  g_autofree char *needle = g_strdup_printf ("\n%s:", field);
  char *value = NULL;

  if (c == NULL)
    return NULL;
  reply = redisCommand (c, "INFO %s", section);
  if (reply != NULL && reply->type == REDIS_REPLY_STRING)
    {
      const char *at = strstr (reply->str, needle);

      if (at != NULL)
        {
          at += strlen (needle);
          value = g_strndup (at, strcspn (at, "\r\n"));
        }
    }
  if (reply != NULL)
    freeReplyObject (reply);
  redisFree (c);
  return value;
}

/* How many times the server at @port ran @command (INFO commandstats:
 * "get", "mget", "sentinel|get-master-addr-by-name"). */
static inline long long
raw_command_calls (int port, const char *command)
{
  g_autofree char *field = g_strdup_printf ("cmdstat_%s", command);
  g_autofree char *value = raw_info_string (port, "commandstats", field);

  return value != NULL ? strtoll (value + strlen ("calls="), NULL, 10) : 0;
}

/* How many error replies starting with @prefix ("MOVED", "ASK") the
 * server at @port sent (INFO errorstats). */
static inline long long
raw_error_count (int port, const char *prefix)
{
  g_autofree char *field = g_strdup_printf ("errorstat_%s", prefix);
  g_autofree char *value = raw_info_string (port, "errorstats", field);

  return value != NULL ? strtoll (value + strlen ("count="), NULL, 10) : 0;
}
