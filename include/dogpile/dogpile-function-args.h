/* dogpile-function-args.h: a cached function's arguments: typed values that
 * format as Python's str() and repr() would.
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

typedef enum {
  DOGPILE_ARG_TYPE_NONE,    /* Python None */
  DOGPILE_ARG_TYPE_BOOL,    /* True / False */
  DOGPILE_ARG_TYPE_INT,     /* int */
  DOGPILE_ARG_TYPE_UINT,    /* int (unsigned 64-bit range) */
  DOGPILE_ARG_TYPE_DOUBLE,  /* float */
  DOGPILE_ARG_TYPE_STRING,  /* str (UTF-8) */
  DOGPILE_ARG_TYPE_BYTES,   /* bytes */
  DOGPILE_ARG_TYPE_VARIANT, /* any Python value, as
                             * dogpile-python-value.h maps it: tuples,
                             * lists, dicts, big ints, sets ... */
} DogpileArgType;

/* One argument.  @name is NULL for a positional argument, or the keyword
 * of a keyword argument.  Strings, bytes and variants are borrowed. */
typedef struct {
  DogpileArgType type;
  const char *name;
  union {
    gboolean b;
    gint64 i;
    guint64 u;
    double d;
    const char *s;
    struct {
      gconstpointer data;
      gsize len;
    } bytes;
    GVariant *variant;
  } v;
} DogpileArg;

#ifndef __cplusplus
#define DOGPILE_NONE ((DogpileArg){ .type = DOGPILE_ARG_TYPE_NONE })
#define DOGPILE_BOOL(x)                                                       \
  ((DogpileArg){ .type = DOGPILE_ARG_TYPE_BOOL, .v.b = !!(x) })
#define DOGPILE_INT(x)                                                        \
  ((DogpileArg){ .type = DOGPILE_ARG_TYPE_INT, .v.i = (x) })
#define DOGPILE_UINT(x)                                                       \
  ((DogpileArg){ .type = DOGPILE_ARG_TYPE_UINT, .v.u = (x) })
#define DOGPILE_DOUBLE(x)                                                     \
  ((DogpileArg){ .type = DOGPILE_ARG_TYPE_DOUBLE, .v.d = (x) })
#define DOGPILE_STRING(x)                                                     \
  ((DogpileArg){ .type = DOGPILE_ARG_TYPE_STRING, .v.s = (x) })
#define DOGPILE_BYTES(p, n)                                                   \
  ((DogpileArg){ .type = DOGPILE_ARG_TYPE_BYTES, .v.bytes = { (p), (n) } })
#define DOGPILE_VARIANT(x)                                                    \
  ((DogpileArg){ .type = DOGPILE_ARG_TYPE_VARIANT, .v.variant = (x) })
/* A keyword argument: DOGPILE_NAMED ("lang", DOGPILE_STRING ("en")). */
#define DOGPILE_NAMED(n, arg)                                                 \
  ((DogpileArg){ .type = (arg).type, .name = (n), .v = (arg).v })
#else
/* C++ has neither compound literals nor nested designators: the same
 * macros, as inline functions. */
static inline DogpileArg
dogpile_arg_make_ (DogpileArgType type)
{
  DogpileArg arg = {};
  arg.type = type;
  return arg;
}
static inline DogpileArg
dogpile_arg_bool_ (gboolean x)
{
  DogpileArg arg = dogpile_arg_make_ (DOGPILE_ARG_TYPE_BOOL);
  arg.v.b = !!x;
  return arg;
}
static inline DogpileArg
dogpile_arg_int_ (gint64 x)
{
  DogpileArg arg = dogpile_arg_make_ (DOGPILE_ARG_TYPE_INT);
  arg.v.i = x;
  return arg;
}
static inline DogpileArg
dogpile_arg_uint_ (guint64 x)
{
  DogpileArg arg = dogpile_arg_make_ (DOGPILE_ARG_TYPE_UINT);
  arg.v.u = x;
  return arg;
}
static inline DogpileArg
dogpile_arg_double_ (double x)
{
  DogpileArg arg = dogpile_arg_make_ (DOGPILE_ARG_TYPE_DOUBLE);
  arg.v.d = x;
  return arg;
}
static inline DogpileArg
dogpile_arg_string_ (const char *x)
{
  DogpileArg arg = dogpile_arg_make_ (DOGPILE_ARG_TYPE_STRING);
  arg.v.s = x;
  return arg;
}
static inline DogpileArg
dogpile_arg_bytes_ (gconstpointer p, gsize n)
{
  DogpileArg arg = dogpile_arg_make_ (DOGPILE_ARG_TYPE_BYTES);
  arg.v.bytes.data = p;
  arg.v.bytes.len = n;
  return arg;
}
static inline DogpileArg
dogpile_arg_variant_ (GVariant *x)
{
  DogpileArg arg = dogpile_arg_make_ (DOGPILE_ARG_TYPE_VARIANT);
  arg.v.variant = x;
  return arg;
}
static inline DogpileArg
dogpile_arg_named_ (const char *name, DogpileArg arg)
{
  arg.name = name;
  return arg;
}
#define DOGPILE_NONE (dogpile_arg_make_ (DOGPILE_ARG_TYPE_NONE))
#define DOGPILE_BOOL(x) (dogpile_arg_bool_ (x))
#define DOGPILE_INT(x) (dogpile_arg_int_ (x))
#define DOGPILE_UINT(x) (dogpile_arg_uint_ (x))
#define DOGPILE_DOUBLE(x) (dogpile_arg_double_ (x))
#define DOGPILE_STRING(x) (dogpile_arg_string_ (x))
#define DOGPILE_BYTES(p, n) (dogpile_arg_bytes_ ((p), (n)))
#define DOGPILE_VARIANT(x) (dogpile_arg_variant_ (x))
#define DOGPILE_NAMED(n, arg) (dogpile_arg_named_ ((n), (arg)))
#endif

/* Python's str() and repr() of an argument; both are DogpileArgFormatFunc
 * (@user_data is ignored), so either can be a function's to_str.
 * (transfer full) */
DOGPILE_API char *dogpile_arg_to_str (const DogpileArg *arg,
                                      gpointer user_data);
DOGPILE_API char *dogpile_arg_to_repr (const DogpileArg *arg,
                                       gpointer user_data);

G_END_DECLS
