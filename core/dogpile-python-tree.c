/* dogpile-python-tree.c: Python values as a tree of nodes, written as a
 * serialized GVariant, and serialized GVariants read back (see the
 * header for why both skip GLib's builder and child accessors).
 *
 * The serialized form is GVariant's normal form as GLib writes it (the
 * "GVariant Serialisation" chapter of its documentation): members aligned
 * relative to their container, framing offsets whose width follows the
 * container's size, variable-size tuple members' end offsets stored at
 * the tuple's end in reverse.  tests/core/test-python-value.c compares
 * every shape with what GLib's builder makes, byte for byte.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-python-tree.h"

#include <string.h>

/* ---- the tree ----------------------------------------------------------- */

void
py_tree_init (PyTree *tree)
{
  tree->nodes = tree->node_buf;
  tree->nodes_alloc = G_N_ELEMENTS (tree->node_buf);
  tree->n_nodes = 0;
  tree->edges = tree->edge_buf;
  tree->edges_alloc = G_N_ELEMENTS (tree->edge_buf);
  tree->n_edges = 1; /* edge 0 means "none" */
  tree->chunks = NULL;
}

void
py_tree_clear (PyTree *tree)
{
  if (tree->nodes != tree->node_buf)
    g_free (tree->nodes);
  if (tree->edges != tree->edge_buf)
    g_free (tree->edges);
  g_slist_free_full (tree->chunks, g_free);
  tree->chunks = NULL;
}

gpointer
py_tree_grow (gpointer array, gpointer inline_buf, gsize *alloc,
              gsize elem_size)
{
  gsize n = *alloc * 2;
  gpointer bigger = g_malloc_n (n, elem_size);

  memcpy (bigger, array, *alloc * elem_size);
  if (array != inline_buf)
    g_free (array);
  *alloc = n;
  return bigger;
}

guint8 *
py_tree_alloc (PyTree *tree, gsize len)
{
  guint8 *chunk = g_malloc (MAX (len, 1));

  tree->chunks = g_slist_prepend (tree->chunks, chunk);
  return chunk;
}

