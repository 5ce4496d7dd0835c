/* test-proxy.c: the proxy chain (dogpile.cache's ProxyBackendTest, spec
 * 5.6) and the proxies that ship: logging, stats, faults.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-util.h"

/* --- test proxies ----------------------------------------------------- */

typedef struct {
  gint gets;
  gint sets;
  gint64 skip; /* a key it never sets, from the "skip" argument */
} Counter;

static DogpileProxyImpl *
counter_create (GHashTable *arguments, GError **error)
{
  Counter *c = g_new0 (Counter, 1);

  if (!dogpile_arguments_get_int (arguments, "skip", -1, &c->skip, error))
    {
      g_free (c);
      return NULL;
    }
  return (DogpileProxyImpl *) c;
}

static void
counter_destroy (DogpileProxyImpl *self)
{
  g_free (self);
}

static gboolean
count_get (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
           GBytes **out, DogpileMetadata *meta, GError **error)
{
  ((Counter *) self)->gets++;
  return dogpile_backend_get_value (next, key, out, meta, error);
}

static gboolean
count_set (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
           GBytes *payload, const DogpileMetadata *meta, GError **error)
{
  Counter *c = (Counter *) self;

  c->sets++;
  if (c->skip >= 0 && g_ascii_strtoll (key, NULL, 10) == c->skip)
    return TRUE; /* test_argument_proxies: never sets that key */
  return dogpile_backend_set_value (next, key, payload, meta, error);
}

static const DogpileProxyDesc get_counter_desc = {
  .abi_version = DOGPILE_PROXY_ABI_VERSION,
  .name = "test.get_counter",
  .create = counter_create,
  .destroy = counter_destroy,
  .get_value = count_get,
};

static const DogpileProxyDesc set_counter_desc = {
  .abi_version = DOGPILE_PROXY_ABI_VERSION,
  .name = "test.set_counter",
  .create = counter_create,
  .destroy = counter_destroy,
  .set_value = count_set,
};

static const DogpileProxyDesc passthrough_desc = {
  .abi_version = DOGPILE_PROXY_ABI_VERSION,
  .name = "test.passthrough",
};

static DogpileMutex *
null_mutex (DogpileProxyImpl *self, DogpileBackend *next, const char *key)
{
  return dogpile_mutex_new_null ();
}

static const DogpileProxyDesc null_lock_desc = {
  .abi_version = DOGPILE_PROXY_ABI_VERSION,
  .name = "test.null_lock",
  .get_mutex = null_mutex,
};

static const DogpileProxyDesc future_desc = {
  .abi_version = DOGPILE_PROXY_ABI_VERSION + 1,
  .name = "test.future",
};

static void
setup (void)
{
  DogpileRegistry *registry = dogpile_registry_get_default ();

  cr_assert (dogpile_registry_register_proxy_desc (registry, &get_counter_desc,
                                                   NULL));
  cr_assert (dogpile_registry_register_proxy_desc (registry, &set_counter_desc,
                                                   NULL));
  cr_assert (
      dogpile_registry_register_proxy_desc (registry, &future_desc, NULL));
  use_test_clock (1000);
}

TestSuite (proxy, .init = setup);

static void
set (DogpileRegion *region, const char *key, const char *value)
{
  g_autoptr (GBytes) v = bytes_of (value);

  cr_assert (dogpile_region_set (region, key, v, NULL));
}

static GBytes *
get (DogpileRegion *region, const char *key)
{
  GBytes *value = NULL;

  cr_assert (dogpile_region_get (region, key, &value, NULL));
  return value;
}

static void
wrap (DogpileRegion *region, const char *name, GHashTable *arguments)
{
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_wrap (region, name, arguments, &error), "%s",
             error ? error->message : "");
}

/* test_counter_proxies: wrap=[GetCounterProxy, SetCounterProxy] */
static gint counted_gets, counted_sets;

static gboolean
tally_get (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
           GBytes **out, DogpileMetadata *meta, GError **error)
{
  counted_gets++;
  return dogpile_backend_get_value (next, key, out, meta, error);
}

