/* dogpile-invalidation.c: region invalidation (dogpile.cache's
 * RegionInvalidationStrategy and its DefaultInvalidationStrategy).
 *
 * The default keeps the time of the last invalidate() and whether it was
 * hard, in this region of this process: only the latest call's mode
 * applies to every older value (spec items 63-66).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-region-private.h"

static double
invalidated_at (DogpileRegion *self)
{
  return atomic_load_explicit (&self->invalidated_at, memory_order_acquire);
}

static gboolean
was_hard (DogpileRegion *self)
{
  return invalidated_at (self) != 0
         && atomic_load_explicit (&self->invalidated_hard,
                                  memory_order_acquire)
                == 1;
}

static gboolean
was_soft (DogpileRegion *self)
{
  return invalidated_at (self) != 0
         && atomic_load_explicit (&self->invalidated_hard,
                                  memory_order_acquire)
                == 0;
}

gboolean
dogpile__region_is_invalidated (DogpileRegion *self, double timestamp)
{
  double at;

  if (self->invalidation != NULL)
    return self->invalidation->is_invalidated (self->invalidation_data,
                                               timestamp);
  at = invalidated_at (self);
  return at != 0 && timestamp < at;
}

gboolean
dogpile__region_is_hard_invalidated (DogpileRegion *self, double timestamp)
{
  if (self->invalidation != NULL)
    return self->invalidation->is_hard_invalidated (self->invalidation_data,
                                                    timestamp);
  return was_hard (self) && dogpile__region_is_invalidated (self, timestamp);
}

gboolean
dogpile__region_is_soft_invalidated (DogpileRegion *self, double timestamp)
{
  if (self->invalidation != NULL)
    return self->invalidation->is_soft_invalidated (self->invalidation_data,
                                                    timestamp);
  return was_soft (self) && dogpile__region_is_invalidated (self, timestamp);
}

gboolean
dogpile__region_was_soft_invalidated (DogpileRegion *self)
{
  if (self->invalidation != NULL)
    return self->invalidation->was_soft_invalidated (self->invalidation_data);
  return was_soft (self);
}

/**
 * dogpile_region_invalidate:
 * @self: a region
 * @hard: %TRUE: older values become misses for get and get_or_create (one
 *   caller regenerates, the others wait); %FALSE: older values count as
 *   expired, so one caller regenerates while the others still get them
 *   (this needs an expiration time)
 *
 * dogpile.cache's CacheRegion.invalidate(hard): invalidates every value
 * created before now, by time, without deleting anything.  With the
 * default strategy this holds in this region of this process only, as in
 * dogpile.cache, and only the latest call's mode applies; with a custom
 * one (dogpile_region_set_invalidation_strategy()), its invalidate
 * function is called.
 *
 * Thread safety: any thread, concurrently with any call on @self (a reader
 * racing it may briefly pair the new time with the previous mode).
 */
void
dogpile_region_invalidate (DogpileRegion *self, gboolean hard)
{
  g_return_if_fail (self != NULL);

  if (self->invalidation != NULL)
    {
      self->invalidation->invalidate (self->invalidation_data, hard);
      return;
    }
  atomic_store_explicit (&self->invalidated_hard, hard ? 1 : 0,
                         memory_order_release);
  atomic_store_explicit (&self->invalidated_at, dogpile_clock_now (),
                         memory_order_release);
}

/**
 * dogpile_region_set_invalidation_strategy:
 * @self: an unconfigured region
 * @funcs: (nullable): the strategy's operations (all required), or %NULL
 *   for the default; borrowed: it must outlive the region
 * @user_data: (closure): passed to @funcs
 * @destroy: (nullable): frees @user_data when it is replaced or the region
 *   is freed
 *
 * dogpile.cache's region_invalidator argument: decides which values an
 * invalidation covers (for example with a timestamp shared between
 * processes through the cache itself).
 *
 * Thread safety: setup: call before @self is configured or shared (a
 * configured region refuses it with a critical warning).
 */
void
dogpile_region_set_invalidation_strategy (
    DogpileRegion *self, const DogpileInvalidationFuncs *funcs,
    gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (get_config (self) == NULL);
  g_return_if_fail (funcs == NULL
                    || (funcs->invalidate != NULL
                        && funcs->is_invalidated != NULL
                        && funcs->is_hard_invalidated != NULL
                        && funcs->is_soft_invalidated != NULL
                        && funcs->was_hard_invalidated != NULL
                        && funcs->was_soft_invalidated != NULL));

  if (self->invalidation_destroy != NULL)
    self->invalidation_destroy (self->invalidation_data);
  self->invalidation = funcs;
  self->invalidation_data = user_data;
  self->invalidation_destroy = destroy;
}
