/* memcached-lock.h: dogpile.cache's MemcachedLock as a DogpileMutex.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "memcached-client.h"

G_BEGIN_DECLS

/* The distributed lock of @key (already mangled): the item
 * "_lock<key>".  (transfer full) */
DogpileMutex *mc_lock_new (McClient *client, const char *key);

/* The back-off before try @attempt (0, 1, ...) with @random in [0, 1):
 * Python's ((i + 1) * random() + 2 ** i) / 2.5 seconds, i capped at 15,
 * at most @max_sleep. */
double mc_lock_backoff (guint attempt, double random, double max_sleep);

G_END_DECLS
