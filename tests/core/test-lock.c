/* test-lock.c: DogpileLock on its own (spec 2.1 and 2.2's outcome table,
 * tests/test_lock.py's RaceConditionTest, test_backgrounding.py) and the
 * name registry (tests/util/test_nameregistry.py).
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-util.h"

/* A scripted value source: what get_value returns, counting calls. */
typedef struct {
  const char *value; /* NULL: no value */
  double created_time;
  const char *new_value; /* what create makes */
  gboolean create_fails;
  gint get_calls;
  gint create_calls;
  gint async_calls;
  DogpileMutex *async_mutex; /* what async_create received */
  gboolean async_releases;
} Script;

static gboolean
script_get (gpointer data, GBytes **out_value, double *out_created,
            GError **error)
{
  Script *s = data;

  g_atomic_int_inc (&s->get_calls);
  *out_value = s->value != NULL ? bytes_of (s->value) : NULL;
  *out_created = s->created_time;
  return TRUE;
}

static gboolean
script_create (gpointer data, GBytes **out_value, double *out_created,
               GError **error)
{
  Script *s = data;

  g_atomic_int_inc (&s->create_calls);
  if (s->create_fails)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "boom");
      return FALSE;
    }
  *out_value = bytes_of (s->new_value);
  *out_created = dogpile_clock_now ();
  return TRUE;
}

static gboolean
script_async (gpointer data, DogpileMutex *mutex, GError **error)
{
  Script *s = data;

  g_atomic_int_inc (&s->async_calls);
  s->async_mutex = mutex;
  if (s->async_releases)
    return dogpile_mutex_release (mutex, error);
  return TRUE;
}

static const DogpileLockFuncs sync_funcs = { script_get, script_create, NULL };
static const DogpileLockFuncs async_funcs
    = { script_get, script_create, script_async };

static GBytes *
enter (DogpileMutex *mutex, const DogpileLockFuncs *funcs, Script *s,
       double expiration, GError **error)
{
  g_autoptr (DogpileLock) lock
      = dogpile_lock_new (mutex, funcs, s, expiration);
  GBytes *value = NULL;

  dogpile_lock_enter (lock, &value, error);
  return value;
}

TestSuite (lock, .init = NULL);

Test (lock, fresh_value_never_touches_the_mutex)
{
  g_autoptr (DogpileMutex) mutex = dogpile_mutex_new_local ();
  Script s = { .value = "v", .created_time = 0, .new_value = "new" };
  g_autoptr (GBytes) got = NULL;

  use_test_clock (100);
  s.created_time = 95;
  cr_assert (
      mutex_acquire_ok (mutex, TRUE)); /* even held, a fresh value is served */
  got = enter (mutex, &sync_funcs, &s, 10, NULL);
  cr_assert (bytes_equal (got, "v"));
  cr_assert_eq (s.get_calls, 1);
  cr_assert_eq (s.create_calls, 0);
}

Test (lock, expired_and_free_regenerates)
{
  g_autoptr (DogpileMutex) mutex = dogpile_mutex_new_local ();
  Script s = { .value = "old", .created_time = 80, .new_value = "new" };
  g_autoptr (GBytes) got = NULL;

  use_test_clock (100);
  got = enter (mutex, &sync_funcs, &s, 10, NULL);
  cr_assert (bytes_equal (got, "new"));
  cr_assert_eq (s.create_calls, 1);
  cr_assert_not (mutex_is_locked (mutex));
}

Test (lock, expired_and_held_returns_stale_at_once)
{
  g_autoptr (DogpileMutex) mutex = dogpile_mutex_new_local ();
  Script s = { .value = "old", .created_time = 80, .new_value = "new" };
  g_autoptr (GBytes) got = NULL;

  use_test_clock (100);
  cr_assert (mutex_acquire_ok (mutex, TRUE));
  got = enter (mutex, &sync_funcs, &s, 10, NULL);
  cr_assert (bytes_equal (got, "old"));
  cr_assert_eq (s.create_calls, 0);
}

Test (lock, no_value_creates)
{
  g_autoptr (DogpileMutex) mutex = dogpile_mutex_new_local ();
  Script s = { .value = NULL, .new_value = "made" };
  g_autoptr (GBytes) got = NULL;

  got = enter (mutex, &sync_funcs, &s, DOGPILE_EXPIRATION_NONE, NULL);
  cr_assert (bytes_equal (got, "made"));
  /* Read, then re-read after taking the mutex. */
  cr_assert_eq (s.get_calls, 2);
  cr_assert_eq (s.create_calls, 1);
}

Test (lock, never_expires_by_age)
{
  g_autoptr (DogpileMutex) mutex = dogpile_mutex_new_local ();
  Script s = { .value = "old", .created_time = 1, .new_value = "new" };
  g_autoptr (GBytes) got = NULL;

  use_test_clock (1e9);
  got = enter (mutex, &sync_funcs, &s, DOGPILE_EXPIRATION_NONE, NULL);
  cr_assert (bytes_equal (got, "old"));
}

