/* dogpile-arguments.c: typed reads of backend arguments.
 *
 * Arguments arrive as strings (a config file has nothing else), so the
 * coercions follow dogpile.cache's coerce_string_conf: surrounding spaces
 * are stripped, "None" means "not given", true/false are booleans.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* The trace of the plugin create() running on this thread, if any
 * (dogpile-backend.c): nested creates stack through ->outer. */
static __thread DogpileArgumentsTrace *current_trace;

void
dogpile__arguments_trace_begin (DogpileArgumentsTrace *trace,
                                GHashTable *arguments)
{
  trace->arguments = arguments;
  trace->names = g_ptr_array_new_with_free_func (g_free);
  trace->outer = current_trace;
  current_trace = trace;
}

void
dogpile__arguments_trace_end (DogpileArgumentsTrace *trace)
{
  current_trace = trace->outer;
  g_clear_pointer (&trace->names, g_ptr_array_unref);
}

/* Every accessor passes here: what a plugin reads is what its argument
 * table must declare, and only reads of the map being created from
 * count (a plugin's own maps, such as a URL's query, are not arguments). */
static void
note_read (GHashTable *arguments, const char *name)
{
  DogpileArgumentsTrace *trace = current_trace;

  if (trace == NULL || trace->arguments != arguments)
    return;
  for (guint i = 0; i < trace->names->len; i++)
    if (strcmp (g_ptr_array_index (trace->names, i), name) == 0)
      return;
  g_ptr_array_add (trace->names, g_strdup (name));
}

/* Fetches the stripped value; FALSE when absent, "None" or empty, i.e. when
 * the default applies.  The stripped copy goes to *out_owned. */
static gboolean
lookup_stripped (GHashTable *arguments, const char *name, char **out_owned)
{
  const char *raw;
  char *value;

  *out_owned = NULL;
  note_read (arguments, name);
  if (arguments == NULL)
    return FALSE;
  raw = g_hash_table_lookup (arguments, name);
  if (raw == NULL)
    return FALSE;
  value = g_strstrip (g_strdup (raw));
  if (value[0] == '\0' || strcmp (value, "None") == 0)
    {
      g_free (value);
      return FALSE;
    }
  *out_owned = value;
  return TRUE;
}

#define DURATION_EXPECTED "a duration (seconds, or e.g. 1h30m)"

static gboolean
invalid (GError **error, const char *name, const char *expected,
         const char *value)
{
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "Argument '%s' must be %s, not '%s'", name, expected, value);
  return FALSE;
}

/**
 * dogpile_arguments_get_string:
 * @arguments: (nullable): the backend's argument map
 * @name: the argument
 * @default_value: (nullable): returned when the argument is absent
 * @out_value: (out) (transfer none) (nullable): the value, owned by
 *   @arguments (or @default_value); not stripped
 * @error: return location for a #GError
 *
 * An argument's text as given; absent or `None` gives @default_value.
 *
 * Thread safety: any thread; @arguments is only read.
 *
 * Errors: none: any text is a string.
 *
 * Returns: %TRUE (strings are never malformed); the signature matches the
 * other accessors so call sites read alike.
 */
gboolean
dogpile_arguments_get_string (GHashTable *arguments, const char *name,
                              const char *default_value,
                              const char **out_value, GError **error)
{
  const char *raw = NULL;

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);

  note_read (arguments, name);
  if (arguments != NULL)
    raw = g_hash_table_lookup (arguments, name);
  if (raw == NULL || strcmp (raw, "None") == 0)
    raw = default_value;
  *out_value = raw;
  return TRUE;
}

/* `[-+]digits`, the given (stripped) @value of argument @name. */
static gboolean
parse_int (const char *name, const char *value, gint64 *out_value,
           GError **error)
{
  const char *p = value + (value[0] == '+' || value[0] == '-');
  char *end;
  gint64 parsed;

  if (!g_ascii_isdigit (*p))
    return invalid (error, name, "an integer", value);
  errno = 0;
  parsed = g_ascii_strtoll (value, &end, 10);
  if (*end != '\0')
    return invalid (error, name, "an integer", value);
  if (errno == ERANGE)
    return invalid (error, name, "an integer in range", value);
  *out_value = parsed;
  return TRUE;
}

