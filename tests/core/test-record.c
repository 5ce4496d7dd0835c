/* test-record.c: the stored bytes, exactly as dogpile.cache writes and
 * reads them (spec 4.1 and 4.4).
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>

#include "test-util.h"

static GBytes *
encode (double ct, const char *payload)
{
  g_autoptr (GBytes) p = bytes_of (payload);
  DogpileMetadata metadata;

  dogpile_metadata_init (&metadata, ct);
  return dogpile_record_encode (p, &metadata);
}

TestSuite (record);

Test (record, exact_bytes_for_a_known_ct)
{
  g_autoptr (GBytes) record = encode (1795607767.758692, "\x80\x04K*.");

  cr_assert (bytes_equal (
      record, "{\"ct\": 1795607767.758692, \"v\": 2}|\x80\x04K*."));
}

/* Python's repr(float) for each value (generated with CPython 3.11). */
static const struct {
  double value;
  const char *repr;
} repr_vectors[] = {
  { 0x1.ac1b335f08e69p+30, "1795607767.758692" },
  { 0x1.ac1b335f049f0p+30, "1795607767.7545128" },
  { 0x1.ac1b335c00000p+30, "1795607767.0" },
  { 0x1.999999999999ap-4, "0.1" },
  { 0x1.1c37937e08000p+53, "1e+16" },
  { 0x1.18b54f22aeb00p+50, "1234567890123456.0" },
  { 0x1.4f8b588e368f1p-17, "1e-05" },
  { 0x1.a36e2eb1c432dp-14, "0.0001" },
  { 0x1.421f5f40d8376p-23, "1.5e-07" },
  { 0x1.edd2f1a9fbe77p+6, "123.456" },
  { 0x1.4000000000000p+1, "2.5" },
  { 0x1.0f0cf064dd592p+73, "1e+22" },
  { 0x0.0000000000001p-1022, "5e-324" },
  { 0x1.fffffffffffffp+1023, "1.7976931348623157e+308" },
  { -0x1.593f248725119p-32, "-3.14e-10" },
  { 0x1.9000000000000p+6, "100.0" },
  { 0x1.ac1b335f00000p+30, "1795607767.75" },
  { 0x1.9d0848b1eeea7p+30, "1732383276.4833162" },
  { 0x1.98e879d591de7p+30, "1715084917.39245" },
  { 0x1.a4d4c11d3747fp+30, "1765093447.3039854" },
  { 0x1.9709e1b2aac1ap+30, "1707243628.6667542" },
  { 0x1.a21687a1b9014p+30, "1753588200.4306688" },
  { 0x1.9e07c0eec3d95p+30, "1736568891.6912587" },
  { 0x1.96b1c351e8ee1p+30, "1705799892.4774706" },
  { 0x1.a168e8554698cp+30, "1750743573.318942" },
  { 0x1.051ad099950d8p-847, "1.086847153644306e-255" },
  { 0x1.6aa4d6f03675ap-167, "7.572358053192185e-51" },
  { 0x1.e0b9211e20b8fp-531, "2.6713290337373985e-160" },
  { 0x1.8b7671738f7d9p+105, "6.266356115726005e+31" },
  { 0x1.0eedb6cad4a26p-902, "3.13010388235547e-272" },
  { 0x1.0c967d3ac94afp+135, "4.569785438180719e+40" },
  /* N / 10^d with d <= 6, the shortcut's domain, and its edges. */
  { 0x1.ac1b335c66666p+30, "1795607767.1" },
  { 0x1.ac1b335c7ae14p+30, "1795607767.12" },
  { 0x1.ac1b335c00004p+30, "1795607767.000001" },
  { 0x1.ac1b335c6666bp+30, "1795607767.100001" },
  { 0x1.0c6f7a0b5ed8dp+33, "9007199254.740992" },
  { 0x1.0c6f7a0b5ed8ep+33, "9007199254.740993" },
  { -0x1.ac1b335f08e69p+30, "-1795607767.758692" },
  { 0x1.0c6f7a0b5ed8dp-20, "1e-06" },
  { 0x1.01f31f46ed246p-13, "0.000123" },
  { 0x1.0000000000000p-1, "0.5" },
  { 0x1.2d6870000218ep+20, "1234567.000002" },
  { 0x1.9999999999999p+49, "900719925474099.1" },
  { 0x1.47ae147ae147bp+46, "90071992547409.92" },
  { 0x1.fffffffffffffp+51, "4503599627370495.5" },
  { 0x1.3333333333334p-2, "0.30000000000000004" },
  { 0x1.ac1b335fffffep+30, "1795607767.9999995" },
  { 0x1.c6bf526340002p+49, "1000000000000000.2" },
  { 0x1.869fffffef391p+16, "99999.999999" },
  { 0x1.000010c6f7a0bp+0, "1.000001" },
  { 0x1.0000000000001p+52, "4503599627370497.0" },
  /* Powers of two, where the nearest decimal may not read back and the
   * next one up does. */
  { 0x1.0000000000000p-24, "5.960464477539063e-08" },
  { 0x1.0000000000000p-652, "5.351097043477547e-197" },
  { 0x1.0000000000000p+710, "5.386379163185535e+213" },
  { 0x1.0000000000000p+976, "6.386688990511104e+293" },
  { 0x1.0000000000000p-97, "6.310887241768095e-30" },
  { 0x1.0000000000000p-1022, "2.2250738585072014e-308" },
  { 0x1.0000000000000p+1023, "8.98846567431158e+307" },
};

