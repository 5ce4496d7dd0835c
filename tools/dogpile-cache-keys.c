/* dogpile-cache-keys.c: the commands on keys: get, set, delete,
 * get-multi, locked and invalidate.
 *
 * With the pickle serializer a value is printed and read as JSON, in
 * dogpile-json.h's tagged form for what JSON has no form for ({"$bytes":
 * base64}, {"$tuple": [...]}, ...); with raw and json the payload's bytes
 * go out and in unchanged.  A VALUE of "-" is read from stdin, binary
 * safe.
 *
 * A value is always read with its expiration ignored and then judged
 * here, by the rule get() applies (older than the region's expiration
 * time, strictly), so an expired value is reported as expired, with its
 * age, instead of as no value.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-cache.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "tool-common.h"

typedef struct {
  const char *name;
  const char *parameters; /* GOptionContext's, after the command */
  const char *summary;
  int min_args;
  int max_args; /* -1: any number */
} KeyCommand;

static const KeyCommand key_commands[] = {
  { "get", "KEY",
    "Prints the value of KEY: its bytes unchanged (raw, json), "
    "or its JSON (pickle).",
    1, 1 },
  { "set", "KEY VALUE|-",
    "Stores VALUE under KEY; with -, or with --file FILE in its place, the "
    "value is read from stdin or FILE, binary-safe.",
    2, 2 },
  { "delete", "KEY...",
    "Deletes each KEY; a key with no value is not an "
    "error.",
    1, -1 },
  { "get-multi", "KEY...",
    "Prints the value of each KEY in one backend call: a line KEY<tab>VALUE "
    "for each, or one JSON object with --json.",
    1, -1 },
  { "locked", "KEY",
    "Whether someone holds KEY's dogpile lock (is creating its value): exit "
    "0 and \"locked\", or exit 3 and \"not locked\".  Only a backend with a "
    "distributed lock (redis or memcached with distributed_lock) sees other "
    "processes' locks.",
    1, 1 },
  { "invalidate", "",
    "Invalidates the region: values created before now are misses (hard, "
    "the default) or stale for get_or_create (--soft).  This invalidation "
    "is process-local until cross-process invalidation lands: it holds only "
    "in this dogpile-cache process, so other processes, and later runs of "
    "dogpile-cache, still see every value.",
    0, 0 },
};

static const char exit_statuses[]
    = "Exit status: 0 success; 1 an error (the message is on stderr); 2 a "
      "bad command line (an unknown option among them); 3 no value, an "
      "expired value or (locked) a key nobody holds.";

gboolean
cache_key_is_command (const char *command)
{
  for (gsize i = 0; i < G_N_ELEMENTS (key_commands); i++)
    if (strcmp (key_commands[i].name, command) == 0)
      return TRUE;
  return FALSE;
}

typedef struct {
  const KeyCommand *command;
  gboolean meta;
  gboolean ignore_expiration;
  gboolean json;
  gboolean soft;
  char *file;
} KeyOptions;

/* All of @stream. */
static GBytes *
read_all (FILE *stream, const char *what, GError **error)
{
  GByteArray *data = g_byte_array_new ();
  guint8 buf[65536];
  size_t n;

  while ((n = fread (buf, 1, sizeof buf, stream)) > 0)
    g_byte_array_append (data, buf, (guint) n);
  if (ferror (stream))
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Cannot read the value from %s: %s", what,
                   g_strerror (saved));
      g_byte_array_unref (data);
      return NULL;
    }
  return g_byte_array_free_to_bytes (data);
}

static GBytes *
read_file (const char *path, GError **error)
{
  char *contents = NULL;
  gsize len = 0;

  if (strcmp (path, "-") == 0)
    return read_all (stdin, "stdin", error);
  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  return g_bytes_new_take (contents, len);
}

static gboolean
is_pickle (DogpileRegion *region)
{
  return strcmp (dogpile_region_get_serializer_name (region), "pickle") == 0;
}

