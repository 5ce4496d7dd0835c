/* test-function.c: cached functions, dogpile.cache's test_decorator.py
 * (spec 5.7): DecoratorTest, KeyGenerationTest, CacheDecoratorTest, plus
 * AsyncCreatorTest's decorator cases and the str() formatting of
 * arguments (spec items 51-55).  Times move on the test clock instead of
 * sleeping.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-util.h"

#define MODULE "tests.cache.test_decorator"

/* go(a, b) -> "<counter> <a> <b>", as the Python fixture's (val, a, b). */
typedef struct {
  gint counter;
} Go;

static GBytes *
go_creator (const DogpileArg *args, gsize n, gpointer data, GError **error)
{
  Go *go = data;
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "%d", ++go->counter);
  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *text = dogpile_arg_to_str (&args[i], NULL);

      g_string_append_printf (out, " %s", text);
    }
  return g_string_free_to_bytes (out);
}

/* go(*args) -> ["<counter> <arg>", ...] with one counter value per call. */
static gboolean
go_multi_creator (const DogpileArg *args, gsize n, GBytes **out, gpointer data,
                  GError **error)
{
  Go *go = data;
  int value = ++go->counter;

  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *arg = dogpile_arg_to_str (&args[i], NULL);
      g_autofree char *text = g_strdup_printf ("%d %s", value, arg);

      out[i] = bytes_of (text);
    }
  return TRUE;
}

static DogpileRegion *
memory_region (double expiration)
{
  return configured_region ("dogpile.cache.memory", expiration, NULL);
}

static void
assert_call (DogpileCachedFunction *fn, const DogpileArg *args, gsize n,
             const char *expected)
{
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_cached_function_call (fn, args, n, &got, &error), "%s",
             error ? error->message : "");
  cr_assert (bytes_equal (got, expected), "got %.*s, want %s",
             (int) g_bytes_get_size (got),
             (const char *) g_bytes_get_data (got, NULL), expected);
}

#define CALL(fn, expected, ...)                                               \
  G_STMT_START                                                                \
  {                                                                           \
    DogpileArg args_[] = { __VA_ARGS__ };                                     \
    assert_call ((fn), args_, G_N_ELEMENTS (args_), (expected));              \
  }                                                                           \
  G_STMT_END

static void
setup (void)
{
  use_test_clock (1000);
}

TestSuite (decorator, .init = setup);

/* _fixture: region expiration 0.25 */
static DogpileCachedFunction *
fixture (DogpileRegion *region, Go *go, const char *ns, double expiration)
{
  DogpileCachedFunction *fn = dogpile_cached_function_new (
      region, MODULE, "go", go_creator, go, NULL);

  dogpile_cached_function_set_namespace (fn, ns);
  dogpile_cached_function_set_expiration_time (fn, expiration);
  return fn;
}

Test (decorator, decorator)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn
      = fixture (region, &go, NULL, DOGPILE_EXPIRATION_DEFAULT);

  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  CALL (fn, "2 3 4", DOGPILE_INT (3), DOGPILE_INT (4));
  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  test_clock_value += 0.3;
  CALL (fn, "3 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
}

Test (decorator, decorator_namespace)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn
      = fixture (region, &go, "x", DOGPILE_EXPIRATION_DEFAULT);
  DogpileArg args[] = { DOGPILE_INT (1), DOGPILE_INT (2) };
  g_autofree char *key = dogpile_cached_function_dup_key (fn, args, 2, NULL);

  cr_assert_str_eq (key, MODULE ":go|x|1 2");
  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  CALL (fn, "2 3 4", DOGPILE_INT (3), DOGPILE_INT (4));
  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  test_clock_value += 0.3;
  CALL (fn, "3 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
}

Test (decorator, decorator_custom_expire)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn = fixture (region, &go, NULL, 0.5);

  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  CALL (fn, "2 3 4", DOGPILE_INT (3), DOGPILE_INT (4));
  test_clock_value += 0.3;
  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  test_clock_value += 0.3;
  CALL (fn, "3 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
}

static double
half_a_second (gpointer data)
{
  g_atomic_int_inc ((gint *) data);
  return 0.5;
}

static double
zero_seconds (gpointer data)
{
  return 0;
}

Test (decorator, decorator_expire_callable)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  gint asked = 0;
  g_autoptr (DogpileCachedFunction) fn
      = fixture (region, &go, NULL, DOGPILE_EXPIRATION_DEFAULT);

  dogpile_cached_function_set_expiration_func (fn, half_a_second, &asked,
                                               NULL);
  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  CALL (fn, "2 3 4", DOGPILE_INT (3), DOGPILE_INT (4));
  test_clock_value += 0.3;
  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  test_clock_value += 0.3;
  CALL (fn, "3 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  cr_assert_eq (asked, 4, "evaluated at every call");
}

Test (decorator, decorator_expire_callable_zero)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn
      = fixture (region, &go, NULL, DOGPILE_EXPIRATION_DEFAULT);

  dogpile_cached_function_set_expiration_func (fn, zero_seconds, NULL, NULL);
  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  test_clock_value += 0.01;
  CALL (fn, "2 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  test_clock_value += 0.01;
  CALL (fn, "3 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
}

Test (decorator, explicit_expire)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn = fixture (region, &go, NULL, 1);
  DogpileArg one_two[] = { DOGPILE_INT (1), DOGPILE_INT (2) };

  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  CALL (fn, "2 3 4", DOGPILE_INT (3), DOGPILE_INT (4));
  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  cr_assert (dogpile_cached_function_invalidate (fn, one_two, 2, NULL));
  CALL (fn, "3 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
}

Test (decorator, explicit_set)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn = fixture (region, &go, NULL, 1);
  DogpileArg one_two[] = { DOGPILE_INT (1), DOGPILE_INT (2) };
  DogpileArg one_three[] = { DOGPILE_INT (1), DOGPILE_INT (3) };
  g_autoptr (GBytes) five = bytes_of ("5");
  g_autoptr (GBytes) zero = bytes_of ("0");

  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  cr_assert (dogpile_cached_function_set (fn, five, one_two, 2, NULL));
  CALL (fn, "2 3 4", DOGPILE_INT (3), DOGPILE_INT (4));
  CALL (fn, "5", DOGPILE_INT (1), DOGPILE_INT (2));
  cr_assert (dogpile_cached_function_invalidate (fn, one_two, 2, NULL));
  CALL (fn, "3 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  cr_assert (dogpile_cached_function_set (fn, zero, one_three, 2, NULL));
  CALL (fn, "0", DOGPILE_INT (1), DOGPILE_INT (3));
}

Test (decorator, explicit_get)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn = fixture (region, &go, NULL, 1);
  DogpileArg one_two[] = { DOGPILE_INT (1), DOGPILE_INT (2) };
  DogpileArg two_one[] = { DOGPILE_INT (2), DOGPILE_INT (1) };
  GBytes *got = NULL;

  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  cr_assert (dogpile_cached_function_get (fn, one_two, 2, &got, NULL));
  cr_assert (bytes_equal (got, "1 1 2"));
  g_clear_pointer (&got, g_bytes_unref);
  cr_assert (dogpile_cached_function_get (fn, two_one, 2, &got, NULL));
  cr_assert_null (got);
  CALL (fn, "2 2 1", DOGPILE_INT (2), DOGPILE_INT (1));
  cr_assert (dogpile_cached_function_get (fn, two_one, 2, &got, NULL));
  cr_assert (bytes_equal (got, "2 2 1"));
  g_bytes_unref (got);
}

