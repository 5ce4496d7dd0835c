/* dbm-fork.c: what a forked child must not inherit blindly.
 *
 * flock belongs to the open file description, which fork() shares: a child
 * that unlocked an inherited descriptor would unlock its parent, and a
 * child locking one would "share" the parent's lock instead of waiting for
 * it.  gdbm handles share their descriptor's offset too.  So every object
 * holding such state registers a hook: before fork() all their locks are
 * taken (no operation is half done), and in the child each object drops
 * what it inherited.  The module is never unloaded (the loader keeps
 * plugins resident), so the handlers stay valid.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dbm-private.h"

static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;
static DbmForkHook *hooks;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void
prepare (void)
{
  pthread_mutex_lock (&hooks_lock);
  for (DbmForkHook *h = hooks; h != NULL; h = h->next)
    h->lock (h->data);
}

static void
parent (void)
{
  for (DbmForkHook *h = hooks; h != NULL; h = h->next)
    h->unlock (h->data);
  pthread_mutex_unlock (&hooks_lock);
}

static void
child (void)
{
  for (DbmForkHook *h = hooks; h != NULL; h = h->next)
    h->reset (h->data);
  pthread_mutex_unlock (&hooks_lock);
}

static void
install_handlers (void)
{
  pthread_atfork (prepare, parent, child);
}

void
dbm_fork_hook_add (DbmForkHook *hook)
{
  pthread_once (&handlers_once, install_handlers);
  pthread_mutex_lock (&hooks_lock);
  hook->prev = NULL;
  hook->next = hooks;
  if (hooks != NULL)
    hooks->prev = hook;
  hooks = hook;
  pthread_mutex_unlock (&hooks_lock);
}

void
dbm_fork_hook_remove (DbmForkHook *hook)
{
  pthread_mutex_lock (&hooks_lock);
  if (hook->prev != NULL)
    hook->prev->next = hook->next;
  else
    hooks = hook->next;
  if (hook->next != NULL)
    hook->next->prev = hook->prev;
  hook->prev = hook->next = NULL;
  pthread_mutex_unlock (&hooks_lock);
}