int
py_check_utf8 (const guint8 *s, gsize n)
{
  int result = 1;
  gsize i = 0;

  /* ASCII, the usual case, eight bytes at a time */
  for (; i + 8 <= n; i += 8)
    {
      guint64 w;

      memcpy (&w, s + i, 8);
      if ((w & G_GUINT64_CONSTANT (0x8080808080808080)) != 0)
        break;
    }
  while (i < n)
    {
      guint8 c = s[i];
      guint32 cp;
      gsize len;

      if (c < 0x80)
        {
          i++;
          continue;
        }
      if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f;
      else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f;
      else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07;
      else
        return 0;
      if (n - i < len)
        return 0;
      for (gsize k = 1; k < len; k++)
        {
          if ((s[i + k] & 0xc0) != 0x80)
            return 0;
          cp = (cp << 6) | (s[i + k] & 0x3f);
        }
      if ((len == 3 && cp < 0x800)
          || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
      if (cp >= 0xd800 && cp <= 0xdfff)
        result = 2;
      i += len;
    }
  if (result == 1 && memchr (s, 0, n) != NULL)
    result = 2;
  return result;
}

/* ---- tree -> GVariant ----------------------------------------------------
 */

typedef struct {
  PyTree *tree;
  gsize max_size;
  const char *what;
  GError **error;
  guint16 *height; /* per sized node: how much deeper its members go */
  guint reach;     /* the deepest level reached in the node being sized */
} Writer;

static const char *
tag_of (const PyNode *node)
{
  switch (node->kind)
    {
    case PY_NODE_BIGINT: return "int";
    case PY_NODE_STR: return "str"; /* only with surrogates */
    case PY_NODE_BYTEARRAY: return "bytearray";
    case PY_NODE_SET: return "set";
    case PY_NODE_FROZENSET: return "frozenset";
    case PY_NODE_DICT: return "dict"; /* only with a key that is not a str */
    default: return NULL;
    }
}

/* The GVariant type of a sized node. */
static gboolean
is_tagged (const PyNode *node)
{
  switch (node->kind)
    {
    case PY_NODE_BIGINT:
    case PY_NODE_BYTEARRAY:
    case PY_NODE_SET:
    case PY_NODE_FROZENSET: return TRUE;
    case PY_NODE_STR: return (node->flags & PY_NODE_TAGGED_STR) != 0;
    case PY_NODE_DICT: return (node->flags & PY_NODE_TAGGED_DICT) != 0;
    default: return FALSE;
    }
}

static gsize
type_len (Writer *w, const PyNode *node)
{
  if (is_tagged (node))
    return 4; /* {sv} */
  switch (node->kind)
    {
    case PY_NODE_NONE:
    case PY_NODE_BYTES:
    case PY_NODE_LIST: return 2; /* mv ay av */
    case PY_NODE_DICT: return 5; /* a{sv} */
    case PY_NODE_TUPLE:
      {
        gsize len = 2;

        for (guint32 e = node->c.first; e != 0; e = w->tree->edges[e].next)
          len += type_len (w, &w->tree->nodes[w->tree->edges[e].node]);
        return len;
      }
    default: return 1; /* b x d s */
    }
}

static char *
write_type (Writer *w, const PyNode *node, char *out)
{
  const char *t;

  if (is_tagged (node))
    t = "{sv}";
  else
    switch (node->kind)
      {
      case PY_NODE_NONE: t = "mv"; break;
      case PY_NODE_BOOL: t = "b"; break;
      case PY_NODE_INT: t = "x"; break;
      case PY_NODE_FLOAT: t = "d"; break;
      case PY_NODE_STR: t = "s"; break;
      case PY_NODE_BYTES: t = "ay"; break;
      case PY_NODE_LIST: t = "av"; break;
      case PY_NODE_DICT: t = "a{sv}"; break;
      case PY_NODE_TUPLE:
        *out++ = '(';
        for (guint32 e = node->c.first; e != 0; e = w->tree->edges[e].next)
          out = write_type (w, &w->tree->nodes[w->tree->edges[e].node], out);
        *out++ = ')';
        return out;
      default: g_assert_not_reached ();
      }
  for (; *t != '\0'; t++)
    *out++ = *t;
  return out;
}

static gboolean
too_big (Writer *w, gsize size)
{
  if (size <= w->max_size)
    return FALSE;
  g_set_error (w->error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE,
               "The %s's value would take more than %" G_GSIZE_FORMAT
               " bytes (its shared objects are copied)",
               w->what, w->max_size);
  return TRUE;
}

static gboolean size_node (Writer *w, guint32 index, guint depth);

static inline gsize
variant_size (Writer *w, const PyNode *node)
{
  return node->size + 1 + type_len (w, node);
}

/* Body size of an av of the members from edge @first. */
static gboolean
size_variant_array (Writer *w, guint32 first, gsize n, guint depth, gsize *out)
{
  gsize body = 0;

  for (guint32 e = first; e != 0; e = w->tree->edges[e].next)
    {
      guint32 m = w->tree->edges[e].node;

      if (!size_node (w, m, depth + 2))
        return FALSE;
      body = align_up (body, 7) + variant_size (w, &w->tree->nodes[m]);
      if (too_big (w, body))
        return FALSE;
    }
  *out = total_size (body, n);
  return !too_big (w, *out);
}

/* Size of a {sv} (or (vv) when @key_node) entry. */
static inline gsize
entry_size (Writer *w, gsize key_size, const PyNode *value)
{
  return total_size (align_up (key_size, 7) + variant_size (w, value), 1);
}

static gboolean
size_content (Writer *w, PyNode *node, guint depth, gsize *out)
{
  PyTree *t = w->tree;

  switch (node->kind)
    {
    case PY_NODE_BIGINT:
    case PY_NODE_STR:
      *out = node->n + (node->kind == PY_NODE_BIGINT ? 1 : 0);
      return TRUE;
    case PY_NODE_BYTEARRAY: *out = node->n; return TRUE;
    case PY_NODE_SET:
    case PY_NODE_FROZENSET:
      return size_variant_array (w, node->c.first, node->n, depth + 2, out);
    case PY_NODE_DICT:
      {
        gsize body = 0;

        for (guint32 e = node->c.first; e != 0;
             e = t->edges[t->edges[e].next].next)
          {
            guint32 k = t->edges[e].node, v = t->edges[t->edges[e].next].node;

            if (!size_node (w, k, depth + 4) || !size_node (w, v, depth + 4))
              return FALSE;
            body = align_up (body, 7)
                   + entry_size (w, variant_size (w, &t->nodes[k]),
                                 &t->nodes[v]);
            if (too_big (w, body))
              return FALSE;
          }
        *out = total_size (body, node->n / 2);
        return !too_big (w, *out);
      }
    default: g_assert_not_reached ();
    }
}

static const char *
content_type (const PyNode *node)
{
  switch (node->kind)
    {
    case PY_NODE_BIGINT: return "s";
    case PY_NODE_DICT: return "a(vv)";
    case PY_NODE_SET:
    case PY_NODE_FROZENSET: return "av";
    default: return "ay";
    }
}

/* Python's dict keeps one entry per key: an equal key met again keeps the
 * first one's place and takes the later value.  A pickle may hold the
 * same key twice (a crafted one, or SETITEMS batches that repeat one);
 * for a dict of str keys (an a{sv}, or a tagged dict whose keys hold a
 * NUL or a surrogate) the later entries are dropped from the tree here,
 * as the JSON reader does.  Keys of other kinds are left as they are
 * (Python's 1 == 1.0 == True is beyond this). */
static GBytes *
key_bytes (const PyNode *k)
{
  guint8 *b = g_malloc (k->n + 1);

  b[0] = (k->flags & PY_NODE_TAGGED_STR) != 0;
  memcpy (b + 1, k->s, k->n);
  return g_bytes_new_take (b, (gsize) k->n + 1);
}

static void
dedupe_str_keys (PyTree *t, PyNode *node)
{
  g_autoptr (GHashTable) index = NULL;
  guint32 prev = 0; /* the value edge before the entry looked at */

  if (node->n < 4)
    return;
  for (guint32 e = node->c.first; e != 0; e = t->edges[t->edges[e].next].next)
    if (t->nodes[t->edges[e].node].kind != PY_NODE_STR)
      return;
  if (node->n > 32)
    index = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                   (GDestroyNotify) g_bytes_unref, NULL);
  for (guint32 e = node->c.first; e != 0;)
    {
      guint32 ve = t->edges[e].next, next = t->edges[ve].next;
      const PyNode *k = &t->nodes[t->edges[e].node];
      guint32 first_ve = 0;

      if (index != NULL)
        {
          GBytes *key = key_bytes (k);
          gpointer at;

          if (g_hash_table_lookup_extended (index, key, NULL, &at))
            {
              first_ve = GPOINTER_TO_UINT (at);
              g_bytes_unref (key);
            }
          else
            g_hash_table_insert (index, key, GUINT_TO_POINTER (ve));
        }
      else
        for (guint32 o = node->c.first; o != e && first_ve == 0;
             o = t->edges[t->edges[o].next].next)
          {
            const PyNode *ok = &t->nodes[t->edges[o].node];

            if (ok->n == k->n
                && (ok->flags & PY_NODE_TAGGED_STR)
                       == (k->flags & PY_NODE_TAGGED_STR)
                && memcmp (ok->s, k->s, k->n) == 0)
              first_ve = t->edges[o].next;
          }
      if (first_ve != 0)
        {
          /* the first entry takes this value; this one leaves the list */
          t->edges[first_ve].node = t->edges[ve].node;
          t->edges[prev].next = next;
          if (node->c.last == ve)
            node->c.last = prev;
          node->n -= 2;
        }
      else
        prev = ve;
      e = next;
    }
}

