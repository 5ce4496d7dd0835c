/* dogpile-get-or-create.c: the region's read-through API under the dogpile
 * lock (spec 2.2 and 2.4).
 *
 * A fresh value is returned after one backend read and no lock; Python
 * builds the lock object first but never touches the mutex either.  Only a
 * missing, expired or invalidated value takes the key's mutex from the
 * region's name registry.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-region-private.h"

#define SOFT_INVALIDATION_MESSAGE                                             \
  "Non-None expiration time required for soft invalidation"

static double
effective_expiration (RegionConfig *config, double expiration_time)
{
  double exp
      = isnan (expiration_time) ? config->expiration_time : expiration_time;

  return exp == -1 ? DOGPILE_EXPIRATION_NONE : exp;
}

/* What get_or_create sees of a stored value (spec 2.2 get_value): *payload
 * becomes NULL for a miss -- absent, another "v", hard-invalidated or not
 * deserializable -- else its creation time, moved to "just expired" when
 * soft-invalidated.  Takes *payload. */
static gboolean
lock_view (DogpileRegion *self, const RegionCodec *codec, const char *key,
           double exp, GBytes **payload, const DogpileMetadata *metadata,
           double *out_created_time, GError **error)
{
  double created_time;

  *out_created_time = -1;
  if (*payload == NULL)
    {
      g_debug ("No value present for key: '%s'", key);
      return TRUE;
    }
  created_time = metadata->cached_time;
  if (metadata->version != DOGPILE_VALUE_VERSION)
    {
      g_debug ("Dogpile version update for key: '%s'", key);
      g_clear_pointer (payload, g_bytes_unref);
      return TRUE;
    }
  if (dogpile__region_is_hard_invalidated (self, created_time))
    {
      g_debug ("Hard invalidation detected for key: '%s'", key);
      g_clear_pointer (payload, g_bytes_unref);
      return TRUE;
    }
  if (dogpile__region_is_soft_invalidated (self, created_time))
    {
      if (exp == DOGPILE_EXPIRATION_NONE)
        {
          g_clear_pointer (payload, g_bytes_unref);
          g_set_error_literal (error, DOGPILE_ERROR,
                               DOGPILE_ERROR_INVALIDATION,
                               SOFT_INVALIDATION_MESSAGE);
          return FALSE;
        }
      created_time = dogpile_clock_now () - exp - 0.0001;
    }
  if (codec->deserialize != NULL
      && !dogpile__region_deserialize (codec, payload, error))
    return FALSE;
  if (*payload != NULL)
    *out_created_time = created_time;
  return TRUE;
}

/* One key read the way get_or_create reads it: undecodable bytes are a
 * miss, to be regenerated and overwritten. */
static gboolean
read_for_lock (DogpileRegion *self, const RegionCodec *codec,
               RegionConfig *config, const char *key, const char *backend_key,
               double exp, GBytes **out_payload, double *out_created_time,
               GError **error)
{
  g_autoptr (GError) local_error = NULL;
  DogpileMetadata metadata = { 0 };

  *out_payload = NULL;
  if (!region_get_value (config, backend_key, out_payload, &metadata,
                         &local_error))
    {
      if (!g_error_matches (local_error, DOGPILE_ERROR,
                            DOGPILE_ERROR_CANT_DESERIALIZE))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return dogpile__region_key_error (error, key);
        }
      g_debug ("Regenerating '%s': %s", key, local_error->message);
      g_clear_pointer (out_payload, g_bytes_unref);
    }
  return lock_view (self, codec, key, exp, out_payload, &metadata,
                    out_created_time, error);
}

static gboolean
store_values (const RegionCodec *codec, RegionConfig *config,
              const char *const *keys, const char *const *backend_keys,
              GBytes *const *values, const DogpileMetadata *metadata, gsize n,
              GError **error)
{
  g_autoptr (GPtrArray) stored
      = g_ptr_array_new_full ((guint) n, (GDestroyNotify) g_bytes_unref);

  for (gsize i = 0; i < n; i++)
    {
      GBytes *s = dogpile__region_serialize (codec, values[i], error);

      if (s == NULL)
        return dogpile__region_key_error (error, keys[i]);
      g_ptr_array_add (stored, s);
    }
  if (n == 1)
    return dogpile_backend_set_value (config->backend, backend_keys[0],
                                      stored->pdata[0], metadata, error)
           || dogpile__region_key_error (error, keys[0]);
  return dogpile_backend_set_value_multi (config->backend, backend_keys,
                                          (GBytes *const *) stored->pdata,
                                          metadata, n, error);
}

