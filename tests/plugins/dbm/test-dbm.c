/* test-dbm.c: what is particular to dogpile.cache.dbm (spec 3.3, 4.5,
 * 5.10): arguments, files it must refuse, the KeyReentrantMutex release
 * assertions, the kept handle seeing other writers (C and Debian's Python
 * dogpile.cache), lock interop with Python, fork, and repair: after a
 * writer died, and of damage no death explains (a header gdbm would grow
 * the file from, a file gdbm cannot open).  The generic suites run from
 * test-backend-suite.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "dbm-private.h"
#include "test-util.h"

#define DBM "dogpile.cache.dbm"
#define PYTHON "/usr/bin/python3"
#define PEER TEST_SOURCE_DIR "/dbm-python-peer.py"

static char *tmp_dir;
static GPtrArray
    *warnings;           /* (element-type utf8): what capture_warnings saw */
static char shm_dir[64]; /* a folder on tmpfs, for the one test needing it */

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR)
              && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static void
setup (void)
{
  tmp_dir = g_dir_make_tmp ("dogpile-dbm-XXXXXX", NULL);
  cr_assert_not_null (tmp_dir);
}

static gboolean dropped_root;

static void
teardown (void)
{
  if (dropped_root)
    {
      cr_assert_eq (seteuid (0), 0);
      cr_assert_eq (setegid (0), 0);
      dropped_root = FALSE;
    }
  if (shm_dir[0] != '\0')
    remove_tree (shm_dir);
  if (tmp_dir != NULL)
    {
      chmod (tmp_dir, 0700);
      remove_tree (tmp_dir);
    }
  g_clear_pointer (&tmp_dir, g_free);
  g_clear_pointer (&warnings, g_ptr_array_unref);
}

TestSuite (dbm, .init = setup, .fini = teardown, .timeout = 60);

static char *
path_in_tmp (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

static DogpileBackend *
try_backend (GError **error, const char *first_name, ...)
{
  g_autoptr (GHashTable) arguments
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  va_list ap;

  va_start (ap, first_name);
  for (const char *name = first_name; name != NULL;
       name = va_arg (ap, const char *))
    g_hash_table_insert (arguments, g_strdup (name),
                         g_strdup (va_arg (ap, const char *)));
  va_end (ap);
  return dogpile_backend_new (DBM, arguments, error);
}

static DogpileBackend *
backend_on (const char *file)
{
  g_autoptr (GError) error = NULL;
  DogpileBackend *backend = try_backend (&error, "filename", file, NULL);

  assert_no_error (error);
  cr_assert_not_null (backend);
  return backend;
}

static DogpileRegion *
region_on (const char *file)
{
  g_autoptr (GHashTable) arguments = arguments_of ("filename", file, NULL);

  return configured_region (DBM, 3600, arguments);
}

static void
backend_put (DogpileBackend *backend, const char *key, const char *value)
{
  g_autoptr (GBytes) bytes = bytes_of (value);
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_backend_set (backend, key, bytes, &error), "set %s: %s",
             key, error ? error->message : "");
}

static GBytes *
backend_fetch (DogpileBackend *backend, const char *key)
{
  g_autoptr (GError) error = NULL;
  GBytes *value = NULL;

  cr_assert (dogpile_backend_get (backend, key, &value, &error), "get %s: %s",
             key, error ? error->message : "");
  return value;
}

static void
assert_fetch (DogpileBackend *backend, const char *key, const char *expected)
{
  g_autoptr (GBytes) value = backend_fetch (backend, key);

  cr_assert (bytes_equal (value, expected), "%s: expected %s, got %.*s", key,
             expected ? expected : "a miss",
             value ? (int) g_bytes_get_size (value) : 6,
             value ? (const char *) g_bytes_get_data (value, NULL) : "a miss");
}

static char *
file_contents (const char *path, gsize *out_len)
{
  char *data = NULL;

  cr_assert (g_file_get_contents (path, &data, out_len, NULL));
  return data;
}

/* --- arguments ------------------------------------------------------- */

Test (dbm, missing_filename_is_a_validation_error)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileBackend) backend
      = try_backend (&error, "rw_lockfile", "false", NULL);

  cr_assert_null (backend);
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, "'filename'") != NULL, "%s",
             error->message);
}

Test (dbm, bad_lockfile_argument_is_a_validation_error)
{
  g_autofree char *file = path_in_tmp ("x.dbm");
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileBackend) backend
      = try_backend (&error, "filename", file, "rw_lockfile", "true", NULL);

  cr_assert_null (backend);
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, "rw_lockfile") != NULL, "%s",
             error->message);
  g_clear_error (&error);
  backend
      = try_backend (&error, "filename", file, "reuse_handle", "maybe", NULL);
  cr_assert_null (backend);
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, "reuse_handle") != NULL);
}

Test (dbm, files_are_created_with_python_names)
{
  g_autofree char *file = path_in_tmp ("made.dbm");
  g_autofree char *rw = g_strconcat (file, ".rw.lock", NULL);
  g_autofree char *dogpile = g_strconcat (file, ".dogpile.lock", NULL);
  /* a relative, unnormalised name, as Python accepts */
  g_autofree char *cwd = g_get_current_dir ();
  g_autoptr (DogpileBackend) backend = NULL;
  g_autoptr (DogpileMutex) mutex = NULL;
  gboolean acquired = FALSE;
  struct stat st;

  cr_assert_eq (chdir (tmp_dir), 0);
  backend = backend_on ("./sub/../made.dbm");
  cr_assert_eq (chdir (cwd), 0);
  cr_assert (g_file_test (file, G_FILE_TEST_IS_REGULAR));
  cr_assert (g_file_test (rw, G_FILE_TEST_IS_REGULAR));
  /* the dogpile lock file appears at the first acquire, as in Python */
  mutex = dogpile_backend_get_mutex (backend, "k");
  cr_assert (dogpile_mutex_acquire (mutex, TRUE, &acquired, NULL) && acquired);
  cr_assert (dogpile_mutex_release (mutex, NULL));
  cr_assert_eq (stat (dogpile, &st), 0);
  /* mode 0777 & ~umask, like os.open's default */
  {
    mode_t mask = umask (0);

    umask (mask);
    cr_assert_eq (st.st_mode & 0777, 0777 & ~mask);
  }
}

Test (dbm, lock_files_may_be_named_or_disabled)
{
  g_autofree char *file = path_in_tmp ("named.dbm");
  g_autofree char *rw = path_in_tmp ("elsewhere.lock");
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileBackend) backend
      = try_backend (&error, "filename", file, "rw_lockfile", rw,
                     "dogpile_lockfile", "False", NULL);
  g_autofree char *default_rw = g_strconcat (file, ".rw.lock", NULL);

  assert_no_error (error);
  cr_assert (g_file_test (rw, G_FILE_TEST_IS_REGULAR));
  cr_assert_not (g_file_test (default_rw, G_FILE_TEST_EXISTS));
  /* no dogpile lock file: the region's own lock per key */
  cr_assert_null (dogpile_backend_get_mutex (backend, "k"));
  backend_put (backend, "k", "v");
  assert_fetch (backend, "k", "v");
}

/* --- files it must refuse ------------------------------------------- */

static void
assert_refused (const char *file, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileBackend) backend
      = try_backend (&error, "filename", file, NULL);

  cr_assert_null (backend);
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (strstr (error->message, file) != NULL,
             "the message names the file: %s", error->message);
  cr_assert (needle == NULL || strstr (error->message, needle) != NULL,
             "'%s' in: %s", needle, error->message);
}

Test (dbm, not_a_gdbm_file_is_refused_and_left_alone)
{
  g_autofree char *file = path_in_tmp ("text.dbm");
  const char *text = "this is not a database, just some text of mine\n";
  g_autofree char *after = NULL;
  gsize len;

  cr_assert (g_file_set_contents (file, text, -1, NULL));
  assert_refused (file, "not a GNU dbm file");
  after = file_contents (file, &len);
  cr_assert_str_eq (after, text);
}

