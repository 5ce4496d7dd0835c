/* dogpile-memory.c: dogpile.cache.memory and dogpile.cache.memory_pickle.
 *
 * memory keeps each payload by reference with its metadata: a hit takes a
 * reference and copies or parses nothing.  memory_pickle keeps the bytes a
 * byte-storing backend would (the {"ct": ..., "v": 2}|payload record), so
 * a value goes through the same encoding as on Redis or dbm.
 *
 * Arguments (both):
 *   cache_dict              a name; backends given the same name share one
 *                           store, the way Python code passes one dict to
 *                           several regions
 *   max_entries             keep at most this many entries (default: no
 *                           bound, as in dogpile.cache); 0 keeps nothing
 *   max_bytes               keep at most this many bytes, counted as key +
 *                           payload + MEMORY_ENTRY_OVERHEAD (K, M, G: 1024s)
 *   eviction_policy         tinylfu (W-TinyLFU with an adaptive window, the
 *                           default) or lru
 *   memory_expiration_time  remove entries older than this; it must exceed
 *                           the region's expiration time plus the time a
 *                           value takes to regenerate (docs/memory.md)
 *
 * The store's counters read as the value of MEMORY_COUNTERS_KEY through
 * get (key=value lines); dogpile_region_get_stats reports them too.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory-store.h"

/* A key no region produces (it starts with a control character): its value
 * is the store's counters.  Kept in step with core/dogpile-proxy-stats.c. */
#define MEMORY_COUNTERS_KEY "\001dogpile.cache.memory:counters"

struct DogpileBackendImpl {
  MemoryStore *store;
};

/* A byte count: digits, then optionally K, M or G (powers of 1024). */
static gboolean
get_byte_count (GHashTable *arguments, const char *name, guint64 *out,
                GError **error)
{
  g_autofree char *text = NULL;
  guint64 value = 0, unit = 1;
  const char *p;

  if (!dogpile_arguments_dup_string (arguments, name, NULL, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;
  for (p = text; g_ascii_isdigit (*p); p++)
    {
      if (value > (G_MAXUINT64 - 9) / 10)
        break;
      value = value * 10 + (guint64) (*p - '0');
    }
  if (*p != '\0' && p[1] == '\0' && p != text)
    {
      switch (g_ascii_toupper (*p))
        {
        case 'K': unit = 1024, p++; break;
        case 'M': unit = 1024 * 1024, p++; break;
        case 'G': unit = 1024 * 1024 * 1024, p++; break;
        default: break;
        }
    }
  if (p == text || *p != '\0' || value > (MEMORY_UNBOUNDED - 1) / unit)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "%s must be a byte count such as 1048576 or 64M, not %s",
                   name, text);
      return FALSE;
    }
  *out = value * unit;
  return TRUE;
}

static DogpileBackendImpl *
memory_create (GHashTable *arguments, GError **error)
{
  static const char *const policies[]
      = { "tinylfu", "lru", "w-tinylfu", NULL };
  MemoryStoreOptions options = MEMORY_STORE_OPTIONS_INIT;
  DogpileBackendImpl *self;
  const char *cache_dict;
  MemoryStore *store;
  gint64 max_entries;
  guint policy;

  if (!dogpile_arguments_get_string (arguments, "cache_dict", NULL,
                                     &cache_dict, error)
      || !dogpile_arguments_get_int_range (arguments, "max_entries", -1, 0,
                                           G_MAXINT64, &max_entries, error)
      || !get_byte_count (arguments, "max_bytes", &options.max_bytes, error)
      || !dogpile_arguments_get_choice (arguments, "eviction_policy", policies,
                                        0, &policy, error)
      || !dogpile_arguments_get_duration_range (
          arguments, "memory_expiration_time", 0, 0, G_MAXDOUBLE, 0,
          &options.expiration_time, error))
    return NULL;
  if (max_entries >= 0)
    options.max_entries = (guint64) max_entries;
  options.policy = policy == 1 ? MEMORY_POLICY_LRU : MEMORY_POLICY_TINYLFU;
  store = memory_store_acquire (cache_dict, &options, error);
  if (store == NULL)
    return NULL;
  self = g_new0 (DogpileBackendImpl, 1);
  self->store = store;
  return self;
}

