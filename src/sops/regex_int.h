/* SPDX-License-Identifier: ISC */
/*
 * Shared between regex.c (PCRE2 compile and match) and regex_syntax.c
 * (Go syntax -> PCRE2 pattern).  Not a public API.
 */
#ifndef SOTTO_REGEX_INT_H
#define SOTTO_REGEX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sotto/buf.h"
#include "sotto/error.h"

/* Go's maxHeight, counted here in open groups. */
#define SOTTO_REGEX_MAX_NEST	1000

/*
 * Decodes one rune at s (avail bytes, avail > 0) as Go's utf8.DecodeRune
 * does: returns its length, or 0 for an invalid sequence.
 */
size_t sotto_regex_utf8_rune(const unsigned char *s, size_t avail,
    uint32_t *r);

/* Appends s[0..n) to b, each invalid UTF-8 byte as U+FFFD (as Go reads). */
sotto_err sotto_regex_utf8_sanitize(struct sotto_buf *b, const char *s,
    size_t n);

/*
 * Copies s[0..n) into dst for a message: control bytes and invalid UTF-8
 * as \xNN, at most max input bytes, "..." when cut.
 */
void sotto_regex_esc(char *dst, size_t cap, const char *s, size_t n,
    size_t max);

/* Whether PCRE2 compiles the one class item (e.g. "\\p{sc:Greek}"). */
bool sotto_regex_script_known(const char *item);

#endif
