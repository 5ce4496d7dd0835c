/* fuzz-registry.c: registry files (core/dogpile-registry.c) on any
 * bytes, read both ways: strictly (dogpile_registry_add_file: the first
 * bad line fails) and leniently (the default scan through
 * DOGPILE_REGISTRY_PATH: bad lines are skipped with a warning).
 *
 * Invariants besides not crashing:
 *  - the strict reader keeps only entries the lenient one keeps too, and
 *    when it succeeds the two keep the same entries;
 *  - a strict failure is DOGPILE_ERROR_REGISTRY_INVALID with a UTF-8
 *    message that names the file and the line;
 *  - the lenient entries written back out as a registry file read
 *    strictly, and give the same entries again;
 *  - dogpile_registry_lookup finds each listed entry as listed.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz-common.h"

#include <glib/gstdio.h>

static char *folder;
static char *file;    /* the input, as a registry file */
static char *written; /* the entries, written back */

static void
registry_cleanup (void)
{
  g_unlink (file);
  g_unlink (written);
  g_rmdir (folder);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  folder = fuzz_make_folder ("dogpile-fuzz-registry");
  file = g_build_filename (folder, "input.ini", NULL);
  written = g_build_filename (folder, "written.ini", NULL);
  g_setenv (DOGPILE_REGISTRY_SYSTEM_PATH_ENV, "", TRUE);
  g_setenv ("XDG_DATA_HOME", folder, TRUE);
  atexit (registry_cleanup);
  return 0;
}

static void
write_file (const char *path, const void *data, gsize len)
{
  FILE *f = fopen (path, "wb");

  if (f == NULL || fwrite (data, 1, len, f) != len || fclose (f) != 0)
    fuzz_fail ("cannot write %s", path);
}

/* Every entry a registry read from @path, one "group\nname\nmodule\n
 * symbol" each, sorted; the built-in proxies are left out. */
static GPtrArray *
entries_of (DogpileRegistry *registry, const char *path)
{
  static const char *const groups[]
      = { DOGPILE_REGISTRY_GROUP_BACKENDS, DOGPILE_REGISTRY_GROUP_PROXIES };
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (gsize g = 0; g < G_N_ELEMENTS (groups); g++)
    {
      g_autoptr (GPtrArray) infos
          = dogpile_registry_list (registry, groups[g]);

      for (guint i = 0; i < infos->len; i++)
        {
          DogpilePluginInfo *info = infos->pdata[i];
          const char *from = dogpile_plugin_info_get_registry_file (info);
          g_autoptr (DogpilePluginInfo) found = NULL;

          if (from == NULL)
            continue;
          fuzz_assert (strcmp (from, path) == 0,
                       "an entry from %s, not from %s", from, path);
          fuzz_assert (strcmp (dogpile_plugin_info_get_group (info), groups[g])
                           == 0,
                       "an entry of [%s] listed in [%s]",
                       dogpile_plugin_info_get_group (info), groups[g]);
          found = dogpile_registry_lookup (
              registry, groups[g], dogpile_plugin_info_get_name (info));
          fuzz_assert (found == info, "lookup of '%s' gives another entry",
                       dogpile_plugin_info_get_name (info));
          g_ptr_array_add (
              out,
              g_strjoin ("\n", groups[g], dogpile_plugin_info_get_name (info),
                         dogpile_plugin_info_get_module_path (info),
                         dogpile_plugin_info_get_symbol (info), NULL));
        }
    }
  g_ptr_array_sort (out, (GCompareFunc) g_ascii_strcasecmp);
  return out;
}

static gboolean
contains (GPtrArray *entries, const char *entry)
{
  for (guint i = 0; i < entries->len; i++)
    if (strcmp (entries->pdata[i], entry) == 0)
      return TRUE;
  return FALSE;
}

