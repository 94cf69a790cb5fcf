/* SPDX-License-Identifier: ISC */
/*
 * The SSH recipient types of age (agessh), spec age-format.md §5:
 * ssh-ed25519 (tweaked X25519 on the Montgomery form of the Ed25519 key)
 * and ssh-rsa (RSA-OAEP-SHA-256).  Parses authorized_keys lines and
 * private key files: OpenSSH "openssh-key-v1" (plain, or encrypted with
 * bcrypt_pbkdf + AES), and PEM PKCS#1/PKCS#8 through OpenSSL.  The header
 * grammar belongs to age_header.c, file detection to age.c.
 *
 * Encrypted keys: age_ssh_identity_parse() asks for the passphrase at
 * once; age_ssh_identity_parse_lazy() keeps the public key (from the
 * OpenSSH file, or NAME.pub beside a PEM key) and asks only when a stanza
 * names that key, as age does.
 */
#include "crypto/age_internal.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/b64.h"
#include "crypto/prim.h"
#include "sotto/io.h"
#include "sotto/secret.h"

#define ED25519_LABEL "age-encryption.org/v1/ssh-ed25519"
#define RSA_LABEL "age-encryption.org/v1/ssh-rsa"
#define SSH_KEYFILE_MAX (16u << 10)	/* private key file cap (as Go) */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define BCRYPT_MAX_ROUNDS 4		/* keeps libFuzzer fast (make fuzz) */
#else
#define BCRYPT_MAX_ROUNDS 65536		/* ssh-keygen default is 16 */
#endif
#define OPENSSH_MAGIC "openssh-key-v1"	/* followed by a NUL */
#define OPENSSH_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define OPENSSH_END "-----END OPENSSH PRIVATE KEY-----"

enum ssh_type {
	SSH_ED25519 = 1,
	SSH_RSA,
};

/* One SSH key, public (recipient) or private (identity). */
struct ssh_key {
	enum ssh_type type;	/* key type */
	uint8_t *blob;		/* canonical SSH wire public key */
	size_t bloblen;		/* bytes of blob */
	char tag[8];		/* b64(SHA-256(blob)[:4]), 6 chars */
	uint8_t mont[32];	/* ed25519: X25519 public key */
	uint8_t tweak[32];	/* ed25519: HKDF(salt = blob) */
	struct sotto_secret *sk; /* ed25519 identity: X25519 scalar */
	EVP_PKEY *pkey;		/* rsa: public or private key */
};

/* ---- key objects ----------------------------------------------------- */

static void
key_free(void *priv)
{
	struct ssh_key *k = priv;

	if (k == NULL)
		return;
	free(k->blob);
	sotto_secret_free(k->sk);
	EVP_PKEY_free(k->pkey);
	free(k);
}

static const char *
type_name(enum ssh_type t)
{
	return t == SSH_ED25519 ? "ssh-ed25519" : "ssh-rsa";
}

/*
 * Takes the bytes of blob (the canonical wire public key, which may be NULL
 * after an allocation failure) and sets tag and tweak.
 */
static sotto_err
key_set_blob(struct ssh_key *k, struct sotto_buf *blob, struct sotto_error *e)
{
	struct sotto_buf t = SOTTO_BUF_INIT;
	uint8_t h[crypto_hash_sha256_BYTES];

	k->blob = sotto_buf_detach(blob, &k->bloblen);
	if (k->blob == NULL || k->bloblen == 0)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	crypto_hash_sha256(h, k->blob, k->bloblen);
	if (sotto_b64_encode(&t, h, 4, false) != 0 || t.len != 6) {
		sotto_buf_release(&t);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	memcpy(k->tag, t.data, 7);
	sotto_buf_release(&t);
	if (k->type == SSH_ED25519 && sotto_hkdf_sha256(k->tweak, 32, NULL, 0,
	    k->blob, k->bloblen, ED25519_LABEL) != 0)
		return sotto_error_set(e, SOTTO_E_CRYPTO, "hkdf failed");
	return SOTTO_OK;
}

/* ---- SSH wire format ------------------------------------------------- */

struct rd {
	const uint8_t *p;	/* next byte */
	size_t n;		/* bytes left */
};

static bool
rd_u32(struct rd *r, uint32_t *v)
{
	if (r->n < 4)
		return false;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->n -= 4;
	return true;
}

static bool
rd_str(struct rd *r, const uint8_t **s, size_t *n)
{
	uint32_t len;

	if (!rd_u32(r, &len) || len > r->n)
		return false;
	*s = r->p;
	*n = len;
	r->p += len;
	r->n -= len;
	return true;
}

static bool
str_is(const uint8_t *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

/* Reads a non-negative mpint into a new BIGNUM (secure if secret). */
static bool
rd_mpint(struct rd *r, BIGNUM **bn, bool secret)
{
	const uint8_t *s;
	size_t n;

	if (!rd_str(r, &s, &n) || n > RSA_MAX_BITS / 8 + 1 ||
	    (n > 0 && (s[0] & 0x80) != 0))
		return false;
	*bn = secret ? BN_secure_new() : BN_new();
	if (*bn == NULL)
		return false;
	if (secret)
		BN_set_flags(*bn, BN_FLG_CONSTTIME);
	if (BN_bin2bn(s, (int)n, *bn) == NULL) {
		BN_clear_free(*bn);
		*bn = NULL;
		return false;
	}
	return true;
}

static int
put_u32(struct sotto_buf *b, uint32_t v)
{
	uint8_t q[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff,
		v & 0xff };

	return sotto_buf_add(b, q, 4);
}

static int
put_str(struct sotto_buf *b, const void *p, size_t n)
{
	if (put_u32(b, (uint32_t)n) || sotto_buf_add(b, p, n))
		return -1;
	return 0;
}

/* Canonical mpint: minimal big-endian, 0x00 prefix if the top bit is set. */
static int
put_mpint(struct sotto_buf *b, const BIGNUM *bn)
{
	size_t n = (size_t)BN_num_bytes(bn), pad;

	pad = n > 0 && BN_is_bit_set(bn, (int)(8 * n - 1)) ? 1 : 0;
	if (put_u32(b, (uint32_t)(n + pad)) ||
	    (pad && sotto_buf_addch(b, 0)) || sotto_buf_grow(b, n))
		return -1;
	if (BN_bn2bin(bn, b->data + b->len) != (int)n)
		return -1;
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* ---- RSA via OpenSSL ------------------------------------------------- */

struct rsa_parts {
	BIGNUM *n, *e;			/* public */
	BIGNUM *d, *iqmp, *p, *q;	/* private (NULL for public) */
};

static void
rsa_parts_clear(struct rsa_parts *r)
{
	BN_free(r->n);
	BN_free(r->e);
	BN_clear_free(r->d);
	BN_clear_free(r->iqmp);
	BN_clear_free(r->p);
	BN_clear_free(r->q);
	memset(r, 0, sizeof(*r));
}

/* Checks the sizes the spec requires; ctx prefixes the message. */
static sotto_err
rsa_check(const BIGNUM *n, const BIGNUM *ex, const char *ctx,
    struct sotto_error *e)
{
	if (BN_num_bits(n) < RSA_MIN_BITS)
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "%s: RSA keys shorter than %d bits are not supported",
		    ctx, RSA_MIN_BITS);
	if (BN_num_bits(n) > RSA_MAX_BITS)
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "%s: RSA keys longer than %d bits are not supported",
		    ctx, RSA_MAX_BITS);
	if (BN_num_bits(ex) > 31 || !BN_is_odd(ex) || BN_is_one(ex))
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "%s: invalid RSA public exponent", ctx);
	return SOTTO_OK;
}

/* rsa_check for a key file: the context is the quoted file name. */
static sotto_err
rsa_check_file(const BIGNUM *n, const BIGNUM *ex, const char *name,
    struct sotto_error *e)
{
	char ctx[128];

