/* dogpile-json.c: JSON text, as Python's json module reads and writes it.
 *
 * Reading builds a PyTree, as the pickle loader does, and writes it as
 * one serialized GVariant; writing reads the GVariant's serialized data
 * through PyView.  Both follow CPython 3.11's json module: json.loads
 * (strict: no control characters inside a string; NaN, Infinity and
 * -Infinity accepted; the last of two equal keys wins, in the first one's
 * place) and json.dumps with its defaults.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"
#include "dogpile-python-tree.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#define NO_NODE G_MAXUINT32
/* Python refuses int() of more digits (CVE-2020-10735). */
#define JSON_INT_MAX_DIGITS 4300

/* ---- reading -------------------------------------------------------------
 */

typedef struct {
  const char *start, *p, *end;
  PyTree tree;
  DogpileJsonFlags flags;
  GError **error;
  gboolean failed;
} Reader;

/* Python's message form: "Expecting value: line 1 column 1 (char 0)". */
static guint32 G_GNUC_PRINTF (3, 4)
    reader_fail (Reader *r, const char *at, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;
  gsize line = 1, column = 1;

  if (r->failed)
    return NO_NODE;
  r->failed = TRUE;
  for (const char *q = r->start; q < at; q++)
    {
      if (*q == '\n')
        line++, column = 1;
      else
        column++;
    }
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (r->error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE,
               "Cannot read JSON: %s: line %" G_GSIZE_FORMAT
               " column %" G_GSIZE_FORMAT " (char %" G_GSIZE_FORMAT ")",
               what, line, column, (gsize) (at - r->start));
  return NO_NODE;
}

