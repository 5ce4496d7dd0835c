/* dogpile-serializer.c: the named serializers (raw, json, pickle) and a
 * region's values as GVariants.
 *
 * A named serializer is a codec pair like any custom one, so every byte
 * call (get, set, get_or_create and their multi forms, the async runner)
 * applies it with no special case.  The GVariant calls go under it: they
 * encode the value to the stored payload themselves and run the byte
 * machinery with no codec (RAW_CODEC), so a dict is pickled once, not
 * wrapped as a pickled bytes object.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-region-private.h"

typedef enum {
  SERIALIZER_RAW,
  SERIALIZER_JSON,
  SERIALIZER_PICKLE,
  SERIALIZER_CUSTOM,
} SerializerKind;

static SerializerKind
kind_of (DogpileRegion *self)
{
  if (strcmp (self->serializer_name, "json") == 0)
    return SERIALIZER_JSON;
  if (strcmp (self->serializer_name, "pickle") == 0)
    return SERIALIZER_PICKLE;
  if (strcmp (self->serializer_name, "raw") == 0)
    return SERIALIZER_RAW;
  return SERIALIZER_CUSTOM;
}

/* json: the payload is the JSON text; only checked. */
static GBytes *
json_serialize (GBytes *payload, gpointer user_data, GError **error)
{
  gsize len;
  const char *text = g_bytes_get_data (payload, &len);

  if (!dogpile_json_validate (text != NULL ? text : "", len, error))
    return NULL;
  return g_bytes_ref (payload);
}

/* Bytes that are not JSON text read as a miss, as a CantDeserialize
 * from a Python deserializer would. */
static GBytes *
json_deserialize (GBytes *stored, gpointer user_data, GError **error)
{
  gsize len;
  const char *text = g_bytes_get_data (stored, &len);
  g_autoptr (GError) local = NULL;

  if (!dogpile_json_validate (text != NULL ? text : "", len, &local))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE, "%s",
                   local->message);
      return NULL;
    }
  return g_bytes_ref (stored);
}

/* pickle: the payload bytes are a Python bytes object. */
static GBytes *
pickle_serialize (GBytes *payload, gpointer user_data, GError **error)
{
  return dogpile_pickle_dumps (
      g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, payload, TRUE),
      error);
}

static GBytes *
pickle_deserialize (GBytes *stored, gpointer user_data, GError **error)
{
  g_autoptr (GVariant) value = dogpile_pickle_loads (stored, error);
  g_autoptr (GVariant) content = NULL;
  DogpilePyType type;

  if (value == NULL
      || !dogpile_py_value_classify (value, &type, &content, error))
    return NULL;
  if (type == DOGPILE_PY_BYTES || type == DOGPILE_PY_BYTEARRAY)
    return g_variant_get_data_as_bytes (content);
  {
    g_autofree char *shown = g_variant_print (value, FALSE);

    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                 "The stored value is not bytes but %.60s%s: read it with "
                 "dogpile_region_get_variant() (dogpile-cache: -s pickle)",
                 shown, strlen (shown) > 60 ? "..." : "");
  }
  return NULL;
}

/**
 * dogpile_region_set_serializer_name:
 * @self: an unconfigured region
 * @name: (not nullable): "raw", "json" or "pickle"; borrowed for the call
 * @error: return location for a #GError, or %NULL
 *
 * Chooses one of the built-in serializers the section's description
 * lists, as the serializer and deserializer of dogpile.cache's
 * `make_region` would.  It replaces any pair given to
 * dogpile_region_set_serializer(), whose destroy function is called.  The
 * backend is told the name when the region is configured, for plugins
 * that ask for it.  On a configured region it does nothing but report a
 * critical warning and return %FALSE.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when @name is not one of the three.
 *
 * Thread safety: setup: call before @self is configured or shared.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_region_set_serializer_name (DogpileRegion *self, const char *name,
                                    GError **error)
{
  static const struct {
    const char *name;
    DogpileSerializeFunc serialize;
    DogpileDeserializeFunc deserialize;
  } serializers[] = {
    { "raw", NULL, NULL },
    { "json", json_serialize, json_deserialize },
    { "pickle", pickle_serialize, pickle_deserialize },
  };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (get_config (self) == NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (gsize i = 0; i < G_N_ELEMENTS (serializers); i++)
    if (strcmp (name, serializers[i].name) == 0)
      {
        dogpile_region_set_serializer (self, serializers[i].serialize,
                                       serializers[i].deserialize, NULL, NULL);
        self->serializer_name = serializers[i].name;
        return TRUE;
      }
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "Unknown serializer '%s': use raw, json or pickle", name);
  return FALSE;
}

/**
 * dogpile_region_get_serializer_name:
 * @self: a region
 *
 * Which serializer the region applies to payloads: the name given to
 * dogpile_region_set_serializer_name(), "raw" by default, or "custom"
 * after dogpile_region_set_serializer() with a function.
 *
 * Thread safety: any thread, concurrently with any call on @self but the
 * setup calls that change the serializer.
 *
 * Returns: (transfer none): "raw", "json", "pickle" or "custom"; a static
 *   string
 */
