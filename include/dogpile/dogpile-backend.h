/* dogpile-backend.h: a live backend instance, as a region holds it.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"
#include "dogpile-mutex.h"
#include "dogpile-value.h"

G_BEGIN_DECLS

/**
 * SECTION:dogpile-backend
 * @title: Backends
 * @short_description: a live backend instance or proxy, as a region holds it
 * @include: dogpile/dogpile.h
 *
 * A #DogpileBackend is one node of a region's chain: a plugin's instance
 * (dogpile.cache's CacheBackend) or a proxy in front of another node
 * (ProxyBackend).  dogpile_region_get_backend() gives a region's first
 * node, dogpile_backend_new() one outside any region, for raw access to
 * the stored bytes.  The byte calls (get, set) see what is stored; the
 * value calls (get_value, set_value) see payloads and their
 * #DogpileMetadata, as regions use them.
 */

/**
 * DogpileBackend:
 *
 * An opaque, reference-counted backend instance or proxy.  Every call may
 * be made from any thread at once.
 */
typedef struct DogpileBackend DogpileBackend;

DOGPILE_API DogpileBackend *
dogpile_backend_new (const char *name, GHashTable *arguments, GError **error);
DOGPILE_API DogpileBackend *dogpile_backend_ref (DogpileBackend *self);
DOGPILE_API void dogpile_backend_unref (DogpileBackend *self);

DOGPILE_API const char *dogpile_backend_get_name (DogpileBackend *self);
DOGPILE_API const char *dogpile_backend_get_description (DogpileBackend *self);

/* Raw access to the stored bytes, like dogpile.cache's get_serialized and
 * set_serialized: no framing is added or removed.  Backends that keep
 * values in memory present them as records (dogpile_record_encode). */
DOGPILE_API gboolean dogpile_backend_get (DogpileBackend *self,
                                          const char *key, GBytes **out_value,
                                          GError **error);
DOGPILE_API gboolean dogpile_backend_set (DogpileBackend *self,
                                          const char *key, GBytes *value,
                                          GError **error);
DOGPILE_API gboolean dogpile_backend_delete (DogpileBackend *self,
                                             const char *key, GError **error);
DOGPILE_API gboolean dogpile_backend_get_multi (DogpileBackend *self,
                                                const char *const *keys,
                                                gsize n_keys,
                                                GBytes **out_values,
                                                GError **error);
DOGPILE_API gboolean dogpile_backend_set_multi (DogpileBackend *self,
                                                const char *const *keys,
                                                GBytes *const *values,
                                                gsize n_keys, GError **error);
DOGPILE_API gboolean dogpile_backend_delete_multi (DogpileBackend *self,
                                                   const char *const *keys,
                                                   gsize n_keys,
                                                   GError **error);
DOGPILE_API DogpileMutex *dogpile_backend_get_mutex (DogpileBackend *self,
                                                     const char *key);

/* Value access, what a region uses: payload + metadata, whatever level
 * the backend (or the proxy) works at.  A record that cannot be decoded
 * fails with DOGPILE_ERROR_CANT_DESERIALIZE; in the multi form, with
 * @out_errors, that key's slot gets the error and the call goes on. */
DOGPILE_API gboolean dogpile_backend_get_value (DogpileBackend *self,
                                                const char *key,
                                                GBytes **out_payload,
                                                DogpileMetadata *out_metadata,
                                                GError **error);
DOGPILE_API gboolean dogpile_backend_set_value (
    DogpileBackend *self, const char *key, GBytes *payload,
    const DogpileMetadata *metadata, GError **error);
DOGPILE_API gboolean dogpile_backend_get_value_multi (
    DogpileBackend *self, const char *const *keys, gsize n_keys,
    GBytes **out_payloads, DogpileMetadata *out_metadata, GError **out_errors,
    GError **error);
DOGPILE_API gboolean dogpile_backend_set_value_multi (
    DogpileBackend *self, const char *const *keys, GBytes *const *payloads,
    const DogpileMetadata *metadata, gsize n_keys, GError **error);

/* A proxy's next backend in a region's chain; NULL for a plugin. */
DOGPILE_API DogpileBackend *dogpile_backend_get_next (DogpileBackend *self);

/**
 * DogpileBackendCounters:
 * @entries: entries held now
 * @weighted_size: their total cost, in the bound's units
 * @maximum: the bound, in those units; 0 when none
 * @evictions_size: entries removed to stay within the bound
 * @evictions_expiry: entries removed for their age
 * @window_maximum: the admission window's target (W-TinyLFU)
 * @window_size: what the window holds now
 * @protected_maximum: the main space's protected segment
 * @climbs: adaptation samples taken
 * @sketch_resets: times the frequency sketch was aged
 *
 * What a bounded or expiring backend has done, for the stats proxy and for
 * tools (dogpile-cache replay --counters).  The caller allocates it; its
 * size is fixed and new counters take the reserved room.  Sizes are in the
 * backend's own units: entries, or bytes when the bound is in bytes.  A
 * counter the backend does not keep reads 0.
 */
typedef struct {
  guint64 entries;           /* entries held now */
  guint64 weighted_size;     /* their total cost, in the bound's units */
  guint64 maximum;           /* the bound, in those units; 0 when none */
  guint64 evictions_size;    /* entries removed to stay within the bound */
  guint64 evictions_expiry;  /* entries removed for their age */
  guint64 window_maximum;    /* the admission window's target (W-TinyLFU) */
  guint64 window_size;       /* ... and what it holds now */
  guint64 protected_maximum; /* the main space's protected segment */
  guint64 climbs;            /* adaptation samples taken */
  guint64 sketch_resets;     /* times the frequency sketch was aged */
  /*< private >*/
  guint64 reserved[6];
} DogpileBackendCounters;

/* Reads the counters of the plugin at the end of @self's chain (a proxy
 * passes the call on).  Fails with DOGPILE_ERROR_VALIDATION when that
 * plugin keeps none (it has no get_counters, or predates ABI 3). */
DOGPILE_API gboolean dogpile_backend_get_counters (
    DogpileBackend *self, DogpileBackendCounters *out_counters,
    GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpileBackend, dogpile_backend_unref)

G_END_DECLS
