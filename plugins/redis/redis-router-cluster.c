/* redis-router-cluster.c: dogpile.cache.redis_cluster -- keys spread over
 * the masters of a Redis Cluster by hash slot.
 *
 * The slot map.  16384 atomic node pointers, one per hash slot: routing a
 * key is one CRC16 and one atomic load, with no lock and no reference
 * count on the hot path.  The map is read with CLUSTER SLOTS from the
 * first node that answers -- the known masters, then the startup nodes --
 * and written slot by slot (only the slots that changed), so a reader may
 * see a map half old and half new: each slot is still some node's, and a
 * slot routed to its former owner comes back MOVED and is corrected.
 * Nodes are never freed while the router lives, so a pointer read from
 * the map stays valid however long its reader takes; a node that leaves
 * the map keeps its (small) record and closes its idle connections.  The
 * nodes table, the list of masters and the refreshes are guarded by the
 * refresher's lock (redis-refresh.h), never taken on the hot path.
 *
 * Redirects (redis-command.c follows them, at most 16 per batch):
 *   MOVED <slot> <host:port>  the slot has a new owner: the map is
 *                             corrected for that slot at once, the batch
 *                             goes there, and the whole map is read again
 *                             (the target asked first), at most once per
 *                             REFRESH_INTERVAL_US;
 *   ASK <slot> <host:port>    the slot is being migrated and this key has
 *                             left: the batch goes there once, after
 *                             ASKING; the map is not changed;
 *   TRYAGAIN                  a multi-key command during a migration
 *                             whose keys are split: sent again to the same
 *                             node after TRYAGAIN_DELAY_US;
 *   CLUSTERDOWN               reported; the map is read again if due.
 * A connection failure (a node down or silent) is reported to the caller
 * and the map is read again if due, asking the failed node last: a master
 * replaced by its replica is then found without waiting for a MOVED.
 *
 * Time: reading the map is part of the call that reads it, and ends with
 * its deadline (redis-connection.h).  The nodes are asked in turn, each
 * given an equal share of what is left (the last one all of it), so a
 * silent node costs its share and the next one still gets an answer in.
 * A failure that used up the call's time (a timeout) leaves the read for
 * the next call, which runs it first (redis_refresh_wanted), asking the
 * node that failed last.
 *
 * Multi-key commands (MGET, MSET, DEL, MULTI blocks) must keep to one
 * slot, so the key group is the hash slot; the command layer sends all
 * the groups bound for one node in one round trip.
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-command.h"
#include "redis-refresh.h"
#include "redis-router.h"

#define CLUSTER_SLOTS 16384
#define REFRESH_INTERVAL_US (100 * 1000)
#define TRYAGAIN_DELAY_US (20 * 1000)

/* CRC16-XMODEM (polynomial 0x1021, initial value 0): the Redis Cluster
 * specification's key hash. */
