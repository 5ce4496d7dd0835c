/* dogpile-registry.c: which module provides which backend name.
 *
 * Three tiers, looked up in this order, mirroring dogpile.cache's
 * PluginLoader (registered names first, then entry points):
 *   1. names registered in process (dogpile_registry_register and
 *      _register_desc): a later registration replaces an earlier one;
 *   2. registry files given explicitly (dogpile_registry_add_file);
 *   3. the default scan: $DOGPILE_REGISTRY_PATH, then
 *      $DOGPILE_REGISTRY_SYSTEM_PATH if set (even empty) or else the user
 *      data dir and the compiled-in dir.
 * Within tiers 2 and 3 the first definition of a name wins.  The scan runs
 * once, on first use, like stevedore's ExtensionManager.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"
#include "dogpile-nearest.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

struct DogpilePluginInfo {
  gint ref_count;
  char *group;
  char *name;
  char *module_path;   /* NULL for a registered descriptor */
  char *symbol;        /* NULL for a registered descriptor */
  char *registry_file; /* NULL when registered in process */
  gconstpointer desc; /* a registered DogpileBackendDesc or DogpileProxyDesc */
};

enum { TIER_REGISTERED, TIER_EXPLICIT, TIER_SCANNED, N_TIERS };

struct DogpileRegistry {
  gint ref_count;
  GMutex lock;
  DogpileForkHook *fork_hook;
  gboolean scanned;
  /* "group\nname" -> DogpilePluginInfo, one table per tier */
  GHashTable *tiers[N_TIERS];
  /* For PluginNotFound: the files given (tier 2), and each file and
   * folder the default scan read or looked for (a missing one says so) */
  GPtrArray *explicit_files;
  GPtrArray *searched;
};

static DogpilePluginInfo *
plugin_info_new (const char *group, const char *name, const char *module_path,
                 const char *symbol, const char *registry_file,
                 gconstpointer desc)
{
  DogpilePluginInfo *info = g_new0 (DogpilePluginInfo, 1);

  info->ref_count = 1;
  info->group = g_strdup (group);
  info->name = g_strdup (name);
  info->module_path = g_strdup (module_path);
  info->symbol = g_strdup (symbol);
  info->registry_file = g_strdup (registry_file);
  info->desc = desc;
  return info;
}

/**
 * dogpile_plugin_info_ref:
 * @self: a plugin info
 *
 * Takes a reference to @self.
 *
 * Thread safety: any thread; a #DogpilePluginInfo never changes.
 *
 * Returns: (transfer full): @self
 */
DogpilePluginInfo *
dogpile_plugin_info_ref (DogpilePluginInfo *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

/**
 * dogpile_plugin_info_unref:
 * @self: (transfer full): a plugin info
 *
 * Drops a reference to @self; the last one frees it.
 *
 * Thread safety: any thread; the last unref must not race a call on @self.
 */
void
dogpile_plugin_info_unref (DogpilePluginInfo *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->group);
  g_free (self->name);
  g_free (self->module_path);
  g_free (self->symbol);
  g_free (self->registry_file);
  g_free (self);
}

/**
 * dogpile_plugin_info_get_name:
 * @self: a plugin info
 *
 * The name the entry registers.
 *
 * Thread safety: any thread; a #DogpilePluginInfo never changes.
 *
 * Returns: (transfer none): the entry's name, e.g. "dogpile.cache.memory".
 */
const char *
dogpile_plugin_info_get_name (DogpilePluginInfo *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->name;
}

/**
 * dogpile_plugin_info_get_group:
 * @self: a plugin info
 *
 * The group the entry is in: %DOGPILE_REGISTRY_GROUP_BACKENDS or
 * %DOGPILE_REGISTRY_GROUP_PROXIES.
 *
 * Thread safety: any thread; a #DogpilePluginInfo never changes.
 *
 * Returns: (transfer none): the entry-point group, e.g. "dogpile.cache".
 */
