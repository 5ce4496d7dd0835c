/* redis-stress.c: many threads on one redis backend -- the pool, the
 * command layer, the routers and the distributed lock -- without
 * Criterion, so that it runs under ThreadSanitizer (the `stress` suite of
 * tools/dev/run-tests).  Runs under tests/redis-servers.py, on any
 * topology: the backend is REDIS_TEST_BACKEND (default
 * dogpile.cache.redis) with the harness's DOGPILE_TEST_ARGUMENTS.
 *
 * With REDIS_STRESS_CHAOS=1 a thread keeps closing every client
 * connection of every server (CLIENT KILL) while the data threads run, so
 * that failures, retries, cluster map refreshes and sentinel
 * rediscoveries race with routing; the data threads then accept backend
 * errors, never a wrong value.  The data threads also start together on a
 * backend nobody used yet: they race for the first slot map or master.
 *
 * SPDX-License-Identifier: MIT
 */
#include <hiredis/hiredis.h>

#include "test-stress.h"

/* Every server's port: the cluster's masters, or REDIS_PORT (and the
 * replica's). */
static GArray *
server_ports (void)
{
  GArray *ports = g_array_new (FALSE, FALSE, sizeof (int));
  const char *names[]
      = { "REDIS_CLUSTER_PORTS", "REDIS_PORT", "REDIS_REPLICA_PORT" };

  for (gsize n = 0; n < G_N_ELEMENTS (names); n++)
    {
      g_auto (GStrv) items = g_strsplit (
          g_getenv (names[n]) != NULL ? g_getenv (names[n]) : "", ",", -1);

      for (char **item = items; *item != NULL; item++)
        {
          int port = atoi (*item);

          if (port > 0)
            g_array_append_val (ports, port);
        }
    }
  return ports;
}

static gpointer
chaos_monkey (gpointer data)
{
  gint *stop = data;
  g_autoptr (GArray) ports = server_ports ();
  struct timeval tv = { 2, 0 };

  while (!g_atomic_int_get (stop))
    {
      for (guint i = 0; i < ports->len; i++)
        {
          redisContext *c = redisConnectWithTimeout (
              "127.0.0.1", g_array_index (ports, int, i), tv);
          redisReply *reply;

          if (c == NULL || c->err)
            {
              redisFree (c);
              continue;
            }
          redisSetTimeout (c, tv);
          reply = redisCommand (c, "CLIENT KILL TYPE normal SKIPME yes");
          if (reply != NULL)
            freeReplyObject (reply);
          redisFree (c);
        }
      g_usleep (5000);
    }
  return NULL;
}

int
main (void)
{
  GHashTable *a = stress_arguments ("connection_pool_size", "4");
  const char *name = g_getenv ("REDIS_TEST_BACKEND");
  GError *error = NULL;
  DogpileBackend *backend = dogpile_backend_new (
      name != NULL ? name : "dogpile.cache.redis", a, &error);
  GThread *threads[THREADS];
  GThread *monkey = NULL;
  Worker workers[THREADS];
  LockRun lock_run = { 0 };
  gint stop_chaos = 0;

  if (backend == NULL)
    {
      fprintf (stderr, "redis-stress: %s\n", error->message);
      return 1;
    }
  if (g_strcmp0 (g_getenv ("REDIS_STRESS_CHAOS"), "1") == 0)
    {
      g_atomic_int_set (&chaos, 1);
      monkey = g_thread_new ("chaos", chaos_monkey, &stop_chaos);
    }
  for (int t = 0; t < THREADS; t++)
    {
      workers[t] = (Worker){ backend, t };
      threads[t] = g_thread_new ("data", data_worker, &workers[t]);
    }
  for (int t = 0; t < THREADS; t++)
    g_thread_join (threads[t]);
  if (monkey != NULL)
    {
      g_atomic_int_set (&stop_chaos, 1);
      g_thread_join (monkey);
      g_atomic_int_set (&chaos, 0);
      /* Most rounds get through: failures are retried, and refreshes
       * happen again after each failed one. */
      CHECK (succeeded > THREADS * ROUNDS / 2,
             "only %d rounds of %d threads succeeded under CLIENT KILL",
             succeeded, THREADS);
      /* A failed refresh is not run again for 100 ms: its error is what
       * callers get meanwhile.  The lock phase starts after that. */
      g_usleep (150000);
    }

  lock_run.backend = backend;
  for (int t = 0; t < LOCKERS; t++)
    threads[t] = g_thread_new ("lock", lock_worker, &lock_run);
  for (int t = 0; t < LOCKERS; t++)
    g_thread_join (threads[t]);
  CHECK (lock_run.overlaps == 0, "%d overlapping lock holders",
         lock_run.overlaps);

  dogpile_backend_unref (backend);
  g_hash_table_unref (a);
  if (failures > 0)
    {
      fprintf (stderr, "redis-stress: %d failures\n", failures);
      return 1;
    }
  printf ("redis-stress: %s, %d threads x %d rounds%s (%d rounds "
          "succeeded, %d backend errors while connections were killed), %d "
          "lockers x %d: ok\n",
          name != NULL ? name : "dogpile.cache.redis", THREADS, ROUNDS,
          monkey != NULL ? " under CLIENT KILL" : "", succeeded, tolerated,
          LOCKERS, LOCK_ROUNDS);
  return 0;
}
