/* dogpile-nearest.c: the nearest of some names to a misspelt one.
 *
 * Levenshtein distance over bytes, two rows: the names compared are
 * ASCII (settings, arguments, plugin names); a multibyte typo counts a
 * little more, which only makes a suggestion rarer.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-nearest.h"

#include <string.h>

static guint
edit_distance (const char *a, const char *b)
{
  gsize n = strlen (b);
  g_autofree guint *prev = g_new (guint, n + 1);
  g_autofree guint *cur = g_new (guint, n + 1);

  for (gsize j = 0; j <= n; j++)
    prev[j] = (guint) j;
  for (gsize i = 0; a[i] != '\0'; i++)
    {
      cur[0] = (guint) i + 1;
      for (gsize j = 0; j < n; j++)
        {
          guint replace = prev[j] + (a[i] != b[j]);

          cur[j + 1] = MIN (MIN (prev[j + 1] + 1, cur[j] + 1), replace);
        }
      memcpy (prev, cur, (n + 1) * sizeof *prev);
    }
  return prev[n];
}

const char *
dogpile__nearest_name (const char *name, const char *const *candidates)
{
  const char *best = NULL;
  guint best_distance = G_MAXUINT;
  guint limit = MAX (2, (guint) strlen (name) / 3);

  for (const char *const *c = candidates; c != NULL && *c != NULL; c++)
    {
      guint d = edit_distance (name, *c);

      if (d < best_distance)
        {
          best = *c;
          best_distance = d;
        }
    }
  return best_distance <= limit ? best : NULL;
}
