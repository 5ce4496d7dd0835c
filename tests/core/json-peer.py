"""Python's side of tests/core/test-json.c, from Debian's CPython json.

    json-peer.py texts     NAME TEXT-HEX DUMPS-HEX: JSON texts and what
                           json.dumps(json.loads(text)) makes of them
    json-peer.py bad       TEXT-HEX: texts json.loads refuses (each checked
                           here to be refused)
    json-peer.py values    NAME PICKLE-HEX DUMPS-HEX: values as pickle
                           protocol 4 and json.dumps(value), "-" where
                           json.dumps raises TypeError
"""
import json
import pickle
import sys

TEXTS = {
    "int": "42",
    "negzero_int": "-0",
    "big": "123456789012345678901234567890",
    "negbig": "-98765432109876543210",
    "i64max": "9223372036854775807",
    "i64over": "9223372036854775808",
    "i64min": "-9223372036854775808",
    "i64under": "-9223372036854775809",
    "float": "3.25",
    "exp": "1e16",
    "small": "1E-7",
    "overflow": "1e400",
    "negzero": "-0.0",
    "tenth": "0.1",
    "nan": "NaN",
    "inf": "Infinity",
    "ninf": "-Infinity",
    "true": "true",
    "false": "false",
    "null": "null",
    "str": '"hello"',
    "escapes": '"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t"',
    "unicode": '"h\u00e9llo \u2603 \U0001f600"',
    "uescape": '"\\u00e9\\u2603\\ud83d\\ude00"',
    "lone": '"x\\ud800y"',
    "lonelow": '"\\udc00"',
    "control": '"\\u0001\\u001f\\u007f"',
    "nul": '{"a\\u0000": "b\\u0000c"}',
    "list": '[1, "two", 3.5, null, true, [], {}]',
    "nested": '{"a": {"b": [1, {"c": null}]}, "d": []}',
    "ws": ' \t\n\r{ "a" : 1 ,\n"b":[ 1 ,2 ] } \n',
    "dup": '{"a": 1, "b": 2, "a": 3}',
    "manydup": "{" + ", ".join('"k%d": %d' % (i % 20, i) for i in range(40)) + "}",
    # past 16 members keys are looked up by an index: keys that differ only
    # after a \u0000 stay apart there too
    "manynul": "{" + ", ".join('"k\\u0000%d": %d' % (i % 20, i) for i in range(40)) + "}",
    "emptykey": '{"": 1}',
    "tagish": '{"$bytes": "AAE="}',
    "deep": "[" * 40 + "]" * 40,
}

BAD = [
    "", " ", "nul", "tru", "[1,]", "[1 2]", '{"a" 1}', '{"a":1,}', "{1: 2}",
    "'a'", '"abc', '"a\\x"', '"\\u12"', '"\\u12g4"', "01", "1.", ".5", "-",
    "+1", "1e", "0x10", "[", "]", "{", "1 2", "nan", "inf", "-NaN",
    '"a\tb"', '"\x01"', "[1]]", "1" * 4301, "\u00a01",
]


def values():
    sys.path.insert(0, sys.argv[2])
    import importlib

    peer = importlib.import_module("pickle-peer")
    return peer.values()


def main():
    mode = sys.argv[1]
    if mode == "texts":
        for name, text in TEXTS.items():
            out = json.dumps(json.loads(text))
            print(name, text.encode("utf-8", "surrogatepass").hex(),
                  out.encode("ascii").hex())
    elif mode == "bad":
        for text in BAD:
            try:
                json.loads(text)
            except ValueError:
                print(text.encode().hex() or "-")
            else:
                raise SystemExit("json.loads accepts %r" % text)
    elif mode == "values":
        for name, v in values().items():
            try:
                out = json.dumps(v).encode("ascii").hex()
            except (TypeError, ValueError):
                out = "-"
            print(name, pickle.dumps(v, protocol=4).hex(), out)


main()
