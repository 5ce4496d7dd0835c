/* dogpile-region-private.h: the region's insides, shared by the files
 * that implement it (dogpile-region.c: data API; dogpile-invalidation.c;
 * dogpile-get-or-create.c: the dogpile lock).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <math.h>
#include <stdatomic.h>

#include "dogpile-private.h"

G_BEGIN_DECLS

typedef struct {
  DogpileBackend *backend;  /* where operations go */
  DogpileBackend *actual;   /* the plugin instance itself */
  gboolean backend_mangles; /* actual has a mangle_key of its own */
  /* The hit path: the plugin's get_value when nothing stands in front of
   * a value-level plugin (dogpile__backend_get_direct), else NULL. */
  DogpileGetValueFunc direct_get_value;
  DogpileBackendImpl *direct_impl;
  double expiration_time;     /* DOGPILE_EXPIRATION_NONE: never by age */
  DogpileNameRegistry *locks; /* per-key mutexes for get_or_create */
} RegionConfig;

/* A payload codec: the region's serializer pair and their data. */
typedef struct {
  DogpileSerializeFunc serialize;
  DogpileDeserializeFunc deserialize;
  gpointer data;
} RegionCodec;

static const RegionCodec RAW_CODEC = { NULL, NULL, NULL };

struct DogpileRegion {
  gint ref_count;
  char *name;

  RegionConfig *config; /* atomic; NULL until configured */
  GMutex configure_lock;
  GSList *retired; /* RegionConfig*, replaced ones */

  DogpileKeyMangler mangler;
  gpointer mangler_data;
  GDestroyNotify mangler_destroy;

  RegionCodec codec;
  GDestroyNotify serializer_destroy;
  const char *serializer_name; /* static: "raw", "json", "pickle", "custom" */

  /* DefaultInvalidationStrategy: the time of the last invalidate() (0 =
   * never) and whether it was hard.  Like Python's, the two are not updated
   * as one: a reader racing invalidate() may pair the new time with the old
   * mode. */
  _Atomic double invalidated_at;
  atomic_int invalidated_hard;

  /* A custom RegionInvalidationStrategy, set before configure. */
  const DogpileInvalidationFuncs *invalidation;
  gpointer invalidation_data;
  GDestroyNotify invalidation_destroy;

  /* async_creation_runner, set before configure. */
  DogpileAsyncRunner async_runner;
  gpointer async_runner_data;
  GDestroyNotify async_runner_destroy;
};

static inline RegionConfig *
get_config (DogpileRegion *self)
{
  return g_atomic_pointer_get (&self->config);
}

gboolean dogpile__region_not_configured (GError **error);

/* The configuration, or NULL with DOGPILE_ERROR_REGION_NOT_CONFIGURED. */
static inline RegionConfig *
get_config_or_error (DogpileRegion *self, GError **error)
{
  RegionConfig *config = get_config (self);

  if (G_UNLIKELY (config == NULL))
    dogpile__region_not_configured (error);
  return config;
}

/* Every data call starts here. */
#define REGION_CONFIG_OR_FAIL(self, config, error)                            \
  G_STMT_START                                                                \
  {                                                                           \
    (config) = get_config (self);                                             \
    if (G_UNLIKELY ((config) == NULL))                                        \
      return dogpile__region_not_configured (error);                          \
  }                                                                           \
  G_STMT_END

/* The key the backend sees; *owned is set when a new string was made. */
static inline const char *
mangle_key (DogpileRegion *self, RegionConfig *config, const char *key,
            char **owned)
{
  if (self->mangler != NULL)
    return *owned = self->mangler (key, self->mangler_data);
  if (G_UNLIKELY (config->backend_mangles))
    {
      *owned = dogpile__backend_mangle_key (config->actual, key);
      return *owned != NULL ? *owned : key;
    }
  return key;
}

/* dogpile-invalidation.c */
gboolean dogpile__region_is_invalidated (DogpileRegion *self,
                                         double timestamp);
gboolean dogpile__region_is_hard_invalidated (DogpileRegion *self,
                                              double timestamp);
