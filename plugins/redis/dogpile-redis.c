/* dogpile-redis.c: dogpile.cache.redis, redis_sentinel, redis_cluster and
 * their valkey twins -- the descriptors and the cache operations.
 *
 * The operations are dogpile.cache's (spec 3.4), one round trip each:
 *   get           GET k                      (nil: a miss)
 *   get_multi     MGET k1 k2 ...
 *   set           SET k v, or SETEX k <redis_expiration_time> v
 *   set_multi     MSET k1 v1 ..., or MULTI, SETEX..., EXEC sent together
 *   delete(_multi) DEL k1 ...                (nothing sent for no keys)
 * Keys and values go as counted bytes (any byte, NUL included, in values).
 * A command for several keys is split by the router where one command
 * cannot carry them all (a cluster's slots); the replies are reassembled
 * in the caller's order.  A hit hands the reply's own buffer to the caller
 * (no copy).
 *
 * Layers: redis-config.c / redis-url.c (arguments), redis-connection.c
 * (one socket), redis-pool.c (connections per server, fork), redis-router*
 * (which server), redis-command.c (batches, retries, redirects),
 * redis-lock.c (the distributed lock).
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-backend.h"
#include "redis-lock.h"

struct DogpileBackendImpl {
  RedisClient *client;
  char expiration[24]; /* redis_expiration_time as SETEX's argument */
  size_t expiration_len;
};

DogpileBackendImpl *
redis_backend_new_for_client (RedisClient *client)
{
  DogpileBackendImpl *self = g_new0 (DogpileBackendImpl, 1);

  self->client = client;
  self->expiration_len = (size_t) g_snprintf (
      self->expiration, sizeof self->expiration, "%" G_GINT64_FORMAT,
      client->config->expiration_time);
  return self;
}

static DogpileBackendImpl *
backend_new (const RedisVariant *variant, GHashTable *arguments,
             GError **error)
{
  RedisClient *client = redis_client_new (variant, arguments, error);

  return client != NULL ? redis_backend_new_for_client (client) : NULL;
}

static void
redis_backend_destroy (DogpileBackendImpl *self)
{
  redis_client_unref (self->client);
  g_free (self);
}

static inline gboolean
expires (DogpileBackendImpl *self)
{
  return self->client->config->expiration_time > 0;
}

/* A value's bytes for an argv slot; never NULL (an empty GBytes may hold
 * a NULL pointer, which hiredis would hand to memcpy). */
static inline const char *
value_data (GBytes *value, size_t *out_len)
{
  gsize len;
  const char *data = g_bytes_get_data (value, &len);

  *out_len = len;
  return data != NULL ? data : "";
}

/* Runs one command on @key's server; *out_reply is its reply. */
static gboolean
run_one (DogpileBackendImpl *self, const char *key, size_t key_len, int argc,
         const char **argv, const size_t *argvlen, RedisBatchFlags flags,
         RedisBatch *batch, redisReply **out_reply, GError **error)
{
  RedisCommand command = { argc, argv, argvlen };

  *out_reply = NULL;
  redis_batch_init (batch, key, key_len, &command, 1, flags, out_reply);
  if (!redis_client_execute (self->client, batch, 1, error))
    return FALSE;
  /* The batch's command array was on this stack frame. */
  batch->commands = NULL;
  return TRUE;
}

static gboolean
reply_error (RedisBatch *batch, const char *name, redisReply *reply,
             GError **error)
{
  const char *argv[1] = { name };
  size_t argvlen[1] = { strlen (name) };
  RedisCommand command = { 1, argv, argvlen };

  batch->commands = &command;
  batch->replies = &reply;
  redis_batch_reply_error (batch, 0, error);
  redis_reply_free (reply);
  return FALSE;
}

static gboolean
redis_backend_get (DogpileBackendImpl *self, const char *key,
                   GBytes **out_value, GError **error)
{
  size_t key_len = strlen (key);
  const char *argv[2] = { "GET", key };
  size_t argvlen[2] = { 3, key_len };
  redisReply *reply;
  RedisBatch batch;

  *out_value = NULL;
  if (!run_one (self, key, key_len, 2, argv, argvlen,
                REDIS_BATCH_RETRY_SAFE | REDIS_BATCH_READ_ONLY, &batch, &reply,
                error))
    return FALSE;
  if (reply->type == REDIS_REPLY_STRING)
    {
      /* The reply owns the bytes: hand them over as they are. */
      *out_value = g_bytes_new_with_free_func (
          reply->str, reply->len, (GDestroyNotify) redis_reply_free, reply);
      return TRUE;
    }
  if (reply->type == REDIS_REPLY_NIL)
    {
      redis_reply_free (reply);
      return TRUE;
    }
  return reply_error (&batch, "GET", reply, error);
}