static const guint16 crc16_table[256] = {
  0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7, 0x8108,
  0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef, 0x1231, 0x0210,
  0x3273, 0x2252, 0x52b5, 0x4294, 0x72f7, 0x62d6, 0x9339, 0x8318, 0xb37b,
  0xa35a, 0xd3bd, 0xc39c, 0xf3ff, 0xe3de, 0x2462, 0x3443, 0x0420, 0x1401,
  0x64e6, 0x74c7, 0x44a4, 0x5485, 0xa56a, 0xb54b, 0x8528, 0x9509, 0xe5ee,
  0xf5cf, 0xc5ac, 0xd58d, 0x3653, 0x2672, 0x1611, 0x0630, 0x76d7, 0x66f6,
  0x5695, 0x46b4, 0xb75b, 0xa77a, 0x9719, 0x8738, 0xf7df, 0xe7fe, 0xd79d,
  0xc7bc, 0x48c4, 0x58e5, 0x6886, 0x78a7, 0x0840, 0x1861, 0x2802, 0x3823,
  0xc9cc, 0xd9ed, 0xe98e, 0xf9af, 0x8948, 0x9969, 0xa90a, 0xb92b, 0x5af5,
  0x4ad4, 0x7ab7, 0x6a96, 0x1a71, 0x0a50, 0x3a33, 0x2a12, 0xdbfd, 0xcbdc,
  0xfbbf, 0xeb9e, 0x9b79, 0x8b58, 0xbb3b, 0xab1a, 0x6ca6, 0x7c87, 0x4ce4,
  0x5cc5, 0x2c22, 0x3c03, 0x0c60, 0x1c41, 0xedae, 0xfd8f, 0xcdec, 0xddcd,
  0xad2a, 0xbd0b, 0x8d68, 0x9d49, 0x7e97, 0x6eb6, 0x5ed5, 0x4ef4, 0x3e13,
  0x2e32, 0x1e51, 0x0e70, 0xff9f, 0xefbe, 0xdfdd, 0xcffc, 0xbf1b, 0xaf3a,
  0x9f59, 0x8f78, 0x9188, 0x81a9, 0xb1ca, 0xa1eb, 0xd10c, 0xc12d, 0xf14e,
  0xe16f, 0x1080, 0x00a1, 0x30c2, 0x20e3, 0x5004, 0x4025, 0x7046, 0x6067,
  0x83b9, 0x9398, 0xa3fb, 0xb3da, 0xc33d, 0xd31c, 0xe37f, 0xf35e, 0x02b1,
  0x1290, 0x22f3, 0x32d2, 0x4235, 0x5214, 0x6277, 0x7256, 0xb5ea, 0xa5cb,
  0x95a8, 0x8589, 0xf56e, 0xe54f, 0xd52c, 0xc50d, 0x34e2, 0x24c3, 0x14a0,
  0x0481, 0x7466, 0x6447, 0x5424, 0x4405, 0xa7db, 0xb7fa, 0x8799, 0x97b8,
  0xe75f, 0xf77e, 0xc71d, 0xd73c, 0x26d3, 0x36f2, 0x0691, 0x16b0, 0x6657,
  0x7676, 0x4615, 0x5634, 0xd94c, 0xc96d, 0xf90e, 0xe92f, 0x99c8, 0x89e9,
  0xb98a, 0xa9ab, 0x5844, 0x4865, 0x7806, 0x6827, 0x18c0, 0x08e1, 0x3882,
  0x28a3, 0xcb7d, 0xdb5c, 0xeb3f, 0xfb1e, 0x8bf9, 0x9bd8, 0xabbb, 0xbb9a,
  0x4a75, 0x5a54, 0x6a37, 0x7a16, 0x0af1, 0x1ad0, 0x2ab3, 0x3a92, 0xfd2e,
  0xed0f, 0xdd6c, 0xcd4d, 0xbdaa, 0xad8b, 0x9de8, 0x8dc9, 0x7c26, 0x6c07,
  0x5c64, 0x4c45, 0x3ca2, 0x2c83, 0x1ce0, 0x0cc1, 0xef1f, 0xff3e, 0xcf5d,
  0xdf7c, 0xaf9b, 0xbfba, 0x8fd9, 0x9ff8, 0x6e17, 0x7e36, 0x4e55, 0x5e74,
  0x2e93, 0x3eb2, 0x0ed1, 0x1ef0,
};

/**
 * redis_cluster_key_slot:
 * @key: the key's bytes
 * @len: how many
 *
 * The hash slot of @key: CRC16 of its hash tag -- the bytes between the
 * first `{` and the first `}` after it, when there are some -- or of the
 * whole key, modulo 16384.
 *
 * Returns: the slot, 0 to 16383.
 */
guint
redis_cluster_key_slot (const char *key, gsize len)
{
  const char *open = memchr (key, '{', len);
  guint16 crc = 0;

  if (open != NULL)
    {
      const char *start = open + 1;
      const char *close = memchr (start, '}', len - (gsize) (start - key));

      if (close != NULL && close > start)
        {
          key = start;
          len = (gsize) (close - start);
        }
    }
  for (gsize i = 0; i < len; i++)
    crc = (guint16) ((crc << 8)
                     ^ crc16_table[((crc >> 8) ^ (guchar) key[i]) & 0xff]);
  return crc & (CLUSTER_SLOTS - 1);
}

typedef struct {
  RedisEndpoint endpoint;
  RedisPool *pool;
} ClusterNode;

typedef struct {
  RedisRouter parent;
  const RedisConfig *config;
  RedisRefresh refresh;   /* its lock guards nodes, by_address, masters */
  GPtrArray *nodes;       /* every node ever known, freed with the router */
  GHashTable *by_address; /* endpoint display -> ClusterNode */
  GPtrArray *masters;     /* the masters of the current map */
  ClusterNode *any;       /* atomic: a master, for keyless commands */
  ClusterNode *suspect;   /* atomic: the node that failed last */
  ClusterNode *slots[CLUSTER_SLOTS]; /* atomic; NULL: no owner known */
} ClusterRouter;

