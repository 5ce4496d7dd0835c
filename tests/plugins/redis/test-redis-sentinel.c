/* test-redis-sentinel.c: dogpile.cache.redis_sentinel behind a real
 * sentinel watching a real master and replica (tests/redis-servers.py
 * --topology sentinel), one topology for the whole program.  Tests that
 * fail over leave a master and a healthy replica behind, so every test
 * finds the master through the sentinel rather than from REDIS_PORT.
 *
 *  - the master found through the sentinel, reads from it by default,
 *    from the replica with read_from_replicas;
 *  - sentinels tried in turn, each failure named; sentinel credentials;
 *  - SENTINEL FAILOVER during a run: the plugin follows with no
 *    reconfiguration and no error once the failover is over;
 *  - the master killed: calls fail fast, rediscovery is rate-limited, the
 *    promoted replica is found;
 *  - a demoted master answering READONLY: a clear error while the
 *    sentinel still names it, the new master as soon as it names that.
 *
 * SPDX-License-Identifier: MIT
 */
#include <signal.h>

#include "test-redis-util.h"

#define BACKEND "dogpile.cache.redis_sentinel"

static int sentinel_ports[8];
static int n_sentinels;
static const char *service;

static void
load_ports (void)
{
  n_sentinels = ports_from_env ("REDIS_SENTINEL_PORTS", sentinel_ports, 8);
  service = g_getenv ("REDIS_SENTINEL_SERVICE");
  cr_assert_not_null (service);
}

/* sentinels, service_name, socket_timeout 1, then name/value pairs. */
static GHashTable *
sentinel_arguments (const char *first_name, ...)
{
  g_autofree char *sentinels = addresses_from_env ("REDIS_SENTINEL_PORTS");
  GHashTable *table = arguments_of ("sentinels", sentinels, "service_name",
                                    service, "socket_timeout", "1", NULL);
  va_list ap;

  va_start (ap, first_name);
  arguments_add_valist (table, first_name, ap);
  va_end (ap);
  return table;
}

static DogpileBackend *
sentinel_backend (GHashTable *arguments)
{
  return redis_backend_named (BACKEND, arguments);
}

/* The server of the pair that the sentinel does not name. */
static int
replica_port (int master)
{
  int a = redis_port (), b = atoi (g_getenv ("REDIS_REPLICA_PORT"));

  return master == a ? b : a;
}

static char *
role_of (int port)
{
  redisContext *c = raw_try_connect_to (port, 0.5);
  redisReply *reply;
  char *role = NULL;

  if (c == NULL)
    return NULL;
  reply = redisCommand (c, "ROLE");
  if (reply != NULL && reply->type == REDIS_REPLY_ARRAY)
    role = g_strdup (reply->element[0]->str);
  if (reply != NULL)
    freeReplyObject (reply);
  redisFree (c);
  return role;
}

static char *
raw_get (int port, const char *key)
{
  redisContext *c = raw_connect_to (port);
  redisReply *reply = raw_command (c, "GET %s", key);
  char *value
      = reply->type == REDIS_REPLY_STRING ? g_strdup (reply->str) : NULL;

  freeReplyObject (reply);
  redisFree (c);
  return value;
}

/* Connections the sentinels accepted so far.  A discovery opens one to
 * each sentinel it asks (the first, when its answer checks out), and
 * Sentinel's INFO has no commandstats, so this counts discoveries between
 * two readings taken while the test itself leaves the sentinels alone
 * (each reading adds its own connection). */
static long long
sentinel_connections (void)
{
  long long total = 0;

  for (int i = 0; i < n_sentinels; i++)
    {
      g_autofree char *n = raw_info_string (sentinel_ports[i], "stats",
                                            "total_connections_received");

      cr_assert_not_null (n);
      total += strtoll (n, NULL, 10);
    }
  return total;
}

static long long
discoveries_since (long long connections)
{
  return sentinel_connections () - connections - n_sentinels;
}

/* Whether every sentinel lists the server at @port as a healthy replica
 * and the server's link to its master is up. */