	snprintf(ctx, sizeof(ctx), "'%s'", name);
	return rsa_check(n, ex, ctx, e);
}

/* Builds an EVP_PKEY from the parts (private if r->d is set). */
static EVP_PKEY *
rsa_build(const struct rsa_parts *r)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BN_CTX *bnctx = NULL;
	BIGNUM *dmp1 = NULL, *dmq1 = NULL, *t = NULL;
	bool priv = r->d != NULL;

	if (bld == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N,
	    r->n) || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, r->e))
		goto out;
	if (priv) {
		bnctx = BN_CTX_secure_new();
		dmp1 = BN_secure_new();
		dmq1 = BN_secure_new();
		t = BN_secure_new();
		if (bnctx == NULL || dmp1 == NULL || dmq1 == NULL ||
		    t == NULL || BN_sub(t, r->p, BN_value_one()) != 1 ||
		    BN_mod(dmp1, r->d, t, bnctx) != 1 ||
		    BN_sub(t, r->q, BN_value_one()) != 1 ||
		    BN_mod(dmq1, r->d, t, bnctx) != 1)
			goto out;
		if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, r->d) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1,
		    r->p) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2,
		    r->q) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1,
		    dmp1) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		    dmq1) ||
		    !OSSL_PARAM_BLD_push_BN(bld,
		    OSSL_PKEY_PARAM_RSA_COEFFICIENT1, r->iqmp))
			goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, priv ? EVP_PKEY_KEYPAIR :
	    EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
out:
	OSSL_PARAM_free(params);	/* secure for secure BNs */
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_clear_free(dmp1);
	BN_clear_free(dmq1);
	BN_clear_free(t);
	BN_CTX_free(bnctx);
	ERR_clear_error();
	return pkey;
}

/* Sets k's RSA blob from n and e and takes the key pkey. */
static sotto_err
rsa_key_finish(struct ssh_key *k, const BIGNUM *n, const BIGNUM *ex,
    EVP_PKEY *pkey, struct sotto_error *e)
{
	struct sotto_buf blob = SOTTO_BUF_INIT;
	sotto_err err;

	k->type = SSH_RSA;
	k->pkey = pkey;
	if (put_str(&blob, "ssh-rsa", 7) || put_mpint(&blob, ex) ||
	    put_mpint(&blob, n))
		sotto_buf_release(&blob);
	err = key_set_blob(k, &blob, e);
	sotto_buf_release(&blob);
	return err;
}

/* Sets up the OAEP parameters on an encrypt/decrypt-initialised ctx. */
static bool
oaep_setup(EVP_PKEY_CTX *ctx)
{
	unsigned char *label;

	if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) <= 0)
		return false;
	label = OPENSSL_memdup(RSA_LABEL, strlen(RSA_LABEL));
	if (label == NULL)
		return false;
	if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label,
	    (int)strlen(RSA_LABEL)) <= 0) {
		OPENSSL_free(label);
		return false;
	}
	return true;
}

/* ---- recipients ------------------------------------------------------ */

static sotto_err
add_stanza(struct age_header *h, const char *type, const char *a1,
    const char *a2, const uint8_t *body, size_t n, struct sotto_error *e)
{
	struct age_stanza *s;

	if ((s = age_header_add(h, type)) == NULL ||
	    age_stanza_add_arg(s, a1) != SOTTO_OK ||
	    (a2 != NULL && age_stanza_add_arg(s, a2) != SOTTO_OK) ||
	    age_stanza_set_body(s, body, n) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

static sotto_err
ed25519_wrap(const struct ssh_key *k, const uint8_t file_key[16],
    struct age_header *h, struct sotto_error *e)
{
	uint8_t esk[32], eph[32], ss[32], ss2[32], key[32], body[32];
	uint8_t salt[64];
	struct sotto_buf arg = SOTTO_BUF_INIT;
	sotto_err err = SOTTO_E_CRYPTO;

	randombytes_buf(esk, sizeof(esk));
	crypto_scalarmult_base(eph, esk);
	if (crypto_scalarmult(ss, esk, k->mont) != 0 ||
	    crypto_scalarmult(ss2, k->tweak, ss) != 0) {
		err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "invalid ssh-ed25519 recipient (low-order point)");
		goto out;
	}
	memcpy(salt, eph, 32);
	memcpy(salt + 32, k->mont, 32);
	if (sotto_hkdf_sha256(key, 32, ss2, 32, salt, 64, ED25519_LABEL) ||
	    crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, file_key, 16,
	    NULL, 0, NULL, (const uint8_t[12]){ 0 }, key) != 0) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO,
		    "ssh-ed25519 wrap failed");
		goto out;
	}
	if (sotto_b64_encode(&arg, eph, 32, false) != 0) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	err = add_stanza(h, "ssh-ed25519", k->tag, (const char *)arg.data,
	    body, 32, e);
out:
	sotto_buf_release(&arg);
	sodium_memzero(esk, sizeof(esk));
	sodium_memzero(ss, sizeof(ss));
	sodium_memzero(ss2, sizeof(ss2));
	sodium_memzero(key, sizeof(key));
	return err;
}

static sotto_err
rsa_wrap(const struct ssh_key *k, const uint8_t file_key[16],
    struct age_header *h, struct sotto_error *e)
{
	EVP_PKEY_CTX *ctx;
	uint8_t *body = NULL;
	size_t n = 0;
	sotto_err err;

	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
	if (ctx == NULL || EVP_PKEY_encrypt_init(ctx) <= 0 ||
	    !oaep_setup(ctx) ||
	    EVP_PKEY_encrypt(ctx, NULL, &n, file_key, 16) <= 0 ||
	    (body = malloc(n)) == NULL ||
	    EVP_PKEY_encrypt(ctx, body, &n, file_key, 16) <= 0) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "ssh-rsa wrap failed");
		goto out;
	}
	err = add_stanza(h, "ssh-rsa", k->tag, NULL, body, n, e);
out:
	free(body);
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return err;
}

static sotto_err
ssh_wrap(const struct sotto_age_recipient *r, const uint8_t file_key[16],
    struct age_header *h, struct sotto_error *e)
{
	const struct ssh_key *k = r->priv;

	if (k->type == SSH_ED25519)
		return ed25519_wrap(k, file_key, h, e);
	return rsa_wrap(k, file_key, h, e);
}

static const struct age_recipient_ops ssh_rec_ops = {
	.name = "ssh",
	.wrap = ssh_wrap,
	.free_priv = key_free,
};

/*
 * Parses a public key blob into a new key; what names the source in
 * messages.  The blob is re-encoded canonically (as Go's Marshal does).
 */
static sotto_err
key_from_pub_blob(struct ssh_key **out, const uint8_t *b, size_t n,
    const char *what, struct sotto_error *e)
{
	struct rd r = { b, n };
	struct rsa_parts rp = { 0 };
	struct sotto_buf blob = SOTTO_BUF_INIT;
	struct ssh_key *k;
	const uint8_t *t, *pk;
	size_t tlen, pklen;
	sotto_err err = SOTTO_E_KEY_FORMAT;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if (!rd_str(&r, &t, &tlen))
		goto bad;
	if (str_is(t, tlen, "ssh-ed25519")) {
		k->type = SSH_ED25519;
		if (!rd_str(&r, &pk, &pklen) || pklen != 32 || r.n != 0)
			goto bad;
		if (crypto_sign_ed25519_pk_to_curve25519(k->mont, pk) != 0) {
			err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
			    "%s: invalid ed25519 public key", what);
			goto out;
		}
		if (put_str(&blob, "ssh-ed25519", 11) || put_str(&blob, pk, 32))
			sotto_buf_release(&blob);
		err = key_set_blob(k, &blob, e);
	} else if (str_is(t, tlen, "ssh-rsa")) {
		if (!rd_mpint(&r, &rp.e, false) ||
		    !rd_mpint(&r, &rp.n, false) || r.n != 0)
			goto bad;
		if ((err = rsa_check(rp.n, rp.e, what, e)) != SOTTO_OK)
			goto out;
		k->pkey = rsa_build(&rp);
		if (k->pkey == NULL) {
			err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
			    "%s: invalid RSA public key", what);
			goto out;
		}
		err = rsa_key_finish(k, rp.n, rp.e, k->pkey, e);
	} else {
		err = sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "%s: unsupported SSH key type (only ssh-ed25519 and "
		    "ssh-rsa)", what);
		goto out;
	}
	if (err == SOTTO_OK) {
		*out = k;
		k = NULL;
	}
	goto out;
