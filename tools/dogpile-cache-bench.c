/* dogpile-cache-bench.c: `dogpile-cache bench`, the benchmark program.
 *
 * Each operation is measured twice, by T threads at once:
 *  - throughput: S seconds of back-to-back calls, the clock read only
 *    every 64 calls, so the figure is the operation's own cost;
 *  - latency: S/4 seconds with every call timed, minus the measured cost
 *    of reading the clock, for p50 and p99.
 * Keys are "key:<i>" for i < N; misses use "miss:<i>", never written.
 * By default each thread walks its own slice of the keys, which measures
 * whether readers serialise; with --shared-keys every thread walks all of
 * them (from different offsets), which adds what sharing hot values costs
 * (a hit takes a reference, so the value's refcount line moves between
 * cores).
 *
 * On dogpile.cache.memory or memory_pickle without max_entries or
 * max_bytes, every operation runs again on a second region with
 * max_entries=2N (every key and cached function value fits), and the
 * bounded figures are printed beside the unbounded ones ("bounded" in
 * --json); then set runs on a third region with max_entries=N/2, where
 * a set of a key not held evicts one, and its cost and evictions per
 * call are printed beside the unbounded set ("evicting").  On a terminal,
 * without --json, one progress line on stderr names the operation running.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dogpile-cache.h"
#include "tool-common.h"

#define MULTI_BATCH 100
#define CHECK_EVERY 64
#define MAX_SAMPLES_PER_THREAD (1u << 20)

typedef struct Bench Bench;
typedef struct BenchThread BenchThread;

typedef struct {
  const char *name;
  /* Runs call number @i on key @index (a window starting there for multi
   * operations); counts a miss in *misses where a hit was meant. */
  gboolean (*run) (Bench *bench, guint index, guint64 *misses, GError **error);
  guint keys_per_call;
} BenchOp;

struct Bench {
  DogpileRegion *region;
  char **keys; /* n_keys names, then the first MULTI_BATCH again */
  char **miss_keys;
  GBytes **values; /* one per key: real values are distinct objects */
  DogpileCachedFunction *function; /* bench:fn(index, 7) */
  gsize value_size;
  guint n_keys;
  guint n_threads;
  guint batch;
  gboolean shared_keys;
  double seconds;
  double timer_overhead_us;

  ToolBarrier start; /* every thread of a phase begins together */
};

struct BenchThread {
  Bench *bench;
  const BenchOp *op;
  guint index;
  guint first_key; /* the thread's slice of the keys */
  guint n_keys;
  guint64 calls;
  guint64 misses;
  double *samples;
  gsize n_samples;
  GError *error;
} __attribute__ ((aligned (128))); /* no false sharing between counters */

typedef struct {
  const BenchOp *op;
  double ops_per_sec;
  double p50_us;
  double p99_us;
  guint64 calls;     /* in the throughput phase */
  guint64 all_calls; /* and the timed ones */
  guint64 misses;
} BenchResult;

static inline double
now_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static gboolean
op_set (Bench *b, guint index, guint64 *misses, GError **error)
{
  return dogpile_region_set (b->region, b->keys[index], b->values[index],
                             error);
}

static gboolean
op_get_hit (Bench *b, guint index, guint64 *misses, GError **error)
{
  GBytes *value = NULL;

  if (!dogpile_region_get (b->region, b->keys[index], &value, error))
    return FALSE;
  if (value == NULL)
    (*misses)++;
  else
    g_bytes_unref (value);
  return TRUE;
}

static gboolean
op_get_miss (Bench *b, guint index, guint64 *misses, GError **error)
{
  GBytes *value = NULL;

  if (!dogpile_region_get (b->region, b->miss_keys[index], &value, error))
    return FALSE;
  if (value != NULL)
    g_bytes_unref (value);
  return TRUE;
}

static gboolean
op_get_multi (Bench *b, guint start, guint64 *misses, GError **error)
{
  GBytes *values[MULTI_BATCH];

  if (!dogpile_region_get_multi (b->region,
                                 (const char *const *) b->keys + start,
                                 b->batch, values, error))
    return FALSE;
  for (guint k = 0; k < b->batch; k++)
    {
      if (values[k] == NULL)
        (*misses)++;
      else
        g_bytes_unref (values[k]);
    }
  return TRUE;
}

