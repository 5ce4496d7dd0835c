/* dogpile-config.c: configure_from_config, and INI files of regions.
 *
 * dogpile.cache reads `<prefix>backend`, `<prefix>expiration_time`,
 * `<prefix>arguments.*`, `<prefix>wrap` and
 * `<prefix>replace_existing_backend` from a flat string map, each value
 * through coerce_string_conf.  Here wrapped proxies may take arguments
 * too: `<prefix>wrap.<proxy>.<name>`, and `<prefix>serializer` names the
 * payload serializer (raw, json, pickle), which Python gives as a function
 * in code instead.  The map comes from the caller, from
 * a GKeyFile group, or from a section of a Paste/Pyramid INI read as
 * Python's configparser reads it (dogpile-ini.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-region-private.h"

#include <math.h>
#include <stdarg.h>

#include <unistd.h>

#include "dogpile-ini.h"
#include "dogpile-nearest.h"

#define PY_MAX_STR_DIGITS 4300 /* sys.get_int_max_str_digits() */

/* Each decimal digit (Unicode Nd: what Python's \d matches and int() and
 * float() read) as its ASCII digit; everything else as it is. */
static char *
ascii_digits (const char *text)
{
  GString *out = g_string_sized_new (strlen (text));

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c >= 0x80 && g_unichar_isdigit (c))
        g_string_append_c (out, (char) ('0' + g_unichar_digit_value (c)));
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
    }
  return g_string_free (out, FALSE);
}

static const char *
skip_digits (const char *p)
{
  while (g_ascii_isdigit (*p))
    p++;
  return p;
}

/* ^[-+]?\d+$ */
static gboolean
matches_int (const char *s)
{
  s += *s == '+' || *s == '-';
  return g_ascii_isdigit (*s) && *skip_digits (s) == '\0';
}

/* ^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$ */
static gboolean
matches_float (const char *s)
{
  s += *s == '+' || *s == '-';
  if (g_ascii_isdigit (*s))
    {
      s = skip_digits (s);
      if (*s == '.')
        s = skip_digits (s + 1);
    }
  else if (s[0] == '.' && g_ascii_isdigit (s[1]))
    s = skip_digits (s + 1);
  else
    return FALSE;
  if (*s == 'e' || *s == 'E')
    {
      s++;
      s += *s == '+' || *s == '-';
      if (!g_ascii_isdigit (*s))
        return FALSE;
      s = skip_digits (s);
    }
  return *s == '\0';
}

/* int(@digits) for text matches_int() accepted. */
static GVariant *
python_int (const char *digits, GError **error)
{
  gboolean negative = digits[0] == '-';
  const char *p = digits + (digits[0] == '-' || digits[0] == '+');
  gsize n = strlen (p);
  g_autofree char *canonical = NULL;

  if (n > PY_MAX_STR_DIGITS)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "Exceeds the limit (%d digits) for integer string "
                   "conversion: value has %" G_GSIZE_FORMAT " digits",
                   PY_MAX_STR_DIGITS, n);
      return NULL;
    }
  while (p[0] == '0' && p[1] != '\0')
    p++;
  canonical
      = g_strconcat (negative && strcmp (p, "0") != 0 ? "-" : "", p, NULL);
  return dogpile_py_int_new_from_string (canonical, error);
}

/**
 * dogpile_coerce_string:
 * @value: a setting as text, UTF-8
 * @error: return location for a #GError
 *
 * What dogpile.cache's coerce_string_conf makes of one string, as a
 * Python value in the GVariant form of dogpile-python-value.h: @value is
 * stripped as str.strip() strips (Unicode whitespace), then
 * `[-+]digits` is an int (`x`, or the tagged form beyond 64 bits),
 * `1.5`, `.5`, `5.`, `1e5` a float (`d`), `true` or `false` in any case a
 * bool (`b`), exactly `None` is None (`mv`), and anything else the
 * stripped text (`s`).  Digits may be any Unicode decimal digits, as for
 * Python's `\d`; `inf`, `nan` and `none` stay strings.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION for text that is not UTF-8 or an int
 * of more than 4300 digits.
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full): the value, not floating; %NULL with
 * %DOGPILE_ERROR_VALIDATION for text that is not UTF-8 or an int of more
 * than 4300 digits (Python's int() refuses those too).
 */
GVariant *
dogpile_coerce_string (const char *value, GError **error)
{
  g_autofree char *stripped = NULL;
  g_autofree char *ascii = NULL;
  GVariant *result;

  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_utf8_validate (value, -1, NULL))
    {
      g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                           "a setting must be UTF-8 text");
      return NULL;
    }
  stripped = dogpile__py_strip (value);
  ascii = ascii_digits (stripped);
  if (matches_int (ascii))
    result = python_int (ascii, error);
  else if (matches_float (ascii))
    result = g_variant_new_double (g_ascii_strtod (ascii, NULL));
  else if (g_ascii_strcasecmp (stripped, "true") == 0
           || g_ascii_strcasecmp (stripped, "false") == 0)
    result
        = g_variant_new_boolean (g_ascii_strcasecmp (stripped, "true") == 0);
  else if (strcmp (stripped, "None") == 0)
    result = dogpile_py_none_new ();
  else
    result = g_variant_new_string (stripped);
  return result != NULL ? g_variant_ref_sink (result) : NULL;
}

