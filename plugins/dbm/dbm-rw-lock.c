/* dbm-rw-lock.c: the read/write lock file, as Python's FileLock.
 *
 * Python opens `<file>.rw.lock` (O_CREAT, mode 0777 & ~umask) for every
 * operation, takes flock(LOCK_SH) to read or flock(LOCK_EX) to write, and
 * closes it afterwards; the file is never deleted.  flock belongs to the
 * open file description, so each operation in flight needs a descriptor of
 * its own; any process that flocks the same path takes part.
 *
 * Here a descriptor goes back to a small pool after the operation instead
 * of being closed (half the cost of a cached get).  A pooled descriptor is
 * checked before use: if its file was deleted (st_nlink 0) it is replaced,
 * so a lock file recreated by someone else is the one we lock.  Children
 * of fork() close the pool they inherit (a fork hook, dbm-private.h).
 *
 * The first bytes of the lock file carry the write-in-progress marker
 * (see dbm-handle.c); Python never reads or writes the lock file's
 * contents, so it is unaffected.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dbm-private.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#define POOL_MAX 16
#define MARKER_MAX (64 + PATH_MAX)

struct DbmRwLock {
  char *path;
  gboolean writable; /* descriptors are O_RDWR; else O_RDONLY */
  pthread_mutex_t pool_lock;
  int pool[POOL_MAX];
  guint n_pool;
  DbmForkHook fork_hook;
};

static void
rw_lock_fork_lock (gpointer data)
{
  DbmRwLock *self = data;

  pthread_mutex_lock (&self->pool_lock);
}

static void
rw_lock_fork_unlock (gpointer data)
{
  DbmRwLock *self = data;

  pthread_mutex_unlock (&self->pool_lock);
}

/* In the child: the pooled descriptors share their open file descriptions
 * (and so their locks) with the parent.  Closing ours leaves the parent's
 * locks alone. */
static void
rw_lock_fork_reset (gpointer data)
{
  DbmRwLock *self = data;

  for (guint i = 0; i < self->n_pool; i++)
    close (self->pool[i]);
  self->n_pool = 0;
  pthread_mutex_unlock (&self->pool_lock);
}

static int
open_lock_file (DbmRwLock *self)
{
  int flags = (self->writable ? O_RDWR : O_RDONLY) | O_CREAT | O_CLOEXEC;
  int fd;

  do
    fd = open (self->path, flags, 0777);
  while (fd < 0 && errno == EINTR);
  return fd;
}

static void
set_errno_error (GError **error, int saved_errno, const char *what,
                 const char *path)
{
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
               "dogpile.cache.dbm: %s '%s': %s", what, path,
               g_strerror (saved_errno));
}

/* Opens (creating it if needed) the lock file at @path.  A lock file we
 * may only read still serves readers; writing then fails the way Python's
 * O_WRONLY open does. */
DbmRwLock *
dbm_rw_lock_new (const char *path, GError **error)
{
  DbmRwLock *self = g_new0 (DbmRwLock, 1);
  int fd;

  self->path = g_strdup (path);
  self->writable = TRUE;
  fd = open_lock_file (self);
  if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM))
    {
      self->writable = FALSE;
      fd = open_lock_file (self);
    }
  if (fd < 0)
    {
      set_errno_error (error, errno, "cannot open or create the lock file",
                       path);
      g_free (self->path);
      g_free (self);
      return NULL;
    }
  pthread_mutex_init (&self->pool_lock, NULL);
  self->pool[self->n_pool++] = fd;
  self->fork_hook.lock = rw_lock_fork_lock;
  self->fork_hook.unlock = rw_lock_fork_unlock;
  self->fork_hook.reset = rw_lock_fork_reset;
  self->fork_hook.data = self;
  dbm_fork_hook_add (&self->fork_hook);
  return self;
}

void
dbm_rw_lock_free (DbmRwLock *self)
{
  if (self == NULL)
    return;
  dbm_fork_hook_remove (&self->fork_hook);
  for (guint i = 0; i < self->n_pool; i++)
    close (self->pool[i]);
  pthread_mutex_destroy (&self->pool_lock);
  g_free (self->path);
  g_free (self);
}

const char *
dbm_rw_lock_get_path (DbmRwLock *self)
{
  return self->path;
}

/* A descriptor for one operation: from the pool unless its file has been
 * deleted meanwhile. */
