/* dogpile-mangler.h: the key manglers dogpile.cache ships.
 *
 * SPDX-License-Identifier: MIT
 */
/**
 * SECTION:dogpile-mangler
 * @title: Key manglers
 * @short_description: sha1_mangle_key and length_conditional_mangler
 * @include: dogpile/dogpile.h
 *
 * The key manglers dogpile.cache ships in dogpile.util, as
 * #DogpileKeyMangler functions for dogpile_region_set_key_mangler():
 * dogpile_sha1_mangle_key() turns any key into 40 hex digits, which suits
 * memcached's key rules; a #DogpileLengthConditionalMangler applies
 * another mangler only to keys of at least a given length.  Both give the
 * keys Python's give.
 *
 * |[<!-- language="C" -->
 * dogpile_region_set_key_mangler (
 *     region, dogpile_length_conditional_mangle,
 *     dogpile_length_conditional_mangler_new (200, dogpile_sha1_mangle_key,
 *                                             NULL, NULL),
 *     (GDestroyNotify) dogpile_length_conditional_mangler_free);
 * ]|
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-region.h"

G_BEGIN_DECLS

DOGPILE_API char *dogpile_sha1_mangle_key (const char *key,
                                           gpointer user_data);

/**
 * DogpileLengthConditionalMangler:
 *
 * The state of dogpile.cache's length_conditional_mangler: a threshold
 * and the mangler applied to keys that reach it.  Opaque; the user data
 * of dogpile_length_conditional_mangle().
 */
typedef struct DogpileLengthConditionalMangler DogpileLengthConditionalMangler;

DOGPILE_API DogpileLengthConditionalMangler *
dogpile_length_conditional_mangler_new (guint length,
                                        DogpileKeyMangler mangler,
                                        gpointer user_data,
                                        GDestroyNotify destroy);
DOGPILE_API void dogpile_length_conditional_mangler_free (
    DogpileLengthConditionalMangler *self);
DOGPILE_API char *dogpile_length_conditional_mangle (const char *key,
                                                     gpointer user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpileLengthConditionalMangler,
                               dogpile_length_conditional_mangler_free)

G_END_DECLS
