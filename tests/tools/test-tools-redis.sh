#!/usr/bin/env bash
# test-tools-redis.sh: dogpile-cache on a real Redis server (started by
# tests/plugins/redis/redis-servers.py): binary-safe set and get through
# stdin, --meta, `locked` while another process holds the key's lock, and
# stampede's warning when lock_sleep is not well below its expiration time.
# Usage: redis-servers.py -- test-tools-redis.sh BUILD_ROOT
set -euo pipefail

build=$1
cache=$build/tools/dogpile-cache
host=${REDIS_HOST:?run under tests/plugins/redis/redis-servers.py}
port=${REDIS_PORT:?run under tests/plugins/redis/redis-servers.py}
failures=0

fail () { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
check () { local what=$1; shift; if "$@"; then echo "ok: $what"; else fail "$what"; fi; }
json () { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }
c () { "$cache" "$1" -b dogpile.cache.redis -a "host=$host" -a "port=$port" "${@:2}"; }
rcli () { redis-cli -h "$host" -p "$port" "$@"; }
run () {
  set +e
  out=$("$@" 2>"$tmp/err")
  status=$?
  set -e
  err=$(cat "$tmp/err")
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dogpile-tools-redis-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

printf 'x\0y|z' | c set bin -
check "redis: set KEY - and get KEY, binary-safe" \
  test "$(c get bin | od -An -tx1 | tr -d ' \n')" = 7800797c7a
check "redis: what is stored is dogpile.cache's record" \
  grep -qE '^\{"ct": [0-9.]+, "v": 2\}\|x<NUL>y\|z$' <<<"$(rcli --no-raw GET bin | python3 -c 'import ast,sys; print(ast.literal_eval(sys.stdin.read()).replace("\0", "<NUL>"))')"
run c get nothing
check "redis: a miss exits 3" test "$status" -eq 3
run "$cache" get -b dogpile.cache.redis -a host=127.0.0.1 -a port=1 -a socket_connect_timeout=1 k
check "redis: a server that does not answer exits 1" test "$status" -eq 1

# Another process holds the lock: the key Python's RedisLock and this
# plugin use, lock_prefix + key.
run c locked -a distributed_lock=true busy
check "locked: free exits 3" test "$status" -eq 3 -a "$out" = "not locked"
rcli SET _lockbusy holder PX 30000 >/dev/null
run c locked -a distributed_lock=true busy
check "locked: held by another process exits 0" test "$status" -eq 0 -a "$out" = "locked"
rcli DEL _lockbusy >/dev/null

# lock_sleep (0.1 s by default) against the stampede's expiration time.
run c stampede -a distributed_lock=true --threads 4 --rounds 2 --creator-ms 20 --json
check "stampede: warns when lock_sleep is not well below the expiration" \
  test "$err" = "dogpile-cache stampede: warning: dogpile.cache.redis locks through its server (distributed_lock) and a caller that finds the lock held sleeps lock_sleep = 0.1 s before it tries again, which is not well below the 0.02 s expiration time the stampede uses: a caller that waited finds the new value expired already and creates it again, as if the lock did not work; give -e 0.4 or more, or a smaller -a lock_sleep"
check "stampede: the warning does not touch --json" json 'assert d["backend"] == "dogpile.cache.redis", d' <<<"$out"
run c stampede -a distributed_lock=true -a lock_sleep=0.01 -e 0.5 --threads 4 --rounds 2 --creator-ms 20 --json
check "stampede: no warning with a small lock_sleep" test -z "$err"
check "stampede: one creator call per round through the redis lock" \
  json 'assert d["creator_calls"] == 2, d' <<<"$out"
run c stampede --threads 4 --rounds 2 --creator-ms 20 --json
check "stampede: no warning without distributed_lock" test -z "$err"
cfg=$tmp/regions.ini
cat >"$cfg" <<INI
[cache.redis]
backend = dogpile.cache.redis
arguments.host = $host
arguments.port = $port
arguments.distributed_lock = true
arguments.lock_sleep = 0.5
INI
run "$cache" stampede -c "$cfg" -R cache.redis -e 1 --threads 4 --rounds 1 --creator-ms 5 --json
check "stampede: lock_sleep read from a --config file" \
  grep -qF "sleeps lock_sleep = 0.5 s before it tries again, which is not well below the 1 s expiration time" <<<"$err"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