const char *
dogpile_plugin_info_get_group (DogpilePluginInfo *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->group;
}

/**
 * dogpile_plugin_info_get_module_path:
 * @self: a plugin info
 *
 * The shared module the entry names.
 *
 * Thread safety: any thread; a #DogpilePluginInfo never changes.
 *
 * Returns: (transfer none) (nullable): the module, with a relative registry
 * path already resolved against the registry file's folder; %NULL for a
 * descriptor registered in process.
 */
const char *
dogpile_plugin_info_get_module_path (DogpilePluginInfo *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->module_path;
}

/**
 * dogpile_plugin_info_get_symbol:
 * @self: a plugin info
 *
 * The descriptor function the entry names.
 *
 * Thread safety: any thread; a #DogpilePluginInfo never changes.
 *
 * Returns: (transfer none) (nullable): the exported function returning the
 * descriptor; %NULL for a descriptor registered in process.
 */
const char *
dogpile_plugin_info_get_symbol (DogpilePluginInfo *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->symbol;
}

/**
 * dogpile_plugin_info_get_registry_file:
 * @self: a plugin info
 *
 * Where the entry was read.
 *
 * Thread safety: any thread; a #DogpilePluginInfo never changes.
 *
 * Returns: (transfer none) (nullable): the registry file the entry came
 * from; %NULL when it was registered in process.
 */
const char *
dogpile_plugin_info_get_registry_file (DogpilePluginInfo *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->registry_file;
}

/* The proxies that ship live in libdogpile: registered in process, as
 * dogpile.cache registers its own backends, so a later registration of the
 * same name replaces them and no registry file has to name the library. */
static char *tier_key (const char *group, const char *name);

/* Held while a module loads: taken before fork() (the outer tier), before
 * the loader's own lock, which it nests. */
static void
fork_prepare (gpointer data)
{
  g_mutex_lock (&((DogpileRegistry *) data)->lock);
}

static void
fork_release (gpointer data)
{
  g_mutex_unlock (&((DogpileRegistry *) data)->lock);
}

static void
register_builtins (DogpileRegistry *self)
{
  static const DogpileProxyDesc *const builtins[] = {
    &dogpile__proxy_logging_desc,
    &dogpile__proxy_stats_desc,
    &dogpile__proxy_faults_desc,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (builtins); i++)
    g_hash_table_replace (
        self->tiers[TIER_REGISTERED],
        tier_key (DOGPILE_REGISTRY_GROUP_PROXIES, builtins[i]->name),
        plugin_info_new (DOGPILE_REGISTRY_GROUP_PROXIES, builtins[i]->name,
                         NULL, NULL, NULL, builtins[i]));
}

/**
 * dogpile_registry_new:
 *
 * A registry of its own, separate from the default one regions use.  It
 * scans the default locations on first use, like the default registry.
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full): a new registry.
 */
DogpileRegistry *
dogpile_registry_new (void)
{
  DogpileRegistry *self = g_new0 (DogpileRegistry, 1);

  self->ref_count = 1;
  g_mutex_init (&self->lock);
  for (int i = 0; i < N_TIERS; i++)
    self->tiers[i]
        = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                 (GDestroyNotify) dogpile_plugin_info_unref);
  self->explicit_files = g_ptr_array_new_with_free_func (g_free);
  self->searched = g_ptr_array_new_with_free_func (g_free);
  register_builtins (self);
  dogpile__loader_fork_init ();
  self->fork_hook = dogpile__fork_hook_add (DOGPILE__FORK_OUTER, fork_prepare,
                                            fork_release, fork_release, self);
  return self;
}

/**
 * dogpile_registry_get_default:
 *
 * The process-wide registry that dogpile_region_configure() and
 * dogpile_register_backend() use.
 *
 * Thread safety: any thread; the first call makes it, once.
 *
 * Returns: (transfer none): the default registry.
 */
