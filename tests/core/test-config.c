/* test-config.c: regions from configuration (spec items 21-22, RegionTest's
 * test_instance_from_dict / _from_config_string / datetime / invalid
 * expiration), INI files holding several regions, and Paste/Pyramid INIs
 * read under a key prefix, checked against Debian's Python
 * (config-peer.py: PasteDeploy's parser and configure_from_config).
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

static const DogpileArgumentSpec declared_arguments[] = {
  DOGPILE_ARGUMENT ("url", DOGPILE_ARGUMENT_STRING,
                    DOGPILE_ARGUMENT_FLAGS_NONE, NULL, "where"),
  DOGPILE_ARGUMENT_SPEC_END,
};

/* mock, with an argument table */
static const DogpileBackendDesc declared_desc = {
  .abi_version = DOGPILE_BACKEND_ABI_VERSION,
  .name = "mock.declared",
  .create = mock_create,
  .destroy = mock_destroy,
  .get = mock_get,
  .set = mock_set,
  .delete_key = mock_delete,
  .arguments = declared_arguments,
};

static void
setup (void)
{
  cr_assert (dogpile_registry_register_desc (dogpile_registry_get_default (),
                                             &mock_desc, NULL));
  cr_assert (dogpile_registry_register_desc (dogpile_registry_get_default (),
                                             &declared_desc, NULL));
}

TestSuite (config, .init = setup);

static void
ignore_warnings (const char *domain, GLogLevelFlags level, const char *message,
                 gpointer user_data)
{
}

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

/* --- Paste/Pyramid INIs: settings under a key prefix ------------------ */

#define PEER TEST_SOURCE_DIR "/config-peer.py"

/* A file in a directory of its own (so %(here)s is that directory). */
typedef struct {
  char *dir;
  char *path;
} PasteFile;

static PasteFile
paste_file (const char *contents)
{
  PasteFile f;

  f.dir = g_dir_make_tmp ("dogpile-paste-XXXXXX", NULL);
  cr_assert_not_null (f.dir);
  f.path = g_build_filename (f.dir, "development.ini", NULL);
  cr_assert (g_file_set_contents (f.path, contents, -1, NULL));
  return f;
}

static void
paste_file_remove (PasteFile *f)
{
  g_unlink (f->path);
  g_rmdir (f->dir);
  g_clear_pointer (&f->path, g_free);
  g_clear_pointer (&f->dir, g_free);
}

/* The JSON text of @value (its type shows: 5 vs 5.0 vs true vs null). */
static char *
json_of (GVariant *value)
{
  g_autoptr (GError) error = NULL;
  char *text = dogpile_json_dumps (value, DOGPILE_JSON_NONE, NULL, &error);

  cr_assert_not_null (text, "%s", error ? error->message : "");
  return text;
}

static int
compare_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* a{sv} of @table (key -> GVariant, or key -> string when @strings), keys
 * sorted as json.dumps(sort_keys=True) sorts them. */
static GVariant *
sorted_dict (GHashTable *table, gboolean strings)
{
  g_autofree gpointer *keys = NULL;
  GVariantBuilder builder;
  guint n;

  keys = g_hash_table_get_keys_as_array (table, &n);
  qsort (keys, n, sizeof *keys, compare_keys);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sv}"));
  for (guint i = 0; i < n; i++)
    {
      gpointer v = g_hash_table_lookup (table, keys[i]);

      g_variant_builder_add (&builder, "{sv}", (const char *) keys[i],
                             strings ? g_variant_new_string (v) : v);
    }
  return g_variant_builder_end (&builder);
}

