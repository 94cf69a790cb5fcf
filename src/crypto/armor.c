/* SPDX-License-Identifier: ISC */
/*
 * age ASCII armor (spec age-format.md §8): a strict RFC 7468 reader that
 * decodes while streaming, and the writer.  Every violation is an armor
 * failure, including ones found only at the end of the stream.
 */
#include "crypto/age_internal.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/b64.h"

#define ARMOR_MAX_WS 1024
#define ARMOR_COLS 64

struct age_armor_reader {
	sotto_age_read_fn src;	/* raw bytes */
	void *srcctx;
	uint8_t *in;		/* raw read-ahead */
	size_t in_cap, in_off, in_len;
	bool in_eof;
	uint8_t out[48];	/* decoded bytes of the current line */
	size_t out_off, out_len;
	int state;		/* 0 begin, 1 data, 2 done */
	bool short_seen;	/* previous data line was short */
};

static bool
is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	    c == '\r';
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
 * Reads one line (without LF, one trailing CR stripped) of at most max
 * chars into line.  *len = -1 at EOF with nothing read.  *had_lf says
 * whether the line ended in LF.
 */
static sotto_err
read_line(struct age_armor_reader *a, char *line, size_t max, long *len,
    bool *had_lf, struct sotto_error *e)
{
	size_t n = 0;
	int c;
	sotto_err err;

	*had_lf = false;
	for (;;) {
		if ((err = next_byte(a, &c, e)) != SOTTO_OK)
			return err;
		if (c < 0) {
			*len = n == 0 ? -1 : (long)n;
			break;
		}
		if (c == '\n') {
			*had_lf = true;
			*len = (long)n;
			break;
		}
		if (n == max)
			return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
			    "invalid armor: line too long");
		line[n++] = (char)c;
	}
	if (*len > 0 && line[*len - 1] == '\r')
		(*len)--;
	return SOTTO_OK;
}

static sotto_err
read_begin(struct age_armor_reader *a, struct sotto_error *e)
{
	char line[80];
	size_t ws = 0;
	long len;
	bool lf;
	int c;
	sotto_err err;

	for (;;) {	/* skip leading whitespace */
		if ((err = next_byte(a, &c, e)) != SOTTO_OK)
			return err;
		if (c < 0)
			return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
			    "invalid armor: no BEGIN line");
		if (!is_ws((uint8_t)c)) {
			a->in_off--;	/* byte is still in the buffer */
			break;
		}
		if (++ws > ARMOR_MAX_WS)
			return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
			    "invalid armor: too much leading whitespace");
	}
	err = read_line(a, line, sizeof(line), &len, &lf, e);
	if (err == SOTTO_E_AGE_ARMOR || (err == SOTTO_OK && (len !=
	    (long)strlen(AGE_ARMOR_BEGIN) || memcmp(line, AGE_ARMOR_BEGIN,
	    (size_t)len) != 0 || !lf)))
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: malformed BEGIN line");
	return err;
}

static sotto_err
check_trailer(struct age_armor_reader *a, struct sotto_error *e)
{
	size_t n = 0;
	int c;
	sotto_err err;

	for (;;) {
		if ((err = next_byte(a, &c, e)) != SOTTO_OK)
			return err;
		if (c < 0)
			return SOTTO_OK;
		if (!is_ws((uint8_t)c))
			return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
			    "invalid armor: trailing data after END line");
		if (++n >= ARMOR_MAX_WS)
			return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
			    "invalid armor: too much trailing whitespace");
	}
}

/* Decodes the next data line into a->out, or finishes at END. */
static sotto_err
next_line(struct age_armor_reader *a, struct sotto_error *e)
{
	char line[ARMOR_COLS + 2];
	size_t got;
	long len;
	bool lf;
	sotto_err err;

	err = read_line(a, line, sizeof(line), &len, &lf, e);
	if (err != SOTTO_OK)
		return err;
	if (len < 0)
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: missing END line");
	if ((size_t)len == strlen(AGE_ARMOR_END) &&
	    memcmp(line, AGE_ARMOR_END, (size_t)len) == 0) {
		a->state = 2;
		return check_trailer(a, e);
	}
	if (a->short_seen)
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: short line not followed by END line");
	if (len == 0)
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: empty line");
	if (len > ARMOR_COLS)
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: line longer than 64 columns");
	if (!sotto_b64_decode(a->out, &got, line, (size_t)len, true))
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: bad base64 line");
	if (!lf)
		return sotto_error_set(e, SOTTO_E_AGE_ARMOR,
		    "invalid armor: missing END line");
	a->out_off = 0;
	a->out_len = got;
	a->short_seen = len < ARMOR_COLS;
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
