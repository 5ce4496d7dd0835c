/* test-memory.c: the memory store itself: sharing by cache_dict, a
 * randomised comparison with GHashTable (growth, deletion shifting) and
 * readers and writers on the same keys at once.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-util.h"

TestSuite (memory);

Test (memory, cache_dict_shares_one_store)
{
  g_autoptr (GHashTable) shared = arguments_of ("cache_dict", "dict-a", NULL);
  g_autoptr (GHashTable) other = arguments_of ("cache_dict", "dict-b", NULL);
  g_autoptr (DogpileRegion) a
      = configured_region ("dogpile.cache.memory", 60, shared);
  g_autoptr (DogpileRegion) b
      = configured_region ("dogpile.cache.memory_pickle", 60, shared);
  g_autoptr (DogpileRegion) c
      = configured_region ("dogpile.cache.memory", 60, other);
  g_autoptr (DogpileRegion) d
      = configured_region ("dogpile.cache.memory", 60, NULL);
  g_autoptr (GBytes) value = bytes_of ("v");
  g_autoptr (GBytes) from_b = NULL;
  g_autoptr (GBytes) from_c = NULL;
  g_autoptr (GBytes) from_d = NULL;

  cr_assert (dogpile_region_set (a, "k", value, NULL));
  /* memory_pickle reads memory's value through the record form. */
  cr_assert (dogpile_region_get (b, "k", &from_b, NULL));
  cr_assert (bytes_equal (from_b, "v"));
  cr_assert (dogpile_region_get (c, "k", &from_c, NULL));
  cr_assert_null (from_c);
  cr_assert (dogpile_region_get (d, "k", &from_d, NULL));
  cr_assert_null (from_d);
}

Test (memory, store_survives_while_any_user_does)
{
  g_autoptr (GHashTable) shared = arguments_of ("cache_dict", "dict-c", NULL);
  DogpileRegion *first
      = configured_region ("dogpile.cache.memory", 60, shared);
  g_autoptr (DogpileRegion) second
      = configured_region ("dogpile.cache.memory", 60, shared);
  g_autoptr (GBytes) value = bytes_of ("v");
  g_autoptr (GBytes) got = NULL;
  g_autoptr (DogpileRegion) third = NULL;
  g_autoptr (GBytes) gone = NULL;

  cr_assert (dogpile_region_set (first, "k", value, NULL));
  dogpile_region_unref (first);
  cr_assert (dogpile_region_get (second, "k", &got, NULL));
  cr_assert (bytes_equal (got, "v"));
  g_clear_pointer (&second, dogpile_region_unref);
  /* Last user gone: a new region with that name starts empty. */
  third = configured_region ("dogpile.cache.memory", 60, shared);
  cr_assert (dogpile_region_get (third, "k", &gone, NULL));
  cr_assert_null (gone);
}

/* Random operations on 5000 keys, checked against a GHashTable. */
Test (memory, matches_a_reference_table)
{
  g_autoptr (DogpileBackend) backend
      = dogpile_backend_new ("dogpile.cache.memory_pickle", NULL, NULL);
  g_autoptr (GHashTable) model
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GRand *rand = g_rand_new_with_seed (42);

  for (int step = 0; step < 200000; step++)
    {
      g_autofree char *key
          = g_strdup_printf ("k%u", g_rand_int_range (rand, 0, 5000));
      int op = g_rand_int_range (rand, 0, 3);

      if (op == 0)
        {
          g_autofree char *text = g_strdup_printf ("%s=%d", key, step);
          g_autoptr (GBytes) value = bytes_of (text);

          cr_assert (dogpile_backend_set (backend, key, value, NULL));
          g_hash_table_replace (model, g_strdup (key), g_strdup (text));
        }
      else if (op == 1)
        {
          cr_assert (dogpile_backend_delete (backend, key, NULL));
          g_hash_table_remove (model, key);
        }
      else
        {
          g_autoptr (GBytes) got = NULL;

          cr_assert (dogpile_backend_get (backend, key, &got, NULL));
          cr_assert (bytes_equal (got, g_hash_table_lookup (model, key)),
                     "step %d key %s", step, key);
        }
    }
  g_rand_free (rand);
}

typedef struct {
  DogpileRegion *region;
  guint seed;
  const char *prefix;
  gint bad;    /* values that are not their key's */
  gint failed; /* calls that returned FALSE or set an error */
} Worker;

static void
note_call (Worker *w, gboolean ok, GError *error)
{
  if (!ok || error != NULL)
    g_atomic_int_inc (&w->failed);
}