/**
 * dogpile_coerce_string_conf:
 * @config: (element-type utf8 utf8): settings as text
 * @error: return location for a #GError
 *
 * dogpile.cache's coerce_string_conf: every value through
 * dogpile_coerce_string().
 *
 * Errors: as dogpile_coerce_string(), naming the key.
 *
 * Thread safety: any thread; @config is only read.
 *
 * Returns: (transfer full) (element-type utf8 GVariant): key -> value;
 * %NULL with an error naming the key whose value could not be read.
 */
GHashTable *
dogpile_coerce_string_conf (GHashTable *config, GError **error)
{
  g_autoptr (GHashTable) out = NULL;
  GHashTableIter iter;
  gpointer k, v;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                               (GDestroyNotify) g_variant_unref);
  g_hash_table_iter_init (&iter, config);
  while (g_hash_table_iter_next (&iter, &k, &v))
    {
      GVariant *value = dogpile_coerce_string (v, error);

      if (value == NULL)
        {
          g_prefix_error (error, "Configuration key '%s': ", (char *) k);
          return NULL;
        }
      g_hash_table_insert (out, g_strdup (k), value);
    }
  return g_steal_pointer (&out);
}

/* Python's str() of a coerced value: what a backend's argument reads as
 * (its typed readers parse it back to the same value). */
static char *
python_str (GVariant *value)
{
  g_autoptr (GVariant) content = NULL;
  DogpilePyType type;
  char repr[DOGPILE_DOUBLE_REPR_MAX];
  double d;

  if (!dogpile_py_value_classify (value, &type, &content, NULL))
    g_return_val_if_reached (NULL);
  switch (type)
    {
    case DOGPILE_PY_NONE: return g_strdup ("None");
    case DOGPILE_PY_BOOL:
      return g_strdup (g_variant_get_boolean (content) ? "True" : "False");
    case DOGPILE_PY_INT: return dogpile_py_int_to_string (value, NULL);
    case DOGPILE_PY_FLOAT:
      d = g_variant_get_double (content);
      if (isinf (d))
        return g_strdup (d > 0 ? "inf" : "-inf");
      dogpile__format_double_repr (d, repr);
      return g_strdup (repr);
    case DOGPILE_PY_STR: return g_variant_dup_string (content, NULL);
    default: g_return_val_if_reached (NULL);
    }
}

static gboolean
bad_key (GError **error, const char *key)
{
  g_prefix_error (error, "Configuration key '%s': ", key);
  return FALSE;
}

/* The coerced value of @key, or *out NULL when it is absent. */
static gboolean
lookup_coerced (GHashTable *config, const char *key, GVariant **out,
                GError **error)
{
  const char *raw = g_hash_table_lookup (config, key);

  *out = NULL;
  if (raw == NULL)
    return TRUE;
  *out = dogpile_coerce_string (raw, error);
  return *out != NULL || bad_key (error, key);
}

/* Keys under @prefix, the prefix removed, each value as Python's str() of
 * its coerced value; NULL with an error naming the key. */
static GHashTable *
sub_map (GHashTable *config, const char *prefix, GError **error)
{
  g_autoptr (GHashTable) out
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gsize len = strlen (prefix);
  GHashTableIter iter;
  gpointer k, v;

  g_hash_table_iter_init (&iter, config);
  while (g_hash_table_iter_next (&iter, &k, &v))
    if (g_str_has_prefix (k, prefix) && ((const char *) k)[len] != '\0')
      {
        g_autoptr (GVariant) value = NULL;

        if (!lookup_coerced (config, k, &value, error))
          return NULL;
        g_hash_table_insert (out, g_strdup ((const char *) k + len),
                             python_str (value));
      }
  return g_steal_pointer (&out);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* No `<prefix>backend`: say so, and what the settings do have. */
static gboolean
missing_backend (GError **error, GHashTable *config, const char *prefix,
                 const char *backend_key, const char *problem)
{
  g_autoptr (GPtrArray) named = g_ptr_array_new ();
  g_autoptr (GString) message = g_string_new (NULL);
  gboolean any_prefixed = FALSE;
  GHashTableIter iter;
  gpointer k;

  g_hash_table_iter_init (&iter, config);
  while (g_hash_table_iter_next (&iter, &k, NULL))
    {
      any_prefixed |= g_str_has_prefix (k, prefix);
      if ((strcmp (k, "backend") == 0 || g_str_has_suffix (k, ".backend"))
          && strstr (k, "arguments.") == NULL && strcmp (k, backend_key) != 0)
        g_ptr_array_add (named, k);
    }
  g_string_printf (message,
                   "Configuration key '%s' is %s: it names the backend, "
                   "e.g. dogpile.cache.memory",
                   backend_key, problem);
  if (prefix[0] != '\0' && !any_prefixed)
    g_string_append_printf (message, "; no key starts with '%s'", prefix);
  if (named->len > 0)
    {
      g_autofree char *names = NULL;

      g_ptr_array_sort (named, compare_strings);
      g_ptr_array_add (named, NULL);
      names = g_strjoinv (", ", (char **) named->pdata);
      g_string_append_printf (message, " (keys that name one: %s)", names);
    }
  g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       message->str);
  return FALSE;
}

/* The region's expiration time from the coerced `<prefix>expiration_time`:
 * Python keeps None, numbers and bools (True and False count as 1 and 0);
 * text is C's own reading (none, durations), which Python refuses. */
