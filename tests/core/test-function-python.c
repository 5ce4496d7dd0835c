/* test-function-python.c: the keys of cached functions against Debian's
 * dogpile.cache, in the same run (tests/core/function-peer.py).  Every
 * case is a function (module, name, namespace, receiver, signature) and a
 * call; Python says what its key generator returns for that call and
 * which keys calling the decorated function stores in a memory region;
 * C must give the same from its key generator, from
 * dogpile_cached_function_dup_key and from the keys a call stores.
 *
 * Arguments: ints (64-bit, unsigned and beyond 64 bits as tagged
 * GVariants), floats (chosen ones and random bit patterns), bools, None,
 * str (any Unicode, bytes that are not UTF-8, lone surrogates as tagged
 * GVariants), bytes and containers; to_str str and repr; the single, multi
 * and kwarg generators.  The floats once more under a locale with a
 * decimal comma.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-util.h"

#include <float.h>
#include <locale.h>
#include <math.h>

#define PEER TEST_SOURCE_DIR "/function-peer.py"

typedef enum { FORM_SINGLE, FORM_MULTI, FORM_KWARG } Form;

static const char *const form_names[] = { "single", "multi", "kwarg" };

/* What keys start with. */
typedef struct {
  const char *module;
  const char *function;
  const char *namespace_; /* NULL: none */
  const char *receiver;   /* "self", "cls" or NULL */
} Prefix;

typedef struct {
  const Prefix *prefix;
  Form form;
  gboolean repr;
  /* the kwarg form's signature (the receiver, if any, first) */
  const char *const *params;
  gsize n_params;
  const DogpileArg *defaults;
  gsize n_defaults;
  GArray *args; /* DogpileArg: positional and keyword (named) ones */
} Case;

/* What one side made of a case: keys, or an error. */
typedef struct {
  gboolean ok;
  GPtrArray *keys;  /* char *, when ok */
  char *error_type; /* Python's exception class; "GError" for C */
  char *message;
} Outcome;

/* Values the cases borrow, freed at the end of a test. */
static GPtrArray *kept_variants, *kept_strings;

static void
keep_init (void)
{
  kept_variants
      = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  kept_strings = g_ptr_array_new_with_free_func (g_free);
}

static void
keep_free (void)
{
  g_clear_pointer (&kept_variants, g_ptr_array_unref);
  g_clear_pointer (&kept_strings, g_ptr_array_unref);
}

static DogpileArg
variant_arg (GVariant *value)
{
  g_ptr_array_add (kept_variants, g_variant_ref_sink (value));
  return DOGPILE_VARIANT (value);
}

static DogpileArg
string_arg (char *owned)
{
  g_ptr_array_add (kept_strings, owned);
  return DOGPILE_STRING (owned);
}

static GVariant *
parse (const char *type, const char *text)
{
  g_autoptr (GError) error = NULL;
  GVariant *v = g_variant_parse (type != NULL ? G_VARIANT_TYPE (type) : NULL,
                                 text, NULL, NULL, &error);

  cr_assert_not_null (v, "%s: %s", text, error ? error->message : "");
  /* g_variant_parse gives a full reference: kept until the test ends,
   * the value borrowed by whoever uses it */
  g_ptr_array_add (kept_variants, v);
  return v;
}

static GVariant *
bytes_variant (const char *data, gsize len)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1);
}

static GVariant *
big_int (const char *decimal)
{
  g_autoptr (GError) error = NULL;
  GVariant *v = dogpile_py_int_new_from_string (decimal, &error);

  cr_assert_not_null (v, "%s: %s", decimal, error ? error->message : "");
  return v;
}

/* A str with lone surrogates: its surrogatepass UTF-8, tagged. */
static GVariant *
surrogate_str (const char *wtf8)
{
  return dogpile_py_tagged_new (DOGPILE_PY_STR,
                                bytes_variant (wtf8, strlen (wtf8)));
}

/* --- the arguments ---------------------------------------------------- */

static const gint64 ints[] = {
  0,          1,
  -1,         2,
  5,          10,
  42,         -7,
  255,        256,
  65535,      G_MAXINT32,
  G_MININT32, (G_GINT64_CONSTANT (1) << 53) + 1,
  G_MAXINT64, G_MININT64,
};

static const guint64 uints[] = {
  0,
  7,
  G_GUINT64_CONSTANT (9223372036854775808),
  G_MAXUINT64,
};

static const char *const big_ints[] = {
  "18446744073709551616", /* 2^64 */
  "-9223372036854775809", /* -2^63 - 1 */
  "9223372036854775808",  /* 2^63: beyond gint64 */
  "-18446744073709551616",
  "100000000000000000000000000000000000000000",
  "-123456789012345678901234567890123456789",
  "1180591620717411303424", /* 2^70 */
  "42",                     /* fits: an x */
  "-0",
};

static double
bits_to_double (guint64 bits)
{
  double d;

  memcpy (&d, &bits, sizeof d);
  return d;
}

static void
add_doubles (GArray *out)
{
  const double chosen[] = {
    0.0,
    -0.0,
    1.0,
    -1.0,
    -1.5,
    0.5,
    2.5,
    0.1,
    0.2,
    0.1 + 0.2,
    1.0 / 3.0,
    2.0 / 3.0,
    3.14159,
    100.0,
    1e15,
    1e16,
    1e17,
    1.5e16,
    9007199254740993.0,
    123456789.123,
    12345678901234567890.0,
    1e22,
    1e23,
    1e-4,
    1e-5,
    1e-7,
    1.5e-7,
    0.0001234,
    0.00001234,
    5e-324,
    DBL_MIN,
    DBL_MAX,
    -DBL_MAX,
    DBL_EPSILON,
    ldexp (1.0, -24),
    ldexp (1.0, 63),
    ldexp (1.0, 64),
    ldexp (1.0, -1022),
    ldexp (1.0, 1023),
    ldexp (1.0, 52) + 0.5,
    1234567.0,
    1.7976931348623157e308,
    2.2250738585072014e-308,
    4.35,
    0.3,
    1.1,
    2.675,
    1e300 * 10,
    INFINITY,
    -INFINITY,
    NAN,
    -NAN,
    bits_to_double (G_GUINT64_CONSTANT (0x7ff0000000000001)), /* a nan */
    bits_to_double (G_GUINT64_CONSTANT (0xfff8000000000123)),
    1.0 * G_MAXINT64,
    1e-320, /* subnormal */
    123e-310,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (chosen); i++)
    {
      DogpileArg a = DOGPILE_DOUBLE (chosen[i]);

      g_array_append_val (out, a);
    }
  for (int e = -1074; e <= 1023; e += 37)
    {
      DogpileArg a = DOGPILE_DOUBLE (ldexp (1.0, e));

      g_array_append_val (out, a);
    }
}

