/* SPDX-License-Identifier: ISC */
/* Shamir split/combine, Vault/sops compatible (sotto/shamir.h). */
#include "testutil.h"

#include <sodium.h>
#include <stdbool.h>

#include "sotto/shamir.h"

static void
free_all(struct sotto_secret **s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		sotto_secret_free(s[i]);
		s[i] = NULL;
	}
}

/* Combines every subset of shares with at least `threshold` members. */
static void
all_subsets(struct sotto_secret **shares, int parts, int threshold,
    const uint8_t *secret, size_t n)
{
	struct sotto_secret *pick[8], *out;
	struct sotto_error e = { 0 };
	unsigned mask;
	int i, k;

	for (mask = 1; mask < (1u << parts); mask++) {
		k = 0;
		for (i = 0; i < parts; i++)
			if (mask & (1u << i))
				pick[k++] = shares[i];
		if (k < 2)
			continue;
		assert_int_equal(sotto_shamir_combine(&out, pick, (size_t)k,
		    &e), SOTTO_OK);
		assert_int_equal(out->len, n);
		if (k >= threshold)
			assert_memory_equal(out->data, secret, n);
		else	/* too few shares: wrong (with 2^-256 odds) */
			assert_memory_not_equal(out->data, secret, n);
		sotto_secret_free(out);
	}
}

static void
test_shamir_split(void **state)
{
	struct sotto_secret *shares[8];
	struct sotto_error e = { 0 };
	uint8_t secret[32];
	bool seen[256] = { false };
	int i;

	(void)state;
	randombytes_buf(secret, sizeof(secret));
	assert_int_equal(sotto_shamir_split(shares, secret, sizeof(secret), 5,
	    3, &e), SOTTO_OK);
	for (i = 0; i < 5; i++) {
		uint8_t x = shares[i]->data[32];

		assert_int_equal(shares[i]->len, 33);
		assert_int_not_equal(x, 0);
		assert_false(seen[x]);
		seen[x] = true;
	}
	all_subsets(shares, 5, 3, secret, sizeof(secret));
	free_all(shares, 5);

	/* sops' usual case: 2 groups, threshold 2; and 3 of 3 */
	assert_int_equal(sotto_shamir_split(shares, secret, sizeof(secret), 2,
	    2, &e), SOTTO_OK);
	all_subsets(shares, 2, 2, secret, sizeof(secret));
	free_all(shares, 2);
	assert_int_equal(sotto_shamir_split(shares, (const uint8_t *)"test",
	    4, 3, 3, &e), SOTTO_OK);
	all_subsets(shares, 3, 3, (const uint8_t *)"test", 4);
	free_all(shares, 3);
}

static void
test_shamir_split_invalid(void **state)
{
	struct sotto_secret *shares[8] = { NULL };
	struct sotto_error e = { 0 };
	const uint8_t secret[4] = { 't', 'e', 's', 't' };

	(void)state;
	/* the cases of sops' shamir_test.go TestSplit_invalid */
	assert_int_equal(sotto_shamir_split(shares, secret, 4, 0, 0, &e),
	    SOTTO_E_USAGE);
	assert_int_equal(sotto_shamir_split(shares, secret, 4, 2, 3, &e),
	    SOTTO_E_USAGE);
	assert_int_equal(sotto_shamir_split(shares, secret, 4, 1000, 3, &e),
	    SOTTO_E_USAGE);
	assert_int_equal(sotto_shamir_split(shares, secret, 4, 10, 1, &e),
	    SOTTO_E_USAGE);
	assert_int_equal(sotto_shamir_split(shares, NULL, 0, 3, 2, &e),
	    SOTTO_E_USAGE);
	assert_null(shares[0]);
}

static void
test_shamir_split_max_parts(void **state)
{
	static struct sotto_secret *shares[255];
	struct sotto_secret *pick[2], *out;
	struct sotto_error e = { 0 };
	bool seen[256] = { false };
	int i;

	(void)state;
	assert_int_equal(sotto_shamir_split(shares, (const uint8_t *)"k", 1,
	    255, 2, &e), SOTTO_OK);
	for (i = 0; i < 255; i++) {
		assert_false(seen[shares[i]->data[1]]);
		seen[shares[i]->data[1]] = true;
	}
	assert_false(seen[0]);	/* x = 1..255, all used */
	pick[0] = shares[17];
	pick[1] = shares[254];
	assert_int_equal(sotto_shamir_combine(&out, pick, 2, &e), SOTTO_OK);
	assert_int_equal(out->data[0], 'k');
	sotto_secret_free(out);
	free_all(shares, 255);
}

static void
test_shamir_split_max_parts_over(void **state)
{
	struct sotto_secret *shares[1] = { NULL };
	struct sotto_error e = { 0 };

	(void)state;
	assert_int_equal(sotto_shamir_split(shares, (const uint8_t *)"k", 1,
	    256, 2, &e), SOTTO_E_USAGE);
	assert_int_equal(sotto_shamir_split(shares, (const uint8_t *)"k", 1,
	    255, 256, &e), SOTTO_E_USAGE);
}

static struct sotto_secret *
mk(const uint8_t *p, size_t n)
{
	struct sotto_secret *s = sotto_secret_dup(p, n);

	assert_non_null(s);
	return s;
}

/*
 * Known answers from the field of Vault's shamir/tables.go: its expTable
 * lists the powers of the generator 0xe5 (01 e5 4c b5 fb 9f fc 12 03 34
 * ...), so exp[k+1] = 0xe5 * exp[k], and sops' shamir_test.go has
 * mult(3, 7) = 9 and div(6, 3) = 2.  A line s + a*x through two hand-made
 * shares must give back s.
 */
