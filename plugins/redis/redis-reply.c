/* redis-reply.c: reply objects with inline strings (see redis-reply.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-reply.h"

#include <stdlib.h>
#include <string.h>

/* Every nil (a missing key in an MGET) is this one object. */
static redisReply shared_nil = { .type = REDIS_REPLY_NIL };

static void
attach (const redisReadTask *task, redisReply *reply)
{
  if (task->parent != NULL)
    {
      redisReply *parent = task->parent->obj;

      parent->element[task->idx] = reply;
    }
}

/* hiredis treats NULL from these as out of memory: the context gets
 * REDIS_ERR_OOM and the call fails; nothing aborts. */
static void *
create_string (const redisReadTask *task, char *str, size_t len)
{
  redisReply *r = malloc (sizeof *r + len + 1);

  if (r == NULL)
    return NULL;
  memset (r, 0, sizeof *r);
  r->type = task->type;
  r->str = (char *) (r + 1);
  r->len = len;
  memcpy (r->str, str, len);
  r->str[len] = '\0';
  attach (task, r);
  return r;
}

static void *
create_array (const redisReadTask *task, int elements)
{
  redisReply *r = calloc (1, sizeof *r);

  if (r == NULL)
    return NULL;
  r->type = REDIS_REPLY_ARRAY;
  if (elements > 0)
    {
      r->element = calloc ((size_t) elements, sizeof (redisReply *));
      if (r->element == NULL)
        {
          free (r);
          return NULL;
        }
    }
  r->elements = elements > 0 ? (size_t) elements : 0;
  attach (task, r);
  return r;
}

static void *
create_integer (const redisReadTask *task, long long value)
{
  redisReply *r = calloc (1, sizeof *r);

  if (r == NULL)
    return NULL;
  r->type = REDIS_REPLY_INTEGER;
  r->integer = value;
  attach (task, r);
  return r;
}

static void *
create_nil (const redisReadTask *task)
{
  attach (task, &shared_nil);
  return &shared_nil;
}

void
redis_reply_free (void *reply)
{
  redisReply *r = reply;

  if (r == NULL || r == &shared_nil)
    return;
  if (r->type == REDIS_REPLY_ARRAY && r->element != NULL)
    {
      for (size_t i = 0; i < r->elements; i++)
        redis_reply_free (r->element[i]);
      free (r->element);
    }
  free (r);
}

redisReplyObjectFunctions redis_reply_functions = {
  .createString = create_string,
  .createArray = create_array,
  .createInteger = create_integer,
  .createNil = create_nil,
  .freeObject = redis_reply_free,
};
