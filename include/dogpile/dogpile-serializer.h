/* dogpile-serializer.h: a region's payload serializer by name, and its
 * values as GVariants.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-serializer
 * @title: Serializers and GVariant values
 * @short_description: a region's serializer by name, and its values as
 *   #GVariant
 * @include: dogpile/dogpile.h
 *
 * dogpile.cache regions pickle their values by default; a C region
 * stores the payload bytes as they are (raw) unless told otherwise, with
 * dogpile_region_set_serializer_name() (or `serializer = ...` in a
 * region's configuration):
 *
 * - raw: the bytes as given (the default).
 * - json: JSON text, checked on write; what a Python region with
 *   serializer=lambda v: json.dumps(v).encode() and
 *   deserializer=json.loads reads and writes.
 * - pickle: Python's pickle, protocol 4: what a stock Python region (no
 *   serializer given) reads and writes.
 *
 * The byte calls (dogpile_region_get(), dogpile_region_set(),
 * dogpile_region_get_or_create() and the others) keep taking bytes: with
 * pickle they are a Python bytes object, and a stored value that is not
 * one is an error naming its type.  The #GVariant calls of this section
 * take any value as the Python values section
 * (`dogpile/dogpile-python-value.h`) maps Python's, so a C program never
 * touches pickle or JSON text:
 *
 * |[<!-- language="C" -->
 * g_autoptr (GVariant) user = NULL;
 *
 * dogpile_region_set_serializer_name (region, "pickle", NULL);
 * if (!dogpile_region_configure (region, "dogpile.cache.redis", 3600,
 *                                arguments, DOGPILE_CONFIGURE_NONE, &error)
 *     || !dogpile_region_set_variant (region, "user:42",
 *                                     g_variant_new_int64 (42), &error)
 *     || !dogpile_region_get_variant (region, "user:42", &user, &error))
 *   ...
 * ]|
 *
 * Under the GVariant calls the region runs its byte machinery (the dogpile
 * lock included) on the encoded payload: a dict is pickled once, not
 * wrapped as a pickled bytes object.
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
 * @key: the caller's key, before mangling; borrowed for the call
 * @user_data: (closure): what the caller passed
 * @error: return location for a #GError
 *
 * Makes the value for @key, for dogpile_region_get_or_create_variant():
 * dogpile.cache's `creator`, returning any value the region's serializer
 * can hold.  A %NULL return without @error set is reported as
 * %DOGPILE_ERROR_CREATOR.
 *
 * Thread safety: called in the thread that called
 * dogpile_region_get_or_create_variant(), never from an async runner;
 * once at a time for one key of a region, unless the backend's mutex is a
 * null one.
 *
 * Returns: (transfer full): the value: a floating reference, as
 *   g_variant_new_int64() and the other constructors return it, or a full
 *   one (g_variant_parse(), a g_variant_ref() of a kept value), which the
 *   caller takes over with g_variant_take_ref(); or %NULL with @error set
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