static gboolean
expiration_of (GVariant *value, double *out, GError **error)
{
  g_autoptr (GVariant) content = NULL;
  g_autofree char *text = NULL;
  DogpilePyType type;

  dogpile_py_value_classify (value, &type, &content, NULL);
  switch (type)
    {
    case DOGPILE_PY_NONE: *out = DOGPILE_EXPIRATION_NONE; return TRUE;
    case DOGPILE_PY_BOOL:
      *out = g_variant_get_boolean (content) ? 1 : 0;
      return TRUE;
    case DOGPILE_PY_FLOAT:
    case DOGPILE_PY_INT:
      if (type == DOGPILE_PY_FLOAT)
        *out = g_variant_get_double (content);
      else
        {
          text = dogpile_py_int_to_string (value, NULL);
          *out = g_ascii_strtod (text, NULL);
        }
      /* Python's float() takes 1e400 as inf; a duration is finite here,
       * however it is given (docs/differences.md) */
      if (isfinite (*out))
        return TRUE;
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "expiration_time must be a finite number of seconds, "
                   "not %g",
                   *out);
      return FALSE;
    default:
      return dogpile_parse_expiration_time (
          g_variant_get_string (content, NULL), out, error);
    }
}

/* Python's truth value of the coerced `<prefix>replace_existing_backend`,
 * except that text other than "" is refused rather than taken as true. */
static gboolean
truth_of (GVariant *value, const char *key, gboolean *out, GError **error)
{
  g_autoptr (GVariant) content = NULL;
  DogpilePyType type;
  const char *text;

  dogpile_py_value_classify (value, &type, &content, NULL);
  switch (type)
    {
    case DOGPILE_PY_NONE: *out = FALSE; return TRUE;
    case DOGPILE_PY_BOOL: *out = g_variant_get_boolean (content); return TRUE;
    case DOGPILE_PY_FLOAT:
      *out = g_variant_get_double (content) != 0;
      return TRUE;
    case DOGPILE_PY_INT:
      /* beyond 64 bits is never 0 */
      *out = !g_variant_is_of_type (content, G_VARIANT_TYPE_INT64)
             || g_variant_get_int64 (content) != 0;
      return TRUE;
    default:
      text = g_variant_get_string (content, NULL);
      if (text[0] == '\0')
        {
          *out = FALSE;
          return TRUE;
        }
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "Configuration key '%s' must be true or false, not '%s'",
                   key, text);
      return FALSE;
    }
}

/* `<prefix><name>` as a truth value (truth_of()); absent is FALSE. */
static gboolean
truth_key (GHashTable *config, const char *prefix, const char *name,
           gboolean *out, GError **error)
{
  g_autofree char *key = g_strconcat (prefix, name, NULL);
  g_autoptr (GVariant) value = NULL;

  *out = FALSE;
  if (!lookup_coerced (config, key, &value, error))
    return FALSE;
  return value == NULL || truth_of (value, key, out, error);
}

/* The proxy names of `<prefix>wrap`: a non-empty string of names is C's
 * own reading (a string fails in Python, which wants proxy objects);
 * None, numbers and bools wrap nothing, as in Python. */
static char **
wrap_names_of (GVariant *value)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (GVariant) content = NULL;
  DogpilePyType type = DOGPILE_PY_NONE;

  if (value != NULL)
    dogpile_py_value_classify (value, &type, &content, NULL);
  if (type == DOGPILE_PY_STR)
    {
      g_auto (GStrv) parts = g_strsplit_set (
          g_variant_get_string (content, NULL), ", \t\n\r\v\f", -1);

      for (char **p = parts; *p != NULL; p++)
        if (**p != '\0')
          g_strv_builder_add (builder, *p);
    }
  return g_strv_builder_end (builder);
}

/* The keys of a region, after its prefix; "arguments." and "wrap." take
 * names after them. */
static const char *const region_keys[] = { "backend",
                                           "expiration_time",
                                           "arguments",
                                           "wrap",
                                           "replace_existing_backend",
                                           "serializer",
                                           "strict_arguments",
                                           NULL };

/* Whether @rest is wrap.PROXY.NAME for a PROXY of @wrap_names (proxy
 * names have dots of their own: dogpile.proxies.stats). */
static gboolean
names_wrapped_proxy (const char *rest, char **wrap_names)
{
  for (char **w = wrap_names; *w != NULL; w++)
    {
      gsize len = strlen (*w);

      if (strncmp (rest + 5, *w, len) == 0 && rest[5 + len] == '.'
          && rest[6 + len] != '\0')
        return TRUE;
    }
  return FALSE;
}

static gboolean
unknown_key (GError **error, const char *key, const char *prefix,
             const char *suggestion, const char *rest_of_it)
{
  g_autoptr (GString) message = g_string_new (NULL);

  g_string_printf (message, "Configuration key '%s' is not a region setting",
                   key);
  if (suggestion != NULL)
    g_string_append_printf (message, " (did you mean '%s%s%s'?)", prefix,
                            suggestion, rest_of_it);
  g_string_append (message, "; a region's keys are backend, expiration_time, "
                            "arguments.NAME, wrap, wrap.PROXY.NAME, "
                            "replace_existing_backend, serializer and "
                            "strict_arguments");
  g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       message->str);
  return FALSE;
}

/* No silent typos: every key under @prefix is one of the region's, or
 * (with a dot in what follows the prefix) another region's under a
 * longer prefix ("cache." beside "cache.local.backend"), unless its first
 * part is a near miss of arguments or wrap ("argument.port").  With
 * @dotless_too FALSE a key without a dot is left alone: an empty prefix
 * over a Paste section holds the application's own keys too. */
