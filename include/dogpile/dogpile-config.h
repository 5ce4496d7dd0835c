/* dogpile-config.h: regions configured from string maps and INI files,
 * including the settings of a Paste/Pyramid INI under a key prefix.
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

/**
 * SECTION:dogpile-config
 * @title: Configuration
 * @short_description: regions configured from string maps, INI files of
 *   regions, and Paste/Pyramid INIs under a key prefix
 * @include: dogpile/dogpile.h
 *
 * dogpile.cache's `configure_from_config` and coerce_string_conf, on a
 * string map or a #GKeyFile group, and the INI files operators write: a
 * file of `[cache.NAME]` groups (dogpile_config_load_regions()), or the
 * settings of a Paste/Pyramid application under a prefix
 * (dogpile_config_load_prefixed_region()), read as Python's configparser
 * reads them.  Unlike Python, an unknown key under a region's prefix is an
 * error naming the nearest known key; docs/configuration.md lists every
 * key.
 */

/* dogpile.cache's coerce_string_conf: a setting's text as the Python value
 * it becomes (int, float, bool, None or the stripped str), in the GVariant
 * form of dogpile-python-value.h; (transfer full). */
DOGPILE_API GVariant *dogpile_coerce_string (const char *value,
                                             GError **error);
/* Every value of @config so; key -> GVariant, (transfer full). */
DOGPILE_API GHashTable *dogpile_coerce_string_conf (GHashTable *config,
                                                    GError **error);

/* dogpile.cache's configure_from_config: @config maps "<prefix>backend",
 * "<prefix>expiration_time" and "<prefix>arguments.<name>" to strings. */
DOGPILE_API gboolean dogpile_region_configure_from_config (DogpileRegion *self,
                                                           GHashTable *config,
                                                           const char *prefix,
                                                           GError **error);
/* The same on the keys of one group of a GKeyFile. */
DOGPILE_API gboolean dogpile_region_configure_from_key_file (
    DogpileRegion *self, GKeyFile *key_file, const char *group,
    const char *prefix, GError **error);

/* A section of a Paste/Pyramid INI as Python's configparser reads it
 * (`dict(parser.items(section))`, %(here)s expanded); key -> value,
 * (transfer full). */
DOGPILE_API GHashTable *dogpile_config_load_settings (const char *path,
                                                      const char *section,
                                                      GError **error);
/* configure_from_config(settings of @section, @prefix) on a new region. */
DOGPILE_API DogpileRegion *
dogpile_config_load_prefixed_region (const char *path, const char *section,
                                     const char *prefix, GError **error);
DOGPILE_API DogpileRegion *dogpile_config_load_prefixed_region_full (
    const char *path, const char *section, const char *prefix,
    DogpileConfigureFlags flags, GError **error);

DOGPILE_API GHashTable *dogpile_config_load_regions (const char *path,
                                                     const char *group_prefix,
                                                     GError **error);
DOGPILE_API GHashTable *dogpile_config_load_regions_from_key_file (
    GKeyFile *key_file, const char *group_prefix, GError **error);

DOGPILE_API DogpileRegion *dogpile_config_load_region (const char *path,
                                                       const char *group,
                                                       GError **error);
DOGPILE_API DogpileRegion *
dogpile_config_load_region_full (const char *path, const char *group,
                                 DogpileConfigureFlags flags, GError **error);

G_END_DECLS
