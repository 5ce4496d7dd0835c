#!/usr/bin/env bash
# test-man.sh: the man pages build, groff reads them without a warning, and
# they cannot drift from the tools: every command and every option the
# tools' --help lists is in its man page, and so is every exit status.
# Usage: test-man.sh BUILD_ROOT
set -euo pipefail

build=$1
tools=$build/tools
failures=0

fail () { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
check () { local what=$1; shift; if "$@"; then echo "ok: $what"; else fail "$what"; fi; }
# The long options a --help text lists.
options () { grep -oE -- '(^|[ ,])--[a-z][a-z-]*' | sed 's/^[ ,]*//' | grep -v -- '^--help-' | sort -u; }
# Whether man page $1 mentions option $2 (its hyphens written \- in man(7)).
mentions () { grep -qF -- "${2//-/\\-}" "$1"; }

for page in dogpile-cache.1 dogpile-plugins.1; do
  man=$tools/$page
  check "$page is built" test -s "$man"
  warnings=$(LC_ALL=C.UTF-8 groff -man -ww -z "$man" 2>&1)
  check "$page: groff -ww has no warning" test -z "$warnings"
  check "$page: the version is filled in" grep -q '^\.TH .* "libdogpile [0-9][0-9.]*"' "$man"
  for n in 0 1 2; do
    check "$page: exit status $n" grep -qxF ".B $n" <(sed -n '/^\.SH "EXIT STATUS"/,/^\.SH /p' "$man")
  done
  check "$page: an example" grep -qx '\.SH EXAMPLES' "$man"
done
man=$tools/dogpile-cache.1
check "dogpile-cache.1: exit status 3" grep -qxF ".B 3" <(sed -n '/^\.SH "EXIT STATUS"/,/^\.SH /p' "$man")

commands=$("$tools/dogpile-cache" --help | sed -n '/^Commands:/,/^$/p' | grep -oE '^  [a-z][a-z-]*' | tr -d ' ')
check "dogpile-cache --help lists commands" test -n "$commands"
for command in $commands; do
  check "dogpile-cache.1: command $command" grep -qE "^\\.(B|BI) ${command}( |$)" "$man"
  for option in $("$tools/dogpile-cache" "$command" --help | options); do
    check "dogpile-cache.1: $command $option" mentions "$man" "$option"
  done
done
for option in $("$tools/dogpile-plugins" --help | options); do
  check "dogpile-plugins.1: $option" mentions "$tools/dogpile-plugins.1" "$option"
done

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
