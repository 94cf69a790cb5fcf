/* SPDX-License-Identifier: ISC */
/*
 * The scrypt (passphrase) recipient type, spec age-format.md §4.2.  A
 * passphrase recipient must be the only stanza of a file; the identity
 * enforces that, and refuses work factors above its maximum before running
 * scrypt.
 */
#include "crypto/age_internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/b64.h"
#include "sotto/secret.h"

#define SCRYPT_LABEL "age-encryption.org/v1/scrypt"

struct scrypt_pass {
	struct sotto_secret *pass;	/* passphrase bytes */
	int logn;			/* recipient: work factor; identity:
					   maximum accepted */
};

static sotto_err
scrypt_key(uint8_t key[32], const struct scrypt_pass *p,
    const uint8_t salt[16], int logn, struct sotto_error *e)
{
	uint8_t s[sizeof(SCRYPT_LABEL) - 1 + 16];

	memcpy(s, SCRYPT_LABEL, sizeof(SCRYPT_LABEL) - 1);
	memcpy(s + sizeof(SCRYPT_LABEL) - 1, salt, 16);
	if (crypto_pwhash_scryptsalsa208sha256_ll(p->pass->data, p->pass->len,
	    s, sizeof(s), (uint64_t)1 << logn, 8, 1, key, 32) != 0)
		return sotto_error_set(e, SOTTO_E_NOMEM,
		    "scrypt failed (work factor %d needs %llu MiB)", logn,
		    (unsigned long long)(1ull << (logn + 10)) >> 20);
	return SOTTO_OK;
}

/* Parses a work factor: ^[1-9][0-9]*$ and <= max. */
static bool
parse_logn(const char *s, int max, int *out)
{
	long v = 0;

	if (s[0] < '1' || s[0] > '9')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > max)
			return false;
	}
	*out = (int)v;
	return true;
}

static sotto_err
scrypt_unwrap(const struct sotto_age_identity *id, const struct age_header *h,
    uint8_t file_key[16], struct sotto_error *e)
{
	const struct scrypt_pass *p = id->priv;
	const struct age_stanza *s = NULL;
	uint8_t salt[16], key[32];
	unsigned long long mlen;
	size_t i;
	int logn;
	sotto_err err;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->st[i].type, "scrypt") == 0)
			s = &h->st[i];
	if (s == NULL)
		return SOTTO_E_AGE_NO_MATCH;
	if (h->n != 1)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "an scrypt stanza must be alone in the header");
	if (s->nargs != 2)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid scrypt stanza: wrong number of arguments");
	if (!age_b64_arg(salt, 16, s->args[0]))
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid scrypt stanza: bad salt");
	if (!parse_logn(s->args[1], 1000, &logn))
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid scrypt stanza: bad work factor");
	if (logn > p->logn)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "scrypt work factor %d is too large (maximum %d)", logn,
		    p->logn);
	if (s->body_len != 32)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid scrypt stanza: wrong body length");
	if ((err = scrypt_key(key, p, salt, logn, e)) != SOTTO_OK)
		goto out;
	if (crypto_aead_chacha20poly1305_ietf_decrypt(file_key, &mlen, NULL,
	    s->body, 32, NULL, 0, (const uint8_t[12]){ 0 }, key) != 0)
		err = sotto_error_set(e, SOTTO_E_AGE_NO_MATCH,
		    "incorrect passphrase");
out:
	sodium_memzero(key, sizeof(key));
	return err;
}

static void
scrypt_free(void *priv)
{
	struct scrypt_pass *p = priv;

	if (p == NULL)
		return;
	sotto_secret_free(p->pass);
	free(p);
}

static const struct age_identity_ops scrypt_id_ops = {
	.name = "scrypt",
	.unwrap = scrypt_unwrap,
	.to_recipient = NULL,
	.free_priv = scrypt_free,
};

static sotto_err
scrypt_wrap(const struct sotto_age_recipient *r, const uint8_t file_key[16],
    struct age_header *h, struct sotto_error *e)
{
	const struct scrypt_pass *p = r->priv;
	uint8_t salt[16], key[32], body[32];
	struct sotto_buf arg = SOTTO_BUF_INIT;
	struct age_stanza *s;
	char logn[16];
	sotto_err err;

	randombytes_buf(salt, sizeof(salt));
	if ((err = scrypt_key(key, p, salt, p->logn, e)) != SOTTO_OK)
		goto out;
	crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, file_key, 16,
	    NULL, 0, NULL, (const uint8_t[12]){ 0 }, key);
	snprintf(logn, sizeof(logn), "%d", p->logn);
	if (sotto_b64_encode(&arg, salt, 16, false) ||
	    (s = age_header_add(h, "scrypt")) == NULL ||
	    age_stanza_add_arg(s, (const char *)arg.data) != SOTTO_OK ||
	    age_stanza_add_arg(s, logn) != SOTTO_OK ||
	    age_stanza_set_body(s, body, 32) != SOTTO_OK)
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
out:
	sotto_buf_release(&arg);
	sodium_memzero(key, sizeof(key));
	return err;
}

static const struct age_recipient_ops scrypt_rec_ops = {
	.name = "scrypt",
	.wrap = scrypt_wrap,
	.free_priv = scrypt_free,
};

static struct scrypt_pass *
pass_new(const char *pass, size_t len, int logn)
{
	struct scrypt_pass *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->pass = sotto_secret_dup(pass, len);
	if (p->pass == NULL) {
		free(p);
		return NULL;
	}
	p->logn = logn;
	return p;
}

sotto_err
sotto_age_identity_scrypt(struct sotto_age_identity **out, const char *pass,
    size_t len, int max_logn, struct sotto_error *e)
{
	struct scrypt_pass *p;

	if (len == 0)
		return sotto_error_set(e, SOTTO_E_USAGE, "empty passphrase");
	if (max_logn < 1 || max_logn > 30)
		return sotto_error_set(e, SOTTO_E_USAGE,
		    "invalid maximum scrypt work factor %d", max_logn);
	p = pass_new(pass, len, max_logn);
	if (p == NULL || (*out = age_identity_new(&scrypt_id_ops, p)) == NULL) {
		scrypt_free(p);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	return SOTTO_OK;
}

sotto_err
sotto_age_recipient_scrypt(struct sotto_age_recipient **out, const char *pass,
    size_t len, int logn, struct sotto_error *e)
{
	struct scrypt_pass *p;

	if (len == 0)
		return sotto_error_set(e, SOTTO_E_USAGE, "empty passphrase");
	if (logn < 1 || logn > 30)
		return sotto_error_set(e, SOTTO_E_USAGE,
		    "invalid scrypt work factor %d", logn);
	p = pass_new(pass, len, logn);
	if (p == NULL ||
	    (*out = age_recipient_new(&scrypt_rec_ops, p, "scrypt")) == NULL) {
		scrypt_free(p);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	(*out)->exclusive = true;
	return SOTTO_OK;
}
