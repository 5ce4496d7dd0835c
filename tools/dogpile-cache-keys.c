/* dogpile-cache-keys.c: get, set and delete of one key.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-cache.h"

#include <stdio.h>
#include <unistd.h>

static int
fail (const char *command, const GError *error)
{
  fprintf (stderr, "dogpile-cache %s: %s\n", command, error->message);
  return 1;
}

/* One key on a region opened from the options. */
int
cache_key_main (const char *command, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegion) region = NULL;
  CacheRegionOptions options = { 0 };
  gboolean is_set = strcmp (command, "set") == 0;
  int needed = is_set ? 2 : 1;
  int status = 0;

  context = g_option_context_new (is_set ? "KEY VALUE" : "KEY");
  cache_region_options_add (context, &options);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return fail (command, error);
  if (argc != needed + 1)
    {
      fprintf (stderr, "dogpile-cache %s: expected %s\n", command,
               is_set ? "KEY VALUE" : "KEY");
      cache_region_options_clear (&options);
      return 2;
    }
  region = cache_region_options_open (&options, &error);
  cache_region_options_clear (&options);
  if (region == NULL)
    return fail (command, error);

  if (strcmp (command, "get") == 0)
    {
      g_autoptr (GBytes) value = NULL;
      gsize len;
      const char *data;

      if (!dogpile_region_get (region, argv[1], &value, &error))
        return fail (command, error);
      if (value == NULL)
        {
          fprintf (stderr, "dogpile-cache get: no value for '%s'\n", argv[1]);
          return 3;
        }
      data = g_bytes_get_data (value, &len);
      fwrite (data, 1, len, stdout);
      if (isatty (fileno (stdout)))
        fputc ('\n', stdout);
    }
  else if (is_set)
    {
      g_autoptr (GBytes) value = g_bytes_new (argv[2], strlen (argv[2]));

      if (!dogpile_region_set (region, argv[1], value, &error))
        return fail (command, error);
    }
  else if (!dogpile_region_delete (region, argv[1], &error))
    return fail (command, error);
  return status;
}
