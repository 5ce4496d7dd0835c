/* dogpile-pickle-direct.c: the pickles CPython writes for dicts, lists
 * and scalars, read in one pass straight to serialized GVariant.
 *
 * The general loader (dogpile-pickle.c) runs the unpickler's stack
 * machine into a PyTree, sizes the tree, then writes it: three passes
 * and a node per object, as slow as Python's own pickle.loads.  Most
 * cached values are a dict of str keys holding scalars, lists and more
 * such dicts, and for those CPython's pickler writes a grammar that can
 * be parsed top down:
 *
 *   value := scalar | str [memo] | bytes [memo] | BINGET of a str/bytes
 *          | EMPTY_LIST [memo] (value APPEND | (MARK value* APPENDS)*)
 *          | EMPTY_DICT [memo] (str value SETITEM | (MARK (str value)*
 *                                                      SETITEMS)*)
 *
 * Each value is written where it ends up in the GVariant (a dict value
 * or a list member as a variant: body, 0, type), and a container's
 * framing offsets are appended when it closes, so no byte is written
 * twice.  The one ambiguity is a container's single-item form: after an
 * empty list, a value may be its only member or its parent's next one;
 * it is parsed as a member and, when no APPEND follows, the parse is
 * rewound and the list ends empty.  Rewound values are read again, so
 * the values read in all are limited to 8 times the input's length (and
 * 4096): a real pickle stays well inside, and one crafted to rewind at
 * every level costs a bounded multiple of its length before the general
 * loader takes it.
 *
 * Anything outside the grammar (tuples, sets, big ints, text protocols,
 * globals, a str that GVariant cannot hold as `s`, damage of any kind)
 * gives up and the general loader reads the pickle from the start, so
 * both produce the same bytes and the same errors; tests/core/
 * test-pickle.c and the fuzz target check that they agree.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-python-tree.h"

#include <string.h>

/* Container levels; the general loader's GVariant limit is deeper (a
 * dict level costs it 3), so what this accepts the general one does. */
#define DIRECT_MAX_DEPTH 32

/* Every write stays within this many bytes past a ROOM check, so that
 * short copies and trailers can be whole 8-byte stores. */
#define SLACK 64

#define ALWAYS_INLINE static inline __attribute__ ((always_inline))

typedef struct {
  const guint8 *end;
  guint8 *out;
  gsize alloc, max_size;
  /* the memo: where each memoized object's opcode is in the input */
  const guint8 **memo;
  gsize n_memo, memo_alloc;
  gsize *offsets; /* framing offsets of the open containers */
  gsize n_offsets, offsets_alloc;
  gsize steps, max_steps; /* values read, rewound ones included */
  const guint8 *memo_buf[64];
  gsize offsets_buf[64];
} Direct;

static gboolean
grow (gpointer *array, gpointer inline_buf, gsize *alloc, gsize elem_size)
{
  gsize n = *alloc * 2;
  gpointer bigger = g_try_malloc_n (n, elem_size);

  if (bigger == NULL)
    return FALSE;
  memcpy (bigger, *array, *alloc * elem_size);
  if (*array != inline_buf)
    g_free (*array);
  *array = bigger;
  *alloc = n;
  return TRUE;
}

/* Room for @need bytes at @o: the (moved) cursor, or NULL past the size
 * limit. */
static G_GNUC_NO_INLINE guint8 *
grow_out (Direct *d, guint8 *o, gsize need)
{
  gsize len = (gsize) (o - d->out), want;
  guint8 *bigger;

  if (need > d->max_size || len > d->max_size - need)
    return NULL;
  want = MAX (d->alloc * 2, len + need);
  bigger = g_try_realloc (d->out, want);
  if (bigger == NULL)
    return NULL;
  d->out = bigger;
  d->alloc = want;
  return bigger + len;
}

#define ROOM(n)                                                               \
  do                                                                          \
    {                                                                         \
      if (G_UNLIKELY ((gsize) (d->out + d->alloc - o) < (gsize) (n) + SLACK)) \
        {                                                                     \
          o = grow_out (d, o, (gsize) (n) + SLACK);                           \
          if (o == NULL)                                                      \
            return FALSE;                                                     \
        }                                                                     \
    }                                                                         \
  while (0)

