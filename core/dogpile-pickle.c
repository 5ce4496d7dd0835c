/* dogpile-pickle.c: pickle protocols 0 to 5 in, protocol 4 out, for plain
 * data (spec 4.2, 4.3).
 *
 * Loading is CPython's unpickler machine (a stack, marks, a memo) over a
 * PyTree, then one serialized GVariant.  It runs no code: a global is
 * only a name from an allow-list, applied by REDUCE or NEWOBJ only in the
 * shapes Python's writers produce for plain data.  Every length is
 * checked against the input before it is read, the memo's indexes are
 * bounded by the input's length, and the result by a size limit (a memo
 * reference copies what it names).
 *
 * Dumping follows _pickle.c: the same opcode for each value and size,
 * MEMOIZE after the same objects, batches of 1000, frames of 64 KiB
 * committed at an object's end, and data of 64 KiB or more written
 * outside any frame.  Python memoizes by identity, which a GVariant has
 * not: a value in which Python shares one object twice (an interned key
 * in two dicts) gets a BINGET from Python and a copy from us -- both read
 * back equal.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-python-tree.h"

#include <string.h>

/* Python 3.11's _pickle.c */
#define BATCHSIZE 1000
#define FRAME_SIZE_TARGET (64 * 1024)
#define FRAME_SIZE_MIN 4
#define FRAME_HEADER_SIZE 9

/* Whatever the input, the value it describes is at most this many bytes,
 * or 16 times the input: a memo reference costs 2 bytes and copies. */
#define LOAD_MIN_LIMIT (64 * 1024 * 1024)

enum {
  GLOBAL_CODECS_ENCODE,
  GLOBAL_BYTES,
  GLOBAL_BYTEARRAY,
  GLOBAL_SET,
  GLOBAL_FROZENSET,
  GLOBAL_TUPLE,
  GLOBAL_RECONSTRUCTOR,
  GLOBAL_CACHED_VALUE,
};

static const struct {
  const char *module, *name;
  int id;
} allowed_globals[] = {
  { "_codecs", "encode", GLOBAL_CODECS_ENCODE },
  { "__builtin__", "bytes", GLOBAL_BYTES },
  { "builtins", "bytes", GLOBAL_BYTES },
  { "__builtin__", "bytearray", GLOBAL_BYTEARRAY },
  { "builtins", "bytearray", GLOBAL_BYTEARRAY },
  { "__builtin__", "set", GLOBAL_SET },
  { "builtins", "set", GLOBAL_SET },
  { "__builtin__", "frozenset", GLOBAL_FROZENSET },
  { "builtins", "frozenset", GLOBAL_FROZENSET },
  { "__builtin__", "tuple", GLOBAL_TUPLE },
  { "builtins", "tuple", GLOBAL_TUPLE },
  { "copy_reg", "_reconstructor", GLOBAL_RECONSTRUCTOR },
  { "copyreg", "_reconstructor", GLOBAL_RECONSTRUCTOR },
  { "dogpile.cache.api", "CachedValue", GLOBAL_CACHED_VALUE },
};

/* A tuple node made by CachedValue(...): it is one, in Python. */
#define PY_NODE_CACHED 0x4
/* a tuple found hashable: its members are fixed once it is built */
#define PY_NODE_HASHABLE 0x8

typedef struct {
  const guint8 *start, *p, *end;
  PyTree tree;
  guint32 *stack;
  gsize n_stack, stack_alloc;
  gsize *marks;
  gsize n_marks, marks_alloc;
  guint32 *memo; /* node + 1; 0 = unset */
  gsize memo_alloc, memo_len;
  int protocol;
  GError **error;
  guint32 stack_buf[64];
  gsize marks_buf[16];
  guint32 memo_buf[64];
} Loader;

static const char *
opcode_name (guint8 op)
{
  switch (op)
    {
    case 'P': return "PERSID";
    case 'Q': return "BINPERSID";
    case 'i': return "INST";
    case 'o': return "OBJ";
    case 'b': return "BUILD";
    case 0x82: return "EXT1";
    case 0x83: return "EXT2";
    case 0x84: return "EXT4";
    case 0x92: return "NEWOBJ_EX";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    case 'R': return "REDUCE";
    case 0x81: return "NEWOBJ";
    default: return NULL;
    }
}

static void G_GNUC_PRINTF (2, 3)
    set_failure (Loader *l, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = dogpile__utf8_escaped (g_strdup_vprintf (format, args));
  va_end (args);
  g_set_error (l->error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE,
               "Cannot unpickle: %s (at byte %" G_GSIZE_FORMAT ")", what,
               (gsize) (l->p - l->start));
}

/* FALSE, visibly to the compiler's flow analysis. */
#define fail(l, ...) (set_failure ((l), __VA_ARGS__), FALSE)

static gboolean
need (Loader *l, gsize n, const char *what)
{
  if ((gsize) (l->end - l->p) >= n)
    return TRUE;
  return fail (l,
               "%s needs %" G_GSIZE_FORMAT " bytes, only %" G_GSIZE_FORMAT
               " remain: the pickle is truncated",
               what, n, (gsize) (l->end - l->p));
}

/* A length prefix of @width bytes, checked against the input. */
static gboolean
read_length (Loader *l, guint width, gboolean is_signed, const char *what,
             gsize *out)
{
  guint64 n;

  if (!need (l, width, what))
    return FALSE;
  n = read_le (l->p, width);
  if (is_signed && (gint32) (guint32) n < 0)
    return fail (l, "%s has a negative length", what);
  l->p += width;
  if (n > (guint64) (l->end - l->p))
    return fail (l,
                 "%s claims %" G_GUINT64_FORMAT " bytes, only %" G_GSIZE_FORMAT
                 " remain",
                 what, n, (gsize) (l->end - l->p));
  *out = (gsize) n;
  return TRUE;
}

static gboolean
read_line (Loader *l, const char *what, const guint8 **out, gsize *out_len)
{
  const guint8 *nl = memchr (l->p, '\n', (gsize) (l->end - l->p));

  if (nl == NULL)
    return fail (l, "%s has no end of line: the pickle is truncated", what);
  *out = l->p;
  *out_len = (gsize) (nl - l->p);
  l->p = nl + 1;
  return TRUE;
}

static void
push (Loader *l, guint32 node)
{
  if (l->n_stack == l->stack_alloc)
    {
      gsize n = l->stack_alloc * 2;
      guint32 *bigger = g_new (guint32, n);

      memcpy (bigger, l->stack, l->n_stack * sizeof *bigger);
      if (l->stack != l->stack_buf)
        g_free (l->stack);
      l->stack = bigger;
      l->stack_alloc = n;
    }
  l->stack[l->n_stack++] = node;
}

static guint32
push_new (Loader *l, PyNodeKind kind)
{
  guint32 node = py_tree_add (&l->tree, kind);

  push (l, node);
  return node;
}

static gsize
fence (Loader *l)
{
  return l->n_marks > 0 ? l->marks[l->n_marks - 1] : 0;
}

/* The top of the stack, above the last mark. */
static gboolean
top (Loader *l, const char *op, guint32 *out)
{
  if (l->n_stack <= fence (l))
    return fail (l, "%s finds nothing on the stack", op);
  *out = l->stack[l->n_stack - 1];
  return TRUE;
}

static gboolean
pop (Loader *l, const char *op, guint32 *out)
{
  if (!top (l, op, out))
    return FALSE;
  l->n_stack--;
  return TRUE;
}

static gboolean
pop_mark (Loader *l, const char *op, gsize *out)
{
  if (l->n_marks == 0)
    return fail (l, "%s finds no MARK", op);
  *out = l->marks[--l->n_marks];
  return TRUE;
}

static PyNode *
node (Loader *l, guint32 index)
{
  return py_tree_node (&l->tree, index);
}

/* ---- text and strings ----------------------------------------------------
 */

static guint8 *
put_utf8 (guint8 *out, guint32 c)
{
  if (c < 0x80)
    *out++ = (guint8) c;
  else if (c < 0x800)
    {
      *out++ = (guint8) (0xc0 | (c >> 6));
      *out++ = (guint8) (0x80 | (c & 0x3f));
    }
  else if (c < 0x10000)
    {
      *out++ = (guint8) (0xe0 | (c >> 12));
      *out++ = (guint8) (0x80 | ((c >> 6) & 0x3f));
      *out++ = (guint8) (0x80 | (c & 0x3f));
    }
  else
    {
      *out++ = (guint8) (0xf0 | (c >> 18));
      *out++ = (guint8) (0x80 | ((c >> 12) & 0x3f));
      *out++ = (guint8) (0x80 | ((c >> 6) & 0x3f));
      *out++ = (guint8) (0x80 | (c & 0x3f));
    }
  return out;
}

static gboolean
push_str (Loader *l, const guint8 *s, gsize n, const char *op)
{
  int utf8 = py_check_utf8 (s, n);
  guint32 index;

  if (utf8 == 0)
    return fail (l, "%s holds a str that is not UTF-8", op);
  if (n > G_MAXUINT32)
    return fail (l, "%s holds a str over 4 GiB", op);
  index = push_new (l, PY_NODE_STR);
  node (l, index)->s = s;
  node (l, index)->n = (guint32) n;
  if (utf8 == 2)
    node (l, index)->flags |= PY_NODE_TAGGED_STR;
  return TRUE;
}