static int
take_fd (DbmRwLock *self)
{
  int fd = -1;
  struct stat st;

  pthread_mutex_lock (&self->pool_lock);
  if (self->n_pool > 0)
    fd = self->pool[--self->n_pool];
  pthread_mutex_unlock (&self->pool_lock);
  if (fd >= 0 && fstat (fd, &st) == 0 && st.st_nlink > 0)
    return fd;
  if (fd >= 0)
    close (fd);
  return open_lock_file (self);
}

gboolean
dbm_rw_lock_acquire (DbmRwLock *self, gboolean exclusive, int *out_fd,
                     GError **error)
{
  int fd, rc;

  *out_fd = -1;
  if (exclusive && !self->writable)
    {
      set_errno_error (error, EACCES, "cannot lock for writing", self->path);
      return FALSE;
    }
  fd = take_fd (self);
  if (fd < 0)
    {
      set_errno_error (error, errno, "cannot open the lock file", self->path);
      return FALSE;
    }
  do
    rc = flock (fd, exclusive ? LOCK_EX : LOCK_SH);
  while (rc != 0 && errno == EINTR);
  if (rc != 0)
    {
      int saved = errno;

      close (fd);
      set_errno_error (error, saved, "cannot lock", self->path);
      return FALSE;
    }
  *out_fd = fd;
  return TRUE;
}

void
dbm_rw_lock_release (DbmRwLock *self, int fd)
{
  if (fd < 0)
    return;
  flock (fd, LOCK_UN);
  pthread_mutex_lock (&self->pool_lock);
  if (self->n_pool < POOL_MAX)
    {
      self->pool[self->n_pool++] = fd;
      fd = -1;
    }
  pthread_mutex_unlock (&self->pool_lock);
  if (fd >= 0)
    close (fd);
}

void
dbm_marker_clear (DbmMarker *marker)
{
  g_clear_pointer (&marker->path, g_free);
  marker->dirty = FALSE;
}

/* The marker is "D <dev> <ino> <path>\n" while a write is in progress;
 * anything else (an empty file, Python's, "C") means clean. */
gboolean
dbm_rw_lock_read_marker (DbmRwLock *self, int fd, DbmMarker *out_marker,
                         GError **error)
{
  g_autofree char *buf = g_malloc (MARKER_MAX + 1);
  uintmax_t dev, ino;
  ssize_t n;
  char *end, *p, *nl;

  memset (out_marker, 0, sizeof *out_marker);
  do
    n = pread (fd, buf, MARKER_MAX, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      set_errno_error (error, errno, "cannot read the lock file", self->path);
      return FALSE;
    }
  buf[n] = '\0';
  if (n < 2 || buf[0] != 'D' || buf[1] != ' ')
    return TRUE;
  p = buf + 2;
  dev = strtoumax (p, &end, 10);
  if (end == p || *end != ' ')
    return TRUE;
  p = end + 1;
  ino = strtoumax (p, &end, 10);
  if (end == p || *end != ' ')
    return TRUE;
  p = end + 1;
  nl = strchr (p, '\n');
  if (nl == NULL || nl == p)
    return TRUE;
  out_marker->dirty = TRUE;
  out_marker->dev = (dev_t) dev;
  out_marker->ino = (ino_t) ino;
  out_marker->path = g_strndup (p, (gsize) (nl - p));
  return TRUE;
}

static gboolean
write_all_at (DbmRwLock *self, int fd, const char *data, gsize len,
              GError **error)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = pwrite (fd, data + done, len - done, (off_t) done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          set_errno_error (error, n < 0 ? errno : EIO,
                           "cannot write to the lock file", self->path);
          return FALSE;
        }
      done += (gsize) n;
    }
  return TRUE;
}

gboolean
dbm_rw_lock_set_dirty (DbmRwLock *self, int fd, const char *path, dev_t dev,
                       ino_t ino, GError **error)
{
  g_autofree char *record = g_strdup_printf ("D %ju %ju %s\n", (uintmax_t) dev,
                                             (uintmax_t) ino, path);

  return write_all_at (self, fd, record, strlen (record), error);
}

gboolean
dbm_rw_lock_set_clean (DbmRwLock *self, int fd, GError **error)
{
  return write_all_at (self, fd, "C", 1, error);
}
