/* dbm-dogpile-lock.c: the dogpile lock of a dbm file (spec 2.3, 2.5).
 *
 * dogpile.cache serialises value creation with one flock(LOCK_EX) on
 * `<file>.dogpile.lock` for the whole file, taken through a FileLock whose
 * descriptor belongs to the thread (O_WRONLY | O_CREAT, mode 0777 & ~umask,
 * LOCK_NB when the caller does not wait), and wraps it in
 * KeyReentrantMutex so that one thread may hold several keys: a creator
 * calling get_or_create for another key, and get_or_create_multi holding
 * many, must not deadlock on their own flock.
 *
 * KeyReentrantMutex, exactly (util/langhelpers.py):
 *  - acquire: if this thread holds the file lock and not this key, add the
 *    key and succeed without touching the lock; otherwise take the lock
 *    (blocking or not) and record the key;
 *  - release: fails unless this thread holds this key ("this thread didn't
 *    do the acquire", "No acquire held for key '...'"); the last key
 *    released unlocks the file;
 *  - locked: whether the calling thread holds this key.
 * Two differences: waiting for a key this thread already holds would wait
 * for itself forever (Python does); here it is an error.  And backends on
 * the same dogpile lock file share one key store in a process (below).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dbm-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

typedef struct {
  pthread_t thread;
  int fd;           /* holds flock(LOCK_EX) on the dogpile lock file */
  GHashTable *keys; /* the keys this thread holds */
} Holder;

struct DbmKeyStore {
  gint ref_count; /* under stores_lock */
  char *path;
  pthread_mutex_t lock;
  GPtrArray *holders; /* Holder *; one per thread holding keys */
  DbmForkHook fork_hook;
};

typedef struct {
  DbmKeyStore *store;
  char *key;
} KeyMutex;

static void
holder_free (gpointer data)
{
  Holder *h = data;

  g_hash_table_unref (h->keys);
  g_free (h);
}

/* Called with store->lock held. */
static Holder *
find_holder (DbmKeyStore *store, pthread_t thread, guint *out_index)
{
  for (guint i = 0; i < store->holders->len; i++)
    {
      Holder *h = g_ptr_array_index (store->holders, i);

      if (pthread_equal (h->thread, thread))
        {
          if (out_index != NULL)
            *out_index = i;
          return h;
        }
    }
  return NULL;
}

static void
store_fork_lock (gpointer data)
{
  DbmKeyStore *store = data;

  pthread_mutex_lock (&store->lock);
}

static void
store_fork_unlock (gpointer data)
{
  DbmKeyStore *store = data;

  pthread_mutex_unlock (&store->lock);
}

/* In the child nobody holds anything: the holders' threads are gone (or,
 * for the forking thread, hold the lock through a description shared with
 * the parent, which an unlock here would release for the parent too). */
static void
store_fork_reset (gpointer data)
{
  DbmKeyStore *store = data;

  for (guint i = 0; i < store->holders->len; i++)
    {
      Holder *h = g_ptr_array_index (store->holders, i);

      close (h->fd);
    }
  g_ptr_array_set_size (store->holders, 0);
  pthread_mutex_unlock (&store->lock);
}

/* One key store per dogpile lock file in a process: two regions on one
 * file then share the thread's hold, so a creator of one calling
 * get_or_create on the other does not wait for its own lock (Python keeps
 * a store per backend, and waits forever there). */
static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *stores; /* lock path -> DbmKeyStore (not a reference) */
static pthread_once_t stores_once = PTHREAD_ONCE_INIT;

static void
stores_fork_lock (gpointer data)
{
  pthread_mutex_lock (&stores_lock);
}

static void
stores_fork_unlock (gpointer data)
{
  pthread_mutex_unlock (&stores_lock);
}

static DbmForkHook stores_hook = {
  .lock = stores_fork_lock,
  .unlock = stores_fork_unlock,
  .reset = stores_fork_unlock,
};

static void
register_stores_hook (void)
{
  dbm_fork_hook_add (&stores_hook);
}

DbmKeyStore *
dbm_key_store_new (const char *lock_path)
{
  DbmKeyStore *store;

  pthread_once (&stores_once, register_stores_hook);
  pthread_mutex_lock (&stores_lock);
  if (stores == NULL)
    stores = g_hash_table_new (g_str_hash, g_str_equal);
  store = g_hash_table_lookup (stores, lock_path);
  if (store != NULL)
    {
      store->ref_count++;
      pthread_mutex_unlock (&stores_lock);
      return store;
    }
  store = g_new0 (DbmKeyStore, 1);
  store->ref_count = 1;
  store->path = g_strdup (lock_path);
  pthread_mutex_init (&store->lock, NULL);
  store->holders = g_ptr_array_new_with_free_func (holder_free);
  store->fork_hook.lock = store_fork_lock;
  store->fork_hook.unlock = store_fork_unlock;
  store->fork_hook.reset = store_fork_reset;
  store->fork_hook.data = store;
  g_hash_table_insert (stores, store->path, store);
  pthread_mutex_unlock (&stores_lock);
  dbm_fork_hook_add (&store->fork_hook);
  return store;
}

DbmKeyStore *
dbm_key_store_ref (DbmKeyStore *self)
{
  pthread_mutex_lock (&stores_lock);
  self->ref_count++;
  pthread_mutex_unlock (&stores_lock);
  return self;
}

