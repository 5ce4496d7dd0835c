/* test-memcached-faults.c: what callers see when memcached servers fail,
 * and what a fork does.
 *  - one of three servers killed: only its keys fail, each with a backend
 *    error naming it, quickly; the other servers' keys work throughout;
 *    restarted on its port, its keys work again with nothing
 *    reconfigured, also for threads sharing the pool;
 *  - bmemcached (replication) goes on working with a replica dead;
 *  - pylibmc with ketama and remove_failed: the dead server's keys move
 *    to the others, as libmemcached does, and the others' keys stay;
 *  - a server that accepts and never answers: every call fails within
 *    socket_timeout; one that never accepts: within the connect timeout;
 *  - a child process uses connections of its own, also while other
 *    threads of its parent use the pool.
 *
 * Runs under memcached-servers.py --servers 3 --per-test (it kills and
 * restarts those servers; a test restarts what it killed).
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-memcached-util.h"

#define N_KEYS 60
#define TIMEOUT 0.5 /* socket_timeout of the tests, seconds */
/* A failing call may take the connect and the I/O timeout, plus slack
 * for a loaded CI machine. */
#define FAILURE_BOUND (2 * TIMEOUT + 0.7)

typedef struct {
  int ports[MC_MAX_SERVERS];
  int n_ports;
  char *url;
  char *keys[N_KEYS];
  int owner[N_KEYS]; /* index into ports of the server holding the key */
} Keys;

/* Writes N_KEYS keys through @b and finds, on the servers themselves,
 * which server each went to; every server got some. */
static void
keys_place (Keys *k, DogpileBackend *b, const char *stem)
{
  int per_server[MC_MAX_SERVERS] = { 0 };

  for (int i = 0; i < N_KEYS; i++)
    {
      k->keys[i] = g_strdup_printf ("%s:%d", stem, i);
      cr_assert (backend_round_trip (b, k->keys[i]), "%s", k->keys[i]);
      k->owner[i] = -1;
      for (int s = 0; s < k->n_ports; s++)
        if (raw_has (k->ports[s], k->keys[i]))
          {
            cr_assert_eq (k->owner[i], -1, "%s is on two servers", k->keys[i]);
            k->owner[i] = s;
            per_server[s]++;
          }
      cr_assert_neq (k->owner[i], -1, "%s is on no server", k->keys[i]);
    }
  for (int s = 0; s < k->n_ports; s++)
    cr_assert_gt (per_server[s], 0, "no key went to server %d", s);
}

static void
keys_init (Keys *k)
{
  k->n_ports = memcached_ports (k->ports);
  cr_assert_geq (k->n_ports, 3, "run under memcached-servers.py --servers 3");
  k->url = urls ();
}

static void
keys_clear (Keys *k)
{
  for (int i = 0; i < N_KEYS; i++)
    g_free (k->keys[i]);
  g_free (k->url);
}

/* The call failed quickly, with a backend error naming the server on
 * @port. */
static void
assert_server_failure (gboolean ok, GError *error, double started, int port,
                       const char *what)
{
  g_autofree char *server
      = g_strdup_printf ("memcached server 127.0.0.1:%d", port);

  assert_bounded_failure (ok, error, started, 0, FAILURE_BOUND, server, what);
}

static DogpileBackend *
backend_with_timeouts (const char *name, const char *url,
                       const char *behaviors)
{
  return behaviors != NULL
             ? memcached_backend (name, "url", url, "socket_timeout", "0.5",
                                  "dead_retry", "1", "behaviors", behaviors,
                                  NULL)
             : memcached_backend (name, "url", url, "socket_timeout", "0.5",
                                  "dead_retry", "1", "hashclient_dead_timeout",
                                  "1", NULL);
}

/* Every key of the dead server @dead fails, every other key works, for
 * get, set and delete and twice (the second time libmemcached knows the
 * server is down). */
