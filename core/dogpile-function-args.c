/* dogpile-function-args.c: arguments formatted as Python's str() and
 * repr() would, so a C process builds the very keys a Python process
 * builds for the same call (function_key_generator joins str(arg)).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

#include <math.h>

static void
append_int (GString *out, gint64 value)
{
  g_string_append_printf (out, "%" G_GINT64_FORMAT, value);
}

/* str(float) == repr(float) in Python 3. */
static void
append_double (GString *out, double value)
{
  char buf[DOGPILE_DOUBLE_REPR_MAX];

  if (isnan (value))
    g_string_append (out, "nan");
  else if (isinf (value))
    g_string_append (out, value > 0 ? "inf" : "-inf");
  else
    {
      dogpile__format_double_repr (value, buf);
      g_string_append (out, buf);
    }
}

/* Python's str.isprintable() for one code point: a binary search of the
 * generated table. */
static gboolean
is_printable (gunichar c)
{
  gsize low = 0, high = dogpile__unicode_not_printable_count;

  if (c >= 0x20 && c < 0x7f)
    return TRUE;
  while (low < high)
    {
      gsize mid = low + (high - low) / 2;

      if (c < dogpile__unicode_not_printable[mid].first)
        high = mid;
      else if (c > dogpile__unicode_not_printable[mid].last)
        low = mid + 1;
      else
        return FALSE;
    }
  return TRUE;
}

/* A surrogate in surrogatepass's UTF-8 (ED A0..BF 80..BF) at @p, or 0. */
static gunichar
encoded_surrogate (const char *p, const char *end)
{
  const guint8 *b = (const guint8 *) p;

  if (end - p >= 3 && b[0] == 0xed && b[1] >= 0xa0 && b[1] <= 0xbf
      && b[2] >= 0x80 && b[2] <= 0xbf)
    return 0xd000 | ((gunichar) (b[1] & 0x3f) << 6) | (b[2] & 0x3f);
  return 0;
}

/* repr(str), as CPython 3.11's unicode_repr: single quotes unless the
 * text has ' and no ", backslash-escaped quote and backslash, \t \n \r,
 * and every other character str.isprintable() rejects as \xhh (below
 * U+0100), \uhhhh or \Uhhhhhhhh, by the Unicode 14.0 table in
 * dogpile-unicode-printable.c (GLib's g_unichar_isprint accepts spaces,
 * separators and private use, and follows another Unicode version).
 * With @surrogates (a tagged str, dogpile-python-value.h), a surrogate in
 * surrogatepass's three bytes is that lone surrogate, escaped too. */
static void
append_string_repr (GString *out, const char *text, gsize len,
                    gboolean surrogates)
{
  char quote
      = (memchr (text, '\'', len) != NULL && memchr (text, '"', len) == NULL)
            ? '"'
            : '\'';
  const char *p = text, *end = text + len;

  g_string_append_c (out, quote);
  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);
      const char *next;

      if ((c == (gunichar) -1 || c == (gunichar) -2) && surrogates
          && encoded_surrogate (p, end) != 0)
        {
          /* a lone surrogate of a tagged str, which repr() escapes */
          g_string_append_printf (out, "\\u%04x", encoded_surrogate (p, end));
          p += 3;
          continue;
        }
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          /* Not UTF-8: each byte as Python's surrogateescape decodes it,
           * a lone surrogate U+DC80..U+DCFF, which repr() escapes. */
          g_string_append_printf (out, "\\u%04x", 0xdc00 + (guint8) *p);
          p++;
          continue;
        }
      next = g_utf8_next_char (p);
      if (c == (gunichar) quote || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (!is_printable (c))
        g_string_append_printf (out,
                                c <= 0xff     ? "\\x%02x"
                                : c <= 0xffff ? "\\u%04x"
                                              : "\\U%08x",
                                c);
      else
        g_string_append_len (out, p, next - p);
      p = next;
    }
  g_string_append_c (out, quote);
}

