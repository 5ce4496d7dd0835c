/* test-backend-suite.c: dogpile.cache's _GenericBackendTestSuite (spec 5.1
 * items 1-4, 6-9, 12-16, 20, 24) and _GenericSerializerTestSuite (25-27),
 * written once and built once per backend (SUITE_BACKEND).  The null
 * backend runs the same steps with its own expectations (spec 5.9):
 * everything is accepted and nothing is kept.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#include "test-util.h"

#define IS_NULL (strcmp (SUITE_BACKEND, "dogpile.cache.null") == 0)

/* What a stored value reads back as on this backend. */
static const char *
kept (const char *value)
{
  return IS_NULL ? NULL : value;
}

static char *
some_key (void)
{
  return g_strdup_printf ("some_key_%d", g_random_int_range (1, 100000));
}

/* The backend's arguments for this run: a server's address, a file's
 * name (see suite_arguments in test-util.h). */
static GHashTable *
arguments_new (void)
{
  return suite_arguments ();
}

static DogpileBackend *
backend_new (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) arguments = arguments_new ();
  DogpileBackend *backend
      = dogpile_backend_new (SUITE_BACKEND, arguments, &error);

  assert_no_error (error);
  cr_assert_not_null (backend);
  return backend;
}

static DogpileRegion *
region_with_expiration (double expiration)
{
  g_autoptr (GHashTable) arguments = arguments_new ();

  return configured_region (SUITE_BACKEND, expiration, arguments);
}

static DogpileRegion *
region_new (void)
{
  return region_with_expiration (60);
}

static void
set (DogpileRegion *region, const char *key, const char *value)
{
  g_autoptr (GBytes) bytes = bytes_of (value);
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_set (region, key, bytes, &error));
  assert_no_error (error);
}

static void
assert_value (DogpileRegion *region, const char *key, const char *expected)
{
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_get (region, key, &got, &error));
  assert_no_error (error);
  cr_assert (bytes_equal (got, expected), "get(%s) on %s", key, SUITE_BACKEND);
}

static void
assert_multi (DogpileRegion *region, const char *const *keys, gsize n,
              const char *const *expected)
{
  g_autofree GBytes **got = g_new0 (GBytes *, MAX (n, 1));
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_get_multi (region, keys, n, got, &error));
  assert_no_error (error);
  for (gsize i = 0; i < n; i++)
    {
      cr_assert (bytes_equal (got[i], expected[i]), "slot %zu", i);
      g_clear_pointer (&got[i], g_bytes_unref);
    }
}

TestSuite (generic);

Test (generic, backend_get_nothing)
{
  g_autoptr (DogpileBackend) backend = backend_new ();
  g_autofree char *key = some_key ();
  g_autoptr (GBytes) got = NULL;

  cr_assert (dogpile_backend_get (backend, key, &got, NULL));
  cr_assert_null (got);
}

Test (generic, backend_delete_nothing)
{
  g_autoptr (DogpileBackend) backend = backend_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_backend_delete (backend, "some_key", &error));
  assert_no_error (error);
}

Test (generic, backend_set_get_value)
{
  g_autoptr (DogpileBackend) backend = backend_new ();
  g_autoptr (GBytes) value = bytes_of ("some value");
  g_autoptr (GBytes) got = NULL;
  g_autofree char *key = some_key ();

  cr_assert (dogpile_backend_set (backend, key, value, NULL));
  cr_assert (dogpile_backend_get (backend, key, &got, NULL));
  cr_assert (bytes_equal (got, kept ("some value")));
}

Test (generic, backend_delete)
{
  g_autoptr (DogpileBackend) backend = backend_new ();
  g_autoptr (GBytes) value = bytes_of ("some value");
  g_autoptr (GBytes) got = NULL;
  g_autofree char *key = some_key ();

  cr_assert (dogpile_backend_set (backend, key, value, NULL));
  cr_assert (dogpile_backend_delete (backend, key, NULL));
  cr_assert (dogpile_backend_get (backend, key, &got, NULL));
  cr_assert_null (got);
}

