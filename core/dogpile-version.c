/* dogpile-version.c: the version of the loaded library.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

/**
 * dogpile_get_version:
 *
 * Returns: the version string of the library actually loaded, which can be
 * newer than %DOGPILE_VERSION_STRING from the headers a program used.
 */
const char *
dogpile_get_version (void)
{
  return DOGPILE_VERSION_STRING;
}
