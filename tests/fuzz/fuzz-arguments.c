/* fuzz-arguments.c: the typed readers of backend arguments
 * (core/dogpile-arguments.c) on any text: durations in every form
 * (seconds, 1h30m units, str(timedelta)), expiration times, numbers,
 * integers, booleans, choices and lists.
 *
 * Invariants besides not crashing:
 *  - one rule for a duration however it is read: the argument reader,
 *    the range reader and dogpile_parse_expiration_time accept the same
 *    texts with the same value (bar "none" and the empty text, which mean
 *    "never" to an expiration time and "not given" to an argument), and
 *    every duration is finite;
 *  - a number is a duration of that many seconds, an integer is that
 *    number;
 *  - a duration printed as seconds (and as "<n>s") reads back exactly;
 *  - a list joined again splits into the same items;
 *  - every error has a message, UTF-8 when the text is.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz-common.h"

#include <math.h>

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

static void
check_error (const GError *error, const char *what, gboolean utf8)
{
  fuzz_assert (error != NULL && error->message[0] != '\0',
               "%s failed without a message", what);
  fuzz_assert (
      g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION),
      "%s failed with another error than ValidationError", what);
  if (utf8)
    fuzz_check_error (error, what);
}

static gboolean
same_double (double a, double b)
{
  return memcmp (&a, &b, sizeof a) == 0 || (a == 0 && b == 0);
}

/* @text (a duration's value, or a number's) printed and read back. */
static void
check_reprint (GHashTable *arguments, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE + 1];
  double again;
  g_autoptr (GError) error = NULL;

  g_ascii_dtostr (buf, sizeof buf - 1, value);
  g_hash_table_replace (arguments, "printed", buf);
  fuzz_assert (
      dogpile_arguments_get_double (arguments, "printed", 0, &again, &error),
      "%.17g printed as '%s' does not read: %s", value, buf, error->message);
  fuzz_assert (same_double (again, value), "%.17g printed as '%s' reads %.17g",
               value, buf, again);
  fuzz_assert (
      dogpile_arguments_get_duration (arguments, "printed", 0, &again, &error),
      "'%s' is a number, not a duration: %s", buf, error->message);
  fuzz_assert (same_double (again, value), "'%s' is a duration of %.17g s",
               buf, again);
  if (value >= 0 && !signbit (value))
    {
      g_autofree char *with_unit = g_strconcat (buf, "s", NULL);

      g_hash_table_replace (arguments, "printed", with_unit);
      fuzz_assert (dogpile_arguments_get_duration (arguments, "printed", 0,
                                                   &again, &error),
                   "'%s' does not read: %s", with_unit, error->message);
      fuzz_assert (same_double (again, value), "'%s' reads as %.17g s",
                   with_unit, again);
    }
  g_hash_table_remove (arguments, "printed");
}

