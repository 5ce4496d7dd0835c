/* test-argument-reads.c: every shipped plugin's argument table names
 * exactly what its create() reads.
 *
 * The core traces the dogpile_arguments_*() reads of each create() and
 * logs them (DOGPILE_ARGUMENTS_READ, a debug message); a read its table
 * does not declare is a critical.  For each backend and proxy, a few
 * argument sets take create() down its paths (a URL or separate
 * arguments, each redis mode, memcached's behaviors); then every name
 * read must be declared, and every declared name that is not ignored
 * (Python's arguments a config string cannot carry) nor a prefix must have
 * been read by one of them.  No server is needed: a create that cannot
 * connect still reads its arguments first.
 *
 * SPDX-License-Identifier: MIT
 */
#include <criterion/criterion.h>
#include <dogpile/dogpile-plugin.h>
#include <dogpile/dogpile.h>

#include <glib/gstdio.h>
#include <string.h>

#include "test-util.h"

/* What create() calls logged since the last reset: the names each plugin
 * read (a set per plugin) and the criticals. */
static GHashTable *reads;
static GPtrArray *criticals;

static GLogWriterOutput
capture (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
         gpointer user_data)
{
  const char *plugin = NULL, *names = NULL, *message = NULL;

  (void) user_data;
  for (gsize i = 0; i < n_fields; i++)
    {
      if (strcmp (fields[i].key, "DOGPILE_PLUGIN") == 0)
        plugin = fields[i].value;
      else if (strcmp (fields[i].key, "DOGPILE_ARGUMENTS_READ") == 0)
        names = fields[i].value;
      else if (strcmp (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
    }
  if (level & G_LOG_LEVEL_CRITICAL)
    g_ptr_array_add (criticals, g_strdup (message));
  else if (plugin != NULL && names != NULL)
    {
      GHashTable *set = g_hash_table_lookup (reads, plugin);
      g_auto (GStrv) split = g_strsplit (names, " ", -1);

      if (set == NULL)
        {
          set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
          g_hash_table_insert (reads, g_strdup (plugin), set);
        }
      for (char **p = split; *p != NULL; p++)
        if (**p != '\0')
          g_hash_table_add (set, g_strdup (*p));
    }
  return G_LOG_WRITER_HANDLED;
}

static void
setup (void)
{
  reads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                 (GDestroyNotify) g_hash_table_unref);
  criticals = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (capture, NULL, NULL);
}

TestSuite (argument_reads, .init = setup);

/* Creates backend @name from @arguments (taken; NULL for none) through a
 * region, as users do.  Its create() may fail: only its reads matter. */
static void
create_backend (const char *name, GHashTable *arguments)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new ("reads");
  g_autoptr (GHashTable) owned = arguments;

  (void) dogpile_region_configure (region, name, 60, owned,
                                   DOGPILE_CONFIGURE_NONE, NULL);
}

static void
create_proxy (const char *name, GHashTable *arguments)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new ("reads");
  g_autoptr (GHashTable) owned = arguments;

  cr_assert (dogpile_region_configure (region, "dogpile.cache.memory", 60,
                                       NULL, DOGPILE_CONFIGURE_NONE, NULL));
  (void) dogpile_region_wrap (region, name, owned, NULL);
}

/* The reads logged for @name against its table: none undeclared, none
 * missing but the ignored and prefix entries. */
