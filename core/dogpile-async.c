/* dogpile-async.c: background regeneration (async_creation_runner) and the
 * thread-pool runner that ships with the library.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

#include <stdatomic.h>

struct DogpileAsyncTask {
  gint ref_count;
  DogpileRegion *region;
  char *key;
  DogpileCreatorFunc creator;
  gpointer user_data;
  GDestroyNotify user_data_destroy;
  DogpileMutex *mutex;
  gint released; /* the mutex was released */
};

DogpileAsyncTask *
dogpile__async_task_new (DogpileRegion *region, const char *key,
                         DogpileCreatorFunc creator, gpointer user_data,
                         GDestroyNotify user_data_destroy, DogpileMutex *mutex)
{
  DogpileAsyncTask *self = g_new0 (DogpileAsyncTask, 1);

  self->ref_count = 1;
  self->region = dogpile_region_ref (region);
  self->key = g_strdup (key);
  self->creator = creator;
  self->user_data = user_data;
  self->user_data_destroy = user_data_destroy;
  self->mutex = dogpile_mutex_ref (mutex);
  return self;
}

static void
release_once (DogpileAsyncTask *self, GError **error)
{
  if (g_atomic_int_compare_and_exchange (&self->released, 0, 1))
    dogpile_mutex_release (self->mutex, error);
}

/**
 * dogpile_async_task_ref:
 * @self: a task
 *
 * Takes a reference to @self.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full): @self
 */