DogpileRegistry *
dogpile_registry_get_default (void)
{
  static DogpileRegistry *instance;

  if (g_once_init_enter (&instance))
    g_once_init_leave (&instance, dogpile_registry_new ());
  return instance;
}

/**
 * dogpile_registry_ref:
 * @self: a registry
 *
 * Takes a reference to @self.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full): @self
 */
DogpileRegistry *
dogpile_registry_ref (DogpileRegistry *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

/**
 * dogpile_registry_unref:
 * @self: (transfer full): a registry
 *
 * Loaded plugins stay loaded: modules are never unloaded.
 *
 * Thread safety: any thread; the last unref must not race a call on @self.
 */
void
dogpile_registry_unref (DogpileRegistry *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  dogpile_fork_hook_remove (self->fork_hook);
  for (int i = 0; i < N_TIERS; i++)
    g_hash_table_unref (self->tiers[i]);
  g_ptr_array_unref (self->explicit_files);
  g_ptr_array_unref (self->searched);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static char *
tier_key (const char *group, const char *name)
{
  return g_strconcat (group, "\n", name, NULL);
}

/* First definition wins within a tier. */
static void
tier_add_first (GHashTable *tier, DogpilePluginInfo *info)
{
  char *key = tier_key (info->group, info->name);
  DogpilePluginInfo *existing = g_hash_table_lookup (tier, key);

  if (existing != NULL)
    {
      g_debug ("%s %s from %s is shadowed by the one from %s", info->group,
               info->name, info->registry_file, existing->registry_file);
      g_free (key);
      dogpile_plugin_info_unref (info);
      return;
    }
  g_hash_table_insert (tier, key, info);
}

static gboolean
is_known_group (const char *group)
{
  return strcmp (group, DOGPILE_REGISTRY_GROUP_BACKENDS) == 0
         || strcmp (group, DOGPILE_REGISTRY_GROUP_PROXIES) == 0;
}

/* Messages are UTF-8 whatever the file holds: the file's name in its
 * display form, the text quoted from it with its bad bytes escaped. */
static gboolean
registry_problem (GError **error, const char *path, guint line,
                  const char *message)
{
  g_autofree char *shown = g_filename_display_name (path);
  g_autofree char *text = dogpile__utf8_escaped (g_strdup (message));

  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_REGISTRY_INVALID,
               "%s:%u: %s", shown, line, text);
  return FALSE;
}

/* Reads one registry file into @tier.  A file is a GKeyFile-style INI, read
 * here by hand so that problems can be reported with their line.  With
 * @strict, the first bad line fails the call; otherwise each bad line is a
 * warning and is skipped. */
/* Registry files are a few lines; a bigger one is not a registry. */
#define REGISTRY_FILE_MAX (1 << 20)

static const char *
file_kind (mode_t mode)
{
  if (S_ISFIFO (mode))
    return "a FIFO";
  if (S_ISSOCK (mode))
    return "a socket";
  if (S_ISCHR (mode) || S_ISBLK (mode))
    return "a device";
  if (S_ISDIR (mode))
    return "a folder";
  return "not a regular file";
}

/* The contents of @path if it is a regular file.  Opened without
 * blocking and checked on the open descriptor: reading a FIFO would wait
 * for a writer forever, a device could never end. */
static gboolean
read_regular_file (const char *path, char **out_contents, GError **error)
{
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  GString *text;
  char buf[8192];
  ssize_t n;

  if (fd < 0)
    {
      int saved = errno;

      g_set_error_literal (error, G_FILE_ERROR,
                           g_file_error_from_errno (saved),
                           g_strerror (saved));
      return FALSE;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_REGISTRY_INVALID,
                   "it is %s, not a regular file", file_kind (st.st_mode));
      close (fd);
      return FALSE;
    }
  text = g_string_new (NULL);
  while ((n = read (fd, buf, sizeof buf)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || text->len + (gsize) n > REGISTRY_FILE_MAX)
        {
          int saved = errno;

          if (n < 0)
            g_set_error_literal (error, G_FILE_ERROR,
                                 g_file_error_from_errno (saved),
                                 g_strerror (saved));
          else
            g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_REGISTRY_INVALID,
                         "it is over %d bytes, too big for a registry file",
                         REGISTRY_FILE_MAX);
          g_string_free (text, TRUE);
          close (fd);
          return FALSE;
        }
      g_string_append_len (text, buf, n);
    }
  close (fd);
  *out_contents = g_string_free (text, FALSE);
  return TRUE;
}

