/* SPDX-License-Identifier: ISC */
/*
 * Generators: configMapGenerator and secretGenerator as kustomize's
 * builtins build them (env files, then literals, then files; keys sorted;
 * a ConfigMap value that is not UTF-8 goes to binaryData; a Secret's data
 * base64 in lines of 70), with secretGenerator sources decrypted in memory
 * when they hold sops ciphertext (spec in-cluster.md §4.3 step 1), and how
 * kustomize absorbs what they build: a new object, or with behavior merge
 * or replace, the object of that id takes the new data and keeps its name,
 * namespace and history.  Also our SottoSecretGenerator (sops documents,
 * decrypted).  The name hash suffix is added at the end of the build
 * (transform.c), as kustomize does, over the plaintext data.
 */
#include "render/rint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/b64.h"
#include "render/build.h"
#include "sotto/io.h"
#include "sotto/store.h"

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

static bool
valid_utf8(const uint8_t *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		uint8_t c = p[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		k = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 :
		    (c & 0xf8) == 0xf0 ? 3 : 0;
		if (k == 0 || i + k >= n)
			return false;
		for (; k > 0; k--)
			if ((p[++i] & 0xc0) != 0x80)
				return false;
		i++;
	}
	return true;
}

/*
 * kustomize's encodeBase64 (api/internal/generators): an encoding of 70
 * characters or more is cut into lines of 70, each ending in a newline,
 * the last one included.  The hash suffix is computed over this text.
 */
static sotto_err
b64_lines(struct sotto_buf *out, const uint8_t *v, size_t n)
{
	struct sotto_buf raw = SOTTO_BUF_SECRET_INIT;
	sotto_err err = SOTTO_OK;
	size_t i, k;

	if (sotto_b64_encode(&raw, v, n, true) != 0) {
		sotto_buf_release(&raw);
		return SOTTO_E_NOMEM;
	}
	if (raw.len < 70) {
		err = sotto_buf_add(out, raw.data, raw.len);
		sotto_buf_release(&raw);
		return err;
	}
	for (i = 0; i < raw.len && err == SOTTO_OK; i += 70) {
		k = raw.len - i < 70 ? raw.len - i : 70;
		if ((err = sotto_buf_add(out, raw.data + i, k)) == SOTTO_OK)
			err = sotto_buf_addch(out, '\n');
	}
	sotto_buf_release(&raw);
	return err;
}

/* The key, value pairs of one generator, in kustomize's order. */
struct kv {
	struct rstrv keys;
	struct sotto_buf *vals;
	size_t n, cap;
};

static void
kv_free(struct kv *kv)
{
	size_t i;

	for (i = 0; i < kv->n; i++)
		sotto_buf_release(&kv->vals[i]);
	free(kv->vals);
	rsv_free(&kv->keys);
}

static sotto_err
kv_add(struct kv *kv, const char *key, size_t kl, const uint8_t *v, size_t n)
{
	char *k;
	sotto_err err;

	if (kv->n == kv->cap) {
		size_t nc = kv->cap ? kv->cap * 2 : 8;
		struct sotto_buf *nv = realloc(kv->vals, nc * sizeof(*nv));

		if (nv == NULL)
			return SOTTO_E_NOMEM;
		kv->vals = nv;
		kv->cap = nc;
	}
	if ((k = strndup(key, kl)) == NULL)
		return SOTTO_E_NOMEM;
	err = rsv_push(&kv->keys, k);
	free(k);
	if (err != SOTTO_OK)
		return err;
	kv->vals[kv->n] = (struct sotto_buf)SOTTO_BUF_SECRET_INIT;
	if ((err = sotto_buf_add(&kv->vals[kv->n], v, n)) != SOTTO_OK) {
		free(kv->keys.v[--kv->keys.n]);
		return err;
	}
	kv->n++;
	return SOTTO_OK;
}

static sotto_err
read_source(struct sotto_buf *plain, struct rctx *c, const char *dir,
    const char *path, const char *fmtname, bool decrypt,
    struct sotto_error *e)
{
	struct sotto_buf raw = SOTTO_BUF_SECRET_INIT;
	char *abs = NULL;
	sotto_err err;

