/* redis-command.c: batches to servers, replies back, retries and
 * redirects (the policy is described in redis-command.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-command.h"

/* Most calls carry one batch, or one per server; more go on the heap. */
#define STACK_GROUP 16

void
redis_batch_clear (RedisBatch *batch)
{
  for (guint i = 0; i < batch->n_commands; i++)
    g_clear_pointer (&batch->replies[i], redis_reply_free);
}

gboolean
redis_batch_reply_error (RedisBatch *batch, guint index, GError **error)
{
  const RedisCommand *command = &batch->commands[index];
  const redisReply *reply = batch->replies[index];
  const RedisConnectOptions *options = redis_pool_get_options (batch->pool);
  const char *server = redis_pool_get_endpoint (batch->pool)->display;

  if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
    {
      g_autofree char *text = redis_reply_text (reply);

      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "%s at %s: %.*s failed: %s", options->product, server,
                   (int) command->argvlen[0], command->argv[0], text);
    }
  else
    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                 "%s at %s: unexpected reply to %.*s (reply type %d)",
                 options->product, server, (int) command->argvlen[0],
                 command->argv[0], reply != NULL ? reply->type : -1);
  return FALSE;
}

static const char asking_name[] = "ASKING";
static const size_t asking_len = sizeof asking_name - 1;

static gboolean
is_command (const RedisCommand *command, const char *name, size_t len)
{
  return command->argvlen[0] == len
         && g_ascii_strncasecmp (command->argv[0], name, len) == 0;
}

/* Whether command @i of a batch sent after an ASK redirect needs an ASKING
 * of its own.  The server forgets ASKING after one command, except inside
 * a MULTI block, where it lasts until EXEC: so one before each command
 * outside a block (the lock's SCRIPT LOAD and EVALSHA both need it), one
 * before a block's MULTI and none inside.  *in_multi follows the blocks.
 * Only asked for batches that were redirected with ASK. */
static gboolean
asking_before (const RedisBatch *batch, guint i, gboolean *in_multi)
{
  const RedisCommand *command = &batch->commands[i];
  gboolean needed = !*in_multi;

  if (is_command (command, "MULTI", 5))
    *in_multi = TRUE;
  else if (is_command (command, "EXEC", 4)
           || is_command (command, "DISCARD", 7))
    *in_multi = FALSE;
  return needed;
}

/* Sends every command of @group in one write and reads all the replies. */
static gboolean
send_and_read (RedisConnection *connection, RedisBatch **group, guint n,
               RedisDeadline *deadline, GError **error)
{
  const char *asking_argv[1] = { asking_name };

  for (guint b = 0; b < n; b++)
    {
      RedisBatch *batch = group[b];
      gboolean in_multi = FALSE;

      for (guint i = 0; i < batch->n_commands; i++)
        {
          if (batch->asking && asking_before (batch, i, &in_multi)
              && !redis_connection_append (connection, 1, asking_argv,
                                           &asking_len, error))
            return FALSE;
          if (!redis_connection_append (connection, batch->commands[i].argc,
                                        batch->commands[i].argv,
                                        batch->commands[i].argvlen, error))
            return FALSE;
        }
    }
  if (!redis_connection_flush (connection, deadline, error))
    return FALSE;
  for (guint b = 0; b < n; b++)
    {
      RedisBatch *batch = group[b];
      gboolean in_multi = FALSE;

      for (guint i = 0; i < batch->n_commands; i++)
        {
          if (batch->asking && asking_before (batch, i, &in_multi))
            {
              redisReply *ignored = NULL;

              if (!redis_connection_read (connection, deadline, &ignored,
                                          error))
                return FALSE;
              redis_reply_free (ignored);
            }
          if (!redis_connection_read (connection, deadline, &batch->replies[i],
                                      error))
            return FALSE;
        }
    }
  return TRUE;
}

/* Runs @group on one connection of @pool.  On failure, *out_failure says
 * how it failed (NONE: the call's time ran out before anything was sent)
 * and *out_reused whether the connection had worked before (a connection
 * that never worked is not worth a retry). */
