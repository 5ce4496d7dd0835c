/* dogpile-ini.c: INI text as Python's configparser reads it.
 *
 * A Paste or Pyramid INI is read in Python by ConfigParser (PasteDeploy's
 * NicerConfigParser, with optionxform = str and the defaults `here` and
 * `__file__`), whose syntax is not GKeyFile's: `key: value` as well as
 * `key = value`, `;` comments, values continued on indented lines, a
 * [DEFAULT] section seen from every other one, and %(name)s references.
 * This follows Python 3.11's RawConfigParser._read and
 * BasicInterpolation with the default settings (strict, comments only on
 * lines of their own, empty lines kept inside continued values).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-ini.h"

#define DEFAULT_SECTION "DEFAULT"
#define MAX_INTERPOLATION_DEPTH 10 /* configparser's */

typedef struct {
  char *name;
  GPtrArray *keys;    /* char *, in the order first given */
  GHashTable *values; /* key -> value (char *) */
  GHashTable *lines;  /* key -> line it was read on (this read only) */
} IniSection;

struct DogpileIni {
  char *source;
  IniSection *defaults;
  GPtrArray *sections; /* IniSection *, file order, not DEFAULT */
  GHashTable *by_name; /* name -> IniSection * */
};

static IniSection *
section_new (const char *name)
{
  IniSection *s = g_new0 (IniSection, 1);

  s->name = g_strdup (name);
  s->keys = g_ptr_array_new_with_free_func (g_free);
  s->values = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  s->lines = g_hash_table_new (g_str_hash, g_str_equal);
  return s;
}

static void
section_free (IniSection *s)
{
  g_hash_table_unref (s->lines);
  g_hash_table_unref (s->values);
  g_ptr_array_unref (s->keys);
  g_free (s->name);
  g_free (s);
}

/* Sets @key (keeping its place when it is already there); the table's
 * key is the copy in s->keys.  Returns that copy. */
static const char *
section_set (IniSection *s, const char *key, char *value)
{
  gpointer orig = NULL;

  if (g_hash_table_lookup_extended (s->values, key, &orig, NULL))
    {
      g_hash_table_replace (s->values, orig, value);
      return orig;
    }
  orig = g_strdup (key);
  g_ptr_array_add (s->keys, orig);
  g_hash_table_insert (s->values, orig, value);
  return orig;
}

gboolean
dogpile__py_isspace (gunichar c)
{
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85
         || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a)
         || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f
         || c == 0x3000;
}

/* The end of @text with trailing Python whitespace removed. */
static const char *
rstrip_end (const char *text, const char *end)
{
  while (end > text)
    {
      const char *prev = g_utf8_find_prev_char (text, end);

      if (prev == NULL || !dogpile__py_isspace (g_utf8_get_char (prev)))
        break;
      end = prev;
    }
  return end;
}

/* Past leading Python whitespace; *out_count is how many code points. */
static const char *
lstrip (const char *text, const char *end, gsize *out_count)
{
  gsize n = 0;

  while (text < end && dogpile__py_isspace (g_utf8_get_char (text)))
    {
      text = g_utf8_next_char (text);
      n++;
    }
  if (out_count != NULL)
    *out_count = n;
  return text;
}

char *
dogpile__py_strip (const char *text)
{
  const char *end = text + strlen (text);
  const char *start = lstrip (text, end, NULL);

  return g_strndup (start, (gsize) (rstrip_end (start, end) - start));
}

static gboolean parse_error (GError **error, const char *source, guint line,
                             const char *format, ...) G_GNUC_PRINTF (4, 5);

static gboolean
parse_error (GError **error, const char *source, guint line,
             const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION, "%s:%u: %s",
               source, line, message);
  return FALSE;
}

/* The option being read, kept apart until its last continuation line. */
typedef struct {
  IniSection *section;
  char *key;
  GString *value;
} PendingOption;

static void
pending_commit (PendingOption *p)
{
  const char *end;

  if (p->key == NULL)
    return;
  /* '\n'.join(lines).rstrip() */
  end = rstrip_end (p->value->str, p->value->str + p->value->len);
  g_string_truncate (p->value, (gsize) (end - p->value->str));
  section_set (p->section, p->key, g_string_free (p->value, FALSE));
  g_clear_pointer (&p->key, g_free);
  p->value = NULL;
  p->section = NULL;
}

static void
pending_clear (PendingOption *p)
{
  g_clear_pointer (&p->key, g_free);
  if (p->value != NULL)
    g_string_free (g_steal_pointer (&p->value), TRUE);
}

