/* SPDX-License-Identifier: ISC */
/* YAML store: vectors, typing, errors, comments, splice round trips. */
#include "testutil.h"

#include <dirent.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "sotto/store.h"
#include "sotto/tree.h"

static struct sotto_doc *
parse_str(const char *s, struct sotto_error *e)
{
	struct sotto_doc *d = NULL;

	sotto_error_clear(e);
	if (sotto_store_yaml.parse(&d, (const uint8_t *)s, strlen(s), "t.yaml",
	    NULL, e) != SOTTO_OK)
		return NULL;
	return d;
}

static void
expect_err(const char *src, sotto_err code, const char *prefix)
{
	struct sotto_error e;
	struct sotto_doc *d = parse_str(src, &e);

	if (d != NULL)
		fail_msg("parse of %s succeeded", src);
	assert_int_equal(e.code, code);
	if (strncmp(e.msg, prefix, strlen(prefix)) != 0)
		fail_msg("message '%s' lacks prefix '%s'", e.msg, prefix);
}

/* ---- vectors ---- */

static int nfiles;

static void
check_vector(const char *path)
{
	struct sotto_doc *d = NULL;
	struct sotto_error e;
	struct sotto_buf o = SOTTO_BUF_INIT;
	size_t n = 0;
	uint8_t *s = test_read_file(path, &n);

	assert_non_null(s);
	sotto_error_clear(&e);
	if (strstr(path, "flux2/sops-age.yaml") != NULL) {
		/* a Go template with "{{ .x }}" as a key: not YAML data */
		assert_int_not_equal(sotto_store_yaml.parse(&d, s, n, path,
		    NULL, &e), SOTTO_OK);
		free(s);
		return;
	}
	if (sotto_store_yaml.parse(&d, s, n, path, NULL, &e) != SOTTO_OK)
		fail_msg("%s: %s", path, e.msg);
	assert_int_equal(sotto_store_yaml.emit_splice(&o, d, d->meta[0], &e),
	    SOTTO_OK);
	if (o.len != n || memcmp(o.data, s, n) != 0)
		fail_msg("%s: splice does not reproduce the file", path);
	if (strstr(path, "sops-secrets-operator") == NULL ||
	    strstr(path, "-raw-") == NULL) {
		if (strstr(path, "plainfile") == NULL &&
		    strstr(path, "current/comments.yaml") == NULL &&
		    strstr(path, "comments_list") == NULL &&
		    strstr(path, "inside/secret.yaml") == NULL &&
		    d->meta[0] == NULL)
			fail_msg("%s: no sops metadata found", path);
	}
	/* files written by sops >= 3.10 with indent 4: re-rendering the
	 * metadata from scratch gives the same bytes */
	if (d->meta[0] != NULL && strstr((char *)s, "\n    version: 3.1") !=
	    NULL && strstr((char *)s, "\n    version: 3.1.") == NULL) {
		struct sotto_node *mc = sotto_tree_clone(d->meta[0]);
		struct sotto_buf o2 = SOTTO_BUF_INIT;

		mc->dirty = true;
		assert_int_equal(sotto_store_yaml.emit_splice(&o2, d, mc, &e),
		    SOTTO_OK);
		if (o2.len != n || memcmp(o2.data, s, n) != 0)
			fail_msg("%s: re-rendered metadata differs", path);
		sotto_buf_release(&o2);
		sotto_tree_node_free(mc, false);
	}
	nfiles++;
	sotto_buf_release(&o);
	sotto_tree_doc_free(d);
	free(s);
}

static void
walk(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	char p[4096];
	struct stat st;

	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (stat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			walk(p);
		else if ((l > 5 && strcmp(de->d_name + l - 5, ".yaml") == 0) ||
		    (l > 4 && strcmp(de->d_name + l - 4, ".yml") == 0))
			check_vector(p);
	}
	closedir(dp);
}

static void
test_vectors(void **state)
{
	char p[4096];

	(void)state;
	snprintf(p, sizeof(p), "%s/vectors/sops", test_shared_dir());
	walk(p);
	if (nfiles < 10)
		skip();
}

/* ---- typing ---- */

struct tcase {
	const char *v;
	enum sotto_scalar_type t;
	const char *canon;	/* NULL: none */
	bool noncanon;
};

static const struct tcase tcases[] = {
	{ "true", SOTTO_T_BOOL, "True", false },
	{ "TRUE", SOTTO_T_BOOL, "True", false },
	{ "False", SOTTO_T_BOOL, "False", false },
	{ "yes", SOTTO_T_STR, NULL, false },
	{ "off", SOTTO_T_STR, NULL, false },
	{ "0x1F", SOTTO_T_INT, "31", true },
	{ "0o17", SOTTO_T_INT, "15", true },
	{ "0b101", SOTTO_T_INT, "5", true },
	{ "010", SOTTO_T_INT, "8", true },
	{ "1_000", SOTTO_T_INT, "1000", true },
	{ "+7", SOTTO_T_INT, "7", false },
	{ "-42", SOTTO_T_INT, "-42", false },
	{ "1e3", SOTTO_T_FLOAT, "1000", false },
	{ "1.50", SOTTO_T_FLOAT, "1.5", false },
	{ ".5", SOTTO_T_FLOAT, "0.5", false },
	{ ".inf", SOTTO_T_FLOAT, "+Inf", true },
	{ "-.Inf", SOTTO_T_FLOAT, "-Inf", true },
	{ ".nan", SOTTO_T_FLOAT, "NaN", true },
	{ "08", SOTTO_T_FLOAT, "8", false },
	{ "123456789012345678901234567890", SOTTO_T_FLOAT,
	    "123456789012345680000000000000", false },
	{ "1e400", SOTTO_T_STR, NULL, false },
	{ "~", SOTTO_T_NULL, NULL, false },
	{ "null", SOTTO_T_NULL, NULL, false },
	{ "NULL", SOTTO_T_NULL, NULL, false },
	{ "", SOTTO_T_NULL, NULL, false },
	{ "\"123\"", SOTTO_T_STR, NULL, false },
	{ "'true'", SOTTO_T_STR, NULL, false },
	{ "2001-12-14", SOTTO_T_TIME, "2001-12-14T00:00:00Z", true },
	{ "2001-12-14T21:59:43.10-05:00", SOTTO_T_TIME,
	    "2001-12-14T21:59:43.1-05:00", true },
	{ "2006-01-02T15:04:05+07:06", SOTTO_T_TIME,
	    "2006-01-02T15:04:05+07:06", false },
	{ "'2001-12-14'", SOTTO_T_STR, NULL, false },
	{ "!!timestamp 2001-12-14", SOTTO_T_TIME, "2001-12-14T00:00:00Z",
	    true },
	{ "!!str 12", SOTTO_T_STR, NULL, false },
	{ "!!int \"12\"", SOTTO_T_INT, "12", false },
	{ "!!float 1", SOTTO_T_FLOAT, "1", false },
	{ "!!null x", SOTTO_T_NULL, NULL, false },
	{ "<<", SOTTO_T_STR, NULL, false },
	{ "ENC[AES256_GCM,data:a,iv:b,tag:c,type:str]", SOTTO_T_STR, NULL,
	    false },
};

