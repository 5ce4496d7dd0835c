"""Python's side of tests/core/test-config.c: a Paste/Pyramid INI as a
Python web app reads it, and what dogpile.cache's configure_from_config
makes of it.

    config-peer.py check                       exit 0 if dogpile.cache imports
    config-peer.py settings PATH SECTION       dict(parser.items(SECTION)) as
                                               JSON, or {"error": "<type>"}
    config-peer.py configure PATH SECTION PREFIX
                                               the settings, the coerced
                                               backend name, the region's
                                               expiration_time, the backend's
                                               arguments and their str(), as
                                               JSON with sorted keys

The parser is PasteDeploy's: ConfigParser with the defaults here and
__file__ and optionxform = str (paste/deploy/loadwsgi.py, ConfigLoader).
The file is read as UTF-8 whatever the locale, so that the test does not
depend on the environment meson gives it.
"""
import configparser
import json
import os
import sys


def paste_parser(path):
    path = os.path.abspath(path)
    parser = configparser.ConfigParser(
        defaults={"here": os.path.dirname(path), "__file__": path}
    )
    parser.optionxform = str  # Paste: don't lower-case keys
    with open(path, encoding="utf-8") as f:
        parser.read_file(f)
    return parser


def main(argv):
    if argv[1] == "check":
        import dogpile.cache  # noqa: F401

        return 0
    if argv[1] == "settings":
        try:
            settings = dict(paste_parser(argv[2]).items(argv[3]))
        except (configparser.Error, ValueError) as e:
            settings = {"error": type(e).__name__}
        print(json.dumps(settings, sort_keys=True))
        return 0
    if argv[1] == "configure":
        from dogpile.cache import make_region, register_backend
        from dogpile.cache.api import CacheBackend
        from dogpile.util import coerce_string_conf

        class Recording(CacheBackend):
            def __init__(self, arguments):
                self.arguments = arguments

        sys.modules[__name__].Recording = Recording
        register_backend("mock", __name__, "Recording")
        path, section, prefix = argv[2:5]
        settings = dict(paste_parser(path).items(section))
        region = make_region().configure_from_config(settings, prefix)
        arguments = region.actual_backend.arguments
        print(
            json.dumps(
                {
                    "settings": settings,
                    "backend": coerce_string_conf(settings)[prefix + "backend"],
                    "expiration_time": region.expiration_time,
                    "arguments": arguments,
                    "argument_strs": {k: str(v) for k, v in arguments.items()},
                },
                sort_keys=True,
            )
        )
        return 0
    print("unknown command %r" % argv[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
