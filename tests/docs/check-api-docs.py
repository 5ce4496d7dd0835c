#!/usr/bin/env python3
"""check-api-docs.py: every public function's doc block has the shape the
API reference promises (docs/reference): a "Thread safety:" paragraph, an
"Errors:" paragraph when it takes a GError, and "Returns:" last when it
returns something, each once.  gtkdoc-check already fails on a missing block or
parameter; this checks what it cannot.

Usage: check-api-docs.py SOURCE_ROOT
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
public = set()
for header in (root / "include" / "dogpile").glob("*.h*"):
    text = header.read_text()
    public.update(re.findall(r"\bDOGPILE_API\b[^;]*?\b(dogpile_\w+)\s*\(", text, re.S))

BLOCK = re.compile(r"/\*\*\n \* (dogpile_\w+):\n(.*?)\*/\n([^{;]*?)\1\s*\(([^)]*)\)", re.S)
problems = []
seen = set()
for source in sorted((root / "core").glob("*.c")):
    text = source.read_text()
    for m in BLOCK.finditer(text):
        name, body, ret, params = m.group(1), m.group(2), m.group(3), m.group(4)
        if name not in public:
            continue
        seen.add(name)
        where = f"{source.relative_to(root)}: {name}"
        if "Thread safety:" not in body:
            problems.append(f"{where}: no 'Thread safety:' paragraph")
        for heading in ("Thread safety:", "Errors:", "Returns:"):
            if len(re.findall(r"^ \* " + heading, body, re.M)) > 1:
                problems.append(f"{where}: '{heading}' given twice")
        if "GError" in params and "Errors:" not in body:
            problems.append(f"{where}: takes a GError but has no 'Errors:' paragraph")
        returns_something = not re.match(r"\s*(static\s+)?void\s*$", ret.strip() + " ") \
            and ret.strip() not in ("void",)
        if returns_something and "Returns:" not in body:
            problems.append(f"{where}: no 'Returns:'")
missing = sorted(public - seen)
for name in missing:
    problems.append(f"{name}: declared DOGPILE_API but no doc block above its definition in core/")
for p in problems:
    print(p)
print(f"check-api-docs: {len(seen)} public functions, {len(problems)} problems")
sys.exit(1 if problems else 0)
