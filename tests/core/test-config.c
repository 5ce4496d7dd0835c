/* test-config.c: regions from configuration (spec items 21-22, RegionTest's
 * test_instance_from_dict / _from_config_string / datetime / invalid
 * expiration) and INI files holding several regions.
 *
 * SPDX-License-Identifier: MIT
 */
#include <glib/gstdio.h>

#include "test-util.h"

/* Records the arguments it is created with, like the Python MockBackend. */
static GHashTable *last_arguments;

struct DogpileBackendImpl {
  char unused;
};

static DogpileBackendImpl *
mock_create (GHashTable *arguments, GError **error)
{
  GHashTableIter iter;
  gpointer k, v;

  g_clear_pointer (&last_arguments, g_hash_table_unref);
  last_arguments
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (arguments != NULL)
    {
      g_hash_table_iter_init (&iter, arguments);
      while (g_hash_table_iter_next (&iter, &k, &v))
        g_hash_table_insert (last_arguments, g_strdup (k), g_strdup (v));
    }
  return g_new0 (DogpileBackendImpl, 1);
}

static void
mock_destroy (DogpileBackendImpl *self)
{
  g_free (self);
}

static gboolean
mock_get (DogpileBackendImpl *self, const char *key, GBytes **out,
          GError **error)
{
  return TRUE;
}

static gboolean
mock_set (DogpileBackendImpl *self, const char *key, GBytes *v, GError **e)
{
  return TRUE;
}

static gboolean
mock_delete (DogpileBackendImpl *self, const char *key, GError **error)
{
  return TRUE;
}

static const DogpileBackendDesc mock_desc = {
  .abi_version = DOGPILE_BACKEND_ABI_VERSION,
  .name = "mock",
  .create = mock_create,
  .destroy = mock_destroy,
  .get = mock_get,
  .set = mock_set,
  .delete_key = mock_delete,
};

static void
setup (void)
{
  cr_assert (dogpile_registry_register_desc (dogpile_registry_get_default (),
                                             &mock_desc, NULL));
}

TestSuite (config, .init = setup);

/* test_instance_from_dict */
Test (config, instance_from_dict)
{
  g_autoptr (GHashTable) config = arguments_of (
      "cache.example.backend", "mock", "cache.example.expiration_time", "600",
      "cache.example.arguments.url", "127.0.0.1", "cache.other.backend",
      "dogpile.cache.null", NULL);
  g_autoptr (DogpileRegion) region = dogpile_region_new ("example");
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_configure_from_config (region, config,
                                                   "cache.example.", &error),
             "%s", error ? error->message : "");
  cr_assert_eq (dogpile_region_get_expiration_time (region), 600);
  cr_assert_str_eq (
      dogpile_backend_get_name (dogpile_region_get_backend (region, NULL)),
      "mock");
  cr_assert_eq (g_hash_table_size (last_arguments), 1);
  cr_assert_str_eq (g_hash_table_lookup (last_arguments, "url"), "127.0.0.1");
}

/* test_instance_from_config_string: values are strings, coerced where
 * they are read ("false" is a boolean to the backend that reads it). */
Test (config, instance_from_config_string)
{
  g_autoptr (GHashTable) config = arguments_of (
      "cache.example.backend", " mock ", "cache.example.expiration_time",
      " 600 ", "cache.example.arguments.url", "127.0.0.1",
      "cache.example.arguments.dogpile_lockfile", "false",
      "cache.example.arguments.xyz", "None", NULL);
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  gboolean lockfile = TRUE;
  const char *xyz = "unset";

  cr_assert (dogpile_region_configure_from_config (region, config,
                                                   "cache.example.", NULL));
  cr_assert_eq (dogpile_region_get_expiration_time (region), 600);
  cr_assert (dogpile_arguments_get_boolean (last_arguments, "dogpile_lockfile",
                                            TRUE, &lockfile, NULL));
  cr_assert_not (lockfile);
  cr_assert (
      dogpile_arguments_get_string (last_arguments, "xyz", NULL, &xyz, NULL));
  cr_assert_null (xyz, "'None' reads as not given");
}

/* test_datetime_expiration_time: timedelta(days=1, hours=8) */
Test (config, duration_expiration_times)
{
  const char *forms[][2] = {
    { "1 day, 8:00:00", "115200" },
    { "32h", "115200" },
    { "1d 8h", "115200" },
    { "none", "-1" },
    { "0.5", "0.5" },
    { "250ms", "0.25" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      g_autoptr (GHashTable) config = arguments_of (
          "r.backend", "mock", "r.expiration_time", forms[i][0], NULL);
      g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);

      cr_assert (
          dogpile_region_configure_from_config (region, config, "r.", NULL),
          "%s", forms[i][0]);
      cr_assert_float_eq (dogpile_region_get_expiration_time (region),
                          g_ascii_strtod (forms[i][1], NULL), 1e-9, "%s",
                          forms[i][0]);
    }
}

