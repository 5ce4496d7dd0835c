/* memcached-lock.c: the distributed lock, on the wire as Python's.
 *
 * dogpile.cache's MemcachedLock (spec 4.6): acquire is `add _lock<key> 1`
 * with exptime lock_timeout (0: the item never expires), stored with the
 * flags the named client gives an int (4 for pylibmc, 2 for the others);
 * a waiter backs off ((i + 1) * random() + 2 ** i) / 2.5 seconds between
 * tries, here capped at lock_sleep_max (1 s by default: Python's schedule
 * reaches minutes per sleep after a few tries, so a waiter would sleep on
 * long after the lock is gone), and, unlike Python's, gives up after
 * lock_blocking_timeout (twice lock_timeout by default; the caller then
 * gets DOGPILE_ERROR_LOCK: memcached-config.c); release deletes the
 * item, whoever holds it (as Python's does: after lock_timeout it may be
 * another's); locked() is "the item exists".  bmemcached replicates: the
 * first server that answers the add decides, a winner adds the item on
 * the others too, and release deletes it everywhere.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memcached-lock.h"

#include <math.h>
#include <stdlib.h>

#include "memcached-distribution.h"
#include "memcached-item.h"

#define LOCK_PREFIX "_lock"

typedef struct {
  McClient *client;
  char *name;
  gsize name_len;
} McLock;

double
mc_lock_backoff (guint attempt, double random, double max_sleep)
{
  guint i = MIN (attempt, 15u);
  double seconds = ((i + 1) * random + ldexp (1.0, (int) i)) / 2.5;

  return MIN (seconds, max_sleep);
}

static guint32
int_flags (const McConfig *config)
{
  return config->kind == MC_CLIENT_PYLIBMC ? MC_FLAG_INT_PYLIBMC
                                           : MC_FLAG_INT_PYTHON;
}

/* `add _lock<key> 1` on the key's server, or on server @server (>= 0)
 * when replicating; made again, once, on a connection a restarted server
 * had closed (mc_client_dropped). */
static memcached_return_t
add_item (McLock *self, memcached_st *memc, int server)
{
  const McConfig *config = self->client->config;
  time_t exptime = (time_t) config->lock_timeout;
  char group[MC_GROUP_KEY_MAX];
  gsize group_len
      = server >= 0 ? mc_distribution_group_key ((guint) server, group) : 0;
  memcached_return_t rc = MEMCACHED_SUCCESS;

  for (guint attempt = 0; attempt < 2; attempt++)
    {
      rc = server >= 0 ? memcached_add_by_key (memc, group, group_len,
                                               self->name, self->name_len, "1",
                                               1, exptime, int_flags (config))
                       : memcached_add (memc, self->name, self->name_len, "1",
                                        1, exptime, int_flags (config));
      if (!mc_client_dropped (memc, rc))
        break;
    }
  return rc;
}

/* One `add`: *out_added; FALSE with @error when no server answered. */
static gboolean
try_add (McLock *self, memcached_st *memc, gboolean *out_added, GError **error)
{
  const McConfig *config = self->client->config;
  memcached_return_t rc, first_error = MEMCACHED_SUCCESS;
  int failed_server = -1;
  guint answered = 0;

  *out_added = FALSE;
  if (config->kind != MC_CLIENT_BMEMCACHED)
    {
      rc = add_item (self, memc, -1);
      if (memcached_success (rc))
        return *out_added = TRUE, TRUE;
      if (rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS)
        return TRUE;
      return mc_client_fail (self->client, memc, rc, "add", self->name,
                             self->name_len, -1, error);
    }
  /* The first server that answers decides; a winner then replicates the
   * item to the servers after it (bmemcached's Client adds on every
   * server and holds when any took it, so two holders could each win on
   * a different server). */
  for (guint i = 0; i < config->servers->len; i++)
    {
      rc = add_item (self, memc, (int) i);
      if (answered > 0)
        continue;
      if (memcached_success (rc))
        answered++, *out_added = TRUE;
      else if (rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS)
        return TRUE;
      else if (failed_server < 0)
        failed_server = (int) i, first_error = rc;
    }
  if (answered == 0)
    return mc_client_fail (self->client, memc, first_error, "add", self->name,
                           self->name_len, failed_server, error);
  return TRUE;
}

