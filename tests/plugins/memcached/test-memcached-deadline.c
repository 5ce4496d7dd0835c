/* test-memcached-deadline.c: every call is bounded by its deadline
 * (docs/memcached.md, "Timeouts"), against fake servers (FakeServer,
 * tests/test-faults.h) that speak just enough of memcached's protocols:
 *  - a server trickling a valid reply one byte every 0.4 s, in the text
 *    protocol (pylibmc) and in the binary one (bmemcached), for get, the
 *    lock's add and a get_multi over it and a real server: each fails at
 *    its deadline, with an error saying so, and never earlier;
 *  - a server that never reads, and one that reads slowly: a 32 MB set
 *    fails within the bound;
 *  - a listener that accepts and never answers: every call fails within
 *    socket_timeout, get_multi over two of them too (it used to report
 *    misses);
 *  - a timed-out connection is never used again: the next call opens a
 *    new one and gets its own reply;
 *  - call_timeout is checked at configure time and sets the deadline.
 *
 * Runs under memcached-servers.py --servers 1 (one test uses a real
 * server beside a fake one).
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-memcached-util.h"

/* socket_timeout = 1: libmemcached's connect and poll timeouts are 1 s,
 * the call's deadline is 1 + 2 x 1 = 3 s, and a call ends at the latest
 * one wait (1 s) after it. */
#define SOCKET_TIMEOUT 1.0
#define DEADLINE (3 * SOCKET_TIMEOUT)
#define BOUND (DEADLINE + SOCKET_TIMEOUT)
/* Room for a loaded 2-core machine. */
#define SLACK 1.5
#define TRICKLE 0.4 /* seconds between two bytes of a trickled reply */

static const char payload[] = "a value trickled one byte at a time, slowly";

/* --- memcached's text protocol, enough of it ---------------------------- */

typedef struct {
  gint gets; /* get requests answered so far */
  /* > 0: the get requests after the first this many are answered at
   * once (a server that trickled only at first) */
  gint trickled_gets;
  gboolean prompt_writes; /* set and delete answered at once */
} FakeMemcached;

/* The value the fake holds for @key: payload for every key but "b:*",
 * whose value is the key itself. */
static void
append_value (GString *out, const char *key, gsize key_len)
{
  if (key_len > 2 && key[0] == 'b' && key[1] == ':')
    g_string_append_len (out, key, (gssize) key_len);
  else
    g_string_append (out, payload);
}

static gsize
text_request (FakeServer *s, const char *buf, gsize len, FakeReply *reply,
              gpointer data)
{
  FakeMemcached *fake = data;
  const char *end = g_strstr_len (buf, (gssize) len, "\r\n");
  g_autofree char *line = NULL;
  g_auto (GStrv) words = NULL;
  gsize used;

  (void) s;
  if (end == NULL)
    return 0;
  used = (gsize) (end - buf) + 2;
  line = g_strndup (buf, (gsize) (end - buf));
  words = g_strsplit (line, " ", -1);
  if (strcmp (words[0], "get") == 0 || strcmp (words[0], "gets") == 0)
    {
      gint n = g_atomic_int_add (&fake->gets, 1);

      for (char **key = words + 1; *key != NULL; key++)
        {
          g_autoptr (GString) value = g_string_new (NULL);

          if (**key == '\0')
            continue;
          append_value (value, *key, strlen (*key));
          g_string_append_printf (reply->bytes, "VALUE %s 0 %zu\r\n%s\r\n",
                                  *key, value->len, value->str);
        }
      g_string_append (reply->bytes, "END\r\n");
      if (fake->trickled_gets > 0 && n >= fake->trickled_gets)
        reply->interval = 0;
    }
  else if (strcmp (words[0], "set") == 0 || strcmp (words[0], "add") == 0)
    {
      gsize bytes = words[1] && words[2] && words[3] && words[4]
                        ? (gsize) g_ascii_strtoull (words[4], NULL, 10)
                        : 0;

      if (len < used + bytes + 2)
        return 0;
      used += bytes + 2;
      /* the lock's add is refused: a reply long enough to trickle past
       * the deadline */
      g_string_append (reply->bytes, strcmp (words[0], "add") == 0
                                         ? "NOT_STORED\r\n"
                                         : "STORED\r\n");
      if (fake->prompt_writes)
        reply->interval = 0;
    }
  else if (strcmp (words[0], "delete") == 0)
    {
      g_string_append (reply->bytes, "DELETED\r\n");
      if (fake->prompt_writes)
        reply->interval = 0;
    }
  else if (strcmp (words[0], "version") == 0)
    {
      g_string_append (reply->bytes, "VERSION 1.6.18\r\n");
      reply->interval = 0;
    }
  else if (strcmp (words[0], "quit") != 0)
    g_string_append (reply->bytes, "ERROR\r\n");
  return used;
}

