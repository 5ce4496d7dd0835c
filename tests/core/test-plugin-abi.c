/* test-plugin-abi.c: the descriptor layouts (backend version 3, proxy 1)
 * (backend and proxy) and the caller-allocated structs, pinned.  If one of
 * these fails, a member was moved or resized: that breaks every plugin
 * built before, so append instead (see dogpile-plugin.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <stddef.h>

#include "test-util.h"

#if defined(__x86_64__) || defined(__aarch64__)
#define P 8
static_assert (offsetof (DogpileBackendDesc, abi_version) == 0, "abi");
static_assert (offsetof (DogpileBackendDesc, name) == 1 * P, "name");
static_assert (offsetof (DogpileBackendDesc, description) == 2 * P, "desc");
static_assert (offsetof (DogpileBackendDesc, version) == 3 * P, "version");
static_assert (offsetof (DogpileBackendDesc, create) == 4 * P, "create");
static_assert (offsetof (DogpileBackendDesc, destroy) == 5 * P, "destroy");
static_assert (offsetof (DogpileBackendDesc, get) == 6 * P, "get");
static_assert (offsetof (DogpileBackendDesc, set) == 7 * P, "set");
static_assert (offsetof (DogpileBackendDesc, delete_key) == 8 * P, "delete");
static_assert (offsetof (DogpileBackendDesc, delete) == 8 * P, "C name");
static_assert (offsetof (DogpileBackendDesc, get_multi) == 9 * P, "gm");
static_assert (offsetof (DogpileBackendDesc, set_multi) == 10 * P, "sm");
static_assert (offsetof (DogpileBackendDesc, delete_multi) == 11 * P, "dm");
static_assert (offsetof (DogpileBackendDesc, get_mutex) == 12 * P, "mutex");
static_assert (offsetof (DogpileBackendDesc, mangle_key) == 13 * P, "mangle");
static_assert (offsetof (DogpileBackendDesc, get_value) == 14 * P, "gv");
static_assert (offsetof (DogpileBackendDesc, set_value) == 15 * P, "sv");
/* version 2 */
static_assert (offsetof (DogpileBackendDesc, set_serializer) == 16 * P,
               "v2 starts where v1 ended");
/* version 3 */
static_assert (offsetof (DogpileBackendDesc, get_counters) == 17 * P,
               "v3 starts where v2 ended");
static_assert (offsetof (DogpileBackendDesc, set_region_expiration_time)
                   == 18 * P,
               "region expiration");
static_assert (offsetof (DogpileBackendDesc, arguments) == 19 * P,
               "arguments");
static_assert (sizeof (DogpileBackendDesc) == 20 * P, "v4 size");
static_assert (offsetof (DogpileArgumentSpec, name) == 0, "spec name");
static_assert (offsetof (DogpileArgumentSpec, type) == P, "spec type");
static_assert (offsetof (DogpileArgumentSpec, flags) == P + 4, "spec flags");
static_assert (offsetof (DogpileArgumentSpec, default_value) == 2 * P,
               "spec default");
static_assert (offsetof (DogpileArgumentSpec, doc) == 3 * P, "spec doc");
static_assert (sizeof (DogpileArgumentSpec) == 6 * P, "spec keeps its room");
static_assert (DOGPILE_ARGUMENT_FILENAME == 8, "argument types are ABI");
static_assert (DOGPILE_ARGUMENT_PREFIX == 8, "argument flags are ABI");
static_assert (offsetof (DogpileMetadata, cached_time) == 0, "ct");
static_assert (offsetof (DogpileMetadata, version) == 8, "v");
static_assert (sizeof (DogpileMetadata) == 32, "metadata keeps its room");
static_assert (sizeof (DogpileMutexFuncs) == 3 * P, "mutex funcs");
static_assert (sizeof (DogpileLockFuncs) == 3 * P, "lock funcs");
static_assert (sizeof (DogpileInvalidationFuncs) == 6 * P, "strategy");
static_assert (offsetof (DogpileStats, bytes_out) == 7 * 8, "stats");
static_assert (offsetof (DogpileStats, evictions_size) == 8 * 8, "evictions");
static_assert (offsetof (DogpileStats, window_size) == 10 * 8, "window");
static_assert (offsetof (DogpileBackendCounters, window_size) == 6 * 8,
               "counters");
