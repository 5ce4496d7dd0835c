/* redis-reply.c: reply objects with inline strings (see redis-reply.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-reply.h"

#include <stdlib.h>
#include <string.h>

/* Every nil (a missing key in an MGET) is this one object. */
static redisReply shared_nil = { .type = REDIS_REPLY_NIL };

/* An array whose element slots grow as its elements arrive: the count
 * in its header is the peer's word, and "*2147483647" would otherwise
 * make 16 GB of slots out of 13 bytes.  Slots then cost at most twice the
 * bytes received (an element takes 3 or more, a slot 8). */
typedef struct {
  redisReply reply; /* first: the array is used as a redisReply */
  size_t capacity;  /* slots allocated in reply.element */
} GrowingArray;

#define FIRST_SLOTS 64

/* Puts @reply in its parent's slot, growing the slots first when needed.
 * FALSE when they cannot grow (out of memory). */
static gboolean
attach (const redisReadTask *task, redisReply *reply)
{
  GrowingArray *parent;
  size_t idx;

  if (task->parent == NULL)
    return TRUE;
  parent = task->parent->obj;
  idx = (size_t) task->idx;
  if (idx >= parent->capacity)
    {
      size_t capacity = MAX (parent->capacity * 2, idx + 1);
      redisReply **grown;

      capacity = MIN (capacity, parent->reply.elements);
      grown = realloc (parent->reply.element, capacity * sizeof *grown);
      if (grown == NULL)
        return FALSE;
      memset (grown + parent->capacity, 0,
              (capacity - parent->capacity) * sizeof *grown);
      parent->reply.element = grown;
      parent->capacity = capacity;
    }
  parent->reply.element[idx] = reply;
  return TRUE;
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
  if (!attach (task, r))
    {
      free (r);
      return NULL;
    }
  return r;
}

static void *
create_array (const redisReadTask *task, int elements)
{
  GrowingArray *a = calloc (1, sizeof *a);

  if (a == NULL)
    return NULL;
  a->reply.type = REDIS_REPLY_ARRAY;
  a->reply.elements = elements > 0 ? (size_t) elements : 0;
  a->capacity = MIN (a->reply.elements, FIRST_SLOTS);
  if (a->capacity > 0)
    {
      a->reply.element = calloc (a->capacity, sizeof (redisReply *));
      if (a->reply.element == NULL)
        {
          free (a);
          return NULL;
        }
    }
  if (!attach (task, &a->reply))
    {
      free (a->reply.element);
      free (a);
      return NULL;
    }
  return &a->reply;
}

static void *
create_integer (const redisReadTask *task, long long value)
{
  redisReply *r = calloc (1, sizeof *r);

  if (r == NULL)
    return NULL;
  r->type = REDIS_REPLY_INTEGER;
  r->integer = value;
  if (!attach (task, r))
    {
      free (r);
      return NULL;
    }
  return r;
}

static void *
create_nil (const redisReadTask *task)
{
  return attach (task, &shared_nil) ? &shared_nil : NULL;
}

void
redis_reply_free (void *reply)
{
  redisReply *r = reply;

  if (r == NULL || r == &shared_nil)
    return;
  if (r->type == REDIS_REPLY_ARRAY && r->element != NULL)
    {
      /* An array freed before its last element came (the connection
       * failed) has slots only for those that did; unfilled ones are
       * NULL. */
      size_t filled = MIN (r->elements, ((GrowingArray *) r)->capacity);

      for (size_t i = 0; i < filled; i++)
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

char *
redis_reply_text (const redisReply *reply)
{
  g_autofree char *copy = NULL;

  if (reply == NULL || reply->str == NULL)
    return g_strdup ("");
  copy = g_malloc (reply->len + 1);
  for (size_t i = 0; i < reply->len; i++)
    copy[i] = reply->str[i] != 0 ? reply->str[i] : (char) 0xff;
  copy[reply->len] = 0;
  return g_utf8_make_valid (copy, (gssize) reply->len);
}
