/* test-memory-bounded.c: the bounded memory backend.  The policy on its own
 * (sketch, aging, the ghosts, admission, eviction counts, byte accounting,
 * the window moving the right way on a recency, a frequency and a loop
 * workload), then
 * through regions: bounds of 0 and 1, scan resistance, LRU,
 * memory_expiration_time and the counters.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-util.h"

#include "memory-policy.h"

/* --- the policy alone, on a toy cache --------------------------------- */

typedef struct {
  MemoryPolicy policy;
  MemoryNodePool pool;
  GHashTable *resident; /* key -> MemoryNode */
  guint64 hits, requests, evicted;
  gboolean climb;
} Toy;

static guint32
toy_hash (guint64 k)
{
  k += 0x9e3779b97f4a7c15ULL;
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return (guint32) k;
}

static guint64
toy_key (MemoryNode *node)
{
  guint64 key;

  memcpy (&key, node->key.inline_key, sizeof key);
  return key;
}

static void
toy_evict (MemoryNode *node, gpointer data)
{
  Toy *toy = data;

  toy->evicted++;
  cr_assert (
      g_hash_table_remove (toy->resident, GSIZE_TO_POINTER (toy_key (node))));
  memory_node_free (&toy->pool, node);
}

static void
toy_init (Toy *toy, MemoryPolicyKind kind, guint64 size)
{
  memset (toy, 0, sizeof *toy);
  memory_node_pool_init (&toy->pool);
  memory_policy_init (&toy->policy, &toy->pool, kind, size, 0, FALSE);
  toy->climb = TRUE;
  toy->resident = g_hash_table_new (NULL, NULL);
}

static void
toy_clear (Toy *toy)
{
  g_hash_table_unref (toy->resident);
  memory_policy_clear (&toy->policy);
  memory_node_pool_clear (&toy->pool);
}

/* get; on a miss, set -- as dogpile-cache replay does. */
static gboolean
toy_request (Toy *toy, guint64 key)
{
  MemoryNode *node
      = g_hash_table_lookup (toy->resident, GSIZE_TO_POINTER (key + 1));

  toy->requests++;
  if (node != NULL)
    {
      toy->hits++;
      memory_policy_access (&toy->policy, node);
      if (toy->climb)
        memory_policy_climb (&toy->policy);
      return TRUE;
    }
  node = memory_node_alloc (&toy->pool, &toy->policy.nodes);
  atomic_store (&node->hash, toy_hash (key));
  atomic_store (&node->meta, 1);
  key++;
  memcpy (node->key.inline_key, &key, sizeof key);
  g_hash_table_insert (toy->resident, GSIZE_TO_POINTER (key), node);
  memory_policy_add (&toy->policy, node, 1);
  memory_policy_evict (&toy->policy, toy_evict, toy);
  if (toy->climb)
    memory_policy_climb (&toy->policy);
  cr_assert_leq (toy->policy.count, toy->policy.maximum);
  cr_assert_eq (toy->policy.count, g_hash_table_size (toy->resident));
  return FALSE;
}

TestSuite (policy);

Test (policy, node_indices_resolve_across_slabs_and_pools)
{
  MemoryNodes nodes = { 0 };
  MemoryNodePool pools[2];
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);
  MemoryNode *node;
  guint32 index;

  memory_node_pool_init (&pools[0]);
  memory_node_pool_init (&pools[1]);
  /* Past the small first slabs and several full ones, the pools' slabs
   * numbered in turn. */
  for (int i = 0; i < 500; i++)
    for (int p = 0; p < 2; p++)
      {
        node = memory_node_alloc (&pools[p], &nodes);
        index = node->prev;
        cr_assert_eq (node->next, index, "a new node is a list of itself");
        cr_assert_neq (index, MEMORY_NODE_NIL);
        cr_assert_eq (memory_node_at (nodes.slabs, index), node);
        cr_assert (g_hash_table_add (seen, GUINT_TO_POINTER (index)));
      }
  /* The last node freed is the next one handed out, index and all. */
  memory_node_free (&pools[1], node);
  cr_assert_eq (memory_node_alloc (&pools[1], &nodes), node);
  cr_assert_eq (node->prev, index);
  cr_assert_eq (node->next, index);
  memory_node_pool_clear (&pools[0]);
  memory_node_pool_clear (&pools[1]);
  memory_nodes_clear (&nodes);
}