typedef struct {
  DogpileRegion *region;
  RegionConfig *config;
  const char *key;
  const char *backend_key;
  double exp;
  DogpileCreatorFunc creator;
  gpointer user_data;
  GDestroyNotify user_data_destroy;
  DogpileShouldCacheFunc should_cache;
  gpointer should_cache_data;
  gboolean handed_off; /* an async task owns user_data now */
  const RegionCodec *codec;
} Request;

static gboolean
request_get_value (gpointer data, GBytes **out_value, double *out_created_time,
                   GError **error)
{
  Request *r = data;

  return read_for_lock (r->region, r->codec, r->config, r->key, r->backend_key,
                        r->exp, out_value, out_created_time, error);
}

static gboolean
request_create (gpointer data, GBytes **out_value, double *out_created_time,
                GError **error)
{
  Request *r = data;
  g_autoptr (GBytes) value = NULL;
  DogpileMetadata metadata;
  gint64 started = g_get_monotonic_time ();

  value = r->creator (r->key, r->user_data, error);
  if (value == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CREATOR,
                     "The creator for '%s' returned no value", r->key);
      return FALSE;
    }
  g_debug ("Cache value generated in %.3f seconds for key(s): '%s'",
           (double) (g_get_monotonic_time () - started) / G_USEC_PER_SEC,
           r->key);
  dogpile_metadata_init (&metadata, dogpile_clock_now ());
  /* Checked after creating, as dogpile.cache does. */
  if (r->exp == DOGPILE_EXPIRATION_NONE
      && dogpile__region_was_soft_invalidated (r->region))
    {
      g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_INVALIDATION,
                           SOFT_INVALIDATION_MESSAGE);
      return FALSE;
    }
  if ((r->should_cache == NULL
       || r->should_cache (value, r->should_cache_data))
      && !store_values (r->codec, r->config, &r->key, &r->backend_key, &value,
                        &metadata, 1, error))
    return FALSE;
  *out_created_time = metadata.cached_time;
  *out_value = g_steal_pointer (&value);
  return TRUE;
}

static gboolean
request_async_create (gpointer data, DogpileMutex *mutex, GError **error)
{
  Request *r = data;
  DogpileRegion *self = r->region;
  DogpileAsyncTask *task;

  dogpile__mutex_disown (mutex);
  task = dogpile__async_task_new (self, r->key, r->creator, r->user_data,
                                  r->user_data_destroy, mutex);
  r->handed_off = TRUE;
  self->async_runner (task, self->async_runner_data);
  return TRUE;
}

static const DogpileLockFuncs request_funcs = {
  .get_value = request_get_value,
  .create = request_create,
};

static const DogpileLockFuncs request_async_funcs = {
  .get_value = request_get_value,
  .create = request_create,
  .async_create = request_async_create,
};

/**
 * dogpile_region_get_or_create_full:
 * @self: a configured region
 * @key: the key; borrowed for the call (an async task copies it)
 * @creator: (scope notified): makes the value when it is missing or
 *   expired
 * @user_data: (closure): passed to @creator
 * @user_data_destroy: (nullable): frees @user_data once it is no longer
 *   needed: before this call returns, or, when an async runner regenerates
 *   in the background, when its task is freed.  Called on failure too
 * @expiration_time: %DOGPILE_EXPIRATION_DEFAULT for the region's, an
 *   override, or %DOGPILE_EXPIRATION_NONE: never expires by age
 * @should_cache: (nullable) (scope call): decides whether a new value is
 *   stored (it is returned either way)
 * @should_cache_data: (closure): passed to @should_cache
 * @out_value: (out) (transfer full): the value; %NULL on failure
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's CacheRegion.get_or_create() with its expiration_time and
 * should_cache_fn arguments.  The read-through call, under the dogpile
 * lock: at most one caller per key (per process, or across processes with
 * a backend's distributed lock) runs @creator at a time.  A fresh value is
 * returned at once.  An expired one: if another caller is regenerating it,
 * this caller gets the stale value at once; otherwise this caller
 * regenerates it -- or, when the region has an async runner and
 * @user_data can be kept (@user_data is %NULL or @user_data_destroy is
 * set), hands it to the runner and returns the stale value.  A missing
 * value (or one with another "v", undecodable or hard-invalidated):
 * callers wait for the one creating it, then read it.  A soft-invalidated
 * value counts as expired.
 *
 * Errors: the creator's error, or %DOGPILE_ERROR_CREATOR when it returns
 * %NULL without one (nothing is stored, the mutex is released and the next
 * caller tries again); %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self
 * has no backend; %DOGPILE_ERROR_LOCK when waiting for the key's mutex
 * gives up or this thread already holds it (a creator asking for its own
 * key); %DOGPILE_ERROR_INVALIDATION when a soft invalidation meets a
 * value that never expires; the serializer's error; and whatever the
 * backend's call or mutex reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE with the value, %FALSE with @error set
 */