static const char *const strings[] = {
  "",
  "a",
  "abc",
  " ",
  "  ",
  "a b",
  " lead",
  "trail ",
  "|",
  "a|b",
  "||",
  ":",
  "mod:fn|x",
  "\n",
  "x\ny",
  "\t",
  "\r\n",
  "'",
  "\"",
  "it's",
  "a\"b",
  "both ' and \"",
  "\\",
  "back\\slash",
  "None",
  "True",
  "1",
  "1.0",
  "nan",
  "\x01\x1f\x7f",
  "\xc3\xa9",                             /* U+00E9 */
  "m\xc3\xa9il dr\xc3\xb4le",             /* from dogpile's own test */
  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", /* U+65E5 U+672C U+8A9E */
  "\xf0\x9f\x98\x80",                     /* U+1F600, non-BMP */
  "\xf0\x90\x80\x80",                     /* U+10000 */
  "\xf4\x8f\xbf\xbf",                     /* U+10FFFF */
  "\xef\xbf\xbd",                         /* U+FFFD */
  "\xef\xbf\xbf",                         /* U+FFFF, a noncharacter */
  "\xef\xbb\xbf",                         /* U+FEFF */
  "\xe2\x80\x8b",                         /* U+200B */
  "\xc2\x85",                             /* U+0085 */
  "\xe2\x80\xa8",                         /* U+2028 */
  "\xc2\xa0",                             /* U+00A0 */
  "\xe3\x80\x80",                         /* U+3000 */
  "e\xcc\x81",                            /* e + combining acute */
  "\xee\x80\x80",                         /* U+E000, private use */
  "\xf3\xa0\x80\x81",                     /* U+E0001, a tag */
  "\xcd\xb8",                             /* U+0378, unassigned */
  "\xff",                                 /* not UTF-8: U+DCFF to Python */
  "\x80"
  "abc",
  "a\xc3",            /* a truncated sequence */
  "\xed\xa0\x80",     /* a surrogate in UTF-8: invalid */
  "\xc0\x80",         /* overlong */
  "\xe0\x80\xaf",     /* overlong */
  "\xf4\x90\x80\x80", /* above U+10FFFF */
  "\xf8\x88\x80\x80\x80",
};

/* Lone surrogates, which only the tagged form carries (surrogatepass). */
static const char *const surrogate_strings[] = {
  "\xed\xa0\x80", /* U+D800 */
  "\xed\xb3\xbf", /* U+DCFF: surrogateescape's byte ff */
  "\xed\xb2\x80", /* U+DC80 */
  "a\xed\xbf\xbf"
  "b",                        /* U+DFFF */
  "\xed\xa0\xbd\xed\xb8\x80", /* U+D83D U+DE00: a pair, kept apart */
  "x\xed\xb0\x80 y",          /* U+DC00 */
  "plain",                    /* no surrogate at all */
};

