/* dbm-stress.c: threads on dogpile.cache.dbm, without Criterion so that
 * it runs under ThreadSanitizer (suite 'stress').
 *
 * Two regions on one file (two sets of kept handles, so each sees the
 * other's writes as a foreign change) and eight threads mixing set, get,
 * get_multi, delete, get_or_create (through the file's dogpile lock) and
 * hand-held mutexes, for DBM_STRESS_SECONDS (default 2).  Every value read
 * must be one some thread wrote for that key.
 *
 * Usage: dbm-stress [FOLDER]   (default: a new folder under the temp dir)
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>

#include <glib/gstdio.h>

#include <dogpile/dogpile.h>

#define N_THREADS 8
#define N_KEYS 64

typedef struct {
  DogpileRegion *regions[2];
  gint64 deadline;
  gint failures;
  gint creations;
  gint operations;
} Stress;

static void
fail (Stress *s, const char *what, const GError *error)
{
  fprintf (stderr, "dbm-stress: %s: %s\n", what,
           error != NULL ? error->message : "wrong value");
  g_atomic_int_inc (&s->failures);
}

static gboolean
valid (GBytes *value, guint key)
{
  gsize len;
  const char *data = g_bytes_get_data (value, &len);
  g_autofree char *text = g_strndup (data, len);
  guint k, t, n;

  return sscanf (text, "k%u-t%u-n%u", &k, &t, &n) == 3 && k == key;
}

static GBytes *
creator (const char *key, gpointer data, GError **error)
{
  Stress *s = data;
  char *text = g_strdup_printf ("k%u-t99-n0", (guint) atoi (key + 1));

  g_atomic_int_inc (&s->creations);
  return g_bytes_new_take (text, strlen (text));
}

static gpointer
run (gpointer data)
{
  Stress *s = data;
  g_autoptr (GRand) rand = g_rand_new ();
  guint id = g_rand_int_range (rand, 0, 1000);

  for (guint n = 0; g_get_monotonic_time () < s->deadline; n++)
    {
      DogpileRegion *region = s->regions[n % 2];
      guint k = (guint) g_rand_int_range (rand, 0, N_KEYS);
      g_autofree char *key = g_strdup_printf ("k%u", k);
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) got = NULL;

      g_atomic_int_inc (&s->operations);
      switch (g_rand_int_range (rand, 0, 6))
        {
        case 0:
          {
            g_autofree char *text = g_strdup_printf ("k%u-t%u-n%u", k, id, n);
            g_autoptr (GBytes) value = g_bytes_new (text, strlen (text));

            if (!dogpile_region_set (region, key, value, &error))
              fail (s, "set", error);
            break;
          }
        case 1:
          if (!dogpile_region_get (region, key, &got, &error))
            fail (s, "get", error);
          else if (got != NULL && !valid (got, k))
            fail (s, "get", NULL);
          break;
        case 2:
          {
            char names[4][16];
            const char *keys[4];
            GBytes *values[4] = { NULL };

            for (int i = 0; i < 4; i++)
              {
                g_snprintf (names[i], sizeof names[i], "k%u",
                            (k + (guint) i) % N_KEYS);
                keys[i] = names[i];
              }
            if (!dogpile_region_get_multi (region, keys, 4, values, &error))
              fail (s, "get_multi", error);
            for (int i = 0; i < 4; i++)
              if (values[i] != NULL)
                {
                  if (!valid (values[i], (k + (guint) i) % N_KEYS))
                    fail (s, "get_multi", NULL);
                  g_bytes_unref (values[i]);
                }
            break;
          }
        case 3:
          if (n % 8 == 0 && !dogpile_region_delete (region, key, &error))
            fail (s, "delete", error);
          break;
        case 4:
          if (!dogpile_region_get_or_create (region, key, creator, s, &got,
                                             &error))
            fail (s, "get_or_create", error);
          else if (!valid (got, k))
            fail (s, "get_or_create", NULL);
          break;
        default:
          {
            g_autoptr (DogpileMutex) m
                = dogpile_region_get_mutex (region, key, NULL);
            gboolean acquired = FALSE;

            if (!dogpile_mutex_acquire (m, FALSE, &acquired, &error))
              fail (s, "acquire", error);
            else if (acquired && !dogpile_mutex_release (m, &error))
              fail (s, "release", error);
            break;
          }
        }
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  g_autofree char *dir = argc > 1 ? g_strdup (argv[1])
                                  : g_dir_make_tmp ("dbm-stress-XXXXXX", NULL);
  g_autofree char *file = g_build_filename (dir, "stress.dbm", NULL);
  const char *seconds = g_getenv ("DBM_STRESS_SECONDS");
  Stress s = { 0 };
  GThread *threads[N_THREADS];
  int status;

  for (int r = 0; r < 2; r++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GHashTable) arguments
          = g_hash_table_new (g_str_hash, g_str_equal);

      g_hash_table_insert (arguments, "filename", file);
      s.regions[r] = dogpile_region_new (NULL);
      /* expires at once now and then: get_or_create takes the lock */
      if (!dogpile_region_configure (s.regions[r], "dogpile.cache.dbm", 0.05,
                                     arguments, DOGPILE_CONFIGURE_NONE,
                                     &error))
        {
          fprintf (stderr, "dbm-stress: %s\n", error->message);
          return 1;
        }
    }
  s.deadline
      = g_get_monotonic_time ()
        + (gint64) ((seconds != NULL ? g_ascii_strtod (seconds, NULL) : 2.0)
                    * G_USEC_PER_SEC);
  for (int i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("stress", run, &s);
  for (int i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);
  for (int r = 0; r < 2; r++)
    dogpile_region_unref (s.regions[r]);
  printf ("dbm-stress: %d operations, %d creations, %d failures\n",
          s.operations, s.creations, s.failures);
  status = s.failures == 0 && s.operations > 0 ? 0 : 1;
  if (argc <= 1)
    {
      g_autofree char *rw = g_strconcat (file, ".rw.lock", NULL);
      g_autofree char *dl = g_strconcat (file, ".dogpile.lock", NULL);

      g_unlink (file);
      g_unlink (rw);
      g_unlink (dl);
      g_rmdir (dir);
    }
  return status;
}
