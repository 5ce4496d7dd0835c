/* fuzz-codecs.c: the decoders of untrusted bytes (pickle, CachedValue,
 * JSON plain and tagged, the stored record) under random inputs.
 *
 * LLVMFuzzerTestOneInput is libFuzzer's entry point, so the same file
 * builds as a coverage-guided fuzzer with clang -fsanitize=fuzzer.
 * Built as a plain program (what CI runs, under ASan and UBSan) main()
 * mutates seeds made here for FUZZ_SECONDS (default 10) and checks,
 * besides not crashing, that whatever decodes re-encodes and decodes to
 * the same value.  A crash writes its input to fuzz-crash.bin (under a
 * sanitizer, from its death callback); turn one into a test case.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dogpile/dogpile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* The input being tried, for a sanitizer's death callback to save. */
static const guint8 *current;
static size_t current_size;

static void
save_current (void)
{
  FILE *f = fopen ("fuzz-crash.bin", "wb");

  if (f != NULL)
    {
      fwrite (current, 1, current_size, f);
      fclose (f);
      fprintf (stderr, "fuzz-codecs: the input is in fuzz-crash.bin\n");
    }
}

/* Provided by ASan and UBSan's runtime when linked in. */
extern void __sanitizer_set_death_callback (void (*callback) (void))
    __attribute__ ((weak));

/* @data and @size: the part a decoder saw; the whole input is saved. */
static void
fail (const char *what, const guint8 *data, size_t size)
{
  fprintf (stderr, "fuzz-codecs: %s (%zu bytes)\n", what, size);
  save_current ();
  abort ();
}

/* What decodes must survive the trip back: the same value again. */
static void
check_pickle_round_trip (GVariant *value, const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) again = dogpile_pickle_dumps (value, &error);
  g_autoptr (GVariant) back = NULL;

  if (again == NULL)
    fail ("a loaded value does not dump", data, size);
  back = dogpile_pickle_loads (again, &error);
  if (back == NULL || !g_variant_equal (back, value))
    fail ("a dumped value loads as another", data, size);
}

static void
check_json_round_trip (GVariant *value, DogpileJsonFlags flags,
                       const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GVariant) back = NULL;
  gsize len;

  text = dogpile_json_dumps (value, flags, &len, &error);
  if (text == NULL)
    {
      /* plain JSON reads only what it can write */
      if (flags & DOGPILE_JSON_TAGGED)
        fail ("a tagged JSON value does not dump", data, size);
      return;
    }
  back = dogpile_json_loads (text, len, flags, &error);
  if (back == NULL)
    fail ("written JSON does not read back", data, size);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  GError *error = NULL;
  guint8 target;

  current = data;
  current_size = size;
  if (size == 0)
    return 0;
  target = data[0] % 5;
  data++, size--;
  switch (target)
    {
    case 0:
      {
        GVariant *v = dogpile_pickle_loads_data (data, size, &error);

        if (v != NULL)
          {
            check_pickle_round_trip (v, data, size);
            g_variant_unref (v);
          }
        break;
      }
    case 1:
      {
        GVariant *payload = NULL;
        DogpileMetadata metadata;

        if (dogpile_pickle_loads_cached_value (data, size, &payload, &metadata,
                                               &error))
          {
            GBytes *again
                = dogpile_pickle_dumps_cached_value (payload, &metadata, NULL);

            if (again == NULL)
              fail ("a CachedValue does not dump", data, size);
            g_bytes_unref (again);
            g_variant_unref (payload);
          }
        break;
      }
    case 2:
    case 3:
      {
        DogpileJsonFlags flags
            = target == 3 ? DOGPILE_JSON_TAGGED : DOGPILE_JSON_NONE;
        GVariant *v
            = dogpile_json_loads ((const char *) data, size, flags, &error);

        if (v != NULL)
          {
            check_json_round_trip (v, flags, data, size);
            g_variant_unref (v);
          }
        break;
      }
    default:
      {
        GBytes *record = g_bytes_new (data, size);
        GBytes *payload = NULL;
        DogpileMetadata metadata;

        if (dogpile_record_decode (record, &payload, &metadata, &error))
          g_clear_pointer (&payload, g_bytes_unref);
        g_bytes_unref (record);
        break;
      }
    }
  if (error != NULL && !g_utf8_validate (error->message, -1, NULL))
    fail ("an error message is not UTF-8", data, size);
  g_clear_error (&error);
  return 0;
}

#ifndef FUZZ_LIBFUZZER

