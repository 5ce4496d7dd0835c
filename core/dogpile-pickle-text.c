/* dogpile-pickle-text.c: pickle protocol 0, the text protocol, written as
 * CPython 3 writes it (pickle.dumps(value, 0)).
 *
 * python-memcached and bmemcached pickle a stock region's CachedValue
 * with protocol 0 (their pickleProtocol / pickle_protocol default), so a
 * C region sharing their items writes what they write.  Every Python
 * reads any protocol; writing theirs keeps the items byte for byte what
 * the Python side would have stored, for the same value.
 *
 * The opcodes are text: `I<int>\n` (within 32 bits; `L<int>L\n` beyond),
 * `F<repr>\n`, `V<raw-unicode-escape>\n`, `(l` ... `a` lists, `(d` ...
 * `s` dicts, `(` ... `t` tuples, and the reductions protocols below 3
 * spell bytes, bytearray, set and frozenset with (`_codecs.encode`,
 * `__builtin__.set`, ...).  Python memoizes every str, container and
 * reduction (`p<n>\n`) and writes `g<n>\n` for an object it met before.
 * The objects a C value can share with Python's are the globals, the
 * constant 'latin1' of _codecs.encode, and the strs CPython keeps one
 * object of: the empty str and each one-character str below U+0100; for
 * those the same memo references are written.  Other equal strs are
 * separate objects in Python unless its code made them one, and are
 * written in full (docs/differences.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

#include <math.h>
#include <string.h>

#define TEXT_MAX_DEPTH 1000 /* Python's own recursion limit */

typedef struct {
  GString *out;
  guint memo;
  /* "module\nname", a str singleton or "latin1" -> memo index + 1 */
  GHashTable *shared;
  GError **error;
} Text;

static gboolean
text_failed (Text *t, const char *what)
{
  g_set_error (t->error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "Cannot pickle the value (protocol 0): %s", what);
  return FALSE;
}

static void
put_memo (Text *t)
{
  g_string_append_printf (t->out, "p%u\n", t->memo++);
}

/* A reference to @key met before (TRUE, written), or records that the
 * next memo index will be it. */
static gboolean
shared_get_or_note (Text *t, const char *key)
{
  guint index = GPOINTER_TO_UINT (g_hash_table_lookup (t->shared, key));

  if (index != 0)
    {
      g_string_append_printf (t->out, "g%u\n", index - 1);
      return TRUE;
    }
  g_hash_table_insert (t->shared, g_strdup (key),
                       GUINT_TO_POINTER (t->memo + 1));
  return FALSE;
}

/* GLOBAL with Python 3's names mapped back to Python 2's (fix_imports). */
static void
put_global (Text *t, const char *module, const char *name)
{
  g_autofree char *key = g_strconcat ("global\n", module, "\n", name, NULL);

  if (shared_get_or_note (t, key))
    return;
  g_string_append_printf (t->out, "c%s\n%s\n", module, name);
  put_memo (t);
}

/* The next code point of UTF-8 that may hold surrogates (surrogatepass),
 * or -1. */
static gint32
next_code_point (const guint8 **p, const guint8 *end)
{
  const guint8 *s = *p;
  guint32 c = s[0];
  int n = c < 0x80 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;

  if (n < 0 || end - s < n + 1)
    return -1;
  if (n > 0)
    c &= 0x3f >> n;
  for (int i = 1; i <= n; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return -1;
      c = (c << 6) | (s[i] & 0x3f);
    }
  *p = s + n + 1;
  return (gint32) c;
}

/* UNICODE: raw-unicode-escape, with the five characters pickle escapes
 * first (a backslash, NUL, LF, CR and ^Z, which would end or confuse the
 * line). */
