/* test-pickle.c: the pickle codec against Debian's CPython, in the same
 * run (tests/core/pickle-peer.py): every value in protocols 0 to 5 reads
 * back and writes as Python's protocol 4, byte for byte; values built in
 * C write as Python writes them; the GVariant made is the one GLib makes;
 * malformed pickles fail with a message and run nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#include <criterion/criterion.h>
#include <dogpile/dogpile.h>
#include <string.h>
#include <unistd.h>

#include "test-util.h"

#define PEER TEST_SOURCE_DIR "/pickle-peer.py"

typedef struct {
  char *name;
  GBytes *by_protocol[6];
} Vector;

static void
vector_free (gpointer data)
{
  Vector *v = data;

  g_free (v->name);
  for (int p = 0; p < 6; p++)
    g_clear_pointer (&v->by_protocol[p], g_bytes_unref);
  g_free (v);
}

static GPtrArray *
load_vectors (void)
{
  g_autofree char *out = python_helper (PEER, "vectors", NULL);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  GPtrArray *vectors = g_ptr_array_new_with_free_func (vector_free);
  Vector *current = NULL;

  for (char **line = lines; *line != NULL; line++)
    {
      g_auto (GStrv) f = g_strsplit (*line, " ", 3);
      int protocol;

      cr_assert_eq (g_strv_length (f), 3, "bad vector line '%.60s'", *line);
      if (current == NULL || strcmp (current->name, f[0]) != 0)
        {
          current = g_new0 (Vector, 1);
          current->name = g_strdup (f[0]);
          g_ptr_array_add (vectors, current);
        }
      protocol = atoi (f[1]);
      current->by_protocol[protocol] = bytes_from_hex (f[2]);
    }
  return vectors;
}

static char *
to_hex (GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  GString *s = g_string_sized_new (len * 2);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
  return g_string_free (s, FALSE);
}

static void
assert_same_bytes (GBytes *got, GBytes *want, const char *what)
{
  gsize got_len, want_len;
  const guint8 *g = g_bytes_get_data (got, &got_len);
  const guint8 *w = g_bytes_get_data (want, &want_len);
  gsize i = 0;

  while (i < got_len && i < want_len && g[i] == w[i])
    i++;
  cr_assert (i == got_len && i == want_len,
             "%s: differs at byte %zu (lengths %zu and %zu): "
             "got %02x, Python wrote %02x",
             what, i, got_len, want_len, i < got_len ? g[i] : 0,
             i < want_len ? w[i] : 0);
}

/* The serialized form must be GLib's own: GLib rebuilds the value from
 * its text form, which it serializes itself. */
static void
assert_glib_form (GVariant *value, const char *what)
{
  g_autofree char *text = g_variant_print (value, TRUE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) rebuilt = NULL;
  g_autoptr (GBytes) ours = NULL, theirs = NULL;
  g_autoptr (GVariant) untrusted = NULL;

  rebuilt = g_variant_parse (NULL, text, NULL, NULL, &error);
  cr_assert_null (error, "%s: %s", what, error ? error->message : "");
  ours = g_variant_get_data_as_bytes (value);
  theirs = g_variant_get_data_as_bytes (rebuilt);
  assert_same_bytes (ours, theirs, what);

  untrusted = g_variant_ref_sink (
      g_variant_new_from_bytes (g_variant_get_type (value), ours, FALSE));
  cr_assert (g_variant_is_normal_form (untrusted), "%s: not normal", what);
}

