/* dogpile-memcached.c: dogpile.cache.memcached, pylibmc, bmemcached and
 * pymemcache on libmemcached -- the descriptors and the cache operations.
 *
 * The operations are dogpile.cache's (spec 3.5):
 *   get           get k                   (not found: a miss)
 *   get_multi     one memcached_mget over every server (one round trip
 *                 per server, in parallel), results matched back by key
 *   set           set k with memcached_expire_time and the client's flags
 *   set_multi     buffered sets, flushed together, then one get per
 *                 server written to as a barrier: when it returns, every
 *                 server has applied the sets (as Python, failed keys of
 *                 a set_multi are not reported one by one)
 *   delete(_multi) the same, with deletes (not found is success)
 * bmemcached replicates instead of distributing: writes go to every
 * server (success when any took it), reads ask the servers in order and
 * take the first hit, as its Client does.  A key memcached would refuse
 * is a ValidationError before anything is sent; an empty multi sends
 * nothing.  Every call runs within its deadline (call_timeout,
 * memcached-deadline.c): past it, libmemcached's waits fail at once, and
 * no loop here calls it again.
 *
 * Layers, each using only those before it: memcached-servers.c (url),
 * memcached-behaviors.c, memcached-config.c (arguments),
 * memcached-distribution.c (which server), memcached-pool.c (handles per
 * thread, fork), memcached-client.c (the configured master, keys,
 * messages), memcached-item.c (flags, zlib), memcached-lock.c (the
 * distributed lock), this file.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#include "memcached-client.h"
#include "memcached-distribution.h"
#include "memcached-item.h"
#include "memcached-lock.h"

struct DogpileBackendImpl {
  McClient *client;
};

static DogpileBackendImpl *
backend_new (McClientKind kind, const char *name, GHashTable *arguments,
             GError **error)
{
  McClient *client = mc_client_new (kind, name, arguments, error);
  DogpileBackendImpl *self;

  if (client == NULL)
    return NULL;
  self = g_new0 (DogpileBackendImpl, 1);
  self->client = client;
  return self;
}

static void
mc_backend_destroy (DogpileBackendImpl *self)
{
  mc_client_unref (self->client);
  g_free (self);
}

static inline gboolean
replicates (DogpileBackendImpl *self)
{
  return self->client->config->kind == MC_CLIENT_BMEMCACHED;
}

static inline guint
n_servers (DogpileBackendImpl *self)
{
  return self->client->config->servers->len;
}

static gboolean
check_keys (const char *const *keys, gsize n_keys, gsize *lengths,
            GError **error)
{
  for (gsize i = 0; i < n_keys; i++)
    {
      lengths[i] = strlen (keys[i]);
      if (!mc_key_check (keys[i], lengths[i], error))
        return FALSE;
    }
  return TRUE;
}

/* --- get ---------------------------------------------------------------- */

static gboolean
mc_backend_get (DogpileBackendImpl *self, const char *key, GBytes **out_value,
                GError **error)
{
  McClient *client = self->client;
  gsize key_len = strlen (key);
  McHandle *handle;
  memcached_return_t rc;
  char *data;
  size_t len;
  uint32_t flags;
  int failed_server;
  gboolean ok = TRUE;

  *out_value = NULL;
  if (!mc_key_check (key, key_len, error))
    return FALSE;
  handle = mc_pool_acquire (client->pool, error);
  if (handle == NULL)
    return FALSE;
  rc = mc_client_read (client, handle->memc, key, key_len, &data, &len, &flags,
                       &failed_server);
  if (memcached_success (rc))
    {
      *out_value = mc_item_decode (data, len, flags, key, error);
      ok = *out_value != NULL;
    }
  else if (rc != MEMCACHED_NOTFOUND)
    ok = mc_client_fail (client, handle->memc, rc, "get", key, key_len,
                         failed_server, error);
  mc_pool_release (client->pool, handle);
  return ok;
}

/* The failure an mget and its fetches met, or MEMCACHED_SUCCESS.
 * memcached_fetch_result turns a connection reset while reading into
 * NOTFOUND when nothing was read, so its own return cannot tell a dropped
 * server from a miss; the handle's last error (cleared when the mget
 * started) can. */
