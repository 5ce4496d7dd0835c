/* memcached-client.c: the configured master handle, its pool, keys and
 * error messages.
 *
 * The master is a libmemcached handle with the servers, behaviors,
 * timeouts and key distribution of the arguments; it never talks to a
 * server itself: every call runs on a clone from the pool.
 *
 * Timeouts: libmemcached's connect and poll timeouts bound each wait
 * (socket_timeout sets both; the behaviors connect_timeout and
 * _poll_timeout override them; send_timeout and receive_timeout set
 * SO_SNDTIMEO and SO_RCVTIMEO, which bound nothing on its non-blocking
 * sockets).  A call as a whole is bounded by its deadline, call_timeout
 * (default: the connect timeout + 2 x the poll timeout), which the pool
 * arms (memcached-deadline.c); every loop here that could call
 * libmemcached again stops once it has passed.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memcached-client.h"

#include <errno.h>
#include <stdlib.h>

#include "memcached-behaviors.h"
#include "memcached-distribution.h"
#include "memcached-servers.h"

static gboolean
fail_setup (memcached_st *memc, memcached_return_t rc, const char *what,
            GError **error)
{
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "Cannot set up libmemcached (%s): %s", what,
               memcached_strerror (memc, rc));
  return FALSE;
}

static gboolean
set_behavior (memcached_st *memc, memcached_behavior_t behavior, gint64 value,
              GError **error)
{
  memcached_return_t rc;

  if (value < 0)
    return TRUE;
  rc = memcached_behavior_set (memc, behavior, (uint64_t) value);
  if (!memcached_success (rc))
    return fail_setup (memc, rc, libmemcached_string_behavior (behavior),
                       error);
  return TRUE;
}

static gboolean
configure_master (McClient *self, GError **error)
{
  const McConfig *config = self->config;
  memcached_st *memc = self->master;
  memcached_return_t rc;

  for (guint i = 0; i < config->servers->len; i++)
    {
      const McServer *server = g_ptr_array_index (config->servers, i);

      rc = server->path != NULL
               ? memcached_server_add_unix_socket (memc, server->path)
               : memcached_server_add (memc, server->host, server->port);
      if (!memcached_success (rc))
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "url: cannot use the server %s: %s", server->display,
                       memcached_strerror (memc, rc));
          return FALSE;
        }
    }
  if (!set_behavior (memc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, config->binary,
                     error)
      || !set_behavior (memc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT,
                        config->connect_timeout_ms, error)
      || !set_behavior (memc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT,
                        config->poll_timeout_ms, error)
      || !set_behavior (memc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT,
                        config->retry_timeout_s, error)
      || !set_behavior (memc, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT,
                        config->failure_limit, error)
      || !set_behavior (memc, MEMCACHED_BEHAVIOR_DEAD_TIMEOUT,
                        config->dead_timeout_s, error)
      || !mc_behaviors_apply (memc, config->behaviors, error)
      || !mc_distribution_install (self->distribution, memc, error))
    return FALSE;
#ifdef LIBMEMCACHED_WITH_SASL_SUPPORT
  if (config->username != NULL)
    {
      rc = memcached_set_sasl_auth_data (memc, config->username,
                                         config->password);
      if (!memcached_success (rc))
        return fail_setup (memc, rc, "SASL", error);
    }
#endif
  return TRUE;
}

/* The timeouts libmemcached will wait with, whatever set them, and the
 * call's deadline.  0 would fail every call at once and a negative
 * value (a behavior past 2^31 ms) wait for ever: refused, as is more than
 * a day (socket_timeout's limit). */
static gboolean
read_timeouts (McClient *self, GError **error)
{
  static const struct {
    memcached_behavior_t behavior;
    const char *name;
  } timeouts[] = {
    { MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, "connect_timeout" },
    { MEMCACHED_BEHAVIOR_POLL_TIMEOUT, "_poll_timeout" },
  };
  gint64 ms[G_N_ELEMENTS (timeouts)];

  for (guint i = 0; i < G_N_ELEMENTS (timeouts); i++)
    {
      ms[i] = (int32_t) memcached_behavior_get (self->master,
                                                timeouts[i].behavior);
      if (ms[i] < 1 || ms[i] > 86400 * 1000)
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "behaviors: %s is %" G_GINT64_FORMAT
                       " ms, and libmemcached's timeouts must be 1 to "
                       "86400000 ms (0 fails every call at once); every "
                       "call's deadline is built from them",
                       timeouts[i].name, ms[i]);
          return FALSE;
        }
    }
  self->connect_ms = ms[0];
  self->poll_ms = ms[1];
  self->call_timeout
      = self->config->call_timeout > 0
            ? self->config->call_timeout
            : (double) (self->connect_ms + 2 * self->poll_ms) / 1000.0;
  return TRUE;
}