static void
test_typing(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		char src[256];
		struct sotto_error e;
		struct sotto_doc *d;
		struct sotto_node *v;

		snprintf(src, sizeof(src), "k: %s\n", tcases[i].v);
		d = parse_str(src, &e);
		if (d == NULL)
			fail_msg("%s: %s", tcases[i].v, e.msg);
		v = sotto_tree_map_get(d->branches[0], "k");
		assert_non_null(v);
		if (v->type != tcases[i].t)
			fail_msg("%s: type %s", tcases[i].v,
			    sotto_tree_type_name(v->type));
		if (tcases[i].canon == NULL)
			assert_null(v->canon);
		else if (v->canon == NULL ||
		    strcmp(v->canon, tcases[i].canon) != 0)
			fail_msg("%s: canon %s", tcases[i].v,
			    v->canon ? v->canon : "(null)");
		if (((v->flags & SOTTO_NODE_NONCANON) != 0) !=
		    tcases[i].noncanon)
			fail_msg("%s: noncanon flag", tcases[i].v);
		sotto_tree_doc_free(d);
	}
}

static void
test_errors(void **state)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_doc *d = NULL;
	struct sotto_error e;
	const char *bl =
	    "a: &a [x, x, x, x, x, x, x, x, x]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
	char deep[2048];
	size_t i;

	(void)state;
	expect_err("k: 18446744073709551615\n", SOTTO_E_YAML,
	    "'t.yaml' line 1: unknown type: uint64");
	expect_err("a: 1\nb: 2\na: 3\n", SOTTO_E_YAML,
	    "'t.yaml' line 3: mapping key \"a\" already defined at line 1");
	expect_err("a: 1\n1: 2\n", SOTTO_E_YAML,
	    "'t.yaml' line 2: tree contains a non-string key");
	expect_err("true: 2\n", SOTTO_E_YAML,
	    "'t.yaml' line 1: tree contains a non-string key");
	expect_err("~: 2\n", SOTTO_E_YAML,
	    "'t.yaml' line 1: tree contains a non-string key");
	expect_err("? [a]\n: 2\n", SOTTO_E_YAML,
	    "'t.yaml' line 1: tree contains a non-string key");
	expect_err("- a\n- b\n", SOTTO_E_YAML,
	    "'t.yaml': document 1: top level must be a mapping");
	expect_err("a: 1\n---\n- b\n", SOTTO_E_YAML,
	    "'t.yaml': document 2: top level must be a mapping");
	expect_err("just a string\n", SOTTO_E_YAML,
	    "'t.yaml': document 1: top level must be a mapping");
	expect_err("a: [1, 2\n", SOTTO_E_YAML, "'t.yaml' line ");
	expect_err("a: b: c\n", SOTTO_E_YAML, "'t.yaml' line 1 column ");
	expect_err("a: *nope\n", SOTTO_E_YAML,
	    "'t.yaml' line 1: unknown anchor");
	expect_err("k: !!int abc\n", SOTTO_E_YAML,
	    "'t.yaml' line 1: cannot decode value as !!int");
	/* billion laughs fails fast on the alias budgets: bytes first with
	 * the defaults (a copied node costs more than 64 bytes), nodes
	 * when that limit is the lower one */
	expect_err(bl, SOTTO_E_LIMIT,
	    "'t.yaml' line 6: alias expansion exceeds 67108864 bytes");
	lim.max_alias = 1000;
	assert_int_equal(sotto_store_yaml.parse(&d, (const uint8_t *)bl,
	    strlen(bl), "t.yaml", &lim, &e), SOTTO_E_LIMIT);
	assert_string_equal(e.msg,
	    "'t.yaml' line 4: alias expansion exceeds 1000 nodes");
	lim = (struct sotto_limits)SOTTO_LIMITS_DEFAULT;
	/* depth */
	for (i = 0; i < 300; i++)
		deep[i] = '[';
	deep[0] = 'a';
	deep[1] = ':';
	deep[2] = ' ';
	deep[300] = '\0';
	expect_err(deep, SOTTO_E_LIMIT, "'t.yaml' line 1: nesting deeper "
	    "than 256 levels");
	/* size and node limits */
	lim.max_bytes = 4;
	assert_int_equal(sotto_store_yaml.parse(&d, (const uint8_t *)"a: 12\n",
	    6, "t.yaml", &lim, &e), SOTTO_E_LIMIT);
	assert_non_null(strstr(e.msg, "more than the limit of 4"));
	lim = (struct sotto_limits)SOTTO_LIMITS_DEFAULT;
	lim.max_nodes = 3;
	assert_int_equal(sotto_store_yaml.parse(&d,
	    (const uint8_t *)"a: 1\nb: 2\n", 10, "t.yaml", &lim, &e),
	    SOTTO_E_LIMIT);
	assert_non_null(strstr(e.msg, "more than 3 nodes"));
	/* empty and null documents are empty maps */
	d = parse_str("", &e);
	assert_non_null(d);
	assert_int_equal(d->n, 1);
	assert_int_equal(d->branches[0]->n, 0);
	sotto_tree_doc_free(d);
	d = parse_str("---\nnull\n---\na: 1\n", &e);
	assert_non_null(d);
	assert_int_equal(d->n, 2);
	assert_int_equal(d->branches[0]->n, 0);
	sotto_tree_doc_free(d);
}

/* ---- comments ---- */

static void
test_comments(void **state)
{
	const char *src =
	    "# top\n"
	    "a: \"x # not\" # after a\n"
	    "b: 'y#z'\n"
	    "u: http://h/p#frag\n"
	    "lit: |\n"
	    "  # inside block\n"
	    "  text\n"
	    "m:\n"
	    "  # head of c\n"
	    "  c: 1\n"
	    "  # foot of m\n"
	    "l:\n"
	    "- 1\n"
	    "# in list\n"
	    "- 2 # inline item\n"
	    "# end\n";
	struct sotto_error e;
	struct sotto_doc *d = parse_str(src, &e);
	struct sotto_node *r, *m, *l;

	(void)state;
	assert_non_null(d);
	r = d->branches[0];
	/* # top, # after a (before a), a, b, u, lit, m, l, # end */
	assert_int_equal(r->n, 9);
	assert_int_equal(r->items[0].val->kind, SOTTO_NODE_COMMENT);
	assert_string_equal(r->items[0].val->text, " top");
	assert_int_equal(r->items[1].val->kind, SOTTO_NODE_COMMENT);
	assert_string_equal(r->items[1].val->text, " after a");
	assert_true(r->items[1].val->inline_comment);
	assert_string_equal(r->items[2].key, "a");
	assert_string_equal(r->items[2].val->text, "x # not");
	assert_string_equal(sotto_tree_map_get(r, "u")->text,
	    "http://h/p#frag");
	assert_string_equal(sotto_tree_map_get(r, "lit")->text,
	    "# inside block\ntext\n");
	m = sotto_tree_map_get(r, "m");
	assert_int_equal(m->n, 3);
	assert_string_equal(m->items[0].val->text, " head of c");
	assert_string_equal(m->items[1].key, "c");
	assert_string_equal(m->items[2].val->text, " foot of m");
	l = sotto_tree_map_get(r, "l");
	assert_int_equal(l->n, 4);
	assert_string_equal(l->items[1].val->text, " in list");
	assert_string_equal(l->items[2].val->text, " inline item");
	assert_true(l->items[2].val->inline_comment);
	assert_string_equal(l->items[3].val->text, "2");
	assert_int_equal(r->items[8].val->kind, SOTTO_NODE_COMMENT);
	assert_string_equal(r->items[8].val->text, " end");
	/* spans: '#' to end of line */
	assert_int_equal(src[r->items[0].val->src_start], '#');
	assert_int_equal(r->items[0].val->src_end, 5);
	sotto_tree_doc_free(d);
}

