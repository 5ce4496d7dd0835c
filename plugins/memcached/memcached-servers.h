/* memcached-servers.h: the servers of a pool, as `url` names them.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile-plugin.h>

G_BEGIN_DECLS

typedef struct {
  char *host;      /* a host name or address (IPv6 without brackets); NULL
                    * for a unix socket */
  guint16 port;    /* 0 for a unix socket */
  char *path;      /* the socket's path; NULL for TCP */
  char *display;   /* "host:port", "[v6]:port" or the path: for messages */
  char *node_name; /* pymemcache's name of the node, which its rendezvous
                    * hash mixes into every key: "host:port" (no brackets)
                    * or the path */
} McServer;

/* Parses every item of the `url` argument (a string or a list, spec 3.5)
 * into @out_servers (McServer *, freed with the array).  Fails with
 * DOGPILE_ERROR_VALIDATION naming the item. */
gboolean mc_servers_parse (const char *const *items, GPtrArray **out_servers,
                           GError **error);

/* One item: "host:port", "host" (port 11211), "[v6]:port", "[v6]",
 * "/path", "unix:/path", "inet:host:port", "inet6:[v6]:port". */
McServer *mc_server_parse (const char *item, GError **error);
void mc_server_free (McServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McServer, mc_server_free)

G_END_DECLS
