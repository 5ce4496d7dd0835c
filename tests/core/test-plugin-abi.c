/* test-plugin-abi.c: the descriptor layouts (backend version 2, proxy 1)
 * (backend and proxy) and the caller-allocated structs, pinned.  If one of
 * these fails, a member was moved or resized: that breaks every plugin
 * built before, so append instead (see dogpile-plugin.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <stddef.h>

#include "test-util.h"

#if defined(__x86_64__) || defined(__aarch64__)
#define P 8
static_assert (offsetof (DogpileBackendDesc, abi_version) == 0, "abi");
static_assert (offsetof (DogpileBackendDesc, name) == 1 * P, "name");
static_assert (offsetof (DogpileBackendDesc, description) == 2 * P, "desc");
static_assert (offsetof (DogpileBackendDesc, version) == 3 * P, "version");
static_assert (offsetof (DogpileBackendDesc, create) == 4 * P, "create");
static_assert (offsetof (DogpileBackendDesc, destroy) == 5 * P, "destroy");
static_assert (offsetof (DogpileBackendDesc, get) == 6 * P, "get");
static_assert (offsetof (DogpileBackendDesc, set) == 7 * P, "set");
static_assert (offsetof (DogpileBackendDesc, delete_key) == 8 * P, "delete");
static_assert (offsetof (DogpileBackendDesc, delete) == 8 * P, "C name");
static_assert (offsetof (DogpileBackendDesc, get_multi) == 9 * P, "gm");
static_assert (offsetof (DogpileBackendDesc, set_multi) == 10 * P, "sm");
static_assert (offsetof (DogpileBackendDesc, delete_multi) == 11 * P, "dm");
static_assert (offsetof (DogpileBackendDesc, get_mutex) == 12 * P, "mutex");
static_assert (offsetof (DogpileBackendDesc, mangle_key) == 13 * P, "mangle");
static_assert (offsetof (DogpileBackendDesc, get_value) == 14 * P, "gv");
static_assert (offsetof (DogpileBackendDesc, set_value) == 15 * P, "sv");
/* version 2 */
static_assert (offsetof (DogpileBackendDesc, set_serializer) == 16 * P,
               "v2 starts where v1 ended");
static_assert (sizeof (DogpileBackendDesc) == 17 * P, "v2 size");
static_assert (offsetof (DogpileMetadata, cached_time) == 0, "ct");
static_assert (offsetof (DogpileMetadata, version) == 8, "v");
static_assert (sizeof (DogpileMetadata) == 32, "metadata keeps its room");
static_assert (sizeof (DogpileMutexFuncs) == 3 * P, "mutex funcs");
static_assert (sizeof (DogpileLockFuncs) == 3 * P, "lock funcs");
static_assert (sizeof (DogpileInvalidationFuncs) == 6 * P, "strategy");
static_assert (offsetof (DogpileStats, bytes_out) == 7 * 8, "stats");
static_assert (sizeof (DogpileStats) == 16 * 8, "stats keeps its room");
static_assert (sizeof (DogpileArg) == 4 * P, "arg");

static_assert (offsetof (DogpileProxyDesc, abi_version) == 0, "abi");
static_assert (offsetof (DogpileProxyDesc, name) == 1 * P, "name");
static_assert (offsetof (DogpileProxyDesc, description) == 2 * P, "desc");
static_assert (offsetof (DogpileProxyDesc, version) == 3 * P, "version");
static_assert (offsetof (DogpileProxyDesc, create) == 4 * P, "create");
static_assert (offsetof (DogpileProxyDesc, destroy) == 5 * P, "destroy");
static_assert (offsetof (DogpileProxyDesc, get_value) == 6 * P, "gv");
static_assert (offsetof (DogpileProxyDesc, set_value) == 7 * P, "sv");
static_assert (offsetof (DogpileProxyDesc, get_value_multi) == 8 * P, "gvm");
static_assert (offsetof (DogpileProxyDesc, set_value_multi) == 9 * P, "svm");
static_assert (offsetof (DogpileProxyDesc, delete_key) == 10 * P, "delete");
static_assert (offsetof (DogpileProxyDesc, delete_multi) == 11 * P, "dm");
static_assert (offsetof (DogpileProxyDesc, get_mutex) == 12 * P, "mutex");
static_assert (offsetof (DogpileProxyDesc, get) == 13 * P, "get");
static_assert (offsetof (DogpileProxyDesc, set) == 14 * P, "set");
static_assert (sizeof (DogpileProxyDesc) == 15 * P, "v1 size");
#endif

static_assert (DOGPILE_BACKEND_ABI_VERSION == 2, "bump with new members");
static_assert (DOGPILE_PROXY_ABI_VERSION == 1, "bump with new members");
static_assert (DOGPILE_ERROR_PLUGIN_NOT_FOUND == 0, "error codes are ABI");
static_assert (DOGPILE_ERROR_LOCK == 12, "error codes are ABI");
static_assert (DOGPILE_ERROR_INVALIDATION == 13, "error codes are ABI");
static_assert (DOGPILE_ERROR_CREATOR == 14, "error codes are ABI");

Test (abi, error_names_cover_every_code)
{
  for (int code = 0; code <= DOGPILE_ERROR_CREATOR; code++)
    cr_assert_not_null (dogpile_error_get_name (code));
  cr_assert_null (dogpile_error_get_name (DOGPILE_ERROR_CREATOR + 1));
  cr_assert_null (dogpile_error_get_name (-1));
}

Test (abi, version_macros)
{
  cr_assert (DOGPILE_CHECK_VERSION (0, 0, 0));
  cr_assert_str_eq (dogpile_get_version (), DOGPILE_VERSION_STRING);
}