Test (pickle, python_writes_every_protocol_c_reads_and_rewrites_it)
{
  g_autoptr (GPtrArray) vectors = load_vectors ();

  cr_assert_gt (vectors->len, 50);
  for (guint i = 0; i < vectors->len; i++)
    {
      Vector *v = vectors->pdata[i];

      for (int p = 0; p < 6; p++)
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (GVariant) value = NULL;
          g_autoptr (GBytes) again = NULL;
          g_autofree char *what
              = g_strdup_printf ("%s, protocol %d", v->name, p);

          value = dogpile_pickle_loads (v->by_protocol[p], &error);
          cr_assert_not_null (value, "%s: %s", what, error->message);
          cr_assert (!g_variant_is_floating (value));
          if (p == 4 && g_bytes_get_size (v->by_protocol[p]) < 20000)
            assert_glib_form (value, what);
          again = dogpile_pickle_dumps (value, &error);
          cr_assert_not_null (again, "%s: %s", what, error->message);
          assert_same_bytes (again, v->by_protocol[4], what);
        }
    }
}

static GBytes *
python_p4 (const char *name)
{
  g_autoptr (GPtrArray) vectors = load_vectors ();
  GBytes *found = NULL;

  for (guint i = 0; i < vectors->len; i++)
    {
      Vector *v = vectors->pdata[i];

      if (strcmp (v->name, name) == 0)
        found = g_bytes_ref (v->by_protocol[4]);
    }
  cr_assert_not_null (found, "no vector %s", name);
  return found;
}

static void
add (GVariantBuilder *b, const char *key, GVariant *value)
{
  g_variant_builder_add (b, "{sv}", key, value);
}

static GVariant *
set_of (gint64 *items, gsize n)
{
  GVariantBuilder av;

  g_variant_builder_init (&av, G_VARIANT_TYPE ("av"));
  for (gsize i = 0; i < n; i++)
    g_variant_builder_add (&av, "v", g_variant_new_int64 (items[i]));
  return dogpile_py_tagged_new (DOGPILE_PY_SET, g_variant_builder_end (&av));
}

/* The value, built with GLib's API the way a C program would. */
static GVariant *
build_stock (void)
{
  GVariantBuilder b, list, deep;
  g_autoptr (GError) error = NULL;
  gint64 seven = 7;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  add (&b, "s", g_variant_new_string ("Z\xc3\xbcrich"));
  add (&b, "i", g_variant_new_int64 (42));
  add (&b, "b",
       dogpile_py_int_new_from_string ("1208925819614629174706176", &error));
  add (&b, "f", g_variant_new_double (-0.0));
  add (&b, "inf", g_variant_new_double (INFINITY));
  add (&b, "nan", g_variant_new_double (NAN));
  add (&b, "t", g_variant_new_boolean (TRUE));
  add (&b, "n", dogpile_py_none_new ());
  g_variant_builder_init (&list, G_VARIANT_TYPE ("av"));
  g_variant_builder_add (&list, "v", g_variant_new_int64 (1));
  g_variant_builder_add (&list, "v", g_variant_new_string ("x"));
  add (&b, "l", g_variant_builder_end (&list));
  add (&b, "tu", g_variant_new ("(xs)", (gint64) 2, "y"));
  add (&b, "se", set_of (&seven, 1));
  add (&b, "by", g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "raw", 3, 1));
  g_variant_builder_init (&deep, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_init (&list, G_VARIANT_TYPE ("av"));
  g_variant_builder_add (&list, "v", g_variant_new ("av", NULL));
  g_variant_builder_add (&deep, "{sv}", "deep", g_variant_builder_end (&list));
  add (&b, "d", g_variant_builder_end (&deep));
  return g_variant_builder_end (&b);
}

Test (pickle, a_value_built_in_c_pickles_as_python_pickles_it)
{
  g_autoptr (GBytes) want = python_p4 ("stock");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) got = NULL;
  g_autofree char *hex = NULL;
  g_autofree char *verdict = NULL;

  /* {"deep": [[]]}: a list holding an empty list; "av" with one "v" */
  got = dogpile_pickle_dumps (build_stock (), &error);
  cr_assert_not_null (got, "%s", error ? error->message : "");
  hex = to_hex (got);
  verdict = python_helper (PEER, "same", "stock", hex, NULL);
  cr_assert_str_eq (verdict, "ok");
  assert_same_bytes (got, want, "stock built in C");
}

