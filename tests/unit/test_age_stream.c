/* SPDX-License-Identifier: ISC */
/*
 * The parallel STREAM payload (src/crypto/age_stream.c): the same bytes
 * whatever the thread count, chunks released strictly in order, and a
 * failed chunk k of n stopping the output after exactly k-1 chunks.
 */
#include "testutil.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>

#include "crypto/age_internal.h"
#include "crypto/prim.h"
#include "sotto/secret.h"

#define CHUNK SOTTO_AGE_CHUNK
#define CT (CHUNK + 16)

struct mem {
	const uint8_t *p;	/* input */
	size_t n, off;
	size_t step;		/* largest read returned (short reads) */
};

static sotto_err
mem_read(void *ctx, uint8_t *p, size_t n, size_t *got, struct sotto_error *e)
{
	struct mem *m = ctx;

	(void)e;
	if (m->step > 0 && n > m->step)
		n = m->step;
	if (n > m->n - m->off)
		n = m->n - m->off;
	memcpy(p, m->p + m->off, n);
	m->off += n;
	*got = n;
	return SOTTO_OK;
}

/* A sink that records every release (its size) in order. */
struct rec {
	struct sotto_buf out;
	size_t sizes[64];
	size_t nsizes;
};

static sotto_err
rec_write(void *ctx, const uint8_t *p, size_t n, struct sotto_error *e)
{
	struct rec *r = ctx;

	(void)e;
	if (r->nsizes < 64)
		r->sizes[r->nsizes++] = n;
	return sotto_buf_add(&r->out, p, n) == 0 ? SOTTO_OK : SOTTO_E_NOMEM;
}

static void
reader_over(struct age_reader *r, struct mem *m)
{
	memset(r, 0, sizeof(*r));
	r->fn = mem_read;
	r->ctx = m;
	r->cap = CT;
	r->buf = malloc(r->cap);
	assert_non_null(r->buf);
}

static sotto_err
run(bool dec, const uint8_t *in, size_t n, size_t step, unsigned threads,
    const uint8_t key[32], struct rec *out, struct sotto_error *e)
{
	struct mem m = { in, n, 0, step };
	struct age_reader r;
	sotto_err err;

	reader_over(&r, &m);
	memset(out, 0, sizeof(*out));
	err = dec ? age_stream_decrypt(&r, key, threads, rec_write, out, e) :
	    age_stream_encrypt(&r, key, threads, rec_write, out, e);
	free(r.buf);
	return err;
}

static uint8_t *
plaintext(size_t n)
{
	uint8_t *p = malloc(n + 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + (i >> 16));
	return p;
}

/* Sizes around chunk boundaries, sealed on 1..8 threads: same bytes. */
static void
test_age_stream_same_bytes_any_threads(void **state)
{
	static const size_t sizes[] = { 0, 1, CHUNK - 1, CHUNK, CHUNK + 1,
	    2 * CHUNK, 5 * CHUNK + 7, 9 * CHUNK };
	static const unsigned threads[] = { 2, 3, 4, 8, 16 };
	uint8_t key[32];
	struct sotto_error e;
	struct rec one, many, back;
	size_t i, j;
	uint8_t *p;

	(void)state;
	randombytes_buf(key, sizeof(key));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = plaintext(sizes[i]);
		assert_int_equal(run(false, p, sizes[i], 0, 1, key, &one, &e),
		    SOTTO_OK);
		for (j = 0; j < sizeof(threads) / sizeof(threads[0]); j++) {
			/* short reads too: a pipe gives what it has */
			assert_int_equal(run(false, p, sizes[i], j * 1000,
			    threads[j], key, &many, &e), SOTTO_OK);
			assert_int_equal(many.out.len, one.out.len);
			assert_memory_equal(many.out.data, one.out.data,
			    one.out.len);
			assert_int_equal(run(true, one.out.data, one.out.len,
			    0, threads[j], key, &back, &e), SOTTO_OK);
			assert_int_equal(back.out.len, sizes[i]);
			if (sizes[i] > 0)
				assert_memory_equal(back.out.data, p,
				    sizes[i]);
			sotto_buf_release(&many.out);
			sotto_buf_release(&back.out);
		}
		sotto_buf_release(&one.out);
		free(p);
	}
}

/*
 * A byte flipped in chunk k (1-based) of n: exactly k-1 whole chunks are
 * released, in order, then the error names chunk k-1 (0-based).
 */
static void
test_age_stream_tamper_stops_at_chunk(void **state)
{
	const size_t n = 9, len = n * CHUNK - 100;
	static const unsigned threads[] = { 1, 2, 4, 16 };
	uint8_t key[32], *p, *ct;
	struct sotto_error e;
	struct rec enc, dec;
	size_t k, j, i, at;
	char want[80];

	(void)state;
	randombytes_buf(key, sizeof(key));
	p = plaintext(len);
	assert_int_equal(run(false, p, len, 0, 1, key, &enc, &e), SOTTO_OK);
	ct = malloc(enc.out.len);
	assert_non_null(ct);
	for (k = 1; k <= n; k++) {
		for (j = 0; j < sizeof(threads) / sizeof(threads[0]); j++) {
			memcpy(ct, enc.out.data, enc.out.len);
			at = (k - 1) * CT + (k * 977) % (k == n ?
			    enc.out.len - (n - 1) * CT : CT);
			ct[at] ^= 0x40;
			assert_int_equal(run(true, ct, enc.out.len, 0,
			    threads[j], key, &dec, &e), SOTTO_E_AGE_PAYLOAD);
			assert_int_equal(dec.out.len, (k - 1) * CHUNK);
			assert_int_equal(dec.nsizes, k - 1);
			for (i = 0; i < dec.nsizes; i++)
				assert_int_equal(dec.sizes[i], CHUNK);
			if (dec.out.len > 0)
				assert_memory_equal(dec.out.data, p,
				    dec.out.len);
			snprintf(want, sizeof(want), "chunk %zu failed", k - 1);
			assert_non_null(strstr(e.msg, want));
			sotto_buf_release(&dec.out);
		}
	}
	free(ct);
	sotto_buf_release(&enc.out);
	free(p);
}