gboolean
dogpile_region_get_or_create_full (
    DogpileRegion *self, const char *key, DogpileCreatorFunc creator,
    gpointer user_data, GDestroyNotify user_data_destroy,
    double expiration_time, DogpileShouldCacheFunc should_cache,
    gpointer should_cache_data, GBytes **out_value, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return dogpile__region_get_or_create_with (
      self, &self->codec, key, creator, user_data, user_data_destroy,
      expiration_time, should_cache, should_cache_data, out_value, error);
}

/* With a codec other than the region's (the GVariant calls), creation
 * stays in this thread: an async task stores through the region's. */
gboolean
dogpile__region_get_or_create_with (
    DogpileRegion *self, const RegionCodec *codec, const char *key,
    DogpileCreatorFunc creator, gpointer user_data,
    GDestroyNotify user_data_destroy, double expiration_time,
    DogpileShouldCacheFunc should_cache, gpointer should_cache_data,
    GBytes **out_value, GError **error)
{
  g_autofree char *owned = NULL;
  GBytes *value = NULL;
  double created_time = -1;
  DogpileClockSample now;
  DogpileMutex *mutex;
  gboolean ok = FALSE;
  Request r = { 0 };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (creator != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out_value = NULL;
  r.region = self;
  r.codec = codec;
  r.config = get_config_or_error (self, error);
  r.key = key;
  r.creator = creator;
  r.user_data = user_data;
  r.user_data_destroy = user_data_destroy;
  r.should_cache = should_cache;
  r.should_cache_data = should_cache_data;
  if (r.config == NULL)
    goto out;
  r.exp = effective_expiration (r.config, expiration_time);
  r.backend_key = mangle_key (self, r.config, key, &owned);

  if (!read_for_lock (self, codec, r.config, key, r.backend_key, r.exp, &value,
                      &created_time, error))
    goto out;
  dogpile__clock_sample (&now);
  if (value != NULL && !dogpile__value_is_expired (&now, created_time, r.exp))
    {
      *out_value = value;
      ok = TRUE;
      goto out;
    }

  mutex = dogpile_name_registry_get (r.config->locks, r.backend_key);
  ok = dogpile__lock_run (
      mutex,
      self->async_runner != NULL && codec == &self->codec
              && (user_data == NULL || user_data_destroy != NULL)
          ? &request_async_funcs
          : &request_funcs,
      &r, r.exp, value, created_time, out_value, error);
  dogpile_mutex_unref (mutex);

out:
  if (!r.handed_off && user_data_destroy != NULL)
    user_data_destroy (user_data);
  return ok;
}

/**
 * dogpile_region_get_or_create:
 * @self: a configured region
 * @key: the key; borrowed for the call
 * @creator: makes the value when it is missing or expired; with %NULL
 *   @user_data, an async runner may call it after this call returns
 * @user_data: (closure): passed to @creator; it must stay valid for the
 *   call only
 * @out_value: (out) (transfer full): the value; %NULL on failure
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's CacheRegion.get_or_create():
 * dogpile_region_get_or_create_full() with the region's expiration time
 * and no should_cache.  Since @user_data is not kept after the call, an
 * async runner regenerates in the background only when @user_data is
 * %NULL; otherwise this thread does.
 *
 * Errors: as dogpile_region_get_or_create_full(): the creator's error or
 * %DOGPILE_ERROR_CREATOR; %DOGPILE_ERROR_REGION_NOT_CONFIGURED;
 * %DOGPILE_ERROR_LOCK; %DOGPILE_ERROR_INVALIDATION; the serializer's
 * error; and whatever the backend's call or mutex reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE with the value, %FALSE with @error set
 */
gboolean
dogpile_region_get_or_create (DogpileRegion *self, const char *key,
                              DogpileCreatorFunc creator, gpointer user_data,
                              GBytes **out_value, GError **error)
{
  /* With user data we may not keep, the async runner is never used. */
  return dogpile_region_get_or_create_full (self, key, creator, user_data,
                                            NULL, DOGPILE_EXPIRATION_DEFAULT,
                                            NULL, NULL, out_value, error);
}

static int
compare_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Backend keys in order, each with the caller's key it came from. */
typedef struct {
  const char *backend_key;
  gsize index; /* into the sorted caller keys */
} KeyRef;

static int
compare_key_refs (const void *a, const void *b)
{
  const KeyRef *x = a, *y = b;
  int c = strcmp (x->backend_key, y->backend_key);

  if (c != 0)
    return c;
  return x->index < y->index ? -1 : x->index > y->index;
}

static gsize
find_key (const char *const *sorted, gsize n, const char *key)
{
  gsize low = 0, high = n;

  while (low < high)
    {
      gsize mid = (low + high) / 2;
      int c = strcmp (sorted[mid], key);

      if (c == 0)
        return mid;
      if (c < 0)
        low = mid + 1;
      else
        high = mid;
    }
  g_assert_not_reached ();
}

/* State of one distinct backend key in get_or_create_multi; keys the
 * mangler folds together (a case-folding mangler's "a" and "A") are one
 * item: one lock, one value, made once. */
typedef struct {
  const char *key; /* the first caller key that maps to it */
  const char *backend_key;
  GBytes *value;
  double created_time;
  DogpileMutex *held; /* the mutex this caller holds to regenerate */
} MultiItem;

static int
compare_multi_items (const void *a, const void *b)
{
  return strcmp ((*(MultiItem *const *) a)->key,
                 (*(MultiItem *const *) b)->key);
}

static gboolean
multi_take_lock (DogpileRegion *self, RegionConfig *config, double exp,
                 MultiItem *item, GError **error)
{
  DogpileClockSample now;
  g_autoptr (DogpileMutex) mutex = NULL;
  gboolean acquired = FALSE;

  mutex = dogpile_name_registry_get (config->locks, item->backend_key);
  if (!dogpile_mutex_acquire (mutex, FALSE, &acquired, error))
    return FALSE;
  if (!acquired && item->value != NULL)
    return TRUE; /* being regenerated: the stale value */
  if (!acquired)
    {
      if (!dogpile_mutex_acquire (mutex, TRUE, &acquired, error))
        return FALSE;
      if (!acquired)
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK,
                       "Gave up waiting for the lock on '%s' while another "
                       "caller creates it; not creating it unlocked",
                       item->key);
          return FALSE;
        }
    }
  /* Read again under the mutex, whether we waited for it or not: since the
   * multi-get, another caller may have made the value (and released the
   * mutex before we tried it), as single-key get_or_create does. */
  g_clear_pointer (&item->value, g_bytes_unref);
  if (!read_for_lock (self, &self->codec, config, item->key, item->backend_key,
                      exp, &item->value, &item->created_time, error))
    {
      dogpile_mutex_release (mutex, NULL);
      return FALSE;
    }
  dogpile__clock_sample (&now);
  if (item->value != NULL
      && !dogpile__value_is_expired (&now, item->created_time, exp))
    return dogpile_mutex_release (mutex, error);
  item->held = g_steal_pointer (&mutex);
  return TRUE;
}

