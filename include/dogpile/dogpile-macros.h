/* dogpile-macros.h: the export macro shared by every header.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-macros
 * @title: Macros
 * @short_description: the export macro every header uses
 * @include: dogpile/dogpile.h
 *
 * The macro that marks what libdogpile exports.  A program or plugin
 * never needs it: it is part of the declarations of the other headers.
 * Plugins export their descriptor functions with the macros of
 * `dogpile/dogpile-plugin.h` instead.
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include <glib.h>

/**
 * DOGPILE_API:
 *
 * Marks a declaration as part of libdogpile's ABI.  The library is built
 * with -fvisibility=hidden: only declarations marked DOGPILE_API are
 * exported, which keeps the ABI to what the headers promise.  With GCC
 * and Clang it is the default visibility attribute; with other compilers
 * it expands to nothing.
 */
#if defined(__GNUC__) || defined(__clang__)
#define DOGPILE_API __attribute__ ((visibility ("default")))
#else
#define DOGPILE_API
#endif
