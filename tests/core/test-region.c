/* test-region.c: dogpile.cache's RegionTest cases that need no lock
 * (spec 5.6), against an in-process "mock" backend like the Python
 * suite's, and the memory backends.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-util.h"

/* The mock backend: payloads by reference in a locked table, with the
 * arguments it was created with, and an optional key mangler. */
typedef struct {
  GBytes *payload;
  DogpileMetadata metadata;
} MockItem;

struct DogpileBackendImpl {
  GMutex lock;
  GHashTable *items;
  GHashTable *arguments;
};

static DogpileBackendImpl *last_mock;

static void
mock_item_free (gpointer data)
{
  MockItem *item = data;

  g_bytes_unref (item->payload);
  g_free (item);
}

static DogpileBackendImpl *
mock_create (GHashTable *arguments, GError **error)
{
  DogpileBackendImpl *self = g_new0 (DogpileBackendImpl, 1);
  GHashTableIter iter;
  gpointer k, v;

  g_mutex_init (&self->lock);
  self->items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       mock_item_free);
  self->arguments
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (arguments != NULL)
    {
      g_hash_table_iter_init (&iter, arguments);
      while (g_hash_table_iter_next (&iter, &k, &v))
        g_hash_table_insert (self->arguments, g_strdup (k), g_strdup (v));
    }
  last_mock = self;
  return self;
}

static void
mock_destroy (DogpileBackendImpl *self)
{
  if (last_mock == self)
    last_mock = NULL;
  g_hash_table_unref (self->items);
  g_hash_table_unref (self->arguments);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static gboolean
mock_get_value (DogpileBackendImpl *self, const char *key,
                GBytes **out_payload, DogpileMetadata *out_metadata,
                GError **error)
{
  MockItem *item;

  g_mutex_lock (&self->lock);
  item = g_hash_table_lookup (self->items, key);
  if (item != NULL)
    {
      *out_payload = g_bytes_ref (item->payload);
      *out_metadata = item->metadata;
    }
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
mock_set_value (DogpileBackendImpl *self, const char *key, GBytes *payload,
                const DogpileMetadata *metadata, GError **error)
{
  MockItem *item = g_new0 (MockItem, 1);

  item->payload = g_bytes_ref (payload);
  item->metadata = *metadata;
  g_mutex_lock (&self->lock);
  g_hash_table_replace (self->items, g_strdup (key), item);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
mock_delete (DogpileBackendImpl *self, const char *key, GError **error)
{
  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->items, key);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
mock_has (const char *key)
{
  gboolean found;

  g_mutex_lock (&last_mock->lock);
  found = g_hash_table_contains (last_mock->items, key);
  g_mutex_unlock (&last_mock->lock);
  return found;
}

static char *
mock_mangle (DogpileBackendImpl *self, const char *key)
{
  return g_strconcat ("BE:", key, NULL);
}

static const DogpileBackendDesc mock_desc = {
  .abi_version = DOGPILE_BACKEND_ABI_VERSION,
  .name = "mock",
  .description = "the Python suite's MockBackend",
  .create = mock_create,
  .destroy = mock_destroy,
  .delete_key = mock_delete,
  .get_value = mock_get_value,
  .set_value = mock_set_value,
};

static const DogpileBackendDesc mangling_mock_desc = {
  .abi_version = DOGPILE_BACKEND_ABI_VERSION,
  .name = "mock.mangling",
  .create = mock_create,
  .destroy = mock_destroy,
  .delete_key = mock_delete,
  .get_value = mock_get_value,
  .set_value = mock_set_value,
  .mangle_key = mock_mangle,
};

static void
setup (void)
{
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_registry_register_desc (dogpile_registry_get_default (),
                                             &mock_desc, &error));
  cr_assert (dogpile_registry_register_desc (dogpile_registry_get_default (),
                                             &mangling_mock_desc, &error));
  use_test_clock (1000);
}

static GBytes *
get (DogpileRegion *region, const char *key)
{
  g_autoptr (GError) error = NULL;
  GBytes *value = NULL;

  cr_assert (dogpile_region_get (region, key, &value, &error));
  assert_no_error (error);
  return value;
}

static GBytes *
get_full (DogpileRegion *region, const char *key, double expiration,
          DogpileGetFlags flags)
{
  g_autoptr (GError) error = NULL;
  GBytes *value = NULL;

  cr_assert (dogpile_region_get_full (region, key, expiration, flags, &value,
                                      &error));
  assert_no_error (error);
  return value;
}

static void
set (DogpileRegion *region, const char *key, const char *value)
{
  g_autoptr (GBytes) bytes = bytes_of (value);
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_set (region, key, bytes, &error));
  assert_no_error (error);
}

/* Asserts the value under @key (NULL: a miss) and drops it. */
#define assert_get(region, key, expected)                                     \
  G_STMT_START                                                                \
  {                                                                           \
    g_autoptr (GBytes) got_ = get ((region), (key));                          \
    cr_assert (bytes_equal (got_, (expected)), "get(%s)", (key));             \
  }                                                                           \
  G_STMT_END

TestSuite (region, .init = setup);

Test (region, set_name)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new ("my-name");

  cr_assert_str_eq (dogpile_region_get_name (region), "my-name");
}

