/* dogpile-function.c: cached functions (cache_on_arguments and
 * cache_multi_on_arguments).
 *
 * A call builds the key from the arguments, exactly as Python's
 * function_key_generator does ("module:function|1 2", with the namespace
 * after the function name), and asks the region's get_or_create with a
 * creator that calls the function with those arguments.
 *
 * Python's decorator binds a call to the function's signature before the
 * key is built (keyword arguments move to their parameter's position,
 * omitted parameters get their defaults), but .get/.set/.invalidate do
 * not (spec 0 item 7).  Here every operation binds the same way once the
 * signature is known (dogpile_cached_function_set_parameters), so fn(1)
 * on fn(a, b=2) is keyed "...|1 2" as Python's call is, and the same
 * arguments always give the same key.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-region-private.h"

#define NO_KEYWORDS_MESSAGE                                                   \
  "dogpile.cache's default key creation function does not accept keyword "    \
  "arguments."

struct DogpileCachedFunction {
  gint ref_count;
  DogpileRegion *region;
  char *prefix; /* "module:function" or "module:function|namespace" */
  char *module;
  char *function;
  gboolean multi;
  DogpileFunctionCreator creator;
  DogpileMultiFunctionCreator multi_creator;
  gpointer user_data;
  GDestroyNotify destroy;

  double expiration_time;
  DogpileExpirationFunc expiration_func;
  gpointer expiration_data;
  GDestroyNotify expiration_destroy;
  DogpileShouldCacheFunc should_cache;
  gpointer should_cache_data;
  GDestroyNotify should_cache_destroy;
  DogpileArgFormatFunc to_str;
  gpointer to_str_data;
  GDestroyNotify to_str_destroy;
  DogpileKeyGeneratorFunc key_generator;
  gpointer key_generator_data;
  GDestroyNotify key_generator_destroy;
  DogpileMultiKeyGeneratorFunc multi_key_generator;
  gpointer multi_key_generator_data;
  GDestroyNotify multi_key_generator_destroy;

  char **parameters; /* NULL-terminated, or NULL */
  gsize n_parameters;
  DogpileArg *defaults; /* for the last n_defaults parameters; owned */
  gsize n_defaults;
  gboolean has_self; /* the first parameter is self or cls: not keyed */
  gboolean asdict;
};

/* Owned copies of arguments, for defaults and background regeneration. */
static void
arg_copy (DogpileArg *to, const DogpileArg *from)
{
  *to = *from;
  to->name = g_strdup (from->name);
  switch (from->type)
    {
    case DOGPILE_ARG_TYPE_STRING: to->v.s = g_strdup (from->v.s); break;
    case DOGPILE_ARG_TYPE_BYTES:
      to->v.bytes.data = g_memdup2 (from->v.bytes.data, from->v.bytes.len);
      break;
    case DOGPILE_ARG_TYPE_VARIANT:
      to->v.variant = g_variant_ref_sink (from->v.variant);
      break;
    default: break;
    }
}

static void
arg_clear (DogpileArg *arg)
{
  g_free ((char *) arg->name);
  switch (arg->type)
    {
    case DOGPILE_ARG_TYPE_STRING: g_free ((char *) arg->v.s); break;
    case DOGPILE_ARG_TYPE_BYTES: g_free ((gpointer) arg->v.bytes.data); break;
    case DOGPILE_ARG_TYPE_VARIANT: g_variant_unref (arg->v.variant); break;
    default: break;
    }
}