/* The brief's own example, with the recording backend in redis's place. */
static const char paste_ini[]
    = "###\n"
      "# app configuration\n"
      "###\n"
      "[DEFAULT]\n"
      "cache_dir = %(here)s/cache\n"
      "\n"
      "[app:main]\n"
      "use = egg:myapp\n"
      "pyramid.includes =\n"
      "    pyramid_tm\n"
      "    pyramid_debugtoolbar\n"
      "; Paste's other comment mark\n"
      "cache.local.backend = mock\n"
      "cache.local.expiration_time = 3600\n"
      "cache.local.arguments.host = localhost\n"
      "cache.local.arguments.port: 6379\n"
      "cache.local.arguments.distributed_lock = true\n"
      "cache.local.arguments.redis_expiration_time = 7200\n"
      "cache.local.arguments.socket_timeout = 1.5\n"
      "cache.local.arguments.password = None\n"
      "cache.local.arguments.db = +0042\n"
      "cache.local.arguments.filename = %(cache_dir)s/local.dbm\n"
      "cache.local.arguments.ratio = 100%%\n"
      "cache.local.arguments.none_word = none\n"
      "cache.local.arguments.upper = FALSE\n"
      "cache.local.arguments.exponent = 1e5\n"
      "cache.local.arguments.trailing_dot = 5.\n"
      "cache.local.arguments.overflow = 1e400\n"
      "cache.local.arguments.inf_word = inf\n"
      "cache.local.arguments.big = 1180591620717411303424\n"
      "cache.local.arguments.arabic_digits = \xd9\xa1\xd9\xa2\xd9\xa3\n"
      "cache.local.arguments.spaced = \xc2\xa0 two  words \n"
      "cache.local.arguments.url = redis://localhost:6379/0\n"
      "cache.local.arguments.lines = first\n"
      "    second\n"
      "cache.other.backend = dogpile.cache.memory\n"
      "cache.other.expiration_time = 60\n"
      "\n"
      "[server:main]\n"
      "use = egg:waitress#main\n"
      "listen = localhost:6543\n";

Test (config, paste_ini_region_under_a_prefix)
{
  PasteFile f = paste_file (paste_ini);
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegion) region = dogpile_config_load_prefixed_region (
      f.path, "app:main", "cache.local.", &error);
  g_autofree char *filename = NULL;
  const char *password = "unset";
  gboolean lock = FALSE;
  gint64 port = 0, redis_exp = 0, db = 0;
  double timeout = 0;

  cr_assert_not_null (region, "%s", error ? error->message : "");
  cr_assert_str_eq (dogpile_region_get_name (region), "cache.local");
  cr_assert_str_eq (
      dogpile_backend_get_name (dogpile_region_get_backend (region, NULL)),
      "mock");
  cr_assert_eq (dogpile_region_get_expiration_time (region), 3600);
  /* every arguments.* key, and only those: cache.other.* and use stay
   * out */
  cr_assert_eq (g_hash_table_size (last_arguments), 20);
  cr_assert_str_eq (g_hash_table_lookup (last_arguments, "host"), "localhost");
  cr_assert (
      dogpile_arguments_get_int (last_arguments, "port", 0, &port, NULL));
  cr_assert_eq (port, 6379);
  cr_assert (dogpile_arguments_get_boolean (last_arguments, "distributed_lock",
                                            FALSE, &lock, NULL));
  cr_assert (lock);
  cr_assert (dogpile_arguments_get_int (
      last_arguments, "redis_expiration_time", 0, &redis_exp, NULL));
  cr_assert_eq (redis_exp, 7200);
  cr_assert (dogpile_arguments_get_double (last_arguments, "socket_timeout", 0,
                                           &timeout, NULL));
  cr_assert_eq (timeout, 1.5);
  cr_assert (dogpile_arguments_get_string (last_arguments, "password", NULL,
                                           &password, NULL));
  cr_assert_null (password, "None is not given");
  cr_assert (dogpile_arguments_get_int (last_arguments, "db", 0, &db, NULL));
  cr_assert_eq (db, 42);
  /* as str() of what Python's backend gets */
  cr_assert_str_eq (g_hash_table_lookup (last_arguments, "db"), "42");
  cr_assert_str_eq (g_hash_table_lookup (last_arguments, "upper"), "False");
  cr_assert_str_eq (g_hash_table_lookup (last_arguments, "exponent"),
                    "100000.0");
  cr_assert_str_eq (g_hash_table_lookup (last_arguments, "arabic_digits"),
                    "123");
  cr_assert_str_eq (g_hash_table_lookup (last_arguments, "spaced"),
                    "two  words");
  cr_assert_str_eq (g_hash_table_lookup (last_arguments, "none_word"), "none");
  cr_assert_str_eq (g_hash_table_lookup (last_arguments, "ratio"), "100%");
  cr_assert_str_eq (g_hash_table_lookup (last_arguments, "lines"),
                    "first\nsecond");
  filename = g_build_filename (f.dir, "cache", "local.dbm", NULL);
  cr_assert_str_eq (g_hash_table_lookup (last_arguments, "filename"),
                    filename);
  paste_file_remove (&f);
}