/**
 * dogpile_arguments_get_int:
 * @arguments: (nullable): the backend's argument map
 * @name: the argument
 * @default_value: returned when the argument is absent
 * @out_value: (out): the value
 * @error: return location for a #GError
 *
 * Accepts `[-+]digits` (coerce_string_conf's integer form).
 *
 * Errors: %DOGPILE_ERROR_VALIDATION naming the argument, what it must be
 * and the value given.
 *
 * Thread safety: any thread; @arguments is only read.
 *
 * Returns: %TRUE on success; %FALSE with %DOGPILE_ERROR_VALIDATION.
 */
gboolean
dogpile_arguments_get_int (GHashTable *arguments, const char *name,
                           gint64 default_value, gint64 *out_value,
                           GError **error)
{
  g_autofree char *value = NULL;

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);

  if (!lookup_stripped (arguments, name, &value))
    {
      *out_value = default_value;
      return TRUE;
    }
  return parse_int (name, value, out_value, error);
}

/* coerce_string_conf's float form, without Python's inf/nan spellings. */
/* One decimal number at @p: digits with an optional fraction and
 * exponent, nothing else (no inf, nan, hex, sign), finite.  The one rule
 * for every number in a duration, however it is written. */
static gboolean
scan_decimal (const char *p, const char **out_end, double *out)
{
  const char *start = p;
  gboolean digits = FALSE;
  char buf[64];

  while (g_ascii_isdigit (*p))
    p++, digits = TRUE;
  if (*p == '.')
    {
      p++;
      while (g_ascii_isdigit (*p))
        p++, digits = TRUE;
    }
  if (!digits)
    return FALSE;
  if ((*p == 'e' || *p == 'E')
      && (g_ascii_isdigit (p[1])
          || ((p[1] == '+' || p[1] == '-') && g_ascii_isdigit (p[2]))))
    {
      p += 2;
      while (g_ascii_isdigit (*p))
        p++;
    }
  /* however long: "000...001" and "1.000...0" are numbers too (and
   * the integer reader takes as many digits) */
  if ((gsize) (p - start) >= sizeof buf)
    {
      g_autofree char *copy = g_strndup (start, (gsize) (p - start));

      *out = g_ascii_strtod (copy, NULL);
    }
  else
    {
      memcpy (buf, start, (gsize) (p - start));
      buf[p - start] = '\0';
      *out = g_ascii_strtod (buf, NULL);
    }
  *out_end = p;
  return isfinite (*out);
}

static gboolean
parse_number (const char *text, double *out)
{
  const char *end;
  gboolean negative = text[0] == '-';

  if (!scan_decimal (text + (text[0] == '+' || negative), &end, out)
      || *end != '\0')
    return FALSE;
  if (negative)
    *out = -*out;
  return TRUE;
}

/**
 * dogpile_arguments_get_double:
 * @arguments: (nullable): the backend's argument map
 * @name: the argument
 * @default_value: returned when the argument is absent
 * @out_value: (out): the value
 * @error: return location for a #GError
 *
 * Accepts integers and decimals such as `5`, `0.5`, `5.`, `.5`, `1e5`.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION naming the argument, what it must be
 * and the value given.
 *
 * Thread safety: any thread; @arguments is only read.
 *
 * Returns: %TRUE on success; %FALSE with %DOGPILE_ERROR_VALIDATION.
 */
gboolean
dogpile_arguments_get_double (GHashTable *arguments, const char *name,
                              double default_value, double *out_value,
                              GError **error)
{
  g_autofree char *value = NULL;

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);

  if (!lookup_stripped (arguments, name, &value))
    {
      *out_value = default_value;
      return TRUE;
    }
  if (!parse_number (value, out_value))
    return invalid (error, name, "a number", value);
  return TRUE;
}

