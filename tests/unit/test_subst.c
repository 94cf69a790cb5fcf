/* SPDX-License-Identifier: ISC */
/*
 * spec.postBuild (subst.c, envsubst.c).  The grammar table holds the cases
 * of github.com/fluxcd/pkg/envsubst's eval_test.go and funcs_test.go (from
 * tldp.org's parameter-substitution page, via drone/envsubst) with the
 * outputs those tests expect, then cases read off drone's scanner and
 * parser for the quirks Flux users meet.  The stream tests follow
 * kustomize-controller's kustomization_varsub_test.go and
 * kustomize_varsub_test.go: what Flux applies for the same input.
 */
#include "testutil.h"

#include "kube/kint.h"
#include "sotto/store.h"

struct kv {
	const char *k, *v;
};

struct vars {
	const struct kv *v;
};

static bool
table_lookup(void *arg, const char *name, size_t len, const char **val,
    size_t *vlen)
{
	const struct vars *t = arg;
	size_t i;

	for (i = 0; t->v != NULL && t->v[i].k != NULL; i++)
		if (strlen(t->v[i].k) == len && memcmp(t->v[i].k, name, len) ==
		    0) {
			*val = t->v[i].v;
			*vlen = strlen(t->v[i].v);
			return true;
		}
	return false;
}

struct gcase {
	struct kv vars[4];	/* ends at k == NULL */
	const char *in;
	const char *out;	/* NULL: an error */
	const char *err;	/* its text */
	bool strict;
};

#define V1(a, b) { { a, b }, { NULL, NULL } }
#define V0 { { NULL, NULL } }