/* Makes every held key's value with one creator call and stores those
 * should_cache accepts with one set_multi. */
static gboolean
multi_create (DogpileRegion *self, RegionConfig *config, double exp,
              MultiItem **todo, gsize n_todo, DogpileMultiCreatorFunc creator,
              gpointer user_data, DogpileShouldCacheFunc should_cache,
              gpointer should_cache_data, GError **error)
{
  g_autofree const char **keys = g_new (const char *, n_todo);
  g_autofree const char **store_keys = g_new (const char *, n_todo);
  g_autofree const char **store_backend_keys = g_new (const char *, n_todo);
  g_autofree GBytes **created = g_new0 (GBytes *, n_todo);
  g_autofree GBytes **store_values_ = g_new (GBytes *, n_todo);
  g_autofree DogpileMetadata *metadata = g_new0 (DogpileMetadata, n_todo);
  gint64 started = g_get_monotonic_time ();
  gsize n_store = 0;
  gboolean ok = TRUE;

  for (gsize i = 0; i < n_todo; i++)
    keys[i] = todo[i]->key;
  if (!creator (keys, n_todo, created, user_data, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CREATOR,
                     "The creator failed without saying why");
      ok = FALSE;
    }
  for (gsize i = 0; ok && i < n_todo; i++)
    if (created[i] == NULL)
      {
        g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CREATOR,
                     "The creator was asked for %" G_GSIZE_FORMAT
                     " values and gave none for '%s'",
                     n_todo, keys[i]);
        ok = FALSE;
      }
  if (ok)
    g_debug ("Cache value generated in %.3f seconds for %" G_GSIZE_FORMAT
             " key(s), first '%s'",
             (double) (g_get_monotonic_time () - started) / G_USEC_PER_SEC,
             n_todo, keys[0]);
  if (ok && exp == DOGPILE_EXPIRATION_NONE
      && dogpile__region_was_soft_invalidated (self))
    {
      g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_INVALIDATION,
                           SOFT_INVALIDATION_MESSAGE);
      ok = FALSE;
    }
  for (gsize i = 0; ok && i < n_todo; i++)
    {
      /* Fresh metadata per value, as dogpile.cache makes it. */
      dogpile_metadata_init (&metadata[n_store], dogpile_clock_now ());
      if (should_cache == NULL || should_cache (created[i], should_cache_data))
        {
          store_keys[n_store] = todo[i]->key;
          store_backend_keys[n_store] = todo[i]->backend_key;
          store_values_[n_store] = created[i];
          n_store++;
        }
    }
  if (ok && n_store > 0)
    ok = store_values (&self->codec, config, store_keys, store_backend_keys,
                       store_values_, metadata, n_store, error);
  for (gsize i = 0; i < n_todo; i++)
    {
      if (ok)
        {
          /* Values should_cache refused are returned all the same. */
          g_clear_pointer (&todo[i]->value, g_bytes_unref);
          todo[i]->value = g_steal_pointer (&created[i]);
        }
      g_clear_pointer (&created[i], g_bytes_unref);
    }
  return ok;
}

