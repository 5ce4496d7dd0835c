/* test-pickle-direct.c: the one-pass loader (core/dogpile-pickle-direct.c)
 * against the general one on the same bytes.  Built from the core's
 * sources, since neither is exported: whatever the direct loader
 * accepts, the general one must read to the same type and the same
 * bytes, in normal form; everything it declines is left to the general
 * one.  Cases: Python's pickles of random dicts, lists and scalars
 * (tests/core/pickle-peer.py shapes), each truncated and damaged, and
 * the corners the loader's grammar has.
 *
 * SPDX-License-Identifier: MIT
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dogpile-python-tree.h"
#include "test-util.h"

#define PEER TEST_SOURCE_DIR "/pickle-peer.py"
#define MAX_SIZE (64 * 1024 * 1024)

typedef struct {
  guint accepted, declined;
} Counts;

/* TRUE when the direct loader took @data. */
static gboolean
agree (const guint8 *data, gsize len, Counts *counts)
{
  g_autoptr (GVariant) fast = NULL;
  g_autoptr (GVariant) general = NULL;
  g_autoptr (GVariant) untrusted = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *hex = NULL;

  if (!py_pickle_load_direct (data, len, MAX_SIZE, &fast))
    {
      cr_assert_null (fast);
      counts->declined++;
      return FALSE;
    }
  counts->accepted++;
  hex = g_malloc (2 * MIN (len, 200) + 1);
  for (gsize i = 0; i < MIN (len, 200); i++)
    g_snprintf (hex + 2 * i, 3, "%02x", data[i]);
  general = py_pickle_load_general (data, len, MAX_SIZE, &error);
  cr_assert_not_null (general, "general loader fails on %s: %s", hex,
                      error->message);
  cr_assert_str_eq (g_variant_get_type_string (fast),
                    g_variant_get_type_string (general), "type for %s", hex);
  cr_assert_eq (g_variant_get_size (fast), g_variant_get_size (general),
                "size for %s", hex);
  cr_assert_eq (memcmp (g_variant_get_data (fast),
                        g_variant_get_data (general),
                        g_variant_get_size (fast)),
                0, "bytes for %s", hex);
  /* trusted data must be in normal form: ask GLib, with trust removed */
  untrusted = g_variant_ref_sink (g_variant_new_from_data (
      g_variant_get_type (fast), g_variant_get_data (fast),
      g_variant_get_size (fast), FALSE, NULL, NULL));
  cr_assert (g_variant_is_normal_form (untrusted), "not normal for %s", hex);
  return TRUE;
}

Test (pickle_direct, pythons_pickles_agree_damaged_or_not)
{
  g_autofree char *out = python_helper (PEER, "shapes", "1", "400", NULL);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  Counts whole = { 0 }, damaged = { 0 };
  static const char ops[] = "()]}aesuhjq\x94K.N\x95";

  for (char **line = lines; *line != NULL; line++)
    {
      g_auto (GStrv) f = g_strsplit (*line, " ", 2);
      g_autoptr (GBytes) pickle = NULL;
      gsize len;
      const guint8 *data;
      g_autofree guint8 *copy = NULL;
      gboolean taken;

      cr_assert_eq (g_strv_length (f), 2);
      pickle = bytes_from_hex (f[1]);
      data = g_bytes_get_data (pickle, &len);
      copy = g_malloc (len);
      /* CPython's own pickles of these shapes are all taken, but for
       * protocol 2's bytes (a REDUCE of _codecs.encode) */
      taken = agree (data, len, &whole);
      cr_assert (
          taken || (f[0][0] == '2' && strstr (f[1], "5f636f64656373") != NULL)
              || (f[0][0] == '2' && strstr (f[1], "6279746573") != NULL),
          "declined: %.200s", *line);
      for (gsize cut = 0; cut < len && cut < 200; cut++)
        agree (data, cut, &damaged);
      for (int i = 0; i < 20; i++)
        {
          memcpy (copy, data, len);
          for (int k = g_rand_int_range (rand, 1, 4); k > 0; k--)
            {
              gsize at = (gsize) g_rand_int_range (rand, 0, (gint32) len);

              if (g_rand_boolean (rand))
                copy[at] ^= (guint8) (1 << g_rand_int_range (rand, 0, 8));
              else
                copy[at] = (guint8)
                    ops[g_rand_int_range (rand, 0, (gint32) sizeof ops - 1)];
            }
          agree (copy, len, &damaged);
        }
    }
  cr_assert_gt (whole.accepted, 1000);
  /* damage leaves some pickles valid, and those agree too */
  cr_assert_gt (damaged.accepted, 100, "%u damaged pickles taken",
                damaged.accepted);
}

typedef struct {
  const char *what;
  const char *data;
  gsize len;
  gboolean direct; /* taken by the direct loader */
} Corner;

#define CORNER(what, text, direct)                                            \
  {                                                                           \
    what, text, sizeof text - 1, direct                                       \
  }

