/* dogpile-proxy-logging.c: dogpile.proxies.logging, one debug line per
 * operation, with the key, the outcome and the time it took.
 *
 * Lines go through GLib's structured logging (domain "dogpile", level
 * debug, fields DOGPILE_OPERATION, DOGPILE_KEY, DOGPILE_OUTCOME,
 * DOGPILE_DURATION_US), so G_MESSAGES_DEBUG=dogpile shows them and a
 * journald writer keeps the fields.  When debug output would be dropped,
 * nothing is formatted.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

static gboolean
enabled (void)
{
  return !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN);
}

static void
log_operation (const char *operation, const char *key, gsize n_keys,
               const char *outcome, gint64 started, const GError *error)
{
  double us = (double) (g_get_monotonic_time () - started);
  g_autofree char *duration = g_strdup_printf ("%.0f", us);
  g_autofree char *what = NULL;

  if (n_keys > 1)
    what = g_strdup_printf ("%s (+%" G_GSIZE_FORMAT " more)", key, n_keys - 1);
  g_log_structured (
      G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "DOGPILE_OPERATION", operation,
      "DOGPILE_KEY", key, "DOGPILE_OUTCOME", outcome, "DOGPILE_DURATION_US",
      duration, "MESSAGE", "%s '%s': %s%s%s in %s us", operation,
      what != NULL ? what : key, outcome, error != NULL ? ": " : "",
      error != NULL ? error->message : "", duration);
}

/* Logs after @call, which may set *error. */
#define LOGGED(operation, key, n_keys, call, hit)                             \
  G_STMT_START                                                                \
  {                                                                           \
    gint64 started_;                                                          \
    gboolean ok_;                                                             \
                                                                              \
    if (!enabled ())                                                          \
      return (call);                                                          \
    started_ = g_get_monotonic_time ();                                       \
    ok_ = (call);                                                             \
    log_operation ((operation), (key), (n_keys), !ok_ ? "error" : (hit),      \
                   started_, !ok_ && error != NULL ? *error : NULL);          \
    return ok_;                                                               \
  }                                                                           \
  G_STMT_END

static const char *
hit_or_miss (GBytes *value)
{
  return value != NULL ? "hit" : "miss";
}

static gboolean
logging_get_value (DogpileProxyImpl *self, DogpileBackend *next,
                   const char *key, GBytes **out_payload,
                   DogpileMetadata *out_metadata, GError **error)
{
  LOGGED (
      "get", key, 1,
      dogpile_backend_get_value (next, key, out_payload, out_metadata, error),
      hit_or_miss (*out_payload));
}

static const char *
multi_outcome (GBytes **values, gsize n, char *buf, gsize size)
{
  gsize hits = 0;

  for (gsize i = 0; i < n; i++)
    hits += values[i] != NULL;
  g_snprintf (buf, size,
              "%" G_GSIZE_FORMAT " hits, %" G_GSIZE_FORMAT " misses", hits,
              n - hits);
  return buf;
}

static gboolean
logging_get_value_multi (DogpileProxyImpl *self, DogpileBackend *next,
                         const char *const *keys, gsize n_keys,
                         GBytes **out_payloads, DogpileMetadata *out_metadata,
                         GError **out_errors, GError **error)
{
  char buf[64];

  LOGGED ("get_multi", keys[0], n_keys,
          dogpile_backend_get_value_multi (next, keys, n_keys, out_payloads,
                                           out_metadata, out_errors, error),
          multi_outcome (out_payloads, n_keys, buf, sizeof buf));
}

static gboolean
logging_set_value (DogpileProxyImpl *self, DogpileBackend *next,
                   const char *key, GBytes *payload,
                   const DogpileMetadata *metadata, GError **error)
{
  LOGGED ("set", key, 1,
          dogpile_backend_set_value (next, key, payload, metadata, error),
          "stored");
}

static gboolean
logging_set_value_multi (DogpileProxyImpl *self, DogpileBackend *next,
                         const char *const *keys, GBytes *const *payloads,
                         const DogpileMetadata *metadata, gsize n_keys,
                         GError **error)
{
  LOGGED ("set_multi", keys[0], n_keys,
          dogpile_backend_set_value_multi (next, keys, payloads, metadata,
                                           n_keys, error),
          "stored");
}

static gboolean
logging_delete (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
                GError **error)
{
  LOGGED ("delete", key, 1, dogpile_backend_delete (next, key, error),
          "deleted");
}

static gboolean
logging_delete_multi (DogpileProxyImpl *self, DogpileBackend *next,
                      const char *const *keys, gsize n_keys, GError **error)
{
  LOGGED ("delete_multi", keys[0], n_keys,
          dogpile_backend_delete_multi (next, keys, n_keys, error), "deleted");
}

static gboolean
logging_get (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
             GBytes **out_value, GError **error)
{
  LOGGED ("get_serialized", key, 1,
          dogpile_backend_get (next, key, out_value, error),
          hit_or_miss (*out_value));
}

static gboolean
logging_set (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
             GBytes *value, GError **error)
{
  LOGGED ("set_serialized", key, 1,
          dogpile_backend_set (next, key, value, error), "stored");
}

/* It takes no arguments: any given is reported. */
static const DogpileArgumentSpec logging_arguments[] = {
  DOGPILE_ARGUMENT_SPEC_END,
};

const DogpileProxyDesc dogpile__proxy_logging_desc = {
  .abi_version = DOGPILE_PROXY_ABI_VERSION,
  .name = DOGPILE_PROXY_LOGGING,
  .description = "Logs every operation (key, outcome, duration) at debug "
                 "level",
  .version = DOGPILE_VERSION_STRING,
  .get_value = logging_get_value,
  .set_value = logging_set_value,
  .get_value_multi = logging_get_value_multi,
  .set_value_multi = logging_set_value_multi,
  .delete_key = logging_delete,
  .delete_multi = logging_delete_multi,
  .get = logging_get,
  .set = logging_set,
  .arguments = logging_arguments,
};
