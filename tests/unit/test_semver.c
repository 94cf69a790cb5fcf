/* SPDX-License-Identifier: ISC */
/* GitRepository spec.ref.semver: version parsing, ordering, ranges. */
#include "testutil.h"

#include "kube/kint.h"

static int
match(const char *range, const char *ver)
{
	struct ksemver v;

	if (!ksemver_parse(&v, ver))
		fail_msg("'%s' should parse", ver);
	return ksemver_match(range, &v);
}

static void
test_semver_parse(void **state)
{
	struct ksemver v;
	static const char *bad[] = { "", "v", "1.", "1..2", "x", "1.2.3-",
	    "1.2.3+", "1.2.3-a_b", "1.2.3.4", "01a", "release-1",
	    "99999999999999999999.0.0" };
	size_t i;

	(void)state;
	assert_true(ksemver_parse(&v, "v1.22.333-rc.1+build.5"));
	assert_int_equal(v.major, 1);
	assert_int_equal(v.minor, 22);
	assert_int_equal(v.patch, 333);
	assert_string_equal(v.pre, "rc.1");
	assert_true(ksemver_parse(&v, "2"));	/* lenient, like Flux's */
	assert_int_equal(v.major, 2);
	assert_int_equal(v.minor, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ksemver_parse(&v, bad[i]))
			fail_msg("'%s' should not parse", bad[i]);
}

static void
test_semver_order(void **state)
{
	/* semver.org §11's example, ascending */
	static const char *asc[] = { "1.0.0-alpha", "1.0.0-alpha.1",
	    "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
	    "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0",
	    "1.10.0", "2.0.0" };
	struct ksemver a, b;
	size_t i;

	(void)state;
	for (i = 0; i + 1 < sizeof(asc) / sizeof(asc[0]); i++) {
		assert_true(ksemver_parse(&a, asc[i]));
		assert_true(ksemver_parse(&b, asc[i + 1]));
		if (ksemver_cmp(&a, &b) >= 0 || ksemver_cmp(&b, &a) <= 0)
			fail_msg("%s < %s", asc[i], asc[i + 1]);
	}
	assert_true(ksemver_parse(&b, "v1.0.0+other"));
	assert_true(ksemver_parse(&a, "1.0.0"));
	assert_int_equal(ksemver_cmp(&a, &b), 0);
}

static void
test_semver_ranges(void **state)
{
	static const struct {
		const char *range, *ver;
		int want;
	} c[] = {
		{ "*", "3.4.5", 1 }, { "x", "0.0.1", 1 }, { "*", "1.0.0-rc.1", 0 },
		{ "1.2.3", "1.2.3", 1 }, { "=1.2.3", "1.2.4", 0 },
		{ "1.2", "1.2.9", 1 }, { "1.2.x", "1.3.0", 0 }, { "1", "1.9.9", 1 },
		{ "1.x", "2.0.0", 0 }, { "!=1.2.3", "1.2.3", 0 },
		{ "!=1.2.3", "1.2.4", 1 }, { ">1.2.3", "1.2.4", 1 },
		{ ">1.2.3", "1.2.3", 0 }, { ">1.2", "1.2.9", 0 },
		{ ">1.2", "1.3.0", 1 }, { ">=1.2.3", "1.2.3", 1 },
		{ "=>1.2.3", "1.2.2", 0 }, { "<1.2.3", "1.2.2", 1 },
		{ "<1.2.3", "1.2.3", 0 }, { "<=1.2", "1.2.7", 1 },
		{ "<=1.2", "1.3.0", 0 }, { "~1.2.3", "1.2.9", 1 },
		{ "~1.2.3", "1.3.0", 0 }, { "~1.2.3", "1.2.2", 0 },
		{ "~>1.2", "1.2.0", 1 }, { "~1", "1.9.0", 1 }, { "~1", "2.0.0", 0 },
		{ "^1.2.3", "1.9.0", 1 }, { "^1.2.3", "2.0.0", 0 },
		{ "^0.2.3", "0.2.9", 1 }, { "^0.2.3", "0.3.0", 0 },
		{ "^0.0.3", "0.0.4", 0 }, { "^0", "0.9.9", 1 }, { "^0", "1.0.0", 0 },
		{ ">=1.0.0, <2.0.0", "1.5.0", 1 }, { ">=1.0.0 <2.0.0", "2.0.0", 0 },
		{ ">= 1.0.0 , < 2.0.0", "1.0.0", 1 },
		{ "1.2 - 1.4.5", "1.4.5", 1 }, { "1.2 - 1.4.5", "1.4.6", 0 },
		{ "1.2 - 1.4", "1.4.9", 1 }, { "1.2 - 1.4", "1.1.9", 0 },
		{ "<1.0.0 || >=2.1", "0.5.0", 1 }, { "<1.0.0 || >=2.1", "2.0.5", 0 },
		{ "<1.0.0 || >=2.1", "2.1.0", 1 },
		{ ">=1.0.0-0", "1.0.0-rc.1", 1 }, { ">=1.0.0", "1.1.0-rc.1", 0 },
		{ "~1.2.3-beta.2", "1.2.3-beta.4", 1 },
		{ "", "1.0.0", -1 }, { ">>1", "1.0.0", -1 }, { "1.2.3.4", "1.0.0", -1 },
		{ "1.0 -", "1.0.0", -1 }, { "^", "1.0.0", -1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int got = match(c[i].range, c[i].ver);

		if (got != c[i].want)
			fail_msg("'%s' on %s: got %d, want %d", c[i].range,
			    c[i].ver, got, c[i].want);
	}
}

static void
test_semver_best(void **state)
{
	static const char *tags[] = { "v1.0.0", "latest", "v1.2.0", "1.10.0",
	    "v2.0.0-rc.1", "v1.9.9", "v2.0.0", "release-3" };
	struct sotto_error e = { 0 };
	size_t best = 99;

	(void)state;
	assert_int_equal(ksemver_best(&best, ">=1.0.0 <2.0.0", tags, 8, &e),
	    SOTTO_OK);
	assert_string_equal(tags[best], "1.10.0");
	assert_int_equal(ksemver_best(&best, "*", tags, 8, &e), SOTTO_OK);
	assert_string_equal(tags[best], "v2.0.0");
	assert_int_equal(ksemver_best(&best, "^1.2", tags, 8, &e), SOTTO_OK);
	assert_string_equal(tags[best], "1.10.0");
	assert_int_not_equal(ksemver_best(&best, ">=5", tags, 8, &e), SOTTO_OK);
	assert_string_equal(e.msg, "no match found for semver: >=5");
	assert_int_not_equal(ksemver_best(&best, "~>~1", tags, 8, &e),
	    SOTTO_OK);
	assert_string_equal(e.msg, "semver parse error: improper constraint: "
	    "~>~1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_semver_parse),
		cmocka_unit_test(test_semver_order),
		cmocka_unit_test(test_semver_ranges),
		cmocka_unit_test(test_semver_best),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
