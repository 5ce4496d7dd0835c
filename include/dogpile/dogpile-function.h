/* dogpile-function.h: cached functions, dogpile.cache's cache_on_arguments
 * and cache_multi_on_arguments without decorators.
 *
 * A function's arguments are a C array of typed values (DogpileArg):
 * building one costs nothing (a compound literal on the stack), the type
 * of each value is kept, so keys format exactly as Python's str() would
 * (1, 'a', 2.5, True, None), and the same array goes to the creator.  See
 * docs/cached-functions.md for why not GVariant (which is still accepted
 * for tuples, lists and dicts).
 *
 *     DogpileArg args[] = { DOGPILE_INT (user_id), DOGPILE_STRING (lang) };
 *     dogpile_cached_function_call (fn, args, G_N_ELEMENTS (args), &value,
 * &error);
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-function-args.h"
#include "dogpile-get-or-create.h"
#include "dogpile-macros.h"
#include "dogpile-region.h"

G_BEGIN_DECLS

typedef struct DogpileCachedFunction DogpileCachedFunction;

/* The function being cached: makes the value for @args. */
typedef GBytes *(*DogpileFunctionCreator) (const DogpileArg *args,
                                           gsize n_args, gpointer user_data,
                                           GError **error);
/* The multi form: one value per argument, in @out_values (all NULL on
 * entry).  When the first parameter is `self` or `cls`, args[0] is the
 * receiver and @out_values has n_args - 1 slots.  As a dict function
 * (asdict), a slot left NULL is "no value": not cached, and NULL in the
 * result. */
typedef gboolean (*DogpileMultiFunctionCreator) (const DogpileArg *args,
                                                 gsize n_args,
                                                 GBytes **out_values,
                                                 gpointer user_data,
                                                 GError **error);

/* Formats one argument for a key; (transfer full). */
typedef char *(*DogpileArgFormatFunc) (const DogpileArg *arg,
                                       gpointer user_data);
/* Seconds, evaluated at each call (an expiration_time callable). */
typedef double (*DogpileExpirationFunc) (gpointer user_data);
/* The key for a call; (transfer full), or NULL with @error set. */
typedef char *(*DogpileKeyGeneratorFunc) (DogpileCachedFunction *function,
                                          const DogpileArg *args, gsize n_args,
                                          gpointer user_data, GError **error);
/* The multi form: one key per keyed argument, a NULL-terminated array; it
 * gets every argument, the receiver (`self`/`cls`) first when there is one,
 * and leaves the receiver out of its keys, as Python's generate_keys does. */
typedef char **(*DogpileMultiKeyGeneratorFunc) (
    DogpileCachedFunction *function, const DogpileArg *args, gsize n_args,
    gpointer user_data, GError **error);

DOGPILE_API DogpileCachedFunction *
dogpile_cached_function_new (DogpileRegion *region, const char *module,
                             const char *function,
                             DogpileFunctionCreator creator,
                             gpointer user_data, GDestroyNotify destroy);
DOGPILE_API DogpileCachedFunction *
dogpile_cached_function_new_multi (DogpileRegion *region, const char *module,
                                   const char *function,
                                   DogpileMultiFunctionCreator creator,
                                   gpointer user_data, GDestroyNotify destroy);
DOGPILE_API DogpileCachedFunction *
dogpile_cached_function_ref (DogpileCachedFunction *self);
DOGPILE_API void dogpile_cached_function_unref (DogpileCachedFunction *self);

/* Options (cache_on_arguments' arguments); set them before the first call. */
DOGPILE_API void
dogpile_cached_function_set_namespace (DogpileCachedFunction *self,
                                       const char *namespace_);
DOGPILE_API void
dogpile_cached_function_set_expiration_time (DogpileCachedFunction *self,
                                             double expiration_time);
DOGPILE_API void dogpile_cached_function_set_expiration_func (
    DogpileCachedFunction *self, DogpileExpirationFunc func,
    gpointer user_data, GDestroyNotify destroy);
DOGPILE_API void dogpile_cached_function_set_should_cache (
    DogpileCachedFunction *self, DogpileShouldCacheFunc func,
    gpointer user_data, GDestroyNotify destroy);
