#!/usr/bin/python3
"""check-headers.py: every public function is declared in the header named
for the core file that defines it (dogpile_region_get_or_create in
dogpile-get-or-create.h, defined in dogpile-get-or-create.c), and every
public header is listed in include/dogpile/meson.build and included by
dogpile.h (but dogpile-plugin.h, the plugin authors' header).

  check-headers.py SOURCE_ROOT
"""
import glob
import os
import re
import sys

root = sys.argv[1]
defined = {}
for path in glob.glob(os.path.join(root, "core", "*.c")):
    text = open(path, encoding="utf-8").read()
    for m in re.finditer(r"^(dogpile_[a-z0-9_]+) \(", text, re.M):
        defined[m.group(1)] = os.path.basename(path)[:-2]

problems = []
headers = sorted(glob.glob(os.path.join(root, "include", "dogpile", "*.h")))
umbrella = open(os.path.join(root, "include", "dogpile", "dogpile.h")).read()
listed = open(os.path.join(root, "include", "dogpile", "meson.build")).read()
for path in headers:
    name = os.path.basename(path)
    text = open(path, encoding="utf-8").read()
    if name not in ("dogpile.h", "dogpile-plugin.h") and '#include "%s"' % name not in umbrella:
        problems.append("%s is not included by dogpile.h" % name)
    if "'%s'" % name not in listed:
        problems.append("%s is not installed (include/dogpile/meson.build)"
                        % name)
    for m in re.finditer(r"DOGPILE_API[^;]*?\b(dogpile_[a-z0-9_]+)\s*\(",
                         text, re.S):
        function = m.group(1)
        where = defined.get(function)
        if where is None:
            problems.append("%s: %s is defined nowhere in core/"
                            % (name, function))
        elif where != name[:-2]:
            problems.append("%s: %s is defined in core/%s.c: declare it in "
                            "%s.h" % (name, function, where, where))

for p in problems:
    print(p)
print("check-headers: %d headers, %d problems" % (len(headers), len(problems)))
sys.exit(1 if problems else 0)
