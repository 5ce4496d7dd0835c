/* dogpile-error.c: the error domain.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

G_DEFINE_QUARK (dogpile-error-quark, dogpile_error)

/**
 * dogpile_error_get_name:
 * @code: a #DogpileError value
 *
 * Gives the dogpile.cache exception a code stands for, so tools can print
 * what Python users know ("PluginNotFound", "RegionNotConfigured", ...).
 * C-only codes get a name in the same style.
 *
 * Returns: (nullable): a static string, or %NULL for an unknown code.
 */
const char *
dogpile_error_get_name (int code)
{
  static const char *const names[] = {
    [DOGPILE_ERROR_PLUGIN_NOT_FOUND] = "PluginNotFound",
    [DOGPILE_ERROR_PLUGIN_LOAD_FAILED] = "PluginLoadFailed",
    [DOGPILE_ERROR_PLUGIN_SYMBOL_MISSING] = "PluginSymbolMissing",
    [DOGPILE_ERROR_PLUGIN_ABI_MISMATCH] = "PluginAbiMismatch",
    [DOGPILE_ERROR_PLUGIN_NAME_MISMATCH] = "PluginNameMismatch",
    [DOGPILE_ERROR_PLUGIN_INCOMPLETE] = "PluginIncomplete",
    [DOGPILE_ERROR_REGISTRY_INVALID] = "RegistryInvalid",
    [DOGPILE_ERROR_REGION_NOT_CONFIGURED] = "RegionNotConfigured",
    [DOGPILE_ERROR_REGION_ALREADY_CONFIGURED] = "RegionAlreadyConfigured",
    [DOGPILE_ERROR_VALIDATION] = "ValidationError",
    [DOGPILE_ERROR_CANT_DESERIALIZE] = "CantDeserializeException",
    [DOGPILE_ERROR_BACKEND] = "BackendError",
    [DOGPILE_ERROR_LOCK] = "LockError",
    [DOGPILE_ERROR_INVALIDATION] = "DogpileCacheException",
    [DOGPILE_ERROR_CREATOR] = "CreatorError",
  };

  if (code < 0 || (gsize) code >= G_N_ELEMENTS (names))
    return NULL;
  return names[code];
}
