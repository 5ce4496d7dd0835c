/* memcached-pool.h: a bounded pool of libmemcached handles.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile-plugin.h>
#include <libmemcached/memcached.h>

#include "memcached-deadline.h"

G_BEGIN_DECLS

typedef struct McPool McPool;

typedef struct {
  memcached_st *memc;     /* a clone of the pool's master */
  memcached_st *buffered; /* the same with buffered writes, for set_multi
                           * and delete_multi; made on first use */
  guint generation;       /* the fork generation it was made in */
  McWatch watch;          /* the call's deadline, while acquired */
  gboolean timed_out;     /* the call met a timeout (mc_handle_note) */
} McHandle;

/* Clones of @master (borrowed; it must outlive the pool), at most @size
 * at once; an acquire waits up to @timeout seconds for one.  Each call,
 * from acquire to release, must end within @call_timeout seconds
 * (memcached-deadline.c): past it, its handle's waits fail at once. */
McPool *mc_pool_new (memcached_st *master, guint size, double timeout,
                     double call_timeout);
void mc_pool_free (McPool *self);

/* A handle, its call's deadline armed. */
McHandle *mc_pool_acquire (McPool *self, GError **error);
/* Disarms the deadline and gives the handle back.  After a timeout (the
 * deadline passed, or mc_handle_note saw one) every connection of the
 * handle a reply may still arrive on, or a request be half sent on, is
 * closed first, so that no later call reads what was meant for this
 * one. */
void mc_pool_release (McPool *self, McHandle *handle);

/* The pool's handle @memc is (or is the buffered twin of). */
static inline McHandle *
mc_handle_of (memcached_st *memc)
{
  return memcached_get_user_data (memc);
}

/* Whether the call running on @memc is past its deadline. */
static inline gboolean
mc_handle_expired (memcached_st *memc)
{
  McHandle *handle = mc_handle_of (memc);

  return handle != NULL && mc_watch_fired (&handle->watch);
}

/* Notes what a libmemcached call on @memc returned: a timeout makes the
 * release check the handle's connections. */
static inline void
mc_handle_note (memcached_st *memc, memcached_return_t rc)
{
  McHandle *handle;

  if (G_LIKELY (rc != MEMCACHED_TIMEOUT))
    return;
  handle = mc_handle_of (memc);
  if (handle != NULL)
    handle->timed_out = TRUE;
}

/* @handle's buffered twin; NULL with @error when it cannot be made. */
memcached_st *mc_handle_get_buffered (McPool *self, McHandle *handle,
                                      GError **error);

G_END_DECLS