bad:
	err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
	    "%s: malformed SSH public key", what);
out:
	rsa_parts_clear(&rp);
	sotto_buf_release(&blob);
	key_free(k);
	return err;
}

/* Wraps a key into a recipient with its canonical "type b64" string. */
static sotto_err
recipient_from_key(struct sotto_age_recipient **out, struct ssh_key *k,
    struct sotto_error *e)
{
	struct sotto_buf s = SOTTO_BUF_INIT;

	if (sotto_buf_addstr(&s, type_name(k->type)) ||
	    sotto_buf_addch(&s, ' ') ||
	    sotto_b64_encode(&s, k->blob, k->bloblen, true) ||
	    (*out = age_recipient_new(&ssh_rec_ops, k,
	    (const char *)s.data)) == NULL) {
		sotto_buf_release(&s);
		key_free(k);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	sotto_buf_release(&s);
	return SOTTO_OK;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Splits "TYPE B64 [comment]" into its first two fields and decodes B64
 * into a new buffer.  Returns false if the line does not have that shape.
 */
static bool
split_line(const char *line, const char **type, size_t *tlen,
    struct sotto_buf *blob)
{
	const char *p = line, *b;
	size_t blen;

	*type = p;
	while (*p != '\0' && !is_blank(*p))
		p++;
	*tlen = (size_t)(p - *type);
	if (*tlen == 0 || !is_blank(*p))
		return false;
	while (is_blank(*p))
		p++;
	b = p;
	while (*p != '\0' && !is_blank(*p))
		p++;
	blen = (size_t)(p - b);
	if (blen == 0 || blen > 65536 ||
	    sotto_buf_grow(blob, SOTTO_B64_DECODED_MAX(blen)) != SOTTO_OK)
		return false;
	if (!sotto_b64_decode(blob->data, &blob->len, b, blen, true)) {
		sotto_buf_truncate(blob, 0);
		return false;
	}
	blob->data[blob->len] = '\0';
	return true;
}

/*
 * The recipient's string is the line as given, less trailing blanks: an
 * authorized_keys comment stays, as sops keeps it in a file's metadata
 * ("ssh-ed25519 AAAA... user@host"), so that files, .sops.yaml and
 * --rm-age compare the same strings sops does.
 */
static sotto_err
keep_as_given(struct sotto_age_recipient *r, const char *line,
    struct sotto_error *e)
{
	size_t n = strlen(line);
	char *s;

	while (n > 0 && (is_blank(line[n - 1]) || line[n - 1] == '\r' ||
	    line[n - 1] == '\n'))
		n--;
	if ((s = strndup(line, n)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	free(r->str);
	r->str = s;
	return SOTTO_OK;
}

sotto_err
age_ssh_recipient_parse(struct sotto_age_recipient **out, const char *line,
    struct sotto_error *e)
{
	struct sotto_buf blob = SOTTO_BUF_INIT;
	struct ssh_key *k = NULL;
	struct rd r;
	const char *type;
	const uint8_t *bt;
	size_t tlen, btlen;
	sotto_err err;

	*out = NULL;
	if (!split_line(line, &type, &tlen, &blob)) {
		err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "malformed SSH recipient: expected 'TYPE BASE64 "
		    "[COMMENT]'");
		goto out;
	}
	r.p = blob.data;
	r.n = blob.len;
	if (!rd_str(&r, &bt, &btlen) || btlen != tlen ||
	    memcmp(bt, type, tlen) != 0) {
		err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "malformed SSH recipient: key type does not match the "
		    "key data");
		goto out;
	}
	err = key_from_pub_blob(&k, blob.data, blob.len, "SSH recipient", e);
	if (err == SOTTO_OK)
		err = recipient_from_key(out, k, e);
	if (err == SOTTO_OK && (err = keep_as_given(*out, line, e)) !=
	    SOTTO_OK) {
		sotto_age_recipient_free(*out);
		*out = NULL;
	}
out:
	sotto_buf_release(&blob);
	return err;
}

bool
age_ssh_unsupported_type(const char *line)
{
	struct sotto_buf blob = SOTTO_BUF_INIT;
	struct rd r;
	const char *type;
	const uint8_t *bt;
	size_t tlen, btlen;
	bool res = false;

	if (!split_line(line, &type, &tlen, &blob))
		goto out;
	r.p = blob.data;
	r.n = blob.len;
	if (!rd_str(&r, &bt, &btlen) || btlen != tlen ||
	    memcmp(bt, type, tlen) != 0)
		goto out;
	res = !str_is(bt, btlen, "ssh-ed25519") && !str_is(bt, btlen,
	    "ssh-rsa");
out:
	sotto_buf_release(&blob);
	return res;
}

/* ---- identities: unwrap ------------------------------------------------ */

static sotto_err
ed25519_unwrap_one(const struct ssh_key *k, const struct age_stanza *s,
    uint8_t file_key[16], struct sotto_error *e)
{
	uint8_t eph[32], ss[32], ss2[32], key[32], salt[64];
	unsigned long long mlen;
	sotto_err err;

	if (strcmp(s->type, "ssh-ed25519") != 0)
		return SOTTO_E_AGE_NO_MATCH;
	if (s->nargs != 2)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid ssh-ed25519 stanza: wrong number of arguments");
	if (!age_b64_arg(eph, 32, s->args[1]))
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid ssh-ed25519 stanza: bad ephemeral share");
	if (strcmp(s->args[0], k->tag) != 0)
		return SOTTO_E_AGE_NO_MATCH;
	if (s->body_len != 32)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid ssh-ed25519 stanza: wrong body length");
	if (crypto_scalarmult(ss, k->sk->data, eph) != 0 ||
	    crypto_scalarmult(ss2, k->tweak, ss) != 0) {
		err = sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid ssh-ed25519 stanza: low-order ephemeral share");
		goto out;
	}
	memcpy(salt, eph, 32);
	memcpy(salt + 32, k->mont, 32);
	if (sotto_hkdf_sha256(key, 32, ss2, 32, salt, 64, ED25519_LABEL)) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "hkdf failed");
		goto out;
	}
	err = SOTTO_OK;
	if (crypto_aead_chacha20poly1305_ietf_decrypt(file_key, &mlen, NULL,
	    s->body, 32, NULL, 0, (const uint8_t[12]){ 0 }, key) != 0)
		err = sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "ssh-ed25519 stanza matched the key but its file key "
		    "failed to decrypt");
out:
	sodium_memzero(ss, sizeof(ss));
	sodium_memzero(ss2, sizeof(ss2));
	sodium_memzero(key, sizeof(key));
	return err;
}

