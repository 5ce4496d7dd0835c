/* dogpile-json.h: JSON text as Python's json module reads and writes it.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-json
 * @title: JSON
 * @short_description: Python's json.loads() and json.dumps()
 * @include: dogpile/dogpile.h
 *
 * JSON text as Python's json module reads and writes it, for the values
 * a region with `serializer = json` stores.  The values are #GVariant,
 * mapped to Python's types as the Python values section
 * (`dogpile/dogpile-python-value.h`) describes.
 *
 * dogpile_json_loads() is json.loads(): objects are dicts, arrays lists,
 * numbers ints of any size or floats; NaN, Infinity and -Infinity are
 * accepted; a string may hold no control character; the last of two
 * equal keys wins, in the first one's place.  dogpile_json_dumps() is
 * json.dumps() with its defaults: ", " and ": " as separators, ASCII with
 * `\uXXXX` escapes, floats as their repr, tuples written as lists, and
 * int, float, bool and None keys written as their text.  Errors carry
 * Python's message and position, such as "Expecting ':' delimiter: line 2
 * column 6 (char 14)".  dogpile_json_validate() only checks the text.
 *
 * With %DOGPILE_JSON_TAGGED, what JSON has no form for is written as a
 * one-member object naming the type, and read back as that type (the
 * JSON dogpile-cache prints and reads for a pickled value):
 *
 * |[
 *   {"$bytes": "<base64>"}  {"$bytearray": "<base64>"}
 *   {"$tuple": [...]}  {"$set": [...]}  {"$frozenset": [...]}
 *   {"$dict": [[key, value], ...]}   a dict with a key that is not a str,
 *                                    or a dict whose one key is a tag
 * ]|
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
 *   keys that are not strs as the tagged objects of the section's
 *   description
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
