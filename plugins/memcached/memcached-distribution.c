/* memcached-distribution.c: the key distribution of each Python client.
 *
 * So that C and Python processes sharing a pool find each other's keys
 * (docs/memcached.md has the clients' code paths):
 *   pylibmc           libmemcached itself, with the same behaviors:
 *                     modula over the one-at-a-time hash by default,
 *                     ketama with {"ketama": true}.
 *   python-memcached  servers[cmemcache_hash(key) % n], where
 *                     cmemcache_hash = ((crc32(key) >> 16) & 0x7fff) or 1.
 *   pymemcache        HashClient's rendezvous hash: the node whose
 *                     murmur3_32("<node>-<key>", seed 0) is highest, the
 *                     greater node name on a tie; nodes are "host:port".
 *   bmemcached        its Client replicates: every write goes to every
 *                     server, a read asks them in order.
 * The two hash schemes are libmemcached custom hash functions returning
 * the server's index, with modula distribution: index % n is the index.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memcached-distribution.h"

#include <libhashkit-1.0/hashkit.h>
#include <zlib.h>

#include "memcached-servers.h"

struct McDistribution {
  McClientKind kind;
  GPtrArray *servers; /* McServer *, borrowed */
};

McDistribution *
mc_distribution_new (McClientKind kind, GPtrArray *servers)
{
  McDistribution *self = g_new0 (McDistribution, 1);

  self->kind = kind;
  self->servers = servers;
  return self;
}

void
mc_distribution_free (McDistribution *self)
{
  g_free (self);
}

guint32
mc_python_memcached_hash (const char *key, gsize len)
{
  guint32 crc = (guint32) crc32 (0L, (const Bytef *) key, (uInt) len);
  guint32 hash = (crc >> 16) & 0x7fff;

  return hash != 0 ? hash : 1;
}

static inline guint32
rotl32 (guint32 x, int r)
{
  return (x << r) | (x >> (32 - r));
}

/* MurmurHash3_x86_32, as pymemcache's murmur3.py computes it on ASCII. */
guint32
mc_murmur3_32 (const guint8 *data, gsize len, guint32 seed)
{
  const guint32 c1 = 0xcc9e2d51, c2 = 0x1b873593;
  gsize blocks = len & ~(gsize) 3;
  guint32 h1 = seed, k1;

  for (gsize i = 0; i < blocks; i += 4)
    {
      k1 = (guint32) data[i] | ((guint32) data[i + 1] << 8)
           | ((guint32) data[i + 2] << 16) | ((guint32) data[i + 3] << 24);
      k1 *= c1;
      k1 = rotl32 (k1, 15);
      k1 *= c2;
      h1 ^= k1;
      h1 = rotl32 (h1, 13);
      h1 = h1 * 5 + 0xe6546b64;
    }
  k1 = 0;
  switch (len & 3)
    {
    case 3:
      k1 ^= (guint32) data[blocks + 2] << 16;
      /* fall through */
    case 2:
      k1 ^= (guint32) data[blocks + 1] << 8;
      /* fall through */
    case 1:
      k1 ^= data[blocks];
      k1 *= c1;
      k1 = rotl32 (k1, 15);
      k1 *= c2;
      h1 ^= k1;
      break;
    default: break;
    }
  h1 ^= (guint32) len;
  h1 ^= h1 >> 16;
  h1 *= 0x85ebca6b;
  h1 ^= h1 >> 13;
  h1 *= 0xc2b2ae35;
  h1 ^= h1 >> 16;
  return h1;
}

guint
mc_pymemcache_node (const McDistribution *self, const char *key, gsize len)
{
  char stack[512];
  gint64 high = -1;
  guint winner = 0;

  for (guint i = 0; i < self->servers->len; i++)
    {
      const McServer *server = g_ptr_array_index (self->servers, i);
      gsize name_len = strlen (server->node_name);
      gsize total = name_len + 1 + len;
      char *buffer = total <= sizeof stack ? stack : g_malloc (total);
      gint64 score;

      memcpy (buffer, server->node_name, name_len);
      buffer[name_len] = '-';
      memcpy (buffer + name_len + 1, key, len);
      score = mc_murmur3_32 ((const guint8 *) buffer, total, 0);
      if (buffer != stack)
        g_free (buffer);
      if (score > high)
        high = score, winner = i;
      else if (score == high)
        {
          const McServer *best = g_ptr_array_index (self->servers, winner);

          /* max(str(node), str(winner)) */
          if (strcmp (server->node_name, best->node_name) > 0)
            winner = i;
        }
    }
  return winner;
}

static uint32_t
python_memcached_fn (const char *key, size_t len, void *context)
{
  (void) context;
  return mc_python_memcached_hash (key, len);
}

static uint32_t
pymemcache_fn (const char *key, size_t len, void *context)
{
  return mc_pymemcache_node (context, key, len);
}

/* The group key is the server's index in decimal. */
static uint32_t
group_index_fn (const char *key, size_t len, void *context)
{
  guint32 index = 0;

  (void) context;
  for (size_t i = 0; i < len; i++)
    index = index * 10 + (guint32) (key[i] - '0');
  return index;
}

gsize
mc_distribution_group_key (guint index, char buffer[MC_GROUP_KEY_MAX])
{
  return (gsize) g_snprintf (buffer, MC_GROUP_KEY_MAX, "%u", index);
}

gboolean
mc_distribution_install (McDistribution *self, memcached_st *memc,
                         GError **error)
{
  hashkit_hash_fn fn;
  hashkit_st hashkit;
  memcached_return_t rc;

  switch (self->kind)
    {
    case MC_CLIENT_PYLIBMC: return TRUE;
    case MC_CLIENT_MEMCACHED: fn = python_memcached_fn; break;
    case MC_CLIENT_PYMEMCACHE: fn = pymemcache_fn; break;
    case MC_CLIENT_BMEMCACHED:
    default: fn = group_index_fn; break;
    }
  rc = memcached_behavior_set (memc, MEMCACHED_BEHAVIOR_DISTRIBUTION,
                               MEMCACHED_DISTRIBUTION_MODULA);
  if (memcached_success (rc))
    {
      if (hashkit_create (&hashkit) == NULL)
        rc = MEMCACHED_MEMORY_ALLOCATION_FAILURE;
      else
        {
          if (hashkit_set_custom_function (&hashkit, fn, self)
              != HASHKIT_SUCCESS)
            rc = MEMCACHED_FAILURE;
          else
            rc = memcached_set_hashkit (memc, &hashkit);
          hashkit_free (&hashkit);
        }
    }
  if (!memcached_success (rc))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "Cannot install the key distribution: %s",
                   memcached_strerror (memc, rc));
      return FALSE;
    }
  return TRUE;
}
