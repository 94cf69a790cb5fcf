/* SPDX-License-Identifier: ISC */
/*
 * Primitive wrappers: HKDF-SHA-256 (built on libsodium's HMAC) against
 * RFC 5869 and OpenSSL's HKDF; the lazily-switching ChaCha20-Poly1305
 * context against libsodium for first and later calls.
 */
#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <sodium.h>

#include "crypto/prim.h"

static void
unhex(uint8_t *out, const char *h)
{
	size_t i, n = strlen(h) / 2;

	for (i = 0; i < n; i++)
		sscanf(h + 2 * i, "%2hhx", &out[i]);
}

/* RFC 5869 test case 1 (info given as a C string here, so use no NULs) */
static void
test_hkdf_sha256_rfc5869_case3(void **state)
{
	/* case 3: empty salt and info */
	uint8_t ikm[22], okm[42], want[42];
	char hex[85];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	unhex(want, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f"
	    "3c738d2d9d201395faa4b61a96c8");
	assert_int_equal(sotto_hkdf_sha256(okm, sizeof(okm), ikm, sizeof(ikm),
	    NULL, 0, ""), 0);
	test_hex(hex, okm, sizeof(okm));
	assert_memory_equal(okm, want, sizeof(want));
}

static void
openssl_hkdf(uint8_t *out, size_t outlen, const uint8_t *ikm, size_t ikmlen,
    const uint8_t *salt, size_t saltlen, const char *info)
{
	EVP_PKEY_CTX *p = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	static const uint8_t empty[1] = { 0 };

	assert_non_null(p);
	assert_true(EVP_PKEY_derive_init(p) > 0);
	assert_true(EVP_PKEY_CTX_set_hkdf_md(p, EVP_sha256()) > 0);
	assert_true(EVP_PKEY_CTX_set1_hkdf_salt(p, saltlen ? salt : empty,
	    (int)saltlen) > 0);
	assert_true(EVP_PKEY_CTX_set1_hkdf_key(p, ikmlen ? ikm : empty,
	    (int)ikmlen) > 0);
	assert_true(EVP_PKEY_CTX_add1_hkdf_info(p, (const uint8_t *)info,
	    (int)strlen(info)) > 0);
	assert_true(EVP_PKEY_derive(p, out, &outlen) > 0);
	EVP_PKEY_CTX_free(p);
}

static void
test_hkdf_sha256_matches_openssl(void **state)
{
	uint8_t ikm[80], salt[80], a[96], b[96];
	const char *infos[] = { "", "header", "payload",
		"age-encryption.org/v1/X25519" };
	size_t i, il, sl;

	(void)state;
	for (i = 0; i < 200; i++) {
		il = randombytes_uniform(sizeof(ikm));
		sl = randombytes_uniform(sizeof(salt));
		randombytes_buf(ikm, il);
		randombytes_buf(salt, sl);
		sotto_hkdf_sha256(a, 32 + i % 64, ikm, il, salt, sl,
		    infos[i % 4]);
		openssl_hkdf(b, 32 + i % 64, ikm, il, salt, sl, infos[i % 4]);
		assert_memory_equal(a, b, 32 + i % 64);
	}
}

static void
test_chacha_seal_open_first_and_later_calls(void **state)
{
	uint8_t key[32], nonce[12] = { 0 }, pt[1000], ct[1016], ref[1016],
	    back[1000];
	struct sotto_chacha *c;
	int i;

	(void)state;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(pt, sizeof(pt));
	c = sotto_chacha_new(key);
	assert_non_null(c);
	for (i = 0; i < 3; i++) {	/* call 0: libsodium, then OpenSSL */
		nonce[10] = (uint8_t)i;
		assert_true(sotto_chacha_seal(c, ct, nonce, pt, sizeof(pt)));
		crypto_aead_chacha20poly1305_ietf_encrypt(ref, NULL, pt,
		    sizeof(pt), NULL, 0, NULL, nonce, key);
		assert_memory_equal(ct, ref, sizeof(ct));
	}
	sotto_chacha_free(c);
	c = sotto_chacha_new(key);
	for (i = 0; i < 3; i++) {
		nonce[10] = (uint8_t)i;
		crypto_aead_chacha20poly1305_ietf_encrypt(ref, NULL, pt,
		    sizeof(pt), NULL, 0, NULL, nonce, key);
		assert_true(sotto_chacha_open(c, back, nonce, ref,
		    sizeof(ref)));
		assert_memory_equal(back, pt, sizeof(pt));
		ref[5] ^= 1;	/* failure twin: tampered */
		assert_false(sotto_chacha_open(c, back, nonce, ref,
		    sizeof(ref)));
	}
	sotto_chacha_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hkdf_sha256_rfc5869_case3),
		cmocka_unit_test(test_hkdf_sha256_matches_openssl),
		cmocka_unit_test(test_chacha_seal_open_first_and_later_calls),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
