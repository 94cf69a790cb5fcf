/* SPDX-License-Identifier: ISC */
/*
 * ML-KEM-768 and MLKEM768-X25519 (src/crypto/mlkem.c) against the vectors
 * in $SOTTO_SHARED/vectors/mlkem (README.md there):
 *   - CCTV intermediate, unluckysample, strcmp: Encaps_internal(ek, m) and
 *     Decaps(dk, c) from the given ek/dk (the files are FIPS 203 ipd, so
 *     KeyGen is not checked against them);
 *   - CCTV modulus: all 780 encapsulation keys are rejected;
 *   - the accumulated test (final FIPS 203): 10,000 iterations reaching
 *     f959d18d... (SOTTO_MLKEM_ITERATIONS=100 runs the short 8d65b902...);
 *   - hpke-pq.json MLKEM768-X25519: expand, encap, decap, key schedule and
 *     the first ChaCha20-Poly1305 seal;
 *   - SOTTO_MLKEM_CROSS=FILE: lines "d z m ek dk c K c' K'" in hex made by
 *     @noble/post-quantum on random inputs (tests/cli/181-age-pq-mlkem.bats);
 *   - SOTTO_CT_TEST=1 under valgrind: secrets marked undefined, so any
 *     secret-dependent branch or index is reported (tests/cli/181...).
 */
#include "testutil.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <zlib.h>

#include "crypto/mlkem.h"
#include "sotto/secret.h"

#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define SECRET(p, n) ((void)(p), (void)(n))
#define PUBLIC(p, n) ((void)(p), (void)(n))
#endif

static size_t
unhex(uint8_t *out, size_t cap, const char *s, size_t n)
{
	size_t i;

	if (n % 2 != 0 || n / 2 > cap)
		return (size_t)-1;
	for (i = 0; i < n / 2; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return (size_t)-1;
		out[i] = (uint8_t)v;
	}
	return n / 2;
}

/* Finds the first "NAME = hex" line of text and decodes it. */
static void
field(uint8_t *out, size_t want, const char *text, const char *name)
{
	const char *p = text, *eol, *val;
	size_t nl = strlen(name);

	while (*p != '\0') {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		if (strncmp(p, name, nl) == 0 && strncmp(p + nl, " = ", 3) == 0) {
			/* the value follows the last " = " (dkPKE = NTT(s) = ..) */
			for (val = p + nl + 3;; ) {
				const char *q = strstr(val, " = ");

				if (q == NULL || q > eol)
					break;
				val = q + 3;
			}
			assert_int_equal(unhex(out, want, val,
			    (size_t)(eol - val)), want);
			return;
		}
		p = *eol ? eol + 1 : eol;
	}
	fail_msg("field %s not found", name);
}

static char *
read_vec(const char *rel)
{
	char path[512];
	char *t;

	snprintf(path, sizeof(path), "%s/vectors/mlkem/%s", test_shared_dir(),
	    rel);
	t = (char *)test_read_file(path, NULL);
	if (t == NULL)
		fail_msg("cannot read %s", path);
	return t;
}

static void
check_cctv(const char *rel, bool has_encaps)
{
	static uint8_t ek[1184], dk[2400], m[32], k[32], c[1088];
	uint8_t k2[32], c2[1088];
	char *t = read_vec(rel);

	field(dk, 2400, t, "dk");
	field(c, 1088, t, "c");
	field(k, 32, t, "K");
	if (has_encaps) {
		field(ek, 1184, t, "ek");
		field(m, 32, t, "m");
		assert_int_equal(sotto_mlkem768_encaps_internal(k2, c2, ek, m),
		    0);
		assert_memory_equal(c2, c, 1088);
		assert_memory_equal(k2, k, 32);
	}
	assert_int_equal(sotto_mlkem768_decaps(k2, c, dk), 0);
	assert_memory_equal(k2, k, 32);
	free(t);
}

static void
test_cctv_intermediate(void **state)
{
	(void)state;
	check_cctv("cctv/intermediate/ML-KEM-768.txt", true);
}

static void
test_cctv_unlucky(void **state)
{
	(void)state;
	check_cctv("cctv/unluckysample/ML-KEM-768.txt", true);
}

static void
test_cctv_strcmp(void **state)
{
	(void)state;
	check_cctv("cctv/strcmp/ML-KEM-768.txt", false);
}