/* sops' own fixture: the encrypted comments sit in the innermost map */
static void
test_comment_vector(void **state)
{
	char p[4096];
	size_t n = 0;
	uint8_t *s;
	struct sotto_doc *d = NULL;
	struct sotto_error e;
	struct sotto_node *db, *nested;

	(void)state;
	snprintf(p, sizeof(p), "%s/vectors/sops/hist/example.yaml",
	    test_shared_dir());
	s = test_read_file(p, &n);
	if (s == NULL)
		skip();
	assert_int_equal(sotto_store_yaml.parse(&d, s, n, p, NULL, &e),
	    SOTTO_OK);
	db = sotto_tree_map_get(sotto_tree_map_get(d->branches[0], "app2"),
	    "db");
	assert_non_null(db);
	assert_int_equal(db->n, 3);
	assert_int_equal(db->items[2].val->kind, SOTTO_NODE_COMMENT);
	assert_memory_equal(db->items[2].val->text, "ENC[", 4);
	nested = sotto_tree_map_get(d->branches[0], "this");
	nested = sotto_tree_map_get(sotto_tree_map_get(sotto_tree_map_get(
	    nested, "is"), "a"), "nested");
	assert_non_null(nested);
	assert_int_equal(nested->n, 4);
	assert_int_equal(nested->items[3].val->kind, SOTTO_NODE_COMMENT);
	sotto_tree_doc_free(d);
	free(s);
}

/* ---- emit ---- */

/*
 * Keys longer than 128 bytes are written as explicit "? key" entries, as
 * yaml.v3 writes them; a plain key longer than 1024 did not parse back
 * (found by tests/fuzz/fuzz_krm.c).
 */
static void
test_emit_long_keys(void **state)
{
	struct sotto_buf src = SOTTO_BUF_INIT, want = SOTTO_BUF_INIT;
	struct sotto_buf o = SOTTO_BUF_INIT, o2 = SOTTO_BUF_INIT;
	struct sotto_emit_opts opt = { 4 };
	struct sotto_doc *d, *d2;
	struct sotto_error e;
	char k128[129], k129[130], k1100[1101];

	(void)state;
	memset(k128, 'a', 128);
	k128[128] = '\0';
	memset(k129, 'b', 129);
	k129[129] = '\0';
	memset(k1100, 'c', 1100);
	k1100[1100] = '\0';
	assert_int_equal(sotto_buf_addf(&src, "%s: 1\n? %s\n: v\n"
	    "? %s\n: {x: 1, z: [p, q]}\ns:\n- ? %s\n  : []\n", k128, k129,
	    k1100, k129), SOTTO_OK);
	assert_int_equal(sotto_buf_addf(&want, "%s: 1\n"
	    "? %s\n: v\n"
	    "? %s\n:   x: 1\n    z:\n        - p\n        - q\n"
	    "s:\n    - ? %s\n      : []\n", k128, k129, k1100, k129),
	    SOTTO_OK);
	d = parse_str((const char *)src.data, &e);
	assert_non_null(d);
	assert_int_equal(sotto_store_yaml.emit(&o, d, NULL, &opt, &e),
	    SOTTO_OK);
	assert_string_equal((const char *)o.data, (const char *)want.data);
	/* and it parses back to the same output */
	d2 = parse_str((const char *)o.data, &e);
	assert_non_null(d2);
	assert_int_equal(sotto_store_yaml.emit(&o2, d2, NULL, &opt, &e),
	    SOTTO_OK);
	assert_string_equal((const char *)o2.data, (const char *)o.data);
	sotto_tree_doc_free(d);
	sotto_tree_doc_free(d2);
	sotto_buf_release(&src);
	sotto_buf_release(&want);
	sotto_buf_release(&o);
	sotto_buf_release(&o2);
}

static void
test_emit(void **state)
{
	const char *src =
	    "a: 1.0\n"
	    "b: \"123\"\n"
	    "c: yes\n"
	    "d: ''\n"
	    "e: \"multi\\nline\\n\"\n"
	    "f: [x, {yy: z}]\n"
	    "g: {}\n"
	    "h: ~\n"
	    "i: 'a: b'\n"
	    "j: 1e21\n"
	    "k: \"tab\\there\"\n";
	const char *want =
	    "a: 1\n"
	    "b: \"123\"\n"
	    "c: \"yes\"\n"
	    "d: \"\"\n"
	    "e: |\n"
	    "    multi\n"
	    "    line\n"
	    "f:\n"
	    "    - x\n"
	    "    - yy: z\n"
	    "g: {}\n"
	    "h: null\n"
	    "i: 'a: b'\n"
	    "j: 1e+21\n"
	    "k: \"tab\\there\"\n";
	struct sotto_error e;
	struct sotto_doc *d = parse_str(src, &e);
	struct sotto_buf o = SOTTO_BUF_INIT;
	struct sotto_emit_opts opt = { -1 };

	(void)state;
	assert_non_null(d);
	assert_int_equal(sotto_store_yaml.emit(&o, d, NULL, &opt, &e),
	    SOTTO_OK);
	assert_string_equal((char *)o.data, want);
	sotto_buf_release(&o);
	assert_int_equal(sotto_store_yaml.emit_value(&o,
	    sotto_tree_map_get(d->branches[0], "b"), &opt, &e), SOTTO_OK);
	assert_string_equal((char *)o.data, "123");
	sotto_buf_release(&o);
	assert_int_equal(sotto_store_yaml.emit_value(&o,
	    sotto_tree_map_get(d->branches[0], "a"), &opt, &e), SOTTO_OK);
	assert_string_equal((char *)o.data, "1\n");
	sotto_buf_release(&o);
	sotto_tree_doc_free(d);
}

/* metadata rendered like sops 3.13 */
static void
test_meta_layout(void **state)
{
	const char *src =
	    "a: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n"
	    "sops:\n"
	    "    age:\n"
	    "        - enc: |\n"
	    "            -----BEGIN AGE ENCRYPTED FILE-----\n"
	    "            abc\n"
	    "            -----END AGE ENCRYPTED FILE-----\n"
	    "          recipient: age1xyz\n"
	    "    lastmodified: \"2024-01-02T03:04:05Z\"\n"
	    "    mac: ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]\n"
	    "    unencrypted_suffix: _unencrypted\n"
	    "    version: 3.13.1\n";
	struct sotto_error e;
	struct sotto_doc *d = parse_str(src, &e);
	struct sotto_buf o = SOTTO_BUF_INIT;
	struct sotto_node *mc;

	(void)state;
	assert_non_null(d);
	assert_non_null(d->meta[0]);
	assert_int_equal(d->branches[0]->n, 1);
	mc = sotto_tree_clone(d->meta[0]);
	mc->dirty = true;
	assert_int_equal(sotto_store_yaml.emit_splice(&o, d, mc, &e),
	    SOTTO_OK);
	assert_string_equal((char *)o.data, src);
	sotto_buf_release(&o);
	/* meta == NULL removes the block */
	assert_int_equal(sotto_store_yaml.emit_splice(&o, d, NULL, &e),
	    SOTTO_OK);
	assert_string_equal((char *)o.data,
	    "a: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n");
	sotto_buf_release(&o);
	sotto_tree_node_free(mc, false);
	sotto_tree_doc_free(d);
}

