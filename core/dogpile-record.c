/* dogpile-record.c: the bytes dogpile.cache stores for a value.
 *
 *     {"ct": 1795607767.758692, "v": 2}|<payload>
 *
 * Python writes the metadata with json.dumps (", " and ": " separators,
 * ct as the shortest repr that round-trips) and reads it back with
 * json.loads after splitting on the first '|'.  Writing the same bytes lets
 * C and Python processes share one store; reading any JSON object lets us
 * accept whatever a compatible writer produced.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dogpile-private.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define REPR_MAX DOGPILE_DOUBLE_REPR_MAX

/* "%.*e" of @value with @precision significant digits, and (read_back)
 * the double such text stands for: both in the C locale, whatever the
 * process's is, since a decimal comma would write 2,5 and read "2.5" as
 * 2. */
static void
format_e (char out[REPR_MAX], int precision, double value)
{
  char format[8];

  g_snprintf (format, sizeof format, "%%.%de", precision - 1);
  g_ascii_formatd (out, REPR_MAX, format, value);
}

static double
read_back (const char *text)
{
  return g_ascii_strtod (text, NULL);
}

/* Adds one unit in the last digit of the magnitude of @e, printed by
 * "%.*e": [-]d[.ddd]e(+|-)xx; 9.99e+02 becomes 1.00e+03. */
static void
increment_last_digit (char *e)
{
  char *mark = strchr (e, 'e');
  char *p = mark - 1;
  int exponent;

  for (; p >= e; p--)
    {
      if (*p == '.')
        continue;
      if (*p == '-')
        break;
      if (*p != '9')
        {
          (*p)++;
          return;
        }
      *p = '0';
    }
  /* Carried out of the first digit: 1.00...e(x+1) */
  for (p = e; *p == '-'; p++)
    ;
  *p = '1';
  exponent = atoi (mark + 1) + 1;
  g_snprintf (mark, REPR_MAX - (gsize) (mark - e), "e%+03d", exponent);
}

__extension__ typedef unsigned __int128 Uint128;

/* D rounded to @p significant digits (it has @nd), half to even as
 * printf rounds; whether that reads back as the double m 2^e whose
 * exact value is D, that is, lies within half an ulp: 5^-e / 2 in units
 * of 10^e (exactly half only when m is even, as strtod rounds to
 * even). */
static gboolean
round_reads_back (Uint128 d, int nd, int p, const Uint128 *tens, Uint128 ulp,
                  guint64 m, Uint128 *out_rounded)
{
  Uint128 q = tens[nd - p], r = d % q, base = d - r, c, distance_x2;

  c = 2 * r > q || (2 * r == q && ((base / q) & 1) != 0) ? base + q : base;
  distance_x2 = 2 * (c > d ? c - d : d - c);
  *out_rounded = c / q;
  return distance_x2 < ulp || (distance_x2 == ulp && (m & 1) == 0);
}

/* The shortest digits that read back as @value (positive, not a power of
 * two) in exact integer arithmetic, for 2^25 <= @value < 2^51 (every
 * time): there @value = m 2^e with -27 <= e <= -2, so @value = D 10^e
 * for the integer D = m 5^-e, of 18 to 35 digits.  Rounded to 16
 * digits, then 15 (when 15 read back they are the shortest, trailing
 * zeros stripped: see dogpile__format_double_repr), else 17: no printf
 * and no strtod.  FALSE outside that range. */
