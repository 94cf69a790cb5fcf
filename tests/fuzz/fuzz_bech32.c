/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: Bech32 decode; whatever decodes must re-encode to the
 * same string (up to case, since an HRP without letters encodes lower
 * case).  Also feeds the string to the age recipient and identity parsers.
 * Seeds: tests/fuzz/seeds/fuzz_bech32/.
 */
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bech32.h"
#include "sotto/age.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e;
	struct sotto_age_recipient *r;
	struct sotto_age_identity *id;
	char hrp[128], *s;
	uint8_t *bytes;
	size_t n, i;

	if (size > 8192)
		return 0;
	if (sodium_init() < 0)	/* identities live in sodium_malloc */
		abort();
	s = malloc(size + 1);
	bytes = malloc(size + 1);
	if (s == NULL || bytes == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (sotto_bech32_decode(hrp, sizeof(hrp), bytes, &n, s, size, &e) ==
	    SOTTO_OK) {
		if (sotto_bech32_encode(&out, hrp, bytes, n) != SOTTO_OK ||
		    out.len != size)
			abort();
		for (i = 0; i < size; i++)
			if (tolower((unsigned char)out.data[i]) !=
			    tolower((unsigned char)s[i]))
				abort();
	}
	if (strlen(s) == size) {	/* the parsers take C strings */
		if (sotto_age_recipient_parse(&r, s, &e) == SOTTO_OK)
			sotto_age_recipient_free(r);
		if (sotto_age_identity_parse(&id, s, &e) == SOTTO_OK)
			sotto_age_identity_free(id);
	}
	sotto_buf_release(&out);
	free(s);
	free(bytes);
	return 0;
}