/**
 * dogpile_arguments_get_boolean:
 * @arguments: (nullable): the backend's argument map
 * @name: the argument
 * @default_value: returned when the argument is absent
 * @out_value: (out): the value
 * @error: return location for a #GError
 *
 * Accepts true/false in any case (coerce_string_conf) and 1/0 (what
 * Python's truth test gives for those integers).
 *
 * Errors: %DOGPILE_ERROR_VALIDATION naming the argument, what it must be
 * and the value given.
 *
 * Thread safety: any thread; @arguments is only read.
 *
 * Returns: %TRUE on success; %FALSE with %DOGPILE_ERROR_VALIDATION.
 */
gboolean
dogpile_arguments_get_boolean (GHashTable *arguments, const char *name,
                               gboolean default_value, gboolean *out_value,
                               GError **error)
{
  g_autofree char *value = NULL;

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);

  if (!lookup_stripped (arguments, name, &value))
    {
      *out_value = default_value;
      return TRUE;
    }
  if (g_ascii_strcasecmp (value, "true") == 0 || strcmp (value, "1") == 0)
    *out_value = TRUE;
  else if (g_ascii_strcasecmp (value, "false") == 0
           || strcmp (value, "0") == 0)
    *out_value = FALSE;
  else
    return invalid (error, name, "true or false", value);
  return TRUE;
}

/* Python's str(timedelta): "[-]D day[s], H:MM:SS[.ffffff]" or "H:MM:SS". */
static gboolean
parse_clock_duration (const char *text, double *out)
{
  double days = 0, hours, minutes, seconds, total;
  const char *p = text;
  const char *scanned;
  char *end;

  if (strstr (p, "day") != NULL)
    {
      /* str(timedelta): "-1 day, 23:00:00" is -1 h, the days alone signed */
      gboolean negative = *p == '-';

      if (!scan_decimal (p + negative, &scanned, &days))
        return FALSE;
      if (negative)
        days = -days;
      p = scanned;
      while (*p == ' ')
        p++;
      if (g_str_has_prefix (p, "days"))
        p += 4;
      else if (g_str_has_prefix (p, "day"))
        p += 3;
      else
        return FALSE;
      if (*p == '\0')
        {
          *out = days * 86400;
          return isfinite (*out);
        }
      if (*p++ != ',')
        return FALSE;
      while (*p == ' ')
        p++;
    }
  if (!g_ascii_isdigit (*p))
    return FALSE;
  hours = (double) g_ascii_strtoull (p, &end, 10);
  if (*end != ':' || !g_ascii_isdigit (end[1]) || !g_ascii_isdigit (end[2])
      || end[3] != ':')
    return FALSE;
  minutes = (end[1] - '0') * 10 + (end[2] - '0');
  p = end + 4;
  if (!g_ascii_isdigit (p[0]) || !g_ascii_isdigit (p[1]))
    return FALSE;
  if (!scan_decimal (p, &scanned, &seconds) || *scanned != '\0'
      || minutes >= 60 || seconds >= 60)
    return FALSE;
  total = days * 86400 + hours * 3600 + minutes * 60 + seconds;
  if (!isfinite (total))
    return FALSE;
  *out = total;
  return TRUE;
}

/* "1h30m", "250ms", "2d 4h", "45s": numbers each followed by a unit. */
static gboolean
parse_unit_duration (const char *text, double *out)
{
  static const struct {
    const char *unit;
    double seconds;
  } units[] = {
    { "ms", 0.001 }, { "min", 60 },  { "s", 1 },      { "m", 60 },
    { "h", 3600 },   { "d", 86400 }, { "w", 604800 },
  };
  const char *p = text;
  double total = 0;
  gboolean any = FALSE;

  while (*p != '\0')
    {
      const char *end;
      double number;
      gsize i;

      while (*p == ' ')
        p++;
      if (*p == '\0')
        break;
      if (!scan_decimal (p, &end, &number))
        return FALSE;
      p = end;
      while (*p == ' ')
        p++;
      for (i = 0; i < G_N_ELEMENTS (units); i++)
        if (g_str_has_prefix (p, units[i].unit)
            && !g_ascii_isalpha (p[strlen (units[i].unit)]))
          break;
      if (i == G_N_ELEMENTS (units))
        return FALSE;
      p += strlen (units[i].unit);
      total += number * units[i].seconds;
      any = TRUE;
    }
  if (!any || !isfinite (total))
    return FALSE;
  *out = total;
  return TRUE;
}

