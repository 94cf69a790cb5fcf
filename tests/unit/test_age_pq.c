/* SPDX-License-Identifier: ISC */
/*
 * The mlkem768x25519 age type through the library API (src/crypto/age_pq.c,
 * age.c's dispatch and label rule): key strings, the recipient of the
 * hpke-pq.json seed, round trips in memory, the mixing rule, and plugin key
 * parsing (no plugin is started here; tests/cli/185-age-plugin.bats runs
 * one).
 */
#include "testutil.h"

#include <jansson.h>
#include <sodium.h>

#include "crypto/age_internal.h"
#include "crypto/bech32.h"
#include "sotto/age.h"
#include "sotto/secret.h"

static void
test_pq_key_strings(void **state)
{
	struct sotto_age_identity *id, *id2;
	struct sotto_age_recipient *r, *r2;
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e;

	(void)state;
	assert_int_equal(sotto_age_identity_generate_pq(&id, &e), SOTTO_OK);
	assert_int_equal(sotto_age_identity_string(&b, id, &e), SOTTO_OK);
	assert_true(strncmp((char *)b.data, "AGE-SECRET-KEY-PQ-1", 19) == 0);
	assert_int_equal(sotto_age_identity_parse(&id2, (char *)b.data, &e),
	    SOTTO_OK);
	assert_int_equal(sotto_age_identity_to_recipient(&r, id, &e), 0);
	assert_int_equal(sotto_age_identity_to_recipient(&r2, id2, &e), 0);
	assert_int_equal(strlen(sotto_age_recipient_string(r)), 1959);
	assert_string_equal(sotto_age_recipient_string(r),
	    sotto_age_recipient_string(r2));
	sotto_age_recipient_free(r2);
	assert_int_equal(sotto_age_recipient_parse(&r2,
	    sotto_age_recipient_string(r), &e), SOTTO_OK);
	assert_string_equal(sotto_age_recipient_string(r),
	    sotto_age_recipient_string(r2));
	sotto_age_recipient_free(r);
	sotto_age_recipient_free(r2);
	sotto_age_identity_free(id);
	sotto_age_identity_free(id2);
	sotto_buf_release(&b);
}

/* The hpke-pq.json seed as an identity gives the vector's pkRm. */
static void
test_pq_vector_recipient(void **state)
{
	char path[512];
	json_t *root, *v;
	json_error_t je;
	struct sotto_buf s = SOTTO_BUF_SECRET_INIT, want = SOTTO_BUF_INIT;
	struct sotto_age_identity *id;
	struct sotto_age_recipient *r;
	struct sotto_error e;
	uint8_t seed[32], pk[1216];
	size_t i, n = 0, j;

	(void)state;
	snprintf(path, sizeof(path), "%s/vectors/mlkem/hpke-pq/hpke-pq.json",
	    test_shared_dir());
	root = json_load_file(path, 0, &je);
	assert_non_null(root);
	json_array_foreach(root, i, v) {
		const char *sk, *pkh;

		if (json_integer_value(json_object_get(v, "kem_id")) != 0x647a)
			continue;
		sk = json_string_value(json_object_get(v, "skRm"));
		pkh = json_string_value(json_object_get(v, "pkRm"));
		for (j = 0; j < 32; j++)
			sscanf(sk + 2 * j, "%2hhx", &seed[j]);
		for (j = 0; j < 1216; j++)
			sscanf(pkh + 2 * j, "%2hhx", &pk[j]);
		sotto_buf_truncate(&s, 0);
		sotto_buf_truncate(&want, 0);
		assert_int_equal(sotto_bech32_encode(&s, "AGE-SECRET-KEY-PQ-",
		    seed, 32), 0);
		assert_int_equal(sotto_bech32_encode(&want, "age1pq", pk,
		    1216), 0);
		assert_int_equal(sotto_age_identity_parse(&id, (char *)s.data,
		    &e), SOTTO_OK);
		assert_int_equal(sotto_age_identity_to_recipient(&r, id, &e),
		    0);
		assert_string_equal(sotto_age_recipient_string(r),
		    (char *)want.data);
		sotto_age_recipient_free(r);
		sotto_age_identity_free(id);
		n++;
	}
	assert_int_equal(n, 2);
	json_decref(root);
	sotto_buf_release(&s);
	sotto_buf_release(&want);
}

