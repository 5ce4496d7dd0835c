/* memory-policy.c: W-TinyLFU with an adaptive window, and plain LRU.
 *
 * The structure is Caffeine's (BoundedLocalCache): a 1% window and a 99%
 * main space of which 80% is protected.  The window then moves by steps
 * of 6.25% of the capacity (Caffeine's step), in the direction the ghosts
 * give (memory-policy.h), between 1% and 99%.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory-policy.h"

#include <math.h>

#define PERCENT_MAIN 0.99
#define PERCENT_MAIN_PROTECTED 0.80
#define QUEUE_TRANSFER_THRESHOLD 1000
#define ADMIT_HASHDOS_THRESHOLD 6

/* The window never goes below TinyLFU's 1%, nor the main space: a
 * window of one entry loses a tenth of the hits on a loop a little larger
 * than the cache, and a main space of none can no longer show what it
 * would have kept. */
#define PERCENT_WINDOW_BOUND 0.01
#define STEP_PERCENT 0.0625
/* A sample closes after a capacity's worth of requests once the ghosts
 * differ by two standard deviations (their hits are counts: the variance
 * of the difference is about their sum), with at least this many hits;
 * after ten capacities it closes without a move. */
#define SAMPLE_CAPACITIES 1
#define SAMPLE_MAX_CAPACITIES 10
#define GHOST_MIN_HITS 32
#define GHOST_Z 2.0
/* A move is on trial for five capacities of requests after it, and undone
 * if the hit ratio since it has fallen by three standard errors (and at
 * least half a point) by then.  From one capacity on it is looked at on
 * every call, and undone sooner if the fall is already five standard
 * errors: looked at so often, it must clear a higher bar before the end,
 * or a trace's own swings would undo good moves. */
#define TRIAL_CAPACITIES 5
#define TRIAL_Z 3.0
#define TRIAL_EARLY_Z 5.0
#define TRIAL_MIN_DROP 0.005
#define BACKOFF_MAX 64

/* --- the lists: circular, around a sentinel ------------------------------ */

/* The project builds without strict aliasing, so every store to a link
 * would reload the directory: the helpers load all they need first. */

static inline MemoryNode *
at (const MemoryPolicy *policy, guint32 index)
{
  return memory_node_at (policy->nodes.slabs, index);
}

static void
list_init (MemoryPolicy *policy, MemoryList *list, MemoryNodePool *pool)
{
  list->sentinel = memory_node_alloc (pool, &policy->nodes);
  list->index = list->sentinel->prev;
}

/* Leaves @node a list of its own, as the lists' users expect of a node
 * they do not hold. */
static inline void
list_unlink (MemoryPolicy *policy, MemoryNode *node)
{
  MemoryNode *const *slabs = policy->nodes.slabs;
  guint32 prev_index = node->prev, next_index = node->next;
  MemoryNode *prev = memory_node_at (slabs, prev_index);
  MemoryNode *next = memory_node_at (slabs, next_index);
  guint32 self = prev->next;

  prev->next = next_index;
  next->prev = prev_index;
  node->prev = node->next = self;
}

/* Puts @node (index @self) between @prev and @next, adjacent in a list:
 * only stores, for callers that have loaded all they need. */
static inline void
link_between (MemoryNode *node, guint32 self, MemoryNode *prev,
              guint32 prev_index, MemoryNode *next, guint32 next_index)
{
  node->prev = prev_index;
  node->next = next_index;
  prev->next = self;
  next->prev = self;
}

/* @node is in no list, so its prev is its own index. */
static inline void
list_push_tail (MemoryPolicy *policy, MemoryList *list, MemoryNode *node)
{
  guint32 tail_index = list->sentinel->prev;

  link_between (node, node->prev, at (policy, tail_index), tail_index,
                list->sentinel, list->index);
}

