/* dogpile-error.c: the error domain.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

/**
 * dogpile_error_quark:
 *
 * The quark of the "dogpile-error-quark" domain, which %DOGPILE_ERROR
 * stands for.  It is made at the first call and published with
 * g_once_init_enter(): G_DEFINE_QUARK's lazy static is written
 * unsynchronised, so two threads raising their first error at once would
 * race on it (ThreadSanitizer sees it).
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: the error domain of libdogpile
 */
GQuark
dogpile_error_quark (void)
{
  static gsize quark;

  if (g_once_init_enter (&quark))
    g_once_init_leave (
        &quark, (gsize) g_quark_from_static_string ("dogpile-error-quark"));
  return (GQuark) quark;
}

/**
 * dogpile_error_get_name:
 * @code: a #DogpileError value
 *
 * Gives the name of the dogpile.cache exception a code stands for, so
 * tools can print what Python users know ("PluginNotFound",
 * "RegionNotConfigured", "CantDeserializeException", ...).  Codes Python
 * has no exception for get a descriptive name in the same style
 * ("PluginLoadFailed", "BackendError", "LockError", "CreatorError").
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer none) (nullable): a static string, or %NULL for a
 *   code that is not a #DogpileError value
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

char *
dogpile__utf8_escaped (char *text)
{
  const char *p = text, *end = text + strlen (text), *bad;
  GString *out;

  if (g_utf8_validate (text, -1, NULL))
    return text;
  out = g_string_new (NULL);
  while (!g_utf8_validate_len (p, (gsize) (end - p), &bad))
    {
      g_string_append_len (out, p, bad - p);
      g_string_append_printf (out, "\\x%02x", (guint8) *bad);
      p = bad + 1;
    }
  g_string_append (out, p);
  g_free (text);
  return g_string_free (out, FALSE);
}
