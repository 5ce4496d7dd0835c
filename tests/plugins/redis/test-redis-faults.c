/* test-redis-faults.c: what callers see when the server misbehaves, and
 * what a fork does.
 *  - the server killed while threads use it: backend errors, quickly; it
 *    restarted on the same port: success again, nothing reconfigured;
 *  - a server that accepts and never answers: every call fails within
 *    socket_timeout; one that never accepts: within socket_connect_timeout
 *    (test-redis-deadlines.c has the slow, deaf and dumb peers);
 *  - a child process never uses, closes or QUITs its parent's connections.
 *
 * Runs under its own tests/redis-servers.py (it kills that server), one
 * test at a time.
 *
 * SPDX-License-Identifier: MIT
 */
#include <malloc.h>
#include <signal.h>

#include "test-redis-util.h"

static GHashTable *
arguments_for_port (int port, const char *first_name, ...)
{
  g_autofree char *port_text = g_strdup_printf ("%d", port);
  GHashTable *table
      = arguments_of ("host", "127.0.0.1", "port", port_text, NULL);
  va_list ap;

  va_start (ap, first_name);
  arguments_add_valist (table, first_name, ap);
  va_end (ap);
  return table;
}

TestSuite (redis_faults);

Test (redis_faults, a_silent_server_fails_every_call_within_socket_timeout,
      .timeout = 60)
{
  SilentServer *s = silent_server_start ();
  g_autoptr (GHashTable) a = arguments_for_port (
      s->port, "socket_timeout", "0.3", "distributed_lock", "true",
      "redis_expiration_time", "60", NULL);
  g_autoptr (GHashTable) with_auth = arguments_for_port (
      s->port, "socket_timeout", "0.3", "password", "p", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (DogpileBackend) authed = redis_backend (with_auth);
  g_autoptr (DogpileMutex) m = dogpile_backend_get_mutex (b, "k");
  g_autoptr (GBytes) value = bytes_of ("v");
  const char *keys[] = { "k1", "k2" };
  GBytes *values[] = { value, value };
  GBytes *got_multi[2] = { NULL, NULL };
  const char *timed_out = "timed out after 0.3 s (socket_timeout)";
  const double low = 0.25, high = 0.3 + 0.7;

  for (int round = 0; round < 2; round++)
    {
      g_autoptr (GBytes) got = NULL;
      GError *error = NULL;
      gboolean acquired = FALSE, locked = FALSE, ok;
      double started;

#define CHECK(call, what)                                                     \
  started = monotonic_seconds ();                                             \
  ok = call;                                                                  \
  assert_bounded_failure (ok, error, started, low, high, timed_out, what);    \
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
      CHECK (dogpile_backend_get (authed, "k", &got, &error),
             "get after AUTH");
#undef CHECK
      cr_assert_null (got);
      cr_assert_null (got_multi[0]);
    }
  silent_server_stop (s);
}

/* A reply header is the server's word: "*2147483647" must not make the
 * client allocate 16 GB of element slots before any element comes. */
Test (redis_faults, a_huge_array_header_allocates_nothing_up_front)
{
  SilentServer *s = lying_server_start ("*2147483647\r\n:1\r\n");
  g_autoptr (GHashTable) a
      = arguments_for_port (s->port, "socket_timeout", "0.3", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (GBytes) got = NULL;
  GError *error = NULL;
  struct mallinfo2 before = mallinfo2 (), after;
  double started = monotonic_seconds ();
  gboolean ok = dogpile_backend_get (b, "k", &got, &error);

  after = mallinfo2 ();
  assert_bounded_failure (ok, error, started, 0, 0.3 + 0.7, "", "get");
  g_clear_error (&error);
  /* (Zero under ASan, which keeps its own books: checked in the plain
   * build.) */
  cr_assert (after.hblkhd + after.arena
                 < before.hblkhd + before.arena + 64 * 1024 * 1024,
             "the client allocated %zu MB for the reply",
             (after.hblkhd + after.arena - before.hblkhd - before.arena)
                 >> 20);
  silent_server_stop (s);
}

/* Arrays longer than the first slots still come whole: an MGET of 1000
 * keys from the real server. */
Test (redis_faults, a_long_array_reply_grows_its_slots)
{
  g_autoptr (GHashTable) a = redis_arguments (NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) values
      = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  GBytes *got[1000] = { NULL };
  g_autoptr (GError) error = NULL;

  for (int i = 0; i < 1000; i++)
    {
      char *key = g_strdup_printf ("grow:%d:%d", (int) getpid (), i);

      g_ptr_array_add (keys, key);
      g_ptr_array_add (values, bytes_of (key));
    }
  cr_assert (dogpile_backend_set_multi (b, (const char **) keys->pdata,
                                        (GBytes **) values->pdata, 1000,
                                        &error));
  cr_assert (dogpile_backend_get_multi (b, (const char **) keys->pdata, 1000,
                                        got, &error),
             "%s", error ? error->message : "");
  for (int i = 0; i < 1000; i++)
    {
      cr_assert (bytes_equal (got[i], keys->pdata[i]), "key %d", i);
      g_bytes_unref (got[i]);
    }
}

typedef struct {
  DogpileBackend *backend;
  double took;
  GError *error;
} TimedCall;

static gpointer
timed_get (gpointer data)
{
  TimedCall *call = data;
  double started = monotonic_seconds ();
  GBytes *got = NULL;

  dogpile_backend_get (call->backend, "k", &got, &call->error);
  call->took = monotonic_seconds () - started;
  return NULL;
}

Test (redis_faults, waiting_for_a_busy_pool_is_bounded_too, .timeout = 60)
{
  SilentServer *s = silent_server_start ();
  g_autoptr (GHashTable) a = arguments_for_port (
      s->port, "socket_timeout", "0.3", "connection_pool_size", "1", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  TimedCall calls[4];
  GThread *threads[4];

  for (int i = 0; i < 4; i++)
    {
      calls[i] = (TimedCall){ b, 0, NULL };
      threads[i] = g_thread_new ("caller", timed_get, &calls[i]);
    }
  for (int i = 0; i < 4; i++)
    {
      g_thread_join (threads[i]);
      assert_error (calls[i].error, DOGPILE_ERROR_BACKEND);
      /* the wait for the pool is part of the call's socket_timeout */
      cr_assert (calls[i].took <= 0.3 + 0.7, "call %d took %.3f s", i,
                 calls[i].took);
      g_clear_error (&calls[i].error);
    }
  silent_server_stop (s);
}

Test (redis_faults, a_server_that_never_accepts_fails_within_connect_timeout)
{
  int port;
  int listen_fd = loopback_socket (0, &port);
  int filler = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr = { .sin_family = AF_INET,
                              .sin_port = htons ((uint16_t) port),
                              .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  g_autoptr (GHashTable) a = arguments_for_port (
      port, "socket_connect_timeout", "0.3", "socket_timeout", "5", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (GBytes) got = NULL;
  GError *error = NULL;
  gboolean ok;
  double started;

  /* listen(fd, 0) queues one connection; with it taken, the kernel drops
   * further SYNs and connect() hangs until its timeout. */
  cr_assert (connect (filler, (struct sockaddr *) &addr, sizeof addr) == 0);
  started = monotonic_seconds ();
  ok = dogpile_backend_get (b, "k", &got, &error);
  assert_bounded_failure (ok, error, started, 0.25, 0.3 + 0.7,
                          "socket_connect_timeout", "connect");
  cr_assert (strstr (error->message, "Cannot connect to Redis at 127.0.0.1:")
                 != NULL,
             "%s", error->message);
  g_clear_error (&error);
  close (filler);
  close (listen_fd);
}

/* --- the server killed, then restarted -------------------------------- */

typedef struct {
  DogpileBackend *backend;
  int id;
  gint *phase; /* 0 before the kill, 1 down, 2 restarted, 3 stop */
  gint ok[3];  /* successes per phase */
  gint errors;
  gint wrong_errors;
  double longest_failure;
  char *last_error;
} Worker;

static gpointer
hammer (gpointer data)
{
  Worker *w = data;

  for (unsigned i = 0; g_atomic_int_get (w->phase) < 3; i++)
    {
      g_autofree char *key = g_strdup_printf ("fault:%d:%u", w->id, i % 50);
      g_autoptr (GBytes) value = bytes_of (key);
      g_autoptr (GBytes) got = NULL;
      g_autoptr (GError) error = NULL;
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
      if (!g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_BACKEND))
        w->wrong_errors++;
      g_free (w->last_error);
      w->last_error = g_strdup (error->message);
      g_usleep (2000);
    }
  return NULL;
}

static gboolean
server_answers (void)
{
  struct timeval tv = { 0, 200000 };
  redisContext *c = redisConnectWithTimeout ("127.0.0.1", redis_port (), tv);
  gboolean answers = FALSE;

  if (c != NULL && c->err == 0)
    {
      redisReply *reply;

      redisSetTimeout (c, tv);
      reply = redisCommand (c, "PING");
      answers = reply != NULL && reply->type == REDIS_REPLY_STATUS;
      if (reply != NULL)
        freeReplyObject (reply);
    }
  redisFree (c);
  return answers;
}

Test (redis_faults, killed_then_restarted_with_no_reconfiguration,
      .timeout = 60)
{
  g_autoptr (GHashTable) a = redis_arguments (
      "socket_timeout", "1", "connection_pool_size", "4", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  gint phase = 0;
  Worker workers[6];
  GThread *threads[6];
  pid_t server = harness_pid ("DOGPILE_REDIS_SERVER_PIDFILE");
  int total_errors = 0, restarted_ok = 0;

  for (int i = 0; i < 6; i++)
    {
      workers[i] = (Worker){ .backend = b, .id = i, .phase = &phase };
      threads[i] = g_thread_new ("hammer", hammer, &workers[i]);
    }
  g_usleep (300000);
  cr_assert (kill (server, SIGKILL) == 0);
  g_atomic_int_set (&phase, 1);
  for (int i = 0; i < 100 && server_answers (); i++)
    g_usleep (10000);
  g_usleep (500000); /* down for a while: calls fail */
  harness_restart ("DOGPILE_REDIS_SERVER_COMMAND", FALSE);
  for (int i = 0; i < 500 && !server_answers (); i++)
    g_usleep (10000);
  cr_assert (server_answers (), "the server came back");
  g_atomic_int_set (&phase, 2);
  g_usleep (500000); /* and calls succeed again */
  g_atomic_int_set (&phase, 3);

  for (int i = 0; i < 6; i++)
    {
      Worker *w = &workers[i];

      g_thread_join (threads[i]);
      cr_assert_gt (w->ok[0], 0, "worker %d worked before the kill", i);
      cr_assert_eq (w->wrong_errors, 0, "worker %d: %s", i, w->last_error);
      cr_assert (w->longest_failure < 1.0 + 0.5,
                 "worker %d: a failure took %.3f s", i, w->longest_failure);
      total_errors += w->errors;
      restarted_ok += w->ok[2];
      g_free (w->last_error);
    }
  cr_assert_gt (total_errors, 0, "the outage was seen");
  cr_assert_gt (restarted_ok, 0, "success again after the restart");
  {
    /* The same backend, untouched, works. */
    g_autoptr (GBytes) value = bytes_of ("after");
    g_autoptr (GBytes) got = NULL;
    g_autoptr (GError) error = NULL;

    cr_assert (dogpile_backend_set (b, "after-restart", value, &error));
    assert_no_error (error);
    cr_assert (dogpile_backend_get (b, "after-restart", &got, &error));
    cr_assert (bytes_equal (got, "after"));
  }
}

/* --- fork --------------------------------------------------------------- */

Test (redis_faults, a_child_never_uses_its_parent_s_connections)
{
  g_autoptr (GHashTable) a = redis_arguments (NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  redisContext *raw = raw_connect ();
  long long connections, quits;
  pid_t child;

  cr_assert (backend_round_trip (b, "fork:parent"));
  connections = raw_info (raw, "stats", "total_connections_received");
  quits = 0;
  {
    redisReply *r = raw_command (raw, "INFO commandstats");
    const char *at = strstr (r->str, "cmdstat_quit:calls=");

    quits = at != NULL ? strtoll (at + 19, NULL, 10) : 0;
    freeReplyObject (r);
  }

  child = fork ();
  cr_assert (child >= 0);
  if (child == 0)
    _exit (backend_round_trip (b, "fork:child") ? 0 : 1);
  cr_assert_eq (wait_child (child, 10), 0, "the child's calls work");

  cr_assert_eq (raw_info (raw, "stats", "total_connections_received"),
                connections + 1, "the child made a connection of its own");
  /* The parent's connection is intact: reused, no new one. */
  cr_assert (backend_round_trip (b, "fork:parent-again"));
  cr_assert_eq (raw_info (raw, "stats", "total_connections_received"),
                connections + 1);
  {
    redisReply *r = raw_command (raw, "INFO commandstats");
    const char *at = strstr (r->str, "cmdstat_quit:calls=");

    cr_assert_eq (at != NULL ? strtoll (at + 19, NULL, 10) : 0, quits,
                  "nobody sent QUIT");
    freeReplyObject (r);
  }
  redisFree (raw);
}

Test (redis_faults, forking_while_other_threads_use_the_pool, .timeout = 60)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("connection_pool_size", "3", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);

  fork_while_busy (b, 3, 30);
}

Test (redis_faults, a_child_cannot_release_its_parent_s_lock)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("distributed_lock", "true", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autofree char *key = redis_unique_key ("parent-lock");
  g_autoptr (DogpileMutex) m = dogpile_backend_get_mutex (b, key);
  gboolean acquired = FALSE;
  pid_t child;

  cr_assert (dogpile_mutex_acquire (m, FALSE, &acquired, NULL) && acquired);
  child = fork ();
  cr_assert (child >= 0);
  if (child == 0)
    {
      GError *error = NULL;
      gboolean released = dogpile_mutex_release (m, &error);

      _exit (
          !released
                  && g_error_matches (error, DOGPILE_ERROR, DOGPILE_ERROR_LOCK)
              ? 0
              : 1);
    }
  cr_assert_eq (wait_child (child, 10), 0);
  cr_assert (dogpile_mutex_release (m, NULL), "still the parent's");
}
