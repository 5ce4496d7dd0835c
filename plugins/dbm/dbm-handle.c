/* dbm-handle.c: the gdbm file, its kept handles, and recovery.
 *
 * Python opens and closes the gdbm file for every operation, under the
 * read/write lock file.  Opening costs a header and directory read, and
 * closing a writer costs an msync, so here two handles stay open between
 * operations, both with GDBM_NOLOCK (gdbm's own lock would shut Python's
 * readers out: spec 4.5):
 *
 *  - a reader, replaced cheaply whenever the file changed;
 *  - a writer, opened at the first write; our writes go through it, and
 *    reads use it while nobody else has written.
 *
 * gdbm caches the header, the directory, buckets and the last value read,
 * so a handle is only as good as the file is unchanged since it was opened
 * or last written through.  Under the lock (shared or exclusive), before
 * each use, fstat() of the handle's descriptor is compared with the
 * snapshot taken then: device, inode, size, mtime, ctime, and a link count
 * above zero (a file renamed over, or deleted and recreated, changes its
 * old inode's ctime and link count).  Equal is only proof of "unchanged"
 * when a later change cannot carry the same timestamps:
 *
 *  - the kernel stamps a change with its coarse clock (a tick of a few
 *    ms), so two writes in one tick leave mtime and ctime alone.  A
 *    snapshot whose mtime and ctime are older than now minus two ticks
 *    (10 ms at least; 2 s when the timestamps have no nanoseconds, i.e.
 *    the filesystem keeps seconds) is trusted: any later change gets a
 *    later stamp.  A younger one serves the operation that took it and is
 *    replaced at the next (git's "racy clean" rule).
 *  - after our own write, we set mtime ourselves to (now - 1 s), a value
 *    the kernel can no longer stamp and no later writer will pick (each
 *    takes its own now).  If the filesystem stored it exactly, the
 *    snapshot is trusted at once; a write by anyone after us, kernel-
 *    stamped (Python through a fresh mmap, or write(2)) or set like ours,
 *    changes it.  Setting a time needs the file's owner; otherwise the
 *    kernel's stamp and the racy rule apply.
 *  - our own writes go through a long-lived shared mapping, whose pages
 *    stay writable, so the kernel may not stamp them at all: hence the
 *    explicit stamp, before the write too (so that a writer dying in the
 *    middle is seen as a change).
 *
 * Writes through a mapping stamp the file only on filesystems that update
 * times when a page is first made writable (ext4, xfs, btrfs, f2fs); tmpfs
 * does not, so a Python write in place would be invisible there.  Handles
 * are therefore kept only on those filesystems unless reuse_handle says
 * otherwise; elsewhere every operation opens and closes the file, as
 * Python does.
 *
 * Crash safety: a process killed inside gdbm_store leaves whatever part of
 * the update had reached the page cache (buckets, then directory, then
 * header): possibly a file gdbm opens but whose allocation tables are
 * wrong.  So a writer marks the lock file "dirty, <file>" before changing
 * the file (the name with its length first, so that any name survives, a
 * newline too: dbm-rw-lock.c) and "clean" afterwards; whoever finds the
 * mark under the lock knows the writer died and rebuilds the file with
 * gdbm_recover (GDBM_RCVR_FORCE: every readable pair is copied to a new
 * file, renamed over the old one).  A file that cannot even be opened any more
 * is replaced by an empty one: it is a cache.  Damage nobody's death explains
 * is repaired or replaced the same way, with a warning: what gdbm reports
 * (at open too), and a header whose bounds disagree with the file's size,
 * checked whenever gdbm reads it (at every open) because gdbm 1.23 would
 * grow the file toward a damaged next_block.  A file that does not start
 * with gdbm's magic is never touched.  Every repair is counted
 * (dbm_file_get_repairs).
 *
 * Threads: one mutex guards the handles; operations of one process on one
 * file are serialised while they use gdbm (a fetch is ~0.1 us).  fork():
 * the child forgets the handles (a fork hook, dbm-private.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dbm-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

/* statfs f_type of the filesystems whose page_mkwrite updates file times */
#define EXT4_MAGIC 0xEF53
#define XFS_MAGIC 0x58465342
#define BTRFS_MAGIC 0x9123683E
#define F2FS_MAGIC 0xF2F52010

#define NSEC_PER_SEC 1000000000L

typedef struct {
  GDBM_FILE dbf;
  struct stat snap; /* the file when the handle was last known current */
  gboolean trusted; /* snap may be compared at a later operation */
} Handle;

struct DbmFile {
  char *path;
  DbmRwLock *rw;          /* NULL with rw_lockfile=false */
  gboolean reuse;         /* keep handles between operations */
  pthread_mutex_t lock;   /* the handles */
  pthread_rwlock_t local; /* without a lock file: our threads' exclusion */
  Handle reader;
  Handle writer;
  gboolean inherited; /* in a forked child: the handles are the parent's */
  struct timespec resolution;
  DbmForkHook fork_hook;
  guint64 repairs; /* under lock */
};

typedef enum {
  STEP_OK,
  STEP_ERROR,
  STEP_RECOVER, /* the file needs recovery: retry under the write lock */
} Step;

/* --- time ------------------------------------------------------------- */

