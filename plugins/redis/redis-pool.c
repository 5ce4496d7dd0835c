/* redis-pool.c: connection pools, and what a fork does to them.
 *
 * The hit path takes the pool's mutex twice (pop an idle connection, push
 * it back), uncontended almost always since it is held for a few
 * instructions and never across I/O.  Connecting happens outside it.
 *
 * Fork (on the core's hooks, dogpile-fork.h): every pool is on one list.
 * Before a fork the prepare hook takes the list's lock and every pool's,
 * so no pool is caught half changed by a thread that does not exist in
 * the child (the routers' locks, registered as RedisForkHooks, are taken
 * first: a router may create a pool while it holds its own lock); the
 * parent hook releases them; the child hook gives each pool a fresh
 * condition variable (the waiters were threads of the parent) and
 * releases them, the core having counted the fork generation.  The connections
 * themselves are dealt with lazily, at the child's first acquire on each pool,
 * so a child that only executes another program does no work (the sockets are
 * close-on-exec).
 *
 * pthread primitives rather than GMutex/GCond: ThreadSanitizer sees them,
 * and the condition variable must wait on CLOCK_MONOTONIC.
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-pool.h"

#include <pthread.h>
#include <time.h>

struct RedisPool {
  pthread_mutex_t lock;
  pthread_cond_t available;
  RedisPool *prev, *next; /* on the list of all pools */

  RedisEndpoint endpoint;
  const RedisConnectOptions *options;
  guint size;

  guint n_open;    /* idle + busy + being connected */
  guint n_waiting; /* callers waiting for a connection */
  guint n_idle;
  RedisConnection **idle; /* a stack: the most recently used first */
  RedisConnection **all;  /* size slots: every open connection */
  guint epoch;            /* bumped by redis_pool_drop_idle */
  guint generation;       /* the fork generation of the connections */
};

/* Marks a slot whose connection is being made. */
static char reserved_marker;
#define RESERVED ((RedisConnection *) &reserved_marker)

static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;
static RedisPool *pools;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void
init_condition (pthread_cond_t *cond)
{
  pthread_condattr_t attr;

  pthread_condattr_init (&attr);
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_cond_init (cond, &attr);
  pthread_condattr_destroy (&attr);
}

static void
before_fork (gpointer unused)
{
  pthread_mutex_lock (&pools_lock);
  for (RedisPool *p = pools; p != NULL; p = p->next)
    pthread_mutex_lock (&p->lock);
}

static void
after_fork_in_parent (gpointer unused)
{
  for (RedisPool *p = pools; p != NULL; p = p->next)
    pthread_mutex_unlock (&p->lock);
  pthread_mutex_unlock (&pools_lock);
}

static void
after_fork_in_child (gpointer unused)
{
  redis_connection_after_fork_in_child ();
  for (RedisPool *p = pools; p != NULL; p = p->next)
    {
      init_condition (&p->available);
      p->n_waiting = 0;
      pthread_mutex_unlock (&p->lock);
    }
  pthread_mutex_unlock (&pools_lock);
}

/* The pools' hook is the plugin's first: the routers' hooks, added later,
 * prepare (take their locks) before it, as a router may create a pool
 * while it holds its own lock. */
static void
install_fork_handlers (void)
{
  dogpile_fork_hook_add (before_fork, after_fork_in_parent,
                         after_fork_in_child, NULL);
}

RedisPool *
redis_pool_new (const RedisEndpoint *endpoint,
                const RedisConnectOptions *options, guint size)
{
  RedisPool *self = g_new0 (RedisPool, 1);

  pthread_once (&atfork_once, install_fork_handlers);
  pthread_mutex_init (&self->lock, NULL);
  init_condition (&self->available);
  redis_endpoint_copy (&self->endpoint, endpoint);
  self->options = options;
  self->size = size;
  self->idle = g_new0 (RedisConnection *, size);
  self->all = g_new0 (RedisConnection *, size);

  pthread_mutex_lock (&pools_lock);
  self->generation = dogpile_fork_get_generation ();
  self->next = pools;
  if (pools != NULL)
    pools->prev = self;
  pools = self;
  pthread_mutex_unlock (&pools_lock);
  return self;
}