static gboolean
tally_set (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
           GBytes *payload, const DogpileMetadata *meta, GError **error)
{
  counted_sets++;
  return dogpile_backend_set_value (next, key, payload, meta, error);
}

static const DogpileProxyDesc tally_get_desc = {
  .abi_version = DOGPILE_PROXY_ABI_VERSION,
  .name = "test.tally_get",
  .get_value = tally_get,
};

static const DogpileProxyDesc tally_set_desc = {
  .abi_version = DOGPILE_PROXY_ABI_VERSION,
  .name = "test.tally_set",
  .set_value = tally_set,
};

Test (proxy, counter_proxies)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);

  cr_assert (dogpile_region_wrap_desc (region, &tally_set_desc, NULL, NULL));
  cr_assert (dogpile_region_wrap_desc (region, &tally_get_desc, NULL, NULL));
  for (int i = 0; i < 10; i++)
    {
      g_autofree char *key = g_strdup_printf ("%d", i);

      set (region, key, "v");
    }
  cr_assert_eq (counted_sets, 10);
  cr_assert_eq (counted_gets, 0);
  for (int i = 0; i < 10; i++)
    {
      g_autofree char *key = g_strdup_printf ("%d", i);
      g_autoptr (GBytes) v = get (region, key);

      cr_assert (bytes_equal (v, "v"));
    }
  cr_assert_eq (counted_gets, 10);
  /* an operation no proxy overrides goes straight through */
  cr_assert (dogpile_region_delete (region, "1", NULL));
  {
    g_autoptr (GBytes) gone = get (region, "1");

    cr_assert_null (gone);
  }
}

/* test_argument_proxies: a proxy built with arguments by name */
Test (proxy, argument_proxies)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  g_autoptr (GHashTable) arguments = arguments_of ("skip", "5", NULL);
  g_autoptr (GBytes) five = NULL;
  g_autoptr (GBytes) one = NULL;

  wrap (region, "test.set_counter", arguments);
  set (region, "5", "True");
  set (region, "1", "True");
  five = get (region, "5");
  one = get (region, "1");
  cr_assert_null (five);
  cr_assert (bytes_equal (one, "True"));
}

/* test_instance_proxies: each region's proxy keeps its own state */
typedef struct {
  gint sets;
} Seen;

static gint creations;

static DogpileProxyImpl *
instance_create (GHashTable *arguments, GError **error)
{
  Seen *seen = g_new0 (Seen, 1);

  creations++;
  return (DogpileProxyImpl *) seen;
}

static gboolean
instance_set (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
              GBytes *payload, const DogpileMetadata *meta, GError **error)
{
  ((Seen *) self)->sets++;
  /* The count goes into the value, so each region shows its own. */
  {
    g_autofree char *text = g_strdup_printf ("%d", ((Seen *) self)->sets);
    g_autoptr (GBytes) counted = bytes_of (text);

    return dogpile_backend_set_value (next, key, counted, meta, error);
  }
}

static const DogpileProxyDesc instance_desc = {
  .abi_version = DOGPILE_PROXY_ABI_VERSION,
  .name = "test.instance",
  .create = instance_create,
  .destroy = (void (*) (DogpileProxyImpl *)) g_free,
  .set_value = instance_set,
};

Test (proxy, instance_proxies)
{
  g_autoptr (DogpileRegion) a
      = configured_region ("dogpile.cache.memory", 60, NULL);
  g_autoptr (DogpileRegion) b
      = configured_region ("dogpile.cache.memory", 60, NULL);
  g_autoptr (GBytes) a2 = NULL;
  g_autoptr (GBytes) b1 = NULL;

  cr_assert (dogpile_region_wrap_desc (a, &instance_desc, NULL, NULL));
  cr_assert (dogpile_region_wrap_desc (b, &instance_desc, NULL, NULL));
  cr_assert_eq (creations, 2);
  set (a, "k", "x");
  set (a, "k", "x");
  set (b, "k", "x");
  a2 = get (a, "k");
  b1 = get (b, "k");
  cr_assert (bytes_equal (a2, "2"));
  cr_assert (bytes_equal (b1, "1"));
}

