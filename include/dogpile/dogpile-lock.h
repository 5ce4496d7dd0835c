/* dogpile-lock.h: the dogpile lock (dogpile.Lock), usable without a region.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-mutex.h"

G_BEGIN_DECLS

/* What a DogpileLock calls.  Values are GBytes; a created time <= 0 means
 * "no value".  Each function returns FALSE with @error set on failure.
 * This struct never changes (its size is pinned by test-plugin-abi); a new
 * need gets a new struct. */
typedef struct {
  /* The current value and when it was created; *out_value NULL for "no
   * value" (dogpile's NeedRegenerationException). */
  gboolean (*get_value) (gpointer user_data, GBytes **out_value,
                         double *out_created_time, GError **error);
  /* Makes a new value and reports its creation time. */
  gboolean (*create) (gpointer user_data, GBytes **out_value,
                      double *out_created_time, GError **error);
  /* Optional.  Called instead of create when a stale value exists and this
   * caller won the mutex: it takes over the mutex and must release it once
   * the new value is made (in another thread, typically).  On FALSE it has
   * not taken the mutex. */
  gboolean (*async_create) (gpointer user_data, DogpileMutex *mutex,
                            GError **error);
} DogpileLockFuncs;

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
