/* memcached-floor.c: what a blocking libmemcached client gets with no
 * cache on top -- memcached_set, memcached_get and memcached_mget in a
 * loop on one handle -- for the same operations as `dogpile-cache bench`
 * (set and get of 100-byte values, get_multi of 100 keys).
 * memcached-bench.sh (this folder) prints it beside the plugin's figures:
 * the plugin cannot beat this bound, and the distance to it is what the
 * plugin and the region add.
 *
 *   memcached-floor PORT [SECONDS]
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmemcached/memcached.h>

#define KEYS 1000

typedef enum { OP_SET, OP_GET, OP_MGET } Op;

static double
now (void)
{
  struct timespec t;

  clock_gettime (CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec + (double) t.tv_nsec * 1e-9;
}

static char keys[KEYS][16];
static const char *key_ptrs[KEYS];
static size_t key_lens[KEYS];
static char value[100];

static memcached_return_t
one_call (memcached_st *memc, Op op, int k)
{
  memcached_return_t rc = MEMCACHED_SUCCESS;

  switch (op)
    {
    case OP_SET:
      return memcached_set (memc, keys[k], key_lens[k], value, sizeof value, 0,
                            0);
    case OP_GET:
      {
        size_t len;
        uint32_t flags;

        free (memcached_get (memc, keys[k], key_lens[k], &len, &flags, &rc));
        return rc;
      }
    case OP_MGET:
    default:
      {
        memcached_result_st result;
        int found = 0;

        rc = memcached_mget (memc, key_ptrs + k, key_lens + k, 100);
        if (!memcached_success (rc))
          return rc;
        memcached_result_create (memc, &result);
        while (memcached_fetch_result (memc, &result, &rc) != NULL)
          found++;
        memcached_result_free (&result);
        return found == 100 ? MEMCACHED_SUCCESS : MEMCACHED_NOTFOUND;
      }
    }
}

static int
run (memcached_st *memc, const char *name, Op op, double seconds)
{
  double start = now (), elapsed;
  long calls = 0;

  do
    {
      for (int i = 0; i < 64; i++, calls++)
        {
          memcached_return_t rc
              = one_call (memc, op, (int) (calls % (KEYS - 100)));

          if (!memcached_success (rc))
            {
              fprintf (stderr, "memcached-floor: %s failed: %s\n", name,
                       memcached_strerror (memc, rc));
              return 1;
            }
        }
      elapsed = now () - start;
    }
  while (elapsed < seconds);
  if (op == OP_MGET)
    printf ("libmemcached %-14s %10.0f ops/s %9.3f us/op  %.3f us/key\n", name,
            calls / elapsed, elapsed / calls * 1e6,
            elapsed / calls * 1e6 / 100);
  else
    printf ("libmemcached %-14s %10.0f ops/s %9.3f us/op\n", name,
            calls / elapsed, elapsed / calls * 1e6);
  return 0;
}

int
main (int argc, char **argv)
{
  double seconds = argc > 2 ? atof (argv[2]) : 1.0;
  memcached_st *memc;

  if (argc < 2)
    {
      fprintf (stderr, "usage: memcached-floor PORT [SECONDS]\n");
      return 2;
    }
  memc = memcached_create (NULL);
  if (memc == NULL
      || !memcached_success (memcached_server_add (
          memc, "127.0.0.1", (in_port_t) atoi (argv[1]))))
    {
      fprintf (stderr, "memcached-floor: cannot set up libmemcached\n");
      return 1;
    }
  memset (value, 'x', sizeof value);
  for (int i = 0; i < KEYS; i++)
    {
      key_lens[i] = (size_t) snprintf (keys[i], sizeof keys[i], "floor:%d", i);
      key_ptrs[i] = keys[i];
    }
  /* Every key the get_multi windows reach exists: it counts hits. */
  for (int i = 0; i < KEYS; i++)
    if (!memcached_success (one_call (memc, OP_SET, i)))
      {
        fprintf (stderr, "memcached-floor: cannot set %s\n", keys[i]);
        return 1;
      }
  if (run (memc, "set", OP_SET, seconds) || run (memc, "get", OP_GET, seconds)
      || run (memc, "get_multi(100)", OP_MGET, seconds))
    return 1;
  memcached_free (memc);
  return 0;
}
