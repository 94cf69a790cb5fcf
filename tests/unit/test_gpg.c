/* SPDX-License-Identifier: ISC */
/*
 * The sops layer's pgp fingerprint lists, the metadata test for pgp
 * entries, and GPGME loading when the library is absent (the round trips
 * with real gpg are in tests/cli/540-pgp.bats).
 */
#include "testutil.h"

#include "sotto/gpg.h"
#include "sotto/sops.h"
#include "sotto/store.h"

static void
test_pgplist(void **state)
{
	struct sotto_sops_pgplist l = { NULL, 0 };

	(void)state;
	/* sops removes every space, splits on ',' and keeps the order */
	assert_int_equal(sotto_sops_pgplist_parse(&l,
	    " FBC7 B9E2, ,1022470DE3F0BC54BC6AB62DE05550BC07FB1A0A,FBC7B9E2"),
	    SOTTO_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], "FBC7B9E2");
	assert_string_equal(l.v[1], "1022470DE3F0BC54BC6AB62DE05550BC07FB1A0A");
	assert_true(sotto_sops_pgplist_has(&l, "FBC7B9E2"));
	assert_false(sotto_sops_pgplist_has(&l, "FBC7"));
	assert_int_equal(sotto_sops_pgplist_add(&l, "   "), SOTTO_OK);
	assert_int_equal(l.n, 2);
	assert_true(sotto_sops_pgplist_remove(&l, "FBC7B9E2"));
	assert_false(sotto_sops_pgplist_remove(&l, "FBC7B9E2"));
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "1022470DE3F0BC54BC6AB62DE05550BC07FB1A0A");
	sotto_sops_pgplist_free(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
}

static struct sotto_doc *
parse(const char *s)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_doc *d = NULL;

	assert_int_equal(sotto_store_yaml.parse(&d, (const uint8_t *)s,
	    strlen(s), "t.yaml", &lim, &e), SOTTO_OK);
	return d;
}

static void
test_meta_has_pgp(void **state)
{
	static const char *const yes[] = {
	    "a: 1\nsops:\n  pgp:\n    - fp: X\n      enc: y\n",
	    "a: 1\nsops:\n  key_groups:\n    - age: []\n    - pgp:\n"
	    "        - fp: X\n",
	};
	static const char *const no[] = {
	    "a: 1\nsops:\n  pgp: []\n  age:\n    - recipient: r\n",
	    "a: 1\nsops:\n  pgp: null\n",
	    "a: 1\nsops:\n  key_groups:\n    - pgp: []\n    - x\n",
	};
	struct sotto_doc *d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		d = parse(yes[i]);
		assert_true(sotto_sops_meta_has_pgp(d->meta[0]));
		sotto_tree_doc_free(d);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		d = parse(no[i]);
		assert_false(sotto_sops_meta_has_pgp(d->meta[0]));
		sotto_tree_doc_free(d);
	}
	assert_false(sotto_sops_meta_has_pgp(NULL));
}

/* Without the library: one clear error, every time, nothing loaded. */
static void
test_no_gpgme(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_secret *k = NULL;
	static const uint8_t key[32];

	(void)state;
	setenv("SOTTO_GPGME_SONAME", "libsotto-absent.so.0", 1);
	assert_int_equal(sotto_gpg_encrypt(&out, key, sizeof(key), "AB\x01",
	    &e), SOTTO_E_UNSUPPORTED);
	assert_string_equal(e.msg, "pgp key 'AB\\x01': cannot load "
	    "'libsotto-absent.so.0' for pgp keys (install libgpgme11 and "
	    "gnupg): libsotto-absent.so.0: cannot open shared object file: "
	    "No such file or directory");
	assert_int_equal(out.len, 0);
	sotto_error_clear(&e);
	assert_int_equal(sotto_gpg_decrypt(&k, "x", 1, &e),
	    SOTTO_E_UNSUPPORTED);
	assert_null(k);
	assert_non_null(strstr(e.msg, "cannot load 'libsotto-absent.so.0'"));
	assert_false(sotto_gpg_loaded());
	sotto_buf_release(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pgplist),
		cmocka_unit_test(test_meta_has_pgp),
		cmocka_unit_test(test_no_gpgme),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