Test (pickle, values_map_onto_gvariant_as_documented)
{
  static const struct {
    const char *name, *text;
  } cases[] = {
    { "none", "@mv nothing" },
    { "true", "true" },
    { "small", "int64 255" },
    { "u64", "{'int', <'18446744073709551615'>}" },
    { "negbig", "{'int', <'-1267650600228229401496703205369'>}" },
    { "negzero", "-0.0" },
    { "ascii", "'hello'" },
    { "surrogate", "{'str', <[byte 0x78, 0xed, 0xa0, 0x80, 0x79]>}" },
    /* a NUL would end an `s` */
    { "nulstr", "{'str', <[byte 0x61, 0x00, 0x62]>}" },
    /* GLib prints k and its NUL as a bytestring */
    { "nulkey", "{'dict', <[(<{'str', <b'k'>}>, <int64 1>)]>}" },
    { "bytes", "[byte 0x00, 0x01, 0x7c, 0xff]" },
    { "bytearray", "{'bytearray', <[byte 0x62, 0x61]>}" },
    { "emptyset", "{'set', <@av []>}" },
    { "tuplekeys", "{'dict', <[(<(int64 1, int64 2)>, <'pair'>)]>}" },
    { "tuple3", "(true, @mv nothing, 2.5)" },
    { "list", "[<int64 1>, <'two'>, <3.0>, <@mv nothing>]" },
    { "emptylist", "@av []" },
    { "tuple2", "(int64 1, 'a')" },
    { "emptytuple", "()" },
    { "set", "{'set', <[<int64 1>, <int64 2>, <int64 3>]>}" },
    { "frozenset", "{'frozenset', <[<int64 5>]>}" },
    { "intkeys", "{'dict', <[(<int64 1>, <'one'>), (<int64 2>, <'zwei'>)]>}" },
    { "nested",
      "{'inner': <[<{'k': <[<int64 1>, <[<int64 2>, <(int64 3,)>]>]>}>]>, "
      "'e': <@a{sv} {}>}" },
  };
  g_autoptr (GPtrArray) vectors = load_vectors ();

  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    for (guint i = 0; i < vectors->len; i++)
      {
        Vector *v = vectors->pdata[i];

        if (strcmp (v->name, cases[c].name) == 0)
          for (int p = 0; p < 6; p++)
            {
              g_autoptr (GError) error = NULL;
              g_autoptr (GVariant) value
                  = dogpile_pickle_loads (v->by_protocol[p], &error);
              g_autofree char *text = NULL;

              cr_assert_not_null (value, "%s: %s", v->name, error->message);
              text = g_variant_print (value, TRUE);
              cr_assert_str_eq (text, cases[c].text, "%s, protocol %d: %s",
                                v->name, p, text);
            }
      }
}

static void
assert_refused (const char *data, gsize len, const char *message_part)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) value
      = dogpile_pickle_loads_data ((const guint8 *) data, len, &error);

  cr_assert_null (value, "accepted: %s", message_part);
  cr_assert_not_null (error);
  cr_assert_eq (error->code, DOGPILE_ERROR_CANT_DESERIALIZE, "%s",
                error->message);
  cr_assert (strstr (error->message, message_part) != NULL,
             "'%s' does not say '%s'", error->message, message_part);
}

#define REFUSED(lit, part) assert_refused (lit, sizeof lit - 1, part)