Test (region, no_config)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) value = bytes_of ("v");
  GBytes *out = (GBytes *) 0x1;
  const char *keys[] = { "a" };
  GBytes *values[1];

  cr_assert_not (dogpile_region_is_configured (region));
  cr_assert_null (dogpile_region_get_backend (region, &error));
  assert_error (error, DOGPILE_ERROR_REGION_NOT_CONFIGURED);
  cr_assert_str_eq (error->message,
                    "No backend is configured on this region.");
  g_clear_error (&error);
  cr_assert_not (dogpile_region_get (region, "a", &out, &error));
  assert_error (error, DOGPILE_ERROR_REGION_NOT_CONFIGURED);
  g_clear_error (&error);
  cr_assert_not (dogpile_region_set (region, "a", value, &error));
  assert_error (error, DOGPILE_ERROR_REGION_NOT_CONFIGURED);
  g_clear_error (&error);
  cr_assert_not (dogpile_region_delete (region, "a", &error));
  g_clear_error (&error);
  cr_assert_not (dogpile_region_get_multi (region, keys, 1, values, &error));
  g_clear_error (&error);
  cr_assert_not (dogpile_region_delete_multi (region, keys, 0, &error));
  assert_error (error, DOGPILE_ERROR_REGION_NOT_CONFIGURED);
}

Test (region, dupe_config)
{
  g_autoptr (DogpileRegion) region = configured_region ("mock", 60, NULL);
  g_autoptr (GError) error = NULL;

  cr_assert_not (dogpile_region_configure (region, "dogpile.cache.memory", 60,
                                           NULL, DOGPILE_CONFIGURE_NONE,
                                           &error));
  assert_error (error, DOGPILE_ERROR_REGION_ALREADY_CONFIGURED);
  cr_assert_str_eq (error->message,
                    "This region is already configured with backend: mock.  "
                    "Specify replace_existing_backend=True to replace.");
  cr_assert (dogpile_region_is_configured (region));
  cr_assert_str_eq (dogpile_backend_get_name (
                        dogpile_region_get_actual_backend (region, NULL)),
                    "mock");
}

Test (region, replace_backend_config)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.null", 60, NULL);
  g_autoptr (GError) error = NULL;

  set (region, "k", "v");
  assert_get (region, "k", NULL);
  cr_assert (
      dogpile_region_configure (region, "dogpile.cache.memory", 30, NULL,
                                DOGPILE_CONFIGURE_REPLACE_EXISTING, &error));
  cr_assert_eq (dogpile_region_get_expiration_time (region), 30);
  cr_assert_str_eq (dogpile_backend_get_name (
                        dogpile_region_get_actual_backend (region, NULL)),
                    "dogpile.cache.memory");
  set (region, "k", "v");
  assert_get (region, "k", "v");
}

