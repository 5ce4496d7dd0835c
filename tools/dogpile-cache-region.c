/* dogpile-cache-region.c: the options every dogpile-cache subcommand
 * takes, and the region they open.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-cache.h"

#include <dogpile/dogpile-plugin.h>

#include <stdio.h>

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
    { "strict", 0, 0, G_OPTION_ARG_NONE, &options->strict,
      "An argument the backend does not declare is an error, not a warning "
      "(strict_arguments; `dogpile-plugins NAME` lists what it declares)",
      NULL },
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
  g_clear_pointer (&options->backend_arguments, g_hash_table_unref);
}

/* The arguments.* keys of the region in @options' file (name -> value),
 * read again for the subcommands' own checks: the region itself comes
 * from the library's loader, which reports every problem. */
static GHashTable *
file_arguments (CacheRegionOptions *options)
{
  GHashTable *arguments
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (options->prefix != NULL)
    {
      g_autoptr (GHashTable) settings = dogpile_config_load_settings (
          options->config, options->region, NULL);
      g_autofree char *start
          = g_strconcat (options->prefix, "arguments.", NULL);
      GHashTableIter iter;
      gpointer key, value;

      if (settings == NULL)
        return arguments;
      g_hash_table_iter_init (&iter, settings);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (g_str_has_prefix (key, start))
          g_hash_table_replace (arguments,
                                g_strdup ((char *) key + strlen (start)),
                                g_strdup (value));
    }
  else
    {
      g_autoptr (GKeyFile) file = g_key_file_new ();
      g_auto (GStrv) keys = NULL;

      if (!g_key_file_load_from_file (file, options->config, G_KEY_FILE_NONE,
                                      NULL))
        return arguments;
      keys = g_key_file_get_keys (file, options->region, NULL, NULL);
      for (char **k = keys; k != NULL && *k != NULL; k++)
        if (g_str_has_prefix (*k, "arguments."))
          g_hash_table_replace (
              arguments, g_strdup (*k + strlen ("arguments.")),
              g_key_file_get_value (file, options->region, *k, NULL));
    }
  return arguments;
}

void
cache_region_note_memory_backend (DogpileRegion *region, const char *command)
{
  DogpileBackend *backend = dogpile_region_get_actual_backend (region, NULL);
  const char *name
      = backend != NULL ? dogpile_backend_get_name (backend) : NULL;

  if (name == NULL || !g_str_has_prefix (name, "dogpile.cache.memory")
      || !tool_stderr_is_terminal ())
    return;
  fprintf (stderr,
           "dogpile-cache %s: note: %s lives only as long as this process: "
           "it starts empty and what it holds is gone when dogpile-cache "
           "exits (use dogpile.cache.dbm, redis or memcached to keep values "
           "between commands)\n",
           command, name);
}

DogpileRegion *
cache_region_options_open (CacheRegionOptions *options, GError **error)
{
  g_autoptr (GHashTable) arguments = NULL;
  g_autoptr (DogpileRegion) region = NULL;
  double expiration = 3600;
  DogpileConfigureFlags flags = options->strict
                                    ? DOGPILE_CONFIGURE_STRICT_ARGUMENTS
                                    : DOGPILE_CONFIGURE_NONE;

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
      options->backend_arguments = file_arguments (options);
      if (options->prefix != NULL)
        return dogpile_config_load_prefixed_region_full (
            options->config, options->region, options->prefix, flags, error);
      return dogpile_config_load_region_full (options->config, options->region,
                                              flags, error);
    }
  if (options->expiration != NULL
      && !dogpile_parse_expiration_time (options->expiration, &expiration,
                                         error))
    return NULL;
  arguments = tool_parse_arguments (options->arguments, error);
  if (arguments == NULL)
    return NULL;
  options->backend_arguments = g_hash_table_ref (arguments);
  region = dogpile_region_new ("dogpile-cache");
  if (options->serializer != NULL
      && !dogpile_region_set_serializer_name (region, options->serializer,
                                              error))
    return NULL;
  if (!dogpile_region_configure (
          region,
          options->backend != NULL ? options->backend : "dogpile.cache.memory",
          expiration, arguments, flags, error))
    return NULL;
  return g_steal_pointer (&region);
}