McClient *
mc_client_new (McClientKind kind, const char *backend_name,
               GHashTable *arguments, GError **error)
{
  g_autoptr (McClient) self = g_new0 (McClient, 1);

  self->refcount = 1;
  self->config = mc_config_new (kind, backend_name, arguments, error);
  if (self->config == NULL)
    return NULL;
  self->distribution = mc_distribution_new (kind, self->config->servers);
  self->master = memcached_create (NULL);
  if (self->master == NULL)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "Cannot create a libmemcached handle: out of memory");
      return NULL;
    }
  if (!configure_master (self, error) || !read_timeouts (self, error))
    return NULL;
  self->pool = mc_pool_new (self->master, self->config->pool_size,
                            self->config->pool_timeout, self->call_timeout);
  return g_steal_pointer (&self);
}

McClient *
mc_client_ref (McClient *self)
{
  g_atomic_int_inc (&self->refcount);
  return self;
}

void
mc_client_unref (McClient *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->refcount))
    return;
  mc_pool_free (self->pool);
  if (self->master != NULL)
    {
#ifdef LIBMEMCACHED_WITH_SASL_SUPPORT
      if (self->config != NULL && self->config->username != NULL)
        memcached_destroy_sasl_auth_data (self->master);
#endif
      memcached_free (self->master);
    }
  mc_distribution_free (self->distribution);
  mc_config_free (self->config);
  g_free (self);
}

/* At most 80 bytes of @key, escaped. */
static char *
printable_key (const char *key, gsize len)
{
  g_autofree char *head = g_strndup (key, MIN (len, 80));
  g_autofree char *escaped = g_strescape (head, NULL);

  return len > 80 ? g_strconcat (escaped, "...", NULL)
                  : g_steal_pointer (&escaped);
}

/* @instance as the url named it. */
static char *
instance_display (McClient *self, const memcached_instance_st *instance)
{
  const char *name = memcached_server_name (instance);
  in_port_t port = memcached_server_port (instance);

  for (guint i = 0; i < self->config->servers->len; i++)
    {
      const McServer *s = g_ptr_array_index (self->config->servers, i);

      if ((s->path != NULL && strcmp (s->path, name) == 0)
          || (s->host != NULL && strcmp (s->host, name) == 0
              && s->port == port))
        return g_strdup (s->display);
    }
  return g_strdup_printf ("%s:%u", name, (guint) port);
}

/* The server of @memc that timed out in the call under way: one whose
 * reply is still unread, else one whose last error is a timeout. */
static const memcached_instance_st *
timed_out_server (memcached_st *memc)
{
  guint32 n = memcached_server_count (memc);

  for (guint32 s = 0; s < n; s++)
    {
      const memcached_instance_st *instance
          = memcached_server_instance_by_position (memc, s);

      if (memcached_server_response_count (instance) > 0)
        return instance;
    }
  for (guint32 s = 0; s < n; s++)
    {
      const memcached_instance_st *instance
          = memcached_server_instance_by_position (memc, s);

      if (memcached_server_error_return (instance) == MEMCACHED_TIMEOUT)
        return instance;
    }
  return NULL;
}

static char *
server_display (McClient *self, memcached_st *memc, memcached_return_t why,
                const char *key, gsize key_len, int server_index)
{
  const memcached_instance_st *instance;
  memcached_return_t rc = MEMCACHED_SUCCESS;

  if (server_index < 0 && self->config->servers->len == 1)
    server_index = 0;
  if (server_index < 0 && self->config->kind != MC_CLIENT_BMEMCACHED
      && key != NULL)
    {
      instance = memcached_server_by_key (memc, key, key_len, &rc);
      if (instance != NULL && memcached_success (rc))
        return instance_display (self, instance);
    }
  if (server_index >= 0 && (guint) server_index < self->config->servers->len)
    return g_strdup (((const McServer *) g_ptr_array_index (
                          self->config->servers, (guint) server_index))
                         ->display);
  if (why == MEMCACHED_TIMEOUT || mc_handle_expired (memc))
    {
      instance = timed_out_server (memc);
      if (instance != NULL)
        return instance_display (self, instance);
    }
  instance = memcached_server_get_last_disconnect (memc);
  if (instance != NULL)
    return g_strdup_printf ("%s:%u", memcached_server_name (instance),
                            (guint) memcached_server_port (instance));
  return g_strdup ("(unknown)");
}

