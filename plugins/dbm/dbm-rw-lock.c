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
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define POOL_MAX 16
/* The longest marker: its fields take at most 50 bytes, and a path open(2)
 * takes is shorter than PATH_MAX. */
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

/* Parses the decimal number at *@p followed by one space, moving *@p past
 * both. */
static gboolean
parse_field (const char **p, uintmax_t *out)
{
  char *end;

  if (!g_ascii_isdigit (**p))
    return FALSE;
  errno = 0;
  *out = strtoumax (*p, &end, 10);
  if (errno != 0 || *end != ' ')
    return FALSE;
  *p = end + 1;
  return TRUE;
}

/* The marker while a write is in progress, at offset 0:
 *
 *   "D2 <dev> <ino> <length> <path>\n"   <path> is exactly <length> bytes,
 *                                       whatever they are (a newline too)
 *   "D <dev> <ino> <path>\n"             written by versions before the
 *                                       length; the path ends at the first
 *                                       newline (still read, never written)
 *
 * Anything else (an empty file, Python's, "C..." after a clean write,
 * something cut short) means clean.  Bytes after the marker are what a
 * longer marker left there: never read. */
gboolean
dbm_rw_lock_read_marker (DbmRwLock *self, int fd, DbmMarker *out_marker,
                         GError **error)
{
  g_autofree char *buf = g_malloc (MARKER_MAX + 1);
  uintmax_t dev, ino, length;
  gsize have;
  const char *p, *path;
  gsize path_len;
  ssize_t n;

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
  have = (gsize) n;
  if (have < 2 || buf[0] != 'D')
    return TRUE;
  if (buf[1] == ' ')
    {
      /* the older form */
      const char *nl;

      p = buf + 2;
      if (!parse_field (&p, &dev) || !parse_field (&p, &ino))
        return TRUE;
      nl = memchr (p, '\n', have - (gsize) (p - buf));
      if (nl == NULL || nl == p)
        return TRUE;
      path = p;
      path_len = (gsize) (nl - p);
    }
  else if (buf[1] == '2' && have > 2 && buf[2] == ' ')
    {
      p = buf + 3;
      if (!parse_field (&p, &dev) || !parse_field (&p, &ino)
          || !parse_field (&p, &length) || length == 0 || length > PATH_MAX)
        return TRUE;
      path_len = (gsize) length;
      /* a marker cut short, or longer than any we write */
      if (path_len >= have - (gsize) (p - buf))
        return TRUE;
      path = p;
      /* a file name holds no NUL, and the marker ends where it says */
      if (path[path_len] != '\n' || memchr (path, '\0', path_len) != NULL)
        return TRUE;
    }
  else
    return TRUE;
  out_marker->dirty = TRUE;
  out_marker->dev = (dev_t) dev;
  out_marker->ino = (ino_t) ino;
  out_marker->path = g_strndup (path, path_len);
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

/* Writes "D2 <dev> <ino> <length> <path>\n" (see dbm_rw_lock_read_marker):
 * the path's length first, so that any file name survives. */
gboolean
dbm_rw_lock_set_dirty (DbmRwLock *self, int fd, const char *path, dev_t dev,
                       ino_t ino, GError **error)
{
  gsize path_len = strlen (path);
  g_autoptr (GString) record = g_string_sized_new (64 + path_len);

  /* (gdbm could not have opened it) */
  if (path_len >= PATH_MAX)
    {
      set_errno_error (error, ENAMETOOLONG, "cannot mark a write to", path);
      return FALSE;
    }
  g_string_printf (record, "D2 %ju %ju %" G_GSIZE_FORMAT " ", (uintmax_t) dev,
                   (uintmax_t) ino, path_len);
  g_string_append_len (record, path, (gssize) path_len);
  g_string_append_c (record, '\n');
  return write_all_at (self, fd, record->str, record->len, error);
}

gboolean
dbm_rw_lock_set_clean (DbmRwLock *self, int fd, GError **error)
{
  return write_all_at (self, fd, "C", 1, error);
}