Test (record, ct_is_printed_as_python_repr)
{
  for (gsize i = 0; i < G_N_ELEMENTS (repr_vectors); i++)
    {
      g_autoptr (GBytes) record = encode (repr_vectors[i].value, "");
      g_autofree char *expected
          = g_strdup_printf ("{\"ct\": %s, \"v\": 2}|", repr_vectors[i].repr);

      cr_assert (bytes_equal (record, expected), "%s", expected);
    }
}

static void
decode_ok (const char *raw, gsize len, double ct, gint version,
           const char *payload, gsize payload_len)
{
  g_autoptr (GBytes) record = g_bytes_new (raw, len);
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GError) error = NULL;
  DogpileMetadata metadata;
  gsize got_len;
  const char *got;

  cr_assert (dogpile_record_decode (record, &out, &metadata, &error), "%s: %s",
             raw, error ? error->message : "");
  cr_assert_eq (metadata.cached_time, ct);
  cr_assert_eq (metadata.version, version);
  got = g_bytes_get_data (out, &got_len);
  cr_assert_eq (got_len, payload_len);
  cr_assert (payload_len == 0 || memcmp (got, payload, payload_len) == 0);
}

static void
decode_bad (const char *raw, gsize len, const char *problem)
{
  g_autoptr (GBytes) record = g_bytes_new (raw, len);
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GError) error = NULL;
  DogpileMetadata metadata;

  cr_assert_not (dogpile_record_decode (record, &out, &metadata, &error),
                 "accepted %s", raw);
  assert_error (error, DOGPILE_ERROR_CANT_DESERIALIZE);
  cr_assert_null (out);
  cr_assert (strstr (error->message, problem) != NULL, "%s", error->message);
}

#define OK(raw, ct, v, payload)                                               \
  decode_ok (raw, sizeof raw - 1, ct, v, payload, sizeof payload - 1)
#define BAD(raw, problem) decode_bad (raw, sizeof raw - 1, problem)

Test (record, splits_on_the_first_bar)
{
  /* Python's dbm listing: a pickled b"\x00\x01||" payload. */
  OK ("{\"ct\": 1795607767.757555, \"v\": 2}|\x80\x04\x95\x08\x00\x00\x00\x00"
      "\x00\x00\x00C\x04\x00\x01||\x94.",
      1795607767.757555, 2,
      "\x80\x04\x95\x08\x00\x00\x00\x00\x00\x00\x00C\x04\x00\x01||\x94.");
  OK ("{\"ct\": 5, \"v\": 2}|a|b|", 5, 2, "a|b|");
}