/* repr(bytes), which str(bytes) also gives: b'...'.  With @bytearray,
 * the b'...' of repr(bytearray), where CPython escapes ' even inside
 * double quotes: bytearray(b"it\'s"). */
static void
append_bytes_repr (GString *out, const guint8 *data, gsize len,
                   gboolean bytearray)
{
  /* memchr may not be given NULL, even for no bytes */
  char quote = (len > 0 && memchr (data, '\'', len) != NULL
                && memchr (data, '"', len) == NULL)
                   ? '"'
                   : '\'';

  g_string_append_c (out, 'b');
  g_string_append_c (out, quote);
  for (gsize i = 0; i < len; i++)
    {
      guint8 c = data[i];

      if (c == (guint8) quote || c == '\\' || (bytearray && c == '\''))
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (c < 0x20 || c >= 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, quote);
}

static void append_variant (GString *out, GVariant *value, gboolean repr);

typedef enum {
  MEMBERS_LIST,  /* [1, 2] */
  MEMBERS_TUPLE, /* (1,) */
  MEMBERS_DICT,  /* {k: v}: dict entries, or pairs (a tagged dict) */
} Members;

/* Elements of containers are shown with repr(), as Python does. */
static void
append_elements (GString *out, GVariant *container, const char *open,
                 const char *close, Members members)
{
  gsize n = g_variant_n_children (container);

  g_string_append (out, open);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (container, i);

      if (i > 0)
        g_string_append (out, ", ");
      if (members == MEMBERS_DICT)
        {
          g_autoptr (GVariant) k = g_variant_get_child_value (child, 0);
          g_autoptr (GVariant) v = g_variant_get_child_value (child, 1);

          append_variant (out, k, TRUE);
          g_string_append (out, ": ");
          append_variant (out, v, TRUE);
        }
      else
        append_variant (out, child, TRUE);
    }
  if (members == MEMBERS_TUPLE && n == 1)
    g_string_append_c (out, ',');
  g_string_append (out, close);
}

/* str() of a tagged str: its text, a lone surrogate U+DC80..U+DCFF as
 * the byte surrogateescape encodes it to (so it is the key of the
 * DOGPILE_STRING holding that byte, the same Python str), any other one
 * in surrogatepass's three bytes. */
static void
append_surrogate_text (GString *out, const char *text, gsize len)
{
  const char *p = text, *end = text + len;

  while (p < end)
    {
      gunichar c = encoded_surrogate (p, end);

      if (c >= 0xdc80 && c <= 0xdcff)
        {
          g_string_append_c (out, (char) (c - 0xdc00));
          p += 3;
        }
      else
        g_string_append_c (out, *p++);
    }
}

/* Whether @value is an array of pairs, a(vv), a(xs) and the like. */
static gboolean
is_pair_array (GVariant *value)
{
  const GVariantType *element;

  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_ARRAY))
    return FALSE;
  element = g_variant_type_element (g_variant_get_type (value));
  return g_variant_type_is_tuple (element)
         && g_variant_type_n_items (element) == 2;
}

/* The {"tag": <content>} forms of dogpile-python-value.h, as Python
 * writes the value they stand for: an int beyond 64 bits, a str with
 * lone surrogates, a bytearray, a set or frozenset (its members in the
 * order given: Python's is the order of their hashes), a dict with keys
 * that are not all strs.  FALSE for any other dict entry. */