static gboolean
push_bytes (Loader *l, PyNodeKind kind, const guint8 *s, gsize n)
{
  guint32 index;

  if (n > G_MAXUINT32)
    return fail (l, "bytes over 4 GiB");
  index = push_new (l, kind);
  node (l, index)->s = s;
  node (l, index)->n = (guint32) n;
  return TRUE;
}

/* Python 2's str: Python 3 reads it as ASCII (pickle.loads' default). */
static gboolean
push_py2_str (Loader *l, const guint8 *s, gsize n, const char *op)
{
  for (gsize i = 0; i < n; i++)
    if (s[i] >= 0x80)
      return fail (l,
                   "%s holds a Python 2 str with non-ASCII bytes, which "
                   "Python 3 reads only with encoding='latin1' or 'bytes'",
                   op);
  return push_str (l, s, n, op);
}

/* STRING's argument: a quoted Python 2 literal (codecs.escape_decode). */
static gboolean
load_string (Loader *l)
{
  const guint8 *line, *s;
  gsize len, n = 0;
  guint8 *out;

  if (!read_line (l, "STRING", &line, &len))
    return FALSE;
  if (len < 2 || (line[0] != '\'' && line[0] != '"')
      || line[len - 1] != line[0])
    return fail (l, "STRING's argument is not quoted");
  s = line + 1;
  len -= 2;
  out = py_tree_alloc (&l->tree, len);
  for (gsize i = 0; i < len; i++)
    {
      guint8 c = s[i];

      if (c != '\\')
        {
          out[n++] = c;
          continue;
        }
      if (++i == len)
        return fail (l, "STRING ends with a backslash");
      c = s[i];
      switch (c)
        {
        case '\n': break;
        case 'a': out[n++] = '\a'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'v': out[n++] = '\v'; break;
        case 'x':
          if (i + 2 >= len)
            return fail (l, "STRING has a truncated \\x escape");
          if (!g_ascii_isxdigit (s[i + 1]) || !g_ascii_isxdigit (s[i + 2]))
            return fail (l, "STRING has an invalid \\x escape");
          out[n++] = (guint8) (g_ascii_xdigit_value (s[i + 1]) * 16
                               + g_ascii_xdigit_value (s[i + 2]));
          i += 2;
          break;
        default:
          if (c >= '0' && c <= '7')
            {
              guint v = c - '0';

              for (int k = 0;
                   k < 2 && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '7';
                   k++)
                v = v * 8 + (guint) (s[++i] - '0');
              out[n++] = (guint8) v;
            }
          else
            {
              out[n++] = '\\';
              out[n++] = c;
            }
        }
    }
  return push_py2_str (l, out, n, "STRING");
}

/* UNICODE's argument: raw-unicode-escape, as Python decodes it. */
static gboolean
load_unicode (Loader *l)
{
  const guint8 *line;
  gsize len, i = 0;
  guint8 *out, *o;

  if (!read_line (l, "UNICODE", &line, &len))
    return FALSE;
  /* each byte grows to at most 2 UTF-8 bytes; an escape shrinks */
  o = out = py_tree_alloc (&l->tree, len * 2);
  while (i < len)
    {
      gsize run = 0;
      guint32 ch = 0;
      guint count;

      if (line[i] != '\\')
        {
          o = put_utf8 (o, line[i++]);
          continue;
        }
      while (i < len && line[i] == '\\')
        {
          *o++ = '\\';
          i++;
          run++;
        }
      if ((run & 1) == 0 || i >= len || (line[i] != 'u' && line[i] != 'U'))
        continue;
      o--; /* that backslash starts the escape */
      count = line[i] == 'u' ? 4 : 8;
      i++;
      for (; count > 0; count--, i++)
        {
          if (i >= len || !g_ascii_isxdigit (line[i]))
            return fail (l, "UNICODE has a truncated \\uXXXX escape");
          ch = ch * 16 + (guint32) g_ascii_xdigit_value (line[i]);
        }
      if (ch > 0x10ffff)
        return fail (l, "UNICODE has an escape beyond U+10FFFF");
      o = put_utf8 (o, ch);
    }
  return push_str (l, out, (gsize) (o - out), "UNICODE");
}

/* ---- numbers --------------------------------------------------------------
 */

static gboolean
push_int (Loader *l, gint64 v)
{
  node (l, push_new (l, PY_NODE_INT))->i = v;
  return TRUE;
}

/* Little-endian two's complement (LONG1, LONG4). */
static gboolean
push_long_bytes (Loader *l, const guint8 *b, gsize n)
{
  gboolean negative = n > 0 && (b[n - 1] & 0x80);
  guint32 index;
  char *text;

  /* sign bytes beyond 8 change nothing */
  gsize used = n;
  while (used > 8 && b[used - 1] == (negative ? 0xff : 0x00))
    used--;
  if (used <= 8 && (used < 8 || n == 8 || ((b[7] & 0x80) != 0) == negative))
    {
      guint64 v = negative ? G_MAXUINT64 : 0;

      for (gsize i = 0; i < used; i++)
        {
          v &= ~((guint64) 0xff << (8 * i));
          v |= (guint64) b[i] << (8 * i);
        }
      return push_int (l, (gint64) v);
    }
  if (n > 1786) /* 4300 decimal digits: Python's own str() limit */
    return fail (l,
                 "an int of %" G_GSIZE_FORMAT " bytes is beyond "
                 "4300 digits, Python's limit for converting ints",
                 n);
  text = py_int_to_decimal (b, n);
  index = push_new (l, PY_NODE_BIGINT);
  node (l, index)->n = (guint32) strlen (text);
  node (l, index)->s = py_tree_alloc (&l->tree, node (l, index)->n);
  memcpy ((guint8 *) node (l, index)->s, text, node (l, index)->n);
  g_free (text);
  return TRUE;
}

/* INT's and LONG's decimal text. */
static gboolean
push_decimal (Loader *l, const guint8 *s, gsize n, const char *op)
{
  g_autoptr (GByteArray) bytes = NULL;

  if (n > 0 && s[n - 1] == 'L' && op[0] == 'L')
    n--;
  bytes = py_int_from_decimal ((const char *) s, n);
  if (bytes == NULL)
    return fail (l, "%s's argument '%.*s' is not a decimal int", op,
                 (int) MIN (n, 40), s);
  return push_long_bytes (l, bytes->data, bytes->len);
}

static gboolean
load_float_text (Loader *l)
{
  const guint8 *line;
  gsize len;
  char buf[64];
  char *end;
  double d;

  if (!read_line (l, "FLOAT", &line, &len))
    return FALSE;
  if (len == 0 || len >= sizeof buf)
    return fail (l, "FLOAT's argument is not a number");
  memcpy (buf, line, len);
  buf[len] = '\0';
  d = g_ascii_strtod (buf, &end);
  if (*end != '\0')
    return fail (l, "FLOAT's argument '%s' is not a number", buf);
  node (l, push_new (l, PY_NODE_FLOAT))->d = d;
  return TRUE;
}

/* ---- containers -----------------------------------------------------------
 */

/* The type Python's hash() of @index refuses ("unhashable type: 'list'",
 * the TypeError its unpickler raises for a dict key or a set member):
 * a list, dict, set or bytearray, or a tuple holding one; else NULL. */
static const char *
unhashable_type (Loader *l, guint32 index, guint depth)
{
  PyNode *n = node (l, index);

  switch (n->kind)
    {
    case PY_NODE_LIST: return "list";
    case PY_NODE_DICT: return "dict";
    case PY_NODE_SET: return "set";
    case PY_NODE_BYTEARRAY: return "bytearray";
    case PY_NODE_TUPLE:
      if ((n->flags & PY_NODE_HASHABLE) || depth > PY_TREE_MAX_DEPTH)
        return NULL; /* deeper is refused as too deep when written */
      for (guint32 e = n->c.first; e != 0; e = l->tree.edges[e].next)
        {
          const char *type
              = unhashable_type (l, l->tree.edges[e].node, depth + 1);

          if (type != NULL)
            return type;
        }
      node (l, index)->flags |= PY_NODE_HASHABLE;
      return NULL;
    default: return NULL;
    }
}

/* Every @step-th of the @n items from @items (dict keys: 2; set members:
 * 1) is hashable. */
static gboolean
check_hashable (Loader *l, const guint32 *items, gsize n, gsize step,
                const char *op)
{
  for (gsize i = 0; i < n; i += step)
    {
      const char *type = unhashable_type (l, items[i], 0);

      if (type != NULL)
        return fail (l, "%s: unhashable type: '%s'", op, type);
    }
  return TRUE;
}

static gboolean
make_from_mark (Loader *l, PyNodeKind kind, const char *op)
{
  gsize mark;
  guint32 index;

  if (!pop_mark (l, op, &mark))
    return FALSE;
  if ((kind == PY_NODE_DICT || kind == PY_NODE_FROZENSET)
      && !check_hashable (l, l->stack + mark, l->n_stack - mark,
                          kind == PY_NODE_DICT ? 2 : 1, op))
    return FALSE;
  index = py_tree_add (&l->tree, kind);
  for (gsize i = mark; i < l->n_stack; i++)
    py_tree_append (&l->tree, index, l->stack[i]);
  if (kind == PY_NODE_DICT && node (l, index)->n % 2 != 0)
    return fail (l, "%s has an odd number of items", op);
  l->n_stack = mark;
  push (l, index);
  return TRUE;
}

