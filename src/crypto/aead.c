/* SPDX-License-Identifier: ISC */
/* AES-256-GCM with arbitrary IV length through OpenSSL EVP; see aead.h. */
#include "crypto/aead.h"

#include <limits.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static EVP_CIPHER_CTX *
gcm_ctx(int enc, const uint8_t *aad, size_t aadlen, const uint8_t *iv,
    size_t ivlen, const uint8_t key[32])
{
	EVP_CIPHER_CTX *ctx;
	int len;

	if (ivlen == 0 || ivlen > INT_MAX || aadlen > INT_MAX)
		return NULL;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return NULL;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	        enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)ivlen,
	        NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, enc) != 1)
		goto fail;
	if (aadlen > 0 &&
	    EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1)
		goto fail;
	return ctx;
fail:
	EVP_CIPHER_CTX_free(ctx);
	return NULL;
}

bool
sotto_aead_aes256gcm_seal(uint8_t *out, uint8_t tag[16], const uint8_t *in,
    size_t n, const uint8_t *aad, size_t aadlen, const uint8_t *iv,
    size_t ivlen, const uint8_t key[32])
{
	EVP_CIPHER_CTX *ctx;
	bool ok = false;
	int len;

	if (n > INT_MAX)
		return false;
	ctx = gcm_ctx(1, aad, aadlen, iv, ivlen, key);
	if (ctx == NULL)
		return false;
	if (n > 0 && EVP_EncryptUpdate(ctx, out, &len, in, (int)n) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, out + n, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
		goto out;
	ok = true;
out:
	EVP_CIPHER_CTX_free(ctx);	/* OpenSSL cleanses the key schedule */
	return ok;
}

bool
sotto_aead_aes256gcm_open(uint8_t *out, const uint8_t *in, size_t n,
    const uint8_t tag[16], const uint8_t *aad, size_t aadlen,
    const uint8_t *iv, size_t ivlen, const uint8_t key[32])
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t t[16];
	bool ok = false;
	int len;

	if (n > INT_MAX)
		goto out;
	ctx = gcm_ctx(0, aad, aadlen, iv, ivlen, key);
	if (ctx == NULL)
		goto out;
	if (n > 0 && EVP_DecryptUpdate(ctx, out, &len, in, (int)n) != 1)
		goto out;
	memcpy(t, tag, sizeof(t));
	/* OpenSSL compares the tag with CRYPTO_memcmp in DecryptFinal. */
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, t) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + n, &len) != 1)
		goto out;
	ok = true;
out:
	if (!ok && n > 0)
		sodium_memzero(out, n);
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

struct sotto_aead_gcm {
	EVP_CIPHER_CTX *enc;	/* keyed for sealing */
	EVP_CIPHER_CTX *dec;	/* keyed for opening */
};

struct sotto_aead_gcm *
sotto_aead_gcm_new(const uint8_t key[32])
{
	struct sotto_aead_gcm *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->enc = EVP_CIPHER_CTX_new();
	g->dec = EVP_CIPHER_CTX_new();
	if (g->enc == NULL || g->dec == NULL ||
	    EVP_CipherInit_ex(g->enc, EVP_aes_256_gcm(), NULL, key, NULL,
	        1) != 1 ||
	    EVP_CipherInit_ex(g->dec, EVP_aes_256_gcm(), NULL, key, NULL,
	        0) != 1) {
		sotto_aead_gcm_free(g);
		return NULL;
	}
	return g;
}

void
sotto_aead_gcm_free(struct sotto_aead_gcm *g)
{
	if (g == NULL)
		return;
	EVP_CIPHER_CTX_free(g->enc);
	EVP_CIPHER_CTX_free(g->dec);
	free(g);
}

static bool
gcm_start(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *aad, size_t aadlen,
    const uint8_t *iv, size_t ivlen)
{
	int len;

	if (ivlen == 0 || ivlen > INT_MAX || aadlen > INT_MAX)
		return false;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)ivlen,
	        NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, enc) != 1)
		return false;
	if (aadlen > 0 &&
	    EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1)
		return false;
	return true;
}

bool
sotto_aead_gcm_seal(struct sotto_aead_gcm *g, uint8_t *out, uint8_t tag[16],
    const uint8_t *in, size_t n, const uint8_t *aad, size_t aadlen,
    const uint8_t *iv, size_t ivlen)
{
	int len;

	if (n > INT_MAX || !gcm_start(g->enc, 1, aad, aadlen, iv, ivlen))
		return false;
	if (n > 0 && EVP_EncryptUpdate(g->enc, out, &len, in, (int)n) != 1)
		return false;
	return EVP_EncryptFinal_ex(g->enc, out + n, &len) == 1 &&
	    EVP_CIPHER_CTX_ctrl(g->enc, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
}

bool
sotto_aead_gcm_open(struct sotto_aead_gcm *g, uint8_t *out, const uint8_t *in,
    size_t n, const uint8_t tag[16], const uint8_t *aad, size_t aadlen,
    const uint8_t *iv, size_t ivlen)
{
	uint8_t t[16];
	int len;

	if (n > INT_MAX || !gcm_start(g->dec, 0, aad, aadlen, iv, ivlen))
		return false;
	if (n > 0 && EVP_DecryptUpdate(g->dec, out, &len, in, (int)n) != 1)
		goto fail;
	memcpy(t, tag, sizeof(t));
	if (EVP_CIPHER_CTX_ctrl(g->dec, EVP_CTRL_GCM_SET_TAG, 16, t) != 1 ||
	    EVP_DecryptFinal_ex(g->dec, out + n, &len) != 1)
		goto fail;
	return true;
fail:
	if (n > 0)
		sodium_memzero(out, n);
	return false;
}
