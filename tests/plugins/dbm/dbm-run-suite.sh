#!/usr/bin/env bash
# dbm-run-suite.sh EXE [ARGUMENTS]: runs a generic backend suite on
# dogpile.cache.dbm with a file per test in a folder of its own, removed
# afterwards.  ARGUMENTS ("name=value;...") are added to the file name.
set -euo pipefail
exe=$1
extra=${2:-}
dir=$(mktemp -d "${TMPDIR:-/tmp}/dogpile-dbm-suite-XXXXXX")
trap 'rm -rf "$dir"' EXIT
arguments="filename=$dir/test-{pid}.dbm"
if [ -n "$extra" ]; then
  arguments="$arguments;$extra"
fi
DOGPILE_TEST_ARGUMENTS=$arguments "$exe"