static void
add_variants (GArray *out)
{
  const char *texts[][2] = {
    { NULL, "(1, 'a')" },
    { "(x)", "(5,)" },
    { NULL, "()" },
    { "ax", "[3]" },
    { "ax", "[]" },
    { "ai", "[1, -2, 3]" },
    { "a{sx}", "{'k': 1}" },
    { "a{sx}", "{}" },
    { "a{sv}", "{'a': <1>, 'b': <'x'>, 'c': <[1.5, -0.0]>}" },
    { "a{xs}", "{1: 'one', -2: 'two'}" },
    { "a{ds}", "{1.5: 'x'}" },
    { "av", "[<(1, 2.5)>, <@mv nothing>, <true>]" },
    { "(dddddd)", "(-0.0, nan, inf, -inf, 1e16, 0.1)" },
    { "(sssss)", "(\"it's\", 'a\"b', 'x\\ny', '\\\\', 'both \\' and \"')" },
    { "(ssss)", "('\\u0085', '\\u00a0', '\\U0001f600', '\\t\\r\\x01')" },
    { "ms", "just 'hello'" },
    { "ms", "nothing" },
    { "mv", "nothing" },
    { "mmx", "just just 3" },
    { "aay", "[b'x', b'', b'\\x00\\xff']" },
    { "ay", "b'it\\'s'" },
    { "ay", "[byte 0x27, 0x22]" },
    { "o", "'/a/b'" },
    { "g", "'ai'" },
    { "y", "byte 255" },
    { "n", "int16 -5" },
    { "q", "uint16 65535" },
    { "u", "uint32 4294967295" },
    { "t", "uint64 18446744073709551615" },
    { "h", "handle 3" },
    { "(bb)", "(true, false)" },
    { "((ii)(s))", "((1, 2), ('x',))" },
    { "a(xs)", "[(1, 'a'), (2, 'b')]" },
    { "a{sa{sx}}", "{'outer': {'inner': 1}}" },
    { "v", "<<'deep'>>" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      DogpileArg a = variant_arg (parse (texts[i][0], texts[i][1]));

      g_array_append_val (out, a);
    }

  /* the tagged forms of dogpile-python-value.h */
  {
    GVariant *tagged[] = {
      /* a tagged int's text, not canonical: Python reads int("007") */
      dogpile_py_tagged_new (DOGPILE_PY_INT, g_variant_new_string ("007")),
      dogpile_py_tagged_new (DOGPILE_PY_INT, g_variant_new_string ("-0")),
      dogpile_py_tagged_new (DOGPILE_PY_BYTEARRAY,
                             bytes_variant ("ba'\n\xff", 5)),
      dogpile_py_tagged_new (DOGPILE_PY_BYTEARRAY, bytes_variant ("", 0)),
      dogpile_py_tagged_new (DOGPILE_PY_BYTEARRAY, bytes_variant ("a\"b", 3)),
      dogpile_py_tagged_new (DOGPILE_PY_BYTEARRAY,
                             bytes_variant ("a\"'\\", 4)),
      dogpile_py_tagged_new (DOGPILE_PY_SET, parse ("ax", "[]")),
      dogpile_py_tagged_new (DOGPILE_PY_SET, parse ("ax", "[7]")),
      dogpile_py_tagged_new (DOGPILE_PY_SET, parse ("as", "['x']")),
      dogpile_py_tagged_new (DOGPILE_PY_FROZENSET, parse ("ax", "[]")),
      dogpile_py_tagged_new (DOGPILE_PY_FROZENSET, parse ("av", "[<2.5>]")),
      dogpile_py_tagged_new (DOGPILE_PY_DICT,
                             parse ("a(vv)", "[(<1>, <'one'>), (<(1, "
                                             "2)>, <@mv nothing>)]")),
      dogpile_py_tagged_new (DOGPILE_PY_DICT, parse ("a(vv)", "[]")),
      /* tagged values inside containers */
      g_variant_new_tuple ((GVariant *[]){ big_int ("-18446744073709551617"),
                                           surrogate_str ("\xed\xa0\x80"),
                                           surrogate_str ("\xed\xb3\xbf") },
                           3),
      g_variant_new_array (
          G_VARIANT_TYPE_VARIANT,
          (GVariant *[]){ g_variant_new_variant (dogpile_py_tagged_new (
                              DOGPILE_PY_BYTEARRAY, bytes_variant ("x", 1))),
                          g_variant_new_variant (dogpile_py_tagged_new (
                              DOGPILE_PY_SET, parse ("ax", "[1]"))) },
          2),
    };

    for (gsize i = 0; i < G_N_ELEMENTS (tagged); i++)
      {
        DogpileArg a = variant_arg (tagged[i]);

        g_array_append_val (out, a);
      }
  }
  for (gsize i = 0; i < G_N_ELEMENTS (big_ints); i++)
    {
      DogpileArg a = variant_arg (big_int (big_ints[i]));

      g_array_append_val (out, a);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (surrogate_strings); i++)
    {
      DogpileArg a = variant_arg (surrogate_str (surrogate_strings[i]));

      g_array_append_val (out, a);
    }
}

/* Every kind of argument, at least once. */
static GArray *
argument_pool (void)
{
  GArray *pool = g_array_new (FALSE, FALSE, sizeof (DogpileArg));
  const DogpileArg fixed[] = {
    DOGPILE_NONE,
    DOGPILE_BOOL (TRUE),
    DOGPILE_BOOL (FALSE),
    DOGPILE_BYTES ("", 0),
    DOGPILE_BYTES ("\0|x", 3),
    DOGPILE_BYTES ("it's", 4),
    DOGPILE_BYTES ("a\"b'c\\\n\t\r\x7f\x80\xff", 12),
  };

  g_array_append_vals (pool, fixed, G_N_ELEMENTS (fixed));
  for (gsize i = 0; i < G_N_ELEMENTS (ints); i++)
    {
      DogpileArg a = DOGPILE_INT (ints[i]);

      g_array_append_val (pool, a);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (uints); i++)
    {
      DogpileArg a = DOGPILE_UINT (uints[i]);

      g_array_append_val (pool, a);
    }
  add_doubles (pool);
  for (gsize i = 0; i < G_N_ELEMENTS (strings); i++)
    {
      DogpileArg a = DOGPILE_STRING (strings[i]);

      g_array_append_val (pool, a);
    }
  add_variants (pool);
  return pool;
}

/* A random str: code points from ASCII up to U+10FFFF, no U+0000 and no
 * surrogates; or, when @raw, any bytes but 0 (mostly not UTF-8). */
static DogpileArg
random_string (GRand *rand, gboolean raw)
{
  GString *s = g_string_new (NULL);
  int n = g_rand_int_range (rand, 0, 12);

  for (int i = 0; i < n; i++)
    {
      gunichar c;

      if (raw)
        {
          g_string_append_c (s, (char) g_rand_int_range (rand, 1, 256));
          continue;
        }
      switch (g_rand_int_range (rand, 0, 4))
        {
        case 0: c = (gunichar) g_rand_int_range (rand, 1, 0x80); break;
        case 1: c = (gunichar) g_rand_int_range (rand, 0x80, 0x800); break;
        case 2: c = (gunichar) g_rand_int_range (rand, 0x800, 0x10000); break;
        default:
          c = (gunichar) g_rand_int_range (rand, 0x10000, 0x110000);
          break;
        }
      if (c >= 0xd800 && c <= 0xdfff)
        c = 0xfffd;
      g_string_append_unichar (s, c);
    }
  return string_arg (g_string_free (s, FALSE));
}

static DogpileArg
random_double (GRand *rand)
{
  guint64 bits = ((guint64) g_rand_int (rand) << 32) | g_rand_int (rand);

  /* half random bit patterns, half short decimals (d / 10^k) */
  if (g_rand_boolean (rand))
    return DOGPILE_DOUBLE (bits_to_double (bits));
  return DOGPILE_DOUBLE ((double) g_rand_int_range (rand, -1000000, 1000000)
                         / pow (10, g_rand_int_range (rand, 0, 12)));
}

/* --- cases ------------------------------------------------------------ */

static const Prefix prefixes[] = {
  { "tests.cache.test_decorator", "one", NULL, NULL },
  { "myapp.users", "load_user", "v2", NULL },
  { "__main__", "f", "", NULL },
  { "pkg.mod", "fn", "a|b c\nd", NULL },
  { "m\xc3\xb3"
    "dulo.\xc3\xb1",
    "funci\xc3\xb3n", "\xe5\x90\x8d\xe5\x89\x8d", NULL },
  { "m", "g", "\xf0\x9f\x98\x80", NULL },
  { "app.models", "method", NULL, "self" },
  { "app.models", "classmeth", "ns", "cls" },
};

static void
case_free (gpointer data)
{
  Case *c = data;

  g_array_unref (c->args);
  g_free (c);
}

static Case *
add_case (GPtrArray *cases, const Prefix *prefix, Form form, gboolean repr,
          const DogpileArg *args, gsize n_args)
{
  Case *c = g_new0 (Case, 1);

  c->prefix = prefix;
  c->form = form;
  c->repr = repr;
  c->args = g_array_new (FALSE, FALSE, sizeof (DogpileArg));
  if (n_args > 0)
    g_array_append_vals (c->args, args, n_args);
  g_ptr_array_add (cases, c);
  return c;
}

/* The call for @prefix: the receiver first, when it has one. */
static void
add_call (GPtrArray *cases, const Prefix *prefix, const DogpileArg *args,
          gsize n_args)
{
  DogpileArg all[8];
  gsize n = 0;

  g_assert (n_args < G_N_ELEMENTS (all));
  if (prefix->receiver != NULL)
    all[n++] = DOGPILE_STRING ("<receiver>");
  if (n_args > 0)
    memcpy (all + n, args, n_args * sizeof *args);
  n += n_args;
  for (int form = FORM_SINGLE; form <= FORM_MULTI; form++)
    for (int repr = 0; repr <= 1; repr++)
      add_case (cases, prefix, (Form) form, repr, all, n);
}

static GPtrArray *
default_generator_cases (GArray *pool)
{
  GPtrArray *cases = g_ptr_array_new_with_free_func (case_free);
  const DogpileArg *v = (const DogpileArg *) pool->data;
  gsize n = pool->len;

  for (gsize p = 0; p < G_N_ELEMENTS (prefixes); p++)
    {
      const Prefix *prefix = &prefixes[p];
      const DogpileArg none_5[] = { DOGPILE_NONE, DOGPILE_INT (5) };
      const DogpileArg one_2[] = { DOGPILE_INT (1), DOGPILE_INT (2) };
      const DogpileArg keyword[]
          = { DOGPILE_INT (1), DOGPILE_NAMED ("x", DOGPILE_NONE) };
      const DogpileArg keyword_only[]
          = { DOGPILE_NAMED ("b", DOGPILE_STRING ("x")) };

      add_call (cases, prefix, NULL, 0);
      add_call (cases, prefix, none_5, G_N_ELEMENTS (none_5));
      add_call (cases, prefix, one_2, G_N_ELEMENTS (one_2));
      /* the default generators refuse keyword arguments */
      add_call (cases, prefix, keyword, G_N_ELEMENTS (keyword));
      add_call (cases, prefix, keyword_only, G_N_ELEMENTS (keyword_only));
      /* every value alone, then three at a time */
      for (gsize i = 0; i < n; i++)
        add_call (cases, prefix, &v[i], 1);
      for (gsize i = p % 3; i + 3 <= n; i += 3)
        add_call (cases, prefix, &v[i], 3);
    }
  return cases;
}

/* Random floats and strings, 2000 of each in multi calls of 100 and, in
 * threes, in single calls. */
static GPtrArray *
random_cases (void)
{
  GPtrArray *cases = g_ptr_array_new_with_free_func (case_free);
  g_autoptr (GRand) rand = g_rand_new_with_seed (20240614);

  for (int kind = 0; kind < 3; kind++)
    for (int batch = 0; batch < 20; batch++)
      {
        DogpileArg args[100];

        for (gsize i = 0; i < G_N_ELEMENTS (args); i++)
          args[i] = kind == 0 ? random_double (rand)
                              : random_string (rand, kind == 2);
        for (int repr = 0; repr <= 1; repr++)
          {
            add_case (cases, &prefixes[batch % 2], FORM_MULTI, repr, args,
                      G_N_ELEMENTS (args));
            for (gsize i = 0; i + 3 <= G_N_ELEMENTS (args); i += 3)
              add_case (cases, &prefixes[batch % 2], FORM_SINGLE, repr,
                        &args[i], 3);
          }
      }
  return cases;
}

/* Floats only: the chosen ones and 300 random ones, alone and in one
 * multi call. */
static GPtrArray *
float_cases (void)
{
  GPtrArray *cases = g_ptr_array_new_with_free_func (case_free);
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (DogpileArg));
  g_autoptr (GRand) rand = g_rand_new_with_seed (1234);
  const DogpileArg *v;

  add_doubles (values);
  for (int i = 0; i < 300; i++)
    {
      DogpileArg a = random_double (rand);

      g_array_append_val (values, a);
    }
  v = (const DogpileArg *) values->data;
  for (guint i = 0; i < values->len; i++)
    add_case (cases, &prefixes[0], FORM_SINGLE, FALSE, &v[i], 1);
  add_case (cases, &prefixes[1], FORM_MULTI, TRUE, v, values->len);
  return cases;
}

