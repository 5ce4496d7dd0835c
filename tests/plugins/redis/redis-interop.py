#!/usr/bin/python3
"""redis-interop.py: the Python side of tests/plugins/redis/test-redis-interop.c.

Runs Debian's dogpile.cache (python3-dogpile.cache) and redis-py
(python3-redis) against the server in REDIS_HOST / REDIS_PORT, so the C
plugin can be checked against the real thing.  One command per run:

  check                      exit 0 when dogpile.cache and redis import
  write KEY HEX              region.set(KEY, bytes) with an identity serializer
  read KEY [EXPIRATION]      region.get(KEY): the payload in hex, or MISS
  write-pickle KEY TEXT      region.set(KEY, TEXT) with the default (pickle)
                             serializer; prints pickle.dumps(TEXT) in hex
  get-or-create KEY HEX      region.get_or_create with distributed_lock;
                             prints CREATED or CACHED and the value in hex
  lock-try KEY               1 if backend.get_mutex(KEY).acquire(False)
                             succeeds (then releases it), else 0
  locked KEY                 1 if backend.get_mutex(KEY).locked(), else 0
  lock-hold KEY              acquires, prints HELD, waits for a line on
                             stdin, releases, prints RELEASED
  release-sha                SHA1 of redis-py's lock release script
"""
import hashlib
import os
import pickle
import sys

from dogpile.cache import make_region
from dogpile.cache.api import NO_VALUE


def arguments(**extra):
    args = {"host": os.environ.get("REDIS_HOST", "127.0.0.1"),
            "port": int(os.environ["REDIS_PORT"]),
            "distributed_lock": True, "thread_local_lock": False,
            "lock_timeout": 30, "lock_sleep": 0.02}
    args.update(extra)
    return args


def raw_region(expiration=600):
    return make_region(serializer=lambda v: v,
                       deserializer=lambda b: b).configure(
        "dogpile.cache.redis", expiration_time=expiration,
        arguments=arguments())


def main(argv):
    command, rest = argv[1], argv[2:]
    if command == "check":
        import redis  # noqa: F401
        return 0
    if command == "write":
        raw_region().set(rest[0], bytes.fromhex(rest[1]))
    elif command == "read":
        region = raw_region()
        kw = {"expiration_time": float(rest[1])} if len(rest) > 1 else {}
        value = region.get(rest[0], **kw)
        print("MISS" if value is NO_VALUE else value.hex())
    elif command == "write-pickle":
        region = make_region().configure("dogpile.cache.redis",
                                         arguments=arguments())
        region.set(rest[0], rest[1])
        print(pickle.dumps(rest[1]).hex())
    elif command == "get-or-create":
        created = []

        def creator():
            created.append(True)
            return bytes.fromhex(rest[1])
        value = raw_region().get_or_create(rest[0], creator)
        print("CREATED" if created else "CACHED", value.hex())
    elif command == "lock-try":
        mutex = raw_region().backend.get_mutex(rest[0])
        if mutex.acquire(False):
            mutex.release()
            print(1)
        else:
            print(0)
    elif command == "locked":
        print(1 if raw_region().backend.get_mutex(rest[0]).locked() else 0)
    elif command == "lock-hold":
        mutex = raw_region().backend.get_mutex(rest[0])
        mutex.acquire(True)
        print("HELD", flush=True)
        sys.stdin.readline()
        mutex.release()
        print("RELEASED", flush=True)
    elif command == "release-sha":
        import redis.lock
        script = redis.lock.Lock.LUA_RELEASE_SCRIPT
        print(hashlib.sha1(script.encode()).hexdigest())
    else:
        print("unknown command %s" % command, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
