/* dogpile-region.c: cache regions (dogpile.cache's CacheRegion).
 *
 * Thread safety without a lock on the hit path: a region's configuration
 * (backend, expiration) is one immutable struct published with an atomic
 * pointer.  Reconfiguring (replace_existing_backend) publishes a new one and
 * keeps the old one until the region dies, so a thread still using the old
 * configuration never sees it freed.  Hooks (key mangler, serializer) are
 * set before configure() and read-only afterwards.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-region-private.h"

static void
region_config_free (RegionConfig *config)
{
  dogpile_name_registry_unref (config->locks);
  dogpile_backend_unref (config->backend);
  dogpile_backend_unref (config->actual);
  g_free (config);
}

/* The mutex for one key: the backend's own (a distributed lock) or an
 * in-process one.  Asked of the chain's head at the time, as dogpile.cache
 * asks self.backend, so proxies added later see get_mutex too.  Only the
 * region's own calls reach here, so the region is alive. */
static DogpileMutex *
create_key_mutex (const char *key, gpointer region)
{
  RegionConfig *config = get_config (region);
  DogpileMutex *mutex = dogpile_backend_get_mutex (config->backend, key);

  return mutex != NULL ? mutex : dogpile__mutex_new_local_named (key);
}

/* Builds proxies (outermost first) in front of @backend; takes @backend. */
static DogpileBackend *
build_chain (DogpileBackend *backend, const DogpileRegionWrap *wraps,
             gsize n_wraps, gboolean strict, GError **error)
{
  for (gsize i = n_wraps; i > 0; i--)
    {
      DogpileBackend *node = dogpile__backend_new_proxy (
          wraps[i - 1].desc, wraps[i - 1].arguments, backend, strict, error);

      dogpile_backend_unref (backend);
      if (node == NULL)
        return NULL;
      backend = node;
    }
  return backend;
}

/* Publishes a new configuration; called with configure_lock held. */
static void
publish (DogpileRegion *self, RegionConfig *config)
{
  RegionConfig *old = self->config;

  g_atomic_pointer_set (&self->config, config);
  if (old != NULL)
    self->retired = g_slist_prepend (self->retired, old);
}

gboolean
dogpile__region_configure_chain (DogpileRegion *self, const char *backend,
                                 double expiration_time, GHashTable *arguments,
                                 const DogpileRegionWrap *wraps, gsize n_wraps,
                                 DogpileConfigureFlags flags, GError **error)
{
  const DogpileBackendDesc *desc;
  DogpileBackend *instance, *head;
  RegionConfig *config, *old;

  if (isnan (expiration_time))
    {
      g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                           "expiration_time is not a number or timedelta.");
      return FALSE;
    }

  g_mutex_lock (&self->configure_lock);
  old = self->config;
  if (old != NULL && !(flags & DOGPILE_CONFIGURE_REPLACE_EXISTING))
    {
      g_set_error (error, DOGPILE_ERROR,
                   DOGPILE_ERROR_REGION_ALREADY_CONFIGURED,
                   "This region is already configured with backend: %s.  "
                   "Specify replace_existing_backend=True to replace.",
                   dogpile_backend_get_name (old->actual));
      g_mutex_unlock (&self->configure_lock);
      return FALSE;
    }
  desc = dogpile_registry_load_backend (dogpile_registry_get_default (),
                                        backend, error);
  instance = desc != NULL ? dogpile__backend_new_from_desc (
                 desc, arguments,
                 (flags & DOGPILE_CONFIGURE_STRICT_ARGUMENTS) != 0, error)
                          : NULL;
  if (instance != NULL
      && !dogpile__backend_set_serializer (instance, self->serializer_name,
                                           error))
    g_clear_pointer (&instance, dogpile_backend_unref);
  head = instance != NULL
             ? build_chain (dogpile_backend_ref (instance), wraps, n_wraps,
                            (flags & DOGPILE_CONFIGURE_STRICT_ARGUMENTS) != 0,
                            error)
             : NULL;
  if (head == NULL)
    {
      g_clear_pointer (&instance, dogpile_backend_unref);
      g_mutex_unlock (&self->configure_lock);
      return FALSE;
    }

  dogpile__backend_set_region_expiration_time (instance, expiration_time);
  config = g_new0 (RegionConfig, 1);
  config->backend = head;
  config->actual = instance;
  config->backend_mangles = dogpile__backend_has_key_mangler (instance);
  if (head == instance)
    dogpile__backend_get_direct (instance, &config->direct_get_value,
                                 &config->direct_impl);
  config->expiration_time = expiration_time;
  config->locks = dogpile_name_registry_new (create_key_mutex, self, NULL);
  publish (self, config);
  g_mutex_unlock (&self->configure_lock);
  return TRUE;
}