/* ---- round-trip property ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static int keyno;

static void
add(struct sotto_buf *b, const char *s)
{
	sotto_buf_addstr(b, s);
}

static void
ind(struct sotto_buf *b, int n)
{
	while (n-- > 0)
		add(b, " ");
}

static const char *const words[] = { "hello", "123", "true", "1.5",
	"0x1F", "yes", "h\xc3\xa9llo w\xc3\xb6rld", "a:b", "x#y", "-1e3",
	"ENC[not,really]", "\xe2\x82\xac", "some words here", "~x" };

static void
gen_comment(struct sotto_buf *b, int n)
{
	if (rnd(3) == 0) {
		ind(b, n);
		add(b, rnd(2) ? "# comment " : "#tight");
		add(b, words[rnd(14)]);
		add(b, "\n");
	}
}

static void
gen_inline(struct sotto_buf *b)
{
	if (rnd(4) == 0)
		add(b, "  # inline");
	add(b, "\n");
}

/* a scalar after "key:" or "-"; n = indentation of the owner */
static void
gen_scalar(struct sotto_buf *b, int n)
{
	switch (rnd(8)) {
	case 0:
	case 1: {
		/* not "yes": a plain YAML 1.1 bool decrypts quoted
		 * (documented, and warned about at encryption) */
		const char *w;

		while (strcmp(w = words[rnd(14)], "yes") == 0)
			;
		add(b, " ");
		add(b, w);
		gen_inline(b);
		break;
	}
	case 2:
		add(b, rnd(2) ? " 'it''s'" : " 'a # b'");
		gen_inline(b);
		break;
	case 3:
		add(b, rnd(2) ? " \"q \\\" \\\\ \\t\"" : " \"uni \xc3\xa9 #\"");
		gen_inline(b);
		break;
	case 4:
	case 5: {
		static const char *const hdr[] = { "|", "|-", "|+", "|2",
			"| # c" };
		int k = (int)rnd(5), lines = 1 + (int)rnd(3), i;

		add(b, " ");
		add(b, hdr[k]);
		add(b, "\n");
		for (i = 0; i < lines; i++) {
			ind(b, n + 2);
			if (k == 3 && i == 0)
				add(b, " ");
			add(b, i == 1 ? "# not a comment" : words[rnd(14)]);
			add(b, "\n");
		}
		/* "|+" with a single final newline reads like "|": the
		 * distinction does not survive encryption (documented) */
		if (k == 2 || rnd(2))
			add(b, "\n");
		break;
	}
	case 6:
		if (rnd(2)) {
			/* folded, never wrapped: paragraphs and more-indented
			 * lines only (a wrapped line decrypts unwrapped) */
			int lines = 1 + (int)rnd(4), i;
			bool more, prev = true;

			add(b, rnd(2) ? " >\n" : " >-\n");
			for (i = 0; i < lines; i++) {
				more = i > 0 && rnd(3) == 0;
				if (i > 0 && ((!more && !prev) || rnd(2)))
					add(b, "\n");
				ind(b, n + 2);
				if (more)
					add(b, "  ");
				add(b, words[rnd(14)]);
				add(b, "\n");
				prev = more;
			}
			break;
		}
		/* FALLTHROUGH */
	default:
		add(b, " [\"f1\", \"f2\"]");
		gen_inline(b);
		break;
	}
}

static void gen_map(struct sotto_buf *, int, int);

static void
gen_seq(struct sotto_buf *b, int n, int depth)
{
	int i, k = 1 + (int)rnd(3);

	for (i = 0; i < k; i++) {
		gen_comment(b, n);
		ind(b, n);
		add(b, "-");
		if (depth > 0 && rnd(3) == 0) {
			char kb[32];

			snprintf(kb, sizeof(kb), " k%d:", keyno++);
			add(b, kb);
			gen_scalar(b, n + 2);
			if (rnd(2)) {
				ind(b, n + 2);
				snprintf(kb, sizeof(kb), "k%d:", keyno++);
				add(b, kb);
				gen_scalar(b, n + 2);
			}
		} else
			gen_scalar(b, n);
	}
}

static void
gen_map(struct sotto_buf *b, int n, int depth)
{
	int i, k = 1 + (int)rnd(4);
	char kb[32];

	for (i = 0; i < k; i++) {
		gen_comment(b, n);
		ind(b, n);
		snprintf(kb, sizeof(kb), rnd(4) ? "k%d:" : "'k %d':", keyno++);
		add(b, kb);
		switch (depth > 0 ? rnd(4) : 0) {
		case 1:
			gen_inline(b);
			gen_map(b, n + 2 + 2 * (int)rnd(2), depth - 1);
			break;
		case 2:
			gen_inline(b);
			gen_seq(b, n + 2 * (int)rnd(2), depth - 1);
			break;
		default:
			gen_scalar(b, n);
			break;
		}
	}
	gen_comment(b, n);
}

struct vals {
	char **t;
	size_t *l;
	enum sotto_scalar_type *ty;
	size_t n, cap;
};

static bool
skip_node(const struct sotto_node *v)
{
	return v->kind == SOTTO_NODE_SCALAR &&
	    (v->type == SOTTO_T_NULL || v->len == 0);
}

static void
encrypt_all(struct sotto_node *n, struct vals *vs)
{
	size_t i;

	for (i = 0; i < n->n; i++) {
		struct sotto_node *v = n->items[i].val;

		if (v->kind == SOTTO_NODE_MAP || v->kind == SOTTO_NODE_SEQ) {
			encrypt_all(v, vs);
			continue;
		}
		if (skip_node(v))
			continue;
		if (vs->n == vs->cap) {
			vs->cap = vs->cap ? vs->cap * 2 : 64;
			vs->t = realloc(vs->t, vs->cap * sizeof(char *));
			vs->l = realloc(vs->l, vs->cap * sizeof(size_t));
			vs->ty = realloc(vs->ty, vs->cap * sizeof(*vs->ty));
		}
		vs->t[vs->n] = malloc(v->len + 1);
		memcpy(vs->t[vs->n], v->text, v->len + 1);
		vs->l[vs->n] = v->len;
		vs->ty[vs->n] = v->type;
		vs->n++;
		{
			char enc[4096];
			char hex[2048];

			test_hex(hex, (const uint8_t *)v->text,
			    v->len > 1000 ? 1000 : v->len);
			snprintf(enc, sizeof(enc),
			    "ENC[AES256_GCM,data:%s,iv:aXY=,tag:dGFn,type:%s]",
			    hex, v->kind == SOTTO_NODE_COMMENT ? "comment" :
			    sotto_tree_type_name(v->type));
			assert_int_equal(sotto_tree_set_text(v, SOTTO_T_STR,
			    enc, strlen(enc)), SOTTO_OK);
		}
	}
}

static void
decrypt_all(struct sotto_node *n, struct vals *vs, size_t *k)
{
	size_t i;

	for (i = 0; i < n->n; i++) {
		struct sotto_node *v = n->items[i].val;

		if (v->kind == SOTTO_NODE_MAP || v->kind == SOTTO_NODE_SEQ) {
			decrypt_all(v, vs, k);
			continue;
		}
		if (skip_node(v))
			continue;
		assert_true(*k < vs->n);
		assert_memory_equal(v->text, "ENC[", 4);
		assert_int_equal(sotto_tree_set_text(v, vs->ty[*k],
		    vs->t[*k], vs->l[*k]), SOTTO_OK);
		(*k)++;
	}
}

