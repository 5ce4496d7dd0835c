/* memory-node.c: the slabs nodes are allocated from.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory-node.h"

void
memory_node_pool_init (MemoryNodePool *pool)
{
  memset (pool, 0, sizeof *pool);
}

void
memory_node_pool_clear (MemoryNodePool *pool)
{
  for (guint32 k = 0; k < pool->n_slabs; k++)
    g_free (pool->slabs[k]);
  g_free (pool->slabs);
  memory_node_pool_init (pool);
}

void
memory_nodes_clear (MemoryNodes *nodes)
{
  g_clear_pointer (&nodes->slabs, g_free);
  nodes->n_slabs = 0;
}

/* Appends to an array that doubles when full: at 1, 2, 4 ... items. */
static MemoryNode **
append (MemoryNode **array, guint32 n, MemoryNode *item)
{
  if ((n & (n - 1)) == 0)
    array = g_renew (MemoryNode *, array, MAX (2 * (gsize) n, 1));
  array[n] = item;
  return array;
}

void
memory_node_pool_grow (MemoryNodePool *pool, MemoryNodes *nodes)
{
  /* Slabs start small (many stores hold few keys) and grow. */
  guint32 n = MIN (MEMORY_SLAB_NODES, 4u << MIN (pool->n_slabs, 4));
  guint32 base = 0;
  MemoryNode *slab;

  if (nodes != NULL && nodes->n_slabs == MEMORY_MAX_SLABS)
    g_error ("memory store: more than %u nodes",
             MEMORY_MAX_SLABS * MEMORY_SLAB_NODES);
  slab = g_new0 (MemoryNode, n);
  if ((guintptr) (slab + n) >> MEMORY_NODE_ADDRESS_BITS != 0)
    g_error ("memory store: address %p does not leave 16 bits for tags",
             (gpointer) slab);
  pool->slabs = append (pool->slabs, pool->n_slabs++, slab);
  if (nodes != NULL)
    {
      base = nodes->n_slabs << MEMORY_SLAB_SHIFT;
      nodes->slabs = append (nodes->slabs, nodes->n_slabs++, slab);
    }
  for (guint32 i = n; i-- > 0;)
    {
      slab[i].prev = nodes != NULL ? base + i : MEMORY_NODE_NIL;
      memory_node_free (pool, &slab[i]);
    }
}