static gboolean
check_region_keys (GHashTable *config, const char *prefix, char **wrap_names,
                   gboolean dotless_too, GError **error)
{
  gsize len = strlen (prefix);
  GHashTableIter iter;
  gpointer k;

  g_hash_table_iter_init (&iter, config);
  while (g_hash_table_iter_next (&iter, &k, NULL))
    {
      const char *key = k;
      const char *rest = key + len;
      const char *dot;

      if (!g_str_has_prefix (key, prefix) || rest[0] == '\0'
          || g_strv_contains (region_keys, rest)
          || (g_str_has_prefix (rest, "arguments.") && rest[10] != '\0'))
        continue;
      dot = strchr (rest, '.');
      if (g_str_has_prefix (rest, "wrap."))
        {
          if (names_wrapped_proxy (rest, wrap_names))
            continue;
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "Configuration key '%s' gives an argument to a proxy "
                       "that '%swrap' does not list: wrap.PROXY.NAME, with "
                       "PROXY one of the wrapped proxies",
                       key, prefix);
          return FALSE;
        }
      if (dot == NULL)
        {
          if (!dotless_too)
            continue;
          return unknown_key (error, key, prefix,
                              dogpile__nearest_name (rest, region_keys), "");
        }
      {
        g_autofree char *first = g_strndup (rest, (gsize) (dot - rest));
        const char *const takes_names[] = { "arguments", "wrap", NULL };
        const char *near = dogpile__nearest_name (first, takes_names);

        /* "arguments." with no name: nothing nearer to suggest */
        if (near != NULL)
          return unknown_key (error, key, prefix,
                              strcmp (near, first) != 0 ? near : NULL, dot);
      }
    }
  return TRUE;
}

/* dogpile_region_configure_from_config(), below. */
static gboolean
configure_from_config (DogpileRegion *self, GHashTable *config,
                       const char *prefix, gboolean dotless_too,
                       DogpileConfigureFlags flags, GError **error)
{
  g_autofree char *backend_key = NULL;
  g_autofree char *expiration_key = NULL;
  g_autofree char *wrap_key = NULL;
  g_autofree char *serializer_key = NULL;
  g_autofree char *arguments_prefix = NULL;
  g_autoptr (GVariant) backend_value = NULL;
  g_autoptr (GVariant) expiration_value = NULL;
  g_autoptr (GVariant) wrap_value = NULL;
  g_autoptr (GHashTable) arguments = NULL;
  g_autoptr (GPtrArray) proxy_arguments = NULL;
  g_autofree DogpileRegionWrap *wraps = NULL;
  g_auto (GStrv) wrap_names = NULL;
  g_autofree char *backend = NULL;
  double expiration = DOGPILE_EXPIRATION_NONE;
  gboolean replace = FALSE;
  gboolean strict = FALSE;
  guint n_wraps;

  backend_key = g_strconcat (prefix, "backend", NULL);
  if (!lookup_coerced (config, backend_key, &backend_value, error))
    return FALSE;
  if (backend_value == NULL)
    return missing_backend (error, config, prefix, backend_key, "missing");
  backend = python_str (backend_value);
  if (backend[0] == '\0')
    return missing_backend (error, config, prefix, backend_key, "empty");

  expiration_key = g_strconcat (prefix, "expiration_time", NULL);
  if (!lookup_coerced (config, expiration_key, &expiration_value, error))
    return FALSE;
  if (expiration_value != NULL
      && !expiration_of (expiration_value, &expiration, error))
    return bad_key (error, expiration_key);

  if (!truth_key (config, prefix, "replace_existing_backend", &replace, error)
      || !truth_key (config, prefix, "strict_arguments", &strict, error))
    return FALSE;

  serializer_key = g_strconcat (prefix, "serializer", NULL);
  if (g_hash_table_contains (config, serializer_key))
    {
      g_autofree char *name = g_strstrip (
          g_strdup (g_hash_table_lookup (config, serializer_key)));

      /* replacing the backend keeps the serializer: only the same name */
      if (get_config (self) != NULL
          && strcmp (name, dogpile_region_get_serializer_name (self)) != 0)
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "the serializer of a configured region stays as it "
                       "is ('%s')",
                       dogpile_region_get_serializer_name (self));
          return bad_key (error, serializer_key);
        }
      if (get_config (self) == NULL
          && !dogpile_region_set_serializer_name (self, name, error))
        return bad_key (error, serializer_key);
    }

  arguments_prefix = g_strconcat (prefix, "arguments.", NULL);
  arguments = sub_map (config, arguments_prefix, error);
  if (arguments == NULL)
    return FALSE;

  wrap_key = g_strconcat (prefix, "wrap", NULL);
  if (!lookup_coerced (config, wrap_key, &wrap_value, error))
    return FALSE;
  wrap_names = wrap_names_of (wrap_value);
  if (!check_region_keys (config, prefix, wrap_names, dotless_too, error))
    return FALSE;
  n_wraps = g_strv_length (wrap_names);
  wraps = g_new0 (DogpileRegionWrap, MAX (n_wraps, 1));
  proxy_arguments
      = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);
  for (guint i = 0; i < n_wraps; i++)
    {
      g_autofree char *args_prefix
          = g_strconcat (wrap_key, ".", wrap_names[i], ".", NULL);

      wraps[i].desc = dogpile_registry_load_proxy (
          dogpile_registry_get_default (), wrap_names[i], error);
      if (wraps[i].desc == NULL)
        return bad_key (error, wrap_key);
      wraps[i].arguments = sub_map (config, args_prefix, error);
      if (wraps[i].arguments == NULL)
        return FALSE;
      g_ptr_array_add (proxy_arguments, wraps[i].arguments);
    }

  return dogpile__region_configure_chain (
      self, backend, expiration, arguments, wraps, n_wraps,
      flags
          | (replace ? DOGPILE_CONFIGURE_REPLACE_EXISTING
                     : DOGPILE_CONFIGURE_NONE)
          | (strict ? DOGPILE_CONFIGURE_STRICT_ARGUMENTS
                    : DOGPILE_CONFIGURE_NONE),
      error);
}

