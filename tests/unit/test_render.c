/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for src/render: the generator hash suffix and base64 line
 * breaks against values `kubectl kustomize` (v5.5) printed, refusal of
 * unsupported fields, and the render's budget against inputs that build
 * far more than they hold.
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
#include <ftw.h>

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
	fputs("resources: []\nfrobnicate: []\n", f);
	fclose(f);
	memset(&o, 0, sizeof(o));
	o.root = dir;
	assert_int_equal(sotto_render_dir(&out, dir, &o, &e), SOTTO_E_USAGE);
	assert_non_null(strstr(e.msg, "unknown kustomization field "
	    "'frobnicate'"));
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

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes dir/rel (parents made as needed). */
static void
putp(const char *dir, const char *rel, const char *text)
{
	char path[512];
	char *s;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (s = path + strlen(dir) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		mkdir(path, 0700);
		*s = '/';
	}
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* Renders root/sub with root as the root; no output on error. */
static sotto_err
render(const char *root, const char *sub, struct sotto_error *e)
{
	struct sotto_render_opts o;
	struct sotto_buf out = SOTTO_BUF_SECRET_INIT;
	char dir[128];
	sotto_err err;

	snprintf(dir, sizeof(dir), "%s/%s", root, sub);
	memset(&o, 0, sizeof(o));
	o.root = root;
	err = sotto_render_dir(&out, dir, &o, e);
	if (err != SOTTO_OK)
		assert_int_equal(out.len, 0);
	sotto_buf_release(&out);
	return err;
}

/*
 * Each level lists the next twice (a/ and b/ with their own namePrefix,
 * so the ids stay apart): the output doubles per level.  Directories
 * listed again are copied, not rebuilt, and the copies count against the
 * object cap, so 17 levels (131,072 objects) stop at the cap.
 */
static void
test_render_doubling_dag_hits_object_cap(void **state)
{
	char dir[] = "/tmp/sotto-render-XXXXXX", rel[64], text[128];
	struct sotto_error e = { SOTTO_OK, "" };
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < 17; i++) {
		snprintf(rel, sizeof(rel), "l%d/kustomization.yaml", i);
		putp(dir, rel, "resources: [a, b]\n");
		snprintf(rel, sizeof(rel), "l%d/a/kustomization.yaml", i);
		snprintf(text, sizeof(text), "resources: [../../l%d]\n"
		    "namePrefix: a%d-\n", i + 1, i);
		putp(dir, rel, text);
		snprintf(rel, sizeof(rel), "l%d/b/kustomization.yaml", i);
		snprintf(text, sizeof(text), "resources: [../../l%d]\n"
		    "namePrefix: b%d-\n", i + 1, i);
		putp(dir, rel, text);
	}
	putp(dir, "l17/kustomization.yaml", "resources: [cm.yaml]\n");
	putp(dir, "l17/cm.yaml", "apiVersion: v1\nkind: ConfigMap\n"
	    "metadata:\n  name: cm\n");
	/* 13 levels (8,192 objects) render */
	if (render(dir, "l4", &e) != SOTTO_OK)
		fail_msg("%s", e.msg);
	if (render(dir, "l0", &e) != SOTTO_E_LIMIT)
		fail_msg("%s", e.msg);
	assert_string_equal(e.msg, "'l3': rendering exceeds 100000 objects");
	rm_tree(dir);
}

/* A kustomization value is copied into every object: a 1 MiB annotation
 * on 100 objects is charged 100 MiB before it is written. */
static void
test_render_transformer_copies_are_charged(void **state)
{
	char dir[] = "/tmp/sotto-render-XXXXXX";
	struct sotto_buf k = SOTTO_BUF_INIT, r = SOTTO_BUF_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sotto_buf_addstr(&k, "resources: [r.yaml]\n"
	    "commonAnnotations:\n  big: "), SOTTO_OK);
	for (i = 0; i < ((size_t)1 << 20); i++)
		assert_int_equal(sotto_buf_addch(&k, 'x'), SOTTO_OK);
	assert_int_equal(sotto_buf_addstr(&k, "\n"), SOTTO_OK);
	assert_int_equal(sotto_buf_addch(&k, '\0'), SOTTO_OK);
	for (i = 0; i < 100; i++)
		assert_int_equal(sotto_buf_addf(&r, "---\napiVersion: v1\n"
		    "kind: ConfigMap\nmetadata:\n  name: c%zu\n", i),
		    SOTTO_OK);
	assert_int_equal(sotto_buf_addch(&r, '\0'), SOTTO_OK);
	putp(dir, "kustomization.yaml", (const char *)k.data);
	putp(dir, "r.yaml", (const char *)r.data);
	if (render(dir, ".", &e) != SOTTO_E_LIMIT)
		fail_msg("%s", e.msg);
	assert_string_equal(e.msg, "'.': rendering exceeds 67108864 "
	    "bytes");
	sotto_buf_release(&k);
	sotto_buf_release(&r);
	rm_tree(dir);
}

