/* dogpile-proxies.h: the proxies that ship with libdogpile.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-proxies
 * @title: Shipped proxies
 * @short_description: the logging, stats and faults proxies
 * @include: dogpile/dogpile.h
 *
 * A proxy sits between a region and its backend and sees every
 * operation, like dogpile.cache's ProxyBackend.  Three come with
 * libdogpile, compiled into the library and registered in every
 * registry, so a region can be wrapped with them by name, with
 * dogpile_region_wrap() or `wrap =` in a configuration file (outermost
 * first):
 *
 * - %DOGPILE_PROXY_LOGGING, one debug line per operation;
 * - %DOGPILE_PROXY_STATS, counters read with dogpile_region_get_stats();
 * - %DOGPILE_PROXY_FAULTS, failing chosen operations, for testing error
 *   paths.
 *
 * |[<!-- language="C" -->
 * dogpile_region_wrap (region, DOGPILE_PROXY_STATS, NULL, &error);
 * ]|
 *
 * docs/proxies.md tells how to write one's own.
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-proxy-stats.h"
#include "dogpile-region.h"

G_BEGIN_DECLS

/**
 * DOGPILE_PROXY_LOGGING:
 *
 * The name of the logging proxy: one debug line per operation, with the
 * key (the first key and a count for multi operations), the outcome
 * (hit, miss, stored, deleted, error, or the counts of hits and misses)
 * and the time it took.  The lines go through GLib's structured logging:
 * domain "dogpile", level debug, fields DOGPILE_OPERATION, DOGPILE_KEY,
 * DOGPILE_OUTCOME and DOGPILE_DURATION_US, so `G_MESSAGES_DEBUG=dogpile`
 * shows them.  When debug output would be dropped, nothing is formatted.
 * It takes no arguments.
 */
#define DOGPILE_PROXY_LOGGING "dogpile.proxies.logging"

/**
 * DOGPILE_PROXY_STATS:
 *
 * The name of the stats proxy: it counts gets, hits, misses, sets,
 * deletes, failed operations and payload bytes in and out (a multi
 * operation counts each key), read with dogpile_region_get_stats().
 * Each thread adds to its own cache line with relaxed atomics: no lock
 * is taken.  It takes no arguments.
 */
#define DOGPILE_PROXY_STATS "dogpile.proxies.stats"

/**
 * DOGPILE_PROXY_FAULTS:
 *
 * The name of the faults proxy, which fails chosen operations on purpose.
 * A failing operation does not reach the backend and reports
 * %DOGPILE_ERROR_BACKEND, as a lost connection would.  Its arguments
 * (operations are counted from 1, every operation through the proxy):
 *
 * - `fail_nth = N`: operation N fails, once;
 * - `fail_every = N`: every N-th operation fails;
 * - `fail_from = N`: operation N and every one after it fail, for the
 *   duration `fail_for` (seconds, or a duration such as 500ms) from the
 *   first of them, or for ever without `fail_for`.
 */
#define DOGPILE_PROXY_FAULTS "dogpile.proxies.faults"

G_END_DECLS
