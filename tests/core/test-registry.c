/* test-registry.c: registry files, the default scan, in-process
 * registration and every plugin load error.
 *
 * The environment is set by meson (DOGPILE_REGISTRY_PATH = the build-tree
 * registry, DOGPILE_REGISTRY_SYSTEM_PATH = "", XDG_DATA_HOME = a scratch
 * folder), so nothing outside the build tree is ever read.  Criterion runs
 * each test in its own process, so each starts with a fresh default
 * registry.
 *
 * SPDX-License-Identifier: MIT
 */
#include <glib/gstdio.h>

#include <sys/stat.h>

#include "test-util.h"

#define FIXTURES TEST_REGISTRY_DIR "/fixtures.ini"

static void
add_fixtures (void)
{
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_registry_add_file (dogpile_registry_get_default (),
                                        FIXTURES, &error));
  assert_no_error (error);
}

/* Configures a throwaway region and returns the error it gave. */
static GError *
configure_error (const char *backend, GHashTable *arguments)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new ("r");
  GError *error = NULL;

  cr_assert_not (dogpile_region_configure (region, backend, 60, arguments,
                                           DOGPILE_CONFIGURE_NONE, &error));
  cr_assert_not (dogpile_region_is_configured (region));
  return error;
}

static gboolean
contains (const char *haystack, const char *needle)
{
  return strstr (haystack, needle) != NULL;
}

TestSuite (registry);

Test (registry, default_scan_finds_the_build_tree_plugins)
{
  g_autoptr (DogpilePluginInfo) info = dogpile_registry_lookup (
      dogpile_registry_get_default (), DOGPILE_REGISTRY_GROUP_BACKENDS,
      "dogpile.cache.memory");
  g_auto (GStrv) names = NULL;

  cr_assert_not_null (info);
  cr_assert (g_str_has_suffix (dogpile_plugin_info_get_module_path (info),
                               "/plugins/memory/dogpile-memory.so"));
  cr_assert_str_eq (dogpile_plugin_info_get_symbol (info),
                    "dogpile_backend_memory_get_desc");
  cr_assert (g_str_has_suffix (dogpile_plugin_info_get_registry_file (info),
                               "dogpile-build-registry.ini"));
  cr_assert_str_eq (dogpile_plugin_info_get_group (info), "dogpile.cache");

  names = dogpile_registry_dup_names (dogpile_registry_get_default (),
                                      DOGPILE_REGISTRY_GROUP_BACKENDS);
  cr_assert (
      g_strv_contains ((const char *const *) names, "dogpile.cache.null"));
  cr_assert (g_strv_contains ((const char *const *) names,
                              "dogpile.cache.memory_pickle"));
}

Test (registry, unknown_name_is_plugin_not_found)
{
  g_autoptr (GError) error = configure_error ("unknown", NULL);

  assert_error (error, DOGPILE_ERROR_PLUGIN_NOT_FOUND);
  /* Python's sentence first, then where it looked */
  cr_assert (g_str_has_prefix (error->message,
                               "Couldn't find cache plugin to load: unknown; "
                               "searched names registered in process, "),
             "%s", error->message);
  cr_assert (contains (error->message, "/dogpile-build-registry.ini"), "%s",
             error->message);
  cr_assert_str_eq (dogpile_error_get_name (error->code), "PluginNotFound");
}

/* The registries a lookup read, in its order (explicit files, then
 * DOGPILE_REGISTRY_PATH's, a missing one said so), the nearest name, and
 * the tool that lists them. */