static_assert (sizeof (DogpileBackendCounters) == 16 * 8,
               "counters keep their room");
static_assert (sizeof (DogpileStats) == 16 * 8, "stats keeps its room");
static_assert (sizeof (DogpileArg) == 4 * P, "arg");

static_assert (offsetof (DogpileProxyDesc, abi_version) == 0, "abi");
static_assert (offsetof (DogpileProxyDesc, name) == 1 * P, "name");
static_assert (offsetof (DogpileProxyDesc, description) == 2 * P, "desc");
static_assert (offsetof (DogpileProxyDesc, version) == 3 * P, "version");
static_assert (offsetof (DogpileProxyDesc, create) == 4 * P, "create");
static_assert (offsetof (DogpileProxyDesc, destroy) == 5 * P, "destroy");
static_assert (offsetof (DogpileProxyDesc, get_value) == 6 * P, "gv");
static_assert (offsetof (DogpileProxyDesc, set_value) == 7 * P, "sv");
static_assert (offsetof (DogpileProxyDesc, get_value_multi) == 8 * P, "gvm");
static_assert (offsetof (DogpileProxyDesc, set_value_multi) == 9 * P, "svm");
static_assert (offsetof (DogpileProxyDesc, delete_key) == 10 * P, "delete");
static_assert (offsetof (DogpileProxyDesc, delete_multi) == 11 * P, "dm");
static_assert (offsetof (DogpileProxyDesc, get_mutex) == 12 * P, "mutex");
static_assert (offsetof (DogpileProxyDesc, get) == 13 * P, "get");
static_assert (offsetof (DogpileProxyDesc, set) == 14 * P, "set");
static_assert (offsetof (DogpileProxyDesc, arguments) == 15 * P, "args");
static_assert (sizeof (DogpileProxyDesc) == 16 * P, "v2 size");
#endif

static_assert (DOGPILE_BACKEND_ABI_VERSION == 4, "bump with new members");
static_assert (DOGPILE_PROXY_ABI_VERSION == 2, "bump with new members");
static_assert (DOGPILE_ERROR_PLUGIN_NOT_FOUND == 0, "error codes are ABI");
static_assert (DOGPILE_ERROR_LOCK == 12, "error codes are ABI");
static_assert (DOGPILE_ERROR_INVALIDATION == 13, "error codes are ABI");
static_assert (DOGPILE_ERROR_CREATOR == 14, "error codes are ABI");

Test (abi, error_names_cover_every_code)
{
  for (int code = 0; code <= DOGPILE_ERROR_CREATOR; code++)
    cr_assert_not_null (dogpile_error_get_name (code));
  cr_assert_null (dogpile_error_get_name (DOGPILE_ERROR_CREATOR + 1));
  cr_assert_null (dogpile_error_get_name (-1));
}

Test (abi, version_macros)
{
  cr_assert (DOGPILE_CHECK_VERSION (0, 0, 0));
  cr_assert_str_eq (dogpile_get_version (), DOGPILE_VERSION_STRING);
}

/* --- optional members, read only from a new enough descriptor ---------- */

struct DogpileBackendImpl {
  GHashTable *table;
};

/* The region's expiration time, when a plugin was told it. */
static double told = -2;

static DogpileBackendImpl *
tiny_create (GHashTable *arguments, GError **error)
{
  DogpileBackendImpl *self = g_new0 (DogpileBackendImpl, 1);

  self->table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_bytes_unref);
  return self;
}

static void
tiny_destroy (DogpileBackendImpl *self)
{
  g_hash_table_unref (self->table);
  g_free (self);
}

static gboolean
tiny_get (DogpileBackendImpl *self, const char *key, GBytes **out_value,
          GError **error)
{
  GBytes *value = g_hash_table_lookup (self->table, key);

  *out_value = value != NULL ? g_bytes_ref (value) : NULL;
  return TRUE;
}

static gboolean
tiny_set (DogpileBackendImpl *self, const char *key, GBytes *value,
          GError **error)
{
  g_hash_table_insert (self->table, g_strdup (key), g_bytes_ref (value));
  return TRUE;
}

