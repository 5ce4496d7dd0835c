/* dogpile-example-files.c: an example backend plugin, built only against
 * the installed libdogpile headers (see Makefile and
 * docs/writing-plugins.md).
 *
 * example.files keeps each value in a file of its own under a directory:
 *
 *     [cache.files]
 *     backend = example.files
 *     arguments.directory = /var/cache/myapp
 *
 * It is a byte-level backend: the region hands it complete records
 * ({"ct": ..., "v": 2}|payload) and reads them back; the plugin never
 * looks inside.  Writes go to a temporary file renamed into place, so a
 * reader never sees half a value.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dogpile/dogpile-plugin.h>
#include <errno.h>
#include <glib/gstdio.h>

struct DogpileBackendImpl {
  char *directory;
};

static DogpileBackendImpl *
files_create (GHashTable *arguments, GError **error)
{
  DogpileBackendImpl *self;
  const char *directory;

  if (!dogpile_arguments_get_string (arguments, "directory", NULL, &directory,
                                     error))
    return NULL;
  if (directory == NULL)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "Argument 'directory' is required: the folder to keep "
                   "values in");
      return NULL;
    }
  if (g_mkdir_with_parents (directory, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "Cannot create directory %s: %s", directory,
                   g_strerror (saved));
      return NULL;
    }
  self = g_new0 (DogpileBackendImpl, 1);
  self->directory = g_strdup (directory);
  return self;
}

static void
files_destroy (DogpileBackendImpl *self)
{
  g_free (self->directory);
  g_free (self);
}

/* Keys may hold any character; hex makes every key a safe file name. */
static char *
path_for (DogpileBackendImpl *self, const char *key)
{
  GString *name = g_string_new (NULL);
  g_autofree char *file = NULL;

  for (const unsigned char *p = (const unsigned char *) key; *p; p++)
    g_string_append_printf (name, "%02x", *p);
  if (name->len == 0)
    g_string_append (name, "empty-key");
  file = g_string_free (name, FALSE);
  return g_build_filename (self->directory, file, NULL);
}

static gboolean
files_get (DogpileBackendImpl *self, const char *key, GBytes **out_value,
           GError **error)
{
  g_autofree char *path = path_for (self, key);
  g_autoptr (GError) local_error = NULL;
  char *contents;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE; /* a miss is not an error */
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND, "%s",
                   local_error->message);
      return FALSE;
    }
  *out_value = g_bytes_new_take (contents, length);
  return TRUE;
}

static gboolean
files_set (DogpileBackendImpl *self, const char *key, GBytes *value,
           GError **error)
{
  g_autofree char *path = path_for (self, key);
  g_autoptr (GError) local_error = NULL;
  gsize length;
  const char *data = g_bytes_get_data (value, &length);

  if (!g_file_set_contents (path, data != NULL ? data : "", (gssize) length,
                            &local_error))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND, "%s",
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
files_delete (DogpileBackendImpl *self, const char *key, GError **error)
{
  g_autofree char *path = path_for (self, key);

  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved = errno;

      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "Cannot delete %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* The arguments it takes: an argument not listed here is reported (a
 * warning, or an error with strict_arguments), and `dogpile-plugins
 * example.files` shows the table. */
static const DogpileArgumentSpec files_arguments[] = {
  DOGPILE_ARGUMENT ("directory", DOGPILE_ARGUMENT_FILENAME,
                    DOGPILE_ARGUMENT_REQUIRED, NULL,
                    "the folder to keep values in, one file per key"),
  DOGPILE_ARGUMENT_SPEC_END,
};

static const DogpileBackendDesc files_desc = {
  .abi_version = DOGPILE_BACKEND_ABI_VERSION,
  .name = "example.files",
  .description = "Example: one file per key under a directory",
  .version = "1.0",
  .create = files_create,
  .destroy = files_destroy,
  .get = files_get,
  .set = files_set,
  .delete_key = files_delete,
  /* get_multi, set_multi, delete_multi, get_mutex: left out, so the core
   * loops over the single-key operations and uses in-process locks. */
  .arguments = files_arguments,
};

DOGPILE_BACKEND_DEFINE (example_files, files_desc)
