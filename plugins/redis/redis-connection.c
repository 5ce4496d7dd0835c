/* redis-connection.c: connect, hand-shake, send and read on one socket,
 * each within what is left of the call's deadline.
 *
 * Sending is done here rather than by redisGetReply's write(): hiredis
 * 0.14 writes with write(2), and a write to a connection the server has
 * reset raises SIGPIPE, whose default action kills the process.  A
 * library must not change the process's signal dispositions, so the
 * buffer hiredis formatted (redisAppendCommandArgv, into c->obuf) goes out
 * with send(MSG_NOSIGNAL) and comes back as EPIPE, a backend error.
 *
 * Time: a socket timeout (SO_RCVTIMEO, SO_SNDTIMEO) bounds one system
 * call, so a server that trickles its reply a byte at a time, or reads a
 * big command slowly, could hold a call for as many timeouts as it sends
 * bytes.  Nothing here blocks in a system call instead: sends and reads
 * are non-blocking (MSG_DONTWAIT), and the waits between them are poll()s
 * for what is left of the call's RedisDeadline, so the call's time is
 * bounded, however the bytes come.  Connecting gets what is left of the
 * call's connect budget (hiredis polls its non-blocking connect for it).
 *
 * Waiting for a reply: a thread that sleeps in poll() until the reply
 * comes pays for being woken up, and on a virtual machine whose CPU went
 * idle meanwhile that costs more than the server's work (here a loopback
 * GET takes 24 us when the client stays awake, 77 us when it sleeps).  So
 * the reader first spins for up to busy_poll microseconds (the unit of
 * Linux's SO_BUSY_POLL, which does the same in the kernel for network
 * cards but not for loopback), then sleeps as before.  Spinning costs CPU
 * time and pays only when replies come within the budget, so it is
 * bounded three ways: by the budget; by the connection's record (after a
 * few spins in a row ran out, as with a distant server, it sleeps at once,
 * trying a spin again every 64 reads); and by the number of threads
 * spinning at once, at most one fewer than the CPUs, so a server on the
 * same machine always has a CPU (none on a single-CPU machine).
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-connection.h"

#include <unistd.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

/* Output buffers above this are freed after a send rather than kept. */
#define KEEP_OBUF_BYTES (64 * 1024)

/* After this many spins in a row without a reply, a connection sleeps at
 * once, trying a spin every SPIN_RETRY_READS reads. */
#define SPIN_MISSES_TO_STOP 4
#define SPIN_RETRY_READS 64

/* Bytes read per recv (hiredis' own redisBufferRead reads as many). */
#define READ_CHUNK (16 * 1024)

static gint spinners;
static gint max_spinners = -1;

void
redis_connection_after_fork_in_child (void)
{
  /* the threads that were spinning are the parent's */
  g_atomic_int_set (&spinners, 0);
}

/* Seconds as µs, saturated: a budget of 1e300 s means "for ever" (a
 * year is 3e13 µs; G_MAXINT64 / 4 leaves room to add a clock reading). */
static gint64
seconds_to_us (double seconds)
{
  double us = seconds * G_USEC_PER_SEC;

  if (!(us > 0))
    return 0;
  if (us >= (double) (G_MAXINT64 / 4))
    return G_MAXINT64 / 4;
  return (gint64) us;
}

static struct timeval
us_to_timeval (gint64 us)
{
  struct timeval tv;

  tv.tv_sec = (time_t) (us / G_USEC_PER_SEC);
  tv.tv_usec = (suseconds_t) (us % G_USEC_PER_SEC);
  /* {0, 0} would mean "no timeout". */
  if (tv.tv_sec == 0 && tv.tv_usec == 0)
    tv.tv_usec = 1;
  return tv;
}

/**
 * redis_deadline_start:
 * @self: the deadline to set
 * @options: the timeouts
 *
 * A call's deadline, from now: socket_connect_timeout of connecting and
 * socket_timeout of everything else (see redis-connection.h).
 */
void
redis_deadline_start (RedisDeadline *self, const RedisConnectOptions *options)
{
  self->end
      = g_get_monotonic_time () + seconds_to_us (options->socket_timeout);
  self->connect_left = seconds_to_us (options->connect_timeout);
  self->connect_spent = 0;
  self->socket_timeout = options->socket_timeout;
  self->connect_timeout = options->connect_timeout;
  self->share = 0;
}

gint64
redis_deadline_left (const RedisDeadline *self)
{
  return self->end - g_get_monotonic_time ();
}

