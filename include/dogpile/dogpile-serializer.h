/* dogpile-serializer.h: a region's payload serializer by name, and its
 * values as GVariants.
 *
 * dogpile.cache regions pickle their values by default; a C region
 * stores the payload bytes as they are (raw) unless told otherwise:
 *
 *   raw     the bytes as given (the default)
 *   json    JSON text, checked on write; what a Python region with
 *           serializer=lambda v: json.dumps(v).encode() and
 *           deserializer=json.loads reads and writes
 *   pickle  Python's pickle, protocol 4: what a stock Python region (no
 *           serializer given) reads and writes
 *
 * The byte calls (dogpile_region_get(), _set(), _get_or_create()) keep
 * taking bytes: with pickle they are a Python bytes object, and a stored
 * value that is not one is an error naming its type.  The GVariant calls
 * below take any value as <dogpile/dogpile-python-value.h> maps Python's,
 * so a C program never touches pickle or JSON text.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-region.h"

G_BEGIN_DECLS

DOGPILE_API gboolean dogpile_region_set_serializer_name (DogpileRegion *self,
                                                         const char *name,
                                                         GError **error);
DOGPILE_API const char *
dogpile_region_get_serializer_name (DogpileRegion *self);

/**
 * DogpileVariantCreatorFunc:
 * @key: the caller's key
 * @user_data: what the caller passed
 * @error: return location for a #GError
 *
 * Makes the value for @key, for dogpile_region_get_or_create_variant().
 *
 * Returns: (transfer full): the value (a floating reference is sunk), or
 *   %NULL with @error set
 */
typedef GVariant *(*DogpileVariantCreatorFunc) (const char *key,
                                                gpointer user_data,
                                                GError **error);

DOGPILE_API gboolean dogpile_region_get_variant (DogpileRegion *self,
                                                 const char *key,
                                                 GVariant **out_value,
                                                 GError **error);
DOGPILE_API gboolean dogpile_region_get_variant_full (
    DogpileRegion *self, const char *key, double expiration_time,
    DogpileGetFlags flags, GVariant **out_value, DogpileMetadata *out_metadata,
    GError **error);
DOGPILE_API gboolean dogpile_region_set_variant (DogpileRegion *self,
                                                 const char *key,
                                                 GVariant *value,
                                                 GError **error);
DOGPILE_API gboolean dogpile_region_get_or_create_variant (
    DogpileRegion *self, const char *key, DogpileVariantCreatorFunc creator,
    gpointer user_data, double expiration_time, GVariant **out_value,
    GError **error);

DOGPILE_API GBytes *dogpile_region_encode_variant (DogpileRegion *self,
                                                   GVariant *value,
                                                   GError **error);
DOGPILE_API GVariant *dogpile_region_decode_variant (DogpileRegion *self,
                                                     GBytes *stored,
                                                     GError **error);

G_END_DECLS
