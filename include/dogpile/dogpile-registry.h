/* dogpile-registry.h: backend names, the registry files that list them and
 * in-process registration (dogpile.cache's register_backend).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"

G_BEGIN_DECLS

/**
 * SECTION:dogpile-registry
 * @title: The plugin registry
 * @short_description: backend and proxy names, the registry files that
 *   list them, and in-process registration
 * @include: dogpile/dogpile.h
 *
 * dogpile.cache finds backends by name through Python entry points and
 * its PluginLoader; here registry files (INI, `name = module:symbol`)
 * play the entry points' part, and dogpile_registry_register_desc() that
 * of `register_backend`.  The default registry reads the folders
 * docs/registry.md lists; a name that no entry gives fails with
 * %DOGPILE_ERROR_PLUGIN_NOT_FOUND, saying where it looked.  Modules load
 * once per process and are never unloaded.
 */

/**
 * DOGPILE_REGISTRY_GROUP_BACKENDS:
 *
 * The entry-point group of backends in registry files, as in Python.
 */
#define DOGPILE_REGISTRY_GROUP_BACKENDS "dogpile.cache"
/**
 * DOGPILE_REGISTRY_GROUP_PROXIES:
 *
 * The entry-point group of proxies in registry files (C only).
 */
#define DOGPILE_REGISTRY_GROUP_PROXIES "dogpile.cache.proxies"

/**
 * DOGPILE_REGISTRY_PATH_ENV:
 *
 * The environment variable naming registry files or folders to read
 * before the installed ones (docs/registry.md).
 */
#define DOGPILE_REGISTRY_PATH_ENV "DOGPILE_REGISTRY_PATH"
/**
 * DOGPILE_REGISTRY_SYSTEM_PATH_ENV:
 *
 * The environment variable that replaces the installed registry folder
 * (docs/registry.md).
 */
#define DOGPILE_REGISTRY_SYSTEM_PATH_ENV "DOGPILE_REGISTRY_SYSTEM_PATH"

/**
 * DogpileRegistry:
 *
 * An opaque, reference-counted set of registry entries; every call may be
 * made from any thread at once.
 */
typedef struct DogpileRegistry DogpileRegistry;
/**
 * DogpilePluginInfo:
 *
 * One registry entry: a name, its group, and the module and symbol (or
 * in-process descriptor) giving it.  Immutable and reference-counted.
 */
typedef struct DogpilePluginInfo DogpilePluginInfo;
/* Defined in dogpile-plugin.h, for those who write them. */
#ifndef __GTK_DOC_IGNORE__
typedef struct DogpileBackendDesc DogpileBackendDesc;
typedef struct DogpileProxyDesc DogpileProxyDesc;
#endif

DOGPILE_API DogpileRegistry *dogpile_registry_get_default (void);
DOGPILE_API DogpileRegistry *dogpile_registry_new (void);
DOGPILE_API DogpileRegistry *dogpile_registry_ref (DogpileRegistry *self);
DOGPILE_API void dogpile_registry_unref (DogpileRegistry *self);

DOGPILE_API gboolean dogpile_registry_add_file (DogpileRegistry *self,
                                                const char *path,
                                                GError **error);
DOGPILE_API gboolean dogpile_registry_register (DogpileRegistry *self,
                                                const char *name,
                                                const char *module_path,
                                                const char *symbol,
                                                GError **error);
DOGPILE_API DogpilePluginInfo *dogpile_registry_lookup (DogpileRegistry *self,
                                                        const char *group,
                                                        const char *name);
DOGPILE_API GPtrArray *dogpile_registry_list (DogpileRegistry *self,
                                              const char *group);
DOGPILE_API char **dogpile_registry_dup_names (DogpileRegistry *self,
                                               const char *group);

DOGPILE_API gboolean dogpile_register_backend (const char *name,
                                               const char *module_path,
                                               const char *symbol,
                                               GError **error);

/* In-process registration of a descriptor (no module, no registry file):
 * the equivalent of register_backend for backends linked into the program.
 * Replaces an earlier registration of the same name. */
DOGPILE_API gboolean dogpile_registry_register_desc (
    DogpileRegistry *self, const DogpileBackendDesc *desc, GError **error);
DOGPILE_API gboolean dogpile_registry_register_proxy_desc (
    DogpileRegistry *self, const DogpileProxyDesc *desc, GError **error);

/* Loads (once) and checks the plugin registered as @name. (transfer none) */
DOGPILE_API const DogpileBackendDesc *
dogpile_registry_load_backend (DogpileRegistry *self, const char *name,
                               GError **error);
DOGPILE_API const DogpileProxyDesc *
dogpile_registry_load_proxy (DogpileRegistry *self, const char *name,
                             GError **error);

DOGPILE_API DogpilePluginInfo *
dogpile_plugin_info_ref (DogpilePluginInfo *self);
DOGPILE_API void dogpile_plugin_info_unref (DogpilePluginInfo *self);
DOGPILE_API const char *dogpile_plugin_info_get_name (DogpilePluginInfo *self);
DOGPILE_API const char *
dogpile_plugin_info_get_group (DogpilePluginInfo *self);
DOGPILE_API const char *
dogpile_plugin_info_get_module_path (DogpilePluginInfo *self);
DOGPILE_API const char *
dogpile_plugin_info_get_symbol (DogpilePluginInfo *self);
DOGPILE_API const char *
dogpile_plugin_info_get_registry_file (DogpilePluginInfo *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpileRegistry, dogpile_registry_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpilePluginInfo, dogpile_plugin_info_unref)

G_END_DECLS