/**
 * dogpile_region_new:
 * @name: (nullable): a name for the region; copied.  The library does not
 *   use it; dogpile_region_get_name() gives it back
 *
 * Makes an unconfigured region, with the raw serializer and no key
 * mangler: dogpile.cache's make_region(name=...).  Set its hooks, then
 * give it a backend with dogpile_region_configure().
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): a new, unconfigured region; free it with
 *   dogpile_region_unref()
 */
DogpileRegion *
dogpile_region_new (const char *name)
{
  DogpileRegion *self = g_new0 (DogpileRegion, 1);

  self->ref_count = 1;
  self->name = g_strdup (name);
  self->serializer_name = "raw";
  g_mutex_init (&self->configure_lock);
  return self;
}

/**
 * dogpile_region_ref:
 * @self: a region
 *
 * Adds a reference to @self, atomically.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full): @self
 */
DogpileRegion *
dogpile_region_ref (DogpileRegion *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

/**
 * dogpile_region_unref:
 * @self: (transfer full): a region
 *
 * Drops a reference to @self, atomically.  The last reference releases
 * the backend instance(s), those of replaced configurations included, and
 * calls the destroy functions of the hooks (key mangler, serializer,
 * invalidation strategy, async creation runner).
 *
 * Thread safety: any thread; the last unref must not race a call on
 * @self (hold a reference per thread).
 */
void
dogpile_region_unref (DogpileRegion *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  if (self->config != NULL)
    region_config_free (self->config);
  g_slist_free_full (self->retired, (GDestroyNotify) region_config_free);
  if (self->mangler_destroy != NULL)
    self->mangler_destroy (self->mangler_data);
  if (self->serializer_destroy != NULL)
    self->serializer_destroy (self->codec.data);
  if (self->invalidation_destroy != NULL)
    self->invalidation_destroy (self->invalidation_data);
  if (self->async_runner_destroy != NULL)
    self->async_runner_destroy (self->async_runner_data);
  g_mutex_clear (&self->configure_lock);
  g_free (self->name);
  g_free (self);
}

/**
 * dogpile_region_get_name:
 * @self: a region
 *
 * The region's name, as dogpile.cache's CacheRegion.name.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer none) (nullable): the name given to
 *   dogpile_region_new(), valid as long as @self is
 */
const char *
dogpile_region_get_name (DogpileRegion *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->name;
}

/**
 * dogpile_region_set_key_mangler:
 * @self: an unconfigured region
 * @mangler: (nullable) (scope notified): turns each key into the key the
 *   backend sees; %NULL for none
 * @user_data: (closure): passed to @mangler
 * @destroy: (nullable): frees @user_data when the mangler is replaced or
 *   the region is freed
 *
 * Sets dogpile.cache's key_mangler: applied to every key of every
 * operation (get_or_create's lock names included).  Without one the
 * region uses the backend's own mangler, if the plugin has one.  Setting
 * a mangler calls the previous one's @destroy.  On a configured region it
 * does nothing but report a critical warning.
 *
 * Thread safety: setup: call before @self is configured or shared (the
 * hook is read without a lock afterwards).
 */
void
dogpile_region_set_key_mangler (DogpileRegion *self, DogpileKeyMangler mangler,
                                gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (get_config (self) == NULL);

  if (self->mangler_destroy != NULL)
    self->mangler_destroy (self->mangler_data);
  self->mangler = mangler;
  self->mangler_data = user_data;
  self->mangler_destroy = destroy;
}

/**
 * dogpile_region_set_serializer:
 * @self: an unconfigured region
 * @serialize: (nullable) (scope notified): payload to stored payload;
 *   %NULL stores the payload as it is
 * @deserialize: (nullable) (scope notified): stored payload to payload;
 *   %NULL reads the stored payload as it is
 * @user_data: (closure): passed to both
 * @destroy: (nullable): frees @user_data when the pair is replaced or the
 *   region is freed
 *
 * Sets the payload codec, dogpile.cache's serializer and deserializer:
 * every byte call applies it.  By default payload bytes are stored as
 * they are.  A deserializer failing with %DOGPILE_ERROR_CANT_DESERIALIZE
 * makes the value a miss (dogpile.cache 1.2's CantDeserializeException).
 * A pair set before (or a named serializer) is replaced, and the previous
 * @destroy called; dogpile_region_get_serializer_name() then says
 * "custom", or "raw" when both functions are %NULL.  On a configured region it
 * does nothing but report a critical warning.
 *
 * Thread safety: setup: call before @self is configured or shared.
 */
void
dogpile_region_set_serializer (DogpileRegion *self,
                               DogpileSerializeFunc serialize,
                               DogpileDeserializeFunc deserialize,
                               gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (get_config (self) == NULL);

  if (self->serializer_destroy != NULL)
    self->serializer_destroy (self->codec.data);
  self->codec.serialize = serialize;
  self->codec.deserialize = deserialize;
  self->codec.data = user_data;
  self->serializer_destroy = destroy;
  self->serializer_name
      = serialize == NULL && deserialize == NULL ? "raw" : "custom";
}

/**
 * dogpile_region_configure:
 * @self: a region
 * @backend: (not nullable): a backend name from the default registry,
 *   e.g. "dogpile.cache.memory"; borrowed for the call
 * @expiration_time: seconds, %DOGPILE_EXPIRATION_NONE (-1) for never, 0
 *   for always expired
 * @arguments: (nullable) (element-type utf8 utf8): the backend's
 *   arguments; borrowed and never modified
 * @flags: %DOGPILE_CONFIGURE_REPLACE_EXISTING to reconfigure,
 *   %DOGPILE_CONFIGURE_STRICT_ARGUMENTS to refuse undeclared arguments
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's CacheRegion.configure(): loads the backend plugin (once
 * per process), creates an instance with @arguments, tells it the
 * region's serializer name and expiration time (when the plugin asks for
 * them), and makes it the region's backend.  With
 * %DOGPILE_CONFIGURE_REPLACE_EXISTING on a configured region the new backend
 * replaces the old one (and any proxies in front of it) for the calls that
 * start afterwards; a call still running on the old configuration finishes on
 * it, and the old one is freed with the region.  On any failure the region
 * keeps the state it had.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when @expiration_time is not a number
 * (%DOGPILE_EXPIRATION_DEFAULT), or, with
 * %DOGPILE_CONFIGURE_STRICT_ARGUMENTS, for an argument the backend does
 * not declare; %DOGPILE_ERROR_REGION_ALREADY_CONFIGURED when @self has a
 * backend and %DOGPILE_CONFIGURE_REPLACE_EXISTING is not given;
 * %DOGPILE_ERROR_PLUGIN_NOT_FOUND, %DOGPILE_ERROR_PLUGIN_LOAD_FAILED,
 * %DOGPILE_ERROR_PLUGIN_SYMBOL_MISSING, %DOGPILE_ERROR_PLUGIN_ABI_MISMATCH,
 * %DOGPILE_ERROR_PLUGIN_NAME_MISMATCH or %DOGPILE_ERROR_PLUGIN_INCOMPLETE
 * when the plugin cannot be loaded; %DOGPILE_ERROR_BACKEND when the plugin
 * fails to create an instance without saying why; and whatever the
 * plugin's create or set_serializer reports (%DOGPILE_ERROR_VALIDATION
 * for a bad argument value).
 *
 * Thread safety: setup for the first configuration: configure, then
 * share @self.  With %DOGPILE_CONFIGURE_REPLACE_EXISTING, any thread,
 * concurrently with any call on @self.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_region_configure (DogpileRegion *self, const char *backend,
                          double expiration_time, GHashTable *arguments,
                          DogpileConfigureFlags flags, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (backend != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return dogpile__region_configure_chain (self, backend, expiration_time,
                                          arguments, NULL, 0, flags, error);
}

/**
 * dogpile_region_wrap_desc:
 * @self: a configured region
 * @desc: (not nullable): the proxy's descriptor, compiled into the
 *   program or from dogpile_registry_load_proxy(); it must stay valid as
 *   long as @self lives
 * @arguments: (nullable) (element-type utf8 utf8): the proxy's arguments;
 *   borrowed and never modified
 * @error: return location for a #GError, or %NULL
 *
 * Puts a new proxy, given by its descriptor, in front of the region's
 * backend (and of any proxy already there), like dogpile.cache's
 * region.wrap(): every operation that starts afterwards goes through it.
 * dogpile_region_get_actual_backend() still gives the plugin instance.
 * dogpile_region_wrap() takes a proxy's registry name instead.  An
 * argument the proxy's argument table does not name is a warning, never
 * an error.
 *
 * Errors: %DOGPILE_ERROR_PLUGIN_ABI_MISMATCH or
 * %DOGPILE_ERROR_PLUGIN_INCOMPLETE when @desc is not a valid proxy
 * descriptor; %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no
 * backend; %DOGPILE_ERROR_BACKEND when the proxy fails to create its
 * state without saying why; and whatever the proxy's create reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_region_wrap_desc (DogpileRegion *self, const DogpileProxyDesc *desc,
                          GHashTable *arguments, GError **error)
{
  g_autofree char *where = NULL;
  DogpileBackend *head;
  RegionConfig *config, *old;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (desc != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!dogpile__loader_check_proxy_desc (
          desc, desc->name, "passed to dogpile_region_wrap_desc", error))
    return FALSE;
  g_mutex_lock (&self->configure_lock);
  old = self->config;
  if (old == NULL)
    {
      g_mutex_unlock (&self->configure_lock);
      return dogpile__region_not_configured (error);
    }
  head = dogpile__backend_new_proxy (desc, arguments, old->backend, FALSE,
                                     error);
  if (head == NULL)
    {
      g_mutex_unlock (&self->configure_lock);
      return FALSE;
    }
  config = g_new0 (RegionConfig, 1);
  config->backend = head;
  config->actual = dogpile_backend_ref (old->actual);
  config->backend_mangles = old->backend_mangles;
  config->expiration_time = old->expiration_time;
  config->locks = dogpile_name_registry_ref (old->locks);
  publish (self, config);
  g_mutex_unlock (&self->configure_lock);
  return TRUE;
}

/**
 * dogpile_region_wrap:
 * @self: a configured region
 * @proxy: (not nullable): a proxy name from the default registry's
 *   %DOGPILE_REGISTRY_GROUP_PROXIES group, e.g. "dogpile.proxies.stats";
 *   borrowed for the call
 * @arguments: (nullable) (element-type utf8 utf8): the proxy's arguments;
 *   borrowed and never modified
 * @error: return location for a #GError, or %NULL
 *
 * dogpile_region_wrap_desc() with a proxy loaded by name (once per
 * process): dogpile.cache's region.wrap(ProxyBackend).
 *
 * Errors: %DOGPILE_ERROR_PLUGIN_NOT_FOUND, %DOGPILE_ERROR_PLUGIN_LOAD_FAILED,
 * %DOGPILE_ERROR_PLUGIN_SYMBOL_MISSING, %DOGPILE_ERROR_PLUGIN_ABI_MISMATCH,
 * %DOGPILE_ERROR_PLUGIN_NAME_MISMATCH or %DOGPILE_ERROR_PLUGIN_INCOMPLETE
 * when the proxy cannot be loaded; then those of
 * dogpile_region_wrap_desc().
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_region_wrap (DogpileRegion *self, const char *proxy,
                     GHashTable *arguments, GError **error)
{
  const DogpileProxyDesc *desc;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (proxy != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  desc = dogpile_registry_load_proxy (dogpile_registry_get_default (), proxy,
                                      error);
  return desc != NULL
         && dogpile_region_wrap_desc (self, desc, arguments, error);
}

/**
 * dogpile_region_is_configured:
 * @self: a region
 *
 * Whether dogpile_region_configure() has given @self a backend:
 * dogpile.cache's CacheRegion.is_configured.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE when a backend is configured
 */
gboolean
dogpile_region_is_configured (DogpileRegion *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return get_config (self) != NULL;
}

gboolean
dogpile__region_not_configured (GError **error)
{
  g_set_error_literal (error, DOGPILE_ERROR,
                       DOGPILE_ERROR_REGION_NOT_CONFIGURED,
                       "No backend is configured on this region.");
  return FALSE;
}

/**
 * dogpile_region_get_expiration_time:
 * @self: a region
 *
 * The expiration time given to dogpile_region_configure(), as
 * dogpile.cache's CacheRegion.expiration_time.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: the configured expiration time in seconds;
 *   %DOGPILE_EXPIRATION_NONE when values never expire by age or the
 *   region is not configured
 */
double
dogpile_region_get_expiration_time (DogpileRegion *self)
{
  RegionConfig *config;

  g_return_val_if_fail (self != NULL, DOGPILE_EXPIRATION_NONE);

  config = get_config (self);
  return config != NULL ? config->expiration_time : DOGPILE_EXPIRATION_NONE;
}

/**
 * dogpile_region_get_backend_counters:
 * @self: a configured region
 * @out_counters: (out caller-allocates): the counters
 * @error: return location for a #GError, or %NULL
 *
 * Reads the counters of the region's actual backend (entries, evictions by
 * size and by expiry, the eviction policy's window), through any proxies:
 * dogpile_backend_get_counters() on the chain.  C only.
 *
 * Errors: %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend;
 * %DOGPILE_ERROR_VALIDATION when the backend keeps no counters; and
 * whatever the backend's get_counters reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_region_get_backend_counters (DogpileRegion *self,
                                     DogpileBackendCounters *out_counters,
                                     GError **error)
{
  RegionConfig *config;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out_counters != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  REGION_CONFIG_OR_FAIL (self, config, error);
  return dogpile_backend_get_counters (config->backend, out_counters, error);
}

/**
 * dogpile_region_get_backend:
 * @self: a configured region
 * @error: return location for a #GError, or %NULL
 *
 * The backend the region's operations go to: dogpile.cache's
 * CacheRegion.backend, the outermost proxy once proxies wrap the plugin
 * instance.  It stays valid as long as @self lives, even after a
 * reconfiguration replaced it.
 *
 * Errors: %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer none): the backend, or %NULL with @error set
 */
DogpileBackend *
dogpile_region_get_backend (DogpileRegion *self, GError **error)
{
  RegionConfig *config;

  g_return_val_if_fail (self != NULL, NULL);

  config = get_config_or_error (self, error);
  if (config == NULL)
    return NULL;
  return config->backend;
}

/**
 * dogpile_region_get_actual_backend:
 * @self: a configured region
 * @error: return location for a #GError, or %NULL
 *
 * The plugin instance beneath any proxies: dogpile.cache's
 * CacheRegion.actual_backend.  Unlike dogpile.cache, this follows a
 * replaced backend (docs/differences.md).  It stays valid as long as @self
 * lives, even after a reconfiguration replaced it.
 *
 * Errors: %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer none): the plugin instance, or %NULL with @error set
 */
DogpileBackend *
dogpile_region_get_actual_backend (DogpileRegion *self, GError **error)
{
  RegionConfig *config;

  g_return_val_if_fail (self != NULL, NULL);

  config = get_config_or_error (self, error);
  if (config == NULL)
    return NULL;
  return config->actual;
}

/* Applies the deserializer; a CantDeserialize failure is a miss. */
gboolean
dogpile__region_deserialize (const RegionCodec *codec, GBytes **payload,
                             GError **error)
{
  g_autoptr (GError) local_error = NULL;
  GBytes *result;

  if (codec->deserialize == NULL || *payload == NULL)
    return TRUE;
  result = codec->deserialize (*payload, codec->data, &local_error);
  g_clear_pointer (payload, g_bytes_unref);
  if (result != NULL)
    {
      *payload = result;
      return TRUE;
    }
  if (local_error == NULL
      || g_error_matches (local_error, DOGPILE_ERROR,
                          DOGPILE_ERROR_CANT_DESERIALIZE))
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

GBytes *
dogpile__region_serialize (const RegionCodec *codec, GBytes *payload,
                           GError **error)
{
  GBytes *result;

  if (codec->serialize == NULL)
    return g_bytes_ref (payload);
  result = codec->serialize (payload, codec->data, error);
  if (result == NULL && error != NULL && *error == NULL)
    g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                         "The region's serializer failed without a reason");
  return result;
}

gboolean
dogpile__region_key_error (GError **error, const char *key)
{
  g_prefix_error (error, "Key '%s': ", key);
  return FALSE;
}

/* The fetch + filter shared by get(), get_value_metadata() and the
 * GVariant calls. */
gboolean
dogpile__region_fetch (DogpileRegion *self, const RegionCodec *codec,
                       const char *key, double expiration_time,
                       DogpileGetFlags flags, GBytes **out_payload,
                       DogpileMetadata *out_metadata, GError **error)
{
  g_autofree char *owned = NULL;
  DogpileClockSample now;
  RegionConfig *config;
  const char *backend_key;

  REGION_CONFIG_OR_FAIL (self, config, error);
  backend_key = mangle_key (self, config, key, &owned);
  if (!region_get_value (config, backend_key, out_payload, out_metadata,
                         error))
    return dogpile__region_key_error (error, key);
  if (*out_payload == NULL)
    return TRUE;
  if (!(flags & DOGPILE_GET_IGNORE_EXPIRATION))
    dogpile__clock_sample (&now);
  if (!(flags & DOGPILE_GET_IGNORE_EXPIRATION)
      && !is_fresh (self, config, out_metadata, expiration_time, &now))
    {
      g_clear_pointer (out_payload, g_bytes_unref);
      return TRUE;
    }
  return codec->deserialize == NULL
         || dogpile__region_deserialize (codec, out_payload, error)
         || dogpile__region_key_error (error, key);
}

/**
 * dogpile_region_get_full:
 * @self: a configured region
 * @key: (not nullable): the key, before mangling; borrowed for the call
 * @expiration_time: %DOGPILE_EXPIRATION_DEFAULT for the region's, or an
 *   override for this call only
 * @flags: %DOGPILE_GET_IGNORE_EXPIRATION to return a value however old
 * @out_value: (out) (transfer full) (nullable): the payload, %NULL on a miss
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's CacheRegion.get(key, expiration_time, ignore_expiration):
 * reads the value, with no lock.  A value older than the expiration time
 * (strictly) or created before an invalidation is a miss; so is a payload
 * the region's deserializer refuses with %DOGPILE_ERROR_CANT_DESERIALIZE.
 * Unlike get_or_create, the value's "v" is not checked, as in
 * dogpile.cache.
 *
 * Errors: %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend;
 * %DOGPILE_ERROR_CANT_DESERIALIZE for stored bytes that are not a record;
 * whatever the region's deserializer reports other than
 * %DOGPILE_ERROR_CANT_DESERIALIZE; and whatever the backend's call
 * reports.  The messages of the backend's errors name the key.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success (a miss included), %FALSE with @error set
 */
gboolean
dogpile_region_get_full (DogpileRegion *self, const char *key,
                         double expiration_time, DogpileGetFlags flags,
                         GBytes **out_value, GError **error)
{
  DogpileMetadata metadata = { 0 };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);

  return dogpile__region_fetch (self, &self->codec, key, expiration_time,
                                flags, out_value, &metadata, error);
}