static const struct gcase grammar[] = {
	/* eval_test.go TestExpand */
	{ V0, "abcdEFGH28ij", "abcdEFGH28ij", NULL, false },
	{ V1("var01", "abcdEFGH28ij"), "${#var01}", "12", NULL, false },
	{ V1("var01", "abcdEFGH28ij"), "${var01^}", "AbcdEFGH28ij", NULL,
	    false },
	{ V1("var01", "abcdEFGH28ij"), "${var01^^}", "ABCDEFGH28IJ", NULL,
	    false },
	{ V1("var01", "ABCDEFGH28IJ"), "${var01,}", "aBCDEFGH28IJ", NULL,
	    false },
	{ V1("var01", "ABCDEFGH28IJ"), "${var01,,}", "abcdefgh28ij", NULL,
	    false },
	{ V1("path_name", "/home/bozo/ideas/thoughts.for.today"),
	    "${path_name:11}", "ideas/thoughts.for.today", NULL, false },
	{ V1("path_name", "/home/bozo/ideas/thoughts.for.today"),
	    "${path_name:11:5}", "ideas", NULL, false },
	{ V1("var", "abc"), "${var=xyz}", "abc", NULL, false },
	{ V0, "${var=xyz}", "xyz", NULL, false },
	{ V1("default_var", "foo"), "something ${var=${default_var}}",
	    "something foo", NULL, false },
	{ V1("default_var", "foo1"), "foo: ${var=${default_var}-suffix}",
	    "foo: foo1-suffix", NULL, false },
	{ V1("default_var", "foo1"), "foo: ${var=prefix${default_var}-suffix}",
	    "foo: prefixfoo1-suffix", NULL, false },
	{ V0, "${var:=xyz}", "xyz", NULL, false },
	{ V1("stringZ", "abcABC123ABCabc"), "${stringZ/%abc/XYZ}",
	    "abcABC123ABCXYZ", NULL, false },
	{ V1("stringZ", "abcABC123ABCabc"), "${stringZ/#abc/XYZ}",
	    "XYZABC123ABCabc", NULL, false },
	{ V1("stringZ", "abcABC123ABCabc"), "${stringZ//abc/xyz}",
	    "xyzABC123ABCxyz", NULL, false },
	{ V1("stringZ", "abcABC123ABCabc"), "${stringZ/abc/xyz}",
	    "xyzABC123ABCabc", NULL, false },
	{ V1("filename", "bash.string.txt"), "${filename#*.}", "string.txt",
	    NULL, false },
	{ V1("filename", "path/to/file"), "${filename#*/}", "to/file", NULL,
	    false },
	{ V1("filename", "/path/to/file"), "${filename#*/}", "path/to/file",
	    NULL, false },
	{ V1("filename", "bash.string.txt"), "${filename##*.}", "txt", NULL,
	    false },
	{ V1("filename", "path/to/file"), "${filename##*/}", "file", NULL,
	    false },
	{ V1("filename", "/path/to/file"), "${filename##*/}", "file", NULL,
	    false },
	{ V1("filename", "bash.string.txt"), "${filename%.*}", "bash.string",
	    NULL, false },
	{ V1("filename", "bash.string.txt"), "${filename%%.*}", "bash", NULL,
	    false },
	{ V1("var01", "abcdEFGH28ij"), "${var=${var01^^}}", "ABCDEFGH28IJ",
	    NULL, false },
	{ V1("var01", "abcdEFGH28ij"), "$${var01}", "${var01}", NULL, false },
	{ V1("var01", "abcdEFGH28ij"),
	    "some text ${var01}$${var$${var01}$var01${var01}",
	    "some text abcdEFGH28ij${var${var01}$var01abcdEFGH28ij", NULL,
	    false },
	{ V1("default_var", "foo"), "something $${var=${default_var}}",
	    "something ${var=foo}", NULL, false },
	{ V1("stringZ", "foo/bar"), "${stringZ/\\//-}", "foo-bar", NULL,
	    false },
	{ V1("stringZ", "foo/bar/baz"), "${stringZ//\\//-}", "foo-bar-baz",
	    NULL, false },
	{ V1("default_var", "foo"), "\\\\something ${var=${default_var}}",
	    "\\\\something foo", NULL, false },
	{ V1("stringZ", "foo.bar"), "${stringZ/./}", "foobar", NULL, false },
	/* eval_test.go TestExpandStrict */
	{ V0, "abcdEFGH28ij", "abcdEFGH28ij", NULL, true },
	{ V1("foo", "bar"), "${foo}", "bar", NULL, true },
	{ V1("foo", ""), "${foo}", "", NULL, true },
	{ V0, "${missing}", NULL, "variable not set (strict mode): "
	    "\"missing\"", true },
	{ V1("foo", "bar"), "${missing:=default}", "default", NULL, true },
	{ V0, "${#missing}", NULL, "variable not set (strict mode): "
	    "\"missing\"", true },
	{ V0, "${missing^}", NULL, "variable not set (strict mode): "
	    "\"missing\"", true },
	{ V0, "${missing^^}", NULL, "variable not set (strict mode): "
	    "\"missing\"", true },
	{ V0, "${missing,}", NULL, "variable not set (strict mode): "
	    "\"missing\"", true },
	{ V0, "${missing,,}", NULL, "variable not set (strict mode): "
	    "\"missing\"", true },
	{ V0, "${missing:0}", NULL, "variable not set (strict mode): "
	    "\"missing\"", true },
	{ V0, "${missing:0:10}", NULL, "variable not set (strict mode): "
	    "\"missing\"", true },
	{ V0, "${missing/pattern/replacement}", NULL, "variable not set "
	    "(strict mode): \"missing\"", true },
	{ V0, "${missing//pattern/replacement}", NULL, "variable not set "
	    "(strict mode): \"missing\"", true },
	{ V0, "${missing/#pattern/replacement}", NULL, "variable not set "
	    "(strict mode): \"missing\"", true },
	{ V0, "${missing/%pattern/replacement}", NULL, "variable not set "
	    "(strict mode): \"missing\"", true },
	{ V0, "${missing#pattern}", NULL, "variable not set (strict mode): "
	    "\"missing\"", true },
	{ V0, "${missing##pattern}", NULL, "variable not set (strict mode): "
	    "\"missing\"", true },
	{ V0, "${missing%pattern}", NULL, "variable not set (strict mode): "
	    "\"missing\"", true },
	{ V0, "${missing%%pattern}", NULL, "variable not set (strict mode): "
	    "\"missing\"", true },
	{ V0, "${missing:-fallback}", "fallback", NULL, true },
	{ V0, "${missing:=assigned}", "assigned", NULL, true },
	{ V0, "${missing=assigned}", "assigned", NULL, true },
	/* funcs_test.go */
	{ V1("v", "123456789123456789"), "${v:0:8}", "12345678", NULL, false },
	{ V1("v", "123456789123456789"), "${v:1:8}", "23456789", NULL, false },
	{ V1("v", "123456789123456789"), "${v:9}", "123456789", NULL, false },
	{ V1("v", "123456789123456789"), "${v:9:50}", "123456789", NULL,
	    false },
	{ V1("v", "12345678"), "${v:9:1}", "", NULL, false },
	{ V1("v", "Hello World"), "${#v}", "11", NULL, false },
	{ V1("v", ""), "${v^}${v,}", "", NULL, false },
	{ V0, "${v:=Hola Mundo}", "Hola Mundo", NULL, false },
	/* drone's parser, read as it is */
	{ V0, "${var-default}", NULL, "missing closing brace", false },
	{ V0, "${var+alt}", NULL, "missing closing brace", false },
	{ V1("var", "set"), "${var:+alt}", "set", NULL, false },
	{ V0, "${var:+alt}", "alt", NULL, true },
	{ V0, "${var:?msg}", "msg", NULL, true },
	{ V0, "${}", NULL, "unable to parse variable name", false },
	{ V0, "${", NULL, "unable to parse variable name", false },
	{ V0, "${ x}", NULL, "unable to parse variable name", false },
	{ V0, "${x", NULL, "missing closing brace", false },
	{ V0, "${x y}", NULL, "missing closing brace", false },
	{ V0, "${x:=abc", NULL, "unable to parse substitution within "
	    "function", false },
	{ V0, "${#}", NULL, "bad substitution", false },
	{ V0, "${x:}", NULL, "unable to parse substitution within function",
	    false },
	{ V0, "${x#}", NULL, "unable to parse substitution within function",
	    false },
	{ V1("x", "abc"), "${x:1:}", NULL, "unable to parse substitution "
	    "within function", false },
	{ V1("x", "abcdef"), "${x:-2}", "abcdef", NULL, false },
	{ V1("x", "abcdef"), "${x: -2}", "abcdef", NULL, false },
	{ { { "x", "abcdef" }, { "n", "-3" }, { NULL, NULL } },
	    "${x:${n}:2}", "de", NULL, false },
	{ { { "x", "abcdef" }, { "n", "-300" }, { NULL, NULL } },
	    "${x:${n}:2}", "ab", NULL, false },
	{ V1("x", "abcdef"), "${x:-3:2}", "abcdef", NULL, false },
	{ V1("x", "abcdef"), "${x:a}", "abcdef", NULL, false },
	{ V1("x", "abcdef"), "${x:1:b}", "abcdef", NULL, false },
	{ V1("x", "abcdef"), "${x:2:-1}", NULL, "negative substring length",
	    false },
	{ V1("x", "abcdef"), "${x:1::2}", "bc", NULL, false },
	{ V1("x", "aXbXc"), "${x//X}", NULL, "bad substitution", false },
	{ V1("x", "aXbXc"), "${x/X}", NULL, "bad substitution", false },
	{ V1("x", "abc"), "${x/#a/}", "abc", NULL, false },
	{ V1("x", "aXbXc"), "${x//X/}", "abc", NULL, false },
	{ V1("x", "abc"), "${x//${e}/-}", "-a-b-c-", NULL, false },
	{ V1("x", "abc"), "${x/${e}/-}", "-abc", NULL, false },
	{ V1("x", "abc"), "${x,^}", "abc", NULL, false },
	{ V1("x", "abc"), "${x:=${y:=${z:=deep}}}", "abc", NULL, false },
	{ V0, "${x:=${y:=${z:=deep}}}", "deep", NULL, false },
	{ V0, "${x:=${y}}", NULL, "variable not set (strict mode): \"y\"",
	    true },
	{ V1("x", "a.b.c"), "${x%.*}|${x%%.*}|${x#*.}|${x##*.}",
	    "a.b|a|b.c|c", NULL, false },
	{ V1("x", "abc"), "${x#[}", "abc", NULL, false },
	{ V1("x", "abc"), "${x#[a-b]}", "bc", NULL, false },
	{ V1("x", "abc"), "${x#[^a]}", "abc", NULL, false },
	{ V1("x", "abc"), "${x#?}", "bc", NULL, false },
	{ V1("x", "abc"), "${x%\\c}", "abc", NULL, false },
	{ V1("x", "abc"), "${x#\\a}", "bc", NULL, false },
	{ V1("x", "caf\xc3\xa9"), "${x%?}|${#x}",
	    "caf\xef\xbf\xbd|5", NULL, false },
	{ V1("x", "caf\xc3\xa9"), "${x^^}", "CAF\xc3\x89", NULL, false },
	{ V0, "$$$$ $x $ {x} $", "$$ $x $ {x} $", NULL, true },
	{ V0, "a\\$${x}", "a\\${x}", NULL, true },
	{ V1("x", "v"), "a${x}\0${x}", "av", NULL, false },
	{ V1("x", "v"), "${x}é${x}", "vév", NULL, false },
	{ V1("x", "v"), "${x:\xc3\xa9}", NULL, "bad substitution", false },
};

