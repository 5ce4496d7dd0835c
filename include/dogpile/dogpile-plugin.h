/* dogpile-plugin.h: the header for authors of backend plugins.
 *
 * A plugin is a shared module exporting one function that returns a
 * static const DogpileBackendDesc.  A registry file names the module and
 * that function:
 *
 *     [dogpile.cache]
 *     myorg.cache.tiny = tiny.so:dogpile_backend_tiny_get_desc
 *
 * ABI rules (the SQLite VFS iVersion rule, GStreamer's version check):
 *  - The core accepts 1 <= abi_version <= DOGPILE_BACKEND_ABI_VERSION; a
 *    plugin built against a newer core is refused, never guessed at.
 *  - Members are only appended, each group marked with the version that
 *    added it.  The core reads a member added in version N only when
 *    desc->abi_version >= N and the member is not NULL.
 *  - Nothing is reordered, removed or renumbered.  A breaking change
 *    renames the library (libdogpile-2, {libdir}/dogpile-2/).
 *  - The core never unloads a plugin: client libraries keep global state.
 *
 * Ownership: keys are borrowed for the call; GBytes arguments are borrowed
 * (g_bytes_ref to keep them); GBytes out-parameters are (transfer full) and
 * NULL on a miss.  A miss is not an error.  Every operation may be called
 * from many threads at once.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#ifndef __GTK_DOC_IGNORE__
#ifndef DOGPILE_INSIDE
#define DOGPILE_INSIDE
#define DOGPILE_PLUGIN_H_DEFINED_INSIDE
#endif
#endif

#include "dogpile-argument-spec.h"
#include "dogpile-arguments.h"
#include "dogpile-backend.h"
#include "dogpile-clock.h"
#include "dogpile-error.h"
#include "dogpile-fork.h"
#include "dogpile-macros.h"
#include "dogpile-json.h"
#include "dogpile-mutex.h"
#include "dogpile-pickle.h"
#include "dogpile-pickle-text.h"
#include "dogpile-python-value.h"
#include "dogpile-record.h"
#include "dogpile-value.h"
#include "dogpile-version.h"

#ifndef __GTK_DOC_IGNORE__
#ifdef DOGPILE_PLUGIN_H_DEFINED_INSIDE
#undef DOGPILE_INSIDE
#undef DOGPILE_PLUGIN_H_DEFINED_INSIDE
#endif
#endif

G_BEGIN_DECLS

/**
 * SECTION:dogpile-plugin
 * @title: Writing plugins
 * @short_description: the descriptors a backend or proxy plugin exports
 * @include: dogpile/dogpile-plugin.h
 *
 * A plugin is a shared module exporting one function that returns a
 * static, constant #DogpileBackendDesc (or #DogpileProxyDesc); a registry
 * file names the module and that function (docs/writing-plugins.md).  The
 * core accepts descriptors of ABI version 1 to its own; members are only
 * appended, each group marked with the version that added it, and the
 * core reads a member only from a descriptor new enough to have it.
 * Every operation may be called from many threads at once; keys are
 * borrowed for the call, #GBytes arguments are borrowed, #GBytes
 * out-parameters are (transfer full) and %NULL on a miss, and a miss is
 * not an error.
 */

/**
 * DOGPILE_BACKEND_ABI_VERSION:
 *
 * The backend descriptor version these headers describe; a plugin puts it
 * in the `abi_version` member of #DogpileBackendDesc.  4: the argument table.
 */
#define DOGPILE_BACKEND_ABI_VERSION 4

/**
 * DOGPILE_PLUGIN_EXPORT:
 *
 * Exports a plugin's entry point from a module built with
 * `-fvisibility=hidden`.
 */
#if defined(__GNUC__) || defined(__clang__)
#define DOGPILE_PLUGIN_EXPORT __attribute__ ((visibility ("default")))
#else
#define DOGPILE_PLUGIN_EXPORT
#endif

/**
 * DOGPILE_PLUGIN_EXTERN_C:
 *
 * `extern "C"` in C++, so the entry point keeps its C name; nothing in C.
 */
#ifdef __cplusplus
#define DOGPILE_PLUGIN_EXTERN_C extern "C"
#else
#define DOGPILE_PLUGIN_EXTERN_C
#endif

/* The delete operation is the member delete_key.  C code may still name it
 * `delete` (its name before 0.2: one slot, two names); in C++, where delete
 * is a keyword, only delete_key exists.  The layout is the same. */