static void
check_only_dead_keys_fail (Keys *k, DogpileBackend *b, int dead)
{
  for (int round = 0; round < 2; round++)
    for (int i = 0; i < N_KEYS; i++)
      {
        g_autoptr (GBytes) got = NULL;
        g_autoptr (GBytes) value = bytes_of (k->keys[i]);
        GError *error = NULL;
        double started = monotonic_seconds ();
        gboolean ok = dogpile_backend_get (b, k->keys[i], &got, &error);

        if (k->owner[i] != dead)
          {
            cr_assert (ok, "get %s (a live server's key): %s", k->keys[i],
                       error ? error->message : "");
            cr_assert (bytes_equal (got, k->keys[i]), "%s", k->keys[i]);
            cr_assert (dogpile_backend_set (b, k->keys[i], value, &error),
                       "set %s: %s", k->keys[i], error ? error->message : "");
            continue;
          }
        assert_server_failure (ok, error, started, k->ports[dead], "get");
        g_clear_error (&error);
        started = monotonic_seconds ();
        ok = dogpile_backend_set (b, k->keys[i], value, &error);
        assert_server_failure (ok, error, started, k->ports[dead], "set");
        g_clear_error (&error);
        started = monotonic_seconds ();
        ok = dogpile_backend_delete (b, k->keys[i], &error);
        assert_server_failure (ok, error, started, k->ports[dead], "delete");
        g_clear_error (&error);
      }
}

/* get_multi of the live servers' keys only works, in one call; with a
 * dead server's key among them it fails naming that server. */
static void
check_get_multi_around (Keys *k, DogpileBackend *b, int dead)
{
  const char *live[N_KEYS];
  const char *all[N_KEYS];
  GBytes *values[N_KEYS] = { NULL };
  gsize n_live = 0;
  GError *error = NULL;
  double started;
  gboolean ok;

  for (int i = 0; i < N_KEYS; i++)
    {
      all[i] = k->keys[i];
      if (k->owner[i] != dead)
        live[n_live++] = k->keys[i];
    }
  cr_assert (dogpile_backend_get_multi (b, live, n_live, values, &error),
             "get_multi of live keys: %s", error ? error->message : "");
  for (gsize i = 0; i < n_live; i++)
    {
      cr_assert (bytes_equal (values[i], live[i]), "%s", live[i]);
      g_clear_pointer (&values[i], g_bytes_unref);
    }
  started = monotonic_seconds ();
  ok = dogpile_backend_get_multi (b, all, N_KEYS, values, &error);
  assert_server_failure (ok, error, started, k->ports[dead], "get_multi");
  g_clear_error (&error);
  for (int i = 0; i < N_KEYS; i++)
    cr_assert_null (values[i], "a failed get_multi left values");
}

/* After the restart, within retry_timeout and a little, every key works:
 * the same backend, untouched. */
static void
check_all_keys_come_back (Keys *k, DogpileBackend *b)
{
  double deadline = monotonic_seconds () + 1.0 + 3.0;

  for (int i = 0; i < N_KEYS; i++)
    {
      while (!backend_round_trip (b, k->keys[i]))
        {
          cr_assert (monotonic_seconds () < deadline,
                     "%s still fails after the restart", k->keys[i]);
          g_usleep (50000);
        }
      cr_assert (raw_has (k->ports[k->owner[i]], k->keys[i]),
                 "%s came back on another server", k->keys[i]);
    }
}

static void
check_dead_server (const char *name, const char *behaviors)
{
  Keys k = { 0 };
  g_autoptr (DogpileBackend) b = NULL;
  const int dead = 1;

  keys_init (&k);
  b = backend_with_timeouts (name, k.url, behaviors);
  keys_place (&k, b, name);
  kill_server (k.ports[dead]);
  check_only_dead_keys_fail (&k, b, dead);
  check_get_multi_around (&k, b, dead);
  restart_server (k.ports[dead]);
  check_all_keys_come_back (&k, b);
  keys_clear (&k);
}

TestSuite (dead_server);

Test (dead_server, pylibmc_fails_only_its_keys_then_recovers)
{
  check_dead_server ("pylibmc", NULL);
}

Test (dead_server, pylibmc_ketama_fails_only_its_keys_then_recovers)
{
  /* Without remove_failed the continuum keeps the dead server: its keys
   * fail, none moves. */
  check_dead_server ("pylibmc", "{\"ketama\": True, \"retry_timeout\": 1}");
}