static gboolean
ts_less (const struct timespec *a, const struct timespec *b)
{
  return a->tv_sec < b->tv_sec
         || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static gboolean
ts_equal (const struct timespec *a, const struct timespec *b)
{
  return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static struct timespec
ts_minus_ns (struct timespec t, gint64 ns)
{
  gint64 total = (gint64) t.tv_sec * NSEC_PER_SEC + t.tv_nsec - ns;

  t.tv_sec = (time_t) (total / NSEC_PER_SEC);
  t.tv_nsec = (long) (total % NSEC_PER_SEC);
  if (t.tv_nsec < 0)
    {
      t.tv_nsec += NSEC_PER_SEC;
      t.tv_sec--;
    }
  return t;
}

/**
 * dbm_snapshot_is_trusted:
 *
 * The racy rule for timestamps the kernel set: trusted when mtime and
 * ctime are both older than @now by more than two ticks of the coarse
 * clock file times come from (10 ms at least), or by 2 s when neither has
 * nanoseconds (a filesystem keeping whole seconds).  Any change after the
 * snapshot is then stamped later, hence differently.
 */
gboolean
dbm_snapshot_is_trusted (const struct timespec *mtime,
                         const struct timespec *ctime,
                         const struct timespec *now,
                         const struct timespec *resolution)
{
  gint64 margin
      = 2 * ((gint64) resolution->tv_sec * NSEC_PER_SEC + resolution->tv_nsec);
  struct timespec limit;

  if (margin < 10 * 1000000)
    margin = 10 * 1000000;
  if (mtime->tv_nsec == 0 && ctime->tv_nsec == 0)
    margin = 2 * (gint64) NSEC_PER_SEC;
  limit = ts_minus_ns (*now, margin);
  return ts_less (mtime, &limit) && ts_less (ctime, &limit);
}

static gboolean
same_state (const struct stat *snap, const struct stat *st)
{
  return st->st_nlink > 0 && snap->st_dev == st->st_dev
         && snap->st_ino == st->st_ino && snap->st_size == st->st_size
         && ts_equal (&snap->st_mtim, &st->st_mtim)
         && ts_equal (&snap->st_ctim, &st->st_ctim);
}

/* Stamps the file before and after we change it.  Sets mtime to a second
 * ago (see the top of the file); *out_stamp is that value, or tv_nsec
 * UTIME_NOW when only the kernel's own stamp could be set. */
static void
stamp_change (int fd, struct timespec *out_stamp)
{
  struct timespec times[2];

  clock_gettime (CLOCK_REALTIME, &times[1]);
  times[1].tv_sec -= 1;
  if (times[1].tv_nsec == 0)
    times[1].tv_nsec = 1; /* a filesystem keeping seconds must not match */
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  if (futimens (fd, times) == 0)
    {
      *out_stamp = times[1];
      return;
    }
  times[1].tv_nsec = UTIME_NOW;
  futimens (fd, times);
  out_stamp->tv_sec = 0;
  out_stamp->tv_nsec = UTIME_NOW;
}

/* --- errors ----------------------------------------------------------- */

static gboolean
is_damage (int ec)
{
  switch (ec)
    {
    case GDBM_FILE_EOF:
    case GDBM_FILE_READ_ERROR:
    case GDBM_EMPTY_DATABASE:
    case GDBM_MALFORMED_DATA:
    case GDBM_BAD_FILE_OFFSET:
    case GDBM_NEED_RECOVERY:
    case GDBM_DIR_OVERFLOW:
    case GDBM_BAD_BUCKET:
    case GDBM_BAD_HEADER:
    case GDBM_BAD_AVAIL:
    case GDBM_BAD_HASH_TABLE:
    case GDBM_BAD_DIR_ENTRY:
    case GDBM_BUCKET_CACHE_CORRUPTED:
    case GDBM_BAD_HASH_ENTRY:
    /* from an existing file only a header check gives it */
    case GDBM_BLOCK_SIZE_ERROR: return TRUE;
    default: return FALSE;
    }
}

static char *
describe_gdbm_error (int ec, int sys_errno)
{
  if (gdbm_check_syserr (ec) && sys_errno != 0)
    return g_strdup_printf ("%s (%s)", gdbm_strerror (ec),
                            g_strerror (sys_errno));
  return g_strdup (gdbm_strerror (ec));
}

/* A hint for files another dbm module wrote (spec 0 item 4). */
static const char *
foreign_format_hint (const char *path)
{
  char head[16] = { 0 };
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return "";
  n = read (fd, head, sizeof head);
  close (fd);
  if (n == 16 && memcmp (head, "SQLite format 3", 16) == 0)
    return "; it is an SQLite database (Python 3.13's dbm.sqlite3), which "
           "this backend cannot read";
  return "";
}

static void
set_open_error (DbmFile *self, GError **error, int ec, int sys_errno,
                gboolean for_write)
{
  g_autofree char *why = describe_gdbm_error (ec, sys_errno);

  if (ec == GDBM_BAD_MAGIC_NUMBER || ec == GDBM_BYTE_SWAPPED)
    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                 "dogpile.cache.dbm: '%s' is not a GNU dbm file (%s)%s",
                 self->path, why, foreign_format_hint (self->path));
  else
    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                 "dogpile.cache.dbm: cannot open '%s' for %s: %s", self->path,
                 for_write ? "writing" : "reading", why);
}

void
dbm_file_gdbm_error (DbmFile *self, GDBM_FILE dbf, GError **error,
                     const char *what)
{
  g_autofree char *why
      = describe_gdbm_error (gdbm_last_errno (dbf), gdbm_last_syserr (dbf));

  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
               "dogpile.cache.dbm: %s '%s': %s", what, self->path, why);
}

/* --- the header ------------------------------------------------------ */

/* gdbm 1.23's file header (gdbmdefs.h), declared with the same member types
 * so that the compiler lays it out as gdbm's build on this machine writes
 * it (off_t is 64 bits in every gdbm build with large files: GDBM_MAGIC64).
 * The header block starts with GdbmHeader, then, for a file made with
 * GDBM_NUMSYNC, GdbmExtHeader, then the active avail table. */
typedef struct {
  int magic;
  int block_size;
  gint64 dir;
  int dir_size;
  int dir_bits;
  int bucket_size;
  int bucket_elems;
  gint64 next_block;
} GdbmHeader;

