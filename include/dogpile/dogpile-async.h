/* dogpile-async.h: regenerating stale values in the background
 * (dogpile.cache's async_creation_runner), and a runner on a thread pool.
 *
 * SPDX-License-Identifier: MIT
 */
/**
 * SECTION:dogpile-async
 * @title: Background regeneration
 * @short_description: async_creation_runner, and a runner on a thread pool
 * @include: dogpile/dogpile.h
 *
 * dogpile.cache's `async_creation_runner`: when a get_or_create caller
 * finds an expired value and wins its mutex, it returns the stale value at
 * once and hands the regeneration to a runner, a #DogpileAsyncRunner
 * installed with dogpile_region_set_async_creation_runner().  The runner
 * gets a #DogpileAsyncTask: the region, the key, the creator and the
 * mutex the caller won, which stays held until the task has run.
 * Missing values are always created in the caller: there is nothing stale
 * to return.
 *
 * #DogpileAsyncPool is the runner that ships: tasks run on a bounded pool
 * of threads.
 *
 * |[<!-- language="C" -->
 * g_autoptr (DogpileAsyncPool) pool = dogpile_async_pool_new (4, &error);
 *
 * dogpile_region_set_async_creation_runner (region, dogpile_async_pool_run,
 *                                           pool, NULL);
 * dogpile_region_configure (region, ...);
 * ]|
 *
 * A pool made before fork() cannot be used in the child: its threads are
 * the parent's (docs/fork.md).
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

/**
 * DogpileAsyncTask:
 *
 * One background regeneration: the region, the key, the creator and the
 * mutex the caller won.  Opaque and reference counted.  A runner calls
 * dogpile_async_task_run() (now, or later on another thread) and drops its
 * reference.  Dropping the last reference releases the mutex if nobody
 * did, so a runner that gives up never leaves the key locked.
 */
typedef struct DogpileAsyncTask DogpileAsyncTask;

/**
 * DogpileAsyncRunner:
 * @task: (transfer full): the regeneration to run
 * @user_data: (closure): the data given to
 *   dogpile_region_set_async_creation_runner()
 *
 * Receives a regeneration: dogpile.cache's async_creation_runner.  It
 * should return quickly: the get_or_create caller returns its stale value
 * once the runner returns.  The runner calls dogpile_async_task_run() once
 * and unrefs @task, at once or later, in any thread.
 *
 * Thread safety: called from the thread making the get_or_create call,
 * possibly from several threads at once for different keys.
 */
typedef void (*DogpileAsyncRunner) (DogpileAsyncTask *task,
                                    gpointer user_data);

DOGPILE_API DogpileAsyncTask *dogpile_async_task_ref (DogpileAsyncTask *self);
DOGPILE_API void dogpile_async_task_unref (DogpileAsyncTask *self);
DOGPILE_API DogpileRegion *
dogpile_async_task_get_region (DogpileAsyncTask *self);
DOGPILE_API const char *dogpile_async_task_get_key (DogpileAsyncTask *self);
DOGPILE_API DogpileMutex *
dogpile_async_task_get_mutex (DogpileAsyncTask *self);
DOGPILE_API gboolean dogpile_async_task_run (DogpileAsyncTask *self,
                                             GError **error);

/**
 * DogpileAsyncPool:
 *
 * The runner that ships: tasks run on a bounded pool of threads.  Opaque;
 * made with dogpile_async_pool_new() and freed with
 * dogpile_async_pool_free(), after the regions that use it.
 */
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
