/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for Go (RE2) regexes: the input up to the first NUL
 * (or newline) is the regex, the rest the subject.  The regex goes through
 * the Go-syntax parser, PCRE2 compilation and matching; a regex the parser
 * accepts must compile (PCRE2 refusing what Go accepts is a bug, except
 * for size), and matching must never fail on a small subject.  Must never
 * crash, leak or hang (matching is PCRE2's DFA: linear, no backtracking).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/regex.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf b = SOTTO_BUF_INIT;
	struct sotto_regex *re = NULL;
	const char *subj;
	char *pat;
	size_t i, slen;
	bool m;
	sotto_err t, c;

	if (size > 4096)
		return 0;
	for (i = 0; i < size && data[i] != '\0' && data[i] != '\n'; i++)
		;
	if ((pat = malloc(i + 1)) == NULL)
		return 0;
	memcpy(pat, data, i);
	pat[i] = '\0';
	subj = i < size ? (const char *)data + i + 1 : "";
	slen = i < size ? size - i - 1 : 0;
	t = sotto_regex_translate(&b, pat, &e);
	c = sotto_regex_compile(&re, pat, &e);
	if ((t == SOTTO_OK) != (c == SOTTO_OK) && e.code != SOTTO_E_NOMEM &&
	    strstr(e.msg, "too large") == NULL)
		abort();	/* the parser and the compiler disagree */
	if (c == SOTTO_OK) {
		if (sotto_regex_match(&m, re, subj, slen, &e) != SOTTO_OK &&
		    e.code != SOTTO_E_NOMEM)
			abort();
		(void)sotto_regex_match(&m, re, "", 0, &e);
		sotto_regex_free(re);
	}
	sotto_buf_release(&b);
	free(pat);
	return 0;
}
