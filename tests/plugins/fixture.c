/* fixture.c: deliberately good and broken plugins for the loader tests,
 * one module per FIXTURE_* variant (see meson.build).
 *
 * SPDX-License-Identifier: MIT
 */
#include <dogpile/dogpile-plugin.h>

struct DogpileBackendImpl {
  GMutex lock;
  GHashTable *items;
};

static DogpileBackendImpl *
fixture_create (GHashTable *arguments, GError **error)
{
  DogpileBackendImpl *self;
  gboolean fail = FALSE;

  if (!dogpile_arguments_get_boolean (arguments, "fail", FALSE, &fail, error))
    return NULL;
  if (fail)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "fixture asked to fail");
      return NULL;
    }
  self = g_new0 (DogpileBackendImpl, 1);
  g_mutex_init (&self->lock);
  self->items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_bytes_unref);
  return self;
}

static void
fixture_destroy (DogpileBackendImpl *self)
{
  g_hash_table_unref (self->items);
  g_mutex_clear (&self->lock);
  g_free (self);
}

G_GNUC_UNUSED static gboolean
fixture_get (DogpileBackendImpl *self, const char *key, GBytes **out_value,
             GError **error)
{
  GBytes *value;

  g_mutex_lock (&self->lock);
  value = g_hash_table_lookup (self->items, key);
  *out_value = value != NULL ? g_bytes_ref (value) : NULL;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
fixture_set (DogpileBackendImpl *self, const char *key, GBytes *value,
             GError **error)
{
  g_mutex_lock (&self->lock);
  g_hash_table_replace (self->items, g_strdup (key), g_bytes_ref (value));
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
fixture_delete (DogpileBackendImpl *self, const char *key, GError **error)
{
  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->items, key);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static const DogpileBackendDesc fixture_desc = {
#if defined(FIXTURE_ABI_FUTURE)
  .abi_version = DOGPILE_BACKEND_ABI_VERSION + 1,
#else
  .abi_version = DOGPILE_BACKEND_ABI_VERSION,
#endif
#if defined(FIXTURE_NAME_MISMATCH)
  .name = "fixture.somebody_else",
#else
  .name = FIXTURE_NAME,
#endif
  .description = "a test fixture",
  .version = "0",
  .create = fixture_create,
  .destroy = fixture_destroy,
#if !defined(FIXTURE_INCOMPLETE)
  .get = fixture_get,
#endif
  .set = fixture_set,
  .delete = fixture_delete,
};

#if defined(FIXTURE_NULL_DESC)
DOGPILE_PLUGIN_EXPORT const DogpileBackendDesc *
dogpile_backend_fixture_get_desc (void);
const DogpileBackendDesc *
dogpile_backend_fixture_get_desc (void)
{
  (void) fixture_desc;
  return NULL;
}
#else
DOGPILE_BACKEND_DEFINE (fixture, fixture_desc)
#endif
