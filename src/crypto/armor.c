/* SPDX-License-Identifier: ISC */
/*
 * age ASCII armor (spec age-format.md §8): a strict RFC 7468 reader that
 * decodes while streaming, and the writer.  Every violation is an armor
 * failure, including ones found only at the end of the stream.  The reader
 * accepts exactly what the reference (age's armor.go, v1.3) accepts: a
 * line that decodes to fewer than 48 bytes is the last, even a 64-column
 * one ending in '=', and whitespace is what Go's bytes.TrimSpace trims.
 */
#include "crypto/age_internal.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/b64.h"

#define ARMOR_MAX_WS 1024
#define ARMOR_COLS 64
#define ARMOR_BYTES 48		/* decoded bytes of a full line */

struct age_armor_reader {
	sotto_age_read_fn src;	/* raw bytes */
	void *srcctx;
	uint8_t *in;		/* raw read-ahead */
	size_t in_cap, in_off, in_len;
	bool in_eof;
	uint8_t out[ARMOR_BYTES]; /* decoded bytes of the current line */
	size_t out_off, out_len;
	int state;		/* 0 begin, 1 data, 2 done */
};

/*
 * The byte length of the whitespace character at p (Go's unicode.IsSpace,
 * as bytes.TrimSpace uses it: ASCII \t \n \v \f \r and space, and in UTF-8
 * U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F,
 * U+3000), or 0.
 */