void
redis_deadline_share (const RedisDeadline *call, guint ways,
                      RedisDeadline *out)
{
  gint64 now = g_get_monotonic_time ();
  gint64 left = MAX (call->end - now, 0);

  ways = MAX (ways, 1);
  *out = *call;
  out->end = now + left / ways;
  out->connect_left = MAX (call->connect_left, 0) / ways;
  out->connect_spent = 0;
  out->share = (double) (left / ways) / G_USEC_PER_SEC;
}

void
redis_deadline_merge (RedisDeadline *call, const RedisDeadline *share)
{
  call->connect_left -= share->connect_spent;
  call->connect_spent += share->connect_spent;
  call->end += share->connect_spent;
}

char *
redis_deadline_describe (const RedisDeadline *self)
{
  if (self->share > 0)
    return g_strdup_printf ("%.3g s (a share of the call's socket_timeout "
                            "of %g s)",
                            self->share, self->socket_timeout);
  return g_strdup_printf ("%g s (socket_timeout)", self->socket_timeout);
}

/* Which connect budget ran out, for messages. */
static char *
describe_connect_budget (const RedisDeadline *self)
{
  if (self->share > 0)
    return g_strdup_printf ("socket_connect_timeout: this server's share of "
                            "the call's %g s of connecting ran out",
                            self->connect_timeout);
  return g_strdup_printf ("socket_connect_timeout: the call's %g s of "
                          "connecting ran out",
                          self->connect_timeout);
}

/* Connecting took @took µs: out of the connect budget, and the
 * socket_timeout part ends that much later.  What exceeds the connect
 * budget (hiredis' own work around its poll) is socket_timeout's. */
static void
spend_connecting (RedisDeadline *self, gint64 took)
{
  gint64 used = CLAMP (took, 0, MAX (self->connect_left, 0));

  self->connect_left -= used;
  self->connect_spent += used;
  self->end += used;
}

/* Waits until @fd is ready for @events, at most until the deadline: 1
 * when it is (or has an error or a hang-up for the next call to report),
 * 0 when the deadline passed, -1 with errno when poll() failed. */
static int
wait_for (int fd, short events, const RedisDeadline *deadline)
{
  for (;;)
    {
      gint64 left = redis_deadline_left (deadline);
      struct pollfd p = { fd, events, 0 };
      int n;

      if (left <= 0)
        return 0;
      /* Rounded up: waking before the deadline would only poll again. */
      n = poll (&p, 1, (int) MIN ((left + 999) / 1000, G_MAXINT));
      if (n > 0)
        return 1;
      if (n < 0 && errno != EINTR)
        return -1;
    }
}

void
redis_connection_set_error (RedisConnection *self, GError **error,
                            const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND, "%s at %s: %s",
               self->options->product, self->endpoint.display, message);
}

/* The call's deadline passed while @doing: the connection is in the
 * middle of something (a command half sent, a reply half read), so it is
 * dead.  @detail ends the message ("" or "; ..."). */
static gboolean
fail_timeout (RedisConnection *self, const RedisDeadline *deadline,
              const char *doing, const char *detail, GError **error)
{
  g_autofree char *budget = redis_deadline_describe (deadline);

  self->failure = REDIS_FAILURE_TIMEOUT;
  redis_connection_set_error (
      self, error, "timed out after %s while %s (%s%s)", budget, doing,
      deadline->share > 0 ? "this server's share of the call's "
                            "deadline"
                          : "the call's deadline",
      detail);
  return FALSE;
}

/* A system call failed with @saved_errno while @doing. */
static gboolean
fail_errno (RedisConnection *self, int saved_errno, const char *doing,
            GError **error)
{
  self->failure = saved_errno == ECONNRESET || saved_errno == EPIPE
                      ? REDIS_FAILURE_CLOSED
                      : REDIS_FAILURE_OTHER;
  redis_connection_set_error (self, error, "error while %s: %s", doing,
                              g_strerror (saved_errno));
  return FALSE;
}

static gboolean
fail_closed (RedisConnection *self, const char *doing, GError **error)
{
  self->failure = REDIS_FAILURE_CLOSED;
  redis_connection_set_error (
      self, error, "the server closed the connection while %s", doing);
  return FALSE;
}

/* The reply reader refused the bytes (a protocol error, out of memory). */
static gboolean
fail_reader (RedisConnection *self, const char *doing, GError **error)
{
  redisReader *reader = self->context->reader;

  self->failure = REDIS_FAILURE_OTHER;
  redis_connection_set_error (self, error, "error while %s: %s", doing,
                              reader->errstr[0] != '\0' ? reader->errstr
                                                        : "unknown error");
  return FALSE;
}