static void
crlfify(struct sotto_buf *b)
{
	struct sotto_buf c = SOTTO_BUF_INIT;
	size_t i;

	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '\n')
			sotto_buf_addch(&c, '\r');
		sotto_buf_addch(&c, b->data[i]);
	}
	sotto_buf_release(b);
	*b = c;
}

static void
test_roundtrip_property(void **state)
{
	int iter, ok = 0;

	(void)state;
	for (iter = 0; iter < 400; iter++) {
		struct sotto_buf src = SOTTO_BUF_INIT, o1 = SOTTO_BUF_INIT,
		    o2 = SOTTO_BUF_INIT;
		struct sotto_doc *d = NULL, *d2 = NULL;
		struct sotto_error e;
		struct vals vs;
		size_t i, k = 0;
		int docs = 1 + (int)rnd(3), j;

		memset(&vs, 0, sizeof(vs));
		keyno = 0;
		for (j = 0; j < docs; j++) {
			if (j > 0 || rnd(4) == 0)
				add(&src, "---\n");
			gen_map(&src, 0, 3);
		}
		if (rnd(5) == 0)
			crlfify(&src);
		if (sotto_store_yaml.parse(&d, src.data, src.len, "gen.yaml",
		    NULL, &e) != SOTTO_OK)
			fail_msg("generated yaml does not parse: %s\n%s", e.msg,
			    (char *)src.data);
		for (i = 0; i < d->n; i++)
			encrypt_all(d->branches[i], &vs);
		assert_int_equal(sotto_store_yaml.emit_splice(&o1, d, NULL, &e),
		    SOTTO_OK);
		if (sotto_store_yaml.parse(&d2, o1.data, o1.len, "enc.yaml",
		    NULL, &e) != SOTTO_OK)
			fail_msg("spliced yaml does not parse: %s\n%s", e.msg,
			    (char *)o1.data);
		for (i = 0; i < d2->n; i++)
			decrypt_all(d2->branches[i], &vs, &k);
		assert_int_equal(k, vs.n);
		assert_int_equal(sotto_store_yaml.emit_splice(&o2, d2, NULL,
		    &e), SOTTO_OK);
		if (o2.len != src.len || memcmp(o2.data, src.data, src.len))
			fprintf(stderr, "round trip differs:\n--- original\n%s\n"
			    "--- encrypted\n%s\n--- back\n%s", (char *)src.data,
			    (char *)o1.data, (char *)o2.data), fail();
		ok++;
		for (i = 0; i < vs.n; i++)
			free(vs.t[i]);
		free(vs.t);
		free(vs.l);
		free(vs.ty);
		sotto_tree_doc_free(d);
		sotto_tree_doc_free(d2);
		sotto_buf_release(&src);
		sotto_buf_release(&o1);
		sotto_buf_release(&o2);
	}
	assert_int_equal(ok, 400);
}

/* aliases expand; a changed copy is written out in place of its alias */
static void
test_alias(void **state)
{
	const char *src = "base: &b\n  x: 1\nother:\n  <<: *b\n  yy: *b\n";
	struct sotto_error e;
	struct sotto_doc *d = parse_str(src, &e);
	struct sotto_node *o, *y;
	struct sotto_buf out = SOTTO_BUF_INIT;

	(void)state;
	assert_non_null(d);
	o = sotto_tree_map_get(d->branches[0], "other");
	assert_non_null(sotto_tree_map_get(o, "<<"));
	y = sotto_tree_map_get(o, "yy");
	assert_int_equal(y->kind, SOTTO_NODE_MAP);
	assert_string_equal(sotto_tree_map_get(y, "x")->text, "1");
	assert_int_equal(sotto_store_yaml.emit_splice(&out, d, NULL, &e),
	    SOTTO_OK);
	assert_string_equal((char *)out.data, src);
	sotto_buf_release(&out);
	sotto_tree_set_text(sotto_tree_map_get(y, "x"), SOTTO_T_STR, "ENC", 3);
	assert_int_equal(sotto_store_yaml.emit_splice(&out, d, NULL, &e),
	    SOTTO_OK);
	/* only the alias whose copy changed is written out, in the
	 * document's own indentation; the rest stays as it was */
	assert_string_equal((char *)out.data,
	    "base: &b\n  x: 1\nother:\n  <<: *b\n  yy:\n    x: ENC\n");
	sotto_buf_release(&out);
	sotto_tree_doc_free(d);
}

/*
 * An alias bomb of long scalars: few nodes, gigabytes if expanded.  The
 * byte budget stops it at the first level past 64 MiB, before copying.
 */
static void
test_alias_byte_budget(void **state)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_doc *d = NULL;
	struct sotto_error e;
	const char *lv = "abcdefgh";
	size_t i, j;

	(void)state;
	assert_int_equal(sotto_buf_add(&b, "a: &a \"", 7), SOTTO_OK);
	for (i = 0; i < 100000; i++)
		assert_int_equal(sotto_buf_add(&b, "x", 1), SOTTO_OK);
	assert_int_equal(sotto_buf_add(&b, "\"\n", 2), SOTTO_OK);
	for (i = 1; i < 8; i++) {
		char line[64];

		snprintf(line, sizeof(line), "%c: &%c [", lv[i], lv[i]);
		assert_int_equal(sotto_buf_add(&b, line, strlen(line)),
		    SOTTO_OK);
		for (j = 0; j < 10; j++) {
			snprintf(line, sizeof(line), "%s*%c", j ? ", " : "",
			    lv[i - 1]);
			assert_int_equal(sotto_buf_add(&b, line,
			    strlen(line)), SOTTO_OK);
		}
		assert_int_equal(sotto_buf_add(&b, "]\n", 2), SOTTO_OK);
	}
	sotto_error_clear(&e);
	/* b: 1 MB, c: 10 MB, d: 100 MB, refused at the 7th alias of d
	 * (11 MB + 7 * 10 MB > 64 MiB) */
	assert_int_equal(sotto_store_yaml.parse(&d, b.data, b.len, "t.yaml",
	    NULL, &e), SOTTO_E_LIMIT);
	assert_string_equal(e.msg,
	    "'t.yaml' line 4: alias expansion exceeds 67108864 bytes");
	assert_null(d);
	/* what aliases copied is reported for the caller's own budget */
	d = parse_str("a: &a xyz\nb: *a\nc: &m {k: v}\nd: *m\n", &e);
	assert_non_null(d);
	assert_int_equal(d->alias_bytes, sizeof(struct sotto_node) + 3 +
	    2 * sizeof(struct sotto_node) + sizeof(struct sotto_entry) + 1 +
	    1);
	sotto_tree_doc_free(d);
	d = NULL;
	/* the budget is a limit like the others */
	lim.max_alias_bytes = 150000;
	assert_int_equal(sotto_store_yaml.parse(&d, b.data, b.len, "t.yaml",
	    &lim, &e), SOTTO_E_LIMIT);
	assert_string_equal(e.msg,
	    "'t.yaml' line 2: alias expansion exceeds 150000 bytes");
	sotto_buf_release(&b);
}

/*
 * A copy lands at the alias's depth: anchors of 200-deep lists aliased
 * inside each other would nest without bound (and every recursive walk
 * of the tree with them), so the copy is held to max_depth too.
 */
