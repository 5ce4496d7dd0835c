/* dogpile-proxies.h: the proxies that ship with libdogpile.
 *
 * Wrap a region with them by name (dogpile_region_wrap, or `wrap =` in a
 * config file):
 *   dogpile.proxies.logging  one debug line per operation (GLib structured
 *                            logging, domain "dogpile");
 *   dogpile.proxies.stats    counters, read with dogpile_region_get_stats;
 *   dogpile.proxies.faults   fails chosen operations with a backend error
 *                            (arguments fail_nth, fail_every, fail_from,
 *                            fail_for), for testing error paths.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-region.h"

G_BEGIN_DECLS

#define DOGPILE_PROXY_LOGGING "dogpile.proxies.logging"
#define DOGPILE_PROXY_STATS "dogpile.proxies.stats"
#define DOGPILE_PROXY_FAULTS "dogpile.proxies.faults"

/* What a stats proxy has seen; multi operations count each key.  Append
 * only. */
typedef struct {
  guint64 gets;      /* values asked for */
  guint64 hits;      /* ... and found */
  guint64 misses;    /* ... and not found */
  guint64 sets;      /* values stored */
  guint64 deletes;   /* keys deleted */
  guint64 errors;    /* operations that failed */
  guint64 bytes_in;  /* payload bytes stored */
  guint64 bytes_out; /* payload bytes returned */
} DogpileStats;

DOGPILE_API gboolean dogpile_region_get_stats (DogpileRegion *self,
                                               DogpileStats *out_stats,
                                               GError **error);

G_END_DECLS