Test (dead_server, memcached_fails_only_its_keys_then_recovers)
{
  check_dead_server ("memcached", NULL);
}

Test (dead_server, pymemcache_fails_only_its_keys_then_recovers)
{
  check_dead_server ("pymemcache", NULL);
}

/* bmemcached writes to every server and reads from the first that
 * answers: with one dead, everything works; a key written meanwhile is
 * on the other two. */
Test (dead_server, bmemcached_goes_on_with_a_replica_dead)
{
  int ports[MC_MAX_SERVERS];
  int n = memcached_ports (ports);
  g_autofree char *url = urls ();
  g_autoptr (DogpileBackend) b
      = backend_with_timeouts ("bmemcached", url, NULL);
  const char *keys[] = { "replica:a", "replica:b" };
  GBytes *values[2] = { NULL, NULL };
  g_autoptr (GError) error = NULL;

  cr_assert_geq (n, 3);
  cr_assert (backend_round_trip (b, "replica:before"));
  kill_server (ports[0]); /* the first, which reads ask first */
  for (int round = 0; round < 2; round++)
    {
      g_autoptr (GBytes) got = NULL;

      cr_assert (dogpile_backend_get (b, "replica:before", &got, &error), "%s",
                 error ? error->message : "");
      cr_assert (bytes_equal (got, "replica:before"));
      cr_assert (backend_round_trip (b, keys[round]));
    }
  cr_assert (dogpile_backend_get_multi (b, keys, 2, values, &error), "%s",
             error ? error->message : "");
  cr_assert (bytes_equal (values[0], keys[0]));
  cr_assert (bytes_equal (values[1], keys[1]));
  g_bytes_unref (values[0]);
  g_bytes_unref (values[1]);
  for (int s = 1; s < n; s++)
    cr_assert (raw_has (ports[s], "replica:a"), "not replicated to %d", s);
  restart_server (ports[0]);
}

/* A server restarted between two calls: the handle's connection is dead
 * and the next call finds out on it.  That call is made again on a new
 * connection: no call fails, for every operation. */
static void
check_first_call_after_restart_works (const char *name)
{
  int ports[MC_MAX_SERVERS];
  g_autofree char *url = NULL;
  g_autoptr (DogpileBackend) b = NULL;
  g_autoptr (DogpileMutex) m = NULL;
  g_autoptr (GBytes) value = bytes_of ("v");
  const char *keys[] = { "restart:a", "restart:b" };
  GBytes *values[] = { value, value };

  memcached_ports (ports);
  url = g_strdup_printf ("127.0.0.1:%d", ports[0]);
  b = memcached_backend (name, "url", url, "pool_size", "1",
                         "distributed_lock", "true", "lock_timeout", "10",
                         NULL);
  m = dogpile_backend_get_mutex (b, "restart:lock");
  for (int op = 0; op < 7; op++)
    {
      GBytes *got[2] = { NULL, NULL };
      g_autoptr (GBytes) one = NULL;
      g_autoptr (GError) error = NULL;
      gboolean ok = FALSE, flag = FALSE;
      const char *what = NULL;

      cr_assert (backend_round_trip (b, "restart:warm"), "op %d", op);
      kill_server (ports[0]);
      restart_server (ports[0]);
      switch (op)
        {
        case 0:
          what = "get";
          ok = dogpile_backend_get (b, "restart:a", &one, &error);
          break;
        case 1:
          what = "set";
          ok = dogpile_backend_set (b, "restart:a", value, &error);
          break;
        case 2:
          what = "delete";
          ok = dogpile_backend_delete (b, "restart:a", &error);
          break;
        case 3:
          what = "get_multi";
          ok = dogpile_backend_get_multi (b, keys, 2, got, &error);
          break;
        case 4:
          what = "set_multi";
          ok = dogpile_backend_set_multi (b, keys, values, 2, &error);
          if (ok)
            ok = dogpile_backend_get_multi (b, keys, 2, got, NULL)
                 && got[0] != NULL && got[1] != NULL;
          break;
        case 5:
          what = "acquire";
          ok = dogpile_mutex_acquire (m, FALSE, &flag, &error) && flag
               && dogpile_mutex_release (m, &error);
          break;
        default:
          what = "locked";
          ok = dogpile_mutex_locked (m, &flag, &error) && !flag;
          break;
        }
      cr_assert (ok, "%s %s after a restart: %s", name, what,
                 error != NULL ? error->message : "wrong result");
      g_clear_pointer (&got[0], g_bytes_unref);
      g_clear_pointer (&got[1], g_bytes_unref);
    }
}