/*
 * Truncation at a chunk boundary and trailing data: all whole chunks
 * before are released, then the payload error.
 */
static void
test_age_stream_truncated_and_trailing(void **state)
{
	const size_t len = 4 * CHUNK;	/* 4 full chunks, the last full */
	uint8_t key[32], *p, *ct;
	struct sotto_error e;
	struct rec enc, dec;
	unsigned t;

	(void)state;
	randombytes_buf(key, sizeof(key));
	p = plaintext(len);
	assert_int_equal(run(false, p, len, 0, 1, key, &enc, &e), SOTTO_OK);
	assert_int_equal(enc.out.len, 4 * CT);
	ct = malloc(enc.out.len + 1);
	assert_non_null(ct);
	memcpy(ct, enc.out.data, enc.out.len);
	ct[enc.out.len] = 'x';
	for (t = 1; t <= 8; t *= 2) {
		assert_int_equal(run(true, ct, 3 * CT, 0, t, key, &dec, &e),
		    SOTTO_E_AGE_PAYLOAD);
		assert_int_equal(dec.out.len, 3 * CHUNK);
		assert_non_null(strstr(e.msg, "missing final chunk"));
		sotto_buf_release(&dec.out);
		assert_int_equal(run(true, ct, 4 * CT + 1, 0, t, key, &dec,
		    &e), SOTTO_E_AGE_PAYLOAD);
		assert_int_equal(dec.out.len, 4 * CHUNK);	/* as Go */
		assert_non_null(strstr(e.msg, "trailing data"));
		sotto_buf_release(&dec.out);
		assert_int_equal(run(true, ct, 4 * CT, 0, t, key, &dec, &e),
		    SOTTO_OK);
		assert_memory_equal(dec.out.data, p, len);
		sotto_buf_release(&dec.out);
	}
	free(ct);
	sotto_buf_release(&enc.out);
	free(p);
}

/* Threads in this process now (Linux /proc), 0 if it cannot tell. */
static int
threads_now(void)
{
	char line[128];
	int n = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

struct watch {
	struct rec rec;
	pthread_t caller;
	int most;		/* threads seen at a release */
	bool other;		/* released on another thread */
};

static sotto_err
watch_write(void *ctx, const uint8_t *p, size_t n, struct sotto_error *e)
{
	struct watch *w = ctx;
	int t = threads_now();

	if (t > w->most)
		w->most = t;
	if (!pthread_equal(pthread_self(), w->caller))
		w->other = true;
	return rec_write(&w->rec, p, n, e);
}

/*
 * A payload of one chunk (a small file) is sealed, opened and released on
 * the calling thread with no thread started, whatever the thread count;
 * every thread started is joined before the call returns.
 */
static void
test_age_stream_small_starts_no_thread(void **state)
{
	static const size_t sizes[] = { 0, 1, 100, CHUNK - 1, CHUNK,
	    3 * CHUNK + 5 };
	uint8_t key[32], *p;
	struct sotto_error e;
	struct watch enc, dec;
	struct mem m;
	struct age_reader r;
	int before = threads_now();
	size_t i;

	(void)state;
	if (before == 0)
		skip();
	randombytes_buf(key, sizeof(key));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = plaintext(sizes[i]);
		memset(&enc, 0, sizeof(enc));
		enc.caller = pthread_self();
		m = (struct mem){ p, sizes[i], 0, 0 };
		reader_over(&r, &m);
		assert_int_equal(age_stream_encrypt(&r, key, 16, watch_write,
		    &enc, &e), SOTTO_OK);
		free(r.buf);
		memset(&dec, 0, sizeof(dec));
		dec.caller = pthread_self();
		m = (struct mem){ enc.rec.out.data, enc.rec.out.len, 0, 0 };
		reader_over(&r, &m);
		assert_int_equal(age_stream_decrypt(&r, key, 16, watch_write,
		    &dec, &e), SOTTO_OK);
		free(r.buf);
		assert_int_equal(dec.rec.out.len, sizes[i]);
		if (sizes[i] > 0)
			assert_memory_equal(dec.rec.out.data, p, sizes[i]);
		if (sizes[i] <= CHUNK) {
			assert_false(enc.other);
			assert_false(dec.other);
			assert_int_equal(enc.rec.nsizes, 1);
			assert_int_equal(enc.most, before);
			assert_int_equal(dec.most, before);
		}
		sotto_buf_release(&enc.rec.out);
		sotto_buf_release(&dec.rec.out);
		free(p);
	}
	assert_int_equal(threads_now(), before);	/* all joined */
}

static void
test_age_stream_threads_capped(void **state)
{
	(void)state;
	assert_true(age_stream_threads(0) >= 1);
	assert_true(age_stream_threads(0) <= AGE_STREAM_THREADS_MAX);
	assert_int_equal(age_stream_threads(1), 1);
	assert_int_equal(age_stream_threads(1000), AGE_STREAM_THREADS_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age_stream_same_bytes_any_threads),
		cmocka_unit_test(test_age_stream_tamper_stops_at_chunk),
		cmocka_unit_test(test_age_stream_truncated_and_trailing),
		cmocka_unit_test(test_age_stream_small_starts_no_thread),
		cmocka_unit_test(test_age_stream_threads_capped),
	};

	if (sotto_secret_init() != SOTTO_OK || sotto_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
