/* dogpile-mutex.h: the mutex a dogpile lock holds while one caller creates.
 *
 * SPDX-License-Identifier: MIT
 */
/**
 * SECTION:dogpile-mutex
 * @title: Mutexes
 * @short_description: the mutex a dogpile lock holds while one caller creates
 * @include: dogpile/dogpile.h
 *
 * A #DogpileMutex is what dogpile.cache calls a CacheMutex: an object with
 * acquire(), release() and locked(), held by the one caller regenerating a
 * key.  A backend supplies its own for distributed locking (the Redis and
 * memcached locks, the dbm lock file; a plugin's get_mutex returns one
 * made with dogpile_mutex_new()); otherwise a region uses an in-process
 * one, dogpile_mutex_new_local().  dogpile_mutex_new_null() is
 * dogpile.cache's NullLock.
 *
 * Unlike a #GMutex, any thread may release a #DogpileMutex another thread
 * acquired, as with Python's threading.Lock: an async creation runner
 * releases the mutex in the thread that regenerates.  The in-process mutex
 * is not reentrant: the thread holding it that waits for it again gets
 * %DOGPILE_ERROR_LOCK rather than waiting for ever.  After fork(), an
 * in-process mutex held by another thread of the parent is free in the
 * child (docs/fork.md).
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"

G_BEGIN_DECLS

/**
 * DogpileMutex:
 *
 * A handle on a lock with acquire, release and locked operations.  Opaque
 * and reference counted.
 */
typedef struct DogpileMutex DogpileMutex;

/**
 * DogpileMutexFuncs:
 * @acquire: takes the lock: with `wait`, blocks until it is free (or the
 *   lock gives up: then *out_acquired is %FALSE); without, tries once.
 *   Sets *out_acquired to whether this call took it
 * @release: releases the lock, whichever thread acquired it
 * @locked: sets *out_locked to whether anyone holds the lock
 *
 * The operations of dogpile.cache's CacheMutex, for dogpile_mutex_new().
 * Each returns %FALSE with its @error set when it fails (a lost
 * connection, releasing a lock that is not held); "not acquired" is a
 * success with *out_acquired %FALSE.  Each receives the user data given to
 * dogpile_mutex_new() and may be called from any thread, from several at
 * once.  This struct never changes; a new need gets a new struct.
 */
typedef struct {
  gboolean (*acquire) (gpointer user_data, gboolean wait,
                       gboolean *out_acquired, GError **error);
  gboolean (*release) (gpointer user_data, GError **error);
  gboolean (*locked) (gpointer user_data, gboolean *out_locked,
                      GError **error);
} DogpileMutexFuncs;

DOGPILE_API DogpileMutex *dogpile_mutex_new (const DogpileMutexFuncs *funcs,
                                             gpointer user_data,
                                             GDestroyNotify destroy);
DOGPILE_API DogpileMutex *dogpile_mutex_new_local (void);
DOGPILE_API DogpileMutex *dogpile_mutex_new_null (void);
DOGPILE_API DogpileMutex *dogpile_mutex_ref (DogpileMutex *self);
DOGPILE_API void dogpile_mutex_unref (DogpileMutex *self);

DOGPILE_API gboolean dogpile_mutex_acquire (DogpileMutex *self, gboolean wait,
                                            gboolean *out_acquired,
                                            GError **error);
DOGPILE_API gboolean dogpile_mutex_release (DogpileMutex *self,
                                            GError **error);
DOGPILE_API gboolean dogpile_mutex_locked (DogpileMutex *self,
                                           gboolean *out_locked,
                                           GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpileMutex, dogpile_mutex_unref)

G_END_DECLS