static inline void
list_push_head (MemoryPolicy *policy, MemoryList *list, MemoryNode *node)
{
  guint32 head_index = list->sentinel->next;

  link_between (node, node->prev, list->sentinel, list->index,
                at (policy, head_index), head_index);
}

/* From wherever @node is (this list, another, or none) to the tail. */
static inline void
list_move_tail (MemoryPolicy *policy, MemoryList *list, MemoryNode *node)
{
  MemoryNode *const *slabs = policy->nodes.slabs;
  MemoryNode *sentinel = list->sentinel;
  guint32 prev_index = node->prev, next_index = node->next, tail_index;
  MemoryNode *prev, *next, *tail;
  guint32 self;

  if (next_index == list->index)
    return; /* the tail already */
  /* Unlinking @node leaves the tail where it is: @node is not it. */
  tail_index = sentinel->prev;
  prev = memory_node_at (slabs, prev_index);
  next = memory_node_at (slabs, next_index);
  tail = memory_node_at (slabs, tail_index);
  self = prev->next;
  prev->next = next_index;
  next->prev = prev_index;
  link_between (node, self, tail, tail_index, sentinel, list->index);
}

/* NULL at the sentinel */
static MemoryNode *
list_first (MemoryPolicy *policy, MemoryList *list)
{
  guint32 first = list->sentinel->next;

  return first == list->index ? NULL : at (policy, first);
}

static MemoryNode *
list_last (MemoryPolicy *policy, MemoryList *list)
{
  guint32 last = list->sentinel->prev;

  return last == list->index ? NULL : at (policy, last);
}

static MemoryNode *
list_next (MemoryPolicy *policy, MemoryList *list, MemoryNode *node)
{
  return node->next == list->index ? NULL : at (policy, node->next);
}

static MemoryNode *
list_prev (MemoryPolicy *policy, MemoryList *list, MemoryNode *node)
{
  return node->prev == list->index ? NULL : at (policy, node->prev);
}

/* --- set-up ---------------------------------------------------------------
 */

void
memory_policy_init (MemoryPolicy *policy, MemoryNodePool *pool,
                    MemoryPolicyKind kind, guint64 max_entries,
                    guint64 max_bytes, gboolean weighted)
{
  guint64 maximum = weighted ? max_bytes : max_entries;

  memset (policy, 0, sizeof *policy);
  policy->kind = kind;
  policy->weighted = weighted;
  policy->maximum = maximum;
  policy->max_entries = weighted ? max_entries : G_MAXUINT64;
  list_init (policy, &policy->window, pool);
  list_init (policy, &policy->probation, pool);
  list_init (policy, &policy->protected, pool);
  if (kind == MEMORY_POLICY_LRU)
    {
      policy->window_maximum = maximum;
      policy->protected_maximum = 0;
    }
  else
    {
      guint64 main = (guint64) (PERCENT_MAIN * (double) maximum);

      policy->window_maximum = maximum - main;
      policy->protected_maximum
          = (guint64) (PERCENT_MAIN_PROTECTED * (double) main);
    }
  policy->random = 0x9e3779b97f4a7c15ULL;
}

void
memory_policy_clear (MemoryPolicy *policy)
{
  memory_sketch_clear (&policy->sketch);
  memory_ghost_clear (&policy->window_ghost);
  memory_ghost_clear (&policy->main_ghost);
  memory_nodes_clear (&policy->nodes);
}

/* The sketch and the ghosts are sized lazily, once the cache is half full
 * (as Caffeine does): a cache that never fills pays nothing for them.  By
 * bytes, the capacity in entries is only known by counting. */
