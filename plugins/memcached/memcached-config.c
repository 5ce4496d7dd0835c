/* memcached-config.c: the arguments of spec 3.5, for all four names.
 *
 * Every argument of every Python memcached backend is accepted by each
 * name (a config written for one client ports to another); what each
 * becomes is in docs/memcached.md:
 *   url                     the servers (memcached-servers.c)
 *   distributed_lock, lock_timeout          the lock (memcached-lock.c)
 *   memcached_expire_time   every set's exptime
 *   min_compress_len        zlib above this many bytes (pylibmc's and
 *                           python-memcached's rule)
 *   binary                  libmemcached's binary protocol (bmemcached's
 *                           default, as that client speaks only binary)
 *   behaviors               libmemcached behaviors (memcached-behaviors.c)
 *   socket_timeout          connect and I/O timeout, seconds (python-
 *                           memcached's 3, also bmemcached's)
 *   call_timeout (C only)   the deadline of a whole call, seconds
 *                           (default: connect + 2 x I/O timeout)
 *   dead_retry              seconds before a failed server is tried again
 *   username, password      SASL (binary protocol)
 *   hashclient_retry_timeout, hashclient_retry_attempts,
 *   hashclient_dead_timeout  pymemcache's HashClient retries, as
 *                           libmemcached's retry_timeout, failure_limit
 *                           and dead_timeout
 *   socket_keepalive        TCP keepalive on when given
 *   tls_context             refused: libmemcached has no TLS
 *   serde, default_noreply, enable_retry_client, retry_attempts,
 *   retry_delay, retry_for, do_not_retry_for
 *                           Python objects or pymemcache-only modes:
 *                           accepted and ignored (docs say why)
 * and five of C's own: key_mangler, pool_size, pool_timeout,
 * lock_blocking_timeout and lock_sleep_max.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memcached-config.h"

#include <math.h>

#include "memcached-behaviors.h"
#include "memcached-servers.h"

#define FLAGS_BMEMCACHED_BYTES 16
#define BMEMCACHED_COMPRESSION_THRESHOLD 128

void
mc_config_free (McConfig *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->servers, g_ptr_array_unref);
  g_clear_pointer (&self->behaviors, g_array_unref);
  g_free (self->username);
  if (self->password != NULL)
    explicit_bzero (self->password, strlen (self->password));
  g_free (self->password);
  g_free (self);
}

guint32
mc_config_value_flags (const McConfig *self)
{
  return self->kind == MC_CLIENT_BMEMCACHED ? FLAGS_BMEMCACHED_BYTES : 0;
}

static gboolean
read_servers (McConfig *self, GHashTable *arguments, GError **error)
{
  g_auto (GStrv) items = NULL;

  if (!dogpile_arguments_dup_list (arguments, "url", &items, error))
    return FALSE;
  return mc_servers_parse ((const char *const *) items, &self->servers, error);
}

/* A timeout in seconds as libmemcached's milliseconds (at least 1). */
static gboolean
read_timeout_ms (GHashTable *arguments, const char *name, double fallback,
                 gint64 *out_ms, GError **error)
{
  double seconds;

  if (!dogpile_arguments_get_duration_range (
          arguments, name, fallback, 0, 86400, DOGPILE_ARGUMENTS_ABOVE_MIN,
          &seconds, error))
    return FALSE;
  *out_ms = seconds < 0 ? -1 : MAX ((gint64) ceil (seconds * 1000), 1);
  return TRUE;
}

static gboolean
read_behaviors (McConfig *self, GHashTable *arguments, GError **error)
{
  if (!mc_behaviors_parse (arguments, &self->behaviors, error))
    return FALSE;
  if (self->kind == MC_CLIENT_PYLIBMC)
    return TRUE;
  for (guint i = 0; i < self->behaviors->len; i++)
    {
      memcached_behavior_t b
          = g_array_index (self->behaviors, McBehavior, i).behavior;

      if (mc_behavior_moves_keys (b))
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "behaviors: %s changes which server a key goes to, "
                       "and %s must send keys where its Python client does; "
                       "use dogpile.cache.pylibmc for libmemcached's own "
                       "distributions",
                       mc_behavior_name (b), self->backend_name);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
read_credentials (McConfig *self, GHashTable *arguments, GError **error)
{
  if (!dogpile_arguments_dup_string (arguments, "username", NULL,
                                     &self->username, error)
      || !dogpile_arguments_dup_string (arguments, "password", NULL,
                                        &self->password, error))
    return FALSE;
  if ((self->username == NULL) != (self->password == NULL))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "%s is given without %s: SASL needs both",
                   self->username != NULL ? "username" : "password",
                   self->username != NULL ? "password" : "username");
      return FALSE;
    }