Test (dead_server, pylibmc_first_call_after_a_restart_works)
{
  check_first_call_after_restart_works ("pylibmc");
}

Test (dead_server, bmemcached_first_call_after_a_restart_works)
{
  check_first_call_after_restart_works ("bmemcached");
}

Test (dead_server, memcached_text_first_call_after_a_restart_works)
{
  check_first_call_after_restart_works ("memcached");
}

/* --- threads sharing the pool through the outage ---------------------- */

typedef struct {
  DogpileBackend *backend;
  Keys *keys;
  int dead;
  gint *phase; /* 0 before the kill, 1 down, 2 restarted, 3 stop */
  gint ok[3];  /* successes per phase */
  gint errors;
  gint live_errors;
  gint wrong_errors;
  double longest_failure;
  char *last_error;
} Worker;

static gpointer
hammer (gpointer data)
{
  Worker *w = data;

  for (unsigned n = 0; g_atomic_int_get (w->phase) < 3; n++)
    {
      int i = (int) (n % N_KEYS);
      const char *key = w->keys->keys[i];
      g_autoptr (GBytes) value = bytes_of (key);
      g_autoptr (GBytes) got = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *server = NULL;
      int phase = g_atomic_int_get (w->phase);
      double started = monotonic_seconds ();

      if (dogpile_backend_set (w->backend, key, value, &error)
          && dogpile_backend_get (w->backend, key, &got, &error))
        {
          if (bytes_equal (got, key) && phase < 3)
            g_atomic_int_inc (&w->ok[phase]);
          continue;
        }
      w->errors++;
      w->longest_failure
          = MAX (w->longest_failure, monotonic_seconds () - started);
      server = g_strdup_printf ("memcached server 127.0.0.1:%d",
                                w->keys->ports[w->dead]);
      if (!g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND)
          || strstr (error->message, server) == NULL)
        w->wrong_errors++;
      if (w->keys->owner[i] != w->dead)
        w->live_errors++;
      g_free (w->last_error);
      w->last_error = g_strdup (error->message);
      g_usleep (2000);
    }
  return NULL;
}

Test (dead_server, threads_sharing_the_pool_see_only_its_keys_fail)
{
  Keys k = { 0 };
  g_autoptr (DogpileBackend) b = NULL;
  gint phase = 0;
  Worker workers[6];
  GThread *threads[6];
  const int dead = 2;
  int total_errors = 0, restarted_ok = 0, outage_ok = 0;

  keys_init (&k);
  b = memcached_backend ("pylibmc", "url", k.url, "socket_timeout", "0.5",
                         "dead_retry", "1", "pool_size", "4", NULL);
  keys_place (&k, b, "hammer");
  for (int i = 0; i < 6; i++)
    {
      workers[i] = (Worker){
        .backend = b, .keys = &k, .dead = dead, .phase = &phase
      };
      threads[i] = g_thread_new ("hammer", hammer, &workers[i]);
    }
  g_usleep (300000);
  kill_server (k.ports[dead]);
  g_atomic_int_set (&phase, 1);
  g_usleep (700000); /* down for a while: its calls fail, others work */
  restart_server (k.ports[dead]);
  g_usleep (1000000 + 1000000); /* retry_timeout, then success again */
  g_atomic_int_set (&phase, 2);
  g_usleep (500000);
  g_atomic_int_set (&phase, 3);

  for (int i = 0; i < 6; i++)
    {
      Worker *w = &workers[i];

      g_thread_join (threads[i]);
      cr_assert_gt (w->ok[0], 0, "worker %d worked before the kill", i);
      cr_assert_eq (w->wrong_errors, 0, "worker %d: %s", i, w->last_error);
      cr_assert_eq (w->live_errors, 0,
                    "worker %d: a live server's key failed: %s", i,
                    w->last_error);
      cr_assert (w->longest_failure < FAILURE_BOUND,
                 "worker %d: a failure took %.3f s", i, w->longest_failure);
      total_errors += w->errors;
      outage_ok += w->ok[1];
      restarted_ok += w->ok[2];
      g_free (w->last_error);
    }
  cr_assert_gt (total_errors, 0, "the outage was seen");
  cr_assert_gt (outage_ok, 0, "the live servers' keys worked in the outage");
  cr_assert_gt (restarted_ok, 0, "success again after the restart");
  check_all_keys_come_back (&k, b);
  keys_clear (&k);
}