static void
ensure_sketch (MemoryPolicy *policy)
{
  guint64 capacity, entries;

  if (policy->weighted_size < policy->maximum / 2)
    return;
  if (!policy->weighted)
    {
      if (memory_sketch_is_initialized (&policy->sketch))
        return;
      capacity = policy->maximum;
    }
  else if (!memory_sketch_is_initialized (&policy->sketch)
           || policy->count > policy->sketch.length)
    capacity = MAX (policy->count * 2, 16);
  else
    return;
  memory_sketch_ensure_capacity (&policy->sketch, capacity);
  /* A ghost spans one step's entries: what a window or main space one
   * step larger would hold. */
  entries = policy->weighted ? policy->count : policy->maximum;
  memory_ghost_init (&policy->window_ghost,
                     (guint64) (STEP_PERCENT * (double) entries));
  memory_ghost_init (&policy->main_ghost,
                     (guint64) (STEP_PERCENT * (double) entries));
}

/* --- events ---------------------------------------------------------------
 */

static void
reorder_probation (MemoryPolicy *policy, MemoryNode *node)
{
  guint64 weight = memory_policy_weight (policy, node);

  if (weight > policy->protected_maximum)
    {
      list_move_tail (policy, &policy->probation, node);
      return;
    }
  /* An over-full protected space is demoted at the end of the drain. */
  policy->protected_size += weight;
  list_move_tail (policy, &policy->protected, node);
  memory_node_set_queue (node, MEMORY_QUEUE_PROTECTED);
}

void
memory_policy_access (MemoryPolicy *policy, MemoryNode *node)
{
  MemoryQueue queue = memory_node_queue (node);

  if (queue == MEMORY_QUEUE_NONE)
    return; /* gone since the read: a stale record */
  if (policy->kind == MEMORY_POLICY_LRU)
    {
      list_move_tail (policy, &policy->window, node);
      return;
    }
  memory_sketch_increment (
      &policy->sketch,
      atomic_load_explicit (&node->hash, memory_order_relaxed));
  if (queue == MEMORY_QUEUE_WINDOW)
    list_move_tail (policy, &policy->window, node);
  else if (queue == MEMORY_QUEUE_PROBATION)
    reorder_probation (policy, node);
  else
    list_move_tail (policy, &policy->protected, node);
  policy->hits_in_sample++;
}

void
memory_policy_add (MemoryPolicy *policy, MemoryNode *node, guint64 weight)
{
  policy->weighted_size += weight;
  policy->count++;
  policy->window_size += weight;
  if (policy->kind == MEMORY_POLICY_TINYLFU)
    {
      guint32 hash = atomic_load_explicit (&node->hash, memory_order_relaxed);

      ensure_sketch (policy);
      memory_sketch_increment (&policy->sketch, hash);
      policy->misses_in_sample++;
      if (memory_ghost_take (&policy->window_ghost, hash))
        policy->window_ghost_hits++;
      else if (memory_ghost_take (&policy->main_ghost, hash))
        policy->main_ghost_hits++;
    }
  memory_node_set_queue (node, MEMORY_QUEUE_WINDOW);
  /* Too heavy for the window: first in line to leave it. */
  if (weight > policy->window_maximum)
    list_push_head (policy, &policy->window, node);
  else
    list_push_tail (policy, &policy->window, node);
}

void
memory_policy_update (MemoryPolicy *policy, MemoryNode *node,
                      guint64 old_weight, guint64 new_weight)
{
  MemoryQueue queue = memory_node_queue (node);

  policy->weighted_size += new_weight - old_weight;
  if (queue == MEMORY_QUEUE_WINDOW)
    policy->window_size += new_weight - old_weight;
  else if (queue == MEMORY_QUEUE_PROTECTED)
    policy->protected_size += new_weight - old_weight;
  /* Replacing a value is a use of it; hits_in_sample counts reads only. */
  if (policy->kind == MEMORY_POLICY_TINYLFU)
    {
      guint64 hits = policy->hits_in_sample;

      memory_policy_access (policy, node);
      policy->hits_in_sample = hits;
    }
  else
    list_move_tail (policy, &policy->window, node);
}

