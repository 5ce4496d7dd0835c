/* dogpile-private.h: what the core's files share and nobody else sees.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile-plugin.h>
#include <dogpile/dogpile.h>

G_BEGIN_DECLS

/* dogpile-clock.c */
double dogpile__clock_now_precise (void);

/* One "now" for a batch (Python's get_multi reads the clock once): the
 * coarse reading, and the precise one only if a value is near its
 * deadline. */
typedef struct {
  double coarse;
  double precise; /* < 0 until needed */
  gboolean custom;
} DogpileClockSample;

void dogpile__clock_sample (DogpileClockSample *sample);
gboolean dogpile__clock_sample_age_exceeds (DogpileClockSample *sample,
                                            double cached_time,
                                            double seconds);

/* dogpile-record.c */
char *dogpile__format_double (double value);

/* dogpile-mutex.c */
gboolean dogpile__mutex_try_ref (DogpileMutex *self);

/* dogpile-lock.c: dogpile_lock_enter after the first read, which the
 * region has made already (it returns fresh values without a lock).
 * Takes @value (nullable). */
gboolean dogpile__lock_run (DogpileMutex *mutex, const DogpileLockFuncs *funcs,
                            gpointer user_data, double expiration_time,
                            GBytes *value, double created_time,
                            GBytes **out_value, GError **error);

/* dogpile-async.c */
DogpileAsyncTask *dogpile__async_task_new (DogpileRegion *region,
                                           const char *key,
                                           DogpileCreatorFunc creator,
                                           gpointer user_data,
                                           GDestroyNotify user_data_destroy,
                                           DogpileMutex *mutex);

/* dogpile-loader.c: resolve and check one registry entry's descriptor. */
const DogpileBackendDesc *dogpile__loader_load (const char *name,
                                                const char *module_path,
                                                const char *symbol,
                                                const char *registry_file,
                                                GError **error);
gboolean dogpile__loader_check_desc (const DogpileBackendDesc *desc,
                                     const char *name, const char *where,
                                     GError **error);

/* dogpile-backend.c: the region's view of a backend.  The struct is here so
 * the region's hit path can call a value-level plugin without a detour. */
struct DogpileBackend {
  gint ref_count;
  const DogpileBackendDesc *desc;
  DogpileBackendImpl *impl;
};

/* dogpile-backend.c:  Value-level access
 * works on any backend: value plugins are called directly, byte plugins
 * through the record codec. */
DogpileBackend *dogpile__backend_new_from_desc (const DogpileBackendDesc *desc,
                                                GHashTable *arguments,
                                                GError **error);
const DogpileBackendDesc *dogpile__backend_get_desc (DogpileBackend *self);
gboolean dogpile__backend_get_value (DogpileBackend *self, const char *key,
                                     GBytes **out_payload,
                                     DogpileMetadata *out_metadata,
                                     GError **error);
/* On a record that cannot be decoded: with @out_errors, that key's slot gets
 * the error and the call goes on; without, the call fails. */
gboolean dogpile__backend_get_value_multi (DogpileBackend *self,
                                           const char *const *keys,
                                           gsize n_keys,
                                           GBytes **out_payloads,
                                           DogpileMetadata *out_metadata,
                                           GError **out_errors,
                                           GError **error);
gboolean dogpile__backend_set_value (DogpileBackend *self, const char *key,
                                     GBytes *payload,
                                     const DogpileMetadata *metadata,
                                     GError **error);
gboolean dogpile__backend_set_value_multi (DogpileBackend *self,
                                           const char *const *keys,
                                           GBytes *const *payloads,
                                           const DogpileMetadata *metadata,
                                           gsize n_keys, GError **error);
char *dogpile__backend_mangle_key (DogpileBackend *self, const char *key);
gboolean dogpile__backend_has_key_mangler (DogpileBackend *self);

G_END_DECLS
