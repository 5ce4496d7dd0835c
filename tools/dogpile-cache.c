/* dogpile-cache: a configured region from the shell.
 *
 *   dogpile-cache get|set|delete -b BACKEND [-a name=value]... KEY [VALUE]
 *   dogpile-cache get-multi|delete|locked|invalidate [...] KEY...
 *   dogpile-cache get|set|delete -c regions.ini -R cache.redis KEY [VALUE]
 *   dogpile-cache get|set|delete -c development.ini -R app:main \
 *       --prefix cache.local. KEY [VALUE]
 *   dogpile-cache bench -b BACKEND [...]
 *   dogpile-cache stampede -b BACKEND [...]
 *   dogpile-cache replay -b BACKEND [-a ...] [--json] TRACE
 *
 * Each subcommand is a file of its own: dogpile-cache-keys.c (get, set,
 * delete, get-multi, locked, invalidate), dogpile-cache-bench.c,
 * dogpile-cache-stampede.c, dogpile-cache-replay.c; the region options
 * they share are in dogpile-cache-region.c.
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
         "       dogpile-cache --version | --help\n"
         "\n"
         "Commands:\n"
         "  get KEY              print the value of KEY, its bytes unchanged\n"
         "                       (--meta: its metadata as JSON;\n"
         "                       --ignore-expiration: however old it is)\n"
         "  set KEY VALUE|-      store VALUE under KEY (-: from stdin;\n"
         "                       --file FILE in place of VALUE)\n"
         "  delete KEY...        delete each KEY\n"
         "  get-multi KEY...     print several values in one call "
         "(--json)\n"
         "  locked KEY           whether KEY's dogpile lock is held\n"
         "  invalidate           invalidate the region (--soft; "
         "process-local)\n"
         "  bench                measure set, get, get_multi and "
         "get_or_create\n"
         "  stampede             many threads on one expiring key: the "
         "dogpile lock at work\n"
         "  replay TRACE         replay keys as get, then set on a miss; "
         "print the hit\n"
         "                       ratio (--json)\n"
         "\n"
         "Every command takes -b BACKEND, -a NAME=VALUE (repeatable), "
         "-e EXPIRATION\nand -r REGISTRY, or -c FILE -R GROUP for a region "
         "from an INI file of regions,\nor -c FILE -R SECTION --prefix PREFIX "
         "for the region a Python app configures\nwith "
         "configure_from_config(settings, PREFIX) from a Paste/Pyramid INI;\n"
         "run `dogpile-cache COMMAND --help` for the rest, and see "
         "dogpile-cache(1).\n"
         "\n"
         "Exit status:\n"
         "  0  success (locked: the key is locked)\n"
         "  1  an error; the message is on stderr\n"
         "  2  a bad command line: an unknown command or option, a missing "
         "argument\n"
         "  3  a miss: no value, an expired value (get, get-multi), or a key "
         "nobody\n"
         "     holds (locked)\n",
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
      return TOOL_EXIT_USAGE;
    }
  command = argv[1];
  if (strcmp (command, "--help") == 0 || strcmp (command, "-h") == 0
      || strcmp (command, "help") == 0)
    {
      usage (stdout);
      return TOOL_EXIT_OK;
    }
  if (strcmp (command, "--version") == 0 || strcmp (command, "-V") == 0)
    {
      tool_print_version ("dogpile-cache");
      return TOOL_EXIT_OK;
    }
  /* Each subcommand parses the rest, with argv[0] naming it. */
  argv[1] = g_strdup_printf ("dogpile-cache %s", command);
  if (cache_key_is_command (command))
    return cache_key_main (command, argc - 1, argv + 1);
  if (strcmp (command, "bench") == 0)
    return cache_bench_main (argc - 1, argv + 1);
  if (strcmp (command, "stampede") == 0)
    return cache_stampede_main (argc - 1, argv + 1);
  if (strcmp (command, "replay") == 0)
    return cache_replay_main (argc - 1, argv + 1);
  if (command[0] == '-')
    fprintf (stderr,
             "dogpile-cache: unknown option '%s': a COMMAND comes "
             "first\n\n",
             command);
  else
    fprintf (stderr, "dogpile-cache: unknown command '%s'\n\n", command);
  usage (stderr);
  return 2;
}
