#!/usr/bin/env bash
# test-example-plugin.sh: builds examples/plugin the way a plugin author
# would (make + pkg-config, here pointed at the build tree's uninstalled
# dogpile-1.pc), registers it with a registry file and loads it by name.
# Usage: test-example-plugin.sh BUILD_ROOT SOURCE_ROOT
set -euo pipefail

build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

PKG_CONFIG_PATH=$build/meson-uninstalled make -s -C "$src/examples/plugin" OUT="$tmp"
test -f "$tmp/dogpile-example-files.so"

# Only the descriptor function is exported.
extra=$(nm -D --defined-only "$tmp/dogpile-example-files.so" | awk '{print $3}' \
  | grep -v '^dogpile_backend_example_files_get_desc$' || true)
test -z "$extra"

"$build/tools/dogpile-plugins" --registry "$tmp/example.ini" --check --json \
  | python3 -c '
import json, sys
e = {x["name"]: x for x in json.load(sys.stdin)}["example.files"]
assert e["abi_version"] == 4 and e["error"] is None, e
assert [a["name"] for a in e["arguments"]] == ["directory"], e
assert e["registry"].endswith("/example.ini"), e'

# Loaded by name, from two separate processes sharing the directory.
cache=$build/tools/dogpile-cache
"$cache" set -r "$tmp/example.ini" -b example.files -a directory="$tmp/store" greeting 'hello|world'
test "$("$cache" get -r "$tmp/example.ini" -b example.files -a directory="$tmp/store" greeting)" = 'hello|world'
# What the plugin stored is the dogpile.cache record.
grep -q '^{"ct": [0-9.]*, "v": 2}|hello|world$' "$tmp"/store/*
"$cache" delete -r "$tmp/example.ini" -b example.files -a directory="$tmp/store" greeting
set +e
"$cache" get -r "$tmp/example.ini" -b example.files -a directory="$tmp/store" greeting 2>/dev/null
status=$?
err=$("$cache" get -r "$tmp/example.ini" -b example.files greeting 2>&1)
set -e
test "$status" -eq 3
grep -q "Argument 'directory' is required" <<<"$err"
echo "example plugin: built, listed, loaded by name, used"
