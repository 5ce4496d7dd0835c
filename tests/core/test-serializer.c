/* test-serializer.c: the named serializers and the GVariant region calls
 * on the memory_pickle backend (payloads stored as bytes): what is
 * stored for each serializer, what each call accepts and refuses, and
 * get_or_create_variant under the lock (one creation, undecodable bytes
 * regenerated).
 *
 * SPDX-License-Identifier: MIT
 */
#include <criterion/criterion.h>
#include <dogpile/dogpile.h>
#include <string.h>

#include "test-util.h"

static DogpileRegion *
region_with (const char *serializer)
{
  DogpileRegion *region = dogpile_region_new ("serializer");
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_set_serializer_name (region, serializer, &error),
             "%s", error ? error->message : "");
  cr_assert (dogpile_region_configure (region, "dogpile.cache.memory_pickle",
                                       60, NULL, DOGPILE_CONFIGURE_NONE,
                                       &error),
             "%s", error ? error->message : "");
  return region;
}

/* The payload behind the record the backend holds. */
static GBytes *
stored_payload (DogpileRegion *region, const char *key)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) record = NULL;
  DogpileBackend *backend = dogpile_region_get_backend (region, &error);
  GBytes *payload = NULL;
  DogpileMetadata metadata;

  cr_assert (dogpile_backend_get (backend, key, &record, &error));
  cr_assert_not_null (record, "nothing stored at %s", key);
  cr_assert (dogpile_record_decode (record, &payload, &metadata, &error), "%s",
             error ? error->message : "");
  return payload;
}

static void
assert_bytes (GBytes *got, const char *want, gsize want_len)
{
  gsize len;
  const char *data = g_bytes_get_data (got, &len);

  cr_assert (len == want_len && memcmp (data, want, len) == 0,
             "got %zu bytes '%.*s'", len, (int) len, data);
}

Test (serializer, names)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new ("r");
  g_autoptr (GError) error = NULL;

  cr_assert_str_eq (dogpile_region_get_serializer_name (region), "raw");
  cr_assert_not (dogpile_region_set_serializer_name (region, "yaml", &error));
  cr_assert (g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION));
  cr_assert_str_eq (error->message,
                    "Unknown serializer 'yaml': use raw, json or pickle");
  cr_assert (dogpile_region_set_serializer_name (region, "pickle", NULL));
  cr_assert_str_eq (dogpile_region_get_serializer_name (region), "pickle");
  cr_assert (dogpile_region_set_serializer_name (region, "json", NULL));
  cr_assert_str_eq (dogpile_region_get_serializer_name (region), "json");
}

/* Python's pickle.dumps(b"a|\x00b", protocol=4) and of the dict
 * {"a": 1}: written by hand from pickletools, checked by test-pickle. */
static const char PICKLED_BYTES[] = "\x80\x04\x95\x08\x00\x00\x00\x00\x00\x00"
                                    "\x00"
                                    "C\x04"
                                    "a|\x00"
                                    "b\x94.";
static const char PICKLED_DICT[] = "\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00"
                                   "\x00}\x94\x8c\x01"
                                   "a\x94K\x01s.";

Test (serializer, pickle_bytes_are_a_python_bytes_object)
{
  g_autoptr (DogpileRegion) region = region_with ("pickle");
  g_autoptr (GBytes) value = g_bytes_new ("a|\0b", 4), got = NULL;
  g_autoptr (GBytes) stored = NULL;
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_set (region, "k", value, &error));
  stored = stored_payload (region, "k");
  assert_bytes (stored, PICKLED_BYTES, sizeof PICKLED_BYTES - 1);
  cr_assert (dogpile_region_get (region, "k", &got, &error));
  cr_assert (g_bytes_equal (got, value));
}

Test (serializer, pickle_values_and_the_byte_calls_refusing_them)
{
  g_autoptr (DogpileRegion) region = region_with ("pickle");
  g_autoptr (GVariant) got = NULL;
  g_autoptr (GBytes) stored = NULL, bytes = NULL;
  g_autoptr (GError) error = NULL;
  DogpileMetadata metadata;
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "a", "x", (gint64) 1);
  cr_assert (dogpile_region_set_variant (region, "d",
                                         g_variant_dict_end (&dict), &error));
  stored = stored_payload (region, "d");
  assert_bytes (stored, PICKLED_DICT, sizeof PICKLED_DICT - 1);
  cr_assert (dogpile_region_get_variant_full (
      region, "d", DOGPILE_EXPIRATION_DEFAULT, DOGPILE_GET_NONE, &got,
      &metadata, &error));
  cr_assert_not_null (got);
  {
    g_autofree char *text = g_variant_print (got, FALSE);

    cr_assert_str_eq (text, "{'a': <int64 1>}");
  }
  cr_assert_eq (metadata.version, 2);
  cr_assert_gt (metadata.cached_time, 1e9);

  /* a dict read through the byte call: an error naming it, not a miss
   * that get_or_create would overwrite */
  cr_assert_not (dogpile_region_get (region, "d", &bytes, &error));
  cr_assert (g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION));
  cr_assert (strstr (error->message, "Key 'd': The stored value is not bytes "
                                     "but {'a': <int64 1>}")
                 != NULL,
             "%s", error->message);
}

