/* dogpile-plugins: list the registered backends and check that they load.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dogpile/dogpile-plugin.h>
#include <dogpile/dogpile.h>
#include <locale.h>
#include <stdio.h>

#include "tool-common.h"

typedef struct {
  DogpilePluginInfo *info;
  gboolean checked;
  guint abi_version;
  const char *description;
  char *error;
} Row;

static void
print_text (GPtrArray *rows, gboolean check)
{
  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = rows->pdata[i];
      const char *module = dogpile_plugin_info_get_module_path (row->info);
      const char *symbol = dogpile_plugin_info_get_symbol (row->info);
      const char *registry = dogpile_plugin_info_get_registry_file (row->info);

      printf ("%s\t%s\t%s\t%s", dogpile_plugin_info_get_name (row->info),
              module != NULL ? module : "(in process)",
              symbol != NULL ? symbol : "-",
              registry != NULL ? registry : "(registered in process)");
      if (check && row->error != NULL)
        printf ("\tERROR: %s", row->error);
      else if (check)
        printf ("\tabi %u\t%s", row->abi_version,
                row->description != NULL ? row->description : "");
      printf ("\n");
    }
}

static void
print_json (GPtrArray *rows)
{
  g_autoptr (GString) out = g_string_new ("[");

  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = rows->pdata[i];

      g_string_append (out, i == 0 ? "\n  {\"name\": " : ",\n  {\"name\": ");
      tool_json_string (out, dogpile_plugin_info_get_name (row->info));
      g_string_append (out, ", \"module\": ");
      tool_json_string (out, dogpile_plugin_info_get_module_path (row->info));
      g_string_append (out, ", \"symbol\": ");
      tool_json_string (out, dogpile_plugin_info_get_symbol (row->info));
      g_string_append (out, ", \"registry\": ");
      tool_json_string (out,
                        dogpile_plugin_info_get_registry_file (row->info));
      if (row->checked && row->error == NULL)
        g_string_append_printf (out, ", \"abi_version\": %u, ",
                                row->abi_version);
      else
        g_string_append (out, ", \"abi_version\": null, ");
      g_string_append (out, "\"description\": ");
      tool_json_string (out, row->checked ? row->description : NULL);
      g_string_append (out, ", \"error\": ");
      tool_json_string (out, row->error);
      g_string_append_c (out, '}');
    }
  g_string_append (out, rows->len > 0 ? "\n]\n" : "]\n");
  fputs (out->str, stdout);
}

static void
row_free (gpointer data)
{
  Row *row = data;

  dogpile_plugin_info_unref (row->info);
  g_free (row->error);
  g_free (row);
}

int
main (int argc, char **argv)
{
  g_auto (GStrv) registries = NULL;
  gboolean check = FALSE, json = FALSE;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) infos = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  DogpileRegistry *registry;
  int status = 0;
  const GOptionEntry entries[] = {
    { "registry", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &registries,
      "Read this registry file first (may be repeated)", "FILE" },
    { "check", 'c', 0, G_OPTION_ARG_NONE, &check,
      "Load every plugin and show its ABI version and description, or the "
      "exact error",
      NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
      "Print a JSON array for machines", NULL },
    { NULL },
  };

  setlocale (LC_ALL, "");
  tool_use_build_tree_registry ();
  context = g_option_context_new ("- list dogpile cache plugins");
  g_option_context_set_summary (
      context,
      "Lists every backend name with its module, symbol and the registry "
      "file it came from.\nSearch order: --registry files, "
      "$DOGPILE_REGISTRY_PATH, then $DOGPILE_REGISTRY_SYSTEM_PATH or the "
      "user data dir and " DOGPILE_REGISTRY_DIR ".");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "dogpile-plugins: %s\n", error->message);
      return 2;
    }

  registry = dogpile_registry_get_default ();
  for (char **r = registries; r != NULL && *r != NULL; r++)
    if (!dogpile_registry_add_file (registry, *r, &error))
      {
        fprintf (stderr, "dogpile-plugins: %s\n", error->message);
        return 2;
      }

  infos = dogpile_registry_list (registry, DOGPILE_REGISTRY_GROUP_BACKENDS);
  rows = g_ptr_array_new_with_free_func (row_free);
  for (guint i = 0; i < infos->len; i++)
    {
      Row *row = g_new0 (Row, 1);

      row->info = dogpile_plugin_info_ref (infos->pdata[i]);
      if (check)
        {
          g_autoptr (GError) load_error = NULL;
          const DogpileBackendDesc *desc = dogpile_registry_load_backend (
              registry, dogpile_plugin_info_get_name (row->info), &load_error);

          row->checked = TRUE;
          if (desc == NULL)
            {
              row->error = g_strdup (load_error->message);
              status = 1;
            }
          else
            {
              row->abi_version = desc->abi_version;
              row->description = desc->description;
            }
        }
      g_ptr_array_add (rows, row);
    }

  if (json)
    print_json (rows);
  else
    print_text (rows, check);
  return status;
}