/* What a refresh asks whom. */
typedef struct {
  ClusterRouter *self;
  ClusterNode *first; /* a MOVED's target: it knows the newest map */
  ClusterNode *last;  /* a node that just failed */
} RefreshRequest;

static void
node_free (gpointer data)
{
  ClusterNode *node = data;

  redis_pool_free (node->pool);
  redis_endpoint_clear (&node->endpoint);
  g_free (node);
}

/* The node at @endpoint, made on first sight.  Called locked. */
static ClusterNode *
node_for_locked (ClusterRouter *self, const RedisEndpoint *endpoint)
{
  ClusterNode *node
      = g_hash_table_lookup (self->by_address, endpoint->display);

  if (node != NULL)
    return node;
  node = g_new0 (ClusterNode, 1);
  redis_endpoint_copy (&node->endpoint, endpoint);
  node->pool = redis_pool_new (&node->endpoint, &self->config->connect,
                               self->config->pool_size);
  g_ptr_array_add (self->nodes, node);
  g_hash_table_insert (self->by_address, node->endpoint.display, node);
  return node;
}

static ClusterNode *
node_for (ClusterRouter *self, const RedisEndpoint *endpoint)
{
  ClusterNode *node;

  redis_refresh_lock (&self->refresh);
  node = node_for_locked (self, endpoint);
  redis_refresh_unlock (&self->refresh);
  return node;
}

static ClusterNode *
node_of_pool (ClusterRouter *self, RedisPool *pool)
{
  ClusterNode *node;

  redis_refresh_lock (&self->refresh);
  node = g_hash_table_lookup (self->by_address,
                              redis_pool_get_endpoint (pool)->display);
  redis_refresh_unlock (&self->refresh);
  return node;
}

static gboolean
slots_error (ClusterNode *node, const ClusterRouter *self, GError **error,
             const char *what)
{
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND, "%s at %s: %s",
               self->config->variant->product, node->endpoint.display, what);
  return FALSE;
}

static gboolean
is_integer_in (const redisReply *reply, long long low, long long high)
{
  return reply->type == REDIS_REPLY_INTEGER && reply->integer >= low
         && reply->integer <= high;
}

/* One range of a CLUSTER SLOTS reply: [start, end, [host, port, id, ...],
 * replicas...].  *out_host is NULL for a master whose address is
 * unknown ("?"), which the map leaves out. */
static gboolean
parse_range (const redisReply *range, const ClusterNode *asked,
             guint *out_start, guint *out_end, const char **out_host,
             guint16 *out_port)
{
  const redisReply *master;

  if (range->type != REDIS_REPLY_ARRAY || range->elements < 3
      || !is_integer_in (range->element[0], 0, CLUSTER_SLOTS - 1)
      || !is_integer_in (range->element[1], range->element[0]->integer,
                         CLUSTER_SLOTS - 1))
    return FALSE;
  master = range->element[2];
  if (master->type != REDIS_REPLY_ARRAY || master->elements < 2
      || master->element[0]->type != REDIS_REPLY_STRING
      || !is_integer_in (master->element[1], 1, 65535))
    return FALSE;
  *out_start = (guint) range->element[0]->integer;
  *out_end = (guint) range->element[1]->integer;
  *out_port = (guint16) master->element[1]->integer;
  *out_host = master->element[0]->str;
  /* An empty address is the node's way of saying "the one you asked". */
  if (master->element[0]->len == 0)
    *out_host = asked->endpoint.host;
  else if (strcmp (*out_host, "?") == 0)
    *out_host = NULL;
  return TRUE;
}

