/* dogpile-async.h: regenerating stale values in the background
 * (dogpile.cache's async_creation_runner), and a runner on a thread pool.
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
#include "dogpile-region.h"

G_BEGIN_DECLS

typedef struct DogpileAsyncTask DogpileAsyncTask;

/* Receives a regeneration to run (transfer full); see dogpile-async.h. */
typedef void (*DogpileAsyncRunner) (DogpileAsyncTask *task,
                                    gpointer user_data);

/* A task is one regeneration: the region, the key, the creator and the
 * mutex the caller won.  A runner calls dogpile_async_task_run() (now, or
 * later on another thread) and drops its reference.  Dropping the last
 * reference releases the mutex if nobody did, so a runner that gives up
 * never leaves the key locked. */
DOGPILE_API DogpileAsyncTask *dogpile_async_task_ref (DogpileAsyncTask *self);
DOGPILE_API void dogpile_async_task_unref (DogpileAsyncTask *self);
DOGPILE_API DogpileRegion *
dogpile_async_task_get_region (DogpileAsyncTask *self);
DOGPILE_API const char *dogpile_async_task_get_key (DogpileAsyncTask *self);
DOGPILE_API DogpileMutex *
dogpile_async_task_get_mutex (DogpileAsyncTask *self);
DOGPILE_API gboolean dogpile_async_task_run (DogpileAsyncTask *self,
                                             GError **error);

/* The runner that ships: tasks run on a bounded pool of threads. */
typedef struct DogpileAsyncPool DogpileAsyncPool;

DOGPILE_API DogpileAsyncPool *dogpile_async_pool_new (guint max_threads,
                                                      GError **error);
DOGPILE_API void dogpile_async_pool_free (DogpileAsyncPool *self);
DOGPILE_API void dogpile_async_pool_run (DogpileAsyncTask *task,
                                         gpointer pool);
DOGPILE_API guint64 dogpile_async_pool_get_failures (DogpileAsyncPool *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpileAsyncTask, dogpile_async_task_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpileAsyncPool, dogpile_async_pool_free)

G_END_DECLS
