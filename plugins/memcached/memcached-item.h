/* memcached-item.h: a value's bytes and flags as memcached keeps them.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "memcached-config.h"

G_BEGIN_DECLS

/* Python clients' flag bits (pymemcache serde.py, python-memcached). */
#define MC_FLAG_PICKLE 1u
#define MC_FLAG_INTEGER 2u
#define MC_FLAG_LONG 4u
#define MC_FLAG_COMPRESSED 8u
/* What the lock item "1" is stored with: pylibmc writes an int as 4 (its
 * "long"), python-memcached, pymemcache and bmemcached as 2. */
#define MC_FLAG_INT_PYLIBMC 4u
#define MC_FLAG_INT_PYTHON 2u

/* Inflated values larger than this are refused (a corrupt or hostile item
 * must not make a reader allocate without bound). */
#define MC_MAX_INFLATED_SIZE (256u << 20)

typedef struct {
  const char *data;
  gsize len;
  guint32 flags;
  char *owned; /* the compressed copy, when there is one */
} McItem;

/* The bytes to store for @value: compressed when the client's rule says
 * so and zlib makes them smaller.  Clear with mc_item_clear. */
void mc_item_encode (const McConfig *config, GBytes *value, McItem *item);
void mc_item_clear (McItem *item);

/* A stored item as the value a get returns, taking @data (malloc()ed by
 * libmemcached): inflated when flag 8 says it is compressed.  The bytes
 * are what was stored, whatever the other flags say; a Python pickle
 * (flag 1) is not a record and reads as CantDeserialize in a region. */
GBytes *mc_item_decode (char *data, gsize len, guint32 flags, const char *key,
                        GError **error);

G_END_DECLS
