/* test-backend-suite.c: dogpile.cache's _GenericBackendTestSuite (spec 5.1
 * items 1-4, 6-9, 12-16, 20, 24) and _GenericSerializerTestSuite (25-27),
 * written once and built once per backend (SUITE_BACKEND).  The null
 * backend runs the same steps with its own expectations (spec 5.9):
 * everything is accepted and nothing is kept.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-util.h"

#define IS_NULL (strcmp (SUITE_BACKEND, "dogpile.cache.null") == 0)

/* What a stored value reads back as on this backend. */
static const char *
kept (const char *value)
{
  return IS_NULL ? NULL : value;
}

static char *
some_key (void)
{
  return g_strdup_printf ("some_key_%d", g_random_int_range (1, 100000));
}

static DogpileBackend *
backend_new (void)
{
  g_autoptr (GError) error = NULL;
  DogpileBackend *backend = dogpile_backend_new (SUITE_BACKEND, NULL, &error);

  assert_no_error (error);
  cr_assert_not_null (backend);
  return backend;
}

static DogpileRegion *
region_new (void)
{
  return configured_region (SUITE_BACKEND, 60, NULL);
}

static void
set (DogpileRegion *region, const char *key, const char *value)
{
  g_autoptr (GBytes) bytes = bytes_of (value);
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_set (region, key, bytes, &error));
  assert_no_error (error);
}

static void
assert_value (DogpileRegion *region, const char *key, const char *expected)
{
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_get (region, key, &got, &error));
  assert_no_error (error);
  cr_assert (bytes_equal (got, expected), "get(%s) on %s", key,
             SUITE_BACKEND);
}

static void
assert_multi (DogpileRegion *region, const char *const *keys, gsize n,
              const char *const *expected)
{
  g_autofree GBytes **got = g_new0 (GBytes *, MAX (n, 1));
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_get_multi (region, keys, n, got, &error));
  assert_no_error (error);
  for (gsize i = 0; i < n; i++)
    {
      cr_assert (bytes_equal (got[i], expected[i]), "slot %zu", i);
      g_clear_pointer (&got[i], g_bytes_unref);
    }
}

TestSuite (generic);

Test (generic, backend_get_nothing)
{
  g_autoptr (DogpileBackend) backend = backend_new ();
  g_autofree char *key = some_key ();
  g_autoptr (GBytes) got = NULL;

  cr_assert (dogpile_backend_get (backend, key, &got, NULL));
  cr_assert_null (got);
}

Test (generic, backend_delete_nothing)
{
  g_autoptr (DogpileBackend) backend = backend_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_backend_delete (backend, "some_key", &error));
  assert_no_error (error);
}

Test (generic, backend_set_get_value)
{
  g_autoptr (DogpileBackend) backend = backend_new ();
  g_autoptr (GBytes) value = bytes_of ("some value");
  g_autoptr (GBytes) got = NULL;
  g_autofree char *key = some_key ();

  cr_assert (dogpile_backend_set (backend, key, value, NULL));
  cr_assert (dogpile_backend_get (backend, key, &got, NULL));
  cr_assert (bytes_equal (got, kept ("some value")));
}

Test (generic, backend_delete)
{
  g_autoptr (DogpileBackend) backend = backend_new ();
  g_autoptr (GBytes) value = bytes_of ("some value");
  g_autoptr (GBytes) got = NULL;
  g_autofree char *key = some_key ();

  cr_assert (dogpile_backend_set (backend, key, value, NULL));
  cr_assert (dogpile_backend_delete (backend, key, NULL));
  cr_assert (dogpile_backend_get (backend, key, &got, NULL));
  cr_assert_null (got);
}

Test (generic, region_set_get_value)
{
  g_autoptr (DogpileRegion) region = region_new ();
  g_autofree char *key = some_key ();

  set (region, key, "some value");
  assert_value (region, key, kept ("some value"));
}

Test (generic, region_set_multiple_values)
{
  g_autoptr (DogpileRegion) region = region_new ();
  const char *keys[] = { "key1", "key2", "key3" };
  g_autoptr (GBytes) v1 = bytes_of ("value1");
  g_autoptr (GBytes) v2 = bytes_of ("value2");
  g_autoptr (GBytes) v3 = bytes_of ("value3");
  GBytes *values[] = { v1, v2, v3 };

  cr_assert (dogpile_region_set_multi (region, keys, values, 3, NULL));
  assert_value (region, "key1", kept ("value1"));
  assert_value (region, "key2", kept ("value2"));
  assert_value (region, "key3", kept ("value3"));
}

Test (generic, region_get_zero_multiple_values)
{
  g_autoptr (DogpileRegion) region = region_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_get_multi (region, NULL, 0, NULL, &error));
  assert_no_error (error);
}

Test (generic, region_set_zero_multiple_values)
{
  g_autoptr (DogpileRegion) region = region_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_set_multi (region, NULL, NULL, 0, &error));
  assert_no_error (error);
}

Test (generic, region_get_multiple_values)
{
  g_autoptr (DogpileRegion) region = region_new ();
  const char *keys[] = { "key1", "key2", "key3" };
  const char *expected[] = { kept ("value1"), kept ("value2"),
                             kept ("value3") };

  set (region, "key1", "value1");
  set (region, "key2", "value2");
  set (region, "key3", "value3");
  assert_multi (region, keys, 3, expected);
}

