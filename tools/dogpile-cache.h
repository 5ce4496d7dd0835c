/* dogpile-cache.h: the subcommands of dogpile-cache.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile.h>

G_BEGIN_DECLS

/* Options every subcommand takes: which region to open. */
typedef struct {
  char *backend;
  char **arguments;
  char *expiration;
  char **registries;
  char *config;     /* an INI file of regions, instead of -b/-a/-e */
  char *region;     /* its group, e.g. cache.redis */
  char *prefix;     /* the region's keys in that group (a Paste INI) */
  char *serializer; /* raw, json or pickle; NULL: raw, or the file's */
  gboolean strict;  /* an undeclared backend argument is an error */

  /* Set by cache_region_options_open: the backend arguments as given on
   * the command line or in the file (name -> string), for the checks a
   * subcommand makes on them. */
  GHashTable *backend_arguments;
} CacheRegionOptions;

void cache_region_options_add (GOptionContext *context,
                               CacheRegionOptions *options);
void cache_region_options_clear (CacheRegionOptions *options);
DogpileRegion *cache_region_options_open (CacheRegionOptions *options,
                                          GError **error);

/* Says once, on a terminal, that the memory backends live only as long
 * as this process (for the one-shot commands). */
void cache_region_note_memory_backend (DogpileRegion *region,
                                       const char *command);

/* get, set, delete, get-multi, locked, invalidate. */
gboolean cache_key_is_command (const char *command);
int cache_key_main (const char *command, int argc, char **argv);
int cache_bench_main (int argc, char **argv);
int cache_stampede_main (int argc, char **argv);
int cache_replay_main (int argc, char **argv);

G_END_DECLS