static gboolean
size_node (Writer *w, guint32 index, guint depth)
{
  PyTree *t = w->tree;
  PyNode *node = &t->nodes[index];
  guint outer_reach;

  if (node->state == 2)
    {
      /* An object met again (a pickle's memo shares it): here it may sit
       * deeper than where it was sized, and its members with it. */
      if (depth + w->height[index] > PY_TREE_MAX_DEPTH)
        {
          g_set_error (w->error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE,
                       "The %s's value nests deeper than GVariant's limit of "
                       "%d levels",
                       w->what, PY_TREE_MAX_DEPTH);
          return FALSE;
        }
      w->reach = MAX (w->reach, depth + w->height[index]);
      return TRUE;
    }
  if (node->state == 1)
    {
      g_set_error (w->error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE,
                   "The %s's value contains itself (a recursive %s): "
                   "GVariant has no references",
                   w->what, node->kind == PY_NODE_DICT ? "dict" : "container");
      return FALSE;
    }
  if (depth > PY_TREE_MAX_DEPTH)
    {
      g_set_error (w->error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE,
                   "The %s's value nests deeper than GVariant's limit of %d "
                   "levels",
                   w->what, PY_TREE_MAX_DEPTH);
      return FALSE;
    }
  node->state = 1;
  outer_reach = w->reach;
  w->reach = depth;

  switch (node->kind)
    {
    case PY_NODE_NONE: node->align = 7; break;
    case PY_NODE_BOOL:
      node->align = 0;
      node->fixed = node->size = 1;
      break;
    case PY_NODE_INT:
    case PY_NODE_FLOAT:
      node->align = 7;
      node->fixed = node->size = 8;
      break;
    case PY_NODE_BYTES: node->size = node->n; break;
    case PY_NODE_STR:
      if (!(node->flags & PY_NODE_TAGGED_STR))
        {
          node->size = node->n + 1;
          break;
        }
      G_GNUC_FALLTHROUGH;
    case PY_NODE_BIGINT:
    case PY_NODE_BYTEARRAY:
    case PY_NODE_SET:
    case PY_NODE_FROZENSET:
    tagged:
      {
        gsize content;

        if (!size_content (w, node, depth, &content))
          return FALSE;
        node->align = 7;
        /* {sv}: the tag, then a variant of content + 0 + its type */
        node->size
            = total_size (align_up (strlen (tag_of (node)) + 1, 7) + content
                              + 1 + strlen (content_type (node)),
                          1);
        if (too_big (w, node->size))
          return FALSE;
        break;
      }
    case PY_NODE_LIST:
      node->align = 7;
      if (!size_variant_array (w, node->c.first, node->n, depth, &node->size))
        return FALSE;
      break;
    case PY_NODE_DICT:
      {
        gsize body = 0;

        node->align = 7;
        dedupe_str_keys (t, node);
        for (guint32 e = node->c.first; e != 0;
             e = t->edges[t->edges[e].next].next)
          {
            guint32 k = t->edges[e].node, v = t->edges[t->edges[e].next].node;

            if (t->nodes[k].kind != PY_NODE_STR
                || (t->nodes[k].flags & PY_NODE_TAGGED_STR))
              {
                node->flags |= PY_NODE_TAGGED_DICT;
                goto tagged;
              }
            if (!size_node (w, v, depth + 3))
              return FALSE;
            body = align_up (body, 7)
                   + entry_size (w, t->nodes[k].n + 1, &t->nodes[v]);
            if (too_big (w, body))
              return FALSE;
          }
        node->size = total_size (body, node->n / 2);
        if (too_big (w, node->size))
          return FALSE;
        break;
      }
    case PY_NODE_TUPLE:
      {
        gsize body = 0, n_offsets = 0;
        gboolean fixed = TRUE;

        node->align = 0;
        for (guint32 e = node->c.first; e != 0; e = t->edges[e].next)
          {
            PyNode *m;

            if (!size_node (w, t->edges[e].node, depth + 1))
              return FALSE;
            m = &t->nodes[t->edges[e].node];
            node->align = MAX (node->align, m->align);
            body = align_up (body, m->align) + m->size;
            if (m->fixed == 0)
              {
                fixed = FALSE;
                if (t->edges[e].next != 0)
                  n_offsets++;
              }
            if (too_big (w, body))
              return FALSE;
          }
        if (node->n == 0)
          node->size = node->fixed = 1;
        else if (fixed)
          node->size = node->fixed = align_up (body, node->align);
        else
          node->size = total_size (body, n_offsets);
        if (too_big (w, node->size))
          return FALSE;
        break;
      }
    default:
      g_set_error (w->error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE,
                   "The %s holds an object that is not plain data", w->what);
      return FALSE;
    }
  node->state = 2;
  w->height[index] = (guint16) (w->reach - depth);
  w->reach = MAX (outer_reach, w->reach);
  return TRUE;
}