Test (registry, plugin_not_found_says_where_it_looked)
{
  g_autoptr (DogpileRegistry) registry = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) proxy_error = NULL;
  g_autofree char *expected = NULL;

  g_setenv (DOGPILE_REGISTRY_PATH_ENV,
            TEST_REGISTRY_DIR "/no-such.ini:" TEST_REGISTRY_DIR
                              "/duplicates-a.ini",
            TRUE);
  registry = dogpile_registry_new ();
  cr_assert (dogpile_registry_add_file (
      registry, TEST_REGISTRY_DIR "/duplicates-b.ini", NULL));
  cr_assert_null (
      dogpile_registry_load_backend (registry, "fixture.dupe", &error));
  assert_error (error, DOGPILE_ERROR_PLUGIN_NOT_FOUND);
  expected = g_strdup_printf (
      "Couldn't find cache plugin to load: fixture.dupe (did you mean "
      "fixture.dup?); searched names registered in process, "
      "%s/duplicates-b.ini, %s/no-such.ini (does not exist), "
      "%s/duplicates-a.ini; dogpile-plugins lists what is registered",
      TEST_REGISTRY_DIR, TEST_REGISTRY_DIR, TEST_REGISTRY_DIR);
  cr_assert_str_eq (error->message, expected);

  cr_assert_null (dogpile_registry_load_proxy (
      registry, "dogpile.proxies.stat", &proxy_error));
  assert_error (proxy_error, DOGPILE_ERROR_PLUGIN_NOT_FOUND);
  cr_assert (g_str_has_prefix (proxy_error->message,
                               "Couldn't find proxy to load: "
                               "dogpile.proxies.stat (did you mean "
                               "dogpile.proxies.stats?); searched the "
                               "[dogpile.cache.proxies] entries of names "
                               "registered in process, "),
             "%s", proxy_error->message);
}

Test (registry, good_fixture_loads_and_works)
{
  g_autoptr (DogpileRegion) region = NULL;
  g_autoptr (GBytes) value = bytes_of ("v");
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;
  const DogpileBackendDesc *first, *second;

  add_fixtures ();
  region = configured_region ("fixture.good", 60, NULL);
  cr_assert (dogpile_region_set (region, "k", value, &error));
  cr_assert (dogpile_region_get (region, "k", &got, &error));
  cr_assert (bytes_equal (got, "v"));

  /* Loaded once; the same descriptor every time. */
  first = dogpile_registry_load_backend (dogpile_registry_get_default (),
                                         "fixture.good", &error);
  second = dogpile_registry_load_backend (dogpile_registry_get_default (),
                                          "fixture.good", &error);
  cr_assert_not_null (first);
  cr_assert_eq (first, second);
}

Test (registry, relative_module_paths_resolve_against_the_file)
{
  g_autoptr (DogpilePluginInfo) info = NULL;

  add_fixtures ();
  info = dogpile_registry_lookup (dogpile_registry_get_default (),
                                  DOGPILE_REGISTRY_GROUP_BACKENDS,
                                  "fixture.good");
  cr_assert_not_null (info);
  cr_assert_str_eq (dogpile_plugin_info_get_module_path (info),
                    TEST_PLUGIN_DIR "/fixture-good.so");
  cr_assert_str_eq (dogpile_plugin_info_get_registry_file (info), FIXTURES);
}

Test (registry, abi_too_new)
{
  g_autoptr (GError) error = NULL;

  add_fixtures ();
  error = configure_error ("fixture.abi_future", NULL);
  assert_error (error, DOGPILE_ERROR_PLUGIN_ABI_MISMATCH);
  cr_assert (contains (error->message, "fixture-abi-future.so"));
  cr_assert (contains (error->message, "dogpile_backend_fixture_get_desc"));
  cr_assert (contains (error->message, FIXTURES));
  cr_assert (contains (error->message, "rebuild the plugin"));
}

/* A plugin built against version 1 loads, and the core reads none of the
 * members version 2 appended (the fixture's would fail configure). */
Test (registry, abi_older_still_loads)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new ("v1");
  g_autoptr (GError) error = NULL;

  add_fixtures ();
  cr_assert (dogpile_region_set_serializer_name (region, "pickle", NULL));
  cr_assert (dogpile_region_configure (region, "fixture.abi_v1", 60, NULL,
                                       DOGPILE_CONFIGURE_NONE, &error),
             "%s", error ? error->message : "");
}

/* A registry line naming a symbol that is not a descriptor function is
 * refused before anything is called (it used to crash: SIGSEGV or
 * abort). */
