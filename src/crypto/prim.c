/* SPDX-License-Identifier: ISC */
/* OpenSSL-backed HKDF and ChaCha20-Poly1305; see prim.h. */
#include "crypto/prim.h"

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int
sotto_crypto_init(void)
{
	/*
	 * Skip reading openssl.cnf: sotto needs no engines or providers
	 * beyond the default, and parsing the system config is a large part
	 * of OpenSSL 3's start-up cost for a tool run thousands of times.
	 */
	return OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) == 1 ?
	    0 : -1;
}

/*
 * HKDF-SHA-256 (RFC 5869) composed from libsodium's HMAC-SHA-256.  It
 * used to go through OpenSSL's EVP_PKEY HKDF, but an OpenSSL algorithm
 * fetch builds the whole provider method store on first use, which made
 * `sotto age` on a 100-byte file slower to start than the Go tool.  Only
 * the HMAC primitive is used; tests/unit/test_prim.c checks the result
 * against OpenSSL's HKDF and the RFC 5869 vectors.
 */
int
sotto_hkdf_sha256(uint8_t *out, size_t outlen, const uint8_t *ikm,
    size_t ikmlen, const uint8_t *salt, size_t saltlen, const char *info)
{
	crypto_auth_hmacsha256_state st;
	uint8_t prk[32], t[32], zero[32] = { 0 };
	size_t done = 0, n;
	uint8_t ctr;

	if (outlen > 255 * 32)
		return -1;
	/* extract: PRK = HMAC(salt or 32 zero bytes, IKM) */
	if (saltlen == 0)
		crypto_auth_hmacsha256_init(&st, zero, sizeof(zero));
	else
		crypto_auth_hmacsha256_init(&st, salt, saltlen);
	crypto_auth_hmacsha256_update(&st, ikm, ikmlen);
	crypto_auth_hmacsha256_final(&st, prk);
	/* expand: T(i) = HMAC(PRK, T(i-1) || info || i) */
	for (ctr = 1; done < outlen; ctr++) {
		crypto_auth_hmacsha256_init(&st, prk, sizeof(prk));
		if (ctr > 1)
			crypto_auth_hmacsha256_update(&st, t, sizeof(t));
		crypto_auth_hmacsha256_update(&st, (const uint8_t *)info,
		    strlen(info));
		crypto_auth_hmacsha256_update(&st, &ctr, 1);
		crypto_auth_hmacsha256_final(&st, t);
		n = outlen - done < 32 ? outlen - done : 32;
		memcpy(out + done, t, n);
		done += n;
	}
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(t, sizeof(t));
	sodium_memzero(&st, sizeof(st));
	return 0;
}

/*
 * The payload AEAD.  Bulk chunks go through OpenSSL's EVP ChaCha20-Poly1305
 * (about 2.4x libsodium 1.0.18's speed here), but the OpenSSL context is
 * created only when a second chunk is needed: the first chunk uses
 * libsodium, so small files never pay for OpenSSL's provider set-up.
 */
struct sotto_chacha {
	uint8_t *key;		/* sodium_malloc'd copy, for the first call */
	unsigned long calls;	/* seal/open calls so far */
	EVP_CIPHER_CTX *enc;	/* keyed for sealing, made on demand */
	EVP_CIPHER_CTX *dec;	/* keyed for opening, made on demand */
};

struct sotto_chacha *
sotto_chacha_new(const uint8_t key[32])
{
	struct sotto_chacha *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->key = sodium_malloc(32);
	if (c->key == NULL) {
		free(c);
		return NULL;
	}
	memcpy(c->key, key, 32);
	return c;
}

static bool
evp_ready(struct sotto_chacha *c)
{
	if (c->enc != NULL)
		return true;
	c->enc = EVP_CIPHER_CTX_new();
	c->dec = EVP_CIPHER_CTX_new();
	if (c->enc == NULL || c->dec == NULL ||
	    EVP_EncryptInit_ex(c->enc, EVP_chacha20_poly1305(), NULL, c->key,
	        NULL) != 1 ||
	    EVP_DecryptInit_ex(c->dec, EVP_chacha20_poly1305(), NULL, c->key,
	        NULL) != 1) {
		EVP_CIPHER_CTX_free(c->enc);
		EVP_CIPHER_CTX_free(c->dec);
		c->enc = c->dec = NULL;
		return false;
	}
	return true;
}

void
sotto_chacha_free(struct sotto_chacha *c)
{
	if (c == NULL)
		return;
	EVP_CIPHER_CTX_free(c->enc);	/* OpenSSL cleanses key schedules */
	EVP_CIPHER_CTX_free(c->dec);
	sodium_free(c->key);
	free(c);
}

bool
sotto_chacha_seal(struct sotto_chacha *c, uint8_t *out,
    const uint8_t nonce[12], const uint8_t *in, size_t n)
{
	int len;

	if (n > INT32_MAX)
		return false;
	if (c->calls++ == 0)
		return crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, in,
		    n, NULL, 0, NULL, nonce, c->key) == 0;
	if (!evp_ready(c) ||
	    EVP_EncryptInit_ex(c->enc, NULL, NULL, NULL, nonce) != 1)
		return false;
	if (n > 0 && EVP_EncryptUpdate(c->enc, out, &len, in, (int)n) != 1)
		return false;
	if (EVP_EncryptFinal_ex(c->enc, out + n, &len) != 1)
		return false;
	return EVP_CIPHER_CTX_ctrl(c->enc, EVP_CTRL_AEAD_GET_TAG, 16,
	    out + n) == 1;
}

bool
sotto_chacha_open(struct sotto_chacha *c, uint8_t *out,
    const uint8_t nonce[12], const uint8_t *in, size_t n)
{
	uint8_t tag[16];
	int len;
	size_t m;

	if (n < 16 || n - 16 > INT32_MAX)
		return false;
	m = n - 16;
	if (c->calls++ == 0) {
		if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL,
		    in, n, NULL, 0, nonce, c->key) == 0)
			return true;
		goto fail;
	}
	if (!evp_ready(c))
		return false;
	memcpy(tag, in + m, 16);
	if (EVP_DecryptInit_ex(c->dec, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c->dec, EVP_CTRL_AEAD_SET_TAG, 16, tag) != 1)
		return false;
	if (m > 0 && EVP_DecryptUpdate(c->dec, out, &len, in, (int)m) != 1)
		goto fail;
	if (EVP_DecryptFinal_ex(c->dec, out + m, &len) != 1)
		goto fail;
	return true;
fail:
	sodium_memzero(out, m);
	return false;
}
