/* dogpile-pickle-text.h: pickle protocol 0, the text protocol, written
 * as CPython 3 writes it: what python-memcached and bmemcached store for
 * a stock region (their default protocol).  Read with
 * dogpile_pickle_loads(), which takes every protocol.
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

DOGPILE_API GBytes *dogpile_pickle_dumps_protocol0 (GVariant *value,
                                                    GError **error);
DOGPILE_API GBytes *dogpile_pickle_dumps_cached_value_protocol0 (
    GVariant *payload, const DogpileMetadata *metadata, GError **error);

G_END_DECLS