static void
check_table (const char *name, gboolean is_proxy)
{
  g_autoptr (GError) error = NULL;
  DogpileRegistry *registry = dogpile_registry_get_default ();
  const DogpileArgumentSpec *specs;
  GHashTable *read = g_hash_table_lookup (reads, name);
  GHashTableIter iter;
  gpointer key;

  for (guint i = 0; i < criticals->len; i++)
    cr_log_error ("%s", (char *) g_ptr_array_index (criticals, i));
  cr_assert_eq (criticals->len, 0, "criticals while creating %s", name);
  if (is_proxy)
    {
      const DogpileProxyDesc *desc
          = dogpile_registry_load_proxy (registry, name, &error);

      cr_assert_not_null (desc, "%s", error ? error->message : "");
      specs = dogpile_proxy_desc_get_arguments (desc);
    }
  else
    {
      const DogpileBackendDesc *desc
          = dogpile_registry_load_backend (registry, name, &error);

      cr_assert_not_null (desc, "%s", error ? error->message : "");
      specs = dogpile_backend_desc_get_arguments (desc);
    }
  cr_assert_not_null (specs, "%s declares no argument table", name);
  cr_assert_not_null (read, "%s: no create() was traced", name);

  g_hash_table_iter_init (&iter, read);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    cr_expect_not_null (dogpile_argument_specs_lookup (specs, key),
                        "%s reads '%s', which its table does not declare",
                        name, (char *) key);
  for (gsize i = 0; specs[i].name != NULL; i++)
    if (!(specs[i].flags
          & (DOGPILE_ARGUMENT_IGNORED | DOGPILE_ARGUMENT_PREFIX)))
      cr_expect (g_hash_table_contains (read, specs[i].name),
                 "%s declares '%s', which no create() here read", name,
                 specs[i].name);
}

Test (argument_reads, memory)
{
  for (int i = 0; i < 2; i++)
    {
      const char *name
          = i == 0 ? "dogpile.cache.memory" : "dogpile.cache.memory_pickle";

      create_backend (name, NULL);
      create_backend (
          name, arguments_of ("cache_dict", "shared", "max_entries", "10",
                              "max_bytes", "1M", "eviction_policy", "lru",
                              "memory_expiration_time", "600", NULL));
      check_table (name, FALSE);
    }
}

Test (argument_reads, null)
{
  g_autoptr (GError) error = NULL;
  const DogpileBackendDesc *desc = dogpile_registry_load_backend (
      dogpile_registry_get_default (), "dogpile.cache.null", &error);

  /* Python's NullBackend takes any argument and reads none. */
  create_backend ("dogpile.cache.null", arguments_of ("anything", "1", NULL));
  cr_assert_eq (criticals->len, 0);
  cr_assert_not_null (desc);
  cr_assert_not_null (dogpile_argument_specs_lookup (
      dogpile_backend_desc_get_arguments (desc), "anything"));
  cr_assert_eq (
      g_hash_table_size (g_hash_table_lookup (reads, "dogpile.cache.null")),
      0);
}

Test (argument_reads, dbm)
{
  g_autofree char *dir = g_dir_make_tmp ("argument-reads-XXXXXX", NULL);
  g_autofree char *file = g_build_filename (dir, "cache.db", NULL);

  create_backend ("dogpile.cache.dbm", arguments_of ("filename", file, NULL));
  create_backend ("dogpile.cache.dbm",
                  arguments_of ("filename", file, "rw_lockfile", "false",
                                "dogpile_lockfile", "false", "reuse_handle",
                                "false", NULL));
  check_table ("dogpile.cache.dbm", FALSE);
  for (const char *const *suffix
       = (const char *const[]){ "", ".rw.lock", ".dogpile.lock", NULL };
       *suffix != NULL; suffix++)
    {
      g_autofree char *path = g_strconcat (file, *suffix, NULL);

      g_remove (path);
    }
  g_rmdir (dir);
}

/* Port 1 on the loopback: refused at once, so creates that connect fail
 * fast. */
Test (argument_reads, redis)
{
  const char *families[] = { "redis", "valkey" };

  for (gsize f = 0; f < G_N_ELEMENTS (families); f++)
    {
      g_autofree char *single
          = g_strdup_printf ("dogpile.cache.%s", families[f]);
      g_autofree char *sentinel
          = g_strdup_printf ("dogpile.cache.%s_sentinel", families[f]);
      g_autofree char *cluster
          = g_strdup_printf ("dogpile.cache.%s_cluster", families[f]);

      create_backend (single,
                      arguments_of ("host", "127.0.0.1", "port", "1", NULL));
      create_backend (single, arguments_of ("url", "redis://127.0.0.1:1/0",
                                            "distributed_lock", "true", NULL));
      create_backend (sentinel, arguments_of ("sentinels", "127.0.0.1:1",
                                              "service_name", "m", NULL));
      create_backend (cluster,
                      arguments_of ("startup_nodes", "127.0.0.1:1", NULL));
      check_table (single, FALSE);
      check_table (sentinel, FALSE);
      check_table (cluster, FALSE);
    }
}