Test (decorator, get_uses_the_region_expiration)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn = fixture (region, &go, NULL, 1);
  DogpileArg one_two[] = { DOGPILE_INT (1), DOGPILE_INT (2) };
  g_autoptr (GBytes) got = NULL;

  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  test_clock_value += 0.5;
  cr_assert (dogpile_cached_function_get (fn, one_two, 2, &got, NULL));
  cr_assert_null (got);
  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
}

Test (decorator, explicit_refresh)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn = fixture (region, &go, NULL, 1);
  DogpileArg one_two[] = { DOGPILE_INT (1), DOGPILE_INT (2) };
  GBytes *got = NULL;

  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  cr_assert (dogpile_cached_function_refresh (fn, one_two, 2, &got, NULL));
  cr_assert (bytes_equal (got, "2 1 2"));
  g_clear_pointer (&got, g_bytes_unref);
  CALL (fn, "2 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  CALL (fn, "2 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  cr_assert (dogpile_cached_function_refresh (fn, one_two, 2, &got, NULL));
  cr_assert (bytes_equal (got, "3 1 2"));
  g_bytes_unref (got);
  CALL (fn, "3 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
}

Test (decorator, original)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn
      = fixture (region, &go, NULL, DOGPILE_EXPIRATION_DEFAULT);
  DogpileArg args[] = { DOGPILE_INT (1), DOGPILE_INT (2) };
  g_autoptr (GBytes) a = NULL;
  g_autoptr (GBytes) b = NULL;

  cr_assert (dogpile_cached_function_original (fn, args, 2, &a, NULL));
  cr_assert (dogpile_cached_function_original (fn, args, 2, &b, NULL));
  cr_assert (bytes_equal (a, "1 1 2"));
  cr_assert (bytes_equal (b, "2 1 2"), "the original is never cached");
}

/* my_key_generator: keyed on the first argument only */
static char *
first_argument_key (DogpileCachedFunction *fn, const DogpileArg *args, gsize n,
                    gpointer data, GError **error)
{
  g_autofree char *first = dogpile_arg_to_str (&args[0], NULL);

  return g_strconcat ("go_", first, NULL);
}

Test (decorator, decorator_key_generator)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn
      = fixture (region, &go, NULL, DOGPILE_EXPIRATION_DEFAULT);

  dogpile_cached_function_set_key_generator (fn, first_argument_key, NULL,
                                             NULL);
  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  CALL (fn, "2 3 4", DOGPILE_INT (3), DOGPILE_INT (4));
  CALL (fn, "1 1 2", DOGPILE_INT (1), DOGPILE_INT (3));
  test_clock_value += 0.3;
  CALL (fn, "3 1 3", DOGPILE_INT (1), DOGPILE_INT (3));
}

/* --- multi ----------------------------------------------------------- */

static DogpileCachedFunction *
multi_fixture (DogpileRegion *region, Go *go, double expiration)
{
  DogpileCachedFunction *fn = dogpile_cached_function_new_multi (
      region, MODULE, "go", go_multi_creator, go, NULL);

  dogpile_cached_function_set_expiration_time (fn, expiration);
  return fn;
}

static void
assert_multi (DogpileCachedFunction *fn, const DogpileArg *args, gsize n,
              gboolean call, const char *const *expected)
{
  g_autofree GBytes **got = g_new0 (GBytes *, n);
  g_autoptr (GError) error = NULL;

  if (call)
    cr_assert (dogpile_cached_function_call_multi (fn, args, n, got, &error),
               "%s", error ? error->message : "");
  else
    cr_assert (dogpile_cached_function_get_multi (fn, args, n, got, &error));
  for (gsize i = 0; i < n; i++)
    {
      cr_assert (bytes_equal (got[i], expected[i]), "slot %zu: want %s", i,
                 expected[i] ? expected[i] : "(none)");
      g_clear_pointer (&got[i], g_bytes_unref);
    }
}

#define MULTI(fn, call, expected, ...)                                        \
  G_STMT_START                                                                \
  {                                                                           \
    DogpileArg args_[] = { __VA_ARGS__ };                                     \
    const char *expected_[] = expected;                                       \
    assert_multi ((fn), args_, G_N_ELEMENTS (args_), (call), expected_);      \
  }                                                                           \
  G_STMT_END
#define L(...)                                                                \
  {                                                                           \
    __VA_ARGS__                                                               \
  }

Test (decorator, explicit_get_multi)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn = multi_fixture (region, &go, 1);

  MULTI (fn, TRUE, L ("1 1", "1 2"), DOGPILE_INT (1), DOGPILE_INT (2));
  MULTI (fn, FALSE, L ("1 1", "1 2"), DOGPILE_INT (1), DOGPILE_INT (2));
  MULTI (fn, FALSE, L (NULL, "1 1"), DOGPILE_INT (3), DOGPILE_INT (1));
  MULTI (fn, TRUE, L ("2 3", "1 1"), DOGPILE_INT (3), DOGPILE_INT (1));
  MULTI (fn, FALSE, L ("2 3", "1 1"), DOGPILE_INT (3), DOGPILE_INT (1));
}

static char **
failing_multi_keys (DogpileCachedFunction *function, const DogpileArg *args,
                    gsize n_args, gpointer user_data, GError **error)
{
  (void) function, (void) args, (void) n_args, (void) user_data;
  g_set_error_literal (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "no keys today");
  return NULL;
}

/* A failed get_multi leaves no slot holding what the caller had there. */
Test (decorator, get_multi_failing_clears_every_slot)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn = multi_fixture (region, &go, 1);
  DogpileArg args[] = { DOGPILE_INT (1), DOGPILE_INT (2) };
  g_autoptr (GBytes) stale = bytes_of ("stale");
  GBytes *got[2] = { stale, stale };
  g_autoptr (GError) error = NULL;

  dogpile_cached_function_set_multi_key_generator (fn, failing_multi_keys,
                                                   NULL, NULL);
  cr_assert_not (dogpile_cached_function_get_multi (fn, args, 2, got, &error));
  cr_assert_str_eq (error->message, "no keys today");
  cr_assert_null (got[0]);
  cr_assert_null (got[1]);
}