static guint8 *write_node (Writer *w, const PyNode *node, guint8 *out);

static guint8 *
write_variant (Writer *w, const PyNode *node, guint8 *out)
{
  out = write_node (w, node, out);
  *out++ = 0;
  return (guint8 *) write_type (w, node, (char *) out);
}

static guint8 *
pad (guint8 *start, guint8 *out, guint align_mask)
{
  gsize at = (gsize) (out - start);
  gsize to = align_up (at, align_mask);

  memset (out, 0, to - at);
  return start + to;
}

static guint8 *
write_variant_array (Writer *w, guint32 first, gsize n, gsize size,
                     guint8 *out)
{
  guint8 *start = out;
  guint width = offset_size_for (size);
  guint8 *table = start + size - n * width;

  for (guint32 e = first; e != 0; e = w->tree->edges[e].next)
    {
      out = pad (start, out, 7);
      out = write_variant (w, &w->tree->nodes[w->tree->edges[e].node], out);
      write_offset (table, (gsize) (out - start), width);
      table += width;
    }
  return start + size;
}

/* A {sv} or (vv) entry: @key text, or @key_node in a variant. */
static guint8 *
write_entry (Writer *w, const char *key, gsize key_len, const PyNode *key_node,
             const PyNode *value, guint8 *out)
{
  guint8 *start = out;
  gsize size;

  if (key_node != NULL)
    out = write_variant (w, key_node, out);
  else
    {
      memcpy (out, key, key_len);
      out += key_len;
      *out++ = 0;
    }
  size = total_size (
      align_up ((gsize) (out - start), 7) + variant_size (w, value), 1);
  write_offset (start + size - offset_size_for (size), (gsize) (out - start),
                offset_size_for (size));
  out = pad (start, out, 7);
  write_variant (w, value, out);
  return start + size;
}

static guint8 *
write_tagged (Writer *w, const PyNode *node, guint8 *out)
{
  PyTree *t = w->tree;
  const char *tag = tag_of (node);
  const char *ctype = content_type (node);
  guint8 *start = out;
  gsize tag_len = strlen (tag);
  guint width = offset_size_for (node->size);

  memcpy (out, tag, tag_len + 1);
  out += tag_len + 1;
  write_offset (start + node->size - width, tag_len + 1, width);
  out = pad (start, out, 7);

  switch (node->kind)
    {
    case PY_NODE_BIGINT:
      memcpy (out, node->s, node->n);
      out += node->n;
      *out++ = 0;
      break;
    case PY_NODE_STR:
    case PY_NODE_BYTEARRAY:
      memcpy (out, node->s, node->n);
      out += node->n;
      break;
    case PY_NODE_SET:
    case PY_NODE_FROZENSET:
      {
        gsize body;

        /* sized already: recompute the av's size from its members */
        body = 0;
        for (guint32 e = node->c.first; e != 0; e = t->edges[e].next)
          body = align_up (body, 7)
                 + variant_size (w, &t->nodes[t->edges[e].node]);
        out = write_variant_array (w, node->c.first, node->n,
                                   total_size (body, node->n), out);
        break;
      }
    case PY_NODE_DICT:
      {
        guint8 *array = out;
        gsize body = 0, size;
        guint aw;
        guint8 *table;

        for (guint32 e = node->c.first; e != 0;
             e = t->edges[t->edges[e].next].next)
          body
              = align_up (body, 7)
                + entry_size (w, variant_size (w, &t->nodes[t->edges[e].node]),
                              &t->nodes[t->edges[t->edges[e].next].node]);
        size = total_size (body, node->n / 2);
        aw = offset_size_for (size);
        table = array + size - (node->n / 2) * aw;
        for (guint32 e = node->c.first; e != 0;
             e = t->edges[t->edges[e].next].next)
          {
            out = pad (array, out, 7);
            out = write_entry (w, NULL, 0, &t->nodes[t->edges[e].node],
                               &t->nodes[t->edges[t->edges[e].next].node],
                               out);
            write_offset (table, (gsize) (out - array), aw);
            table += aw;
          }
        out = array + size;
        break;
      }
    default: g_assert_not_reached ();
    }
  *out++ = 0;
  memcpy (out, ctype, strlen (ctype));
  return start + node->size;
}