static gboolean
expect_ok (RedisBatch *batch, const char *name, redisReply *reply,
           GError **error)
{
  if (reply->type == REDIS_REPLY_STATUS)
    {
      redis_reply_free (reply);
      return TRUE;
    }
  return reply_error (batch, name, reply, error);
}

static gboolean
redis_backend_set (DogpileBackendImpl *self, const char *key, GBytes *value,
                   GError **error)
{
  size_t key_len = strlen (key);
  size_t value_len;
  const char *data = value_data (value, &value_len);
  const char *set_argv[3] = { "SET", key, data };
  size_t set_argvlen[3] = { 3, key_len, value_len };
  const char *setex_argv[4] = { "SETEX", key, self->expiration, data };
  size_t setex_argvlen[4] = { 5, key_len, self->expiration_len, value_len };
  gboolean ex = expires (self);
  redisReply *reply;
  RedisBatch batch;

  if (!run_one (self, key, key_len, ex ? 4 : 3, ex ? setex_argv : set_argv,
                ex ? setex_argvlen : set_argvlen, REDIS_BATCH_RETRY_SAFE,
                &batch, &reply, error))
    return FALSE;
  return expect_ok (&batch, ex ? "SETEX" : "SET", reply, error);
}

static gboolean
redis_backend_delete (DogpileBackendImpl *self, const char *key,
                      GError **error)
{
  size_t key_len = strlen (key);
  const char *argv[2] = { "DEL", key };
  size_t argvlen[2] = { 3, key_len };
  redisReply *reply;
  RedisBatch batch;

  if (!run_one (self, key, key_len, 2, argv, argvlen, REDIS_BATCH_RETRY_SAFE,
                &batch, &reply, error))
    return FALSE;
  if (reply->type != REDIS_REPLY_INTEGER)
    return reply_error (&batch, "DEL", reply, error);
  redis_reply_free (reply);
  return TRUE;
}

/* --- several keys -------------------------------------------------------
 *
 * The keys are split into groups that one command may carry (one group,
 * unless the router says otherwise), and each group becomes one batch.
 * Everything for a call lives in one allocation. */

typedef struct {
  gsize n_keys;
  guint n_groups;
  size_t *key_lens;       /* per key */
  guint *order;           /* key indices, grouped */
  guint *starts;          /* group g is order[starts[g] .. starts[g + 1]) */
  RedisBatch *batches;    /* one per group */
  RedisCommand *commands; /* per group: 1, or 2 + keys (MULTI block) */
  redisReply **replies;   /* parallel to commands */
  const char **argv;
  size_t *argvlen;
} MultiCall;

typedef struct {
  guint group;
  guint index;
} GroupedKey;

