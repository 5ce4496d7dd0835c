/* dogpile-proxy-stats.c: dogpile.proxies.stats, counters per region.
 *
 * Every operation bumps a few counters, from any number of threads, so
 * they must cost no lock and no shared cache line: each thread adds to one
 * of 16 stripes (its own line) with relaxed atomics; reading sums them.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-region-private.h"

#define N_STRIPES 16

enum {
  GETS,
  HITS,
  MISSES,
  SETS,
  DELETES,
  ERRORS,
  BYTES_IN,
  BYTES_OUT,
  N_COUNTERS
};

typedef struct {
  _Atomic guint64 counters[N_COUNTERS];
} __attribute__ ((aligned (128))) Stripe;

/* The proxy's state (each shipped proxy has its own type; the descriptor
 * sees an opaque DogpileProxyImpl). */
typedef struct {
  Stripe stripes[N_STRIPES];
} Stats;

#define STATS(impl) ((Stats *) (impl))

static atomic_uint next_stripe;
static __thread int my_stripe = -1;

static inline Stripe *
stripe (DogpileProxyImpl *self)
{
  if (G_UNLIKELY (my_stripe < 0))
    my_stripe = (int) (atomic_fetch_add (&next_stripe, 1) % N_STRIPES);
  return &STATS (self)->stripes[my_stripe];
}

static inline void
add (DogpileProxyImpl *self, int counter, guint64 amount)
{
  atomic_fetch_add_explicit (&stripe (self)->counters[counter], amount,
                             memory_order_relaxed);
}

static DogpileProxyImpl *
stats_create (GHashTable *arguments, GError **error)
{
  return g_aligned_alloc0 (1, sizeof (Stats), 128);
}

static void
stats_destroy (DogpileProxyImpl *self)
{
  g_aligned_free (self);
}

static void
count_read (DogpileProxyImpl *self, GBytes *value)
{
  add (self, GETS, 1);
  if (value != NULL)
    {
      add (self, HITS, 1);
      add (self, BYTES_OUT, g_bytes_get_size (value));
    }
  else
    add (self, MISSES, 1);
}

static gboolean
counted (DogpileProxyImpl *self, gboolean ok)
{
  if (!ok)
    add (self, ERRORS, 1);
  return ok;
}

static gboolean
stats_get_value (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
                 GBytes **out_payload, DogpileMetadata *out_metadata,
                 GError **error)
{
  if (!counted (self, dogpile_backend_get_value (next, key, out_payload,
                                                 out_metadata, error)))
    return FALSE;
  count_read (self, *out_payload);
  return TRUE;
}

static gboolean
stats_get_value_multi (DogpileProxyImpl *self, DogpileBackend *next,
                       const char *const *keys, gsize n_keys,
                       GBytes **out_payloads, DogpileMetadata *out_metadata,
                       GError **out_errors, GError **error)
{
  if (!counted (self, dogpile_backend_get_value_multi (
                          next, keys, n_keys, out_payloads, out_metadata,
                          out_errors, error)))
    return FALSE;
  /* a key whose record could not be read is an error, as it is for a
   * single get, not a miss */
  for (gsize i = 0; i < n_keys; i++)
    if (out_errors != NULL && out_errors[i] != NULL)
      add (self, ERRORS, 1);
    else
      count_read (self, out_payloads[i]);
  return TRUE;
}

static gboolean
stats_set_value (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
                 GBytes *payload, const DogpileMetadata *metadata,
                 GError **error)
{
  if (!counted (self, dogpile_backend_set_value (next, key, payload, metadata,
                                                 error)))
    return FALSE;
  add (self, SETS, 1);
  add (self, BYTES_IN, g_bytes_get_size (payload));
  return TRUE;
}

static gboolean
stats_set_value_multi (DogpileProxyImpl *self, DogpileBackend *next,
                       const char *const *keys, GBytes *const *payloads,
                       const DogpileMetadata *metadata, gsize n_keys,
                       GError **error)
{
  if (!counted (self, dogpile_backend_set_value_multi (
                          next, keys, payloads, metadata, n_keys, error)))
    return FALSE;
  add (self, SETS, n_keys);
  for (gsize i = 0; i < n_keys; i++)
    add (self, BYTES_IN, g_bytes_get_size (payloads[i]));
  return TRUE;
}

static gboolean
stats_delete (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
              GError **error)
{
  if (!counted (self, dogpile_backend_delete (next, key, error)))
    return FALSE;
  add (self, DELETES, 1);
  return TRUE;
}