static gboolean
put_str (Text *t, const guint8 *s, gsize len)
{
  const guint8 *end = s + len;
  const guint8 *p = s;
  gint32 first = len > 0 ? next_code_point (&p, end) : 0;
  gboolean singleton = len == 0 || (first >= 0 && first < 0x100 && p == end);
  g_autofree char *key = NULL;

  if (singleton)
    {
      key = g_strdup_printf ("str\n%d", len == 0 ? -1 : first);
      if (shared_get_or_note (t, key))
        return TRUE;
    }
  g_string_append_c (t->out, 'V');
  for (p = s; p < end;)
    {
      gint32 c = next_code_point (&p, end);

      if (c < 0)
        return text_failed (t, "a str that is not UTF-8");
      if (c == '\\' || c == 0 || c == '\n' || c == '\r' || c == 0x1a)
        g_string_append_printf (t->out, "\\u%04x", (guint) c);
      else if (c < 0x100)
        g_string_append_c (t->out, (char) c);
      else if (c < 0x10000)
        g_string_append_printf (t->out, "\\u%04x", (guint) c);
      else
        g_string_append_printf (t->out, "\\U%08x", (guint) c);
    }
  g_string_append_c (t->out, '\n');
  put_memo (t);
  return TRUE;
}

static gboolean save_text (Text *t, GVariant *value, guint depth);

/* What protocols below 3 make of bytes: _codecs.encode(str, "latin1"),
 * or bytes() for none. */
static gboolean
put_bytes (Text *t, const guint8 *data, gsize len)
{
  g_autofree char *latin1 = NULL;
  gsize utf8_len;

  if (len == 0)
    {
      put_global (t, "__builtin__", "bytes");
      g_string_append (t->out, "(tR");
      put_memo (t);
      return TRUE;
    }
  put_global (t, "_codecs", "encode");
  g_string_append_c (t->out, '(');
  /* str(bytes, "latin1"): each byte is the code point of its value */
  {
    GString *utf8 = g_string_sized_new (len * 2);

    for (gsize i = 0; i < len; i++)
      g_string_append_unichar (utf8, data[i]);
    utf8_len = utf8->len;
    latin1 = g_string_free (utf8, FALSE);
  }
  if (!put_str (t, (const guint8 *) latin1, utf8_len))
    return FALSE;
  if (!shared_get_or_note (t, "latin1"))
    {
      g_string_append (t->out, "Vlatin1\n");
      put_memo (t);
    }
  g_string_append (t->out, "tp");
  g_string_append_printf (t->out, "%u\nR", t->memo++);
  put_memo (t);
  return TRUE;
}

static gboolean
put_members (Text *t, GVariant *container, guint depth, const char *after)
{
  gsize n = g_variant_n_children (container);

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) member = g_variant_get_child_value (container, i);

      if (!save_text (t, member, depth + 1))
        return FALSE;
      g_string_append (t->out, after);
    }
  return TRUE;
}

/* The pairs of a{..} (dict entries) or a(vv) (tuples): key, value, s. */
static gboolean
put_items (Text *t, GVariant *pairs, guint depth)
{
  gsize n = g_variant_n_children (pairs);

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) pair = g_variant_get_child_value (pairs, i);
      g_autoptr (GVariant) key = NULL;
      g_autoptr (GVariant) value = NULL;

      if (g_variant_n_children (pair) != 2)
        return text_failed (t, "a dict's items are pairs");
      key = g_variant_get_child_value (pair, 0);
      value = g_variant_get_child_value (pair, 1);
      if (!save_text (t, key, depth + 1) || !save_text (t, value, depth + 1))
        return FALSE;
      g_string_append_c (t->out, 's');
    }
  return TRUE;
}

static gboolean
put_int (Text *t, GVariant *value)
{
  g_autofree char *digits = dogpile_py_int_to_string (value, t->error);
  gint64 small;
  char *end;

  if (digits == NULL)
    return FALSE;
  small = g_ascii_strtoll (digits, &end, 10);
  if (*end == '\0' && small >= G_MININT32 && small <= G_MAXINT32
      && strlen (digits) < 12)
    g_string_append_printf (t->out, "I%s\n", digits);
  else
    g_string_append_printf (t->out, "L%sL\n", digits);
  return TRUE;
}