Test (decorator, explicit_set_multi)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn = multi_fixture (region, &go, 1);
  DogpileArg args[] = { DOGPILE_INT (1), DOGPILE_INT (2) };
  g_autoptr (GBytes) a = bytes_of ("1 5");
  g_autoptr (GBytes) b = bytes_of ("1 6");
  GBytes *values[] = { a, b };

  MULTI (fn, TRUE, L ("1 1", "1 2"), DOGPILE_INT (1), DOGPILE_INT (2));
  MULTI (fn, TRUE, L ("1 1", "1 2"), DOGPILE_INT (1), DOGPILE_INT (2));
  cr_assert (dogpile_cached_function_set_multi (fn, args, values, 2, NULL));
  MULTI (fn, TRUE, L ("1 5", "1 6"), DOGPILE_INT (1), DOGPILE_INT (2));
}

Test (decorator, explicit_refresh_multi)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn = multi_fixture (region, &go, 1);
  DogpileArg args[] = { DOGPILE_INT (1), DOGPILE_INT (2) };
  GBytes *got[2];

  MULTI (fn, TRUE, L ("1 1", "1 2"), DOGPILE_INT (1), DOGPILE_INT (2));
  MULTI (fn, TRUE, L ("1 1", "1 2"), DOGPILE_INT (1), DOGPILE_INT (2));
  cr_assert (dogpile_cached_function_refresh_multi (fn, args, 2, got, NULL));
  cr_assert (bytes_equal (got[0], "2 1") && bytes_equal (got[1], "2 2"));
  g_bytes_unref (got[0]);
  g_bytes_unref (got[1]);
  MULTI (fn, TRUE, L ("2 1", "2 2"), DOGPILE_INT (1), DOGPILE_INT (2));
  MULTI (fn, TRUE, L ("2 1", "2 2"), DOGPILE_INT (1), DOGPILE_INT (2));
}

/* my_key_generator returning the keys in reversed order */
static char **
reversed_keys (DogpileCachedFunction *fn, const DogpileArg *args, gsize n,
               gpointer data, GError **error)
{
  char **keys = g_new0 (char *, n + 1);

  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *text = dogpile_arg_to_str (&args[i], NULL);

      keys[n - 1 - i] = g_strconcat ("go_", text, NULL);
    }
  return keys;
}

Test (decorator, decorator_key_generator_multi)
{
  g_autoptr (DogpileRegion) region = memory_region (0.25);
  Go go = { 0 };
  g_autoptr (DogpileCachedFunction) fn
      = multi_fixture (region, &go, DOGPILE_EXPIRATION_DEFAULT);

  dogpile_cached_function_set_multi_key_generator (fn, reversed_keys, NULL,
                                                   NULL);
  MULTI (fn, TRUE, L ("1 1", "1 2"), DOGPILE_INT (1), DOGPILE_INT (2));
  MULTI (fn, FALSE, L ("1 1", "1 2"), DOGPILE_INT (1), DOGPILE_INT (2));
  MULTI (fn, FALSE, L ("1 2", NULL), DOGPILE_INT (3), DOGPILE_INT (1));
  MULTI (fn, TRUE, L ("1 2", "2 1"), DOGPILE_INT (3), DOGPILE_INT (1));
  MULTI (fn, FALSE, L ("1 2", "2 1"), DOGPILE_INT (3), DOGPILE_INT (1));
}

/* --- KeyGenerationTest ---------------------------------------------- */

/* KeyGenerationTest calls the generators themselves, as Python's does
 * (util.function_key_generator(None, one)(1, 2)): no binding of the call
 * to the signature, which only the decorated operations do. */
static DogpileKeyGeneratorFunc generator_under_test;

static GBytes *
unused_creator (const DogpileArg *args, gsize n, gpointer data, GError **error)
{
  return bytes_of ("x");
}

static DogpileCachedFunction *
one (const char *ns, DogpileKeyGeneratorFunc keygen)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  DogpileCachedFunction *fn = dogpile_cached_function_new (
      region, MODULE, "one", unused_creator, NULL, NULL);
  const char *names[] = { "a", "b" };

  dogpile_cached_function_set_namespace (fn, ns);
  dogpile_cached_function_set_parameters (fn, names, 2, NULL, 0);
  dogpile_cached_function_set_key_generator (fn, keygen, NULL, NULL);
  generator_under_test = keygen;
  return fn;
}

static char *
key_of (DogpileCachedFunction *fn, const DogpileArg *args, gsize n)
{
  g_autoptr (GError) error = NULL;
  char *key = (generator_under_test != NULL ? generator_under_test
                                            : dogpile_function_key_generator) (
      fn, args, n, NULL, &error);

  cr_assert_not_null (key, "%s", error ? error->message : "");
  return key;
}

#define ASSERT_KEY(fn, expected, ...)                                         \
  G_STMT_START                                                                \
  {                                                                           \
    DogpileArg args_[] = { __VA_ARGS__ };                                     \
    g_autofree char *key_ = key_of ((fn), args_, G_N_ELEMENTS (args_));       \
    cr_assert_str_eq (key_, (expected));                                      \
  }                                                                           \
  G_STMT_END

Test (decorator, default_keygen_kwargs_raises_value_error)
{
  g_autoptr (DogpileCachedFunction) fn = one (NULL, NULL);
  DogpileArg args[]
      = { DOGPILE_INT (1), DOGPILE_NAMED ("b", DOGPILE_INT (2)) };
  g_autoptr (GError) error = NULL;
  g_autofree char *key
      = dogpile_function_key_generator (fn, args, 2, NULL, &error);

  cr_assert_null (key);
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert_str_eq (error->message,
                    "dogpile.cache's default key creation function does not "
                    "accept keyword arguments.");
}

