/* fuzz-record.c: the stored record {"ct": <float>, "v": 2}|<payload>
 * (dogpile_record_decode) on any bytes, and its writer on any metadata.
 *
 * Invariants besides not crashing:
 *  - a record that decodes encodes to one that decodes to the same
 *    payload and the same metadata, ct bit for bit;
 *  - the fast reader of the canonical form and the general JSON reader
 *    agree: a space after the opening brace (which only the general one
 *    takes) changes neither the outcome nor the values;
 *  - any finite ct (the input's first 8 bytes) and version written are
 *    read back exactly: the shortest repr round-trips;
 *  - every error has a UTF-8 message.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz-common.h"

#include <math.h>

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY(name) LLVMFuzzerTestOneInput
#endif

static gboolean
record_decode (const guint8 *data, size_t size, GBytes **out_payload,
               DogpileMetadata *out_metadata, GError **error)
{
  g_autoptr (GBytes) record = g_bytes_new (data, size);

  return dogpile_record_decode (record, out_payload, out_metadata, error);
}

static void
record_assert_same (GBytes *payload, const DogpileMetadata *metadata,
                    GBytes *payload2, const DogpileMetadata *metadata2,
                    const char *how)
{
  fuzz_assert (g_bytes_equal (payload, payload2), "%s: another payload", how);
  fuzz_assert (
      memcmp (&metadata->cached_time, &metadata2->cached_time, sizeof (double))
              == 0
          && metadata->version == metadata2->version,
      "%s: ct %.17g v%d, then ct %.17g v%d", how, metadata->cached_time,
      metadata->version, metadata2->cached_time, metadata2->version);
}

/* Encoding @metadata and @payload, then decoding: the same again. */
static void
record_check_encode (GBytes *payload, const DogpileMetadata *metadata)
{
  g_autoptr (GBytes) encoded = dogpile_record_encode (payload, metadata);
  g_autoptr (GBytes) payload2 = NULL;
  g_autoptr (GError) error = NULL;
  DogpileMetadata metadata2;
  gsize len;
  const guint8 *d = g_bytes_get_data (encoded, &len);

  fuzz_assert (record_decode (d, len, &payload2, &metadata2, &error),
               "an encoded record (ct %.17g) does not decode: %s",
               metadata->cached_time, error->message);
  record_assert_same (payload, metadata, payload2, &metadata2,
                      "encoded then decoded");
}

int
FUZZ_ENTRY (record) (const guint8 *data, size_t size)
{
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GError) error = NULL;
  DogpileMetadata metadata;
  gboolean ok;

  fuzz_setup_logging ();
  ok = record_decode (data, size, &payload, &metadata, &error);

  if (ok)
    {
      fuzz_assert (isfinite (metadata.cached_time),
                   "a record decodes with a ct that is not finite");
      record_check_encode (payload, &metadata);
    }
  else
    fuzz_check_error (error, "dogpile_record_decode");

  /* The same record with "{ " for "{": the general reader's. */
  if (size > 0 && data[0] == '{')
    {
      g_autoptr (GByteArray) spaced = g_byte_array_sized_new (size + 1);
      g_autoptr (GBytes) payload2 = NULL;
      g_autoptr (GError) error2 = NULL;
      DogpileMetadata metadata2;
      gboolean ok2;

      g_byte_array_append (spaced, (const guint8 *) "{ ", 2);
      g_byte_array_append (spaced, data + 1, (guint) (size - 1));
      ok2 = record_decode (spaced->data, spaced->len, &payload2, &metadata2,
                           &error2);
      fuzz_assert (ok == ok2, "a space after '{' %s the record: %s",
                   ok ? "breaks" : "mends",
                   ok ? error2->message : error->message);
      if (ok)
        record_assert_same (payload, &metadata, payload2, &metadata2,
                            "with a space after '{'");
    }

  /* Any finite ct and version, written and read. */
  if (size >= 8 + sizeof (gint))
    {
      DogpileMetadata written;
      double ct;
      gint version;
      g_autoptr (GBytes) rest
          = g_bytes_new (data + 8 + sizeof (gint), size - 8 - sizeof (gint));

      memcpy (&ct, data, sizeof ct);
      memcpy (&version, data + 8, sizeof version);
      if (isfinite (ct))
        {
          dogpile_metadata_init (&written, ct);
          written.version = version;
          record_check_encode (rest, &written);
        }
    }
  return 0;
}