typedef struct {
  int version;
  unsigned numsync;
  int pad[6];
} GdbmExtHeader;

typedef struct {
  int av_size;
  gint64 av_adr;
} GdbmAvailElem;

typedef struct {
  int size;
  int count;
  gint64 next_block;
  GdbmAvailElem av_table[1];
} GdbmAvailBlock;

typedef struct {
  int hash_value;
  char key_start[4];
  gint64 data_pointer;
  int key_size;
  int data_size;
} GdbmBucketElement;

typedef struct {
  int av_count;
  GdbmAvailElem bucket_avail[6];
  int bucket_bits;
  int count;
  GdbmBucketElement h_table[1];
} GdbmBucket;

G_STATIC_ASSERT (offsetof (GdbmHeader, next_block) == 32);

#define GDBM_OMAGIC 0x13579aceu
#define GDBM_MAGIC64 0x13579acfu
#define GDBM_NUMSYNC_MAGIC64 0x13579ad1u

static gboolean
is_native_magic (guint32 magic)
{
  return magic == GDBM_OMAGIC || magic == GDBM_MAGIC64
         || magic == GDBM_NUMSYNC_MAGIC64;
}

static gboolean
is_power_of_two (gint64 n)
{
  return n > 0 && (n & (n - 1)) == 0;
}

/* Whether the file starts with the magic number gdbm writes on this
 * machine.  Only such a file is ever repaired or replaced without a dead
 * writer's mark: anything else (text, SQLite, a gdbm file from a machine
 * with another byte order or off_t) may be someone's data, not damage. */
static gboolean
has_native_magic (const char *path)
{
  guint32 magic = 0;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return FALSE;
  n = pread (fd, &magic, sizeof magic, 0);
  close (fd);
  return n == (ssize_t) sizeof magic && is_native_magic (magic);
}

typedef enum {
  HEADER_SANE,
  HEADER_DAMAGED,
  HEADER_BAD_BLOCK_SIZE, /* gdbm_recover would make its new file with it */
} HeaderCheck;

/* Checks the header of the gdbm file open as @fd (whose fstat is @st)
 * against the file's size, which gdbm 1.23 does not do: it accepts a
 * next_block beyond the end of the file (gdbm built without mmap before
 * 2018 could leave one) and checks avail tables only against next_block,
 * and its next allocation then extends the file to next_block with
 * zeros: one flipped bit asks for 140 TB, under the exclusive lock.  With
 * next_block within the file, every address gdbm checks against it is
 * bounded by the file.  The rest is what gdbm would only see at its next
 * open, which a kept handle of an unchanged file never does.  A file
 * without gdbm's native magic is left to gdbm.  *out_why (transfer full)
 * says what is wrong. */
static HeaderCheck
header_is_sane (int fd, const struct stat *st, char **out_why)
{
  /* One read covers the header block of gdbm's usual 4 KB blocks. */
  union {
    char bytes[4096];
    GdbmHeader h;
    gint64 align;
  } buf;
  const gint64 size = st->st_size;
  gint64 avail_off, avail_elems, table_off;
  GdbmAvailBlock avail;
  GdbmHeader h;
  ssize_t got;

#define INSANE(verdict, ...)                                                  \
  G_STMT_START                                                                \
  {                                                                           \
    *out_why = g_strdup_printf (__VA_ARGS__);                                 \
    return verdict;                                                           \
  }                                                                           \
  G_STMT_END
#define DAMAGED(...) INSANE (HEADER_DAMAGED, __VA_ARGS__)

  *out_why = NULL;
  got = pread (fd, buf.bytes, sizeof buf.bytes, 0);
  if (got < (ssize_t) (sizeof (GdbmHeader) + sizeof (GdbmExtHeader)
                       + offsetof (GdbmAvailBlock, av_table)))
    return HEADER_SANE; /* too short for a header: gdbm says so */
  h = buf.h;
  if (!is_native_magic ((guint32) h.magic))
    return HEADER_SANE;
  avail_off = sizeof (GdbmHeader);
  if ((guint32) h.magic == GDBM_NUMSYNC_MAGIC64)
    avail_off += sizeof (GdbmExtHeader);
  memcpy (&avail, buf.bytes + avail_off, offsetof (GdbmAvailBlock, av_table));
  table_off = avail_off + (gint64) offsetof (GdbmAvailBlock, av_table);

  /* gdbm makes every block size a power of two; the header fills block 0. */
  if (!is_power_of_two (h.block_size)
      || h.block_size < avail_off + (gint64) sizeof (GdbmAvailBlock)
      || h.block_size > size)
    INSANE (HEADER_BAD_BLOCK_SIZE, "block size %d in a file of %jd bytes",
            h.block_size, (intmax_t) size);
  if (h.next_block < h.block_size || h.next_block > size)
    DAMAGED ("next_block %jd in a file of %jd bytes", (intmax_t) h.next_block,
             (intmax_t) size);
  if (h.dir_bits < 0 || h.dir_bits > 31
      || h.dir_size != (gint64) sizeof (gint64) << h.dir_bits)
    DAMAGED ("directory of %d bytes for %d bits", h.dir_size, h.dir_bits);
  if (h.dir < h.block_size || h.dir > h.next_block - h.dir_size)
    DAMAGED ("directory at %jd (%d bytes) outside blocks 1 to next_block "
             "%jd",
             (intmax_t) h.dir, h.dir_size, (intmax_t) h.next_block);
  if (h.bucket_size <= (int) sizeof (GdbmBucket)
      || h.bucket_size > h.next_block
      || h.bucket_elems
             != (h.bucket_size - (int) sizeof (GdbmBucket))
                        / (int) sizeof (GdbmBucketElement)
                    + 1)
    DAMAGED ("bucket of %d bytes with %d elements", h.bucket_size,
             h.bucket_elems);

  /* The active avail table: gdbm allocates from it. */
  avail_elems = (h.block_size - avail_off - (gint64) sizeof (GdbmAvailBlock))
                    / (gint64) sizeof (GdbmAvailElem)
                + 1;
  if (avail.size != avail_elems || avail.count < 0 || avail.count > avail.size)
    DAMAGED ("avail table of %d elements (%d used) in blocks of %d bytes",
             avail.size, avail.count, h.block_size);
  if (avail.next_block != 0
      && (avail.next_block < h.block_size || avail.next_block >= h.next_block))
    DAMAGED ("avail stack at %jd outside blocks 1 to next_block %jd",
             (intmax_t) avail.next_block, (intmax_t) h.next_block);
  for (int done = 0; done < avail.count;)
    {
      gint64 at = table_off + (gint64) done * (gint64) sizeof (GdbmAvailElem);
      const char *elems;
      int n;

      if (at + (gint64) sizeof (GdbmAvailElem) <= got)
        {
          n = (int) MIN ((gint64) (avail.count - done),
                         (got - at) / (gint64) sizeof (GdbmAvailElem));
          elems = buf.bytes + at;
        }
      else
        {
          n = MIN (avail.count - done,
                   (int) (sizeof buf.bytes / sizeof (GdbmAvailElem)));
          if (pread (fd, buf.bytes, n * sizeof (GdbmAvailElem), (off_t) at)
              != (ssize_t) (n * sizeof (GdbmAvailElem)))
            DAMAGED ("avail table cut short");
          elems = buf.bytes;
          got = 0; /* the buffer no longer holds the header block */
        }
      for (int i = 0; i < n; i++)
        {
          GdbmAvailElem e;

          memcpy (&e, elems + i * sizeof e, sizeof e);
          if (e.av_size < 0 || e.av_adr < h.block_size
              || e.av_adr > h.next_block - e.av_size)
            DAMAGED ("free block at %jd (%d bytes) outside blocks 1 to "
                     "next_block %jd",
                     (intmax_t) e.av_adr, e.av_size, (intmax_t) h.next_block);
        }
      done += n;
    }
#undef DAMAGED
#undef INSANE
  return HEADER_SANE;
}

