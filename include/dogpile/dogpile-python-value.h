/* dogpile-python-value.h: Python's plain data as GVariant.
 *
 * The values a pickle or JSON payload holds, as a C program reads and
 * writes them (docs/python-interop.md has the table):
 *
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
 *
 * The {"...": <...>} forms are standalone {sv} dict entries, a GVariant
 * type nothing else produces.  Writing, every GVariant type is accepted:
 * y n q i u x t h are ints, o and g are strs, any array but ay is a list
 * and any a{..} a dict, a maybe is None or its content.
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