Test (policy, sketch_counts_and_saturates)
{
  MemorySketch sketch = { 0 };

  memory_sketch_ensure_capacity (&sketch, 1024);
  cr_assert_eq (memory_sketch_frequency (&sketch, 42), 0);
  for (int i = 0; i < 5; i++)
    memory_sketch_increment (&sketch, 42);
  cr_assert_geq (memory_sketch_frequency (&sketch, 42), 5);
  for (int i = 0; i < 40; i++)
    memory_sketch_increment (&sketch, 42);
  cr_assert_eq (memory_sketch_frequency (&sketch, 42), 15);
  memory_sketch_clear (&sketch);
}

Test (policy, sketch_ages_by_halving)
{
  MemorySketch sketch = { 0 };
  guint64 resets;

  memory_sketch_ensure_capacity (&sketch, 64);
  for (int i = 0; i < 12; i++)
    memory_sketch_increment (&sketch, 7);
  cr_assert_eq (memory_sketch_frequency (&sketch, 7), 12);
  /* Other keys fill the sample (10 x capacity additions): a halving. */
  resets = sketch.resets;
  for (guint32 k = 1000; sketch.resets == resets; k++)
    memory_sketch_increment (&sketch, k);
  cr_assert_leq (memory_sketch_frequency (&sketch, 7), 7);
  cr_assert_geq (memory_sketch_frequency (&sketch, 7), 5);
  memory_sketch_clear (&sketch);
}

Test (policy, admission_prefers_the_more_frequent)
{
  Toy toy;

  toy_init (&toy, MEMORY_POLICY_TINYLFU, 200);
  toy.climb = FALSE; /* the filter alone, with the initial 1% window */
  /* 100 keys read many times fill the main space. */
  for (int round = 0; round < 20; round++)
    for (guint64 k = 0; k < 100; k++)
      toy_request (&toy, k);
  /* A stream of one-hit keys must not displace them. */
  for (guint64 k = 1000; k < 3000; k++)
    toy_request (&toy, k);
  {
    guint kept = 0;

    for (guint64 k = 0; k < 100; k++)
      kept += g_hash_table_contains (toy.resident, GSIZE_TO_POINTER (k + 1));
    cr_assert_geq (kept, 95, "only %u of the frequent keys kept", kept);
  }
  /* Every new key was counted as evicted or kept: the window's few. */
  cr_assert_eq (toy.evicted + toy.policy.count, 100 + 2000);
  cr_assert_eq (toy.policy.count, 200);
  cr_assert_eq (toy.policy.evictions_size, toy.evicted);
  toy_clear (&toy);
}

/* The LRU stack model: mostly revisits at a short distance, many new
 * keys.  LRU does well here; a 1% window does not. */
static void
recency_workload (Toy *toy, guint64 requests)
{
  GArray *history = g_array_new (FALSE, FALSE, sizeof (guint64));
  GRand *rand = g_rand_new_with_seed (3);
  guint64 fresh = 0;

  for (guint64 i = 0; i < requests; i++)
    {
      guint64 key;

      if (history->len == 0 || g_rand_double (rand) < 0.3)
        key = fresh++;
      else
        {
          double d = -log (g_rand_double (rand) + 1e-12) * 200;
          guint depth = d < history->len - 1 ? (guint) d : history->len - 1;

          key = g_array_index (history, guint64, history->len - 1 - depth);
        }
      toy_request (toy, key);
      g_array_append_val (history, key);
      if (history->len > 100000)
        g_array_remove_range (history, 0, 50000);
    }
  g_array_unref (history);
  g_rand_free (rand);
}

Test (policy, ghost_remembers_its_last_additions)
{
  MemoryGhost ghost = { 0 };
  int remembered = 0;

  cr_assert_not (memory_ghost_take (&ghost, 1), "unsized: remembers none");
  memory_ghost_add (&ghost, 1);
  memory_ghost_init (&ghost, 100);
  for (guint64 k = 0; k < 1000; k++)
    memory_ghost_add (&ghost, toy_hash (k));
  /* the last half capacity at least, the full one at most */
  for (guint64 k = 950; k < 1000; k++)
    cr_assert (memory_ghost_take (&ghost, toy_hash (k)), "key %d", (int) k);
  for (guint64 k = 0; k < 950; k++)
    remembered += memory_ghost_take (&ghost, toy_hash (k));
  cr_assert_leq (remembered, 50);
  /* taken once: a second miss on the same key is not counted again */
  cr_assert_not (memory_ghost_take (&ghost, toy_hash (999)));
  /* hashes 0 and 1 mark empty and taken slots: still remembered */
  memory_ghost_add (&ghost, 0);
  memory_ghost_add (&ghost, 65536);
  cr_assert (memory_ghost_take (&ghost, 0));
  cr_assert (memory_ghost_take (&ghost, 65536));
  memory_ghost_clear (&ghost);
  cr_assert_not (memory_ghost_take (&ghost, 0));
}