	if ((err = rc_resolve(&abs, c, dir, path, e)) == SOTTO_OK &&
	    (err = rc_read(&raw, c, abs, e)) == SOTTO_OK)
		err = decrypt ? rc_decrypt_bytes(plain, c, rc_rel(c, abs),
		    fmtname, raw.data, raw.len, e) : sotto_buf_add(plain,
		    raw.data, raw.len);
	sotto_buf_release(&raw);
	free(abs);
	return err;
}

/* kustomize's keyValuesFromLines: lines as bufio.Scanner gives them (a
 * line of 64 KiB or more ends the scan), left-trimmed, `#` comments
 * skipped, KEY=VALUE or KEY alone (an empty value). */
static sotto_err
env_lines(struct kv *kv, const uint8_t *p, size_t n, const char *src,
    struct sotto_error *e)
{
	size_t pos = 0, lineno = 0, end, s, k;

	while (pos < n) {
		for (end = pos; end < n && p[end] != '\n'; end++)
			;
		if (end - pos >= 65536)
			break;
		s = pos;
		k = end;
		if (k > s && p[k - 1] == '\r')
			k--;
		if (!valid_utf8(p + s, k - s))
			return sotto_error_set(e, SOTTO_E_PARSE, "'%s' line "
			    "%zu has invalid utf8 bytes", src, lineno + 1);
		if (lineno == 0 && k - s >= 3 && memcmp(p + s, "\xef\xbb\xbf",
		    3) == 0)
			s += 3;
		while (s < k && (p[s] == ' ' || p[s] == '\t' || p[s] == '\r' ||
		    p[s] == '\v' || p[s] == '\f' || p[s] == '\n'))
			s++;
		lineno++;
		pos = end + 1;
		if (s < k && p[s] != '#') {
			const uint8_t *eq = memchr(p + s, '=', k - s);
			size_t kl = eq ? (size_t)(eq - (p + s)) : k - s;

			if (kv_add(kv, (const char *)p + s, kl, eq ? eq + 1 :
			    (const uint8_t *)"", eq ? (size_t)(p + k - eq - 1) :
			    0) != SOTTO_OK)
				return oom(e);
		}
	}
	return SOTTO_OK;
}

static sotto_err
add_envs(struct kv *kv, struct rctx *c, const char *dir,
    const struct sotto_node *s, bool secret, struct sotto_error *e)
{
	size_t i;
	sotto_err err = SOTTO_OK;

	for (i = 0; s != NULL && i < s->n && err == SOTTO_OK; i++) {
		struct sotto_buf plain = SOTTO_BUF_SECRET_INIT;
		const char *path = rn_value(s->items[i].val);
		const struct sotto_store *st = sotto_store_for_path(path);

		err = read_source(&plain, c, dir, path, st ==
		    &sotto_store_binary ? "x.env" : path, secret, e);
		if (err == SOTTO_OK)
			err = env_lines(kv, plain.data ? plain.data :
			    (const uint8_t *)"", plain.len, path, e);
		sotto_buf_release(&plain);
	}
	return err;
}

static sotto_err
add_literals(struct kv *kv, const struct sotto_node *s, const char *kname,
    struct sotto_error *e)
{
	size_t i, vl;

	for (i = 0; s != NULL && i < s->n; i++) {
		const char *lit = rn_value(s->items[i].val), *eq;

		if ((eq = strchr(lit, '=')) == NULL || eq == lit)
			return sotto_error_set(e, SOTTO_E_PARSE, "'%s': invalid "
			    "literal source '%.100s', expected key=value",
			    kname, lit);
		eq++;
		vl = strlen(eq);
		/* removeQuotes */
		if (vl >= 2 && eq[0] == eq[vl - 1] && (eq[0] == '"' ||
		    eq[0] == '\'')) {
			eq++;
			vl -= 2;
		}
		if (kv_add(kv, lit, (size_t)(strchr(lit, '=') - lit),
		    (const uint8_t *)eq, vl) != SOTTO_OK)
			return oom(e);
	}
	return SOTTO_OK;
}

/* Go's path.Base. */
static const char *
path_base(const char *p, size_t *len)
{
	size_t n = strlen(p);
	const char *s;

	while (n > 1 && p[n - 1] == '/')
		n--;
	if (n == 0) {
		*len = 1;
		return ".";
	}
	for (s = p + n; s > p && s[-1] != '/'; s--)
		;
	*len = (size_t)(p + n - s);
	return s;
}

static sotto_err
add_files(struct kv *kv, struct rctx *c, const char *dir,
    const struct sotto_node *s, bool secret, const char *kname,
    struct sotto_error *e)
{
	size_t i, neq, kl;
	sotto_err err = SOTTO_OK;