static void
put_float (Text *t, double d)
{
  char repr[DOGPILE_DOUBLE_REPR_MAX];

  if (isnan (d))
    g_string_append (t->out, "Fnan\n");
  else if (isinf (d))
    g_string_append (t->out, d > 0 ? "Finf\n" : "F-inf\n");
  else
    {
      dogpile__format_double_repr (d, repr);
      g_string_append_printf (t->out, "F%s\n", repr);
    }
}

static gboolean
save_text (Text *t, GVariant *value, guint depth)
{
  g_autoptr (GVariant) content = NULL;
  DogpilePyType type;
  gsize len;
  gconstpointer data;

  if (depth > TEXT_MAX_DEPTH)
    return text_failed (t, "the value nests too deep");
  if (!dogpile_py_value_classify (value, &type, &content, t->error))
    return FALSE;
  switch (type)
    {
    case DOGPILE_PY_NONE: g_string_append_c (t->out, 'N'); return TRUE;
    case DOGPILE_PY_BOOL:
      g_string_append (t->out,
                       g_variant_get_boolean (content) ? "I01\n" : "I00\n");
      return TRUE;
    case DOGPILE_PY_INT: return put_int (t, value);
    case DOGPILE_PY_FLOAT:
      put_float (t, g_variant_get_double (content));
      return TRUE;
    case DOGPILE_PY_STR:
      if (g_variant_is_of_type (content, G_VARIANT_TYPE_BYTESTRING))
        {
          data = g_variant_get_fixed_array (content, &len, 1);
          return put_str (t, data, len);
        }
      data = g_variant_get_string (content, &len);
      return put_str (t, data, len);
    case DOGPILE_PY_BYTES:
      data = g_variant_get_fixed_array (content, &len, 1);
      return put_bytes (t, data, len);
    case DOGPILE_PY_BYTEARRAY:
      if (!g_variant_is_of_type (content, G_VARIANT_TYPE_BYTESTRING))
        return text_failed (t, "a tagged bytearray holds ay");
      data = g_variant_get_fixed_array (content, &len, 1);
      put_global (t, "__builtin__", "bytearray");
      if (len == 0)
        g_string_append (t->out, "(tR");
      else
        {
          g_string_append_c (t->out, '(');
          if (!put_bytes (t, data, len))
            return FALSE;
          g_string_append (t->out, "tp");
          g_string_append_printf (t->out, "%u\nR", t->memo++);
        }
      put_memo (t);
      return TRUE;
    case DOGPILE_PY_LIST:
      g_string_append (t->out, "(l");
      put_memo (t);
      return put_members (t, content, depth, "a");
    case DOGPILE_PY_TUPLE:
      g_string_append_c (t->out, '(');
      if (!put_members (t, content, depth, ""))
        return FALSE;
      g_string_append_c (t->out, 't');
      if (g_variant_n_children (content) > 0)
        put_memo (t);
      return TRUE;
    case DOGPILE_PY_DICT:
      g_string_append (t->out, "(d");
      put_memo (t);
      return put_items (t, content, depth);
    case DOGPILE_PY_SET:
    case DOGPILE_PY_FROZENSET:
      /* set(list), as copyreg's reduction of a set below protocol 4 */
      if (!g_variant_is_container (content)
          || g_variant_is_of_type (content, G_VARIANT_TYPE_BYTESTRING))
        return text_failed (t, "a tagged set holds an array such as av");
      put_global (t, "__builtin__",
                  type == DOGPILE_PY_SET ? "set" : "frozenset");
      g_string_append (t->out, "((l");
      put_memo (t);
      if (!put_members (t, content, depth, "a"))
        return FALSE;
      g_string_append (t->out, "tp");
      g_string_append_printf (t->out, "%u\nR", t->memo++);
      put_memo (t);
      return TRUE;
    default: return text_failed (t, "not a Python value");
    }
}