Test (dbm, sqlite_file_gets_a_hint)
{
  g_autofree char *file = path_in_tmp ("py313.dbm");
  char head[4096] = "SQLite format 3";

  cr_assert (g_file_set_contents (file, head, sizeof head, NULL));
  assert_refused (file, "SQLite");
}

Test (dbm, other_dbm_flavours_are_named)
{
  g_autofree char *file = path_in_tmp ("berkeley.dbm");
  g_autofree char *db = g_strconcat (file, ".db", NULL);

  cr_assert (g_file_set_contents (db, "x", 1, NULL));
  assert_refused (file, ".db");
}

static void
make_gdbm_file (const char *file)
{
  g_autoptr (DogpileBackend) backend = backend_on (file);

  backend_put (backend, "a", "1");
  backend_put (backend, "b", "2");
}

static void
overwrite (const char *file, off_t at, const void *data, gsize len)
{
  int fd = open (file, O_WRONLY);

  cr_assert (fd >= 0);
  cr_assert_eq (pwrite (fd, data, len, at), (ssize_t) len);
  close (fd);
}

/* What cannot be told from damage is left alone: a file cut before gdbm's
 * magic could be anyone's, and a gdbm file of another byte order is some
 * other machine's good data. */
Test (dbm, files_without_our_magic_are_refused_and_left_alone)
{
  g_autofree char *stub = path_in_tmp ("stub.dbm");
  g_autofree char *swapped = path_in_tmp ("swapped.dbm");
  const guint32 swapped_magic = 0xcf9a5713u;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gsize before_len, after_len;
  struct stat st;

  make_gdbm_file (stub);
  cr_assert_eq (truncate (stub, 3), 0);
  assert_refused (stub, NULL);
  cr_assert_eq (stat (stub, &st), 0);
  cr_assert_eq (st.st_size, 3);

  make_gdbm_file (swapped);
  overwrite (swapped, 0, &swapped_magic, sizeof swapped_magic);
  before = file_contents (swapped, &before_len);
  assert_refused (swapped, "not a GNU dbm file");
  after = file_contents (swapped, &after_len);
  cr_assert (before_len == after_len && memcmp (before, after, after_len) == 0,
             "left as it was");
}

/* Root passes every permission check, so the test acts as nobody (the
 * effective ids only: teardown takes root's back to clean up). */
static void
become_nobody (void)
{
  if (geteuid () == 0)
    {
      cr_assert_eq (chmod (tmp_dir, 0755), 0);
      cr_assert_eq (setegid (65534), 0);
      cr_assert_eq (seteuid (65534), 0);
      dropped_root = TRUE;
    }
}

Test (dbm, unwritable_folder_is_an_error_naming_the_file)
{
  g_autofree char *dir = path_in_tmp ("locked");
  g_autofree char *file = g_build_filename (dir, "cache.dbm", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileBackend) backend = NULL;

  cr_assert_eq (g_mkdir (dir, 0555), 0);
  cr_assert_eq (chmod (dir, 0555), 0);
  become_nobody ();
  backend = try_backend (&error, "filename", file, NULL);
  cr_assert_null (backend);
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (strstr (error->message, dir) != NULL, "%s", error->message);
  cr_assert (strstr (error->message, "Permission denied") != NULL, "%s",
             error->message);
  g_clear_error (&error);
  /* without the lock file it is creating the dbm file that fails */
  backend
      = try_backend (&error, "filename", file, "rw_lockfile", "false", NULL);
  cr_assert_null (backend);
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (strstr (error->message, file) != NULL, "%s", error->message);
}

/* --- KeyReentrantMutex ---------------------------------------------- */

static DogpileMutex *
mutex_for (DogpileBackend *backend, const char *key)
{
  DogpileMutex *m = dogpile_backend_get_mutex (backend, key);

  cr_assert_not_null (m);
  return m;
}

Test (dbm, release_assertion_thread)
{
  g_autofree char *file = path_in_tmp ("m.dbm");
  g_autoptr (DogpileBackend) backend = backend_on (file);
  g_autoptr (DogpileMutex) m = mutex_for (backend, "foo");
  g_autoptr (GError) error = NULL;

  cr_assert_not (dogpile_mutex_release (m, &error));
  assert_error (error, DOGPILE_ERROR_LOCK);
  cr_assert_str_eq (error->message, "this thread didn't do the acquire");
}

Test (dbm, release_assertion_key)
{
  g_autofree char *file = path_in_tmp ("m.dbm");
  g_autoptr (DogpileBackend) backend = backend_on (file);
  g_autoptr (DogpileMutex) foo = mutex_for (backend, "foo");
  g_autoptr (DogpileMutex) bar = mutex_for (backend, "bar");
  g_autoptr (GError) error = NULL;

  cr_assert (mutex_acquire_ok (foo, TRUE));
  cr_assert_not (dogpile_mutex_release (bar, &error));
  assert_error (error, DOGPILE_ERROR_LOCK);
  cr_assert_str_eq (error->message, "No acquire held for key 'bar'");
  cr_assert (dogpile_mutex_release (foo, NULL));
}

typedef struct {
  DogpileMutex *mutex;
  gboolean locked;
  gboolean acquired;
  GError *error;
} OtherThread;

static gpointer
other_thread (gpointer data)
{
  OtherThread *t = data;

  dogpile_mutex_locked (t->mutex, &t->locked, NULL);
  dogpile_mutex_acquire (t->mutex, FALSE, &t->acquired, NULL);
  if (t->acquired)
    dogpile_mutex_release (t->mutex, NULL);
  dogpile_mutex_release (t->mutex, &t->error);
  return NULL;
}

Test (dbm, locked_and_release_belong_to_the_thread)
{
  g_autofree char *file = path_in_tmp ("m.dbm");
  g_autoptr (DogpileBackend) backend = backend_on (file);
  g_autoptr (DogpileMutex) foo = mutex_for (backend, "foo");
  OtherThread t = { foo, TRUE, TRUE, NULL };

  cr_assert (mutex_acquire_ok (foo, TRUE));
  cr_assert (mutex_is_locked (foo));
  g_thread_join (g_thread_new ("other", other_thread, &t));
  cr_assert_not (t.locked, "locked() is only the calling thread's hold");
  cr_assert_not (t.acquired, "the file lock excludes other threads");
  cr_assert (g_error_matches (t.error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK));
  cr_assert_str_eq (t.error->message, "this thread didn't do the acquire");
  g_clear_error (&t.error);
  cr_assert (mutex_is_locked (foo));
  cr_assert (dogpile_mutex_release (foo, NULL));
  cr_assert_not (mutex_is_locked (foo));
}

Test (dbm, waiting_for_a_key_this_thread_holds_is_an_error)
{
  g_autofree char *file = path_in_tmp ("m.dbm");
  g_autoptr (DogpileBackend) backend = backend_on (file);
  g_autoptr (DogpileMutex) foo = mutex_for (backend, "foo");
  g_autoptr (GError) error = NULL;
  gboolean acquired = TRUE;

  cr_assert (mutex_acquire_ok (foo, TRUE));
  cr_assert_not (mutex_acquire_ok (foo, FALSE));
  cr_assert_not (dogpile_mutex_acquire (foo, TRUE, &acquired, &error));
  assert_error (error, DOGPILE_ERROR_LOCK);
  cr_assert_not (acquired);
  cr_assert (dogpile_mutex_release (foo, NULL));
}

/* Two backends (regions) on one file share the thread's hold on its one
 * dogpile lock: holding a key through one, the same thread takes another
 * through the other at once. */
