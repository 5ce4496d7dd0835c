/* test-util.h: small helpers shared by the Criterion suites.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <unistd.h>

#include <criterion/criterion.h>
#include <dogpile/dogpile-plugin.h>
#include <dogpile/dogpile.h>

/* Run by hand (not through meson test), a suite still reads only the
 * build tree's registry.  A constructor, because Criterion's workers may
 * start before any hook runs. */
__attribute__ ((constructor)) static void
use_build_tree_registry (void)
{
  if (g_getenv (DOGPILE_REGISTRY_PATH_ENV) == NULL)
    {
      g_setenv (DOGPILE_REGISTRY_PATH_ENV,
                TEST_BUILD_PLUGIN_DIR "/dogpile-build-registry.ini", TRUE);
      g_setenv (DOGPILE_REGISTRY_SYSTEM_PATH_ENV, "", TRUE);
    }
}

static inline GBytes *
bytes_of (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

/* The bytes @hex spells (what the Python peers print). */
static inline GBytes *
bytes_from_hex (const char *hex)
{
  gsize n = strlen (hex) / 2;
  guint8 *data = g_malloc (n + 1);

  for (gsize i = 0; i < n; i++)
    data[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) * 16
                        + g_ascii_xdigit_value (hex[2 * i + 1]));
  return g_bytes_new_take (data, n);
}

/* TRUE when @bytes holds exactly @text (NULL matches NULL). */
static inline gboolean
bytes_equal (GBytes *bytes, const char *text)
{
  gsize len;
  const char *data;

  if (bytes == NULL || text == NULL)
    return bytes == NULL && text == NULL;
  data = g_bytes_get_data (bytes, &len);
  return len == strlen (text) && memcmp (data, text, len) == 0;
}

/* Builds a name -> value table from NULL-terminated pairs. */
static inline GHashTable *
arguments_of (const char *first_name, ...)
{
  GHashTable *table
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  va_list ap;

  va_start (ap, first_name);
  for (const char *name = first_name; name != NULL;
       name = va_arg (ap, const char *))
    g_hash_table_insert (table, g_strdup (name),
                         g_strdup (va_arg (ap, const char *)));
  va_end (ap);
  return table;
}

/* A clock the test moves by hand, like mocking time.time(). */
static double test_clock_value;

static inline double
test_clock (gpointer user_data)
{
  (void) user_data;
  return test_clock_value;
}

static inline void
use_test_clock (double start)
{
  test_clock_value = start;
  dogpile_clock_set_func (test_clock, NULL);
}

#define assert_no_error(error)                                                \
  cr_assert ((error) == NULL, "unexpected error: %s",                         \
             (error) != NULL ? (error)->message : "")

/* acquire(wait) on @m, which must not fail; whether it was acquired. */
static inline gboolean
mutex_acquire_ok (DogpileMutex *m, gboolean wait)
{
  g_autoptr (GError) error = NULL;
  gboolean acquired = FALSE;

  cr_assert (dogpile_mutex_acquire (m, wait, &acquired, &error), "%s",
             error != NULL ? error->message : "");
  return acquired;
}

/* locked() on @m, which must not fail. */
static inline gboolean
mutex_is_locked (DogpileMutex *m)
{
  g_autoptr (GError) error = NULL;
  gboolean is_locked = FALSE;

  cr_assert (dogpile_mutex_locked (m, &is_locked, &error), "%s",
             error != NULL ? error->message : "");
  return is_locked;
}

#define assert_error(error, code)                                             \
  cr_assert (g_error_matches ((error), DOGPILE_ERROR, (code)),                \
             "expected error code %d, got %s", (int) (code),                  \
             (error) != NULL ? (error)->message : "no error")

/* The backend arguments of a suite run, from DOGPILE_TEST_ARGUMENTS:
 * "name=value;name=value".  "{pid}" in a value becomes the test process's
 * id; Criterion runs each test in its own process, so a file name with
 * {pid} gives every test its own file.  (transfer full) */
