/* memcached-behaviors.c: pylibmc's `behaviors`, for libmemcached.
 *
 * pylibmc hands its behaviors to the libmemcached both use, so a C client
 * with the same behaviors picks the same server for every key.  Names are
 * pylibmc's (ketama, remove_failed, receive_timeout, ...) or libmemcached's
 * (MEMCACHED_BEHAVIOR_KETAMA, or without the prefix, any case); values
 * are libmemcached's numbers in its units (milliseconds for
 * connect_timeout and _poll_timeout, microseconds for receive_timeout and
 * send_timeout, seconds for retry_timeout and dead_timeout), booleans, or
 * for hash, ketama_hash and distribution pylibmc's names ("md5",
 * "consistent ketama") or libmemcached's (MEMCACHED_HASH_MD5).
 *
 * pylibmc sets behaviors in the order of its own table, whatever the order
 * of the dict: ketama after hash, distribution after ketama.  So do we,
 * since ketama and distribution overwrite what hash set.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memcached-behaviors.h"

#include <errno.h>
#include <stdlib.h>

typedef enum { VALUE_NUMBER, VALUE_HASH, VALUE_DISTRIBUTION } ValueKind;

typedef struct {
  const char *name; /* pylibmc's */
  memcached_behavior_t behavior;
} PylibmcName;

/* pylibmc 1.6's table, in its order (pylibmc applies them in it). */
static const PylibmcName pylibmc_names[] = {
  { "no_block", MEMCACHED_BEHAVIOR_NO_BLOCK },
  { "tcp_nodelay", MEMCACHED_BEHAVIOR_TCP_NODELAY },
  { "tcp_keepalive", MEMCACHED_BEHAVIOR_TCP_KEEPALIVE },
  { "hash", MEMCACHED_BEHAVIOR_HASH },
  { "ketama_hash", MEMCACHED_BEHAVIOR_KETAMA_HASH },
  { "ketama", MEMCACHED_BEHAVIOR_KETAMA },
  { "ketama_weighted", MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED },
  { "distribution", MEMCACHED_BEHAVIOR_DISTRIBUTION },
  { "cas", MEMCACHED_BEHAVIOR_SUPPORT_CAS },
  { "buffer_requests", MEMCACHED_BEHAVIOR_BUFFER_REQUESTS },
  { "verify_keys", MEMCACHED_BEHAVIOR_VERIFY_KEY },
  { "connect_timeout", MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT },
  { "send_timeout", MEMCACHED_BEHAVIOR_SND_TIMEOUT },
  { "receive_timeout", MEMCACHED_BEHAVIOR_RCV_TIMEOUT },
  { "num_replicas", MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS },
  { "auto_eject", MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS },
  { "retry_timeout", MEMCACHED_BEHAVIOR_RETRY_TIMEOUT },
  { "_retry_timeout", MEMCACHED_BEHAVIOR_RETRY_TIMEOUT },
  { "remove_failed", MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS },
  { "failure_limit", MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT },
  { "_io_msg_watermark", MEMCACHED_BEHAVIOR_IO_MSG_WATERMARK },
  { "_io_bytes_watermark", MEMCACHED_BEHAVIOR_IO_BYTES_WATERMARK },
  { "_io_key_prefetch", MEMCACHED_BEHAVIOR_IO_KEY_PREFETCH },
  { "_hash_with_prefix_key", MEMCACHED_BEHAVIOR_HASH_WITH_PREFIX_KEY },
  { "_noreply", MEMCACHED_BEHAVIOR_NOREPLY },
  { "_sort_hosts", MEMCACHED_BEHAVIOR_SORT_HOSTS },
  { "_poll_timeout", MEMCACHED_BEHAVIOR_POLL_TIMEOUT },
  { "_socket_send_size", MEMCACHED_BEHAVIOR_SOCKET_SEND_SIZE },
  { "_socket_recv_size", MEMCACHED_BEHAVIOR_SOCKET_RECV_SIZE },
  { "dead_timeout", MEMCACHED_BEHAVIOR_DEAD_TIMEOUT },
};