/* The creators of the get_or_create operations; every key is set before
 * they run, so they are only called if a value went missing. */
static GBytes *
bench_creator (const char *key, gpointer data, GError **error)
{
  Bench *b = data;

  return g_bytes_ref (b->values[0]);
}

static gboolean
bench_multi_creator (const char *const *keys, gsize n, GBytes **out,
                     gpointer data, GError **error)
{
  Bench *b = data;

  for (gsize i = 0; i < n; i++)
    out[i] = g_bytes_ref (b->values[0]);
  return TRUE;
}

static gboolean
op_get_or_create_hit (Bench *b, guint index, guint64 *misses, GError **error)
{
  GBytes *value = NULL;

  if (!dogpile_region_get_or_create (b->region, b->keys[index], bench_creator,
                                     b, &value, error))
    return FALSE;
  g_bytes_unref (value);
  return TRUE;
}

static gboolean
op_get_or_create_multi (Bench *b, guint start, guint64 *misses, GError **error)
{
  GBytes *values[MULTI_BATCH];

  if (!dogpile_region_get_or_create_multi (
          b->region, (const char *const *) b->keys + start, b->batch,
          bench_multi_creator, b, DOGPILE_EXPIRATION_DEFAULT, NULL, NULL,
          values, error))
    return FALSE;
  for (guint k = 0; k < b->batch; k++)
    g_bytes_unref (values[k]);
  return TRUE;
}

/* fn(a, b): the cached function the Python peer decorates, two integer
 * arguments; its value is key a's. */
static GBytes *
bench_function (const DogpileArg *args, gsize n, gpointer data, GError **error)
{
  Bench *b = data;

  return g_bytes_ref (b->values[args[0].v.i % b->n_keys]);
}

static gboolean
op_cached_function_hit (Bench *b, guint index, guint64 *misses, GError **error)
{
  DogpileArg args[] = { DOGPILE_INT (index), DOGPILE_INT (7) };
  GBytes *value = NULL;

  if (!dogpile_cached_function_call (b->function, args, G_N_ELEMENTS (args),
                                     &value, error))
    return FALSE;
  g_bytes_unref (value);
  return TRUE;
}

static const BenchOp bench_ops[] = {
  { "set", op_set, 1 },
  { "get_hit", op_get_hit, 1 },
  { "get_miss", op_get_miss, 1 },
  { "get_multi_100", op_get_multi, MULTI_BATCH },
  { "get_or_create_hit", op_get_or_create_hit, 1 },
  { "get_or_create_multi_100", op_get_or_create_multi, MULTI_BATCH },
  { "cached_function_hit", op_cached_function_hit, 1 },
};

#define DEFAULT_OPERATIONS                                                    \
  "set,get_hit,get_miss,get_multi_100,get_or_create_hit,"                     \
  "get_or_create_multi_100,cached_function_hit"

static gpointer
bench_thread (gpointer data)
{
  BenchThread *t = data;
  Bench *b = t->bench;
  /* Multi operations walk whole windows; single ones walk keys.  With
   * shared keys, threads start apart so they are not in lockstep. */
  guint step = t->op->keys_per_call > 1 ? b->batch : 1;
  guint positions = MAX (t->n_keys / step, 1);
  guint64 i
      = b->shared_keys ? (guint64) t->index * positions / b->n_threads : 0;
  double deadline;

#define KEY_INDEX(i) (t->first_key + (guint) ((i) % positions) * step)
  tool_barrier_wait (&b->start);
  deadline = now_seconds () + b->seconds;
  do
    {
      for (int k = 0; k < CHECK_EVERY && t->error == NULL; k++, i++)
        t->op->run (b, KEY_INDEX (i), &t->misses, &t->error);
      t->calls += CHECK_EVERY;
    }
  while (t->error == NULL && now_seconds () < deadline);

  /* A thread that failed still meets the others here, or they would wait
   * for it forever. */
  tool_barrier_wait (&b->start);
  if (t->error != NULL)
    return NULL;
  t->samples = g_new (double, MAX_SAMPLES_PER_THREAD);
  deadline = now_seconds () + MAX (b->seconds / 4, 0.05);
  while (t->n_samples < MAX_SAMPLES_PER_THREAD)
    {
      double before = now_seconds (), after;
      guint64 ignored = 0;

      if (!t->op->run (b, KEY_INDEX (i), &ignored, &t->error))
        return NULL;
      i++;
      after = now_seconds ();
      t->samples[t->n_samples++] = (after - before) * 1e6;
      if (after >= deadline)
        break;
    }
#undef KEY_INDEX
  return NULL;
}