const char *
dogpile_region_get_serializer_name (DogpileRegion *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->serializer_name;
}

/**
 * dogpile_region_encode_variant:
 * @self: a region, configured or not
 * @value: (not nullable): the value, mapped as the Python values section
 *   describes; borrowed, but a floating reference is sunk and released
 * @error: return location for a #GError, or %NULL
 *
 * The payload the region stores for @value, as its serializer makes it:
 * with pickle, dogpile_pickle_dumps() of @value (protocol 4); with json,
 * dogpile_json_dumps() of it; with raw and custom serializers @value
 * must be a bytestring (GVariant type ay), whose bytes go through the
 * region's serializer function when it has one.  Nothing is stored.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION for a value the serializer cannot
 * hold (not a Python value, not one JSON can hold, or not a bytestring
 * for raw and custom), or when a custom serializer fails without a
 * reason; and whatever a custom serializer reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full): the stored payload, or %NULL with @error set
 */
GBytes *
dogpile_region_encode_variant (DogpileRegion *self, GVariant *value,
                               GError **error)
{
  g_autoptr (GVariant) owned = NULL;
  g_autoptr (GBytes) bytes = NULL;
  char *text;
  gsize len;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  owned = g_variant_ref_sink (value);
  switch (kind_of (self))
    {
    case SERIALIZER_PICKLE: return dogpile_pickle_dumps (owned, error);
    case SERIALIZER_JSON:
      text = dogpile_json_dumps (owned, DOGPILE_JSON_NONE, &len, error);
      return text != NULL ? g_bytes_new_take (text, len) : NULL;
    default: break;
    }
  if (!g_variant_is_of_type (owned, G_VARIANT_TYPE_BYTESTRING))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "A region with the %s serializer stores bytes (GVariant "
                   "type ay), not '%s': choose the pickle or json "
                   "serializer for other values",
                   self->serializer_name, g_variant_get_type_string (owned));
      return NULL;
    }
  bytes = g_variant_get_data_as_bytes (owned);
  return dogpile__region_serialize (&self->codec, bytes, error);
}

/**
 * dogpile_region_decode_variant:
 * @self: a region, configured or not
 * @stored: (transfer none): a stored payload, as the backend holds it
 *   after the record's metadata; borrowed
 * @error: return location for a #GError, or %NULL
 *
 * The value in @stored, the inverse of dogpile_region_encode_variant():
 * with pickle, dogpile_pickle_loads(); with json, dogpile_json_loads();
 * with raw and custom serializers a bytestring (ay) of @stored's bytes,
 * passed through the region's deserializer function when it has one.
 *
 * Errors: %DOGPILE_ERROR_CANT_DESERIALIZE when @stored is not a pickle of
 * plain data or not JSON text, or when a custom deserializer fails
 * without a reason; and whatever a custom deserializer reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full): the value (not floating), or %NULL with
 *   @error set
 */
GVariant *
dogpile_region_decode_variant (DogpileRegion *self, GBytes *stored,
                               GError **error)
{
  g_autoptr (GBytes) payload = NULL;
  gsize len;
  const char *text;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (stored != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  switch (kind_of (self))
    {
    case SERIALIZER_PICKLE: return dogpile_pickle_loads (stored, error);
    case SERIALIZER_JSON:
      text = g_bytes_get_data (stored, &len);
      return dogpile_json_loads (text != NULL ? text : "", len,
                                 DOGPILE_JSON_NONE, error);
    default: break;
    }
  payload = g_bytes_ref (stored);
  if (self->codec.deserialize != NULL)
    {
      GBytes *out = self->codec.deserialize (payload, self->codec.data, error);

      if (out == NULL)
        {
          if (error != NULL && *error == NULL)
            g_set_error_literal (error, DOGPILE_ERROR,
                                 DOGPILE_ERROR_CANT_DESERIALIZE,
                                 "The region's deserializer failed without "
                                 "a reason");
          return NULL;
        }
      g_bytes_unref (payload);
      payload = out;
    }
  return g_variant_ref_sink (
      g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, payload, TRUE));
}