/* Seeds: every decoder's typical input, made here. */
static GPtrArray *
seeds (void)
{
  GPtrArray *out
      = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  static const char *const texts[] = {
    "[1, 2.5, \"x\", null, true, {\"a\": [], \"b\": {}}]",
    "{\"$tuple\": [1, {\"$bytes\": \"AAE=\"}], \"s\": \"\\ud800\\u00e9\"}",
    "{\"$dict\": [[1, {\"$set\": [2]}]], \"big\": 123456789012345678901234}",
    "{\"ct\": 1795607767.758692, \"v\": 2}|\x80\x04K\x01.",
  };
  const char *variants[] = {
    "{'s': <'Z\\u00fcrich'>, 'i': <int64 42>, 'l': <[<1.5>, <'x'>]>, "
    "'t': <(true, @mv nothing)>, 'b': <b'\\x00|'>}",
    "[<{'int': <'123456789012345678901234567890'>}>, <{'set': <[<1>]>}>, "
    "<{'bytearray': <b'ab'>}>, <{'dict': <[(<1>, <'one'>)]>}>]",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    for (guint8 t = 2; t < 5; t++)
      {
        GByteArray *b = g_byte_array_new ();

        g_byte_array_append (b, &t, 1);
        g_byte_array_append (b, (const guint8 *) texts[i], strlen (texts[i]));
        g_ptr_array_add (out, g_byte_array_free_to_bytes (b));
      }
  for (gsize i = 0; i < G_N_ELEMENTS (variants); i++)
    {
      g_autoptr (GVariant) v
          = g_variant_parse (NULL, variants[i], NULL, NULL, NULL);
      g_autoptr (GBytes) p = dogpile_pickle_dumps (v, NULL);
      DogpileMetadata m;
      g_autoptr (GBytes) cv = NULL;
      guint8 t;

      dogpile_metadata_init (&m, 1795607767.5);
      cv = dogpile_pickle_dumps_cached_value (v, &m, NULL);
      for (t = 0; t < 2; t++)
        {
          GByteArray *b = g_byte_array_new ();
          gsize len;
          const guint8 *d = g_bytes_get_data (t == 0 ? p : cv, &len);

          g_byte_array_append (b, &t, 1);
          g_byte_array_append (b, d, (guint) len);
          g_ptr_array_add (out, g_byte_array_free_to_bytes (b));
        }
    }
  return out;
}

static GByteArray *
mutate (GRand *rand, GBytes *seed, GPtrArray *all)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (seed, &len);
  GByteArray *b = g_byte_array_new ();
  guint rounds = (guint) g_rand_int_range (rand, 1, 8);

  g_byte_array_append (b, d, (guint) len);
  for (guint r = 0; r < rounds && b->len > 1; r++)
    {
      guint at = (guint) g_rand_int_range (rand, 1, (gint32) b->len);

      switch (g_rand_int_range (rand, 0, 7))
        {
        case 0:
          b->data[at] ^= (guint8) (1u << g_rand_int_range (rand, 0, 8));
          break;
        case 1: b->data[at] = (guint8) g_rand_int_range (rand, 0, 256); break;
        case 2: /* a boundary byte */
          {
            static const guint8 edges[] = { 0,   1,   0x7f, 0x80, 0xff, '(',
                                            '.', '"', '\\', '{',  '[',  '|' };
            b->data[at]
                = edges[g_rand_int_range (rand, 0, G_N_ELEMENTS (edges))];
            break;
          }
        case 3: g_byte_array_set_size (b, at); break;
        case 4:
          {
            /* MIN evaluates its arguments twice: draw once */
            guint n = (guint) g_rand_int_range (rand, 1, 9);

            g_byte_array_remove_range (b, at, MIN (b->len - at, n));
            break;
          }
        case 5: /* a chunk of this or another seed, inserted */
          {
            GBytes *other
                = all->pdata[g_rand_int_range (rand, 0, (gint32) all->len)];
            gsize olen;
            const guint8 *o = g_bytes_get_data (other, &olen);
            guint from
                = olen > 1 ? (guint) g_rand_int_range (rand, 1, (gint32) olen)
                           : 0;
            guint want = (guint) g_rand_int_range (rand, 1, 32);
            guint n = MIN ((guint) (olen - from), want);
            g_autofree guint8 *chunk = g_memdup2 (o + from, n);

            g_byte_array_prepend (b, chunk, 0);
            g_byte_array_append (b, chunk, n);
            break;
          }
        default: /* a repeat: long runs, deep nesting */
          {
            guint8 c = b->data[at];
            guint n = (guint) g_rand_int_range (rand, 1, 300);

            for (guint k = 0; k < n; k++)
              g_byte_array_append (b, &c, 1);
            break;
          }
        }
    }
  return b;
}

int
main (int argc, char **argv)
{
  const char *env = g_getenv ("FUZZ_SECONDS");
  double seconds = env != NULL ? g_ascii_strtod (env, NULL) : 10;
  const char *seed_env = g_getenv ("FUZZ_SEED");
  guint32 seed = seed_env != NULL
                     ? (guint32) g_ascii_strtoull (seed_env, NULL, 10)
                     : (guint32) g_get_real_time ();
  g_autoptr (GPtrArray) corpus = seeds ();
  GRand *rand = g_rand_new_with_seed (seed);
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  guint64 runs = 0;

  /* a file given replays that input alone: a crash found, as a test */
  if (argc > 1)
    {
      g_autofree char *data = NULL;
      gsize len;

      if (!g_file_get_contents (argv[1], &data, &len, NULL))
        return 2;
      LLVMFuzzerTestOneInput ((const guint8 *) data, len);
      return 0;
    }
  if (__sanitizer_set_death_callback != NULL)
    __sanitizer_set_death_callback (save_current);
  printf ("fuzz-codecs: seed %u (FUZZ_SEED repeats it), %.0f s\n", seed,
          seconds);
  for (guint i = 0; i < corpus->len; i++)
    {
      gsize len;
      const guint8 *d = g_bytes_get_data (corpus->pdata[i], &len);

      LLVMFuzzerTestOneInput (d, len);
    }
  while (g_get_monotonic_time () < end)
    for (int k = 0; k < 256; k++, runs++)
      {
        GBytes *seed_bytes
            = corpus->pdata[g_rand_int_range (rand, 0, (gint32) corpus->len)];
        GByteArray *input = mutate (rand, seed_bytes, corpus);

        LLVMFuzzerTestOneInput (input->data, input->len);
        /* inputs that decode join the corpus now and then */
        if (corpus->len < 4096 && g_rand_int_range (rand, 0, 64) == 0)
          g_ptr_array_add (corpus, g_byte_array_free_to_bytes (input));
        else
          g_byte_array_unref (input);
      }
  printf ("fuzz-codecs: %" G_GUINT64_FORMAT " inputs, no failure\n", runs);
  g_rand_free (rand);
  return 0;
}
#endif