Test (pickle, malformed_pickles_fail_with_a_message)
{
  REFUSED ("", "truncated");
  REFUSED ("\x80\x04K", "BININT1 needs 1 bytes");
  REFUSED ("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f",
           "BINUNICODE8 claims 9223372036854775807 bytes");
  REFUSED ("\x80\x04\x95\x00\x00\x00\x00\x00\x01\x00\x00N.", "FRAME claims");
  REFUSED ("B\xff\xff\xff\x7f", "BINBYTES claims");
  REFUSED ("T\xff\xff\xff\xff", "BINSTRING has a negative length");
  REFUSED ("\x80\x04\x8b\x00\x00\x00\x80.", "LONG4 has a negative length");
  REFUSED ("\x80\x04N\x94"
           "b.",
           "opcode BUILD is not allowed");
  REFUSED ("\x80\x02(i__main__\nX\n.", "opcode INST is not allowed");
  REFUSED ("P1\n.", "opcode PERSID");
  REFUSED ("\x80\x05\x97.", "NEXT_BUFFER");
  REFUSED ("\x80\x04\xff.", "0xff is not a pickle opcode");
  REFUSED ("\x80\x06N.", "protocol 6");
  REFUSED ("\x80\x04Nr\xff\xff\xff\x7f.", "memo index 2147483647 is out");
  REFUSED ("\x80\x04h\x05.", "memo key 5 is missing");
  REFUSED ("\x80\x04]\x94h\x00"
           "a.",
           "contains itself");
  REFUSED ("\x80\x04"
           "a.",
           "APPEND finds too few");
  REFUSED ("\x80\x04}K\x01"
           "a.",
           "APPEND applies to a list only");
  REFUSED ("\x80\x04(K\x01"
           "e.",
           "APPENDS finds no container");
  REFUSED ("\x80\x04(K\x01K\x02K\x03"
           "d.",
           "odd number");
  REFUSED ("\x80\x04\x8c\x02\xc3(.", "not UTF-8");
  REFUSED ("\x80\x02U\x02\xc3\xa9.", "Python 2 str with non-ASCII");
  REFUSED ("I12x\n.", "not a decimal int");
  REFUSED ("Fone\n.", "not a number");
  REFUSED ("\x80\x04.", "STOP finds nothing");
  REFUSED ("\x80\x04\x8c\x08"
           "builtins\x8c\x04"
           "eval\x93.",
           "the global 'builtins.eval' is not allowed");
  REFUSED ("\x80\x04\x8c\x08"
           "builtins\x8c\x03set\x93.",
           "holds a global, not a value");
  REFUSED ("c__builtin__\nset\n(K\x01tR.", "REDUCE of that global");
  REFUSED ("c__builtin__\ntuple\n)\x81.", "NEWOBJ makes only");
}

Test (pickle, a_global_for_os_system_runs_nothing)
{
  g_autofree char *marker = g_strdup_printf (
      "%s/dogpile-pickle-ran-%d", g_get_tmp_dir (), (int) getpid ());
  g_autofree char *p0
      = g_strdup_printf ("cos\nsystem\n(S'touch %s'\ntR.", marker);
  g_autofree char *p4 = g_strdup_printf (
      "\x80\x04\x8c\x02os\x8c\x06system\x93\x8c%ctouch %s\x85R.",
      (char) (strlen (marker) + 6), marker);

  assert_refused (p0, strlen (p0), "the global 'os.system' is not allowed");
  assert_refused (p4, strlen (p4), "the global 'os.system' is not allowed");
  cr_assert (!g_file_test (marker, G_FILE_TEST_EXISTS));
}

Test (pickle, nesting_and_sharing_are_bounded)
{
  GString *deep = g_string_new ("\x80\x04");
  GString *wide = g_string_new ("\x80\x04]\x94");
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) ok = NULL;

  /* 200 lists in each other: over GVariant's 128 levels */
  for (int i = 0; i < 200; i++)
    g_string_append (deep, "]");
  for (int i = 0; i < 199; i++)
    g_string_append (deep, "a");
  g_string_append (deep, ".");
  assert_refused (deep->str, deep->len, "nests deeper");

  /* l[i+1] = [l[i], l[i]]: 2^40 copies of the first from 200 bytes */
  for (int i = 0; i < 40; i++)
    {
      g_string_append (wide, "(h");
      g_string_append_c (wide, (char) i);
      g_string_append_c (wide, 'h');
      g_string_append_c (wide, (char) i);
      g_string_append (wide, "l\x94");
    }
  g_string_append (wide, ".");
  assert_refused (wide->str, wide->len, "would take more than");

  /* sharing within bounds is copied */
  {
    static const char shared[] = "\x80\x04\x8c\x01x\x94(h\x00h\x00l.";

    ok = dogpile_pickle_loads_data ((const guint8 *) shared, sizeof shared - 1,
                                    &error);
  }
  cr_assert_not_null (ok, "%s", error ? error->message : "");
  {
    g_autofree char *text = g_variant_print (ok, FALSE);

    cr_assert_str_eq (text, "[<'x'>, <'x'>]");
  }
  g_string_free (deep, TRUE);
  g_string_free (wide, TRUE);
}

