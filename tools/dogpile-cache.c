/* dogpile-cache: a configured region from the shell.
 *
 *   dogpile-cache get|set|delete -b BACKEND [-a name=value]... KEY [VALUE]
 *   dogpile-cache get|set|delete -c regions.ini -R cache.redis KEY [VALUE]
 *   dogpile-cache bench -b BACKEND [...]
 *   dogpile-cache stampede -b BACKEND [...]
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-cache.h"

#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "tool-common.h"

void
cache_region_options_add (GOptionContext *context, CacheRegionOptions *options)
{
  const GOptionEntry entries[] = {
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &options->backend,
      "Backend name (default dogpile.cache.memory)", "NAME" },
    { "argument", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &options->arguments,
      "Backend argument (may be repeated)", "NAME=VALUE" },
    { "expiration", 'e', 0, G_OPTION_ARG_STRING, &options->expiration,
      "Region expiration time: seconds, a duration like 1h30m, or none "
      "(default 3600)",
      "TIME" },
    { "registry", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &options->registries,
      "Read this registry file first (may be repeated)", "FILE" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &options->config,
      "Open a region from this INI file of regions (with --region; "
      "instead of -b, -a and -e)",
      "FILE" },
    { "region", 'R', 0, G_OPTION_ARG_STRING, &options->region,
      "The region's group in the --config file, e.g. cache.redis", "GROUP" },
    { NULL },
  };

  g_option_context_add_main_entries (context, entries, NULL);
}

void
cache_region_options_clear (CacheRegionOptions *options)
{
  g_clear_pointer (&options->backend, g_free);
  g_clear_pointer (&options->arguments, g_strfreev);
  g_clear_pointer (&options->expiration, g_free);
  g_clear_pointer (&options->registries, g_strfreev);
  g_clear_pointer (&options->config, g_free);
  g_clear_pointer (&options->region, g_free);
}

DogpileRegion *
cache_region_options_open (CacheRegionOptions *options, GError **error)
{
  g_autoptr (GHashTable) arguments = NULL;
  g_autoptr (DogpileRegion) region = NULL;
  double expiration = 3600;

  for (char **r = options->registries; r != NULL && *r != NULL; r++)
    if (!dogpile_registry_add_file (dogpile_registry_get_default (), *r,
                                    error))
      return NULL;
  if (options->config != NULL || options->region != NULL)
    {
      if (options->config == NULL || options->region == NULL)
        {
          g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                               "--config and --region go together");
          return NULL;
        }
      if (options->backend != NULL || options->arguments != NULL
          || options->expiration != NULL)
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "-b, -a and -e cannot be combined with --config: "
                       "the region's backend, arguments and expiration "
                       "time come from [%s] in %s",
                       options->region, options->config);
          return NULL;
        }
      return dogpile_config_load_region (options->config, options->region,
                                         error);
    }
  if (options->expiration != NULL
      && !dogpile_parse_expiration_time (options->expiration, &expiration,
                                         error))
    return NULL;
  arguments = tool_parse_arguments (options->arguments, error);
  if (arguments == NULL)
    return NULL;
  region = dogpile_region_new ("dogpile-cache");
  if (!dogpile_region_configure (region,
                                 options->backend != NULL
                                     ? options->backend
                                     : "dogpile.cache.memory",
                                 expiration, arguments,
                                 DOGPILE_CONFIGURE_NONE, error))
    return NULL;
  return g_steal_pointer (&region);
}

static int
fail (const char *command, const GError *error)
{
  fprintf (stderr, "dogpile-cache %s: %s\n", command, error->message);
  return 1;
}

/* get, set and delete: one key on a region opened from the options. */
static int
key_command (const char *command, int argc, char **argv)
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

static void
usage (FILE *out)
{
  fputs ("Usage: dogpile-cache COMMAND [OPTIONS] [ARGS]\n"
         "\n"
         "Commands:\n"
         "  get KEY          print the value of KEY (exit 3 on a miss)\n"
         "  set KEY VALUE    store VALUE under KEY\n"
         "  delete KEY       delete KEY\n"
         "  bench            measure set, get, get_multi and get_or_create\n"
         "  stampede         many threads on one expiring key: the dogpile "
         "lock at work\n"
         "\n"
         "Every command takes -b BACKEND, -a NAME=VALUE (repeatable), "
         "-e EXPIRATION\nand -r REGISTRY, or -c FILE -R GROUP for a region "
         "from an INI file of regions;\nrun `dogpile-cache COMMAND --help` "
         "for the rest.\n",
         out);
}

int
main (int argc, char **argv)
{
  const char *command;

  setlocale (LC_ALL, "");
  tool_use_build_tree_registry ();
  if (argc < 2)
    {
      usage (stderr);
      return 2;
    }
  command = argv[1];
  if (strcmp (command, "--help") == 0 || strcmp (command, "-h") == 0
      || strcmp (command, "help") == 0)
    {
      usage (stdout);
      return 0;
    }
  /* Each subcommand parses the rest, with argv[0] naming it. */
  argv[1] = g_strdup_printf ("dogpile-cache %s", command);
  if (strcmp (command, "get") == 0 || strcmp (command, "set") == 0
      || strcmp (command, "delete") == 0)
    return key_command (command, argc - 1, argv + 1);
  if (strcmp (command, "bench") == 0)
    return cache_bench_main (argc - 1, argv + 1);
  if (strcmp (command, "stampede") == 0)
    return cache_stampede_main (argc - 1, argv + 1);
  fprintf (stderr, "dogpile-cache: unknown command '%s'\n\n", command);
  usage (stderr);
  return 2;
}
