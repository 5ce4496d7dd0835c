/* dogpile-fork.c: one pthread_atfork for the whole library and its
 * plugins, and the hooks on it.
 *
 * The hooks are doubly linked lists under one lock that prepare takes and
 * parent and child release: a hook added or removed while a fork is under
 * way waits for it.  pthread rather than GMutex so
 * ThreadSanitizer sees the lock.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

#include <pthread.h>

struct DogpileForkHook {
  DogpileForkFunc prepare, parent, child;
  gpointer user_data;
  int tier;
  DogpileForkHook *newer, *older;
};

/* Three tiers, so that locks are taken in the order the code nests them:
 * the core's outer locks, held while calling into a plugin (a name
 * registry's shard while a backend makes a key's mutex, a registry while
 * a module loads); then the plugins'; then the core's inner locks, held
 * for a few instructions and never around a call out (key mutexes). */
static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;
static DogpileForkHook *newest[DOGPILE__FORK_N_TIERS];
static DogpileForkHook *oldest[DOGPILE__FORK_N_TIERS];
static pthread_once_t installed = PTHREAD_ONCE_INIT;
static gint generation;

static void
run_prepare (void)
{
  pthread_mutex_lock (&hooks_lock);
  for (int t = 0; t < DOGPILE__FORK_N_TIERS; t++)
    for (DogpileForkHook *h = newest[t]; h != NULL; h = h->older)
      if (h->prepare != NULL)
        h->prepare (h->user_data);
}

/* After fork(): the reverse order, innermost first. */
static void
run_after (gboolean in_child)
{
  for (int t = DOGPILE__FORK_N_TIERS - 1; t >= 0; t--)
    for (DogpileForkHook *h = oldest[t]; h != NULL; h = h->newer)
      {
        DogpileForkFunc f = in_child ? h->child : h->parent;

        if (f != NULL)
          f (h->user_data);
      }
  pthread_mutex_unlock (&hooks_lock);
}

static void
run_parent (void)
{
  run_after (FALSE);
}

static void
run_child (void)
{
  g_atomic_int_inc (&generation);
  run_after (TRUE);
}

static void
install (void)
{
  /* libdogpile is never unloaded while its plugins are resident. */
  pthread_atfork (run_prepare, run_parent, run_child);
}

DogpileForkHook *
dogpile__fork_hook_add (int tier, DogpileForkFunc prepare,
                        DogpileForkFunc parent, DogpileForkFunc child,
                        gpointer user_data)
{
  DogpileForkHook *hook = g_new0 (DogpileForkHook, 1);

  hook->prepare = prepare;
  hook->parent = parent;
  hook->child = child;
  hook->user_data = user_data;
  hook->tier = tier;
  pthread_once (&installed, install);
  pthread_mutex_lock (&hooks_lock);
  hook->older = newest[tier];
  if (newest[tier] != NULL)
    newest[tier]->newer = hook;
  else
    oldest[tier] = hook;
  newest[tier] = hook;
  pthread_mutex_unlock (&hooks_lock);
  return hook;
}

/**
 * dogpile_fork_hook_add:
 * @prepare: (nullable): run in the parent before fork(), newest hook first
 * @parent: (nullable): run in the parent after fork(), oldest hook first
 * @child: (nullable): run in the child after fork(), oldest hook first
 * @user_data: (closure): passed to each
 *
 * Registers what fork() must do for an object of a plugin (see the
 * section's description and docs/fork.md).  Plugins' prepare hooks run
 * after the core's outer locks are taken and before its inner ones; their
 * parent and child hooks in the reverse order.  Remove the hook with
 * dogpile_fork_hook_remove() before @user_data goes away.
 *
 * Thread safety: any thread, concurrently with other calls; it waits for a
 * fork under way, so never call it from a hook, while holding a lock a
 * prepare hook takes, or from a plugin's `get_mutex`.
 *
 * Returns: (transfer full): the hook, for dogpile_fork_hook_remove()
 */
DogpileForkHook *
dogpile_fork_hook_add (DogpileForkFunc prepare, DogpileForkFunc parent,
                       DogpileForkFunc child, gpointer user_data)
{
  return dogpile__fork_hook_add (DOGPILE__FORK_PLUGIN, prepare, parent, child,
                                 user_data);
}

/**
 * dogpile_fork_hook_remove:
 * @hook: (transfer full): a hook from dogpile_fork_hook_add()
 *
 * Unregisters and frees @hook: after it returns, no function of @hook runs
 * again.
 *
 * Thread safety: any thread, concurrently with other calls; like
 * dogpile_fork_hook_add(), it waits for a fork under way, so never call it
 * from a hook or while holding a lock a prepare hook takes.
 */
void
dogpile_fork_hook_remove (DogpileForkHook *hook)
{
  g_return_if_fail (hook != NULL);

  pthread_mutex_lock (&hooks_lock);
  if (hook->newer != NULL)
    hook->newer->older = hook->older;
  else
    newest[hook->tier] = hook->older;
  if (hook->older != NULL)
    hook->older->newer = hook->newer;
  else
    oldest[hook->tier] = hook->newer;
  pthread_mutex_unlock (&hooks_lock);
  g_free (hook);
}

/**
 * dogpile_fork_get_generation:
 *
 * How many times this process is a fork() child of a process that used
 * libdogpile: lets objects made before a fork tell they are the parent's
 * (a connection pool comparing the generation it was made in, for
 * example).
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: how many fork() children deep this process is, counted from the
 *   first process that registered a hook (0 in that process)
 */
guint
dogpile_fork_get_generation (void)
{
  return (guint) g_atomic_int_get (&generation);
}
