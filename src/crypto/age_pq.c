/* SPDX-License-Identifier: ISC */
/*
 * The post-quantum hybrid recipient type mlkem768x25519 (age1pq1... /
 * AGE-SECRET-KEY-PQ-1...), spec age-format.md §4.3: HPKE base mode with the
 * MLKEM768-X25519 KEM (mlkem.c), HKDF-SHA256 and ChaCha20-Poly1305, info
 * "age-encryption.org/mlkem768x25519", wrapping the 16-byte file key.
 * Stanzas carry the label "postquantum"; age.c refuses to mix labelled and
 * unlabelled recipients in one file, as the reference does.
 */
#include "crypto/age_internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/b64.h"
#include "crypto/bech32.h"
#include "crypto/mlkem.h"
#include "sotto/secret.h"

#define PQ_TYPE "mlkem768x25519"
#define PQ_INFO "age-encryption.org/mlkem768x25519"
#define PQ_REC_HRP "age1pq"
#define PQ_ID_HRP "AGE-SECRET-KEY-PQ-"

struct pq_id {
	struct sotto_secret *seed;	/* the 32-byte identity seed */
	struct sotto_xwing_key *key;	/* expanded, sodium_malloc'd */
};

static sotto_err pq_to_recipient(struct sotto_age_recipient **out,
    const struct sotto_age_identity *id, struct sotto_error *e);

/* Strict unpadded base64 of exactly SOTTO_XWING_ENCBYTES (age_b64_arg is
 * for short arguments only). */
static bool
enc_arg(uint8_t enc[SOTTO_XWING_ENCBYTES], const char *arg)
{
	uint8_t tmp[SOTTO_B64_DECODED_MAX(1500)];
	size_t n = strlen(arg), got;

	if (n > 1500 || !sotto_b64_decode(tmp, &got, arg, n, false) ||
	    got != SOTTO_XWING_ENCBYTES)
		return false;
	memcpy(enc, tmp, got);
	return true;
}

static sotto_err
pq_unwrap_one(const struct pq_id *p, const struct age_stanza *s,
    uint8_t file_key[16], struct sotto_error *e)
{
	uint8_t enc[SOTTO_XWING_ENCBYTES], ss[32], key[32], nonce[12];
	unsigned long long mlen;
	sotto_err err = SOTTO_E_AGE_NO_MATCH;

	if (strcmp(s->type, PQ_TYPE) != 0)
		return SOTTO_E_AGE_NO_MATCH;
	if (s->nargs != 1)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid mlkem768x25519 stanza: wrong number of arguments");
	if (!enc_arg(enc, s->args[0]))
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid mlkem768x25519 stanza: bad encapsulated key");
	if (s->body_len != 32)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid mlkem768x25519 stanza: wrong body length");
	if (sotto_xwing_decap(ss, enc, p->key) != 0)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid mlkem768x25519 stanza: low-order X25519 share");
	sotto_xwing_hpke_schedule(key, nonce, ss, (const uint8_t *)PQ_INFO,
	    strlen(PQ_INFO));
	if (crypto_aead_chacha20poly1305_ietf_decrypt(file_key, &mlen, NULL,
	    s->body, 32, NULL, 0, nonce, key) == 0)
		err = SOTTO_OK;
	sodium_memzero(ss, sizeof(ss));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(nonce, sizeof(nonce));
	return err;
}

static sotto_err
pq_unwrap(const struct sotto_age_identity *id, const struct age_header *h,
    uint8_t file_key[16], struct sotto_error *e)
{
	size_t i;
	sotto_err err;

	for (i = 0; i < h->n; i++) {
		err = pq_unwrap_one(id->priv, &h->st[i], file_key, e);
		if (err != SOTTO_E_AGE_NO_MATCH)
			return err;
	}
	return SOTTO_E_AGE_NO_MATCH;
}

static void
pq_id_free(void *priv)
{
	struct pq_id *p = priv;

	if (p == NULL)
		return;
	sotto_secret_free(p->seed);
	if (p->key != NULL)
		sodium_free(p->key);
	free(p);
}

static sotto_err
pq_id_string(struct sotto_buf *b, const struct sotto_age_identity *id,
    struct sotto_error *e)
{
	const struct pq_id *p = id->priv;

	if (sotto_bech32_encode(b, PQ_ID_HRP, p->seed->data, 32))
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

static const struct age_identity_ops pq_id_ops = {
	.name = "mlkem768x25519",
	.unwrap = pq_unwrap,
	.to_recipient = pq_to_recipient,
	.free_priv = pq_id_free,
	.to_string = pq_id_string,
};

static sotto_err
pq_wrap(const struct sotto_age_recipient *r, const uint8_t file_key[16],
    struct age_header *h, struct sotto_error *e)
{
	uint8_t enc[SOTTO_XWING_ENCBYTES], ss[32], key[32], nonce[12], body[32];
	struct sotto_buf arg = SOTTO_BUF_INIT;
	struct age_stanza *s;
	sotto_err err;