Test (registry, symbol_that_is_not_a_descriptor_function)
{
  static const struct {
    const char *name, *says;
  } cases[] = {
    { "fixture.libc_symbol", "is defined in " },
    { "fixture.abort_symbol", "is defined in " },
    { "fixture.data_symbol", "is a data object of 16 bytes, not a function" },
  };

  add_fixtures ();
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = configure_error (cases[i].name, NULL);

      assert_error (error, DOGPILE_ERROR_PLUGIN_SYMBOL_MISSING);
      cr_assert (contains (error->message, cases[i].says), "%s",
                 error->message);
      cr_assert (contains (error->message, "fixture-good.so"));
      cr_assert (contains (error->message, FIXTURES));
      cr_assert (contains (error->message, "descriptor function"));
    }
}

Test (registry, descriptor_name_differs)
{
  g_autoptr (GError) error = NULL;

  add_fixtures ();
  error = configure_error ("fixture.name_mismatch", NULL);
  assert_error (error, DOGPILE_ERROR_PLUGIN_NAME_MISMATCH);
  cr_assert (contains (error->message, "fixture.somebody_else"));
  cr_assert (contains (error->message, "fixture-name-mismatch.so"));
}

Test (registry, required_operation_missing)
{
  g_autoptr (GError) error = NULL;

  add_fixtures ();
  error = configure_error ("fixture.incomplete", NULL);
  assert_error (error, DOGPILE_ERROR_PLUGIN_INCOMPLETE);
  cr_assert (contains (error->message, "'get'"));
  cr_assert (contains (error->message, "fixture-incomplete.so"));
}

Test (registry, symbol_missing)
{
  g_autoptr (GError) error = NULL;

  add_fixtures ();
  error = configure_error ("fixture.no_symbol", NULL);
  assert_error (error, DOGPILE_ERROR_PLUGIN_SYMBOL_MISSING);
  cr_assert (contains (error->message, "dogpile_backend_not_here_get_desc"));
  cr_assert (contains (error->message, "fixture-good.so"));
  cr_assert (contains (error->message, "not a dogpile plugin"));
}

Test (registry, symbol_returns_no_descriptor)
{
  g_autoptr (GError) error = NULL;

  add_fixtures ();
  error = configure_error ("fixture.null_desc", NULL);
  assert_error (error, DOGPILE_ERROR_PLUGIN_SYMBOL_MISSING);
  cr_assert (contains (error->message, "returned no descriptor"));
}

Test (registry, module_cannot_be_opened)
{
  g_autoptr (GError) error = NULL;

  add_fixtures ();
  error = configure_error ("fixture.missing_file", NULL);
  assert_error (error, DOGPILE_ERROR_PLUGIN_LOAD_FAILED);
  cr_assert (contains (error->message, "fixture-does-not-exist.so"));
  cr_assert (contains (error->message, "ldd"));
  cr_assert (contains (error->message, FIXTURES));
}

Test (registry, backend_create_failure_keeps_its_error)
{
  g_autoptr (GHashTable) arguments = arguments_of ("fail", "true", NULL);
  g_autoptr (GError) error = NULL;

  add_fixtures ();
  error = configure_error ("fixture.good", arguments);
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (contains (error->message, "Cannot create backend fixture.good"));
}

Test (registry, missing_colon_is_an_error_when_explicit)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegistry) registry = dogpile_registry_new ();

  cr_assert_not (dogpile_registry_add_file (
      registry, TEST_REGISTRY_DIR "/missing-colon.ini", &error));
  assert_error (error, DOGPILE_ERROR_REGISTRY_INVALID);
  cr_assert (g_str_has_prefix (error->message,
                               TEST_REGISTRY_DIR "/missing-colon.ini:3: "),
             "%s", error->message);
  cr_assert (contains (error->message, "fixture.colonless"));
}

Test (registry, missing_colon_is_skipped_in_the_default_scan)
{
  g_autoptr (DogpileRegistry) registry = NULL;
  g_autoptr (DogpilePluginInfo) before = NULL;
  g_autoptr (DogpilePluginInfo) after = NULL;
  g_autoptr (DogpilePluginInfo) bad = NULL;

  g_setenv (DOGPILE_REGISTRY_PATH_ENV, TEST_REGISTRY_DIR "/missing-colon.ini",
            TRUE);
  registry = dogpile_registry_new ();
  before
      = dogpile_registry_lookup (registry, "dogpile.cache", "fixture.before");
  after = dogpile_registry_lookup (registry, "dogpile.cache", "fixture.after");
  bad = dogpile_registry_lookup (registry, "dogpile.cache",
                                 "fixture.colonless");
  cr_assert_not_null (before);
  cr_assert_not_null (after);
  cr_assert_null (bad);
}

