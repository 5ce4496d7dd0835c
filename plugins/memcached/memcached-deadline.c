/* memcached-deadline.c: the watchdog that ends calls past their deadline.
 *
 * libmemcached 1.1 bounds each wait, not a call: every poll() it makes
 * (for a connection, for room to send, for bytes to read) waits up to
 * its connect or poll timeout, and starts again after any progress, so a
 * server trickling a reply one byte every 0.4 s holds a get with a 1 s
 * timeout for as long as it likes, and one reading slowly a big set.  It
 * has no call-wide deadline and no hook inside a call, and 1.1 gives no
 * way to reach a handle's sockets (memcached_server_fd is gone).  What it
 * does give: each wait reads the handle's poll_timeout (connect_timeout
 * for a connection) when it starts, and a timeout of 0 fails that wait at
 * once with MEMCACHED_TIMEOUT, after which its reader or writer closes
 * the connection (memcached_io_reset), as for any timeout.
 *
 * So each call arms a McWatch (its handles and its deadline) in one list;
 * one thread per process sleeps until the earliest deadline and, for each
 * call past its own, sets both timeouts of its handles to 0 and marks it
 * fired.  The wait under way then ends by its own timeout at the latest,
 * and every wait after it fails at once: a call ends within one wait of
 * its deadline (docs/memcached.md, "Timeouts").  The caller disarms the
 * watch when the call is over, under the same lock, so the watchdog never
 * touches a handle once it is back in the pool; the pool then restores
 * the timeouts and closes what the call left half-used.
 *
 * The watchdog writes the two int32 fields (through memcached_behavior_set,
 * which only assigns them) while the calling thread may be inside
 * libmemcached reading them: an aligned 32-bit store, read once by each
 * wait as it starts (poll() in between is an opaque call, so no compiler
 * keeps the old value across it).  libmemcached's purge saves the poll
 * timeout, sets 50 ms and restores what it saved, which can undo the 0;
 * so the zeroes are written again every REASSERT_US while a fired call
 * is still running.
 *
 * Costs: the lock twice per call, a few instructions each, and a wake-up
 * of the watchdog only when a call's deadline is earlier than the one it
 * sleeps towards (about once per deadline period under load, since every
 * call of a backend has the same length).  Fork: the child has no
 * watchdog and no calls in progress; the list is emptied and the thread
 * started again at the child's first call.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memcached-deadline.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#define REASSERT_US (20 * 1000)
#define START_WAIT_US (100 * 1000)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static pthread_cond_t started;
static McWatch *head, *tail; /* armed watches, in arming order */
static gboolean running;     /* the watchdog thread exists here */
static gboolean ready;       /* and has reached its loop */
static gboolean failed;      /* it could not be started: said once */
static gint64 sleeping_until = G_MAXINT64; /* its next wake-up */

/* Both on the monotonic clock: a deadline must not move with the date. */
static void
init_cond (void)
{
  pthread_condattr_t attr;

  pthread_condattr_init (&attr);
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_cond_init (&wake, &attr);
  pthread_cond_init (&started, &attr);
  pthread_condattr_destroy (&attr);
}

static void
before_fork (gpointer data)
{
  pthread_mutex_lock (&lock);
}

static void
after_fork_in_parent (gpointer data)
{
  pthread_mutex_unlock (&lock);
}

static void
after_fork_in_child (gpointer data)
{
  /* The calls in the list were other threads', which the child does not
   * have; their handles are abandoned (memcached-pool.c). */
  init_cond ();
  head = tail = NULL;
  running = ready = FALSE;
  sleeping_until = G_MAXINT64;
  pthread_mutex_unlock (&lock);
}

static void
init_once (void)
{
  init_cond ();
  /* For the life of the process: the plugin is never unloaded. */
  dogpile_fork_hook_add (before_fork, after_fork_in_parent,
                         after_fork_in_child, NULL);
}

static void
zero_timeouts (memcached_st *memc)
{
  memcached_behavior_set (memc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 0);
  memcached_behavior_set (memc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 0);
}

static void
fire (McWatch *watch)
{
  g_atomic_int_set (&watch->fired, 1);
  for (guint i = 0; i < G_N_ELEMENTS (watch->memc); i++)
    if (watch->memc[i] != NULL)
      zero_timeouts (watch->memc[i]);
}