static void
test_alias_depth(void **state)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	struct sotto_doc *d = NULL;
	struct sotto_error e;
	size_t i;

	(void)state;
	assert_int_equal(sotto_buf_add(&b, "a: &a ", 6), SOTTO_OK);
	for (i = 0; i < 200; i++)
		assert_int_equal(sotto_buf_add(&b, "[", 1), SOTTO_OK);
	assert_int_equal(sotto_buf_add(&b, "x", 1), SOTTO_OK);
	for (i = 0; i < 200; i++)
		assert_int_equal(sotto_buf_add(&b, "]", 1), SOTTO_OK);
	/* 50 more levels hold it (250 <= 256) */
	assert_int_equal(sotto_buf_add(&b, "\nb: ", 4), SOTTO_OK);
	for (i = 0; i < 50; i++)
		assert_int_equal(sotto_buf_add(&b, "[", 1), SOTTO_OK);
	assert_int_equal(sotto_buf_add(&b, "*a", 2), SOTTO_OK);
	for (i = 0; i < 50; i++)
		assert_int_equal(sotto_buf_add(&b, "]", 1), SOTTO_OK);
	sotto_error_clear(&e);
	assert_int_equal(sotto_store_yaml.parse(&d, b.data, b.len, "t.yaml",
	    NULL, &e), SOTTO_OK);
	sotto_tree_doc_free(d);
	d = NULL;
	/* 100 more do not */
	assert_int_equal(sotto_buf_add(&b, "\nc:\n  - ", 8), SOTTO_OK);
	for (i = 0; i < 100; i++)
		assert_int_equal(sotto_buf_add(&b, "[", 1), SOTTO_OK);
	assert_int_equal(sotto_buf_add(&b, "*a", 2), SOTTO_OK);
	for (i = 0; i < 100; i++)
		assert_int_equal(sotto_buf_add(&b, "]", 1), SOTTO_OK);
	assert_int_equal(sotto_store_yaml.parse(&d, b.data, b.len, "t.yaml",
	    NULL, &e), SOTTO_E_LIMIT);
	assert_string_equal(e.msg,
	    "'t.yaml' line 4: nesting deeper than 256 levels");
	assert_null(d);
	sotto_buf_release(&b);
}

/*
 * Anchors are found through a hash index: 60,000 anchors each aliased
 * once parse in linear time; a redefined anchor serves the aliases after
 * it (YAML 1.2 §3.2.2.2), across index growth; anchors end with their
 * document.
 */
static void
test_alias_many_anchors(void **state)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	struct sotto_doc *d = NULL;
	struct sotto_error e;
	char line[64], key[16];
	size_t i;

	(void)state;
	for (i = 0; i < 60000; i++) {
		snprintf(line, sizeof(line), "a%zu: &n%zu v%zu\n", i, i, i);
		assert_int_equal(sotto_buf_add(&b, line, strlen(line)),
		    SOTTO_OK);
	}
	/* redefine the first 100 after the index has grown */
	for (i = 0; i < 100; i++) {
		snprintf(line, sizeof(line), "r%zu: &n%zu w%zu\n", i, i, i);
		assert_int_equal(sotto_buf_add(&b, line, strlen(line)),
		    SOTTO_OK);
	}
	for (i = 0; i < 60000; i++) {
		snprintf(line, sizeof(line), "b%zu: *n%zu\n", i, i);
		assert_int_equal(sotto_buf_add(&b, line, strlen(line)),
		    SOTTO_OK);
	}
	sotto_error_clear(&e);
	if (sotto_store_yaml.parse(&d, b.data, b.len, "t.yaml", NULL, &e) !=
	    SOTTO_OK)
		fail_msg("%s", e.msg);
	assert_string_equal(sotto_tree_map_get(d->branches[0], "b0")->text,
	    "w0");
	assert_string_equal(sotto_tree_map_get(d->branches[0], "b99")->text,
	    "w99");
	assert_string_equal(sotto_tree_map_get(d->branches[0], "b100")->text,
	    "v100");
	snprintf(key, sizeof(key), "b%d", 59999);
	assert_string_equal(sotto_tree_map_get(d->branches[0], key)->text,
	    "v59999");
	sotto_tree_doc_free(d);
	sotto_buf_release(&b);
	d = parse_str("a: &x 1\nb: *x\nc: &x [2]\nd: *x\n", &e);
	assert_non_null(d);
	assert_string_equal(sotto_tree_map_get(d->branches[0], "b")->text,
	    "1");
	assert_int_equal(sotto_tree_map_get(d->branches[0], "d")->kind,
	    SOTTO_NODE_SEQ);
	sotto_tree_doc_free(d);
	expect_err("a: &x 1\n---\nb: *x\n", SOTTO_E_YAML,
	    "'t.yaml' line 3: unknown anchor 'x' referenced");
}

/* ---- parse_buf: the doc takes the buffer; ENC values borrow from it ---- */

static void
assert_ref(const struct sotto_node *n, const char *want)
{
	assert_non_null(n);
	assert_true(n->flags & SOTTO_NODE_TEXT_REF);
	assert_int_equal(n->len, strlen(want));
	assert_memory_equal(n->text, want, n->len);
}

static void
test_yaml_parse_buf_borrows_enc_values(void **state)
{
	static const char src[] =
	    "a: ENC[AES256_GCM,data:a1,iv:x,tag:y,type:str]\n"
	    "b: \"ENC[AES256_GCM,data:b1,iv:x,tag:y,type:int]\"\n"
	    "c: \"ENC[AES256_GCM,data:\\tc]\"\n"
	    "l:\n    - ENC[AES256_GCM,data:l1]\n"
	    "ENC[AES256_GCM,key]: v\n"
	    "sops:\n    mac: ENC[AES256_GCM,data:m]\n";
	struct sotto_buf in = SOTTO_BUF_INIT, out = SOTTO_BUF_INIT;
	struct sotto_error e;
	struct sotto_doc *d = NULL;
	struct sotto_node *b, *n, *c;
	const uint8_t *p;

	(void)state;
	sotto_error_clear(&e);
	assert_int_equal(sotto_buf_addstr(&in, src), SOTTO_OK);
	p = in.data;
	assert_int_equal(sotto_store_parse_buf(&sotto_store_yaml, &d, &in,
	    "t.yaml", NULL, &e), SOTTO_OK);
	assert_null(in.data);
	assert_ptr_equal(d->src.data, p);	/* taken, not copied */
	b = d->branches[0];
	assert_ref(sotto_tree_map_get(b, "a"),
	    "ENC[AES256_GCM,data:a1,iv:x,tag:y,type:str]");
	assert_ptr_equal(sotto_tree_map_get(b, "a")->text, p + 3);
	assert_ref(sotto_tree_map_get(b, "b"),
	    "ENC[AES256_GCM,data:b1,iv:x,tag:y,type:int]");
	assert_ref(sotto_tree_map_get(b, "l")->items[0].val,
	    "ENC[AES256_GCM,data:l1]");
	/* an escape means the text is not the source bytes: copied */
	n = sotto_tree_map_get(b, "c");
	assert_false(n->flags & SOTTO_NODE_TEXT_REF);
	assert_string_equal(n->text, "ENC[AES256_GCM,data:\tc]");
	/* metadata values are read as C strings: copied */
	n = sotto_tree_map_get(d->meta[0], "mac");
	assert_false(n->flags & SOTTO_NODE_TEXT_REF);
	assert_string_equal(n->text, "ENC[AES256_GCM,data:m]");
	/* unchanged: the splice is the source without the sops block; a
	 * new text drops the ref */
	assert_int_equal(sotto_store_yaml.emit_splice(&out, d, NULL, &e),
	    SOTTO_OK);
	assert_int_equal(out.len, (size_t)(strstr(src, "sops:") - src));
	assert_memory_equal(out.data, src, out.len);
	sotto_buf_release(&out);
	n = sotto_tree_map_get(b, "a");
	assert_int_equal(sotto_tree_set_text(n, SOTTO_T_STR, "x", 1),
	    SOTTO_OK);
	assert_false(n->flags & SOTTO_NODE_TEXT_REF);
	assert_string_equal(n->text, "x");
	/* a clone owns a NUL-terminated copy */
	c = sotto_tree_clone(sotto_tree_map_get(b, "b"));
	assert_non_null(c);
	assert_false(c->flags & SOTTO_NODE_TEXT_REF);
	assert_string_equal(c->text, "ENC[AES256_GCM,data:b1,iv:x,tag:y,"
	    "type:int]");
	sotto_tree_node_free(c, true);
	/* a branch outliving its doc still reads the borrowed bytes */
	d->branches[0] = NULL;
	sotto_tree_doc_free(d);
	assert_ref(sotto_tree_map_get(b, "b"),
	    "ENC[AES256_GCM,data:b1,iv:x,tag:y,type:int]");
	sotto_tree_node_free(b, true);
}