/* Zeros up to the next multiple of 8 (the buffer is 8-aligned). */
ALWAYS_INLINE guint8 *
pad8 (guint8 *o)
{
  memset (o, 0, 8);
  return (guint8 *) (((guintptr) o + 7) & ~(guintptr) 7);
}

ALWAYS_INLINE void
copy (guint8 *o, const guint8 *s, gsize n, const guint8 *end)
{
  if (n <= 16 && end - s >= 16)
    memcpy (o, s, 16);
  else
    memcpy (o, s, n);
}

/* Variant trailers, 0 and the type, padded for one 8-byte store. */
static const char t_none[8] = "\0mv", t_bool[8] = "\0b", t_int[8] = "\0x",
                  t_float[8] = "\0d", t_str[8] = "\0s", t_bytes[8] = "\0ay",
                  t_list[8] = "\0av", t_dict[8] = "\0a{sv}";

ALWAYS_INLINE guint8 *
trailer (guint8 *o, const char type[8], gsize len)
{
  memcpy (o, type, 8);
  return o + 1 + len;
}

static G_GNUC_NO_INLINE const guint8 *
skip_frames_slow (const guint8 *p, const guint8 *end)
{
  while (p < end && *p == 0x95)
    {
      if ((gsize) (end - p) < 9
          || read_le (p + 1, 8) > (guint64) (end - p - 9))
        return NULL;
      p += 9;
    }
  return p;
}

/* Past any FRAME (a hint, only checked); NULL when damaged or at the
 * end. */
ALWAYS_INLINE const guint8 *
skip_frames (const guint8 *p, const guint8 *end)
{
  if (G_LIKELY (p < end && *p != 0x95))
    return p;
  p = skip_frames_slow (p, end);
  return p != NULL && p < end ? p : NULL;
}

/* ASCII eight bytes at a time, and no zero byte: GVariant's `s` ends at
 * one.  Otherwise UTF-8 without surrogates (which the general loader
 * tags). */
ALWAYS_INLINE gboolean
plain_str (const guint8 *s, gsize n, const guint8 *end)
{
  const guint64 high = G_GUINT64_CONSTANT (0x8080808080808080);
  const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
  gsize i = 0;
  guint64 w;

  for (; i + 8 <= n; i += 8)
    {
      memcpy (&w, s + i, 8);
      w = GUINT64_FROM_LE (w);
      if (((w | (w - ones)) & high) != 0)
        goto slow;
    }
  if (i < n && end - (s + i) >= 8)
    {
      /* the tail, from a whole word of which only n - i bytes count */
      memcpy (&w, s + i, 8);
      w = GUINT64_FROM_LE (w);
      w |= ~(guint64) 0 << (8 * (n - i)); /* fill the rest with 0xff... */
      w &= ~high | (((guint64) 1 << (8 * (n - i))) - 1); /* ...then 0x7f */
      if (((w | (w - ones)) & high) == 0)
        return TRUE;
    }
  else if (i == n)
    return TRUE;
slow:
  for (; i < n; i++)
    if (s[i] == 0 || s[i] >= 0x80)
      break;
  if (i == n)
    return TRUE;
  if (memchr (s + i, 0, n - i) != NULL)
    return FALSE;
  return py_check_utf8 (s + i, n - i) == 1;
}

static G_GNUC_NO_INLINE gboolean
add_memo_slow (Direct *d, const guint8 *op)
{
  if (!grow ((gpointer *) &d->memo, d->memo_buf, &d->memo_alloc,
             sizeof (const guint8 *)))
    return FALSE;
  d->memo[d->n_memo++] = op;
  return TRUE;
}

/* MEMOIZE, or protocols 2 and 3's BINPUT numbering from 0 as CPython's
 * does, after the object whose opcode is at @op; absent is fine.  FALSE
 * to give up. */
