/* fuzz-redis-topology.c: what servers answer about the topology, on any
 * RESP bytes: CLUSTER SLOTS and the MOVED / ASK / TRYAGAIN / CLUSTERDOWN
 * redirects (plugins/redis/redis-router-cluster.c), SENTINEL
 * get-master-addr-by-name, SENTINEL replicas and ROLE
 * (redis-router-sentinel.c), through the real routers, command layer
 * (redis-command.c) and reply builder.
 *
 * The connections and pools (redis-connection.c, redis-pool.c) are
 * replaced here by a fake network: every read takes the next reply
 * parsed from the input, and the input's end is the server closing the
 * connection.  The first byte chooses the mode: bit 0 Cluster or Sentinel,
 * bit 1 read_from_replicas, bit 2 a read-only batch first.
 *
 * Invariants besides not crashing or leaking:
 *  - the routers only ever connect to an address they were configured
 *    with or a server named (a host that appears in some reply);
 *  - they send only the commands of the protocol, whole;
 *  - a batch that succeeds has every reply; one that fails has an error
 *    with a message, and keeps no reply;
 *  - the number of servers contacted is bounded by what the replies name.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz-common.h"

#include "redis-command.h"

/* ---- the fake network ---------------------------------------------------
 */

struct RedisPool {
  RedisEndpoint endpoint;
  const RedisConnectOptions *options;
  GPtrArray *idle; /* RedisConnection * */
};

static struct {
  redisReader *reader;
  GPtrArray *named;  /* strings of every reply served, and the config's */
  guint connections; /* opened this input */
  guint pools;       /* alive */
  guint open;        /* connections alive */
} net;

static void
name_strings (const redisReply *reply)
{
  if (reply->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i < reply->elements; i++)
      name_strings (reply->element[i]);
  else if (reply->str != NULL)
    g_ptr_array_add (net.named, g_strndup (reply->str, reply->len));
}

/* Whether @endpoint's host is one the routers were told of. */
static void
check_named (const RedisEndpoint *endpoint)
{
  if (endpoint->path != NULL)
    return;
  for (guint i = 0; i < net.named->len; i++)
    if (strstr (net.named->pdata[i], endpoint->host) != NULL)
      return;
  fuzz_fail ("a router connects to %s, which no reply named",
             endpoint->display);
}

static RedisConnection *
connection_new (const RedisEndpoint *endpoint,
                const RedisConnectOptions *options)
{
  RedisConnection *c = g_new0 (RedisConnection, 1);

  check_named (endpoint);
  fuzz_assert (++net.connections < 10000, "10000 connections for one input");
  redis_endpoint_copy (&c->endpoint, endpoint);
  c->options = options;
  net.open++;
  return c;
}

/* Time does not pass on this network: a deadline is only carried, and
 * the router's pause before retrying a TRYAGAIN is skipped (this
 * definition takes the place of GLib's in this program). */
void
g_usleep (gulong microseconds)
{
}
/* Time does not pass on this network: a deadline is only carried. */
void
redis_deadline_start (RedisDeadline *self, const RedisConnectOptions *options)
{
  memset (self, 0, sizeof *self);
  self->end = g_get_monotonic_time () + (gint64) 3600 * G_USEC_PER_SEC;
  self->connect_left = (gint64) 3600 * G_USEC_PER_SEC;
  self->socket_timeout = options->socket_timeout;
  self->connect_timeout = options->connect_timeout;
}

gint64
redis_deadline_left (const RedisDeadline *self)
{
  return self->end - g_get_monotonic_time ();
}

void
redis_deadline_share (const RedisDeadline *call, guint ways,
                      RedisDeadline *out)
{
  *out = *call;
  out->share = call->socket_timeout / MAX (ways, 1);
}

void
redis_deadline_merge (RedisDeadline *call, const RedisDeadline *share)
{
}

char *
redis_deadline_describe (const RedisDeadline *self)
{
  return g_strdup_printf ("%g s (socket_timeout)", self->socket_timeout);
}

RedisConnection *
redis_connection_open (const RedisEndpoint *endpoint,
                       const RedisConnectOptions *options,
                       RedisDeadline *deadline, GError **error)
{
  return connection_new (endpoint, options);
}

void
redis_connection_free (RedisConnection *self)
{
  if (self == NULL)
    return;
  redis_endpoint_clear (&self->endpoint);
  g_free (self);
  net.open--;
}

gboolean
redis_connection_is_open (RedisConnection *self)
{
  return TRUE;
}

gboolean
redis_connection_append (RedisConnection *self, int argc, const char **argv,
                         const size_t *argvlen, GError **error)
{
  static const char *const known[]
      = { "GET", "CLUSTER", "ROLE", "SENTINEL", "ASKING" };
  gboolean ok = FALSE;

  fuzz_assert (argc >= 1 && argv != NULL && argvlen != NULL,
               "a command of %d words", argc);
  for (int i = 0; i < argc; i++)
    fuzz_assert (argv[i] != NULL && memchr (argv[i], '\0', argvlen[i]) == NULL,
                 "word %d of a command is not whole", i);
  for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
    ok |= argvlen[0] == strlen (known[i])
          && memcmp (argv[0], known[i], argvlen[0]) == 0;
  fuzz_assert (ok, "a router sends %.*s", (int) argvlen[0], argv[0]);
  fuzz_assert (!redis_connection_is_broken (self),
               "a command on a broken connection");
  return TRUE;
}

gboolean
redis_connection_flush (RedisConnection *self, RedisDeadline *deadline,
                        GError **error)
{
  return TRUE;
}

