/* dogpile-backend.c: the nodes of a region's chain -- plugin instances and
 * the proxies in front of them -- and the adapters between levels.
 *
 * A plugin works on bytes (get/set: it stores records), on values
 * (get_value/set_value: it keeps payload + metadata by reference), or both.
 * The region always speaks values and the raw API always speaks bytes; this
 * file turns one into the other with the record codec, and loops over
 * single-key operations where a plugin has no multi variant.  A proxy node
 * runs its own operation if it has one and otherwise passes the call,
 * unchanged, to the next node (dogpile.cache's ProxyBackend).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

#include <math.h>

struct DogpileBackend {
  gint ref_count;
  const DogpileBackendDesc *desc; /* plugin; NULL for a proxy */
  DogpileBackendImpl *impl;
  const DogpileProxyDesc *proxy; /* proxy; NULL for a plugin */
  DogpileProxyImpl *proxy_impl;
  DogpileBackend *next;
};

static void
clear_bytes_array (GBytes **values, gsize n)
{
  for (gsize i = 0; i < n; i++)
    g_clear_pointer (&values[i], g_bytes_unref);
}

/* A plugin that fails without saying why still owes the caller an error. */
static gboolean
ensure_error (gboolean ok, GError **error, DogpileBackend *self,
              const char *operation)
{
  if (!ok && error != NULL && *error == NULL)
    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                 "%s %s failed in %s without reporting why",
                 self->proxy != NULL ? "Proxy" : "Backend",
                 dogpile_backend_get_name (self), operation);
  return ok;
}

/* Runs the proxy's own @op if it has one, else the same call on next. */
#define PROXY_DISPATCH(self, op, error, ...)                                  \
  G_STMT_START                                                                \
  {                                                                           \
    if ((self)->proxy != NULL)                                                \
      {                                                                       \
        if ((self)->proxy->op != NULL)                                        \
          return ensure_error ((self)->proxy->op ((self)->proxy_impl,         \
                                                  (self)->next, __VA_ARGS__), \
                               (error), (self), #op);                         \
        return dogpile_backend_##op ((self)->next, __VA_ARGS__);              \
      }                                                                       \
  }                                                                           \
  G_STMT_END

/* After @owner's create(): every argument it read must be in its table,
 * else a user who gives one is warned that it is unknown.  That is a
 * defect of the plugin, reported as GLib reports a caller's mistake; the
 * names read go to the debug log (G_MESSAGES_DEBUG=dogpile), which is how
 * tests/core/test-argument-reads.c sees them. */
static void
report_reads (const char *owner, const DogpileArgumentSpec *specs,
              DogpileArgumentsTrace *trace)
{
  g_autoptr (GString) names = g_string_new (NULL);

  for (guint i = 0; i < trace->names->len; i++)
    {
      const char *name = g_ptr_array_index (trace->names, i);

      if (specs != NULL && dogpile_argument_specs_lookup (specs, name) == NULL)
        g_critical ("%s read the argument '%s', which its argument table "
                    "does not declare: users who give it are told it is "
                    "unknown",
                    owner, name);
      g_string_append_printf (names, "%s%s", i > 0 ? " " : "", name);
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "DOGPILE_PLUGIN", owner,
                    "DOGPILE_ARGUMENTS_READ", names->str, "MESSAGE",
                    "%s read the arguments: %s", owner,
                    names->len > 0 ? names->str : "(none)");
}

DogpileBackend *
dogpile__backend_new_proxy (const DogpileProxyDesc *proxy,
                            GHashTable *arguments, DogpileBackend *next,
                            gboolean strict, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  DogpileProxyImpl *impl = NULL;
  DogpileBackend *self;

  if (!dogpile_argument_specs_check (dogpile_proxy_desc_get_arguments (proxy),
                                     proxy->name, arguments, strict, error))
    return NULL;

  if (proxy->create != NULL)
    {
      DogpileArgumentsTrace trace;

      dogpile__arguments_trace_begin (&trace, arguments);
      impl = proxy->create (arguments, &local_error);
      report_reads (proxy->name, dogpile_proxy_desc_get_arguments (proxy),
                    &trace);
      dogpile__arguments_trace_end (&trace);
      if (impl == NULL)
        {
          if (local_error == NULL)
            g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                         "Proxy %s could not be created (it gave no reason)",
                         proxy->name);
          else
            g_propagate_prefixed_error (
                error, g_steal_pointer (&local_error),
                "Cannot create proxy %s: ", proxy->name);
          return NULL;
        }
    }
  self = g_new0 (DogpileBackend, 1);
  self->ref_count = 1;
  self->proxy = proxy;
  self->proxy_impl = impl;
  self->next = dogpile_backend_ref (next);
  return self;
}