static void
test_shamir_combine_known_answer(void **state)
{
	static const uint8_t expt[] = { 0x01, 0xe5, 0x4c, 0xb5, 0xfb, 0x9f,
	    0xfc, 0x12, 0x03, 0x34, 0xd4 };
	struct sotto_secret *sh[3], *out;
	struct sotto_error e = { 0 };
	uint8_t a[3], b[3];
	size_t k, j;

	(void)state;
	for (k = 0; k + 1 < sizeof(expt); k++) {
		for (j = k + 1; j + 1 < sizeof(expt); j++) {
			/* p(x) = {0x42, 0} + 0xe5 x at exp[k], exp[j] */
			a[0] = (uint8_t)(0x42 ^ expt[k + 1]);
			a[1] = expt[k + 1];
			a[2] = expt[k];
			b[0] = (uint8_t)(0x42 ^ expt[j + 1]);
			b[1] = expt[j + 1];
			b[2] = expt[j];
			sh[0] = mk(a, 3);
			sh[1] = mk(b, 3);
			assert_int_equal(sotto_shamir_combine(&out, sh, 2, &e),
			    SOTTO_OK);
			assert_int_equal(out->len, 2);
			assert_int_equal(out->data[0], 0x42);
			assert_int_equal(out->data[1], 0x00);
			sotto_secret_free(out);
			free_all(sh, 2);
		}
	}
	/* p(x) = s + 3x: p(7) = s ^ mult(3,7) = s ^ 9, p(1) = s ^ 3 */
	a[0] = 0x5a ^ 9;
	a[1] = 7;
	b[0] = 0x5a ^ 3;
	b[1] = 1;
	sh[0] = mk(a, 2);
	sh[1] = mk(b, 2);
	assert_int_equal(sotto_shamir_combine(&out, sh, 2, &e), SOTTO_OK);
	assert_int_equal(out->data[0], 0x5a);
	sotto_secret_free(out);
	free_all(sh, 2);
	/* p(x) = 2x: p(3) = 6 -> with p(1) = 2, intercept 0 (div(6,3)=2) */
	a[0] = 6;
	a[1] = 3;
	b[0] = 2;
	b[1] = 1;
	sh[0] = mk(a, 2);
	sh[1] = mk(b, 2);
	assert_int_equal(sotto_shamir_combine(&out, sh, 2, &e), SOTTO_OK);
	assert_int_equal(out->data[0], 0);
	sotto_secret_free(out);
	free_all(sh, 2);
	/* a third share on the same line changes nothing */
	a[0] = 0x5a ^ 9;
	a[1] = 7;
	b[0] = 0x5a ^ 3;
	b[1] = 1;
	sh[0] = mk(a, 2);
	sh[1] = mk(b, 2);
	a[0] = 0x5a ^ 6;	/* 3 * 2 = 6 */
	a[1] = 2;
	sh[2] = mk(a, 2);
	assert_int_equal(sotto_shamir_combine(&out, sh, 3, &e), SOTTO_OK);
	assert_int_equal(out->data[0], 0x5a);
	sotto_secret_free(out);
	free_all(sh, 3);
}

static void
test_shamir_combine_invalid(void **state)
{
	struct sotto_secret *sh[2] = { NULL, NULL }, *out = NULL;
	struct sotto_error e = { 0 };

	(void)state;
	/* the cases of sops' shamir_test.go TestCombine_invalid */
	assert_int_equal(sotto_shamir_combine(&out, sh, 0, &e),
	    SOTTO_E_NO_KEY);
	sh[0] = mk((const uint8_t *)"foo", 3);
	assert_int_equal(sotto_shamir_combine(&out, sh, 1, &e),
	    SOTTO_E_NO_KEY);
	sh[1] = mk((const uint8_t *)"ba", 2);
	assert_int_equal(sotto_shamir_combine(&out, sh, 2, &e),
	    SOTTO_E_NO_KEY);	/* length mismatch */
	free_all(sh, 2);
	sh[0] = mk((const uint8_t *)"f", 1);
	sh[1] = mk((const uint8_t *)"b", 1);
	assert_int_equal(sotto_shamir_combine(&out, sh, 2, &e),
	    SOTTO_E_NO_KEY);	/* too short */
	free_all(sh, 2);
	sh[0] = mk((const uint8_t *)"foo", 3);
	sh[1] = mk((const uint8_t *)"foo", 3);
	assert_int_equal(sotto_shamir_combine(&out, sh, 2, &e),
	    SOTTO_E_NO_KEY);	/* duplicate x */
	assert_non_null(strstr(e.msg, "duplicate"));
	free_all(sh, 2);
	sh[0] = mk((const uint8_t *)"xo", 2);
	sh[1] = mk((const uint8_t *)"yo", 2);
	assert_int_equal(sotto_shamir_combine(&out, sh, 2, &e),
	    SOTTO_E_NO_KEY);	/* same x, different y */
	free_all(sh, 2);
	assert_null(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shamir_split),
		cmocka_unit_test(test_shamir_split_invalid),
		cmocka_unit_test(test_shamir_split_max_parts),
		cmocka_unit_test(test_shamir_split_max_parts_over),
		cmocka_unit_test(test_shamir_combine_known_answer),
		cmocka_unit_test(test_shamir_combine_invalid),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