static gboolean
replica_ready (gpointer data)
{
  int port = GPOINTER_TO_INT (data);
  g_autofree char *link
      = raw_info_string (port, "replication", "master_link_status");

  if (link == NULL || strcmp (link, "up") != 0)
    return FALSE;
  for (int i = 0; i < n_sentinels; i++)
    {
      redisContext *c = raw_try_connect_to (sentinel_ports[i], 0.5);
      redisReply *reply;
      gboolean found = FALSE;

      if (c == NULL)
        return FALSE;
      reply = redisCommand (c, "SENTINEL replicas %s", service);
      for (size_t r = 0; reply != NULL && r < reply->elements; r++)
        {
          redisReply *f = reply->element[r];
          gboolean this_port = FALSE, healthy = FALSE, linked = FALSE;

          for (size_t k = 0; k + 1 < f->elements; k += 2)
            {
              const char *name = f->element[k]->str;
              const char *value = f->element[k + 1]->str;

              if (strcmp (name, "port") == 0)
                this_port = atoi (value) == port;
              else if (strcmp (name, "flags") == 0)
                healthy = strcmp (value, "slave") == 0;
              else if (strcmp (name, "master-link-status") == 0)
                linked = strcmp (value, "ok") == 0;
            }
          found = found || (this_port && healthy && linked);
        }
      if (reply != NULL)
        freeReplyObject (reply);
      redisFree (c);
      if (!found)
        return FALSE;
    }
  return TRUE;
}

static gboolean
names_master (gpointer data)
{
  return sentinel_master_port () == GPOINTER_TO_INT (data);
}

static gboolean
is_master (gpointer data)
{
  g_autofree char *role = role_of (GPOINTER_TO_INT (data));

  return role != NULL && strcmp (role, "master") == 0;
}

static gboolean
is_replica (gpointer data)
{
  g_autofree char *role = role_of (GPOINTER_TO_INT (data));

  return role != NULL && strcmp (role, "slave") == 0;
}

TestSuite (redis_sentinel, .init = load_ports, .timeout = 60);

Test (redis_sentinel, the_master_is_found_and_serves_reads_by_default)
{
  g_autoptr (GHashTable) a = sentinel_arguments (NULL);
  g_autoptr (DogpileBackend) backend = sentinel_backend (a);
  int master = sentinel_master_port (), replica = replica_port (master);
  const char *keys[2] = { "found:1", "found:2" };
  GBytes *got[2] = { NULL, NULL };
  g_autofree char *there = NULL;
  long long replica_gets, replica_mgets, master_gets;

  set_value (backend, "found:1", "on the master");
  there = raw_get (master, "found:1");
  cr_assert_str_eq (there, "on the master");
  replica_gets = raw_command_calls (replica, "get");
  replica_mgets = raw_command_calls (replica, "mget");
  master_gets = raw_command_calls (master, "get");
  for (int i = 0; i < 3; i++)
    assert_get (backend, "found:1", "on the master");
  cr_assert (dogpile_backend_get_multi (backend, keys, 2, got, NULL));
  cr_assert (bytes_equal (got[0], "on the master") && got[1] == NULL);
  g_bytes_unref (got[0]);
  cr_assert_eq (raw_command_calls (master, "get"), master_gets + 3);
  cr_assert_eq (raw_command_calls (replica, "get"), replica_gets,
                "read_from_replicas=false: nothing read from the replica");
  cr_assert_eq (raw_command_calls (replica, "mget"), replica_mgets);
}