/* test_reject_invalid_expiration_time */
Test (config, reject_invalid_expiration_time)
{
  g_autoptr (GHashTable) config = arguments_of (
      "r.backend", "mock", "r.expiration_time", "one hour", NULL);
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (GError) error = NULL;

  cr_assert_not (
      dogpile_region_configure_from_config (region, config, "r.", &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, "'r.expiration_time'") != NULL);
  cr_assert (
      strstr (error->message, "expiration_time is not a number or timedelta.")
          != NULL,
      "%s", error->message);
  cr_assert_not (dogpile_region_is_configured (region));
}

Test (config, missing_backend_key_is_named)
{
  g_autoptr (GHashTable) config
      = arguments_of ("cache.x.expiration_time", "60", NULL);
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (GError) error = NULL;

  cr_assert_not (dogpile_region_configure_from_config (region, config,
                                                       "cache.x.", &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, "'cache.x.backend'") != NULL, "%s",
             error->message);
}

Test (config, replace_existing_backend_and_bad_booleans)
{
  g_autoptr (GHashTable) first = arguments_of ("r.backend", "mock", NULL);
  g_autoptr (GHashTable) again
      = arguments_of ("r.backend", "dogpile.cache.memory", NULL);
  g_autoptr (GHashTable) replace
      = arguments_of ("r.backend", "dogpile.cache.memory",
                      "r.replace_existing_backend", "true", NULL);
  g_autoptr (GHashTable) bad = arguments_of (
      "r.backend", "mock", "r.replace_existing_backend", "perhaps", NULL);
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_configure_from_config (region, first, "r.", NULL));
  cr_assert_not (
      dogpile_region_configure_from_config (region, again, "r.", &error));
  assert_error (error, DOGPILE_ERROR_REGION_ALREADY_CONFIGURED);
  g_clear_error (&error);
  cr_assert (
      dogpile_region_configure_from_config (region, replace, "r.", NULL));
  cr_assert_str_eq (dogpile_backend_get_name (
                        dogpile_region_get_actual_backend (region, NULL)),
                    "dogpile.cache.memory");
  cr_assert_not (
      dogpile_region_configure_from_config (region, bad, "r.", &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, "r.replace_existing_backend") != NULL);
}

Test (config, wrap_names_proxies_outermost_first_with_arguments)
{
  g_autoptr (GHashTable) config
      = arguments_of ("r.backend", "dogpile.cache.memory", "r.wrap",
                      "dogpile.proxies.stats, dogpile.proxies.faults",
                      "r.wrap.dogpile.proxies.faults.fail_nth", "2", NULL);
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (GBytes) value = bytes_of ("v");
  g_autoptr (GError) error = NULL;
  DogpileBackend *head;
  DogpileStats stats;

  cr_assert (
      dogpile_region_configure_from_config (region, config, "r.", &error),
      "%s", error ? error->message : "");
  head = dogpile_region_get_backend (region, NULL);
  cr_assert_str_eq (dogpile_backend_get_name (head), "dogpile.proxies.stats");
  cr_assert_str_eq (dogpile_backend_get_name (dogpile_backend_get_next (head)),
                    "dogpile.proxies.faults");
  cr_assert_str_eq (dogpile_backend_get_name (
                        dogpile_region_get_actual_backend (region, NULL)),
                    "dogpile.cache.memory");
  cr_assert (dogpile_region_set (region, "a", value, NULL));
  cr_assert_not (dogpile_region_set (region, "b", value, &error));
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (dogpile_region_get_stats (region, &stats, NULL));
  cr_assert_eq (stats.sets, 1);
  cr_assert_eq (stats.errors, 1);
}

Test (config, unknown_proxy_is_named)
{
  g_autoptr (GHashTable) config = arguments_of (
      "r.backend", "dogpile.cache.memory", "r.wrap", "no.such.proxy", NULL);
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (GError) error = NULL;

  cr_assert_not (
      dogpile_region_configure_from_config (region, config, "r.", &error));
  assert_error (error, DOGPILE_ERROR_PLUGIN_NOT_FOUND);
  cr_assert (strstr (error->message, "'r.wrap'") != NULL);
  cr_assert (strstr (error->message, "no.such.proxy") != NULL);
  cr_assert_not (dogpile_region_is_configured (region));
}