	for (i = 0; s != NULL && i < s->n && err == SOTTO_OK; i++) {
		struct sotto_buf plain = SOTTO_BUF_SECRET_INIT;
		const char *spec = rn_value(s->items[i].val), *q, *key, *path;
		char *kdup = NULL;

		for (q = spec, neq = 0; *q != '\0'; q++)
			neq += *q == '=';
		if (neq == 1 && spec[0] == '=')
			return sotto_error_set(e, SOTTO_E_PARSE, "'%s': missing "
			    "key name for file path in source '%.100s'", kname,
			    spec);
		if (neq == 1 && spec[strlen(spec) - 1] == '=')
			return sotto_error_set(e, SOTTO_E_PARSE, "'%s': missing "
			    "file path for key name in source '%.100s'", kname,
			    spec);
		if (neq > 1)
			return sotto_error_set(e, SOTTO_E_PARSE, "'%s': source "
			    "'%.100s' key name or file path contains '='",
			    kname, spec);
		if (neq == 0) {
			key = path_base(spec, &kl);
			path = spec;
		} else {
			key = spec;
			kl = (size_t)(strchr(spec, '=') - spec);
			path = strchr(spec, '=') + 1;
		}
		if ((kdup = strndup(key, kl)) == NULL)
			return oom(e);
		err = read_source(&plain, c, dir, path, kdup, secret, e);
		if (err == SOTTO_OK && kv_add(kv, key, kl, plain.data ?
		    plain.data : (const uint8_t *)"", plain.len) != SOTTO_OK)
			err = oom(e);
		sotto_buf_release(&plain);
		free(kdup);
	}
	return err;
}

static int
idx_cmp(const void *a, const void *b, void *arg)
{
	const struct kv *kv = arg;

	return strcmp(kv->keys.v[*(const size_t *)a],
	    kv->keys.v[*(const size_t *)b]);
}

/* Sorts indices (a small insertion sort keeps it portable). */
static void
sort_idx(size_t *ix, size_t n, const struct kv *kv)
{
	size_t i, j, t;

	for (i = 1; i < n; i++) {
		t = ix[i];
		for (j = i; j > 0 && idx_cmp(&t, &ix[j - 1], (void *)kv) < 0;
		    j--)
			ix[j] = ix[j - 1];
		ix[j] = t;
	}
}

/* LoadMapIntoConfigMapData / LoadMapIntoSecretData. */
static sotto_err
put_data(struct sotto_node *obj, const struct kv *kv, bool secret,
    const char *name, struct sotto_error *e)
{
	size_t *ix, i, j;
	sotto_err err = SOTTO_OK;

	if (secret && rn_ensure_map(obj, "data") == NULL)
		return oom(e);
	if (kv->n == 0)
		return SOTTO_OK;
	if ((ix = calloc(kv->n, sizeof(*ix))) == NULL)
		return oom(e);
	for (i = 0; i < kv->n; i++)
		ix[i] = i;
	sort_idx(ix, kv->n, kv);
	for (i = 1; i < kv->n; i++)
		if (strcmp(kv->keys.v[ix[i]], kv->keys.v[ix[i - 1]]) == 0) {
			err = sotto_error_set(e, SOTTO_E_USAGE, "configmap %s "
			    "illegally repeats the key `%.64s`", name,
			    kv->keys.v[ix[i]]);
			free(ix);
			return err;
		}
	for (j = 0; j < kv->n && err == SOTTO_OK; j++) {
		const struct sotto_buf *v = &kv->vals[ix[j]];
		struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
		bool bin = !secret && !valid_utf8(v->data, v->len);
		struct sotto_node *m = rn_ensure_map(obj, bin ? "binaryData" :
		    "data"), *x;

		if (m == NULL) {
			err = oom(e);
			break;
		}
		err = secret || bin ? b64_lines(&b, v->data, v->len) :
		    sotto_buf_add(&b, v->data, v->len);
		if (err == SOTTO_OK && (x = sotto_tree_new_scalar(SOTTO_T_STR,
		    b.len ? (const char *)b.data : "", b.len)) == NULL)
			err = SOTTO_E_NOMEM;
		if (err == SOTTO_OK)
			err = rn_set(m, kv->keys.v[ix[j]], x);
		sotto_buf_release(&b);
		if (err != SOTTO_OK)
			err = oom(e);
	}
	free(ix);
	return err;
}

