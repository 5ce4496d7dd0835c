/* redis-connection.h: one connection to one server, and a call's deadline.
 *
 * A thin layer over a blocking hiredis 0.14 context: connect, optional
 * keepalive, AUTH and SELECT; commands are appended to the context's
 * output buffer (binary-safe, lengths everywhere), sent together and their
 * replies read together, so a batch of commands costs one round trip.
 * Replies are redis-reply.h's objects.  Failures become
 * DOGPILE_ERROR_BACKEND naming the server and carrying hiredis' errstr.  A
 * connection that failed once is dead: its owner frees it and connects
 * again.
 *
 * Time: every function that may wait takes the call's RedisDeadline and
 * waits only for what is left of it (a poll() for the time left before
 * each send or read), never for a fixed timeout per system call: a server
 * trickling its reply, or reading a big command slowly, gains nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <hiredis/hiredis.h>

#include "redis-config.h"
#include "redis-reply.h"

G_BEGIN_DECLS

/* Why a connection stopped working; the retry policy depends on it. */
typedef enum {
  REDIS_FAILURE_NONE,
  REDIS_FAILURE_CONNECT, /* connecting or the AUTH/SELECT handshake */
  REDIS_FAILURE_TIMEOUT, /* the call's deadline passed (state unknown) */
  REDIS_FAILURE_CLOSED,  /* the server closed or reset the connection */
  REDIS_FAILURE_OTHER,   /* protocol error, out of memory, ... */
} RedisFailure;

/* What is left of one call's time (docs/redis.md, "Timeouts").  A call
 * -- one backend operation, whatever it takes: waiting for a pooled
 * connection, connecting, AUTH/SELECT, sending, every reply in full,
 * retries, redirects, topology reads -- may spend at most connect_timeout
 * connecting (all its connects together) and at most socket_timeout on
 * everything else, so it returns within connect_timeout + socket_timeout
 * of being made.  The socket_timeout part ends at `end`, which the time
 * spent connecting moves later (connecting does not eat into it). */
typedef struct {
  gint64 end;            /* monotonic µs: socket_timeout is spent then */
  gint64 connect_left;   /* µs of connecting left */
  gint64 connect_spent;  /* µs spent connecting */
  double socket_timeout; /* the call's budgets, for messages */
  double connect_timeout;
  double share; /* > 0: this is a share of a call's time (seconds) */
} RedisDeadline;

/* A call's deadline, starting now. */
void redis_deadline_start (RedisDeadline *self,
                           const RedisConnectOptions *options);

/* µs of the socket_timeout part left; <= 0 once it is spent. */
gint64 redis_deadline_left (const RedisDeadline *self);

static inline gboolean
redis_deadline_expired (const RedisDeadline *self)
{
  return redis_deadline_left (self) <= 0;
}

/* For one of @ways steps that may each fail by timing out (the servers a
 * topology read asks in turn): *out gets 1/@ways of what is left of both
 * budgets, so a silent server leaves time for the next. */
void redis_deadline_share (const RedisDeadline *call, guint ways,
                           RedisDeadline *out);

/* Charges @call with the connecting done under its share @share. */
void redis_deadline_merge (RedisDeadline *call, const RedisDeadline *share);

/* Which budget a timeout ran out of, for messages: "1 s (socket_timeout)"
 * or "0.25 s (a share of the call's socket_timeout of 1 s)". */
char *redis_deadline_describe (const RedisDeadline *self);

/* The monotonic µs at which the socket_timeout part ends: what a wait on
 * a condition (a pooled connection, another thread's refresh) waits
 * until. */
static inline gint64
redis_deadline_end (const RedisDeadline *self)
{
  return self->end;
}

typedef struct RedisConnection RedisConnection;

struct RedisConnection {
  redisContext *context;
  RedisEndpoint endpoint;             /* a copy: messages name it */
  const RedisConnectOptions *options; /* borrowed from the config */
  RedisFailure failure;
  guint64 round_trips; /* completed; 0 means just opened */
  guint spin_misses;   /* spins in a row that ended without a reply */
  guint reads;

  /* owned by the pool that made it */
  guint pool_slot;
  guint pool_epoch;
};

RedisConnection *redis_connection_open (const RedisEndpoint *endpoint,
                                        const RedisConnectOptions *options,
                                        RedisDeadline *deadline,
                                        GError **error);

/* Closes the socket without sending anything (no QUIT): also what a forked
 * child does with its parent's connections. */
void redis_connection_free (RedisConnection *self);

/* In a forked child, for a connection a thread of the parent was using at
 * the fork: closes the child's copy of its socket and leaves its memory
 * alone (it may be halfway through a change).  Leaks it, on purpose. */
void redis_connection_abandon (RedisConnection *self);

gboolean redis_connection_append (RedisConnection *self, int argc,
                                  const char **argv, const size_t *argvlen,
                                  GError **error);
gboolean redis_connection_flush (RedisConnection *self,
                                 RedisDeadline *deadline, GError **error);
gboolean redis_connection_read (RedisConnection *self, RedisDeadline *deadline,
                                redisReply **out_reply, GError **error);

/* Called by the pools' fork handler in a child process. */
void redis_connection_after_fork_in_child (void);

/* Prefixes "Redis at host:port: " style context to a message. */
void redis_connection_set_error (RedisConnection *self, GError **error,
                                 const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Whether the server has not closed this idle connection (one peek). */
gboolean redis_connection_is_open (RedisConnection *self);

static inline gboolean
redis_connection_is_broken (const RedisConnection *self)
{
  return self->failure != REDIS_FAILURE_NONE;
}

G_END_DECLS
