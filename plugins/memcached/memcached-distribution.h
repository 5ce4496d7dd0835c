/* memcached-distribution.h: which server a key goes to, as the Python
 * client named by the backend would pick it.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile-plugin.h>
#include <libmemcached/memcached.h>

G_BEGIN_DECLS

typedef enum {
  MC_CLIENT_PYLIBMC,    /* dogpile.cache.pylibmc */
  MC_CLIENT_MEMCACHED,  /* dogpile.cache.memcached (python-memcached) */
  MC_CLIENT_BMEMCACHED, /* dogpile.cache.bmemcached */
  MC_CLIENT_PYMEMCACHE, /* dogpile.cache.pymemcache */
} McClientKind;

typedef struct McDistribution McDistribution;

/* The scheme of @kind over @servers (McServer *, borrowed: they must
 * outlive it).  pylibmc's is libmemcached's own, from its behaviors; the
 * others are installed as a libmemcached hash function with modula
 * distribution, so one memcached_mget still reaches every server. */
McDistribution *mc_distribution_new (McClientKind kind, GPtrArray *servers);
void mc_distribution_free (McDistribution *self);

/* Makes @memc (before it is cloned) send keys where the scheme says. */
gboolean mc_distribution_install (McDistribution *self, memcached_st *memc,
                                  GError **error);

/* bmemcached writes to every server and reads them in order: its calls
 * name the server with a group key, which is the server's index. */
#define MC_GROUP_KEY_MAX 12
gsize mc_distribution_group_key (guint index, char buffer[MC_GROUP_KEY_MAX]);

/* The index python-memcached / pymemcache gives @key among @n_servers. */
guint32 mc_python_memcached_hash (const char *key, gsize len);
guint mc_pymemcache_node (const McDistribution *self, const char *key,
                          gsize len);
guint32 mc_murmur3_32 (const guint8 *data, gsize len, guint32 seed);

G_END_DECLS
