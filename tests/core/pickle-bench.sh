#!/usr/bin/env bash
# pickle-bench.sh BUILD_DIR [SECONDS]: the pickle codec beside Debian's
# CPython on the same bytes, in one run: pickle.loads / pickle.dumps
# (protocol 4, the C accelerator _pickle) against dogpile_pickle_loads
# (to a GVariant) / dogpile_pickle_dumps (from it), ns per call; then
# the floors pickle-bench measures (what any codec returning or reading a
# GVariant pays on this GLib, however fast its parse), and the most times
# faster than Python a codec at those floors could be.
set -euo pipefail

build=$(cd "${1:?usage: pickle-bench.sh BUILD_DIR [SECONDS]}" && pwd)
seconds=${2:-1}
bench=$build/tests/core/pickle-bench
python=/usr/bin/python3

printf '%-22s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n' value py-loads \
  c-loads floor py-dumps c-dumps floor x-loads x-dumps x-floor-l x-floor-d
for name in tenfields stock list100; do
  read -r hex py_loads py_dumps < <("$python" - "$name" "$seconds" <<'PY'
import pickle, sys, timeit
name, seconds = sys.argv[1], float(sys.argv[2])
values = {
    "tenfields": {"id": 12345, "name": "alice", "email": "alice@example.com",
                  "age": 31, "score": 98.5, "active": True, "tags": "a,b",
                  "city": "Z\u00fcrich", "note": None, "blob": b"xy"},
    "stock": {"s": "Z\u00fcrich", "i": 42, "b": 2**80, "f": -0.0,
              "l": [1, "x"], "tu": (2, "y"), "se": {7}, "by": b"raw",
              "d": {"deep": [[]]}},
    "list100": [{"id": i, "name": "user%d" % i, "score": i * 0.5}
                for i in range(100)],
}
v = values[name]
b = pickle.dumps(v, 4)
def per_call(stmt):
    # a statement, not a lambda: Python's figure is the call alone
    timer = timeit.Timer(stmt, globals={"loads": pickle.loads,
                                        "dumps": pickle.dumps, "b": b, "v": v})
    n, t = 1000, 0.0
    while t < seconds:
        n *= 2
        t = timer.timeit(number=n)
    return t / n * 1e9
print(b.hex(), "%.0f" % per_call("loads(b)"), "%.0f" % per_call("dumps(v, 4)"))
PY
  )
  read -r _ c_loads _ c_dumps _ floor_loads _ floor_dumps \
    < <("$bench" "$hex" "$seconds")
  printf '%-22s %8s %8s %8s %8s %8s %8s %8.1f %8.1f %8.1f %8.1f\n' \
    "$name ($((${#hex} / 2)) B)" "$py_loads" "$c_loads" "$floor_loads" \
    "$py_dumps" "$c_dumps" "$floor_dumps" \
    "$(echo "$py_loads / $c_loads" | bc -l)" \
    "$(echo "$py_dumps / $c_dumps" | bc -l)" \
    "$(echo "$py_loads / $floor_loads" | bc -l)" \
    "$(echo "$py_dumps / $floor_dumps" | bc -l)"
done
