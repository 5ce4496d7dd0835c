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

/* repr(str), as CPython 3.11's unicode_repr: single quotes unless the
 * text has ' and no ", backslash-escaped quote and backslash, \t \n \r,
 * and every other character str.isprintable() rejects as \xhh (below
 * U+0100), \uhhhh or \Uhhhhhhhh, by the Unicode 14.0 table in
 * dogpile-unicode-printable.c (GLib's g_unichar_isprint accepts spaces,
 * separators and private use, and follows another Unicode version). */
static void
append_string_repr (GString *out, const char *text, gsize len)
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

/* repr(bytes), which str(bytes) also gives: b'...'. */
static void
append_bytes_repr (GString *out, const guint8 *data, gsize len)
{
  char quote
      = (memchr (data, '\'', len) != NULL && memchr (data, '"', len) == NULL)
            ? '"'
            : '\'';

  g_string_append_c (out, 'b');
  g_string_append_c (out, quote);
  for (gsize i = 0; i < len; i++)
    {
      guint8 c = data[i];

      if (c == (guint8) quote || c == '\\')
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

/* Elements of containers are shown with repr(), as Python does. */
static void
append_elements (GString *out, GVariant *container, const char *open,
                 const char *close, gboolean tuple)
{
  gsize n = g_variant_n_children (container);

  g_string_append (out, open);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (container, i);

      if (i > 0)
        g_string_append (out, ", ");
      if (g_variant_is_of_type (child, G_VARIANT_TYPE_DICT_ENTRY))
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
  if (tuple && n == 1)
    g_string_append_c (out, ',');
  g_string_append (out, close);
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
          append_string_repr (out, s, len);
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

          append_bytes_repr (out, data, len);
        }
      else if (g_variant_type_is_dict_entry (g_variant_type_element (type)))
        append_elements (out, value, "{", "}", FALSE);
      else
        append_elements (out, value, "[", "]", FALSE);
      return;
    case G_VARIANT_CLASS_TUPLE:
      append_elements (out, value, "(", ")", TRUE);
      return;
    case G_VARIANT_CLASS_DICT_ENTRY:
      append_elements (out, value, "(", ")", TRUE);
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
        append_string_repr (out, arg->v.s, strlen (arg->v.s));
      else
        g_string_append (out, arg->v.s);
      break;
    case DOGPILE_ARG_TYPE_BYTES:
      append_bytes_repr (out, arg->v.bytes.data, arg->v.bytes.len);
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
 * @arg: an argument
 * @user_data: ignored (the signature of a #DogpileArgFormatFunc)
 *
 * Python's str(): `1`, `a`, `2.5`, `True`, `None`, `b'x'`, `(1, 2)`,
 * `[3]`, `{'k': 1}`.  Containers (GVariant tuples, arrays, dictionaries,
 * maybes) show their elements with repr(), as Python does.
 *
 * Returns: (transfer full): the text.
 */
char *
dogpile_arg_to_str (const DogpileArg *arg, gpointer user_data)
{
  g_return_val_if_fail (arg != NULL, NULL);
  return format_arg (arg, FALSE);
}

/**
 * dogpile_arg_to_repr:
 * @arg: an argument
 * @user_data: ignored (the signature of a #DogpileArgFormatFunc)
 *
 * Python's repr(): strings quoted and escaped (`'x'`), the rest as
 * dogpile_arg_to_str().  Use it as a to_str function for keys that keep
 * 1 and '1' apart.
 *
 * Returns: (transfer full): the text.
 */
char *
dogpile_arg_to_repr (const DogpileArg *arg, gpointer user_data)
{
  g_return_val_if_fail (arg != NULL, NULL);
  return format_arg (arg, TRUE);
}