/* Installs the map of a CLUSTER SLOTS @reply from @asked. */
static gboolean
apply_slots (ClusterRouter *self, ClusterNode *asked, const redisReply *reply,
             GError **error)
{
  g_autofree ClusterNode **table = NULL;
  g_autoptr (GPtrArray) masters = NULL;
  g_autoptr (GPtrArray) dropped = NULL;
  g_autofree char *message = NULL;
  guint covered = 0;

  if (reply->type == REDIS_REPLY_ERROR)
    {
      g_autofree char *text = redis_reply_text (reply);

      message = g_strdup_printf ("CLUSTER SLOTS failed: %s (is it a "
                                 "cluster node?)",
                                 text);
      return slots_error (asked, self, error, message);
    }
  if (reply->type != REDIS_REPLY_ARRAY)
    return slots_error (asked, self, error,
                        "unexpected reply to CLUSTER SLOTS");
  if (reply->elements == 0)
    return slots_error (asked, self, error,
                        "CLUSTER SLOTS lists no slot: the node is not part "
                        "of a cluster yet");

  table = g_new0 (ClusterNode *, CLUSTER_SLOTS);
  masters = g_ptr_array_new ();
  redis_refresh_lock (&self->refresh);
  for (size_t i = 0; i < reply->elements; i++)
    {
      guint start, end;
      const char *host;
      guint16 port;
      RedisEndpoint endpoint;
      ClusterNode *node;

      if (!parse_range (reply->element[i], asked, &start, &end, &host, &port))
        {
          redis_refresh_unlock (&self->refresh);
          return slots_error (asked, self, error,
                              "unexpected reply to CLUSTER SLOTS (a range "
                              "is not [start, end, [host, port, ...]])");
        }
      if (host == NULL)
        continue;
      redis_endpoint_init_tcp (&endpoint, host, port);
      node = node_for_locked (self, &endpoint);
      redis_endpoint_clear (&endpoint);
      for (guint s = start; s <= end; s++)
        {
          covered += table[s] == NULL;
          table[s] = node;
        }
      if (!g_ptr_array_find (masters, node, NULL))
        g_ptr_array_add (masters, node);
    }
  if (masters->len == 0)
    {
      redis_refresh_unlock (&self->refresh);
      return slots_error (asked, self, error,
                          "CLUSTER SLOTS names no master with a known "
                          "address");
    }

  /* Only the slots that changed are written: the others' cache lines stay
   * shared between the readers' CPUs. */
  for (guint s = 0; s < CLUSTER_SLOTS; s++)
    if (g_atomic_pointer_get (&self->slots[s]) != table[s])
      g_atomic_pointer_set (&self->slots[s], table[s]);
  g_atomic_pointer_set (&self->any, masters->pdata[0]);
  dropped = g_ptr_array_new ();
  if (self->masters != NULL)
    for (guint i = 0; i < self->masters->len; i++)
      if (!g_ptr_array_find (masters, self->masters->pdata[i], NULL))
        g_ptr_array_add (dropped, self->masters->pdata[i]);
  g_clear_pointer (&self->masters, g_ptr_array_unref);
  self->masters = g_steal_pointer (&masters);
  redis_refresh_unlock (&self->refresh);

  /* A node no longer serving slots keeps no idle sockets. */
  for (guint i = 0; i < dropped->len; i++)
    redis_pool_drop_idle (((ClusterNode *) dropped->pdata[i])->pool);
  if (covered < CLUSTER_SLOTS)
    g_debug ("%s Cluster: %s serves %u of %d hash slots",
             self->config->variant->product, asked->endpoint.display, covered,
             CLUSTER_SLOTS);
  return TRUE;
}

static gboolean
read_slots (ClusterRouter *self, ClusterNode *node, RedisDeadline *deadline,
            GError **error)
{
  static const char *argv[2] = { "CLUSTER", "SLOTS" };
  static const size_t argvlen[2] = { 7, 5 };
  RedisCommand command = { 2, argv, argvlen };
  redisReply *reply = NULL;
  RedisBatch batch;
  gboolean ok;

  redis_batch_init (&batch, NULL, 0, &command, 1, REDIS_BATCH_RETRY_SAFE,
                    &reply);
  if (!redis_execute_on_pool (node->pool, deadline, &batch, error))
    return FALSE;
  ok = apply_slots (self, node, reply, error);
  redis_batch_clear (&batch);
  return ok;
}

static void
add_candidate (GPtrArray *candidates, ClusterNode *node,
               const RefreshRequest *request)
{
  if (node != NULL && node != request->first && node != request->last
      && !g_ptr_array_find (candidates, node, NULL))
    g_ptr_array_add (candidates, node);
}

/* A RedisRefreshFunc: the map from the first node that gives one, each
 * node asked within its share of what is left of @deadline. */
