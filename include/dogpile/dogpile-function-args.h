/* dogpile-function-args.h: a cached function's arguments: typed values that
 * format as Python's str() and repr() would.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-function-args
 * @title: Function arguments
 * @short_description: typed arguments that format as Python's str() and repr()
 * @include: dogpile/dogpile.h
 *
 * A cached function (#DogpileCachedFunction) is called with a C array of
 * #DogpileArg: each one a typed value, built on the stack with
 * DOGPILE_INT(), DOGPILE_STRING(), DOGPILE_DOUBLE(), DOGPILE_BOOL(),
 * DOGPILE_NONE, DOGPILE_BYTES(), DOGPILE_UINT() or DOGPILE_VARIANT(), and
 * DOGPILE_NAMED() for a keyword argument.  Building one allocates
 * nothing; the same array goes to the creator, which reads `v.i`, `v.s`
 * and so on.
 *
 * The type is kept so that keys are exactly the ones dogpile.cache's
 * function_key_generator builds: it joins Python's str() of each
 * argument, and dogpile_arg_to_str() gives that text (`1`, `a`, `2.5`,
 * `True`, `None`).  dogpile_arg_to_repr() is Python's repr(), the usual
 * other to_str function (`to_str=repr` in Python), which keeps `1` and
 * `'1'` apart.  docs/cached-functions.md lists which arguments give
 * Python's keys byte for byte.
 *
 * |[<!-- language="C" -->
 * DogpileArg args[] = { DOGPILE_INT (42), DOGPILE_STRING ("en"),
 *                       DOGPILE_NAMED ("fresh", DOGPILE_BOOL (TRUE)) };
 * ]|
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"

G_BEGIN_DECLS

/**
 * DogpileArgType:
 * @DOGPILE_ARG_TYPE_NONE: Python's None; no value
 * @DOGPILE_ARG_TYPE_BOOL: True or False, in `v.b`
 * @DOGPILE_ARG_TYPE_INT: an int, in `v.i` (a #gint64)
 * @DOGPILE_ARG_TYPE_UINT: an int of the unsigned 64-bit range, in `v.u`
 * @DOGPILE_ARG_TYPE_DOUBLE: a float, in `v.d`
 * @DOGPILE_ARG_TYPE_STRING: a str, in `v.s`: NUL-terminated UTF-8 (bytes
 *   that are not UTF-8 stand for what Python's surrogateescape decodes
 *   them to)
 * @DOGPILE_ARG_TYPE_BYTES: a bytes object, in `v.bytes.data` and
 *   `v.bytes.len`
 * @DOGPILE_ARG_TYPE_VARIANT: any Python value, in `v.variant`, as
 *   `dogpile/dogpile-python-value.h` maps it: tuples, lists, dicts, big
 *   ints, sets ...
 *
 * The Python type a #DogpileArg stands for, which decides how it is
 * formatted in keys.
 */
typedef enum {
  DOGPILE_ARG_TYPE_NONE,
  DOGPILE_ARG_TYPE_BOOL,
  DOGPILE_ARG_TYPE_INT,
  DOGPILE_ARG_TYPE_UINT,
  DOGPILE_ARG_TYPE_DOUBLE,
  DOGPILE_ARG_TYPE_STRING,
  DOGPILE_ARG_TYPE_BYTES,
  DOGPILE_ARG_TYPE_VARIANT,
} DogpileArgType;

/**
 * DogpileArg:
 * @type: which member of @v holds the value
 * @name: %NULL for a positional argument, or the keyword of a keyword
 *   argument (DOGPILE_NAMED()); borrowed
 * @variant: `v.variant`, the value of a %DOGPILE_ARG_TYPE_VARIANT argument.
 *   (gtk-doc shows only this member of the union `v`.)
 *
 * One argument of a cached function's call.  Its value is in the union
 * `v`, in the member @type says: `v.b`, `v.i`, `v.u`, `v.d`, `v.s`,
 * `v.bytes` (`data` and `len`) or `v.variant`.  Strings, bytes and
 * variants are borrowed: they must stay valid while the argument is in
 * use.  Build it with the DOGPILE_INT() family of macros rather than by
 * hand.  A #DogpileCachedFunction copies
 * the arguments it keeps beyond a call (defaults, a call handed to an
 * async runner); it takes a reference to a variant with
 * g_variant_ref_sink() then.
 */
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
/**
 * DOGPILE_NONE:
 *
 * A #DogpileArg of Python's None (%DOGPILE_ARG_TYPE_NONE), formatted
 * `None`.
 */