Test (dbm, backends_on_one_file_share_the_threads_hold)
{
  g_autofree char *file = path_in_tmp ("two.dbm");
  g_autofree char *lock = g_strconcat (file, ".dogpile.lock", NULL);
  g_autoptr (DogpileBackend) one = backend_on (file);
  g_autoptr (DogpileBackend) two = backend_on (file);
  g_autoptr (DogpileMutex) foo = mutex_for (one, "foo");
  g_autoptr (DogpileMutex) bar = mutex_for (two, "bar");
  int fd;

  cr_assert (mutex_acquire_ok (foo, TRUE));
  cr_assert (mutex_acquire_ok (bar, TRUE));
  cr_assert (mutex_is_locked (bar));
  cr_assert (dogpile_mutex_release (foo, NULL));
  fd = open (lock, O_RDONLY);
  cr_assert_neq (flock (fd, LOCK_EX | LOCK_NB), 0, "bar still holds it");
  cr_assert (dogpile_mutex_release (bar, NULL));
  cr_assert_eq (flock (fd, LOCK_EX | LOCK_NB), 0,
                "released with the last key");
  close (fd);
}

/* get_or_create_multi holds every key it regenerates at once, on the one
 * file lock; its creator asking get_or_create for yet another key must not
 * wait for itself. */
static GBytes *
inner_creator (const char *key, gpointer data, GError **error)
{
  return bytes_of ("inner");
}

static gboolean
nesting_multi_creator (const char *const *keys, gsize n, GBytes **out,
                       gpointer data, GError **error)
{
  g_autoptr (GBytes) inner = NULL;

  if (!dogpile_region_get_or_create (data, "c", inner_creator, NULL, &inner,
                                     error))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    {
      char *text = g_strdup_printf (
          "%s+%.*s", keys[i], (int) g_bytes_get_size (inner),
          (const char *) g_bytes_get_data (inner, NULL));

      out[i] = g_bytes_new_take (text, strlen (text));
    }
  return TRUE;
}

Test (dbm, nested_get_or_create_multi_does_not_deadlock)
{
  g_autofree char *file = path_in_tmp ("nested.dbm");
  g_autoptr (DogpileRegion) region = region_on (file);
  const char *keys[] = { "a", "b" };
  GBytes *got[2] = { NULL, NULL };
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_get_or_create_multi (
                 region, keys, 2, nesting_multi_creator, region,
                 DOGPILE_EXPIRATION_DEFAULT, NULL, NULL, got, &error),
             "%s", error ? error->message : "");
  cr_assert (bytes_equal (got[0], "a+inner"));
  cr_assert (bytes_equal (got[1], "b+inner"));
  g_bytes_unref (got[0]);
  g_bytes_unref (got[1]);
}

/* --- the kept handle and other writers ------------------------------- */

/* Another backend on the same file is another set of handles: what it
 * writes must be seen at once, including a value replaced in place (same
 * length), within one tick of the kernel's clock. */
Test (dbm, kept_handle_sees_every_write_of_another_handle)
{
  g_autofree char *file = path_in_tmp ("shared.dbm");
  g_autoptr (DogpileBackend) reader = backend_on (file);
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileBackend) writer
      = try_backend (&error, "filename", file, "reuse_handle", "false", NULL);
  g_autoptr (DogpileBackend) kept_writer = backend_on (file);

  assert_no_error (error);
  for (int round = 0; round < 300; round++)
    {
      g_autofree char *value = g_strdup_printf ("value-%04d", round);
      DogpileBackend *w = round % 2 ? writer : kept_writer;

      backend_put (w, "k", value);
      assert_fetch (reader, "k", value);
      assert_fetch (w == writer ? kept_writer : writer, "k", value);
    }
}

/* A writer that is neither us nor Python: plain gdbm through a fresh
 * mapping under the lock file, so only the kernel stamps the file. */
static void
raw_gdbm_put (const char *file, const char *key, const char *value)
{
  g_autofree char *lock = g_strconcat (file, ".rw.lock", NULL);
  int fd = open (lock, O_WRONLY | O_CREAT, 0777);
  GDBM_FILE dbf;
  datum k = { (char *) key, (int) strlen (key) };
  datum v = { (char *) value, (int) strlen (value) };

  cr_assert (fd >= 0 && flock (fd, LOCK_EX) == 0);
  dbf = gdbm_open (file, 0, GDBM_WRITER, 0, NULL);
  cr_assert_not_null (dbf, "%s", gdbm_strerror (gdbm_errno));
  cr_assert_eq (gdbm_store (dbf, k, v, GDBM_REPLACE), 0);
  gdbm_close (dbf);
  flock (fd, LOCK_UN);
  close (fd);
}

Test (dbm, kept_handle_sees_kernel_stamped_writes_in_the_same_tick)
{
  g_autofree char *file = path_in_tmp ("raw.dbm");
  g_autoptr (DogpileBackend) reader = backend_on (file);

  for (int round = 0; round < 200; round++)
    {
      g_autofree char *value = g_strdup_printf ("raw-%04d", round);

      raw_gdbm_put (file, "k", value);
      assert_fetch (reader, "k", value);
    }
}

static gboolean
python_available (void)
{
  const char *argv[] = { PYTHON, PEER, "check", NULL };
  int status = -1;

  if (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                    NULL, NULL, NULL, NULL, &status, NULL)
      && g_spawn_check_wait_status (status, NULL))
    return TRUE;
  if (g_strcmp0 (g_getenv ("CI"), "true") == 0)
    cr_assert_fail ("CI: Debian's python3-dogpile.cache and python3-gdbm "
                    "are needed (tools/dev/install-deps)");
  return FALSE;
}

#define REQUIRE_PYTHON()                                                      \
  do                                                                          \
    if (!python_available ())                                                 \
      cr_skip_test ("no " PYTHON " with dogpile.cache and dbm.gnu");          \
  while (0)

/* Runs the peer; returns its standard output. */
static char *
python (const char *command, const char *file, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = -1;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) PYTHON);
  g_ptr_array_add (argv, (gpointer) PEER);
  g_ptr_array_add (argv, (gpointer) command);
  g_ptr_array_add (argv, (gpointer) file);
  va_start (ap, file);
  for (const char *a = va_arg (ap, const char *); a != NULL;
       a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  cr_assert (g_spawn_sync (NULL, (char **) argv->pdata, NULL, 0, NULL, NULL,
                           &out, &err, &status, NULL));
  cr_assert (g_spawn_check_wait_status (status, NULL), "python %s: %s",
             command, err);
  return out;
}

Test (dbm, python_reads_c_and_c_reads_python)
{
  g_autofree char *file = path_in_tmp ("both.dbm");
  g_autoptr (DogpileRegion) region = NULL;
  g_autofree char *out = NULL;
  g_autofree char *raw = NULL;

  REQUIRE_PYTHON ();
  region = region_on (file);
  {
    g_autoptr (GBytes) v = bytes_of ("from C, h\xc3\xa9llo");

    cr_assert (dogpile_region_set (region, "c key", v, NULL));
  }
  /* our writer handle stays open: Python's reader is not locked out */
  out = python ("get", file, "c key", "nothing here", NULL);
  cr_assert_str_eq (out, "from C, h\xc3\xa9llo\n<missing>\n");
  raw = python ("raw", file, "c key", NULL);
  cr_assert (g_str_has_prefix (raw, "b'{\"ct\": "), "%s", raw);
  cr_assert (strstr (raw, ", \"v\": 2}|from C") != NULL, "%s", raw);

  g_free (python ("set", file, "py key", "from Python", "c key",
                  "replaced by Python", NULL));
  {
    g_autoptr (GBytes) got = NULL;

    cr_assert (dogpile_region_get (region, "py key", &got, NULL));
    cr_assert (bytes_equal (got, "from Python"));
    g_clear_pointer (&got, g_bytes_unref);
    cr_assert (dogpile_region_get (region, "c key", &got, NULL));
    cr_assert (bytes_equal (got, "replaced by Python"));
  }
}