static void
test_grammar_table(void **state)
{
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e;
	struct vars t;
	size_t i, len;
	sotto_err rc;

	(void)state;
	for (i = 0; i < sizeof(grammar) / sizeof(grammar[0]); i++) {
		const struct gcase *c = &grammar[i];

		t.v = c->vars;
		sotto_error_clear(&e);
		len = strlen(c->in);
		if (strcmp(c->in, "a${x}") == 0)
			len = 10;	/* the case with a NUL byte */
		sotto_buf_addstr(&out, "<");
		rc = kenv_eval(&out, c->in, len, table_lookup, &t, c->strict,
		    &e);
		if (c->out == NULL) {
			if (rc == SOTTO_OK || strcmp(e.msg, c->err) != 0 ||
			    strcmp((char *)out.data, "<") != 0)
				fail_msg("case %zu '%s': want error '%s', got "
				    "%d '%s' '%s'", i, c->in, c->err, rc,
				    e.msg, (char *)out.data);
		} else if (rc != SOTTO_OK || strcmp((char *)out.data + 1,
		    c->out) != 0) {
			fail_msg("case %zu '%s': want '%s', got %d '%s' '%s'",
			    i, c->in, c->out, rc, out.data ? (char *)out.data :
			    "", e.msg);
		}
		sotto_buf_release(&out);
	}
}