/* Seconds from a plain number, a unit form or a timedelta string. */
static gboolean
parse_duration (const char *text, double *out)
{
  if (parse_number (text, out))
    return TRUE;
  if (parse_unit_duration (text, out))
    return TRUE;
  return parse_clock_duration (text, out);
}

/**
 * dogpile_arguments_get_duration:
 * @arguments: (nullable): the backend's argument map
 * @name: the argument
 * @default_value: returned when the argument is absent
 * @out_seconds: (out): the duration in seconds
 * @error: return location for a #GError
 *
 * Accepts seconds (`30`, `0.25`), numbers with units (`250ms`, `90s`,
 * `5m`, `1h30m`, `2d`, `1w`) and Python's str(timedelta) form
 * (`1 day, 8:00:00`).
 *
 * Errors: %DOGPILE_ERROR_VALIDATION naming the argument, what it must be
 * and the value given.
 *
 * Thread safety: any thread; @arguments is only read.
 *
 * Returns: %TRUE on success; %FALSE with %DOGPILE_ERROR_VALIDATION.
 */
gboolean
dogpile_arguments_get_duration (GHashTable *arguments, const char *name,
                                double default_value, double *out_seconds,
                                GError **error)
{
  g_autofree char *value = NULL;

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (out_seconds != NULL, FALSE);

  if (!lookup_stripped (arguments, name, &value))
    {
      *out_seconds = default_value;
      return TRUE;
    }
  if (!parse_duration (value, out_seconds))
    return invalid (error, name, DURATION_EXPECTED, value);
  return TRUE;
}

/**
 * dogpile_arguments_dup_list:
 * @arguments: (nullable): the backend's argument map
 * @name: the argument
 * @out_list: (out) (transfer full): the items, %NULL-terminated; an empty
 *   array when the argument is absent
 * @error: return location for a #GError
 *
 * Splits on commas and ASCII whitespace (space, tab, newline, carriage
 * return, vertical tab, form feed), dropping empty items: `a:1, b:2` and
 * `a:1 b:2` both give two items, and no item holds a separator (a '\r'
 * left in one would reach a host name).
 *
 * Errors: %DOGPILE_ERROR_VALIDATION naming the argument, what it must be
 * and the value given.
 *
 * Thread safety: any thread; @arguments is only read.
 *
 * Returns: %TRUE (a list is never malformed).
 */
gboolean
dogpile_arguments_dup_list (GHashTable *arguments, const char *name,
                            char ***out_list, GError **error)
{
  g_autofree char *value = NULL;
  g_auto (GStrv) parts = NULL;
  GPtrArray *items;

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (out_list != NULL, FALSE);

  items = g_ptr_array_new ();
  if (lookup_stripped (arguments, name, &value))
    {
      parts = g_strsplit_set (value, ", \t\n\r\v\f", -1);
      for (char **p = parts; *p != NULL; p++)
        if (**p != '\0')
          g_ptr_array_add (items, g_strdup (*p));
    }
  g_ptr_array_add (items, NULL);
  *out_list = (char **) g_ptr_array_free (items, FALSE);
  return TRUE;
}

/**
 * dogpile_parse_expiration_time:
 * @text: an expiration time as written in a config file
 * @out_seconds: (out): the expiration in seconds
 * @error: return location for a #GError
 *
 * `none`, `None`, an empty string and `-1` give %DOGPILE_EXPIRATION_NONE
 * (never expires); otherwise any duration form of
 * dogpile_arguments_get_duration().
 *
 * Errors: %DOGPILE_ERROR_VALIDATION for text that is no expiration time.
 *
 * Thread safety: any thread.
 *
 * Returns: %TRUE on success; %FALSE with %DOGPILE_ERROR_VALIDATION and
 * dogpile.cache's message "expiration_time is not a number or timedelta."
 */
