/* dogpile-cache-keys.c: get, set and delete of one key.
 *
 * With the pickle serializer a value is printed and read as JSON, in
 * dogpile-json.h's tagged form for what JSON has no form for ({"$bytes":
 * base64}, {"$tuple": [...]}, ...); with raw and json the payload's bytes
 * go out and in unchanged.  A VALUE of "-" is read from stdin, binary
 * safe.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-cache.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

/* All of stdin. */
static GBytes *
read_stdin (GError **error)
{
  GByteArray *data = g_byte_array_new ();
  guint8 buf[65536];
  size_t n;

  while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
    g_byte_array_append (data, buf, (guint) n);
  if (ferror (stdin))
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "Cannot read the value from stdin: %s", g_strerror (errno));
      g_byte_array_unref (data);
      return NULL;
    }
  return g_byte_array_free_to_bytes (data);
}

static gboolean
is_pickle (DogpileRegion *region)
{
  return strcmp (dogpile_region_get_serializer_name (region), "pickle") == 0;
}

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

  context = g_option_context_new (is_set ? "KEY VALUE|-" : "KEY");
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

  if (strcmp (command, "get") == 0 && is_pickle (region))
    {
      g_autoptr (GVariant) value = NULL;
      g_autofree char *text = NULL;

      if (!dogpile_region_get_variant (region, argv[1], &value, &error))
        return fail (command, error);
      if (value == NULL)
        {
          fprintf (stderr, "dogpile-cache get: no value for '%s'\n", argv[1]);
          return 3;
        }
      text = dogpile_json_dumps (value, DOGPILE_JSON_TAGGED, NULL, &error);
      if (text == NULL)
        return fail (command, error);
      printf ("%s\n", text);
    }
  else if (strcmp (command, "get") == 0)
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
      g_autoptr (GBytes) value = strcmp (argv[2], "-") == 0
                                     ? read_stdin (&error)
                                     : g_bytes_new (argv[2], strlen (argv[2]));

      if (value == NULL)
        return fail (command, error);
      if (is_pickle (region))
        {
          gsize len;
          const char *text = g_bytes_get_data (value, &len);
          g_autoptr (GVariant) parsed = dogpile_json_loads (
              text != NULL ? text : "", len, DOGPILE_JSON_TAGGED, &error);

          if (parsed == NULL
              || !dogpile_region_set_variant (region, argv[1], parsed, &error))
            return fail (command, error);
        }
      else if (!dogpile_region_set (region, argv[1], value, &error))
        return fail (command, error);
    }
  else if (!dogpile_region_delete (region, argv[1], &error))
    return fail (command, error);
  return status;
}