static gint
compare_grouped (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const GroupedKey *x = a, *y = b;

  if (x->group != y->group)
    return x->group < y->group ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

static void
multi_call_group (MultiCall *call, RedisRouter *router,
                  const char *const *keys)
{
  g_autofree GroupedKey *grouped = NULL;
  gsize n = call->n_keys;

  call->n_groups = 1;
  call->starts[0] = 0;
  if (router->funcs->key_group == NULL)
    {
      for (guint i = 0; i < n; i++)
        call->order[i] = i;
      call->starts[1] = (guint) n;
      return;
    }
  grouped = g_new (GroupedKey, n);
  for (guint i = 0; i < n; i++)
    {
      grouped[i].group
          = router->funcs->key_group (router, keys[i], call->key_lens[i]);
      grouped[i].index = i;
    }
  g_qsort_with_data (grouped, (gint) n, sizeof *grouped, compare_grouped,
                     NULL);
  for (guint i = 0; i < n; i++)
    {
      call->order[i] = grouped[i].index;
      if (i > 0 && grouped[i].group != grouped[i - 1].group)
        call->starts[call->n_groups++] = i;
    }
  call->starts[call->n_groups] = (guint) n;
}

/* @argv_per_key: argv slots each key takes; @extra_per_group: the command
 * name(s) and other fixed slots per group; @commands_per_key and
 * @extra_commands: for MULTI blocks, which send one command per key. */
static MultiCall *
multi_call_new (RedisRouter *router, const char *const *keys, gsize n,
                guint argv_per_key, guint extra_per_group,
                guint commands_per_key, guint extra_commands)
{
  MultiCall *call = g_new0 (MultiCall, 1);
  gsize max_groups = n;

  call->n_keys = n;
  call->key_lens = g_new (size_t, n);
  call->order = g_new (guint, n);
  call->starts = g_new (guint, n + 1);
  for (gsize i = 0; i < n; i++)
    call->key_lens[i] = strlen (keys[i]);
  multi_call_group (call, router, keys);
  max_groups = call->n_groups;
  call->batches = g_new0 (RedisBatch, max_groups);
  call->commands = g_new0 (RedisCommand,
                           commands_per_key * n + extra_commands * max_groups);
  call->replies = g_new0 (redisReply *,
                          commands_per_key * n + extra_commands * max_groups);
  call->argv
      = g_new (const char *, argv_per_key *n + extra_per_group * max_groups);
  call->argvlen
      = g_new (size_t, argv_per_key * n + extra_per_group * max_groups);
  return call;
}

static void
multi_call_free (MultiCall *call)
{
  for (guint g = 0; g < call->n_groups; g++)
    if (call->batches[g].replies != NULL)
      redis_batch_clear (&call->batches[g]);
  g_free (call->key_lens);
  g_free (call->order);
  g_free (call->starts);
  g_free (call->batches);
  g_free (call->commands);
  g_free (call->replies);
  g_free (call->argv);
  g_free (call->argvlen);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MultiCall, multi_call_free)

/* One command per group: NAME key1 [value1] key2 [value2] ... */
static void
multi_call_build_simple (MultiCall *call, const char *const *keys,
                         GBytes *const *values, const char *name,
                         RedisBatchFlags flags)
{
  size_t name_len = strlen (name);
  gsize slot = 0;

  for (guint g = 0; g < call->n_groups; g++)
    {
      guint first = call->starts[g], end = call->starts[g + 1];
      RedisCommand *command = &call->commands[g];
      const char **argv = call->argv + slot;
      size_t *argvlen = call->argvlen + slot;
      int argc = 0;

      argv[argc] = name, argvlen[argc++] = name_len;
      for (guint j = first; j < end; j++)
        {
          guint k = call->order[j];

          argv[argc] = keys[k], argvlen[argc++] = call->key_lens[k];
          if (values != NULL)
            {
              argv[argc] = value_data (values[k], &argvlen[argc]);
              argc++;
            }
        }
      slot += (gsize) argc;
      command->argc = argc;
      command->argv = argv;
      command->argvlen = argvlen;
      redis_batch_init (&call->batches[g], keys[call->order[first]],
                        call->key_lens[call->order[first]], command, 1, flags,
                        &call->replies[g]);
    }
}

static gboolean
redis_backend_get_multi (DogpileBackendImpl *self, const char *const *keys,
                         gsize n_keys, GBytes **out_values, GError **error)
{
  g_autoptr (MultiCall) call = NULL;

  if (n_keys == 0)
    return TRUE;
  call = multi_call_new (self->client->router, keys, n_keys, 1, 1, 0, 1);
  multi_call_build_simple (call, keys, NULL, "MGET",
                           REDIS_BATCH_RETRY_SAFE | REDIS_BATCH_READ_ONLY);
  if (!redis_client_execute (self->client, call->batches, call->n_groups,
                             error))
    return FALSE;

  for (guint g = 0; g < call->n_groups; g++)
    {
      RedisBatch *batch = &call->batches[g];
      redisReply *reply = batch->replies[0];
      guint first = call->starts[g], end = call->starts[g + 1];

      if (reply->type != REDIS_REPLY_ARRAY
          || reply->elements != (size_t) (end - first))
        {
          redis_batch_reply_error (batch, 0, error);
          for (gsize i = 0; i < n_keys; i++)
            g_clear_pointer (&out_values[i], g_bytes_unref);
          return FALSE;
        }
      for (guint j = first; j < end; j++)
        {
          redisReply *element = reply->element[j - first];

          if (element->type != REDIS_REPLY_STRING)
            continue; /* nil: a miss */
          /* Each element leaves the array and carries its own bytes to
           * the caller; freeing the array skips the NULL slots. */
          reply->element[j - first] = NULL;
          out_values[call->order[j]] = g_bytes_new_with_free_func (
              element->str, element->len, (GDestroyNotify) redis_reply_free,
              element);
        }
    }
  return TRUE;
}

static gboolean
check_simple_replies (MultiCall *call, int expected_type, GError **error)
{
  for (guint g = 0; g < call->n_groups; g++)
    if (call->batches[g].replies[0]->type != expected_type)
      return redis_batch_reply_error (&call->batches[g], 0, error);
  return TRUE;
}

/* MULTI, SETEX k <seconds> v per key, EXEC: one block per group, all sent
 * together; redis-py's pipeline() does the same for Python. */
static gboolean
set_multi_expiring (DogpileBackendImpl *self, const char *const *keys,
                    GBytes *const *values, gsize n_keys, GError **error)
{
  static const char *multi_argv[1] = { "MULTI" };
  static const size_t multi_argvlen[1] = { 5 };
  static const char *exec_argv[1] = { "EXEC" };
  static const size_t exec_argvlen[1] = { 4 };
  g_autoptr (MultiCall) call = NULL;
  gsize slot = 0, command = 0;

  call = multi_call_new (self->client->router, keys, n_keys, 4, 0, 1, 2);
  for (guint g = 0; g < call->n_groups; g++)
    {
      guint first = call->starts[g], end = call->starts[g + 1];
      RedisCommand *block = &call->commands[command];
      guint n_commands = 0;

      block[n_commands++] = (RedisCommand){ 1, multi_argv, multi_argvlen };
      for (guint j = first; j < end; j++)
        {
          guint k = call->order[j];
          const char **argv = call->argv + slot;
          size_t *argvlen = call->argvlen + slot;

          argv[0] = "SETEX", argvlen[0] = 5;
          argv[1] = keys[k], argvlen[1] = call->key_lens[k];
          argv[2] = self->expiration, argvlen[2] = self->expiration_len;
          argv[3] = value_data (values[k], &argvlen[3]);
          block[n_commands++] = (RedisCommand){ 4, argv, argvlen };
          slot += 4;
        }
      block[n_commands++] = (RedisCommand){ 1, exec_argv, exec_argvlen };
      redis_batch_init (&call->batches[g], keys[call->order[first]],
                        call->key_lens[call->order[first]], block, n_commands,
                        REDIS_BATCH_RETRY_SAFE, &call->replies[command]);
      command += n_commands;
    }
  if (!redis_client_execute (self->client, call->batches, call->n_groups,
                             error))
    return FALSE;

  for (guint g = 0; g < call->n_groups; g++)
    {
      RedisBatch *batch = &call->batches[g];
      guint last = batch->n_commands - 1;
      redisReply *exec = batch->replies[last];

      /* A command refused while queueing aborts EXEC: report that one. */
      for (guint i = 0; i < last; i++)
        if (batch->replies[i]->type == REDIS_REPLY_ERROR)
          return redis_batch_reply_error (batch, i, error);
      if (exec->type != REDIS_REPLY_ARRAY || exec->elements != last - 1)
        return redis_batch_reply_error (batch, last, error);
      for (size_t i = 0; i < exec->elements; i++)
        if (exec->element[i]->type != REDIS_REPLY_STATUS)
          {
            g_autofree char *text = redis_reply_text (exec->element[i]);

            g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                         "%s at %s: SETEX failed in EXEC: %s",
                         self->client->config->variant->product,
                         redis_pool_get_endpoint (batch->pool)->display, text);
            return FALSE;
          }
    }
  return TRUE;
}

