/* memcached-config.h: a backend's arguments, read and checked once.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile-plugin.h>

#include "memcached-distribution.h"

G_BEGIN_DECLS

typedef enum {
  MC_MANGLE_NONE,          /* refuse keys memcached would refuse */
  MC_MANGLE_SHA1,          /* every key becomes its sha1 (Python's advice) */
  MC_MANGLE_SHA1_IF_NEEDED /* only keys memcached would refuse */
} McKeyMangling;

/* seconds; lock_blocking_timeout defaults to twice lock_timeout, at
 * least twice this */
#define MC_DEFAULT_LOCK_TIMEOUT 30.0

typedef struct {
  McClientKind kind;
  const char *backend_name; /* the registry name, static */
  GPtrArray *servers;       /* McServer * */
  GArray *behaviors;        /* McBehavior, in the order they are set */
  gboolean binary;

  /* libmemcached's timeouts, in its units; -1 leaves its default */
  gint64 connect_timeout_ms;
  gint64 poll_timeout_ms;
  gint64 retry_timeout_s;
  gint64 failure_limit;
  gint64 dead_timeout_s;
  /* the deadline of each call, seconds; < 0: not given (then the connect
   * timeout + 2 x the poll timeout, mc_client_new) */
  double call_timeout;

  gboolean has_expire_time; /* memcached_expire_time given */
  gint64 expire_time;
  gsize min_compress_len; /* 0: never compress (bmemcached: 128, always) */

  gboolean distributed_lock;
  gint64 lock_timeout;          /* the lock item's exptime, seconds; 0 never */
  double lock_blocking_timeout; /* seconds a waiter tries; < 0: no limit */
  double lock_sleep_max;        /* the longest back-off between tries */

  char *username;
  char *password;
  McKeyMangling mangling;

  guint pool_size;
  double pool_timeout;

  /* The region pickles its values (serializer = pickle): store them as
   * Python's clients do for a stock region, a pickled CachedValue. */
  gboolean stock_pickle;
} McConfig;

McConfig *mc_config_new (McClientKind kind, const char *backend_name,
                         GHashTable *arguments, GError **error);
void mc_config_free (McConfig *self);

/* The flags the named Python client writes a bytes value with. */
guint32 mc_config_value_flags (const McConfig *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McConfig, mc_config_free)

/* memcached-arguments.c: the table every name declares. */
extern const DogpileArgumentSpec mc_arguments[];

G_END_DECLS
