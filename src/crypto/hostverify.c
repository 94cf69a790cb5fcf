/* SPDX-License-Identifier: ISC */
/*
 * X.509 leaf verification against an in-memory CA bundle and HMAC-SHA1 for
 * hashed known_hosts names (see hostverify.h).  The CA comes from a
 * Kubernetes Secret, so it is parsed from memory with a BIO: no temp file,
 * no CAfile path.
 */
#include "crypto/hostverify.h"

#include <arpa/inet.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

/* Adds every PEM certificate of ca to st; returns how many. */
static int
load_bundle(X509_STORE *st, const char *ca, size_t calen)
{
	BIO *bio;
	X509 *x;
	int n = 0;

	if (calen > 0x7fffffff ||
	    (bio = BIO_new_mem_buf(ca, (int)calen)) == NULL)
		return 0;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(st, x) == 1)
			n++;
		X509_free(x);
	}
	ERR_clear_error();	/* the loop ends on "no start line" */
	BIO_free(bio);
	return n;
}

static bool
is_ip(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

static sotto_err
check_chain(X509_STORE *st, X509 *leaf, const char *host,
    struct sotto_error *e)
{
	X509_STORE_CTX *ctx;
	int ok, err;

	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, st, leaf, NULL) != 1) {
		X509_STORE_CTX_free(ctx);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	/* the Secret's certificates are anchors even when not self-signed */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
	ok = X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	if (ok != 1)
		return sotto_error_set(e, SOTTO_E_CRYPTO, "certificate of '%s' "
		    "is not trusted by the given CA: %s", host,
		    X509_verify_cert_error_string(err));
	return SOTTO_OK;
}

sotto_err
sotto_hostverify_x509(const uint8_t *der, size_t derlen, const char *ca,
    size_t calen, const char *host, struct sotto_error *e)
{
	const unsigned char *p = der;
	X509_STORE *st = NULL;
	X509 *leaf = NULL;
	sotto_err rc = SOTTO_OK;
	int match;

	if ((st = X509_STORE_new()) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if (load_bundle(st, ca, calen) == 0) {
		rc = sotto_error_set(e, SOTTO_E_KEY_FORMAT, "the CA holds no "
		    "PEM certificate");
		goto out;
	}
	if (derlen > 0x7fffffff ||
	    (leaf = d2i_X509(NULL, &p, (long)derlen)) == NULL) {
		rc = sotto_error_set(e, SOTTO_E_KEY_FORMAT, "certificate of "
		    "'%s' does not parse", host);
		goto out;
	}
	if ((rc = check_chain(st, leaf, host, e)) != SOTTO_OK)
		goto out;
	if (is_ip(host))
		match = X509_check_ip_asc(leaf, host, 0);
	else
		match = X509_check_host(leaf, host, strlen(host),
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL);
	if (match != 1)
		rc = sotto_error_set(e, SOTTO_E_CRYPTO, "certificate is not "
		    "valid for '%s' (its names do not match)", host);
out:
	X509_free(leaf);
	X509_STORE_free(st);
	ERR_clear_error();
	return rc;
}

bool
sotto_hostverify_hmac_sha1(uint8_t out[20], const uint8_t *key,
    size_t keylen, const uint8_t *msg, size_t n)
{
	unsigned int len = 0;

	if (keylen > 0x7fffffff)
		return false;
	return HMAC(EVP_sha1(), key, (int)keylen, msg, n, out, &len) !=
	    NULL && len == 20;
}
