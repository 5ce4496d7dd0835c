/* memcached-item.c: compression and flags.
 *
 * Writing, the flags are those the Python client named by the backend
 * gives bytes (0; bmemcached 16), with 8 added when the value is stored
 * compressed: by python-memcached's and pylibmc's rule with
 * min_compress_len (values longer than it), by bmemcached's always (over
 * 128 bytes), never by pymemcache's; and only when zlib makes the value
 * smaller, as every one of them does.  Reading, flag 8 is honoured
 * whoever wrote the item.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memcached-item.h"

#include <stdlib.h>
#include <zlib.h>

void
mc_item_encode (const McConfig *config, GBytes *value, McItem *item)
{
  gsize len;
  const char *data = g_bytes_get_data (value, &len);
  uLongf bound;

  item->data = data != NULL ? data : "";
  item->len = len;
  item->flags = mc_config_value_flags (config);
  item->owned = NULL;
  if (config->kind == MC_CLIENT_PYMEMCACHE || config->min_compress_len == 0
      || len <= config->min_compress_len || len > G_MAXUINT32)
    return;
  bound = compressBound ((uLong) len);
  item->owned = g_malloc (bound);
  if (compress2 ((Bytef *) item->owned, &bound, (const Bytef *) data,
                 (uLong) len, Z_DEFAULT_COMPRESSION)
          != Z_OK
      || bound >= len)
    {
      g_clear_pointer (&item->owned, g_free);
      return;
    }
  item->data = item->owned;
  item->len = bound;
  item->flags |= MC_FLAG_COMPRESSED;
}

void
mc_item_clear (McItem *item)
{
  g_clear_pointer (&item->owned, g_free);
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

GBytes *
mc_item_decode (char *data, gsize len, guint32 flags, const char *key,
                GError **error)
{
  GBytes *value;

  if (data == NULL)
    return g_bytes_new (NULL, 0);
  if ((flags & MC_FLAG_COMPRESSED) == 0)
    return g_bytes_new_with_free_func (data, len, free_malloced, data);
  value = inflate_item (data, len, key, error);
  free (data);
  return value;
}
