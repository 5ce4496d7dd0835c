/* fuzz-driver.c: main() for a fuzz target built without libFuzzer.
 *
 * The normal (gcc) build links each target with this small driver, so
 * that every test run exercises it briefly:
 *
 *   fuzz-NAME              replays tests/fuzz/regressions/NAME/ and the
 *                          seed corpus tests/fuzz/corpus/NAME/, then
 *                          mutates the seeds for FUZZ_SECONDS (default
 *                          10) with the seed FUZZ_SEED (default: the
 *                          time, printed so that a run can be repeated)
 *   fuzz-NAME FILE|DIR...  replays those inputs only, and exits
 *
 * An input that breaks an invariant or crashes is written to
 * fuzz-NAME-crash.bin in the working directory (or to $FUZZ_CRASH_FILE)
 * before the program dies: copy it to tests/fuzz/regressions/NAME/ once
 * it is fixed.  The coverage-guided fuzzer is the same target built with
 * -Dfuzzing=enabled (docs/fuzzing.md); this one only mutates blindly.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz-common.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET names the target"
#endif

/* Optional in a target. */
extern int LLVMFuzzerInitialize (int *argc, char ***argv)
    __attribute__ ((weak));
/* Provided by ASan's and UBSan's runtimes when they are linked in. */
extern void __sanitizer_set_death_callback (void (*callback) (void))
    __attribute__ ((weak));

/* The input being tried, for the handlers to save. */
static const guint8 *current;
static size_t current_size;
static char crash_path[4096];

static void
save_current (void)
{
  static const char said[] = "fuzz: the input is in ";
  int fd;

  if (current == NULL)
    return;
  fd = open (crash_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  for (size_t done = 0; done < current_size;)
    {
      ssize_t n = write (fd, current + done, current_size - done);

      if (n <= 0)
        break;
      done += (size_t) n;
    }
  close (fd);
  if (write (STDERR_FILENO, said, sizeof said - 1) < 0
      || write (STDERR_FILENO, crash_path, strlen (crash_path)) < 0
      || write (STDERR_FILENO, "\n", 1) < 0)
    return;
  current = NULL;
}

static void
on_fatal_signal (int signum)
{
  save_current ();
  signal (signum, SIG_DFL);
  raise (signum);
}

static void
run_one (const guint8 *data, size_t size)
{
  static const guint8 nothing[1];

  /* libFuzzer never passes NULL, even for no bytes */
  if (data == NULL)
    data = nothing;
  current = data;
  current_size = size;
  LLVMFuzzerTestOneInput (data, size);
  current = NULL;
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The files of @path (a file, or a folder's files but dotfiles, sorted),
 * appended to @out as GBytes; FALSE when it cannot be read. */
static gboolean
load_inputs (const char *path, GPtrArray *out, gboolean quiet_if_missing)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, &error);
      const char *name;

      if (dir == NULL)
        {
          fprintf (stderr, "fuzz: %s\n", error->message);
          return FALSE;
        }
      while ((name = g_dir_read_name (dir)) != NULL)
        if (name[0] != '.')
          g_ptr_array_add (names, g_build_filename (path, name, NULL));
      g_ptr_array_sort (names, compare_paths);
    }
  else if (g_file_test (path, G_FILE_TEST_EXISTS) || !quiet_if_missing)
    g_ptr_array_add (names, g_strdup (path));
  for (guint i = 0; i < names->len; i++)
    {
      char *contents;
      gsize len;

      if (!g_file_get_contents (names->pdata[i], &contents, &len, &error))
        {
          fprintf (stderr, "fuzz: %s\n", error->message);
          return FALSE;
        }
      g_ptr_array_add (out, g_bytes_new_take (contents, len));
    }
  return TRUE;
}

