/* memory-store.c: a sharded open-addressing table of refcounted items.
 *
 * The hit path must cost little more than a hash lookup and one reference,
 * and readers of different keys must not slow each other down.  A read
 * lock, even a sharded one, writes its lock word: with 100-key batches
 * every reader writes every shard's line and the cores spend their time
 * passing those lines back and forth.  So readers write nothing shared:
 *
 *  - each shard has a sequence counter, odd while a writer changes it;
 *    a reader probes without a lock and retries if the counter moved;
 *  - writers (one per shard at a time, under a mutex) never free what a
 *    reader may hold a pointer to -- replaced payloads, removed keys, old
 *    tables -- but retire it, and free it once the epoch scheme
 *    (memory-epoch.c) says every reader that could see it has left;
 *  - a hit takes one reference on the stored GBytes; nothing is copied.
 *
 * 64 shards (top hash bits), linear probing with backward-shift deletion
 * (low hash bits), load factor at most 3/4.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory-store.h"

#include <pthread.h>
#include <stdatomic.h>

#include "memory-epoch.h"

#define N_SHARDS 64
#define SHARD_SHIFT 58 /* 64 - log2 (N_SHARDS) */
#define INITIAL_CAPACITY 16
#define COLLECT_EVERY 64

/* Fields are atomics because readers load them while a writer may store;
 * the shard's sequence counter tells a reader whether what it loaded is a
 * consistent picture.  One slot is one cache line: keys up to
 * INLINE_KEY bytes live in it, so a hit reads no other memory before the
 * payload. */
#define INLINE_KEY 16

typedef struct {
  _Atomic guint64 hash;
  _Atomic (GBytes *) data;
  _Atomic double cached_time;
  atomic_int version;
  atomic_int kind; /* 0: empty slot */
  atomic_uint key_len;
  _Atomic (char *) long_key; /* keys longer than INLINE_KEY */
  char inline_key[INLINE_KEY];
} __attribute__ ((aligned (64))) Slot;

/* The mask travels with its slots so a reader never pairs an old array
 * with a new size. */
typedef struct {
  gsize mask;
  Slot slots[];
} Table;

typedef struct {
  guint64 epoch;
  gpointer item;
  GDestroyNotify free_func;
} Garbage;

typedef struct {
  atomic_uint seq;
  _Atomic (Table *) table;
  /* writer side */
  pthread_mutex_t write_lock; /* pthread: visible to ThreadSanitizer */
  gsize count;
  GArray *limbo;    /* Garbage, in retirement (so epoch) order */
  guint collect_at; /* limbo length at which to try freeing again */
} __attribute__ ((aligned (64))) Shard;

struct MemoryStore {
  Shard shards[N_SHARDS];
  gint ref_count; /* guarded by named_lock for named stores */
  char *name;
  GList link; /* on all_stores, for fork(); data is the store */
};

/* cache_dict name -> MemoryStore, so regions naming the same dict share
 * one store, as Python code sharing a dict object would. */
static pthread_mutex_t named_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *named_stores;

/* Across fork(): before it, the named stores' lock, the list's and every
 * shard's write lock are taken (in the order the code nests them), so the
 * child finds no table half changed; after it, both processes release
 * them.  Readers take no lock, and the epochs reset themselves
 * (memory-epoch.c). */
static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static GQueue all_stores = G_QUEUE_INIT;

static void
stores_fork_prepare (gpointer unused)
{
  pthread_mutex_lock (&named_lock);
  pthread_mutex_lock (&stores_lock);
  for (GList *l = all_stores.head; l != NULL; l = l->next)
    for (int i = 0; i < N_SHARDS; i++)
      pthread_mutex_lock (&((MemoryStore *) l->data)->shards[i].write_lock);
}

static void
stores_fork_release (gpointer unused)
{
  for (GList *l = all_stores.head; l != NULL; l = l->next)
    for (int i = 0; i < N_SHARDS; i++)
      pthread_mutex_unlock (&((MemoryStore *) l->data)->shards[i].write_lock);
  pthread_mutex_unlock (&stores_lock);
  pthread_mutex_unlock (&named_lock);
}

static void
add_fork_hooks (void)
{
  /* The epochs' hook first: a writer holding a shard's lock may advance
   * the epoch, so the shards' locks must be taken before its lock. */
  memory_epoch_fork_init ();
  dogpile_fork_hook_add (stores_fork_prepare, stores_fork_release,
                         stores_fork_release, NULL);
}

/* Eight bytes at a time, then a murmur3 finaliser so the top bits (the
 * shard) are as well mixed as the low ones (the slot). */