/**
 * dogpile_region_configure_from_config:
 * @self: a region
 * @config: (element-type utf8 utf8): the settings, as strings
 * @prefix: what every key of this region starts with, e.g. "cache.local."
 * @error: return location for a #GError
 *
 * dogpile.cache's configure_from_config: the values are read through
 * dogpile_coerce_string() (coerce_string_conf), then
 * `<prefix>backend` (required),
 * `<prefix>expiration_time` (absent or `None`: never; an int or float:
 * seconds; `true`/`false`: 1 and 0 seconds, as Python takes them; and,
 * C only, `none`, an empty value or a duration such as `1h30m`),
 * `<prefix>arguments.<name>` (the backend's arguments, each as Python's
 * str() of its coerced value: `+0042` reaches the backend as `42`, `TRUE`
 * as `True`, ` text ` as `text`), `<prefix>wrap` (C only: proxy names,
 * outermost first, separated by commas or spaces;
 * `<prefix>wrap.<proxy>.<name>` gives a proxy arguments) and
 * `<prefix>replace_existing_backend` (Python's truth value; text other
 * than true/false is refused), `<prefix>serializer` (raw, json or
 * pickle: dogpile_region_set_serializer_name(); a configured region keeps
 * the one it has) and `<prefix>strict_arguments` (C only, a truth value
 * as replace_existing_backend: an argument the backend or a proxy does
 * not declare is an error, %DOGPILE_CONFIGURE_STRICT_ARGUMENTS, instead
 * of a warning).
 *
 * Unlike Python, which ignores them, other keys under @prefix are errors
 * (a typo such as `expiraton_time` or `argument.port` would otherwise be
 * a silent default), with the nearest region key when there is one; keys
 * with a dot after @prefix that are not near `arguments.` or `wrap.` are
 * left to other regions under longer prefixes (`cache.local.backend`
 * beside a region under `cache.`), and keys outside @prefix are ignored.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION naming the missing, bad or unknown
 * key; and those of dogpile_region_configure() (among them
 * %DOGPILE_ERROR_REGION_ALREADY_CONFIGURED and the plugin codes).
 *
 * Thread safety: as dogpile_region_configure(): any thread; with
 * replace_existing_backend, while other threads use @self.
 *
 * Returns: %TRUE on success; %FALSE with an error naming the missing,
 * bad or unknown key, or configure's own errors.
 */
gboolean
dogpile_region_configure_from_config (DogpileRegion *self, GHashTable *config,
                                      const char *prefix, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (prefix != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return configure_from_config (self, config, prefix, TRUE,
                                DOGPILE_CONFIGURE_NONE, error);
}

/* A group's keys and raw values. */
static GHashTable *
group_settings (GKeyFile *key_file, const char *group)
{
  GHashTable *settings
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) keys = g_key_file_get_keys (key_file, group, NULL, NULL);

  for (char **key = keys; key != NULL && *key != NULL; key++)
    g_hash_table_insert (settings, g_strdup (*key),
                         g_key_file_get_value (key_file, group, *key, NULL));
  return settings;
}

/* "a, b, c", or "no sections" for none. */
static char *
describe_names (char **names, const char *none)
{
  return names != NULL && names[0] != NULL ? g_strjoinv (", ", names)
                                           : g_strdup (none);
}

/* dogpile_region_configure_from_key_file() with configure flags, for the
 * file loaders below. */
static gboolean
configure_from_key_file (DogpileRegion *self, GKeyFile *key_file,
                         const char *group, const char *prefix,
                         DogpileConfigureFlags flags, GError **error)
{
  g_autoptr (GHashTable) settings = NULL;

  if (!g_key_file_has_group (key_file, group))
    {
      g_auto (GStrv) groups = g_key_file_get_groups (key_file, NULL);
      g_autofree char *names = describe_names (groups, "no groups");

      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "no group [%s] (the key file has: %s)", group, names);
      return FALSE;
    }
  settings = group_settings (key_file, group);
  if (!configure_from_config (self, settings, prefix, TRUE, flags, error))
    {
      g_prefix_error (error, "[%s] ", group);
      return FALSE;
    }
  return TRUE;
}

/**
 * dogpile_region_configure_from_key_file:
 * @self: a region
 * @key_file: settings
 * @group: the group holding the region's keys, e.g. "app:main"
 * @prefix: what the region's keys in @group start with, e.g.
 *   "cache.local."; "" for a group of its own
 * @error: return location for a #GError
 *
 * dogpile_region_configure_from_config() on the keys of @group, with the
 * values exactly as the key file holds them (g_key_file_get_value()).
 * GKeyFile's syntax is not Python's configparser's (no `key: value`, no
 * `;` comments, no continued values, no `%(here)s`): for a Paste/Pyramid
 * INI use dogpile_config_load_settings() or
 * dogpile_config_load_prefixed_region().
 *
 * Errors: as dogpile_region_configure_from_config(), naming the group.
 *
 * Thread safety: as dogpile_region_configure_from_config(); @key_file is
 * only read.
 *
 * Returns: %TRUE on success; %FALSE with an error naming the group (and
 * the groups there are when @group is not one of them).
 */