static void
test_pq_roundtrip_and_mixing(void **state)
{
	struct sotto_age_identity *id, *x;
	struct sotto_age_recipient *r[3];
	struct sotto_buf c = SOTTO_BUF_INIT, p = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e;
	const uint8_t msg[] = "post-quantum data key";

	(void)state;
	assert_int_equal(sotto_age_identity_generate_pq(&id, &e), SOTTO_OK);
	assert_int_equal(sotto_age_identity_generate(&x, &e), SOTTO_OK);
	assert_int_equal(sotto_age_identity_to_recipient(&r[0], id, &e), 0);
	assert_int_equal(sotto_age_identity_to_recipient(&r[1], x, &e), 0);
	assert_int_equal(sotto_age_encrypt_mem(&c, msg, sizeof(msg), r, 1,
	    true, &e), SOTTO_OK);
	assert_int_equal(sotto_age_decrypt_mem(&p, c.data, c.len, &id, 1, &e),
	    SOTTO_OK);
	assert_memory_equal(p.data, msg, sizeof(msg));
	assert_int_equal(sotto_age_decrypt_mem(&p, c.data, c.len, &x, 1, &e),
	    SOTTO_E_AGE_NO_MATCH);
	sotto_buf_truncate(&c, 0);
	assert_int_equal(sotto_age_encrypt_mem(&c, msg, sizeof(msg), r, 2,
	    false, &e), SOTTO_E_USAGE);
	assert_non_null(strstr(e.msg, "incompatible recipients"));
	r[2] = r[0];
	assert_int_equal(sotto_age_encrypt_mem(&c, msg, sizeof(msg), r + 1, 2,
	    false, &e), SOTTO_E_USAGE);
	sotto_age_recipient_free(r[0]);
	sotto_age_recipient_free(r[1]);
	sotto_age_identity_free(id);
	sotto_age_identity_free(x);
	sotto_buf_release(&c);
	sotto_buf_release(&p);
}

static void
test_plugin_keys(void **state)
{
	struct sotto_age_identity *id;
	struct sotto_age_recipient *r;
	struct sotto_buf s = SOTTO_BUF_INIT;
	struct sotto_error e;
	const uint8_t data[4] = { 1, 2, 3, 4 };

	(void)state;
	assert_int_equal(sotto_bech32_encode(&s, "age1yubikey", data, 4), 0);
	assert_int_equal(sotto_age_recipient_parse(&r, (char *)s.data, &e),
	    SOTTO_OK);
	assert_string_equal(sotto_age_recipient_string(r), (char *)s.data);
	sotto_age_recipient_free(r);
	sotto_buf_truncate(&s, 0);
	assert_int_equal(sotto_bech32_encode(&s, "AGE-PLUGIN-YUBIKEY-", data,
	    4), 0);
	assert_int_equal(sotto_age_identity_parse(&id, (char *)s.data, &e),
	    SOTTO_OK);
	assert_false(id->native);
	/* age -e -i: the plugin wraps to the identity ("add-identity") */
	assert_int_equal(sotto_age_identity_to_recipient(&r, id, &e),
	    SOTTO_OK);
	assert_string_equal(sotto_age_recipient_string(r),
	    "<identity-based recipient>");
	sotto_age_recipient_free(r);
	sotto_age_identity_free(id);
	assert_int_equal(age_plugin_identity_new(&id, "yubikey", &e), 0);
	sotto_age_identity_free(id);
	assert_int_equal(age_plugin_identity_new(&id, "bad/name", &e),
	    SOTTO_E_USAGE);
	sotto_buf_truncate(&s, 0);
	assert_int_equal(sotto_bech32_encode(&s, "age1bad/name", data, 4), 0);
	assert_int_equal(sotto_age_recipient_parse(&r, (char *)s.data, &e),
	    SOTTO_E_KEY_FORMAT);
	sotto_buf_release(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pq_key_strings),
		cmocka_unit_test(test_pq_vector_recipient),
		cmocka_unit_test(test_pq_roundtrip_and_mixing),
		cmocka_unit_test(test_plugin_keys),
	};

	if (sotto_secret_init() != SOTTO_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