/* One line (without its line break): what _read does with it. */
static gboolean
read_line (DogpileIni *ini, const char *line, const char *line_end,
           guint lineno, IniSection **cursect, PendingOption *pending,
           gsize *indent_level, GHashTable *seen_sections, GError **error)
{
  gsize indent;
  const char *value = lstrip (line, line_end, &indent);
  const char *value_end = rstrip_end (value, line_end);
  gsize len = (gsize) (value_end - value);
  g_autofree char *text = g_strndup (value, len);

  if (len == 0 || value[0] == '#' || value[0] == ';')
    {
      /* An empty line (not a comment) is part of a continued value. */
      if (len == 0 && pending->key != NULL)
        g_string_append_c (pending->value, '\n');
      return TRUE;
    }
  if (pending->key != NULL && indent > *indent_level)
    {
      g_string_append_c (pending->value, '\n');
      g_string_append (pending->value, text);
      return TRUE;
    }
  *indent_level = indent;
  pending_commit (pending);

  /* \[(?P<header>.+)\] from the start: up to the last ']' */
  if (text[0] == '[')
    {
      const char *close = strrchr (text, ']');

      if (close != NULL && close - text >= 2)
        {
          g_autofree char *name
              = g_strndup (text + 1, (gsize) (close - text - 1));
          gpointer first;

          if (strcmp (name, DEFAULT_SECTION) == 0)
            *cursect = ini->defaults;
          else if (g_hash_table_lookup_extended (seen_sections, name, NULL,
                                                 &first))
            return parse_error (error, ini->source, lineno,
                                "section [%s] appears twice (first on line "
                                "%u)",
                                name, GPOINTER_TO_UINT (first));
          else
            {
              *cursect = section_new (name);
              g_ptr_array_add (ini->sections, *cursect);
              g_hash_table_insert (ini->by_name, (*cursect)->name, *cursect);
              g_hash_table_insert (seen_sections, (*cursect)->name,
                                   GUINT_TO_POINTER (lineno));
            }
          return TRUE;
        }
    }
  if (*cursect == NULL)
    return parse_error (error, ini->source, lineno,
                        "'%s' comes before any [section]", text);

  {
    /* (?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$: the first '=' or
     * ':' ends the key. */
    const char *delim = strpbrk (text, "=:");
    const char *key_end;
    g_autofree char *key = NULL;
    gpointer first;

    if (delim == NULL)
      return parse_error (error, ini->source, lineno,
                          "'%s' is neither a [section] nor a key = value "
                          "(or key: value) line",
                          text);
    key_end = rstrip_end (text, delim);
    if (key_end == text)
      return parse_error (error, ini->source, lineno,
                          "'%s' has no key before its '%c'", text, *delim);
    key = g_strndup (text, (gsize) (key_end - text));
    if (g_hash_table_lookup_extended ((*cursect)->lines, key, NULL, &first))
      return parse_error (error, ini->source, lineno,
                          "key '%s' appears twice in [%s] (first on line "
                          "%u)",
                          key, (*cursect)->name, GPOINTER_TO_UINT (first));
    pending->section = *cursect;
    pending->value = g_string_new (lstrip (delim + 1, text + len, NULL));
    pending->key = g_steal_pointer (&key);
    /* the line table's key must live as long as the section: set the
     * value now (the final one replaces it) */
    g_hash_table_insert (
        (*cursect)->lines,
        (gpointer) section_set (*cursect, pending->key, g_strdup ("")),
        GUINT_TO_POINTER (lineno));
  }
  return TRUE;
}

/**
 * dogpile__ini_parse:
 * @text: the file's contents, UTF-8 without NUL bytes
 * @source: the file's name, for messages
 * @defaults: (nullable) (array zero-terminated=1): key, value, key,
 *   value...: the ConfigParser constructor's defaults
 * @error: return location for a #GError
 *
 * Lines end at \n, \r\n or \r (Python's universal newlines).
 *
 * Returns: (transfer full): the file; %NULL with %DOGPILE_ERROR_VALIDATION
 * naming @source and the line.
 */
DogpileIni *
dogpile__ini_parse (const char *text, const char *source,
                    const char *const *defaults, GError **error)
{
  g_autoptr (DogpileIni) ini = g_new0 (DogpileIni, 1);
  g_autoptr (GHashTable) seen_sections
      = g_hash_table_new (g_str_hash, g_str_equal);
  PendingOption pending = { 0 };
  IniSection *cursect = NULL;
  gsize indent_level = 0;
  guint lineno = 0;
  const char *p = text;

  ini->source = g_strdup (source);
  ini->defaults = section_new (DEFAULT_SECTION);
  ini->sections
      = g_ptr_array_new_with_free_func ((GDestroyNotify) section_free);
  ini->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  for (gsize i = 0; defaults != NULL && defaults[i] != NULL; i += 2)
    section_set (ini->defaults, defaults[i], g_strdup (defaults[i + 1]));

  while (*p != '\0')
    {
      const char *end = p + strcspn (p, "\r\n");

      if (!read_line (ini, p, end, ++lineno, &cursect, &pending, &indent_level,
                      seen_sections, error))
        {
          pending_clear (&pending);
          return NULL;
        }
      p = end;
      if (p[0] == '\r' && p[1] == '\n')
        p += 2;
      else if (*p != '\0')
        p++;
    }
  pending_commit (&pending);
  return g_steal_pointer (&ini);
}