/* --- and of the binary protocol ----------------------------------------- */

#define BIN_HEADER 24

static guint32
get_be32 (const guchar *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16)
         | ((guint32) p[2] << 8) | p[3];
}

static void
append_be (GString *out, guint64 value, int bytes)
{
  for (int i = bytes - 1; i >= 0; i--)
    g_string_append_c (out, (char) ((value >> (8 * i)) & 0xff));
}

static gsize
binary_request (FakeServer *s, const char *buf, gsize len, FakeReply *reply,
                gpointer data)
{
  const guchar *p = (const guchar *) buf;
  guint8 opcode;
  guint16 key_len;
  guint8 extras_len;
  guint32 body_len, opaque;
  const char *key;
  g_autoptr (GString) body = g_string_new (NULL);
  gsize key_out = 0, extras_out = 0;

  (void) s;
  (void) data;
  if (len < BIN_HEADER)
    return 0;
  body_len = get_be32 (p + 8);
  if (len < BIN_HEADER + (gsize) body_len)
    return 0;
  opcode = p[1];
  key_len = (guint16) ((p[2] << 8) | p[3]);
  extras_len = p[4];
  opaque = get_be32 (p + 12);
  key = buf + BIN_HEADER + extras_len;
  switch (opcode)
    {
    case 0x00:                /* GET */
    case 0x09:                /* GETQ */
    case 0x0c:                /* GETK */
    case 0x0d:                /* GETKQ */
      append_be (body, 0, 4); /* the flags */
      extras_out = 4;
      if (opcode == 0x0c || opcode == 0x0d)
        {
          g_string_append_len (body, key, key_len);
          key_out = key_len;
        }
      append_value (body, key, key_len);
      break;
    case 0x0b: /* VERSION */
      g_string_append (body, "1.6.18");
      reply->interval = 0;
      break;
    case 0x07: /* QUIT */
    case 0x17: /* QUITQ */ return BIN_HEADER + body_len;
    default: break; /* SET, ADD, DELETE, NOOP, ...: success, no body */
    }
  g_string_append_c (reply->bytes, (char) 0x81);
  g_string_append_c (reply->bytes, (char) opcode);
  append_be (reply->bytes, key_out, 2);
  append_be (reply->bytes, extras_out, 1);
  append_be (reply->bytes, 0, 1); /* data type */
  append_be (reply->bytes, 0, 2); /* status: success */
  append_be (reply->bytes, body->len, 4);
  append_be (reply->bytes, opaque, 4);
  append_be (reply->bytes, 1, 8); /* cas */
  g_string_append_len (reply->bytes, body->str, (gssize) body->len);
  return BIN_HEADER + body_len;
}

/* --- helpers --------------------------------------------------------------
 */

static FakeServer *
trickling_server (FakeRequestFunc request, FakeMemcached *fake)
{
  FakeServer *s = fake_server_new (FAKE_ANSWER);

  s->interval = TRICKLE;
  s->request = request;
  s->data = fake;
  fake_server_run (s);
  return s;
}

static char *
server_url (int port)
{
  return g_strdup_printf ("127.0.0.1:%d", port);
}

static char *
server_name (int port)
{
  return g_strdup_printf ("memcached server 127.0.0.1:%d", port);
}

/* @error is a timeout that came at the deadline: within [low, high] s,
 * naming the server and the setting that ended it. */
static void
assert_timeout (gboolean ok, GError *error, double started, double low,
                double high, int port, const char *setting, const char *what)
{
  g_autofree char *server = server_name (port);

  assert_bounded_failure (ok, error, started, low, high, server, what);
  cr_log_info ("%s: %.2f s: %s", what, monotonic_seconds () - started,
               error->message);
  cr_assert (strstr (error->message, "timed out") != NULL,
             "%s: no timeout in '%s'", what, error->message);
  cr_assert (strstr (error->message, setting) != NULL, "%s: '%s' not in '%s'",
             what, setting, error->message);
}

