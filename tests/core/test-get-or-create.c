/* test-get-or-create.c: the region under the dogpile lock: dogpile.cache's
 * RegionTest get_or_create / expiration / invalidation / should_cache
 * cases, AsyncCreatorTest, CustomInvalidationStrategyTest (spec 5.6), the
 * manglers (item 55-56), and the stampede guarantees.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-util.h"

/* A creator returning "<prefix><n>" from a counter, as Python's tests do. */
typedef struct {
  gint calls;
  const char *prefix;
  gulong sleep_us;
  gint fail_times;             /* the first N calls fail */
  DogpileRegion *inner_region; /* reentrancy: call get_or_create inside */
} Counter;

static GBytes *
counting_creator (const char *key, gpointer data, GError **error)
{
  Counter *c = data;
  int n = g_atomic_int_add (&c->calls, 1) + 1;

  if (c->sleep_us > 0)
    g_usleep (c->sleep_us);
  if (n <= c->fail_times)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "boom %d", n);
      return NULL;
    }
  if (c->inner_region != NULL)
    {
      Counter inner = { 0, "bar", 0, 0, NULL };
      g_autoptr (GBytes) bar = NULL;
      g_autofree char *joined = NULL;

      if (!dogpile_region_get_or_create (
              c->inner_region, "bar", counting_creator, &inner, &bar, error))
        return NULL;
      joined = g_strdup_printf ("foo%.*s", (int) g_bytes_get_size (bar),
                                (const char *) g_bytes_get_data (bar, NULL));
      return bytes_of (joined);
    }
  {
    g_autofree char *text
        = g_strdup_printf ("%s%d", c->prefix ? c->prefix : "", n);
    return bytes_of (text);
  }
}

/* Says the region may keep the counter (it outlives every test region),
 * which lets an async runner take it. */
static void
keep_counter (gpointer data)
{
  (void) data;
}

static GBytes *
goc_with (DogpileRegion *region, const char *key, Counter *c,
          double expiration, GDestroyNotify destroy)
{
  g_autoptr (GError) error = NULL;
  GBytes *value = NULL;

  cr_assert (dogpile_region_get_or_create_full (region, key, counting_creator,
                                                c, destroy, expiration, NULL,
                                                NULL, &value, &error),
             "%s", error ? error->message : "");
  return value;
}

static GBytes *
goc (DogpileRegion *region, const char *key, Counter *c, double expiration)
{
  return goc_with (region, key, c, expiration, NULL);
}

#define assert_goc(region, key, counter, expiration, expected)                \
  G_STMT_START                                                                \
  {                                                                           \
    g_autoptr (GBytes) got_ = goc ((region), (key), (counter), (expiration)); \
    cr_assert (bytes_equal (got_, (expected)), "get_or_create(%s)", (key));   \
  }                                                                           \
  G_STMT_END

static void
assert_get (DogpileRegion *region, const char *key, const char *expected)
{
  g_autoptr (GBytes) got = NULL;

  cr_assert (dogpile_region_get (region, key, &got, NULL));
  cr_assert (bytes_equal (got, expected), "get(%s)", key);
}

/* The multi creator: a counter value per key, in the order asked. */
typedef struct {
  gint calls;
  gint counter;
  GPtrArray *seen_keys; /* keys of every call, flattened */
  gint short_by;        /* leave this many slots empty */
  gboolean fail;
} MultiCounter;

static gboolean
multi_creator (const char *const *keys, gsize n, GBytes **out, gpointer data,
               GError **error)
{
  MultiCounter *m = data;

  m->calls++;
  if (m->fail)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "multi boom");
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *text = NULL;

      if (m->seen_keys != NULL)
        g_ptr_array_add (m->seen_keys, g_strdup (keys[i]));
      if (i + (gsize) m->short_by >= n)
        continue;
      text = g_strdup_printf ("%s %d", keys[i], ++m->counter);
      out[i] = bytes_of (text);
    }
  return TRUE;
}

static void
assert_multi (DogpileRegion *region, const char *const *keys, gsize n,
              MultiCounter *m, double expiration, const char *const *expected)
{
  g_autofree GBytes **got = g_new0 (GBytes *, n);
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_get_or_create_multi (region, keys, n,
                                                 multi_creator, m, expiration,
                                                 NULL, NULL, got, &error),
             "%s", error ? error->message : "");
  for (gsize i = 0; i < n; i++)
    {
      cr_assert (bytes_equal (got[i], expected[i]), "slot %zu: want %s", i,
                 expected[i]);
      g_bytes_unref (got[i]);
    }
}

