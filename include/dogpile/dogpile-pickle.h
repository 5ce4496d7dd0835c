/* dogpile-pickle.h: Python's pickle, for plain data.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-pickle
 * @title: Pickle
 * @short_description: Python's pickle.loads() and pickle.dumps() for plain
 *   data
 * @include: dogpile/dogpile.h
 *
 * A pickle codec for the values a stock dogpile.cache region stores: it
 * reads what CPython's pickle writes for plain data in protocols 0 to 5,
 * and writes protocol 4, byte for byte what Python 3.8 to 3.13 write by
 * default (pickle.DEFAULT_PROTOCOL), for a value in which no object is
 * shared.  The values are #GVariant, mapped to Python's types as the
 * Python values section (`dogpile/dogpile-python-value.h`) describes.
 * Protocol 0, what python-memcached and bmemcached write, is in
 * `dogpile/dogpile-pickle-text.h`.
 *
 * Loading runs no code.  The only globals it accepts are the few that
 * protocols 0 to 3 need to spell plain data (_codecs.encode, bytes,
 * bytearray, set, frozenset, tuple and copy_reg._reconstructor, each
 * applied only in the shapes Python's writers produce) and
 * dogpile.cache's CachedValue.  Anything else, another global or an
 * opcode such as BUILD, INST or PERSID, is %DOGPILE_ERROR_CANT_DESERIALIZE
 * naming the opcode or the global and the byte it is at.  Lengths are
 * checked against the input, memo indexes are bounded by its length, and
 * nesting (128 levels) and the size of the result (the larger of 64 MiB
 * and 16 times the input) are bounded.
 *
 * Python memoizes by identity, which a #GVariant has not: where Python
 * writes one object twice as a memo reference (an interned key in two
 * dicts), libdogpile writes a copy.  Both read back equal.
 *
 * The usual calls are dogpile_pickle_loads() and dogpile_pickle_dumps();
 * dogpile_pickle_loads_cached_value() and
 * dogpile_pickle_dumps_cached_value() read and write the pickled
 * dogpile.cache.api.CachedValue that Python's memcached clients store for
 * a stock region.  A region uses them itself with `serializer = pickle`
 * (dogpile_region_set_serializer_name()).
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

DOGPILE_API gboolean dogpile_pickle_loads_cached_value (
    const guint8 *data, gsize len, GVariant **out_payload,
    DogpileMetadata *out_metadata, GError **error);
DOGPILE_API GBytes *dogpile_pickle_dumps_cached_value (
    GVariant *payload, const DogpileMetadata *metadata, GError **error);

G_END_DECLS