gboolean
dogpile_region_configure_from_key_file (DogpileRegion *self,
                                        GKeyFile *key_file, const char *group,
                                        const char *prefix, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key_file != NULL, FALSE);
  g_return_val_if_fail (group != NULL, FALSE);
  g_return_val_if_fail (prefix != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return configure_from_key_file (self, key_file, group, prefix,
                                  DOGPILE_CONFIGURE_NONE, error);
}

/* A region named @group, configured from that group's keys. */
static DogpileRegion *
region_from_group (GKeyFile *key_file, const char *group,
                   DogpileConfigureFlags flags, GError **error)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new (group);

  if (!configure_from_key_file (region, key_file, group, "", flags, error))
    return NULL;
  return g_steal_pointer (&region);
}

/**
 * dogpile_config_load_regions_from_key_file:
 * @key_file: settings, one group per region
 * @group_prefix: (nullable): only groups whose name starts with this
 *   (e.g. "cache."); %NULL for every group
 * @error: return location for a #GError
 *
 * Each group is a region named after it, configured with
 * dogpile_region_configure_from_config() from the group's keys:
 *
 * |[
 * [cache.local]
 * backend = dogpile.cache.memory
 * expiration_time = 7200
 * arguments.cache_dict = sessions
 * wrap = dogpile.proxies.stats
 * ]|
 *
 * Errors: as dogpile_config_load_regions(), without the file's own.
 *
 * Thread safety: any thread; @key_file is only read.
 *
 * Returns: (transfer full) (element-type utf8 DogpileRegion): region name
 * -> configured region; %NULL with an error naming the group and key.
 */
GHashTable *
dogpile_config_load_regions_from_key_file (GKeyFile *key_file,
                                           const char *group_prefix,
                                           GError **error)
{
  g_autoptr (GHashTable) regions = NULL;
  g_auto (GStrv) groups = NULL;

  g_return_val_if_fail (key_file != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  regions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                   (GDestroyNotify) dogpile_region_unref);
  groups = g_key_file_get_groups (key_file, NULL);
  for (char **group = groups; *group != NULL; group++)
    {
      DogpileRegion *region;

      if (group_prefix != NULL && !g_str_has_prefix (*group, group_prefix))
        continue;
      region = region_from_group (key_file, *group, DOGPILE_CONFIGURE_NONE,
                                  error);
      if (region == NULL)
        return NULL;
      g_hash_table_insert (regions, g_strdup (*group), region);
    }
  return g_steal_pointer (&regions);
}

static gboolean line_error (GError **error, const char *shown, guint line,
                            const char *format, ...) G_GNUC_PRINTF (4, 5);

static gboolean
line_error (GError **error, const char *shown, guint line, const char *format,
            ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION, "%s:%u: %s",
               shown, line, message);
  return FALSE;
}

/* What GKeyFile accepts without a word and a regions file should not:
 * a key given twice in a group (GKeyFile keeps the last), a group given
 * twice (it merges them); and its syntax errors, which carry no line
 * number, with theirs.  The lines as g_key_file_parse_line reads them:
 * leading whitespace skipped, `#` comments, `[group]`, `key = value`. */
static gboolean
check_key_file_lines (const char *contents, gsize len, const char *shown,
                      GError **error)
{
  g_autoptr (GHashTable) groups
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) keys
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *group = NULL;
  const char *end = contents + len;
  guint line = 0;

  for (const char *p = contents; p < end;)
    {
      const char *eol = memchr (p, '\n', (gsize) (end - p));
      const char *next = eol != NULL ? eol + 1 : end;
      g_autofree char *text = NULL;
      gpointer first;
      char *eq;

      eol = eol != NULL ? eol : end;
      line++;
      while (p < eol && g_ascii_isspace (*p))
        p++;
      text = g_strndup (p, (gsize) (eol - p));
      g_strchomp (text);
      p = next;
      if (text[0] == '\0' || text[0] == '#')
        continue;
      if (text[0] == '[')
        {
          char *close = strrchr (text, ']');

          if (close == NULL || close == text + 1)
            return line_error (error, shown, line,
                               "'%s' is not a [group] line", text);
          g_free (group);
          group = g_strndup (text + 1, (gsize) (close - text - 1));
          if (g_hash_table_lookup_extended (groups, group, NULL, &first))
            return line_error (error, shown, line,
                               "group [%s] appears twice (first on line %u)",
                               group, GPOINTER_TO_UINT (first));
          g_hash_table_insert (groups, g_strdup (group),
                               GUINT_TO_POINTER (line));
          continue;
        }
      eq = strchr (text, '=');
      if (eq == NULL)
        return line_error (error, shown, line,
                           "'%s' is neither a [group] nor a key = value line",
                           text);
      if (group == NULL)
        return line_error (error, shown, line, "'%s' comes before any [group]",
                           text);
      *eq = '\0';
      g_strchomp (text);
      {
        g_autofree char *where = g_strconcat (group, "\n", text, NULL);

        if (g_hash_table_lookup_extended (keys, where, NULL, &first))
          return line_error (error, shown, line,
                             "key '%s' appears twice in [%s] (first on line "
                             "%u)",
                             text, group, GPOINTER_TO_UINT (first));
        g_hash_table_insert (keys, g_steal_pointer (&where),
                             GUINT_TO_POINTER (line));
      }
    }
  return TRUE;
}

