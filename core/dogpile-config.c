/* dogpile-config.c: configure_from_config, and INI files of regions.
 *
 * dogpile.cache reads `<prefix>backend`, `<prefix>expiration_time`,
 * `<prefix>arguments.*`, `<prefix>wrap` and
 * `<prefix>replace_existing_backend` from a flat string map.  Here wrapped
 * proxies may take arguments too: `<prefix>wrap.<proxy>.<name>`, and
 * `<prefix>serializer` names the payload serializer (raw, json, pickle),
 * which Python gives as a function in code instead.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-region-private.h"

/* Keys under @prefix, with the prefix removed (strings copied). */
static GHashTable *
sub_map (GHashTable *config, const char *prefix)
{
  GHashTable *out
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gsize len = strlen (prefix);
  GHashTableIter iter;
  gpointer k, v;

  g_hash_table_iter_init (&iter, config);
  while (g_hash_table_iter_next (&iter, &k, &v))
    if (g_str_has_prefix (k, prefix) && ((const char *) k)[len] != '\0')
      g_hash_table_insert (out, g_strdup ((const char *) k + len),
                           g_strdup (v));
  return out;
}

static gboolean
bad_key (GError **error, const char *key)
{
  g_prefix_error (error, "Configuration key '%s': ", key);
  return FALSE;
}

/**
 * dogpile_region_configure_from_config:
 * @self: a region
 * @config: (element-type utf8 utf8): the settings, as strings
 * @prefix: what every key of this region starts with, e.g. "cache.local."
 * @error: return location for a #GError
 *
 * dogpile.cache's configure_from_config: `<prefix>backend` (required),
 * `<prefix>expiration_time` (seconds, a duration such as `1h30m`, or
 * `none`), `<prefix>arguments.<name>` (the backend's arguments),
 * `<prefix>wrap` (proxy names, outermost first, separated by commas or
 * spaces; `<prefix>wrap.<proxy>.<name>` gives a proxy arguments),
 * `<prefix>replace_existing_backend` (true/false) and `<prefix>serializer`
 * (raw, json or pickle: dogpile_region_set_serializer_name(); a configured
 * region keeps the one it has).
 *
 * Returns: %TRUE on success; %FALSE with an error naming the missing or
 * bad key, or configure's own errors.
 */
gboolean
dogpile_region_configure_from_config (DogpileRegion *self, GHashTable *config,
                                      const char *prefix, GError **error)
{
  g_autofree char *backend_key = NULL;
  g_autofree char *expiration_key = NULL;
  g_autofree char *wrap_key = NULL;
  g_autofree char *replace_key = NULL;
  g_autofree char *serializer_key = NULL;
  g_autofree char *arguments_prefix = NULL;
  g_autoptr (GHashTable) arguments = NULL;
  g_autoptr (GPtrArray) proxy_arguments = NULL;
  g_autofree DogpileRegionWrap *wraps = NULL;
  g_auto (GStrv) wrap_names = NULL;
  g_autofree char *backend = NULL;
  const char *expiration_text;
  double expiration = DOGPILE_EXPIRATION_NONE;
  gboolean replace = FALSE;
  guint n_wraps;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (prefix != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  backend_key = g_strconcat (prefix, "backend", NULL);
  backend = g_strdup (g_hash_table_lookup (config, backend_key));
  if (backend == NULL || g_strstrip (backend)[0] == '\0')
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "Configuration key '%s' is missing: it names the backend, "
                   "e.g. dogpile.cache.memory",
                   backend_key);
      return FALSE;
    }

  expiration_key = g_strconcat (prefix, "expiration_time", NULL);
  expiration_text = g_hash_table_lookup (config, expiration_key);
  if (expiration_text != NULL
      && !dogpile_parse_expiration_time (expiration_text, &expiration, error))
    return bad_key (error, expiration_key);

  replace_key = g_strconcat (prefix, "replace_existing_backend", NULL);
  if (!dogpile_arguments_get_boolean (config, replace_key, FALSE, &replace,
                                      error))
    return FALSE;

  serializer_key = g_strconcat (prefix, "serializer", NULL);
  if (g_hash_table_contains (config, serializer_key))
    {
      g_autofree char *name = g_strstrip (
          g_strdup (g_hash_table_lookup (config, serializer_key)));

      /* replacing the backend keeps the serializer: only the same name */
      if (get_config (self) != NULL
          && strcmp (name, dogpile_region_get_serializer_name (self)) != 0)
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "the serializer of a configured region stays as it "
                       "is ('%s')",
                       dogpile_region_get_serializer_name (self));
          return bad_key (error, serializer_key);
        }
      if (get_config (self) == NULL
          && !dogpile_region_set_serializer_name (self, name, error))
        return bad_key (error, serializer_key);
    }

  arguments_prefix = g_strconcat (prefix, "arguments.", NULL);
  arguments = sub_map (config, arguments_prefix);

  wrap_key = g_strconcat (prefix, "wrap", NULL);
  dogpile_arguments_dup_list (config, wrap_key, &wrap_names, NULL);
  n_wraps = g_strv_length (wrap_names);
  wraps = g_new0 (DogpileRegionWrap, MAX (n_wraps, 1));
  proxy_arguments
      = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);
  for (guint i = 0; i < n_wraps; i++)
    {
      g_autofree char *args_prefix
          = g_strconcat (wrap_key, ".", wrap_names[i], ".", NULL);

      wraps[i].desc = dogpile_registry_load_proxy (
          dogpile_registry_get_default (), wrap_names[i], error);
      if (wraps[i].desc == NULL)
        return bad_key (error, wrap_key);
      wraps[i].arguments = sub_map (config, args_prefix);
      g_ptr_array_add (proxy_arguments, wraps[i].arguments);
    }

  return dogpile__region_configure_chain (
      self, backend, expiration, arguments, wraps, n_wraps,
      replace ? DOGPILE_CONFIGURE_REPLACE_EXISTING : DOGPILE_CONFIGURE_NONE,
      error);
}