static gboolean
lock_acquire (gpointer data, gboolean wait, gboolean *out_acquired,
              GError **error)
{
  McLock *self = data;
  const McConfig *config = self->client->config;
  gint64 deadline = -1;

  *out_acquired = FALSE;
  if (!mc_key_check (self->name, self->name_len, error))
    return FALSE;
  if (config->lock_blocking_timeout >= 0)
    deadline = g_get_monotonic_time ()
               + (gint64) (config->lock_blocking_timeout * G_USEC_PER_SEC);
  for (guint attempt = 0;; attempt++)
    {
      McHandle *handle = mc_pool_acquire (self->client->pool, error);
      gint64 sleep_us, left;
      gboolean ok;

      if (handle == NULL)
        return FALSE;
      ok = try_add (self, handle->memc, out_acquired, error);
      mc_pool_release (self->client->pool, handle);
      if (!ok || *out_acquired || !wait)
        return ok;
      sleep_us = (gint64) (mc_lock_backoff (attempt, g_random_double (),
                                            config->lock_sleep_max)
                           * G_USEC_PER_SEC);
      /* Given up at the deadline, after a last try there (a back-off may
       * be a second long). */
      if (deadline >= 0)
        {
          left = deadline - g_get_monotonic_time ();
          if (left <= 0)
            return TRUE;
          sleep_us = MIN (sleep_us, left);
        }
      g_usleep ((gulong) sleep_us);
    }
}

static gboolean
lock_release (gpointer data, GError **error)
{
  McLock *self = data;
  McHandle *handle = mc_pool_acquire (self->client->pool, error);
  memcached_return_t rc;
  int failed_server;
  gboolean ok = TRUE;

  if (handle == NULL)
    return FALSE;
  rc = mc_client_write (self->client, handle->memc, MC_WRITE_DELETE,
                        self->name, self->name_len, NULL, &failed_server);
  if (!memcached_success (rc))
    ok = mc_client_fail (self->client, handle->memc, rc, "delete", self->name,
                         self->name_len, failed_server, error);
  mc_pool_release (self->client->pool, handle);
  return ok;
}

static gboolean
lock_locked (gpointer data, gboolean *out_locked, GError **error)
{
  McLock *self = data;
  McHandle *handle = mc_pool_acquire (self->client->pool, error);
  memcached_return_t rc;
  char *value;
  size_t len;
  uint32_t flags;
  int failed_server;
  gboolean ok = TRUE;

  *out_locked = FALSE;
  if (handle == NULL)
    return FALSE;
  rc = mc_client_read (self->client, handle->memc, self->name, self->name_len,
                       &value, &len, &flags, &failed_server);
  free (value);
  if (memcached_success (rc))
    *out_locked = TRUE;
  else if (rc != MEMCACHED_NOTFOUND)
    ok = mc_client_fail (self->client, handle->memc, rc, "get", self->name,
                         self->name_len, failed_server, error);
  mc_pool_release (self->client->pool, handle);
  return ok;
}

static void
lock_free (gpointer data)
{
  McLock *self = data;

  mc_client_unref (self->client);
  g_free (self->name);
  g_free (self);
}

static const DogpileMutexFuncs lock_funcs = {
  .acquire = lock_acquire,
  .release = lock_release,
  .locked = lock_locked,
};

DogpileMutex *
mc_lock_new (McClient *client, const char *key)
{
  McLock *self = g_new0 (McLock, 1);

  self->client = mc_client_ref (client);
  self->name = g_strconcat (LOCK_PREFIX, key, NULL);
  self->name_len = strlen (self->name);
  return dogpile_mutex_new (&lock_funcs, self, lock_free);
}