static memcached_return_t
fetch_failure (memcached_st *memc)
{
  memcached_return_t last = memcached_last_error (memc);

  return memcached_success (last) || last == MEMCACHED_NOTFOUND
             ? MEMCACHED_SUCCESS
             : last;
}

/* After a fetch: whether a server's reply never came.  libmemcached's
 * poll over several servers gives up after its poll timeout (at once past
 * the deadline) and its fetch then reports the end of the results, as if
 * the keys still out were misses: they are a timeout (and the release
 * closes those connections, memcached-pool.c). */
static gboolean
replies_pending (memcached_st *memc)
{
  guint32 n = memcached_server_count (memc);

  for (guint32 s = 0; s < n; s++)
    if (memcached_server_response_count (
            memcached_server_instance_by_position (memc, s))
        > 0)
      return TRUE;
  return FALSE;
}

/* Reads the results of an mget into the slots of the keys they answer.
 * *out_rc is the first failure. */
static gboolean
fetch_results (memcached_st *memc, GHashTable *slots, const char *const *keys,
               GBytes **out_values, memcached_return_t *out_rc, GError **error)
{
  memcached_result_st result;
  memcached_return_t rc = MEMCACHED_SUCCESS;
  gboolean ok = TRUE;

  memcached_result_create (memc, &result);
  while (memcached_fetch_result (memc, &result, &rc) != NULL)
    {
      char name[MEMCACHED_MAX_KEY];
      size_t len = memcached_result_key_length (&result);
      gpointer found;

      if (len >= sizeof name)
        continue;
      memcpy (name, memcached_result_key_value (&result), len);
      name[len] = '\0';
      found = g_hash_table_lookup (slots, name);
      /* Each slot list is the key's positions, + 1, in a GSList. */
      for (GSList *l = found; l != NULL; l = l->next)
        {
          gsize i = GPOINTER_TO_SIZE (l->data) - 1;
          GError *local = NULL;

          if (out_values[i] != NULL)
            continue;
          out_values[i] = mc_item_decode (
              l->next == NULL
                  ? memcached_result_take_value (&result)
                  : g_memdup2 (memcached_result_value (&result),
                               memcached_result_length (&result) + 1),
              memcached_result_length (&result),
              memcached_result_flags (&result), keys[i], &local);
          if (out_values[i] == NULL && ok)
            {
              g_propagate_error (error, local);
              ok = FALSE;
            }
          else
            g_clear_error (&local);
        }
    }
  memcached_result_free (&result);
  *out_rc = rc == MEMCACHED_END || rc == MEMCACHED_NOTFOUND
                    || memcached_success (rc)
                ? fetch_failure (memc)
                : rc;
  if (*out_rc == MEMCACHED_SUCCESS && replies_pending (memc))
    *out_rc = MEMCACHED_TIMEOUT;
  mc_handle_note (memc, *out_rc);
  return ok;
}

/* After an mget: the first key whose server took no request, or -1.
 * libmemcached skips a server it cannot connect to (or that is marked
 * down for retry_timeout) and still reports success when another server
 * took its keys, which would make that server's keys look like misses. */
static gssize
first_unsent_key (memcached_st *memc, const char *const *keys,
                  const size_t *lengths, gsize n_keys)
{
  guint32 servers = memcached_server_count (memc);
  gboolean all_busy = TRUE;

  for (guint32 s = 0; s < servers && all_busy; s++)
    all_busy = memcached_server_response_count (
                   memcached_server_instance_by_position (memc, s))
               > 0;
  if (all_busy)
    return -1;
  for (gsize i = 0; i < n_keys; i++)
    {
      memcached_return_t rc = MEMCACHED_SUCCESS;
      const memcached_instance_st *instance
          = memcached_server_by_key (memc, keys[i], lengths[i], &rc);

      if (instance != NULL && memcached_server_response_count (instance) == 0)
        return (gssize) i;
    }
  return -1;
}

static void
free_slot_list (gpointer list)
{
  g_slist_free (list);
}

static GHashTable *
slots_new (const char *const *keys, gsize n_keys)
{
  GHashTable *slots
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, free_slot_list);

  for (gsize i = n_keys; i-- > 0;)
    {
      GSList *list = g_hash_table_lookup (slots, keys[i]);

      g_hash_table_steal (slots, keys[i]);
      g_hash_table_insert (slots, (gpointer) keys[i],
                           g_slist_prepend (list, GSIZE_TO_POINTER (i + 1)));
    }
  return slots;
}