#ifndef LIBMEMCACHED_WITH_SASL_SUPPORT
  if (self->username != NULL)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "username and password need SASL, and this libmemcached "
                   "was built without it");
      return FALSE;
    }
#endif
  /* SASL exists only in the binary protocol. */
  if (self->username != NULL && !self->binary
      && dogpile_arguments_has (arguments, "binary"))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "username and password need the binary protocol, and "
                   "binary is false: remove binary=false (SASL turns the "
                   "binary protocol on) or the credentials");
      return FALSE;
    }
  if (self->username != NULL)
    self->binary = TRUE;
  return TRUE;
}

/* pymemcache's RetryingClient options (accepted, ignored: docs say why). */
static const char *const retry_arguments[]
    = { "retry_attempts", "retry_delay", "retry_for", "do_not_retry_for",
        NULL };

static gboolean
read_python_only (McConfig *self, GHashTable *arguments, GError **error)
{
  g_autofree char *keepalive = NULL;
  gboolean retry_client = FALSE;

  if (dogpile_arguments_has (arguments, "tls_context"))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "tls_context cannot be honoured: libmemcached (the "
                   "client library of %s) has no TLS, and sending the cache "
                   "in clear text to a server that expects TLS would fail "
                   "or leak it; reach the server through a TLS tunnel "
                   "(stunnel, a sidecar) on a loopback or unix socket url",
                   self->backend_name);
      return FALSE;
    }
  /* A KeepaliveOpts object in Python: anything but False turns it on. */
  if (!dogpile_arguments_dup_string (arguments, "socket_keepalive", NULL,
                                     &keepalive, error)
      || !dogpile_arguments_get_boolean (arguments, "enable_retry_client",
                                         FALSE, &retry_client, error))
    return FALSE;
  if (keepalive != NULL && g_ascii_strcasecmp (keepalive, "false") != 0
      && strcmp (keepalive, "0") != 0)
    {
      McBehavior b = { MEMCACHED_BEHAVIOR_TCP_KEEPALIVE, 1 };

      g_array_append_val (self->behaviors, b);
    }
  if (!retry_client)
    for (guint i = 0; retry_arguments[i] != NULL; i++)
      if (dogpile_arguments_has (arguments, retry_arguments[i]))
        {
          /* pymemcache's own warning, word for word */
          g_warning ("enable_retry_client is not set; retry options will be "
                     "ignored");
          break;
        }
  return TRUE;
}

/* The lock's times.  Python's MemcachedLock never expires (lock_timeout
 * 0) and its waiters never give up, so one process killed while creating
 * blocks its key in every process for ever; ours are finite
 * (docs/memcached.md): the item expires after MC_DEFAULT_LOCK_TIMEOUT, and
 * a waiter gives up with DOGPILE_ERROR_LOCK (the core then never creates
 * unlocked; with a stale value it never waits) after twice lock_timeout
 * -- the dead holder's item expiring, then one whole creation by whoever
 * takes it next -- and never before 60 s, since waiters may queue for
 * several creations in turn.  lock_timeout 0 or none,
 * lock_blocking_timeout none: Python's "for ever", with a warning. */
static gboolean
read_lock (McConfig *self, GHashTable *arguments, GError **error)
{
  gboolean timeout_none
      = dogpile_arguments_is_none (arguments, "lock_timeout");
  gboolean blocking_none
      = dogpile_arguments_is_none (arguments, "lock_blocking_timeout");
  double timeout = 0;

  self->lock_blocking_timeout = -1;
  if (!dogpile_arguments_get_boolean (arguments, "distributed_lock", FALSE,
                                      &self->distributed_lock, error)
      || (!timeout_none
          && !dogpile_arguments_get_duration_range (
              arguments, "lock_timeout", MC_DEFAULT_LOCK_TIMEOUT, 0,
              30 * 86400, DOGPILE_ARGUMENTS_NONE, &timeout, error))
      || (!blocking_none
          && !dogpile_arguments_get_duration_range (
              arguments, "lock_blocking_timeout", -1, 0, 60 * 86400,
              DOGPILE_ARGUMENTS_NONE, &self->lock_blocking_timeout, error))
      || !dogpile_arguments_get_duration_range (
          arguments, "lock_sleep_max", 1.0, 0, 3600,
          DOGPILE_ARGUMENTS_ABOVE_MIN, &self->lock_sleep_max, error))
    return FALSE;
  /* memcached's exptime is whole seconds; a fraction waits the longer. */
  self->lock_timeout = (gint64) ceil (timeout);
  if (!blocking_none && self->lock_blocking_timeout < 0)
    self->lock_blocking_timeout
        = MAX (2 * MC_DEFAULT_LOCK_TIMEOUT, 2 * (double) self->lock_timeout);
  if (!self->distributed_lock)
    return TRUE;
  if (self->lock_timeout == 0)
    g_warning ("%s: distributed_lock is on and lock_timeout is none, so a "
               "process that dies while creating a value leaves its lock "
               "for ever, and every later caller of that key without a "
               "stale value waits lock_blocking_timeout and fails; set "
               "lock_timeout to a little more than the longest creation "
               "time, or leave it out for %g s (docs/memcached.md)",
               self->backend_name, MC_DEFAULT_LOCK_TIMEOUT);
  if (blocking_none)
    g_warning ("%s: distributed_lock is on and lock_blocking_timeout is "
               "none, so a caller waiting for a lock that is never released "
               "waits for ever; leave it out for twice lock_timeout, at "
               "least 60 s (docs/memcached.md)",
               self->backend_name);
  return TRUE;
}

