#!/usr/bin/env bash
# redis-bench.sh BUILD_DIR [ROUNDS]: the redis plugin's figures beside its
# peers', against one fresh server in the same minute:
#   dogpile-cache bench (this plugin, through a region),
#   redis-benchmark -c 1 (the round-trip bound of one connection),
#   tools/dev/bench-peer.py redis (Debian's Python dogpile.cache),
#   tests/plugins/redis/redis-floor (a bare blocking hiredis loop: the bound for any
#   blocking client, so the distance to it is what plugin and region add).
# Run it under tests/plugins/redis/redis-servers.py, which provides the server:
#   tests/plugins/redis/redis-servers.py -- tests/plugins/redis/redis-bench.sh _build/default 3
# Under --topology cluster it measures dogpile.cache.redis_cluster against
# the three masters (all pinned to the first CPU) beside
# `redis-benchmark --cluster -c 1`.
set -euo pipefail

build=$(cd "${1:?usage: redis-bench.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
peer=${DOGPILE_PEER_PYTHON:-$here/../../../tools/dev/bench-peer.py}
port=${REDIS_PORT:?run under tests/plugins/redis/redis-servers.py}
export DOGPILE_REGISTRY_PATH=$build/plugins/dogpile-build-registry.ini

# The round trip costs several times more when the client and the server
# run on different CPUs (a cross-CPU wake-up) than on the same one, and
# the scheduler picks either; unpinned figures jump between the two.  Pin
# the server to the first CPU and every client to the last, so all three
# measure the same (cross-CPU) round trip.  DOGPILE_BENCH_PIN=0 disables.
pin=()
if [ "${DOGPILE_BENCH_PIN:-1}" = 1 ] && command -v taskset >/dev/null \
   && [ "$(nproc)" -ge 2 ]; then
  pids=${DOGPILE_REDIS_SERVER_PID:-}
  cluster_ports=${REDIS_CLUSTER_PORTS:-}
  for p in ${cluster_ports//,/ }; do
    pidfile=DOGPILE_REDIS_PIDFILE_$p
    pids="$pids $(cat "${!pidfile}")"
  done
  if [ -n "${pids// /}" ]; then
    for pid in $pids; do taskset -a -p -c 0 "$pid" >/dev/null; done
    pin=(taskset -c "$(($(nproc) - 1))")
    echo "servers pinned to CPU 0, clients to CPU $(($(nproc) - 1))"
  fi
fi

if [ -n "${REDIS_CLUSTER_PORTS:-}" ]; then
  for round in $(seq "$rounds"); do
    echo "=== round $round (cluster, startup node $port)"
    "${pin[@]}" "$build/tools/dogpile-cache" bench \
      -b dogpile.cache.redis_cluster -a startup_nodes=127.0.0.1:"$port" \
      --seconds 1 -o set,get_hit,get_miss,get_multi_100
    "${pin[@]}" redis-benchmark --cluster -h 127.0.0.1 -p "$port" -c 1 -d 100 \
      -t get,set -n 50000 -q | tr '\r' '\n' | grep -E '^(SET|GET): [0-9]'
  done
  exit 0
fi

for round in $(seq "$rounds"); do
  echo "=== round $round (port $port)"
  "${pin[@]}" "$build/tools/dogpile-cache" bench -b dogpile.cache.redis \
    -a host=127.0.0.1 -a port="$port" --seconds 1 \
    -o set,get_hit,get_miss,get_multi_100
  "${pin[@]}" redis-benchmark -h 127.0.0.1 -p "$port" -c 1 -d 100 -t get,set -n 50000 -q \
    | tr '\r' '\n' | grep -E '^(SET|GET): [0-9]'
  if [ -x "$build/tests/plugins/redis/redis-floor" ]; then
    "${pin[@]}" "$build/tests/plugins/redis/redis-floor" "$port" 1
  fi
  if [ -f "$peer" ]; then
    REDIS_PORT=$port "${pin[@]}" /usr/bin/python3 "$peer" redis 20000
  else
    echo "(no Python peer at $peer; set DOGPILE_PEER_PYTHON)"
  fi
done