Test (registry, bad_lines_explicit_and_scanned)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegistry) strict = dogpile_registry_new ();
  g_autoptr (DogpileRegistry) scanned = NULL;
  g_autoptr (DogpilePluginInfo) ok = NULL;
  g_autoptr (DogpilePluginInfo) empty = NULL;

  cr_assert_not (dogpile_registry_add_file (
      strict, TEST_REGISTRY_DIR "/bad-lines.ini", &error));
  assert_error (error, DOGPILE_ERROR_REGISTRY_INVALID);
  cr_assert (contains (error->message, "bad-lines.ini:1: entry before any"),
             "%s", error->message);

  g_setenv (DOGPILE_REGISTRY_PATH_ENV, TEST_REGISTRY_DIR "/bad-lines.ini",
            TRUE);
  scanned = dogpile_registry_new ();
  ok = dogpile_registry_lookup (scanned, "dogpile.cache", "fixture.ok");
  empty = dogpile_registry_lookup (scanned, "dogpile.cache",
                                   "fixture.empty_symbol");
  cr_assert_not_null (ok);
  cr_assert_null (empty);
}

Test (registry, explicit_file_that_does_not_exist)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegistry) registry = dogpile_registry_new ();

  cr_assert_not (dogpile_registry_add_file (
      registry, TEST_REGISTRY_DIR "/no-such-registry.ini", &error));
  cr_assert (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT));
  cr_assert (contains (error->message, "no-such-registry.ini"));
}

/* A registry file that is a FIFO: named, an error at once (reading it
 * used to wait for a writer forever); found in a folder, skipped while
 * the folder's other files are read. */
Test (registry, a_fifo_is_not_a_registry_file)
{
  g_autofree char *dir = g_dir_make_tmp ("dogpile-fifo-XXXXXX", NULL);
  g_autofree char *fifo = g_build_filename (dir, "a-fifo.ini", NULL);
  g_autofree char *good = g_build_filename (dir, "b-good.ini", NULL);
  g_autofree char *text
      = g_strdup_printf ("[dogpile.cache]\nfixture.good = %s/fixture-good.so:"
                         "dogpile_backend_fixture_get_desc\n",
                         TEST_PLUGIN_DIR);
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegistry) named = dogpile_registry_new ();
  g_autoptr (DogpileRegistry) scanned = NULL;
  g_autoptr (DogpilePluginInfo) info = NULL;

  cr_assert_eq (mkfifo (fifo, 0600), 0);
  cr_assert (g_file_set_contents (good, text, -1, NULL));
  cr_assert_not (dogpile_registry_add_file (named, fifo, &error));
  cr_assert (
      g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_REGISTRY_INVALID));
  cr_assert (contains (error->message, "a-fifo.ini: it is a FIFO, not a "
                                       "regular file"),
             "%s", error->message);

  g_setenv (DOGPILE_REGISTRY_PATH_ENV, dir, TRUE);
  scanned = dogpile_registry_new ();
  info = dogpile_registry_lookup (scanned, "dogpile.cache", "fixture.good");
  cr_assert_not_null (info, "the folder's regular file was not read");
  g_unlink (fifo);
  g_unlink (good);
  g_rmdir (dir);
}

Test (registry, first_definition_wins)
{
  g_autoptr (DogpileRegistry) registry = NULL;
  g_autoptr (DogpilePluginInfo) dup = NULL;
  g_autoptr (DogpilePluginInfo) only_b = NULL;

  g_setenv (DOGPILE_REGISTRY_PATH_ENV,
            TEST_REGISTRY_DIR
            "/duplicates-a.ini" G_SEARCHPATH_SEPARATOR_S TEST_REGISTRY_DIR
            "/duplicates-b.ini",
            TRUE);
  registry = dogpile_registry_new ();
  dup = dogpile_registry_lookup (registry, "dogpile.cache", "fixture.dup");
  only_b = dogpile_registry_lookup (registry, "dogpile.cache",
                                    "fixture.only_in_b");
  cr_assert_not_null (dup);
  /* The first line of the first file, not its duplicate nor file b's. */
  cr_assert (g_str_has_suffix (dogpile_plugin_info_get_module_path (dup),
                               "/fixture-good.so"));
  cr_assert_not_null (only_b);
}

