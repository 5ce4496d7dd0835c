/* test-record-decode.c: the records byte-storing plugins keep are read back
 * exactly.  dogpile_record_decode reads the canonical header
 * {"ct": <number>, "v": 2} -- what Python and C write -- on a fast path
 * of its own; it must agree, bit for bit, with strtod and with the general
 * JSON parser (fed the same members in another order) on every number.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test-util.h"

static double
decode_ct (const char *header)
{
  g_autofree char *text = g_strdup_printf ("%s|payload", header);
  g_autoptr (GBytes) record = bytes_of (text);
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GError) error = NULL;
  DogpileMetadata metadata;

  cr_assert (dogpile_record_decode (record, &payload, &metadata, &error),
             "%s: %s", header, error != NULL ? error->message : "");
  cr_assert_eq (metadata.version, 2, "%s", header);
  cr_assert (bytes_equal (payload, "payload"));
  return metadata.cached_time;
}

/* The canonical and the reordered header give strtod's value. */
static void
check_number (const char *number)
{
  g_autofree char *canonical
      = g_strdup_printf ("{\"ct\": %s, \"v\": 2}", number);
  g_autofree char *reordered
      = g_strdup_printf ("{\"v\": 2, \"ct\": %s}", number);
  double expected = g_ascii_strtod (number, NULL);
  double fast = decode_ct (canonical);
  double general = decode_ct (reordered);

  cr_assert (memcmp (&fast, &expected, sizeof fast) == 0,
             "%s: %.17g, strtod %.17g", number, fast, expected);
  cr_assert (memcmp (&general, &expected, sizeof general) == 0,
             "%s: general parser %.17g", number, general);
}

TestSuite (redis_record);

Test (redis_record, written_times_read_back_exactly)
{
  GRand *rand = g_rand_new_with_seed (20261125);

  for (int i = 0; i < 200000; i++)
    {
      /* times as time.time() gives them, and some other magnitudes */
      double ct = i % 4 == 0   ? g_rand_double_range (rand, 0, 1)
                  : i % 4 == 1 ? g_rand_double_range (rand, 1e9, 4e9)
                  : i % 4 == 2 ? g_rand_double_range (rand, 1, 1e6)
                               : g_rand_double_range (rand, 1e15, 1e17);
      g_autoptr (GBytes) payload = bytes_of ("p");
      g_autoptr (GBytes) record = NULL;
      g_autoptr (GBytes) back = NULL;
      DogpileMetadata written, read;

      dogpile_metadata_init (&written, ct);
      record = dogpile_record_encode (payload, &written);
      cr_assert (dogpile_record_decode (record, &back, &read, NULL));
      cr_assert (memcmp (&read.cached_time, &ct, sizeof ct) == 0,
                 "%.17g came back as %.17g", ct, read.cached_time);
    }
  g_rand_free (rand);
}

/* Significant digits of a JSON number as written: no sign, exponent,
 * point, leading or trailing zeros. */
static int
significant_digits (const char *text, gsize len)
{
  int first = -1, last = -1, n = 0;
  char digits[64];

  for (gsize i = 0; i < len && text[i] != 'e' && text[i] != 'E'; i++)
    if (g_ascii_isdigit (text[i]))
      digits[n++] = text[i];
  for (int i = 0; i < n; i++)
    if (digits[i] != '0')
      {
        if (first < 0)
          first = i;
        last = i;
      }
  return first < 0 ? 1 : last - first + 1;
}

/* The decimal one unit above or below (@side) the p digit decimal
 * printed in @e ("%.*e"), in the last digit of its mantissa: the digits
 * as an integer (17 digits fit in 64 bits), so exact on any machine
 * (valgrind runs long double at double's precision). */
static void
neighbour (const char *e, int precision, int side, char *out, gsize size)
{
  const char *mark = strchr (e, 'e');
  int exponent = atoi (mark + 1);
  guint64 digits = 0;

  for (const char *c = e; c < mark; c++)
    if (g_ascii_isdigit (*c))
      digits = digits * 10 + (guint64) (*c - '0');
  digits = side < 0 ? digits - 1 : digits + 1;
  g_snprintf (out, size, "%" G_GUINT64_FORMAT "e%+d", digits,
              exponent - (precision - 1));
}

/* The fewest digits that read back, found the slow way: at each
 * precision the nearest decimal and its two neighbours (at a power of two
 * the nearest may miss on the narrow side where the next one up reads
 * back, and Python writes that one). */
