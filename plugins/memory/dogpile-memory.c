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
 * The store's counters are read through get_counters
 * (dogpile_backend_get_counters, dogpile_region_get_backend_counters); the
 * stats proxy reports the evictions and the window size.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory-store.h"

struct DogpileBackendImpl {
  MemoryStore *store;
  double expiration_time; /* memory_expiration_time; 0 if none */
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
  self->expiration_time = options.expiration_time;
  return self;
}

static gboolean
memory_get_counters (DogpileBackendImpl *self,
                     DogpileBackendCounters *out_counters, GError **error)
{
  MemoryStoreCounters c;

  memory_store_get_counters (self->store, &c);
  out_counters->entries = c.entries;
  out_counters->weighted_size = c.weighted_size;
  out_counters->maximum = c.maximum;
  out_counters->evictions_size = c.evictions_size;
  out_counters->evictions_expiry = c.evictions_expiry;
  out_counters->window_maximum = c.window_maximum;
  out_counters->window_size = c.window_size;
  out_counters->protected_maximum = c.protected_maximum;
  out_counters->climbs = c.climbs;
  out_counters->sketch_resets = c.sketch_resets;
  return TRUE;
}

/* memory_expiration_time must exceed the region's expiration time (plus
 * the time a value takes to regenerate): else the stale value the dogpile
 * lock hands out while one caller regenerates is already gone. */
static void
memory_set_region_expiration_time (DogpileBackendImpl *self,
                                   double expiration_time)
{
  if (self->expiration_time > 0 && expiration_time > 0
      && self->expiration_time <= expiration_time)
    g_warning ("memory_expiration_time (%g s) is not longer than the "
               "region's expiration_time (%g s): expired values are removed "
               "before the region regenerates them, so the dogpile lock has "
               "no stale value to serve.  Make it exceed expiration_time "
               "plus the time a value takes to regenerate",
               self->expiration_time, expiration_time);
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

/* What memory_create reads; docs/memory.md says more of each. */
static const DogpileArgumentSpec memory_arguments[] = {
  DOGPILE_ARGUMENT ("cache_dict", DOGPILE_ARGUMENT_STRING,
                    DOGPILE_ARGUMENT_FLAGS_NONE, "none",
                    "a name: backends given the same name share one store "
                    "(Python passes a dict object)"),
  DOGPILE_ARGUMENT ("max_entries", DOGPILE_ARGUMENT_INTEGER,
                    DOGPILE_ARGUMENT_C_ONLY, "unbounded",
                    "keep at most this many entries; 0 keeps nothing"),
  DOGPILE_ARGUMENT ("max_bytes", DOGPILE_ARGUMENT_INTEGER,
                    DOGPILE_ARGUMENT_C_ONLY, "unbounded",
                    "keep at most this many bytes (K, M, G: 1024, 1024^2, "
                    "1024^3); " G_STRINGIFY (
                        MEMORY_ENTRY_OVERHEAD) " bytes of overhead an entry"),
  DOGPILE_ARGUMENT ("eviction_policy", DOGPILE_ARGUMENT_CHOICE,
                    DOGPILE_ARGUMENT_C_ONLY, "tinylfu",
                    "tinylfu (W-TinyLFU, adaptive window) or lru"),
  DOGPILE_ARGUMENT ("memory_expiration_time", DOGPILE_ARGUMENT_DURATION,
                    DOGPILE_ARGUMENT_C_ONLY, "none",
                    "entries older than this are gone (by creation time)"),
  DOGPILE_ARGUMENT_SPEC_END,
};

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
  .get_counters = memory_get_counters,
  .set_region_expiration_time = memory_set_region_expiration_time,
  .arguments = memory_arguments,
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
  .get_counters = memory_get_counters,
  .set_region_expiration_time = memory_set_region_expiration_time,
  .arguments = memory_arguments,
};

DOGPILE_BACKEND_DEFINE (memory_pickle, memory_pickle_desc)
