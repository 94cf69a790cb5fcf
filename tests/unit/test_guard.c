/* SPDX-License-Identifier: ISC */
/*
 * The guard's rules on in-memory snapshots (sotto/guard.h): a true-positive
 * corpus that must each be found, a false-positive corpus (real sops files
 * from the shared vectors, public keys, prose about PEM headers) that must
 * give nothing, .sottoignore globs and inline sotto:allow.  Key-looking
 * strings are assembled at run time so this file holds none itself.
 */
#include "testutil.h"

#include <ftw.h>
#include <sodium.h>
#include <stdbool.h>
#include <unistd.h>

#include "sotto/guard.h"
#include "sotto/sops.h"
#include "sotto/store.h"

#define MAXF 8

struct mem {
	const char *paths[MAXF];
	const char *data[MAXF];
	size_t n;
	struct sotto_guard_snapshot s;
};

static sotto_err
mem_get(void *arg, const char *path, struct sotto_buf *out,
    struct sotto_error *e)
{
	struct mem *m = arg;
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->paths[i], path) == 0)
			return sotto_buf_addstr(out, m->data[i]);
	return sotto_error_set(e, SOTTO_E_NOTFOUND, "no '%s'", path);
}

/* Files must be added in sorted path order. */
static void
mem_add(struct mem *m, const char *path, const char *data)
{
	m->paths[m->n] = path;
	m->data[m->n] = data;
	m->n++;
	m->s.paths = m->paths;
	m->s.npaths = m->n;
	m->s.get = mem_get;
	m->s.arg = m;
}

/* Checks one file against snapshot m; returns the report (release it). */
static struct sotto_guard_report
check(struct mem *m, const char *path, const char *data, size_t len)
{
	struct sotto_guard_report r;
	struct sotto_guard_ctx *c = NULL;
	struct sotto_error e = { 0 };

	memset(&r, 0, sizeof(r));
	assert_int_equal(sotto_guard_ctx_new(&c, "/repo", &m->s, NULL, &e),
	    SOTTO_OK);
	assert_int_equal(sotto_guard_check(&r, c, NULL, path,
	    (const uint8_t *)data, len, &e), SOTTO_OK);
	sotto_guard_ctx_free(c);
	return r;
}

static struct sotto_guard_report
check_str(struct mem *m, const char *path, const char *data)
{
	return check(m, path, data, strlen(data));
}

/* Random base64 lines of 64 characters. */
static void
b64_lines(struct sotto_buf *b, int lines, const char *sep)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
	    "stuvwxyz0123456789+/";
	int i, k;

	for (i = 0; i < lines; i++) {
		for (k = 0; k < 64; k++)
			sotto_buf_addch(b, a[randombytes_uniform(64)]);
		sotto_buf_addstr(b, sep);
	}
}

static void
pem(struct sotto_buf *b, const char *label, const char *hdrs,
    const char *sep)
{
	sotto_buf_addf(b, "-----%s %s-----%s%s", "BEGIN", label, sep, hdrs);
	b64_lines(b, 4, sep);
	sotto_buf_addf(b, "-----%s %s-----%s", "END", label, sep);
}

static void
age_key(struct sotto_buf *b, bool pq)
{
	static const char cs[] = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
	int k;

	sotto_buf_addf(b, "AGE-%s-KEY-%s1", "SECRET", pq ? "PQ-" : "");
	for (k = 0; k < (pq ? 120 : 58); k++)
		sotto_buf_addch(b, cs[randombytes_uniform(32)]);
	sotto_buf_addch(b, '\n');
}

static void
expect(struct sotto_guard_report *r, const char *rule, size_t line,
    const char *what)
{
	if (r->n != 1 || strcmp(r->v[0].rule, rule) != 0 ||
	    r->v[0].line != line)
		fail_msg("%s: expected one %s at line %zu, got %zu (%s:%zu)",
		    what, rule, line, r->n, r->n ? r->v[0].rule : "-",
		    r->n ? r->v[0].line : 0);
	sotto_guard_report_release(r);
}

static void
expect_none(struct sotto_guard_report *r, const char *what)
{
	if (sotto_guard_report_active(r) != 0)
		fail_msg("%s: unexpected %s at line %zu: %s", what,
		    r->v[0].rule, r->v[0].line, r->v[0].msg);
	sotto_guard_report_release(r);
}