static gboolean
make_tuple_n (Loader *l, gsize n)
{
  guint32 index;

  if (l->n_stack < fence (l) + n)
    return fail (l,
                 "TUPLE%" G_GSIZE_FORMAT " finds %" G_GSIZE_FORMAT
                 " items on the stack",
                 n, l->n_stack - fence (l));
  index = py_tree_add (&l->tree, PY_NODE_TUPLE);
  for (gsize i = l->n_stack - n; i < l->n_stack; i++)
    py_tree_append (&l->tree, index, l->stack[i]);
  l->n_stack -= n;
  push (l, index);
  return TRUE;
}

/* APPENDS, SETITEMS, ADDITEMS: the items above the mark go into the
 * container below it. */
static gboolean
add_from_mark (Loader *l, PyNodeKind kind, const char *op)
{
  gsize mark;
  guint32 target;

  if (!pop_mark (l, op, &mark))
    return FALSE;
  if (mark == 0 || mark <= fence (l))
    return fail (l, "%s finds no container below its MARK", op);
  target = l->stack[mark - 1];
  if (node (l, target)->kind != kind)
    return fail (l, "%s applies to a %s only", op,
                 kind == PY_NODE_LIST   ? "list"
                 : kind == PY_NODE_DICT ? "dict"
                                        : "set");
  if (kind == PY_NODE_DICT && (l->n_stack - mark) % 2 != 0)
    return fail (l, "%s has an odd number of items", op);
  if (kind != PY_NODE_LIST
      && !check_hashable (l, l->stack + mark, l->n_stack - mark,
                          kind == PY_NODE_DICT ? 2 : 1, op))
    return FALSE;
  for (gsize i = mark; i < l->n_stack; i++)
    py_tree_append (&l->tree, target, l->stack[i]);
  l->n_stack = mark;
  return TRUE;
}

static gboolean
add_items (Loader *l, gsize n, PyNodeKind kind, const char *op)
{
  guint32 target;

  if (l->n_stack < fence (l) + n + 1)
    return fail (l, "%s finds too few items on the stack", op);
  target = l->stack[l->n_stack - n - 1];
  if (node (l, target)->kind != kind)
    return fail (l, "%s applies to a %s only", op,
                 kind == PY_NODE_LIST ? "list" : "dict");
  if (kind == PY_NODE_DICT
      && !check_hashable (l, l->stack + l->n_stack - n, n, 2, op))
    return FALSE;
  for (gsize i = l->n_stack - n; i < l->n_stack; i++)
    py_tree_append (&l->tree, target, l->stack[i]);
  l->n_stack -= n;
  return TRUE;
}

/* ---- memo -----------------------------------------------------------------
 */

static gboolean
memo_put (Loader *l, guint64 index)
{
  guint32 value;

  if (!top (l, "PUT", &value))
    return FALSE;
  /* real writers number from 0 up, at most one entry per input byte */
  if (index > (guint64) (l->end - l->start))
    return fail (l, "memo index %" G_GUINT64_FORMAT " is out of range", index);
  if (index >= l->memo_alloc)
    {
      gsize n = MAX (l->memo_alloc * 2, (gsize) index + 1);
      guint32 *bigger = g_new0 (guint32, n);

      memcpy (bigger, l->memo, l->memo_alloc * sizeof *bigger);
      if (l->memo != l->memo_buf)
        g_free (l->memo);
      l->memo = bigger;
      l->memo_alloc = n;
    }
  if (l->memo[index] == 0)
    l->memo_len++;
  l->memo[index] = value + 1;
  return TRUE;
}

static gboolean
memo_get (Loader *l, guint64 index)
{
  if (index >= l->memo_alloc || l->memo[index] == 0)
    return fail (l, "memo key %" G_GUINT64_FORMAT " is missing", index);
  push (l, l->memo[index] - 1);
  return TRUE;
}

static gboolean
line_index (Loader *l, const char *op, guint64 *out)
{
  const guint8 *line;
  gsize len;
  guint64 v = 0;

  if (!read_line (l, op, &line, &len))
    return FALSE;
  if (len == 0 || len > 18)
    return fail (l, "%s's argument is not a memo index", op);
  for (gsize i = 0; i < len; i++)
    {
      if (line[i] < '0' || line[i] > '9')
        return fail (l, "%s's argument is not a memo index", op);
      v = v * 10 + (guint64) (line[i] - '0');
    }
  *out = v;
  return TRUE;
}

/* ---- globals --------------------------------------------------------------
 */

static gboolean
push_global (Loader *l, const guint8 *module, gsize module_len,
             const guint8 *name, gsize name_len)
{
  for (gsize i = 0; i < G_N_ELEMENTS (allowed_globals); i++)
    if (strlen (allowed_globals[i].module) == module_len
        && strlen (allowed_globals[i].name) == name_len
        && memcmp (allowed_globals[i].module, module, module_len) == 0
        && memcmp (allowed_globals[i].name, name, name_len) == 0)
      {
        node (l, push_new (l, PY_NODE_GLOBAL))->i = allowed_globals[i].id;
        return TRUE;
      }
  return fail (l,
               "the global '%.*s.%.*s' is not allowed: only plain data "
               "(and dogpile.cache's CachedValue) is read, no code is run",
               (int) MIN (module_len, 80), module, (int) MIN (name_len, 80),
               name);
}

static gboolean
load_global (Loader *l)
{
  const guint8 *module, *name;
  gsize module_len, name_len;

  return read_line (l, "GLOBAL", &module, &module_len)
         && read_line (l, "GLOBAL", &name, &name_len)
         && push_global (l, module, module_len, name, name_len);
}

static gboolean
load_stack_global (Loader *l)
{
  guint32 name, module;

  if (!pop (l, "STACK_GLOBAL", &name) || !pop (l, "STACK_GLOBAL", &module))
    return FALSE;
  if (node (l, name)->kind != PY_NODE_STR
      || node (l, module)->kind != PY_NODE_STR)
    return fail (l, "STACK_GLOBAL's module and name are not strs");
  return push_global (l, node (l, module)->s, node (l, module)->n,
                      node (l, name)->s, node (l, name)->n);
}

static guint32
member (Loader *l, guint32 container, guint index)
{
  guint32 e = node (l, container)->c.first;

  while (index-- > 0)
    e = l->tree.edges[e].next;
  return l->tree.edges[e].node;
}

static gboolean
is_global (Loader *l, guint32 index, int id)
{
  return node (l, index)->kind == PY_NODE_GLOBAL && node (l, index)->i == id;
}

static gboolean
push_cached_value (Loader *l, guint32 state)
{
  guint32 index;

  if (node (l, state)->kind != PY_NODE_TUPLE || node (l, state)->n != 2)
    return fail (l, "CachedValue takes (payload, metadata)");
  index = push_new (l, PY_NODE_TUPLE);
  py_tree_append (&l->tree, index, member (l, state, 0));
  py_tree_append (&l->tree, index, member (l, state, 1));
  node (l, index)->flags |= PY_NODE_CACHED;
  return TRUE;
}

/* _codecs.encode(str, "latin1"): how protocols 0 to 2 spell bytes. */
static gboolean
push_latin1 (Loader *l, guint32 str, PyNodeKind kind)
{
  const PyNode *s = node (l, str);
  guint8 *out = py_tree_alloc (&l->tree, s->n);
  gsize n = 0;

  for (gsize i = 0; i < s->n; i++)
    {
      guint8 c = s->s[i];

      if (c < 0x80)
        out[n++] = c;
      else if ((c == 0xc2 || c == 0xc3) && i + 1 < s->n)
        out[n++] = (guint8) (((c & 0x1f) << 6) | (s->s[++i] & 0x3f));
      else
        return fail (l, "_codecs.encode of a str beyond latin-1");
    }
  return push_bytes (l, kind, out, n);
}