static void
test_grammar_nesting_bounded(void **state)
{
	struct sotto_buf in = SOTTO_BUF_INIT, out = SOTTO_BUF_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct vars t = { NULL };
	int i;

	(void)state;
	for (i = 0; i < 64; i++)
		sotto_buf_addstr(&in, "${a:=");
	sotto_buf_addstr(&in, "x");
	for (i = 0; i < 64; i++)
		sotto_buf_addstr(&in, "}");
	assert_int_equal(kenv_eval(&out, (char *)in.data, in.len,
	    table_lookup, &t, true, &e), SOTTO_OK);
	assert_string_equal((char *)out.data, "x");
	sotto_buf_release(&out);
	sotto_buf_release(&in);
	for (i = 0; i < 65; i++)
		sotto_buf_addstr(&in, "${a:=");
	assert_int_equal(kenv_eval(&out, (char *)in.data, in.len,
	    table_lookup, &t, true, &e), SOTTO_E_CONFIG);
	assert_string_equal(e.msg, "substitutions nested deeper than 64 "
	    "levels");
	assert_int_equal(out.len, 0);
	sotto_buf_release(&in);
}

static void
test_grammar_output_bounded(void **state)
{
	static char big[1 << 20];
	struct kv kv[] = { { "x", big }, { NULL, NULL } };
	struct vars t = { kv };
	struct sotto_buf in = SOTTO_BUF_INIT, out = SOTTO_BUF_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	int i;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	for (i = 0; i < 65; i++)
		sotto_buf_addstr(&in, "${x}");
	assert_int_equal(kenv_eval(&out, (char *)in.data, in.len,
	    table_lookup, &t, true, &e), SOTTO_E_LIMIT);
	assert_string_equal(e.msg, "the substituted output would exceed 64 "
	    "MiB");
	assert_int_equal(out.len, 0);
	/* an empty pattern replaced everywhere grows fast: bounded too */
	sotto_buf_release(&in);
	sotto_buf_addstr(&in, "${x//${e}/${x}}");
	assert_int_equal(kenv_eval(&out, (char *)in.data, in.len,
	    table_lookup, &t, false, &e), SOTTO_E_LIMIT);
	sotto_buf_release(&in);
	sotto_buf_release(&out);
}

/* ---- the stream --------------------------------------------------------- */

