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

/* A reusable start line for N threads: each wait() returns once all N
 * have arrived (GLib has no barrier of its own). */
typedef struct {
  GMutex lock;
  GCond cond;
  guint parties;
  guint arrived;
  guint generation;
} ToolBarrier;

void tool_barrier_init (ToolBarrier *barrier, guint parties);
void tool_barrier_clear (ToolBarrier *barrier);
void tool_barrier_wait (ToolBarrier *barrier);

/* Sorts @values in place and returns the @p-quantile (0 < p <= 1) by the
 * nearest-rank method; 0 for no values. */
void tool_sort_doubles (double *values, gsize n);
double tool_percentile (const double *sorted, gsize n, double p);

G_END_DECLS
