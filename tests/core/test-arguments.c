/* test-arguments.c: typed backend arguments and expiration parsing
 * (coerce_string_conf, spec item 22; timedelta-like durations).
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-util.h"

TestSuite (arguments);

Test (arguments, integers)
{
  g_autoptr (GHashTable) a
      = arguments_of ("neg", "-1", "pos", "+1", "port", " 6379 ", "bad", "12x",
                      "float", "1.5", "none", "None", NULL);
  g_autoptr (GError) error = NULL;
  gint64 v = 0;

  cr_assert (dogpile_arguments_get_int (a, "neg", 0, &v, &error));
  cr_assert_eq (v, -1);
  cr_assert (dogpile_arguments_get_int (a, "pos", 0, &v, &error));
  cr_assert_eq (v, 1);
  cr_assert (dogpile_arguments_get_int (a, "port", 0, &v, &error));
  cr_assert_eq (v, 6379);
  cr_assert (dogpile_arguments_get_int (a, "none", 7, &v, &error));
  cr_assert_eq (v, 7);
  cr_assert (dogpile_arguments_get_int (a, "absent", 9, &v, &error));
  cr_assert_eq (v, 9);
  cr_assert (dogpile_arguments_get_int (NULL, "absent", 3, &v, &error));
  cr_assert_eq (v, 3);
  cr_assert_not (dogpile_arguments_get_int (a, "bad", 0, &v, &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, "'bad'") != NULL);
  cr_assert (strstr (error->message, "12x") != NULL);
  g_clear_error (&error);
  cr_assert_not (dogpile_arguments_get_int (a, "float", 0, &v, &error));
}

Test (arguments, doubles_follow_coerce_string_conf)
{
  g_autoptr (GHashTable) a
      = arguments_of ("a", "0.1", "b", "-3.14e-10", "c", "5.", "d", ".5", "e",
                      "1e5", "f", "inf", "g", "nan", "h", "-1", NULL);
  g_autoptr (GError) error = NULL;
  double v;

  cr_assert (dogpile_arguments_get_double (a, "a", 0, &v, &error));
  cr_assert_eq (v, 0.1);
  cr_assert (dogpile_arguments_get_double (a, "b", 0, &v, &error));
  cr_assert_eq (v, -3.14e-10);
  cr_assert (dogpile_arguments_get_double (a, "c", 0, &v, &error));
  cr_assert_eq (v, 5.0);
  cr_assert (dogpile_arguments_get_double (a, "d", 0, &v, &error));
  cr_assert_eq (v, 0.5);
  cr_assert (dogpile_arguments_get_double (a, "e", 0, &v, &error));
  cr_assert_eq (v, 100000.0);
  cr_assert (dogpile_arguments_get_double (a, "h", 0, &v, &error));
  cr_assert_eq (v, -1.0);
  /* "inf" and "nan" stay strings in Python: not numbers here either. */
  cr_assert_not (dogpile_arguments_get_double (a, "f", 0, &v, &error));
  g_clear_error (&error);
  cr_assert_not (dogpile_arguments_get_double (a, "g", 0, &v, &error));
}

