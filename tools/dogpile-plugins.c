/* dogpile-plugins: the registered backends and proxies, and whether they
 * load.
 *
 *   dogpile-plugins                 a table: name, kind, description, and
 *                                   where it comes from (paths shortened)
 *   dogpile-plugins --long          every field of every entry
 *   dogpile-plugins --json          every field, as a JSON array
 *   dogpile-plugins NAME            one backend or proxy in detail
 *   dogpile-plugins --check         exit 1 when any of them fails to load
 *
 * Like gst-inspect-1.0, every entry is loaded to show its description.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dogpile/dogpile-plugin.h>
#include <dogpile/dogpile.h>
#include <locale.h>
#include <stdio.h>

#include "dogpile-nearest.h"
#include "tool-common.h"

typedef struct {
  DogpilePluginInfo *info;
  gboolean is_proxy;
  guint abi_version;
  const char *version;
  const char *description;
  const DogpileArgumentSpec *arguments; /* NULL: none declared */
  char *error;
} Row;

static void
row_free (gpointer data)
{
  Row *row = data;

  dogpile_plugin_info_unref (row->info);
  g_free (row->error);
  g_free (row);
}

static const char *
row_name (const Row *row)
{
  return dogpile_plugin_info_get_name (row->info);
}

static const char *
row_kind (const Row *row)
{
  return row->is_proxy ? "proxy" : "backend";
}

/* Loads @row's plugin (once per process: the registry keeps it). */
static void
row_load (DogpileRegistry *registry, Row *row)
{
  g_autoptr (GError) error = NULL;

  if (row->is_proxy)
    {
      const DogpileProxyDesc *desc
          = dogpile_registry_load_proxy (registry, row_name (row), &error);

      if (desc != NULL)
        {
          row->abi_version = desc->abi_version;
          row->version = desc->version;
          row->description = desc->description;
          row->arguments = dogpile_proxy_desc_get_arguments (desc);
        }
    }
  else
    {
      const DogpileBackendDesc *desc
          = dogpile_registry_load_backend (registry, row_name (row), &error);

      if (desc != NULL)
        {
          row->abi_version = desc->abi_version;
          row->version = desc->version;
          row->description = desc->description;
          row->arguments = dogpile_backend_desc_get_arguments (desc);
        }
    }
  if (error != NULL)
    row->error = g_strdup (error->message);
}

static void
add_rows (GPtrArray *rows, DogpileRegistry *registry, const char *group,
          gboolean is_proxy)
{
  g_autoptr (GPtrArray) infos = dogpile_registry_list (registry, group);

  for (guint i = 0; i < infos->len; i++)
    {
      Row *row = g_new0 (Row, 1);

      row->info = dogpile_plugin_info_ref (infos->pdata[i]);
      row->is_proxy = is_proxy;
      row_load (registry, row);
      g_ptr_array_add (rows, row);
    }
}

static char *
dup_from (const Row *row)
{
  return tool_dup_short_path (
      dogpile_plugin_info_get_registry_file (row->info));
}

static const char *
table_description (const Row *row)
{
  if (row->error != NULL)
    return "(does not load: `dogpile-plugins NAME` says why)";
  return row->description != NULL ? row->description : "";
}

static void
print_table (GPtrArray *rows)
{
  g_autoptr (GPtrArray) froms = g_ptr_array_new_with_free_func (g_free);
  int name_width = (int) strlen ("NAME");
  int from_width = (int) strlen ("FROM");
  guint backends = 0, proxies = 0, broken = 0;

  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = rows->pdata[i];
      char *from = dup_from (row);

      g_ptr_array_add (froms, from);
      name_width = MAX (name_width, (int) strlen (row_name (row)));
      from_width = MAX (from_width, (int) g_utf8_strlen (from, -1));
    }
  /* The description last, where its length lets the others align. */
  printf ("%-*s  %-7s  %-*s  %s\n", name_width, "NAME", "KIND", from_width,
          "FROM", "DESCRIPTION");
  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = rows->pdata[i];
      const char *from = froms->pdata[i];
      /* printf pads bytes; pad characters. */
      int pad = from_width - (int) g_utf8_strlen (from, -1);

      printf ("%-*s  %-7s  %s%*s  %s\n", name_width, row_name (row),
              row_kind (row), from, pad, "", table_description (row));
      if (row->is_proxy)
        proxies++;
      else
        backends++;
      if (row->error != NULL)
        broken++;
    }
  printf ("\n%u backend%s, %u prox%s", backends, backends == 1 ? "" : "s",
          proxies, proxies == 1 ? "y" : "ies");
  if (broken > 0)
    printf (", %u of them not loading", broken);
  printf ("; `dogpile-plugins NAME` shows one in detail, --long all of "
          "them.\n");
}

