/* dogpile-value.c: a payload with its metadata (dogpile.cache's CachedValue).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

struct DogpileCachedValue {
  gint ref_count;
  GBytes *payload;
  DogpileMetadata metadata;
};

/**
 * dogpile_metadata_init:
 * @metadata: (out caller-allocates): the metadata to fill
 * @cached_time: the creation time, seconds since the epoch (as
 *   dogpile_clock_now() gives it)
 *
 * Fills @metadata as dogpile.cache's region does for a new value:
 * `{"ct": cached_time, "v": 2}`.  Every member, the reserved ones
 * included, is zeroed first.
 *
 * Thread safety: any thread, concurrently with any call on another
 * @metadata.
 */
void
dogpile_metadata_init (DogpileMetadata *metadata, double cached_time)
{
  g_return_if_fail (metadata != NULL);

  memset (metadata, 0, sizeof *metadata);
  metadata->cached_time = cached_time;
  metadata->version = DOGPILE_VALUE_VERSION;
}

/**
 * dogpile_cached_value_new:
 * @payload: (transfer none): the payload; the value takes a reference of
 *   its own
 * @metadata: its metadata; borrowed for the call, copied
 *
 * Makes a cached value, dogpile.cache's CachedValue(payload, metadata).
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): a new immutable cached value
 */
DogpileCachedValue *
dogpile_cached_value_new (GBytes *payload, const DogpileMetadata *metadata)
{
  DogpileCachedValue *self;

  g_return_val_if_fail (payload != NULL, NULL);
  g_return_val_if_fail (metadata != NULL, NULL);

  self = g_new0 (DogpileCachedValue, 1);
  self->ref_count = 1;
  self->payload = g_bytes_ref (payload);
  self->metadata = *metadata;
  return self;
}

/**
 * dogpile_cached_value_ref:
 * @self: a cached value
 *
 * Adds a reference to @self, atomically.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full): @self
 */
DogpileCachedValue *
dogpile_cached_value_ref (DogpileCachedValue *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

/**
 * dogpile_cached_value_unref:
 * @self: (transfer full): a cached value
 *
 * Drops a reference to @self, atomically; the last one frees it and
 * releases its payload.
 *
 * Thread safety: any thread; the last unref must not race a call on
 * @self.
 */
void
dogpile_cached_value_unref (DogpileCachedValue *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_bytes_unref (self->payload);
  g_free (self);
}

/**
 * dogpile_cached_value_get_payload:
 * @self: a cached value
 *
 * The payload: CachedValue.payload.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer none): the payload, valid as long as @self is
 */
GBytes *
dogpile_cached_value_get_payload (const DogpileCachedValue *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->payload;
}

/**
 * dogpile_cached_value_get_metadata:
 * @self: a cached value
 *
 * The metadata: CachedValue.metadata.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer none): the metadata, valid as long as @self is
 */
const DogpileMetadata *
dogpile_cached_value_get_metadata (const DogpileCachedValue *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->metadata;
}

/**
 * dogpile_cached_value_get_cached_time:
 * @self: a cached value
 *
 * The creation time: CachedValue.cached_time.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: the creation time ("ct"), seconds since the epoch
 */
double
dogpile_cached_value_get_cached_time (const DogpileCachedValue *self)
{
  g_return_val_if_fail (self != NULL, 0.0);
  return self->metadata.cached_time;
}

/**
 * dogpile_cached_value_get_version:
 * @self: a cached value
 *
 * The value format version, the metadata's "v".
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: the value format version ("v"); %DOGPILE_VALUE_VERSION for
 *   values written by current dogpile.cache and libdogpile
 */
gint
dogpile_cached_value_get_version (const DogpileCachedValue *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->metadata.version;
}

/**
 * dogpile_cached_value_get_age:
 * @self: a cached value
 *
 * The time since the value was created, computed at each call from
 * dogpile_clock_now(), like dogpile.cache's CachedValue.age.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: seconds since the value was created
 */
double
dogpile_cached_value_get_age (const DogpileCachedValue *self)
{
  g_return_val_if_fail (self != NULL, 0.0);
  return dogpile_clock_now () - self->metadata.cached_time;
}