static DogpileArg *
args_copy (const DogpileArg *args, gsize n)
{
  DogpileArg *copy = g_new (DogpileArg, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    arg_copy (&copy[i], &args[i]);
  return copy;
}

static void
args_free (DogpileArg *args, gsize n)
{
  for (gsize i = 0; i < n; i++)
    arg_clear (&args[i]);
  g_free (args);
}

static DogpileCachedFunction *
function_new (DogpileRegion *region, const char *module, const char *function,
              gpointer user_data, GDestroyNotify destroy)
{
  DogpileCachedFunction *self = g_new0 (DogpileCachedFunction, 1);

  self->ref_count = 1;
  self->region = dogpile_region_ref (region);
  self->module = g_strdup (module);
  self->function = g_strdup (function);
  self->prefix = g_strdup_printf ("%s:%s", module, function);
  self->user_data = user_data;
  self->destroy = destroy;
  self->expiration_time = DOGPILE_EXPIRATION_DEFAULT;
  return self;
}

/**
 * dogpile_cached_function_new:
 * @region: the region values are cached in; a reference is taken
 * @module: the module part of keys (Python's fn.__module__); copied
 * @function: the function part of keys (fn.__name__); copied
 * @creator: (scope notified): the function being cached
 * @user_data: (closure): passed to @creator
 * @destroy: (nullable): frees @user_data when the last reference to the
 *   object is dropped
 *
 * dogpile.cache's CacheRegion.cache_on_arguments() applied to @creator:
 * keys are `<module>:<function>|<arguments>`, so a Python function
 * decorated in module @module shares its entries with this one.  Set the
 * options (dogpile_cached_function_set_namespace() and the others) before
 * the first call.
 *
 * Thread safety: any thread; @region may be in use by other threads.
 *
 * Returns: (transfer full): the cached function
 */
DogpileCachedFunction *
dogpile_cached_function_new (DogpileRegion *region, const char *module,
                             const char *function,
                             DogpileFunctionCreator creator,
                             gpointer user_data, GDestroyNotify destroy)
{
  DogpileCachedFunction *self;

  g_return_val_if_fail (region != NULL, NULL);
  g_return_val_if_fail (module != NULL && function != NULL, NULL);
  g_return_val_if_fail (creator != NULL, NULL);

  self = function_new (region, module, function, user_data, destroy);
  self->creator = creator;
  return self;
}

/**
 * dogpile_cached_function_new_multi:
 * @region: the region values are cached in; a reference is taken
 * @module: the module part of keys; copied
 * @function: the function part of keys; copied
 * @creator: (scope notified): makes values for the arguments that need
 *   them, in one call
 * @user_data: (closure): passed to @creator
 * @destroy: (nullable): frees @user_data when the last reference to the
 *   object is dropped
 *
 * dogpile.cache's CacheRegion.cache_multi_on_arguments() applied to
 * @creator: every argument is a key of its own
 * (`<module>:<function>|<argument>`); a call returns one value per
 * argument and calls @creator once with those that are missing or
 * expired, in key order.  Use the `_multi` calls on it
 * (dogpile_cached_function_call_multi() and the others).
 *
 * Thread safety: any thread; @region may be in use by other threads.
 *
 * Returns: (transfer full): the cached function
 */
DogpileCachedFunction *
dogpile_cached_function_new_multi (DogpileRegion *region, const char *module,
                                   const char *function,
                                   DogpileMultiFunctionCreator creator,
                                   gpointer user_data, GDestroyNotify destroy)
{
  DogpileCachedFunction *self;

  g_return_val_if_fail (region != NULL, NULL);
  g_return_val_if_fail (module != NULL && function != NULL, NULL);
  g_return_val_if_fail (creator != NULL, NULL);

  self = function_new (region, module, function, user_data, destroy);
  self->multi = TRUE;
  self->multi_creator = creator;
  return self;
}

/**
 * dogpile_cached_function_ref:
 * @self: a cached function
 *
 * Takes a reference to @self.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full): @self
 */
DogpileCachedFunction *
dogpile_cached_function_ref (DogpileCachedFunction *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

static void
replace_hook (GDestroyNotify *destroy, gpointer *data,
              GDestroyNotify new_destroy, gpointer new_data)
{
  if (*destroy != NULL)
    (*destroy) (*data);
  *destroy = new_destroy;
  *data = new_data;
}

/**
 * dogpile_cached_function_unref:
 * @self: (transfer full): a cached function
 *
 * Drops a reference.  The last one calls the destroy notifies of the
 * creator's and the options' user data and drops the reference to the
 * region.
 *
 * Thread safety: any thread; the last unref must not race a call on @self.
 */
void
dogpile_cached_function_unref (DogpileCachedFunction *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  replace_hook (&self->destroy, &self->user_data, NULL, NULL);
  replace_hook (&self->expiration_destroy, &self->expiration_data, NULL, NULL);
  replace_hook (&self->should_cache_destroy, &self->should_cache_data, NULL,
                NULL);
  replace_hook (&self->to_str_destroy, &self->to_str_data, NULL, NULL);
  replace_hook (&self->key_generator_destroy, &self->key_generator_data, NULL,
                NULL);
  replace_hook (&self->multi_key_generator_destroy,
                &self->multi_key_generator_data, NULL, NULL);
  g_strfreev (self->parameters);
  if (self->defaults != NULL)
    args_free (self->defaults, self->n_defaults);
  dogpile_region_unref (self->region);
  g_free (self->prefix);
  g_free (self->module);
  g_free (self->function);
  g_free (self);
}

/**
 * dogpile_cached_function_set_namespace:
 * @self: a cached function
 * @namespace_: (nullable): told apart from other functions of the same
 *   name: keys become `<module>:<function>|<namespace>|<arguments>` (an
 *   empty namespace is a namespace: `mod:fn||1`); copied.  %NULL for none
 *
 * cache_on_arguments' `namespace` argument.
 *
 * Thread safety: setup: call before @self is called or shared.
 */
void
dogpile_cached_function_set_namespace (DogpileCachedFunction *self,
                                       const char *namespace_)
{
  g_return_if_fail (self != NULL);

  g_free (self->prefix);
  self->prefix = namespace_ != NULL
                     ? g_strdup_printf ("%s:%s|%s", self->module,
                                        self->function, namespace_)
                     : g_strdup_printf ("%s:%s", self->module, self->function);
}

/**
 * dogpile_cached_function_set_expiration_time:
 * @self: a cached function
 * @expiration_time: seconds, %DOGPILE_EXPIRATION_NONE, or
 *   %DOGPILE_EXPIRATION_DEFAULT (the initial value) for the region's
 *
 * cache_on_arguments' `expiration_time` as a number.  It applies to
 * dogpile_cached_function_call() and dogpile_cached_function_call_multi();
 * dogpile_cached_function_get() uses the region's expiration time, as in
 * dogpile.cache.  An expiration function, when set
 * (dogpile_cached_function_set_expiration_func()), takes its place.
 *
 * Thread safety: setup: call before @self is called or shared.
 */
void
dogpile_cached_function_set_expiration_time (DogpileCachedFunction *self,
                                             double expiration_time)
{
  g_return_if_fail (self != NULL);
  self->expiration_time = expiration_time;
}

/**
 * dogpile_cached_function_set_expiration_func:
 * @self: a cached function
 * @func: (nullable) (scope notified): returns the expiration time, asked
 *   at every call; %NULL to use the expiration time again
 * @user_data: (closure): passed to @func
 * @destroy: (nullable): frees @user_data when it is replaced or @self is
 *   freed
 *
 * cache_on_arguments' `expiration_time` as a callable.  The previous
 * function's user data is freed at once.
 *
 * Thread safety: setup: call before @self is called or shared.
 */
void
dogpile_cached_function_set_expiration_func (DogpileCachedFunction *self,
                                             DogpileExpirationFunc func,
                                             gpointer user_data,
                                             GDestroyNotify destroy)
{
  g_return_if_fail (self != NULL);

  replace_hook (&self->expiration_destroy, &self->expiration_data, destroy,
                user_data);
  self->expiration_func = func;
}

/**
 * dogpile_cached_function_set_should_cache:
 * @self: a cached function
 * @func: (nullable) (scope notified): decides whether a newly created value
 *   is stored (it is returned either way); %NULL stores every value
 * @user_data: (closure): passed to @func
 * @destroy: (nullable): frees @user_data when it is replaced or @self is
 *   freed
 *
 * cache_on_arguments' `should_cache_fn`, for dogpile_cached_function_call()
 * and dogpile_cached_function_call_multi().  As in dogpile.cache, it is not
 * asked by dogpile_cached_function_refresh() nor by a regeneration an
 * async runner makes.  The previous function's user data is freed at once.
 *
 * Thread safety: setup: call before @self is called or shared.
 */
void
dogpile_cached_function_set_should_cache (DogpileCachedFunction *self,
                                          DogpileShouldCacheFunc func,
                                          gpointer user_data,
                                          GDestroyNotify destroy)
{
  g_return_if_fail (self != NULL);

  replace_hook (&self->should_cache_destroy, &self->should_cache_data, destroy,
                user_data);
  self->should_cache = func;
}

/**
 * dogpile_cached_function_set_to_str:
 * @self: a cached function
 * @func: (nullable) (scope notified): formats each argument for keys; %NULL
 *   for Python's str() (dogpile_arg_to_str()); dogpile_arg_to_repr() is the
 *   other usual one
 * @user_data: (closure): passed to @func
 * @destroy: (nullable): frees @user_data when it is replaced or @self is
 *   freed
 *
 * cache_on_arguments' `to_str`, used by the default key generators and
 * dogpile_cached_function_format_arg().  The previous function's user data
 * is freed at once.
 *
 * Thread safety: setup: call before @self is called or shared.
 */
void
dogpile_cached_function_set_to_str (DogpileCachedFunction *self,
                                    DogpileArgFormatFunc func,
                                    gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (self != NULL);

  replace_hook (&self->to_str_destroy, &self->to_str_data, destroy, user_data);
  self->to_str = func;
}

/**
 * dogpile_cached_function_set_key_generator:
 * @self: a cached function
 * @func: (nullable) (scope notified): builds the key of a call; %NULL for
 *   dogpile_function_key_generator(); dogpile_kwarg_function_key_generator()
 *   takes keyword arguments too
 * @user_data: (closure): passed to @func
 * @destroy: (nullable): frees @user_data when it is replaced or @self is
 *   freed
 *
 * cache_on_arguments' `function_key_generator`, for the single-key form.
 * The previous function's user data is freed at once.
 *
 * Thread safety: setup: call before @self is called or shared.
 */
void
dogpile_cached_function_set_key_generator (DogpileCachedFunction *self,
                                           DogpileKeyGeneratorFunc func,
                                           gpointer user_data,
                                           GDestroyNotify destroy)
{
  g_return_if_fail (self != NULL);

  replace_hook (&self->key_generator_destroy, &self->key_generator_data,
                destroy, user_data);
  self->key_generator = func;
}

/**
 * dogpile_cached_function_set_multi_key_generator:
 * @self: a multi cached function
 * @func: (nullable) (scope notified): one key per argument; %NULL for
 *   dogpile_function_multi_key_generator()
 * @user_data: (closure): passed to @func
 * @destroy: (nullable): frees @user_data when it is replaced or @self is
 *   freed
 *
 * cache_multi_on_arguments' `function_multi_key_generator`.  The previous
 * function's user data is freed at once.
 *
 * Thread safety: setup: call before @self is called or shared.
 */
void
dogpile_cached_function_set_multi_key_generator (
    DogpileCachedFunction *self, DogpileMultiKeyGeneratorFunc func,
    gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (self != NULL);

  replace_hook (&self->multi_key_generator_destroy,
                &self->multi_key_generator_data, destroy, user_data);
  self->multi_key_generator = func;
}

/**
 * dogpile_cached_function_set_parameters:
 * @self: a cached function
 * @names: (array length=n_names): the function's parameter names, in
 *   order; copied
 * @n_names: how many
 * @defaults: (array length=n_defaults) (nullable): default values of the
 *   last @n_defaults parameters, as in a Python signature; copied (a
 *   variant is kept with g_variant_ref_sink())
 * @n_defaults: how many; at most @n_names
 *
 * The signature, as Python's key generators read it: a first parameter
 * named `self` or `cls` is the receiver and is left out of keys;
 * dogpile_kwarg_function_key_generator() maps arguments to names and fills
 * in defaults.  Once it is set, every single-key operation but
 * dogpile_cached_function_original() binds its arguments to it as
 * Python's decorator does for a call: a keyword
 * argument naming a parameter takes its place, an omitted parameter gets
 * its default, surplus positional arguments and unknown keywords follow.
 * Calling it again replaces the previous signature.
 *
 * Thread safety: setup: call before @self is called or shared.
 */
void
dogpile_cached_function_set_parameters (DogpileCachedFunction *self,
                                        const char *const *names,
                                        gsize n_names,
                                        const DogpileArg *defaults,
                                        gsize n_defaults)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (names != NULL || n_names == 0);
  g_return_if_fail (n_defaults <= n_names);

  g_strfreev (self->parameters);
  self->parameters = g_new0 (char *, n_names + 1);
  for (gsize i = 0; i < n_names; i++)
    self->parameters[i] = g_strdup (names[i]);
  self->n_parameters = n_names;
  if (self->defaults != NULL)
    args_free (self->defaults, self->n_defaults);
  self->defaults = n_defaults > 0 ? args_copy (defaults, n_defaults) : NULL;
  self->n_defaults = n_defaults;
  self->has_self
      = n_names > 0
        && (strcmp (names[0], "self") == 0 || strcmp (names[0], "cls") == 0);
}

/**
 * dogpile_cached_function_set_asdict:
 * @self: a multi cached function
 * @asdict: the creator may leave slots empty for arguments it has no value
 *   for: those are not cached and come back %NULL (cache_multi_on_arguments'
 *   asdict=True)
 *
 * Applies to dogpile_cached_function_call_multi() and
 * dogpile_cached_function_refresh_multi(); without it, an empty slot is
 * %DOGPILE_ERROR_CREATOR.
 *
 * Thread safety: setup: call before @self is called or shared.
 */
void
dogpile_cached_function_set_asdict (DogpileCachedFunction *self,
                                    gboolean asdict)
{
  g_return_if_fail (self != NULL);
  self->asdict = asdict;
}

/**
 * dogpile_cached_function_get_namespace_prefix:
 * @self: a cached function
 *
 * What every key of @self starts with, for key generators: dogpile.cache's
 * `namespace` argument of a key generator.
 *
 * Thread safety: any thread, concurrently with any call on @self but
 * dogpile_cached_function_set_namespace(), which frees the string.
 *
 * Returns: (transfer none): `<module>:<function>`, or
 *   `<module>:<function>|<namespace>`; owned by @self
 */
const char *
dogpile_cached_function_get_namespace_prefix (DogpileCachedFunction *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->prefix;
}

/**
 * dogpile_cached_function_format_arg:
 * @self: a cached function
 * @arg: one argument; borrowed
 *
 * Formats @arg with @self's to_str function (dogpile_arg_to_str() unless
 * dogpile_cached_function_set_to_str() gave another), for key generators.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full): @arg as keys show it
 */
char *
dogpile_cached_function_format_arg (DogpileCachedFunction *self,
                                    const DogpileArg *arg)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (arg != NULL, NULL);

  if (self->to_str != NULL)
    return self->to_str (arg, self->to_str_data);
  return dogpile_arg_to_str (arg, NULL);
}