/**
 * dogpile_region_get_or_create_multi:
 * @self: a configured region
 * @keys: (array length=n_keys): the keys; duplicates allowed; borrowed
 * @n_keys: how many; with 0, nothing is read or created
 * @creator: (scope call): makes values for the keys that need them, in one
 *   call
 * @user_data: (closure): passed to @creator
 * @expiration_time: %DOGPILE_EXPIRATION_DEFAULT, an override, or
 *   %DOGPILE_EXPIRATION_NONE
 * @should_cache: (nullable) (scope call): decides, per value, whether it is
 *   stored
 * @should_cache_data: (closure): passed to @should_cache
 * @out_values: (array length=n_keys) (out caller-allocates): the values,
 *   aligned with @keys (transfer full each)
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's CacheRegion.get_or_create_multi(): one multi-get; then,
 * in backend-key order, the mutex of every key that is missing or expired
 * (an expired key whose mutex is busy keeps its stale value), each key
 * read again once its mutex is taken; then one @creator call with the keys
 * still missing or expired, sorted, and one set_multi for the values
 * @should_cache accepts.  Every mutex is released whatever fails.  Keys
 * the mangler folds into one backend key are one key for locking and
 * creation.  The async runner is never used here.
 *
 * Errors: the creator's error, or %DOGPILE_ERROR_CREATOR when it fails
 * without one or leaves a slot empty (nothing is stored);
 * %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend (with 0
 * keys too); %DOGPILE_ERROR_LOCK when waiting for a key's mutex gives up
 * or this thread already holds it; %DOGPILE_ERROR_INVALIDATION when a soft
 * invalidation meets a value that never expires; the serializer's error; and
 * whatever the backend's call or mutex reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE with every slot filled, %FALSE with @error set and every
 *   slot %NULL
 */
