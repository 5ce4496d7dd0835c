/* redis-stress.c: many threads on one redis backend -- the pool, the
 * command layer and the distributed lock -- without Criterion, so that it
 * runs under ThreadSanitizer (the `stress` suite of tools/dev/run-tests).
 * Runs under tests/redis-servers.py.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>

#include <dogpile/dogpile-plugin.h>
#include <dogpile/dogpile.h>

#define THREADS 16
#define ROUNDS 400
#define LOCKERS 6
#define LOCK_ROUNDS 15

static gint failures;

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

typedef struct {
  DogpileBackend *backend;
  int id;
} Worker;

static gpointer
data_worker (gpointer data)
{
  Worker *w = data;

  for (int i = 0; i < ROUNDS; i++)
    {
      char k[3][64];
      const char *keys[3];
      GBytes *values[3];
      GBytes *got[3] = { NULL, NULL, NULL };
      GError *error = NULL;

      for (int j = 0; j < 3; j++)
        {
          g_snprintf (k[j], sizeof k[j], "stress:%d:%d:%d", (int) getpid (),
                      w->id, (i + j) % 20);
          keys[j] = k[j];
          values[j] = g_bytes_new (k[j], strlen (k[j]));
        }
      if (i % 2 == 0)
        CHECK (dogpile_backend_set_multi (w->backend, keys, values, 3,
                                          &error),
               "set_multi: %s", error->message);
      else
        for (int j = 0; j < 3 && error == NULL; j++)
          CHECK (dogpile_backend_set (w->backend, keys[j], values[j],
                                      &error),
                 "set: %s", error->message);
      g_clear_error (&error);
      CHECK (dogpile_backend_get_multi (w->backend, keys, 3, got, &error),
             "get_multi: %s", error->message);
      g_clear_error (&error);
      for (int j = 0; j < 3; j++)
        {
          CHECK (got[j] != NULL && g_bytes_equal (got[j], values[j]),
                 "thread %d read a wrong value for %s", w->id, keys[j]);
          if (got[j] != NULL)
            g_bytes_unref (got[j]);
          g_bytes_unref (values[j]);
        }
      if (i % 10 == 0)
        {
          CHECK (dogpile_backend_delete_multi (w->backend, keys, 3, &error),
                 "delete_multi: %s", error->message);
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
      CHECK (dogpile_mutex_release (m, &error), "release: %s",
             error->message);
      g_clear_error (&error);
      dogpile_mutex_unref (m);
    }
  return NULL;
}

static GHashTable *
arguments (const char *pool_size)
{
  GHashTable *a = g_hash_table_new (g_str_hash, g_str_equal);
  const char *host = g_getenv ("REDIS_HOST");
  const char *port = g_getenv ("REDIS_PORT");

  if (host == NULL || port == NULL)
    {
      fprintf (stderr, "run under tests/redis-servers.py\n");
      exit (2);
    }
  g_hash_table_insert (a, (gpointer) "host", (gpointer) host);
  g_hash_table_insert (a, (gpointer) "port", (gpointer) port);
  g_hash_table_insert (a, (gpointer) "connection_pool_size",
                       (gpointer) pool_size);
  g_hash_table_insert (a, (gpointer) "distributed_lock", (gpointer) "true");
  g_hash_table_insert (a, (gpointer) "lock_sleep", (gpointer) "0.002");
  g_hash_table_insert (a, (gpointer) "lock_timeout", (gpointer) "30");
  return a;
}

int
main (void)
{
  GHashTable *a = arguments ("4");
  GError *error = NULL;
  DogpileBackend *backend = dogpile_backend_new ("dogpile.cache.redis", a,
                                                 &error);
  GThread *threads[THREADS];
  Worker workers[THREADS];
  LockRun lock_run = { 0 };

  if (backend == NULL)
    {
      fprintf (stderr, "redis-stress: %s\n", error->message);
      return 1;
    }
  for (int t = 0; t < THREADS; t++)
    {
      workers[t] = (Worker) { backend, t };
      threads[t] = g_thread_new ("data", data_worker, &workers[t]);
    }
  for (int t = 0; t < THREADS; t++)
    g_thread_join (threads[t]);

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
  printf ("redis-stress: %d threads x %d rounds, %d lockers x %d: ok\n",
          THREADS, ROUNDS, LOCKERS, LOCK_ROUNDS);
  return 0;
}
