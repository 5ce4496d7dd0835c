/* test-dbm-lock-python.c: the dogpile lock of a dbm file shared with
 * Python (tests/test-lock-python.h): a Python process (dogpile.cache.dbm
 * on gdbm) and this one, 8 threads each, on one expired or missing key of
 * one file, make exactly one creator call between them -- flock(LOCK_EX)
 * on <file>.dogpile.lock (LOCK_NB when a stale value is there) and the
 * read/write lock <file>.rw.lock around every access, on both sides.
 *
 * Both sides use the defaults (dbm has no lock timeout).  Values raw and
 * in the stock pickle form.
 *
 * SPDX-License-Identifier: MIT
 */
#include <sys/file.h>

#include "test-lock-python.h"

#define BACKEND "dogpile.cache.dbm"

static char *tmp_dir;

static void
setup (void)
{
  lock_python_need (BACKEND);
  tmp_dir = g_dir_make_tmp ("dogpile-dbm-lock-python-XXXXXX", NULL);
  cr_assert_not_null (tmp_dir);
}

static void
teardown (void)
{
  GDir *dir;
  const char *name;

  if (tmp_dir == NULL)
    return;
  dir = g_dir_open (tmp_dir, 0, NULL);
  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (tmp_dir, name, NULL);

          g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

/* Whether someone holds the flock on @path. */
static gboolean
flock_held (const char *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  gboolean held;

  cr_assert (fd >= 0, "%s: %s", path, g_strerror (errno));
  held = flock (fd, LOCK_EX | LOCK_NB) != 0;
  close (fd);
  return held;
}

static void
run_stampede (const char *format, gboolean value_was_missing,
              double python_head_start)
{
  g_autofree char *file = g_build_filename (tmp_dir, "cache.dbm", NULL);
  g_autofree char *lock_file = g_strconcat (file, ".dogpile.lock", NULL);
  g_autoptr (GHashTable) arguments = arguments_of ("filename", file, NULL);
  g_autoptr (DogpileRegion) region
      = lock_python_region (BACKEND, arguments, format);
  g_autofree char *python_arguments
      = g_strdup_printf ("{\"filename\": \"%s\"}", file);
  LockPython run = { .region = region,
                     .backend = BACKEND,
                     .python_arguments = python_arguments,
                     .format = format,
                     .key = "lock python key",
                     .value_was_missing = value_was_missing,
                     .python_head_start = python_head_start };

  cr_assert_eq (lock_python_run (&run), 1);
  cr_assert_not (flock_held (lock_file), "the dogpile lock was not released");
}

TestSuite (dbm_lock_python, .init = setup, .fini = teardown);

/* Started together, C mostly wins and Python waits on C's lock. */
Test (dbm_lock_python, raw_expired_value_one_creator_in_c_and_python)
{
  run_stampede ("raw", FALSE, 0);
}

Test (dbm_lock_python, raw_missing_value_one_creator_in_c_and_python)
{
  run_stampede ("raw", TRUE, 0);
}

Test (dbm_lock_python, pickled_expired_value_one_creator_in_c_and_python)
{
  run_stampede ("pickle", FALSE, 0);
}

Test (dbm_lock_python, pickled_missing_value_one_creator_in_c_and_python)
{
  run_stampede ("pickle", TRUE, 0);
}

/* Python 0.1 s ahead: Python mostly wins and C waits on Python's lock. */
Test (dbm_lock_python, python_ahead_expired_value_one_creator)
{
  run_stampede ("raw", FALSE, 0.1);
}

Test (dbm_lock_python, python_ahead_missing_value_one_creator)
{
  run_stampede ("raw", TRUE, 0.1);
}