Test (redis_sentinel, read_from_replicas_reads_from_the_replica)
{
  g_autoptr (GHashTable) a
      = sentinel_arguments ("read_from_replicas", "true", NULL);
  g_autoptr (DogpileBackend) backend = sentinel_backend (a);
  int master = sentinel_master_port (), replica = replica_port (master);
  const char *keys[1] = { "replicated" };
  GBytes *got[1] = { NULL };
  redisContext *raw = raw_connect_to (master);
  long long replica_gets, replica_mgets, master_gets, master_sets;

  master_sets = raw_command_calls (master, "set");
  set_value (backend, "replicated", "copied");
  cr_assert_eq (raw_command_calls (master, "set"), master_sets + 1,
                "writes go to the master");
  wait_for_replica (raw);
  replica_gets = raw_command_calls (replica, "get");
  replica_mgets = raw_command_calls (replica, "mget");
  master_gets = raw_command_calls (master, "get");
  assert_get (backend, "replicated", "copied");
  cr_assert (dogpile_backend_get_multi (backend, keys, 1, got, NULL));
  cr_assert (bytes_equal (got[0], "copied"));
  g_bytes_unref (got[0]);
  cr_assert_eq (raw_command_calls (replica, "get"), replica_gets + 1);
  cr_assert_eq (raw_command_calls (replica, "mget"), replica_mgets + 1);
  cr_assert_eq (raw_command_calls (master, "get"), master_gets);
  redisFree (raw);
}

Test (redis_sentinel, a_silent_replica_is_skipped_for_reads)
{
  g_autoptr (GHashTable) a = sentinel_arguments (
      "read_from_replicas", "true", "socket_timeout", "0.3", NULL);
  g_autoptr (DogpileBackend) backend = sentinel_backend (a);
  int master = sentinel_master_port (), replica = replica_port (master);
  pid_t pid = redis_server_pid (replica);
  redisContext *raw = raw_connect_to (master);
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;
  long long master_gets;
  double start;

  cr_assert (wait_for (replica_ready, GINT_TO_POINTER (replica), 10));
  set_value (backend, "skipped", "here");
  wait_for_replica (raw);
  assert_get (backend, "skipped", "here");

  cr_assert_eq (kill (pid, SIGSTOP), 0);
  start = monotonic_seconds ();
  cr_assert_not (dogpile_backend_get (backend, "skipped", &got, &error));
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (strstr (error->message, "timed out") != NULL, "%s",
             error->message);
  cr_assert_lt (monotonic_seconds () - start, 0.3 + 0.25);
  /* The replica is left alone for a while: the master serves. */
  master_gets = raw_command_calls (master, "get");
  start = monotonic_seconds ();
  for (int i = 0; i < 5; i++)
    assert_get (backend, "skipped", "here");
  cr_assert_lt (monotonic_seconds () - start, 0.2);
  cr_assert_eq (raw_command_calls (master, "get"), master_gets + 5);
  cr_assert_eq (kill (pid, SIGCONT), 0);
  cr_assert (wait_for (replica_ready, GINT_TO_POINTER (replica), 10));
  redisFree (raw);
}

Test (redis_sentinel, sentinels_are_asked_in_turn_and_each_failure_named)
{
  int silent_port;
  int silent = loopback_socket (16, &silent_port);
  int refused = unused_loopback_port ();
  g_autofree char *list
      = g_strdup_printf ("127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d", refused,
                         silent_port, sentinel_ports[0]);
  g_autofree char *dead
      = g_strdup_printf ("127.0.0.1:%d 127.0.0.1:%d", refused, silent_port);
  g_autofree char *real = addresses_from_env ("REDIS_SENTINEL_PORTS");
  g_autoptr (GHashTable) a
      = sentinel_arguments ("sentinels", list, "socket_timeout", "0.3", NULL);
  g_autoptr (GHashTable) b
      = sentinel_arguments ("sentinels", dead, "socket_timeout", "0.3", NULL);
  g_autoptr (GHashTable) c = sentinel_arguments (
      "sentinels", real, "service_name", "no-such-service", NULL);
  g_autoptr (DogpileBackend) backend = sentinel_backend (a);
  g_autoptr (DogpileBackend) hopeless = sentinel_backend (b);
  g_autoptr (DogpileBackend) unknown = sentinel_backend (c);
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;
  double start = monotonic_seconds (), took;

  /* The refused sentinel costs nothing; the silent one its share of the
   * call's socket_timeout (half of it: two sentinels were left to ask),
   * and the third answers within the rest. */
  set_value (backend, "in-turn", "found");
  took = monotonic_seconds () - start;
  cr_assert (took >= 0.14 && took < 0.3 + 0.5,
             "half a socket_timeout on the silent sentinel: %g s", took);
  start = monotonic_seconds ();
  assert_get (backend, "in-turn", "found");
  cr_assert_lt (monotonic_seconds () - start, 0.1, "the master is kept");

  start = monotonic_seconds ();
  cr_assert_not (dogpile_backend_get (hopeless, "k", &got, &error));
  took = monotonic_seconds () - start;
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (strstr (error->message, "cannot find the master of") != NULL,
             "%s", error->message);
  cr_assert (strstr (error->message, "Connection refused") != NULL, "%s",
             error->message);
  cr_assert (strstr (error->message, "timed out") != NULL, "%s",
             error->message);
  cr_assert_lt (took, 0.3 + 0.3, "%g s", took);
  g_clear_error (&error);

  cr_assert_not (dogpile_backend_get (unknown, "k", &got, &error));
  cr_assert (
      strstr (error->message, "does not know the service 'no-such-service'")
          != NULL,
      "%s", error->message);
  close (silent);
}