ALWAYS_INLINE gboolean
maybe_memo (Direct *d, const guint8 **pp, const guint8 *op)
{
  const guint8 *p = skip_frames (*pp, d->end);

  if (p == NULL)
    return TRUE; /* the caller's next read fails */
  if (G_LIKELY (*p == 0x94))
    p++;
  else if (*p == 'q')
    {
      if (d->end - p < 2 || p[1] != d->n_memo)
        return FALSE;
      p += 2;
    }
  else if (*p == 'r')
    {
      if (d->end - p < 5 || read_le (p + 1, 4) != d->n_memo)
        return FALSE;
      p += 5;
    }
  else
    return TRUE;
  *pp = p;
  if (G_UNLIKELY (d->n_memo == d->memo_alloc))
    return add_memo_slow (d, op);
  d->memo[d->n_memo++] = op;
  return TRUE;
}

static G_GNUC_NO_INLINE gboolean
push_offset_slow (Direct *d, gsize value)
{
  if (!grow ((gpointer *) &d->offsets, d->offsets_buf, &d->offsets_alloc,
             sizeof (gsize)))
    return FALSE;
  d->offsets[d->n_offsets++] = value;
  return TRUE;
}

ALWAYS_INLINE gboolean
push_offset (Direct *d, gsize value)
{
  if (G_UNLIKELY (d->n_offsets == d->offsets_alloc))
    return push_offset_slow (d, value);
  d->offsets[d->n_offsets++] = value;
  return TRUE;
}

/* A length-prefixed str or bytes after its opcode at @p. */
ALWAYS_INLINE gboolean
read_sized (const guint8 **pp, const guint8 *end, guint width,
            const guint8 **out, gsize *out_len)
{
  const guint8 *p = *pp + 1;
  guint64 n;

  if ((gsize) (end - p) < width)
    return FALSE;
  n = width == 1 ? *p : read_le (p, width);
  p += width;
  if (n > (guint64) (end - p) || n > G_MAXUINT32)
    return FALSE;
  *out = p;
  *out_len = (gsize) n;
  *pp = p + n;
  return TRUE;
}

/* A memo reference (BINGET, LONG_BINGET) at *pp to a str (@is_str) or
 * a bytes: its data, read again from the opcode that made it (checked
 * then).  FALSE for anything else. */
ALWAYS_INLINE gboolean
memo_ref (Direct *d, const guint8 **pp, gboolean *is_str, const guint8 **data,
          gsize *len)
{
  const guint8 *p = *pp, *op;
  guint64 index;
  guint width;

  if (*p == 'h')
    {
      if (d->end - p < 2)
        return FALSE;
      index = p[1];
      p += 2;
    }
  else
    {
      if (d->end - p < 5)
        return FALSE;
      index = read_le (p + 1, 4);
      p += 5;
    }
  if (index >= d->n_memo)
    return FALSE;
  op = d->memo[index];
  switch (*op)
    {
    case 0x8c: width = 1, *is_str = TRUE; break;
    case 'X': width = 4, *is_str = TRUE; break;
    case 0x8d: width = 8, *is_str = TRUE; break;
    case 'C': width = 1, *is_str = FALSE; break;
    case 'B': width = 4, *is_str = FALSE; break;
    case 0x8e: width = 8, *is_str = FALSE; break;
    default: return FALSE; /* a container: shared, or itself */
    }
  *len = (gsize) read_le (op + 1, width);
  *data = op + 1 + width;
  *pp = p;
  return TRUE;
}

static gboolean container (Direct *d, const guint8 **pp, guint8 **oo,
                           gboolean is_dict, guint depth);

/* One value at *pp written at *oo: a dict value or a list member as a
 * variant (body, 0, type), the pickle's root as itself.  @type gets its
 * GVariant type.  FALSE to give up. */