/* header_is_sane() for a handle, for the callers that only need to know
 * the file must be repaired (recover_path() says why). */
static gboolean
header_ok (GDBM_FILE dbf, const struct stat *st)
{
  g_autofree char *why = NULL;

  return header_is_sane (gdbm_fdesc (dbf), st, &why) == HEADER_SANE;
}

/* --- handles ---------------------------------------------------------- */

static void
close_handle (Handle *h)
{
  if (h->dbf != NULL)
    gdbm_close (h->dbf);
  h->dbf = NULL;
  h->trusted = FALSE;
}

static void
close_handles (DbmFile *self)
{
  close_handle (&self->reader);
  close_handle (&self->writer);
}

/* Opens the file; *out_ec and *out_errno say why not.  Kept handles never
 * take gdbm's lock; a handle for one operation takes it, as Python's does
 * (it then also guards against gdbm users that ignore the lock file). */
static GDBM_FILE
open_dbf (DbmFile *self, int mode, gboolean kept, int *out_ec, int *out_errno)
{
  GDBM_FILE dbf;

  errno = 0;
  dbf = gdbm_open (self->path, 0,
                   mode | GDBM_CLOEXEC | (kept ? GDBM_NOLOCK : 0), 0666, NULL);
  *out_ec = dbf == NULL ? gdbm_errno : GDBM_NO_ERROR;
  *out_errno = errno;
  return dbf;
}

/* Whether the lock file says a writer died while changing the file at
 * @path whose identity is @st. */
static Step
check_marker (DbmFile *self, int lock_fd, const struct stat *st,
              GError **error)
{
  DbmMarker marker;
  gboolean ours;

  if (self->rw == NULL)
    return STEP_OK;
  if (!dbm_rw_lock_read_marker (self->rw, lock_fd, &marker, error))
    return STEP_ERROR;
  ours = marker.dirty && marker.dev == st->st_dev && marker.ino == st->st_ino;
  dbm_marker_clear (&marker);
  return ours ? STEP_RECOVER : STEP_OK;
}

/* After gdbm_open failed: damage we repair (a dead writer's mark on this
 * very file, or gdbm's verdict on a file with gdbm's magic), or an error
 * to report. */
static Step
open_failed (DbmFile *self, int lock_fd, int ec, int sys_errno,
             gboolean for_write, GError **error)
{
  struct stat st;

  if (is_damage (ec) && ec != GDBM_EMPTY_DATABASE
      && stat (self->path, &st) == 0)
    {
      Step step = check_marker (self, lock_fd, &st, error);

      if (step != STEP_OK)
        return step;
      /* No writer of ours to blame (a Python writer killed, a disk, a
       * stray write): refusing it would fail every process until someone
       * deletes the file, and it is only a cache.  But only a file with
       * gdbm's magic is ours to judge: anything else at this path (a
       * mistyped filename naming someone's data, a gdbm file of another
       * machine) is not damage, and replacing it would destroy it. */
      if (has_native_magic (self->path))
        return STEP_RECOVER;
    }
  set_open_error (self, error, ec, sys_errno, for_write);
  return STEP_ERROR;
}

/* A kept handle that is still current, or NULL. */
static Handle *
current_handle (DbmFile *self, gboolean for_write)
{
  Handle *candidates[2] = { &self->writer, for_write ? NULL : &self->reader };
  struct stat st;

  for (int i = 0; i < 2; i++)
    {
      Handle *h = candidates[i];

      if (h == NULL || h->dbf == NULL || !h->trusted)
        continue;
      if (fstat (gdbm_fdesc (h->dbf), &st) == 0 && same_state (&h->snap, &st))
        return h;
    }
  return NULL;
}

