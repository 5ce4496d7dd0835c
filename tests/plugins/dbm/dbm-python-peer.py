#!/usr/bin/python3
"""The Python side of the dbm interop tests: Debian's python3-dogpile.cache
(DBMBackend on python3-gdbm), driven by test-dbm.c.  Run with /usr/bin/python3.

  check                       exit 0 when dogpile.cache and dbm.gnu import
  set FILE KEY VALUE [...]    region.set for each pair (payload bytes as is)
  get FILE KEY [...]          one line per key: the payload, or <missing>
  raw FILE KEY                the stored bytes of KEY, as repr()
  hold-rw FILE SECONDS        hold the read/write lock file's write lock
  hold-dogpile FILE SECONDS   hold the dogpile lock (get_mutex().acquire())
  try-dogpile FILE            print whether acquire(False) succeeds

The region's serializer is the identity on bytes, so C's payloads are
Python's payloads; the {"ct": ..., "v": 2}| framing is dogpile's own.
"""
import sys
import time


def region(filename):
    from dogpile.cache import make_region
    return make_region(
        serializer=lambda value: value,
        deserializer=lambda data: data,
    ).configure("dogpile.cache.dbm", expiration_time=3600,
                arguments={"filename": filename})


def main(argv):
    command = argv[1]
    if command == "check":
        import dbm.gnu  # noqa: F401
        import dogpile.cache  # noqa: F401
        return 0
    filename = argv[2]
    if command == "set":
        r = region(filename)
        pairs = argv[3:]
        for key, value in zip(pairs[0::2], pairs[1::2]):
            r.set(key, value.encode("utf-8"))
        return 0
    if command == "get":
        from dogpile.cache.api import NO_VALUE
        r = region(filename)
        for key in argv[3:]:
            value = r.get(key)
            print("<missing>" if value is NO_VALUE else value.decode("utf-8"))
        return 0
    if command == "raw":
        r = region(filename)
        print(repr(r.backend.get_serialized(argv[3])))
        return 0
    if command == "hold-rw":
        from dogpile.cache.backends.file import FileLock
        lock = FileLock(filename + ".rw.lock")
        lock.acquire_write_lock(True)
        print("held", flush=True)
        time.sleep(float(argv[3]))
        lock.release_write_lock()
        return 0
    if command == "hold-dogpile":
        r = region(filename)
        mutex = r.backend.get_mutex("some key")
        mutex.acquire()
        print("held", flush=True)
        time.sleep(float(argv[3]))
        mutex.release()
        return 0
    if command == "try-dogpile":
        r = region(filename)
        mutex = r.backend.get_mutex("some key")
        got = mutex.acquire(False)
        print("acquired" if got else "busy", flush=True)
        if got:
            mutex.release()
        return 0
    print("unknown command " + command, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
