/* dogpile-dbm.c: dogpile.cache.dbm, a GNU dbm file shared by processes.
 *
 * Python's DBMBackend (spec 3.3), with its arguments and locks, so that C
 * and Python processes use one file at once:
 *
 *   filename          required; made absolute and normalised
 *   rw_lockfile       default <filename>.rw.lock; false: no read/write lock
 *   dogpile_lockfile  default <filename>.dogpile.lock; false: the region's
 *                     in-process lock per key
 *   reuse_handle      (C only) auto, true or false: keep the gdbm file open
 *                     between operations (dbm-handle.c); auto does where
 *                     the filesystem makes that safe
 *
 * Keys are stored as their UTF-8 bytes, values as the bytes the region
 * gives (the {"ct": ..., "v": 2}|payload record), as Python stores them.
 * Python's lock_factory (a class) has no string form and is ignored, like
 * any unknown argument.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dbm-private.h"

#include <errno.h>
#include <stdlib.h>

struct DogpileBackendImpl {
  DbmFile *file;
  DbmKeyStore *keys; /* NULL with dogpile_lockfile=false */
};

/* A lock file argument: absent or None gives @default_path; "false" (any
 * case) turns the lock off (*out_path NULL); anything else is a path. */
static gboolean
lock_path_argument (GHashTable *arguments, const char *name,
                    const char *default_path, char **out_path, GError **error)
{
  g_autofree char *value = NULL;
  const char *raw;

  *out_path = NULL;
  dogpile_arguments_get_string (arguments, name, NULL, &raw, NULL);
  if (raw == NULL)
    {
      *out_path = g_strdup (default_path);
      return TRUE;
    }
  value = g_strstrip (g_strdup (raw));
  if (g_ascii_strcasecmp (value, "false") == 0)
    return TRUE;
  if (value[0] == '\0' || g_ascii_strcasecmp (value, "true") == 0)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "Argument '%s' must be a file name or false, not '%s'",
                   name, raw);
      return FALSE;
    }
  *out_path = g_canonicalize_filename (value, NULL);
  return TRUE;
}

static gboolean
reuse_argument (GHashTable *arguments, DbmReuse *out_reuse, GError **error)
{
  static const char *const choices[]
      = { "auto", "true", "false", "1", "0", NULL };
  static const DbmReuse meaning[]
      = { DBM_REUSE_AUTO, DBM_REUSE_ALWAYS, DBM_REUSE_NEVER, DBM_REUSE_ALWAYS,
          DBM_REUSE_NEVER };
  guint choice;

  if (!dogpile_arguments_get_choice (arguments, "reuse_handle", choices, 0,
                                     &choice, error))
    return FALSE;
  *out_reuse = meaning[choice];
  return TRUE;
}

static DogpileBackendImpl *
dbm_create (GHashTable *arguments, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *rw_default = NULL;
  g_autofree char *dogpile_default = NULL;
  g_autofree char *rw_path = NULL;
  g_autofree char *dogpile_path = NULL;
  DogpileBackendImpl *self;
  const char *filename;
  DbmReuse reuse;
  DbmFile *file;

  /* Given means not blank; the path is used as given, as Python does. */
  dogpile_arguments_get_string (arguments, "filename", NULL, &filename, NULL);
  if (!dogpile_arguments_has (arguments, "filename"))
    {
      g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                           "dogpile.cache.dbm needs the argument 'filename' "
                           "(the path of the dbm file)");
      return NULL;
    }
  path = g_canonicalize_filename (filename, NULL);
  rw_default = g_strconcat (path, ".rw.lock", NULL);
  dogpile_default = g_strconcat (path, ".dogpile.lock", NULL);
  if (!lock_path_argument (arguments, "rw_lockfile", rw_default, &rw_path,
                           error)
      || !lock_path_argument (arguments, "dogpile_lockfile", dogpile_default,
                              &dogpile_path, error)
      || !reuse_argument (arguments, &reuse, error))
    return NULL;

  file = dbm_file_new (path, rw_path, reuse, error);
  if (file == NULL)
    return NULL;
  self = g_new0 (DogpileBackendImpl, 1);
  self->file = file;
  if (dogpile_path != NULL)
    self->keys = dbm_key_store_new (dogpile_path);
  return self;
}

static void
dbm_destroy (DogpileBackendImpl *self)
{
  dbm_file_free (self->file);
  if (self->keys != NULL)
    dbm_key_store_unref (self->keys);
  g_free (self);
}

static datum
key_datum (const char *key)
{
  datum d = { (char *) key, (int) strlen (key) };

  return d;
}

/* --- the operations, run by dbm_file_read/write with the file open ---- */

typedef struct {
  const char *const *keys;
  gsize n_keys;
  GBytes **out_values;
  GBytes *const *values;
} Batch;

static gboolean
fetch_batch (DbmFile *file, GDBM_FILE dbf, gpointer user_data, GError **error)
{
  Batch *b = user_data;

  for (gsize i = 0; i < b->n_keys; i++)
    {
      datum value = gdbm_fetch (dbf, key_datum (b->keys[i]));

      if (value.dptr == NULL)
        {
          if (gdbm_last_errno (dbf) == GDBM_ITEM_NOT_FOUND)
            continue;
          dbm_file_gdbm_error (file, dbf, error, "cannot read from");
          for (gsize j = 0; j < i; j++)
            g_clear_pointer (&b->out_values[j], g_bytes_unref);
          return FALSE;
        }
      /* gdbm's malloc'd buffer becomes the value without a copy. */
      b->out_values[i] = g_bytes_new_with_free_func (
          value.dptr, (gsize) value.dsize, free, value.dptr);
    }
  return TRUE;
}

