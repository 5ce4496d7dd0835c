/* fuzz-redis-reply.c: raw RESP bytes from a server through hiredis'
 * reader with the plugin's reply builder (plugins/redis/redis-reply.c:
 * inline strings, one shared nil, array slots grown as elements arrive).
 *
 * Invariants besides not crashing, leaking or allocating beyond what
 * the bytes hold:
 *  - the bytes fed all at once or in small pieces give the same replies
 *    and the same protocol error (an array's slots grow across feeds);
 *  - every complete reply is whole: each array slot filled, each string
 *    NUL-terminated at its length;
 *  - each reply written back as RESP reads, with hiredis' own builder as
 *    with the plugin's, as the same reply.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz-common.h"

#include <hiredis/hiredis.h>

#include "redis-reply.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

typedef struct {
  GPtrArray *replies;
  int err;
  char errstr[128];
} Parsed;

static void
parsed_clear (Parsed *p, gboolean own_builder)
{
  for (guint i = 0; i < p->replies->len; i++)
    {
      if (own_builder)
        redis_reply_free (p->replies->pdata[i]);
      else
        freeReplyObject (p->replies->pdata[i]);
    }
  g_ptr_array_unref (p->replies);
}

/* The replies in @data, fed @piece bytes at a time (0: all at once), the
 * plugin's builder or (@own_builder FALSE) hiredis' own. */
static void
parse (const guint8 *data, size_t size, size_t piece, gboolean own_builder,
       Parsed *out)
{
  redisReader *reader
      = own_builder ? redisReaderCreateWithFunctions (&redis_reply_functions)
                    : redisReaderCreate ();
  size_t at = 0;

  out->replies = g_ptr_array_new ();
  out->err = 0;
  out->errstr[0] = '\0';
  fuzz_assert (reader != NULL, "no reader");
  while (at < size && out->err == 0)
    {
      size_t n = piece == 0 ? size - at : MIN (piece, size - at);

      if (redisReaderFeed (reader, (const char *) data + at, n) != REDIS_OK)
        break;
      at += n;
      for (;;)
        {
          void *reply = NULL;

          if (redisReaderGetReply (reader, &reply) != REDIS_OK)
            {
              out->err = reader->err;
              g_strlcpy (out->errstr, reader->errstr, sizeof out->errstr);
              break;
            }
          if (reply == NULL)
            break;
          g_ptr_array_add (out->replies, reply);
        }
    }
  redisReaderFree (reader);
}

static void
check_whole (const redisReply *r, int depth)
{
  fuzz_assert (depth < 16, "a reply nested deeper than hiredis allows");
  switch (r->type)
    {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      fuzz_assert (r->str != NULL && r->str[r->len] == '\0',
                   "a string reply not NUL-terminated at its length");
      break;
    case REDIS_REPLY_ARRAY:
      fuzz_assert (r->elements == 0 || r->element != NULL,
                   "an array of %zu without slots", r->elements);
      for (size_t i = 0; i < r->elements; i++)
        {
          fuzz_assert (r->element[i] != NULL, "slot %zu of %zu is empty", i,
                       r->elements);
          check_whole (r->element[i], depth + 1);
        }
      break;
    case REDIS_REPLY_INTEGER:
    case REDIS_REPLY_NIL: break;
    default: fuzz_fail ("a reply of type %d", r->type);
    }
}

static gboolean
same_reply (const redisReply *a, const redisReply *b)
{
  if (a->type != b->type)
    return FALSE;
  switch (a->type)
    {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return a->len == b->len && memcmp (a->str, b->str, a->len) == 0;
    case REDIS_REPLY_INTEGER: return a->integer == b->integer;
    case REDIS_REPLY_ARRAY:
      if (a->elements != b->elements)
        return FALSE;
      for (size_t i = 0; i < a->elements; i++)
        if (!same_reply (a->element[i], b->element[i]))
          return FALSE;
      return TRUE;
    default: return TRUE;
    }
}

static void
write_resp (GString *out, const redisReply *r)
{
  switch (r->type)
    {
    case REDIS_REPLY_STRING:
      g_string_append_printf (out, "$%zu\r\n", r->len);
      g_string_append_len (out, r->str, (gssize) r->len);
      g_string_append (out, "\r\n");
      break;
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      g_string_append_c (out, r->type == REDIS_REPLY_STATUS ? '+' : '-');
      g_string_append_len (out, r->str, (gssize) r->len);
      g_string_append (out, "\r\n");
      break;
    case REDIS_REPLY_INTEGER:
      g_string_append_printf (out, ":%lld\r\n", r->integer);
      break;
    case REDIS_REPLY_NIL: g_string_append (out, "$-1\r\n"); break;
    case REDIS_REPLY_ARRAY:
      g_string_append_printf (out, "*%zu\r\n", r->elements);
      for (size_t i = 0; i < r->elements; i++)
        write_resp (out, r->element[i]);
      break;
    default: break;
    }
}

/* @reply as RESP, read by each builder: one reply, the same. */
static void
check_written (const redisReply *reply)
{
  g_autoptr (GString) text = g_string_new (NULL);

  write_resp (text, reply);
  for (int own = 0; own < 2; own++)
    {
      Parsed again;

      parse ((const guint8 *) text->str, text->len, 0, own, &again);
      fuzz_assert (again.err == 0 && again.replies->len == 1,
                   "a reply written back reads (%s builder) as %u replies, "
                   "error '%s'",
                   own ? "the plugin's" : "hiredis'", again.replies->len,
                   again.errstr);
      fuzz_assert (same_reply (reply, again.replies->pdata[0]),
                   "a reply written back reads (%s builder) as another",
                   own ? "the plugin's" : "hiredis'");
      parsed_clear (&again, own);
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  Parsed whole, pieces;
  /* piece sizes 1 to 7 bytes, chosen by the input */
  size_t piece = size > 0 ? 1 + data[size - 1] % 7 : 1;

  parse (data, size, 0, TRUE, &whole);
  parse (data, size, piece, TRUE, &pieces);
  fuzz_assert (whole.err == pieces.err
                   && strcmp (whole.errstr, pieces.errstr) == 0,
               "fed at once: error %d '%s'; in pieces of %zu: error %d '%s'",
               whole.err, whole.errstr, piece, pieces.err, pieces.errstr);
  fuzz_assert (whole.replies->len == pieces.replies->len,
               "fed at once: %u replies; in pieces of %zu: %u",
               whole.replies->len, piece, pieces.replies->len);
  for (guint i = 0; i < whole.replies->len; i++)
    {
      check_whole (whole.replies->pdata[i], 0);
      fuzz_assert (
          same_reply (whole.replies->pdata[i], pieces.replies->pdata[i]),
          "reply %u differs when fed in pieces of %zu", i, piece);
      check_written (whole.replies->pdata[i]);
    }
  if (whole.err != 0)
    fuzz_assert (whole.errstr[0] != '\0', "a protocol error without text");
  parsed_clear (&whole, TRUE);
  parsed_clear (&pieces, TRUE);
  return 0;
}
