/* test-faults.h: what the fault and fork tests of every networked backend
 * share: a monotonic clock, loopback sockets, a server that accepts and
 * never answers, a scripted peer that is slow, deaf or dumb (FakeServer),
 * a listener that never accepts, and a bounded wait for a child process.
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

/* --- a scripted peer: slow, deaf or dumb ------------------------------ */

/* What a FakeServer does with each connection it accepts. */
typedef enum {
  FAKE_NEVER_READ,  /* reads nothing, writes nothing */
  FAKE_READ_SLOWLY, /* reads chunk bytes every interval, writes nothing */
  FAKE_ANSWER,      /* reads requests and answers them (FakeRequestFunc) */
} FakeMode;

typedef struct FakeServer FakeServer;

/* How a FAKE_ANSWER server answers one request. */
typedef struct {
  GString *bytes;  /* the answer; left empty: none, ever */
  double delay;    /* seconds before its first byte */
  double interval; /* > 0: one byte every interval seconds (a trickle) */
} FakeReply;

/* The length of the first complete request in @buf (0: not complete yet);
 * fills in @reply, whose delay and interval start as the server's. */
typedef gsize (*FakeRequestFunc) (FakeServer *s, const char *buf, gsize len,
                                  FakeReply *reply, gpointer data);

struct FakeServer {
  int listen_fd;
  int port;
  int stop_pipe[2];
  FakeMode mode;
  double interval; /* READ_SLOWLY: between reads; ANSWER: between bytes */
  double delay;    /* ANSWER: before each answer */
  gsize chunk;     /* READ_SLOWLY: bytes per read */
  FakeRequestFunc request;
  gpointer data;
  GThread *acceptor;
  GMutex lock; /* guards threads and fds */
  GPtrArray *threads;
  GArray *fds;
  gint connections; /* atomic: accepted so far */
  gint requests;    /* atomic: complete requests read */
  gint bytes_read;  /* atomic */
  gint bytes_written;
};

typedef struct {
  FakeServer *server;
  int fd;
} FakeConnection;

/* Sleeps @seconds, or less when the server stops: TRUE if it stopped. */
static inline gboolean
fake_sleep (FakeServer *s, double seconds)
{
  struct pollfd p = { s->stop_pipe[0], POLLIN, 0 };
  int ms = (int) (seconds * 1000 + 0.5);

  while (poll (&p, 1, ms) < 0 && errno == EINTR)
    ;
  return p.revents != 0;
}

/* Waits until @fd is readable or the server stops: TRUE if readable. */
static inline gboolean
fake_wait_readable (FakeServer *s, int fd)
{
  struct pollfd p[2] = { { fd, POLLIN, 0 }, { s->stop_pipe[0], POLLIN, 0 } };

  while (poll (p, 2, -1) < 0)
    if (errno != EINTR)
      return FALSE;
  return p[1].revents == 0;
}

/* Writes @reply as it says; FALSE when the peer went away or the server
 * stops. */
static inline gboolean
fake_write_reply (FakeServer *s, int fd, const FakeReply *reply)
{
  gsize step = reply->interval > 0 ? 1 : reply->bytes->len;

  if (reply->delay > 0 && fake_sleep (s, reply->delay))
    return FALSE;
  for (gsize done = 0; done < reply->bytes->len; done += step)
    {
      if (done > 0 && fake_sleep (s, reply->interval))
        return FALSE;
      if (send (fd, reply->bytes->str + done,
                MIN (step, reply->bytes->len - done), MSG_NOSIGNAL)
          <= 0)
        return FALSE;
      g_atomic_int_add (&s->bytes_written,
                        (gint) MIN (step, reply->bytes->len - done));
    }
  return TRUE;
}