/* The cheapest observed clock read pair: what a timed call adds. */
static double
measure_timer_overhead_us (void)
{
  double best = 1;

  for (int i = 0; i < 20000; i++)
    {
      double a = now_seconds (), c = now_seconds ();

      best = MIN (best, (c - a) * 1e6);
    }
  return best;
}

static gboolean
run_op (Bench *b, const BenchOp *op, BenchResult *result, GError **error)
{
  BenchThread *threads
      = g_aligned_alloc0 (b->n_threads, sizeof (BenchThread), 128);
  g_autofree GThread **handles = g_new0 (GThread *, b->n_threads);
  g_autofree double *all = NULL;
  gsize n_all = 0, at = 0;
  gboolean ok = TRUE;

  for (guint t = 0; t < b->n_threads; t++)
    {
      threads[t].bench = b;
      threads[t].op = op;
      threads[t].index = t;
      if (b->shared_keys)
        {
          threads[t].first_key = 0;
          threads[t].n_keys = b->n_keys;
        }
      else
        {
          threads[t].first_key
              = (guint) ((guint64) t * b->n_keys / b->n_threads);
          threads[t].n_keys
              = (guint) ((guint64) (t + 1) * b->n_keys / b->n_threads)
                - threads[t].first_key;
        }
      handles[t] = g_thread_new ("bench", bench_thread, &threads[t]);
    }
  memset (result, 0, sizeof *result);
  result->op = op;
  for (guint t = 0; t < b->n_threads; t++)
    {
      g_thread_join (handles[t]);
      result->calls += threads[t].calls;
      result->misses += threads[t].misses;
      n_all += threads[t].n_samples;
      if (threads[t].error != NULL && ok)
        {
          g_propagate_prefixed_error (error, threads[t].error,
                                      "%s: ", op->name);
          threads[t].error = NULL;
          ok = FALSE;
        }
      g_clear_error (&threads[t].error);
    }
  all = g_new (double, MAX (n_all, 1));
  for (guint t = 0; t < b->n_threads; t++)
    {
      for (gsize s = 0; s < threads[t].n_samples; s++)
        all[at++] = MAX (threads[t].samples[s] - b->timer_overhead_us, 0.0);
      g_free (threads[t].samples);
    }
  g_aligned_free (threads);
  if (!ok)
    return FALSE;
  tool_sort_doubles (all, n_all);
  result->all_calls = result->calls + n_all;
  result->ops_per_sec = (double) result->calls / b->seconds;
  result->p50_us = tool_percentile (all, n_all, 0.50);
  result->p99_us = tool_percentile (all, n_all, 0.99);
  return TRUE;
}

/* The unbounded set's result, for the evicting one's ratio. */
static BenchResult *
find_result (BenchResult *results, guint n_results, const char *name)
{
  for (guint r = 0; r < n_results; r++)
    if (strcmp (results[r].op->name, name) == 0)
      return &results[r];
  return NULL;
}

