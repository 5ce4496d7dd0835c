/* dogpile-mutex.c: mutex handles and the two mutexes the core provides.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

#include <pthread.h>

struct DogpileMutex {
  gint ref_count;
  const DogpileMutexFuncs *funcs;
  gpointer user_data;
  GDestroyNotify destroy;
};

/**
 * dogpile_mutex_new:
 * @funcs: the operations, all three required; borrowed: it must stay
 *   valid as long as the mutex (usually a static const struct)
 * @user_data: (closure): passed to every operation
 * @destroy: (nullable): frees @user_data when the last reference goes
 *
 * Wraps any lock with acquire/release/locked in the handle the dogpile
 * lock uses, like an object satisfying dogpile.cache's CacheMutex: what a
 * backend's get_mutex returns for a distributed lock.
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full): a new mutex handle
 */
DogpileMutex *
dogpile_mutex_new (const DogpileMutexFuncs *funcs, gpointer user_data,
                   GDestroyNotify destroy)
{
  DogpileMutex *self;

  g_return_val_if_fail (funcs != NULL, NULL);
  g_return_val_if_fail (funcs->acquire != NULL, NULL);
  g_return_val_if_fail (funcs->release != NULL, NULL);
  g_return_val_if_fail (funcs->locked != NULL, NULL);

  self = g_new0 (DogpileMutex, 1);
  self->ref_count = 1;
  self->funcs = funcs;
  self->user_data = user_data;
  self->destroy = destroy;
  return self;
}

/**
 * dogpile_mutex_ref:
 * @self: a mutex
 *
 * Takes a reference to @self.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full): @self
 */
DogpileMutex *
dogpile_mutex_ref (DogpileMutex *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

/* A reference only while someone else still holds one: the name registry
 * must not revive a mutex whose last reference is being dropped. */
gboolean
dogpile__mutex_try_ref (DogpileMutex *self)
{
  gint old = g_atomic_int_get (&self->ref_count);

  while (old > 0)
    {
      if (g_atomic_int_compare_and_exchange (&self->ref_count, old, old + 1))
        return TRUE;
      old = g_atomic_int_get (&self->ref_count);
    }
  return FALSE;
}

/**
 * dogpile_mutex_unref:
 * @self: (transfer full): a mutex
 *
 * Drops a reference; the last one calls the destroy notify of the user
 * data.  Dropping the last reference does not release a held lock.
 *
 * Thread safety: any thread; the last unref must not race a call on @self.
 */
void
dogpile_mutex_unref (DogpileMutex *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  if (self->destroy != NULL)
    self->destroy (self->user_data);
  g_free (self);
}

/**
 * dogpile_mutex_acquire:
 * @self: a mutex
 * @wait: %TRUE to block until the mutex is free, %FALSE to try once
 * @out_acquired: (out): whether this call took the mutex; %FALSE on
 *   failure
 * @error: return location for a #GError, or %NULL
 *
 * CacheMutex.acquire(wait).  Not getting the mutex with @wait %FALSE is a
 * success with *@out_acquired %FALSE; so is a lock that gives up waiting
 * (a backend's blocking timeout).
 *
 * Errors: %DOGPILE_ERROR_LOCK from the in-process mutex when @wait is
 * %TRUE and this thread already holds it (a creator asking for its own
 * key), which would otherwise wait for ever; whatever a backend's mutex
 * reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE unless the mutex failed, %FALSE with @error set
 */
gboolean
dogpile_mutex_acquire (DogpileMutex *self, gboolean wait,
                       gboolean *out_acquired, GError **error)
{
  gboolean acquired = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out_acquired != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!self->funcs->acquire (self->user_data, wait, &acquired, error))
    {
      *out_acquired = FALSE;
      return FALSE;
    }
  *out_acquired = acquired;
  return TRUE;
}

