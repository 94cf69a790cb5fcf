/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for src/render: the generator hash suffix against values
 * `kubectl kustomize` (v5.5) printed, and refusal of unsupported fields.
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_hash_suffix_matches_kustomize),
		cmocka_unit_test(test_render_dir_rejects_unknown_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
