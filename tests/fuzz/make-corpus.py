#!/usr/bin/python3
# make-corpus.py: writes the seed corpus of every fuzz target into
# tests/fuzz/corpus/<target>/ (docs/fuzzing.md).  Run it with Debian's
# /usr/bin/python3 (the pickles are CPython's own, protocols 0 to 5, and
# python3-dogpile.cache gives the CachedValue ones); it rewrites the files
# it makes and leaves others alone.
import os
import pickle
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def record(payload, ct=1795607767.758692, v=2):
    return ('{"ct": %r, "v": %d}|' % (ct, v)).encode() + payload


def cached_value(payload, ct, protocol):
    try:
        from dogpile.cache.api import CachedValue
    except ImportError:
        return None
    return pickle.dumps(CachedValue(payload, {"ct": ct, "v": 2}), protocol)


# ---- pickle: CPython's own bytes, every protocol ---------------------------
values = {
    "scalars": [None, True, False, 0, -1, 255, 65536, 2**70, -(2**64), 1.5,
                float("inf"), "Zürich", "", b"\x00|", bytearray(b"ab")],
    "containers": {"a": [1, "x", (2, 3)], 2: "two", (1, "t"): {1, 2},
                   "f": frozenset(["y"]), "nested": [[[]], {}, ()]},
    "text": "s" * 300 + "\u20ac\U0001f600",
}
for proto in range(6):
    for name, value in values.items():
        write("pickle", "p%d-%s.pickle" % (proto, name),
              pickle.dumps(value, proto))
for proto in (0, 5):
    cv = cached_value({"k": [1, 2.5]}, 1795607767.5, proto)
    if cv is not None:
        write("pickle", "p%d-cachedvalue.pickle" % proto, cv)

# ---- json ------------------------------------------------------------------
json_seeds = {
    "mixed.json": '[1, 2.5, "x", null, true, {"a": [], "b": {}}]',
    "tagged.json": '{"$tuple": [1, {"$bytes": "AAE="}], "s": "\\ud800\\u00e9"}',
    "dict.json": '{"$dict": [[1, {"$set": [2]}]], "big": 123456789012345678901234}',
    "floats.json": '[NaN, Infinity, -Infinity, -0.0, 1e-320, 5e-324, 1.7976931348623157e308]',
    "escapes.json": '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\uD83D\\uDE00"',
    "dupes.json": '{"a": 1, "a": 2, "$bytearray": "YWI="}',
    "deep.json": "[" * 40 + "]" * 40,
}
for name, text in json_seeds.items():
    write("json", name, text)

# ---- record ----------------------------------------------------------------
write("record", "canonical", record(pickle.dumps({"k": 1}, 4)))
write("record", "spaced", b'{ "ct" : 1795607767.5 , "v" : 2 } |payload')
write("record", "v1-int-ct", b'{"ct": 1795607767, "v": 1}|')
write("record", "extra-members", b'{"ct": 1.5e9, "v": 2.0, "x": [1, {"y": null}]}|\x80\x04.')
write("record", "escaped-names", b'{"\\u0063t": 17956077.25, "\\u0076": 2}|x|y')
write("record", "no-bar", b'{"ct": 1.0, "v": 2}')
write("record", "binary-ct", struct.pack("<d", 1795607767.758692) + struct.pack("<i", 2) + b"data")

# ---- registry --------------------------------------------------------------
write("registry", "plugins.ini",
      "# the shipped registry\n[dogpile.cache]\n"
      "dogpile.cache.memory = memory/dogpile-memory.so:dogpile_backend_memory_get_desc\n"
      "dogpile.cache.redis = /usr/lib/dogpile-1/dogpile-redis.so:dogpile_backend_redis_get_desc\n"
      "\n[dogpile.cache.proxies]\nexample.proxy = ../proxy.so:example_get_desc\n")
write("registry", "bad-lines.ini",
      "[dogpile.cache]\nno-colon = module.so\n = /a.so:sym\nmissing = :sym\n"
      "ok = /m.so:s\n[broken\n[other.program]\nanything goes\n")
write("registry", "before-group.ini", "orphan = /x.so:y\n[dogpile.cache]\n; comment\nok=a:b:c\n")
write("registry", "crlf.ini", "[dogpile.cache]\r\ndup = /a.so:one\r\ndup = /b.so:two\r\n")