static gboolean
tiny_delete (DogpileBackendImpl *self, const char *key, GError **error)
{
  g_hash_table_remove (self->table, key);
  return TRUE;
}

static gboolean
tiny_get_counters (DogpileBackendImpl *self, DogpileBackendCounters *out,
                   GError **error)
{
  out->entries = g_hash_table_size (self->table);
  out->evictions_expiry = 7;
  return TRUE;
}

static void
tiny_set_region_expiration_time (DogpileBackendImpl *self, double seconds)
{
  told = seconds;
}

/* What a version 2 plugin ends with is not the core's to read: a version 2
 * descriptor with version 3 members filled in (what a shorter descriptor's
 * following bytes could hold) loads and works, and neither is called. */
static const DogpileBackendDesc tiny_v2 = {
  .abi_version = 2,
  .name = "test.tiny_v2",
  .description = "an ABI 2 plugin",
  .version = "0",
  .create = tiny_create,
  .destroy = tiny_destroy,
  .get = tiny_get,
  .set = tiny_set,
  .delete_key = tiny_delete,
  .get_counters = tiny_get_counters,
  .set_region_expiration_time = tiny_set_region_expiration_time,
};

static const DogpileBackendDesc tiny_v3 = {
  .abi_version = 3,
  .name = "test.tiny_v3",
  .description = "an ABI 3 plugin",
  .version = "0",
  .create = tiny_create,
  .destroy = tiny_destroy,
  .get = tiny_get,
  .set = tiny_set,
  .delete_key = tiny_delete,
  .get_counters = tiny_get_counters,
  .set_region_expiration_time = tiny_set_region_expiration_time,
};

static DogpileRegion *
tiny_region (const DogpileBackendDesc *desc)
{
  g_autoptr (GError) error = NULL;
  DogpileRegion *region = dogpile_region_new ("tiny");

  cr_assert (dogpile_registry_register_desc (dogpile_registry_get_default (),
                                             desc, &error),
             "%s", error ? error->message : "");
  cr_assert (dogpile_region_configure (region, desc->name, 60, NULL,
                                       DOGPILE_CONFIGURE_NONE, &error),
             "%s", error ? error->message : "");
  cr_assert (dogpile_region_wrap (region, DOGPILE_PROXY_STATS, NULL, &error),
             "%s", error ? error->message : "");
  return region;
}

Test (abi, version_2_descriptor_has_no_counters)
{
  g_autoptr (DogpileRegion) region = tiny_region (&tiny_v2);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) value = g_bytes_new_static ("v", 1);
  g_autoptr (GBytes) got = NULL;
  DogpileBackendCounters counters;
  DogpileStats stats;

  cr_assert (dogpile_region_set (region, "k", value, NULL));
  cr_assert (dogpile_region_get (region, "k", &got, NULL));
  cr_assert (g_bytes_equal (got, value));
  cr_assert (!dogpile_region_get_backend_counters (region, &counters, &error));
  cr_assert (g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION));
  cr_assert_eq (counters.entries, 0);
  /* The stats proxy still counts, with no backend counters. */
  cr_assert (dogpile_region_get_stats (region, &stats, NULL));
  cr_assert_eq (stats.sets, 1);
  cr_assert_eq (stats.evictions_expiry, 0);
  /* Nor was it told the region's expiration time. */
  cr_assert_eq (told, -2);
}

Test (abi, version_3_descriptor_has_counters)
{
  g_autoptr (DogpileRegion) region = tiny_region (&tiny_v3);
  g_autoptr (GBytes) value = g_bytes_new_static ("v", 1);
  DogpileBackendCounters counters;
  DogpileStats stats;

  cr_assert (dogpile_region_set (region, "k", value, NULL));
  cr_assert (dogpile_region_get_backend_counters (region, &counters, NULL));
  cr_assert_eq (counters.entries, 1);
  cr_assert_eq (counters.evictions_expiry, 7);
  cr_assert (dogpile_region_get_stats (region, &stats, NULL));
  cr_assert_eq (stats.evictions_expiry, 7);
  cr_assert_eq (told, 60);
}