static gpointer
fake_connection_loop (gpointer data)
{
  FakeConnection *conn = data;
  FakeServer *s = conn->server;
  g_autoptr (GString) pending = g_string_new (NULL);
  char buf[64 * 1024];

  switch (s->mode)
    {
    case FAKE_NEVER_READ: fake_sleep (s, 3600); break;
    case FAKE_READ_SLOWLY:
      while (!fake_sleep (s, s->interval))
        {
          ssize_t n
              = recv (conn->fd, buf, MIN (s->chunk, sizeof buf), MSG_DONTWAIT);

          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            break;
          if (n > 0)
            g_atomic_int_add (&s->bytes_read, (gint) n);
        }
      break;
    case FAKE_ANSWER:
      while (fake_wait_readable (s, conn->fd))
        {
          ssize_t n = recv (conn->fd, buf, sizeof buf, 0);
          gsize used;

          if (n <= 0)
            break;
          g_atomic_int_add (&s->bytes_read, (gint) n);
          g_string_append_len (pending, buf, n);
          for (;;)
            {
              g_autoptr (GString) bytes = g_string_new (NULL);
              FakeReply reply = { bytes, s->delay, s->interval };

              used = s->request (s, pending->str, pending->len, &reply,
                                 s->data);
              if (used == 0)
                break;
              g_atomic_int_inc (&s->requests);
              g_string_erase (pending, 0, (gssize) used);
              if (!fake_write_reply (s, conn->fd, &reply))
                goto out;
            }
        }
      break;
    }
out:
  g_free (conn);
  return NULL;
}

static gpointer
fake_accept_loop (gpointer data)
{
  FakeServer *s = data;

  while (fake_wait_readable (s, s->listen_fd))
    {
      int fd = accept (s->listen_fd, NULL, NULL);
      FakeConnection *conn;

      if (fd < 0)
        continue;
      g_atomic_int_inc (&s->connections);
      conn = g_new0 (FakeConnection, 1);
      conn->server = s;
      conn->fd = fd;
      g_mutex_lock (&s->lock);
      g_array_append_val (s->fds, fd);
      g_ptr_array_add (s->threads,
                       g_thread_new ("fake-peer", fake_connection_loop, conn));
      g_mutex_unlock (&s->lock);
    }
  return NULL;
}

/* A loopback server doing @mode on every connection; set its fields
 * (interval, delay, chunk, request, data) before fake_server_run(). */
static inline FakeServer *
fake_server_new (FakeMode mode)
{
  FakeServer *s = g_new0 (FakeServer, 1);

  s->mode = mode;
  s->chunk = 64 * 1024;
  s->listen_fd = loopback_socket (64, &s->port);
  cr_assert (pipe (s->stop_pipe) == 0);
  g_mutex_init (&s->lock);
  s->threads = g_ptr_array_new ();
  s->fds = g_array_new (FALSE, FALSE, sizeof (int));
  return s;
}

static inline void
fake_server_run (FakeServer *s)
{
  cr_assert (s->mode != FAKE_ANSWER || s->request != NULL);
  s->acceptor = g_thread_new ("fake-server", fake_accept_loop, s);
}

static inline void
fake_server_stop (FakeServer *s)
{
  cr_assert (write (s->stop_pipe[1], "x", 1) == 1);
  g_thread_join (s->acceptor);
  for (guint i = 0; i < s->threads->len; i++)
    g_thread_join (s->threads->pdata[i]);
  for (guint i = 0; i < s->fds->len; i++)
    close (g_array_index (s->fds, int, i));
  g_ptr_array_free (s->threads, TRUE);
  g_array_free (s->fds, TRUE);
  g_mutex_clear (&s->lock);
  close (s->listen_fd);
  close (s->stop_pipe[0]);
  close (s->stop_pipe[1]);
  g_free (s);
}

/* A listener whose accept queue is full: a connect to it hangs (the
 * kernel drops the SYNs) until the client gives up.  Close both. */
typedef struct {
  int listen_fd;
  int filler_fd;
  int port;
} FullListener;

