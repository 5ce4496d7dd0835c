/* dogpile-proxy-stats.h: what dogpile.proxies.stats counts, and reading it.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-proxy-stats
 * @title: Region stats
 * @short_description: what the stats proxy counts, and reading it
 * @include: dogpile/dogpile.h
 *
 * A region wrapped with %DOGPILE_PROXY_STATS counts what goes through
 * it; dogpile_region_get_stats() reads the counts into a #DogpileStats,
 * with the actual backend's evictions and window size when it keeps
 * counters.
 *
 * |[<!-- language="C" -->
 * DogpileStats stats;
 *
 * dogpile_region_wrap (region, DOGPILE_PROXY_STATS, NULL, &error);
 * ...
 * if (dogpile_region_get_stats (region, &stats, &error))
 *   g_print ("%" G_GUINT64_FORMAT " hits of %" G_GUINT64_FORMAT "\n",
 *            stats.hits, stats.gets);
 * ]|
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
 * DogpileStats:
 * @gets: values asked for
 * @hits: values asked for and found
 * @misses: values asked for and not found
 * @sets: values stored
 * @deletes: keys deleted
 * @errors: operations that failed (a multi operation counts once)
 * @bytes_in: payload bytes stored
 * @bytes_out: payload bytes returned
 * @evictions_size: entries the actual backend evicted for its bound, from
 *   its counters (dogpile_backend_get_counters()); 0 when it keeps none
 * @evictions_expiry: entries the actual backend evicted for their age; 0
 *   when it keeps no counters
 * @window_size: entries in the actual backend's admission window; 0 when
 *   it keeps no counters
 *
 * What the stats proxies of a region have seen; a multi operation counts
 * each key.  The caller allocates it.  Its size is fixed: new counters
 * take the reserved room, and dogpile_region_get_stats() zero-fills it.
 */
typedef struct {
  guint64 gets;
  guint64 hits;
  guint64 misses;
  guint64 sets;
  guint64 deletes;
  guint64 errors;
  guint64 bytes_in;
  guint64 bytes_out;
  guint64 evictions_size;
  guint64 evictions_expiry;
  guint64 window_size;
  /*< private >*/
  guint64 reserved[5];
} DogpileStats;

DOGPILE_API gboolean dogpile_region_get_stats (DogpileRegion *self,
                                               DogpileStats *out_stats,
                                               GError **error);

G_END_DECLS