static gboolean
run_group (RedisPool *pool, RedisBatch **group, guint n,
           RedisDeadline *deadline, RedisFailure *out_failure,
           gboolean *out_reused, GError **error)
{
  RedisConnection *connection = redis_pool_acquire (pool, deadline, error);
  gboolean retry_safe = TRUE;
  gboolean ok;

  for (guint b = 0; b < n; b++)
    retry_safe = retry_safe && (group[b]->flags & REDIS_BATCH_RETRY_SAFE);
  /* What must not be sent twice is not sent on a connection the server
   * closed while it was idle (it would fail, and could not be retried):
   * those are dropped, with the pool's other idle ones, before anything
   * is sent.  Bounded: a pool of n holds at most n such connections. */
  while (!retry_safe && connection != NULL && connection->round_trips > 0
         && !redis_connection_is_open (connection))
    {
      redis_pool_release (pool, connection);
      redis_pool_drop_idle (pool);
      connection = redis_pool_acquire (pool, deadline, error);
    }
  *out_reused = FALSE;
  if (connection == NULL)
    {
      *out_failure = REDIS_FAILURE_CONNECT;
      return FALSE;
    }
  *out_reused = connection->round_trips > 0;
  if (redis_deadline_expired (deadline))
    {
      /* No time left to send anything (a topology read, another server's
       * batches took it): the connection is as good as it was, and the
       * server did nothing wrong (REDIS_FAILURE_NONE: no router hears). */
      g_autofree char *budget = redis_deadline_describe (deadline);

      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "%s at %s: timed out after %s before sending (the call's "
                   "deadline)",
                   redis_pool_get_options (pool)->product,
                   redis_pool_get_endpoint (pool)->display, budget);
      redis_pool_release (pool, connection);
      *out_failure = REDIS_FAILURE_NONE;
      return FALSE;
    }
  ok = send_and_read (connection, group, n, deadline, error);
  if (ok)
    connection->round_trips++;
  *out_failure = connection->failure;
  redis_pool_release (pool, connection);
  return ok;
}

/* After the batch's replies are in: TRUE if one of them is a redirect the
 * router follows; the batch is then routed again. */
static gboolean
follow_redirect (RedisRouter *router, RedisBatch *batch,
                 RedisDeadline *deadline, GError **error)
{
  if (router->funcs->redirect == NULL)
    return FALSE;
  for (guint i = 0; i < batch->n_commands; i++)
    {
      const redisReply *reply = batch->replies[i];
      RedisPool *target;
      gboolean asking = FALSE;

      if (reply == NULL || reply->type != REDIS_REPLY_ERROR)
        continue;
      target = router->funcs->redirect (router, batch->pool, reply, &asking,
                                        deadline, error);
      if (target == NULL)
        continue;
      if (++batch->redirects > REDIS_MAX_REDIRECTS)
        {
          const RedisConnectOptions *options = redis_pool_get_options (target);
          g_autofree char *text = redis_reply_text (reply);

          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                       "%s: more than %d redirections for %.*s, the last "
                       "from %s: %s; the topology keeps changing",
                       options->product, REDIS_MAX_REDIRECTS,
                       (int) batch->commands[0].argvlen[0],
                       batch->commands[0].argv[0],
                       redis_pool_get_endpoint (batch->pool)->display, text);
          return FALSE;
        }
      redis_batch_clear (batch);
      /* The same server again means "try again" (a TRYAGAIN): as before,
       * with ASKING if the batch was sent with it. */
      batch->asking = asking || (target == batch->pool && batch->asking);
      batch->pool = target;
      return TRUE;
    }
  return FALSE;
}

static gboolean
route (RedisRouter *router, RedisBatch *batch, RedisDeadline *deadline,
       GError **error)
{
  RedisRouteFlags flags = (batch->flags & REDIS_BATCH_READ_ONLY)
                              ? REDIS_ROUTE_READ_ONLY
                              : REDIS_ROUTE_WRITE;

  batch->pool = router->funcs->route (router, batch->key, batch->key_len,
                                      flags, deadline, error);
  return batch->pool != NULL;
}

static void
clear_all (RedisBatch *batches, gsize n)
{
  for (gsize i = 0; i < n; i++)
    redis_batch_clear (&batches[i]);
}

/**
 * redis_execute:
 * @router: where the batches go
 * @deadline: the call's: it ends everything this call does
 * @batches: the batches; their replies are filled in
 * @n: how many
 * @error: return location for a #GError
 *
 * Returns: %TRUE when every batch has its replies (some may be error
 * replies); %FALSE with %DOGPILE_ERROR_BACKEND, and no replies kept.
 */
