/* fuzz-common.h: what every fuzz target shares.
 *
 * A target is a file with LLVMFuzzerTestOneInput (and, when it needs
 * setting up once, LLVMFuzzerInitialize).  Built with -Dfuzzing=enabled
 * it is a libFuzzer program; otherwise fuzz-driver.c gives it a main()
 * that replays its seed corpus and regressions, then mutates for
 * FUZZ_SECONDS (docs/fuzzing.md).  A broken invariant calls fuzz_fail(),
 * which says what broke and aborts: libFuzzer, or the driver, then keeps
 * the input.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

G_BEGIN_DECLS

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

#define fuzz_fail(...) fuzz_fail_at (__FILE__, __LINE__, __VA_ARGS__)
#define fuzz_assert(condition, ...)                                           \
  do                                                                          \
    {                                                                         \
      if (G_UNLIKELY (!(condition)))                                          \
        fuzz_fail (__VA_ARGS__);                                              \
    }                                                                         \
  while (0)

G_GNUC_NORETURN G_GNUC_PRINTF (3, 4) static inline void fuzz_fail_at (
    const char *file, int line, const char *format, ...)
{
  va_list args;

  fprintf (stderr, "%s:%d: invariant broken: ", file, line);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  fflush (stderr);
  abort ();
}

/* Criticals (a g_return_if_fail tripped) and errors abort; warnings,
 * messages and debug output, which some parsers give for bad input on
 * purpose, are dropped. */
static inline void
fuzz_log_handler (const char *domain, GLogLevelFlags level,
                  const char *message, gpointer user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    fprintf (stderr, "%s: %s\n", domain != NULL ? domain : "(none)", message);
}

static inline void
fuzz_setup_logging (void)
{
  static gboolean done;

  if (done)
    return;
  done = TRUE;
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_log_set_default_handler (fuzz_log_handler, NULL);
}

/* A folder of its own for a target that must write its input to a file:
 * in memory (/dev/shm) when there is one, since it is rewritten for every
 * input.  Aborts when none can be made. */
static inline char *
fuzz_make_folder (const char *name)
{
  g_autofree char *template = g_strdup_printf ("%s-XXXXXX", name);
  char *folder = NULL;

  if (g_getenv ("TMPDIR") == NULL
      && g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR))
    {
      char *path = g_build_filename ("/dev/shm", template, NULL);

      folder = g_mkdtemp (path);
      if (folder == NULL)
        g_free (path);
    }
  if (folder == NULL)
    folder = g_dir_make_tmp (template, NULL);
  if (folder == NULL)
    abort ();
  return folder;
}

/* An error a parser gave: it has a message, and the message is UTF-8. */
static inline void
fuzz_check_error (const GError *error, const char *what)
{
  fuzz_assert (error != NULL, "%s failed without an error", what);
  fuzz_assert (error->message != NULL && error->message[0] != '\0',
               "%s failed with an empty message", what);
  fuzz_assert (g_utf8_validate (error->message, -1, NULL),
               "%s failed with a message that is not UTF-8: %s", what,
               error->message);
}

/* The input as a string: up to its first NUL byte. */
static inline char *
fuzz_strndup (const guint8 *data, size_t size)
{
  const guint8 *nul = size > 0 ? memchr (data, '\0', size) : NULL;

  if (size == 0)
    return g_strdup ("");

  return g_strndup ((const char *) data,
                    nul != NULL ? (gsize) (nul - data) : size);
}

/* The input cut into NUL-free parts at each @separator (a char not part
 * of any value), for targets that take several strings. */
static inline char **
fuzz_split (const guint8 *data, size_t size, char separator)
{
  g_autofree char *text = NULL;
  char sep[2] = { separator, '\0' };
  GString *clean = g_string_sized_new (size);

  for (size_t i = 0; i < size; i++)
    g_string_append_c (clean, data[i] != '\0' ? (char) data[i] : separator);
  text = g_string_free (clean, FALSE);
  return g_strsplit (text, sep, -1);
}

/* g_variant_equal, except that any two NaNs are equal (JSON has one). */
static inline gboolean
fuzz_variant_equal_nan (GVariant *a, GVariant *b)
{
  if (!g_variant_type_equal (g_variant_get_type (a), g_variant_get_type (b)))
    return FALSE;
  if (g_variant_is_of_type (a, G_VARIANT_TYPE_DOUBLE))
    {
      double x = g_variant_get_double (a), y = g_variant_get_double (b);

      return (x != x && y != y) || memcmp (&x, &y, sizeof x) == 0;
    }
  if (g_variant_is_container (a))
    {
      gsize n = g_variant_n_children (a);

      if (n != g_variant_n_children (b))
        return FALSE;
      for (gsize i = 0; i < n; i++)
        {
          g_autoptr (GVariant) x = g_variant_get_child_value (a, i);
          g_autoptr (GVariant) y = g_variant_get_child_value (b, i);

          if (!fuzz_variant_equal_nan (x, y))
            return FALSE;
        }
      return TRUE;
    }
  return g_variant_equal (a, b);
}

G_END_DECLS