Test (decorator, keygen_fn)
{
  g_autoptr (DogpileCachedFunction) fn = one (NULL, NULL);
  g_autoptr (DogpileCachedFunction) ns = one ("mynamespace", NULL);

  ASSERT_KEY (fn, MODULE ":one|1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  ASSERT_KEY (fn, MODULE ":one|None 5", DOGPILE_NONE, DOGPILE_INT (5));
  {
    g_autofree char *none = key_of (fn, NULL, 0);

    cr_assert_str_eq (none, MODULE ":one|");
  }
  ASSERT_KEY (ns, MODULE ":one|mynamespace|1 2", DOGPILE_INT (1),
              DOGPILE_INT (2));
  ASSERT_KEY (ns, MODULE ":one|mynamespace|None 5", DOGPILE_NONE,
              DOGPILE_INT (5));
}

/* item 51: str() of each kind of argument */
Test (decorator, keys_format_arguments_as_python_str)
{
  g_autoptr (DogpileCachedFunction) fn = one (NULL, NULL);
  g_autoptr (GVariant) tuple
      = g_variant_ref_sink (g_variant_new ("(ii)", 1, 2));
  g_autoptr (GVariant) list = g_variant_ref_sink (g_variant_new ("ai", NULL));
  g_autoptr (GVariant) dict = NULL;
  g_autoptr (GVariant) strings = g_variant_ref_sink (
      g_variant_new ("(sssmsb)", "it's", "a\"b", "x\ny", NULL, TRUE));
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("ai"));
  g_variant_builder_add (&b, "i", 3);
  g_clear_pointer (&list, g_variant_unref);
  list = g_variant_ref_sink (g_variant_builder_end (&b));
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{si}"));
  g_variant_builder_add (&b, "{si}", "k", 1);
  dict = g_variant_ref_sink (g_variant_builder_end (&b));

  ASSERT_KEY (fn, MODULE ":one|1 a None 2.5 (1, 2) [3] {'k': 1}",
              DOGPILE_INT (1), DOGPILE_STRING ("a"), DOGPILE_NONE,
              DOGPILE_DOUBLE (2.5), DOGPILE_VARIANT (tuple),
              DOGPILE_VARIANT (list), DOGPILE_VARIANT (dict));
  ASSERT_KEY (fn, MODULE ":one|True False -7 18446744073709551615",
              DOGPILE_BOOL (TRUE), DOGPILE_BOOL (FALSE), DOGPILE_INT (-7),
              DOGPILE_UINT (G_MAXUINT64));
  ASSERT_KEY (fn, MODULE ":one|0.1 1e+16 1e-05 100.0 inf nan",
              DOGPILE_DOUBLE (0.1), DOGPILE_DOUBLE (1e16),
              DOGPILE_DOUBLE (1e-5), DOGPILE_DOUBLE (100.0),
              DOGPILE_DOUBLE (INFINITY), DOGPILE_DOUBLE (NAN));
  ASSERT_KEY (fn, MODULE ":one|b'\\x00|x' b\"it's\"",
              DOGPILE_BYTES ("\0|x", 3), DOGPILE_BYTES ("it's", 4));
  ASSERT_KEY (fn, MODULE ":one|(\"it's\", 'a\"b', 'x\\ny', None, True)",
              DOGPILE_VARIANT (strings));
}

Test (decorator, repr_to_str)
{
  g_autoptr (DogpileCachedFunction) fn = one (NULL, NULL);

  dogpile_cached_function_set_to_str (fn, dogpile_arg_to_repr, NULL, NULL);
  /* item 54: to_str=repr */
  ASSERT_KEY (fn, MODULE ":one|'x' 1", DOGPILE_STRING ("x"), DOGPILE_INT (1));
}

Test (decorator, unicode_keys)
{
  g_autoptr (DogpileCachedFunction) fn = one ("mynamespace", NULL);
  g_autoptr (DogpileCachedFunction) kw
      = one ("mynamespace", dogpile_kwarg_function_key_generator);

  ASSERT_KEY (fn, MODULE ":one|mynamespace|m\xc3\xa9il dr\xc3\xb4le",
              DOGPILE_STRING ("m\xc3\xa9il"), DOGPILE_STRING ("dr\xc3\xb4le"));
  ASSERT_KEY (kw, MODULE ":one|mynamespace|m\xc3\xa9il dr\xc3\xb4le",
              DOGPILE_STRING ("m\xc3\xa9il"), DOGPILE_STRING ("dr\xc3\xb4le"));
}

Test (decorator, kwarg_keygen_fn)
{
  g_autoptr (DogpileCachedFunction) fn
      = one (NULL, dogpile_kwarg_function_key_generator);
  g_autoptr (DogpileCachedFunction) ns
      = one ("mynamespace", dogpile_kwarg_function_key_generator);
  const char *k = MODULE ":one|1 2";

  ASSERT_KEY (fn, k, DOGPILE_INT (1), DOGPILE_INT (2));
  ASSERT_KEY (fn, k, DOGPILE_INT (1), DOGPILE_NAMED ("b", DOGPILE_INT (2)));
  ASSERT_KEY (fn, k, DOGPILE_NAMED ("a", DOGPILE_INT (1)),
              DOGPILE_NAMED ("b", DOGPILE_INT (2)));
  ASSERT_KEY (fn, k, DOGPILE_NAMED ("b", DOGPILE_INT (2)),
              DOGPILE_NAMED ("a", DOGPILE_INT (1)));
  ASSERT_KEY (ns, MODULE ":one|mynamespace|None 5", DOGPILE_NONE,
              DOGPILE_INT (5));
}

static DogpileCachedFunction *
one_with_defaults (const char *const *names, gsize n,
                   const DogpileArg *defaults, gsize n_defaults)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  DogpileCachedFunction *fn = dogpile_cached_function_new (
      region, MODULE, "one", unused_creator, NULL, NULL);

  dogpile_cached_function_set_parameters (fn, names, n, defaults, n_defaults);
  dogpile_cached_function_set_key_generator (
      fn, dogpile_kwarg_function_key_generator, NULL, NULL);
  generator_under_test = dogpile_kwarg_function_key_generator;
  return fn;
}

/* one(a, b=None) */
Test (decorator, kwarg_keygen_with_defaults_and_positional)
{
  const char *names[] = { "a", "b" };
  DogpileArg defaults[] = { DOGPILE_NONE };
  g_autoptr (DogpileCachedFunction) fn
      = one_with_defaults (names, 2, defaults, 1);
  const char *k = MODULE ":one|1 2";

  ASSERT_KEY (fn, k, DOGPILE_INT (1), DOGPILE_INT (2));
  ASSERT_KEY (fn, k, DOGPILE_INT (1), DOGPILE_NAMED ("b", DOGPILE_INT (2)));
  ASSERT_KEY (fn, k, DOGPILE_NAMED ("b", DOGPILE_INT (2)),
              DOGPILE_NAMED ("a", DOGPILE_INT (1)));
  ASSERT_KEY (fn, MODULE ":one|1 None", DOGPILE_NAMED ("a", DOGPILE_INT (1)));
}

/* one(a=True, b=None) */
Test (decorator, kwarg_keygen_all_defaults)
{
  const char *names[] = { "a", "b" };
  DogpileArg defaults[] = { DOGPILE_BOOL (TRUE), DOGPILE_NONE };
  g_autoptr (DogpileCachedFunction) fn
      = one_with_defaults (names, 2, defaults, 2);

  ASSERT_KEY (fn, MODULE ":one|1 2", DOGPILE_INT (1), DOGPILE_INT (2));
  ASSERT_KEY (fn, MODULE ":one|1 None", DOGPILE_NAMED ("a", DOGPILE_INT (1)));
  ASSERT_KEY (fn, MODULE ":one|1 None", DOGPILE_INT (1));
  {
    g_autofree char *none = key_of (fn, NULL, 0);

    cr_assert_str_eq (none, MODULE ":one|True None");
  }
  ASSERT_KEY (fn, MODULE ":one|True 2", DOGPILE_NAMED ("b", DOGPILE_INT (2)));
}