Test (argument_reads, memcached)
{
  const char *names[]
      = { "dogpile.cache.memcached", "dogpile.cache.pylibmc",
          "dogpile.cache.pymemcache", "dogpile.cache.bmemcached" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      create_backend (names[i], arguments_of ("url", "127.0.0.1:1", NULL));
      create_backend (names[i],
                      arguments_of ("url", "127.0.0.1:1", "distributed_lock",
                                    "true", "behaviors.tcp_nodelay", "true",
                                    NULL));
      check_table (names[i], FALSE);
    }
}

Test (argument_reads, proxies)
{
  create_proxy (DOGPILE_PROXY_FAULTS, arguments_of ("fail_nth", "3", NULL));
  create_proxy (DOGPILE_PROXY_FAULTS,
                arguments_of ("fail_every", "2", "fail_from", "1", "fail_for",
                              "1", NULL));
  check_table (DOGPILE_PROXY_FAULTS, TRUE);
  /* Proxies without create() read nothing and declare an empty table. */
  create_proxy (DOGPILE_PROXY_STATS, NULL);
  create_proxy (DOGPILE_PROXY_LOGGING, NULL);
  cr_assert_eq (criticals->len, 0);
}

/* The check itself: a plugin whose create() reads what its table does not
 * declare is reported. */
static DogpileBackendImpl *
sloppy_create (GHashTable *arguments, GError **error)
{
  gint64 depth;

  if (!dogpile_arguments_get_int (arguments, "depth", 1, &depth, error))
    return NULL;
  return (DogpileBackendImpl *) g_new0 (char, 1);
}

static void
sloppy_destroy (DogpileBackendImpl *impl)
{
  g_free (impl);
}

static gboolean
sloppy_get (DogpileBackendImpl *impl, const char *key, GBytes **out_value,
            GError **error)
{
  (void) impl, (void) key, (void) error;
  *out_value = NULL;
  return TRUE;
}

static gboolean
sloppy_set (DogpileBackendImpl *impl, const char *key, GBytes *value,
            GError **error)
{
  (void) impl, (void) key, (void) value, (void) error;
  return TRUE;
}

static gboolean
sloppy_delete (DogpileBackendImpl *impl, const char *key, GError **error)
{
  (void) impl, (void) key, (void) error;
  return TRUE;
}

static const DogpileArgumentSpec sloppy_arguments[] = {
  DOGPILE_ARGUMENT ("width", DOGPILE_ARGUMENT_INTEGER,
                    DOGPILE_ARGUMENT_FLAGS_NONE, "1", "how wide"),
  DOGPILE_ARGUMENT_SPEC_END,
};

static const DogpileBackendDesc sloppy = {
  .abi_version = DOGPILE_BACKEND_ABI_VERSION,
  .name = "test.sloppy",
  .description = "reads an argument it does not declare",
  .version = "0",
  .create = sloppy_create,
  .destroy = sloppy_destroy,
  .get = sloppy_get,
  .set = sloppy_set,
  .delete_key = sloppy_delete,
  .arguments = sloppy_arguments,
};

Test (argument_reads, undeclared_read_is_a_critical)
{
  g_autoptr (GError) error = NULL;
  GHashTable *read;

  cr_assert (dogpile_registry_register_desc (dogpile_registry_get_default (),
                                             &sloppy, &error),
             "%s", error ? error->message : "");
  create_backend ("test.sloppy", NULL);
  cr_assert_eq (criticals->len, 1);
  cr_assert_str_eq (g_ptr_array_index (criticals, 0),
                    "test.sloppy read the argument 'depth', which its "
                    "argument table does not declare: users who give it are "
                    "told it is unknown");
  read = g_hash_table_lookup (reads, "test.sloppy");
  cr_assert_not_null (read);
  cr_assert (g_hash_table_contains (read, "depth"));
}
