/* memory-epoch.h: epoch-based reclamation for the memory store's readers.
 *
 * Readers of the store take no lock: they announce the epoch they read in
 * (a store to a cache line of their own), read, and leave.  Writers never
 * free what a reader might still be looking at; they retire it with the
 * epoch it was unlinked in and free it once every reader active at that
 * time has left (two epoch advances later).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>
#include <stdatomic.h>

G_BEGIN_DECLS

typedef struct MemoryEpochReader MemoryEpochReader;

/* Brackets a read.  Not reentrant; keep the section short. */
MemoryEpochReader *memory_epoch_enter (void);
void memory_epoch_leave (MemoryEpochReader *reader);

/* The epoch a retired item is tagged with. */
guint64 memory_epoch_current (void);

/* Tries to move the global epoch on; returns the epoch such that anything
 * retired at or before it may be freed now. */
guint64 memory_epoch_collectable (void);

/* Makes the epochs safe across fork(); call before the first store. */
void memory_epoch_fork_init (void);

G_END_DECLS
