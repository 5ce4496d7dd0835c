/* test-lock-python.h: the dogpile lock across languages, for the backends
 * whose lock Python shares (redis, the memcached family, dbm).
 *
 * A Python process (Debian's dogpile.cache 1.1.8, run by
 * tests/lock-python-peer.py) and this process, LOCK_PYTHON_THREADS threads
 * each, call get_or_create on one key at the same instant, the key being
 * missing or holding "stale", created an hour ago (expired for both
 * regions, whose expiration time is LOCK_PYTHON_EXPIRATION).  Both regions
 * use the backend's own distributed lock, on Python's lock names and
 * protocols, so between them the creator runs exactly once.
 *
 * Creations are counted by both processes in one file: every creator call,
 * C's or Python's, appends one line to it with O_APPEND (one write(2) a
 * call).  The start is a barrier: Python prints READY once its region is
 * configured and its threads wait, then this process sends it the start
 * time (CLOCK_MONOTONIC, the clock of Python's time.monotonic() too) and
 * its own threads wait for the same instant (or, with python_head_start,
 * a little later, still well within the creator's run).  The creator sleeps
 * LOCK_PYTHON_CREATOR_SECONDS, so that every thread of both arrives while
 * it runs.
 *
 * The value format is one parameter for both sides (LockPython.format):
 *  - "raw": the Python region's serializer and deserializer are the
 *    identity on bytes and the C region has none: both store the payload
 *    as it is in the spec 4.1 record;
 *  - "pickle": the stock Python region (no serializer) and the C region
 *    with serializer = pickle: spec 4.1's record with a pickle on redis and
 *    dbm, the client's pickled CachedValue (spec 4.3) on memcached.
 *
 * Afterwards: one line in the file (and the creator calls each side
 * counted agree with it), no errors, every thread got the new value or,
 * when a value was there, "stale"; the key holds the new value.  Whether
 * the lock was released is the backend test's to check (its own record).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <fcntl.h>
#include <time.h>

#include <glib/gstdio.h>

#include "test-faults.h"

/* From tests/plugins/NAME, the TEST_SOURCE_DIR of the tests using this. */
#define LOCK_PYTHON_PEER TEST_SOURCE_DIR "/../../lock-python-peer.py"
#define LOCK_PYTHON_THREADS 8
#define LOCK_PYTHON_CREATOR_SECONDS 0.4
#define LOCK_PYTHON_EXPIRATION 600
/* The lock's lock_timeout on both sides (seconds): longer than the
 * creator and the whole run, so that it never expires during one; the
 * backends' defaults differ (redis: None, memcached: 0, never expiring). */
#define LOCK_PYTHON_LOCK_TIMEOUT "10"

typedef struct {
  DogpileRegion *region;        /* C's, from lock_python_region () */
  const char *backend;          /* dogpile.cache.NAME, on both sides */
  const char *python_arguments; /* the Python backend's, a JSON object */
  const char *format;           /* "raw" or "pickle", on both sides */
  const char *key;
  gboolean value_was_missing;
  /* Seconds the C threads start after Python's (0: together), so that
   * the Python side mostly takes the lock first and C waits on it. */
  double python_head_start;

  /* The run's own. */
  char *count_file;
  double start_at;      /* CLOCK_MONOTONIC seconds */
  GMutex lock;          /* guards c_results */
  GPtrArray *c_results; /* "VALUE <hex>" or "ERROR <message>", as Python's */
} LockPython;