/* --- remove_failed: the keys move ---------------------------------------- */

/* pylibmc's remove_failed is libmemcached's auto-eject: once a server
 * has failed failure_limit times (counted once per retry_timeout), it
 * leaves the ketama continuum and its keys go to the servers next on the
 * ring until dead_timeout has passed.  (libmemcached 1.1 takes
 * remove_failed's value as a flag only: the count is failure_limit.) */
Test (dead_server, remove_failed_with_ketama_moves_its_keys)
{
  Keys k = { 0 };
  g_autoptr (DogpileBackend) b = NULL;
  const int dead = 0;
  double deadline;

  keys_init (&k);
  b = backend_with_timeouts ("pylibmc", k.url,
                             "{\"ketama\": True, \"remove_failed\": 1, "
                             "\"failure_limit\": 1, \"retry_timeout\": 1, "
                             "\"dead_timeout\": 60}");
  keys_place (&k, b, "eject");
  kill_server (k.ports[dead]);
  deadline = monotonic_seconds () + 3 * FAILURE_BOUND;
  for (int i = 0; i < N_KEYS; i++)
    {
      int failures = 0;

      while (!backend_round_trip (b, k.keys[i]))
        {
          failures++;
          cr_assert (monotonic_seconds () < deadline,
                     "%s still fails (%d times) with remove_failed", k.keys[i],
                     failures);
        }
      if (k.owner[i] != dead)
        cr_assert (raw_has (k.ports[k.owner[i]], k.keys[i]),
                   "%s, a live server's key, moved", k.keys[i]);
      else
        cr_assert (raw_has (k.ports[1], k.keys[i])
                       || raw_has (k.ports[2], k.keys[i]),
                   "%s did not move to a live server", k.keys[i]);
    }
  restart_server (k.ports[dead]);
  keys_clear (&k);
}

/* --- servers that never answer ------------------------------------------ */

Test (timeouts, a_silent_server_fails_every_call_within_socket_timeout)
{
  SilentServer *s = silent_server_start ();
  g_autofree char *url = g_strdup_printf ("127.0.0.1:%d", s->port);
  g_autoptr (DogpileBackend) b = memcached_backend (
      "pylibmc", "url", url, "socket_timeout", "0.3", "distributed_lock",
      "true", "lock_timeout", "10", NULL);
  g_autoptr (DogpileMutex) m = dogpile_backend_get_mutex (b, "k");
  g_autoptr (GBytes) value = bytes_of ("v");
  g_autofree char *server
      = g_strdup_printf ("memcached server 127.0.0.1:%d", s->port);
  const char *keys[] = { "k1", "k2" };
  GBytes *values[] = { value, value };
  GBytes *got_multi[2] = { NULL, NULL };
  const double high = 2 * 0.3 + 0.7;

  for (int round = 0; round < 3; round++)
    {
      g_autoptr (GBytes) got = NULL;
      GError *error = NULL;
      gboolean acquired = FALSE, locked = FALSE, ok;
      double started;

#define CHECK(call, what)                                                     \
  started = monotonic_seconds ();                                             \
  ok = call;                                                                  \
  assert_bounded_failure (ok, error, started, 0, high, server, what);         \
  g_clear_error (&error)

      CHECK (dogpile_backend_get (b, "k", &got, &error), "get");
      CHECK (dogpile_backend_set (b, "k", value, &error), "set");
      CHECK (dogpile_backend_delete (b, "k", &error), "delete");
      CHECK (dogpile_backend_get_multi (b, keys, 2, got_multi, &error),
             "get_multi");
      CHECK (dogpile_backend_set_multi (b, keys, values, 2, &error),
             "set_multi");
      CHECK (dogpile_backend_delete_multi (b, keys, 2, &error),
             "delete_multi");
      CHECK (dogpile_mutex_acquire (m, TRUE, &acquired, &error), "acquire");
      CHECK (dogpile_mutex_locked (m, &locked, &error), "locked");
#undef CHECK
      cr_assert_null (got);
      cr_assert_null (got_multi[0]);
      cr_assert_not (acquired);
      /* past retry_timeout (2 s by default): the server is tried again,
       * and times out again */
      if (round == 1)
        g_usleep (2100000);
    }
  silent_server_stop (s);
}

