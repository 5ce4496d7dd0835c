/* dogpile-cache-stampede.c: `dogpile-cache stampede`, the dogpile lock at
 * work.
 *
 * T threads ask, all at once, for one key whose value takes M ms to create,
 * for R rounds; the value expires between rounds.  Without the lock every
 * thread would run the creator every round (a stampede on the database);
 * with it there is one creator call per round: the first round's callers
 * wait for it, later rounds' callers get the stale value at once while one
 * of them regenerates.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dogpile-cache.h"
#include "tool-common.h"

#define KEY "stampede:hot-key"

typedef struct {
  DogpileRegion *region;
  guint n_threads;
  gulong creator_us;
  double expiration; /* seconds, passed with every call */
  gint round;        /* the round being run; the creator stamps it */
  gint creator_calls;
  gint stale_served;
  gint failures;
  char *first_error;

  ToolBarrier line; /* the callers and the conductor, each round */
} Stampede;

typedef struct {
  Stampede *s;
  double *waits_ms; /* one per round */
  guint index;
  guint rounds;
} Caller;

static GBytes *
slow_creator (const char *key, gpointer data, GError **error)
{
  Stampede *s = data;
  gint round = g_atomic_int_get (&s->round);

  g_atomic_int_inc (&s->creator_calls);
  g_usleep (s->creator_us);
  return g_bytes_new (&round, sizeof round);
}

/* Whether @backend, given @arguments, locks through its server, and how
 * long a caller that finds the lock held sleeps before it tries again. */
static gboolean
distributed_lock_sleep (const char *backend, GHashTable *arguments,
                        double *out_sleep, const char **out_what)
{
  gboolean on = FALSE;

  if (g_str_has_prefix (backend, "dogpile.cache.redis")
      || g_str_has_prefix (backend, "dogpile.cache.valkey"))
    {
      /* Sentinel regions lock through the server by default. */
      if (!dogpile_arguments_get_boolean (arguments, "distributed_lock",
                                          strstr (backend, "sentinel") != NULL,
                                          &on, NULL)
          || !on
          || !dogpile_arguments_get_duration (arguments, "lock_sleep", 0.1,
                                              out_sleep, NULL))
        return FALSE;
      *out_what = "lock_sleep";
      return TRUE;
    }
  if (strcmp (backend, "dogpile.cache.memcached") == 0
      || strcmp (backend, "dogpile.cache.pylibmc") == 0
      || strcmp (backend, "dogpile.cache.bmemcached") == 0
      || strcmp (backend, "dogpile.cache.pymemcache") == 0)
    {
      double sleep_max = 1.0;

      if (!dogpile_arguments_get_boolean (arguments, "distributed_lock", FALSE,
                                          &on, NULL)
          || !on
          || !dogpile_arguments_get_duration (arguments, "lock_sleep_max", 1.0,
                                              &sleep_max, NULL))
        return FALSE;
      /* The first back-off is 0.4 to 0.8 s (docs/memcached.md). */
      *out_sleep = MIN (0.4, sleep_max);
      *out_what = "its first back-off (0.4 to 0.8 s, at most lock_sleep_max)";
      return TRUE;
    }
  return FALSE;
}

/* A caller that waited for a distributed lock sees the new value up to
 * one sleep after it was made: unless that is well below the expiration
 * time, the value is already expired and the caller creates it again,
 * and the stampede looks as if the lock did not work. */
static void
warn_lock_sleep (const char *backend, GHashTable *arguments, double expiration)
{
  double sleep = 0;
  const char *what = NULL;

  if (arguments == NULL || expiration < 0
      || !distributed_lock_sleep (backend, arguments, &sleep, &what)
      || sleep * 4 <= expiration)
    return;
  fprintf (stderr,
           "dogpile-cache stampede: warning: %s locks through its server "
           "(distributed_lock) and a caller that finds the lock held sleeps "
           "%s = %g s before it tries again, which is not well below the "
           "%g s expiration time the stampede uses: a caller that waited "
           "finds the new value expired already and creates it again, as "
           "if the lock did not work; give -e %g or more%s\n",
           backend, what, sleep, expiration, sleep * 4,
           strcmp (what, "lock_sleep") == 0 ? ", or a smaller -a lock_sleep"
                                            : "");
}

