/* dogpile-error.h: the one error domain of libdogpile.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-error
 * @title: Errors
 * @short_description: the DOGPILE_ERROR domain and its codes
 * @include: dogpile/dogpile.h
 *
 * Every libdogpile call that can fail reports a #GError in the
 * %DOGPILE_ERROR domain, with a #DogpileError code.  The codes mirror the
 * exceptions dogpile.cache raises where Python has one (PluginNotFound,
 * RegionNotConfigured, ValidationError, CantDeserializeException, ...);
 * the rest are failures Python reports as a raw ImportError or OSError.
 * dogpile_error_get_name() gives that exception's name, so logs read
 * alike on the C and the Python side.  Errors of GLib's own domains (a
 * %G_FILE_ERROR for a file that cannot be read) pass through unchanged.
 *
 * As in GLib, a call's result never depends on whether an error location
 * was passed.  docs/errors.md gives each code's messages and what to do
 * about them.
 *
 * |[<!-- language="C" -->
 * g_autoptr (GBytes) value = NULL;
 * g_autoptr (GError) error = NULL;
 *
 * if (!dogpile_region_get (region, "k", &value, &error))
 *   {
 *     if (g_error_matches (error, DOGPILE_ERROR,
 *                          DOGPILE_ERROR_REGION_NOT_CONFIGURED))
 *       ...
 *     g_printerr ("%s: %s\n", dogpile_error_get_name (error->code),
 *                 error->message);
 *   }
 * ]|
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"

G_BEGIN_DECLS

/**
 * DOGPILE_ERROR:
 *
 * The error domain of every error libdogpile reports; its codes are the
 * #DogpileError values.  It expands to dogpile_error_quark().
 */
#define DOGPILE_ERROR (dogpile_error_quark ())

/**
 * DogpileError:
 * @DOGPILE_ERROR_PLUGIN_NOT_FOUND: no registry holds the backend or proxy
 *   name (dogpile.cache's PluginNotFound)
 * @DOGPILE_ERROR_PLUGIN_LOAD_FAILED: the plugin's module could not be
 *   opened, or its descriptor function returned no descriptor
 * @DOGPILE_ERROR_PLUGIN_SYMBOL_MISSING: the module lacks the symbol the
 *   registry names, or the symbol is not a descriptor function
 * @DOGPILE_ERROR_PLUGIN_ABI_MISMATCH: the plugin was built for a newer
 *   libdogpile, whose descriptor this one cannot read
 * @DOGPILE_ERROR_PLUGIN_NAME_MISMATCH: the descriptor's name is not the
 *   registry name
 * @DOGPILE_ERROR_PLUGIN_INCOMPLETE: a required operation of the
 *   descriptor is %NULL, or its argument table is broken
 * @DOGPILE_ERROR_REGISTRY_INVALID: a bad line in a registry file given
 *   explicitly
 * @DOGPILE_ERROR_REGION_NOT_CONFIGURED: a call on a region that has no
 *   backend yet (RegionNotConfigured)
 * @DOGPILE_ERROR_REGION_ALREADY_CONFIGURED: configuring a region that has a
 *   backend without %DOGPILE_CONFIGURE_REPLACE_EXISTING
 *   (RegionAlreadyConfigured)
 * @DOGPILE_ERROR_VALIDATION: a bad argument, expiration time, setting or
 *   config file (ValidationError)
 * @DOGPILE_ERROR_CANT_DESERIALIZE: stored bytes that are not what the
 *   region reads (CantDeserializeException)
 * @DOGPILE_ERROR_BACKEND: an I/O or server failure in a backend
 * @DOGPILE_ERROR_LOCK: a mutex could not be taken or released
 * @DOGPILE_ERROR_INVALIDATION: soft invalidation of values that never
 *   expire (dogpile.cache's DogpileCacheException)
 * @DOGPILE_ERROR_CREATOR: a creator broke its contract: it returned no
 *   value without an error, or too few values
 *
 * The codes of %DOGPILE_ERROR.  They are appended to only: the numeric
 * values are part of the ABI.
 */
typedef enum {
  DOGPILE_ERROR_PLUGIN_NOT_FOUND,
  DOGPILE_ERROR_PLUGIN_LOAD_FAILED,
  DOGPILE_ERROR_PLUGIN_SYMBOL_MISSING,
  DOGPILE_ERROR_PLUGIN_ABI_MISMATCH,
  DOGPILE_ERROR_PLUGIN_NAME_MISMATCH,
  DOGPILE_ERROR_PLUGIN_INCOMPLETE,
  DOGPILE_ERROR_REGISTRY_INVALID,
  DOGPILE_ERROR_REGION_NOT_CONFIGURED,
  DOGPILE_ERROR_REGION_ALREADY_CONFIGURED,
  DOGPILE_ERROR_VALIDATION,
  DOGPILE_ERROR_CANT_DESERIALIZE,
  DOGPILE_ERROR_BACKEND,
  DOGPILE_ERROR_LOCK,
  DOGPILE_ERROR_INVALIDATION,
  DOGPILE_ERROR_CREATOR,
} DogpileError;

DOGPILE_API GQuark dogpile_error_quark (void);

DOGPILE_API const char *dogpile_error_get_name (int code);

G_END_DECLS
