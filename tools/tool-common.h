/* tool-common.h: what dogpile-plugins and dogpile-cache share.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile.h>

G_BEGIN_DECLS

/* Run from the build tree, a tool uses the build tree's plugins unless
 * DOGPILE_REGISTRY_PATH says otherwise; installed, it changes nothing. */
void tool_use_build_tree_registry (void);

/* Appends @value as a JSON string (quoted, escaped), or null for NULL. */
void tool_json_string (GString *out, const char *value);

/* Parses "key=value" items into a new table (transfer full). */
GHashTable *tool_parse_arguments (char **items, GError **error);

G_END_DECLS
