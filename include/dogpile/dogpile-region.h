/* dogpile-region.h: a cache region, dogpile.cache's CacheRegion: its
 * configuration and data calls.  get_or_create and the dogpile lock are in
 * dogpile-get-or-create.h, invalidation in dogpile-invalidation.h.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-region
 * @title: Regions
 * @short_description: dogpile.cache's CacheRegion: configuration and the
 *   data calls
 * @include: dogpile/dogpile.h
 *
 * A #DogpileRegion is dogpile.cache's CacheRegion: a front to one backend
 * (a plugin such as dogpile.cache.memory or dogpile.cache.redis, possibly
 * behind proxies), with an expiration time and optional hooks: a key
 * mangler and a payload serializer.  dogpile_region_new() is `make_region`,
 * dogpile_region_configure() is region.configure(), and the data calls are
 * `region.get`, `get_multi`, `set`, `set_multi`, `delete`,
 * `delete_multi` and `get_value_metadata`.  The read-through
 * `get_or_create` and the
 * dogpile lock are in the get_or_create section, invalidate() in the
 * invalidation section.  The config loaders
 * (dogpile_region_configure_from_config() and the others) configure a
 * region from a config map or file, as `configure_from_config` does.
 *
 * Values are payload bytes (#GBytes) stored with their creation time; a
 * value older than the expiration time, or created before an
 * invalidation, reads as a miss.  The Serializers section stores other
 * values (#GVariant) through a serializer.
 *
 * The hooks (dogpile_region_set_key_mangler(),
 * dogpile_region_set_serializer() and the other setup calls) are set
 * before dogpile_region_configure(); after that every call may be made
 * from any thread at once, reconfiguring with
 * %DOGPILE_CONFIGURE_REPLACE_EXISTING included (docs/thread-safety.md).
 * Where the C calls differ from Python's is in docs/differences.md.
 *
 * |[<!-- language="C" -->
 * g_autoptr (DogpileRegion) region = dogpile_region_new ("users");
 * g_autoptr (GBytes) payload = g_bytes_new_static ("Ada", 3);
 * g_autoptr (GBytes) value = NULL;
 * g_autoptr (GError) error = NULL;
 *
 * if (!dogpile_region_configure (region, "dogpile.cache.memory", 600,
 *                                NULL, DOGPILE_CONFIGURE_NONE, &error))
 *   g_error ("%s", error->message);
 * dogpile_region_set (region, "user:42", payload, &error);
 * if (dogpile_region_get (region, "user:42", &value, &error) && value != NULL)
 *   ... a hit ...
 * ]|
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include <math.h>

#include "dogpile-arguments.h"
#include "dogpile-backend.h"
#include "dogpile-macros.h"
#include "dogpile-value.h"

G_BEGIN_DECLS

/**
 * DOGPILE_EXPIRATION_DEFAULT:
 *
 * An expiration time (seconds, as a double) that, in a per-call override,
 * means "the region's".  It is a NaN, so test it with isnan(); it is not
 * a region's expiration time (dogpile_region_configure() refuses it).
 */
#define DOGPILE_EXPIRATION_DEFAULT (NAN)

/**
 * DOGPILE_EXPIRATION_NONE:
 *
 * The expiration time (-1) of values that never expire by age, in get()
 * as well as `get_or_create`.  dogpile.cache's get() treats -1 as always
 * expired (docs/differences.md).  An expiration time of 0 means always
 * expired.
 */
#define DOGPILE_EXPIRATION_NONE (-1.0)

/**
 * DogpileConfigureFlags:
 * @DOGPILE_CONFIGURE_NONE: no flag: a configured region is refused
 * @DOGPILE_CONFIGURE_REPLACE_EXISTING: replace the backend of a
 *   configured region (dogpile.cache's replace_existing_backend=True)
 * @DOGPILE_CONFIGURE_STRICT_ARGUMENTS: C only: an argument the backend
 *   (or a proxy configured with it) does not declare is
 *   %DOGPILE_ERROR_VALIDATION instead of a warning (the configuration's
 *   strict_arguments)
 *
 * Flags for dogpile_region_configure().
 */
typedef enum {
  DOGPILE_CONFIGURE_NONE = 0,
  DOGPILE_CONFIGURE_REPLACE_EXISTING = 1 << 0,
  DOGPILE_CONFIGURE_STRICT_ARGUMENTS = 1 << 1,
} DogpileConfigureFlags;

/**
 * DogpileGetFlags:
 * @DOGPILE_GET_NONE: no flag: expired and invalidated values are misses
 * @DOGPILE_GET_IGNORE_EXPIRATION: return a stored value however old and
 *   even when invalidated (dogpile.cache's ignore_expiration=True)
 *
 * Flags for dogpile_region_get_full() and the other get calls.
 */
typedef enum {
  DOGPILE_GET_NONE = 0,
  DOGPILE_GET_IGNORE_EXPIRATION = 1 << 0,
} DogpileGetFlags;

/**
 * DogpileRegion:
 *
 * A cache region, dogpile.cache's CacheRegion: an opaque,
 * reference-counted object.  Make one with dogpile_region_new().
 */
typedef struct DogpileRegion DogpileRegion;
#ifndef __GTK_DOC_IGNORE__
typedef struct DogpileProxyDesc DogpileProxyDesc; /* dogpile-plugin.h */
#endif

