/* redis-backend.h: the backend instance of dogpile-redis.c, for tests that
 * drive the operations through a router of their own.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "redis-client.h"

G_BEGIN_DECLS

/* A backend on @client (taken); free it with the descriptor's destroy. */
DogpileBackendImpl *redis_backend_new_for_client (RedisClient *client);

G_END_DECLS
