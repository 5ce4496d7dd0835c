/* redis-connection.h: one connection to one server.
 *
 * A thin layer over a blocking hiredis 0.14 context: connect with
 * socket_connect_timeout, then socket_timeout on every send and read,
 * optional keepalive, AUTH and SELECT; commands are appended to the
 * context's output buffer (binary-safe, lengths everywhere), sent together
 * and their replies read with redisGetReply, so a batch of commands costs
 * one round trip.  Replies are redis-reply.h's objects.  Failures become
 * DOGPILE_ERROR_BACKEND naming the server and carrying hiredis' errstr.  A
 * connection that failed once is dead: its owner frees it and connects again.
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
  REDIS_FAILURE_TIMEOUT, /* nothing within socket_timeout */
  REDIS_FAILURE_CLOSED,  /* the server closed or reset the connection */
  REDIS_FAILURE_OTHER,   /* protocol error, out of memory, ... */
} RedisFailure;

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
gboolean redis_connection_flush (RedisConnection *self, GError **error);
gboolean redis_connection_read (RedisConnection *self, redisReply **out_reply,
                                GError **error);

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