/* What an argument's row says before its doc line. */
static const char *
argument_note (const DogpileArgumentSpec *spec)
{
  if (spec->flags & DOGPILE_ARGUMENT_IGNORED)
    return "(Python's; accepted and ignored) ";
  if (spec->flags & DOGPILE_ARGUMENT_C_ONLY)
    return "(C only) ";
  return "";
}

static const char *
argument_default (const DogpileArgumentSpec *spec)
{
  if (spec->flags & DOGPILE_ARGUMENT_REQUIRED)
    return "required";
  return spec->default_value != NULL ? spec->default_value : "-";
}

static char *
argument_name (const DogpileArgumentSpec *spec)
{
  if (!(spec->flags & DOGPILE_ARGUMENT_PREFIX))
    return g_strdup (spec->name);
  return spec->name[0] != '\0' ? g_strconcat (spec->name, "*", NULL)
                               : g_strdup ("*");
}

/* The table gst-inspect-1.0 gives properties: name, type, default, doc. */
static void
print_arguments (const Row *row)
{
  int name_width = 4, default_width = 7;

  if (row->arguments == NULL)
    {
      printf ("  %-16s%s\n", "Arguments",
              "(none declared: every argument is passed on unchecked)");
      return;
    }
  if (row->arguments[0].name == NULL)
    {
      printf ("  %-16s%s\n", "Arguments", "none");
      return;
    }
  for (const DogpileArgumentSpec *a = row->arguments; a->name != NULL; a++)
    {
      g_autofree char *name = argument_name (a);

      name_width = MAX (name_width, (int) strlen (name));
      default_width = MAX (default_width,
                           (int) g_utf8_strlen (argument_default (a), -1));
    }
  default_width = MIN (default_width, 26);
  printf ("  Arguments\n");
  printf ("    %-*s  %-8s  %-*s  %s\n", name_width, "NAME", "TYPE",
          default_width, "DEFAULT", "DESCRIPTION");
  for (const DogpileArgumentSpec *a = row->arguments; a->name != NULL; a++)
    {
      g_autofree char *name = argument_name (a);
      const char *fallback = argument_default (a);
      int pad = default_width - (int) g_utf8_strlen (fallback, -1);

      printf ("    %-*s  %-8s  %s%*s  %s%s\n", name_width, name,
              dogpile_argument_type_get_name (a->type), fallback, MAX (pad, 0),
              "", argument_note (a), a->doc);
    }
}

static void
print_detail (const Row *row)
{
  const char *module = dogpile_plugin_info_get_module_path (row->info);
  const char *symbol = dogpile_plugin_info_get_symbol (row->info);
  const char *registry = dogpile_plugin_info_get_registry_file (row->info);
  g_autofree char *from = dup_from (row);

  printf ("%s\n", row_name (row));
  printf ("  %-16s%s\n", "Kind", row_kind (row));
  if (row->error == NULL)
    {
      printf ("  %-16s%s\n", "Description",
              row->description != NULL ? row->description : "");
      printf ("  %-16s%s\n", "Plugin version",
              row->version != NULL ? row->version : "(none given)");
      printf ("  %-16s%u (libdogpile %s loads %s of version 1 to %u)\n",
              "ABI version", row->abi_version, dogpile_get_version (),
              row->is_proxy ? "proxies" : "backends",
              row->is_proxy ? (guint) DOGPILE_PROXY_ABI_VERSION
                            : (guint) DOGPILE_BACKEND_ABI_VERSION);
    }
  printf ("  %-16s%s\n", "Module",
          module != NULL ? module : "(linked into the program or libdogpile)");
  printf ("  %-16s%s\n", "Symbol", symbol != NULL ? symbol : "-");
  if (registry != NULL)
    printf ("  %-16s%s (%s)\n", "Registry file", registry, from);
  else
    printf ("  %-16s%s\n", "Registry file", "(registered in process)");
  if (row->error != NULL)
    printf ("  %-16s%s\n", "Error", row->error);
  else
    print_arguments (row);
}