static inline GHashTable *
suite_arguments (void)
{
  GHashTable *table
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *spec = g_getenv ("DOGPILE_TEST_ARGUMENTS");
  g_auto (GStrv) pairs = g_strsplit (spec != NULL ? spec : "", ";", -1);
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());

  for (char **pair = pairs; *pair != NULL; pair++)
    {
      char *eq = strchr (*pair, '=');
      g_auto (GStrv) parts = NULL;

      if (**pair == '\0')
        continue;
      cr_assert_not_null (eq, "DOGPILE_TEST_ARGUMENTS: %s has no =", *pair);
      *eq = '\0';
      parts = g_strsplit (eq + 1, "{pid}", -1);
      g_hash_table_insert (table, g_strdup (g_strstrip (*pair)),
                           g_strjoinv (pid, parts));
    }
  return table;
}

#ifdef TEST_WRAP_PROXY
/* ProxyRegionTest: the same suites again, through a proxy that overrides
 * nothing (dogpile.cache's MockProxy). */
static const DogpileProxyDesc test_passthrough_proxy = {
  .abi_version = DOGPILE_PROXY_ABI_VERSION,
  .name = "test.passthrough",
};
#endif

static inline DogpileRegion *
configured_region (const char *backend, double expiration,
                   GHashTable *arguments)
{
  g_autoptr (GError) error = NULL;
  DogpileRegion *region = dogpile_region_new ("test");

  cr_assert (dogpile_region_configure (region, backend, expiration, arguments,
                                       DOGPILE_CONFIGURE_NONE, &error),
             "configure %s: %s", backend, error ? error->message : "");
#ifdef TEST_WRAP_PROXY
  cr_assert (dogpile_region_wrap_desc (region, &test_passthrough_proxy, NULL,
                                       &error));
#endif
  return region;
}

/* Debian's Python runs the Python half of the interop tests. */
#define TEST_PYTHON "/usr/bin/python3"

/* Runs TEST_PYTHON @helper @command and the NULL-terminated arguments in
 * @ap; fails the test unless it succeeds.  Returns its stdout without the
 * final newline. */
static inline char *
python_helper_run (const char *helper, const char *command, va_list ap)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_ptr_array_add (argv, (gpointer) TEST_PYTHON);
  g_ptr_array_add (argv, (gpointer) helper);
  g_ptr_array_add (argv, (gpointer) command);
  for (const char *a = va_arg (ap, const char *); a != NULL;
       a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  g_ptr_array_add (argv, NULL);
  cr_assert (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT,
                           NULL, NULL, &out, &err, &status, &error),
             "%s", error != NULL ? error->message : "");
  cr_assert (g_spawn_check_wait_status (status, NULL), "%s %s failed:\n%s",
             helper, command, err);
  return g_strchomp (g_steal_pointer (&out));
}

/* python_helper_run with the arguments in the call, NULL-terminated. */
static inline char *
python_helper (const char *helper, const char *command, ...)
{
  va_list ap;
  char *out;

  va_start (ap, command);
  out = python_helper_run (helper, command, ap);
  va_end (ap);
  return out;
}

/* Whether `@helper check` succeeds (what it needs is installed); if not,
 * skips the test, or fails it under CI=true, where tools/dev/install-deps
 * installs everything.  @missing says what is lacking. */
static inline void
python_helper_need (const char *helper, const char *missing)
{
  const char *argv[] = { TEST_PYTHON, helper, "check", NULL };
  int status = -1;

  if (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                    NULL, NULL, NULL, NULL, &status, NULL)
      && g_spawn_check_wait_status (status, NULL))
    return;
  cr_assert (g_strcmp0 (g_getenv ("CI"), "true") != 0, "%s lacks %s",
             TEST_PYTHON, missing);
  cr_skip_test ("%s lacks %s", TEST_PYTHON, missing);
}
