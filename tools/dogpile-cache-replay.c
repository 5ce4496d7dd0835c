/* dogpile-cache-replay.c: `dogpile-cache replay`, a trace through a region.
 *
 * A trace is a file of keys, one a line; a line holding only `*` (a
 * marker some trace formats use) and empty lines are skipped.  Each key is
 * replayed as a cache-aside client does it, on one thread: get; on a miss,
 * set.  The result is the hit ratio a bounded backend achieves on that
 * workload, and the speed of doing it.
 *
 *   dogpile-cache replay -b dogpile.cache.memory -a max_entries=1000 TRACE
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <time.h>

#include "dogpile-cache.h"
#include "tool-common.h"

static double
now_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* Splits @contents in place into keys. */
static GPtrArray *
parse_trace (char *contents)
{
  GPtrArray *keys = g_ptr_array_new ();
  char *line = contents;

  while (line != NULL && *line != '\0')
    {
      char *end = strchr (line, '\n');

      if (end != NULL)
        *end = '\0';
      g_strstrip (line);
      if (*line != '\0' && strcmp (line, "*") != 0)
        g_ptr_array_add (keys, line);
      line = end != NULL ? end + 1 : NULL;
    }
  return keys;
}

int
cache_replay_main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegion) region = NULL;
  g_autoptr (GPtrArray) keys = NULL;
  g_autoptr (GBytes) value = NULL;
  g_autofree char *contents = NULL;
  CacheRegionOptions options = { 0 };
  gboolean json = FALSE, counters = FALSE;
  int value_size = 16;
  guint64 hits = 0;
  double started, seconds, ratio, rate;
  const char *backend;
  char *payload;
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
      "Print one JSON object instead of lines", NULL },
    { "value-size", 'v', 0, G_OPTION_ARG_INT, &value_size,
      "Bytes per value stored on a miss (default 16)", "V" },
    { "counters", 0, 0, G_OPTION_ARG_NONE, &counters,
      "Also print the backend's counters (evictions, window) to stderr",
      NULL },
    { NULL },
  };

  context = g_option_context_new (
      "TRACE - replay keys as get, then set on a miss; print the hit ratio");
  cache_region_options_add (context, &options);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "dogpile-cache replay: %s\n", error->message);
      cache_region_options_clear (&options);
      return TOOL_EXIT_USAGE;
    }
  if (argc != 2 || value_size < 0)
    {
      fprintf (stderr, "dogpile-cache replay: %s\n",
               argc != 2 ? "give one TRACE file"
                         : "--value-size must not be negative");
      cache_region_options_clear (&options);
      return TOOL_EXIT_USAGE;
    }
  if (!g_file_get_contents (argv[1], &contents, NULL, &error))
    {
      fprintf (stderr, "dogpile-cache replay: %s\n", error->message);
      cache_region_options_clear (&options);
      return TOOL_EXIT_ERROR;
    }
  keys = parse_trace (contents);

  region = cache_region_options_open (&options, &error);
  if (region == NULL)
    {
      fprintf (stderr, "dogpile-cache replay: %s\n", error->message);
      cache_region_options_clear (&options);
      return TOOL_EXIT_ERROR;
    }
  backend = dogpile_backend_get_name (
      dogpile_region_get_actual_backend (region, NULL));
  payload = g_malloc0 (MAX (value_size, 1));
  memset (payload, 'x', (gsize) value_size);
  value = g_bytes_new_take (payload, (gsize) value_size);

  started = now_seconds ();
  for (guint i = 0; i < keys->len; i++)
    {
      const char *key = g_ptr_array_index (keys, i);
      GBytes *got = NULL;

      if (!dogpile_region_get (region, key, &got, &error))
        break;
      if (got != NULL)
        {
          hits++;
          g_bytes_unref (got);
        }
      else if (!dogpile_region_set (region, key, value, &error))
        break;
    }
  seconds = now_seconds () - started;
  if (error != NULL)
    {
      fprintf (stderr, "dogpile-cache replay: %s\n", error->message);
      cache_region_options_clear (&options);
      return TOOL_EXIT_ERROR;
    }
  ratio = keys->len > 0 ? (double) hits / keys->len : 0;
  rate = seconds > 0 ? keys->len / seconds : 0;

  if (json)
    {
      g_autoptr (GString) out = g_string_new ("{\"backend\": ");
      char r[G_ASCII_DTOSTR_BUF_SIZE], o[G_ASCII_DTOSTR_BUF_SIZE];

      tool_json_string (out, backend);
      g_ascii_formatd (r, sizeof r, "%.6f", ratio);
      g_ascii_formatd (o, sizeof o, "%.1f", rate);
      g_string_append_printf (
          out,
          ", \"requests\": %u, \"hits\": %" G_GUINT64_FORMAT
          ", \"hit_ratio\": %s, \"ops_per_sec\": %s}\n",
          keys->len, hits, r, o);
      fputs (out->str, stdout);
    }
  else
    printf ("backend %s\nrequests %u\nhits %" G_GUINT64_FORMAT
            "\nhit_ratio %.4f\nops_per_sec %.0f\n",
            backend, keys->len, hits, ratio, rate);

  if (counters)
    {
      g_autoptr (GError) counters_error = NULL;
      DogpileBackendCounters c;

      if (!dogpile_region_get_backend_counters (region, &c, &counters_error))
        fprintf (stderr, "counters: %s\n", counters_error->message);
      else
        fprintf (stderr,
                 "entries=%" G_GUINT64_FORMAT
                 "\nweighted_size=%" G_GUINT64_FORMAT
                 "\nmaximum=%" G_GUINT64_FORMAT
                 "\nevictions_size=%" G_GUINT64_FORMAT
                 "\nevictions_expiry=%" G_GUINT64_FORMAT
                 "\nwindow_maximum=%" G_GUINT64_FORMAT
                 "\nwindow_size=%" G_GUINT64_FORMAT
                 "\nprotected_maximum=%" G_GUINT64_FORMAT
                 "\nclimbs=%" G_GUINT64_FORMAT
                 "\nsketch_resets=%" G_GUINT64_FORMAT "\n",
                 c.entries, c.weighted_size, c.maximum, c.evictions_size,
                 c.evictions_expiry, c.window_maximum, c.window_size,
                 c.protected_maximum, c.climbs, c.sketch_resets);
    }
  cache_region_options_clear (&options);
  return TOOL_EXIT_OK;
}
