/* test-get-or-create-races.c: the lock defects fixed in the core pass, each
 * pinned: get_or_create_multi creating a key another caller made since its
 * multi-get, two keys the mangler folds into one, and a creator asking for
 * its own key.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>

#include "test-util.h"

#define N_KEYS 8
#define N_THREADS 16

static const char *const key_names[N_KEYS]
    = { "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7" };

/* Creations per key, across every caller. */
static gint created[N_KEYS];

static int
key_index (const char *key)
{
  for (int i = 0; i < N_KEYS; i++)
    if (strcmp (key, key_names[i]) == 0)
      return i;
  return -1;
}

static gboolean
multi_creator (const char *const *keys, gsize n_keys, GBytes **out_values,
               gpointer user_data, GError **error)
{
  gulong sleep_us = GPOINTER_TO_UINT (user_data);

  if (sleep_us > 0)
    g_usleep (sleep_us);
  for (gsize i = 0; i < n_keys; i++)
    {
      int k = key_index (keys[i]);

      cr_assert (k >= 0, "unexpected key %s", keys[i]);
      g_atomic_int_inc (&created[k]);
      out_values[i] = bytes_of (keys[i]);
    }
  return TRUE;
}

static GBytes *
single_creator (const char *key, gpointer user_data, GError **error)
{
  int k = key_index (key);

  cr_assert (k >= 0);
  g_atomic_int_inc (&created[k]);
  return bytes_of (key);
}

typedef struct {
  DogpileRegion *region;
  int first;
  pthread_barrier_t *start;
  gint failures;
} MultiWorker;

static gpointer
overlap_worker (gpointer data)
{
  MultiWorker *w = data;
  const char *keys[3]
      = { key_names[w->first % N_KEYS], key_names[(w->first + 1) % N_KEYS],
          key_names[(w->first + 3) % N_KEYS] };
  GBytes *values[3] = { NULL, NULL, NULL };
  g_autoptr (GError) error = NULL;

  pthread_barrier_wait (w->start);
  if (!dogpile_region_get_or_create_multi (
          w->region, keys, 3, multi_creator, GUINT_TO_POINTER (2000),
          DOGPILE_EXPIRATION_DEFAULT, NULL, NULL, values, &error))
    g_atomic_int_inc (&w->failures);
  for (int i = 0; i < 3; i++)
    {
      if (values[i] == NULL || !bytes_equal (values[i], keys[i]))
        g_atomic_int_inc (&w->failures);
      g_clear_pointer (&values[i], g_bytes_unref);
    }
  return NULL;
}

/* 16 threads on overlapping 3-key subsets of 8 keys: each key is made
 * exactly once (it was up to 6 times when a key taken without waiting was
 * not read again). */
Test (races, overlapping_multi_calls_create_each_key_once)
{
  for (int round = 0; round < 20; round++)
    {
      g_autoptr (DogpileRegion) region
          = configured_region ("dogpile.cache.memory", 600, NULL);
      pthread_barrier_t start;
      MultiWorker workers[N_THREADS];
      GThread *threads[N_THREADS];

      memset (created, 0, sizeof created);
      pthread_barrier_init (&start, NULL, N_THREADS);
      for (int i = 0; i < N_THREADS; i++)
        {
          workers[i] = (MultiWorker){ region, i, &start, 0 };
          threads[i] = g_thread_new ("overlap", overlap_worker, &workers[i]);
        }
      for (int i = 0; i < N_THREADS; i++)
        {
          g_thread_join (threads[i]);
          cr_assert_eq (workers[i].failures, 0);
        }
      for (int k = 0; k < N_KEYS; k++)
        cr_assert_eq (created[k], 1, "round %d: %s created %d times", round,
                      key_names[k], created[k]);
      pthread_barrier_destroy (&start);
    }
}

/* A proxy whose multi-get, once it has read, waits until told to go on:
 * the window in which another caller creates the key. */
static GMutex gate_lock;
static GCond gate_cond;
static gboolean gate_fetched, gate_open;

