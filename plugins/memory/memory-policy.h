/* memory-policy.h: what a bounded memory store keeps and what it evicts.
 *
 * W-TinyLFU (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient
 * Cache Admission Policy", ACM ToS 2017): new entries go to a small LRU
 * window; what falls out of it is a candidate for the main space, a
 * segmented LRU (probation, then protected once read again), and enters it
 * only if the frequency sketch says it is more popular than the main
 * space's victim.  The window's share is adapted (Einziger, Eytan,
 * Friedman and Manes, "Adaptive Software Cache Management", Middleware
 * 2018), so recency-biased workloads get a large window and
 * frequency-biased ones a small one.  Where Caffeine climbs on the change
 * of the hit ratio between samples, which moves at random on a stationary
 * trace, the direction here comes from ghosts (memory-ghost.h): the misses
 * a window one step larger would have hit, against those a main space one
 * step larger would have; a move that then lowers the hit ratio is undone
 * and that direction waits, longer each time.
 *
 * MEMORY_POLICY_LRU keeps one LRU list, for comparison.
 *
 * Everything here runs under the store's policy lock.  The policy never
 * frees a node: it unlinks the victims and hands them to @evict.  Its lists
 * span the store's shards: their links are indices into its directory of
 * every shard's slabs (memory-node.h).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "memory-ghost.h"
#include "memory-node.h"
#include "memory-sketch.h"

G_BEGIN_DECLS

typedef enum {
  MEMORY_POLICY_TINYLFU,
  MEMORY_POLICY_LRU,
} MemoryPolicyKind;

typedef enum {
  MEMORY_REMOVED_SIZE,   /* evicted to keep within the bound */
  MEMORY_REMOVED_EXPIRY, /* older than memory_expiration_time */
  MEMORY_REMOVED_EXPLICIT,
} MemoryRemovalCause;

/* Unlinks nothing: the node is already out of the policy's lists. */
typedef void (*MemoryEvictFunc) (MemoryNode *node, gpointer data);

/* A circular list around a sentinel node of its own. */
typedef struct {
  MemoryNode *sentinel;
  guint32 index; /* the sentinel's */
} MemoryList;

typedef struct {
  MemoryNodes nodes; /* what the links index; nodes must come from pools
                      * numbered here */
  MemoryPolicyKind kind;
  gboolean weighted;   /* weights are memory_node_cost, else 1 */
  guint64 maximum;     /* in weight units */
  guint64 max_entries; /* G_MAXUINT64: only @maximum bounds */
  guint64 weighted_size;
  guint64 count;

  guint64 window_maximum, window_size;
  guint64 protected_maximum, protected_size;
  MemoryList window, probation, protected;
  MemorySketch sketch;

  /* adapting the window */
  guint64 hits_in_sample, misses_in_sample;
  MemoryGhost window_ghost, main_ghost;
  guint64 window_ghost_hits, main_ghost_hits;
  gint64 adjustment;        /* weight to move into (+) or out of the window */
  int trial;                /* direction of the move on trial: +1, -1 or 0 */
  guint64 trial_step;       /* weight it moved */
  double trial_hit_rate;    /* the hit ratio before it */
  guint64 trial_requests;   /* requests that ratio was measured on */
  guint64 blocked_until[2]; /* [0]: shrinking, [1]: growing */
  unsigned backoff[2];      /* samples a failed move blocks its direction */
  guint64 climbs;           /* samples closed: the adaptation's clock */

  guint64 evictions_size;
  guint64 evictions_expiry;
  guint64 random; /* xorshift state for the hash-flooding guard */
} MemoryPolicy;

/* The sentinels come from @pool, and stay in it while the policy lives. */
void memory_policy_init (MemoryPolicy *policy, MemoryNodePool *pool,
                         MemoryPolicyKind kind, guint64 max_entries,
                         guint64 max_bytes, gboolean weighted);
void memory_policy_clear (MemoryPolicy *policy);

/* A read of @node that hit (from the read buffer). */
void memory_policy_access (MemoryPolicy *policy, MemoryNode *node);
/* @node was just added with @weight; evict afterwards. */
void memory_policy_add (MemoryPolicy *policy, MemoryNode *node,
                        guint64 weight);
/* @node's value was replaced: its weight went from @old to @new. */
void memory_policy_update (MemoryPolicy *policy, MemoryNode *node,
                           guint64 old_weight, guint64 new_weight);
/* @node leaves (deleted, expired): unlinks it. */
void memory_policy_remove (MemoryPolicy *policy, MemoryNode *node,
                           guint64 weight, MemoryRemovalCause cause);

/* Evicts until within the bounds, calling @evict for each victim. */
void memory_policy_evict (MemoryPolicy *policy, MemoryEvictFunc evict,
                          gpointer data);
/* Adapts the window when a sample is complete; call after draining. */
void memory_policy_climb (MemoryPolicy *policy);

/* The weight of @node as the policy counts it. */
static inline guint64
memory_policy_weight (const MemoryPolicy *policy, MemoryNode *node)
{
  return policy->weighted ? memory_node_cost (node) : 1;
}

static inline gboolean
memory_policy_over (const MemoryPolicy *policy)
{
  return policy->weighted_size > policy->maximum
         || policy->count > policy->max_entries;
}

G_END_DECLS