/* kwarg_function_key_generator: signatures and calls. */
static GPtrArray *
kwarg_cases (void)
{
  GPtrArray *cases = g_ptr_array_new_with_free_func (case_free);
  static const char *const a_b[] = { "a", "b" };
  static const char *const method[] = { "self", "x", "y" };
  static const char *const cls_name[] = { "cls", "name" };
  static const char *const unicode[] = { "z", "\xc3\xa9", "a" };
  static const char *const lone[] = { "a" };
  static const Prefix plain
      = { "tests.cache.test_decorator", "one", NULL, NULL };
  static const Prefix ns = { "myapp", "kw", "mynamespace", NULL };
  static const Prefix meth = { "app.models", "method", NULL, "self" };
  static const Prefix classmeth = { "app.models", "cm", "n", "cls" };
  static DogpileArg b_none[1], a_true_b_none[2], y_default[1], u_defaults[2],
      cls_default[1];
  struct {
    const Prefix *prefix;
    const char *const *params;
    gsize n_params;
    const DogpileArg *defaults;
    gsize n_defaults;
    DogpileArg args[4];
    gsize n_args;
  } calls[] = {
    /* one(a, b=None) */
    { &plain, a_b, 2, b_none, 1, { DOGPILE_INT (1) }, 1 },
    { &plain, a_b, 2, b_none, 1, { DOGPILE_NAMED ("a", DOGPILE_INT (1)) }, 1 },
    { &plain, a_b, 2, b_none, 1, { DOGPILE_INT (1), DOGPILE_INT (2) }, 2 },
    { &plain,
      a_b,
      2,
      b_none,
      1,
      { DOGPILE_INT (1), DOGPILE_NAMED ("b", DOGPILE_INT (2)) },
      2 },
    { &ns,
      a_b,
      2,
      b_none,
      1,
      { DOGPILE_NAMED ("b", DOGPILE_STRING ("x y")),
        DOGPILE_NAMED ("a", DOGPILE_DOUBLE (-0.0)) },
      2 },
    /* one(a=True, b=None) */
    { &plain, a_b, 2, a_true_b_none, 2, { DOGPILE_NONE }, 0 },
    { &plain,
      a_b,
      2,
      a_true_b_none,
      2,
      { DOGPILE_NAMED ("b", DOGPILE_INT (2)) },
      1 },
    { &ns, a_b, 2, a_true_b_none, 2, { DOGPILE_STRING ("m\xc3\xa9il") }, 1 },
    /* kw(a, b=2, **extra): keywords no parameter takes */
    { &plain,
      a_b,
      2,
      b_none,
      1,
      { DOGPILE_INT (1), DOGPILE_NAMED ("c", DOGPILE_INT (5)),
        DOGPILE_NAMED ("a0", DOGPILE_INT (9)) },
      3 },
    { &ns,
      a_b,
      2,
      b_none,
      1,
      { DOGPILE_INT (1), DOGPILE_INT (2),
        DOGPILE_NAMED ("zz", DOGPILE_STRING ("z")),
        DOGPILE_NAMED ("aa", DOGPILE_NONE) },
      4 },
    /* method(self, x, y=1.5): the receiver is not keyed */
    { &meth,
      method,
      3,
      y_default,
      1,
      { DOGPILE_STRING ("<obj>"), DOGPILE_INT (1) },
      2 },
    { &meth,
      method,
      3,
      y_default,
      1,
      { DOGPILE_STRING ("<obj>"), DOGPILE_INT (1), DOGPILE_INT (2) },
      3 },
    { &meth,
      method,
      3,
      y_default,
      1,
      { DOGPILE_STRING ("<obj>"), DOGPILE_NAMED ("x", DOGPILE_STRING ("s")) },
      2 },
    { &meth,
      method,
      3,
      y_default,
      1,
      { DOGPILE_STRING ("<obj>"), DOGPILE_NAMED ("y", DOGPILE_DOUBLE (NAN)),
        DOGPILE_NAMED ("x", DOGPILE_DOUBLE (1e16)) },
      3 },
    /* cm(cls, name=b'x') */
    { &classmeth,
      cls_name,
      2,
      cls_default,
      1,
      { DOGPILE_STRING ("<cls>") },
      1 },
    { &classmeth,
      cls_name,
      2,
      cls_default,
      1,
      { DOGPILE_STRING ("<cls>"), DOGPILE_BOOL (FALSE) },
      2 },
    /* f(z, U+00E9=..., a=...): names sorted by code point, as UTF-8 bytes */
    { &ns, unicode, 3, u_defaults, 2, { DOGPILE_STRING ("zv") }, 1 },
    { &ns,
      unicode,
      3,
      u_defaults,
      2,
      { DOGPILE_INT (0), DOGPILE_NAMED ("\xc3\xa9", DOGPILE_INT (1)) },
      2 },
    /* one(a) with a surplus positional: both sides fail */
    { &plain, lone, 1, NULL, 0, { DOGPILE_INT (1), DOGPILE_INT (2) }, 2 },
  };

  b_none[0] = DOGPILE_NONE;
  a_true_b_none[0] = DOGPILE_BOOL (TRUE);
  a_true_b_none[1] = DOGPILE_NONE;
  y_default[0] = DOGPILE_DOUBLE (1.5);
  u_defaults[0] = variant_arg (big_int ("-100000000000000000000"));
  u_defaults[1] = variant_arg (surrogate_str ("\xed\xa0\x80"));
  cls_default[0] = DOGPILE_BYTES ("x", 1);

  for (gsize i = 0; i < G_N_ELEMENTS (calls); i++)
    for (int repr = 0; repr <= 1; repr++)
      {
        Case *c = add_case (cases, calls[i].prefix, FORM_KWARG, repr,
                            calls[i].args, calls[i].n_args);

        c->params = calls[i].params;
        c->n_params = calls[i].n_params;
        c->defaults = calls[i].defaults;
        c->n_defaults = calls[i].n_defaults;
      }
  return cases;
}