static void
assert_same (GPtrArray *a, GPtrArray *b, const char *how)
{
  fuzz_assert (a->len == b->len, "%s: %u entries, then %u", how, a->len,
               b->len);
  for (guint i = 0; i < a->len; i++)
    fuzz_assert (contains (b, a->pdata[i]), "%s: the entry '%s' is lost", how,
                 (char *) a->pdata[i]);
}

/* What @entries can be written as: a module path without surrounding
 * spaces (the reader strips them). */
static gboolean
writable (const char *entry)
{
  g_auto (GStrv) parts = g_strsplit (entry, "\n", 4);
  g_autofree char *module = g_strdup (parts[2]);

  return strcmp (g_strstrip (module), parts[2]) == 0;
}

/* @entries as a registry file, read back strictly. */
static void
check_written (GPtrArray *entries)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GPtrArray) kept = g_ptr_array_new ();
  g_autoptr (DogpileRegistry) registry = NULL;
  g_autoptr (GPtrArray) again = NULL;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < entries->len; i++)
    {
      g_auto (GStrv) parts = NULL;

      if (!writable (entries->pdata[i]))
        continue;
      parts = g_strsplit (entries->pdata[i], "\n", 4);
      g_string_append_printf (text, "[%s]\n%s = %s:%s\n", parts[0], parts[1],
                              parts[2], parts[3]);
      g_ptr_array_add (kept, entries->pdata[i]);
    }
  write_file (written, text->str, text->len);
  g_setenv (DOGPILE_REGISTRY_PATH_ENV, "", TRUE);
  registry = dogpile_registry_new ();
  fuzz_assert (dogpile_registry_add_file (registry, written, &error),
               "the entries written back do not read: %s\n%s", error->message,
               text->str);
  again = entries_of (registry, written);
  for (guint i = 0; i < again->len; i++)
    {
      /* the same entries, from the other file */
      g_auto (GStrv) parts = g_strsplit (again->pdata[i], "\n", 4);

      fuzz_assert (contains (kept, again->pdata[i]),
                   "written back, '%s = %s:%s' reads as another entry",
                   parts[1], parts[2], parts[3]);
    }
  fuzz_assert (again->len == kept->len,
               "%u entries written back read as %u:\n%s", kept->len,
               again->len, text->str);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (DogpileRegistry) strict = NULL;
  g_autoptr (DogpileRegistry) lenient = NULL;
  g_autoptr (GPtrArray) strict_entries = NULL;
  g_autoptr (GPtrArray) lenient_entries = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  write_file (file, data, size);

  /* strictly, with nothing in the default scan */
  g_setenv (DOGPILE_REGISTRY_PATH_ENV, "", TRUE);
  strict = dogpile_registry_new ();
  ok = dogpile_registry_add_file (strict, file, &error);
  if (!ok)
    {
      g_autofree char *where = g_strconcat (file, ":", NULL);

      fuzz_check_error (error, "dogpile_registry_add_file");
      fuzz_assert (g_error_matches (error, DOGPILE_ERROR,
                                    DOGPILE_ERROR_REGISTRY_INVALID),
                   "a bad registry file gives %s %d: %s",
                   g_quark_to_string (error->domain), error->code,
                   error->message);
      fuzz_assert (g_str_has_prefix (error->message, where),
                   "the message does not name the file: %s", error->message);
    }
  strict_entries = entries_of (strict, file);

  /* leniently, as the only file of the default scan */
  g_setenv (DOGPILE_REGISTRY_PATH_ENV, file, TRUE);
  lenient = dogpile_registry_new ();
  lenient_entries = entries_of (lenient, file);

  for (guint i = 0; i < strict_entries->len; i++)
    fuzz_assert (contains (lenient_entries, strict_entries->pdata[i]),
                 "the strict reader keeps '%s', the lenient one does not",
                 (char *) strict_entries->pdata[i]);
  if (ok)
    assert_same (strict_entries, lenient_entries, "strict, then lenient");
  check_written (lenient_entries);
  return 0;
}