/* ---- splice: values as sops prints them, structure, notes ---- */

static char *
splice_str(const struct sotto_doc *d, const struct sotto_node *meta)
{
	struct sotto_buf o = SOTTO_BUF_INIT;
	struct sotto_error e;
	char *s;

	assert_int_equal(sotto_store_yaml.emit_splice(&o, d, meta, &e),
	    SOTTO_OK);
	s = strdup(o.data != NULL ? (char *)o.data : "");
	sotto_buf_release(&o);
	return s;
}

static void
set_val(struct sotto_doc *d, const char *key, enum sotto_scalar_type t,
    const char *text)
{
	struct sotto_node *n = sotto_tree_map_get(d->branches[0], key);

	assert_non_null(n);
	assert_int_equal(sotto_tree_set_text(n, t, text, strlen(text)),
	    SOTTO_OK);
}

/* What sops encrypted, as sotto decrypts it into a sops-shaped file. */
static void
test_splice_prints_values_as_sops(void **state)
{
	struct sotto_error e;
	struct sotto_doc *d = parse_str("f: E\ng: E\nh: E\ni: E\nj: E\n"
	    "b: E\nc: E\ns: E\nt: E\nu: E\nv: E\nw: E # c\nx: E\n"
	    "l: [E, E]\ny: E\nk: E\n", &e);
	char *out;

	(void)state;
	assert_non_null(d);
	set_val(d, "f", SOTTO_T_FLOAT, "1234568000");
	set_val(d, "g", SOTTO_T_FLOAT, "1000000000000000000000");
	set_val(d, "h", SOTTO_T_FLOAT, "+Inf");
	set_val(d, "i", SOTTO_T_FLOAT, "1.50");
	set_val(d, "j", SOTTO_T_FLOAT, "0.000001");
	set_val(d, "b", SOTTO_T_BOOL, "True");
	set_val(d, "c", SOTTO_T_BOOL, "TRUE");
	set_val(d, "s", SOTTO_T_STR, "off");
	set_val(d, "t", SOTTO_T_STR, "1:20");
	set_val(d, "u", SOTTO_T_STR, " lead");
	set_val(d, "v", SOTTO_T_STR, "two\nlines\n");
	set_val(d, "w", SOTTO_T_STR, "two\nlines");
	set_val(d, "x", SOTTO_T_TIME, "2024-01-01T00:00:00Z");
	set_val(d, "y", SOTTO_T_STR, "2024-01-01");
	set_val(d, "k", SOTTO_T_INT, "42");
	{
		struct sotto_node *l = sotto_tree_map_get(d->branches[0], "l");

		assert_int_equal(sotto_tree_set_text(l->items[0].val,
		    SOTTO_T_STR, "a b", 3), SOTTO_OK);
		assert_int_equal(sotto_tree_set_text(l->items[1].val,
		    SOTTO_T_STR, "y", 1), SOTTO_OK);
	}
	out = splice_str(d, NULL);
	assert_string_equal(out,
	    "f: 1.234568e+09\ng: 1e+21\nh: .inf\ni: 1.50\nj: 0.000001\n"
	    "b: true\nc: TRUE\ns: \"off\"\nt: \"1:20\"\nu: ' lead'\n"
	    "v: |\n    two\n    lines\nw: \"two\\nlines\" # c\n"
	    "x: 2024-01-01T00:00:00Z\nl: [a b, \"y\"]\ny: \"2024-01-01\"\n"
	    "k: 42\n");
	free(out);
	sotto_tree_doc_free(d);
}

static void
remove_key(struct sotto_node *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->items[i].key != NULL && strcmp(m->items[i].key, key) == 0)
			break;
	assert_true(i < m->n);
	sotto_tree_node_free(m->items[i].val, true);
	free(m->items[i].key);
	memmove(&m->items[i], &m->items[i + 1],
	    (m->n - i - 1) * sizeof(m->items[0]));
	m->n--;
}

static struct sotto_node *
new_str(const char *s)
{
	struct sotto_node *n = sotto_tree_new_scalar(SOTTO_T_STR, s,
	    strlen(s));

	assert_non_null(n);
	n->dirty = true;
	return n;
}

/* unset and set: the lines they do not touch stay as they are */
static void
test_splice_structure(void **state)
{
	const char *src = "# top\na:  1   # c\nb:\n  c: 2\n  d: [1, 2]\n"
	    "  e:\n  - x\n  - z\n# foot of b\nq: last\n";
	struct sotto_error e;
	struct sotto_doc *d = parse_str(src, &e);
	struct sotto_node *b, *m, *seq;
	char *out;

	(void)state;
	assert_non_null(d);
	b = sotto_tree_map_get(d->branches[0], "b");
	remove_key(b, "c");
	out = splice_str(d, NULL);
	assert_string_equal(out, "# top\na:  1   # c\nb:\n  d: [1, 2]\n"
	    "  e:\n  - x\n  - z\n# foot of b\nq: last\n");
	free(out);
	/* a new nested map and a new top-level key, in the file's own
	 * indentation (maps by 2, sequences not indented) */
	m = sotto_tree_new_map();
	seq = sotto_tree_new_seq();
	assert_int_equal(sotto_tree_seq_add(seq, new_str("1")), SOTTO_OK);
	assert_int_equal(sotto_tree_map_add(m, "k", 1, seq), SOTTO_OK);
	assert_int_equal(sotto_tree_map_add(b, "new", 3, m), SOTTO_OK);
	assert_int_equal(sotto_tree_map_add(d->branches[0], "r", 1,
	    new_str("off")), SOTTO_OK);
	out = splice_str(d, NULL);
	assert_string_equal(out, "# top\na:  1   # c\nb:\n  d: [1, 2]\n"
	    "  e:\n  - x\n  - z\n  new:\n    k:\n    - \"1\"\n# foot of b\n"
	    "q: last\nr: \"off\"\n");
	free(out);
	/* a scalar replaced by a map is written where it was */
	m = sotto_tree_new_map();
	assert_int_equal(sotto_tree_map_add(m, "x", 1, new_str("w")),
	    SOTTO_OK);
	{
		struct sotto_node **slot = NULL;
		size_t i;

		for (i = 0; i < d->branches[0]->n; i++)
			if (d->branches[0]->items[i].key != NULL &&
			    strcmp(d->branches[0]->items[i].key, "a") == 0)
				slot = &d->branches[0]->items[i].val;
		assert_non_null(slot);
		sotto_tree_node_free(*slot, true);
		*slot = m;
	}
	out = splice_str(d, NULL);
	assert_string_equal(out, "# top\na:\n  x: w\nb:\n  d: [1, 2]\n"
	    "  e:\n  - x\n  - z\n  new:\n    k:\n    - \"1\"\n# foot of b\n"
	    "q: last\nr: \"off\"\n");
	free(out);
	/* emptied: the entry is written anew, as {} */
	remove_key(sotto_tree_map_get(d->branches[0], "a"), "x");
	out = splice_str(d, NULL);
	assert_string_equal(out, "# top\na: {}\nb:\n  d: [1, 2]\n"
	    "  e:\n  - x\n  - z\n  new:\n    k:\n    - \"1\"\n# foot of b\n"
	    "q: last\nr: \"off\"\n");
	free(out);
	sotto_tree_doc_free(d);
}