/* --- argument tables (ABI 4) ------------------------------------------- */

static const DogpileArgumentSpec tiny_arguments[]
    = { DOGPILE_ARGUMENT ("port", DOGPILE_ARGUMENT_INTEGER,
                          DOGPILE_ARGUMENT_FLAGS_NONE, "6379", "the port"),
        DOGPILE_ARGUMENT ("connection_pool", DOGPILE_ARGUMENT_STRING,
                          DOGPILE_ARGUMENT_IGNORED, NULL,
                          "Python's object; ignored"),
        DOGPILE_ARGUMENT ("behaviors.", DOGPILE_ARGUMENT_MAPPING,
                          DOGPILE_ARGUMENT_PREFIX, NULL, "one behavior each"),
        DOGPILE_ARGUMENT_SPEC_END };

/* A descriptor of ABI @abi with @table in its arguments member. */
#define TINY_DESC(short_name, abi, registered, table)                         \
  static const DogpileBackendDesc short_name = {                              \
    .abi_version = abi,                                                       \
    .name = registered,                                                       \
    .description = "an ABI " #abi " plugin",                                  \
    .version = "0",                                                           \
    .create = tiny_create,                                                    \
    .destroy = tiny_destroy,                                                  \
    .get = tiny_get,                                                          \
    .set = tiny_set,                                                          \
    .delete_key = tiny_delete,                                                \
    .arguments = table,                                                       \
  }
#define TINY_V4(short_name, registered, table)                                \
  TINY_DESC (short_name, 4, registered, table)

TINY_V4 (tiny_v4, "test.tiny_v4", tiny_arguments);

/* A version 3 descriptor followed by what could be a table: not read. */
TINY_DESC (tiny_v3_then_table, 3, "test.tiny_v3_table", tiny_arguments);

static GPtrArray *warnings;

static void
keep_warning (const char *domain, GLogLevelFlags level, const char *message,
              gpointer user_data)
{
  g_ptr_array_add (warnings, g_strdup (message));
}

static void
watch_warnings (void)
{
  warnings = g_ptr_array_new_with_free_func (g_free);
  g_log_set_handler ("dogpile", G_LOG_LEVEL_WARNING, keep_warning, NULL);
}

static GHashTable *
string_map (const char *first_name, ...)
{
  GHashTable *arguments = g_hash_table_new (g_str_hash, g_str_equal);
  va_list ap;

  va_start (ap, first_name);
  for (const char *name = first_name; name != NULL;
       name = va_arg (ap, const char *))
    g_hash_table_insert (arguments, (gpointer) name, va_arg (ap, char *));
  va_end (ap);
  return arguments;
}

static gboolean
configure_tiny (const DogpileBackendDesc *desc, GHashTable *arguments,
                DogpileConfigureFlags flags, GError **error)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new ("tiny");

  dogpile_registry_register_desc (dogpile_registry_get_default (), desc, NULL);
  return dogpile_region_configure (region, desc->name, 60, arguments, flags,
                                   error);
}

Test (abi, known_arguments_pass_silently, .init = watch_warnings)
{
  g_autoptr (GHashTable) arguments = string_map (
      "port", "1", "connection_pool", "x", "behaviors.ketama", "true", NULL);
  g_autoptr (GError) error = NULL;

  cr_assert (configure_tiny (&tiny_v4, arguments,
                             DOGPILE_CONFIGURE_STRICT_ARGUMENTS, &error),
             "%s", error ? error->message : "");
  cr_assert_eq (warnings->len, 0);
}

Test (abi, unknown_argument_is_a_warning_naming_the_nearest,
      .init = watch_warnings)
{
  g_autoptr (GHashTable) arguments
      = string_map ("prot", "1", "zzzzzzzz", "2", NULL);

  cr_assert (
      configure_tiny (&tiny_v4, arguments, DOGPILE_CONFIGURE_NONE, NULL));
  cr_assert_eq (warnings->len, 2);
  cr_assert_str_eq (g_ptr_array_index (warnings, 0),
                    "test.tiny_v4 takes no argument 'prot' (did you mean "
                    "'port'?); `dogpile-plugins test.tiny_v4` lists the "
                    "arguments it takes (ignored; strict_arguments makes "
                    "this an error)");
  cr_assert_str_eq (g_ptr_array_index (warnings, 1),
                    "test.tiny_v4 takes no argument 'zzzzzzzz'; "
                    "`dogpile-plugins test.tiny_v4` lists the arguments it "
                    "takes (ignored; strict_arguments makes this an error)");
}

