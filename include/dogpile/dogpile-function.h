/* dogpile-function.h: cached functions, dogpile.cache's cache_on_arguments
 * and cache_multi_on_arguments without decorators.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-function
 * @title: Cached functions
 * @short_description: cache_on_arguments and cache_multi_on_arguments
 * @include: dogpile/dogpile.h
 *
 * dogpile.cache decorates a function with `@region.cache_on_arguments()`:
 * the decorated function builds a key from its arguments and calls the
 * region's get_or_create.  C has no decorators, so libdogpile gives you
 * the object the decorator makes: a #DogpileCachedFunction binds a
 * region, the module and function names keys start with, a creator and
 * the decorator's options, and is called with the function's arguments.
 *
 * The arguments are a C array of typed values (#DogpileArg): building one
 * costs nothing (a compound literal on the stack), and the type of each
 * value is kept, so keys format exactly as Python's str() would
 * (`1`, `a`, `2.5`, `True`, `None`) and a Python process decorating the
 * same function in the same module shares the entries.  The same array
 * goes to the creator.  docs/cached-functions.md says why not GVariant
 * (which is still accepted for tuples, lists and dicts).
 *
 * |[<!-- language="C" -->
 * DogpileArg args[] = { DOGPILE_INT (user_id), DOGPILE_STRING (lang) };
 * g_autoptr (GBytes) value = NULL;
 *
 * if (!dogpile_cached_function_call (fn, args, G_N_ELEMENTS (args), &value,
 *                                    &error))
 *   ...
 * ]|
 *
 * The calls map to the decorated function's: `fn(*args)` is
 * dogpile_cached_function_call(), `fn.get`, `fn.set`, `fn.invalidate`,
 * `fn.refresh` and `fn.original` are dogpile_cached_function_get(),
 * dogpile_cached_function_set(), dogpile_cached_function_invalidate(),
 * dogpile_cached_function_refresh() and dogpile_cached_function_original();
 * cache_multi_on_arguments is dogpile_cached_function_new_multi() and the
 * `_multi` calls.  The options (namespace, expiration time, should_cache,
 * to_str, key generators, the signature, asdict) are set before the first
 * call and before the object is shared between threads; the calls
 * themselves may then be made from any thread at once.
 *
 * One difference, on purpose: once the signature is known
 * (dogpile_cached_function_set_parameters()), every operation binds the
 * arguments to it, so the same arguments always name the same key; Python
 * binds them for the call only (docs/differences.md).
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

/**
 * DogpileCachedFunction:
 *
 * A function cached in a region, what dogpile.cache's cache_on_arguments
 * (or cache_multi_on_arguments) decorator makes.  Opaque and reference
 * counted: dogpile_cached_function_ref(), dogpile_cached_function_unref().
 */
typedef struct DogpileCachedFunction DogpileCachedFunction;

/**
 * DogpileFunctionCreator:
 * @args: (array length=n_args): the call's arguments, bound to the
 *   function's parameters when they are set
 *   (dogpile_cached_function_set_parameters()), the receiver included;
 *   borrowed for the call
 * @n_args: how many
 * @user_data: (closure): the data given to dogpile_cached_function_new()
 * @error: return location for a #GError
 *
 * The function being cached: makes the value for @args.  A %NULL return
 * without @error set is reported as %DOGPILE_ERROR_CREATOR.
 *
 * Thread safety: called from the thread making the call (from an async
 * runner's thread when the region has one), possibly from several threads
 * at once for different keys.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL with @error set
 */
typedef GBytes *(*DogpileFunctionCreator) (const DogpileArg *args,
                                           gsize n_args, gpointer user_data,
                                           GError **error);