static void
skip_ws (Reader *r)
{
  while (r->p < r->end
         && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
    r->p++;
}

static guint32 parse_value (Reader *r, guint depth);

static void
put_utf8 (GString *out, guint32 c)
{
  char buf[4];
  gsize n;

  /* surrogates too (surrogatepass): a lone \ud800 is a Python str */
  if (c < 0x80)
    buf[0] = (char) c, n = 1;
  else if (c < 0x800)
    buf[0] = (char) (0xc0 | (c >> 6)), buf[1] = (char) (0x80 | (c & 0x3f)),
    n = 2;
  else if (c < 0x10000)
    buf[0] = (char) (0xe0 | (c >> 12)),
    buf[1] = (char) (0x80 | ((c >> 6) & 0x3f)),
    buf[2] = (char) (0x80 | (c & 0x3f)), n = 3;
  else
    buf[0] = (char) (0xf0 | (c >> 18)),
    buf[1] = (char) (0x80 | ((c >> 12) & 0x3f)),
    buf[2] = (char) (0x80 | ((c >> 6) & 0x3f)),
    buf[3] = (char) (0x80 | (c & 0x3f)), n = 4;
  g_string_append_len (out, buf, (gssize) n);
}

static gboolean
read_hex4 (Reader *r, const char *at, guint32 *out)
{
  *out = 0;
  if (r->end - at < 4)
    return FALSE;
  for (int i = 0; i < 4; i++)
    {
      int v = g_ascii_xdigit_value (at[i]);

      if (v < 0)
        return FALSE;
      *out = (*out << 4) | (guint32) v;
    }
  return TRUE;
}

/* At the opening quote. */
static guint32
parse_string (Reader *r)
{
  const char *open = r->p++, *run = r->p;
  g_autoptr (GString) unescaped = NULL;
  gboolean surrogates = FALSE;
  guint32 index;

  for (;;)
    {
      const char *q = run;

      while (q < r->end && *q != '"' && *q != '\\' && (guchar) *q >= 0x20)
        q++;
      if (q == r->end)
        return reader_fail (r, open, "Unterminated string starting at");
      if ((guchar) *q < 0x20)
        return reader_fail (r, q, "Invalid control character at");
      if (!g_utf8_validate_len (run, (gsize) (q - run), NULL))
        return reader_fail (r, run, "Invalid UTF-8 in a string starting at");
      if (*q == '"' && unescaped == NULL)
        {
          index = py_tree_add (&r->tree, PY_NODE_STR);
          py_tree_node (&r->tree, index)->s = (const guint8 *) run;
          py_tree_node (&r->tree, index)->n = (guint32) (q - run);
          r->p = q + 1;
          return index;
        }
      if (unescaped == NULL)
        unescaped = g_string_new (NULL);
      g_string_append_len (unescaped, run, (gssize) (q - run));
      if (*q == '"')
        {
          r->p = q + 1;
          break;
        }
      /* an escape */
      if (q + 1 == r->end)
        return reader_fail (r, open, "Unterminated string starting at");
      switch (q[1])
        {
        case '"': g_string_append_c (unescaped, '"'); break;
        case '\\': g_string_append_c (unescaped, '\\'); break;
        case '/': g_string_append_c (unescaped, '/'); break;
        case 'b': g_string_append_c (unescaped, '\b'); break;
        case 'f': g_string_append_c (unescaped, '\f'); break;
        case 'n': g_string_append_c (unescaped, '\n'); break;
        case 'r': g_string_append_c (unescaped, '\r'); break;
        case 't': g_string_append_c (unescaped, '\t'); break;
        case 'u':
          {
            guint32 c, low;

            if (!read_hex4 (r, q + 2, &c))
              return reader_fail (r, q, "Invalid \\uXXXX escape");
            q += 4;
            /* a pair makes one character; a lone half stays a surrogate */
            if (c >= 0xd800 && c <= 0xdbff && r->end - q >= 8 && q[2] == '\\'
                && q[3] == 'u' && read_hex4 (r, q + 4, &low) && low >= 0xdc00
                && low <= 0xdfff)
              {
                c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
                q += 6;
              }
            else if (c >= 0xd800 && c <= 0xdfff)
              surrogates = TRUE;
            put_utf8 (unescaped, c);
            break;
          }
        default: return reader_fail (r, q, "Invalid \\escape");
        }
      run = q + 2;
    }
  if (unescaped->len > G_MAXUINT32)
    return reader_fail (r, open, "A string over 4 GiB");
  index = py_tree_add (&r->tree, PY_NODE_STR);
  {
    PyNode *node = py_tree_node (&r->tree, index);
    guint8 *copy = py_tree_alloc (&r->tree, unescaped->len);

    memcpy (copy, unescaped->str, unescaped->len);
    node->s = copy;
    node->n = (guint32) unescaped->len;
    /* a NUL ends a GVariant `s`: tagged, as a surrogate is */
    if (surrogates || memchr (copy, 0, unescaped->len) != NULL)
      node->flags |= PY_NODE_TAGGED_STR;
  }
  return index;
}

static guint32
parse_number (Reader *r)
{
  const char *start = r->p, *q = r->p, *digits;
  gboolean is_float = FALSE;
  guint32 index;

  if (q < r->end && *q == '-')
    q++;
  digits = q;
  if (q < r->end && *q == '0')
    q++;
  else if (q < r->end && *q >= '1' && *q <= '9')
    while (q < r->end && g_ascii_isdigit (*q))
      q++;
  else if (r->end - q >= 8 && memcmp (q, "Infinity", 8) == 0 && q > start)
    {
      r->p = q + 8;
      index = py_tree_add (&r->tree, PY_NODE_FLOAT);
      py_tree_node (&r->tree, index)->d = -INFINITY;
      return index;
    }
  else
    return reader_fail (r, start, "Expecting value");
  if (q + 1 < r->end && *q == '.' && g_ascii_isdigit (q[1]))
    {
      is_float = TRUE;
      for (q++; q < r->end && g_ascii_isdigit (*q); q++)
        ;
    }
  if (q < r->end && (*q == 'e' || *q == 'E'))
    {
      const char *e = q + 1;

      if (e < r->end && (*e == '+' || *e == '-'))
        e++;
      if (e < r->end && g_ascii_isdigit (*e))
        {
          is_float = TRUE;
          for (q = e; q < r->end && g_ascii_isdigit (*q); q++)
            ;
        }
    }
  r->p = q;
  if (is_float)
    {
      g_autofree char *text = g_strndup (start, (gsize) (q - start));

      index = py_tree_add (&r->tree, PY_NODE_FLOAT);
      py_tree_node (&r->tree, index)->d = g_ascii_strtod (text, NULL);
      return index;
    }
  if (q - digits > JSON_INT_MAX_DIGITS)
    return reader_fail (r, start,
                        "Exceeds the limit (4300 digits) for integer "
                        "string conversion");
  if (q - digits <= 18)
    {
      gint64 v = 0;

      for (const char *d = digits; d < q; d++)
        v = v * 10 + (*d - '0');
      index = py_tree_add (&r->tree, PY_NODE_INT);
      py_tree_node (&r->tree, index)->i = *start == '-' ? -v : v;
      return index;
    }
  {
    char text[24];
    gint64 v;
    char *stop;

    if (q - start < (gssize) sizeof text)
      {
        memcpy (text, start, (gsize) (q - start));
        text[q - start] = 0;
        errno = 0;
        v = g_ascii_strtoll (text, &stop, 10);
        if (errno == 0 && *stop == 0)
          {
            index = py_tree_add (&r->tree, PY_NODE_INT);
            py_tree_node (&r->tree, index)->i = v;
            return index;
          }
      }
  }
  /* beyond 64 bits: the decimal text, canonical already */
  index = py_tree_add (&r->tree, PY_NODE_BIGINT);
  py_tree_node (&r->tree, index)->s = (const guint8 *) start;
  py_tree_node (&r->tree, index)->n = (guint32) (q - start);
  return index;
}

static gboolean
node_is_str (Reader *r, guint32 index, const char *text)
{
  PyNode *node = py_tree_node (&r->tree, index);

  return node->kind == PY_NODE_STR && node->n == strlen (text)
         && memcmp (node->s, text, node->n) == 0;
}

static gboolean
is_hashable (Reader *r, guint32 index)
{
  guint8 kind = py_tree_node (&r->tree, index)->kind;

  if (kind == PY_NODE_TUPLE)
    {
      for (guint32 e = py_tree_node (&r->tree, index)->c.first; e != 0;
           e = r->tree.edges[e].next)
        if (!is_hashable (r, r->tree.edges[e].node))
          return FALSE;
      return TRUE;
    }
  return kind != PY_NODE_LIST && kind != PY_NODE_DICT && kind != PY_NODE_SET
         && kind != PY_NODE_BYTEARRAY;
}

static guint32
decode_base64 (Reader *r, const char *at, guint32 str, PyNodeKind kind)
{
  PyNode *node = py_tree_node (&r->tree, str);
  gsize n = node->n, out_len;
  g_autofree char *text = NULL;
  guchar *decoded;
  guint32 index;

  /* g_base64_decode skips what is not base64; Python's b64decode with
   * validate=True does not, and neither do we */
  if (n % 4 != 0)
    return reader_fail (r, at,
                        "A %s tag's base64 text has a length that "
                        "is not a multiple of 4",
                        kind == PY_NODE_BYTES ? "$bytes" : "$bytearray");
  for (gsize i = 0; i < n; i++)
    {
      char c = (char) node->s[i];

      if (!(g_ascii_isalnum (c) || c == '+' || c == '/'
            || (c == '=' && i + 2 >= n
                && (i + 1 == n || node->s[n - 1] == '='))))
        return reader_fail (r, at, "A %s tag's text is not base64",
                            kind == PY_NODE_BYTES ? "$bytes" : "$bytearray");
    }
  text = g_strndup ((const char *) node->s, n);
  decoded = g_base64_decode (text, &out_len);
  index = py_tree_add (&r->tree, kind);
  node = py_tree_node (&r->tree, index);
  node->s = py_tree_alloc (&r->tree, out_len);
  memcpy ((guint8 *) node->s, decoded, out_len);
  node->n = (guint32) out_len;
  g_free (decoded);
  return index;
}

/* {"$tag": value}: the value JSON has no form for. */
static guint32
untag (Reader *r, const char *at, guint32 key, guint32 value)
{
  PyNode *v = py_tree_node (&r->tree, value);

  if (node_is_str (r, key, "$bytes") || node_is_str (r, key, "$bytearray"))
    {
      if (v->kind != PY_NODE_STR)
        return reader_fail (r, at, "A bytes tag holds base64 text");
      return decode_base64 (
          r, at, value,
          node_is_str (r, key, "$bytes") ? PY_NODE_BYTES : PY_NODE_BYTEARRAY);
    }
  if (v->kind != PY_NODE_LIST)
    return reader_fail (r, at,
                        "A $tuple, $set, $frozenset or $dict tag "
                        "holds an array");
  if (node_is_str (r, key, "$tuple"))
    {
      v->kind = PY_NODE_TUPLE;
      return value;
    }
  if (node_is_str (r, key, "$set") || node_is_str (r, key, "$frozenset"))
    {
      for (guint32 e = v->c.first; e != 0; e = r->tree.edges[e].next)
        if (!is_hashable (r, r->tree.edges[e].node))
          return reader_fail (r, at,
                              "A set member must be hashable: not a "
                              "list, dict, set or bytearray");
      v->kind = node_is_str (r, key, "$set") ? PY_NODE_SET : PY_NODE_FROZENSET;
      return value;
    }
  {
    guint32 dict = py_tree_add (&r->tree, PY_NODE_DICT);

    for (guint32 e = py_tree_node (&r->tree, value)->c.first; e != 0;
         e = r->tree.edges[e].next)
      {
        PyNode *pair = py_tree_node (&r->tree, r->tree.edges[e].node);
        guint32 k, val;

        if (pair->kind != PY_NODE_LIST || pair->n != 2)
          return reader_fail (r, at, "A $dict tag holds [key, value] pairs");
        k = r->tree.edges[pair->c.first].node;
        val = r->tree.edges[r->tree.edges[pair->c.first].next].node;
        if (!is_hashable (r, k))
          return reader_fail (r, at,
                              "A dict key must be hashable: not a "
                              "list, dict, set or bytearray");
        py_tree_append (&r->tree, dict, k);
        py_tree_append (&r->tree, dict, val);
      }
    return dict;
  }
}

static gboolean
is_tag (const guint8 *s, gsize n)
{
  static const char *const tags[]
      = { "$bytes", "$bytearray", "$tuple", "$set", "$frozenset", "$dict" };

  for (gsize i = 0; i < G_N_ELEMENTS (tags); i++)
    if (n == strlen (tags[i]) && memcmp (s, tags[i], n) == 0)
      return TRUE;
  return FALSE;
}

typedef struct {
  guint32 key;
  guint32 value_edge;
} Member;

static guint32
parse_object (Reader *r, guint depth)
{
  const char *open = r->p++;
  guint32 dict = py_tree_add (&r->tree, PY_NODE_DICT);
  g_autoptr (GArray) members = g_array_new (FALSE, FALSE, sizeof (Member));
  g_autoptr (GHashTable) index = NULL;

  skip_ws (r);
  if (r->p < r->end && *r->p == '}')
    {
      r->p++;
      return dict;
    }
  for (;;)
    {
      guint32 key, value;
      PyNode *k;
      Member *seen = NULL;

      skip_ws (r);
      if (r->p == r->end || *r->p != '"')
        return reader_fail (r, r->p,
                            "Expecting property name enclosed in double "
                            "quotes");
      key = parse_string (r);
      if (key == NO_NODE)
        return NO_NODE;
      skip_ws (r);
      if (r->p == r->end || *r->p != ':')
        return reader_fail (r, r->p, "Expecting ':' delimiter");
      r->p++;
      value = parse_value (r, depth + 1);
      if (value == NO_NODE)
        return NO_NODE;

      /* a dict: an equal key takes the new value in its first place */
      k = py_tree_node (&r->tree, key);
      if (index != NULL)
        {
          /* by bytes: a key may hold \u0000, which text would cut */
          g_autoptr (GBytes) text = g_bytes_new_static (k->s, k->n);
          gpointer at;

          if (g_hash_table_lookup_extended (index, text, NULL, &at))
            seen = &g_array_index (members, Member, GPOINTER_TO_UINT (at));
        }
      else
        for (guint i = 0; i < members->len && seen == NULL; i++)
          {
            PyNode *other = py_tree_node (
                &r->tree, g_array_index (members, Member, i).key);

            if (other->n == k->n && memcmp (other->s, k->s, k->n) == 0)
              seen = &g_array_index (members, Member, i);
          }
      if (seen != NULL)
        r->tree.edges[seen->value_edge].node = value;
      else
        {
          Member m = { key, 0 };

          py_tree_append (&r->tree, dict, key);
          py_tree_append (&r->tree, dict, value);
          m.value_edge = (guint32) r->tree.n_edges - 1;
          g_array_append_val (members, m);
          if (index == NULL && members->len > 16)
            {
              index = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                             (GDestroyNotify) g_bytes_unref,
                                             NULL);
              for (guint i = 0; i < members->len; i++)
                {
                  PyNode *mk = py_tree_node (
                      &r->tree, g_array_index (members, Member, i).key);

                  g_hash_table_insert (index, g_bytes_new (mk->s, mk->n),
                                       GUINT_TO_POINTER (i));
                }
            }
          else if (index != NULL)
            g_hash_table_insert (index, g_bytes_new (k->s, k->n),
                                 GUINT_TO_POINTER (members->len - 1));
        }

      skip_ws (r);
      if (r->p < r->end && *r->p == ',')
        {
          r->p++;
          continue;
        }
      if (r->p < r->end && *r->p == '}')
        {
          r->p++;
          break;
        }
      return reader_fail (r, r->p, "Expecting ',' delimiter");
    }
  if ((r->flags & DOGPILE_JSON_TAGGED) && members->len == 1)
    {
      PyNode *k
          = py_tree_node (&r->tree, g_array_index (members, Member, 0).key);

      if (is_tag (k->s, k->n))
        return untag (
            r, open, g_array_index (members, Member, 0).key,
            r->tree.edges[g_array_index (members, Member, 0).value_edge].node);
    }
  return dict;
}