Test (policy, window_grows_on_a_recency_workload)
{
  Toy toy;
  guint64 start;

  toy_init (&toy, MEMORY_POLICY_TINYLFU, 500);
  start = toy.policy.window_maximum;
  recency_workload (&toy, 400000);
  cr_assert_gt (toy.policy.climbs, 10);
  cr_assert_gt (toy.policy.window_maximum, 10 * start,
                "window %" G_GUINT64_FORMAT " of 500",
                toy.policy.window_maximum);
  toy_clear (&toy);
}

Test (policy, window_stays_small_on_a_frequency_workload)
{
  Toy toy;
  GRand *rand = g_rand_new_with_seed (5);

  toy_init (&toy, MEMORY_POLICY_TINYLFU, 500);
  /* A fixed popular set (Zipf-like by squaring) with one-hit noise. */
  for (int i = 0; i < 400000; i++)
    {
      double u = g_rand_double (rand);

      if (u < 0.2)
        toy_request (&toy, 1000000 + (guint64) i);
      else
        toy_request (&toy, (guint64) (u * u * 2000));
    }
  cr_assert_gt (toy.policy.climbs, 10);
  cr_assert_lt (toy.policy.window_maximum, 250,
                "window %" G_GUINT64_FORMAT " of 500",
                toy.policy.window_maximum);
  g_rand_free (rand);
  toy_clear (&toy);
}

/* A loop a little larger than the cache: the rejected candidates come
 * back just within a ghost's span, so the ghosts ask for a larger window
 * every sample; each such move lowers the hit ratio, is undone, and the
 * direction waits longer each time.  Without the trial the window climbs
 * to 99% and the hit ratio falls from 0.94 to 0.03. */
Test (policy, window_stays_small_on_a_loop)
{
  Toy toy;
  guint64 hits;

  toy_init (&toy, MEMORY_POLICY_TINYLFU, 1000);
  for (int i = 0; i < 100000; i++)
    toy_request (&toy, (guint64) (i % 1050));
  hits = toy.hits;
  for (int i = 100000; i < 400000; i++)
    toy_request (&toy, (guint64) (i % 1050));
  cr_assert_gt (toy.policy.climbs, 10);
  cr_assert_leq (toy.policy.window_maximum, 200,
                 "window %" G_GUINT64_FORMAT " of 1000",
                 toy.policy.window_maximum);
  cr_assert_gt ((double) (toy.hits - hits) / 300000, 0.85, "hit ratio %.3f",
                (double) (toy.hits - hits) / 300000);
  toy_clear (&toy);
}

Test (policy, lru_evicts_the_least_recent)
{
  Toy toy;

  toy_init (&toy, MEMORY_POLICY_LRU, 3);
  toy_request (&toy, 1);
  toy_request (&toy, 2);
  toy_request (&toy, 3);
  toy_request (&toy, 1); /* 2 is now the oldest */
  toy_request (&toy, 4);
  cr_assert (!g_hash_table_contains (toy.resident, GSIZE_TO_POINTER (3)));
  cr_assert (g_hash_table_contains (toy.resident, GSIZE_TO_POINTER (2)));
  cr_assert_eq (toy.policy.evictions_size, 1);
  toy_clear (&toy);
}

/* --- through regions --------------------------------------------------- */

static DogpileRegion *
bounded_region (const char *first_name, ...)
{
  GHashTable *arguments
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  DogpileRegion *region;
  va_list ap;

  va_start (ap, first_name);
  for (const char *name = first_name; name != NULL;
       name = va_arg (ap, const char *))
    g_hash_table_insert (arguments, g_strdup (name),
                         g_strdup (va_arg (ap, const char *)));
  va_end (ap);
  region = configured_region ("dogpile.cache.memory", 3600, arguments);
  g_hash_table_unref (arguments);
  return region;
}

static void
put (DogpileRegion *region, const char *key, const char *value)
{
  g_autoptr (GBytes) bytes = bytes_of (value);

  cr_assert (dogpile_region_set (region, key, bytes, NULL));
}

