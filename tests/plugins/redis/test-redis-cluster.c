/* test-redis-cluster.c: dogpile.cache.redis_cluster on a real three-master
 * cluster (tests/redis-servers.py --topology cluster), one cluster for the
 * whole program; tests that change it (slot migrations, a killed or
 * stopped node) put it back.
 *
 *  - hash slots as the cluster computes them (CRC16, hash tags);
 *  - keys spread over every master, each on the master of its slot;
 *    multi-key calls split into one command per slot and reassembled in
 *    order (counted on the servers);
 *  - MOVED after a slot migration: followed, the map corrected, the rest
 *    of the map read again; ASK during a migration: followed once,
 *    the map left alone; TRYAGAIN bounded;
 *  - a node killed: its slots fail fast, the others still serve, and the
 *    node is used again when it comes back; a node stopped: its slots
 *    fail within socket_timeout;
 *  - the distributed lock routed by the lock key's slot, its script loaded
 *    on each node that asks;
 *  - startup nodes tried in turn; threads sharing the pools.
 *
 * SPDX-License-Identifier: MIT
 */
#include <signal.h>

#include "redis-lock.h"
#include "redis-router.h"
#include "test-redis-util.h"

#define BACKEND "dogpile.cache.redis_cluster"
#define N_SLOTS 16384

static int node_ports[8];
static int n_nodes;

static void
load_ports (void)
{
  n_nodes = ports_from_env ("REDIS_CLUSTER_PORTS", node_ports, 8);
  cr_assert_eq (n_nodes, 3, "run under redis-servers.py --topology cluster");
}

static guint
slot_of (const char *key)
{
  return redis_cluster_key_slot (key, strlen (key));
}

/* startup_nodes (every master), socket_timeout 1, then name/value pairs. */
static GHashTable *
cluster_arguments (const char *first_name, ...)
{
  g_autofree char *nodes = addresses_from_env ("REDIS_CLUSTER_PORTS");
  GHashTable *table
      = arguments_of ("startup_nodes", nodes, "socket_timeout", "1", NULL);
  va_list ap;

  va_start (ap, first_name);
  arguments_add_valist (table, first_name, ap);
  va_end (ap);
  return table;
}

static DogpileBackend *
cluster_backend (GHashTable *arguments)
{
  return redis_backend_named (BACKEND, arguments);
}

/* Which master serves each slot now (ports), from CLUSTER SLOTS. */
static int *
slot_owners (void)
{
  int *owners = g_new0 (int, N_SLOTS);
  redisContext *c = raw_connect_to (node_ports[0]);
  redisReply *reply = raw_command (c, "CLUSTER SLOTS");

  for (size_t r = 0; r < reply->elements; r++)
    {
      redisReply *range = reply->element[r];

      for (long long s = range->element[0]->integer;
           s <= range->element[1]->integer; s++)
        owners[s] = (int) range->element[2]->element[1]->integer;
    }
  freeReplyObject (reply);
  redisFree (c);
  return owners;
}

/* A key "<stem>:<n>" whose slot the master at @port serves. */
static char *
key_on_node (const int *owners, const char *stem, int port)
{
  for (int n = 0;; n++)
    {
      char *key = g_strdup_printf ("%s:%d", stem, n);

      if (owners[slot_of (key)] == port)
        return key;
      g_free (key);
    }
}

static void
flush_all (void)
{
  for (int i = 0; i < n_nodes; i++)
    {
      redisContext *c = raw_connect_to (node_ports[i]);

      freeReplyObject (raw_command (c, "FLUSHALL"));
      redisFree (c);
    }
}

static long long
dbsize (int port)
{
  redisContext *c = raw_connect_to (port);
  long long n = raw_integer (c, "DBSIZE");

  redisFree (c);
  return n;
}

static long long
total_calls (const char *command)
{
  long long total = 0;

  for (int i = 0; i < n_nodes; i++)
    total += raw_command_calls (node_ports[i], command);
  return total;
}

static char *
raw_get (int port, const char *key)
{
  redisContext *c = raw_connect_to (port);
  redisReply *reply = raw_command (c, "GET %s", key);
  char *value
      = reply->type == REDIS_REPLY_STRING ? g_strdup (reply->str) : NULL;

  freeReplyObject (reply);
  redisFree (c);
  return value;
}

