/* redis-arguments.c: the argument table of each of the six names
 * (dogpile-argument-spec.h), as docs/redis.md describes each argument.
 * The three modes share the connection, expiry and lock arguments;
 * Sentinel and Cluster add their own, and ignore the ones Python ignores
 * there.
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis-config.h"

#define ARG(name, type, flags, default_value, doc)                            \
  DOGPILE_ARGUMENT (name, DOGPILE_ARGUMENT_##type, flags, default_value, doc)
#define NONE DOGPILE_ARGUMENT_FLAGS_NONE
#define C_ONLY DOGPILE_ARGUMENT_C_ONLY
#define IGNORED DOGPILE_ARGUMENT_IGNORED

/* @where: NONE where the mode reads the address arguments, IGNORED where
 * Python ignores them (Sentinel finds the master; Cluster takes
 * startup_nodes or url). */
#define ADDRESS(where, url_where)                                             \
  ARG ("url", STRING, url_where, NULL,                                        \
       "redis://[user[:password]@]host[:port][/db][?option=value], "          \
       "unix://...; overrides host, port, db, username and password"),        \
      ARG ("host", STRING, where, "localhost", "the server's host"),          \
      ARG ("port", INTEGER, where, "6379", "the server's port")

#define COMMON(expiry, lock_default, thread_local_default)                    \
  ARG ("db", INTEGER, NONE, "0", "SELECTed on every new connection"),         \
      ARG ("username", STRING, NONE, NULL, "AUTH user"),                      \
      ARG ("password", STRING, NONE, NULL, "AUTH password"),                  \
      ARG ("socket_timeout", DURATION, NONE, "5 s",                           \
           "the budget of each call after connecting (Python: none)"),        \
      ARG ("socket_connect_timeout", DURATION, NONE, "socket_timeout",        \
           "bound on connecting"),                                            \
      ARG ("socket_keepalive", BOOLEAN, NONE, "false", "SO_KEEPALIVE"),       \
      ARG ("connection_pool_size", INTEGER, C_ONLY, "32",                     \
           "connections per server at most"),                                 \
      ARG ("busy_poll", INTEGER, C_ONLY, "50",                                \
           "microseconds a caller spins for a reply before it sleeps "        \
           "(0 to 10000)"),                                                   \
      ARG (expiry, DURATION, NONE, "0",                                       \
           "when not 0, values are written with SETEX, whole seconds"),       \
      ARG ("distributed_lock", BOOLEAN, NONE, lock_default,                   \
           "the dogpile lock is a Redis lock shared by every process"),       \
      ARG ("lock_timeout", DURATION, NONE, "30 s",                            \
           "the lock's PX: how long a dead holder's lock lasts; none or 0: "  \
           "for ever (Python's default)"),                                    \
      ARG ("lock_sleep", DURATION, NONE, "0.1",                               \
           "seconds between attempts while waiting for the lock"),            \
      ARG ("lock_blocking_timeout", DURATION, NONE,                           \
           "2 x lock_timeout, >= 60 s",                                       \
           "a waiting acquire gives up after this long; none: for ever"),     \
      ARG ("lock_blocking", BOOLEAN, NONE, "true",                            \
           "accepted and checked; no effect, as in Python"),                  \
      ARG ("lock_prefix", STRING, NONE, "_lock",                              \
           "the lock key is lock_prefix + key (2-10 word characters)"),       \
      ARG ("thread_local_lock", BOOLEAN, NONE, thread_local_default,          \
           "accepted and checked (docs/redis.md, Lock)"),                     \
      ARG ("ssl", BOOLEAN, NONE, NULL,                                        \
           "true is refused: hiredis 0.14 has no TLS (use a tunnel)"),        \
      ARG ("connection_pool", STRING, IGNORED, NULL,                          \
           "Python's pool object: a config string cannot carry it"),          \
      ARG ("connection_kwargs", MAPPING, IGNORED, NULL,                       \
           "Python's dict for the client: a config string cannot carry it"),  \
      ARG ("socket_keepalive_options", MAPPING, IGNORED, NULL,                \
           "Python's dict of TCP options: a config string cannot carry it")

#define SENTINEL                                                              \
  ARG ("sentinels", LIST, DOGPILE_ARGUMENT_REQUIRED, NULL,                    \
       "the sentinels, host:port separated by commas or spaces (port "        \
       "26379 when left out)"),                                               \
      ARG ("service_name", STRING, NONE, "mymaster",                          \
           "the master's name at the sentinels"),                             \
      ARG ("sentinel_username", STRING, NONE, "username",                     \
           "the sentinels' AUTH user"),                                       \
      ARG ("sentinel_password", STRING, NONE, "password",                     \
           "the sentinels' AUTH password"),                                   \
      ARG ("read_from_replicas", BOOLEAN, NONE, "false",                      \
           "serve reads from a replica (Python does)"),                       \
      ARG ("sentinel_kwargs", MAPPING, IGNORED, NULL,                         \
           "Python's dict for the sentinels: a config string cannot carry "   \
           "it")

#define CLUSTER                                                               \
  ARG ("startup_nodes", LIST, NONE, NULL,                                     \
       "nodes to learn the cluster from, host:port separated by commas or "   \
       "spaces; or one node as url")

#define TABLES(product, expiry)                                               \
  const DogpileArgumentSpec redis_arguments_##product##_single[] = {          \
    ADDRESS (NONE, NONE),                                                     \
    COMMON (expiry, "false", "true"),                                         \
    DOGPILE_ARGUMENT_SPEC_END,                                                \
  };                                                                          \
  const DogpileArgumentSpec redis_arguments_##product##_sentinel[] = {        \
    ADDRESS (IGNORED, IGNORED),                                               \
    COMMON (expiry, "true", "false"),                                         \
    SENTINEL,                                                                 \
    DOGPILE_ARGUMENT_SPEC_END,                                                \
  };                                                                          \
  const DogpileArgumentSpec redis_arguments_##product##_cluster[] = {         \
    ADDRESS (IGNORED, NONE),                                                  \
    COMMON (expiry, "false", "true"),                                         \
    CLUSTER,                                                                  \
    DOGPILE_ARGUMENT_SPEC_END,                                                \
  }

TABLES (redis, "redis_expiration_time");
TABLES (valkey, "valkey_expiration_time");
