/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for src/render/remote.c: kustomize's remote base URLs taken
 * apart into the repository git fetches, the directory in it and the ref
 * (the forms api/internal/git's RepoSpec accepts), and what is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "render/remote.h"

struct rcase {
	const char *spec, *repo, *path, *ref;
	double timeout;
};

static void
test_remote_parse_forms(void **state)
{
	static const struct rcase c[] = {
		{ "github.com/org/repo//deploy/base?ref=v1.2.0",
		    "https://github.com/org/repo", "deploy/base", "v1.2.0", 0 },
		{ "github.com/org/repo/deploy/base?ref=main",
		    "https://github.com/org/repo", "deploy/base", "main", 0 },
		{ "https://github.com/org/repo.git//x?ref=v1&timeout=90s",
		    "https://github.com/org/repo.git", "x", "v1", 90 },
		{ "https://example.com/git/repo.git/sub/dir?version=v2",
		    "https://example.com/git/repo.git", "sub/dir", "v2", 0 },
		{ "git::https://example.com/repo//?ref=v1&timeout=2m",
		    "https://example.com/repo", "", "v1", 120 },
		{ "git@github.com:org/repo//app?ref=abc123",
		    "git@github.com:org/repo", "app", "abc123", 0 },
		{ "git@github.com:org/repo/app?ref=x",
		    "git@github.com:org/repo", "app", "x", 0 },
		{ "ssh://git@host:2222/org/repo.git//a/b?ref=release/1.0",
		    "ssh://git@host:2222/org/repo.git", "a/b", "release/1.0",
		    0 },
		{ "file:///srv/git/repo.git//app?ref=v1&submodules=false",
		    "file:///srv/git/repo.git", "app", "v1", 0 },
		{ "https://example.com/org/repo?ref=v1",
		    "https://example.com/org/repo", "", "v1", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sotto_error e = { SOTTO_OK, "" };
		struct rremote r;

		assert_true(rr_is_remote(c[i].spec));
		if (rr_parse(&r, c[i].spec, &e) != SOTTO_OK)
			fail_msg("%s: %s", c[i].spec, e.msg);
		assert_string_equal(r.repo, c[i].repo);
		assert_string_equal(r.path, c[i].path);
		assert_string_equal(r.ref, c[i].ref);
		assert_true(r.timeout == c[i].timeout);
	}
}

static void
test_remote_local_paths_are_not_remote(void **state)
{
	(void)state;
	assert_false(rr_is_remote("base"));
	assert_false(rr_is_remote("../base/deploy.yaml"));
	assert_false(rr_is_remote("github.com.yaml"));
	assert_false(rr_is_remote("dir/a:b.yaml"));
}

static void
test_remote_parse_refusals(void **state)
{
	static const struct {
		const char *spec;
		sotto_err code;
		const char *msg;
	} c[] = {
		{ "github.com/org/repo//app", SOTTO_E_USAGE,
		    "remote base 'github.com/org/repo//app': no ?ref=: pin the "
		    "base to a tag, a branch or a commit" },
		{ "github.com/org/repo//app?ref=", SOTTO_E_USAGE, NULL },
		{ "github.com/org/repo//app?ref=-x", SOTTO_E_USAGE, NULL },
		{ "github.com/org/repo//app?ref=a..b", SOTTO_E_USAGE, NULL },
		{ "github.com/org/repo//app?ref=a%20b", SOTTO_E_USAGE, NULL },
		{ "github.com/org/repo//app?ref=v1&timeout=-1",
		    SOTTO_E_USAGE, NULL },
		{ "github.com/org/repo//app?ref=v1&submodules=true",
		    SOTTO_E_USAGE, NULL },
		{ "github.com/org?ref=v1", SOTTO_E_USAGE, NULL },
		{ "https://example.com/v1/archive.tar.gz", SOTTO_E_UNSUPPORTED,
		    "remote base 'https://example.com/v1/archive.tar.gz': "
		    "http(s) file and archive URLs are not supported, only git "
		    "repositories (host/org/repo//path?ref=...)" },
		{ "https://example.com/r//deploy.yaml?ref=v1",
		    SOTTO_E_UNSUPPORTED, NULL },
		{ "ftp://example.com/repo//x?ref=v1", SOTTO_E_USAGE, NULL },
		{ "https://example.com/?ref=v1", SOTTO_E_USAGE, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sotto_error e = { SOTTO_OK, "" };
		struct rremote r;

		if (rr_parse(&r, c[i].spec, &e) != c[i].code)
			fail_msg("%s: got %d (%s)", c[i].spec, e.code, e.msg);
		if (c[i].msg != NULL)
			assert_string_equal(e.msg, c[i].msg);
	}
}

static void
test_remote_shown_hides_credentials_and_escapes(void **state)
{
	char out[RR_SHOWN_MAX], long_spec[400];
	struct sotto_error e = { SOTTO_OK, "" };
	struct rremote r;

	(void)state;
	rr_shown(out, sizeof(out), "https://bob:s3cr3t@github.com/o/r//x");
	assert_string_equal(out, "https://github.com/o/r//x");
	rr_shown(out, sizeof(out), "git@github.com:o/r//x?ref=a\x01" "b");
	assert_string_equal(out, "git@github.com:o/r//x?ref=a\\x01b");
	memset(long_spec, 'a', sizeof(long_spec) - 1);
	long_spec[sizeof(long_spec) - 1] = '\0';
	rr_shown(out, sizeof(out), long_spec);
	assert_int_equal(strlen(out), 203);
	assert_string_equal(out + 200, "...");
	rr_shown(out, 8, long_spec);
	assert_true(strlen(out) < 8);
	assert_int_equal(rr_parse(&r, "https://bob:s3cr3t@github.com/o/r//x",
	    &e), SOTTO_E_USAGE);
	assert_null(strstr(e.msg, "s3cr3t"));
	assert_string_equal(e.msg, "remote base 'https://github.com/o/r//x': "
	    "no ?ref=: pin the base to a tag, a branch or a commit");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remote_parse_forms),
		cmocka_unit_test(test_remote_local_paths_are_not_remote),
		cmocka_unit_test(test_remote_parse_refusals),
		cmocka_unit_test(test_remote_shown_hides_credentials_and_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