ALWAYS_INLINE gboolean
value (Direct *d, const guint8 **pp, guint8 **oo, gboolean variant,
       guint depth, const char **type)
{
  const guint8 *p = skip_frames (*pp, d->end), *s, *op;
  const guint8 *end = d->end;
  guint8 *o = *oo;
  const char *t;
  gsize n, tl;
  guint64 v;

  if (p == NULL || ++d->steps > d->max_steps)
    return FALSE;
  ROOM (16);
  op = p;
  switch (*p)
    {
    case 'N':
      p++;
      t = t_none, tl = 2;
      break;
    case 0x88:
    case 0x89:
      *o++ = *p++ == 0x88;
      t = t_bool, tl = 1;
      break;
    case 'K':
      if (end - p < 2)
        return FALSE;
      v = p[1];
      p += 2;
      goto int64;
    case 'M':
      if (end - p < 3)
        return FALSE;
      v = read_le (p + 1, 2);
      p += 3;
      goto int64;
    case 'J':
      if (end - p < 5)
        return FALSE;
      v = (guint64) (gint64) (gint32) (guint32) read_le (p + 1, 4);
      p += 5;
      goto int64;
    case 0x8a: /* LONG1 of at most 8 bytes: two's complement */
      if (end - p < 2 || p[1] > 8 || (gsize) (end - p) < 2 + (gsize) p[1])
        return FALSE;
      n = p[1];
      v = n > 0 && (p[1 + n] & 0x80) ? G_MAXUINT64 : 0;
      for (gsize i = 0; i < n; i++)
        {
          v &= ~((guint64) 0xff << (8 * i));
          v |= (guint64) p[2 + i] << (8 * i);
        }
      p += 2 + n;
    int64:
      v = GUINT64_TO_LE (v);
      memcpy (o, &v, 8);
      o += 8;
      t = t_int, tl = 1;
      break;
    case 'G':
      if (end - p < 9)
        return FALSE;
      memcpy (&v, p + 1, 8);
      v = GUINT64_TO_LE (GUINT64_FROM_BE (v));
      memcpy (o, &v, 8);
      o += 8;
      p += 9;
      t = t_float, tl = 1;
      break;
    case 0x8c:
    case 'X':
    case 0x8d:
      if (!read_sized (&p, end,
                       *p == 0x8c  ? 1
                       : *p == 'X' ? 4
                                   : 8,
                       &s, &n)
          || !plain_str (s, n, end))
        return FALSE;
      ROOM (n + 1);
      copy (o, s, n, end);
      o[n] = 0;
      if (!maybe_memo (d, &p, op))
        return FALSE;
      o += n + 1;
      t = t_str, tl = 1;
      break;
    case 'C':
    case 'B':
    case 0x8e:
      if (!read_sized (&p, end, *p == 'C' ? 1 : *p == 'B' ? 4 : 8, &s, &n))
        return FALSE;
      ROOM (n);
      copy (o, s, n, end);
      if (!maybe_memo (d, &p, op))
        return FALSE;
      o += n;
      t = t_bytes, tl = 2;
      break;
    case 'h':
    case 'j':
      {
        gboolean is_str;

        if (!memo_ref (d, &p, &is_str, &s, &n))
          return FALSE;
        ROOM (n + 1);
        memcpy (o, s, n);
        o[n] = 0;
        o += n + (is_str ? 1 : 0);
        t = is_str ? t_str : t_bytes;
        tl = is_str ? 1 : 2;
        break;
      }
    case ']':
    case '}':
      {
        gboolean is_dict = *p == '}';

        p++;
        if (!container (d, &p, &o, is_dict, depth))
          return FALSE;
        t = is_dict ? t_dict : t_list;
        tl = is_dict ? 5 : 2;
        break;
      }
    default: return FALSE;
    }
  *type = t + 1;
  if (variant)
    {
      ROOM (8);
      o = trailer (o, t, tl);
    }
  *pp = p;
  *oo = o;
  return TRUE;
}

/* One {sv} entry: a str key (or a memo reference to one), then its value.
 * Its end offset goes to d->offsets, relative to @start_at.  Positions
 * are kept as offsets: any ROOM may move the buffer. */