# ---- config ----------------------------------------------------------------
write("config", "paste.ini",
      "[DEFAULT]\ncache_dir = %(here)s/cache\n\n[app:main]\nuse = egg:app\n"
      "cache.local.backend = dogpile.cache.memory\n"
      "cache.local.expiration_time = 1h30m\n"
      "cache.local.arguments.cache_size = +0042\n"
      "cache.local.arguments.filename = %(cache_dir)s/x.dbm\n"
      "cache.local.wrap = dogpile.proxies.stats\n"
      "long = first\n    second\n\n    third\n"
      "percent = 100%%\n")
write("config", "regions.ini",
      "[cache.local]\nbackend = dogpile.cache.memory\nexpiration_time = 7200\n"
      "arguments.cache_dict = sessions\nreplace_existing_backend = true\n"
      "serializer = json\n\n[cache.null]\nbackend = dogpile.cache.null\n"
      "expiration_time = none\n")
write("config", "coerce.ini",
      "[coerce]\nbackend = mock\nexpiration_time = 1 day, 8:00:00\n"
      "arguments.int = -0\narguments.big = 123456789012345678901234567890\n"
      "arguments.float = 1e5\narguments.dot = .5\narguments.bool = TRUE\n"
      "arguments.none = None\narguments.digits = \u0661\u0662\n"
      "arguments.space =  \u3000text\u3000 \n")
write("config", "colons.ini",
      "; comment\n[main]\nkey: value\nother = a = b\n  indented = continued\n"
      "ref = %(key)s and %(other)s\n[DEFAULT]\nd = 1\n")

# ---- arguments -------------------------------------------------------------
for i, text in enumerate([
        "30", "0.25", "1e5", "250ms", "1h30m", "2d 4h", "45s", "1w",
        "1 day, 8:00:00", "-1 day, 23:00:00", "8:00:00.5", "none", "None",
        " -1 ", "true", "pickle", "a:1, b:2\tc:3"]):
    write("arguments", "%02d" % i, text)

# ---- redis-url -------------------------------------------------------------
write("redis-url", "url",
      "redis://user:p%40ss@redis.example:6380/2?socket_timeout=1.5&socket_connect_timeout=2&socket_keepalive=yes&max_connections=8\n"
      "url=redis://127.0.0.1:6379/0\nsocket_timeout=1\nlock_prefix=_lok.\n")
write("redis-url", "unix", "unix://:secret@/run/redis/redis.sock?db=3\nhost=/run/redis.sock\n")
write("redis-url", "ipv6", "[::1]:6379\nhost=::1\nport=6380\ndb=1\nredis_expiration_time=60\n")
write("redis-url", "sentinel",
      "valkey://[fe80::1%25eth0]:7000\nsentinels=127.0.0.1:26379, [::1]:26380 host\n"
      "service_name=mymaster\nsentinel_password=pw\nread_from_replicas=true\n"
      "distributed_lock=true\nlock_timeout=0.5\nlock_sleep=10ms\nlock_blocking_timeout=2\n")
write("redis-url", "cluster",
      "127.0.0.1:7000\nstartup_nodes=127.0.0.1:7000,127.0.0.1:7001\n"
      "valkey_expiration_time=600\nconnection_pool_size=4\nbusy_poll=0\n")
write("redis-url", "bad", "rediss://h?socket_timeout=1e300\nurl=redis://h?socket_timeout=inf\nssl=false\n")


def resp(*items):
    out = b""
    for item in items:
        if isinstance(item, list):
            out += b"*%d\r\n" % len(item) + resp(*item)
        elif isinstance(item, int):
            out += b":%d\r\n" % item
        elif item is None:
            out += b"$-1\r\n"
        elif isinstance(item, tuple):  # (kind, text): status or error
            out += item[0] + item[1] + b"\r\n"
        else:
            if isinstance(item, str):
                item = item.encode()
            out += b"$%d\r\n" % len(item) + item + b"\r\n"
    return out


OK = (b"+", b"OK")


def err(text):
    return (b"-", text.encode())


slots = [[0, 5460, ["127.0.0.1", 7000, "id1"], ["127.0.0.1", 7003, "id4"]],
         [5461, 10922, ["127.0.0.2", 7001, "id2"]],
         [10923, 16383, ["", 7002, "id3"]]]
master = ["10.0.0.5", "6380"]
replicas = [["name", "10.0.0.6:6381", "ip", "10.0.0.6", "port", "6381",
             "flags", "slave", "master-link-status", "ok"],
            ["ip", "10.0.0.7", "port", "6382", "flags", "slave,s_down",
             "master-link-status", "err"]]

