/* pickle-bench.c: dogpile_pickle_loads and _dumps on one pickle, in
 * nanoseconds per call, for pickle-bench.sh to print beside Python's
 * pickle.loads and pickle.dumps on the same bytes.
 *
 *   pickle-bench HEX [SECONDS [loads|dumps|floors]]
 *
 * With each, the floor any codec returning a GVariant pays on this GLib:
 * for loads, making and freeing a GVariant of the result's type from
 * bytes already written (the type's info is looked up under GLib's
 * global lock, and the variant, its GBytes and the buffer are allocated
 * and freed); for dumps, reading the value's data, size and type as
 * dumps does, and making and freeing a GBytes of the pickle's size.  A
 * codec can be no faster than these, however little its parse costs.
 *
 * Not a test: figures are compared in the same run, never asserted.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dogpile/dogpile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { LOADS, DUMPS, FLOOR_LOADS, FLOOR_DUMPS } What;

/* The floors' calls, kept out of line as the codec's are. */
static G_GNUC_NO_INLINE void
floor_loads (GVariant *value)
{
  gsize size = g_variant_get_size (value);
  guint8 *data = g_malloc (size);
  GBytes *bytes;

  memcpy (data, g_variant_get_data (value), size);
  bytes = g_bytes_new_take (data, size);
  g_variant_unref (g_variant_ref_sink (
      g_variant_new_from_bytes (g_variant_get_type (value), bytes, TRUE)));
  g_bytes_unref (bytes);
}

static G_GNUC_NO_INLINE void
floor_dumps (GVariant *value, GBytes *pickle)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (pickle, &size);
  volatile gsize sink;

  sink = g_variant_is_normal_form (value) + g_variant_get_size (value)
         + (gsize) g_variant_get_data (value)
         + strlen (g_variant_get_type_string (value));
  (void) sink;
  g_bytes_unref (g_bytes_new (data, size));
}

static double
run_for (double seconds, What what, GBytes *pickle, GVariant *value)
{
  gint64 start = g_get_monotonic_time (), end;
  guint64 calls = 0;

  do
    {
      for (int i = 0; i < 1000; i++)
        {
          switch (what)
            {
            case DUMPS:
              g_bytes_unref (dogpile_pickle_dumps (value, NULL));
              break;
            case LOADS:
              g_variant_unref (dogpile_pickle_loads (pickle, NULL));
              break;
            case FLOOR_LOADS: floor_loads (value); break;
            case FLOOR_DUMPS: floor_dumps (value, pickle); break;
            }
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
  /* loads first, then dumps, then the floors; a third argument runs
   * only that one (for a profiler) */
  if (argc > 3 && strcmp (argv[3], "dumps") == 0)
    printf ("dumps %.0f\n", run_for (seconds, DUMPS, NULL, value));
  else if (argc > 3 && strcmp (argv[3], "floors") == 0)
    printf ("floor-loads %.0f floor-dumps %.0f\n",
            run_for (seconds, FLOOR_LOADS, pickle, value),
            run_for (seconds, FLOOR_DUMPS, pickle, value));
  else if (argc > 3)
    printf ("loads %.0f\n", run_for (seconds, LOADS, pickle, NULL));
  else
    {
      double loads = run_for (seconds, LOADS, pickle, NULL);
      double dumps = run_for (seconds, DUMPS, NULL, value);
      g_autoptr (GBytes) dumped = dogpile_pickle_dumps (value, NULL);

      printf ("loads %.0f dumps %.0f floor-loads %.0f floor-dumps %.0f\n",
              loads, dumps, run_for (seconds, FLOOR_LOADS, pickle, value),
              run_for (seconds, FLOOR_DUMPS, dumped, value));
    }
  return 0;
}