static gboolean
gated_get_value_multi (DogpileProxyImpl *self, DogpileBackend *next,
                       const char *const *keys, gsize n_keys,
                       GBytes **out_payloads, DogpileMetadata *out_metadata,
                       GError **out_errors, GError **error)
{
  gboolean ok = dogpile_backend_get_value_multi (
      next, keys, n_keys, out_payloads, out_metadata, out_errors, error);

  g_mutex_lock (&gate_lock);
  gate_fetched = TRUE;
  g_cond_broadcast (&gate_cond);
  while (!gate_open)
    g_cond_wait (&gate_cond, &gate_lock);
  g_mutex_unlock (&gate_lock);
  return ok;
}

static const DogpileProxyDesc gated_proxy = {
  .abi_version = DOGPILE_PROXY_ABI_VERSION,
  .name = "test.gated",
  .get_value_multi = gated_get_value_multi,
};

static gpointer
gated_multi_call (gpointer region)
{
  const char *keys[] = { "k1" };
  GBytes *value = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok = dogpile_region_get_or_create_multi (
      region, keys, 1, multi_creator, NULL, DOGPILE_EXPIRATION_DEFAULT, NULL,
      NULL, &value, &error);

  cr_assert (ok, "%s", error != NULL ? error->message : "");
  cr_assert (bytes_equal (value, "k1"));
  g_bytes_unref (value);
  return NULL;
}

/* The interleaving, deterministic: the multi-get misses, a single-key
 * get_or_create makes the key, then the multi call takes the free mutex
 * and must find the value instead of making it again. */
Test (races, multi_rereads_a_key_made_since_its_multi_get)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 600, NULL);
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;
  GThread *multi;

  memset (created, 0, sizeof created);
  cr_assert (dogpile_region_wrap_desc (region, &gated_proxy, NULL, &error));
  multi = g_thread_new ("multi", gated_multi_call, region);
  g_mutex_lock (&gate_lock);
  while (!gate_fetched)
    g_cond_wait (&gate_cond, &gate_lock);
  g_mutex_unlock (&gate_lock);

  cr_assert (dogpile_region_get_or_create (region, "k1", single_creator, NULL,
                                           &value, &error));
  cr_assert_eq (created[1], 1);

  g_mutex_lock (&gate_lock);
  gate_open = TRUE;
  g_cond_broadcast (&gate_cond);
  g_mutex_unlock (&gate_lock);
  g_thread_join (multi);
  cr_assert_eq (created[1], 1, "k1 created %d times", created[1]);
}

static char *
fold_case (const char *key, gpointer user_data)
{
  return g_ascii_strdown (key, -1);
}

static gint folded_calls;
static gsize folded_keys;

static gboolean
folded_creator (const char *const *keys, gsize n_keys, GBytes **out_values,
                gpointer user_data, GError **error)
{
  g_atomic_int_inc (&folded_calls);
  folded_keys += n_keys;
  for (gsize i = 0; i < n_keys; i++)
    out_values[i] = bytes_of ("made");
  return TRUE;
}

/* "a" and "A" are one backend key under a case-folding mangler: one lock
 * (taking it twice deadlocked), one creation, both positions filled. */
Test (races, multi_keys_folded_into_one_backend_key)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new ("fold");
  g_autoptr (GError) error = NULL;
  const char *keys[] = { "a", "A", "b" };
  GBytes *values[3] = { NULL, NULL, NULL };

  dogpile_region_set_key_mangler (region, fold_case, NULL, NULL);
  cr_assert (dogpile_region_configure (region, "dogpile.cache.memory", 600,
                                       NULL, DOGPILE_CONFIGURE_NONE, &error));
  cr_assert (dogpile_region_get_or_create_multi (
                 region, keys, 3, folded_creator, NULL,
                 DOGPILE_EXPIRATION_DEFAULT, NULL, NULL, values, &error),
             "%s", error != NULL ? error->message : "");
  cr_assert_eq (folded_calls, 1);
  cr_assert_eq (folded_keys, 2);
  for (int i = 0; i < 3; i++)
    {
      cr_assert (bytes_equal (values[i], "made"), "slot %d", i);
      g_bytes_unref (values[i]);
    }
}