/* A relative DOGPILE_REGISTRY_PATH (a user's `export
 * DOGPILE_REGISTRY_PATH=build/...`) resolves modules against the file's
 * folder made absolute. */
Test (registry, relative_registry_path)
{
  g_autoptr (DogpileRegistry) registry = NULL;
  g_autoptr (DogpilePluginInfo) dup = NULL;

  cr_assert (g_chdir (TEST_REGISTRY_DIR "/..") == 0);
  g_setenv (DOGPILE_REGISTRY_PATH_ENV, "registry/duplicates-a.ini", TRUE);
  registry = dogpile_registry_new ();
  dup = dogpile_registry_lookup (registry, "dogpile.cache", "fixture.dup");
  cr_assert_not_null (dup);
  cr_assert (g_path_is_absolute (dogpile_plugin_info_get_module_path (dup)),
             "%s", dogpile_plugin_info_get_module_path (dup));
  cr_assert (g_str_has_suffix (dogpile_plugin_info_get_module_path (dup),
                               "/fixture-good.so"));
  cr_assert (g_file_test (dogpile_plugin_info_get_module_path (dup),
                          G_FILE_TEST_EXISTS));
}

Test (registry, explicit_files_win_over_the_scan)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegistry) registry = NULL;
  g_autoptr (DogpilePluginInfo) dup = NULL;

  g_setenv (DOGPILE_REGISTRY_PATH_ENV, TEST_REGISTRY_DIR "/duplicates-a.ini",
            TRUE);
  registry = dogpile_registry_new ();
  cr_assert (dogpile_registry_add_file (
      registry, TEST_REGISTRY_DIR "/duplicates-b.ini", &error));
  dup = dogpile_registry_lookup (registry, "dogpile.cache", "fixture.dup");
  cr_assert (g_str_has_suffix (dogpile_plugin_info_get_module_path (dup),
                               "/fixture-incomplete.so"));
}

Test (registry, unknown_groups_are_ignored)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegistry) registry = dogpile_registry_new ();
  g_autoptr (DogpilePluginInfo) known = NULL;
  g_autoptr (DogpilePluginInfo) elsewhere = NULL;

  cr_assert (dogpile_registry_add_file (
      registry, TEST_REGISTRY_DIR "/unknown-group.ini", &error));
  assert_no_error (error);
  known = dogpile_registry_lookup (registry, "dogpile.cache", "fixture.known");
  elsewhere = dogpile_registry_lookup (registry, "dogpile.cache",
                                       "fixture.elsewhere");
  cr_assert_not_null (known);
  cr_assert_null (elsewhere);
}

/* A registry.d folder under a scratch XDG_DATA_HOME. */
static char *
make_user_registry (const char *first_file, const char *second_file)
{
  g_autofree char *home = g_dir_make_tmp ("dogpile-xdg-XXXXXX", NULL);
  g_autofree char *dir
      = g_build_filename (home, "dogpile-1", "registry.d", NULL);
  g_autofree char *a = g_build_filename (dir, "10-first.ini", NULL);
  g_autofree char *b = g_build_filename (dir, "20-second.ini", NULL);

  cr_assert_eq (g_mkdir_with_parents (dir, 0700), 0);
  cr_assert (g_file_set_contents (a, first_file, -1, NULL));
  cr_assert (g_file_set_contents (b, second_file, -1, NULL));
  return g_steal_pointer (&home);
}

