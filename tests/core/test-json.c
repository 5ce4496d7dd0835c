/* test-json.c: the JSON codec against Debian's CPython json module, in
 * the same run (tests/core/json-peer.py): texts read and written back as
 * json.dumps(json.loads(text)) writes them; the texts json.loads refuses,
 * refused; every pickle test value written as json.dumps writes it (or
 * refused where json.dumps raises); the tagged form carries every value
 * there and back.
 *
 * SPDX-License-Identifier: MIT
 */
#include <criterion/criterion.h>
#include <dogpile/dogpile.h>
#include <string.h>

#include "test-util.h"

#define PEER TEST_SOURCE_DIR "/json-peer.py"

static GStrv
peer_lines (const char *mode)
{
  g_autofree char *out = python_helper (
      PEER, mode, strcmp (mode, "values") == 0 ? TEST_SOURCE_DIR : NULL, NULL);

  g_strchomp (out);
  return g_strsplit (out, "\n", -1);
}

static void
assert_text (const char *got, gsize got_len, GBytes *want, const char *what)
{
  gsize want_len;
  const char *w = g_bytes_get_data (want, &want_len);

  cr_assert (got_len == want_len && memcmp (got, w, want_len) == 0,
             "%s: wrote '%s', Python wrote '%.*s'", what, got, (int) want_len,
             w);
}

Test (json, python_texts_read_and_write_as_python)
{
  g_auto (GStrv) lines = peer_lines ("texts");

  cr_assert_gt (g_strv_length (lines), 30);
  for (char **line = lines; *line != NULL; line++)
    {
      g_auto (GStrv) f = g_strsplit (*line, " ", 3);
      g_autoptr (GBytes) text = bytes_from_hex (f[1]),
                         want = bytes_from_hex (f[2]);
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) value = NULL;
      g_autofree char *out = NULL;
      gsize len, out_len;
      const char *data = g_bytes_get_data (text, &len);

      value = dogpile_json_loads (data, len, DOGPILE_JSON_NONE, &error);
      cr_assert_not_null (value, "%s: %s", f[0], error->message);
      out = dogpile_json_dumps (value, DOGPILE_JSON_NONE, &out_len, &error);
      cr_assert_not_null (out, "%s: %s", f[0], error->message);
      assert_text (out, out_len, want, f[0]);
      cr_assert (dogpile_json_validate (data, len, NULL), "%s", f[0]);
    }
}

Test (json, what_python_refuses_is_refused_with_where)
{
  g_auto (GStrv) lines = peer_lines ("bad");

  cr_assert_gt (g_strv_length (lines), 30);
  for (char **line = lines; *line != NULL; line++)
    {
      g_autoptr (GBytes) text
          = bytes_from_hex (strcmp (*line, "-") == 0 ? "" : *line);
      g_autoptr (GError) error = NULL, verror = NULL;
      g_autoptr (GVariant) value = NULL;
      gsize len;
      const char *data = g_bytes_get_data (text, &len);

      value = dogpile_json_loads (data != NULL ? data : "", len,
                                  DOGPILE_JSON_NONE, &error);
      cr_assert_null (value, "'%.40s' was read", data);
      cr_assert (g_error_matches (error, DOGPILE_ERROR,
                                  DOGPILE_ERROR_CANT_DESERIALIZE),
                 "'%.40s': %s", data, error->message);
      cr_assert (strstr (error->message, "line 1 column ") != NULL,
                 "'%.40s': %s", data, error->message);
      cr_assert_not (
          dogpile_json_validate (data != NULL ? data : "", len, &verror));
      cr_assert (
          g_error_matches (verror, DOGPILE_ERROR, DOGPILE_ERROR_VALIDATION));
    }
}

Test (json, messages_say_what_and_where)
{
  g_autoptr (GError) error = NULL;
  const char *text = "{\"a\": 1,\n \"b\" 2}";

  cr_assert_null (
      dogpile_json_loads (text, strlen (text), DOGPILE_JSON_NONE, &error));
  cr_assert_str_eq (error->message,
                    "Cannot read JSON: Expecting ':' delimiter: line 2 "
                    "column 6 (char 14)");
}