static inline double
lock_python_clock (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static inline char *
lock_python_hex (GBytes *bytes)
{
  gsize len = 0;
  const guint8 *data
      = bytes != NULL ? g_bytes_get_data (bytes, &len) : (const guint8 *) "";
  GString *s = g_string_sized_new (2 * len + 1);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
  return g_string_free (s, FALSE);
}

/* --- the value formats --------------------------------------------------- */

static inline gboolean
lock_python_is_pickle (const char *format)
{
  if (strcmp (format, "pickle") == 0)
    return TRUE;
  cr_assert_str_eq (format, "raw", "unknown value format");
  return FALSE;
}

/* The C region of @format on @backend, expiring after
 * LOCK_PYTHON_EXPIRATION as Python's. */
static inline DogpileRegion *
lock_python_region (const char *backend, GHashTable *arguments,
                    const char *format)
{
  g_autoptr (GError) error = NULL;
  DogpileRegion *region = dogpile_region_new ("lock-python");

  if (lock_python_is_pickle (format))
    cr_assert (dogpile_region_set_serializer_name (region, "pickle", NULL));
  cr_assert (dogpile_region_configure (region, backend, LOCK_PYTHON_EXPIRATION,
                                       arguments, DOGPILE_CONFIGURE_NONE,
                                       &error),
             "configure %s: %s", backend, error ? error->message : "");
  return region;
}

/* --- the C side ---------------------------------------------------------- */

static GBytes *
lock_python_creator (const char *key, gpointer data, GError **error)
{
  LockPython *run = data;
  g_autofree char *line = g_strdup_printf ("c %d %p\n", (int) getpid (),
                                           (void *) g_thread_self ());
  int fd = open (run->count_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                 0600);
  gboolean counted
      = fd >= 0 && write (fd, line, strlen (line)) == (ssize_t) strlen (line);

  /* Not cr_assert: this is a contender's thread.  The error reaches the
   * contender, whose result fails the test. */
  if (fd >= 0)
    close (fd);
  if (!counted)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                   "cannot count a creation in %s", run->count_file);
      return NULL;
    }
  g_usleep ((gulong) (LOCK_PYTHON_CREATOR_SECONDS * G_USEC_PER_SEC));
  return bytes_of ("fresh:c");
}

static gpointer
lock_python_contender (gpointer data)
{
  LockPython *run = data;
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;
  double wait = run->start_at + run->python_head_start - lock_python_clock ();
  char *result;

  if (wait > 0)
    g_usleep ((gulong) (wait * G_USEC_PER_SEC));
  if (dogpile_region_get_or_create (run->region, run->key, lock_python_creator,
                                    run, &value, &error))
    {
      g_autofree char *hex = lock_python_hex (value);

      result = g_strconcat ("VALUE ", hex, NULL);
    }
  else
    result = g_strconcat ("ERROR ", error->message, NULL);
  g_mutex_lock (&run->lock);
  g_ptr_array_add (run->c_results, result);
  g_mutex_unlock (&run->lock);
  return NULL;
}

/* --- the Python side ----------------------------------------------------- */

/* Skips the test (or fails it under CI=true) when Debian's Python lacks
 * dogpile.cache or @backend's client. */
static inline void
lock_python_need (const char *backend)
{
  const char *argv[]
      = { TEST_PYTHON, LOCK_PYTHON_PEER, "check", backend, NULL };
  int status = -1;

  if (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                    NULL, NULL, NULL, NULL, &status, NULL)
      && g_spawn_check_wait_status (status, NULL))
    return;
  cr_assert (g_strcmp0 (g_getenv ("CI"), "true") != 0,
             "%s lacks dogpile.cache or the client of %s", TEST_PYTHON,
             backend);
  cr_skip_test ("%s lacks dogpile.cache or the client of %s", TEST_PYTHON,
                backend);
}

/* Reads @fd until a newline (one line, without it) or, with @until_eof,
 * until end of file; at most until @deadline (CLOCK_MONOTONIC). */
static inline char *
lock_python_read (int fd, gboolean until_eof, double deadline)
{
  GString *out = g_string_new (NULL);

  while (lock_python_clock () < deadline)
    {
      struct pollfd p = { fd, POLLIN, 0 };
      char buf[512];
      ssize_t n;

      if (poll (&p, 1, 100) <= 0)
        continue;
      n = read (fd, buf, until_eof ? sizeof buf : 1);
      if (n <= 0)
        break;
      if (!until_eof && buf[0] == '\n')
        break;
      g_string_append_len (out, buf, n);
    }
  return g_string_free (out, FALSE);
}