Test (dbm, c_reads_a_file_python_created)
{
  g_autofree char *file = path_in_tmp ("by-python.dbm");
  g_autoptr (DogpileRegion) region = NULL;
  g_autoptr (GBytes) got = NULL;

  REQUIRE_PYTHON ();
  g_free (python ("set", file, "a", "made by Python", NULL));
  region = region_on (file);
  cr_assert (dogpile_region_get (region, "a", &got, NULL));
  cr_assert (bytes_equal (got, "made by Python"));
}

Test (dbm, kept_handle_sees_python_replace_a_value_in_place)
{
  g_autofree char *file = path_in_tmp ("inplace.dbm");
  g_autoptr (DogpileRegion) region = NULL;

  REQUIRE_PYTHON ();
  region = region_on (file);
  for (int round = 0; round < 4; round++)
    {
      g_autofree char *mine = g_strdup_printf ("C-value-%d", round);
      g_autofree char *theirs = g_strdup_printf ("P-value-%d", round);
      g_autoptr (GBytes) v = bytes_of (mine);
      g_autoptr (GBytes) got = NULL;

      cr_assert (dogpile_region_set (region, "k", v, NULL));
      cr_assert (dogpile_region_get (region, "k", &got, NULL));
      cr_assert (bytes_equal (got, mine));
      g_clear_pointer (&got, g_bytes_unref);
      g_free (python ("set", file, "k", theirs, NULL));
      cr_assert (dogpile_region_get (region, "k", &got, NULL));
      cr_assert (bytes_equal (got, theirs), "round %d", round);
    }
}

/* tmpfs does not stamp a file written through a mapping (no
 * page_mkwrite), so a value Python replaces in place changes nothing fstat
 * shows.  There the backend opens the file for every operation. */
Test (dbm, on_tmpfs_python_writes_in_place_are_seen_too)
{
  struct statfs fs;
  g_autofree char *file = NULL;
  g_autoptr (DogpileRegion) region = NULL;

  REQUIRE_PYTHON ();
  if (statfs ("/dev/shm", &fs) != 0 || fs.f_type != 0x01021994)
    cr_skip_test ("no tmpfs at /dev/shm");
  g_strlcpy (shm_dir, "/dev/shm/dogpile-dbm-XXXXXX", sizeof shm_dir);
  cr_assert_not_null (mkdtemp (shm_dir));
  file = g_build_filename (shm_dir, "shm.dbm", NULL);
  region = region_on (file);
  for (int round = 0; round < 3; round++)
    {
      g_autofree char *mine = g_strdup_printf ("C-value-%d", round);
      g_autofree char *theirs = g_strdup_printf ("P-value-%d", round);
      g_autoptr (GBytes) v = bytes_of (mine);
      g_autoptr (GBytes) got = NULL;

      cr_assert (dogpile_region_set (region, "k", v, NULL));
      cr_assert (dogpile_region_get (region, "k", &got, NULL));
      g_clear_pointer (&got, g_bytes_unref);
      g_free (python ("set", file, "k", theirs, NULL));
      cr_assert (dogpile_region_get (region, "k", &got, NULL));
      cr_assert (bytes_equal (got, theirs), "round %d", round);
    }
}

/* Starts the peer holding a lock; returns once it says "held". */
static GPid
python_holding (const char *command, const char *file, const char *seconds)
{
  const char *argv[] = { PYTHON, PEER, command, file, seconds, NULL };
  GPid pid;
  int out_fd;
  char buf[16] = { 0 };
  gsize got = 0;

  cr_assert (g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                                       G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                       &pid, NULL, &out_fd, NULL, NULL));
  while (got < 5)
    {
      ssize_t n = read (out_fd, buf + got, sizeof buf - 1 - got);

      cr_assert (n > 0, "the peer died before holding the lock");
      got += (gsize) n;
    }
  close (out_fd);
  cr_assert_str_eq (buf, "held\n");
  return pid;
}

static void
reap (GPid pid)
{
  int status;

  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

Test (dbm, python_write_lock_holds_c_readers_back)
{
  g_autofree char *file = path_in_tmp ("rw.dbm");
  g_autoptr (DogpileBackend) backend = NULL;
  GPid pid;
  gint64 start;

  REQUIRE_PYTHON ();
  backend = backend_on (file);
  backend_put (backend, "k", "v");
  pid = python_holding ("hold-rw", file, "1.0");
  start = g_get_monotonic_time ();
  assert_fetch (backend, "k", "v");
  cr_assert (g_get_monotonic_time () - start > 300000,
             "a get while Python holds the write lock waits for it");
  reap (pid);
}

Test (dbm, dogpile_lock_is_shared_with_python)
{
  g_autofree char *file = path_in_tmp ("dogpile.dbm");
  g_autoptr (DogpileBackend) backend = NULL;
  g_autoptr (DogpileMutex) m = NULL;
  g_autofree char *out = NULL;
  GPid pid;

  REQUIRE_PYTHON ();
  backend = backend_on (file);
  m = mutex_for (backend, "any key");
  cr_assert (mutex_acquire_ok (m, TRUE));
  out = python ("try-dogpile", file, NULL);
  cr_assert_str_eq (out, "busy\n");
  cr_assert (dogpile_mutex_release (m, NULL));
  g_free (g_steal_pointer (&out));
  out = python ("try-dogpile", file, NULL);
  cr_assert_str_eq (out, "acquired\n");

  pid = python_holding ("hold-dogpile", file, "1.5");
  cr_assert_not (mutex_acquire_ok (m, FALSE),
                 "Python holds the one file lock");
  cr_assert (mutex_acquire_ok (m, TRUE), "and releases it");
  cr_assert (dogpile_mutex_release (m, NULL));
  reap (pid);
}

/* --- fork ------------------------------------------------------------ */

Test (dbm, forked_child_starts_afresh)
{
  g_autofree char *file = path_in_tmp ("fork.dbm");
  g_autoptr (DogpileBackend) backend = backend_on (file);
  g_autoptr (DogpileMutex) m = mutex_for (backend, "foo");
  int status;
  pid_t pid;

  backend_put (backend, "k", "parent");
  cr_assert (mutex_acquire_ok (m, TRUE));
  pid = fork ();
  cr_assert (pid >= 0);
  if (pid == 0)
    {
      g_autoptr (GBytes) got = NULL;
      g_autoptr (GBytes) v = bytes_of ("child");
      gboolean locked = TRUE, acquired = TRUE, ok = TRUE;

      /* the parent's hold is not the child's */
      ok = ok && dogpile_mutex_locked (m, &locked, NULL) && !locked;
      ok = ok && dogpile_mutex_acquire (m, FALSE, &acquired, NULL)
           && !acquired;
      ok = ok && !dogpile_mutex_release (m, NULL);
      ok = ok && dogpile_backend_get (backend, "k", &got, NULL)
           && bytes_equal (got, "parent");
      ok = ok && dogpile_backend_set (backend, "k", v, NULL);
      _exit (ok ? 0 : 1);
    }
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  /* the child's closing of what it inherited left our lock held */
  cr_assert (mutex_is_locked (m));
  {
    g_autofree char *lock = g_strconcat (file, ".dogpile.lock", NULL);
    int fd = open (lock, O_RDONLY);

    cr_assert (fd >= 0);
    cr_assert_neq (flock (fd, LOCK_EX | LOCK_NB), 0);
    close (fd);
  }
  cr_assert (dogpile_mutex_release (m, NULL));
  assert_fetch (backend, "k", "child");
}

/* --- a writer that died ---------------------------------------------- */

/* The mark in the form versions before the length wrote, which is still
 * read (the current form: the tests of odd names below). */
static void
mark_dirty (const char *file)
{
  g_autofree char *lock = g_strconcat (file, ".rw.lock", NULL);
  g_autofree char *record = NULL;
  struct stat st;

  cr_assert_eq (stat (file, &st), 0);
  record = g_strdup_printf ("D %ju %ju %s\n", (uintmax_t) st.st_dev,
                            (uintmax_t) st.st_ino, file);
  cr_assert (g_file_set_contents (lock, record, -1, NULL));
}

static char
marker_state (const char *file)
{
  g_autofree char *lock = g_strconcat (file, ".rw.lock", NULL);
  g_autofree char *data = NULL;
  gsize len;

  data = file_contents (lock, &len);
  return len > 0 ? data[0] : '\0';
}

Test (dbm, dead_writers_mark_makes_the_next_one_rebuild_the_file)
{
  g_autofree char *file = path_in_tmp ("dead.dbm");
  g_autoptr (DogpileBackend) backend = NULL;
  struct stat before, after;

  make_gdbm_file (file);
  cr_assert_eq (stat (file, &before), 0);
  mark_dirty (file);
  backend = backend_on (file);
  cr_assert_eq (marker_state (file), 'C');
  cr_assert_eq (stat (file, &after), 0);
  cr_assert_neq (before.st_ino, after.st_ino, "rebuilt into a new file");
  assert_fetch (backend, "a", "1");
  assert_fetch (backend, "b", "2");
}

Test (dbm, dead_writers_unreadable_file_is_replaced_by_an_empty_one)
{
  g_autofree char *file = path_in_tmp ("torn.dbm");
  g_autoptr (DogpileBackend) backend = NULL;
  char junk[200];
  int fd;

  make_gdbm_file (file);
  memset (junk, 0xA5, sizeof junk);
  fd = open (file, O_WRONLY);
  cr_assert_eq (pwrite (fd, junk, sizeof junk, 8), (ssize_t) sizeof junk);
  close (fd);
  mark_dirty (file);
  backend = backend_on (file);
  assert_fetch (backend, "a", NULL);
  backend_put (backend, "a", "again");
  assert_fetch (backend, "a", "again");
}

Test (dbm, a_mark_for_another_file_is_repaired_by_whoever_writes)
{
  g_autofree char *file = path_in_tmp ("one.dbm");
  g_autofree char *other = path_in_tmp ("other.dbm");
  g_autofree char *lock = path_in_tmp ("shared.lock");
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileBackend) one = NULL;
  g_autoptr (DogpileBackend) two = NULL;
  g_autofree char *record = NULL;
  struct stat st;

  one = try_backend (&error, "filename", file, "rw_lockfile", lock, NULL);
  assert_no_error (error);
  two = try_backend (&error, "filename", other, "rw_lockfile", lock, NULL);
  assert_no_error (error);
  backend_put (two, "x", "kept");
  cr_assert_eq (stat (other, &st), 0);
  record = g_strdup_printf ("D %ju %ju %s\n", (uintmax_t) st.st_dev,
                            (uintmax_t) st.st_ino, other);
  cr_assert (g_file_set_contents (lock, record, -1, NULL));
  backend_put (one, "y", "mine");
  {
    g_autofree char *data = NULL;
    gsize len;

    data = file_contents (lock, &len);
    cr_assert_eq (data[0], 'C', "the other file's mark was dealt with");
  }
  cr_assert_eq (stat (other, &st), 0);
  assert_fetch (two, "x", "kept");
}

