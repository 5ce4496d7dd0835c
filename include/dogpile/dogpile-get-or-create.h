/* dogpile-get-or-create.h: read-through access under the dogpile lock: a
 * region's get_or_create (dogpile.cache's CacheRegion.get_or_create and
 * get_or_create_multi) and the per-key mutex behind it.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-async.h"
#include "dogpile-macros.h"
#include "dogpile-mutex.h"
#include "dogpile-region.h"

G_BEGIN_DECLS

/* Makes the value for @key (the caller's key, before mangling); returns a
 * new reference, or NULL with @error set. */
typedef GBytes *(*DogpileCreatorFunc) (const char *key, gpointer user_data,
                                       GError **error);

/* Makes values for @keys (sorted, unique), filling every slot of
 * @out_values (transfer full). */
typedef gboolean (*DogpileMultiCreatorFunc) (const char *const *keys,
                                             gsize n_keys, GBytes **out_values,
                                             gpointer user_data,
                                             GError **error);

/* Whether a newly created value is stored (it is returned either way). */
typedef gboolean (*DogpileShouldCacheFunc) (GBytes *value, gpointer user_data);

DOGPILE_API void dogpile_region_set_async_creation_runner (
    DogpileRegion *self, DogpileAsyncRunner runner, gpointer user_data,
    GDestroyNotify destroy);

DOGPILE_API gboolean dogpile_region_get_or_create (
    DogpileRegion *self, const char *key, DogpileCreatorFunc creator,
    gpointer user_data, GBytes **out_value, GError **error);
DOGPILE_API gboolean dogpile_region_get_or_create_full (
    DogpileRegion *self, const char *key, DogpileCreatorFunc creator,
    gpointer user_data, GDestroyNotify user_data_destroy,
    double expiration_time, DogpileShouldCacheFunc should_cache,
    gpointer should_cache_data, GBytes **out_value, GError **error);
DOGPILE_API gboolean dogpile_region_get_or_create_multi (
    DogpileRegion *self, const char *const *keys, gsize n_keys,
    DogpileMultiCreatorFunc creator, gpointer user_data,
    double expiration_time, DogpileShouldCacheFunc should_cache,
    gpointer should_cache_data, GBytes **out_values, GError **error);
DOGPILE_API DogpileMutex *dogpile_region_get_mutex (DogpileRegion *self,
                                                    const char *key,
                                                    GError **error);
DOGPILE_API gboolean dogpile_region_key_is_locked (DogpileRegion *self,
                                                   const char *key,
                                                   gboolean *out_locked,
                                                   GError **error);

G_END_DECLS
