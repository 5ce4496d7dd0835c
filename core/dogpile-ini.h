/* dogpile-ini.h: INI text as Python's configparser reads it (private).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "dogpile-private.h"

G_BEGIN_DECLS

typedef struct DogpileIni DogpileIni;

/* Python's str.isspace() for one code point (Unicode 14). */
gboolean dogpile__py_isspace (gunichar c);

/* @text stripped as Python's str.strip() strips it; (transfer full).
 * @text must be valid UTF-8. */
char *dogpile__py_strip (const char *text);

/* Parses @text (UTF-8, no NUL) as ConfigParser(defaults=@defaults) with
 * optionxform = str reads it, the way PasteDeploy's loader does.
 * @defaults is NULL or pairs of key and value ending in NULL.  Errors name
 * @source and the line. */
DogpileIni *dogpile__ini_parse (const char *text, const char *source,
                                const char *const *defaults, GError **error);
void dogpile__ini_free (DogpileIni *ini);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DogpileIni, dogpile__ini_free)

/* The sections in file order, without DEFAULT; (transfer full). */
char **dogpile__ini_dup_sections (DogpileIni *ini);
gboolean dogpile__ini_has_section (DogpileIni *ini, const char *section);

/* dict(parser.items(@section)): the section's keys and DEFAULT's (and
 * the constructor's defaults), every value %(name)s-interpolated as
 * BasicInterpolation does; key -> value, (transfer full).  @section must
 * exist (or be "DEFAULT"). */
GHashTable *dogpile__ini_dup_items (DogpileIni *ini, const char *section,
                                    GError **error);

G_END_DECLS
