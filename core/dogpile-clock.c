/* dogpile-clock.c: wall-clock time, cheap enough for the hit path.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

#include <time.h>

/* A test or simulation may replace the clock (like mocking time.time()).
 * Both fields are read without a lock on every expiration check; the
 * function pointer is published last so a reader never sees it with stale
 * user data. */
static gpointer clock_user_data;
static DogpileClockFunc clock_func;

/* CLOCK_REALTIME costs ~20 ns through the vDSO here, CLOCK_REALTIME_COARSE
 * ~3 ns but lags by up to one tick.  The coarse reading is never ahead of
 * the precise one and never behind it by more than a tick, so most
 * expiration checks can be settled from it; only values within SLACK of
 * their deadline need the precise clock. 50 ms covers HZ=100 with room. */
#define COARSE_SLACK 0.05

static inline double
timespec_to_seconds (const struct timespec *ts)
{
  return (double) ts->tv_sec + (double) ts->tv_nsec * 1e-9;
}

double
dogpile__clock_now_precise (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return timespec_to_seconds (&ts);
}

/**
 * dogpile_clock_now:
 *
 * The library's notion of "now": seconds since the Unix epoch as a double,
 * the same scale as Python's time.time(), so processes in either language
 * can compare the creation times they store.  The system's real-time
 * clock, or the function given to dogpile_clock_set_func().
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: the current time in seconds
 */
double
dogpile_clock_now (void)
{
  DogpileClockFunc func
      = (DogpileClockFunc) g_atomic_pointer_get (&clock_func);

  if (G_UNLIKELY (func != NULL))
    return func (g_atomic_pointer_get (&clock_user_data));
  return dogpile__clock_now_precise ();
}

/**
 * dogpile_clock_set_func:
 * @func: (nullable): the clock to use, or %NULL for the system clock
 * @user_data: (closure): passed to @func; never freed
 *
 * Replaces the clock for the whole process: creation times, expiration,
 * invalidation and ages all follow it.  Meant for tests and simulations.
 *
 * Thread safety: setup: call before other threads use the library (a
 * reader racing it may pair the old function with the new user data).
 */
void
dogpile_clock_set_func (DogpileClockFunc func, gpointer user_data)
{
  g_atomic_pointer_set (&clock_func, NULL);
  g_atomic_pointer_set (&clock_user_data, user_data);
  g_atomic_pointer_set (&clock_func, func);
}

void
dogpile__clock_sample (DogpileClockSample *sample)
{
  DogpileClockFunc func
      = (DogpileClockFunc) g_atomic_pointer_get (&clock_func);
  struct timespec ts;

  sample->precise = -1;
  sample->custom = func != NULL;
  if (G_UNLIKELY (sample->custom))
    {
      sample->coarse = sample->precise
          = func (g_atomic_pointer_get (&clock_user_data));
      return;
    }
  clock_gettime (CLOCK_REALTIME_COARSE, &ts);
  sample->coarse = timespec_to_seconds (&ts);
}

/* now - cached_time > seconds, with Python's strict comparison. */
gboolean
dogpile__clock_sample_age_exceeds (DogpileClockSample *sample,
                                   double cached_time, double seconds)
{
  if (G_UNLIKELY (sample->custom))
    return sample->precise - cached_time > seconds;
  /* Floating-point subtraction is monotonic, so these bounds hold for the
   * precise reading too. */
  if (sample->coarse - cached_time > seconds)
    return TRUE;
  if ((sample->coarse + COARSE_SLACK) - cached_time <= seconds)
    return FALSE;
  if (sample->precise < 0)
    sample->precise = dogpile__clock_now_precise ();
  return sample->precise - cached_time > seconds;
}
