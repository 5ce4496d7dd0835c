/* dogpile-python-value.c: the GVariant mapping of Python's plain data,
 * for programs that build or read such values (the codecs use the faster
 * views of dogpile-python-tree.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-python-tree.h"

#include <string.h>

static const char *const tags[] = {
  [DOGPILE_PY_INT] = "int",
  [DOGPILE_PY_STR] = "str",
  [DOGPILE_PY_BYTEARRAY] = "bytearray",
  [DOGPILE_PY_DICT] = "dict",
  [DOGPILE_PY_SET] = "set",
  [DOGPILE_PY_FROZENSET] = "frozenset",
};

static const char *
tag_name (DogpilePyType type)
{
  if ((gsize) type < G_N_ELEMENTS (tags))
    return tags[type];
  return NULL;
}

/**
 * dogpile_py_value_classify:
 * @value: any #GVariant; borrowed, but a floating reference is sunk (and
 *   released, unless @out_content returns it)
 * @out_type: (out): the Python type @value stands for
 * @out_content: (out) (optional) (transfer full): for a tagged value
 *   (`{"int": <s>}` and the like) what it tags, out of its variant;
 *   else @value itself, out of any variant or maybe that held it.  Not
 *   set when the call fails
 * @error: return location for a #GError, or %NULL
 *
 * What Python type @value is, as dogpile_pickle_dumps() would write it.
 * Variants, and maybes that hold a value, are looked through.  Only the
 * outermost level is looked at: the members of a container are not
 * checked, but a tagged value's content must have the type its tag takes
 * (dogpile_py_tagged_new()).
 *
 * Errors: %DOGPILE_ERROR_VALIDATION for a type no Python value maps to: a
 * standalone dict entry other than {sv}, a {sv} entry whose key is not
 * one of the tags "int", "str", "bytearray", "dict", "set" and
 * "frozenset", or one whose content has another type than its tag takes.
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_py_value_classify (GVariant *value, DogpilePyType *out_type,
                           GVariant **out_content, GError **error)
{
  g_autoptr (GVariant) v = NULL;
  const char *t;

  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (out_type != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  v = g_variant_ref_sink (value);
  for (;;)
    {
      GVariant *inner;

      t = g_variant_get_type_string (v);
      if (t[0] == 'v')
        inner = g_variant_get_variant (v);
      else if (t[0] == 'm' && (inner = g_variant_get_maybe (v)) != NULL)
        ;
      else
        break;
      g_variant_unref (v);
      v = inner;
    }

  switch (t[0])
    {
    case 'm': *out_type = DOGPILE_PY_NONE; break;
    case 'b': *out_type = DOGPILE_PY_BOOL; break;
    case 'y':
    case 'n':
    case 'q':
    case 'i':
    case 'u':
    case 'x':
    case 't':
    case 'h': *out_type = DOGPILE_PY_INT; break;
    case 'd': *out_type = DOGPILE_PY_FLOAT; break;
    case 's':
    case 'o':
    case 'g': *out_type = DOGPILE_PY_STR; break;
    case 'a':
      *out_type = t[1] == 'y'   ? DOGPILE_PY_BYTES
                  : t[1] == '{' ? DOGPILE_PY_DICT
                                : DOGPILE_PY_LIST;
      break;
    case '(': *out_type = DOGPILE_PY_TUPLE; break;
    case '{':
      if (strcmp (t, "{sv}") == 0)
        {
          g_autoptr (GVariant) key = g_variant_get_child_value (v, 0);
          g_autoptr (GVariant) boxed = g_variant_get_child_value (v, 1);
          const char *name = g_variant_get_string (key, NULL);

          for (gsize i = 0; i < G_N_ELEMENTS (tags); i++)
            if (tags[i] != NULL && strcmp (tags[i], name) == 0)
              {
                GVariant *content = g_variant_get_variant (boxed);

                const char *ct = g_variant_get_type_string (content);

                if (!py_tag_check_content (name, ct, strlen (ct), error))
                  {
                    g_variant_unref (content);
                    return FALSE;
                  }
                *out_type = (DogpilePyType) i;
                if (out_content != NULL)
                  *out_content = content;
                else
                  g_variant_unref (content);
                return TRUE;
              }
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "A {sv} entry tags a Python value as int, str, "
                       "bytearray, set, frozenset or dict, not '%s'",
                       name);
          return FALSE;
        }
      G_GNUC_FALLTHROUGH;
    default:
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "GVariant type '%s' is not a Python value", t);
      return FALSE;
    }
  if (out_content != NULL)
    *out_content = g_steal_pointer (&v);
  return TRUE;
}

/**
 * dogpile_py_none_new:
 *
 * Python's None: a new maybe of type mv with nothing in it.
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer none): a floating reference to the new value
 */
GVariant *
dogpile_py_none_new (void)
{
  return g_variant_new_maybe (G_VARIANT_TYPE_VARIANT, NULL);
}