static sotto_err
rsa_unwrap_one(const struct ssh_key *k, const struct age_stanza *s,
    uint8_t file_key[16], struct sotto_error *e)
{
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t out[RSA_MAX_BITS / 8];
	size_t n = sizeof(out);
	sotto_err err;

	if (strcmp(s->type, "ssh-rsa") != 0)
		return SOTTO_E_AGE_NO_MATCH;
	if (s->nargs != 1)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "invalid ssh-rsa stanza: wrong number of arguments");
	if (strcmp(s->args[0], k->tag) != 0)
		return SOTTO_E_AGE_NO_MATCH;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
	if (ctx == NULL || EVP_PKEY_decrypt_init(ctx) <= 0 ||
	    !oaep_setup(ctx)) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO,
		    "ssh-rsa: cannot set up RSA-OAEP");
		goto out;
	}
	if ((size_t)EVP_PKEY_get_size(k->pkey) > sizeof(out) ||
	    EVP_PKEY_decrypt(ctx, out, &n, s->body, s->body_len) <= 0 ||
	    n != 16) {
		err = sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "ssh-rsa stanza matched the key but its file key failed "
		    "to decrypt");
		goto out;
	}
	memcpy(file_key, out, 16);
	err = SOTTO_OK;
out:
	sodium_memzero(out, sizeof(out));
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return err;
}

static sotto_err
ssh_unwrap(const struct sotto_age_identity *id, const struct age_header *h,
    uint8_t file_key[16], struct sotto_error *e)
{
	const struct ssh_key *k = id->priv;
	size_t i;
	sotto_err err;

	for (i = 0; i < h->n; i++) {
		if (k->type == SSH_ED25519)
			err = ed25519_unwrap_one(k, &h->st[i], file_key, e);
		else
			err = rsa_unwrap_one(k, &h->st[i], file_key, e);
		if (err != SOTTO_E_AGE_NO_MATCH)
			return err;
	}
	return SOTTO_E_AGE_NO_MATCH;
}

static sotto_err
ssh_to_recipient(struct sotto_age_recipient **out,
    const struct sotto_age_identity *id, struct sotto_error *e)
{
	const struct ssh_key *k = id->priv;
	struct ssh_key *pub = NULL;
	sotto_err err;

	*out = NULL;
	err = key_from_pub_blob(&pub, k->blob, k->bloblen, "SSH identity", e);
	if (err != SOTTO_OK)
		return err;
	return recipient_from_key(out, pub, e);
}

static const struct age_identity_ops ssh_id_ops = {
	.name = "ssh",
	.unwrap = ssh_unwrap,
	.to_recipient = ssh_to_recipient,
	.free_priv = key_free,
};

/* ---- identities: building keys --------------------------------------- */

/* A new ed25519 identity key from the 64-byte secret key (seed || pk). */
static sotto_err
ed25519_identity_key(struct ssh_key **out, const uint8_t sk64[64],
    const char *name, struct sotto_error *e)
{
	struct sotto_buf blob = SOTTO_BUF_INIT;
	struct ssh_key *k;
	uint8_t pk[32], sk[64];
	sotto_err err;

	crypto_sign_seed_keypair(pk, sk, sk64);
	sodium_memzero(sk, sizeof(sk));
	if (sodium_memcmp(pk, sk64 + 32, 32) != 0)
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "'%s': ed25519 private and public keys do not match", name);
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->sk = sotto_secret_new(32)) == NULL) {
		key_free(k);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	k->type = SSH_ED25519;
	if (crypto_sign_ed25519_sk_to_curve25519(k->sk->data, sk64) != 0 ||
	    crypto_scalarmult_base(k->mont, k->sk->data) != 0) {
		key_free(k);
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "'%s': invalid ed25519 private key", name);
	}
	if (put_str(&blob, "ssh-ed25519", 11) || put_str(&blob, pk, 32))
		sotto_buf_release(&blob);
	if ((err = key_set_blob(k, &blob, e)) != SOTTO_OK) {
		key_free(k);
		return err;
	}
	*out = k;
	return SOTTO_OK;
}

/* A new RSA identity key from its OpenSSH fields (consumes nothing). */
static sotto_err
rsa_identity_key(struct ssh_key **out, const struct rsa_parts *rp,
    const char *name, struct sotto_error *e)
{
	struct ssh_key *k;
	EVP_PKEY *pkey;
	sotto_err err;

	if ((err = rsa_check_file(rp->n, rp->e, name, e)) != SOTTO_OK)
		return err;
	if ((pkey = rsa_build(rp)) == NULL)
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "'%s': invalid RSA private key", name);
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	if ((err = rsa_key_finish(k, rp->n, rp->e, pkey, e)) != SOTTO_OK) {
		key_free(k);
		return err;
	}
	*out = k;
	return SOTTO_OK;
}

/* ---- bcrypt_pbkdf (OpenBSD), for encrypted OpenSSH keys --------------- */

/*
 * Blowfish with the eksblowfish key schedule.  OpenSSL 3 only offers the
 * deprecated BF_* API, which lacks the salted expansion, and its initial
 * state (the hex digits of pi) is private, so the state is computed here
 * from Machin's formula with BIGNUMs (about 10 ms) and checked against
 * known words.
 */
#define BF_WORDS (18 + 4 * 256)

struct bf {
	uint32_t P[18];		/* subkeys */
	uint32_t S[4][256];	/* S-boxes */
};

#define BF_F(c, x) ((((c)->S[0][(x) >> 24] + (c)->S[1][((x) >> 16) & 0xff]) ^ \
	(c)->S[2][((x) >> 8) & 0xff]) + (c)->S[3][(x) & 0xff])

static void
bf_encipher(const struct bf *c, uint32_t *xl, uint32_t *xr)
{
	uint32_t l = *xl, r = *xr, t;
	int i;

	for (i = 0; i < 16; i++) {
		l ^= c->P[i];
		r ^= BF_F(c, l);
		t = l;
		l = r;
		r = t;
	}
	*xl = r ^ c->P[17];
	*xr = l ^ c->P[16];
}

/* Reads 4 bytes big-endian from data, cycling (Blowfish_stream2word). */
static uint32_t
bf_word(const uint8_t *data, size_t n, size_t *j)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++, (*j)++) {
		if (*j >= n)
			*j = 0;
		v = v << 8 | data[*j];
	}
	return v;
}

/* Blowfish_expandstate (data != NULL) or Blowfish_expand0state. */
static void
bf_expand(struct bf *c, const uint8_t *data, size_t dn, const uint8_t *key,
    size_t kn)
{
	uint32_t l = 0, r = 0, *w;
	size_t i, j = 0;

	for (i = 0; i < 18; i++)
		c->P[i] ^= bf_word(key, kn, &j);
	j = 0;
	for (i = 0; i < BF_WORDS; i += 2) {
		if (data != NULL) {
			l ^= bf_word(data, dn, &j);
			r ^= bf_word(data, dn, &j);
		}
		bf_encipher(c, &l, &r);
		w = i < 18 ? &c->P[i] : &c->S[(i - 18) / 256][(i - 18) % 256];
		w[0] = l;
		w[1] = r;
	}
}

/* Sets out to atan(1/x) * 2^prec (truncated series). */
static bool
atan_inv(BIGNUM *out, BN_ULONG x, int prec)
{
	BIGNUM *term = BN_new(), *t = BN_new();
	BN_ULONG k;
	bool ok = false;

	BN_zero(out);
	if (term == NULL || t == NULL || !BN_set_word(term, 1) ||
	    !BN_lshift(term, term, prec) ||
	    BN_div_word(term, x) == (BN_ULONG)-1)
		goto out;
	for (k = 0; !BN_is_zero(term); k++) {
		if (BN_copy(t, term) == NULL ||
		    BN_div_word(t, 2 * k + 1) == (BN_ULONG)-1)
			goto out;
		if ((k & 1) ? !BN_sub(out, out, t) : !BN_add(out, out, t))
			goto out;
		if (BN_div_word(term, x * x) == (BN_ULONG)-1)
			goto out;
	}
	ok = true;
out:
	BN_free(term);
	BN_free(t);
	return ok;
}

