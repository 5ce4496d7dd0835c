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
  char *owned;   /* the compressed copy, when there is one */
  GBytes *value; /* the CachedValue pickle, when there is one */
} McItem;

/* The bytes to store for the record @value: with config->stock_pickle a
 * pickled CachedValue (flag 1), else the record itself (the client's
 * flags for bytes); compressed when the client's rule says so and zlib
 * makes them smaller.  FALSE with a CantDeserialize (naming @key) when a
 * stock_pickle record's payload is not a pickle.  Clear with
 * mc_item_clear, whatever it returned. */
gboolean mc_item_encode (const McConfig *config, const char *key,
                         GBytes *value, McItem *item, GError **error);
void mc_item_clear (McItem *item);

/* A stored item as the record a get returns, taking @data (malloc()ed by
 * libmemcached): inflated when flag 8 says it is compressed, and a Python
 * client's pickled CachedValue (flag 1) turned into the record of its
 * payload, pickled, and metadata; other bytes are returned as stored. */
GBytes *mc_item_decode (char *data, gsize len, guint32 flags, const char *key,
                        GError **error);

G_END_DECLS