Test (record, accepts_what_a_compatible_writer_may_write)
{
  OK ("{\"ct\": 1795607767, \"v\": 2}|x", 1795607767, 2, "x");
  OK ("{\"v\":2,\"ct\":1795607767.5}|x", 1795607767.5, 2, "x");
  OK (" {\n\"ct\" : 1.5e9 , \"v\" : 2.0 } |x", 1.5e9, 2, "x");
  OK ("{\"ct\": 7, \"v\": 2, \"extra\": [1, {\"a\": null}, \"s\\\"\"]}|p", 7,
      2, "p");
  OK ("{\"\\u0063t\": 9, \"v\": 2}|p", 9, 2, "p");
  OK ("{\"ct\": 1, \"ct\": 2, \"v\": 2}|p", 2, 2, "p");
  OK ("{\"ct\": 3, \"v\": 2}|", 3, 2, "");
}

Test (record, old_or_missing_versions_decode_with_their_version)
{
  /* get() returns these; get_or_create treats them as misses. */
  OK ("{\"ct\": 3, \"v\": 1}|p", 3, 1, "p");
  OK ("{\"ct\": 3}|p", 3, 0, "p");
  OK ("{\"ct\": 3, \"v\": \"2\"}|p", 3, 0, "p");
  OK ("{\"ct\": 3, \"v\": 2.5}|p", 3, 0, "p");
}

Test (record, malformed_records_of_spec_4_4)
{
  BAD ("garbage", "no '|'");
  BAD ("", "no '|'");
  /* pre-1.1 values: a pickled CachedValue, protocols 4 and 0 */
  BAD ("\x80\x04\x95I\x00\x00\x00\x00\x00\x00\x00\x8c\x11"
       "dogpile.cache.api"
       "\x94\x8c\x0b"
       "CachedValue\x94\x93\x94.",
       "no '|'");
  BAD ("\x80\x04\x95\x10\x00\x00|\x00", "not UTF-8");
  BAD ("ccopy_reg\n_reconstructor\np0\n(cdogpile.cache.api\nCachedValue\n"
       "p1\n.",
       "no '|'");
  BAD ("ccopy_reg\n_reconstructor|", "not valid JSON");
  BAD ("{\"v\": 2}|p", "no numeric \"ct\"");
  BAD ("[1,2]|p", "not a JSON object");
  BAD ("{\"ct\": \"now\", \"v\": 2}|p", "no numeric \"ct\"");
  BAD ("{\"ct\": true, \"v\": 2}|p", "no numeric \"ct\"");
  BAD ("{\"ct\": NaN, \"v\": 2}|p", "not a finite number");
  BAD ("{\"ct\": 1, \"v\": 2|p", "expected");
  BAD ("{\"ct\": 1, \"v\": 2} x|p", "extra data");
  BAD ("{\"ct\": 01, \"v\": 2}|p", "expected");
  BAD ("{\"ct\": 1, \"v\": 2,}|p", "expected a string");
  BAD ("{\"ct\": 1, \"v\": \"\\x\"}|p", "bad escape");
  BAD ("{\"ct\": 1, \"v\": \"a\nb\"}|p", "control character");
  /* The first '|' splits even inside a JSON string, as in Python. */
  BAD ("{\"ct\": 7, \"v\": 2, \"s\": \"a|b\"}|p", "unterminated string");
}

Test (record, deep_nesting_is_refused_not_a_crash)
{
  GString *s = g_string_new ("{\"ct\": 1, \"x\": ");
  g_autoptr (GBytes) record = NULL;
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GError) error = NULL;
  DogpileMetadata metadata;

  for (int i = 0; i < 100000; i++)
    g_string_append_c (s, '[');
  g_string_append (s, "|p");
  record = g_string_free_to_bytes (s);
  cr_assert_not (dogpile_record_decode (record, &out, &metadata, &error));
  assert_error (error, DOGPILE_ERROR_CANT_DESERIALIZE);
}