/**
 * dogpile_region_get:
 * @self: a configured region
 * @key: (not nullable): the key, before mangling; borrowed for the call
 * @out_value: (out) (transfer full) (nullable): the payload, %NULL on a miss
 * @error: return location for a #GError, or %NULL
 *
 * dogpile_region_get_full() with the region's expiration time and no
 * flags: dogpile.cache's CacheRegion.get(key).
 *
 * Errors: those of dogpile_region_get_full().
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success (a miss included), %FALSE with @error set
 */
gboolean
dogpile_region_get (DogpileRegion *self, const char *key, GBytes **out_value,
                    GError **error)
{
  return dogpile_region_get_full (self, key, DOGPILE_EXPIRATION_DEFAULT,
                                  DOGPILE_GET_NONE, out_value, error);
}

/**
 * dogpile_region_get_value_metadata:
 * @self: a configured region
 * @key: (not nullable): the key, before mangling; borrowed for the call
 * @expiration_time: %DOGPILE_EXPIRATION_DEFAULT for the region's, or an
 *   override for this call only
 * @flags: %DOGPILE_GET_IGNORE_EXPIRATION to return a value however old
 * @out_value: (out) (transfer full) (nullable): payload and metadata
 *   (cached time, version, age), %NULL on a miss
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's CacheRegion.get_value_metadata(): what
 * dogpile_region_get_full() reads, with its metadata, as a
 * #DogpileCachedValue.
 *
 * Errors: those of dogpile_region_get_full().
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success (a miss included), %FALSE with @error set
 */
