/* memory-node.h: one entry of the memory store, as the table and the
 * eviction policy both see it.
 *
 * A node is 48 bytes and lives in a slab of its shard's pool, so it costs
 * no allocation of its own.  Readers load its fields without a lock, under
 * the shard's sequence counter (memory-store.c), so every field a writer
 * changes while readers run is an atomic.  The list links are the
 * policy's, changed only under its lock (or the shard's write lock, for
 * the free list); readers never follow them.
 *
 * The links are 32-bit node indices rather than pointers: two pointers
 * were 16 of the node's 56 bytes.  An index names the pool (one per shard, as
 * nodes are reused only in their shard), the slab's number in it and the
 * node's offset in the slab, so resolving one is two loads from a small,
 * hot directory.  A node does not hold its own index: it is its
 * predecessor's successor, and a node in no list is a list of itself.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>
#include <stdatomic.h>

G_BEGIN_DECLS

/* Keys up to this many bytes live in the node; longer ones in a
 * MemoryLongKey of their own. */
#define MEMORY_INLINE_KEY 16
#define MEMORY_LONG_KEY 255 /* key_len of a node whose key is long */

/* What max_bytes counts for an entry beyond its key and payload bytes:
 * the node (48), its share of the table at the usual load (16) and the
 * payload's GBytes header with its allocation (56). */
#define MEMORY_ENTRY_OVERHEAD 120

typedef struct {
  gsize len;
  char bytes[]; /* NUL-terminated */
} MemoryLongKey;

/* Where the policy keeps a node; in the meta byte, above the item kind. */
typedef enum {
  MEMORY_QUEUE_NONE = 0, /* free, or not tracked */
  MEMORY_QUEUE_WINDOW = 1,
  MEMORY_QUEUE_PROBATION = 2,
  MEMORY_QUEUE_PROTECTED = 3,
} MemoryQueue;

#define MEMORY_META_KIND_MASK 0x0f
#define MEMORY_META_QUEUE_SHIFT 4

typedef struct MemoryNode MemoryNode;

struct MemoryNode {
  _Atomic (GBytes *) data;
  _Atomic double cached_time;
  _Atomic guint32 hash; /* the key's hash, low 32 bits */
  _Atomic gint16 version;
  atomic_uchar key_len; /* 0..MEMORY_INLINE_KEY, or MEMORY_LONG_KEY */
  atomic_uchar meta;    /* item kind (0: free) | queue << 4 */
  guint32 prev, next;   /* node indices; a free node's next is the next free */
  union {
    char inline_key[MEMORY_INLINE_KEY];
    _Atomic (MemoryLongKey *) long_key;
  } key;
};

G_STATIC_ASSERT (sizeof (MemoryNode) == 48);

/* An index: pool in the top bits, then slab, then offset.  Every slab
 * takes MEMORY_SLAB_NODES numbers; the first few hold fewer nodes (many
 * stores hold few keys) and leave the rest of theirs unused.  A pool's
 * 2^20 slabs hold as many nodes as a shard's largest table has slots. */
#define MEMORY_NODE_POOLS 64
#define MEMORY_POOL_SHIFT 26
#define MEMORY_SLAB_SHIFT 6
#define MEMORY_SLAB_NODES (1u << MEMORY_SLAB_SHIFT)
#define MEMORY_POOL_SLABS (1u << (MEMORY_POOL_SHIFT - MEMORY_SLAB_SHIFT))
#define MEMORY_NODE_NIL G_MAXUINT32 /* past the last slab of the last pool */
/* The table keeps a tag above a node's address. */
#define MEMORY_NODE_ADDRESS_BITS 48

G_STATIC_ASSERT (MEMORY_NODE_POOLS == 1u << (32 - MEMORY_POOL_SHIFT));

/* Every pool's slabs, by number: what an index is resolved against.  A
 * pool's directory is reallocated as it grows, by the pool's owner, so
 * whoever resolves indices of another pool must exclude its growth: the
 * policy does, as a bounded store allocates nodes only under the policy
 * lock.  Slabs never move nor go before the store does. */
typedef struct {
  MemoryNode **slabs[MEMORY_NODE_POOLS];
} MemoryNodes;

/* One pool's own side, kept with its shard (it is written on every
 * allocation). */
typedef struct {
  guint32 free; /* the first free node, or MEMORY_NODE_NIL */
  guint32 n_slabs;
  guint32 number;
} MemoryNodePool;

void memory_node_pool_init (MemoryNodePool *pool, guint32 number);
/* Frees the pool's slabs: every node of it is gone. */
void memory_node_pool_clear (MemoryNodes *nodes, MemoryNodePool *pool);
/* Adds a slab's worth of free nodes. */
void memory_node_pool_grow (MemoryNodes *nodes, MemoryNodePool *pool);

static inline MemoryNode *
memory_node_at (const MemoryNodes *nodes, guint32 index)
{
  return nodes->slabs[index >> MEMORY_POOL_SHIFT]
                     [(index >> MEMORY_SLAB_SHIFT) & (MEMORY_POOL_SLABS - 1)]
         + (index & (MEMORY_SLAB_NODES - 1));
}

/* A node in no list, with zeroed or stale fields but for its links. */
static inline MemoryNode *
memory_node_alloc (MemoryNodes *nodes, MemoryNodePool *pool)
{
  guint32 index;
  MemoryNode *node;

  if (G_UNLIKELY (pool->free == MEMORY_NODE_NIL))
    memory_node_pool_grow (nodes, pool);
  index = pool->free;
  node = memory_node_at (nodes, index);
  pool->free = node->next;
  node->next = index; /* a free node's prev is itself already */
  return node;
}

/* @node must be in no list (its prev is then its own index). */
static inline void
memory_node_free (MemoryNodePool *pool, MemoryNode *node)
{
  node->next = pool->free;
  pool->free = node->prev;
}

static inline MemoryQueue
memory_node_queue (MemoryNode *node)
{
  return (
      MemoryQueue) (atomic_load_explicit (&node->meta, memory_order_relaxed)
                    >> MEMORY_META_QUEUE_SHIFT);
}

/* Policy side: under the policy lock; readers only look at the kind. */
static inline void
memory_node_set_queue (MemoryNode *node, MemoryQueue queue)
{
  unsigned char meta
      = atomic_load_explicit (&node->meta, memory_order_relaxed);

  atomic_store_explicit (
      &node->meta,
      (unsigned char) ((meta & MEMORY_META_KIND_MASK)
                       | ((unsigned) queue << MEMORY_META_QUEUE_SHIFT)),
      memory_order_relaxed);
}

static inline gsize
memory_node_key_length (MemoryNode *node)
{
  unsigned len = atomic_load_explicit (&node->key_len, memory_order_relaxed);

  return len == MEMORY_LONG_KEY
             ? atomic_load_explicit (&node->key.long_key, memory_order_relaxed)
                   ->len
             : len;
}

/* What max_bytes counts for an entry. */
static inline guint64
memory_node_cost (MemoryNode *node)
{
  GBytes *data = atomic_load_explicit (&node->data, memory_order_relaxed);

  return memory_node_key_length (node) + g_bytes_get_size (data)
         + MEMORY_ENTRY_OVERHEAD;
}

G_END_DECLS
