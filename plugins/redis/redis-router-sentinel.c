/* redis-router-sentinel.c: dogpile.cache.redis_sentinel -- the master of a
 * service, found through its sentinels.
 *
 * Discovery asks the sentinels in turn, starting with the one that
 * answered last, `SENTINEL get-master-addr-by-name <service>` (and, with
 * read_from_replicas, `SENTINEL replicas <service>` in the same round
 * trip), on a connection of its own with the sentinel credentials, then
 * checks the address with ROLE on a connection of the master's pool: a
 * sentinel that has not yet heard of a failover, or a master not yet
 * demoted, must not be written to.  A sentinel that is down, does not
 * know the service or names a server that is not a master is skipped, and
 * the error says what each one answered.
 *
 * Time: discovery is part of the call that runs it, and ends with its
 * deadline (redis-connection.h).  Each sentinel asked (with the ROLE check
 * of the master it names) gets an equal share of what is left (the last
 * one all of it), so a silent sentinel costs its share and the next one
 * still gets an answer in.  A failure that used up the call's time (a
 * timeout) leaves the discovery for the next call, which runs it first
 * (redis_refresh_wanted).
 *
 * Rediscovery happens in the callers' threads, one at a time and at most
 * once per DISCOVERY_INTERVAL_US (redis-refresh.h), when
 *  - a connection to the current master (or replica) failed: a failover
 *    closes the old master's connections (the sentinel's CLIENT KILL when
 *    it demotes it), so the call's retry, which waits for the discovery,
 *    goes to the new master;
 *  - the master answers READONLY, LOADING or MASTERDOWN: it was demoted
 *    (or is resyncing); the batch goes to the new master if discovery
 *    found one, else the error reaches the caller.
 * A failure on a server that is no longer current (the old master's last
 * connections) does not rediscover: the routing has moved on already.
 *
 * Reads go to the master unless read_from_replicas is set; then to the
 * replicas the sentinel reported healthy at the last discovery (not down,
 * not disconnected, link to the master up), in turn, or to the master
 * when there is none.  A replica whose connection fails is skipped for
 * REPLICA_BACKOFF_US, then tried again.
 *
 * The master and the replicas are atomic pointers to server records that
 * live as long as the router (one per address ever seen): routing is one
 * atomic load.  A former master keeps its record but closes its idle
 * connections.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdatomic.h>

#include "redis-command.h"
#include "redis-refresh.h"
#include "redis-router.h"

#define DISCOVERY_INTERVAL_US (100 * 1000)
#define MAX_REPLICAS 16
/* A replica whose connection failed serves no reads for this long: the
 * sentinel may take down-after-milliseconds (30 s by default) to say it
 * is down. */
#define REPLICA_BACKOFF_US (1000 * 1000)

typedef struct {
  RedisEndpoint endpoint;
  RedisPool *pool;
  _Atomic gint64 avoid_until; /* monotonic µs; reads skip it until then */
} ServerNode;

typedef struct {
  RedisRouter parent;
  const RedisConfig *config;
  RedisConnectOptions sentinel_options; /* credentials for the sentinels */
  RedisRefresh refresh;   /* its lock guards nodes and by_address */
  GPtrArray *nodes;       /* every server ever named, freed with the router */
  GHashTable *by_address; /* endpoint display -> ServerNode */
  ServerNode *master;     /* atomic */
  ServerNode *replicas[MAX_REPLICAS]; /* atomic; the first n_replicas */
  gint n_replicas;                    /* atomic */
  gint next_replica;                  /* atomic: round robin */
  gint first_sentinel;                /* atomic: the one that answered last */
} SentinelRouter;

static void
node_free (gpointer data)
{
  ServerNode *node = data;

  redis_pool_free (node->pool);
  redis_endpoint_clear (&node->endpoint);
  g_free (node);
}

static ServerNode *
node_for (SentinelRouter *self, const RedisEndpoint *endpoint)
{
  ServerNode *node;

  redis_refresh_lock (&self->refresh);
  node = g_hash_table_lookup (self->by_address, endpoint->display);
  if (node == NULL)
    {
      node = g_new0 (ServerNode, 1);
      redis_endpoint_copy (&node->endpoint, endpoint);
      node->pool = redis_pool_new (&node->endpoint, &self->config->connect,
                                   self->config->pool_size);
      g_ptr_array_add (self->nodes, node);
      g_hash_table_insert (self->by_address, node->endpoint.display, node);
    }
  redis_refresh_unlock (&self->refresh);
  return node;
}