/* --- the cases as JSON for the peer ----------------------------------- */

static void
json_hex (GString *out, gconstpointer data, gsize len)
{
  const guint8 *p = data;

  g_string_append_c (out, '"');
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, "%02x", p[i]);
  g_string_append_c (out, '"');
}

static void
json_text (GString *out, const char *text)
{
  if (text == NULL)
    g_string_append (out, "null");
  else
    json_hex (out, text, strlen (text));
}

static void json_variant (GString *out, GVariant *v);

/* [json(member), ...] of an array or tuple; dict entries and (vv) pairs
 * as [key, value]. */
static void
json_members (GString *out, GVariant *container)
{
  gsize n = g_variant_n_children (container);

  g_string_append_c (out, '[');
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (container, i);

      if (i > 0)
        g_string_append_c (out, ',');
      json_variant (out, child);
    }
  g_string_append_c (out, ']');
}

static void
json_pairs (GString *out, GVariant *container)
{
  gsize n = g_variant_n_children (container);

  g_string_append_c (out, '[');
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) pair = g_variant_get_child_value (container, i);
      g_autoptr (GVariant) k = g_variant_get_child_value (pair, 0);
      g_autoptr (GVariant) v = g_variant_get_child_value (pair, 1);

      g_string_append (out, i > 0 ? ",[" : "[");
      json_variant (out, k);
      g_string_append_c (out, ',');
      json_variant (out, v);
      g_string_append_c (out, ']');
    }
  g_string_append_c (out, ']');
}

static void
json_bytes (GString *out, const char *type, GVariant *ay)
{
  gsize len;
  gconstpointer data = g_variant_get_fixed_array (ay, &len, 1);

  g_string_append_printf (out, "[\"%s\",", type);
  json_hex (out, data, len);
  g_string_append_c (out, ']');
}

static void
json_double (GString *out, double d)
{
  guint64 bits;

  memcpy (&bits, &d, sizeof bits);
  g_string_append_printf (out, "[\"float\",\"%016" G_GINT64_MODIFIER "x\"]",
                          bits);
}

/* The Python value @v stands for, by the table of
 * dogpile-python-value.h. */
static void
json_variant (GString *out, GVariant *v)
{
  const char *type = g_variant_get_type_string (v);

  switch (g_variant_classify (v))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      g_string_append_printf (out, "[\"bool\",%d]",
                              g_variant_get_boolean (v) ? 1 : 0);
      return;
    case G_VARIANT_CLASS_BYTE:
      g_string_append_printf (out, "[\"int\",\"%u\"]", g_variant_get_byte (v));
      return;
    case G_VARIANT_CLASS_INT16:
      g_string_append_printf (out, "[\"int\",\"%d\"]",
                              g_variant_get_int16 (v));
      return;
    case G_VARIANT_CLASS_UINT16:
      g_string_append_printf (out, "[\"int\",\"%u\"]",
                              g_variant_get_uint16 (v));
      return;
    case G_VARIANT_CLASS_INT32:
      g_string_append_printf (out, "[\"int\",\"%d\"]",
                              g_variant_get_int32 (v));
      return;
    case G_VARIANT_CLASS_HANDLE:
      g_string_append_printf (out, "[\"int\",\"%d\"]",
                              g_variant_get_handle (v));
      return;
    case G_VARIANT_CLASS_UINT32:
      g_string_append_printf (out, "[\"int\",\"%u\"]",
                              g_variant_get_uint32 (v));
      return;
    case G_VARIANT_CLASS_INT64:
      g_string_append_printf (out, "[\"int\",\"%" G_GINT64_FORMAT "\"]",
                              g_variant_get_int64 (v));
      return;
    case G_VARIANT_CLASS_UINT64:
      g_string_append_printf (out, "[\"int\",\"%" G_GUINT64_FORMAT "\"]",
                              g_variant_get_uint64 (v));
      return;
    case G_VARIANT_CLASS_DOUBLE:
      json_double (out, g_variant_get_double (v));
      return;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      g_string_append (out, "[\"str\",");
      json_text (out, g_variant_get_string (v, NULL));
      g_string_append_c (out, ']');
      return;
    case G_VARIANT_CLASS_VARIANT:
      {
        g_autoptr (GVariant) inner = g_variant_get_variant (v);

        json_variant (out, inner);
        return;
      }
    case G_VARIANT_CLASS_MAYBE:
      {
        g_autoptr (GVariant) inner = g_variant_get_maybe (v);

        if (inner == NULL)
          g_string_append (out, "[\"none\"]");
        else
          json_variant (out, inner);
        return;
      }
    case G_VARIANT_CLASS_ARRAY:
      if (strcmp (type, "ay") == 0)
        json_bytes (out, "bytes", v);
      else if (type[1] == '{')
        {
          g_string_append (out, "[\"dict\",");
          json_pairs (out, v);
          g_string_append_c (out, ']');
        }
      else
        {
          g_string_append (out, "[\"list\",");
          json_members (out, v);
          g_string_append_c (out, ']');
        }
      return;
    case G_VARIANT_CLASS_TUPLE:
      g_string_append (out, "[\"tuple\",");
      json_members (out, v);
      g_string_append_c (out, ']');
      return;
    case G_VARIANT_CLASS_DICT_ENTRY:
      {
        g_autoptr (GVariant) k = g_variant_get_child_value (v, 0);
        g_autoptr (GVariant) boxed = g_variant_get_child_value (v, 1);
        g_autoptr (GVariant) content = g_variant_get_variant (boxed);
        const char *tag = g_variant_get_string (k, NULL);

        cr_assert_str_eq (type, "{sv}");
        if (strcmp (tag, "int") == 0)
          {
            g_string_append_printf (out, "[\"int\",\"%s\"]",
                                    g_variant_get_string (content, NULL));
          }
        else if (strcmp (tag, "str") == 0)
          json_bytes (out, "strsur", content);
        else if (strcmp (tag, "bytearray") == 0)
          json_bytes (out, "bytearray", content);
        else if (strcmp (tag, "dict") == 0)
          {
            g_string_append (out, "[\"dict\",");
            json_pairs (out, content);
            g_string_append_c (out, ']');
          }
        else
          {
            cr_assert (strcmp (tag, "set") == 0
                       || strcmp (tag, "frozenset") == 0);
            g_string_append_printf (out, "[\"%s\",", tag);
            json_members (out, content);
            g_string_append_c (out, ']');
          }
        return;
      }
    }
  cr_assert_fail ("GVariant type %s", type);
}