/* A creator that asks for its own key. */
typedef struct {
  DogpileRegion *region; /* where it asks */
  const char *key;
  GError *inner_error;
  gint calls;
} Nested;

static GBytes *
nested_creator (const char *key, gpointer data, GError **error)
{
  Nested *n = data;
  g_autoptr (GBytes) inner = NULL;

  if (g_atomic_int_add (&n->calls, 1) > 0)
    return bytes_of ("inner");
  if (!dogpile_region_get_or_create (n->region, n->key, nested_creator, n,
                                     &inner, &n->inner_error))
    {
      g_propagate_error (error, g_error_copy (n->inner_error));
      return NULL;
    }
  return bytes_of ("outer");
}

Test (races, creator_asking_for_its_own_key_gets_a_lock_error)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 600, NULL);
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;
  Nested n = { region, "self", NULL, 0 };

  cr_assert_not (dogpile_region_get_or_create (region, "self", nested_creator,
                                               &n, &value, &error));
  assert_error (error, DOGPILE_ERROR_LOCK);
  assert_error (n.inner_error, DOGPILE_ERROR_LOCK);
  cr_assert (strstr (error->message, "'self'") != NULL, "%s", error->message);
  cr_assert_null (value);
  g_clear_error (&n.inner_error);
  g_clear_error (&error);
  /* Nothing is left locked: the next caller creates it. */
  n.calls = 1;
  cr_assert (dogpile_region_get_or_create (region, "self", nested_creator, &n,
                                           &value, &error));
  cr_assert (bytes_equal (value, "inner"));
}

static gboolean
nested_multi_creator (const char *const *keys, gsize n_keys,
                      GBytes **out_values, gpointer data, GError **error)
{
  Nested *n = data;
  g_autoptr (GBytes) inner = NULL;

  if (!dogpile_region_get_or_create (n->region, keys[0], nested_creator, n,
                                     &inner, error))
    return FALSE;
  for (gsize i = 0; i < n_keys; i++)
    out_values[i] = bytes_of ("multi");
  return TRUE;
}

Test (races, multi_creator_asking_for_its_own_key_gets_a_lock_error)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 600, NULL);
  g_autoptr (GError) error = NULL;
  const char *keys[] = { "m1", "m2" };
  GBytes *values[2] = { NULL, NULL };
  Nested n = { region, NULL, NULL, 1 };

  cr_assert_not (dogpile_region_get_or_create_multi (
      region, keys, 2, nested_multi_creator, &n, DOGPILE_EXPIRATION_DEFAULT,
      NULL, NULL, values, &error));
  assert_error (error, DOGPILE_ERROR_LOCK);
  cr_assert (strstr (error->message, "'m1'") != NULL, "%s", error->message);
  cr_assert_null (values[0]);
  cr_assert_null (values[1]);
}

/* The same key of another region (another name registry) is another lock:
 * a creator may read through it. */
Test (races, creator_may_use_the_same_key_of_another_region)
{
  g_autoptr (DogpileRegion) outer
      = configured_region ("dogpile.cache.memory", 600, NULL);
  g_autoptr (DogpileRegion) other
      = configured_region ("dogpile.cache.memory", 600, NULL);
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;
  Nested n = { other, "k", NULL, 0 };

  cr_assert (dogpile_region_get_or_create (outer, "k", nested_creator, &n,
                                           &value, &error),
             "%s", error != NULL ? error->message : "");
  cr_assert (bytes_equal (value, "outer"));
  cr_assert_null (n.inner_error);
}

/* Only the holder is refused: another thread asking for the key while a
 * creator holds it waits, and gets the creator's value. */
static GMutex hold_lock;
static GCond hold_cond;
static gboolean holding, may_finish;

static GBytes *
slow_creator (const char *key, gpointer data, GError **error)
{
  g_mutex_lock (&hold_lock);
  holding = TRUE;
  g_cond_broadcast (&hold_cond);
  while (!may_finish)
    g_cond_wait (&hold_cond, &hold_lock);
  g_mutex_unlock (&hold_lock);
  return bytes_of ("slow");
}

