/* dogpile-arguments.h: reading a backend's arguments.
 *
 * Arguments arrive as strings (a config file has nothing else) and are
 * read as dogpile.cache's coerce_string_conf reads them: surrounding
 * spaces are stripped, and an argument that is absent, empty or "None" is
 * not given, so the default applies.  Every reader that can fail does so
 * with DOGPILE_ERROR_VALIDATION and a message naming the argument, what it
 * must be and the value given; plugins need no checks of their own.
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
 * SECTION:dogpile-arguments
 * @title: Reading arguments
 * @short_description: a backend's string arguments, read as dogpile.cache
 *   reads them
 * @include: dogpile/dogpile-plugin.h
 *
 * Arguments arrive as strings (a config file has nothing else) and are
 * read as dogpile.cache's coerce_string_conf reads them: surrounding
 * spaces are stripped, and an argument that is absent, empty or `None` is
 * not given, so the default applies.  Every reader that can fail does so
 * with %DOGPILE_ERROR_VALIDATION and a message naming the argument, what
 * it must be and the value given.
 */

/**
 * DogpileArgumentsFlags:
 * @DOGPILE_ARGUMENTS_NONE: the range's minimum is accepted
 * @DOGPILE_ARGUMENTS_ABOVE_MIN: the minimum itself is refused
 *
 * How the range readers treat their minimum.
 */
typedef enum {
  DOGPILE_ARGUMENTS_NONE = 0,
  DOGPILE_ARGUMENTS_ABOVE_MIN = 1 << 0, /* the minimum itself is refused */
} DogpileArgumentsFlags;

/* Whether @name is given (present, not empty, not "None"). */
DOGPILE_API gboolean dogpile_arguments_has (GHashTable *arguments,
                                            const char *name);

/* Whether @name is spelt out as "none" (any case, stripped): Python's
 * None given on purpose, where the readers above take it for "not given". */
DOGPILE_API gboolean dogpile_arguments_is_none (GHashTable *arguments,
                                                const char *name);

/* The value exactly as given (not stripped), or @default_value when
 * absent or "None"; (transfer none). */
DOGPILE_API gboolean dogpile_arguments_get_string (GHashTable *arguments,
                                                   const char *name,
                                                   const char *default_value,
                                                   const char **out_value,
                                                   GError **error);
/* The value stripped, or a copy of @default_value; (transfer full). */
DOGPILE_API gboolean dogpile_arguments_dup_string (GHashTable *arguments,
                                                   const char *name,
                                                   const char *default_value,
                                                   char **out_value,
                                                   GError **error);
DOGPILE_API gboolean dogpile_arguments_get_int (GHashTable *arguments,
                                                const char *name,
                                                gint64 default_value,
                                                gint64 *out_value,
                                                GError **error);
/* An integer from @min to @max (inclusive). */
DOGPILE_API gboolean dogpile_arguments_get_int_range (
    GHashTable *arguments, const char *name, gint64 default_value, gint64 min,
    gint64 max, gint64 *out_value, GError **error);
DOGPILE_API gboolean dogpile_arguments_get_double (GHashTable *arguments,
                                                   const char *name,
                                                   double default_value,
                                                   double *out_value,
                                                   GError **error);
/* true or false (any case), 1 or 0. */
DOGPILE_API gboolean dogpile_arguments_get_boolean (GHashTable *arguments,
                                                    const char *name,
                                                    gboolean default_value,
                                                    gboolean *out_value,
                                                    GError **error);
/* Seconds, `1h30m`-style durations, or Python's str(timedelta). */
DOGPILE_API gboolean dogpile_arguments_get_duration (GHashTable *arguments,
                                                     const char *name,
                                                     double default_value,
                                                     double *out_seconds,
                                                     GError **error);
/* A duration from @min (above it, with DOGPILE_ARGUMENTS_ABOVE_MIN) to
 * @max seconds. */
DOGPILE_API gboolean dogpile_arguments_get_duration_range (
    GHashTable *arguments, const char *name, double default_value, double min,
    double max, DogpileArgumentsFlags flags, double *out_seconds,
    GError **error);
/* One of the NULL-terminated @choices, any ASCII case: its index. */
DOGPILE_API gboolean dogpile_arguments_get_choice (
    GHashTable *arguments, const char *name, const char *const *choices,
    guint default_index, guint *out_index, GError **error);
/* Items separated by commas or whitespace; (transfer full). */
DOGPILE_API gboolean dogpile_arguments_dup_list (GHashTable *arguments,
                                                 const char *name,
                                                 char ***out_list,
                                                 GError **error);

/* An expiration time as a config file writes it: `none`, empty or -1 for
 * DOGPILE_EXPIRATION_NONE, else a duration. */
DOGPILE_API gboolean dogpile_parse_expiration_time (const char *text,
                                                    double *out_seconds,
                                                    GError **error);

G_END_DECLS