static gboolean
load_reduce (Loader *l)
{
  guint32 args, callable, a0 = 0;
  gsize n;
  int id;

  if (!pop (l, "REDUCE", &args) || !pop (l, "REDUCE", &callable))
    return FALSE;
  if (node (l, callable)->kind != PY_NODE_GLOBAL
      || node (l, args)->kind != PY_NODE_TUPLE)
    return fail (l, "REDUCE applies only an allowed global to a tuple");
  n = node (l, args)->n;
  id = (int) node (l, callable)->i;
  if (n > 0)
    a0 = member (l, args, 0);

  switch (id)
    {
    case GLOBAL_CODECS_ENCODE:
      if (n == 2 && node (l, a0)->kind == PY_NODE_STR
          && node (l, member (l, args, 1))->kind == PY_NODE_STR)
        {
          const PyNode *enc = node (l, member (l, args, 1));

          if ((enc->n == 6 && memcmp (enc->s, "latin1", 6) == 0)
              || (enc->n == 7 && memcmp (enc->s, "latin-1", 7) == 0))
            return push_latin1 (l, a0, PY_NODE_BYTES);
        }
      break;
    case GLOBAL_BYTES:
      if (n == 0)
        return push_bytes (l, PY_NODE_BYTES, (const guint8 *) "", 0);
      if (n == 1 && node (l, a0)->kind == PY_NODE_BYTES)
        return push_bytes (l, PY_NODE_BYTES, node (l, a0)->s, node (l, a0)->n);
      break;
    case GLOBAL_BYTEARRAY:
      if (n == 0)
        return push_bytes (l, PY_NODE_BYTEARRAY, (const guint8 *) "", 0);
      if (n == 1 && node (l, a0)->kind == PY_NODE_BYTES)
        return push_bytes (l, PY_NODE_BYTEARRAY, node (l, a0)->s,
                           node (l, a0)->n);
      break;
    case GLOBAL_SET:
    case GLOBAL_FROZENSET:
      if (n == 0 || (n == 1 && node (l, a0)->kind == PY_NODE_LIST))
        {
          guint32 set;

          if (n == 1)
            for (guint32 e = node (l, a0)->c.first; e != 0;
                 e = l->tree.edges[e].next)
              {
                const char *type
                    = unhashable_type (l, l->tree.edges[e].node, 0);

                if (type != NULL)
                  return fail (l, "REDUCE: unhashable type: '%s'", type);
              }
          set = push_new (l,
                          id == GLOBAL_SET ? PY_NODE_SET : PY_NODE_FROZENSET);
          if (n == 1)
            for (guint32 e = node (l, a0)->c.first; e != 0;
                 e = l->tree.edges[e].next)
              py_tree_append (&l->tree, set, l->tree.edges[e].node);
          return TRUE;
        }
      break;
    case GLOBAL_RECONSTRUCTOR:
      if (n == 3 && is_global (l, a0, GLOBAL_CACHED_VALUE)
          && is_global (l, member (l, args, 1), GLOBAL_TUPLE))
        return push_cached_value (l, member (l, args, 2));
      break;
    default: break;
    }
  return fail (l, "REDUCE of that global with these arguments is not "
                  "plain data");
}

static gboolean
load_newobj (Loader *l)
{
  guint32 args, cls;

  if (!pop (l, "NEWOBJ", &args) || !pop (l, "NEWOBJ", &cls))
    return FALSE;
  if (!is_global (l, cls, GLOBAL_CACHED_VALUE))
    return fail (l, "NEWOBJ makes only dogpile.cache's CachedValue here");
  return push_cached_value (l, args);
}

/* ---- the machine ----------------------------------------------------------
 */

static gboolean
run (Loader *l, guint32 *out_root)
{
  for (;;)
    {
      guint8 op;
      gsize n;
      guint32 a;

      if (l->p >= l->end)
        return fail (l, "no STOP: the pickle is truncated");
      op = *l->p++;
      switch (op)
        {
        case 0x80: /* PROTO */
          if (!need (l, 1, "PROTO"))
            return FALSE;
          l->protocol = *l->p++;
          if (l->protocol > 5)
            return fail (l, "protocol %d is newer than 5", l->protocol);
          break;
        case 0x95: /* FRAME: a hint; only its length is checked */
          if (!read_length (l, 8, FALSE, "FRAME", &n))
            return FALSE;
          break;
        case '.':
          if (!pop (l, "STOP", out_root))
            return FALSE;
          return TRUE;
        case '(':
          if (l->n_marks == l->marks_alloc)
            {
              gsize *bigger = g_new (gsize, l->marks_alloc * 2);

              memcpy (bigger, l->marks, l->n_marks * sizeof *bigger);
              if (l->marks != l->marks_buf)
                g_free (l->marks);
              l->marks = bigger;
              l->marks_alloc *= 2;
            }
          l->marks[l->n_marks++] = l->n_stack;
          break;
        case '0': /* POP: the mark itself if it is on top */
          if (l->n_marks > 0 && l->marks[l->n_marks - 1] == l->n_stack)
            l->n_marks--;
          else if (!pop (l, "POP", &a))
            return FALSE;
          break;
        case '1': /* POP_MARK */
          if (!pop_mark (l, "POP_MARK", &n))
            return FALSE;
          l->n_stack = n;
          break;
        case '2': /* DUP */
          if (!top (l, "DUP", &a))
            return FALSE;
          push (l, a);
          break;
        case 'N': push_new (l, PY_NODE_NONE); break;
        case 0x88:
        case 0x89: node (l, push_new (l, PY_NODE_BOOL))->b = op == 0x88; break;
        case 'I':
          {
            const guint8 *line;

            if (!read_line (l, "INT", &line, &n))
              return FALSE;
            if (n == 2 && line[0] == '0' && (line[1] == '0' || line[1] == '1'))
              node (l, push_new (l, PY_NODE_BOOL))->b = line[1] == '1';
            else if (!push_decimal (l, line, n, "INT"))
              return FALSE;
            break;
          }
        case 'L':
          {
            const guint8 *line;

            if (!read_line (l, "LONG", &line, &n)
                || !push_decimal (l, line, n, "LONG"))
              return FALSE;
            break;
          }
        case 'J':
          if (!need (l, 4, "BININT"))
            return FALSE;
          push_int (l, (gint32) (guint32) read_le (l->p, 4));
          l->p += 4;
          break;
        case 'K':
          if (!need (l, 1, "BININT1"))
            return FALSE;
          push_int (l, *l->p++);
          break;
        case 'M':
          if (!need (l, 2, "BININT2"))
            return FALSE;
          push_int (l, (gint64) read_le (l->p, 2));
          l->p += 2;
          break;
        case 0x8a: /* LONG1 */
        case 0x8b: /* LONG4 */
          if (!read_length (l, op == 0x8a ? 1 : 4, op == 0x8b,
                            op == 0x8a ? "LONG1" : "LONG4", &n)
              || !push_long_bytes (l, l->p, n))
            return FALSE;
          l->p += n;
          break;
        case 'F':
          if (!load_float_text (l))
            return FALSE;
          break;
        case 'G':
          {
            guint64 bits;
            double d;

            if (!need (l, 8, "BINFLOAT"))
              return FALSE;
            memcpy (&bits, l->p, 8);
            bits = GUINT64_FROM_BE (bits);
            memcpy (&d, &bits, 8);
            node (l, push_new (l, PY_NODE_FLOAT))->d = d;
            l->p += 8;
            break;
          }
        case 'S':
          if (!load_string (l))
            return FALSE;
          break;
        case 'T':
        case 'U':
          if (!read_length (l, op == 'T' ? 4 : 1, op == 'T',
                            op == 'T' ? "BINSTRING" : "SHORT_BINSTRING", &n)
              || !push_py2_str (l, l->p, n, "BINSTRING"))
            return FALSE;
          l->p += n;
          break;
        case 'V':
          if (!load_unicode (l))
            return FALSE;
          break;
        case 'X':
        case 0x8c:
        case 0x8d:
          {
            const char *what = op == 'X'    ? "BINUNICODE"
                               : op == 0x8c ? "SHORT_BINUNICODE"
                                            : "BINUNICODE8";

            if (!read_length (l,
                              op == 'X'    ? 4
                              : op == 0x8c ? 1
                                           : 8,
                              FALSE, what, &n)
                || !push_str (l, l->p, n, what))
              return FALSE;
            l->p += n;
            break;
          }
        case 'B':
        case 'C':
        case 0x8e:
        case 0x96:
          {
            const char *what = op == 'B'    ? "BINBYTES"
                               : op == 'C'  ? "SHORT_BINBYTES"
                               : op == 0x8e ? "BINBYTES8"
                                            : "BYTEARRAY8";

            if (!read_length (l,
                              op == 'B'   ? 4
                              : op == 'C' ? 1
                                          : 8,
                              FALSE, what, &n)
                || !push_bytes (l,
                                op == 0x96 ? PY_NODE_BYTEARRAY : PY_NODE_BYTES,
                                l->p, n))
              return FALSE;
            l->p += n;
            break;
          }
        case ')': push_new (l, PY_NODE_TUPLE); break;
        case 't':
          if (!make_from_mark (l, PY_NODE_TUPLE, "TUPLE"))
            return FALSE;
          break;
        case 0x85:
        case 0x86:
        case 0x87:
          if (!make_tuple_n (l, (gsize) (op - 0x84)))
            return FALSE;
          break;
        case ']': push_new (l, PY_NODE_LIST); break;
        case 'l':
          if (!make_from_mark (l, PY_NODE_LIST, "LIST"))
            return FALSE;
          break;
        case 'a':
          if (!add_items (l, 1, PY_NODE_LIST, "APPEND"))
            return FALSE;
          break;
        case 'e':
          if (!add_from_mark (l, PY_NODE_LIST, "APPENDS"))
            return FALSE;
          break;
        case '}': push_new (l, PY_NODE_DICT); break;
        case 'd':
          if (!make_from_mark (l, PY_NODE_DICT, "DICT"))
            return FALSE;
          break;
        case 's':
          if (!add_items (l, 2, PY_NODE_DICT, "SETITEM"))
            return FALSE;
          break;
        case 'u':
          if (!add_from_mark (l, PY_NODE_DICT, "SETITEMS"))
            return FALSE;
          break;
        case 0x8f: push_new (l, PY_NODE_SET); break;
        case 0x90:
          if (!add_from_mark (l, PY_NODE_SET, "ADDITEMS"))
            return FALSE;
          break;
        case 0x91:
          if (!make_from_mark (l, PY_NODE_FROZENSET, "FROZENSET"))
            return FALSE;
          break;
        case 'p':
          {
            guint64 index;

            if (!line_index (l, "PUT", &index) || !memo_put (l, index))
              return FALSE;
            break;
          }
        case 'q':
          if (!need (l, 1, "BINPUT") || !memo_put (l, *l->p++))
            return FALSE;
          break;
        case 'r':
          if (!need (l, 4, "LONG_BINPUT"))
            return FALSE;
          l->p += 4;
          if (!memo_put (l, read_le (l->p - 4, 4)))
            return FALSE;
          break;
        case 0x94:
          if (!memo_put (l, l->memo_len))
            return FALSE;
          break;
        case 'g':
          {
            guint64 index;

            if (!line_index (l, "GET", &index) || !memo_get (l, index))
              return FALSE;
            break;
          }
        case 'h':
          if (!need (l, 1, "BINGET") || !memo_get (l, *l->p++))
            return FALSE;
          break;
        case 'j':
          if (!need (l, 4, "LONG_BINGET"))
            return FALSE;
          l->p += 4;
          if (!memo_get (l, read_le (l->p - 4, 4)))
            return FALSE;
          break;
        case 'c':
          if (!load_global (l))
            return FALSE;
          break;
        case 0x93:
          if (!load_stack_global (l))
            return FALSE;
          break;
        case 'R':
          if (!load_reduce (l))
            return FALSE;
          break;
        case 0x81:
          if (!load_newobj (l))
            return FALSE;
          break;
        default:
          l->p--;
          if (opcode_name (op) != NULL)
            return fail (l,
                         "opcode %s is not allowed: only plain data is "
                         "read, no code is run",
                         opcode_name (op));
          return fail (l, "0x%02x is not a pickle opcode", op);
        }
    }
}

