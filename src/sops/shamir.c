/* SPDX-License-Identifier: ISC */
/*
 * Shamir split/combine for sops key groups; see sotto/shamir.h.  The
 * share format and field match Vault's shamir package; the arithmetic
 * is computed bitwise (constant time) instead of through log/exp tables.
 */
#include "sotto/shamir.h"

#include <sodium.h>
#include <string.h>

/* Multiplication in GF(2^8) modulo x^8+x^4+x^3+x+1, constant time. */
static uint8_t
gf_mul(uint8_t a, uint8_t b)
{
	uint8_t r = 0;
	int i;

	for (i = 0; i < 8; i++) {
		r ^= (uint8_t)(-(b & 1) & a);
		b >>= 1;
		a = (uint8_t)((a << 1) ^ (-(a >> 7) & 0x1b));
	}
	return r;
}

/* a^254 = a^-1 for a != 0 (and 0 for 0). */
static uint8_t
gf_inv(uint8_t a)
{
	uint8_t r = 1, p = a;
	int i;

	for (i = 0; i < 8; i++) {	/* 254 = 0b11111110 */
		if (i > 0)
			r = gf_mul(r, p);
		p = gf_mul(p, p);
	}
	return r;
}

/* Horner evaluation of coef[0] + coef[1] x + ... + coef[deg] x^deg. */
static uint8_t
eval(const uint8_t *coef, int deg, uint8_t x)
{
	uint8_t y = coef[deg];
	int i;

	for (i = deg - 1; i >= 0; i--)
		y = (uint8_t)(gf_mul(y, x) ^ coef[i]);
	return y;
}

sotto_err
sotto_shamir_split(struct sotto_secret **shares, const uint8_t *secret,
    size_t n, int parts, int threshold, struct sotto_error *e)
{
	uint8_t perm[255], coef[255];
	sotto_err err = SOTTO_OK;
	size_t j;
	int i;

	if (parts < threshold)
		return sotto_error_set(e, SOTTO_E_USAGE,
		    "shamir: parts cannot be less than threshold");
	if (parts > 255)
		return sotto_error_set(e, SOTTO_E_USAGE,
		    "shamir: parts cannot exceed 255");
	if (threshold < 2)
		return sotto_error_set(e, SOTTO_E_USAGE,
		    "shamir: threshold must be at least 2");
	if (n == 0)
		return sotto_error_set(e, SOTTO_E_USAGE,
		    "shamir: cannot split an empty secret");
	if (n > SIZE_MAX - 1)
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "shamir: secret too large");
	for (i = 0; i < parts; i++)
		shares[i] = NULL;

	/* Random distinct x in 1..255: a partial Fisher-Yates shuffle. */
	for (i = 0; i < 255; i++)
		perm[i] = (uint8_t)(i + 1);
	for (i = 0; i < parts; i++) {
		uint32_t k = (uint32_t)i +
		    randombytes_uniform(255 - (uint32_t)i);
		uint8_t t = perm[i];

		perm[i] = perm[k];
		perm[k] = t;
	}
	for (i = 0; i < parts; i++) {
		shares[i] = sotto_secret_new(n + 1);
		if (shares[i] == NULL) {
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "shamir: cannot allocate share");
			goto out;
		}
		shares[i]->data[n] = perm[i];
	}
	for (j = 0; j < n; j++) {
		coef[0] = secret[j];
		randombytes_buf(coef + 1, (size_t)threshold - 1);
		for (i = 0; i < parts; i++)
			shares[i]->data[j] = eval(coef, threshold - 1, perm[i]);
	}
out:
	sodium_memzero(coef, sizeof(coef));
	if (err != SOTTO_OK) {
		for (i = 0; i < parts; i++) {
			sotto_secret_free(shares[i]);
			shares[i] = NULL;
		}
	}
	return err;
}

sotto_err
sotto_shamir_combine(struct sotto_secret **out,
    struct sotto_secret *const *shares, size_t nshares,
    struct sotto_error *e)
{
	struct sotto_secret *s = NULL;
	uint8_t seen[256 / 8] = { 0 };
	uint8_t basis[256];
	size_t len, i, j, k;
	uint8_t acc;

	*out = NULL;
	if (nshares < 2)
		return sotto_error_set(e, SOTTO_E_NO_KEY,
		    "shamir: less than two parts cannot rebuild the secret");
	if (nshares > 256)	/* 256 distinct byte values at most */
		return sotto_error_set(e, SOTTO_E_NO_KEY,
		    "shamir: duplicate part detected");
	len = shares[0]->len;
	if (len < 2)
		return sotto_error_set(e, SOTTO_E_NO_KEY,
		    "shamir: parts must be at least two bytes");
	for (i = 1; i < nshares; i++)
		if (shares[i]->len != len)
			return sotto_error_set(e, SOTTO_E_NO_KEY,
			    "shamir: all parts must be the same length");
	for (i = 0; i < nshares; i++) {
		uint8_t x = shares[i]->data[len - 1];

		if (seen[x / 8] & (1u << (x % 8)))
			return sotto_error_set(e, SOTTO_E_NO_KEY,
			    "shamir: duplicate part detected");
		seen[x / 8] |= (uint8_t)(1u << (x % 8));
	}

	/*
	 * Lagrange basis at 0 depends only on the x coordinates:
	 * l_i(0) = prod_{j != i} x_j / (x_i + x_j).
	 */
	for (i = 0; i < nshares; i++) {
		uint8_t xi = shares[i]->data[len - 1];

		basis[i] = 1;
		for (j = 0; j < nshares; j++) {
			uint8_t xj = shares[j]->data[len - 1];

			if (i == j)
				continue;
			basis[i] = gf_mul(basis[i],
			    gf_mul(xj, gf_inv((uint8_t)(xi ^ xj))));
		}
	}
	s = sotto_secret_new(len - 1);
	if (s == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM,
		    "shamir: cannot allocate secret");
	for (k = 0; k < len - 1; k++) {
		acc = 0;
		for (i = 0; i < nshares; i++)
			acc ^= gf_mul(shares[i]->data[k], basis[i]);
		s->data[k] = acc;
	}
	sodium_memzero(&acc, sizeof(acc));
	*out = s;
	return SOTTO_OK;
}