Test (serializer, json_checks_what_it_stores)
{
  g_autoptr (DogpileRegion) region = region_with ("json");
  g_autoptr (GBytes) good = g_bytes_new_static ("{\"a\": [1, 2.5]}", 15);
  g_autoptr (GBytes) bad = g_bytes_new_static ("{'a': 1}", 8), got = NULL;
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_set (region, "k", good, &error));
  cr_assert (dogpile_region_get (region, "k", &got, &error));
  cr_assert (g_bytes_equal (got, good));
  cr_assert (dogpile_region_get_variant (region, "k", &value, &error));
  {
    g_autofree char *text = g_variant_print (value, FALSE);

    cr_assert_str_eq (text, "{'a': <[<int64 1>, <2.5>]>}");
  }
  cr_assert_not (dogpile_region_set (region, "k", bad, &error));
  cr_assert (g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION));
  cr_assert_str_eq (error->message,
                    "Key 'k': The payload is not JSON text: Expecting "
                    "property name enclosed in double quotes: line 1 "
                    "column 2 (char 1)");
  g_clear_error (&error);
  /* bytes have no JSON form, as in Python */
  cr_assert_not (dogpile_region_set_variant (
      region, "k", g_variant_new_bytestring ("x"), &error));
  cr_assert (strstr (error->message, "Object of type bytes is not JSON "
                                     "serializable")
             != NULL);
}

Test (serializer, raw_values_are_bytestrings)
{
  g_autoptr (DogpileRegion) region = region_with ("raw");
  g_autoptr (GVariant) got = NULL;
  g_autoptr (GBytes) stored = NULL;
  g_autoptr (GError) error = NULL;

  /* not g_variant_new_bytestring: its ay holds the NUL after the text */
  cr_assert (dogpile_region_set_variant (
      region, "k",
      g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "abc", 3, 1), &error));
  stored = stored_payload (region, "k");
  assert_bytes (stored, "abc", 3);
  cr_assert (dogpile_region_get_variant (region, "k", &got, &error));
  cr_assert_eq (g_variant_get_size (got), 3);
  cr_assert (memcmp (g_variant_get_data (got), "abc", 3) == 0);
  cr_assert_not (dogpile_region_set_variant (region, "k",
                                             g_variant_new_int64 (1), &error));
  cr_assert_str_eq (error->message,
                    "Key 'k': A region with the raw serializer stores bytes "
                    "(GVariant type ay), not 'x': choose the pickle or json "
                    "serializer for other values");
}

static int creations;

static GVariant *
make_list (const char *key, gpointer user_data, GError **error)
{
  GVariant *members[] = { g_variant_new_variant (g_variant_new_string (key)),
                          g_variant_new_variant (g_variant_new_int64 (7)) };

  creations++;
  return g_variant_new_array (G_VARIANT_TYPE_VARIANT, members, 2);
}

Test (serializer, get_or_create_variant_creates_once_and_regenerates_garbage)
{
  g_autoptr (DogpileRegion) region = region_with ("pickle");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) garbage = g_bytes_new_static ("not a pickle", 12);
  DogpileBackend *backend = dogpile_region_get_backend (region, NULL);
  DogpileMetadata metadata;

  creations = 0;
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (GVariant) v = NULL;
      g_autofree char *text = NULL;

      cr_assert (dogpile_region_get_or_create_variant (
                     region, "k", make_list, NULL, DOGPILE_EXPIRATION_DEFAULT,
                     &v, &error),
                 "%s", error ? error->message : "");
      text = g_variant_print (v, FALSE);
      cr_assert_str_eq (text, "[<'k'>, <int64 7>]");
    }
  cr_assert_eq (creations, 1);

  dogpile_metadata_init (&metadata, dogpile_clock_now ());
  cr_assert (
      dogpile_backend_set_value (backend, "k", garbage, &metadata, &error));
  {
    g_autoptr (GVariant) v = NULL;

    cr_assert (dogpile_region_get_variant (region, "k", &v, &error));
    cr_assert_null (v, "garbage read as a value");
    cr_assert (dogpile_region_get_or_create_variant (
        region, "k", make_list, NULL, DOGPILE_EXPIRATION_DEFAULT, &v, &error));
    cr_assert_not_null (v);
  }
  cr_assert_eq (creations, 2);
}