static void
json_arg (GString *out, const DogpileArg *a)
{
  switch (a->type)
    {
    case DOGPILE_ARG_TYPE_NONE: g_string_append (out, "[\"none\"]"); break;
    case DOGPILE_ARG_TYPE_BOOL:
      g_string_append_printf (out, "[\"bool\",%d]", a->v.b ? 1 : 0);
      break;
    case DOGPILE_ARG_TYPE_INT:
      g_string_append_printf (out, "[\"int\",\"%" G_GINT64_FORMAT "\"]",
                              a->v.i);
      break;
    case DOGPILE_ARG_TYPE_UINT:
      g_string_append_printf (out, "[\"int\",\"%" G_GUINT64_FORMAT "\"]",
                              a->v.u);
      break;
    case DOGPILE_ARG_TYPE_DOUBLE: json_double (out, a->v.d); break;
    case DOGPILE_ARG_TYPE_STRING:
      g_string_append (out, "[\"str\",");
      json_text (out, a->v.s);
      g_string_append_c (out, ']');
      break;
    case DOGPILE_ARG_TYPE_BYTES:
      g_string_append (out, "[\"bytes\",");
      json_hex (out, a->v.bytes.data, a->v.bytes.len);
      g_string_append_c (out, ']');
      break;
    case DOGPILE_ARG_TYPE_VARIANT: json_variant (out, a->v.variant); break;
    default: cr_assert_fail ("argument type %d", (int) a->type);
    }
}

static void
json_case (GString *out, const Case *c)
{
  const DogpileArg *args = (const DogpileArg *) c->args->data;
  gboolean first;

  g_string_append (out, "{\"module\":");
  json_text (out, c->prefix->module);
  g_string_append (out, ",\"function\":");
  json_text (out, c->prefix->function);
  g_string_append (out, ",\"namespace\":");
  json_text (out, c->prefix->namespace_);
  g_string_append_printf (out, ",\"receiver\":%s%s%s",
                          c->prefix->receiver ? "\"" : "",
                          c->prefix->receiver ? c->prefix->receiver : "null",
                          c->prefix->receiver ? "\"" : "");
  g_string_append_printf (out, ",\"form\":\"%s\",\"to_str\":\"%s\"",
                          form_names[c->form], c->repr ? "repr" : "str");
  g_string_append (out, ",\"params\":[");
  for (gsize i = 0; i < c->n_params; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      json_text (out, c->params[i]);
    }
  g_string_append (out, "],\"defaults\":[");
  for (gsize i = 0; i < c->n_defaults; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      json_arg (out, &c->defaults[i]);
    }
  g_string_append (out, "],\"args\":[");
  first = TRUE;
  for (guint i = 0; i < c->args->len; i++)
    if (args[i].name == NULL)
      {
        if (!first)
          g_string_append_c (out, ',');
        first = FALSE;
        json_arg (out, &args[i]);
      }
  g_string_append (out, "],\"kwargs\":[");
  first = TRUE;
  for (guint i = 0; i < c->args->len; i++)
    if (args[i].name != NULL)
      {
        g_string_append (out, first ? "[" : ",[");
        first = FALSE;
        json_text (out, args[i].name);
        g_string_append_c (out, ',');
        json_arg (out, &args[i]);
        g_string_append_c (out, ']');
      }
  g_string_append (out, "]}\n");
}

/* --- Python's answers --------------------------------------------------- */

static void
outcome_clear (Outcome *o)
{
  g_clear_pointer (&o->keys, g_ptr_array_unref);
  g_clear_pointer (&o->error_type, g_free);
  g_clear_pointer (&o->message, g_free);
}

static char *
from_hex (const char *hex)
{
  gsize n = strlen (hex) / 2;
  char *out = g_malloc (n + 1);

  for (gsize i = 0; i < n; i++)
    out[i] = (char) (g_ascii_xdigit_value (hex[2 * i]) * 16
                     + g_ascii_xdigit_value (hex[2 * i + 1]));
  out[n] = '\0';
  cr_assert_eq (strlen (out), n, "a key with a NUL in it");
  return out;
}

/* "K hex hex ..." or "E Class hexmessage" */
static void
parse_outcome (const char *text, Outcome *o)
{
  g_auto (GStrv) words = g_strsplit (text, " ", -1);

  if (strcmp (words[0], "K") == 0)
    {
      o->ok = TRUE;
      o->keys = g_ptr_array_new_with_free_func (g_free);
      for (char **w = words + 1; *w != NULL; w++)
        g_ptr_array_add (o->keys, from_hex (*w));
      return;
    }
  cr_assert_str_eq (words[0], "E", "peer said '%.80s'", text);
  cr_assert_eq (g_strv_length (words), 3, "peer said '%.80s'", text);
  o->ok = FALSE;
  o->error_type = g_strdup (words[1]);
  o->message = from_hex (words[2]);
}