Test (record, round_trip_keeps_ct_exactly)
{
  for (gsize i = 0; i < G_N_ELEMENTS (repr_vectors); i++)
    {
      g_autoptr (GBytes) record = encode (repr_vectors[i].value, "payload");
      g_autoptr (GBytes) out = NULL;
      g_autoptr (GError) error = NULL;
      DogpileMetadata metadata;

      cr_assert (dogpile_record_decode (record, &out, &metadata, &error));
      cr_assert_eq (metadata.cached_time, repr_vectors[i].value);
      cr_assert (bytes_equal (out, "payload"));
    }
}

Test (record, payload_shares_the_record_memory)
{
  g_autoptr (GBytes) record = encode (1.0, "0123456789");
  g_autoptr (GBytes) out = NULL;
  DogpileMetadata metadata;
  gsize len;
  const char *base = g_bytes_get_data (record, &len);

  cr_assert (dogpile_record_decode (record, &out, &metadata, NULL));
  cr_assert_eq ((const char *) g_bytes_get_data (out, NULL), base + len - 10);
}

Test (record, cached_value_accessors)
{
  g_autoptr (GBytes) payload = bytes_of ("p");
  g_autoptr (DogpileCachedValue) value = NULL;
  DogpileMetadata metadata;

  use_test_clock (105);
  dogpile_metadata_init (&metadata, 100);
  value = dogpile_cached_value_new (payload, &metadata);
  cr_assert_eq (dogpile_cached_value_get_cached_time (value), 100);
  cr_assert_eq (dogpile_cached_value_get_version (value), 2);
  cr_assert_eq (dogpile_cached_value_get_age (value), 5);
  cr_assert_eq (dogpile_cached_value_get_payload (value), payload);
  cr_assert_eq (dogpile_cached_value_get_metadata (value)->cached_time, 100);
}

/* A record whose "ct" is not finite is refused when read, so it is
 * refused when written: nothing is stored that would read as garbage. */
Test (record, non_finite_creation_time_is_not_stored)
{
  const double times[] = { NAN, INFINITY, -INFINITY };
  const char *shown[] = { "NaN", "Infinity", "-Infinity" };
  g_autoptr (DogpileBackend) backend
      = dogpile_backend_new ("dogpile.cache.memory", NULL, NULL);
  g_autoptr (GBytes) payload = g_bytes_new_static ("v", 1);

  cr_assert_not_null (backend);
  for (gsize i = 0; i < G_N_ELEMENTS (times); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GError) multi_error = NULL;
      g_autoptr (GBytes) got = NULL;
      g_autofree char *expected = g_strdup_printf (
          "Key 'k': the metadata's creation time must be a finite number of "
          "seconds, not %s",
          shown[i]);
      const char *keys[] = { "j", "k" };
      GBytes *payloads[] = { payload, payload };
      DogpileMetadata metadata[2];

      dogpile_metadata_init (&metadata[0], 1.0);
      dogpile_metadata_init (&metadata[1], times[i]);
      cr_assert_not (dogpile_backend_set_value (backend, "k", payload,
                                                &metadata[1], &error));
      cr_assert (
          g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION));
      cr_assert_str_eq (error->message, expected);
      /* a multi call stores none of its keys */
      cr_assert_not (dogpile_backend_set_value_multi (
          backend, keys, payloads, metadata, 2, &multi_error));
      cr_assert_str_eq (multi_error->message, expected);
      cr_assert (dogpile_backend_get (backend, "j", &got, NULL));
      cr_assert_null (got);
      cr_assert (dogpile_backend_get (backend, "k", &got, NULL));
      cr_assert_null (got);
    }
}