static GBytes *
counters_bytes (MemoryStore *store)
{
  MemoryStoreCounters c;
  char *text;

  memory_store_get_counters (store, &c);
  text = g_strdup_printf (
      "entries=%" G_GUINT64_FORMAT "\nweighted_size=%" G_GUINT64_FORMAT
      "\nmaximum=%" G_GUINT64_FORMAT "\nevictions_size=%" G_GUINT64_FORMAT
      "\nevictions_expiry=%" G_GUINT64_FORMAT
      "\nwindow_maximum=%" G_GUINT64_FORMAT "\nwindow_size=%" G_GUINT64_FORMAT
      "\nprotected_maximum=%" G_GUINT64_FORMAT "\nclimbs=%" G_GUINT64_FORMAT
      "\nsketch_resets=%" G_GUINT64_FORMAT "\n",
      c.entries, c.weighted_size, c.maximum, c.evictions_size,
      c.evictions_expiry, c.window_maximum, c.window_size, c.protected_maximum,
      c.climbs, c.sketch_resets);
  return g_bytes_new_take (text, strlen (text));
}

static void
memory_destroy (DogpileBackendImpl *self)
{
  memory_store_release (self->store);
  g_free (self);
}

static gboolean
memory_get (DogpileBackendImpl *self, const char *key, GBytes **out_value,
            GError **error)
{
  g_autoptr (GBytes) data = NULL;
  DogpileMetadata metadata;
  MemoryItemKind kind;

  if (G_UNLIKELY (key[0] == '\001') && strcmp (key, MEMORY_COUNTERS_KEY) == 0)
    {
      *out_value = counters_bytes (self->store);
      return TRUE;
    }
  kind = memory_store_lookup (self->store, key, &data, &metadata);
  if (kind == MEMORY_ITEM_VALUE)
    *out_value = dogpile_record_encode (data, &metadata);
  else if (kind == MEMORY_ITEM_BYTES)
    *out_value = g_steal_pointer (&data);
  return TRUE;
}

static gboolean
memory_set (DogpileBackendImpl *self, const char *key, GBytes *value,
            GError **error)
{
  memory_store_insert (self->store, key, MEMORY_ITEM_BYTES, value, NULL);
  return TRUE;
}

static gboolean
memory_delete (DogpileBackendImpl *self, const char *key, GError **error)
{
  memory_store_remove (self->store, key);
  return TRUE;
}

static gboolean
memory_get_value (DogpileBackendImpl *self, const char *key,
                  GBytes **out_payload, DogpileMetadata *out_metadata,
                  GError **error)
{
  g_autoptr (GBytes) data = NULL;
  MemoryItemKind kind;

  kind = memory_store_lookup (self->store, key, &data, out_metadata);
  if (kind == MEMORY_ITEM_VALUE)
    *out_payload = g_steal_pointer (&data);
  else if (kind == MEMORY_ITEM_BYTES)
    return dogpile_record_decode (data, out_payload, out_metadata, error);
  return TRUE;
}

static gboolean
memory_set_value (DogpileBackendImpl *self, const char *key, GBytes *payload,
                  const DogpileMetadata *metadata, GError **error)
{
  memory_store_insert (self->store, key, MEMORY_ITEM_VALUE, payload, metadata);
  return TRUE;
}

static gboolean
memory_delete_multi (DogpileBackendImpl *self, const char *const *keys,
                     gsize n_keys, GError **error)
{
  for (gsize i = 0; i < n_keys; i++)
    memory_store_remove (self->store, keys[i]);
  return TRUE;
}

static const DogpileBackendDesc memory_desc = {
  .abi_version = DOGPILE_BACKEND_ABI_VERSION,
  .name = "dogpile.cache.memory",
  .description = "Process memory; values kept by reference, sharded for "
                 "concurrent readers, optionally bounded (W-TinyLFU)",
  .version = DOGPILE_VERSION_STRING,
  .create = memory_create,
  .destroy = memory_destroy,
  .get = memory_get,
  .set = memory_set,
  .delete_key = memory_delete,
  .delete_multi = memory_delete_multi,
  .get_value = memory_get_value,
  .set_value = memory_set_value,
};

DOGPILE_BACKEND_DEFINE (memory, memory_desc)

static const DogpileBackendDesc memory_pickle_desc = {
  .abi_version = DOGPILE_BACKEND_ABI_VERSION,
  .name = "dogpile.cache.memory_pickle",
  .description = "Process memory holding serialized records, isolated from "
                 "the caller's objects",
  .version = DOGPILE_VERSION_STRING,
  .create = memory_create,
  .destroy = memory_destroy,
  .get = memory_get,
  .set = memory_set,
  .delete_key = memory_delete,
  .delete_multi = memory_delete_multi,
};

DOGPILE_BACKEND_DEFINE (memory_pickle, memory_pickle_desc)
