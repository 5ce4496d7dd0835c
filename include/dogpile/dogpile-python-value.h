/* dogpile-python-value.h: Python's plain data as GVariant.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-python-value
 * @title: Python values
 * @short_description: Python's plain data as #GVariant
 * @include: dogpile/dogpile.h
 *
 * The values a pickle or JSON payload holds, as a C program reads and
 * writes them (docs/python-interop.md has the table).  The codecs
 * (dogpile_pickle_loads(), dogpile_json_loads(), ...) produce these
 * types, and the region's value calls (dogpile_region_get_variant(),
 * dogpile_region_set_variant(), ...) take and return them:
 *
 * |[
 *   None            mv (nothing)
 *   bool            b
 *   int             x; beyond 64 bits {"int": <s decimal>}
 *   float           d
 *   str             s; with a lone surrogate or a NUL {"str": <ay>}
 *                   (the UTF-8 as surrogatepass writes it)
 *   bytes           ay
 *   bytearray       {"bytearray": <ay>}
 *   list            av
 *   tuple           a tuple of its members' own types: (sx), ()
 *   dict            a{sv} when every key is a str, else {"dict": <a(vv)>}
 *   set, frozenset  {"set": <av>}, {"frozenset": <av>}
 * ]|
 *
 * The `{"tag": <content>}` forms are standalone {sv} dict entries, a
 * #GVariant type nothing else produces.  dogpile_py_tagged_new() and
 * dogpile_py_int_new_from_string() build them, dogpile_py_none_new()
 * builds None, and dogpile_py_value_classify() names the Python type of
 * any value.
 * Writing, every #GVariant type is accepted: y n q i u x t h are ints, o
 * and g are strs, any array but ay is a list and any a{..} a dict, a
 * maybe is None or its content, and a variant is what it holds.
 *
 * g_variant_new_bytestring() keeps the NUL after its text in the ay, so
 * Python would read the bytes with a NUL at the end: build bytes with
 * g_variant_new_fixed_array() or g_variant_new_from_bytes().
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"

G_BEGIN_DECLS

/**
 * DogpilePyType:
 * @DOGPILE_PY_NONE: None: a maybe with nothing in it
 * @DOGPILE_PY_BOOL: bool: b
 * @DOGPILE_PY_INT: int: any integer type (y n q i u x t h), or the tagged
 *   form `{"int": <s>}` holding decimal text
 * @DOGPILE_PY_FLOAT: float: d
 * @DOGPILE_PY_STR: str: s, o or g, or the tagged form `{"str": <ay>}`
 *   holding UTF-8 that may encode surrogates or a NUL
 * @DOGPILE_PY_BYTES: bytes: ay
 * @DOGPILE_PY_BYTEARRAY: bytearray: the tagged form `{"bytearray": <ay>}`
 * @DOGPILE_PY_LIST: list: any array that is neither ay nor a{..}
 * @DOGPILE_PY_TUPLE: tuple: any tuple type, () included
 * @DOGPILE_PY_DICT: dict: any a{..}, or the tagged form `{"dict": <a(vv)>}`
 *   for keys that are not all strs
 * @DOGPILE_PY_SET: set: the tagged form `{"set": <av>}`
 * @DOGPILE_PY_FROZENSET: frozenset: the tagged form `{"frozenset": <av>}`
 *
 * The Python type a #GVariant stands for, as dogpile_py_value_classify()
 * names it.  The tagged forms are made with dogpile_py_tagged_new().
 */
typedef enum {
  DOGPILE_PY_NONE,
  DOGPILE_PY_BOOL,
  DOGPILE_PY_INT,
  DOGPILE_PY_FLOAT,
  DOGPILE_PY_STR,
  DOGPILE_PY_BYTES,
  DOGPILE_PY_BYTEARRAY,
  DOGPILE_PY_LIST,
  DOGPILE_PY_TUPLE,
  DOGPILE_PY_DICT,
  DOGPILE_PY_SET,
  DOGPILE_PY_FROZENSET,
} DogpilePyType;

DOGPILE_API gboolean dogpile_py_value_classify (GVariant *value,
                                                DogpilePyType *out_type,
                                                GVariant **out_content,
                                                GError **error);
DOGPILE_API GVariant *dogpile_py_none_new (void);
DOGPILE_API GVariant *dogpile_py_tagged_new (DogpilePyType type,
                                             GVariant *content);
DOGPILE_API GVariant *dogpile_py_int_new_from_string (const char *decimal,
                                                      GError **error);
DOGPILE_API char *dogpile_py_int_to_string (GVariant *value, GError **error);

G_END_DECLS