static void
setup (void)
{
  use_test_clock (1000);
}

TestSuite (get_or_create, .init = setup, .timeout = 60);

Test (get_or_create, creator)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  Counter c = { 0 };
  gboolean is_locked = TRUE;

  assert_goc (region, "some key", &c, DOGPILE_EXPIRATION_DEFAULT, "1");
  assert_goc (region, "some key", &c, DOGPILE_EXPIRATION_DEFAULT, "1");
  cr_assert_eq (c.calls, 1);
  assert_get (region, "some key", "1");
  cr_assert (
      dogpile_region_key_is_locked (region, "some key", &is_locked, NULL));
  cr_assert_not (is_locked);
}

Test (get_or_create, multi_creator_in_request_order)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  MultiCounter m = { .seen_keys = g_ptr_array_new_with_free_func (g_free) };
  const char *keys[] = { "k3", "k2", "k5" };
  const char *expected[] = { "k3 2", "k2 1", "k5 3" };

  assert_multi (region, keys, 3, &m, DOGPILE_EXPIRATION_DEFAULT, expected);
  cr_assert_eq (m.calls, 1);
  /* test_expire_multi: the creator gets the keys sorted */
  cr_assert_str_eq (m.seen_keys->pdata[0], "k2");
  cr_assert_str_eq (m.seen_keys->pdata[1], "k3");
  cr_assert_str_eq (m.seen_keys->pdata[2], "k5");
  g_ptr_array_unref (m.seen_keys);
}

Test (get_or_create, multi_duplicates_and_empty)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  MultiCounter m = { 0 };
  const char *keys[] = { "b", "a", "b", "a" };
  const char *expected[] = { "b 2", "a 1", "b 2", "a 1" };

  assert_multi (region, keys, 4, &m, DOGPILE_EXPIRATION_DEFAULT, expected);
  cr_assert_eq (m.counter, 2);
  /* test_region_set_zero_multiple_values_w_decorator */
  cr_assert (dogpile_region_get_or_create_multi (
      region, NULL, 0, multi_creator, &m, DOGPILE_EXPIRATION_DEFAULT, NULL,
      NULL, NULL, NULL));
  cr_assert_eq (m.calls, 1);
}

/* test_expire */
Test (get_or_create, expire)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 1, NULL);
  Counter c = { .prefix = "some value " };
  g_autoptr (GBytes) ignored = NULL;

  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "some value 1");
  test_clock_value += 2;
  assert_get (region, "k", NULL);
  cr_assert (dogpile_region_get_full (region, "k", DOGPILE_EXPIRATION_DEFAULT,
                                      DOGPILE_GET_IGNORE_EXPIRATION, &ignored,
                                      NULL));
  cr_assert (bytes_equal (ignored, "some value 1"));
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_NONE, "some value 1");
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "some value 2");
  assert_get (region, "k", "some value 2");
}

/* test_expire_multi */
Test (get_or_create, expire_multi)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 1, NULL);
  MultiCounter m = { 0 };
  const char *keys[] = { "k3", "k2", "k5" };
  const char *first[] = { "k3 2", "k2 1", "k5 3" };
  const char *two[] = { "k3", "k2" };
  const char *old[] = { "k3 2", "k2 1" };
  const char *regenerated[] = { "k3 5", "k2 4" };

  assert_multi (region, keys, 3, &m, DOGPILE_EXPIRATION_DEFAULT, first);
  test_clock_value += 2;
  assert_get (region, "k2", NULL);
  assert_multi (region, two, 2, &m, DOGPILE_EXPIRATION_NONE, old);
  assert_multi (region, two, 2, &m, DOGPILE_EXPIRATION_DEFAULT, regenerated);
}

/* test_expire_override */
Test (get_or_create, expire_override)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 5, NULL);
  Counter c = { .prefix = "v" };

  assert_goc (region, "k", &c, 1, "v1");
  test_clock_value += 2;
  assert_get (region, "k", "v1"); /* the region's 5 s */
  assert_goc (region, "k", &c, 1, "v2");
}

Test (get_or_create, zero_expiration_always_regenerates)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 0, NULL);
  Counter c = { 0 };

  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "1");
  test_clock_value += 0.001;
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "2");
}