static gboolean
is_idle (RedisPool *self, RedisConnection *connection)
{
  for (guint i = 0; i < self->n_idle; i++)
    if (self->idle[i] == connection)
      return TRUE;
  return FALSE;
}

/* In a child process, the connections are the parent's.  Their sockets
 * are closed here, in the child only (close(2) on a descriptor the parent
 * also holds sends nothing).  An idle one is freed; one that a thread of
 * the parent was using at the fork is abandoned, never freed: that thread
 * does not exist here, and it may have been halfway through changing the
 * connection's buffers (freeing them then is a double free).  Called with
 * the lock held. */
static void
close_parent_connections (RedisPool *self)
{
  for (guint i = 0; i < self->size; i++)
    {
      if (self->all[i] != NULL && self->all[i] != RESERVED)
        {
          if (is_idle (self, self->all[i]))
            redis_connection_free (self->all[i]);
          else
            redis_connection_abandon (self->all[i]);
        }
      self->all[i] = NULL;
    }
}

/* First use in a child process: see close_parent_connections. */
static void
forget_parent_connections (RedisPool *self, guint generation)
{
  close_parent_connections (self);
  self->n_open = 0;
  self->n_idle = 0;
  self->generation = generation;
}

void
redis_pool_free (RedisPool *self)
{
  if (self == NULL)
    return;
  pthread_mutex_lock (&pools_lock);
  if (self->prev != NULL)
    self->prev->next = self->next;
  else
    pools = self->next;
  if (self->next != NULL)
    self->next->prev = self->prev;
  pthread_mutex_unlock (&pools_lock);

  /* In a child of a fork the connections may still be the parent's: then
   * those that were busy at the fork are abandoned, not freed.  Else
   * every connection is idle (a pool is freed when nobody uses it). */
  if (self->generation != dogpile_fork_get_generation ())
    close_parent_connections (self);
  for (guint i = 0; i < self->size; i++)
    if (self->all[i] != NULL && self->all[i] != RESERVED)
      redis_connection_free (self->all[i]);
  g_free (self->idle);
  g_free (self->all);
  redis_endpoint_clear (&self->endpoint);
  pthread_mutex_destroy (&self->lock);
  pthread_cond_destroy (&self->available);
  g_free (self);
}

/* Waits, locked, for a connection to be released, at most until the
 * call's deadline. */
static gboolean
wait_for_connection (RedisPool *self, const RedisDeadline *deadline,
                     GError **error)
{
  gint64 until = redis_deadline_end (deadline);
  struct timespec ts;

  if (g_get_monotonic_time () >= until)
    {
      g_autofree char *budget = redis_deadline_describe (deadline);

      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND,
                   "%s at %s: timed out after %s waiting for one of the %u "
                   "connections (connection_pool_size), all busy (the "
                   "call's deadline)",
                   self->options->product, self->endpoint.display, budget,
                   self->size);
      return FALSE;
    }
  /* g_get_monotonic_time () is CLOCK_MONOTONIC, the condition's clock. */
  ts.tv_sec = (time_t) (until / G_USEC_PER_SEC);
  ts.tv_nsec = (long) (until % G_USEC_PER_SEC) * 1000;
  self->n_waiting++;
  pthread_cond_timedwait (&self->available, &self->lock, &ts);
  self->n_waiting--;
  return TRUE;
}

/**
 * redis_pool_acquire:
 * @self: a pool
 * @deadline: the call's
 * @error: return location for a #GError
 *
 * An idle connection, else a new one if fewer than size are open, else
 * the first one released before @deadline.
 *
 * Returns: (transfer full): a connection to give back with
 * redis_pool_release(), or %NULL with %DOGPILE_ERROR_BACKEND.
 */