static void
unlink_node (MemoryPolicy *policy, MemoryNode *node, guint64 weight)
{
  MemoryQueue queue = memory_node_queue (node);

  if (queue == MEMORY_QUEUE_WINDOW)
    policy->window_size -= weight;
  else if (queue == MEMORY_QUEUE_PROTECTED)
    policy->protected_size -= weight;
  policy->weighted_size -= weight;
  policy->count--;
  list_unlink (policy, node);
  memory_node_set_queue (node, MEMORY_QUEUE_NONE);
}

void
memory_policy_remove (MemoryPolicy *policy, MemoryNode *node, guint64 weight,
                      MemoryRemovalCause cause)
{
  if (memory_node_queue (node) == MEMORY_QUEUE_NONE)
    return;
  unlink_node (policy, node, weight);
  if (cause == MEMORY_REMOVED_EXPIRY)
    policy->evictions_expiry++;
  else if (cause == MEMORY_REMOVED_SIZE)
    policy->evictions_size++;
}

/* --- eviction -------------------------------------------------------------
 */

/* @ghost: the side that lets the node go, or NULL under plain LRU */
static void
evict_node (MemoryPolicy *policy, MemoryNode *node, MemoryGhost *ghost,
            MemoryEvictFunc evict, gpointer data)
{
  if (ghost != NULL)
    memory_ghost_add (
        ghost, atomic_load_explicit (&node->hash, memory_order_relaxed));
  unlink_node (policy, node, memory_policy_weight (policy, node));
  policy->evictions_size++;
  evict (node, data);
}

static guint64
next_random (MemoryPolicy *policy)
{
  guint64 x = policy->random;

  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  policy->random = x;
  return x;
}

/* TinyLFU's filter: the candidate replaces the victim only if it is more
 * popular.  A warm candidate losing to the victim is let in once in 128
 * tries, so an attacker cannot keep a hot victim resident by flooding
 * the sketch (Caffeine's guard). */
static gboolean
admit (MemoryPolicy *policy, MemoryNode *candidate, MemoryNode *victim)
{
  unsigned victim_freq = memory_sketch_frequency (
      &policy->sketch,
      atomic_load_explicit (&victim->hash, memory_order_relaxed));
  unsigned candidate_freq = memory_sketch_frequency (
      &policy->sketch,
      atomic_load_explicit (&candidate->hash, memory_order_relaxed));

  if (candidate_freq > victim_freq)
    return TRUE;
  if (candidate_freq >= ADMIT_HASHDOS_THRESHOLD)
    return (next_random (policy) & 127) == 0;
  return FALSE;
}

/* Moves what overflows the window to the probation's tail; returns how
 * many candidates that made. */
static guint64
evict_from_window (MemoryPolicy *policy)
{
  guint64 candidates = 0;
  MemoryNode *node = list_first (policy, &policy->window);

  while (policy->window_size > policy->window_maximum && node != NULL)
    {
      MemoryNode *next = list_next (policy, &policy->window, node);
      guint64 weight = memory_policy_weight (policy, node);

      list_move_tail (policy, &policy->probation, node);
      memory_node_set_queue (node, MEMORY_QUEUE_PROBATION);
      policy->window_size -= weight;
      candidates++;
      node = next;
    }
  return candidates;
}

typedef enum { FROM_PROBATION, FROM_PROTECTED, FROM_WINDOW } Queue;