/* Fills the initial Blowfish state: the fraction of pi, in hex. */
static bool
bf_init_state(struct bf *init)
{
	const int bits = BF_WORDS * 32, guard = 64;
	uint8_t *buf = NULL;
	BIGNUM *a = BN_new(), *b = BN_new(), *three = BN_new();
	uint32_t *w;
	bool ok = false;
	size_t i;

	if (a == NULL || b == NULL || three == NULL ||
	    (buf = malloc(BF_WORDS * 4)) == NULL ||
	    !atan_inv(a, 5, bits + guard) || !atan_inv(b, 239, bits + guard) ||
	    !BN_lshift(a, a, 4) || !BN_lshift(b, b, 2) || !BN_sub(a, a, b) ||
	    !BN_set_word(three, 3) || !BN_lshift(three, three, bits + guard) ||
	    !BN_sub(a, a, three) || !BN_rshift(a, a, guard) ||
	    BN_bn2binpad(a, buf, BF_WORDS * 4) != BF_WORDS * 4)
		goto out;
	for (i = 0; i < BF_WORDS; i++) {
		w = i < 18 ? &init->P[i] : &init->S[(i - 18) / 256][(i - 18) %
		    256];
		*w = (uint32_t)buf[4 * i] << 24 |
		    (uint32_t)buf[4 * i + 1] << 16 |
		    (uint32_t)buf[4 * i + 2] << 8 | buf[4 * i + 3];
	}
	ok = init->P[0] == 0x243f6a88 && init->P[17] == 0x8979fb1b &&
	    init->S[0][0] == 0xd1310ba6 && init->S[3][255] == 0x3ac372e6;
out:
	free(buf);
	BN_free(a);
	BN_free(b);
	BN_free(three);
	return ok;
}

/* OpenBSD's bcrypt_hash: one 32-byte block from SHA-512'd pass and salt. */
static void
bcrypt_hash(const struct bf *init, const uint8_t pass[64],
    const uint8_t salt[64], uint8_t out[32])
{
	static const uint8_t magic[32] = "OxychromaticBlowfishSwatDynamite";
	struct bf st;
	uint32_t cdata[8];
	size_t i, j = 0, k;

	memcpy(&st, init, sizeof(st));
	bf_expand(&st, salt, 64, pass, 64);
	for (i = 0; i < 64; i++) {
		bf_expand(&st, NULL, 0, salt, 64);
		bf_expand(&st, NULL, 0, pass, 64);
	}
	for (i = 0; i < 8; i++)
		cdata[i] = bf_word(magic, sizeof(magic), &j);
	for (i = 0; i < 64; i++)
		for (k = 0; k < 8; k += 2)
			bf_encipher(&st, &cdata[k], &cdata[k + 1]);
	for (i = 0; i < 8; i++) {
		out[4 * i + 3] = (uint8_t)(cdata[i] >> 24);
		out[4 * i + 2] = (uint8_t)(cdata[i] >> 16);
		out[4 * i + 1] = (uint8_t)(cdata[i] >> 8);
		out[4 * i + 0] = (uint8_t)cdata[i];
	}
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(cdata, sizeof(cdata));
}

/* bcrypt_pbkdf (OpenBSD); keylen <= 64 here.  Returns false on failure. */
static bool
bcrypt_pbkdf(const uint8_t *pass, size_t passlen, const uint8_t *salt,
    size_t saltlen, uint8_t *key, size_t keylen, uint32_t rounds)
{
	crypto_hash_sha512_state h;
	struct bf *init = NULL;
	uint8_t spass[64], ssalt[64], out[32], tmp[32], cnt[4];
	size_t i, j, amt, stride, left = keylen, dest;
	uint32_t count;
	bool ok = false;

	if (rounds < 1 || passlen == 0 || saltlen == 0 || keylen == 0 ||
	    keylen > sizeof(out) * sizeof(out))
		return false;
	if ((init = malloc(sizeof(*init))) == NULL || !bf_init_state(init))
		goto out;
	stride = (keylen + sizeof(out) - 1) / sizeof(out);
	amt = (keylen + stride - 1) / stride;
	crypto_hash_sha512(spass, pass, passlen);
	for (count = 1; left > 0; count++) {
		cnt[0] = (uint8_t)(count >> 24);
		cnt[1] = (uint8_t)(count >> 16);
		cnt[2] = (uint8_t)(count >> 8);
		cnt[3] = (uint8_t)count;
		crypto_hash_sha512_init(&h);
		crypto_hash_sha512_update(&h, salt, saltlen);
		crypto_hash_sha512_update(&h, cnt, sizeof(cnt));
		crypto_hash_sha512_final(&h, ssalt);
		bcrypt_hash(init, spass, ssalt, tmp);
		memcpy(out, tmp, sizeof(out));
		for (i = 1; i < rounds; i++) {
			crypto_hash_sha512(ssalt, tmp, sizeof(tmp));
			bcrypt_hash(init, spass, ssalt, tmp);
			for (j = 0; j < sizeof(out); j++)
				out[j] ^= tmp[j];
		}
		amt = amt < left ? amt : left;
		for (i = 0; i < amt; i++) {
			dest = i * stride + (count - 1);
			if (dest >= keylen)
				break;
			key[dest] = out[i];
		}
		left -= i;
	}
	ok = true;
out:
	free(init);
	sodium_memzero(&h, sizeof(h));
	sodium_memzero(spass, sizeof(spass));
	sodium_memzero(ssalt, sizeof(ssalt));
	sodium_memzero(out, sizeof(out));
	sodium_memzero(tmp, sizeof(tmp));
	return ok;
}

/* ---- OpenSSH private key files ----------------------------------------- */

struct ossh_cipher {
	const char *name;		/* OpenSSH cipher name */
	const EVP_CIPHER *(*evp)(void);	/* OpenSSL cipher */
	size_t keylen, ivlen, block;	/* bytes */
};

static const struct ossh_cipher ossh_ciphers[] = {
	{ "aes128-ctr", EVP_aes_128_ctr, 16, 16, 16 },
	{ "aes192-ctr", EVP_aes_192_ctr, 24, 16, 16 },
	{ "aes256-ctr", EVP_aes_256_ctr, 32, 16, 16 },
	{ "aes128-cbc", EVP_aes_128_cbc, 16, 16, 16 },
	{ "aes192-cbc", EVP_aes_192_cbc, 24, 16, 16 },
	{ "aes256-cbc", EVP_aes_256_cbc, 32, 16, 16 },
};

static bool
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Prints an untrusted name only when it is short and printable. */
static int
safe_len(const uint8_t *s, size_t n)
{
	size_t i;

	if (n > 40)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '\'')
			return 0;
	return (int)n;
}

/* Extracts and decodes the base64 between the OpenSSH armor lines. */
static sotto_err
openssh_dearmor(struct sotto_buf *raw, const uint8_t *data, size_t len,
    const char *name, struct sotto_error *e)
{
	struct sotto_buf text = SOTTO_BUF_SECRET_INIT;
	const uint8_t *p = data, *end = data + len;
	const size_t bl = strlen(OPENSSH_BEGIN), el = strlen(OPENSSH_END);
	sotto_err err = SOTTO_OK;

	while (p < end && is_space(*p))
		p++;
	if ((size_t)(end - p) < bl || memcmp(p, OPENSSH_BEGIN, bl) != 0)
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "'%s': missing OpenSSH private key header", name);
	for (p += bl; p < end && *p != '-'; p++) {
		if (!is_space(*p) && sotto_buf_addch(&text, *p) != SOTTO_OK) {
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
			goto out;
		}
	}
	if ((size_t)(end - p) < el || memcmp(p, OPENSSH_END, el) != 0) {
		err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "'%s': missing OpenSSH private key footer", name);
		goto out;
	}
	if (sotto_buf_grow(raw, SOTTO_B64_DECODED_MAX(text.len)) != SOTTO_OK) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if (text.len == 0 || !sotto_b64_decode(raw->data, &raw->len,
	    (const char *)text.data, text.len, true)) {
		sotto_buf_truncate(raw, 0);
		err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "'%s': invalid base64 in OpenSSH private key", name);
		goto out;
	}
	raw->data[raw->len] = '\0';