RedisConnection *
redis_pool_acquire (RedisPool *self, RedisDeadline *deadline, GError **error)
{
  guint generation = dogpile_fork_get_generation ();
  RedisConnection *connection;
  guint slot;

  pthread_mutex_lock (&self->lock);
  if (G_UNLIKELY (self->generation != generation))
    forget_parent_connections (self, generation);
  while (self->n_idle == 0 && self->n_open >= self->size)
    if (!wait_for_connection (self, deadline, error))
      {
        pthread_mutex_unlock (&self->lock);
        return NULL;
      }
  if (self->n_idle > 0)
    {
      connection = self->idle[--self->n_idle];
      pthread_mutex_unlock (&self->lock);
      return connection;
    }

  for (slot = 0; self->all[slot] != NULL; slot++)
    ;
  self->all[slot] = RESERVED;
  self->n_open++;
  pthread_mutex_unlock (&self->lock);

  connection = redis_connection_open (&self->endpoint, self->options, deadline,
                                      error);

  pthread_mutex_lock (&self->lock);
  if (connection == NULL)
    {
      self->all[slot] = NULL;
      self->n_open--;
      if (self->n_waiting > 0)
        pthread_cond_signal (&self->available);
    }
  else
    {
      connection->pool_slot = slot;
      connection->pool_epoch = self->epoch;
      self->all[slot] = connection;
    }
  pthread_mutex_unlock (&self->lock);
  return connection;
}

void
redis_pool_release (RedisPool *self, RedisConnection *connection)
{
  gboolean drop;

  pthread_mutex_lock (&self->lock);
  drop = redis_connection_is_broken (connection)
         || connection->pool_epoch != self->epoch;
  if (drop)
    {
      self->all[connection->pool_slot] = NULL;
      self->n_open--;
    }
  else
    self->idle[self->n_idle++] = connection;
  if (self->n_waiting > 0)
    pthread_cond_signal (&self->available);
  pthread_mutex_unlock (&self->lock);
  if (drop)
    redis_connection_free (connection);
}

void
redis_pool_drop_idle (RedisPool *self)
{
  RedisConnection **doomed;
  guint n;

  pthread_mutex_lock (&self->lock);
  self->epoch++;
  n = self->n_idle;
  doomed = g_memdup2 (self->idle, sizeof (RedisConnection *) * MAX (n, 1));
  for (guint i = 0; i < n; i++)
    self->all[doomed[i]->pool_slot] = NULL;
  self->n_open -= n;
  self->n_idle = 0;
  if (self->n_waiting > 0)
    pthread_cond_broadcast (&self->available);
  pthread_mutex_unlock (&self->lock);

  for (guint i = 0; i < n; i++)
    redis_connection_free (doomed[i]);
  g_free (doomed);
}

const RedisEndpoint *
redis_pool_get_endpoint (RedisPool *self)
{
  return &self->endpoint;
}

guint
redis_fork_generation (void)
{
  return dogpile_fork_get_generation ();
}

const RedisConnectOptions *
redis_pool_get_options (RedisPool *self)
{
  return self->options;
}

static void
hook_prepare (gpointer hook)
{
  ((RedisForkHook *) hook)->prepare (hook);
}

static void
hook_parent (gpointer hook)
{
  ((RedisForkHook *) hook)->parent (hook);
}

static void
hook_child (gpointer hook)
{
  ((RedisForkHook *) hook)->child (hook);
}

void
redis_fork_hook_add (RedisForkHook *hook)
{
  pthread_once (&atfork_once, install_fork_handlers);
  hook->registered
      = dogpile_fork_hook_add (hook_prepare, hook_parent, hook_child, hook);
}

void
redis_fork_hook_remove (RedisForkHook *hook)
{
  dogpile_fork_hook_remove (hook->registered);
  hook->registered = NULL;
}
