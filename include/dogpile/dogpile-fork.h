/* dogpile-fork.h: what fork() does to libdogpile, and hooks for plugins.
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * SECTION:dogpile-fork
 * @title: fork()
 * @short_description: what a forked child may use, and fork hooks for plugins
 * @include: dogpile/dogpile-plugin.h
 *
 * A forked child has one thread, the one that called fork().  libdogpile
 * registers one `pthread_atfork` for itself and its plugins, and
 * everything the core owns is made safe for the child (docs/fork.md): no
 * lock is caught half taken, in-process key mutexes held by the parent's
 * other threads (or by its async tasks) are free again, and regions,
 * registries and the memory backend go on working.  An async pool made
 * before fork() is not usable in the child.
 *
 * What a plugin owns it makes safe with a hook (dogpile_fork_hook_add()):
 * prepare runs in the parent before fork() and takes the plugin's locks so
 * that no operation is half done; parent and child run after it, in each
 * process, and release them; child also drops what must not be shared (a
 * socket, a lock file descriptor, a count of the parent's threads).
 *
 * As with `pthread_atfork`, plugins' prepare hooks run newest first,
 * parent and child hooks oldest first; a hook must not add or remove
 * hooks.  Adding or removing a hook waits for a fork under way: do it in
 * create() and destroy(), not while holding a lock some prepare hook takes
 * (nor in `get_mutex`, which the core calls under a lock of its own).  The
 * core's own locks that are held while calling into a plugin are taken
 * before any plugin's prepare, the rest after.  Hooks run with every other
 * thread stopped in the child: only async-signal-safe calls plus what the
 * plugin's own state allows.  The module of a plugin stays loaded (the
 * core never unloads one), so its functions stay valid.
 *
 * |[<!-- language="C" -->
 * self->fork_hook = dogpile_fork_hook_add (lock_all, unlock_all,
 *                                          child_reset, self);
 * ...
 * dogpile_fork_hook_remove (self->fork_hook);
 * ]|
 */
#pragma once

#if !defined(DOGPILE_INSIDE) && !defined(DOGPILE_COMPILATION)
#error                                                                        \
    "Only <dogpile/dogpile.h> or <dogpile/dogpile-plugin.h> can be included directly."
#endif

#include "dogpile-macros.h"

G_BEGIN_DECLS

/**
 * DogpileForkFunc:
 * @user_data: (closure): the data given to dogpile_fork_hook_add()
 *
 * One of a fork hook's three functions: prepare, parent or child.
 *
 * Thread safety: called from the thread that calls fork(), with the
 * library's fork lock held; in the child, with every other thread gone.
 */
typedef void (*DogpileForkFunc) (gpointer user_data);

/**
 * DogpileForkHook:
 *
 * A registered fork hook, opaque; dogpile_fork_hook_remove() frees it.
 */
typedef struct DogpileForkHook DogpileForkHook;

DOGPILE_API DogpileForkHook *dogpile_fork_hook_add (DogpileForkFunc prepare,
                                                    DogpileForkFunc parent,
                                                    DogpileForkFunc child,
                                                    gpointer user_data);
DOGPILE_API void dogpile_fork_hook_remove (DogpileForkHook *hook);

DOGPILE_API guint dogpile_fork_get_generation (void);

G_END_DECLS
