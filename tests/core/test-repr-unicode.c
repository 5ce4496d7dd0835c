/* test-repr-unicode.c: repr() of a str, against Python itself: every code
 * point but U+0000 (which a C string cannot hold) and the surrogates (which
 * UTF-8 cannot carry), one by one, compared
 * with what Debian 12's /usr/bin/python3 (3.11, Unicode 14.0) prints in
 * the same run; then the characters GLib and Python disagree on, quotes,
 * and bytes that are not UTF-8.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-util.h"

#define PYTHON "/usr/bin/python3"

static char *
c_repr (gunichar c)
{
  char utf8[8] = { 0 };

  g_unichar_to_utf8 (c, utf8);
  return dogpile_arg_to_repr (&DOGPILE_STRING (utf8), NULL);
}

static void
assert_repr (const char *text, const char *expected)
{
  g_autofree char *got = dogpile_arg_to_repr (&DOGPILE_STRING (text), NULL);

  cr_assert_str_eq (got, expected);
}

/* Python's repr(chr(c)) for every code point outside the surrogates, one
 * line each: a repr never holds a newline (U+000A, U+0085, U+2028 and
 * U+2029 are all escaped). */
Test (repr_unicode, every_code_point_matches_python, .timeout = 120)
{
  const char *argv[]
      = { PYTHON, "-c",
          "import sys, unicodedata\n"
          "out = sys.stdout\n"
          "out.write(unicodedata.unidata_version + '\\n')\n"
          "out.write('\\n'.join(repr(chr(c)) for c in range(0x110000)\n"
          "                    if not 0xd800 <= c <= 0xdfff))\n",
          NULL };
  const char *env[] = { "PYTHONIOENCODING=utf-8", "LC_ALL=C.UTF-8", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  int status = 0;
  gsize line = 1, differ = 0;

  cr_assert (g_file_test (PYTHON, G_FILE_TEST_IS_EXECUTABLE),
             "%s is needed to check repr() against Python (Debian's "
             "python3 package)",
             PYTHON);
  cr_assert (g_spawn_sync (NULL, (char **) argv, (char **) env, 0, NULL, NULL,
                           &out, &err, &status, &error),
             "%s", error != NULL ? error->message : "");
  cr_assert (g_spawn_check_wait_status (status, NULL), "python: %s", err);
  lines = g_strsplit (out, "\n", -1);
  cr_assert_str_eq (lines[0], "14.0.0",
                    "the table follows Unicode 14.0.0, this Python %s",
                    lines[0]);
  for (gunichar c = 0; c < 0x110000; c++)
    {
      g_autofree char *got = NULL;

      if (c >= 0xd800 && c <= 0xdfff)
        continue;
      cr_assert_not_null (lines[line], "Python stopped at U+%04X", c);
      if (c == 0)
        {
          /* a C string cannot hold U+0000 */
          cr_assert_str_eq (lines[line], "'\\x00'");
          line++;
          continue;
        }
      got = c_repr (c);
      if (strcmp (got, lines[line]) != 0 && differ++ < 20)
        cr_log_error ("U+%04X: C %s, Python %s", c, got, lines[line]);
      line++;
    }
  cr_assert_eq (differ, 0, "%" G_GSIZE_FORMAT " code points differ", differ);
  cr_assert_null (lines[line]);
}

/* Where GLib's g_unichar_isprint and Python's isprintable part ways. */
Test (repr_unicode, spaces_separators_private_use_and_format_characters)
{
  assert_repr (" ", "' '");
  assert_repr ("\xc2\xa0", "'\\xa0'");       /* U+00A0 NO-BREAK SPACE */
  assert_repr ("\xc2\xad", "'\\xad'");       /* U+00AD SOFT HYPHEN */
  assert_repr ("\xe3\x80\x80", "'\\u3000'"); /* IDEOGRAPHIC SPACE */
  assert_repr ("\xe2\x80\xa8", "'\\u2028'"); /* LINE SEPARATOR */
  assert_repr ("\xe2\x80\xa9", "'\\u2029'"); /* PARAGRAPH SEPARATOR */
  assert_repr ("\xee\x80\x80", "'\\ue000'"); /* private use */
  assert_repr ("\xef\xbb\xbf", "'\\ufeff'"); /* BOM, Cf */
  assert_repr ("\xf4\x8f\xbf\xbf", "'\\U0010ffff'");
  assert_repr ("\xcd\xb8", "'\\u0378'");                  /* unassigned */
  assert_repr ("\xf0\x9f\x98\x80", "'\xf0\x9f\x98\x80'"); /* emoji: kept */
  assert_repr ("caf\xc3\xa9", "'caf\xc3\xa9'");
}

Test (repr_unicode, quotes_and_backslashes)
{
  assert_repr ("it's", "\"it's\"");
  assert_repr ("say \"hi\"", "'say \"hi\"'");
  assert_repr ("it's \"x\"", "'it\\'s \"x\"'");
  assert_repr ("a\\b\t\n\r\x01\x7f", "'a\\\\b\\t\\n\\r\\x01\\x7f'");
}

/* Bytes that are not UTF-8 read as Python's surrogateescape decodes them:
 * U+DC80..U+DCFF, escaped by repr(). */
Test (repr_unicode, bytes_that_are_not_utf8)
{
  assert_repr ("a\xff"
               "b",
               "'a\\udcffb'");
  assert_repr ("\xc3", "'\\udcc3'");
}