static const char *
run(struct ksubst *s, const char *yaml, struct sotto_error *e,
    sotto_err want)
{
	static struct sotto_buf b = SOTTO_BUF_INIT;

	sotto_buf_release(&b);
	sotto_buf_addstr(&b, yaml);
	sotto_error_clear(e);
	assert_int_equal(ksubst_apply(&b, s, e), want);
	return (const char *)b.data;
}

static void
vars(struct ksubst *s, const struct kv *kv)
{
	ksubst_free(s);
	ksubst_init(s);
	s->active = true;
	for (; kv != NULL && kv->k != NULL; kv++)
		assert_int_equal(ksubst_add(s, kv->k, strlen(kv->k), kv->v,
		    strlen(kv->v)), SOTTO_OK);
}

/* The JSON kset_build would make of the stream's document i. */
static json_t *
doc_json(const char *yaml, size_t i)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_doc *d = NULL;
	json_t *j;

	assert_int_equal(sotto_store_yaml.parse(&d, (const uint8_t *)yaml,
	    strlen(yaml), "t", &lim, &e), SOTTO_OK);
	assert_true(i < d->n);
	j = kjson_from_tree(d->branches[i]);
	sotto_tree_doc_free(d);
	return j;
}

static void
assert_doc(const char *yaml, size_t i, const char *want_json)
{
	json_t *got = doc_json(yaml, i), *want = json_loads(want_json, 0,
	    NULL);
	const char *k;
	json_t *v;
	char *g;

	assert_non_null(want);
	if (!json_equal(got, want)) {
		/* name the first member of data that differs */
		json_object_foreach(json_object_get(want, "data"), k, v)
			if (!json_equal(v, json_object_get(json_object_get(got,
			    "data"), k)))
				fail_msg("document %zu: data.%s differs", i, k);
		g = json_dumps(got, JSON_SORT_KEYS);
		fail_msg("document %zu: got %s want %s", i, g, want_json);
	}
	json_decref(got);
	json_decref(want);
}

static const char sa[] =
    "apiVersion: v1\n"
    "kind: ServiceAccount\n"
    "metadata:\n"
    "  name: app\n"
    "  labels:\n"
    "    environment: ${env:=dev}\n"
    "    region: \"${_Region}\"\n"
    "    zone: \"${zone}\"\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Secret\n"
    "metadata:\n"
    "  name: app\n"
    "stringData:\n"
    "  zone: ${zone}\n";

/* kustomization_varsub_test.go TestKustomizationReconciler_Varsub */
static void
test_apply_varsub(void **state)
{
	static const struct kv kv[] = { { "zone", "\naz-1a\n" },
		{ "zone", "\naz-1b\n" }, { "_Region", "eu-central-1" },
		{ NULL, NULL } };
	struct ksubst s;
	struct sotto_error e;
	const char *r;

	(void)state;
	ksubst_init(&s);
	vars(&s, kv);
	r = run(&s, sa, &e, SOTTO_OK);
	assert_doc(r, 0, "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\","
	    "\"metadata\":{\"name\":\"app\",\"labels\":{\"environment\":"
	    "\"dev\",\"region\":\"eu-central-1\",\"zone\":\"az-1b\"}}}");
	assert_doc(r, 1, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
	    "\"metadata\":{\"name\":\"app\"},\"stringData\":{\"zone\":"
	    "\"az-1b\"}}");
	ksubst_free(&s);
}

