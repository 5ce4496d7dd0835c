/* dbm-worker.c: one process of the multi-process dbm tests
 * (test-dbm-processes.c starts several at once).
 *
 *   dbm-worker write-read FILE ID N
 *       sets "key:<i>" = "p<ID>-<i>-<padding>" for i < N, reading a key
 *       between writes; every value read must be one a worker wrote for
 *       that key.  Exit 0 when all was well.
 *   dbm-worker regen FILE COUNTFILE THREADS
 *       waits for a line on stdin, then THREADS threads call
 *       get_or_create("shared") at once; the creator appends a line to
 *       COUNTFILE and sleeps 1 s.  Prints how many threads got a value.
 *   dbm-worker churn FILE
 *       writes batches of 1000 keys with set_multi until killed; prints
 *       "ready" after the first batch.
 *   dbm-worker hold FILE KEY SECONDS
 *       holds the dogpile lock of KEY for SECONDS, printing "held".
 *
 * SPDX-License-Identifier: MIT
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <dogpile/dogpile.h>

static DogpileRegion *
open_region (const char *file, double expiration)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) arguments
      = g_hash_table_new (g_str_hash, g_str_equal);
  DogpileRegion *region = dogpile_region_new ("worker");

  g_hash_table_insert (arguments, "filename", (gpointer) file);
  if (!dogpile_region_configure (region, "dogpile.cache.dbm", expiration,
                                 arguments, DOGPILE_CONFIGURE_NONE, &error))
    {
      fprintf (stderr, "configure: %s\n", error->message);
      exit (2);
    }
  return region;
}

/* "p<id>-<i>-" followed by padding: values of one key differ in length
 * between workers only by the id's digits, so most writes replace a value
 * in place (the case a stale cached handle would miss). */
static char *
value_for (int id, guint i)
{
  return g_strdup_printf ("p%d-%u-%s", id, i, "................");
}

static gboolean
valid_value (GBytes *value, guint i)
{
  gsize len;
  const char *data = g_bytes_get_data (value, &len);
  g_autofree char *text = g_strndup (data, len);
  int id;
  guint got;

  return sscanf (text, "p%d-%u-", &id, &got) == 2 && id >= 0 && id < 4
         && got == i && g_str_has_suffix (text, "................");
}

static int
write_read (const char *file, int id, guint n)
{
  g_autoptr (DogpileRegion) region = open_region (file, 3600);
  g_autoptr (GRand) rand = g_rand_new_with_seed ((guint32) (id * 7919 + 1));
  guint bad = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *key = g_strdup_printf ("key:%u", i);
      g_autofree char *text = value_for (id, i);
      g_autoptr (GBytes) value = g_bytes_new (text, strlen (text));
      g_autoptr (GBytes) got = NULL;
      g_autoptr (GError) error = NULL;
      guint j = g_rand_int_range (rand, 0, (gint32) n);
      g_autofree char *other = g_strdup_printf ("key:%u", j);

      if (!dogpile_region_set (region, key, value, &error))
        {
          fprintf (stderr, "worker %d: set %s: %s\n", id, key, error->message);
          return 1;
        }
      if (!dogpile_region_get (region, other, &got, &error))
        {
          fprintf (stderr, "worker %d: get %s: %s\n", id, other,
                   error->message);
          return 1;
        }
      if (got != NULL && !valid_value (got, j))
        {
          fprintf (stderr, "worker %d: %s holds '%.*s'\n", id, other,
                   (int) g_bytes_get_size (got),
                   (const char *) g_bytes_get_data (got, NULL));
          bad++;
        }
      /* and our own write must be visible to us */
      g_clear_pointer (&got, g_bytes_unref);
      if (!dogpile_region_get (region, key, &got, &error) || got == NULL
          || !valid_value (got, i))
        {
          fprintf (stderr, "worker %d: lost %s right after writing it\n", id,
                   key);
          bad++;
        }
    }
  return bad == 0 ? 0 : 1;
}

typedef struct {
  DogpileRegion *region;
  const char *count_file;
  gint got_value;
  gint failed;
} Regen;

static GBytes *
regen_creator (const char *key, gpointer data, GError **error)
{
  Regen *r = data;
  int fd = open (r->count_file, O_WRONLY | O_APPEND | O_CREAT, 0644);
  g_autofree char *line = g_strdup_printf ("%d\n", (int) getpid ());

  if (fd < 0 || write (fd, line, strlen (line)) != (ssize_t) strlen (line))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                   "cannot count the call");
      if (fd >= 0)
        close (fd);
      return NULL;
    }
  close (fd);
  /* long enough that every thread reads the old value and tries the lock
   * while this runs, even on a loaded machine */
  g_usleep (1000000);
  return g_bytes_new_static ("fresh", 5);
}

