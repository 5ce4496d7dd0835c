/* test-redis-deadlines.c: a call's time is bounded, not each system call's
 * (docs/redis.md, "Timeouts").  Scripted peers (tests/test-faults.h)
 * misbehave in the ways a per-recv / per-send timeout does not catch:
 *  - a reply trickled one byte every 0.4 s, on a plain command, a pipeline
 *    (MULTI block, MGET) and the AUTH handshake;
 *  - a peer that never reads, or reads slowly, a 50 MB SET;
 *  - a listener that reads and never answers, and one that never accepts
 *    (a full accept queue), as one server, as cluster startup nodes and as
 *    sentinels: several of them cost one call's bound, not one each;
 *  - cluster redirects (MOVED) that each come just within socket_timeout;
 *  - waiting for a busy pool comes out of the same deadline.
 * With socket_timeout = socket_connect_timeout = 1 s every call here must
 * fail with a timeout after about 1 s: at least 0.95 s (the deadline, not
 * something else, ended it) and under 3 s (generous for a loaded machine;
 * the bound is 2 s).
 *
 * Needs no redis-server: every peer is a fake.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-redis-util.h"

#define LOW 0.95
#define HIGH 3.0

/* --- the fake servers' side of the protocol ----------------------------- */

/* The first complete request (an array of bulk strings) in @buf: its
 * length, or 0; its arguments go to @argv. */
static gsize
resp_request (const char *buf, gsize len, GPtrArray *argv)
{
  const char *p = buf, *end = buf + len, *nl;
  long n;

  if (len == 0)
    return 0;
  cr_assert_eq (*p, '*', "a request is an array");
  nl = memchr (p, '\n', (size_t) (end - p));
  if (nl == NULL)
    return 0;
  n = strtol (p + 1, NULL, 10);
  p = nl + 1;
  for (long i = 0; i < n; i++)
    {
      long bulk;

      nl = p < end ? memchr (p, '\n', (size_t) (end - p)) : NULL;
      if (nl == NULL)
        return 0;
      bulk = strtol (p + 1, NULL, 10);
      p = nl + 1;
      if (end - p < bulk + 2)
        return 0;
      g_ptr_array_add (argv, g_strndup (p, (gsize) bulk));
      p += bulk + 2;
    }
  return (gsize) (p - buf);
}

/* What a fake node answers. */
typedef struct {
  gboolean silent;   /* nothing, ever */
  gboolean cluster;  /* CLUSTER SLOTS: every slot is this node's */
  gboolean moved;    /* GET: MOVED to this node (after the delay) */
  const char *value; /* GET's value */
  const char *error; /* GET's error reply, any bytes but CR LF */
  gsize error_len;
} Script;

static gsize
script_request (FakeServer *s, const char *buf, gsize len, FakeReply *reply,
                gpointer data)
{
  const Script *script = data;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  gsize used = resp_request (buf, len, argv);
  const char *name;

  if (used == 0 || script->silent)
    return used;
  name = argv->pdata[0];
  if (g_ascii_strcasecmp (name, "CLUSTER") == 0)
    {
      g_string_printf (reply->bytes,
                       "*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n"
                       ":%d\r\n",
                       s->port);
      reply->delay = reply->interval = 0;
    }
  else if (g_ascii_strcasecmp (name, "GET") == 0 && script->error != NULL)
    {
      g_string_assign (reply->bytes, "-");
      g_string_append_len (reply->bytes, script->error,
                           (gssize) script->error_len);
      g_string_append (reply->bytes, "\r\n");
    }
  else if (g_ascii_strcasecmp (name, "GET") == 0 && script->moved)
    g_string_printf (reply->bytes, "-MOVED 1 127.0.0.1:%d\r\n", s->port);
  else if (g_ascii_strcasecmp (name, "GET") == 0)
    g_string_printf (reply->bytes, "$%zu\r\n%s\r\n", strlen (script->value),
                     script->value);
  else if (g_ascii_strcasecmp (name, "MGET") == 0)
    {
      g_string_printf (reply->bytes, "*%u\r\n", argv->len - 1);
      for (guint i = 1; i < argv->len; i++)
        g_string_append (reply->bytes, "$-1\r\n");
    }
  else if (g_ascii_strcasecmp (name, "MULTI") == 0)
    g_string_assign (reply->bytes, "+OK\r\n");
  else if (g_ascii_strcasecmp (name, "EXEC") == 0)
    g_string_assign (reply->bytes, "*2\r\n+OK\r\n+OK\r\n");
  else if (g_ascii_strcasecmp (name, "SETEX") == 0)
    g_string_assign (reply->bytes, "+QUEUED\r\n");
  else
    g_string_assign (reply->bytes, "+OK\r\n");
  return used;
}