Test (region, failed_reconfigure_keeps_the_old_backend)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  g_autoptr (GError) error = NULL;

  set (region, "k", "v");
  cr_assert_not (dogpile_region_configure (region, "unknown", 60, NULL,
                                           DOGPILE_CONFIGURE_REPLACE_EXISTING,
                                           &error));
  assert_error (error, DOGPILE_ERROR_PLUGIN_NOT_FOUND);
  assert_get (region, "k", "v");
}

Test (region, invalid_backend)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (GError) error = NULL;

  cr_assert_not (
      dogpile_region_configure (region, "unknown", 60, NULL, 0, &error));
  assert_error (error, DOGPILE_ERROR_PLUGIN_NOT_FOUND);
  cr_assert (
      g_str_has_prefix (error->message,
                        "Couldn't find cache plugin to load: unknown; "),
      "%s", error->message);
  cr_assert_not (dogpile_region_is_configured (region));
}

Test (region, reject_invalid_expiration_time)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (GError) error = NULL;

  cr_assert_not (
      dogpile_region_configure (region, "mock", NAN, NULL, 0, &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert_str_eq (error->message,
                    "expiration_time is not a number or timedelta.");
  cr_assert_not (dogpile_region_is_configured (region));
}

Test (region, arguments_reach_the_backend_unmodified)
{
  g_autoptr (GHashTable) arguments = arguments_of ("url", "127.0.0.1", NULL);
  g_autoptr (DogpileRegion) region
      = configured_region ("mock", 600, arguments);

  cr_assert_eq (dogpile_region_get_expiration_time (region), 600);
  cr_assert_str_eq (g_hash_table_lookup (last_mock->arguments, "url"),
                    "127.0.0.1");
  cr_assert_eq (g_hash_table_size (arguments), 1);
}

Test (region, set_get_value)
{
  g_autoptr (DogpileRegion) region = configured_region ("mock", 60, NULL);

  set (region, "some key", "some value");
  assert_get (region, "some key", "some value");
}

Test (region, set_get_nothing)
{
  g_autoptr (DogpileRegion) region = configured_region ("mock", 60, NULL);
  g_autoptr (GBytes) with_override = NULL;

  assert_get (region, "some key", NULL);
  with_override = get_full (region, "some key", 10, 0);
  cr_assert_null (with_override);
  dogpile_region_invalidate (region, TRUE);
  assert_get (region, "some key", NULL);
}

Test (region, remove)
{
  g_autoptr (DogpileRegion) region = configured_region ("mock", 60, NULL);
  g_autoptr (GError) error = NULL;

  set (region, "some key", "some value");
  cr_assert (dogpile_region_delete (region, "some key", &error));
  cr_assert (dogpile_region_delete (region, "some key", &error));
  assert_get (region, "some key", NULL);
}

/* test_expire, test_expire_on_get, test_ignore_expire_on_get,
 * test_override_expire_on_get, with the clock moved by hand. */
Test (region, expiration_on_get)
{
  g_autoptr (DogpileRegion) region = configured_region ("mock", 1, NULL);
  g_autoptr (GBytes) ignored = NULL;
  g_autoptr (GBytes) overridden = NULL;
  g_autoptr (GBytes) never = NULL;

  set (region, "k", "v1");
  test_clock_value = 1001.0;
  assert_get (region, "k", "v1"); /* exactly the expiration: not older */
  test_clock_value = 1001.0001;
  assert_get (region, "k", NULL);
  ignored = get_full (region, "k", DOGPILE_EXPIRATION_DEFAULT,
                      DOGPILE_GET_IGNORE_EXPIRATION);
  cr_assert (bytes_equal (ignored, "v1"));
  overridden = get_full (region, "k", 5, 0);
  cr_assert (bytes_equal (overridden, "v1"));
  /* -1 never expires, in get() too (dogpile.cache differs here). */
  never = get_full (region, "k", DOGPILE_EXPIRATION_NONE, 0);
  cr_assert (bytes_equal (never, "v1"));
  /* An override is for one call. */
  assert_get (region, "k", NULL);
}

Test (region, zero_and_negative_expiration)
{
  g_autoptr (DogpileRegion) zero = configured_region ("mock", 0, NULL);
  g_autoptr (GBytes) negative = NULL;

  set (zero, "k", "v");
  assert_get (zero, "k", "v"); /* ct == now: not older than 0 */
  test_clock_value += 0.001;
  assert_get (zero, "k", NULL);
  negative = get_full (zero, "k", -5, 0);
  cr_assert_null (negative);
}

Test (region, no_expiration_never_expires)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("mock", DOGPILE_EXPIRATION_NONE, NULL);

  cr_assert_eq (dogpile_region_get_expiration_time (region),
                DOGPILE_EXPIRATION_NONE);
  set (region, "k", "v");
  test_clock_value += 1e9;
  assert_get (region, "k", "v");
}