gboolean
dogpile_region_get_value_metadata (DogpileRegion *self, const char *key,
                                   double expiration_time,
                                   DogpileGetFlags flags,
                                   DogpileCachedValue **out_value,
                                   GError **error)
{
  g_autoptr (GBytes) payload = NULL;
  DogpileMetadata metadata = { 0 };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);

  *out_value = NULL;
  if (!dogpile__region_fetch (self, &self->codec, key, expiration_time, flags,
                              &payload, &metadata, error))
    return FALSE;
  if (payload != NULL)
    *out_value = dogpile_cached_value_new (payload, &metadata);
  return TRUE;
}

/* Mangled keys for a batch: @keys itself when nothing mangles, else a new
 * array (*out_array) whose strings *owned keeps. */
const char *const *
dogpile__region_mangle_keys (DogpileRegion *self, RegionConfig *config,
                             const char *const *keys, gsize n_keys,
                             const char ***out_array, GPtrArray **owned)
{
  const char **result;

  *owned = NULL;
  *out_array = NULL;
  if (self->mangler == NULL && !config->backend_mangles)
    return keys;
  result = *out_array = g_new (const char *, n_keys);
  *owned = g_ptr_array_new_full ((guint) n_keys, g_free);
  for (gsize i = 0; i < n_keys; i++)
    {
      char *made = NULL;

      result[i] = mangle_key (self, config, keys[i], &made);
      g_ptr_array_add (*owned, made);
    }
  return result;
}

