/* fuzz-config.c: configuration text on any bytes: a Paste/Pyramid INI
 * as Python's configparser reads it (core/dogpile-ini.c, through
 * dogpile_config_load_settings), the same text as a GKeyFile of regions
 * (dogpile_config_load_regions_from_key_file), every value through
 * coerce_string_conf (dogpile_coerce_string) and each section through
 * configure_from_config onto a mock backend.
 *
 * Invariants besides not crashing:
 *  - each section's items, written back out as an INI ('%' doubled,
 *    continued lines indented), read back as the same items;
 *  - on text both readers take the same way (plain keys, one-line
 *    values), configparser's reader and GKeyFile give the same settings;
 *  - coercion is idempotent where configure_from_config relies on it:
 *    the argument a backend gets (Python's str() of the coerced value)
 *    coerces to the same value again;
 *  - a configured region's expiration time is finite or "never";
 *  - every error has a UTF-8 message.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz-common.h"

#include <glib/gstdio.h>
#include <math.h>

#include "dogpile-ini.h"

static char *folder;
static char *file;
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
mock_set (DogpileBackendImpl *self, const char *key, GBytes *value,
          GError **error)
{
  return TRUE;
}

static gboolean
mock_delete (DogpileBackendImpl *self, const char *key, GError **error)
{
  return TRUE;
}

#define MOCK_DESC(backend_name)                                               \
  {                                                                           \
    .abi_version = DOGPILE_BACKEND_ABI_VERSION, .name = backend_name,         \
    .create = mock_create, .destroy = mock_destroy, .get = mock_get,          \
    .set = mock_set, .delete_key = mock_delete,                               \
  }

/* The names the seeds use: none loads a plugin. */
static const DogpileBackendDesc mock_descs[] = {
  MOCK_DESC ("mock"),
  MOCK_DESC ("dogpile.cache.memory"),
  MOCK_DESC ("dogpile.cache.null"),
};

static void
config_cleanup (void)
{
  g_unlink (file);
  g_rmdir (folder);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  folder = fuzz_make_folder ("dogpile-fuzz-config");
  file = g_build_filename (folder, "app.ini", NULL);
  /* no plugin is ever looked for on disk */
  g_setenv (DOGPILE_REGISTRY_PATH_ENV, "", TRUE);
  g_setenv (DOGPILE_REGISTRY_SYSTEM_PATH_ENV, "", TRUE);
  g_setenv ("XDG_DATA_HOME", folder, TRUE);
  for (gsize i = 0; i < G_N_ELEMENTS (mock_descs); i++)
    if (!dogpile_registry_register_desc (dogpile_registry_get_default (),
                                         &mock_descs[i], NULL))
      abort ();
  atexit (config_cleanup);
  return 0;
}

static void
write_file (const char *path, const void *data, gsize len)
{
  FILE *f = fopen (path, "wb");

  if (f == NULL || fwrite (data, 1, len, f) != len || fclose (f) != 0)
    fuzz_fail ("cannot write %s", path);
}

static gboolean
is_stripped (const char *text)
{
  g_autofree char *stripped = dogpile__py_strip (text);

  return strcmp (stripped, text) == 0;
}

/* Whether configparser reads "@key = <@value, lines indented>" back as
 * @value: every line stripped already, and no later line that would be
 * a comment. */
static gboolean
ini_writable (const char *value)
{
  g_auto (GStrv) lines = g_strsplit (value, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (!is_stripped (lines[i])
        || (i > 0 && (lines[i][0] == '#' || lines[i][0] == ';')))
      return FALSE;
  return is_stripped (value);
}

/* Whether GKeyFile reads "@key = @value" as configparser does. */
static gboolean
key_file_plain (const char *key, const char *value)
{
  for (const char *p = key; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '.' && *p != '-')
      return FALSE;
  for (const char *p = value; *p != '\0'; p++)
    if (*p < 0x21 || *p > 0x7e || *p == '%' || *p == '\\')
      if (*p != ' ')
        return FALSE;
  /* GKeyFile reads "Encoding" itself (it must say UTF-8) */
  return key[0] != '\0' && strcmp (key, "Encoding") != 0
         && is_stripped (value);
}

static gboolean
group_plain (const char *name)
{
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '.' && *p != ':'
        && *p != '-')
      return FALSE;
  return name[0] != '\0' && strcmp (name, "DEFAULT") != 0;
}

static void
append_item (GString *out, const char *key, const char *value)
{
  g_auto (GStrv) lines = NULL;
  g_autofree char *escaped = NULL;
  GString *e = g_string_new (NULL);

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '%')
        g_string_append_c (e, '%');
      g_string_append_c (e, *p);
    }
  escaped = g_string_free (e, FALSE);
  lines = g_strsplit (escaped, "\n", -1);
  g_string_append_printf (out, "%s = %s\n", key,
                          lines[0] != NULL ? lines[0] : "");
  for (guint i = 1; lines[0] != NULL && lines[i] != NULL; i++)
    g_string_append_printf (out, "\t%s\n", lines[i]);
}