#ifndef __GTK_DOC_IGNORE__
#ifdef __cplusplus
#define DOGPILE_DELETE_MEMBER(ret, params) ret (*delete_key) params
#else
#define DOGPILE_DELETE_MEMBER(ret, params)                                    \
  union {                                                                     \
    ret (*delete_key) params;                                                 \
    ret (*delete) params;                                                     \
  }
#endif
#endif

/**
 * DogpileBackendImpl:
 *
 * A backend instance: each plugin defines the struct privately; the core
 * only passes pointers to it back to the plugin's operations.
 */
typedef struct DogpileBackendImpl DogpileBackendImpl;

typedef struct DogpileBackendDesc DogpileBackendDesc;

/**
 * DogpileBackendDesc:
 * @abi_version: %DOGPILE_BACKEND_ABI_VERSION at build time
 * @name: the registry name; must equal the registry line's
 * @description: one line, shown by dogpile-plugins
 * @version: the plugin's own version
 * @create: required: a new instance from its arguments (borrowed, not to
 *   be modified), or %NULL with the error set
 * @destroy: required: frees an instance
 * @get: the bytes stored under a key; required unless @get_value and
 *   @set_value are given
 * @set: stores bytes under a key (as @get)
 * @delete_key: required: removes a key (a missing key is not an error);
 *   C code may also call it `delete`
 * @get_multi: optional: many keys at once (%NULL: a loop over @get)
 * @set_multi: optional: many values at once
 * @delete_multi: optional: many deletes at once
 * @get_mutex: optional: the backend's own mutex for regenerating a key (a
 *   distributed lock), (transfer full); %NULL: an in-process lock
 * @mangle_key: optional: the key mangler used when the region has none,
 *   (transfer full), or %NULL to leave a key as it is
 * @get_value: optional value level, for backends that keep payloads in
 *   process memory by reference, with their metadata
 * @set_value: the value level's store
 * @set_serializer: ABI 2, optional: told the region's serializer name
 *   once, after @create; may refuse it
 * @get_counters: ABI 3, optional: the backend's #DogpileBackendCounters
 * @set_region_expiration_time: ABI 3, optional: told the region's
 *   expiration time once (negative: none)
 * @arguments: ABI 4, optional: the arguments it takes, a
 *   #DogpileArgumentSpec table
 *
 * What a backend plugin's entry point returns: a static, constant table
 * of its operations.  The comments in the header say more of each.
 */
struct DogpileBackendDesc {
  /* ABI version 1 */
  guint32 abi_version;     /* DOGPILE_BACKEND_ABI_VERSION at build time */
  const char *name;        /* must equal the registry name */
  const char *description; /* one line, shown by dogpile-plugins */
  const char *version;     /* the plugin's own version */

  /* Required.  @arguments maps argument names to strings; it is borrowed
   * and must not be modified (the dogpile_arguments_* accessors read it).
   * Names the backend does not read are ignored, as in dogpile.cache,
   * unless it declares its arguments (ABI version 4, below). */
  DogpileBackendImpl *(*create) (GHashTable *arguments, GError **error);
  void (*destroy) (DogpileBackendImpl *self);

  /* Byte level: the backend keeps whatever bytes it is given; the region
   * hands it dogpile_record_encode() records.  get and set are required
   * unless get_value and set_value are given; delete_key is required. */
  gboolean (*get) (DogpileBackendImpl *self, const char *key,
                   GBytes **out_value, GError **error);
  gboolean (*set) (DogpileBackendImpl *self, const char *key, GBytes *value,
                   GError **error);
  DOGPILE_DELETE_MEMBER (gboolean, (DogpileBackendImpl * self, const char *key,
                                    GError **error));

  /* Optional: NULL makes the core loop over the single-key operation.
   * out_values has n_keys slots, all NULL on entry. */
  gboolean (*get_multi) (DogpileBackendImpl *self, const char *const *keys,
                         gsize n_keys, GBytes **out_values, GError **error);
  gboolean (*set_multi) (DogpileBackendImpl *self, const char *const *keys,
                         GBytes *const *values, gsize n_keys, GError **error);
  gboolean (*delete_multi) (DogpileBackendImpl *self, const char *const *keys,
                            gsize n_keys, GError **error);

  /* Optional: a mutex for regenerating @key (a distributed lock); NULL
   * makes the region use an in-process lock per key. (transfer full) */
  DogpileMutex *(*get_mutex) (DogpileBackendImpl *self, const char *key);

  /* Optional: a key mangler the region uses when it has none of its own.
   * Returns a new string (transfer full), or NULL to leave @key as it is
   * (a mangler for only some keys). */
  char *(*mangle_key) (DogpileBackendImpl *self, const char *key);