Test (json, every_pickle_value_writes_as_python_or_is_refused)
{
  g_auto (GStrv) lines = peer_lines ("values");
  guint written = 0, refused = 0;

  cr_assert_gt (g_strv_length (lines), 50);
  for (char **line = lines; *line != NULL; line++)
    {
      g_auto (GStrv) f = g_strsplit (*line, " ", 3);
      g_autoptr (GBytes) pickle = bytes_from_hex (f[1]);
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) value = dogpile_pickle_loads (pickle, &error);
      g_autofree char *out = NULL;
      gsize out_len;

      cr_assert_not_null (value, "%s: %s", f[0], error->message);
      out = dogpile_json_dumps (value, DOGPILE_JSON_NONE, &out_len, &error);
      if (strcmp (f[2], "-") == 0)
        {
          cr_assert_null (out, "%s: Python refuses it; we wrote '%.60s'", f[0],
                          out);
          cr_assert (g_error_matches (error, DOGPILE_ERROR,
                                      DOGPILE_ERROR_VALIDATION));
          cr_assert (strstr (error->message, "Cannot write JSON: ") != NULL);
          refused++;
        }
      else
        {
          g_autoptr (GBytes) want = bytes_from_hex (f[2]);

          cr_assert_not_null (out, "%s: %s", f[0], error->message);
          assert_text (out, out_len, want, f[0]);
          written++;
        }
    }
  cr_assert_gt (written, 30);
  cr_assert_gt (refused, 5);
}

/* Tagged JSON (what dogpile-cache prints for a pickled value) carries
 * every value there and back: the same pickle bytes after. */
Test (json, tagged_form_round_trips_every_pickle_value)
{
  g_auto (GStrv) lines = peer_lines ("values");

  for (char **line = lines; *line != NULL; line++)
    {
      g_auto (GStrv) f = g_strsplit (*line, " ", 3);
      g_autoptr (GBytes) pickle = bytes_from_hex (f[1]), again = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) value = dogpile_pickle_loads (pickle, &error);
      g_autoptr (GVariant) back = NULL;
      g_autofree char *text = NULL;
      gsize len;

      cr_assert_not_null (value, "%s: %s", f[0], error->message);
      text = dogpile_json_dumps (value, DOGPILE_JSON_TAGGED, &len, &error);
      cr_assert_not_null (text, "%s: %s", f[0], error->message);
      back = dogpile_json_loads (text, len, DOGPILE_JSON_TAGGED, &error);
      cr_assert_not_null (back, "%s: '%s': %s", f[0], text, error->message);
      again = dogpile_pickle_dumps (back, &error);
      cr_assert_not_null (again, "%s: %s", f[0], error->message);
      cr_assert (g_bytes_equal (again, pickle),
                 "%s: '%s' reads back as "
                 "another value",
                 f[0], text);
    }
}

Test (json, tags)
{
  static const struct {
    const char *text, *tagged;
  } cases[] = {
    { "{\"$bytes\": \"AAF8/w==\"}", "{\"$bytes\": \"AAF8/w==\"}" },
    { "{\"$tuple\": [1, \"a\"]}", "{\"$tuple\": [1, \"a\"]}" },
    { "{\"$set\": [1]}", "{\"$set\": [1]}" },
    { "{\"$dict\": [[1, 2], [{\"$tuple\": []}, 3]]}",
      "{\"$dict\": [[1, 2], [{\"$tuple\": []}, 3]]}" },
    /* a dict whose one key is a tag's name: written as $dict */
    { "{\"$dict\": [[\"$bytes\", 1]]}", "{\"$dict\": [[\"$bytes\", 1]]}" },
    { "{\"$bytes\": 1, \"b\": 2}", "{\"$bytes\": 1, \"b\": 2}" },
  };
  static const char *const bad[] = {
    "{\"$bytes\": 1}",         "{\"$bytes\": \"AAF\"}",
    "{\"$bytes\": \"A*==\"}",  "{\"$tuple\": 1}",
    "{\"$set\": [[1]]}",       "{\"$dict\": [[1]]}",
    "{\"$dict\": [[[1], 2]]}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) v = dogpile_json_loads (
          cases[i].text, strlen (cases[i].text), DOGPILE_JSON_TAGGED, &error);
      g_autofree char *out = NULL;

      cr_assert_not_null (v, "%s: %s", cases[i].text, error->message);
      out = dogpile_json_dumps (v, DOGPILE_JSON_TAGGED, NULL, &error);
      cr_assert_str_eq (out, cases[i].tagged);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      cr_assert_null (dogpile_json_loads (bad[i], strlen (bad[i]),
                                          DOGPILE_JSON_TAGGED, &error),
                      "%s was read", bad[i]);
      cr_assert (g_error_matches (error, DOGPILE_ERROR,
                                  DOGPILE_ERROR_CANT_DESERIALIZE));
    }
}

