/* redis-reply.h: how replies are built from what hiredis parses.
 *
 * The connections install these redisReplyObjectFunctions (hiredis'
 * hook for custom reply objects) in their readers.  The objects are
 * ordinary redisReply structs, but a string reply carries its bytes in the
 * same allocation (hiredis' own make two), and a nil is one shared object.
 * A get_multi of 100 keys thus makes 100 allocations fewer, and every
 * reply must be freed with redis_reply_free, never freeReplyObject.  An
 * array's element slots grow as its elements arrive instead of all being
 * allocated from the count in its header: memory follows the bytes the
 * server sent, never a number it claimed.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <hiredis/hiredis.h>

#include <glib.h>

G_BEGIN_DECLS

extern redisReplyObjectFunctions redis_reply_functions;

void redis_reply_free (void *reply);

/* A reply's text as a GError message may quote it: valid UTF-8, a NUL
 * shown as U+FFFD (a server, or what poses as one, sends any bytes). */
char *redis_reply_text (const redisReply *reply);

G_END_DECLS