static bool
truthy(const struct sotto_node *m, const char *key)
{
	const char *v = rn_str(m, key);

	return v != NULL && strcmp(v, "true") == 0;
}

/* MergeGlobalOptionsIntoLocal: local labels and annotations win; the
 * booleans are ORed. */
static sotto_err
set_meta(struct sotto_node *obj, const char *what, const char *key,
    const struct sotto_node *local, const struct sotto_node *global)
{
	struct sotto_node *m = NULL;
	const struct sotto_node *src[2] = { global, local };
	size_t i, k;

	for (k = 0; k < 2; k++) {
		const struct sotto_node *p = rn_get(src[k], key);

		for (i = 0; p != NULL && i < p->n; i++) {
			if (p->items[i].key == NULL)
				continue;
			if (m == NULL && (m = rn_ensure_path(obj, what)) ==
			    NULL)
				return SOTTO_E_NOMEM;
			if (rn_set_str(m, p->items[i].key,
			    rn_value(p->items[i].val)) != SOTTO_OK)
				return SOTTO_E_NOMEM;
		}
	}
	return SOTTO_OK;
}

/* One configMapGenerator or secretGenerator entry (normalized by
 * kust.c), built into out. */
sotto_err
rg_configmap(struct rlist *out, struct rctx *c, const char *dir,
    const struct sotto_node *g, const struct sotto_node *gopt, bool secret,
    const char *kname, struct sotto_error *e)
{
	const struct sotto_node *opt = rn_get(g, "options");
	const char *name = rn_str(g, "name"), *ns = rn_str(g, "namespace");
	const char *type = rn_str(g, "type"), *beh = rn_str(g, "behavior");
	struct sotto_node *obj = NULL, *md;
	struct kv kv;
	sotto_err err;

	memset(&kv, 0, sizeof(kv));
	if (name == NULL || name[0] == '\0')
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': a configmap "
		    "must have a name", kname);
	if ((err = add_envs(&kv, c, dir, rn_get(g, "envs"), true, e)) !=
	    SOTTO_OK || (err = add_literals(&kv, rn_get(g, "literals"),
	    kname, e)) != SOTTO_OK || (err = add_files(&kv, c, dir,
	    rn_get(g, "files"), true, kname, e)) != SOTTO_OK)
		goto out;
	if ((obj = sotto_tree_new_map()) == NULL ||
	    rn_set_str(obj, "apiVersion", "v1") != SOTTO_OK ||
	    rn_set_str(obj, "kind", secret ? "Secret" : "ConfigMap") !=
	    SOTTO_OK || (md = rn_ensure_map(obj, "metadata")) == NULL ||
	    rn_set_str(md, "name", name) != SOTTO_OK ||
	    (ns != NULL && ns[0] != '\0' && rn_set_str(md, "namespace", ns) !=
	    SOTTO_OK) || (secret && rn_set_str(obj, "type", type && type[0] ?
	    type : "Opaque") != SOTTO_OK)) {
		err = oom(e);
		goto out;
	}
	if ((err = put_data(obj, &kv, secret, name, e)) != SOTTO_OK)
		goto out;
	if (set_meta(obj, "metadata/labels", "labels", opt, gopt) !=
	    SOTTO_OK || set_meta(obj, "metadata/annotations", "annotations",
	    opt, gopt) != SOTTO_OK) {
		err = oom(e);
		goto out;
	}
	if ((truthy(opt, "immutable") || truthy(gopt, "immutable")) &&
	    rn_set(obj, "immutable", sotto_tree_new_scalar(SOTTO_T_BOOL,
	    "true", 4)) != SOTTO_OK) {
		err = oom(e);
		goto out;
	}
	if ((err = rc_charge(c, rn_cost(obj), 1, dir, e)) != SOTTO_OK ||
	    (err = rl_add(out, obj, kname, e)) != SOTTO_OK) {
		obj = NULL;
		goto out;
	}
	obj = NULL;
	out->v[out->n - 1].hash = !(truthy(opt, "disableNameSuffixHash") ||
	    truthy(gopt, "disableNameSuffixHash"));
	out->v[out->n - 1].beh = beh == NULL ? RB_UNSPEC :
	    strcmp(beh, "create") == 0 ? RB_CREATE :
	    strcmp(beh, "merge") == 0 ? RB_MERGE :
	    strcmp(beh, "replace") == 0 ? RB_REPLACE : RB_UNSPEC;
