/* SPDX-License-Identifier: ISC */
/* OpenSSL-backed HKDF and ChaCha20-Poly1305; see prim.h. */
#include "crypto/prim.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int
sotto_hkdf_sha256(uint8_t *out, size_t outlen, const uint8_t *ikm,
    size_t ikmlen, const uint8_t *salt, size_t saltlen, const char *info)
{
	EVP_PKEY_CTX *pctx;
	int ok = 0;
	static const uint8_t empty[1] = { 0 };

	pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	if (pctx == NULL)
		return -1;
	if (EVP_PKEY_derive_init(pctx) <= 0 ||
	    EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_salt(pctx, saltlen ? salt : empty,
	        (int)saltlen) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_key(pctx, ikmlen ? ikm : empty,
	        (int)ikmlen) <= 0 ||
	    EVP_PKEY_CTX_add1_hkdf_info(pctx, (const uint8_t *)info,
	        (int)strlen(info)) <= 0 ||
	    EVP_PKEY_derive(pctx, out, &outlen) <= 0)
		goto out;
	ok = 1;
out:
	EVP_PKEY_CTX_free(pctx);
	return ok ? 0 : -1;
}

struct sotto_chacha {
	EVP_CIPHER_CTX *enc;	/* keyed for sealing */
	EVP_CIPHER_CTX *dec;	/* keyed for opening */
};

struct sotto_chacha *
sotto_chacha_new(const uint8_t key[32])
{
	struct sotto_chacha *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->enc = EVP_CIPHER_CTX_new();
	c->dec = EVP_CIPHER_CTX_new();
	if (c->enc == NULL || c->dec == NULL ||
	    EVP_EncryptInit_ex(c->enc, EVP_chacha20_poly1305(), NULL, key,
	        NULL) != 1 ||
	    EVP_DecryptInit_ex(c->dec, EVP_chacha20_poly1305(), NULL, key,
	        NULL) != 1) {
		sotto_chacha_free(c);
		return NULL;
	}
	return c;
}

void
sotto_chacha_free(struct sotto_chacha *c)
{
	if (c == NULL)
		return;
	EVP_CIPHER_CTX_free(c->enc);	/* OpenSSL cleanses key schedules */
	EVP_CIPHER_CTX_free(c->dec);
	free(c);
}

bool
sotto_chacha_seal(struct sotto_chacha *c, uint8_t *out,
    const uint8_t nonce[12], const uint8_t *in, size_t n)
{
	int len;

	if (n > INT32_MAX)
		return false;
	if (EVP_EncryptInit_ex(c->enc, NULL, NULL, NULL, nonce) != 1)
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
