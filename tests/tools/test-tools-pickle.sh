#!/usr/bin/env bash
# test-tools-pickle.sh: dogpile-cache -s pickle on a gdbm file a stock
# Python region (Debian's python3-dogpile.cache) shares: JSON in, the equal
# Python object out, and the other way; tagged forms for bytes, tuples,
# sets; stdin binary-safe for raw; the errors.
# Usage: test-tools-pickle.sh BUILD_ROOT
set -euo pipefail

build=$1
cache=$build/tools/dogpile-cache
python=/usr/bin/python3
dir=$(mktemp -d "${TMPDIR:-/tmp}/dogpile-tools-pickle-XXXXXX")
trap 'rm -rf "$dir"' EXIT
db=$dir/shared.dbm
failures=0

fail () { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
check () { local what=$1; shift; if "$@"; then echo "ok: $what"; else fail "$what"; fi; }
py () {
  "$python" - "$db" "$@" <<'PY'
import math, sys
from dogpile.cache import make_region
db, cmd = sys.argv[1], sys.argv[2]
r = make_region().configure("dogpile.cache.dbm", arguments={"filename": db})
want = {"s": "Z\u00fcrich", "big": 2**80, "t": (1, "x"), "b": b"\x00|",
        "se": {3}, "n": None, "f": -0.0, "l": [True, 1.5]}
if cmd == "set":
    r.set(sys.argv[3], want)
else:
    got = r.get(sys.argv[3])
    same = (got == want and type(got["t"]) is tuple
            and math.copysign(1, got["f"]) < 0)
    print("ok" if same else "differs %r" % (got,))
PY
}
c () { "$cache" "$1" -b dogpile.cache.dbm -a "filename=$db" "${@:2}"; }

text='{"s": "Z\u00fcrich", "big": 1208925819614629174706176, "t": {"$tuple": [1, "x"]}, "b": {"$bytes": "AHw="}, "se": {"$set": [3]}, "n": null, "f": -0.0, "l": [true, 1.5]}'
check "set -s pickle KEY JSON: Python reads the equal object" \
  test "$(c set -s pickle k1 "$text" && py get k1)" = ok
check "set -s pickle KEY - reads the JSON from stdin" \
  test "$(printf '%s' "$text" | c set -s pickle k2 - && py get k2)" = ok
py set k3
check "get -s pickle prints Python's value as JSON" \
  test "$(c get -s pickle k3)" = "$text"

set +e
err=$(c set -s pickle k4 '[1, 2' 2>&1 >/dev/null)
status=$?
set -e
check "bad JSON: exit 1" test "$status" -eq 1
check "bad JSON: where it goes wrong" \
  test "$err" = "dogpile-cache set: Cannot read JSON: Expecting ',' delimiter: line 1 column 6 (char 5)"

set +e
err=$(c get -s yaml k3 2>&1 >/dev/null)
set -e
check "an unknown serializer is named" \
  test "$err" = "dogpile-cache get: Unknown serializer 'yaml': use raw, json or pickle"

printf 'a\0b|c' | c set k5 -
check "raw: set KEY - is binary-safe" \
  test "$(c get k5 | od -An -tx1 | tr -d ' \n')" = 6100627c63

printf '{"a": 1}' | c set -s json k6 -
check "json: the text as it is" test "$(c get -s json k6)" = '{"a": 1}'
set +e
err=$(c set -s json k7 "{'a': 1}" 2>&1 >/dev/null)
set -e
check "json: what is not JSON text is refused" \
  test "$err" = "dogpile-cache set: Key 'k7': The payload is not JSON text: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"

# One Paste/Pyramid INI for both: Python's configure_from_config and
# dogpile-cache --prefix open the same region and share its entries
# (Python ignores cache.local.serializer, which C needs for its pickles).
cat > "$dir/app.ini" <<'INI'
[app:main]
use = egg:myapp
cache.local.backend = dogpile.cache.dbm
cache.local.expiration_time = 3600
cache.local.arguments.filename = %(here)s/paste.dbm
cache.local.serializer = pickle
INI
paste_py () {
  "$python" - "$dir/app.ini" "$@" <<'PY'
import configparser, os, sys
from dogpile.cache import make_region
path, cmd, key = sys.argv[1:4]
parser = configparser.ConfigParser(
    defaults={"here": os.path.dirname(path), "__file__": path})
parser.read(path)
settings = dict(parser.items("app:main"))
r = make_region().configure_from_config(settings, "cache.local.")
if cmd == "set":
    r.set(key, {"from": "python", "n": [1, 2]})
else:
    print(r.get(key))
PY
}
p () { "$cache" "$1" -c "$dir/app.ini" -R app:main --prefix cache.local. "${@:2}"; }
paste_py set pk
check "paste INI: C reads what Python wrote under the same prefix" \
  test "$(p get pk)" = '{"from": "python", "n": [1, 2]}'
p set ck '{"from": "c", "t": {"$tuple": [1]}}'
check "paste INI: Python reads what C wrote" \
  test "$(paste_py get ck)" = "{'from': 'c', 't': (1,)}"
check "paste INI: one file, %(here)s expanded alike" test -f "$dir/paste.dbm"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