ALWAYS_INLINE gboolean
entry (Direct *d, const guint8 **pp, guint8 **oo, gsize start_at, guint depth)
{
  const guint8 *p = skip_frames (*pp, d->end), *s, *op = p;
  guint8 *o = *oo;
  gsize n, e_at, key_end, size;
  gboolean is_str;
  const char *type;

  if (p == NULL)
    return FALSE;
  ROOM (8);
  o = pad8 (o);
  e_at = (gsize) (o - d->out);
  switch (*p)
    {
    case 0x8c:
    case 'X':
    case 0x8d:
      if (!read_sized (&p, d->end,
                       *p == 0x8c  ? 1
                       : *p == 'X' ? 4
                                   : 8,
                       &s, &n)
          || !plain_str (s, n, d->end))
        return FALSE;
      ROOM (n + 1);
      copy (o, s, n, d->end);
      o[n] = 0;
      if (!maybe_memo (d, &p, op))
        return FALSE;
      o += n + 1;
      break;
    case 'h':
    case 'j':
      if (!memo_ref (d, &p, &is_str, &s, &n) || !is_str)
        return FALSE;
      ROOM (n + 1);
      memcpy (o, s, n);
      o[n] = 0;
      o += n + 1;
      break;
    default: return FALSE;
    }
  key_end = (gsize) (o - d->out) - e_at;
  ROOM (8);
  o = pad8 (o);
  if (!value (d, &p, &o, TRUE, depth, &type))
    return FALSE;
  size = (gsize) (o - d->out) - e_at;
  if (G_LIKELY (size < 255))
    *o = (guint8) key_end, size++;
  else
    {
      size = total_size (size, 1);
      ROOM (8);
      write_offset (o, key_end, offset_size_for (size));
    }
  o = d->out + e_at + size;
  *pp = p;
  *oo = o;
  return push_offset (d, e_at + size - start_at);
}

ALWAYS_INLINE gboolean
member (Direct *d, const guint8 **pp, guint8 **oo, gsize start_at, guint depth)
{
  guint8 *o = *oo;
  const char *type;

  ROOM (8);
  o = pad8 (o);
  if (!value (d, pp, &o, TRUE, depth, &type))
    return FALSE;
  *oo = o;
  return push_offset (d, (gsize) (o - d->out) - start_at);
}

/* The next opcode, or -1 at the end or on a damaged FRAME. */
ALWAYS_INLINE int
peek (const guint8 *p, const guint8 *end)
{
  p = skip_frames (p, end);
  return p != NULL ? *p : -1;
}

static gboolean
is_value_start (int op)
{
  switch (op)
    {
    case 'N':
    case 0x88:
    case 0x89:
    case 'K':
    case 'M':
    case 'J':
    case 0x8a:
    case 'G':
    case 0x8c:
    case 'X':
    case 0x8d:
    case 'C':
    case 'B':
    case 0x8e:
    case 'h':
    case 'j':
    case ']':
    case '}': return TRUE;
    default: return FALSE;
    }
}

/* The key of a dict's entry @i (of those from d->offsets[@first]): its
 * text, NUL-terminated at the entry's start. */
static inline const char *
entry_key (Direct *d, gsize start_at, gsize first, gsize i)
{
  gsize at = i == first ? 0 : align_up (d->offsets[i - 1], 7);

  return (const char *) d->out + start_at + at;
}

/* Whether no key of the dict just read is there twice.  Python keeps one
 * entry per key (the first place, the last value); the general loader
 * does that, so a dict with a repeated key is left to it. */
static gboolean
keys_unique (Direct *d, gsize start_at, gsize first)
{
  gsize n = d->n_offsets - first, size = 1;
  g_autofree guint32 *table = NULL;

  if (n <= 16)
    {
      /* the first word of each key, cut at its NUL (an entry is at least
       * 8 bytes, so the word is inside it): strcmp only when they match */
      guint64 sig[16];

      for (gsize i = 0; i < n; i++)
        {
          guint64 w, zero;

          memcpy (&w, entry_key (d, start_at, first, first + i), 8);
          w = GUINT64_FROM_LE (w);
          zero = (w - G_GUINT64_CONSTANT (0x0101010101010101)) & ~w
                 & G_GUINT64_CONSTANT (0x8080808080808080);
          /* keep the bytes below the first zero byte, and that byte */
          if (zero != 0)
            w &= (zero ^ (zero - 1)) >> 7;
          sig[i] = w;
          for (gsize j = 0; j < i; j++)
            if (sig[j] == w
                && strcmp (entry_key (d, start_at, first, first + i),
                           entry_key (d, start_at, first, first + j))
                       == 0)
              return FALSE;
        }
      return TRUE;
    }
  /* open addressing, entry index + 1 in each slot, at most half full */
  while (size < 2 * n)
    size *= 2;
  table = g_try_new0 (guint32, size);
  if (table == NULL)
    return FALSE;
  for (gsize i = first; i < d->n_offsets; i++)
    {
      const char *key = entry_key (d, start_at, first, i);
      gsize slot = g_str_hash (key) & (size - 1);

      while (table[slot] != 0)
        {
          if (strcmp (entry_key (d, start_at, first, table[slot] - 1), key)
              == 0)
            return FALSE;
          slot = (slot + 1) & (size - 1);
        }
      table[slot] = (guint32) (i + 1);
    }
  return TRUE;
}