static void
loader_init (Loader *l, const guint8 *data, gsize len, GError **error)
{
  l->start = l->p = data;
  l->end = data + len;
  py_tree_init (&l->tree);
  l->stack = l->stack_buf;
  l->stack_alloc = G_N_ELEMENTS (l->stack_buf);
  l->n_stack = 0;
  l->marks = l->marks_buf;
  l->marks_alloc = G_N_ELEMENTS (l->marks_buf);
  l->n_marks = 0;
  l->memo = l->memo_buf;
  l->memo_alloc = G_N_ELEMENTS (l->memo_buf);
  memset (l->memo_buf, 0, sizeof l->memo_buf);
  l->memo_len = 0;
  l->protocol = 0;
  l->error = error;
}

static void
loader_clear (Loader *l)
{
  py_tree_clear (&l->tree);
  if (l->stack != l->stack_buf)
    g_free (l->stack);
  if (l->marks != l->marks_buf)
    g_free (l->marks);
  if (l->memo != l->memo_buf)
    g_free (l->memo);
}

static gboolean
is_plain (const PyNode *node)
{
  return node->kind != PY_NODE_GLOBAL;
}

GVariant *
py_pickle_load_general (const guint8 *data, gsize len, gsize max_size,
                        GError **error)
{
  Loader l;
  guint32 root;
  GVariant *value = NULL;

  loader_init (&l, data, len, error);
  if (run (&l, &root))
    {
      if (!is_plain (py_tree_node (&l.tree, root)))
        (void) fail (&l, "the pickle holds a global, not a value");
      else
        value = py_tree_to_variant (&l.tree, root, max_size, "pickle", error);
    }
  loader_clear (&l);
  return value;
}

/**
 * dogpile_pickle_loads_data:
 * @data: (array length=len): the pickle's bytes, any protocol from 0 to 5;
 *   borrowed for the call (%NULL only when @len is 0)
 * @len: the length of @data in bytes
 * @error: return location for a #GError, or %NULL
 *
 * Python's pickle.loads() for plain data: the value, as a #GVariant
 * mapped as the Python values section (`dogpile/dogpile-python-value.h`)
 * describes.  A dogpile.cache.api.CachedValue reads as the 2-tuple it is
 * in Python, (payload, metadata).  Bytes after the STOP opcode are
 * ignored, as Python ignores them.  No code is run: only the globals
 * listed in the section's description are accepted.  The result does not
 * refer to @data.
 *
 * Errors: %DOGPILE_ERROR_CANT_DESERIALIZE when @data is not a pickle of
 * plain data (truncated, an opcode or a global that is not allowed, a
 * dict key or set member Python cannot hash, nesting or a result beyond
 * the bounds); the message says what is wrong and at which byte.
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): the value (not floating), or %NULL with
 *   @error set
 */
GVariant *
dogpile_pickle_loads_data (const guint8 *data, gsize len, GError **error)
{
  GVariant *value = NULL;
  gsize max_size;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  max_size = MAX ((gsize) LOAD_MIN_LIMIT,
                  len <= G_MAXSIZE / 16 ? len * 16 : G_MAXSIZE);
  if (py_pickle_load_direct (data, len, max_size, &value))
    return value;
  return py_pickle_load_general (data, len, max_size, error);
}

/**
 * dogpile_pickle_loads:
 * @pickle: the pickle, any protocol from 0 to 5; borrowed for the call
 * @error: return location for a #GError, or %NULL
 *
 * Python's pickle.loads() for plain data: dogpile_pickle_loads_data() on
 * @pickle's bytes.
 *
 * Errors: %DOGPILE_ERROR_CANT_DESERIALIZE when @pickle is not a pickle of
 * plain data, as for dogpile_pickle_loads_data().
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): the value (not floating), or %NULL with
 *   @error set
 */
GVariant *
dogpile_pickle_loads (GBytes *pickle, GError **error)
{
  gsize len;
  const guint8 *data;

  g_return_val_if_fail (pickle != NULL, NULL);
  data = g_bytes_get_data (pickle, &len);
  return dogpile_pickle_loads_data (data != NULL ? data : (const guint8 *) "",
                                    len, error);
}

static gboolean
read_cached_metadata (Loader *l, guint32 dict, DogpileMetadata *out)
{
  gboolean have_ct = FALSE;

  memset (out, 0, sizeof *out);
  if (node (l, dict)->kind != PY_NODE_DICT)
    return fail (l, "a CachedValue's metadata is not a dict");
  for (guint32 e = node (l, dict)->c.first; e != 0;
       e = l->tree.edges[l->tree.edges[e].next].next)
    {
      const PyNode *k = node (l, l->tree.edges[e].node);
      const PyNode *v = node (l, l->tree.edges[l->tree.edges[e].next].node);

      if (k->kind != PY_NODE_STR)
        continue;
      if (k->n == 2 && memcmp (k->s, "ct", 2) == 0
          && (v->kind == PY_NODE_FLOAT || v->kind == PY_NODE_INT))
        {
          out->cached_time = v->kind == PY_NODE_FLOAT ? v->d : (double) v->i;
          have_ct = TRUE;
        }
      else if (k->n == 1 && k->s[0] == 'v' && v->kind == PY_NODE_INT)
        out->version = (gint) CLAMP (v->i, G_MININT, G_MAXINT);
    }
  if (!have_ct)
    return fail (l, "a CachedValue's metadata has no number \"ct\"");
  return TRUE;
}

/**
 * dogpile_pickle_loads_cached_value:
 * @data: (array length=len): the pickle's bytes; borrowed for the call
 *   (%NULL only when @len is 0)
 * @len: the length of @data in bytes
 * @out_payload: (out) (transfer full): the payload (not floating); %NULL
 *   when the call fails
 * @out_metadata: (out caller-allocates): the metadata's "ct" (an int or a
 *   float) and "v" (0 when absent); other keys are ignored.  Unspecified
 *   when the call fails
 * @error: return location for a #GError, or %NULL
 *
 * Reads what a Python memcached client stores for a stock region's value:
 * a pickled dogpile.cache.api.CachedValue(payload, metadata), in any
 * protocol (5 from pymemcache and pylibmc, 0 from python-memcached and
 * bmemcached).  The rules and bounds are those of
 * dogpile_pickle_loads_data(); the payload does not refer to @data.
 *
 * Errors: %DOGPILE_ERROR_CANT_DESERIALIZE when @data is not a pickle of
 * plain data, when it holds a plain value rather than a CachedValue, or
 * when the CachedValue's metadata is not a dict with a number "ct".
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_pickle_loads_cached_value (const guint8 *data, gsize len,
                                   GVariant **out_payload,
                                   DogpileMetadata *out_metadata,
                                   GError **error)
{
  Loader l;
  guint32 root;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (out_payload != NULL, FALSE);
  g_return_val_if_fail (out_metadata != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out_payload = NULL;
  loader_init (&l, data != NULL ? data : (const guint8 *) "", len, error);
  if (run (&l, &root))
    {
      if (node (&l, root)->kind != PY_NODE_TUPLE
          || !(node (&l, root)->flags & PY_NODE_CACHED))
        (void) fail (&l, "the pickle holds a plain value, not a "
                         "dogpile.cache.api.CachedValue");
      else if (read_cached_metadata (&l, member (&l, root, 1), out_metadata))
        *out_payload = py_tree_to_variant (
            &l.tree, member (&l, root, 0),
            MAX ((gsize) LOAD_MIN_LIMIT,
                 len <= G_MAXSIZE / 16 ? len * 16 : G_MAXSIZE),
            "pickle", error);
    }
  loader_clear (&l);
  return *out_payload != NULL;
}

/* ---- dumping --------------------------------------------------------------
 */