static void
on_every_sentinel_raw (const char *command)
{
  for (int i = 0; i < n_sentinels; i++)
    {
      redisContext *c = raw_connect_to (sentinel_ports[i]);
      redisReply *reply = redisCommand (c, "AUTH default sentinel-default");

      if (reply != NULL)
        freeReplyObject (reply);
      freeReplyObject (raw_command (c, command));
      redisFree (c);
    }
}

/* Whatever happened, the sentinels' default user needs no password
 * again. */
static void
open_sentinels (void)
{
  load_ports ();
  on_every_sentinel_raw ("ACL SETUSER default nopass");
  on_every_sentinel_raw ("ACL DELUSER dogpile-test");
}

Test (redis_sentinel, sentinel_credentials_are_their_own,
      .fini = open_sentinels)
{
  g_autoptr (GHashTable) right
      = sentinel_arguments ("sentinel_username", "dogpile-test",
                            "sentinel_password", "s3cret", NULL);
  g_autoptr (GHashTable) wrong = sentinel_arguments (
      "sentinel_username", "dogpile-test", "sentinel_password", "wrong", NULL);
  g_autoptr (GHashTable) none = sentinel_arguments (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) got = NULL;

  /* The sentinels now take only a named user; the master takes anyone. */
  on_every_sentinel_raw ("ACL SETUSER dogpile-test on >s3cret +@all");
  on_every_sentinel_raw ("ACL SETUSER default resetpass >sentinel-default");
  {
    g_autoptr (DogpileBackend) backend = sentinel_backend (right);

    set_value (backend, "credentials", "ok");
    assert_get (backend, "credentials", "ok");
  }
  {
    g_autoptr (DogpileBackend) backend = sentinel_backend (wrong);

    cr_assert_not (dogpile_backend_get (backend, "credentials", &got, &error));
    assert_error (error, DOGPILE_ERROR_BACKEND);
    cr_assert (strstr (error->message, "AUTH failed: WRONGPASS") != NULL, "%s",
               error->message);
    g_clear_error (&error);
  }
  {
    g_autoptr (DogpileBackend) backend = sentinel_backend (none);

    cr_assert_not (dogpile_backend_get (backend, "credentials", &got, &error));
    cr_assert (strstr (error->message, "NOAUTH") != NULL, "%s",
               error->message);
  }
}

Test (redis_sentinel, the_lock_is_distributed_by_default)
{
  g_autoptr (GHashTable) a = sentinel_arguments (NULL);
  g_autoptr (DogpileBackend) backend = sentinel_backend (a);
  g_autoptr (DogpileMutex) mutex
      = dogpile_backend_get_mutex (backend, "guarded");
  redisContext *raw = raw_connect_to (sentinel_master_port ());
  gboolean acquired = FALSE;

  cr_assert_not_null (mutex, "sentinel mode defaults distributed_lock=true");
  cr_assert (dogpile_mutex_acquire (mutex, TRUE, &acquired, NULL) && acquired);
  cr_assert_eq (raw_integer (raw, "EXISTS _lockguarded"), 1);
  cr_assert (dogpile_mutex_release (mutex, NULL));
  cr_assert_eq (raw_integer (raw, "EXISTS _lockguarded"), 0);
  redisFree (raw);
}

