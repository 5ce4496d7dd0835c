/* dogpile-python-tree.h: Python values between a codec and GVariant.
 *
 * A decoder (pickle, JSON) builds a PyTree: nodes in one array, container
 * members as edges, so a container filled after other objects (pickle's
 * APPEND to a memoized list) costs no allocation, and one object may sit
 * in several containers (the memo) without being copied.  The tree is
 * then written as one serialized GVariant in a single buffer: GLib's
 * builder costs about 2 us a member, ten times Python's pickle.loads.
 *
 * An encoder reads a GVariant's serialized data straight (PyView), for
 * the same reason: g_variant_get_child_value allocates per member.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "dogpile-private.h"

G_BEGIN_DECLS

/* GVariant framing: offsets as wide as their container needs. */

static inline gsize
align_up (gsize offset, guint align_mask)
{
  return (offset + align_mask) & ~(gsize) align_mask;
}

static inline guint
offset_size_for (gsize container_size)
{
  if (container_size > G_MAXUINT32)
    return 8;
  if (container_size > G_MAXUINT16)
    return 4;
  if (container_size > G_MAXUINT8)
    return 2;
  return container_size > 0 ? 1 : 0;
}

static inline gsize
total_size (gsize body, gsize n_offsets)
{
  if (body + n_offsets <= G_MAXUINT8)
    return body + n_offsets;
  if (body + 2 * n_offsets <= G_MAXUINT16)
    return body + 2 * n_offsets;
  if (body + 4 * n_offsets <= G_MAXUINT32)
    return body + 4 * n_offsets;
  return body + 8 * n_offsets;
}

static inline void
write_offset (guint8 *out, gsize value, guint width)
{
  for (guint i = 0; i < width; i++)
    out[i] = (guint8) (value >> (8 * i));
}

/* @n bytes, little-endian: GVariant's ints and pickle's lengths. */
static inline guint64
read_le (const guint8 *p, guint n)
{
  guint64 v = 0;

  for (guint i = 0; i < n; i++)
    v |= (guint64) p[i] << (8 * i);
  return v;
}

static inline gsize
read_offset (const guint8 *in, guint width)
{
  gsize value = 0;

  for (guint i = 0; i < width; i++)
    value |= (gsize) in[i] << (8 * i);
  return value;
}

typedef enum {
  PY_NODE_NONE,
  PY_NODE_BOOL,
  PY_NODE_INT,    /* fits in gint64: @i */
  PY_NODE_BIGINT, /* @s: little-endian two's complement, @n bytes */
  PY_NODE_FLOAT,
  PY_NODE_STR,   /* @s: UTF-8 (surrogatepass with PY_NODE_TAGGED_STR) */
  PY_NODE_BYTES, /* @s */
  PY_NODE_BYTEARRAY,
  PY_NODE_LIST,
  PY_NODE_TUPLE,
  PY_NODE_DICT, /* members alternate key, value */
  PY_NODE_SET,
  PY_NODE_FROZENSET,
  /* Pickle only: what a REDUCE or NEWOBJ may apply (never in a result). */
  PY_NODE_GLOBAL,
  /* dogpile.cache.api.CachedValue: members payload, metadata. */
  PY_NODE_CACHED_VALUE,
  PY_NODE_INVALID,
} PyNodeKind;

/* A str GVariant's `s` cannot hold, so tagged: one with a lone surrogate
 * (Python writes it with surrogatepass: not UTF-8) or a NUL (which ends
 * an `s`). */
#define PY_NODE_TAGGED_STR 0x1
/* A dict with a key that is not a str (the writer's finding). */
#define PY_NODE_TAGGED_DICT 0x2

typedef struct {
  guint8 kind;
  guint8 flags;
  guint8 state; /* writer: 0 new, 1 sizing (a cycle if seen), 2 sized */
  guint8 align; /* writer: GVariant alignment - 1 */
  guint32 n;    /* members, or bytes of @s */
  union {
    gboolean b;
    gint64 i;
    double d;
    const guint8 *s;
    struct {
      guint32 first, last; /* edges; 0 = none (edge 0 is unused) */
    } c;
  };
  gsize size;  /* writer: serialized size */
  gsize fixed; /* writer: fixed size, 0 for a variable-size type */
} PyNode;

typedef struct {
  guint32 node;
  guint32 next;
} PyEdge;

typedef struct {
  PyNode *nodes;
  gsize n_nodes, nodes_alloc;
  PyEdge *edges;
  gsize n_edges, edges_alloc;
  GSList *chunks; /* bytes the tree owns (unescaped text, big ints) */
  PyNode node_buf[32];
  PyEdge edge_buf[64];
} PyTree;

void py_tree_init (PyTree *tree);
void py_tree_clear (PyTree *tree);
/* Doubles an array that starts in @inline_buf. */
gpointer py_tree_grow (gpointer array, gpointer inline_buf, gsize *alloc,
                       gsize elem_size);

/* Inline: a decoder calls these once an object, and a call costs as much
 * as the work. */

