/* tool-common.c: helpers shared by the command-line tools.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tool-common.h"

#include <dogpile/dogpile-plugin.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void
tool_print_version (const char *program)
{
  printf ("%s %s\n", program, DOGPILE_VERSION_STRING);
  printf ("libdogpile %s (API dogpile-%s): loads backends of ABI version 1 "
          "to %u and proxies of ABI version 1 to %u\n",
          dogpile_get_version (), DOGPILE_API_VERSION,
          (guint) DOGPILE_BACKEND_ABI_VERSION,
          (guint) DOGPILE_PROXY_ABI_VERSION);
  printf ("MIT License: see the LICENSE file of libdogpile\n");
}

gboolean
tool_stderr_is_terminal (void)
{
  return isatty (fileno (stderr));
}

void
tool_progress_init (ToolProgress *progress, gboolean enabled)
{
  progress->on = enabled && tool_stderr_is_terminal ();
  progress->shown = FALSE;
  progress->last_us = 0;
}

void
tool_progress_update (ToolProgress *progress, const char *format, ...)
{
  gint64 now = g_get_monotonic_time ();
  va_list args;

  if (!progress->on
      || (progress->shown && now - progress->last_us < G_USEC_PER_SEC / 10))
    return;
  progress->last_us = now;
  progress->shown = TRUE;
  /* Back to the start of the line, the new text, the rest erased. */
  fputc ('\r', stderr);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputs ("\033[K", stderr);
  fflush (stderr);
}

void
tool_progress_clear (ToolProgress *progress)
{
  if (!progress->shown)
    return;
  fputs ("\r\033[K", stderr);
  fflush (stderr);
  progress->shown = FALSE;
}

/* @path's part after @dir and a '/', or NULL. */
static const char *
under (const char *path, const char *dir)
{
  gsize n = strlen (dir);

  if (n == 0 || strncmp (path, dir, n) != 0)
    return NULL;
  if (dir[n - 1] == '/')
    return path + n;
  return path[n] == '/' ? path + n + 1 : NULL;
}

char *
tool_dup_short_path (const char *path)
{
  g_autofree char *build_root = g_path_get_dirname (DOGPILE_BUILD_TOOLS_DIR);
  g_autofree char *user_dir
      = g_build_filename (g_get_user_data_dir (),
                          "dogpile-" DOGPILE_API_VERSION, "registry.d", NULL);
  const char *home = g_get_home_dir ();
  const char *rest;

  if (path == NULL)
    return g_strdup ("built in");
  if (strcmp (path, DOGPILE_BUILD_REGISTRY) == 0)
    return g_strdup ("build tree");
  if ((rest = under (path, build_root)) != NULL)
    return g_strdup_printf ("build tree: %s", rest);
  if ((rest = under (path, DOGPILE_REGISTRY_DIR)) != NULL)
    return g_strdup_printf ("system: %s", rest);
  if ((rest = under (path, user_dir)) != NULL)
    return g_strdup_printf ("user: %s", rest);
  if (home != NULL && strcmp (home, "/") != 0
      && (rest = under (path, home)) != NULL)
    return g_strdup_printf ("~/%s", rest);
  return g_strdup (path);
}

void
tool_use_build_tree_registry (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = NULL;
  const char *given = g_getenv (DOGPILE_REGISTRY_PATH_ENV);
  g_auto (GStrv) parts = NULL;

  if (exe == NULL)
    return;
  dir = g_path_get_dirname (exe);
  /* An installed copy of the tool lives elsewhere, so it never matches. */
  if (strcmp (dir, DOGPILE_BUILD_TOOLS_DIR) != 0)
    return;
  if (given == NULL || given[0] == '\0')
    {
      g_setenv (DOGPILE_REGISTRY_PATH_ENV, DOGPILE_BUILD_REGISTRY, TRUE);
      return;
    }
  /* The user's registries first (their names win), then the build
   * tree's, as docs/writing-plugins.md promises. */
  parts = g_strsplit (given, G_SEARCHPATH_SEPARATOR_S, -1);
  if (!g_strv_contains ((const char *const *) parts, DOGPILE_BUILD_REGISTRY))
    {
      g_autofree char *both = g_strconcat (given, G_SEARCHPATH_SEPARATOR_S,
                                           DOGPILE_BUILD_REGISTRY, NULL);

      g_setenv (DOGPILE_REGISTRY_PATH_ENV, both, TRUE);
    }
}

void
tool_json_string (GString *out, const char *value)
{
  if (value == NULL)
    {
      g_string_append (out, "null");
      return;
    }
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *) value; *p; p++)
    {
      switch (*p)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (*p < 0x20)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, (char) *p);
        }
    }
  g_string_append_c (out, '"');
}

GHashTable *
tool_parse_arguments (char **items, GError **error)
{
  g_autoptr (GHashTable) arguments = NULL;

  arguments = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (char **p = items; p != NULL && *p != NULL; p++)
    {
      const char *eq = strchr (*p, '=');

      if (eq == NULL || eq == *p)
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "Backend argument '%s' is not of the form name=value",
                       *p);
          return NULL;
        }
      g_hash_table_replace (arguments, g_strndup (*p, (gsize) (eq - *p)),
                            g_strdup (eq + 1));
    }
  return g_steal_pointer (&arguments);
}

void
tool_barrier_init (ToolBarrier *barrier, guint parties)
{
  g_mutex_init (&barrier->lock);
  g_cond_init (&barrier->cond);
  barrier->parties = parties;
  barrier->arrived = 0;
  barrier->generation = 0;
}

void
tool_barrier_clear (ToolBarrier *barrier)
{
  g_mutex_clear (&barrier->lock);
  g_cond_clear (&barrier->cond);
}

void
tool_barrier_wait (ToolBarrier *barrier)
{
  guint generation;

  g_mutex_lock (&barrier->lock);
  generation = barrier->generation;
  if (++barrier->arrived == barrier->parties)
    {
      barrier->arrived = 0;
      barrier->generation++;
      g_cond_broadcast (&barrier->cond);
    }
  else
    while (generation == barrier->generation)
      g_cond_wait (&barrier->cond, &barrier->lock);
  g_mutex_unlock (&barrier->lock);
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

void
tool_sort_doubles (double *values, gsize n)
{
  qsort (values, n, sizeof *values, compare_doubles);
}

double
tool_percentile (const double *sorted, gsize n, double p)
{
  gsize rank;

  if (n == 0)
    return 0;
  rank = (gsize) ceil (p * (double) n);
  return sorted[MIN (rank > 0 ? rank - 1 : 0, n - 1)];
}
