/* redis-connection.c: connect, hand-shake, send and read on one socket.
 *
 * Sending is done here rather than by redisGetReply's write(): hiredis
 * 0.14 writes with write(2), and a write to a connection the server has
 * reset raises SIGPIPE, whose default action kills the process.  A
 * library must not change the process's signal dispositions, so the
 * buffer hiredis formatted (redisAppendCommandArgv, into c->obuf) goes out
 * with send(MSG_NOSIGNAL) and comes back as EPIPE, a backend error.  The
 * socket timeouts (SO_SNDTIMEO, SO_RCVTIMEO, set by redisSetTimeout) bound
 * every send and every read.
 *
 * Waiting for a reply: a thread that sleeps in recv() until the reply
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
#include <math.h>
#include <sys/socket.h>

/* Output buffers above this are freed after a send rather than kept. */
#define KEEP_OBUF_BYTES (64 * 1024)

/* After this many spins in a row without a reply, a connection sleeps at
 * once, trying a spin every SPIN_RETRY_READS reads. */
#define SPIN_MISSES_TO_STOP 4
#define SPIN_RETRY_READS 64

static gint spinners;
static gint max_spinners = -1;

void
redis_connection_after_fork_in_child (void)
{
  /* the threads that were spinning are the parent's */
  g_atomic_int_set (&spinners, 0);
}

static struct timeval
to_timeval (double seconds)
{
  struct timeval tv;
  double whole = floor (seconds);

  tv.tv_sec = (time_t) whole;
  tv.tv_usec = (suseconds_t) ((seconds - whole) * 1e6);
  /* {0, 0} would mean "no timeout" to setsockopt. */
  if (tv.tv_sec == 0 && tv.tv_usec == 0)
    tv.tv_usec = 1;
  return tv;
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

/* Records why the context failed (@saved_errno is errno right after the
 * failing call) and reports it. */
static gboolean
fail (RedisConnection *self, int saved_errno, const char *doing,
      GError **error)
{
  redisContext *c = self->context;

  if (c->err == REDIS_ERR_EOF)
    {
      self->failure = REDIS_FAILURE_CLOSED;
      redis_connection_set_error (self, error,
                                  "the server closed the connection while "
                                  "%s (%s)",
                                  doing, c->errstr);
    }
  else if (c->err == REDIS_ERR_IO
           && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK))
    {
      self->failure = REDIS_FAILURE_TIMEOUT;
      redis_connection_set_error (self, error,
                                  "timed out after %g s (socket_timeout) "
                                  "while %s (%s)",
                                  self->options->socket_timeout, doing,
                                  c->errstr);
    }
  else
    {
      self->failure
          = c->err == REDIS_ERR_IO
                    && (saved_errno == ECONNRESET || saved_errno == EPIPE)
                ? REDIS_FAILURE_CLOSED
                : REDIS_FAILURE_OTHER;
      redis_connection_set_error (self, error, "error while %s: %s", doing,
                                  c->errstr[0] != '\0' ? c->errstr
                                                       : "unknown error");
    }
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

gboolean
redis_connection_flush (RedisConnection *self, GError **error)
{
  redisContext *c = self->context;
  size_t len = sdslen (c->obuf);
  size_t done = 0;

  while (done < len)
    {
      ssize_t n = send (c->fd, c->obuf + done, len - done, MSG_NOSIGNAL);

      if (n < 0)
        {
          int saved_errno = errno;

          if (saved_errno == EINTR)
            continue;
          if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)
            {
              self->failure = REDIS_FAILURE_TIMEOUT;
              redis_connection_set_error (
                  self, error,
                  "timed out after %g s (socket_timeout) while sending (%s)",
                  self->options->socket_timeout, g_strerror (saved_errno));
            }
          else
            {
              self->failure = saved_errno == EPIPE || saved_errno == ECONNRESET
                                  ? REDIS_FAILURE_CLOSED
                                  : REDIS_FAILURE_OTHER;
              redis_connection_set_error (self, error,
                                          "error while sending: %s",
                                          g_strerror (saved_errno));
            }
          return FALSE;
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

/* Spins until the socket has something to read, the budget runs out, or
 * spinning is not worth it now (see the top of the file). */
static void
spin_for_reply (RedisConnection *self)
{
  gint64 budget = self->options->busy_poll_us;
  gint64 deadline;
  gboolean arrived = FALSE;

  self->reads++;
  if (budget <= 0
      || (self->spin_misses >= SPIN_MISSES_TO_STOP
          && self->reads % SPIN_RETRY_READS != 0))
    return;
  if (G_UNLIKELY (g_atomic_int_get (&max_spinners) < 0))
    g_atomic_int_set (&max_spinners, (gint) g_get_num_processors () - 1);
  if (g_atomic_int_add (&spinners, 1) >= g_atomic_int_get (&max_spinners))
    {
      g_atomic_int_add (&spinners, -1);
      return;
    }
  deadline = g_get_monotonic_time () + budget;
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
  while (g_get_monotonic_time () < deadline);
  g_atomic_int_add (&spinners, -1);
  self->spin_misses = arrived ? 0 : self->spin_misses + 1;
}

gboolean
redis_connection_read (RedisConnection *self, redisReply **out_reply,
                       GError **error)
{
  void *reply = NULL;

  /* A reply already read with an earlier one (a pipelined batch) needs no
   * wait; a reader error is left for redisGetReply to report. */
  if (redisReaderGetReply (self->context->reader, &reply) == REDIS_OK
      && reply != NULL)
    {
      *out_reply = reply;
      return TRUE;
    }
  spin_for_reply (self);
  /* The output buffer is empty (flushed), so this only reads. */
  if (redisGetReply (self->context, &reply) != REDIS_OK)
    return fail (self, errno, "waiting for a reply", error);
  *out_reply = reply;
  return TRUE;
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
handshake (RedisConnection *self, GError **error)
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
  if (!redis_connection_flush (self, error))
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      redisReply *reply = NULL;
      gboolean refused;

      if (!redis_connection_read (self, &reply, error))
        return FALSE;
      refused = reply->type == REDIS_REPLY_ERROR;
      if (refused)
        redis_connection_set_error (self, error, "%s failed: %.*s", names[i],
                                    (int) reply->len, reply->str);
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
 * @error: return location for a #GError
 *
 * Connects within options->connect_timeout, then sets socket_timeout for
 * every later send and read, keepalive if asked, close-on-exec (a child
 * that executes another program must not inherit the socket) and sends
 * AUTH / SELECT.
 *
 * Returns: (transfer full): the connection, or %NULL with
 * %DOGPILE_ERROR_BACKEND.
 */
RedisConnection *
redis_connection_open (const RedisEndpoint *endpoint,
                       const RedisConnectOptions *options, GError **error)
{
  RedisConnection *self;
  struct timeval connect_tv = to_timeval (options->connect_timeout);
  redisContext *c;

  c = endpoint->path != NULL
          ? redisConnectUnixWithTimeout (endpoint->path, connect_tv)
          : redisConnectWithTimeout (endpoint->host, endpoint->port,
                                     connect_tv);
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

      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "Cannot connect to %s at %s: %s%s", options->product,
                   endpoint->display, c->errstr,
                   timed_out ? " (socket_connect_timeout)" : "");
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
      || redisSetTimeout (c, to_timeval (options->socket_timeout)) != REDIS_OK
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
  if (!handshake (self, error))
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