static void
test_private_keys_found(void **state)
{
	static const char *const labels[] = { "PRIVATE KEY",
	    "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY",
	    "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY", NULL };
	struct mem m = { 0 };
	struct sotto_buf b = SOTTO_BUF_INIT;
	struct sotto_guard_report r;
	size_t i;

	(void)state;
	for (i = 0; labels[i] != NULL; i++) {
		sotto_buf_truncate(&b, 0);
		sotto_buf_addstr(&b, "# a config\nkey: |\n");
		pem(&b, labels[i], "", "\n");
		r = check(&m, "conf/app.yaml", (const char *)b.data, b.len);
		expect(&r, SOTTO_GUARD_RULE_KEY, 3, labels[i]);
	}
	/* PEM with encryption headers (Proc-Type, DEK-Info) */
	sotto_buf_truncate(&b, 0);
	pem(&b, "RSA PRIVATE KEY", "Proc-Type: 4,ENCRYPTED\nDEK-Info: "
	    "AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n", "\n");
	r = check(&m, "id_rsa", (const char *)b.data, b.len);
	expect(&r, SOTTO_GUARD_RULE_KEY, 1, "PEM with headers");
	/* PGP private key block with armour headers */
	sotto_buf_truncate(&b, 0);
	sotto_buf_addstr(&b, "x\ny\n");
	pem(&b, "PGP PRIVATE KEY BLOCK", "Comment: test\n\n", "\n");
	r = check(&m, "key.asc", (const char *)b.data, b.len);
	expect(&r, SOTTO_GUARD_RULE_KEY, 3, "PGP private key block");
	/* a PEM key inside a JSON string, "\n" escaped */
	sotto_buf_truncate(&b, 0);
	sotto_buf_addstr(&b, "{\n  \"type\": \"service_account\",\n"
	    "  \"private_key\": \"");
	pem(&b, "PRIVATE KEY", "", "\\n");
	sotto_buf_addstr(&b, "\"\n}\n");
	r = check(&m, "sa.json", (const char *)b.data, b.len);
	expect(&r, SOTTO_GUARD_RULE_KEY, 3, "JSON-escaped PEM");
	/* age identities, X25519 and post-quantum */
	sotto_buf_truncate(&b, 0);
	sotto_buf_addstr(&b, "# created: 2024-01-01T00:00:00Z\n"
	    "# public key: age1xyz\n");
	age_key(&b, false);
	r = check(&m, "keys.txt", (const char *)b.data, b.len);
	expect(&r, SOTTO_GUARD_RULE_KEY, 3, "age identity");
	sotto_buf_truncate(&b, 0);
	sotto_buf_addstr(&b, "export SOPS_AGE_KEY=");
	age_key(&b, true);
	r = check(&m, ".envrc", (const char *)b.data, b.len);
	expect(&r, SOTTO_GUARD_RULE_KEY, 1, "age PQ identity");
	/* binary junk around a key still counts */
	sotto_buf_truncate(&b, 0);
	sotto_buf_add(&b, "\0\1\2\3\n", 5);
	age_key(&b, false);
	r = check(&m, "blob.bin", (const char *)b.data, b.len);
	expect(&r, SOTTO_GUARD_RULE_KEY, 2, "age key in a binary file");
	sotto_buf_release(&b);
}

static void
test_private_keys_not_found(void **state)
{
	struct mem m = { 0 };
	struct sotto_buf b = SOTTO_BUF_INIT;
	struct sotto_guard_report r;

	(void)state;
	/* public keys in every spelling */
	pem(&b, "PUBLIC KEY", "", "\n");
	pem(&b, "PGP PUBLIC KEY BLOCK", "Comment: x\n\n", "\n");
	pem(&b, "CERTIFICATE", "", "\n");
	pem(&b, "AGE ENCRYPTED FILE", "", "\n");
	sotto_buf_addstr(&b, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh2Y3Vz"
	    "dG9tZXJrZXlmb3J0ZXN0aW5nb25seQ user@host\n"
	    "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n");
	r = check(&m, "keys/public.txt", (const char *)b.data, b.len);
	expect_none(&r, "public keys");
	/* documentation that talks about private keys */
	r = check_str(&m, "docs/keys.md", "# Keys\n\nA PEM file starts with "
	    "`-----BEGIN PRIVATE KEY-----` and ends with the END line.\n"
	    "Never commit a file whose first line is\n"
	    "-----BEGIN OPENSSH PRIVATE KEY-----\nlike this one; run "
	    "ssh-keygen to make one.\n\n```\n-----BEGIN RSA PRIVATE KEY-----\n"
	    "MIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----\n```\n"
	    "An age identity looks like AGE-SECRET-KEY-1QQQ... (58 chars).\n");
	expect_none(&r, "prose about private keys");
	/* a prose mention followed by a long hex commit id */
	r = check_str(&m, "CHANGES", "-----BEGIN PRIVATE KEY----- headers "
	    "are now detected (fixed in 0123456789abcdef0123456789abcdef"
	    "01234567)\n-----END PRIVATE KEY-----\n");
	expect_none(&r, "prose then END");
	sotto_buf_release(&b);
}