out:
	sotto_buf_release(&text);
	return err;
}

/* Asks cb for the passphrase of name into pass. */
static sotto_err
ask_pass(struct sotto_buf *pass, const char *name, sotto_age_pass_cb cb,
    void *cbctx, struct sotto_error *e)
{
	struct sotto_buf prompt = SOTTO_BUF_INIT;
	sotto_err err;

	if (cb == NULL)
		return sotto_error_set(e, SOTTO_E_TTY,
		    "'%s': the SSH key is passphrase-protected and no "
		    "passphrase can be asked for", name);
	if (sotto_buf_addf(&prompt, "Enter passphrase for \"%s\": ", name))
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	err = cb(cbctx, (const char *)prompt.data, pass, e);
	sotto_buf_release(&prompt);
	return err;
}

struct ossh_enc {
	const uint8_t *cipher, *kdf, *opts;	/* header fields */
	size_t cn, kn, on;			/* their lengths */
};

/* Decrypts priv with key || iv (keyiv) into plain. */
static sotto_err
cipher_run(struct sotto_buf *plain, const struct ossh_cipher *c,
    const uint8_t *keyiv, const uint8_t *priv, size_t privn,
    const char *name, struct sotto_error *e)
{
	EVP_CIPHER_CTX *ctx;
	int l1 = 0, l2 = 0;
	sotto_err err = SOTTO_OK;

	if (sotto_buf_grow(plain, privn) != SOTTO_OK ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if (privn > INT32_MAX || EVP_DecryptInit_ex(ctx, c->evp(), NULL, keyiv,
	    keyiv + c->keylen) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_DecryptUpdate(ctx, plain->data, &l1, priv, (int)privn) != 1 ||
	    EVP_DecryptFinal_ex(ctx, plain->data + l1, &l2) != 1 ||
	    (size_t)(l1 + l2) != privn) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO,
		    "'%s': cannot decrypt the OpenSSH private key", name);
		goto out;
	}
	plain->len = privn;
	plain->data[privn] = '\0';
out:
	EVP_CIPHER_CTX_free(ctx);	/* cleanses the key schedule */
	ERR_clear_error();
	return err;
}

/* Decrypts the private section priv (bcrypt_pbkdf + AES) into plain. */
static sotto_err
openssh_decrypt(struct sotto_buf *plain, const struct ossh_enc *x,
    const uint8_t *priv, size_t privn, const char *name,
    sotto_age_pass_cb cb, void *cbctx, struct sotto_error *e)
{
	const struct ossh_cipher *c = NULL;
	struct sotto_buf pass = SOTTO_BUF_SECRET_INIT;
	struct rd r = { x->opts, x->on };
	const uint8_t *salt;
	uint8_t keyiv[64];
	size_t i, saltn;
	uint32_t rounds;
	sotto_err err;

	for (i = 0; i < sizeof(ossh_ciphers) / sizeof(ossh_ciphers[0]); i++)
		if (str_is(x->cipher, x->cn, ossh_ciphers[i].name))
			c = &ossh_ciphers[i];
	if (c == NULL)
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "'%s': OpenSSH key cipher '%.*s' is not supported", name,
		    safe_len(x->cipher, x->cn), (const char *)x->cipher);
	if (!str_is(x->kdf, x->kn, "bcrypt"))
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "'%s': OpenSSH key derivation '%.*s' is not supported",
		    name, safe_len(x->kdf, x->kn), (const char *)x->kdf);
	if (!rd_str(&r, &salt, &saltn) || !rd_u32(&r, &rounds) || r.n != 0 ||
	    saltn == 0 || saltn > 1024 || rounds == 0 || privn == 0 ||
	    privn % c->block != 0)
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "'%s': malformed OpenSSH private key", name);
	if (rounds > BCRYPT_MAX_ROUNDS)
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "'%s': OpenSSH key uses %u bcrypt rounds (limit %d)", name,
		    (unsigned)rounds, BCRYPT_MAX_ROUNDS);
	if ((err = ask_pass(&pass, name, cb, cbctx, e)) != SOTTO_OK)
		goto out;
	if (pass.len == 0) {
		err = sotto_error_set(e, SOTTO_E_BAD_PASSPHRASE,
		    "'%s': incorrect passphrase", name);
		goto out;
	}
	if (!bcrypt_pbkdf(pass.data, pass.len, salt, saltn, keyiv,
	    c->keylen + c->ivlen, rounds)) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO,
		    "'%s': bcrypt_pbkdf failed", name);
		goto out;
	}
	err = cipher_run(plain, c, keyiv, priv, privn, name, e);
out:
	sotto_buf_release(&pass);
	sodium_memzero(keyiv, sizeof(keyiv));
	return err;
}

/* Parses the decrypted private section into a new identity key. */
static sotto_err
openssh_private(struct ssh_key **out, const uint8_t *p, size_t n,
    const uint8_t *pub, size_t pubn, bool encrypted, const char *name,
    struct sotto_error *e)
{
	struct rd r = { p, n };
	struct rsa_parts rp = { 0 };
	struct ssh_key *k = NULL;
	const uint8_t *t, *pk, *sk, *cm;
	size_t tn, pkn, skn, cmn, i;
	uint32_t c1, c2;
	sotto_err err;

	if (!rd_u32(&r, &c1) || !rd_u32(&r, &c2))
		goto bad;
	if (c1 != c2) {
		if (encrypted)
			return sotto_error_set(e, SOTTO_E_BAD_PASSPHRASE,
			    "'%s': incorrect passphrase", name);
		goto bad;
	}
	if (!rd_str(&r, &t, &tn))
		goto bad;
	if (str_is(t, tn, "ssh-ed25519")) {
		if (!rd_str(&r, &pk, &pkn) || pkn != 32 ||
		    !rd_str(&r, &sk, &skn) || skn != 64 ||
		    sodium_memcmp(pk, sk + 32, 32) != 0)
			goto bad;
		err = ed25519_identity_key(&k, sk, name, e);
	} else if (str_is(t, tn, "ssh-rsa")) {
		if (!rd_mpint(&r, &rp.n, false) ||
		    !rd_mpint(&r, &rp.e, false) ||
		    !rd_mpint(&r, &rp.d, true) ||
		    !rd_mpint(&r, &rp.iqmp, true) ||
		    !rd_mpint(&r, &rp.p, true) || !rd_mpint(&r, &rp.q, true)) {
			rsa_parts_clear(&rp);
			goto bad;
		}
		err = rsa_identity_key(&k, &rp, name, e);
		rsa_parts_clear(&rp);
	} else {
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "'%s': unsupported SSH key type '%.*s' (only ssh-ed25519 "
		    "and ssh-rsa)", name, safe_len(t, tn), (const char *)t);
	}
	if (err != SOTTO_OK)
		return err;
	if (!rd_str(&r, &cm, &cmn) || r.n >= 256)
		goto bad;
	for (i = 0; i < r.n; i++)
		if (r.p[i] != (uint8_t)(i + 1))
			goto bad;
	if (k->bloblen != pubn || memcmp(k->blob, pub, pubn) != 0) {
		key_free(k);
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "'%s': public key does not match the private key", name);
	}
	*out = k;
	return SOTTO_OK;
bad:
	key_free(k);
	return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
	    "'%s': malformed OpenSSH private key", name);
}

