/* fuzz-memcached-item.c: stored memcached items as a get returns them
 * (plugins/memcached/memcached-item.c: zlib with flag 8, a Python
 * client's pickled CachedValue with flag 1) on any bytes and flags, and
 * the writer of items.
 *
 * The input: flags (one byte), the client and compression threshold (one
 * byte), then the item's bytes.
 *
 * Invariants besides not crashing or allocating without bound:
 *  - an item without flag 1 or 8 reads as its bytes, unchanged;
 *  - a flag 8 item reads as what zlib inflates it to;
 *  - a flag 1 item reads as a record (a pickled payload and metadata);
 *  - what an item reads as, written as an item (by each client's rule,
 *    pickled as a stock Python region's or not, compressed or not) and
 *    read again, is the same record (but that protocol 0, as Python's,
 *    writes every NaN as "nan": a stock item gives any NaN back as
 *    Python's one NaN);
 *  - every error has a UTF-8 message.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz-common.h"

#include <zlib.h>

#include "memcached-item.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

static GBytes *
decode (const void *data, gsize len, guint32 flags, GError **error)
{
  char *copy = malloc (MAX (len, 1));

  memcpy (copy, data, len);
  return mc_item_decode (copy, len, flags, "key", error);
}

static gboolean
same_number (double x, double y)
{
  return (x != x && y != y) || memcmp (&x, &y, sizeof x) == 0;
}

/* Two records holding the same metadata and pickled value, any NaN being
 * equal to any other. */
static gboolean
same_record_nan (GBytes *a, GBytes *b)
{
  g_autoptr (GBytes) payload_a = NULL, payload_b = NULL;
  g_autoptr (GVariant) value_a = NULL, value_b = NULL;
  DogpileMetadata meta_a, meta_b;

  if (!dogpile_record_decode (a, &payload_a, &meta_a, NULL)
      || !dogpile_record_decode (b, &payload_b, &meta_b, NULL))
    return FALSE;
  if (!same_number (meta_a.cached_time, meta_b.cached_time)
      || meta_a.version != meta_b.version)
    return FALSE;
  value_a = dogpile_pickle_loads (payload_a, NULL);
  value_b = dogpile_pickle_loads (payload_b, NULL);
  return value_a != NULL && value_b != NULL
         && fuzz_variant_equal_nan (value_a, value_b);
}

/* @record written as an item by @config's rule, then read. */
static void
check_written (GBytes *record, McClientKind kind, gsize min_compress_len,
               gboolean stock_pickle)
{
  McConfig config = { 0 };
  McItem item;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) back = NULL;

  config.kind = kind;
  config.min_compress_len = min_compress_len;
  config.stock_pickle = stock_pickle;
  if (!mc_item_encode (&config, "key", record, &item, &error))
    {
      /* only a record whose payload is not a pickle is refused */
      fuzz_assert (stock_pickle, "an item cannot be written: %s",
                   error->message);
      fuzz_check_error (error, "mc_item_encode");
      mc_item_clear (&item);
      return;
    }
  back = decode (item.data, item.len, item.flags, &error);
  fuzz_assert (back != NULL, "an item written (flags %u) does not read: %s",
               item.flags, error->message);
  fuzz_assert (g_bytes_equal (back, record)
                   || (stock_pickle && same_record_nan (back, record)),
               "an item written (flags %u) reads as another record",
               item.flags);
  mc_item_clear (&item);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) value = NULL;
  guint32 flags;
  McClientKind kind;
  gsize min_compress_len;

  if (size < 2)
    return 0;
  flags = data[0];
  kind = (McClientKind) (data[1] % 4);
  min_compress_len = (gsize) (data[1] >> 2) * 4;
  data += 2, size -= 2;

  value = decode (data, size, flags, &error);
  if (value == NULL)
    {
      fuzz_check_error (error, "mc_item_decode");
      fuzz_assert (flags & (MC_FLAG_PICKLE | MC_FLAG_COMPRESSED),
                   "plain bytes fail to read: %s", error->message);
      return 0;
    }
  if ((flags & (MC_FLAG_PICKLE | MC_FLAG_COMPRESSED)) == 0)
    fuzz_assert (g_bytes_get_size (value) == size
                     && memcmp (g_bytes_get_data (value, NULL), data, size)
                            == 0,
                 "plain bytes read as others");
  else if ((flags & MC_FLAG_PICKLE) == 0)
    {
      /* zlib's own answer, for data that small */
      uLongf len = (uLongf) g_bytes_get_size (value);
      g_autofree Bytef *out = g_malloc (MAX (len, 1));

      fuzz_assert (uncompress (out, &len, data, (uLong) size) == Z_OK
                       && len == g_bytes_get_size (value)
                       && memcmp (out, g_bytes_get_data (value, NULL), len)
                              == 0,
                   "a flag 8 item inflates to other bytes than zlib's");
    }
  else
    {
      g_autoptr (GBytes) payload = NULL;
      g_autoptr (GVariant) pickled = NULL;
      DogpileMetadata metadata;

      fuzz_assert (dogpile_record_decode (value, &payload, &metadata, &error),
                   "a flag 1 item reads as no record: %s", error->message);
      pickled = dogpile_pickle_loads (payload, &error);
      fuzz_assert (pickled != NULL,
                   "a flag 1 item reads as a record without a pickle: %s",
                   error->message);
    }

  check_written (value, kind, min_compress_len, FALSE);
  if (flags & MC_FLAG_PICKLE)
    check_written (value, kind, min_compress_len, TRUE);
  return 0;
}