gboolean
redis_connection_read (RedisConnection *self, RedisDeadline *deadline,
                       redisReply **out_reply, GError **error)
{
  void *reply = NULL;

  fuzz_assert (!redis_connection_is_broken (self),
               "a read on a broken connection");
  if (redisReaderGetReply (net.reader, &reply) != REDIS_OK || reply == NULL)
    {
      redis_reply_free (reply);
      self->failure = REDIS_FAILURE_CLOSED;
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "%s: the server closed the connection (the input ends)",
                   self->endpoint.display);
      return FALSE;
    }
  name_strings (reply);
  *out_reply = reply;
  return TRUE;
}

RedisPool *
redis_pool_new (const RedisEndpoint *endpoint,
                const RedisConnectOptions *options, guint size)
{
  RedisPool *self = g_new0 (RedisPool, 1);

  check_named (endpoint);
  fuzz_assert (++net.pools < 1000, "1000 pools for one input");
  redis_endpoint_copy (&self->endpoint, endpoint);
  self->options = options;
  self->idle = g_ptr_array_new_with_free_func (
      (GDestroyNotify) redis_connection_free);
  return self;
}

void
redis_pool_drop_idle (RedisPool *self)
{
  g_ptr_array_set_size (self->idle, 0);
}

void
redis_pool_free (RedisPool *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->idle);
  redis_endpoint_clear (&self->endpoint);
  g_free (self);
  net.pools--;
}

RedisConnection *
redis_pool_acquire (RedisPool *self, RedisDeadline *deadline, GError **error)
{
  if (self->idle->len > 0)
    return g_ptr_array_steal_index (self->idle, self->idle->len - 1);
  return connection_new (&self->endpoint, self->options);
}

void
redis_pool_release (RedisPool *self, RedisConnection *connection)
{
  fuzz_assert (redis_endpoint_equal (&connection->endpoint, &self->endpoint),
               "a connection to %s released to the pool of %s",
               connection->endpoint.display, self->endpoint.display);
  if (redis_connection_is_broken (connection))
    redis_connection_free (connection);
  else
    g_ptr_array_add (self->idle, connection);
}

const RedisEndpoint *
redis_pool_get_endpoint (RedisPool *self)
{
  return &self->endpoint;
}

const RedisConnectOptions *
redis_pool_get_options (RedisPool *self)
{
  return self->options;
}

void
redis_fork_hook_add (RedisForkHook *hook)
{
}

void
redis_fork_hook_remove (RedisForkHook *hook)
{
}

/* ---- the target ---------------------------------------------------------
 */

static const RedisVariant cluster_variant
    = { "dogpile.cache.redis_cluster", "Redis", "redis_expiration_time",
        REDIS_MODE_CLUSTER };
static const RedisVariant sentinel_variant
    = { "dogpile.cache.redis_sentinel", "Redis", "redis_expiration_time",
        REDIS_MODE_SENTINEL };

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

static void
run_get (RedisRouter *router, const RedisConfig *config, const char *key,
         RedisBatchFlags flags)
{
  const char *argv[2] = { "GET", key };
  size_t argvlen[2] = { 3, strlen (key) };
  RedisCommand command = { 2, argv, argvlen };
  redisReply *reply = NULL;
  RedisBatch batch;
  RedisDeadline deadline;
  g_autoptr (GError) error = NULL;

  redis_deadline_start (&deadline, &config->connect);
  redis_batch_init (&batch, key, strlen (key), &command, 1,
                    flags | REDIS_BATCH_RETRY_SAFE, &reply);
  if (redis_execute (router, &deadline, &batch, 1, &error))
    {
      fuzz_assert (reply != NULL, "a batch succeeds without its reply");
      redis_batch_clear (&batch);
    }
  else
    {
      fuzz_assert (error != NULL && error->message[0] != '\0',
                   "a batch fails without a message");
      fuzz_assert (reply == NULL, "a failed batch keeps a reply");
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GHashTable) arguments
      = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (RedisConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  RedisRouter *router;
  guint8 mode;

  if (size == 0)
    return 0;
  mode = data[0];
  g_hash_table_insert (arguments, "socket_timeout", "1");
  if (mode & 1)
    {
      g_hash_table_insert (arguments, "sentinels",
                           "127.0.0.1:26379, 127.0.0.2:26380");
      g_hash_table_insert (arguments, "service_name", "mymaster");
      g_hash_table_insert (arguments, "read_from_replicas",
                           (mode & 2) ? "true" : "false");
    }
  else
    g_hash_table_insert (arguments, "startup_nodes",
                         "127.0.0.1:7000, 127.0.0.2:7001");
  config = redis_config_new ((mode & 1) ? &sentinel_variant : &cluster_variant,
                             arguments, &error);
  fuzz_assert (config != NULL, "the fixed config: %s", error->message);

  net.reader = redisReaderCreateWithFunctions (&redis_reply_functions);
  net.named = g_ptr_array_new_with_free_func (g_free);
  net.connections = 0;
  g_ptr_array_add (net.named, g_strdup ("127.0.0.1 127.0.0.2"));
  redisReaderFeed (net.reader, (const char *) data + 1, size - 1);

  router = (mode & 1) ? redis_router_sentinel_new (config)
                      : redis_router_cluster_new (config);
  run_get (router, config, "first", (mode & 4) ? REDIS_BATCH_READ_ONLY : 0);
  run_get (router, config, "{user1000}.following", REDIS_BATCH_READ_ONLY);
  run_get (router, config, "second", 0);
  redis_router_free (router);

  fuzz_assert (net.pools == 0, "%u pools outlive their router", net.pools);
  fuzz_assert (net.open == 0, "%u connections outlive their router", net.open);
  redisReaderFree (net.reader);
  g_ptr_array_unref (net.named);
  return 0;
}