static sotto_err
openssh_parse(struct ssh_key **out, const uint8_t *data, size_t len,
    const char *name, sotto_age_pass_cb cb, void *cbctx,
    struct sotto_error *e)
{
	struct sotto_buf raw = SOTTO_BUF_SECRET_INIT;
	struct sotto_buf plain = SOTTO_BUF_SECRET_INIT;
	struct ossh_enc x;
	struct rd r;
	const uint8_t *pub, *priv;
	size_t pubn, privn;
	uint32_t nkeys;
	bool encrypted;
	sotto_err err;

	if ((err = openssh_dearmor(&raw, data, len, name, e)) != SOTTO_OK)
		goto out;
	r.p = raw.data;
	r.n = raw.len;
	if (r.n < sizeof(OPENSSH_MAGIC) ||
	    memcmp(r.p, OPENSSH_MAGIC, sizeof(OPENSSH_MAGIC)) != 0)
		goto bad;
	r.p += sizeof(OPENSSH_MAGIC);
	r.n -= sizeof(OPENSSH_MAGIC);
	if (!rd_str(&r, &x.cipher, &x.cn) || !rd_str(&r, &x.kdf, &x.kn) ||
	    !rd_str(&r, &x.opts, &x.on) || !rd_u32(&r, &nkeys))
		goto bad;
	if (nkeys != 1) {
		err = sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "'%s': OpenSSH key files holding %u keys are not "
		    "supported", name, (unsigned)nkeys);
		goto out;
	}
	if (!rd_str(&r, &pub, &pubn) || !rd_str(&r, &priv, &privn) || r.n != 0)
		goto bad;
	encrypted = !str_is(x.cipher, x.cn, "none");
	if (encrypted) {
		err = openssh_decrypt(&plain, &x, priv, privn, name, cb, cbctx,
		    e);
		if (err != SOTTO_OK)
			goto out;
	} else {
		if (!str_is(x.kdf, x.kn, "none") || x.on != 0 || privn % 8 != 0)
			goto bad;
		if (sotto_buf_add(&plain, priv, privn) != SOTTO_OK) {
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
			goto out;
		}
	}
	err = openssh_private(out, plain.data, plain.len, pub, pubn,
	    encrypted, name, e);
	goto out;
bad:
	err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
	    "'%s': malformed OpenSSH private key", name);
out:
	sotto_buf_release(&raw);
	sotto_buf_release(&plain);
	return err;
}

/* ---- PEM private keys (OpenSSL) ---------------------------------------- */

struct pem_ctx {
	sotto_age_pass_cb cb;	/* passphrase source (may be NULL) */
	void *cbctx;		/* its context */
	const char *name;	/* file name for the prompt */
	struct sotto_error *e;	/* where cb reports */
	sotto_err err;		/* failure inside the callback */
	bool asked;		/* OpenSSL wanted a passphrase */
};

static int
pem_pass(char *buf, int size, int rwflag, void *u)
{
	struct pem_ctx *p = u;
	struct sotto_buf pass = SOTTO_BUF_SECRET_INIT;
	int n = -1;

	(void)rwflag;
	p->asked = true;
	if (p->err != SOTTO_OK)
		return -1;
	p->err = ask_pass(&pass, p->name, p->cb, p->cbctx, p->e);
	if (p->err == SOTTO_OK && (size < 0 || pass.len > (size_t)size))
		p->err = sotto_error_set(p->e, SOTTO_E_LIMIT,
		    "'%s': passphrase too long", p->name);
	if (p->err == SOTTO_OK) {
		memcpy(buf, pass.data, pass.len);
		n = (int)pass.len;
	}
	sotto_buf_release(&pass);
	return n;
}

/* Makes an identity key of an OpenSSL private key; consumes pkey. */
static sotto_err
pem_key(struct ssh_key **out, EVP_PKEY *pkey, const char *name,
    struct sotto_error *e)
{
	struct ssh_key *k = NULL;
	BIGNUM *n = NULL, *ex = NULL;
	uint8_t seed[32], pk[32], sk[64];
	size_t sl = sizeof(seed);
	sotto_err err;

	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		if (EVP_PKEY_get_raw_private_key(pkey, seed, &sl) != 1 ||
		    sl != 32) {
			EVP_PKEY_free(pkey);
			sodium_memzero(seed, sizeof(seed));
			return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
			    "'%s': invalid ed25519 private key", name);
		}
		EVP_PKEY_free(pkey);
		crypto_sign_seed_keypair(pk, sk, seed);
		err = ed25519_identity_key(out, sk, name, e);
		sodium_memzero(seed, sizeof(seed));
		sodium_memzero(sk, sizeof(sk));
		return err;
	}
	if (!EVP_PKEY_is_a(pkey, "RSA")) {
		EVP_PKEY_free(pkey);
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "'%s': unsupported SSH key type (only ssh-ed25519 and "
		    "ssh-rsa)", name);
	}
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &ex) != 1) {
		err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "'%s': invalid RSA private key", name);
		goto out;
	}
	if ((err = rsa_check_file(n, ex, name, e)) != SOTTO_OK)
		goto out;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	err = rsa_key_finish(k, n, ex, pkey, e);
	pkey = NULL;
	if (err != SOTTO_OK)
		goto out;
	*out = k;
	k = NULL;
out:
	key_free(k);
	EVP_PKEY_free(pkey);
	BN_free(n);
	BN_free(ex);
	return err;
}

static sotto_err
pem_parse(struct ssh_key **out, const uint8_t *data, size_t len,
    const char *name, sotto_age_pass_cb cb, void *cbctx,
    struct sotto_error *e)
{
	struct pem_ctx pc = { cb, cbctx, name, e, SOTTO_OK, false };
	EVP_PKEY *pkey;
	BIO *bio;

	if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pem_pass, &pc);
	BIO_free(bio);
	ERR_clear_error();
	if (pkey != NULL)
		return pem_key(out, pkey, name, e);
	if (pc.err != SOTTO_OK)
		return pc.err;
	if (pc.asked)
		return sotto_error_set(e, SOTTO_E_BAD_PASSPHRASE,
		    "'%s': incorrect passphrase", name);
	return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
	    "'%s': not a valid SSH private key (PEM)", name);
}

sotto_err
age_ssh_identity_parse(struct sotto_age_identity **out, const uint8_t *data,
    size_t len, const char *name, sotto_age_pass_cb cb, void *cbctx,
    struct sotto_error *e)
{
	struct ssh_key *k = NULL;
	size_t i = 0;
	sotto_err err;

	*out = NULL;
	if (len > SSH_KEYFILE_MAX)
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "'%s': SSH private key file is larger than 16 KiB", name);
	while (i < len && is_space(data[i]))
		i++;
	if (len - i >= strlen(OPENSSH_BEGIN) &&
	    memcmp(data + i, OPENSSH_BEGIN, strlen(OPENSSH_BEGIN)) == 0)
		err = openssh_parse(&k, data, len, name, cb, cbctx, e);
	else if (len - i >= 11 && memcmp(data + i, "-----BEGIN ", 11) == 0)
		err = pem_parse(&k, data, len, name, cb, cbctx, e);
	else
		err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "'%s': not an SSH private key", name);
	if (err != SOTTO_OK)
		return err;
	if ((*out = age_identity_new(&ssh_id_ops, k)) == NULL) {
		key_free(k);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	return SOTTO_OK;
}

/* ---- encrypted keys, unlocked on first use ------------------------------ */

struct lazy_key {
	struct ssh_key *pub;	/* the public key: type, tag, blob */
	struct ssh_key *key;	/* the private key once unlocked */
	uint8_t *pem;		/* the key file (guarded) */
	size_t pemlen;
	char *name;		/* file name, for prompts and messages */
	sotto_age_pass_cb cb;	/* passphrase source */
	void *cbctx;
};