/* JSON 6902 copy ops that each double a subtree: 40 ops would build a
 * terabyte; the copies are charged before they are made. */
static void
test_render_json_patch_doubling_is_charged(void **state)
{
	char dir[] = "/tmp/sotto-render-XXXXXX";
	struct sotto_buf k = SOTTO_BUF_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sotto_buf_addstr(&k, "resources: [cm.yaml]\n"
	    "patches:\n- target: {kind: ConfigMap}\n  patch: |-\n"),
	    SOTTO_OK);
	for (i = 0; i < 40; i++)
		assert_int_equal(sotto_buf_addf(&k, "    - {op: copy, "
		    "from: /data, path: /data/d%d}\n", i), SOTTO_OK);
	assert_int_equal(sotto_buf_addch(&k, '\0'), SOTTO_OK);
	putp(dir, "kustomization.yaml", (const char *)k.data);
	putp(dir, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
	    "  name: cm\ndata:\n  k: "
	    "0123456789012345678901234567890123456789\n");
	if (render(dir, ".", &e) != SOTTO_E_LIMIT)
		fail_msg("%s", e.msg);
	assert_string_equal(e.msg, "'kustomization.yaml': rendering exceeds "
	    "67108864 bytes");
	sotto_buf_release(&k);
	rm_tree(dir);
}

/* Each patch is matched against each object: 20,000 patches over 50,000
 * objects (10^9 matches) stop at the budget after a few hundred. */
static void
test_render_patches_times_objects_is_charged(void **state)
{
	char dir[] = "/tmp/sotto-render-XXXXXX";
	struct sotto_buf k = SOTTO_BUF_INIT, r = SOTTO_BUF_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sotto_buf_addstr(&k, "resources: [r.yaml]\n"
	    "patches:\n"), SOTTO_OK);
	for (i = 0; i < 20000; i++)
		assert_int_equal(sotto_buf_addf(&k, "- target: {kind: Secret, "
		    "name: x%zu}\n  patch: \"[]\"\n", i), SOTTO_OK);
	assert_int_equal(sotto_buf_addch(&k, '\0'), SOTTO_OK);
	for (i = 0; i < 50000; i++)
		assert_int_equal(sotto_buf_addf(&r, "---\napiVersion: v1\n"
		    "kind: ConfigMap\nmetadata:\n  name: c%zu\n", i),
		    SOTTO_OK);
	assert_int_equal(sotto_buf_addch(&r, '\0'), SOTTO_OK);
	putp(dir, "kustomization.yaml", (const char *)k.data);
	putp(dir, "r.yaml", (const char *)r.data);
	if (render(dir, ".", &e) != SOTTO_E_LIMIT)
		fail_msg("%s", e.msg);
	assert_string_equal(e.msg, "'kustomization.yaml': rendering exceeds "
	    "67108864 bytes");
	sotto_buf_release(&k);
	sotto_buf_release(&r);
	rm_tree(dir);
}

/* A chain of kustomizations each listing the next stops at 64 levels,
 * naming the directory where it stopped. */
static void
test_render_kustomization_chain_depth(void **state)
{
	char dir[] = "/tmp/sotto-render-XXXXXX", rel[64], text[64];
	struct sotto_error e = { SOTTO_OK, "" };
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < 100; i++) {
		snprintf(rel, sizeof(rel), "d%03d/kustomization.yaml", i);
		snprintf(text, sizeof(text), "resources: [../d%03d]\n", i + 1);
		putp(dir, rel, text);
	}
	putp(dir, "d100/kustomization.yaml", "resources: []\n");
	if (render(dir, "d000", &e) != SOTTO_E_LIMIT)
		fail_msg("%s", e.msg);
	assert_string_equal(e.msg, "'d064': kustomizations nested deeper "
	    "than 64 levels");
	/* 64 levels are fine */
	if (render(dir, "d037", &e) != SOTTO_OK)
		fail_msg("%s", e.msg);
	rm_tree(dir);
}

