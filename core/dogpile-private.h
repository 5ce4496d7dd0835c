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

/* The one answer to "is this value expired", for the region, the lock and
 * get_or_create: a value made at @created_time is expired at @now when it
 * is older than @expiration_time seconds (strictly, as in Python;
 * DOGPILE_EXPIRATION_NONE: never by age).  A created time <= 0 is the
 * lock's "no value", always expired. */
static inline gboolean
dogpile__value_is_expired (DogpileClockSample *now, double created_time,
                           double expiration_time)
{
  if (created_time <= 0)
    return TRUE;
  return expiration_time != DOGPILE_EXPIRATION_NONE
         && dogpile__clock_sample_age_exceeds (now, created_time,
                                               expiration_time);
}

/* dogpile-record.c: Python's repr() of a double; returns the length.
 * "-2.2250738585072014e-308" (24) is the longest. */
#define DOGPILE_DOUBLE_REPR_MAX 32
/* Takes @text; returns it as is when it is UTF-8, else a copy with each
 * byte that is not as \xNN: messages quote input, and a GError message
 * is UTF-8. */
char *dogpile__utf8_escaped (char *text);

gsize dogpile__format_double_repr (double value,
                                   char out[DOGPILE_DOUBLE_REPR_MAX]);

/* dogpile-unicode-printable.c (generated): the code points Python's
 * str.isprintable() rejects, sorted ranges. */
typedef struct {
  guint32 first, last;
} DogpileCodeRange;
extern const DogpileCodeRange dogpile__unicode_not_printable[];
extern const gsize dogpile__unicode_not_printable_count;

/* dogpile-function-args.c: str() (or repr()) of @arg, appended. */
void dogpile__append_arg (GString *out, const DogpileArg *arg, gboolean repr);

/* dogpile-fork.c: hooks of the core, in the tier where their locks sit
 * (see there); plugins' hooks are DOGPILE__FORK_PLUGIN. */
enum {
  DOGPILE__FORK_OUTER,
  DOGPILE__FORK_PLUGIN,
  DOGPILE__FORK_INNER,
  DOGPILE__FORK_N_TIERS
};
DogpileForkHook *dogpile__fork_hook_add (int tier, DogpileForkFunc prepare,
                                         DogpileForkFunc parent,
                                         DogpileForkFunc child,
                                         gpointer user_data);

/* dogpile-mutex.c */
gboolean dogpile__mutex_try_ref (DogpileMutex *self);
/* The in-process mutex, naming @name (a key) in its messages. */
DogpileMutex *dogpile__mutex_new_local_named (const char *name);
void dogpile__mutex_disown (DogpileMutex *self);
void dogpile__mutex_adopt (DogpileMutex *self);
void dogpile__mutex_fork_init (void);
const DogpileMutexFuncs *dogpile__mutex_get_funcs (DogpileMutex *self);
gpointer dogpile__mutex_get_user_data (DogpileMutex *self);

/* dogpile-name-registry.c */
DogpileMutex *dogpile__name_registry_inner (DogpileMutex *mutex);

/* dogpile-lock.c: dogpile_lock_enter after the first read, which the
 * region has made already (it returns fresh values without a lock).
 * Takes @value (nullable). */
gboolean dogpile__lock_run (DogpileMutex *mutex, const DogpileLockFuncs *funcs,
                            gpointer user_data, double expiration_time,
                            GBytes *value, double created_time,
                            GBytes **out_value, GError **error);

/* dogpile-async.c */
DogpileAsyncTask *dogpile__async_task_new (
    DogpileRegion *region, const char *key, DogpileCreatorFunc creator,
    gpointer user_data, GDestroyNotify user_data_destroy, DogpileMutex *mutex);

/* dogpile-arguments.c: the names a plugin's create() reads from
 * @arguments through the dogpile_arguments_*() accessors on this thread,
 * between begin and end (dogpile-backend.c checks them against the
 * plugin's table). */