static FakeServer *
scripted_server (const Script *script, double delay, double interval)
{
  FakeServer *s = fake_server_new (FAKE_ANSWER);

  s->request = script_request;
  s->data = (gpointer) script;
  s->delay = delay;
  s->interval = interval;
  fake_server_run (s);
  return s;
}

/* host/port, socket_timeout 1 (socket_connect_timeout follows it), then
 * name/value pairs. */
static GHashTable *
fake_arguments (int port, const char *first_name, ...)
{
  g_autofree char *port_text = g_strdup_printf ("%d", port);
  GHashTable *table = arguments_of ("host", "127.0.0.1", "port", port_text,
                                    "socket_timeout", "1", NULL);
  va_list ap;

  va_start (ap, first_name);
  arguments_add_valist (table, first_name, ap);
  va_end (ap);
  return table;
}

/* "127.0.0.1:p1,127.0.0.1:p2,..." */
static char *
address_list (const int *ports, int n)
{
  GString *list = g_string_new (NULL);

  for (int i = 0; i < n; i++)
    g_string_append_printf (list, "%s127.0.0.1:%d", i > 0 ? "," : "",
                            ports[i]);
  return g_string_free (list, FALSE);
}

#define TIMED(call, what, fragment)                                           \
  do                                                                          \
    {                                                                         \
      GError *error_ = NULL;                                                  \
      double started_ = monotonic_seconds ();                                 \
      gboolean ok_ = (call);                                                  \
                                                                              \
      assert_bounded_failure (ok_, error_, started_, LOW, HIGH, fragment,     \
                              what);                                          \
      cr_log_info ("%s: %.3f s: %s", what, monotonic_seconds () - started_,   \
                   error_->message);                                          \
      g_clear_error (&error_);                                                \
    }                                                                         \
  while (0)
#define E (&error_)

TestSuite (redis_deadlines, .timeout = 30);

/* --- (a) trickled replies ------------------------------------------------ */

