#!/usr/bin/python3
"""lock-python-peer.py: the Python half of the cross-language stampede
tests (tests/test-lock-python.h).

Runs Debian's dogpile.cache 1.1.8 (python3-dogpile.cache, with redis-py,
the four memcached clients or gdbm) as a stock Python program would: a
region with the backend's own distributed lock, THREADS threads calling
get_or_create on one key at the same instant as the C process does.

  check BACKEND
      exit 0 when dogpile.cache and BACKEND's client import
  acquire BACKEND ARGUMENTS KEY
      backend.get_mutex(KEY).acquire(False) on a raw region; prints 1 or 0
      and exits without releasing (the test reads the lock's record)
  stampede BACKEND ARGUMENTS EXPIRATION KEY THREADS CREATOR_SECONDS
           COUNT_FILE FORMAT
      BACKEND     dogpile.cache.NAME
      ARGUMENTS   the backend's arguments, a JSON object
      EXPIRATION  the region's expiration_time (seconds)
      FORMAT      raw: serializer and deserializer are the identity on
                       bytes (the payload is stored as it is, spec 4.1);
                  pickle: the region's stock serializer (pickle.dumps;
                       for memcached, which has none, the client pickles
                       the CachedValue, spec 4.3)
      Prints READY once the region is configured and the threads wait,
      then reads one line from stdin: the start time, CLOCK_MONOTONIC
      seconds (the same clock as C's).  Every thread sleeps until then
      and calls region.get_or_create(KEY, creator).  The creator appends
      one line to COUNT_FILE (O_APPEND: one write(2) a call, whichever
      process makes it), sleeps CREATOR_SECONDS and returns
      b"fresh:python".  Then one line per thread, "VALUE <hex>" or
      "ERROR <message>", and "CREATED <creator calls here>".
"""
import json
import os
import sys
import threading
import time

CLIENTS = {
    "dogpile.cache.redis": "redis",
    "dogpile.cache.pylibmc": "pylibmc",
    "dogpile.cache.memcached": "memcache",
    "dogpile.cache.pymemcache": "pymemcache",
    "dogpile.cache.bmemcached": "bmemcached",
    "dogpile.cache.dbm": "dbm.gnu",
}


def monotonic():
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def region_for(backend, arguments, expiration, value_format):
    from dogpile.cache import make_region

    if value_format == "raw":
        kw = {"serializer": lambda v: v, "deserializer": lambda b: b}
    elif value_format == "pickle":
        kw = {}
    else:
        raise SystemExit("unknown value format %r" % value_format)
    return make_region(**kw).configure(backend, expiration_time=expiration,
                                       arguments=arguments)


def stampede(backend, arguments, expiration, key, threads, creator_seconds,
             count_file, value_format):
    region = region_for(backend, json.loads(arguments), float(expiration),
                        value_format)
    count_fd = os.open(count_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                       0o600)
    created = []
    results = [None] * int(threads)
    start = []
    go = threading.Event()

    def creator():
        os.write(count_fd, b"python %d %d\n"
                 % (os.getpid(), threading.get_ident()))
        created.append(1)
        time.sleep(float(creator_seconds))
        return b"fresh:python"

    def contender(i):
        go.wait()
        delay = start[0] - monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            results[i] = "VALUE " + region.get_or_create(key, creator).hex()
        except Exception as e:  # reported to the C side, which fails
            results[i] = "ERROR %s: %s" % (type(e).__name__, e)

    workers = [threading.Thread(target=contender, args=(i,))
               for i in range(len(results))]
    for w in workers:
        w.start()
    print("READY", flush=True)
    line = sys.stdin.readline()
    if not line:
        raise SystemExit("no start time on stdin")
    start.append(float(line))
    go.set()
    for w in workers:
        w.join()
    os.close(count_fd)
    for r in results:
        print(r)
    print("CREATED %d" % len(created), flush=True)


def main(argv):
    command, rest = argv[1], argv[2:]
    if command == "check":
        __import__(CLIENTS[rest[0]])
        import dogpile.cache  # noqa: F401
        return 0
    if command == "acquire":
        region = region_for(rest[0], json.loads(rest[1]), 600, "raw")
        print(1 if region.backend.get_mutex(rest[2]).acquire(False) else 0)
        return 0
    if command == "stampede":
        stampede(*rest)
        return 0
    print("unknown command %s" % command, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
