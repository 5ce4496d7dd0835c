/* dogpile-argument-spec.h: the table of arguments a backend or proxy
 * declares, so that a misspelt argument is reported instead of silently
 * becoming a default, and dogpile-plugins can list what a backend takes.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"

G_BEGIN_DECLS

/**
 * SECTION:dogpile-argument-spec
 * @title: Argument tables
 * @short_description: the arguments a backend or proxy declares
 * @include: dogpile/dogpile-plugin.h
 *
 * A backend's descriptor (ABI version 4, #DogpileBackendDesc) and a
 * proxy's (ABI version 2, #DogpileProxyDesc) may point at a table of the
 * arguments it takes, one #DogpileArgumentSpec each, ended by
 * %DOGPILE_ARGUMENT_SPEC_END.  With a table, an argument the table does
 * not name is reported when the backend is created: a warning (with the
 * nearest name the table has) by default, a %DOGPILE_ERROR_VALIDATION
 * error with %DOGPILE_CONFIGURE_STRICT_ARGUMENTS (`strict_arguments = true`
 * in a config file, `--strict` on the command line).  dogpile.cache
 * itself ignores unknown arguments; so does a backend without a table.
 *
 * The table only names and documents the arguments: the backend still
 * reads and checks each value with the dogpile_arguments_*() readers.
 *
 * |[<!-- language="C" -->
 * static const DogpileArgumentSpec tiny_arguments[] = {
 *   DOGPILE_ARGUMENT ("path", DOGPILE_ARGUMENT_FILENAME,
 *                     DOGPILE_ARGUMENT_REQUIRED, NULL,
 *                     "the folder holding one file per key"),
 *   DOGPILE_ARGUMENT ("fsync", DOGPILE_ARGUMENT_BOOLEAN,
 *                     DOGPILE_ARGUMENT_C_ONLY, "false",
 *                     "fsync each file written"),
 *   DOGPILE_ARGUMENT_SPEC_END
 * };
 * ]|
 */

/**
 * DogpileArgumentType:
 * @DOGPILE_ARGUMENT_STRING: any text
 * @DOGPILE_ARGUMENT_BOOLEAN: `true` or `false` (any case), `1` or `0`
 * @DOGPILE_ARGUMENT_INTEGER: a whole number
 * @DOGPILE_ARGUMENT_NUMBER: a decimal number
 * @DOGPILE_ARGUMENT_DURATION: seconds, or a duration such as `1h30m`
 * @DOGPILE_ARGUMENT_CHOICE: one of a few words (the doc line names them)
 * @DOGPILE_ARGUMENT_LIST: items separated by commas or spaces
 * @DOGPILE_ARGUMENT_MAPPING: a Python dict literal, or `NAME.KEY` arguments
 * @DOGPILE_ARGUMENT_FILENAME: a file or folder name
 *
 * What an argument's text is read as; shown by `dogpile-plugins NAME`.
 * Append only: the values are ABI.
 */
typedef enum {
  DOGPILE_ARGUMENT_STRING,
  DOGPILE_ARGUMENT_BOOLEAN,
  DOGPILE_ARGUMENT_INTEGER,
  DOGPILE_ARGUMENT_NUMBER,
  DOGPILE_ARGUMENT_DURATION,
  DOGPILE_ARGUMENT_CHOICE,
  DOGPILE_ARGUMENT_LIST,
  DOGPILE_ARGUMENT_MAPPING,
  DOGPILE_ARGUMENT_FILENAME,
} DogpileArgumentType;

/**
 * DogpileArgumentFlags:
 * @DOGPILE_ARGUMENT_FLAGS_NONE: an optional argument Python's backend
 *   takes too
 * @DOGPILE_ARGUMENT_REQUIRED: creating the backend without it fails
 * @DOGPILE_ARGUMENT_IGNORED: Python's backend takes it, this one accepts
 *   and ignores it (an object a config string cannot carry, say); the doc
 *   line says why
 * @DOGPILE_ARGUMENT_C_ONLY: Python's backend has no such argument (and
 *   ignores it, so a config shared with Python may still give it)
 * @DOGPILE_ARGUMENT_PREFIX: the name is a prefix: every argument that
 *   starts with it is this one's (`behaviors.` for `behaviors.ketama`;
 *   "" for any argument at all)
 *
 * What else there is to know of an argument.  Append only.
 */
