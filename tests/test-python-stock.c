/* test-python-stock.c: a C region and a stock Python region on one
 * backend (tests/python-stock-peer.py runs Debian's dogpile.cache), for
 * every serializer: Python writes, C reads the same value and metadata;
 * C writes, Python reads the same value; both decide expiry the same
 * way.  Built once and run per backend (STOCK_BACKEND, with its
 * arguments in DOGPILE_TEST_ARGUMENTS, as Python's coerce_string_conf
 * reads them too) by the plugins' harnesses, which start real servers.
 *
 * SPDX-License-Identifier: MIT
 */
#include <criterion/criterion.h>
#include <dogpile/dogpile.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "test-util.h"

#define PEER TEST_SOURCE_DIR "/python-stock-peer.py"

/* The C serializer that shares entries with a Python region made as
 * @python (the peer's SERIALIZER). */
static const char *
c_serializer (const char *python)
{
  if (strcmp (python, "json") == 0 || strcmp (python, "raw") == 0)
    return python;
  return "pickle";
}

/* DOGPILE_TEST_ARGUMENTS with {pid} replaced, for the peer too:
 * Criterion runs each test in its own process. */
static void
resolve_arguments (void)
{
  const char *spec = g_getenv ("DOGPILE_TEST_ARGUMENTS");
  g_auto (GStrv) parts = g_strsplit (spec != NULL ? spec : "", "{pid}", -1);
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  g_autofree char *resolved = g_strjoinv (pid, parts);

  g_setenv ("DOGPILE_TEST_ARGUMENTS", resolved, TRUE);
}

static DogpileRegion *
c_region (const char *python_serializer, double expiration)
{
  g_autoptr (GHashTable) arguments = suite_arguments ();
  g_autoptr (GError) error = NULL;
  DogpileRegion *region = dogpile_region_new ("stock");

  cr_assert (dogpile_region_set_serializer_name (
      region, c_serializer (python_serializer), &error));
  cr_assert (dogpile_region_configure (region, g_getenv ("STOCK_BACKEND"),
                                       expiration, arguments,
                                       DOGPILE_CONFIGURE_NONE, &error),
             "%s", error ? error->message : "");
  return region;
}

/* The value NAME as the C side builds it: from Python's protocol 4. */
static GVariant *
expected (const char *name)
{
  g_autofree char *hex = python_helper (PEER, "pickle", name, NULL);
  g_autoptr (GBytes) bytes = bytes_from_hex (hex);
  g_autoptr (GError) error = NULL;
  GVariant *value;

  value = dogpile_pickle_loads (bytes, &error);
  cr_assert_not_null (value, "%s: %s", name, error ? error->message : "");
  return value;
}

/* Equal values: the same protocol 4 pickle (types, nan, -0.0 count). */
static void
assert_same_value (GVariant *got, GVariant *want, const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) a = dogpile_pickle_dumps (got, &error);
  g_autoptr (GBytes) b = dogpile_pickle_dumps (want, &error);

  if (a == NULL || b == NULL || !g_bytes_equal (a, b))
    {
      g_autofree char *text = g_variant_print (got, FALSE);

      cr_assert_fail ("%s: read %s", what, text);
    }
}

static GStrv
names (const char *serializer)
{
  g_autofree char *out = python_helper (PEER, "names", serializer, NULL);

  return g_strsplit (out, "\n", -1);
}

static void
python_writes_c_reads (const char *serializer)
{
  g_autoptr (DogpileRegion) region = c_region (serializer, 3600);
  g_auto (GStrv) all = names (serializer);

  for (char **name = all; *name != NULL; name++)
    {
      g_autofree char *key = g_strdup_printf ("py-%d-%s-%s", (int) getpid (),
                                              serializer, *name);
      g_autofree char *ct
          = python_helper (PEER, "write", serializer, key, *name, NULL);
      g_autoptr (GVariant) got = NULL, want = expected (*name);
      g_autoptr (GError) error = NULL;
      DogpileMetadata metadata = { 0 };

      cr_assert (dogpile_region_get_variant_full (
                     region, key, DOGPILE_EXPIRATION_DEFAULT, DOGPILE_GET_NONE,
                     &got, &metadata, &error),
                 "%s: %s", key, error ? error->message : "");
      cr_assert_not_null (got, "%s: a miss for what Python wrote", key);
      assert_same_value (got, want, key);
      cr_assert_eq (metadata.version, 2);
      cr_assert (
          fabs (metadata.cached_time - g_ascii_strtod (ct, NULL)) < 1e-6,
          "%s: ct %.6f, Python wrote %s", key, metadata.cached_time, ct);
      if (strcmp (serializer, "raw") == 0)
        {
          g_autoptr (GBytes) bytes = NULL;

          cr_assert (dogpile_region_get (region, key, &bytes, &error));
          cr_assert_eq (g_bytes_get_size (bytes), g_variant_get_size (want));
        }
    }
}