static void
clear_values (GBytes **values, gsize n)
{
  for (gsize i = 0; i < n; i++)
    g_clear_pointer (&values[i], g_bytes_unref);
}

static gboolean
mc_backend_get_multi (DogpileBackendImpl *self, const char *const *keys,
                      gsize n_keys, GBytes **out_values, GError **error)
{
  McClient *client = self->client;
  g_autofree gsize *lengths = NULL;
  g_autofree const char **pending = NULL;
  g_autofree size_t *pending_lengths = NULL;
  g_autoptr (GHashTable) slots = NULL;
  McHandle *handle;
  guint n = replicates (self) ? n_servers (self) : 1;
  gsize n_pending = n_keys;
  guint answered = 0;
  int failed_server = -1;
  gssize unsent = -1;
  memcached_return_t failure = MEMCACHED_SUCCESS;
  gboolean ok = TRUE;

  if (n_keys == 0)
    return TRUE;
  lengths = g_new (gsize, n_keys);
  if (!check_keys (keys, n_keys, lengths, error))
    return FALSE;
  handle = mc_pool_acquire (client->pool, error);
  if (handle == NULL)
    return FALSE;
  slots = slots_new (keys, n_keys);
  pending = g_memdup2 (keys, n_keys * sizeof *keys);
  pending_lengths = g_memdup2 (lengths, n_keys * sizeof *lengths);
  for (guint s = 0; s < n && n_pending > 0 && ok; s++)
    {
      char group[MC_GROUP_KEY_MAX];
      memcached_return_t rc, fetch_rc;

      /* Replicated, past the deadline: the servers not asked yet are not
       * asked, and the call has timed out. */
      if (s > 0 && mc_handle_expired (handle->memc))
        {
          if (failed_server < 0)
            failed_server = (int) s, failure = MEMCACHED_TIMEOUT;
          answered = 0;
          break;
        }
      /* A connection found dropped (a restarted server) is made again
       * and the keys still missing asked again, once. */
      for (guint attempt = 0; attempt < 2; attempt++)
        {
          gboolean dropped;

          rc = replicates (self) ? memcached_mget_by_key (
                   handle->memc, group, mc_distribution_group_key (s, group),
                   pending, pending_lengths, n_pending)
                                 : memcached_mget (handle->memc, pending,
                                                   pending_lengths, n_pending);
          dropped = mc_client_dropped (handle->memc, rc);
          unsent = !replicates (self) && memcached_success (rc)
                       ? first_unsent_key (handle->memc, pending,
                                           pending_lengths, n_pending)
                       : -1;
          /* Whatever mget said, what some servers did send must be
           * read. */
          ok = fetch_results (handle->memc, slots, keys, out_values, &fetch_rc,
                              error);
          if (!ok || attempt > 0
              || !(dropped || mc_client_dropped (handle->memc, fetch_rc)))
            break;
        }
      if (!memcached_success (rc) && rc != MEMCACHED_NOTFOUND)
        {
          if (failed_server < 0)
            failed_server = replicates (self) ? (int) s : -1, failure = rc;
        }
      else if (fetch_rc != MEMCACHED_SUCCESS)
        {
          if (failed_server < 0)
            failed_server = replicates (self) ? (int) s : -1,
            failure = fetch_rc;
        }
      else
        answered++;
      if (replicates (self))
        {
          gsize kept = 0;

          for (gsize i = 0; i < n_pending; i++)
            {
              GSList *list = g_hash_table_lookup (slots, pending[i]);
              gsize first = GPOINTER_TO_SIZE (list->data) - 1;

              if (out_values[first] == NULL)
                {
                  pending[kept] = pending[i];
                  pending_lengths[kept++] = pending_lengths[i];
                }
            }
          n_pending = kept;
        }
    }
  /* Distributed: any failed server fails the call (its keys cannot be
   * told from misses).  Replicated: only when no server answered. */
  if (ok && unsent >= 0)
    {
      memcached_return_t found = MEMCACHED_SUCCESS;
      const memcached_instance_st *instance = memcached_server_by_key (
          handle->memc, pending[unsent], pending_lengths[unsent], &found);
      memcached_return_t why = instance != NULL
                                   ? memcached_server_error_return (instance)
                                   : MEMCACHED_SUCCESS;

      ok = mc_client_fail (
          client, handle->memc,
          memcached_success (why) ? MEMCACHED_CONNECTION_FAILURE : why,
          "get_multi", pending[unsent], pending_lengths[unsent], -1, error);
    }
  else if (ok && failure != MEMCACHED_SUCCESS
           && (!replicates (self) || answered == 0))
    ok = mc_client_fail (client, handle->memc, failure, "get_multi", NULL, 0,
                         failed_server, error);
  else if (ok && mc_handle_expired (handle->memc))
    {
      /* Past the deadline, a key with no value may be one whose reply
       * was cut short rather than a miss. */
      for (gsize i = 0; i < n_keys && ok; i++)
        if (out_values[i] == NULL)
          ok = mc_client_fail (client, handle->memc, MEMCACHED_TIMEOUT,
                               "get_multi", NULL, 0, -1, error);
    }
  mc_pool_release (client->pool, handle);
  if (!ok)
    clear_values (out_values, n_keys);
  return ok;
}