/* --- failovers ---------------------------------------------------------- */

typedef struct {
  DogpileBackend *backend;
  int id;
  gint *stop;
  gint *phase; /* 0 until the failover is over, then 1 */
  int ok[2];
  int errors[2];
  int errors_after_recovery; /* phase 1, after this thread's first success */
  double slowest_error;
  char *last_error;
} Runner;

static gpointer
runner (gpointer data)
{
  Runner *r = data;

  for (int i = 0; !g_atomic_int_get (r->stop); i++)
    {
      int phase = g_atomic_int_get (r->phase);
      char key[48], value[48];
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GBytes) got = NULL;
      GError *error = NULL;
      double start = monotonic_seconds ();
      gboolean ok;

      g_snprintf (key, sizeof key, "run:%d:%d", r->id, i % 50);
      g_snprintf (value, sizeof value, "%d", i);
      bytes = bytes_of (value);
      ok = dogpile_backend_set (r->backend, key, bytes, &error)
           && dogpile_backend_get (r->backend, key, &got, &error)
           && bytes_equal (got, value);
      if (ok)
        r->ok[phase]++;
      else
        {
          double took = monotonic_seconds () - start;

          r->errors[phase]++;
          if (phase == 1 && r->ok[1] > 0)
            r->errors_after_recovery++;
          r->slowest_error = MAX (r->slowest_error, took);
          g_free (r->last_error);
          r->last_error
              = g_strdup (error != NULL ? error->message : "a wrong value");
        }
      g_clear_error (&error);
      g_usleep (1000);
    }
  return NULL;
}

typedef struct {
  Runner *runners;
  int n;
} Runners;

static gboolean
recovered (gpointer data)
{
  Runners *all = data;

  for (int t = 0; t < all->n; t++)
    if (g_atomic_int_get (&all->runners[t].ok[1]) < 20)
      return FALSE;
  return TRUE;
}

/* Returns how many connections to the sentinel it took. */
static int
failover_now (void)
{
  double deadline = monotonic_seconds () + 10;
  int attempts = 0;

  /* The sentinel refuses while it has no replica it trusts yet
   * (NOGOODSLAVE) or a failover is still going on (INPROG). */
  for (;;)
    {
      redisContext *c = raw_connect_to (sentinel_ports[0]);
      redisReply *reply = raw_command (c, "SENTINEL FAILOVER %s", service);
      gboolean ok = reply->type == REDIS_REPLY_STATUS;

      attempts++;
      cr_assert (ok || monotonic_seconds () < deadline,
                 "SENTINEL FAILOVER: %s", reply->str);
      freeReplyObject (reply);
      redisFree (c);
      if (ok)
        return attempts;
      g_usleep (100000);
    }
}