#define NO_FRAME G_MAXSIZE

typedef struct {
  guint8 *buf;
  gsize len, alloc;
  gsize frame_start;
  guint32 memo;
  gint64 bytearray_memo;
  int protocol; /* 4, or 5: bytearray as BYTEARRAY8 */
  GError **error;
  guint8 inline_buf[512];
} Dumper;

static void
reserve (Dumper *d, gsize n)
{
  if (d->alloc - d->len >= n)
    return;
  {
    gsize want = MAX (d->alloc * 2, d->len + n);
    guint8 *bigger = g_malloc (want);

    memcpy (bigger, d->buf, d->len);
    if (d->buf != d->inline_buf)
      g_free (d->buf);
    d->buf = bigger;
    d->alloc = want;
  }
}

/* _Pickler_Write: the first write after a frame was committed opens the
 * next one. */
static inline guint8 *
put (Dumper *d, gsize n)
{
  guint8 *at;

  if (d->frame_start == NO_FRAME)
    {
      reserve (d, FRAME_HEADER_SIZE + n);
      d->frame_start = d->len;
      d->len += FRAME_HEADER_SIZE;
    }
  else
    reserve (d, n);
  at = d->buf + d->len;
  d->len += n;
  return at;
}

static inline void
put_byte (Dumper *d, guint8 b)
{
  *put (d, 1) = b;
}

static void
commit_frame (Dumper *d)
{
  gsize frame_len;

  if (d->frame_start == NO_FRAME)
    return;
  frame_len = d->len - d->frame_start - FRAME_HEADER_SIZE;
  if (frame_len >= FRAME_SIZE_MIN)
    {
      guint8 *h = d->buf + d->frame_start;

      h[0] = 0x95;
      for (int i = 0; i < 8; i++)
        h[1 + i] = (guint8) ((guint64) frame_len >> (8 * i));
    }
  else
    {
      memmove (d->buf + d->frame_start,
               d->buf + d->frame_start + FRAME_HEADER_SIZE, frame_len);
      d->len -= FRAME_HEADER_SIZE;
    }
  d->frame_start = NO_FRAME;
}

static void
opcode_boundary (Dumper *d)
{
  if (d->frame_start != NO_FRAME
      && d->len - d->frame_start - FRAME_HEADER_SIZE >= FRAME_SIZE_TARGET)
    commit_frame (d);
}

static void
memoize (Dumper *d)
{
  put_byte (d, 0x94);
  d->memo++;
}

static void
put_le (guint8 *out, guint64 v, guint n)
{
  for (guint i = 0; i < n; i++)
    out[i] = (guint8) (v >> (8 * i));
}

/* _Pickler_write_bytes: header, then data; data of 64 KiB or more goes
 * outside any frame. */
static void
put_data (Dumper *d, const guint8 *header, gsize header_len,
          const guint8 *data, gsize len)
{
  if (len >= FRAME_SIZE_TARGET)
    {
      commit_frame (d);
      reserve (d, header_len + len);
      memcpy (d->buf + d->len, header, header_len);
      memcpy (d->buf + d->len + header_len, data, len);
      d->len += header_len + len;
      return;
    }
  {
    guint8 *at = put (d, header_len + len);

    memcpy (at, header, header_len);
    memcpy (at + header_len, data, len);
  }
}

static void
save_sized (Dumper *d, guint8 op1, guint8 op4, guint8 op8, const guint8 *data,
            gsize len)
{
  guint8 header[9];
  gsize header_len;

  if (len <= 0xff)
    {
      /* the usual short str or bytes: one write with its MEMOIZE */
      guint8 *at = put (d, len + 3);

      at[0] = op1;
      at[1] = (guint8) len;
      memcpy (at + 2, data, len);
      at[2 + len] = 0x94;
      d->memo++;
      return;
    }
  if (len <= 0xffffffff)
    {
      header[0] = op4;
      put_le (header + 1, len, 4);
      header_len = 5;
    }
  else
    {
      header[0] = op8;
      put_le (header + 1, len, 8);
      header_len = 9;
    }
  put_data (d, header, header_len, data, len);
  memoize (d);
}

static void
save_long_bytes (Dumper *d, const guint8 *b, gsize n)
{
  guint8 *at;

  if (n < 256)
    {
      at = put (d, 2 + n);
      at[0] = 0x8a;
      at[1] = (guint8) n;
      memcpy (at + 2, b, n);
    }
  else
    {
      at = put (d, 5 + n);
      at[0] = 0x8b;
      put_le (at + 1, n, 4);
      memcpy (at + 5, b, n);
    }
}

static void
save_int (Dumper *d, gint64 v)
{
  guint8 *at;

  if (v >= 0 && v <= 0xff)
    {
      at = put (d, 2);
      at[0] = 'K';
      at[1] = (guint8) v;
    }
  else if (v >= 0 && v <= 0xffff)
    {
      at = put (d, 3);
      at[0] = 'M';
      put_le (at + 1, (guint64) v, 2);
    }
  else if (v >= G_MININT32 && v <= G_MAXINT32)
    {
      at = put (d, 5);
      at[0] = 'J';
      put_le (at + 1, (guint64) (guint32) (gint32) v, 4);
    }
  else
    {
      /* encode_long: (bits of |v| >> 3) + 1 bytes, less a redundant 0xff */
      guint64 mag = v < 0 ? (guint64) 0 - (guint64) v : (guint64) v;
      gsize nbytes = (g_bit_storage (mag) >> 3) + 1;
      guint8 b[9];

      for (gsize i = 0; i < nbytes; i++)
        b[i] = i < 8 ? (guint8) ((guint64) v >> (8 * i)) : (v < 0 ? 0xff : 0);
      if (v < 0 && nbytes > 1 && b[nbytes - 1] == 0xff
          && (b[nbytes - 2] & 0x80) != 0)
        nbytes--;
      save_long_bytes (d, b, nbytes);
    }
}

static void G_GNUC_PRINTF (2, 3)
    set_dump_failure (Dumper *d, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = dogpile__utf8_escaped (g_strdup_vprintf (format, args));
  va_end (args);
  g_set_error (d->error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "Cannot pickle the value: %s", what);
}

#define dump_failed(d, ...) (set_dump_failure ((d), __VA_ARGS__), FALSE)

static gboolean save (Dumper *d, PyView *view, guint depth);
static gboolean save_general (Dumper *d, PyView *view, guint depth);

static gboolean
save_members (Dumper *d, const PyView *container, guint depth)
{
  PyViewIter iter;
  PyView m;
  GError *local = NULL;

  if (!py_view_iter_init (&iter, container, d->error))
    return FALSE;
  while (py_view_iter_next (&iter, &m, &local))
    if (!save (d, &m, depth + 1))
      return FALSE;
  if (local != NULL)
    {
      g_propagate_error (d->error, local);
      return FALSE;
    }
  return TRUE;
}

static gboolean
member_count (Dumper *d, const PyView *container, gsize *out)
{
  PyViewIter iter;

  if (!py_view_iter_init (&iter, container, d->error))
    return FALSE;
  *out = iter.n;
  return TRUE;
}

/* batch_list_exact, and batch_set/batch_dict_exact's do-while (which, at
 * a multiple of 1000 items, ends with an empty batch). */
static gboolean
save_batched (Dumper *d, const PyView *container, guint8 single, guint8 many,
              gboolean trailing_empty, gboolean pairs, guint depth)
{
  PyViewIter iter;
  PyView m;
  GError *local = NULL;
  gsize this_batch;

  if (!py_view_iter_init (&iter, container, d->error))
    return FALSE;
  if (iter.n == 0)
    return TRUE;
  if (iter.n == 1 && single != 0)
    {
      if (!py_view_iter_next (&iter, &m, d->error)
          || !(pairs ? save_members (d, &m, depth) : save (d, &m, depth + 1)))
        return FALSE;
      put_byte (d, single);
      return TRUE;
    }
  do
    {
      this_batch = 0;
      put_byte (d, '(');
      while (this_batch < BATCHSIZE && py_view_iter_next (&iter, &m, &local))
        {
          if (!(pairs ? save_members (d, &m, depth) : save (d, &m, depth + 1)))
            return FALSE;
          this_batch++;
        }
      if (local != NULL)
        {
          g_propagate_error (d->error, local);
          return FALSE;
        }
      put_byte (d, many);
    }
  while (trailing_empty ? this_batch == BATCHSIZE : iter.index < iter.n);
  return TRUE;
}

/* A tagged dict's content: an array of dict entries or of 2-tuples. */
static gboolean
check_pairs (Dumper *d, const PyView *content)
{
  if (content->type[0] == 'a' && content->type[1] == '{')
    return TRUE;
  if (content->type[0] == 'a' && content->type[1] == '(')
    {
      PyView pair = { NULL, 0, content->type + 1, content->type_len - 1 };
      PyViewIter iter;

      if (py_view_iter_init (&iter, &pair, NULL) && iter.n == 2)
        return TRUE;
    }
  return dump_failed (d,
                      "a tagged dict holds an array of pairs, a(vv), "
                      "not '%.*s'",
                      (int) content->type_len, content->type);
}