static inline guint64
hash_key (const char *key, gsize len)
{
  guint64 h = 0x9e3779b97f4a7c15ULL ^ len, w;
  const char *p = key;
  gsize n = len;

  for (; n >= 8; n -= 8, p += 8)
    {
      memcpy (&w, p, 8);
      h = (h ^ w) * 0xff51afd7ed558ccdULL;
      h ^= h >> 32;
    }
  if (n > 0)
    {
      /* A variable-length memcpy would be a call; gather the tail. */
      w = 0;
      for (gsize i = 0; i < n; i++)
        w |= (guint64) (unsigned char) p[i] << (8 * i);
      h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

#define LOAD(field, order)                                                    \
  atomic_load_explicit (&(field), memory_order_##order)
#define STORE(field, value, order)                                            \
  atomic_store_explicit (&(field), (value), memory_order_##order)

static inline const char *
slot_key (Slot *slot, gsize len)
{
  return len <= INLINE_KEY ? slot->inline_key : LOAD (slot->long_key, acquire);
}

/* The key bytes are plain memory a writer may be changing; a torn compare
 * is caught by the sequence check, like any other torn read. */
static inline gboolean
slot_matches (Slot *slot, const char *key, gsize len, guint64 hash)
{
  const char *k;

  if (LOAD (slot->hash, acquire) != hash
      || LOAD (slot->key_len, acquire) != len)
    return FALSE;
  /* A torn read can pair a long length with a slot whose long key was
   * cleared; entries leaving a slot clear it, so it is never dangling. */
  k = slot_key (slot, len);
  if (k == NULL)
    return FALSE;
  if (len > INLINE_KEY)
    return memcmp (k, key, len) == 0; /* long keys are never written again */
  /* Inline bytes can be rewritten under us: atomic byte loads (plain
   * loads on x86) say so, and the sequence check rejects a torn
   * comparison. */
  for (gsize i = 0; i < len; i++)
    if (__atomic_load_n (&k[i], __ATOMIC_ACQUIRE) != key[i])
      return FALSE;
  return TRUE;
}

/* The writer's side of those bytes. */
static void
store_inline_key (char *to, const char *from, gsize len)
{
  for (gsize i = 0; i < len; i++)
    __atomic_store_n (&to[i], from[i], __ATOMIC_RELEASE);
}

static void
slot_set_key (Slot *slot, const char *key, gsize len, guint64 hash)
{
  STORE (slot->hash, hash, release);
  if (len <= INLINE_KEY)
    store_inline_key (slot->inline_key, key, len);
  else
    /* release: whoever loads the pointer sees the string */
    STORE (slot->long_key, g_strndup (key, len), release);
  STORE (slot->key_len, (unsigned) len, release);
}

static Table *
table_new (gsize capacity)
{
  Table *table
      = g_aligned_alloc0 (1, sizeof (Table) + capacity * sizeof (Slot), 64);

  table->mask = capacity - 1;
  return table;
}

static MemoryStore *
store_new (const char *name)
{
  MemoryStore *store = g_new0 (MemoryStore, 1);

  for (int i = 0; i < N_SHARDS; i++)
    {
      Shard *shard = &store->shards[i];

      STORE (shard->table, table_new (INITIAL_CAPACITY), relaxed);
      pthread_mutex_init (&shard->write_lock, NULL);
      shard->limbo = g_array_new (FALSE, FALSE, sizeof (Garbage));
      shard->collect_at = COLLECT_EVERY;
    }
  store->ref_count = 1;
  store->name = g_strdup (name);
  pthread_mutex_lock (&stores_lock);
  store->link.data = store;
  g_queue_push_head_link (&all_stores, &store->link);
  pthread_mutex_unlock (&stores_lock);
  return store;
}

/* No reader is left when a store dies, so everything goes at once. */
static void
store_free (MemoryStore *store)
{
  pthread_mutex_lock (&stores_lock);
  g_queue_unlink (&all_stores, &store->link);
  pthread_mutex_unlock (&stores_lock);
  for (int i = 0; i < N_SHARDS; i++)
    {
      Shard *shard = &store->shards[i];
      Table *table = LOAD (shard->table, relaxed);

      for (gsize j = 0; j <= table->mask; j++)
        if (LOAD (table->slots[j].kind, relaxed) != 0)
          {
            if (LOAD (table->slots[j].key_len, relaxed) > INLINE_KEY)
              g_free (LOAD (table->slots[j].long_key, relaxed));
            g_bytes_unref (LOAD (table->slots[j].data, relaxed));
          }
      g_aligned_free (table);
      for (guint j = 0; j < shard->limbo->len; j++)
        {
          Garbage *g = &g_array_index (shard->limbo, Garbage, j);

          g->free_func (g->item);
        }
      g_array_free (shard->limbo, TRUE);
      pthread_mutex_destroy (&shard->write_lock);
    }
  g_free (store->name);
  g_free (store);
}

MemoryStore *
memory_store_acquire (const char *name)
{
  static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
  MemoryStore *store;

  pthread_once (&hooks_once, add_fork_hooks);
  if (name == NULL)
    return store_new (NULL);
  pthread_mutex_lock (&named_lock);
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
  pthread_mutex_unlock (&named_lock);
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
  pthread_mutex_lock (&named_lock);
  if (--store->ref_count > 0)
    {
      pthread_mutex_unlock (&named_lock);
      return;
    }
  g_hash_table_remove (named_stores, store->name);
  pthread_mutex_unlock (&named_lock);
  store_free (store);
}

MemoryItemKind
memory_store_lookup (MemoryStore *store, const char *key, GBytes **out_data,
                     DogpileMetadata *out_metadata)
{
  gsize len = strlen (key);
  guint64 hash = hash_key (key, len);
  Shard *shard = &store->shards[hash >> SHARD_SHIFT];
  MemoryEpochReader *reader = memory_epoch_enter ();
  MemoryItemKind kind;
  GBytes *data;
  double cached_time;
  int version;

  for (;;)
    {
      unsigned seq = LOAD (shard->seq, acquire);
      Table *table;
      gsize i, steps = 0;

      if (G_UNLIKELY (seq & 1))
        continue; /* a writer is mid-change; it is brief */
      table = LOAD (shard->table, acquire);
      kind = 0;
      data = NULL;
      cached_time = 0;
      version = 0;
      for (i = hash & table->mask;; i = (i + 1) & table->mask)
        {
          Slot *slot = &table->slots[i];
          int slot_kind = LOAD (slot->kind, acquire);

          /* A torn view can lack the empty slot a probe stops at. */
          if (slot_kind == 0 || steps++ > table->mask)
            break;
          if (slot_matches (slot, key, len, hash))
            {
              data = LOAD (slot->data, acquire);
              cached_time = LOAD (slot->cached_time, acquire);
              version = LOAD (slot->version, acquire);
              kind = (MemoryItemKind) slot_kind;
              break;
            }
        }
      /* Every load above was an acquire, so none moves past this one, and
       * a writer's change seen above means its odd count is seen here. */
      if (LOAD (shard->seq, relaxed) == seq)
        break;
    }
  /* Safe even if a writer replaced it since: retired payloads are not
   * released while this reader is inside its epoch. */
  if (data != NULL)
    {
      *out_data = g_bytes_ref (data);
      memset (out_metadata, 0, sizeof *out_metadata);
      out_metadata->cached_time = cached_time;
      out_metadata->version = version;
    }
  memory_epoch_leave (reader);
  return kind;
}

/* The seqlock's writer side without fences (GCC refuses standalone fences
 * under ThreadSanitizer): the odd count is stored first and every slot
 * store after it is a release, so a reader that sees any new slot content
 * also sees the odd count.  On x86 these are plain stores. */
static void
write_begin (Shard *shard)
{
  pthread_mutex_lock (&shard->write_lock);
  STORE (shard->seq, LOAD (shard->seq, relaxed) + 1, relaxed);
}

/* Ends the change and hands back what is now safe to free: the caller
 * frees it after dropping the lock.  The limbo is in epoch order, so what
 * can go is a prefix. */
static GArray *
write_end (Shard *shard)
{
  GArray *freeable = NULL;

  STORE (shard->seq, LOAD (shard->seq, relaxed) + 1, release);
  if (shard->limbo->len >= shard->collect_at)
    {
      guint64 safe = memory_epoch_collectable ();
      guint n = 0;

      while (n < shard->limbo->len
             && g_array_index (shard->limbo, Garbage, n).epoch <= safe)
        n++;
      if (n > 0)
        {
          freeable = g_array_sized_new (FALSE, FALSE, sizeof (Garbage), n);
          g_array_append_vals (freeable, shard->limbo->data, n);
          g_array_remove_range (shard->limbo, 0, n);
        }
      shard->collect_at = shard->limbo->len + COLLECT_EVERY;
    }
  pthread_mutex_unlock (&shard->write_lock);
  return freeable;
}

static void
free_garbage (GArray *freeable)
{
  if (freeable == NULL)
    return;
  for (guint i = 0; i < freeable->len; i++)
    {
      Garbage *g = &g_array_index (freeable, Garbage, i);

      g->free_func (g->item);
    }
  g_array_free (freeable, TRUE);
}

/* Called by the writer after unlinking @item. */
static void
retire (Shard *shard, gpointer item, GDestroyNotify free_func)
{
  Garbage g = { memory_epoch_current (), item, free_func };

  g_array_append_val (shard->limbo, g);
}

/* Writer-side probe: the write lock is held, nothing moves. */
static Slot *
probe (Table *table, const char *key, gsize len, guint64 hash)
{
  for (gsize i = hash & table->mask;; i = (i + 1) & table->mask)
    {
      Slot *slot = &table->slots[i];

      if (LOAD (slot->kind, relaxed) == 0
          || slot_matches (slot, key, len, hash))
        return slot;
    }
}

/* Publishing the kind last makes the slot visible to probes. */
static void
copy_slot (Slot *to, Slot *from)
{
  gsize len = LOAD (from->key_len, relaxed);

  STORE (to->hash, LOAD (from->hash, relaxed), release);
  if (len <= INLINE_KEY)
    store_inline_key (to->inline_key, from->inline_key, len);
  else
    STORE (to->long_key, LOAD (from->long_key, relaxed), release);
  STORE (to->key_len, (unsigned) len, release);
  STORE (to->data, LOAD (from->data, relaxed), release);
  STORE (to->cached_time, LOAD (from->cached_time, relaxed), release);
  STORE (to->version, LOAD (from->version, relaxed), release);
  STORE (to->kind, LOAD (from->kind, relaxed), release);
}

/* Called with the write lock held.  Readers of the old table keep it until
 * it is retired past them. */
static void
grow (Shard *shard, Table *old)
{
  Table *table = table_new ((old->mask + 1) * 2);

  for (gsize i = 0; i <= old->mask; i++)
    {
      Slot *from = &old->slots[i];
      gsize len = LOAD (from->key_len, relaxed);

      if (LOAD (from->kind, relaxed) != 0)
        copy_slot (probe (table, slot_key (from, len), len,
                          LOAD (from->hash, relaxed)),
                   from);
    }
  STORE (shard->table, table, release);
  retire (shard, old, g_aligned_free);
}

void
memory_store_insert (MemoryStore *store, const char *key, MemoryItemKind kind,
                     GBytes *data, const DogpileMetadata *metadata)
{
  gsize len = strlen (key);
  guint64 hash = hash_key (key, len);
  Shard *shard = &store->shards[hash >> SHARD_SHIFT];
  Table *table;
  Slot *slot;
  gboolean is_new;

  g_bytes_ref (data);
  write_begin (shard);
  table = LOAD (shard->table, relaxed);
  slot = probe (table, key, len, hash);
  is_new = LOAD (slot->kind, relaxed) == 0;
  if (is_new)
    slot_set_key (slot, key, len, hash);
  else
    retire (shard, LOAD (slot->data, relaxed), (GDestroyNotify) g_bytes_unref);
  STORE (slot->data, data, release);
  STORE (slot->cached_time, metadata != NULL ? metadata->cached_time : 0,
         release);
  STORE (slot->version, metadata != NULL ? metadata->version : 0, release);
  STORE (slot->kind, (int) kind, release);
  /* Keep the load factor at or below 3/4 so probes stay short. */
  if (is_new && ++shard->count * 4 > (table->mask + 1) * 3)
    grow (shard, table);
  free_garbage (write_end (shard));
}

void
memory_store_remove (MemoryStore *store, const char *key)
{
  gsize len = strlen (key);
  guint64 hash = hash_key (key, len);
  Shard *shard = &store->shards[hash >> SHARD_SHIFT];
  Table *table;
  Slot *hole;
  gsize h, i;

  write_begin (shard);
  table = LOAD (shard->table, relaxed);
  hole = probe (table, key, len, hash);
  if (LOAD (hole->kind, relaxed) != 0)
    {
      if (len > INLINE_KEY)
        {
          retire (shard, LOAD (hole->long_key, relaxed), g_free);
          STORE (hole->long_key, NULL, release);
        }
      retire (shard, LOAD (hole->data, relaxed),
              (GDestroyNotify) g_bytes_unref);
      STORE (hole->kind, 0, release);
      shard->count--;
      /* Backward-shift deletion: pull later members of the probe run into
       * the hole when their home allows, so lookups can stop at the first
       * empty slot and no tombstones pile up. */
      h = (gsize) (hole - table->slots);
      i = h;
      for (;;)
        {
          gsize home;

          i = (i + 1) & table->mask;
          if (LOAD (table->slots[i].kind, relaxed) == 0)
            break;
          home = LOAD (table->slots[i].hash, relaxed) & table->mask;
          /* Leave the entry if its home lies cyclically in (h, i]. */
          if (h <= i ? (h < home && home <= i) : (h < home || home <= i))
            continue;
          copy_slot (&table->slots[h], &table->slots[i]);
          STORE (table->slots[i].kind, 0, release);
          STORE (table->slots[i].long_key, NULL,
                 release); /* moved, not freed */
          h = i;
        }
    }
  free_garbage (write_end (shard));
}
