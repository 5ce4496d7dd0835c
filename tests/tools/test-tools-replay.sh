#!/usr/bin/env bash
# test-tools-replay.sh: dogpile-cache replay from the outside: its text and
# JSON output, markers skipped, and on two generated traces the bounded
# memory backend's hit ratio at least LRU's minus 0.01 (LRU computed here,
# in Python, on the same trace).
# Usage: test-tools-replay.sh BUILD_ROOT SOURCE_ROOT
set -euo pipefail

build=$1
src=$2
cache=$build/tools/dogpile-cache
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail () { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
check () { local what=$1; shift; if "$@"; then echo "ok: $what"; else fail "$what"; fi; }

printf 'a\nb\n*\na\n\nc\na\n' >"$tmp/small.txt"
out=$("$cache" replay -b dogpile.cache.memory "$tmp/small.txt")
check "text: requests skip * and empty lines" grep -qx 'requests 5' <<<"$out"
check "text: hits" grep -qx 'hits 2' <<<"$out"
check "text: hit ratio" grep -qx 'hit_ratio 0.4000' <<<"$out"
check "text: ops/s" grep -q '^ops_per_sec [0-9]' <<<"$out"

out=$("$cache" replay -b dogpile.cache.memory -a max_entries=2 -a eviction_policy=lru --json "$tmp/small.txt")
check "json: the five fields" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert set(d) == {"backend", "requests", "hits", "hit_ratio", "ops_per_sec"}, d
assert d["backend"] == "dogpile.cache.memory" and d["requests"] == 5, d
assert d["hits"] == 2 and abs(d["hit_ratio"] - 0.4) < 1e-9, d' "$out"

set +e
"$cache" replay -b dogpile.cache.memory "$tmp/missing.txt" 2>/dev/null
status=$?
"$cache" replay -b dogpile.cache.memory 2>/dev/null
usage=$?
set -e
check "a missing trace is an error" test "$status" -eq 1
check "no trace is a usage error" test "$usage" -eq 2

python3 "$src/tools/dev/gen-traces.py" "$tmp" --requests 60000 --only zipf-0.8,zipf-scan >/dev/null
for spec in zipf-0.8:500 zipf-scan:1000; do
  name=${spec%%:*} size=${spec##*:}
  ours=$("$cache" replay -b dogpile.cache.memory -a max_entries="$size" --json "$tmp/$name.txt")
  check "$name at $size: at least LRU - 0.01" python3 -c '
import collections, json, sys
ours = json.loads(sys.argv[1])["hit_ratio"]
size = int(sys.argv[3])
lru, hits, n = collections.OrderedDict(), 0, 0
for line in open(sys.argv[2]):
    k = line.strip()
    if not k or k == "*":
        continue
    n += 1
    if k in lru:
        hits += 1
        lru.move_to_end(k)
    else:
        lru[k] = True
        if len(lru) > size:
            lru.popitem(last=False)
print("ours %.4f lru %.4f" % (ours, hits / n))
assert ours >= hits / n - 0.01' "$ours" "$tmp/$name.txt" "$size"
done

exit $((failures > 0))