/* test_hard_invalidate_get_or_create (and _multi) */
Test (get_or_create, hard_invalidate)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  Counter c = { 0 };
  MultiCounter m = { 0 };
  const char *keys[] = { "m1", "m2" };
  const char *first[] = { "m1 1", "m2 2" };
  const char *second[] = { "m1 3", "m2 4" };

  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "1");
  assert_multi (region, keys, 2, &m, DOGPILE_EXPIRATION_DEFAULT, first);
  test_clock_value += 0.1;
  dogpile_region_invalidate (region, TRUE);
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "2");
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "2");
  assert_multi (region, keys, 2, &m, DOGPILE_EXPIRATION_DEFAULT, second);
  assert_multi (region, keys, 2, &m, DOGPILE_EXPIRATION_DEFAULT, second);
  test_clock_value += 0.1;
  dogpile_region_invalidate (region, TRUE);
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "3");
}

/* test_soft_invalidate_get_or_create (and _multi) */
Test (get_or_create, soft_invalidate)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 1, NULL);
  Counter c = { 0 };
  MultiCounter m = { 0 };
  const char *keys[] = { "m1" };
  const char *first[] = { "m1 1" };
  const char *second[] = { "m1 2" };

  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "1");
  assert_multi (region, keys, 1, &m, DOGPILE_EXPIRATION_DEFAULT, first);
  test_clock_value += 0.1;
  dogpile_region_invalidate (region, FALSE);
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "2");
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "2");
  assert_multi (region, keys, 1, &m, DOGPILE_EXPIRATION_DEFAULT, second);
}

/* test_soft_invalidate_requires_expire_time_* */
Test (get_or_create, soft_invalidate_requires_an_expiration_time)
{
  g_autoptr (DogpileRegion) region = configured_region (
      "dogpile.cache.memory", DOGPILE_EXPIRATION_NONE, NULL);
  Counter c = { 0 };
  MultiCounter m = { 0 };
  g_autoptr (GError) first = NULL;
  g_autoptr (GError) second = NULL;
  g_autoptr (GError) multi = NULL;
  GBytes *value = NULL;
  const char *keys[] = { "m" };

  dogpile_region_invalidate (region, FALSE);
  /* first call: no value yet -- the check after creating fires */
  cr_assert_not (dogpile_region_get_or_create (region, "k", counting_creator,
                                               &c, &value, &first));
  assert_error (first, DOGPILE_ERROR_INVALIDATION);
  cr_assert_str_eq (first->message,
                    "Non-None expiration time required for soft "
                    "invalidation");
  cr_assert_not (dogpile_region_get_or_create_multi (
      region, keys, 1, multi_creator, &m, DOGPILE_EXPIRATION_DEFAULT, NULL,
      NULL, &value, &multi));
  assert_error (multi, DOGPILE_ERROR_INVALIDATION);
  /* second call: a value older than the invalidation exists */
  test_clock_value -= 10;
  {
    g_autoptr (GBytes) v = bytes_of ("old");
    cr_assert (dogpile_region_set (region, "k", v, NULL));
  }
  test_clock_value += 10;
  cr_assert_not (dogpile_region_get_or_create (region, "k", counting_creator,
                                               &c, &value, &second));
  assert_error (second, DOGPILE_ERROR_INVALIDATION);
}

static gboolean
cache_one_and_three (GBytes *value, gpointer data)
{
  return bytes_equal (value, "1") || bytes_equal (value, "3");
}

/* test_should_cache_fn */
Test (get_or_create, should_cache)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  Counter c = { 0 };
  int expected[] = { 1, 2, 3 };

  for (int round = 0; round < 3; round++)
    {
      g_autoptr (GBytes) got = NULL;
      g_autofree char *want = g_strdup_printf ("%d", expected[round]);

      cr_assert (dogpile_region_get_or_create_full (
          region, "k", counting_creator, &c, NULL, DOGPILE_EXPIRATION_DEFAULT,
          cache_one_and_three, NULL, &got, NULL));
      cr_assert (bytes_equal (got, want));
      /* the backend keeps 1 until 3 replaces it */
      {
        g_autoptr (GBytes) kept = NULL;

        cr_assert (dogpile_region_get_full (
            region, "k", DOGPILE_EXPIRATION_DEFAULT,
            DOGPILE_GET_IGNORE_EXPIRATION, &kept, NULL));
        cr_assert (bytes_equal (kept, round < 2 ? "1" : "3"));
      }
      test_clock_value += 0.1;
      dogpile_region_invalidate (region, TRUE);
      test_clock_value += 0.1;
    }
}