DogpileBackend *
dogpile__backend_new_from_desc (const DogpileBackendDesc *desc,
                                GHashTable *arguments, gboolean strict,
                                GError **error)
{
  g_autoptr (GError) local_error = NULL;
  DogpileBackendImpl *impl;
  DogpileBackend *self;
  DogpileArgumentsTrace trace;

  if (!dogpile_argument_specs_check (dogpile_backend_desc_get_arguments (desc),
                                     desc->name, arguments, strict, error))
    return NULL;

  dogpile__arguments_trace_begin (&trace, arguments);
  impl = desc->create (arguments, &local_error);
  report_reads (desc->name, dogpile_backend_desc_get_arguments (desc), &trace);
  dogpile__arguments_trace_end (&trace);
  if (impl == NULL)
    {
      if (local_error == NULL)
        g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                     "Backend %s could not be created (it gave no reason)",
                     desc->name);
      else
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                    "Cannot create backend %s: ", desc->name);
      return NULL;
    }
  self = g_new0 (DogpileBackend, 1);
  self->ref_count = 1;
  self->desc = desc;
  self->impl = impl;
  return self;
}

/**
 * dogpile_backend_new:
 * @name: a backend name from the default registry
 * @arguments: (nullable) (element-type utf8 utf8): the backend's arguments;
 *   borrowed, never modified
 * @error: return location for a #GError
 *
 * Loads and creates a backend outside any region, for raw access to the
 * stored bytes (what dogpile.cache's tests do with backend_cls(arguments)).
 *
 * Errors: the registry's (%DOGPILE_ERROR_PLUGIN_NOT_FOUND and the other
 * PLUGIN codes, as dogpile_registry_load_backend()), and what the
 * backend's create reports (%DOGPILE_ERROR_VALIDATION for a bad argument,
 * %DOGPILE_ERROR_BACKEND).
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full): the backend, or %NULL with @error set.
 */
DogpileBackend *
dogpile_backend_new (const char *name, GHashTable *arguments, GError **error)
{
  const DogpileBackendDesc *desc;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  desc = dogpile_registry_load_backend (dogpile_registry_get_default (), name,
                                        error);
  if (desc == NULL)
    return NULL;
  return dogpile__backend_new_from_desc (desc, arguments, FALSE, error);
}

/**
 * dogpile_backend_ref:
 * @self: a backend
 *
 * Takes a reference to @self.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full): @self
 */