gboolean
redis_execute (RedisRouter *router, RedisDeadline *deadline,
               RedisBatch *batches, gsize n, GError **error)
{
  RedisBatch *stack_group[STACK_GROUP];
  g_autofree RedisBatch **heap_group = NULL;
  RedisBatch **group = stack_group;
  gsize remaining = n;

  if (n > STACK_GROUP)
    group = heap_group = g_new (RedisBatch *, n);
  for (gsize i = 0; i < n; i++)
    {
      batches[i].done = FALSE;
      batches[i].retried = FALSE;
      batches[i].redirects = 0;
      batches[i].asking = FALSE;
      if (!route (router, &batches[i], deadline, error))
        return FALSE;
    }

  while (remaining > 0)
    {
      g_autoptr (GError) local_error = NULL;
      RedisPool *pool = NULL;
      RedisFailure failure;
      gboolean reused, retry;
      guint n_group = 0;

      /* The next server, and every pending batch bound for it. */
      for (gsize i = 0; i < n; i++)
        {
          if (batches[i].done)
            continue;
          if (pool == NULL)
            pool = batches[i].pool;
          if (batches[i].pool == pool)
            group[n_group++] = &batches[i];
        }

      if (run_group (pool, group, n_group, deadline, &failure, &reused,
                     &local_error))
        {
          for (guint b = 0; b < n_group; b++)
            {
              if (follow_redirect (router, group[b], deadline, &local_error))
                continue;
              if (local_error != NULL)
                {
                  clear_all (batches, n);
                  g_propagate_error (error, g_steal_pointer (&local_error));
                  return FALSE;
                }
              group[b]->done = TRUE;
              remaining--;
            }
          continue;
        }

      for (guint b = 0; b < n_group; b++)
        redis_batch_clear (group[b]);
      if (router->funcs->failed != NULL && failure != REDIS_FAILURE_NONE)
        router->funcs->failed (router, pool, failure, deadline);
      retry = reused && failure == REDIS_FAILURE_CLOSED;
      for (guint b = 0; b < n_group && retry; b++)
        retry
            = (group[b]->flags & REDIS_BATCH_RETRY_SAFE) && !group[b]->retried;
      if (!retry)
        {
          clear_all (batches, n);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_debug ("Retrying on a new connection: %s", local_error->message);
      for (guint b = 0; b < n_group; b++)
        {
          group[b]->retried = TRUE;
          if (!route (router, group[b], deadline, error))
            {
              clear_all (batches, n);
              return FALSE;
            }
        }
    }
  return TRUE;
}

/**
 * redis_execute_on_pool:
 * @pool: the server
 * @deadline: the call's (or a share of it)
 * @batch: one batch; its replies are filled in
 * @error: return location for a #GError
 *
 * Runs @batch on @pool, past any router: what routers use to read their
 * topology (CLUSTER SLOTS, ROLE).  No redirect is followed and no router
 * hears of a failure; a retry-safe batch is sent again once when its
 * connection turns out closed (also a new one, unlike redis_execute()).
 *
 * Returns: %TRUE when the batch has its replies (error replies included);
 * %FALSE with %DOGPILE_ERROR_BACKEND, and no replies kept.
 */
gboolean
redis_execute_on_pool (RedisPool *pool, RedisDeadline *deadline,
                       RedisBatch *batch, GError **error)
{
  RedisBatch *group[1] = { batch };

  batch->pool = pool;
  batch->asking = FALSE;
  for (gboolean retried = FALSE;; retried = TRUE)
    {
      g_autoptr (GError) local_error = NULL;
      RedisFailure failure;
      gboolean reused;

      if (run_group (pool, group, 1, deadline, &failure, &reused,
                     &local_error))
        return TRUE;
      redis_batch_clear (batch);
      if (failure == REDIS_FAILURE_CLOSED)
        redis_pool_drop_idle (pool);
      /* Topology reads are cheap and idempotent: a connection closed
       * under them, even a new one, is worth one more try. */
      if (retried || failure != REDIS_FAILURE_CLOSED
          || !(batch->flags & REDIS_BATCH_RETRY_SAFE))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
}
