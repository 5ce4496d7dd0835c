#!/usr/bin/env python3
"""check-argument-docs.py: the arguments docs/ gives each backend and proxy
are the ones its descriptor table declares (what `dogpile-plugins NAME`
shows and what an unknown-argument warning is checked against).

For every plugin the build registers, its page (docs/memory.md for both
memory names, docs/redis.md for every redis and valkey name, ...) must
name each declared argument in backticks (`name` or `name = ...`; a
PREFIX entry such as `behaviors.` as `behaviors.NAME`), and every name in
the first column of the page's argument tables (a table whose first
header cell is "argument") must be declared by one of the page's
plugins.  Only dogpile.cache.null's catch-all entry (PREFIX "") needs no
mention.

Usage: check-argument-docs.py SOURCE_ROOT DOGPILE_PLUGINS
"""
import json
import pathlib
import re
import subprocess
import sys

root = pathlib.Path(sys.argv[1])
plugins = json.loads(subprocess.check_output([sys.argv[2], "--json"]))


def page_of(plugin):
    name = plugin["name"]
    if plugin["kind"] == "proxy":
        return "proxies"
    for prefix, page in (("dogpile.cache.memory", "memory"),
                         ("dogpile.cache.dbm", "dbm"),
                         ("dogpile.cache.redis", "redis"),
                         ("dogpile.cache.valkey", "redis"),
                         ("dogpile.cache.null", None)):
        if name.startswith(prefix):
            return page
    return "memcached"  # the four client names


def table_names(text):
    """The backticked names in the first column of argument tables, with
    their line numbers."""
    names = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not (re.match(r"\|\s*argument\b", line) and i + 1 < len(lines)
                and lines[i + 1].startswith("|---")):
            continue
        for j in range(i + 2, len(lines)):
            if not lines[j].startswith("|"):
                break
            for name in re.findall(r"`([^`]+)`", lines[j].split("|")[1]):
                names.setdefault(name, j + 1)
    return names


problems = []
pages = {}
for plugin in plugins:
    if plugin.get("error"):
        problems.append(f"{plugin['name']}: does not load: {plugin['error']}")
        continue
    page = page_of(plugin)
    if page is not None:
        pages.setdefault(page, []).append(plugin)

checked = 0
for page, members in sorted(pages.items()):
    path = root / "docs" / f"{page}.md"
    text = path.read_text()
    declared = {}
    for plugin in members:
        for arg in plugin["arguments"] or []:
            declared.setdefault(arg["name"], (plugin["name"], arg))
    for name, (owner, arg) in sorted(declared.items()):
        checked += 1
        if arg["prefix"]:
            pattern = r"`[^`\n]*\b" + re.escape(name) + r"[A-Za-z_]"
        else:
            pattern = r"`" + re.escape(name) + r"(`|\s*=)"
        if not re.search(pattern, text):
            problems.append(f"docs/{page}.md: does not name {owner}'s "
                            f"argument '{name}'"
                            + (" (ignored: say so)" if arg["ignored"] else ""))
    for name, line in sorted(table_names(text).items()):
        if name not in declared:
            problems.append(f"docs/{page}.md:{line}: '{name}' is in an argument "
                            f"table but no plugin of the page declares it "
                            f"({', '.join(p['name'] for p in members)})")

for p in problems:
    print(p)
print(f"check-argument-docs: {checked} declared arguments on {len(pages)} "
      f"pages, {len(problems)} problems")
sys.exit(1 if problems else 0)