static gboolean
not_empty (GBytes *value, gpointer data)
{
  return g_bytes_get_size (value) > 0;
}

static gboolean
empty_creator (const char *const *keys, gsize n, GBytes **out, gpointer data,
               GError **error)
{
  for (gsize i = 0; i < n; i++)
    out[i] = g_bytes_new (NULL, 0);
  return TRUE;
}

/* test_region_get_or_create_multi_w_should_cache_none: refused values are
 * returned, not stored. */
Test (get_or_create, multi_should_cache_refuses_all)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  const char *keys[] = { "a", "b", "c" };
  GBytes *got[3];

  cr_assert (dogpile_region_get_or_create_multi (
      region, keys, 3, empty_creator, NULL, DOGPILE_EXPIRATION_DEFAULT,
      not_empty, NULL, got, NULL));
  for (int i = 0; i < 3; i++)
    {
      cr_assert_not_null (got[i]);
      cr_assert_eq (g_bytes_get_size (got[i]), 0);
      g_bytes_unref (got[i]);
      assert_get (region, keys[i], NULL);
    }
}

Test (get_or_create, short_multi_result_is_an_error)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  MultiCounter m = { .short_by = 1 };
  const char *keys[] = { "a", "b" };
  GBytes *got[2] = { (GBytes *) 1, (GBytes *) 1 };
  g_autoptr (GError) error = NULL;
  gboolean is_locked = TRUE;

  cr_assert_not (dogpile_region_get_or_create_multi (
      region, keys, 2, multi_creator, &m, DOGPILE_EXPIRATION_DEFAULT, NULL,
      NULL, got, &error));
  assert_error (error, DOGPILE_ERROR_CREATOR);
  cr_assert (strstr (error->message, "'b'") != NULL, "%s", error->message);
  cr_assert_null (got[0]);
  cr_assert_null (got[1]);
  assert_get (region, "a", NULL); /* nothing stored */
  cr_assert (dogpile_region_key_is_locked (region, "a", &is_locked, NULL));
  cr_assert_not (is_locked);
}

Test (get_or_create, multi_creator_failure_releases_every_mutex)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  MultiCounter m = { .fail = TRUE };
  const char *keys[] = { "a", "b", "c" };
  GBytes *got[3];
  g_autoptr (GError) error = NULL;

  cr_assert_not (dogpile_region_get_or_create_multi (
      region, keys, 3, multi_creator, &m, DOGPILE_EXPIRATION_DEFAULT, NULL,
      NULL, got, &error));
  cr_assert (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_FAILED));
  for (int i = 0; i < 3; i++)
    {
      gboolean is_locked = TRUE;

      cr_assert (
          dogpile_region_key_is_locked (region, keys[i], &is_locked, NULL));
      cr_assert_not (is_locked);
    }
  m.fail = FALSE;
  {
    const char *expected[] = { "a 1", "b 2", "c 3" };

    assert_multi (region, keys, 3, &m, DOGPILE_EXPIRATION_DEFAULT, expected);
  }
}

/* test_exploding_value_fn, and the next caller creating */
Test (get_or_create, creator_failure_stores_nothing)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  Counter c = { .fail_times = 1 };
  g_autoptr (GError) error = NULL;
  GBytes *value = NULL;

  cr_assert_not (dogpile_region_get_or_create (region, "k", counting_creator,
                                               &c, &value, &error));
  cr_assert (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_FAILED));
  cr_assert_str_eq (error->message, "boom 1");
  cr_assert_null (value);
  assert_get (region, "k", NULL);
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "2");
}

static GBytes *
null_creator (const char *key, gpointer data, GError **error)
{
  return NULL;
}

Test (get_or_create, creator_returning_nothing_is_an_error)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  g_autoptr (GError) error = NULL;
  GBytes *value = NULL;

  cr_assert_not (dogpile_region_get_or_create (region, "k", null_creator, NULL,
                                               &value, &error));
  assert_error (error, DOGPILE_ERROR_CREATOR);
}

/* test_reentrant_dogpile */
Test (get_or_create, reentrant_creator_does_not_deadlock)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  Counter c = { .inner_region = region };

  for (int i = 0; i < 2; i++)
    assert_goc (region, "foo", &c, DOGPILE_EXPIRATION_DEFAULT, "foobar1");
}

