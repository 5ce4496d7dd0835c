/* dogpile-mutex.h: the mutex a dogpile lock holds while one caller creates.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"

G_BEGIN_DECLS

typedef struct DogpileMutex DogpileMutex;

/* The operations of dogpile.cache's CacheMutex.  Each returns FALSE with
 * @error set when it fails (a lost connection, releasing a lock that is not
 * held); "not acquired" is a success with *out_acquired = FALSE.  This
 * struct never changes; a new need gets a new struct. */
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