static gboolean
load_registry_file (GHashTable *tier, const char *given_path, gboolean strict,
                    GError **error)
{
  /* Relative module paths resolve against the file's folder, which must
   * then be absolute too (DOGPILE_REGISTRY_PATH may be relative). */
  g_autofree char *path = g_canonicalize_filename (given_path, NULL);
  g_autofree char *contents = NULL;
  g_autofree char *folder = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) local_error = NULL;
  char *group = NULL;
  gboolean ok = TRUE;

  if (!read_regular_file (path, &contents, &local_error))
    {
      g_autofree char *shown = g_filename_display_name (path);

      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "Cannot read registry file %s: ", shown);
      return FALSE;
    }
  folder = g_path_get_dirname (path);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL && ok; i++)
    {
      g_autoptr (GError) line_error = NULL;
      char *line = g_strstrip (lines[i]);
      char *eq, *colon, *name, *value;
      g_autofree char *module = NULL;

      if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
        continue;
      if (line[0] == '[')
        {
          char *close = strchr (line, ']');

          if (close == NULL || close[1] != '\0' || close == line + 1)
            registry_problem (&line_error, path, i + 1,
                              "malformed group header; expected [group]");
          else
            {
              g_free (group);
              group = g_strndup (line + 1, (gsize) (close - line - 1));
              if (!is_known_group (group))
                g_debug ("%s:%u: ignoring unknown group [%s]", path, i + 1,
                         group);
            }
        }
      else if (group != NULL && !is_known_group (group))
        continue; /* other programs' groups are theirs to check */
      else if ((eq = strchr (line, '=')) == NULL)
        registry_problem (&line_error, path, i + 1,
                          "expected 'name = module-path:symbol'");
      else if (group == NULL)
        registry_problem (&line_error, path, i + 1,
                          "entry before any [group] header; put it under "
                          "[" DOGPILE_REGISTRY_GROUP_BACKENDS "]");
      else
        {
          *eq = '\0';
          name = g_strstrip (line);
          value = g_strstrip (eq + 1);
          colon = strrchr (value, ':');
          if (name[0] == '\0')
            registry_problem (&line_error, path, i + 1,
                              "entry without a name before '='");
          else if (colon == NULL)
            {
              g_autofree char *msg = g_strdup_printf (
                  "entry '%s' has no ':' between the module path and the "
                  "symbol; write '%s = module.so:symbol'",
                  name, name);
              registry_problem (&line_error, path, i + 1, msg);
            }
          else if (colon == value || colon[1] == '\0')
            {
              g_autofree char *msg = g_strdup_printf (
                  "entry '%s' needs both a module path and a symbol around "
                  "':'",
                  name);
              registry_problem (&line_error, path, i + 1, msg);
            }
          else
            {
              *colon = '\0';
              g_strstrip (value);
              module = g_path_is_absolute (value)
                           ? g_strdup (value)
                           : g_canonicalize_filename (value, folder);
              tier_add_first (tier, plugin_info_new (group, name, module,
                                                     g_strstrip (colon + 1),
                                                     path, NULL));
            }
        }

      if (line_error != NULL)
        {
          if (strict)
            {
              g_propagate_error (error, g_steal_pointer (&line_error));
              ok = FALSE;
            }
          else
            g_warning ("Skipping a bad registry line: %s",
                       line_error->message);
        }
    }
  g_free (group);
  return ok;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* A list entry is a registry file or a folder of *.ini files, read in
 * sorted name order. */