static gboolean
has_prefix (const redisReply *reply, const char *prefix)
{
  size_t n = strlen (prefix);

  return reply->type == REDIS_REPLY_ERROR && reply->len >= n
         && memcmp (reply->str, prefix, n) == 0;
}

static gboolean
parse_port (const redisReply *reply, guint16 *out)
{
  guint64 port;
  char *end;

  if (reply->type != REDIS_REPLY_STRING || reply->len == 0)
    return FALSE;
  port = g_ascii_strtoull (reply->str, &end, 10);
  if (*end != '\0' || port == 0 || port > 65535)
    return FALSE;
  *out = (guint16) port;
  return TRUE;
}

/* The healthy replicas in a `SENTINEL replicas` reply: flat arrays of
 * field names and values. */
static void
parse_replicas (const redisReply *reply, GArray *out)
{
  if (reply->type != REDIS_REPLY_ARRAY)
    return;
  for (size_t i = 0; i < reply->elements && out->len < MAX_REPLICAS; i++)
    {
      const redisReply *fields = reply->element[i];
      const char *ip = NULL, *flags = "", *link = "";
      guint16 port = 0;
      RedisEndpoint endpoint;

      if (fields->type != REDIS_REPLY_ARRAY)
        continue;
      for (size_t f = 0; f + 1 < fields->elements; f += 2)
        {
          const redisReply *name = fields->element[f];
          const redisReply *value = fields->element[f + 1];

          if (name->type != REDIS_REPLY_STRING
              || value->type != REDIS_REPLY_STRING)
            continue;
          if (strcmp (name->str, "ip") == 0)
            ip = value->str;
          else if (strcmp (name->str, "port") == 0)
            parse_port (value, &port);
          else if (strcmp (name->str, "flags") == 0)
            flags = value->str;
          else if (strcmp (name->str, "master-link-status") == 0)
            link = value->str;
        }
      if (ip == NULL || ip[0] == '\0' || port == 0
          || strstr (flags, "s_down") != NULL
          || strstr (flags, "o_down") != NULL
          || strstr (flags, "disconnected") != NULL
          || strcmp (link, "ok") != 0)
        continue;
      redis_endpoint_init_tcp (&endpoint, ip, port);
      g_array_append_val (out, endpoint);
    }
}

static gboolean sentinel_error (SentinelRouter *self,
                                const RedisEndpoint *sentinel, GError **error,
                                const char *format, ...) G_GNUC_PRINTF (4, 5);

static gboolean
sentinel_error (SentinelRouter *self, const RedisEndpoint *sentinel,
                GError **error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND, "sentinel %s: %s",
               sentinel->display, message);
  return FALSE;
}

/* What @sentinel says the master of the service is (and its healthy
 * replicas, when they are asked for). */
