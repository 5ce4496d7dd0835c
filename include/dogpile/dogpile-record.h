/* dogpile-record.h: the stored form of a value, byte for byte what
 * dogpile.cache writes.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-value.h"

G_BEGIN_DECLS

/* The bytes byte-storing backends keep: {"ct": <float>, "v": 2}|<payload>,
 * exactly as dogpile.cache writes them (spec 4.1). */
DOGPILE_API GBytes *dogpile_record_encode (GBytes *payload,
                                           const DogpileMetadata *metadata);
DOGPILE_API gboolean dogpile_record_decode (GBytes *record,
                                            GBytes **out_payload,
                                            DogpileMetadata *out_metadata,
                                            GError **error);

G_END_DECLS
