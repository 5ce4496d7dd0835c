/* redis-floor.c: what a blocking hiredis client gets with no cache on
 * top -- redisCommandArgv in a loop on one connection -- for the same
 * operations as `dogpile-cache bench` (SET and GET of key:<i> with
 * 100-byte values, MGET of 100 keys).  tests/redis-bench.sh prints it
 * beside the plugin's figures: the plugin cannot beat this bound, and the
 * distance to it is what the plugin and the region add.
 *
 *   redis-floor PORT [SECONDS]
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#define KEYS 1000

static double
now (void)
{
  struct timespec t;

  clock_gettime (CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec + (double) t.tv_nsec * 1e-9;
}

static char keys[KEYS][16];
static size_t key_lens[KEYS];

static int
run (redisContext *c, const char *name, int argc, const char **argv,
     size_t *argvlen, int multi, double seconds)
{
  double start = now (), elapsed;
  long calls = 0;

  do
    {
      for (int i = 0; i < 64; i++, calls++)
        {
          int k = (int) (calls % (KEYS - 100));
          redisReply *reply;

          if (multi)
            for (int j = 0; j < 100; j++)
              {
                argv[1 + j] = keys[k + j];
                argvlen[1 + j] = key_lens[k + j];
              }
          else
            {
              argv[1] = keys[k];
              argvlen[1] = key_lens[k];
            }
          reply = redisCommandArgv (c, argc, argv, argvlen);
          if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
            {
              fprintf (stderr, "redis-floor: %s failed: %s\n", name,
                       reply != NULL ? reply->str : c->errstr);
              return 1;
            }
          freeReplyObject (reply);
        }
      elapsed = now () - start;
    }
  while (elapsed < seconds);
  if (multi)
    printf ("hiredis %-14s %10.0f ops/s %9.3f us/op  %.3f us/key\n", name,
            calls / elapsed, elapsed / calls * 1e6,
            elapsed / calls * 1e6 / 100);
  else
    printf ("hiredis %-14s %10.0f ops/s %9.3f us/op\n", name, calls / elapsed,
            elapsed / calls * 1e6);
  return 0;
}

int
main (int argc, char **argv)
{
  struct timeval tv = { 5, 0 };
  redisContext *c;
  const char *cmd[101];
  size_t len[101];
  char value[100];
  double seconds = argc > 2 ? atof (argv[2]) : 1.0;

  if (argc < 2)
    {
      fprintf (stderr, "usage: redis-floor PORT [SECONDS]\n");
      return 2;
    }
  c = redisConnectWithTimeout ("127.0.0.1", atoi (argv[1]), tv);
  if (c == NULL || c->err)
    {
      fprintf (stderr, "redis-floor: %s\n", c != NULL ? c->errstr : "oom");
      return 1;
    }
  redisSetTimeout (c, tv);
  memset (value, 'x', sizeof value);
  for (int i = 0; i < KEYS; i++)
    key_lens[i] = (size_t) snprintf (keys[i], sizeof keys[i], "floor:%d", i);

  cmd[0] = "SET", len[0] = 3;
  cmd[2] = value, len[2] = sizeof value;
  if (run (c, "SET", 3, cmd, len, 0, seconds))
    return 1;
  cmd[0] = "GET", len[0] = 3;
  if (run (c, "GET", 2, cmd, len, 0, seconds))
    return 1;
  cmd[0] = "MGET", len[0] = 4;
  if (run (c, "MGET(100)", 101, cmd, len, 1, seconds))
    return 1;
  redisFree (c);
  return 0;
}