/* --- a trickling server -------------------------------------------------- */

TestSuite (trickle);

static void
check_trickled_get (const char *name, FakeRequestFunc request)
{
  FakeMemcached fake = { 0 };
  FakeServer *s = trickling_server (request, &fake);
  g_autofree char *url = server_url (s->port);
  g_autoptr (DogpileBackend) b
      = memcached_backend (name, "url", url, "socket_timeout", "1", NULL);
  g_autoptr (GBytes) got = NULL;
  GError *error = NULL;
  double started = monotonic_seconds ();
  gboolean ok = dogpile_backend_get (b, "k", &got, &error);

  assert_timeout (ok, error, started, DEADLINE - 0.1, BOUND + SLACK, s->port,
                  "call_timeout", "get");
  cr_assert_null (got);
  /* it was trickling: some bytes came, far from all */
  cr_assert_gt (g_atomic_int_get (&s->bytes_written), 3);
  g_clear_error (&error);
  fake_server_stop (s);
}

Test (trickle, a_trickled_text_get_fails_at_its_deadline)
{
  check_trickled_get ("pylibmc", text_request);
}

Test (trickle, a_trickled_binary_get_fails_at_its_deadline)
{
  check_trickled_get ("bmemcached", binary_request);
}

/* The lock's add goes through the same deadline. */
Test (trickle, a_trickled_lock_add_fails_at_its_deadline)
{
  FakeMemcached fake = { 0 };
  FakeServer *s = trickling_server (text_request, &fake);
  g_autofree char *url = server_url (s->port);
  g_autoptr (DogpileBackend) b = memcached_backend (
      "pymemcache", "url", url, "socket_timeout", "1", "distributed_lock",
      "true", "lock_timeout", "10", NULL);
  g_autoptr (DogpileMutex) m = dogpile_backend_get_mutex (b, "k");
  GError *error = NULL;
  gboolean acquired = FALSE;
  double started = monotonic_seconds ();
  gboolean ok = dogpile_mutex_acquire (m, FALSE, &acquired, &error);

  assert_timeout (ok, error, started, DEADLINE - 0.1, BOUND + SLACK, s->port,
                  "call_timeout", "acquire");
  cr_assert_not (acquired);
  g_clear_error (&error);
  fake_server_stop (s);
}

/* Over a real server and a trickling one: the call ends at its deadline
 * naming the trickling server; the real server's keys work on. */
Test (trickle, a_get_multi_over_a_trickling_server_fails_at_its_deadline)
{
  FakeMemcached fake = { .prompt_writes = TRUE };
  FakeServer *s = trickling_server (text_request, &fake);
  int ports[MC_MAX_SERVERS];
  g_autofree char *url = NULL;
  g_autoptr (DogpileBackend) b = NULL;
  const char *keys[16];
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GBytes *values[16] = { NULL };
  GError *error = NULL;
  double started;
  gboolean ok;

  cr_assert_geq (memcached_ports (ports), 1);
  url = g_strdup_printf ("127.0.0.1:%d,127.0.0.1:%d", ports[0], s->port);
  b = memcached_backend ("memcached", "url", url, "socket_timeout", "1",
                         "pool_size", "1", NULL);
  for (int i = 0; i < 16; i++)
    {
      char *name = g_strdup_printf ("multi:%d", i);

      keys[i] = name;
      g_ptr_array_add (names, name);
    }
  started = monotonic_seconds ();
  ok = dogpile_backend_get_multi (b, keys, 16, values, &error);
  assert_timeout (ok, error, started, DEADLINE - 0.1, BOUND + SLACK, s->port,
                  "call_timeout", "get_multi");
  for (int i = 0; i < 16; i++)
    cr_assert_null (values[i]);
  g_clear_error (&error);
  /* the same handle (pool_size 1): the real server's keys work */
  for (int i = 0, live = 0; i < 16; i++)
    {
      g_autoptr (GBytes) value = bytes_of (keys[i]);

      cr_assert (dogpile_backend_set (b, keys[i], value, &error), "%s",
                 error ? error->message : "");
      if (!raw_has (ports[0], keys[i]))
        continue; /* the fake's key */
      live++;
      cr_assert (backend_round_trip (b, keys[i]), "%s", keys[i]);
      if (i == 15)
        cr_assert_gt (live, 0, "no key went to the real server");
    }
  fake_server_stop (s);
}

