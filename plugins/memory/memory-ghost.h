/* memory-ghost.h: the keys a queue of the policy let go of lately.
 *
 * A ghost remembers the hashes of the last few thousand keys one side of
 * the policy evicted, so a miss on one of them says that side, a little
 * larger, would have hit (the ghost lists of ARC, Megiddo and Modha, FAST
 * 2003).  It keeps two generations of half its capacity each: a hash is
 * remembered for between half and all of @capacity evictions.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint16 *slots;   /* 2 generations of mask + 1 slots; 0 empty, 1 taken */
  guint32 mask;     /* slots in a generation, less one */
  guint32 half;     /* additions a generation holds */
  guint32 added;    /* additions to the current generation */
  unsigned current; /* 0 or 1 */
} MemoryGhost;

/* Sizes the ghost for @capacity keys; what it held is forgotten. */
void memory_ghost_init (MemoryGhost *ghost, guint64 capacity);
void memory_ghost_clear (MemoryGhost *ghost);
void memory_ghost_add (MemoryGhost *ghost, guint32 hash);
/* Whether @hash is remembered; it is forgotten if it was. */
gboolean memory_ghost_take (MemoryGhost *ghost, guint32 hash);

G_END_DECLS