/* The same file through Python: PasteDeploy's parser, then
 * configure_from_config.  Settings, backend, expiration_time and
 * arguments compared as JSON text, so int, float, bool, None and str
 * must match as well as the values. */
Test (config, paste_ini_reads_as_python_reads_it)
{
  PasteFile f = paste_file (paste_ini);
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) settings = NULL;
  g_autoptr (GHashTable) coerced = NULL;
  g_autoptr (GHashTable) arguments = NULL;
  g_autoptr (DogpileRegion) region = NULL;
  g_autofree char *python = NULL;
  g_autofree char *c = NULL;
  GVariant *expiration;
  GHashTableIter iter;
  gpointer k, v;
  GVariantBuilder top;

  python_helper_need (PEER, "dogpile.cache");
  python = python_helper (PEER, "configure", f.path, "app:main",
                          "cache.local.", NULL);

  settings = dogpile_config_load_settings (f.path, "app:main", &error);
  cr_assert_not_null (settings, "%s", error ? error->message : "");
  coerced = dogpile_coerce_string_conf (settings, &error);
  cr_assert_not_null (coerced, "%s", error ? error->message : "");
  region = dogpile_config_load_prefixed_region (f.path, "app:main",
                                                "cache.local.", &error);
  cr_assert_not_null (region, "%s", error ? error->message : "");

  arguments = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_iter_init (&iter, coerced);
  while (g_hash_table_iter_next (&iter, &k, &v))
    if (g_str_has_prefix (k, "cache.local.arguments."))
      g_hash_table_insert (arguments,
                           (char *) k + strlen ("cache.local.arguments."), v);
  expiration = g_hash_table_lookup (coerced, "cache.local.expiration_time");
  cr_assert_eq (dogpile_region_get_expiration_time (region),
                g_variant_get_int64 (expiration));

  g_variant_builder_init (&top, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&top, "{sv}", "argument_strs",
                         sorted_dict (last_arguments, TRUE));
  g_variant_builder_add (&top, "{sv}", "arguments",
                         sorted_dict (arguments, FALSE));
  g_variant_builder_add (&top, "{sv}", "backend",
                         g_variant_new_string (dogpile_backend_get_name (
                             dogpile_region_get_backend (region, NULL))));
  g_variant_builder_add (&top, "{sv}", "expiration_time", expiration);
  g_variant_builder_add (&top, "{sv}", "settings",
                         sorted_dict (settings, TRUE));
  c = json_of (g_variant_builder_end (&top));
  cr_assert_str_eq (c, python);
  paste_file_remove (&f);
}

