/* dogpile.h: the application header of libdogpile.
 *
 * Plugin authors include <dogpile/dogpile-plugin.h> instead (or as well).
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile
 * @title: dogpile.h
 * @short_description: the one header applications include
 * @include: dogpile/dogpile.h
 *
 * `dogpile/dogpile.h` includes every header of libdogpile's application
 * API; the others cannot be included on their own (they stop the build
 * when they are).  Plugin authors include
 * `dogpile/dogpile-plugin.h` instead, or as well.
 *
 * |[<!-- language="C" -->
 * #include <dogpile/dogpile.h>
 * ]|
 *
 * The library and its headers are found with pkg-config
 * (`pkg-config --cflags --libs dogpile-1`).
 */
#pragma once

#ifndef __GTK_DOC_IGNORE__
#define DOGPILE_INSIDE
#endif
#include "dogpile-argument-spec.h"
#include "dogpile-arguments.h"
#include "dogpile-async.h"
#include "dogpile-backend.h"
#include "dogpile-clock.h"
#include "dogpile-config.h"
#include "dogpile-error.h"
#include "dogpile-fork.h"
#include "dogpile-function-args.h"
#include "dogpile-function.h"
#include "dogpile-get-or-create.h"
#include "dogpile-invalidation.h"
#include "dogpile-json.h"
#include "dogpile-lock.h"
#include "dogpile-macros.h"
#include "dogpile-mangler.h"
#include "dogpile-mutex.h"
#include "dogpile-name-registry.h"
#include "dogpile-pickle.h"
#include "dogpile-pickle-text.h"
#include "dogpile-proxies.h"
#include "dogpile-proxy-stats.h"
#include "dogpile-python-value.h"
#include "dogpile-record.h"
#include "dogpile-region.h"
#include "dogpile-registry.h"
#include "dogpile-serializer.h"
#include "dogpile-value.h"
#include "dogpile-version.h"
#ifndef __GTK_DOC_IGNORE__
#undef DOGPILE_INSIDE
#endif