static gpointer
regen_thread (gpointer data)
{
  Regen *r = data;
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;

  if (dogpile_region_get_or_create (r->region, "shared", regen_creator, r,
                                    &value, &error)
      && value != NULL)
    g_atomic_int_inc (&r->got_value);
  else
    {
      fprintf (stderr, "get_or_create: %s\n",
               error != NULL ? error->message : "no value");
      g_atomic_int_inc (&r->failed);
    }
  return NULL;
}

static int
regen (const char *file, const char *count_file, int n_threads)
{
  g_autoptr (DogpileRegion) region = open_region (file, 60);
  Regen r = { region, count_file, 0, 0 };
  GThread **threads = g_new0 (GThread *, n_threads);
  char line[16];

  /* ready; wait for the go of the parent (all processes at once) */
  printf ("ready\n");
  fflush (stdout);
  if (fgets (line, sizeof line, stdin) == NULL)
    return 2;
  for (int i = 0; i < n_threads; i++)
    threads[i] = g_thread_new ("regen", regen_thread, &r);
  for (int i = 0; i < n_threads; i++)
    g_thread_join (threads[i]);
  g_free (threads);
  printf ("%d\n", r.got_value);
  return r.failed == 0 ? 0 : 1;
}

static int
churn (const char *file)
{
  g_autoptr (DogpileRegion) region = open_region (file, 3600);
  DogpileBackend *backend = dogpile_region_get_backend (region, NULL);
  enum { BATCH = 1000, VARIANTS = 8 };
  char *keys[BATCH];
  GBytes *records[VARIANTS][BATCH];
  DogpileMetadata metadata;

  /* Records made beforehand, so that nearly all the time goes into
   * writing; lengths change from one round to the next, so space is freed
   * and reallocated and buckets split. */
  dogpile_metadata_init (&metadata, g_get_real_time () / 1e6);
  for (int i = 0; i < BATCH; i++)
    keys[i] = g_strdup_printf ("churn:%d", i);
  for (int v = 0; v < VARIANTS; v++)
    for (int i = 0; i < BATCH; i++)
      {
        g_autofree char *text = g_strdup_printf (
            "%d-%d-%.*s", v, i, (v * 37 + i) % 200,
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxx");
        g_autoptr (GBytes) payload = g_bytes_new (text, strlen (text));

        records[v][i] = dogpile_record_encode (payload, &metadata);
      }
  for (guint round = 0;; round++)
    {
      g_autoptr (GError) error = NULL;

      if (!dogpile_backend_set_multi (backend, (const char *const *) keys,
                                      records[round % VARIANTS], BATCH,
                                      &error))
        {
          fprintf (stderr, "churn: %s\n", error->message);
          return 1;
        }
      if (round == 0)
        {
          printf ("ready\n");
          fflush (stdout);
        }
    }
}

static int
hold (const char *file, const char *key, double seconds)
{
  g_autoptr (DogpileRegion) region = open_region (file, 3600);
  g_autoptr (DogpileMutex) mutex
      = dogpile_region_get_mutex (region, key, NULL);
  gboolean acquired = FALSE;

  if (!dogpile_mutex_acquire (mutex, TRUE, &acquired, NULL) || !acquired)
    return 1;
  printf ("held\n");
  fflush (stdout);
  g_usleep ((gulong) (seconds * G_USEC_PER_SEC));
  return dogpile_mutex_release (mutex, NULL) ? 0 : 1;
}

int
main (int argc, char **argv)
{
  if (argc == 5 && strcmp (argv[1], "write-read") == 0)
    return write_read (argv[2], atoi (argv[3]), (guint) atoi (argv[4]));
  if (argc == 5 && strcmp (argv[1], "regen") == 0)
    return regen (argv[2], argv[3], atoi (argv[4]));
  if (argc == 3 && strcmp (argv[1], "churn") == 0)
    return churn (argv[2]);
  if (argc == 5 && strcmp (argv[1], "hold") == 0)
    return hold (argv[2], argv[3], g_ascii_strtod (argv[4], NULL));
  fprintf (stderr, "usage: dbm-worker write-read|regen|churn|hold ...\n");
  return 2;
}