/* --- damage no death explains -------------------------------------- */

static GLogWriterOutput
capture_warning (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                 gpointer data)
{
  if ((level & G_LOG_LEVEL_WARNING) && warnings != NULL)
    for (gsize i = 0; i < n_fields; i++)
      if (strcmp (fields[i].key, "MESSAGE") == 0)
        g_ptr_array_add (warnings, g_strdup (fields[i].value));
  return g_log_writer_default (level, fields, n_fields, data);
}

/* Once per test: Criterion runs each in a process of its own. */
static void
capture_warnings (void)
{
  warnings = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (capture_warning, NULL, NULL);
}

/* Asserts one warning was logged, naming @file and containing @needle. */
static void
assert_warned (const char *file, const char *needle)
{
  cr_assert_eq (warnings->len, 1, "one warning, not %u", warnings->len);
  cr_assert (strstr (warnings->pdata[0], file) != NULL, "%s",
             (char *) warnings->pdata[0]);
  cr_assert (strstr (warnings->pdata[0], needle) != NULL, "'%s' in: %s",
             needle, (char *) warnings->pdata[0]);
  g_ptr_array_set_size (warnings, 0);
}

/* A file gdbm cannot open, with gdbm's magic and no dead writer's mark,
 * is damage all the same: replaced by an empty file, with a warning,
 * rather than refused by every process until someone deletes it. */
static void
assert_replaced (const char *file)
{
  g_autoptr (DogpileBackend) backend = NULL;
  GDBM_FILE dbf;

  cr_assert_neq (marker_state (file), 'D', "no dead writer's mark");
  backend = backend_on (file);
  assert_warned (file, "replaced it with an empty file");
  assert_fetch (backend, "a", NULL);
  backend_put (backend, "a", "again");
  assert_fetch (backend, "a", "again");
  dbf = gdbm_open (file, 0, GDBM_READER, 0, NULL);
  cr_assert_not_null (dbf, "a gdbm file again");
  cr_assert_eq (gdbm_avail_verify (dbf), 0);
  gdbm_close (dbf);
}

static int
file_block_size (const char *file)
{
  GDBM_FILE dbf = gdbm_open (file, 0, GDBM_READER, 0, NULL);
  int block_size = 0;

  cr_assert_not_null (dbf);
  cr_assert_eq (
      gdbm_setopt (dbf, GDBM_GETBLOCKSIZE, &block_size, sizeof block_size), 0);
  gdbm_close (dbf);
  return block_size;
}

Test (dbm, truncated_file_is_replaced_with_a_warning)
{
  g_autofree char *file = path_in_tmp ("cut.dbm");
  g_autofree char *dir_cut = path_in_tmp ("dir-cut.dbm");

  capture_warnings ();
  make_gdbm_file (file);
  cr_assert_eq (truncate (file, 100), 0);
  assert_replaced (file);
  /* the directory cut in the middle */
  make_gdbm_file (dir_cut);
  cr_assert_eq (truncate (dir_cut, file_block_size (dir_cut) + 100), 0);
  assert_replaced (dir_cut);
}

Test (dbm, garbled_header_is_replaced_with_a_warning)
{
  g_autofree char *file = path_in_tmp ("garbled.dbm");
  char junk[200];

  capture_warnings ();
  make_gdbm_file (file);
  memset (junk, 0xA5, sizeof junk);
  overwrite (file, 8, junk, sizeof junk);
  assert_replaced (file);
}

/* The header's avail table (gdbm allocates from it) with a count below
 * zero: GDBM_BAD_AVAIL at open. */
Test (dbm, bad_avail_table_is_replaced_with_a_warning)
{
  g_autofree char *file = path_in_tmp ("avail.dbm");
  const int count = -1;

  capture_warnings ();
  make_gdbm_file (file);
  overwrite (file, 40 + 4, &count, sizeof count);
  assert_replaced (file);
}

/* Damage gdbm itself finds (here a bucket claiming more entries than it
 * can hold) is repaired with gdbm_recover, which keeps what it can read. */
