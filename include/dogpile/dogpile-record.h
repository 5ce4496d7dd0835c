/* dogpile-record.h: the stored form of a value, byte for byte what
 * dogpile.cache writes.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-record
 * @title: Records
 * @short_description: the bytes a byte-storing backend keeps for a value
 * @include: dogpile/dogpile.h
 *
 * dogpile.cache's byte-storing backends (those with a serializer: redis,
 * valkey, dbm, memory_pickle) keep a value as its metadata in JSON, a '|'
 * and the payload:
 *
 * |[
 *   {"ct": 1795607767.758692, "v": 2}|<payload>
 * ]|
 *
 * Python writes the metadata with json.dumps() (", " and ": " as
 * separators, "ct" as the shortest repr that round-trips) and reads it
 * back with json.loads() after splitting on the first '|'.
 * dogpile_record_encode() writes the same bytes, so C and Python
 * processes share one store; dogpile_record_decode() reads any JSON
 * object a compatible writer produced.
 *
 * libdogpile encodes and decodes the records of a plugin that
 * implements only the byte operations (get and set); a plugin that works
 * at the value level (get_value and set_value) and stores records can
 * call these, and so can a program reading a backend's raw bytes
 * (dogpile_backend_get()).
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-value.h"

G_BEGIN_DECLS

DOGPILE_API GBytes *dogpile_record_encode (GBytes *payload,
                                           const DogpileMetadata *metadata);
DOGPILE_API gboolean dogpile_record_decode (GBytes *record,
                                            GBytes **out_payload,
                                            DogpileMetadata *out_metadata,
                                            GError **error);

G_END_DECLS
