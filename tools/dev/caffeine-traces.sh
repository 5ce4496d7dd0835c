#!/usr/bin/env bash
# caffeine-traces.sh: real traces for compare-hit-ratio.sh, from the trace
# files Caffeine's simulator ships (LIRS, cache2k, address, scarab).
#
#   tools/dev/caffeine-traces.sh CAFFEINE_GIT_DIR OUTDIR
#
# CAFFEINE_GIT_DIR is a clone of github.com/ben-manes/caffeine (a bare one
# will do).  Each trace is written as one integer key per line, and
# OUTDIR/traces.list names it with two cache sizes, so that
#
#   tools/dev/compare-hit-ratio.sh BUILD_DIR OUTDIR
#
# compares on them.  The files stay outside the repository: they are
# Caffeine's (and cache2k's) to distribute, under their own licences.
set -euo pipefail

git_dir=${1:?usage: caffeine-traces.sh CAFFEINE_GIT_DIR OUTDIR}
out=${2:?usage: caffeine-traces.sh CAFFEINE_GIT_DIR OUTDIR}
res=simulator/src/main/resources/com/github/benmanes/caffeine/cache/simulator/parser
mkdir -p "$out"
show() { git --git-dir="$git_dir" show "HEAD:$res/$1"; }
# big-endian integers of WIDTH bytes, one per line
ints() {
  python3 -c '
import struct, sys
w = int(sys.argv[1]); d = sys.stdin.buffer.read(); n = len(d) // w
fmt = ">%d%s" % (n, "i" if w == 4 else "q")
sys.stdout.write("\n".join(map(str, struct.unpack(fmt, d[: n * w]))) + "\n")' "$1"
}

: >"$out/traces.list"
add() { printf '%s %s %s\n' "$1" "$out/$1.txt" "$2" >>"$out/traces.list"; }

for t in 2_pools:100,450 sprite:100,500 multi1:100,500 multi2:300,1000 \
  multi3:300,1000 ps:200,1000 cs:100,400 cpp:100,400 gli:250,1000 \
  loop:500,800 zigzag:500,1000 scan:500,1000 backf:100,300; do
  name=${t%%:*}
  show "lirs/$name.trace.gz" | gunzip | grep -v '^\*' >"$out/$name.txt"
  add "$name" "${t#*:}"
done
for t in orm-busy:1000,5000 orm-night:1000,5000 web07:1000,4000 web12:1000,4000; do
  name=${t%%:*}
  show "cache2k/$name.trace.xz" | xz -d | ints 4 >"$out/$name.txt"
  add "$name" "${t#*:}"
done
show scarab/scarab-recs.trace.xz | xz -d | ints 8 >"$out/scarab.txt"
add scarab 5000,25000
for t in gcc:1000,5000 gzip:5000,20000 swim:1000,5000 twolf:500,2000; do
  name=${t%%:*}
  show "address/$name.trace.gz" | gunzip \
    | awk 'NF >= 2 { print $2 }' | python3 -c '
import sys
for line in sys.stdin: print(int(line, 16))' >"$out/$name.txt"
  add "$name" "${t#*:}"
done
cat "$out/traces.list"