typedef enum {
  DOGPILE_ARGUMENT_FLAGS_NONE = 0,
  DOGPILE_ARGUMENT_REQUIRED = 1 << 0,
  DOGPILE_ARGUMENT_IGNORED = 1 << 1,
  DOGPILE_ARGUMENT_C_ONLY = 1 << 2,
  DOGPILE_ARGUMENT_PREFIX = 1 << 3,
} DogpileArgumentFlags;

/**
 * DogpileArgumentSpec:
 * @name: the argument's name, as a config file's `arguments.NAME` gives
 *   it; %NULL ends the table
 * @type: what its text is read as
 * @flags: #DogpileArgumentFlags
 * @default_value: (nullable): its default as text, for people ("30 s",
 *   "`<filename>.rw.lock`"); %NULL when it has none
 * @doc: one line: what it does
 *
 * One argument of a backend or proxy.  Tables are static and constant;
 * the core reads them, never frees them.
 */
typedef struct {
  const char *name;
  DogpileArgumentType type;
  DogpileArgumentFlags flags;
  const char *default_value;
  const char *doc;
  /*< private >*/
  gpointer reserved[2];
} DogpileArgumentSpec;

/**
 * DOGPILE_ARGUMENT:
 * @name_: the argument's name
 * @type_: a #DogpileArgumentType
 * @flags_: #DogpileArgumentFlags
 * @default_: (nullable): the default as text, or %NULL
 * @doc_: one line
 *
 * One entry of a table, its reserved room zeroed (so `-Wextra` is quiet in
 * C and C++ alike).
 */
#ifdef __cplusplus
#define DOGPILE_ARGUMENT(name_, type_, flags_, default_, doc_)                \
  {                                                                           \
    (name_), (type_), (flags_), (default_), (doc_), { NULL, NULL }            \
  }
#else
#define DOGPILE_ARGUMENT(name_, type_, flags_, default_, doc_)                \
  {                                                                           \
    .name = (name_), .type = (type_), .flags = (flags_),                      \
    .default_value = (default_), .doc = (doc_)                                \
  }
#endif

/**
 * DOGPILE_ARGUMENT_SPEC_END:
 *
 * The entry that ends an argument table.
 */
#define DOGPILE_ARGUMENT_SPEC_END                                             \
  DOGPILE_ARGUMENT (NULL, DOGPILE_ARGUMENT_STRING,                            \
                    DOGPILE_ARGUMENT_FLAGS_NONE, NULL, NULL)

/**
 * DOGPILE_ARGUMENT_SPECS_MAX:
 *
 * The most entries a table may have before its end: a table without its
 * end entry is refused when the plugin loads, not read past.
 */
#define DOGPILE_ARGUMENT_SPECS_MAX 1024

DOGPILE_API const char *
dogpile_argument_type_get_name (DogpileArgumentType type);

DOGPILE_API const DogpileArgumentSpec *
dogpile_argument_specs_lookup (const DogpileArgumentSpec *specs,
                               const char *name);

DOGPILE_API gboolean dogpile_argument_specs_check (
    const DogpileArgumentSpec *specs, const char *owner, GHashTable *arguments,
    gboolean strict, GError **error);

#ifndef __GTK_DOC_IGNORE__
typedef struct DogpileBackendDesc DogpileBackendDesc; /* dogpile-plugin.h */
typedef struct DogpileProxyDesc DogpileProxyDesc;
#endif

DOGPILE_API const DogpileArgumentSpec *
dogpile_backend_desc_get_arguments (const DogpileBackendDesc *desc);

DOGPILE_API const DogpileArgumentSpec *
dogpile_proxy_desc_get_arguments (const DogpileProxyDesc *desc);

G_END_DECLS
