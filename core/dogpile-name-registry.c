/* dogpile-name-registry.c: one live mutex per name (dogpile's NameRegistry).
 *
 * Every concurrent caller asking for a name gets the same mutex; once the
 * last of them drops it, the entry goes, so the registry never grows with
 * the number of names ever seen (Python gets this from a
 * WeakValueDictionary).  What callers hold is a wrapper around the created
 * mutex whose last unref removes the entry.  A lookup racing that last
 * unref must not revive a dying wrapper: it takes a reference only while
 * the count is above zero, and otherwise puts a fresh entry in its place.
 *
 * The locks are pthread mutexes, not GMutex, so ThreadSanitizer sees them.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

#include <pthread.h>

#define N_SHARDS 16

typedef struct {
  pthread_mutex_t lock;
  GHashTable *entries; /* name -> Entry*, not owned */
} __attribute__ ((aligned (64))) Shard;

struct DogpileNameRegistry {
  gint ref_count;
  Shard shards[N_SHARDS];
  DogpileNameRegistryCreateFunc create;
  gpointer user_data;
  GDestroyNotify destroy;
  DogpileForkHook *fork_hook;
};

/* A shard's lock is held while the backend makes a key's mutex: taken
 * before fork() so no entry is half made (the outer tier). */
static void
fork_prepare (gpointer data)
{
  DogpileNameRegistry *self = data;

  for (int i = 0; i < N_SHARDS; i++)
    pthread_mutex_lock (&self->shards[i].lock);
}

static void
fork_release (gpointer data)
{
  DogpileNameRegistry *self = data;

  for (int i = N_SHARDS - 1; i >= 0; i--)
    pthread_mutex_unlock (&self->shards[i].lock);
}

typedef struct {
  DogpileNameRegistry *registry; /* a reference: entries may outlive users */
  Shard *shard;
  char *name;
  DogpileMutex *inner;
  DogpileMutex *self; /* the wrapper handed out */
} Entry;

static gboolean
entry_acquire (gpointer data, gboolean wait, gboolean *out_acquired,
               GError **error)
{
  return dogpile_mutex_acquire (((Entry *) data)->inner, wait, out_acquired,
                                error);
}

static gboolean
entry_release (gpointer data, GError **error)
{
  return dogpile_mutex_release (((Entry *) data)->inner, error);
}

static gboolean
entry_locked (gpointer data, gboolean *out_locked, GError **error)
{
  return dogpile_mutex_locked (((Entry *) data)->inner, out_locked, error);
}

static const DogpileMutexFuncs entry_funcs = {
  .acquire = entry_acquire,
  .release = entry_release,
  .locked = entry_locked,
};

/* The mutex a registry entry wraps, for the owner bookkeeping of the
 * core's local mutexes; NULL for any other mutex. */
DogpileMutex *
dogpile__name_registry_inner (DogpileMutex *mutex)
{
  if (dogpile__mutex_get_funcs (mutex) != &entry_funcs)
    return NULL;
  return ((Entry *) dogpile__mutex_get_user_data (mutex))->inner;
}

/* Runs when the last user drops the wrapper. */
static void
entry_free (gpointer data)
{
  Entry *entry = data;

  pthread_mutex_lock (&entry->shard->lock);
  /* A lookup may already have put a fresh entry under this name. */
  if (g_hash_table_lookup (entry->shard->entries, entry->name) == entry)
    g_hash_table_remove (entry->shard->entries, entry->name);
  pthread_mutex_unlock (&entry->shard->lock);
  dogpile_mutex_unref (entry->inner);
  dogpile_name_registry_unref (entry->registry);
  g_free (entry->name);
  g_free (entry);
}

/**
 * dogpile_name_registry_new:
 * @create: (scope notified): makes the mutex for a name with no live one
 * @user_data: (closure): passed to @create
 * @destroy: (nullable): frees @user_data when the registry is freed
 *
 * dogpile.util.NameRegistry(creator).  The registry registers a fork hook
 * for its locks, removed when it is freed.
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full): a new, empty registry
 */
