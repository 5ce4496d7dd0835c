#!/usr/bin/python3
"""python-stock-peer.py: the Python side of tests/test-python-stock.c.

Debian's dogpile.cache with stock regions on the backend the C test
uses: STOCK_BACKEND names it, DOGPILE_TEST_ARGUMENTS ("name=value;...")
gives its arguments, read through dogpile's own coerce_string_conf as a
config file would give them.  SERIALIZER is how the Python region is
made:

  stock      no serializer: what almost every Python service runs (pickle
             with Python's default protocol, 4; on memcached, the client
             pickles the CachedValue itself)
  pickleN    serializer=lambda v: pickle.dumps(v, protocol=N)
  json       serializer=lambda v: json.dumps(v).encode(),
             deserializer=json.loads
  raw        serializer and deserializer the identity (bytes values)

Commands:

  names SERIALIZER              the value names for that serializer
  pickle NAME                   pickle.dumps(VALUES[NAME], protocol=4), hex
  write SERIALIZER KEY NAME [AGE]
                                region.set(KEY, VALUES[NAME]), its "ct"
                                AGE seconds in the past; prints the ct
  read SERIALIZER KEY NAME EXPIRATION
                                region.get(KEY, expiration_time=...):
                                "ok CT" when it equals VALUES[NAME] (types,
                                nan and -0.0 included), "miss", or
                                "differs REPR"
  memory-pickle NAME            the bytes Python's memory_pickle backend
                                keeps for region.set("k", VALUES[NAME]), hex
"""
import json
import math
import os
import pickle
import sys
import time

from dogpile.cache import make_region
from dogpile.cache.api import NO_VALUE
from dogpile.util.langhelpers import coerce_string_conf

# Shared by every serializer that can hold it; no object appears twice
# inside a value (Python memoizes by identity, GVariant cannot share).
PICKLED = {
    "stock": {
        "s": "Z\u00fcrich \u2603 \U0001f600",
        "i": 42,
        "neg": -7,
        "big": 2**80 + 1,
        "negbig": -(2**70),
        "f": 1.5,
        "nz": -0.0,
        "inf": float("inf"),
        "nan": float("nan"),
        "t": True,
        "n": None,
        "l": [1, "x", [2.5]],
        "tu": (1, "y", (None,)),
        "se": {1, 2, 3},
        "fs": frozenset({"a"}),
        "by": b"\x00|\xff",
        "ba": bytearray(b"mut"),
        "d": {"deep": {"er": [[]]}, 7: "int key"},
    },
    "str": "h\u00e9llo",
    "bytes": b"raw\x00|",
    "int": 12345678901234567890123,
    "float": -0.0,
    "none": None,
    "list": [{"id": i, "name": "user%d" % i} for i in range(50)],
    "tuple": ("a", 1),
    "long": "x" * 70000,
}
JSON = {
    "jdict": {"s": "Z\u00fcrich", "i": 1, "big": 2**70, "f": 2.5,
              "l": [1, None, True], "d": {"x": "y"}},
    "jlist": [1, "two", 3.0],
    "jstr": "\u2603",
}
RAW = {"rbytes": b"\x00\x01|raw", "rempty": b""}


def values_for(serializer):
    if serializer == "json":
        return JSON
    if serializer == "raw":
        return RAW
    return PICKLED


def same(a, b):
    """Equal as Python values: types too, nan equal to nan, -0.0 not 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return (list(a) == list(b)
                and all(same(a[k], b[k]) for k in a))
    return a == b


def arguments():
    spec = os.environ.get("DOGPILE_TEST_ARGUMENTS", "")
    pairs = dict(p.split("=", 1) for p in spec.split(";") if p)
    return coerce_string_conf(pairs)


def region(serializer, backend=None):
    kwargs = {}
    if serializer.startswith("pickle"):
        protocol = int(serializer[len("pickle"):])
        kwargs = {"serializer": lambda v: pickle.dumps(v, protocol=protocol),
                  "deserializer": pickle.loads}
    elif serializer == "json":
        kwargs = {"serializer": lambda v: json.dumps(v).encode(),
                  "deserializer": json.loads}
    elif serializer == "raw":
        kwargs = {"serializer": lambda v: v, "deserializer": lambda v: v}
    r = make_region(**kwargs)
    r.configure(backend or os.environ["STOCK_BACKEND"], expiration_time=3600,
                arguments=arguments())
    return r


class _PastClock:
    """time.time() AGE seconds ago; remembers what the region was told."""

    def __init__(self, age):
        self.age = age
        self.told = None

    def time(self):
        self.told = time.time() - self.age
        return self.told


def main():
    cmd = sys.argv[1]
    if cmd == "names":
        print("\n".join(values_for(sys.argv[2])))
    elif cmd == "pickle":
        every = dict(PICKLED, **JSON, **RAW)
        print(pickle.dumps(every[sys.argv[2]], protocol=4).hex())
    elif cmd == "write":
        serializer, key, name = sys.argv[2:5]
        age = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
        r = region(serializer)
        import dogpile.cache.region as region_module

        real = region_module.time
        clock = region_module.time = _PastClock(age)
        try:
            r.set(key, values_for(serializer)[name])
        finally:
            region_module.time = real
        print(repr(clock.told))
    elif cmd == "read":
        serializer, key, name, expiration = sys.argv[2:6]
        r = region(serializer)
        got = r.get(key, expiration_time=float(expiration))
        if got is NO_VALUE:
            print("miss")
        elif same(got, values_for(serializer)[name]):
            print("ok")
        else:
            print("differs %.200r" % (got,))
    elif cmd == "memory-pickle":
        r = region("stock", "dogpile.cache.memory_pickle")
        r.set("k", PICKLED[sys.argv[2]])
        print(r.backend._cache["k"].hex())
    else:
        raise SystemExit("unknown command %r" % cmd)


main()