typedef struct DogpileArgumentsTrace DogpileArgumentsTrace;
struct DogpileArgumentsTrace {
  GHashTable *arguments;
  GPtrArray *names; /* of char *, in first-read order */
  DogpileArgumentsTrace *outer;
};
void dogpile__arguments_trace_begin (DogpileArgumentsTrace *trace,
                                     GHashTable *arguments);
void dogpile__arguments_trace_end (DogpileArgumentsTrace *trace);

/* dogpile-argument-spec.c: why a plugin's argument table cannot be read
 * safely (no end, a bad type, no doc line), or NULL when it can. */
char *dogpile__argument_specs_problem (const DogpileArgumentSpec *specs);

/* dogpile-loader.c: the descriptor a registry entry's symbol returns
 * (@kind names what it is in messages: "cache plugin", "proxy"), and the
 * checks for each kind of descriptor. */
gconstpointer dogpile__loader_load (const char *kind, const char *name,
                                    const char *module_path,
                                    const char *symbol,
                                    const char *registry_file, GError **error);
void dogpile__loader_fork_init (void);
gboolean dogpile__loader_check_desc (const DogpileBackendDesc *desc,
                                     const char *name, const char *where,
                                     GError **error);
gboolean dogpile__loader_check_proxy_desc (const DogpileProxyDesc *desc,
                                           const char *name, const char *where,
                                           GError **error);

/* dogpile-backend.c: a node of a region's chain -- a plugin instance, or
 * a proxy in front of another node.  The struct is private to that file. */
DogpileBackend *dogpile__backend_new_from_desc (const DogpileBackendDesc *desc,
                                                GHashTable *arguments,
                                                gboolean strict,
                                                GError **error);
DogpileBackend *dogpile__backend_new_proxy (const DogpileProxyDesc *proxy,
                                            GHashTable *arguments,
                                            DogpileBackend *next,
                                            gboolean strict, GError **error);
char *dogpile__backend_mangle_key (DogpileBackend *self, const char *key);
/* Tells a plugin its region's expiration time, when it asks (ABI 3). */
void dogpile__backend_set_region_expiration_time (DogpileBackend *self,
                                                  double expiration_time);
gboolean dogpile__backend_has_key_mangler (DogpileBackend *self);
gboolean dogpile__backend_set_serializer (DogpileBackend *self,
                                          const char *serializer,
                                          GError **error);
/* dogpile_backend_get_value without its argument checks: the region's hit
 * path, which has checked them already. */
gboolean dogpile__backend_get_value (DogpileBackend *self, const char *key,
                                     GBytes **out_payload,
                                     DogpileMetadata *out_metadata,
                                     GError **error);
/* A plugin's own get_value, for the region's hit path: the function and
 * the instance, FALSE for a proxy or a byte-level plugin.  The region
 * calls the plugin straight, and on a failure lets the node report it
 * (dogpile__backend_failed), so nothing is asked twice. */
typedef gboolean (*DogpileGetValueFunc) (DogpileBackendImpl *self,
                                         const char *key, GBytes **out_payload,
                                         DogpileMetadata *out_metadata,
                                         GError **error);
gboolean dogpile__backend_get_direct (DogpileBackend *self,
                                      DogpileGetValueFunc *out_func,
                                      DogpileBackendImpl **out_impl);
gboolean dogpile__backend_failed (DogpileBackend *self, const char *operation,
                                  GError **error);
/* The state of @self when it is a node of proxy @desc, else NULL. */
DogpileProxyImpl *
dogpile__backend_get_proxy_impl (DogpileBackend *self,
                                 const DogpileProxyDesc *desc);

/* dogpile-proxy-*.c: the proxies that ship, registered in every registry
 * when it is made (dogpile-registry.c). */
extern const DogpileProxyDesc dogpile__proxy_logging_desc;
extern const DogpileProxyDesc dogpile__proxy_stats_desc;
extern const DogpileProxyDesc dogpile__proxy_faults_desc;

G_END_DECLS