static void
append_formatted (DogpileCachedFunction *self, GString *key,
                  const DogpileArg *arg)
{
  if (self->to_str == NULL)
    dogpile__append_arg (key, arg, FALSE);
  else
    {
      g_autofree char *text = self->to_str (arg, self->to_str_data);

      g_string_append (key, text);
    }
}

static gboolean
refuse_keywords (const DogpileArg *args, gsize n_args, GError **error)
{
  for (gsize i = 0; i < n_args; i++)
    if (args[i].name != NULL)
      {
        g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                             NO_KEYWORDS_MESSAGE);
        return FALSE;
      }
  return TRUE;
}

/**
 * dogpile_function_key_generator:
 * @function: the cached function
 * @args: (array length=n_args): the arguments; borrowed
 * @n_args: how many
 * @user_data: unused
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's function_key_generator: the namespace prefix, `|`, and
 * the arguments formatted with the to_str function, joined by one space
 * (`tests.cache.test_decorator:one|1 2`); a receiver (`self`, `cls`) is
 * left out.  The default #DogpileKeyGeneratorFunc.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION for a keyword argument, which it does
 * not accept (Python's ValueError message).
 *
 * Thread safety: any thread, concurrently with any call on @function.
 *
 * Returns: (transfer full) (nullable): the key, or %NULL with @error set
 */