/* @path into @key_file, refusing what is not UTF-8 with the line it is
 * on: GKeyFile keeps invalid group names, which then reached messages as
 * raw bytes.  Errors name the file in its display form. */
static gboolean
load_key_file (GKeyFile *key_file, const char *path, GError **error)
{
  g_autofree char *shown = g_filename_display_name (path);
  g_autofree char *contents = NULL;
  gsize len;
  const char *bad;

  if (!g_file_get_contents (path, &contents, &len, error))
    {
      g_prefix_error (error, "%s: ", shown);
      return FALSE;
    }
  if (!g_utf8_validate_len (contents, len, &bad))
    {
      gsize line = 1;

      for (const char *p = contents; p < bad; p++)
        line += *p == '\n';
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "%s:%" G_GSIZE_FORMAT ": not UTF-8 text", shown, line);
      return FALSE;
    }
  if (!check_key_file_lines (contents, len, shown, error))
    return FALSE;
  if (!g_key_file_load_from_data (key_file, contents, len, G_KEY_FILE_NONE,
                                  error))
    {
      g_prefix_error (error, "%s: ", shown);
      return FALSE;
    }
  return TRUE;
}

/**
 * dogpile_config_load_regions:
 * @path: an INI file
 * @group_prefix: (nullable): only groups whose name starts with this
 * @error: return location for a #GError
 *
 * dogpile_config_load_regions_from_key_file() on a file.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION naming the file and the group, key or
 * line; a #GFileError when the file cannot be read; and the errors of
 * dogpile_region_configure() for each region (plugin loading, the
 * backend's create).
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full) (element-type utf8 DogpileRegion): region name
 * -> configured region; %NULL with an error naming the file.
 */
GHashTable *
dogpile_config_load_regions (const char *path, const char *group_prefix,
                             GError **error)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  GHashTable *regions;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!load_key_file (key_file, path, error))
    return NULL;
  regions = dogpile_config_load_regions_from_key_file (key_file, group_prefix,
                                                       error);
  if (regions == NULL)
    g_prefix_error (error, "%s: ", path);
  return regions;
}

/**
 * dogpile_config_load_region:
 * @path: an INI file
 * @group: the group that describes the region, e.g. "cache.redis"
 * @error: return location for a #GError
 *
 * One region from a file of several (see
 * dogpile_config_load_regions_from_key_file() for the keys): only that
 * group's backend is created, so the other regions' servers need not be
 * reachable.  dogpile_config_load_region_full() with no flags.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION naming the file and the group, key or
 * line; a #GFileError when the file cannot be read; and the errors of
 * dogpile_region_configure() for each region (plugin loading, the
 * backend's create).
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full): a region named @group; %NULL with an error
 * naming the file, and the groups it has when @group is not one of them.
 */
DogpileRegion *
dogpile_config_load_region (const char *path, const char *group,
                            GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (group != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return dogpile_config_load_region_full (path, group, DOGPILE_CONFIGURE_NONE,
                                          error);
}

/**
 * dogpile_config_load_region_full:
 * @path: an INI file
 * @group: the group that describes the region, e.g. "cache.redis"
 * @flags: added to what the group's keys ask for: with
 *   %DOGPILE_CONFIGURE_STRICT_ARGUMENTS an argument the backend or a
 *   proxy does not declare is an error whatever `strict_arguments` says
 *   (what `dogpile-cache --strict` does)
 * @error: return location for a #GError
 *
 * dogpile_config_load_region() with flags for the region's configure.
 *
 * Errors: as dogpile_config_load_region().
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full): a region named @group; %NULL with an error
 * naming the file, and the groups it has when @group is not one of them.
 */
DogpileRegion *
dogpile_config_load_region_full (const char *path, const char *group,
                                 DogpileConfigureFlags flags, GError **error)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  DogpileRegion *region;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (group != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!load_key_file (key_file, path, error))
    return NULL;
  if (!g_key_file_has_group (key_file, group))
    {
      g_auto (GStrv) groups = g_key_file_get_groups (key_file, NULL);
      g_autofree char *names = describe_names (groups, "no regions");

      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "%s: no region [%s] (the file has: %s)", path, group,
                   names);
      return NULL;
    }
  region = region_from_group (key_file, group, flags, error);
  if (region == NULL)
    g_prefix_error (error, "%s: ", path);
  return region;
}

/* os.path.abspath(@path): against the process's working directory (not
 * $PWD), '.', '..' and repeated slashes resolved as text. */
static char *
python_abspath (const char *path)
{
  g_autofree char *cwd = NULL;
  g_autofree char *joined = NULL;

  if (g_path_is_absolute (path))
    return g_canonicalize_filename (path, "/");
  cwd = getcwd (NULL, 0);
  joined = g_build_filename (cwd != NULL ? cwd : "/", path, NULL);
  return g_canonicalize_filename (joined, "/");
}

/* The 1-based line of @offset in @text. */
static guint
line_of (const char *text, gsize offset)
{
  guint line = 1;

  for (gsize i = 0; i < offset; i++)
    if (text[i] == '\n' || (text[i] == '\r' && text[i + 1] != '\n'))
      line++;
  return line;
}

