/* test-redis-interop.c: C and Python dogpile.cache sharing one server.
 *
 * The Python side is Debian's python3-dogpile.cache (1.1.8) with redis-py,
 * driven through tests/redis-interop.py: entries written by either are
 * read by the other (the record of spec 4.1), and their distributed locks
 * (spec 4.6) exclude each other in both directions.
 *
 * SPDX-License-Identifier: MIT
 */
#include <poll.h>

#include "redis-lock.h"
#include "test-redis-util.h"

#define HELPER TEST_SOURCE_DIR "/redis-interop.py"

/* Runs the helper; returns its stdout without the final newline. */
#define python(...) python_helper (HELPER, __VA_ARGS__)

static void
need_python (void)
{
  python_helper_need (HELPER, "python3-dogpile.cache or python3-redis");
}

static char *
hex_of (const void *data, gsize len)
{
  GString *s = g_string_sized_new (2 * len + 1);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", ((const guint8 *) data)[i]);
  return g_string_free (s, FALSE);
}

static GBytes *
bytes_of_hex (const char *hex)
{
  gsize len = strlen (hex) / 2;
  guint8 *data = g_malloc (MAX (len, 1));

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) ((g_ascii_xdigit_value (hex[2 * i]) << 4)
                        | g_ascii_xdigit_value (hex[2 * i + 1]));
  return g_bytes_new_take (data, len);
}

static DogpileRegion *
c_region (void)
{
  g_autoptr (GHashTable) a
      = redis_arguments ("distributed_lock", "true", "lock_timeout", "30",
                         "lock_sleep", "0.02", NULL);

  return configured_region ("dogpile.cache.redis", 600, a);
}

static GBytes *
unexpected_creator (const char *key, gpointer data, GError **error)
{
  g_atomic_int_inc ((gint *) data);
  return bytes_of ("created in C");
}

TestSuite (redis_interop, .init = need_python);

Test (redis_interop, python_writes_c_reads)
{
  g_autoptr (DogpileRegion) region = c_region ();
  g_autofree char *key = redis_unique_key ("py-writes");
  static const char payload[] = "from|python\0\xff bytes";
  g_autofree char *hex = hex_of (payload, sizeof payload - 1);
  g_autofree char *ignored = python ("write", key, hex, NULL);
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GBytes) again = NULL;
  gint calls = 0;

  cr_assert (dogpile_region_get (region, key, &got, NULL));
  cr_assert_not_null (got);
  cr_assert_eq (g_bytes_get_size (got), sizeof payload - 1);
  cr_assert (memcmp (g_bytes_get_data (got, NULL), payload, sizeof payload - 1)
             == 0);
  /* Python's ct is fresh to C: get_or_create does not regenerate. */
  cr_assert (dogpile_region_get_or_create (region, key, unexpected_creator,
                                           &calls, &again, NULL));
  cr_assert_eq (calls, 0);
  cr_assert (g_bytes_equal (got, again));
}

Test (redis_interop, c_writes_python_reads)
{
  g_autoptr (DogpileRegion) region = c_region ();
  g_autofree char *key = redis_unique_key ("c-writes");
  static const char payload[] = "from|C\0\x01\x02";
  g_autoptr (GBytes) value = g_bytes_new (payload, sizeof payload - 1);
  g_autofree char *hex = hex_of (payload, sizeof payload - 1);
  g_autofree char *read = NULL;
  g_autofree char *fresh = NULL;
  g_autofree char *stale = NULL;

  cr_assert (dogpile_region_set (region, key, value, NULL));
  read = python ("read", key, NULL);
  cr_assert_str_eq (read, hex);
  /* C's ct is a time.time() to Python: fresh for 60 s, and in the past
   * (expiration 0 means expired as soon as it is older than "now"). */
  fresh = python ("read", key, "60", NULL);
  cr_assert_str_eq (fresh, hex);
  stale = python ("read", key, "0", NULL);
  cr_assert_str_eq (stale, "MISS");
}

Test (redis_interop, python_s_pickles_are_opaque_bytes_to_c)
{
  g_autoptr (DogpileRegion) region = c_region ();
  g_autofree char *key = redis_unique_key ("pickle");
  g_autofree char *pickled
      = python ("write-pickle", key, "h\xc3\xa9llo|", NULL);
  g_autoptr (GBytes) expected = bytes_of_hex (pickled);
  g_autoptr (GBytes) got = NULL;

  cr_assert (g_str_has_prefix (pickled, "80"), "a pickle: %s", pickled);
  cr_assert (dogpile_region_get (region, key, &got, NULL));
  cr_assert (g_bytes_equal (got, expected));
}

Test (redis_interop, the_release_script_is_redis_py_s)
{
  g_autofree char *sha = python ("release-sha", NULL);
  g_autofree char *ours = g_compute_checksum_for_string (
      G_CHECKSUM_SHA1, REDIS_LOCK_RELEASE_SCRIPT, -1);

  cr_assert_str_eq (sha, REDIS_LOCK_RELEASE_SHA1);
  cr_assert_str_eq (ours, REDIS_LOCK_RELEASE_SHA1);
}