static void
snapshot_opened (DbmFile *self, Handle *h)
{
  struct timespec now;

  h->trusted = fstat (gdbm_fdesc (h->dbf), &h->snap) == 0;
  clock_gettime (CLOCK_REALTIME, &now);
  h->trusted = h->trusted
               && dbm_snapshot_is_trusted (&h->snap.st_mtim, &h->snap.st_ctim,
                                           &now, &self->resolution);
}

/* Opens a kept handle, called with the file locked and self->lock held. */
static Step
reopen_handle (DbmFile *self, Handle *h, gboolean for_write, int lock_fd,
               GError **error)
{
  int ec, sys_errno;
  GDBM_FILE dbf;
  Step step;

  close_handle (h);
  dbf = open_dbf (self, for_write ? GDBM_WRITER : GDBM_READER, TRUE, &ec,
                  &sys_errno);
  if (dbf == NULL)
    return open_failed (self, lock_fd, ec, sys_errno, for_write, error);
  h->dbf = dbf;
  snapshot_opened (self, h);
  step = check_marker (self, lock_fd, &h->snap, error);
  if (step == STEP_OK
      && (gdbm_needs_recovery (dbf) || !header_ok (dbf, &h->snap)))
    step = STEP_RECOVER;
  if (step != STEP_OK)
    close_handle (h);
  return step;
}

/* --- recovery --------------------------------------------------------- */

/* Replaces the file at @path with an empty gdbm file of mode @mode. */
static gboolean
reinitialize (DbmFile *self, const char *path, mode_t mode, GError **error)
{
  g_autofree char *tmp = g_strdup_printf ("%s.XXXXXX", path);
  GDBM_FILE dbf;
  int fd;

  fd = g_mkstemp_full (tmp, O_RDWR | O_CLOEXEC, mode & 0777);
  if (fd < 0)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "dogpile.cache.dbm: cannot replace the damaged file '%s': "
                   "%s",
                   path, g_strerror (errno));
      return FALSE;
    }
  fchmod (fd, mode & 0777);
  dbf = gdbm_fd_open (fd, tmp, 0,
                      GDBM_NEWDB | GDBM_NOLOCK | GDBM_CLOEXEC | GDBM_CLOERROR,
                      NULL);
  if (dbf == NULL)
    {
      g_autofree char *why = describe_gdbm_error (gdbm_errno, errno);

      unlink (tmp);
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "dogpile.cache.dbm: cannot replace the damaged file '%s': "
                   "%s",
                   path, why);
      return FALSE;
    }
  if (rename (tmp, path) != 0)
    {
      int saved = errno;

      gdbm_close (dbf);
      unlink (tmp);
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "dogpile.cache.dbm: cannot replace the damaged file '%s': "
                   "%s",
                   path, g_strerror (saved));
      return FALSE;
    }
  gdbm_close (dbf);
  return TRUE;
}

/* Every repair is counted; one nobody's death explains is a warning
 * (the file was damaged from outside: a disk, a stray write, a Python
 * writer killed, which leaves no mark), a dead writer's is the designed
 * outcome and only debug output.  @kept < 0: replaced by an empty file. */
static void
report_repair (DbmFile *self, const char *path, gboolean dead_writer,
               const char *why, gssize kept, gsize lost)
{
  self->repairs++;
  if (dead_writer && kept >= 0)
    g_debug ("dogpile.cache.dbm: repaired '%s': %zd keys kept, %zu lost", path,
             kept, lost);
  else if (dead_writer)
    g_debug ("dogpile.cache.dbm: replaced '%s', which a writer left "
             "unreadable (%s), with an empty file",
             path, why);
  else if (kept >= 0)
    g_warning ("dogpile.cache.dbm: '%s' was damaged (%s); repaired it: %zd "
               "keys kept, %zu keys or buckets lost",
               path, why, kept, lost);
  else
    g_warning ("dogpile.cache.dbm: '%s' was damaged (%s) beyond repair; "
               "replaced it with an empty file",
               path, why);
}

/* Rebuilds @path (a dead writer's file, or one found damaged), with the
 * write lock held.  gdbm_recover copies every readable pair into a new file
 * renamed over the old one; it is forced (run even when gdbm's own check
 * passes) for a @dead_writer, whose allocation tables may only look right,
 * and for a header that fails header_is_sane(), which gdbm's check does
 * not see.  When gdbm cannot open or rebuild the file it is replaced with
 * an empty one (a cache loses nothing it cannot recompute); a file without
 * gdbm's magic is never touched unless our own writer was changing it.
 * With @identity, only that very file is touched: another one now at
 * @path was made by someone else. */
