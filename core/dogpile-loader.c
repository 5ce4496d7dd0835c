/* dogpile-loader.c: open a plugin module and check its descriptor (a
 * backend's or a proxy's).
 *
 * Checks, in order, each failing with its own error code and never
 * aborting: the module opens (symbols bound now, not on first call), the
 * symbol exists and is a function defined in the module itself (a
 * registry line can name anything the module reaches: a libc function or
 * a data object would crash when called), the ABI version is one we know, the
 * descriptor's name is the registry's name, the required operations are there.
 * Modules are made resident: client libraries (hiredis, libmemcached) keep
 * global state that must outlive any region.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

#include <dlfcn.h>
#include <elf.h>
#include <gmodule.h>
#include <link.h>
#include <stdlib.h>

/* module path + symbol -> descriptor, for the whole process: a module is
 * opened once however many registries or names refer to it. */
static GMutex loaded_lock;
static GHashTable *loaded;

static void
fork_prepare (gpointer unused)
{
  g_mutex_lock (&loaded_lock);
}

static void
fork_release (gpointer unused)
{
  g_mutex_unlock (&loaded_lock);
}

/* Registered before any registry's hook, so that a registry's lock, which
 * is held around loading, is taken first before fork(). */
void
dogpile__loader_fork_init (void)
{
  static gsize done;

  if (g_once_init_enter (&done))
    {
      dogpile__fork_hook_add (DOGPILE__FORK_OUTER, fork_prepare, fork_release,
                              fork_release, NULL);
      g_once_init_leave (&done, 1);
    }
}

static const char *
where_listed (const char *registry_file)
{
  return registry_file != NULL ? registry_file : "an in-process registration";
}

/* A descriptor's argument table, when it has one. */
static gboolean
check_arguments (const char *kind, const char *name, const char *where,
                 const DogpileArgumentSpec *specs, GError **error)
{
  g_autofree char *problem = NULL;

  if (specs == NULL
      || (problem = dogpile__argument_specs_problem (specs)) == NULL)
    return TRUE;
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_PLUGIN_INCOMPLETE,
               "%s %s (%s) has a broken argument table: %s; fix the "
               "plugin's DogpileArgumentSpec table",
               kind, name, where, problem);
  return FALSE;
}

/* The members every descriptor starts with. */
static gboolean
check_header (const char *kind, guint32 abi_version, guint32 max_abi,
              const char *desc_name, const char *name, const char *where,
              GError **error)
{
  if (abi_version < 1 || abi_version > max_abi)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_PLUGIN_ABI_MISMATCH,
                   "%s %s (%s) was built for ABI version %u, but this "
                   "libdogpile %s supports versions 1 to %u: upgrade "
                   "libdogpile or rebuild the plugin against it",
                   kind, name, where, abi_version, dogpile_get_version (),
                   max_abi);
      return FALSE;
    }
  if (g_strcmp0 (desc_name, name) != 0)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_PLUGIN_NAME_MISMATCH,
                   "%s %s (%s) calls itself '%s': the registry line and the "
                   "descriptor's name must agree; fix one of them",
                   kind, name, where,
                   desc_name != NULL ? desc_name : "(null)");
      return FALSE;
    }
  return TRUE;
}

gboolean
dogpile__loader_check_proxy_desc (const DogpileProxyDesc *desc,
                                  const char *name, const char *where,
                                  GError **error)
{
  if (!check_header ("Proxy", desc->abi_version, DOGPILE_PROXY_ABI_VERSION,
                     desc->name, name, where, error))
    return FALSE;
  if ((desc->create == NULL) != (desc->destroy == NULL))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_PLUGIN_INCOMPLETE,
                   "Proxy %s (%s) has %s without %s: a proxy with state "
                   "needs both",
                   name, where, desc->create != NULL ? "create" : "destroy",
                   desc->create != NULL ? "destroy" : "create");
      return FALSE;
    }
  return check_arguments ("Proxy", name, where,
                          dogpile_proxy_desc_get_arguments (desc), error);
}

gboolean
dogpile__loader_check_desc (const DogpileBackendDesc *desc, const char *name,
                            const char *where, GError **error)
{
  const char *missing = NULL;

  if (!check_header ("Cache plugin", desc->abi_version,
                     DOGPILE_BACKEND_ABI_VERSION, desc->name, name, where,
                     error))
    return FALSE;
  if (desc->create == NULL)
    missing = "create";
  else if (desc->destroy == NULL)
    missing = "destroy";
  else if (desc->delete_key == NULL)
    missing = "delete";
  else if (!(desc->get != NULL && desc->set != NULL)
           && !(desc->get_value != NULL && desc->set_value != NULL))
    missing = desc->get == NULL ? "get" : "set";
  if (missing != NULL)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_PLUGIN_INCOMPLETE,
                   "Cache plugin %s (%s) lacks the required operation '%s': "
                   "every backend needs create, destroy, delete and either "
                   "get and set or get_value and set_value",
                   name, where, missing);
      return FALSE;
    }
  return check_arguments ("Cache plugin", name, where,
                          dogpile_backend_desc_get_arguments (desc), error);
}

