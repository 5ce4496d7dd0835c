/* dogpile-config.h: regions configured from string maps and INI files.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-region.h"

G_BEGIN_DECLS

/* dogpile.cache's configure_from_config: @config maps "<prefix>backend",
 * "<prefix>expiration_time" and "<prefix>arguments.<name>" to strings. */
DOGPILE_API gboolean dogpile_region_configure_from_config (DogpileRegion *self,
                                                           GHashTable *config,
                                                           const char *prefix,
                                                           GError **error);

DOGPILE_API GHashTable *dogpile_config_load_regions (const char *path,
                                                     const char *group_prefix,
                                                     GError **error);
DOGPILE_API GHashTable *dogpile_config_load_regions_from_key_file (
    GKeyFile *key_file, const char *group_prefix, GError **error);

DOGPILE_API DogpileRegion *dogpile_config_load_region (const char *path,
                                                       const char *group,
                                                       GError **error);

G_END_DECLS
