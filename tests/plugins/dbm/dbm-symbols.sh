#!/usr/bin/env bash
# dbm-symbols.sh MODULE: the dbm plugin exports its descriptor function and
# nothing else (every other symbol is hidden).
set -euo pipefail

module=$1
expected="dogpile_backend_dbm_get_desc"
actual=$(nm -D --defined-only "$module" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' \
  | grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' | sort)

if [ "$actual" != "$expected" ]; then
  echo "exported symbols of $module differ:" >&2
  diff <(echo "$expected") <(echo "$actual") >&2 || true
  exit 1
fi
echo "1 passed, 0 failed"
