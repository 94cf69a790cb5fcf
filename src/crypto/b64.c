/* SPDX-License-Identifier: ISC */
/* Strict canonical base64; see b64.h. */
#include "crypto/b64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decoding table: 0..63 for alphabet characters, 0xff for all others. */
static const uint8_t dtab[256] = {
#define X 0xff
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, 62, X, X, X, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
	X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, X,
	X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
#undef X
};

bool
sotto_b64_decode(uint8_t *out, size_t *outlen, const char *s, size_t n,
    bool padded)
{
	size_t i, o = 0, pad = 0, data;
	uint32_t acc = 0;
	int bits = 0, v;

	if (padded) {
		if (n % 4 != 0)
			return false;
		while (pad < 2 && n - pad > 0 && s[n - 1 - pad] == '=')
			pad++;
	}
	data = n - pad;
	if (data % 4 == 1)
		return false;
	if (padded && pad != (4 - data % 4) % 4)
		return false;
	/* whole quads first: 4 chars -> 3 bytes */
	for (i = 0; i + 4 <= data; i += 4) {
		uint32_t q = (uint32_t)dtab[(unsigned char)s[i]] << 18 |
		    (uint32_t)dtab[(unsigned char)s[i + 1]] << 12 |
		    (uint32_t)dtab[(unsigned char)s[i + 2]] << 6 |
		    dtab[(unsigned char)s[i + 3]];

		if ((dtab[(unsigned char)s[i]] | dtab[(unsigned char)s[i + 1]] |
		    dtab[(unsigned char)s[i + 2]] |
		    dtab[(unsigned char)s[i + 3]]) & 0xc0)
			return false;
		out[o++] = (uint8_t)(q >> 16);
		out[o++] = (uint8_t)(q >> 8);
		out[o++] = (uint8_t)q;
	}
	for (; i < data; i++) {
		v = dtab[(unsigned char)s[i]];
		if (v == 0xff)
			return false;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)	/* non-canonical: leftover bits must be zero */
		return false;
	*outlen = o;
	return true;
}

int
sotto_b64_encode(struct sotto_buf *b, const uint8_t *p, size_t n, bool padded)
{
	size_t i, olen;
	uint32_t v;
	char *q;

	if (n > (SIZE_MAX - 3) / 4 * 3)
		return -1;
	/* one reservation, then direct writes */
	olen = (n + 2) / 3 * 4;
	if (sotto_buf_grow(b, olen))
		return -1;
	q = (char *)b->data + b->len;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = alphabet[(v >> 6) & 63];
		q[3] = alphabet[v & 63];
		q += 4;
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = q[3] = '=';
		q += padded ? 4 : 2;
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = alphabet[(v >> 6) & 63];
		q[3] = '=';
		q += padded ? 4 : 3;
	}
	b->len = (size_t)((uint8_t *)q - b->data);
	b->data[b->len] = '\0';
	return 0;
}