static gboolean
append_tagged (GString *out, GVariant *entry, gboolean repr)
{
  g_autoptr (GVariant) content = NULL;
  DogpilePyType type;

  if (!g_variant_is_of_type (entry, G_VARIANT_TYPE ("{sv}"))
      || !dogpile_py_value_classify (entry, &type, &content, NULL))
    return FALSE;
  switch (type)
    {
    case DOGPILE_PY_INT:
      {
        g_autofree char *text = NULL;

        if (!g_variant_is_of_type (content, G_VARIANT_TYPE_STRING)
            || (text = dogpile_py_int_to_string (entry, NULL)) == NULL)
          return FALSE;
        g_string_append (out, text);
        return TRUE;
      }
    case DOGPILE_PY_STR:
    case DOGPILE_PY_BYTEARRAY:
      {
        gsize len;
        const char *data;

        if (!g_variant_is_of_type (content, G_VARIANT_TYPE_BYTESTRING))
          return FALSE;
        data = g_variant_get_fixed_array (content, &len, 1);
        if (type == DOGPILE_PY_BYTEARRAY)
          {
            g_string_append (out, "bytearray(");
            append_bytes_repr (out, (const guint8 *) data, len, TRUE);
            g_string_append_c (out, ')');
          }
        else if (repr)
          append_string_repr (out, data, len, TRUE);
        else
          append_surrogate_text (out, data, len);
        return TRUE;
      }
    case DOGPILE_PY_SET:
    case DOGPILE_PY_FROZENSET:
      {
        gboolean frozen = type == DOGPILE_PY_FROZENSET;

        if (!g_variant_is_of_type (content, G_VARIANT_TYPE_ARRAY))
          return FALSE;
        if (g_variant_n_children (content) == 0)
          g_string_append (out, frozen ? "frozenset()" : "set()");
        else
          {
            if (frozen)
              g_string_append (out, "frozenset(");
            append_elements (out, content, "{", "}", MEMBERS_LIST);
            if (frozen)
              g_string_append_c (out, ')');
          }
        return TRUE;
      }
    case DOGPILE_PY_DICT:
      if (!is_pair_array (content))
        return FALSE;
      append_elements (out, content, "{", "}", MEMBERS_DICT);
      return TRUE;
    default: return FALSE;
    }
}

static void
append_variant (GString *out, GVariant *value, gboolean repr)
{
  const GVariantType *type = g_variant_get_type (value);

  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      g_string_append (out, g_variant_get_boolean (value) ? "True" : "False");
      return;
    case G_VARIANT_CLASS_BYTE:
      append_int (out, g_variant_get_byte (value));
      return;
    case G_VARIANT_CLASS_INT16:
      append_int (out, g_variant_get_int16 (value));
      return;
    case G_VARIANT_CLASS_UINT16:
      append_int (out, g_variant_get_uint16 (value));
      return;
    case G_VARIANT_CLASS_INT32:
      append_int (out, g_variant_get_int32 (value));
      return;
    case G_VARIANT_CLASS_HANDLE:
      append_int (out, g_variant_get_handle (value));
      return;
    case G_VARIANT_CLASS_UINT32:
      append_int (out, g_variant_get_uint32 (value));
      return;
    case G_VARIANT_CLASS_INT64:
      append_int (out, g_variant_get_int64 (value));
      return;
    case G_VARIANT_CLASS_UINT64:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT,
                              g_variant_get_uint64 (value));
      return;
    case G_VARIANT_CLASS_DOUBLE:
      append_double (out, g_variant_get_double (value));
      return;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      {
        gsize len;
        const char *s = g_variant_get_string (value, &len);

        if (repr)
          append_string_repr (out, s, len, FALSE);
        else
          g_string_append_len (out, s, (gssize) len);
        return;
      }
    case G_VARIANT_CLASS_VARIANT:
      {
        g_autoptr (GVariant) inner = g_variant_get_variant (value);

        append_variant (out, inner, repr);
        return;
      }
    case G_VARIANT_CLASS_MAYBE:
      {
        g_autoptr (GVariant) inner = g_variant_get_maybe (value);

        if (inner == NULL)
          g_string_append (out, "None");
        else
          append_variant (out, inner, repr);
        return;
      }
    case G_VARIANT_CLASS_ARRAY:
      if (g_variant_type_equal (type, G_VARIANT_TYPE_BYTESTRING))
        {
          gsize len;
          const guint8 *data = g_variant_get_fixed_array (value, &len, 1);

          append_bytes_repr (out, data, len, FALSE);
        }
      else if (g_variant_type_is_dict_entry (g_variant_type_element (type)))
        append_elements (out, value, "{", "}", MEMBERS_DICT);
      else
        append_elements (out, value, "[", "]", MEMBERS_LIST);
      return;
    case G_VARIANT_CLASS_TUPLE:
      append_elements (out, value, "(", ")", MEMBERS_TUPLE);
      return;
    case G_VARIANT_CLASS_DICT_ENTRY:
      /* a tagged value, or else (not a Python value) a pair */
      if (!append_tagged (out, value, repr))
        append_elements (out, value, "(", ")", MEMBERS_TUPLE);
      return;
    }
}