/* test_cachedvalue_passed: a proxy sees payload and metadata */
static DogpileMetadata seen_metadata;
static gsize seen_size;

static gboolean
look_set (DogpileProxyImpl *self, DogpileBackend *next, const char *key,
          GBytes *payload, const DogpileMetadata *meta, GError **error)
{
  seen_metadata = *meta;
  seen_size = g_bytes_get_size (payload);
  return dogpile_backend_set_value (next, key, payload, meta, error);
}

static const DogpileProxyDesc look_desc = {
  .abi_version = DOGPILE_PROXY_ABI_VERSION,
  .name = "test.look",
  .set_value = look_set,
};

Test (proxy, cachedvalue_passed)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);

  cr_assert (dogpile_region_wrap_desc (region, &look_desc, NULL, NULL));
  set (region, "k", "hello");
  cr_assert_eq (seen_size, 5);
  cr_assert_eq (seen_metadata.cached_time, 1000);
  cr_assert_eq (seen_metadata.version, 2);
}

/* test_actual_backend_proxied / _noproxy */
Test (proxy, actual_backend)
{
  g_autoptr (DogpileRegion) plain
      = configured_region ("dogpile.cache.memory", 60, NULL);
  g_autoptr (DogpileRegion) wrapped
      = configured_region ("dogpile.cache.memory", 60, NULL);

  cr_assert_eq (dogpile_region_get_backend (plain, NULL),
                dogpile_region_get_actual_backend (plain, NULL));
  cr_assert (
      dogpile_region_wrap_desc (wrapped, &passthrough_desc, NULL, NULL));
  cr_assert (
      dogpile_region_wrap_desc (wrapped, &passthrough_desc, NULL, NULL));
  cr_assert_str_eq (
      dogpile_backend_get_name (dogpile_region_get_backend (wrapped, NULL)),
      "test.passthrough");
  cr_assert_str_eq (dogpile_backend_get_name (
                        dogpile_region_get_actual_backend (wrapped, NULL)),
                    "dogpile.cache.memory");
  cr_assert_null (dogpile_backend_get_next (
      dogpile_region_get_actual_backend (wrapped, NULL)));
}

Test (proxy, wrap_needs_a_configured_region_and_a_good_proxy)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) bad = arguments_of ("skip", "five", NULL);

  cr_assert_not (
      dogpile_region_wrap_desc (region, &passthrough_desc, NULL, &error));
  assert_error (error, DOGPILE_ERROR_REGION_NOT_CONFIGURED);
  g_clear_error (&error);
  cr_assert (dogpile_region_configure (region, "dogpile.cache.memory", 60,
                                       NULL, 0, NULL));
  cr_assert_not (dogpile_region_wrap (region, "test.future", NULL, &error));
  assert_error (error, DOGPILE_ERROR_PLUGIN_ABI_MISMATCH);
  g_clear_error (&error);
  cr_assert_not (dogpile_region_wrap (region, "test.nothing", NULL, &error));
  assert_error (error, DOGPILE_ERROR_PLUGIN_NOT_FOUND);
  g_clear_error (&error);
  cr_assert_not (
      dogpile_region_wrap (region, "test.set_counter", bad, &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, "'skip'") != NULL);
  cr_assert_str_eq (
      dogpile_backend_get_name (dogpile_region_get_backend (region, NULL)),
      "dogpile.cache.memory");
}

/* get_mutex goes through proxies too: one that hands out the null lock
 * makes every caller regenerate. */
static GBytes *
counting (const char *key, gpointer data, GError **error)
{
  (*(gint *) data)++;
  return bytes_of ("v");
}

Test (proxy, get_mutex_goes_through_proxies)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  g_autoptr (DogpileMutex) mutex = NULL;
  gboolean acquired = FALSE, is_locked = TRUE;

  cr_assert (dogpile_region_wrap_desc (region, &null_lock_desc, NULL, NULL));
  mutex = dogpile_region_get_mutex (region, "k", NULL);
  cr_assert (dogpile_mutex_acquire (mutex, TRUE, &acquired, NULL));
  cr_assert (dogpile_mutex_acquire (mutex, FALSE, &acquired, NULL));
  cr_assert (acquired, "the null lock never refuses");
  cr_assert (dogpile_region_key_is_locked (region, "k", &is_locked, NULL));
  cr_assert_not (is_locked);
}

