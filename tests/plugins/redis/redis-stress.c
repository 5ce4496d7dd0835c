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
#include <stdio.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include <dogpile/dogpile-plugin.h>
#include <dogpile/dogpile.h>

#define THREADS 16
#define ROUNDS 400
#define LOCKERS 6
#define LOCK_ROUNDS 15

static gint failures;
static gint chaos;     /* REDIS_STRESS_CHAOS: errors are expected */
static gint tolerated; /* backend errors while chaos ran */
static gint succeeded; /* rounds whose writes and reads all succeeded */

/* Under chaos the data threads run this long at least, so that refreshes
 * and rediscoveries (at most one per 100 ms) happen many times. */
#define CHAOS_SECONDS 1.0

#define CHECK(cond, ...)                                                      \
  G_STMT_START                                                                \
  {                                                                           \
    if (!(cond))                                                              \
      {                                                                       \
        fprintf (stderr, __VA_ARGS__);                                        \
        fputc ('\n', stderr);                                                 \
        g_atomic_int_inc (&failures);                                         \
      }                                                                       \
  }                                                                           \
  G_STMT_END

/* A call that may fail with a backend error while connections are being
 * killed, and only then. */
#define CHECK_CALL(call, what)                                                \
  G_STMT_START                                                                \
  {                                                                           \
    if (!(call))                                                              \
      {                                                                       \
        if (g_atomic_int_get (&chaos)                                         \
            && g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND)) \
          g_atomic_int_inc (&tolerated);                                      \
        else                                                                  \
          CHECK (FALSE, "%s: %s", what,                                       \
                 error != NULL ? error->message : "?");                       \
      }                                                                       \
  }                                                                           \
  G_STMT_END

typedef struct {
  DogpileBackend *backend;
  int id;
} Worker;

static gpointer
data_worker (gpointer data)
{
  Worker *w = data;
  gint64 until
      = g_get_monotonic_time () + (gint64) (CHAOS_SECONDS * G_USEC_PER_SEC);

  for (int i = 0;
       i < ROUNDS
       || (g_atomic_int_get (&chaos) && g_get_monotonic_time () < until);
       i++)
    {
      char k[3][64];
      const char *keys[3];
      GBytes *values[3];
      GBytes *got[3] = { NULL, NULL, NULL };
      GError *error = NULL;
      gboolean ok;

      for (int j = 0; j < 3; j++)
        {
          g_snprintf (k[j], sizeof k[j], "stress:%d:%d:%d", (int) getpid (),
                      w->id, (i + j) % 20);
          keys[j] = k[j];
          values[j] = g_bytes_new (k[j], strlen (k[j]));
        }
      if (i % 2 == 0)
        CHECK_CALL (
            dogpile_backend_set_multi (w->backend, keys, values, 3, &error),
            "set_multi");
      else
        for (int j = 0; j < 3 && error == NULL; j++)
          CHECK_CALL (
              dogpile_backend_set (w->backend, keys[j], values[j], &error),
              "set");
      ok = error == NULL;
      g_clear_error (&error);
      CHECK_CALL (dogpile_backend_get_multi (w->backend, keys, 3, got, &error),
                  "get_multi");
      ok = ok && error == NULL;
      if (ok)
        g_atomic_int_inc (&succeeded);
      g_clear_error (&error);
      for (int j = 0; j < 3; j++)
        {
          /* Every value is its key's name: after a failed write a key may
           * be missing (deleted in an earlier round), never hold another
           * key's value. */
          CHECK ((ok && got[j] != NULL && g_bytes_equal (got[j], values[j]))
                     || (!ok
                         && (got[j] == NULL
                             || g_bytes_equal (got[j], values[j]))),
                 "thread %d read a wrong value for %s", w->id, keys[j]);
          if (got[j] != NULL)
            g_bytes_unref (got[j]);
          g_bytes_unref (values[j]);
        }
      if (i % 10 == 0)
        {
          CHECK_CALL (
              dogpile_backend_delete_multi (w->backend, keys, 3, &error),
              "delete_multi");
          g_clear_error (&error);
        }
    }
  return NULL;
}

typedef struct {
  DogpileBackend *backend;
  gint inside;
  gint overlaps;
} LockRun;

static gpointer
lock_worker (gpointer data)
{
  LockRun *run = data;

  for (int i = 0; i < LOCK_ROUNDS; i++)
    {
      DogpileMutex *m = dogpile_backend_get_mutex (run->backend, "stress");
      gboolean acquired = FALSE;
      GError *error = NULL;

      CHECK (dogpile_mutex_acquire (m, TRUE, &acquired, &error) && acquired,
             "acquire: %s", error != NULL ? error->message : "not acquired");
      g_clear_error (&error);
      if (g_atomic_int_add (&run->inside, 1) != 0)
        g_atomic_int_inc (&run->overlaps);
      g_usleep (1000);
      g_atomic_int_add (&run->inside, -1);
      CHECK (dogpile_mutex_release (m, &error), "release: %s", error->message);
      g_clear_error (&error);
      dogpile_mutex_unref (m);
    }
  return NULL;
}

/* DOGPILE_TEST_ARGUMENTS ("name=value;...") and the stress settings. */
static GHashTable *
arguments (const char *pool_size)
{
  GHashTable *a
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *spec = g_getenv ("DOGPILE_TEST_ARGUMENTS");
  g_auto (GStrv) pairs = NULL;

  if (spec == NULL)
    {
      fprintf (stderr, "run under tests/redis-servers.py\n");
      exit (2);
    }
  pairs = g_strsplit (spec, ";", -1);
  for (char **pair = pairs; *pair != NULL; pair++)
    {
      char *eq = strchr (*pair, '=');

      if (eq != NULL)
        g_hash_table_insert (a, g_strndup (*pair, (gsize) (eq - *pair)),
                             g_strdup (eq + 1));
    }
  g_hash_table_insert (a, g_strdup ("connection_pool_size"),
                       g_strdup (pool_size));
  g_hash_table_insert (a, g_strdup ("distributed_lock"), g_strdup ("true"));
  g_hash_table_insert (a, g_strdup ("lock_sleep"), g_strdup ("0.002"));
  g_hash_table_insert (a, g_strdup ("lock_timeout"), g_strdup ("30"));
  return a;
}

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
  GHashTable *a = arguments ("4");
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