/* kw(a, b=2, **extra) called kw(1, c=5, a0=9): sorted a, a0, b, c */
Test (decorator, kwarg_keygen_extra_keywords_sort_in)
{
  const char *names[] = { "a", "b" };
  DogpileArg defaults[] = { DOGPILE_INT (2) };
  g_autoptr (DogpileCachedFunction) fn
      = one_with_defaults (names, 2, defaults, 1);
  DogpileArg too_many[]
      = { DOGPILE_INT (1), DOGPILE_INT (2), DOGPILE_INT (3) };
  g_autoptr (GError) error = NULL;
  g_autofree char *none = NULL;

  ASSERT_KEY (fn, MODULE ":one|1 9 2 5", DOGPILE_INT (1),
              DOGPILE_NAMED ("c", DOGPILE_INT (5)),
              DOGPILE_NAMED ("a0", DOGPILE_INT (9)));
  none = dogpile_kwarg_function_key_generator (fn, too_many, 3, NULL, &error);
  cr_assert_null (none);
  assert_error (error, DOGPILE_ERROR_VALIDATION);
}

/* Unlike Python's decorator, defaults apply the same way everywhere. */
Test (decorator, same_arguments_same_key_everywhere)
{
  const char *names[] = { "a", "b" };
  DogpileArg defaults[] = { DOGPILE_INT (2) };
  g_autoptr (DogpileCachedFunction) fn
      = one_with_defaults (names, 2, defaults, 1);
  DogpileArg short_args[] = { DOGPILE_INT (1) };
  g_autoptr (GBytes) value = bytes_of ("set");
  g_autoptr (GBytes) got = NULL;

  cr_assert (dogpile_cached_function_set (fn, value, short_args, 1, NULL));
  cr_assert (dogpile_cached_function_call (fn, short_args, 1, &got, NULL));
  cr_assert (bytes_equal (got, "set"));
}

/* A decorated call binds its arguments to the signature first, as
 * Python's decorator does: fn(1) on fn(a, b=2) is keyed "|1 2", the key a
 * Python service calling fn(1) uses; here get, set and invalidate bind
 * the same way (Python's do not). */
static GBytes *
echo_creator (const DogpileArg *args, gsize n, gpointer data, GError **error)
{
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *text = dogpile_arg_to_str (&args[i], NULL);

      g_string_append_printf (out, "%s%s", i > 0 ? " " : "", text);
    }
  return g_string_free_to_bytes (out);
}

static DogpileCachedFunction *
signature_fn (DogpileRegion *region, const char *name,
              const char *const *names, gsize n, const DogpileArg *defaults,
              gsize n_defaults)
{
  DogpileCachedFunction *fn = dogpile_cached_function_new (
      region, MODULE, name, echo_creator, NULL, NULL);

  dogpile_cached_function_set_parameters (fn, names, n, defaults, n_defaults);
  return fn;
}

Test (decorator, calls_bind_defaults_and_keywords_like_python)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  const char *names[] = { "a", "b" };
  DogpileArg defaults[] = { DOGPILE_INT (2) };
  g_autoptr (DogpileCachedFunction) fn
      = signature_fn (region, "one", names, 2, defaults, 1);
  DogpileArg short_args[] = { DOGPILE_INT (1) };
  DogpileArg by_name[] = { DOGPILE_NAMED ("a", DOGPILE_INT (1)) };
  DogpileArg swapped[] = { DOGPILE_NAMED ("b", DOGPILE_INT (5)),
                           DOGPILE_NAMED ("a", DOGPILE_INT (1)) };
  g_autofree char *key
      = dogpile_cached_function_dup_key (fn, short_args, 1, NULL);
  g_autofree char *named_key
      = dogpile_cached_function_dup_key (fn, by_name, 1, NULL);
  g_autofree char *swapped_key
      = dogpile_cached_function_dup_key (fn, swapped, 2, NULL);
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GBytes) stored = NULL;
  g_autoptr (GBytes) after = NULL;

  cr_assert_str_eq (key, MODULE ":one|1 2");
  cr_assert_str_eq (named_key, MODULE ":one|1 2");
  cr_assert_str_eq (swapped_key, MODULE ":one|1 5");
  /* the creator gets the bound arguments too */
  cr_assert (dogpile_cached_function_call (fn, short_args, 1, &value, NULL));
  cr_assert (bytes_equal (value, "1 2"));
  cr_assert (dogpile_region_get (region, MODULE ":one|1 2", &stored, NULL));
  cr_assert (bytes_equal (stored, "1 2"));
  /* invalidate(1) removes what fn(1) stored (Python's would miss it) */
  cr_assert (dogpile_cached_function_invalidate (fn, by_name, 1, NULL));
  cr_assert (dogpile_region_get (region, MODULE ":one|1 2", &after, NULL));
  cr_assert_null (after);
}

Test (decorator, binding_errors_name_the_argument)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  const char *names[] = { "a", "b" };
  DogpileArg defaults[] = { DOGPILE_INT (2) };
  g_autoptr (DogpileCachedFunction) fn
      = signature_fn (region, "one", names, 2, defaults, 1);
  DogpileArg twice[]
      = { DOGPILE_INT (1), DOGPILE_NAMED ("a", DOGPILE_INT (1)) };
  g_autoptr (GError) missing = NULL;
  g_autoptr (GError) duplicate = NULL;
  g_autoptr (GBytes) value = NULL;

  cr_assert_null (dogpile_cached_function_dup_key (fn, NULL, 0, &missing));
  assert_error (missing, DOGPILE_ERROR_VALIDATION);
  cr_assert_str_eq (missing->message,
                    MODULE ":one: missing a required argument: 'a'");
  cr_assert_not (
      dogpile_cached_function_call (fn, twice, 2, &value, &duplicate));
  assert_error (duplicate, DOGPILE_ERROR_VALIDATION);
  cr_assert_str_eq (duplicate->message,
                    MODULE ":one: multiple values for argument 'a'");
}

/* AsyncCreatorTest.test_fn_decorator_with_kw: go(x, **kw) called with
 * x=1, foo=... fails in the default key generator; go2(x) called with x=1
 * works, the keyword taking x's place. */