Test (dbm, damage_gdbm_reports_is_repaired)
{
  g_autofree char *file = path_in_tmp ("bucket.dbm");
  g_autoptr (DogpileBackend) backend = NULL;
  const guint32 huge = 0x7fffffff;
  struct stat before, after;
  GDBM_FILE dbf;
  int block_size;

  capture_warnings ();
  make_gdbm_file (file);
  block_size = file_block_size (file);
  /* the only bucket follows the header and the directory; its entry
   * count is the int after av_count and six avail elements and the
   * bucket's bit count */
  overwrite (file, (off_t) 2 * block_size + 4 + 4 + 6 * 16 + 4, &huge,
             sizeof huge);
  cr_assert_eq (stat (file, &before), 0);

  backend = backend_on (file);
  assert_fetch (backend, "a", NULL); /* its bucket could not be read */
  assert_warned (file, "repaired it");
  cr_assert_eq (stat (file, &after), 0);
  cr_assert_neq (before.st_ino, after.st_ino, "rebuilt into a new file");
  backend_put (backend, "a", "again");
  assert_fetch (backend, "a", "again");
  dbf = gdbm_open (file, 0, GDBM_READER, 0, NULL);
  cr_assert_not_null (dbf);
  cr_assert_eq (gdbm_avail_verify (dbf), 0);
  gdbm_close (dbf);
}

/* --- a header gdbm would grow the file from ---------------------------- */

/* gdbm 1.23 extends the file to the header's next_block (bytes 32 to 39)
 * with zeros at its first allocation, and checks only that next_block is
 * not below the end of the file: bit 47 asks for 140 TB.  Without the
 * backend's check the test would fill the disk, so the test process may not
 * write more than this; past it a write fails (EFBIG) instead. */
#define FILE_SIZE_CAP (64 << 20)

static void
cap_file_size (void)
{
  struct rlimit limit;

  cr_assert_eq (getrlimit (RLIMIT_FSIZE, &limit), 0);
  limit.rlim_cur = FILE_SIZE_CAP;
  cr_assert_eq (setrlimit (RLIMIT_FSIZE, &limit), 0);
  signal (SIGXFSZ, SIG_IGN);
}

static void
flip_next_block (const char *file, int bit)
{
  gint64 next_block;
  int fd = open (file, O_RDWR);

  cr_assert (fd >= 0);
  cr_assert_eq (pread (fd, &next_block, sizeof next_block, 32),
                (ssize_t) sizeof next_block);
  next_block ^= (gint64) 1 << bit;
  cr_assert_eq (pwrite (fd, &next_block, sizeof next_block, 32),
                (ssize_t) sizeof next_block);
  close (fd);
}

/* A value bigger than any free space in a small file: gdbm takes new
 * blocks at next_block for it. */
static void
put_big (DogpileBackend *backend, const char *key)
{
  g_autofree char *big = g_strnfill (64 * 1024, 'x');

  backend_put (backend, key, big);
}

static void
put_entries (DogpileBackend *backend)
{
  for (int i = 0; i < 10; i++)
    {
      g_autofree char *key = g_strdup_printf ("k%d", i);

      backend_put (backend, key, key);
    }
}

static void
assert_entries (DogpileBackend *backend)
{
  for (int i = 0; i < 10; i++)
    {
      g_autofree char *key = g_strdup_printf ("k%d", i);

      assert_fetch (backend, key, key);
    }
}

static void
assert_small (const char *file)
{
  struct stat st;

  cr_assert_eq (stat (file, &st), 0);
  cr_assert_lt (st.st_size, 1 << 20, "%s has grown to %jd bytes", file,
                (intmax_t) st.st_size);
}

Test (dbm, flipped_next_block_is_repaired_and_the_file_not_grown)
{
  static const int bits[] = { 47, 40, 30 };

  cap_file_size ();
  capture_warnings ();
  for (gsize i = 0; i < G_N_ELEMENTS (bits); i++)
    {
      g_autofree char *name = g_strdup_printf ("next-block-%d.dbm", bits[i]);
      g_autofree char *file = path_in_tmp (name);
      g_autoptr (DogpileBackend) backend = NULL;
      gint64 started;

      backend = backend_on (file);
      put_entries (backend);
      g_clear_pointer (&backend, dogpile_backend_unref);
      flip_next_block (file, bits[i]);

      started = g_get_monotonic_time ();
      backend = backend_on (file);
      put_big (backend, "big");
      cr_assert_lt (g_get_monotonic_time () - started, 10 * G_USEC_PER_SEC,
                    "bit %d: repaired in bounded time", bits[i]);
      assert_small (file);
      assert_warned (file, "next_block");
      assert_entries (backend); /* gdbm_recover kept every pair */
      cr_assert_neq (marker_state (file), 'D');
    }
}

/* The same damage done between two operations of a backend that keeps the
 * file open (or opens it per operation): its next write or read finds it,
 * whichever comes first. */
static void
damage_between_operations (const char *reuse)
{
  g_autofree char *file = path_in_tmp ("kept.dbm");
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileBackend) backend = NULL;
  g_autoptr (DogpileBackend) other = NULL;
  gint64 started;

  cap_file_size ();
  capture_warnings ();
  backend
      = try_backend (&error, "filename", file, "reuse_handle", reuse, NULL);
  assert_no_error (error);
  put_entries (backend);
  assert_entries (backend);

  /* the next write */
  flip_next_block (file, 47);
  started = g_get_monotonic_time ();
  put_big (backend, "big");
  cr_assert_lt (g_get_monotonic_time () - started, 10 * G_USEC_PER_SEC);
  assert_small (file);
  assert_warned (file, "next_block");
  assert_entries (backend);

  /* the next read, after another handle of this process wrote */
  other = backend_on (file);
  backend_put (other, "from-other", "x");
  flip_next_block (file, 47);
  assert_entries (backend);
  assert_warned (file, "next_block");
  put_big (backend, "big2");
  assert_small (file);
  assert_fetch (other, "from-other", "x");
  cr_assert_eq (warnings->len, 0, "one repair");
}

Test (dbm, flipped_next_block_under_a_kept_handle_is_repaired)
{
  damage_between_operations ("true");
}

Test (dbm, flipped_next_block_between_operations_is_repaired)
{
  damage_between_operations ("false");
}

/* Parts of the header gdbm does not check at open either. */
Test (dbm, avail_stack_outside_the_file_is_repaired)
{
  g_autofree char *file = path_in_tmp ("stack.dbm");
  g_autoptr (DogpileBackend) backend = NULL;
  const gint64 far = (gint64) 1 << 47;

  capture_warnings ();
  make_gdbm_file (file);
  /* the avail table's next_block, after its size and count */
  overwrite (file, 40 + 4 + 4, &far, sizeof far);
  backend = backend_on (file);
  assert_warned (file, "avail stack");
  assert_fetch (backend, "a", "1");
  assert_fetch (backend, "b", "2");
}

/* A block size gdbm never makes (not a power of two) that passes gdbm's
 * own checks, which need the directory to have grown beyond it: replaced,
 * not repaired, since gdbm_recover makes the new file with that size. */
Test (dbm, block_size_gdbm_never_makes_is_replaced)
{
  g_autofree char *file = path_in_tmp ("block.dbm");
  g_autoptr (DogpileBackend) backend = NULL;
  const int odd = 512 + 1;
  int dir_size;
  GDBM_FILE dbf;

  capture_warnings ();
  dbf = gdbm_open (file, 512, GDBM_NEWDB | GDBM_BSEXACT, 0644, NULL);
  cr_assert_not_null (dbf);
  for (int i = 0; i < 2000; i++)
    {
      g_autofree char *key = g_strdup_printf ("key%d", i);
      datum k = { key, (int) strlen (key) };

      cr_assert_eq (gdbm_store (dbf, k, k, GDBM_REPLACE), 0);
    }
  gdbm_close (dbf);
  {
    int fd = open (file, O_RDONLY);

    cr_assert_eq (pread (fd, &dir_size, sizeof dir_size, 16),
                  (ssize_t) sizeof dir_size);
    close (fd);
  }
  cr_assert_gt (dir_size, 1024, "the directory has grown");
  overwrite (file, 4, &odd, sizeof odd);
  dbf = gdbm_open (file, 0, GDBM_READER | GDBM_NOLOCK, 0, NULL);
  cr_assert_not_null (dbf, "gdbm accepts it: %s", gdbm_strerror (gdbm_errno));
  gdbm_close (dbf);

  backend = backend_on (file);
  assert_warned (file, "block size 513");
  assert_fetch (backend, "key1", NULL);
  backend_put (backend, "key1", "again");
  assert_fetch (backend, "key1", "again");
}