DogpileBackend *
dogpile_backend_ref (DogpileBackend *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

/**
 * dogpile_backend_unref:
 * @self: (transfer full): a backend
 *
 * The last reference destroys the instance (its connections, its memory);
 * the plugin module itself stays loaded.
 *
 * Thread safety: any thread; the last unref must not race a call on @self.
 */
void
dogpile_backend_unref (DogpileBackend *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  if (self->proxy != NULL)
    {
      if (self->proxy->destroy != NULL)
        self->proxy->destroy (self->proxy_impl);
      dogpile_backend_unref (self->next);
    }
  else
    self->desc->destroy (self->impl);
  g_free (self);
}

/**
 * dogpile_backend_get_name:
 * @self: a backend or proxy
 *
 * The name @self was registered under (dogpile.cache.redis, a proxy's
 * dogpile.proxies.stats).
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer none): its registry name.
 */
const char *
dogpile_backend_get_name (DogpileBackend *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->proxy != NULL ? self->proxy->name : self->desc->name;
}

/**
 * dogpile_backend_get_next:
 * @self: a backend or proxy
 *
 * The next node of a region's chain of proxies.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer none) (nullable): what a proxy passes calls to;
 * %NULL for a plugin instance, the end of the chain.
 */
DogpileBackend *
dogpile_backend_get_next (DogpileBackend *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->next;
}

/**
 * dogpile_backend_get_description:
 * @self: a backend
 *
 * The description its descriptor gives, as `dogpile-plugins` shows it.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer none) (nullable): the plugin's one-line description.
 */
const char *
dogpile_backend_get_description (DogpileBackend *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->proxy != NULL ? self->proxy->description
                             : self->desc->description;
}

/**
 * dogpile_backend_get:
 * @self: a backend
 * @key: the (already mangled) key
 * @out_value: (out) (transfer full) (nullable): the stored bytes, %NULL on
 *   a miss
 * @error: return location for a #GError
 *
 * Reads the bytes stored under @key, as dogpile.cache's
 * CacheBackend.get() does (a value-level backend gives its payload as a
 * dogpile record).
 *
 * Errors: %DOGPILE_ERROR_BACKEND, or whatever the backend's get reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, hit or miss.
 */
gboolean
dogpile_backend_get (DogpileBackend *self, const char *key, GBytes **out_value,
                     GError **error)
{
  g_autoptr (GBytes) payload = NULL;
  DogpileMetadata metadata = { 0 };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out_value = NULL;
  PROXY_DISPATCH (self, get, error, key, out_value, error);
  if (self->desc->get != NULL)
    return ensure_error (self->desc->get (self->impl, key, out_value, error),
                         error, self, "get");
  if (!ensure_error (
          self->desc->get_value (self->impl, key, &payload, &metadata, error),
          error, self, "get_value"))
    return FALSE;
  if (payload != NULL)
    *out_value = dogpile_record_encode (payload, &metadata);
  return TRUE;
}

/**
 * dogpile_backend_set:
 * @self: a backend
 * @key: the (already mangled) key
 * @value: the bytes to store, as they are
 * @error: return location for a #GError
 *
 * Stores @value under @key as it is, as CacheBackend.set() does.
 *
 * Errors: %DOGPILE_ERROR_CANT_DESERIALIZE when a value-level backend is
 * given bytes that are not a record; %DOGPILE_ERROR_BACKEND, or whatever
 * the backend's set reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success.  A backend that only keeps values accepts
 * only dogpile records here (%DOGPILE_ERROR_CANT_DESERIALIZE otherwise).
 */
gboolean
dogpile_backend_set (DogpileBackend *self, const char *key, GBytes *value,
                     GError **error)
{
  g_autoptr (GBytes) payload = NULL;
  DogpileMetadata metadata = { 0 };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  PROXY_DISPATCH (self, set, error, key, value, error);
  if (self->desc->set != NULL)
    return ensure_error (self->desc->set (self->impl, key, value, error),
                         error, self, "set");
  if (!dogpile_record_decode (value, &payload, &metadata, error))
    return FALSE;
  return ensure_error (
      self->desc->set_value (self->impl, key, payload, &metadata, error),
      error, self, "set_value");
}

/**
 * dogpile_backend_delete:
 * @self: a backend
 * @key: the (already mangled) key
 * @error: return location for a #GError
 *
 * Removes @key, as CacheBackend.delete() does.  Deleting a missing key
 * is not an error.
 *
 * Errors: %DOGPILE_ERROR_BACKEND, or whatever the backend's delete
 * reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success.
 */
gboolean
dogpile_backend_delete (DogpileBackend *self, const char *key, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  PROXY_DISPATCH (self, delete, error, key, error);
  return ensure_error (self->desc->delete_key (self->impl, key, error), error,
                       self, "delete");
}

/**
 * dogpile_backend_get_multi:
 * @self: a backend
 * @keys: (array length=n_keys): the keys
 * @n_keys: how many
 * @out_values: (array length=n_keys) (out caller-allocates): one slot per
 *   key, filled with the stored bytes or %NULL for a miss
 * @error: return location for a #GError
 *
 * Reads @n_keys keys at once (CacheBackend.get_multi()): one call to the
 * backend's get_multi when it has one, else one get per key.
 *
 * Errors: %DOGPILE_ERROR_BACKEND, or whatever the backend reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success; on failure every slot is %NULL.
 */
gboolean
dogpile_backend_get_multi (DogpileBackend *self, const char *const *keys,
                           gsize n_keys, GBytes **out_values, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (keys != NULL || n_keys == 0, FALSE);
  g_return_val_if_fail (out_values != NULL || n_keys == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (gsize i = 0; i < n_keys; i++)
    out_values[i] = NULL;
  if (n_keys == 0)
    return TRUE;
  /* Proxies see the raw API through their single-key get, if any. */
  if (self->proxy != NULL && self->proxy->get == NULL)
    return dogpile_backend_get_multi (self->next, keys, n_keys, out_values,
                                      error);
  if (self->proxy == NULL && self->desc->get_multi != NULL)
    {
      if (ensure_error (self->desc->get_multi (self->impl, keys, n_keys,
                                               out_values, error),
                        error, self, "get_multi"))
        return TRUE;
      clear_bytes_array (out_values, n_keys);
      return FALSE;
    }
  for (gsize i = 0; i < n_keys; i++)
    if (!dogpile_backend_get (self, keys[i], &out_values[i], error))
      {
        clear_bytes_array (out_values, n_keys);
        return FALSE;
      }
  return TRUE;
}

/**
 * dogpile_backend_set_multi:
 * @self: a backend
 * @keys: (array length=n_keys): the keys
 * @values: (array length=n_keys): the bytes for each key
 * @n_keys: how many
 * @error: return location for a #GError
 *
 * Stores @n_keys values at once (CacheBackend.set_multi()): one call to
 * the backend's set_multi when it has one, else one set per key, stopping
 * at the first failure (the earlier ones stay stored).
 *
 * Errors: as dogpile_backend_set().
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success.
 */
gboolean
dogpile_backend_set_multi (DogpileBackend *self, const char *const *keys,
                           GBytes *const *values, gsize n_keys, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (keys != NULL || n_keys == 0, FALSE);
  g_return_val_if_fail (values != NULL || n_keys == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n_keys == 0)
    return TRUE;
  if (self->proxy != NULL && self->proxy->set == NULL)
    return dogpile_backend_set_multi (self->next, keys, values, n_keys, error);
  if (self->proxy == NULL && self->desc->set_multi != NULL)
    return ensure_error (
        self->desc->set_multi (self->impl, keys, values, n_keys, error), error,
        self, "set_multi");
  for (gsize i = 0; i < n_keys; i++)
    if (!dogpile_backend_set (self, keys[i], values[i], error))
      return FALSE;
  return TRUE;
}

/**
 * dogpile_backend_delete_multi:
 * @self: a backend
 * @keys: (array length=n_keys): the keys
 * @n_keys: how many; 0 sends nothing to the backend
 * @error: return location for a #GError
 *
 * Removes @n_keys keys at once (CacheBackend.delete_multi()): one call to
 * the backend's delete_multi when it has one, else one delete per key.
 *
 * Errors: as dogpile_backend_delete().
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success.
 */
gboolean
dogpile_backend_delete_multi (DogpileBackend *self, const char *const *keys,
                              gsize n_keys, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (keys != NULL || n_keys == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n_keys == 0)
    return TRUE;
  PROXY_DISPATCH (self, delete_multi, error, keys, n_keys, error);
  if (self->desc->delete_multi != NULL)
    return ensure_error (
        self->desc->delete_multi (self->impl, keys, n_keys, error), error,
        self, "delete_multi");
  for (gsize i = 0; i < n_keys; i++)
    if (!dogpile_backend_delete (self, keys[i], error))
      return FALSE;
  return TRUE;
}

/**
 * dogpile_backend_get_mutex:
 * @self: a backend
 * @key: the (already mangled) key
 *
 * The mutex a region holds while it regenerates @key, as
 * CacheBackend.get_mutex() gives it.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full) (nullable): the backend's own mutex for @key (a
 * distributed lock, a lock file), or %NULL when the backend has none and a
 * region would use an in-process lock.
 */
DogpileMutex *
dogpile_backend_get_mutex (DogpileBackend *self, const char *key)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  if (self->proxy != NULL)
    return self->proxy->get_mutex != NULL
               ? self->proxy->get_mutex (self->proxy_impl, self->next, key)
               : dogpile_backend_get_mutex (self->next, key);
  if (self->desc->get_mutex == NULL)
    return NULL;
  return self->desc->get_mutex (self->impl, key);
}

gboolean
dogpile__backend_get_direct (DogpileBackend *self,
                             DogpileGetValueFunc *out_func,
                             DogpileBackendImpl **out_impl)
{
  *out_func = NULL;
  *out_impl = NULL;
  if (self->desc == NULL || self->desc->get_value == NULL)
    return FALSE;
  *out_func = self->desc->get_value;
  *out_impl = self->impl;
  return TRUE;
}

gboolean
dogpile__backend_failed (DogpileBackend *self, const char *operation,
                         GError **error)
{
  return ensure_error (FALSE, error, self, operation);
}

DogpileProxyImpl *
dogpile__backend_get_proxy_impl (DogpileBackend *self,
                                 const DogpileProxyDesc *desc)
{
  return self->proxy == desc ? self->proxy_impl : NULL;
}

/* Tells a plugin (not a proxy) the region's serializer, when it asks. */
gboolean
dogpile__backend_set_serializer (DogpileBackend *self, const char *serializer,
                                 GError **error)
{
  if (self->desc == NULL || self->desc->abi_version < 2
      || self->desc->set_serializer == NULL)
    return TRUE;
  return ensure_error (
      self->desc->set_serializer (self->impl, serializer, error), error, self,
      "set_serializer");
}

/* Tells a plugin (not a proxy) its region's expiration time, when it asks
 * (ABI 3). */
void
dogpile__backend_set_region_expiration_time (DogpileBackend *self,
                                             double expiration_time)
{
  if (self->desc == NULL || self->desc->abi_version < 3
      || self->desc->set_region_expiration_time == NULL)
    return;
  self->desc->set_region_expiration_time (self->impl, expiration_time);
}

/**
 * dogpile_backend_get_counters:
 * @self: a backend or proxy
 * @out_counters: (out caller-allocates): the counters
 * @error: return location for a #GError
 *
 * Reads the counters (entries, evictions by size and by expiry, the
 * policy's window) of the plugin at the end of @self's chain: a proxy
 * passes the call on.  @out_counters is zero-filled first, so a counter
 * the plugin does not keep reads 0.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when the plugin keeps no counters;
 * whatever its get_counters reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success; %FALSE with %DOGPILE_ERROR_VALIDATION when
 * the plugin keeps no counters (it has no get_counters, or was built for
 * ABI 1 or 2), or with the plugin's own error.
 */
gboolean
dogpile_backend_get_counters (DogpileBackend *self,
                              DogpileBackendCounters *out_counters,
                              GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out_counters != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  while (self->proxy != NULL)
    self = self->next;
  memset (out_counters, 0, sizeof *out_counters);
  if (self->desc->abi_version < 3 || self->desc->get_counters == NULL)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "Backend %s keeps no counters", self->desc->name);
      return FALSE;
    }
  return ensure_error (
      self->desc->get_counters (self->impl, out_counters, error), error, self,
      "get_counters");
}