Test (generic, region_set_get_value)
{
  g_autoptr (DogpileRegion) region = region_new ();
  g_autofree char *key = some_key ();

  set (region, key, "some value");
  assert_value (region, key, kept ("some value"));
}

Test (generic, region_set_multiple_values)
{
  g_autoptr (DogpileRegion) region = region_new ();
  const char *keys[] = { "key1", "key2", "key3" };
  g_autoptr (GBytes) v1 = bytes_of ("value1");
  g_autoptr (GBytes) v2 = bytes_of ("value2");
  g_autoptr (GBytes) v3 = bytes_of ("value3");
  GBytes *values[] = { v1, v2, v3 };

  cr_assert (dogpile_region_set_multi (region, keys, values, 3, NULL));
  assert_value (region, "key1", kept ("value1"));
  assert_value (region, "key2", kept ("value2"));
  assert_value (region, "key3", kept ("value3"));
}

Test (generic, region_get_zero_multiple_values)
{
  g_autoptr (DogpileRegion) region = region_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_get_multi (region, NULL, 0, NULL, &error));
  assert_no_error (error);
}

Test (generic, region_set_zero_multiple_values)
{
  g_autoptr (DogpileRegion) region = region_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_set_multi (region, NULL, NULL, 0, &error));
  assert_no_error (error);
}

Test (generic, region_get_multiple_values)
{
  g_autoptr (DogpileRegion) region = region_new ();
  const char *keys[] = { "key1", "key2", "key3" };
  const char *expected[]
      = { kept ("value1"), kept ("value2"), kept ("value3") };

  set (region, "key1", "value1");
  set (region, "key2", "value2");
  set (region, "key3", "value3");
  assert_multi (region, keys, 3, expected);
}

Test (generic, region_get_nothing_multiple)
{
  g_autoptr (DogpileRegion) region = region_new ();
  const char *deleted[] = { "key1", "key2", "key3", "key4", "key5" };
  const char *set_keys[] = { "key1", "key3", "key5" };
  g_autoptr (GBytes) v1 = bytes_of ("value1");
  g_autoptr (GBytes) v3 = bytes_of ("value3");
  g_autoptr (GBytes) v5 = bytes_of ("value5");
  GBytes *values[] = { v1, v3, v5 };
  const char *keys[] = { "key1", "key2", "key3", "key4", "key5", "key6" };
  const char *expected[] = { kept ("value1"), NULL, kept ("value3"), NULL,
                             kept ("value5"), NULL };

  cr_assert (dogpile_region_delete_multi (region, deleted, 5, NULL));
  cr_assert (dogpile_region_set_multi (region, set_keys, values, 3, NULL));
  assert_multi (region, keys, 6, expected);
}

Test (generic, region_get_empty_multiple)
{
  g_autoptr (DogpileRegion) region = region_new ();

  assert_multi (region, NULL, 0, NULL);
}

Test (generic, region_delete_multiple)
{
  g_autoptr (DogpileRegion) region = region_new ();
  const char *keys[] = { "key1", "key2", "key3" };
  g_autoptr (GBytes) v1 = bytes_of ("value1");
  g_autoptr (GBytes) v2 = bytes_of ("value2");
  g_autoptr (GBytes) v3 = bytes_of ("value3");
  GBytes *values[] = { v1, v2, v3 };
  const char *doomed[] = { "key2", "key10" };

  cr_assert (dogpile_region_set_multi (region, keys, values, 3, NULL));
  cr_assert (dogpile_region_delete_multi (region, doomed, 2, NULL));
  assert_value (region, "key1", kept ("value1"));
  assert_value (region, "key2", NULL);
  assert_value (region, "key3", kept ("value3"));
  assert_value (region, "key10", NULL);
}

Test (generic, region_set_get_nothing)
{
  g_autoptr (DogpileRegion) region = region_new ();
  g_autofree char *key = some_key ();
  const char *keys[] = { key };

  cr_assert (dogpile_region_delete_multi (region, keys, 1, NULL));
  assert_value (region, key, NULL);
}