/* --- the run ------------------------------------------------------------- */

static inline void
lock_python_prepare_key (LockPython *run)
{
  g_autoptr (GError) error = NULL;

  if (run->value_was_missing)
    {
      g_autoptr (GBytes) nothing = NULL;

      cr_assert (dogpile_region_delete (run->region, run->key, &error), "%s",
                 error ? error->message : "");
      cr_assert (dogpile_region_get (run->region, run->key, &nothing, &error),
                 "%s", error ? error->message : "");
      cr_assert_null (nothing);
    }
  else
    {
      /* The record as a region of this format writes it, an hour old. */
      g_autoptr (GBytes) stored = dogpile_region_encode_variant (
          run->region,
          g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "stale", 5, 1),
          &error);
      g_autoptr (GBytes) record = NULL;
      DogpileMetadata old;

      cr_assert_not_null (stored, "%s", error ? error->message : "");
      dogpile_metadata_init (&old, dogpile_clock_now () - 3600);
      record = dogpile_record_encode (stored, &old);
      cr_assert (
          dogpile_backend_set (dogpile_region_get_backend (run->region, NULL),
                               run->key, record, &error),
          "%s", error ? error->message : "");
    }
}

/* Runs the stampede and checks it (above); returns the number of creator
 * calls, which is then 1. */