static guint32
parse_array (Reader *r, guint depth)
{
  guint32 list = py_tree_add (&r->tree, PY_NODE_LIST);

  r->p++;
  skip_ws (r);
  if (r->p < r->end && *r->p == ']')
    {
      r->p++;
      return list;
    }
  for (;;)
    {
      guint32 value = parse_value (r, depth + 1);

      if (value == NO_NODE)
        return NO_NODE;
      py_tree_append (&r->tree, list, value);
      skip_ws (r);
      if (r->p < r->end && *r->p == ',')
        {
          r->p++;
          continue;
        }
      if (r->p < r->end && *r->p == ']')
        {
          r->p++;
          return list;
        }
      return reader_fail (r, r->p, "Expecting ',' delimiter");
    }
}

static gboolean
literal (Reader *r, const char *word)
{
  gsize n = strlen (word);

  if ((gsize) (r->end - r->p) < n || memcmp (r->p, word, n) != 0)
    return FALSE;
  r->p += n;
  return TRUE;
}

static guint32
parse_value (Reader *r, guint depth)
{
  guint limit = (r->flags & DOGPILE_JSON_TAGGED) ? 4 * PY_TREE_MAX_DEPTH
                                                 : PY_TREE_MAX_DEPTH;
  guint32 index;

  skip_ws (r);
  /* Plain JSON nests as deep as the value it holds.  A tagged form takes
   * two or three levels for one value ({"$dict": [[k, v]]}): read as deep
   * as the writer writes, the value's own depth being checked when the
   * tree becomes a GVariant, as for a pickle. */
  if (depth > limit)
    return reader_fail (r, r->p, "Nesting deeper than %u", limit);
  if (r->p == r->end)
    return reader_fail (r, r->p, "Expecting value");
  switch (*r->p)
    {
    case '"': return parse_string (r);
    case '{': return parse_object (r, depth);
    case '[': return parse_array (r, depth);
    case 'n':
      if (!literal (r, "null"))
        break;
      return py_tree_add (&r->tree, PY_NODE_NONE);
    case 't':
    case 'f':
      {
        gboolean truth = *r->p == 't';

        if (!literal (r, truth ? "true" : "false"))
          break;
        index = py_tree_add (&r->tree, PY_NODE_BOOL);
        py_tree_node (&r->tree, index)->b = truth;
        return index;
      }
    case 'N':
    case 'I':
      {
        gboolean nan = *r->p == 'N';

        if (!literal (r, nan ? "NaN" : "Infinity"))
          break;
        index = py_tree_add (&r->tree, PY_NODE_FLOAT);
        py_tree_node (&r->tree, index)->d = nan ? NAN : INFINITY;
        return index;
      }
    default: return parse_number (r);
    }
  return reader_fail (r, r->p, "Expecting value");
}

