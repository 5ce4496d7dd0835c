/* memory-footprint.c: resident memory per entry of a region on the memory
 * backend, beside a bare GHashTable holding the same keys and values.
 *
 *   memory-footprint [N [VALUE_SIZE]]     (default 1000000 100)
 *
 * Each case runs in a child process of its own, so every figure starts
 * from the same heap: VmRSS after filling minus VmRSS before, divided by
 * N.  The cases:
 *   ghashtable   g_hash_table_insert (g_strdup (key), g_bytes_new (...))
 *   unbounded    dogpile_region_set on dogpile.cache.memory
 *   bounded      the same with max_entries=N (everything fits)
 *   bounded-lru  the same with eviction_policy=lru
 * Keys are "key:<i>"; each value is its own GBytes of VALUE_SIZE bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dogpile/dogpile.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static long
vm_rss_kb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, "VmRSS:");
  return line != NULL ? strtol (line + 6, NULL, 10) : -1;
}

static double
run_case (const char *name, guint n, gsize value_size)
{
  g_autofree char *payload = g_malloc0 (MAX (value_size, 1));
  DogpileRegion *region = NULL;
  GHashTable *table = NULL;
  long before, after;
  char key[32];

  if (strcmp (name, "ghashtable") == 0)
    table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                   (GDestroyNotify) g_bytes_unref);
  else
    {
      g_autoptr (GHashTable) arguments
          = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_autoptr (GError) error = NULL;

      if (strcmp (name, "unbounded") != 0)
        g_hash_table_insert (arguments, g_strdup ("max_entries"),
                             g_strdup_printf ("%u", n));
      if (strcmp (name, "bounded-lru") == 0)
        g_hash_table_insert (arguments, g_strdup ("eviction_policy"),
                             g_strdup ("lru"));
      region = dogpile_region_new ("footprint");
      if (!dogpile_region_configure (region, "dogpile.cache.memory", -1,
                                     arguments, 0, &error))
        {
          fprintf (stderr, "memory-footprint: %s\n", error->message);
          exit (1);
        }
      /* Warm up the library's own allocations before the baseline. */
      g_autoptr (GBytes) warm = g_bytes_new (payload, value_size);
      dogpile_region_set (region, "warm", warm, NULL);
      dogpile_region_delete (region, "warm", NULL);
    }
  before = vm_rss_kb ();
  for (guint i = 0; i < n; i++)
    {
      GBytes *value = g_bytes_new (payload, value_size);

      g_snprintf (key, sizeof key, "key:%u", i);
      if (table != NULL)
        g_hash_table_insert (table, g_strdup (key), value);
      else
        {
          dogpile_region_set (region, key, value, NULL);
          g_bytes_unref (value);
        }
    }
  after = vm_rss_kb ();
  if (region != NULL)
    {
      g_autoptr (GBytes) got = NULL;

      /* All there: nothing was evicted. */
      g_snprintf (key, sizeof key, "key:%u", 0);
      dogpile_region_get (region, key, &got, NULL);
      if (got == NULL)
        fprintf (stderr, "memory-footprint: %s lost key:0\n", name);
    }
  return (double) (after - before) * 1024.0 / n;
}

int
main (int argc, char **argv)
{
  static const char *const cases[]
      = { "ghashtable", "unbounded", "bounded", "bounded-lru" };
  guint n = argc > 1 ? (guint) strtoul (argv[1], NULL, 10) : 1000000;
  gsize value_size = argc > 2 ? strtoul (argv[2], NULL, 10) : 100;

  printf ("%u entries, %zu-byte values, resident bytes per entry:\n", n,
          value_size);
  fflush (stdout);
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      int fds[2];
      pid_t pid;
      double per_entry = 0;
      int status;

      if (pipe (fds) != 0)
        return 1;
      pid = fork ();
      if (pid == 0)
        {
          double r = run_case (cases[c], n, value_size);

          if (write (fds[1], &r, sizeof r) != sizeof r)
            _exit (1);
          _exit (0);
        }
      close (fds[1]);
      if (read (fds[0], &per_entry, sizeof per_entry) != sizeof per_entry)
        per_entry = -1;
      close (fds[0]);
      waitpid (pid, &status, 0);
      printf ("  %-12s %8.1f\n", cases[c], per_entry);
    }
  return 0;
}