Test (registry, system_path_replaces_the_user_dir)
{
  g_autofree char *home = make_user_registry (
      "[dogpile.cache]\nfixture.user = /first.so:sym\n",
      "[dogpile.cache]\nfixture.user = /second.so:sym\n");
  g_autoptr (DogpileRegistry) with_system_path = NULL;
  g_autoptr (DogpileRegistry) without = NULL;
  g_autoptr (DogpilePluginInfo) hidden = NULL;
  g_autoptr (DogpilePluginInfo) found = NULL;

  g_setenv ("XDG_DATA_HOME", home, TRUE);
  /* Set, even empty: the user and compiled-in folders are not read. */
  g_setenv (DOGPILE_REGISTRY_SYSTEM_PATH_ENV, "", TRUE);
  with_system_path = dogpile_registry_new ();
  hidden = dogpile_registry_lookup (with_system_path, "dogpile.cache",
                                    "fixture.user");
  cr_assert_null (hidden);

  g_unsetenv (DOGPILE_REGISTRY_SYSTEM_PATH_ENV);
  without = dogpile_registry_new ();
  found = dogpile_registry_lookup (without, "dogpile.cache", "fixture.user");
  cr_assert_not_null (found);
  /* Files in a folder are read in sorted order; the first wins. */
  cr_assert_str_eq (dogpile_plugin_info_get_module_path (found), "/first.so");
}

Test (registry, registered_names_win_and_replace)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegion) region = NULL;
  g_autoptr (GBytes) value = bytes_of ("v");
  g_autoptr (GBytes) got = NULL;
  g_autoptr (DogpilePluginInfo) info = NULL;

  /* register_backend over a built-in name, as Python allows. */
  cr_assert (dogpile_register_backend (
      "dogpile.cache.memory", TEST_BUILD_PLUGIN_DIR "/null/dogpile-null.so",
      "dogpile_backend_null_get_desc", &error));
  info = dogpile_registry_lookup (dogpile_registry_get_default (),
                                  "dogpile.cache", "dogpile.cache.memory");
  cr_assert_null (dogpile_plugin_info_get_registry_file (info));
  /* The descriptor still says dogpile.cache.null: a name mismatch. */
  {
    g_autoptr (GError) mismatch
        = configure_error ("dogpile.cache.memory", NULL);
    assert_error (mismatch, DOGPILE_ERROR_PLUGIN_NAME_MISMATCH);
  }

  /* A later registration replaces it. */
  cr_assert (dogpile_register_backend (
      "dogpile.cache.null", TEST_BUILD_PLUGIN_DIR "/memory/dogpile-memory.so",
      "dogpile_backend_memory_get_desc", &error));
  cr_assert (dogpile_register_backend (
      "dogpile.cache.null", TEST_BUILD_PLUGIN_DIR "/null/dogpile-null.so",
      "dogpile_backend_null_get_desc", &error));
  region = configured_region ("dogpile.cache.null", 60, NULL);
  cr_assert (dogpile_region_set (region, "k", value, &error));
  cr_assert (dogpile_region_get (region, "k", &got, &error));
  cr_assert_null (got);
}

Test (registry, register_rejects_empty_parts)
{
  g_autoptr (GError) error = NULL;

  cr_assert_not (dogpile_register_backend ("x", "", "sym", &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
}

static const DogpileBackendDesc future_desc = {
  .abi_version = DOGPILE_BACKEND_ABI_VERSION + 5,
  .name = "inproc.future",
};

Test (registry, registered_descriptor_is_checked_like_a_loaded_one)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) load_error = NULL;

  cr_assert (dogpile_registry_register_desc (dogpile_registry_get_default (),
                                             &future_desc, &error));
  load_error = configure_error ("inproc.future", NULL);
  assert_error (load_error, DOGPILE_ERROR_PLUGIN_ABI_MISMATCH);
}

Test (registry, listing_merges_tiers_by_precedence)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) infos = NULL;
  guint memory_rows = 0;

  cr_assert (
      dogpile_register_backend ("dogpile.cache.memory", "/x.so", "s", &error));
  infos = dogpile_registry_list (dogpile_registry_get_default (),
                                 DOGPILE_REGISTRY_GROUP_BACKENDS);
  for (guint i = 0; i < infos->len; i++)
    {
      DogpilePluginInfo *info = infos->pdata[i];

      if (strcmp (dogpile_plugin_info_get_name (info), "dogpile.cache.memory")
          == 0)
        {
          memory_rows++;
          cr_assert_str_eq (dogpile_plugin_info_get_module_path (info),
                            "/x.so");
        }
      if (i > 0)
        cr_assert (strcmp (dogpile_plugin_info_get_name (infos->pdata[i - 1]),
                           dogpile_plugin_info_get_name (info))
                   < 0);
    }
  cr_assert_eq (memory_rows, 1);
}