Test (generic, region_delete)
{
  g_autoptr (DogpileRegion) region = region_new ();
  g_autofree char *key = some_key ();

  set (region, key, "some value");
  cr_assert (dogpile_region_delete (region, key, NULL));
  cr_assert (dogpile_region_delete (region, key, NULL));
  assert_value (region, key, NULL);
}

static void
add_entry (gpointer key, gpointer value, gpointer user_data)
{
  g_hash_table_insert (user_data, g_strdup (key), g_strdup (value));
}

Test (generic, argument_dictionary_unmodified)
{
  /* the suite's arguments (or memory's own), plus two that nobody knows */
  g_autoptr (GHashTable) arguments = arguments_new ();
  g_autoptr (GHashTable) copy
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (DogpileRegion) region = NULL;
  GHashTableIter iter;
  gpointer k, v;

  if (g_hash_table_size (arguments) == 0)
    g_hash_table_insert (arguments, g_strdup ("cache_dict"),
                         g_strdup ("somevalue"));
  g_hash_table_insert (arguments, g_strdup ("arg1"), g_strdup ("foo"));
  g_hash_table_insert (arguments, g_strdup ("arg2"), g_strdup ("bar"));
  g_hash_table_foreach (arguments, add_entry, copy);
  region = configured_region (SUITE_BACKEND, 60, arguments);
  cr_assert_eq (g_hash_table_size (arguments), g_hash_table_size (copy));
  g_hash_table_iter_init (&iter, copy);
  while (g_hash_table_iter_next (&iter, &k, &v))
    cr_assert_str_eq (g_hash_table_lookup (arguments, k), v);
}

/* _GenericSerializerTestSuite: the payload codec applies on every path. */
static GBytes *
upper_serialize (GBytes *payload, gpointer user_data, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (payload, &len);
  char *upper = g_ascii_strup (data, (gssize) len);

  return g_bytes_new_take (upper, len);
}

static GBytes *
lower_deserialize (GBytes *stored, gpointer user_data, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (stored, &len);

  if (len > 0 && data[0] == '#')
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE,
                   "marked undecodable");
      return NULL;
    }
  return g_bytes_new_take (g_ascii_strdown (data, (gssize) len), len);
}

static DogpileRegion *
serializer_region (void)
{
  DogpileRegion *region = dogpile_region_new (NULL);
  g_autoptr (GHashTable) arguments = arguments_new ();

  dogpile_region_set_serializer (region, upper_serialize, lower_deserialize,
                                 NULL, NULL);
  cr_assert (dogpile_region_configure (region, SUITE_BACKEND, 60, arguments, 0,
                                       NULL));
  return region;
}

Test (generic, serializer_cant_deserialize)
{
  g_autoptr (DogpileRegion) region = serializer_region ();

  set (region, "k", "#value");
  assert_value (region, "k", NULL);
}

Test (generic, uses_serializer)
{
  g_autoptr (DogpileRegion) region = serializer_region ();
  g_autoptr (GBytes) raw = NULL;
  g_autoptr (GBytes) payload = NULL;
  DogpileMetadata metadata;
  const char *bar;

  set (region, "k", "value");
  cr_assert (dogpile_backend_get (dogpile_region_get_backend (region, NULL),
                                  "k", &raw, NULL));
  if (IS_NULL)
    {
      cr_assert_null (raw);
      return;
    }
  bar = memchr (g_bytes_get_data (raw, NULL), '|', g_bytes_get_size (raw));
  cr_assert_not_null (bar);
  cr_assert_eq (memcmp (bar + 1, "VALUE", 5), 0);
  cr_assert (dogpile_record_decode (raw, &payload, &metadata, NULL));
  cr_assert (bytes_equal (payload, "VALUE"));
}

Test (generic, uses_deserializer)
{
  g_autoptr (DogpileRegion) region = serializer_region ();

  set (region, "k", "value");
  assert_value (region, "k", kept ("value"));
}

/* --- items that need the dogpile lock -------------------------------- */

typedef struct {
  gint calls;
  gint overlaps;
  gint inside;
  gulong sleep_us;
  gboolean explode;
  DogpileRegion *nested; /* test_reentrant_dogpile */
} Creator;

