#!/usr/bin/env bash
# test-tools.sh: dogpile-plugins and dogpile-cache from the outside: output
# formats, exit codes and error messages; the exported symbols.
# Usage: test-tools.sh BUILD_ROOT SOURCE_ROOT
set -euo pipefail

build=$1
src=$2
plugins=$build/tools/dogpile-plugins
cache=$build/tools/dogpile-cache
fixtures=$build/tests/fixtures/registry
failures=0

fail () { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
check () { local what=$1; shift; if "$@"; then echo "ok: $what"; else fail "$what"; fi; }
json () { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

# --- dogpile-plugins ---------------------------------------------------------
out=$("$plugins")
check "table: a header" grep -qE '^NAME +KIND +FROM +DESCRIPTION$' <<<"$out"
check "table: memory, its kind, where it comes from, its description" \
  grep -qE '^dogpile.cache.memory +backend +build tree +Process memory; values kept by reference' <<<"$out"
check "table lists null" grep -qE '^dogpile.cache.null +backend ' <<<"$out"
check "table lists memory_pickle" grep -q '^dogpile.cache.memory_pickle ' <<<"$out"
check "table lists the proxies" grep -qE '^dogpile.proxies.stats +proxy +built in +Counts gets' <<<"$out"
check "table: no full paths" test "$(grep -c "$build" <<<"$out")" -eq 0
check "table: a count at the end" \
  grep -qE '^[0-9]+ backends, [0-9]+ proxies; `dogpile-plugins NAME` shows one in detail, --long all of them.$' <<<"$out"

out=$("$plugins" dogpile.cache.memory)
description=$("$plugins" --json dogpile.cache.memory | json 'print(d["description"])')
check "NAME: module, symbol, registry file, ABI and plugin versions, description" \
  test "$out" = "dogpile.cache.memory
  Kind            backend
  Description     $description
  Plugin version  0.1.0
  ABI version     4 (libdogpile 0.1.0 loads backends of version 1 to 4)
  Module          $build/plugins/memory/dogpile-memory.so
  Symbol          dogpile_backend_memory_get_desc
  Registry file   $build/plugins/dogpile-build-registry.ini (build tree)
  Arguments
    NAME                    TYPE      DEFAULT    DESCRIPTION
    cache_dict              string    none       a name: backends given the same name share one store (Python passes a dict object)
    max_entries             integer   unbounded  (C only) keep at most this many entries; 0 keeps nothing
    max_bytes               integer   unbounded  (C only) keep at most this many bytes (K, M, G: 1024, 1024^2, 1024^3); 120 bytes of overhead an entry
    eviction_policy         choice    tinylfu    (C only) tinylfu (W-TinyLFU, adaptive window) or lru
    memory_expiration_time  duration  none       (C only) entries older than this are gone (by creation time)"
out=$("$plugins" dogpile.proxies.stats)
check "NAME: a proxy" grep -qF "  ABI version     2 (libdogpile 0.1.0 loads proxies of version 1 to 2)" <<<"$out"
check "NAME: a proxy built in" grep -qF "  Registry file   (registered in process)" <<<"$out"
out=$("$plugins" --json dogpile.cache.null)
check "NAME --json: one object" json '
assert d["name"] == "dogpile.cache.null" and d["kind"] == "backend" and d["abi_version"] == 4 and d["version"] == "0.1.0", d' <<<"$out"
set +e
err=$("$plugins" dogpile.cache.memroy 2>&1)
status=$?
err_option=$("$plugins" --bogus 2>&1)
status_option=$?
err_two=$("$plugins" a b 2>&1)
status_two=$?
set -e
check "NAME not registered exits 1" test "$status" -eq 1
check "NAME not registered: the nearest name" \
  test "$err" = "dogpile-plugins: no backend or proxy is registered as 'dogpile.cache.memroy'; did you mean dogpile.cache.memory? (\`dogpile-plugins\` lists them all)"
check "dogpile-plugins: an unknown option exits 2" test "$status_option" -eq 2
check "dogpile-plugins: an unknown option is named" \
  test "$err_option" = "dogpile-plugins: Unknown option --bogus (see \`dogpile-plugins --help\`)"
check "dogpile-plugins: two names exit 2" test "$status_two" -eq 2
check "dogpile-plugins: two names, what is expected" \
  test "$err_two" = "dogpile-plugins: expected at most one NAME (see \`dogpile-plugins --help\`)"

out=$("$plugins" --long)
check "--long: every entry in detail" test "$(grep -c '^  Module  ' <<<"$out")" -eq "$("$plugins" --json | json 'print(len(d))')"
check "--long: the full paths" grep -qF "  Module          $build/plugins/null/dogpile-null.so" <<<"$out"

out=$("$plugins" --json)
check "json: every field" json '
e = {x["name"]: x for x in d}
m = e["dogpile.cache.memory"]
assert set(m) == {"name","kind","module","symbol","registry","abi_version","version","description","error","arguments"}, m
assert m["kind"] == "backend" and m["abi_version"] == 4 and m["version"] == "0.1.0" and m["description"] and m["error"] is None, m
s = e["dogpile.proxies.stats"]
assert [a["name"] for a in m["arguments"]] == ["cache_dict", "max_entries", "max_bytes", "eviction_policy", "memory_expiration_time"], m
assert m["arguments"][3] == {"name": "eviction_policy", "type": "choice", "default": "tinylfu", "required": False, "c_only": True, "ignored": False, "prefix": False, "doc": "tinylfu (W-TinyLFU, adaptive window) or lru"}, m
assert s["kind"] == "proxy" and s["abi_version"] == 2 and s["arguments"] == [] and s["module"] is None and s["registry"] is None, s' <<<"$out"

out=$("$plugins" --check --json)
check "check: abi and description" json '
assert all(x["abi_version"] == (4 if x["kind"] == "backend" else 2) and x["description"] and x["error"] is None for x in d), d' <<<"$out"

for tool in "$plugins" "$cache"; do
  out=$("$tool" --version)
  check "$(basename "$tool") --version: tool, library and ABI range" \
    test "$out" = "$(basename "$tool") 0.1.0
libdogpile 0.1.0 (API dogpile-1): loads backends of ABI version 1 to 4 and proxies of ABI version 1 to 2
MIT License: see the LICENSE file of libdogpile"
done
check "the LICENSE is MIT" grep -q '^MIT License$' "$src/LICENSE"

set +e
out=$("$plugins" --registry "$fixtures/fixtures.ini" --check --json)
status=$?
set -e
check "check: a failed load exits 1" test "$status" -eq 1
check "check: each failure carries its message" json '
e = {x["name"]: x for x in d}
assert e["fixture.good"]["error"] is None and e["fixture.good"]["abi_version"] == 4
assert "ABI version" in e["fixture.abi_future"]["error"], e["fixture.abi_future"]
assert e["fixture.abi_future"]["abi_version"] is None
assert "ldd" in e["fixture.missing_file"]["error"]
assert "has no symbol" in e["fixture.no_symbol"]["error"]
assert "lacks the required operation" in e["fixture.incomplete"]["error"]
for n in ("fixture.libc_symbol", "fixture.abort_symbol", "fixture.data_symbol"):
    assert "descriptor function" in e[n]["error"], e[n]' <<<"$out"

set +e
out=$("$plugins" --registry "$fixtures/fixtures.ini" 2>/dev/null)
status=$?
err=$("$plugins" --registry "$fixtures/fixtures.ini" --check 2>&1 >/dev/null)
status_check=$?
set -e
check "table: a plugin that does not load is not an error without --check" test "$status" -eq 0
check "table: a plugin that does not load says so" \
  grep -qE '^fixture.abi_future +backend +build tree: tests/fixtures/registry/fixtures.ini +\(does not load: `dogpile-plugins NAME` says why\)$' <<<"$out"
check "table: the count says how many do not load" grep -qE '^[0-9]+ backends, [0-9]+ proxies, [0-9]+ of them not loading;' <<<"$out"
check "table --check exits 1" test "$status_check" -eq 1
check "table --check: each error in full on stderr" \
  grep -q "^dogpile-plugins: fixture.abi_future: .*was built for ABI version 5" <<<"$err"
set +e
out=$("$plugins" --registry "$fixtures/fixtures.ini" fixture.no_symbol)
status=$?
set -e
check "NAME that does not load exits 1" test "$status" -eq 1
check "NAME that does not load: the error" grep -q "^  Error           Couldn't load cache plugin fixture.no_symbol: .* has no symbol dogpile_backend_not_here_get_desc" <<<"$out"

set +e
err=$("$plugins" --registry "$fixtures/missing-colon.ini" 2>&1 >/dev/null)
status=$?
set -e
check "explicit bad registry exits 2" test "$status" -eq 2
check "explicit bad registry names file:line" grep -q "missing-colon.ini:3:" <<<"$err"

# --- dogpile-cache -----------------------------------------------------------
set +e
"$cache" get -b dogpile.cache.memory nothing-here 2>/dev/null
status=$?
err=$("$cache" get -b unknown k 2>&1)
status_unknown=$?
err_args=$("$cache" get -a nonsense k 2>&1)
status_args=$?
set -e
check "get on a miss exits 3" test "$status" -eq 3
check "unknown backend exits 1" test "$status_unknown" -eq 1
check "unknown backend is PluginNotFound" grep -q "Couldn't find cache plugin to load: unknown" <<<"$err"
set +e
err_near=$("$cache" get -b dogpile.cache.memroy k 2>&1)
set -e
check "PluginNotFound: the nearest name, where it looked, what lists them" \
  test "$err_near" = "dogpile-cache get: Couldn't find cache plugin to load: dogpile.cache.memroy (did you mean dogpile.cache.memory?); searched names registered in process, $build/plugins/dogpile-build-registry.ini; dogpile-plugins lists what is registered"
# The build tree's tools add their registry to DOGPILE_REGISTRY_PATH's.
out=$(DOGPILE_REGISTRY_PATH=$fixtures/duplicates-a.ini "$plugins")
check "DOGPILE_REGISTRY_PATH adds to the build tree's registry" \
  grep -qE '^fixture.dup +backend' <<<"$out"
check "DOGPILE_REGISTRY_PATH keeps the build tree's backends" \
  grep -qE '^dogpile.cache.memory +backend' <<<"$out"
check "malformed -a exits 1" test "$status_args" -eq 1
check "malformed -a is reported" grep -q 'name=value' <<<"$err_args"

# Exit statuses: 2 for every bad command line, an unknown option too.
out=$("$cache" --help)
check "--help: every command" test "$(grep -cE '^  (get|set|delete|get-multi|locked|invalidate|bench|stampede) ' <<<"$out")" -eq 8
check "--help: the exit statuses" grep -qxF "  3  a miss: no value, an expired value (get, get-multi), or a key nobody" <<<"$out"
check "get --help: the exit statuses" grep -qF "Exit status: 0 success; 1 an error (the message is on stderr); 2 a bad command line (an unknown option among them); 3 no value, an expired value or (locked) a key nobody holds." <<<"$("$cache" get --help)"
check "invalidate --help: process-local" grep -qF "This invalidation is process-local until cross-process invalidation lands" <<<"$("$cache" invalidate --help)"
for argv in "get --bogus k" "set --bogus k v" "delete --bogus k" "get-multi --bogus k" \
            "locked --bogus k" "invalidate --bogus" "bench --bogus" "stampede --bogus" \
            "get" "get a b" "set k" "set --file /dev/null k v" "locked" "invalidate k" \
            "frobnicate" "--bogus" ""; do
  set +e
  # shellcheck disable=SC2086
  err=$("$cache" $argv 2>&1 >/dev/null)
  status=$?
  set -e
  check "usage error exits 2: dogpile-cache $argv" test "$status" -eq 2
done
set +e
err=$("$cache" get --bogus k 2>&1)
set -e
check "an unknown option is named" test "$err" = "dogpile-cache get: Unknown option --bogus (see \`dogpile-cache get --help\`)"
set +e
err=$("$cache" set k 2>&1)
set -e
check "a missing argument says what is expected" test "$err" = "dogpile-cache set: expected KEY VALUE|- (see \`dogpile-cache set --help\`)"

# On memory: what a one-shot process can show; the note only on a terminal.
set +e
err=$("$cache" get k 2>&1 >/dev/null)
set -e
check "memory: no note when stderr is not a terminal" test "$err" = "dogpile-cache get: no value for 'k'"
on_terminal () { script -qec "$*" /dev/null </dev/null | tr -d '\r' || true; }
out=$(on_terminal "$cache" set -b dogpile.cache.memory_pickle k '[1]')
check "memory: the note once, on a terminal" \
  test "$out" = "dogpile-cache set: note: dogpile.cache.memory_pickle lives only as long as this process: it starts empty and what it holds is gone when dogpile-cache exits (use dogpile.cache.dbm, redis or memcached to keep values between commands)"
out=$(on_terminal "$cache" get-multi a b c)
check "memory: the note once for several keys" test "$(grep -c "note:" <<<"$out")" -eq 1
out=$(on_terminal "$cache" invalidate --soft)
check "invalidate: on a terminal, says it is process-local" \
  grep -qF "dogpile-cache invalidate: note: the region is soft invalidated in this process only: other processes, and later runs of dogpile-cache, still see every value (process-local until cross-process invalidation lands)" <<<"$out"
check "invalidate exits 0" "$cache" invalidate
set +e
out=$("$cache" locked k)
status=$?
set -e
check "locked: a key nobody holds exits 3" test "$status" -eq 3
check "locked: says not locked" test "$out" = "not locked"

# stampede's progress: one line rewritten in place, only on a terminal.
out=$(script -qec "$cache stampede --threads 2 --rounds 2 --creator-ms 30" /dev/null </dev/null)
check "stampede: progress on a terminal, rewritten in place" \
  grep -qF $'\rstampede: round 1 of 2, 0 creator calls so far\e[K' <<<"$out"
check "stampede: the progress line erased before the results" grep -qF $'\r\e[Kbackend dogpile.cache.memory' <<<"$out"
out=$(script -qec "$cache stampede --threads 2 --rounds 2 --creator-ms 30 --json" /dev/null </dev/null)
check "stampede --json: no progress on a terminal" test "$(grep -c 'stampede: round' <<<"$out")" -eq 0
err=$("$cache" stampede --threads 2 --rounds 2 --creator-ms 5 2>&1 >/dev/null)
check "stampede: no progress when stderr is not a terminal" test -z "$err"

out=$("$cache" bench -b dogpile.cache.memory --keys 200 --seconds 0.05 --json)
check "bench --json has every operation" json '
r = d["results"]
assert d["backend"] == "dogpile.cache.memory" and d["threads"] == 1 and d["keys"] == 200 and d["value_size"] == 100
for op in ("set", "get_hit", "get_miss", "get_multi_100", "get_or_create_hit", "get_or_create_multi_100"):
    assert r[op]["ops_per_sec"] > 0 and r[op]["p50_us"] >= 0 and r[op]["p99_us"] >= r[op]["p50_us"], op
assert r["get_multi_100"]["keys_per_sec"] == 100 * r["get_multi_100"]["ops_per_sec"]
assert r["get_hit"]["misses"] == 0 and r["get_multi_100"]["misses"] == 0
b = d["bounded"]; assert b["max_entries"] == 400 and b["results"]["set"]["ops_per_sec"] > 0, b
e = d["evicting"]; assert e["max_entries"] == 100 and e["results"]["set"]["ops_per_sec"] > 0, e
assert 0 < e["evictions_per_set"] <= 1, e' <<<"$out"
out=$("$cache" bench -b dogpile.cache.memory --keys 200 --seconds 0.05 -a eviction_policy=lru -o set --json)
check "bench: set with eviction evicts on every set under LRU" json '
assert d["evicting"]["evictions_per_set"] == 1, d' <<<"$out"

out=$("$cache" stampede -b dogpile.cache.memory --threads 16 --rounds 3 --creator-ms 30 --json)
check "stampede: one creator call per round" json '
assert d["backend"] == "dogpile.cache.memory" and d["threads"] == 16 and d["rounds"] == 3 and d["creator_ms"] == 30, d
assert d["requests"] == 48 and d["creator_calls"] == 3, d
assert d["stale_served"] == 2 * 15, d
w = d["wait_ms"]; assert 0 <= w["p50"] <= w["p99"] <= w["max"], w' <<<"$out"
out=$("$cache" stampede -b dogpile.cache.null --threads 4 --rounds 2 --creator-ms 5 --json)
check "stampede on null: every request creates" json 'assert d["creator_calls"] == 8, d' <<<"$out"

out=$("$cache" bench -b dogpile.cache.memory_pickle --threads 2 --keys 300 --seconds 0.05 -o get_hit,set)
check "bench table, two threads" grep -q "2 threads on separate keys" <<<"$out"

# --- dogpile-cache with a file of regions -----------------------------------
cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
cat >"$cfg" <<'INI'
[cache.local]
backend = dogpile.cache.memory
expiration_time = 2h
wrap = dogpile.proxies.stats

[cache.broken]
backend = dogpile.cache.nope
INI
check "--config: set and get on a region from the file" \
  "$cache" set -c "$cfg" -R cache.local k v
out=$("$cache" stampede -c "$cfg" -R cache.local --threads 8 --rounds 2 --creator-ms 20 --json)
check "--config: stampede uses its own expiration, the file's backend" json '
assert d["backend"] == "dogpile.cache.memory" and d["creator_calls"] == 2, d' <<<"$out"
set +e
err_group=$("$cache" get -c "$cfg" -R cache.other k 2>&1)
status_group=$?
err_broken=$("$cache" get -c "$cfg" -R cache.broken k 2>&1)
err_mixed=$("$cache" get -c "$cfg" -R cache.local -b dogpile.cache.null k 2>&1)
status_mixed=$?
err_alone=$("$cache" get -c "$cfg" k 2>&1)
set -e
check "--config: unknown group exits 1" test "$status_group" -eq 1
check "--config: unknown group lists the groups" grep -q "no region \[cache.other\] (the file has: cache.local, cache.broken)" <<<"$err_group"
check "--config: a bad region names its group" grep -q "\[cache.broken\] Couldn't find cache plugin to load: dogpile.cache.nope" <<<"$err_broken"
check "--config with -b is refused" test "$status_mixed" -eq 1
check "--config with -b says why" grep -q "cannot be combined with --config" <<<"$err_mixed"
check "--config needs --region" grep -q -- "--config and --region go together" <<<"$err_alone"
# A bad config: what is wrong, where (file, line or group and key), exit 1.
bad=$(mktemp -d)
printf '[cache.typo]\nbackend = dogpile.cache.memory\nexpiraton_time = 60\n' >"$bad/typo.ini"
printf '[cache.value]\nbackend = dogpile.cache.memory\nexpiration_time = soon\n' >"$bad/value.ini"
printf '[cache.syntax]\nbackend = dogpile.cache.memory\nexpiration_time 60\n' >"$bad/syntax.ini"
printf '[cache.twice]\nbackend = dogpile.cache.memory\nbackend = dogpile.cache.null\n' >"$bad/twice.ini"
set +e
err_typo=$("$cache" get -c "$bad/typo.ini" -R cache.typo k 2>&1); status_typo=$?
err_value=$("$cache" get -c "$bad/value.ini" -R cache.value k 2>&1); status_value=$?
err_syntax=$("$cache" get -c "$bad/syntax.ini" -R cache.syntax k 2>&1); status_syntax=$?
err_twice=$("$cache" get -c "$bad/twice.ini" -R cache.twice k 2>&1); status_twice=$?
set -e
check "--config: an unknown key exits 1" test "$status_typo" -eq 1
check "--config: an unknown key names file, group, key and the nearest" \
  grep -qF "$bad/typo.ini: [cache.typo] Configuration key 'expiraton_time' is not a region setting (did you mean 'expiration_time'?)" <<<"$err_typo"
check "--config: a bad value exits 1" test "$status_value" -eq 1
check "--config: a bad value names file, group and key" \
  grep -qF "$bad/value.ini: [cache.value] Configuration key 'expiration_time': expiration_time is not a number or timedelta. (got 'soon')" <<<"$err_value"
check "--config: a syntax error exits 1" test "$status_syntax" -eq 1
check "--config: a syntax error names its line" \
  grep -qF "$bad/syntax.ini:3: 'expiration_time 60' is neither a [group] nor a key = value line" <<<"$err_syntax"
check "--config: a key given twice exits 1" test "$status_twice" -eq 1
check "--config: a key given twice names both lines" \
  grep -qF "$bad/twice.ini:3: key 'backend' appears twice in [cache.twice] (first on line 2)" <<<"$err_twice"
rm -rf "$bad"

# --- dogpile-cache with a Paste/Pyramid INI and a key prefix ---------------
# configparser syntax GKeyFile refuses (key: value, ; comments, continued
# values, %(name)s from [DEFAULT]); the region is the keys under --prefix.
paste_dir=$(mktemp -d)
trap 'rm -f "$cfg"; rm -rf "$paste_dir"' EXIT
paste=$paste_dir/development.ini
cat >"$paste" <<'INI'
[DEFAULT]
quiet_backend = dogpile.cache.null

[app:main]
use = egg:myapp
pyramid.includes =
    pyramid_tm
; the app's caches
cache.local.backend = dogpile.cache.memory
cache.local.expiration_time: 3600
cache.quiet.backend = %(quiet_backend)s
cache.quiet.expiration_time = None
cache.broken.backend = dogpile.cache.memory
cache.broken.expiration_time = one hour
cache.missing.backend = dogpile.cache.nope

[server:main]
use = egg:waitress#main
INI
check "--prefix: set on the region under the prefix" \
  "$cache" set -c "$paste" -R app:main --prefix cache.local. k v
out=$("$cache" stampede -c "$paste" -R app:main --prefix cache.local. --threads 4 --rounds 2 --creator-ms 5 --json)
check "--prefix cache.local.: its backend" json '
assert d["backend"] == "dogpile.cache.memory" and d["creator_calls"] == 2, d' <<<"$out"
out=$("$cache" stampede -c "$paste" -R app:main --prefix cache.quiet. --threads 4 --rounds 2 --creator-ms 5 --json)
check "--prefix cache.quiet.: a backend named through %(name)s" json '
assert d["backend"] == "dogpile.cache.null" and d["creator_calls"] == 8, d' <<<"$out"
set +e
err_section=$("$cache" get -c "$paste" -R app:other --prefix cache.local. k 2>&1)
status_section=$?
err_nobackend=$("$cache" get -c "$paste" -R app:main --prefix cache.remote. k 2>&1)
status_nobackend=$?
err_expiration=$("$cache" get -c "$paste" -R app:main --prefix cache.broken. k 2>&1)
err_plugin=$("$cache" get -c "$paste" -R app:main --prefix cache.missing. k 2>&1)
err_prefix_alone=$("$cache" get --prefix cache.local. k 2>&1)
status_prefix_alone=$?
err_prefix_mixed=$("$cache" get -c "$paste" -R app:main --prefix cache.local. -e 60 k 2>&1)
err_keyfile=$("$cache" get -c "$paste" -R app:main k 2>&1)
status_keyfile=$?
set -e
check "--prefix: unknown section exits 1" test "$status_section" -eq 1
check "--prefix: unknown section names the file and lists the sections" \
  grep -qF "dogpile-cache get: $paste: no section [app:other] (the file has: app:main, server:main)" <<<"$err_section"
check "--prefix: no backend under the prefix exits 1" test "$status_nobackend" -eq 1
check "--prefix: no backend names file, section, key and prefix" \
  grep -qF "dogpile-cache get: $paste: [app:main] Configuration key 'cache.remote.backend' is missing: it names the backend, e.g. dogpile.cache.memory; no key starts with 'cache.remote.' (keys that name one: cache.broken.backend, cache.local.backend, cache.missing.backend, cache.quiet.backend)" <<<"$err_nobackend"
check "--prefix: a bad expiration time names its key" \
  grep -qF "$paste: [app:main] Configuration key 'cache.broken.expiration_time': expiration_time is not a number or timedelta." <<<"$err_expiration"
check "--prefix: an unknown backend is PluginNotFound" \
  grep -qF "$paste: [app:main] Couldn't find cache plugin to load: dogpile.cache.nope" <<<"$err_plugin"
check "--prefix alone exits 1" test "$status_prefix_alone" -eq 1
check "--prefix alone says what it needs" grep -q -- "--prefix goes with --config and --region" <<<"$err_prefix_alone"
check "--prefix with -e says where the settings come from" \
  grep -qF "come from the cache.local.* keys of [app:main] in $paste" <<<"$err_prefix_mixed"
check "without --prefix the file is still a GKeyFile of regions" test "$status_keyfile" -eq 1
check "without --prefix GKeyFile's syntax error is reported" grep -q "pyramid_tm" <<<"$err_keyfile"

# --- exported symbols ----------------------------------------------------------
lib=$(ls "$build"/core/libdogpile-1.so.* | head -1)
extra=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^dogpile_' || true)
check "libdogpile exports only dogpile_*" test -z "$extra"
for so in "$build"/plugins/*/*.so; do
  extra=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^dogpile_backend_.*_get_desc$' || true)
  check "$(basename "$so") exports only descriptor functions" test -z "$extra"
done

# Backends declare their arguments: a typo is a warning naming the
# nearest one, an error with --strict (or strict_arguments in the file).
strict_dir=$(mktemp -d)
printf '[c]\nbackend = dogpile.cache.memory\narguments.max_entrie = 5\n' > "$strict_dir/typo.ini"
printf '[c]\nbackend = dogpile.cache.memory\nstrict_arguments = true\narguments.max_entrie = 5\n' > "$strict_dir/strict.ini"
set +e
warn=$("$cache" get -b dogpile.cache.memory -a max_entrie=5 k 2>&1)
status_warn=$?
err=$("$cache" get -b dogpile.cache.memory -a max_entrie=5 --strict k 2>&1)
status_err=$?
err_file=$("$cache" get -c "$strict_dir/typo.ini" -R c --strict k 2>&1 >/dev/null)
status_file=$?
err_key=$("$cache" get -c "$strict_dir/strict.ini" -R c k 2>&1 >/dev/null)
status_key=$?
set -e
rm -rf "$strict_dir"
typo="dogpile.cache.memory takes no argument 'max_entrie' (did you mean 'max_entries'?); \`dogpile-plugins dogpile.cache.memory\` lists the arguments it takes"
check "an undeclared argument: a warning, and a miss as usual" test "$status_warn" -eq 3
check "an undeclared argument: the warning names the nearest" grep -qF "$typo (ignored; strict_arguments makes this an error)" <<<"$warn"
check "--strict: an undeclared argument exits 1" test "$status_err" -eq 1
check "--strict: the error names the nearest" test "$err" = "dogpile-cache get: $typo"
check "--strict with --config exits 1 naming the file and group" \
  test "$err_file" = "dogpile-cache get: $strict_dir/typo.ini: [c] $typo"
check "--strict with --config: exit status" test "$status_file" -eq 1
check "strict_arguments in the file exits 1" test "$status_key" -eq 1
check "strict_arguments in the file: the message" grep -qF "$typo" <<<"$err_key"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
