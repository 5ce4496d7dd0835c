/* soak.c: one backend under a steady mixed load for a bounded time, built
 * once per backend (SOAK_BACKEND), like the generic suite.  Without
 * Criterion: one process, whose memory is the thing measured.
 *
 * 16 threads run get, set, get_or_create and delete (40/25/25/10) on one
 * region over 10 000 keys, with an expiration time of 2 s so that
 * get_or_create also regenerates values that expired, until SOAK_SECONDS
 * (default 45 under CI=true, 10 otherwise; a third of that under
 * AddressSanitizer, which triples the cost of every call) have passed.
 * The run fails on:
 *
 *  - any error at all: every call must succeed (a miss is not an error);
 *  - a value that is not one some thread wrote for that key.  Every value
 *    says what it is, "<key>|<thread>|<s or c>|<seq>|<padding>|<fnv32>"
 *    (written by set, or by get_or_create's creator), and every read checks
 *    the key, the checksum, the thread and that the thread had got that far
 *    (seq at most what it has issued);
 *  - the process's own resident memory at the end exceeding what it was
 *    after warm-up (the first third of the run) by more than
 *    SOAK_RSS_GROWTH_KB (below): VmRSS
 *    minus RssFile from /proc/self/status, sampled every 100 ms, the
 *    highest sample after warm-up against the last one of it.  RssFile is
 *    left out because for dbm it is mostly gdbm's mapping of its file,
 *    pages the kernel brings in and drops as the file is read and grows
 *    (3 to 9 MB, up and down), not memory the process keeps; for the other
 *    backends it is the programs' text and does not change.  VmRSS is
 *    printed too.  Not checked under AddressSanitizer, whose quarantine
 *    and shadow memory make RSS meaningless.
 *
 * It prints its figures: ops/s, misses and creations, VmRSS and VmRSS -
 * RssFile at the start, after warm-up, at most after it and at the end,
 * malloc's bytes in use (glibc) and the dbm file's size.
 * SOAK_VERBOSE=1 adds a line a second.
 *
 * The backend's arguments come from DOGPILE_TEST_ARGUMENTS
 * ("name=value;..."), as the servers' harnesses give them
 * (tests/plugins/redis/redis-servers.py, tests/plugins/memcached/
 * memcached-servers.py); dogpile.cache.dbm gets a file in a folder of its
 * own under the temporary directory, removed afterwards.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <dogpile/dogpile.h>

#ifndef SOAK_BACKEND
#error "SOAK_BACKEND names the backend under test"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SOAK_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOAK_UNDER_ASAN 1
#endif
#endif
#ifndef SOAK_UNDER_ASAN
#define SOAK_UNDER_ASAN 0
#endif

#define THREADS 16
#define KEYS 10000
#define EXPIRATION 2.0
#define MAX_PADDING 160
/* How much the process's own resident memory (VmRSS - RssFile) may grow
 * after warm-up, in kB; meson gives 8 MB for dogpile.cache.memory.
 * Measured on the 2-CPU machines, under other builds' load: redis,
 * memcached and dbm grew by 4 to 40 kB in 10 s and 45 s runs, so 2 MB is
 * fifty times that and still catches a leak of 2 bytes an operation in
 * the 30 s after warm-up of a CI run (40 000 ops/s).  The memory backend
 * keeps its entries in this process: its malloc'd bytes swing between 10
 * and 16 MB as entries come and go (and sit in 16 threads' caches), and
 * RSS follows the high-water mark over malloc's arenas, up by 0 to 4.4 MB
 * after warm-up; 8 MB catches a leak of half a byte an operation there
 * (500 000 ops/s). */
#ifndef SOAK_RSS_GROWTH_KB
#define SOAK_RSS_GROWTH_KB 2048
#endif
#define MAX_REPORTED 20 /* failures printed; the rest only counted */

typedef enum { OP_GET, OP_SET, OP_GET_OR_CREATE, OP_DELETE, N_OPS } Op;

static const char *const op_names[N_OPS]
    = { "get", "set", "get_or_create", "delete" };

typedef struct {
  DogpileRegion *region;
  int id;
  gint64 deadline;
  guint64 ops[N_OPS];
  guint64 misses; /* gets that found nothing */
  guint64 creations;
} Worker;

