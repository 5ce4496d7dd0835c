/* dogpile-value.h: cached values, their metadata and the stored record.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"

G_BEGIN_DECLS

/* The value format version dogpile.cache writes ("v": 2).  A stored value
 * with any other version is a miss for get_or_create. */
#define DOGPILE_VALUE_VERSION 2

/* What dogpile.cache keeps beside each payload.  Its size is fixed: new
 * members take the reserved room, so arrays of it and code compiled against
 * an older header keep working.  Whoever allocates one zero-fills it (the
 * core always does before a plugin writes it; dogpile_metadata_init does),
 * and a reserved member reads as zero from a writer that predates it. */
typedef struct {
  double cached_time; /* "ct": wall-clock seconds when the value was made */
  gint version;       /* "v": DOGPILE_VALUE_VERSION for current writers */
  /*< private >*/
  guint32 reserved_flags;
  gpointer reserved[2];
} DogpileMetadata;

DOGPILE_API void dogpile_metadata_init (DogpileMetadata *metadata,
                                        double cached_time);

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
