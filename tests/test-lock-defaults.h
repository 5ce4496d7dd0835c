/* test-lock-defaults.h: the distributed lock with its default times, for
 * the backends whose lock is on a server (redis, memcached; issue 11).
 *
 * Python's lock never expires and its waiters never give up, so one
 * process killed while creating blocks its key in every process for ever.
 * Ours, with nothing set but distributed_lock: the lock expires after
 * lock_timeout (30 s) and a waiter gives up after lock_blocking_timeout
 * (twice lock_timeout, at least 60 s) with DOGPILE_ERROR_LOCK, or at once
 * with the stale value when there is one.
 *
 * lock_defaults_killed_holder(): a child process takes the lock through
 * get_or_create, whose creator tells the parent and then waits for ever;
 * the parent SIGKILLs it, then calls get_or_create on the same missing key
 * with the defaults: it makes the value, once the dead holder's lock has
 * expired and within LOCK_DEFAULTS_SLACK seconds after.  Before the
 * defaults were finite it waited until the test's timeout.
 *
 * And the warning an explicit "no timeout" gets at configure time
 * (lock_defaults_capture_warnings()).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "test-faults.h"

/* The defaults docs/redis.md and docs/memcached.md give (seconds). */
#define LOCK_DEFAULTS_LOCK_TIMEOUT 30.0
#define LOCK_DEFAULTS_BLOCKING_TIMEOUT (2 * LOCK_DEFAULTS_LOCK_TIMEOUT)
/* What a loaded 2-core machine may add to a bound (seconds). */
#define LOCK_DEFAULTS_SLACK 15.0
/* A test's alarm: past every bound above. */
#define LOCK_DEFAULTS_TEST_TIMEOUT 150

/* What a backend's test tells the shared code. */
typedef struct {
  const char *backend;   /* dogpile.cache.NAME */
  GHashTable *arguments; /* the server and distributed_lock, nothing else */
  const char *key;
  /* The seconds the lock item of @key still lives: -1 when it never
   * expires, -2 when there is none. */
  double (*lock_ttl) (const char *key);
} LockDefaults;

static GBytes *
lock_defaults_hang (const char *key, gpointer data, GError **error)
{
  int fd = GPOINTER_TO_INT (data);
  char c = 'L';

  (void) key;
  (void) error;
  if (write (fd, &c, 1) != 1)
    _exit (4);
  for (;;)
    pause ();
  return NULL;
}

static GBytes *
lock_defaults_count (const char *key, gpointer data, GError **error)
{
  (void) key;
  (void) error;
  g_atomic_int_inc ((gint *) data);
  return bytes_of ("made after the crash");
}

/* The child: get_or_create with a creator that never returns.  No
 * cr_assert here: a child's failure shows as its exit status. */
static G_GNUC_NORETURN void
lock_defaults_holder (LockDefaults *t, int fd)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new ("holder");
  g_autoptr (GBytes) value = NULL;

  if (!dogpile_region_configure (region, t->backend, 600, t->arguments,
                                 DOGPILE_CONFIGURE_NONE, NULL))
    _exit (2);
  dogpile_region_get_or_create (region, t->key, lock_defaults_hang,
                                GINT_TO_POINTER (fd), &value, NULL);
  _exit (3);
}

static inline void
lock_defaults_killed_holder (LockDefaults *t)
{
  g_autoptr (DogpileRegion) region = NULL;
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;
  struct pollfd p;
  double locked_at, ttl, elapsed;
  gint calls = 0;
  gboolean ok;
  int fds[2], status;
  pid_t child;
  char c = 0;

  cr_assert (pipe (fds) == 0);
  child = fork ();
  cr_assert (child >= 0);
  if (child == 0)
    {
      close (fds[0]);
      lock_defaults_holder (t, fds[1]);
    }
  close (fds[1]);
  p = (struct pollfd){ fds[0], POLLIN, 0 };
  if (poll (&p, 1, 30000) != 1 || read (fds[0], &c, 1) != 1 || c != 'L')
    {
      kill (child, SIGKILL);
      status = wait_child (child, 10);
      cr_assert_fail ("the holder never started creating (exit %d)", status);
    }
  close (fds[0]);
  locked_at = monotonic_seconds ();
  ttl = t->lock_ttl (t->key);
  cr_assert (kill (child, SIGKILL) == 0);
  cr_assert_eq (wait_child (child, 10), 128 + SIGKILL);
  cr_log_info ("%s: the dead holder's lock lives %g s more", t->backend, ttl);

  region = configured_region (t->backend, 600, t->arguments);
  ok = dogpile_region_get_or_create (region, t->key, lock_defaults_count,
                                     &calls, &value, &error);
  elapsed = monotonic_seconds () - locked_at;
  cr_log_info ("%s: made %g s after the holder took the lock", t->backend,
               elapsed);
  cr_assert (ok, "get_or_create after the holder died: %s",
             error != NULL ? error->message : "");
  cr_assert (bytes_equal (value, "made after the crash"));
  cr_assert_eq (calls, 1);
  /* The lock was the holder's until it expired, and no longer. */
  cr_assert (ttl > 0 && ttl <= LOCK_DEFAULTS_LOCK_TIMEOUT,
             "the holder's lock should expire after the default "
             "lock_timeout (%g s); its TTL was %g s",
             LOCK_DEFAULTS_LOCK_TIMEOUT, ttl);
  cr_assert (elapsed >= LOCK_DEFAULTS_LOCK_TIMEOUT - 2,
             "made after %g s: before the dead holder's lock expired",
             elapsed);
  cr_assert (elapsed <= LOCK_DEFAULTS_LOCK_TIMEOUT + LOCK_DEFAULTS_SLACK,
             "made after %g s, not within lock_timeout (%g s) + %g s", elapsed,
             LOCK_DEFAULTS_LOCK_TIMEOUT, LOCK_DEFAULTS_SLACK);
  cr_assert_eq (t->lock_ttl (t->key), -2, "the lock was not released");
}