Test (redis_interop, a_c_lock_excludes_python)
{
  g_autoptr (DogpileRegion) region = c_region ();
  g_autofree char *key = redis_unique_key ("c-lock");
  g_autoptr (DogpileMutex) m = dogpile_region_get_mutex (region, key, NULL);
  gboolean acquired = FALSE;
  g_autofree char *tried = NULL;
  g_autofree char *locked = NULL;
  g_autofree char *after = NULL;

  cr_assert (dogpile_mutex_acquire (m, FALSE, &acquired, NULL) && acquired);
  tried = python ("lock-try", key, NULL);
  locked = python ("locked", key, NULL);
  cr_assert_str_eq (tried, "0", "Python cannot take C's lock");
  cr_assert_str_eq (locked, "1");
  cr_assert (dogpile_mutex_release (m, NULL));
  after = python ("lock-try", key, NULL);
  cr_assert_str_eq (after, "1");
}

static char *
read_line (int fd, double timeout)
{
  GString *line = g_string_new (NULL);
  double deadline = monotonic_seconds () + timeout;

  while (monotonic_seconds () < deadline)
    {
      struct pollfd p = { fd, POLLIN, 0 };
      char c;

      if (poll (&p, 1, 100) <= 0)
        continue;
      if (read (fd, &c, 1) != 1 || c == '\n')
        break;
      g_string_append_c (line, c);
    }
  return g_string_free (line, FALSE);
}

Test (redis_interop, a_python_lock_excludes_c)
{
  g_autoptr (DogpileRegion) region = c_region ();
  g_autofree char *key = redis_unique_key ("py-lock");
  g_autoptr (DogpileMutex) m = dogpile_region_get_mutex (region, key, NULL);
  const char *argv[] = { TEST_PYTHON, HELPER, "lock-hold", key, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *held = NULL;
  g_autofree char *released = NULL;
  gboolean acquired = TRUE, locked = FALSE;
  int in_fd, out_fd;
  GPid pid;

  cr_assert (g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                                       G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                       &pid, &in_fd, &out_fd, NULL, &error));
  held = read_line (out_fd, 10);
  cr_assert_str_eq (held, "HELD");
  cr_assert (dogpile_mutex_acquire (m, FALSE, &acquired, NULL));
  cr_assert_not (acquired, "C cannot take Python's lock");
  cr_assert (dogpile_mutex_locked (m, &locked, NULL) && locked);
  cr_assert (write (in_fd, "\n", 1) == 1);
  released = read_line (out_fd, 10);
  cr_assert_str_eq (released, "RELEASED");
  cr_assert (dogpile_mutex_acquire (m, FALSE, &acquired, NULL) && acquired);
  cr_assert (dogpile_mutex_release (m, NULL));
  close (in_fd);
  close (out_fd);
  g_spawn_close_pid (pid);
}

static long long
set_calls (redisContext *raw)
{
  redisReply *reply = raw_command (raw, "INFO commandstats");
  const char *at = strstr (reply->str, "cmdstat_set:calls=");
  long long calls = at != NULL ? strtoll (at + 18, NULL, 10) : 0;

  freeReplyObject (reply);
  return calls;
}

/* The dogpile lock across languages: Python waits on the lock C holds
 * while creating, then uses C's value instead of creating its own. */
Test (redis_interop, python_waits_for_the_c_creator)
{
  g_autoptr (DogpileRegion) region = c_region ();
  g_autofree char *key = redis_unique_key ("shared-creation");
  g_autoptr (DogpileMutex) m = dogpile_region_get_mutex (region, key, NULL);
  g_autoptr (GBytes) value = bytes_of ("made by C");
  g_autofree char *hex = hex_of ("made by C", 9);
  const char *argv[]
      = { TEST_PYTHON, HELPER, "get-or-create", key, "00", NULL };
  redisContext *raw = raw_connect ();
  g_autoptr (GError) error = NULL;
  g_autofree char *result = NULL;
  g_autofree char *expected = g_strdup_printf ("CACHED %s", hex);
  gboolean acquired = FALSE;
  long long before;
  int out_fd;
  GPid pid;

  cr_assert (dogpile_mutex_acquire (m, FALSE, &acquired, NULL) && acquired);
  before = set_calls (raw);
  cr_assert (g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                                       G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                       &pid, NULL, &out_fd, NULL, &error));
  /* Python is waiting once its SET NX attempts come in. */
  for (int i = 0; i < 500 && set_calls (raw) < before + 3; i++)
    g_usleep (10000);
  cr_assert (set_calls (raw) >= before + 3, "Python polls the lock");
  cr_assert (dogpile_region_set (region, key, value, NULL));
  cr_assert (dogpile_mutex_release (m, NULL));
  result = read_line (out_fd, 10);
  cr_assert_str_eq (result, expected);
  close (out_fd);
  g_spawn_close_pid (pid);
  redisFree (raw);
}
