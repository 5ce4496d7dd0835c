/* dogpile-version.c: the version of the loaded library.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

/**
 * dogpile_get_version:
 *
 * The version of the library actually loaded, which may be newer than the
 * headers a program was built with (%DOGPILE_VERSION_STRING).
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer none): the loaded library's version string, e.g.
 *   "0.1.0"; a static string
 */
const char *
dogpile_get_version (void)
{
  return DOGPILE_VERSION_STRING;
}
