/* SPDX-License-Identifier: ISC */
/*
 * Go-compatible number and bool text, so that sotto writes and accepts the
 * same bytes as sops: strconv.FormatFloat in the three flavours sops ends
 * up using ('f' for ciphertext and the MAC, 'g' for yaml.v3 output, and
 * encoding/json's ES6-like rule), and strconv.Atoi, ParseFloat and
 * ParseBool.  Pure functions: no allocation, no secrets kept.
 *
 * Shortest digits are found the classic way (printf "%.*e" with a growing
 * precision until strtod() gives the same double back, also trying the
 * neighbouring last digit for the asymmetric interval at powers of two),
 * which yields the same digits as Go's Ryu for every finite double.
 */
#ifndef SOTTO_GOFMT_H
#define SOTTO_GOFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Enough room for any float64 in any of the formats below, NUL included. */
#define SOTTO_GOFMT_FLOAT_MAX 400
/* Enough room for any int64, NUL included. */
#define SOTTO_GOFMT_INT_MAX 24

/*
 * strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, never an
 * exponent ("1e21" -> "1000000000000000000000", 1.0 -> "1"), "-0" for
 * negative zero, and "+Inf", "-Inf", "NaN".  Writes a NUL-terminated string
 * to out and returns its length, or -1 if cap is too small.
 */
int sotto_gofmt_float_f(char *out, size_t cap, double v);

/*
 * strconv.FormatFloat(v, 'g', -1, 64), as yaml.v3 emits floats: 'e' form
 * when the decimal exponent is < -4 or >= 6 ("1e+06", "1.234568e+09",
 * "1e-05"), else 'f' form.  Specials as above (yaml.v3 maps them to .inf,
 * -.inf and .nan itself; callers do that).  Returns length or -1.
 */
int sotto_gofmt_float_g(char *out, size_t cap, double v);

/*
 * encoding/json's float64 text: 'f' form unless |v| < 1e-6 or >= 1e21
 * (v != 0), then 'e' form with a one-digit negative exponent cleaned up
 * ("1e-07" -> "1e-7"; "1e+21" stays).  Returns -1 for NaN and +-Inf,
 * which Go's encoder refuses, or if cap is too small.
 */
int sotto_gofmt_float_json(char *out, size_t cap, double v);

/* strconv.Itoa / FormatInt(v, 10).  Returns length or -1. */
int sotto_gofmt_int(char *out, size_t cap, int64_t v);

/*
 * strconv.Atoi on 64-bit: optional '+' or '-', then one or more decimal
 * digits (leading zeros fine), nothing else, value within int64.  s need
 * not be NUL-terminated.  Returns false (out untouched) otherwise.
 */
bool sotto_gofmt_parse_int(const char *s, size_t n, int64_t *out);

/*
 * strconv.ParseFloat(s, 64): Go float literal syntax (decimal with optional
 * fraction and exponent; hex "0x1.8p-2" which needs its 'p' exponent;
 * underscores only between digits or after a base prefix, as Go's
 * underscoreOK), or case-insensitive "inf", "infinity" (optionally signed)
 * and "nan" (unsigned).  Out-of-range values (rounding to +-Inf) are
 * rejected like Go's ErrRange; underflow to zero is accepted.
 */
bool sotto_gofmt_parse_float(const char *s, size_t n, double *out);

/* strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False. */
bool sotto_gofmt_parse_bool(const char *s, size_t n, bool *out);

/*
 * A timestamp as go-yaml v3 resolves a plain scalar, which also covers Go's
 * time.Parse(time.RFC3339, ...): "2006-1-2" (midnight UTC),
 * "2006-1-2 15:4:5.999999999" (UTC), "2006-1-2T15:4:5.999999999Z07:00"
 * ('T' or 't'; one- or two-digit fields; fraction after '.' or ',';
 * "Z" or a +hh:mm offset up to 24:60), with the calendar checked.  Writes
 * it as Go's time.Format(time.RFC3339) (nano false: whole seconds, as
 * sops' ValToString) or time.RFC3339Nano (nano true: the fraction with
 * trailing zeros dropped, as encoding/json and MarshalText), "Z" for a
 * zero offset.  Returns the length, or -1 when s is not such a timestamp
 * or cap is too small (64 bytes is always enough).
 */
int sotto_gofmt_time_rfc3339(char *out, size_t cap, const char *s, size_t n,
    bool nano);

#endif