out:
	sotto_tree_node_free(obj, true);
	kv_free(&kv);
	return err;
}

/* ---- absorbing generated objects (resWrangler.appendReplaceOrMerge) ---- */

/* mergeStringMaps(old, new) set as a string map (kyaml's SetLabels and
 * SetAnnotations: sorted string values; an empty map goes). */
static sotto_err
merge_meta(struct sotto_node *dst, const struct sotto_node *old,
    const char *what)
{
	const struct sotto_node *o = rn_path(old, what), *n = rn_path(dst,
	    what);
	struct sotto_node *m = sotto_tree_new_map(), *md;
	const struct sotto_node *src[2] = { o, n };
	size_t i, k;

	if (m == NULL)
		return SOTTO_E_NOMEM;
	for (k = 0; k < 2; k++)
		for (i = 0; src[k] != NULL && src[k]->kind == SOTTO_NODE_MAP &&
		    i < src[k]->n; i++)
			if (src[k]->items[i].key != NULL &&
			    rn_set_str(m, src[k]->items[i].key,
			    rn_value(src[k]->items[i].val)) != SOTTO_OK) {
				sotto_tree_node_free(m, true);
				return SOTTO_E_NOMEM;
			}
	if ((md = rn_ensure_map(dst, "metadata")) == NULL) {
		sotto_tree_node_free(m, true);
		return SOTTO_E_NOMEM;
	}
	what = strchr(what, '/') + 1;
	if (m->n == 0) {
		sotto_tree_node_free(m, true);
		rn_del(md, what);
		return SOTTO_OK;
	}
	return rn_set(md, what, m);
}

/* MergeDataMapFrom: the old entries the new object does not set. */
static sotto_err
merge_data(struct sotto_node *dst, const struct sotto_node *old,
    const char *what)
{
	const struct sotto_node *o = rn_get(old, what);
	struct sotto_node *d = rn_get(dst, what);
	size_t i;

	if (o == NULL || o->kind != SOTTO_NODE_MAP || o->n == 0)
		return SOTTO_OK;
	if (d == NULL || d->kind != SOTTO_NODE_MAP) {
		if (rn_set(dst, what, sotto_tree_new_map()) != SOTTO_OK)
			return SOTTO_E_NOMEM;
		d = rn_get(dst, what);
	}
	for (i = 0; i < o->n; i++)
		if (o->items[i].key != NULL &&
		    rn_get(d, o->items[i].key) == NULL &&
		    rn_set(d, o->items[i].key,
		    sotto_tree_new_scalar(SOTTO_T_STR,
		    rn_value(o->items[i].val),
		    strlen(rn_value(o->items[i].val)))) != SOTTO_OK)
			return SOTTO_E_NOMEM;
	return SOTTO_OK;
}

/*
 * The generated object g takes the place of old: its labels and
 * annotations over old's, old's name, namespace and history (kustomize's
 * CopyMergeMetaDataFieldsFrom: the build annotations are old's, and a hash
 * suffix only if both wanted one), and for merge old's data keys it does
 * not set.  Takes g's tree.
 */
