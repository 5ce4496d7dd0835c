/* dogpile-mangler.h: the key manglers dogpile.cache ships.
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

/* sha1_mangle_key: the 40 lowercase hex digits of SHA-1 of the key's
 * UTF-8 bytes.  A DogpileKeyMangler; @user_data is ignored. */
DOGPILE_API char *dogpile_sha1_mangle_key (const char *key,
                                           gpointer user_data);

/* length_conditional_mangler: applies @mangler only to keys of at least
 * @length characters (code points, as Python's len()). */
typedef struct DogpileLengthConditionalMangler DogpileLengthConditionalMangler;

DOGPILE_API DogpileLengthConditionalMangler *
dogpile_length_conditional_mangler_new (guint length,
                                        DogpileKeyMangler mangler,
                                        gpointer user_data,
                                        GDestroyNotify destroy);
DOGPILE_API void dogpile_length_conditional_mangler_free (
    DogpileLengthConditionalMangler *self);
/* The DogpileKeyMangler to install, with the object above as user data. */
DOGPILE_API char *dogpile_length_conditional_mangle (const char *key,
                                                     gpointer user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpileLengthConditionalMangler,
                               dogpile_length_conditional_mangler_free)

G_END_DECLS