static gboolean
has (DogpileRegion *region, const char *key)
{
  g_autoptr (GBytes) got = NULL;

  cr_assert (dogpile_region_get (region, key, &got, NULL));
  return got != NULL;
}

/* The backend's counters (dogpile_region_get_backend_counters). */
static DogpileBackendCounters
counters_of (DogpileRegion *region)
{
  g_autoptr (GError) error = NULL;
  DogpileBackendCounters counters;

  cr_assert (dogpile_region_get_backend_counters (region, &counters, &error),
             "%s", error != NULL ? error->message : "");
  return counters;
}

#define counter(region, name) (counters_of (region).name)

TestSuite (bounded);

Test (bounded, bad_arguments_are_validation_errors)
{
  static const char *const bad[][2] = {
    { "max_entries", "-1" },
    { "max_entries", "many" },
    { "max_bytes", "12Q" },
    { "eviction_policy", "fifo" },
    { "memory_expiration_time", "soon" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GHashTable) arguments
          = arguments_of (bad[i][0], bad[i][1], NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (DogpileBackend) backend
          = dogpile_backend_new ("dogpile.cache.memory", arguments, &error);

      cr_assert_null (backend, "%s=%s accepted", bad[i][0], bad[i][1]);
      assert_error (error, DOGPILE_ERROR_VALIDATION);
    }
}

Test (bounded, a_shared_dict_keeps_its_bound)
{
  g_autoptr (GHashTable) first
      = arguments_of ("cache_dict", "bounded-a", "max_entries", "10", NULL);
  g_autoptr (GHashTable) other
      = arguments_of ("cache_dict", "bounded-a", "max_entries", "20", NULL);
  g_autoptr (DogpileBackend) a
      = dogpile_backend_new ("dogpile.cache.memory", first, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileBackend) b
      = dogpile_backend_new ("dogpile.cache.memory", other, &error);

  cr_assert_not_null (a);
  cr_assert_null (b);
  assert_error (error, DOGPILE_ERROR_VALIDATION);
}

Test (bounded, bound_of_zero_keeps_nothing)
{
  g_autoptr (DogpileRegion) region = bounded_region ("max_entries", "0", NULL);

  put (region, "a", "1");
  cr_assert (!has (region, "a"));
  cr_assert_eq (counter (region, entries), 0);
}

Test (bounded, bound_of_one_keeps_the_last)
{
  g_autoptr (DogpileRegion) region = bounded_region ("max_entries", "1", NULL);

  put (region, "a", "1");
  cr_assert (has (region, "a"));
  put (region, "b", "2");
  cr_assert_eq (counter (region, entries), 1);
  cr_assert_eq (counter (region, evictions_size), 1);
  cr_assert (has (region, "a") != has (region, "b"));
  cr_assert (dogpile_region_delete (region, "a", NULL));
  cr_assert (dogpile_region_delete (region, "b", NULL));
  cr_assert_eq (counter (region, entries), 0);
}

Test (bounded, max_bytes_counts_key_payload_and_overhead)
{
  g_autoptr (DogpileRegion) region
      = bounded_region ("max_bytes", "100K", NULL);
  char key[32];

  put (region, "k", "12345");
  cr_assert_eq (counter (region, weighted_size),
                1 + 5 + MEMORY_ENTRY_OVERHEAD);
  put (region, "k", "123"); /* replaced: the weight follows */
  cr_assert_eq (counter (region, weighted_size),
                1 + 3 + MEMORY_ENTRY_OVERHEAD);
  cr_assert (dogpile_region_delete (region, "k", NULL));
  cr_assert_eq (counter (region, weighted_size), 0);
  /* 1000-byte values: about 100K / (1000 + key + overhead) fit. */
  for (int i = 0; i < 1000; i++)
    {
      g_autofree char *value = g_strnfill (1000, 'v');

      g_snprintf (key, sizeof key, "key:%d", i);
      put (region, key, value);
      cr_assert_leq (counter (region, weighted_size), 100 * 1024);
    }
  cr_assert_geq (counter (region, entries), 80);
  cr_assert_leq (counter (region, entries),
                 100 * 1024 / (1000 + 5 + MEMORY_ENTRY_OVERHEAD));
  cr_assert_eq (counter (region, evictions_size) + counter (region, entries),
                1000);
}

Test (bounded, an_entry_larger_than_the_bound_is_not_kept)
{
  g_autoptr (DogpileRegion) region = bounded_region ("max_bytes", "500", NULL);
  g_autofree char *big = g_strnfill (1000, 'x');

  put (region, "small", "s");
  put (region, "big", big);
  cr_assert (!has (region, "big"));
  cr_assert (has (region, "small"));
}

static void
scan_resistance (const char *policy, gboolean expect_kept)
{
  g_autoptr (DogpileRegion) region = bounded_region (
      "max_entries", "1000", "eviction_policy", policy, NULL);
  char key[32];
  guint kept = 0;

  for (int round = 0; round < 20; round++)
    for (int i = 0; i < 100; i++)
      {
        g_snprintf (key, sizeof key, "hot:%d", i);
        if (!has (region, key))
          put (region, key, "hot");
      }
  /* The hot set is still read in a loop while the scan goes by (with
   * LRU, not: a scan alone is enough to flush it). */
  for (int i = 0; i < 100000; i++)
    {
      g_snprintf (key, sizeof key, "scan:%d", i);
      if (!has (region, key))
        put (region, key, "cold");
      if (!expect_kept)
        continue; /* LRU: the scan alone flushes it */
      g_snprintf (key, sizeof key, "hot:%d", i % 100);
      if (!has (region, key))
        put (region, key, "hot");
    }
  for (int i = 0; i < 100; i++)
    {
      g_snprintf (key, sizeof key, "hot:%d", i);
      kept += has (region, key);
    }
  if (expect_kept)
    cr_assert_eq (kept, 100, "%u of 100 hot keys survived the scan", kept);
  else
    cr_assert_eq (kept, 0, "LRU kept %u hot keys", kept);
  cr_assert_eq (counter (region, entries), 1000);
}

Test (bounded, hot_set_survives_a_scan) { scan_resistance ("tinylfu", TRUE); }

Test (bounded, lru_is_flushed_by_a_scan) { scan_resistance ("lru", FALSE); }

Test (bounded, memory_expiration_time_removes_old_entries)
{
  g_autoptr (DogpileRegion) region = NULL;
  char key[32];

  use_test_clock (1000);
  region = bounded_region ("max_entries", "10000", "memory_expiration_time",
                           "100", NULL);
  for (int i = 0; i < 50; i++)
    {
      g_snprintf (key, sizeof key, "old:%d", i);
      put (region, key, "old");
    }
  test_clock_value = 1080;
  put (region, "young", "y");
  test_clock_value = 1150; /* old ones are 150 s old, young 70 */
  cr_assert (!has (region, "old:0"));
  cr_assert (has (region, "young"));
  /* The next operations sweep them away: bounded work each. */
  for (int i = 0; i < 2000 && counter (region, entries) > 1; i++)
    {
      g_snprintf (key, sizeof key, "other:%d", i);
      cr_assert (dogpile_region_delete (region, key, NULL));
    }
  cr_assert_eq (counter (region, entries), 1);
  cr_assert_eq (counter (region, evictions_expiry), 50);
  cr_assert (has (region, "young"));
}

Test (bounded, unbounded_store_expires_too)
{
  g_autoptr (DogpileRegion) region = NULL;
  char key[32];

  use_test_clock (1000);
  region = bounded_region ("memory_expiration_time", "10", NULL);
  put (region, "old", "o");
  test_clock_value = 1020;
  cr_assert (!has (region, "old"));
  for (int i = 0; i < 5000 && counter (region, evictions_expiry) == 0; i++)
    {
      g_snprintf (key, sizeof key, "k:%d", i);
      put (region, key, "n");
    }
  cr_assert_eq (counter (region, evictions_expiry), 1);
}

static GBytes *
regenerate (const char *key, gpointer data, GError **error)
{
  int *calls = data;

  (*calls)++;
  return bytes_of ("new");
}

/* Set as docs/memory.md says (memory_expiration_time above the region's
 * expiration plus regeneration time), the dogpile lock still finds the
 * stale value: another caller gets it while one regenerates. */
Test (bounded, stale_value_is_served_during_regeneration)
{
  g_autoptr (GHashTable) arguments = arguments_of (
      "max_entries", "100", "memory_expiration_time", "120", NULL);
  g_autoptr (DogpileRegion) region = NULL;
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) stale = NULL;
  g_autoptr (DogpileMutex) lock = NULL;
  int calls = 0;

  use_test_clock (1000);
  region = configured_region ("dogpile.cache.memory", 60, arguments);
  cr_assert (dogpile_region_get_or_create (region, "k", regenerate, &calls,
                                           &first, NULL));
  cr_assert_eq (calls, 1);
  test_clock_value = 1090; /* expired for the region, kept by the backend */
  /* Someone holds the key's lock (regenerating): we get the stale value. */
  lock = dogpile_region_get_mutex (region, "k", NULL);
  cr_assert (mutex_acquire_ok (lock, FALSE));
  cr_assert (dogpile_region_get_or_create (region, "k", regenerate, &calls,
                                           &stale, NULL));
  cr_assert_eq (calls, 1);
  cr_assert (bytes_equal (stale, "new"));
  cr_assert (dogpile_mutex_release (lock, NULL));
}

