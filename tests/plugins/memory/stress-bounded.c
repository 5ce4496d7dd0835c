/* stress-bounded.c: the bounded memory store under 16 threads of mixed
 * get, set and delete, without Criterion so that it runs under
 * ThreadSanitizer: the read buffer, its drain and eviction, by entries and
 * by bytes; then the unbounded store, whose shards allocate nodes at once.
 * Checks that the store never holds more than its bound once an operation
 * (and the drain it does) is over, and that no get returns a value that
 * was never set for its key.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dogpile/dogpile.h>

#include <stdio.h>
#include <stdlib.h>

#define N_THREADS 16
#define N_KEYS 512

static gint failures;

#define CHECK(cond, ...)                                                      \
  do                                                                          \
    if (!(cond))                                                              \
      {                                                                       \
        fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                 \
        fprintf (stderr, __VA_ARGS__);                                        \
        fputc ('\n', stderr);                                                 \
        g_atomic_int_inc (&failures);                                         \
      }                                                                       \
  while (0)

typedef struct {
  DogpileRegion *region;
  guint index;
  guint iterations;
} Worker;

/* Whether the store is within its bound (or holds no more keys than
 * there are, unbounded). */
static gboolean
within_bound (DogpileRegion *region, guint64 *size, guint64 *bound)
{
  DogpileBackendCounters counters;

  if (!dogpile_region_get_backend_counters (region, &counters, NULL))
    return FALSE;
  *size = counters.maximum > 0 ? counters.weighted_size : counters.entries;
  *bound = counters.maximum > 0 ? counters.maximum : N_KEYS;
  return *size <= *bound;
}

static gpointer
work (gpointer data)
{
  Worker *w = data;
  GRand *rand = g_rand_new_with_seed (w->index + 1);
  char key[32], value[64];

  for (guint i = 0; i < w->iterations; i++)
    {
      guint k = (guint) g_rand_int_range (rand, 0, N_KEYS);
      double op = g_rand_double (rand);

      g_snprintf (key, sizeof key, "key:%u", k);
      if (op < 0.6)
        {
          g_autoptr (GBytes) got = NULL;
          g_autofree char *prefix = g_strdup_printf ("%s=", key);

          CHECK (dogpile_region_get (w->region, key, &got, NULL), "get");
          if (got != NULL)
            {
              gsize len;
              const char *bytes = g_bytes_get_data (got, &len);

              CHECK (len > strlen (prefix)
                         && memcmp (bytes, prefix, strlen (prefix)) == 0,
                     "%s read a value set for another key: %.*s", key,
                     (int) len, bytes);
            }
        }
      else if (op < 0.9)
        {
          g_autoptr (GBytes) bytes = NULL;

          g_snprintf (value, sizeof value, "%s=%u:%u", key, w->index, i);
          bytes = g_bytes_new (value, strlen (value));
          CHECK (dogpile_region_set (w->region, key, bytes, NULL), "set");
        }
      else
        CHECK (dogpile_region_delete (w->region, key, NULL), "delete");
      if (i % 64 == 0)
        {
          guint64 size = 0, bound = 0;

          CHECK (within_bound (w->region, &size, &bound),
                 "%" G_GUINT64_FORMAT " held, bound %" G_GUINT64_FORMAT, size,
                 bound);
        }
    }
  g_rand_free (rand);
  return NULL;
}

/* @bound: NAME=VALUE, or NULL for none */
static void
run (const char *bound, const char *policy, guint iterations)
{
  g_autoptr (GHashTable) arguments
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GError) error = NULL;
  DogpileRegion *region = dogpile_region_new ("stress");
  GThread *threads[N_THREADS];
  Worker workers[N_THREADS];

  guint64 size = 0, maximum = 0;

  if (bound != NULL)
    {
      g_auto (GStrv) pair = g_strsplit (bound, "=", 2);

      g_hash_table_insert (arguments, g_strdup (pair[0]), g_strdup (pair[1]));
    }
  g_hash_table_insert (arguments, g_strdup ("eviction_policy"),
                       g_strdup (policy));
  if (!dogpile_region_configure (region, "dogpile.cache.memory", 3600,
                                 arguments, 0, &error))
    {
      fprintf (stderr, "FAIL configure: %s\n", error->message);
      exit (1);
    }
  for (guint t = 0; t < N_THREADS; t++)
    {
      workers[t] = (Worker){ region, t, iterations };
      threads[t] = g_thread_new ("worker", work, &workers[t]);
    }
  for (guint t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);
  CHECK (within_bound (region, &size, &maximum), "over the bound at the end");
  dogpile_region_unref (region);
  printf ("%s %s\n", bound != NULL ? bound : "unbounded", policy);
}

int
main (int argc, char **argv)
{
  guint iterations = argc > 1 ? (guint) atoi (argv[1]) : 20000;

  /* Entries cost about 140 bytes: 4K holds some 30. */
  run ("max_entries=64", "tinylfu", iterations);
  run ("max_entries=64", "lru", iterations);
  run ("max_bytes=4K", "tinylfu", iterations);
  run (NULL, "tinylfu", iterations);
  return failures == 0 ? 0 : 1;
}
