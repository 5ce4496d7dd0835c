#!/usr/bin/env bash
# compare-hit-ratio.sh: the memory backend's hit ratio beside Caffeine 2.6.2
# (W-TinyLFU), LRU and Belady's optimum, same traces, same cache sizes.
#
#   tools/dev/compare-hit-ratio.sh BUILD_DIR [TRACE_DIR] [NAME...]
#
# Generates the traces (tools/dev/gen-traces.py) into TRACE_DIR when it has
# none, compiles ../shared/bench/caffeine/Replay.java (needs
# libcaffeine-java and a JDK), and prints one table row per trace and size:
# ours (eviction_policy=tinylfu), ours with eviction_policy=lru, Caffeine,
# the replayer's LRU and the optimum, then the two checks the issue sets:
# ours >= max(Caffeine, LRU) - 0.01 on every row, and ours >= Caffeine on
# average.  Set REPLAY_JAVA_DIR to where Replay.java is when it is
# elsewhere.
set -euo pipefail

build=${1:?usage: compare-hit-ratio.sh BUILD_DIR [TRACE_DIR] [NAME...]}
traces=${2:-${TMPDIR:-/tmp}/dogpile-traces}
shift $(( $# >= 2 ? 2 : 1 ))
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
java_dir=${REPLAY_JAVA_DIR:-$src/../shared/bench/caffeine}
cache=$build/tools/dogpile-cache
jar=/usr/share/java/caffeine.jar
classes=${TMPDIR:-/tmp}/dogpile-replay-classes

mkdir -p "$traces" "$classes"
listing=$traces/traces.list
if [[ ! -s $listing ]]; then
  python3 "$here/gen-traces.py" "$traces" >"$listing"
fi
if [[ ! -f $classes/Replay.class || $java_dir/Replay.java -nt $classes/Replay.class ]]; then
  javac -cp "$jar" -d "$classes" "$java_dir/Replay.java"
fi

printf '%-11s %7s %8s %8s %8s %8s %8s  %s\n' trace size ours ours-lru caffeine lru optimum check
rows=0 fails=0 sum_ours=0 sum_caffeine=0
while read -r name file sizes; do
  if (( $# > 0 )) && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
  for size in ${sizes//,/ }; do
    ours=$("$cache" replay -b dogpile.cache.memory -a max_entries="$size" --json "$file" \
      | python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["hit_ratio"])')
    ours_lru=$("$cache" replay -b dogpile.cache.memory -a max_entries="$size" \
      -a eviction_policy=lru --json "$file" \
      | python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["hit_ratio"])')
    peer=$(java -Xss16m -cp "$jar:$classes" Replay "$file" "$size")
    caffeine=$(awk '$1 == "caffeine" {print $2}' <<<"$peer")
    lru=$(awk '$1 == "lru" {print $2}' <<<"$peer")
    optimum=$(awk '$1 == "optimal" {print $2}' <<<"$peer")
    verdict=$(python3 -c "
o, c, l = $ours, $caffeine, $lru
print('ok' if o >= max(c, l) - 0.01 else 'BELOW by %.4f' % (max(c, l) - o))")
    [[ $verdict == ok ]] || fails=$((fails + 1))
    rows=$((rows + 1))
    sum_ours=$(python3 -c "print($sum_ours + $ours)")
    sum_caffeine=$(python3 -c "print($sum_caffeine + $caffeine)")
    printf '%-11s %7s %8s %8s %8s %8s %8s  %s\n' "$name" "$size" "$ours" "$ours_lru" \
      "$caffeine" "$lru" "$optimum" "$verdict"
  done
done <"$listing"
python3 -c "
rows, o, c = $rows, $sum_ours, $sum_caffeine
print('mean over %d rows: ours %.4f, caffeine %.4f (%s)' % (rows, o / rows, c / rows,
      'ok' if o >= c else 'BELOW'))"
echo "rows below max(caffeine, lru) - 0.01: $fails"
[[ $fails -eq 0 ]] && python3 -c "import sys; sys.exit(0 if $sum_ours >= $sum_caffeine else 1)"