static gboolean
ask_sentinel (SentinelRouter *self, const RedisEndpoint *sentinel,
              RedisDeadline *deadline, RedisEndpoint *out_master,
              GArray *out_replicas, GError **error)
{
  const char *service = self->config->service_name;
  const char *master_argv[3]
      = { "SENTINEL", "get-master-addr-by-name", service };
  size_t master_argvlen[3] = { 8, 23, strlen (service) };
  const char *replicas_argv[3] = { "SENTINEL", "replicas", service };
  size_t replicas_argvlen[3] = { 8, 8, strlen (service) };
  gboolean want_replicas = self->config->read_from_replicas;
  g_autoptr (GError) local_error = NULL;
  redisReply *replies[2] = { NULL, NULL };
  RedisConnection *connection;
  const redisReply *address;
  gboolean ok = FALSE;
  guint16 port;

  connection = redis_connection_open (sentinel, &self->sentinel_options,
                                      deadline, &local_error);
  if (connection == NULL)
    return sentinel_error (self, sentinel, error, "%s", local_error->message);
  if (!redis_connection_append (connection, 3, master_argv, master_argvlen,
                                &local_error)
      || (want_replicas
          && !redis_connection_append (connection, 3, replicas_argv,
                                       replicas_argvlen, &local_error))
      || !redis_connection_flush (connection, deadline, &local_error)
      || !redis_connection_read (connection, deadline, &replies[0],
                                 &local_error)
      || (want_replicas
          && !redis_connection_read (connection, deadline, &replies[1],
                                     &local_error)))
    {
      sentinel_error (self, sentinel, error, "%s", local_error->message);
      goto out;
    }
  address = replies[0];
  if (address->type == REDIS_REPLY_NIL)
    sentinel_error (self, sentinel, error,
                    "does not know the service '%s' (service_name)", service);
  else if (address->type == REDIS_REPLY_ERROR)
    {
      g_autofree char *text = redis_reply_text (address);

      sentinel_error (self, sentinel, error,
                      "SENTINEL get-master-addr-by-name failed: %s", text);
    }
  else if (address->type != REDIS_REPLY_ARRAY || address->elements != 2
           || address->element[0]->type != REDIS_REPLY_STRING
           || address->element[0]->len == 0
           || !parse_port (address->element[1], &port))
    sentinel_error (self, sentinel, error,
                    "unexpected reply to SENTINEL get-master-addr-by-name");
  else
    {
      redis_endpoint_init_tcp (out_master, address->element[0]->str, port);
      if (want_replicas)
        parse_replicas (replies[1], out_replicas);
      ok = TRUE;
    }

out:
  redis_reply_free (replies[0]);
  redis_reply_free (replies[1]);
  redis_connection_free (connection);
  return ok;
}

/* ROLE on a connection of @node's pool: it must say master.  A user whose
 * ACL does not allow ROLE (an @admin command) cannot check: the
 * sentinel's word is taken then. */
static gboolean
verify_master (SentinelRouter *self, ServerNode *node,
               const RedisEndpoint *sentinel, RedisDeadline *deadline,
               GError **error)
{
  static const char *argv[1] = { "ROLE" };
  static const size_t argvlen[1] = { 4 };
  RedisCommand command = { 1, argv, argvlen };
  g_autoptr (GError) local_error = NULL;
  redisReply *reply = NULL;
  RedisBatch batch;
  gboolean ok = FALSE;

  redis_batch_init (&batch, NULL, 0, &command, 1, REDIS_BATCH_RETRY_SAFE,
                    &reply);
  if (!redis_execute_on_pool (node->pool, deadline, &batch, &local_error))
    return sentinel_error (self, sentinel, error, "names %s as the master: %s",
                           node->endpoint.display, local_error->message);
  if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0
      && reply->element[0]->type == REDIS_REPLY_STRING)
    {
      ok = strcmp (reply->element[0]->str, "master") == 0;
      if (!ok)
        sentinel_error (self, sentinel, error,
                        "names %s as the master, and it says it is a %s "
                        "(ROLE): a failover may be under way",
                        node->endpoint.display, reply->element[0]->str);
    }
  else if (has_prefix (reply, "NOPERM"))
    ok = TRUE;
  else if (reply->type == REDIS_REPLY_ERROR)
    {
      g_autofree char *text = redis_reply_text (reply);

      sentinel_error (self, sentinel, error,
                      "names %s as the master: ROLE failed: %s",
                      node->endpoint.display, text);
    }
  else
    sentinel_error (self, sentinel, error,
                    "names %s as the master: "
                    "unexpected reply to ROLE",
                    node->endpoint.display);
  redis_batch_clear (&batch);
  return ok;
}

static void
install (SentinelRouter *self, ServerNode *master, GArray *replicas)
{
  ServerNode *previous = g_atomic_pointer_get (&self->master);
  guint n = 0;

  g_atomic_pointer_set (&self->master, master);
  /* Readers of a shrinking list see either fewer entries or a valid one. */
  g_atomic_int_set (&self->n_replicas, 0);
  for (guint i = 0; i < replicas->len; i++)
    {
      ServerNode *replica
          = node_for (self, &g_array_index (replicas, RedisEndpoint, i));

      if (replica != master)
        g_atomic_pointer_set (&self->replicas[n++], replica);
    }
  g_atomic_int_set (&self->n_replicas, (gint) n);
  if (previous != NULL && previous != master)
    {
      g_debug ("%s Sentinel: the master of '%s' moved from %s to %s",
               self->config->variant->product, self->config->service_name,
               previous->endpoint.display, master->endpoint.display);
      redis_pool_drop_idle (previous->pool);
    }
}