static guint8 *
write_node (Writer *w, const PyNode *node, guint8 *out)
{
  PyTree *t = w->tree;

  if (is_tagged (node))
    return write_tagged (w, node, out);

  switch (node->kind)
    {
    case PY_NODE_NONE: return out;
    case PY_NODE_BOOL: *out = node->b ? 1 : 0; return out + 1;
    case PY_NODE_INT:
      {
        gint64 le = GINT64_TO_LE (node->i);

        memcpy (out, &le, 8);
        return out + 8;
      }
    case PY_NODE_FLOAT:
      {
        guint64 bits;

        memcpy (&bits, &node->d, 8);
        bits = GUINT64_TO_LE (bits);
        memcpy (out, &bits, 8);
        return out + 8;
      }
    case PY_NODE_STR:
      memcpy (out, node->s, node->n);
      out[node->n] = 0;
      return out + node->n + 1;
    case PY_NODE_BYTES: memcpy (out, node->s, node->n); return out + node->n;
    case PY_NODE_LIST:
      return write_variant_array (w, node->c.first, node->n, node->size, out);
    case PY_NODE_DICT:
      {
        guint8 *start = out;
        guint width = offset_size_for (node->size);
        guint8 *table = start + node->size - (node->n / 2) * width;

        for (guint32 e = node->c.first; e != 0;
             e = t->edges[t->edges[e].next].next)
          {
            const PyNode *k = &t->nodes[t->edges[e].node];

            out = pad (start, out, 7);
            out = write_entry (w, (const char *) k->s, k->n, NULL,
                               &t->nodes[t->edges[t->edges[e].next].node],
                               out);
            write_offset (table, (gsize) (out - start), width);
            table += width;
          }
        return start + node->size;
      }
    case PY_NODE_TUPLE:
      {
        guint8 *start = out;
        guint width = offset_size_for (node->size);
        guint8 *table_end = start + node->size;

        if (node->n == 0)
          {
            *out = 0;
            return out + 1;
          }
        for (guint32 e = node->c.first; e != 0; e = t->edges[e].next)
          {
            const PyNode *m = &t->nodes[t->edges[e].node];

            out = pad (start, out, m->align);
            out = write_node (w, m, out);
            if (m->fixed == 0 && t->edges[e].next != 0)
              {
                table_end -= width;
                write_offset (table_end, (gsize) (out - start), width);
              }
          }
        if (node->fixed != 0)
          pad (start, out, node->align);
        return start + node->size;
      }
    default: g_assert_not_reached ();
    }
}

GVariant *
py_tree_to_variant (PyTree *tree, guint32 root, gsize max_size,
                    const char *what, GError **error)
{
  Writer w = { tree, max_size, what, error, NULL, 0 };
  guint16 height_buf[256];
  PyNode *node;
  gboolean ok;
  char type[PY_TREE_MAX_DEPTH * 4 + 8];
  char *heap_type = NULL;
  const char *type_str = type;
  gsize tlen;
  guint8 *data;
  GBytes *bytes;
  GVariant *value;

  w.height = tree->n_nodes <= G_N_ELEMENTS (height_buf)
                 ? height_buf
                 : g_new (guint16, tree->n_nodes);
  ok = size_node (&w, root, 0);
  if (w.height != height_buf)
    g_free (w.height);
  if (!ok)
    return NULL;
  node = &tree->nodes[root];
  tlen = type_len (&w, node);
  if (tlen >= sizeof type)
    type_str = heap_type = g_malloc (tlen + 1);
  *write_type (&w, node, (char *) type_str) = '\0';
  /* Tuples nest in the type itself, "((((...))))", and GLib refuses a
   * type nested deeper than its limit (G_VARIANT_TYPE would then return
   * NULL): a pickle of 128 nested 1-tuples got this far. */
  if (!g_variant_type_string_is_valid (type_str))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE,
                   "The %s's value nests deeper than GVariant's limit of %d "
                   "levels",
                   what, PY_TREE_MAX_DEPTH);
      g_free (heap_type);
      return NULL;
    }

  data = g_malloc0 (MAX (node->size, 1));
  write_node (&w, node, data);
  bytes = g_bytes_new_take (data, node->size);
  value = g_variant_ref_sink (
      g_variant_new_from_bytes (G_VARIANT_TYPE (type_str), bytes, TRUE));
  g_bytes_unref (bytes);
  g_free (heap_type);
  return value;
}

/* ---- serialized GVariant -> views ----------------------------------------
 */

static gboolean
damaged (GError **error, const char *what)
{
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "The value's serialized GVariant is damaged: %s", what);
  return FALSE;
}