static guint
distinct_slots (char **keys, int n)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);

  for (int i = 0; i < n; i++)
    g_hash_table_add (seen, GUINT_TO_POINTER (slot_of (keys[i]) + 1));
  return g_hash_table_size (seen);
}

/* --- slot migrations, as redis-cli --cluster reshard does them --------- */

static char *
node_id (int port)
{
  redisContext *c = raw_connect_to (port);
  redisReply *reply = raw_command (c, "CLUSTER MYID");
  char *id = g_strdup (reply->str);

  freeReplyObject (reply);
  redisFree (c);
  return id;
}

static void
expect_ok (int port, const char *format, ...)
{
  redisContext *c = raw_connect_to (port);
  redisReply *reply;
  va_list ap;

  va_start (ap, format);
  reply = redisvCommand (c, format, ap);
  va_end (ap);
  cr_assert (reply != NULL && reply->type == REDIS_REPLY_STATUS,
             "on %d: %s: %s", port, format,
             reply != NULL && reply->str != NULL ? reply->str : c->errstr);
  freeReplyObject (reply);
  redisFree (c);
}

/* IMPORTING on @to, MIGRATING on @from: keys still on @from are served
 * there, others get ASK. */
static void
migration_start (int slot, int from, int to)
{
  g_autofree char *from_id = node_id (from);
  g_autofree char *to_id = node_id (to);

  expect_ok (to, "CLUSTER SETSLOT %d IMPORTING %s", slot, from_id);
  expect_ok (from, "CLUSTER SETSLOT %d MIGRATING %s", slot, to_id);
}

/* The slot's remaining keys to @to, then the slot given to @to on every
 * master (the target first, as redis-cli does). */
static void
migration_finish (int slot, int from, int to)
{
  g_autofree char *to_id = node_id (to);
  redisContext *c = raw_connect_to (from);

  for (;;)
    {
      redisReply *keys = raw_command (c, "CLUSTER GETKEYSINSLOT %d 100", slot);
      g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
      g_autofree size_t *argvlen = NULL;
      redisReply *reply;

      if (keys->elements == 0)
        {
          freeReplyObject (keys);
          break;
        }
      g_ptr_array_add (argv, g_strdup ("MIGRATE"));
      g_ptr_array_add (argv, g_strdup ("127.0.0.1"));
      g_ptr_array_add (argv, g_strdup_printf ("%d", to));
      g_ptr_array_add (argv, g_strdup (""));
      g_ptr_array_add (argv, g_strdup ("0"));
      g_ptr_array_add (argv, g_strdup ("5000"));
      g_ptr_array_add (argv, g_strdup ("KEYS"));
      for (size_t i = 0; i < keys->elements; i++)
        g_ptr_array_add (
            argv, g_strndup (keys->element[i]->str, keys->element[i]->len));
      freeReplyObject (keys);
      argvlen = g_new (size_t, argv->len);
      for (guint i = 0; i < argv->len; i++)
        argvlen[i] = strlen (argv->pdata[i]);
      reply = redisCommandArgv (c, (int) argv->len,
                                (const char **) argv->pdata, argvlen);
      cr_assert (reply != NULL && reply->type == REDIS_REPLY_STATUS,
                 "MIGRATE: %s", reply != NULL ? reply->str : c->errstr);
      freeReplyObject (reply);
    }
  redisFree (c);
  expect_ok (to, "CLUSTER SETSLOT %d NODE %s", slot, to_id);
  expect_ok (from, "CLUSTER SETSLOT %d NODE %s", slot, to_id);
  for (int i = 0; i < n_nodes; i++)
    if (node_ports[i] != from && node_ports[i] != to)
      expect_ok (node_ports[i], "CLUSTER SETSLOT %d NODE %s", slot, to_id);
}

static void
move_slot (int slot, int from, int to)
{
  migration_start (slot, from, to);
  migration_finish (slot, from, to);
}

static int
other_node (int port)
{
  for (int i = 0; i < n_nodes; i++)
    if (node_ports[i] != port)
      return node_ports[i];
  return 0;
}

TestSuite (redis_cluster, .init = load_ports, .timeout = 60);

/* --- slots -------------------------------------------------------------- */

