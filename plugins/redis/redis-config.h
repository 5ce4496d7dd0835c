/* redis-config.h: what a Redis / Valkey backend was configured with.
 *
 * Everything dogpile.cache's redis backends accept (spec 3.4) is parsed and
 * validated here, for all three modes, so that the routing of each mode
 * only reads a finished RedisConfig.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <dogpile/dogpile-plugin.h>

G_BEGIN_DECLS

typedef enum {
  REDIS_MODE_SINGLE,   /* one server (dogpile.cache.redis) */
  REDIS_MODE_SENTINEL, /* a master found through sentinels */
  REDIS_MODE_CLUSTER,  /* a Redis Cluster */
} RedisMode;

/* One registered name: the six descriptors differ only in this. */
typedef struct {
  const char *backend_name;        /* "dogpile.cache.redis" */
  const char *product;             /* "Redis" or "Valkey", for messages */
  const char *expiration_argument; /* "redis_expiration_time", ... */
  RedisMode mode;
} RedisVariant;

/* Where a server listens: TCP host and port, or a unix socket path. */
typedef struct {
  char *host; /* NULL for a unix socket */
  guint16 port;
  char *path;    /* unix socket path, or NULL */
  char *display; /* "127.0.0.1:6379", "[::1]:6379" or "/run/redis.sock" */
} RedisEndpoint;

/* How each connection is made and set up. */
typedef struct {
  const char *product;
  char *username;         /* AUTH username password, when set */
  char *password;         /* AUTH [username] password, when set */
  gint64 db;              /* SELECT db, when not 0 */
  double connect_timeout; /* seconds, > 0 */
  double socket_timeout;  /* seconds, > 0: every send and every read */
  gboolean keepalive;     /* SO_KEEPALIVE (redisEnableKeepAlive) */
  gint64 busy_poll_us;    /* spin this long for a reply before sleeping */
} RedisConnectOptions;

#define REDIS_DEFAULT_SOCKET_TIMEOUT 5.0
#define REDIS_DEFAULT_POOL_SIZE 32
#define REDIS_DEFAULT_BUSY_POLL_US 50
#define REDIS_MAX_BUSY_POLL_US 10000
#define REDIS_DEFAULT_LOCK_PREFIX "_lock"
/* seconds; lock_blocking_timeout defaults to twice lock_timeout, at
 * least twice this */
#define REDIS_DEFAULT_LOCK_TIMEOUT 30.0
#define REDIS_DEFAULT_SERVICE_NAME "mymaster"
#define REDIS_DEFAULT_SENTINEL_PORT 26379
#define REDIS_DEFAULT_PORT 6379

typedef struct {
  const RedisVariant *variant;

  /* single mode: the server (url, or host/port, or the unix path) */
  RedisEndpoint endpoint;
  RedisConnectOptions connect;
  guint pool_size; /* connections per server */

  gint64 expiration_time; /* SETEX seconds; 0 writes with SET */

  /* the distributed lock (spec 4.6) */
  gboolean distributed_lock;
  char *lock_prefix;
  double lock_timeout;          /* seconds; 0: the lock key never expires */
  double lock_sleep;            /* seconds between acquire attempts */
  double lock_blocking_timeout; /* seconds; < 0: wait without limit */
  gboolean lock_blocking;       /* accepted; no effect (see docs) */
  gboolean thread_local_lock;   /* accepted; no effect (see docs) */

  /* sentinel mode */
  RedisEndpoint *sentinels;
  guint n_sentinels;
  char *service_name;
  char *sentinel_username;
  char *sentinel_password;
  gboolean read_from_replicas;

  /* cluster mode */
  RedisEndpoint *startup_nodes;
  guint n_startup_nodes;
} RedisConfig;

RedisConfig *redis_config_new (const RedisVariant *variant,
                               GHashTable *arguments, GError **error);
void redis_config_free (RedisConfig *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RedisConfig, redis_config_free)

/* redis-url.c */

/* What a connection URL says; the has_* flags tell which query options it
 * carried, since those override the separate arguments (redis-py's
 * from_url). */
typedef struct {
  RedisEndpoint endpoint;
  char *username;
  char *password;
  gboolean has_db;
  gint64 db;
  gboolean has_socket_timeout;
  double socket_timeout;
  char *socket_timeout_text; /* as given, for the arguments' range check */
  gboolean has_connect_timeout;
  double connect_timeout;
  char *connect_timeout_text;
  gboolean has_keepalive;
  gboolean keepalive;
  gboolean has_max_connections;
  gint64 max_connections;
} RedisUrl;

gboolean redis_url_parse (const char *url, const char *product, RedisUrl *out,
                          GError **error);
void redis_url_clear (RedisUrl *url);

void redis_endpoint_init_tcp (RedisEndpoint *endpoint, const char *host,
                              guint16 port);
void redis_endpoint_init_unix (RedisEndpoint *endpoint, const char *path);
void redis_endpoint_copy (RedisEndpoint *dest, const RedisEndpoint *src);
void redis_endpoint_clear (RedisEndpoint *endpoint);
gboolean redis_endpoint_equal (const RedisEndpoint *a, const RedisEndpoint *b);

/* "host:port", "[v6 address]:port", "host" (default_port) or an absolute
 * unix socket path; @argument names the argument for messages. */
gboolean redis_endpoint_parse (const char *text, guint16 default_port,
                               const char *argument, RedisEndpoint *out,
                               GError **error);

/* lock_prefix must match Python's ^[\w\-\.\:]{2,10}$ */
gboolean redis_lock_prefix_is_valid (const char *prefix);

/* redis-arguments.c: each name's argument table. */
extern const DogpileArgumentSpec redis_arguments_redis_single[];
extern const DogpileArgumentSpec redis_arguments_redis_sentinel[];
extern const DogpileArgumentSpec redis_arguments_redis_cluster[];
extern const DogpileArgumentSpec redis_arguments_valkey_single[];
extern const DogpileArgumentSpec redis_arguments_valkey_sentinel[];
extern const DogpileArgumentSpec redis_arguments_valkey_cluster[];

G_END_DECLS