/* pylibmc's names for hashes and distributions; their index is
 * libmemcached's value. */
static const char *const hash_names[]
    = { "default",  "md5",   "crc",    "fnv1_64", "fnv1a_64", "fnv1_32",
        "fnv1a_32", "hsieh", "murmur", "jenkins", NULL };
static const char *const distribution_names[] = { "modula",
                                                  "consistent",
                                                  "consistent ketama",
                                                  "random",
                                                  "consistent ketama spy",
                                                  "consistent weighted",
                                                  "virtual bucket",
                                                  NULL };

/* Behaviors that would make a call report success for a reply never read
 * (buffered or unacknowledged writes, UDP), or that are not behaviors of
 * a connection at all. */
static gboolean
is_owned (memcached_behavior_t behavior)
{
  switch (behavior)
    {
    case MEMCACHED_BEHAVIOR_BUFFER_REQUESTS:
    case MEMCACHED_BEHAVIOR_NOREPLY:
    case MEMCACHED_BEHAVIOR_USE_UDP:
    case MEMCACHED_BEHAVIOR_CORK:
    case MEMCACHED_BEHAVIOR_USER_DATA:
    case MEMCACHED_BEHAVIOR_LOAD_FROM_FILE: return TRUE;
    default: return FALSE;
    }
}

gboolean
mc_behavior_moves_keys (memcached_behavior_t behavior)
{
  switch (behavior)
    {
    case MEMCACHED_BEHAVIOR_HASH:
    case MEMCACHED_BEHAVIOR_KETAMA:
    case MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED:
    case MEMCACHED_BEHAVIOR_KETAMA_HASH:
    case MEMCACHED_BEHAVIOR_DISTRIBUTION:
    case MEMCACHED_BEHAVIOR_SORT_HOSTS:
    case MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS:
    case MEMCACHED_BEHAVIOR_RANDOMIZE_REPLICA_READ:
    case MEMCACHED_BEHAVIOR_HASH_WITH_PREFIX_KEY: return TRUE;
    default: return FALSE;
    }
}

/* @behavior's place in pylibmc's table; past its end when pylibmc has no
 * name for it. */
static guint
pylibmc_index (memcached_behavior_t behavior)
{
  guint i = 0;

  while (i < G_N_ELEMENTS (pylibmc_names)
         && pylibmc_names[i].behavior != behavior)
    i++;
  return i;
}

const char *
mc_behavior_name (memcached_behavior_t behavior)
{
  guint i = pylibmc_index (behavior);

  return i < G_N_ELEMENTS (pylibmc_names)
             ? pylibmc_names[i].name
             : libmemcached_string_behavior (behavior);
}

static ValueKind
value_kind (memcached_behavior_t behavior)
{
  switch (behavior)
    {
    case MEMCACHED_BEHAVIOR_HASH:
    case MEMCACHED_BEHAVIOR_KETAMA_HASH: return VALUE_HASH;
    case MEMCACHED_BEHAVIOR_DISTRIBUTION: return VALUE_DISTRIBUTION;
    default: return VALUE_NUMBER;
    }
}

/* The behavior @name names, and its rank in pylibmc's order (names
 * libmemcached has and pylibmc has not come after all of pylibmc's). */