static gboolean
refresh_slots (gpointer data, RedisDeadline *deadline, GError **error)
{
  RefreshRequest *request = data;
  ClusterRouter *self = request->self;
  const RedisConfig *config = self->config;
  g_autoptr (GPtrArray) candidates = g_ptr_array_new ();
  g_autoptr (GString) failures = g_string_new (NULL);

  redis_refresh_lock (&self->refresh);
  if (request->first != NULL)
    g_ptr_array_add (candidates, request->first);
  if (self->masters != NULL)
    for (guint i = 0; i < self->masters->len; i++)
      add_candidate (candidates, self->masters->pdata[i], request);
  for (guint i = 0; i < config->n_startup_nodes; i++)
    add_candidate (candidates,
                   node_for_locked (self, &config->startup_nodes[i]), request);
  if (request->last != NULL && request->last != request->first)
    g_ptr_array_add (candidates, request->last);
  redis_refresh_unlock (&self->refresh);

  for (guint i = 0; i < candidates->len; i++)
    {
      g_autoptr (GError) local_error = NULL;
      RedisDeadline share;
      gboolean ok;

      redis_deadline_share (deadline, candidates->len - i, &share);
      ok = read_slots (self, candidates->pdata[i], &share, &local_error);
      redis_deadline_merge (deadline, &share);
      if (ok)
        return TRUE;
      g_string_append_printf (failures, "%s%s", i > 0 ? "; " : "",
                              local_error->message);
    }
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
               "%s Cluster: cannot read the slot map (CLUSTER SLOTS) from "
               "any node: %s",
               config->variant->product, failures->str);
  return FALSE;
}

/* No node known for @slot (-1: for a keyless command): read the map, or
 * wait for the thread reading it, and look again. */
static G_GNUC_NO_INLINE RedisPool *
route_slow (ClusterRouter *self, int slot, RedisDeadline *deadline,
            GError **error)
{
  RefreshRequest request = { self, NULL, NULL };
  ClusterNode *node;

  if (!redis_refresh_run (&self->refresh, REDIS_REFRESH_NEEDED, refresh_slots,
                          &request, deadline, error))
    return NULL;
  node = slot >= 0 ? g_atomic_pointer_get (&self->slots[slot])
                   : g_atomic_pointer_get (&self->any);
  if (node != NULL)
    return node->pool;
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
               "%s Cluster: no node serves hash slot %d (CLUSTER SLOTS "
               "leaves it out: the cluster does not cover every slot)",
               self->config->variant->product, slot);
  return NULL;
}

/* The read a call that timed out left for later (the map may be stale:
 * a failed master replaced by its replica). */
static G_GNUC_NO_INLINE void
refresh_left_over (ClusterRouter *self, RedisDeadline *deadline)
{
  RefreshRequest request
      = { self, NULL, g_atomic_pointer_get (&self->suspect) };

  redis_refresh_run (&self->refresh, REDIS_REFRESH_IF_DUE, refresh_slots,
                     &request, deadline, NULL);
}

static RedisPool *
cluster_route (RedisRouter *router, const char *key, gsize key_len,
               RedisRouteFlags flags, RedisDeadline *deadline, GError **error)
{
  ClusterRouter *self = (ClusterRouter *) router;
  ClusterNode *node;
  guint slot;

  if (G_UNLIKELY (redis_refresh_wanted (&self->refresh)))
    refresh_left_over (self, deadline);
  if (G_UNLIKELY (key == NULL))
    {
      node = g_atomic_pointer_get (&self->any);
      return node != NULL ? node->pool
                          : route_slow (self, -1, deadline, error);
    }
  slot = redis_cluster_key_slot (key, key_len);
  node = g_atomic_pointer_get (&self->slots[slot]);
  if (G_LIKELY (node != NULL))
    return node->pool;
  return route_slow (self, (int) slot, deadline, error);
}

static guint
cluster_key_group (RedisRouter *router, const char *key, gsize key_len)
{
  return redis_cluster_key_slot (key, key_len);
}

/* "<slot> <host>:<port>" of a MOVED or ASK.  The host may be an IPv6
 * address (no brackets: the port follows the last colon) or empty (the
 * node that answered). */
static gboolean
parse_redirect (const char *text, gsize len, RedisPool *from, guint *out_slot,
                RedisEndpoint *out)
{
  g_autofree char *copy = g_strndup (text, len);
  const RedisEndpoint *asked = redis_pool_get_endpoint (from);
  char *end, *colon;
  guint64 slot, port;
  const char *host;

  slot = g_ascii_strtoull (copy, &end, 10);
  if (end == copy || *end != ' ' || slot >= CLUSTER_SLOTS)
    return FALSE;
  host = end + 1;
  colon = strrchr (host, ':');
  if (colon == NULL)
    return FALSE;
  *colon = '\0';
  port = g_ascii_strtoull (colon + 1, &end, 10);
  if (end == colon + 1 || *end != '\0' || port == 0 || port > 65535)
    return FALSE;
  if (host[0] == '\0')
    host = asked->host;
  if (host == NULL)
    return FALSE;
  *out_slot = (guint) slot;
  redis_endpoint_init_tcp (out, host, (guint16) port);
  return TRUE;
}