/* Every prefix of every vector, and each with one byte changed: an error
 * or a value, never a crash (the sanitizer runs make this stricter). */
Test (pickle, damaged_pickles_never_crash)
{
  g_autoptr (GPtrArray) vectors = load_vectors ();
  guint32 seed = 12345;
  guint failures = 0;

  for (guint i = 0; i < vectors->len; i++)
    {
      Vector *v = vectors->pdata[i];

      for (int p = 0; p < 6; p++)
        {
          gsize len;
          const guint8 *data = g_bytes_get_data (v->by_protocol[p], &len);
          g_autofree guint8 *copy = NULL;

          if (len > 4000)
            continue;
          for (gsize cut = 0; cut + 1 < len; cut++)
            {
              g_autoptr (GError) error = NULL;
              g_autoptr (GVariant) value
                  = dogpile_pickle_loads_data (data, cut, &error);

              if (value == NULL)
                {
                  cr_assert_eq (error->code, DOGPILE_ERROR_CANT_DESERIALIZE);
                  failures++;
                }
            }
          copy = g_memdup2 (data, len);
          for (int k = 0; k < 64; k++)
            {
              g_autoptr (GError) error = NULL;
              g_autoptr (GVariant) value = NULL;
              gsize at;

              seed = seed * 1103515245u + 12345u;
              at = (seed >> 8) % len;
              copy[at] ^= (guint8) (1u << ((seed >> 3) & 7));
              value = dogpile_pickle_loads_data (copy, len, &error);
              if (value != NULL)
                {
                  g_autoptr (GBytes) again
                      = dogpile_pickle_dumps (value, NULL);

                  cr_assert_not_null (again);
                }
              copy[at] = data[at];
            }
        }
    }
  cr_assert_gt (failures, 1000);
}

Test (pickle, gvariant_values_that_are_not_python_are_refused)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) out = NULL;

  out = dogpile_pickle_dumps (
      g_variant_new_dict_entry (
          g_variant_new_string ("weird"),
          g_variant_new_variant (g_variant_new_int32 (1))),
      &error);
  cr_assert_null (out);
  cr_assert_eq (error->code, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, "not 'weird'") != NULL, "%s",
             error->message);
  g_clear_error (&error);

  out = dogpile_pickle_dumps (
      g_variant_new_dict_entry (g_variant_new_int32 (1),
                                g_variant_new_int32 (2)),
      &error);
  cr_assert_null (out);
  cr_assert (strstr (error->message, "'{ii}' is not a Python value") != NULL,
             "%s", error->message);
}