/* TestKustomizationReconciler_VarsubNumberBool */
static void
test_apply_numbers_and_booleans(void **state)
{
	static const struct kv kv[] = { { "q", "\"" },
		{ "numberStr", "!!str 123" }, { "number", "123" },
		{ "booleanStr", "!!str true" }, { "boolean", "true" },
		{ "yes", "yes" }, { "empty", "" }, { NULL, NULL } };
	static const char in[] =
	    "apiVersion: source.toolkit.fluxcd.io/v1\n"
	    "kind: GitRepository\n"
	    "metadata:\n"
	    "  name: x\n"
	    "  labels:\n"
	    "    id: ${numberStr}\n"
	    "    enabled: ${booleanStr}\n"
	    "  annotations:\n"
	    "    id: ${q}${number}${q}\n"
	    "    enabled: ${q}${boolean}${q}\n"
	    "spec:\n"
	    "  interval: ${number}m\n"
	    "  replicas: \"${number}\"\n"
	    "  on: ${boolean}\n"
	    "  v11: ${yes}\n"
	    "  quoted: '${yes}'\n"
	    "  gone: ${empty}\n"
	    "  hex: 0x${number}\n"
	    "---\n"
	    "apiVersion: v1\n"
	    "kind: ConfigMap\n"
	    "metadata:\n"
	    "  name: x\n"
	    "data:\n"
	    "  id: ${q}${number}${q}\n"
	    "  text: |\n"
	    "    This variable is escaped $${var}\n"
	    "\n"
	    "    Lorem ipsum dolor sit amet.\n"
	    "\n"
	    "    \\?\n";
	struct ksubst s;
	struct sotto_error e;
	const char *r;

	(void)state;
	ksubst_init(&s);
	vars(&s, kv);
	r = run(&s, in, &e, SOTTO_OK);
	/* a quoted ${x} is written plain, as Flux's JSONToYAML does, so the
	 * value is typed: quotes do not keep a string a string */
	assert_doc(r, 0, "{\"apiVersion\":\"source.toolkit.fluxcd.io/v1\","
	    "\"kind\":\"GitRepository\",\"metadata\":{\"name\":\"x\","
	    "\"labels\":{\"id\":\"123\",\"enabled\":\"true\"},"
	    "\"annotations\":{\"id\":\"123\",\"enabled\":\"true\"}},"
	    "\"spec\":{\"interval\":\"123m\",\"replicas\":123,\"on\":true,"
	    "\"v11\":true,\"quoted\":true,\"gone\":null,\"hex\":291}}");
	assert_doc(r, 1, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
	    "\"metadata\":{\"name\":\"x\"},\"data\":{\"id\":\"123\",\"text\":"
	    "\"This variable is escaped ${var}\\n\\nLorem ipsum dolor sit "
	    "amet.\\n\\n\\\\?\\n\"}}");
	ksubst_free(&s);
}

static void
test_apply_disabled_and_strategy(void **state)
{
	static const struct kv kv[] = { { "x", "1" }, { NULL, NULL } };
	static const char in[] =
	    "apiVersion: v1\n"
	    "kind: ConfigMap\n"
	    "metadata:\n"
	    "  name: off\n"
	    "  annotations:\n"
	    "    kustomize.toolkit.fluxcd.io/substitute: disabled\n"
	    "data:\n"
	    "  a: ${x} $${y} ${missing}\n"
	    "---\n"
	    "apiVersion: v1\n"
	    "kind: ConfigMap\n"
	    "metadata:\n"
	    "  name: off2\n"
	    "  labels:\n"
	    "    kustomize.toolkit.fluxcd.io/substitute: disabled\n"
	    "data:\n"
	    "  a: ${x}\n";
	static const char dflt[] =
	    "apiVersion: v1\n"
	    "kind: ConfigMap\n"
	    "metadata:\n"
	    "  name: d\n"
	    "data:\n"
	    "  color: ${color:=blue}\n"
	    "  cost: $$5\n";
	struct ksubst s;
	struct sotto_error e;
	const char *r;

	(void)state;
	ksubst_init(&s);
	vars(&s, kv);
	r = run(&s, in, &e, SOTTO_OK);
	assert_string_equal(r, in);	/* nothing changed */
	/* WithVariables and no variable: nothing at all happens, "$$" and
	 * defaults included */
	vars(&s, NULL);
	r = run(&s, dflt, &e, SOTTO_OK);
	assert_string_equal(r, dflt);
	/* Always: defaults apply and "$$" is "$" */
	s.always = true;
	r = run(&s, dflt, &e, SOTTO_OK);
	assert_doc(r, 0, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
	    "\"metadata\":{\"name\":\"d\"},\"data\":{\"color\":\"blue\","
	    "\"cost\":\"$5\"}}");
	/* inactive: not even parsed */
	s.active = false;
	r = run(&s, "not: [yaml", &e, SOTTO_OK);
	assert_string_equal(r, "not: [yaml");
	ksubst_free(&s);
}