Test (decorator, fn_decorator_with_kw)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  const char *x[] = { "x" };
  g_autoptr (DogpileCachedFunction) go
      = signature_fn (region, "go", x, 1, NULL, 0);
  g_autoptr (DogpileCachedFunction) go2
      = signature_fn (region, "go2", x, 1, NULL, 0);
  DogpileArg with_extra[] = { DOGPILE_NAMED ("x", DOGPILE_INT (1)),
                              DOGPILE_NAMED ("foo", DOGPILE_STRING ("bar")) };
  DogpileArg only_x[] = { DOGPILE_NAMED ("x", DOGPILE_INT (1)) };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) refused = NULL;
  g_autoptr (GBytes) value = NULL;
  g_autofree char *key = NULL;

  cr_assert_not (
      dogpile_cached_function_call (go, with_extra, 2, &refused, &error));
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert_str_eq (error->message,
                    "dogpile.cache's default key creation function does not "
                    "accept keyword arguments.");
  cr_assert (dogpile_cached_function_call (go2, only_x, 1, &value, NULL));
  cr_assert (bytes_equal (value, "1"));
  key = dogpile_cached_function_dup_key (go2, only_x, 1, NULL);
  cr_assert_str_eq (key, MODULE ":go2|1");
}

Test (decorator, self_and_cls_are_not_keyed)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  g_autoptr (DogpileCachedFunction) fn = dogpile_cached_function_new (
      region, MODULE, "method", unused_creator, NULL, NULL);
  const char *names[] = { "self", "x" };

  dogpile_cached_function_set_parameters (fn, names, 2, NULL, 0);
  ASSERT_KEY (fn, MODULE ":method|7", DOGPILE_STRING ("<object>"),
              DOGPILE_INT (7));
}

Test (decorator, multi_keygen_fn)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  g_autoptr (DogpileCachedFunction) fn = dogpile_cached_function_new_multi (
      region, MODULE, "one", go_multi_creator, NULL, NULL);
  DogpileArg args[] = { DOGPILE_INT (1), DOGPILE_INT (2) };
  DogpileArg accented[]
      = { DOGPILE_STRING ("m\xc3\xa9il"), DOGPILE_STRING ("dr\xc3\xb4le") };
  g_auto (GStrv) keys
      = dogpile_function_multi_key_generator (fn, args, 2, NULL, NULL);
  g_auto (GStrv) unicode_keys = NULL;

  cr_assert_str_eq (keys[0], MODULE ":one|1");
  cr_assert_str_eq (keys[1], MODULE ":one|2");
  dogpile_cached_function_set_namespace (fn, "mynamespace");
  unicode_keys
      = dogpile_function_multi_key_generator (fn, accented, 2, NULL, NULL);
  cr_assert_str_eq (unicode_keys[0], MODULE ":one|mynamespace|m\xc3\xa9il");
  cr_assert_str_eq (unicode_keys[1], MODULE ":one|mynamespace|dr\xc3\xb4le");
}

Test (decorator, sha1_of_a_key)
{
  g_autoptr (DogpileCachedFunction) fn = one (NULL, NULL);
  DogpileArg args[] = { DOGPILE_INT (1), DOGPILE_INT (2) };
  g_autofree char *key = key_of (fn, args, 2);
  g_autofree char *sha = dogpile_sha1_mangle_key (key, NULL);

  cr_assert_str_eq (sha, "aead490a8ace2d69a00160f1fd8fd8a16552c24f");
}

/* --- CacheDecoratorTest ------------------------------------------------ */

/* generate(x, y) = next(counter) + x + y */
static GBytes *
generate (const DogpileArg *args, gsize n, gpointer data, GError **error)
{
  gint *counter = data;
  g_autofree char *text = g_strdup_printf (
      "%" G_GINT64_FORMAT, ++*counter + args[n - 2].v.i + args[n - 1].v.i);

  return bytes_of (text);
}

Test (decorator, cache_arg)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  gint counter = 0;
  g_autoptr (DogpileCachedFunction) fn = dogpile_cached_function_new (
      region, MODULE, "generate", generate, &counter, NULL);
  DogpileArg one_two[] = { DOGPILE_INT (1), DOGPILE_INT (2) };

  CALL (fn, "4", DOGPILE_INT (1), DOGPILE_INT (2));
  CALL (fn, "5", DOGPILE_INT (2), DOGPILE_INT (1));
  CALL (fn, "4", DOGPILE_INT (1), DOGPILE_INT (2));
  cr_assert (dogpile_cached_function_invalidate (fn, one_two, 2, NULL));
  CALL (fn, "6", DOGPILE_INT (1), DOGPILE_INT (2));
}

/* Bar.generate calls Foo.generate inside its creator: different
 * namespaces, so no self-deadlock. */
typedef struct {
  gint counter;
  DogpileCachedFunction *foo;
} Reentrant;

static GBytes *
bar_generate (const DogpileArg *args, gsize n, gpointer data, GError **error)
{
  Reentrant *r = data;
  GBytes *value = NULL;

  if (!dogpile_cached_function_call (r->foo, args, n, &value, error))
    return NULL;
  return value;
}

Test (decorator, reentrant_call)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  Reentrant r = { 0 };
  g_autoptr (DogpileCachedFunction) foo = dogpile_cached_function_new (
      region, MODULE, "generate", generate, &r.counter, NULL);
  g_autoptr (DogpileCachedFunction) bar = dogpile_cached_function_new (
      region, MODULE, "generate", bar_generate, &r, NULL);
  const char *names[] = { "cls", "x", "y" };

  dogpile_cached_function_set_namespace (foo, "foo");
  dogpile_cached_function_set_namespace (bar, "bar");
  dogpile_cached_function_set_parameters (foo, names, 3, NULL, 0);
  dogpile_cached_function_set_parameters (bar, names, 3, NULL, 0);
  r.foo = foo;
  CALL (bar, "4", DOGPILE_STRING ("Bar"), DOGPILE_INT (1), DOGPILE_INT (2));
}

/* generate(*args) = ["%d %d" % (arg, next(counter)) for arg in args] */
static gboolean
generate_multi (const DogpileArg *args, gsize n, GBytes **out, gpointer data,
                GError **error)
{
  gint *counter = data;

  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT " %d",
                                               args[i].v.i, ++*counter);

      out[i] = bytes_of (text);
    }
  return TRUE;
}

/* the asdict version leaves 10 out */
static gboolean
generate_dict (const DogpileArg *args, gsize n, GBytes **out, gpointer data,
               GError **error)
{
  gint *counter = data;

  for (gsize i = 0; i < n; i++)
    if (args[i].v.i != 10)
      {
        g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT " %d",
                                                 args[i].v.i, ++*counter);

        out[i] = bytes_of (text);
      }
  return TRUE;
}

