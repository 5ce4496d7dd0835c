/* dogpile-fork.h: what fork() does to libdogpile, and hooks for plugins.
 *
 * A forked child has one thread, the one that called fork().  Everything
 * the core owns is made safe for it (docs/fork.md): no lock is caught half
 * taken, in-process key mutexes held by the parent's other threads (or by
 * its async tasks) are free again, and regions, registries and the memory
 * backend go on working.  What a plugin owns it makes safe with a hook:
 * prepare runs in the parent before fork() and takes the plugin's locks so
 * that no operation is half done; parent and child run after it, in each
 * process, and release them; child also drops what must not be shared (a
 * socket, a lock file descriptor, a count of the parent's threads).
 *
 * As with pthread_atfork, plugins' prepare hooks run newest first, parent
 * and child hooks oldest first; a hook must not add or remove hooks.
 * Adding or removing a hook waits for a fork under way: do it in create()
 * and destroy(), not while holding a lock some prepare hook takes (nor in
 * get_mutex(), which the core calls under a lock of its own).  The
 * core's own locks that are held while calling into a plugin are taken
 * before any plugin's prepare, the rest after.  Hooks run with
 * every other thread stopped in the child: only async-signal-safe calls
 * plus what the plugin's own state allows.  The module of a plugin stays
 * loaded (the core never unloads one), so its functions stay valid.
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

typedef void (*DogpileForkFunc) (gpointer user_data);

typedef struct DogpileForkHook DogpileForkHook;

/* Any of the three may be NULL.  (transfer full): remove it with
 * dogpile_fork_hook_remove() before @user_data goes away. */
DOGPILE_API DogpileForkHook *dogpile_fork_hook_add (DogpileForkFunc prepare,
                                                    DogpileForkFunc parent,
                                                    DogpileForkFunc child,
                                                    gpointer user_data);
DOGPILE_API void dogpile_fork_hook_remove (DogpileForkHook *hook);

/* How many times this process is a fork() child of a process that used
 * libdogpile (0 in the first process): lets objects made before a fork
 * tell they are the parent's. */
DOGPILE_API guint dogpile_fork_get_generation (void);

G_END_DECLS