/* A region named @group, configured from that group's keys. */
static DogpileRegion *
region_from_group (GKeyFile *key_file, const char *group, GError **error)
{
  g_autoptr (GHashTable) settings
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (DogpileRegion) region = dogpile_region_new (group);
  g_auto (GStrv) keys = g_key_file_get_keys (key_file, group, NULL, NULL);

  for (char **key = keys; key != NULL && *key != NULL; key++)
    g_hash_table_insert (settings, g_strdup (*key),
                         g_key_file_get_value (key_file, group, *key, NULL));
  if (!dogpile_region_configure_from_config (region, settings, "", error))
    {
      g_prefix_error (error, "[%s] ", group);
      return NULL;
    }
  return g_steal_pointer (&region);
}

/**
 * dogpile_config_load_regions_from_key_file:
 * @key_file: settings, one group per region
 * @group_prefix: (nullable): only groups whose name starts with this
 *   (e.g. "cache."); %NULL for every group
 * @error: return location for a #GError
 *
 * Each group is a region named after it, configured with
 * dogpile_region_configure_from_config() from the group's keys:
 *
 * |[
 * [cache.local]
 * backend = dogpile.cache.memory
 * expiration_time = 7200
 * arguments.cache_dict = sessions
 * wrap = dogpile.proxies.stats
 * ]|
 *
 * Returns: (transfer full) (element-type utf8 DogpileRegion): region name
 * -> configured region; %NULL with an error naming the group and key.
 */
GHashTable *
dogpile_config_load_regions_from_key_file (GKeyFile *key_file,
                                           const char *group_prefix,
                                           GError **error)
{
  g_autoptr (GHashTable) regions = NULL;
  g_auto (GStrv) groups = NULL;

  g_return_val_if_fail (key_file != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  regions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                   (GDestroyNotify) dogpile_region_unref);
  groups = g_key_file_get_groups (key_file, NULL);
  for (char **group = groups; *group != NULL; group++)
    {
      DogpileRegion *region;

      if (group_prefix != NULL && !g_str_has_prefix (*group, group_prefix))
        continue;
      region = region_from_group (key_file, *group, error);
      if (region == NULL)
        return NULL;
      g_hash_table_insert (regions, g_strdup (*group), region);
    }
  return g_steal_pointer (&regions);
}

/**
 * dogpile_config_load_regions:
 * @path: an INI file
 * @group_prefix: (nullable): only groups whose name starts with this
 * @error: return location for a #GError
 *
 * dogpile_config_load_regions_from_key_file() on a file.
 *
 * Returns: (transfer full) (element-type utf8 DogpileRegion): region name
 * -> configured region; %NULL with an error naming the file.
 */
GHashTable *
dogpile_config_load_regions (const char *path, const char *group_prefix,
                             GError **error)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  GHashTable *regions;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  regions = dogpile_config_load_regions_from_key_file (key_file, group_prefix,
                                                       error);
  if (regions == NULL)
    g_prefix_error (error, "%s: ", path);
  return regions;
}

/**
 * dogpile_config_load_region:
 * @path: an INI file
 * @group: the group that describes the region, e.g. "cache.redis"
 * @error: return location for a #GError
 *
 * One region from a file of several (see
 * dogpile_config_load_regions_from_key_file() for the keys): only that
 * group's backend is created, so the other regions' servers need not be
 * reachable.
 *
 * Returns: (transfer full): a region named @group; %NULL with an error
 * naming the file, and the groups it has when @group is not one of them.
 */
DogpileRegion *
dogpile_config_load_region (const char *path, const char *group,
                            GError **error)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  DogpileRegion *region;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (group != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  if (!g_key_file_has_group (key_file, group))
    {
      g_auto (GStrv) groups = g_key_file_get_groups (key_file, NULL);
      g_autofree char *names = g_strjoinv (", ", groups);

      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "%s: no region [%s] (the file has: %s)", path, group,
                   groups[0] != NULL ? names : "no regions");
      return NULL;
    }
  region = region_from_group (key_file, group, error);
  if (region == NULL)
    g_prefix_error (error, "%s: ", path);
  return region;
}
