/* memory-store.c: a sharded open-addressing table of nodes, optionally
 * bounded by an admission and eviction policy.
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
 *    reader may hold a pointer to -- replaced payloads, long keys, old
 *    tables -- but retire it, and free it once the epoch scheme
 *    (memory-epoch.c) says every reader that could see it has left;
 *  - a hit takes one reference on the stored GBytes; nothing is copied.
 *
 * Memory per entry: a slot is 8 bytes, a pointer to a 48-byte node (key
 * up to 16 bytes inline, payload reference, metadata, the policy's links
 * as 32-bit indices) with 16 bits of the key's hash in its unused top
 * bits, so a probe looks at no node whose tag differs.  Nodes come from
 * per-shard slabs (memory-node.h) and are reused in that shard: a reader
 * that reaches a node being reused sees the shard's counter move and
 * retries.  Readers follow pointers only, never the indices.
 *
 * With a bound (max_entries, max_bytes) the store keeps one policy
 * (memory-policy.c) under one lock.  A hit records the node in a lossy
 * striped ring buffer (Caffeine's read buffer): the reader's own stripe,
 * no lock; when a stripe fills, its reader drains it into the policy if
 * it gets the policy lock without waiting.  Writers take the policy
 * lock, drain, change the table, then evict.  Readers never wait for it.
 *
 * With memory_expiration_time, a reader treats an entry older than that as
 * absent, and each write sweeps a few slots for such entries and removes
 * them: bounded work per operation, no thread.
 *
 * 64 shards (bits 26..31 of the hash), linear probing with backward-shift
 * deletion (low hash bits), load factor at most 3/4.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory-store.h"

#include <pthread.h>
#include <stdatomic.h>

#include "memory-epoch.h"

#define N_SHARDS 64
#define SHARD_SHIFT 26 /* 32 - log2 (N_SHARDS): shard bits of hash32 */
#define MAX_SHARD_CAPACITY (G_GUINT64_CONSTANT (1) << SHARD_SHIFT)
#define INITIAL_CAPACITY 8
#define COLLECT_EVERY 64
#define SWEEP_SLOTS 8 /* slots examined for expired entries per write */

#define N_STRIPES 16
#define STRIPE_SIZE 16 /* a power of two */

#define TAG_SHIFT MEMORY_NODE_ADDRESS_BITS
#define PTR_MASK ((G_GUINT64_CONSTANT (1) << TAG_SHIFT) - 1)

