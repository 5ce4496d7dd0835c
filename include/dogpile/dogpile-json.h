/* dogpile-json.h: JSON text as Python's json module reads and writes it.
 *
 * The values are GVariants as <dogpile/dogpile-python-value.h> maps
 * Python's: dogpile_json_loads is json.loads (objects are dicts, arrays
 * lists, numbers ints of any size or floats, NaN and Infinity accepted,
 * the last of two equal keys wins) and dogpile_json_dumps is json.dumps
 * with its defaults (", " and ": ", ASCII with \uXXXX escapes, float
 * repr, tuples written as lists, int, float, bool and None keys written
 * as their text).
 *
 * With %DOGPILE_JSON_TAGGED, what JSON has no form for is written as a
 * one-member object naming the type, and read back as that type (the
 * JSON dogpile-cache prints and reads for a pickled value):
 *
 *   {"$bytes": "<base64>"}  {"$bytearray": "<base64>"}
 *   {"$tuple": [...]}  {"$set": [...]}  {"$frozenset": [...]}
 *   {"$dict": [[key, value], ...]}   a dict with a key that is not a str,
 *                                    or a dict whose one key is a tag
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

/**
 * DogpileJsonFlags:
 * @DOGPILE_JSON_NONE: Python's json module's own forms only
 * @DOGPILE_JSON_TAGGED: bytes, bytearray, tuples, sets and dicts with
 *   keys that are not strs as the tagged objects above
 *
 * How dogpile_json_loads() and dogpile_json_dumps() treat the values
 * plain JSON cannot hold.
 */
typedef enum {
  DOGPILE_JSON_NONE = 0,
  DOGPILE_JSON_TAGGED = 1 << 0,
} DogpileJsonFlags;

DOGPILE_API GVariant *dogpile_json_loads (const char *text, gsize len,
                                          DogpileJsonFlags flags,
                                          GError **error);
DOGPILE_API char *dogpile_json_dumps (GVariant *value, DogpileJsonFlags flags,
                                      gsize *out_len, GError **error);
DOGPILE_API gboolean dogpile_json_validate (const char *text, gsize len,
                                            GError **error);

G_END_DECLS
