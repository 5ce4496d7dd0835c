/* dogpile-lock.h: the dogpile lock (dogpile.Lock), usable without a region.
 *
 * SPDX-License-Identifier: MIT
 */
/**
 * SECTION:dogpile-lock
 * @title: The dogpile lock
 * @short_description: dogpile.Lock, usable without a region
 * @include: dogpile/dogpile.h
 *
 * The algorithm libdogpile is named after, as dogpile's `Lock` class: one
 * caller regenerates a missing or expired value; while it does, the others
 * get the stale value at once, or, when there is none, wait for the mutex
 * and then find the value it made.  A region's get_or_create uses it for
 * every key; a #DogpileLock is the same thing over any value source and
 * any #DogpileMutex: a #DogpileLockFuncs reads the current value and its
 * creation time, creates a new one, and optionally hands creation to an
 * async creator.
 *
 * Unlike dogpile.Lock, a blocking acquire that fails or gives up is an
 * error (%DOGPILE_ERROR_LOCK), never a creation without the lock.
 *
 * |[<!-- language="C" -->
 * g_autoptr (DogpileLock) lock =
 *     dogpile_lock_new (mutex, &my_funcs, my_source, 60.0);
 * g_autoptr (GBytes) value = NULL;
 *
 * if (!dogpile_lock_enter (lock, &value, &error))
 *   ...
 * ]|
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-mutex.h"

G_BEGIN_DECLS

/**
 * DogpileLockFuncs:
 * @get_value: the current value (a new reference) and when it was
 *   created; *out_value %NULL for "no value", dogpile's
 *   NeedRegenerationException.  A creation time of 0 or less is always
 *   expired, and callers then wait for the mutex as when there is no value
 * @create: makes a new value (a new reference in *out_value; %NULL is
 *   reported as %DOGPILE_ERROR_CREATOR) and reports its creation time
 * @async_create: optional (%NULL for none).  Called instead of @create
 *   when a stale value exists and this caller won the mutex: it takes over
 *   the mutex and must release it once the new value is made (in another
 *   thread, typically).  On %FALSE it has not taken the mutex
 *
 * What a #DogpileLock calls: dogpile.Lock's `value_and_created_fn`,
 * `creator` and `async_creator`.  Values are #GBytes; times are seconds
 * since the epoch (dogpile_clock_now()).  Each function returns %FALSE
 * with its @error set on failure (%FALSE without an error is reported as
 * %DOGPILE_ERROR_CREATOR); its user data is the lock's.  They are called
 * from the thread in dogpile_lock_enter(), from several threads at once
 * when several enter.  This struct never changes (its size is pinned by
 * test-plugin-abi); a new need gets a new struct.
 */
typedef struct {
  gboolean (*get_value) (gpointer user_data, GBytes **out_value,
                         double *out_created_time, GError **error);
  gboolean (*create) (gpointer user_data, GBytes **out_value,
                      double *out_created_time, GError **error);
  gboolean (*async_create) (gpointer user_data, DogpileMutex *mutex,
                            GError **error);
} DogpileLockFuncs;

/**
 * DogpileLock:
 *
 * dogpile.Lock: a reusable description of one key's regeneration, a
 * mutex, a #DogpileLockFuncs and an expiration time.  Opaque and
 * reference counted.
 */
typedef struct DogpileLock DogpileLock;

DOGPILE_API DogpileLock *dogpile_lock_new (DogpileMutex *mutex,
                                           const DogpileLockFuncs *funcs,
                                           gpointer user_data,
                                           double expiration_time);
DOGPILE_API DogpileLock *dogpile_lock_ref (DogpileLock *self);
DOGPILE_API void dogpile_lock_unref (DogpileLock *self);
DOGPILE_API gboolean dogpile_lock_enter (DogpileLock *self, GBytes **out_value,
                                         GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpileLock, dogpile_lock_unref)

G_END_DECLS