McConfig *
mc_config_new (McClientKind kind, const char *backend_name,
               GHashTable *arguments, GError **error)
{
  g_autoptr (McConfig) self = g_new0 (McConfig, 1);
  gboolean python_memcached_like
      = kind == MC_CLIENT_MEMCACHED || kind == MC_CLIENT_BMEMCACHED;
  gint64 min_compress = 0, pool_size = 0;
  guint mangling = 0;
  static const char *const manglings[]
      = { "none", "sha1", "sha1_if_needed", NULL };

  self->kind = kind;
  self->backend_name = backend_name;
  self->binary = kind == MC_CLIENT_BMEMCACHED;
  self->retry_timeout_s = self->failure_limit = self->dead_timeout_s = -1;
  if (!read_servers (self, arguments, error)
      || !read_behaviors (self, arguments, error)
      || !dogpile_arguments_get_boolean (arguments, "binary", self->binary,
                                         &self->binary, error)
      || !read_timeout_ms (arguments, "socket_timeout",
                           python_memcached_like ? 3.0 : -1,
                           &self->poll_timeout_ms, error)
      || !dogpile_arguments_get_int_range (
          arguments, "dead_retry", kind == MC_CLIENT_MEMCACHED ? 30 : -1, 0,
          86400, &self->retry_timeout_s, error)
      || !dogpile_arguments_get_duration_range (
          arguments, "call_timeout", -1, 0, 86400, DOGPILE_ARGUMENTS_ABOVE_MIN,
          &self->call_timeout, error))
    return NULL;
  self->connect_timeout_ms = self->poll_timeout_ms;
  if (kind == MC_CLIENT_PYMEMCACHE
      || dogpile_arguments_has (arguments, "hashclient_retry_timeout"))
    {
      double retry = 0;

      if (!dogpile_arguments_get_duration_range (
              arguments, "hashclient_retry_timeout", 1, 0, 86400,
              DOGPILE_ARGUMENTS_NONE, &retry, error))
        return NULL;
      self->retry_timeout_s = (gint64) ceil (retry);
    }
  if (kind == MC_CLIENT_PYMEMCACHE
      || dogpile_arguments_has (arguments, "hashclient_retry_attempts")
      || dogpile_arguments_has (arguments, "hashclient_dead_timeout"))
    {
      double dead = 0;

      if (!dogpile_arguments_get_int_range (arguments,
                                            "hashclient_retry_attempts", 2, 0,
                                            1000, &self->failure_limit, error)
          || !dogpile_arguments_get_duration_range (
              arguments, "hashclient_dead_timeout", 60, 0, 86400,
              DOGPILE_ARGUMENTS_NONE, &dead, error))
        return NULL;
      self->dead_timeout_s = (gint64) ceil (dead);
    }
  self->has_expire_time
      = dogpile_arguments_has (arguments, "memcached_expire_time");
  if (!dogpile_arguments_get_int_range (arguments, "memcached_expire_time", 0,
                                        0, G_MAXINT32, &self->expire_time,
                                        error)
      || !dogpile_arguments_get_int_range (
          arguments, "min_compress_len",
          kind == MC_CLIENT_BMEMCACHED ? BMEMCACHED_COMPRESSION_THRESHOLD : 0,
          0, G_MAXINT32, &min_compress, error)
      || !read_lock (self, arguments, error)
      || !read_credentials (self, arguments, error)
      || !read_python_only (self, arguments, error)
      || !dogpile_arguments_get_choice (arguments, "key_mangler", manglings, 0,
                                        &mangling, error)
      || !dogpile_arguments_get_int_range (arguments, "pool_size", 16, 1, 1024,
                                           &pool_size, error)
      || !dogpile_arguments_get_duration_range (
          arguments, "pool_timeout", 10, 0, 3600, DOGPILE_ARGUMENTS_ABOVE_MIN,
          &self->pool_timeout, error))
    return NULL;
  self->min_compress_len = (gsize) min_compress;
  self->mangling = (McKeyMangling) mangling;
  self->pool_size = (guint) pool_size;
  return g_steal_pointer (&self);
}
