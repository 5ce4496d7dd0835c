/* dogpile-memory.c: dogpile.cache.memory and dogpile.cache.memory_pickle.
 *
 * memory keeps each payload by reference with its metadata: a hit takes a
 * reference and copies or parses nothing.  memory_pickle keeps the bytes a
 * byte-storing backend would (the {"ct": ..., "v": 2}|payload record), so
 * a value goes through the same encoding as on Redis or dbm.
 *
 * Arguments (both): cache_dict, a name; backends given the same name share
 * one store, the way Python code passes one dict to several regions.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory-store.h"

struct DogpileBackendImpl {
  MemoryStore *store;
};

static DogpileBackendImpl *
memory_create (GHashTable *arguments, GError **error)
{
  DogpileBackendImpl *self;
  const char *cache_dict;

  if (!dogpile_arguments_get_string (arguments, "cache_dict", NULL,
                                     &cache_dict, error))
    return NULL;
  self = g_new0 (DogpileBackendImpl, 1);
  self->store = memory_store_acquire (cache_dict);
  return self;
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

static const DogpileBackendDesc memory_desc = {
  .abi_version = DOGPILE_BACKEND_ABI_VERSION,
  .name = "dogpile.cache.memory",
  .description = "Process memory; values kept by reference, sharded for "
                 "concurrent readers",
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