/* Stored bytes dogpile cannot use are regenerated and overwritten. */
Test (get_or_create, other_version_and_bad_bytes_are_misses)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory_pickle", 60, NULL);
  DogpileBackend *backend = dogpile_region_get_backend (region, NULL);
  g_autoptr (GBytes) old = bytes_of ("{\"ct\": 1000, \"v\": 1}|old");
  g_autoptr (GBytes) garbage = bytes_of ("garbage");
  g_autoptr (GBytes) raw = NULL;
  const char *keys[] = { "bad", "k" };
  const char *expected[] = { "bad 1", "k 2" };
  MultiCounter m = { 0 };
  Counter c = { 0 };

  cr_assert (dogpile_backend_set (backend, "k", old, NULL));
  assert_get (region, "k", "old"); /* get() ignores "v" */
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "1");
  cr_assert (dogpile_backend_get (backend, "k", &raw, NULL));
  cr_assert (bytes_equal (raw, "{\"ct\": 1000.0, \"v\": 2}|1"));

  cr_assert (dogpile_backend_set (backend, "k", garbage, NULL));
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "2");
  assert_get (region, "k", "2");

  cr_assert (dogpile_backend_set (backend, "bad", garbage, NULL));
  cr_assert (dogpile_backend_set (backend, "k", old, NULL));
  assert_multi (region, keys, 2, &m, DOGPILE_EXPIRATION_DEFAULT, expected);
}

Test (get_or_create, key_manglers)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (GBytes) raw = NULL;
  Counter c = { 0 };

  dogpile_region_set_key_mangler (region, dogpile_sha1_mangle_key, NULL, NULL);
  cr_assert (dogpile_region_configure (region, "dogpile.cache.memory", 60,
                                       NULL, 0, NULL));
  assert_goc (region, "some_key", &c, DOGPILE_EXPIRATION_DEFAULT, "1");
  cr_assert (dogpile_backend_get (dogpile_region_get_backend (region, NULL),
                                  "53def077a4264bd3183d4eb21b1f56f883e1b572",
                                  &raw, NULL));
  cr_assert_not_null (raw);
}