Test (bounded, counters_show_the_window)
{
  g_autoptr (DogpileRegion) region
      = bounded_region ("max_entries", "1000", NULL);

  cr_assert_eq (counter (region, maximum), 1000);
  cr_assert_eq (counter (region, window_maximum), 10);
  cr_assert_eq (counter (region, protected_maximum), 792);
}

/* The counters are a call, not a key: the key the backend once answered
 * with them is an ordinary key now, and memory_pickle keeps them too. */
Test (bounded, counters_are_a_call_not_a_key)
{
  static const char reserved[] = "\001dogpile.cache.memory:counters";
  g_autoptr (DogpileRegion) region
      = bounded_region ("max_entries", "10", NULL);
  g_autoptr (GHashTable) arguments = arguments_of ("max_entries", "5", NULL);
  g_autoptr (DogpileBackend) pickle = NULL;
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GBytes) value = bytes_of ("mine");
  DogpileBackend *backend = dogpile_region_get_actual_backend (region, NULL);
  DogpileBackendCounters counters;

  cr_assert (dogpile_backend_get (backend, reserved, &got, NULL));
  cr_assert_null (got);
  cr_assert (dogpile_backend_set (backend, reserved, value, NULL));
  cr_assert (dogpile_backend_get (backend, reserved, &got, NULL));
  cr_assert (g_bytes_equal (got, value));
  cr_assert (dogpile_backend_get_counters (backend, &counters, NULL));
  cr_assert_eq (counters.entries, 1);
  cr_assert_eq (counters.maximum, 10);

  pickle
      = dogpile_backend_new ("dogpile.cache.memory_pickle", arguments, NULL);
  cr_assert_not_null (pickle);
  cr_assert (dogpile_backend_set (pickle, "a", value, NULL));
  cr_assert (dogpile_backend_get_counters (pickle, &counters, NULL));
  cr_assert_eq (counters.entries, 1);
  cr_assert_eq (counters.maximum, 5);
}