static inline FullListener
full_listener_new (void)
{
  FullListener l;
  struct sockaddr_in addr = { .sin_family = AF_INET };

  /* listen(fd, 0) queues one connection: the filler's. */
  l.listen_fd = loopback_socket (0, &l.port);
  l.filler_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  addr.sin_port = htons ((uint16_t) l.port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  cr_assert (connect (l.filler_fd, (struct sockaddr *) &addr, sizeof addr)
             == 0);
  return l;
}

static inline void
full_listener_close (FullListener *l)
{
  close (l->filler_fd);
  close (l->listen_fd);
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

/* Waits for the @n @children, all within @seconds; when one hangs, says
 * where and kills them all, so none outlives the test holding its
 * output open.  Their statuses go to @statuses, as wait_child gives. */
static inline void
wait_children (const pid_t *children, int n, double seconds, int *statuses)
{
  double deadline = monotonic_seconds () + seconds;

  for (int p = 0; p < n; p++)
    {
      int status = 0;

      while (waitpid (children[p], &status, WNOHANG) == 0)
        {
          if (monotonic_seconds () > deadline)
            {
              g_autofree char *where = child_state (children[p]);

              for (int q = p; q < n; q++)
                kill (children[q], SIGKILL);
              for (int q = p; q < n; q++)
                waitpid (children[q], NULL, 0);
              cr_assert_fail ("child %d hung (a lock held across fork?)\n%s",
                              (int) children[p], where);
            }
          g_usleep (2000);
        }
      statuses[p] = WIFEXITED (status) ? WEXITSTATUS (status)
                                       : 128 + WTERMSIG (status);
    }
}

/* Waits for @child at most @seconds; kills it if it hangs.  Its exit
 * status, or 128 + the signal that ended it. */
static inline int
wait_child (pid_t child, double seconds)
{
  int status;

  wait_children (&child, 1, seconds, &status);
  return status;
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

#if defined(__SANITIZE_ADDRESS__)
#define FAULTS_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FAULTS_UNDER_ASAN 1
#endif
#endif
#ifndef FAULTS_UNDER_ASAN
#define FAULTS_UNDER_ASAN 0
#endif

typedef struct {
  DogpileBackend *backend;
  gint stop;
  gint failures;
  /* under ASan, the threads stop between calls for each fork (below) */
  GMutex lock;
  GCond changed;
  gboolean pausing;
  int in_calls;
} Busy;

static gpointer
busy_loop (gpointer data)
{
  Busy *busy = data;
  g_autofree char *key = g_strdup_printf ("busy:%d", (int) getpid ());

  while (!g_atomic_int_get (&busy->stop))
    {
      g_mutex_lock (&busy->lock);
      while (busy->pausing)
        g_cond_wait (&busy->changed, &busy->lock);
      busy->in_calls++;
      g_mutex_unlock (&busy->lock);
      if (!backend_round_trip (busy->backend, key))
        g_atomic_int_inc (&busy->failures);
      g_mutex_lock (&busy->lock);
      busy->in_calls--;
      g_cond_broadcast (&busy->changed);
      g_mutex_unlock (&busy->lock);
    }
  return NULL;
}

/* Until busy_resume(): no thread in a call. */
static inline void
busy_pause (Busy *busy)
{
  g_mutex_lock (&busy->lock);
  busy->pausing = TRUE;
  while (busy->in_calls > 0)
    g_cond_wait (&busy->changed, &busy->lock);
  g_mutex_unlock (&busy->lock);
}

static inline void
busy_resume (Busy *busy)
{
  g_mutex_lock (&busy->lock);
  busy->pausing = FALSE;
  g_cond_broadcast (&busy->changed);
  g_mutex_unlock (&busy->lock);
}

/* Forks @rounds children, one at a time, while @n_threads threads keep
 * using @b: every child's round trip works (a handle another thread held
 * at the fork is never the child's), and no thread saw a failure.
 *
 * Under AddressSanitizer the threads are stopped between calls for each
 * fork: GCC 12's ASan does not take its allocator's locks around fork(),
 * as glibc's malloc does, so a child forked while a thread allocates can
 * inherit one held and hang at its own next allocation (seen in CI).  So
 * there the children show the pool state the others leave between calls,
 * and the plain build shows calls in flight. */
static inline void
fork_while_busy (DogpileBackend *b, int n_threads, int rounds)
{
  Busy busy = { .backend = b };
  GThread *threads[16];

  cr_assert (n_threads <= 16);
  g_mutex_init (&busy.lock);
  g_cond_init (&busy.changed);
  for (int i = 0; i < n_threads; i++)
    threads[i] = g_thread_new ("busy", busy_loop, &busy);
  for (int round = 0; round < rounds; round++)
    {
      pid_t child;

      if (FAULTS_UNDER_ASAN)
        busy_pause (&busy);
      child = fork ();
      if (FAULTS_UNDER_ASAN && child != 0)
        busy_resume (&busy);

      cr_assert (child >= 0);
      if (child == 0)
        _exit (backend_round_trip (b, "fork:round") ? 0 : 1);
      cr_assert_eq (wait_child (child, 10), 0, "round %d", round);
    }
  g_atomic_int_set (&busy.stop, 1);
  for (int i = 0; i < n_threads; i++)
    g_thread_join (threads[i]);
  g_cond_clear (&busy.changed);
  g_mutex_clear (&busy.lock);
  cr_assert_eq (busy.failures, 0);
}