static void
evict_from_main (MemoryPolicy *policy, guint64 candidates,
                 MemoryEvictFunc evict, gpointer data)
{
  Queue victim_queue = FROM_PROBATION, candidate_queue = FROM_PROBATION;
  MemoryNode *victim = list_first (policy, &policy->probation);
  MemoryNode *candidate = list_last (policy, &policy->probation);

#define CANDIDATE_STEP(c)                                                     \
  (candidate_queue == FROM_WINDOW                                             \
       ? list_next (policy, &policy->window, (c))                             \
       : list_prev (policy, &policy->probation, (c)))
#define VICTIM_LIST                                                           \
  (victim_queue == FROM_PROBATION   ? &policy->probation                      \
   : victim_queue == FROM_PROTECTED ? &policy->protected                      \
                                    : &policy->window)
  /* A rejected candidate would have stayed in a larger window; a victim
   * in a larger main space, unless it is the window's own last entry. */
#define VICTIM_GHOST                                                          \
  (victim_queue == FROM_WINDOW ? &policy->window_ghost : &policy->main_ghost)

  while (memory_policy_over (policy))
    {
      MemoryNode *evicted;
      MemoryGhost *ghost;

      /* Out of new candidates: look in the window for more. */
      if (candidates == 0 && candidate_queue == FROM_PROBATION)
        {
          candidate = list_first (policy, &policy->window);
          candidate_queue = FROM_WINDOW;
        }
      if (candidate == NULL && victim == NULL)
        {
          if (victim_queue == FROM_PROBATION)
            {
              victim = list_first (policy, &policy->protected);
              victim_queue = FROM_PROTECTED;
              continue;
            }
          if (victim_queue == FROM_PROTECTED)
            {
              victim = list_first (policy, &policy->window);
              victim_queue = FROM_WINDOW;
              continue;
            }
          break;
        }
      if (victim == NULL || candidate == victim
          || (candidate != NULL
              && memory_policy_weight (policy, candidate) > policy->maximum))
        {
          /* Only a candidate, or it cannot fit anyway: it goes. */
          evicted = candidate;
          if (candidate == victim)
            victim = list_next (policy, VICTIM_LIST, victim);
          candidate = CANDIDATE_STEP (candidate);
          if (candidates > 0)
            candidates--;
          evict_node (policy, evicted, &policy->window_ghost, evict, data);
          continue;
        }
      if (candidate == NULL)
        {
          evicted = victim;
          victim = list_next (policy, VICTIM_LIST, victim);
          evict_node (policy, evicted, VICTIM_GHOST, evict, data);
          continue;
        }
      if (candidates > 0)
        candidates--;
      if (admit (policy, candidate, victim))
        {
          evicted = victim;
          ghost = VICTIM_GHOST;
          victim = list_next (policy, VICTIM_LIST, victim);
          candidate = CANDIDATE_STEP (candidate);
        }
      else
        {
          evicted = candidate;
          ghost = &policy->window_ghost;
          candidate = CANDIDATE_STEP (candidate);
        }
      /* The step above may have landed on the node about to go. */
      if (victim == evicted)
        victim = list_next (policy, VICTIM_LIST, victim);
      evict_node (policy, evicted, ghost, evict, data);
    }
#undef CANDIDATE_STEP
#undef VICTIM_LIST
#undef VICTIM_GHOST
}

static void
evict_lru (MemoryPolicy *policy, MemoryEvictFunc evict, gpointer data)
{
  MemoryNode *node;

  while (memory_policy_over (policy)
         && (node = list_first (policy, &policy->window)) != NULL)
    evict_node (policy, node, NULL, evict, data);
}

void
memory_policy_evict (MemoryPolicy *policy, MemoryEvictFunc evict,
                     gpointer data)
{
  if (!memory_policy_over (policy)
      && policy->window_size <= policy->window_maximum)
    return;
  if (policy->kind == MEMORY_POLICY_LRU)
    evict_lru (policy, evict, data);
  else
    evict_from_main (policy, evict_from_window (policy), evict, data);
}

/* --- adapting the window -------------------------------------------------
 */

static void
demote_from_protected (MemoryPolicy *policy)
{
  for (int i = 0; i < QUEUE_TRANSFER_THRESHOLD
                  && policy->protected_size > policy->protected_maximum;
       i++)
    {
      MemoryNode *node = list_first (policy, &policy->protected);

      if (node == NULL)
        break;
      list_move_tail (policy, &policy->probation, node);
      memory_node_set_queue (node, MEMORY_QUEUE_PROBATION);
      policy->protected_size -= memory_policy_weight (policy, node);
    }
}