char *
dogpile_function_key_generator (DogpileCachedFunction *function,
                                const DogpileArg *args, gsize n_args,
                                gpointer user_data, GError **error)
{
  GString *key;
  gsize first;

  g_return_val_if_fail (function != NULL, NULL);

  if (!refuse_keywords (args, n_args, error))
    return NULL;
  first = function->has_self && n_args > 0 ? 1 : 0;
  key = g_string_sized_new (strlen (function->prefix) + 8 * n_args + 2);
  g_string_append (key, function->prefix);
  g_string_append_c (key, '|');
  for (gsize i = first; i < n_args; i++)
    {
      if (i > first)
        g_string_append_c (key, ' ');
      append_formatted (function, key, &args[i]);
    }
  return g_string_free (key, FALSE);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/**
 * dogpile_kwarg_function_key_generator:
 * @function: the cached function, with its parameters set
 *   (dogpile_cached_function_set_parameters())
 * @args: (array length=n_args): positional and keyword arguments; borrowed
 * @n_args: how many
 * @user_data: unused
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's kwarg_function_key_generator: positional arguments are
 * matched to parameter names, keyword arguments by name, missing ones with
 * a default get it; the values are joined in sorted parameter-name order.
 * `one(a, b=None)` called with `a=1` gives `...:one|1 None`, as does
 * `one(1)` and `one(b=None, a=1)`.  A keyword naming no parameter is keyed
 * under its own name, as Python's `**kwargs` would be.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when no parameters were given or there
 * are more positional arguments than parameters.
 *
 * Thread safety: any thread, concurrently with any call on @function.
 *
 * Returns: (transfer full) (nullable): the key, or %NULL with @error set
 */
char *
dogpile_kwarg_function_key_generator (DogpileCachedFunction *function,
                                      const DogpileArg *args, gsize n_args,
                                      gpointer user_data, GError **error)
{
  g_autoptr (GHashTable) by_name = NULL;
  g_autoptr (GPtrArray) names = NULL;
  gsize skip, position = 0;
  gboolean skipped_receiver = FALSE;
  GString *key;

  g_return_val_if_fail (function != NULL, NULL);

  skip = function->has_self ? 1 : 0;

  if (function->parameters == NULL)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "%s: the keyword key generator needs the parameter names "
                   "(dogpile_cached_function_set_parameters)",
                   function->prefix);
      return NULL;
    }
  by_name = g_hash_table_new (g_str_hash, g_str_equal);
  for (gsize i = 0; i < n_args; i++)
    {
      if (args[i].name != NULL)
        {
          g_hash_table_insert (by_name, (gpointer) args[i].name,
                               (gpointer) &args[i]);
          continue;
        }
      if (skip == 1 && !skipped_receiver)
        {
          skipped_receiver = TRUE;
          continue;
        }
      if (skip + position >= function->n_parameters)
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "%s takes %" G_GSIZE_FORMAT " positional arguments "
                       "but more were given",
                       function->prefix, function->n_parameters - skip);
          return NULL;
        }
      g_hash_table_insert (by_name, function->parameters[skip + position],
                           (gpointer) &args[i]);
      position++;
    }
  for (gsize d = 0; d < function->n_defaults; d++)
    {
      const char *name = function->parameters[function->n_parameters
                                              - function->n_defaults + d];

      if (!g_hash_table_contains (by_name, name))
        g_hash_table_insert (by_name, (gpointer) name,
                             (gpointer) &function->defaults[d]);
    }
  names = g_ptr_array_new ();
  {
    GHashTableIter iter;
    gpointer name;

    g_hash_table_iter_init (&iter, by_name);
    while (g_hash_table_iter_next (&iter, &name, NULL))
      g_ptr_array_add (names, name);
  }
  g_ptr_array_sort (names, compare_names);
  key = g_string_new (function->prefix);
  g_string_append_c (key, '|');
  for (guint i = 0; i < names->len; i++)
    {
      if (i > 0)
        g_string_append_c (key, ' ');
      append_formatted (function, key,
                        g_hash_table_lookup (by_name, names->pdata[i]));
    }
  return g_string_free (key, FALSE);
}

/**
 * dogpile_function_multi_key_generator:
 * @function: the multi cached function
 * @args: (array length=n_args): the arguments, each one value, the
 *   receiver first when the first parameter is `self` or `cls`; borrowed
 * @n_args: how many
 * @user_data: unused
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's function_multi_key_generator: one key per argument,
 * `<prefix>|<argument>`, the receiver left out.  The default
 * #DogpileMultiKeyGeneratorFunc.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION for a keyword argument.
 *
 * Thread safety: any thread, concurrently with any call on @function.
 *
 * Returns: (transfer full) (array zero-terminated=1) (nullable): the keys,
 *   or %NULL with @error set; free with g_strfreev()
 */
char **
dogpile_function_multi_key_generator (DogpileCachedFunction *function,
                                      const DogpileArg *args, gsize n_args,
                                      gpointer user_data, GError **error)
{
  char **keys;
  gsize first;

  g_return_val_if_fail (function != NULL, NULL);

  if (!refuse_keywords (args, n_args, error))
    return NULL;
  /* The receiver is not keyed (has_self = args[0] in ("self", "cls")). */
  first = function->has_self && n_args > 0 ? 1 : 0;
  keys = g_new0 (char *, n_args - first + 1);
  for (gsize i = first; i < n_args; i++)
    {
      GString *key = g_string_new (function->prefix);

      g_string_append_c (key, '|');
      append_formatted (function, key, &args[i]);
      keys[i - first] = g_string_free (key, FALSE);
    }
  return keys;
}

/* Python's Signature.bind + apply_defaults, as the decorator does it.
 * Sets *out to a new array (shallow copies: strings stay borrowed) when
 * binding changes anything, or to NULL when @args are already bound. */
static gboolean
bind_arguments (DogpileCachedFunction *self, const DogpileArg *args,
                gsize n_args, DogpileArg **out, gsize *out_n, GError **error)
{
  gsize n_params = self->n_parameters, n_positional = 0, n_extra = 0;
  g_autofree DogpileArg *bound = NULL;
  g_autofree gboolean *filled = NULL;
  gboolean named = FALSE;

  *out = NULL;
  *out_n = n_args;
  if (self->parameters == NULL)
    return TRUE;
  for (gsize i = 0; i < n_args; i++)
    named |= args[i].name != NULL;
  if (!named && n_args >= n_params)
    return TRUE;

  /* parameters first, then surplus positionals (*args), then keywords no
   * parameter takes (**kw) */
  bound = g_new0 (DogpileArg, n_params + n_args);
  filled = g_new0 (gboolean, n_params);
  for (gsize i = 0; i < n_args; i++)
    if (args[i].name == NULL)
      {
        if (n_positional < n_params)
          filled[n_positional] = TRUE;
        bound[n_positional++] = args[i];
      }
  n_extra = MAX (n_positional, n_params);
  for (gsize i = 0; i < n_args; i++)
    {
      gsize p = 0;

      if (args[i].name == NULL)
        continue;
      while (p < n_params && strcmp (self->parameters[p], args[i].name) != 0)
        p++;
      if (p == n_params)
        {
          bound[n_extra++] = args[i];
          continue;
        }
      if (filled[p])
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "%s: multiple values for argument '%s'", self->prefix,
                       args[i].name);
          return FALSE;
        }
      bound[p] = args[i];
      bound[p].name = NULL;
      filled[p] = TRUE;
    }
  for (gsize p = 0; p < n_params; p++)
    {
      gsize first_default = n_params - self->n_defaults;

      if (filled[p])
        continue;
      if (p < first_default)
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "%s: missing a required argument: '%s'", self->prefix,
                       self->parameters[p]);
          return FALSE;
        }
      bound[p] = self->defaults[p - first_default];
      bound[p].name = NULL;
    }
  *out = g_steal_pointer (&bound);
  *out_n = n_extra;
  return TRUE;
}

