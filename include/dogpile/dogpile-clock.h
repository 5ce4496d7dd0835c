/* dogpile-clock.h: the wall clock creation times are measured with.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"

G_BEGIN_DECLS

/* Seconds since the Unix epoch, like Python's time.time(). */
typedef double (*DogpileClockFunc) (gpointer user_data);

DOGPILE_API double dogpile_clock_now (void);

DOGPILE_API void dogpile_clock_set_func (DogpileClockFunc func,
                                         gpointer user_data);

G_END_DECLS
