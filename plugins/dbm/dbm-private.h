/* dbm-private.h: the pieces of dogpile.cache.dbm, shared between its files.
 *
 *  dbm-rw-lock.c   the read/write lock file (flock, Python's FileLock) and
 *                  the write-in-progress marker kept in it
 *  dbm-dogpile-lock.c dogpile's KeyReentrantMutex over the dogpile lock file
 *  dbm-handle.c    the gdbm file: kept handles, their validation, recovery
 *  dogpile-dbm.c   arguments, the descriptor and the operations
 *
 * Nothing here is exported: the module shows only its descriptor function.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <pthread.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <gdbm.h>

#include <dogpile/dogpile-plugin.h>

G_BEGIN_DECLS

/* --- fork ------------------------------------------------------------ */

/* An object with locks and process-bound state (flock descriptors, gdbm
 * handles), on the core's fork hooks (dogpile-fork.h).  flock belongs to
 * the open file description, which fork() shares: a child that unlocked
 * an inherited descriptor would unlock its parent.  So around fork():
 * lock() takes the object's locks so no operation is half done, unlock()
 * releases them in the parent, and reset() makes the child forget what it
 * inherited and releases them there. */
typedef struct DbmForkHook DbmForkHook;
struct DbmForkHook {
  void (*lock) (gpointer data);
  void (*unlock) (gpointer data);
  void (*reset) (gpointer data);
  gpointer data;
  DogpileForkHook *registered; /* while added */
};

static inline void
dbm_fork_hook_add (DbmForkHook *hook)
{
  hook->registered = dogpile_fork_hook_add (hook->lock, hook->unlock,
                                            hook->reset, hook->data);
}

static inline void
dbm_fork_hook_remove (DbmForkHook *hook)
{
  dogpile_fork_hook_remove (hook->registered);
  hook->registered = NULL;
}

/* --- dbm-rw-lock.c ----------------------------------------------------- */

/* The lock file around every access to the gdbm file, as Python's
 * FileLock: flock LOCK_SH to read, LOCK_EX to write, on a descriptor no
 * other thread uses at that moment.  Idle descriptors are kept for reuse. */
typedef struct DbmRwLock DbmRwLock;

DbmRwLock *dbm_rw_lock_new (const char *path, GError **error);
void dbm_rw_lock_free (DbmRwLock *self);
const char *dbm_rw_lock_get_path (DbmRwLock *self);
gboolean dbm_rw_lock_acquire (DbmRwLock *self, gboolean exclusive, int *out_fd,
                              GError **error);
void dbm_rw_lock_release (DbmRwLock *self, int fd);

/* The write-in-progress marker at the start of the lock file: a writer
 * sets it (naming the gdbm file) before it changes the file and clears it
 * afterwards, so whoever takes the lock next knows a writer died in the
 * middle.  @fd is a descriptor dbm_rw_lock_acquire() returned. */
typedef struct {
  gboolean dirty;
  dev_t dev;
  ino_t ino;
  char *path; /* (nullable) the file the dead writer was changing */
} DbmMarker;

void dbm_marker_clear (DbmMarker *marker);
gboolean dbm_rw_lock_read_marker (DbmRwLock *self, int fd,
                                  DbmMarker *out_marker, GError **error);
gboolean dbm_rw_lock_set_dirty (DbmRwLock *self, int fd, const char *path,
                                dev_t dev, ino_t ino, GError **error);
gboolean dbm_rw_lock_set_clean (DbmRwLock *self, int fd, GError **error);

/* --- dbm-dogpile-lock.c ----------------------------------------------- */

/* dogpile's KeyReentrantMutex around one flock on the dogpile lock file:
 * shared by every key of a backend and by the mutexes handed out. */
typedef struct DbmKeyStore DbmKeyStore;

DbmKeyStore *dbm_key_store_new (const char *lock_path);
DbmKeyStore *dbm_key_store_ref (DbmKeyStore *self);
void dbm_key_store_unref (DbmKeyStore *self);
/* (transfer full) */
DogpileMutex *dbm_key_mutex_new (DbmKeyStore *store, const char *key);

/* --- dbm-handle.c ---------------------------------------------------- */

typedef enum {
  DBM_REUSE_AUTO, /* keep handles where the filesystem allows it */
  DBM_REUSE_ALWAYS,
  DBM_REUSE_NEVER, /* Python's way: open and close for every operation */
} DbmReuse;

typedef struct DbmFile DbmFile;

/* What runs with the file open: under the shared lock for reads, the
 * exclusive one for writes.  Failures of gdbm are reported through
 * dbm_file_gdbm_error() so the caller learns whether the file needs
 * recovery. */
typedef gboolean (*DbmFileFunc) (DbmFile *file, GDBM_FILE dbf,
                                 gpointer user_data, GError **error);

DbmFile *dbm_file_new (const char *path, const char *rw_lock_path,
                       DbmReuse reuse, GError **error);
void dbm_file_free (DbmFile *self);
const char *dbm_file_get_path (DbmFile *self);
gboolean dbm_file_get_reuses_handles (DbmFile *self);
/* How many times this file (or another sharing its lock file) was repaired
 * or replaced through @self. */
guint64 dbm_file_get_repairs (DbmFile *self);
gboolean dbm_file_read (DbmFile *self, DbmFileFunc func, gpointer user_data,
                        GError **error);
gboolean dbm_file_write (DbmFile *self, DbmFileFunc func, gpointer user_data,
                         GError **error);
/* Sets @error for a failed gdbm call on @dbf: "<what> '<file>': <gdbm
 * message> (<system message>)". */
void dbm_file_gdbm_error (DbmFile *self, GDBM_FILE dbf, GError **error,
                          const char *what);

/* Whether a snapshot of a file's state may be compared later: the racy
 * rule, exposed for the tests.  @now is CLOCK_REALTIME when the snapshot
 * was taken under the lock. */
gboolean dbm_snapshot_is_trusted (const struct timespec *mtime,
                                  const struct timespec *ctime,
                                  const struct timespec *now,
                                  const struct timespec *resolution);

G_END_DECLS
