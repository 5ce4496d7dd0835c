/* pickle-bench.c: dogpile_pickle_loads and _dumps on one pickle, in
 * nanoseconds per call, for pickle-bench.sh to print beside Python's
 * pickle.loads and pickle.dumps on the same bytes.
 *
 *   pickle-bench HEX [SECONDS]
 *
 * Not a test: figures are compared in the same run, never asserted.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dogpile/dogpile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double
run_for (double seconds, gboolean dump, GBytes *pickle, GVariant *value)
{
  gint64 start = g_get_monotonic_time (), end;
  guint64 calls = 0;

  do
    {
      for (int i = 0; i < 1000; i++)
        {
          if (dump)
            g_bytes_unref (dogpile_pickle_dumps (value, NULL));
          else
            g_variant_unref (dogpile_pickle_loads (pickle, NULL));
        }
      calls += 1000;
      end = g_get_monotonic_time ();
    }
  while ((double) (end - start) < seconds * 1e6);
  return (double) (end - start) * 1e3 / (double) calls;
}

int
main (int argc, char **argv)
{
  const char *hex = argc > 1 ? argv[1] : NULL;
  double seconds = argc > 2 ? g_ascii_strtod (argv[2], NULL) : 1.0;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) pickle = NULL;
  g_autoptr (GVariant) value = NULL;
  gsize n;
  guint8 *data;

  if (hex == NULL || strlen (hex) % 2 != 0)
    {
      fprintf (stderr, "usage: pickle-bench HEX [SECONDS]\n");
      return 2;
    }
  n = strlen (hex) / 2;
  data = g_malloc (n);
  for (gsize i = 0; i < n; i++)
    data[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) * 16
                        + g_ascii_xdigit_value (hex[2 * i + 1]));
  pickle = g_bytes_new_take (data, n);
  value = dogpile_pickle_loads (pickle, &error);
  if (value == NULL)
    {
      fprintf (stderr, "pickle-bench: %s\n", error->message);
      return 1;
    }
  /* loads first, then dumps; a third argument runs only that one */
  if (argc > 3 && strcmp (argv[3], "dumps") == 0)
    printf ("dumps %.0f\n", run_for (seconds, TRUE, NULL, value));
  else if (argc > 3)
    printf ("loads %.0f\n", run_for (seconds, FALSE, pickle, NULL));
  else
    printf ("loads %.0f dumps %.0f\n", run_for (seconds, FALSE, pickle, NULL),
            run_for (seconds, TRUE, NULL, value));
  return 0;
}