static inline int
lock_python_run (LockPython *run)
{
  g_autofree char *dir = g_dir_make_tmp ("dogpile-lock-python-XXXXXX", NULL);
  g_autofree char *threads = g_strdup_printf ("%d", LOCK_PYTHON_THREADS);
  g_autofree char *creator_seconds
      = g_strdup_printf ("%g", LOCK_PYTHON_CREATOR_SECONDS);
  g_autofree char *expiration = g_strdup_printf ("%d", LOCK_PYTHON_EXPIRATION);
  g_autofree char *start = NULL;
  g_autofree char *ready = NULL;
  g_autofree char *output = NULL;
  g_autofree char *counted = NULL;
  g_autofree char *fresh_hex = NULL;
  g_autofree char *stale_hex = NULL;
  g_auto (GStrv) py_lines = NULL;
  g_auto (GStrv) count_lines = NULL;
  g_autoptr (GPtrArray) results = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  GThread *workers[LOCK_PYTHON_THREADS];
  const char *fresh;
  int python_created = -1, c_created = 0, calls = 0, status;
  int in_fd, out_fd;
  GPid pid;

  cr_assert_not_null (dir);
  run->count_file = g_build_filename (dir, "creations", NULL);
  run->c_results = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&run->lock);
  lock_python_prepare_key (run);

  {
    const char *argv[]
        = { TEST_PYTHON,           LOCK_PYTHON_PEER, "stampede",  run->backend,
            run->python_arguments, expiration,       run->key,    threads,
            creator_seconds,       run->count_file,  run->format, NULL };

    cr_assert (g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                         &pid, &in_fd, &out_fd, NULL, &error),
               "%s", error ? error->message : "");
  }
  ready = lock_python_read (out_fd, FALSE, lock_python_clock () + 30);
  if (strcmp (ready, "READY") != 0)
    {
      kill (pid, SIGKILL);
      wait_child (pid, 10);
      cr_assert_fail ("the Python peer printed '%s', not READY", ready);
    }

  /* The barrier: both sides start at this instant. */
  run->start_at = lock_python_clock () + 0.3;
  start = g_strdup_printf ("%.6f\n", run->start_at);
  cr_assert (write (in_fd, start, strlen (start)) == (ssize_t) strlen (start));
  close (in_fd);
  for (int i = 0; i < LOCK_PYTHON_THREADS; i++)
    workers[i] = g_thread_new ("contender", lock_python_contender, run);
  for (int i = 0; i < LOCK_PYTHON_THREADS; i++)
    g_thread_join (workers[i]);

  output = lock_python_read (out_fd, TRUE, lock_python_clock () + 60);
  close (out_fd);
  status = wait_child (pid, 10);
  g_spawn_close_pid (pid);
  cr_assert_eq (status, 0, "the Python peer exited with %d:\n%s", status,
                output);

  /* Creations, as the file counts them and as each side does. */
  cr_assert (g_file_get_contents (run->count_file, &counted, NULL, NULL));
  count_lines = g_strsplit (counted, "\n", -1);
  for (char **l = count_lines; *l != NULL; l++)
    if (**l != '\0')
      {
        calls++;
        c_created += g_str_has_prefix (*l, "c ");
      }
  py_lines = g_strsplit (g_strchomp (output), "\n", -1);
  for (char **l = py_lines; *l != NULL; l++)
    if (g_str_has_prefix (*l, "CREATED "))
      python_created = atoi (*l + 8);
    else
      g_ptr_array_add (results, *l);
  cr_assert_eq (calls, 1,
                "%s, %s, %s: %d creator calls in all (%d in C, %d in "
                "Python), not 1:\n%s",
                run->backend, run->format,
                run->value_was_missing ? "missing value" : "expired value",
                calls, c_created, calls - c_created, counted);
  cr_assert_eq (python_created, calls - c_created,
                "Python says it made %d creator calls; the file says %d",
                python_created, calls - c_created);

  /* Every thread's value: the new one, or the stale one at once. */
  fresh = c_created == 1 ? "fresh:c" : "fresh:python";
  {
    g_autoptr (GBytes) f = bytes_of (fresh);
    g_autoptr (GBytes) s = bytes_of ("stale");
    g_autofree char *f_hex = lock_python_hex (f);
    g_autofree char *s_hex = lock_python_hex (s);

    fresh_hex = g_strconcat ("VALUE ", f_hex, NULL);
    stale_hex = g_strconcat ("VALUE ", s_hex, NULL);
  }
  cr_assert_eq (results->len, LOCK_PYTHON_THREADS, "Python:\n%s", output);
  cr_assert_eq (run->c_results->len, LOCK_PYTHON_THREADS);
  for (guint side = 0; side < 2; side++)
    {
      GPtrArray *r = side == 0 ? run->c_results : results;
      guint stale = 0;

      for (guint i = 0; i < r->len; i++)
        {
          const char *got = g_ptr_array_index (r, i);

          stale += strcmp (got, stale_hex) == 0;
          cr_assert (
              strcmp (got, fresh_hex) == 0
                  || (!run->value_was_missing && strcmp (got, stale_hex) == 0),
              "%s thread %u got %s; the new value is %s (%s)",
              side == 0 ? "a C" : "a Python", i, got, fresh_hex, fresh);
        }
      cr_log_info ("%s, %s, %s value: %s threads got %u new, %u stale "
                   "(the creator ran in %s)",
                   run->backend, run->format,
                   run->value_was_missing ? "missing" : "expired",
                   side == 0 ? "C" : "Python", r->len - stale, stale,
                   c_created == 1 ? "C" : "Python");
    }
  {
    g_autoptr (GBytes) now = NULL;

    cr_assert (dogpile_region_get (run->region, run->key, &now, &error), "%s",
               error ? error->message : "");
    cr_assert (bytes_equal (now, fresh), "the key does not hold %s", fresh);
  }

  g_unlink (run->count_file);
  g_rmdir (dir);
  g_clear_pointer (&run->count_file, g_free);
  g_clear_pointer (&run->c_results, g_ptr_array_unref);
  g_mutex_clear (&run->lock);
  return calls;
}
