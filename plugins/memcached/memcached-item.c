/* memcached-item.c: compression, flags and the stock pickled form.
 *
 * A stock Python region on memcached has no serializer: the region hands
 * the client a CachedValue, which the client pickles (flag 1), protocol
 * 5 from pylibmc and pymemcache, 0 from python-memcached and bmemcached.
 * A C region with serializer = pickle stores the same: its record is
 * taken apart and its payload pickle put inside a CachedValue, in the
 * protocol of the client the backend is named after, so the items are
 * those the Python side would store.  Reading, any flag 1 item is such a
 * pickle, whoever wrote it, and becomes a record again.
 *
 * Writing, the flags are those the Python client named by the backend
 * gives bytes (0; bmemcached 16) or a pickle (1), with 8 added when the
 * value is stored
 * compressed: by python-memcached's and pylibmc's rule with
 * min_compress_len (values longer than it), by bmemcached's always (over
 * 128 bytes), never by pymemcache's; and only when zlib makes the value
 * smaller, as every one of them does.  Reading, flag 8 is honoured
 * whoever wrote the item.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memcached-item.h"

#include <math.h>
#include <stdlib.h>
#include <zlib.h>

/* The record's payload pickle inside a CachedValue with its metadata,
 * in the protocol the backend's Python client pickles with. */
static GBytes *
cached_value_of (const McConfig *config, GBytes *record, const char *key,
                 GError **error)
{
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GVariant) value = NULL;
  DogpileMetadata metadata;
  GBytes *out;

  if (!dogpile_record_decode (record, &payload, &metadata, error))
    return NULL;
  value = dogpile_pickle_loads (payload, error);
  if (value == NULL)
    {
      g_prefix_error (error,
                      "Cannot store '%s' as a Python client would: ", key);
      return NULL;
    }
  out = config->kind == MC_CLIENT_MEMCACHED
                || config->kind == MC_CLIENT_BMEMCACHED
            ? dogpile_pickle_dumps_cached_value_protocol0 (value, &metadata,
                                                           error)
            : dogpile_pickle_dumps_cached_value (value, &metadata, error);
  if (out == NULL)
    g_prefix_error (error,
                    "Cannot store '%s' as a Python client would: ", key);
  return out;
}

gboolean
mc_item_encode (const McConfig *config, const char *key, GBytes *value,
                McItem *item, GError **error)
{
  gsize len;
  const char *data;
  uLongf bound;

  item->owned = NULL;
  item->value = NULL;
  item->flags = mc_config_value_flags (config);
  if (config->stock_pickle)
    {
      item->value = cached_value_of (config, value, key, error);
      if (item->value == NULL)
        return FALSE;
      value = item->value;
      item->flags = MC_FLAG_PICKLE;
    }
  data = g_bytes_get_data (value, &len);
  item->data = data != NULL ? data : "";
  item->len = len;
  if (config->kind == MC_CLIENT_PYMEMCACHE || config->min_compress_len == 0
      || len <= config->min_compress_len || len > G_MAXUINT32)
    return TRUE;
  bound = compressBound ((uLong) len);
  item->owned = g_malloc (bound);
  if (compress2 ((Bytef *) item->owned, &bound, (const Bytef *) data,
                 (uLong) len, Z_DEFAULT_COMPRESSION)
          != Z_OK
      || bound >= len)
    {
      g_clear_pointer (&item->owned, g_free);
      return TRUE;
    }
  item->data = item->owned;
  item->len = bound;
  item->flags |= MC_FLAG_COMPRESSED;
  return TRUE;
}

void
mc_item_clear (McItem *item)
{
  g_clear_pointer (&item->owned, g_free);
  g_clear_pointer (&item->value, g_bytes_unref);
}

static GBytes *
inflate_item (const char *data, gsize len, const char *key, GError **error)
{
  z_stream stream = { 0 };
  gsize capacity = MAX (len * 4, 256), used = 0;
  char *out;
  int rc;

  if (inflateInit (&stream) != Z_OK)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "Cannot inflate '%s': zlib: out of memory", key);
      return NULL;
    }
  capacity = MIN (capacity, (gsize) MC_MAX_INFLATED_SIZE);
  out = g_malloc (capacity);
  stream.next_in = (Bytef *) data;
  stream.avail_in = (uInt) len;
  for (;;)
    {
      stream.next_out = (Bytef *) out + used;
      stream.avail_out = (uInt) (capacity - used);
      rc = inflate (&stream, Z_NO_FLUSH);
      used = capacity - stream.avail_out;
      if (rc == Z_STREAM_END)
        break;
      if (rc == Z_OK && stream.avail_out == 0
          && capacity < MC_MAX_INFLATED_SIZE)
        {
          capacity = MIN (capacity * 2, (gsize) MC_MAX_INFLATED_SIZE);
          out = g_realloc (out, capacity);
          continue;
        }
      inflateEnd (&stream);
      g_free (out);
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE,
                   rc != Z_OK && rc != Z_BUF_ERROR
                       ? "Item '%s' has flag 8 (zlib) but is not zlib data"
                   : capacity >= MC_MAX_INFLATED_SIZE && stream.avail_out == 0
                       ? "Item '%s' inflates to more than 256 MiB: refused"
                       : "Item '%s' has flag 8 (zlib) but its data ends early",
                   key);
      return NULL;
    }
  inflateEnd (&stream);
  return g_bytes_new_take (g_realloc (out, MAX (used, 1)), used);
}

static void
free_malloced (gpointer data)
{
  free (data);
}

/* A Python client's pickled CachedValue as the record of its payload. */
static GBytes *
record_of (GBytes *pickle, const char *key, GError **error)
{
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GBytes) payload = NULL;
  DogpileMetadata metadata;
  gsize len;
  const guint8 *data = g_bytes_get_data (pickle, &len);

  if (!dogpile_pickle_loads_cached_value (data != NULL ? data
                                                       : (const guint8 *) "",
                                          len, &value, &metadata, error))
    {
      g_prefix_error (error, "Item '%s' has flag 1 (pickle): ", key);
      return NULL;
    }
  /* A record must have a finite ct (dogpile_record_decode refuses any
   * other): say so here, rather than make a record nothing reads. */
  if (!isfinite (metadata.cached_time))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE,
                   "Item '%s' has flag 1 (pickle): its CachedValue's \"ct\" "
                   "is not a finite number",
                   key);
      return NULL;
    }
  payload = dogpile_pickle_dumps (value, error);
  if (payload == NULL)
    return NULL;
  return dogpile_record_encode (payload, &metadata);
}

GBytes *
mc_item_decode (char *data, gsize len, guint32 flags, const char *key,
                GError **error)
{
  GBytes *value;

  if (data == NULL)
    return g_bytes_new (NULL, 0);
  if ((flags & MC_FLAG_COMPRESSED) == 0)
    value = g_bytes_new_with_free_func (data, len, free_malloced, data);
  else
    {
      value = inflate_item (data, len, key, error);
      free (data);
    }
  if (value != NULL && (flags & MC_FLAG_PICKLE))
    {
      GBytes *record = record_of (value, key, error);

      g_bytes_unref (value);
      value = record;
    }
  return value;
}