/**
 * DogpileMultiFunctionCreator:
 * @args: (array length=n_args): the arguments to make values for; when
 *   the first parameter is `self` or `cls`, args[0] is the receiver;
 *   borrowed for the call
 * @n_args: how many
 * @out_values: (array) (out caller-allocates): one slot per keyed
 *   argument (n_args - 1 of them with a receiver), all %NULL on entry;
 *   fill each with a new reference (transfer full)
 * @user_data: (closure): the data given to
 *   dogpile_cached_function_new_multi()
 * @error: return location for a #GError
 *
 * The multi form of the function being cached: one value per argument.
 * dogpile_cached_function_call_multi() passes only the arguments whose
 * values are missing or expired, in the order of their keys;
 * dogpile_cached_function_refresh_multi() passes them all.  A slot left
 * %NULL is an error (%DOGPILE_ERROR_CREATOR), except for an asdict
 * function (dogpile_cached_function_set_asdict()), where it means "no
 * value": not cached, and %NULL in the result.
 *
 * Thread safety: called from the thread making the call, possibly from
 * several threads at once for different keys.
 *
 * Returns: %TRUE with the slots filled, %FALSE with @error set
 */
typedef gboolean (*DogpileMultiFunctionCreator) (const DogpileArg *args,
                                                 gsize n_args,
                                                 GBytes **out_values,
                                                 gpointer user_data,
                                                 GError **error);

/**
 * DogpileArgFormatFunc:
 * @arg: the argument; borrowed for the call
 * @user_data: (closure): the data given with the function
 *
 * Formats one argument for a key: dogpile.cache's `to_str`.
 * dogpile_arg_to_str() (Python's str(), the default) and
 * dogpile_arg_to_repr() are two.
 *
 * Thread safety: called from any thread making a call, possibly from
 * several at once.
 *
 * Returns: (transfer full) (not nullable): the text
 */
typedef char *(*DogpileArgFormatFunc) (const DogpileArg *arg,
                                       gpointer user_data);
/**
 * DogpileExpirationFunc:
 * @user_data: (closure): the data given to
 *   dogpile_cached_function_set_expiration_func()
 *
 * dogpile.cache's expiration_time given as a callable: asked at every
 * dogpile_cached_function_call() and dogpile_cached_function_call_multi().
 *
 * Thread safety: called from any thread making a call, possibly from
 * several at once.
 *
 * Returns: the expiration time in seconds, %DOGPILE_EXPIRATION_NONE, or
 *   %DOGPILE_EXPIRATION_DEFAULT for the region's
 */
typedef double (*DogpileExpirationFunc) (gpointer user_data);
/**
 * DogpileKeyGeneratorFunc:
 * @function: the cached function being called
 * @args: (array length=n_args): the call's arguments, bound to the
 *   parameters when they are set, the receiver (`self`, `cls`) included;
 *   borrowed for the call
 * @n_args: how many
 * @user_data: (closure): the data given to
 *   dogpile_cached_function_set_key_generator()
 * @error: return location for a #GError
 *
 * Builds the key of a call: dogpile.cache's function_key_generator
 * replaced.  dogpile_function_key_generator() and
 * dogpile_kwarg_function_key_generator() are two; a custom one usually
 * starts with dogpile_cached_function_get_namespace_prefix() and formats
 * the arguments with dogpile_cached_function_format_arg().  A %NULL
 * return without @error set is reported as %DOGPILE_ERROR_VALIDATION.
 *
 * Thread safety: called from any thread making a call, possibly from
 * several at once.
 *
 * Returns: (transfer full) (nullable): the key, or %NULL with @error set
 */
typedef char *(*DogpileKeyGeneratorFunc) (DogpileCachedFunction *function,
                                          const DogpileArg *args, gsize n_args,
                                          gpointer user_data, GError **error);
/**
 * DogpileMultiKeyGeneratorFunc:
 * @function: the multi cached function being called
 * @args: (array length=n_args): every argument, the receiver (`self`,
 *   `cls`) first when there is one; borrowed for the call
 * @n_args: how many
 * @user_data: (closure): the data given to
 *   dogpile_cached_function_set_multi_key_generator()
 * @error: return location for a #GError
 *
 * The multi form of #DogpileKeyGeneratorFunc: one key per keyed argument,
 * leaving the receiver out, as Python's generate_keys(*args) does.  Not
 * called when there is no keyed argument.  A %NULL return without @error
 * set, or a number of keys other than the number of keyed arguments, is
 * reported as %DOGPILE_ERROR_VALIDATION.
 *
 * Thread safety: called from any thread making a call, possibly from
 * several at once.
 *
 * Returns: (transfer full) (array zero-terminated=1) (nullable): the keys,
 *   or %NULL with @error set
 */
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

/* Options (cache_on_arguments' arguments): setup calls. */
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