static void
append_json_row (GString *out, const Row *row)
{
  g_string_append (out, "{\"name\": ");
  tool_json_string (out, row_name (row));
  g_string_append (out, ", \"kind\": ");
  tool_json_string (out, row_kind (row));
  g_string_append (out, ", \"module\": ");
  tool_json_string (out, dogpile_plugin_info_get_module_path (row->info));
  g_string_append (out, ", \"symbol\": ");
  tool_json_string (out, dogpile_plugin_info_get_symbol (row->info));
  g_string_append (out, ", \"registry\": ");
  tool_json_string (out, dogpile_plugin_info_get_registry_file (row->info));
  if (row->error == NULL)
    g_string_append_printf (out, ", \"abi_version\": %u", row->abi_version);
  else
    g_string_append (out, ", \"abi_version\": null");
  g_string_append (out, ", \"version\": ");
  tool_json_string (out, row->error == NULL ? row->version : NULL);
  g_string_append (out, ", \"description\": ");
  tool_json_string (out, row->error == NULL ? row->description : NULL);
  g_string_append (out, ", \"error\": ");
  tool_json_string (out, row->error);
  g_string_append (out, ", \"arguments\": ");
  if (row->arguments == NULL)
    g_string_append (out, "null");
  else
    {
      g_string_append_c (out, '[');
      for (const DogpileArgumentSpec *a = row->arguments; a->name != NULL; a++)
        {
          g_string_append (out, a == row->arguments ? "{\"name\": "
                                                    : ", {\"name\": ");
          tool_json_string (out, a->name);
          g_string_append (out, ", \"type\": ");
          tool_json_string (out, dogpile_argument_type_get_name (a->type));
          g_string_append (out, ", \"default\": ");
          tool_json_string (out, a->default_value);
          g_string_append_printf (
              out,
              ", \"required\": %s, \"c_only\": %s, \"ignored\": %s, "
              "\"prefix\": %s",
              a->flags & DOGPILE_ARGUMENT_REQUIRED ? "true" : "false",
              a->flags & DOGPILE_ARGUMENT_C_ONLY ? "true" : "false",
              a->flags & DOGPILE_ARGUMENT_IGNORED ? "true" : "false",
              a->flags & DOGPILE_ARGUMENT_PREFIX ? "true" : "false");
          g_string_append (out, ", \"doc\": ");
          tool_json_string (out, a->doc);
          g_string_append_c (out, '}');
        }
      g_string_append_c (out, ']');
    }
  g_string_append_c (out, '}');
}

static void
print_json (GPtrArray *rows)
{
  g_autoptr (GString) out = g_string_new ("[");

  for (guint i = 0; i < rows->len; i++)
    {
      g_string_append (out, i == 0 ? "\n  " : ",\n  ");
      append_json_row (out, rows->pdata[i]);
    }
  g_string_append (out, rows->len > 0 ? "\n]\n" : "]\n");
  fputs (out->str, stdout);
}

