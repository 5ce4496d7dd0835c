/* redis-command.h: running commands through a router.
 *
 * A batch is a few commands that travel together on one connection, in
 * order (a GET; an MGET; MULTI, SETEX..., EXEC), routed by one key.
 * redis_execute() runs any number of batches: the batches bound for the
 * same server are sent together and their replies read together, so a
 * call costs one round trip per server.
 *
 * Time: a call -- one redis_execute() -- has one RedisDeadline
 * (redis-connection.h), started by its caller; everything it does, on
 * however many servers, waits only for what is left of it.
 *
 * Failures:
 *  - an I/O failure fails the call with DOGPILE_ERROR_BACKEND, after the
 *    router has been told (redis_router failed);
 *  - except once: when a connection taken from the pool turns out closed
 *    by the server (a restart, an idle timeout) and every batch sent on it
 *    is REDIS_BATCH_RETRY_SAFE, the batches are routed again and sent on a
 *    fresh connection.  "Retry-safe" means sending the batch twice leaves
 *    the same state as sending it once: reads, SET/SETEX/MSET of given
 *    bytes, DEL.  The lock's SET NX and its release script are not (a lost
 *    reply to a SET NX that succeeded would read as "not acquired"), and
 *    a timeout is never retried, so a call never waits twice;
 *  - error replies are left in the batch for the caller, unless the router
 *    recognises a redirect, which is followed (at most
 *    REDIS_MAX_REDIRECTS times per batch).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "redis-router.h"

G_BEGIN_DECLS

#define REDIS_MAX_REDIRECTS 16

typedef struct {
  int argc;
  const char **argv;
  const size_t *argvlen;
} RedisCommand;

typedef enum {
  REDIS_BATCH_RETRY_SAFE = 1 << 0, /* may be sent again (see above) */
  REDIS_BATCH_READ_ONLY = 1 << 1,  /* a replica may serve it */
} RedisBatchFlags;

typedef struct {
  /* in */
  const char *key; /* routes the batch; NULL: any node */
  gsize key_len;
  const RedisCommand *commands;
  guint n_commands;
  RedisBatchFlags flags;
  /* out: n_commands replies, error replies included; the caller frees
   * them with redis_batch_clear() */
  redisReply **replies;

  /* private to redis_execute() */
  RedisPool *pool; /* where the replies came from */
  guint redirects;
  gboolean asking;
  gboolean retried;
  gboolean done;
} RedisBatch;

/* Fills in @batch; @replies must have room for @n_commands. */
static inline void
redis_batch_init (RedisBatch *batch, const char *key, gsize key_len,
                  const RedisCommand *commands, guint n_commands,
                  RedisBatchFlags flags, redisReply **replies)
{
  memset (batch, 0, sizeof *batch);
  batch->key = key;
  batch->key_len = key_len;
  batch->commands = commands;
  batch->n_commands = n_commands;
  batch->flags = flags;
  batch->replies = replies;
}

gboolean redis_execute (RedisRouter *router, RedisDeadline *deadline,
                        RedisBatch *batches, gsize n, GError **error);

/* One batch on one server, past the router (topology reads). */
gboolean redis_execute_on_pool (RedisPool *pool, RedisDeadline *deadline,
                                RedisBatch *batch, GError **error);

/* Frees the replies (the slots become NULL). */
void redis_batch_clear (RedisBatch *batch);

/* DOGPILE_ERROR_BACKEND for reply @index of @batch: the server's error
 * message, or "unexpected reply" when it was not an error.  Names the
 * server and the command.  Returns FALSE. */
gboolean redis_batch_reply_error (RedisBatch *batch, guint index,
                                  GError **error);

G_END_DECLS
