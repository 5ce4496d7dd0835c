#!/usr/bin/env bash
# redis-symbols.sh MODULE: the redis plugin exports its six descriptor
# functions and nothing else (every other symbol is hidden).
set -euo pipefail

module=$1
expected="dogpile_backend_redis_cluster_get_desc
dogpile_backend_redis_get_desc
dogpile_backend_redis_sentinel_get_desc
dogpile_backend_valkey_cluster_get_desc
dogpile_backend_valkey_get_desc
dogpile_backend_valkey_sentinel_get_desc"

# Defined symbols of the dynamic table, without the linker's own markers.
actual=$(nm -D --defined-only "$module" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' \
  | grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' | sort)

if [ "$actual" != "$expected" ]; then
  echo "exported symbols of $module differ:" >&2
  diff <(echo "$expected") <(echo "$actual") >&2 || true
  exit 1
fi
echo "$module exports exactly the six descriptors"
