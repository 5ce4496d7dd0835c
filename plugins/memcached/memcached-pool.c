/* memcached-pool.c: handles for threads, and what a fork does to them.
 *
 * A libmemcached handle is not thread-safe, so each call takes one from
 * the pool (a stack: the most recently used handle has its connections
 * warm) and gives it back.  The pool is bounded: at most `pool_size`
 * handles exist, each with one connection per server it has talked to;
 * a thread that finds none idle waits up to `pool_timeout` seconds.  The
 * mutex is held for a few instructions, never across I/O or a clone.
 *
 * Fork (the core's hooks, dogpile-fork.h): prepare takes the mutex so no
 * handle changes hands half-way; parent releases it; child gives the pool
 * a fresh condition variable (its waiters were the parent's threads) and
 * abandons every handle made before the fork.  Abandoned, not freed:
 * memcached_free() sends "quit" on each connection, and those sockets are
 * the parent's too, so the child would close its parent's connections.
 * libmemcached offers no way to close a handle's sockets silently, so
 * the abandoned handles are kept (reachable, never touched) for the life
 * of the child; a handle the child's one thread held through fork() is
 * abandoned when it comes back.  The cost is the parent's idle handles'
 * memory and descriptors in each child (pool_size at most; the sockets
 * are close-on-exec, so a child that executes a program pays nothing).
 *
 * Deadlines (memcached-deadline.c): acquire arms the call's watch, release
 * disarms it.  A call that met a timeout leaves its handle in a state
 * nobody can vouch for: a reply that may still come (libmemcached's poll
 * over several servers gives up and leaves their replies unread; the
 * next mget would read them, in order, after waiting for them), or a
 * request half sent (a write that timed out inside an mget).  Release
 * closes such connections (memcached_quit, with the timeouts at 0 so
 * that the quit itself never waits) and restores the timeouts; the next
 * call connects again.  A connection libmemcached closed itself (most
 * timeouts) needs nothing, nor does a connect timeout: that server stays
 * marked down for retry_timeout -- unless the same release closes
 * another connection of the handle, since memcached_quit sets every
 * server of the handle back to new (a down server is then tried again at
 * the handle's next call).
 *
 * pthread primitives rather than GMutex/GCond: ThreadSanitizer sees them,
 * and the condition variable waits on CLOCK_MONOTONIC.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memcached-pool.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

struct McPool {
  pthread_mutex_t lock;
  pthread_cond_t available;
  memcached_st *master;
  GPtrArray *idle; /* McHandle *, most recently released last */
  guint made;      /* handles of this generation, idle or in use */
  guint waiting;   /* threads waiting for a handle */
  guint size;
  double timeout;
  gint64 call_timeout_us;
  DogpileForkHook *fork_hook;
};

/* Handles made before a fork, in the child: see the top of this file. */
static pthread_mutex_t abandoned_lock = PTHREAD_MUTEX_INITIALIZER;
static GPtrArray *abandoned;

static void
abandon (McHandle *handle)
{
  pthread_mutex_lock (&abandoned_lock);
  if (abandoned == NULL)
    abandoned = g_ptr_array_new ();
  g_ptr_array_add (abandoned, handle);
  pthread_mutex_unlock (&abandoned_lock);
}

static void
handle_free (McHandle *handle)
{
  memcached_free (handle->memc);
  if (handle->buffered != NULL)
    memcached_free (handle->buffered);
  g_free (handle);
}

static void
init_cond (pthread_cond_t *cond)
{
  pthread_condattr_t attr;

  pthread_condattr_init (&attr);
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_cond_init (cond, &attr);
  pthread_condattr_destroy (&attr);
}

static void
before_fork (gpointer data)
{
  McPool *self = data;

  pthread_mutex_lock (&self->lock);
}

static void
after_fork_in_parent (gpointer data)
{
  McPool *self = data;

  pthread_mutex_unlock (&self->lock);
}

static void
after_fork_in_child (gpointer data)
{
  McPool *self = data;

  init_cond (&self->available);
  /* The abandoned list's lock may be the parent's, held by another
   * thread: the child has one thread, so it is made anew. */
  pthread_mutex_init (&abandoned_lock, NULL);
  for (guint i = 0; i < self->idle->len; i++)
    abandon (g_ptr_array_index (self->idle, i));
  g_ptr_array_set_size (self->idle, 0);
  self->made = 0;
  self->waiting = 0; /* the waiters were the parent's threads */
  pthread_mutex_unlock (&self->lock);
}

McPool *
mc_pool_new (memcached_st *master, guint size, double timeout,
             double call_timeout)
{
  McPool *self = g_new0 (McPool, 1);

  pthread_mutex_init (&self->lock, NULL);
  init_cond (&self->available);
  self->master = master;
  self->idle = g_ptr_array_new ();
  self->size = size;
  self->timeout = timeout;
  self->call_timeout_us = (gint64) (call_timeout * G_USEC_PER_SEC);
  self->fork_hook = dogpile_fork_hook_add (before_fork, after_fork_in_parent,
                                           after_fork_in_child, self);
  return self;
}

void
mc_pool_free (McPool *self)
{
  if (self == NULL)
    return;
  dogpile_fork_hook_remove (self->fork_hook);
  for (guint i = 0; i < self->idle->len; i++)
    handle_free (g_ptr_array_index (self->idle, i));
  g_ptr_array_unref (self->idle);
  pthread_mutex_destroy (&self->lock);
  pthread_cond_destroy (&self->available);
  g_free (self);
}

static McHandle *
handle_new (McPool *self, GError **error)
{
  McHandle *handle = g_new0 (McHandle, 1);

  handle->memc = memcached_clone (NULL, self->master);
  handle->generation = dogpile_fork_get_generation ();
  if (handle->memc == NULL)
    {
      g_free (handle);
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "Cannot make a memcached handle: out of memory");
      return NULL;
    }
  memcached_set_user_data (handle->memc, handle);
  return handle;
}