/* What the window and the main space each keep at the least. */
static guint64
window_bound (const MemoryPolicy *policy)
{
  return MAX ((guint64) (PERCENT_WINDOW_BOUND * (double) policy->maximum), 1);
}

/* Requests are counted in capacities of entries; by bytes, in entries
 * held. */
static double
capacity_in_entries (const MemoryPolicy *policy)
{
  return (double) (policy->weighted ? MAX (policy->count, 16)
                                    : policy->maximum);
}

static void
clear_sample (MemoryPolicy *policy)
{
  policy->hits_in_sample = policy->misses_in_sample = 0;
  policy->window_ghost_hits = policy->main_ghost_hits = 0;
}

static void
close_sample (MemoryPolicy *policy)
{
  clear_sample (policy);
  policy->climbs++;
}

/* Judges the move on trial on the requests since it; returns TRUE if it
 * is undone.  A clear loss undoes it as soon as it shows; it is kept once
 * @over (the trial's length) without one. */
static gboolean
judge_trial (MemoryPolicy *policy, double hit_rate, guint64 requests,
             gboolean over)
{
  int side = policy->trial > 0 ? 1 : 0;
  double p = (hit_rate + policy->trial_hit_rate) / 2;
  double standard_error
      = sqrt (p * (1 - p)
              * (1 / (double) requests + 1 / (double) policy->trial_requests));
  double drop = policy->trial_hit_rate - hit_rate;

  if (drop <= MAX ((over ? TRIAL_Z : TRIAL_EARLY_Z) * standard_error,
                   TRIAL_MIN_DROP))
    {
      if (over)
        {
          policy->backoff[side] /= 2;
          policy->trial = 0;
        }
      return FALSE;
    }
  /* Undone; and that direction waits 1, 2, 4 ... samples before the
   * ghosts may ask for it again (a loop asks for it every time). */
  policy->adjustment = policy->trial > 0 ? -(gint64) policy->trial_step
                                         : (gint64) policy->trial_step;
  policy->backoff[side] = CLAMP (policy->backoff[side] * 2, 1, BACKOFF_MAX);
  policy->blocked_until[side] = policy->climbs + policy->backoff[side];
  policy->trial = 0;
  return TRUE;
}

static void
determine_adjustment (MemoryPolicy *policy)
{
  guint64 requests = policy->hits_in_sample + policy->misses_in_sample;
  double capacity = capacity_in_entries (policy);
  double window_hits = (double) policy->window_ghost_hits;
  double main_hits = (double) policy->main_ghost_hits;
  double difference = window_hits - main_hits;
  double hit_rate;

  policy->adjustment = 0;
  if (!memory_sketch_is_initialized (&policy->sketch))
    {
      clear_sample (policy);
      return;
    }
  if ((double) requests < SAMPLE_CAPACITIES * capacity)
    return;
  hit_rate = (double) policy->hits_in_sample / (double) requests;
  if (policy->trial != 0)
    {
      gboolean over = (double) requests >= TRIAL_CAPACITIES * capacity;

      if (judge_trial (policy, hit_rate, requests, over))
        {
          close_sample (policy);
          return;
        }
      if (!over)
        return;
    }
  if (window_hits + main_hits >= GHOST_MIN_HITS
      && difference * difference
             > GHOST_Z * GHOST_Z * (window_hits + main_hits))
    {
      int side = difference > 0 ? 1 : 0;

      if (policy->climbs >= policy->blocked_until[side])
        {
          guint64 step
              = MAX ((guint64) (STEP_PERCENT * (double) policy->maximum), 1);

          policy->adjustment = side ? (gint64) step : -(gint64) step;
          policy->trial = side ? 1 : -1;
          policy->trial_hit_rate = hit_rate;
          policy->trial_requests = requests;
        }
    }
  else if ((double) requests < SAMPLE_MAX_CAPACITIES * capacity)
    return;
  close_sample (policy);
}