static GBytes *
creator (const char *key, gpointer data, GError **error)
{
  Creator *c = data;
  int n = g_atomic_int_add (&c->calls, 1) + 1;
  g_autofree char *text = NULL;

  if (c->explode)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "boom");
      return NULL;
    }
  if (g_atomic_int_add (&c->inside, 1) != 0)
    g_atomic_int_inc (&c->overlaps);
  if (c->sleep_us > 0)
    g_usleep (c->sleep_us);
  g_atomic_int_add (&c->inside, -1);
  if (c->nested != NULL)
    {
      Creator inner = { 0 };
      g_autoptr (GBytes) bar = NULL;

      if (!dogpile_region_get_or_create (c->nested, "bar", creator, &inner,
                                         &bar, error))
        return NULL;
      return bytes_of ("foobar");
    }
  text = g_strdup_printf ("some value %d", n);
  return bytes_of (text);
}

static gboolean
key_locked (DogpileRegion *region, const char *key)
{
  gboolean is_locked = TRUE;

  cr_assert (dogpile_region_key_is_locked (region, key, &is_locked, NULL));
  return is_locked;
}

/* item 5 */
Test (generic, region_is_key_locked)
{
  g_autoptr (DogpileRegion) region = region_new ();
  g_autofree char *key = g_uuid_string_random ();
  g_autoptr (DogpileMutex) mutex = NULL;

  assert_value (region, key, NULL);
  cr_assert_not (key_locked (region, key));
  cr_assert_not (key_locked (region, key)); /* asking does not acquire */
  mutex = dogpile_region_get_mutex (region, key, NULL);
  cr_assert (mutex_acquire_ok (mutex, TRUE));
  /* the null backend's mutex never reports itself held */
  cr_assert_eq (key_locked (region, key), !IS_NULL);
  cr_assert (dogpile_mutex_release (mutex, NULL));
  cr_assert_not (key_locked (region, key));
}

/* item 10 */
static gboolean
multi_creator (const char *const *keys, gsize n, GBytes **out, gpointer data,
               GError **error)
{
  for (gsize i = 0; i < n; i++)
    out[i] = g_bytes_new (NULL, 0);
  return TRUE;
}

Test (generic, region_set_zero_multiple_values_w_decorator)
{
  g_autoptr (DogpileRegion) region = region_new ();

  cr_assert (dogpile_region_get_or_create_multi (
      region, NULL, 0, multi_creator, NULL, DOGPILE_EXPIRATION_DEFAULT, NULL,
      NULL, NULL, NULL));
}

/* item 11: the creator returns "None" (empty here) for every key and
 * should_cache refuses them: all are returned. */
static gboolean
not_empty (GBytes *value, gpointer data)
{
  return g_bytes_get_size (value) > 0;
}

Test (generic, region_get_or_create_multi_w_should_cache_none)
{
  g_autoptr (DogpileRegion) region = region_new ();
  const char *keys[] = { "key1", "key2", "key3" };
  GBytes *got[3];

  cr_assert (dogpile_region_get_or_create_multi (
      region, keys, 3, multi_creator, NULL, DOGPILE_EXPIRATION_DEFAULT,
      not_empty, NULL, got, NULL));
  for (int i = 0; i < 3; i++)
    {
      cr_assert_eq (g_bytes_get_size (got[i]), 0);
      g_bytes_unref (got[i]);
    }
}

/* item 17 */
Test (generic, region_creator)
{
  g_autoptr (DogpileRegion) region = region_new ();
  Creator c = { 0 };
  g_autoptr (GBytes) value = NULL;
  g_autofree char *key = some_key ();

  cr_assert (
      dogpile_region_get_or_create (region, key, creator, &c, &value, NULL));
  cr_assert (bytes_equal (value, "some value 1"));
}

/* item 23 */
Test (generic, exploding_value_fn)
{
  g_autoptr (DogpileRegion) region = region_new ();
  Creator c = { .explode = TRUE };
  g_autoptr (GError) error = NULL;
  GBytes *value = NULL;

  cr_assert_not (
      dogpile_region_get_or_create (region, "k", creator, &c, &value, &error));
  cr_assert (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_FAILED));
  cr_assert_str_eq (error->message, "boom");
}

