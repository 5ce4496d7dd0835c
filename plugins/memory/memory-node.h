/* memory-node.h: one entry of the memory store, as the table and the
 * eviction policy both see it.
 *
 * A node is 56 bytes and lives in a slab of its shard, so it costs no
 * allocation of its own.  Readers load its fields without a lock, under
 * the shard's sequence counter (memory-store.c), so every field a writer
 * changes while readers run is an atomic.  The list links are the
 * policy's, changed only under its lock (or the shard's free list).
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
 * the node (56), its share of the table at the usual load (16) and the
 * payload's GBytes header with its allocation (56). */
#define MEMORY_ENTRY_OVERHEAD 128

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
  MemoryNode *prev, *next;
  _Atomic guint32 hash; /* the key's hash, low 32 bits */
  _Atomic gint16 version;
  atomic_uchar key_len; /* 0..MEMORY_INLINE_KEY, or MEMORY_LONG_KEY */
  atomic_uchar meta;    /* item kind (0: free) | queue << 4 */
  union {
    char inline_key[MEMORY_INLINE_KEY];
    _Atomic (MemoryLongKey *) long_key;
  } key;
};

G_STATIC_ASSERT (sizeof (MemoryNode) == 56);

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