Test (redis_cluster, key_slots_as_the_cluster_computes_them)
{
  redisContext *c = raw_connect_to (node_ports[0]);
  const char alphabet[] = "ab{}{}:x\0\xff";
  GRand *rand = g_rand_new_with_seed (1234);

  /* The cluster specification's CRC16 check value. */
  cr_assert_eq (redis_cluster_key_slot ("123456789", 9), 0x31C3);
  cr_assert_eq (slot_of ("{user1000}.following"),
                slot_of ("{user1000}.followers"));
  cr_assert_eq (slot_of ("foo{bar}{zap}"), slot_of ("bar"));
  cr_assert_eq (slot_of ("foo{{bar}}zap"), slot_of ("{bar"));
  cr_assert_eq (slot_of ("foo{}{bar}"),
                (guint) raw_integer (c, "CLUSTER KEYSLOT %s", "foo{}{bar}"),
                "an empty tag hashes the whole key");
  cr_assert_eq (redis_cluster_key_slot ("", 0), 0);

  for (int i = 0; i < 2000; i++)
    {
      char key[24];
      gsize len = (gsize) g_rand_int_range (rand, 0, (gint32) sizeof key);
      guint expected;

      for (gsize j = 0; j < len; j++)
        key[j] = i % 2 == 0 ? alphabet[g_rand_int_range (
                     rand, 0, (gint32) sizeof alphabet - 1)]
                            : (char) g_rand_int_range (rand, 0, 256);
      expected = (guint) raw_integer (c, "CLUSTER KEYSLOT %b", key, len);
      cr_assert_eq (redis_cluster_key_slot (key, len), expected,
                    "key %d (%zu bytes)", i, len);
    }
  g_rand_free (rand);
  redisFree (c);
}

Test (redis_cluster, keys_spread_over_every_master_and_come_back_in_order)
{
  enum { N = 300, READ = 400 };
  g_autoptr (GHashTable) a = cluster_arguments (NULL);
  g_autoptr (DogpileBackend) backend = cluster_backend (a);
  g_autofree int *owners = slot_owners ();
  char *keys[READ];
  GBytes *values[N];
  GBytes *got[READ] = { NULL };
  g_autoptr (GError) error = NULL;
  long long total = 0, mget, del;

  flush_all ();
  for (int i = 0; i < READ; i++)
    keys[i] = g_strdup_printf (i < N ? "spread:%d" : "absent:%d", i);
  for (int i = 0; i < N; i++)
    {
      g_autofree char *text = g_strdup_printf ("value %d %*s", i, i % 50, "");

      values[i] = bytes_of (text);
      if (i < N / 2)
        cr_assert (dogpile_backend_set (backend, keys[i], values[i], NULL));
    }
  cr_assert (dogpile_backend_set_multi (backend,
                                        (const char *const *) keys + N / 2,
                                        values + N / 2, N - N / 2, &error));
  assert_no_error (error);

  for (int i = 0; i < n_nodes; i++)
    {
      long long n = dbsize (node_ports[i]);

      cr_assert_gt (n, N / 10, "master %d holds %lld keys", node_ports[i], n);
      total += n;
    }
  cr_assert_eq (total, N);
  for (int i = 0; i < N; i++)
    {
      g_autofree char *there = raw_get (owners[slot_of (keys[i])], keys[i]);

      cr_assert (there != NULL && bytes_equal (values[i], there),
                 "%s on the master of its slot", keys[i]);
    }

  /* Shuffled with misses: one MGET per slot, values in the caller's
   * order. */
  for (int i = READ - 1; i > 0; i--)
    {
      int j = g_random_int_range (0, i + 1);
      char *k = keys[i];

      keys[i] = keys[j];
      keys[j] = k;
    }
  mget = total_calls ("mget");
  cr_assert (dogpile_backend_get_multi (backend, (const char *const *) keys,
                                        READ, got, &error));
  assert_no_error (error);
  cr_assert_eq (total_calls ("mget") - mget, distinct_slots (keys, READ),
                "one MGET per slot");
  for (int i = 0; i < READ; i++)
    {
      int n = atoi (strchr (keys[i], ':') + 1);

      if (n < N)
        cr_assert (got[i] != NULL && g_bytes_equal (got[i], values[n]),
                   "slot %d: %s", i, keys[i]);
      else
        cr_assert_null (got[i], "%s is a miss", keys[i]);
      g_clear_pointer (&got[i], g_bytes_unref);
    }

  del = total_calls ("del");
  cr_assert (dogpile_backend_delete_multi (backend, (const char *const *) keys,
                                           READ, &error));
  assert_no_error (error);
  cr_assert_eq (total_calls ("del") - del, distinct_slots (keys, READ));
  for (int i = 0; i < n_nodes; i++)
    cr_assert_eq (dbsize (node_ports[i]), 0);
  for (int i = 0; i < READ; i++)
    g_free (keys[i]);
  for (int i = 0; i < N; i++)
    g_bytes_unref (values[i]);
}