Test (pickle, every_gvariant_integer_and_string_type_is_accepted)
{
  static const struct {
    const char *text;
    const char *want_p4;
    gsize len;
  } cases[] = {
    { "byte 0xff", "\x80\x04K\xff.", 5 },
    { "int16 -2",
      "\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00J\xfe\xff\xff\xff.", 17 },
    { "uint32 4294967295",
      "\x80\x04\x95\x08\x00\x00\x00\x00\x00\x00\x00\x8a\x05\xff\xff\xff\xff"
      "\x00.",
      19 },
    { "uint64 18446744073709551615",
      "\x80\x04\x95\x0c\x00\x00\x00\x00\x00\x00\x00\x8a\x09\xff\xff\xff\xff"
      "\xff\xff\xff\xff\x00.",
      23 },
    { "objectpath '/a'",
      "\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00\x8c\x02/a\x94.", 17 },
    { "just int64 3", "\x80\x04K\x03.", 5 },
    { "<<true>>", "\x80\x04\x88.", 4 },
    { "@ax [1, 2]",
      "\x80\x04\x95\x09\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x02"
      "e.",
      20 },
    { "{'int', <'-5'>}",
      "\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00J\xfb\xff\xff\xff.", 17 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) v
          = g_variant_parse (NULL, cases[i].text, NULL, NULL, &error);
      g_autoptr (GBytes) got = NULL;
      g_autoptr (GBytes) want
          = g_bytes_new_static (cases[i].want_p4, cases[i].len);

      cr_assert_not_null (v, "%s: %s", cases[i].text, error->message);
      got = dogpile_pickle_dumps (v, &error);
      cr_assert_not_null (got, "%s: %s", cases[i].text, error->message);
      assert_same_bytes (got, want, cases[i].text);
    }
}

Test (pickle, python_ints_as_text)
{
  g_autoptr (GError) error = NULL;
  static const struct {
    const char *text;
    gboolean fits;
  } ints[] = {
    { "0", TRUE },
    { "-1", TRUE },
    { "9223372036854775807", TRUE },
    { "-9223372036854775808", TRUE },
    { "9223372036854775808", FALSE },
    { "-9223372036854775809", FALSE },
    { "123456789012345678901234567890", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (ints); i++)
    {
      g_autoptr (GVariant) v = g_variant_ref_sink (
          dogpile_py_int_new_from_string (ints[i].text, &error));
      g_autofree char *back = dogpile_py_int_to_string (v, &error);

      cr_assert_str_eq (back, ints[i].text);
      cr_assert_eq (strcmp (g_variant_get_type_string (v), "x") == 0,
                    ints[i].fits, "%s", ints[i].text);
    }
  cr_assert_null (dogpile_py_int_new_from_string ("12a", &error));
  cr_assert_eq (error->code, DOGPILE_ERROR_VALIDATION);
}

/* What pymemcache and pylibmc store for a stock region (protocol 5),
 * byte for byte; what python-memcached and bmemcached store (protocol
 * 0), read back. */
Test (pickle, cached_value_as_memcached_clients_pickle_it)
{
  g_autoptr (GPtrArray) vectors = load_vectors ();
  g_autofree char *out
      = python_helper (PEER, "cached", "1795607901.6525214", NULL);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  DogpileMetadata metadata;
  guint checked = 0;

  dogpile_metadata_init (&metadata, 1795607901.6525214);
  for (char **line = lines; *line != NULL; line++, checked++)
    {
      g_auto (GStrv) f = g_strsplit (*line, " ", 3);
      g_autoptr (GBytes) p5 = bytes_from_hex (f[1]),
                         p0 = bytes_from_hex (f[2]);
      Vector *v = NULL;

      for (guint i = 0; i < vectors->len && v == NULL; i++)
        if (strcmp (((Vector *) vectors->pdata[i])->name, f[0]) == 0)
          v = vectors->pdata[i];
      cr_assert_not_null (v, "%s", f[0]);
      {
        g_autoptr (GError) error = NULL;
        g_autoptr (GVariant) value
            = dogpile_pickle_loads (v->by_protocol[4], &error);
        g_autoptr (GBytes) ours
            = dogpile_pickle_dumps_cached_value (value, &metadata, &error);

        g_autoptr (GBytes) text = NULL;
        g_autofree char *what = g_strconcat (f[0], ", protocol 0", NULL);

        cr_assert_not_null (ours, "%s: %s", f[0], error->message);
        assert_same_bytes (ours, p5, f[0]);
        /* python-memcached's and bmemcached's form */
        text = dogpile_pickle_dumps_cached_value_protocol0 (value, &metadata,
                                                            &error);
        cr_assert_not_null (text, "%s: %s", what, error->message);
        assert_same_bytes (text, p0, what);
      }
      for (int which = 0; which < 2; which++)
        {
          GBytes *pickle = which ? p0 : p5;
          g_autoptr (GError) error = NULL;
          g_autoptr (GVariant) payload = NULL;
          g_autoptr (GBytes) again = NULL;
          DogpileMetadata got;
          gsize len;
          const guint8 *data = g_bytes_get_data (pickle, &len);

          cr_assert (dogpile_pickle_loads_cached_value (data, len, &payload,
                                                        &got, &error),
                     "%s protocol %d: %s", f[0], which ? 0 : 5,
                     error->message);
          cr_assert_eq (got.cached_time, 1795607901.6525214);
          cr_assert_eq (got.version, 2);
          again = dogpile_pickle_dumps (payload, &error);
          assert_same_bytes (again, v->by_protocol[4], f[0]);
        }
    }
  cr_assert_gt (checked, 50);

  /* a plain value is not a CachedValue */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) payload = NULL;
    Vector *v = vectors->pdata[0];
    DogpileMetadata got;
    gsize len;
    const guint8 *data = g_bytes_get_data (v->by_protocol[4], &len);

    cr_assert_not (
        dogpile_pickle_loads_cached_value (data, len, &payload, &got, &error));
    cr_assert (g_error_matches (error, DOGPILE_ERROR,
                                DOGPILE_ERROR_CANT_DESERIALIZE));
  }
}