/* --- stats -------------------------------------------------------------- */

Test (proxy, stats_counts_every_operation)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  const char *keys[] = { "a", "b", "c" };
  g_autoptr (GBytes) v1 = bytes_of ("12345");
  g_autoptr (GBytes) v2 = bytes_of ("12");
  GBytes *values[] = { v1, v2 };
  GBytes *got[3];
  g_autoptr (GBytes) created = NULL;
  g_autoptr (GError) error = NULL;
  gint calls = 0;
  DogpileStats stats;

  cr_assert_not (dogpile_region_get_stats (region, &stats, &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (dogpile_region_wrap (region, DOGPILE_PROXY_STATS, NULL, NULL));
  cr_assert (dogpile_region_set_multi (region, keys, values, 2,
                                       NULL)); /* 2 sets, 7 B */
  cr_assert (dogpile_region_get_multi (region, keys, 3, got,
                                       NULL)); /* 2 hits, 1 miss, 7 B */
  for (int i = 0; i < 3; i++)
    g_clear_pointer (&got[i], g_bytes_unref);
  cr_assert (
      dogpile_region_get_or_create (region, "d", counting, &calls, &created,
                                    NULL)); /* miss, re-read miss, set */
  cr_assert (dogpile_region_delete (region, "a", NULL));
  cr_assert (dogpile_region_delete_multi (region, keys, 3, NULL));
  cr_assert (dogpile_region_get_stats (region, &stats, NULL));
  cr_assert_eq (stats.sets, 3);
  cr_assert_eq (stats.bytes_in, 8);
  cr_assert_eq (stats.gets, 5);
  cr_assert_eq (stats.hits, 2);
  cr_assert_eq (stats.misses, 3);
  cr_assert_eq (stats.bytes_out, 7);
  cr_assert_eq (stats.deletes, 4);
  cr_assert_eq (stats.errors, 0);
}

/* The stats proxy reports the backend's own counters: evictions by size
 * and by expiry, and the policy's window, through the proxy chain. */
Test (proxy, stats_report_the_backends_evictions_and_window)
{
  g_autoptr (GHashTable) arguments = arguments_of (
      "max_entries", "100", "memory_expiration_time", "120", NULL);
  g_autoptr (DogpileRegion) region = NULL;
  g_autoptr (GBytes) value = bytes_of ("v");
  DogpileBackendCounters counters;
  DogpileStats stats;
  char key[32];

  use_test_clock (1000);
  region = configured_region ("dogpile.cache.memory", 60, arguments);
  cr_assert (dogpile_region_wrap (region, DOGPILE_PROXY_STATS, NULL, NULL));
  for (int i = 0; i < 150; i++)
    {
      g_snprintf (key, sizeof key, "k:%d", i);
      cr_assert (dogpile_region_set (region, key, value, NULL));
    }
  cr_assert (dogpile_region_get_backend_counters (region, &counters, NULL));
  cr_assert (dogpile_region_get_stats (region, &stats, NULL));
  cr_assert_eq (stats.sets, 150);
  cr_assert_eq (stats.evictions_size, 50);
  cr_assert_eq (stats.evictions_size, counters.evictions_size);
  cr_assert_gt (stats.window_size, 0);
  cr_assert_eq (stats.window_size, counters.window_size);
  cr_assert_eq (stats.evictions_expiry, 0);
  /* Everything ages out; the writes that follow sweep it away. */
  test_clock_value = 1200;
  for (int i = 0; i < 2000 && stats.evictions_expiry < 100; i++)
    {
      cr_assert (dogpile_region_delete (region, "none", NULL));
      cr_assert (dogpile_region_get_stats (region, &stats, NULL));
    }
  cr_assert_eq (stats.evictions_expiry, 100);
}

typedef struct {
  DogpileRegion *region;
} Hammer;

static gpointer
hammer (gpointer data)
{
  Hammer *h = data;

  for (int i = 0; i < 10000; i++)
    {
      g_autoptr (GBytes) v = NULL;

      dogpile_region_get (h->region, i % 2 ? "hit" : "miss", &v, NULL);
    }
  return NULL;
}

Test (proxy, stats_are_exact_under_threads)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  Hammer h = { region };
  GThread *threads[4];
  DogpileStats stats;

  cr_assert (dogpile_region_wrap (region, DOGPILE_PROXY_STATS, NULL, NULL));
  set (region, "hit", "x");
  for (int i = 0; i < 4; i++)
    threads[i] = g_thread_new ("stats", hammer, &h);
  for (int i = 0; i < 4; i++)
    g_thread_join (threads[i]);
  cr_assert (dogpile_region_get_stats (region, &stats, NULL));
  cr_assert_eq (stats.gets, 40000);
  cr_assert_eq (stats.hits, 20000);
  cr_assert_eq (stats.misses, 20000);
  cr_assert_eq (stats.bytes_out, 20000);
}