static gint failures;
/* What each thread has issued: a value with a higher seq was never made. */
static gint issued[THREADS];

static void G_GNUC_PRINTF (1, 2) fail (const char *format, ...)
{
  va_list ap;

  if (g_atomic_int_add (&failures, 1) >= MAX_REPORTED)
    return;
  va_start (ap, format);
  fputs ("soak " SOAK_BACKEND ": ", stderr);
  vfprintf (stderr, format, ap);
  fputc ('\n', stderr);
  va_end (ap);
}

static guint32
fnv1a (const char *data, gsize len)
{
  guint32 h = 2166136261u;

  for (gsize i = 0; i < len; i++)
    {
      h ^= (guint8) data[i];
      h *= 16777619u;
    }
  return h;
}

static void
key_name (char *out, gsize size, guint k)
{
  g_snprintf (out, size, "soak:%u", k);
}

/* A value for @key, made by thread @id as its @seq-th: set's (@kind 's')
 * or a creator's ('c').  The padding's length varies so that values of one
 * key differ in size. */
static GBytes *
value_new (const char *key, int id, char kind, guint seq)
{
  GString *s = g_string_sized_new (64 + MAX_PADDING);
  guint32 sum;

  g_string_printf (s, "%s|%d|%c|%u|", key, id, kind, seq);
  for (guint i = 0; i < (seq * 7u + (guint) id) % MAX_PADDING; i++)
    g_string_append_c (s, 'x');
  sum = fnv1a (s->str, s->len);
  g_string_append_printf (s, "|%08x", sum);
  return g_string_free_to_bytes (s);
}

/* Whether @value is one some thread wrote for @key. */
static gboolean
value_is_valid (GBytes *value, const char *key, char **out_why)
{
  gsize len;
  const char *data = g_bytes_get_data (value, &len);
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;
  const char *bar;
  char sum[9];
  guint64 id, seq;

  /* at most the longest value we make; no NUL inside */
  if (len > 64 + MAX_PADDING + strlen (key) || len < 10
      || memchr (data, '\0', len) != NULL)
    {
      *out_why = g_strdup_printf ("a value of %zu bytes", len);
      return FALSE;
    }
  text = g_strndup (data, len);
  bar = strrchr (text, '|');
  if (bar == NULL || strlen (bar + 1) != 8)
    {
      *out_why = g_strdup ("no checksum");
      return FALSE;
    }
  g_snprintf (sum, sizeof sum, "%08x", fnv1a (text, (gsize) (bar - text)));
  if (strcmp (sum, bar + 1) != 0)
    {
      *out_why = g_strdup ("a wrong checksum");
      return FALSE;
    }
  text[bar - text] = '\0';
  fields = g_strsplit (text, "|", -1);
  if (g_strv_length (fields) != 5)
    {
      *out_why = g_strdup ("not five fields");
      return FALSE;
    }
  if (strcmp (fields[0], key) != 0)
    {
      *out_why = g_strdup_printf ("the value of %s", fields[0]);
      return FALSE;
    }
  if (!g_ascii_string_to_unsigned (fields[1], 10, 0, THREADS - 1, &id, NULL)
      || !g_ascii_string_to_unsigned (fields[3], 10, 1, G_MAXINT, &seq, NULL)
      || (strcmp (fields[2], "s") != 0 && strcmp (fields[2], "c") != 0))
    {
      *out_why = g_strdup ("malformed fields");
      return FALSE;
    }
  if (seq > (guint64) g_atomic_int_get (&issued[id]))
    {
      *out_why = g_strdup_printf ("seq %" G_GUINT64_FORMAT
                                  " of thread %" G_GUINT64_FORMAT
                                  ", which issued only %d",
                                  seq, id, g_atomic_int_get (&issued[id]));
      return FALSE;
    }
  return TRUE;
}

static void
check_value (Worker *w, const char *what, const char *key, GBytes *value)
{
  g_autofree char *why = NULL;

  if (value != NULL && !value_is_valid (value, key, &why))
    fail ("thread %d: %s %s read %s: %.*s", w->id, what, key, why,
          (int) MIN (g_bytes_get_size (value), 300),
          (const char *) g_bytes_get_data (value, NULL));
}