/* dogpile.cache's has_lock_timeout() skip: a distributed lock that may
 * expire while its creator still runs (memcached counts exptime in whole
 * seconds of its own clock, so lock_timeout=1 can end at once) does not
 * keep creators apart. */
static gboolean
lock_may_expire (void)
{
  g_autoptr (GHashTable) arguments = arguments_new ();
  const char *timeout = g_hash_table_lookup (arguments, "lock_timeout");

  return timeout != NULL && g_ascii_strtod (timeout, NULL) > 0
         && g_ascii_strtod (timeout, NULL) <= 1;
}

/* item 18: 10 threads x 5 calls, creator 0.25 s, expiry 0.25 s */
typedef struct {
  DogpileRegion *region;
  Creator *creator;
} Runner;

static gpointer
threaded_dogpile (gpointer data)
{
  Runner *r = data;

  for (int i = 0; i < 5; i++)
    {
      g_autoptr (GBytes) value = NULL;

      cr_assert (dogpile_region_get_or_create (r->region, "some key", creator,
                                               r->creator, &value, NULL));
      g_usleep (500000);
    }
  return NULL;
}

Test (generic, threaded_dogpile, .timeout = 60)
{
  g_autoptr (DogpileRegion) region = region_with_expiration (0.25);
  Creator c = { .sleep_us = 250000 };
  Runner r = { region, &c };
  GThread *threads[10];

  for (int i = 0; i < 10; i++)
    threads[i] = g_thread_new ("dogpile", threaded_dogpile, &r);
  for (int i = 0; i < 10; i++)
    g_thread_join (threads[i]);
  cr_assert (c.calls > 2, "%d creations", c.calls);
  if (IS_NULL)
    cr_assert_eq (c.calls, 50, "the null lock serialises nothing");
  else if (!lock_may_expire ())
    cr_assert_eq (c.overlaps, 0, "creators overlapped %d times", c.overlaps);
}

/* item 19: 5 threads x 5 get_or_create_multi on 1-5 of "1".."10" */
typedef struct {
  gint creations;
  gint in_progress[10];
  gint overlaps;
} MultiLog;

static gboolean
slow_multi_creator (const char *const *keys, gsize n, GBytes **out,
                    gpointer data, GError **error)
{
  MultiLog *log = data;

  for (gsize i = 0; i < n; i++)
    if (g_atomic_int_add (&log->in_progress[atoi (keys[i]) - 1], 1) != 0)
      g_atomic_int_inc (&log->overlaps);
  g_usleep (500000);
  for (gsize i = 0; i < n; i++)
    {
      g_atomic_int_add (&log->in_progress[atoi (keys[i]) - 1], -1);
      g_atomic_int_inc (&log->creations);
      out[i] = bytes_of (keys[i]);
    }
  return TRUE;
}

