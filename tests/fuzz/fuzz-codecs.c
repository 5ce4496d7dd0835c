/* fuzz-codecs.c: the pickle, JSON and record targets in one program, the
 * input's first byte choosing the decoder (0: pickle, 1: JSON, 2: the
 * record; the rest modulo 3).
 *
 * The first fuzz target, kept under its name for the runs and the saved
 * inputs that use it; the libFuzzer stage runs fuzz-pickle, fuzz-json and
 * fuzz-record on their own instead, each with its own corpus.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz-common.h"

#define FUZZ_ENTRY(name) fuzz_##name##_one

/* The entry points of the three files, renamed. */
int fuzz_pickle_one (const guint8 *data, size_t size);
int fuzz_json_one (const guint8 *data, size_t size);
int fuzz_record_one (const guint8 *data, size_t size);

#include "fuzz-json.c"
#include "fuzz-pickle.c"
#include "fuzz-record.c"

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size == 0)
    return 0;
  switch (data[0] % 3)
    {
    case 0: return fuzz_pickle_one (data + 1, size - 1);
    case 1: return fuzz_json_one (data + 1, size - 1);
    default: return fuzz_record_one (data + 1, size - 1);
    }
}