/* Only plugins mangle keys: the region asks its actual backend, once, when
 * it is configured. */
gboolean
dogpile__backend_has_key_mangler (DogpileBackend *self)
{
  return self->desc != NULL && self->desc->mangle_key != NULL;
}

char *
dogpile__backend_mangle_key (DogpileBackend *self, const char *key)
{
  return self->desc->mangle_key (self->impl, key);
}

/**
 * dogpile_backend_get_value:
 * @self: a backend or proxy
 * @key: the (already mangled) key
 * @out_payload: (out) (transfer full) (nullable): the payload, %NULL on a
 *   miss
 * @out_metadata: (out): its metadata
 * @error: return location for a #GError
 *
 * Reads the payload and metadata stored under @key: from a value-level
 * backend as it keeps them, from a byte-level one by decoding the stored
 * record.
 *
 * Errors: %DOGPILE_ERROR_CANT_DESERIALIZE for stored bytes that are not a
 * record; %DOGPILE_ERROR_BACKEND, or whatever the backend reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, hit or miss; %FALSE with
 * %DOGPILE_ERROR_CANT_DESERIALIZE for stored bytes that are not a record.
 */
gboolean
dogpile_backend_get_value (DogpileBackend *self, const char *key,
                           GBytes **out_payload, DogpileMetadata *out_metadata,
                           GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (out_payload != NULL, FALSE);
  g_return_val_if_fail (out_metadata != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return dogpile__backend_get_value (self, key, out_payload, out_metadata,
                                     error);
}

/* A value-level plugin first: the region's hit path on the memory
 * backend is this test and one call.  A failure is reported once, as the
 * plugin reported it; nothing is asked twice. */
gboolean
dogpile__backend_get_value (DogpileBackend *self, const char *key,
                            GBytes **out_payload,
                            DogpileMetadata *out_metadata, GError **error)
{
  g_autoptr (GBytes) record = NULL;

  *out_payload = NULL;
  if (G_LIKELY (self->desc != NULL && self->desc->get_value != NULL))
    return ensure_error (self->desc->get_value (self->impl, key, out_payload,
                                                out_metadata, error),
                         error, self, "get_value");
  PROXY_DISPATCH (self, get_value, error, key, out_payload, out_metadata,
                  error);
  if (!ensure_error (self->desc->get (self->impl, key, &record, error), error,
                     self, "get"))
    return FALSE;
  if (record == NULL)
    return TRUE;
  return dogpile_record_decode (record, out_payload, out_metadata, error);
}

/* Keeps going past records that cannot be decoded when the caller wants
 * them per key; any other failure ends the call. */
static gboolean
note_key_error (GError **local_error, GError **out_errors, gsize i,
                GError **error)
{
  if (out_errors != NULL
      && g_error_matches (*local_error, DOGPILE_ERROR,
                          DOGPILE_ERROR_CANT_DESERIALIZE))
    {
      out_errors[i] = g_steal_pointer (local_error);
      return TRUE;
    }
  g_propagate_error (error, g_steal_pointer (local_error));
  return FALSE;
}

/**
 * dogpile_backend_get_value_multi:
 * @self: a backend or proxy
 * @keys: (array length=n_keys): the (already mangled) keys
 * @n_keys: how many
 * @out_payloads: (array length=n_keys) (out caller-allocates): payloads,
 *   %NULL for misses
 * @out_metadata: (array length=n_keys) (out caller-allocates): metadata
 * @out_errors: (array length=n_keys) (out caller-allocates) (nullable): per
 *   key, the error of a record that cannot be decoded; without it such a
 *   record fails the call
 * @error: return location for a #GError
 *
 * dogpile_backend_get_value() for @n_keys keys at once, through the
 * backend's get_multi when it has one.
 *
 * Errors: as dogpile_backend_get_value() (a record that cannot be decoded
 * goes to @out_errors when it is given).
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success; on failure every payload is %NULL.
 */
gboolean
dogpile_backend_get_value_multi (DogpileBackend *self, const char *const *keys,
                                 gsize n_keys, GBytes **out_payloads,
                                 DogpileMetadata *out_metadata,
                                 GError **out_errors, GError **error)
{
  g_autofree GBytes **records = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (keys != NULL || n_keys == 0, FALSE);

  for (gsize i = 0; i < n_keys; i++)
    out_payloads[i] = NULL;
  if (n_keys == 0)
    return TRUE;
  PROXY_DISPATCH (self, get_value_multi, error, keys, n_keys, out_payloads,
                  out_metadata, out_errors, error);

  if (self->desc->get_value != NULL)
    {
      for (gsize i = 0; i < n_keys; i++)
        {
          g_autoptr (GError) local_error = NULL;

          if (dogpile__backend_get_value (self, keys[i], &out_payloads[i],
                                          &out_metadata[i], &local_error))
            continue;
          if (!note_key_error (&local_error, out_errors, i, error))
            {
              clear_bytes_array (out_payloads, n_keys);
              return FALSE;
            }
        }
      return TRUE;
    }

  records = g_new0 (GBytes *, n_keys);
  if (!dogpile_backend_get_multi (self, keys, n_keys, records, error))
    return FALSE;
  for (gsize i = 0; i < n_keys; i++)
    {
      g_autoptr (GError) local_error = NULL;
      g_autoptr (GBytes) record = g_steal_pointer (&records[i]);

      if (record == NULL
          || dogpile_record_decode (record, &out_payloads[i], &out_metadata[i],
                                    &local_error))
        continue;
      if (!note_key_error (&local_error, out_errors, i, error))
        {
          clear_bytes_array (records, n_keys);
          clear_bytes_array (out_payloads, n_keys);
          return FALSE;
        }
    }
  return TRUE;
}

/* Only a finite number is a time (docs/differences.md): a record with any
 * other "ct" is refused when read, so it is refused when written. */
static gboolean
check_metadata (const char *key, const DogpileMetadata *metadata,
                GError **error)
{
  char ct[DOGPILE_DOUBLE_REPR_MAX];

  if (isfinite (metadata->cached_time))
    return TRUE;
  dogpile__format_double_repr (metadata->cached_time, ct);
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "Key '%s': the metadata's creation time must be a finite "
               "number of seconds, not %s",
               key, ct);
  return FALSE;
}