/* A payload that does not decode is a miss, as in the byte calls. */
static gboolean
decode_or_miss (DogpileRegion *self, const char *key, GBytes *stored,
                GVariant **out_value, GError **error)
{
  g_autoptr (GError) local = NULL;

  *out_value = dogpile_region_decode_variant (self, stored, &local);
  if (*out_value != NULL
      || g_error_matches (local, DOGPILE_ERROR,
                          DOGPILE_ERROR_CANT_DESERIALIZE))
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local));
  return dogpile__region_key_error (error, key);
}

/**
 * dogpile_region_get_variant_full:
 * @self: a configured region
 * @key: (not nullable): the key, before mangling; borrowed for the call
 * @expiration_time: %DOGPILE_EXPIRATION_DEFAULT for the region's, or an
 *   override for this call only
 * @flags: %DOGPILE_GET_IGNORE_EXPIRATION to return a value however old
 * @out_value: (out) (transfer full) (nullable): the value (not floating),
 *   %NULL on a miss
 * @out_metadata: (out caller-allocates) (optional): its metadata on a hit;
 *   unspecified on a miss
 * @error: return location for a #GError, or %NULL
 *
 * dogpile_region_get_full() for a value, decoded by
 * dogpile_region_decode_variant(): dogpile.cache's CacheRegion.get() on a
 * region with a serializer.  A stored payload the serializer cannot read
 * (%DOGPILE_ERROR_CANT_DESERIALIZE) is a miss.
 *
 * Errors: those of dogpile_region_get_full():
 * %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend;
 * %DOGPILE_ERROR_CANT_DESERIALIZE when the stored bytes are not a record;
 * whatever the backend's call reports; and whatever a custom deserializer
 * reports other than %DOGPILE_ERROR_CANT_DESERIALIZE.  The messages of
 * the backend and decoding errors name the key.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success (a miss included), %FALSE with @error set
 */
gboolean
dogpile_region_get_variant_full (DogpileRegion *self, const char *key,
                                 double expiration_time, DogpileGetFlags flags,
                                 GVariant **out_value,
                                 DogpileMetadata *out_metadata, GError **error)
{
  g_autoptr (GBytes) stored = NULL;
  DogpileMetadata metadata = { 0 };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out_value = NULL;
  if (!dogpile__region_fetch (self, &RAW_CODEC, key, expiration_time, flags,
                              &stored, &metadata, error))
    return FALSE;
  if (stored != NULL && !decode_or_miss (self, key, stored, out_value, error))
    return FALSE;
  if (out_metadata != NULL)
    *out_metadata = metadata;
  return TRUE;
}

/**
 * dogpile_region_get_variant:
 * @self: a configured region
 * @key: (not nullable): the key, before mangling; borrowed for the call
 * @out_value: (out) (transfer full) (nullable): the value (not floating),
 *   %NULL on a miss
 * @error: return location for a #GError, or %NULL
 *
 * dogpile_region_get_variant_full() with the region's expiration time,
 * no flags and no metadata: dogpile.cache's CacheRegion.get(key).
 *
 * Errors: those of dogpile_region_get_variant_full().
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success (a miss included), %FALSE with @error set
 */
gboolean
dogpile_region_get_variant (DogpileRegion *self, const char *key,
                            GVariant **out_value, GError **error)
{
  return dogpile_region_get_variant_full (
      self, key, DOGPILE_EXPIRATION_DEFAULT, DOGPILE_GET_NONE, out_value, NULL,
      error);
}

/**
 * dogpile_region_set_variant:
 * @self: a configured region
 * @key: (not nullable): the key, before mangling; borrowed for the call
 * @value: (not nullable): the value; borrowed, but a floating reference
 *   is sunk and released
 * @error: return location for a #GError, or %NULL
 *
 * dogpile_region_set() for a value, encoded by
 * dogpile_region_encode_variant(): dogpile.cache's CacheRegion.set() on a
 * region with a serializer.  The value is stored with the current time,
 * with no lock.
 *
 * Errors: those of dogpile_region_encode_variant() for a value the
 * serializer cannot hold (%DOGPILE_ERROR_VALIDATION; nothing is stored);
 * %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend; and
 * whatever the backend's call reports.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_region_set_variant (DogpileRegion *self, const char *key,
                            GVariant *value, GError **error)
{
  g_autoptr (GBytes) stored = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  stored = dogpile_region_encode_variant (self, value, error);
  if (stored == NULL)
    return dogpile__region_key_error (error, key);
  return dogpile__region_store (self, &RAW_CODEC, key, stored, error);
}

/* One get_or_create_variant call.  Its codec decodes each payload the
 * lock reads (an undecodable one is a miss, to regenerate) and keeps the
 * last value, so the one returned is decoded once. */
