/* memory-node.c: the slabs nodes are allocated from.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory-node.h"

void
memory_node_pool_init (MemoryNodePool *pool, guint32 number)
{
  pool->free = MEMORY_NODE_NIL;
  pool->n_slabs = 0;
  pool->number = number;
}

void
memory_node_pool_clear (MemoryNodes *nodes, MemoryNodePool *pool)
{
  for (guint32 k = 0; k < pool->n_slabs; k++)
    g_free (nodes->slabs[pool->number][k]);
  g_clear_pointer (&nodes->slabs[pool->number], g_free);
  memory_node_pool_init (pool, pool->number);
}

void
memory_node_pool_grow (MemoryNodes *nodes, MemoryNodePool *pool)
{
  guint32 k = pool->n_slabs;
  /* Slabs start small (many stores hold few keys) and grow. */
  guint32 n = MIN (MEMORY_SLAB_NODES, 4u << MIN (k, 4));
  guint32 base;
  MemoryNode *slab;

  /* The last slab number of the last pool would hold MEMORY_NODE_NIL. */
  if (k == MEMORY_POOL_SLABS - 1)
    g_error ("memory store: more than %u nodes in one shard",
             (MEMORY_POOL_SLABS - 1) * MEMORY_SLAB_NODES);
  slab = g_new0 (MemoryNode, n);
  if ((guintptr) (slab + n) >> MEMORY_NODE_ADDRESS_BITS != 0)
    g_error ("memory store: address %p does not leave 16 bits for tags",
             (gpointer) slab);
  /* The directory doubles each time it is full: at 1, 2, 4 ... slabs. */
  if ((k & (k - 1)) == 0)
    nodes->slabs[pool->number] = g_renew (
        MemoryNode *, nodes->slabs[pool->number], MAX (2 * (gsize) k, 1));
  nodes->slabs[pool->number][k] = slab;
  pool->n_slabs = k + 1;
  base = pool->number << MEMORY_POOL_SHIFT | k << MEMORY_SLAB_SHIFT;
  for (guint32 i = n; i-- > 0;)
    {
      slab[i].prev = base + i;
      slab[i].next = pool->free;
      pool->free = base + i;
    }
}