/* INI syntax corner by corner: C's settings are Python's, or both fail. */
Test (config, ini_sections_read_as_configparser_reads_them)
{
  static const char *const files[] = {
    "[s]\na = 1\nb: 2\nc=3\n d = continues c\n",
    "[s]\nkey =\n  one\n\n  two\n# a comment inside\n  three\n\nnext = x\n",
    "[DEFAULT]\nx = 1\n[s]\ny = %(x)s%%\n[DEFAULT]\nz = %(here)s\n",
    "[s]\na = %(b)s\nb = %(c)s!\nc = deep\n",
    "[a]b]\nk=v\n[s] trailing words\nk = v\n",
    "[s]\r\na = 1\r\n  more\r\nb = 2\r\n",
    "[s]\ra = 1\r  more\rb = 2\r",
    "[s]\na = 1\n\xe3\x80\x80"
    "continued\nb = \xc2\xa0x\xc2\xa0\n",
    "[s]\nkey with spaces = a = b : c\nurl: http://x:80/\n",
    "[s]\n  indented = 1\nnext = 2\n   cont\n",
    "[s]\na = 1\n  [t]\n",
    "[s]\n; c\n# c\n  ; c\na = x ; not a comment # nor this\n",
    "[s]\nA = 1\na = 2\n",
    "[s]\nhere = mine\nv = %(here)s\n",
    "[s]\na = 1\n\n\n   \n",
    "[s]\na = 1\n\tb = 2\n",
    "[s]\na = %(A)s\nA = up\n",
    "[DEFAULT]\nd = %(k)s!\n[s]\nk = v\n",
    "[s]\nempty =\nalso_empty:\n",
    /* each of these fails in Python */
    "a = 1\n[s]\n",
    "\xef\xbb\xbf[s]\na = 1\n",
    "[s]\na = 1\na = 2\n",
    "[s]\n[s]\n",
    "[s]\njunk\n",
    "[s]\n= x\n",
    "[s]\n[]\n",
    "[s]\na = %(missing)s\n",
    "[s]\na = 100%\n",
    "[s]\na = %(a)s\n",
    "[s]\na = %(b\n",
    "[s]\na = %(b)d\nb = 1\n",
    "[t]\na = 1\n",
    "[DEFAULT]\na = 1\n[DEFAULT]\na = 2\n[s]\n",
  };

  python_helper_need (PEER, "dogpile.cache");
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      PasteFile f = paste_file (files[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (GHashTable) settings
          = dogpile_config_load_settings (f.path, "s", &error);
      g_autofree char *python
          = python_helper (PEER, "settings", f.path, "s", NULL);

      if (g_str_has_prefix (python, "{\"error\""))
        {
          cr_assert_null (settings, "file %" G_GSIZE_FORMAT ": Python: %s", i,
                          python);
          assert_error (error, DOGPILE_ERROR_VALIDATION);
          cr_assert (g_str_has_prefix (error->message, f.path), "%s",
                     error->message);
        }
      else
        {
          g_autofree char *c = NULL;

          cr_assert_not_null (settings, "file %" G_GSIZE_FORMAT ": %s", i,
                              error ? error->message : "");
          c = json_of (sorted_dict (settings, TRUE));
          cr_assert_str_eq (c, python, "file %" G_GSIZE_FORMAT, i);
        }
      paste_file_remove (&f);
    }
}

Test (config, paste_ini_errors_name_file_section_prefix_and_line)
{
  PasteFile f = paste_file (paste_ini);
  PasteFile bad = paste_file ("[app:main]\n"
                              "cache.local.backend = mock\n"
                              "cache.local.backend = twice\n");
  PasteFile ref = paste_file ("[app:main]\n"
                              "cache.local.backend = mock\n"
                              "cache.local.arguments.path = %(nowhere)s/x\n");
  g_autoptr (GError) section = NULL;
  g_autoptr (GError) prefix = NULL;
  g_autoptr (GError) twice = NULL;
  g_autoptr (GError) unknown = NULL;
  g_autoptr (GError) missing = NULL;
  g_autofree char *want = NULL;

  cr_assert_null (dogpile_config_load_prefixed_region (
      f.path, "app:other", "cache.local.", &section));
  assert_error (section, DOGPILE_ERROR_VALIDATION);
  want = g_strdup_printf ("%s: no section [app:other] (the file has: "
                          "app:main, server:main)",
                          f.path);
  cr_assert_str_eq (section->message, want);
  g_clear_pointer (&want, g_free);

  cr_assert_null (dogpile_config_load_prefixed_region (
      f.path, "app:main", "cache.remote.", &prefix));
  assert_error (prefix, DOGPILE_ERROR_VALIDATION);
  want = g_strdup_printf (
      "%s: [app:main] Configuration key 'cache.remote.backend' is missing: "
      "it names the backend, e.g. dogpile.cache.memory; no key starts with "
      "'cache.remote.' (keys that name one: cache.local.backend, "
      "cache.other.backend)",
      f.path);
  cr_assert_str_eq (prefix->message, want);
  g_clear_pointer (&want, g_free);

  cr_assert_null (dogpile_config_load_prefixed_region (
      bad.path, "app:main", "cache.local.", &twice));
  want = g_strdup_printf ("%s:3: key 'cache.local.backend' appears twice in "
                          "[app:main] (first on line 2)",
                          bad.path);
  cr_assert_str_eq (twice->message, want);
  g_clear_pointer (&want, g_free);

  cr_assert_null (dogpile_config_load_prefixed_region (
      ref.path, "app:main", "cache.local.", &unknown));
  want = g_strdup_printf ("%s: [app:main] key 'cache.local.arguments.path': "
                          "'%%(nowhere)s' names no key of [app:main] or "
                          "[DEFAULT]",
                          ref.path);
  cr_assert_str_eq (unknown->message, want);
  g_clear_pointer (&want, g_free);

  cr_assert_null (dogpile_config_load_prefixed_region (
      "/nonexistent/dogpile.ini", "app:main", "cache.local.", &missing));
  cr_assert (g_error_matches (missing, G_FILE_ERROR, G_FILE_ERROR_NOENT));
  cr_assert (strstr (missing->message, "/nonexistent/dogpile.ini") != NULL);

  paste_file_remove (&f);
  paste_file_remove (&bad);
  paste_file_remove (&ref);
}

/* coerce_string_conf's value for each text, as JSON (so its type). */
Test (config, coerce_string_as_coerce_string_conf)
{
  static const char *const cases[][2] = {
    { " 3600 ", "3600" },
    { "+0042", "42" },
    { "-0", "0" },
    { "-17", "-17" },
    { "1180591620717411303424", "1180591620717411303424" },
    { "1.5", "1.5" },
    { "5.", "5.0" },
    { ".5", "0.5" },
    { "1e5", "100000.0" },
    { "-3.14e-10", "-3.14e-10" },
    { "1e400", "Infinity" },
    { "TRUE", "true" },
    { "false", "false" },
    { "None", "null" },
    { "none", "\"none\"" },
    { "inf", "\"inf\"" },
    { "nan", "\"nan\"" },
    { "1_000", "\"1_000\"" },
    { "0x10", "\"0x10\"" },
    { "1e", "\"1e\"" },
    { "", "\"\"" },
    { "yes", "\"yes\"" },
    { "\xc2\xa0 two words\xe3\x80\x80", "\"two words\"" },
    { "\xd9\xa1\xd9\xa2\xd9\xa3", "123" },
    { "\xd9\xa3.\xd9\xa5", "3.5" },
  };
  g_autofree char *digits = g_strnfill (4301, '1');
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) too_long = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GVariant) value = dogpile_coerce_string (cases[i][0], NULL);
      g_autofree char *json = NULL;

      cr_assert_not_null (value, "%s", cases[i][0]);
      cr_assert_not (g_variant_is_floating (value));
      json = json_of (value);
      cr_assert_str_eq (json, cases[i][1], "'%s'", cases[i][0]);
    }
  too_long = dogpile_coerce_string (digits, &error);
  cr_assert_null (too_long);
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, "4300 digits") != NULL, "%s",
             error->message);
}