DOGPILE_API void dogpile_cached_function_set_to_str (
    DogpileCachedFunction *self, DogpileArgFormatFunc func, gpointer user_data,
    GDestroyNotify destroy);
DOGPILE_API void dogpile_cached_function_set_key_generator (
    DogpileCachedFunction *self, DogpileKeyGeneratorFunc func,
    gpointer user_data, GDestroyNotify destroy);
DOGPILE_API void dogpile_cached_function_set_multi_key_generator (
    DogpileCachedFunction *self, DogpileMultiKeyGeneratorFunc func,
    gpointer user_data, GDestroyNotify destroy);
DOGPILE_API void dogpile_cached_function_set_parameters (
    DogpileCachedFunction *self, const char *const *names, gsize n_names,
    const DogpileArg *defaults, gsize n_defaults);
DOGPILE_API void
dogpile_cached_function_set_asdict (DogpileCachedFunction *self,
                                    gboolean asdict);

/* What key generators use. */
DOGPILE_API const char *
dogpile_cached_function_get_namespace_prefix (DogpileCachedFunction *self);
DOGPILE_API char *
dogpile_cached_function_format_arg (DogpileCachedFunction *self,
                                    const DogpileArg *arg);
DOGPILE_API char *
dogpile_function_key_generator (DogpileCachedFunction *function,
                                const DogpileArg *args, gsize n_args,
                                gpointer user_data, GError **error);
DOGPILE_API char *
dogpile_kwarg_function_key_generator (DogpileCachedFunction *function,
                                      const DogpileArg *args, gsize n_args,
                                      gpointer user_data, GError **error);
DOGPILE_API char **
dogpile_function_multi_key_generator (DogpileCachedFunction *function,
                                      const DogpileArg *args, gsize n_args,
                                      gpointer user_data, GError **error);

/* The decorated function's operations. */
DOGPILE_API char *dogpile_cached_function_dup_key (DogpileCachedFunction *self,
                                                   const DogpileArg *args,
                                                   gsize n_args,
                                                   GError **error);
DOGPILE_API gboolean dogpile_cached_function_call (DogpileCachedFunction *self,
                                                   const DogpileArg *args,
                                                   gsize n_args,
                                                   GBytes **out_value,
                                                   GError **error);
DOGPILE_API gboolean dogpile_cached_function_get (DogpileCachedFunction *self,
                                                  const DogpileArg *args,
                                                  gsize n_args,
                                                  GBytes **out_value,
                                                  GError **error);
DOGPILE_API gboolean dogpile_cached_function_set (DogpileCachedFunction *self,
                                                  GBytes *value,
                                                  const DogpileArg *args,
                                                  gsize n_args,
                                                  GError **error);
DOGPILE_API gboolean dogpile_cached_function_invalidate (
    DogpileCachedFunction *self, const DogpileArg *args, gsize n_args,
    GError **error);
DOGPILE_API gboolean dogpile_cached_function_refresh (
    DogpileCachedFunction *self, const DogpileArg *args, gsize n_args,
    GBytes **out_value, GError **error);
DOGPILE_API gboolean dogpile_cached_function_original (
    DogpileCachedFunction *self, const DogpileArg *args, gsize n_args,
    GBytes **out_value, GError **error);

/* The multi form's operations: one value per argument, aligned. */
DOGPILE_API gboolean dogpile_cached_function_call_multi (
    DogpileCachedFunction *self, const DogpileArg *args, gsize n_args,
    GBytes **out_values, GError **error);
DOGPILE_API gboolean dogpile_cached_function_get_multi (
    DogpileCachedFunction *self, const DogpileArg *args, gsize n_args,
    GBytes **out_values, GError **error);
DOGPILE_API gboolean dogpile_cached_function_set_multi (
    DogpileCachedFunction *self, const DogpileArg *args, GBytes *const *values,
    gsize n_args, GError **error);
DOGPILE_API gboolean dogpile_cached_function_invalidate_multi (
    DogpileCachedFunction *self, const DogpileArg *args, gsize n_args,
    GError **error);
DOGPILE_API gboolean dogpile_cached_function_refresh_multi (
    DogpileCachedFunction *self, const DogpileArg *args, gsize n_args,
    GBytes **out_values, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpileCachedFunction,
                               dogpile_cached_function_unref)

G_END_DECLS