static gboolean
recover_path (DbmFile *self, const char *path, const struct stat *identity,
              gboolean dead_writer, GError **error)
{
  gdbm_recovery rcvr = { 0 };
  g_autofree char *why = NULL;
  struct stat st, fd_st;
  gboolean force = dead_writer;
  HeaderCheck header = HEADER_SANE;
  GDBM_FILE dbf;
  int rc;

  if (stat (path, &st) != 0)
    return TRUE; /* gone: nothing left to repair */
  if (identity != NULL
      && (st.st_dev != identity->st_dev || st.st_ino != identity->st_ino))
    return TRUE;
  if (strcmp (path, self->path) == 0)
    close_handles (self);

  errno = 0;
  dbf = gdbm_open (path, 0, GDBM_WRITER | GDBM_NOLOCK | GDBM_CLOEXEC, 0666,
                   NULL);
  if (dbf == NULL)
    {
      int ec = gdbm_errno, sys_errno = errno;

      why = describe_gdbm_error (ec, sys_errno);
      if (is_damage (ec) && (dead_writer || has_native_magic (path)))
        {
          if (!reinitialize (self, path, st.st_mode, error))
            return FALSE;
          report_repair (self, path, dead_writer, why, -1, 0);
          return TRUE;
        }
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "dogpile.cache.dbm: cannot open '%s' to repair it: %s",
                   path, why);
      return FALSE;
    }
  if (fstat (gdbm_fdesc (dbf), &fd_st) == 0)
    header = header_is_sane (gdbm_fdesc (dbf), &fd_st, &why);
  if (header != HEADER_SANE)
    {
      force = TRUE;
      if (header == HEADER_BAD_BLOCK_SIZE)
        {
          gdbm_close (dbf);
          if (!reinitialize (self, path, st.st_mode, error))
            return FALSE;
          report_repair (self, path, dead_writer, why, -1, 0);
          return TRUE;
        }
    }
  rc = gdbm_recover (dbf, &rcvr, force ? GDBM_RCVR_FORCE : 0);
  if (rc != 0)
    {
      g_free (why);
      why = describe_gdbm_error (gdbm_last_errno (dbf),
                                 gdbm_last_syserr (dbf));
      gdbm_close (dbf);
      if (!reinitialize (self, path, st.st_mode, error))
        return FALSE;
      report_repair (self, path, dead_writer, why, -1, 0);
      return TRUE;
    }
  /* The recovered file's descriptor carries gdbm's own lock: close it. */
  gdbm_close (dbf);
  /* gdbm's check found nothing wrong: nothing was rebuilt */
  if (rcvr.recovered_buckets == 0 && rcvr.failed_buckets == 0)
    return TRUE;
  if (why == NULL)
    why = g_strdup ("gdbm reported it needs recovery");
  /* a bucket gdbm cannot read loses keys nobody can count */
  report_repair (self, path, dead_writer, why, (gssize) rcvr.recovered_keys,
                 rcvr.failed_keys + rcvr.failed_buckets);
  return TRUE;
}

/* Whatever needs repair, with the write lock held and self->lock taken:
 * the file a dead writer marked (ours or another sharing the lock file),
 * else ours as gdbm judges it. */
static gboolean
recover_locked (DbmFile *self, int lock_fd, GError **error)
{
  DbmMarker marker;
  struct stat identity;
  gboolean ok;

  if (self->rw == NULL)
    return recover_path (self, self->path, NULL, FALSE, error);
  if (!dbm_rw_lock_read_marker (self->rw, lock_fd, &marker, error))
    return FALSE;
  if (!marker.dirty)
    return recover_path (self, self->path, NULL, FALSE, error);
  identity.st_dev = marker.dev;
  identity.st_ino = marker.ino;
  ok = recover_path (self, marker.path, &identity, TRUE, error);
  dbm_marker_clear (&marker);
  return ok && dbm_rw_lock_set_clean (self->rw, lock_fd, error);
}

/* --- locking ---------------------------------------------------------- */

static gboolean
lock_file (DbmFile *self, gboolean exclusive, int *out_fd, GError **error)
{
  *out_fd = -1;
  if (self->rw != NULL)
    return dbm_rw_lock_acquire (self->rw, exclusive, out_fd, error);
  if (exclusive)
    pthread_rwlock_wrlock (&self->local);
  else
    pthread_rwlock_rdlock (&self->local);
  return TRUE;
}

static void
unlock_file (DbmFile *self, int fd)
{
  if (self->rw != NULL)
    dbm_rw_lock_release (self->rw, fd);
  else
    pthread_rwlock_unlock (&self->local);
}

static void
enter (DbmFile *self)
{
  pthread_mutex_lock (&self->lock);
  if (self->inherited)
    {
      /* The parent's handles: their descriptors share its file offsets.
       * No operation was in flight at fork() (a fork hook), so closing them
       * is safe. */
      close_handles (self);
      self->inherited = FALSE;
    }
}

static Step
recover_exclusively (DbmFile *self, GError **error)
{
  int fd;
  gboolean ok;

  if (!lock_file (self, TRUE, &fd, error))
    return STEP_ERROR;
  enter (self);
  ok = recover_locked (self, fd, error);
  pthread_mutex_unlock (&self->lock);
  unlock_file (self, fd);
  return ok ? STEP_OK : STEP_ERROR;
}

/* --- operations ------------------------------------------------------- */

static gboolean
gave_up (DbmFile *self, GError **error)
{
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
               "dogpile.cache.dbm: '%s' still needs recovery after "
               "repairing it",
               self->path);
  return FALSE;
}

static Step
read_once (DbmFile *self, DbmFileFunc func, gpointer user_data, GError **error)
{
  Handle *h = NULL;
  GDBM_FILE dbf = NULL;
  Step step = STEP_OK;
  int fd, ec, sys_errno;
  gboolean ok;

  if (!lock_file (self, FALSE, &fd, error))
    return STEP_ERROR;
  enter (self);
  if (self->reuse)
    {
      h = current_handle (self, FALSE);
      if (h == NULL)
        {
          h = &self->reader;
          step = reopen_handle (self, h, FALSE, fd, error);
        }
      dbf = h->dbf;
    }
  else
    {
      dbf = open_dbf (self, GDBM_READER, FALSE, &ec, &sys_errno);
      if (dbf == NULL)
        step = open_failed (self, fd, ec, sys_errno, FALSE, error);
      else
        {
          struct stat st;

          if (fstat (gdbm_fdesc (dbf), &st) == 0)
            {
              step = check_marker (self, fd, &st, error);
              if (step == STEP_OK && !header_ok (dbf, &st))
                step = STEP_RECOVER;
            }
          if (step == STEP_OK && gdbm_needs_recovery (dbf))
            step = STEP_RECOVER;
        }
    }
  if (step == STEP_OK)
    {
      ok = func (self, dbf, user_data, error);
      if (!ok && gdbm_needs_recovery (dbf))
        {
          g_clear_error (error);
          step = STEP_RECOVER;
          if (h != NULL)
            close_handle (h);
        }
      else if (!ok)
        {
          /* Whatever went wrong, the next operation starts afresh. */
          step = STEP_ERROR;
          if (h != NULL)
            close_handle (h);
        }
    }
  if (!self->reuse && dbf != NULL)
    gdbm_close (dbf);
  pthread_mutex_unlock (&self->lock);
  unlock_file (self, fd);
  return step;
}

