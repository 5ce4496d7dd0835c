/* test-cxx.cpp: an application written in C++ against the public headers
 * (compiled with -std=c++17 -Wall -Wextra -Wpedantic -Werror): it loads the
 * C++ plugin by name, runs a region on it, get_or_create, a cached function
 * keyed with the argument macros, and the memory backend through a proxy.
 *
 * Not a Criterion program: it checks and exits non-zero on the first
 * failure, naming it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dogpile/dogpile-plugin.h>
#include <dogpile/dogpile.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#define CHECK(cond)                                                           \
  do                                                                          \
    {                                                                         \
      if (!(cond))                                                            \
        {                                                                     \
          std::fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__,        \
                        __LINE__, #cond);                                     \
          std::exit (1);                                                      \
        }                                                                     \
    }                                                                         \
  while (0)

static int creations;

static GBytes *
create_value (const char *key, gpointer, GError **)
{
  creations++;
  std::string made = std::string ("made:") + key;
  return g_bytes_new (made.data (), made.size ());
}

static GBytes *
lookup_user (const DogpileArg *args, gsize n_args, gpointer, GError **)
{
  CHECK (n_args == 2);
  CHECK (args[0].type == DOGPILE_ARG_TYPE_INT);
  std::string made = std::to_string (args[0].v.i) + "/" + args[1].v.s;
  return g_bytes_new (made.data (), made.size ());
}

static bool
bytes_are (GBytes *bytes, const char *text)
{
  gsize len = 0;
  const void *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;

  return bytes != NULL && len == std::strlen (text)
         && std::memcmp (data, text, len) == 0;
}

int
main ()
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DogpileRegion) region = dogpile_region_new ("cxx");
  g_autoptr (GHashTable) arguments
      = g_hash_table_new (g_str_hash, g_str_equal);

  CHECK (dogpile_register_backend ("cxx.example", CXX_PLUGIN_PATH,
                                   "dogpile_backend_cxx_get_desc", &error));
  g_hash_table_insert (arguments, (gpointer) "prefix", (gpointer) "p:");
  CHECK (dogpile_region_configure (region, "cxx.example", 60, arguments,
                                   DOGPILE_CONFIGURE_NONE, &error));
  CHECK (std::strcmp (dogpile_backend_get_description (
                          dogpile_region_get_actual_backend (region, NULL)),
                      "A backend written in C++ (std::map)")
         == 0);

  {
    g_autoptr (GBytes) value = g_bytes_new_static ("v", 1);
    g_autoptr (GBytes) got = NULL;

    CHECK (dogpile_region_set (region, "k", value, &error));
    CHECK (dogpile_region_get (region, "k", &got, &error));
    CHECK (bytes_are (got, "v"));
    CHECK (dogpile_region_delete (region, "k", &error));
  }
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (GBytes) got = NULL;

      CHECK (dogpile_region_get_or_create (region, "g", create_value, NULL,
                                           &got, &error));
      CHECK (bytes_are (got, "made:g"));
    }
  CHECK (creations == 1);

  {
    g_autoptr (DogpileCachedFunction) fn = dogpile_cached_function_new (
        region, "app.users", "lookup_user", lookup_user, NULL, NULL);
    DogpileArg args[] = { DOGPILE_INT (42), DOGPILE_STRING ("en") };
    DogpileArg named = DOGPILE_NAMED ("lang", DOGPILE_STRING ("fr"));
    g_autoptr (GBytes) got = NULL;
    g_autofree char *key = NULL;

    CHECK (fn != NULL);
    CHECK (named.name != NULL && std::strcmp (named.v.s, "fr") == 0);
    CHECK (dogpile_cached_function_call (fn, args, 2, &got, &error));
    CHECK (bytes_are (got, "42/en"));
    key = dogpile_cached_function_dup_key (fn, args, 2, &error);
    CHECK (key != NULL);
    /* Python's function_key_generator: module:name|str(args) */
    CHECK (std::strcmp (key, "app.users:lookup_user|42 en") == 0);
  }

  {
    g_autoptr (DogpileRegion) memory = dogpile_region_new ("memory");
    g_autoptr (GBytes) value = g_bytes_new_static ("m", 1);
    DogpileStats stats = {};

    CHECK (dogpile_region_configure (memory, "dogpile.cache.memory", 60, NULL,
                                     DOGPILE_CONFIGURE_NONE, &error));
    CHECK (dogpile_region_wrap (memory, DOGPILE_PROXY_STATS, NULL, &error));
    CHECK (dogpile_region_set (memory, "k", value, &error));
    CHECK (dogpile_region_get_stats (memory, &stats, &error));
    CHECK (stats.sets == 1);
  }
  std::puts ("test-cxx: 1 passed, 0 failed");
  return 0;
}
