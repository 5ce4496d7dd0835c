/* stress-threads.c: the lock, the name registry and the memory store under
 * many threads, as a plain program so it can run under ThreadSanitizer
 * (Criterion's sandbox cannot: Snaipe/Criterion#274).  It also runs in the
 * normal suite, where it checks the same outcomes without TSan.
 *
 * Usage: stress-threads [SCENARIO...]; exit status 0 when every scenario
 * passed.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dogpile/dogpile.h>
#include <stdio.h>
#include <stdlib.h>

static int failures;

#define CHECK(cond, ...)                                                      \
  G_STMT_START                                                                \
  {                                                                           \
    if (!(cond))                                                              \
      {                                                                       \
        fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                 \
        fprintf (stderr, __VA_ARGS__);                                        \
        fprintf (stderr, "\n");                                               \
        g_atomic_int_inc (&failures);                                         \
      }                                                                       \
  }                                                                           \
  G_STMT_END

static DogpileRegion *
region_for (const char *backend, double expiration)
{
  g_autoptr (GError) error = NULL;
  DogpileRegion *region = dogpile_region_new ("stress");

  if (!dogpile_region_configure (region, backend, expiration, NULL, 0, &error))
    {
      fprintf (stderr, "configure %s: %s\n", backend, error->message);
      exit (2);
    }
  return region;
}

typedef struct {
  gint calls;
  gint inside;
  gint overlaps;
  gulong sleep_us;
} Creator;

static GBytes *
creator (const char *key, gpointer data, GError **error)
{
  Creator *c = data;
  int n = g_atomic_int_add (&c->calls, 1) + 1;
  char text[32];

  if (g_atomic_int_add (&c->inside, 1) != 0)
    g_atomic_int_inc (&c->overlaps);
  g_usleep (c->sleep_us);
  g_atomic_int_add (&c->inside, -1);
  g_snprintf (text, sizeof text, "v%d", n);
  return g_bytes_new (text, strlen (text));
}

typedef struct {
  DogpileRegion *region;
  Creator *creator;
  gint *go;
  char result[32];
  gboolean ok;
} Caller;

static gpointer
call_once (gpointer data)
{
  Caller *c = data;
  g_autoptr (GBytes) value = NULL;

  while (!g_atomic_int_get (c->go))
    g_thread_yield ();
  c->ok = dogpile_region_get_or_create (c->region, "hot", creator, c->creator,
                                        &value, NULL);
  if (c->ok)
    g_snprintf (c->result, sizeof c->result, "%.*s",
                (int) g_bytes_get_size (value),
                (const char *) g_bytes_get_data (value, NULL));
  return NULL;
}

static void
stampede (DogpileRegion *region, Creator *creator, int n, Caller *callers)
{
  g_autofree GThread **threads = g_new (GThread *, (gsize) n);
  gint go = 0;

  for (int i = 0; i < n; i++)
    {
      callers[i] = (Caller){ region, creator, &go, "", FALSE };
      threads[i] = g_thread_new ("caller", call_once, &callers[i]);
    }
  g_atomic_int_set (&go, 1);
  for (int i = 0; i < n; i++)
    g_thread_join (threads[i]);
}

static void
scenario_stampede (void)
{
  g_autoptr (DogpileRegion) region = region_for ("dogpile.cache.memory", 0.05);
  Creator c = { .sleep_us = 100000 };
  Caller callers[64];
  int fresh = 0;

  stampede (region, &c, 64, callers);
  CHECK (c.calls == 1, "no value: %d creator calls", c.calls);
  for (int i = 0; i < 64; i++)
    CHECK (callers[i].ok && strcmp (callers[i].result, "v1") == 0,
           "caller %d got %s", i, callers[i].result);

  g_usleep (100000); /* expired now */
  stampede (region, &c, 64, callers);
  CHECK (c.calls == 2, "expired: %d regenerations", c.calls - 1);
  for (int i = 0; i < 64; i++)
    fresh += strcmp (callers[i].result, "v2") == 0;
  CHECK (fresh == 1, "%d callers got the new value", fresh);
  CHECK (c.overlaps == 0, "creators overlapped");
}

typedef struct {
  DogpileRegion *region;
  gint creations;
  gint in_progress[16];
  gint overlaps;
  guint seed;
} Multi;

static gboolean
multi_creator (const char *const *keys, gsize n, GBytes **out, gpointer data,
               GError **error)
{
  Multi *m = data;

  for (gsize i = 0; i < n; i++)
    if (g_atomic_int_add (&m->in_progress[atoi (keys[i] + 1)], 1) != 0)
      g_atomic_int_inc (&m->overlaps);
  g_usleep (2000);
  for (gsize i = 0; i < n; i++)
    {
      g_atomic_int_add (&m->in_progress[atoi (keys[i] + 1)], -1);
      g_atomic_int_inc (&m->creations);
      out[i] = g_bytes_new (keys[i], strlen (keys[i]));
    }
  return TRUE;
}