/* Decimal digits of @v, written backwards from @end; returns the start. */
static inline char *
format_size (char *end, size_t v)
{
  do
    *--end = (char) ('0' + v % 10);
  while ((v /= 10) != 0);
  return end;
}

static inline size_t
count_digits (size_t v)
{
  size_t n = 1;

  while (v >= 10)
    v /= 10, n++;
  return n;
}

/* Writes "<marker><v>\r\n" at @p; returns the end. */
static inline char *
put_header (char *p, char marker, size_t v)
{
  char digits[24];
  char *start = format_size (digits + sizeof digits, v);
  size_t n = (size_t) (digits + sizeof digits - start);

  *p++ = marker;
  memcpy (p, start, n);
  p += n;
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

/* Appends one command to the context's output buffer in the protocol's
 * array-of-bulk-strings form -- what redisAppendCommandArgv writes, with
 * one size computation and one copy per argument instead of an extra
 * buffer and a formatted print per argument (a 100-key MGET spent more
 * time there than in reading its reply).  The buffer and its growth are
 * hiredis' own (sds); redis_connection_flush sends it. */
gboolean
redis_connection_append (RedisConnection *self, int argc, const char **argv,
                         const size_t *argvlen, GError **error)
{
  redisContext *c = self->context;
  size_t total = 1 + count_digits ((size_t) argc) + 2;
  sds grown;
  char *p;

  for (int i = 0; i < argc; i++)
    total += 1 + count_digits (argvlen[i]) + 2 + argvlen[i] + 2;
  grown = sdsMakeRoomFor (c->obuf, total);
  if (grown == NULL)
    {
      self->failure = REDIS_FAILURE_OTHER;
      redis_connection_set_error (self, error,
                                  "out of memory formatting "
                                  "the %.*s command",
                                  (int) argvlen[0], argv[0]);
      return FALSE;
    }
  c->obuf = grown;
  p = c->obuf + sdslen (c->obuf);
  p = put_header (p, '*', (size_t) argc);
  for (int i = 0; i < argc; i++)
    {
      p = put_header (p, '$', argvlen[i]);
      if (argvlen[i] > 0)
        memcpy (p, argv[i], argvlen[i]);
      p += argvlen[i];
      *p++ = '\r';
      *p++ = '\n';
    }
  sdsIncrLen (c->obuf, (ssize_t) total);
  return TRUE;
}

/**
 * redis_connection_flush:
 * @self: a connection
 * @deadline: the call's
 * @error: return location for a #GError
 *
 * Sends what redis_connection_append() buffered, waiting for the socket
 * to take it at most until @deadline.
 *
 * Returns: %FALSE with %DOGPILE_ERROR_BACKEND when it could not (the
 * connection is then dead).
 */
gboolean
redis_connection_flush (RedisConnection *self, RedisDeadline *deadline,
                        GError **error)
{
  redisContext *c = self->context;
  size_t len = sdslen (c->obuf);
  size_t done = 0;

  while (done < len)
    {
      ssize_t n = send (c->fd, c->obuf + done, len - done,
                        MSG_NOSIGNAL | MSG_DONTWAIT);

      if (n < 0)
        {
          int saved_errno = errno;
          int ready;

          if (saved_errno == EINTR)
            continue;
          if (saved_errno != EAGAIN && saved_errno != EWOULDBLOCK)
            return fail_errno (self, saved_errno, "sending", error);
          ready = wait_for (c->fd, POLLOUT, deadline);
          if (ready == 0)
            {
              g_autofree char *detail
                  = g_strdup_printf ("; %zu of %zu bytes sent", done, len);

              return fail_timeout (self, deadline, "sending", detail, error);
            }
          if (ready < 0)
            return fail_errno (self, errno, "sending", error);
          continue;
        }
      done += (size_t) n;
    }
  if (len > KEEP_OBUF_BYTES)
    {
      sdsfree (c->obuf);
      c->obuf = sdsempty ();
    }
  else
    sdsclear (c->obuf);
  return TRUE;
}

/* Spins until the socket has something to read, the budget (or the
 * deadline) runs out, or spinning is not worth it now (see the top of
 * the file).  Whether something came: a recv will not block then. */
static gboolean
spin_for_reply (RedisConnection *self, const RedisDeadline *deadline)
{
  gint64 budget = self->options->busy_poll_us;
  gint64 until;
  gboolean arrived = FALSE;

  self->reads++;
  if (budget <= 0
      || (self->spin_misses >= SPIN_MISSES_TO_STOP
          && self->reads % SPIN_RETRY_READS != 0))
    return FALSE;
  if (G_UNLIKELY (g_atomic_int_get (&max_spinners) < 0))
    g_atomic_int_set (&max_spinners, (gint) g_get_num_processors () - 1);
  if (g_atomic_int_add (&spinners, 1) >= g_atomic_int_get (&max_spinners))
    {
      g_atomic_int_add (&spinners, -1);
      return FALSE;
    }
  until
      = MIN (g_get_monotonic_time () + budget, redis_deadline_end (deadline));
  do
    {
      char byte;
      ssize_t n = recv (self->context->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

      /* data, the end of the stream or an error: recv will tell */
      if (n >= 0
          || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        {
          arrived = TRUE;
          break;
        }
    }
  while (g_get_monotonic_time () < until);
  g_atomic_int_add (&spinners, -1);
  self->spin_misses = arrived ? 0 : self->spin_misses + 1;
  return arrived;
}

/**
 * redis_connection_read:
 * @self: a connection whose commands were flushed
 * @deadline: the call's
 * @out_reply: (out): the next reply
 * @error: return location for a #GError
 *
 * The next reply, whole, read at most until @deadline however its bytes
 * come: each wait is for the time left, not for a timeout per read.
 *
 * Returns: %FALSE with %DOGPILE_ERROR_BACKEND when no whole reply came
 * (the connection is then dead).
 */
gboolean
redis_connection_read (RedisConnection *self, RedisDeadline *deadline,
                       redisReply **out_reply, GError **error)
{
  static const char doing[] = "waiting for a reply";
  redisContext *c = self->context;
  void *reply = NULL;
  gboolean readable;
  gsize got = 0;

  /* A reply already read with an earlier one (a pipelined batch) needs no
   * wait. */
  if (redisReaderGetReply (c->reader, &reply) != REDIS_OK)
    return fail_reader (self, doing, error);
  if (reply != NULL)
    {
      *out_reply = reply;
      return TRUE;
    }
  readable = spin_for_reply (self, deadline);
  for (;;)
    {
      char buf[READ_CHUNK];
      ssize_t n;

      if (!readable)
        {
          int ready = wait_for (c->fd, POLLIN, deadline);

          if (ready == 0)
            {
              g_autofree char *detail
                  = got > 0 ? g_strdup_printf ("; %zu bytes of the reply "
                                               "had come",
                                               got)
                            : g_strdup ("");

              return fail_timeout (self, deadline, doing, detail, error);
            }
          if (ready < 0)
            return fail_errno (self, errno, doing, error);
        }
      n = recv (c->fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0)
        return fail_closed (self, doing, error);
      if (n < 0)
        {
          int saved_errno = errno;

          if (saved_errno != EINTR && saved_errno != EAGAIN
              && saved_errno != EWOULDBLOCK)
            return fail_errno (self, saved_errno, doing, error);
          readable = saved_errno == EINTR;
          continue;
        }
      got += (gsize) n;
      if (redisReaderFeed (c->reader, buf, (size_t) n) != REDIS_OK
          || redisReaderGetReply (c->reader, &reply) != REDIS_OK)
        return fail_reader (self, doing, error);
      if (reply != NULL)
        {
          *out_reply = reply;
          return TRUE;
        }
      /* A full chunk: more is probably there already. */
      readable = n == (ssize_t) sizeof buf;
    }
}

/**
 * redis_connection_is_open:
 * @self: an idle connection (no reply pending)
 *
 * Whether the server has not closed @self meanwhile: a non-blocking peek
 * that would block says it is open; the end of the stream, a reset, or
 * bytes nobody asked for say it is not.  One system call, for the
 * commands that must not be sent twice (a SET NX): a connection closed
 * while idle (a restart, CLIENT KILL, the server's timeout) is found
 * before anything is sent on it.
 *
 * Returns: %FALSE when the connection is closed (it is then marked
 * failed).
 */
gboolean
redis_connection_is_open (RedisConnection *self)
{
  char byte;
  ssize_t n;

  do
    n = recv (self->context->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return TRUE;
  self->failure = REDIS_FAILURE_CLOSED;
  return FALSE;
}

/* AUTH and SELECT, sent together. */
static gboolean
handshake (RedisConnection *self, RedisDeadline *deadline, GError **error)
{
  const RedisConnectOptions *o = self->options;
  const char *argv[3];
  size_t argvlen[3];
  g_autofree char *db = NULL;
  const char *names[2];
  int n = 0;

  if (o->username != NULL || o->password != NULL)
    {
      const char *password = o->password != NULL ? o->password : "";
      int argc = 0;

      argv[argc] = "AUTH", argvlen[argc++] = 4;
      if (o->username != NULL)
        argv[argc] = o->username, argvlen[argc] = strlen (o->username), argc++;
      argv[argc] = password, argvlen[argc++] = strlen (password);
      if (!redis_connection_append (self, argc, argv, argvlen, error))
        return FALSE;
      names[n++] = "AUTH";
    }
  if (o->db != 0)
    {
      db = g_strdup_printf ("%" G_GINT64_FORMAT, o->db);
      argv[0] = "SELECT", argvlen[0] = 6;
      argv[1] = db, argvlen[1] = strlen (db);
      if (!redis_connection_append (self, 2, argv, argvlen, error))
        return FALSE;
      names[n++] = "SELECT";
    }
  if (n == 0)
    return TRUE;
  if (!redis_connection_flush (self, deadline, error))
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      redisReply *reply = NULL;
      gboolean refused;

      if (!redis_connection_read (self, deadline, &reply, error))
        return FALSE;
      refused = reply->type == REDIS_REPLY_ERROR;
      if (refused)
        {
          g_autofree char *text = redis_reply_text (reply);

          redis_connection_set_error (self, error, "%s failed: %s", names[i],
                                      text);
        }
      redis_reply_free (reply);
      if (refused)
        {
          /* The caller drops the connection: no reply is left behind. */
          self->failure = REDIS_FAILURE_CONNECT;
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * redis_connection_open:
 * @endpoint: the server
 * @options: how to connect; must outlive the connection
 * @deadline: the call's
 * @error: return location for a #GError
 *
 * Connects within what is left of @deadline's connect budget, then sets
 * keepalive if asked, close-on-exec (a child that executes another
 * program must not inherit the socket) and sends AUTH / SELECT within
 * @deadline.  No socket timeout is set: every later wait is for what is
 * left of the deadline of the call that waits.
 *
 * Returns: (transfer full): the connection, or %NULL with
 * %DOGPILE_ERROR_BACKEND.
 */
RedisConnection *
redis_connection_open (const RedisEndpoint *endpoint,
                       const RedisConnectOptions *options,
                       RedisDeadline *deadline, GError **error)
{
  RedisConnection *self;
  gint64 limit = deadline->connect_left;
  gint64 started;
  struct timeval connect_tv;
  redisContext *c;

  if (limit <= 0)
    {
      g_autofree char *budget = describe_connect_budget (deadline);

      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "Cannot connect to %s at %s: no time left (%s)",
                   options->product, endpoint->display, budget);
      return NULL;
    }
  connect_tv = us_to_timeval (limit);
  started = g_get_monotonic_time ();
  c = endpoint->path != NULL
          ? redisConnectUnixWithTimeout (endpoint->path, connect_tv)
          : redisConnectWithTimeout (endpoint->host, endpoint->port,
                                     connect_tv);
  spend_connecting (deadline, g_get_monotonic_time () - started);
  if (c == NULL)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "Cannot connect to %s at %s: out of memory",
                   options->product, endpoint->display);
      return NULL;
    }
  if (c->err)
    {
      gboolean timed_out = strstr (c->errstr, g_strerror (ETIMEDOUT)) != NULL;
      g_autofree char *budget
          = timed_out ? describe_connect_budget (deadline) : NULL;
      g_autofree char *why
          = timed_out ? g_strdup_printf (" (%s)", budget) : g_strdup ("");

      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "Cannot connect to %s at %s: %s%s", options->product,
                   endpoint->display, c->errstr, why);
      redisFree (c);
      return NULL;
    }

  /* Replies as redis-reply.h builds them (hiredis' hook for that). */
  c->reader->fn = &redis_reply_functions;
  self = g_new0 (RedisConnection, 1);
  self->context = c;
  redis_endpoint_copy (&self->endpoint, endpoint);
  self->options = options;

  if (fcntl (c->fd, F_SETFD, FD_CLOEXEC) == -1
      || (options->keepalive && redisEnableKeepAlive (c) != REDIS_OK))
    {
      int saved_errno = errno;

      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "Cannot set up the connection to %s at %s: %s",
                   options->product, endpoint->display,
                   c->err ? c->errstr : g_strerror (saved_errno));
      redis_connection_free (self);
      return NULL;
    }
  if (!handshake (self, deadline, error))
    {
      redis_connection_free (self);
      return NULL;
    }
  return self;
}

void
redis_connection_abandon (RedisConnection *self)
{
  if (self->context != NULL && self->context->fd >= 0)
    {
      close (self->context->fd);
      self->context->fd = -1;
    }
}

void
redis_connection_free (RedisConnection *self)
{
  if (self == NULL)
    return;
  redisFree (self->context);
  redis_endpoint_clear (&self->endpoint);
  g_free (self);
}