gboolean dogpile__region_is_soft_invalidated (DogpileRegion *self,
                                              double timestamp);
gboolean dogpile__region_was_soft_invalidated (DogpileRegion *self);

/* The default strategy inline, so get() pays for no call. */
static inline gboolean
is_invalidated (DogpileRegion *self, double cached_time)
{
  double at;

  if (G_UNLIKELY (self->invalidation != NULL))
    return dogpile__region_is_invalidated (self, cached_time);
  at = atomic_load_explicit (&self->invalidated_at, memory_order_acquire);
  return at != 0 && cached_time < at;
}

/* get()'s filter: expired by age (strictly greater, as in Python) or
 * invalidated (soft or hard) values are misses.  @now is sampled once per
 * call, after the fetch, as Python does. */
static inline gboolean
is_fresh (DogpileRegion *self, RegionConfig *config,
          const DogpileMetadata *metadata, double expiration_time,
          DogpileClockSample *now)
{
  double exp
      = isnan (expiration_time) ? config->expiration_time : expiration_time;

  /* get() knows no "no value" rule: with no expiration time, a stored
   * creation time <= 0 is only very old. */
  if (exp != DOGPILE_EXPIRATION_NONE
      && dogpile__value_is_expired (now, metadata->cached_time, exp))
    return FALSE;
  return !is_invalidated (self, metadata->cached_time);
}

/* The payload codec; a CantDeserialize failure is a miss. */
gboolean dogpile__region_deserialize (const RegionCodec *codec,
                                      GBytes **payload, GError **error);
GBytes *dogpile__region_serialize (const RegionCodec *codec, GBytes *payload,
                                   GError **error);

/* What the byte calls do with a codec given: the region's for the
 * public calls; RAW_CODEC (no transformation) for the GVariant calls,
 * which encode and decode the stored payload themselves. */
gboolean dogpile__region_fetch (DogpileRegion *self, const RegionCodec *codec,
                                const char *key, double expiration_time,
                                DogpileGetFlags flags, GBytes **out_payload,
                                DogpileMetadata *out_metadata, GError **error);
gboolean dogpile__region_store (DogpileRegion *self, const RegionCodec *codec,
                                const char *key, GBytes *value,
                                GError **error);
gboolean dogpile__region_get_or_create_with (
    DogpileRegion *self, const RegionCodec *codec, const char *key,
    DogpileCreatorFunc creator, gpointer user_data,
    GDestroyNotify user_data_destroy, double expiration_time,
    DogpileShouldCacheFunc should_cache, gpointer should_cache_data,
    GBytes **out_value, GError **error);
gboolean dogpile__region_key_error (GError **error, const char *key);

/* What the region reads a value with: the plugin itself when it can. */
static inline gboolean
region_get_value (RegionConfig *config, const char *backend_key,
                  GBytes **out_payload, DogpileMetadata *out_metadata,
                  GError **error)
{
  if (G_LIKELY (config->direct_get_value != NULL))
    {
      *out_payload = NULL;
      return G_LIKELY (config->direct_get_value (config->direct_impl,
                                                 backend_key, out_payload,
                                                 out_metadata, error))
             || dogpile__backend_failed (config->backend, "get_value", error);
    }
  return dogpile__backend_get_value (config->backend, backend_key, out_payload,
                                     out_metadata, error);
}

const char *const *
dogpile__region_mangle_keys (DogpileRegion *self, RegionConfig *config,
                             const char *const *keys, gsize n_keys,
                             const char ***out_array, GPtrArray **owned);

/* dogpile-region.c: configure with proxies (outermost first) in front. */
typedef struct {
  const DogpileProxyDesc *desc;
  GHashTable *arguments;
} DogpileRegionWrap;

gboolean
dogpile__region_configure_chain (DogpileRegion *self, const char *backend,
                                 double expiration_time, GHashTable *arguments,
                                 const DogpileRegionWrap *wraps, gsize n_wraps,
                                 DogpileConfigureFlags flags, GError **error);

G_END_DECLS