static void
assert_same_map (GHashTable *a, GHashTable *b, const char *how,
                 const char *section)
{
  GHashTableIter iter;
  gpointer k, v;

  fuzz_assert (g_hash_table_size (a) == g_hash_table_size (b),
               "%s: [%s] has %u keys, then %u", how, section,
               g_hash_table_size (a), g_hash_table_size (b));
  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &k, &v))
    {
      const char *other = g_hash_table_lookup (b, k);

      fuzz_assert (other != NULL, "%s: [%s] loses key '%s'", how, section,
                   (char *) k);
      fuzz_assert (strcmp (other, v) == 0, "%s: [%s] %s is '%s', then '%s'",
                   how, section, (char *) k, (char *) v, other);
    }
}

/* coerce(str(coerce(raw))) == coerce(raw), with str() as
 * configure_from_config gave it to the backend (@given). */
static void
check_coerced_again (const char *key, const char *raw, const char *given)
{
  g_autoptr (GVariant) first = dogpile_coerce_string (raw, NULL);
  g_autoptr (GVariant) second = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) content = NULL;
  DogpilePyType type;

  fuzz_assert (first != NULL, "a value configure took does not coerce");
  dogpile_py_value_classify (first, &type, &content, NULL);
  if (type == DOGPILE_PY_FLOAT && !isfinite (g_variant_get_double (content)))
    return; /* Python's str() is "inf", which is a str */
  second = dogpile_coerce_string (given, &error);
  fuzz_assert (second != NULL, "the argument %s = '%s' does not coerce: %s",
               key, given, error->message);
  fuzz_assert (g_variant_equal (first, second),
               "argument %s: '%s' coerces to %s, str() of it '%s' to %s", key,
               raw, g_variant_print (first, TRUE), given,
               g_variant_print (second, TRUE));
}

/* configure_from_config on one section's settings. */
static void
check_configure (GHashTable *items)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new ("fuzz");
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  gpointer k, v;
  double expiration;

  g_clear_pointer (&last_arguments, g_hash_table_unref);
  if (!dogpile_region_configure_from_config (region, items, "", &error))
    {
      fuzz_check_error (error, "dogpile_region_configure_from_config");
      return;
    }
  expiration = dogpile_region_get_expiration_time (region);
  fuzz_assert (isfinite (expiration),
               "a region configured with expiration time %g", expiration);
  if (last_arguments == NULL)
    return; /* a proxy refused, say: the backend is made first */
  g_hash_table_iter_init (&iter, last_arguments);
  while (g_hash_table_iter_next (&iter, &k, &v))
    {
      g_autofree char *key = g_strconcat ("arguments.", k, NULL);
      const char *raw = g_hash_table_lookup (items, key);

      fuzz_assert (raw != NULL, "the backend got argument '%s' from nowhere",
                   (char *) k);
      check_coerced_again (k, raw, v);
    }
}

static void
check_coerce_all (GHashTable *items)
{
  GHashTableIter iter;
  gpointer k, v;

  g_hash_table_iter_init (&iter, items);
  while (g_hash_table_iter_next (&iter, &k, &v))
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) value = dogpile_coerce_string (v, &error);

      if (value == NULL)
        fuzz_check_error (error, "dogpile_coerce_string");
    }
}

static void
free_items (gpointer items)
{
  if (items != NULL)
    g_hash_table_unref (items);
}

/* The INI reader on @text, each section's items written back and read
 * again; the sections both readers agree on go to @plain. */