/* A value read back through a remote backend is a slice of the reply,
 * with no alignment promised. */
static gint
value_round (GBytes *value)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (value, &size);
  gint round = -1;

  if (size == sizeof round)
    memcpy (&round, data, sizeof round);
  return round;
}

static gpointer
caller_thread (gpointer data)
{
  Caller *c = data;
  Stampede *s = c->s;

  for (guint r = 0; r < c->rounds; r++)
    {
      g_autoptr (GBytes) value = NULL;
      g_autoptr (GError) error = NULL;
      gint64 started;

      tool_barrier_wait (&s->line); /* go */
      started = g_get_monotonic_time ();
      if (!dogpile_region_get_or_create_full (s->region, KEY, slow_creator, s,
                                              NULL, s->expiration, NULL, NULL,
                                              &value, &error))
        {
          if (g_atomic_int_add (&s->failures, 1) == 0)
            s->first_error = g_strdup (error->message);
        }
      else if (value_round (value) < g_atomic_int_get (&s->round))
        g_atomic_int_inc (&s->stale_served);
      c->waits_ms[r] = (double) (g_get_monotonic_time () - started) / 1000.0;
      tool_barrier_wait (&s->line); /* done */
    }
  return NULL;
}

int
cache_stampede_main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegion) region = NULL;
  g_autofree Caller *callers = NULL;
  g_autofree GThread **threads = NULL;
  g_autofree double *waits = NULL;
  CacheRegionOptions options = { 0 };
  int n_threads = 32, rounds = 5, creator_ms = 100;
  double expiration;
  gboolean json = FALSE;
  g_autofree char *backend = NULL;
  Stampede s = { 0 };
  ToolProgress progress;
  gsize n_waits;
  const GOptionEntry entries[] = {
    { "threads", 't', 0, G_OPTION_ARG_INT, &n_threads,
      "Callers asking at once (default 32)", "T" },
    { "rounds", 'n', 0, G_OPTION_ARG_INT, &rounds,
      "Rounds; the value expires between them (default 5)", "R" },
    { "creator-ms", 'm', 0, G_OPTION_ARG_INT, &creator_ms,
      "Milliseconds the creator takes (default 100)", "M" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
      "Print one JSON object instead of text", NULL },
    { NULL },
  };

  context = g_option_context_new ("- the dogpile lock against a stampede");
  g_option_context_set_description (
      context,
      "On a terminal, a progress line on stderr is rewritten in place each "
      "round (never with --json or when stderr is not a terminal).  With a "
      "distributed lock (redis, memcached: distributed_lock) the stampede "
      "warns when the lock's sleep between tries is not well below the "
      "expiration time it uses.\n\nExit status: 0 success; 1 an error, or "
      "a caller's call failed; 2 a bad command line.");
  cache_region_options_add (context, &options);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "dogpile-cache stampede: %s\n", error->message);
      cache_region_options_clear (&options);
      return 2;
    }
  if (n_threads < 1 || rounds < 1 || creator_ms < 0)
    {
      fprintf (stderr, "dogpile-cache stampede: --threads and --rounds must "
                       "be positive, --creator-ms not negative\n");
      cache_region_options_clear (&options);
      return 2;
    }
  /* Values expire quickly so each round finds the last one stale: -e is
   * the stampede's expiration, passed with every call, whatever the
   * region's own (from -e's default or a --config file) is. */
  expiration = MAX (creator_ms, 20) / 1000.0;
  if (options.expiration != NULL
      && !dogpile_parse_expiration_time (options.expiration, &expiration,
                                         &error))
    {
      fprintf (stderr, "dogpile-cache stampede: %s\n", error->message);
      cache_region_options_clear (&options);
      return 2;
    }
  g_clear_pointer (&options.expiration, g_free);
  region = cache_region_options_open (&options, &error);
  if (region == NULL)
    {
      fprintf (stderr, "dogpile-cache stampede: %s\n", error->message);
      cache_region_options_clear (&options);
      return 1;
    }
  s.expiration = expiration;
  backend = g_strdup (dogpile_backend_get_name (
      dogpile_region_get_actual_backend (region, NULL)));
  warn_lock_sleep (backend, options.backend_arguments, expiration);
  cache_region_options_clear (&options);
  /* Start from nothing, as a cold cache would. */
  if (!dogpile_region_delete (region, KEY, &error))
    {
      fprintf (stderr, "dogpile-cache stampede: %s\n", error->message);
      return 1;
    }

  s.region = region;
  s.n_threads = (guint) n_threads;
  s.creator_us = (gulong) creator_ms * 1000;
  tool_barrier_init (&s.line, s.n_threads + 1);
  callers = g_new0 (Caller, s.n_threads);
  threads = g_new0 (GThread *, s.n_threads);
  for (guint i = 0; i < s.n_threads; i++)
    {
      callers[i]
          = (Caller){ &s, g_new0 (double, (gsize) rounds), i, (guint) rounds };
      threads[i] = g_thread_new ("caller", caller_thread, &callers[i]);
    }
  tool_progress_init (&progress, !json);
  for (int r = 0; r < rounds; r++)
    {
      tool_progress_update (&progress,
                            "stampede: round %d of %d, %d creator calls so "
                            "far",
                            r + 1, rounds,
                            g_atomic_int_get (&s.creator_calls));
      if (r > 0)
        g_usleep ((gulong) (expiration * G_USEC_PER_SEC) + 20000);
      g_atomic_int_set (&s.round, r);
      tool_barrier_wait (&s.line); /* go */
      tool_barrier_wait (&s.line); /* everyone has an answer */
    }
  tool_progress_clear (&progress);
  for (guint i = 0; i < s.n_threads; i++)
    g_thread_join (threads[i]);

  n_waits = s.n_threads * (gsize) rounds;
  waits = g_new (double, n_waits);
  for (guint i = 0; i < s.n_threads; i++)
    {
      memcpy (waits + i * (gsize) rounds, callers[i].waits_ms,
              (gsize) rounds * sizeof (double));
      g_free (callers[i].waits_ms);
    }
  tool_sort_doubles (waits, n_waits);

  if (json)
    {
      g_autoptr (GString) out = g_string_new ("{\"backend\": ");
      char p50[G_ASCII_DTOSTR_BUF_SIZE], p99[G_ASCII_DTOSTR_BUF_SIZE],
          max[G_ASCII_DTOSTR_BUF_SIZE];

      tool_json_string (out, backend);
      g_ascii_formatd (p50, sizeof p50, "%.3f",
                       tool_percentile (waits, n_waits, 0.5));
      g_ascii_formatd (p99, sizeof p99, "%.3f",
                       tool_percentile (waits, n_waits, 0.99));
      g_ascii_formatd (max, sizeof max, "%.3f", waits[n_waits - 1]);
      g_string_append_printf (
          out,
          ", \"threads\": %d, \"rounds\": %d, \"creator_ms\": %d, "
          "\"requests\": %" G_GSIZE_FORMAT ", \"creator_calls\": %d, "
          "\"stale_served\": %d, \"failures\": %d, \"wait_ms\": {\"p50\": "
          "%s, \"p99\": %s, \"max\": %s}}\n",
          n_threads, rounds, creator_ms, n_waits, s.creator_calls,
          s.stale_served, s.failures, p50, p99, max);
      fputs (out->str, stdout);
    }
  else
    {
      printf ("backend %s: %d threads asked for one key at once, %d rounds, "
              "creator takes %d ms, value expires after %g s\n\n",
              backend, n_threads, rounds, creator_ms, expiration);
      printf ("requests        %" G_GSIZE_FORMAT "\n", n_waits);
      printf ("creator calls   %d   (without the lock: up to %" G_GSIZE_FORMAT
              ")\n",
              s.creator_calls, n_waits);
      printf ("stale served    %d   (answered at once while one caller "
              "regenerated)\n",
              s.stale_served);
      printf ("wait ms         p50 %.3f   p99 %.3f   max %.3f\n",
              tool_percentile (waits, n_waits, 0.5),
              tool_percentile (waits, n_waits, 0.99), waits[n_waits - 1]);
      if (s.failures > 0)
        printf ("failures        %d   (first: %s)\n", s.failures,
                s.first_error);
    }
  g_free (s.first_error);
  tool_barrier_clear (&s.line);
  return s.failures > 0 ? 1 : 0;
}