/**
 * dogpile_mutex_release:
 * @self: a mutex
 * @error: return location for a #GError, or %NULL
 *
 * CacheMutex.release().  Any thread may release a mutex another thread
 * acquired (the async creation runner relies on it), as with Python's
 * threading.Lock.
 *
 * Errors: %DOGPILE_ERROR_LOCK from the in-process mutex when it was not
 * held; whatever a backend's mutex reports (a lost connection, a lock no
 * longer owned).
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_mutex_release (DogpileMutex *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return self->funcs->release (self->user_data, error);
}

/**
 * dogpile_mutex_locked:
 * @self: a mutex
 * @out_locked: (out): whether anyone holds the mutex
 * @error: return location for a #GError, or %NULL
 *
 * CacheMutex.locked().  Acquires nothing.
 *
 * Errors: none from the core's mutexes; whatever a backend's mutex
 * reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_mutex_locked (DogpileMutex *self, gboolean *out_locked, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out_locked != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return self->funcs->locked (self->user_data, out_locked, error);
}

/* The in-process mutex: a flag under a lock, so that a thread other than
 * the acquirer may release it (a mutex itself must be unlocked by its
 * owner).  pthread rather than GMutex so ThreadSanitizer sees it.
 *
 * It remembers which thread took it, until it is released or handed to
 * another thread (dogpile__mutex_disown): a thread that waits for a mutex
 * it holds itself -- a creator calling get_or_create on its own key --
 * would wait for ever, so it gets DOGPILE_ERROR_LOCK instead, as with the
 * dbm backend's lock. */
typedef struct LocalMutex {
  pthread_mutex_t lock;
  pthread_cond_t released;
  gboolean held;
  gboolean owned; /* owner is the thread that holds it */
  pthread_t owner;
  char *name; /* the key, for messages; NULL when unnamed */
  GList link; /* on all_mutexes, for fork(); data is the mutex */
} LocalMutex;

/* Across fork(): every live local mutex is on one list.  prepare takes
 * each one's lock, so none is caught mid-change; in the child a mutex
 * held by a thread that is not there (or by an async task, whose thread is
 * not there either) is free again, and its waiters -- threads of the
 * parent -- are forgotten. */
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static GQueue all_mutexes = G_QUEUE_INIT;
static pthread_once_t fork_hook_once = PTHREAD_ONCE_INIT;

static void
local_fork_prepare (gpointer unused)
{
  pthread_mutex_lock (&all_lock);
  for (GList *l = all_mutexes.head; l != NULL; l = l->next)
    pthread_mutex_lock (&((LocalMutex *) l->data)->lock);
}

static void
local_fork_parent (gpointer unused)
{
  for (GList *l = all_mutexes.head; l != NULL; l = l->next)
    pthread_mutex_unlock (&((LocalMutex *) l->data)->lock);
  pthread_mutex_unlock (&all_lock);
}

static void
local_fork_child (gpointer unused)
{
  for (GList *l = all_mutexes.head; l != NULL; l = l->next)
    {
      LocalMutex *m = l->data;

      if (m->held && !(m->owned && pthread_equal (m->owner, pthread_self ())))
        {
          m->held = FALSE;
          m->owned = FALSE;
        }
      pthread_cond_init (&m->released, NULL);
      pthread_mutex_unlock (&m->lock);
    }
  pthread_mutex_unlock (&all_lock);
}

static void
add_fork_hook (void)
{
  dogpile__fork_hook_add (DOGPILE__FORK_INNER, local_fork_prepare,
                          local_fork_parent, local_fork_child, NULL);
}

/* Adding a hook waits for a fork under way, whose prepare waits for the
 * name registries' shard locks: so the key mutexes' hook is added when a
 * name registry is made, never from under a shard lock, where key
 * mutexes are made. */
void
dogpile__mutex_fork_init (void)
{
  pthread_once (&fork_hook_once, add_fork_hook);
}

static gboolean
local_acquire (gpointer user_data, gboolean wait, gboolean *out_acquired,
               GError **error)
{
  LocalMutex *m = user_data;

  pthread_mutex_lock (&m->lock);
  if (m->held && wait && m->owned && pthread_equal (m->owner, pthread_self ()))
    {
      pthread_mutex_unlock (&m->lock);
      *out_acquired = FALSE;
      if (m->name != NULL)
        g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK,
                     "This thread already holds the lock for key '%s' "
                     "(a creator asking for its own key?); waiting for it "
                     "would never end",
                     m->name);
      else
        g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK,
                             "This thread already holds this mutex; "
                             "waiting for it would never end");
      return FALSE;
    }
  while (m->held && wait)
    pthread_cond_wait (&m->released, &m->lock);
  *out_acquired = !m->held;
  if (*out_acquired)
    {
      m->held = TRUE;
      m->owned = TRUE;
      m->owner = pthread_self ();
    }
  pthread_mutex_unlock (&m->lock);
  return TRUE;
}

static gboolean
local_release (gpointer user_data, GError **error)
{
  LocalMutex *m = user_data;
  gboolean was_held;

  pthread_mutex_lock (&m->lock);
  was_held = m->held;
  m->held = FALSE;
  m->owned = FALSE;
  if (was_held)
    pthread_cond_signal (&m->released);
  pthread_mutex_unlock (&m->lock);
  if (!was_held)
    {
      g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK,
                           "Cannot release a mutex that is not held");
      return FALSE;
    }
  return TRUE;
}