static gboolean
save_int_view (Dumper *d, const PyView *v)
{
  const guint8 *p = v->data;

  if (v->size == 0)
    return dump_failed (d, "an int of no bytes");
  switch (v->type[0])
    {
    case 'y': save_int (d, p[0]); return TRUE;
    case 'n': save_int (d, (gint16) read_le (p, 2)); return TRUE;
    case 'q': save_int (d, (gint64) read_le (p, 2)); return TRUE;
    case 'i':
    case 'h': save_int (d, (gint32) (guint32) read_le (p, 4)); return TRUE;
    case 'u': save_int (d, (gint64) read_le (p, 4)); return TRUE;
    case 'x': save_int (d, (gint64) read_le (p, 8)); return TRUE;
    default: /* 't' */
      {
        guint64 u = read_le (p, 8);
        guint8 b[9];

        if (u <= G_MAXINT64)
          {
            save_int (d, (gint64) u);
            return TRUE;
          }
        put_le (b, u, 8);
        b[8] = 0;
        save_long_bytes (d, b, 9);
        return TRUE;
      }
    }
}

static gboolean
save_big_int (Dumper *d, const PyView *content)
{
  g_autoptr (GByteArray) bytes = NULL;

  if (content->type[0] != 's' || content->size == 0)
    return dump_failed (d, "a tagged int holds decimal text, type s");
  bytes
      = py_int_from_decimal ((const char *) content->data, content->size - 1);
  if (bytes == NULL)
    return dump_failed (d,
                        "a tagged int's text '%.*s' is not a decimal int "
                        "of at most 4300 digits",
                        (int) MIN (content->size - 1, 40), content->data);
  if (bytes->len <= 8)
    {
      gint64 v = (bytes->data[bytes->len - 1] & 0x80) ? -1 : 0;

      for (guint i = 0; i < bytes->len; i++)
        {
          v = (gint64) ((guint64) v & ~((guint64) 0xff << (8 * i)));
          v = (gint64) ((guint64) v | (guint64) bytes->data[i] << (8 * i));
        }
      save_int (d, v);
      return TRUE;
    }
  save_long_bytes (d, bytes->data, bytes->len);
  return TRUE;
}

static void
save_bytearray_global (Dumper *d)
{
  guint8 *at;

  if (d->bytearray_memo >= 0)
    {
      if (d->bytearray_memo < 256)
        {
          at = put (d, 2);
          at[0] = 'h';
          at[1] = (guint8) d->bytearray_memo;
        }
      else
        {
          at = put (d, 5);
          at[0] = 'j';
          put_le (at + 1, (guint64) d->bytearray_memo, 4);
        }
      return;
    }
  save_sized (d, 0x8c, 'X', 0x8d, (const guint8 *) "builtins", 8);
  save_sized (d, 0x8c, 'X', 0x8d, (const guint8 *) "bytearray", 9);
  put_byte (d, 0x93);
  d->bytearray_memo = d->memo;
  memoize (d);
}

/* An array of variable-size members (a{sv}, av) read from its framing:
 * where its offsets start, their width, how many.  The data is in normal
 * form (py_view_init), so the checks only keep a damaged offset from
 * reading outside the container. */
typedef struct {
  const guint8 *data;
  gsize table, n;
  guint width;
} ArrayFrame;

static gboolean
frame_open (Dumper *d, const PyView *view, const char *what, ArrayFrame *f)
{
  f->data = view->data;
  f->width = offset_size_for (view->size);
  f->table = f->n = 0;
  if (view->size == 0)
    return TRUE;
  f->table = read_offset (f->data + view->size - f->width, f->width);
  if (f->table > view->size || (view->size - f->table) % f->width != 0)
    return dump_failed (d, "a %s's offsets are damaged", what);
  f->n = (view->size - f->table) / f->width;
  return TRUE;
}

/* Member @i's bounds; FALSE when they are outside the array. */
static gboolean
frame_member (const ArrayFrame *f, gsize i, gsize *start, gsize *end)
{
  *start
      = i == 0
            ? 0
            : align_up (read_offset (f->data + f->table + (i - 1) * f->width,
                                     f->width),
                        7);
  *end = read_offset (f->data + f->table + i * f->width, f->width);
  return *start <= *end && *end <= f->table;
}

/* A dict of str keys, a{sv}, read straight from its framing: most cached
 * values are one, and the general iterator costs five times as much. */
static gboolean
save_str_dict (Dumper *d, const PyView *view, guint depth)
{
  ArrayFrame f;
  gsize i = 0, this_batch;

  put_byte (d, '}');
  memoize (d);
  if (!frame_open (d, view, "dict", &f))
    return FALSE;
  if (f.n == 0)
    return TRUE;
  do
    {
      this_batch = 0;
      if (f.n > 1)
        put_byte (d, '(');
      for (; this_batch < BATCHSIZE && i < f.n; this_batch++, i++)
        {
          gsize start, end, esize, key_end;
          const guint8 *entry;
          guint ewidth;
          PyView value;

          if (!frame_member (&f, i, &start, &end) || end - start < 2)
            return dump_failed (d, "a dict entry is outside its dict");
          entry = f.data + start;
          esize = end - start;
          ewidth = offset_size_for (esize);
          key_end = read_offset (entry + esize - ewidth, ewidth);
          if (key_end == 0 || key_end > esize - ewidth
              || entry[key_end - 1] != 0
              || align_up (key_end, 7) > esize - ewidth)
            return dump_failed (d, "a dict entry's key is damaged");
          save_sized (d, 0x8c, 'X', 0x8d, entry, key_end - 1);
          value.data = entry + align_up (key_end, 7);
          value.size = esize - ewidth - align_up (key_end, 7);
          value.type = "v";
          value.type_len = 1;
          if (!save (d, &value, depth + 1))
            return FALSE;
        }
      put_byte (d, f.n > 1 ? 'u' : 's');
    }
  while (f.n > 1 && this_batch == BATCHSIZE);
  return TRUE;
}

/* A list, av, read straight from its framing as save_str_dict reads a
 * dict: batch_list_exact's one APPEND for one member, else batches of
 * MARK ... APPENDS. */
static gboolean
save_variant_list (Dumper *d, const PyView *view, guint depth)
{
  ArrayFrame f;
  gsize i = 0, this_batch;

  put_byte (d, ']');
  memoize (d);
  if (!frame_open (d, view, "list", &f))
    return FALSE;
  if (f.n == 0)
    return TRUE;
  do
    {
      this_batch = 0;
      if (f.n > 1)
        put_byte (d, '(');
      for (; this_batch < BATCHSIZE && i < f.n; this_batch++, i++)
        {
          gsize start, end;
          PyView member;

          if (!frame_member (&f, i, &start, &end))
            return dump_failed (d, "a list member is outside its list");
          member.data = f.data + start;
          member.size = end - start;
          member.type = "v";
          member.type_len = 1;
          if (!save (d, &member, depth + 1))
            return FALSE;
        }
      put_byte (d, f.n > 1 ? 'e' : 'a');
    }
  while (i < f.n);
  return TRUE;
}

/* A variant, without the general unwrap: its type is the text after the
 * last zero byte (a type string holds none). */
static gboolean
unwrap_variant (PyView *view)
{
  gsize z = view->size;

  while (z > 0 && view->data[z - 1] != 0)
    z--;
  if (z == 0 || z == view->size)
    return FALSE;
  view->type = (const char *) view->data + z;
  view->type_len = view->size - z;
  view->size = z - 1;
  return TRUE;
}

static void
save_float (Dumper *d, const guint8 *le)
{
  guint8 *at = put (d, 9);
  guint64 bits = read_le (le, 8);

  at[0] = 'G';
  for (int i = 0; i < 8; i++)
    at[1 + i] = (guint8) (bits >> (56 - 8 * i));
}

/* The common shapes first: a str, an int64, a float, a bool, None,
 * bytes, a dict of str keys, a list; save_general takes every other. */
static gboolean
save (Dumper *d, PyView *view, guint depth)
{
  if (depth > 4 * PY_TREE_MAX_DEPTH)
    return dump_failed (d, "the value nests too deep");
  if (view->type[0] == 'v' && !unwrap_variant (view))
    return save_general (d, view, depth);
  switch (view->type[0])
    {
    case 'b':
      if (view->size != 1)
        break;
      put_byte (d, view->data[0] ? 0x88 : 0x89);
      opcode_boundary (d);
      return TRUE;
    case 'd':
      if (view->size != 8)
        break;
      save_float (d, view->data);
      opcode_boundary (d);
      return TRUE;
    case 'm':
      if (view->size != 0 || view->type_len != 2)
        break;
      put_byte (d, 'N');
      opcode_boundary (d);
      return TRUE;
    case 's':
      save_sized (d, 0x8c, 'X', 0x8d, view->data, view->size - 1);
      opcode_boundary (d);
      return TRUE;
    case 'x':
      if (view->size != 8)
        break;
      save_int (d, (gint64) read_le (view->data, 8));
      opcode_boundary (d);
      return TRUE;
    case 'a':
      if (view->type_len == 2 && view->type[1] == 'y')
        {
          save_sized (d, 'C', 'B', 0x8e, view->data, view->size);
          opcode_boundary (d);
          return TRUE;
        }
      if (view->type_len == 5 && memcmp (view->type, "a{sv}", 5) == 0)
        {
          if (!save_str_dict (d, view, depth))
            return FALSE;
          opcode_boundary (d);
          return TRUE;
        }
      if (view->type_len == 2 && view->type[1] == 'v')
        {
          if (!save_variant_list (d, view, depth))
            return FALSE;
          opcode_boundary (d);
          return TRUE;
        }
      break;
    default: break;
    }
  return save_general (d, view, depth);
}

