/* test-mutex.c: the core's mutexes (spec 5.1 items 28-30, 5.9 test_mutex).
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-util.h"

TestSuite (mutex);

Test (mutex, local_mutex_like_test_mutex)
{
  g_autoptr (DogpileMutex) m = dogpile_mutex_new_local ();
  g_autoptr (GError) error = NULL;

  cr_assert_not (mutex_is_locked (m));
  cr_assert (mutex_acquire_ok (m, TRUE));
  cr_assert_not (mutex_acquire_ok (m, FALSE));
  cr_assert (mutex_is_locked (m));
  cr_assert (dogpile_mutex_release (m, &error));
  cr_assert_not (mutex_is_locked (m));
  cr_assert (mutex_acquire_ok (m, TRUE));
  cr_assert (dogpile_mutex_release (m, &error));
}

Test (mutex, releasing_an_unheld_mutex_is_an_error)
{
  g_autoptr (DogpileMutex) m = dogpile_mutex_new_local ();
  g_autoptr (GError) error = NULL;

  cr_assert_not (dogpile_mutex_release (m, &error));
  assert_error (error, DOGPILE_ERROR_LOCK);
}

typedef struct {
  DogpileMutex *mutex;
  gint inside;
  gint overlaps;
} Shared;

static gpointer
hold_a_while (gpointer data)
{
  Shared *s = data;

  for (int round = 0; round < 5; round++)
    {
      gboolean acquired = FALSE;

      cr_assert (dogpile_mutex_acquire (s->mutex, TRUE, &acquired, NULL));
      if (g_atomic_int_add (&s->inside, 1) != 0)
        g_atomic_int_inc (&s->overlaps);
      for (int canary = 0; canary < 5; canary++)
        {
          g_usleep (2000);
          if (g_atomic_int_get (&s->inside) != 1)
            g_atomic_int_inc (&s->overlaps);
        }
      g_atomic_int_add (&s->inside, -1);
      cr_assert (dogpile_mutex_release (s->mutex, NULL));
      g_usleep (2000);
    }
  return NULL;
}

/* test_mutex_threaded: 5 threads x 5 rounds, never two inside. */
Test (mutex, local_mutex_excludes_threads)
{
  Shared s = { dogpile_mutex_new_local (), 0, 0 };
  GThread *threads[5];

  for (int i = 0; i < 5; i++)
    threads[i] = g_thread_new ("m", hold_a_while, &s);
  for (int i = 0; i < 5; i++)
    g_thread_join (threads[i]);
  cr_assert_eq (s.overlaps, 0);
  dogpile_mutex_unref (s.mutex);
}

static gpointer
release_elsewhere (gpointer data)
{
  return GINT_TO_POINTER (dogpile_mutex_release (data, NULL));
}

Test (mutex, another_thread_may_release)
{
  g_autoptr (DogpileMutex) m = dogpile_mutex_new_local ();
  GThread *t;

  cr_assert (mutex_acquire_ok (m, TRUE));
  t = g_thread_new ("r", release_elsewhere, m);
  cr_assert (GPOINTER_TO_INT (g_thread_join (t)));
  cr_assert_not (mutex_is_locked (m));
}

/* test_null_backend's test_mutex and test_mutex_doesnt_actually_lock */
Test (mutex, null_mutex_always_acquires)
{
  g_autoptr (DogpileMutex) m = dogpile_mutex_new_null ();

  cr_assert (mutex_acquire_ok (m, TRUE));
  cr_assert (mutex_acquire_ok (m, FALSE));
  cr_assert (mutex_acquire_ok (m, TRUE));
  cr_assert_not (mutex_is_locked (m));
  cr_assert (dogpile_mutex_release (m, NULL));
}

static gboolean custom_acquired;
static gboolean custom_freed;

static gboolean
custom_acquire (gpointer data, gboolean wait, gboolean *out, GError **error)
{
  if (GPOINTER_TO_INT (data) == 2)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND, "lost");
      return FALSE;
    }
  *out = custom_acquired = TRUE;
  return TRUE;
}

static gboolean
custom_release (gpointer data, GError **error)
{
  custom_acquired = FALSE;
  return TRUE;
}

static gboolean
custom_locked (gpointer data, gboolean *out, GError **error)
{
  *out = custom_acquired;
  return TRUE;
}

static void
custom_free (gpointer data)
{
  custom_freed = TRUE;
}

static const DogpileMutexFuncs custom_funcs
    = { custom_acquire, custom_release, custom_locked };

Test (mutex, custom_mutex_and_its_errors)
{
  DogpileMutex *m
      = dogpile_mutex_new (&custom_funcs, GINT_TO_POINTER (1), custom_free);
  g_autoptr (DogpileMutex) failing
      = dogpile_mutex_new (&custom_funcs, GINT_TO_POINTER (2), NULL);
  g_autoptr (GError) error = NULL;
  gboolean acquired = TRUE;

  cr_assert (mutex_acquire_ok (m, FALSE));
  cr_assert (mutex_is_locked (m));
  cr_assert (dogpile_mutex_release (m, NULL));
  dogpile_mutex_unref (m);
  cr_assert (custom_freed);

  cr_assert_not (dogpile_mutex_acquire (failing, TRUE, &acquired, &error));
  cr_assert_not (acquired);
  assert_error (error, DOGPILE_ERROR_BACKEND);
}