/* --- C's answers --------------------------------------------------------- */

static GBytes *
creator (const DogpileArg *args, gsize n_args, gpointer user_data,
         GError **error)
{
  return g_bytes_new_static ("v", 1);
}

static gboolean
multi_creator (const DogpileArg *args, gsize n_args, GBytes **out_values,
               gpointer user_data, GError **error)
{
  gsize n = GPOINTER_TO_SIZE (user_data) ? n_args - 1 : n_args;

  for (gsize i = 0; i < n; i++)
    out_values[i] = g_bytes_new_static ("v", 1);
  return TRUE;
}

static DogpileCachedFunction *
make_function (const Case *c, DogpileRegion *region)
{
  const Prefix *p = c->prefix;
  DogpileCachedFunction *fn;

  if (c->form == FORM_MULTI)
    fn = dogpile_cached_function_new_multi (
        region, p->module, p->function, multi_creator,
        GSIZE_TO_POINTER (p->receiver != NULL), NULL);
  else
    fn = dogpile_cached_function_new (region, p->module, p->function, creator,
                                      NULL, NULL);
  if (p->namespace_ != NULL)
    dogpile_cached_function_set_namespace (fn, p->namespace_);
  if (c->repr)
    dogpile_cached_function_set_to_str (fn, dogpile_arg_to_repr, NULL, NULL);
  if (c->form == FORM_KWARG)
    {
      dogpile_cached_function_set_parameters (fn, c->params, c->n_params,
                                              c->defaults, c->n_defaults);
      dogpile_cached_function_set_key_generator (
          fn, dogpile_kwarg_function_key_generator, NULL, NULL);
    }
  else if (p->receiver != NULL)
    dogpile_cached_function_set_parameters (fn, &p->receiver, 1, NULL, 0);
  return fn;
}

static void
set_error (Outcome *o, GError *error)
{
  cr_assert_not_null (error);
  o->ok = FALSE;
  o->error_type = g_strdup ("GError");
  o->message = g_strdup (error->message);
}

static void
set_keys (Outcome *o, char **keys, gsize n)
{
  o->ok = TRUE;
  o->keys = g_ptr_array_new_with_free_func (g_free);
  for (gsize i = 0; i < n; i++)
    g_ptr_array_add (o->keys, g_strdup (keys[i]));
}

/* What the key generator itself returns. */
static void
c_generated (const Case *c, Outcome *o)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new ("unused");
  g_autoptr (DogpileCachedFunction) fn = make_function (c, region);
  const DogpileArg *args = (const DogpileArg *) c->args->data;
  g_autoptr (GError) error = NULL;

  if (c->form == FORM_MULTI)
    {
      g_auto (GStrv) keys = dogpile_function_multi_key_generator (
          fn, args, c->args->len, NULL, &error);

      if (keys == NULL)
        set_error (o, error);
      else
        set_keys (o, keys, g_strv_length (keys));
    }
  else
    {
      g_autofree char *key = c->form == FORM_KWARG
                                 ? dogpile_kwarg_function_key_generator (
                                     fn, args, c->args->len, NULL, &error)
                                 : dogpile_function_key_generator (
                                     fn, args, c->args->len, NULL, &error);

      if (key == NULL)
        set_error (o, error);
      else
        set_keys (o, &key, 1);
    }
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* What a call stores: among Python's keys and the ones C's dup_key or
 * key generator names, those a call leaves in a fresh region, sorted. */
static void
c_called (const Case *c, const Outcome *python, const Outcome *generated,
          Outcome *o)
{
  g_autoptr (DogpileRegion) region = configured_region (
      "dogpile.cache.memory", DOGPILE_EXPIRATION_NONE, NULL);
  g_autoptr (DogpileCachedFunction) fn = make_function (c, region);
  const DogpileArg *args = (const DogpileArg *) c->args->data;
  gsize n = c->args->len;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  gboolean ok;

  if (python->ok)
    for (guint i = 0; i < python->keys->len; i++)
      g_ptr_array_add (candidates, g_strdup (python->keys->pdata[i]));
  if (c->form == FORM_MULTI)
    {
      g_autofree GBytes **values = g_new0 (GBytes *, n + 1);

      if (generated->ok)
        for (guint i = 0; i < generated->keys->len; i++)
          g_ptr_array_add (candidates, g_strdup (generated->keys->pdata[i]));
      ok = dogpile_cached_function_call_multi (fn, args, n, values, &error);
      for (gsize i = 0; i < n; i++)
        g_clear_pointer (&values[i], g_bytes_unref);
    }
  else
    {
      g_autoptr (GBytes) value = NULL;
      char *key = dogpile_cached_function_dup_key (fn, args, n, NULL);

      if (key != NULL)
        g_ptr_array_add (candidates, key);
      ok = dogpile_cached_function_call (fn, args, n, &value, &error);
      /* the key a call uses is the one dup_key gives */
      if (ok)
        cr_assert_not_null (key, "a call succeeded that dup_key refused");
    }
  if (!ok)
    {
      set_error (o, error);
      return;
    }
  o->ok = TRUE;
  o->keys = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_sort (candidates, compare_strings);
  for (guint i = 0; i < candidates->len; i++)
    {
      const char *key = candidates->pdata[i];
      g_autoptr (GBytes) value = NULL;

      if (i > 0 && strcmp (key, candidates->pdata[i - 1]) == 0)
        continue;
      cr_assert (dogpile_region_get (region, key, &value, NULL));
      if (value != NULL)
        g_ptr_array_add (o->keys, g_strdup (key));
    }
}

/* --- comparing ----------------------------------------------------------- */

static void
describe_case (GString *out, const Case *c)
{
  const DogpileArg *args = (const DogpileArg *) c->args->data;
  g_autofree char *m = g_strescape (c->prefix->module, NULL);
  g_autofree char *f = g_strescape (c->prefix->function, NULL);

  g_string_append_printf (out, "%s %s to_str=%s %s:%s", form_names[c->form],
                          c->prefix->receiver ? c->prefix->receiver : "",
                          c->repr ? "repr" : "str", m, f);
  if (c->prefix->namespace_ != NULL)
    {
      g_autofree char *ns = g_strescape (c->prefix->namespace_, NULL);

      g_string_append_printf (out, " namespace \"%s\"", ns);
    }
  g_string_append (out, " args ");
  for (guint i = 0; i < c->args->len; i++)
    json_arg (out, &args[i]);
}