/* One complete type at @t (at most @avail characters): its length,
 * alignment mask and fixed size (0 if variable). */
static gboolean
type_info (const char *t, gsize avail, gsize *out_len, guint *out_align,
           gsize *out_fixed)
{
  if (avail == 0)
    return FALSE;
  switch (t[0])
    {
    case 'b':
    case 'y': *out_len = 1, *out_align = 0, *out_fixed = 1; return TRUE;
    case 'n':
    case 'q': *out_len = 1, *out_align = 1, *out_fixed = 2; return TRUE;
    case 'i':
    case 'u':
    case 'h': *out_len = 1, *out_align = 3, *out_fixed = 4; return TRUE;
    case 'x':
    case 't':
    case 'd': *out_len = 1, *out_align = 7, *out_fixed = 8; return TRUE;
    case 's':
    case 'o':
    case 'g': *out_len = 1, *out_align = 0, *out_fixed = 0; return TRUE;
    case 'v': *out_len = 1, *out_align = 7, *out_fixed = 0; return TRUE;
    case 'm':
    case 'a':
      {
        gsize len, fixed;

        if (!type_info (t + 1, avail - 1, &len, out_align, &fixed))
          return FALSE;
        *out_len = len + 1;
        *out_fixed = 0;
        return TRUE;
      }
    case '(':
    case '{':
      {
        char close = t[0] == '(' ? ')' : '}';
        gsize pos = 1, offset = 0;
        guint align = 0;
        gboolean fixed = TRUE;

        while (pos < avail && t[pos] != close)
          {
            gsize len, mfixed;
            guint malign;

            if (!type_info (t + pos, avail - pos, &len, &malign, &mfixed))
              return FALSE;
            align = MAX (align, malign);
            offset = align_up (offset, malign) + mfixed;
            fixed = fixed && mfixed != 0;
            pos += len;
          }
        if (pos >= avail)
          return FALSE;
        *out_len = pos + 1;
        *out_align = align;
        if (pos == 1)
          *out_fixed = 1;
        else
          *out_fixed = fixed ? align_up (offset, align) : 0;
        return TRUE;
      }
    default: return FALSE;
    }
}

GVariant *
py_view_init (PyView *view, GVariant *value)
{
  /* a plain ref takes no lock; ref_sink does */
  GVariant *normal = g_variant_is_floating (value) ? g_variant_ref_sink (value)
                                                   : g_variant_ref (value);

  if (!g_variant_is_normal_form (normal))
    {
      GVariant *made = g_variant_get_normal_form (normal);

      g_variant_unref (normal);
      normal = made;
    }
  view->data = g_variant_get_data (normal);
  view->size = g_variant_get_size (normal);
  view->type = g_variant_get_type_string (normal);
  view->type_len = strlen (view->type);
  return normal;
}

gboolean
py_view_unwrap (const PyView *view, PyView *out, GError **error)
{
  gsize len, fixed;
  guint align;

  if (view->type[0] == 'v')
    {
      gsize z = view->size;

      while (z > 0 && view->data[z - 1] != 0)
        z--;
      if (z == 0)
        return damaged (error, "a variant without its type");
      out->data = view->data;
      out->size = z - 1;
      out->type = (const char *) view->data + z;
      out->type_len = view->size - z;
      if (!type_info (out->type, out->type_len, &len, &align, &fixed)
          || len != out->type_len)
        return damaged (error, "a variant's type is not one type");
      return TRUE;
    }
  /* a maybe with a value */
  out->type = view->type + 1;
  if (!type_info (out->type, view->type_len - 1, &out->type_len, &align,
                  &fixed))
    return damaged (error, "a bad type");
  out->data = view->data;
  out->size = fixed != 0 ? view->size : view->size - 1;
  if (view->size == 0 || (fixed != 0 && view->size != fixed))
    return damaged (error, "a maybe of the wrong size");
  return TRUE;
}

gboolean
py_view_iter_init (PyViewIter *iter, const PyView *view, GError **error)
{
  guint align;
  gsize len, fixed;

  memset (iter, 0, sizeof *iter);
  iter->parent = *view;
  iter->offset_size = offset_size_for (view->size);
  if (view->type[0] == 'a')
    {
      iter->is_array = TRUE;
      if (!type_info (view->type + 1, view->type_len - 1, &iter->elem_type_len,
                      &iter->elem_align, &iter->elem_fixed))
        return damaged (error, "a bad array type");
      iter->member_type = view->type + 1;
      if (iter->elem_fixed != 0)
        {
          if (view->size % iter->elem_fixed != 0)
            return damaged (error, "an array of a wrong size");
          iter->n = view->size / iter->elem_fixed;
          return TRUE;
        }
      if (view->size == 0)
        return TRUE;
      iter->table = read_offset (view->data + view->size - iter->offset_size,
                                 iter->offset_size);
      if (iter->table > view->size
          || (view->size - iter->table) % iter->offset_size != 0)
        return damaged (error, "an array's offsets");
      iter->n = (view->size - iter->table) / iter->offset_size;
      return TRUE;
    }
  /* a tuple or a dict entry: count the members needing an offset */
  iter->member_type = view->type + 1;
  for (gsize pos = 1; view->type[pos] != ')' && view->type[pos] != '}';)
    {
      if (!type_info (view->type + pos, view->type_len - pos, &len, &align,
                      &fixed))
        return damaged (error, "a bad tuple type");
      pos += len;
      iter->n++;
      if (fixed == 0 && view->type[pos] != ')' && view->type[pos] != '}')
        iter->tuple_ended++;
    }
  if (iter->tuple_ended * iter->offset_size > view->size)
    return damaged (error, "a tuple's offsets");
  iter->table = view->size - iter->tuple_ended * iter->offset_size;
  iter->tuple_ended = 0;
  return TRUE;
}