/* A file past the render's byte budget is refused on its size before a
 * byte of it is read; a sops file past 5 MiB is refused with Flux's
 * message, a plain one of that size renders. */
static void
test_render_file_size_limit(void **state)
{
	char dir[] = "/tmp/sotto-render-XXXXXX", path[128];
	struct sotto_error e = { SOTTO_OK, "" };
	FILE *f;
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	putp(dir, "kustomization.yaml", "resources: [big.yaml]\n");
	putp(dir, "big.yaml", "");
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	assert_int_equal(truncate(path, ((off_t)64 << 20) + 1), 0);
	if (render(dir, ".", &e) != SOTTO_E_LIMIT)
		fail_msg("%s", e.msg);
	assert_string_equal(e.msg, "'big.yaml': file size (67108865 bytes) "
	    "exceeds the render limit (67108864 bytes)");
	/* 5 MiB and more of plain YAML */
	assert_non_null(f = fopen(path, "w"));
	fputs("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n"
	    "data:\n", f);
	for (i = 0; i < 60000; i++)
		fprintf(f, "  k%06zu: %080zu\n", i, i);
	assert_int_equal(fclose(f), 0);
	if (render(dir, ".", &e) != SOTTO_OK)
		fail_msg("%s", e.msg);
	/* the same size, as a sops document */
	assert_non_null(f = fopen(path, "a"));
	fputs("sops:\n  mac: ENC[AES256_GCM,data:x,iv:x,tag:x,type:str]\n",
	    f);
	assert_int_equal(fclose(f), 0);
	if (render(dir, ".", &e) != SOTTO_E_LIMIT)
		fail_msg("%s", e.msg);
	assert_non_null(strstr(e.msg, "'big.yaml': cannot decrypt file with "
	    "size ("));
	assert_non_null(strstr(e.msg, "bytes) exceeding limit (5242880)"));
	rm_tree(dir);
}

/* Renders dir with a Flux overlay; the output, NUL-terminated, in out. */
static sotto_err
render_flux(struct sotto_buf *out, const char *dir, const char *overlay,
    struct sotto_error *e)
{
	struct sotto_render_opts o;
	sotto_err err;

	memset(&o, 0, sizeof(o));
	o.root = dir;
	o.flux_overlay = overlay;
	err = sotto_render_dir(out, dir, &o, e);
	if (err == SOTTO_OK)
		assert_int_equal(sotto_buf_addch(out, '\0'), SOTTO_OK);
	else
		assert_int_equal(out->len, 0);
	return err;
}

static const char cm_yaml[] = "apiVersion: v1\nkind: ConfigMap\n"
    "metadata:\n  name: app\ndata:\n  color: blue\n";
static const char deploy_yaml[] = "apiVersion: apps/v1\nkind: Deployment\n"
    "metadata:\n  name: web\nspec:\n  template:\n    spec:\n"
    "      containers:\n      - name: web\n        image: nginx:1.25\n";

/* Flux's generator: namePrefix replaced, the spec's patches after the
 * file's, an image entry of the same name updated (tag and digest as
 * one); the file on disk is left as it was. */