/* --- faults ---------------------------------------------------------------
 */

static DogpileRegion *
faulty_region (const char *name, const char *value, const char *name2,
               const char *value2)
{
  DogpileRegion *region = configured_region ("dogpile.cache.memory", 60, NULL);
  g_autoptr (GHashTable) arguments
      = arguments_of (name, value, name2, value2, NULL);
  g_autoptr (GError) error = NULL;

  cr_assert (
      dogpile_region_wrap (region, DOGPILE_PROXY_FAULTS, arguments, &error),
      "%s", error ? error->message : "");
  return region;
}

static gboolean
set_ok (DogpileRegion *region, GError **error)
{
  g_autoptr (GBytes) v = bytes_of ("v");

  return dogpile_region_set (region, "k", v, error);
}

Test (proxy, faults_fail_nth)
{
  g_autoptr (DogpileRegion) region
      = faulty_region ("fail_nth", "3", NULL, NULL);
  g_autoptr (GError) error = NULL;

  cr_assert (set_ok (region, NULL));
  cr_assert (set_ok (region, NULL));
  cr_assert_not (set_ok (region, &error));
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (strstr (error->message, "Injected fault: operation 3 (set)")
                 != NULL,
             "%s", error->message);
  cr_assert (set_ok (region, NULL));
}

Test (proxy, faults_fail_every)
{
  g_autoptr (DogpileRegion) region
      = faulty_region ("fail_every", "2", NULL, NULL);
  int failed = 0;

  for (int i = 0; i < 10; i++)
    failed += !set_ok (region, NULL);
  cr_assert_eq (failed, 5);
}

Test (proxy, faults_for_a_while)
{
  g_autoptr (DogpileRegion) region
      = faulty_region ("fail_from", "2", "fail_for", "100ms");

  cr_assert (set_ok (region, NULL));
  cr_assert_not (set_ok (region, NULL));
  cr_assert_not (set_ok (region, NULL));
  g_usleep (150000);
  cr_assert (set_ok (region, NULL));
}

Test (proxy, faults_reach_get_or_create_callers)
{
  g_autoptr (DogpileRegion) region
      = faulty_region ("fail_nth", "1", NULL, NULL);
  g_autoptr (GError) error = NULL;
  GBytes *value = NULL;
  gint calls = 0;

  cr_assert_not (dogpile_region_get_or_create (region, "k", counting, &calls,
                                               &value, &error));
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert_eq (calls, 0, "the read failed before any creation");
  cr_assert (dogpile_region_get_or_create (region, "k", counting, &calls,
                                           &value, NULL));
  g_bytes_unref (value);
}

Test (proxy, faults_bad_argument)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  g_autoptr (GHashTable) arguments = arguments_of ("fail_nth", "soon", NULL);
  g_autoptr (GError) error = NULL;

  cr_assert_not (
      dogpile_region_wrap (region, DOGPILE_PROXY_FAULTS, arguments, &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, "'fail_nth'") != NULL);
}