/**
 * dogpile_backend_set_value:
 * @self: a backend or proxy
 * @key: the (already mangled) key
 * @payload: the payload; borrowed
 * @metadata: its metadata
 * @error: return location for a #GError
 *
 * Stores @payload with @metadata under @key: as they are in a value-level
 * backend, as a dogpile record in a byte-level one.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when @metadata's cached_time is not a
 * finite number (nothing is stored); %DOGPILE_ERROR_BACKEND, or whatever
 * the backend reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success.
 */
gboolean
dogpile_backend_set_value (DogpileBackend *self, const char *key,
                           GBytes *payload, const DogpileMetadata *metadata,
                           GError **error)
{
  g_autoptr (GBytes) record = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (payload != NULL, FALSE);
  g_return_val_if_fail (metadata != NULL, FALSE);

  if (!check_metadata (key, metadata, error))
    return FALSE;
  PROXY_DISPATCH (self, set_value, error, key, payload, metadata, error);
  if (self->desc->set_value != NULL)
    return ensure_error (
        self->desc->set_value (self->impl, key, payload, metadata, error),
        error, self, "set_value");
  record = dogpile_record_encode (payload, metadata);
  return ensure_error (self->desc->set (self->impl, key, record, error), error,
                       self, "set");
}

/**
 * dogpile_backend_set_value_multi:
 * @self: a backend or proxy
 * @keys: (array length=n_keys): the (already mangled) keys
 * @payloads: (array length=n_keys): the payloads
 * @metadata: (array length=n_keys): the metadata of each
 * @n_keys: how many; 0 does nothing
 * @error: return location for a #GError
 *
 * dogpile_backend_set_value() for @n_keys keys at once, through the
 * backend's set_multi when it has one.
 *
 * Errors: as dogpile_backend_set_value().
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success.
 */