static void
test_cctv_modulus(void **state)
{
	char path[512], line[4096];
	uint8_t ek[1184], ss[32], ct[1088], pk[1216], enc[1120], ikm[64];
	gzFile f;
	size_t n = 0, len;

	(void)state;
	snprintf(path, sizeof(path),
	    "%s/vectors/mlkem/cctv/modulus/ML-KEM-768.txt.gz",
	    test_shared_dir());
	f = gzopen(path, "rb");
	assert_non_null(f);
	memset(ikm, 7, sizeof(ikm));
	while (gzgets(f, line, sizeof(line)) != NULL) {
		len = strcspn(line, "\r\n");
		assert_int_equal(unhex(ek, sizeof(ek), line, len), 1184);
		assert_false(sotto_mlkem768_ek_check(ek));
		assert_int_equal(sotto_mlkem768_encaps(ss, ct, ek), -1);
		memcpy(pk, ek, 1184);
		memset(pk + 1184, 9, 32);
		assert_int_equal(sotto_xwing_encap_derand(ss, enc, pk, ikm),
		    -1);
		n++;
	}
	gzclose(f);
	assert_int_equal(n, 780);
	print_message("modulus: %zu/780 encapsulation keys rejected\n", n);
}

/*
 * The accumulated test of the vectors README: one SHAKE-128 stream as RNG
 * (squeezed at once: OpenSSL 3.0 has no incremental squeeze), a second
 * SHAKE-128 absorbing ek, dk, c, K and the implicit-rejection key.
 */
static void
test_accumulated(void **state)
{
	const char *env = getenv("SOTTO_MLKEM_ITERATIONS");
	size_t iters = env != NULL ? strtoul(env, NULL, 10) : 10000, i;
	const size_t per = 32 + 32 + 32 + 1088;
	uint8_t *rng, *r, ek[1184], dk[2400], ct[1088], k[32], k2[32], out[32];
	EVP_MD_CTX *acc = EVP_MD_CTX_new(), *gen = EVP_MD_CTX_new();
	char hex[65];
	const char *want;

	(void)state;
	rng = malloc(iters * per + 1);
	assert_non_null(rng);
	assert_int_equal(EVP_DigestInit_ex(gen, EVP_shake128(), NULL), 1);
	assert_int_equal(EVP_DigestFinalXOF(gen, rng, iters * per + 1), 1);
	assert_int_equal(EVP_DigestInit_ex(acc, EVP_shake128(), NULL), 1);
	for (i = 0, r = rng; i < iters; i++) {
		assert_int_equal(sotto_mlkem768_keygen_internal(ek, dk, r,
		    r + 32), 0);
		r += 64;
		EVP_DigestUpdate(acc, ek, sizeof(ek));
		EVP_DigestUpdate(acc, dk, sizeof(dk));
		assert_int_equal(sotto_mlkem768_encaps_internal(k, ct, ek, r),
		    0);
		r += 32;
		EVP_DigestUpdate(acc, ct, sizeof(ct));
		EVP_DigestUpdate(acc, k, sizeof(k));
		assert_int_equal(sotto_mlkem768_decaps(k2, ct, dk), 0);
		assert_memory_equal(k, k2, 32);
		assert_int_equal(sotto_mlkem768_decaps(k2, r, dk), 0);
		r += 1088;
		EVP_DigestUpdate(acc, k2, sizeof(k2));
	}
	assert_int_equal(EVP_DigestFinalXOF(acc, out, 32), 1);
	test_hex(hex, out, 32);
	print_message("accumulated, %zu iterations: %s\n", iters, hex);
	if (iters == 10000)
		want = "f959d18d3d1180121433bf0e05f11e7908cf9d03edc150b2b07cb90bef5bc1c1";
	else if (iters == 100)
		want = "8d65b902f28edc683cebee2872962fd165a4d197c9e24ec74caa4470270df0b7";
	else if (iters == 1000000)
		want = "3b108396a277f2952ff3243a985c9709bcb95788c39b7b36a2c4e19d1a41e51e";
	else
		want = hex;
	assert_string_equal(hex, want);
	EVP_MD_CTX_free(acc);
	EVP_MD_CTX_free(gen);
	free(rng);
}

static size_t
jhex(uint8_t *out, size_t cap, json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	assert_non_null(s);
	return unhex(out, cap, s, strlen(s));
}