static void
lazy_free(void *priv)
{
	struct lazy_key *l = priv;

	if (l == NULL)
		return;
	key_free(l->pub);
	key_free(l->key);
	if (l->pem != NULL)
		sodium_free(l->pem);
	free(l->name);
	free(l);
}

/* Does any stanza name this key (its type and tag)? */
static bool
lazy_matches(const struct lazy_key *l, const struct age_header *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->st[i].type, type_name(l->pub->type)) == 0 &&
		    h->st[i].nargs >= 1 &&
		    strcmp(h->st[i].args[0], l->pub->tag) == 0)
			return true;
	return false;
}

static sotto_err
lazy_unlock(struct lazy_key *l, struct sotto_error *e)
{
	struct ssh_key *k = NULL;
	size_t i = 0;
	sotto_err err;

	while (i < l->pemlen && is_space(l->pem[i]))
		i++;
	if (l->pemlen - i >= strlen(OPENSSH_BEGIN) &&
	    memcmp(l->pem + i, OPENSSH_BEGIN, strlen(OPENSSH_BEGIN)) == 0)
		err = openssh_parse(&k, l->pem, l->pemlen, l->name, l->cb,
		    l->cbctx, e);
	else
		err = pem_parse(&k, l->pem, l->pemlen, l->name, l->cb,
		    l->cbctx, e);
	if (err != SOTTO_OK)
		return err;
	if (k->type != l->pub->type || k->bloblen != l->pub->bloblen ||
	    memcmp(k->blob, l->pub->blob, k->bloblen) != 0) {
		key_free(k);
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "'%s': mismatched private and public SSH key", l->name);
	}
	l->key = k;
	return SOTTO_OK;
}

static sotto_err
lazy_unwrap(const struct sotto_age_identity *id, const struct age_header *h,
    uint8_t file_key[16], struct sotto_error *e)
{
	struct lazy_key *l = id->priv;
	struct sotto_age_identity tmp;
	sotto_err err;

	if (l->key == NULL) {
		if (!lazy_matches(l, h))
			return SOTTO_E_AGE_NO_MATCH;
		if ((err = lazy_unlock(l, e)) != SOTTO_OK)
			return err;
	}
	tmp.ops = id->ops;
	tmp.priv = l->key;
	return ssh_unwrap(&tmp, h, file_key, e);
}

static sotto_err
lazy_to_recipient(struct sotto_age_recipient **out,
    const struct sotto_age_identity *id, struct sotto_error *e)
{
	const struct lazy_key *l = id->priv;
	struct sotto_age_identity tmp;

	tmp.ops = id->ops;
	tmp.priv = l->pub;
	return ssh_to_recipient(out, &tmp, e);
}

static const struct age_identity_ops lazy_id_ops = {
	.name = "ssh",
	.unwrap = lazy_unwrap,
	.to_recipient = lazy_to_recipient,
	.free_priv = lazy_free,
};

/* OpenSSL asks for a passphrase: the PEM key is encrypted. */
static int
pem_probe(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(bool *)u = true;
	return -1;
}

/*
 * The public key of an encrypted key file: an OpenSSH file carries it; a
 * PEM file does not, so it is read from NAME.pub.  *pub is NULL for a key
 * that is not encrypted.
 */
static sotto_err
encrypted_pub(struct ssh_key **pub, const uint8_t *data, size_t len,
    const char *name, struct sotto_error *e)
{
	struct sotto_buf raw = SOTTO_BUF_SECRET_INIT, line = SOTTO_BUF_INIT;
	struct sotto_age_recipient *r = NULL;
	struct ossh_enc x;
	struct rd rd;
	const uint8_t *pb;
	size_t pbn, i = 0;
	uint32_t nkeys;
	bool asked = false;
	EVP_PKEY *pk;
	BIO *bio;
	char path[4096];
	sotto_err err = SOTTO_OK;

	*pub = NULL;
	while (i < len && is_space(data[i]))
		i++;
	if (len - i >= strlen(OPENSSH_BEGIN) &&
	    memcmp(data + i, OPENSSH_BEGIN, strlen(OPENSSH_BEGIN)) == 0) {
		if (openssh_dearmor(&raw, data, len, name, e) != SOTTO_OK)
			goto eager;	/* the full parse reports it */
		rd.p = raw.data;
		rd.n = raw.len;
		if (rd.n < sizeof(OPENSSH_MAGIC) ||
		    memcmp(rd.p, OPENSSH_MAGIC, sizeof(OPENSSH_MAGIC)) != 0)
			goto eager;
		rd.p += sizeof(OPENSSH_MAGIC);
		rd.n -= sizeof(OPENSSH_MAGIC);
		if (!rd_str(&rd, &x.cipher, &x.cn) ||
		    !rd_str(&rd, &x.kdf, &x.kn) ||
		    !rd_str(&rd, &x.opts, &x.on) || !rd_u32(&rd, &nkeys) ||
		    nkeys != 1 || !rd_str(&rd, &pb, &pbn) ||
		    str_is(x.cipher, x.cn, "none"))
			goto eager;
		err = key_from_pub_blob(pub, pb, pbn, name, e);
		goto out;
	}
	if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	pk = PEM_read_bio_PrivateKey(bio, NULL, pem_probe, &asked);
	BIO_free(bio);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	if (!asked)
		goto eager;
	if (strcmp(name, "-") == 0) {
		err = sotto_error_set(e, SOTTO_E_KEY_FORMAT, "failed to "
		    "obtain public key for \"-\" SSH key: use a file with a "
		    "\".pub\" file beside it, or convert the private key to "
		    "a modern format with \"ssh-keygen -p -m RFC4716\"");
		goto out;
	}
	snprintf(path, sizeof(path), "%s.pub", name);
	if (sotto_io_read_file(&line, path, 64u << 10, e) != SOTTO_OK) {
		err = sotto_error_set(e, SOTTO_E_KEY_FORMAT, "failed to obtain "
		    "public key for '%s' SSH key: ensure '%s' exists, or "
		    "convert the private key to a modern format with "
		    "\"ssh-keygen -p -m RFC4716\"", name, path);
		goto out;
	}
	for (i = 0; i < line.len && line.data[i] != '\n'; i++)
		;
	sotto_buf_truncate(&line, i);
	if ((err = age_ssh_recipient_parse(&r, (const char *)line.data, e))) {
		sotto_error_prefix(e, "failed to parse '%s'", path);
		goto out;
	}
	*pub = r->priv;		/* take the key out of the recipient */
	r->priv = NULL;
	sotto_age_recipient_free(r);
	goto out;
eager:
	err = SOTTO_OK;
out:
	sotto_buf_release(&raw);
	sotto_buf_release(&line);
	return err;
}

sotto_err
age_ssh_identity_parse_lazy(struct sotto_age_identity **out,
    const uint8_t *data, size_t len, const char *name, sotto_age_pass_cb cb,
    void *cbctx, struct sotto_error *e)
{
	struct ssh_key *pub = NULL;
	struct lazy_key *l;
	sotto_err err;

	*out = NULL;
	if (len > SSH_KEYFILE_MAX)
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "'%s': SSH private key file is larger than 16 KiB", name);
	if ((err = encrypted_pub(&pub, data, len, name, e)) != SOTTO_OK)
		return err;
	if (pub == NULL)	/* not encrypted */
		return age_ssh_identity_parse(out, data, len, name, cb, cbctx,
		    e);
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->pem = sodium_malloc(len + 1)) == NULL ||
	    (l->name = strdup(name)) == NULL) {
		key_free(pub);
		lazy_free(l);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	l->pub = pub;
	memcpy(l->pem, data, len);
	l->pemlen = len;
	l->cb = cb;
	l->cbctx = cbctx;
	if ((*out = age_identity_new(&lazy_id_ops, l)) == NULL) {
		lazy_free(l);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	(*out)->native = false;
	return SOTTO_OK;
}