gboolean
py_view_iter_next (PyViewIter *iter, PyView *out, GError **error)
{
  const PyView *p = &iter->parent;
  gsize start, end;

  if (iter->index == iter->n)
    return FALSE;

  if (iter->is_array)
    {
      out->type = iter->member_type;
      out->type_len = iter->elem_type_len;
      if (iter->elem_fixed != 0)
        {
          out->data = p->data + iter->index * iter->elem_fixed;
          out->size = iter->elem_fixed;
          iter->index++;
          return TRUE;
        }
      start = align_up (iter->offset, iter->elem_align);
      end = read_offset (p->data + iter->table
                             + iter->index * iter->offset_size,
                         iter->offset_size);
    }
  else
    {
      gsize len, fixed;
      guint align;

      if (!type_info (iter->member_type,
                      p->type_len - (gsize) (iter->member_type - p->type),
                      &len, &align, &fixed))
        return damaged (error, "a bad tuple type");
      out->type = iter->member_type;
      out->type_len = len;
      iter->member_type += len;
      start = align_up (iter->offset, align);
      if (fixed != 0)
        end = start + fixed;
      else if (iter->index + 1 == iter->n)
        end = iter->table;
      else
        {
          iter->tuple_ended++;
          end = read_offset (p->data + p->size
                                 - iter->tuple_ended * iter->offset_size,
                             iter->offset_size);
        }
    }
  if (start > end || end > iter->table)
    return damaged (error, "a member outside its container");
  out->data = p->data + start;
  out->size = end - start;
  iter->offset = end;
  iter->index++;
  return TRUE;
}

gboolean
py_tag_check_content (const char *tag, const char *type, gsize type_len,
                      GError **error)
{
  /* a type string from a GVariant: one whole type starts there */
  const GVariantType *t = (const GVariantType *) type;
  const char *expected;
  gboolean ok;

  if (strcmp (tag, "int") == 0)
    {
      ok = type_len == 1 && type[0] == 's';
      expected = "its decimal text (s)";
    }
  else if (strcmp (tag, "str") == 0 || strcmp (tag, "bytearray") == 0)
    {
      ok = type_len == 2 && type[0] == 'a' && type[1] == 'y';
      expected = "bytes (ay)";
    }
  else if (strcmp (tag, "dict") == 0)
    {
      const GVariantType *pair
          = g_variant_type_is_array (t) ? g_variant_type_element (t) : NULL;

      ok = pair != NULL
           && (g_variant_type_is_dict_entry (pair)
               || (g_variant_type_is_tuple (pair)
                   && g_variant_type_n_items (pair) == 2));
      expected = "an array of pairs (a(vv))";
    }
  else
    {
      ok = g_variant_type_is_array (t);
      expected = "an array (av)";
    }
  if (!ok)
    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                 "A value tagged '%s' holds %s, not GVariant type '%.*s'", tag,
                 expected, (int) MIN (type_len, 40), type);
  return ok;
}

PyNodeKind
py_view_kind (PyView *view, PyView *out_content, GError **error)
{
  /* a variant or a maybe with a value is what it holds */
  while (view->type[0] == 'v' || (view->type[0] == 'm' && view->size > 0))
    {
      PyView inner;

      if (!py_view_unwrap (view, &inner, error))
        return PY_NODE_INVALID;
      *view = inner;
    }

  switch (view->type[0])
    {
    case 'b': return PY_NODE_BOOL;
    case 'y':
    case 'n':
    case 'q':
    case 'i':
    case 'u':
    case 'x':
    case 't':
    case 'h': return PY_NODE_INT;
    case 'd': return PY_NODE_FLOAT;
    case 's':
    case 'o':
    case 'g': return PY_NODE_STR;
    case 'm': return PY_NODE_NONE;
    case 'a':
      if (view->type[1] == 'y')
        return PY_NODE_BYTES;
      return view->type[1] == '{' ? PY_NODE_DICT : PY_NODE_LIST;
    case '(': return PY_NODE_TUPLE;
    case '{':
      {
        PyViewIter iter;
        PyView key, content;
        static const struct {
          const char *tag;
          PyNodeKind kind;
        } tags[] = {
          { "int", PY_NODE_BIGINT },          { "str", PY_NODE_STR },
          { "bytearray", PY_NODE_BYTEARRAY }, { "set", PY_NODE_SET },
          { "frozenset", PY_NODE_FROZENSET }, { "dict", PY_NODE_DICT },
        };

        if (view->type_len != 4 || memcmp (view->type, "{sv}", 4) != 0)
          break;
        if (!py_view_iter_init (&iter, view, error)
            || !py_view_iter_next (&iter, &key, error)
            || !py_view_iter_next (&iter, &content, error)
            || !py_view_unwrap (&content, out_content, error))
          return PY_NODE_INVALID;
        for (gsize i = 0; i < G_N_ELEMENTS (tags); i++)
          if (key.size == strlen (tags[i].tag) + 1
              && memcmp (key.data, tags[i].tag, key.size) == 0)
            return py_tag_check_content (tags[i].tag, out_content->type,
                                         out_content->type_len, error)
                       ? tags[i].kind
                       : PY_NODE_INVALID;
        g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                     "A {sv} entry tags a Python value as int, str, "
                     "bytearray, set, frozenset or dict, not '%.*s'",
                     (int) MIN (key.size, 41) - 1, key.data);
        return PY_NODE_INVALID;
      }
    default: break;
    }
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "GVariant type '%.*s' is not a Python value",
               (int) view->type_len, view->type);
  return PY_NODE_INVALID;
}

