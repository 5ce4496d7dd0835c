/* doc-messages.c: the errors only the API can cause, each made for real
 * and printed as `NAME: message` (NAME: dogpile_error_get_name()), so that
 * docs/errors.md quotes what the code says (tests/docs/check-doc-messages.py
 * runs the command each quoted block names).
 * Usage: doc-messages CASE
 *
 * SPDX-License-Identifier: MIT
 */
#include <dogpile/dogpile.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

static GBytes *
no_value (const char *key, gpointer data, GError **error)
{
  return NULL; /* and no error: a broken creator */
}

static GBytes *
asks_for_its_own_key (const char *key, gpointer data, GError **error)
{
  DogpileRegion *region = data;
  GBytes *value = NULL;

  if (!dogpile_region_get_or_create (region, key, asks_for_its_own_key, region,
                                     &value, error))
    return NULL;
  return value;
}

static GBytes *
fresh (const char *key, gpointer data, GError **error)
{
  return g_bytes_new_static ("fresh", 5);
}

static DogpileRegion *
memory_region (double expiration)
{
  DogpileRegion *region = dogpile_region_new ("docs");

  if (!dogpile_region_configure (region, "dogpile.cache.memory", expiration,
                                 NULL, DOGPILE_CONFIGURE_NONE, NULL))
    g_error ("the memory backend does not configure");
  return region;
}

static gboolean
run (const char *which, GError **error)
{
  g_autoptr (DogpileRegion) region = NULL;
  g_autoptr (GBytes) value = NULL;

  if (strcmp (which, "not-configured") == 0)
    {
      region = dogpile_region_new ("docs");
      return dogpile_region_get (region, "k", &value, error);
    }
  if (strcmp (which, "already-configured") == 0)
    {
      region = memory_region (60);
      return dogpile_region_configure (region, "dogpile.cache.null", 60, NULL,
                                       DOGPILE_CONFIGURE_NONE, error);
    }
  if (strcmp (which, "creator-no-value") == 0)
    {
      region = memory_region (60);
      return dogpile_region_get_or_create (region, "k", no_value, NULL, &value,
                                           error);
    }
  if (strcmp (which, "own-lock") == 0)
    {
      region = memory_region (60);
      return dogpile_region_get_or_create (region, "k", asks_for_its_own_key,
                                           region, &value, error);
    }
  if (strcmp (which, "soft-invalidated") == 0)
    {
      /* soft invalidation of a region whose values never expire */
      region = memory_region (DOGPILE_EXPIRATION_NONE);
      if (!dogpile_region_get_or_create (region, "k", fresh, NULL, &value,
                                         error))
        return FALSE;
      g_clear_pointer (&value, g_bytes_unref);
      dogpile_region_invalidate (region, FALSE);
      return dogpile_region_get_or_create (region, "k", fresh, NULL, &value,
                                           error);
    }
  if (strcmp (which, "nan-creation-time") == 0)
    {
      g_autoptr (DogpileBackend) backend
          = dogpile_backend_new ("dogpile.cache.memory", NULL, error);
      DogpileMetadata metadata;

      if (backend == NULL)
        return FALSE; /* its own message, which the page check then shows */
      value = g_bytes_new_static ("v", 1);
      dogpile_metadata_init (&metadata, NAN);
      return dogpile_backend_set_value (backend, "k", value, &metadata, error);
    }
  fprintf (stderr, "doc-messages: no case '%s'\n", which);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  if (argc != 2)
    {
      fprintf (stderr, "Usage: doc-messages CASE\n");
      return 2;
    }
  if (run (argv[1], &error))
    {
      fprintf (stderr, "doc-messages: %s made no error\n", argv[1]);
      return 1;
    }
  printf ("%s: %s\n", dogpile_error_get_name (error->code), error->message);
  return 0;
}
