/* dogpile-name-registry.h: a mutex per name, alive while anyone holds it
 * (dogpile.util.NameRegistry): what a region locks keys with.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-mutex.h"

G_BEGIN_DECLS

/* Creates the mutex for a name the registry has no live mutex for. */
typedef DogpileMutex *(*DogpileNameRegistryCreateFunc) (const char *name,
                                                        gpointer user_data);

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