gboolean
dogpile_backend_set_value_multi (DogpileBackend *self, const char *const *keys,
                                 GBytes *const *payloads,
                                 const DogpileMetadata *metadata, gsize n_keys,
                                 GError **error)
{
  g_autoptr (GPtrArray) records = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (keys != NULL || n_keys == 0, FALSE);

  if (n_keys == 0)
    return TRUE;
  for (gsize i = 0; i < n_keys; i++)
    if (!check_metadata (keys[i], &metadata[i], error))
      return FALSE;
  PROXY_DISPATCH (self, set_value_multi, error, keys, payloads, metadata,
                  n_keys, error);
  if (self->desc->set_value != NULL)
    {
      for (gsize i = 0; i < n_keys; i++)
        if (!dogpile_backend_set_value (self, keys[i], payloads[i],
                                        &metadata[i], error))
          return FALSE;
      return TRUE;
    }
  records
      = g_ptr_array_new_full ((guint) n_keys, (GDestroyNotify) g_bytes_unref);
  for (gsize i = 0; i < n_keys; i++)
    g_ptr_array_add (records,
                     dogpile_record_encode (payloads[i], &metadata[i]));
  return dogpile_backend_set_multi (
      self, keys, (GBytes *const *) records->pdata, n_keys, error);
}