/* With call_timeout given, it is the deadline. */
Test (trickle, call_timeout_sets_the_deadline)
{
  FakeMemcached fake = { 0 };
  FakeServer *s = trickling_server (text_request, &fake);
  g_autofree char *url = server_url (s->port);
  g_autoptr (DogpileBackend) b
      = memcached_backend ("pylibmc", "url", url, "socket_timeout", "1",
                           "call_timeout", "1.5", NULL);
  g_autoptr (GBytes) got = NULL;
  GError *error = NULL;
  double started = monotonic_seconds ();
  gboolean ok = dogpile_backend_get (b, "k", &got, &error);

  assert_timeout (ok, error, started, 1.4, 1.5 + SOCKET_TIMEOUT + SLACK,
                  s->port, "call_timeout (1.5 s)", "get");
  g_clear_error (&error);
  fake_server_stop (s);
}

/* After a timeout the connection is closed, not read on: the next call
 * makes a new one and gets its own key's value, not the rest of the
 * reply that was trickling. */
Test (trickle, a_timed_out_connection_is_not_used_again)
{
  FakeMemcached fake = { .trickled_gets = 1 };
  FakeServer *s = trickling_server (text_request, &fake);
  g_autofree char *url = server_url (s->port);
  g_autoptr (DogpileBackend) b
      = memcached_backend ("pylibmc", "url", url, "socket_timeout", "1",
                           "call_timeout", "1", "pool_size", "1", NULL);
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GBytes) second = NULL;
  GError *error = NULL;
  double started = monotonic_seconds ();
  gboolean ok = dogpile_backend_get (b, "k", &got, &error);

  assert_timeout (ok, error, started, 0.9, 1 + SOCKET_TIMEOUT + SLACK, s->port,
                  "call_timeout", "get");
  g_clear_error (&error);
  cr_assert_eq (g_atomic_int_get (&s->connections), 1);
  cr_assert (dogpile_backend_get (b, "b:second", &second, &error), "%s",
             error ? error->message : "");
  cr_assert (bytes_equal (second, "b:second"), "the old reply was read");
  cr_assert_eq (g_atomic_int_get (&s->connections), 2,
                "the timed-out connection was used again");
  fake_server_stop (s);
}

/* --- servers that do not read ------------------------------------------- */

TestSuite (deaf);

#define BIG_VALUE (32u << 20) /* past any socket buffers */

static void
check_big_set (FakeServer *s, const char *setting)
{
  g_autofree char *url = server_url (s->port);
  g_autoptr (DogpileBackend) b
      = memcached_backend ("pylibmc", "url", url, "socket_timeout", "1", NULL);
  g_autofree char *data = g_malloc0 (BIG_VALUE);
  g_autoptr (GBytes) value = g_bytes_new_static (data, BIG_VALUE);
  GError *error = NULL;
  double started = monotonic_seconds ();
  gboolean ok = dogpile_backend_set (b, "big", value, &error);

  assert_timeout (ok, error, started, SOCKET_TIMEOUT - 0.1, BOUND + SLACK,
                  s->port, setting, "set");
  g_clear_error (&error);
}

/* The send buffers fill, then no byte moves for socket_timeout. */
Test (deaf, a_big_set_to_a_server_that_never_reads_fails_in_time)
{
  FakeServer *s = fake_server_new (FAKE_NEVER_READ);

  fake_server_run (s);
  check_big_set (s, "socket_timeout");
  fake_server_stop (s);
}

/* Bytes keep moving, too slowly for 32 MB: the deadline ends it. */
Test (deaf, a_big_set_to_a_server_that_reads_slowly_fails_at_its_deadline)
{
  FakeServer *s = fake_server_new (FAKE_READ_SLOWLY);

  s->chunk = 64 * 1024;
  s->interval = 0.02; /* about 3 MB/s: 32 MB would take 10 s */
  fake_server_run (s);
  check_big_set (s, "call_timeout");
  cr_assert_gt (g_atomic_int_get (&s->bytes_read), 1 << 20);
  fake_server_stop (s);
}

/* --- a listener that never answers ----------------------------------------
 */

TestSuite (silent);

