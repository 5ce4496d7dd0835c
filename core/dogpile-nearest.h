/* dogpile-nearest.h: the "did you mean" of every message that names
 * something unknown.  Internal: built into the library and, as the same
 * source, into the tools (the library exports no such call).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The candidate nearest to @name by edit distance, if it is near enough
 * to be a typo (a third of @name's length, at least 2), else NULL; the
 * first of equals wins (transfer none). */
G_GNUC_INTERNAL
const char *dogpile__nearest_name (const char *name,
                                   const char *const *candidates);

G_END_DECLS
