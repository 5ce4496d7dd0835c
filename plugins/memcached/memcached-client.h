/* memcached-client.h: one backend's servers, handles and messages.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "memcached-config.h"
#include "memcached-item.h"
#include "memcached-pool.h"

G_BEGIN_DECLS

typedef struct {
  gint refcount;
  McConfig *config;
  McDistribution *distribution;
  memcached_st *master; /* configured, never used for I/O: cloned */
  McPool *pool;
  /* what libmemcached waits at most, each time: its connect and poll
   * timeouts (socket_timeout, the behaviors or its defaults), ms */
  gint64 connect_ms, poll_ms;
  double call_timeout; /* the deadline of each call, seconds */
} McClient;

McClient *mc_client_new (McClientKind kind, const char *backend_name,
                         GHashTable *arguments, GError **error);
McClient *mc_client_ref (McClient *self);
void mc_client_unref (McClient *self);

/* Sets @error for a call that failed with @rc: DOGPILE_ERROR_BACKEND
 * naming the server (the one @key, or @server_index when >= 0, goes to),
 * the operation and libmemcached's reason; for a timeout, which one: the
 * call's deadline (call_timeout) when it had passed, else libmemcached's
 * connect or poll timeout.  Returns FALSE. */
gboolean mc_client_fail (McClient *self, memcached_st *memc,
                         memcached_return_t rc, const char *operation,
                         const char *key, gsize key_len, int server_index,
                         GError **error);

/* @key's item, from the server it goes to or, when the client
 * replicates (bmemcached), from the first server that has it.
 * MEMCACHED_SUCCESS with *out_data (malloc()ed; NULL for an empty value),
 * MEMCACHED_NOTFOUND for a miss (a replica that failed while another
 * answered is a miss), else the first failure and *out_failed_server
 * (-1: the key's own server). */
memcached_return_t mc_client_read (McClient *self, memcached_st *memc,
                                   const char *key, gsize key_len,
                                   char **out_data, size_t *out_len,
                                   uint32_t *out_flags,
                                   int *out_failed_server);

typedef enum { MC_WRITE_SET, MC_WRITE_DELETE } McWriteKind;

/* Sets @item (or deletes) @key on its server, or on every server when
 * replicating (success when any took it).  A delete of nothing and a
 * buffered write are successes.  Else the first failure and
 * *out_failed_server, as above. */
memcached_return_t mc_client_write (McClient *self, memcached_st *memc,
                                    McWriteKind kind, const char *key,
                                    gsize key_len, const McItem *item,
                                    int *out_failed_server);

/* Whether @rc is a connection the server had closed (EPIPE, ECONNRESET,
 * or EOF where a reply was expected): a server restarted since the
 * handle's previous call.  libmemcached has closed the socket and, for
 * TCP, not marked the server down, so the call is made again, once, on a
 * new connection (what pylibmc leaves to its caller).  A refused or
 * timed-out connection and a timeout are not retried, nor is anything
 * once the call's deadline has passed. */
gboolean mc_client_dropped (memcached_st *memc, memcached_return_t rc);

/* Whether memcached would take @key: 1 to 250 bytes, none of them a
 * space, a control character or DEL (the text protocol's rule, which
 * every Python client applies in both protocols). */
gboolean mc_key_is_valid (const char *key, gsize len);

/* FALSE with a DOGPILE_ERROR_VALIDATION naming @key and the mangler to
 * use, unless mc_key_is_valid. */
gboolean mc_key_check (const char *key, gsize len, GError **error);

/* The key mangler of the key_mangler argument; NULL: the key as it is. */
char *mc_client_mangle_key (McClient *self, const char *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McClient, mc_client_unref)

G_END_DECLS
