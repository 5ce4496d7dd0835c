/* dogpile-lock.c: the dogpile lock (dogpile.Lock, spec 2.1).
 *
 * One caller regenerates a missing or expired value; while it does, the
 * others get the stale value at once, or, when there is none, wait for the
 * mutex and then find the value it made.
 *
 * Unlike dogpile.Lock, a blocking acquire that fails or gives up is an
 * error here: Python ignores its result and runs the creator unlocked
 * (spec 0 item 8).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

struct DogpileLock {
  gint ref_count;
  DogpileMutex *mutex;
  const DogpileLockFuncs *funcs;
  gpointer user_data;
  double expiration_time;
};

static gboolean
has_value (double created_time)
{
  return created_time > 0;
}

static gboolean
is_expired (double created_time, double expiration_time)
{
  DogpileClockSample now;

  dogpile__clock_sample (&now);
  return dogpile__value_is_expired (&now, created_time, expiration_time);
}

/* Whether the release worked; the first failure is the one reported,
 * and the answer never depends on whether the caller passed @error. */
static gboolean
release_keeping_error (DogpileMutex *mutex, GError **error)
{
  g_autoptr (GError) release_error = NULL;

  if (dogpile_mutex_release (mutex, &release_error))
    return TRUE;
  if (error != NULL && *error == NULL)
    g_propagate_error (error, g_steal_pointer (&release_error));
  return FALSE;
}

static gboolean
broken_contract (GError **error, const char *what)
{
  if (error != NULL && *error == NULL)
    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CREATOR,
                 "The lock's %s function failed without saying why", what);
  return FALSE;
}

gboolean
dogpile__lock_run (DogpileMutex *mutex, const DogpileLockFuncs *funcs,
                   gpointer user_data, double expiration_time, GBytes *value,
                   double created_time, GBytes **out_value, GError **error)
{
  g_autoptr (GBytes) stale = value;
  GBytes *created = NULL;
  gboolean acquired = FALSE;

  *out_value = NULL;
  if (stale == NULL)
    created_time = -1;

  /* Fresh: the mutex is never touched. */
  if (!is_expired (created_time, expiration_time))
    {
      *out_value = g_steal_pointer (&stale);
      return TRUE;
    }

  if (has_value (created_time))
    {
      /* Someone is regenerating: the stale value, without waiting. */
      if (!dogpile_mutex_acquire (mutex, FALSE, &acquired, error))
        return FALSE;
      if (!acquired)
        {
          *out_value = g_steal_pointer (&stale);
          return TRUE;
        }
    }
  else
    {
      if (!dogpile_mutex_acquire (mutex, TRUE, &acquired, error))
        return FALSE;
      if (!acquired)
        {
          g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK,
                               "Gave up waiting for the lock while another "
                               "caller creates the value; not creating it "
                               "unlocked");
          return FALSE;
        }
      /* We waited: the holder may have made the value meanwhile. */
      g_clear_pointer (&stale, g_bytes_unref);
      if (!funcs->get_value (user_data, &stale, &created_time, error))
        {
          broken_contract (error, "get_value");
          release_keeping_error (mutex, error);
          return FALSE;
        }
      if (stale == NULL)
        created_time = -1;
      else if (!is_expired (created_time, expiration_time))
        {
          if (!release_keeping_error (mutex, error))
            return FALSE;
          *out_value = g_steal_pointer (&stale);
          return TRUE;
        }
    }

  if (stale != NULL && funcs->async_create != NULL)
    {
      /* The stale value now; the async creator owns the mutex. */
      if (!funcs->async_create (user_data, mutex, error))
        {
          broken_contract (error, "async_create");
          release_keeping_error (mutex, error);
          return FALSE;
        }
      *out_value = g_steal_pointer (&stale);
      return TRUE;
    }

  if (!funcs->create (user_data, &created, &created_time, error)
      || created == NULL)
    {
      g_clear_pointer (&created, g_bytes_unref);
      broken_contract (error, "create");
      release_keeping_error (mutex, error);
      return FALSE;
    }
  if (!release_keeping_error (mutex, error))
    {
      g_bytes_unref (created);
      return FALSE;
    }
  *out_value = created;
  return TRUE;
}

/**
 * dogpile_lock_new:
 * @mutex: the mutex regeneration holds; a reference is taken
 * @funcs: get_value, create and optionally async_create; borrowed: it must
 *   outlive the lock (usually a static const struct)
 * @user_data: (closure): passed to @funcs
 * @expiration_time: seconds a value stays fresh, or
 *   %DOGPILE_EXPIRATION_NONE for "only when missing"
 *
 * dogpile.Lock(mutex, creator, value_and_created_fn, expiretime,
 * async_creator): a reusable description of one key's regeneration, for
 * dogpile_lock_enter().
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full): a new lock
 */
DogpileLock *
dogpile_lock_new (DogpileMutex *mutex, const DogpileLockFuncs *funcs,
                  gpointer user_data, double expiration_time)
{
  DogpileLock *self;

  g_return_val_if_fail (mutex != NULL, NULL);
  g_return_val_if_fail (funcs != NULL && funcs->get_value != NULL
                            && funcs->create != NULL,
                        NULL);

  self = g_new0 (DogpileLock, 1);
  self->ref_count = 1;
  self->mutex = dogpile_mutex_ref (mutex);
  self->funcs = funcs;
  self->user_data = user_data;
  self->expiration_time = expiration_time;
  return self;
}

/**
 * dogpile_lock_ref:
 * @self: a lock
 *
 * Takes a reference to @self.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full): @self
 */
DogpileLock *
dogpile_lock_ref (DogpileLock *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

/**
 * dogpile_lock_unref:
 * @self: (transfer full): a lock
 *
 * Drops a reference; the last one drops the lock's reference to its mutex.
 *
 * Thread safety: any thread; the last unref must not race a call on @self.
 */
void
dogpile_lock_unref (DogpileLock *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  dogpile_mutex_unref (self->mutex);
  g_free (self);
}

/**
 * dogpile_lock_enter:
 * @self: a lock
 * @out_value: (out) (transfer full): the value; %NULL on failure
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.Lock's `with lock as value`: reads the value once; a fresh one
 * is returned without touching the mutex.  An expired one is returned at
 * once if another caller holds the mutex, else this caller regenerates it
 * (or hands it to async_create and returns the stale value).  With no
 * value, this caller waits for the mutex, reads again, and creates the
 * value only if the caller it waited for did not.  The mutex is released
 * before it returns, whatever failed, unless async_create took it over.
 *
 * Errors: the error of get_value, create or async_create
 * (%DOGPILE_ERROR_CREATOR when one fails without an error, or create
 * gives no value); %DOGPILE_ERROR_LOCK when waiting for the mutex gives up
 * or the in-process mutex is already held by this thread; whatever the
 * mutex reports when acquiring or releasing it fails (the first failure is
 * the one reported).
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE with a value, %FALSE with @error set
 */
gboolean
dogpile_lock_enter (DogpileLock *self, GBytes **out_value, GError **error)
{
  GBytes *value = NULL;
  double created_time = -1;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out_value = NULL;
  if (!self->funcs->get_value (self->user_data, &value, &created_time, error))
    return broken_contract (error, "get_value");
  return dogpile__lock_run (self->mutex, self->funcs, self->user_data,
                            self->expiration_time, value, created_time,
                            out_value, error);
}
