/* redis-lock.c: the distributed lock as a DogpileMutex.
 *
 * The token lives in the mutex object, not in thread-local storage: the
 * region shares one mutex per key among its threads and only the holder
 * releases it, and an async creation runner releases from another thread.
 * thread_local_lock is therefore accepted and has no effect (docs/redis.md).
 *
 * Tokens are 16 bytes from getrandom(2) in hex: a fork copies any
 * user-space generator's state, and a parent and child drawing the same
 * token could release each other's lock.  A lock acquired before a fork
 * cannot be released from the child (it is the parent's).
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-lock.h"

#include <errno.h>
#include <pthread.h>
#include <sys/random.h>

#define TOKEN_CHARS 32

typedef struct {
  RedisClient *client;
  char *name;
  gsize name_len;

  pthread_mutex_t lock; /* guards the fields below */
  gboolean held;
  char token[TOKEN_CHARS + 1];
  guint generation; /* the fork generation it was acquired in */
} RedisLock;

static gboolean
make_token (char token[TOKEN_CHARS + 1], GError **error)
{
  static const char hex[] = "0123456789abcdef";
  guint8 random[TOKEN_CHARS / 2];
  gsize got = 0;

  while (got < sizeof random)
    {
      ssize_t n = getrandom (random + got, sizeof random - got, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK,
                       "Cannot make a lock token: getrandom: %s",
                       g_strerror (saved_errno));
          return FALSE;
        }
      got += (gsize) n;
    }
  for (gsize i = 0; i < sizeof random; i++)
    {
      token[2 * i] = hex[random[i] >> 4];
      token[2 * i + 1] = hex[random[i] & 0xf];
    }
  token[TOKEN_CHARS] = '\0';
  return TRUE;
}

/* Runs one single-command batch on the lock's key; *out_reply is the
 * reply (error replies included). */
static gboolean
run (RedisLock *self, const RedisCommand *commands, guint n_commands,
     RedisBatchFlags flags, RedisBatch *batch, redisReply **replies,
     GError **error)
{
  redis_batch_init (batch, self->name, self->name_len, commands, n_commands,
                    flags, replies);
  return redis_client_execute (self->client, batch, 1, error);
}

static gboolean
lock_acquire (gpointer data, gboolean wait, gboolean *out_acquired,
              GError **error)
{
  RedisLock *self = data;
  const RedisConfig *config = self->client->config;
  char token[TOKEN_CHARS + 1];
  char px[32];
  const char *argv[6] = { "SET", self->name, token, "PX", px, "NX" };
  size_t argvlen[6] = { 3, self->name_len, TOKEN_CHARS, 2, 0, 2 };
  RedisCommand command = { 6, argv, argvlen };
  gint64 deadline = -1;

  *out_acquired = FALSE;
  if (config->lock_timeout > 0)
    argvlen[4] = (size_t) g_snprintf (
        px, sizeof px, "%" G_GINT64_FORMAT,
        (gint64) (config->lock_timeout * 1000)); /* int(), as redis-py */
  else
    {
      /* No PX: the lock never expires (lock_timeout none, given: Python's
       * default, not ours). */
      argv[3] = "NX", argvlen[3] = 2;
      command.argc = 4;
    }
  if (config->lock_blocking_timeout >= 0)
    deadline = g_get_monotonic_time ()
               + (gint64) (config->lock_blocking_timeout * G_USEC_PER_SEC);
  if (!make_token (token, error))
    return FALSE;

  for (;;)
    {
      redisReply *reply = NULL;
      RedisBatch batch;
      gint64 sleep_us = (gint64) (config->lock_sleep * G_USEC_PER_SEC);

      /* Not retry-safe: a SET NX whose reply was lost may have taken the
       * lock, and sending it again would read as "held by someone". */
      if (!run (self, &command, 1, 0, &batch, &reply, error))
        return FALSE;
      if (reply->type == REDIS_REPLY_STATUS)
        {
          redis_batch_clear (&batch);
          pthread_mutex_lock (&self->lock);
          memcpy (self->token, token, sizeof token);
          self->held = TRUE;
          self->generation = redis_fork_generation ();
          pthread_mutex_unlock (&self->lock);
          *out_acquired = TRUE;
          return TRUE;
        }
      if (reply->type != REDIS_REPLY_NIL)
        {
          redis_batch_reply_error (&batch, 0, error);
          redis_batch_clear (&batch);
          return FALSE;
        }
      redis_batch_clear (&batch);
      if (!wait)
        return TRUE;
      /* redis-py stops when the next try would be past the deadline. */
      if (deadline >= 0 && g_get_monotonic_time () + sleep_us > deadline)
        return TRUE;
      if (sleep_us > 0)
        g_usleep ((gulong) sleep_us);
    }
}