static gboolean
read_text (Reader *r, const char *text, gsize len, DogpileJsonFlags flags,
           guint32 *out_root, GError **error)
{
  memset (r, 0, sizeof *r);
  r->start = r->p = text;
  r->end = text + len;
  r->flags = flags;
  r->error = error;
  py_tree_init (&r->tree);
  *out_root = parse_value (r, 0);
  if (*out_root == NO_NODE)
    return FALSE;
  skip_ws (r);
  if (r->p != r->end)
    {
      reader_fail (r, r->p, "Extra data");
      return FALSE;
    }
  return TRUE;
}

/**
 * dogpile_json_loads:
 * @text: (array length=len): JSON text in UTF-8, not necessarily
 *   NUL-terminated; borrowed for the call (%NULL only when @len is 0)
 * @len: the length of @text in bytes
 * @flags: %DOGPILE_JSON_TAGGED to read the tagged forms as their types,
 *   or %DOGPILE_JSON_NONE
 * @error: return location for a #GError, or %NULL
 *
 * Python's json.loads(text): the value, as a #GVariant mapped as the
 * Python values section (`dogpile/dogpile-python-value.h`) describes.
 * A string with a lone surrogate escape or a NUL is a tagged str; an int
 * beyond 64 bits a tagged int.  The result does not refer to @text.
 *
 * Errors: %DOGPILE_ERROR_CANT_DESERIALIZE when @text is not JSON text,
 * with Python's message and the line, column and byte where it goes
 * wrong; also for an int of more than 4300 digits, nesting deeper than
 * the limit, and, with %DOGPILE_JSON_TAGGED, a tagged object that holds
 * the wrong thing (text that is not base64, a dict key or set member
 * Python cannot hash).
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): the value (not floating), or %NULL with
 *   @error set
 */