static int
fail (const char *command, const GError *error)
{
  fprintf (stderr, "dogpile-cache %s: %s\n", command, error->message);
  return TOOL_EXIT_ERROR;
}

static int
usage_error (const char *command, const char *message)
{
  fprintf (stderr, "dogpile-cache %s: %s (see `dogpile-cache %s --help`)\n",
           command, message, command);
  return TOOL_EXIT_USAGE;
}

/* One stored value, read however old it is. */
typedef struct {
  GBytes *text; /* what get prints: the payload, or (pickle) its JSON */
  double cached_time;
  gint version;
  double age;
  gboolean expired;
} Fetched;

static void
fetched_clear (Fetched *f)
{
  g_clear_pointer (&f->text, g_bytes_unref);
}

/* The rule get() applies: older than the expiration time, strictly; -1
 * (none) never expires by age. */
static void
judge (DogpileRegion *region, Fetched *f)
{
  double expiration = dogpile_region_get_expiration_time (region);

  f->age = (double) g_get_real_time () / G_USEC_PER_SEC - f->cached_time;
  f->expired = expiration != DOGPILE_EXPIRATION_NONE && f->age > expiration;
}

/* Reads @key with its metadata; f->text is NULL when there is no value. */
static gboolean
fetch (DogpileRegion *region, const char *key, Fetched *f, GError **error)
{
  memset (f, 0, sizeof *f);
  if (is_pickle (region))
    {
      g_autoptr (GVariant) value = NULL;
      DogpileMetadata metadata = { 0 };
      char *text;

      if (!dogpile_region_get_variant_full (
              region, key, DOGPILE_EXPIRATION_DEFAULT,
              DOGPILE_GET_IGNORE_EXPIRATION, &value, &metadata, error))
        return FALSE;
      if (value == NULL)
        return TRUE;
      text = dogpile_json_dumps (value, DOGPILE_JSON_TAGGED, NULL, error);
      if (text == NULL)
        return FALSE;
      f->text = g_bytes_new_take (text, strlen (text));
      f->cached_time = metadata.cached_time;
      f->version = metadata.version;
    }
  else
    {
      g_autoptr (DogpileCachedValue) value = NULL;
      const DogpileMetadata *metadata;

      if (!dogpile_region_get_value_metadata (
              region, key, DOGPILE_EXPIRATION_DEFAULT,
              DOGPILE_GET_IGNORE_EXPIRATION, &value, error))
        return FALSE;
      if (value == NULL)
        return TRUE;
      metadata = dogpile_cached_value_get_metadata (value);
      f->text = g_bytes_ref (dogpile_cached_value_get_payload (value));
      f->cached_time = metadata->cached_time;
      f->version = metadata->version;
    }
  judge (region, f);
  return TRUE;
}

static void
say_expired (const char *command, DogpileRegion *region, const char *key,
             const Fetched *f)
{
  fprintf (stderr,
           "dogpile-cache %s: the value of '%s' expired: it is %.3f s old "
           "and the region's expiration time is %g s "
           "(--ignore-expiration prints it anyway)\n",
           command, key, f->age, dogpile_region_get_expiration_time (region));
}

static void
say_no_value (const char *command, const char *key)
{
  fprintf (stderr, "dogpile-cache %s: no value for '%s'\n", command, key);
}

static void
append_double (GString *out, const char *format, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (out, g_ascii_formatd (buf, sizeof buf, format, value));
}

static void
print_meta (const char *key, const Fetched *f)
{
  g_autoptr (GString) out = g_string_new ("{\"key\": ");

  tool_json_string (out, key);
  g_string_append (out, ", \"ct\": ");
  append_double (out, "%.6f", f->cached_time);
  g_string_append (out, ", \"age\": ");
  append_double (out, "%.3f", f->age);
  g_string_append_printf (
      out, ", \"v\": %d, \"size\": %" G_GSIZE_FORMAT ", \"expired\": %s}\n",
      f->version, g_bytes_get_size (f->text), f->expired ? "true" : "false");
  fputs (out->str, stdout);
}