static void
check_list (GHashTable *arguments)
{
  g_auto (GStrv) items = NULL;
  g_auto (GStrv) again = NULL;
  g_autofree char *joined = NULL;

  fuzz_assert (dogpile_arguments_dup_list (arguments, "x", &items, NULL),
               "a list is malformed");
  for (char **p = items; *p != NULL; p++)
    fuzz_assert (**p != '\0' && strpbrk (*p, ", \t\n\r\v\f") == NULL,
                 "a list item '%s' is empty or holds a separator", *p);
  joined = g_strjoinv (", ", items);
  if (strcmp (joined, "None") == 0)
    return; /* the one item "None" means no argument given */
  g_hash_table_replace (arguments, "joined", joined);
  fuzz_assert (dogpile_arguments_dup_list (arguments, "joined", &again, NULL),
               "a list is malformed");
  fuzz_assert (
      g_strv_equal ((const char *const *) items, (const char *const *) again),
      "a list joined splits into other items: '%s'", joined);
  g_hash_table_remove (arguments, "joined");
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *text = fuzz_strndup (data, size);
  g_autofree char *stripped = g_strstrip (g_strdup (text));
  gboolean utf8 = g_utf8_validate (text, -1, NULL);
  g_autoptr (GHashTable) arguments
      = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) duration_error = NULL;
  g_autoptr (GError) expiration_error = NULL;
  g_autoptr (GError) range_error = NULL;
  g_autoptr (GError) error = NULL;
  /* what the argument readers take as "not given" */
  gboolean absent = stripped[0] == '\0' || strcmp (stripped, "None") == 0;
  const double absent_value = 12345.5;
  double duration = 0, expiration = 0, ranged = 0, number = 0;
  gboolean duration_ok, expiration_ok, ranged_ok, number_ok, boolean, ok;
  gint64 integer;
  guint choice;
  static const char *const choices[] = { "raw", "json", "pickle", NULL };

  g_hash_table_insert (arguments, "x", text);

  duration_ok = dogpile_arguments_get_duration (arguments, "x", absent_value,
                                                &duration, &duration_error);
  expiration_ok
      = dogpile_parse_expiration_time (text, &expiration, &expiration_error);
  ranged_ok = dogpile_arguments_get_duration_range (
      arguments, "x", absent_value, 0, 1e7, DOGPILE_ARGUMENTS_ABOVE_MIN,
      &ranged, &range_error);
  number_ok = dogpile_arguments_get_double (arguments, "x", absent_value,
                                            &number, &error);
  if (!number_ok)
    check_error (error, "dogpile_arguments_get_double", utf8);
  g_clear_error (&error);

  if (!duration_ok)
    check_error (duration_error, "dogpile_arguments_get_duration", utf8);
  if (!expiration_ok)
    check_error (expiration_error, "dogpile_parse_expiration_time", utf8);
  if (!ranged_ok)
    check_error (range_error, "dogpile_arguments_get_duration_range", utf8);

  if (absent)
    {
      fuzz_assert (duration_ok && duration == absent_value,
                   "'%s' is not taken as an absent argument", text);
      fuzz_assert (ranged_ok && ranged == absent_value,
                   "'%s' is not taken as an absent argument (range)", text);
    }
  else if (stripped[0] == '\0' || g_ascii_strcasecmp (stripped, "none") == 0)
    fuzz_assert (expiration_ok && expiration == DOGPILE_EXPIRATION_NONE,
                 "'%s' is not 'never' as an expiration time", text);
  else
    {
      fuzz_assert (duration_ok == expiration_ok,
                   "'%s': a duration %s, an expiration time %s", text,
                   duration_ok ? "reads" : duration_error->message,
                   expiration_ok ? "reads" : expiration_error->message);
      if (duration_ok)
        fuzz_assert (same_double (duration, expiration),
                     "'%s': a duration of %.17g s, an expiration of %.17g s",
                     text, duration, expiration);
    }
  if (!absent)
    {
      if (duration_ok)
        {
          fuzz_assert (isfinite (duration), "'%s' is a duration of %g s", text,
                       duration);
          fuzz_assert (ranged_ok == (duration > 0 && duration <= 1e7),
                       "'%s' (%.17g s) is %s the range (0, 1e7]", text,
                       duration, ranged_ok ? "in" : "not in");
          if (ranged_ok)
            fuzz_assert (same_double (ranged, duration),
                         "'%s': %.17g s, in a range %.17g s", text, duration,
                         ranged);
          check_reprint (arguments, duration);
        }
      else
        fuzz_assert (!ranged_ok, "'%s' is a duration only in a range", text);
      if (number_ok)
        {
          fuzz_assert (isfinite (number), "'%s' is the number %g", text,
                       number);
          fuzz_assert (duration_ok && same_double (number, duration),
                       "the number '%s' (%.17g) is not a duration of as many "
                       "seconds",
                       text, number);
          check_reprint (arguments, number);
        }
    }

  ok = dogpile_arguments_get_int (arguments, "x", 7, &integer, &error);
  if (!ok)
    check_error (error, "dogpile_arguments_get_int", utf8);
  else if (!absent)
    fuzz_assert (number_ok && number == (double) integer,
                 "the integer '%s' (%" G_GINT64_FORMAT ") is not the number "
                 "%.17g",
                 text, integer, number);
  g_clear_error (&error);
  ok = dogpile_arguments_get_int_range (arguments, "x", 7, -5, 5, &integer,
                                        &error);
  if (!ok)
    check_error (error, "dogpile_arguments_get_int_range", utf8);
  else if (!absent)
    fuzz_assert (integer >= -5 && integer <= 5,
                 "%" G_GINT64_FORMAT " is in the range [-5, 5]", integer);
  g_clear_error (&error);
  if (!dogpile_arguments_get_boolean (arguments, "x", FALSE, &boolean, &error))
    check_error (error, "dogpile_arguments_get_boolean", utf8);
  g_clear_error (&error);
  if (!dogpile_arguments_get_choice (arguments, "x", choices, 0, &choice,
                                     &error))
    check_error (error, "dogpile_arguments_get_choice", utf8);
  else
    fuzz_assert (choice < 3, "choice %u of 3", choice);
  check_list (arguments);
  return 0;
}
