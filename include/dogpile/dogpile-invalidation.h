/* dogpile-invalidation.h: invalidating a region (dogpile.cache's
 * CacheRegion.invalidate and RegionInvalidationStrategy).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-region.h"

G_BEGIN_DECLS

/* dogpile.cache's RegionInvalidationStrategy.  Timestamps are seconds
 * since the epoch; every member is required.  The default strategy keeps
 * the time of the last invalidate() in this region, in this process.
 * This struct never changes (its size is pinned by test-plugin-abi); a new
 * need gets a new struct. */
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