DogpileAsyncTask *
dogpile_async_task_ref (DogpileAsyncTask *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

/**
 * dogpile_async_task_unref:
 * @self: (transfer full): a task
 *
 * Drops a reference.  The last one releases the key's mutex if
 * dogpile_async_task_run() did not (a failure to release is ignored), frees
 * the creator's user data with its destroy notify and drops the reference
 * to the region.
 *
 * Thread safety: any thread; the last unref must not race a call on @self.
 */
void
dogpile_async_task_unref (DogpileAsyncTask *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  release_once (self, NULL);
  dogpile_mutex_unref (self->mutex);
  if (self->user_data_destroy != NULL)
    self->user_data_destroy (self->user_data);
  dogpile_region_unref (self->region);
  g_free (self->key);
  g_free (self);
}

/**
 * dogpile_async_task_get_region:
 * @self: a task
 *
 * The region the regeneration stores into.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer none): the region, valid as long as @self
 */
DogpileRegion *
dogpile_async_task_get_region (DogpileAsyncTask *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->region;
}

/**
 * dogpile_async_task_get_key:
 * @self: a task
 *
 * The key being regenerated.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer none): the key as the caller gave it (not mangled),
 *   valid as long as @self
 */
const char *
dogpile_async_task_get_key (DogpileAsyncTask *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->key;
}

/**
 * dogpile_async_task_get_mutex:
 * @self: a task
 *
 * The key's mutex, which the task holds until it has run or is freed; the
 * same object other callers for the key get from the region meanwhile.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer none): the mutex, valid as long as @self
 */
DogpileMutex *
dogpile_async_task_get_mutex (DogpileAsyncTask *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->mutex;
}

/**
 * dogpile_async_task_run:
 * @self: a task
 * @error: return location for a #GError, or %NULL
 *
 * Does what dogpile.cache's runners do: calls the creator, stores the value
 * with dogpile_region_set() (no should_cache check, as in Python) and
 * releases the mutex, whatever happened.  The calling thread becomes the
 * mutex's holder first, so a creator asking for its own key fails with
 * %DOGPILE_ERROR_LOCK rather than waiting for itself.  Call it once.
 *
 * Errors: the creator's error, or %DOGPILE_ERROR_CREATOR when it returns
 * %NULL without one; whatever dogpile_region_set() reports (the
 * serializer's error, the backend's); %DOGPILE_ERROR_LOCK, or the
 * backend's mutex error, when the store succeeded but releasing the mutex
 * failed.
 *
 * Thread safety: any thread, at most once per task.
 *
 * Returns: %TRUE when the value was created and stored and the mutex
 *   released; %FALSE with @error set
 */
gboolean
dogpile_async_task_run (DogpileAsyncTask *self, GError **error)
{
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) local_error = NULL;
  gboolean ok;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* A local error throughout: a failed release after a stored value
   * fails the call whether or not the caller asked for the error. */
  dogpile__mutex_adopt (self->mutex);
  value = self->creator (self->key, self->user_data, &local_error);
  if (value == NULL)
    {
      if (local_error == NULL)
        g_set_error (&local_error, DOGPILE_ERROR, DOGPILE_ERROR_CREATOR,
                     "The creator for '%s' returned no value", self->key);
      ok = FALSE;
    }
  else
    ok = dogpile_region_set (self->region, self->key, value, &local_error);
  release_once (self, ok ? &local_error : NULL);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

struct DogpileAsyncPool {
  GThreadPool *threads;
  _Atomic guint64 failures;
};

static void
pool_worker (gpointer data, gpointer user_data)
{
  DogpileAsyncTask *task = data;
  DogpileAsyncPool *pool = user_data;
  g_autoptr (GError) error = NULL;

  if (!dogpile_async_task_run (task, &error))
    {
      atomic_fetch_add (&pool->failures, 1);
      /* Nobody waits for this result: GLib's log is where it can be seen. */
      g_warning ("Background regeneration of '%s' failed: %s",
                 dogpile_async_task_get_key (task),
                 error != NULL ? error->message : "unknown error");
    }
  dogpile_async_task_unref (task);
}

/**
 * dogpile_async_pool_new:
 * @max_threads: how many regenerations run at once (0 counts as 1)
 * @error: return location for a #GError, or %NULL
 *
 * A ready async_creation_runner: install it with
 * `dogpile_region_set_async_creation_runner (region, dogpile_async_pool_run,
 * pool, NULL)` and keep the pool alive as long as the region may hand it
 * tasks.  Queued regenerations beyond @max_threads wait their turn; their
 * keys stay locked meanwhile, so callers keep getting the stale value.  A
 * failed regeneration is counted (dogpile_async_pool_get_failures()) and
 * logged with g_warning(): nobody waits for its result.
 *
 * Errors: none in practice: the pool is not exclusive (GLib starts its
 * threads on demand), and g_thread_pool_new() reports a #GThreadError only
 * for exclusive pools.
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full): a pool, or %NULL with @error set
 */
DogpileAsyncPool *
dogpile_async_pool_new (guint max_threads, GError **error)
{
  DogpileAsyncPool *self;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_new0 (DogpileAsyncPool, 1);
  self->threads = g_thread_pool_new (
      pool_worker, self, (gint) MAX (max_threads, 1), FALSE, error);
  if (self->threads == NULL)
    {
      g_free (self);
      return NULL;
    }
  return self;
}

/**
 * dogpile_async_pool_run:
 * @task: (transfer full): the regeneration
 * @pool: a #DogpileAsyncPool
 *
 * The #DogpileAsyncRunner of the pool: queues @task for one of the pool's
 * threads.  When no thread can be started, the task runs at once in the
 * calling thread rather than never.
 *
 * Thread safety: any thread, concurrently with any call on @pool but
 * dogpile_async_pool_free().
 */
void
dogpile_async_pool_run (DogpileAsyncTask *task, gpointer pool)
{
  DogpileAsyncPool *self = pool;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (task != NULL);
  g_return_if_fail (self != NULL);

  if (!g_thread_pool_push (self->threads, task, &error))
    {
      /* No thread could be started: regenerate here rather than never. */
      g_clear_error (&error);
      pool_worker (task, self);
    }
}

/**
 * dogpile_async_pool_get_failures:
 * @self: a pool
 *
 * How many of the pool's regenerations failed so far.
 *
 * Thread safety: any thread, concurrently with any call on @self but
 * dogpile_async_pool_free().
 *
 * Returns: how many regenerations failed (each was also logged with
 *   g_warning())
 */
guint64
dogpile_async_pool_get_failures (DogpileAsyncPool *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return atomic_load (&self->failures);
}

/**
 * dogpile_async_pool_free:
 * @self: (transfer full): a pool
 *
 * Waits for queued and running regenerations, then frees the pool.  No
 * region may hand it tasks any more.
 *
 * Thread safety: any thread but the pool's own (not from a creator it
 * runs), once no other call on @self can be in progress.
 */
void
dogpile_async_pool_free (DogpileAsyncPool *self)
{
  g_return_if_fail (self != NULL);

  g_thread_pool_free (self->threads, FALSE, TRUE);
  g_free (self);
}