static gboolean
store_batch (DbmFile *file, GDBM_FILE dbf, gpointer user_data, GError **error)
{
  Batch *b = user_data;

  for (gsize i = 0; i < b->n_keys; i++)
    {
      gsize size;
      const char *data = g_bytes_get_data (b->values[i], &size);
      datum value;

      if (size > G_MAXINT)
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                       "dogpile.cache.dbm: a value of %zu bytes is too big "
                       "for gdbm",
                       size);
          return FALSE;
        }
      value.dptr = (char *) (data != NULL ? data : "");
      value.dsize = (int) size;
      if (gdbm_store (dbf, key_datum (b->keys[i]), value, GDBM_REPLACE) != 0)
        {
          dbm_file_gdbm_error (file, dbf, error, "cannot write to");
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
delete_batch (DbmFile *file, GDBM_FILE dbf, gpointer user_data, GError **error)
{
  Batch *b = user_data;

  for (gsize i = 0; i < b->n_keys; i++)
    if (gdbm_delete (dbf, key_datum (b->keys[i])) != 0
        && gdbm_last_errno (dbf) != GDBM_ITEM_NOT_FOUND)
      {
        dbm_file_gdbm_error (file, dbf, error, "cannot delete from");
        return FALSE;
      }
  return TRUE;
}

static gboolean
dbm_get_multi (DogpileBackendImpl *self, const char *const *keys, gsize n_keys,
               GBytes **out_values, GError **error)
{
  Batch b = { .keys = keys, .n_keys = n_keys, .out_values = out_values };

  if (n_keys == 0)
    return TRUE;
  return dbm_file_read (self->file, fetch_batch, &b, error);
}

static gboolean
dbm_get (DogpileBackendImpl *self, const char *key, GBytes **out_value,
         GError **error)
{
  *out_value = NULL;
  return dbm_get_multi (self, &key, 1, out_value, error);
}

static gboolean
dbm_set_multi (DogpileBackendImpl *self, const char *const *keys,
               GBytes *const *values, gsize n_keys, GError **error)
{
  Batch b = { .keys = keys, .n_keys = n_keys, .values = values };

  if (n_keys == 0)
    return TRUE;
  return dbm_file_write (self->file, store_batch, &b, error);
}

static gboolean
dbm_set (DogpileBackendImpl *self, const char *key, GBytes *value,
         GError **error)
{
  return dbm_set_multi (self, &key, &value, 1, error);
}

static gboolean
dbm_delete_multi (DogpileBackendImpl *self, const char *const *keys,
                  gsize n_keys, GError **error)
{
  Batch b = { .keys = keys, .n_keys = n_keys };

  if (n_keys == 0)
    return TRUE;
  return dbm_file_write (self->file, delete_batch, &b, error);
}

static gboolean
dbm_delete (DogpileBackendImpl *self, const char *key, GError **error)
{
  return dbm_delete_multi (self, &key, 1, error);
}

static DogpileMutex *
dbm_get_mutex (DogpileBackendImpl *self, const char *key)
{
  return self->keys != NULL ? dbm_key_mutex_new (self->keys, key) : NULL;
}

/* What dbm_create reads, and Python's argument it cannot. */
static const DogpileArgumentSpec dbm_arguments[] = {
  DOGPILE_ARGUMENT ("filename", DOGPILE_ARGUMENT_FILENAME,
                    DOGPILE_ARGUMENT_REQUIRED, NULL,
                    "the gdbm file, made absolute; created if missing"),
  DOGPILE_ARGUMENT ("rw_lockfile", DOGPILE_ARGUMENT_FILENAME,
                    DOGPILE_ARGUMENT_FLAGS_NONE, "<filename>.rw.lock",
                    "the read/write lock file around every access; false: "
                    "none"),
  DOGPILE_ARGUMENT ("dogpile_lockfile", DOGPILE_ARGUMENT_FILENAME,
                    DOGPILE_ARGUMENT_FLAGS_NONE, "<filename>.dogpile.lock",
                    "the regeneration lock file; false: the region's "
                    "in-process lock per key"),
  DOGPILE_ARGUMENT ("reuse_handle", DOGPILE_ARGUMENT_CHOICE,
                    DOGPILE_ARGUMENT_C_ONLY, "auto",
                    "true, false or auto: keep the gdbm file open between "
                    "operations (auto: where the filesystem makes it safe)"),
  DOGPILE_ARGUMENT ("lock_factory", DOGPILE_ARGUMENT_STRING,
                    DOGPILE_ARGUMENT_IGNORED, NULL,
                    "Python's lock class: a config string cannot carry it"),
  DOGPILE_ARGUMENT_SPEC_END,
};

static const DogpileBackendDesc dbm_desc = {
  .abi_version = DOGPILE_BACKEND_ABI_VERSION,
  .name = "dogpile.cache.dbm",
  .description = "A GNU dbm file shared by processes, C and Python, under "
                 "dogpile.cache's lock files",
  .version = DOGPILE_VERSION_STRING,
  .create = dbm_create,
  .destroy = dbm_destroy,
  .get = dbm_get,
  .set = dbm_set,
  .delete_key = dbm_delete,
  .get_multi = dbm_get_multi,
  .set_multi = dbm_set_multi,
  .delete_multi = dbm_delete_multi,
  .get_mutex = dbm_get_mutex,
  .arguments = dbm_arguments,
};

DOGPILE_BACKEND_DEFINE (dbm, dbm_desc)