static gboolean
has_prefix (const redisReply *reply, const char *prefix)
{
  size_t n = strlen (prefix);

  return reply->len >= n && memcmp (reply->str, prefix, n) == 0;
}

static RedisPool *
cluster_redirect (RedisRouter *router, RedisPool *pool,
                  const redisReply *reply, gboolean *out_asking,
                  RedisDeadline *deadline, GError **error)
{
  ClusterRouter *self = (ClusterRouter *) router;
  gboolean moved = has_prefix (reply, "MOVED ");

  if (moved || has_prefix (reply, "ASK "))
    {
      size_t skip = moved ? 6 : 4;
      RedisEndpoint target;
      ClusterNode *node;
      guint slot;

      if (!parse_redirect (reply->str + skip, reply->len - skip, pool, &slot,
                           &target))
        {
          g_autofree char *text = redis_reply_text (reply);

          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                       "%s at %s: cannot follow the redirect '%s'",
                       self->config->variant->product,
                       redis_pool_get_endpoint (pool)->display, text);
          return NULL;
        }
      node = node_for (self, &target);
      redis_endpoint_clear (&target);
      if (moved)
        {
          RefreshRequest request = { self, node, NULL };

          g_atomic_pointer_set (&self->slots[slot], node);
          /* One slot moved: a resharding or a failover usually moved
           * more.  Its outcome does not matter to this batch. */
          redis_refresh_run (&self->refresh, REDIS_REFRESH_IF_DUE,
                             refresh_slots, &request, deadline, NULL);
        }
      else
        *out_asking = TRUE;
      return node->pool;
    }
  if (has_prefix (reply, "TRYAGAIN"))
    {
      /* A pause out of the call's time, like any other wait. */
      g_usleep ((gulong) CLAMP (redis_deadline_left (deadline), 0,
                                TRYAGAIN_DELAY_US));
      return pool;
    }
  if (has_prefix (reply, "CLUSTERDOWN"))
    {
      RefreshRequest request = { self, NULL, node_of_pool (self, pool) };

      redis_refresh_run (&self->refresh, REDIS_REFRESH_IF_DUE, refresh_slots,
                         &request, deadline, NULL);
    }
  return NULL;
}

static void
cluster_failed (RedisRouter *router, RedisPool *pool, RedisFailure failure,
                RedisDeadline *deadline)
{
  ClusterRouter *self = (ClusterRouter *) router;
  RefreshRequest request = { self, NULL, NULL };

  if (failure == REDIS_FAILURE_CLOSED)
    redis_pool_drop_idle (pool);
  request.last = node_of_pool (self, pool);
  g_atomic_pointer_set (&self->suspect, request.last);
  /* With the deadline passed (a timeout), left for the next call. */
  redis_refresh_run (&self->refresh, REDIS_REFRESH_IF_DUE, refresh_slots,
                     &request, deadline, NULL);
}

static void
cluster_free (RedisRouter *router)
{
  ClusterRouter *self = (ClusterRouter *) router;

  redis_refresh_clear (&self->refresh);
  g_clear_pointer (&self->masters, g_ptr_array_unref);
  g_hash_table_destroy (self->by_address);
  g_ptr_array_free (self->nodes, TRUE);
  g_free (self);
}

static const RedisRouterFuncs cluster_funcs = {
  .route = cluster_route,
  .key_group = cluster_key_group,
  .redirect = cluster_redirect,
  .failed = cluster_failed,
  .free = cluster_free,
};

/**
 * redis_router_cluster_new:
 * @config: a cluster configuration; must outlive the router
 *
 * Connects to nothing: the first call reads the slot map (within that
 * call's deadline).
 *
 * Returns: (transfer full): the router.
 */
RedisRouter *
redis_router_cluster_new (const RedisConfig *config)
{
  ClusterRouter *self = g_new0 (ClusterRouter, 1);

  self->parent.funcs = &cluster_funcs;
  self->config = config;
  self->nodes = g_ptr_array_new_with_free_func (node_free);
  self->by_address = g_hash_table_new (g_str_hash, g_str_equal);
  redis_refresh_init (&self->refresh, "the cluster's slot map",
                      REFRESH_INTERVAL_US);
  return &self->parent;
}
