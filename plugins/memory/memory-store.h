/* memory-store.h: the sharded hash table behind the memory backends, with
 * an optional bound and an optional age limit.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile-plugin.h>

#include "memory-policy.h"

G_BEGIN_DECLS

typedef struct MemoryStore MemoryStore;

/* What a slot holds: a payload with its metadata (set_value), or bytes
 * stored as they are (set).  Either can be read either way. */
typedef enum {
  MEMORY_ITEM_VALUE = 1,
  MEMORY_ITEM_BYTES = 2,
} MemoryItemKind;

#define MEMORY_UNBOUNDED G_MAXUINT64

typedef struct {
  guint64 max_entries; /* MEMORY_UNBOUNDED: no bound */
  guint64 max_bytes;   /* MEMORY_UNBOUNDED: no bound */
  MemoryPolicyKind policy;
  double expiration_time; /* seconds; 0: entries never expire */
} MemoryStoreOptions;

#define MEMORY_STORE_OPTIONS_INIT                                             \
  {                                                                           \
    MEMORY_UNBOUNDED, MEMORY_UNBOUNDED, MEMORY_POLICY_TINYLFU, 0              \
  }

typedef struct {
  guint64 entries;
  guint64 weighted_size;    /* entries, or bytes with max_bytes */
  guint64 maximum;          /* the bound in those units; 0 if none */
  guint64 evictions_size;   /* removed to stay within the bound */
  guint64 evictions_expiry; /* removed by memory_expiration_time */
  guint64 window_maximum;   /* the admission window's share */
  guint64 window_size;
  guint64 protected_maximum;
  guint64 climbs;        /* adaptation samples taken */
  guint64 sketch_resets; /* times the sketch was halved */
} MemoryStoreCounters;

/* A store shared by name (the cache_dict argument), or private when @name
 * is NULL.  A second user of a name must ask for the same options. */
MemoryStore *memory_store_acquire (const char *name,
                                   const MemoryStoreOptions *options,
                                   GError **error);
void memory_store_release (MemoryStore *store);

/* Returns the kind found, or 0 on a miss.  *out_data is a new reference. */
MemoryItemKind memory_store_lookup (MemoryStore *store, const char *key,
                                    GBytes **out_data,
                                    DogpileMetadata *out_metadata);
void memory_store_insert (MemoryStore *store, const char *key,
                          MemoryItemKind kind, GBytes *data,
                          const DogpileMetadata *metadata);
void memory_store_remove (MemoryStore *store, const char *key);

/* Drains the read buffers and applies the policy now (tests, counters). */
void memory_store_maintain (MemoryStore *store);
void memory_store_get_counters (MemoryStore *store,
                                MemoryStoreCounters *out_counters);

G_END_DECLS
