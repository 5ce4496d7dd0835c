/* memory-node.h: one entry of the memory store, as the table and the
 * eviction policy both see it.
 *
 * A node is 48 bytes and lives in a slab of its shard's pool, so it costs
 * no allocation of its own.  Readers load its fields without a lock, under
 * the shard's sequence counter (memory-store.c), so every field a writer
 * changes while readers run is an atomic.  The list links are the
 * policy's, changed under its lock (and set once by memory_node_alloc,
 * under the shard's); readers never follow them.
 *
 * The links are 32-bit node indices rather than pointers: two pointers
 * were 16 of the node's 56 bytes.  An index is a slab's number in the
 * policy's directory and the node's offset in the slab, so resolving one
 * is a load from a directory that only the policy reads and grows, under
 * its lock (a bounded store allocates nodes only under it).  A node has
 * no field for its own index: it is its predecessor's successor, and a
 * node in no list is a list of itself (its links are its index), free
 * nodes included.
 *
 * Each shard has a pool of its own slabs, as nodes are reused only in
 * their shard; the free ones are chained through their payload pointer,
 * which no reader uses without a sequence check that rules a free node
 * out.  Unbounded stores have no policy and give their nodes no index.
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
  union {
    _Atomic (GBytes *) data;
    _Atomic (MemoryNode *) next_free; /* while free */
  };
  _Atomic double cached_time;
  _Atomic guint32 hash; /* the key's hash, low 32 bits */
  _Atomic gint16 version;
  atomic_uchar key_len; /* 0..MEMORY_INLINE_KEY, or MEMORY_LONG_KEY */
  atomic_uchar meta;    /* item kind (0: free) | queue << 4 */
  guint32 prev, next;   /* node indices */
  union {
    char inline_key[MEMORY_INLINE_KEY];
    _Atomic (MemoryLongKey *) long_key;
  } key;
};

G_STATIC_ASSERT (sizeof (MemoryNode) == 48);

#define MEMORY_SLAB_SHIFT 6
#define MEMORY_SLAB_NODES (1u << MEMORY_SLAB_SHIFT)
/* One slab number short, so no node's index is MEMORY_NODE_NIL. */
#define MEMORY_MAX_SLABS ((1u << (32 - MEMORY_SLAB_SHIFT)) - 1)
#define MEMORY_NODE_NIL G_MAXUINT32
/* The table keeps a tag above a node's address. */
#define MEMORY_NODE_ADDRESS_BITS 48

/* The slabs of every shard, by number: what an index is resolved
 * against.  Every slab takes MEMORY_SLAB_NODES numbers; the first few of
 * each shard hold fewer nodes (many stores hold few keys) and leave the
 * rest of theirs unused.  Slabs never move nor go before the store
 * does. */
typedef struct {
  MemoryNode **slabs;
  guint32 n_slabs;
} MemoryNodes;

/* One shard's slabs and free nodes, under its write lock. */
typedef struct {
  MemoryNode *free;
  MemoryNode **slabs;
  guint32 n_slabs;
} MemoryNodePool;

void memory_node_pool_init (MemoryNodePool *pool);
/* Frees the pool's slabs: every node of it is gone. */
void memory_node_pool_clear (MemoryNodePool *pool);
/* Adds a slab's worth of free nodes, numbered in @nodes unless NULL. */
void memory_node_pool_grow (MemoryNodePool *pool, MemoryNodes *nodes);
void memory_nodes_clear (MemoryNodes *nodes);

static inline MemoryNode *
memory_node_at (MemoryNode *const *slabs, guint32 index)
{
  return slabs[index >> MEMORY_SLAB_SHIFT] + (index & (MEMORY_SLAB_NODES - 1));
}

/* A node in no list, with zeroed or stale fields but for its links; its
 * payload pointer holds the free chain until the payload is stored.
 * @nodes: where its pool's slabs are numbered (NULL if nowhere); the same
 * on every call for a pool. */
static inline MemoryNode *
memory_node_alloc (MemoryNodePool *pool, MemoryNodes *nodes)
{
  MemoryNode *node;

  if (G_UNLIKELY (pool->free == NULL))
    memory_node_pool_grow (pool, nodes);
  node = pool->free;
  pool->free = atomic_load_explicit (&node->next_free, memory_order_relaxed);
  node->next = node->prev;
  return node;
}

/* @node must be in no list (so it keeps its index). */
static inline void
memory_node_free (MemoryNodePool *pool, MemoryNode *node)
{
  /* A release store, as every store a reader may see while a writer
   * holds the sequence odd: a reader that loads this as the payload then
   * sees the odd count too, and retries. */
  atomic_store_explicit (&node->next_free, pool->free, memory_order_release);
  pool->free = node;
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
