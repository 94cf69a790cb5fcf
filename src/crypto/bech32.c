/* SPDX-License-Identifier: ISC */
/* Bech32 encode/decode for age keys; see bech32.h. */
#include "crypto/bech32.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t
polymod_step(uint32_t chk, uint8_t v)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
		0x3d4233dd, 0x2a1462b3 };
	uint32_t b = chk >> 25;
	int i;

	chk = ((chk & 0x1ffffff) << 5) ^ v;
	for (i = 0; i < 5; i++)
		if ((b >> i) & 1)
			chk ^= gen[i];
	return chk;
}

static uint32_t
hrp_polymod(const char *hrp, size_t n)
{
	uint32_t chk = 1;
	size_t i;

	for (i = 0; i < n; i++)
		chk = polymod_step(chk, (uint8_t)tolower((unsigned char)hrp[i]) >> 5);
	chk = polymod_step(chk, 0);
	for (i = 0; i < n; i++)
		chk = polymod_step(chk, (uint8_t)tolower((unsigned char)hrp[i]) & 31);
	return chk;
}

sotto_err
sotto_bech32_encode(struct sotto_buf *out, const char *hrp,
    const uint8_t *data, size_t n)
{
	size_t hlen = strlen(hrp), i, start = out->len;
	uint32_t chk, acc = 0;
	int bits = 0, upper = 0;
	uint8_t v;

	for (i = 0; i < hlen; i++)
		if (isupper((unsigned char)hrp[i]))
			upper = 1;
	chk = hrp_polymod(hrp, hlen);
	for (i = 0; i < hlen; i++)
		if (sotto_buf_addch(out, tolower((unsigned char)hrp[i])))
			return SOTTO_E_NOMEM;
	if (sotto_buf_addch(out, '1'))
		return SOTTO_E_NOMEM;
	for (i = 0; i < n; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			v = (acc >> bits) & 31;
			chk = polymod_step(chk, v);
			if (sotto_buf_addch(out, charset[v]))
				return SOTTO_E_NOMEM;
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0) {
		v = (acc << (5 - bits)) & 31;
		chk = polymod_step(chk, v);
		if (sotto_buf_addch(out, charset[v]))
			return SOTTO_E_NOMEM;
	}
	for (i = 0; i < 6; i++)
		chk = polymod_step(chk, 0);
	chk ^= 1;
	for (i = 0; i < 6; i++)
		if (sotto_buf_addch(out, charset[(chk >> (5 * (5 - i))) & 31]))
			return SOTTO_E_NOMEM;
	if (upper)
		for (i = start; i < out->len; i++)
			out->data[i] = (uint8_t)toupper(out->data[i]);
	return SOTTO_OK;
}

sotto_err
sotto_bech32_decode(char *hrp, size_t hrpcap, uint8_t *data, size_t *datalen,
    const char *s, size_t n, struct sotto_error *e)
{
	size_t i, sep = 0, o = 0;
	int lower = 0, upper = 0, bits = 0;
	uint32_t chk, acc = 0;
	const char *p;
	bool found = false;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e)
			return sotto_error_set(e, SOTTO_E_BECH32,
			    "invalid character at position %zu", i);
		if (islower(c))
			lower = 1;
		if (isupper(c))
			upper = 1;
		if (c == '1') {
			sep = i;
			found = true;
		}
	}
	if (lower && upper)
		return sotto_error_set(e, SOTTO_E_BECH32, "mixed case");
	if (!found || sep < 1 || n - sep - 1 < 6)
		return sotto_error_set(e, SOTTO_E_BECH32,
		    "separator '1' at invalid position");
	if (sep + 1 > hrpcap)
		return sotto_error_set(e, SOTTO_E_BECH32,
		    "human-readable part too long");
	memcpy(hrp, s, sep);
	hrp[sep] = '\0';
	chk = hrp_polymod(s, sep);
	for (i = sep + 1; i < n; i++) {
		p = strchr(charset, tolower((unsigned char)s[i]));
		if (p == NULL || *p == '\0')
			return sotto_error_set(e, SOTTO_E_BECH32,
			    "invalid data character at position %zu", i);
		chk = polymod_step(chk, (uint8_t)(p - charset));
		if (i >= n - 6)
			continue;
		acc = (acc << 5) | (uint32_t)(p - charset);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			data[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (chk != 1)
		return sotto_error_set(e, SOTTO_E_BECH32, "invalid checksum");
	if (bits >= 5 || acc != 0)
		return sotto_error_set(e, SOTTO_E_BECH32, "invalid padding");
	*datalen = o;
	return SOTTO_OK;
}
