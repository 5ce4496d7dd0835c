/* memcached-deadline.h: a deadline for each call, kept by a watchdog.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile-plugin.h>
#include <libmemcached/memcached.h>

G_BEGIN_DECLS

/* One call's deadline; lives in the handle the call runs on.  Every field
 * but fired belongs to the watchdog's lock while armed. */
typedef struct McWatch McWatch;
struct McWatch {
  McWatch *prev, *next;
  memcached_st *memc[2]; /* the handles the call uses; NULL: none */
  gint64 deadline;       /* g_get_monotonic_time () microseconds */
  guint generation;      /* the fork generation it was armed in */
  gboolean armed;
  gint fired; /* atomic: the deadline passed while armed */
};

/* Arms @watch for a call on @memc (and @buffered, or NULL) that must end
 * by @deadline.  When it passes before mc_watch_disarm(), the watchdog
 * sets the handles' poll and connect timeouts to 0, so that libmemcached's
 * next wait fails at once with MEMCACHED_TIMEOUT (and its reader or
 * writer closes the connection), and sets fired. */
void mc_watch_arm (McWatch *watch, memcached_st *memc, memcached_st *buffered,
                   gint64 deadline);

/* Adds @memc to an armed watch (the buffered twin, made during a call);
 * zeroes its timeouts at once when the watch has fired. */
void mc_watch_add (McWatch *watch, memcached_st *memc);

/* Ends the call: after it the watchdog no longer touches the handles.
 * Whether the deadline had passed (the handles' timeouts are then 0:
 * restore them). */
gboolean mc_watch_disarm (McWatch *watch);

static inline gboolean
mc_watch_fired (McWatch *watch)
{
  return g_atomic_int_get (&watch->fired) != 0;
}

G_END_DECLS