static void
describe_outcome (GString *out, const char *who, const Outcome *o)
{
  g_string_append_printf (out, "\n  %s: ", who);
  if (!o->ok)
    {
      g_autofree char *msg = g_strescape (o->message, NULL);

      g_string_append_printf (out, "%s: %s", o->error_type, msg);
      return;
    }
  for (guint i = 0; i < o->keys->len; i++)
    {
      g_autofree char *k = g_strescape (o->keys->pdata[i], NULL);

      g_string_append_printf (out, "%s\"%s\"", i > 0 ? ", " : "", k);
    }
}

/* Both made the same keys, or both failed (with Python's message when
 * it is the default generators' ValueError, which C words the same). */
static gboolean
same_outcome (const Outcome *python, const Outcome *c)
{
  if (python->ok != c->ok)
    return FALSE;
  if (!python->ok)
    return strcmp (python->error_type, "ValueError") != 0
           || strcmp (python->message, c->message) == 0;
  if (python->keys->len != c->keys->len)
    return FALSE;
  for (guint i = 0; i < python->keys->len; i++)
    if (strcmp (python->keys->pdata[i], c->keys->pdata[i]) != 0)
      return FALSE;
  return TRUE;
}

/* Runs @cases through the peer and C; fails the test listing the first
 * differences. */
static void
assert_cases_match (GPtrArray *cases)
{
  g_autoptr (GString) json = g_string_new (NULL);
  g_autoptr (GString) report = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_auto (GStrv) lines = NULL;
  guint differ = 0, python_failed = 0;
  int fd;

  for (guint i = 0; i < cases->len; i++)
    json_case (json, cases->pdata[i]);
  fd = g_file_open_tmp ("function-cases-XXXXXX.jsonl", &path, &error);
  cr_assert (fd >= 0, "%s", error ? error->message : "");
  close (fd);
  cr_assert (g_file_set_contents (path, json->str, (gssize) json->len, &error),
             "%s", error ? error->message : "");
  out = python_helper (PEER, "keys", path, NULL);
  unlink (path);
  lines = g_strsplit (out, "\n", -1);
  cr_assert_eq (g_strv_length (lines), cases->len, "%u answers for %u cases",
                g_strv_length (lines), cases->len);

  for (guint i = 0; i < cases->len; i++)
    {
      const Case *c = cases->pdata[i];
      g_auto (GStrv) parts = g_strsplit (lines[i], " / ", 2);
      Outcome py_gen = { 0 }, py_call = { 0 }, c_gen = { 0 }, c_call = { 0 };
      gboolean gen_same, call_same;

      cr_assert_eq (g_strv_length (parts), 2, "answer %u: '%.80s'", i,
                    lines[i]);
      parse_outcome (parts[0], &py_gen);
      parse_outcome (parts[1], &py_call);
      python_failed += !py_gen.ok;
      c_generated (c, &c_gen);
      c_called (c, &py_call, &c_gen, &c_call);
      gen_same = same_outcome (&py_gen, &c_gen);
      call_same = same_outcome (&py_call, &c_call);
      if (!gen_same || !call_same)
        {
          if (differ++ < 12)
            {
              g_string_append_printf (report, "\ncase %u: ", i);
              describe_case (report, c);
              if (!gen_same)
                {
                  describe_outcome (report, "Python generator", &py_gen);
                  describe_outcome (report, "C generator     ", &c_gen);
                }
              if (!call_same)
                {
                  describe_outcome (report, "Python call", &py_call);
                  describe_outcome (report, "C call     ", &c_call);
                }
            }
        }
      outcome_clear (&py_gen);
      outcome_clear (&py_call);
      outcome_clear (&c_gen);
      outcome_clear (&c_call);
    }
  cr_assert_eq (differ, 0, "%u of %u cases differ from Python:%s", differ,
                cases->len, report->str);
  /* the error cases are the few asked for, not a broken peer */
  cr_assert_lt (python_failed, cases->len / 10, "Python failed %u of %u",
                python_failed, cases->len);
}

static void
setup (void)
{
  python_helper_need (PEER, "dogpile.cache (Debian's python3-dogpile.cache)");
  keep_init ();
}

TestSuite (function_python, .init = setup, .fini = keep_free);

Test (function_python, default_generators_match_python)
{
  g_autoptr (GArray) pool = argument_pool ();
  g_autoptr (GPtrArray) cases = default_generator_cases (pool);

  cr_assert_gt (pool->len, 200);
  assert_cases_match (cases);
}

Test (function_python, random_floats_and_strings_match_python)
{
  g_autoptr (GPtrArray) cases = random_cases ();

  assert_cases_match (cases);
}

Test (function_python, kwarg_generator_matches_python)
{
  g_autoptr (GPtrArray) cases = kwarg_cases ();

  assert_cases_match (cases);
}

/* Where localedef wrote a locale, removed after the test. */
static char *locale_dir;

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
      g_dir_close (dir);
      rmdir (path);
    }
  else
    unlink (path);
}

static void
remove_locale_dir (void)
{
  if (locale_dir != NULL)
    remove_tree (locale_dir);
  g_clear_pointer (&locale_dir, g_free);
  keep_free ();
}

/* A locale that writes 0,5 for 0.5, made with localedef when the system
 * has none; FALSE if neither works. */
static gboolean
use_decimal_comma_locale (void)
{
  static const char *const names[]
      = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8" };
  g_autofree char *target = NULL;
  int status = -1;

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (setlocale (LC_ALL, names[i]) != NULL)
      return TRUE;
  locale_dir = g_dir_make_tmp ("dogpile-locale-XXXXXX", NULL);
  if (locale_dir == NULL)
    return FALSE;
  target = g_build_filename (locale_dir, "de_DE.UTF-8", NULL);
  {
    const char *argv[]
        = { "localedef", "-i", "de_DE", "-f", "UTF-8", target, NULL };

    if (!g_spawn_sync (NULL, (char **) argv, NULL,
                       G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL
                           | G_SPAWN_STDERR_TO_DEV_NULL,
                       NULL, NULL, NULL, NULL, &status, NULL)
        || !g_spawn_check_wait_status (status, NULL))
      return FALSE;
  }
  g_setenv ("LOCPATH", locale_dir, TRUE);
  return setlocale (LC_ALL, "de_DE.UTF-8") != NULL;
}

/* An application that calls setlocale (LC_ALL, "") in a German session
 * still writes Python's keys: 0.5, not 0,5. */
Test (function_python, float_keys_ignore_the_locale, .fini = remove_locale_dir)
{
  g_autoptr (GPtrArray) cases = NULL;

  if (!use_decimal_comma_locale ())
    cr_skip_test ("no locale with a decimal comma, and localedef failed");
  cr_assert_str_eq (localeconv ()->decimal_point, ",");
  cases = float_cases ();
  assert_cases_match (cases);
}
