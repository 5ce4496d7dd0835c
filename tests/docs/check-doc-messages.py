#!/usr/bin/env python3
"""check-doc-messages.py: the messages quoted in docs/ are what the code prints.

Usage: check-doc-messages.py BUILD_ROOT SOURCE_ROOT

A fenced block in docs/*.md or README.md is checked when the line before
it (blank lines aside) is

  <!-- checked -->      a console block: each `$ COMMAND` line is run, and
                        the lines after it, up to the next `$`, are what it
                        must print (stdout and stderr together);
  <!-- check: COMMAND --> any block: COMMAND must print the block;

and a table is checked, one test per row, when the line before it is
`<!-- checked-table -->`: the row's `command` cell (in backticks) must
print its `message` cell (the columns named so in the header).

The commands of a block run in order, by bash, in a scratch folder of
their own, with the build tree's tools and tests/docs/doc-messages first on
PATH and $FIXTURES naming the fixture registries.  Whitespace is compared
as one space (docs wrap long messages); `…` stands for any text (a path, a
time).  Every mismatch is printed; none found at all is a failure too.
"""
import os
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^(\s*)(```+|~~~+)(.*)$")
CHECKED = re.compile(r"^<!--\s*checked\s*-->$")
CHECK = re.compile(r"^<!--\s*check:\s*(.*?)\s*-->$")


def blocks(path):
    """(line, marker command or None, info string, body lines) per checked block."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, start = m.group(2), m.group(3).strip(), i
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        body = lines[i + 1:j]
        k = start - 1
        while k >= 0 and lines[k].strip() == "":
            k -= 1
        marker = lines[k].strip() if k >= 0 else ""
        if CHECKED.match(marker):
            yield start + 1, None, info, body
        elif CHECK.match(marker):
            yield start + 1, CHECK.match(marker).group(1), info, body
        i = j + 1


CHECKED_TABLE = re.compile(r"^<!--\s*checked-table\s*-->$")


def cells(row):
    """A table row's cells; `\\|` is a pipe inside a cell."""
    parts = re.split(r"(?<!\\)\|", row.strip().strip("|"))
    return [p.strip().replace("\\|", "|") for p in parts]


def code(cell):
    """The text of a cell that is one code span, or the cell itself."""
    m = re.fullmatch(r"(`+)\s?(.*?)\s?\1", cell)
    return m.group(2) if m else cell


def table_rows(path):
    """(line, command, expected) per row of every checked table."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        if not CHECKED_TABLE.match(line.strip()):
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip() == "":
            j += 1
        header = [h.lower() for h in cells(lines[j])]
        try:
            at_command, at_message = header.index("command"), header.index("message")
        except ValueError:
            raise ValueError("%s:%d: a checked table needs `command` and "
                             "`message` columns" % (path, j + 1))
        j += 2  # the header and its |---| line
        while j < len(lines) and lines[j].strip().startswith("|"):
            row = cells(lines[j])
            yield j + 1, code(row[at_command]), code(row[at_message])
            j += 1


def steps(command, body):
    """(command, expected text) pairs of one block."""
    if command is not None:
        return [(command, "\n".join(body))]
    out = []
    for line in body:
        if line.startswith("$ "):
            out.append([line[2:], []])
        elif out:
            out[-1][1].append(line)
        elif line.strip():
            raise ValueError("output before any `$ ` command: " + line)
    return [(c, "\n".join(e)) for c, e in out]


def squeeze(text):
    return " ".join(text.split())


def matches(expected, actual):
    parts = [re.escape(p) for p in squeeze(expected).split("…")]
    return re.fullmatch(".*?".join(parts), squeeze(actual), re.S) is not None


def main():
    build, source = (os.path.abspath(p) for p in sys.argv[1:3])
    docs = [os.path.join(source, "README.md")] + sorted(
        os.path.join(source, "docs", n)
        for n in os.listdir(os.path.join(source, "docs"))
        if n.endswith(".md"))
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([
        os.path.join(build, "tools"), os.path.join(build, "tests", "docs"),
        "/usr/bin", "/bin"])
    env["FIXTURES"] = os.path.join(build, "tests", "fixtures", "registry")
    env["LC_ALL"] = "C.UTF-8"
    env.pop("DOGPILE_REGISTRY_PATH", None)
    env.setdefault("DOGPILE_REGISTRY_SYSTEM_PATH", "")
    checked = failed = 0
    for doc in docs:
        shown = os.path.relpath(doc, source)
        groups = [(line, steps(command, body))
                  for line, command, info, body in blocks(doc)]
        groups += [(line, [(command, expected)])
                   for line, command, expected in table_rows(doc)]
        for line, group in groups:
            with tempfile.TemporaryDirectory(prefix="dogpile-doc-") as tmp:
                env["HOME"] = env["XDG_DATA_HOME"] = tmp
                # the library's own scan, for doc-messages
                env["DOGPILE_REGISTRY_PATH"] = os.path.join(
                    build, "plugins", "dogpile-build-registry.ini")
                for cmd, expected in group:
                    run = subprocess.run(["bash", "-c", cmd], cwd=tmp, env=env,
                                         stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT,
                                         timeout=60)
                    actual = run.stdout.decode("utf-8", "replace")
                    checked += 1
                    if matches(expected, actual):
                        print("ok: %s:%d: %s" % (shown, line, cmd))
                        continue
                    failed += 1
                    print("FAIL: %s:%d: %s\n  the doc says: %s\n  the code says: %s"
                          % (shown, line, cmd, squeeze(expected),
                             squeeze(actual)), file=sys.stderr)
    if checked == 0:
        print("FAIL: no checked block in docs/ (<!-- checked --> or "
              "<!-- check: COMMAND -->)", file=sys.stderr)
        return 1
    print("%d quoted message(s) checked, %d differ" % (checked, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
