/* SPDX-License-Identifier: ISC */
/*
 * The age STREAM payload (spec age-format.md §6): ChaCha20-Poly1305 over
 * 64 KiB chunks with an 11-byte big-endian counter and a last-chunk flag.
 * Decryption releases each chunk to the sink as soon as it authenticates
 * and never releases a byte that did not.  The header belongs to
 * age_header.c.
 */
#include "crypto/age_internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/prim.h"

#define CT_CHUNK (SOTTO_AGE_CHUNK + 16)

static void
nonce_set(uint8_t nonce[12], uint64_t counter, bool last)
{
	int i;

	memset(nonce, 0, 12);
	for (i = 0; i < 8; i++)
		nonce[10 - i] = (uint8_t)(counter >> (8 * i));
	nonce[11] = last ? 1 : 0;
}

sotto_err
age_stream_decrypt(struct age_reader *r, const uint8_t key[32],
    sotto_age_write_fn sink, void *sinkctx, struct sotto_error *e)
{
	struct sotto_chacha *c;
	uint8_t *ct = NULL, *pt = NULL, nonce[12], extra;
	uint64_t counter = 0;
	size_t n, more;
	bool last;
	sotto_err err;

	c = sotto_chacha_new(key);
	ct = malloc(CT_CHUNK);
	pt = sodium_malloc(CT_CHUNK);
	if (c == NULL || ct == NULL || pt == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		if ((err = age_reader_read(r, ct, CT_CHUNK, &n, e)) != SOTTO_OK)
			goto out;
		if (n == 0) {
			err = sotto_error_set(e, SOTTO_E_AGE_PAYLOAD,
			    "payload truncated: missing final chunk");
			goto out;
		}
		last = n < CT_CHUNK;
		if (last && counter > 0 && n == 16) {
			err = sotto_error_set(e, SOTTO_E_AGE_PAYLOAD,
			    "payload failure: last chunk is empty");
			goto out;
		}
		nonce_set(nonce, counter, last);
		if (!sotto_chacha_open(c, pt, nonce, ct, n)) {
			if (last) {
				err = sotto_error_set(e, SOTTO_E_AGE_PAYLOAD,
				    "payload failure: chunk %llu failed to "
				    "authenticate (truncated or tampered)",
				    (unsigned long long)counter);
				goto out;
			}
			nonce_set(nonce, counter, true);
			if (!sotto_chacha_open(c, pt, nonce, ct, n)) {
				err = sotto_error_set(e, SOTTO_E_AGE_PAYLOAD,
				    "payload failure: chunk %llu failed to "
				    "authenticate (tampered)",
				    (unsigned long long)counter);
				goto out;
			}
			last = true;
		}
		if ((err = sink(sinkctx, pt, n - 16, e)) != SOTTO_OK)
			goto out;
		if (last) {
			err = age_reader_read(r, &extra, 1, &more, e);
			if (err != SOTTO_OK)
				goto out;
			if (more != 0)
				err = sotto_error_set(e, SOTTO_E_AGE_PAYLOAD,
				    "payload failure: trailing data after the "
				    "final chunk");
			goto out;
		}
		if (++counter == 0) {	/* unreachable: 2^64 chunks */
			err = sotto_error_set(e, SOTTO_E_AGE_PAYLOAD,
			    "payload too long");
			goto out;
		}
	}
out:
	if (pt != NULL)
		sodium_free(pt);
	free(ct);
	sotto_chacha_free(c);
	sodium_memzero(nonce, sizeof(nonce));
	return err;
}

struct age_stream_enc {
	struct sotto_chacha *c;	/* keyed with the payload key */
	uint64_t counter;	/* next chunk number */
	bool done;		/* last chunk written */
};

struct age_stream_enc *
age_stream_enc_new(const uint8_t key[32])
{
	struct age_stream_enc *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->c = sotto_chacha_new(key);
	if (s->c == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

sotto_err
age_stream_enc_chunk(struct age_stream_enc *s, uint8_t *out,
    const uint8_t *in, size_t n, bool last, struct sotto_error *e)
{
	uint8_t nonce[12];

	if (s->done || n > SOTTO_AGE_CHUNK || (!last && n != SOTTO_AGE_CHUNK))
		return sotto_error_set(e, SOTTO_E_INTERNAL,
		    "STREAM misuse");
	nonce_set(nonce, s->counter, last);
	if (!sotto_chacha_seal(s->c, out, nonce, in, n))
		return sotto_error_set(e, SOTTO_E_CRYPTO,
		    "chunk encryption failed");
	s->counter++;
	s->done = last;
	return SOTTO_OK;
}

void
age_stream_enc_free(struct age_stream_enc *s)
{
	if (s == NULL)
		return;
	sotto_chacha_free(s->c);
	free(s);
}