static gboolean
redis_backend_set_multi (DogpileBackendImpl *self, const char *const *keys,
                         GBytes *const *values, gsize n_keys, GError **error)
{
  g_autoptr (MultiCall) call = NULL;

  if (n_keys == 0)
    return TRUE;
  if (expires (self))
    return set_multi_expiring (self, keys, values, n_keys, error);
  call = multi_call_new (self->client->router, keys, n_keys, 2, 1, 0, 1);
  multi_call_build_simple (call, keys, values, "MSET", REDIS_BATCH_RETRY_SAFE);
  return redis_client_execute (self->client, call->batches, call->n_groups,
                               error)
         && check_simple_replies (call, REDIS_REPLY_STATUS, error);
}

static gboolean
redis_backend_delete_multi (DogpileBackendImpl *self, const char *const *keys,
                            gsize n_keys, GError **error)
{
  g_autoptr (MultiCall) call = NULL;

  /* Python sends DEL with no key, which Redis refuses. */
  if (n_keys == 0)
    return TRUE;
  call = multi_call_new (self->client->router, keys, n_keys, 1, 1, 0, 1);
  multi_call_build_simple (call, keys, NULL, "DEL", REDIS_BATCH_RETRY_SAFE);
  return redis_client_execute (self->client, call->batches, call->n_groups,
                               error)
         && check_simple_replies (call, REDIS_REPLY_INTEGER, error);
}