static void
set_multi (DogpileCachedFunction *fn, gint64 a, const char *va, gint64 b,
           const char *vb)
{
  DogpileArg args[] = { DOGPILE_INT (a), DOGPILE_INT (b) };
  g_autoptr (GBytes) x = bytes_of (va);
  g_autoptr (GBytes) y = bytes_of (vb);
  GBytes *values[] = { x, y };

  cr_assert (dogpile_cached_function_set_multi (fn, args, values, 2, NULL));
}

Test (decorator, multi)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  gint counter = 0;
  g_autoptr (DogpileCachedFunction) fn = dogpile_cached_function_new_multi (
      region, MODULE, "generate", generate_multi, &counter, NULL);
  DogpileArg two[] = { DOGPILE_INT (2) };

  MULTI (fn, TRUE, L ("2 2", "8 3", "10 1"), DOGPILE_INT (2), DOGPILE_INT (8),
         DOGPILE_INT (10));
  MULTI (fn, TRUE, L ("2 2", "9 4", "10 1"), DOGPILE_INT (2), DOGPILE_INT (9),
         DOGPILE_INT (10));
  cr_assert (dogpile_cached_function_invalidate_multi (fn, two, 1, NULL));
  MULTI (fn, TRUE, L ("2 5", "7 6", "10 1"), DOGPILE_INT (2), DOGPILE_INT (7),
         DOGPILE_INT (10));
  set_multi (fn, 7, "18", 10, "15");
  MULTI (fn, TRUE, L ("2 5", "18", "15"), DOGPILE_INT (2), DOGPILE_INT (7),
         DOGPILE_INT (10));
}

Test (decorator, multi_namespace_keys)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  gint counter = 0;
  g_autoptr (DogpileCachedFunction) fn = dogpile_cached_function_new_multi (
      region, MODULE, "generate", generate_multi, &counter, NULL);
  const char *expected[]
      = { MODULE ":generate|foo|10", MODULE ":generate|foo|2",
          MODULE ":generate|foo|8", MODULE ":generate|foo|9" };

  dogpile_cached_function_set_namespace (fn, "foo");
  MULTI (fn, TRUE, L ("2 2", "8 3", "10 1"), DOGPILE_INT (2), DOGPILE_INT (8),
         DOGPILE_INT (10));
  MULTI (fn, TRUE, L ("2 2", "9 4", "10 1"), DOGPILE_INT (2), DOGPILE_INT (9),
         DOGPILE_INT (10));
  for (int i = 0; i < 4; i++)
    {
      g_autoptr (GBytes) raw = NULL;

      cr_assert (dogpile_backend_get (
          dogpile_region_get_actual_backend (region, NULL), expected[i], &raw,
          NULL));
      cr_assert_not_null (raw, "%s", expected[i]);
    }
}

Test (decorator, multi_asdict)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  gint counter = 0;
  g_autoptr (DogpileCachedFunction) fn = dogpile_cached_function_new_multi (
      region, MODULE, "generate", generate_multi, &counter, NULL);
  DogpileArg two[] = { DOGPILE_INT (2) };
  DogpileArg two_seven[] = { DOGPILE_INT (2), DOGPILE_INT (7) };
  GBytes *got[2];

  dogpile_cached_function_set_asdict (fn, TRUE);
  MULTI (fn, TRUE, L ("2 2", "8 3", "10 1"), DOGPILE_INT (2), DOGPILE_INT (8),
         DOGPILE_INT (10));
  MULTI (fn, TRUE, L ("2 2", "9 4", "10 1"), DOGPILE_INT (2), DOGPILE_INT (9),
         DOGPILE_INT (10));
  cr_assert (dogpile_cached_function_invalidate_multi (fn, two, 1, NULL));
  MULTI (fn, TRUE, L ("2 5", "7 6", "10 1"), DOGPILE_INT (2), DOGPILE_INT (7),
         DOGPILE_INT (10));
  set_multi (fn, 7, "18", 10, "15");
  MULTI (fn, TRUE, L ("2 5", "18", "15"), DOGPILE_INT (2), DOGPILE_INT (7),
         DOGPILE_INT (10));
  cr_assert (
      dogpile_cached_function_refresh_multi (fn, two_seven, 2, got, NULL));
  cr_assert (bytes_equal (got[0], "2 7") && bytes_equal (got[1], "7 8"));
  g_bytes_unref (got[0]);
  g_bytes_unref (got[1]);
  MULTI (fn, TRUE, L ("2 7", "7 8", "15"), DOGPILE_INT (2), DOGPILE_INT (7),
         DOGPILE_INT (10));
}

Test (decorator, multi_asdict_keys_missing)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  gint counter = 0;
  g_autoptr (DogpileCachedFunction) fn = dogpile_cached_function_new_multi (
      region, MODULE, "generate", generate_dict, &counter, NULL);
  DogpileArg two[] = { DOGPILE_INT (2) };
  DogpileArg ten[] = { DOGPILE_INT (10) };
  GBytes *cached = NULL;

  dogpile_cached_function_set_asdict (fn, TRUE);
  MULTI (fn, TRUE, L ("2 1", "8 2", NULL), DOGPILE_INT (2), DOGPILE_INT (8),
         DOGPILE_INT (10));
  MULTI (fn, TRUE, L ("2 1", "9 3", NULL), DOGPILE_INT (2), DOGPILE_INT (9),
         DOGPILE_INT (10));
  cr_assert (dogpile_cached_function_get_multi (fn, ten, 1, &cached, NULL));
  cr_assert_null (cached, "a missing result is not cached");
  cr_assert (dogpile_cached_function_invalidate_multi (fn, two, 1, NULL));
  MULTI (fn, TRUE, L ("2 4", "7 5", NULL), DOGPILE_INT (2), DOGPILE_INT (7),
         DOGPILE_INT (10));
  set_multi (fn, 7, "18", 10, "15");
  MULTI (fn, TRUE, L ("2 4", "18", "15"), DOGPILE_INT (2), DOGPILE_INT (7),
         DOGPILE_INT (10));
}

static gboolean
not_an_eight (GBytes *value, gpointer data)
{
  return !(g_bytes_get_size (value) >= 2
           && memcmp (g_bytes_get_data (value, NULL), "8 ", 2) == 0);
}