# ---- redis-reply: raw RESP ------------------------------------------------
write("redis-reply", "simple", resp(OK, err("ERR wrong"), 42, -7, "foo", None, ""))
write("redis-reply", "arrays",
      resp([1, [2, [3, None]], "x"], []) + b"*-1\r\n*1\r\n*1\r\n:0\r\n")
write("redis-reply", "cluster-slots", resp(slots))
write("redis-reply", "sentinel", resp(master, replicas, ["master", 100, []]))
write("redis-reply", "mget", resp(["a", None, "c" * 70, None]))
write("redis-reply", "bad-type", b"+OK\r\n~3\r\n")
write("redis-reply", "huge-count", b"*2147483647\r\n:1\r\n")

# ---- redis-topology: mode byte + what the servers answer ----------------
# bit 0: Sentinel (else Cluster); bit 1: read_from_replicas; bit 2: a
# read-only batch first
write("redis-topology", "cluster",
      b"\x00" + resp(slots, "v1", "v2", "v3"))
write("redis-topology", "cluster-moved",
      b"\x00" + resp(slots, err("MOVED 3999 127.0.0.9:7009"), slots,
                     "v1", err("ASK 3999 [::1]:7010"), OK, "v2",
                     err("TRYAGAIN Multiple keys request during rehashing"),
                     "v3", err("CLUSTERDOWN The cluster is down")))
write("redis-topology", "cluster-errors",
      b"\x00" + resp(err("ERR This instance has cluster support disabled"),
                     [], [[0, 16383, ["?", 7000]]], [[5, 3, ["h", 1]]]))
write("redis-topology", "sentinel",
      b"\x01" + resp(master, ["master", 3453, []], "v1", "v2", "v3"))
write("redis-topology", "sentinel-replicas",
      b"\x07" + resp(master, replicas, ["master", 3453, []], "r1", "v2",
                     "r3"))
write("redis-topology", "sentinel-failover",
      b"\x03" + resp(None, err("ERR unknown"), master, replicas,
                     ["slave", "10.0.0.1", 6379, "connected", 10],
                     master, [], err("NOPERM no ROLE"), err("READONLY x"),
                     master, [], ["master", 1, []], "v"))

# ---- memcached-servers ----------------------------------------------------
write("memcached-servers", "list",
      "127.0.0.1:11211, [::1]:11212 /tmp/mc.sock\nbinary=true\n"
      "min_compress_len=100\nusername=u\npassword=p\n")
write("memcached-servers", "python-list",
      "['a.example:1', \"b:2\", (unix:/run/mc.sock)]\nbehaviors=tcp_nodelay, ketama\n")
write("memcached-servers", "prefixes",
      "inet:host:5, inet6:[fe80::1]:6, [2001:db8::1]\ndistributed_lock=true\n"
      "lock_timeout=30\nmemcached_expire_time=60\n")
write("memcached-servers", "bad", "udp:h:1, ::1, h:99999, h:1:2\ndead_retry=1\n")

# ---- memcached-item: flags, client byte, the item ------------------------
rec = record(pickle.dumps([1, "x"], 4))
write("memcached-item", "plain", b"\x00\x00" + rec)
write("memcached-item", "bmemcached", b"\x10\x02" + rec)
big = record(pickle.dumps("z" * 400, 4))
write("memcached-item", "zlib", b"\x08\x19" + zlib.compress(big))
for proto in (0, 5):
    cv = cached_value(["payload", 2.5], 1795607767.25, proto)
    if cv is not None:
        write("memcached-item", "cachedvalue-p%d" % proto, b"\x01\x01" + cv)
        write("memcached-item", "cachedvalue-zlib-p%d" % proto,
              b"\x09\x04" + zlib.compress(cv))

# ---- codecs: the first byte picks pickle (0), JSON (1), the record (2) ---
write("codecs", "pickle", b"\x00" + pickle.dumps(values["containers"], 4))
write("codecs", "pickle-p0", b"\x00" + pickle.dumps(values["scalars"], 0))
write("codecs", "json", b"\x01" + json_seeds["tagged.json"].encode())
write("codecs", "json-plain", b"\x01" + json_seeds["mixed.json"].encode())
write("codecs", "record", b"\x02" + rec)
cv = cached_value({"k": 1}, 1795607767.5, 5)
if cv is not None:
    write("codecs", "cachedvalue", b"\x00" + cv)
print("corpus written to", CORPUS, file=sys.stderr)