Test (redis_cluster, hash_tags_keep_keys_in_one_command)
{
  enum { N = 20 };
  g_autoptr (GHashTable) a = cluster_arguments (NULL);
  g_autoptr (DogpileBackend) backend = cluster_backend (a);
  g_autofree int *owners = slot_owners ();
  int port = owners[slot_of ("user:7")];
  char *keys[N];
  GBytes *values[N];
  GBytes *got[N] = { NULL };
  long long mset, mget;

  flush_all ();
  for (int i = 0; i < N; i++)
    {
      keys[i] = g_strdup_printf ("{user:7}.field%d", i);
      values[i] = bytes_of (keys[i]);
    }
  mset = raw_command_calls (port, "mset");
  mget = raw_command_calls (port, "mget");
  cr_assert (dogpile_backend_set_multi (backend, (const char *const *) keys,
                                        values, N, NULL));
  cr_assert (dogpile_backend_get_multi (backend, (const char *const *) keys, N,
                                        got, NULL));
  cr_assert_eq (raw_command_calls (port, "mset"), mset + 1);
  cr_assert_eq (raw_command_calls (port, "mget"), mget + 1);
  cr_assert_eq (dbsize (port), N);
  for (int i = 0; i < N; i++)
    {
      cr_assert (g_bytes_equal (got[i], values[i]));
      g_bytes_unref (got[i]);
      g_bytes_unref (values[i]);
      g_free (keys[i]);
    }
}

Test (redis_cluster, expiring_set_multi_sends_one_block_per_slot)
{
  enum { N = 40 };
  g_autoptr (GHashTable) a
      = cluster_arguments ("redis_expiration_time", "100", NULL);
  g_autoptr (DogpileBackend) backend = cluster_backend (a);
  g_autofree int *owners = slot_owners ();
  char *keys[N];
  GBytes *values[N];
  g_autoptr (GError) error = NULL;
  long long exec = total_calls ("exec");

  for (int i = 0; i < N; i++)
    {
      keys[i] = g_strdup_printf ("expiring:%d", i);
      values[i] = bytes_of (keys[i]);
    }
  cr_assert (dogpile_backend_set_multi (backend, (const char *const *) keys,
                                        values, N, &error));
  assert_no_error (error);
  cr_assert_eq (total_calls ("exec") - exec, distinct_slots (keys, N),
                "one MULTI/SETEX/EXEC block per slot");
  for (int i = 0; i < N; i++)
    {
      redisContext *c = raw_connect_to (owners[slot_of (keys[i])]);
      long long ttl = raw_integer (c, "TTL %s", keys[i]);

      cr_assert (ttl > 90 && ttl <= 100, "TTL of %s: %lld", keys[i], ttl);
      redisFree (c);
      g_bytes_unref (values[i]);
      g_free (keys[i]);
    }
}

/* --- redirects ---------------------------------------------------------- */