static int
run_get (DogpileRegion *region, const KeyOptions *o, const char *key)
{
  g_autoptr (GError) error = NULL;
  Fetched f;
  gsize len;
  const char *data;

  if (!fetch (region, key, &f, &error))
    return fail ("get", error);
  if (f.text == NULL)
    {
      say_no_value ("get", key);
      return TOOL_EXIT_MISS;
    }
  if (o->meta)
    {
      /* The entry described, expired or not: "expired" says which. */
      print_meta (key, &f);
      fetched_clear (&f);
      return TOOL_EXIT_OK;
    }
  if (f.expired && !o->ignore_expiration)
    {
      say_expired ("get", region, key, &f);
      fetched_clear (&f);
      return TOOL_EXIT_MISS;
    }
  data = g_bytes_get_data (f.text, &len);
  fwrite (data, 1, len, stdout);
  /* A JSON document ends its line; raw bytes go out as they are, with a
   * newline only for a person at a terminal. */
  if (is_pickle (region) || isatty (fileno (stdout)))
    fputc ('\n', stdout);
  fetched_clear (&f);
  return TOOL_EXIT_OK;
}

/* @payload as a JSON value: the json serializer's text as it is, text
 * that is UTF-8 without NUL as a string, other bytes tagged
 * {"$bytes": base64}. */
static void
append_json_payload (GString *out, DogpileRegion *region, GBytes *payload)
{
  gsize len;
  const char *data = g_bytes_get_data (payload, &len);
  const char *serializer = dogpile_region_get_serializer_name (region);

  if (data == NULL)
    data = "";
  if (strcmp (serializer, "pickle") == 0 || strcmp (serializer, "json") == 0)
    g_string_append_len (out, data, (gssize) len);
  else if (memchr (data, '\0', len) == NULL
           && g_utf8_validate (data, (gssize) len, NULL))
    {
      g_autofree char *text = g_strndup (data, len);

      tool_json_string (out, text);
    }
  else
    {
      g_autofree char *base64 = g_base64_encode ((const guchar *) data, len);

      g_string_append (out, "{\"$bytes\": \"");
      g_string_append (out, base64);
      g_string_append (out, "\"}");
    }
}

static int
run_get_multi (DogpileRegion *region, const KeyOptions *o, char **keys,
               gsize n_keys)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) out = g_string_new (o->json ? "{" : "");
  g_autofree GBytes **values = g_new0 (GBytes *, n_keys);
  DogpileGetFlags flags = o->ignore_expiration ? DOGPILE_GET_IGNORE_EXPIRATION
                                               : DOGPILE_GET_NONE;
  int status = TOOL_EXIT_OK;

  /* One backend call for all (the pickle serializer has no batch of
   * GVariants: there, one call a key). */
  if (is_pickle (region))
    {
      for (gsize i = 0; i < n_keys && error == NULL; i++)
        {
          Fetched f;

          if (fetch (region, keys[i], &f, &error) && f.text != NULL
              && (!f.expired || o->ignore_expiration))
            values[i] = g_steal_pointer (&f.text);
          fetched_clear (&f);
        }
      if (error != NULL)
        {
          for (gsize i = 0; i < n_keys; i++)
            g_clear_pointer (&values[i], g_bytes_unref);
          return fail ("get-multi", error);
        }
    }
  else if (!dogpile_region_get_multi_full (region, (const char *const *) keys,
                                           n_keys, DOGPILE_EXPIRATION_DEFAULT,
                                           flags, values, &error))
    return fail ("get-multi", error);

  for (gsize i = 0; i < n_keys; i++)
    {
      if (values[i] == NULL)
        {
          Fetched f;

          /* A miss: tell an expired value from none. */
          status = TOOL_EXIT_MISS;
          if (!fetch (region, keys[i], &f, &error))
            {
              for (gsize j = i; j < n_keys; j++)
                g_clear_pointer (&values[j], g_bytes_unref);
              return fail ("get-multi", error);
            }
          if (f.text != NULL && f.expired)
            say_expired ("get-multi", region, keys[i], &f);
          else
            say_no_value ("get-multi", keys[i]);
          fetched_clear (&f);
        }
      if (o->json)
        {
          g_string_append (out, i == 0 ? "" : ", ");
          tool_json_string (out, keys[i]);
          g_string_append (out, ": ");
          if (values[i] == NULL)
            g_string_append (out, "null");
          else
            append_json_payload (out, region, values[i]);
        }
      else if (values[i] != NULL)
        {
          gsize len;
          const char *data = g_bytes_get_data (values[i], &len);

          g_string_append (out, keys[i]);
          g_string_append_c (out, '\t');
          g_string_append_len (out, data != NULL ? data : "", (gssize) len);
          g_string_append_c (out, '\n');
        }
      g_clear_pointer (&values[i], g_bytes_unref);
    }
  if (o->json)
    g_string_append (out, "}\n");
  fwrite (out->str, 1, out->len, stdout);
  return status;
}

