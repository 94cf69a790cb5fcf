/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: spec.postBuild substitution (issue #15), what a tenant
 * controls twice over, the manifests and the variables.  The input is used
 *   - as text for kenv_eval(), strict and not, against a few variables:
 *     an error leaves the output as it was and says why; text without a
 *     '$' comes out as it went in (up to a NUL byte, which ends drone's
 *     scanner);
 *   - as the value of one string of a ConfigMap, and after its first NUL
 *     byte as a variable's value, through ksubst_apply(): it may fail,
 *     but a success is a stream the YAML store reads back, and a string
 *     without "${" or "$$" comes back unchanged.
 * Seeds: tests/fuzz/seeds/fuzz_subst/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kint.h"
#include "sotto/store.h"

static bool
vars(void *arg, const char *name, size_t len, const char **val,
    size_t *vlen)
{
	static const char *const kv[] = { "a", "1", "b", "", "path",
		"/x/y.z", "q", "\"", NULL };
	size_t i;

	(void)arg;
	for (i = 0; kv[i] != NULL; i += 2)
		if (strlen(kv[i]) == len && memcmp(kv[i], name, len) == 0) {
			*val = kv[i + 1];
			*vlen = strlen(kv[i + 1]);
			return true;
		}
	return false;
}

static void
grammar(const uint8_t *data, size_t size, bool strict)
{
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	size_t n;

	sotto_buf_addstr(&out, "=");
	if (kenv_eval(&out, (const char *)data, size, vars, NULL, strict,
	    &e) != SOTTO_OK) {
		if (out.len != 1 || e.msg[0] == '\0')
			abort();
	} else if (memchr(data, '$', size) == NULL) {
		n = strnlen((const char *)data, size);
		if (out.len != n + 1 || memcmp(out.data + 1, data, n) != 0)
			abort();
	}
	sotto_buf_release(&out);
}

static bool
inert(const char *s, size_t n)
{
	const char *p;

	for (p = s; (p = memchr(p, '$', n - (size_t)(p - s))) != NULL &&
	    p + 1 < s + n; p++)
		if (p[1] == '{' || p[1] == '$')
			return false;
	return true;
}

#define PREFIX "post build failed for 'ConfigMap.v1.[noGrp]/f': "

static void
stream(const uint8_t *data, size_t size)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf b = SOTTO_BUF_INIT;
	struct sotto_doc *d = NULL;
	struct ksubst s;
	const char *nul = memchr(data, '\0', size);
	size_t n = nul ? (size_t)(nul - (const char *)data) : size;
	json_t *doc, *back, *orig;
	char *text;

	doc = json_pack("{s:s, s:s, s:{s:s}, s:{s:s%, s:s}}", "apiVersion",
	    "v1", "kind", "ConfigMap", "metadata", "name", "f", "data", "v",
	    (const char *)data, n, "w", "${a}-${b:=d}");
	if (doc == NULL)	/* not UTF-8 */
		return;
	text = json_dumps(doc, 0);
	sotto_buf_addstr(&b, text);
	free(text);
	/* JSON leaves DEL and some other bytes raw, which YAML refuses: the
	 * renderer's stream never holds them, so such an input is skipped */
	if (sotto_store_yaml.parse(&d, b.data, b.len, "f", &lim, &e) !=
	    SOTTO_OK) {
		sotto_buf_release(&b);
		json_decref(doc);
		return;
	}
	/* what the stream holds (YAML folds a raw LS or NEL in quotes) */
	orig = kjson_from_tree(d->branches[0]);
	sotto_tree_doc_free(d);
	d = NULL;
	if (orig == NULL)
		abort();
	ksubst_init(&s);
	s.active = true;
	s.strict = size % 2 == 0;
	ksubst_add(&s, "a", 1, nul ? nul + 1 : "", nul ? size - n - 1 : 0);
	if (ksubst_apply(&b, &s, &e) == SOTTO_OK) {
		if (sotto_store_yaml.parse(&d, b.data, b.len, "f", &lim, &e) !=
		    SOTTO_OK || d->n != 1)
			abort();
		back = kjson_from_tree(d->branches[0]);
		if (back == NULL)
			abort();
		if (inert((const char *)data, n) && !json_equal(json_object_get(
		    json_object_get(back, "data"), "v"), json_object_get(
		    json_object_get(orig, "data"), "v")))
			abort();
		json_decref(back);
		sotto_tree_doc_free(d);
	} else if (strncmp(e.msg, PREFIX, strlen(PREFIX)) != 0) {
		fprintf(stderr, "unexpected error: %s\n", e.msg);
		abort();
	}
	ksubst_free(&s);
	sotto_buf_release(&b);
	json_decref(orig);
	json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	grammar(data, size, false);
	grammar(data, size, true);
	stream(data, size);
	return 0;
}