GVariant *
dogpile_json_loads (const char *text, gsize len, DogpileJsonFlags flags,
                    GError **error)
{
  Reader r;
  guint32 root;
  GVariant *value = NULL;

  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (read_text (&r, text != NULL ? text : "", len, flags, &root, error))
    value = py_tree_to_variant (&r.tree, root, G_MAXSIZE, "JSON", error);
  py_tree_clear (&r.tree);
  return value;
}

/**
 * dogpile_json_validate:
 * @text: (array length=len): bytes that should be JSON text; borrowed for
 *   the call (%NULL only when @len is 0)
 * @len: the length of @text in bytes
 * @error: return location for a #GError, or %NULL
 *
 * Whether Python's json.loads() would read @text, read as
 * dogpile_json_loads() reads it without %DOGPILE_JSON_TAGGED but without
 * making a value.  A region with `serializer = json` checks with it the
 * bytes it stores and reads.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when @text is not JSON text, with
 * Python's message and position ("The payload is not JSON text:
 * Expecting value: line 1 column 1 (char 0)").
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: %TRUE when @text is JSON text, else %FALSE with @error set
 */
gboolean
dogpile_json_validate (const char *text, gsize len, GError **error)
{
  Reader r;
  guint32 root;
  GError *local = NULL;
  gboolean ok;

  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ok = read_text (&r, text != NULL ? text : "", len, DOGPILE_JSON_NONE, &root,
                  &local);
  py_tree_clear (&r.tree);
  if (!ok)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "The payload is not JSON text: %s",
                   local->message + strlen ("Cannot read JSON: "));
      g_error_free (local);
    }
  return ok;
}