static gpointer
slow_caller (gpointer region)
{
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_get_or_create (region, "w", slow_creator, NULL,
                                           &value, &error));
  cr_assert (bytes_equal (value, "slow"));
  return NULL;
}

static GBytes *
never_creator (const char *key, gpointer data, GError **error)
{
  cr_assert_fail ("a waiting caller must not create the value");
  return NULL;
}

static gpointer
waiting_caller (gpointer region)
{
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;

  cr_assert (dogpile_region_get_or_create (region, "w", never_creator, NULL,
                                           &value, &error),
             "%s", error != NULL ? error->message : "");
  cr_assert (bytes_equal (value, "slow"));
  return NULL;
}

Test (races, other_threads_still_wait_for_the_holder)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 600, NULL);
  GThread *creator, *waiter;

  creator = g_thread_new ("creator", slow_caller, region);
  g_mutex_lock (&hold_lock);
  while (!holding)
    g_cond_wait (&hold_cond, &hold_lock);
  g_mutex_unlock (&hold_lock);
  waiter = g_thread_new ("waiter", waiting_caller, region);
  g_usleep (50000); /* the waiter is now blocked on the mutex */
  g_mutex_lock (&hold_lock);
  may_finish = TRUE;
  g_cond_broadcast (&hold_cond);
  g_mutex_unlock (&hold_lock);
  g_thread_join (creator);
  g_thread_join (waiter);
}

/* An async task's thread holds the key it regenerates: its creator asking
 * for that key is refused, and the thread that handed the task over may
 * wait for the key like anyone else. */
typedef struct {
  DogpileRegion *region;
  GError *inner_error;
  gboolean task_ok;
  GThread *thread;
} AsyncCase;

static AsyncCase async_case;

static GBytes *
async_nested_creator (const char *key, gpointer data, GError **error)
{
  g_autoptr (GBytes) inner = NULL;

  /* Missing, not stale: the inner call would wait for the mutex. */
  if (!dogpile_region_delete (async_case.region, key, error))
    return NULL;
  if (!dogpile_region_get_or_create (async_case.region, key, single_creator,
                                     NULL, &inner, &async_case.inner_error))
    {
      g_propagate_error (error, g_error_copy (async_case.inner_error));
      return NULL;
    }
  return bytes_of ("async");
}

static gpointer
run_task (gpointer task)
{
  g_autoptr (GError) error = NULL;

  async_case.task_ok = dogpile_async_task_run (task, &error);
  dogpile_async_task_unref (task);
  return NULL;
}

static void
thread_runner (DogpileAsyncTask *task, gpointer user_data)
{
  async_case.thread = g_thread_new ("task", run_task, task);
}

static void
no_destroy (gpointer data)
{
}

Test (races, async_creator_asking_for_its_own_key_is_refused)
{
  g_autoptr (DogpileRegion) region = dogpile_region_new ("async");
  g_autoptr (GBytes) stale = bytes_of ("stale");
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;

  dogpile_region_set_async_creation_runner (region, thread_runner, NULL, NULL);
  cr_assert (dogpile_region_configure (region, "dogpile.cache.memory", 600,
                                       NULL, DOGPILE_CONFIGURE_NONE, &error));
  async_case = (AsyncCase){ region, NULL, TRUE, NULL };
  cr_assert (dogpile_region_set (region, "a", stale, &error));
  dogpile_region_invalidate (region, FALSE);
  cr_assert (dogpile_region_get_or_create_full (
      region, "a", async_nested_creator, &async_case, no_destroy,
      DOGPILE_EXPIRATION_DEFAULT, NULL, NULL, &got, &error));
  cr_assert (bytes_equal (got, "stale"));
  cr_assert_not_null (async_case.thread);
  g_thread_join (async_case.thread);
  cr_assert_not (async_case.task_ok);
  assert_error (async_case.inner_error, DOGPILE_ERROR_LOCK);
  g_clear_error (&async_case.inner_error);
}
