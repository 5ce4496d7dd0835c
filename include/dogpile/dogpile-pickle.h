/* dogpile-pickle.h: Python's pickle, for plain data.
 *
 * Reads what CPython's pickle writes for plain data in protocols 0 to 5,
 * and writes protocol 4, byte for byte what Python 3.8 to 3.13 write by
 * default (pickle.DEFAULT_PROTOCOL); <dogpile/dogpile-pickle-text.h>
 * writes protocol 0.  Values are GVariants as
 * <dogpile/dogpile-python-value.h> maps them.  Loading runs no code:
 * the only globals it accepts are the few that protocols 0 to 3 need to
 * spell plain data (bytes, bytearray, set, frozenset) and dogpile.cache's
 * CachedValue; anything else is %DOGPILE_ERROR_CANT_DESERIALIZE naming
 * the opcode or the global.
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

DOGPILE_API GVariant *dogpile_pickle_loads (GBytes *pickle, GError **error);
DOGPILE_API GVariant *dogpile_pickle_loads_data (const guint8 *data, gsize len,
                                                 GError **error);
DOGPILE_API GBytes *dogpile_pickle_dumps (GVariant *value, GError **error);

/* dogpile.cache.api.CachedValue(payload, metadata), as Python's memcached
 * clients pickle a stock region's values. */
DOGPILE_API gboolean dogpile_pickle_loads_cached_value (
    const guint8 *data, gsize len, GVariant **out_payload,
    DogpileMetadata *out_metadata, GError **error);
DOGPILE_API GBytes *dogpile_pickle_dumps_cached_value (
    GVariant *payload, const DogpileMetadata *metadata, GError **error);

G_END_DECLS
