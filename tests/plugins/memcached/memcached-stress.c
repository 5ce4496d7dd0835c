/* memcached-stress.c: many threads on one memcached backend -- the pool
 * (smaller than the number of threads), the buffered twin handles of the
 * multi calls and the distributed lock -- without Criterion, so that it
 * runs under ThreadSanitizer (the `stress` suite of tools/dev/run-tests).
 * Runs under memcached-servers.py: the backend is MEMCACHED_TEST_BACKEND
 * with the harness's DOGPILE_TEST_ARGUMENTS.
 *
 * With MEMCACHED_STRESS_CHAOS=1 a thread keeps killing one server after
 * another (SIGKILL) and starting it again while the data threads run, so
 * that failures and reconnections race with the pool; the data threads
 * then accept backend errors, never a wrong value, and once the servers
 * are back every call works again.
 *
 * SPDX-License-Identifier: MIT
 */
#include <signal.h>

#include "test-stress.h"

/* Kills and restarts the server on @port, through the harness's pid file
 * and restart command; returns when it answers again. */
static void
bounce (int port)
{
  g_autofree char *pid_name
      = g_strdup_printf ("DOGPILE_MEMCACHED_PIDFILE_%d", port);
  g_autofree char *command_name
      = g_strdup_printf ("DOGPILE_MEMCACHED_COMMAND_%d", port);
  g_autofree char *pid_text = NULL;
  g_auto (GStrv) argv = NULL;

  if (!g_file_get_contents (g_getenv (pid_name), &pid_text, NULL, NULL)
      || kill ((pid_t) atoi (pid_text), SIGKILL) != 0
      || !g_shell_parse_argv (g_getenv (command_name), NULL, &argv, NULL))
    {
      CHECK (FALSE, "cannot kill the server on %d", port);
      return;
    }
  /* The old process may still hold the port for a moment: retry. */
  for (int attempt = 0; attempt < 50; attempt++)
    {
      int status = -1;
      g_autofree char *fresh = NULL;

      g_usleep (20000);
      if (g_spawn_sync (NULL, argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                        NULL, NULL, NULL, &status, NULL)
          && g_spawn_check_wait_status (status, NULL)
          && g_file_get_contents (g_getenv (pid_name), &fresh, NULL, NULL)
          && strcmp (fresh, pid_text) != 0)
        return;
    }
  CHECK (FALSE, "cannot start the server on %d again", port);
}

static gpointer
chaos_monkey (gpointer data)
{
  gint *stop = data;
  g_auto (GStrv) ports = g_strsplit (g_getenv ("MEMCACHED_PORTS"), ",", -1);
  guint n = g_strv_length (ports);

  for (guint round = 0; n > 0 && !g_atomic_int_get (stop); round++)
    {
      bounce (atoi (ports[round % n]));
      g_usleep (150000);
    }
  return NULL;
}

int
main (void)
{
  GHashTable *a = stress_arguments ("pool_size", "4");
  const char *name = g_getenv ("MEMCACHED_TEST_BACKEND");
  GError *error = NULL;
  DogpileBackend *backend;
  GThread *threads[THREADS];
  GThread *monkey = NULL;
  Worker workers[THREADS];
  LockRun lock_run = { 0 };
  gint stop_chaos = 0;

  if (name == NULL || g_getenv ("MEMCACHED_PORTS") == NULL)
    {
      fprintf (stderr, "memcached-stress: run under memcached-servers.py "
                       "with MEMCACHED_TEST_BACKEND set\n");
      return 2;
    }
  /* Down servers are tried again soon, so the run recovers quickly. */
  g_hash_table_insert (a, g_strdup ("dead_retry"), g_strdup ("1"));
  g_hash_table_insert (a, g_strdup ("socket_timeout"), g_strdup ("1"));
  backend = dogpile_backend_new (name, a, &error);
  if (backend == NULL)
    {
      fprintf (stderr, "memcached-stress: %s\n", error->message);
      return 1;
    }
  if (g_strcmp0 (g_getenv ("MEMCACHED_STRESS_CHAOS"), "1") == 0)
    {
      g_atomic_int_set (&chaos, 1);
      g_atomic_int_set (&lossy_chaos, 1);
      monkey = g_thread_new ("chaos", chaos_monkey, &stop_chaos);
    }
  for (int t = 0; t < THREADS; t++)
    {
      workers[t] = (Worker){ backend, t };
      threads[t] = g_thread_new ("data", data_worker, &workers[t]);
    }
  for (int t = 0; t < THREADS; t++)
    g_thread_join (threads[t]);
  if (monkey != NULL)
    {
      int before = g_atomic_int_get (&succeeded);

      g_atomic_int_set (&stop_chaos, 1);
      g_thread_join (monkey);
      CHECK (before > 0, "no round succeeded while servers were bounced");
      /* Past dead_retry every server is used again: a round of every
       * thread with no error tolerated.  libmemcached counts the retry
       * time in whole seconds and retries strictly after it: up to
       * dead_retry + 1 s after the last failure. */
      g_usleep (2500000);
      g_atomic_int_set (&chaos, 0);
      g_atomic_int_set (&lossy_chaos, 0);
      for (int t = 0; t < THREADS; t++)
        threads[t] = g_thread_new ("data", data_worker, &workers[t]);
      for (int t = 0; t < THREADS; t++)
        g_thread_join (threads[t]);
    }

  lock_run.backend = backend;
  for (int t = 0; t < LOCKERS; t++)
    threads[t] = g_thread_new ("lock", lock_worker, &lock_run);
  for (int t = 0; t < LOCKERS; t++)
    g_thread_join (threads[t]);
  CHECK (lock_run.overlaps == 0, "%d overlapping lock holders",
         lock_run.overlaps);

  dogpile_backend_unref (backend);
  g_hash_table_unref (a);
  if (failures > 0)
    {
      fprintf (stderr, "memcached-stress: %d failures\n", failures);
      return 1;
    }
  printf ("memcached-stress: %s, %d threads x %d rounds%s (%d rounds "
          "succeeded, %d backend errors or lost values while servers were "
          "bounced), %d "
          "lockers x %d: ok\n",
          name, THREADS, ROUNDS,
          monkey != NULL ? " with servers killed and restarted" : "",
          succeeded, tolerated, LOCKERS, LOCK_ROUNDS);
  return 0;
}