static gboolean
exact_shortest_digits (double value, char digits[20], gsize *n_digits,
                       int *decpt)
{
  int binary_exponent;
  double fraction = frexp (value, &binary_exponent);
  int e = binary_exponent - 53;
  guint64 m, top;
  Uint128 d, ulp = 1, tens[37], chosen, fifteen;
  int nd = 0, precision = 16;
  char reversed[20];
  gsize n = 0;

  if (e < -27 || e > -2)
    return FALSE;
  m = (guint64) ldexp (fraction, 53);
  for (int i = 0; i < -e; i++)
    ulp *= 5; /* 5^-e: an ulp in units of 10^e */
  d = (Uint128) m * ulp;
  tens[0] = 1;
  for (int i = 1; i < 37; i++)
    tens[i] = tens[i - 1] * 10;
  while (nd < 36 && tens[nd] <= d)
    nd++; /* D has nd digits, more than 17 in this range */

  if (!round_reads_back (d, nd, 16, tens, ulp, m, &chosen))
    {
      round_reads_back (d, nd, 17, tens, ulp, m, &chosen);
      precision = 17;
    }
  else if (round_reads_back (d, nd, 15, tens, ulp, m, &fifteen))
    {
      chosen = fifteen;
      precision = 15;
    }
  /* chosen has precision digits, or one more after a carry (999..
   * rounded up to 1000..). */
  *decpt = nd + e;
  for (top = (guint64) chosen; top != 0; top /= 10)
    reversed[n++] = (char) ('0' + top % 10);
  if ((int) n > precision)
    (*decpt)++;
  for (gsize i = 0; i < n; i++)
    digits[i] = reversed[n - 1 - i];
  *n_digits = n;
  return TRUE;
}

/* Python's float repr: the shortest digits that round-trip, in fixed
 * notation when the decimal exponent is in (-4, 16], else 1.5e-05 style.
 * Non-finite values as json.dumps writes them; Python's str() says inf,
 * -inf and nan instead, which dogpile_arg_to_str handles. */
gsize
dogpile__format_double_repr (double value, char out[REPR_MAX])
{
  char tmp[REPR_MAX];
  char digits[20];
  gsize n_digits = 0, len = 0;
  int exponent, decpt, precision;
  const char *p;
  gboolean negative;

  if (isnan (value))
    return (gsize) g_snprintf (out, REPR_MAX, "NaN");
  if (isinf (value))
    return (gsize) g_snprintf (out, REPR_MAX,
                               value > 0 ? "Infinity" : "-Infinity");
  if (value == 0.0)
    return (gsize) g_snprintf (out, REPR_MAX,
                               signbit (value) ? "-0.0" : "0.0");

  negative = signbit (value);
  if (fabs (frexp (value, &exponent)) == 0.5
      || !exact_shortest_digits (fabs (value), digits, &n_digits, &decpt))
    {
      /* The fewest significant digits that read back as @value.  At a power
       * of two the values that round to @value lie lopsided around it (the
       * gap above is twice the gap below), and the nearest decimal of p
       * digits may fall out on the narrow side while the next one up, on the
       * wide side, reads back: Python (David Gay's shortest mode) then writes
       * that one (2^-24 is 5.960464477539063e-08, not ...0625e-08).  So each
       * precision is tried in turn with both. */
      if (fabs (frexp (value, &exponent)) == 0.5)
        {
          for (precision = 1; precision <= 17; precision++)
            {
              char up[REPR_MAX];

              format_e (tmp, precision, value);
              if (read_back (tmp) == value)
                break;
              memcpy (up, tmp, sizeof up);
              increment_last_digit (up);
              if (read_back (up) == value)
                {
                  memcpy (tmp, up, sizeof tmp);
                  break;
                }
            }
        }
      else if (fabs (value) < DBL_MIN)
        {
          /* Subnormal: fewer than 53 significant bits, so the 15 digit
           * argument below does not hold (1e-320 would come out as
           * 9.99988867182683e-321).  The gaps on both sides of @value are
           * equal, so at each precision only the nearest decimal can read
           * back: the first precision whose nearest does is Python's. */
          for (precision = 1; precision <= 17; precision++)
            {
              format_e (tmp, precision, value);
              if (read_back (tmp) == value)
                break;
            }
        }
      else
        {
          /* 16 digits first: a time needs 16 or 17, most doubles do.  When 15
           * read back, no search is needed below them: if k < 15 digits read
           * back, @value lies within half an ulp (2^-53 of it) of that k digit
           * decimal, far inside half a step of the 15 digit grid, so @value
           * rounded to 15 digits is that decimal padded with zeros, which the
           * formatting below strips. */
          char fifteen[REPR_MAX];

          format_e (tmp, 16, value);
          if (read_back (tmp) != value)
            format_e (tmp, 17, value);
          else
            {
              format_e (fifteen, 15, value);
              if (read_back (fifteen) == value)
                memcpy (tmp, fifteen, sizeof tmp);
            }
        }

      /* tmp is [-]d[.ddd]e(+|-)xx */
      p = tmp;
      if (*p == '-')
        p++;
      for (; *p != 'e'; p++)
        if (*p != '.')
          digits[n_digits++] = *p;
      decpt = atoi (p + 1) + 1;
    }
  while (n_digits > 1 && digits[n_digits - 1] == '0')
    n_digits--;
  exponent = decpt - 1;

  if (negative)
    out[len++] = '-';
  if (decpt > -4 && decpt <= 16)
    {
      if (decpt <= 0)
        {
          out[len++] = '0';
          out[len++] = '.';
          for (int i = 0; i < -decpt; i++)
            out[len++] = '0';
          memcpy (out + len, digits, n_digits);
          len += n_digits;
        }
      else if ((gsize) decpt >= n_digits)
        {
          memcpy (out + len, digits, n_digits);
          len += n_digits;
          for (gsize i = n_digits; i < (gsize) decpt; i++)
            out[len++] = '0';
          out[len++] = '.';
          out[len++] = '0';
        }
      else
        {
          memcpy (out + len, digits, (gsize) decpt);
          len += (gsize) decpt;
          out[len++] = '.';
          memcpy (out + len, digits + decpt, n_digits - (gsize) decpt);
          len += n_digits - (gsize) decpt;
        }
    }
  else
    {
      out[len++] = digits[0];
      if (n_digits > 1)
        {
          out[len++] = '.';
          memcpy (out + len, digits + 1, n_digits - 1);
          len += n_digits - 1;
        }
      len += (gsize) g_snprintf (out + len, REPR_MAX - len, "e%c%02d",
                                 exponent < 0 ? '-' : '+', abs (exponent));
    }
  out[len] = '\0';
  return len;
}

