/* dogpile-argument-spec.c: checking a backend's or proxy's arguments
 * against the table it declares (dogpile-argument-spec.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

#include "dogpile-nearest.h"

#include <string.h>

static const char *const type_names[] = {
  [DOGPILE_ARGUMENT_STRING] = "string",
  [DOGPILE_ARGUMENT_BOOLEAN] = "boolean",
  [DOGPILE_ARGUMENT_INTEGER] = "integer",
  [DOGPILE_ARGUMENT_NUMBER] = "number",
  [DOGPILE_ARGUMENT_DURATION] = "duration",
  [DOGPILE_ARGUMENT_CHOICE] = "choice",
  [DOGPILE_ARGUMENT_LIST] = "list",
  [DOGPILE_ARGUMENT_MAPPING] = "mapping",
  [DOGPILE_ARGUMENT_FILENAME] = "filename",
};

/**
 * dogpile_argument_type_get_name:
 * @type: an argument type
 *
 * The word `dogpile-plugins` shows for @type: "string", "boolean",
 * "integer", "number", "duration", "choice", "list", "mapping" or
 * "filename".
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer none) (nullable): a static string, %NULL for a value
 *   that is no #DogpileArgumentType
 */
const char *
dogpile_argument_type_get_name (DogpileArgumentType type)
{
  if ((guint) type >= G_N_ELEMENTS (type_names))
    return NULL;
  return type_names[type];
}

static gboolean
spec_matches (const DogpileArgumentSpec *spec, const char *name)
{
  if (spec->flags & DOGPILE_ARGUMENT_PREFIX)
    return g_str_has_prefix (name, spec->name);
  return strcmp (spec->name, name) == 0;
}

/**
 * dogpile_argument_specs_lookup:
 * @specs: (nullable): a table ended by %DOGPILE_ARGUMENT_SPEC_END
 * @name: an argument's name
 *
 * The entry of @specs that takes the argument @name: the one of that
 * name, else a %DOGPILE_ARGUMENT_PREFIX entry whose name starts @name.
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer none) (nullable): the entry, or %NULL when @specs
 *   has none for @name
 */
const DogpileArgumentSpec *
dogpile_argument_specs_lookup (const DogpileArgumentSpec *specs,
                               const char *name)
{
  const DogpileArgumentSpec *prefixed = NULL;

  g_return_val_if_fail (name != NULL, NULL);

  for (gsize i = 0; specs != NULL && specs[i].name != NULL; i++)
    if (spec_matches (&specs[i], name))
      {
        if (!(specs[i].flags & DOGPILE_ARGUMENT_PREFIX))
          return &specs[i];
        if (prefixed == NULL)
          prefixed = &specs[i];
      }
  return prefixed;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The message for @name, unknown to @owner. */
static char *
describe_unknown (const DogpileArgumentSpec *specs, const char *owner,
                  const char *name)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autoptr (GString) message = g_string_new (NULL);
  const char *near;

  for (gsize i = 0; specs[i].name != NULL; i++)
    if (!(specs[i].flags & DOGPILE_ARGUMENT_PREFIX))
      g_ptr_array_add (names, (gpointer) specs[i].name);
  g_ptr_array_add (names, NULL);
  near = dogpile__nearest_name (name, (const char *const *) names->pdata);
  g_string_printf (message, "%s takes no argument '%s'", owner, name);
  if (near != NULL)
    g_string_append_printf (message, " (did you mean '%s'?)", near);
  g_string_append_printf (message,
                          "; `dogpile-plugins %s` lists the arguments it "
                          "takes",
                          owner);
  return g_string_free (g_steal_pointer (&message), FALSE);
}