/**
 * dogpile_region_get_multi_full:
 * @self: a configured region
 * @keys: (array length=n_keys): the keys, before mangling; duplicates
 *   allowed; borrowed for the call
 * @n_keys: how many; 0 reads nothing
 * @expiration_time: %DOGPILE_EXPIRATION_DEFAULT for the region's, or an
 *   override for this call only
 * @flags: %DOGPILE_GET_IGNORE_EXPIRATION to return values however old
 * @out_values: (array length=n_keys) (out caller-allocates): one slot per
 *   key: the payload (transfer full) or %NULL for a miss
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's CacheRegion.get_multi(): one multi-get on the backend,
 * each value filtered as dogpile_region_get_full() filters it.
 *
 * Errors: %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend;
 * %DOGPILE_ERROR_CANT_DESERIALIZE when a stored value is not a record;
 * whatever the region's deserializer reports other than
 * %DOGPILE_ERROR_CANT_DESERIALIZE (these two name the key, as get()
 * does); and whatever the backend's call reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, %FALSE with @error set; on failure every
 *   slot is %NULL
 */
gboolean
dogpile_region_get_multi_full (DogpileRegion *self, const char *const *keys,
                               gsize n_keys, double expiration_time,
                               DogpileGetFlags flags, GBytes **out_values,
                               GError **error)
{
  g_autoptr (GPtrArray) owned = NULL;
  g_autofree const char **mangled = NULL;
  const char *const *backend_keys;
  g_autofree DogpileMetadata *metadata = NULL;
  g_autofree GError **errors = NULL;
  gsize failed = G_MAXSIZE;
  DogpileClockSample now;
  RegionConfig *config;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (keys != NULL || n_keys == 0, FALSE);
  g_return_val_if_fail (out_values != NULL || n_keys == 0, FALSE);

  for (gsize i = 0; i < n_keys; i++)
    out_values[i] = NULL;
  REGION_CONFIG_OR_FAIL (self, config, error);
  if (n_keys == 0)
    return TRUE;

  backend_keys = dogpile__region_mangle_keys (self, config, keys, n_keys,
                                              &mangled, &owned);
  metadata = g_new0 (DogpileMetadata, n_keys);
  errors = g_new0 (GError *, n_keys);
  if (!dogpile_backend_get_value_multi (config->backend, backend_keys, n_keys,
                                        out_values, metadata, errors, error))
    return FALSE;
  dogpile__clock_sample (&now);
  /* A record or payload that cannot be read fails the call, as in get(),
   * naming its key. */
  for (gsize i = 0; i < n_keys && failed == G_MAXSIZE; i++)
    {
      if (errors[i] != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&errors[i]));
          failed = i;
        }
      else if (out_values[i] == NULL)
        continue;
      else if (!(flags & DOGPILE_GET_IGNORE_EXPIRATION)
               && !is_fresh (self, config, &metadata[i], expiration_time,
                             &now))
        g_clear_pointer (&out_values[i], g_bytes_unref);
      else if (self->codec.deserialize != NULL
               && !dogpile__region_deserialize (&self->codec, &out_values[i],
                                                error))
        failed = i;
    }
  for (gsize i = 0; i < n_keys; i++)
    {
      g_clear_error (&errors[i]);
      if (failed != G_MAXSIZE)
        g_clear_pointer (&out_values[i], g_bytes_unref);
    }
  return failed == G_MAXSIZE
         || dogpile__region_key_error (error, keys[failed]);
}