static void
scan_location (GHashTable *tier, GPtrArray *searched, const char *location)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) names = NULL;
  const char *entry;

  if (location[0] == '\0')
    return;
  if (!g_file_test (location, G_FILE_TEST_IS_DIR))
    {
      if (!g_file_test (location, G_FILE_TEST_EXISTS))
        {
          g_debug ("registry location %s does not exist", location);
          g_ptr_array_add (searched,
                           g_strdup_printf ("%s (does not exist)", location));
          return;
        }
      g_ptr_array_add (searched, g_strdup (location));
      if (!load_registry_file (tier, location, FALSE, &error))
        g_warning ("Skipping registry file: %s", error->message);
      return;
    }
  g_debug ("scanning %s", location);
  g_ptr_array_add (searched, g_strdup_printf ("%s/", location));
  dir = g_dir_open (location, 0, &error);
  if (dir == NULL)
    {
      g_warning ("Skipping registry folder %s: %s", location, error->message);
      return;
    }
  names = g_ptr_array_new_with_free_func (g_free);
  while ((entry = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (entry, ".ini"))
      g_ptr_array_add (names, g_build_filename (location, entry, NULL));
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      g_clear_error (&error);
      if (!load_registry_file (tier, names->pdata[i], FALSE, &error))
        g_warning ("Skipping registry file: %s", error->message);
    }
}

static void
scan_path_list (GHashTable *tier, GPtrArray *searched, const char *list)
{
  g_auto (GStrv) parts = g_strsplit (list, G_SEARCHPATH_SEPARATOR_S, -1);

  for (char **p = parts; *p != NULL; p++)
    scan_location (tier, searched, *p);
}

/* Called with the lock held. */
static void
ensure_scanned (DogpileRegistry *self)
{
  GHashTable *tier = self->tiers[TIER_SCANNED];
  const char *env;

  if (self->scanned)
    return;
  self->scanned = TRUE;

  env = g_getenv (DOGPILE_REGISTRY_PATH_ENV);
  if (env != NULL)
    scan_path_list (tier, self->searched, env);
  env = g_getenv (DOGPILE_REGISTRY_SYSTEM_PATH_ENV);
  if (env != NULL)
    scan_path_list (tier, self->searched, env);
  else
    {
      g_autofree char *user_dir = g_build_filename (
          g_get_user_data_dir (), "dogpile-" DOGPILE_API_VERSION, "registry.d",
          NULL);

      scan_location (tier, self->searched, user_dir);
      scan_location (tier, self->searched, DOGPILE_REGISTRY_DIR);
    }
}

/**
 * dogpile_registry_add_file:
 * @self: a registry
 * @path: a registry file
 * @error: return location for a #GError
 *
 * Reads @path ahead of the default locations (like the tools' --registry
 * option).  Unlike the default scan, which warns and skips, any problem in
 * an explicitly named file is an error: nothing from the file is added
 * after the first bad line.
 *
 * Errors: %DOGPILE_ERROR_REGISTRY_INVALID for a bad line; a #GFileError
 * when @path cannot be read or is not a regular file.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success; %FALSE with %DOGPILE_ERROR_REGISTRY_INVALID
 * (message "FILE:LINE: ...") or a #GFileError when it cannot be read.
 */
gboolean
dogpile_registry_add_file (DogpileRegistry *self, const char *path,
                           GError **error)
{
  g_autofree char *absolute = NULL;
  gboolean ok;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  absolute = g_canonicalize_filename (path, NULL);
  g_mutex_lock (&self->lock);
  ok = load_registry_file (self->tiers[TIER_EXPLICIT], absolute, TRUE, error);
  if (ok)
    g_ptr_array_add (self->explicit_files, g_strdup (absolute));
  g_mutex_unlock (&self->lock);
  return ok;
}