Test (redis_cluster, moved_after_a_migration_corrects_the_map)
{
  g_autoptr (GHashTable) a = cluster_arguments (NULL);
  g_autoptr (DogpileBackend) backend = cluster_backend (a);
  g_autofree int *owners = slot_owners ();
  int from = node_ports[0], to = other_node (from);
  g_autofree char *key = key_on_node (owners, "moving", from);
  g_autofree char *key2 = NULL, *key3 = NULL;
  int slot = (int) slot_of (key), slot2, slot3;
  long long moved, gets;

  /* Two more keys in two more slots of the same master. */
  for (int n = 0; key3 == NULL; n++)
    {
      char *k = g_strdup_printf ("moving-too:%d", n);
      guint s = slot_of (k);

      if (owners[s] != from || (int) s == slot
          || (key2 != NULL && s == slot_of (key2)))
        g_free (k);
      else if (key2 == NULL)
        key2 = k;
      else
        key3 = k;
    }
  slot2 = (int) slot_of (key2);
  slot3 = (int) slot_of (key3);
  set_value (backend, key, "before the move");
  set_value (backend, key2, "two");
  set_value (backend, key3, "three");

  move_slot (slot, from, to);
  moved = raw_error_count (from, "MOVED");
  gets = raw_command_calls (to, "get");
  assert_get (backend, key, "before the move");
  cr_assert_eq (raw_error_count (from, "MOVED"), moved + 1, "one MOVED");
  assert_get (backend, key, "before the move");
  set_value (backend, key, "after the move");
  cr_assert_eq (raw_error_count (from, "MOVED"), moved + 1,
                "the map was corrected: no second MOVED");
  cr_assert_eq (raw_command_calls (to, "get"), gets + 2);
  g_autofree char *there = raw_get (to, key);
  cr_assert_str_eq (there, "after the move");

  /* Two slots move together; a MOVED for the first reads the whole map
   * again (once the refresh interval has passed), so the second is found
   * where it went with no MOVED. */
  move_slot (slot2, from, to);
  move_slot (slot3, from, to);
  g_usleep (200000);
  moved = raw_error_count (from, "MOVED");
  assert_get (backend, key2, "two");
  cr_assert_eq (raw_error_count (from, "MOVED"), moved + 1);
  assert_get (backend, key3, "three");
  cr_assert_eq (raw_error_count (from, "MOVED"), moved + 1,
                "the second slot was learned from the refreshed map");

  move_slot (slot, to, from);
  move_slot (slot2, to, from);
  move_slot (slot3, to, from);
  assert_get (backend, key, "after the move");
}

Test (redis_cluster, ask_during_a_migration_leaves_the_map_alone)
{
  g_autoptr (GHashTable) a = cluster_arguments ("distributed_lock", "true",
                                                "lock_timeout", "10", NULL);
  g_autoptr (DogpileBackend) backend = cluster_backend (a);
  g_autofree int *owners = slot_owners ();
  int slot = (int) slot_of ("{ask}");
  int from = owners[slot], to = other_node (from);
  const char *both[2] = { "{ask}old", "{ask}new" };
  GBytes *got[2] = { NULL, NULL };
  g_autoptr (GError) error = NULL;
  long long asks, moved_on_target;
  g_autoptr (DogpileMutex) mutex = NULL;
  gboolean acquired = FALSE, locked = FALSE;
  redisContext *target = raw_connect_to (to);
  double start;

  flush_all ();
  set_value (backend, "{ask}old", "stays for now");
  migration_start (slot, from, to);
  asks = raw_error_count (from, "ASK");
  moved_on_target = raw_error_count (to, "MOVED");

  /* A key the source does not have goes to the target, after ASKING. */
  set_value (backend, "{ask}new", "imported");
  cr_assert_eq (raw_integer (target, "CLUSTER COUNTKEYSINSLOT %d", slot), 1);
  assert_get (backend, "{ask}new", "imported");
  cr_assert_eq (raw_error_count (from, "ASK"), asks + 2);
  /* A key still on the source is served there: the map still says so. */
  assert_get (backend, "{ask}old", "stays for now");
  cr_assert_eq (raw_error_count (from, "ASK"), asks + 2);
  cr_assert_eq (raw_error_count (to, "MOVED"), moved_on_target,
                "nothing was sent to the target without ASKING");

  /* Keys split between source and target: TRYAGAIN, retried a bounded
   * number of times, then reported. */
  start = monotonic_seconds ();
  cr_assert_not (dogpile_backend_get_multi (backend, both, 2, got, &error));
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (strstr (error->message, "TRYAGAIN") != NULL, "%s",
             error->message);
  cr_assert_lt (monotonic_seconds () - start, 1.0);
  g_clear_error (&error);

  /* The lock in a migrating slot: SET NX, EXISTS and the release script
   * follow the ASK; the target has no script yet (NOSCRIPT), so it gets
   * SCRIPT LOAD, each command after its own ASKING. */
  freeReplyObject (raw_command (target, "SCRIPT FLUSH"));
  mutex = dogpile_backend_get_mutex (backend, "{ask}lock");
  cr_assert (dogpile_mutex_acquire (mutex, FALSE, &acquired, &error)
                 && acquired,
             "%s", error != NULL ? error->message : "");
  cr_assert_eq (raw_integer (target, "CLUSTER COUNTKEYSINSLOT %d", slot), 2);
  cr_assert (dogpile_mutex_locked (mutex, &locked, &error) && locked);
  cr_assert (dogpile_mutex_release (mutex, &error), "%s",
             error != NULL ? error->message : "");
  cr_assert_eq (raw_integer (target, "CLUSTER COUNTKEYSINSLOT %d", slot), 1);

  cr_assert (dogpile_backend_delete (backend, "{ask}new", &error));
  cr_assert_eq (raw_integer (target, "CLUSTER COUNTKEYSINSLOT %d", slot), 0);

  migration_finish (slot, from, to);
  assert_get (backend, "{ask}old", "stays for now");
  move_slot (slot, to, from);
  assert_get (backend, "{ask}old", "stays for now");
  redisFree (target);
}