/**
 * DogpileKeyMangler:
 * @key: the caller's key; borrowed for the call
 * @user_data: (closure): the data given with the mangler
 *
 * Turns each key into the key the backend sees: dogpile.cache's
 * key_mangler (dogpile_sha1_mangle_key() is its sha1_mangle_key).  It must
 * be a pure function: the same key always gives the same result.
 *
 * Thread safety: called from whichever thread makes a region call,
 * possibly from several at once.
 *
 * Returns: (transfer full) (not nullable): a new string, freed with
 *   g_free()
 */
typedef char *(*DogpileKeyMangler) (const char *key, gpointer user_data);

/**
 * DogpileSerializeFunc:
 * @payload: (transfer none): the payload given to the region; borrowed
 * @user_data: (closure): the data given with the serializer
 * @error: return location for a #GError
 *
 * Turns a payload into the bytes stored: dogpile.cache's serializer.  A
 * %NULL return without @error set is reported as
 * %DOGPILE_ERROR_VALIDATION.
 *
 * Thread safety: called from whichever thread makes a region call (an
 * async creation's store from the runner's thread), possibly from several
 * at once.
 *
 * Returns: (transfer full): the stored payload, or %NULL with @error set
 */
typedef GBytes *(*DogpileSerializeFunc) (GBytes *payload, gpointer user_data,
                                         GError **error);

/**
 * DogpileDeserializeFunc:
 * @stored: (transfer none): the stored payload, as the backend returned it
 *   after the record's metadata; borrowed
 * @user_data: (closure): the data given with the serializer
 * @error: return location for a #GError
 *
 * Turns the stored bytes back into the payload: dogpile.cache's
 * deserializer.  A failure with %DOGPILE_ERROR_CANT_DESERIALIZE
 * (dogpile.cache 1.2's CantDeserializeException), or a %NULL return
 * without @error set, makes the value a miss; any other error fails the
 * call that read it.
 *
 * Thread safety: called from whichever thread makes a region call,
 * possibly from several at once.
 *
 * Returns: (transfer full): the payload, or %NULL with @error set
 */
typedef GBytes *(*DogpileDeserializeFunc) (GBytes *stored, gpointer user_data,
                                           GError **error);

DOGPILE_API DogpileRegion *dogpile_region_new (const char *name);
DOGPILE_API DogpileRegion *dogpile_region_ref (DogpileRegion *self);
DOGPILE_API void dogpile_region_unref (DogpileRegion *self);
DOGPILE_API const char *dogpile_region_get_name (DogpileRegion *self);

DOGPILE_API void dogpile_region_set_key_mangler (DogpileRegion *self,
                                                 DogpileKeyMangler mangler,
                                                 gpointer user_data,
                                                 GDestroyNotify destroy);
DOGPILE_API void
dogpile_region_set_serializer (DogpileRegion *self,
                               DogpileSerializeFunc serialize,
                               DogpileDeserializeFunc deserialize,
                               gpointer user_data, GDestroyNotify destroy);

DOGPILE_API gboolean dogpile_region_configure (
    DogpileRegion *self, const char *backend, double expiration_time,
    GHashTable *arguments, DogpileConfigureFlags flags, GError **error);
DOGPILE_API gboolean dogpile_region_wrap (DogpileRegion *self,
                                          const char *proxy,
                                          GHashTable *arguments,
                                          GError **error);
DOGPILE_API gboolean dogpile_region_wrap_desc (DogpileRegion *self,
                                               const DogpileProxyDesc *desc,
                                               GHashTable *arguments,
                                               GError **error);
DOGPILE_API gboolean dogpile_region_is_configured (DogpileRegion *self);
DOGPILE_API double dogpile_region_get_expiration_time (DogpileRegion *self);
DOGPILE_API DogpileBackend *dogpile_region_get_backend (DogpileRegion *self,
                                                        GError **error);
DOGPILE_API DogpileBackend *
dogpile_region_get_actual_backend (DogpileRegion *self, GError **error);
DOGPILE_API gboolean dogpile_region_get_backend_counters (
    DogpileRegion *self, DogpileBackendCounters *out_counters, GError **error);

DOGPILE_API gboolean dogpile_region_get (DogpileRegion *self, const char *key,
                                         GBytes **out_value, GError **error);
DOGPILE_API gboolean dogpile_region_get_full (
    DogpileRegion *self, const char *key, double expiration_time,
    DogpileGetFlags flags, GBytes **out_value, GError **error);
DOGPILE_API gboolean dogpile_region_get_value_metadata (
    DogpileRegion *self, const char *key, double expiration_time,
    DogpileGetFlags flags, DogpileCachedValue **out_value, GError **error);
DOGPILE_API gboolean dogpile_region_get_multi (DogpileRegion *self,
                                               const char *const *keys,
                                               gsize n_keys,
                                               GBytes **out_values,
                                               GError **error);
DOGPILE_API gboolean dogpile_region_get_multi_full (
    DogpileRegion *self, const char *const *keys, gsize n_keys,
    double expiration_time, DogpileGetFlags flags, GBytes **out_values,
    GError **error);
DOGPILE_API gboolean dogpile_region_set (DogpileRegion *self, const char *key,
                                         GBytes *value, GError **error);
DOGPILE_API gboolean dogpile_region_set_multi (DogpileRegion *self,
                                               const char *const *keys,
                                               GBytes *const *values,
                                               gsize n_keys, GError **error);
DOGPILE_API gboolean dogpile_region_delete (DogpileRegion *self,
                                            const char *key, GError **error);
DOGPILE_API gboolean dogpile_region_delete_multi (DogpileRegion *self,
                                                  const char *const *keys,
                                                  gsize n_keys,
                                                  GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpileRegion, dogpile_region_unref)

G_END_DECLS