/**
 * dogpile_config_load_settings:
 * @path: a Paste/Pyramid INI file (or any file Python's configparser
 *   reads)
 * @section: the section, e.g. "app:main"
 * @error: return location for a #GError
 *
 * The settings a Python program gets from
 * `dict(parser.items(section))`, where parser is PasteDeploy's:
 * `ConfigParser(defaults={"here": DIR, "__file__": FILE})`, DIR being the
 * file's folder and FILE the file, with keys kept in their case.  So `key =
 * value` and `key: value` lines, `#` and `;` comment lines, values continued
 * on more deeply indented lines, [DEFAULT]'s keys in every section, and
 * `%(name)s` references to other keys of the section, of [DEFAULT], or to
 * `here` and `__file__` (`%%` for a percent sign), expanded in every value
 * of the section as Python expands them.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION naming the file and the line, section
 * or key; a #GFileError when the file cannot be read.
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full) (element-type utf8 utf8): key -> value, as
 * text; %NULL with %DOGPILE_ERROR_VALIDATION naming the file (and the line,
 * the section or the key), or a #GFileError.
 */
GHashTable *
dogpile_config_load_settings (const char *path, const char *section,
                              GError **error)
{
  g_autofree char *text = NULL;
  g_autofree char *file = NULL;
  g_autofree char *here = NULL;
  g_autoptr (DogpileIni) ini = NULL;
  const char *defaults[5];
  const char *bad;
  gsize len;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (section != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  if (strlen (text) != len)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "%s:%u: a NUL byte: not an INI file", path,
                   line_of (text, strlen (text)));
      return NULL;
    }
  if (!g_utf8_validate (text, (gssize) len, &bad))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "%s:%u: not UTF-8 text", path,
                   line_of (text, (gsize) (bad - text)));
      return NULL;
    }
  file = python_abspath (path);
  here = g_path_get_dirname (file);
  defaults[0] = "here";
  defaults[1] = here;
  defaults[2] = "__file__";
  defaults[3] = file;
  defaults[4] = NULL;
  ini = dogpile__ini_parse (text, path, defaults, error);
  if (ini == NULL)
    return NULL;
  if (!dogpile__ini_has_section (ini, section))
    {
      g_auto (GStrv) sections = dogpile__ini_dup_sections (ini);
      g_autofree char *names = describe_names (sections, "no sections");

      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "%s: no section [%s] (the file has: %s)", path, section,
                   names);
      return NULL;
    }
  return dogpile__ini_dup_items (ini, section, error);
}

/**
 * dogpile_config_load_prefixed_region:
 * @path: a Paste/Pyramid INI file
 * @section: the section holding the settings, e.g. "app:main"
 * @prefix: what the region's keys start with, e.g. "cache.local."
 * @error: return location for a #GError
 *
 * What `region.configure_from_config(settings, prefix)` does in a Python
 * program whose settings are @section of @path: the settings of
 * dogpile_config_load_settings() given to
 * dogpile_region_configure_from_config().  Keys with other prefixes are
 * ignored, and only this region's backend is created.
 * dogpile_config_load_prefixed_region_full() with no flags.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION naming the file and the group, key or
 * line; a #GFileError when the file cannot be read; and the errors of
 * dogpile_region_configure() for each region (plugin loading, the
 * backend's create).
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full): a region named after @prefix without its
 * final dot ("cache.local"), or after @section when @prefix is ""; %NULL
 * with an error naming the file, the section and the key.
 */
DogpileRegion *
dogpile_config_load_prefixed_region (const char *path, const char *section,
                                     const char *prefix, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (section != NULL, NULL);
  g_return_val_if_fail (prefix != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return dogpile_config_load_prefixed_region_full (
      path, section, prefix, DOGPILE_CONFIGURE_NONE, error);
}

/**
 * dogpile_config_load_prefixed_region_full:
 * @path: a Paste/Pyramid INI file
 * @section: the section holding the settings, e.g. "app:main"
 * @prefix: what the region's keys start with, e.g. "cache.local."
 * @flags: added to what the keys ask for, as for
 *   dogpile_config_load_region_full()
 * @error: return location for a #GError
 *
 * dogpile_config_load_prefixed_region() with flags for the region's
 * configure.
 *
 * Errors: as dogpile_config_load_prefixed_region().
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full): the region; %NULL with an error naming the
 * file, the section and the key.
 */
DogpileRegion *
dogpile_config_load_prefixed_region_full (const char *path,
                                          const char *section,
                                          const char *prefix,
                                          DogpileConfigureFlags flags,
                                          GError **error)
{
  g_autoptr (GHashTable) settings = NULL;
  g_autoptr (DogpileRegion) region = NULL;
  g_autofree char *name = NULL;
  gsize len;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (section != NULL, NULL);
  g_return_val_if_fail (prefix != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  settings = dogpile_config_load_settings (path, section, error);
  if (settings == NULL)
    return NULL;
  len = strlen (prefix);
  if (len > 0 && prefix[len - 1] == '.')
    len--;
  name = len > 0 ? g_strndup (prefix, len) : g_strdup (section);
  region = dogpile_region_new (name);
  /* An empty prefix over a Paste section: the application's own keys
   * (use, pyramid.*) are there too. */
  if (!configure_from_config (region, settings, prefix, prefix[0] != '\0',
                              flags, error))
    {
      g_prefix_error (error, "%s: [%s] ", path, section);
      return NULL;
    }
  return g_steal_pointer (&region);
}