Test (get_or_create, sha1_and_length_conditional_manglers)
{
  g_autofree char *a = dogpile_sha1_mangle_key ("some_key", NULL);
  g_autofree char *b
      = dogpile_sha1_mangle_key ("tests.cache.test_decorator:one|1 2", NULL);
  g_autoptr (DogpileLengthConditionalMangler) m
      = dogpile_length_conditional_mangler_new (5, dogpile_sha1_mangle_key,
                                                NULL, NULL);
  g_autofree char *short_key = dogpile_length_conditional_mangle ("abcd", m);
  g_autofree char *long_key = dogpile_length_conditional_mangle ("abcde", m);
  /* four characters, eight bytes: Python counts characters */
  g_autofree char *accented = dogpile_length_conditional_mangle (
      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", m);

  cr_assert_str_eq (a, "53def077a4264bd3183d4eb21b1f56f883e1b572");
  cr_assert_str_eq (b, "aead490a8ace2d69a00160f1fd8fd8a16552c24f");
  cr_assert_str_eq (short_key, "abcd");
  cr_assert_eq (strlen (long_key), 40);
  cr_assert_str_eq (accented, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
}

static char *
hi_mangler (const char *key, gpointer data)
{
  return g_strconcat ("HI!", key, NULL);
}

typedef struct {
  DogpileRegion *region;
  gboolean seen_locked;
} LockProbe;

static GBytes *
probing_creator (const char *key, gpointer data, GError **error)
{
  LockProbe *p = data;

  /* key_is_locked takes the caller's key, mangled as get_or_create does. */
  dogpile_region_key_is_locked (p->region, key, &p->seen_locked, error);
  return bytes_of ("v");
}

Test (get_or_create, key_is_locked_applies_the_mangler)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  LockProbe probe = { region, FALSE };
  g_autoptr (GBytes) got = NULL;
  gboolean after = TRUE;

  dogpile_region_set_key_mangler (region, hi_mangler, NULL, NULL);
  cr_assert (dogpile_region_configure (region, "dogpile.cache.memory", 60,
                                       NULL, 0, NULL));
  cr_assert (dogpile_region_get_or_create (region, "k", probing_creator,
                                           &probe, &got, NULL));
  cr_assert (probe.seen_locked);
  cr_assert (dogpile_region_key_is_locked (region, "k", &after, NULL));
  cr_assert_not (after);
}

/* --- async creation ------------------------------------------------- */

typedef struct {
  gint calls;
  DogpileRegion *region;
  char *key;
  DogpileMutex *mutex;
  gboolean mutex_was_the_regions;
} RunnerLog;

/* AsyncCreatorTest's runner: creates, sets and releases right away. */
static void
inline_runner (DogpileAsyncTask *task, gpointer data)
{
  RunnerLog *log = data;
  g_autoptr (DogpileMutex) regions = NULL;

  log->calls++;
  log->region = dogpile_async_task_get_region (task);
  g_free (log->key);
  log->key = g_strdup (dogpile_async_task_get_key (task));
  regions = dogpile_region_get_mutex (log->region, log->key, NULL);
  log->mutex_was_the_regions = regions == dogpile_async_task_get_mutex (task);
  cr_assert (dogpile_async_task_run (task, NULL));
  dogpile_async_task_unref (task);
}

/* AsyncCreatorTest.test_get_or_create */
Test (get_or_create, async_runner)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  RunnerLog log = { 0 };
  Counter c = { .prefix = "some value " };
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) stale = NULL;
  g_autoptr (GBytes) fresh = NULL;

  dogpile_region_set_async_creation_runner (region, inline_runner, &log, NULL);
  cr_assert (dogpile_region_configure (region, "dogpile.cache.memory", 0.2,
                                       NULL, 0, NULL));
  /* no value: created in the caller, no runner */
  cr_assert (dogpile_region_get_or_create_full (
      region, "some key", counting_creator, &c, keep_counter,
      DOGPILE_EXPIRATION_DEFAULT, NULL, NULL, &first, NULL));
  cr_assert (bytes_equal (first, "some value 1"));
  cr_assert_eq (log.calls, 0);
  test_clock_value += 0.5;
  /* expired: the old value at once, the runner regenerates */
  cr_assert (dogpile_region_get_or_create_full (
      region, "some key", counting_creator, &c, keep_counter,
      DOGPILE_EXPIRATION_DEFAULT, NULL, NULL, &stale, NULL));
  cr_assert (bytes_equal (stale, "some value 1"));
  cr_assert_eq (log.calls, 1);
  cr_assert_eq (log.region, region);
  cr_assert_str_eq (log.key, "some key");
  cr_assert (log.mutex_was_the_regions);
  cr_assert (dogpile_region_get_or_create_full (
      region, "some key", counting_creator, &c, NULL,
      DOGPILE_EXPIRATION_DEFAULT, NULL, NULL, &fresh, NULL));
  cr_assert (bytes_equal (fresh, "some value 2"));
  g_free (log.key);
}

static void
dropping_runner (DogpileAsyncTask *task, gpointer data)
{
  (*(gint *) data)++;
  dogpile_async_task_unref (task); /* never runs it */
}

Test (get_or_create, a_dropped_task_releases_its_mutex)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  gint dropped = 0;
  Counter c = { 0 };
  gboolean is_locked = TRUE;

  dogpile_region_set_async_creation_runner (region, dropping_runner, &dropped,
                                            NULL);
  cr_assert (dogpile_region_configure (region, "dogpile.cache.memory", 1, NULL,
                                       0, NULL));
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "1");
  test_clock_value += 2;
  {
    g_autoptr (GBytes) stale
        = goc_with (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, keep_counter);
    cr_assert (bytes_equal (stale, "1"));
  }
  cr_assert_eq (dropped, 1);
  cr_assert (dogpile_region_key_is_locked (region, "k", &is_locked, NULL));
  cr_assert_not (is_locked);
}

Test (get_or_create, user_data_the_region_cannot_keep_is_not_handed_off)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  gint dropped = 0;
  Counter c = { 0 };

  dogpile_region_set_async_creation_runner (region, dropping_runner, &dropped,
                                            NULL);
  cr_assert (dogpile_region_configure (region, "dogpile.cache.memory", 1, NULL,
                                       0, NULL));
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "1");
  test_clock_value += 2;
  /* stack user data, no destroy notify: regenerated in this thread */
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "2");
  cr_assert_eq (dropped, 0);
}

static void
free_counter (gpointer data)
{
  g_free (data);
}

