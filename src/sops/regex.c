/* SPDX-License-Identifier: ISC */
/*
 * Compiling and matching Go regexps with PCRE2 (the only files that
 * include <pcre2.h> are this one and regex_syntax.c, which turns Go's
 * syntax into a PCRE2 pattern: see there for why a parse of our own).
 *
 * Matching: the pattern P is compiled as the anchored (?s:.)*?(?:P) and
 * run with pcre2_dfa_match(), which walks the subject once keeping every
 * live state (an NFA simulation, as RE2 does): no backtracking, so a
 * hostile regex in a file's metadata cannot make a decrypt run for ages.
 * The UTF-8 helpers here are shared with the parser.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "sotto/regex.h"

#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sops/regex_int.h"

#define DFA_WS_MIN	1000	/* ints of DFA workspace to start with */
#define DFA_WS_MAX	(1u << 22)

struct sotto_regex {
	pcre2_code *code;	/* anchored (?s:.)*?(?:P) */
	char *src;		/* the Go regexp */
};

/* ------------------------------------------------------------------ */
/* UTF-8 as Go decodes it                                               */

/*
 * Decodes one rune at s (avail bytes, avail > 0) as utf8.DecodeRune does:
 * returns its length, or 0 for an invalid sequence (Go: RuneError, 1).
 */
size_t
sotto_regex_utf8_rune(const unsigned char *s, size_t avail, uint32_t *r)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (c < 0x80) {
		*r = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		*r = c & 0x1Fu;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		*r = c & 0x0Fu;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		*r = c & 0x07u;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (avail < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 1; i < n; i++) {
		if (i > 1 && (s[i] < 0x80 || s[i] > 0xBF))
			return 0;
		*r = (*r << 6) | (s[i] & 0x3Fu);
	}
	return n;
}

/* Appends s[0..n) to b with invalid UTF-8 bytes read as U+FFFD. */
sotto_err
sotto_regex_utf8_sanitize(struct sotto_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	uint32_t r;

	while (i < n) {
		k = sotto_regex_utf8_rune(p + i, n - i, &r);
		if (k == 0) {
			if (sotto_buf_add(b, "\xEF\xBF\xBD", 3))
				return SOTTO_E_NOMEM;
			i++;
		} else {
			if (sotto_buf_add(b, p + i, k))
				return SOTTO_E_NOMEM;
			i += k;
		}
	}
	return SOTTO_OK;
}

/*
 * Copies s[0..n) for a message: control bytes and invalid UTF-8 as \xNN,
 * at most max bytes of input, "..." when cut.
 */
void
sotto_regex_esc(char *dst, size_t cap, const char *s, size_t n, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, k;
	uint32_t r;

	while (i < n && i < max && o + 8 < cap) {
		k = sotto_regex_utf8_rune(p + i, n - i, &r);
		if (k == 0 || r < 0x20 || r == 0x7F) {
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", p[i]);
			i++;
			continue;
		}
		memcpy(dst + o, p + i, k);
		o += k;
		i += k;
	}
	if (i < n && o + 4 < cap) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* Whether PCRE2 knows the script in the one-item class text cls. */
bool
sotto_regex_script_known(const char *item)
{
	char pat[112];
	pcre2_code *c;
	PCRE2_SIZE off;
	int ec;

	snprintf(pat, sizeof(pat), "[%s]", item);
	c = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
	    &ec, &off, NULL);
	pcre2_code_free(c);
	return c != NULL;
}

/* ------------------------------------------------------------------ */
/* compiling and matching                                               */

