/* SPDX-License-Identifier: ISC */
/*
 * Regular expressions as sops has them: Go's regexp (RE2 syntax, Perl
 * flags), compiled for PCRE2.  The RE2 parse is done here, so exactly
 * what Go accepts is accepted and what it refuses (backreferences,
 * lookarounds, atomic groups, possessive quantifiers, \C, recursion,
 * ...) is refused with Go's error text; every construct is then written
 * in a PCRE2 form with Go's meaning (\s without \v, ASCII \w \d \b, '$'
 * as \z outside (?m), '.' without \n, no backreference numbering).
 * Matching is Go's MatchString: unanchored, true when any match exists,
 * invalid UTF-8 in the subject read as U+FFFD per byte.  It runs PCRE2's
 * DFA matcher from one anchored pass, so the work is bounded by pattern
 * size times subject length, as with RE2 (no backtracking blow-up).
 *
 * Known differences, all refused rather than matched differently:
 * \p{L} \p{Ll} \p{Lu} \p{Lt} \p{M} \p{Mn} \p{Greek} \p{Common}
 * \p{Inherited} under (?i) (Go adds case-folded code points to those
 * tables; PCRE2 does not).  Unicode tables are PCRE2's (Unicode version
 * may differ from the Go that built sops).
 */
#ifndef SOTTO_REGEX_H
#define SOTTO_REGEX_H

#include <stdbool.h>
#include <stddef.h>

#include "sotto/buf.h"
#include "sotto/error.h"

struct sotto_regex;

/*
 * Compiles re2 (a NUL-terminated Go regexp).  *out is new (free with
 * sotto_regex_free()).  Errors: SOTTO_E_BAD_REGEX "regex '<re>': error
 * parsing regexp: <Go's reason>: `<part>`" plus a hint in parentheses
 * for constructs RE2 lacks; SOTTO_E_NOMEM.  The regex text in messages is
 * escaped and truncated.
 */
sotto_err sotto_regex_compile(struct sotto_regex **out, const char *re2,
    struct sotto_error *e);

/*
 * *matched = whether re matches anywhere in s[0..n) (Go's MatchString).
 * Safe to call from several threads on one regex.  Errors: SOTTO_E_LIMIT
 * when PCRE2's work limits stop the match (names the regex, never the
 * subject, which may be a secret comment); SOTTO_E_NOMEM.
 */
sotto_err sotto_regex_match(bool *matched, const struct sotto_regex *re,
    const char *s, size_t n, struct sotto_error *e);

/* The regex as given to sotto_regex_compile() (borrowed). */
const char *sotto_regex_source(const struct sotto_regex *re);

/* Frees re; NULL is a no-op. */
void sotto_regex_free(struct sotto_regex *re);

/*
 * The RE2 parse alone: appends to out the PCRE2 pattern re2 compiles to
 * (before the unanchored-search wrapper).  Same errors as compile.  For
 * tests and the fuzz target.
 */
sotto_err sotto_regex_translate(struct sotto_buf *out, const char *re2,
    struct sotto_error *e);

/* Writes PCRE2's version ("10.42 2022-12-11") to buf (cap >= 32). */
void sotto_regex_version(char *buf, size_t cap);

#endif