static gboolean
lookup (const char *name, memcached_behavior_t *out_behavior, guint *out_rank)
{
  const char *bare = name;

  for (gsize i = 0; i < G_N_ELEMENTS (pylibmc_names); i++)
    if (strcmp (pylibmc_names[i].name, name) == 0)
      {
        *out_behavior = pylibmc_names[i].behavior;
        *out_rank = (guint) i;
        return TRUE;
      }
  if (g_ascii_strncasecmp (bare, "MEMCACHED_BEHAVIOR_", 19) == 0)
    bare += 19;
  for (int b = 0; b < MEMCACHED_BEHAVIOR_MAX; b++)
    {
      const char *full
          = libmemcached_string_behavior ((memcached_behavior_t) b);

      if (full != NULL && g_str_has_prefix (full, "MEMCACHED_BEHAVIOR_")
          && g_ascii_strcasecmp (full + 19, bare) == 0)
        {
          *out_behavior = (memcached_behavior_t) b;
          *out_rank = pylibmc_index (*out_behavior);
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
parse_named (const char *text, const char *const *names,
             const char *(*libmemcached_name) (int), guint64 *out_value)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (g_ascii_strcasecmp (names[i], text) == 0)
      {
        *out_value = i;
        return TRUE;
      }
  for (int i = 0; i < 32; i++)
    {
      const char *full = libmemcached_name (i);

      if (full != NULL && g_ascii_strcasecmp (full, text) == 0)
        {
          *out_value = (guint64) i;
          return TRUE;
        }
    }
  return FALSE;
}

static const char *
hash_string (int i)
{
  return i < MEMCACHED_HASH_MAX
             ? libmemcached_string_hash ((memcached_hash_t) i)
             : NULL;
}

static const char *
distribution_string (int i)
{
  return i < MEMCACHED_DISTRIBUTION_CONSISTENT_MAX
             ? libmemcached_string_distribution (
                 (memcached_server_distribution_t) i)
             : NULL;
}

static gboolean
parse_value (const char *name, memcached_behavior_t behavior, const char *text,
             guint64 *out_value, GError **error)
{
  ValueKind kind = value_kind (behavior);
  char *end = NULL;
  gint64 number;

  if (g_ascii_strcasecmp (text, "true") == 0)
    return *out_value = 1, TRUE;
  if (g_ascii_strcasecmp (text, "false") == 0)
    return *out_value = 0, TRUE;
  if (kind == VALUE_HASH
      && parse_named (text, hash_names, hash_string, out_value))
    return TRUE;
  if (kind == VALUE_DISTRIBUTION
      && parse_named (text, distribution_names, distribution_string,
                      out_value))
    return TRUE;
  errno = 0;
  number = g_ascii_strtoll (text, &end, 10);
  if (*text != '\0' && *end == '\0' && errno == 0 && number >= 0
      && number <= G_MAXINT32)
    {
      if ((kind == VALUE_HASH && number >= MEMCACHED_HASH_MAX)
          || (kind == VALUE_DISTRIBUTION
              && number >= MEMCACHED_DISTRIBUTION_CONSISTENT_MAX))
        goto bad;
      *out_value = (guint64) number;
      return TRUE;
    }
bad:
  g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
               "behaviors: %s must be %s, not '%s'", name,
               kind == VALUE_HASH ? "a hash name (default, md5, crc, fnv1_64, "
                                    "fnv1a_64, fnv1_32, fnv1a_32, hsieh, "
                                    "murmur, jenkins)"
               : kind == VALUE_DISTRIBUTION
                   ? "a distribution name (modula, consistent, consistent "
                     "ketama, random, consistent ketama spy, consistent "
                     "weighted, virtual bucket)"
                   : "true, false or a whole number from 0 to 2147483647",
               text);
  return FALSE;
}

typedef struct {
  McBehavior behavior;
  guint rank;
  guint position;
} Ranked;

static gint
by_rank (gconstpointer a, gconstpointer b)
{
  const Ranked *x = a, *y = b;

  if (x->rank != y->rank)
    return x->rank < y->rank ? -1 : 1;
  return x->position < y->position ? -1 : x->position > y->position;
}

static char *
unquote (const char *text)
{
  g_autofree char *s = g_strstrip (g_strdup (text));
  gsize len = strlen (s);

  if (len >= 2 && (s[0] == '"' || s[0] == '\'') && s[len - 1] == s[0])
    return g_strndup (s + 1, len - 2);
  return g_steal_pointer (&s);
}

static gboolean
add_one (GArray *ranked, const char *raw_name, const char *raw_value,
         GError **error)
{
  g_autofree char *name = unquote (raw_name);
  g_autofree char *value = unquote (raw_value);
  Ranked r = { { 0, 0 }, 0, ranked->len };

  if (strcmp (name, "pickle_protocol") == 0)
    return TRUE; /* pylibmc's own pickling: nothing here pickles */
  if (!lookup (name, &r.behavior.behavior, &r.rank))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "behaviors: unknown behavior '%s' (pylibmc's names, such "
                   "as ketama, tcp_nodelay, remove_failed, or libmemcached's "
                   "MEMCACHED_BEHAVIOR_* names)",
                   name);
      return FALSE;
    }
  if (is_owned (r.behavior.behavior))
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                   "behaviors: %s cannot be set: the plugin must read the "
                   "reply of every command it sends (set_multi and "
                   "delete_multi are pipelined already)",
                   name);
      return FALSE;
    }
  if (!parse_value (name, r.behavior.behavior, value, &r.behavior.value,
                    error))
    return FALSE;
  g_array_append_val (ranked, r);
  return TRUE;
}