static char *
write_file (const char *contents)
{
  char *path = NULL;
  int fd = g_file_open_tmp ("dogpile-config-XXXXXX.ini", &path, NULL);

  cr_assert (fd >= 0);
  close (fd);
  cr_assert (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

Test (config, ini_file_with_several_regions)
{
  g_autofree char *path = write_file ("# two regions and something else\n"
                                      "[cache.local]\n"
                                      "backend = dogpile.cache.memory\n"
                                      "expiration_time = 7200\n"
                                      "arguments.cache_dict = sessions\n"
                                      "wrap = dogpile.proxies.stats\n"
                                      "\n"
                                      "[cache.off]\n"
                                      "backend = dogpile.cache.null\n"
                                      "expiration_time = none\n"
                                      "\n"
                                      "[logging]\n"
                                      "level = debug\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) regions
      = dogpile_config_load_regions (path, "cache.", &error);
  DogpileRegion *local, *off;

  cr_assert_not_null (regions, "%s", error ? error->message : "");
  cr_assert_eq (g_hash_table_size (regions), 2);
  local = g_hash_table_lookup (regions, "cache.local");
  off = g_hash_table_lookup (regions, "cache.off");
  cr_assert_str_eq (dogpile_region_get_name (local), "cache.local");
  cr_assert_eq (dogpile_region_get_expiration_time (local), 7200);
  cr_assert_eq (dogpile_region_get_expiration_time (off),
                DOGPILE_EXPIRATION_NONE);
  cr_assert_str_eq (
      dogpile_backend_get_name (dogpile_region_get_backend (local, NULL)),
      "dogpile.proxies.stats");
  cr_assert_str_eq (
      dogpile_backend_get_name (dogpile_region_get_backend (off, NULL)),
      "dogpile.cache.null");
  g_unlink (path);
}

Test (config, ini_file_errors_name_the_group)
{
  g_autofree char *path = write_file ("[cache.broken]\n"
                                      "expiration_time = 60\n");
  g_autofree char *garbled = write_file ("[cache.x\nbackend\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (GHashTable) regions
      = dogpile_config_load_regions (path, NULL, &error);
  g_autoptr (GHashTable) none
      = dogpile_config_load_regions (garbled, NULL, &parse_error);

  cr_assert_null (regions);
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (g_str_has_prefix (error->message, path), "%s", error->message);
  cr_assert (strstr (error->message, "[cache.broken]") != NULL);
  cr_assert (strstr (error->message, "'backend'") != NULL);
  cr_assert_null (none);
  cr_assert (g_str_has_prefix (parse_error->message, garbled));
  g_unlink (path);
  g_unlink (garbled);
}

Test (config, one_region_from_a_file_of_several)
{
  g_autofree char *path = write_file ("[cache.local]\n"
                                      "backend = dogpile.cache.memory\n"
                                      "expiration_time = 90\n"
                                      "\n"
                                      "[cache.unreachable]\n"
                                      "backend = dogpile.cache.nope\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) missing = NULL;
  g_autoptr (DogpileRegion) local
      = dogpile_config_load_region (path, "cache.local", &error);
  g_autoptr (DogpileRegion) other
      = dogpile_config_load_region (path, "cache.other", &missing);

  /* the broken group is never configured when another one is asked for */
  cr_assert_not_null (local, "%s", error ? error->message : "");
  cr_assert_str_eq (dogpile_region_get_name (local), "cache.local");
  cr_assert_eq (dogpile_region_get_expiration_time (local), 90);
  cr_assert_null (other);
  assert_error (missing, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (missing->message,
                     "no region [cache.other] (the file has: cache.local, "
                     "cache.unreachable)")
                 != NULL,
             "%s", missing->message);
  g_unlink (path);
}

/* <prefix>serializer, from a map and from an INI region. */
Test (config, serializer_key)
{
  g_autoptr (GHashTable) config = arguments_of (
      "cache.a.backend", "mock", "cache.a.serializer", " pickle ",
      "cache.b.backend", "mock", "cache.b.serializer", "yaml", NULL);
  g_autoptr (DogpileRegion) a = dogpile_region_new ("a");
  g_autoptr (DogpileRegion) b = dogpile_region_new ("b");
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_file ("[cache.json]\n"
                                      "backend = dogpile.cache.memory\n"
                                      "serializer = json\n");
  g_autoptr (DogpileRegion) from_file = NULL;

  cr_assert (
      dogpile_region_configure_from_config (a, config, "cache.a.", &error),
      "%s", error ? error->message : "");
  cr_assert_str_eq (dogpile_region_get_serializer_name (a), "pickle");
  cr_assert_not (
      dogpile_region_configure_from_config (b, config, "cache.b.", &error));
  cr_assert_str_eq (error->message,
                    "Configuration key 'cache.b.serializer': Unknown "
                    "serializer 'yaml': use raw, json or pickle");
  g_clear_error (&error);
  /* a configured region keeps its serializer: the same name again is
   * fine, another is an error */
  g_hash_table_insert (config, g_strdup ("cache.a.replace_existing_backend"),
                       g_strdup ("true"));
  cr_assert (
      dogpile_region_configure_from_config (a, config, "cache.a.", &error),
      "%s", error ? error->message : "");
  g_hash_table_insert (config, g_strdup ("cache.a.serializer"),
                       g_strdup ("json"));
  cr_assert_not (
      dogpile_region_configure_from_config (a, config, "cache.a.", &error));
  cr_assert (strstr (error->message, "stays as it is ('pickle')") != NULL,
             "%s", error->message);
  g_clear_error (&error);

  from_file = dogpile_config_load_region (path, "cache.json", &error);
  cr_assert_not_null (from_file, "%s", error ? error->message : "");
  cr_assert_str_eq (dogpile_region_get_serializer_name (from_file), "json");
  g_unlink (path);
}