Test (decorator, multi_asdict_keys_missing_existing_cache_fn)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  gint counter = 0;
  g_autoptr (DogpileCachedFunction) fn = dogpile_cached_function_new_multi (
      region, MODULE, "generate", generate_dict, &counter, NULL);
  DogpileArg two[] = { DOGPILE_INT (2) };

  dogpile_cached_function_set_asdict (fn, TRUE);
  dogpile_cached_function_set_should_cache (fn, not_an_eight, NULL, NULL);
  MULTI (fn, TRUE, L ("2 1", "8 2", NULL), DOGPILE_INT (2), DOGPILE_INT (8),
         DOGPILE_INT (10));
  MULTI (fn, TRUE, L ("2 1", "8 3", NULL), DOGPILE_INT (2), DOGPILE_INT (8),
         DOGPILE_INT (10));
  MULTI (fn, TRUE, L ("2 1", "8 4", NULL), DOGPILE_INT (2), DOGPILE_INT (8),
         DOGPILE_INT (10));
  MULTI (fn, TRUE, L ("2 1", "9 5", NULL), DOGPILE_INT (2), DOGPILE_INT (9),
         DOGPILE_INT (10));
  cr_assert (dogpile_cached_function_invalidate_multi (fn, two, 1, NULL));
  MULTI (fn, TRUE, L ("2 6", "7 7", NULL), DOGPILE_INT (2), DOGPILE_INT (7),
         DOGPILE_INT (10));
  set_multi (fn, 7, "18", 10, "15");
  MULTI (fn, TRUE, L ("2 6", "18", "15"), DOGPILE_INT (2), DOGPILE_INT (7),
         DOGPILE_INT (10));
}

/* Unlike dogpile.cache, a receiver does not shift the arguments. */
static gboolean
method_multi (const DogpileArg *args, gsize n, GBytes **out, gpointer data,
              GError **error)
{
  for (gsize i = 1; i < n; i++)
    {
      g_autofree char *text
          = g_strdup_printf ("%s:%" G_GINT64_FORMAT, args[0].v.s, args[i].v.i);

      out[i - 1] = bytes_of (text);
    }
  return TRUE;
}

Test (decorator, multi_method_keeps_its_receiver_apart)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  g_autoptr (DogpileCachedFunction) fn = dogpile_cached_function_new_multi (
      region, MODULE, "method", method_multi, NULL, NULL);
  const char *names[] = { "self" };

  DogpileArg args[]
      = { DOGPILE_STRING ("obj"), DOGPILE_INT (1), DOGPILE_INT (2) };
  GBytes *got[2];

  dogpile_cached_function_set_parameters (fn, names, 1, NULL, 0);
  /* one value per keyed argument: the receiver has none */
  cr_assert (dogpile_cached_function_call_multi (fn, args, 3, got, NULL));
  cr_assert (bytes_equal (got[0], "obj:1") && bytes_equal (got[1], "obj:2"));
  g_bytes_unref (got[0]);
  g_bytes_unref (got[1]);
}

/* function_multi_key_generator drops a first `self`/`cls` argument, as
 * the single-key generator does; a custom generator sees the receiver. */
Test (decorator, multi_keygen_drops_self)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  g_autoptr (DogpileCachedFunction) fn = dogpile_cached_function_new_multi (
      region, MODULE, "method", method_multi, NULL, NULL);
  const char *names[] = { "self" };
  DogpileArg args[]
      = { DOGPILE_STRING ("<object>"), DOGPILE_INT (1), DOGPILE_INT (2) };
  g_auto (GStrv) keys = NULL;

  dogpile_cached_function_set_parameters (fn, names, 1, NULL, 0);
  keys = dogpile_function_multi_key_generator (fn, args, 3, NULL, NULL);
  cr_assert_eq (g_strv_length (keys), 2);
  cr_assert_str_eq (keys[0], MODULE ":method|1");
  cr_assert_str_eq (keys[1], MODULE ":method|2");
}

static gint receivers_seen;

static char **
receiver_keygen (DogpileCachedFunction *function, const DogpileArg *args,
                 gsize n_args, gpointer user_data, GError **error)
{
  char **keys = g_new0 (char *, n_args);

  if (n_args > 0 && args[0].type == DOGPILE_ARG_TYPE_STRING
      && strcmp (args[0].v.s, "obj") == 0)
    g_atomic_int_inc (&receivers_seen);
  for (gsize i = 1; i < n_args; i++)
    keys[i - 1] = g_strdup_printf ("k%" G_GINT64_FORMAT, args[i].v.i);
  return keys;
}

Test (decorator, custom_multi_keygen_sees_the_receiver)
{
  g_autoptr (DogpileRegion) region = memory_region (60);
  g_autoptr (DogpileCachedFunction) fn = dogpile_cached_function_new_multi (
      region, MODULE, "method", method_multi, NULL, NULL);
  const char *names[] = { "self" };
  DogpileArg args[]
      = { DOGPILE_STRING ("obj"), DOGPILE_INT (1), DOGPILE_INT (2) };
  GBytes *got[2];
  g_autoptr (GBytes) stored = NULL;

  dogpile_cached_function_set_parameters (fn, names, 1, NULL, 0);
  dogpile_cached_function_set_multi_key_generator (fn, receiver_keygen, NULL,
                                                   NULL);
  cr_assert (dogpile_cached_function_call_multi (fn, args, 3, got, NULL));
  cr_assert_eq (receivers_seen, 1);
  cr_assert (dogpile_region_get (region, "k2", &stored, NULL));
  cr_assert (bytes_equal (stored, "obj:2"));
  g_bytes_unref (got[0]);
  g_bytes_unref (got[1]);
}

/* AsyncCreatorTest.test_fn_decorator: after a soft invalidation the
 * runner gets the decorated function's key. */
typedef struct {
  gint calls;
  char *key;
} RunnerLog;

static void
inline_runner (DogpileAsyncTask *task, gpointer data)
{
  RunnerLog *log = data;

  log->calls++;
  g_free (log->key);
  log->key = g_strdup (dogpile_async_task_get_key (task));
  cr_assert (dogpile_async_task_run (task, NULL));
  dogpile_async_task_unref (task);
}

static GBytes *
sum_creator (const DogpileArg *args, gsize n, gpointer data, GError **error)
{
  g_autofree char *text
      = g_strdup_printf ("%" G_GINT64_FORMAT, args[0].v.i + args[1].v.i);

  return bytes_of (text);
}

Test (decorator, async_runner_gets_the_function_key)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new (NULL);
  RunnerLog log = { 0 };
  g_autoptr (DogpileCachedFunction) fn = NULL;

  dogpile_region_set_async_creation_runner (region, inline_runner, &log, NULL);
  cr_assert (dogpile_region_configure (region, "dogpile.cache.memory", 1, NULL,
                                       0, NULL));
  fn = dogpile_cached_function_new (region, "tests.cache.test_region", "go",
                                    sum_creator, NULL, NULL);
  CALL (fn, "3", DOGPILE_INT (1), DOGPILE_INT (2));
  test_clock_value += 0.1;
  dogpile_region_invalidate (region, FALSE);
  CALL (fn, "3", DOGPILE_INT (1), DOGPILE_INT (2));
  cr_assert_eq (log.calls, 1);
  cr_assert_str_eq (log.key, "tests.cache.test_region:go|1 2");
  g_free (log.key);
}