static gpointer
threaded_multi (gpointer data)
{
  Runner *r = data;
  MultiLog *log = (MultiLog *) r->creator;
  static const char *names[]
      = { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10" };

  for (int round = 0; round < 5; round++)
    {
      const char *keys[5];
      GBytes *got[5];
      int n = g_random_int_range (1, 6);

      for (int i = 0; i < n; i++)
        keys[i] = names[g_random_int_range (0, 10)];
      cr_assert (dogpile_region_get_or_create_multi (
          r->region, keys, (gsize) n, slow_multi_creator, log,
          DOGPILE_EXPIRATION_DEFAULT, NULL, NULL, got, NULL));
      for (int i = 0; i < n; i++)
        {
          cr_assert (bytes_equal (got[i], keys[i]));
          g_bytes_unref (got[i]);
        }
    }
  return NULL;
}

Test (generic, threaded_get_multi, .timeout = 60)
{
  g_autoptr (DogpileRegion) region = region_with_expiration (0.25);
  MultiLog log = { 0 };
  Runner r = { region, (Creator *) &log };
  GThread *threads[5];

  threaded_multi (&r);
  for (int i = 0; i < 5; i++)
    threads[i] = g_thread_new ("multi", threaded_multi, &r);
  for (int i = 0; i < 5; i++)
    g_thread_join (threads[i]);
  cr_assert (log.creations > 10, "%d creations", log.creations);
  if (!IS_NULL && !lock_may_expire ())
    cr_assert_eq (log.overlaps, 0, "one key created twice at once");
}

/* --- _GenericMutexTestSuite (items 28, 30-32) on the region's mutexes -- */

Test (generic, mutex)
{
  g_autoptr (DogpileRegion) region = region_new ();
  g_autoptr (DogpileMutex) m = dogpile_region_get_mutex (region, "foo", NULL);
  gboolean is_locked = TRUE;

  cr_assert (dogpile_mutex_locked (m, &is_locked, NULL) && !is_locked);
  cr_assert (mutex_acquire_ok (m, TRUE));
  cr_assert_eq (mutex_acquire_ok (m, FALSE), IS_NULL);
  cr_assert (dogpile_mutex_locked (m, &is_locked, NULL));
  cr_assert_eq (is_locked, !IS_NULL);
  cr_assert (dogpile_mutex_release (m, NULL));
  cr_assert (dogpile_mutex_locked (m, &is_locked, NULL) && !is_locked);
  cr_assert (mutex_acquire_ok (m, TRUE));
  cr_assert (dogpile_mutex_release (m, NULL));
}

typedef struct {
  DogpileRegion *region;
  gint inside;
  gint overlaps;
} Canary;

static gpointer
mutex_rounds (gpointer data)
{
  Canary *c = data;

  for (int round = 0; round < 5; round++)
    {
      g_autoptr (DogpileMutex) m
          = dogpile_region_get_mutex (c->region, "foo", NULL);

      cr_assert (mutex_acquire_ok (m, TRUE));
      for (int i = 0; i < 5; i++)
        {
          if (g_atomic_int_add (&c->inside, 1) != 0)
            g_atomic_int_inc (&c->overlaps);
          g_usleep (2000);
          g_atomic_int_add (&c->inside, -1);
        }
      cr_assert (dogpile_mutex_release (m, NULL));
      g_usleep (20000);
    }
  return NULL;
}

/* item 30 */
Test (generic, mutex_threaded)
{
  Canary c = { region_new (), 0, 0 };
  GThread *threads[5];

  for (int i = 0; i < 5; i++)
    threads[i] = g_thread_new ("mutex", mutex_rounds, &c);
  for (int i = 0; i < 5; i++)
    g_thread_join (threads[i]);
  if (!IS_NULL)
    cr_assert_eq (c.overlaps, 0);
  dogpile_region_unref (c.region);
}

/* item 31 */
Test (generic, mutex_reentrant_across_keys)
{
  g_autoptr (DogpileRegion) region = region_new ();

  for (int round = 0; round < 3; round++)
    {
      g_autoptr (DogpileMutex) foo
          = dogpile_region_get_mutex (region, "foo", NULL);
      g_autoptr (DogpileMutex) bar
          = dogpile_region_get_mutex (region, "bar", NULL);

      cr_assert (mutex_acquire_ok (foo, TRUE));
      for (int again = 0; again < 2; again++)
        {
          cr_assert (mutex_acquire_ok (bar, FALSE));
          cr_assert_eq (mutex_acquire_ok (bar, FALSE), IS_NULL);
          cr_assert (dogpile_mutex_release (bar, NULL));
        }
      cr_assert (dogpile_mutex_release (foo, NULL));
    }
}

/* item 32 */
Test (generic, reentrant_dogpile)
{
  g_autoptr (DogpileRegion) region = region_new ();
  Creator c = { 0 };

  c.nested = region;
  for (int i = 0; i < 2; i++)
    {
      g_autoptr (GBytes) value = NULL;

      cr_assert (dogpile_region_get_or_create (region, "foo", creator, &c,
                                               &value, NULL));
      cr_assert (bytes_equal (value, "foobar"));
    }
}