static void
test_hpke_pq(void **state)
{
	char path[512];
	json_t *root, *v;
	json_error_t je;
	size_t i, checked = 0, infolen, aadlen, ptlen, ctlen;
	static uint8_t seed[32], pkr[1216], ikme[64], enc[1120], ss[32];
	static uint8_t info[256], key[32], nonce[12], aad[256], pt[256];
	static uint8_t ct[512], out[512], ss2[32], enc2[1120];
	struct sotto_xwing_key *xk = sodium_malloc(sizeof(*xk));
	unsigned long long outlen;

	(void)state;
	snprintf(path, sizeof(path), "%s/vectors/mlkem/hpke-pq/hpke-pq.json",
	    test_shared_dir());
	root = json_load_file(path, 0, &je);
	assert_non_null(root);
	json_array_foreach(root, i, v) {
		json_t *e0;

		if (json_integer_value(json_object_get(v, "kem_id")) != 0x647a)
			continue;
		assert_int_equal(jhex(seed, 32, v, "skRm"), 32);
		assert_int_equal(jhex(pkr, 1216, v, "pkRm"), 1216);
		assert_int_equal(jhex(ikme, 64, v, "ikmE"), 64);
		assert_int_equal(jhex(enc, 1120, v, "enc"), 1120);
		assert_int_equal(jhex(ss, 32, v, "shared_secret"), 32);
		/* 1. expand (the final-FIPS-203 KeyGen known answer) */
		assert_int_equal(sotto_xwing_expand(xk, seed), 0);
		assert_memory_equal(xk->pk, pkr, 1216);
		/* 2. encap with ikmE */
		assert_int_equal(sotto_xwing_encap_derand(ss2, enc2, pkr,
		    ikme), 0);
		assert_memory_equal(enc2, enc, 1120);
		assert_memory_equal(ss2, ss, 32);
		/* 3. decap */
		assert_int_equal(sotto_xwing_decap(ss2, enc, xk), 0);
		assert_memory_equal(ss2, ss, 32);
		checked++;
		if (json_integer_value(json_object_get(v, "kdf_id")) != 1)
			continue;
		/* 4. age's suite: key schedule and the first seal */
		infolen = jhex(info, sizeof(info), v, "info");
		assert_int_equal(sotto_xwing_hpke_schedule(key, nonce, ss,
		    info, infolen), 0);
		assert_int_equal(jhex(out, 32, v, "key"), 32);
		assert_memory_equal(out, key, 32);
		assert_int_equal(jhex(out, 12, v, "base_nonce"), 12);
		assert_memory_equal(out, nonce, 12);
		e0 = json_array_get(json_object_get(v, "encryptions"), 0);
		aadlen = jhex(aad, sizeof(aad), e0, "aad");
		ptlen = jhex(pt, sizeof(pt), e0, "pt");
		ctlen = jhex(ct, sizeof(ct), e0, "ct");
		crypto_aead_chacha20poly1305_ietf_encrypt(out, &outlen, pt,
		    ptlen, aad, aadlen, NULL, nonce, key);
		assert_int_equal(outlen, ctlen);
		assert_memory_equal(out, ct, ctlen);
		checked++;
	}
	json_decref(root);
	sodium_free(xk);
	print_message("hpke-pq.json: %zu MLKEM768-X25519 checks\n", checked);
	assert_int_equal(checked, 3);
}

/* Random round trips, including corrupted ciphertexts and low-order keys. */
static void
test_roundtrip(void **state)
{
	uint8_t d[32], z[32], ek[1184], dk[2400], ct[1088], k[32], k2[32];
	struct sotto_xwing_key *xk = sodium_malloc(sizeof(*xk));
	uint8_t seed[32], enc[1120], ss[32], ss2[32];
	int i;

	(void)state;
	for (i = 0; i < 50; i++) {
		randombytes_buf(d, 32);
		randombytes_buf(z, 32);
		assert_int_equal(sotto_mlkem768_keygen_internal(ek, dk, d, z), 0);
		assert_true(sotto_mlkem768_ek_check(ek));
		assert_int_equal(sotto_mlkem768_encaps(k, ct, ek), 0);
		assert_int_equal(sotto_mlkem768_decaps(k2, ct, dk), 0);
		assert_memory_equal(k, k2, 32);
		ct[i * 20] ^= 1;
		assert_int_equal(sotto_mlkem768_decaps(k2, ct, dk), 0);
		assert_memory_not_equal(k, k2, 32);
	}
	dk[1152 + 1184] ^= 1;	/* §7.3 hash check */
	assert_int_equal(sotto_mlkem768_decaps(k2, ct, dk), -1);
	randombytes_buf(seed, 32);
	assert_int_equal(sotto_xwing_expand(xk, seed), 0);
	assert_int_equal(sotto_xwing_encap(ss, enc, xk->pk), 0);
	assert_int_equal(sotto_xwing_decap(ss2, enc, xk), 0);
	assert_memory_equal(ss, ss2, 32);
	memset(enc + 1088, 0, 32);	/* low-order X25519 share */
	assert_int_equal(sotto_xwing_decap(ss2, enc, xk), -1);
	sodium_free(xk);
}

