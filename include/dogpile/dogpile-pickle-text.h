/* dogpile-pickle-text.h: pickle protocol 0, the text protocol.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-pickle-text
 * @title: Pickle protocol 0
 * @short_description: pickle.dumps(value, 0), as python-memcached and
 *   bmemcached write it
 * @include: dogpile/dogpile.h
 *
 * Pickle protocol 0, the text protocol, written as CPython 3 writes it
 * (pickle.dumps(value, 0)).  python-memcached and bmemcached pickle a
 * stock region's CachedValue with protocol 0 (their default), so a C
 * region sharing their items with `serializer = pickle` writes what they
 * write, byte for byte for the same value.
 *
 * Values are #GVariant, mapped as for dogpile_pickle_dumps().  Python
 * memoizes every str, container and reduction and writes a memo
 * reference for an object it met before.  Here the objects a C value
 * shares with Python's get the same memo references: the globals, the
 * constant 'latin1' that bytes are spelled with, and the strs CPython
 * keeps one object of (the empty str and each one-character str below
 * U+0100).  Other equal values are written in full, as Python writes
 * separate objects.
 *
 * There is no protocol 0 reader of its own: dogpile_pickle_loads() reads
 * every protocol.
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-value.h"

G_BEGIN_DECLS

DOGPILE_API GBytes *dogpile_pickle_dumps_protocol0 (GVariant *value,
                                                    GError **error);
DOGPILE_API GBytes *dogpile_pickle_dumps_cached_value_protocol0 (
    GVariant *payload, const DogpileMetadata *metadata, GError **error);

G_END_DECLS
