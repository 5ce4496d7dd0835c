/* fuzz-json.c: JSON text (dogpile_json_loads, plain and tagged, and
 * dogpile_json_validate) on any bytes.
 *
 * Invariants besides not crashing:
 *  - the validator and the plain reader agree on what is JSON;
 *  - what reads writes (plain JSON writes what plain JSON read), reads
 *    back as the same value and writes the same text again;
 *  - plain and tagged reading agree on text that holds no "$" (no tag,
 *    not even in a value a later equal key replaces);
 *  - every error has a UTF-8 message.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz-common.h"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY(name) LLVMFuzzerTestOneInput
#endif

/* The text @value writes as, checked to read back the same. */
static char *
json_check_round_trip (GVariant *value, DogpileJsonFlags flags)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *again = NULL;
  g_autoptr (GVariant) back = NULL;
  gsize len, again_len;

  text = dogpile_json_dumps (value, flags, &len, &error);
  fuzz_assert (text != NULL, "JSON read (flags %d) does not write: %s", flags,
               error->message);
  fuzz_assert (strlen (text) == len, "written JSON has a NUL byte");
  back = dogpile_json_loads (text, len, flags, &error);
  fuzz_assert (back != NULL, "written JSON does not read back: %s: %s",
               error->message, text);
  fuzz_assert (g_variant_equal (back, value),
               "written JSON reads back as another value: %s", text);
  again = dogpile_json_dumps (back, flags, &again_len, &error);
  fuzz_assert (again != NULL && strcmp (again, text) == 0,
               "JSON written twice differs: %s then %s", text,
               again != NULL ? again : error->message);
  return g_steal_pointer (&text);
}

int
FUZZ_ENTRY (json) (const guint8 *data, size_t size)
{
  const char *text = (const char *) data;
  g_autoptr (GError) plain_error = NULL;
  g_autoptr (GError) tagged_error = NULL;
  g_autoptr (GError) validate_error = NULL;
  g_autoptr (GVariant) plain = NULL;
  g_autoptr (GVariant) tagged = NULL;
  gboolean valid;

  fuzz_setup_logging ();
  plain = dogpile_json_loads (text, size, DOGPILE_JSON_NONE, &plain_error);
  tagged = dogpile_json_loads (text, size, DOGPILE_JSON_TAGGED, &tagged_error);
  valid = dogpile_json_validate (text, size, &validate_error);

  /* The validator says what json.loads takes; the reader also needs the
   * value to fit GVariant's nesting limit, which a dict of a tag's name
   * ({"$tuple": ...} in plain JSON, a tagged dict) reaches sooner. */
  fuzz_assert (valid == (plain != NULL)
                   || (valid
                       && strstr (plain_error->message,
                                  "nests deeper than GVariant's limit")
                              != NULL),
               "dogpile_json_validate says %s, dogpile_json_loads %s",
               valid ? "valid" : validate_error->message,
               plain != NULL ? "reads it" : plain_error->message);
  if (!valid)
    fuzz_check_error (validate_error, "dogpile_json_validate");
  if (plain == NULL)
    fuzz_check_error (plain_error, "dogpile_json_loads");
  if (tagged == NULL)
    fuzz_check_error (tagged_error, "dogpile_json_loads (tagged)");

  if (plain != NULL)
    g_free (json_check_round_trip (plain, DOGPILE_JSON_NONE));
  if (tagged != NULL)
    g_free (json_check_round_trip (tagged, DOGPILE_JSON_TAGGED));

  /* No "$" anywhere in the text, nor a \u0024 that spells one: no tag,
   * so the same value. */
  if (plain != NULL && memchr (data, '$', size) == NULL
      && g_strstr_len (text, (gssize) size, "u0024") == NULL)
    {
      fuzz_assert (tagged != NULL, "plain JSON reads, tagged does not: %s",
                   tagged_error->message);
      fuzz_assert (g_variant_equal (plain, tagged),
                   "plain and tagged JSON read text without tags apart");
    }
  return 0;
}
