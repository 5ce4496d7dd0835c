/* dogpile-region.h: a cache region, dogpile.cache's CacheRegion: its
 * configuration and data calls.  get_or_create and the dogpile lock are in
 * dogpile-get-or-create.h, invalidation in dogpile-invalidation.h.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include <math.h>

#include "dogpile-arguments.h"
#include "dogpile-backend.h"
#include "dogpile-macros.h"
#include "dogpile-value.h"

G_BEGIN_DECLS

/* Expiration times are seconds as a double.  DEFAULT, in a per-call
 * override, means "the region's"; NONE (-1) means the value never expires
 * by age, in get() as well as get_or_create() (dogpile.cache's get() treats
 * -1 as always expired: see docs/differences.md).  0 means always expired. */
#define DOGPILE_EXPIRATION_DEFAULT (NAN)
#define DOGPILE_EXPIRATION_NONE (-1.0)

typedef enum {
  DOGPILE_CONFIGURE_NONE = 0,
  DOGPILE_CONFIGURE_REPLACE_EXISTING = 1 << 0, /* replace_existing_backend */
  DOGPILE_CONFIGURE_STRICT_ARGUMENTS = 1 << 1, /* strict_arguments (C only) */
} DogpileConfigureFlags;

typedef enum {
  DOGPILE_GET_NONE = 0,
  DOGPILE_GET_IGNORE_EXPIRATION = 1 << 0, /* ignore_expiration=True */
} DogpileGetFlags;

typedef struct DogpileRegion DogpileRegion;
typedef struct DogpileProxyDesc DogpileProxyDesc; /* dogpile-plugin.h */

/* Returns a new key (transfer full) for @key; must be a pure function. */
typedef char *(*DogpileKeyMangler) (const char *key, gpointer user_data);

/* Payload <-> stored payload.  A deserializer that fails with
 * DOGPILE_ERROR_CANT_DESERIALIZE turns the value into a miss. */
typedef GBytes *(*DogpileSerializeFunc) (GBytes *payload, gpointer user_data,
                                         GError **error);
typedef GBytes *(*DogpileDeserializeFunc) (GBytes *stored, gpointer user_data,
                                           GError **error);

DOGPILE_API DogpileRegion *dogpile_region_new (const char *name);
DOGPILE_API DogpileRegion *dogpile_region_ref (DogpileRegion *self);
DOGPILE_API void dogpile_region_unref (DogpileRegion *self);
DOGPILE_API const char *dogpile_region_get_name (DogpileRegion *self);

DOGPILE_API void dogpile_region_set_key_mangler (DogpileRegion *self,
                                                 DogpileKeyMangler mangler,
                                                 gpointer user_data,
                                                 GDestroyNotify destroy);
DOGPILE_API void
dogpile_region_set_serializer (DogpileRegion *self,
                               DogpileSerializeFunc serialize,
                               DogpileDeserializeFunc deserialize,
                               gpointer user_data, GDestroyNotify destroy);

DOGPILE_API gboolean dogpile_region_configure (
    DogpileRegion *self, const char *backend, double expiration_time,
    GHashTable *arguments, DogpileConfigureFlags flags, GError **error);
DOGPILE_API gboolean dogpile_region_wrap (DogpileRegion *self,
                                          const char *proxy,
                                          GHashTable *arguments,
                                          GError **error);
/* Wraps a region's backend in a proxy given by descriptor (compiled into
 * the program); dogpile_region_wrap() takes a registry name. */
DOGPILE_API gboolean dogpile_region_wrap_desc (DogpileRegion *self,
                                               const DogpileProxyDesc *desc,
                                               GHashTable *arguments,
                                               GError **error);
DOGPILE_API gboolean dogpile_region_is_configured (DogpileRegion *self);
DOGPILE_API double dogpile_region_get_expiration_time (DogpileRegion *self);
DOGPILE_API DogpileBackend *dogpile_region_get_backend (DogpileRegion *self,
                                                        GError **error);
DOGPILE_API DogpileBackend *
dogpile_region_get_actual_backend (DogpileRegion *self, GError **error);
/* The actual backend's counters (evictions, window): see
 * dogpile_backend_get_counters(). */
DOGPILE_API gboolean dogpile_region_get_backend_counters (
    DogpileRegion *self, DogpileBackendCounters *out_counters, GError **error);

DOGPILE_API gboolean dogpile_region_get (DogpileRegion *self, const char *key,
                                         GBytes **out_value, GError **error);
DOGPILE_API gboolean dogpile_region_get_full (
    DogpileRegion *self, const char *key, double expiration_time,
    DogpileGetFlags flags, GBytes **out_value, GError **error);
DOGPILE_API gboolean dogpile_region_get_value_metadata (
    DogpileRegion *self, const char *key, double expiration_time,
    DogpileGetFlags flags, DogpileCachedValue **out_value, GError **error);
DOGPILE_API gboolean dogpile_region_get_multi (DogpileRegion *self,
                                               const char *const *keys,
                                               gsize n_keys,
                                               GBytes **out_values,
                                               GError **error);
DOGPILE_API gboolean dogpile_region_get_multi_full (
    DogpileRegion *self, const char *const *keys, gsize n_keys,
    double expiration_time, DogpileGetFlags flags, GBytes **out_values,
    GError **error);
DOGPILE_API gboolean dogpile_region_set (DogpileRegion *self, const char *key,
                                         GBytes *value, GError **error);
DOGPILE_API gboolean dogpile_region_set_multi (DogpileRegion *self,
                                               const char *const *keys,
                                               GBytes *const *values,
                                               gsize n_keys, GError **error);
DOGPILE_API gboolean dogpile_region_delete (DogpileRegion *self,
                                            const char *key, GError **error);
DOGPILE_API gboolean dogpile_region_delete_multi (DogpileRegion *self,
                                                  const char *const *keys,
                                                  gsize n_keys,
                                                  GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpileRegion, dogpile_region_unref)

G_END_DECLS