gboolean
dogpile_region_get_or_create_multi (DogpileRegion *self,
                                    const char *const *keys, gsize n_keys,
                                    DogpileMultiCreatorFunc creator,
                                    gpointer user_data, double expiration_time,
                                    DogpileShouldCacheFunc should_cache,
                                    gpointer should_cache_data,
                                    GBytes **out_values, GError **error)
{
  g_autofree const char **sorted = NULL;
  g_autofree const char **mangled_array = NULL;
  g_autoptr (GPtrArray) owned = NULL;
  g_autofree GBytes **payloads = NULL;
  g_autofree DogpileMetadata *metadata = NULL;
  g_autofree GError **key_errors = NULL;
  g_autofree MultiItem *items = NULL;
  g_autofree MultiItem **todo = NULL;
  g_autofree KeyRef *refs = NULL;
  g_autofree gsize *item_of = NULL;
  g_autofree const char **unique_backend_keys = NULL;
  const char *const *backend_keys;
  DogpileClockSample now;
  RegionConfig *config;
  gsize n = 0, n_items = 0, n_todo = 0;
  gboolean ok = TRUE;
  double exp;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (keys != NULL || n_keys == 0, FALSE);
  g_return_val_if_fail (creator != NULL, FALSE);
  g_return_val_if_fail (out_values != NULL || n_keys == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (gsize i = 0; i < n_keys; i++)
    out_values[i] = NULL;
  REGION_CONFIG_OR_FAIL (self, config, error);
  if (n_keys == 0)
    return TRUE;
  exp = effective_expiration (config, expiration_time);

  /* Sorted and unique: mutexes are always taken in one order. */
  sorted = g_memdup2 (keys, n_keys * sizeof *keys);
  qsort (sorted, n_keys, sizeof *sorted, compare_keys);
  for (gsize i = 0; i < n_keys; i++)
    if (n == 0 || strcmp (sorted[n - 1], sorted[i]) != 0)
      sorted[n++] = sorted[i];

  backend_keys = dogpile__region_mangle_keys (self, config, sorted, n,
                                              &mangled_array, &owned);
  /* Items in backend-key order: the mutexes' names, so that every caller
   * takes them in one order whatever the mangler does to the sort.
   * Unmangled keys are that order already, and unique. */
  items = g_new0 (MultiItem, n);
  if (backend_keys == (const char *const *) sorted)
    {
      /* item i is key i: no map, and the keys are the backend's */
      for (gsize i = 0; i < n; i++)
        items[i].key = items[i].backend_key = sorted[i];
      n_items = n;
    }
  else
    {
      item_of = g_new (gsize, n);
      unique_backend_keys = g_new (const char *, n);
      refs = g_new (KeyRef, n);
      for (gsize i = 0; i < n; i++)
        refs[i] = (KeyRef){ backend_keys[i], i };
      qsort (refs, n, sizeof *refs, compare_key_refs);
      for (gsize i = 0; i < n; i++)
        {
          if (n_items == 0
              || strcmp (items[n_items - 1].backend_key, refs[i].backend_key)
                     != 0)
            {
              items[n_items].key = sorted[refs[i].index];
              items[n_items].backend_key = refs[i].backend_key;
              unique_backend_keys[n_items] = refs[i].backend_key;
              n_items++;
            }
          item_of[refs[i].index] = n_items - 1;
        }
    }

  payloads = g_new0 (GBytes *, n_items);
  metadata = g_new0 (DogpileMetadata, n_items);
  key_errors = g_new0 (GError *, n_items);
  if (!dogpile_backend_get_value_multi (
          config->backend,
          unique_backend_keys != NULL ? unique_backend_keys : backend_keys,
          n_items, payloads, metadata, key_errors, error))
    return FALSE;

  todo = g_new0 (MultiItem *, n_items);
  for (gsize i = 0; i < n_items; i++)
    {
      items[i].value = g_steal_pointer (&payloads[i]);
      if (key_errors[i] != NULL)
        {
          g_debug ("Regenerating '%s': %s", items[i].key,
                   key_errors[i]->message);
          g_clear_error (&key_errors[i]);
        }
      if (ok
          && !lock_view (self, &self->codec, items[i].key, exp,
                         &items[i].value, &metadata[i], &items[i].created_time,
                         error))
        ok = FALSE;
    }

  dogpile__clock_sample (&now);
  for (gsize i = 0; ok && i < n_items; i++)
    {
      MultiItem *item = &items[i];

      if (item->value != NULL
          && !dogpile__value_is_expired (&now, item->created_time, exp))
        continue;
      if (!multi_take_lock (self, config, exp, item, error))
        ok = FALSE;
      else if (item->held != NULL)
        todo[n_todo++] = item;
    }

  /* The creator sees its keys sorted, as documented (they are, unless a
   * mangler reordered them). */
  if (refs != NULL)
    qsort (todo, n_todo, sizeof *todo, compare_multi_items);
  if (ok && n_todo > 0)
    ok = multi_create (self, config, exp, todo, n_todo, creator, user_data,
                       should_cache, should_cache_data, error);

  for (gsize i = 0; i < n_items; i++)
    if (items[i].held != NULL)
      {
        g_autoptr (GError) release_error = NULL;

        if (!dogpile_mutex_release (items[i].held, &release_error) && ok)
          {
            g_propagate_error (error, g_steal_pointer (&release_error));
            ok = FALSE;
          }
        dogpile_mutex_unref (items[i].held);
      }

  for (gsize i = 0; ok && i < n_keys; i++)
    {
      gsize k = find_key (sorted, n, keys[i]);

      out_values[i]
          = g_bytes_ref (items[item_of != NULL ? item_of[k] : k].value);
    }
  for (gsize i = 0; i < n_items; i++)
    g_clear_pointer (&items[i].value, g_bytes_unref);
  return ok;
}

/**
 * dogpile_region_get_mutex:
 * @self: a configured region
 * @key: the key (the mangler is applied); borrowed
 * @error: return location for a #GError, or %NULL
 *
 * The mutex get_or_create takes to regenerate @key: the backend's own, or
 * an in-process one shared by everyone asking for @key right now (from
 * the region's #DogpileNameRegistry).  For callers that must coordinate
 * with regeneration by hand.  Holding the reference keeps that mutex the
 * key's.
 *
 * Errors: %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full) (nullable): the mutex, or %NULL with @error set
 */
DogpileMutex *
dogpile_region_get_mutex (DogpileRegion *self, const char *key, GError **error)
{
  g_autofree char *owned = NULL;
  RegionConfig *config;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  config = get_config_or_error (self, error);
  if (config == NULL)
    return NULL;
  return dogpile_name_registry_get (config->locks,
                                    mangle_key (self, config, key, &owned));
}

/**
 * dogpile_region_key_is_locked:
 * @self: a configured region
 * @key: the key; borrowed
 * @out_locked: (out): whether someone holds the key's mutex (is
 *   regenerating it)
 * @error: return location for a #GError, or %NULL
 *
 * dogpile.cache's CacheRegion.key_is_locked(), but applying the key
 * mangler first (dogpile.cache does not: see docs/differences.md).  Does
 * not acquire anything.
 *
 * Errors: %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend;
 * whatever the backend's mutex reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_region_key_is_locked (DogpileRegion *self, const char *key,
                              gboolean *out_locked, GError **error)
{
  g_autoptr (DogpileMutex) mutex = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (out_locked != NULL, FALSE);

  mutex = dogpile_region_get_mutex (self, key, error);
  return mutex != NULL && dogpile_mutex_locked (mutex, out_locked, error);
}

/**
 * dogpile_region_set_async_creation_runner:
 * @self: an unconfigured region
 * @runner: (nullable) (scope notified): receives each background
 *   regeneration; %NULL for none
 * @user_data: (closure): passed to @runner
 * @destroy: (nullable): frees @user_data when it is replaced or the region
 *   is freed
 *
 * dogpile.cache's async_creation_runner: when a get_or_create caller finds
 * an expired (or soft-invalidated) value and wins its mutex, it returns the
 * stale value at once and @runner gets a #DogpileAsyncTask to regenerate
 * it, holding the mutex until the task runs or is freed.  Missing and
 * hard-invalidated values are always created in the caller, and so are
 * those of calls whose user data the region may not keep (see
 * dogpile_region_get_or_create_full()) and of get_or_create_multi.
 * dogpile_async_pool_run() is a ready runner on a bounded thread pool.
 *
 * Thread safety: setup: call before @self is configured or shared (a
 * configured region refuses it with a critical warning).
 */
void
dogpile_region_set_async_creation_runner (DogpileRegion *self,
                                          DogpileAsyncRunner runner,
                                          gpointer user_data,
                                          GDestroyNotify destroy)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (get_config (self) == NULL);

  if (self->async_runner_destroy != NULL)
    self->async_runner_destroy (self->async_runner_data);
  self->async_runner = runner;
  self->async_runner_data = user_data;
  self->async_runner_destroy = destroy;
}
