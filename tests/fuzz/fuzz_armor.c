/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the age ASCII armor reader until EOF or error, read in
 * irregular pieces.  What decodes must survive a write/read round trip
 * unchanged.  Seeds: tests/fuzz/seeds/fuzz_armor/.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/age_internal.h"

struct mem_src {
	const uint8_t *p;
	size_t n, off;
};

static sotto_err
mem_read(void *ctx, uint8_t *p, size_t n, size_t *got, struct sotto_error *e)
{
	struct mem_src *m = ctx;

	(void)e;
	if (n > m->n - m->off)
		n = m->n - m->off;
	memcpy(p, m->p + m->off, n);
	m->off += n;
	*got = n;
	return SOTTO_OK;
}

static sotto_err
buf_sink(void *ctx, const uint8_t *p, size_t n, struct sotto_error *e)
{
	if (sotto_buf_add(ctx, p, n))
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

/* Decodes armored bytes into out; returns the reader's final status. */
static sotto_err
dearmor(struct sotto_buf *out, const uint8_t *p, size_t n)
{
	static const size_t sizes[] = { 1, 5, 48, 1000, 70000 };
	struct age_armor_reader *ar;
	struct mem_src m = { p, n, 0 };
	struct sotto_error e;
	uint8_t tmp[70000];
	size_t got, i = 0;
	sotto_err err;

	if (age_armor_reader_new(&ar, mem_read, &m, NULL, 0) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	do {
		err = age_armor_read(ar, tmp, sizes[i++ % 5], &got, &e);
		if (err == SOTTO_OK && sotto_buf_add(out, tmp, got))
			err = SOTTO_E_NOMEM;
	} while (err == SOTTO_OK && got > 0);
	age_armor_reader_free(ar);
	return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sotto_buf dec = SOTTO_BUF_INIT, enc = SOTTO_BUF_INIT;
	struct sotto_buf dec2 = SOTTO_BUF_INIT;
	struct age_armor_writer *w;
	struct sotto_error e;

	if (dearmor(&dec, data, size) == SOTTO_OK) {
		w = age_armor_writer_new(buf_sink, &enc);
		if (w == NULL)
			abort();
		if (age_armor_write(w, dec.data, dec.len, &e) != SOTTO_OK ||
		    age_armor_writer_finish(w, &e) != SOTTO_OK)
			abort();
		age_armor_writer_free(w);
		if (dearmor(&dec2, enc.data, enc.len) != SOTTO_OK ||
		    dec2.len != dec.len ||
		    (dec.len > 0 && memcmp(dec.data, dec2.data, dec.len) != 0))
			abort();
	}
	sotto_buf_release(&dec);
	sotto_buf_release(&dec2);
	sotto_buf_release(&enc);
	return 0;
}