static void
print_table (Bench *b, const char *backend, BenchResult *results,
             BenchResult *bounded, guint n_results, BenchResult *evicting,
             double evictions_per_set)
{
  printf ("backend %s, %u thread%s%s, %u keys, %u-byte values, %.1f s per "
          "operation\n",
          backend, b->n_threads, b->n_threads == 1 ? "" : "s",
          b->n_threads == 1 ? ""
          : b->shared_keys  ? " on shared keys"
                            : " on separate keys",
          b->n_keys, (guint) b->value_size, b->seconds);
  if (bounded != NULL)
    printf ("bounded: the same backend with max_entries=%u (every key and "
            "cached function value fits), in this run; \"x\" is its time "
            "per call over the unbounded one's\n",
            2 * b->n_keys);
  printf ("\n%-22s %14s %12s %10s %10s", "operation", "ops/s", "us/op",
          "p50 us", "p99 us");
  if (bounded != NULL)
    printf (" %14s %12s %10s %6s", "bounded ops/s", "bounded us", "b. p50 us",
            "x");
  printf ("\n");
  for (guint r = 0; r < n_results; r++)
    {
      BenchResult *res = &results[r];

      printf ("%-22s %14.0f %12.3f %10.3f %10.3f", res->op->name,
              res->ops_per_sec,
              res->ops_per_sec > 0 ? 1e6 * b->n_threads / res->ops_per_sec : 0,
              res->p50_us, res->p99_us);
      if (bounded != NULL)
        {
          BenchResult *bnd = &bounded[r];

          printf (
              " %14.0f %12.3f %10.3f %6.2f", bnd->ops_per_sec,
              bnd->ops_per_sec > 0 ? 1e6 * b->n_threads / bnd->ops_per_sec : 0,
              bnd->p50_us,
              bnd->ops_per_sec > 0 ? res->ops_per_sec / bnd->ops_per_sec : 0);
        }
      if (res->op->keys_per_call > 1)
        printf ("   %.0f keys/s (%.3f us/key)",
                res->ops_per_sec * res->op->keys_per_call,
                1e6 * b->n_threads
                    / (res->ops_per_sec * res->op->keys_per_call));
      if (res->misses > 0 && res->op->run != op_get_miss)
        printf ("   (%" G_GUINT64_FORMAT " misses)", res->misses);
      if (bounded != NULL && bounded[r].misses > 0
          && res->op->run != op_get_miss)
        printf ("   (bounded: %" G_GUINT64_FORMAT " misses)",
                bounded[r].misses);
      printf ("\n");
    }
  if (evicting != NULL)
    {
      BenchResult *set = find_result (results, n_results, "set");

      printf ("\nset with eviction, max_entries=%u: %.0f ops/s, %.3f us/op, "
              "p50 %.3f us, p99 %.3f us, %.2f evictions per set",
              MAX (b->n_keys / 2, 1), evicting->ops_per_sec,
              evicting->ops_per_sec > 0
                  ? 1e6 * b->n_threads / evicting->ops_per_sec
                  : 0,
              evicting->p50_us, evicting->p99_us, evictions_per_set);
      if (set != NULL && evicting->ops_per_sec > 0)
        printf ("; x %.2f of the unbounded set",
                set->ops_per_sec / evicting->ops_per_sec);
      printf ("\n");
    }
}

/* {"op": {"ops_per_sec": ..., ...}, ...} */
static void
append_json_results (GString *out, BenchResult *results, guint n_results)
{
  g_string_append_c (out, '{');
  for (guint r = 0; r < n_results; r++)
    {
      BenchResult *res = &results[r];
      char ops[G_ASCII_DTOSTR_BUF_SIZE], p50[G_ASCII_DTOSTR_BUF_SIZE],
          p99[G_ASCII_DTOSTR_BUF_SIZE];

      g_ascii_formatd (ops, sizeof ops, "%.1f", res->ops_per_sec);
      g_ascii_formatd (p50, sizeof p50, "%.4f", res->p50_us);
      g_ascii_formatd (p99, sizeof p99, "%.4f", res->p99_us);
      g_string_append_printf (out, "%s\"%s\": {\"ops_per_sec\": %s",
                              r == 0 ? "" : ", ", res->op->name, ops);
      if (res->op->keys_per_call > 1)
        {
          char keys[G_ASCII_DTOSTR_BUF_SIZE];

          g_ascii_formatd (keys, sizeof keys, "%.1f",
                           res->ops_per_sec * res->op->keys_per_call);
          g_string_append_printf (out, ", \"keys_per_sec\": %s", keys);
        }
      g_string_append_printf (out,
                              ", \"p50_us\": %s, \"p99_us\": %s, \"misses\": "
                              "%" G_GUINT64_FORMAT "}",
                              p50, p99, res->misses);
    }
  g_string_append_c (out, '}');
}