/* The key for arguments already bound. */
static char *
bound_key (DogpileCachedFunction *self, const DogpileArg *args, gsize n_args,
           GError **error)
{
  char *key;

  if (self->key_generator == NULL)
    return dogpile_function_key_generator (self, args, n_args, NULL, error);
  key = self->key_generator (self, args, n_args, self->key_generator_data,
                             error);
  if (key == NULL && error != NULL && *error == NULL)
    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                 "%s: the key generator gave no key", self->prefix);
  return key;
}

/* Binds @args and keys them; *args and *n_args then name the bound
 * arguments, held in *storage (freed by the caller) when binding made a
 * new array. */
static char *
bind_and_key (DogpileCachedFunction *self, const DogpileArg **args,
              gsize *n_args, DogpileArg **storage, GError **error)
{
  if (!bind_arguments (self, *args, *n_args, storage, n_args, error))
    return NULL;
  if (*storage != NULL)
    *args = *storage;
  return bound_key (self, *args, *n_args, error);
}

/**
 * dogpile_cached_function_dup_key:
 * @self: a cached function
 * @args: (array length=n_args): the arguments of a call; borrowed
 * @n_args: how many
 * @error: return location for a #GError, or %NULL
 *
 * The key a call with @args uses, without touching the region.  With the
 * function's parameters known, the arguments are first bound to them as
 * Python's decorator does: keyword arguments naming a parameter take its
 * place, omitted parameters their defaults.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when binding fails (a required
 * argument missing, one given twice), when the default key generator
 * meets a keyword argument, or when a custom one returns %NULL without an
 * error; else whatever the key generator reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full) (nullable): the key, or %NULL with @error set
 */
char *
dogpile_cached_function_dup_key (DogpileCachedFunction *self,
                                 const DogpileArg *args, gsize n_args,
                                 GError **error)
{
  g_autofree DogpileArg *bound = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (args != NULL || n_args == 0, NULL);

  return bind_and_key (self, &args, &n_args, &bound, error);
}

static double
call_expiration (DogpileCachedFunction *self)
{
  if (self->expiration_func != NULL)
    return self->expiration_func (self->expiration_data);
  return self->expiration_time;
}

/* What the region's creator needs to call the function. */
typedef struct {
  DogpileCachedFunction *function;
  DogpileArg *args;
  gsize n_args;
  gboolean owned; /* a heap copy, handed to a background task */
} Call;

static void
call_free (gpointer data)
{
  Call *call = data;

  if (call->owned)
    {
      args_free (call->args, call->n_args);
      dogpile_cached_function_unref (call->function);
      g_free (call);
    }
}

static GBytes *
call_creator (const char *key, gpointer data, GError **error)
{
  Call *call = data;
  DogpileCachedFunction *self = call->function;

  return self->creator (call->args, call->n_args, self->user_data, error);
}

/**
 * dogpile_cached_function_call:
 * @self: a cached function (not a multi one)
 * @args: (array length=n_args): the arguments; borrowed for the call (an
 *   async regeneration gets a copy)
 * @n_args: how many
 * @out_value: (out) (transfer full): the value
 * @error: return location for a #GError, or %NULL
 *
 * The decorated call, `fn(*args)`: the value cached for these arguments,
 * created once under the dogpile lock when missing or expired, with
 * dogpile_region_get_or_create_full().  The expiration time (or function)
 * and should_cache options apply; when the region has an async runner, an
 * expired value is returned while the runner regenerates it.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when the arguments cannot be bound or
 * keyed (see dogpile_cached_function_dup_key()), or the key generator's
 * error; then whatever dogpile_region_get_or_create_full() reports:
 * %DOGPILE_ERROR_REGION_NOT_CONFIGURED, %DOGPILE_ERROR_LOCK,
 * %DOGPILE_ERROR_INVALIDATION, the creator's error
 * (%DOGPILE_ERROR_CREATOR when it returns %NULL without one), the
 * serializer's error, and whatever the backend's call reports.
 *
 * Thread safety: any thread, concurrently with any call on @self but the
 * setup calls.
 *
 * Returns: %TRUE with the value, %FALSE with @error set
 */
gboolean
dogpile_cached_function_call (DogpileCachedFunction *self,
                              const DogpileArg *args, gsize n_args,
                              GBytes **out_value, GError **error)
{
  g_autofree char *key = NULL;
  g_autofree DogpileArg *bound = NULL;
  Call stack_call;
  Call *call = &stack_call;

  g_return_val_if_fail (self != NULL && !self->multi, FALSE);
  g_return_val_if_fail (args != NULL || n_args == 0, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);

  key = bind_and_key (self, &args, &n_args, &bound, error);
  if (key == NULL)
    return FALSE;
  stack_call = (Call){ self, (DogpileArg *) args, n_args, FALSE };
  /* A background regeneration outlives this call: give it a copy. */
  if (self->region->async_runner != NULL)
    {
      call = g_new (Call, 1);
      call->function = dogpile_cached_function_ref (self);
      call->args = args_copy (args, n_args);
      call->n_args = n_args;
      call->owned = TRUE;
    }
  return dogpile_region_get_or_create_full (
      self->region, key, call_creator, call, call_free, call_expiration (self),
      self->should_cache, self->should_cache_data, out_value, error);
}

/**
 * dogpile_cached_function_get:
 * @self: a cached function (not a multi one)
 * @args: (array length=n_args): the arguments; borrowed
 * @n_args: how many
 * @out_value: (out) (transfer full) (nullable): the cached value, %NULL if
 *   none (or expired by the region's expiration time)
 * @error: return location for a #GError, or %NULL
 *
 * The decorated function's `fn.get(*args)`: dogpile_region_get() of the
 * call's key.  The function's own expiration time is not used, as in
 * dogpile.cache, and nothing is created.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when the arguments cannot be bound or
 * keyed, or the key generator's error; then whatever dogpile_region_get()
 * reports: %DOGPILE_ERROR_REGION_NOT_CONFIGURED,
 * %DOGPILE_ERROR_CANT_DESERIALIZE for stored bytes that are not a record,
 * and whatever the backend's call reports.
 *
 * Thread safety: any thread, concurrently with any call on @self but the
 * setup calls.
 *
 * Returns: %TRUE on success (a miss included), %FALSE with @error set
 */
