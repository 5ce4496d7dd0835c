/* test-stress.h: the threads of the stress programs (one per networked
 * backend), which run without Criterion so that ThreadSanitizer can
 * watch them (the `stress` suite of tools/dev/run-tests): data threads
 * writing and reading keys of their own through one backend, and lockers
 * taking one distributed lock in turn.
 *
 * A program sets `chaos` while it breaks connections on purpose; the data
 * threads then accept backend errors, never a wrong value.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <dogpile/dogpile-plugin.h>
#include <dogpile/dogpile.h>

#define THREADS 16
#define ROUNDS 400
#define LOCKERS 6
#define LOCK_ROUNDS 15

static gint failures;
static gint chaos;       /* set by the program: errors are expected */
static gint lossy_chaos; /* the chaos restarts servers: data is lost */
static gint tolerated;   /* backend errors (and losses) while chaos ran */
static gint succeeded;   /* rounds whose writes and reads all succeeded */

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

static G_GNUC_UNUSED gpointer
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
           * key's value.  A server restarted between the write and the
           * read has lost it: a miss then, never a wrong value. */
          if (ok && got[j] == NULL && g_atomic_int_get (&lossy_chaos))
            g_atomic_int_inc (&tolerated);
          else
            CHECK ((ok && got[j] != NULL && g_bytes_equal (got[j], values[j]))
                       || (!ok
                           && (got[j] == NULL
                               || g_bytes_equal (got[j], values[j]))),
                   "thread %d %s %s", w->id,
                   got[j] == NULL ? "missed" : "read a wrong value for",
                   keys[j]);
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

static G_GNUC_UNUSED gpointer
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

/* DOGPILE_TEST_ARGUMENTS ("name=value;...") with the stress settings:
 * @pool_argument (the backend's name for its pool size) = @pool_size, and
 * the distributed lock. */
static G_GNUC_UNUSED GHashTable *
stress_arguments (const char *pool_argument, const char *pool_size)
{
  GHashTable *a
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *spec = g_getenv ("DOGPILE_TEST_ARGUMENTS");
  g_auto (GStrv) pairs = NULL;

  if (spec == NULL)
    {
      fprintf (stderr, "run under the backend's server harness\n");
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
  g_hash_table_insert (a, g_strdup (pool_argument), g_strdup (pool_size));
  g_hash_table_insert (a, g_strdup ("distributed_lock"), g_strdup ("true"));
  g_hash_table_insert (a, g_strdup ("lock_sleep"), g_strdup ("0.002"));
  g_hash_table_insert (a, g_strdup ("lock_timeout"), g_strdup ("30"));
  return a;
}
