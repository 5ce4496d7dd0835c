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
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-proxy-stats.h"
#include "dogpile-region.h"

G_BEGIN_DECLS

#define DOGPILE_PROXY_LOGGING "dogpile.proxies.logging"
#define DOGPILE_PROXY_STATS "dogpile.proxies.stats"
#define DOGPILE_PROXY_FAULTS "dogpile.proxies.faults"

G_END_DECLS