Test (region, hard_invalidate_get)
{
  g_autoptr (DogpileRegion) region = configured_region ("mock", 60, NULL);

  set (region, "k", "v");
  test_clock_value += 0.1;
  dogpile_region_invalidate (region, TRUE);
  assert_get (region, "k", NULL);
  test_clock_value += 0.1;
  set (region, "k", "v2");
  assert_get (region, "k", "v2");
}

Test (region, soft_invalidate_get)
{
  g_autoptr (DogpileRegion) region = configured_region ("mock", 1, NULL);

  set (region, "k", "v");
  test_clock_value += 0.1;
  dogpile_region_invalidate (region, FALSE);
  assert_get (region, "k", NULL);
}

Test (region, multiple_values)
{
  g_autoptr (DogpileRegion) region = configured_region ("mock", 60, NULL);
  g_autoptr (GError) error = NULL;
  const char *set_keys[] = { "key1", "key3", "key5" };
  g_autoptr (GBytes) v1 = bytes_of ("value1");
  g_autoptr (GBytes) v3 = bytes_of ("value3");
  g_autoptr (GBytes) v5 = bytes_of ("value5");
  GBytes *set_values[] = { v1, v3, v5 };
  const char *delete_keys[] = { "key1", "key2", "key3", "key4", "key5" };
  const char *get_keys[]
      = { "key1", "key2", "key3", "key4", "key5", "key6", "key1" };
  const char *expected[]
      = { "value1", NULL, "value3", NULL, "value5", NULL, "value1" };
  GBytes *got[7];

  cr_assert (dogpile_region_delete_multi (region, delete_keys, 5, &error));
  cr_assert (
      dogpile_region_set_multi (region, set_keys, set_values, 3, &error));
  cr_assert (dogpile_region_get_multi (region, get_keys, 7, got, &error));
  for (int i = 0; i < 7; i++)
    {
      cr_assert (bytes_equal (got[i], expected[i]), "slot %d", i);
      g_clear_pointer (&got[i], g_bytes_unref);
    }
  /* Empty calls are fine and reach nothing. */
  cr_assert (dogpile_region_get_multi (region, NULL, 0, NULL, &error));
  cr_assert (dogpile_region_set_multi (region, NULL, NULL, 0, &error));
  cr_assert (dogpile_region_delete_multi (region, NULL, 0, &error));
  /* Deleting a mix of present and missing keys. */
  {
    const char *some[] = { "key3", "key10" };

    cr_assert (dogpile_region_delete_multi (region, some, 2, &error));
    assert_get (region, "key1", "value1");
    assert_get (region, "key3", NULL);
  }
}