#define DOGPILE_NONE ((DogpileArg){ .type = DOGPILE_ARG_TYPE_NONE })
/**
 * DOGPILE_BOOL:
 * @x: a truth value; any non-zero value is %TRUE
 *
 * A #DogpileArg of a bool, formatted `True` or `False`.
 *
 * Returns: the argument, a #DogpileArg value
 */
#define DOGPILE_BOOL(x)                                                       \
  ((DogpileArg){ .type = DOGPILE_ARG_TYPE_BOOL, .v.b = !!(x) })
/**
 * DOGPILE_INT:
 * @x: a signed integer, as a #gint64
 *
 * A #DogpileArg of an int, formatted in decimal (`-7`).
 *
 * Returns: the argument, a #DogpileArg value
 */
#define DOGPILE_INT(x)                                                        \
  ((DogpileArg){ .type = DOGPILE_ARG_TYPE_INT, .v.i = (x) })
/**
 * DOGPILE_UINT:
 * @x: an unsigned integer, as a #guint64
 *
 * A #DogpileArg of an int up to 2^64 - 1, formatted in decimal.
 *
 * Returns: the argument, a #DogpileArg value
 */
#define DOGPILE_UINT(x)                                                       \
  ((DogpileArg){ .type = DOGPILE_ARG_TYPE_UINT, .v.u = (x) })
/**
 * DOGPILE_DOUBLE:
 * @x: a double
 *
 * A #DogpileArg of a float, formatted as Python's repr() of a float: the
 * shortest text that reads back (`2.5`, `1e+16`), `inf`, `-inf` or `nan`.
 *
 * Returns: the argument, a #DogpileArg value
 */
#define DOGPILE_DOUBLE(x)                                                     \
  ((DogpileArg){ .type = DOGPILE_ARG_TYPE_DOUBLE, .v.d = (x) })
/**
 * DOGPILE_STRING:
 * @x: (not nullable): a NUL-terminated string; borrowed, not copied
 *
 * A #DogpileArg of a str: str() gives the text itself, repr() quotes and
 * escapes it as CPython 3.11 does.
 *
 * Returns: the argument, a #DogpileArg value
 */
#define DOGPILE_STRING(x)                                                     \
  ((DogpileArg){ .type = DOGPILE_ARG_TYPE_STRING, .v.s = (x) })
/**
 * DOGPILE_BYTES:
 * @p: the bytes; borrowed, not copied (may be %NULL when @n is 0)
 * @n: how many bytes
 *
 * A #DogpileArg of a bytes object, formatted as Python's repr() of bytes
 * (`b'\x00'`), which is what str() gives too.
 *
 * Returns: the argument, a #DogpileArg value
 */
#define DOGPILE_BYTES(p, n)                                                   \
  ((DogpileArg){ .type = DOGPILE_ARG_TYPE_BYTES, .v.bytes = { (p), (n) } })
/**
 * DOGPILE_VARIANT:
 * @x: (not nullable): a #GVariant the caller holds a reference to;
 *   borrowed
 *
 * A #DogpileArg of any Python value, as `dogpile/dogpile-python-value.h`
 * maps GVariants to Python values: tuples, lists, dicts, big ints, sets.
 * Pass a variant you own rather than a floating one: a call that does not
 * copy its arguments never sinks it.
 *
 * Returns: the argument, a #DogpileArg value
 */
#define DOGPILE_VARIANT(x)                                                    \
  ((DogpileArg){ .type = DOGPILE_ARG_TYPE_VARIANT, .v.variant = (x) })
/**
 * DOGPILE_NAMED:
 * @n: the keyword; borrowed
 * @arg: the value, another #DogpileArg (DOGPILE_STRING() and so on)
 *
 * A keyword argument: `DOGPILE_NAMED ("lang", DOGPILE_STRING ("en"))` is
 * Python's `lang="en"`.  The default key generators refuse keyword
 * arguments, as Python's do; dogpile_kwarg_function_key_generator() and a
 * function with its parameters set (dogpile_cached_function_set_parameters())
 * accept them.
 *
 * Returns: the argument, a #DogpileArg value
 */
#define DOGPILE_NAMED(n, arg)                                                 \
  ((DogpileArg){ .type = (arg).type, .name = (n), .v = (arg).v })
#else
/* C++ has neither compound literals nor nested designators: the same
 * macros, as inline functions. */
#ifndef __GTK_DOC_IGNORE__
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
#endif /* __GTK_DOC_IGNORE__ */
#endif

/* Python's str() and repr(); either can be a function's to_str. */
DOGPILE_API char *dogpile_arg_to_str (const DogpileArg *arg,
                                      gpointer user_data);
DOGPILE_API char *dogpile_arg_to_repr (const DogpileArg *arg,
                                       gpointer user_data);

G_END_DECLS