static int
run_set (DogpileRegion *region, const KeyOptions *o, char **args, int n_args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) value = NULL;

  if (o->file != NULL)
    value = read_file (o->file, &error);
  else if (strcmp (args[1], "-") == 0)
    value = read_all (stdin, "stdin", &error);
  else
    value = g_bytes_new (args[1], strlen (args[1]));
  if (value == NULL)
    return fail ("set", error);
  if (is_pickle (region))
    {
      gsize len;
      const char *text = g_bytes_get_data (value, &len);
      g_autoptr (GVariant) parsed = dogpile_json_loads (
          text != NULL ? text : "", len, DOGPILE_JSON_TAGGED, &error);

      if (parsed == NULL
          || !dogpile_region_set_variant (region, args[0], parsed, &error))
        return fail ("set", error);
    }
  else if (!dogpile_region_set (region, args[0], value, &error))
    return fail ("set", error);
  return TOOL_EXIT_OK;
}

static int
run_delete (DogpileRegion *region, char **keys, gsize n_keys)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = n_keys == 1
                    ? dogpile_region_delete (region, keys[0], &error)
                    : dogpile_region_delete_multi (
                        region, (const char *const *) keys, n_keys, &error);

  return ok ? TOOL_EXIT_OK : fail ("delete", error);
}

static int
run_locked (DogpileRegion *region, const char *key)
{
  g_autoptr (GError) error = NULL;
  gboolean locked = FALSE;

  if (!dogpile_region_key_is_locked (region, key, &locked, &error))
    return fail ("locked", error);
  puts (locked ? "locked" : "not locked");
  return locked ? TOOL_EXIT_OK : TOOL_EXIT_MISS;
}

static int
run_invalidate (DogpileRegion *region, const KeyOptions *o)
{
  dogpile_region_invalidate (region, !o->soft);
  if (tool_stderr_is_terminal ())
    fprintf (stderr,
             "dogpile-cache invalidate: note: the region is %s invalidated "
             "in this process only: other processes, and later runs of "
             "dogpile-cache, still see every value (process-local until "
             "cross-process invalidation lands)\n",
             o->soft ? "soft" : "hard");
  return TOOL_EXIT_OK;
}