static void
text_init (Text *t, GError **error)
{
  t->out = g_string_sized_new (128);
  t->memo = 0;
  t->shared = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  t->error = error;
}

static GBytes *
text_finish (Text *t, gboolean ok)
{
  g_hash_table_unref (t->shared);
  if (!ok)
    {
      g_string_free (t->out, TRUE);
      return NULL;
    }
  g_string_append_c (t->out, '.');
  return g_string_free_to_bytes (t->out);
}

/**
 * dogpile_pickle_dumps_protocol0:
 * @value: the value, mapped as the Python values section
 *   (`dogpile/dogpile-python-value.h`) describes; borrowed, but a
 *   floating reference is sunk and released
 * @error: return location for a #GError, or %NULL
 *
 * Python's pickle.dumps(value, protocol=0): the same bytes for a value in
 * which no object is shared but those CPython always shares (the empty
 * str, one-character strs below U+0100).  dogpile_pickle_loads() reads it
 * back.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when @value, or a value inside it, is
 * not a Python value (a type no Python value maps to, a tagged value
 * whose content has the wrong type, a str that is not UTF-8) or nests
 * deeper than 1000 levels.
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): the pickle, or %NULL with @error set
 */
GBytes *
dogpile_pickle_dumps_protocol0 (GVariant *value, GError **error)
{
  g_autoptr (GVariant) sunk = NULL;
  Text t;

  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  sunk = g_variant_ref_sink (value);
  text_init (&t, error);
  return text_finish (&t, save_text (&t, sunk, 0));
}

/**
 * dogpile_pickle_dumps_cached_value_protocol0:
 * @payload: the value, mapped as for dogpile_pickle_dumps_protocol0();
 *   borrowed, but a floating reference is sunk and released
 * @metadata: the metadata, borrowed for the call: its cached_time is
 *   written as "ct" (a float) and its version as "v"
 * @error: return location for a #GError, or %NULL
 *
 * What python-memcached and bmemcached store for a stock Python region's
 * value: pickle.dumps(CachedValue(payload, {"ct": ct, "v": v}), 0), that
 * is copy_reg._reconstructor(CachedValue, tuple, (payload, metadata)).
 * Python's pickle.loads() reads it back as a dogpile.cache.api.CachedValue,
 * and dogpile_pickle_loads_cached_value() reads it back here.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when @payload is not a Python value,
 * as for dogpile_pickle_dumps_protocol0().
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): the pickle, or %NULL with @error set
 */
GBytes *
dogpile_pickle_dumps_cached_value_protocol0 (GVariant *payload,
                                             const DogpileMetadata *metadata,
                                             GError **error)
{
  g_autoptr (GVariant) sunk = NULL;
  gboolean ok;
  Text t;

  g_return_val_if_fail (payload != NULL, NULL);
  g_return_val_if_fail (metadata != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  sunk = g_variant_ref_sink (payload);
  text_init (&t, error);
  put_global (&t, "copy_reg", "_reconstructor");
  g_string_append_c (t.out, '(');
  put_global (&t, "dogpile.cache.api", "CachedValue");
  put_global (&t, "__builtin__", "tuple");
  g_string_append_c (t.out, '(');
  ok = save_text (&t, sunk, 0);
  if (ok)
    {
      g_string_append (t.out, "(d");
      put_memo (&t);
      put_str (&t, (const guint8 *) "ct", 2);
      put_float (&t, metadata->cached_time);
      g_string_append_c (t.out, 's');
      put_str (&t, (const guint8 *) "v", 1);
      g_string_append_printf (t.out, "I%d\ns", metadata->version);
      g_string_append_c (t.out, 't');
      put_memo (&t);
      g_string_append_c (t.out, 't');
      put_memo (&t);
      g_string_append_c (t.out, 'R');
      put_memo (&t);
    }
  return text_finish (&t, ok);
}