static void
test_render_flux_overlay_merges_into_kustomization(void **state)
{
	static const char kust[] = "namePrefix: own-\nresources:\n"
	    "- cm.yaml\n- deploy.yaml\nimages:\n- name: nginx\n"
	    "  newName: r.example/nginx\n  digest: sha256:00\n"
	    "patches:\n- patch: |\n    apiVersion: v1\n    kind: ConfigMap\n"
	    "    metadata:\n      name: app\n    data:\n      color: red\n"
	    "      size: s\n";
	char dir[] = "/tmp/sotto-render-XXXXXX", path[128];
	struct sotto_buf out = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	const char *y;
	FILE *f;
	long n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	put(dir, "kustomization.yaml", kust);
	put(dir, "cm.yaml", cm_yaml);
	put(dir, "deploy.yaml", deploy_yaml);
	assert_int_equal(render_flux(&out, dir, "{\"namePrefix\":\"pre-\","
	    "\"namespace\":\"ns1\",\"images\":[{\"name\":\"nginx\","
	    "\"newTag\":\"1.27\"}],\"patches\":[{\"patch\":\"apiVersion: v1\\n"
	    "kind: ConfigMap\\nmetadata:\\n  name: app\\ndata:\\n  color: "
	    "green\\n\"},{\"patch\":\"- op: add\\n  path: /metadata/labels\\n"
	    "  value: {p: x}\\n\",\"target\":{\"kind\":\"Deployment\"}}]}", &e),
	    SOTTO_OK);
	y = (const char *)out.data;
	assert_non_null(strstr(y, "name: pre-app\n  namespace: ns1\n"));
	assert_non_null(strstr(y, "name: pre-web\n  namespace: ns1\n"));
	assert_null(strstr(y, "own-"));
	assert_non_null(strstr(y, "color: green\n  size: s\n"));
	assert_non_null(strstr(y, "image: r.example/nginx:1.27\n"));
	assert_null(strstr(y, "sha256"));
	assert_non_null(strstr(y, "labels:\n    p: x\n"));
	sotto_buf_release(&out);
	/* nothing written */
	snprintf(path, sizeof(path), "%s/kustomization.yaml", dir);
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	fclose(f);
	assert_int_equal((size_t)n, strlen(kust));
	/* a kustomization field of the wrong shape is named */
	put(dir, "kustomization.yaml", "resources: [cm.yaml]\npatches: x\n");
	assert_int_equal(render_flux(&out, dir, "{\"patches\":[{\"patch\":"
	    "\"x\"}]}", &e), SOTTO_E_PARSE);
	assert_non_null(strstr(e.msg, "patches is not a list"));
	rm_tree(dir);
}

/* Without a kustomization file: Flux's scan, *.yaml and *.yml only, a
 * subdirectory with a kustomization as one resource, nothing written. */
static void
test_render_flux_overlay_generates_kustomization(void **state)
{
	char dir[] = "/tmp/sotto-render-XXXXXX", path[128];
	struct sotto_buf out = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	const char *y;

	(void)state;
	assert_non_null(mkdtemp(dir));
	putp(dir, "a.yaml", cm_yaml);
	putp(dir, "b.json", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
	    "\"metadata\":{\"name\":\"json\"}}");
	putp(dir, "sub/c.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
	    "  name: c\n");
	putp(dir, "kust/kustomization.yaml", "namePrefix: k-\nresources:\n"
	    "- d.yaml\n");
	putp(dir, "kust/d.yaml", "apiVersion: v1\nkind: ConfigMap\n"
	    "metadata:\n  name: d\n");
	assert_int_equal(render_flux(&out, dir, "{\"nameSuffix\":\"-s\"}", &e),
	    SOTTO_OK);
	y = (const char *)out.data;
	assert_non_null(strstr(y, "name: app-s\n"));
	assert_non_null(strstr(y, "name: c-s\n"));
	assert_non_null(strstr(y, "name: k-d-s\n"));
	assert_null(strstr(y, "json"));
	sotto_buf_release(&out);
	snprintf(path, sizeof(path), "%s/kustomization.yaml", dir);
	assert_int_equal(access(path, F_OK), -1);
	rm_tree(dir);
	/* an empty directory builds nothing, as Flux's placeholder */
	assert_non_null(mkdtemp(strcpy(dir, "/tmp/sotto-render-XXXXXX")));
	assert_int_equal(render_flux(&out, dir, "{\"namespace\":\"x\"}", &e),
	    SOTTO_OK);
	assert_int_equal(out.len, 1);
	sotto_buf_release(&out);
	rm_tree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_hash_suffix_matches_kustomize),
		cmocka_unit_test(test_render_dir_rejects_unknown_field),
		cmocka_unit_test(
		    test_render_secret_base64_lines_match_kustomize),
		cmocka_unit_test(test_render_doubling_dag_hits_object_cap),
		cmocka_unit_test(test_render_transformer_copies_are_charged),
		cmocka_unit_test(test_render_json_patch_doubling_is_charged),
		cmocka_unit_test(test_render_patches_times_objects_is_charged),
		cmocka_unit_test(test_render_kustomization_chain_depth),
		cmocka_unit_test(test_render_file_size_limit),
		cmocka_unit_test(
		    test_render_flux_overlay_merges_into_kustomization),
		cmocka_unit_test(
		    test_render_flux_overlay_generates_kustomization),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