Test (timeouts, a_server_that_never_accepts_fails_within_the_timeout)
{
  int port;
  int listen_fd = loopback_socket (0, &port);
  int filler = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr = { .sin_family = AF_INET,
                              .sin_port = htons ((uint16_t) port),
                              .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  g_autofree char *url = g_strdup_printf ("127.0.0.1:%d", port);
  g_autofree char *server
      = g_strdup_printf ("memcached server 127.0.0.1:%d", port);
  g_autoptr (DogpileBackend) b = memcached_backend (
      "memcached", "url", url, "socket_timeout", "0.3", NULL);
  g_autoptr (GBytes) got = NULL;
  GError *error = NULL;
  gboolean ok;
  double started;

  /* listen(fd, 0) queues one connection; with it taken, the kernel drops
   * further SYNs and connect() hangs until its timeout. */
  cr_assert (connect (filler, (struct sockaddr *) &addr, sizeof addr) == 0);
  started = monotonic_seconds ();
  ok = dogpile_backend_get (b, "k", &got, &error);
  assert_bounded_failure (ok, error, started, 0.25, 0.3 + 0.7, server,
                          "connect");
  g_clear_error (&error);
  close (filler);
  close (listen_fd);
}

Test (timeouts, nothing_listening_fails_at_once_naming_the_server)
{
  int port = unused_loopback_port ();
  g_autofree char *url = g_strdup_printf ("127.0.0.1:%d", port);
  g_autofree char *server
      = g_strdup_printf ("memcached server 127.0.0.1:%d", port);
  g_autoptr (DogpileBackend) b
      = memcached_backend ("pymemcache", "url", url, NULL);
  g_autoptr (GBytes) got = NULL;
  GError *error = NULL;
  double started = monotonic_seconds ();
  gboolean ok = dogpile_backend_get (b, "k", &got, &error);

  assert_bounded_failure (ok, error, started, 0, 0.7, server, "get");
  g_clear_error (&error);
}

/* --- fork ---------------------------------------------------------------- */

Test (fork, a_child_never_uses_its_parent_s_connections)
{
  int ports[MC_MAX_SERVERS];
  g_autofree char *url = NULL;
  g_autoptr (DogpileBackend) b = NULL;
  long long before;
  pid_t child;

  memcached_ports (ports);
  url = g_strdup_printf ("127.0.0.1:%d", ports[0]);
  b = memcached_backend ("pylibmc", "url", url, NULL);
  cr_assert (backend_round_trip (b, "fork:parent"));
  /* Each raw_stat is a connection of its own, counted too. */
  before = raw_stat (ports[0], "total_connections");
  child = fork ();
  cr_assert (child >= 0);
  if (child == 0)
    _exit (backend_round_trip (b, "fork:child") ? 0 : 1);
  cr_assert_eq (wait_child (child, 10), 0, "the child's calls work");
  cr_assert_eq (raw_stat (ports[0], "total_connections"), before + 2,
                "the child made one connection of its own");
  /* The parent's connection is intact: reused, no new one (a child that
   * closed it or sent quit would force a reconnection). */
  cr_assert (backend_round_trip (b, "fork:parent-again"));
  cr_assert_eq (raw_stat (ports[0], "total_connections"), before + 3);
}

Test (fork, forking_while_other_threads_use_the_pool)
{
  g_autofree char *url = urls ();
  g_autoptr (DogpileBackend) b
      = memcached_backend ("pylibmc", "url", url, "pool_size", "3", NULL);

  fork_while_busy (b, 3, 30);
}