gboolean
dogpile_parse_expiration_time (const char *text, double *out_seconds,
                               GError **error)
{
  g_autofree char *value = NULL;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (out_seconds != NULL, FALSE);

  value = g_strstrip (g_strdup (text));
  if (value[0] == '\0' || g_ascii_strcasecmp (value, "none") == 0)
    {
      *out_seconds = DOGPILE_EXPIRATION_NONE;
      return TRUE;
    }
  if (!parse_duration (value, out_seconds))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "expiration_time is not a number or timedelta. (got '%s')",
                   value);
      return FALSE;
    }
  return TRUE;
}

/**
 * dogpile_arguments_has:
 * @arguments: (nullable): the backend's argument map
 * @name: the argument
 *
 * Whether an argument is given at all.
 *
 * Thread safety: any thread; @arguments is only read.
 *
 * Returns: whether @name is given: present, and neither empty (once
 * stripped) nor "None".
 */
gboolean
dogpile_arguments_has (GHashTable *arguments, const char *name)
{
  g_autofree char *value = NULL;

  g_return_val_if_fail (name != NULL, FALSE);

  return lookup_stripped (arguments, name, &value);
}

/**
 * dogpile_arguments_is_none:
 * @arguments: (nullable): the backend's argument map
 * @name: the argument
 *
 * Whether an argument is spelt out as Python's None.  The readers take
 * "None" for "not given", so the default applies; a backend whose
 * Python original gives None a meaning of its own (a lock that never
 * expires, a wait without limit) asks this first.
 *
 * Thread safety: any thread; @arguments is only read.
 *
 * Returns: whether @name is present and, stripped of surrounding spaces,
 * "none" in any case.
 */
gboolean
dogpile_arguments_is_none (GHashTable *arguments, const char *name)
{
  const char *raw;
  g_autofree char *value = NULL;

  g_return_val_if_fail (name != NULL, FALSE);

  raw = arguments != NULL ? g_hash_table_lookup (arguments, name) : NULL;
  if (raw == NULL)
    return FALSE;
  value = g_strstrip (g_strdup (raw));
  return g_ascii_strcasecmp (value, "none") == 0;
}

/**
 * dogpile_arguments_dup_string:
 * @arguments: (nullable): the backend's argument map
 * @name: the argument
 * @default_value: (nullable): used when the argument is not given
 * @out_value: (out) (transfer full) (nullable): the value, stripped of
 *   surrounding spaces; a copy of @default_value when @name is absent,
 *   empty or "None"
 * @error: return location for a #GError
 *
 * What coerce_string_conf makes of a string; dogpile_arguments_get_string()
 * is the value exactly as given.
 *
 * Errors: none: any text is a string.
 *
 * Thread safety: any thread; @arguments is only read.
 *
 * Returns: %TRUE (strings are never malformed).
 */
gboolean
dogpile_arguments_dup_string (GHashTable *arguments, const char *name,
                              const char *default_value, char **out_value,
                              GError **error)
{
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);

  if (!lookup_stripped (arguments, name, out_value))
    *out_value = g_strdup (default_value);
  return TRUE;
}

/**
 * dogpile_arguments_get_int_range:
 * @arguments: (nullable): the backend's argument map
 * @name: the argument
 * @default_value: used when the argument is not given (not checked)
 * @min: the smallest value accepted
 * @max: the largest value accepted
 * @out_value: (out): the value
 * @error: return location for a #GError
 *
 * dogpile_arguments_get_int() that also refuses a value outside
 * [@min, @max], with a message naming the argument, the range and the
 * value given.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION naming the argument, what it must be
 * and the value given.
 *
 * Thread safety: any thread; @arguments is only read.
 *
 * Returns: %TRUE on success; %FALSE with %DOGPILE_ERROR_VALIDATION.
 */
