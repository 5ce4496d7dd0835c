/* test-memcached-sasl.c: username and password against real memcached
 * servers started with SASL (memcached-servers.py --sasl):
 *  - the right credentials: every operation and the lock work, on the
 *    binary protocol SASL turns on, over two servers;
 *  - a wrong password: each call fails with a backend error naming the
 *    server, never a hang or a miss; no credentials: each write fails
 *    so (a read is a miss: libmemcached reports the server's
 *    authentication error on a binary get as not found);
 *  - binary=false with credentials is refused at configure time;
 *  - Python's bmemcached region with the same credentials reads what C
 *    wrote, and C reads what it wrote.
 *
 * SPDX-License-Identifier: MIT
 */
#include "test-memcached-util.h"

#define HELPER TEST_SOURCE_DIR "/memcached-python.py"

static const char *
sasl_user (void)
{
  const char *user = g_getenv ("MEMCACHED_SASL_USER");

  cr_assert_not_null (user, "run under memcached-servers.py --sasl");
  return user;
}

static const char *
sasl_password (void)
{
  return g_getenv ("MEMCACHED_SASL_PASSWORD");
}

static void
check_authenticated (const char *name)
{
  g_autofree char *url = urls ();
  g_autoptr (DogpileBackend) b = memcached_backend (
      name, "url", url, "username", sasl_user (), "password", sasl_password (),
      "distributed_lock", "true", "lock_timeout", "10", NULL);
  g_autoptr (DogpileMutex) m = dogpile_backend_get_mutex (b, "sasl:lock");
  g_autoptr (GBytes) value = bytes_of ("v");
  const char *keys[] = { "sasl:a", "sasl:b", "sasl:c" };
  GBytes *values[] = { value, value, value };
  GBytes *got[3] = { NULL, NULL, NULL };
  g_autoptr (GError) error = NULL;
  gboolean acquired = FALSE;

  cr_assert (backend_round_trip (b, "sasl:one"), "%s: a round trip", name);
  cr_assert (dogpile_backend_set_multi (b, keys, values, 3, &error), "%s",
             error ? error->message : "");
  cr_assert (dogpile_backend_get_multi (b, keys, 3, got, &error), "%s",
             error ? error->message : "");
  for (int i = 0; i < 3; i++)
    {
      cr_assert (bytes_equal (got[i], "v"), "%s", keys[i]);
      g_bytes_unref (got[i]);
    }
  cr_assert (dogpile_backend_delete_multi (b, keys, 3, &error));
  cr_assert (dogpile_mutex_acquire (m, FALSE, &acquired, &error) && acquired,
             "%s", error ? error->message : "not acquired");
  cr_assert (dogpile_mutex_release (m, &error));
}

TestSuite (sasl);

Test (sasl, pylibmc_with_the_right_credentials_works)
{
  check_authenticated ("pylibmc");
}

Test (sasl, bmemcached_with_the_right_credentials_works)
{
  check_authenticated ("bmemcached");
}

static void
check_refused (const char *password)
{
  int ports[MC_MAX_SERVERS];
  g_autofree char *url = NULL;
  g_autofree char *server = NULL;
  g_autoptr (DogpileBackend) b = NULL;
  g_autoptr (GBytes) value = bytes_of ("v");

  memcached_ports (ports);
  url = g_strdup_printf ("127.0.0.1:%d", ports[0]);
  server = g_strdup_printf ("memcached server 127.0.0.1:%d", ports[0]);
  b = password != NULL
          ? memcached_backend ("pylibmc", "url", url, "username", sasl_user (),
                               "password", password, "socket_timeout", "1",
                               NULL)
          : memcached_backend ("pylibmc", "url", url, "binary", "true",
                               "socket_timeout", "1", NULL);
  for (int round = 0; round < 2; round++)
    {
      g_autoptr (GBytes) got = NULL;
      GError *error = NULL;
      double started = monotonic_seconds ();
      gboolean ok = dogpile_backend_get (b, "sasl:k", &got, &error);

      /* Without credentials the server answers a binary get with an
       * authentication error that libmemcached reports as not found:
       * a miss, and the write that follows fails. */
      if (password == NULL)
        cr_assert (ok && got == NULL, "get without credentials: %s",
                   error ? error->message : "a value");
      else
        assert_bounded_failure (ok, error, started, 0, 1.7, server, "get");
      g_clear_error (&error);
      started = monotonic_seconds ();
      ok = dogpile_backend_set (b, "sasl:k", value, &error);
      assert_bounded_failure (ok, error, started, 0, 1.7, server, "set");
      g_clear_error (&error);
    }
}

Test (sasl, a_wrong_password_fails_every_call_naming_the_server)
{
  check_refused ("not-the-password");
}

Test (sasl, no_credentials_fail_every_write_naming_the_server)
{
  check_refused (NULL);
}

Test (sasl, binary_false_with_credentials_is_refused)
{
  g_autofree char *url = urls ();
  g_autoptr (GHashTable) arguments
      = arguments_of ("url", url, "username", sasl_user (), "password",
                      sasl_password (), "binary", "false", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileBackend) b
      = dogpile_backend_new ("dogpile.cache.pylibmc", arguments, &error);

  cr_assert_null (b);
  assert_error (error, DOGPILE_ERROR_VALIDATION);
  cr_assert (strstr (error->message, "binary") != NULL, "%s", error->message);
}

#define python(...) python_helper (HELPER, __VA_ARGS__)

Test (sasl, python_bmemcached_reads_and_writes_the_same_entries)
{
  g_autofree char *url = urls ();
  g_autoptr (GHashTable) arguments
      = arguments_of ("url", url, "username", sasl_user (), "password",
                      sasl_password (), NULL);
  g_autoptr (DogpileRegion) region
      = configured_region ("dogpile.cache.bmemcached", 600, arguments);
  g_autoptr (GBytes) value = bytes_of ("from C");
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *read = NULL;

  python_helper_need (HELPER, "python3-dogpile.cache or python3-binary-"
                              "memcached");
  cr_assert (dogpile_region_set (region, "sasl:c-key", value, &error), "%s",
             error ? error->message : "");
  read = python ("read", "bmemcached", url, "sasl:c-key", NULL);
  cr_assert_str_eq (read, "66726f6d2043", "Python read %s", read);
  g_free (python ("write-raw", "bmemcached", url, "sasl:py-key",
                  "707974686f6e", NULL));
  cr_assert (dogpile_region_get (region, "sasl:py-key", &got, &error), "%s",
             error ? error->message : "");
  cr_assert (bytes_equal (got, "python"), "C missed Python's entry");
}
