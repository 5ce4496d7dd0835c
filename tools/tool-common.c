/* tool-common.c: helpers shared by the command-line tools.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tool-common.h"

#include <math.h>
#include <stdlib.h>

void
tool_use_build_tree_registry (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = NULL;

  if (exe == NULL || g_getenv (DOGPILE_REGISTRY_PATH_ENV) != NULL)
    return;
  dir = g_path_get_dirname (exe);
  /* An installed copy of the tool lives elsewhere, so it never matches. */
  if (strcmp (dir, DOGPILE_BUILD_TOOLS_DIR) == 0)
    g_setenv (DOGPILE_REGISTRY_PATH_ENV, DOGPILE_BUILD_REGISTRY, TRUE);
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