static gboolean
lock_release (gpointer data, GError **error)
{
  RedisLock *self = data;
  char token[TOKEN_CHARS + 1];
  gboolean held, forked;
  const char *eval_argv[5]
      = { "EVALSHA", REDIS_LOCK_RELEASE_SHA1, "1", self->name, token };
  size_t eval_argvlen[5] = { 7, 40, 1, self->name_len, TOKEN_CHARS };
  const char *load_argv[3] = { "SCRIPT", "LOAD", REDIS_LOCK_RELEASE_SCRIPT };
  size_t load_argvlen[3] = { 6, 4, sizeof REDIS_LOCK_RELEASE_SCRIPT - 1 };
  RedisCommand commands[2]
      = { { 3, load_argv, load_argvlen }, { 5, eval_argv, eval_argvlen } };
  redisReply *replies[2] = { NULL, NULL };
  redisReply *result;
  RedisBatch batch;

  pthread_mutex_lock (&self->lock);
  held = self->held;
  forked = held && self->generation != redis_fork_generation ();
  memcpy (token, self->token, sizeof token);
  self->held = FALSE;
  pthread_mutex_unlock (&self->lock);
  if (!held || forked)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK,
                   forked ? "Cannot release the lock '%s': it was acquired "
                            "by the parent process before a fork"
                          : "Cannot release the lock '%s': it is not held",
                   self->name);
      return FALSE;
    }

  /* EVALSHA alone; SCRIPT LOAD and EVALSHA together if the server does
   * not know the script yet. */
  if (!run (self, &commands[1], 1, 0, &batch, &replies[1], error))
    return FALSE;
  result = replies[1];
  if (result->type == REDIS_REPLY_ERROR
      && g_str_has_prefix (result->str, "NOSCRIPT"))
    {
      redis_batch_clear (&batch);
      if (!run (self, commands, 2, 0, &batch, replies, error))
        return FALSE;
      if (replies[0]->type == REDIS_REPLY_ERROR)
        {
          redis_batch_reply_error (&batch, 0, error);
          redis_batch_clear (&batch);
          return FALSE;
        }
      result = replies[1];
    }
  if (result->type != REDIS_REPLY_INTEGER)
    {
      redis_batch_reply_error (&batch, batch.n_commands - 1, error);
      redis_batch_clear (&batch);
      return FALSE;
    }
  if (result->integer != 1)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK,
                   "Cannot release the lock '%s': it is no longer owned (it "
                   "expired after lock_timeout and may be held by another "
                   "process)",
                   self->name);
      redis_batch_clear (&batch);
      return FALSE;
    }
  redis_batch_clear (&batch);
  return TRUE;
}

static gboolean
lock_locked (gpointer data, gboolean *out_locked, GError **error)
{
  RedisLock *self = data;
  const char *argv[2] = { "EXISTS", self->name };
  size_t argvlen[2] = { 6, self->name_len };
  RedisCommand command = { 2, argv, argvlen };
  redisReply *reply = NULL;
  RedisBatch batch;

  if (!run (self, &command, 1, REDIS_BATCH_RETRY_SAFE, &batch, &reply, error))
    return FALSE;
  if (reply->type != REDIS_REPLY_INTEGER)
    {
      redis_batch_reply_error (&batch, 0, error);
      redis_batch_clear (&batch);
      return FALSE;
    }
  *out_locked = reply->integer > 0;
  redis_batch_clear (&batch);
  return TRUE;
}

static void
lock_free (gpointer data)
{
  RedisLock *self = data;

  redis_client_unref (self->client);
  pthread_mutex_destroy (&self->lock);
  g_free (self->name);
  g_free (self);
}

static const DogpileMutexFuncs lock_funcs = {
  .acquire = lock_acquire,
  .release = lock_release,
  .locked = lock_locked,
};

DogpileMutex *
redis_lock_new (RedisClient *client, const char *key)
{
  RedisLock *self = g_new0 (RedisLock, 1);

  self->client = redis_client_ref (client);
  self->name = g_strconcat (client->config->lock_prefix, key, NULL);
  self->name_len = strlen (self->name);
  pthread_mutex_init (&self->lock, NULL);
  return dogpile_mutex_new (&lock_funcs, self, lock_free);
}