static DogpileMutex *
redis_backend_get_mutex (DogpileBackendImpl *self, const char *key)
{
  if (!self->client->config->distributed_lock)
    return NULL;
  return redis_lock_new (self->client, key);
}

/* --- the six names ------------------------------------------------------ */

#define DEFINE_VARIANT(short_name, registered, product_name, expiry, mode_)   \
  static const RedisVariant short_name##_variant = {                          \
    .backend_name = registered,                                               \
    .product = product_name,                                                  \
    .expiration_argument = expiry,                                            \
    .mode = mode_,                                                            \
  };                                                                          \
  static DogpileBackendImpl *short_name##_create (GHashTable *arguments,      \
                                                  GError **error)             \
  {                                                                           \
    return backend_new (&short_name##_variant, arguments, error);             \
  }

#define DESC(short_name, registered, table, text)                             \
  static const DogpileBackendDesc short_name##_desc = {                       \
    .abi_version = DOGPILE_BACKEND_ABI_VERSION,                               \
    .name = registered,                                                       \
    .description = text,                                                      \
    .version = DOGPILE_VERSION_STRING,                                        \
    .create = short_name##_create,                                            \
    .destroy = redis_backend_destroy,                                         \
    .get = redis_backend_get,                                                 \
    .set = redis_backend_set,                                                 \
    .delete_key = redis_backend_delete,                                       \
    .get_multi = redis_backend_get_multi,                                     \
    .set_multi = redis_backend_set_multi,                                     \
    .delete_multi = redis_backend_delete_multi,                               \
    .get_mutex = redis_backend_get_mutex,                                     \
    .arguments = table,                                                       \
  };                                                                          \
  DOGPILE_BACKEND_DEFINE (short_name, short_name##_desc)

DEFINE_VARIANT (redis, "dogpile.cache.redis", "Redis", "redis_expiration_time",
                REDIS_MODE_SINGLE)
DEFINE_VARIANT (redis_sentinel, "dogpile.cache.redis_sentinel", "Redis",
                "redis_expiration_time", REDIS_MODE_SENTINEL)
DEFINE_VARIANT (redis_cluster, "dogpile.cache.redis_cluster", "Redis",
                "redis_expiration_time", REDIS_MODE_CLUSTER)
DEFINE_VARIANT (valkey, "dogpile.cache.valkey", "Valkey",
                "valkey_expiration_time", REDIS_MODE_SINGLE)
DEFINE_VARIANT (valkey_sentinel, "dogpile.cache.valkey_sentinel", "Valkey",
                "valkey_expiration_time", REDIS_MODE_SENTINEL)
DEFINE_VARIANT (valkey_cluster, "dogpile.cache.valkey_cluster", "Valkey",
                "valkey_expiration_time", REDIS_MODE_CLUSTER)

DESC (redis, "dogpile.cache.redis", redis_arguments_redis_single,
      "Redis server (hiredis): connection pool, distributed lock")
DESC (redis_sentinel, "dogpile.cache.redis_sentinel",
      redis_arguments_redis_sentinel,
      "Redis master found through Sentinel (hiredis): failover, "
      "distributed lock")
DESC (redis_cluster, "dogpile.cache.redis_cluster",
      redis_arguments_redis_cluster,
      "Redis Cluster (hiredis): hash slots, MOVED/ASK, distributed lock")
DESC (valkey, "dogpile.cache.valkey", redis_arguments_valkey_single,
      "Valkey server (hiredis): connection pool, distributed lock")
DESC (valkey_sentinel, "dogpile.cache.valkey_sentinel",
      redis_arguments_valkey_sentinel,
      "Valkey master found through Sentinel (hiredis): failover, "
      "distributed lock")
DESC (valkey_cluster, "dogpile.cache.valkey_cluster",
      redis_arguments_valkey_cluster,
      "Valkey Cluster (hiredis): hash slots, MOVED/ASK, distributed lock")