DogpileNameRegistry *
dogpile_name_registry_new (DogpileNameRegistryCreateFunc create,
                           gpointer user_data, GDestroyNotify destroy)
{
  DogpileNameRegistry *self;

  g_return_val_if_fail (create != NULL, NULL);

  self = g_new0 (DogpileNameRegistry, 1);
  self->ref_count = 1;
  self->create = create;
  self->user_data = user_data;
  self->destroy = destroy;
  for (int i = 0; i < N_SHARDS; i++)
    {
      pthread_mutex_init (&self->shards[i].lock, NULL);
      self->shards[i].entries = g_hash_table_new (g_str_hash, g_str_equal);
    }
  dogpile__mutex_fork_init ();
  self->fork_hook = dogpile__fork_hook_add (DOGPILE__FORK_OUTER, fork_prepare,
                                            fork_release, fork_release, self);
  return self;
}

/**
 * dogpile_name_registry_ref:
 * @self: a registry
 *
 * Takes a reference to @self.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full): @self
 */
DogpileNameRegistry *
dogpile_name_registry_ref (DogpileNameRegistry *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

/**
 * dogpile_name_registry_unref:
 * @self: (transfer full): a registry
 *
 * Drops a reference.  Mutexes handed out stay valid: each keeps the
 * registry alive, so it is freed (with @create's user data) once the last
 * of them and the last reference are gone.
 *
 * Thread safety: any thread; the last unref must not race a call on @self.
 */
void
dogpile_name_registry_unref (DogpileNameRegistry *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  dogpile_fork_hook_remove (self->fork_hook);
  for (int i = 0; i < N_SHARDS; i++)
    {
      g_hash_table_unref (self->shards[i].entries);
      pthread_mutex_destroy (&self->shards[i].lock);
    }
  if (self->destroy != NULL)
    self->destroy (self->user_data);
  g_free (self);
}

/**
 * dogpile_name_registry_get:
 * @self: a registry
 * @name: the name; copied when a new entry is made
 *
 * NameRegistry.get(name): the mutex every current holder of @name shares,
 * created with the registry's create function if nobody holds one.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full): the mutex; the entry lives until its last
 *   reference is dropped
 */
DogpileMutex *
dogpile_name_registry_get (DogpileNameRegistry *self, const char *name)
{
  Shard *shard;
  Entry *entry;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  shard = &self->shards[g_str_hash (name) % N_SHARDS];
  pthread_mutex_lock (&shard->lock);
  entry = g_hash_table_lookup (shard->entries, name);
  if (entry != NULL && dogpile__mutex_try_ref (entry->self))
    {
      pthread_mutex_unlock (&shard->lock);
      return entry->self;
    }
  entry = g_new0 (Entry, 1);
  entry->registry = dogpile_name_registry_ref (self);
  entry->shard = shard;
  entry->name = g_strdup (name);
  entry->inner = self->create (name, self->user_data);
  if (entry->inner == NULL)
    entry->inner = dogpile_mutex_new_local ();
  entry->self = dogpile_mutex_new (&entry_funcs, entry, entry_free);
  g_hash_table_replace (shard->entries, entry->name, entry);
  pthread_mutex_unlock (&shard->lock);
  return entry->self;
}

/**
 * dogpile_name_registry_size:
 * @self: a registry
 *
 * How many names have a live mutex right now, for tests and statistics.
 *
 * Thread safety: any thread, concurrently with any call on @self; the
 *   answer may be stale by the time it returns.
 *
 * Returns: the number of entries
 */
guint
dogpile_name_registry_size (DogpileNameRegistry *self)
{
  guint total = 0;

  g_return_val_if_fail (self != NULL, 0);

  for (int i = 0; i < N_SHARDS; i++)
    {
      pthread_mutex_lock (&self->shards[i].lock);
      total += g_hash_table_size (self->shards[i].entries);
      pthread_mutex_unlock (&self->shards[i].lock);
    }
  return total;
}
