#!/usr/bin/python3
"""memcached-python.py: the Python side of the memcached plugin's tests.

Runs Debian's dogpile.cache (python3-dogpile.cache) with the four Python
memcached clients (python3-pylibmc, python3-memcache, python3-pymemcache,
python3-binary-memcached) on the servers given, so the C plugin can be
checked against the real thing.  One command per run:

  check                        exit 0 when everything imports
  write BACKEND URLS N [BEHAVIORS_JSON]
                               region.set("key:I", ...) for I < N through
                               dogpile.cache.BACKEND on URLS (comma-separated)
  where URLS N                 for each key:I, the indices of the servers
                               holding it ("-" for none), one line per key,
                               asking each server directly
  flush URLS                   flush_all on every server
  read BACKEND URLS KEY        region.get(KEY) with an identity serializer:
                               the payload in hex, or MISS
  write-raw BACKEND URLS KEY HEX
                               region.set(KEY, bytes) with an identity
                               serializer (the spec 4.1 record)
  lock-hold BACKEND URLS KEY   acquires the distributed lock, prints HELD,
                               waits for a line on stdin, releases, prints
                               RELEASED
  locked BACKEND URLS KEY      1 if the lock of KEY is held, else 0

Under memcached-servers.py --sasl a region authenticates with
MEMCACHED_SASL_USER and MEMCACHED_SASL_PASSWORD (bmemcached only: the one
dogpile.cache memcached backend that takes credentials).
"""
import json
import os
import socket
import sys

from dogpile.cache import make_region
from dogpile.cache.api import NO_VALUE


def servers(urls):
    return urls.split(",")


def region(backend, urls, behaviors=None, raw=False, **extra):
    arguments = {"url": servers(urls), "distributed_lock": True,
                 "lock_timeout": 30}
    if behaviors:
        arguments["behaviors"] = behaviors
    if os.environ.get("MEMCACHED_SASL_USER"):
        # memcached-servers.py --sasl; of dogpile.cache's memcached
        # backends only bmemcached takes credentials
        if backend != "bmemcached":
            raise SystemExit("only bmemcached authenticates")
        arguments["username"] = os.environ["MEMCACHED_SASL_USER"]
        arguments["password"] = os.environ["MEMCACHED_SASL_PASSWORD"]
    arguments.update(extra)
    kw = {}
    if raw:
        kw = {"serializer": lambda v: v, "deserializer": lambda b: b}
    return make_region(**kw).configure("dogpile.cache." + backend,
                                       arguments=arguments)


def ask(server, line):
    if server.startswith("/"):
        s = socket.socket(socket.AF_UNIX)
        s.connect(server)
    else:
        host, port = server.rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    with s:
        s.sendall(line.encode() + b"\r\n")
        reply = b""
        while not (reply.endswith(b"END\r\n") or reply.endswith(b"OK\r\n")
                   or reply.endswith(b"MN\r\n")):
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
        return reply


def main(argv):
    command, rest = argv[1], argv[2:]
    if command == "check":
        import bmemcached  # noqa: F401
        import memcache  # noqa: F401
        import pylibmc  # noqa: F401
        import pymemcache  # noqa: F401
        return 0
    if command == "write":
        backend, urls, n = rest[0], rest[1], int(rest[2])
        behaviors = json.loads(rest[3]) if len(rest) > 3 else None
        r = region(backend, urls, behaviors)
        for i in range(n):
            r.set("key:%d" % i, "v")
    elif command == "where":
        urls, n = rest[0], int(rest[1])
        holders = [[] for _ in range(n)]
        for index, server in enumerate(servers(urls)):
            # mn ends a batch of quiet meta gets: one round trip a server
            batch = "".join("mg key:%d q k\r\n" % i for i in range(n))
            reply = ask(server, batch + "mn")
            for line in reply.split(b"\r\n"):
                if line.startswith(b"HD ") or line.startswith(b"VA "):
                    for field in line.split()[1:]:
                        if field.startswith(b"kkey:"):
                            holders[int(field[5:])].append(str(index))
        for i, h in enumerate(holders):
            print("key:%d %s" % (i, ",".join(h) or "-"))
    elif command == "flush":
        for server in servers(rest[0]):
            ask(server, "flush_all")
    elif command == "read":
        value = region(rest[0], rest[1], raw=True).get(rest[2])
        print("MISS" if value is NO_VALUE else value.hex())
    elif command == "write-raw":
        region(rest[0], rest[1], raw=True).set(rest[2], bytes.fromhex(rest[3]))
    elif command == "lock-hold":
        mutex = region(rest[0], rest[1]).backend.get_mutex(rest[2])
        mutex.acquire(True)
        print("HELD", flush=True)
        sys.stdin.readline()
        mutex.release()
        print("RELEASED", flush=True)
    elif command == "locked":
        mutex = region(rest[0], rest[1]).backend.get_mutex(rest[2])
        print(1 if mutex.locked() else 0)
    else:
        print("unknown command %s" % command, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