/* --- memory_expiration_time against the region's expiration time ----- */

static GPtrArray *warnings;

static GLogWriterOutput
keep_warnings (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
               gpointer user_data)
{
  if ((level & G_LOG_LEVEL_WARNING) == 0)
    return g_log_writer_default (level, fields, n_fields, user_data);
  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, "MESSAGE") == 0)
      g_ptr_array_add (warnings, g_strdup ((const char *) fields[i].value));
  return G_LOG_WRITER_HANDLED;
}

/* The warnings configuring a region of @expiration_time with
 * memory_expiration_time=@memory logs. */
static guint
configure_warnings (double expiration_time, const char *memory)
{
  g_autoptr (GHashTable) arguments
      = arguments_of ("memory_expiration_time", memory, NULL);
  g_autoptr (DogpileRegion) region = NULL;

  if (warnings == NULL)
    {
      warnings = g_ptr_array_new_with_free_func (g_free);
      g_log_set_writer_func (keep_warnings, NULL, NULL);
    }
  g_ptr_array_set_size (warnings, 0);
  region
      = configured_region ("dogpile.cache.memory", expiration_time, arguments);
  return warnings->len;
}

Test (bounded, memory_expiration_time_not_above_the_regions_warns)
{
  cr_assert_eq (configure_warnings (60, "30"), 1);
  cr_assert (
      strstr (g_ptr_array_index (warnings, 0), "memory_expiration_time (30 s)")
      != NULL);
  cr_assert (strstr (g_ptr_array_index (warnings, 0), "expiration_time (60 s)")
             != NULL);
  cr_assert_eq (configure_warnings (60, "60"), 1);
  /* Longer, as documented: no warning; nor when the region never
   * expires values. */
  cr_assert_eq (configure_warnings (60, "120"), 0);
  cr_assert_eq (configure_warnings (DOGPILE_EXPIRATION_NONE, "30"), 0);
}