Test (abi, unknown_argument_is_an_error_when_strict, .init = watch_warnings)
{
  g_autoptr (GHashTable) arguments = string_map ("prot", "1", NULL);
  g_autoptr (GError) error = NULL;

  /* the result is the same without an error to fill */
  cr_assert (!configure_tiny (&tiny_v4, arguments,
                              DOGPILE_CONFIGURE_STRICT_ARGUMENTS, NULL));
  cr_assert (!configure_tiny (&tiny_v4, arguments,
                              DOGPILE_CONFIGURE_STRICT_ARGUMENTS, &error));
  cr_assert (g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION));
  cr_assert_str_eq (error->message,
                    "test.tiny_v4 takes no argument 'prot' (did you mean "
                    "'port'?); `dogpile-plugins test.tiny_v4` lists the "
                    "arguments it takes");
  cr_assert_eq (warnings->len, 0);
}

Test (abi, version_3_descriptor_has_no_argument_table, .init = watch_warnings)
{
  g_autoptr (GHashTable) arguments = string_map ("prot", "1", NULL);

  cr_assert (configure_tiny (&tiny_v3_then_table, arguments,
                             DOGPILE_CONFIGURE_STRICT_ARGUMENTS, NULL));
  cr_assert_eq (warnings->len, 0);
}

Test (abi, lookup_and_type_names)
{
  cr_assert_str_eq (
      dogpile_argument_specs_lookup (tiny_arguments, "port")->name, "port");
  cr_assert_str_eq (
      dogpile_argument_specs_lookup (tiny_arguments, "behaviors.tcp_nodelay")
          ->name,
      "behaviors.");
  cr_assert_null (dogpile_argument_specs_lookup (tiny_arguments, "behaviors"));
  cr_assert_null (dogpile_argument_specs_lookup (NULL, "port"));
  cr_assert_str_eq (dogpile_argument_type_get_name (DOGPILE_ARGUMENT_DURATION),
                    "duration");
  cr_assert_null (dogpile_argument_type_get_name ((DogpileArgumentType) 99));
}

static const DogpileArgumentSpec bad_type[]
    = { DOGPILE_ARGUMENT ("port", (DogpileArgumentType) 99,
                          DOGPILE_ARGUMENT_FLAGS_NONE, NULL, "the port"),
        DOGPILE_ARGUMENT_SPEC_END };
static const DogpileArgumentSpec no_doc[]
    = { DOGPILE_ARGUMENT ("port", DOGPILE_ARGUMENT_INTEGER,
                          DOGPILE_ARGUMENT_FLAGS_NONE, NULL, NULL),
        DOGPILE_ARGUMENT_SPEC_END };
TINY_V4 (tiny_bad_type, "test.tiny_bad_type", bad_type);
TINY_V4 (tiny_no_doc, "test.tiny_no_doc", no_doc);

Test (abi, broken_argument_table_is_refused_at_load)
{
  DogpileRegistry *registry = dogpile_registry_get_default ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) error2 = NULL;

  cr_assert (dogpile_registry_register_desc (registry, &tiny_bad_type, NULL));
  cr_assert (dogpile_registry_register_desc (registry, &tiny_no_doc, NULL));
  cr_assert_null (
      dogpile_registry_load_backend (registry, "test.tiny_bad_type", &error));
  cr_assert (
      g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_PLUGIN_INCOMPLETE));
  cr_assert_str_eq (error->message,
                    "Cache plugin test.tiny_bad_type (registered in "
                    "process) has a broken argument table: argument "
                    "'port' has type 99, which is no DogpileArgumentType; "
                    "fix the plugin's DogpileArgumentSpec table");
  cr_assert_null (
      dogpile_registry_load_backend (registry, "test.tiny_no_doc", &error2));
  cr_assert (strstr (error2->message, "argument 'port' has no doc line"));
}
