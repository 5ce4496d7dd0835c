/* The README's quick start, built and run by the test suite. */
#include <dogpile/dogpile.h>
#include <stdio.h>

int
main (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegion) region = dogpile_region_new ("quickstart");
  g_autoptr (GBytes) value = g_bytes_new_static ("hello", 5);
  g_autoptr (GBytes) hit = NULL;

  if (!dogpile_region_configure (region, "dogpile.cache.memory", 3600, NULL,
                                 DOGPILE_CONFIGURE_NONE, &error)
      || !dogpile_region_set (region, "greeting", value, &error)
      || !dogpile_region_get (region, "greeting", &hit, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  printf ("%.*s\n", (int) g_bytes_get_size (hit),
          (const char *) g_bytes_get_data (hit, NULL));
  return 0;
}