  /* Optional value level, for backends that keep payloads in process
   * memory: the payload is kept by reference (no copy, no parsing) with
   * its metadata.  When given, the region uses these instead of get/set. */
  gboolean (*get_value) (DogpileBackendImpl *self, const char *key,
                         GBytes **out_payload, DogpileMetadata *out_metadata,
                         GError **error);
  gboolean (*set_value) (DogpileBackendImpl *self, const char *key,
                         GBytes *payload, const DogpileMetadata *metadata,
                         GError **error);

  /* ABI version 2 */

  /* Optional: the name of the region's payload serializer ("raw", "json",
   * "pickle" or "custom"), told once, after create and before any other
   * call.  For a backend whose Python peers keep values in a client's own
   * form: with "pickle", memcached stores what the Python client it is
   * named after stores for a stock Python region (a pickled CachedValue).  A
   * serializer the backend cannot work with fails configure with @error. */
  gboolean (*set_serializer) (DogpileBackendImpl *self, const char *serializer,
                              GError **error);

  /* ABI version 3 */

  /* Optional: the backend's counters (evictions by size and by expiry,
   * the policy's window; see DogpileBackendCounters), read by
   * dogpile_backend_get_counters, dogpile_region_get_backend_counters and
   * the stats proxy.  @out_counters is zero-filled on entry; fill what the
   * backend keeps. */
  gboolean (*get_counters) (DogpileBackendImpl *self,
                            DogpileBackendCounters *out_counters,
                            GError **error);

  /* Optional: the region's expiration time in seconds (a negative value:
   * none), told once when a region is configured with this instance, after
   * set_serializer.  For a backend with its own expiry to check it against
   * (dogpile.cache.memory warns when memory_expiration_time would drop
   * values the dogpile lock still needs). */
  void (*set_region_expiration_time) (DogpileBackendImpl *self,
                                      double expiration_time);

  /* ABI version 4 */

  /* Optional: the arguments this backend takes, ended by
   * DOGPILE_ARGUMENT_SPEC_END (dogpile-argument-spec.h).  With a table, an
   * argument it does not name is a warning when the backend is created
   * (an error with DOGPILE_CONFIGURE_STRICT_ARGUMENTS), and
   * `dogpile-plugins NAME` lists them.  NULL: any argument is accepted
   * unseen, as in dogpile.cache. */
  const DogpileArgumentSpec *arguments;

  /* ABI version 5 and later: append new members below this line only. */
};

/**
 * DOGPILE_BACKEND_DEFINE:
 * @short_name: the plugin's short name, an identifier
 * @desc_var: its static #DogpileBackendDesc
 *
 * Writes the exported entry point `dogpile_backend_SHORT_NAME_get_desc`,
 * returning @desc_var, for a registry line to name.
 */
#define DOGPILE_BACKEND_DEFINE(short_name, desc_var)                          \
  DOGPILE_PLUGIN_EXTERN_C DOGPILE_PLUGIN_EXPORT const DogpileBackendDesc      \
      *dogpile_backend_##short_name##_get_desc (void);                        \
  DOGPILE_PLUGIN_EXTERN_C const DogpileBackendDesc                            \
      *dogpile_backend_##short_name##_get_desc (void)                         \
  {                                                                           \
    return &(desc_var);                                                       \
  }

/**
 * DogpileBackendGetDescFunc:
 *
 * The exported entry point of a backend plugin (DOGPILE_BACKEND_DEFINE()
 * writes one).
 *
 * Returns: (transfer none): the plugin's static descriptor
 */
typedef const DogpileBackendDesc *(*DogpileBackendGetDescFunc) (void);

/* Proxies (dogpile.cache's ProxyBackend): a proxy sits in front of a
 * region's backend and sees every operation; whatever it leaves NULL goes
 * straight to @next.  An implementation forwards with the
 * dogpile_backend_* calls on @next.  Regions work at the value level
 * (get_value, set_value and their multi forms); get and set are the raw
 * byte API.  Same ABI rules as backends, with their own version. */
/**
 * DOGPILE_PROXY_ABI_VERSION:
 *
 * The proxy descriptor version these headers describe.  2: the argument
 * table.
 */
#define DOGPILE_PROXY_ABI_VERSION 2

/**
 * DogpileProxyImpl:
 *
 * A proxy's state, defined privately by each proxy.
 */
typedef struct DogpileProxyImpl DogpileProxyImpl;
typedef struct DogpileProxyDesc DogpileProxyDesc;