/* Found by tests/fuzz/fuzz-codecs.c: a message quoting input that is not
 * UTF-8 (protocol 0's LONG line) must still be UTF-8 (GError's rule). */
Test (pickle, messages_quoting_input_are_utf8)
{
  static const char input[] = "L12\xff"
                              "34\n.";
  g_autoptr (GError) error = NULL;

  cr_assert_null (dogpile_pickle_loads_data ((const guint8 *) input,
                                             sizeof input - 1, &error));
  cr_assert (g_utf8_validate (error->message, -1, NULL));
  cr_assert_str_eq (error->message,
                    "Cannot unpickle: LONG's argument '12\\xff34' is not a "
                    "decimal int (at byte 7)");
}

/* A key met twice keeps its first place and takes the later value, as a
 * Python dict does: in a few entries, and in many (a hashed lookup). */
Test (pickle, a_repeated_key_keeps_one_entry)
{
  static const char few[] = "\x80\x04}\x94(\x8c\x01"
                            "a\x94K\x01\x8c\x01"
                            "bK\x02h\x01K\x03u.";
  g_autoptr (GString) many = g_string_new ("\x80\x04}\x94(");
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GVariant) big = NULL;
  g_autofree char *text = NULL;
  gint64 v = 0;

  value = dogpile_pickle_loads_data ((const guint8 *) few, sizeof few - 1,
                                     &error);
  cr_assert_not_null (value, "%s", error ? error->message : "");
  text = g_variant_print (value, TRUE);
  cr_assert_str_eq (text, "{'a': <int64 3>, 'b': <int64 2>}");

  for (int i = 0; i < 40; i++)
    g_string_append_printf (many, "\x8c\x03k%02dK%c", i, (char) i);
  g_string_append (many, "\x8c\x03k07K\x63u.");
  big = dogpile_pickle_loads_data ((const guint8 *) many->str, many->len,
                                   &error);
  cr_assert_not_null (big, "%s", error ? error->message : "");
  cr_assert_eq (g_variant_n_children (big), 40);
  cr_assert (g_variant_lookup (big, "k07", "x", &v));
  cr_assert_eq (v, 0x63);
}

/* The same with keys GVariant's s cannot hold (a tagged dict). */
Test (pickle, a_repeated_tagged_key_keeps_one_entry)
{
  static const char pickle[] = "\x80\x04}\x94(\x8c\x02"
                               "a\x00K\x01\x8c\x02"
                               "a\x00K\x02u.";
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) value = dogpile_pickle_loads_data (
      (const guint8 *) pickle, sizeof pickle - 1, &error);
  g_autofree char *text = NULL;

  cr_assert_not_null (value, "%s", error ? error->message : "");
  text = g_variant_print (value, TRUE);
  cr_assert_str_eq (text, "{'dict', <[(<{'str', <b'a'>}>, <int64 2>)]>}");
}