static void
test_apply_errors(void **state)
{
	static const struct kv ok[] = { { "x", "1" }, { NULL, NULL } };
	static const struct kv badname[] = { { "app.properties", "1" },
		{ NULL, NULL } };
	static const struct kv colon[] = { { "x", "a: b" }, { NULL, NULL } };
	static const char cm[] =
	    "apiVersion: v1\n"
	    "kind: ConfigMap\n"
	    "metadata:\n"
	    "  name: app\n"
	    "data:\n"
	    "  a: ${x}\n"
	    "  b: ${missing}\n";
	static const char dep[] =
	    "apiVersion: apps/v1\n"
	    "kind: Deployment\n"
	    "metadata:\n"
	    "  name: web\n"
	    "spec:\n"
	    "  a: ${x\n";
	struct ksubst s;
	struct sotto_error e;

	(void)state;
	ksubst_init(&s);
	vars(&s, ok);
	assert_string_equal(run(&s, cm, &e, SOTTO_E_CONFIG), cm);
	assert_string_equal(e.msg, "post build failed for "
	    "'ConfigMap.v1.[noGrp]/app': envsubst error: variable "
	    "substitution failed: variable not set (strict mode): "
	    "\"missing\"");
	s.strict = false;	/* the feature gate off: "" then null */
	assert_doc(run(&s, cm, &e, SOTTO_OK), 0, "{\"apiVersion\":\"v1\","
	    "\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"app\"},"
	    "\"data\":{\"a\":1,\"b\":null}}");
	run(&s, dep, &e, SOTTO_E_CONFIG);
	assert_string_equal(e.msg, "post build failed for "
	    "'Deployment.v1.apps/web': envsubst error: variable "
	    "substitution failed: missing closing brace");
	vars(&s, badname);
	run(&s, cm, &e, SOTTO_E_CONFIG);
	assert_string_equal(e.msg, "post build failed for "
	    "'ConfigMap.v1.[noGrp]/app': envsubst error: 'app.properties' "
	    "var name is invalid, must match "
	    "'^[_[:alpha:]][_[:alpha:][:digit:]]*$'");
	/* a value holding YAML: Flux fails the object; the text stays out
	 * of the message */
	vars(&s, colon);
	s.strict = false;
	run(&s, cm, &e, SOTTO_E_CONFIG);
	assert_string_equal(e.msg, "post build failed for "
	    "'ConfigMap.v1.[noGrp]/app': envsubst error: YAMLToJSON: the "
	    "substituted text is not valid YAML (a value may hold YAML syntax "
	    "such as ': ' or a quote)");
	/* a source that could not be read fails the first object that is
	 * not disabled, and names it */
	vars(&s, ok);
	sotto_error_set(&s.load, SOTTO_E_KUBE_NOTFOUND, "substitute from "
	    "'ConfigMap/vars' error: configmaps \"vars\" not found");
	run(&s, cm, &e, SOTTO_E_KUBE_NOTFOUND);
	assert_string_equal(e.msg, "post build failed for "
	    "'ConfigMap.v1.[noGrp]/app': substitute from 'ConfigMap/vars' "
	    "error: configmaps \"vars\" not found");
	ksubst_free(&s);
}