gboolean
dbm_file_read (DbmFile *self, DbmFileFunc func, gpointer user_data,
               GError **error)
{
  for (int attempt = 0; attempt < 3; attempt++)
    {
      Step step = read_once (self, func, user_data, error);

      if (step != STEP_RECOVER)
        return step == STEP_OK;
      if (recover_exclusively (self, error) != STEP_OK)
        return FALSE;
    }
  return gave_up (self, error);
}

static Step
write_once (DbmFile *self, DbmFileFunc func, gpointer user_data,
            GError **error)
{
  struct timespec stamp;
  GDBM_FILE dbf = NULL;
  Handle *h = NULL;
  struct stat st;
  Step step = STEP_OK;
  int fd, ec, sys_errno, dbf_fd;
  gboolean ok;

  if (!lock_file (self, TRUE, &fd, error))
    return STEP_ERROR;
  enter (self);

  /* A writer that died left its mark: repair before anything else, even
   * when it was another file sharing this lock file. */
  if (self->rw != NULL)
    {
      DbmMarker marker;

      if (!dbm_rw_lock_read_marker (self->rw, fd, &marker, error))
        step = STEP_ERROR;
      else if (marker.dirty && !recover_locked (self, fd, error))
        step = STEP_ERROR;
      dbm_marker_clear (&marker);
    }

  if (step == STEP_OK && self->reuse)
    {
      h = current_handle (self, TRUE);
      if (h == NULL)
        {
          h = &self->writer;
          step = reopen_handle (self, h, TRUE, fd, error);
        }
      dbf = h->dbf;
    }
  else if (step == STEP_OK)
    {
      dbf = open_dbf (self, GDBM_WRITER, FALSE, &ec, &sys_errno);
      if (dbf == NULL)
        step = open_failed (self, fd, ec, sys_errno, TRUE, error);
      else if (gdbm_needs_recovery (dbf))
        step = STEP_RECOVER;
    }
  if (step == STEP_OK)
    {
      dbf_fd = gdbm_fdesc (dbf);
      if (fstat (dbf_fd, &st) != 0)
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                       "dogpile.cache.dbm: cannot stat '%s': %s", self->path,
                       g_strerror (errno));
          step = STEP_ERROR;
        }
      /* gdbm writes with the header it read at open, so that is the one
       * to check: here for a handle opened for this write, in
       * reopen_handle for a kept one.  A kept handle still current writes
       * with its own copy, checked when read and changed since by gdbm
       * alone (every address it takes is checked against next_block); the
       * copy on disk is only what gdbm wrote from it, and reading it again
       * would cost a quarter of a set. */
      else if (h == NULL && !header_ok (dbf, &st))
        step = STEP_RECOVER;
    }
  if (step == STEP_RECOVER)
    {
      if (dbf != NULL && !self->reuse)
        gdbm_close (dbf);
      dbf = NULL;
      step = recover_locked (self, fd, error) ? STEP_RECOVER : STEP_ERROR;
    }
  if (step != STEP_OK)
    {
      if (dbf != NULL && !self->reuse)
        gdbm_close (dbf);
      pthread_mutex_unlock (&self->lock);
      unlock_file (self, fd);
      return step;
    }

  if (self->rw != NULL
      && !dbm_rw_lock_set_dirty (self->rw, fd, self->path, st.st_dev,
                                 st.st_ino, error))
    step = STEP_ERROR;
  if (step == STEP_OK)
    {
      stamp_change (dbf_fd, &stamp);
      ok = func (self, dbf, user_data, error);
      stamp_change (dbf_fd, &stamp);
      if (!ok)
        {
          /* The file may be half changed: leave the mark, so that the next
           * one to lock it repairs it, and forget our handles. */
          step = STEP_ERROR;
          if (h != NULL)
            close_handles (self);
          else if (self->rw == NULL && gdbm_needs_recovery (dbf))
            {
              g_autoptr (GError) ignored = NULL;

              recover_path (self, self->path, NULL, FALSE, &ignored);
            }
        }
      else
        {
          if (h != NULL)
            {
              h->trusted = fstat (dbf_fd, &h->snap) == 0
                           && stamp.tv_nsec != UTIME_NOW
                           && ts_equal (&h->snap.st_mtim, &stamp);
              if (!h->trusted)
                snapshot_opened (self, h);
            }
          if (self->rw != NULL && !dbm_rw_lock_set_clean (self->rw, fd, error))
            step = STEP_ERROR;
        }
    }
  if (!self->reuse && dbf != NULL)
    gdbm_close (dbf);
  pthread_mutex_unlock (&self->lock);
  unlock_file (self, fd);
  return step;
}

gboolean
dbm_file_write (DbmFile *self, DbmFileFunc func, gpointer user_data,
                GError **error)
{
  for (int attempt = 0; attempt < 3; attempt++)
    {
      Step step = write_once (self, func, user_data, error);

      if (step != STEP_RECOVER)
        return step == STEP_OK;
    }
  return gave_up (self, error);
}

/* --- setup ------------------------------------------------------------ */