static void
test_k8s_secret(void **state)
{
	struct mem m = { 0 };
	struct sotto_guard_report r;

	(void)state;
	r = check_str(&m, "deploy/s.yaml", "apiVersion: v1\nkind: Secret\n"
	    "metadata:\n  name: db\nstringData:\n  password: hunter2\n");
	expect(&r, SOTTO_GUARD_RULE_K8S, 6, "plain Secret");
	r = check_str(&m, "deploy/all.yaml", "apiVersion: v1\nkind: ConfigMap\n"
	    "metadata:\n  name: c\ndata:\n  k: v\n---\napiVersion: v1\n"
	    "kind: Secret\nmetadata:\n  name: s\ntype: Opaque\ndata:\n"
	    "  token: aGVsbG8=\n");
	expect(&r, SOTTO_GUARD_RULE_K8S, 14, "Secret as second document");
	r = check_str(&m, "deploy/c.yaml", "apiVersion: v1\nkind: ConfigMap\n"
	    "metadata:\n  name: Secret\ndata:\n  kind: Secret\n");
	expect_none(&r, "ConfigMap named Secret");
	r = check_str(&m, "deploy/e.yaml", "apiVersion: v1\nkind: Secret\n"
	    "metadata:\n  name: empty\ndata: {}\n");
	expect_none(&r, "Secret without data");
	r = check_str(&m, "deploy/sa.yaml", "apiVersion: v1\nkind: Secret\n"
	    "metadata:\n  name: t\n  annotations:\n    kubernetes.io/"
	    "service-account.name: x\ntype: kubernetes.io/"
	    "service-account-token\n");
	expect_none(&r, "service account token stub");
	r = check_str(&m, "deploy/enc.yaml", "apiVersion: v1\nkind: Secret\n"
	    "metadata:\n  name: db\nstringData:\n  password: ENC[AES256_GCM,"
	    "data:Tr7o,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAA"
	    "AAAAAAAAAAAAAAAAAA==,type:str]\nsops:\n  age:\n    - recipient: "
	    "age1x\n      enc: x\n  lastmodified: \"2024-01-01T00:00:00Z\"\n"
	    "  mac: ENC[AES256_GCM,data:AA==,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\n"
	    "  encrypted_regex: ^(data|stringData)$\n  version: 3.9.0\n");
	expect_none(&r, "sops-encrypted Secret");
	r = check_str(&m, "deploy/s.json", "{\"apiVersion\": \"v1\", \"kind\": "
	    "\"Secret\", \"metadata\": {\"name\": \"j\"}, \"data\": "
	    "{\"a\": \"Yg==\"}}\n");
	expect(&r, SOTTO_GUARD_RULE_K8S, 1, "JSON Secret");
}

static const char sops_cfg[] = "creation_rules:\n"
    "  - path_regex: k8s/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n"
    "    age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n"
    "  - path_regex: secrets/\n"
    "    age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n";

#define ENCV "ENC[AES256_GCM,data:Tr7o,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "AAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]"
#define META(extra) "sops:\n  age:\n    - recipient: age1x\n      enc: x\n" \
    "  lastmodified: \"2024-01-01T00:00:00Z\"\n  mac: " ENCV "\n" extra \
    "  version: 3.9.0\n"