/* The sops entry: at the keys' column; a missing final break survives. */
/* A comment left of a sequence belongs to the map around it yet lies
 * between the items: the whole entry still goes (fuzz_yaml found it). */
static void
test_splice_remove_around_comment(void **state)
{
	struct sotto_error e;
	struct sotto_doc *d = parse_str("a: 1\nb:\n  - x\n # c1\n  - y\n"
	    " # c2\nz: 2\n", &e);
	char *out;

	(void)state;
	assert_non_null(d);
	remove_key(d->branches[0], "b");
	out = splice_str(d, NULL);
	assert_string_equal(out, "a: 1\n # c2\nz: 2\n");
	free(out);
	sotto_tree_doc_free(d);
	/* a comment between a key and its value goes with the entry; what
	 * is added after it is not lost with it */
	d = parse_str("a:\n# c\n  k: v\n", &e);
	assert_non_null(d);
	remove_key(d->branches[0], "a");
	assert_int_equal(sotto_tree_map_add(d->branches[0], "q", 1,
	    new_str("w")), SOTTO_OK);
	out = splice_str(d, NULL);
	assert_string_equal(out, "q: w\n");
	free(out);
	sotto_tree_doc_free(d);
}

static void
test_splice_meta_position(void **state)
{
	struct sotto_error e;
	struct sotto_doc *d = parse_str("  a: 1\n  b: 2", &e), *d2;
	struct sotto_node *meta = sotto_tree_new_map();
	char *out;

	(void)state;
	assert_non_null(d);
	assert_int_equal(sotto_tree_map_add(meta, "version", 7,
	    sotto_tree_new_scalar(SOTTO_T_STR, "3.13.2", 6)), SOTTO_OK);
	out = splice_str(d, meta);
	assert_string_equal(out, "  a: 1\n  b: 2\n  sops:\n    version: 3.13.2");
	d2 = parse_str(out, &e);
	assert_non_null(d2);
	free(out);
	out = splice_str(d2, NULL);
	assert_string_equal(out, "  a: 1\n  b: 2");
	free(out);
	sotto_tree_doc_free(d2);
	sotto_tree_doc_free(d);
	sotto_tree_node_free(meta, false);
}

static void
expect_note(const char *src, const char *key, const char *note)
{
	struct sotto_error e;
	struct sotto_doc *d = parse_str(src, &e);
	const char *got;

	if (d == NULL)
		fail_msg("%s: %s", src, e.msg);
	got = sotto_store_roundtrip_note(d,
	    sotto_tree_map_get(d->branches[0], key));
	if (note == NULL && got != NULL)
		fail_msg("%s: unexpected note '%s'", src, got);
	if (note != NULL && (got == NULL || strstr(got, note) == NULL))
		fail_msg("%s: note '%s', want '%s'", src, got ? got : "(none)",
		    note);
	sotto_tree_doc_free(d);
}

static void
test_roundtrip_note(void **state)
{
	(void)state;
	expect_note("k: plain\n", "k", NULL);
	expect_note("k: \"quoted \\\" \\t\"\n", "k", NULL);
	expect_note("k: 'it''s'\n", "k", NULL);
	expect_note("k: [a, 'b c']\n", "k", NULL);
	expect_note("k: 1.50\n", "k", NULL);
	expect_note("k: TRUE\n", "k", NULL);
	expect_note("k: |\n  lit\n", "k", NULL);
	expect_note("k: >\n  one\n\n  two\n", "k", NULL);
	expect_note("k: off\n", "k", "YAML 1.1 reads as a boolean");
	expect_note("k: 1:20\n", "k", "YAML 1.1 reads as a boolean");
	expect_note("k: \"caf\\u00e9\"\n", "k", "has escapes");
	expect_note("k: a\n  b\n", "k", "spans several lines");
	expect_note("k: !!int 5\n", "k", "has a tag");
	expect_note("k: True\n", "k", "spelling go-yaml gives");
	expect_note("k: 1000000000000000000000\n", "k",
	    "spelling go-yaml gives");
	expect_note("k: >\n  one\n  two\n", "k", "folded block");
	expect_note("a: &x v\nk: *x\n", "k", "is under an alias");
	expect_note("k: |\n  no final break", "k", "strip indicator");
	expect_note("k: |-\n  no final break", "k", NULL);
	/* an indentation indicator the text does not need is kept */
	expect_note("k: |2-\n  x\n", "k", NULL);
	{
		struct sotto_error e;
		struct sotto_doc *d = parse_str("k: |2-\n  x\n", &e);
		char *out;

		assert_non_null(d);
		set_val(d, "k", SOTTO_T_STR, "ENC[x]");
		out = splice_str(d, NULL);
		assert_string_equal(out, "k: |2-\n  ENC[x]\n");
		free(out);
		sotto_tree_doc_free(d);
		/* a last line of blanks past the indentation is content */
		d = parse_str("k: |1-\n   le: \n  ", &e);
		assert_non_null(d);
		assert_string_equal(sotto_tree_map_get(d->branches[0],
		    "k")->text, "  le: \n ");
		set_val(d, "k", SOTTO_T_STR, "  le: \n ");
		out = splice_str(d, NULL);
		assert_string_equal(out, "k: |1-\n   le: \n  ");
		free(out);
		sotto_tree_doc_free(d);
	}
	/* a spelling the encrypt layer writes in canonical form is said
	 * there, with the spelling */
	expect_note("k: 0x1F\n", "k", NULL);
	expect_note("k: 2024-01-01\n", "k", NULL);
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_typing),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_comment_vector),
		cmocka_unit_test(test_emit),
		cmocka_unit_test(test_emit_long_keys),
		cmocka_unit_test(test_meta_layout),
		cmocka_unit_test(test_alias),
		cmocka_unit_test(test_alias_byte_budget),
		cmocka_unit_test(test_alias_depth),
		cmocka_unit_test(test_alias_many_anchors),
		cmocka_unit_test(test_roundtrip_property),
		cmocka_unit_test(test_yaml_parse_buf_borrows_enc_values),
		cmocka_unit_test(test_splice_prints_values_as_sops),
		cmocka_unit_test(test_splice_structure),
		cmocka_unit_test(test_splice_remove_around_comment),
		cmocka_unit_test(test_splice_meta_position),
		cmocka_unit_test(test_roundtrip_note),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