static void
file_fork_lock (gpointer data)
{
  DbmFile *self = data;

  pthread_mutex_lock (&self->lock);
}

static void
file_fork_unlock (gpointer data)
{
  DbmFile *self = data;

  pthread_mutex_unlock (&self->lock);
}

static void
file_fork_reset (gpointer data)
{
  DbmFile *self = data;

  self->inherited = TRUE;
  pthread_mutex_unlock (&self->lock);
}

static gboolean
reuse_is_safe_on (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  struct statfs fs;

  if (statfs (dir, &fs) != 0)
    return FALSE;
  switch ((unsigned long) fs.f_type)
    {
    case EXT4_MAGIC:
    case XFS_MAGIC:
    case BTRFS_MAGIC:
    case F2FS_MAGIC: return TRUE;
    default: return FALSE;
    }
}

/* Python's _init_dbm_file: a file made by another dbm module is kept by
 * Python under a suffixed name; we cannot read it. */
static gboolean
check_foreign_files (DbmFile *self, GError **error)
{
  static const char *const suffixes[] = { ".db", ".dat", ".pag", ".dir" };

  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *other = g_strconcat (self->path, suffixes[i], NULL);

      if (g_file_test (other, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                       "dogpile.cache.dbm: '%s' does not exist but '%s' "
                       "does: a file another dbm module (ndbm or dumb) "
                       "wrote; this backend reads GNU dbm files only",
                       self->path, other);
          return FALSE;
        }
    }
  return TRUE;
}

/* Creates the file if it is missing (or empty, which gdbm initialises),
 * under the write lock, unlike Python, which creates it unlocked. */
static gboolean
ensure_exists (DbmFile *self, GError **error)
{
  struct stat st;
  GDBM_FILE dbf;
  int fd, ec, sys_errno;
  gboolean ok = TRUE;

  if (stat (self->path, &st) == 0 && st.st_size > 0)
    return TRUE;
  if (!check_foreign_files (self, error))
    return FALSE;
  if (!lock_file (self, TRUE, &fd, error))
    return FALSE;
  if (stat (self->path, &st) != 0 || st.st_size == 0)
    {
      /* With gdbm's own lock: a Python process creates the file without
       * the lock file, holding only gdbm's lock; wait for it a little. */
      for (int attempt = 0;; attempt++)
        {
          errno = 0;
          dbf = gdbm_open (self->path, 0, GDBM_WRCREAT | GDBM_CLOEXEC, 0666,
                           NULL);
          ec = gdbm_errno;
          sys_errno = errno;
          if (dbf != NULL || ec != GDBM_CANT_BE_WRITER || attempt == 100)
            break;
          g_usleep (10000);
        }
      if (dbf == NULL)
        {
          g_autofree char *why = describe_gdbm_error (ec, sys_errno);

          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                       "dogpile.cache.dbm: cannot create '%s': %s", self->path,
                       why);
          ok = FALSE;
        }
      else
        gdbm_close (dbf);
    }
  unlock_file (self, fd);
  return ok;
}

static gboolean
nothing (DbmFile *file, GDBM_FILE dbf, gpointer user_data, GError **error)
{
  return TRUE;
}

DbmFile *
dbm_file_new (const char *path, const char *rw_lock_path, DbmReuse reuse,
              GError **error)
{
  DbmFile *self = g_new0 (DbmFile, 1);
  pthread_mutexattr_t attr;

  self->path = g_strdup (path);
  /* Held for a microsecond or two: spinning briefly beats sleeping. */
  pthread_mutexattr_init (&attr);
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
  pthread_mutexattr_settype (&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
  pthread_mutex_init (&self->lock, &attr);
  pthread_mutexattr_destroy (&attr);
  pthread_rwlock_init (&self->local, NULL);
  clock_getres (CLOCK_REALTIME_COARSE, &self->resolution);
  self->fork_hook.lock = file_fork_lock;
  self->fork_hook.unlock = file_fork_unlock;
  self->fork_hook.reset = file_fork_reset;
  self->fork_hook.data = self;
  dbm_fork_hook_add (&self->fork_hook);

  /* Without the lock file nothing excludes other processes between our
   * operations, so nothing may be kept open across them. */
  self->reuse = rw_lock_path != NULL
                && (reuse == DBM_REUSE_ALWAYS
                    || (reuse == DBM_REUSE_AUTO && reuse_is_safe_on (path)));
  if (rw_lock_path != NULL)
    {
      self->rw = dbm_rw_lock_new (rw_lock_path, error);
      if (self->rw == NULL)
        {
          dbm_file_free (self);
          return NULL;
        }
    }
  /* Create the file if needed, then open it once: a file that is not a
   * gdbm file or cannot be read fails here; a damaged one is repaired or
   * replaced here. */
  if (!ensure_exists (self, error)
      || !dbm_file_read (self, nothing, NULL, error))
    {
      dbm_file_free (self);
      return NULL;
    }
  return self;
}

void
dbm_file_free (DbmFile *self)
{
  if (self == NULL)
    return;
  dbm_fork_hook_remove (&self->fork_hook);
  if (self->inherited)
    self->inherited = FALSE;
  close_handles (self);
  dbm_rw_lock_free (self->rw);
  pthread_rwlock_destroy (&self->local);
  pthread_mutex_destroy (&self->lock);
  g_free (self->path);
  g_free (self);
}

const char *
dbm_file_get_path (DbmFile *self)
{
  return self->path;
}

gboolean
dbm_file_get_reuses_handles (DbmFile *self)
{
  return self->reuse;
}

guint64
dbm_file_get_repairs (DbmFile *self)
{
  guint64 repairs;

  pthread_mutex_lock (&self->lock);
  repairs = self->repairs;
  pthread_mutex_unlock (&self->lock);
  return repairs;
}