/* Returns the new node's index; its members are zeroed. */
static inline guint32
py_tree_add (PyTree *tree, PyNodeKind kind)
{
  PyNode *node;

  if (tree->n_nodes == tree->nodes_alloc)
    tree->nodes = py_tree_grow (tree->nodes, tree->node_buf,
                                &tree->nodes_alloc, sizeof (PyNode));
  node = &tree->nodes[tree->n_nodes];
  memset (node, 0, sizeof *node);
  node->kind = kind;
  return (guint32) tree->n_nodes++;
}

static inline void
py_tree_append (PyTree *tree, guint32 container, guint32 member)
{
  PyNode *c;
  guint32 e;

  if (tree->n_edges == tree->edges_alloc)
    tree->edges = py_tree_grow (tree->edges, tree->edge_buf,
                                &tree->edges_alloc, sizeof (PyEdge));
  e = (guint32) tree->n_edges++;
  tree->edges[e].node = member;
  tree->edges[e].next = 0;
  c = &tree->nodes[container];
  if (c->c.last != 0)
    tree->edges[c->c.last].next = e;
  else
    c->c.first = e;
  c->c.last = e;
  c->n++;
}
/* @len bytes owned by the tree, valid until py_tree_clear. */
guint8 *py_tree_alloc (PyTree *tree, gsize len);

static inline PyNode *
py_tree_node (PyTree *tree, guint32 index)
{
  return &tree->nodes[index];
}

/* The deepest GVariant nesting a tree may make: GLib's own limit for
 * data it has not made itself (G_VARIANT_MAX_RECURSION_DEPTH). */
#define PY_TREE_MAX_DEPTH 128

/* Writes the tree at @root as a GVariant (not floating).  A cycle, more
 * nesting than PY_TREE_MAX_DEPTH or a result over @max_size bytes (shared
 * members are copied, so a small pickle can describe a huge value) fail
 * with DOGPILE_ERROR_CANT_DESERIALIZE; @what names the input ("pickle"). */
GVariant *py_tree_to_variant (PyTree *tree, guint32 root, gsize max_size,
                              const char *what, GError **error);

/* A serialized GVariant value: its bytes and its type string (not
 * NUL-terminated at @type_len). */
typedef struct {
  const guint8 *data;
  gsize size;
  const char *type;
  gsize type_len;
} PyView;

/* @value in normal form (made so when it is not), and a view of it. */
GVariant *py_view_init (PyView *view, GVariant *value);

/* What a view holds, as Python sees it (PY_NODE_INVALID with @error if
 * nothing).  A variant or a maybe with a value is replaced in @view by
 * what it holds; for a tagged value (a {sv} entry: big int, bytearray,
 * set, ...) @out_content views the tagged data. */
PyNodeKind py_view_kind (PyView *view, PyView *out_content, GError **error);

/* Whether a value tagged @tag ("int", "str", ...) may hold content of
 * type @type, as dogpile_py_tagged_new() documents; else FALSE with a
 * DOGPILE_ERROR_VALIDATION naming both (@type_len bytes of @type). */
gboolean py_tag_check_content (const char *tag, const char *type,
                               gsize type_len, GError **error);

/* Members of an array, a tuple or a dict entry, in order. */
typedef struct {
  PyView parent;
  const char *member_type; /* next member's type (tuple) */
  gsize offset;            /* where the next member may start */
  gsize index, n;
  guint offset_size;
  gsize table;       /* array: the framing offsets' start */
  gsize tuple_ended; /* tuple: framing offsets read from the end */
  gsize elem_type_len, elem_fixed;
  guint elem_align;
  gboolean is_array;
} PyViewIter;

/* FALSE (with an error) when @view is damaged. */
gboolean py_view_iter_init (PyViewIter *iter, const PyView *view,
                            GError **error);
/* FALSE at the end, or with @error set on damage. */
gboolean py_view_iter_next (PyViewIter *iter, PyView *out_member,
                            GError **error);
/* The value inside a variant or a non-empty maybe. */
gboolean py_view_unwrap (const PyView *view, PyView *out_inner,
                         GError **error);

/* A big int (or any int) given as decimal text: little-endian two's
 * complement bytes, minimal (Python's LONG1 form).  FALSE if not an int. */
GByteArray *py_int_from_decimal (const char *text, gsize len);
/* The decimal text of little-endian two's complement @bytes. */
char *py_int_to_decimal (const guint8 *bytes, gsize n);

/* UTF-8 as Python's "surrogatepass" reads it: 0 if invalid, 1 if plain
 * UTF-8 that a GVariant `s` holds, 2 if it holds a surrogate or a NUL
 * (a tagged str). */
int py_check_utf8 (const guint8 *s, gsize n);

/* dogpile-pickle.c: any pickle, through a PyTree. */
GVariant *py_pickle_load_general (const guint8 *data, gsize len,
                                  gsize max_size, GError **error);

/* dogpile-pickle-direct.c: the usual pickle of a dict or a list read
 * straight to its GVariant (not floating) in @out.  FALSE, with nothing
 * in @out, for anything else: the general loader reads it then, with
 * the same @max_size. */
gboolean py_pickle_load_direct (const guint8 *data, gsize len, gsize max_size,
                                GVariant **out);

G_END_DECLS