/* --- set and delete ---------------------------------------------------- */

static gboolean
mc_backend_set (DogpileBackendImpl *self, const char *key, GBytes *value,
                GError **error)
{
  McClient *client = self->client;
  gsize key_len = strlen (key);
  McHandle *handle;
  McItem item;
  memcached_return_t rc;
  int failed_server;
  gboolean ok = TRUE;

  if (!mc_key_check (key, key_len, error))
    return FALSE;
  handle = mc_pool_acquire (client->pool, error);
  if (handle == NULL)
    return FALSE;
  if (!mc_item_encode (client->config, key, value, &item, error))
    ok = FALSE;
  else
    {
      rc = mc_client_write (client, handle->memc, MC_WRITE_SET, key, key_len,
                            &item, &failed_server);
      if (!memcached_success (rc))
        ok = mc_client_fail (client, handle->memc, rc, "set", key, key_len,
                             failed_server, error);
    }
  mc_item_clear (&item);
  mc_pool_release (client->pool, handle);
  return ok;
}

static gboolean
mc_backend_delete (DogpileBackendImpl *self, const char *key, GError **error)
{
  McClient *client = self->client;
  gsize key_len = strlen (key);
  McHandle *handle;
  memcached_return_t rc;
  int failed_server;
  gboolean ok = TRUE;

  if (!mc_key_check (key, key_len, error))
    return FALSE;
  handle = mc_pool_acquire (client->pool, error);
  if (handle == NULL)
    return FALSE;
  rc = mc_client_write (client, handle->memc, MC_WRITE_DELETE, key, key_len,
                        NULL, &failed_server);
  if (!memcached_success (rc))
    ok = mc_client_fail (client, handle->memc, rc, "delete", key, key_len,
                         failed_server, error);
  mc_pool_release (client->pool, handle);
  return ok;
}

/* After buffered writes: one get per server written to, sent after them
 * on the same connections, so that when the replies are in every write
 * has been applied (memcached runs a connection's commands in order). */