Test (get_or_create, async_pool_regenerates_in_the_background)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileAsyncPool) pool = dogpile_async_pool_new (2, &error);
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  g_autoptr (GBytes) stale = NULL;
  Counter first = { 0 };
  Counter *owned = g_new0 (Counter, 1);
  gboolean is_locked = TRUE;

  dogpile_clock_set_func (NULL, NULL);
  cr_assert_not_null (pool);
  dogpile_region_set_async_creation_runner (region, dogpile_async_pool_run,
                                            pool, NULL);
  cr_assert (dogpile_region_configure (region, "dogpile.cache.memory", 0.05,
                                       NULL, 0, NULL));
  assert_goc (region, "k", &first, DOGPILE_EXPIRATION_DEFAULT, "1");
  g_usleep (100000);
  owned->prefix = "bg";
  owned->sleep_us = 50000;
  cr_assert (dogpile_region_get_or_create_full (
      region, "k", counting_creator, owned, free_counter,
      DOGPILE_EXPIRATION_DEFAULT, NULL, NULL, &stale, NULL));
  cr_assert (bytes_equal (stale, "1"), "the stale value, at once");
  /* the background task holds the key until it has stored "bg1" */
  for (gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
       g_get_monotonic_time () < deadline;)
    {
      cr_assert (dogpile_region_key_is_locked (region, "k", &is_locked, NULL));
      if (!is_locked)
        break;
      g_usleep (5000);
    }
  cr_assert_not (is_locked);
  {
    g_autoptr (GBytes) now = NULL;

    cr_assert (dogpile_region_get_full (region, "k", DOGPILE_EXPIRATION_NONE,
                                        0, &now, NULL));
    cr_assert (bytes_equal (now, "bg1"));
  }
  cr_assert_eq (dogpile_async_pool_get_failures (pool), 0);
}

/* --- custom invalidation strategy ----------------------------------- */

/* CustomInvalidationStrategyTest: separate soft and hard timestamps. */
typedef struct {
  double soft;
  double hard;
} TwoTimes;

static void
two_invalidate (gpointer d, gboolean hard)
{
  TwoTimes *t = d;

  if (hard)
    t->hard = dogpile_clock_now ();
  else
    t->soft = dogpile_clock_now ();
}

static gboolean
two_is_hard (gpointer d, double ts)
{
  return ((TwoTimes *) d)->hard > 0 && ts < ((TwoTimes *) d)->hard;
}

static gboolean
two_is_soft (gpointer d, double ts)
{
  return ((TwoTimes *) d)->soft > 0 && ts < ((TwoTimes *) d)->soft;
}

static gboolean
two_is_invalidated (gpointer d, double ts)
{
  return two_is_hard (d, ts) || two_is_soft (d, ts);
}

static gboolean
two_was_hard (gpointer d)
{
  return ((TwoTimes *) d)->hard > 0;
}

static gboolean
two_was_soft (gpointer d)
{
  return ((TwoTimes *) d)->soft > 0;
}

static const DogpileInvalidationFuncs two_times_funcs = {
  two_invalidate, two_is_invalidated, two_is_hard,
  two_is_soft,    two_was_hard,       two_was_soft,
};

Test (get_or_create, custom_invalidation_strategy)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  TwoTimes times = { 0, 0 };
  Counter c = { 0 };

  dogpile_region_set_invalidation_strategy (region, &two_times_funcs, &times,
                                            NULL);
  cr_assert (dogpile_region_configure (region, "dogpile.cache.memory", 10,
                                       NULL, 0, NULL));
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "1");
  test_clock_value += 0.1;
  dogpile_region_invalidate (region, FALSE);
  cr_assert (times.soft > 0 && times.hard == 0);
  assert_get (region, "k", NULL);
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "2");
  test_clock_value += 0.1;
  dogpile_region_invalidate (region, TRUE);
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "3");
  assert_goc (region, "k", &c, DOGPILE_EXPIRATION_DEFAULT, "3");
}

/* --- stampedes ------------------------------------------------------- */

#define STAMPEDE_THREADS 64

typedef struct {
  DogpileRegion *region;
  DogpileCreatorFunc creator;
  gpointer creator_data;
  GBytes *result;
  gint *start;
  gint *returned; /* callers whose call has returned */
  gboolean ok;
} Caller;

static gpointer
stampede_caller (gpointer data)
{
  Caller *c = data;

  while (!g_atomic_int_get (c->start))
    g_thread_yield ();
  c->ok = dogpile_region_get_or_create (c->region, "hot", c->creator,
                                        c->creator_data, &c->result, NULL);
  if (c->returned != NULL)
    g_atomic_int_inc (c->returned);
  return NULL;
}