static guint
next_seq (Worker *w)
{
  return (guint) g_atomic_int_add (&issued[w->id], 1) + 1;
}

static GBytes *
creator (const char *key, gpointer user_data, GError **error)
{
  Worker *w = user_data;

  (void) error;
  w->creations++;
  return value_new (key, w->id, 'c', next_seq (w));
}

static gpointer
worker_run (gpointer data)
{
  Worker *w = data;
  g_autoptr (GRand) rand = g_rand_new ();

  while (g_get_monotonic_time () < w->deadline
         && g_atomic_int_get (&failures) < MAX_REPORTED)
    {
      guint k = (guint) g_rand_int_range (rand, 0, KEYS);
      gint32 pick = g_rand_int_range (rand, 0, 100);
      Op op = pick < 40   ? OP_GET
              : pick < 65 ? OP_SET
              : pick < 90 ? OP_GET_OR_CREATE
                          : OP_DELETE;
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) got = NULL;
      gboolean ok = FALSE;
      char key[32];

      key_name (key, sizeof key, k);
      switch (op)
        {
        case OP_GET:
          ok = dogpile_region_get (w->region, key, &got, &error);
          if (ok && got == NULL)
            w->misses++;
          check_value (w, "get", key, got);
          break;
        case OP_SET:
          {
            g_autoptr (GBytes) value
                = value_new (key, w->id, 's', next_seq (w));

            ok = dogpile_region_set (w->region, key, value, &error);
          }
          break;
        case OP_GET_OR_CREATE:
          ok = dogpile_region_get_or_create (w->region, key, creator, w, &got,
                                             &error);
          if (ok && got == NULL)
            fail ("thread %d: get_or_create %s gave no value", w->id, key);
          check_value (w, "get_or_create", key, got);
          break;
        case OP_DELETE:
          ok = dogpile_region_delete (w->region, key, &error);
          break;
        case N_OPS: g_assert_not_reached ();
        }
      if (!ok)
        fail ("thread %d: %s %s: %s", w->id, op_names[op], key,
              error != NULL ? error->message : "FALSE without an error");
      w->ops[op]++;
    }
  return NULL;
}

/* The resident set: VmRSS, and the part of it that maps files (RssFile:
 * the program's text, and gdbm's mapping of its file, whose pages the
 * kernel brings in and drops as the file is read).  VmRSS - RssFile is the
 * process's own memory (RssAnon + RssShmem): what a leak makes grow. */
typedef struct {
  gint64 vm, file; /* kB; -1: unknown */
} Rss;

static gint64
own_kb (Rss r)
{
  return r.vm >= 0 && r.file >= 0 ? r.vm - r.file : -1;
}

static gint64
status_field_kb (const char *status, const char *name)
{
  const char *line = strstr (status, name);

  return line != NULL ? g_ascii_strtoll (line + strlen (name), NULL, 10) : -1;
}

static Rss
rss_now (void)
{
  g_autofree char *status = NULL;
  Rss r = { -1, -1 };

  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    {
      r.vm = status_field_kb (status, "\nVmRSS:");
      r.file = status_field_kb (status, "\nRssFile:");
    }
  return r;
}

/* The bytes malloc has handed out and not had back, in kB (glibc), or -1:
 * beside VmRSS it tells a leak (this grows) from fragmentation (only RSS
 * does). */
static gint64
heap_in_use_kb (void)
{
#if defined(__GLIBC__) && !SOAK_UNDER_ASAN
  struct mallinfo2 mi = mallinfo2 ();

  return (gint64) ((mi.uordblks + mi.hblkhd) / 1024);
#else
  return -1;
#endif
}

static double
soak_seconds (void)
{
  const char *env = g_getenv ("SOAK_SECONDS");
  double seconds;

  if (env != NULL && *env != '\0')
    {
      char *end;

      seconds = g_ascii_strtod (env, &end);
      if (*end != '\0' || !(seconds > 0 && seconds <= 7 * 24 * 3600))
        {
          fprintf (stderr,
                   "soak: SOAK_SECONDS=%s is not a number of seconds\n", env);
          exit (2);
        }
      return seconds;
    }
  seconds = g_strcmp0 (g_getenv ("CI"), "true") == 0 ? 20 : 10;
  return SOAK_UNDER_ASAN ? seconds / 3 : seconds;
}