/* What Python keeps of expiration_time, replace_existing_backend and wrap
 * once coerced: True/False are 1 and 0 seconds, numbers and None wrap
 * nothing.  1e400, inf to Python's float(), is refused: a duration is
 * finite however it is given. */
Test (config, coerced_values_as_configure_takes_them)
{
  static const char *const expirations[][2] = {
    { "true", "1" }, { "False", "0" }, { "None", "-1" },
    { "-1", "-1" },  { "7.5", "7.5" }, { "+60", "60" },
  };
  static const char *const wraps[] = { "None", "5", "true", "", "1.5" };
  g_autoptr (GHashTable) replace
      = arguments_of ("r.backend", "dogpile.cache.memory",
                      "r.replace_existing_backend", "2", NULL);
  g_autoptr (GHashTable) keep
      = arguments_of ("r.backend", "dogpile.cache.null",
                      "r.replace_existing_backend", "0.0", NULL);
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (expirations); i++)
    {
      g_autoptr (GHashTable) config = arguments_of (
          "r.backend", "mock", "r.expiration_time", expirations[i][0], NULL);
      g_autoptr (DogpileRegion) r = dogpile_region_new (NULL);

      cr_assert (dogpile_region_configure_from_config (r, config, "r.", NULL),
                 "%s", expirations[i][0]);
      cr_assert_eq (dogpile_region_get_expiration_time (r),
                    g_ascii_strtod (expirations[i][1], NULL), "%s",
                    expirations[i][0]);
    }
  {
    g_autoptr (GHashTable) config = arguments_of (
        "r.backend", "mock", "r.expiration_time", "1e400", NULL);
    g_autoptr (DogpileRegion) r = dogpile_region_new (NULL);

    cr_assert_not (
        dogpile_region_configure_from_config (r, config, "r.", &error));
    cr_assert_str_eq (error->message,
                      "Configuration key 'r.expiration_time': "
                      "expiration_time must be a finite number of seconds, "
                      "not inf");
    g_clear_error (&error);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (wraps); i++)
    {
      g_autoptr (GHashTable) config = arguments_of (
          "r.backend", "dogpile.cache.memory", "r.wrap", wraps[i], NULL);
      g_autoptr (DogpileRegion) r = dogpile_region_new (NULL);

      cr_assert (dogpile_region_configure_from_config (r, config, "r.", NULL),
                 "wrap '%s'", wraps[i]);
      cr_assert_str_eq (
          dogpile_backend_get_name (dogpile_region_get_backend (r, NULL)),
          "dogpile.cache.memory", "wrap '%s'", wraps[i]);
    }

  cr_assert (
      dogpile_region_configure_from_config (region, replace, "r.", NULL));
  /* 2 is true: replaced */
  cr_assert (
      dogpile_region_configure_from_config (region, replace, "r.", &error),
      "%s", error ? error->message : "");
  /* 0.0 is false: not replaced */
  cr_assert_not (
      dogpile_region_configure_from_config (region, keep, "r.", &error));
  assert_error (error, DOGPILE_ERROR_REGION_ALREADY_CONFIGURED);
}

