/* dogpile-macros.h: export and deprecation macros shared by every header.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include <glib.h>

/* The library is built with -fvisibility=hidden: only declarations marked
 * DOGPILE_API are exported, which keeps the ABI to what the headers promise.
 */
#if defined(__GNUC__) || defined(__clang__)
#define DOGPILE_API __attribute__ ((visibility ("default")))
#else
#define DOGPILE_API
#endif