static void
test_sops_rule(void **state)
{
	struct mem m = { 0 };
	struct sotto_guard_report r;

	(void)state;
	mem_add(&m, ".sops.yaml", sops_cfg);
	r = check_str(&m, "secrets/db.yaml", "user: app\npassword: x\n");
	expect(&r, SOTTO_GUARD_RULE_SOPS, 1, "plaintext under a rule");
	r = check_str(&m, "secrets/db.yaml", "user: " ENCV "\npassword: "
	    ENCV "\nport_unencrypted: 5432\n" META(""));
	expect_none(&r, "well-formed sops file");
	r = check_str(&m, "secrets/db.yaml", "user: " ENCV "\npassword: "
	    "x\n" META(""));
	expect(&r, SOTTO_GUARD_RULE_SOPS, 2, "one value in clear");
	r = check_str(&m, "secrets/db.yaml", "user: " ENCV "\n"
	    "sops:\n  age:\n    - recipient: age1x\n      enc: x\n"
	    "  version: 3.9.0\n");
	expect(&r, SOTTO_GUARD_RULE_SOPS, 1, "no MAC");
	r = check_str(&m, "secrets/db.yaml", "user: " ENCV "\n"
	    "sops:\n  lastmodified: \"2024-01-01T00:00:00Z\"\n  mac: " ENCV
	    "\n  version: 3.9.0\n");
	expect(&r, SOTTO_GUARD_RULE_SOPS, 1, "no recipient");
	/* the rule's encrypted_regex: metadata may stay in clear */
	r = check_str(&m, "k8s/s.yaml", "apiVersion: v1\nkind: Secret\n"
	    "metadata:\n  name: db\nstringData:\n  password: " ENCV "\n"
	    META("  encrypted_regex: ^(data|stringData)$\n"));
	expect_none(&r, "encrypted_regex rule");
	r = check_str(&m, "k8s/s.yaml", "apiVersion: v1\nkind: Secret\n"
	    "metadata:\n  name: db\nstringData:\n  password: hunter2\n"
	    META("  encrypted_regex: ^(data|stringData)$\n"));
	expect(&r, SOTTO_GUARD_RULE_SOPS, 6, "clear value under data");
	r = check_str(&m, "docs/readme.yaml", "password: example\n");
	expect_none(&r, "outside every rule");
	/* binary under a rule: plain bytes are refused */
	r = check_str(&m, "secrets/cert.der", "\x30\x82\x01\x0a");
	expect(&r, SOTTO_GUARD_RULE_SOPS, 1, "binary in clear");
	r = check_str(&m, "secrets/cert.der", "{\n\t\"data\": \"" ENCV "\",\n"
	    "\t\"sops\": {\"age\": [{\"recipient\": \"age1x\", \"enc\": \"x\"}],"
	    " \"lastmodified\": \"2024-01-01T00:00:00Z\", \"mac\": \"" ENCV
	    "\", \"version\": \"3.9.0\"}\n}\n");
	expect_none(&r, "encrypted binary");
}

static void
test_escape_hatches(void **state)
{
	struct mem m = { 0 };
	struct sotto_guard_report r;
	struct sotto_buf b = SOTTO_BUF_INIT;

	(void)state;
	mem_add(&m, ".sottoignore", "# published test keys\n/fixtures/\n"
	    "*.testkey\n!keep.testkey\n");
	age_key(&b, false);
	r = check(&m, "fixtures/a/k.txt", (const char *)b.data, b.len);
	assert_int_equal(r.n, 1);
	assert_int_equal(sotto_guard_report_active(&r), 0);
	assert_non_null(strstr(r.v[0].allowed_by, ".sottoignore:2"));
	sotto_guard_report_release(&r);
	r = check(&m, "x/y/z.testkey", (const char *)b.data, b.len);
	assert_int_equal(sotto_guard_report_active(&r), 0);
	sotto_guard_report_release(&r);
	r = check(&m, "x/keep.testkey", (const char *)b.data, b.len);
	expect(&r, SOTTO_GUARD_RULE_KEY, 1, "re-included by !");
	r = check(&m, "src/fixtures/k.txt", (const char *)b.data, b.len);
	expect(&r, SOTTO_GUARD_RULE_KEY, 1, "anchored pattern");
	/* inline allow: same line or the line above */
	sotto_buf_truncate(&b, 0);
	sotto_buf_addstr(&b, "# sotto:allow private-key (published example)\n");
	age_key(&b, false);
	age_key(&b, false);
	r = check(&m, "docs/ex.md", (const char *)b.data, b.len);
	assert_int_equal(r.n, 1);	/* one finding per file and rule */
	assert_non_null(strstr(r.v[0].allowed_by, "sotto:allow at line 1"));
	sotto_guard_report_release(&r);
	r = check_str(&m, "k.yaml", "# sotto:allow k8s-secret\nkind: Secret\n"
	    "metadata: {name: demo}\nstringData:\n  a: b\n");
	assert_int_equal(r.n, 1);
	assert_int_equal(sotto_guard_report_active(&r), 0);
	sotto_guard_report_release(&r);
	r = check_str(&m, "k.yaml", "# sotto:allow private-key\nkind: Secret\n"
	    "metadata: {name: demo}\nstringData:\n  a: b\n");
	expect(&r, SOTTO_GUARD_RULE_K8S, 5, "allow names another rule");
	sotto_buf_release(&b);
}