Test (redis_deadlines, a_trickled_reply_fails_at_the_call_s_deadline)
{
  Script script = { .value = "0123456789012345678901234567890123456789" };
  FakeServer *s = scripted_server (&script, 0, 0.4);
  g_autoptr (GHashTable) a = fake_arguments (s->port, NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (GBytes) got = NULL;

  TIMED (dogpile_backend_get (b, "k", &got, E), "get",
         "timed out after 1 s (socket_timeout) while waiting for a reply");
  /* Bytes kept coming, 0.4 s apart: no single read waited 1 s. */
  cr_assert_geq (g_atomic_int_get (&s->bytes_written), 2);
  cr_assert_lt (g_atomic_int_get (&s->bytes_written), 10);
  cr_assert_null (got);
  /* The connection timed out halfway through a reply: closed, not pooled. */
  TIMED (dogpile_backend_get (b, "k", &got, E), "get again", "timed out");
  cr_assert_eq (g_atomic_int_get (&s->connections), 2);
  fake_server_stop (s);
}

Test (redis_deadlines, trickled_pipelines_fail_at_the_call_s_deadline)
{
  Script script = { .value = "v" };
  FakeServer *s = scripted_server (&script, 0, 0.4);
  g_autoptr (GHashTable) a
      = fake_arguments (s->port, "redis_expiration_time", "60", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (GBytes) value = bytes_of ("v");
  const char *keys[] = { "k1", "k2" };
  GBytes *values[] = { value, value };
  GBytes *got[2] = { NULL, NULL };

  /* MULTI, SETEX, SETEX, EXEC: four replies, 37 bytes. */
  TIMED (dogpile_backend_set_multi (b, keys, values, 2, E), "set_multi",
         "timed out after 1 s (socket_timeout)");
  /* One reply of 14 bytes. */
  TIMED (dogpile_backend_get_multi (b, keys, 2, got, E), "get_multi",
         "timed out after 1 s (socket_timeout)");
  fake_server_stop (s);
}

Test (redis_deadlines, a_trickled_handshake_counts_against_the_deadline)
{
  Script script = { .value = "v" };
  FakeServer *s = scripted_server (&script, 0, 0.4);
  g_autoptr (GHashTable) a = fake_arguments (s->port, "password", "p", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (GBytes) got = NULL;

  /* +OK to AUTH takes 1.6 s; the value after it 2.8 s more. */
  TIMED (dogpile_backend_get (b, "k", &got, E), "get after AUTH",
         "timed out after 1 s (socket_timeout)");
  fake_server_stop (s);
}

/* --- (b) a peer that does not read ------------------------------------- */

static GBytes *
big_value (void)
{
  gsize size = 50 * 1024 * 1024;

  return g_bytes_new_take (g_malloc0 (size), size);
}

Test (redis_deadlines, a_peer_that_never_reads_fails_a_big_set_in_time)
{
  FakeServer *s = fake_server_new (FAKE_NEVER_READ);
  g_autoptr (GHashTable) a = fake_arguments (s->port, NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (GBytes) value = big_value ();

  fake_server_run (s);
  TIMED (dogpile_backend_set (b, "big", value, E), "set 50 MB",
         "timed out after 1 s (socket_timeout) while sending");
  fake_server_stop (s);
}

Test (redis_deadlines, a_peer_that_reads_slowly_fails_a_big_set_in_time)
{
  FakeServer *s = fake_server_new (FAKE_READ_SLOWLY);
  g_autoptr (GHashTable) a = fake_arguments (s->port, NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (GBytes) value = big_value ();

  /* 64 KB every 0.1 s: each send makes progress well within 1 s. */
  s->interval = 0.1;
  s->chunk = 64 * 1024;
  fake_server_run (s);
  TIMED (dogpile_backend_set (b, "big", value, E), "set 50 MB",
         "timed out after 1 s (socket_timeout) while sending");
  cr_assert_gt (g_atomic_int_get (&s->bytes_read), 0, "it did read");
  fake_server_stop (s);
}

/* A server's error text is quoted in the GError, which is UTF-8 whatever
 * bytes the server (or what poses as one) sent. */
Test (redis_deadlines, a_server_s_error_bytes_are_quoted_as_utf8)
{
  static const char bytes[] = "ERR \xff\xfe bad\0after";
  Script script = { .error = bytes, .error_len = sizeof bytes - 1 };
  FakeServer *s = scripted_server (&script, 0, 0);
  g_autoptr (GHashTable) a = fake_arguments (s->port, NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;

  cr_assert_not (dogpile_backend_get (b, "k", &got, &error));
  cr_assert (g_utf8_validate (error->message, -1, NULL), "%s", error->message);
  cr_assert_not_null (strstr (error->message, "GET failed: ERR "), "%s",
                      error->message);
  cr_assert_not_null (strstr (error->message, "after"), "%s", error->message);
  fake_server_stop (s);
}

/* --- (c) listeners that never answer, or never accept ------------------ */

Test (redis_deadlines, a_listener_that_reads_and_never_answers)
{
  Script script = { .silent = TRUE };
  FakeServer *s = scripted_server (&script, 0, 0);
  g_autoptr (GHashTable) a = fake_arguments (s->port, NULL);
  g_autoptr (GHashTable) with_auth
      = fake_arguments (s->port, "password", "p", "db", "2", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (DogpileBackend) authed = redis_backend (with_auth);
  g_autoptr (GBytes) got = NULL;

  TIMED (dogpile_backend_get (b, "k", &got, E), "get",
         "timed out after 1 s (socket_timeout) while waiting for a reply");
  TIMED (dogpile_backend_get (authed, "k", &got, E), "get after AUTH",
         "timed out after 1 s (socket_timeout)");
  cr_assert_geq (g_atomic_int_get (&s->requests), 2, "it read them");
  fake_server_stop (s);
}

enum { N_FAKES = 4 };

Test (redis_deadlines, silent_sentinels_share_one_deadline)
{
  Script script = { .silent = TRUE };
  FakeServer *s[N_FAKES];
  int ports[N_FAKES];
  g_autofree char *list = NULL;
  g_autoptr (GHashTable) a = NULL;
  g_autoptr (DogpileBackend) b = NULL;
  g_autoptr (GBytes) got = NULL;

  for (int i = 0; i < N_FAKES; i++)
    {
      s[i] = scripted_server (&script, 0, 0);
      ports[i] = s[i]->port;
    }
  list = address_list (ports, N_FAKES);
  a = arguments_of ("sentinels", list, "socket_timeout", "1", NULL);
  b = redis_backend_named ("dogpile.cache.redis_sentinel", a);
  TIMED (dogpile_backend_get (b, "k", &got, E), "get", "timed out");
  for (int i = 0; i < N_FAKES; i++)
    {
      cr_assert_eq (g_atomic_int_get (&s[i]->requests), 1,
                    "sentinel %d was asked", i);
      fake_server_stop (s[i]);
    }
}

Test (redis_deadlines, silent_cluster_nodes_share_one_deadline)
{
  Script script = { .silent = TRUE };
  FakeServer *s[N_FAKES];
  int ports[N_FAKES];
  g_autofree char *list = NULL;
  g_autoptr (GHashTable) a = NULL;
  g_autoptr (DogpileBackend) b = NULL;
  g_autoptr (GBytes) got = NULL;

  for (int i = 0; i < N_FAKES; i++)
    {
      s[i] = scripted_server (&script, 0, 0);
      ports[i] = s[i]->port;
    }
  list = address_list (ports, N_FAKES);
  a = arguments_of ("startup_nodes", list, "socket_timeout", "1", NULL);
  b = redis_backend_named ("dogpile.cache.redis_cluster", a);
  TIMED (dogpile_backend_get (b, "k", &got, E), "get", "timed out");
  for (int i = 0; i < N_FAKES; i++)
    {
      cr_assert_eq (g_atomic_int_get (&s[i]->requests), 1, "node %d was asked",
                    i);
      fake_server_stop (s[i]);
    }
}

Test (redis_deadlines, a_listener_that_never_accepts_costs_connect_timeout)
{
  FullListener l = full_listener_new ();
  g_autoptr (GHashTable) a = fake_arguments (l.port, NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  g_autoptr (GBytes) got = NULL;

  TIMED (dogpile_backend_get (b, "k", &got, E), "get",
         "socket_connect_timeout");
  full_listener_close (&l);
}

/* Several nodes that never accept: one socket_connect_timeout in all. */
static void
never_accepting (const char *backend, const char *argument)
{
  FullListener l[N_FAKES];
  int ports[N_FAKES];
  g_autofree char *list = NULL;
  g_autoptr (GHashTable) a = NULL;
  g_autoptr (DogpileBackend) b = NULL;
  g_autoptr (GBytes) got = NULL;

  for (int i = 0; i < N_FAKES; i++)
    {
      l[i] = full_listener_new ();
      ports[i] = l[i].port;
    }
  list = address_list (ports, N_FAKES);
  a = arguments_of (argument, list, "socket_timeout", "1", NULL);
  b = redis_backend_named (backend, a);
  TIMED (dogpile_backend_get (b, "k", &got, E), "get",
         "socket_connect_timeout");
  for (int i = 0; i < N_FAKES; i++)
    full_listener_close (&l[i]);
}

Test (redis_deadlines, never_accepting_sentinels_share_connect_timeout)
{
  never_accepting ("dogpile.cache.redis_sentinel", "sentinels");
}

Test (redis_deadlines, never_accepting_cluster_nodes_share_connect_timeout)
{
  never_accepting ("dogpile.cache.redis_cluster", "startup_nodes");
}

/* --- redirects and the pool -------------------------------------------- */

Test (redis_deadlines, cluster_redirects_share_the_call_s_deadline)
{
  /* Each MOVED comes 0.4 s after its GET, within socket_timeout. */
  Script script = { .cluster = TRUE, .moved = TRUE };
  FakeServer *s = scripted_server (&script, 0.4, 0);
  g_autofree char *node = g_strdup_printf ("127.0.0.1:%d", s->port);
  g_autoptr (GHashTable) a
      = arguments_of ("startup_nodes", node, "socket_timeout", "1", NULL);
  g_autoptr (DogpileBackend) b
      = redis_backend_named ("dogpile.cache.redis_cluster", a);
  g_autoptr (GBytes) got = NULL;

  TIMED (dogpile_backend_get (b, "k", &got, E), "get",
         "timed out after 1 s (socket_timeout)");
  fake_server_stop (s);
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

Test (redis_deadlines, waiting_for_a_busy_pool_comes_out_of_the_deadline)
{
  Script script = { .silent = TRUE };
  FakeServer *s = scripted_server (&script, 0, 0);
  g_autoptr (GHashTable) a
      = fake_arguments (s->port, "connection_pool_size", "1", NULL);
  g_autoptr (DogpileBackend) b = redis_backend (a);
  TimedCall calls[3];
  GThread *threads[3];

  /* The others come when the first holds the only connection: their
   * wait for it is part of their own call. */
  for (int i = 0; i < 3; i++)
    {
      calls[i] = (TimedCall){ b, 0, NULL };
      threads[i] = g_thread_new ("caller", timed_get, &calls[i]);
      if (i == 0)
        g_usleep (200000);
    }
  for (int i = 0; i < 3; i++)
    {
      g_thread_join (threads[i]);
      assert_error (calls[i].error, DOGPILE_ERROR_BACKEND);
      cr_log_info ("call %d: %.3f s: %s", i, calls[i].took,
                   calls[i].error->message);
      /* one socket_timeout in all, waiting for the pool included */
      cr_assert (calls[i].took >= LOW && calls[i].took < 1.6,
                 "call %d took %.3f s", i, calls[i].took);
      g_clear_error (&calls[i].error);
    }
  fake_server_stop (s);
}