/* ---- writing -------------------------------------------------------------
 */

typedef struct {
  GString *out;
  DogpileJsonFlags flags;
  GError **error;
} Writer;

static gboolean G_GNUC_PRINTF (2, 3)
    write_fail (Writer *w, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  if (w->error != NULL && *w->error != NULL)
    return FALSE;
  g_set_error (w->error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "Cannot write JSON: %s", what);
  return FALSE;
}

/* Any GVariant int type, as decimal text. */
static gboolean
write_int (Writer *w, const PyView *v)
{
  gint64 s;

  switch (v->type[0])
    {
    case 'y': s = v->data[0]; break;
    case 'n': s = (gint16) read_le (v->data, 2); break;
    case 'q': s = (gint64) read_le (v->data, 2); break;
    case 'i':
    case 'h': s = (gint32) (guint32) read_le (v->data, 4); break;
    case 'u': s = (gint64) read_le (v->data, 4); break;
    case 'x': s = (gint64) read_le (v->data, 8); break;
    default: /* 't' */
      g_string_append_printf (w->out, "%" G_GUINT64_FORMAT,
                              read_le (v->data, 8));
      return TRUE;
    }
  g_string_append_printf (w->out, "%" G_GINT64_FORMAT, s);
  return TRUE;
}

static void
write_double (Writer *w, const guint8 *le)
{
  guint64 bits = read_le (le, 8);
  double d;
  char repr[DOGPILE_DOUBLE_REPR_MAX];

  memcpy (&d, &bits, sizeof d);
  g_string_append_len (w->out, repr,
                       (gssize) dogpile__format_double_repr (d, repr));
}

/* json.dumps's ensure_ascii: everything outside ' ' to '~' escaped,
 * characters beyond the BMP as a surrogate pair.  @s may hold encoded
 * surrogates (a tagged str). */
static void
write_string (Writer *w, const guint8 *s, gsize n)
{
  static const char hex[] = "0123456789abcdef";

  g_string_append_c (w->out, '"');
  for (gsize i = 0; i < n;)
    {
      guint32 c = s[i];
      gsize len = 1;

      if (c >= 0x80)
        {
          len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
          c &= len == 4 ? 0x07 : len == 3 ? 0x0f : 0x1f;
          for (gsize k = 1; k < len && i + k < n; k++)
            c = (c << 6) | (s[i + k] & 0x3f);
        }
      i += len;
      switch (c)
        {
        case '"': g_string_append (w->out, "\\\""); continue;
        case '\\': g_string_append (w->out, "\\\\"); continue;
        case '\n': g_string_append (w->out, "\\n"); continue;
        case '\r': g_string_append (w->out, "\\r"); continue;
        case '\t': g_string_append (w->out, "\\t"); continue;
        case '\b': g_string_append (w->out, "\\b"); continue;
        case '\f': g_string_append (w->out, "\\f"); continue;
        default: break;
        }
      if (c >= 0x20 && c <= 0x7e)
        {
          g_string_append_c (w->out, (char) c);
          continue;
        }
      if (c >= 0x10000)
        {
          guint32 v = c - 0x10000;
          guint32 halves[2] = { 0xd800 | (v >> 10), 0xdc00 | (v & 0x3ff) };

          for (int h = 0; h < 2; h++)
            {
              char e[6] = { '\\',
                            'u',
                            hex[halves[h] >> 12],
                            hex[(halves[h] >> 8) & 0xf],
                            hex[(halves[h] >> 4) & 0xf],
                            hex[halves[h] & 0xf] };

              g_string_append_len (w->out, e, 6);
            }
          continue;
        }
      {
        char e[6] = { '\\',
                      'u',
                      hex[c >> 12],
                      hex[(c >> 8) & 0xf],
                      hex[(c >> 4) & 0xf],
                      hex[c & 0xf] };

        g_string_append_len (w->out, e, 6);
      }
    }
  g_string_append_c (w->out, '"');
}

static void
write_base64 (Writer *w, const char *tag, const guint8 *data, gsize n)
{
  g_autofree char *text = g_base64_encode (data, n);

  g_string_append_printf (w->out, "{\"%s\": \"%s\"}", tag, text);
}

static gboolean write_value (Writer *w, PyView *view, guint depth);