Test (arguments, booleans)
{
  g_autoptr (GHashTable) a
      = arguments_of ("t", "true", "T", "TRUE", "f", "False", "one", "1",
                      "zero", "0", "yes", "yes", NULL);
  g_autoptr (GError) error = NULL;
  gboolean v;

  cr_assert (dogpile_arguments_get_boolean (a, "t", FALSE, &v, &error) && v);
  cr_assert (dogpile_arguments_get_boolean (a, "T", FALSE, &v, &error) && v);
  cr_assert (dogpile_arguments_get_boolean (a, "f", TRUE, &v, &error) && !v);
  cr_assert (dogpile_arguments_get_boolean (a, "one", FALSE, &v, &error) && v);
  cr_assert (dogpile_arguments_get_boolean (a, "zero", TRUE, &v, &error)
             && !v);
  cr_assert (dogpile_arguments_get_boolean (a, "absent", TRUE, &v, &error)
             && v);
  cr_assert_not (dogpile_arguments_get_boolean (a, "yes", FALSE, &v, &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
}

Test (arguments, strings_and_lists)
{
  g_autoptr (GHashTable) a
      = arguments_of ("url", "127.0.0.1:11211", "urls", " a:1, b:2  c:3 ,",
                      "none", "None", NULL);
  g_auto (GStrv) list = NULL;
  g_auto (GStrv) single = NULL;
  g_auto (GStrv) empty = NULL;
  const char *s;

  cr_assert (dogpile_arguments_get_string (a, "url", NULL, &s, NULL));
  cr_assert_str_eq (s, "127.0.0.1:11211");
  cr_assert (dogpile_arguments_get_string (a, "none", "dflt", &s, NULL));
  cr_assert_str_eq (s, "dflt");
  cr_assert (dogpile_arguments_get_string (a, "absent", NULL, &s, NULL));
  cr_assert_null (s);
  cr_assert (dogpile_arguments_dup_list (a, "urls", &list, NULL));
  cr_assert_eq (g_strv_length (list), 3);
  cr_assert_str_eq (list[0], "a:1");
  cr_assert_str_eq (list[2], "c:3");
  cr_assert (dogpile_arguments_dup_list (a, "url", &single, NULL));
  cr_assert_eq (g_strv_length (single), 1);
  cr_assert (dogpile_arguments_dup_list (a, "absent", &empty, NULL));
  cr_assert_eq (g_strv_length (empty), 0);
}

Test (arguments, durations)
{
  g_autoptr (GHashTable) a = arguments_of (
      "s", "30", "f", "0.25", "ms", "250ms", "hm", "1h30m", "d", "2d", "w",
      "1w", "sp", "1d 2h", "td", "1 day, 8:00:00", "td2", "2 days, 0:00:01.5",
      "clock", "0:05:00", "bad", "soon", "unit", "5 parsecs", NULL);
  g_autoptr (GError) error = NULL;
  double v;

  cr_assert (dogpile_arguments_get_duration (a, "s", 0, &v, &error));
  cr_assert_eq (v, 30);
  cr_assert (dogpile_arguments_get_duration (a, "f", 0, &v, &error));
  cr_assert_eq (v, 0.25);
  cr_assert (dogpile_arguments_get_duration (a, "ms", 0, &v, &error));
  cr_assert_float_eq (v, 0.25, 1e-12);
  cr_assert (dogpile_arguments_get_duration (a, "hm", 0, &v, &error));
  cr_assert_eq (v, 5400);
  cr_assert (dogpile_arguments_get_duration (a, "d", 0, &v, &error));
  cr_assert_eq (v, 172800);
  cr_assert (dogpile_arguments_get_duration (a, "w", 0, &v, &error));
  cr_assert_eq (v, 604800);
  cr_assert (dogpile_arguments_get_duration (a, "sp", 0, &v, &error));
  cr_assert_eq (v, 93600);
  /* test_datetime_expiration_time: timedelta(days=1, hours=8) */
  cr_assert (dogpile_arguments_get_duration (a, "td", 0, &v, &error));
  cr_assert_eq (v, 32 * 60 * 60);
  cr_assert (dogpile_arguments_get_duration (a, "td2", 0, &v, &error));
  cr_assert_eq (v, 172801.5);
  cr_assert (dogpile_arguments_get_duration (a, "clock", 0, &v, &error));
  cr_assert_eq (v, 300);
  cr_assert_not (dogpile_arguments_get_duration (a, "bad", 0, &v, &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  g_clear_error (&error);
  cr_assert_not (dogpile_arguments_get_duration (a, "unit", 0, &v, &error));
}

/* One rule for every number in a duration: finite decimals only.  These
 * were taken (inf days, 1e999s as infinity, 0x10s as 16 s, nan days as
 * nan) or refused only in one form. */
Test (arguments, durations_are_finite_decimals)
{
  static const char *const bad[] = {
    "inf days",  "1e999s",          "0x10s",  "1e400",
    "nan days",  "1e400 days",      "1e308d", "infs",
    "nan",       "1e305 days",      "0x10",   "1e-5000x",
    "5 parsecs", "1 day, 8:00:00x",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GHashTable) a = arguments_of ("t", bad[i], NULL);
      g_autoptr (GError) error = NULL, exp_error = NULL;
      g_autofree char *quoted = g_strdup_printf ("'%s'", bad[i]);
      double v;

      cr_assert_not (dogpile_arguments_get_duration (a, "t", 0, &v, &error),
                     "%s was taken as %g", bad[i], v);
      assert_error (error, DOGPILE_ERROR_VALIDATION);
      cr_assert (strstr (error->message, quoted) != NULL, "%s",
                 error->message);
      cr_assert_not (dogpile_parse_expiration_time (bad[i], &v, &exp_error),
                     "%s was taken as %g", bad[i], v);
      cr_assert (strstr (exp_error->message, quoted) != NULL, "%s",
                 exp_error->message);
    }
}

/* str(timedelta(hours=-1)): the days alone are negative. */
Test (arguments, negative_timedelta_string)
{
  double v;

  cr_assert (dogpile_parse_expiration_time ("-1 day, 23:00:00", &v, NULL));
  cr_assert_eq (v, -3600);
}

Test (arguments, expiration_time_strings)
{
  g_autoptr (GError) error = NULL;
  double v;

  cr_assert (dogpile_parse_expiration_time ("600", &v, &error));
  cr_assert_eq (v, 600);
  cr_assert (dogpile_parse_expiration_time ("none", &v, &error));
  cr_assert_eq (v, DOGPILE_EXPIRATION_NONE);
  cr_assert (dogpile_parse_expiration_time ("None", &v, &error));
  cr_assert_eq (v, DOGPILE_EXPIRATION_NONE);
  cr_assert (dogpile_parse_expiration_time ("", &v, &error));
  cr_assert_eq (v, DOGPILE_EXPIRATION_NONE);
  cr_assert (dogpile_parse_expiration_time ("-1", &v, &error));
  cr_assert_eq (v, DOGPILE_EXPIRATION_NONE);
  cr_assert (dogpile_parse_expiration_time ("0.5", &v, &error));
  cr_assert_eq (v, 0.5);
  cr_assert (dogpile_parse_expiration_time ("2h", &v, &error));
  cr_assert_eq (v, 7200);
  /* test_reject_invalid_expiration_time */
  cr_assert_not (dogpile_parse_expiration_time ("one hour", &v, &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (g_str_has_prefix (error->message,
                               "expiration_time is not a number or "
                               "timedelta."));
}

/* --- what every plugin needs, from the core ------------------------- */

Test (arguments, blank_and_none_are_not_given)
{
  g_autoptr (GHashTable) a = arguments_of ("blank", "  ", "none", " None ",
                                           "given", "  x y  ", NULL);
  g_autofree char *s = NULL;
  g_autofree char *d = NULL;
  gint64 v = 0;

  cr_assert_not (dogpile_arguments_has (a, "blank"));
  cr_assert_not (dogpile_arguments_has (a, "none"));
  cr_assert_not (dogpile_arguments_has (a, "absent"));
  cr_assert_not (dogpile_arguments_has (NULL, "absent"));
  cr_assert (dogpile_arguments_has (a, "given"));
  cr_assert (dogpile_arguments_dup_string (a, "given", "d", &s, NULL));
  cr_assert_str_eq (s, "x y");
  cr_assert (dogpile_arguments_dup_string (a, "blank", "d", &d, NULL));
  cr_assert_str_eq (d, "d");
  cr_assert (dogpile_arguments_get_int (a, "blank", 4, &v, NULL));
  cr_assert_eq (v, 4);
}

/* "none" spelt out is not "not given" for a backend that asks. */
Test (arguments, none_spelt_out)
{
  g_autoptr (GHashTable) a
      = arguments_of ("none", " None ", "lower", "none", "blank", "", "word",
                      "nonesuch", NULL);

  cr_assert (dogpile_arguments_is_none (a, "none"));
  cr_assert (dogpile_arguments_is_none (a, "lower"));
  cr_assert_not (dogpile_arguments_is_none (a, "blank"));
  cr_assert_not (dogpile_arguments_is_none (a, "word"));
  cr_assert_not (dogpile_arguments_is_none (a, "absent"));
  cr_assert_not (dogpile_arguments_is_none (NULL, "absent"));
}

Test (arguments, integer_ranges)
{
  g_autoptr (GHashTable) a
      = arguments_of ("low", "0", "high", " 10 ", "under", "-1", "over", "11",
                      "bad", "5s", NULL);
  g_autoptr (GError) error = NULL;
  gint64 v = 0;

  cr_assert (dogpile_arguments_get_int_range (a, "low", 5, 0, 10, &v, NULL));
  cr_assert_eq (v, 0);
  cr_assert (dogpile_arguments_get_int_range (a, "high", 5, 0, 10, &v, NULL));
  cr_assert_eq (v, 10);
  /* the default is the caller's, never checked */
  cr_assert (
      dogpile_arguments_get_int_range (a, "absent", 99, 0, 10, &v, NULL));
  cr_assert_eq (v, 99);
  cr_assert_not (
      dogpile_arguments_get_int_range (a, "under", 5, 0, 10, &v, &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert_str_eq (error->message,
                    "Argument 'under' must be an integer from 0 to 10, not "
                    "'-1'");
  g_clear_error (&error);
  cr_assert_not (
      dogpile_arguments_get_int_range (a, "over", 5, 0, 10, &v, &error));
  cr_assert_str_eq (error->message,
                    "Argument 'over' must be an integer from 0 to 10, not "
                    "'11'");
  g_clear_error (&error);
  cr_assert_not (
      dogpile_arguments_get_int_range (a, "bad", 5, 0, 10, &v, &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert_eq (v, 99, "a failed read leaves the output alone");
}

Test (arguments, duration_ranges)
{
  g_autoptr (GHashTable) a = arguments_of ("zero", "0", "ms", "0.001", "long",
                                           "2h", "neg", "-1", NULL);
  g_autoptr (GError) error = NULL;
  double s = 0;

  cr_assert (dogpile_arguments_get_duration_range (
      a, "zero", 1, 0, 60, DOGPILE_ARGUMENTS_NONE, &s, NULL));
  cr_assert_eq (s, 0);
  cr_assert_not (dogpile_arguments_get_duration_range (
      a, "zero", 1, 0, 60, DOGPILE_ARGUMENTS_ABOVE_MIN, &s, &error));
  cr_assert_str_eq (error->message,
                    "Argument 'zero' must be a duration above 0 and at most "
                    "60 seconds, not '0'");
  g_clear_error (&error);
  cr_assert (dogpile_arguments_get_duration_range (
      a, "ms", 1, 0, 60, DOGPILE_ARGUMENTS_ABOVE_MIN, &s, NULL));
  cr_assert_float_eq (s, 0.001, 1e-12);
  cr_assert_not (dogpile_arguments_get_duration_range (
      a, "long", 1, 0, 60, DOGPILE_ARGUMENTS_NONE, &s, &error));
  cr_assert_str_eq (error->message,
                    "Argument 'long' must be a duration of at least 0 and at "
                    "most 60 seconds, not '2h'");
  g_clear_error (&error);
  cr_assert_not (dogpile_arguments_get_duration_range (
      a, "neg", 1, 0, 60, DOGPILE_ARGUMENTS_NONE, &s, &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
}

Test (arguments, choices)
{
  static const char *const modes[] = { "auto", "always", "never", NULL };
  g_autoptr (GHashTable) a = arguments_of ("upper", " NEVER ", "blank", "",
                                           "bad", "sometimes", NULL);
  g_autoptr (GError) error = NULL;
  guint i = 7;

  cr_assert (dogpile_arguments_get_choice (a, "upper", modes, 0, &i, NULL));
  cr_assert_eq (i, 2);
  cr_assert (dogpile_arguments_get_choice (a, "blank", modes, 1, &i, NULL));
  cr_assert_eq (i, 1);
  cr_assert (dogpile_arguments_get_choice (a, "absent", modes, 0, &i, NULL));
  cr_assert_eq (i, 0);
  cr_assert_not (
      dogpile_arguments_get_choice (a, "bad", modes, 0, &i, &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert_str_eq (error->message,
                    "Argument 'bad' must be one of auto, always, never, not "
                    "'sometimes'");
}
