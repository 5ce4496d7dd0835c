/* memory-store.h: the sharded hash table behind the memory backends.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile-plugin.h>

G_BEGIN_DECLS

typedef struct MemoryStore MemoryStore;

/* What a slot holds: a payload with its metadata (set_value), or bytes
 * stored as they are (set).  Either can be read either way. */
typedef enum {
  MEMORY_ITEM_VALUE = 1,
  MEMORY_ITEM_BYTES = 2,
} MemoryItemKind;

/* A store shared by name (the cache_dict argument), or private when @name
 * is NULL. */
MemoryStore *memory_store_acquire (const char *name);
void memory_store_release (MemoryStore *store);

/* Returns the kind found, or 0 on a miss.  *out_data is a new reference. */
MemoryItemKind memory_store_lookup (MemoryStore *store, const char *key,
                                    GBytes **out_data,
                                    DogpileMetadata *out_metadata);
void memory_store_insert (MemoryStore *store, const char *key,
                          MemoryItemKind kind, GBytes *data,
                          const DogpileMetadata *metadata);
void memory_store_remove (MemoryStore *store, const char *key);

G_END_DECLS