/* Which timeout ended the call: its deadline, or one wait. */
static char *
timeout_reason (McClient *self, memcached_st *memc)
{
  if (mc_handle_expired (memc))
    return g_strdup_printf ("timed out: the call ran past its deadline, "
                            "call_timeout (%g s)",
                            self->call_timeout);
  if (self->connect_ms == self->poll_ms)
    return g_strdup_printf ("timed out: nothing came or went for "
                            "socket_timeout (%g s)",
                            (double) self->poll_ms / 1000.0);
  return g_strdup_printf ("timed out: no connection within %g s or nothing "
                          "came or went for %g s (libmemcached's connect "
                          "and poll timeouts: socket_timeout)",
                          (double) self->connect_ms / 1000.0,
                          (double) self->poll_ms / 1000.0);
}

static gboolean
fail_with (McClient *self, memcached_st *memc, memcached_return_t rc,
           const char *operation, const char *key, gsize key_len,
           const char *server, GError **error)
{
  g_autofree char *shown = key != NULL ? printable_key (key, key_len) : NULL;
  g_autofree char *timeout = NULL;
  int saved_errno = memcached_last_error_errno (memc);
  const char *reason = memcached_strerror (memc, rc);

  mc_handle_note (memc, rc);
  if (rc == MEMCACHED_TIMEOUT || mc_handle_expired (memc))
    {
      g_autofree char *which = timeout_reason (self, memc);

      /* what libmemcached saw too, when it was not the timeout itself */
      timeout = rc == MEMCACHED_TIMEOUT
                    ? g_steal_pointer (&which)
                    : g_strdup_printf ("%s (libmemcached: %s)", which, reason);
      reason = timeout;
      saved_errno = 0;
    }
  if (saved_errno != 0 && rc != MEMCACHED_NOTSTORED)
    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                 "memcached server %s: %s%s%s%s failed: %s (%s)", server,
                 operation, shown != NULL ? " '" : "", shown ? shown : "",
                 shown != NULL ? "'" : "", reason, g_strerror (saved_errno));
  else
    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                 "memcached server %s: %s%s%s%s failed: %s", server, operation,
                 shown != NULL ? " '" : "", shown ? shown : "",
                 shown != NULL ? "'" : "", reason);
  return FALSE;
}

gboolean
mc_client_fail (McClient *self, memcached_st *memc, memcached_return_t rc,
                const char *operation, const char *key, gsize key_len,
                int server_index, GError **error)
{
  g_autofree char *server
      = server_display (self, memc, rc, key, key_len, server_index);

  return fail_with (self, memc, rc, operation, key, key_len, server, error);
}

gboolean
mc_key_is_valid (const char *key, gsize len)
{
  if (len == 0 || len > 250)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((guchar) key[i] <= 0x20 || (guchar) key[i] == 0x7f)
      return FALSE;
  return TRUE;
}

gboolean
mc_key_check (const char *key, gsize len, GError **error)
{
  g_autofree char *shown = NULL;
  const char *why = NULL;

  if (G_LIKELY (mc_key_is_valid (key, len)))
    return TRUE;
  shown = printable_key (key, len);
  if (len == 0)
    why = "it is empty";
  else if (len > 250)
    why = "it is longer than 250 bytes";
  else
    why = "it has a space or a control character";
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "memcached cannot store the key '%s' (%zu bytes): %s; "
               "memcached keys are 1 to 250 bytes with no spaces or control "
               "characters.  Use a key mangler: the argument "
               "key_mangler=sha1 hashes every key (what dogpile.cache's "
               "docs advise for memcached), key_mangler=sha1_if_needed only "
               "the keys memcached would refuse",
               shown, len, why);
  return FALSE;
}

char *
mc_client_mangle_key (McClient *self, const char *key)
{
  switch (self->config->mangling)
    {
    case MC_MANGLE_SHA1:
      return g_compute_checksum_for_string (G_CHECKSUM_SHA1, key, -1);
    case MC_MANGLE_SHA1_IF_NEEDED:
      return mc_key_is_valid (key, strlen (key))
                 ? NULL
                 : g_compute_checksum_for_string (G_CHECKSUM_SHA1, key, -1);
    case MC_MANGLE_NONE:
    default: return NULL;
    }
}

gboolean
mc_client_dropped (memcached_st *memc, memcached_return_t rc)
{
  int saved_errno;

  if (memcached_success (rc) || rc == MEMCACHED_NOTFOUND
      || rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS
      || rc == MEMCACHED_TIMEOUT || mc_handle_expired (memc))
    return FALSE;
  saved_errno = memcached_last_error_errno (memc);
  /* EOF on a read is a CONNECTION_FAILURE with no errno; a refused or
   * timed-out connect always has one, and is not retried. */
  return saved_errno == EPIPE || saved_errno == ECONNRESET
         || (rc == MEMCACHED_CONNECTION_FAILURE && saved_errno == 0);
}