static int
fewest_digits (double value)
{
  char tmp[64], other[64];

  for (int precision = 1; precision < 17; precision++)
    {
      g_snprintf (tmp, sizeof tmp, "%.*e", precision - 1, value);
      if (g_ascii_strtod (tmp, NULL) == value)
        return precision;
      for (int side = -1; side <= 1; side += 2)
        {
          neighbour (tmp, precision, side, other, sizeof other);
          if (g_ascii_strtod (other, NULL) == value)
            return precision;
        }
    }
  return 17;
}

/* The writer's ct is the shortest decimal that reads back, as Python's
 * repr: checked against a one-precision-at-a-time search, on times, on
 * numbers with few digits and on powers of two. */
Test (redis_record, written_times_are_shortest_round_trips)
{
  GRand *rand = g_rand_new_with_seed (7);

  for (int i = 0; i < 60000; i++)
    {
      double ct = i % 3 == 0   ? g_rand_double_range (rand, 1e9, 4e9)
                  : i % 3 == 1 ? (double) g_rand_int_range (rand, 1, 100000)
                                     / pow (10, g_rand_int_range (rand, 0, 8))
                               : ldexp (1.0, g_rand_int_range (rand, -60, 60));
      g_autoptr (GBytes) payload = bytes_of ("p");
      g_autoptr (GBytes) record = NULL;
      DogpileMetadata metadata;
      const char *data, *start, *end;
      gsize len;

      dogpile_metadata_init (&metadata, ct);
      record = dogpile_record_encode (payload, &metadata);
      data = g_bytes_get_data (record, &len);
      start = data + strlen ("{\"ct\": ");
      end = strchr (start, ',');
      cr_assert_not_null (end);
      cr_assert_eq (significant_digits (start, (gsize) (end - start)),
                    fewest_digits (ct), "%.17g written as %.*s", ct,
                    (int) (end - start), start);
      cr_assert_eq (g_ascii_strtod (start, NULL), ct);
    }
  g_rand_free (rand);
}

Test (redis_record, fast_and_general_parsers_agree_with_strtod)
{
  GRand *rand = g_rand_new_with_seed (42);
  char number[64];

  for (int i = 0; i < 100000; i++)
    {
      double v = g_rand_double_range (rand, 0, 4e9);
      int decimals = g_rand_int_range (rand, 0, 20);

      if (i % 3 == 0)
        v = g_rand_double (rand) * pow (10, g_rand_int_range (rand, -5, 19));
      g_snprintf (number, sizeof number, "%s%.*f", i % 7 == 0 ? "-" : "",
                  decimals, v);
      check_number (number);
    }
  g_rand_free (rand);
}

Test (redis_record, edge_numbers)
{
  const char *numbers[] = {
    "0",
    "-0",
    "0.0",
    "1",
    "1795607767.758692",
    "1795607767.7545128",
    "1795607901.6195362",
    "9007199254740993",
    "9007199254740992.5",
    "18446744073709551615",
    "9999999999999999999",
    "0.1",
    "0.30000000000000004",
    "123456789012345678.9",
    "1.0000000000000002",
    "2.220446049250313e-16",
    "1e5",
    "1E+5",
    "100000000000000000000",
    "0.0000000000000000001",
    "0.00000000000000000001",
    "4503599627370496.5",
    "4503599627370497.5",
    "1234567.0000000000000000001",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (numbers); i++)
    check_number (numbers[i]);
}

Test (redis_record, not_json_is_still_refused)
{
  const char *headers[] = {
    "{\"ct\": 01.5, \"v\": 2}",  "{\"ct\": .5, \"v\": 2}",
    "{\"ct\": 5., \"v\": 2}",    "{\"ct\": +5, \"v\": 2}",
    "{\"ct\": 1.2.3, \"v\": 2}", "{\"ct\": , \"v\": 2}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (headers); i++)
    {
      g_autofree char *text = g_strdup_printf ("%s|p", headers[i]);
      g_autoptr (GBytes) record = bytes_of (text);
      g_autoptr (GBytes) payload = NULL;
      g_autoptr (GError) error = NULL;
      DogpileMetadata metadata;

      cr_assert_not (
          dogpile_record_decode (record, &payload, &metadata, &error), "%s",
          headers[i]);
      assert_error (error, DOGPILE_ERROR_CANT_DESERIALIZE);
    }
}