typedef struct {
  DogpileRegion *region;
  DogpileVariantCreatorFunc creator;
  gpointer user_data;
  GBytes *last_stored; /* what @last_value was read from or encoded to */
  GVariant *last_value;
} VariantCreation;

static void
remember (VariantCreation *c, GBytes *stored, GVariant *value)
{
  g_clear_pointer (&c->last_stored, g_bytes_unref);
  g_clear_pointer (&c->last_value, g_variant_unref);
  c->last_stored = g_bytes_ref (stored);
  c->last_value = value;
}

static GBytes *
decode_checked (GBytes *stored, gpointer user_data, GError **error)
{
  VariantCreation *c = user_data;
  GVariant *value = dogpile_region_decode_variant (c->region, stored, error);

  if (value == NULL)
    return NULL;
  remember (c, stored, value);
  return g_bytes_ref (stored);
}

static GBytes *
create_stored (const char *key, gpointer user_data, GError **error)
{
  VariantCreation *c = user_data;
  GVariant *value = c->creator (key, c->user_data, error);
  GBytes *stored;

  if (value == NULL)
    return NULL;
  /* Ours either way: a floating reference is sunk, a full one taken as
   * it is (a creator may return what g_variant_parse() gave it). */
  value = g_variant_take_ref (value);
  stored = dogpile_region_encode_variant (c->region, value, error);
  if (stored == NULL)
    {
      g_variant_unref (value);
      return NULL;
    }
  remember (c, stored, value);
  return stored;
}

/**
 * dogpile_region_get_or_create_variant:
 * @self: a configured region
 * @key: (not nullable): the key, before mangling; borrowed for the call
 * @creator: (scope call): makes the value when it is missing or expired
 * @user_data: (closure): passed to @creator; it need only stay valid for
 *   the call
 * @expiration_time: %DOGPILE_EXPIRATION_DEFAULT for the region's, an
 *   override, or %DOGPILE_EXPIRATION_NONE: never expires by age
 * @out_value: (out) (transfer full): the value (not floating); %NULL when
 *   the call fails
 * @error: return location for a #GError, or %NULL
 *
 * dogpile_region_get_or_create_full() for a value, under the same dogpile
 * lock (a Python region's on a shared backend): dogpile.cache's
 * CacheRegion.get_or_create() on a region with a serializer.  A stored
 * payload the serializer cannot read is regenerated.  Regeneration runs in
 * this thread, never on the async runner.  A value @creator returns that
 * the serializer cannot hold fails the call and stores nothing.
 *
 * Errors: those of dogpile_region_get_or_create_full():
 * %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend; the
 * error @creator sets, or %DOGPILE_ERROR_CREATOR when it returns %NULL
 * without one; %DOGPILE_ERROR_LOCK when the key's mutex cannot be taken
 * or released; %DOGPILE_ERROR_INVALIDATION when a soft invalidation meets
 * a value that never expires; and whatever the backend's call reports.
 * Also %DOGPILE_ERROR_VALIDATION when the created value is one the
 * serializer cannot hold, and whatever a custom serializer or
 * deserializer reports other than %DOGPILE_ERROR_CANT_DESERIALIZE.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE with the value, %FALSE with @error set
 */
gboolean
dogpile_region_get_or_create_variant (DogpileRegion *self, const char *key,
                                      DogpileVariantCreatorFunc creator,
                                      gpointer user_data,
                                      double expiration_time,
                                      GVariant **out_value, GError **error)
{
  VariantCreation c = { self, creator, user_data, NULL, NULL };
  RegionCodec codec = { NULL, decode_checked, &c };
  g_autoptr (GBytes) stored = NULL;
  gboolean ok;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (creator != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out_value = NULL;
  ok = dogpile__region_get_or_create_with (self, &codec, key, create_stored,
                                           &c, NULL, expiration_time, NULL,
                                           NULL, &stored, error);
  /* the payload returned is the last one decoded or encoded */
  if (ok && stored == c.last_stored)
    *out_value = g_steal_pointer (&c.last_value);
  else if (ok)
    {
      *out_value = dogpile_region_decode_variant (self, stored, error);
      ok = *out_value != NULL || dogpile__region_key_error (error, key);
    }
  g_clear_pointer (&c.last_stored, g_bytes_unref);
  g_clear_pointer (&c.last_value, g_variant_unref);
  return ok;
}