static inline gboolean
replicates (McClient *self)
{
  return self->config->kind == MC_CLIENT_BMEMCACHED;
}

memcached_return_t
mc_client_read (McClient *self, memcached_st *memc, const char *key,
                gsize key_len, char **out_data, size_t *out_len,
                uint32_t *out_flags, int *out_failed_server)
{
  guint n = replicates (self) ? self->config->servers->len : 1;
  memcached_return_t rc = MEMCACHED_NOTFOUND, failure = MEMCACHED_SUCCESS;
  guint answered = 0;

  *out_data = NULL;
  *out_failed_server = -1;
  for (guint i = 0; i < n; i++)
    {
      char group[MC_GROUP_KEY_MAX];
      char *data;

      /* past the deadline, the replicas not asked yet are not asked: the
       * call fails as timed out (a miss could not be told from them) */
      if (i > 0 && mc_handle_expired (memc))
        {
          *out_failed_server = (int) i;
          return MEMCACHED_TIMEOUT;
        }
      *out_len = 0;
      *out_flags = 0;
      for (guint attempt = 0; attempt < 2; attempt++)
        {
          if (replicates (self))
            data = memcached_get_by_key (
                memc, group, mc_distribution_group_key (i, group), key,
                key_len, out_len, out_flags, &rc);
          else
            data = memcached_get (memc, key, key_len, out_len, out_flags, &rc);
          if (!mc_client_dropped (memc, rc))
            break;
          free (data);
          data = NULL;
        }
      mc_handle_note (memc, rc);
      if (memcached_success (rc))
        {
          *out_data = data;
          return MEMCACHED_SUCCESS;
        }
      free (data);
      if (rc == MEMCACHED_NOTFOUND)
        answered++;
      else if (failure == MEMCACHED_SUCCESS)
        {
          failure = rc;
          *out_failed_server = replicates (self) ? (int) i : -1;
        }
    }
  return answered > 0 ? MEMCACHED_NOTFOUND : failure;
}

static memcached_return_t
write_one (McClient *self, memcached_st *memc, McWriteKind kind, int server,
           const char *key, gsize key_len, const McItem *item)
{
  char group[MC_GROUP_KEY_MAX];
  gsize group_len
      = server >= 0 ? mc_distribution_group_key ((guint) server, group) : 0;
  time_t exptime = (time_t) self->config->expire_time;
  /* Not on a buffering handle: what it had buffered went with the
   * connection, and only the whole multi call can be made again. */
  guint attempts
      = memcached_behavior_get (memc, MEMCACHED_BEHAVIOR_BUFFER_REQUESTS) ? 1
                                                                          : 2;
  memcached_return_t rc = MEMCACHED_SUCCESS;

  for (guint attempt = 0; attempt < attempts; attempt++)
    {
      if (kind == MC_WRITE_SET)
        rc = server >= 0
                 ? memcached_set_by_key (memc, group, group_len, key, key_len,
                                         item->data, item->len, exptime,
                                         item->flags)
                 : memcached_set (memc, key, key_len, item->data, item->len,
                                  exptime, item->flags);
      else
        {
          rc = server >= 0 ? memcached_delete_by_key (memc, group, group_len,
                                                      key, key_len, 0)
                           : memcached_delete (memc, key, key_len, 0);
          if (rc == MEMCACHED_NOTFOUND)
            rc = MEMCACHED_SUCCESS;
        }
      if (!mc_client_dropped (memc, rc))
        break;
    }
  mc_handle_note (memc, rc);
  return rc == MEMCACHED_BUFFERED ? MEMCACHED_SUCCESS : rc;
}

memcached_return_t
mc_client_write (McClient *self, memcached_st *memc, McWriteKind kind,
                 const char *key, gsize key_len, const McItem *item,
                 int *out_failed_server)
{
  memcached_return_t first = MEMCACHED_SUCCESS;
  guint taken = 0;

  *out_failed_server = -1;
  if (!replicates (self))
    return write_one (self, memc, kind, -1, key, key_len, item);
  for (guint s = 0; s < self->config->servers->len; s++)
    {
      /* past the deadline, the replicas not written yet are not: the
       * write stands when one took it, as when the others fail */
      memcached_return_t rc
          = s > 0 && mc_handle_expired (memc)
                ? MEMCACHED_TIMEOUT
                : write_one (self, memc, kind, (int) s, key, key_len, item);

      if (memcached_success (rc))
        taken++;
      else if (*out_failed_server < 0)
        *out_failed_server = (int) s, first = rc;
    }
  return taken > 0 ? MEMCACHED_SUCCESS : first;
}