static void
test_glob(void **state)
{
	(void)state;
	assert_true(sotto_guard_glob("*.yaml", "a.yaml"));
	assert_false(sotto_guard_glob("*.yaml", "d/a.yaml"));
	assert_true(sotto_guard_glob("**/a.yaml", "a.yaml"));
	assert_true(sotto_guard_glob("**/a.yaml", "x/y/a.yaml"));
	assert_true(sotto_guard_glob("a/**", "a/b/c"));
	assert_true(sotto_guard_glob("a/**/c", "a/c"));
	assert_true(sotto_guard_glob("a/**/c", "a/x/y/c"));
	assert_false(sotto_guard_glob("a/**/c", "b/x/c"));
	assert_true(sotto_guard_glob("t?st[0-9].[!x]", "test1.y"));
	assert_false(sotto_guard_glob("t?st[0-9].[!x]", "test1.x"));
}

/*
 * Star-heavy patterns answer at once (found by
 * tests/fuzz/fuzz_sottoignore.c: the star loops were exponential, and a
 * .sottoignore line could hang the hook).  SIGALRM fails the test if not.
 */
static void
test_glob_stars_are_not_exponential(void **state)
{
	struct sotto_guard_ignore *ig;
	struct sotto_error e;
	char path[300], pat[300];
	size_t i;

	(void)state;
	memset(path, 'a', 250);
	path[250] = '\0';
	for (i = 0; i < 20; i++)
		memcpy(pat + 2 * i, "*a", 2);
	memcpy(pat + 40, "*b", 3);
	alarm(20);
	assert_false(sotto_guard_glob(pat, path));
	pat[41] = 'a';
	assert_true(sotto_guard_glob(pat, path));
	for (i = 0; i < 125; i++)
		memcpy(path + 2 * i, "d/", 2);
	path[249] = 'x';
	for (i = 0; i < 30; i++)
		memcpy(pat + 3 * i, "**/", 3);
	memcpy(pat + 90, "*?y", 4);
	assert_false(sotto_guard_glob(pat, path));
	pat[92] = 'x';
	assert_true(sotto_guard_glob(pat, path));
	assert_int_equal(sotto_guard_ignore_parse(&ig, ".sottoignore",
	    (const uint8_t *)pat, strlen(pat), &e), SOTTO_OK);
	assert_non_null(sotto_guard_ignore_match(ig, path));
	sotto_guard_ignore_free(ig);
	alarm(0);
}

/* ---- false-positive corpus: every real sops file of the vectors ---------- */

static size_t fp_files;
static char fp_bad[512];

static int
fp_visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_error e = { 0 };
	struct sotto_doc *d = NULL;
	struct sotto_guard_report r;
	struct mem m = { 0 };
	uint8_t *p;
	size_t n;
	bool enc;

	(void)ftw;
	if (flag != FTW_F || st->st_size > (1 << 20) || fp_bad[0])
		return 0;
	if ((p = test_read_file(path, &n)) == NULL)
		return 0;
	enc = sotto_store_for_path(path)->parse(&d, p, n, path, &lim, &e) ==
	    SOTTO_OK && sotto_sops_is_encrypted(d);
	sotto_tree_doc_free(d);
	if (enc) {
		/* a catch-all rule: the file must pass as a sops file */
		mem_add(&m, ".sops.yaml", "creation_rules:\n  - age: age1ql3z7hjy"
		    "54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n");
		r = check(&m, path + 1, (const char *)p, n);
		if (sotto_guard_report_active(&r) > 0)
			snprintf(fp_bad, sizeof(fp_bad), "%s:%zu: %s %s", path,
			    r.v[0].line, r.v[0].rule, r.v[0].msg);
		sotto_guard_report_release(&r);
		fp_files++;
	}
	free(p);
	return 0;
}

static void
test_real_sops_files_pass(void **state)
{
	char dir[1024];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/vectors/sops", test_shared_dir());
	if (nftw(dir, fp_visit, 16, FTW_PHYS) != 0 || fp_files == 0)
		skip();
	if (fp_bad[0])
		fail_msg("false positive: %s", fp_bad);
	print_message("      %zu real sops files: no finding\n", fp_files);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private_keys_found),
		cmocka_unit_test(test_private_keys_not_found),
		cmocka_unit_test(test_k8s_secret),
		cmocka_unit_test(test_sops_rule),
		cmocka_unit_test(test_escape_hatches),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_glob_stars_are_not_exponential),
		cmocka_unit_test(test_real_sops_files_pass),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