static void
clear_endpoint (gpointer data)
{
  redis_endpoint_clear (data);
}

/* A RedisRefreshFunc: the master (and replicas) from the first sentinel
 * whose answer checks out, each sentinel (and the ROLE check of the
 * master it names) within its share of what is left of @deadline. */
static gboolean
discover (gpointer data, RedisDeadline *deadline, GError **error)
{
  SentinelRouter *self = data;
  const RedisConfig *config = self->config;
  guint n = config->n_sentinels;
  guint first = (guint) g_atomic_int_get (&self->first_sentinel) % n;
  g_autoptr (GString) failures = g_string_new (NULL);

  for (guint k = 0; k < n; k++)
    {
      guint i = (first + k) % n;
      const RedisEndpoint *sentinel = &config->sentinels[i];
      g_autoptr (GArray) replicas
          = g_array_new (FALSE, TRUE, sizeof (RedisEndpoint));
      g_autoptr (GError) local_error = NULL;
      RedisEndpoint address = { 0 };
      ServerNode *master = NULL;
      RedisDeadline share;
      gboolean ok;

      g_array_set_clear_func (replicas, clear_endpoint);
      redis_deadline_share (deadline, n - k, &share);
      ok = ask_sentinel (self, sentinel, &share, &address, replicas,
                         &local_error);
      if (ok)
        {
          master = node_for (self, &address);
          redis_endpoint_clear (&address);
          ok = verify_master (self, master, sentinel, &share, &local_error);
        }
      redis_deadline_merge (deadline, &share);
      if (!ok)
        {
          g_string_append_printf (failures, "%s%s", k > 0 ? "; " : "",
                                  local_error->message);
          continue;
        }
      install (self, master, replicas);
      g_atomic_int_set (&self->first_sentinel, (gint) i);
      return TRUE;
    }
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
               "%s Sentinel: cannot find the master of '%s': %s",
               config->variant->product, config->service_name, failures->str);
  return FALSE;
}

static G_GNUC_NO_INLINE RedisPool *
route_slow (SentinelRouter *self, RedisDeadline *deadline, GError **error)
{
  ServerNode *master;

  if (!redis_refresh_run (&self->refresh, REDIS_REFRESH_NEEDED, discover, self,
                          deadline, error))
    return NULL;
  master = g_atomic_pointer_get (&self->master);
  if (master != NULL)
    return master->pool;
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
               "%s Sentinel: no master known for '%s'",
               self->config->variant->product, self->config->service_name);
  return NULL;
}

/* The next replica in turn that is not being avoided, or NULL. */
static ServerNode *
pick_replica (SentinelRouter *self)
{
  gint n = g_atomic_int_get (&self->n_replicas);
  guint start;
  gint64 now = 0;

  if (n <= 0)
    return NULL;
  start = (guint) g_atomic_int_add (&self->next_replica, 1);
  for (gint k = 0; k < n; k++)
    {
      ServerNode *replica = g_atomic_pointer_get (
          &self->replicas[(start + (guint) k) % (guint) n]);
      gint64 avoid_until;

      if (replica == NULL)
        continue;
      avoid_until
          = atomic_load_explicit (&replica->avoid_until, memory_order_relaxed);
      if (avoid_until == 0)
        return replica;
      if (now == 0)
        now = g_get_monotonic_time ();
      if (now >= avoid_until)
        return replica;
    }
  return NULL;
}

static RedisPool *
sentinel_route (RedisRouter *router, const char *key, gsize key_len,
                RedisRouteFlags flags, RedisDeadline *deadline, GError **error)
{
  SentinelRouter *self = (SentinelRouter *) router;
  ServerNode *master;

  /* A discovery a call that timed out left for later. */
  if (G_UNLIKELY (redis_refresh_wanted (&self->refresh)))
    redis_refresh_run (&self->refresh, REDIS_REFRESH_IF_DUE, discover, self,
                       deadline, NULL);

  if ((flags & REDIS_ROUTE_READ_ONLY) && self->config->read_from_replicas)
    {
      ServerNode *replica = pick_replica (self);

      if (replica != NULL)
        return replica->pool;
    }
  master = g_atomic_pointer_get (&self->master);
  if (G_LIKELY (master != NULL))
    return master->pool;
  return route_slow (self, deadline, error);
}