static gboolean
register_info (DogpileRegistry *self, DogpilePluginInfo *info)
{
  g_mutex_lock (&self->lock);
  g_hash_table_replace (self->tiers[TIER_REGISTERED],
                        tier_key (info->group, info->name), info);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/**
 * dogpile_registry_register:
 * @self: a registry
 * @name: the backend name
 * @module_path: the module; a path without '/' is searched the way
 *   dlopen() searches
 * @symbol: the exported function returning the descriptor
 * @error: return location for a #GError
 *
 * dogpile.cache's register_backend: nothing is loaded or checked until a
 * region configures @name; a registered name wins over registry files and
 * replaces an earlier registration, built-in names included.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION for an empty name, module or symbol.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success; %FALSE with %DOGPILE_ERROR_VALIDATION when an
 * argument is empty.
 */
gboolean
dogpile_registry_register (DogpileRegistry *self, const char *name,
                           const char *module_path, const char *symbol,
                           GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (module_path != NULL, FALSE);
  g_return_val_if_fail (symbol != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (name[0] == '\0' || module_path[0] == '\0' || symbol[0] == '\0')
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "Cannot register backend '%s': the name, module path and "
                   "symbol must all be non-empty",
                   name);
      return FALSE;
    }
  return register_info (self,
                        plugin_info_new (DOGPILE_REGISTRY_GROUP_BACKENDS, name,
                                         module_path, symbol, NULL, NULL));
}

/**
 * dogpile_registry_register_desc:
 * @self: a registry
 * @desc: a descriptor that stays valid for the life of the process
 * @error: return location for a #GError
 *
 * Registers a backend compiled into the program under @desc->name, with
 * dogpile_registry_register()'s precedence.  The descriptor is checked
 * when a region first uses it, as a loaded one would be.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when @desc has no name.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success; %FALSE with %DOGPILE_ERROR_VALIDATION when
 * @desc has no name.
 */
gboolean
dogpile_registry_register_desc (DogpileRegistry *self,
                                const DogpileBackendDesc *desc, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (desc != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (desc->name == NULL || desc->name[0] == '\0')
    {
      g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                           "Cannot register a backend descriptor without a "
                           "name");
      return FALSE;
    }
  return register_info (self,
                        plugin_info_new (DOGPILE_REGISTRY_GROUP_BACKENDS,
                                         desc->name, NULL, NULL, NULL, desc));
}

/**
 * dogpile_registry_register_proxy_desc:
 * @self: a registry
 * @desc: a proxy descriptor that stays valid for the life of the process
 * @error: return location for a #GError
 *
 * Registers a proxy compiled into the program under @desc->name in
 * %DOGPILE_REGISTRY_GROUP_PROXIES, so regions and config files can wrap
 * by name.
 *
 * Errors: %DOGPILE_ERROR_VALIDATION when @desc has no name.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: %TRUE on success; %FALSE with %DOGPILE_ERROR_VALIDATION when
 * @desc has no name.
 */
gboolean
dogpile_registry_register_proxy_desc (DogpileRegistry *self,
                                      const DogpileProxyDesc *desc,
                                      GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (desc != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (desc->name == NULL || desc->name[0] == '\0')
    {
      g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                           "Cannot register a proxy descriptor without a "
                           "name");
      return FALSE;
    }
  return register_info (self,
                        plugin_info_new (DOGPILE_REGISTRY_GROUP_PROXIES,
                                         desc->name, NULL, NULL, NULL, desc));
}

/**
 * dogpile_register_backend:
 * @name: the backend name
 * @module_path: the module
 * @symbol: the exported function returning the descriptor
 * @error: return location for a #GError
 *
 * dogpile_registry_register() on the default registry.
 *
 * Errors: as dogpile_registry_register().
 *
 * Thread safety: any thread.
 *
 * Returns: %TRUE on success.
 */
gboolean
dogpile_register_backend (const char *name, const char *module_path,
                          const char *symbol, GError **error)
{
  return dogpile_registry_register (dogpile_registry_get_default (), name,
                                    module_path, symbol, error);
}