Test (region, set_multi_uses_one_creation_time)
{
  g_autoptr (DogpileRegion) region = configured_region ("mock", 60, NULL);
  const char *keys[] = { "a", "b" };
  g_autoptr (GBytes) va = bytes_of ("A");
  g_autoptr (GBytes) vb = bytes_of ("B");
  GBytes *values[] = { va, vb };
  g_autoptr (DogpileCachedValue) a = NULL;
  g_autoptr (DogpileCachedValue) b = NULL;

  test_clock_value = 1234.5;
  cr_assert (dogpile_region_set_multi (region, keys, values, 2, NULL));
  cr_assert (dogpile_region_get_value_metadata (
      region, "a", DOGPILE_EXPIRATION_DEFAULT, 0, &a, NULL));
  cr_assert (dogpile_region_get_value_metadata (
      region, "b", DOGPILE_EXPIRATION_DEFAULT, 0, &b, NULL));
  cr_assert_eq (dogpile_cached_value_get_cached_time (a), 1234.5);
  cr_assert_eq (dogpile_cached_value_get_cached_time (b), 1234.5);
}

Test (region, get_multi_filters_expired_values)
{
  g_autoptr (DogpileRegion) region = configured_region ("mock", 1, NULL);
  const char *keys[] = { "old", "new" };
  GBytes *got[2];

  set (region, "old", "o");
  test_clock_value += 2;
  set (region, "new", "n");
  cr_assert (dogpile_region_get_multi (region, keys, 2, got, NULL));
  cr_assert_null (got[0]);
  cr_assert (bytes_equal (got[1], "n"));
  g_bytes_unref (got[1]);
  cr_assert (dogpile_region_get_multi_full (
      region, keys, 2, DOGPILE_EXPIRATION_DEFAULT,
      DOGPILE_GET_IGNORE_EXPIRATION, got, NULL));
  cr_assert (bytes_equal (got[0], "o"));
  g_bytes_unref (got[0]);
  g_bytes_unref (got[1]);
}

Test (region, get_value_metadata)
{
  g_autoptr (DogpileRegion) region = configured_region ("mock", 60, NULL);
  g_autoptr (DogpileCachedValue) value = NULL;
  g_autoptr (DogpileCachedValue) none = NULL;
  g_autoptr (DogpileCachedValue) expired = NULL;
  g_autoptr (DogpileCachedValue) ignored = NULL;

  test_clock_value = 100;
  set (region, "k", "v");
  test_clock_value = 105;
  cr_assert (dogpile_region_get_value_metadata (
      region, "k", DOGPILE_EXPIRATION_DEFAULT, 0, &value, NULL));
  cr_assert (bytes_equal (dogpile_cached_value_get_payload (value), "v"));
  cr_assert_eq (dogpile_cached_value_get_cached_time (value), 100);
  cr_assert_eq (dogpile_cached_value_get_age (value), 5);
  cr_assert_eq (dogpile_cached_value_get_version (value), 2);

  cr_assert (dogpile_region_get_value_metadata (
      region, "nothing", DOGPILE_EXPIRATION_DEFAULT, 0, &none, NULL));
  cr_assert_null (none);
  cr_assert (
      dogpile_region_get_value_metadata (region, "k", 4, 0, &expired, NULL));
  cr_assert_null (expired);
  cr_assert (dogpile_region_get_value_metadata (
      region, "k", 4, DOGPILE_GET_IGNORE_EXPIRATION, &ignored, NULL));
  cr_assert_not_null (ignored);
}

static char *
hi_mangler (const char *key, gpointer user_data)
{
  return g_strconcat ("HI!", key, NULL);
}

Test (region, key_mangler_impl)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (GError) error = NULL;

  dogpile_region_set_key_mangler (region, hi_mangler, NULL, NULL);
  cr_assert (dogpile_region_configure (region, "mock", 60, NULL, 0, &error));
  set (region, "some key", "some value");
  cr_assert (mock_has ("HI!some key"));
  cr_assert_not (mock_has ("some key"));
  assert_get (region, "some key", "some value");
  cr_assert (dogpile_region_delete (region, "some key", &error));
  cr_assert_not (mock_has ("HI!some key"));
}

