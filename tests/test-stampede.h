/* test-stampede.h: the dogpile lock across processes, for the stampede
 * tests of every backend with a distributed lock.  PROCESSES processes x
 * THREADS threads call get_or_create on one key at the same instant; the
 * caller checks that exactly one creator call happened, as the processes
 * count it (their exit status) and as the server counts it (the creator's
 * on_create, which the test points at the server).
 *
 * The region is made and used by the parent before it forks, so the
 * children also show that inherited connections are not shared.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "test-faults.h"

#define STAMPEDE_PROCESSES 4
#define STAMPEDE_THREADS 16

typedef struct {
  DogpileRegion *region;
  const char *key;
  void (*on_create) (gpointer user_data); /* counts it on the server */
  gpointer user_data;
  gboolean value_was_missing;

  gint64 start_at; /* monotonic microseconds, the same in every process */
  gint created;
  gint bad_values;
  gint errors;
} Stampede;

static GBytes *
stampede_creator (const char *key, gpointer data, GError **error)
{
  Stampede *s = data;

  s->on_create (s->user_data);
  g_atomic_int_inc (&s->created);
  g_usleep (500000); /* everyone else arrives while this runs */
  return bytes_of ("fresh");
}

static gpointer
stampede_contender (gpointer data)
{
  Stampede *s = data;
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;
  gint64 wait = s->start_at - g_get_monotonic_time ();

  if (wait > 0)
    g_usleep ((gulong) wait);
  if (!dogpile_region_get_or_create (s->region, s->key, stampede_creator, s,
                                     &value, &error))
    {
      g_atomic_int_inc (&s->errors);
      return NULL;
    }
  /* A waiter for a missing value gets the new one; with a stale value
   * the losers return the stale one at once. */
  if (!bytes_equal (value, "fresh")
      && (s->value_was_missing || !bytes_equal (value, "stale")))
    g_atomic_int_inc (&s->bad_values);
  return NULL;
}

/* In a child: the contenders; the exit status is the number of creator
 * calls here, or 100 + something when a call went wrong. */
static void G_GNUC_NORETURN
stampede_child (Stampede *s)
{
  GThread *threads[STAMPEDE_THREADS];

  for (int i = 0; i < STAMPEDE_THREADS; i++)
    threads[i] = g_thread_new ("contender", stampede_contender, s);
  for (int i = 0; i < STAMPEDE_THREADS; i++)
    g_thread_join (threads[i]);
  if (s->errors > 0)
    _exit (100 + s->errors);
  if (s->bad_values > 0)
    _exit (150 + s->bad_values);
  _exit (s->created);
}

/* Leaves s->key missing (read once through the region, so the parent
 * uses its pool before forking) or holding "stale", created an hour ago:
 * expired for a region of less than an hour; then runs the processes.
 * Returns the creator calls counted by all of them. */
static inline int
stampede_run (Stampede *s)
{
  pid_t children[STAMPEDE_PROCESSES];
  int statuses[STAMPEDE_PROCESSES];
  int total = 0;

  if (s->value_was_missing)
    {
      g_autoptr (GBytes) nothing = NULL;

      cr_assert (dogpile_region_get (s->region, s->key, &nothing, NULL));
      cr_assert_null (nothing);
    }
  else
    {
      g_autoptr (GBytes) payload = bytes_of ("stale");
      DogpileMetadata old;
      g_autoptr (GBytes) record = NULL;

      dogpile_metadata_init (&old, dogpile_clock_now () - 3600);
      record = dogpile_record_encode (payload, &old);
      cr_assert (dogpile_backend_set (
          dogpile_region_get_backend (s->region, NULL), s->key, record, NULL));
    }
  s->start_at = g_get_monotonic_time () + 700000;
  for (int p = 0; p < STAMPEDE_PROCESSES; p++)
    {
      children[p] = fork ();
      cr_assert (children[p] >= 0);
      if (children[p] == 0)
        stampede_child (s);
    }
  wait_children (children, STAMPEDE_PROCESSES, 30, statuses);
  for (int p = 0; p < STAMPEDE_PROCESSES; p++)
    {
      cr_assert (statuses[p] < 100, "process %d: %d errors or wrong values", p,
                 statuses[p]);
      total += statuses[p];
    }
  {
    g_autoptr (GBytes) now = NULL;

    cr_assert (dogpile_region_get (s->region, s->key, &now, NULL));
    cr_assert (bytes_equal (now, "fresh"));
  }
  return total;
}
