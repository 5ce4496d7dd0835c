/* dogpile-cache-region.c: the options every dogpile-cache subcommand
 * takes, and the region they open.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-cache.h"

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
      "Open a region from this INI file (with --region; instead of -b, -a, "
      "-e and -s)",
      "FILE" },
    { "region", 'R', 0, G_OPTION_ARG_STRING, &options->region,
      "The region's group in the --config file, e.g. cache.redis; with "
      "--prefix, the section holding the settings, e.g. app:main",
      "GROUP" },
    { "prefix", 0, 0, G_OPTION_ARG_STRING, &options->prefix,
      "Read the --config file as Python's configparser does (a Paste or "
      "Pyramid INI: %(here)s, `key: value`, `;` comments, continued values) "
      "and configure the region from the keys of GROUP that start with "
      "PREFIX, as dogpile.cache's configure_from_config(settings, PREFIX) "
      "does; other keys are ignored",
      "PREFIX" },
    { "serializer", 's', 0, G_OPTION_ARG_STRING, &options->serializer,
      "The region's serializer: raw (default), json, or pickle (a stock "
      "Python region's; values read and written as JSON)",
      "NAME" },
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
  g_clear_pointer (&options->prefix, g_free);
  g_clear_pointer (&options->serializer, g_free);
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
  if (options->config != NULL || options->region != NULL
      || options->prefix != NULL)
    {
      if (options->config == NULL || options->region == NULL)
        {
          g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                               options->prefix != NULL
                                   ? "--prefix goes with --config and --region"
                                   : "--config and --region go together");
          return NULL;
        }
      if (options->backend != NULL || options->arguments != NULL
          || options->expiration != NULL || options->serializer != NULL)
        {
          g_autofree char *keys
              = options->prefix != NULL
                    ? g_strdup_printf ("the %s* keys of [%s]", options->prefix,
                                       options->region)
                    : g_strdup_printf ("[%s]", options->region);

          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "-b, -a, -e and -s cannot be combined with --config: "
                       "the region's backend, arguments, expiration "
                       "time and serializer come from %s in %s",
                       keys, options->config);
          return NULL;
        }
      if (options->prefix != NULL)
        return dogpile_config_load_prefixed_region (
            options->config, options->region, options->prefix, error);
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
  if (options->serializer != NULL
      && !dogpile_region_set_serializer_name (region, options->serializer,
                                              error))
    return NULL;
  if (!dogpile_region_configure (
          region,
          options->backend != NULL ? options->backend : "dogpile.cache.memory",
          expiration, arguments, DOGPILE_CONFIGURE_NONE, error))
    return NULL;
  return g_steal_pointer (&region);
}