/**
 * dogpile_record_encode:
 * @payload: (transfer none): the (already serialized) payload; borrowed
 *   for the call, its bytes are copied
 * @metadata: its metadata; borrowed for the call
 *
 * Builds the bytes dogpile.cache stores for a value, byte for byte:
 * `{"ct": <float>, "v": <version>}|<payload>`, "ct" printed as Python's
 * repr() prints floats (the shortest digits that read back, in the C
 * locale whatever the process's is) and "v" as an integer.  Byte-storing
 * plugins that manage records themselves can use this; for a plugin with
 * only get and set, libdogpile calls it for them.
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: (transfer full): the record
 */
GBytes *
dogpile_record_encode (GBytes *payload, const DogpileMetadata *metadata)
{
  char ct[REPR_MAX];
  char head[REPR_MAX + 48];
  gsize head_len, payload_len;
  const guint8 *payload_data;
  guint8 *record;

  g_return_val_if_fail (payload != NULL, NULL);
  g_return_val_if_fail (metadata != NULL, NULL);

  dogpile__format_double_repr (metadata->cached_time, ct);
  head_len = (gsize) g_snprintf (head, sizeof head, "{\"ct\": %s, \"v\": %d}|",
                                 ct, metadata->version);
  payload_data = g_bytes_get_data (payload, &payload_len);
  record = g_malloc (head_len + payload_len);
  memcpy (record, head, head_len);
  if (payload_len > 0)
    memcpy (record + head_len, payload_data, payload_len);
  return g_bytes_new_take (record, head_len + payload_len);
}

/* A JSON reader just large enough for the metadata: it checks the whole
 * text is valid JSON (as json.loads would) and keeps the top-level "ct"
 * and "v" members. */
