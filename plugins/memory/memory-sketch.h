/* memory-sketch.h: the count-min frequency sketch TinyLFU admits by.
 *
 * Four 4-bit counters per key, all in one 64-byte block (Caffeine's
 * FrequencySketch): an estimate is the smallest of the four.  When the
 * additions reach ten times the capacity every counter is halved (the
 * "reset" of Einziger, Friedman and Manes, ACM ToS 2017), so the history
 * ages and keys that were popular long ago lose their weight.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 *table; /* NULL until sized */
  guint64 block_mask;
  guint64 length;      /* counters / 16 */
  guint64 sample_size; /* additions between halvings */
  gint64 size;         /* additions since the last halving, less a share */
  guint64 resets;      /* halvings so far */
} MemorySketch;

/* Sizes the sketch for @capacity keys (grows only; counts restart). */
void memory_sketch_ensure_capacity (MemorySketch *sketch, guint64 capacity);
void memory_sketch_clear (MemorySketch *sketch);

static inline gboolean
memory_sketch_is_initialized (const MemorySketch *sketch)
{
  return sketch->table != NULL;
}

/* The estimated frequency of @hash, 0 to 15. */
unsigned memory_sketch_frequency (const MemorySketch *sketch, guint32 hash);
void memory_sketch_increment (MemorySketch *sketch, guint32 hash);

G_END_DECLS