Test (config, key_file_group_under_a_prefix)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (DogpileRegion) region = dogpile_region_new ("local");
  g_autoptr (DogpileRegion) other = dogpile_region_new ("other");
  g_autoptr (GError) error = NULL;

  cr_assert (
      g_key_file_load_from_data (key_file,
                                 "[app:main]\n"
                                 "use = egg:myapp\n"
                                 "cache.local.backend = mock\n"
                                 "cache.local.expiration_time = 90\n"
                                 "cache.local.arguments.url = 127.0.0.1\n"
                                 "cache.local.arguments.flag = TRUE\n"
                                 "cache.other.backend = dogpile.cache.nope\n",
                                 -1, G_KEY_FILE_NONE, NULL));
  cr_assert (dogpile_region_configure_from_key_file (
                 region, key_file, "app:main", "cache.local.", &error),
             "%s", error ? error->message : "");
  cr_assert_eq (dogpile_region_get_expiration_time (region), 90);
  cr_assert_eq (g_hash_table_size (last_arguments), 2);
  cr_assert_str_eq (g_hash_table_lookup (last_arguments, "url"), "127.0.0.1");
  cr_assert_str_eq (g_hash_table_lookup (last_arguments, "flag"), "True");

  cr_assert_not (dogpile_region_configure_from_key_file (
      other, key_file, "app:other", "cache.local.", &error));
  cr_assert_str_eq (error->message,
                    "no group [app:other] (the key file has: app:main)");
  g_clear_error (&error);
  cr_assert_not (dogpile_region_configure_from_key_file (
      other, key_file, "app:main", "cache.other.", &error));
  assert_error (error, DOGPILE_ERROR_PLUGIN_NOT_FOUND);
  cr_assert (g_str_has_prefix (error->message, "[app:main] "), "%s",
             error->message);
  cr_assert_not (dogpile_region_is_configured (other));
}

/* Bytes that are not UTF-8 anywhere in a file of regions: an error with
 * the line, itself UTF-8 (an invalid group name reached the message as
 * raw bytes). */
Test (config, a_file_that_is_not_utf8_says_where)
{
  static const char *const files[] = {
    "[cache.\xffx]\nbackend = dogpile.cache.memory\n",
    "[cache.x]\nbackend = dogpile.cache.memory\nexpiration_time = 1\xfe\n",
  };
  static const int lines[] = { 1, 3 };

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = write_file (files[i]);
      g_autofree char *want
          = g_strdup_printf ("%s:%d: not UTF-8 text", path, lines[i]);
      g_autoptr (GError) error = NULL, all_error = NULL;
      g_autoptr (GHashTable) all = NULL;

      cr_assert_null (dogpile_config_load_region (path, "cache.x", &error));
      cr_assert_str_eq (error->message, want);
      cr_assert (g_utf8_validate (error->message, -1, NULL));
      all = dogpile_config_load_regions (path, "cache.", &all_error);
      cr_assert_null (all);
      cr_assert_str_eq (all_error->message, want);
      g_unlink (path);
    }
}

/* No silent typos: a key under the prefix that is not a region's is an
 * error with the nearest region key; other regions' keys under a longer
 * prefix are not. */
