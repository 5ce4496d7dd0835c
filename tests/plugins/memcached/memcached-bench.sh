#!/usr/bin/env bash
# memcached-bench.sh BUILD_DIR [ROUNDS]: the memcached plugin's figures
# beside its peers', against one fresh server in the same minute:
#   dogpile-cache bench (dogpile.cache.pylibmc through a region),
#   memcached-floor (a bare blocking libmemcached loop on one handle: the
#   bound for any blocking client, so the distance to it is what plugin
#   and region add),
#   tools/dev/bench-peer.py memcached (Debian's Python dogpile.cache on
#   pylibmc, the same C library underneath).
# Run it under memcached-servers.py, which provides the server:
#   tests/plugins/memcached/memcached-servers.py -- \
#     tests/plugins/memcached/memcached-bench.sh _build/default 3
set -euo pipefail

build=$(cd "${1:?usage: memcached-bench.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
peer=${DOGPILE_PEER_PYTHON:-$here/../../../tools/dev/bench-peer.py}
port=${MEMCACHED_PORT:?run under tests/plugins/memcached/memcached-servers.py}
export DOGPILE_REGISTRY_PATH=$build/plugins/dogpile-build-registry.ini

# As in redis-bench.sh: the server on the first CPU, every client on the
# last, so that all of them measure the same (cross-CPU) round trip.
# DOGPILE_BENCH_PIN=same puts the server on the clients' CPU instead: no
# cross-CPU wake-up, so the figures show the CPU each side spends more
# than the VM's wake-up latency.  DOGPILE_BENCH_PIN=0 disables pinning.
pin=()
pidfile_var=DOGPILE_MEMCACHED_PIDFILE_$port
mode=${DOGPILE_BENCH_PIN:-1}
if [ "$mode" != 0 ] && command -v taskset >/dev/null \
   && [ "$(nproc)" -ge 2 ] && [ -n "${!pidfile_var:-}" ]; then
  client_cpu=$(($(nproc) - 1))
  server_cpu=0
  [ "$mode" = same ] && server_cpu=$client_cpu
  taskset -a -p -c "$server_cpu" "$(cat "${!pidfile_var}")" >/dev/null
  pin=(taskset -c "$client_cpu")
  echo "server pinned to CPU $server_cpu, clients to CPU $client_cpu"
fi

for round in $(seq "$rounds"); do
  echo "=== round $round (port $port)"
  # The bench's cached-function keys hold a space, which memcached
  # refuses: sha1_if_needed mangles only those.
  "${pin[@]}" "$build/tools/dogpile-cache" bench -b dogpile.cache.pylibmc \
    -a url=127.0.0.1:"$port" -a key_mangler=sha1_if_needed --seconds 1 \
    -o set,get_hit,get_miss,get_multi_100
  "${pin[@]}" "$build/tests/plugins/memcached/memcached-floor" "$port" 1
  if [ -f "$peer" ]; then
    MEMCACHED_PORT=$port "${pin[@]}" /usr/bin/python3 "$peer" memcached 20000
  else
    echo "(no Python peer at $peer; set DOGPILE_PEER_PYTHON)"
  fi
done