/**
 * DogpileProxyDesc:
 * @abi_version: %DOGPILE_PROXY_ABI_VERSION at build time
 * @name: the registry name; must equal the registry line's
 * @description: one line, shown by dogpile-plugins
 * @version: the proxy's own version
 * @create: optional (with @destroy): the proxy's state from its arguments
 * @destroy: frees that state
 * @get_value: optional: a region's value-level get (%NULL: passed to next)
 * @set_value: optional: a region's value-level set
 * @get_value_multi: optional: the value-level multi get
 * @set_value_multi: optional: the value-level multi set
 * @delete_key: optional: delete
 * @delete_multi: optional: multi delete
 * @get_mutex: optional: the regeneration mutex for a key
 * @get: optional: the raw byte get
 * @set: optional: the raw byte set
 * @arguments: ABI 2, optional: the arguments it takes, a
 *   #DogpileArgumentSpec table
 *
 * What a proxy (dogpile.cache's ProxyBackend) exports: it sits in front of
 * a region's backend and sees every operation; whatever it leaves %NULL
 * goes straight to the next node, and an implementation forwards with the
 * dogpile_backend_*() calls on it.
 */
struct DogpileProxyDesc {
  /* ABI version 1 */
  guint32 abi_version; /* DOGPILE_PROXY_ABI_VERSION at build time */
  const char *name;    /* must equal the registry name */
  const char *description;
  const char *version;

  /* Both optional: a proxy without state has no create. */
  DogpileProxyImpl *(*create) (GHashTable *arguments, GError **error);
  void (*destroy) (DogpileProxyImpl *self);

  gboolean (*get_value) (DogpileProxyImpl *self, DogpileBackend *next,
                         const char *key, GBytes **out_payload,
                         DogpileMetadata *out_metadata, GError **error);
  gboolean (*set_value) (DogpileProxyImpl *self, DogpileBackend *next,
                         const char *key, GBytes *payload,
                         const DogpileMetadata *metadata, GError **error);
  gboolean (*get_value_multi) (DogpileProxyImpl *self, DogpileBackend *next,
                               const char *const *keys, gsize n_keys,
                               GBytes **out_payloads,
                               DogpileMetadata *out_metadata,
                               GError **out_errors, GError **error);
  gboolean (*set_value_multi) (DogpileProxyImpl *self, DogpileBackend *next,
                               const char *const *keys,
                               GBytes *const *payloads,
                               const DogpileMetadata *metadata, gsize n_keys,
                               GError **error);
  DOGPILE_DELETE_MEMBER (gboolean,
                         (DogpileProxyImpl * self, DogpileBackend *next,
                          const char *key, GError **error));
  gboolean (*delete_multi) (DogpileProxyImpl *self, DogpileBackend *next,
                            const char *const *keys, gsize n_keys,
                            GError **error);
  DogpileMutex *(*get_mutex) (DogpileProxyImpl *self, DogpileBackend *next,
                              const char *key);
  gboolean (*get) (DogpileProxyImpl *self, DogpileBackend *next,
                   const char *key, GBytes **out_value, GError **error);
  gboolean (*set) (DogpileProxyImpl *self, DogpileBackend *next,
                   const char *key, GBytes *value, GError **error);

  /* ABI version 2 */

  /* Optional: the arguments this proxy takes, as a backend's (above). */
  const DogpileArgumentSpec *arguments;

  /* ABI version 3 and later: append new members below this line only. */
};

/**
 * DOGPILE_PROXY_DEFINE:
 * @short_name: the proxy's short name, an identifier
 * @desc_var: its static #DogpileProxyDesc
 *
 * Writes the exported entry point `dogpile_proxy_SHORT_NAME_get_desc`,
 * returning @desc_var.
 */
#define DOGPILE_PROXY_DEFINE(short_name, desc_var)                            \
  DOGPILE_PLUGIN_EXTERN_C DOGPILE_PLUGIN_EXPORT const DogpileProxyDesc        \
      *dogpile_proxy_##short_name##_get_desc (void);                          \
  DOGPILE_PLUGIN_EXTERN_C const DogpileProxyDesc                              \
      *dogpile_proxy_##short_name##_get_desc (void)                           \
  {                                                                           \
    return &(desc_var);                                                       \
  }

/**
 * DogpileProxyGetDescFunc:
 *
 * The exported entry point of a proxy plugin (DOGPILE_PROXY_DEFINE()
 * writes one).
 *
 * Returns: (transfer none): the proxy's static descriptor
 */
typedef const DogpileProxyDesc *(*DogpileProxyGetDescFunc) (void);

G_END_DECLS
