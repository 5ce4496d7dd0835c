#!/usr/bin/python3
"""bench-peer.py: what `dogpile-cache bench` measures, on Python's dogpile.cache.

Usage: /usr/bin/python3 tools/dev/bench-peer.py BACKEND [CALLS]
  BACKEND: memory, dbm, redis (REDIS_PORT, default 6379) or memcached
  (MEMCACHED_PORT, default 11211; through pylibmc); CALLS per operation,
  200000 by default (dbm, redis and memcached want fewer: 20000).

Debian's /usr/bin/python3 sees python3-dogpile.cache, python3-redis,
python3-pylibmc and python3-gdbm (tools/dev/install-deps installs them).
One thread, a region with expiration 3600, 1000 keys of 100-byte values,
the keys of a get_multi taken 100 at a time, as `dogpile-cache bench`
does; each line is an operation, its rate and its time per call (per key
for the multi forms), so the two outputs read side by side
(docs/benchmarks.md).
"""
import os
import sys
import tempfile
import time

from dogpile.cache import make_region

KEYS = ["key:%d" % i for i in range(1000)]
VALUE = b"x" * 100


def region_for(backend, scratch):
    settings = {
        "memory": ("dogpile.cache.memory", {}),
        "dbm": ("dogpile.cache.dbm",
                {"filename": os.path.join(scratch, "peer.dbm")}),
        "redis": ("dogpile.cache.redis",
                  {"host": "127.0.0.1",
                   "port": int(os.environ.get("REDIS_PORT", 6379))}),
        "memcached": ("dogpile.cache.pylibmc",
                      {"url": ["127.0.0.1:%s"
                               % os.environ.get("MEMCACHED_PORT", 11211)]}),
    }
    if backend not in settings:
        sys.exit("bench-peer.py: BACKEND is one of " + ", ".join(settings))
    name, arguments = settings[backend]
    return make_region().configure(name, expiration_time=3600,
                                   arguments=arguments)


def timed(label, calls, per, body):
    """Runs body(calls // per) and prints the rate per call of `per` keys."""
    rounds = max(1, calls // per)
    started = time.perf_counter()
    body(rounds)
    seconds = time.perf_counter() - started
    done = rounds * per
    print("%-26s %12.0f ops/s %10.3f us" % (label, done / seconds,
                                             seconds / done * 1e6))


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip().split("\n\n")[1])
    backend = sys.argv[1]
    calls = int(sys.argv[2]) if len(sys.argv) == 3 else 200000
    with tempfile.TemporaryDirectory(prefix="dogpile-peer-") as scratch:
        region = region_for(backend, scratch)
        creator = lambda: VALUE

        @region.cache_on_arguments()
        def cached(a, b):
            return VALUE

        def set_(n):
            for i in range(n):
                region.set(KEYS[i % 1000], VALUE)

        def get_hit(n):
            for i in range(n):
                region.get(KEYS[i % 1000])

        def get_miss(n):
            for i in range(n):
                region.get("absent:%d" % (i % 1000))

        def get_multi(n):
            for i in range(n):
                start = (i * 100) % 1000
                region.get_multi(KEYS[start:start + 100])

        def get_or_create(n):
            for i in range(n):
                region.get_or_create(KEYS[i % 1000], creator)

        def get_or_create_multi(n):
            multi_creator = lambda *keys: [VALUE] * len(keys)
            for i in range(n):
                start = (i * 100) % 1000
                region.get_or_create_multi(KEYS[start:start + 100],
                                           multi_creator)

        def function(n):
            for i in range(n):
                cached(i % 1000, 7)

        timed("set", calls, 1, set_)
        timed("get hit", calls, 1, get_hit)
        timed("get miss", calls, 1, get_miss)
        timed("get_multi(100), per key", calls, 100, get_multi)
        timed("get_or_create hit", calls, 1, get_or_create)
        timed("get_or_create_multi(100)", calls, 100, get_or_create_multi)
        function(1000)  # fill
        timed("cached function hit", calls, 1, function)


if __name__ == "__main__":
    main()
