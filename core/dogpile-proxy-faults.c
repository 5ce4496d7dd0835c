/* dogpile-proxy-faults.c: dogpile.proxies.faults, failing on purpose (the
 * shim SQLite tests its I/O error paths with).
 *
 * Arguments (operations are counted from 1, every operation through the
 * proxy):
 *   fail_nth = N     operation N fails, once;
 *   fail_every = N   every N-th operation fails;
 *   fail_from = N    operation N and every one after it fail ...
 *   fail_for = D     ... for D (seconds or a duration like 500ms) once the
 *                    first has failed; without it, for ever.
 * A failing operation does not reach the backend and reports
 * DOGPILE_ERROR_BACKEND, as a lost connection would.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

#include <stdatomic.h>

typedef struct {
  gint64 fail_nth, fail_every, fail_from;
  double fail_for;
  _Atomic guint64 count;
  _Atomic gint64 failing_since; /* monotonic us; 0: not yet */
} Faults;

#define FAULTS(impl) ((Faults *) (impl))

static DogpileProxyImpl *
faults_create (GHashTable *arguments, GError **error)
{
  Faults *self = g_new0 (Faults, 1);

  if (!dogpile_arguments_get_int (arguments, "fail_nth", 0, &self->fail_nth,
                                  error)
      || !dogpile_arguments_get_int (arguments, "fail_every", 0,
                                     &self->fail_every, error)
      || !dogpile_arguments_get_int (arguments, "fail_from", 0,
                                     &self->fail_from, error)
      || !dogpile_arguments_get_duration (arguments, "fail_for", -1,
                                          &self->fail_for, error))
    {
      g_free (self);
      return NULL;
    }
  return (DogpileProxyImpl *) self;
}

static void
faults_destroy (DogpileProxyImpl *self)
{
  g_free (self);
}

/* Decides whether this operation fails, and says so in @error. */
static gboolean
inject (DogpileProxyImpl *impl, const char *operation, GError **error)
{
  Faults *self = FAULTS (impl);
  guint64 n = atomic_fetch_add (&self->count, 1) + 1;
  gboolean fail = FALSE;

  if (self->fail_nth > 0 && n == (guint64) self->fail_nth)
    fail = TRUE;
  if (self->fail_every > 0 && n % (guint64) self->fail_every == 0)
    fail = TRUE;
  if (self->fail_from > 0 && n >= (guint64) self->fail_from)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 since = 0;

      atomic_compare_exchange_strong (&self->failing_since, &since, now);
      since = atomic_load (&self->failing_since);
      /* within the window; fail_nth and fail_every still count outside */
      fail = fail || self->fail_for < 0
             || (double) (now - since) < self->fail_for * G_USEC_PER_SEC;
    }
  if (fail)
    g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                 "Injected fault: operation %" G_GUINT64_FORMAT " (%s) "
                 "failed",
                 n, operation);
  return fail;
}

static gboolean
faults_get_value (DogpileProxyImpl *self, DogpileBackend *next,
                  const char *key, GBytes **out_payload,
                  DogpileMetadata *out_metadata, GError **error)
{
  return !inject (self, "get", error)
         && dogpile_backend_get_value (next, key, out_payload, out_metadata,
                                       error);
}

static gboolean
faults_get_value_multi (DogpileProxyImpl *self, DogpileBackend *next,
                        const char *const *keys, gsize n_keys,
                        GBytes **out_payloads, DogpileMetadata *out_metadata,
                        GError **out_errors, GError **error)
{
  return !inject (self, "get_multi", error)
         && dogpile_backend_get_value_multi (next, keys, n_keys, out_payloads,
                                             out_metadata, out_errors, error);
}

static gboolean
faults_set_value (DogpileProxyImpl *self, DogpileBackend *next,
                  const char *key, GBytes *payload,
                  const DogpileMetadata *metadata, GError **error)
{
  return !inject (self, "set", error)
         && dogpile_backend_set_value (next, key, payload, metadata, error);
}

static gboolean
faults_set_value_multi (DogpileProxyImpl *self, DogpileBackend *next,
                        const char *const *keys, GBytes *const *payloads,
                        const DogpileMetadata *metadata, gsize n_keys,
                        GError **error)
{
  return !inject (self, "set_multi", error)
         && dogpile_backend_set_value_multi (next, keys, payloads, metadata,
                                             n_keys, error);
}

static gboolean
faults_delete (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
               GError **error)
{
  return !inject (self, "delete", error)
         && dogpile_backend_delete (next, key, error);
}

static gboolean
faults_delete_multi (DogpileProxyImpl *self, DogpileBackend *next,
                     const char *const *keys, gsize n_keys, GError **error)
{
  return !inject (self, "delete_multi", error)
         && dogpile_backend_delete_multi (next, keys, n_keys, error);
}

static gboolean
faults_get (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
            GBytes **out_value, GError **error)
{
  return !inject (self, "get_serialized", error)
         && dogpile_backend_get (next, key, out_value, error);
}

static gboolean
faults_set (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
            GBytes *value, GError **error)
{
  return !inject (self, "set_serialized", error)
         && dogpile_backend_set (next, key, value, error);
}

static const DogpileArgumentSpec faults_arguments[] = {
  DOGPILE_ARGUMENT ("fail_nth", DOGPILE_ARGUMENT_INTEGER,
                    DOGPILE_ARGUMENT_C_ONLY, "0",
                    "the Nth operation fails (counted from 1; 0: none)"),
  DOGPILE_ARGUMENT ("fail_every", DOGPILE_ARGUMENT_INTEGER,
                    DOGPILE_ARGUMENT_C_ONLY, "0",
                    "every Nth operation fails (0: none)"),
  DOGPILE_ARGUMENT ("fail_from", DOGPILE_ARGUMENT_INTEGER,
                    DOGPILE_ARGUMENT_C_ONLY, "0",
                    "every operation from the Nth fails (0: none)"),
  DOGPILE_ARGUMENT ("fail_for", DOGPILE_ARGUMENT_DURATION,
                    DOGPILE_ARGUMENT_C_ONLY, "for ever",
                    "with fail_from: how long the failing lasts"),
  DOGPILE_ARGUMENT_SPEC_END,
};

const DogpileProxyDesc dogpile__proxy_faults_desc = {
  .abi_version = DOGPILE_PROXY_ABI_VERSION,
  .name = DOGPILE_PROXY_FAULTS,
  .description = "Fails chosen operations with a backend error, for tests",
  .version = DOGPILE_VERSION_STRING,
  .create = faults_create,
  .destroy = faults_destroy,
  .get_value = faults_get_value,
  .set_value = faults_set_value,
  .get_value_multi = faults_get_value_multi,
  .set_value_multi = faults_set_value_multi,
  .delete_key = faults_delete,
  .delete_multi = faults_delete_multi,
  .get = faults_get,
  .set = faults_set,
  .arguments = faults_arguments,
};