static void
check_ini (const char *text, GString *plain)
{
  static const char *const defaults[]
      = { "here", "/fuzz", "__file__", "/fuzz/app.ini", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileIni) ini
      = dogpile__ini_parse (text, "app.ini", defaults, &error);
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GPtrArray) all_items
      = g_ptr_array_new_with_free_func (free_items);
  g_auto (GStrv) sections = NULL;
  g_autoptr (DogpileIni) again = NULL;

  if (ini == NULL)
    {
      fuzz_check_error (error, "dogpile__ini_parse");
      return;
    }
  sections = dogpile__ini_dup_sections (ini);
  for (guint s = 0; sections[s] != NULL; s++)
    {
      GHashTable *items = dogpile__ini_dup_items (ini, sections[s], &error);
      GHashTableIter iter;
      gpointer k, v;
      gboolean plain_section = group_plain (sections[s]);
      g_autoptr (GString) plain_lines = g_string_new (NULL);

      g_ptr_array_add (all_items, items);
      if (items == NULL)
        {
          fuzz_check_error (error, "dogpile__ini_dup_items");
          g_clear_error (&error);
          continue;
        }
      check_coerce_all (items);
      check_configure (items);
      g_string_append_printf (out, "[%s]\n", sections[s]);
      g_hash_table_iter_init (&iter, items);
      while (g_hash_table_iter_next (&iter, &k, &v))
        {
          fuzz_assert (g_utf8_validate (k, -1, NULL)
                           && g_utf8_validate (v, -1, NULL),
                       "an item that is not UTF-8");
          /* "[k = v]" would be a section header */
          if (!ini_writable (v) || ((char *) k)[0] == '[')
            {
              /* leave it out of the comparison */
              g_hash_table_iter_remove (&iter);
              continue;
            }
          append_item (out, k, v);
          if (key_file_plain (k, v))
            g_string_append_printf (plain_lines, "%s = %s\n", (char *) k,
                                    (char *) v);
        }
      if (plain_section && plain_lines->len > 0)
        g_string_append_printf (plain, "[%s]\n%s", sections[s],
                                plain_lines->str);
    }

  again = dogpile__ini_parse (out->str, "written.ini", defaults, &error);
  fuzz_assert (again != NULL, "the items written back do not read: %s\n%s",
               error->message, out->str);
  for (guint s = 0; sections[s] != NULL; s++)
    {
      g_autoptr (GHashTable) items = NULL;

      if (all_items->pdata[s] == NULL)
        continue;
      fuzz_assert (dogpile__ini_has_section (again, sections[s]),
                   "written back, section [%s] is lost", sections[s]);
      items = dogpile__ini_dup_items (again, sections[s], &error);
      fuzz_assert (items != NULL, "written back, [%s] does not read: %s",
                   sections[s], error->message);
      /* the written items, and nothing else but the defaults */
      g_hash_table_remove (items, "here");
      g_hash_table_remove (items, "__file__");
      g_hash_table_remove (all_items->pdata[s], "here");
      g_hash_table_remove (all_items->pdata[s], "__file__");
      assert_same_map (all_items->pdata[s], items, "written back",
                       sections[s]);
    }
}

/* @plain (simple sections, plain keys and one-line values) read by both
 * readers: the same settings. */
static void
check_readers_agree (const char *plain)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileIni) ini
      = dogpile__ini_parse (plain, "plain.ini", NULL, &error);
  g_auto (GStrv) sections = NULL;

  if (ini == NULL)
    fuzz_fail ("plain text configparser does not read: %s\n%s", error->message,
               plain);
  if (!g_key_file_load_from_data (key_file, plain, strlen (plain),
                                  G_KEY_FILE_NONE, &error))
    fuzz_fail ("plain text GKeyFile does not read: %s\n%s", error->message,
               plain);
  sections = dogpile__ini_dup_sections (ini);
  for (guint s = 0; sections[s] != NULL; s++)
    {
      g_autoptr (GHashTable) items
          = dogpile__ini_dup_items (ini, sections[s], &error);
      g_autoptr (GHashTable) settings
          = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_auto (GStrv) keys
          = g_key_file_get_keys (key_file, sections[s], NULL, NULL);

      fuzz_assert (items != NULL, "plain text, [%s] does not read: %s",
                   sections[s], error->message);
      for (char **key = keys; key != NULL && *key != NULL; key++)
        g_hash_table_insert (
            settings, g_strdup (*key),
            g_key_file_get_value (key_file, sections[s], *key, NULL));
      assert_same_map (items, settings, "configparser, then GKeyFile",
                       sections[s]);
    }
}

/* The text as a GKeyFile of regions, one per group. */
static void
check_key_file (const char *text, gsize len)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (GHashTable) regions = NULL;
  g_autoptr (GError) error = NULL;

  if (!g_key_file_load_from_data (key_file, text, len, G_KEY_FILE_NONE, NULL))
    return;
  regions = dogpile_config_load_regions_from_key_file (key_file, NULL, &error);
  if (regions == NULL)
    fuzz_check_error (error, "dogpile_config_load_regions_from_key_file");
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) settings = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GString) plain = g_string_new (NULL);

  /* the public reader: files with a NUL or not UTF-8 are refused */
  write_file (file, data, size);
  settings = dogpile_config_load_settings (file, "app:main", &error);
  if (settings == NULL)
    fuzz_check_error (error, "dogpile_config_load_settings");
  if (memchr (data, '\0', size) != NULL
      || !g_utf8_validate_len ((const char *) data, size, NULL))
    {
      fuzz_assert (settings == NULL, "a file with a NUL or not UTF-8 is read");
      return 0;
    }
  text = g_strndup ((const char *) data, size);
  check_ini (text, plain);
  if (plain->len > 0)
    check_readers_agree (plain->str);
  check_key_file (text, size);
  return 0;
}
