/* test-faults.h: what the fault and fork tests of every networked backend
 * share: a monotonic clock, loopback sockets, a server that accepts and
 * never answers, and a bounded wait for a child process.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "test-util.h"

static inline double
monotonic_seconds (void)
{
  return (double) g_get_monotonic_time () / G_USEC_PER_SEC;
}

/* A loopback TCP socket bound to a port of the kernel's choice; *out_port
 * is that port.  Listening with @backlog when it is >= 0. */
static inline int
loopback_socket (int backlog, int *out_port)
{
  struct sockaddr_in addr = { .sin_family = AF_INET };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  cr_assert (fd >= 0);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  cr_assert (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0);
  cr_assert (getsockname (fd, (struct sockaddr *) &addr, &len) == 0);
  if (backlog >= 0)
    cr_assert (listen (fd, backlog) == 0);
  *out_port = ntohs (addr.sin_port);
  return fd;
}

/* A port that was free a moment ago and has no listener. */
static inline int
unused_loopback_port (void)
{
  int port;
  int fd = loopback_socket (-1, &port);

  close (fd);
  return port;
}

/* Asserts that @error is a backend error that came within [low, high]
 * seconds of @started and mentions @fragment. */
static inline void
assert_bounded_failure (gboolean ok, GError *error, double started, double low,
                        double high, const char *fragment, const char *what)
{
  double took = monotonic_seconds () - started;

  cr_assert_not (ok, "%s succeeded against a failing server", what);
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (took >= low && took <= high, "%s took %.3f s, not in [%g, %g]",
             what, took, low, high);
  cr_assert (strstr (error->message, fragment) != NULL, "%s: '%s' not in '%s'",
             what, fragment, error->message);
}

/* --- a listener that accepts and never answers ------------------------ */

typedef struct {
  int listen_fd;
  int port;
  int stop_pipe[2];
  GThread *thread;
  GPtrArray *accepted;  /* fds, kept open and never read */
  const char *greeting; /* written on each connection once, or NULL */
} SilentServer;

static gpointer
silent_accept_loop (gpointer data)
{
  SilentServer *s = data;

  for (;;)
    {
      struct pollfd fds[2]
          = { { s->listen_fd, POLLIN, 0 }, { s->stop_pipe[0], POLLIN, 0 } };

      if (poll (fds, 2, -1) < 0 && errno != EINTR)
        break;
      if (fds[1].revents != 0)
        break;
      if (fds[0].revents & POLLIN)
        {
          int fd = accept (s->listen_fd, NULL, NULL);

          if (fd < 0)
            continue;
          if (s->greeting != NULL
              && write (fd, s->greeting, strlen (s->greeting)) < 0)
            {
              close (fd);
              continue;
            }
          g_ptr_array_add (s->accepted, GINT_TO_POINTER (fd));
        }
    }
  return NULL;
}

/* A server that writes @greeting (NULL: nothing) on each connection it
 * accepts, then never answers. */
static inline SilentServer *
lying_server_start (const char *greeting)
{
  SilentServer *s = g_new0 (SilentServer, 1);

  s->greeting = greeting;

  s->listen_fd = loopback_socket (64, &s->port);
  cr_assert (pipe (s->stop_pipe) == 0);
  s->accepted = g_ptr_array_new ();
  s->thread = g_thread_new ("silent", silent_accept_loop, s);
  return s;
}

static inline SilentServer *
silent_server_start (void)
{
  return lying_server_start (NULL);
}

static inline void
silent_server_stop (SilentServer *s)
{
  cr_assert (write (s->stop_pipe[1], "x", 1) == 1);
  g_thread_join (s->thread);
  for (guint i = 0; i < s->accepted->len; i++)
    close (GPOINTER_TO_INT (s->accepted->pdata[i]));
  g_ptr_array_free (s->accepted, TRUE);
  close (s->listen_fd);
  close (s->stop_pipe[0]);
  close (s->stop_pipe[1]);
  g_free (s);
}

/* --- servers the harnesses started ------------------------------------- */

/* The process id in the pid file named by the environment variable
 * @variable (the harnesses' DOGPILE_*PIDFILE*). */
static inline pid_t
harness_pid (const char *variable)
{
  const char *path = g_getenv (variable);
  g_autofree char *text = NULL;

  cr_assert_not_null (path, "%s: run under the test's server harness",
                      variable);
  cr_assert (g_file_get_contents (path, &text, NULL, NULL), "%s", path);
  return (pid_t) atoi (text);
}

/* Starts a server again with the shell-quoted command in the environment
 * variable @variable, as its harness first did (the harness stops it at
 * the end, through its pid file).  With @wait, until that command exits
 * (one that daemonizes).  Its output goes to /dev/null: holding the
 * test's stdout or stderr (a pipe to meson) would keep them open after
 * the test ended. */