/* SOTTO_MLKEM_CROSS: vectors made by @noble/post-quantum on random input. */
static void
test_cross_noble(void **state)
{
	const char *file = getenv("SOTTO_MLKEM_CROSS");
	char *t, *line, *save = NULL;
	static uint8_t d[32], z[32], m[32], ek[1184], dk[2400], c[1088];
	static uint8_t k[32], cb[1088], kb[32], ek2[1184], dk2[2400], c2[1088];
	uint8_t k2[32];
	size_t n = 0;

	(void)state;
	if (file == NULL)
		skip();
	t = (char *)test_read_file(file, NULL);
	assert_non_null(t);
	for (line = strtok_r(t, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *f[9];
		int j;

		for (j = 0; j < 9; j++) {
			f[j] = strtok(j == 0 ? line : NULL, " ");
			assert_non_null(f[j]);
		}
		unhex(d, 32, f[0], strlen(f[0]));
		unhex(z, 32, f[1], strlen(f[1]));
		unhex(m, 32, f[2], strlen(f[2]));
		assert_int_equal(unhex(ek, 1184, f[3], strlen(f[3])), 1184);
		assert_int_equal(unhex(dk, 2400, f[4], strlen(f[4])), 2400);
		assert_int_equal(unhex(c, 1088, f[5], strlen(f[5])), 1088);
		unhex(k, 32, f[6], strlen(f[6]));
		unhex(cb, 1088, f[7], strlen(f[7]));
		unhex(kb, 32, f[8], strlen(f[8]));
		assert_int_equal(sotto_mlkem768_keygen_internal(ek2, dk2, d, z),
		    0);
		assert_memory_equal(ek2, ek, 1184);
		assert_memory_equal(dk2, dk, 2400);
		assert_int_equal(sotto_mlkem768_encaps_internal(k2, c2, ek, m),
		    0);
		assert_memory_equal(c2, c, 1088);
		assert_memory_equal(k2, k, 32);
		assert_int_equal(sotto_mlkem768_decaps(k2, cb, dk), 0);
		assert_memory_equal(k2, kb, 32);
		n++;
	}
	free(t);
	print_message("cross-check with @noble/post-quantum: %zu inputs\n", n);
	assert_true(n > 0);
}

/*
 * SOTTO_CT_TEST=1 (run under valgrind): the secret inputs are marked
 * undefined, so memcheck reports any branch or index that depends on them.
 * Outputs are declared public again before they are compared.
 */
static void
test_constant_time(void **state)
{
	uint8_t d[32], z[32], m[32], ek[1184], dk[2400], ct[1088], k[32];
	struct sotto_xwing_key *xk;
	uint8_t seed[32], enc[1120], ss[32];

	(void)state;
	if (getenv("SOTTO_CT_TEST") == NULL)
		skip();
	xk = sodium_malloc(sizeof(*xk));
	randombytes_buf(d, 32);
	randombytes_buf(z, 32);
	randombytes_buf(m, 32);
	randombytes_buf(seed, 32);
	SECRET(d, 32);
	SECRET(z, 32);
	assert_int_equal(sotto_mlkem768_keygen_internal(ek, dk, d, z), 0);
	/* rho and ek are public: Â's rejection sampling branches on them */
	PUBLIC(ek, sizeof(ek));
	memcpy(dk + 1152, ek, 1184);
	PUBLIC(dk + 1152, 1184 + 32);
	SECRET(m, 32);
	assert_int_equal(sotto_mlkem768_encaps_internal(k, ct, ek, m), 0);
	PUBLIC(ct, sizeof(ct));
	ct[5] ^= 1;		/* a rejected ciphertext: the select must be CT */
	assert_int_equal(sotto_mlkem768_decaps(k, ct, dk), 0);
	PUBLIC(k, 32);
	SECRET(seed, 32);
	assert_int_equal(sotto_xwing_expand(xk, seed), 0);
	PUBLIC(xk->pk, sizeof(xk->pk));
	assert_int_equal(sotto_xwing_encap(ss, enc, xk->pk), 0);
	PUBLIC(enc, sizeof(enc));
	assert_int_equal(sotto_xwing_decap(ss, enc, xk), 0);
	sodium_free(xk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cctv_intermediate),
		cmocka_unit_test(test_cctv_unlucky),
		cmocka_unit_test(test_cctv_strcmp),
		cmocka_unit_test(test_cctv_modulus),
		cmocka_unit_test(test_hpke_pq),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_accumulated),
		cmocka_unit_test(test_cross_noble),
		cmocka_unit_test(test_constant_time),
	};

	if (sotto_secret_init() != SOTTO_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
