/* memory-epoch.c: epoch-based reclamation (Fraser's EBR).
 *
 * Each thread that reads gets a participant record, padded to its own
 * cache line and never freed (a thread that exits hands it to the next
 * one).  A reader stores the global epoch into its record on entry and 0
 * on exit.  The epoch moves from E to E+1 only when no participant is
 * still inside a section entered under an epoch older than E; an item
 * retired at epoch R is therefore safe to free once the epoch reaches R+2.
 *
 * The store on entry must be ordered before the reader's loads.  A full
 * fence there would cost as much as the lock it replaces, so where the
 * kernel offers membarrier(2) the cost moves to the writer side: readers
 * need only a compiler barrier, and the (rare) epoch advance first makes
 * every running thread of the process execute a full barrier.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory-epoch.h"

#include <dogpile/dogpile-plugin.h>

#include <linux/membarrier.h>
#include <pthread.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

struct MemoryEpochReader {
  _Atomic guint64 epoch; /* 0: not reading */
  atomic_int in_use;
  MemoryEpochReader *next;
} __attribute__ ((aligned (128))); /* adjacent-line prefetch pairs lines */

/* Starts at 2 so that "epoch - 2" never wraps; 0 means "not reading". */
static _Atomic guint64 global_epoch = 2;
static _Atomic (MemoryEpochReader *) readers;
static gboolean asymmetric_fences; /* set once, by pthread_once */
static pthread_mutex_t advance_lock = PTHREAD_MUTEX_INITIALIZER;
static gint64 last_advance_ns; /* guarded by advance_lock */

/* membarrier interrupts every CPU running this process: at most one
 * advance attempt per millisecond, however many writers ask. */
#define ADVANCE_INTERVAL_NS 1000000

static __thread MemoryEpochReader *this_reader;

/* A full barrier.  GCC refuses standalone fences under ThreadSanitizer; a
 * sequentially consistent read-modify-write on @obj orders the same way on
 * every CPU we run on (a locked instruction on x86). */
#if defined(__SANITIZE_THREAD__)
#define FULL_BARRIER(obj)                                                     \
  atomic_fetch_add_explicit ((obj), 0, memory_order_seq_cst)
#else
#define FULL_BARRIER(obj) atomic_thread_fence (memory_order_seq_cst)
#endif

static void
reader_release (gpointer data)
{
  MemoryEpochReader *reader = data;

  atomic_store_explicit (&reader->epoch, 0, memory_order_release);
  atomic_store_explicit (&reader->in_use, 0, memory_order_release);
}

/* Returns the thread's record to the pool when the thread ends. */
static GPrivate reader_key = G_PRIVATE_INIT (reader_release);

static int
membarrier (int cmd)
{
  return (int) syscall (__NR_membarrier, cmd, 0, 0);
}

static void
init_fences (void)
{
#if defined(__SANITIZE_THREAD__)
  /* ThreadSanitizer does not model membarrier: use real fences. */
  asymmetric_fences = FALSE;
#else
  int supported = membarrier (MEMBARRIER_CMD_QUERY);

  asymmetric_fences
      = supported > 0 && (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED)
        && membarrier (MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
#endif
}

/* Across fork(): the advance lock is taken before it, so no advance is
 * half done, and released after it.  In the child only the forking thread
 * exists: every other record is free (a thread caught reading would hold
 * the epoch back for ever). */
static void
epoch_fork_prepare (gpointer unused)
{
  pthread_mutex_lock (&advance_lock);
}

static void
epoch_fork_parent (gpointer unused)
{
  pthread_mutex_unlock (&advance_lock);
}

static void
epoch_fork_child (gpointer unused)
{
  for (MemoryEpochReader *r = atomic_load (&readers); r != NULL; r = r->next)
    if (r != this_reader)
      {
        atomic_store (&r->epoch, 0);
        atomic_store (&r->in_use, 0);
      }
  pthread_mutex_unlock (&advance_lock);
}

static void
memory_epoch_add_fork_hook (void)
{
  dogpile_fork_hook_add (epoch_fork_prepare, epoch_fork_parent,
                         epoch_fork_child, NULL);
}

void
memory_epoch_fork_init (void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;

  pthread_once (&once, memory_epoch_add_fork_hook);
}

static MemoryEpochReader *
reader_for_this_thread (void)
{
  static pthread_once_t fences_once = PTHREAD_ONCE_INIT;
  MemoryEpochReader *reader;

  /* pthread_once rather than g_once: visible to ThreadSanitizer.  Every
   * thread passes here before its first read, so later plain reads of
   * asymmetric_fences are ordered after the write. */
  pthread_once (&fences_once, init_fences);
  /* Reuse a record a finished thread left behind, else add one. */
  for (reader = atomic_load (&readers); reader != NULL; reader = reader->next)
    {
      int expected = 0;

      if (atomic_compare_exchange_strong (&reader->in_use, &expected, 1))
        break;
    }
  if (reader == NULL)
    {
      reader = g_aligned_alloc0 (1, sizeof *reader, 128);
      atomic_store (&reader->in_use, 1);
      reader->next = atomic_load (&readers);
      while (!atomic_compare_exchange_weak (&readers, &reader->next, reader))
        ;
    }
  g_private_set (&reader_key, reader);
  this_reader = reader;
  return reader;
}

MemoryEpochReader *
memory_epoch_enter (void)
{
  MemoryEpochReader *reader = this_reader;

  if (G_UNLIKELY (reader == NULL))
    reader = reader_for_this_thread ();
  /* release: a writer that sees this store also sees the end of this
   * thread's previous section (free on x86; it matters to the model). */
  atomic_store_explicit (
      &reader->epoch,
      atomic_load_explicit (&global_epoch, memory_order_acquire),
      memory_order_release);
  if (asymmetric_fences)
    atomic_signal_fence (memory_order_seq_cst);
  else
    FULL_BARRIER (&reader->epoch);
  return reader;
}

void
memory_epoch_leave (MemoryEpochReader *reader)
{
  atomic_store_explicit (&reader->epoch, 0, memory_order_release);
}

guint64
memory_epoch_current (void)
{
  return atomic_load_explicit (&global_epoch, memory_order_acquire);
}

guint64
memory_epoch_collectable (void)
{
  guint64 epoch;
  gboolean can_advance = TRUE;

  /* One advancer at a time; the others just use what is there. */
  struct timespec now;
  gint64 now_ns;

  if (pthread_mutex_trylock (&advance_lock) != 0)
    return memory_epoch_current () - 2;
  clock_gettime (CLOCK_MONOTONIC_COARSE, &now);
  now_ns = (gint64) now.tv_sec * G_GINT64_CONSTANT (1000000000) + now.tv_nsec;
  epoch = atomic_load (&global_epoch);
  if (now_ns - last_advance_ns < ADVANCE_INTERVAL_NS)
    {
      pthread_mutex_unlock (&advance_lock);
      return epoch - 2;
    }
  last_advance_ns = now_ns;
  if (asymmetric_fences)
    membarrier (MEMBARRIER_CMD_PRIVATE_EXPEDITED);
  else
    FULL_BARRIER (&global_epoch);
  for (MemoryEpochReader *r = atomic_load (&readers); r != NULL; r = r->next)
    {
      guint64 seen = atomic_load_explicit (&r->epoch, memory_order_acquire);

      if (seen != 0 && seen != epoch)
        {
          can_advance = FALSE;
          break;
        }
    }
  if (can_advance)
    atomic_store (&global_epoch, ++epoch);
  pthread_mutex_unlock (&advance_lock);
  return epoch - 2;
}