static const char *
py_kind_name (PyNodeKind kind)
{
  switch (kind)
    {
    case PY_NODE_BYTES: return "bytes";
    case PY_NODE_BYTEARRAY: return "bytearray";
    case PY_NODE_LIST: return "list";
    case PY_NODE_TUPLE: return "tuple";
    case PY_NODE_DICT: return "dict";
    case PY_NODE_SET: return "set";
    case PY_NODE_FROZENSET: return "frozenset";
    default: return "a value";
    }
}

static gboolean
write_members (Writer *w, const PyView *container, guint depth)
{
  PyViewIter iter;
  PyView m;
  GError *local = NULL;
  gboolean first = TRUE;

  g_string_append_c (w->out, '[');
  if (!py_view_iter_init (&iter, container, w->error))
    return FALSE;
  while (py_view_iter_next (&iter, &m, &local))
    {
      if (!first)
        g_string_append (w->out, ", ");
      first = FALSE;
      if (!write_value (w, &m, depth + 1))
        return FALSE;
    }
  if (local != NULL)
    {
      g_propagate_error (w->error, local);
      return FALSE;
    }
  g_string_append_c (w->out, ']');
  return TRUE;
}

/* A dict entry's key and value (an entry of a{sv}, or a pair). */
static gboolean
entry_members (Writer *w, const PyView *entry, PyView *key, PyView *value)
{
  PyViewIter iter;

  return py_view_iter_init (&iter, entry, w->error)
         && py_view_iter_next (&iter, key, w->error)
         && py_view_iter_next (&iter, value, w->error);
}

/* json.dumps's keys: a str, or an int, float, bool or None as its text. */
static gboolean
write_key (Writer *w, PyView *key)
{
  PyView content;
  PyNodeKind kind = py_view_kind (key, &content, w->error);
  gsize start = w->out->len;

  switch (kind)
    {
    case PY_NODE_STR:
      if (key->type[0] == '{')
        write_string (w, content.data, content.size);
      else
        write_string (w, key->data, key->size - 1);
      return TRUE;
    case PY_NODE_INT: write_int (w, key); break;
    case PY_NODE_BIGINT:
      g_string_append_len (w->out, (const char *) content.data,
                           (gssize) content.size - 1);
      break;
    case PY_NODE_FLOAT: write_double (w, key->data); break;
    case PY_NODE_BOOL:
      g_string_append (w->out, key->data[0] ? "true" : "false");
      break;
    case PY_NODE_NONE: g_string_append (w->out, "null"); break;
    case PY_NODE_INVALID: return FALSE;
    default:
      return write_fail (w,
                         "keys must be str, int, float, bool or None, "
                         "not %s",
                         py_kind_name (kind));
    }
  {
    g_autofree char *text = g_strdup (w->out->str + start);

    g_string_truncate (w->out, start);
    write_string (w, (const guint8 *) text, strlen (text));
  }
  return TRUE;
}

static gboolean
write_dict (Writer *w, const PyView *entries, guint depth)
{
  PyViewIter iter;
  PyView entry, key, value;
  GError *local = NULL;
  gboolean tagged = FALSE, first = TRUE;

  if (!py_view_iter_init (&iter, entries, w->error))
    return FALSE;
  if (w->flags & DOGPILE_JSON_TAGGED)
    {
      /* a key that is not a str, or a one-key dict whose key is a tag */
      while (!tagged && py_view_iter_next (&iter, &entry, &local))
        {
          PyView content;

          if (!entry_members (w, &entry, &key, &value))
            return FALSE;
          if (py_view_kind (&key, &content, NULL) != PY_NODE_STR)
            tagged = TRUE;
          else if (iter.n == 1 && key.type[0] == 's')
            tagged = is_tag (key.data, key.size - 1);
        }
      if (local != NULL)
        {
          g_propagate_error (w->error, local);
          return FALSE;
        }
      py_view_iter_init (&iter, entries, NULL);
    }
  g_string_append (w->out, tagged ? "{\"$dict\": [" : "{");
  while (py_view_iter_next (&iter, &entry, &local))
    {
      if (!entry_members (w, &entry, &key, &value))
        return FALSE;
      if (!first)
        g_string_append (w->out, ", ");
      first = FALSE;
      if (tagged)
        {
          g_string_append_c (w->out, '[');
          if (!write_value (w, &key, depth + 1))
            return FALSE;
          g_string_append (w->out, ", ");
        }
      else
        {
          if (!write_key (w, &key))
            return FALSE;
          g_string_append (w->out, ": ");
        }
      if (!write_value (w, &value, depth + 1))
        return FALSE;
      if (tagged)
        g_string_append_c (w->out, ']');
    }
  if (local != NULL)
    {
      g_propagate_error (w->error, local);
      return FALSE;
    }
  g_string_append (w->out, tagged ? "]}" : "}");
  return TRUE;
}