static memcached_return_t
barrier (DogpileBackendImpl *self, memcached_st *memc, const char *const *keys,
         const gsize *lengths, gsize n_keys)
{
  guint servers = n_servers (self);
  g_autofree const char **probe = g_new0 (const char *, servers);
  g_autofree size_t *probe_lengths = g_new0 (size_t, servers);
  gsize n_probes = 0;
  memcached_result_st result;
  memcached_return_t rc;

  if (mc_handle_expired (memc))
    return MEMCACHED_TIMEOUT;
  rc = memcached_flush_buffers (memc);
  if (!memcached_success (rc))
    return rc;
  if (replicates (self))
    {
      for (guint s = 0; s < servers; s++)
        {
          char group[MC_GROUP_KEY_MAX];

          if (mc_handle_expired (memc))
            return MEMCACHED_TIMEOUT;
          rc = memcached_mget_by_key (memc, group,
                                      mc_distribution_group_key (s, group),
                                      keys, lengths, 1);
          memcached_result_create (memc, &result);
          while (memcached_fetch_result (memc, &result, &rc) != NULL)
            ;
          memcached_result_free (&result);
        }
      return replies_pending (memc) ? MEMCACHED_TIMEOUT : MEMCACHED_SUCCESS;
    }
  for (gsize i = 0; i < n_keys && n_probes < servers; i++)
    {
      guint32 s = memcached_generate_hash (memc, keys[i], lengths[i]);

      if (s < servers && probe[s] == NULL)
        {
          probe[s] = keys[i];
          probe_lengths[s] = lengths[i];
          n_probes++;
        }
    }
  /* The probes, packed. */
  n_probes = 0;
  for (guint s = 0; s < servers; s++)
    if (probe[s] != NULL)
      {
        probe[n_probes] = probe[s];
        probe_lengths[n_probes++] = probe_lengths[s];
      }
  rc = memcached_mget (memc, probe, probe_lengths, n_probes);
  memcached_result_create (memc, &result);
  {
    memcached_return_t fetch_rc = MEMCACHED_SUCCESS;

    while (memcached_fetch_result (memc, &result, &fetch_rc) != NULL)
      ;
    if (memcached_success (rc) && fetch_rc != MEMCACHED_END
        && fetch_rc != MEMCACHED_NOTFOUND && !memcached_success (fetch_rc))
      rc = fetch_rc;
    else if (memcached_success (rc) || rc == MEMCACHED_NOTFOUND)
      rc = fetch_failure (memc);
  }
  memcached_result_free (&result);
  if ((memcached_success (rc) || rc == MEMCACHED_NOTFOUND)
      && replies_pending (memc))
    rc = MEMCACHED_TIMEOUT;
  return rc == MEMCACHED_NOTFOUND ? MEMCACHED_SUCCESS : rc;
}

static void
clear_items (McItem *items, gsize n)
{
  for (gsize i = 0; i < n; i++)
    mc_item_clear (&items[i]);
  g_free (items);
}

static gboolean
write_multi (DogpileBackendImpl *self, McWriteKind kind,
             const char *const *keys, GBytes *const *values, gsize n_keys,
             GError **error)
{
  McClient *client = self->client;
  const char *operation = kind == MC_WRITE_SET ? "set_multi" : "delete_multi";
  g_autofree gsize *lengths = NULL;
  McHandle *handle;
  memcached_st *memc;
  memcached_return_t rc = MEMCACHED_SUCCESS;
  int failed_server = -1;
  gsize failed_key = 0;
  gboolean ok = TRUE;
  McItem *items;

  if (n_keys == 0)
    return TRUE;
  lengths = g_new (gsize, n_keys);
  if (!check_keys (keys, n_keys, lengths, error))
    return FALSE;
  /* every item made before anything is sent: one that cannot be made
   * fails the call with nothing written */
  items = g_new0 (McItem, n_keys);
  for (gsize i = 0; kind == MC_WRITE_SET && i < n_keys; i++)
    if (!mc_item_encode (client->config, keys[i], values[i], &items[i], error))
      {
        clear_items (items, n_keys);
        return FALSE;
      }
  handle = mc_pool_acquire (client->pool, error);
  if (handle == NULL)
    {
      clear_items (items, n_keys);
      return FALSE;
    }
  memc = mc_handle_get_buffered (client->pool, handle, error);
  if (memc == NULL)
    {
      mc_pool_release (client->pool, handle);
      return FALSE;
    }
  /* A connection found dropped (a restarted server) loses what was
   * buffered for it: the whole call is made again, once. */
  for (guint attempt = 0; attempt < 2; attempt++)
    {
      gboolean dropped = FALSE;
      memcached_return_t barrier_rc;

      rc = MEMCACHED_SUCCESS;
      for (gsize i = 0; i < n_keys; i++)
        {
          memcached_return_t key_rc;
          int key_server;

          /* past the deadline: the rest is not sent */
          if (mc_handle_expired (memc))
            {
              if (memcached_success (rc))
                rc = MEMCACHED_TIMEOUT, failed_server = -1, failed_key = i;
              break;
            }
          key_rc = mc_client_write (client, memc, kind, keys[i], lengths[i],
                                    &items[i], &key_server);
          dropped = dropped || mc_client_dropped (memc, key_rc);
          if (!memcached_success (key_rc) && memcached_success (rc))
            rc = key_rc, failed_server = key_server, failed_key = i;
        }
      barrier_rc = barrier (self, memc, keys, lengths, n_keys);
      dropped = dropped || mc_client_dropped (memc, barrier_rc);
      if (memcached_success (rc) && !memcached_success (barrier_rc))
        rc = barrier_rc, failed_server = -1, failed_key = n_keys;
      if (!dropped)
        break;
    }
  if (!memcached_success (rc))
    ok = mc_client_fail (client, memc, rc, operation,
                         failed_key < n_keys ? keys[failed_key] : NULL,
                         failed_key < n_keys ? lengths[failed_key] : 0,
                         failed_server, error);
  mc_pool_release (client->pool, handle);
  clear_items (items, n_keys);
  return ok;
}