gboolean
dogpile_cached_function_get (DogpileCachedFunction *self,
                             const DogpileArg *args, gsize n_args,
                             GBytes **out_value, GError **error)
{
  g_autofree char *key = NULL;
  g_autofree DogpileArg *bound = NULL;

  g_return_val_if_fail (self != NULL && !self->multi, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);

  *out_value = NULL;
  key = bind_and_key (self, &args, &n_args, &bound, error);
  return key != NULL
         && dogpile_region_get (self->region, key, out_value, error);
}

/**
 * dogpile_cached_function_set:
 * @self: a cached function (not a multi one)
 * @value: the value to cache for @args; borrowed (the region takes its own
 *   reference if it keeps it)
 * @args: (array length=n_args): the arguments; borrowed
 * @n_args: how many
 * @error: return location for a #GError, or %NULL
 *
 * The decorated function's `fn.set(value, *args)`: dogpile_region_set() of
 * the call's key.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when the arguments cannot be bound or
 * keyed, or the key generator's error; then whatever dogpile_region_set()
 * reports: %DOGPILE_ERROR_REGION_NOT_CONFIGURED, the serializer's error,
 * and whatever the backend's call reports.
 *
 * Thread safety: any thread, concurrently with any call on @self but the
 * setup calls.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_cached_function_set (DogpileCachedFunction *self, GBytes *value,
                             const DogpileArg *args, gsize n_args,
                             GError **error)
{
  g_autofree char *key = NULL;
  g_autofree DogpileArg *bound = NULL;

  g_return_val_if_fail (self != NULL && !self->multi, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  key = bind_and_key (self, &args, &n_args, &bound, error);
  return key != NULL && dogpile_region_set (self->region, key, value, error);
}

/**
 * dogpile_cached_function_invalidate:
 * @self: a cached function (not a multi one)
 * @args: (array length=n_args): the arguments; borrowed
 * @n_args: how many
 * @error: return location for a #GError, or %NULL
 *
 * The decorated function's `fn.invalidate(*args)`: deletes the value cached
 * for @args (dogpile_region_delete()).  Deleting a missing key is not an
 * error.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when the arguments cannot be bound or
 * keyed, or the key generator's error; then
 * %DOGPILE_ERROR_REGION_NOT_CONFIGURED and whatever the backend's call
 * reports.
 *
 * Thread safety: any thread, concurrently with any call on @self but the
 * setup calls.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_cached_function_invalidate (DogpileCachedFunction *self,
                                    const DogpileArg *args, gsize n_args,
                                    GError **error)
{
  g_autofree char *key = NULL;
  g_autofree DogpileArg *bound = NULL;

  g_return_val_if_fail (self != NULL && !self->multi, FALSE);

  key = bind_and_key (self, &args, &n_args, &bound, error);
  return key != NULL && dogpile_region_delete (self->region, key, error);
}

/**
 * dogpile_cached_function_original:
 * @self: a cached function (not a multi one)
 * @args: (array length=n_args): the arguments, passed to the creator as
 *   given (not bound to the parameters); borrowed
 * @n_args: how many
 * @out_value: (out) (transfer full) (nullable): what the function returns,
 *   %NULL on failure
 * @error: return location for a #GError, or %NULL
 *
 * The decorated function's `fn.original(*args)`: calls the creator itself,
 * bypassing the cache.
 *
 * Errors: the creator's error; %DOGPILE_ERROR_CREATOR when it returns
 * %NULL without one.
 *
 * Thread safety: any thread, concurrently with any call on @self but the
 * setup calls.
 *
 * Returns: %TRUE with the value, %FALSE with @error set
 */
gboolean
dogpile_cached_function_original (DogpileCachedFunction *self,
                                  const DogpileArg *args, gsize n_args,
                                  GBytes **out_value, GError **error)
{
  g_return_val_if_fail (self != NULL && !self->multi, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);

  *out_value = self->creator (args, n_args, self->user_data, error);
  if (*out_value == NULL && error != NULL && *error == NULL)
    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CREATOR,
                 "%s returned no value", self->prefix);
  return *out_value != NULL;
}

/**
 * dogpile_cached_function_refresh:
 * @self: a cached function (not a multi one)
 * @args: (array length=n_args): the arguments; borrowed
 * @n_args: how many
 * @out_value: (out) (transfer full) (nullable): the new value, %NULL on
 *   failure
 * @error: return location for a #GError, or %NULL
 *
 * The decorated function's `fn.refresh(*args)`: calls the creator with the
 * bound arguments and stores what it returns with dogpile_region_set(): no
 * lock, no should_cache, as in dogpile.cache.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when the arguments cannot be bound or
 * keyed, or the key generator's error; the creator's error
 * (%DOGPILE_ERROR_CREATOR when it returns %NULL without one); then
 * whatever dogpile_region_set() reports:
 * %DOGPILE_ERROR_REGION_NOT_CONFIGURED, the serializer's error, and
 * whatever the backend's call reports.
 *
 * Thread safety: any thread, concurrently with any call on @self but the
 * setup calls.
 *
 * Returns: %TRUE with the new value, %FALSE with @error set
 */
gboolean
dogpile_cached_function_refresh (DogpileCachedFunction *self,
                                 const DogpileArg *args, gsize n_args,
                                 GBytes **out_value, GError **error)
{
  g_autofree char *key = NULL;
  g_autofree DogpileArg *bound = NULL;

  g_return_val_if_fail (self != NULL && !self->multi, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);

  *out_value = NULL;
  key = bind_and_key (self, &args, &n_args, &bound, error);
  if (key == NULL
      || !dogpile_cached_function_original (self, args, n_args, out_value,
                                            error))
    return FALSE;
  if (!dogpile_region_set (self->region, key, *out_value, error))
    {
      g_clear_pointer (out_value, g_bytes_unref);
      return FALSE;
    }
  return TRUE;
}

/* --- the multi form ------------------------------------------------- */

/* Keys for the keyed arguments, @args being what split_receiver() left.
 * A key generator sees every argument, the receiver first when there is
 * one, as Python's generate_keys(*args) does; it drops it itself. */
