/* dogpile-proxy-stats.h: what dogpile.proxies.stats counts, and reading it.
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

/* What a stats proxy has seen; multi operations count each key.  The
 * caller allocates it; its size is fixed, new counters take the reserved
 * room (dogpile_region_get_stats zero-fills it). */
typedef struct {
  guint64 gets;      /* values asked for */
  guint64 hits;      /* ... and found */
  guint64 misses;    /* ... and not found */
  guint64 sets;      /* values stored */
  guint64 deletes;   /* keys deleted */
  guint64 errors;    /* operations that failed */
  guint64 bytes_in;  /* payload bytes stored */
  guint64 bytes_out; /* payload bytes returned */
  /* From the backend's counters (dogpile_backend_get_counters), 0 when it
   * keeps none: */
  guint64 evictions_size;   /* entries the backend evicted for its bound */
  guint64 evictions_expiry; /* ... and for their age */
  guint64 window_size;      /* entries in its admission window */
  /*< private >*/
  guint64 reserved[5];
} DogpileStats;

DOGPILE_API gboolean dogpile_region_get_stats (DogpileRegion *self,
                                               DogpileStats *out_stats,
                                               GError **error);

G_END_DECLS
