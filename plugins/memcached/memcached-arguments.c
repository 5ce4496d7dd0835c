/* memcached-arguments.c: the argument table the four names share
 * (dogpile-argument-spec.h), as docs/memcached.md describes each
 * argument.  Each name takes every argument, as memcached-config.c reads
 * them all; a default that differs by name says so.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memcached-config.h"

#define ARG(name, type, flags, default_value, doc)                            \
  DOGPILE_ARGUMENT (name, DOGPILE_ARGUMENT_##type, flags, default_value, doc)
#define NONE DOGPILE_ARGUMENT_FLAGS_NONE
#define C_ONLY DOGPILE_ARGUMENT_C_ONLY
#define IGNORED DOGPILE_ARGUMENT_IGNORED

const DogpileArgumentSpec mc_arguments[] = {
  ARG ("url", LIST, DOGPILE_ARGUMENT_REQUIRED, NULL,
       "servers: host:port, [v6]:port or a socket path, separated by commas "
       "or spaces"),
  ARG ("distributed_lock", BOOLEAN, NONE, "false",
       "the dogpile lock is a memcached add shared by every process"),
  ARG ("lock_timeout", DURATION, NONE, "30 s",
       "the lock item's exptime: how long a dead holder's lock lasts; 0 or "
       "none: for ever (Python's default)"),
  ARG ("memcached_expire_time", INTEGER, NONE, "none",
       "every set's exptime, seconds"),
  ARG ("min_compress_len", INTEGER, NONE, "0 (bmemcached: 128)",
       "zlib for values longer than this many bytes"),
  ARG ("binary", BOOLEAN, NONE, "false (bmemcached: true)",
       "libmemcached's binary protocol"),
  ARG ("behaviors", MAPPING, NONE, "{}",
       "libmemcached behaviors, a dict literal: {\"ketama\": True}"),
  DOGPILE_ARGUMENT ("behaviors.", DOGPILE_ARGUMENT_MAPPING,
                    DOGPILE_ARGUMENT_PREFIX, NULL,
                    "one behavior each: behaviors.ketama = true"),
  ARG ("socket_timeout", DURATION, NONE, "by client",
       "libmemcached's connect and poll timeouts: 3 s for memcached and "
       "bmemcached, libmemcached's 4 s connect and 5 s I/O for the others"),
  ARG ("dead_retry", DURATION, NONE, "by client",
       "seconds before a server that failed is tried again: 30 for "
       "memcached, libmemcached's 2 for the others"),
  ARG ("username", STRING, NONE, NULL, "SASL PLAIN user (with password)"),
  ARG ("password", STRING, NONE, NULL, "SASL PLAIN password (with username)"),
  ARG ("tls_context", STRING, NONE, NULL,
       "refused: libmemcached has no TLS (use a tunnel)"),
  ARG ("hashclient_retry_timeout", DURATION, NONE, "1 (pymemcache)",
       "libmemcached's retry_timeout"),
  ARG ("hashclient_retry_attempts", INTEGER, NONE, "2 (pymemcache)",
       "libmemcached's failure_limit"),
  ARG ("hashclient_dead_timeout", DURATION, NONE, "60 (pymemcache)",
       "libmemcached's dead_timeout"),
  ARG ("socket_keepalive", BOOLEAN, NONE, "none",
       "given and not false: TCP keepalive with the kernel's times"),
  ARG ("serde", STRING, IGNORED, NULL,
       "pymemcache's serializer: the value is the region's record"),
  ARG ("default_noreply", BOOLEAN, IGNORED, NULL,
       "every call reads its reply (noreply would break the lock)"),
  ARG ("enable_retry_client", BOOLEAN, IGNORED, NULL,
       "a failed call is reported, not repeated"),
  ARG ("retry_attempts", INTEGER, IGNORED, NULL,
       "pymemcache's retries: a failed call is reported, not repeated"),
  ARG ("retry_delay", DURATION, IGNORED, NULL,
       "pymemcache's retries: a failed call is reported, not repeated"),
  ARG ("retry_for", LIST, IGNORED, NULL,
       "pymemcache's retries: a failed call is reported, not repeated"),
  ARG ("do_not_retry_for", LIST, IGNORED, NULL,
       "pymemcache's retries: a failed call is reported, not repeated"),
  ARG ("key_mangler", CHOICE, C_ONLY, "none",
       "sha1: every key becomes its SHA-1 in hex; sha1_if_needed: only the "
       "keys memcached would refuse"),
  ARG ("pool_size", INTEGER, C_ONLY, "16", "libmemcached handles at most"),
  ARG ("pool_timeout", DURATION, C_ONLY, "10 s",
       "how long a call waits for a free handle"),
  ARG ("call_timeout", DURATION, C_ONLY, "connect + 2 x I/O",
       "the deadline of each call: by default 9 s for memcached and "
       "bmemcached, 14 s for the others"),
  ARG ("lock_blocking_timeout", DURATION, C_ONLY, "2 x lock_timeout, >= 60 s",
       "a blocked acquire gives up after this long; none: for ever"),
  ARG ("lock_sleep_max", DURATION, C_ONLY, "1 s",
       "the longest back-off between two tries of a blocked lock"),
  DOGPILE_ARGUMENT_SPEC_END,
};
