/* dogpile-null.c: dogpile.cache.null, a backend that stores nothing.
 *
 * Every get misses and every write is dropped; its mutex always acquires,
 * so nothing is serialised and every get_or_create runs the creator.  Used
 * to switch caching off without changing code.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dogpile/dogpile-plugin.h>

/* No state; a distinct allocation keeps create's NULL meaning "failed". */
struct DogpileBackendImpl {
  char unused;
};

static DogpileBackendImpl *
null_create (GHashTable *arguments, GError **error)
{
  return g_new0 (DogpileBackendImpl, 1);
}

static void
null_destroy (DogpileBackendImpl *self)
{
  g_free (self);
}

static gboolean
null_get (DogpileBackendImpl *self, const char *key, GBytes **out_value,
          GError **error)
{
  *out_value = NULL;
  return TRUE;
}

static gboolean
null_set (DogpileBackendImpl *self, const char *key, GBytes *value,
          GError **error)
{
  return TRUE;
}

static gboolean
null_delete (DogpileBackendImpl *self, const char *key, GError **error)
{
  return TRUE;
}

static gboolean
null_get_multi (DogpileBackendImpl *self, const char *const *keys,
                gsize n_keys, GBytes **out_values, GError **error)
{
  return TRUE;
}

static gboolean
null_set_multi (DogpileBackendImpl *self, const char *const *keys,
                GBytes *const *values, gsize n_keys, GError **error)
{
  return TRUE;
}

static gboolean
null_delete_multi (DogpileBackendImpl *self, const char *const *keys,
                   gsize n_keys, GError **error)
{
  return TRUE;
}

static DogpileMutex *
null_get_mutex (DogpileBackendImpl *self, const char *key)
{
  return dogpile_mutex_new_null ();
}

/* Python's NullBackend ignores its arguments: so does this one, all of
 * them, so a region switched to null keeps its other backend's arguments
 * without a warning. */
static const DogpileArgumentSpec null_arguments[] = {
  DOGPILE_ARGUMENT ("", DOGPILE_ARGUMENT_STRING,
                    DOGPILE_ARGUMENT_PREFIX | DOGPILE_ARGUMENT_IGNORED, NULL,
                    "any argument: a region can switch to null without "
                    "editing its arguments"),
  DOGPILE_ARGUMENT_SPEC_END,
};

static const DogpileBackendDesc null_desc = {
  .abi_version = DOGPILE_BACKEND_ABI_VERSION,
  .name = "dogpile.cache.null",
  .description = "Stores nothing: every get misses, every lock acquires",
  .version = DOGPILE_VERSION_STRING,
  .create = null_create,
  .destroy = null_destroy,
  .get = null_get,
  .set = null_set,
  .delete_key = null_delete,
  .get_multi = null_get_multi,
  .set_multi = null_set_multi,
  .delete_multi = null_delete_multi,
  .get_mutex = null_get_mutex,
  .arguments = null_arguments,
};

DOGPILE_BACKEND_DEFINE (null, null_desc)