Test (region, backend_key_mangler_is_inherited_unless_the_region_has_one)
{
  g_autoptr (DogpileRegion) inherits
      = configured_region ("mock.mangling", 60, NULL);
  g_autoptr (DogpileRegion) own = dogpile_region_new (NULL);
  const char *keys[] = { "m1", "m2" };
  g_autoptr (GBytes) v = bytes_of ("v");
  GBytes *values[] = { v, v };
  GBytes *got[2];

  set (inherits, "k", "v");
  cr_assert (mock_has ("BE:k"));
  cr_assert (dogpile_region_set_multi (inherits, keys, values, 2, NULL));
  cr_assert (mock_has ("BE:m2"));
  cr_assert (dogpile_region_get_multi (inherits, keys, 2, got, NULL));
  cr_assert (bytes_equal (got[1], "v"));
  g_bytes_unref (got[0]);
  g_bytes_unref (got[1]);

  dogpile_region_set_key_mangler (own, hi_mangler, NULL, NULL);
  cr_assert (
      dogpile_region_configure (own, "mock.mangling", 60, NULL, 0, NULL));
  set (own, "k", "v");
  cr_assert (mock_has ("HI!k"));
}

static GBytes *
prefix_serialize (GBytes *payload, gpointer user_data, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (payload, &len);
  GString *s = g_string_new ("S:");

  g_string_append_len (s, data, (gssize) len);
  return g_string_free_to_bytes (s);
}

static GBytes *
prefix_deserialize (GBytes *stored, gpointer user_data, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (stored, &len);

  if (len >= 2 && memcmp (data, "S:", 2) == 0)
    return g_bytes_new_from_bytes (stored, 2, len - 2);
  if (len >= 1 && data[0] == '!')
    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND, "boom");
  else
    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE, "no");
  return NULL;
}

Test (region, serializer_hooks)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (DogpileBackend) backend = NULL;
  g_autoptr (GBytes) raw = NULL;
  g_autoptr (GBytes) junk = bytes_of ("{\"ct\": 1000, \"v\": 2}|junk");
  g_autoptr (GBytes) failing = bytes_of ("{\"ct\": 1000, \"v\": 2}|!x");
  g_autoptr (GError) error = NULL;
  GBytes *out = NULL;

  dogpile_region_set_serializer (region, prefix_serialize, prefix_deserialize,
                                 NULL, NULL);
  cr_assert (dogpile_region_configure (region, "dogpile.cache.memory_pickle",
                                       60, NULL, 0, &error));
  set (region, "k", "value");
  backend = dogpile_backend_ref (dogpile_region_get_backend (region, NULL));
  cr_assert (dogpile_backend_get (backend, "k", &raw, &error));
  cr_assert (bytes_equal (raw, "{\"ct\": 1000.0, \"v\": 2}|S:value"));
  assert_get (region, "k", "value");

  /* The deserializer saying CantDeserialize: a miss, as in 1.2+. */
  cr_assert (dogpile_backend_set (backend, "k", junk, &error));
  assert_get (region, "k", NULL);
  /* Any other deserializer error reaches the caller. */
  cr_assert (dogpile_backend_set (backend, "k", failing, &error));
  cr_assert_not (dogpile_region_get (region, "k", &out, &error));
  assert_error (error, DOGPILE_ERROR_BACKEND);
}

Test (region, byte_backends_get_exact_records)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory_pickle", 60, NULL);
  g_autoptr (GBytes) raw = NULL;

  test_clock_value = 1795607767.758692;
  set (region, "k", "payload|with|bars");
  cr_assert (dogpile_backend_get (dogpile_region_get_backend (region, NULL),
                                  "k", &raw, NULL));
  cr_assert (bytes_equal (raw, "{\"ct\": 1795607767.758692, \"v\": 2}|"
                               "payload|with|bars"));
  assert_get (region, "k", "payload|with|bars");
}