Test (generic, region_get_nothing_multiple)
{
  g_autoptr (DogpileRegion) region = region_new ();
  const char *deleted[] = { "key1", "key2", "key3", "key4", "key5" };
  const char *set_keys[] = { "key1", "key3", "key5" };
  g_autoptr (GBytes) v1 = bytes_of ("value1");
  g_autoptr (GBytes) v3 = bytes_of ("value3");
  g_autoptr (GBytes) v5 = bytes_of ("value5");
  GBytes *values[] = { v1, v3, v5 };
  const char *keys[] = { "key1", "key2", "key3", "key4", "key5", "key6" };
  const char *expected[] = { kept ("value1"), NULL, kept ("value3"), NULL,
                             kept ("value5"), NULL };

  cr_assert (dogpile_region_delete_multi (region, deleted, 5, NULL));
  cr_assert (dogpile_region_set_multi (region, set_keys, values, 3, NULL));
  assert_multi (region, keys, 6, expected);
}

Test (generic, region_get_empty_multiple)
{
  g_autoptr (DogpileRegion) region = region_new ();

  assert_multi (region, NULL, 0, NULL);
}

Test (generic, region_delete_multiple)
{
  g_autoptr (DogpileRegion) region = region_new ();
  const char *keys[] = { "key1", "key2", "key3" };
  g_autoptr (GBytes) v1 = bytes_of ("value1");
  g_autoptr (GBytes) v2 = bytes_of ("value2");
  g_autoptr (GBytes) v3 = bytes_of ("value3");
  GBytes *values[] = { v1, v2, v3 };
  const char *doomed[] = { "key2", "key10" };

  cr_assert (dogpile_region_set_multi (region, keys, values, 3, NULL));
  cr_assert (dogpile_region_delete_multi (region, doomed, 2, NULL));
  assert_value (region, "key1", kept ("value1"));
  assert_value (region, "key2", NULL);
  assert_value (region, "key3", kept ("value3"));
  assert_value (region, "key10", NULL);
}

Test (generic, region_set_get_nothing)
{
  g_autoptr (DogpileRegion) region = region_new ();
  g_autofree char *key = some_key ();
  const char *keys[] = { key };

  cr_assert (dogpile_region_delete_multi (region, keys, 1, NULL));
  assert_value (region, key, NULL);
}

Test (generic, region_delete)
{
  g_autoptr (DogpileRegion) region = region_new ();
  g_autofree char *key = some_key ();

  set (region, key, "some value");
  cr_assert (dogpile_region_delete (region, key, NULL));
  cr_assert (dogpile_region_delete (region, key, NULL));
  assert_value (region, key, NULL);
}

static void
add_entry (gpointer key, gpointer value, gpointer user_data)
{
  g_hash_table_insert (user_data, g_strdup (key), g_strdup (value));
}

Test (generic, argument_dictionary_unmodified)
{
  /* memory's own argument, plus two that nobody knows */
  g_autoptr (GHashTable) arguments = arguments_of (
      "cache_dict", "somevalue", "arg1", "foo", "arg2", "bar", NULL);
  g_autoptr (GHashTable) copy = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                       g_free, g_free);
  g_autoptr (DogpileRegion) region = NULL;
  GHashTableIter iter;
  gpointer k, v;

  g_hash_table_foreach (arguments, add_entry, copy);
  region = configured_region (SUITE_BACKEND, 60, arguments);
  cr_assert_eq (g_hash_table_size (arguments), g_hash_table_size (copy));
  g_hash_table_iter_init (&iter, copy);
  while (g_hash_table_iter_next (&iter, &k, &v))
    cr_assert_str_eq (g_hash_table_lookup (arguments, k), v);
}

/* _GenericSerializerTestSuite: the payload codec applies on every path. */
static GBytes *
upper_serialize (GBytes *payload, gpointer user_data, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (payload, &len);
  char *upper = g_ascii_strup (data, (gssize) len);

  return g_bytes_new_take (upper, len);
}

static GBytes *
lower_deserialize (GBytes *stored, gpointer user_data, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (stored, &len);

  if (len > 0 && data[0] == '#')
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE,
                   "marked undecodable");
      return NULL;
    }
  return g_bytes_new_take (g_ascii_strdown (data, (gssize) len), len);
}

static DogpileRegion *
serializer_region (void)
{
  DogpileRegion *region = dogpile_region_new (NULL);

  dogpile_region_set_serializer (region, upper_serialize, lower_deserialize,
                                 NULL, NULL);
  cr_assert (dogpile_region_configure (region, SUITE_BACKEND, 60, NULL, 0,
                                       NULL));
  return region;
}

Test (generic, serializer_cant_deserialize)
{
  g_autoptr (DogpileRegion) region = serializer_region ();

  set (region, "k", "#value");
  assert_value (region, "k", NULL);
}

Test (generic, uses_serializer)
{
  g_autoptr (DogpileRegion) region = serializer_region ();
  g_autoptr (GBytes) raw = NULL;
  g_autoptr (GBytes) payload = NULL;
  DogpileMetadata metadata;
  const char *bar;

  set (region, "k", "value");
  cr_assert (dogpile_backend_get (dogpile_region_get_backend (region, NULL),
                                  "k", &raw, NULL));
  if (IS_NULL)
    {
      cr_assert_null (raw);
      return;
    }
  bar = memchr (g_bytes_get_data (raw, NULL), '|', g_bytes_get_size (raw));
  cr_assert_not_null (bar);
  cr_assert_eq (memcmp (bar + 1, "VALUE", 5), 0);
  cr_assert (dogpile_record_decode (raw, &payload, &metadata, NULL));
  cr_assert (bytes_equal (payload, "VALUE"));
}

Test (generic, uses_deserializer)
{
  g_autoptr (DogpileRegion) region = serializer_region ();

  set (region, "k", "value");
  assert_value (region, "k", kept ("value"));
}
