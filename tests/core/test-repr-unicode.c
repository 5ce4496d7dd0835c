/* test-repr-unicode.c: repr() of a str, against Python itself: every code
 * point but U+0000 (which a C string cannot hold) and the surrogates (which
 * UTF-8 cannot carry), 64 at a time, compared
 * with what Debian 12's /usr/bin/python3 (3.11, Unicode 14.0) prints in
 * the same run; then the characters GLib and Python disagree on, quotes,
 * and bytes that are not UTF-8.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-util.h"

#define PYTHON "/usr/bin/python3"

static void
assert_repr (const char *text, const char *expected)
{
  g_autofree char *got = dogpile_arg_to_repr (&DOGPILE_STRING (text), NULL);

  cr_assert_str_eq (got, expected);
}

/* Python's repr() of every code point outside U+0000 and the surrogates,
 * in strings of 64 consecutive code points (a repr per line: one never
 * holds a newline, since U+000A, U+0085, U+2028 and U+2029 are escaped),
 * against the C repr of the same strings. */
#define CHUNK 64

static gboolean
in_test (gunichar c)
{
  return c != 0 && !(c >= 0xd800 && c <= 0xdfff);
}

Test (repr_unicode, every_code_point_matches_python)
{
  const char *argv[] = {
    PYTHON, "-c",
    "import sys, unicodedata\n"
    "out = sys.stdout\n"
    "out.write(unicodedata.unidata_version + '\\n')\n"
    "cps = [c for c in range(1, 0x110000) if not 0xd800 <= c <= 0xdfff]\n"
    "for i in range(0, len(cps), 64):\n"
    "    out.write(repr(''.join(map(chr, cps[i:i + 64]))) + '\\n')\n",
    NULL
  };
  const char *env[] = { "PYTHONIOENCODING=utf-8", "LC_ALL=C.UTF-8", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  int status = 0;
  gsize line = 1, differ = 0, checked = 0;
  gunichar c = 0;

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
  while (c < 0x110000)
    {
      g_autofree char *got = NULL;
      gunichar first = 0;
      int n = 0;

      g_string_truncate (text, 0);
      for (; c < 0x110000 && n < CHUNK; c++)
        if (in_test (c))
          {
            if (n++ == 0)
              first = c;
            g_string_append_unichar (text, c);
          }
      if (n == 0)
        break;
      /* No assert per chunk: each is a message to Criterion's runner. */
      if (lines[line] == NULL)
        break;
      got = dogpile_arg_to_repr (&DOGPILE_STRING (text->str), NULL);
      if (strcmp (got, lines[line]) != 0 && differ++ < 10)
        cr_log_error ("the %d code points from U+%04X: C %s, Python %s", n,
                      first, got, lines[line]);
      checked += (gsize) n;
      line++;
    }
  cr_assert_eq (differ, 0, "%" G_GSIZE_FORMAT " strings differ", differ);
  cr_assert_eq (checked, 0x110000 - 1 - 0x800,
                "Python stopped after %" G_GSIZE_FORMAT " code points",
                checked);
  cr_assert (lines[line] == NULL || lines[line][0] == '\0');
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