	if (sotto_xwing_encap(ss, enc, r->priv) != 0)
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "invalid post-quantum recipient '%.20s...'", r->str);
	sotto_xwing_hpke_schedule(key, nonce, ss, (const uint8_t *)PQ_INFO,
	    strlen(PQ_INFO));
	crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, file_key, 16,
	    NULL, 0, NULL, nonce, key);
	if (sotto_b64_encode(&arg, enc, sizeof(enc), false) ||
	    (s = age_header_add(h, PQ_TYPE)) == NULL ||
	    age_stanza_add_arg(s, (const char *)arg.data) != SOTTO_OK ||
	    age_stanza_set_body(s, body, 32) != SOTTO_OK)
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	else
		err = SOTTO_OK;
	sotto_buf_release(&arg);
	sodium_memzero(ss, sizeof(ss));
	sodium_memzero(key, sizeof(key));
	return err;
}

static const char *
pq_labels(const struct sotto_age_recipient *r)
{
	(void)r;
	return "postquantum";
}

static const struct age_recipient_ops pq_rec_ops = {
	.name = "mlkem768x25519",
	.wrap = pq_wrap,
	.free_priv = free,
	.labels = pq_labels,
};

sotto_err
age_pq_recipient_from_bytes(struct sotto_age_recipient **out,
    const uint8_t pk[SOTTO_XWING_PKBYTES], struct sotto_error *e)
{
	struct sotto_buf s = SOTTO_BUF_INIT;
	uint8_t *copy;

	*out = NULL;
	if (!sotto_mlkem768_ek_check(pk))
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "invalid post-quantum recipient: ML-KEM-768 encapsulation "
		    "key fails the modulus check");
	copy = malloc(SOTTO_XWING_PKBYTES);
	if (copy == NULL || sotto_bech32_encode(&s, PQ_REC_HRP, pk,
	    SOTTO_XWING_PKBYTES)) {
		free(copy);
		sotto_buf_release(&s);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	memcpy(copy, pk, SOTTO_XWING_PKBYTES);
	*out = age_recipient_new(&pq_rec_ops, copy, (const char *)s.data);
	sotto_buf_release(&s);
	if (*out == NULL) {
		free(copy);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	return SOTTO_OK;
}

sotto_err
age_pq_recipient_parse(struct sotto_age_recipient **out, const char *str,
    struct sotto_error *e)
{
	char hrp[16];
	uint8_t *data;
	size_t n = strlen(str), dlen;
	sotto_err err;

	*out = NULL;
	if (n > 2100)
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "malformed post-quantum recipient: too long");
	if ((data = malloc(n)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	err = sotto_bech32_decode(hrp, sizeof(hrp), data, &dlen, str, n, e);
	if (err != SOTTO_OK)
		sotto_error_prefix(e, "malformed recipient '%.20s...'", str);
	else if (strcmp(hrp, PQ_REC_HRP) != 0 || dlen != SOTTO_XWING_PKBYTES)
		err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "malformed recipient '%.20s...': wrong type or length",
		    str);
	else
		err = age_pq_recipient_from_bytes(out, data, e);
	free(data);
	return err;
}

sotto_err
age_pq_identity_from_seed(struct sotto_age_identity **out,
    const uint8_t seed[32], struct sotto_error *e)
{
	struct pq_id *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL || (p->seed = sotto_secret_dup(seed, 32)) == NULL ||
	    (p->key = sodium_malloc(sizeof(*p->key))) == NULL) {
		pq_id_free(p);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	if (sotto_xwing_expand(p->key, seed) != 0) {
		pq_id_free(p);
		return sotto_error_set(e, SOTTO_E_CRYPTO,
		    "cannot expand post-quantum identity");
	}
	*out = age_identity_new(&pq_id_ops, p);
	if (*out == NULL) {
		pq_id_free(p);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	return SOTTO_OK;
}

sotto_err
age_pq_identity_parse(struct sotto_age_identity **out, const char *s,
    struct sotto_error *e)
{
	char hrp[32];
	uint8_t data[200];
	size_t n = strlen(s), dlen = 0;
	sotto_err err;

	*out = NULL;
	if (n > 200)
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "malformed post-quantum identity: too long");
	err = sotto_bech32_decode(hrp, sizeof(hrp), data, &dlen, s, n, e);
	if (err == SOTTO_OK && (strcmp(hrp, PQ_ID_HRP) != 0 || dlen != 32))
		err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "wrong type or length");
	if (err == SOTTO_OK)
		err = age_pq_identity_from_seed(out, data, e);
	else
		sotto_error_prefix(e, "malformed post-quantum secret key");
	sodium_memzero(data, sizeof(data));
	return err;
}

sotto_err
sotto_age_identity_generate_pq(struct sotto_age_identity **out,
    struct sotto_error *e)
{
	uint8_t seed[32];
	sotto_err err;

	randombytes_buf(seed, sizeof(seed));
	err = age_pq_identity_from_seed(out, seed, e);
	sodium_memzero(seed, sizeof(seed));
	return err;
}

static sotto_err
pq_to_recipient(struct sotto_age_recipient **out,
    const struct sotto_age_identity *id, struct sotto_error *e)
{
	return age_pq_recipient_from_bytes(out,
	    ((const struct pq_id *)id->priv)->key->pk, e);
}
