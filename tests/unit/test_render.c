/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for src/render: the generator hash suffix and base64 line
 * breaks against values `kubectl kustomize` (v5.5) printed, and refusal
 * of unsupported fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sotto/render.h"

static void
test_render_hash_suffix_matches_kustomize(void **state)
{
	static const char cm[] =
	    "{\"data\":{\"x\":\"1\"},\"kind\":\"ConfigMap\",\"name\":\"\"}";
	static const char sec[] = "{\"data\":{\"x\":\"MQ==\"},\"kind\":"
	    "\"Secret\",\"name\":\"\",\"type\":\"Opaque\"}";
	char h[11];

	(void)state;
	sotto_render_hash_suffix(h, (const uint8_t *)cm, strlen(cm));
	assert_string_equal(h, "hmg6f82fh6");
	sotto_render_hash_suffix(h, (const uint8_t *)sec, strlen(sec));
	assert_string_equal(h, "bf2648c599");
}

static void
test_render_dir_rejects_unknown_field(void **state)
{
	char dir[] = "/tmp/sotto-render-XXXXXX", path[64];
	struct sotto_render_opts o;
	struct sotto_buf out = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/kustomization.yaml", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("resources: []\nvars: []\n", f);
	fclose(f);
	memset(&o, 0, sizeof(o));
	o.root = dir;
	assert_int_equal(sotto_render_dir(&out, dir, &o, &e), SOTTO_E_USAGE);
	assert_non_null(strstr(e.msg, "unsupported kustomization field "
	    "'vars'"));
	assert_int_equal(out.len, 0);
	unlink(path);
	rmdir(dir);
}

static void
put(const char *dir, const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* kustomize cuts a generated value's base64 into lines of 70, each with a
 * newline, and hashes that text: kubectl kustomize printed tls-h6dg8hdktm */
static void
test_render_secret_base64_lines_match_kustomize(void **state)
{
	static const char *const names[] = { "kustomization.yaml", "tls.crt",
	    "tls.key" };
	char dir[] = "/tmp/sotto-render-XXXXXX", path[128];
	struct sotto_render_opts o;
	struct sotto_buf out = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	put(dir, "kustomization.yaml", "secretGenerator:\n- name: tls\n"
	    "  type: kubernetes.io/tls\n  files: [tls.crt, tls.key]\n");
	put(dir, "tls.crt", "-----BEGIN CERTIFICATE-----\nMIIB\n"
	    "-----END CERTIFICATE-----\n");
	put(dir, "tls.key", "key-material\n");
	memset(&o, 0, sizeof(o));
	o.root = dir;
	assert_int_equal(sotto_render_dir(&out, dir, &o, &e), SOTTO_OK);
	assert_int_equal(sotto_buf_addch(&out, '\0'), SOTTO_OK);
	assert_non_null(strstr((const char *)out.data,
	    "name: tls-h6dg8hdktm"));
	assert_non_null(strstr((const char *)out.data,
	    "SUNBVE\n    UtLS0tLQo=\n"));
	sotto_buf_release(&out);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_hash_suffix_matches_kustomize),
		cmocka_unit_test(test_render_dir_rejects_unknown_field),
		cmocka_unit_test(
		    test_render_secret_base64_lines_match_kustomize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