/**
 * dogpile_py_tagged_new:
 * @type: %DOGPILE_PY_INT (@content: decimal text, s),
 *   %DOGPILE_PY_STR (@content: UTF-8 with surrogates, ay),
 *   %DOGPILE_PY_BYTEARRAY (ay), %DOGPILE_PY_SET or %DOGPILE_PY_FROZENSET
 *   (any array, av for mixed members) or %DOGPILE_PY_DICT (an array of
 *   pairs, a(vv), for keys that are not all strs); any other type is a
 *   programmer error (%NULL and a critical warning)
 * @content: (transfer floating): what the value holds: a floating
 *   reference is sunk into the new value, any other gets one more
 *   reference
 *
 * The `{"tag": <content>}` form of the Python types #GVariant has no
 * type of its own for: a standalone {sv} dict entry whose key names the
 * type.  The type of @content is not checked here; one that does not
 * fit @type fails when the value is written.
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer none): a floating reference to the new value
 */
GVariant *
dogpile_py_tagged_new (DogpilePyType type, GVariant *content)
{
  const char *tag = tag_name (type);

  g_return_val_if_fail (tag != NULL, NULL);
  g_return_val_if_fail (content != NULL, NULL);
  return g_variant_new_dict_entry (g_variant_new_string (tag),
                                   g_variant_new_variant (content));
}

/**
 * dogpile_py_int_new_from_string:
 * @decimal: an int in decimal, NUL-terminated: an optional + or - and 1
 *   to 4300 digits (Python's own limit for converting ints from text),
 *   nothing else; borrowed for the call
 * @error: return location for a #GError, or %NULL
 *
 * Python's int(decimal) as a #GVariant: an x when the value fits in 64
 * bits, else the tagged form `{"int": <s>}` holding the canonical decimal
 * text (no + sign, no leading zeros).
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when @decimal is not such an int.
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer none): a floating reference to the new value, or
 *   %NULL with @error set
 */
GVariant *
dogpile_py_int_new_from_string (const char *decimal, GError **error)
{
  g_autoptr (GByteArray) bytes = NULL;
  g_autofree char *canonical = NULL;

  g_return_val_if_fail (decimal != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  bytes = py_int_from_decimal (decimal, strlen (decimal));
  if (bytes == NULL)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "'%.40s' is not a decimal int of at most 4300 digits",
                   decimal);
      return NULL;
    }
  if (bytes->len <= 8)
    {
      guint64 v = (bytes->data[bytes->len - 1] & 0x80) ? G_MAXUINT64 : 0;

      for (guint i = 0; i < bytes->len; i++)
        {
          v &= ~((guint64) 0xff << (8 * i));
          v |= (guint64) bytes->data[i] << (8 * i);
        }
      return g_variant_new_int64 ((gint64) v);
    }
  canonical = py_int_to_decimal (bytes->data, bytes->len);
  return dogpile_py_tagged_new (DOGPILE_PY_INT,
                                g_variant_new_string (canonical));
}

/**
 * dogpile_py_int_to_string:
 * @value: an int: any #GVariant integer type or the tagged form, or a
 *   variant or maybe holding one; borrowed, but a floating reference is
 *   sunk and released
 * @error: return location for a #GError, or %NULL
 *
 * The decimal text of an int, as Python's str() writes it.  A tagged
 * int's text is written in canonical form (no + sign, no leading zeros).
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when @value is not a Python value or
 * not an int, or is a tagged int whose text is not a decimal int of at
 * most 4300 digits.
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): the text, to free with g_free(), or %NULL
 *   with @error set
 */
char *
dogpile_py_int_to_string (GVariant *value, GError **error)
{
  g_autoptr (GVariant) content = NULL;
  DogpilePyType type;

  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!dogpile_py_value_classify (value, &type, &content, error))
    return NULL;
  if (type != DOGPILE_PY_INT)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "GVariant type '%s' is not an int",
                   g_variant_get_type_string (content));
      return NULL;
    }
  switch (g_variant_classify (content))
    {
    case G_VARIANT_CLASS_STRING:
      {
        const char *text = g_variant_get_string (content, NULL);
        g_autoptr (GByteArray) bytes
            = py_int_from_decimal (text, strlen (text));

        if (bytes == NULL)
          {
            g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                         "A tagged int's text '%.40s' is not a decimal int",
                         text);
            return NULL;
          }
        return py_int_to_decimal (bytes->data, bytes->len);
      }
    case G_VARIANT_CLASS_BYTE:
      return g_strdup_printf ("%u", g_variant_get_byte (content));
    case G_VARIANT_CLASS_INT16:
      return g_strdup_printf ("%d", g_variant_get_int16 (content));
    case G_VARIANT_CLASS_UINT16:
      return g_strdup_printf ("%u", g_variant_get_uint16 (content));
    case G_VARIANT_CLASS_INT32:
      return g_strdup_printf ("%d", g_variant_get_int32 (content));
    case G_VARIANT_CLASS_HANDLE:
      return g_strdup_printf ("%d", g_variant_get_handle (content));
    case G_VARIANT_CLASS_UINT32:
      return g_strdup_printf ("%u", g_variant_get_uint32 (content));
    case G_VARIANT_CLASS_INT64:
      return g_strdup_printf ("%" G_GINT64_FORMAT,
                              g_variant_get_int64 (content));
    default:
      return g_strdup_printf ("%" G_GUINT64_FORMAT,
                              g_variant_get_uint64 (content));
    }
}