static void *
watchdog_main (void *data)
{
  pthread_mutex_lock (&lock);
  ready = TRUE;
  pthread_cond_broadcast (&started);
  for (;;)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 next = G_MAXINT64;

      for (McWatch *w = head; w != NULL; w = w->next)
        if (w->deadline <= now)
          {
            fire (w);
            next = MIN (next, now + REASSERT_US);
          }
        else
          next = MIN (next, w->deadline);
      sleeping_until = next;
      if (next == G_MAXINT64)
        pthread_cond_wait (&wake, &lock);
      else
        {
          struct timespec at = { (time_t) (next / G_USEC_PER_SEC),
                                 (long) (next % G_USEC_PER_SEC) * 1000 };

          pthread_cond_timedwait (&wake, &lock, &at);
        }
    }
  return NULL;
}

/* Called with the lock held. */
static void
ensure_running (void)
{
  pthread_attr_t attr;
  sigset_t all, old;
  pthread_t thread;
  int rc;

  if (running || failed)
    return;
  /* No signal of the application is ever delivered to it. */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  pthread_attr_init (&attr);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  rc = pthread_create (&thread, &attr, watchdog_main, NULL);
  pthread_attr_destroy (&attr);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  if (rc != 0)
    {
      failed = TRUE;
      g_warning ("Cannot start the memcached deadline watchdog (%s): calls "
                 "are bounded by libmemcached's timeouts per wait only",
                 g_strerror (rc));
      return;
    }
  pthread_setname_np (thread, "dogpile-mc-dl");
  running = TRUE;
  /* A new thread's start-up allocates, and not every allocator takes
   * its locks around fork as glibc's does (AddressSanitizer's does not):
   * a process forked meanwhile can inherit one held, and its child then
   * hangs at its first allocation.  Pre-fork servers fork right after
   * their first call, so wait, once per process, until the thread is in
   * its loop, where it allocates nothing.  Not for ever: a child forked
   * while the parent's threads allocated can have inherited such a lock
   * held (AddressSanitizer again), and then the thread never starts; the
   * call goes on without it, bounded by libmemcached's waits. */
  {
    gint64 until = g_get_monotonic_time () + START_WAIT_US;
    struct timespec at = { (time_t) (until / G_USEC_PER_SEC),
                           (long) (until % G_USEC_PER_SEC) * 1000 };

    while (!ready)
      if (pthread_cond_timedwait (&started, &lock, &at) != 0)
        break;
  }
}

void
mc_watch_arm (McWatch *watch, memcached_st *memc, memcached_st *buffered,
              gint64 deadline)
{
  pthread_once (&once, init_once);
  watch->memc[0] = memc;
  watch->memc[1] = buffered;
  watch->deadline = deadline;
  watch->generation = dogpile_fork_get_generation ();
  g_atomic_int_set (&watch->fired, 0);
  pthread_mutex_lock (&lock);
  ensure_running ();
  watch->next = NULL;
  watch->prev = tail;
  if (tail != NULL)
    tail->next = watch;
  else
    head = watch;
  tail = watch;
  watch->armed = TRUE;
  if (deadline < sleeping_until)
    {
      sleeping_until = deadline;
      pthread_cond_signal (&wake);
    }
  pthread_mutex_unlock (&lock);
}

void
mc_watch_add (McWatch *watch, memcached_st *memc)
{
  if (!watch->armed)
    return;
  pthread_mutex_lock (&lock);
  for (guint i = 0; i < G_N_ELEMENTS (watch->memc); i++)
    if (watch->memc[i] == NULL || watch->memc[i] == memc)
      {
        watch->memc[i] = memc;
        break;
      }
  if (mc_watch_fired (watch))
    zero_timeouts (memc);
  pthread_mutex_unlock (&lock);
}

gboolean
mc_watch_disarm (McWatch *watch)
{
  if (!watch->armed)
    return FALSE;
  pthread_mutex_lock (&lock);
  /* Armed before a fork: the child's list never had it. */
  if (watch->generation == dogpile_fork_get_generation ())
    {
      if (watch->prev != NULL)
        watch->prev->next = watch->next;
      else
        head = watch->next;
      if (watch->next != NULL)
        watch->next->prev = watch->prev;
      else
        tail = watch->prev;
    }
  watch->prev = watch->next = NULL;
  watch->armed = FALSE;
  pthread_mutex_unlock (&lock);
  return mc_watch_fired (watch);
}