/* Why @address (what dlsym found for a registry line's symbol) is not a
 * descriptor function of @module_path, or NULL if it may be one. */
static char *
symbol_problem (gpointer address, const char *module_path)
{
  Dl_info info;
  const ElfW (Sym) *sym = NULL;
  g_autofree char *found = NULL, *wanted = NULL;
  guint type;

  if (dladdr1 (address, &info, (void **) &sym, RTLD_DL_SYMENT) == 0
      || sym == NULL || info.dli_saddr != address)
    return g_strdup ("not a symbol the dynamic linker can describe");
  found = realpath (info.dli_fname, NULL);
  wanted = realpath (module_path, NULL);
  if (found == NULL || wanted == NULL || strcmp (found, wanted) != 0)
    return g_strdup_printf ("defined in %s, not in the module",
                            info.dli_fname);
  type = sym->st_info & 0xf; /* ELF32_ST_TYPE and ELF64_ST_TYPE alike */
  if (type == STT_OBJECT)
    return g_strdup_printf ("a data object of %" G_GUINT64_FORMAT
                            " bytes, not a function",
                            (guint64) sym->st_size);
  if (type != STT_FUNC)
    return g_strdup_printf ("of ELF type %u, not a function", type);
  return NULL;
}

gconstpointer
dogpile__loader_load (const char *kind, const char *name,
                      const char *module_path, const char *symbol,
                      const char *registry_file, GError **error)
{
  g_autofree char *key = g_strconcat (module_path, "\n", symbol, NULL);
  gconstpointer (*get_desc) (void) = NULL;
  gconstpointer desc;
  GModule *module;

  g_mutex_lock (&loaded_lock);
  if (loaded == NULL)
    loaded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  desc = g_hash_table_lookup (loaded, key);
  if (desc != NULL)
    {
      g_mutex_unlock (&loaded_lock);
      return desc;
    }
  module = g_module_open (module_path, 0);
  if (module == NULL)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_PLUGIN_LOAD_FAILED,
                   "Couldn't load %s %s: cannot open module %s (listed in "
                   "%s): %s.  Check that the file exists; if it does, run "
                   "`ldd %s` to find a missing library",
                   kind, name, module_path, where_listed (registry_file),
                   g_module_error (), module_path);
      g_mutex_unlock (&loaded_lock);
      return NULL;
    }
  g_module_make_resident (module);
  if (!g_module_symbol (module, symbol, (gpointer *) &get_desc)
      || get_desc == NULL)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_PLUGIN_SYMBOL_MISSING,
                   "Couldn't load %s %s: module %s (listed in %s) has no "
                   "symbol %s.  It is not a dogpile plugin, or the registry "
                   "line names the wrong symbol (plugins export "
                   "dogpile_backend_<name>_get_desc, proxies "
                   "dogpile_proxy_<name>_get_desc)",
                   kind, name, module_path, where_listed (registry_file),
                   symbol);
      g_mutex_unlock (&loaded_lock);
      return NULL;
    }
  {
    /* dlsym's result, as the object pointer dladdr takes (ISO C has no
     * cast between the two) */
    gpointer address;
    g_autofree char *problem = NULL;

    memcpy (&address, &get_desc, sizeof address);
    problem = symbol_problem (address, module_path);

    if (problem != NULL)
      {
        g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_PLUGIN_SYMBOL_MISSING,
                     "Couldn't load %s %s: symbol %s of module %s (listed "
                     "in %s) is %s.  The registry line must name the "
                     "plugin's descriptor function (plugins export "
                     "dogpile_backend_<name>_get_desc, proxies "
                     "dogpile_proxy_<name>_get_desc)",
                     kind, name, symbol, module_path,
                     where_listed (registry_file), problem);
        g_mutex_unlock (&loaded_lock);
        return NULL;
      }
  }
  desc = get_desc ();
  if (desc == NULL)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_PLUGIN_SYMBOL_MISSING,
                   "Couldn't load %s %s: %s in %s (listed in %s) returned no "
                   "descriptor",
                   kind, name, symbol, module_path,
                   where_listed (registry_file));
      g_mutex_unlock (&loaded_lock);
      return NULL;
    }
  g_hash_table_insert (loaded, g_steal_pointer (&key), (gpointer) desc);
  g_mutex_unlock (&loaded_lock);
  return desc;
}