static gboolean
stats_delete_multi (DogpileProxyImpl *self, DogpileBackend *next,
                    const char *const *keys, gsize n_keys, GError **error)
{
  if (!counted (self,
                dogpile_backend_delete_multi (next, keys, n_keys, error)))
    return FALSE;
  add (self, DELETES, n_keys);
  return TRUE;
}

static gboolean
stats_get (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
           GBytes **out_value, GError **error)
{
  if (!counted (self, dogpile_backend_get (next, key, out_value, error)))
    return FALSE;
  count_read (self, *out_value);
  return TRUE;
}

static gboolean
stats_set (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
           GBytes *value, GError **error)
{
  if (!counted (self, dogpile_backend_set (next, key, value, error)))
    return FALSE;
  add (self, SETS, 1);
  add (self, BYTES_IN, g_bytes_get_size (value));
  return TRUE;
}

/* It takes no arguments: any given is reported. */
static const DogpileArgumentSpec stats_arguments[] = {
  DOGPILE_ARGUMENT_SPEC_END,
};

const DogpileProxyDesc dogpile__proxy_stats_desc = {
  .abi_version = DOGPILE_PROXY_ABI_VERSION,
  .name = DOGPILE_PROXY_STATS,
  .description = "Counts gets, hits, misses, sets, deletes, errors and bytes",
  .version = DOGPILE_VERSION_STRING,
  .create = stats_create,
  .destroy = stats_destroy,
  .get_value = stats_get_value,
  .set_value = stats_set_value,
  .get_value_multi = stats_get_value_multi,
  .set_value_multi = stats_set_value_multi,
  .delete_key = stats_delete,
  .delete_multi = stats_delete_multi,
  .get = stats_get,
  .set = stats_set,
  .arguments = stats_arguments,
};

/**
 * dogpile_region_get_stats:
 * @self: a configured region wrapped with %DOGPILE_PROXY_STATS
 * @out_stats: (out caller-allocates): the counts so far; zero-filled
 *   first, left untouched when the call fails
 * @error: return location for a #GError, or %NULL
 *
 * Sums the counters of every stats proxy in the region's chain, and adds
 * the actual backend's evictions (by size, by expiry) and window size
 * when it keeps counters (dogpile_backend_get_counters(); 0 otherwise,
 * and when reading them fails).  dogpile.cache has no counterpart.
 *
 * Errors: %DOGPILE_ERROR_REGION_NOT_CONFIGURED when @self has no backend;
 * %DOGPILE_ERROR_VALIDATION when no stats proxy wraps it.
 *
 * Thread safety: any thread, concurrently with any call on @self; a read
 * racing the operations sees each counter at some recent moment, not one
 * snapshot of them all.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_region_get_stats (DogpileRegion *self, DogpileStats *out_stats,
                          GError **error)
{
  RegionConfig *config;
  DogpileBackendCounters counters;
  gboolean found = FALSE;
  guint64 sums[N_COUNTERS] = { 0 };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out_stats != NULL, FALSE);

  REGION_CONFIG_OR_FAIL (self, config, error);
  for (DogpileBackend *b = config->backend; b != NULL;
       b = dogpile_backend_get_next (b))
    {
      DogpileProxyImpl *impl
          = dogpile__backend_get_proxy_impl (b, &dogpile__proxy_stats_desc);

      if (impl == NULL)
        continue;
      found = TRUE;
      for (int s = 0; s < N_STRIPES; s++)
        for (int c = 0; c < N_COUNTERS; c++)
          sums[c] += atomic_load_explicit (
              &STATS (impl)->stripes[s].counters[c], memory_order_relaxed);
    }
  if (!found)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "Region %s has no stats: wrap it with %s",
                   self->name != NULL ? self->name : "(unnamed)",
                   DOGPILE_PROXY_STATS);
      return FALSE;
    }
  memset (out_stats, 0, sizeof *out_stats);
  out_stats->gets = sums[GETS];
  out_stats->hits = sums[HITS];
  out_stats->misses = sums[MISSES];
  out_stats->sets = sums[SETS];
  out_stats->deletes = sums[DELETES];
  out_stats->errors = sums[ERRORS];
  out_stats->bytes_in = sums[BYTES_IN];
  out_stats->bytes_out = sums[BYTES_OUT];
  if (dogpile_backend_get_counters (config->backend, &counters, NULL))
    {
      out_stats->evictions_size = counters.evictions_size;
      out_stats->evictions_expiry = counters.evictions_expiry;
      out_stats->window_size = counters.window_size;
    }
  return TRUE;
}
