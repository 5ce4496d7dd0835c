/* memory-store.c: a sharded open-addressing table of refcounted items.
 *
 * Readers of different keys must not serialise on one lock, and a hit must
 * cost little more than a hash lookup and a reference: 64 shards, each a
 * linear-probing table under its own writer-preferring read-write lock,
 * padded to a cache line so readers of neighbouring shards do not bounce
 * each other's lock word.  The top hash bits pick the shard, the low bits
 * the slot.  A hit takes one reference on the stored GBytes; nothing is
 * copied or parsed.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory-store.h"

#include <pthread.h>

#define N_SHARDS 64
#define SHARD_SHIFT 58 /* 64 - log2 (N_SHARDS) */
#define INITIAL_CAPACITY 16

typedef struct {
  guint64 hash;
  char *key; /* NULL: empty slot */
  GBytes *data;
  DogpileMetadata metadata;
  MemoryItemKind kind;
} Slot;

typedef struct {
  pthread_rwlock_t lock;
  Slot *slots;
  gsize mask; /* capacity - 1 */
  gsize count;
} __attribute__ ((aligned (64))) Shard;

struct MemoryStore {
  Shard shards[N_SHARDS];
  gint ref_count; /* guarded by named_lock for named stores */
  char *name;
};

/* cache_dict name -> MemoryStore, so regions naming the same dict share
 * one store, as Python code sharing a dict object would. */
static GMutex named_lock;
static GHashTable *named_stores;

/* FNV-1a, then a murmur3 finaliser so the top bits (the shard) are as well
 * mixed as the low ones. */