Test (config, unknown_keys_under_the_prefix_are_named)
{
  static const char *const tail
      = "; a region's keys are backend, expiration_time, arguments.NAME, "
        "wrap, wrap.PROXY.NAME, replace_existing_backend, serializer and "
        "strict_arguments";
  struct {
    const char *key;
    const char *message;
  } cases[] = {
    { "cache.local.expiraton_time",
      "Configuration key 'cache.local.expiraton_time' is not a region "
      "setting (did you mean 'cache.local.expiration_time'?)" },
    { "cache.local.argument.port",
      "Configuration key 'cache.local.argument.port' is not a region "
      "setting (did you mean 'cache.local.arguments.port'?)" },
    { "cache.local.colour",
      "Configuration key 'cache.local.colour' is not a region setting" },
    { "cache.local.arguments.",
      "Configuration key 'cache.local.arguments.' is not a region "
      "setting" },
    { "cache.local.wrapp.x",
      "Configuration key 'cache.local.wrapp.x' is not a region setting (did "
      "you mean 'cache.local.wrap.x'?)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GHashTable) config = arguments_of (
          "cache.local.backend", "mock", cases[i].key, "1", NULL);
      g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
      g_autoptr (GError) error = NULL;
      g_autofree char *expected = g_strconcat (cases[i].message, tail, NULL);

      cr_assert_not (dogpile_region_configure_from_config (
          region, config, "cache.local.", &error));
      assert_error (error, DOGPILE_ERROR_VALIDATION);
      cr_assert_str_eq (error->message, expected);
      cr_assert_not (dogpile_region_is_configured (region));
    }
}

Test (config, other_regions_and_wrapped_proxies_keys_are_not_typos)
{
  g_autoptr (GHashTable) config = arguments_of (
      "cache.backend", "mock", "cache.local.backend", "dogpile.cache.memory",
      "cache.local.arguments.x", "1", "cache.wrap", "dogpile.proxies.faults",
      "cache.wrap.dogpile.proxies.faults.fail_nth", "0", "other", "x", NULL);
  g_autoptr (GHashTable) unlisted
      = arguments_of ("cache.backend", "mock",
                      "cache.wrap.dogpile.proxies.stats.x", "1", NULL);
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (DogpileRegion) second = dogpile_region_new (NULL);
  g_autoptr (GError) error = NULL;

  cr_assert (
      dogpile_region_configure_from_config (region, config, "cache.", &error),
      "%s", error ? error->message : "");
  cr_assert_not (dogpile_region_configure_from_config (second, unlisted,
                                                       "cache.", &error));
  cr_assert_str_eq (error->message,
                    "Configuration key 'cache.wrap.dogpile.proxies.stats.x' "
                    "gives an argument to a proxy that 'cache.wrap' does not "
                    "list: wrap.PROXY.NAME, with PROXY one of the wrapped "
                    "proxies");
}

/* A regions file: a typo names the file, the group and the nearest key;
 * what GKeyFile would take silently (a key or a group given twice) and
 * its syntax errors come with their lines. */
