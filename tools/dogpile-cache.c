/* dogpile-cache: a configured region from the shell.
 *
 *   dogpile-cache get|set|delete -b BACKEND [-a name=value]... KEY [VALUE]
 *   dogpile-cache get|set|delete -c regions.ini -R cache.redis KEY [VALUE]
 *   dogpile-cache get|set|delete -c development.ini -R app:main \
 *       --prefix cache.local. KEY [VALUE]
 *   dogpile-cache bench -b BACKEND [...]
 *   dogpile-cache stampede -b BACKEND [...]
 *
 * Each subcommand is a file of its own: dogpile-cache-keys.c (get, set,
 * delete), dogpile-cache-bench.c, dogpile-cache-stampede.c; the region
 * options they share are in dogpile-cache-region.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-cache.h"

#include <locale.h>
#include <stdio.h>

#include "tool-common.h"

static void
usage (FILE *out)
{
  fputs ("Usage: dogpile-cache COMMAND [OPTIONS] [ARGS]\n"
         "\n"
         "Commands:\n"
         "  get KEY          print the value of KEY (exit 3 on a miss)\n"
         "  set KEY VALUE    store VALUE under KEY\n"
         "  delete KEY       delete KEY\n"
         "  bench            measure set, get, get_multi and get_or_create\n"
         "  stampede         many threads on one expiring key: the dogpile "
         "lock at work\n"
         "\n"
         "Every command takes -b BACKEND, -a NAME=VALUE (repeatable), "
         "-e EXPIRATION\nand -r REGISTRY, or -c FILE -R GROUP for a region "
         "from an INI file of regions,\nor -c FILE -R SECTION --prefix PREFIX "
         "for the region a Python app configures\nwith "
         "configure_from_config(settings, PREFIX) from a Paste/Pyramid INI;\n"
         "run `dogpile-cache COMMAND --help` for the rest.\n",
         out);
}

int
main (int argc, char **argv)
{
  const char *command;

  setlocale (LC_ALL, "");
  tool_use_build_tree_registry ();
  if (argc < 2)
    {
      usage (stderr);
      return 2;
    }
  command = argv[1];
  if (strcmp (command, "--help") == 0 || strcmp (command, "-h") == 0
      || strcmp (command, "help") == 0)
    {
      usage (stdout);
      return 0;
    }
  /* Each subcommand parses the rest, with argv[0] naming it. */
  argv[1] = g_strdup_printf ("dogpile-cache %s", command);
  if (strcmp (command, "get") == 0 || strcmp (command, "set") == 0
      || strcmp (command, "delete") == 0)
    return cache_key_main (command, argc - 1, argv + 1);
  if (strcmp (command, "bench") == 0)
    return cache_bench_main (argc - 1, argv + 1);
  if (strcmp (command, "stampede") == 0)
    return cache_stampede_main (argc - 1, argv + 1);
  fprintf (stderr, "dogpile-cache: unknown command '%s'\n\n", command);
  usage (stderr);
  return 2;
}