static gboolean
save_general (Dumper *d, PyView *view, guint depth)
{
  PyView content;
  PyNodeKind kind;
  gsize n;

  kind = py_view_kind (view, &content, d->error);
  switch (kind)
    {
    case PY_NODE_NONE: put_byte (d, 'N'); break;
    case PY_NODE_BOOL:
      put_byte (d, view->size > 0 && view->data[0] ? 0x88 : 0x89);
      break;
    case PY_NODE_INT:
      if (!save_int_view (d, view))
        return FALSE;
      break;
    case PY_NODE_BIGINT:
      if (!save_big_int (d, &content))
        return FALSE;
      break;
    case PY_NODE_FLOAT: save_float (d, view->data); break;
    case PY_NODE_STR:
      if (view->type[0] == '{')
        {
          if (content.type[0] != 'a' || content.type[1] != 'y'
              || py_check_utf8 (content.data, content.size) == 0)
            return dump_failed (d, "a tagged str holds UTF-8 bytes (ay) "
                                   "with surrogates");
          save_sized (d, 0x8c, 'X', 0x8d, content.data, content.size);
        }
      else
        save_sized (d, 0x8c, 'X', 0x8d, view->data, view->size - 1);
      break;
    case PY_NODE_BYTES:
      save_sized (d, 'C', 'B', 0x8e, view->data, view->size);
      break;
    case PY_NODE_BYTEARRAY:
      if (content.type[0] != 'a' || content.type[1] != 'y')
        return dump_failed (d, "a tagged bytearray holds ay");
      if (d->protocol >= 5)
        {
          guint8 header[9] = { 0x96 };

          put_le (header + 1, content.size, 8);
          put_data (d, header, 9, content.data, content.size);
          memoize (d);
          break;
        }
      save_bytearray_global (d);
      if (content.size == 0)
        put_byte (d, ')');
      else
        {
          save_sized (d, 'C', 'B', 0x8e, content.data, content.size);
          put_byte (d, 0x85);
          memoize (d);
        }
      put_byte (d, 'R');
      memoize (d);
      break;
    case PY_NODE_LIST:
      put_byte (d, ']');
      memoize (d);
      if (!save_batched (d, view, 'a', 'e', FALSE, FALSE, depth))
        return FALSE;
      break;
    case PY_NODE_TUPLE:
      if (!member_count (d, view, &n))
        return FALSE;
      if (n == 0)
        {
          put_byte (d, ')');
          break;
        }
      if (n > 3)
        put_byte (d, '(');
      if (!save_members (d, view, depth))
        return FALSE;
      put_byte (d, n > 3 ? 't' : (guint8) (0x84 + n));
      memoize (d);
      break;
    case PY_NODE_DICT:
      if (view->type[0] == '{')
        {
          if (!check_pairs (d, &content))
            return FALSE;
          view = &content;
        }
      put_byte (d, '}');
      memoize (d);
      if (!save_batched (d, view, 's', 'u', TRUE, TRUE, depth))
        return FALSE;
      break;
    case PY_NODE_SET:
    case PY_NODE_FROZENSET:
      if (content.type[0] != 'a' || content.type[1] == 'y'
          || content.type[1] == '{')
        return dump_failed (d, "a tagged set holds an array such as av");
      if (kind == PY_NODE_SET)
        {
          put_byte (d, 0x8f);
          memoize (d);
          if (!save_batched (d, &content, 0, 0x90, TRUE, FALSE, depth))
            return FALSE;
        }
      else
        {
          put_byte (d, '(');
          if (!save_members (d, &content, depth))
            return FALSE;
          put_byte (d, 0x91);
          memoize (d);
        }
      break;
    default:
      if (d->error != NULL && *d->error != NULL)
        return FALSE;
      return dump_failed (d, "not a Python value");
    }
  opcode_boundary (d);
  return TRUE;
}

static void
dumper_init (Dumper *d, int protocol, GError **error)
{
  d->buf = d->inline_buf;
  d->alloc = sizeof d->inline_buf;
  d->len = 0;
  d->frame_start = NO_FRAME;
  d->memo = 0;
  d->bytearray_memo = -1;
  d->protocol = protocol;
  d->error = error;
  d->buf[d->len++] = 0x80;
  d->buf[d->len++] = (guint8) protocol;
}

static GBytes *
dumper_finish (Dumper *d, gboolean ok)
{
  if (!ok)
    {
      if (d->buf != d->inline_buf)
        g_free (d->buf);
      return NULL;
    }
  put_byte (d, '.');
  commit_frame (d);
  if (d->buf == d->inline_buf)
    return g_bytes_new (d->buf, d->len);
  return g_bytes_new_take (d->buf, d->len);
}

/**
 * dogpile_pickle_dumps:
 * @value: the value, mapped as the Python values section
 *   (`dogpile/dogpile-python-value.h`) describes; borrowed, but a
 *   floating reference is sunk and released
 * @error: return location for a #GError, or %NULL
 *
 * Python's pickle.dumps(value, protocol=4): the same bytes, opcodes,
 * frames and batches included, for a value in which no object is shared.
 * Python memoizes by identity and writes a memo reference where the same
 * object comes again; a #GVariant has no identity, so each copy is
 * written in full (both read back equal).
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when @value, or a value inside it, is
 * not a Python value: a standalone dict entry that is not a tag, a tagged
 * value whose content is wrong (a tagged int that is not decimal text of
 * at most 4300 digits, a tagged str that is not UTF-8 bytes, ay, ...), or
 * nesting deeper than 512 levels.
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): the pickle, or %NULL with @error set
 */
GBytes *
dogpile_pickle_dumps (GVariant *value, GError **error)
{
  g_autoptr (GVariant) normal = NULL;
  Dumper d;
  PyView view;
  GError *local = NULL;
  GBytes *out;

  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  normal = py_view_init (&view, value);
  dumper_init (&d, 4, &local);
  out = dumper_finish (&d, save (&d, &view, 0));
  if (out == NULL)
    g_propagate_error (error, local);
  return out;
}

/**
 * dogpile_pickle_dumps_cached_value:
 * @payload: the value, mapped as for dogpile_pickle_dumps(); borrowed,
 *   but a floating reference is sunk and released
 * @metadata: the metadata, borrowed for the call: its cached_time is
 *   written as "ct" (a float) and its version as "v"
 * @error: return location for a #GError, or %NULL
 *
 * What pymemcache and pylibmc store for a stock Python region's value:
 * pickle.dumps(CachedValue(payload, {"ct": ct, "v": v}), protocol=5),
 * the same bytes for a value in which no object is shared.  Python's
 * pickle.loads() reads it back as a dogpile.cache.api.CachedValue, and
 * dogpile_pickle_loads_cached_value() reads it back here.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when @payload is not a Python value,
 * as for dogpile_pickle_dumps().
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): the pickle, or %NULL with @error set
 */
GBytes *
dogpile_pickle_dumps_cached_value (GVariant *payload,
                                   const DogpileMetadata *metadata,
                                   GError **error)
{
  g_autoptr (GVariant) normal = NULL;
  Dumper d;
  PyView view;
  GError *local = NULL;
  GBytes *out;
  gboolean ok;
  guint64 bits;
  guint8 le[8];

  g_return_val_if_fail (payload != NULL, NULL);
  g_return_val_if_fail (metadata != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  normal = py_view_init (&view, payload);
  dumper_init (&d, 5, &local);
  /* CachedValue.__new__(CachedValue, payload, metadata): STACK_GLOBAL,
   * the (payload, metadata) tuple, NEWOBJ */
  save_sized (&d, 0x8c, 'X', 0x8d, (const guint8 *) "dogpile.cache.api", 17);
  save_sized (&d, 0x8c, 'X', 0x8d, (const guint8 *) "CachedValue", 11);
  put_byte (&d, 0x93);
  memoize (&d);
  ok = save (&d, &view, 0);
  if (ok)
    {
      put_byte (&d, '}');
      memoize (&d);
      put_byte (&d, '(');
      save_sized (&d, 0x8c, 'X', 0x8d, (const guint8 *) "ct", 2);
      memcpy (&bits, &metadata->cached_time, 8);
      put_le (le, bits, 8);
      save_float (&d, le);
      save_sized (&d, 0x8c, 'X', 0x8d, (const guint8 *) "v", 1);
      save_int (&d, metadata->version);
      put_byte (&d, 'u');
      put_byte (&d, 0x86);
      memoize (&d);
      put_byte (&d, 0x81);
      memoize (&d);
    }
  out = dumper_finish (&d, ok);
  if (out == NULL)
    g_propagate_error (error, local);
  return out;
}
