/* SPDX-License-Identifier: ISC */
/*
 * The X25519 recipient type (age1... / AGE-SECRET-KEY-1...), spec
 * age-format.md §4.1.  The identity's scalar lives in a sotto_secret.
 */
#include "crypto/age_internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/b64.h"
#include "crypto/bech32.h"
#include "crypto/prim.h"
#include "sotto/secret.h"

#define X25519_LABEL "age-encryption.org/v1/X25519"

struct x25519_id {
	struct sotto_secret *sk;	/* 32-byte scalar */
	uint8_t pk[32];			/* its public key */
};

static sotto_err x25519_to_recipient(struct sotto_age_recipient **out,
    const struct sotto_age_identity *id, struct sotto_error *e);

static sotto_err
derive_key(uint8_t key[32], const uint8_t ss[32], const uint8_t eph[32],
    const uint8_t pk[32])
{
	uint8_t salt[64];

	memcpy(salt, eph, 32);
	memcpy(salt + 32, pk, 32);
	if (sotto_hkdf_sha256(key, 32, ss, 32, salt, 64, X25519_LABEL) != 0)
		return SOTTO_E_CRYPTO;
	return SOTTO_OK;
}

static sotto_err
x25519_unwrap_one(const struct x25519_id *x, const struct age_stanza *s,
    uint8_t file_key[16], struct sotto_error *e)
{
	uint8_t eph[32], ss[32], key[32];
	unsigned long long mlen;
	sotto_err err;

	if (strcmp(s->type, "X25519") != 0)
		return SOTTO_E_AGE_NO_MATCH;
	if (s->nargs != 1)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid X25519 stanza: wrong number of arguments");
	if (!age_b64_arg(eph, 32, s->args[0]))
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid X25519 stanza: bad ephemeral share");
	if (s->body_len != 32)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid X25519 stanza: wrong body length");
	if (crypto_scalarmult(ss, x->sk->data, eph) != 0) {
		err = sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid X25519 stanza: low-order ephemeral share");
		goto out;
	}
	if ((err = derive_key(key, ss, eph, x->pk)) != SOTTO_OK)
		goto out;
	if (crypto_aead_chacha20poly1305_ietf_decrypt(file_key, &mlen, NULL,
	    s->body, 32, NULL, 0, (const uint8_t[12]){ 0 }, key) != 0)
		err = SOTTO_E_AGE_NO_MATCH;
out:
	sodium_memzero(ss, sizeof(ss));
	sodium_memzero(key, sizeof(key));
	return err;
}

static sotto_err
x25519_unwrap(const struct sotto_age_identity *id, const struct age_header *h,
    uint8_t file_key[16], struct sotto_error *e)
{
	const struct x25519_id *x = id->priv;
	size_t i;
	sotto_err err;

	for (i = 0; i < h->n; i++) {
		err = x25519_unwrap_one(x, &h->st[i], file_key, e);
		if (err != SOTTO_E_AGE_NO_MATCH)
			return err;
	}
	return SOTTO_E_AGE_NO_MATCH;
}

static void
x25519_id_free(void *priv)
{
	struct x25519_id *x = priv;

	if (x == NULL)
		return;
	sotto_secret_free(x->sk);
	free(x);
}

static const struct age_identity_ops x25519_id_ops = {
	.name = "X25519",
	.unwrap = x25519_unwrap,
	.to_recipient = x25519_to_recipient,
	.free_priv = x25519_id_free,
};

static sotto_err
x25519_wrap(const struct sotto_age_recipient *r, const uint8_t file_key[16],
    struct age_header *h, struct sotto_error *e)
{
	const uint8_t *pk = r->priv;
	uint8_t esk[32], eph[32], ss[32], key[32], body[32];
	struct sotto_buf arg = SOTTO_BUF_INIT;
	struct age_stanza *s;
	sotto_err err = SOTTO_E_CRYPTO;

	randombytes_buf(esk, sizeof(esk));
	crypto_scalarmult_base(eph, esk);
	if (crypto_scalarmult(ss, esk, pk) != 0) {
		err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "invalid X25519 recipient (low-order point)");
		goto out;
	}
	if (derive_key(key, ss, eph, pk) != SOTTO_OK ||
	    crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, file_key, 16,
	    NULL, 0, NULL, (const uint8_t[12]){ 0 }, key) != 0) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "X25519 wrap failed");
		goto out;
	}
	if (sotto_b64_encode(&arg, eph, 32, false) ||
	    (s = age_header_add(h, "X25519")) == NULL ||
	    age_stanza_add_arg(s, (const char *)arg.data) != SOTTO_OK ||
	    age_stanza_set_body(s, body, 32) != SOTTO_OK) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	err = SOTTO_OK;
out:
	sotto_buf_release(&arg);
	sodium_memzero(esk, sizeof(esk));
	sodium_memzero(ss, sizeof(ss));
	sodium_memzero(key, sizeof(key));
	return err;
}

static const struct age_recipient_ops x25519_rec_ops = {
	.name = "X25519",
	.wrap = x25519_wrap,
	.free_priv = free,
};

sotto_err
age_x25519_recipient_from_bytes(struct sotto_age_recipient **out,
    const uint8_t pk[32], struct sotto_error *e)
{
	struct sotto_buf s = SOTTO_BUF_INIT;
	uint8_t *copy;

	copy = malloc(32);
	if (copy == NULL || sotto_bech32_encode(&s, "age", pk, 32)) {
		free(copy);
		sotto_buf_release(&s);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	memcpy(copy, pk, 32);
	*out = age_recipient_new(&x25519_rec_ops, copy, (const char *)s.data);
	sotto_buf_release(&s);
	if (*out == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

sotto_err
age_x25519_identity_from_bytes(struct sotto_age_identity **out,
    const uint8_t sk[32], struct sotto_error *e)
{
	struct x25519_id *x = calloc(1, sizeof(*x));

	if (x == NULL || (x->sk = sotto_secret_dup(sk, 32)) == NULL) {
		free(x);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	crypto_scalarmult_base(x->pk, x->sk->data);
	*out = age_identity_new(&x25519_id_ops, x);
	if (*out == NULL) {
		x25519_id_free(x);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	return SOTTO_OK;
}

sotto_err
age_x25519_identity_secret(const struct sotto_age_identity *id,
    const uint8_t **sk)
{
	if (id->ops != &x25519_id_ops)
		return SOTTO_E_UNSUPPORTED;
	*sk = ((const struct x25519_id *)id->priv)->sk->data;
	return SOTTO_OK;
}

static sotto_err
x25519_to_recipient(struct sotto_age_recipient **out,
    const struct sotto_age_identity *id, struct sotto_error *e)
{
	return age_x25519_recipient_from_bytes(out,
	    ((const struct x25519_id *)id->priv)->pk, e);
}