static char **
multi_keys (DogpileCachedFunction *self, const DogpileArg *args, gsize n_args,
            GError **error)
{
  const DogpileArg *all = args;
  gsize n_all = n_args;
  char **keys;

  if (n_args == 0)
    return g_new0 (char *, 1);
  if (self->has_self)
    {
      /* split_receiver() stepped over args[-1], the receiver */
      all = args - 1;
      n_all = n_args + 1;
    }
  if (self->multi_key_generator == NULL)
    return dogpile_function_multi_key_generator (self, all, n_all, NULL,
                                                 error);
  keys = self->multi_key_generator (self, all, n_all,
                                    self->multi_key_generator_data, error);
  if (keys == NULL && error != NULL && *error == NULL)
    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                 "%s: the key generator gave no keys", self->prefix);
  else if (keys != NULL && g_strv_length (keys) != n_args)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "%s: the key generator gave %u keys for %" G_GSIZE_FORMAT
                   " arguments",
                   self->prefix, g_strv_length (keys), n_args);
      g_clear_pointer (&keys, g_strfreev);
    }
  return keys;
}

/* "No value" from an asdict creator, on its way through the region. */
static GBytes *
missing_value (void)
{
  static GBytes *missing;

  if (g_once_init_enter (&missing))
    g_once_init_leave (&missing, g_bytes_new_static ("", 0));
  return missing;
}

typedef struct {
  DogpileCachedFunction *function;
  const DogpileArg *receiver; /* passed first to the creator, or NULL */
  GHashTable *arg_of_key;     /* key -> const DogpileArg* */
} MultiCall;

static gboolean
multi_call_creator (const char *const *keys, gsize n_keys, GBytes **out_values,
                    gpointer data, GError **error)
{
  MultiCall *call = data;
  DogpileCachedFunction *self = call->function;
  gsize offset = call->receiver != NULL ? 1 : 0;
  g_autofree DogpileArg *args = g_new (DogpileArg, n_keys + offset);

  if (call->receiver != NULL)
    args[0] = *call->receiver;
  for (gsize i = 0; i < n_keys; i++)
    args[offset + i] = *(const DogpileArg *) g_hash_table_lookup (
        call->arg_of_key, keys[i]);
  if (!self->multi_creator (args, n_keys + offset, out_values, self->user_data,
                            error))
    return FALSE;
  if (self->asdict)
    for (gsize i = 0; i < n_keys; i++)
      if (out_values[i] == NULL)
        out_values[i] = g_bytes_ref (missing_value ());
  return TRUE;
}

static gboolean
multi_should_cache (GBytes *value, gpointer data)
{
  DogpileCachedFunction *self = ((MultiCall *) data)->function;

  if (value == missing_value ())
    return FALSE;
  return self->should_cache == NULL
         || self->should_cache (value, self->should_cache_data);
}

/* Splits off the receiver (a first `self`/`cls` argument). */
static const DogpileArg *
split_receiver (DogpileCachedFunction *self, const DogpileArg **args,
                gsize *n_args)
{
  const DogpileArg *receiver;

  if (!self->has_self || *n_args == 0)
    return NULL;
  receiver = *args;
  (*args)++;
  (*n_args)--;
  return receiver;
}

/**
 * dogpile_cached_function_call_multi:
 * @self: a multi cached function
 * @args: (array length=n_args): the arguments, each a key of its own (after
 *   the receiver, when the first parameter is `self` or `cls`); borrowed
 * @n_args: how many
 * @out_values: (array) (out caller-allocates): one slot per keyed argument
 *   (@n_args, or @n_args - 1 with a receiver): the values (transfer full),
 *   aligned with the keyed arguments; %NULL for "no value" of an asdict
 *   function
 * @error: return location for a #GError, or %NULL
 *
 * The call of a function decorated with cache_multi_on_arguments: one
 * dogpile_region_get_or_create_multi(), which calls the creator once with
 * the arguments whose values are missing or expired, in the order of
 * their keys (so `10` before `2` before `8`, as Python sorts the key
 * strings).  The expiration time (or function) and should_cache apply.
 * Unlike dogpile.cache, a receiver is passed to the creator first and
 * never mixed up with the keyed arguments.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when the keys cannot be made (a
 * keyword argument, a key generator that gives none or the wrong number),
 * or the key generator's error; then whatever
 * dogpile_region_get_or_create_multi() reports:
 * %DOGPILE_ERROR_REGION_NOT_CONFIGURED, %DOGPILE_ERROR_LOCK,
 * %DOGPILE_ERROR_INVALIDATION, the creator's error, %DOGPILE_ERROR_CREATOR
 * when it fails without one or leaves a slot empty (asdict aside), the
 * serializer's error, and whatever the backend's call reports.
 *
 * Thread safety: any thread, concurrently with any call on @self but the
 * setup calls.
 *
 * Returns: %TRUE with every slot filled (but asdict misses), %FALSE with
 *   @error set and every slot %NULL
 */
gboolean
dogpile_cached_function_call_multi (DogpileCachedFunction *self,
                                    const DogpileArg *args, gsize n_args,
                                    GBytes **out_values, GError **error)
{
  g_auto (GStrv) keys = NULL;
  g_autoptr (GHashTable) arg_of_key = NULL;
  MultiCall call;
  gsize n;

  g_return_val_if_fail (self != NULL && self->multi, FALSE);
  g_return_val_if_fail (args != NULL || n_args == 0, FALSE);

  call.function = self;
  call.receiver = split_receiver (self, &args, &n_args);
  n = n_args;
  for (gsize i = 0; i < n; i++)
    out_values[i] = NULL;
  keys = multi_keys (self, args, n, error);
  if (keys == NULL)
    return FALSE;
  arg_of_key = g_hash_table_new (g_str_hash, g_str_equal);
  for (gsize i = 0; i < n; i++)
    if (!g_hash_table_contains (arg_of_key, keys[i]))
      g_hash_table_insert (arg_of_key, keys[i], (gpointer) &args[i]);
  call.arg_of_key = arg_of_key;
  if (!dogpile_region_get_or_create_multi (
          self->region, (const char *const *) keys, n, multi_call_creator,
          &call, call_expiration (self), multi_should_cache, &call, out_values,
          error))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (out_values[i] == missing_value ())
      g_clear_pointer (&out_values[i], g_bytes_unref);
  return TRUE;
}

/**
 * dogpile_cached_function_get_multi:
 * @self: a multi cached function
 * @args: (array length=n_args): the arguments (after the receiver, when
 *   there is one); borrowed
 * @n_args: how many
 * @out_values: (array) (out caller-allocates): one slot per keyed argument
 *   (@n_args, or @n_args - 1 with a receiver): the cached value (transfer
 *   full) or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * The decorated function's `fn.get(*args)` of the multi form:
 * dogpile_region_get_multi() of the arguments' keys, with the region's
 * expiration time.  Nothing is created.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when the keys cannot be made, or the
 * key generator's error; then whatever dogpile_region_get_multi() reports
 * (when the call fails every slot is %NULL):
 * %DOGPILE_ERROR_REGION_NOT_CONFIGURED, %DOGPILE_ERROR_CANT_DESERIALIZE
 * for stored bytes that are not a record, and whatever the backend's call
 * reports.
 *
 * Thread safety: any thread, concurrently with any call on @self but the
 * setup calls.
 *
 * Returns: %TRUE on success (misses included), %FALSE with @error set
 */