size_t
age_armor_space(const uint8_t *p, size_t n)
{
	static const char *const wide[] = {
		"\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80", "\xe2\x80\xa8",
		"\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80",
	};
	size_t i, k;

	if (n == 0)
		return 0;
	if (p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r'))
		return 1;
	if (n >= 3 && p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x80 &&
	    p[2] <= 0x8a)
		return 3;
	for (i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
		k = strlen(wide[i]);
		if (n >= k && memcmp(p, wide[i], k) == 0)
			return k;
	}
	return 0;
}

/* True if p[0..n) is all whitespace (Go: bytes.TrimSpace(p) is empty). */
static bool
all_space(const uint8_t *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((k = age_armor_space(p + i, n - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

bool
age_armor_detect(const uint8_t *p, size_t n)
{
	size_t i = 0, k, h = strlen(AGE_ARMOR_BEGIN);

	if (n > ARMOR_MAX_WS + h)
		n = ARMOR_MAX_WS + h;
	while (i < n && (k = age_armor_space(p + i, n - i)) != 0)
		i += k;
	return n - i >= h && memcmp(p + i, AGE_ARMOR_BEGIN, h) == 0;
}

sotto_err
age_armor_reader_new(struct age_armor_reader **out, sotto_age_read_fn src,
    void *srcctx, const uint8_t *pre, size_t prelen)
{
	struct age_armor_reader *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return SOTTO_E_NOMEM;
	a->in_cap = prelen > 16384 ? prelen : 16384;
	a->in = malloc(a->in_cap);
	if (a->in == NULL) {
		free(a);
		return SOTTO_E_NOMEM;
	}
	a->src = src;
	a->srcctx = srcctx;
	if (prelen > 0)
		memcpy(a->in, pre, prelen);
	a->in_len = prelen;
	*out = a;
	return SOTTO_OK;
}

void
age_armor_reader_free(struct age_armor_reader *a)
{
	if (a == NULL)
		return;
	free(a->in);
	free(a);
}

/* Returns the next raw byte in *c, or -1 at EOF (0 = ok). */
static sotto_err
next_byte(struct age_armor_reader *a, int *c, struct sotto_error *e)
{
	size_t got;
	sotto_err err;

	if (a->in_off == a->in_len) {
		if (a->in_eof) {
			*c = -1;
			return SOTTO_OK;
		}
		err = a->src(a->srcctx, a->in, a->in_cap, &got, e);
		if (err != SOTTO_OK)
			return err;
		a->in_off = 0;
		a->in_len = got;
		if (got == 0) {
			a->in_eof = true;
			*c = -1;
			return SOTTO_OK;
		}
	}
	*c = a->in[a->in_off++];
	return SOTTO_OK;
}

/*
 * Reads one line as Go's armor reader does: up to LF, then that LF and one
 * CR before it are removed; a last line without LF counts.  At most max
 * bytes fit in line (longer: an armor failure with too_long as the
 * message).  *len = -1 at EOF with nothing read.
 */
static sotto_err
read_line(struct age_armor_reader *a, uint8_t *line, size_t max, long *len,
    const char *too_long, struct sotto_error *e)
{
	size_t n = 0;
	int c;
	sotto_err err;

	for (;;) {
		if ((err = next_byte(a, &c, e)) != SOTTO_OK)
			return err;
		if (c < 0) {
			*len = n == 0 ? -1 : (long)n;
			break;
		}
		if (c == '\n') {
			*len = (long)n;
			break;
		}
		if (n == max)
			return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
			    "invalid armor: %s", too_long);
		line[n++] = (uint8_t)c;
	}
	if (*len > 0 && line[*len - 1] == '\r')
		(*len)--;
	return SOTTO_OK;
}

static bool
is_line(const uint8_t *line, long len, const char *want)
{
	return len == (long)strlen(want) &&
	    memcmp(line, want, (size_t)len) == 0;
}

/*
 * Skips lines that are all whitespace (at most 1024 bytes counting one
 * per line end, as Go does), then wants the exact BEGIN line.
 */
static sotto_err
read_begin(struct age_armor_reader *a, struct sotto_error *e)
{
	uint8_t line[ARMOR_MAX_WS + 2];
	size_t ws = 0;
	long len;
	sotto_err err;

	for (;;) {
		err = read_line(a, line, sizeof(line), &len,
		    "malformed BEGIN line", e);
		if (err != SOTTO_OK)
			return err;
		if (len < 0)
			return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
			    "invalid armor: no BEGIN line");
		if (!all_space(line, (size_t)len))
			break;
		ws += (size_t)len + 1;
		if (ws > ARMOR_MAX_WS)
			return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
			    "invalid armor: too much leading whitespace");
	}
	if (!is_line(line, len, AGE_ARMOR_BEGIN))
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: malformed BEGIN line");
	return SOTTO_OK;
}

/* After END: whitespace only, fewer than 1024 bytes. */
static sotto_err
check_trailer(struct age_armor_reader *a, struct sotto_error *e)
{
	uint8_t buf[ARMOR_MAX_WS];
	size_t n = 0;
	int c;
	sotto_err err;

	while (n < sizeof(buf)) {
		if ((err = next_byte(a, &c, e)) != SOTTO_OK)
			return err;
		if (c < 0)
			break;
		buf[n++] = (uint8_t)c;
	}
	if (!all_space(buf, n))
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: trailing data after END line");
	if (n == sizeof(buf))
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: too much trailing whitespace");
	return SOTTO_OK;
}

/* Wants the END line next, then checks what follows it. */
static sotto_err
read_end(struct age_armor_reader *a, struct sotto_error *e)
{
	uint8_t line[ARMOR_COLS + 2];
	long len;
	sotto_err err;

	err = read_line(a, line, sizeof(line), &len,
	    "short line not followed by END line", e);
	if (err != SOTTO_OK)
		return err;
	if (len < 0)
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: missing END line");
	if (!is_line(line, len, AGE_ARMOR_END))
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: short line not followed by END line");
	a->state = 2;
	return check_trailer(a, e);
}

/*
 * Decodes the next data line into a->out, or finishes at END.  A line is
 * 1..64 columns of strict padded base64 (a CR inside it is skipped, as Go's
 * decoder skips it); one that decodes to fewer than 48 bytes, padded or
 * not, is the last and END must follow it at once.
 */
static sotto_err
next_line(struct age_armor_reader *a, struct sotto_error *e)
{
	uint8_t line[ARMOR_COLS + 2];
	char b64[ARMOR_COLS];
	size_t got, i, k = 0;
	long len;
	sotto_err err;

	err = read_line(a, line, sizeof(line), &len,
	    "line longer than 64 columns", e);
	if (err != SOTTO_OK)
		return err;
	if (len < 0)
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: missing END line");
	if (is_line(line, len, AGE_ARMOR_END)) {
		a->state = 2;
		return check_trailer(a, e);
	}
	if (len == 0)
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: empty line");
	if (len > ARMOR_COLS)
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: line longer than 64 columns");
	for (i = 0; i < (size_t)len; i++)
		if (line[i] != '\r')
			b64[k++] = (char)line[i];
	if (!sotto_b64_decode(a->out, &got, b64, k, true))
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: bad base64 line");
	a->out_off = 0;
	a->out_len = got;
	if (got < ARMOR_BYTES)
		return read_end(a, e);
	return SOTTO_OK;
}

sotto_err
age_armor_read(void *ctx, uint8_t *p, size_t n, size_t *got,
    struct sotto_error *e)
{
	struct age_armor_reader *a = ctx;
	size_t k;
	sotto_err err;

	*got = 0;
	if (a->state == 0) {
		if ((err = read_begin(a, e)) != SOTTO_OK)
			return err;
		a->state = 1;
	}
	while (*got < n) {
		if (a->out_off == a->out_len) {
			if (a->state == 2)
				break;
			if ((err = next_line(a, e)) != SOTTO_OK)
				return err;
			continue;
		}
		k = a->out_len - a->out_off;
		if (k > n - *got)
			k = n - *got;
		memcpy(p + *got, a->out + a->out_off, k);
		a->out_off += k;
		*got += k;
	}
	return SOTTO_OK;
}

struct age_armor_writer {
	sotto_age_write_fn sink;	/* where armored text goes */
	void *sinkctx;
	uint8_t pend[48];		/* bytes not yet encoded */
	size_t npend;
	bool begun;
	struct sotto_buf line;		/* encode scratch */
};

struct age_armor_writer *
age_armor_writer_new(sotto_age_write_fn sink, void *sinkctx)
{
	struct age_armor_writer *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->sink = sink;
	a->sinkctx = sinkctx;
	return a;
}

static sotto_err
emit_line(struct age_armor_writer *a, const uint8_t *p, size_t n,
    struct sotto_error *e)
{
	sotto_buf_truncate(&a->line, 0);
	if (sotto_b64_encode(&a->line, p, n, true) ||
	    sotto_buf_addch(&a->line, '\n'))
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return a->sink(a->sinkctx, a->line.data, a->line.len, e);
}

static sotto_err
begin(struct age_armor_writer *a, struct sotto_error *e)
{
	if (a->begun)
		return SOTTO_OK;
	a->begun = true;
	return a->sink(a->sinkctx, (const uint8_t *)AGE_ARMOR_BEGIN "\n",
	    strlen(AGE_ARMOR_BEGIN) + 1, e);
}

sotto_err
age_armor_write(void *ctx, const uint8_t *p, size_t n, struct sotto_error *e)
{
	struct age_armor_writer *a = ctx;
	struct sotto_buf big = SOTTO_BUF_INIT;
	size_t k, lines;
	sotto_err err;

	if ((err = begin(a, e)) != SOTTO_OK)
		return err;
	/* complete the pending line first; keep at most 48 bytes pending
	 * (never a full line, so the writer knows the last line at finish) */
	while (n > 0 && a->npend < 48) {
		a->pend[a->npend++] = *p++;
		n--;
	}
	if (n == 0)
		return SOTTO_OK;
	if ((err = emit_line(a, a->pend, 48, e)) != SOTTO_OK)
		return err;
	a->npend = 0;
	/* bulk: all full lines but keep the tail (1..48 bytes) pending */
	lines = (n - 1) / 48;
	for (k = 0; k < lines; k++) {
		if (sotto_b64_encode(&big, p + 48 * k, 48, true) ||
		    sotto_buf_addch(&big, '\n')) {
			sotto_buf_release(&big);
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		}
	}
	if (big.len > 0)
		err = a->sink(a->sinkctx, big.data, big.len, e);
	sotto_buf_release(&big);
	if (err != SOTTO_OK)
		return err;
	p += 48 * lines;
	n -= 48 * lines;
	memcpy(a->pend, p, n);
	a->npend = n;
	return SOTTO_OK;
}

sotto_err
age_armor_writer_finish(struct age_armor_writer *a, struct sotto_error *e)
{
	sotto_err err;

	if ((err = begin(a, e)) != SOTTO_OK)
		return err;
	if (a->npend > 0 && (err = emit_line(a, a->pend, a->npend, e)))
		return err;
	a->npend = 0;
	return a->sink(a->sinkctx, (const uint8_t *)AGE_ARMOR_END "\n",
	    strlen(AGE_ARMOR_END) + 1, e);
}

void
age_armor_writer_free(struct age_armor_writer *a)
{
	if (a == NULL)
		return;
	sotto_buf_release(&a->line);
	free(a);
}