/**
 * dogpile_region_get_multi:
 * @self: a configured region
 * @keys: (array length=n_keys): the keys, before mangling; borrowed for
 *   the call
 * @n_keys: how many; 0 reads nothing
 * @out_values: (array length=n_keys) (out caller-allocates): one slot per
 *   key: the payload (transfer full) or %NULL for a miss
 * @error: return location for a #GError, or %NULL
 *
 * dogpile_region_get_multi_full() with the region's expiration time and
 * no flags: dogpile.cache's CacheRegion.get_multi(keys).
 *
 * Errors: those of dogpile_region_get_multi_full().
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, %FALSE with @error set; on failure every
 *   slot is %NULL
 */
gboolean
dogpile_region_get_multi (DogpileRegion *self, const char *const *keys,
                          gsize n_keys, GBytes **out_values, GError **error)
{
  return dogpile_region_get_multi_full (self, keys, n_keys,
                                        DOGPILE_EXPIRATION_DEFAULT,
                                        DOGPILE_GET_NONE, out_values, error);
}

/**
 * dogpile_region_set:
 * @self: a configured region
 * @key: (not nullable): the key, before mangling; borrowed for the call
 * @value: (transfer none) (not nullable): the payload; borrowed (a
 *   backend may keep a reference of its own, as in-memory ones do)
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's CacheRegion.set(): stores @value, through the region's
 * serializer, as created now, with no lock and no should_cache check.
 *
 * Errors: %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend;
 * whatever the region's serializer reports (%DOGPILE_ERROR_VALIDATION
 * for a payload the json serializer finds is not JSON text, or when a
 * custom one fails without a reason); and whatever the backend's call
 * reports.  The serializer's and the backend's messages name the key.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_region_set (DogpileRegion *self, const char *key, GBytes *value,
                    GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  return dogpile__region_store (self, &self->codec, key, value, error);
}

gboolean
dogpile__region_store (DogpileRegion *self, const RegionCodec *codec,
                       const char *key, GBytes *value, GError **error)
{
  g_autofree char *owned = NULL;
  g_autoptr (GBytes) stored = NULL;
  DogpileMetadata metadata;
  RegionConfig *config;
  const char *backend_key;

  REGION_CONFIG_OR_FAIL (self, config, error);
  stored = dogpile__region_serialize (codec, value, error);
  if (stored == NULL)
    return dogpile__region_key_error (error, key);
  dogpile_metadata_init (&metadata, dogpile_clock_now ());
  backend_key = mangle_key (self, config, key, &owned);
  if (!dogpile_backend_set_value (config->backend, backend_key, stored,
                                  &metadata, error))
    return dogpile__region_key_error (error, key);
  return TRUE;
}

/**
 * dogpile_region_set_multi:
 * @self: a configured region
 * @keys: (array length=n_keys): the keys, before mangling; borrowed for
 *   the call
 * @values: (array length=n_keys): the payloads, one per key; borrowed
 * @n_keys: how many; 0 stores nothing
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's CacheRegion.set_multi(): stores every value, through the
 * region's serializer, with one creation time, in one multi-set call to
 * the backend.  When a key appears twice the later value wins.  Every value
 * is serialized before anything is stored: one the serializer refuses
 * stores nothing.
 *
 * Errors: %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend;
 * whatever the region's serializer reports, as for dogpile_region_set();
 * and whatever the backend's call reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_region_set_multi (DogpileRegion *self, const char *const *keys,
                          GBytes *const *values, gsize n_keys, GError **error)
{
  g_autoptr (GPtrArray) owned = NULL;
  g_autoptr (GPtrArray) stored = NULL;
  g_autofree const char **mangled = NULL;
  const char *const *backend_keys;
  g_autofree DogpileMetadata *metadata = NULL;
  RegionConfig *config;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (keys != NULL || n_keys == 0, FALSE);
  g_return_val_if_fail (values != NULL || n_keys == 0, FALSE);

  REGION_CONFIG_OR_FAIL (self, config, error);
  if (n_keys == 0)
    return TRUE;

  stored
      = g_ptr_array_new_full ((guint) n_keys, (GDestroyNotify) g_bytes_unref);
  for (gsize i = 0; i < n_keys; i++)
    {
      GBytes *s = dogpile__region_serialize (&self->codec, values[i], error);

      if (s == NULL)
        return dogpile__region_key_error (error, keys[i]);
      g_ptr_array_add (stored, s);
    }
  metadata = g_new0 (DogpileMetadata, n_keys);
  dogpile_metadata_init (&metadata[0], dogpile_clock_now ());
  for (gsize i = 1; i < n_keys; i++)
    metadata[i] = metadata[0];
  backend_keys = dogpile__region_mangle_keys (self, config, keys, n_keys,
                                              &mangled, &owned);
  return dogpile_backend_set_value_multi (config->backend, backend_keys,
                                          (GBytes *const *) stored->pdata,
                                          metadata, n_keys, error);
}

/**
 * dogpile_region_delete:
 * @self: a configured region
 * @key: (not nullable): the key, before mangling; borrowed for the call
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's CacheRegion.delete(): removes the value.  Deleting a
 * missing key is not an error.
 *
 * Errors: %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend;
 * whatever the backend's call reports, its message naming the key.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_region_delete (DogpileRegion *self, const char *key, GError **error)
{
  g_autofree char *owned = NULL;
  RegionConfig *config;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  REGION_CONFIG_OR_FAIL (self, config, error);
  if (!dogpile_backend_delete (config->backend,
                               mangle_key (self, config, key, &owned), error))
    return dogpile__region_key_error (error, key);
  return TRUE;
}

/**
 * dogpile_region_delete_multi:
 * @self: a configured region
 * @keys: (array length=n_keys): the keys, before mangling; borrowed for
 *   the call
 * @n_keys: how many; 0 sends nothing to the backend
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's CacheRegion.delete_multi(): one multi-delete on the
 * backend.  Idempotent: missing keys are not an error.
 *
 * Errors: %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend;
 * whatever the backend's call reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_region_delete_multi (DogpileRegion *self, const char *const *keys,
                             gsize n_keys, GError **error)
{
  g_autoptr (GPtrArray) owned = NULL;
  g_autofree const char **mangled = NULL;
  const char *const *backend_keys;
  RegionConfig *config;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (keys != NULL || n_keys == 0, FALSE);

  REGION_CONFIG_OR_FAIL (self, config, error);
  if (n_keys == 0)
    return TRUE;
  backend_keys = dogpile__region_mangle_keys (self, config, keys, n_keys,
                                              &mangled, &owned);
  return dogpile_backend_delete_multi (config->backend, backend_keys, n_keys,
                                       error);
}
