/* dogpile.h: the application header of libdogpile.
 *
 * Plugin authors include <dogpile/dogpile-plugin.h> instead (or as well).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#define DOGPILE_INSIDE
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
#undef DOGPILE_INSIDE