Test (config, region_files_name_file_group_key_and_lines)
{
  struct {
    const char *contents;
    const char *message; /* after "PATH" */
  } cases[] = {
    { "[cache.local]\nbackend = mock\nexpiraton_time = 60\n",
      ": [cache.local] Configuration key 'expiraton_time' is not a region "
      "setting (did you mean 'expiration_time'?); a region's keys are "
      "backend, expiration_time, arguments.NAME, wrap, wrap.PROXY.NAME, "
      "replace_existing_backend, serializer and strict_arguments" },
    { "[cache.local]\nbackend = mock\n# a comment\n  backend = other\n",
      ":4: key 'backend' appears twice in [cache.local] (first on line 2)" },
    { "[a]\nbackend = mock\n[b]\nbackend = mock\n[a]\nwrap = x\n",
      ":5: group [a] appears twice (first on line 1)" },
    { "[cache.local]\nbackend = mock\nexpiration_time 60\n",
      ":3: 'expiration_time 60' is neither a [group] nor a key = value "
      "line" },
    { "backend = mock\n[cache.local]\n",
      ":1: 'backend = mock' comes before any [group]" },
    { "\n[cache.local\nbackend = mock\n",
      ":2: '[cache.local' is not a [group] line" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_file (cases[i].contents);
      g_autofree char *expected = g_strconcat (path, cases[i].message, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (GHashTable) regions
          = dogpile_config_load_regions (path, NULL, &error);

      cr_assert_null (regions, "case %u", i);
      assert_error (error, DOGPILE_ERROR_VALIDATION);
      cr_assert_str_eq (error->message, expected, "case %u", i);
      g_unlink (path);
    }
}

/* An empty prefix over a Paste section: the application's own keys are
 * not the region's typos (Python reads the same section). */
Test (config, paste_section_with_an_empty_prefix)
{
  PasteFile f = paste_file ("[app:main]\n"
                            "use = egg:myapp\n"
                            "backend = mock\n"
                            "expiration_time = 30\n"
                            "pyramid.includes = pyramid_tm\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegion) region
      = dogpile_config_load_prefixed_region (f.path, "app:main", "", &error);

  cr_assert_not_null (region, "%s", error ? error->message : "");
  cr_assert_eq (dogpile_region_get_expiration_time (region), 30);
  paste_file_remove (&f);
}

/* strict_arguments: an argument the backend does not declare fails the
 * configure instead of being a warning; a truth value as
 * replace_existing_backend. */
Test (config, strict_arguments_key)
{
  struct {
    const char *strict;
    gboolean ok;
  } cases[] = { { NULL, TRUE },
                { "false", TRUE },
                { "true", FALSE },
                { "1", FALSE },
                { "0", TRUE } };

  g_log_set_handler ("dogpile", G_LOG_LEVEL_WARNING, ignore_warnings, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GHashTable) config
          = arguments_of ("c.backend", "mock.declared", "c.arguments.url", "x",
                          "c.arguments.ulr", "y", NULL);
      g_autoptr (DogpileRegion) region = dogpile_region_new ("strict");
      g_autoptr (GError) error = NULL;

      if (cases[i].strict != NULL)
        g_hash_table_insert (config, g_strdup ("c.strict_arguments"),
                             g_strdup (cases[i].strict));
      cr_assert_eq (
          dogpile_region_configure_from_config (region, config, "c.", &error),
          cases[i].ok, "%s", cases[i].strict);
      if (!cases[i].ok)
        cr_assert_str_eq (error->message,
                          "mock.declared takes no argument 'ulr' (did you "
                          "mean 'url'?); `dogpile-plugins mock.declared` "
                          "lists the arguments it takes");
    }
  {
    g_autoptr (GHashTable) config = arguments_of (
        "c.backend", "mock.declared", "c.strict_arguments", "yes", NULL);
    g_autoptr (DogpileRegion) region = dogpile_region_new ("strict");
    g_autoptr (GError) error = NULL;

    cr_assert (
        !dogpile_region_configure_from_config (region, config, "c.", &error));
    cr_assert (strstr (error->message, "c.strict_arguments"), "%s",
               error->message);
  }
}

/* The loaders' flags make a file's region strict whatever it says, with
 * no warning first (dogpile-cache --strict --config). */
Test (config, load_region_full_strict)
{
  g_autofree char *regions
      = write_file ("[c]\nbackend = mock.declared\narguments.ulr = y\n");
  g_autofree char *paste
      = write_file ("[app:main]\ncache.c.backend = mock.declared\n"
                    "cache.c.arguments.ulr = y\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) prefixed_error = NULL;
  g_autoptr (DogpileRegion) lenient = NULL;
  DogpileRegion *strict;
  const char *typo = "mock.declared takes no argument 'ulr' (did you mean "
                     "'url'?); `dogpile-plugins mock.declared` lists the "
                     "arguments it takes";
  g_autofree char *expected = g_strdup_printf ("%s: [c] %s", regions, typo);
  g_autofree char *expected_prefixed
      = g_strdup_printf ("%s: [app:main] %s", paste, typo);

  g_log_set_handler ("dogpile", G_LOG_LEVEL_WARNING, ignore_warnings, NULL);
  strict = dogpile_config_load_region_full (
      regions, "c", DOGPILE_CONFIGURE_STRICT_ARGUMENTS, &error);
  cr_assert_null (strict);
  cr_assert (g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION));
  cr_assert_str_eq (error->message, expected);
  strict = dogpile_config_load_prefixed_region_full (
      paste, "app:main", "cache.c.", DOGPILE_CONFIGURE_STRICT_ARGUMENTS,
      &prefixed_error);
  cr_assert_null (strict);
  cr_assert_str_eq (prefixed_error->message, expected_prefixed);
  /* Without the flag the same file loads (with a warning). */
  lenient = dogpile_config_load_region_full (regions, "c",
                                             DOGPILE_CONFIGURE_NONE, NULL);
  cr_assert_not_null (lenient);
  g_unlink (regions);
  g_unlink (paste);
}