static gboolean
is_master (SentinelRouter *self, RedisPool *pool)
{
  ServerNode *master = g_atomic_pointer_get (&self->master);

  return master != NULL && master->pool == pool;
}

static ServerNode *
replica_of_pool (SentinelRouter *self, RedisPool *pool)
{
  gint n = g_atomic_int_get (&self->n_replicas);

  for (gint i = 0; i < n; i++)
    {
      ServerNode *replica = g_atomic_pointer_get (&self->replicas[i]);

      if (replica != NULL && replica->pool == pool)
        return replica;
    }
  return NULL;
}

static RedisPool *
sentinel_redirect (RedisRouter *router, RedisPool *pool,
                   const redisReply *reply, gboolean *out_asking,
                   RedisDeadline *deadline, GError **error)
{
  SentinelRouter *self = (SentinelRouter *) router;
  ServerNode *master, *now;

  if (!has_prefix (reply, "READONLY") && !has_prefix (reply, "LOADING")
      && !has_prefix (reply, "MASTERDOWN"))
    return NULL;
  master = g_atomic_pointer_get (&self->master);
  /* A replica that cannot serve, or a former master: the master can. */
  if (master != NULL && master->pool != pool)
    return master->pool;
  if (!redis_refresh_run (&self->refresh, REDIS_REFRESH_NEEDED, discover, self,
                          deadline, NULL))
    return NULL;
  now = g_atomic_pointer_get (&self->master);
  return now != master ? now->pool : NULL;
}

static void
sentinel_failed (RedisRouter *router, RedisPool *pool, RedisFailure failure,
                 RedisDeadline *deadline)
{
  SentinelRouter *self = (SentinelRouter *) router;

  ServerNode *replica;

  if (failure == REDIS_FAILURE_CLOSED)
    redis_pool_drop_idle (pool);
  replica = replica_of_pool (self, pool);
  if (replica != NULL)
    atomic_store_explicit (&replica->avoid_until,
                           g_get_monotonic_time () + REPLICA_BACKOFF_US,
                           memory_order_relaxed);
  else if (!is_master (self, pool))
    return;
  /* A closed or refused connection is what a failover looks like, and
   * the call may be retried: wait for the discovery.  A timed-out call is
   * not retried and has no time left: its discovery is left for the next
   * call. */
  redis_refresh_run (&self->refresh,
                     failure == REDIS_FAILURE_TIMEOUT ? REDIS_REFRESH_IF_DUE
                                                      : REDIS_REFRESH_NEEDED,
                     discover, self, deadline, NULL);
}

static void
sentinel_free (RedisRouter *router)
{
  SentinelRouter *self = (SentinelRouter *) router;

  redis_refresh_clear (&self->refresh);
  g_hash_table_destroy (self->by_address);
  g_ptr_array_free (self->nodes, TRUE);
  g_free (self);
}

static const RedisRouterFuncs sentinel_funcs = {
  .route = sentinel_route,
  .redirect = sentinel_redirect,
  .failed = sentinel_failed,
  .free = sentinel_free,
};

/**
 * redis_router_sentinel_new:
 * @config: a sentinel configuration; must outlive the router
 *
 * Connects to nothing: the first call discovers the master.  Discovery
 * takes one round trip to a sentinel and one to the master when they
 * answer, and ends with the deadline of the call that runs it.
 *
 * Returns: (transfer full): the router.
 */
RedisRouter *
redis_router_sentinel_new (const RedisConfig *config)
{
  SentinelRouter *self = g_new0 (SentinelRouter, 1);

  self->parent.funcs = &sentinel_funcs;
  self->config = config;
  self->sentinel_options = config->connect;
  self->sentinel_options.username = config->sentinel_username;
  self->sentinel_options.password = config->sentinel_password;
  self->sentinel_options.db = 0;
  self->nodes = g_ptr_array_new_with_free_func (node_free);
  self->by_address = g_hash_table_new (g_str_hash, g_str_equal);
  redis_refresh_init (&self->refresh, "the master from the sentinels",
                      DISCOVERY_INTERVAL_US);
  return &self->parent;
}