/* Protocol 0, as python-memcached and bmemcached write: every vector
 * Python wrote in protocol 0 is written again byte for byte from the
 * value C read, but those where Python shared an object C cannot know
 * was one (a repeated str that is not a singleton), which Python reads
 * back as the same value. */
Test (pickle, protocol0_writes_as_python_writes)
{
  g_autoptr (GPtrArray) vectors = load_vectors ();
  g_autoptr (GString) differ = g_string_new (NULL);
  guint same = 0;

  for (guint i = 0; i < vectors->len; i++)
    {
      Vector *v = vectors->pdata[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) value = NULL;
      g_autoptr (GBytes) text = NULL;
      g_autoptr (GVariant) back = NULL;

      value = dogpile_pickle_loads (v->by_protocol[4], &error);
      cr_assert_not_null (value, "%s: %s", v->name, error->message);
      text = dogpile_pickle_dumps_protocol0 (value, &error);
      cr_assert_not_null (text, "%s: %s", v->name, error->message);
      back = dogpile_pickle_loads (text, &error);
      cr_assert_not_null (back, "%s: %s", v->name, error->message);
      cr_assert (g_variant_equal (back, value), "%s: read back differs",
                 v->name);
      if (g_bytes_equal (text, v->by_protocol[0]))
        same++;
      else
        g_string_append_printf (differ, " %s", v->name);
    }
  cr_log_info ("protocol 0: %u of %u as Python wrote them; differ:%s", same,
               vectors->len, differ->str);
  cr_assert_eq (same, vectors->len, "differ:%s", differ->str);
}

/* A dict key or a set member Python cannot hash is its unpickler's
 * TypeError ("unhashable type: 'list'"): refused here too, so what loads
 * is what Python loads (and what tagged JSON can hold). */
Test (pickle, unhashable_keys_and_members_are_refused)
{
  static const struct {
    const char *what;
    const char *pickle;
    gsize len;
    const char *type;
  } cases[] = {
#define CASE(what, bytes, type) { what, bytes, sizeof (bytes) - 1, type }
    CASE ("a list as a dict key", "\x80\x04}\x94]\x94K\x01s.", "list"),
    CASE ("a dict in a set", "\x80\x04\x8f\x94(}\x90.", "dict"),
    CASE ("a tuple holding a list as a key", "\x80\x04}]\x85K\x01s.", "list"),
    CASE ("a bytearray in a frozenset",
          "\x80\x05(\x96\x00\x00\x00\x00\x00\x00\x00\x00\x91.", "bytearray"),
    CASE ("a set key by SETITEMS", "\x80\x04}(\x8fK\x01u.", "set"),
    CASE ("protocol 0: set() of a list holding a list",
          "c__builtin__\nset\n(((lltR.", "list"),
    CASE ("protocol 0: a dict key by DICT", "((dI1\nd.", "dict"),
#undef CASE
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *expected
          = g_strdup_printf ("unhashable type: '%s'", cases[i].type);
      g_autoptr (GVariant) value = dogpile_pickle_loads_data (
          (const guint8 *) cases[i].pickle, cases[i].len, &error);

      cr_assert_null (value, "%s loaded", cases[i].what);
      cr_assert (g_error_matches (error, DOGPILE_ERROR,
                                  DOGPILE_ERROR_CANT_DESERIALIZE),
                 "%s", cases[i].what);
      cr_assert (strstr (error->message, expected) != NULL, "%s: %s",
                 cases[i].what, error->message);
    }
  /* hashable keys still load: a tuple of scalars, a frozenset */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) value = dogpile_pickle_loads_data (
        (const guint8 *) "\x80\x04}K\x01\x85K\x02s.", 10, &error);

    cr_assert_not_null (value, "%s", error ? error->message : "");
  }
}