Test (silent, every_call_fails_within_socket_timeout)
{
  FakeServer *s = fake_server_new (FAKE_NEVER_READ);
  FakeServer *t = fake_server_new (FAKE_NEVER_READ);
  g_autofree char *url = NULL;
  g_autofree char *both = NULL;
  g_autoptr (DogpileBackend) b = NULL;
  g_autoptr (DogpileBackend) two = NULL;
  g_autoptr (GBytes) value = bytes_of ("v");
  const char *keys[8];
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GBytes *values[8] = { NULL };

  fake_server_run (s);
  fake_server_run (t);
  url = server_url (s->port);
  both = g_strdup_printf ("127.0.0.1:%d,127.0.0.1:%d", s->port, t->port);
  b = memcached_backend ("pylibmc", "url", url, "socket_timeout", "1", NULL);
  two = memcached_backend ("memcached", "url", both, "socket_timeout", "1",
                           NULL);
  for (int i = 0; i < 8; i++)
    {
      char *name = g_strdup_printf ("silent:%d", i);

      keys[i] = name;
      g_ptr_array_add (names, name);
    }
  for (int round = 0; round < 2; round++)
    {
      g_autoptr (GBytes) got = NULL;
      GError *error = NULL;
      double started;
      gboolean ok;

#define CHECK(call, port, what)                                               \
  started = monotonic_seconds ();                                             \
  ok = call;                                                                  \
  assert_timeout (ok, error, started, SOCKET_TIMEOUT - 0.1, BOUND + SLACK,    \
                  port, "socket_timeout", what);                              \
  g_clear_error (&error)

      CHECK (dogpile_backend_get (b, "k", &got, &error), s->port, "get");
      CHECK (dogpile_backend_set (b, "k", value, &error), s->port, "set");
      CHECK (dogpile_backend_get_multi (b, keys, 8, values, &error), s->port,
             "get_multi");
      /* Two silent servers: libmemcached's poll over both times out and
       * its fetch reports the end of the results; the keys are not
       * misses.  And the replies still owed are not waited for again
       * (the connections were closed): the second round takes one poll
       * timeout too, not three. */
      started = monotonic_seconds ();
      ok = dogpile_backend_get_multi (two, keys, 8, values, &error);
      assert_bounded_failure (
          ok, error, started, SOCKET_TIMEOUT - 0.1, SOCKET_TIMEOUT + 1.2,
          "memcached server 127.0.0.1:", "get_multi over two");
      cr_log_info ("get_multi over two: %s", error->message);
      cr_assert (strstr (error->message, "timed out") != NULL, "%s",
                 error->message);
      g_clear_error (&error);
#undef CHECK
      for (int i = 0; i < 8; i++)
        cr_assert_null (values[i]);
    }
  fake_server_stop (s);
  fake_server_stop (t);
}

/* --- the argument ----------------------------------------------------------
 */

TestSuite (arguments);

Test (arguments, call_timeout_is_checked_at_configure_time)
{
  static const char *const bad[] = { "0", "-1", "1e10", "nan", "inf", "x" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GHashTable) arguments
          = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr (GError) error = NULL;
      g_autoptr (DogpileBackend) b = NULL;

      g_hash_table_insert (arguments, "url", "127.0.0.1:1");
      g_hash_table_insert (arguments, "call_timeout", (gpointer) bad[i]);
      b = dogpile_backend_new ("dogpile.cache.pylibmc", arguments, &error);
      cr_assert_null (b, "call_timeout=%s was accepted", bad[i]);
      assert_error (error, DOGPILE_ERROR_VALIDATION);
      cr_assert (strstr (error->message, "call_timeout") != NULL, "%s",
                 error->message);
    }
}

/* A timeout libmemcached would wait for forever, or never, is refused:
 * the deadline is built from them. */
Test (arguments, poll_and_connect_timeouts_are_checked)
{
  static const char *const bad[]
      = { "{\"_poll_timeout\": 0}", "{\"_poll_timeout\": -1}",
          "{\"connect_timeout\": 0}", "{\"connect_timeout\": 4294967295}" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GHashTable) arguments
          = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr (GError) error = NULL;
      g_autoptr (DogpileBackend) b = NULL;

      g_hash_table_insert (arguments, "url", "127.0.0.1:1");
      g_hash_table_insert (arguments, "behaviors", (gpointer) bad[i]);
      b = dogpile_backend_new ("dogpile.cache.pylibmc", arguments, &error);
      cr_assert_null (b, "behaviors=%s was accepted", bad[i]);
      assert_error (error, DOGPILE_ERROR_VALIDATION);
      cr_assert (strstr (error->message, "timeout") != NULL, "%s",
                 error->message);
    }
}