/* {"a": 1, 'b': True} or a=1, b=true */
static gboolean
parse_dict (const char *text, GArray *ranked, GError **error)
{
  g_autofree char *body = g_strstrip (g_strdup (text));
  gsize len = strlen (body);
  g_auto (GStrv) items = NULL;

  if (len >= 2 && body[0] == '{' && body[len - 1] == '}')
    {
      body[len - 1] = '\0';
      memmove (body, body + 1, len - 1);
    }
  items = g_strsplit (body, ",", -1);
  for (char **item = items; *item != NULL; item++)
    {
      char *sep;

      if (*g_strstrip (*item) == '\0')
        continue;
      sep = strpbrk (*item, ":=");
      if (sep == NULL)
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "behaviors: '%s' is not name: value (write "
                       "behaviors as {\"ketama\": true, \"tcp_nodelay\": 1})",
                       *item);
          return FALSE;
        }
      *sep = '\0';
      if (!add_one (ranked, *item, sep + 1, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
mc_behaviors_parse (GHashTable *arguments, GArray **out_behaviors,
                    GError **error)
{
  g_autoptr (GArray) ranked = g_array_new (FALSE, FALSE, sizeof (Ranked));
  g_autoptr (GArray) result = g_array_new (FALSE, FALSE, sizeof (McBehavior));
  const char *dict = NULL;

  if (!dogpile_arguments_get_string (arguments, "behaviors", NULL, &dict,
                                     error))
    return FALSE;
  if (dict != NULL && !parse_dict (dict, ranked, error))
    return FALSE;
  if (arguments != NULL)
    {
      g_autoptr (GList) names = g_hash_table_get_keys (arguments);

      names = g_list_sort (names, (GCompareFunc) strcmp);
      for (GList *l = names; l != NULL; l = l->next)
        {
          const char *key = l->data;

          if (g_str_has_prefix (key, "behaviors.")
              && dogpile_arguments_has (arguments, key)
              && !add_one (ranked, key + 10,
                           g_hash_table_lookup (arguments, key), error))
            return FALSE;
        }
    }
  g_array_sort (ranked, by_rank);
  for (guint i = 0; i < ranked->len; i++)
    g_array_append_val (result, g_array_index (ranked, Ranked, i).behavior);
  *out_behaviors = g_steal_pointer (&result);
  return TRUE;
}

gboolean
mc_behaviors_apply (memcached_st *memc, GArray *behaviors, GError **error)
{
  for (guint i = 0; i < behaviors->len; i++)
    {
      const McBehavior *b = &g_array_index (behaviors, McBehavior, i);
      memcached_return_t rc
          = memcached_behavior_set (memc, b->behavior, b->value);

      if (!memcached_success (rc))
        {
          g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION,
                       "behaviors: %s = %" G_GUINT64_FORMAT
                       " is refused by libmemcached: %s",
                       mc_behavior_name (b->behavior), b->value,
                       memcached_strerror (memc, rc));
          return FALSE;
        }
    }
  return TRUE;
}
