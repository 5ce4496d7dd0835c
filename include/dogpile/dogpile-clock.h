/* dogpile-clock.h: the wall clock creation times are measured with.
 *
 * SPDX-License-Identifier: MIT
 */
/**
 * SECTION:dogpile-clock
 * @title: Clock
 * @short_description: the wall clock creation times are measured with
 * @include: dogpile/dogpile.h
 *
 * Creation times, expiration and invalidation use one clock: seconds since
 * the Unix epoch as a double, the scale of Python's time.time(), so a C
 * and a Python process sharing a backend compare the times they store.
 * dogpile_clock_now() reads it; dogpile_clock_set_func() replaces it for
 * the whole process, as a test mocks time.time().
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"

G_BEGIN_DECLS

/**
 * DogpileClockFunc:
 * @user_data: (closure): the data given to dogpile_clock_set_func()
 *
 * A replacement clock for dogpile_clock_set_func().
 *
 * Thread safety: called from every thread that reads the clock, from
 * several at once.
 *
 * Returns: seconds since the Unix epoch, like Python's time.time()
 */
typedef double (*DogpileClockFunc) (gpointer user_data);

DOGPILE_API double dogpile_clock_now (void);

DOGPILE_API void dogpile_clock_set_func (DogpileClockFunc func,
                                         gpointer user_data);

G_END_DECLS