/* A lock item that never expires, left by a holder that is gone (Python's
 * defaults): a caller with a stale value gets it at once; without one it
 * gives up after @blocking_timeout seconds with DOGPILE_ERROR_LOCK and
 * never creates unlocked.  @arguments are the caller's. */
static inline void
lock_defaults_gives_up (LockDefaults *t, double blocking_timeout)
{
  g_autoptr (DogpileRegion) region
      = configured_region (t->backend, 600, t->arguments);
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;
  double started, elapsed;
  gint calls = 0;

  cr_assert_eq (t->lock_ttl (t->key), -1, "set up a lock that never expires");
  started = monotonic_seconds ();
  cr_assert_not (dogpile_region_get_or_create (
      region, t->key, lock_defaults_count, &calls, &value, &error));
  elapsed = monotonic_seconds () - started;
  assert_error (error, DOGPILE_ERROR_LOCK);
  cr_assert_eq (calls, 0, "the creator never runs unlocked");
  cr_assert (elapsed >= blocking_timeout - 1.5
                 && elapsed <= blocking_timeout + LOCK_DEFAULTS_SLACK,
             "gave up after %g s, not after lock_blocking_timeout (%g s)",
             elapsed, blocking_timeout);
}

typedef struct {
  LockDefaults *t;
  DogpileRegion *region;
  gint calls;
  gint done;
  gboolean ok;
  GBytes *value;
  GError *error;
} LockDefaultsWaiter;

static gpointer
lock_defaults_wait (gpointer data)
{
  LockDefaultsWaiter *w = data;

  w->ok = dogpile_region_get_or_create (w->region, w->t->key,
                                        lock_defaults_count, &w->calls,
                                        &w->value, &w->error);
  g_atomic_int_set (&w->done, 1);
  return NULL;
}

/* A lock item that never expires (a dead holder's): a caller without a
 * value still waits after @seconds, more than twice lock_timeout, and
 * creates the value once @release has removed the item. */
static inline void
lock_defaults_still_waits (LockDefaults *t, double seconds,
                           void (*release) (const char *key))
{
  g_autoptr (DogpileRegion) region
      = configured_region (t->backend, 600, t->arguments);
  LockDefaultsWaiter w = { t, region, 0, 0, FALSE, NULL, NULL };
  GThread *thread;
  double released;

  cr_assert_eq (t->lock_ttl (t->key), -1, "set up a lock that never expires");
  thread = g_thread_new ("waiter", lock_defaults_wait, &w);
  g_usleep ((gulong) (seconds * G_USEC_PER_SEC));
  cr_assert_not (g_atomic_int_get (&w.done), "gave up before %g s: %s",
                 seconds, w.error != NULL ? w.error->message : "");
  release (t->key);
  released = monotonic_seconds ();
  g_thread_join (thread);
  cr_assert (w.ok, "%s", w.error != NULL ? w.error->message : "");
  cr_assert (monotonic_seconds () - released < LOCK_DEFAULTS_SLACK);
  cr_assert (bytes_equal (w.value, "made after the crash"));
  cr_assert_eq (w.calls, 1);
  g_bytes_unref (w.value);
}

/* --- warnings ------------------------------------------------------------ */

static GPtrArray *lock_defaults_warnings;

static GLogWriterOutput
lock_defaults_writer (GLogLevelFlags level, const GLogField *fields,
                      gsize n_fields, gpointer user_data)
{
  if ((level & G_LOG_LEVEL_WARNING) == 0)
    return g_log_writer_default (level, fields, n_fields, user_data);
  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, "MESSAGE") == 0)
      g_ptr_array_add (lock_defaults_warnings,
                       g_strdup ((const char *) fields[i].value));
  return G_LOG_WRITER_HANDLED;
}

/* From now on this test process's warnings are kept, not printed. */
static inline void
lock_defaults_capture_warnings (void)
{
  lock_defaults_warnings = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (lock_defaults_writer, NULL, NULL);
}

/* Makes a backend of @backend with @arguments; the warnings it logged, one
 * a line ("" when none). */
static inline char *
lock_defaults_configure_warnings (const char *backend, GHashTable *arguments)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileBackend) b = NULL;

  g_ptr_array_set_size (lock_defaults_warnings, 0);
  b = dogpile_backend_new (backend, arguments, &error);
  cr_assert_not_null (b, "%s: %s", backend, error ? error->message : "");
  g_ptr_array_add (lock_defaults_warnings, NULL);
  return g_strjoinv ("\n", (char **) lock_defaults_warnings->pdata);
}