Test (redis_cluster, a_failed_connection_reads_the_map_again)
{
  g_autoptr (GHashTable) a = cluster_arguments (NULL);
  g_autoptr (DogpileBackend) backend = cluster_backend (a);
  g_autofree int *owners = slot_owners ();
  int from = node_ports[1], to = other_node (from);
  g_autofree char *key = key_on_node (owners, "refreshed", from);
  int slot = (int) slot_of (key);
  redisContext *raw = raw_connect_to (from);
  long long moved;

  set_value (backend, key, "kept");
  move_slot (slot, from, to);
  g_usleep (200000); /* past the refresh interval */
  /* The plugin's pooled connection to the old owner dies: the call is
   * retried, after the map was read again, on the new owner -- with no
   * MOVED (the map is what a failover would change without one). */
  moved = raw_error_count (from, "MOVED");
  freeReplyObject (raw_command (raw, "CLIENT KILL TYPE normal SKIPME yes"));
  assert_get (backend, key, "kept");
  cr_assert_eq (raw_error_count (from, "MOVED"), moved,
                "found through the refreshed map, not a redirect");
  move_slot (slot, to, from);
  assert_get (backend, key, "kept");
  redisFree (raw);
}

/* --- nodes down --------------------------------------------------------- */

static gboolean
port_refuses (gpointer data)
{
  redisContext *c = raw_try_connect_to (GPOINTER_TO_INT (data), 0.2);

  redisFree (c);
  return c == NULL;
}