Test (region, bad_stored_bytes_are_cant_deserialize)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory_pickle", 60, NULL);
  DogpileBackend *backend = dogpile_region_get_backend (region, NULL);
  g_autoptr (GBytes) garbage = bytes_of ("garbage");
  g_autoptr (GBytes) old = bytes_of ("{\"ct\": 1000, \"v\": 1}|old");
  g_autoptr (GError) error = NULL;
  GBytes *out = NULL;
  const char *keys[] = { "k" };

  cr_assert (dogpile_backend_set (backend, "k", garbage, NULL));
  cr_assert_not (dogpile_region_get (region, "k", &out, &error));
  assert_error (error, DOGPILE_ERROR_CANT_DESERIALIZE);
  cr_assert (strstr (error->message, "'k'") != NULL, "%s", error->message);
  g_clear_error (&error);
  cr_assert_not (dogpile_region_get_multi (region, keys, 1, &out, &error));
  assert_error (error, DOGPILE_ERROR_CANT_DESERIALIZE);
  cr_assert_null (out);

  /* get() does not check "v", as in dogpile.cache. */
  cr_assert (dogpile_backend_set (backend, "k", old, NULL));
  assert_get (region, "k", "old");
}

Test (region, memory_backend_returns_the_stored_object)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  g_autoptr (GBytes) value = bytes_of ("shared");
  g_autoptr (GBytes) got = NULL;

  cr_assert (dogpile_region_set (region, "k", value, NULL));
  got = get (region, "k");
  cr_assert_eq (got, value, "a hit takes a reference, it does not copy");
}

typedef struct {
  DogpileRegion *region;
  gint stop;
  gint failures;
} Churn;

static gpointer
reader (gpointer data)
{
  Churn *c = data;

  while (!g_atomic_int_get (&c->stop))
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) value = NULL;

      if (!dogpile_region_get (c->region, "k", &value, &error))
        g_atomic_int_inc (&c->failures);
    }
  return NULL;
}

/* Reconfiguring while other threads read: they see the old or the new
 * backend, never a freed one (run under ASan and TSan in CI). */
Test (region, replace_backend_while_reading)
{
  Churn c = { configured_region ("dogpile.cache.memory", 60, NULL), 0, 0 };
  GThread *threads[4];

  dogpile_clock_set_func (NULL, NULL);
  for (int i = 0; i < 4; i++)
    threads[i] = g_thread_new ("reader", reader, &c);
  for (int i = 0; i < 200; i++)
    {
      g_autoptr (GError) error = NULL;

      cr_assert (dogpile_region_configure (
          c.region, i % 2 ? "dogpile.cache.memory" : "dogpile.cache.null", 60,
          NULL, DOGPILE_CONFIGURE_REPLACE_EXISTING, &error));
    }
  g_atomic_int_set (&c.stop, 1);
  for (int i = 0; i < 4; i++)
    g_thread_join (threads[i]);
  cr_assert_eq (c.failures, 0);
  dogpile_region_unref (c.region);
}

/* A stored value get_multi cannot read fails the call as it fails get(),
 * naming the key (the caller's, before mangling). */
Test (region, get_multi_names_the_key_it_cannot_read)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  g_autoptr (GBytes) value = bytes_of ("v");
  g_autoptr (GBytes) garbage = bytes_of ("not a record");
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) single_error = NULL;
  g_autoptr (GBytes) single = NULL;
  const char *keys[] = { "a", "bad", "c" };
  GBytes *got[3];

  cr_assert (dogpile_region_set (region, "a", value, NULL));
  cr_assert (dogpile_region_set (region, "c", value, NULL));
  cr_assert (dogpile_backend_set (
      dogpile_region_get_actual_backend (region, NULL), "bad", garbage, NULL));
  cr_assert_not (dogpile_region_get_multi (region, keys, 3, got, &error));
  cr_assert (
      g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE));
  cr_assert (g_str_has_prefix (error->message, "Key 'bad': "), "%s",
             error->message);
  for (int i = 0; i < 3; i++)
    cr_assert_null (got[i]);
  cr_assert_not (dogpile_region_get (region, "bad", &single, &single_error));
  cr_assert_str_eq (error->message, single_error->message);
}