/* Healthy files pass the checks, in either header format, with more free
 * blocks in the header than the check reads at once. */
static void
assert_healthy_file_is_left_alone (const char *file, int flags,
                                   off_t avail_count_at)
{
  g_autoptr (DogpileBackend) backend = NULL;
  struct stat before, after;
  int count;
  GDBM_FILE dbf;

  capture_warnings ();
  dbf = gdbm_open (file, 0, GDBM_NEWDB | flags, 0644, NULL);
  cr_assert_not_null (dbf);
  for (int i = 0; i < 3000; i++)
    {
      g_autofree char *key = g_strdup_printf ("key%d", i);
      g_autofree char *value = g_strnfill (10 + i % 200, 'v');
      datum k = { key, (int) strlen (key) };
      datum v = { value, (int) strlen (value) };

      cr_assert_eq (gdbm_store (dbf, k, v, GDBM_REPLACE), 0);
    }
  for (int i = 0; i < 3000; i += 2)
    {
      g_autofree char *key = g_strdup_printf ("key%d", i);
      datum k = { key, (int) strlen (key) };

      cr_assert_eq (gdbm_delete (dbf, k), 0);
    }
  gdbm_close (dbf);
  {
    int fd = open (file, O_RDONLY);

    cr_assert_eq (pread (fd, &count, sizeof count, avail_count_at),
                  (ssize_t) sizeof count);
    close (fd);
  }
  cr_assert_gt (count, 64, "free blocks in the header: %d", count);
  cr_assert_eq (stat (file, &before), 0);

  backend = backend_on (file);
  assert_fetch (backend, "key1", "vvvvvvvvvvv");
  backend_put (backend, "key2", "again");
  assert_fetch (backend, "key2", "again");
  cr_assert_eq (warnings->len, 0);
  cr_assert_eq (stat (file, &after), 0);
  cr_assert_eq (before.st_ino, after.st_ino, "not rebuilt");
}

Test (dbm, healthy_file_is_left_alone)
{
  g_autofree char *file = path_in_tmp ("healthy.dbm");

  assert_healthy_file_is_left_alone (file, 0, 40 + 4);
}

Test (dbm, healthy_numsync_file_is_left_alone)
{
  g_autofree char *file = path_in_tmp ("numsync.dbm");

  /* the extension header (32 bytes) comes before the avail table */
  assert_healthy_file_is_left_alone (file, GDBM_NUMSYNC, 40 + 32 + 4);
}

/* --- repairs are counted --------------------------------------------- */

static gboolean
store_pair (DbmFile *file, GDBM_FILE dbf, gpointer user_data, GError **error)
{
  datum key = { (char *) "counted", 7 };
  datum value = { user_data, (int) strlen (user_data) };

  if (gdbm_store (dbf, key, value, GDBM_REPLACE) != 0)
    {
      dbm_file_gdbm_error (file, dbf, error, "cannot write to");
      return FALSE;
    }
  return TRUE;
}

/* The handle code built into this test, where the count can be read. */
static DbmFile *
dbm_file_on (const char *file, const char *reuse_name)
{
  g_autofree char *rw = g_strconcat (file, ".rw.lock", NULL);
  g_autoptr (GError) error = NULL;
  DbmFile *dbm = dbm_file_new (
      file, rw,
      strcmp (reuse_name, "true") == 0 ? DBM_REUSE_ALWAYS : DBM_REUSE_NEVER,
      &error);

  assert_no_error (error);
  cr_assert_not_null (dbm);
  return dbm;
}

static void
assert_repairs_counted (const char *reuse)
{
  g_autofree char *file = path_in_tmp ("counted.dbm");
  g_autofree char *big = g_strnfill (64 * 1024, 'x');
  g_autoptr (GError) error = NULL;
  const int count = -1;
  DbmFile *dbm;

  cap_file_size ();
  capture_warnings ();
  make_gdbm_file (file);
  dbm = dbm_file_on (file, reuse);
  cr_assert_eq (dbm_file_get_repairs (dbm), 0);
  dbm_file_free (dbm);

  /* damage gdbm reports at open, no mark: configure succeeds */
  overwrite (file, 40 + 4, &count, sizeof count);
  cr_assert_neq (marker_state (file), 'D');
  dbm = dbm_file_on (file, reuse);
  cr_assert_eq (dbm_file_get_repairs (dbm), 1);
  assert_warned (file, "replaced it with an empty file");

  /* a header gdbm would grow the file from, before a write */
  cr_assert (dbm_file_write (dbm, store_pair, (gpointer) "1", &error));
  assert_no_error (error);
  flip_next_block (file, 47);
  cr_assert (dbm_file_write (dbm, store_pair, big, &error));
  assert_no_error (error);
  cr_assert_eq (dbm_file_get_repairs (dbm), 2);
  assert_warned (file, "next_block");
  assert_small (file);

  /* a dead writer's mark: counted, not warned about */
  mark_dirty (file);
  cr_assert (dbm_file_write (dbm, store_pair, (gpointer) "2", &error));
  assert_no_error (error);
  cr_assert_eq (dbm_file_get_repairs (dbm), 3);
  cr_assert_eq (warnings->len, 0);
  dbm_file_free (dbm);
}

Test (dbm, repairs_are_counted) { assert_repairs_counted ("true"); }

Test (dbm, repairs_are_counted_opening_per_operation)
{
  assert_repairs_counted ("false");
}

/* --- a dead writer's mark names any file ------------------------------ */

/* A file name with what broke the mark's older form (it ended at the first
 * newline): a newline followed by that form's own text, and a tab, a
 * backslash, a control byte, a byte that is not UTF-8 and spaces. */
#define ODD_NAME "odd\nD 1 2 x\n\t\\ \001\377 name.dbm"

/* Dies inside the write, with the mark set: a store done, then SIGKILL. */
static gboolean
store_and_die (DbmFile *file, GDBM_FILE dbf, gpointer user_data,
               GError **error)
{
  datum key = { (char *) "half", 4 };
  datum value = { (char *) "written", 7 };

  (void) file;
  (void) user_data;
  (void) error;
  gdbm_store (dbf, key, value, GDBM_REPLACE);
  kill (getpid (), SIGKILL);
  return FALSE;
}

/* A writer of @file (through the lock file @lock) killed in the middle of
 * a write: it leaves its mark. */
static void
kill_a_writer_inside_a_write (const char *file, const char *lock)
{
  int status;
  pid_t pid = fork ();

  cr_assert (pid >= 0);
  if (pid == 0)
    {
      DbmFile *dbm = dbm_file_new (file, lock, DBM_REUSE_ALWAYS, NULL);

      if (dbm != NULL)
        dbm_file_write (dbm, store_and_die, NULL, NULL);
      _exit (1);
    }
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL,
             "the writer was killed inside its write");
}

/* The mark a killed writer left in @lock, checked to be one. */
static char *
mark_left (const char *lock)
{
  gsize len;
  char *data = file_contents (lock, &len);

  cr_assert (len > 0 && data[0] == 'D', "the killed writer left its mark");
  return data;
}

/* @mark is in the current form and names @file exactly. */
static void
assert_marked (const char *mark, const char *file)
{
  g_autofree char *tail = g_strdup_printf (" %zu %s\n", strlen (file), file);

  cr_assert (g_str_has_prefix (mark, "D2 "), "the current form: %s", mark);
  cr_assert (strstr (mark, tail) != NULL,
             "the mark names the file, length first: %s", mark);
}

/* The file was rebuilt (a new inode: gdbm_recover renames a new file
 * over it) and kept its pairs. */