gboolean
dogpile_cached_function_get_multi (DogpileCachedFunction *self,
                                   const DogpileArg *args, gsize n_args,
                                   GBytes **out_values, GError **error)
{
  g_auto (GStrv) keys = NULL;

  g_return_val_if_fail (self != NULL && self->multi, FALSE);

  split_receiver (self, &args, &n_args);
  g_return_val_if_fail (out_values != NULL || n_args == 0, FALSE);
  for (gsize i = 0; i < n_args; i++)
    out_values[i] = NULL;
  keys = multi_keys (self, args, n_args, error);
  return keys != NULL
         && dogpile_region_get_multi (self->region, (const char *const *) keys,
                                      n_args, out_values, error);
}

/**
 * dogpile_cached_function_set_multi:
 * @self: a multi cached function
 * @args: (array length=n_args): the arguments (after the receiver, when
 *   there is one); borrowed
 * @values: (array): the value for each keyed argument (@n_args of them, or
 *   @n_args - 1 with a receiver); borrowed
 * @n_args: how many arguments
 * @error: return location for a #GError, or %NULL
 *
 * The decorated function's `fn.set(...)` of the multi form:
 * dogpile_region_set_multi() of the arguments' keys.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when the keys cannot be made, or the
 * key generator's error; then whatever dogpile_region_set_multi() reports:
 * %DOGPILE_ERROR_REGION_NOT_CONFIGURED, the serializer's error, and
 * whatever the backend's call reports.
 *
 * Thread safety: any thread, concurrently with any call on @self but the
 * setup calls.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_cached_function_set_multi (DogpileCachedFunction *self,
                                   const DogpileArg *args,
                                   GBytes *const *values, gsize n_args,
                                   GError **error)
{
  g_auto (GStrv) keys = NULL;

  g_return_val_if_fail (self != NULL && self->multi, FALSE);

  split_receiver (self, &args, &n_args);
  keys = multi_keys (self, args, n_args, error);
  return keys != NULL
         && dogpile_region_set_multi (self->region, (const char *const *) keys,
                                      values, n_args, error);
}

/**
 * dogpile_cached_function_invalidate_multi:
 * @self: a multi cached function
 * @args: (array length=n_args): the arguments (after the receiver, when
 *   there is one); borrowed
 * @n_args: how many
 * @error: return location for a #GError, or %NULL
 *
 * The decorated function's `fn.invalidate(*args)` of the multi form:
 * deletes the arguments' keys with dogpile_region_delete_multi().  Missing
 * keys are not an error.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when the keys cannot be made, or the
 * key generator's error; then %DOGPILE_ERROR_REGION_NOT_CONFIGURED and
 * whatever the backend's call reports.
 *
 * Thread safety: any thread, concurrently with any call on @self but the
 * setup calls.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_cached_function_invalidate_multi (DogpileCachedFunction *self,
                                          const DogpileArg *args, gsize n_args,
                                          GError **error)
{
  g_auto (GStrv) keys = NULL;

  g_return_val_if_fail (self != NULL && self->multi, FALSE);

  split_receiver (self, &args, &n_args);
  keys = multi_keys (self, args, n_args, error);
  return keys != NULL
         && dogpile_region_delete_multi (
             self->region, (const char *const *) keys, n_args, error);
}

/**
 * dogpile_cached_function_refresh_multi:
 * @self: a multi cached function
 * @args: (array length=n_args): the arguments (after the receiver, when
 *   there is one); borrowed
 * @n_args: how many
 * @out_values: (array) (out caller-allocates): one slot per keyed argument
 *   (@n_args, or @n_args - 1 with a receiver): the new values (transfer
 *   full); %NULL for "no value" of an asdict function
 * @error: return location for a #GError, or %NULL
 *
 * The decorated function's `fn.refresh(*args)` of the multi form: calls
 * the creator once with every argument, in the order given (the receiver
 * first), stores the values with one dogpile_region_set_multi() (an asdict
 * function's missing ones are skipped) and returns them.  No lock, no
 * should_cache, as in dogpile.cache.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when the keys cannot be made, or the
 * key generator's error; the creator's error; %DOGPILE_ERROR_CREATOR when
 * the creator fails without one or leaves a slot empty (asdict aside);
 * then whatever dogpile_region_set_multi() reports:
 * %DOGPILE_ERROR_REGION_NOT_CONFIGURED, the serializer's error, and
 * whatever the backend's call reports.
 *
 * Thread safety: any thread, concurrently with any call on @self but the
 * setup calls.
 *
 * Returns: %TRUE with the values, %FALSE with @error set and every slot
 *   %NULL
 */
gboolean
dogpile_cached_function_refresh_multi (DogpileCachedFunction *self,
                                       const DogpileArg *args, gsize n_args,
                                       GBytes **out_values, GError **error)
{
  g_auto (GStrv) keys = NULL;
  g_autofree const char **store_keys = NULL;
  g_autofree GBytes **store_values = NULL;
  const DogpileArg *all_args = args;
  gsize all_n = n_args, n_store = 0;

  g_return_val_if_fail (self != NULL && self->multi, FALSE);

  split_receiver (self, &args, &n_args);
  for (gsize i = 0; i < n_args; i++)
    out_values[i] = NULL;
  keys = multi_keys (self, args, n_args, error);
  if (keys == NULL)
    return FALSE;
  if (!self->multi_creator (all_args, all_n, out_values, self->user_data,
                            error))
    {
      for (gsize i = 0; i < n_args; i++)
        g_clear_pointer (&out_values[i], g_bytes_unref);
      if (error != NULL && *error == NULL)
        g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CREATOR,
                     "%s failed without saying why", self->prefix);
      return FALSE;
    }
  store_keys = g_new (const char *, MAX (n_args, 1));
  store_values = g_new (GBytes *, MAX (n_args, 1));
  for (gsize i = 0; i < n_args; i++)
    {
      if (out_values[i] == NULL && !self->asdict)
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CREATOR,
                       "%s gave no value for %s", self->prefix, keys[i]);
          for (gsize j = 0; j < n_args; j++)
            g_clear_pointer (&out_values[j], g_bytes_unref);
          return FALSE;
        }
      if (out_values[i] != NULL)
        {
          store_keys[n_store] = keys[i];
          store_values[n_store++] = out_values[i];
        }
    }
  if (!dogpile_region_set_multi (self->region, store_keys, store_values,
                                 n_store, error))
    {
      for (gsize i = 0; i < n_args; i++)
        g_clear_pointer (&out_values[i], g_bytes_unref);
      return FALSE;
    }
  return TRUE;
}
