/* memory-sketch.c: a 4-bit count-min sketch with periodic halving.
 *
 * The layout follows Caffeine's FrequencySketch (3.x): a key's block is 8
 * words (64 bytes, one cache line) chosen by one hash; its four counters
 * sit in four different words of that block, chosen by a second hash.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory-sketch.h"

#define ONE_MASK 0x1111111111111111ULL
#define RESET_MASK 0x7777777777777777ULL

static guint64
ceiling_power_of_two (guint64 x)
{
  guint64 p = 1;

  while (p < x)
    p <<= 1;
  return p;
}

void
memory_sketch_ensure_capacity (MemorySketch *sketch, guint64 capacity)
{
  guint64 maximum = MIN (capacity, (guint64) G_MAXINT32 >> 1);
  guint64 length = MAX (ceiling_power_of_two (maximum), 8);

  if (sketch->table != NULL && sketch->length >= length)
    return;
  g_free (sketch->table);
  sketch->table = g_new0 (guint64, length);
  sketch->length = length;
  sketch->block_mask = (length >> 3) - 1;
  sketch->sample_size = maximum == 0 ? 10 : 10 * maximum;
  sketch->size = 0;
}

void
memory_sketch_clear (MemorySketch *sketch)
{
  g_clear_pointer (&sketch->table, g_free);
  sketch->length = 0;
}

static inline guint32
spread (guint32 x)
{
  x ^= x >> 17;
  x *= 0xed5ad4bbU;
  x ^= x >> 11;
  x *= 0xac4c1b51U;
  x ^= x >> 15;
  return x;
}

static inline guint32
rehash (guint32 x)
{
  x *= 0x31848babU;
  x ^= x >> 14;
  return x;
}

unsigned
memory_sketch_frequency (const MemorySketch *sketch, guint32 hash)
{
  guint32 block_hash, counter_hash;
  guint64 block;
  unsigned frequency = 15;

  if (sketch->table == NULL)
    return 0;
  block_hash = spread (hash);
  counter_hash = rehash (block_hash);
  block = (block_hash & sketch->block_mask) << 3;
  for (unsigned i = 0; i < 4; i++)
    {
      guint32 h = counter_hash >> (i << 3);
      unsigned index = (h >> 1) & 15;
      unsigned offset = h & 1;
      unsigned count = (unsigned) (sketch->table[block + offset + (i << 1)]
                                   >> (index << 2))
                       & 0xf;

      frequency = MIN (frequency, count);
    }
  return frequency;
}

static void
reset (MemorySketch *sketch)
{
  guint64 count = 0;

  for (guint64 i = 0; i < sketch->length; i++)
    {
      count += (guint64) __builtin_popcountll (sketch->table[i] & ONE_MASK);
      sketch->table[i] = (sketch->table[i] >> 1) & RESET_MASK;
    }
  /* Caffeine 2.6.2's order, halving before taking away the odd counts'
   * share: the next halving comes later than with 3.x's order, and on a
   * loop a little larger than the cache the longer history keeps the
   * resident set from churning (1 200 keys through 1 000 entries: 0.81
   * against 0.74).  The size may go below zero, as it does in Java. */
  sketch->size = sketch->size / 2 - (gint64) (count >> 2);
  sketch->resets++;
}

void
memory_sketch_increment (MemorySketch *sketch, guint32 hash)
{
  guint32 block_hash, counter_hash;
  guint64 block;
  gboolean added = FALSE;

  if (sketch->table == NULL)
    return;
  block_hash = spread (hash);
  counter_hash = rehash (block_hash);
  block = (block_hash & sketch->block_mask) << 3;
  for (unsigned i = 0; i < 4; i++)
    {
      guint32 h = counter_hash >> (i << 3);
      unsigned index = (h >> 1) & 15;
      guint64 *word = &sketch->table[block + (h & 1) + (i << 1)];
      guint64 mask = 0xfULL << (index << 2);

      if ((*word & mask) != mask)
        {
          *word += 1ULL << (index << 2);
          added = TRUE;
        }
    }
  if (added && ++sketch->size == (gint64) sketch->sample_size)
    reset (sketch);
}