/* DOGPILE_TEST_ARGUMENTS as a table (transfer full). */
static GHashTable *
arguments_from_environment (void)
{
  GHashTable *table
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *spec = g_getenv ("DOGPILE_TEST_ARGUMENTS");
  g_auto (GStrv) pairs = g_strsplit (spec != NULL ? spec : "", ";", -1);

  for (char **pair = pairs; *pair != NULL; pair++)
    {
      char *eq = strchr (*pair, '=');

      if (**pair == '\0')
        continue;
      if (eq == NULL)
        {
          fprintf (stderr, "soak: DOGPILE_TEST_ARGUMENTS: %s has no =\n",
                   *pair);
          exit (2);
        }
      g_hash_table_insert (table, g_strndup (*pair, (gsize) (eq - *pair)),
                           g_strdup (eq + 1));
    }
  return table;
}

static void
remove_folder (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir, name, NULL);

      g_unlink (child);
    }
  g_dir_close (d);
  g_rmdir (dir);
}

int
main (void)
{
  g_autoptr (GHashTable) arguments = arguments_from_environment ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  DogpileRegion *region;
  Worker workers[THREADS];
  GThread *threads[THREADS];
  double seconds = soak_seconds ();
  gint64 start, warm_until, deadline, now;
  Rss rss_start, rss_warm = { -1, -1 }, rss_end;
  gint64 max_vm = -1, max_own = -1, growth;
  gint64 heap_warm = -2, heap_end; /* -2: not read yet */
  guint64 totals[N_OPS] = { 0 }, total = 0, misses = 0, creations = 0;
  gboolean verbose = g_getenv ("SOAK_VERBOSE") != NULL;
  gint64 last_report = 0;
  double elapsed;
  int status = 0;

  if (strcmp (SOAK_BACKEND, "dogpile.cache.dbm") == 0
      && !g_hash_table_contains (arguments, "filename"))
    {
      dir = g_dir_make_tmp ("dogpile-soak-XXXXXX", &error);
      if (dir == NULL)
        {
          fprintf (stderr, "soak: %s\n", error->message);
          return 1;
        }
      g_hash_table_insert (arguments, g_strdup ("filename"),
                           g_build_filename (dir, "soak.dbm", NULL));
    }
  region = dogpile_region_new ("soak");
  if (!dogpile_region_configure (region, SOAK_BACKEND, EXPIRATION, arguments,
                                 DOGPILE_CONFIGURE_NONE, &error))
    {
      fprintf (stderr, "soak: configure %s: %s\n", SOAK_BACKEND,
               error->message);
      return 1;
    }

  rss_start = rss_now ();
  start = g_get_monotonic_time ();
  deadline = start + (gint64) (seconds * G_USEC_PER_SEC);
  warm_until = start + (deadline - start) / 3;
  for (int t = 0; t < THREADS; t++)
    {
      workers[t] = (Worker){ .region = region, .id = t, .deadline = deadline };
      threads[t] = g_thread_new ("soak", worker_run, &workers[t]);
    }
  /* The last sample of warm-up, then the highest after it. */
  while ((now = g_get_monotonic_time ()) < deadline
         && g_atomic_int_get (&failures) < MAX_REPORTED)
    {
      Rss rss = rss_now ();

      if (now < warm_until)
        rss_warm = rss;
      else
        {
          max_vm = MAX (max_vm, rss.vm);
          max_own = MAX (max_own, own_kb (rss));
          if (heap_warm == -2)
            heap_warm = heap_in_use_kb ();
        }
      if (verbose && (now - start) / G_USEC_PER_SEC > last_report)
        {
          last_report = (now - start) / G_USEC_PER_SEC;
          printf ("soak %s: %" G_GINT64_FORMAT " s: VmRSS %" G_GINT64_FORMAT
                  " kB, own %" G_GINT64_FORMAT
                  " kB, heap in use %" G_GINT64_FORMAT " kB\n",
                  SOAK_BACKEND, last_report, rss.vm, own_kb (rss),
                  heap_in_use_kb ());
          fflush (stdout);
        }
      g_usleep (100000);
    }
  for (int t = 0; t < THREADS; t++)
    g_thread_join (threads[t]);
  elapsed = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  rss_end = rss_now ();
  max_vm = MAX (max_vm, rss_end.vm);
  max_own = MAX (max_own, own_kb (rss_end));
  heap_end = heap_in_use_kb ();
  /* A leak stays: the growth that counts is what is still there at the
   * end.  The highest figure (printed) also holds transient peaks, such
   * as the memory store's old and new tables side by side while it
   * grows, and malloc's arenas keeping what 16 threads freed. */
  growth = own_kb (rss_end) - own_kb (rss_warm);

  for (int t = 0; t < THREADS; t++)
    {
      for (int op = 0; op < N_OPS; op++)
        totals[op] += workers[t].ops[op];
      misses += workers[t].misses;
      creations += workers[t].creations;
    }
  for (int op = 0; op < N_OPS; op++)
    total += totals[op];
  printf ("soak %s: %.1f s, %d threads, %d keys: %.0f ops/s (get %.0f, set "
          "%.0f, get_or_create %.0f, delete %.0f); %" G_GUINT64_FORMAT
          " misses, %" G_GUINT64_FORMAT " creations\n",
          SOAK_BACKEND, elapsed, THREADS, KEYS, (double) total / elapsed,
          (double) totals[OP_GET] / elapsed, (double) totals[OP_SET] / elapsed,
          (double) totals[OP_GET_OR_CREATE] / elapsed,
          (double) totals[OP_DELETE] / elapsed, misses, creations);
  printf ("soak %s: VmRSS %" G_GINT64_FORMAT
          " kB at the start, %" G_GINT64_FORMAT
          " kB after warm-up, at most %" G_GINT64_FORMAT
          " kB after it, %" G_GINT64_FORMAT " kB at the end\n",
          SOAK_BACKEND, rss_start.vm, rss_warm.vm, max_vm, rss_end.vm);
  printf ("soak %s: VmRSS - RssFile %" G_GINT64_FORMAT
          " kB at the start, %" G_GINT64_FORMAT
          " kB after warm-up, at most %" G_GINT64_FORMAT
          " kB after it (%+" G_GINT64_FORMAT " kB), %" G_GINT64_FORMAT
          " kB at the end\n",
          SOAK_BACKEND, own_kb (rss_start), own_kb (rss_warm), max_own, growth,
          own_kb (rss_end));
  if (heap_warm >= 0 && heap_end >= 0)
    printf ("soak %s: malloc'd and not freed: %" G_GINT64_FORMAT
            " kB after warm-up, %" G_GINT64_FORMAT " kB at the end\n",
            SOAK_BACKEND, heap_warm, heap_end);
  if (dir != NULL)
    {
      g_autofree char *file = g_build_filename (dir, "soak.dbm", NULL);
      GStatBuf st;

      if (g_stat (file, &st) == 0)
        printf ("soak %s: the file is %" G_GINT64_FORMAT " kB\n", SOAK_BACKEND,
                (gint64) st.st_size / 1024);
    }

  if (failures > 0)
    {
      fprintf (stderr, "soak %s: %d failures%s\n", SOAK_BACKEND, failures,
               failures >= MAX_REPORTED ? " (stopped early)" : "");
      status = 1;
    }
  else if (SOAK_UNDER_ASAN)
    printf ("soak %s: RSS not checked under AddressSanitizer\n", SOAK_BACKEND);
  else if (own_kb (rss_warm) < 0 || max_own < 0)
    {
      fprintf (stderr, "soak %s: could not read VmRSS and RssFile\n",
               SOAK_BACKEND);
      status = 1;
    }
  else if (growth > SOAK_RSS_GROWTH_KB)
    {
      fprintf (stderr,
               "soak %s: VmRSS - RssFile grew by %" G_GINT64_FORMAT
               " kB after warm-up (at most %d kB allowed)\n",
               SOAK_BACKEND, growth, SOAK_RSS_GROWTH_KB);
      status = 1;
    }
  if (total == 0)
    {
      fprintf (stderr, "soak %s: no operation ran\n", SOAK_BACKEND);
      status = 1;
    }

  dogpile_region_unref (region);
  if (dir != NULL)
    remove_folder (dir);
  return status;
}