void
dogpile__ini_free (DogpileIni *ini)
{
  if (ini == NULL)
    return;
  if (ini->by_name != NULL)
    g_hash_table_unref (ini->by_name);
  if (ini->sections != NULL)
    g_ptr_array_unref (ini->sections);
  if (ini->defaults != NULL)
    section_free (ini->defaults);
  g_free (ini->source);
  g_free (ini);
}

char **
dogpile__ini_dup_sections (DogpileIni *ini)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  char **names;

  for (guint i = 0; i < ini->sections->len; i++)
    g_strv_builder_add (
        builder, ((IniSection *) g_ptr_array_index (ini->sections, i))->name);
  names = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return names;
}

gboolean
dogpile__ini_has_section (DogpileIni *ini, const char *section)
{
  return strcmp (section, DEFAULT_SECTION) == 0
         || g_hash_table_contains (ini->by_name, section);
}

typedef struct {
  DogpileIni *ini;
  const char *section;
  const char *option;
  GHashTable *map; /* the section over DEFAULT: key -> raw value */
} Interpolation;

static gboolean interpolation_error (const Interpolation *in, GError **error,
                                     const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
interpolation_error (const Interpolation *in, GError **error,
                     const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "%s: [%s] key '%s': %s", in->ini->source, in->section,
               in->option, message);
  return FALSE;
}

/* BasicInterpolation._interpolate_some */
static gboolean
interpolate (const Interpolation *in, GString *out, const char *rest,
             int depth, GError **error)
{
  if (depth > MAX_INTERPOLATION_DEPTH)
    return interpolation_error (in, error,
                                "%%(name)s references go more than %d deep "
                                "(does a value refer to itself?)",
                                MAX_INTERPOLATION_DEPTH);
  while (*rest != '\0')
    {
      const char *percent = strchr (rest, '%');
      const char *name, *close;
      const char *value;

      if (percent == NULL)
        {
          g_string_append (out, rest);
          return TRUE;
        }
      g_string_append_len (out, rest, percent - rest);
      rest = percent;
      if (rest[1] == '%')
        {
          g_string_append_c (out, '%');
          rest += 2;
          continue;
        }
      if (rest[1] != '(')
        return interpolation_error (in, error,
                                    "'%%' must be followed by '%%' or '(', "
                                    "found: '%s'",
                                    rest);
      /* %\(([^)]+)\)s */
      name = rest + 2;
      close = strchr (name, ')');
      if (close == NULL || close == name || close[1] != 's')
        return interpolation_error (
            in, error, "bad interpolation variable reference '%s'", rest);
      {
        g_autofree char *var = g_strndup (name, (gsize) (close - name));

        value = g_hash_table_lookup (in->map, var);
        if (value == NULL)
          return interpolation_error (
              in, error,
              "'%%(%s)s' names no key of [%s] or [" DEFAULT_SECTION "]", var,
              in->section);
      }
      rest = close + 2;
      if (strchr (value, '%') != NULL)
        {
          if (!interpolate (in, out, value, depth + 1, error))
            return FALSE;
        }
      else
        g_string_append (out, value);
    }
  return TRUE;
}

GHashTable *
dogpile__ini_dup_items (DogpileIni *ini, const char *section, GError **error)
{
  g_autoptr (GHashTable) map = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) order = g_ptr_array_new ();
  g_autoptr (GHashTable) items
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  IniSection *own = NULL;
  IniSection *layers[2];

  if (strcmp (section, DEFAULT_SECTION) != 0)
    own = g_hash_table_lookup (ini->by_name, section);
  g_return_val_if_fail (own != NULL || strcmp (section, DEFAULT_SECTION) == 0,
                        NULL);

  /* d = defaults.copy(); d.update(section): DEFAULT's keys come first */
  layers[0] = ini->defaults;
  layers[1] = own;
  for (guint l = 0; l < 2 && layers[l] != NULL; l++)
    for (guint i = 0; i < layers[l]->keys->len; i++)
      {
        const char *key = g_ptr_array_index (layers[l]->keys, i);

        if (!g_hash_table_contains (map, key))
          g_ptr_array_add (order, (gpointer) key);
        g_hash_table_insert (map, (gpointer) key,
                             g_hash_table_lookup (layers[l]->values, key));
      }
  for (guint i = 0; i < order->len; i++)
    {
      Interpolation in = { ini, section, g_ptr_array_index (order, i), map };
      GString *out = g_string_new (NULL);

      if (!interpolate (&in, out, g_hash_table_lookup (map, in.option), 1,
                        error))
        {
          g_string_free (out, TRUE);
          return NULL;
        }
      g_hash_table_insert (items, g_strdup (in.option),
                           g_string_free (out, FALSE));
    }
  return g_steal_pointer (&items);
}