static sotto_err
take_place(struct robj *old, struct robj *g, bool merge)
{
	const struct sotto_node *oo = rn_get(rn_path(old->n,
	    "metadata/annotations"), "config.kubernetes.io/origin");
	struct sotto_node *md;
	const char *ns = robj_ns(old);
	bool hash = old->hash && g->hash;
	sotto_err err;

	if ((err = merge_meta(g->n, old->n, "metadata/labels")) != SOTTO_OK ||
	    (err = merge_meta(g->n, old->n, "metadata/annotations")) !=
	    SOTTO_OK)
		return err;
	/* a merge keeps the origin of the object merged into */
	if (merge && oo != NULL && rn_set_str(rn_ensure_path(g->n,
	    "metadata/annotations"), "config.kubernetes.io/origin",
	    rn_value(oo)) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	if ((md = rn_ensure_map(g->n, "metadata")) == NULL ||
	    rn_set_str(md, "name", robj_name(old)) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	if (ns != NULL && ns[0] != '\0') {
		if (rn_set_str(md, "namespace", ns) != SOTTO_OK)
			return SOTTO_E_NOMEM;
	} else {
		rn_del(md, "namespace");
	}
	if (merge && ((err = merge_data(g->n, old->n, "data")) != SOTTO_OK ||
	    (err = merge_data(g->n, old->n, "binaryData")) != SOTTO_OK))
		return err;
	if ((err = robj_copy_meta(g, old)) != SOTTO_OK)
		return err;
	g->hash = hash;
	sotto_tree_node_free(old->n, true);
	old->n = g->n;
	g->n = NULL;
	old->hash = g->hash;
	return SOTTO_OK;
}

sotto_err
rg_absorb(struct rlist *l, struct rctx *c, struct rlist *gen,
    const char *kname, struct sotto_error *e)
{
	size_t i, j, hits, at = 0;
	struct rid id;
	char ids[512];
	sotto_err err;

	for (i = 0; i < gen->n; i++) {
		struct robj *g = &gen->v[i];

		/* the id check scans the objects: charged like a patch
		 * matched against each */
		if ((err = rc_charge(c, l->n * RN_NODE_COST, 0, kname, e)) !=
		    SOTTO_OK)
			return err;
		robj_curid(g, &id);
		rid_string(ids, sizeof(ids), &id);
		for (j = hits = 0; j < l->n; j++)
			if (robj_any_id_equal(c, &l->v[j], &id)) {
				hits++;
				at = j;
			}
		if (hits > 1)
			return sotto_error_set(e, SOTTO_E_USAGE, "'%s': found "
			    "multiple objects that could accept merge of %s",
			    kname, ids);
		if (hits == 0) {
			if (g->beh == RB_MERGE || g->beh == RB_REPLACE)
				return sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
				    "id %s does not exist; cannot merge or "
				    "replace", kname, ids);
			if ((err = rl_add(l, g->n, g->origin, e)) != SOTTO_OK) {
				g->n = NULL;
				return err;
			}
			g->n = NULL;
			if ((err = robj_copy_meta(&l->v[l->n - 1], g)) !=
			    SOTTO_OK)
				return oom(e);
			continue;
		}
		if (g->beh != RB_MERGE && g->beh != RB_REPLACE)
			return sotto_error_set(e, SOTTO_E_USAGE, "'%s': id %s "
			    "exists; behavior must be merge or replace", kname,
			    ids);
		if ((err = rc_charge(c, rn_cost(g->n), 0, kname, e)) !=
		    SOTTO_OK)
			return err;
		if (take_place(&l->v[at], g, g->beh == RB_MERGE) != SOTTO_OK)
			return oom(e);
	}
	return SOTTO_OK;
}

/* ---- SottoSecretGenerator ---- */

/* SottoSecretGenerator: apiVersion sotto.dev/v1, files: [paths]. */
sotto_err
rg_sotto_generator(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *cfg, const char *cfgname, struct sotto_error *e)
{
	const char *av = rn_str(cfg, "apiVersion"), *k = rn_str(cfg, "kind");
	const struct sotto_node *files = rn_get(cfg, "files");
	char *abs = NULL;
	size_t i;
	sotto_err err;

	if (av == NULL || k == NULL || strcmp(av, "sotto.dev/v1") != 0 ||
	    strcmp(k, "SottoSecretGenerator") != 0)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': expected "
		    "apiVersion sotto.dev/v1, kind SottoSecretGenerator",
		    cfgname);
	for (i = 0; i < cfg->n; i++)
		if (cfg->items[i].key != NULL &&
		    strcmp(cfg->items[i].key, "apiVersion") != 0 &&
		    strcmp(cfg->items[i].key, "kind") != 0 &&
		    strcmp(cfg->items[i].key, "metadata") != 0 &&
		    strcmp(cfg->items[i].key, "files") != 0)
			return sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
			    "unsupported SottoSecretGenerator field '%.64s'",
			    cfgname, cfg->items[i].key);
	if (files == NULL || files->kind != SOTTO_NODE_SEQ)
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': 'files' must "
		    "be a list", cfgname);
	for (i = 0; i < files->n; i++) {
		if (!rn_is_scalar(files->items[i].val))
			return sotto_error_set(e, SOTTO_E_PARSE, "'%s': file "
			    "%zu must be a string", cfgname, i);
		if ((err = rc_resolve(&abs, c, dir, files->items[i].val->text,
		    e)) != SOTTO_OK)
			return sotto_error_prefix(e, "'%s'", cfgname);
		err = rc_load_file(l, c, abs, e);
		free(abs);
		if (err != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}