/* --- logging --------------------------------------------------------------
 */

static GPtrArray *log_lines;

static GLogWriterOutput
capture (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
         gpointer data)
{
  GString *line = g_string_new (NULL);

  for (gsize i = 0; i < n_fields; i++)
    if (g_str_has_prefix (fields[i].key, "DOGPILE_")
        || strcmp (fields[i].key, "MESSAGE") == 0)
      g_string_append_printf (line, "%s=%s;", fields[i].key,
                              (const char *) fields[i].value);
  g_ptr_array_add (log_lines, g_string_free (line, FALSE));
  return G_LOG_WRITER_HANDLED;
}

static gboolean
logged (const char *needle)
{
  for (guint i = 0; i < log_lines->len; i++)
    if (strstr (log_lines->pdata[i], needle) != NULL)
      return TRUE;
  return FALSE;
}

Test (proxy, logging_one_line_per_operation)
{
  g_autoptr (DogpileRegion) region = NULL;
  g_autoptr (GBytes) hit = NULL;
  g_autoptr (GBytes) miss = NULL;

  g_setenv ("G_MESSAGES_DEBUG", "dogpile", TRUE);
  log_lines = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (capture, NULL, NULL);
  region = configured_region ("dogpile.cache.memory", 60, NULL);
  cr_assert (dogpile_region_wrap (region, DOGPILE_PROXY_LOGGING, NULL, NULL));
  g_ptr_array_set_size (log_lines, 0);
  set (region, "k", "v");
  hit = get (region, "k");
  miss = get (region, "nothing");
  cr_assert (dogpile_region_delete (region, "k", NULL));
  cr_assert_eq (log_lines->len, 4);
  cr_assert (
      logged ("DOGPILE_OPERATION=set;DOGPILE_KEY=k;DOGPILE_OUTCOME=stored"));
  cr_assert (
      logged ("DOGPILE_OPERATION=get;DOGPILE_KEY=k;DOGPILE_OUTCOME=hit"));
  cr_assert (logged ("DOGPILE_KEY=nothing;DOGPILE_OUTCOME=miss"));
  cr_assert (logged ("DOGPILE_OPERATION=delete"));
  cr_assert (logged ("MESSAGE=get 'k': hit in "));
  cr_assert (logged ("DOGPILE_DURATION_US="));
}

/* A record that cannot be read is an error in a multi get, as it is in a
 * single one, not a miss. */
Test (proxy, stats_count_an_unreadable_record_as_an_error)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  g_autoptr (GBytes) value = bytes_of ("v");
  g_autoptr (GBytes) garbage = bytes_of ("not a record");
  const char *keys[] = { "a", "bad", "missing" };
  GBytes *payloads[3] = { NULL };
  DogpileMetadata metadata[3];
  GError *errors[3] = { NULL };
  DogpileBackend *head, *actual;
  DogpileStats stats;

  cr_assert (dogpile_region_wrap (region, DOGPILE_PROXY_STATS, NULL, NULL));
  head = dogpile_region_get_backend (region, NULL);
  actual = dogpile_region_get_actual_backend (region, NULL);
  cr_assert (dogpile_region_set (region, "a", value, NULL));
  cr_assert (dogpile_backend_set (actual, "bad", garbage, NULL));
  cr_assert (dogpile_backend_get_value_multi (head, keys, 3, payloads,
                                              metadata, errors, NULL));
  cr_assert_not_null (payloads[0]);
  cr_assert_not_null (errors[1]);
  cr_assert_null (payloads[2]);
  cr_assert_null (errors[2]);
  cr_assert (dogpile_region_get_stats (region, &stats, NULL));
  cr_assert_eq (stats.gets, 2);
  cr_assert_eq (stats.hits, 1);
  cr_assert_eq (stats.misses, 1);
  cr_assert_eq (stats.errors, 1);
  for (int i = 0; i < 3; i++)
    {
      g_clear_pointer (&payloads[i], g_bytes_unref);
      g_clear_error (&errors[i]);
    }
}