static gpointer
multi_worker (gpointer data)
{
  Multi *m = data;
  GRand *rand = g_rand_new_with_seed (g_atomic_int_add (&m->seed, 1));
  static const char *names[]
      = { "k0", "k1", "k2",  "k3",  "k4",  "k5",  "k6",  "k7",
          "k8", "k9", "k10", "k11", "k12", "k13", "k14", "k15" };

  for (int round = 0; round < 40; round++)
    {
      const char *keys[6];
      GBytes *got[6];
      int n = g_rand_int_range (rand, 1, 7);

      for (int i = 0; i < n; i++)
        keys[i] = names[g_rand_int_range (rand, 0, 16)];
      if (!dogpile_region_get_or_create_multi (
              m->region, keys, (gsize) n, multi_creator, m,
              DOGPILE_EXPIRATION_DEFAULT, NULL, NULL, got, NULL))
        {
          CHECK (FALSE, "get_or_create_multi failed");
          continue;
        }
      for (int i = 0; i < n; i++)
        {
          CHECK (g_bytes_get_size (got[i]) == strlen (keys[i])
                     && memcmp (g_bytes_get_data (got[i], NULL), keys[i],
                                strlen (keys[i]))
                            == 0,
                 "wrong value for %s", keys[i]);
          g_bytes_unref (got[i]);
        }
      if (round % 10 == 9)
        dogpile_region_invalidate (m->region, TRUE);
    }
  g_rand_free (rand);
  return NULL;
}

static void
scenario_multi (void)
{
  Multi m = { region_for ("dogpile.cache.memory", 0.01), 0, { 0 }, 0, 1 };
  GThread *threads[8];

  for (int i = 0; i < 8; i++)
    threads[i] = g_thread_new ("multi", multi_worker, &m);
  for (int i = 0; i < 8; i++)
    g_thread_join (threads[i]);
  CHECK (m.overlaps == 0, "one key created twice at once");
  CHECK (m.creations > 16, "only %d creations", m.creations);
  dogpile_region_unref (m.region);
}

typedef struct {
  DogpileRegion *region;
  const char *prefix;
  guint seed;
  gint stop;
} Churn;

static gpointer
churn_worker (gpointer data)
{
  Churn *c = data;
  GRand *rand = g_rand_new_with_seed (g_atomic_int_add (&c->seed, 1));

  for (int i = 0; i < 20000; i++)
    {
      char key[96];
      int op = g_rand_int_range (rand, 0, 10);

      g_snprintf (key, sizeof key, "%s%d", c->prefix,
                  g_rand_int_range (rand, 0, 32));
      if (op < 3)
        {
          g_autoptr (GBytes) value = g_bytes_new (key, strlen (key));

          dogpile_region_set (c->region, key, value, NULL);
        }
      else if (op < 4)
        dogpile_region_delete (c->region, key, NULL);
      else if (op < 5)
        {
          g_autoptr (DogpileMutex) m
              = dogpile_region_get_mutex (c->region, key, NULL);
          gboolean acquired = FALSE;

          dogpile_mutex_acquire (m, FALSE, &acquired, NULL);
          if (acquired)
            dogpile_mutex_release (m, NULL);
        }
      else
        {
          g_autoptr (GBytes) value = NULL;

          if (dogpile_region_get (c->region, key, &value, NULL)
              && value != NULL)
            CHECK (g_bytes_get_size (value) == strlen (key)
                       && memcmp (g_bytes_get_data (value, NULL), key,
                                  strlen (key))
                              == 0,
                   "a value under the wrong key");
        }
    }
  g_rand_free (rand);
  return NULL;
}

static void
churn (const char *prefix)
{
  Churn c = { region_for ("dogpile.cache.memory", 60), prefix, 1, 0 };
  GThread *threads[6];

  for (int i = 0; i < 6; i++)
    threads[i] = g_thread_new ("churn", churn_worker, &c);
  for (int i = 0; i < 6; i++)
    g_thread_join (threads[i]);
  dogpile_region_unref (c.region);
}

static void
scenario_store (void)
{
  churn ("k");
  churn ("a-key-long-enough-to-live-outside-the-slot-");
}

typedef struct {
  DogpileRegion *region;
  gint stop;
} Reconfig;

static gpointer
reconfig_reader (gpointer data)
{
  Reconfig *r = data;

  while (!g_atomic_int_get (&r->stop))
    {
      g_autoptr (GBytes) value = NULL;

      CHECK (dogpile_region_get (r->region, "k", &value, NULL), "get failed");
    }
  return NULL;
}

static void
scenario_reconfigure (void)
{
  Reconfig r = { region_for ("dogpile.cache.memory", 60), 0 };
  GThread *threads[4];

  for (int i = 0; i < 4; i++)
    threads[i] = g_thread_new ("reader", reconfig_reader, &r);
  for (int i = 0; i < 100; i++)
    CHECK (dogpile_region_configure (
               r.region, i % 2 ? "dogpile.cache.memory" : "dogpile.cache.null",
               60, NULL, DOGPILE_CONFIGURE_REPLACE_EXISTING, NULL),
           "reconfigure failed");
  g_atomic_int_set (&r.stop, 1);
  for (int i = 0; i < 4; i++)
    g_thread_join (threads[i]);
  dogpile_region_unref (r.region);
}

static const struct {
  const char *name;
  void (*run) (void);
} scenarios[] = {
  { "stampede", scenario_stampede },
  { "multi", scenario_multi },
  { "store", scenario_store },
  { "reconfigure", scenario_reconfigure },
};

int
main (int argc, char **argv)
{
  for (gsize i = 0; i < G_N_ELEMENTS (scenarios); i++)
    {
      gboolean wanted = argc < 2;

      for (int a = 1; a < argc; a++)
        wanted |= strcmp (argv[a], scenarios[i].name) == 0;
      if (!wanted)
        continue;
      printf ("%s\n", scenarios[i].name);
      scenarios[i].run ();
    }
  if (failures > 0)
    {
      fprintf (stderr, "%d check(s) failed\n", failures);
      return 1;
    }
  return 0;
}