static void
assert_rebuilt (const char *file, const struct stat *before)
{
  struct stat after;
  GDBM_FILE dbf;
  datum key = { (char *) "a", 1 };
  datum value;

  cr_assert_eq (stat (file, &after), 0);
  cr_assert_neq (before->st_ino, after.st_ino, "rebuilt into a new file");
  dbf = gdbm_open (file, 0, GDBM_READER, 0, NULL);
  cr_assert_not_null (dbf, "%s", gdbm_strerror (gdbm_errno));
  cr_assert_eq (gdbm_avail_verify (dbf), 0);
  value = gdbm_fetch (dbf, key);
  cr_assert (value.dptr != NULL && value.dsize == 1 && value.dptr[0] == '1');
  free (value.dptr);
  gdbm_close (dbf);
}

Test (dbm, dead_writer_of_a_file_named_with_a_newline_is_repaired)
{
  g_autofree char *file = path_in_tmp (ODD_NAME);
  g_autofree char *lock = g_strconcat (file, ".rw.lock", NULL);
  g_autoptr (DogpileBackend) backend = NULL;
  g_autofree char *mark = NULL;
  struct stat before;
  DbmFile *dbm;

  make_gdbm_file (file);
  cr_assert_eq (stat (file, &before), 0);
  kill_a_writer_inside_a_write (file, lock);
  mark = mark_left (lock);

  /* the next one to open it repairs it (a dead writer's: not warned) */
  capture_warnings ();
  dbm = dbm_file_on (file, "true");
  cr_assert_eq (dbm_file_get_repairs (dbm), 1, "repaired");
  cr_assert_eq (marker_state (file), 'C');
  cr_assert_eq (warnings->len, 0);
  dbm_file_free (dbm);
  assert_rebuilt (file, &before);
  backend = backend_on (file);
  assert_fetch (backend, "b", "2");
  backend_put (backend, "b", "again");
  assert_fetch (backend, "b", "again");
  assert_marked (mark, file);
}

/* The same through a lock file two dbm files share: the mark names the
 * other one, and whoever writes next repairs it. */
Test (dbm, dead_writer_of_another_file_named_with_a_newline_is_repaired)
{
  g_autofree char *file = path_in_tmp ("one.dbm");
  g_autofree char *other = path_in_tmp (ODD_NAME);
  g_autofree char *lock = path_in_tmp ("shared\n.lock");
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileBackend) one = NULL;
  g_autofree char *mark = NULL;
  struct stat before;

  make_gdbm_file (other);
  cr_assert_eq (stat (other, &before), 0);
  kill_a_writer_inside_a_write (other, lock);
  mark = mark_left (lock);
  one = try_backend (&error, "filename", file, "rw_lockfile", lock, NULL);
  assert_no_error (error);
  backend_put (one, "y", "mine");
  {
    g_autofree char *data = NULL;
    gsize len;

    data = file_contents (lock, &len);
    cr_assert_eq (data[0], 'C', "the other file's mark was dealt with");
  }
  assert_rebuilt (other, &before);
  assert_fetch (one, "y", "mine");
  assert_marked (mark, other);
}

/* A mark cut short or not ending where its length says is no mark (it
 * names no file for sure); the older form is still read (mark_dirty, and
 * the dead-writer tests above). */
Test (dbm, marks_that_do_not_add_up_are_ignored)
{
  g_autofree char *file = path_in_tmp ("plain.dbm");
  g_autofree char *lock = g_strconcat (file, ".rw.lock", NULL);
  g_autofree char *longest = g_strnfill (PATH_MAX - 1, 'n');
  g_autofree char *too_long = g_strnfill (PATH_MAX, 'n');
  g_autoptr (GError) error = NULL;
  struct stat st;
  DbmRwLock *rw;
  int fd;

  make_gdbm_file (file);
  cr_assert_eq (stat (file, &st), 0);
  rw = dbm_rw_lock_new (lock, &error);
  assert_no_error (error);
  cr_assert (dbm_rw_lock_acquire (rw, TRUE, &fd, &error));
  {
    /* each: the form, then "<dev> <ino>", then this, then the name, then
     * the end */
    const char *bad[][3] = {
      { "D2 ", " 999 ", "\n" }, /* longer than what is there */
      { "D2 ", " 3 ", "\n" },   /* the length ends inside the name */
      { "D2 ", " -1 ", "\n" },  /* not a length */
      { "D2 ", " 0 ", "\n" },   /* no name */
      { "D2 ", " 18446744073709551616 ", "\n" }, /* out of range */
      { "D2 ", " ", "\n" },                      /* no length */
      { "D2 ", " 40 ", "" },                     /* cut short */
      { "D3 ", " 1 ", "\n" },                    /* a form we do not know */
    };
    g_autofree char *fields = g_strdup_printf (
        "%ju %ju", (uintmax_t) st.st_dev, (uintmax_t) st.st_ino);

    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autofree char *record = g_strconcat (bad[i][0], fields, bad[i][1],
                                               file, bad[i][2], NULL);
        DbmMarker marker;

        cr_assert_eq (ftruncate (fd, 0), 0);
        cr_assert_eq (pwrite (fd, record, strlen (record), 0),
                      (ssize_t) strlen (record));
        cr_assert (dbm_rw_lock_read_marker (rw, fd, &marker, &error));
        cr_assert_not (marker.dirty, "not a mark: %s", record);
        dbm_marker_clear (&marker);
      }
  }
  /* what we write reads back exactly, and a shorter mark over a longer
   * one too */
  for (int round = 0; round < 2; round++)
    {
      const char *name = round == 0 ? longest : ODD_NAME;
      DbmMarker marker;

      cr_assert (
          dbm_rw_lock_set_dirty (rw, fd, name, st.st_dev, st.st_ino, &error));
      cr_assert (dbm_rw_lock_read_marker (rw, fd, &marker, &error));
      cr_assert (marker.dirty);
      cr_assert_str_eq (marker.path, name);
      cr_assert_eq (marker.dev, st.st_dev);
      cr_assert_eq (marker.ino, st.st_ino);
      dbm_marker_clear (&marker);
    }
  /* a name open(2) would refuse is not marked (gdbm never opened it) */
  cr_assert_not (
      dbm_rw_lock_set_dirty (rw, fd, too_long, st.st_dev, st.st_ino, &error));
  g_clear_error (&error);
  cr_assert (dbm_rw_lock_set_clean (rw, fd, &error));
  dbm_rw_lock_release (rw, fd);
  dbm_rw_lock_free (rw);
}

/* --- the racy rule ---------------------------------------------------- */

/* The backend never sees its own file untouched within one tick of the
 * clock file times come from, so check the rule on its edges here, with
 * the plugin's own function (built into this test). */
Test (dbm, racy_rule)
{
  struct timespec res = { 0, 4000000 };
  struct timespec now = { 1000, 500000000 };
  struct timespec recent = { 1000, 495000000 }; /* 5 ms ago */
  struct timespec older = { 1000, 480000000 };  /* 20 ms ago */
  struct timespec seconds = { 999, 0 };         /* 1.5 s ago, no ns */
  struct timespec old_seconds = { 998, 0 };     /* 2.5 s ago, no ns */
  struct timespec coarse_res = { 0, 10000000 }; /* a 100 Hz tick */

  cr_assert_not (dbm_snapshot_is_trusted (&recent, &recent, &now, &res));
  cr_assert (dbm_snapshot_is_trusted (&older, &older, &now, &res));
  cr_assert_not (dbm_snapshot_is_trusted (&older, &recent, &now, &res),
                 "ctime counts too");
  cr_assert_not (dbm_snapshot_is_trusted (&older, &older, &now, &coarse_res),
                 "two ticks of a coarser clock");
  cr_assert_not (dbm_snapshot_is_trusted (&seconds, &seconds, &now, &res),
                 "whole-second timestamps need two seconds");
  cr_assert (dbm_snapshot_is_trusted (&old_seconds, &old_seconds, &now, &res));
}
