/* memcached-behaviors.h: libmemcached behaviors, by pylibmc's names or
 * libmemcached's.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile-plugin.h>
#include <libmemcached/memcached.h>

G_BEGIN_DECLS

typedef struct {
  memcached_behavior_t behavior;
  guint64 value;
} McBehavior;

/* Reads the `behaviors` argument (a Python dict literal such as
 * {"ketama": True, "tcp_nodelay": 1}, or name=value pairs) and every
 * `behaviors.NAME` argument into @out_behaviors (McBehavior), in the
 * order given.  Fails with DOGPILE_ERROR_VALIDATION naming the behavior:
 * an unknown name, a value of the wrong kind, or one of the behaviors the
 * plugin must own (buffer_requests, _noreply, use_udp: each would make a
 * call report success for a reply it never read). */
gboolean mc_behaviors_parse (GHashTable *arguments, GArray **out_behaviors,
                             GError **error);

/* Whether @behavior changes which server a key goes to. */
gboolean mc_behavior_moves_keys (memcached_behavior_t behavior);

/* The name to show for @behavior in a message. */
const char *mc_behavior_name (memcached_behavior_t behavior);

/* Applies @behaviors to @memc, in order. */
gboolean mc_behaviors_apply (memcached_st *memc, GArray *behaviors,
                             GError **error);

G_END_DECLS