/* Tagged values made by hand with the wrong content are refused by every
 * writer, naming the tag and the type, instead of being read as what the
 * tag says (a critical, or text that is not JSON). */
Test (json, hand_made_tagged_values_are_checked)
{
  static const struct {
    const char *value;
    const char *message;
  } cases[] = {
    { "{'int', <[byte 1]>}",
      "A value tagged 'int' holds its decimal text (s), not GVariant type "
      "'ay'" },
    { "{'str', <'x'>}",
      "A value tagged 'str' holds bytes (ay), not GVariant type 's'" },
    { "{'bytearray', <[1, 2]>}",
      "A value tagged 'bytearray' holds bytes (ay), not GVariant type 'ai'" },
    { "{'dict', <[1, 2]>}",
      "A value tagged 'dict' holds an array of pairs (a(vv)), not GVariant "
      "type 'ai'" },
    { "{'set', <5>}",
      "A value tagged 'set' holds an array (av), not GVariant type 'i'" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GVariant) value
          = g_variant_ref_sink (g_variant_new_parsed (cases[i].value));
      g_autoptr (GError) json_error = NULL;
      g_autoptr (GError) pickle_error = NULL;
      g_autoptr (GError) text_error = NULL;
      g_autofree char *json = NULL;
      g_autoptr (GBytes) pickle = NULL;
      g_autoptr (GBytes) text = NULL;
      gsize len;

      json
          = dogpile_json_dumps (value, DOGPILE_JSON_TAGGED, &len, &json_error);
      cr_assert_null (json, "%s", cases[i].value);
      cr_assert_str_eq (json_error->message, cases[i].message);
      pickle = dogpile_pickle_dumps (value, &pickle_error);
      cr_assert_null (pickle, "%s", cases[i].value);
      cr_assert_str_eq (pickle_error->message, cases[i].message);
      text = dogpile_pickle_dumps_protocol0 (value, &text_error);
      cr_assert_null (text, "%s", cases[i].value);
      cr_assert_str_eq (text_error->message, cases[i].message);
    }
  /* a tagged int's text is checked, and written as str() writes it */
  {
    g_autoptr (GVariant) bad
        = g_variant_ref_sink (g_variant_new_parsed ("{'int', <'12x'>}"));
    g_autoptr (GVariant) padded = g_variant_ref_sink (g_variant_new_parsed (
        "{'int', <'+00123456789012345678901234567890'>}"));
    g_autoptr (GError) error = NULL;
    g_autofree char *json
        = dogpile_json_dumps (bad, DOGPILE_JSON_NONE, NULL, &error);
    g_autofree char *canonical = NULL;

    cr_assert_null (json);
    cr_assert_str_eq (error->message,
                      "Cannot write JSON: a tagged int's text '12x' is not a "
                      "decimal int of at most 4300 digits");
    canonical = dogpile_json_dumps (padded, DOGPILE_JSON_NONE, NULL, NULL);
    cr_assert_str_eq (canonical, "123456789012345678901234567890");
  }
}