static gboolean
local_locked (gpointer user_data, gboolean *out_locked, GError **error)
{
  LocalMutex *m = user_data;

  pthread_mutex_lock (&m->lock);
  *out_locked = m->held;
  pthread_mutex_unlock (&m->lock);
  return TRUE;
}

static void
local_free (gpointer user_data)
{
  LocalMutex *m = user_data;

  pthread_mutex_lock (&all_lock);
  g_queue_unlink (&all_mutexes, &m->link);
  pthread_mutex_unlock (&all_lock);
  pthread_mutex_destroy (&m->lock);
  pthread_cond_destroy (&m->released);
  g_free (m->name);
  g_free (m);
}

static const DogpileMutexFuncs local_funcs = {
  .acquire = local_acquire,
  .release = local_release,
  .locked = local_locked,
};

/**
 * dogpile_mutex_new_local:
 *
 * The mutex a region uses per key when its backend supplies none: excludes
 * threads of this process only, not reentrant.  The thread that holds it
 * and waits for it again gets %DOGPILE_ERROR_LOCK instead of waiting for
 * ever (trying without waiting is "not acquired"); in a child of fork()
 * it is free unless the forking thread held it (docs/fork.md).
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full): a new unlocked mutex
 */
DogpileMutex *
dogpile_mutex_new_local (void)
{
  return dogpile__mutex_new_local_named (NULL);
}

DogpileMutex *
dogpile__mutex_new_local_named (const char *name)
{
  LocalMutex *m = g_new0 (LocalMutex, 1);

  pthread_mutex_init (&m->lock, NULL);
  pthread_cond_init (&m->released, NULL);
  m->name = g_strdup (name);
  pthread_once (&fork_hook_once, add_fork_hook);
  pthread_mutex_lock (&all_lock);
  m->link.data = m;
  g_queue_push_head_link (&all_mutexes, &m->link);
  pthread_mutex_unlock (&all_lock);
  return dogpile_mutex_new (&local_funcs, m, local_free);
}

const DogpileMutexFuncs *
dogpile__mutex_get_funcs (DogpileMutex *self)
{
  return self->funcs;
}

gpointer
dogpile__mutex_get_user_data (DogpileMutex *self)
{
  return self->user_data;
}

/* The local mutex beneath a key's mutex, or NULL. */
static LocalMutex *
local_of (DogpileMutex *self)
{
  DogpileMutex *inner = dogpile__name_registry_inner (self);

  if (inner != NULL)
    self = inner;
  return self->funcs == &local_funcs ? self->user_data : NULL;
}

/* The holder hands the mutex to another thread (an async task), which
 * will release it: the holder may wait for it like anyone else. */
void
dogpile__mutex_disown (DogpileMutex *self)
{
  LocalMutex *m = local_of (self);

  if (m == NULL)
    return;
  pthread_mutex_lock (&m->lock);
  m->owned = FALSE;
  pthread_mutex_unlock (&m->lock);
}

/* The thread running a handed-over task holds the mutex now: a creator
 * there asking for its own key is refused, not left waiting. */
void
dogpile__mutex_adopt (DogpileMutex *self)
{
  LocalMutex *m = local_of (self);

  if (m == NULL)
    return;
  pthread_mutex_lock (&m->lock);
  if (m->held)
    {
      m->owned = TRUE;
      m->owner = pthread_self ();
    }
  pthread_mutex_unlock (&m->lock);
}

static gboolean
null_acquire (gpointer user_data, gboolean wait, gboolean *out_acquired,
              GError **error)
{
  *out_acquired = TRUE;
  return TRUE;
}

static gboolean
null_release (gpointer user_data, GError **error)
{
  return TRUE;
}

static gboolean
null_locked (gpointer user_data, gboolean *out_locked, GError **error)
{
  *out_locked = FALSE;
  return TRUE;
}

static const DogpileMutexFuncs null_funcs = {
  .acquire = null_acquire,
  .release = null_release,
  .locked = null_locked,
};

/**
 * dogpile_mutex_new_null:
 *
 * dogpile.cache's NullLock: acquiring always succeeds, even when "held",
 * releasing always succeeds and locked() is always %FALSE, so nothing is
 * ever serialised.  What dogpile.cache.null uses.
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full): a new null mutex
 */
DogpileMutex *
dogpile_mutex_new_null (void)
{
  return dogpile_mutex_new (&null_funcs, NULL, NULL);
}
