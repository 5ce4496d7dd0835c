/* fuzz-memcached-servers.c: the memcached plugin's server lists
 * (plugins/memcached/memcached-servers.c) and backend arguments
 * (memcached-config.c) on any text: the first line is the `url`
 * argument, split as a config file's list is; every "name=value" line is
 * an argument of each of the four client names.
 *
 * Invariants besides not crashing:
 *  - each server is a socket path or a host and a port from 1 to 65535,
 *    displayed as host:port, [v6]:port or the path, and named for
 *    pymemcache's hash as host:port;
 *  - the servers written back as a list (inet:[host]:port, or
 *    inet:host:port for a host with a ']', and unix:path) parse as the
 *    same servers;
 *  - every error has a message, and a configuration accepted has at
 *    least one server.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz-common.h"

#include "memcached-config.h"
#include "memcached-servers.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

static void
check_server (const McServer *s)
{
  g_autofree char *display = NULL;
  g_autofree char *node = NULL;

  if (s->path != NULL)
    {
      fuzz_assert (s->host == NULL && s->port == 0 && s->path[0] != '\0',
                   "a socket server with a host or a port, or no path");
      fuzz_assert (strcmp (s->display, s->path) == 0
                       && strcmp (s->node_name, s->path) == 0,
                   "socket %s displayed %s, named %s", s->path, s->display,
                   s->node_name);
      return;
    }
  fuzz_assert (s->host != NULL && s->host[0] != '\0' && s->port > 0,
               "a TCP server without a host or a port");
  display = strchr (s->host, ':') != NULL
                ? g_strdup_printf ("[%s]:%u", s->host, (guint) s->port)
                : g_strdup_printf ("%s:%u", s->host, (guint) s->port);
  node = g_strdup_printf ("%s:%u", s->host, (guint) s->port);
  fuzz_assert (strcmp (s->display, display) == 0
                   && strcmp (s->node_name, node) == 0,
               "%s:%u displayed %s, named %s", s->host, (guint) s->port,
               s->display, s->node_name);
}

/* @s as an item of a list again; NULL for a socket path a list cannot
 * end an item with (the brackets, parentheses and quotes of a Python list
 * literal are dropped there). */
static char *
format_server (const McServer *s)
{
  if (s->path != NULL)
    return strchr ("])\"'", s->path[strlen (s->path) - 1]) == NULL
               ? g_strconcat ("unix:", s->path, NULL)
               : NULL;
  /* "inet:" first: a list's "['" or "(" never starts the item */
  if (strchr (s->host, ']') != NULL)
    return g_strdup_printf ("inet:%s:%u", s->host, (guint) s->port);
  return g_strdup_printf ("inet:[%s]:%u", s->host, (guint) s->port);
}

static gboolean
same_server (const McServer *a, const McServer *b)
{
  return g_strcmp0 (a->host, b->host) == 0 && a->port == b->port
         && g_strcmp0 (a->path, b->path) == 0
         && strcmp (a->display, b->display) == 0
         && strcmp (a->node_name, b->node_name) == 0;
}

static void
check_servers (const char *url)
{
  g_autoptr (GHashTable) arguments
      = g_hash_table_new (g_str_hash, g_str_equal);
  g_auto (GStrv) items = NULL;
  g_auto (GStrv) again_items = NULL;
  g_autoptr (GPtrArray) servers = NULL;
  g_autoptr (GPtrArray) again = NULL;
  g_autoptr (GPtrArray) written = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *joined = NULL;

  g_hash_table_insert (arguments, "url", (gpointer) url);
  dogpile_arguments_dup_list (arguments, "url", &items, NULL);
  if (!mc_servers_parse ((const char *const *) items, &servers, &error))
    {
      fuzz_check_error (error, "mc_servers_parse");
      return;
    }
  fuzz_assert (servers->len > 0, "a list of no server");
  for (guint i = 0; i < servers->len; i++)
    {
      char *item;

      check_server (servers->pdata[i]);
      item = format_server (servers->pdata[i]);
      if (item == NULL)
        return;
      g_ptr_array_add (written, item);
    }
  g_ptr_array_add (written, NULL);
  joined = g_strjoinv (", ", (char **) written->pdata);
  g_hash_table_insert (arguments, "url", joined);
  dogpile_arguments_dup_list (arguments, "url", &again_items, NULL);
  fuzz_assert (
      mc_servers_parse ((const char *const *) again_items, &again, &error),
      "'%s' written as '%s' does not parse: %s", url, joined, error->message);
  fuzz_assert (again->len == servers->len,
               "'%s' written as '%s': %u servers, then %u", url, joined,
               servers->len, again->len);
  for (guint i = 0; i < servers->len; i++)
    fuzz_assert (same_server (servers->pdata[i], again->pdata[i]),
                 "'%s' written as '%s': server %u is %s, then %s", url, joined,
                 i, ((McServer *) servers->pdata[i])->display,
                 ((McServer *) again->pdata[i])->display);
}

static void
check_config (GHashTable *arguments)
{
  static const struct {
    McClientKind kind;
    const char *name;
  } kinds[] = {
    { MC_CLIENT_PYLIBMC, "dogpile.cache.pylibmc" },
    { MC_CLIENT_MEMCACHED, "dogpile.cache.memcached" },
    { MC_CLIENT_BMEMCACHED, "dogpile.cache.bmemcached" },
    { MC_CLIENT_PYMEMCACHE, "dogpile.cache.pymemcache" },
  };

  for (gsize k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (McConfig) config
          = mc_config_new (kinds[k].kind, kinds[k].name, arguments, &error);

      if (config == NULL)
        {
          fuzz_assert (error != NULL && error->message[0] != '\0',
                       "mc_config_new failed without a message");
          continue;
        }
      fuzz_assert (config->servers != NULL && config->servers->len > 0,
                   "a configuration without servers");
      for (guint i = 0; i < config->servers->len; i++)
        check_server (config->servers->pdata[i]);
      fuzz_assert (config->pool_size > 0, "a pool of 0");
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_auto (GStrv) lines = fuzz_split (data, size, '\n');
  g_autoptr (GHashTable) arguments
      = g_hash_table_new (g_str_hash, g_str_equal);

  if (lines[0] != NULL)
    check_servers (lines[0]);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *eq = strchr (lines[i], '=');

      if (eq == NULL)
        continue;
      *eq = '\0';
      g_hash_table_replace (arguments, lines[i], eq + 1);
    }
  check_config (arguments);
  return 0;
}