/**
 * dogpile_argument_specs_check:
 * @specs: (nullable): @owner's table, ended by %DOGPILE_ARGUMENT_SPEC_END;
 *   %NULL when @owner declares none
 * @owner: the backend's or proxy's registry name, for messages
 * @arguments: (nullable) (element-type utf8 utf8): the arguments given;
 *   borrowed
 * @strict: whether an unknown argument is an error
 * @error: return location for a #GError, or %NULL
 *
 * Checks that @specs names every argument of @arguments.  An argument it
 * does not name gets a message naming @owner, the argument and the
 * nearest name @specs has ("did you mean 'port'?"): with @strict, as an
 * error (the first unknown name in byte order); without, as a g_warning()
 * for each, and the arguments are accepted.  Without a table nothing is
 * checked, as in dogpile.cache, which ignores unknown arguments.
 *
 * The core calls it whenever it creates a backend or proxy; a plugin has
 * no need to.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION, with @strict, for an argument
 * @specs does not name.
 *
 * Thread safety: any thread.
 *
 * Returns: %TRUE when every argument is known, or when @strict is %FALSE;
 *   %FALSE with @error set otherwise
 */
gboolean
dogpile_argument_specs_check (const DogpileArgumentSpec *specs,
                              const char *owner, GHashTable *arguments,
                              gboolean strict, GError **error)
{
  g_autofree gpointer *keys = NULL;
  guint n_keys = 0;

  g_return_val_if_fail (owner != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (specs == NULL || arguments == NULL)
    return TRUE;
  keys = g_hash_table_get_keys_as_array (arguments, &n_keys);
  qsort (keys, n_keys, sizeof *keys, compare_names);
  for (guint i = 0; i < n_keys; i++)
    {
      g_autofree char *message = NULL;

      if (dogpile_argument_specs_lookup (specs, keys[i]) != NULL)
        continue;
      message = describe_unknown (specs, owner, keys[i]);
      if (strict)
        {
          g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                               message);
          return FALSE;
        }
      g_warning ("%s (ignored; strict_arguments makes this an error)",
                 message);
    }
  return TRUE;
}

/* Why @specs cannot be read safely, or NULL when it can (the loader's
 * check of a plugin's table). */
char *
dogpile__argument_specs_problem (const DogpileArgumentSpec *specs)
{
  for (gsize i = 0; i <= DOGPILE_ARGUMENT_SPECS_MAX; i++)
    {
      const DogpileArgumentSpec *spec = &specs[i];

      if (spec->name == NULL)
        return NULL;
      if (dogpile_argument_type_get_name (spec->type) == NULL)
        return g_strdup_printf ("argument '%s' has type %d, which is no "
                                "DogpileArgumentType",
                                spec->name, (int) spec->type);
      if (spec->doc == NULL)
        return g_strdup_printf ("argument '%s' has no doc line", spec->name);
      if (spec->name[0] == '\0' && !(spec->flags & DOGPILE_ARGUMENT_PREFIX))
        return g_strdup_printf ("entry %zu has an empty name", i);
    }
  return g_strdup_printf ("it has no end entry (DOGPILE_ARGUMENT_SPEC_END) "
                          "within %d entries",
                          DOGPILE_ARGUMENT_SPECS_MAX);
}

/**
 * dogpile_backend_desc_get_arguments:
 * @desc: a backend descriptor
 *
 * The argument table @desc declares: read only from a descriptor of ABI
 * version 4 or later, since an older one has no such member.
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer none) (nullable): the table, or %NULL when @desc
 *   declares none
 */
const DogpileArgumentSpec *
dogpile_backend_desc_get_arguments (const DogpileBackendDesc *desc)
{
  g_return_val_if_fail (desc != NULL, NULL);

  return desc->abi_version >= 4 ? desc->arguments : NULL;
}

/**
 * dogpile_proxy_desc_get_arguments:
 * @desc: a proxy descriptor
 *
 * The argument table @desc declares: read only from a descriptor of proxy
 * ABI version 2 or later, since an older one has no such member.
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer none) (nullable): the table, or %NULL when @desc
 *   declares none
 */
const DogpileArgumentSpec *
dogpile_proxy_desc_get_arguments (const DogpileProxyDesc *desc)
{
  g_return_val_if_fail (desc != NULL, NULL);

  return desc->abi_version >= 2 ? desc->arguments : NULL;
}