/* Every string survives the writer and the reader, whatever it holds. */
static void
test_apply_round_trip(void **state)
{
	static const struct kv kv[] = { { "x", "X" }, { NULL, NULL } };
	static const char *const strs[] = { "", " ", "yes", "no", "on", "~",
		"null", "true", "0x1F", "0777", "1e3", "1:20", "2001-12-14",
		"- a", "? a", ": a", "a: b", "a #b", "#a", "'", "\"", "\\",
		"a\nb", "a\n", "a\n\n", "\n", " a\nb", "a \nb", "a\n b",
		"\t$x", "$x\r", "tab\t${x}", "${x}\n", " ${x}", "${x} ",
		"${x}: a", "'${x}'", "\"${x}\"", "a\n${x}\n", "\n${x}",
		"${x}\n\n", "  ${x}\n  b\n", "${x} \nb", "${x}\xe2\x80\xa8z",
		"\xf0\x9f\x98\x80${x}", "\x01${x}", "-${x}", "- ${x}",
		"---${x}", "...${x}", "#${x}", "a #${x}", "[${x}]", "{${x}}",
		"&${x}", "*${x}", "!${x}", "|${x}", ">${x}", "%${x}", "@${x}",
		"`${x}", ",${x}", "?${x}", ":${x}", NULL };
	struct sotto_buf in = SOTTO_BUF_INIT, want = SOTTO_BUF_INIT;
	struct ksubst s;
	struct sotto_error e;
	json_t *doc, *data, *wdoc, *wdata;
	char key[16], *dump;
	const char *r;
	size_t i;

	(void)state;
	ksubst_init(&s);
	vars(&s, kv);
	s.strict = false;
	doc = json_pack("{s:s, s:s, s:{s:s}, s:{}}", "apiVersion", "v1",
	    "kind", "ConfigMap", "metadata", "name", "rt", "data");
	wdoc = json_deep_copy(doc);
	data = json_object_get(doc, "data");
	wdata = json_object_get(wdoc, "data");
	for (i = 0; strs[i] != NULL; i++) {
		char w[64];
		const char *p;
		size_t k = 0;

		snprintf(key, sizeof(key), "k%02zu", i);
		json_object_set_new(data, key, json_string(strs[i]));
		/* "${x}" -> "X" in the expected value */
		for (p = strs[i]; *p != '\0';) {
			if (strncmp(p, "${x}", 4) == 0) {
				w[k++] = 'X';
				p += 4;
			} else {
				w[k++] = *p++;
			}
		}
		w[k] = '\0';
		json_object_set_new(wdata, key, json_string(w));
	}
	/* keys hold ${x} too */
	json_object_set_new(data, "${x}-key", json_string("v"));
	json_object_set_new(wdata, "X-key", json_string("v"));
	json_object_set_new(data, "${x}: k", json_string("v"));
	json_object_set_new(wdata, "X: k", json_string("v"));
	dump = json_dumps(doc, 0);
	sotto_buf_addstr(&in, dump);
	free(dump);
	r = run(&s, (char *)in.data, &e, SOTTO_OK);
	dump = json_dumps(wdoc, 0);
	sotto_buf_addstr(&want, dump);
	free(dump);
	assert_doc(r, 0, (char *)want.data);
	json_decref(doc);
	json_decref(wdoc);
	sotto_buf_release(&in);
	sotto_buf_release(&want);
	ksubst_free(&s);
}

static void
test_vars_last_wins(void **state)
{
	static const struct kv kv[] = { { "b", "1" }, { "a", "2" },
		{ "b", "3\n" }, { "a", "4" }, { "c", "5" }, { NULL, NULL } };
	struct ksubst s;
	struct sotto_error e;

	(void)state;
	ksubst_init(&s);
	vars(&s, kv);
	assert_doc(run(&s, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
	    "  name: x\ndata:\n  v: ${a}${b}${c}\n", &e, SOTTO_OK), 0,
	    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
	    "{\"name\":\"x\"},\"data\":{\"v\":435}}");
	assert_int_equal(s.n, 3);
	ksubst_free(&s);
}

/* many names, each set three times in shuffled order: the last one added
 * wins for every name (qsort is not stable; the order added decides) */
static void
test_vars_many(void **state)
{
	struct ksubst s;
	struct sotto_error e;
	char name[32], val[32];
	size_t i, round;

	(void)state;
	ksubst_init(&s);
	s.active = true;
	for (round = 0; round < 3; round++)
		for (i = 0; i < 20000; i++) {
			size_t k = (i * 7919) % 20000;

			snprintf(name, sizeof(name), "v%zu", k);
			snprintf(val, sizeof(val), "%zu-%zu", k, round);
			assert_int_equal(ksubst_add(&s, name, strlen(name), val,
			    strlen(val)), SOTTO_OK);
		}
	assert_doc(run(&s, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
	    "  name: x\ndata:\n  a: ${v0}\n  b: ${v19999}\n  c: ${v777}\n",
	    &e, SOTTO_OK), 0, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
	    "\"metadata\":{\"name\":\"x\"},\"data\":{\"a\":\"0-2\","
	    "\"b\":\"19999-2\",\"c\":\"777-2\"}}");
	assert_int_equal(s.n, 20000);
	ksubst_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grammar_table),
		cmocka_unit_test(test_grammar_nesting_bounded),
		cmocka_unit_test(test_grammar_output_bounded),
		cmocka_unit_test(test_apply_varsub),
		cmocka_unit_test(test_apply_numbers_and_booleans),
		cmocka_unit_test(test_apply_disabled_and_strategy),
		cmocka_unit_test(test_apply_errors),
		cmocka_unit_test(test_apply_round_trip),
		cmocka_unit_test(test_vars_last_wins),
		cmocka_unit_test(test_vars_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