Test (pickle_direct, corners_of_the_grammar)
{
  static const Corner corners[] = {
    /* an empty list, then its parent's next value: parsed as the list's
     * one member, rewound at the missing APPEND */
    CORNER ("empty list then a key",
            "\x80\x04}\x94(\x8c\x01"
            "a]\x94\x8c\x01"
            "bK\x01u.",
            TRUE),
    CORNER ("one-member list",
            "\x80\x04]\x94K\x07"
            "a.",
            TRUE),
    CORNER ("one-entry dict", "\x80\x04}\x94\x8c\x01kK\x01s.", TRUE),
    CORNER ("nested empties",
            "\x80\x04]\x94(]\x94]\x94]\x94"
            "a]\x94"
            "e.",
            TRUE),
    CORNER ("protocol 2 BINPUT",
            "\x80\x02}q\x00X\x01\x00\x00\x00kq\x01K\x01s.", TRUE),
    CORNER ("BINPUT out of order", "\x80\x02}q\x05X\x01\x00\x00\x00kK\x01s.",
            FALSE),
    CORNER ("a FRAME between opcodes",
            "\x80\x04]\x94(K\x01\x95\x03\x00\x00\x00\x00\x00\x00\x00K\x02"
            "e.",
            TRUE),
    CORNER ("a FRAME longer than the input",
            "\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00N.", FALSE),
    CORNER ("memo reference to a str key",
            "\x80\x04](}\x94\x8c\x02id\x94K\x01s}\x94h\x01K\x02se.", TRUE),
    CORNER ("memo reference to bytes",
            "\x80\x04](C\x02xy\x94h\x00"
            "e.",
            TRUE),
    CORNER ("memo reference to a container",
            "\x80\x04](]\x94h\x00"
            "e.",
            FALSE),
    CORNER ("memo reference to bytes as a key",
            "\x80\x04](C\x01k\x94}\x94h\x00K\x01se.", FALSE),
    /* keys alike in their first word, or one the other's prefix */
    CORNER ("keys alike in their first 8 bytes",
            "\x80\x04}\x94(\x8c\x09"
            "abcdefgh1K\x01\x8c\x09"
            "abcdefgh2K\x02u.",
            TRUE),
    CORNER ("a key the prefix of another",
            "\x80\x04}\x94(\x8c\x02"
            "abK\x01\x8c\x03"
            "abcK\x02u.",
            TRUE),
    /* Python keeps one entry a key: the general loader merges them */
    CORNER ("duplicate keys",
            "\x80\x04}\x94(\x8c\x01"
            "a\x94K\x01h\x01K\x02u.",
            FALSE),
    CORNER ("a str holding a zero byte",
            "\x80\x04\x8c\x03"
            "a\x00"
            "b\x94.",
            FALSE),
    CORNER ("a lone surrogate", "\x80\x04\x8c\x03\xed\xa0\x80\x94.", FALSE),
    CORNER ("invalid UTF-8", "\x80\x04\x8c\x02\xc3\x28\x94.", FALSE),
    CORNER ("LONG1 of 8 bytes",
            "\x80\x04\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80.", TRUE),
    CORNER ("LONG1 of 9 bytes (a big int)",
            "\x80\x04\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00.", FALSE),
    CORNER ("a tuple", "\x80\x04K\x01K\x02\x86\x94.", FALSE),
    CORNER ("a tuple as a dict value",
            "\x80\x04}\x94\x8c\x01k\x94K\x01K\x02\x86\x94s.", FALSE),
    CORNER ("a non-str key", "\x80\x04}\x94K\x01K\x02s.", FALSE),
    CORNER ("protocol 0", "(lp0\nI1\na.", FALSE),
    CORNER ("protocol 6", "\x80\x06N.", FALSE),
    CORNER ("no STOP",
            "\x80\x04]\x94(K\x01"
            "e",
            FALSE),
    CORNER ("a global", "\x80\x04\x8c\x02os\x8c\x06system\x93.", FALSE),
  };

  for (gsize i = 0; i < G_N_ELEMENTS (corners); i++)
    {
      Counts counts = { 0 };
      g_autoptr (GBytes) b = g_bytes_new (corners[i].data, corners[i].len);
      gsize len;
      const guint8 *data = g_bytes_get_data (b, &len);

      cr_assert_eq (agree (data, len, &counts), corners[i].direct, "%s: %s",
                    corners[i].what, corners[i].direct ? "declined" : "taken");
    }
}

/* Empty lists in a row make the loader rewind at every one: each first
 * parses the rest of the row as its single member, and its parent then
 * parses that again, so the work grows with the square of the row.
 * The values read are bounded by 8 times the input's length (and 4096),
 * so a short row is taken and a long one is left to the general loader
 * after a bounded time. */
static gboolean
empty_lists (int n)
{
  g_autoptr (GString) s = g_string_new ("\x80\x04](");
  Counts counts = { 0 };

  for (int i = 0; i < n; i++)
    g_string_append_c (s, ']');
  g_string_append (s, "e.");
  return agree ((const guint8 *) s->str, s->len, &counts);
}

Test (pickle_direct, rewinds_are_bounded, .timeout = 20)
{
  cr_assert (empty_lists (4));
  cr_assert_not (empty_lists (200));
}
