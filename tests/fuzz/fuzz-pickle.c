/* fuzz-pickle.c: the pickle decoder (dogpile_pickle_loads) and the
 * CachedValue reader, on any bytes.
 *
 * Invariants besides not crashing:
 *  - whatever loads dumps, and what it dumps loads as the same value and
 *    dumps to the same bytes again (protocol 4 is canonical); protocol 0
 *    (python-memcached's) loads as the same value too;
 *  - a loaded value also goes through tagged JSON and back unchanged (the
 *    JSON dogpile-cache prints for a pickled value holds every one);
 *  - a CachedValue read dumps as a CachedValue that reads back with the
 *    same payload and metadata;
 *  - the one-pass loader (dogpile-pickle-direct.c), when it takes the
 *    bytes, makes the same GVariant as the general loader, in normal form;
 *  - every error has a UTF-8 message.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz-common.h"

#include "dogpile-python-tree.h"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY(name) LLVMFuzzerTestOneInput
#endif

static void
pickle_check_round_trip (GVariant *value)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) dumped = dogpile_pickle_dumps (value, &error);
  g_autoptr (GBytes) again = NULL;
  g_autoptr (GVariant) back = NULL;
  g_autofree char *json = NULL;
  g_autoptr (GVariant) from_json = NULL;
  gsize json_len;

  fuzz_assert (dumped != NULL, "a loaded value does not dump: %s",
               error->message);
  back = dogpile_pickle_loads (dumped, &error);
  fuzz_assert (back != NULL, "a dumped value does not load: %s",
               error->message);
  fuzz_assert (g_variant_equal (back, value), "a dumped value loads as "
                                              "another");
  again = dogpile_pickle_dumps (back, &error);
  fuzz_assert (again != NULL && g_bytes_equal (again, dumped),
               "dumps (loads (dumps (v))) is not dumps (v)");
  {
    g_autoptr (GBytes) text = dogpile_pickle_dumps_protocol0 (value, &error);
    g_autoptr (GVariant) from_text = NULL;

    fuzz_assert (text != NULL,
                 "a loaded value does not dump as protocol "
                 "0: %s",
                 error->message);
    from_text = dogpile_pickle_loads (text, &error);
    fuzz_assert (from_text != NULL
                     && fuzz_variant_equal_nan (from_text, value),
                 "a value through protocol 0 comes back another: %s",
                 error != NULL ? error->message : "");
  }

  json = dogpile_json_dumps (value, DOGPILE_JSON_TAGGED, &json_len, &error);
  fuzz_assert (json != NULL, "a loaded value has no tagged JSON: %s",
               error->message);
  from_json = dogpile_json_loads (json, json_len, DOGPILE_JSON_TAGGED, &error);
  fuzz_assert (from_json != NULL, "tagged JSON written does not read: %s: %s",
               error->message, json);
  fuzz_assert (fuzz_variant_equal_nan (from_json, value),
               "a value through tagged JSON comes back another: %s", json);
}

static void
pickle_check_cached_value (const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) payload = NULL;
  g_autoptr (GVariant) payload2 = NULL;
  g_autoptr (GBytes) again = NULL;
  DogpileMetadata metadata, metadata2;
  gsize len;
  const guint8 *d;

  if (!dogpile_pickle_loads_cached_value (data, size, &payload, &metadata,
                                          &error))
    {
      fuzz_check_error (error, "dogpile_pickle_loads_cached_value");
      return;
    }
  again = dogpile_pickle_dumps_cached_value (payload, &metadata, &error);
  fuzz_assert (again != NULL, "a CachedValue read does not dump: %s",
               error->message);
  d = g_bytes_get_data (again, &len);
  fuzz_assert (dogpile_pickle_loads_cached_value (d, len, &payload2,
                                                  &metadata2, &error),
               "a CachedValue dumped does not read: %s", error->message);
  fuzz_assert (g_variant_equal (payload, payload2),
               "a CachedValue's payload changes on the way back");
  fuzz_assert (
      memcmp (&metadata.cached_time, &metadata2.cached_time, sizeof (double))
              == 0
          && metadata.version == metadata2.version,
      "a CachedValue's metadata changes on the way back: %.17g v%d "
      "then %.17g v%d",
      metadata.cached_time, metadata.version, metadata2.cached_time,
      metadata2.version);
}

static void
pickle_check_direct (const guint8 *data, size_t size)
{
  g_autoptr (GVariant) fast = NULL;
  g_autoptr (GVariant) general = NULL;
  g_autoptr (GVariant) untrusted = NULL;
  g_autoptr (GError) error = NULL;

  if (!py_pickle_load_direct (data, size, 64 * 1024 * 1024, &fast))
    return;
  general = py_pickle_load_general (data, size, 64 * 1024 * 1024, &error);
  fuzz_assert (general != NULL,
               "the direct loader took what the general "
               "one refuses: %s",
               error != NULL ? error->message : "");
  fuzz_assert (g_variant_equal (fast, general)
                   && g_variant_get_size (fast) == g_variant_get_size (general)
                   && memcmp (g_variant_get_data (fast),
                              g_variant_get_data (general),
                              g_variant_get_size (fast))
                          == 0,
               "the direct and general loaders disagree");
  untrusted = g_variant_ref_sink (g_variant_new_from_data (
      g_variant_get_type (fast), g_variant_get_data (fast),
      g_variant_get_size (fast), FALSE, NULL, NULL));
  fuzz_assert (g_variant_is_normal_form (untrusted),
               "the direct loader's value is not in normal form");
}

int
FUZZ_ENTRY (pickle) (const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) value = NULL;

  fuzz_setup_logging ();
  pickle_check_direct (data, size);
  value = dogpile_pickle_loads_data (data, size, &error);
  if (value != NULL)
    pickle_check_round_trip (value);
  else
    fuzz_check_error (error, "dogpile_pickle_loads");
  pickle_check_cached_value (data, size);
  return 0;
}
