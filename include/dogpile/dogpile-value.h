/* dogpile-value.h: cached values and their metadata.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-value
 * @title: Cached values
 * @short_description: a payload with its metadata, dogpile.cache's
 *   CachedValue
 * @include: dogpile/dogpile.h
 *
 * dogpile.cache keeps beside each payload a small metadata dict: when the
 * value was created ("ct", wall-clock seconds since the epoch) and the
 * value format's version ("v", %DOGPILE_VALUE_VERSION).  #DogpileMetadata
 * is that dict as a C struct; byte-storing backends keep it as the JSON
 * text in front of the payload (see the Records section,
 * dogpile_record_encode()).
 *
 * A #DogpileCachedValue is dogpile.cache's CachedValue: an immutable,
 * reference-counted payload with its metadata.
 * dogpile_region_get_value_metadata() returns one, like
 * CacheRegion.get_value_metadata().  A value is expired once its age
 * (dogpile_cached_value_get_age()) exceeds the expiration time.
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"

G_BEGIN_DECLS

/**
 * DOGPILE_VALUE_VERSION:
 *
 * The value format version dogpile.cache writes ("v": 2).  A stored value
 * with any other version is a miss for get_or_create; dogpile_region_get()
 * does not check it, as in dogpile.cache.
 */
#define DOGPILE_VALUE_VERSION 2

/**
 * DogpileMetadata:
 * @cached_time: "ct": the wall-clock time the value was made, in seconds
 *   since the epoch
 * @version: "v": %DOGPILE_VALUE_VERSION for current writers; 0 when a
 *   stored record has no integer "v"
 *
 * What dogpile.cache keeps beside each payload.  Its size is fixed: new
 * members take the reserved room, so arrays of it and code compiled
 * against an older header keep working.  Whoever allocates one zero-fills
 * it (the core always does before a plugin writes it;
 * dogpile_metadata_init() does), and a reserved member reads as zero from
 * a writer that predates it.
 */
typedef struct {
  double cached_time;
  gint version;
  /*< private >*/
  guint32 reserved_flags;
  gpointer reserved[2];
} DogpileMetadata;

DOGPILE_API void dogpile_metadata_init (DogpileMetadata *metadata,
                                        double cached_time);

/**
 * DogpileCachedValue:
 *
 * An immutable payload with its #DogpileMetadata: dogpile.cache's
 * CachedValue.  It is reference-counted; dogpile_cached_value_ref() and
 * dogpile_cached_value_unref() may be called from any thread.
 */
typedef struct DogpileCachedValue DogpileCachedValue;

DOGPILE_API DogpileCachedValue *
dogpile_cached_value_new (GBytes *payload, const DogpileMetadata *metadata);
DOGPILE_API DogpileCachedValue *
dogpile_cached_value_ref (DogpileCachedValue *self);
DOGPILE_API void dogpile_cached_value_unref (DogpileCachedValue *self);
DOGPILE_API GBytes *
dogpile_cached_value_get_payload (const DogpileCachedValue *self);
DOGPILE_API const DogpileMetadata *
dogpile_cached_value_get_metadata (const DogpileCachedValue *self);
DOGPILE_API double
dogpile_cached_value_get_cached_time (const DogpileCachedValue *self);
DOGPILE_API gint
dogpile_cached_value_get_version (const DogpileCachedValue *self);
DOGPILE_API double
dogpile_cached_value_get_age (const DogpileCachedValue *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpileCachedValue, dogpile_cached_value_unref)

G_END_DECLS
