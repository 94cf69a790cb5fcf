/* SPDX-License-Identifier: ISC */
/* GitRepository artifact filtering: Flux's defaults, .sourceignore, spec.ignore. */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "kube/kint.h"

static char root[256];

static void
put(const char *rel, const char *text)
{
	char path[512], *slash;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static bool
present(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return access(path, F_OK) == 0;
}

static void
test_sourceignore(void **state)
{
	struct sotto_error e = { 0 };
	size_t removed = 0;
	char cmd[300];

	(void)state;
	snprintf(root, sizeof(root), "%s/sotto-si-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	put(".git/HEAD", "ref: refs/heads/main\n");
	put("app/kustomization.yaml", "resources: [cm.yaml]\n");
	put("app/cm.yaml", "kind: ConfigMap\n");
	put("app/logo.png", "png");
	put("app/.sops.yaml", "creation_rules: []\n");
	put(".github/workflows/ci.yml", "on: push\n");
	put("docs/readme.yaml", "x: 1\n");
	put("docs/keep.yaml", "x: 1\n");
	put("docs/sub/notes.txt", "x\n");
	put("docs/.sourceignore", "# comment\r\n*.txt\n/readme.yaml\n");
	put("other/notes.txt", "kept: the docs/.sourceignore is not here\n");
	put("other/readme.yaml", "kept\n");
	put("charts/big.tar.gz", "tgz");
	put("charts/wanted.zip", "zip");
	assert_int_equal(ksrc_ignore(&removed, root, "/charts/*\n"
	    "!/charts/wanted.zip\nbuild/\n", &e), SOTTO_OK);
	assert_false(present("app/logo.png"));
	assert_false(present("app/.sops.yaml"));
	assert_false(present(".github/workflows/ci.yml"));
	assert_false(present("docs/readme.yaml"));
	assert_false(present("docs/sub/notes.txt"));
	assert_false(present("charts/big.tar.gz"));
	assert_true(present("charts/wanted.zip"));
	assert_true(present("app/cm.yaml"));
	assert_true(present("app/kustomization.yaml"));
	assert_true(present("docs/keep.yaml"));
	assert_true(present("other/notes.txt"));
	assert_true(present("other/readme.yaml"));
	assert_true(present(".git/HEAD"));	/* the repository itself */
	assert_int_equal(removed, 6);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sourceignore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
