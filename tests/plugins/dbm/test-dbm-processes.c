/* test-dbm-processes.c: dogpile.cache.dbm shared by processes at once.
 *
 *  - 4 processes writing and reading the same 10 000 keys: afterwards each
 *    key holds a value one of them wrote and the file is sound;
 *  - 4 processes x 8 threads on one expired (or missing) key: the creator
 *    runs once in all;
 *  - a writer killed with SIGKILL in the middle of its writes, again and
 *    again: the file opens and reads each time.
 *
 * The processes are dbm-worker (DBM_WORKER), started fresh, not forked.
 *
 * SPDX-License-Identifier: MIT
 */
#include <fcntl.h>
#include <gdbm.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "test-util.h"

static char *tmp_dir;

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

          g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static void
setup (void)
{
  tmp_dir = g_dir_make_tmp ("dogpile-dbm-proc-XXXXXX", NULL);
  cr_assert_not_null (tmp_dir);
}

static void
teardown (void)
{
  if (tmp_dir != NULL)
    remove_tree (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

TestSuite (dbm_processes, .init = setup, .fini = teardown, .timeout = 240);

typedef struct {
  GPid pid;
  int in_fd;
  int out_fd;
} Worker;

static Worker
start_worker (const char *first_arg, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  Worker w = { 0 };
  va_list ap;

  g_ptr_array_add (argv, (gpointer) DBM_WORKER);
  g_ptr_array_add (argv, (gpointer) first_arg);
  va_start (ap, first_arg);
  for (const char *a = va_arg (ap, const char *); a != NULL;
       a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  cr_assert (g_spawn_async_with_pipes (
                 NULL, (char **) argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                 NULL, NULL, &w.pid, &w.in_fd, &w.out_fd, NULL, &error),
             "%s", error ? error->message : "");
  return w;
}

/* Reads one line of the worker's output. */
static char *
read_line (Worker *w)
{
  GString *line = g_string_new (NULL);
  char c;

  while (read (w->out_fd, &c, 1) == 1 && c != '\n')
    g_string_append_c (line, c);
  return g_string_free (line, FALSE);
}

static int
finish (Worker *w)
{
  int status;

  close (w->in_fd);
  close (w->out_fd);
  cr_assert_eq (waitpid (w->pid, &status, 0), w->pid);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

static DogpileRegion *
region_on (const char *file, double expiration)
{
  g_autoptr (GHashTable) arguments = arguments_of ("filename", file, NULL);

  return configured_region ("dogpile.cache.dbm", expiration, arguments);
}

/* Opens the file with gdbm itself: the header, the directory and every
 * bucket are read; the avail lists are checked. */
static gdbm_count_t
assert_sound (const char *file)
{
  GDBM_FILE dbf = gdbm_open (file, 0, GDBM_READER, 0, NULL);
  gdbm_count_t count = 0;

  cr_assert_not_null (dbf, "%s: %s", file, gdbm_strerror (gdbm_errno));
  cr_assert_eq (gdbm_count (dbf, &count), 0, "%s", gdbm_db_strerror (dbf));
  cr_assert_eq (gdbm_avail_verify (dbf), 0, "%s", gdbm_db_strerror (dbf));
  gdbm_close (dbf);
  return count;
}

Test (dbm_processes, four_processes_write_and_read_the_same_keys)
{
  g_autofree char *file = g_build_filename (tmp_dir, "four.dbm", NULL);
  const char *n
      = g_getenv ("DBM_TEST_KEYS") ? g_getenv ("DBM_TEST_KEYS") : "10000";
  guint n_keys = (guint) atoi (n);
  g_autoptr (DogpileRegion) region = region_on (file, 3600);
  Worker workers[4];
  guint found = 0;

  for (int i = 0; i < 4; i++)
    {
      g_autofree char *id = g_strdup_printf ("%d", i);

      workers[i] = start_worker ("write-read", file, id, n, NULL);
    }
  for (int i = 0; i < 4; i++)
    cr_assert_eq (finish (&workers[i]), 0, "worker %d failed", i);

  for (guint i = 0; i < n_keys; i++)
    {
      g_autofree char *key = g_strdup_printf ("key:%u", i);
      g_autoptr (GBytes) value = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *text = NULL;
      int id;
      guint got;

      cr_assert (dogpile_region_get (region, key, &value, &error), "%s",
                 error ? error->message : "");
      cr_assert_not_null (value, "%s was lost", key);
      text = g_strndup (g_bytes_get_data (value, NULL),
                        g_bytes_get_size (value));
      cr_assert (sscanf (text, "p%d-%u-", &id, &got) == 2 && id >= 0 && id < 4
                     && got == i,
                 "%s holds '%s'", key, text);
      found++;
    }
  cr_assert_eq (found, n_keys);
  cr_assert_eq (assert_sound (file), (gdbm_count_t) n_keys);
}

static guint
count_lines (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  guint lines = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return 0;
  for (gsize i = 0; i < len; i++)
    lines += data[i] == '\n';
  return lines;
}

static void
regenerate_across_processes (gboolean stale_value)
{
  g_autofree char *file = g_build_filename (tmp_dir, "regen.dbm", NULL);
  g_autofree char *count_file = g_build_filename (tmp_dir, "calls", NULL);
  g_autoptr (DogpileRegion) region = region_on (file, 60);
  Worker workers[4];

  if (stale_value)
    {
      /* a value made long ago: expired for the workers' 60 s */
      DogpileMetadata old;
      g_autoptr (GBytes) payload = bytes_of ("stale");
      g_autoptr (GBytes) record = NULL;

      dogpile_metadata_init (&old, g_get_real_time () / 1e6 - 1000);
      record = dogpile_record_encode (payload, &old);
      cr_assert (dogpile_backend_set (
          dogpile_region_get_backend (region, NULL), "shared", record, NULL));
    }
  for (int i = 0; i < 4; i++)
    workers[i] = start_worker ("regen", file, count_file, "8", NULL);
  for (int i = 0; i < 4; i++)
    {
      g_autofree char *line = read_line (&workers[i]);

      cr_assert_str_eq (line, "ready");
    }
  for (int i = 0; i < 4; i++)
    cr_assert_eq (write (workers[i].in_fd, "go\n", 3), 3);
  for (int i = 0; i < 4; i++)
    {
      g_autofree char *line = read_line (&workers[i]);

      cr_assert_str_eq (line, "8", "every thread got a value");
      cr_assert_eq (finish (&workers[i]), 0);
    }
  cr_assert_eq (count_lines (count_file), 1,
                "32 threads in 4 processes ran the creator %u times",
                count_lines (count_file));
  {
    g_autoptr (GBytes) value = NULL;

    cr_assert (dogpile_region_get (region, "shared", &value, NULL));
    cr_assert (bytes_equal (value, "fresh"));
  }
}

Test (dbm_processes, one_creator_for_an_expired_key_across_processes)
{
  regenerate_across_processes (TRUE);
}

Test (dbm_processes, one_creator_for_a_missing_key_across_processes)
{
  regenerate_across_processes (FALSE);
}

static char
marker_state (const char *file)
{
  g_autofree char *lock = g_strconcat (file, ".rw.lock", NULL);
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (lock, &data, &len, NULL) || len == 0)
    return '\0';
  return data[0];
}

Test (dbm_processes, writer_killed_in_the_middle_leaves_a_readable_file)
{
  g_autofree char *file = g_build_filename (tmp_dir, "killed.dbm", NULL);
  g_autoptr (GRand) rand = g_rand_new ();
  guint dirty_kills = 0;
  const int rounds = 16;

  for (int round = 0; round < rounds; round++)
    {
      Worker w = start_worker ("churn", file, NULL);
      g_autofree char *line = read_line (&w);
      g_autoptr (DogpileRegion) region = NULL;
      const char *keys[1000];
      GBytes *values[1000];
      char names[1000][16];
      g_autoptr (GError) error = NULL;

      cr_assert_str_eq (line, "ready");
      g_usleep ((gulong) g_rand_int_range (rand, 1000, 40000));
      kill (w.pid, SIGKILL);
      cr_assert_eq (finish (&w), 128 + SIGKILL);
      if (marker_state (file) == 'D')
        dirty_kills++;

      /* the next process opens and reads it, repairing it if needed */
      region = region_on (file, 3600);
      for (int i = 0; i < 1000; i++)
        {
          g_snprintf (names[i], sizeof names[i], "churn:%d", i);
          keys[i] = names[i];
        }
      cr_assert (dogpile_region_get_multi (region, keys, 1000, values, &error),
                 "round %d: %s", round, error ? error->message : "");
      for (int i = 0; i < 1000; i++)
        {
          if (values[i] != NULL)
            {
              g_autofree char *text
                  = g_strndup (g_bytes_get_data (values[i], NULL),
                               g_bytes_get_size (values[i]));
              int v, k;

              cr_assert (sscanf (text, "%d-%d-", &v, &k) == 2 && k == i,
                         "churn:%d holds '%s'", i, text);
              g_bytes_unref (values[i]);
            }
        }
      cr_assert_neq (marker_state (file), 'D', "repaired");
      assert_sound (file);
    }
  /* Writing is nearly all the churner does, so most kills land inside a
   * write; at least one must, or this test proved nothing. */
  cr_assert (dirty_kills > 0, "no kill landed inside a write in %d rounds",
             rounds);
  cr_log_info ("%u of %d kills landed inside a write", dirty_kills, rounds);
}