/**
 * dogpile_registry_lookup:
 * @self: a registry
 * @group: the entry-point group, e.g. %DOGPILE_REGISTRY_GROUP_BACKENDS
 * @name: the entry name
 *
 * The entry for @name in @group, without loading it.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full) (nullable): the entry that wins for @name.
 */
DogpilePluginInfo *
dogpile_registry_lookup (DogpileRegistry *self, const char *group,
                         const char *name)
{
  g_autofree char *key = NULL;
  DogpilePluginInfo *info = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (group != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  key = tier_key (group, name);
  g_mutex_lock (&self->lock);
  ensure_scanned (self);
  for (int i = 0; i < N_TIERS && info == NULL; i++)
    info = g_hash_table_lookup (self->tiers[i], key);
  if (info != NULL)
    dogpile_plugin_info_ref (info);
  g_mutex_unlock (&self->lock);
  return info;
}

static gint
compare_infos (gconstpointer a, gconstpointer b)
{
  const DogpilePluginInfo *x = *(DogpilePluginInfo *const *) a;
  const DogpilePluginInfo *y = *(DogpilePluginInfo *const *) b;

  return strcmp (x->name, y->name);
}

/**
 * dogpile_registry_list:
 * @self: a registry
 * @group: the entry-point group
 *
 * Every entry of @group that wins for its name (docs/registry.md says
 * which entry wins when several give one name).
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full) (element-type DogpilePluginInfo): the winning
 * entry for every name in @group, sorted by name.
 */
GPtrArray *
dogpile_registry_list (DogpileRegistry *self, const char *group)
{
  g_autoptr (GHashTable) seen = NULL;
  GPtrArray *result;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (group != NULL, NULL);

  result = g_ptr_array_new_with_free_func (
      (GDestroyNotify) dogpile_plugin_info_unref);
  seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_mutex_lock (&self->lock);
  ensure_scanned (self);
  for (int i = 0; i < N_TIERS; i++)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, self->tiers[i]);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          DogpilePluginInfo *info = value;

          if (strcmp (info->group, group) != 0
              || g_hash_table_contains (seen, info->name))
            continue;
          g_hash_table_add (seen, info->name);
          g_ptr_array_add (result, dogpile_plugin_info_ref (info));
        }
    }
  g_mutex_unlock (&self->lock);
  g_ptr_array_sort (result, compare_infos);
  return result;
}

/**
 * dogpile_registry_dup_names:
 * @self: a registry
 * @group: the entry-point group
 *
 * The names registered in @group, each once (the entry that wins), as
 * `dogpile-plugins` lists them.
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer full): the sorted names in @group; free with
 * g_strfreev().
 */
char **
dogpile_registry_dup_names (DogpileRegistry *self, const char *group)
{
  g_autoptr (GPtrArray) infos = dogpile_registry_list (self, group);
  GPtrArray *names = g_ptr_array_new ();

  for (guint i = 0; i < infos->len; i++)
    g_ptr_array_add (names,
                     g_strdup (((DogpilePluginInfo *) infos->pdata[i])->name));
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

/* PluginNotFound: Python's sentence, then the nearest name registered,
 * where this registry looked (explicit files first, then the default
 * scan, as the lookup goes), and what lists the rest. */
static void
not_found (DogpileRegistry *self, const char *group, const char *kind,
           const char *name, GError **error)
{
  g_auto (GStrv) names = dogpile_registry_dup_names (self, group);
  g_autoptr (GString) message = g_string_new (NULL);
  const char *nearest
      = dogpile__nearest_name (name, (const char *const *) names);

  gboolean backends = strcmp (group, DOGPILE_REGISTRY_GROUP_BACKENDS) == 0;

  if (backends)
    g_string_printf (message, "Couldn't find cache plugin to load: %s", name);
  else
    g_string_printf (message, "Couldn't find %s to load: %s", kind, name);
  if (nearest != NULL)
    g_string_append_printf (message, " (did you mean %s?)", nearest);
  if (backends)
    g_string_append (message, "; searched names registered in process");
  else
    g_string_append_printf (message,
                            "; searched the [%s] entries of names "
                            "registered in process",
                            group);
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->explicit_files->len; i++)
    g_string_append_printf (message, ", %s",
                            (const char *) self->explicit_files->pdata[i]);
  for (guint i = 0; i < self->searched->len; i++)
    g_string_append_printf (message, ", %s",
                            (const char *) self->searched->pdata[i]);
  g_mutex_unlock (&self->lock);
  g_string_append (message, "; dogpile-plugins lists what is registered");
  g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_PLUGIN_NOT_FOUND,
                       message->str);
}