static int
show_one (GPtrArray *rows, const char *name, gboolean json)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  const char *nearest;

  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = rows->pdata[i];

      if (strcmp (row_name (row), name) != 0)
        {
          g_ptr_array_add (names, (gpointer) row_name (row));
          continue;
        }
      if (json)
        {
          g_autoptr (GString) out = g_string_new (NULL);

          append_json_row (out, row);
          g_string_append_c (out, '\n');
          fputs (out->str, stdout);
        }
      else
        print_detail (row);
      return row->error != NULL ? TOOL_EXIT_ERROR : TOOL_EXIT_OK;
    }
  g_ptr_array_add (names, NULL);
  nearest = dogpile__nearest_name (name, (const char *const *) names->pdata);
  fprintf (stderr,
           "dogpile-plugins: no backend or proxy is registered as "
           "'%s'",
           name);
  if (nearest != NULL)
    fprintf (stderr, "; did you mean %s?", nearest);
  fprintf (stderr, " (`dogpile-plugins` lists them all)\n");
  return TOOL_EXIT_ERROR;
}

int
main (int argc, char **argv)
{
  g_auto (GStrv) registries = NULL;
  gboolean check = FALSE, json = FALSE, longer = FALSE, version = FALSE;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  DogpileRegistry *registry;
  int status = TOOL_EXIT_OK;
  const GOptionEntry entries[] = {
    { "long", 'l', 0, G_OPTION_ARG_NONE, &longer,
      "Every field of every entry: module, symbol, registry file, ABI and "
      "plugin versions, description, or the error",
      NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
      "Every field, as a JSON array (one object with NAME)", NULL },
    { "check", 'c', 0, G_OPTION_ARG_NONE, &check,
      "Exit 1 when any plugin fails to load, and print each error in full",
      NULL },
    { "registry", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &registries,
      "Read this registry file first (may be repeated)", "FILE" },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version,
      "Print the version of the tool and the library, and the plugin ABI "
      "versions it loads",
      NULL },
    { NULL },
  };

  setlocale (LC_ALL, "");
  tool_use_build_tree_registry ();
  context = g_option_context_new ("[NAME] - list dogpile cache plugins");
  g_option_context_set_summary (
      context,
      "Lists every backend and proxy with its description and the registry "
      "file it came from; with NAME, shows that one in detail.\nSearch "
      "order: --registry files, $DOGPILE_REGISTRY_PATH, then "
      "$DOGPILE_REGISTRY_SYSTEM_PATH or the user data dir "
      "and " DOGPILE_REGISTRY_DIR ".");
  g_option_context_set_description (
      context, "Exit status: 0 success; 1 a plugin that does not load (with "
               "--check, or NAME), or no NAME registered; 2 a bad command "
               "line (an unknown option among them) or a --registry file "
               "that cannot be read.  See dogpile-plugins(1).");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "dogpile-plugins: %s (see `dogpile-plugins --help`)\n",
               error->message);
      return TOOL_EXIT_USAGE;
    }
  if (version)
    {
      tool_print_version ("dogpile-plugins");
      return TOOL_EXIT_OK;
    }
  if (argc > 2)
    {
      fprintf (stderr, "dogpile-plugins: expected at most one NAME (see "
                       "`dogpile-plugins --help`)\n");
      return TOOL_EXIT_USAGE;
    }

  registry = dogpile_registry_get_default ();
  for (char **r = registries; r != NULL && *r != NULL; r++)
    if (!dogpile_registry_add_file (registry, *r, &error))
      {
        fprintf (stderr, "dogpile-plugins: %s\n", error->message);
        return TOOL_EXIT_USAGE;
      }

  rows = g_ptr_array_new_with_free_func (row_free);
  add_rows (rows, registry, DOGPILE_REGISTRY_GROUP_BACKENDS, FALSE);
  add_rows (rows, registry, DOGPILE_REGISTRY_GROUP_PROXIES, TRUE);

  if (argc == 2)
    return show_one (rows, argv[1], json);

  if (json)
    print_json (rows);
  else if (longer)
    for (guint i = 0; i < rows->len; i++)
      {
        if (i > 0)
          printf ("\n");
        print_detail (rows->pdata[i]);
      }
  else
    print_table (rows);

  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = rows->pdata[i];

      if (row->error == NULL || !check)
        continue;
      status = TOOL_EXIT_ERROR;
      if (!json && !longer)
        fprintf (stderr, "dogpile-plugins: %s: %s\n", row_name (row),
                 row->error);
    }
  return status;
}