static void
add_command_options (GOptionContext *context, KeyOptions *o)
{
  const GOptionEntry get_entries[] = {
    { "meta", 'm', 0, G_OPTION_ARG_NONE, &o->meta,
      "Print the value's metadata as one JSON object: key, ct (creation "
      "time), age (seconds), v, size (bytes of the value), expired",
      NULL },
    { "ignore-expiration", 'i', 0, G_OPTION_ARG_NONE, &o->ignore_expiration,
      "Print the value however old it is", NULL },
    { NULL },
  };
  const GOptionEntry multi_entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &o->json,
      "Print one JSON object: each key with its value, or null; bytes that "
      "are not UTF-8 text as {\"$bytes\": base64}",
      NULL },
    { "ignore-expiration", 'i', 0, G_OPTION_ARG_NONE, &o->ignore_expiration,
      "Print values however old they are", NULL },
    { NULL },
  };
  const GOptionEntry set_entries[] = {
    { "file", 'f', 0, G_OPTION_ARG_FILENAME, &o->file,
      "Read the value from FILE (binary-safe; - is stdin)", "FILE" },
    { NULL },
  };
  const GOptionEntry invalidate_entries[] = {
    { "soft", 0, 0, G_OPTION_ARG_NONE, &o->soft,
      "Soft invalidation: get_or_create regenerates values in the "
      "background of a stale one instead of treating them as missing",
      NULL },
    { NULL },
  };
  const char *name = o->command->name;
  GOptionGroup *group;

  group = g_option_group_new (name, "", "", NULL, NULL);
  if (strcmp (name, "get") == 0)
    g_option_group_add_entries (group, get_entries);
  else if (strcmp (name, "get-multi") == 0)
    g_option_group_add_entries (group, multi_entries);
  else if (strcmp (name, "set") == 0)
    g_option_group_add_entries (group, set_entries);
  else if (strcmp (name, "invalidate") == 0)
    g_option_group_add_entries (group, invalidate_entries);
  else
    {
      g_option_group_unref (group);
      return;
    }
  /* The command's own options come first in --help. */
  g_option_context_set_main_group (context, group);
}

/* One command on a region opened from the options. */
int
cache_key_main (const char *command, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegion) region = NULL;
  CacheRegionOptions options = { 0 };
  KeyOptions o = { 0 };
  char **args;
  int n_args, status;

  for (gsize i = 0; i < G_N_ELEMENTS (key_commands); i++)
    if (strcmp (key_commands[i].name, command) == 0)
      o.command = &key_commands[i];
  g_return_val_if_fail (o.command != NULL, TOOL_EXIT_USAGE);

  context = g_option_context_new (o.command->parameters);
  g_option_context_set_summary (context, o.command->summary);
  g_option_context_set_description (context, exit_statuses);
  add_command_options (context, &o);
  cache_region_options_add (context, &options);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      cache_region_options_clear (&options);
      g_free (o.file);
      return usage_error (command, error->message);
    }
  args = argv + 1;
  n_args = argc - 1;
  if (n_args > 0 && strcmp (args[0], "--") == 0)
    args++, n_args--;
  if (o.file != NULL
          ? n_args != 1
          : (n_args < o.command->min_args
             || (o.command->max_args >= 0 && n_args > o.command->max_args)))
    {
      g_autofree char *message
          = o.file != NULL ? g_strdup ("expected KEY alone with --file")
                           : g_strdup_printf ("expected %s",
                                              o.command->parameters[0] != '\0'
                                                  ? o.command->parameters
                                                  : "no arguments");

      cache_region_options_clear (&options);
      g_free (o.file);
      return usage_error (command, message);
    }
  region = cache_region_options_open (&options, &error);
  cache_region_options_clear (&options);
  if (region == NULL)
    {
      g_free (o.file);
      return fail (command, error);
    }
  cache_region_note_memory_backend (region, command);

  if (strcmp (command, "get") == 0)
    status = run_get (region, &o, args[0]);
  else if (strcmp (command, "set") == 0)
    status = run_set (region, &o, args, n_args);
  else if (strcmp (command, "delete") == 0)
    status = run_delete (region, args, (gsize) n_args);
  else if (strcmp (command, "get-multi") == 0)
    status = run_get_multi (region, &o, args, (gsize) n_args);
  else if (strcmp (command, "locked") == 0)
    status = run_locked (region, args[0]);
  else
    status = run_invalidate (region, &o);
  g_free (o.file);
  return status;
}
