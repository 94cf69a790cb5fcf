/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: bytes through the age header parser (a memory
 * age_reader fed in irregular pieces), then through the whole
 * sotto_age_decrypt with a fixed X25519 identity (armor detection,
 * unwrap, MAC, STREAM).  Seeds: tests/fuzz/seeds/fuzz_age_header/.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/age_internal.h"
#include "sotto/age.h"

/* The CCTV x25519 vector's published test identity. */
static const char key[] =
    "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";

struct mem_src {
	const uint8_t *p;
	size_t n, off;
	unsigned step;
};

static sotto_err
mem_read(void *ctx, uint8_t *p, size_t n, size_t *got, struct sotto_error *e)
{
	static const size_t sizes[] = { 7, 1, 4096, 65536 };
	struct mem_src *m = ctx;
	size_t k = sizes[m->step++ % 4];

	(void)e;
	if (k > n)
		k = n;
	if (k > m->n - m->off)
		k = m->n - m->off;
	memcpy(p, m->p + m->off, k);
	m->off += k;
	*got = k;
	return SOTTO_OK;
}

static sotto_err
discard(void *ctx, const uint8_t *p, size_t n, struct sotto_error *e)
{
	(void)ctx;
	(void)p;
	(void)n;
	(void)e;
	return SOTTO_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sotto_age_identity *id;
	struct sotto_error e;
	struct mem_src m = { data, size, 0, 0 };
	struct age_reader r;
	struct age_header h;

	if (id == NULL) {
		if (sodium_init() < 0 ||
		    sotto_age_identity_parse(&id, key, &e) != SOTTO_OK)
			abort();
	}
	memset(&r, 0, sizeof(r));
	r.fn = mem_read;
	r.ctx = &m;
	r.cap = SOTTO_AGE_CHUNK + 16;
	r.buf = malloc(r.cap);
	if (r.buf == NULL)
		return 0;
	sotto_error_clear(&e);
	/*
	 * a parsed header has its version line and "---"; it may have no
	 * stanza (Go's format.Parse accepts that too, and decryption then
	 * finds no match: test_age_decrypt_mem_header_without_stanzas_...)
	 */
	if (age_header_parse(&h, &r, &e) == SOTTO_OK &&
	    h.raw.len < sizeof(AGE_VERSION_LINE) + 3)
		abort();
	age_header_clear(&h);
	free(r.buf);

	m.off = 0;
	(void)sotto_age_decrypt(mem_read, &m, &id, 1, discard, NULL, &e);
	return 0;
}