static inline guint64
hash_key (const char *key)
{
  guint64 h = 0xcbf29ce484222325ULL;

  for (const unsigned char *p = (const unsigned char *) key; *p; p++)
    h = (h ^ *p) * 0x100000001b3ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

static inline Shard *
shard_for (MemoryStore *store, guint64 hash)
{
  return &store->shards[hash >> SHARD_SHIFT];
}

/* Index of @key's slot, or of the empty slot where it would go. */
static inline gsize
probe (const Shard *shard, const char *key, guint64 hash)
{
  gsize i = hash & shard->mask;

  while (shard->slots[i].key != NULL)
    {
      if (shard->slots[i].hash == hash && strcmp (shard->slots[i].key, key) == 0)
        break;
      i = (i + 1) & shard->mask;
    }
  return i;
}

static MemoryStore *
store_new (const char *name)
{
  MemoryStore *store = g_new0 (MemoryStore, 1);
  pthread_rwlockattr_t attr;

  /* A steady stream of readers must not starve set() and delete(). */
  pthread_rwlockattr_init (&attr);
  pthread_rwlockattr_setkind_np (&attr,
                                 PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  for (int i = 0; i < N_SHARDS; i++)
    {
      Shard *shard = &store->shards[i];

      pthread_rwlock_init (&shard->lock, &attr);
      shard->slots = g_new0 (Slot, INITIAL_CAPACITY);
      shard->mask = INITIAL_CAPACITY - 1;
    }
  pthread_rwlockattr_destroy (&attr);
  store->ref_count = 1;
  store->name = g_strdup (name);
  return store;
}

static void
store_free (MemoryStore *store)
{
  for (int i = 0; i < N_SHARDS; i++)
    {
      Shard *shard = &store->shards[i];

      for (gsize j = 0; j <= shard->mask; j++)
        if (shard->slots[j].key != NULL)
          {
            g_free (shard->slots[j].key);
            g_bytes_unref (shard->slots[j].data);
          }
      g_free (shard->slots);
      pthread_rwlock_destroy (&shard->lock);
    }
  g_free (store->name);
  g_free (store);
}

MemoryStore *
memory_store_acquire (const char *name)
{
  MemoryStore *store;

  if (name == NULL)
    return store_new (NULL);
  g_mutex_lock (&named_lock);
  if (named_stores == NULL)
    named_stores = g_hash_table_new (g_str_hash, g_str_equal);
  store = g_hash_table_lookup (named_stores, name);
  if (store != NULL)
    store->ref_count++;
  else
    {
      store = store_new (name);
      g_hash_table_insert (named_stores, store->name, store);
    }
  g_mutex_unlock (&named_lock);
  return store;
}

void
memory_store_release (MemoryStore *store)
{
  if (store->name == NULL)
    {
      store_free (store);
      return;
    }
  g_mutex_lock (&named_lock);
  if (--store->ref_count > 0)
    {
      g_mutex_unlock (&named_lock);
      return;
    }
  g_hash_table_remove (named_stores, store->name);
  g_mutex_unlock (&named_lock);
  store_free (store);
}

MemoryItemKind
memory_store_lookup (MemoryStore *store, const char *key, GBytes **out_data,
                     DogpileMetadata *out_metadata)
{
  guint64 hash = hash_key (key);
  Shard *shard = shard_for (store, hash);
  MemoryItemKind kind = 0;
  const Slot *slot;

  pthread_rwlock_rdlock (&shard->lock);
  slot = &shard->slots[probe (shard, key, hash)];
  if (slot->key != NULL)
    {
      kind = slot->kind;
      *out_data = g_bytes_ref (slot->data);
      *out_metadata = slot->metadata;
    }
  pthread_rwlock_unlock (&shard->lock);
  return kind;
}

/* Called with the write lock held. */
static void
grow (Shard *shard)
{
  gsize old_capacity = shard->mask + 1;
  Slot *old = shard->slots;

  shard->slots = g_new0 (Slot, old_capacity * 2);
  shard->mask = old_capacity * 2 - 1;
  for (gsize i = 0; i < old_capacity; i++)
    if (old[i].key != NULL)
      shard->slots[probe (shard, old[i].key, old[i].hash)] = old[i];
  g_free (old);
}

void
memory_store_insert (MemoryStore *store, const char *key, MemoryItemKind kind,
                     GBytes *data, const DogpileMetadata *metadata)
{
  guint64 hash = hash_key (key);
  Shard *shard = shard_for (store, hash);
  GBytes *replaced = NULL;
  Slot *slot;

  g_bytes_ref (data);
  pthread_rwlock_wrlock (&shard->lock);
  slot = &shard->slots[probe (shard, key, hash)];
  if (slot->key == NULL)
    {
      /* Keep the load factor at or below 3/4 so probes stay short. */
      if ((shard->count + 1) * 4 > (shard->mask + 1) * 3)
        {
          grow (shard);
          slot = &shard->slots[probe (shard, key, hash)];
        }
      slot->key = g_strdup (key);
      slot->hash = hash;
      shard->count++;
    }
  else
    replaced = slot->data;
  slot->data = data;
  slot->kind = kind;
  if (metadata != NULL)
    slot->metadata = *metadata;
  else
    memset (&slot->metadata, 0, sizeof slot->metadata);
  pthread_rwlock_unlock (&shard->lock);
  /* Freeing a large payload can take a while: not under the lock. */
  if (replaced != NULL)
    g_bytes_unref (replaced);
}

void
memory_store_remove (MemoryStore *store, const char *key)
{
  guint64 hash = hash_key (key);
  Shard *shard = shard_for (store, hash);
  GBytes *removed = NULL;
  char *removed_key = NULL;
  gsize hole, i;

  pthread_rwlock_wrlock (&shard->lock);
  hole = probe (shard, key, hash);
  if (shard->slots[hole].key != NULL)
    {
      removed = shard->slots[hole].data;
      removed_key = shard->slots[hole].key;
      shard->slots[hole].key = NULL;
      shard->count--;
      /* Backward-shift deletion: move later entries of the probe run into
       * the hole when their home position allows, so no tombstones are
       * needed and lookups stop at the first empty slot. */
      i = hole;
      for (;;)
        {
          gsize home;

          i = (i + 1) & shard->mask;
          if (shard->slots[i].key == NULL)
            break;
          home = shard->slots[i].hash & shard->mask;
          /* Leave the entry if its home lies cyclically in (hole, i]. */
          if (hole <= i ? (hole < home && home <= i)
                        : (hole < home || home <= i))
            continue;
          shard->slots[hole] = shard->slots[i];
          shard->slots[i].key = NULL;
          hole = i;
        }
    }
  pthread_rwlock_unlock (&shard->lock);
  g_free (removed_key);
  if (removed != NULL)
    g_bytes_unref (removed);
}
