/* tool-common.h: what dogpile-plugins and dogpile-cache share.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile.h>

G_BEGIN_DECLS

/* The exit statuses of both tools, as their --help and man pages say. */
enum {
  TOOL_EXIT_OK = 0,    /* success (dogpile-cache locked: the key is locked) */
  TOOL_EXIT_ERROR = 1, /* an error: the message is on stderr */
  TOOL_EXIT_USAGE = 2, /* a bad command line, an unknown option among them */
  TOOL_EXIT_MISS = 3,  /* no value (or an expired one), a key not locked */
};

/* Prints "@program VERSION" and the library's version and plugin ABI
 * ranges to stdout, for --version. */
void tool_print_version (const char *program);

/* Whether stderr is a terminal: progress lines and notes for people are
 * written only then. */
gboolean tool_stderr_is_terminal (void);

/* One progress line on stderr, rewritten in place (at most ten times a
 * second), only when @enabled and stderr is a terminal; clear() erases it
 * before the results are printed. */
typedef struct {
  gboolean on;
  gboolean shown;
  gint64 last_us;
} ToolProgress;

void tool_progress_init (ToolProgress *progress, gboolean enabled);
void tool_progress_update (ToolProgress *progress, const char *format, ...)
    G_GNUC_PRINTF (2, 3);
void tool_progress_clear (ToolProgress *progress);

/* @path for people (transfer full): the build tree's registry as "build
 * tree", the compiled-in registry folder as "system", $HOME as "~". */
char *tool_dup_short_path (const char *path);

/* Run from the build tree, a tool uses the build tree's plugins: its
 * registry goes after DOGPILE_REGISTRY_PATH's (so those win a name);
 * installed, it changes nothing. */
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
