/* dogpile-get-or-create.h: read-through access under the dogpile lock: a
 * region's get_or_create (dogpile.cache's CacheRegion.get_or_create and
 * get_or_create_multi) and the per-key mutex behind it.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-get-or-create
 * @title: get_or_create
 * @short_description: read-through calls under the dogpile lock
 * @include: dogpile/dogpile.h
 *
 * dogpile.cache's `CacheRegion.get_or_create` and `get_or_create_multi`:
 * the value stored for a key, made by a creator function when it is
 * missing or expired, by exactly one caller at a time.  While that caller
 * creates it, the others get the stale value at once, or, when there is
 * none, wait for that one creation instead of running it again.
 *
 * A fresh value costs one backend read and no lock.  A missing, expired
 * or invalidated one takes the key's mutex: the backend's own when it has
 * one (a distributed lock for Redis or memcached, a lock file for dbm),
 * else an in-process #DogpileMutex from the region's #DogpileNameRegistry,
 * shared by everyone asking for that key at the moment.
 * dogpile_region_get_mutex() and dogpile_region_key_is_locked() give
 * access to it.
 *
 * With an async creation runner (dogpile_region_set_async_creation_runner(),
 * for example a #DogpileAsyncPool), the caller that wins an expired
 * value's mutex returns the stale value at once and the runner regenerates
 * it.  docs/dogpile-lock.md describes every case, and
 * docs/differences.md where the C calls differ from Python's (a blocking
 * acquire that fails is an error here, never a creation without the lock;
 * a creator asking for its own key fails with %DOGPILE_ERROR_LOCK instead
 * of waiting for ever).
 *
 * |[<!-- language="C" -->
 * static GBytes *
 * load_user (const char *key, gpointer db, GError **error)
 * {
 *   return query_user (db, key, error);
 * }
 *
 * g_autoptr (GBytes) user = NULL;
 *
 * if (!dogpile_region_get_or_create (region, "user:42", load_user, db,
 *                                    &user, &error))
 *   ...
 * ]|
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

/**
 * DogpileCreatorFunc:
 * @key: the caller's key, before mangling; borrowed for the call
 * @user_data: (closure): the data given with the creator
 * @error: return location for a #GError
 *
 * Makes the value for @key: dogpile.cache's `creator`.  A %NULL return
 * without @error set is reported as %DOGPILE_ERROR_CREATOR; an empty
 * #GBytes is a value.  It must not call get_or_create for its own key (that
 * fails with %DOGPILE_ERROR_LOCK with the region's in-process mutex).
 *
 * Thread safety: called from the thread making the get_or_create call, or
 * from an async runner's thread, possibly from several threads at once
 * for different keys; once at a time for one key of a region, unless the
 * backend's mutex is a null one (dogpile.cache.null's).
 *
 * Returns: (transfer full) (nullable): the new value, or %NULL with @error
 *   set
 */
typedef GBytes *(*DogpileCreatorFunc) (const char *key, gpointer user_data,
                                       GError **error);

/**
 * DogpileMultiCreatorFunc:
 * @keys: (array length=n_keys): the caller's keys that need a value,
 *   sorted and unique; borrowed for the call
 * @n_keys: how many
 * @out_values: (array length=n_keys) (out caller-allocates): all %NULL on
 *   entry; fill every slot with a new reference (transfer full)
 * @user_data: (closure): the data given to
 *   dogpile_region_get_or_create_multi()
 * @error: return location for a #GError
 *
 * Makes the values of several keys in one call: dogpile.cache's creator
 * of get_or_create_multi.  A slot left %NULL, or %FALSE without @error
 * set, is reported as %DOGPILE_ERROR_CREATOR.
 *
 * Thread safety: called from the thread making the call, possibly from
 * several threads at once for different keys.
 *
 * Returns: %TRUE with every slot filled, %FALSE with @error set
 */
typedef gboolean (*DogpileMultiCreatorFunc) (const char *const *keys,
                                             gsize n_keys, GBytes **out_values,
                                             gpointer user_data,
                                             GError **error);

/**
 * DogpileShouldCacheFunc:
 * @value: a newly created value; borrowed for the call
 * @user_data: (closure): the data given with the function
 *
 * dogpile.cache's `should_cache_fn`: whether a newly created value is
 * stored.  It is returned to the caller either way.
 *
 * Thread safety: called from the thread that created the value, possibly
 * from several threads at once.
 *
 * Returns: %TRUE to store @value
 */
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
