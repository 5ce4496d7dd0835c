/* memcached-pool.h: a bounded pool of libmemcached handles.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile-plugin.h>
#include <libmemcached/memcached.h>

G_BEGIN_DECLS

typedef struct McPool McPool;

typedef struct {
  memcached_st *memc;     /* a clone of the pool's master */
  memcached_st *buffered; /* the same with buffered writes, for set_multi
                           * and delete_multi; made on first use */
  guint generation;       /* the fork generation it was made in */
} McHandle;

/* Clones of @master (borrowed; it must outlive the pool), at most @size
 * at once; an acquire waits up to @timeout seconds for one. */
McPool *mc_pool_new (memcached_st *master, guint size, double timeout);
void mc_pool_free (McPool *self);

McHandle *mc_pool_acquire (McPool *self, GError **error);
void mc_pool_release (McPool *self, McHandle *handle);

/* @handle's buffered twin; NULL with @error when it cannot be made. */
memcached_st *mc_handle_get_buffered (McPool *self, McHandle *handle,
                                      GError **error);

G_END_DECLS