void
dogpile__append_arg (GString *out, const DogpileArg *arg, gboolean repr)
{
  switch (arg->type)
    {
    case DOGPILE_ARG_TYPE_NONE: g_string_append (out, "None"); break;
    case DOGPILE_ARG_TYPE_BOOL:
      g_string_append (out, arg->v.b ? "True" : "False");
      break;
    case DOGPILE_ARG_TYPE_INT: append_int (out, arg->v.i); break;
    case DOGPILE_ARG_TYPE_UINT:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT, arg->v.u);
      break;
    case DOGPILE_ARG_TYPE_DOUBLE: append_double (out, arg->v.d); break;
    case DOGPILE_ARG_TYPE_STRING:
      if (repr)
        append_string_repr (out, arg->v.s, strlen (arg->v.s), FALSE);
      else
        g_string_append (out, arg->v.s);
      break;
    case DOGPILE_ARG_TYPE_BYTES:
      append_bytes_repr (out, arg->v.bytes.data, arg->v.bytes.len, FALSE);
      break;
    case DOGPILE_ARG_TYPE_VARIANT:
      append_variant (out, arg->v.variant, repr);
      break;
    default: g_string_append (out, "<unknown argument type>"); break;
    }
}

static char *
format_arg (const DogpileArg *arg, gboolean repr)
{
  GString *out = g_string_new (NULL);

  dogpile__append_arg (out, arg, repr);
  return g_string_free (out, FALSE);
}

/**
 * dogpile_arg_to_str:
 * @arg: (not nullable): an argument; borrowed
 * @user_data: ignored (the signature of a #DogpileArgFormatFunc)
 *
 * Python's str() of @arg, the text dogpile.cache's function_key_generator
 * puts in keys: `1`, `a`, `2.5`, `True`, `None`, `b'x'`, `(1, 2)`, `[3]`,
 * `{'k': 1}`.  Containers (GVariant tuples, arrays, dictionaries, maybes)
 * show their elements with repr(), as Python does.  A variant stands for
 * the Python value `dogpile/dogpile-python-value.h` maps it to, the tagged
 * forms included: an int beyond 64 bits prints its digits, a bytearray
 * `bytearray(b'x')`, a set `{1}` or `set()`.  A str's lone surrogate
 * (tagged str) comes out as the byte surrogateescape encodes it to when it
 * is one of U+DC80..U+DCFF, else as surrogatepass's three bytes; its
 * repr() escapes it (`'\ud800'`).  A set's members keep their order,
 * where Python prints them in hash order.
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): the text; free it with g_free()
 */
char *
dogpile_arg_to_str (const DogpileArg *arg, gpointer user_data)
{
  g_return_val_if_fail (arg != NULL, NULL);
  return format_arg (arg, FALSE);
}

/**
 * dogpile_arg_to_repr:
 * @arg: (not nullable): an argument; borrowed
 * @user_data: ignored (the signature of a #DogpileArgFormatFunc)
 *
 * Python's repr() of @arg: strings quoted and escaped as CPython 3.11
 * does (`'x'`), the rest as dogpile_arg_to_str().  Give it to
 * dogpile_cached_function_set_to_str() for keys that keep `1` and `'1'`
 * apart (Python's `to_str=repr`).
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): the text; free it with g_free()
 */
char *
dogpile_arg_to_repr (const DogpileArg *arg, gpointer user_data)
{
  g_return_val_if_fail (arg != NULL, NULL);
  return format_arg (arg, TRUE);
}