/* Each value names its key, so a reader can tell a torn or misplaced
 * value from a good one. */
static gpointer
churn (gpointer data)
{
  Worker *w = data;
  GRand *rand = g_rand_new_with_seed (w->seed);

  for (int i = 0; i < 200000; i++)
    {
      g_autofree char *key = g_strdup_printf ("%s-%u", w->prefix,
                                              g_rand_int_range (rand, 0, 64));
      int op = g_rand_int_range (rand, 0, 10);

      if (op < 3)
        {
          g_autofree char *text = g_strdup_printf ("%s:%d", key, i);
          g_autoptr (GBytes) value = bytes_of (text);
          g_autoptr (GError) error = NULL;

          note_call (w, dogpile_region_set (w->region, key, value, &error),
                     error);
        }
      else if (op < 4)
        {
          g_autoptr (GError) error = NULL;

          note_call (w, dogpile_region_delete (w->region, key, &error), error);
        }
      else
        {
          g_autoptr (GBytes) got = NULL;
          g_autoptr (GError) error = NULL;

          note_call (w, dogpile_region_get (w->region, key, &got, &error),
                     error);
          if (got != NULL
              && (g_bytes_get_size (got) <= strlen (key)
                  || memcmp (g_bytes_get_data (got, NULL), key, strlen (key))
                         != 0))
            g_atomic_int_inc (&w->bad);
        }
    }
  g_rand_free (rand);
  return NULL;
}

static void
run_churn (const char *prefix)
{
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.memory", 60, NULL);
  Worker workers[4];
  GThread *threads[4];

  for (int i = 0; i < 4; i++)
    {
      workers[i] = (Worker){ region, (guint) i + 1, prefix, 0, 0 };
      threads[i] = g_thread_new ("churn", churn, &workers[i]);
    }
  for (int i = 0; i < 4; i++)
    {
      g_thread_join (threads[i]);
      cr_assert_eq (workers[i].bad, 0);
      cr_assert_eq (workers[i].failed, 0);
    }
}

/* Short keys live in the slot; long ones are separate allocations that a
 * reader may be comparing while a writer retires them. */
Test (memory, concurrent_readers_and_writers_short_keys) { run_churn ("k"); }

Test (memory, concurrent_readers_and_writers_long_keys)
{
  run_churn ("a-key-long-enough-to-live-outside-the-slot");
}

/* The memory plugin, counted: its own descriptor with get_value wrapped. */
static const DogpileBackendDesc *memory_desc;
static DogpileBackendDesc counted_desc;
static gint get_value_calls;

static gboolean
counted_get_value (DogpileBackendImpl *self, const char *key,
                   GBytes **out_payload, DogpileMetadata *out_metadata,
                   GError **error)
{
  g_atomic_int_inc (&get_value_calls);
  return memory_desc->get_value (self, key, out_payload, out_metadata, error);
}

/* Bytes that are not a record, stored raw: one read asks the plugin once,
 * reports CantDeserialize once, and logs nothing (the test runs with
 * G_DEBUG=fatal-warnings, which makes a CRITICAL or a GError set over
 * another fatal). */
Test (memory, undecodable_bytes_are_read_once)
{
  g_autoptr (GHashTable) shared = arguments_of ("cache_dict", "raw", NULL);
  g_autoptr (DogpileBackend) raw = NULL;
  g_autoptr (DogpileRegion) region = NULL;
  g_autoptr (GBytes) garbage = bytes_of ("not a record");
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  memory_desc = dogpile_registry_load_backend (dogpile_registry_get_default (),
                                               "dogpile.cache.memory", NULL);
  cr_assert_not_null (memory_desc);
  counted_desc = *memory_desc;
  counted_desc.name = "test.counted_memory";
  counted_desc.get_value = counted_get_value;
  cr_assert (dogpile_registry_register_desc (dogpile_registry_get_default (),
                                             &counted_desc, NULL));

  raw = dogpile_backend_new ("dogpile.cache.memory", shared, NULL);
  cr_assert (dogpile_backend_set (raw, "k", garbage, NULL));
  region = configured_region ("test.counted_memory", 60, shared);

  ok = dogpile_region_get (region, "k", &got, &error);
  cr_assert_eq (g_atomic_int_get (&get_value_calls), 1);
  cr_assert_not (ok);
  cr_assert_null (got);
  cr_assert (
      g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE),
      "%s", error != NULL ? error->message : "no error");
  /* The same read without a GError to fill gives the same answer. */
  cr_assert_not (dogpile_region_get (region, "k", &got, NULL));
  cr_assert_eq (g_atomic_int_get (&get_value_calls), 2);
}