void
dbm_key_store_unref (DbmKeyStore *self)
{
  pthread_mutex_lock (&stores_lock);
  if (--self->ref_count > 0)
    {
      pthread_mutex_unlock (&stores_lock);
      return;
    }
  g_hash_table_remove (stores, self->path);
  if (g_hash_table_size (stores) == 0)
    g_clear_pointer (&stores, g_hash_table_unref);
  pthread_mutex_unlock (&stores_lock);
  dbm_fork_hook_remove (&self->fork_hook);
  /* Keys still held when the last mutex goes: the threads never released
   * them; closing drops the flock. */
  for (guint i = 0; i < self->holders->len; i++)
    {
      Holder *h = g_ptr_array_index (self->holders, i);

      close (h->fd);
    }
  g_ptr_array_unref (self->holders);
  pthread_mutex_destroy (&self->lock);
  g_free (self->path);
  g_free (self);
}

static gboolean
lock_file_error (GError **error, int saved_errno, const char *what,
                 const char *path)
{
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK,
               "dogpile.cache.dbm: %s '%s': %s", what, path,
               g_strerror (saved_errno));
  return FALSE;
}

static gboolean
key_mutex_acquire (gpointer user_data, gboolean wait, gboolean *out_acquired,
                   GError **error)
{
  KeyMutex *m = user_data;
  DbmKeyStore *store = m->store;
  pthread_t self = pthread_self ();
  Holder *h;
  int fd, rc;

  *out_acquired = FALSE;
  pthread_mutex_lock (&store->lock);
  h = find_holder (store, self, NULL);
  if (h != NULL)
    {
      gboolean added = g_hash_table_add (h->keys, g_strdup (m->key));

      pthread_mutex_unlock (&store->lock);
      if (added || !wait)
        {
          /* A new key rides on the lock this thread has; the same key
           * again is "not acquired" (Python's LOCK_NB attempt fails on the
           * thread's own lock). */
          *out_acquired = added;
          return TRUE;
        }
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK,
                   "dogpile.cache.dbm: this thread already holds the dogpile "
                   "lock for key '%s'; waiting for it would never end",
                   m->key);
      return FALSE;
    }
  pthread_mutex_unlock (&store->lock);

  do
    fd = open (store->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0777);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return lock_file_error (error, errno, "cannot open the dogpile lock file",
                            store->path);
  do
    rc = flock (fd, LOCK_EX | (wait ? 0 : LOCK_NB));
  while (rc != 0 && errno == EINTR);
  if (rc != 0)
    {
      int saved = errno;

      close (fd);
      if (!wait && saved == EWOULDBLOCK)
        return TRUE;
      return lock_file_error (error, saved, "cannot lock", store->path);
    }

  h = g_new0 (Holder, 1);
  h->thread = self;
  h->fd = fd;
  h->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_add (h->keys, g_strdup (m->key));
  pthread_mutex_lock (&store->lock);
  g_ptr_array_add (store->holders, h);
  pthread_mutex_unlock (&store->lock);
  *out_acquired = TRUE;
  return TRUE;
}

static gboolean
key_mutex_release (gpointer user_data, GError **error)
{
  KeyMutex *m = user_data;
  DbmKeyStore *store = m->store;
  Holder *h;
  guint index = 0;
  int fd = -1;

  pthread_mutex_lock (&store->lock);
  h = find_holder (store, pthread_self (), &index);
  if (h == NULL)
    {
      pthread_mutex_unlock (&store->lock);
      g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK,
                           "this thread didn't do the acquire");
      return FALSE;
    }
  if (!g_hash_table_remove (h->keys, m->key))
    {
      pthread_mutex_unlock (&store->lock);
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK,
                   "No acquire held for key '%s'", m->key);
      return FALSE;
    }
  if (g_hash_table_size (h->keys) == 0)
    {
      fd = h->fd;
      g_ptr_array_remove_index_fast (store->holders, index);
    }
  pthread_mutex_unlock (&store->lock);
  if (fd >= 0)
    {
      flock (fd, LOCK_UN);
      close (fd);
    }
  return TRUE;
}

static gboolean
key_mutex_locked (gpointer user_data, gboolean *out_locked, GError **error)
{
  KeyMutex *m = user_data;
  DbmKeyStore *store = m->store;
  Holder *h;

  pthread_mutex_lock (&store->lock);
  h = find_holder (store, pthread_self (), NULL);
  *out_locked = h != NULL && g_hash_table_contains (h->keys, m->key);
  pthread_mutex_unlock (&store->lock);
  return TRUE;
}

static void
key_mutex_free (gpointer user_data)
{
  KeyMutex *m = user_data;

  dbm_key_store_unref (m->store);
  g_free (m->key);
  g_free (m);
}

static const DogpileMutexFuncs key_mutex_funcs = {
  .acquire = key_mutex_acquire,
  .release = key_mutex_release,
  .locked = key_mutex_locked,
};

DogpileMutex *
dbm_key_mutex_new (DbmKeyStore *store, const char *key)
{
  KeyMutex *m = g_new0 (KeyMutex, 1);

  m->store = dbm_key_store_ref (store);
  m->key = g_strdup (key);
  return dogpile_mutex_new (&key_mutex_funcs, m, key_mutex_free);
}