static void
run_stampede (DogpileRegion *region, DogpileCreatorFunc creator,
              gpointer creator_data, gint *returned, Caller *callers)
{
  GThread *threads[STAMPEDE_THREADS];
  gint start = 0;

  for (int i = 0; i < STAMPEDE_THREADS; i++)
    {
      callers[i] = (Caller){ region, creator,  creator_data, NULL,
                             &start, returned, FALSE };
      threads[i] = g_thread_new ("stampede", stampede_caller, &callers[i]);
    }
  g_atomic_int_set (&start, 1);
  for (int i = 0; i < STAMPEDE_THREADS; i++)
    g_thread_join (threads[i]);
}

Test (get_or_create, stampede_without_a_value)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  Counter counter = { .prefix = "made ", .sleep_us = 200000 };
  Caller callers[STAMPEDE_THREADS];

  dogpile_clock_set_func (NULL, NULL);
  run_stampede (region, counting_creator, &counter, NULL, callers);
  cr_assert_eq (counter.calls, 1, "%d creator calls", counter.calls);
  for (int i = 0; i < STAMPEDE_THREADS; i++)
    {
      cr_assert (callers[i].ok);
      cr_assert (bytes_equal (callers[i].result, "made 1"));
      g_bytes_unref (callers[i].result);
    }
}

/* The regeneration waits until every other caller has returned: a stale
 * value is served without waiting for the creator, however slowly the
 * machine runs (a caller blocked on the creator would hold it at the gate
 * until the deadline, and fail the test). */
typedef struct {
  gint *returned;
  gint calls;
  gboolean timed_out;
} Gate;

static GBytes *
gated_creator (const char *key, gpointer data, GError **error)
{
  Gate *gate = data;
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  int n = g_atomic_int_add (&gate->calls, 1) + 1;
  g_autofree char *text = g_strdup_printf ("v%d", n);

  (void) key;
  (void) error;
  if (n > 1)
    while (g_atomic_int_get (gate->returned) < STAMPEDE_THREADS - 1)
      {
        if (g_get_monotonic_time () > deadline)
          {
            gate->timed_out = TRUE;
            break;
          }
        g_usleep (1000);
      }
  return bytes_of (text);
}

Test (get_or_create, stampede_on_an_expired_value)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 0.05, NULL);
  gint returned = 0;
  Gate gate = { &returned, 0, FALSE };
  Caller callers[STAMPEDE_THREADS];
  int fresh = 0, stale = 0;

  dogpile_clock_set_func (NULL, NULL);
  {
    g_autoptr (GBytes) first = NULL;

    cr_assert (dogpile_region_get_or_create (region, "hot", gated_creator,
                                             &gate, &first, NULL));
    cr_assert (bytes_equal (first, "v1"));
  }
  g_usleep (100000);
  run_stampede (region, gated_creator, &gate, &returned, callers);
  cr_assert_not (gate.timed_out,
                 "only %d of the other callers returned while the value "
                 "was regenerated",
                 g_atomic_int_get (&returned));
  cr_assert_eq (gate.calls, 2, "one regeneration, not %d", gate.calls - 1);
  for (int i = 0; i < STAMPEDE_THREADS; i++)
    {
      cr_assert (callers[i].ok);
      if (bytes_equal (callers[i].result, "v2"))
        fresh++;
      else
        {
          cr_assert (bytes_equal (callers[i].result, "v1"));
          stale++;
        }
      g_bytes_unref (callers[i].result);
    }
  cr_assert_eq (fresh, 1);
  cr_assert_eq (stale, STAMPEDE_THREADS - 1);
}

/* Three callers, a creator that always fails: each caller in turn gets
 * the mutex, calls it and gets its error (verified in Python). */
Test (get_or_create, failing_creator_each_waiter_retries)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  Counter counter = { .sleep_us = 20000, .fail_times = 1000 };
  GThread *threads[3];
  Caller callers[3];
  gint start = 0;

  dogpile_clock_set_func (NULL, NULL);
  for (int i = 0; i < 3; i++)
    {
      callers[i]
          = (Caller){ region, counting_creator, &counter, NULL, &start, NULL,
                      TRUE };
      threads[i] = g_thread_new ("failing", stampede_caller, &callers[i]);
    }
  g_atomic_int_set (&start, 1);
  for (int i = 0; i < 3; i++)
    {
      g_thread_join (threads[i]);
      cr_assert_not (callers[i].ok);
    }
  cr_assert_eq (counter.calls, 3);
}