static McHandle *
armed (McPool *self, McHandle *handle)
{
  if (handle != NULL)
    mc_watch_arm (&handle->watch, handle->memc, handle->buffered,
                  g_get_monotonic_time () + self->call_timeout_us);
  return handle;
}

static void
set_timeouts (memcached_st *memc, uint64_t poll_ms, uint64_t connect_ms)
{
  memcached_behavior_set (memc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, poll_ms);
  memcached_behavior_set (memc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT,
                          connect_ms);
}

/* Whether @instance may still have a socket open: libmemcached 1.1 tells
 * only for TCP (its local port, 0 when closed). */
static gboolean
may_be_open (const memcached_instance_st *instance)
{
  return strcmp (memcached_server_type (instance), "TCP") != 0
         || memcached_server_srcport (instance) != 0;
}

/* Whether a connection of @memc is in a state a later call must not
 * inherit: a reply not read, or a timeout on a connection still open. */
static gboolean
needs_reset (memcached_st *memc)
{
  guint32 n = memcached_server_count (memc);

  for (guint32 s = 0; s < n; s++)
    {
      const memcached_instance_st *instance
          = memcached_server_instance_by_position (memc, s);

      if (memcached_server_response_count (instance) > 0
          || (memcached_server_error_return (instance) == MEMCACHED_TIMEOUT
              && may_be_open (instance)))
        return TRUE;
    }
  return FALSE;
}

/* After a call that timed out: see the top of this file. */
static void
settle (McPool *self, McHandle *handle, gboolean fired)
{
  uint64_t poll_ms
      = memcached_behavior_get (self->master, MEMCACHED_BEHAVIOR_POLL_TIMEOUT);
  uint64_t connect_ms = memcached_behavior_get (
      self->master, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT);
  memcached_st *handles[] = { handle->memc, handle->buffered };

  for (guint i = 0; i < G_N_ELEMENTS (handles); i++)
    {
      memcached_st *memc = handles[i];

      if (memc == NULL)
        continue;
      if (needs_reset (memc))
        {
          set_timeouts (memc, 0, 0);
          memcached_quit (memc);
          fired = TRUE;
        }
      if (fired)
        set_timeouts (memc, poll_ms, connect_ms);
    }
}

McHandle *
mc_pool_acquire (McPool *self, GError **error)
{
  struct timespec deadline;
  McHandle *handle;

  pthread_mutex_lock (&self->lock);
  if (self->idle->len > 0)
    {
      handle = g_ptr_array_steal_index_fast (self->idle, self->idle->len - 1);
      pthread_mutex_unlock (&self->lock);
      return armed (self, handle);
    }
  clock_gettime (CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += (time_t) self->timeout;
  deadline.tv_nsec
      += (long) ((self->timeout - (double) (time_t) self->timeout) * 1e9);
  if (deadline.tv_nsec >= 1000000000L)
    deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
  self->waiting++;
  while (self->idle->len == 0 && self->made >= self->size)
    if (pthread_cond_timedwait (&self->available, &self->lock, &deadline)
        == ETIMEDOUT)
      break;
  self->waiting--;
  if (self->idle->len > 0)
    {
      handle = g_ptr_array_steal_index_fast (self->idle, self->idle->len - 1);
      pthread_mutex_unlock (&self->lock);
      return armed (self, handle);
    }
  if (self->made >= self->size)
    {
      pthread_mutex_unlock (&self->lock);
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "No memcached connection was free within pool_timeout "
                   "(%g s): all %u are in use; raise pool_size",
                   self->timeout, self->size);
      return NULL;
    }
  self->made++;
  pthread_mutex_unlock (&self->lock);

  /* Cloning copies the server list and behaviors: outside the lock. */
  handle = handle_new (self, error);
  if (handle == NULL)
    {
      pthread_mutex_lock (&self->lock);
      self->made--;
      if (self->waiting > 0)
        pthread_cond_signal (&self->available);
      pthread_mutex_unlock (&self->lock);
    }
  return armed (self, handle);
}

void
mc_pool_release (McPool *self, McHandle *handle)
{
  gboolean fired;

  if (handle->generation != dogpile_fork_get_generation ())
    {
      abandon (handle);
      return;
    }
  fired = mc_watch_disarm (&handle->watch);
  if (fired || handle->timed_out)
    settle (self, handle, fired);
  handle->timed_out = FALSE;
  pthread_mutex_lock (&self->lock);
  g_ptr_array_add (self->idle, handle);
  /* The hit path: no system call unless somebody waits. */
  if (self->waiting > 0)
    pthread_cond_signal (&self->available);
  pthread_mutex_unlock (&self->lock);
}

memcached_st *
mc_handle_get_buffered (McPool *self, McHandle *handle, GError **error)
{
  memcached_return_t rc;

  if (handle->buffered != NULL)
    return handle->buffered;
  handle->buffered = memcached_clone (NULL, self->master);
  if (handle->buffered == NULL)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "Cannot make a memcached handle: out of memory");
      return NULL;
    }
  rc = memcached_behavior_set (handle->buffered,
                               MEMCACHED_BEHAVIOR_BUFFER_REQUESTS, 1);
  if (!memcached_success (rc))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "Cannot buffer memcached requests: %s",
                   memcached_strerror (handle->buffered, rc));
      memcached_free (handle->buffered);
      handle->buffered = NULL;
      return NULL;
    }
  memcached_set_user_data (handle->buffered, handle);
  mc_watch_add (&handle->watch, handle->buffered);
  return handle->buffered;
}
