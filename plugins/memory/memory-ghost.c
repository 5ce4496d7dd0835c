/* memory-ghost.c: two generations of open-addressed hash fingerprints.
 *
 * Generations, not a FIFO with deletions: forgetting is one memset of the
 * older generation every @half additions, which is O(1) amortised and
 * needs no link per key.  A fingerprint is the hash's high 16 bits and the
 * slot comes from all 32, so two keys are confused only when both agree:
 * about one miss in 65 536 of those that probe a filled slot.  The two
 * ghosts of a cache of N entries take between N / 2 and N bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory-ghost.h"

#include <string.h>

#define EMPTY 0u
#define TAKEN 1u

void
memory_ghost_init (MemoryGhost *ghost, guint64 capacity)
{
  guint32 half = (guint32) CLAMP ((capacity + 1) / 2, 1, G_MAXINT32 >> 2);
  guint32 slots = 16;

  /* at most half full, so a probe ends soon */
  while (slots < 2 * half)
    slots <<= 1;
  g_free (ghost->slots);
  ghost->slots = g_new0 (guint16, 2 * (gsize) slots);
  ghost->mask = slots - 1;
  ghost->half = half;
  ghost->added = 0;
  ghost->current = 0;
}

void
memory_ghost_clear (MemoryGhost *ghost)
{
  g_clear_pointer (&ghost->slots, g_free);
}

static inline guint16
fingerprint (guint32 hash)
{
  guint16 print = (guint16) (hash >> 16);

  return print <= TAKEN ? (guint16) (print + 2) : print;
}

/* Fibonacci hashing: the hash's low bits index the store's table. */
static inline guint16 *
generation (const MemoryGhost *ghost, unsigned g)
{
  return ghost->slots + (gsize) g * (ghost->mask + 1);
}

/* The slot of @hash's fingerprint in @gen, or the empty one its probe
 * ends on. */
static guint32
probe (const MemoryGhost *ghost, const guint16 *gen, guint32 hash)
{
  guint16 print = fingerprint (hash);
  /* Fibonacci hashing: the hash's low bits index the store's table. */
  guint32 i = ((hash * 0x9e3779b1u) >> 7) & ghost->mask;

  while (gen[i] != EMPTY && gen[i] != print)
    i = (i + 1) & ghost->mask;
  return i;
}

void
memory_ghost_add (MemoryGhost *ghost, guint32 hash)
{
  guint16 *gen;
  guint32 i;

  if (ghost->slots == NULL)
    return;
  if (ghost->added == ghost->half)
    {
      ghost->current ^= 1;
      memset (generation (ghost, ghost->current), 0,
              (ghost->mask + 1) * sizeof (guint16));
      ghost->added = 0;
    }
  gen = generation (ghost, ghost->current);
  i = probe (ghost, gen, hash);
  if (gen[i] != EMPTY)
    return; /* remembered already */
  gen[i] = fingerprint (hash);
  ghost->added++;
}

gboolean
memory_ghost_take (MemoryGhost *ghost, guint32 hash)
{
  if (ghost->slots == NULL)
    return FALSE;
  for (unsigned g = 0; g < 2; g++)
    {
      guint16 *gen = generation (ghost, g);
      guint32 i = probe (ghost, gen, hash);

      if (gen[i] != EMPTY)
        {
          gen[i] = TAKEN;
          return TRUE;
        }
    }
  return FALSE;
}