static void
print_json (Bench *b, const char *backend, BenchResult *results,
            BenchResult *bounded, guint n_results, BenchResult *evicting,
            double evictions_per_set)
{
  g_autoptr (GString) out = g_string_new ("{\"backend\": ");

  tool_json_string (out, backend);
  g_string_append_printf (out,
                          ", \"threads\": %u, \"keys\": %u, \"value_size\": "
                          "%u, \"shared_keys\": %s, \"seconds\": %g, "
                          "\"results\": ",
                          b->n_threads, b->n_keys, (guint) b->value_size,
                          b->shared_keys ? "true" : "false", b->seconds);
  append_json_results (out, results, n_results);
  if (bounded != NULL)
    {
      g_string_append_printf (
          out,
          ", \"bounded\": {\"max_entries\": %u, \"results\": ", 2 * b->n_keys);
      append_json_results (out, bounded, n_results);
      g_string_append_c (out, '}');
    }
  if (evicting != NULL)
    {
      char per_set[G_ASCII_DTOSTR_BUF_SIZE];

      g_ascii_formatd (per_set, sizeof per_set, "%.4f", evictions_per_set);
      g_string_append_printf (out,
                              ", \"evicting\": {\"max_entries\": %u, "
                              "\"evictions_per_set\": %s, \"results\": ",
                              MAX (b->n_keys / 2, 1), per_set);
      append_json_results (out, evicting, 1);
      g_string_append_c (out, '}');
    }
  g_string_append (out, "}\n");
  fputs (out->str, stdout);
}

static const BenchOp *
find_op (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bench_ops); i++)
    if (strcmp (bench_ops[i].name, name) == 0)
      return &bench_ops[i];
  return NULL;
}

/* Sets every key and primes the cached function on @region, then runs
 * each of @op_names there; the progress line names each operation. */
static gboolean
bench_region (Bench *b, DogpileRegion *region, char **op_names,
              BenchResult *results, const char *label, ToolProgress *progress,
              GError **error)
{
  guint n_ops = g_strv_length (op_names), done = 0;
  gboolean ok = TRUE;

  b->region = region;
  b->function = dogpile_cached_function_new (region, "bench", "fn",
                                             bench_function, b, NULL);
  for (guint i = 0; ok && i < b->n_keys; i++)
    {
      DogpileArg args[] = { DOGPILE_INT (i), DOGPILE_INT (7) };
      g_autoptr (GBytes) primed = NULL;

      ok = dogpile_region_set (region, b->keys[i], b->values[i], error)
           && dogpile_cached_function_call (b->function, args, 2, &primed,
                                            error);
    }
  for (char **name = op_names; ok && *name != NULL; name++, done++)
    {
      /* Each run lasts over 0.1 s, so the line's rate limit never drops
       * one of these. */
      tool_progress_update (progress, "%s%s (%u/%u)", label, *name, done + 1,
                            n_ops);
      ok = run_op (b, find_op (*name), &results[done], error);
    }
  g_clear_pointer (&b->function, dogpile_cached_function_unref);
  return ok;
}

/* For dogpile.cache.memory and memory_pickle opened without max_entries
 * or max_bytes: the same backend and arguments with max_entries=@bound.
 * NULL (no error) for any other backend, or one already bounded. */
static DogpileRegion *
open_bounded_region (CacheRegionOptions *options, DogpileRegion *region,
                     guint bound, GError **error)
{
  const char *name = dogpile_backend_get_name (
      dogpile_region_get_actual_backend (region, NULL));
  g_autoptr (GHashTable) arguments
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (DogpileRegion) bounded = NULL;
  GHashTableIter iter;
  gpointer key, value;

  if (strcmp (name, "dogpile.cache.memory") != 0
      && strcmp (name, "dogpile.cache.memory_pickle") != 0)
    return NULL;
  if (options->backend_arguments != NULL)
    {
      if (g_hash_table_contains (options->backend_arguments, "max_entries")
          || g_hash_table_contains (options->backend_arguments, "max_bytes"))
        return NULL;
      g_hash_table_iter_init (&iter, options->backend_arguments);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (strcmp (key, "cache_dict") != 0) /* a store of its own */
          g_hash_table_insert (arguments, g_strdup (key), g_strdup (value));
    }
  g_hash_table_insert (arguments, g_strdup ("max_entries"),
                       g_strdup_printf ("%u", bound));
  bounded = dogpile_region_new ("bench-bounded");
  if (options->serializer != NULL
      && !dogpile_region_set_serializer_name (bounded, options->serializer,
                                              error))
    return NULL;
  if (!dogpile_region_configure (bounded, name,
                                 dogpile_region_get_expiration_time (region),
                                 arguments, DOGPILE_CONFIGURE_NONE, error))
    return NULL;
  return g_steal_pointer (&bounded);
}

