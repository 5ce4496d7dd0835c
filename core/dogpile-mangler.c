/* dogpile-mangler.c: sha1_mangle_key and length_conditional_mangler.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

/**
 * dogpile_sha1_mangle_key:
 * @key: a key; borrowed
 * @user_data: ignored
 *
 * dogpile.cache's sha1_mangle_key: turns any key into 40 hex digits, which
 * suits memcached's key rules.  A #DogpileKeyMangler.
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): the SHA-1 of @key's bytes (its UTF-8) in
 *   lowercase hex
 */
char *
dogpile_sha1_mangle_key (const char *key, gpointer user_data)
{
  g_return_val_if_fail (key != NULL, NULL);

  return g_compute_checksum_for_string (G_CHECKSUM_SHA1, key, -1);
}

struct DogpileLengthConditionalMangler {
  guint length;
  DogpileKeyMangler mangler;
  gpointer user_data;
  GDestroyNotify destroy;
};

/**
 * dogpile_length_conditional_mangler_new:
 * @length: keys of at least this many characters are mangled
 * @mangler: (scope notified): the mangler to apply to them
 * @user_data: (closure): passed to @mangler
 * @destroy: (nullable): frees @user_data with the object
 *
 * dogpile.cache's length_conditional_mangler(length, mangler), for use as
 * `dogpile_region_set_key_mangler (region, dogpile_length_conditional_mangle,
 * m, (GDestroyNotify) dogpile_length_conditional_mangler_free)`.
 *
 * Thread safety: any thread.
 *
 * Returns: (transfer full): the mangler's state; free it with
 *   dogpile_length_conditional_mangler_free()
 */
DogpileLengthConditionalMangler *
dogpile_length_conditional_mangler_new (guint length,
                                        DogpileKeyMangler mangler,
                                        gpointer user_data,
                                        GDestroyNotify destroy)
{
  DogpileLengthConditionalMangler *self;

  g_return_val_if_fail (mangler != NULL, NULL);

  self = g_new0 (DogpileLengthConditionalMangler, 1);
  self->length = length;
  self->mangler = mangler;
  self->user_data = user_data;
  self->destroy = destroy;
  return self;
}

/**
 * dogpile_length_conditional_mangler_free:
 * @self: (transfer full): the mangler's state
 *
 * Frees @self and its mangler's user data (with the destroy notify given
 * to dogpile_length_conditional_mangler_new()).
 *
 * Thread safety: any thread, once no dogpile_length_conditional_mangle()
 * call on @self can be in progress (a region given it as its mangler's
 * destroy notify frees it with the region).
 */
void
dogpile_length_conditional_mangler_free (DogpileLengthConditionalMangler *self)
{
  g_return_if_fail (self != NULL);

  if (self->destroy != NULL)
    self->destroy (self->user_data);
  g_free (self);
}

/**
 * dogpile_length_conditional_mangle:
 * @key: a key; borrowed
 * @user_data: a #DogpileLengthConditionalMangler
 *
 * The #DogpileKeyMangler of a #DogpileLengthConditionalMangler: applies its
 * mangler to @key when @key has at least its length.  Lengths count
 * characters (code points), as Python's len() does; a key that is not
 * valid UTF-8 counts bytes.
 *
 * Thread safety: any thread, concurrently with any other call on the same
 * mangler state (when its mangler allows it, as the shipped ones do).
 *
 * Returns: (transfer full): the mangled key, or a copy of @key when it is
 *   shorter than the threshold
 */
char *
dogpile_length_conditional_mangle (const char *key, gpointer user_data)
{
  DogpileLengthConditionalMangler *self = user_data;
  glong length;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (self != NULL, NULL);

  length = g_utf8_validate (key, -1, NULL) ? g_utf8_strlen (key, -1)
                                           : (glong) strlen (key);
  if ((guint) length >= self->length)
    return self->mangler (key, self->user_data);
  return g_strdup (key);
}