typedef struct {
  const char *p;
  const char *end;
  const char *problem;
} JsonReader;

#define JSON_MAX_DEPTH 64

static void
json_skip_ws (JsonReader *r)
{
  while (r->p < r->end
         && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
    r->p++;
}

static gboolean
json_fail (JsonReader *r, const char *problem)
{
  if (r->problem == NULL)
    r->problem = problem;
  return FALSE;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Reads a string; when @out is given, its first @out_size - 1 decoded
 * ASCII bytes go there (enough to recognise "ct" and "v", even when a
 * writer escaped them). */
static gboolean
json_string (JsonReader *r, char *out, gsize out_size, gsize *out_len)
{
  gsize n = 0;

  if (r->p >= r->end || *r->p != '"')
    return json_fail (r, "expected a string");
  r->p++;
  while (r->p < r->end && *r->p != '"')
    {
      unsigned char c = (unsigned char) *r->p;
      guint32 ch = c;

      if (c < 0x20)
        return json_fail (r, "control character in a string");
      if (c == '\\')
        {
          r->p++;
          if (r->p >= r->end)
            break;
          switch (*r->p)
            {
            case '"': ch = '"'; break;
            case '\\': ch = '\\'; break;
            case '/': ch = '/'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            case 't': ch = '\t'; break;
            case 'u':
              ch = 0;
              for (int i = 1; i <= 4; i++)
                {
                  int h = (r->p + i < r->end) ? hex_value (r->p[i]) : -1;
                  if (h < 0)
                    return json_fail (r, "bad \\u escape in a string");
                  ch = ch * 16 + (guint32) h;
                }
              r->p += 4;
              break;
            default: return json_fail (r, "bad escape in a string");
            }
        }
      if (out != NULL && n + 1 < out_size)
        out[n] = ch < 0x80 ? (char) ch : '\x7f';
      n++;
      r->p++;
    }
  if (r->p >= r->end)
    return json_fail (r, "unterminated string");
  r->p++;
  if (out != NULL)
    out[MIN (n, out_size - 1)] = '\0';
  if (out_len != NULL)
    *out_len = n;
  return TRUE;
}

static gboolean
json_literal (JsonReader *r, const char *word)
{
  gsize len = strlen (word);

  if ((gsize) (r->end - r->p) < len || memcmp (r->p, word, len) != 0)
    return json_fail (r, "invalid JSON value");
  r->p += len;
  return TRUE;
}

/* JSON numbers, plus Python's NaN / Infinity / -Infinity extensions. */
static gboolean
json_number (JsonReader *r, double *out)
{
  const char *start = r->p;
  char buf[64];

  if (r->p < r->end && *r->p == '-')
    r->p++;
  if (r->p < r->end && *r->p == 'I')
    {
      if (!json_literal (r, "Infinity"))
        return FALSE;
      *out = (*start == '-') ? -INFINITY : INFINITY;
      return TRUE;
    }
  if (r->p >= r->end || !g_ascii_isdigit (*r->p))
    return json_fail (r, "invalid JSON number");
  if (*r->p == '0')
    r->p++;
  else
    while (r->p < r->end && g_ascii_isdigit (*r->p))
      r->p++;
  if (r->p < r->end && *r->p == '.')
    {
      r->p++;
      if (r->p >= r->end || !g_ascii_isdigit (*r->p))
        return json_fail (r, "invalid JSON number");
      while (r->p < r->end && g_ascii_isdigit (*r->p))
        r->p++;
    }
  if (r->p < r->end && (*r->p == 'e' || *r->p == 'E'))
    {
      r->p++;
      if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
        r->p++;
      if (r->p >= r->end || !g_ascii_isdigit (*r->p))
        return json_fail (r, "invalid JSON number");
      while (r->p < r->end && g_ascii_isdigit (*r->p))
        r->p++;
    }
  if ((gsize) (r->p - start) >= sizeof buf)
    {
      /* Absurdly long numbers are valid JSON; their exact value does not
       * matter for anything but ct, which no writer prints this long. */
      *out = NAN;
      return TRUE;
    }
  memcpy (buf, start, (gsize) (r->p - start));
  buf[r->p - start] = '\0';
  *out = g_ascii_strtod (buf, NULL);
  return TRUE;
}

typedef enum {
  JSON_OTHER,
  JSON_NUMBER,
} JsonKind;

static gboolean json_value (JsonReader *r, int depth, JsonKind *kind,
                            double *number);

static gboolean
json_container (JsonReader *r, int depth, gboolean is_object)
{
  char close = is_object ? '}' : ']';

  r->p++;
  json_skip_ws (r);
  if (r->p < r->end && *r->p == close)
    {
      r->p++;
      return TRUE;
    }
  for (;;)
    {
      JsonKind kind;
      double number;

      json_skip_ws (r);
      if (is_object)
        {
          if (!json_string (r, NULL, 0, NULL))
            return FALSE;
          json_skip_ws (r);
          if (r->p >= r->end || *r->p != ':')
            return json_fail (r, "expected ':' in an object");
          r->p++;
        }
      if (!json_value (r, depth + 1, &kind, &number))
        return FALSE;
      json_skip_ws (r);
      if (r->p < r->end && *r->p == ',')
        {
          r->p++;
          continue;
        }
      if (r->p < r->end && *r->p == close)
        {
          r->p++;
          return TRUE;
        }
      return json_fail (r, is_object ? "expected ',' or '}' in an object"
                                     : "expected ',' or ']' in an array");
    }
}

static gboolean
json_value (JsonReader *r, int depth, JsonKind *kind, double *number)
{
  *kind = JSON_OTHER;
  if (depth > JSON_MAX_DEPTH)
    return json_fail (r, "JSON nested too deeply");
  json_skip_ws (r);
  if (r->p >= r->end)
    return json_fail (r, "expected a JSON value");
  switch (*r->p)
    {
    case '{': return json_container (r, depth, TRUE);
    case '[': return json_container (r, depth, FALSE);
    case '"': return json_string (r, NULL, 0, NULL);
    case 't': return json_literal (r, "true");
    case 'f': return json_literal (r, "false");
    case 'n': return json_literal (r, "null");
    case 'N':
      *kind = JSON_NUMBER;
      *number = NAN;
      return json_literal (r, "NaN");
    default: *kind = JSON_NUMBER; return json_number (r, number);
    }
}

/* --- the common case, fast ------------------------------------------
 *
 * Every writer (Python's json.dumps, dogpile_record_encode) produces
 * exactly {"ct": <number>, "v": 2}.  Reading that form directly, with an
 * exact decimal conversion, makes a hit on a byte backend several times
 * cheaper than the general parser and strtod; anything else, or a number
 * this conversion does not cover, goes to the general parser, so the
 * result is always the same. */

static const guint64 powers_of_ten[20] = {
  1ull,
  10ull,
  100ull,
  1000ull,
  10000ull,
  100000ull,
  1000000ull,
  10000000ull,
  100000000ull,
  1000000000ull,
  10000000000ull,
  100000000000ull,
  1000000000000ull,
  10000000000000ull,
  100000000000000ull,
  1000000000000000ull,
  10000000000000000ull,
  100000000000000000ull,
  1000000000000000000ull,
  10000000000000000000ull,
};

/* The correctly rounded double of [-]digits[.digits] (JSON's grammar, no
 * exponent) with at most 19 significant digits and 19 decimals; FALSE for
 * anything else.  The value is m / 10^k with m and 10^k exact 64-bit
 * integers: below 2^53 one IEEE division rounds it correctly; above, the
 * quotient is computed to 55+ bits with 128-bit integers and rounded to
 * nearest, ties to even, using the remainder as the sticky bit. */
static gboolean
exact_decimal (const char *p, const char *end, double *out)
{
  guint64 m = 0, d;
  int digits = 0, decimals = 0;
  gboolean negative = FALSE, dot = FALSE;
  double value;

  if (p < end && *p == '-')
    negative = TRUE, p++;
  /* JSON: one 0, or a digit 1-9 then digits; a '.' needs digits after */
  if (p >= end || !g_ascii_isdigit (*p)
      || (*p == '0' && p + 1 < end && g_ascii_isdigit (p[1])))
    return FALSE;
  for (; p < end; p++)
    {
      if (*p == '.' && !dot && p + 1 < end && g_ascii_isdigit (p[1]))
        {
          dot = TRUE;
          continue;
        }
      if (!g_ascii_isdigit (*p))
        return FALSE;
      decimals += dot;
      if (m == 0 && *p == '0')
        continue;
      if (++digits > 19)
        return FALSE;
      m = m * 10 + (guint64) (*p - '0');
    }
  if (decimals > 19)
    return FALSE;
  d = powers_of_ten[decimals];
  if (m < (G_GUINT64_CONSTANT (1) << 53) || decimals == 0)
    value = (double) m / (double) d; /* both exact: one rounding */
  else
    {
#ifdef __SIZEOF_INT128__
      __extension__ typedef unsigned __int128 u128;
      int shift = 55 + (64 - __builtin_clzll (d)) - (64 - __builtin_clzll (m));
      u128 n;
      guint64 q, rest, half, mantissa;
      gboolean sticky;
      int bits, drop;

      shift = MAX (shift, 0);
      n = (u128) m << shift;
      q = (guint64) (n / d);
      sticky = (n % d) != 0;
      bits = 64 - __builtin_clzll (q);
      drop = bits - 53; /* q has at least 55 bits, so drop >= 2 */
      mantissa = q >> drop;
      rest = q & ((G_GUINT64_CONSTANT (1) << drop) - 1);
      half = G_GUINT64_CONSTANT (1) << (drop - 1);
      if (rest > half || (rest == half && (sticky || (mantissa & 1))))
        mantissa++; /* 2^53 after a carry is still exact */
      value = ldexp ((double) mantissa, drop - shift);
#else
      return FALSE;
#endif
    }
  *out = negative ? -value : value;
  return TRUE;
}

static gboolean
parse_canonical_metadata (const char *text, gsize len, DogpileMetadata *out)
{
  static const char head[] = "{\"ct\": ";
  static const char tail[] = ", \"v\": 2}";
  const gsize head_len = sizeof head - 1, tail_len = sizeof tail - 1;

  if (len <= head_len + tail_len || memcmp (text, head, head_len) != 0
      || memcmp (text + len - tail_len, tail, tail_len) != 0
      || !exact_decimal (text + head_len, text + len - tail_len,
                         &out->cached_time))
    return FALSE;
  out->version = 2;
  return TRUE;
}

/* Parses the metadata object; the last duplicate member wins, as in
 * Python's dict. */
static gboolean
parse_metadata (const char *text, gsize len, DogpileMetadata *out,
                const char **problem)
{
  JsonReader r = { text, text + len, NULL };
  gboolean have_ct = FALSE;
  JsonKind kind;
  double number;

  memset (out, 0, sizeof *out);
  if (parse_canonical_metadata (text, len, out))
    return TRUE;
  if (!g_utf8_validate_len (text, len, NULL))
    {
      *problem = "the metadata is not UTF-8";
      return FALSE;
    }
  json_skip_ws (&r);
  if (r.p >= r.end || *r.p != '{')
    {
      /* Still report invalid JSON as such, like json.loads would. */
      if (json_value (&r, 0, &kind, &number))
        {
          json_skip_ws (&r);
          *problem = r.p == r.end ? "the metadata is not a JSON object"
                                  : "the metadata is not valid JSON";
        }
      else
        *problem = "the metadata is not valid JSON";
      return FALSE;
    }
  r.p++;
  json_skip_ws (&r);
  if (r.p < r.end && *r.p == '}')
    r.p++;
  else
    for (;;)
      {
        char name[4];
        gsize name_len;

        json_skip_ws (&r);
        if (!json_string (&r, name, sizeof name, &name_len))
          break;
        json_skip_ws (&r);
        if (r.p >= r.end || *r.p != ':')
          {
            json_fail (&r, "expected ':' in an object");
            break;
          }
        r.p++;
        if (!json_value (&r, 1, &kind, &number))
          break;
        if (name_len == 2 && strcmp (name, "ct") == 0)
          {
            have_ct = (kind == JSON_NUMBER);
            out->cached_time = number;
          }
        else if (name_len == 1 && strcmp (name, "v") == 0)
          {
            /* Python compares with != 2, so 2.0 is version 2 too; anything
             * else only needs to differ from 2. */
            if (kind == JSON_NUMBER && number == floor (number)
                && number >= G_MININT && number <= G_MAXINT)
              out->version = (gint) number;
            else
              out->version = 0;
          }
        json_skip_ws (&r);
        if (r.p < r.end && *r.p == ',')
          {
            r.p++;
            continue;
          }
        if (r.p < r.end && *r.p == '}')
          {
            r.p++;
            break;
          }
        json_fail (&r, "expected ',' or '}' in an object");
        break;
      }
  if (r.problem != NULL)
    {
      *problem = r.problem;
      return FALSE;
    }
  json_skip_ws (&r);
  if (r.p != r.end)
    {
      *problem = "extra data after the metadata object";
      return FALSE;
    }
  if (!have_ct)
    {
      *problem = "the metadata has no numeric \"ct\"";
      return FALSE;
    }
  if (!isfinite (out->cached_time))
    {
      *problem = "the metadata's \"ct\" is not a finite number";
      return FALSE;
    }
  return TRUE;
}

/**
 * dogpile_record_decode:
 * @record: (transfer none): bytes as a byte-storing backend returned them;
 *   borrowed (the payload keeps a reference to them)
 * @out_payload: (out) (transfer full): the payload, a #GBytes sharing
 *   @record's memory; not set when the call fails
 * @out_metadata: (out caller-allocates): the metadata; its contents are
 *   unspecified when the call fails
 * @error: return location for a #GError, or %NULL
 *
 * Splits @record on its first '|' and reads the JSON metadata before it,
 * as dogpile.cache does with json.loads().  Any JSON object with a
 * finite numeric "ct" is accepted, other members ignored; when a member
 * appears twice the last one wins, as in a Python dict.  A missing or
 * non-integer "v" gives version 0, which get_or_create treats as a miss
 * (docs/differences.md).  The metadata must be UTF-8.
 *
 * Errors: %DOGPILE_ERROR_CANT_DESERIALIZE when @record is not a
 * dogpile.cache record: it has no '|', its metadata is not UTF-8, not
 * JSON or not a JSON object, or has no numeric "ct" or one that is not
 * finite (NaN, Infinity); the message says which.
 *
 * Thread safety: any thread, concurrently with any other call.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
dogpile_record_decode (GBytes *record, GBytes **out_payload,
                       DogpileMetadata *out_metadata, GError **error)
{
  const char *data, *bar;
  const char *problem = NULL;
  gsize len;

  g_return_val_if_fail (record != NULL, FALSE);
  g_return_val_if_fail (out_payload != NULL, FALSE);
  g_return_val_if_fail (out_metadata != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  data = g_bytes_get_data (record, &len);
  bar = len > 0 ? memchr (data, '|', len) : NULL;
  if (bar == NULL)
    problem = "no '|' between metadata and payload";
  else
    parse_metadata (data, (gsize) (bar - data), out_metadata, &problem);
  if (problem != NULL)
    {
      g_set_error (error, DOGPILE_ERROR, DOGPILE_ERROR_CANT_DESERIALIZE,
                   "Stored value is not a dogpile.cache record (%s)", problem);
      return FALSE;
    }
  *out_payload = g_bytes_new_from_bytes (record, (gsize) (bar + 1 - data),
                                         len - (gsize) (bar + 1 - data));
  return TRUE;
}