/* set on @region, bounded below the key count: the keys are set once so
 * it is full, then the set operation runs; *out_evictions_per_call is what
 * the backend's counters say each call evicted. */
static gboolean
bench_evicting (Bench *b, DogpileRegion *region, BenchResult *result,
                double *out_evictions_per_call, ToolProgress *progress,
                GError **error)
{
  DogpileBackendCounters before, after;

  b->region = region;
  for (guint i = 0; i < b->n_keys; i++)
    if (!dogpile_region_set (region, b->keys[i], b->values[i], error))
      return FALSE;
  tool_progress_update (progress, "evicting set");
  if (!dogpile_region_get_backend_counters (region, &before, error)
      || !run_op (b, find_op ("set"), result, error)
      || !dogpile_region_get_backend_counters (region, &after, error))
    return FALSE;
  *out_evictions_per_call
      = result->all_calls > 0
            ? (double) (after.evictions_size - before.evictions_size)
                  / (double) result->all_calls
            : 0;
  return TRUE;
}

int
cache_bench_main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegion) region = NULL;
  g_autoptr (DogpileRegion) bounded_region = NULL;
  g_autofree BenchResult *results = NULL;
  g_autofree BenchResult *bounded = NULL;
  g_autoptr (DogpileRegion) evicting_region = NULL;
  BenchResult evicting = { 0 };
  double evictions_per_set = 0;
  ToolProgress progress;
  g_autofree char *operations = NULL;
  g_auto (GStrv) op_names = NULL;
  g_autofree char *payload = NULL;
  CacheRegionOptions options = { 0 };
  const char *backend;
  int threads = 1, keys = 1000, value_size = 100;
  double seconds = 1.0;
  gboolean json = FALSE, shared_keys = FALSE;
  guint n_results;
  Bench b = { 0 };
  const GOptionEntry entries[] = {
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads,
      "Threads running each operation at once (default 1)", "T" },
    { "keys", 'k', 0, G_OPTION_ARG_INT, &keys, "Distinct keys (default 1000)",
      "N" },
    { "value-size", 'v', 0, G_OPTION_ARG_INT, &value_size,
      "Bytes per value (default 100)", "V" },
    { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds,
      "Seconds of throughput measurement per operation (default 1)", "S" },
    { "operations", 'o', 0, G_OPTION_ARG_STRING, &operations,
      "Comma-separated subset of " DEFAULT_OPERATIONS, "LIST" },
    { "shared-keys", 0, 0, G_OPTION_ARG_NONE, &shared_keys,
      "Every thread walks all keys instead of its own slice", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
      "Print one JSON object instead of a table", NULL },
    { NULL },
  };

  context = g_option_context_new ("- measure a backend through a region");
  cache_region_options_add (context, &options);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "dogpile-cache bench: %s\n", error->message);
      return 2;
    }
  if (threads < 1 || keys < 1 || value_size < 0 || !(seconds > 0))
    {
      fprintf (stderr, "dogpile-cache bench: --threads and --keys must be "
                       "positive, --value-size not negative, --seconds > 0\n");
      cache_region_options_clear (&options);
      return 2;
    }
  op_names = g_strsplit (operations != NULL ? operations : DEFAULT_OPERATIONS,
                         ",", -1);
  for (char **name = op_names; *name != NULL; name++)
    if (find_op (g_strstrip (*name)) == NULL)
      {
        fprintf (stderr, "dogpile-cache bench: unknown operation '%s'\n",
                 *name);
        cache_region_options_clear (&options);
        return 2;
      }

  region = cache_region_options_open (&options, &error);
  if (region == NULL)
    {
      fprintf (stderr, "dogpile-cache bench: %s\n", error->message);
      cache_region_options_clear (&options);
      return 1;
    }
  backend = dogpile_backend_get_name (
      dogpile_region_get_actual_backend (region, NULL));

  b.region = region;
  b.n_keys = (guint) keys;
  b.n_threads = (guint) threads;
  b.seconds = seconds;
  b.shared_keys = shared_keys;
  b.batch = MIN (MULTI_BATCH, b.n_keys);
  payload = g_malloc (MAX (value_size, 1));
  memset (payload, 'x', MAX (value_size, 1));
  b.value_size = (gsize) value_size;
  b.values = g_new0 (GBytes *, b.n_keys);
  for (guint i = 0; i < b.n_keys; i++)
    b.values[i] = g_bytes_new (payload, b.value_size);
  /* The key list repeats its first batch so any window is contiguous. */
  b.keys = g_new0 (char *, b.n_keys + b.batch + 1);
  b.miss_keys = g_new0 (char *, b.n_keys + 1);
  for (guint i = 0; i < b.n_keys + b.batch; i++)
    b.keys[i] = g_strdup_printf ("key:%u", i % b.n_keys);
  for (guint i = 0; i < b.n_keys; i++)
    b.miss_keys[i] = g_strdup_printf ("miss:%u", i);
  tool_barrier_init (&b.start, b.n_threads);
  b.timer_overhead_us = measure_timer_overhead_us ();

  tool_progress_init (&progress, !json);
  results = g_new0 (BenchResult, g_strv_length (op_names));
  if (!bench_region (&b, region, op_names, results, "", &progress, &error))
    {
      tool_progress_clear (&progress);
      fprintf (stderr, "dogpile-cache bench: %s\n", error->message);
      return 1;
    }
  n_results = g_strv_length (op_names);

  /* The memory backends with no bound of their own: the same operations
   * again with one that holds every key and every cached function value
   * (2 N entries), so the bound's cost is read off one run
   * (docs/memory.md). */
  bounded_region
      = open_bounded_region (&options, region, 2 * b.n_keys, &error);
  if (error != NULL)
    {
      tool_progress_clear (&progress);
      fprintf (stderr, "dogpile-cache bench: %s\n", error->message);
      return 1;
    }
  if (bounded_region != NULL)
    {
      bounded = g_new0 (BenchResult, n_results);
      if (!bench_region (&b, bounded_region, op_names, bounded, "bounded ",
                         &progress, &error))
        {
          tool_progress_clear (&progress);
          fprintf (stderr, "dogpile-cache bench: %s\n", error->message);
          return 1;
        }
    }
  /* Set with eviction, when set is measured: half the keys fit, so a set
   * of one not held evicts another (docs/memory.md). */
  if (bounded_region != NULL && find_result (results, n_results, "set"))
    {
      evicting_region = open_bounded_region (&options, region,
                                             MAX (b.n_keys / 2, 1), &error);
      if (evicting_region == NULL
          || !bench_evicting (&b, evicting_region, &evicting,
                              &evictions_per_set, &progress, &error))
        {
          tool_progress_clear (&progress);
          fprintf (stderr, "dogpile-cache bench: %s\n",
                   error != NULL ? error->message : "no evicting region");
          return 1;
        }
    }
  tool_progress_clear (&progress);

  if (json)
    print_json (&b, backend, results, bounded, n_results,
                evicting_region != NULL ? &evicting : NULL, evictions_per_set);
  else
    print_table (&b, backend, results, bounded, n_results,
                 evicting_region != NULL ? &evicting : NULL,
                 evictions_per_set);

  g_strfreev (b.keys);
  g_strfreev (b.miss_keys);
  for (guint i = 0; i < b.n_keys; i++)
    g_bytes_unref (b.values[i]);
  g_free (b.values);
  tool_barrier_clear (&b.start);
  cache_region_options_clear (&options);
  return 0;
}
