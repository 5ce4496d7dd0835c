#!/usr/bin/env bash
# test-tools-keys.sh: dogpile-cache's commands on keys, end to end on a
# gdbm file (values outlive the process there): binary-safe set and get
# through stdin and --file, --meta, expired values reported as expired,
# get-multi (text and --json), delete of several keys, locked, the error
# and miss exit statuses.
# Usage: test-tools-keys.sh BUILD_ROOT
set -euo pipefail

build=$1
cache=$build/tools/dogpile-cache
dir=$(mktemp -d "${TMPDIR:-/tmp}/dogpile-tools-keys-XXXXXX")
trap 'rm -rf "$dir"' EXIT
db=$dir/store.dbm
failures=0

fail () { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
check () { local what=$1; shift; if "$@"; then echo "ok: $what"; else fail "$what"; fi; }
json () { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }
c () { "$cache" "$1" -b dogpile.cache.dbm -a "filename=$db" "${@:2}"; }
hex () { od -An -tx1 | tr -d ' \n'; }
# Runs "$@", leaving its stdout in $out, its stderr in $err, its exit
# status in $status.
run () {
  set +e
  out=$("$@" 2>"$dir/err")
  status=$?
  set -e
  err=$(cat "$dir/err")
}

# --- set and get, binary-safe ----------------------------------------------
printf 'a\0b|c\n' | c set bin -
check "set KEY - then get KEY: the bytes unchanged (NUL, |, newline)" \
  test "$(c get bin | hex)" = 6100627c630a
head -c 4096 /dev/urandom >"$dir/random"
c set --file "$dir/random" blob
c get blob >"$dir/random.out"
check "set --file: every byte of a binary file back" cmp -s "$dir/random" "$dir/random.out"
c set -f - fromstdin <<<"via -f -"
check "set --file -: stdin" test "$(c get fromstdin)" = "via -f -"
c set text 'hello|world'
check "set KEY VALUE" test "$(c get text)" = 'hello|world'

# --- misses and errors -----------------------------------------------------
run c get nothing
check "a miss exits 3" test "$status" -eq 3
check "a miss says so, on stderr only" test "$err" = "dogpile-cache get: no value for 'nothing'" -a -z "$out"
run "$cache" get -b dogpile.cache.dbm -a "filename=$dir/no/such/dir/x.dbm" k
check "an error exits 1" test "$status" -eq 1
check "an error names the command" grep -q "^dogpile-cache get: " <<<"$err"
run c set --file "$dir/missing" k
check "set --file of a missing file exits 1" test "$status" -eq 1
check "set --file of a missing file names it" grep -qF "$dir/missing" <<<"$err"

# --- metadata and expiration -----------------------------------------------
run c get --meta text
check "--meta exits 0" test "$status" -eq 0
check "--meta: key, ct, age, v, size, expired" json '
import time
assert list(d) == ["key", "ct", "age", "v", "size", "expired"], d
assert d["key"] == "text" and d["v"] == 2 and d["size"] == 11 and d["expired"] is False, d
assert abs(time.time() - d["ct"]) < 60 and 0 <= d["age"] < 60, d' <<<"$out"
check "--meta: size of a binary value" test "$(c get --meta bin | json 'print(d["size"])')" = 6

c set -e 1 old stale-value
sleep 1.2
run c get -e 1 old
check "an expired value exits 3" test "$status" -eq 3
check "an expired value is reported as expired, with its age" \
  grep -qE "^dogpile-cache get: the value of 'old' expired: it is 1\.[0-9]{3} s old and the region's expiration time is 1 s \(--ignore-expiration prints it anyway\)$" <<<"$err"
check "--ignore-expiration prints it" test "$(c get -e 1 --ignore-expiration old)" = stale-value
run c get -e 1 --meta old
check "--meta on an expired value exits 0" test "$status" -eq 0
check "--meta on an expired value: expired, its age" json '
assert d["expired"] is True and d["age"] > 1, d' <<<"$out"
check "-e none: never expired" test "$(c get -e none old)" = stale-value

# --- get-multi -------------------------------------------------------------
run c get-multi text fromstdin
check "get-multi: all hit exits 0" test "$status" -eq 0
check "get-multi: KEY<tab>VALUE lines in order" test "$out" = $'text\thello|world\nfromstdin\tvia -f -'
run c get-multi -e 1 text old nothing
check "get-multi with misses exits 3" test "$status" -eq 3
check "get-multi: each miss on stderr, expired told apart" \
  grep -qE "^dogpile-cache get-multi: the value of 'old' expired: it is [0-9.]+ s old" <<<"$err"
check "get-multi: a key with no value" grep -qxF "dogpile-cache get-multi: no value for 'nothing'" <<<"$err"
# (text and bin are older than 1 s by now: made fresh again.)
c set text 'hello|world'
printf 'a\0b|c\n' | c set bin -
run c get-multi -e 1 --json text old nothing bin
check "get-multi --json: every key, null for a miss, bytes tagged" json '
assert d == {"text": "hello|world", "old": None, "nothing": None, "bin": {"$bytes": "YQBifGMK"}}, d' <<<"$out"
run c get-multi -e 1 --json --ignore-expiration old
check "get-multi --ignore-expiration" test "$out" = '{"old": "stale-value"}'
c set -s json doc '{"a": [1, 2]}'
check "get-multi --json: json values as they are" test "$(c get-multi -s json --json doc)" = '{"doc": {"a": [1, 2]}}'
c set -s pickle pick '{"t": {"$tuple": [1]}}'
check "get-multi --json: pickle values as their JSON" test "$(c get-multi -s pickle --json pick)" = '{"pick": {"t": {"$tuple": [1]}}}'

# --- delete, locked --------------------------------------------------------
c delete text fromstdin nothing
run c get-multi --json text fromstdin blob
check "delete KEY...: every key gone, the others kept" json '
assert d["text"] is None and d["fromstdin"] is None and d["blob"] is not None, d' <<<"$out"
run c locked blob
check "locked: dbm's lock, not held, exits 3" test "$status" -eq 3 -a "$out" = "not locked"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
