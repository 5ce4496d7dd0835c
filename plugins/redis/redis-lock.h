/* redis-lock.h: the distributed lock (distributed_lock=true), with
 * redis-py's protocol so C and Python processes exclude each other
 * (spec 4.6):
 *   acquire  SET <prefix><key> <32 lowercase hex> [PX <ms>] NX, retried
 *            every lock_sleep while waiting, until lock_blocking_timeout;
 *   release  EVALSHA <compare-and-delete script> 1 <name> <token>, the
 *            script loaded with SCRIPT LOAD when the server answers
 *            NOSCRIPT;
 *   locked   EXISTS <name>: held by anyone.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "redis-client.h"

G_BEGIN_DECLS

/* redis-py's LUA_RELEASE_SCRIPT, byte for byte: its SHA1 is what both
 * sides send with EVALSHA. */
#define REDIS_LOCK_RELEASE_SCRIPT                                             \
  "\n"                                                                        \
  "        local token = redis.call('get', KEYS[1])\n"                        \
  "        if not token or token ~= ARGV[1] then\n"                           \
  "            return 0\n"                                                    \
  "        end\n"                                                             \
  "        redis.call('del', KEYS[1])\n"                                      \
  "        return 1\n"                                                        \
  "    "
#define REDIS_LOCK_RELEASE_SHA1 "c3f8721cbb97f72bc19e972846bd7aaf91901658"

/* The mutex for @key (already mangled): named lock_prefix + @key. */
DogpileMutex *redis_lock_new (RedisClient *client, const char *key);

G_END_DECLS