#define LOAD(field, order)                                                    \
  atomic_load_explicit (&(field), memory_order_##order)
#define STORE(field, value, order)                                            \
  atomic_store_explicit (&(field), (value), memory_order_##order)

/* A slot: a node pointer, tagged with 16 bits of the hash; 0 is empty.
 * The mask travels with its slots so a reader never pairs an old array
 * with a new size. */
typedef struct {
  gsize mask;
  _Atomic guint64 slots[];
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
  guint tables_in_limbo;
  MemoryNodePool pool;
  gsize sweep_at;  /* the expiry sweep's next slot */
  guint64 expired; /* removed by expiry, when unbounded */
} __attribute__ ((aligned (64))) Shard;

/* One stripe of the read buffer: readers reserve a slot by moving the
 * tail, the drain (under the policy lock) moves the head. */
typedef struct {
  atomic_uint head;
  atomic_uint tail;
  _Atomic (MemoryNode *) ring[STRIPE_SIZE];
} __attribute__ ((aligned (64))) ReadStripe;

struct MemoryStore {
  Shard shards[N_SHARDS];
  gint ref_count; /* guarded by named_lock for named stores */
  char *name;
  GList link; /* on all_stores, for fork(); data is the store */
  MemoryStoreOptions options;
  gboolean bounded;
  double expiration_time;

  /* bounded only */
  pthread_mutex_t policy_lock;
  MemoryPolicy policy;
  guint sweep_shard;
  ReadStripe stripes[N_STRIPES];
};

/* cache_dict name -> MemoryStore, so regions naming the same dict share
 * one store, as Python code sharing a dict object would. */
static pthread_mutex_t named_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *named_stores;

/* Across fork(): before it, the named stores' lock, the list's, every
 * policy lock and every shard's write lock are taken (in the order the
 * code nests them), so the child finds no table half changed; after it,
 * both processes release them.  Readers take no lock, and the epochs
 * reset themselves (memory-epoch.c). */
static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static GQueue all_stores = G_QUEUE_INIT;

static void
stores_fork_prepare (gpointer unused)
{
  pthread_mutex_lock (&named_lock);
  pthread_mutex_lock (&stores_lock);
  for (GList *l = all_stores.head; l != NULL; l = l->next)
    {
      MemoryStore *store = l->data;

      if (store->bounded)
        pthread_mutex_lock (&store->policy_lock);
      for (int i = 0; i < N_SHARDS; i++)
        pthread_mutex_lock (&store->shards[i].write_lock);
    }
}

static void
stores_fork_release (gpointer unused)
{
  for (GList *l = all_stores.head; l != NULL; l = l->next)
    {
      MemoryStore *store = l->data;

      for (int i = 0; i < N_SHARDS; i++)
        pthread_mutex_unlock (&store->shards[i].write_lock);
      if (store->bounded)
        pthread_mutex_unlock (&store->policy_lock);
    }
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

/* Eight bytes at a time, then a murmur3 finaliser so every bit (shard,
 * slot, tag) is well mixed. */
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

static inline guint64
tag_of (guint64 hash)
{
  return (hash >> 32) & 0xffff;
}

static inline MemoryNode *
slot_node (guint64 slot)
{
  return (MemoryNode *) (guintptr) (slot & PTR_MASK);
}

static inline guint64
make_slot (MemoryNode *node, guint64 tag)
{
  return (guint64) (guintptr) node | (tag << TAG_SHIFT);
}

static inline Shard *
shard_of (MemoryStore *store, guint32 hash32)
{
  return &store->shards[hash32 >> SHARD_SHIFT];
}

/* Reader side: 1 if @node holds @key, 0 if not, -1 if the shard changed
 * under the reader (retry).  The key bytes are plain memory a writer may
 * be changing; a torn compare is caught by the sequence check. */
static inline int
node_matches (Shard *shard, unsigned seq, MemoryNode *node, const char *key,
              gsize len, guint32 hash32)
{
  unsigned key_len;

  if (LOAD (node->hash, acquire) != hash32)
    return 0;
  key_len = LOAD (node->key_len, acquire);
  if (len > MEMORY_INLINE_KEY)
    {
      MemoryLongKey *long_key;

      if (key_len != MEMORY_LONG_KEY)
        return 0;
      long_key = LOAD (node->key.long_key, acquire);
      /* A torn view could pair the long length with inline bytes: check
       * before following the pointer (a retired key outlives the epoch). */
      if (LOAD (shard->seq, acquire) != seq)
        return -1;
      return long_key->len == len && memcmp (long_key->bytes, key, len) == 0;
    }
  if (key_len != len)
    return 0;
  for (gsize i = 0; i < len; i++)
    if (__atomic_load_n (&node->key.inline_key[i], __ATOMIC_ACQUIRE) != key[i])
      return 0;
  return 1;
}

/* Writer side: the write lock is held, nothing moves. */
static gboolean
node_has_key (MemoryNode *node, const char *key, gsize len, guint32 hash32)
{
  unsigned key_len = LOAD (node->key_len, relaxed);

  if (LOAD (node->hash, relaxed) != hash32)
    return FALSE;
  if (key_len == MEMORY_LONG_KEY)
    {
      MemoryLongKey *long_key = LOAD (node->key.long_key, relaxed);

      return long_key->len == len && memcmp (long_key->bytes, key, len) == 0;
    }
  return key_len == len && memcmp (node->key.inline_key, key, len) == 0;
}

static void
node_set_key (MemoryNode *node, const char *key, gsize len, guint32 hash32)
{
  STORE (node->hash, hash32, release);
  if (len > MEMORY_INLINE_KEY)
    {
      MemoryLongKey *long_key = g_malloc (sizeof (MemoryLongKey) + len + 1);

      long_key->len = len;
      memcpy (long_key->bytes, key, len);
      long_key->bytes[len] = '\0';
      /* release: whoever loads the pointer sees the string */
      STORE (node->key.long_key, long_key, release);
      STORE (node->key_len, MEMORY_LONG_KEY, release);
    }
  else
    {
      for (gsize i = 0; i < len; i++)
        __atomic_store_n (&node->key.inline_key[i], key[i], __ATOMIC_RELEASE);
      STORE (node->key_len, (unsigned char) len, release);
    }
}

static Table *
table_new (gsize capacity)
{
  Table *table = g_aligned_alloc0 (
      1, sizeof (Table) + capacity * sizeof (_Atomic guint64), 64);

  table->mask = capacity - 1;
  return table;
}

static void
store_init_shards (MemoryStore *store)
{
  for (int i = 0; i < N_SHARDS; i++)
    {
      Shard *shard = &store->shards[i];

      STORE (shard->table, table_new (INITIAL_CAPACITY), relaxed);
      pthread_mutex_init (&shard->write_lock, NULL);
      shard->limbo = g_array_new (FALSE, FALSE, sizeof (Garbage));
      shard->collect_at = COLLECT_EVERY;
      memory_node_pool_init (&shard->pool);
    }
}

static MemoryStore *
store_new (const char *name, const MemoryStoreOptions *options)
{
  MemoryStore *store = g_aligned_alloc0 (1, sizeof (MemoryStore), 64);

  store_init_shards (store);
  store->options = *options;
  store->expiration_time = options->expiration_time;
  store->bounded = options->max_entries != MEMORY_UNBOUNDED
                   || options->max_bytes != MEMORY_UNBOUNDED;
  if (store->bounded)
    {
      gboolean weighted = options->max_bytes != MEMORY_UNBOUNDED;

      pthread_mutex_init (&store->policy_lock, NULL);
      memory_policy_init (&store->policy, &store->shards[0].pool,
                          options->policy, options->max_entries,
                          options->max_bytes, weighted);
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
        {
          guint64 slot = LOAD (table->slots[j], relaxed);
          MemoryNode *node = slot_node (slot);

          if (slot == 0)
            continue;
          if (LOAD (node->key_len, relaxed) == MEMORY_LONG_KEY)
            g_free (LOAD (node->key.long_key, relaxed));
          g_bytes_unref (LOAD (node->data, relaxed));
        }
      g_aligned_free (table);
      for (guint j = 0; j < shard->limbo->len; j++)
        {
          Garbage *g = &g_array_index (shard->limbo, Garbage, j);

          g->free_func (g->item);
        }
      g_array_free (shard->limbo, TRUE);
      memory_node_pool_clear (&shard->pool);
      pthread_mutex_destroy (&shard->write_lock);
    }
  if (store->bounded)
    {
      memory_policy_clear (&store->policy);
      pthread_mutex_destroy (&store->policy_lock);
    }
  g_free (store->name);
  g_aligned_free (store);
}

static gboolean
same_options (const MemoryStoreOptions *a, const MemoryStoreOptions *b)
{
  return a->max_entries == b->max_entries && a->max_bytes == b->max_bytes
         && a->policy == b->policy && a->expiration_time == b->expiration_time;
}

MemoryStore *
memory_store_acquire (const char *name, const MemoryStoreOptions *options,
                      GError **error)
{
  static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
  MemoryStoreOptions defaults = MEMORY_STORE_OPTIONS_INIT;
  MemoryStore *store;

  if (options == NULL)
    options = &defaults;
  pthread_once (&hooks_once, add_fork_hooks);
  if (name == NULL)
    return store_new (NULL, options);
  pthread_mutex_lock (&named_lock);
  if (named_stores == NULL)
    named_stores = g_hash_table_new (g_str_hash, g_str_equal);
  store = g_hash_table_lookup (named_stores, name);
  if (store != NULL)
    {
      if (!same_options (&store->options, options))
        {
          pthread_mutex_unlock (&named_lock);
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "cache_dict %s is already in use with other "
                       "max_entries, max_bytes, eviction_policy or "
                       "memory_expiration_time",
                       name);
          return NULL;
        }
      store->ref_count++;
    }
  else
    {
      store = store_new (name, options);
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

/* --- the seqlock's writer side ------------------------------------------- */

/* Without fences (GCC refuses standalone fences under ThreadSanitizer): the
 * odd count is stored first and every slot store after it is a release, so
 * a reader that sees any new content also sees the odd count.  On x86
 * these are plain stores. */
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
        shard->tables_in_limbo
            -= g_array_index (shard->limbo, Garbage, n++).free_func
               == g_aligned_free;
      if (n > 0)
        {
          freeable = g_array_sized_new (FALSE, FALSE, sizeof (Garbage), n);
          g_array_append_vals (freeable, shard->limbo->data, n);
          g_array_remove_range (shard->limbo, 0, n);
        }
      shard->collect_at
          = shard->tables_in_limbo > 0 ? 0 : shard->limbo->len + COLLECT_EVERY;
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

/* --- the table, writer side -----------------------------------------------
 */

/* The slot holding @key, or the empty slot where it would go. */
static gsize
probe (Table *table, const char *key, gsize len, guint32 hash32, guint64 tag)
{
  for (gsize i = hash32 & table->mask;; i = (i + 1) & table->mask)
    {
      guint64 slot = LOAD (table->slots[i], relaxed);

      if (slot == 0
          || ((slot >> TAG_SHIFT) == tag
              && node_has_key (slot_node (slot), key, len, hash32)))
        return i;
    }
}

static gsize
find_node (Table *table, MemoryNode *node)
{
  for (gsize i = LOAD (node->hash, relaxed) & table->mask;;
       i = (i + 1) & table->mask)
    if (slot_node (LOAD (table->slots[i], relaxed)) == node)
      return i;
}

/* Called with the write lock held.  Readers of the old table keep it until
 * it is retired past them. */
static void
grow (Shard *shard, Table *old)
{
  Table *table = table_new ((old->mask + 1) * 2);

  for (gsize i = 0; i <= old->mask; i++)
    {
      guint64 slot = LOAD (old->slots[i], relaxed);
      gsize j;

      if (slot == 0)
        continue;
      for (j = LOAD (slot_node (slot)->hash, relaxed) & table->mask;
           LOAD (table->slots[j], relaxed) != 0; j = (j + 1) & table->mask)
        ;
      STORE (table->slots[j], slot, relaxed);
    }
  /* release: a reader that finds the table finds its slots */
  STORE (shard->table, table, release);
  retire (shard, old, g_aligned_free);
  /* An old table is as big as everything else in the limbo: try to free
   * it at every write from now on, not after 64 more retirements. */
  shard->tables_in_limbo++;
  shard->collect_at = 0;
}

/* Backward-shift deletion: pull later members of the probe run into the
 * hole when their home allows, so lookups can stop at the first empty
 * slot and no tombstones pile up. */
static void
delete_at (Table *table, gsize h)
{
  gsize i = h;

  STORE (table->slots[h], 0, release);
  for (;;)
    {
      guint64 slot;
      gsize home;

      i = (i + 1) & table->mask;
      slot = LOAD (table->slots[i], relaxed);
      if (slot == 0)
        break;
      home = LOAD (slot_node (slot)->hash, relaxed) & table->mask;
      /* Leave the entry if its home lies cyclically in (h, i]. */
      if (h <= i ? (h < home && home <= i) : (h < home || home <= i))
        continue;
      STORE (table->slots[h], slot, release);
      STORE (table->slots[i], 0, release);
      h = i;
    }
}

/* The node leaves the table (already unlinked from it, and from the
 * policy's lists): its payload and long key are retired, the node goes
 * back to the pool. */
static void
node_release (Shard *shard, MemoryNode *node)
{
  if (LOAD (node->key_len, relaxed) == MEMORY_LONG_KEY)
    retire (shard, LOAD (node->key.long_key, relaxed), g_free);
  retire (shard, LOAD (node->data, relaxed), (GDestroyNotify) g_bytes_unref);
  STORE (node->meta, 0, release);
  memory_node_free (&shard->pool, node);
  shard->count--;
}

static inline gboolean
is_expired (MemoryStore *store, MemoryNode *node, double now)
{
  return now - LOAD (node->cached_time, relaxed) > store->expiration_time;
}

/* --- reads ----------------------------------------------------------------
 */

static int next_stripe_index;
static __thread int my_stripe = -1;

static inline ReadStripe *
my_read_stripe (MemoryStore *store)
{
  if (G_UNLIKELY (my_stripe < 0))
    my_stripe = g_atomic_int_add (&next_stripe_index, 1) & (N_STRIPES - 1);
  return &store->stripes[my_stripe];
}

static void maintain_locked (MemoryStore *store);
static void drain_stripe (MemoryStore *store, ReadStripe *stripe);

/* Records a hit for the policy; lossy under contention, never blocking. */
static inline void
record_read (MemoryStore *store, MemoryNode *node)
{
  ReadStripe *stripe = my_read_stripe (store);
  unsigned tail = LOAD (stripe->tail, relaxed);
  unsigned head = LOAD (stripe->head, acquire);

  if (tail - head < STRIPE_SIZE)
    {
      if (atomic_compare_exchange_weak_explicit (
              &stripe->tail, &tail, tail + 1, memory_order_relaxed,
              memory_order_relaxed))
        STORE (stripe->ring[tail & (STRIPE_SIZE - 1)], node, release);
      if (tail + 1 - head < STRIPE_SIZE)
        return;
    }
  /* Full: drain it, unless someone else is already at it.  A reader
   * drains only its own stripe: draining another thread's would move its
   * cache lines to this core and back on every fill, which costs more
   * than the reads themselves.  Writers drain them all. */
  if (pthread_mutex_trylock (&store->policy_lock) == 0)
    {
      drain_stripe (store, stripe);
      maintain_locked (store);
      pthread_mutex_unlock (&store->policy_lock);
    }
}

MemoryItemKind
memory_store_lookup (MemoryStore *store, const char *key, GBytes **out_data,
                     DogpileMetadata *out_metadata)
{
  gsize len = strlen (key);
  guint64 hash = hash_key (key, len), tag = tag_of (hash);
  guint32 hash32 = (guint32) hash;
  Shard *shard = shard_of (store, hash32);
  MemoryEpochReader *reader = memory_epoch_enter ();
  MemoryNode *found;
  MemoryItemKind kind;
  GBytes *data;
  double cached_time;
  int version;

  for (;;)
    {
      unsigned seq = LOAD (shard->seq, acquire);
      Table *table;
      gsize i, steps = 0;
      gboolean retry = FALSE;

      if (G_UNLIKELY (seq & 1))
        continue; /* a writer is mid-change; it is brief */
      table = LOAD (shard->table, acquire);
      found = NULL;
      kind = 0;
      data = NULL;
      cached_time = 0;
      version = 0;
      for (i = hash32 & table->mask;; i = (i + 1) & table->mask)
        {
          guint64 slot = LOAD (table->slots[i], acquire);
          MemoryNode *node;
          int match;

          /* A torn view can lack the empty slot a probe stops at. */
          if (slot == 0 || steps++ > table->mask)
            break;
          if ((slot >> TAG_SHIFT) != tag)
            continue;
          node = slot_node (slot);
          match = node_matches (shard, seq, node, key, len, hash32);
          if (match < 0)
            {
              retry = TRUE;
              break;
            }
          if (match)
            {
              found = node;
              data = LOAD (node->data, acquire);
              cached_time = LOAD (node->cached_time, acquire);
              version = LOAD (node->version, acquire);
              kind = (MemoryItemKind) (LOAD (node->meta, acquire)
                                       & MEMORY_META_KIND_MASK);
              break;
            }
        }
      /* Every load above was an acquire, so none moves past this one, and
       * a writer's change seen above means its odd count is seen here. */
      if (!retry && LOAD (shard->seq, relaxed) == seq)
        break;
    }
  if (data != NULL && store->expiration_time > 0
      && dogpile_clock_now () - cached_time > store->expiration_time)
    data = NULL, kind = 0; /* as good as gone; a write sweeps it */
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
  /* The node may be reused by now: the drain checks it is still queued
   * (a record for a reused node is a harmless misattribution). */
  if (data != NULL && store->bounded)
    record_read (store, found);
  return data != NULL ? kind : 0;
}

/* --- the policy's side ----------------------------------------------------
 */

static void
drain_stripe (MemoryStore *store, ReadStripe *stripe)
{
  unsigned head = LOAD (stripe->head, relaxed);
  unsigned tail = LOAD (stripe->tail, acquire);
  unsigned start = head;

  for (; head != tail; head++)
    {
      _Atomic (MemoryNode *) *slot = &stripe->ring[head & (STRIPE_SIZE - 1)];
      MemoryNode *node = LOAD (*slot, acquire);

      if (node == NULL)
        break; /* reserved, not yet written: next time */
      /* A plain store, not an exchange: no reader writes this slot
       * again before it sees the head below move past it. */
      STORE (*slot, NULL, relaxed);
      memory_policy_access (&store->policy, node);
    }
  if (head != start)
    STORE (stripe->head, head, release);
}

static void
drain_reads (MemoryStore *store)
{
  for (int s = 0; s < N_STRIPES; s++)
    drain_stripe (store, &store->stripes[s]);
}

/* The policy chose @node: out of its shard's table it goes. */
static void
evict_node (MemoryNode *node, gpointer data)
{
  MemoryStore *store = data;
  Shard *shard = shard_of (store, LOAD (node->hash, relaxed));
  Table *table;

  write_begin (shard);
  table = LOAD (shard->table, relaxed);
  delete_at (table, find_node (table, node));
  node_release (shard, node);
  free_garbage (write_end (shard));
}

/* Looks at a few slots of one shard for expired entries, round robin over
 * the shards; bounded stores only (the policy lock keeps tables still). */
static void
sweep_bounded (MemoryStore *store, double now)
{
  Shard *shard = &store->shards[store->sweep_shard++ % N_SHARDS];
  Table *table = LOAD (shard->table, relaxed);
  gboolean open = FALSE;

  for (int n = 0; n < SWEEP_SLOTS; n++)
    {
      gsize i = shard->sweep_at++ & table->mask;
      guint64 slot = LOAD (table->slots[i], relaxed);
      MemoryNode *node = slot_node (slot);

      if (slot == 0 || !is_expired (store, node, now))
        continue;
      if (!open)
        {
          write_begin (shard);
          open = TRUE;
        }
      memory_policy_remove (&store->policy, node,
                            memory_policy_weight (&store->policy, node),
                            MEMORY_REMOVED_EXPIRY);
      delete_at (table, i);
      node_release (shard, node);
      shard->sweep_at--; /* the shift may have pulled an entry in here */
    }
  if (open)
    free_garbage (write_end (shard));
}

/* The same for an unbounded store, in the shard being written (its lock is
 * held). */
static void
sweep_shard_locked (MemoryStore *store, Shard *shard, double now)
{
  Table *table = LOAD (shard->table, relaxed);

  for (int n = 0; n < SWEEP_SLOTS; n++)
    {
      gsize i = shard->sweep_at++ & table->mask;
      guint64 slot = LOAD (table->slots[i], relaxed);
      MemoryNode *node = slot_node (slot);

      if (slot == 0 || !is_expired (store, node, now))
        continue;
      delete_at (table, i);
      node_release (shard, node);
      shard->expired++;
      shard->sweep_at--;
    }
}

/* What follows a drain: eviction, then the window's adaptation. */
static void
maintain_locked (MemoryStore *store)
{
  memory_policy_evict (&store->policy, evict_node, store);
  memory_policy_climb (&store->policy);
}

void
memory_store_maintain (MemoryStore *store)
{
  if (!store->bounded)
    return;
  pthread_mutex_lock (&store->policy_lock);
  drain_reads (store);
  maintain_locked (store);
  if (store->expiration_time > 0)
    for (int i = 0; i < N_SHARDS; i++)
      sweep_bounded (store, dogpile_clock_now ());
  pthread_mutex_unlock (&store->policy_lock);
}

/* --- writes ---------------------------------------------------------------
 */

/* Puts @data under @key in its shard; the shard's write lock is held.
 * Returns the node and, for a replaced value, its old weight in
 * *old_weight (else the node is new). */
static MemoryNode *
put_locked (MemoryStore *store, Shard *shard, const char *key, gsize len,
            guint64 hash, MemoryItemKind kind, GBytes *data,
            const DogpileMetadata *metadata, gboolean *is_new,
            guint64 *old_weight)
{
  guint32 hash32 = (guint32) hash;
  guint64 tag = tag_of (hash);
  Table *table = LOAD (shard->table, relaxed);
  gsize i = probe (table, key, len, hash32, tag);
  guint64 slot = LOAD (table->slots[i], relaxed);
  MemoryNode *node;
  double cached_time
      = metadata != NULL ? metadata->cached_time : dogpile_clock_now ();
  int version = metadata != NULL ? metadata->version : 0;

  *is_new = slot == 0;
  if (*is_new)
    {
      /* A bounded store holds the policy lock here: the policy's
       * directory may grow. */
      node = memory_node_alloc (&shard->pool,
                                store->bounded ? &store->policy.nodes : NULL);
      node_set_key (node, key, len, hash32);
    }
  else
    {
      node = slot_node (slot);
      if (store->bounded)
        *old_weight = memory_policy_weight (&store->policy, node);
      retire (shard, LOAD (node->data, relaxed),
              (GDestroyNotify) g_bytes_unref);
    }
  STORE (node->data, data, release);
  STORE (node->cached_time, cached_time, release);
  STORE (node->version, (gint16) CLAMP (version, G_MININT16, G_MAXINT16),
         release);
  STORE (node->meta,
         (unsigned char) ((LOAD (node->meta, relaxed) & ~MEMORY_META_KIND_MASK)
                          | (unsigned) kind),
         release);
  if (*is_new)
    {
      /* Publishing the slot last makes the node visible to probes. */
      STORE (table->slots[i], make_slot (node, tag), release);
      /* Keep the load factor at or below 3/4 so probes stay short. */
      if (++shard->count * 4 > (table->mask + 1) * 3
          && table->mask + 1 < MAX_SHARD_CAPACITY)
        grow (shard, table);
    }
  return node;
}

void
memory_store_insert (MemoryStore *store, const char *key, MemoryItemKind kind,
                     GBytes *data, const DogpileMetadata *metadata)
{
  gsize len = strlen (key);
  guint64 hash = hash_key (key, len);
  Shard *shard = shard_of (store, (guint32) hash);
  MemoryNode *node;
  gboolean is_new;
  guint64 old_weight = 0;
  GArray *garbage;

  if (!store->bounded)
    {
      g_bytes_ref (data);
      write_begin (shard);
      put_locked (store, shard, key, len, hash, kind, data, metadata, &is_new,
                  &old_weight);
      if (store->expiration_time > 0)
        sweep_shard_locked (store, shard, dogpile_clock_now ());
      free_garbage (write_end (shard));
      return;
    }

  pthread_mutex_lock (&store->policy_lock);
  drain_reads (store);
  if (store->policy.maximum == 0 || store->policy.max_entries == 0)
    {
      /* A bound of 0 keeps nothing, like dogpile.cache.null. */
      pthread_mutex_unlock (&store->policy_lock);
      return;
    }
  g_bytes_ref (data);
  write_begin (shard);
  node = put_locked (store, shard, key, len, hash, kind, data, metadata,
                     &is_new, &old_weight);
  garbage = write_end (shard);
  if (is_new)
    memory_policy_add (&store->policy, node,
                       memory_policy_weight (&store->policy, node));
  else
    memory_policy_update (&store->policy, node, old_weight,
                          memory_policy_weight (&store->policy, node));
  memory_policy_evict (&store->policy, evict_node, store);
  if (store->expiration_time > 0)
    sweep_bounded (store, dogpile_clock_now ());
  memory_policy_climb (&store->policy);
  pthread_mutex_unlock (&store->policy_lock);
  free_garbage (garbage);
}

void
memory_store_remove (MemoryStore *store, const char *key)
{
  gsize len = strlen (key);
  guint64 hash = hash_key (key, len);
  guint32 hash32 = (guint32) hash;
  Shard *shard = shard_of (store, hash32);
  Table *table;
  gsize i;
  guint64 slot;

  if (store->bounded)
    pthread_mutex_lock (&store->policy_lock);
  write_begin (shard);
  table = LOAD (shard->table, relaxed);
  i = probe (table, key, len, hash32, tag_of (hash));
  slot = LOAD (table->slots[i], relaxed);
  if (slot != 0)
    {
      MemoryNode *node = slot_node (slot);

      if (store->bounded)
        memory_policy_remove (&store->policy, node,
                              memory_policy_weight (&store->policy, node),
                              MEMORY_REMOVED_EXPLICIT);
      delete_at (table, i);
      node_release (shard, node);
    }
  if (!store->bounded && store->expiration_time > 0)
    sweep_shard_locked (store, shard, dogpile_clock_now ());
  if (store->bounded)
    {
      GArray *garbage = write_end (shard);

      if (store->expiration_time > 0)
        sweep_bounded (store, dogpile_clock_now ());
      pthread_mutex_unlock (&store->policy_lock);
      free_garbage (garbage);
      return;
    }
  free_garbage (write_end (shard));
}

void
memory_store_get_counters (MemoryStore *store,
                           MemoryStoreCounters *out_counters)
{
  memset (out_counters, 0, sizeof *out_counters);
  if (store->bounded)
    {
      MemoryPolicy *p = &store->policy;

      pthread_mutex_lock (&store->policy_lock);
      out_counters->entries = p->count;
      out_counters->weighted_size = p->weighted_size;
      out_counters->maximum = p->maximum;
      out_counters->evictions_size = p->evictions_size;
      out_counters->evictions_expiry = p->evictions_expiry;
      out_counters->window_maximum = p->window_maximum;
      out_counters->window_size = p->window_size;
      out_counters->protected_maximum = p->protected_maximum;
      out_counters->climbs = p->climbs;
      out_counters->sketch_resets = p->sketch.resets;
      pthread_mutex_unlock (&store->policy_lock);
      return;
    }
  for (int i = 0; i < N_SHARDS; i++)
    {
      Shard *shard = &store->shards[i];

      pthread_mutex_lock (&shard->write_lock);
      out_counters->entries += shard->count;
      out_counters->evictions_expiry += shard->expired;
      pthread_mutex_unlock (&shard->write_lock);
    }
  out_counters->weighted_size = out_counters->entries;
}