sotto_err
sotto_regex_compile(struct sotto_regex **out, const char *re2,
    struct sotto_error *e)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	pcre2_compile_context *cc = NULL;
	struct sotto_regex *r = NULL;
	PCRE2_UCHAR pmsg[160];
	PCRE2_SIZE off;
	char rbuf[160];
	int ec;
	sotto_err err;

	*out = NULL;
	if (sotto_buf_addstr(&b, "(?s:.)*?(?:")) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = sotto_regex_translate(&b, re2, e)) != SOTTO_OK)
		goto out;
	if (sotto_buf_addch(&b, ')') ||
	    (cc = pcre2_compile_context_create(NULL)) == NULL ||
	    (r = calloc(1, sizeof(*r))) == NULL ||
	    (r->src = strdup(re2)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
	pcre2_set_parens_nest_limit(cc, 2 * SOTTO_REGEX_MAX_NEST + 16);
	r->code = pcre2_compile((PCRE2_SPTR)b.data, b.len, PCRE2_UTF |
	    PCRE2_ANCHORED | PCRE2_ALT_CIRCUMFLEX | PCRE2_NEVER_BACKSLASH_C |
	    PCRE2_NO_AUTO_CAPTURE | PCRE2_NEVER_UCP, &ec, &off, cc);
	if (r->code == NULL) {
		if (ec == PCRE2_ERROR_NOMEMORY) {
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
			goto out;
		}
		/* only size limits are left for a regex Go accepts */
		pcre2_get_error_message(ec, pmsg, sizeof(pmsg));
		sotto_regex_esc(rbuf, sizeof(rbuf), re2, strlen(re2), 100);
		err = sotto_error_set(e, SOTTO_E_BAD_REGEX, "regex '%s': too "
		    "large for the regex engine (pcre2: %s)", rbuf,
		    (const char *)pmsg);
		goto out;
	}
	*out = r;
	r = NULL;
out:
	pcre2_compile_context_free(cc);
	sotto_regex_free(r);
	sotto_buf_release(&b);
	return err;
}

sotto_err
sotto_regex_match(bool *matched, const struct sotto_regex *re,
    const char *s, size_t n, struct sotto_error *e)
{
	struct sotto_buf clean = SOTTO_BUF_INIT;
	pcre2_match_data *md;
	int ws0[DFA_WS_MIN], *ws = ws0, *nws, rc;
	size_t wsn = DFA_WS_MIN;
	const char *subj = s != NULL ? s : "";
	uint32_t opts = PCRE2_DFA_SHORTEST;
	PCRE2_UCHAR pmsg[120];
	char rbuf[160];
	sotto_err err = SOTTO_OK;

	*matched = false;
	if ((md = pcre2_match_data_create(1, NULL)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	for (;;) {
		rc = pcre2_dfa_match(re->code, (PCRE2_SPTR)subj, n, 0, opts,
		    md, NULL, ws, wsn);
		if (rc <= PCRE2_ERROR_UTF8_ERR1 &&
		    rc >= PCRE2_ERROR_UTF8_ERR21 &&
		    subj != (const char *)clean.data) {
			/* Go reads each invalid byte as U+FFFD */
			if (sotto_regex_utf8_sanitize(&clean, s, n) ||
			    sotto_buf_grow(&clean, 1)) {
				rc = PCRE2_ERROR_NOMEMORY;
				break;
			}
			subj = (const char *)clean.data;
			n = clean.len;
			opts |= PCRE2_NO_UTF_CHECK;
			continue;
		}
		if (rc == PCRE2_ERROR_DFA_WSSIZE && wsn < DFA_WS_MAX) {
			nws = malloc(wsn * 4 * sizeof(*nws));
			if (nws == NULL) {
				rc = PCRE2_ERROR_NOMEMORY;
				break;
			}
			if (ws != ws0)
				free(ws);
			ws = nws;
			wsn *= 4;
			continue;
		}
		break;
	}
	if (rc >= 0) {
		*matched = true;
	} else if (rc == PCRE2_ERROR_NOMEMORY) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	} else if (rc != PCRE2_ERROR_NOMATCH) {
		pcre2_get_error_message(rc, pmsg, sizeof(pmsg));
		sotto_regex_esc(rbuf, sizeof(rbuf), re->src, strlen(re->src), 100);
		err = sotto_error_set(e, SOTTO_E_LIMIT, "regex '%s': matching "
		    "stopped (pcre2: %s)", rbuf, (const char *)pmsg);
	}
	if (ws != ws0)
		free(ws);
	pcre2_match_data_free(md);
	sotto_buf_release(&clean);
	return err;
}

const char *
sotto_regex_source(const struct sotto_regex *re)
{
	return re->src;
}

void
sotto_regex_free(struct sotto_regex *re)
{
	if (re == NULL)
		return;
	pcre2_code_free(re->code);
	free(re->src);
	free(re);
}

void
sotto_regex_version(char *buf, size_t cap)
{
	char v[64];

	if (cap == 0)
		return;
	if (pcre2_config(PCRE2_CONFIG_VERSION, v) < 0)
		snprintf(v, sizeof(v), "%d.%d", PCRE2_MAJOR, PCRE2_MINOR);
	snprintf(buf, cap, "%s", v);
}