static GByteArray *
mutate (GRand *rand, GBytes *seed, GPtrArray *all)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (seed, &len);
  GByteArray *b = g_byte_array_new ();
  guint rounds = (guint) g_rand_int_range (rand, 1, 8);

  g_byte_array_append (b, d, (guint) len);
  for (guint r = 0; r < rounds; r++)
    {
      guint at = b->len > 0
                     ? (guint) g_rand_int_range (rand, 0, (gint32) b->len)
                     : 0;

      switch (b->len > 0 ? g_rand_int_range (rand, 0, 7) : 5)
        {
        case 0:
          b->data[at] ^= (guint8) (1u << g_rand_int_range (rand, 0, 8));
          break;
        case 1: b->data[at] = (guint8) g_rand_int_range (rand, 0, 256); break;
        case 2: /* a byte that means something to some parser */
          {
            static const guint8 edges[]
                = { 0,   1,   0x7f, 0x80, 0xff, '(', '.', '"', '\\', '{', '[',
                    '|', ':', '=',  '\r', '\n', '*', '$', '%', ' ',  '/' };
            b->data[at]
                = edges[g_rand_int_range (rand, 0, G_N_ELEMENTS (edges))];
            break;
          }
        case 3: g_byte_array_set_size (b, at); break;
        case 4:
          {
            guint n = (guint) g_rand_int_range (rand, 1, 9);

            g_byte_array_remove_range (b, at, MIN (b->len - at, n));
            break;
          }
        case 5: /* a chunk of this or another seed, inserted */
          {
            GBytes *other
                = all->pdata[g_rand_int_range (rand, 0, (gint32) all->len)];
            gsize olen;
            const guint8 *o = g_bytes_get_data (other, &olen);
            guint from
                = olen > 1 ? (guint) g_rand_int_range (rand, 0, (gint32) olen)
                           : 0;
            guint want = (guint) g_rand_int_range (rand, 1, 32);
            guint n = MIN ((guint) (olen - from), want);
            g_autofree guint8 *chunk = g_memdup2 (o + from, n);
            guint keep = b->len - at;
            g_autofree guint8 *tail = g_memdup2 (b->data + at, keep);

            g_byte_array_set_size (b, at);
            g_byte_array_append (b, chunk, n);
            g_byte_array_append (b, tail, keep);
            break;
          }
        default: /* a repeat: long runs, deep nesting */
          {
            guint8 c = b->data[at];
            guint n = (guint) g_rand_int_range (rand, 1, 300);

            for (guint k = 0; k < n; k++)
              g_byte_array_append (b, &c, 1);
            break;
          }
        }
    }
  return b;
}

int
main (int argc, char **argv)
{
  const char *env = g_getenv ("FUZZ_SECONDS");
  double seconds = env != NULL ? g_ascii_strtod (env, NULL) : 10;
  const char *seed_env = g_getenv ("FUZZ_SEED");
  guint32 seed = seed_env != NULL
                     ? (guint32) g_ascii_strtoull (seed_env, NULL, 10)
                     : (guint32) g_get_real_time ();
  const char *crash_env = g_getenv ("FUZZ_CRASH_FILE");
  g_autoptr (GPtrArray) corpus
      = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  GRand *rand;
  gint64 end;
  guint64 runs = 0;
  guint n_seeds;

  g_snprintf (crash_path, sizeof crash_path, "%s",
              crash_env != NULL ? crash_env
                                : "fuzz-" FUZZ_TARGET "-crash.bin");
  /* Under a sanitizer its runtime reports the crash and calls us back;
   * a handler of ours would hide its report. */
  signal (SIGABRT, on_fatal_signal);
  if (__sanitizer_set_death_callback != NULL)
    __sanitizer_set_death_callback (save_current);
  else
    {
      signal (SIGSEGV, on_fatal_signal);
      signal (SIGBUS, on_fatal_signal);
      signal (SIGFPE, on_fatal_signal);
      signal (SIGILL, on_fatal_signal);
    }
  if (LLVMFuzzerInitialize != NULL)
    LLVMFuzzerInitialize (&argc, &argv);

  /* inputs given: a crash found, replayed as a test */
  if (argc > 1)
    {
      for (int i = 1; i < argc; i++)
        if (!load_inputs (argv[i], corpus, FALSE))
          return 2;
      for (guint i = 0; i < corpus->len; i++)
        {
          gsize len;
          const guint8 *d = g_bytes_get_data (corpus->pdata[i], &len);

          run_one (d, len);
        }
      printf ("fuzz-%s: %u inputs replayed, no failure\n", FUZZ_TARGET,
              corpus->len);
      return 0;
    }

  if (!load_inputs (FUZZ_REGRESSIONS_DIR, corpus, TRUE)
      || !load_inputs (FUZZ_CORPUS_DIR, corpus, TRUE))
    return 2;
  n_seeds = corpus->len;
  if (corpus->len == 0)
    g_ptr_array_add (corpus, g_bytes_new (NULL, 0));
  printf ("fuzz-%s: %u regressions and seeds, then seed %u (FUZZ_SEED "
          "repeats it) for %g s\n",
          FUZZ_TARGET, n_seeds, seed, seconds);
  fflush (stdout);
  for (guint i = 0; i < corpus->len; i++)
    {
      gsize len;
      const guint8 *d = g_bytes_get_data (corpus->pdata[i], &len);

      run_one (d, len);
    }

  rand = g_rand_new_with_seed (seed);
  end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end)
    for (int k = 0; k < 64; k++, runs++)
      {
        GBytes *from
            = corpus->pdata[g_rand_int_range (rand, 0, (gint32) corpus->len)];
        GByteArray *input = mutate (rand, from, corpus);

        run_one (input->data, input->len);
        /* mutants join the corpus now and then: mutations pile up */
        if (corpus->len < 4096 && g_rand_int_range (rand, 0, 64) == 0)
          g_ptr_array_add (corpus, g_byte_array_free_to_bytes (input));
        else
          g_byte_array_unref (input);
      }
  printf ("fuzz-%s: %" G_GUINT64_FORMAT " mutated inputs, no failure\n",
          FUZZ_TARGET, runs);
  g_rand_free (rand);
  return 0;
}