static inline void
harness_restart (const char *variable, gboolean wait)
{
  const char *command = g_getenv (variable);
  GSpawnFlags flags = G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL;
  g_auto (GStrv) argv = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  cr_assert_not_null (command, "%s: run under the test's server harness",
                      variable);
  cr_assert (g_shell_parse_argv (command, NULL, &argv, &error));
  ok = wait
           ? g_spawn_sync (NULL, argv, NULL, flags, NULL, NULL, NULL, NULL,
                           NULL, &error)
           : g_spawn_async (NULL, argv, NULL, flags, NULL, NULL, NULL, &error);
  cr_assert (ok, "%s", error != NULL ? error->message : "");
}

/* --- children ------------------------------------------------------------ */

/* Where a hung child is stuck, for the failure message: its state, the
 * system call it is in and the kernel's stack (readable as root, as in
 * CI). */
static inline char *
child_state (pid_t child)
{
  static const char *const files[] = { "wchan", "syscall", "stack" };
  GString *out = g_string_new (NULL);
  g_autofree char *status_path
      = g_strdup_printf ("/proc/%d/status", (int) child);
  g_autofree char *status = NULL;

  if (g_file_get_contents (status_path, &status, NULL, NULL))
    {
      const char *state = strstr (status, "State:");

      if (state != NULL)
        g_string_append_len (out, state, strcspn (state, "\n"));
    }
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path
          = g_strdup_printf ("/proc/%d/%s", (int) child, files[i]);
      g_autofree char *text = NULL;

      if (g_file_get_contents (path, &text, NULL, NULL))
        g_string_append_printf (out, "\n%s: %s", files[i], g_strstrip (text));
    }
  /* And where in user space, when gdb is there to say. */
  if (g_file_test ("/usr/bin/gdb", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_autofree char *pid = g_strdup_printf ("%d", (int) child);
      const char *argv[]
          = { "timeout", "30",  "/usr/bin/gdb",        "-batch", "-p",
              pid,       "-ex", "thread apply all bt", NULL };
      g_autofree char *trace = NULL;

      if (g_spawn_sync (NULL, (char **) argv, NULL,
                        G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                        NULL, &trace, NULL, NULL, NULL)
          && trace != NULL)
        g_string_append_printf (out, "\ngdb:\n%s", trace);
    }
  return g_string_free (out, FALSE);
}

/* Waits for @child at most @seconds; kills it if it hangs.  Its exit
 * status, or 128 + the signal that ended it. */
static inline int
wait_child (pid_t child, double seconds)
{
  double deadline = monotonic_seconds () + seconds;
  int status = 0;

  while (waitpid (child, &status, WNOHANG) == 0)
    {
      if (monotonic_seconds () > deadline)
        {
          g_autofree char *where = child_state (child);

          kill (child, SIGKILL);
          waitpid (child, &status, 0);
          cr_assert_fail ("child %d hung (a lock held across fork?)\n%s",
                          (int) child, where);
        }
      g_usleep (2000);
    }
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

/* Whether a set then a get of @key (its own name as value) on @b work. */
static inline gboolean
backend_round_trip (DogpileBackend *b, const char *key)
{
  g_autoptr (GBytes) value = bytes_of (key);
  g_autoptr (GBytes) got = NULL;

  return dogpile_backend_set (b, key, value, NULL)
         && dogpile_backend_get (b, key, &got, NULL) && bytes_equal (got, key);
}

typedef struct {
  DogpileBackend *backend;
  gint stop;
  gint failures;
} Busy;

static gpointer
busy_loop (gpointer data)
{
  Busy *busy = data;
  g_autofree char *key = g_strdup_printf ("busy:%d", (int) getpid ());

  while (!g_atomic_int_get (&busy->stop))
    if (!backend_round_trip (busy->backend, key))
      g_atomic_int_inc (&busy->failures);
  return NULL;
}

/* Forks @rounds children, one at a time, while @n_threads threads keep
 * using @b: every child's round trip works (a handle another thread held
 * at the fork is never the child's), and no thread saw a failure. */
static inline void
fork_while_busy (DogpileBackend *b, int n_threads, int rounds)
{
  Busy busy = { b, 0, 0 };
  GThread *threads[16];

  cr_assert (n_threads <= 16);
  for (int i = 0; i < n_threads; i++)
    threads[i] = g_thread_new ("busy", busy_loop, &busy);
  for (int round = 0; round < rounds; round++)
    {
      pid_t child = fork ();

      cr_assert (child >= 0);
      if (child == 0)
        _exit (backend_round_trip (b, "fork:round") ? 0 : 1);
      cr_assert_eq (wait_child (child, 10), 0, "round %d", round);
    }
  g_atomic_int_set (&busy.stop, 1);
  for (int i = 0; i < n_threads; i++)
    g_thread_join (threads[i]);
  cr_assert_eq (busy.failures, 0);
}