/* ---- big ints ------------------------------------------------------------
 */

/* Python refuses str() of an int over 4300 digits (CVE-2020-10735), and
 * so do we, both ways: the conversion is quadratic. */
#define PY_INT_MAX_DIGITS 4300

GByteArray *
py_int_from_decimal (const char *text, gsize len)
{
  gboolean negative = FALSE;
  gsize pos = 0, n_limbs = 1;
  guint32 *limbs;
  GByteArray *out;
  gsize nbytes, nbits;

  if (pos < len && (text[pos] == '-' || text[pos] == '+'))
    negative = text[pos++] == '-';
  if (pos == len || len - pos > PY_INT_MAX_DIGITS)
    return NULL;
  limbs = g_new0 (guint32, (len - pos) / 9 + 2);
  for (; pos < len; pos++)
    {
      guint64 carry;

      if (text[pos] < '0' || text[pos] > '9')
        {
          g_free (limbs);
          return NULL;
        }
      carry = (guint64) (text[pos] - '0');
      for (gsize i = 0; i < n_limbs; i++)
        {
          guint64 v = (guint64) limbs[i] * 10 + carry;

          limbs[i] = (guint32) v;
          carry = v >> 32;
        }
      if (carry != 0)
        limbs[n_limbs++] = (guint32) carry;
    }

  /* |value| bits, then Python's (nbits >> 3) + 1 bytes, two's complement */
  while (n_limbs > 1 && limbs[n_limbs - 1] == 0)
    n_limbs--;
  nbits = (n_limbs - 1) * 32
          + (limbs[n_limbs - 1] == 0 ? 0 : g_bit_storage (limbs[n_limbs - 1]));
  nbytes = (nbits >> 3) + 1;
  out = g_byte_array_sized_new ((guint) nbytes);
  g_byte_array_set_size (out, (guint) nbytes);
  for (gsize i = 0; i < nbytes; i++)
    out->data[i]
        = i / 4 < n_limbs ? (guint8) (limbs[i / 4] >> (8 * (i % 4))) : 0;
  g_free (limbs);
  if (negative)
    {
      guint carry = 1;

      for (gsize i = 0; i < nbytes; i++)
        {
          guint v = (guint) (guint8) ~out->data[i] + carry;

          out->data[i] = (guint8) v;
          carry = v >> 8;
        }
      if (nbytes > 1 && out->data[nbytes - 1] == 0xff
          && (out->data[nbytes - 2] & 0x80) != 0)
        g_byte_array_set_size (out, (guint) nbytes - 1);
    }
  return out;
}

char *
py_int_to_decimal (const guint8 *bytes, gsize n)
{
  gboolean negative = n > 0 && (bytes[n - 1] & 0x80) != 0;
  gsize n_limbs = n / 4 + 1;
  guint32 *limbs = g_new0 (guint32, n_limbs);
  GString *digits;
  guint carry = 1;
  char *out;

  for (gsize i = 0; i < n; i++)
    {
      guint b = bytes[i];

      if (negative)
        {
          b = (guint) (guint8) ~b + carry;
          carry = b >> 8;
          b &= 0xff;
        }
      limbs[i / 4] |= (guint32) b << (8 * (i % 4));
    }
  digits = g_string_sized_new (n * 3 + 2);
  do
    {
      guint64 rem = 0;

      for (gsize i = n_limbs; i-- > 0;)
        {
          guint64 v = (rem << 32) | limbs[i];

          limbs[i] = (guint32) (v / 1000000000u);
          rem = v % 1000000000u;
        }
      while (n_limbs > 0 && limbs[n_limbs - 1] == 0)
        n_limbs--;
      for (int d = 0; d < 9; d++)
        {
          g_string_append_c (digits, (char) ('0' + rem % 10));
          rem /= 10;
          if (n_limbs == 0 && rem == 0)
            break;
        }
    }
  while (n_limbs > 0);
  if (negative)
    g_string_append_c (digits, '-');
  g_strreverse (digits->str);
  g_free (limbs);
  out = g_string_free (digits, FALSE);
  return out;
}