static void
c_writes_python_reads (const char *serializer)
{
  g_autoptr (DogpileRegion) region = c_region (serializer, 3600);
  g_auto (GStrv) all = names (serializer);

  for (char **name = all; *name != NULL; name++)
    {
      g_autofree char *key
          = g_strdup_printf ("c-%d-%s-%s", (int) getpid (), serializer, *name);
      g_autoptr (GError) error = NULL;
      g_autofree char *verdict = NULL;
      g_autoptr (GVariant) value = expected (*name);

      cr_assert (dogpile_region_set_variant (region, key, value, &error),
                 "%s: %s", key, error ? error->message : "");
      verdict
          = python_helper (PEER, "read", serializer, key, *name, "3600", NULL);
      cr_assert_str_eq (verdict, "ok", "%s: Python read: %s", key, verdict);
    }
}

Test (python_stock, python_writes_c_reads_stock, .init = resolve_arguments)
{
  python_writes_c_reads ("stock");
}

/* Protocols 0 to 5, as pickle.dumps(v, protocol=p) writes them. */
Test (python_stock, python_writes_c_reads_every_protocol,
      .init = resolve_arguments)
{
  for (int p = 0; p <= 5; p++)
    {
      g_autofree char *serializer = g_strdup_printf ("pickle%d", p);

      python_writes_c_reads (serializer);
    }
}

Test (python_stock, python_writes_c_reads_json, .init = resolve_arguments)
{
  python_writes_c_reads ("json");
}

Test (python_stock, python_writes_c_reads_raw, .init = resolve_arguments)
{
  python_writes_c_reads ("raw");
}

Test (python_stock, c_writes_python_reads_stock, .init = resolve_arguments)
{
  c_writes_python_reads ("stock");
}

Test (python_stock, c_writes_python_reads_json, .init = resolve_arguments)
{
  c_writes_python_reads ("json");
}

Test (python_stock, c_writes_python_reads_raw, .init = resolve_arguments)
{
  c_writes_python_reads ("raw");
}

/* A value 100 s old is expired for a region of 60 s and fresh for one of
 * 200 s, on both sides, whoever wrote it. */
Test (python_stock, expiry_is_decided_alike, .init = resolve_arguments)
{
  g_autofree char *py_key = g_strdup_printf ("old-py-%d", (int) getpid ());
  g_autofree char *c_key = g_strdup_printf ("old-c-%d", (int) getpid ());
  g_autoptr (GError) error = NULL;
  g_autofree char *ct = NULL, *v60 = NULL, *v200 = NULL;
  double now = dogpile_clock_now ();

  ct = python_helper (PEER, "write", "stock", py_key, "str", "100", NULL);
  for (int i = 0; i < 2; i++)
    {
      g_autoptr (DogpileRegion) region = c_region ("stock", i ? 200 : 60);
      g_autoptr (GVariant) got = NULL;

      cr_assert (dogpile_region_get_variant (region, py_key, &got, &error));
      cr_assert ((got != NULL) == (i == 1), "expiration %d: %s", i ? 200 : 60,
                 got ? "a hit" : "a miss");
    }

  use_test_clock (now - 100);
  {
    g_autoptr (DogpileRegion) region = c_region ("stock", 3600);
    g_autoptr (GVariant) value = expected ("str");

    cr_assert (dogpile_region_set_variant (region, c_key, value, &error));
  }
  dogpile_clock_set_func (NULL, NULL);
  v60 = python_helper (PEER, "read", "stock", c_key, "str", "60", NULL);
  v200 = python_helper (PEER, "read", "stock", c_key, "str", "200", NULL);
  cr_assert_str_eq (v60, "miss");
  cr_assert_str_eq (v200, "ok");
}