static gboolean
cluster_ok_everywhere (gpointer data)
{
  for (int i = 0; i < n_nodes; i++)
    {
      redisContext *c = raw_try_connect_to (node_ports[i], 0.5);
      redisReply *reply;
      gboolean ok;

      if (c == NULL)
        return FALSE;
      reply = redisCommand (c, "CLUSTER INFO");
      ok = reply != NULL && reply->type == REDIS_REPLY_STRING
           && strstr (reply->str, "cluster_state:ok") != NULL;
      if (reply != NULL)
        freeReplyObject (reply);
      redisFree (c);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* The get of @key fails with a backend error naming @port, within
 * @bound seconds. */
static void
assert_fails_within (DogpileBackend *backend, const char *key, int port,
                     double bound, const char *fragment)
{
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%d", port);
  double start = monotonic_seconds (), took;

  cr_assert_not (dogpile_backend_get (backend, key, &got, &error));
  took = monotonic_seconds () - start;
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (strstr (error->message, address) != NULL, "%s", error->message);
  cr_assert (strstr (error->message, fragment) != NULL, "%s", error->message);
  cr_assert_lt (took, bound, "failed after %g s: %s", took, error->message);
}

Test (redis_cluster, a_killed_node_fails_its_slots_fast_and_the_others_serve)
{
  g_autoptr (GHashTable) a = cluster_arguments ("socket_timeout", "0.5", NULL);
  g_autoptr (DogpileBackend) backend = cluster_backend (a);
  g_autofree int *owners = slot_owners ();
  int victim = node_ports[n_nodes - 1];
  char *keys[8];
  g_autoptr (GError) error = NULL;

  for (int i = 0; i < n_nodes; i++)
    {
      keys[i] = key_on_node (owners, "killed", node_ports[i]);
      set_value (backend, keys[i], keys[i]);
    }
  cr_assert_eq (kill (redis_server_pid (victim), SIGKILL), 0);
  cr_assert (wait_for (port_refuses, GINT_TO_POINTER (victim), 5));

  for (int round = 0; round < 3; round++)
    {
      /* The first call finds its pooled connection reset; later ones are
       * refused at once. */
      assert_fails_within (backend, keys[n_nodes - 1], victim, 0.5, "");
      for (int i = 0; i < n_nodes - 1; i++)
        assert_get (backend, keys[i], keys[i]);
    }

  redis_server_restart (victim);
  cr_assert (wait_for (cluster_ok_everywhere, NULL, 15), "the node rejoined");
  {
    /* Nothing was saved: a miss, with no reconfiguration. */
    g_autoptr (GBytes) got = NULL;

    cr_assert (dogpile_backend_get (backend, keys[n_nodes - 1], &got, &error),
               "%s", error != NULL ? error->message : "");
    cr_assert_null (got);
  }
  set_value (backend, keys[n_nodes - 1], "back");
  assert_get (backend, keys[n_nodes - 1], "back");
  for (int i = 0; i < n_nodes; i++)
    g_free (keys[i]);
}

Test (redis_cluster, a_silent_node_fails_its_slots_within_socket_timeout)
{
  g_autoptr (GHashTable) a = cluster_arguments ("socket_timeout", "0.3", NULL);
  g_autoptr (DogpileBackend) backend = cluster_backend (a);
  g_autofree int *owners = slot_owners ();
  int victim = node_ports[n_nodes - 1];
  pid_t pid = redis_server_pid (victim);
  char *keys[8];

  for (int i = 0; i < n_nodes; i++)
    {
      keys[i] = key_on_node (owners, "silent", node_ports[i]);
      set_value (backend, keys[i], keys[i]);
    }
  cr_assert_eq (kill (pid, SIGSTOP), 0);
  assert_fails_within (backend, keys[n_nodes - 1], victim, 0.3 + 0.25,
                       "timed out");
  for (int i = 0; i < n_nodes - 1; i++)
    {
      double start = monotonic_seconds ();

      assert_get (backend, keys[i], keys[i]);
      cr_assert_lt (monotonic_seconds () - start, 0.2,
                    "the other masters are not held up");
    }
  assert_fails_within (backend, keys[n_nodes - 1], victim, 0.3 + 0.25,
                       "timed out");
  cr_assert_eq (kill (pid, SIGCONT), 0);
  assert_get (backend, keys[n_nodes - 1], keys[n_nodes - 1]);
  cr_assert (wait_for (cluster_ok_everywhere, NULL, 15));
  for (int i = 0; i < n_nodes; i++)
    g_free (keys[i]);
}

/* --- the distributed lock ----------------------------------------------- */

Test (redis_cluster,
      the_lock_goes_to_its_own_slot_and_loads_the_script_per_node)
{
  g_autoptr (GHashTable) a = cluster_arguments ("distributed_lock", "true",
                                                "lock_timeout", "10", NULL);
  g_autoptr (DogpileBackend) backend = cluster_backend (a);
  g_autofree int *owners = slot_owners ();

  for (int i = 0; i < n_nodes; i++)
    {
      redisContext *c = raw_connect_to (node_ports[i]);

      freeReplyObject (raw_command (c, "SCRIPT FLUSH"));
      redisFree (c);
    }
  for (int i = 0; i < n_nodes; i++)
    {
      g_autofree char *lock_name
          = key_on_node (owners, "_locklocked", node_ports[i]);
      const char *key = lock_name + strlen ("_lock");
      g_autoptr (DogpileMutex) mutex
          = dogpile_backend_get_mutex (backend, key);
      redisContext *owner = raw_connect_to (node_ports[i]);
      g_autoptr (GError) error = NULL;
      gboolean acquired = FALSE;
      redisReply *token, *exists;

      cr_assert (dogpile_mutex_acquire (mutex, TRUE, &acquired, &error)
                     && acquired,
                 "%s", error != NULL ? error->message : "");
      token = raw_command (owner, "GET %s", lock_name);
      cr_assert_eq (token->type, REDIS_REPLY_STRING,
                    "the lock key is on the master of its own slot");
      cr_assert_eq (token->len, 32);
      freeReplyObject (token);
      cr_assert (dogpile_mutex_release (mutex, &error), "%s",
                 error != NULL ? error->message : "");
      cr_assert_eq (raw_integer (owner, "EXISTS %s", lock_name), 0);
      exists
          = raw_command (owner, "SCRIPT EXISTS %s", REDIS_LOCK_RELEASE_SHA1);
      cr_assert_eq (exists->element[0]->integer, 1,
                    "the release script was loaded on %d", node_ports[i]);
      freeReplyObject (exists);
      redisFree (owner);
    }
}

/* --- startup nodes, threads --------------------------------------------- */

Test (redis_cluster, startup_nodes_are_tried_in_turn)
{
  int silent_port;
  int silent = loopback_socket (16, &silent_port);
  int refused = unused_loopback_port ();
  g_autofree char *nodes
      = g_strdup_printf ("127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d", refused,
                         silent_port, node_ports[1]);
  g_autofree char *dead
      = g_strdup_printf ("127.0.0.1:%d 127.0.0.1:%d", refused, silent_port);
  g_autoptr (GHashTable) a
      = cluster_arguments ("startup_nodes", nodes, "socket_timeout", "0.3",
                           "socket_connect_timeout", "0.3", NULL);
  g_autoptr (GHashTable) b = cluster_arguments ("startup_nodes", dead,
                                                "socket_timeout", "0.3", NULL);
  g_autoptr (DogpileBackend) backend = cluster_backend (a);
  g_autoptr (DogpileBackend) hopeless = cluster_backend (b);
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;
  double start = monotonic_seconds (), took;

  /* The refused node costs nothing; the silent one its share of the
   * call's socket_timeout (half of it: two nodes were left to ask), and
   * the third answers within the rest. */
  set_value (backend, "tried-in-turn", "found");
  took = monotonic_seconds () - start;
  cr_assert (took >= 0.14 && took < 0.3 + 0.5,
             "half a socket_timeout on the silent node: %g s", took);
  start = monotonic_seconds ();
  assert_get (backend, "tried-in-turn", "found");
  cr_assert_lt (monotonic_seconds () - start, 0.1, "the map is kept");

  start = monotonic_seconds ();
  cr_assert_not (dogpile_backend_get (hopeless, "k", &got, &error));
  took = monotonic_seconds () - start;
  assert_error (error, DOGPILE_ERROR_BACKEND);
  cr_assert (strstr (error->message, "Connection refused") != NULL, "%s",
             error->message);
  cr_assert (strstr (error->message, "timed out") != NULL, "%s",
             error->message);
  cr_assert_lt (took, 0.3 + 0.3, "%g s", took);
  g_clear_error (&error);
  /* Within the refresh interval the next call gets the same error at
   * once rather than asking the nodes again. */
  start = monotonic_seconds ();
  cr_assert_not (dogpile_backend_get (hopeless, "k", &got, &error));
  cr_assert_lt (monotonic_seconds () - start, 0.05);
  close (silent);
}

typedef struct {
  DogpileBackend *backend;
  int id;
  gint failures;
} Worker;

static gpointer
worker (gpointer data)
{
  Worker *w = data;

  for (int round = 0; round < 100; round++)
    {
      char names[5][48];
      const char *keys[5];
      GBytes *values[5];
      GBytes *got[5] = { NULL };

      for (int k = 0; k < 5; k++)
        {
          g_snprintf (names[k], sizeof names[k], "threads:%d:%d", w->id,
                      (round * 5 + k) % 37);
          keys[k] = names[k];
          values[k] = g_bytes_new (names[k], strlen (names[k]));
        }
      if (!dogpile_backend_set_multi (w->backend, keys, values, 5, NULL)
          || !dogpile_backend_get_multi (w->backend, keys, 5, got, NULL))
        g_atomic_int_inc (&w->failures);
      for (int k = 0; k < 5; k++)
        {
          if (got[k] == NULL || !g_bytes_equal (got[k], values[k]))
            g_atomic_int_inc (&w->failures);
          if (got[k] != NULL)
            g_bytes_unref (got[k]);
          g_bytes_unref (values[k]);
        }
    }
  return NULL;
}

Test (redis_cluster, threads_share_a_pool_per_node)
{
  enum { THREADS = 16 };
  g_autoptr (GHashTable) a
      = cluster_arguments ("connection_pool_size", "2", NULL);
  g_autoptr (DogpileBackend) backend = cluster_backend (a);
  Worker workers[THREADS];
  GThread *threads[THREADS];

  for (int t = 0; t < THREADS; t++)
    {
      workers[t] = (Worker){ backend, t, 0 };
      threads[t] = g_thread_new ("worker", worker, &workers[t]);
    }
  for (int t = 0; t < THREADS; t++)
    {
      g_thread_join (threads[t]);
      cr_assert_eq (workers[t].failures, 0, "thread %d", t);
    }
}