/* The members of a list or a dict after its opcode: its memo, then its
 * single-item form or MARK ... APPENDS/SETITEMS batches, then its
 * framing offsets. */
static gboolean
container (Direct *d, const guint8 **pp, guint8 **oo, gboolean is_dict,
           guint depth)
{
  const guint8 *p = *pp;
  guint8 *o = *oo;
  gsize start_at = (gsize) (o - d->out), first = d->n_offsets;
  guint8 single = is_dict ? 's' : 'a', many = is_dict ? 'u' : 'e';
  int op;

  if (depth > DIRECT_MAX_DEPTH || !maybe_memo (d, &p, p - 1))
    return FALSE;
  op = peek (p, d->end);
  if (is_value_start (op))
    {
      const guint8 *mark_p = p;
      gsize mark_len = (gsize) (o - d->out), mark_memo = d->n_memo;
      gboolean ok = is_dict ? entry (d, &p, &o, start_at, depth + 1)
                            : member (d, &p, &o, start_at, depth + 1);

      if (ok && peek (p, d->end) == single)
        p = skip_frames (p, d->end) + 1;
      else
        {
          /* not its item: the container is empty, and that was its
           * parent's next value */
          p = mark_p;
          o = d->out + mark_len;
          d->n_memo = mark_memo;
          d->n_offsets = first;
        }
    }
  while (peek (p, d->end) == '(')
    {
      p = skip_frames (p, d->end) + 1;
      for (;;)
        {
          p = skip_frames (p, d->end);
          if (p == NULL)
            return FALSE;
          if (*p == many)
            break;
          if (!(is_dict ? entry (d, &p, &o, start_at, depth + 1)
                        : member (d, &p, &o, start_at, depth + 1)))
            return FALSE;
        }
      p++;
    }

  if (is_dict && !keys_unique (d, start_at, first))
    return FALSE;
  {
    gsize n = d->n_offsets - first;
    gsize body = (gsize) (o - d->out) - start_at;
    guint width = offset_size_for (total_size (body, n));

    ROOM (n * 8);
    for (gsize i = first; i < d->n_offsets; i++)
      {
        write_offset (o, d->offsets[i], width);
        o += width;
      }
    d->n_offsets = first;
  }
  *pp = p;
  *oo = o;
  return TRUE;
}

gboolean
py_pickle_load_direct (const guint8 *data, gsize len, gsize max_size,
                       GVariant **out)
{
  Direct d;
  const guint8 *p;
  guint8 *o;
  const char *type = NULL;
  gboolean ok;

  *out = NULL;
  if (len < 3 || data[0] != 0x80 || data[1] < 2 || data[1] > 5)
    return FALSE;
  p = data + 2;
  d.end = data + len;
  d.max_size = max_size;
  d.alloc = len * 2 + 2 * SLACK;
  d.out = g_try_malloc (d.alloc);
  if (d.out == NULL)
    return FALSE;
  o = d.out;
  d.memo = d.memo_buf;
  d.memo_alloc = G_N_ELEMENTS (d.memo_buf);
  d.n_memo = 0;
  d.offsets = d.offsets_buf;
  d.offsets_alloc = G_N_ELEMENTS (d.offsets_buf);
  d.n_offsets = 0;
  d.steps = 0;
  d.max_steps = 8 * len + 4096;

  ok = value (&d, &p, &o, FALSE, 0, &type) && peek (p, d.end) == '.'
       && (gsize) (o - d.out) <= max_size;
  if (ok)
    {
      GBytes *bytes = g_bytes_new_take (d.out, (gsize) (o - d.out));

      *out = g_variant_ref_sink (
          g_variant_new_from_bytes ((const GVariantType *) type, bytes, TRUE));
      g_bytes_unref (bytes);
    }
  else
    g_free (d.out);
  if (d.memo != d.memo_buf)
    g_free (d.memo);
  if (d.offsets != d.offsets_buf)
    g_free (d.offsets);
  return ok;
}