/* RaceConditionTest.test_no_double_get_on_expired: an expired value whose
 * mutex was taken without waiting is not read again. */
Test (lock, no_double_get_on_expired)
{
  g_autoptr (DogpileMutex) mutex = dogpile_mutex_new_local ();
  Script s
      = { .value = "the value", .created_time = 10, .new_value = "the value" };
  g_autoptr (GBytes) got = NULL;

  use_test_clock (22);
  got = enter (mutex, &sync_funcs, &s, 10, NULL);
  cr_assert (bytes_equal (got, "the value"));
  cr_assert_eq (s.get_calls, 1);
  cr_assert_eq (s.create_calls, 1);
}

/* test_backgrounding: the async creator gets the mutex, the caller the
 * stale value; the creator then releases it. */
Test (lock, async_creator_owns_the_mutex)
{
  g_autoptr (DogpileMutex) mutex = dogpile_mutex_new_local ();
  Script s = { .value = "value", .created_time = 1, .new_value = "x" };
  g_autoptr (GBytes) got = NULL;

  use_test_clock (3);
  got = enter (mutex, &async_funcs, &s, 1, NULL);
  cr_assert (bytes_equal (got, "value"));
  cr_assert_eq (s.async_calls, 1);
  cr_assert_eq (s.async_mutex, mutex);
  cr_assert_eq (s.create_calls, 0);
  cr_assert (mutex_is_locked (mutex),
             "held until the async creator releases it");
  cr_assert (dogpile_mutex_release (mutex, NULL));
}

Test (lock, async_creator_is_not_used_without_a_value)
{
  g_autoptr (DogpileMutex) mutex = dogpile_mutex_new_local ();
  Script s = { .value = NULL, .new_value = "made" };
  g_autoptr (GBytes) got = NULL;

  got = enter (mutex, &async_funcs, &s, 1, NULL);
  cr_assert (bytes_equal (got, "made"));
  cr_assert_eq (s.async_calls, 0);
  cr_assert_not (mutex_is_locked (mutex));
}

Test (lock, creator_error_releases_the_mutex)
{
  g_autoptr (DogpileMutex) mutex = dogpile_mutex_new_local ();
  Script s = { .value = NULL, .create_fails = TRUE };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) got = NULL;

  got = enter (mutex, &sync_funcs, &s, 1, &error);
  cr_assert_null (got);
  cr_assert (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_FAILED));
  cr_assert_not (mutex_is_locked (mutex));
}

/* A blocking acquire that gives up (a distributed lock's timeout) must not
 * let the creator run unlocked (Python's quirk, spec 0 item 8). */
static gboolean
give_up_acquire (gpointer d, gboolean wait, gboolean *out, GError **error)
{
  *out = FALSE;
  return TRUE;
}

static gboolean
never_release (gpointer d, GError **error)
{
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK, "not held");
  return FALSE;
}

static gboolean
never_locked (gpointer d, gboolean *out, GError **error)
{
  *out = TRUE;
  return TRUE;
}

static const DogpileMutexFuncs timeout_funcs
    = { give_up_acquire, never_release, never_locked };

Test (lock, blocking_acquire_that_gives_up_is_an_error)
{
  g_autoptr (DogpileMutex) mutex
      = dogpile_mutex_new (&timeout_funcs, NULL, NULL);
  Script s = { .value = NULL, .new_value = "made" };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) got = NULL;

  got = enter (mutex, &sync_funcs, &s, 1, &error);
  cr_assert_null (got);
  assert_error (error, DOGPILE_ERROR_LOCK);
  cr_assert_eq (s.create_calls, 0);
}

/* A release that fails after the value was made: the same answer with
 * and without a GError (it used to be TRUE without one). */
static gboolean
take_acquire (gpointer d, gboolean wait, gboolean *out, GError **error)
{
  *out = TRUE;
  return TRUE;
}

static const DogpileMutexFuncs failing_release_funcs
    = { take_acquire, never_release, never_locked };

Test (lock, result_does_not_depend_on_passing_an_error)
{
  g_autoptr (DogpileMutex) mutex
      = dogpile_mutex_new (&failing_release_funcs, NULL, NULL);

  for (int with_error = 0; with_error < 2; with_error++)
    {
      Script s = { .value = NULL, .new_value = "made" };
      g_autoptr (DogpileLock) lock
          = dogpile_lock_new (mutex, &sync_funcs, &s, 1);
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) value = NULL;
      gboolean ok
          = dogpile_lock_enter (lock, &value, with_error ? &error : NULL);

      cr_assert_not (ok, "with%s an error: TRUE", with_error ? "" : "out");
      cr_assert_null (value);
      cr_assert_eq (s.create_calls, 1);
      if (with_error)
        assert_error (error, DOGPILE_ERROR_LOCK);
    }
}

