/* dogpile-name-registry.h: a mutex per name, alive while anyone holds it
 * (dogpile.util.NameRegistry): what a region locks keys with.
 *
 * SPDX-License-Identifier: MIT
 */
/**
 * SECTION:dogpile-name-registry
 * @title: Name registries
 * @short_description: one live mutex per name, as dogpile.util.NameRegistry
 * @include: dogpile/dogpile.h
 *
 * dogpile.util.NameRegistry: every caller asking for a name at the same
 * time gets the same #DogpileMutex, and once the last of them drops it the
 * entry goes, so a registry never grows with the number of names ever
 * seen (Python gets this from a WeakValueDictionary).  A region keeps one
 * for its keys: the mutex get_or_create takes for a key comes from it,
 * made by the backend's get_mutex or, without one, an in-process mutex.
 *
 * The registry's own locks are taken around fork() so no entry is caught
 * half made (docs/fork.md).
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-mutex.h"

G_BEGIN_DECLS

/**
 * DogpileNameRegistryCreateFunc:
 * @name: the name; borrowed for the call
 * @user_data: (closure): the data given to dogpile_name_registry_new()
 *
 * Creates the mutex for a name the registry has no live mutex for:
 * NameRegistry's creator.  It is called with one of the registry's locks
 * held: it must not call into the same registry, nor add or remove a fork
 * hook.
 *
 * Thread safety: called from the thread asking for @name, possibly from
 * several threads at once for different names.
 *
 * Returns: (transfer full) (nullable): the new mutex; %NULL for an
 *   in-process one (dogpile_mutex_new_local())
 */
typedef DogpileMutex *(*DogpileNameRegistryCreateFunc) (const char *name,
                                                        gpointer user_data);

/**
 * DogpileNameRegistry:
 *
 * A mutex per name, alive while anyone holds it.  Opaque and reference
 * counted.
 */
typedef struct DogpileNameRegistry DogpileNameRegistry;

DOGPILE_API DogpileNameRegistry *
dogpile_name_registry_new (DogpileNameRegistryCreateFunc create,
                           gpointer user_data, GDestroyNotify destroy);
DOGPILE_API DogpileNameRegistry *
dogpile_name_registry_ref (DogpileNameRegistry *self);
DOGPILE_API void dogpile_name_registry_unref (DogpileNameRegistry *self);
DOGPILE_API DogpileMutex *dogpile_name_registry_get (DogpileNameRegistry *self,
                                                     const char *name);
DOGPILE_API guint dogpile_name_registry_size (DogpileNameRegistry *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpileNameRegistry,
                               dogpile_name_registry_unref)

G_END_DECLS
