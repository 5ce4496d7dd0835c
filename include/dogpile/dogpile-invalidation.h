/* dogpile-invalidation.h: invalidating a region (dogpile.cache's
 * CacheRegion.invalidate and RegionInvalidationStrategy).
 *
 * SPDX-License-Identifier: MIT
 */
/**
 * SECTION:dogpile-invalidation
 * @title: Invalidation
 * @short_description: CacheRegion.invalidate and invalidation strategies
 * @include: dogpile/dogpile.h
 *
 * dogpile.cache's CacheRegion.invalidate(): dogpile_region_invalidate()
 * with @hard %TRUE makes every value created before now a miss; with
 * %FALSE (soft), older values count as expired, so one caller regenerates
 * while the others still get them (which needs an expiration time, else
 * get_or_create fails with %DOGPILE_ERROR_INVALIDATION).  Nothing is
 * deleted: the values' creation times are compared with the time of the
 * invalidation.
 *
 * The default strategy (dogpile.cache's DefaultInvalidationStrategy) keeps
 * the time of the last invalidate() and whether it was hard, in this region
 * of this process only.  dogpile_region_set_invalidation_strategy() plugs
 * in another one, a #DogpileInvalidationFuncs (dogpile.cache's
 * RegionInvalidationStrategy, the region_invalidator argument), for
 * example one that keeps its timestamp in a shared cache.
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-region.h"

G_BEGIN_DECLS

/**
 * DogpileInvalidationFuncs:
 * @invalidate: records an invalidation, now: CacheRegion.invalidate(hard)
 * @is_invalidated: whether a value created at @timestamp is invalidated,
 *   softly or hard; asked by get and get_multi
 * @is_hard_invalidated: whether a value created at @timestamp is hard
 *   invalidated (a miss for get_or_create)
 * @is_soft_invalidated: whether a value created at @timestamp is soft
 *   invalidated (expired for get_or_create)
 * @was_hard_invalidated: whether the last invalidation was hard (required,
 *   though the core does not ask it)
 * @was_soft_invalidated: whether the last invalidation was soft; asked when
 *   get_or_create has created a value that never expires
 *
 * dogpile.cache's RegionInvalidationStrategy, for
 * dogpile_region_set_invalidation_strategy().  Timestamps are seconds
 * since the epoch (dogpile_clock_now()); every member is required, and
 * each receives the user data given with the strategy.  They are called
 * from any thread using the region, from several at once.  This struct
 * never changes (its size is pinned by test-plugin-abi); a new need gets
 * a new struct.
 */
typedef struct {
  void (*invalidate) (gpointer user_data, gboolean hard);
  gboolean (*is_invalidated) (gpointer user_data, double timestamp);
  gboolean (*is_hard_invalidated) (gpointer user_data, double timestamp);
  gboolean (*is_soft_invalidated) (gpointer user_data, double timestamp);
  gboolean (*was_hard_invalidated) (gpointer user_data);
  gboolean (*was_soft_invalidated) (gpointer user_data);
} DogpileInvalidationFuncs;

DOGPILE_API void dogpile_region_set_invalidation_strategy (
    DogpileRegion *self, const DogpileInvalidationFuncs *funcs,
    gpointer user_data, GDestroyNotify destroy);

DOGPILE_API void dogpile_region_invalidate (DogpileRegion *self,
                                            gboolean hard);

G_END_DECLS
