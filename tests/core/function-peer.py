"""Python's side of tests/core/test-function-python.c: the keys Debian's
dogpile.cache builds for the calls C describes.

    function-peer.py check        exits 0 if dogpile.cache imports
    function-peer.py keys FILE    one line of results for each case of
                                  FILE (JSON, one case a line)

A case names a function (module, name, namespace, a `self` or `cls`
receiver, the parameters and defaults of a kwarg one), the form (single,
multi or kwarg), to_str (str or repr) and the arguments, each typed:

    ["none"] ["bool", 0|1] ["int", "<decimal>"] ["float", "<16 hex digits:
    the IEEE bits>"] ["str", "<hex of the C bytes>"] (read with
    surrogateescape, as C's repr() reads bytes that are not UTF-8)
    ["strsur", "<hex, UTF-8 with surrogates>"] (read with surrogatepass)
    ["bytes", hex] ["bytearray", hex] ["tuple", [...]] ["list", [...]]
    ["set", [...]] ["frozenset", [...]] ["dict", [[key, value], ...]]

Each result line is GEN " / " CALL: GEN is what the key generator itself
returns (function_key_generator, function_multi_key_generator or
kwarg_function_key_generator, called with the arguments), CALL the keys a
call of the decorated function stores in a memory region
(cache_on_arguments or cache_multi_on_arguments: the decorator binds the
arguments to the signature first).  Each is "K" and the keys, as hex of
their bytes, or "E <exception class> <hex of its message>".

A key's bytes: UTF-8, a lone surrogate U+DC80..U+DCFF as the byte it
stands for (surrogateescape, the bytes C passes), any other lone surrogate
in surrogatepass's three bytes.
"""
import codecs
import json
import struct
import sys


def key_bytes_errors(err):
    if not isinstance(err, UnicodeEncodeError):
        raise err
    out = bytearray()
    for ch in err.object[err.start : err.end]:
        c = ord(ch)
        if 0xDC80 <= c <= 0xDCFF:
            out.append(c - 0xDC00)
        else:
            out += ch.encode("utf-8", "surrogatepass")
    return bytes(out), err.end


codecs.register_error("dogpile-key", key_bytes_errors)


def key_hex(key):
    assert isinstance(key, str), type(key)
    return key.encode("utf-8", "dogpile-key").hex()


def text(hex_text):
    return bytes.fromhex(hex_text).decode("utf-8", "surrogateescape")


def value(a):
    t = a[0]
    if t == "none":
        return None
    if t == "bool":
        return bool(a[1])
    if t == "int":
        return int(a[1])
    if t == "float":
        return struct.unpack(">d", bytes.fromhex(a[1]))[0]
    if t == "str":
        return text(a[1])
    if t == "strsur":
        return bytes.fromhex(a[1]).decode("utf-8", "surrogatepass")
    if t == "bytes":
        return bytes.fromhex(a[1])
    if t == "bytearray":
        return bytearray.fromhex(a[1])
    if t == "tuple":
        return tuple(value(x) for x in a[1])
    if t == "list":
        return [value(x) for x in a[1]]
    if t == "set":
        return set(value(x) for x in a[1])
    if t == "frozenset":
        return frozenset(value(x) for x in a[1])
    if t == "dict":
        return {value(k): value(v) for k, v in a[1]}
    raise ValueError("unknown argument type %r" % (t,))


def make_function(case):
    """A function with the case's module, name and signature."""
    receiver = case.get("receiver")
    env = {"__name__": text(case["module"])}
    if case["form"] == "kwarg":
        names = [text(n) for n in case["params"]]
        defaults = [value(d) for d in case["defaults"]]
        first_default = len(names) - len(defaults)
        params = []
        for i, name in enumerate(names):
            if i >= first_default:
                env["_d%d" % i] = defaults[i - first_default]
                params.append("%s=_d%d" % (name, i))
            else:
                params.append(name)
        params.append("**extra")
        source = "def fn(%s):\n    return 0\n" % ", ".join(params)
    elif case["form"] == "multi":
        # one value per key: the receiver, if any, takes a key's value
        # (cache_multi_on_arguments shifts a method's arguments)
        head = receiver + ", " if receiver else ""
        tail = " + 1" if receiver else ""
        source = "def fn(%s*args, **kw):\n    return [0] * (len(args)%s)\n" % (
            head,
            tail,
        )
    else:
        head = receiver + ", " if receiver else ""
        source = "def fn(%s*args, **kw):\n    return 0\n" % head
    exec(source, env)
    fn = env["fn"]
    fn.__module__ = text(case["module"])
    fn.__name__ = text(case["function"])
    fn.__qualname__ = fn.__name__
    return fn


def outcome(thunk):
    try:
        keys = thunk()
    except Exception as e:
        return "E %s %s" % (type(e).__name__, str(e).encode("utf-8").hex())
    return " ".join(["K"] + [key_hex(k) for k in keys])


def results(case, region):
    from dogpile.cache import util

    namespace = case["namespace"]
    namespace = text(namespace) if namespace is not None else None
    to_str = repr if case["to_str"] == "repr" else str
    args = [value(a) for a in case["args"]]
    kwargs = {text(k): value(v) for k, v in case["kwargs"]}
    form = case["form"]

    def generated():
        fn = make_function(case)
        if form == "multi":
            return util.function_multi_key_generator(namespace, fn, to_str)(
                *args, **kwargs
            )
        gen = (
            util.kwarg_function_key_generator
            if form == "kwarg"
            else util.function_key_generator
        )
        return [gen(namespace, fn, to_str)(*args, **kwargs)]

    def called():
        fn = make_function(case)
        region.backend._cache.clear()
        if form == "multi":
            decorated = region.cache_multi_on_arguments(
                namespace=namespace, to_str=to_str
            )(fn)
        else:
            decorated = region.cache_on_arguments(
                namespace=namespace,
                to_str=to_str,
                function_key_generator=(
                    util.kwarg_function_key_generator
                    if form == "kwarg"
                    else None
                ),
            )(fn)
        decorated(*args, **kwargs)
        return sorted(region.backend._cache, key=key_hex)

    return outcome(generated) + " / " + outcome(called)


def main(argv):
    if argv[1] == "check":
        import dogpile.cache  # noqa: F401

        return 0
    if argv[1] == "keys":
        from dogpile.cache import make_region

        region = make_region().configure("dogpile.cache.memory")
        out = []
        with open(argv[2], encoding="ascii") as f:
            for line in f:
                out.append(results(json.loads(line), region))
        sys.stdout.write("\n".join(out) + "\n")
        return 0
    raise SystemExit("usage: function-peer.py check | keys FILE")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
