/* docs/getting-started.md's program, built and run by the test suite:
 * a region from an INI file of regions, read through get_or_create so
 * that the slow lookup runs once per expiry, however many ask.
 * Usage: getting-started CACHE.INI */
#include <dogpile/dogpile.h>
#include <stdio.h>
#include <string.h>

/* Stands for the database query the cache saves. */
static GBytes *
load_greeting (const char *key, gpointer user_data, GError **error)
{
  int *calls = user_data;

  (*calls)++;
  return g_bytes_new_take (g_strdup_printf ("hello, %s", key),
                           strlen (key) + 7);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegion) region = NULL;
  int calls = 0;

  if (argc != 2)
    {
      fprintf (stderr, "Usage: %s CACHE.INI\n", argv[0]);
      return 2;
    }
  region = dogpile_config_load_region (argv[1], "cache.local", &error);
  if (region == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (GBytes) value = NULL;

      if (!dogpile_region_get_or_create (region, "world", load_greeting,
                                         &calls, &value, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      printf ("%.*s\n", (int) g_bytes_get_size (value),
              (const char *) g_bytes_get_data (value, NULL));
    }
  printf ("the creator ran %d time(s)\n", calls);
  return 0;
}