Test (redis_sentinel, a_failover_during_a_run_is_followed)
{
  enum { THREADS = 4 };
  g_autoptr (GHashTable) a = sentinel_arguments (NULL);
  g_autoptr (DogpileBackend) backend = sentinel_backend (a);
  int old = sentinel_master_port (), promoted = replica_port (old);
  gint stop = 0, phase = 0;
  Runner runners[THREADS];
  GThread *threads[THREADS];
  Runners all = { runners, THREADS };
  g_autofree char *there = NULL;
  long long connections, found;
  int errors = 0, own;

  cr_assert (wait_for (replica_ready, GINT_TO_POINTER (promoted), 10));
  for (int t = 0; t < THREADS; t++)
    {
      runners[t] = (Runner){
        .backend = backend, .id = t, .stop = &stop, .phase = &phase
      };
      threads[t] = g_thread_new ("runner", runner, &runners[t]);
    }
  g_usleep (200000);
  connections = sentinel_connections ();
  own = failover_now ();
  cr_assert (wait_for (is_master, GINT_TO_POINTER (promoted), 10),
             "the sentinel promoted %d", promoted);
  /* Over when the old master has been demoted (and the sentinel closed
   * its clients' connections). */
  cr_assert (wait_for (is_replica, GINT_TO_POINTER (old), 10));
  g_atomic_int_set (&phase, 1);
  cr_assert (wait_for (recovered, &all, 10), "every thread succeeds again");
  found = discoveries_since (connections) - own;
  g_atomic_int_set (&stop, 1);
  for (int t = 0; t < THREADS; t++)
    {
      g_thread_join (threads[t]);
      errors += runners[t].errors[0];
      cr_assert_eq (runners[t].errors[1], 0,
                    "thread %d failed after the failover: %s", t,
                    runners[t].last_error);
    }
  for (int t = 0; t < THREADS; t++)
    {
      if (runners[t].errors[0] > 0)
        cr_log_info ("thread %d: %s", t, runners[t].last_error);
      g_free (runners[t].last_error);
    }
  cr_log_info ("%d errors during the failover (a write taken by the old "
               "master after the promotion reads back wrong: Redis' "
               "asynchronous replication); %lld discoveries",
               errors, found);
  cr_assert (found >= 1 && found <= 5, "rediscovered %lld times", found);
  cr_assert (names_master (GINT_TO_POINTER (promoted)));

  /* The same backend, no reconfiguration: writes land on the new master. */
  set_value (backend, "after-failover", "on the new master");
  there = raw_get (promoted, "after-failover");
  cr_assert_str_eq (there, "on the new master");
  cr_assert (wait_for (replica_ready, GINT_TO_POINTER (old), 10));
}

Test (redis_sentinel, a_killed_master_fails_fast_until_its_replica_is_promoted)
{
  enum { THREADS = 8 };
  g_autoptr (GHashTable) a
      = sentinel_arguments ("socket_timeout", "0.5", NULL);
  g_autoptr (DogpileBackend) backend = sentinel_backend (a);
  int old = sentinel_master_port (), promoted = replica_port (old);
  gint stop = 0, phase = 0;
  Runner runners[THREADS];
  GThread *threads[THREADS];
  Runners all = { runners, THREADS };
  g_autofree char *there = NULL;
  long long connections, found;
  int failed_calls = 0;
  double outage_start, outage;

  cr_assert (wait_for (replica_ready, GINT_TO_POINTER (promoted), 10));
  for (int t = 0; t < THREADS; t++)
    {
      runners[t] = (Runner){
        .backend = backend, .id = t, .stop = &stop, .phase = &phase
      };
      threads[t] = g_thread_new ("runner", runner, &runners[t]);
    }
  g_usleep (200000);
  connections = sentinel_connections ();
  outage_start = monotonic_seconds ();
  cr_assert_eq (kill (redis_server_pid (old), SIGKILL), 0);
  cr_assert (wait_for (is_master, GINT_TO_POINTER (promoted), 15),
             "the sentinel promoted %d", promoted);
  g_atomic_int_set (&phase, 1);
  cr_assert (wait_for (recovered, &all, 10), "every thread succeeds again");
  outage = monotonic_seconds () - outage_start;
  found = discoveries_since (connections);
  g_atomic_int_set (&stop, 1);
  for (int t = 0; t < THREADS; t++)
    {
      g_thread_join (threads[t]);
      failed_calls += runners[t].errors[0] + runners[t].errors[1];
      cr_assert_lt (runners[t].slowest_error, 0.5 + 0.25,
                    "thread %d: a call failed only after %g s (%s)", t,
                    runners[t].slowest_error, runners[t].last_error);
      cr_assert_eq (runners[t].errors_after_recovery, 0, "thread %d: %s", t,
                    runners[t].last_error);
      g_free (runners[t].last_error);
    }
  cr_log_info ("%d failed calls in %g s, %lld connections to the "
               "sentinels",
               failed_calls, outage, found);
  cr_assert_gt (failed_calls, 0, "the master was down for a while");
  /* One discovery at a time and rate-limited: at most one per 100 ms
   * (each takes a few ms here), however many calls failed; each asks
   * every sentinel while they name the dead master. */
  cr_assert (found >= 1
                 && found <= n_sentinels * ((long long) (outage * 10) + 5),
             "%lld connections in %g s", found, outage);

  set_value (backend, "after-kill", "on the promoted replica");
  there = raw_get (promoted, "after-kill");
  cr_assert_str_eq (there, "on the promoted replica");

  /* Back as a replica of the new master (the sentinel converts it). */
  redis_server_restart (old);
  cr_assert (wait_for (replica_ready, GINT_TO_POINTER (old), 15));
}