/* The waiter gets the value the thread it waited for made. */
typedef struct {
  DogpileMutex *mutex;
  Script *script;
  GBytes *result;
} Waiter;

static gpointer
wait_for_value (gpointer data)
{
  Waiter *w = data;

  w->result = enter (w->mutex, &sync_funcs, w->script, DOGPILE_EXPIRATION_NONE,
                     NULL);
  return NULL;
}

Test (lock, waiter_gets_the_value_made_meanwhile)
{
  g_autoptr (DogpileMutex) mutex = dogpile_mutex_new_local ();
  Script s = { .value = NULL, .new_value = "mine" };
  Waiter w = { mutex, &s, NULL };
  GThread *t;

  cr_assert (mutex_acquire_ok (mutex, TRUE));
  t = g_thread_new ("waiter", wait_for_value, &w);
  while (g_atomic_int_get (&s.get_calls) < 1)
    g_usleep (1000);
  g_usleep (20000);
  /* "Another caller" stores the value, then releases. */
  s.created_time = dogpile_clock_now ();
  s.value = "theirs";
  cr_assert (dogpile_mutex_release (mutex, NULL));
  g_thread_join (t);
  cr_assert (bytes_equal (w.result, "theirs"));
  cr_assert_eq (s.create_calls, 0);
  g_bytes_unref (w.result);
}

/* --- NameRegistry ---------------------------------------------------- */

static gint created_mutexes;

static DogpileMutex *
count_create (const char *name, gpointer data)
{
  g_atomic_int_inc (&created_mutexes);
  return dogpile_mutex_new_local ();
}

typedef struct {
  DogpileNameRegistry *registry;
  gint batons[3];
  gint failures;
} Batons;

static gpointer
take_batons (gpointer data)
{
  Batons *b = data;
  static const char *names[] = { "A", "B", "C" };

  for (int i = 0; i < 20; i++)
    {
      int which = g_random_int_range (0, 3);
      g_autoptr (DogpileMutex) m
          = dogpile_name_registry_get (b->registry, names[which]);
      gboolean acquired = FALSE;

      dogpile_mutex_acquire (m, TRUE, &acquired, NULL);
      if (g_atomic_int_add (&b->batons[which], 1) != 0)
        g_atomic_int_inc (&b->failures);
      g_usleep (g_random_int_range (100, 2000));
      g_atomic_int_add (&b->batons[which], -1);
      dogpile_mutex_release (m, NULL);
    }
  return NULL;
}

/* test_name_registry: 19 threads x 20 iterations on 3 names; a name's
 * baton is never held twice, so every caller got the same mutex. */
Test (lock, name_registry_one_mutex_per_name)
{
  Batons b
      = { dogpile_name_registry_new (count_create, NULL, NULL), { 0 }, 0 };
  GThread *threads[19];

  for (int i = 0; i < 19; i++)
    threads[i] = g_thread_new ("baton", take_batons, &b);
  for (int i = 0; i < 19; i++)
    g_thread_join (threads[i]);
  cr_assert_eq (b.failures, 0);
  /* Nobody holds anything now: the registry is empty again. */
  cr_assert_eq (dogpile_name_registry_size (b.registry), 0);
  dogpile_name_registry_unref (b.registry);
}

Test (lock, name_registry_frees_unused_entries)
{
  g_autoptr (DogpileNameRegistry) registry
      = dogpile_name_registry_new (count_create, NULL, NULL);
  g_autoptr (DogpileMutex) a = dogpile_name_registry_get (registry, "a");
  g_autoptr (DogpileMutex) a_again = dogpile_name_registry_get (registry, "a");

  cr_assert_eq (a, a_again);
  cr_assert_eq (created_mutexes, 1);
  for (int i = 0; i < 10000; i++)
    {
      g_autofree char *name = g_strdup_printf ("key-%d", i);
      g_autoptr (DogpileMutex) m = dogpile_name_registry_get (registry, name);

      cr_assert_eq (dogpile_name_registry_size (registry), 2);
    }
  cr_assert_eq (dogpile_name_registry_size (registry), 1);
  g_clear_pointer (&a, dogpile_mutex_unref);
  g_clear_pointer (&a_again, dogpile_mutex_unref);
  cr_assert_eq (dogpile_name_registry_size (registry), 0);
}

Test (lock, name_registry_mutexes_outlive_the_registry)
{
  DogpileNameRegistry *registry
      = dogpile_name_registry_new (count_create, NULL, NULL);
  g_autoptr (DogpileMutex) m = dogpile_name_registry_get (registry, "k");

  dogpile_name_registry_unref (registry);
  cr_assert (mutex_acquire_ok (m, FALSE));
  cr_assert (dogpile_mutex_release (m, NULL));
}
