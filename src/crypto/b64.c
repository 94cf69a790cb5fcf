/* SPDX-License-Identifier: ISC */
/* Strict canonical base64; see b64.h. */
#include "crypto/b64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

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
	for (i = 0; i < data; i++) {
		v = val((unsigned char)s[i]);
		if (v < 0)
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
	size_t i;
	uint32_t v;
	char q[4];

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = alphabet[(v >> 6) & 63];
		q[3] = alphabet[v & 63];
		if (sotto_buf_add(b, q, 4))
			return -1;
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = q[3] = '=';
		if (sotto_buf_add(b, q, padded ? 4 : 2))
			return -1;
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = alphabet[(v >> 6) & 63];
		q[3] = '=';
		if (sotto_buf_add(b, q, padded ? 4 : 3))
			return -1;
	}
	return 0;
}