static void
on_every_sentinel (const char *format, ...)
{
  for (int i = 0; i < n_sentinels; i++)
    {
      redisContext *c = raw_connect_to (sentinel_ports[i]);
      redisReply *reply;
      va_list ap;

      va_start (ap, format);
      reply = redisvCommand (c, format, ap);
      va_end (ap);
      cr_assert (reply != NULL && reply->type == REDIS_REPLY_STATUS, "%s: %s",
                 format, reply != NULL ? reply->str : c->errstr);
      freeReplyObject (reply);
      redisFree (c);
    }
}

Test (redis_sentinel, a_demoted_master_answering_readonly_is_left)
{
  g_autoptr (GHashTable) a = sentinel_arguments (NULL);
  g_autoptr (DogpileBackend) backend = sentinel_backend (a);
  int old = sentinel_master_port (), promoted = replica_port (old);
  redisContext *raw_old = raw_connect_to (old);
  redisContext *raw_new = raw_connect_to (promoted);
  g_autoptr (GBytes) value = bytes_of ("2");
  g_autoptr (GError) error = NULL;
  g_autofree char *there = NULL;
  double start;

  /* Re-registering the service (below) resets what several sentinels
   * share (their peers, the configuration epoch); with one it is sound. */
  if (n_sentinels > 1)
    cr_skip_test ("needs a single sentinel (the harness default)");
  cr_assert (wait_for (replica_ready, GINT_TO_POINTER (promoted), 10));
  set_value (backend, "demoted", "1");
  /* Roles swapped behind the sentinel's back, which is told to wait
   * before it reacts: nobody closes the plugin's connection to the old
   * master, whose writes now come back READONLY. */
  on_every_sentinel ("SENTINEL SET %s down-after-milliseconds 60000", service);
  freeReplyObject (raw_command (raw_new, "REPLICAOF NO ONE"));
  freeReplyObject (raw_command (raw_old, "REPLICAOF 127.0.0.1 %d", promoted));
  g_usleep (150000);

  /* The sentinel still names the old master, and ROLE says it is not:
   * the READONLY error reaches the caller at once. */
  start = monotonic_seconds ();
  cr_assert_not (dogpile_backend_set (backend, "demoted", value, &error));
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (strstr (error->message, "READONLY") != NULL, "%s",
             error->message);
  cr_assert_lt (monotonic_seconds () - start, 0.5);
  g_clear_error (&error);

  /* Once the sentinel names the new master, the next READONLY is followed
   * there. */
  on_every_sentinel ("SENTINEL REMOVE %s", service);
  on_every_sentinel ("SENTINEL MONITOR %s 127.0.0.1 %d 1", service, promoted);
  on_every_sentinel ("SENTINEL SET %s down-after-milliseconds 500 "
                     "failover-timeout 2000",
                     service);
  g_usleep (150000);
  cr_assert (dogpile_backend_set (backend, "demoted", value, &error), "%s",
             error != NULL ? error->message : "");
  there = raw_get (promoted, "demoted");
  cr_assert_str_eq (there, "2");
  assert_get (backend, "demoted", "2");
  cr_assert (wait_for (replica_ready, GINT_TO_POINTER (old), 15));
  redisFree (raw_old);
  redisFree (raw_new);
}