static gboolean full_value_freed;

static void
note_freed (gpointer data)
{
  g_free (data);
  full_value_freed = TRUE;
}

/* A full (not floating) reference, as g_variant_parse() returns: the data
 * is freed only when the last reference to the variant goes. */
static GVariant *
make_full_reference (const char *key, gpointer user_data, GError **error)
{
  gint64 *number = g_new (gint64, 1);
  g_autoptr (GBytes) data = NULL;

  (void) key, (void) user_data, (void) error;
  *number = 42;
  data = g_bytes_new_with_free_func (number, sizeof *number, note_freed,
                                     number);
  return g_variant_ref_sink (
      g_variant_new_from_bytes (G_VARIANT_TYPE_INT64, data, TRUE));
}

Test (serializer, get_or_create_variant_takes_a_full_reference)
{
  g_autoptr (DogpileRegion) region = region_with ("pickle");
  g_autoptr (GError) error = NULL;
  GVariant *v = NULL;

  full_value_freed = FALSE;
  cr_assert (dogpile_region_get_or_create_variant (
                 region, "k", make_full_reference, NULL,
                 DOGPILE_EXPIRATION_DEFAULT, &v, &error),
             "%s", error ? error->message : "");
  cr_assert_eq (g_variant_get_int64 (v), 42);
  cr_assert_not (full_value_freed);
  g_variant_unref (v);
  cr_assert (full_value_freed, "the creator's reference was kept");
}

#define STOCK_PEER TEST_SOURCE_DIR "/../python-stock-peer.py"

/* memory_pickle lives in one process, so the two sides share its byte
 * form only: Python's backend keeps json(metadata)|pickle for a value,
 * and a C region with the pickle serializer keeps the same bytes (but
 * the time) and reads Python's. */
Test (serializer, memory_pickle_keeps_python_s_bytes)
{
  /* not "list": its dicts share their key strs, which Python's pickle
   * writes once and then as memo references (docs/python-interop.md) */
  static const char *const names[]
      = { "stock", "str", "bytes", "int", "tuple", "long" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *hex
          = python_helper (STOCK_PEER, "memory-pickle", names[i], NULL);
      g_autofree char *value_hex
          = python_helper (STOCK_PEER, "pickle", names[i], NULL);
      g_autoptr (GBytes) python = bytes_from_hex (hex),
                         pickle = bytes_from_hex (value_hex);
      g_autoptr (DogpileRegion) region = region_with ("pickle");
      DogpileBackend *backend = dogpile_region_get_backend (region, NULL);
      g_autoptr (GVariant) value = dogpile_pickle_loads (pickle, NULL);
      g_autoptr (GVariant) got = NULL;
      g_autoptr (GBytes) ours = NULL;
      g_autoptr (GError) error = NULL;
      gsize py_len, our_len;
      const char *py, *our, *py_bar, *our_bar;

      cr_assert (dogpile_region_set_variant (region, "c", value, &error));
      cr_assert (dogpile_backend_get (backend, "c", &ours, &error));
      py = g_bytes_get_data (python, &py_len);
      our = g_bytes_get_data (ours, &our_len);
      py_bar = memchr (py, '|', py_len);
      our_bar = memchr (our, '|', our_len);
      cr_assert (py_bar != NULL && our_bar != NULL);
      cr_assert (g_str_has_prefix (our, "{\"ct\": ")
                 && memcmp (our_bar - 9, ", \"v\": 2}", 9) == 0);
      cr_assert (
          py_len - (gsize) (py_bar - py) == our_len - (gsize) (our_bar - our)
              && memcmp (py_bar, our_bar, py_len - (gsize) (py_bar - py)) == 0,
          "%s: the pickles differ", names[i]);

      cr_assert (dogpile_backend_set (backend, "py", python, &error));
      cr_assert (dogpile_region_get_variant (region, "py", &got, &error));
      cr_assert_not_null (got, "%s: Python's bytes read as a miss", names[i]);
      {
        g_autoptr (GBytes) again = dogpile_pickle_dumps (got, &error);

        cr_assert (g_bytes_equal (again, pickle), "%s", names[i]);
      }
    }
}
