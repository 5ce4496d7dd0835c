/* test-fork.c: fork() while other threads use libdogpile, and the fork
 * hooks plugins register (dogpile-fork.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-util.h"

/* --- hook order and removal -------------------------------------------- */

static GString *trace;

static void
note (gpointer name)
{
  g_string_append (trace, name);
}

/* Runs fork(); the child writes its trace to a pipe and exits. */
static char *
fork_and_trace (char **out_child_trace)
{
  int fds[2];
  pid_t pid;
  int status = 0;
  char buf[256] = { 0 };
  ssize_t n;

  cr_assert (pipe (fds) == 0);
  g_string_truncate (trace, 0);
  pid = fork ();
  cr_assert (pid >= 0);
  if (pid == 0)
    {
      ssize_t w = write (fds[1], trace->str, trace->len);

      _exit (w == (ssize_t) trace->len ? 0 : 1);
    }
  close (fds[1]);
  n = read (fds[0], buf, sizeof buf - 1);
  close (fds[0]);
  cr_assert (waitpid (pid, &status, 0) == pid);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  *out_child_trace = g_strndup (buf, n > 0 ? (gsize) n : 0);
  return g_strdup (trace->str);
}

/* As pthread_atfork: prepare newest first, parent and child oldest first;
 * a removed hook never runs again. */
Test (fork, hooks_run_in_order_and_can_be_removed)
{
  DogpileForkHook *a, *b, *c;
  g_autofree char *parent = NULL;
  g_autofree char *child = NULL;
  g_autofree char *parent2 = NULL;
  g_autofree char *child2 = NULL;

  trace = g_string_new (NULL);
  a = dogpile_fork_hook_add (note, note, note, "a");
  b = dogpile_fork_hook_add (note, note, note, "b");
  c = dogpile_fork_hook_add (note, NULL, note, "c");
  parent = fork_and_trace (&child);
  /* prepare c b a, then the parent's a b (c has none) */
  cr_assert_str_eq (parent, "cbaab");
  /* the child inherits the prepare trace, then adds a b c */
  cr_assert_str_eq (child, "cbaabc");

  dogpile_fork_hook_remove (b);
  parent2 = fork_and_trace (&child2);
  cr_assert_str_eq (parent2, "caa");
  cr_assert_str_eq (child2, "caac");
  dogpile_fork_hook_remove (a);
  dogpile_fork_hook_remove (c);
  g_string_free (trace, TRUE);
}

Test (fork, the_child_counts_its_generation)
{
  guint before = dogpile_fork_get_generation ();
  DogpileForkHook *hook = dogpile_fork_hook_add (NULL, NULL, NULL, NULL);
  pid_t pid = fork ();
  int status = 0;

  if (pid == 0)
    _exit (dogpile_fork_get_generation () == before + 1 ? 0 : 1);
  cr_assert (waitpid (pid, &status, 0) == pid);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  cr_assert_eq (dogpile_fork_get_generation (), before);
  dogpile_fork_hook_remove (hook);
}

/* --- fork while threads hold keys and write ----------------------------- */

#define N_WORKERS 6
#define N_KEYS 16

static gint stop;

static GBytes *
slow_creator (const char *key, gpointer user_data, GError **error)
{
  g_usleep (2000); /* holding the key's mutex */
  return bytes_of (key);
}

static gpointer
hammer (gpointer data)
{
  DogpileRegion *region = data;
  GRand *rand = g_rand_new ();

  while (!g_atomic_int_get (&stop))
    {
      g_autofree char *key
          = g_strdup_printf ("k%d", g_rand_int_range (rand, 0, N_KEYS));
      g_autoptr (GBytes) value = NULL;
      g_autoptr (GError) error = NULL;

      switch (g_rand_int_range (rand, 0, 3))
        {
        case 0: dogpile_region_delete (region, key, &error); break;
        case 1:
          dogpile_region_set (region, key, value = bytes_of (key), &error);
          break;
        default:
          dogpile_region_get_or_create (region, key, slow_creator, NULL,
                                        &value, &error);
        }
    }
  g_rand_free (rand);
  return NULL;
}

/* In the child, every key must be usable: a key a parent thread was
 * regenerating at fork() is free again, and no lock is left taken. */
static int
child_work (DogpileRegion *region)
{
  g_autoptr (DogpileRegion) fresh = dogpile_region_new ("child");
  g_autoptr (GError) error = NULL;

  alarm (20); /* a hang fails the test instead of stopping it */
  for (int i = 0; i < N_KEYS; i++)
    {
      g_autofree char *key = g_strdup_printf ("k%d", i);
      g_autoptr (GBytes) value = NULL;
      g_autoptr (GBytes) again = NULL;

      if (!dogpile_region_delete (region, key, &error)
          || !dogpile_region_get_or_create (region, key, slow_creator, NULL,
                                            &value, &error)
          || !bytes_equal (value, key)
          || !dogpile_region_get (region, key, &again, &error)
          || !bytes_equal (again, key))
        return 2;
    }
  if (!dogpile_region_configure (fresh, "dogpile.cache.memory", 60, NULL,
                                 DOGPILE_CONFIGURE_NONE, &error))
    return 3;
  return 0;
}

Test (fork, a_child_uses_regions_other_threads_were_using)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 600, NULL);
  GThread *threads[N_WORKERS];

  g_atomic_int_set (&stop, 0);
  for (int i = 0; i < N_WORKERS; i++)
    threads[i] = g_thread_new ("hammer", hammer, region);
  for (int round = 0; round < 25; round++)
    {
      int status = 0;
      pid_t pid;

      g_usleep (3000);
      pid = fork ();
      cr_assert (pid >= 0);
      if (pid == 0)
        _exit (child_work (region));
      cr_assert (waitpid (pid, &status, 0) == pid);
      cr_assert (WIFEXITED (status),
                 "round %d: the child died (signal %d: SIGALRM is a hang)",
                 round, WIFSIGNALED (status) ? WTERMSIG (status) : 0);
      cr_assert_eq (WEXITSTATUS (status), 0, "round %d: child step %d", round,
                    WEXITSTATUS (status));
    }
  g_atomic_int_set (&stop, 1);
  for (int i = 0; i < N_WORKERS; i++)
    g_thread_join (threads[i]);
}
