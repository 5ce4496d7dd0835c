"""Python's side of tests/core/test-pickle.c: the values, as Debian's
CPython pickles them, and Python's verdict on what C wrote.

    pickle-peer.py vectors         NAME PROTOCOL HEX, one a line, for
                                   protocols 0 to 5 and every value
    pickle-peer.py cached CT       NAME P5-HEX P0-HEX: each value in a
                                   CachedValue, as memcached clients
                                   pickle it
    pickle-peer.py same NAME HEX   "ok" if pickle.loads(HEX) is the value
                                   NAME (compared by its protocol 4 bytes,
                                   so types, nan and -0.0 count)

No object is shared inside a value (each str, bytes and tuple literal is
distinct): Python memoizes by identity, and a shared object pickles as a
memo reference that a GVariant cannot express.
"""
import pickle
import sys


def values():
    v = {
        "none": None,
        "true": True,
        "false": False,
        "zero": 0,
        "small": 255,
        "i16": 65535,
        "i32": 2**31 - 1,
        "neg": -1,
        "negi32": -(2**31),
        "i64": 2**63 - 1,
        "negi64": -(2**63),
        "u64": 2**64 - 1,
        "big": 2**70 + 12345,
        "negbig": -(2**100) + 7,
        "huge": 7**1000,
        "float": 3.14159,
        "negzero": -0.0,
        "inf": float("inf"),
        "ninf": float("-inf"),
        "nan": float("nan"),
        "ascii": "hello",
        "unicode": "h\u00e9llo w\u00f6rld \u2603 \U0001f600",
        "backslash": "a\\b\nc",
        "surrogate": "x\ud800y",
        "nulstr": "a\x00b",
        "nulkey": {"k\x00": 1},
        "emptystr": "",
        "bytes": b"\x00\x01|\xff",
        "emptybytes": b"",
        "bytearray": bytearray(b"ba"),
        "emptybytearray": bytearray(),
        "list": [1, "two", 3.0, None],
        "emptylist": [],
        "tuple1": (1,),
        "tuple2": (1, "a"),
        "tuple3": (True, None, 2.5),
        "tuple4": (1, 2, 3, 4),
        "emptytuple": (),
        "set": {1, 2, 3},
        "emptyset": set(),
        "frozenset": frozenset({5}),
        "emptyfrozenset": frozenset(),
        "intkeys": {1: "one", 2: "zwei"},
        "tuplekeys": {(1, 2): "pair"},
        "nested": {"inner": [{"k": [1, [2, (3,)]]}], "e": {}},
        "stock": {
            "s": "Z\u00fcrich",
            "i": 42,
            "b": 2**80,
            "f": -0.0,
            "inf": float("inf"),
            "nan": float("nan"),
            "t": True,
            "n": None,
            "l": [1, "x"],
            "tu": (2, "y"),
            "se": {7},
            "by": b"raw",
            "d": {"deep": [[]]},
        },
        "tenfields": {
            "id": 12345,
            "name": "alice",
            "email": "alice@example.com",
            "age": 31,
            "score": 98.5,
            "active": True,
            "tags": "a,b",
            "city": "Z\u00fcrich",
            "note": None,
            "blob": b"xy",
        },
        # batches of 1000 and frames of 64 KiB
        "list1000": list(range(1000)),
        "list1001": list(range(1001)),
        "dict1000": {str(i): i for i in range(1000)},
        "dict1001": {str(i): i for i in range(1001)},
        "set1000": set(range(1000)),
        "set2001": set(range(2001)),
        "longlist": [str(i) * 3 for i in range(30000)],
        "bigbytes": bytes(range(256)) * 400,
        "bigstr": "\u00e9" * 40000,
        "mixedbig": [b"x" * 70000, "after", b"y" * 10, "z" * 65536],
    }
    return v


def vectors():
    for name, value in values().items():
        for protocol in range(6):
            print(name, protocol, pickle.dumps(value, protocol).hex())


def same(name, hexdata):
    value = values()[name]
    got = pickle.loads(bytes.fromhex(hexdata))
    if pickle.dumps(got, 4) == pickle.dumps(value, 4) and type(got) is type(value):
        print("ok")
    else:
        print("got %r" % (got,))


def cached(ct):
    """NAME P5-HEX P0-HEX: CachedValue(value, {"ct": ct, "v": 2}) as
    pymemcache and pylibmc (protocol 5) and python-memcached and
    bmemcached (protocol 0) pickle it."""
    from dogpile.cache.api import CachedValue

    for name, value in values().items():
        cv = CachedValue(value, {"ct": ct, "v": 2})
        print(name, pickle.dumps(cv, 5).hex(), pickle.dumps(cv, 0).hex())


def shapes(seed, count):
    """COUNT random values of the shapes the direct loader reads (dicts of
    str keys, lists, scalars, shared strs), each pickled with protocols
    2 to 5, one "PROTOCOL HEX" line each."""
    import random

    rnd = random.Random(seed)
    texts = ["", "a", "id", "name", "Z\u00fcrich", "\u20ac" * 90, "x" * 300]

    def scalar():
        return rnd.choice([
            None, True, False, rnd.randrange(-2**63, 2**63),
            rnd.randrange(-300, 300), rnd.random() * 1e6, -0.0,
            rnd.choice(texts), bytes(rnd.randrange(256)
                                     for _ in range(rnd.randrange(5)))])

    def value(depth):
        r = rnd.random()
        if depth > 4 or r < 0.5:
            return scalar()
        n = rnd.choice([0, 0, 1, 1, 2, 3, 6])
        if r < 0.75:
            return [value(depth + 1) for _ in range(n)]
        return {rnd.choice(texts) + str(rnd.randrange(3)): value(depth + 1)
                for _ in range(n)}

    for i in range(count):
        v = value(0)
        if i % 7 == 0:
            s = "shared%d" % i
            v = {"a": s, "b": [s, s], "c": {s: s}, "d": [b"xy", b"xy"]}
        if i % 97 == 0:
            v = [{"id": j, "name": "user%d" % j} for j in range(1100)]
        for protocol in (2, 3, 4, 5):
            print(protocol, pickle.dumps(v, protocol).hex())


def main():
    if sys.argv[1] == "check":
        return
    if sys.argv[1] == "shapes":
        shapes(int(sys.argv[2]), int(sys.argv[3]))
    if sys.argv[1] == "cached":
        cached(float(sys.argv[2]))
    if sys.argv[1] == "vectors":
        vectors()
    elif sys.argv[1] == "same":
        same(sys.argv[2], sys.argv[3])


if __name__ == "__main__":
    main()