/* The descriptor behind a registry entry, loaded (once) but not checked;
 * *out_where describes it for messages. */
static gconstpointer
load_entry (DogpileRegistry *self, const char *group, const char *kind,
            const char *name, char **out_where, GError **error)
{
  g_autoptr (DogpilePluginInfo) info = NULL;

  info = dogpile_registry_lookup (self, group, name);
  if (info == NULL)
    {
      not_found (self, group, kind, name, error);
      return NULL;
    }
  if (info->desc != NULL)
    {
      *out_where = g_strdup ("registered in process");
      return info->desc;
    }
  *out_where = g_strdup_printf ("%s:%s, listed in %s", info->module_path,
                                info->symbol, info->registry_file);
  return dogpile__loader_load (kind, name, info->module_path, info->symbol,
                               info->registry_file, error);
}

/**
 * dogpile_registry_load_backend:
 * @self: a registry
 * @name: the backend name
 * @error: return location for a #GError
 *
 * Loads the module behind @name (once per process) and checks its
 * descriptor.
 *
 * Errors: %DOGPILE_ERROR_PLUGIN_NOT_FOUND, %DOGPILE_ERROR_PLUGIN_LOAD_FAILED,
 * %DOGPILE_ERROR_PLUGIN_SYMBOL_MISSING, %DOGPILE_ERROR_PLUGIN_ABI_MISMATCH,
 * %DOGPILE_ERROR_PLUGIN_NAME_MISMATCH or %DOGPILE_ERROR_PLUGIN_INCOMPLETE
 * (docs/errors.md).
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer none): the descriptor, valid for the life of the
 * process; %NULL with %DOGPILE_ERROR_PLUGIN_NOT_FOUND ("Couldn't find cache
 * plugin to load: NAME") or one of the plugin load errors.
 */
const DogpileBackendDesc *
dogpile_registry_load_backend (DogpileRegistry *self, const char *name,
                               GError **error)
{
  g_autofree char *where = NULL;
  const DogpileBackendDesc *desc;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  desc = load_entry (self, DOGPILE_REGISTRY_GROUP_BACKENDS, "cache plugin",
                     name, &where, error);
  if (desc == NULL || !dogpile__loader_check_desc (desc, name, where, error))
    return NULL;
  return desc;
}

/**
 * dogpile_registry_load_proxy:
 * @self: a registry
 * @name: the proxy name, from %DOGPILE_REGISTRY_GROUP_PROXIES
 * @error: return location for a #GError
 *
 * dogpile_registry_load_backend() for a proxy: loads its module once per
 * process and checks its descriptor.
 *
 * Errors: as dogpile_registry_load_backend().
 *
 * Thread safety: any thread, concurrently with any call on @self.
 *
 * Returns: (transfer none): the proxy descriptor, or %NULL with the same
 * errors as dogpile_registry_load_backend().
 */
const DogpileProxyDesc *
dogpile_registry_load_proxy (DogpileRegistry *self, const char *name,
                             GError **error)
{
  g_autofree char *where = NULL;
  const DogpileProxyDesc *desc;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  desc = load_entry (self, DOGPILE_REGISTRY_GROUP_PROXIES, "proxy", name,
                     &where, error);
  if (desc == NULL
      || !dogpile__loader_check_proxy_desc (desc, name, where, error))
    return NULL;
  return desc;
}