/* Grows the window by taking from the protected space; entries move from
 * the main space's LRU end into the window to match. */
static void
increase_window (MemoryPolicy *policy)
{
  guint64 quota, from_protected;

  if (policy->window_maximum + window_bound (policy) >= policy->maximum)
    return;
  /* Unlike Caffeine, the window may take the probation space too once the
   * protected one is gone: a purely recency-biased workload then gets
   * nearly what LRU gets instead of 80% of it. */
  quota
      = MIN ((guint64) policy->adjustment,
             policy->maximum - window_bound (policy) - policy->window_maximum);
  from_protected = MIN (quota, policy->protected_maximum);
  policy->protected_maximum -= from_protected;
  policy->window_maximum += quota;
  demote_from_protected (policy);
  for (int i = 0; i < QUEUE_TRANSFER_THRESHOLD; i++)
    {
      MemoryNode *candidate = list_first (policy, &policy->probation);
      gboolean probation = TRUE;
      guint64 weight;

      if (candidate == NULL
          || quota < memory_policy_weight (policy, candidate))
        {
          candidate = list_first (policy, &policy->protected);
          probation = FALSE;
        }
      if (candidate == NULL)
        break;
      weight = memory_policy_weight (policy, candidate);
      if (quota < weight)
        break;
      quota -= weight;
      if (!probation)
        policy->protected_size -= weight;
      list_move_tail (policy, &policy->window, candidate);
      memory_node_set_queue (candidate, MEMORY_QUEUE_WINDOW);
      policy->window_size += weight;
    }
  /* What could not move goes back. */
  policy->window_maximum -= quota;
  policy->protected_maximum += MIN (quota, from_protected);
  policy->adjustment = (gint64) quota;
}

/* The protected space never takes more than its share of the main one, so
 * some probation space is always left for candidates. */
static void
cap_protected (MemoryPolicy *policy)
{
  guint64 main = policy->maximum - policy->window_maximum;
  guint64 cap = (guint64) (PERCENT_MAIN_PROTECTED * (double) main);

  policy->protected_maximum = MIN (policy->protected_maximum, cap);
}

static void
decrease_window (MemoryPolicy *policy)
{
  guint64 quota;

  if (policy->window_maximum <= window_bound (policy))
    return;
  quota = MIN ((guint64) -policy->adjustment,
               policy->window_maximum - window_bound (policy));
  policy->protected_maximum += quota;
  policy->window_maximum -= quota;
  cap_protected (policy);
  for (int i = 0; i < QUEUE_TRANSFER_THRESHOLD; i++)
    {
      MemoryNode *candidate = list_first (policy, &policy->window);
      guint64 weight;

      if (candidate == NULL)
        break;
      weight = memory_policy_weight (policy, candidate);
      if (quota < weight)
        break;
      quota -= weight;
      policy->window_size -= weight;
      list_move_tail (policy, &policy->probation, candidate);
      memory_node_set_queue (candidate, MEMORY_QUEUE_PROBATION);
    }
  policy->window_maximum += quota;
  cap_protected (policy);
  policy->adjustment = -(gint64) quota;
}

void
memory_policy_climb (MemoryPolicy *policy)
{
  guint64 before = policy->window_maximum;
  gboolean trying;

  if (policy->kind != MEMORY_POLICY_TINYLFU || policy->maximum == 0)
    return;
  determine_adjustment (policy);
  trying = policy->trial != 0 && policy->adjustment != 0;
  demote_from_protected (policy);
  if (policy->adjustment > 0)
    increase_window (policy);
  else if (policy->adjustment < 0)
    decrease_window (policy);
  /* Only what the bounds let move is on trial (at a bound, nothing). */
  if (trying)
    {
      policy->trial_step = policy->window_maximum > before
                               ? policy->window_maximum - before
                               : before - policy->window_maximum;
      if (policy->trial_step == 0)
        policy->trial = 0;
    }
}