gboolean
dogpile_arguments_get_int_range (GHashTable *arguments, const char *name,
                                 gint64 default_value, gint64 min, gint64 max,
                                 gint64 *out_value, GError **error)
{
  g_autofree char *value = NULL;
  gint64 parsed;

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);
  g_return_val_if_fail (min <= max, FALSE);

  if (!lookup_stripped (arguments, name, &value))
    {
      *out_value = default_value;
      return TRUE;
    }
  if (!parse_int (name, value, &parsed, error))
    return FALSE;
  if (parsed < min || parsed > max)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "Argument '%s' must be an integer from %" G_GINT64_FORMAT
                   " to %" G_GINT64_FORMAT ", not '%s'",
                   name, min, max, value);
      return FALSE;
    }
  *out_value = parsed;
  return TRUE;
}

/**
 * dogpile_arguments_get_duration_range:
 * @arguments: (nullable): the backend's argument map
 * @name: the argument
 * @default_value: used when the argument is not given (not checked)
 * @min: the shortest duration accepted, in seconds
 * @max: the longest duration accepted, in seconds
 * @flags: %DOGPILE_ARGUMENTS_ABOVE_MIN to refuse @min itself (a timeout
 *   that must be more than zero)
 * @out_seconds: (out): the duration
 * @error: return location for a #GError
 *
 * dogpile_arguments_get_duration() that also refuses a duration outside
 * the range, with a message naming the argument, the range and the value
 * given.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION naming the argument, what it must be
 * and the value given.
 *
 * Thread safety: any thread; @arguments is only read.
 *
 * Returns: %TRUE on success; %FALSE with %DOGPILE_ERROR_VALIDATION.
 */
gboolean
dogpile_arguments_get_duration_range (GHashTable *arguments, const char *name,
                                      double default_value, double min,
                                      double max, DogpileArgumentsFlags flags,
                                      double *out_seconds, GError **error)
{
  g_autofree char *value = NULL;
  gboolean above = (flags & DOGPILE_ARGUMENTS_ABOVE_MIN) != 0;
  double parsed;

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (out_seconds != NULL, FALSE);

  if (!lookup_stripped (arguments, name, &value))
    {
      *out_seconds = default_value;
      return TRUE;
    }
  if (!parse_duration (value, &parsed))
    return invalid (error, name, DURATION_EXPECTED, value);
  if (!(above ? parsed > min : parsed >= min) || !(parsed <= max))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "Argument '%s' must be a duration %s %g and at most %g "
                   "seconds, not '%s'",
                   name, above ? "above" : "of at least", min, max, value);
      return FALSE;
    }
  *out_seconds = parsed;
  return TRUE;
}

/**
 * dogpile_arguments_get_choice:
 * @arguments: (nullable): the backend's argument map
 * @name: the argument
 * @choices: (array zero-terminated=1): the words accepted, compared
 *   without regard to ASCII case
 * @default_index: the index given when the argument is not given
 * @out_index: (out): the index of the word given in @choices
 * @error: return location for a #GError
 *
 * One of a few words, as `eviction_policy = lru`.
 *
 * Thread safety: any thread; @arguments is only read.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION for a word not in @choices, naming the
 * argument, every choice and the value given.
 *
 * Returns: %TRUE on success.
 */
gboolean
dogpile_arguments_get_choice (GHashTable *arguments, const char *name,
                              const char *const *choices, guint default_index,
                              guint *out_index, GError **error)
{
  g_autofree char *value = NULL;
  g_autofree char *listed = NULL;

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (choices != NULL && choices[0] != NULL, FALSE);
  g_return_val_if_fail (out_index != NULL, FALSE);

  if (!lookup_stripped (arguments, name, &value))
    {
      *out_index = default_index;
      return TRUE;
    }
  for (guint i = 0; choices[i] != NULL; i++)
    if (g_ascii_strcasecmp (value, choices[i]) == 0)
      {
        *out_index = i;
        return TRUE;
      }
  listed = g_strjoinv (", ", (char **) choices);
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "Argument '%s' must be one of %s, not '%s'", name, listed,
               value);
  return FALSE;
}
