/* dogpile-error.h: the one error domain of libdogpile.
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

#define DOGPILE_ERROR (dogpile_error_quark ())

/* Codes mirror dogpile.cache's exceptions where one exists; the rest are
 * failures Python reports as raw ImportError/OSError.  Append only: the
 * numeric values are ABI. */
typedef enum {
  DOGPILE_ERROR_PLUGIN_NOT_FOUND,      /* PluginNotFound: no such name */
  DOGPILE_ERROR_PLUGIN_LOAD_FAILED,    /* the module could not be opened */
  DOGPILE_ERROR_PLUGIN_SYMBOL_MISSING, /* the module lacks the symbol */
  DOGPILE_ERROR_PLUGIN_ABI_MISMATCH,   /* built for a newer core */
  DOGPILE_ERROR_PLUGIN_NAME_MISMATCH,  /* descriptor name != registry name */
  DOGPILE_ERROR_PLUGIN_INCOMPLETE,     /* a required operation is NULL */
  DOGPILE_ERROR_REGISTRY_INVALID, /* bad line in an explicit registry file */
  DOGPILE_ERROR_REGION_NOT_CONFIGURED,     /* RegionNotConfigured */
  DOGPILE_ERROR_REGION_ALREADY_CONFIGURED, /* RegionAlreadyConfigured */
  DOGPILE_ERROR_VALIDATION,                /* ValidationError: bad argument */
  DOGPILE_ERROR_CANT_DESERIALIZE,          /* CantDeserializeException */
  DOGPILE_ERROR_BACKEND,      /* I/O or server failure in a backend */
  DOGPILE_ERROR_LOCK,         /* a mutex could not be taken or released */
  DOGPILE_ERROR_INVALIDATION, /* DogpileCacheException: soft invalidation
                                 without expiration */
  DOGPILE_ERROR_CREATOR, /* a creator broke its contract (no value, too few) */
} DogpileError;

DOGPILE_API GQuark dogpile_error_quark (void);

/* The Python exception name a code corresponds to ("PluginNotFound", ...),
 * or a descriptive name for C-only codes; NULL for unknown codes. */
DOGPILE_API const char *dogpile_error_get_name (int code);

G_END_DECLS