static gboolean
mc_backend_set_multi (DogpileBackendImpl *self, const char *const *keys,
                      GBytes *const *values, gsize n_keys, GError **error)
{
  return write_multi (self, MC_WRITE_SET, keys, values, n_keys, error);
}

static gboolean
mc_backend_delete_multi (DogpileBackendImpl *self, const char *const *keys,
                         gsize n_keys, GError **error)
{
  return write_multi (self, MC_WRITE_DELETE, keys, NULL, n_keys, error);
}

/* --- lock and keys ----------------------------------------------------- */

static DogpileMutex *
mc_backend_get_mutex (DogpileBackendImpl *self, const char *key)
{
  if (!self->client->config->distributed_lock)
    return NULL;
  return mc_lock_new (self->client, key);
}

static gboolean
mc_backend_set_serializer (DogpileBackendImpl *self, const char *serializer,
                           GError **error)
{
  self->client->config->stock_pickle = strcmp (serializer, "pickle") == 0;
  return TRUE;
}

static char *
mc_backend_mangle_key (DogpileBackendImpl *self, const char *key)
{
  return mc_client_mangle_key (self->client, key);
}

/* --- descriptors ------------------------------------------------------- */

#define DEFINE_MEMCACHED_BACKEND(short_name, kind, text)                      \
  static DogpileBackendImpl *create_##short_name (GHashTable *arguments,      \
                                                  GError **error)             \
  {                                                                           \
    return backend_new (kind, "dogpile.cache." #short_name, arguments,        \
                        error);                                               \
  }                                                                           \
  static const DogpileBackendDesc short_name##_desc = {                       \
    .abi_version = DOGPILE_BACKEND_ABI_VERSION,                               \
    .name = "dogpile.cache." #short_name,                                     \
    .description = text,                                                      \
    .version = DOGPILE_VERSION_STRING,                                        \
    .create = create_##short_name,                                            \
    .destroy = mc_backend_destroy,                                            \
    .get = mc_backend_get,                                                    \
    .set = mc_backend_set,                                                    \
    .delete_key = mc_backend_delete,                                          \
    .get_multi = mc_backend_get_multi,                                        \
    .set_multi = mc_backend_set_multi,                                        \
    .delete_multi = mc_backend_delete_multi,                                  \
    .get_mutex = mc_backend_get_mutex,                                        \
    .mangle_key = mc_backend_mangle_key,                                      \
    .set_serializer = mc_backend_set_serializer,                              \
    .arguments = mc_arguments,                                                \
  };                                                                          \
  DOGPILE_BACKEND_DEFINE (short_name, short_name##_desc)

DEFINE_MEMCACHED_BACKEND (
    memcached, MC_CLIENT_MEMCACHED,
    "memcached on libmemcached, keys placed as python-memcached places them")
DEFINE_MEMCACHED_BACKEND (
    pylibmc, MC_CLIENT_PYLIBMC,
    "memcached on libmemcached, with pylibmc's behaviors and distribution")
DEFINE_MEMCACHED_BACKEND (
    bmemcached, MC_CLIENT_BMEMCACHED,
    "memcached on libmemcached, replicated to every server as bmemcached")
DEFINE_MEMCACHED_BACKEND (
    pymemcache, MC_CLIENT_PYMEMCACHE,
    "memcached on libmemcached, keys placed by pymemcache's rendezvous hash")