static gboolean
write_value (Writer *w, PyView *view, guint depth)
{
  PyView content;
  PyNodeKind kind;
  gboolean tagged = (w->flags & DOGPILE_JSON_TAGGED) != 0;

  if (depth > 4 * PY_TREE_MAX_DEPTH)
    return write_fail (w, "the value nests too deep");
  kind = py_view_kind (view, &content, w->error);
  switch (kind)
    {
    case PY_NODE_NONE: g_string_append (w->out, "null"); return TRUE;
    case PY_NODE_BOOL:
      g_string_append (w->out, view->data[0] ? "true" : "false");
      return TRUE;
    case PY_NODE_INT: return write_int (w, view);
    case PY_NODE_BIGINT:
      {
        /* canonical, as str() writes it: "+0042" is not JSON */
        g_autoptr (GByteArray) bytes = NULL;
        g_autofree char *text = NULL;

        if (content.size > 0)
          bytes = py_int_from_decimal ((const char *) content.data,
                                       content.size - 1);
        if (bytes == NULL)
          return write_fail (w,
                             "a tagged int's text '%.40s' is not a decimal "
                             "int of at most 4300 digits",
                             content.size > 0 ? (const char *) content.data
                                              : "");
        text = py_int_to_decimal (bytes->data, bytes->len);
        g_string_append (w->out, text);
        return TRUE;
      }
    case PY_NODE_FLOAT: write_double (w, view->data); return TRUE;
    case PY_NODE_STR:
      if (view->type[0] == '{')
        write_string (w, content.data, content.size);
      else
        write_string (w, view->data, view->size - 1);
      return TRUE;
    case PY_NODE_BYTES:
      if (!tagged)
        return write_fail (w, "Object of type bytes is not JSON serializable");
      write_base64 (w, "$bytes", view->data, view->size);
      return TRUE;
    case PY_NODE_BYTEARRAY:
      if (!tagged)
        return write_fail (w, "Object of type bytearray is not JSON "
                              "serializable");
      write_base64 (w, "$bytearray", content.data, content.size);
      return TRUE;
    case PY_NODE_LIST: return write_members (w, view, depth);
    case PY_NODE_TUPLE:
      if (!tagged)
        return write_members (w, view, depth);
      g_string_append (w->out, "{\"$tuple\": ");
      if (!write_members (w, view, depth))
        return FALSE;
      g_string_append_c (w->out, '}');
      return TRUE;
    case PY_NODE_DICT:
      return write_dict (w, view->type[0] == '{' ? &content : view, depth);
    case PY_NODE_SET:
    case PY_NODE_FROZENSET:
      if (!tagged)
        return write_fail (w, "Object of type %s is not JSON serializable",
                           kind == PY_NODE_SET ? "set" : "frozenset");
      g_string_append (w->out, kind == PY_NODE_SET ? "{\"$set\": "
                                                   : "{\"$frozenset\": ");
      if (!write_members (w, &content, depth))
        return FALSE;
      g_string_append_c (w->out, '}');
      return TRUE;
    default: return FALSE;
    }
}

/**
 * dogpile_json_dumps:
 * @value: the value, mapped as the Python values section
 *   (`dogpile/dogpile-python-value.h`) describes; borrowed, but a
 *   floating reference is sunk and released
 * @flags: %DOGPILE_JSON_TAGGED to write what JSON cannot hold as tagged
 *   objects, or %DOGPILE_JSON_NONE
 * @out_len: (out) (optional): the text's length in bytes, without the
 *   closing NUL
 * @error: return location for a #GError, or %NULL
 *
 * Python's json.dumps(value) with its defaults, the same text.  Without
 * %DOGPILE_JSON_TAGGED, tuples are written as lists, and bytes,
 * bytearray, sets, frozensets and dict keys other than str, int, float,
 * bool and None fail as they do in Python ("Object of type bytes is not
 * JSON serializable").
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when @value, or a value inside it, is
 * not a Python value, is one that JSON cannot hold without
 * %DOGPILE_JSON_TAGGED, or nests deeper than 512 levels.
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): NUL-terminated ASCII text, to free with
 *   g_free(), or %NULL with @error set
 */
char *
dogpile_json_dumps (GVariant *value, DogpileJsonFlags flags, gsize *out_len,
                    GError **error)
{
  g_autoptr (GVariant) normal = NULL;
  Writer w;
  PyView view;
  GError *local = NULL;

  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  normal = py_view_init (&view, value);
  w.out = g_string_new (NULL);
  w.flags = flags;
  w.error = &local;
  if (!write_value (&w, &view, 0))
    {
      if (local == NULL)
        write_fail (&w, "not a Python value");
      g_string_free (w.out, TRUE);
      g_propagate_error (error, local);
      return NULL;
    }
  if (out_len != NULL)
    *out_len = w.out->len;
  return g_string_free (w.out, FALSE);
}
