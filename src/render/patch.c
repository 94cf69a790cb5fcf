/* SPDX-License-Identifier: ISC */
/*
 * Patches: strategic merge (maps merge, null deletes, `$patch: delete` and
 * `replace`, lists of containers, env, volumes, ports... merged by their
 * merge key as the built-in Kubernetes types declare it) and JSON 6902
 * (add, remove, replace, move, copy, test).  Targets select by group,
 * version, kind, name, namespace (anchored regular expressions, as in
 * kustomize; name and namespace may match the original or the current
 * one) and Kubernetes label and annotation selectors.  A patch without a
 * target names its object by id and never renames it.  A patch file
 * that is a sops document is decrypted in memory first.  Behaviour is
 * checked against `kubectl kustomize` by tests/render/compare.sh.
 */
#include "render/rint.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/build.h"
#include "sotto/store.h"

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

static void
seq_remove(struct sotto_node *seq, size_t i)
{
	sotto_tree_node_free(seq->items[i].val, true);
	memmove(&seq->items[i], &seq->items[i + 1],
	    (seq->n - i - 1) * sizeof(seq->items[0]));
	seq->n--;
}

/* ---- JSON 6902 ---- */

static sotto_err
ptr_parse(char ***segs, size_t *n, const char *p, struct sotto_error *e)
{
	size_t cap = 0, i, j;
	const char *s;

	*segs = NULL;
	*n = 0;
	if (*p == '\0')
		return SOTTO_OK;
	if (*p != '/')
		return sotto_error_set(e, SOTTO_E_PARSE, "json patch path "
		    "'%.80s' must start with '/'", p);
	while (*p == '/') {
		char *seg, **ns;

		p++;
		s = strchr(p, '/');
		j = s ? (size_t)(s - p) : strlen(p);
		if ((seg = malloc(j + 1)) == NULL)
			return oom(e);
		for (i = 0; j > 0 && p < (s ? s : p + j); ) {
			if (p[0] == '~' && p[1] == '1') {
				seg[i++] = '/';
				p += 2;
			} else if (p[0] == '~' && p[1] == '0') {
				seg[i++] = '~';
				p += 2;
			} else {
				seg[i++] = *p++;
			}
			if (s == NULL && *p == '\0')
				break;
		}
		seg[i] = '\0';
		if (*n == cap) {
			ns = realloc(*segs, (cap = cap ? cap * 2 : 8) *
			    sizeof(*ns));
			if (ns == NULL) {
				free(seg);
				return oom(e);
			}
			*segs = ns;
		}
		(*segs)[(*n)++] = seg;
		if (s == NULL)
			break;
		p = s;
	}
	return SOTTO_OK;
}

static void
segs_free(char **s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

static bool
seq_index(const struct sotto_node *seq, const char *s, size_t *idx,
    bool allow_end)
{
	char *end;
	unsigned long v;

	if (strcmp(s, "-") == 0 && allow_end) {
		*idx = seq->n;
		return true;
	}
	if (*s < '0' || *s > '9')
		return false;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > seq->n || (!allow_end && v == seq->n))
		return false;
	*idx = v;
	return true;
}

/* Resolves all but the last segment. */
static struct sotto_node *
ptr_parent(struct sotto_node *root, char **segs, size_t n)
{
	struct sotto_node *cur = root;
	size_t i, idx;

	for (i = 0; cur != NULL && i + 1 < n; i++) {
		if (cur->kind == SOTTO_NODE_MAP)
			cur = rn_get(cur, segs[i]);
		else if (cur->kind == SOTTO_NODE_SEQ &&
		    seq_index(cur, segs[i], &idx, false))
			cur = cur->items[idx].val;
		else
			cur = NULL;
	}
	return cur;
}

static struct sotto_node *
ptr_get(struct sotto_node *root, char **segs, size_t n)
{
	struct sotto_node *par;
	size_t idx;

	if (n == 0)
		return root;
	if ((par = ptr_parent(root, segs, n)) == NULL)
		return NULL;
	if (par->kind == SOTTO_NODE_MAP)
		return rn_get(par, segs[n - 1]);
	if (par->kind == SOTTO_NODE_SEQ && seq_index(par, segs[n - 1], &idx,
	    false))
		return par->items[idx].val;
	return NULL;
}

/* Takes ownership of val. */
static sotto_err
ptr_add(struct sotto_node *root, char **segs, size_t n,
    struct sotto_node *val, bool replace, const char *path,
    struct sotto_error *e)
{
	struct sotto_node *par = n ? ptr_parent(root, segs, n) : NULL;
	size_t idx;

	if (val == NULL)
		return oom(e);
	if (par != NULL && par->kind == SOTTO_NODE_MAP) {
		/* kustomize's json patch lets replace add a missing key
		 * to an existing map */
		return rn_set(par, segs[n - 1], val) == SOTTO_OK ? SOTTO_OK :
		    oom(e);
	}
	if (par != NULL && par->kind == SOTTO_NODE_SEQ &&
	    seq_index(par, segs[n - 1], &idx, !replace)) {
		if (replace) {
			sotto_tree_node_free(par->items[idx].val, true);
			par->items[idx].val = val;
			return SOTTO_OK;
		}
		if (sotto_tree_seq_add(par, val) != SOTTO_OK) {
			sotto_tree_node_free(val, true);
			return oom(e);
		}
		memmove(&par->items[idx + 1], &par->items[idx],
		    (par->n - 1 - idx) * sizeof(par->items[0]));
		par->items[idx].key = NULL;
		par->items[idx].val = val;
		return SOTTO_OK;
	}
	sotto_tree_node_free(val, true);
	return sotto_error_set(e, SOTTO_E_NOTFOUND, "json patch: path "
	    "'%.100s' not found", path);
}

static sotto_err
ptr_remove(struct sotto_node *root, char **segs, size_t n, const char *path,
    struct sotto_error *e)
{
	struct sotto_node *par = n ? ptr_parent(root, segs, n) : NULL;
	size_t idx;

	if (par != NULL && par->kind == SOTTO_NODE_MAP &&
	    rn_get(par, segs[n - 1]) != NULL) {
		rn_del(par, segs[n - 1]);
		return SOTTO_OK;
	}
	if (par != NULL && par->kind == SOTTO_NODE_SEQ &&
	    seq_index(par, segs[n - 1], &idx, false)) {
		seq_remove(par, idx);
		return SOTTO_OK;
	}
	return sotto_error_set(e, SOTTO_E_NOTFOUND, "json patch: path "
	    "'%.100s' not found", path);
}

static bool
is_null(const struct sotto_node *n)
{
	return n == NULL || (n->kind == SOTTO_NODE_SCALAR &&
	    n->type == SOTTO_T_NULL);
}

/*
 * One JSON 6902 operation on obj.  What it copies (or, for test,
 * compares) is charged to c first: copy ops that each double a subtree
 * would otherwise grow an object exponentially in the number of ops.
 */
static sotto_err
json_op(struct sotto_node *obj, const struct sotto_node *op,
    struct rctx *c, const char *name, struct sotto_error *e)
{
	const char *o = rn_str(op, "op"), *path = rn_str(op, "path");
	const char *from = rn_str(op, "from");
	const struct sotto_node *val = rn_get(op, "value");
	char **ps = NULL, **fs = NULL;
	size_t pn = 0, fn = 0;
	struct sotto_node *src;
	sotto_err err;

	if (o == NULL || path == NULL)
		return sotto_error_set(e, SOTTO_E_PARSE, "json patch "
		    "operation needs 'op' and 'path'");
	if ((err = ptr_parse(&ps, &pn, path, e)) != SOTTO_OK ||
	    (from && (err = ptr_parse(&fs, &fn, from, e)) != SOTTO_OK))
		goto out;
	if (strcmp(o, "add") == 0 || strcmp(o, "replace") == 0) {
		if ((err = rc_charge(c, rn_cost(val ? val : op), 0, name,
		    e)) != SOTTO_OK)
			goto out;
		err = ptr_add(obj, ps, pn, sotto_tree_clone(val ? val :
		    op), strcmp(o, "replace") == 0, path, e);
	} else if (strcmp(o, "remove") == 0) {
		err = ptr_remove(obj, ps, pn, path, e);
	} else if ((strcmp(o, "move") == 0 || strcmp(o, "copy") == 0) &&
	    from != NULL) {
		if ((src = ptr_get(obj, fs, fn)) == NULL) {
			err = sotto_error_set(e, SOTTO_E_NOTFOUND, "json "
			    "patch: from '%.100s' not found", from);
			goto out;
		}
		if (strcmp(o, "copy") == 0 && (err = rc_charge(c,
		    rn_cost(src), 0, name, e)) != SOTTO_OK)
			goto out;
		src = sotto_tree_clone(src);
		if (strcmp(o, "move") == 0 &&
		    (err = ptr_remove(obj, fs, fn, from, e)) != SOTTO_OK) {
			sotto_tree_node_free(src, true);
			goto out;
		}
		err = ptr_add(obj, ps, pn, src, false, path, e);
	} else if (strcmp(o, "test") == 0) {
		struct sotto_buf a = SOTTO_BUF_SECRET_INIT,
		    b = SOTTO_BUF_SECRET_INIT;
		bool differ;

		/* a missing path or value is null: kustomize's test of a
		 * missing path against null passes */
		src = ptr_get(obj, ps, pn);
		if ((err = rc_charge(c, rn_cost(src) + rn_cost(val), 0, name,
		    e)) != SOTTO_OK)
			goto out;
		if (src == NULL || val == NULL)
			differ = !is_null(src) || !is_null(val);
		else
			differ = rn_to_json(&a, src) != SOTTO_OK ||
			    rn_to_json(&b, val) != SOTTO_OK || a.len != b.len ||
			    memcmp(a.data, b.data, a.len) != 0;
		if (differ)
			err = sotto_error_set(e, SOTTO_E_USAGE, "json patch: "
			    "test failed at '%.100s'", path);
		sotto_buf_release(&a);
		sotto_buf_release(&b);
	} else {
		err = sotto_error_set(e, SOTTO_E_PARSE, "json patch: unknown "
		    "op '%.20s'", o);
	}
out:
	segs_free(ps, pn);
	segs_free(fs, fn);
	return err;
}

/* ---- loading ---- */

static bool
blank(int ch)
{
	return ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
}

/*
 * kustomize's jsonPatchFromBytes: text starting with '[' is JSON, else
 * YAML turned into JSON; a list of operations.  *ops: the parsed list
 * (owned by *doc), or NULL when the text is not one.
 */
static sotto_err
parse_json_ops(struct sotto_doc **doc, struct sotto_node **ops,
    const uint8_t *p, size_t n, const char *name, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_buf w = SOTTO_BUF_SECRET_INIT;
	struct sotto_error ignore;
	size_t i;
	sotto_err err;

	*doc = NULL;
	*ops = NULL;
	if (n == 0)
		return SOTTO_OK;
	/* the store takes a top-level list only inside a map */
	err = sotto_buf_addstr(&w, "ops:\n  ");
	for (i = 0; err == SOTTO_OK && i < n; i++) {
		err = sotto_buf_addch(&w, p[i]);
		if (p[i] == '\n' && err == SOTTO_OK)
			err = sotto_buf_addstr(&w, "  ");
	}
	if (err != SOTTO_OK) {
		sotto_buf_release(&w);
		return oom(e);
	}
	if (sotto_store_yaml.parse(doc, w.data, w.len, name, &lim,
	    &ignore) == SOTTO_OK && (*doc)->n == 1) {
		struct sotto_node *o = rn_get((*doc)->branches[0], "ops");

		if (o != NULL && o->kind == SOTTO_NODE_SEQ) {
			rn_strip_comments(o);
			*ops = o;
		}
	}
	sotto_buf_release(&w);
	return SOTTO_OK;
}

/* The patch documents of text, as kustomize's SliceFromBytes reads
 * them: maps with a kind and a name. */
static sotto_err
parse_smp(struct rlist *out, struct rctx *c, const uint8_t *p, size_t n,
    const char *name, struct sotto_error *e)
{
	return rc_load_bytes(out, c, p, n, name, false, e);
}

/* A patch's text: inline, or a file (decrypted if it is sops). */
static sotto_err
patch_text(struct sotto_buf *out, const char **name, struct rctx *c,
    const char *dir, const char *path, const char *inl, bool decrypt,
    struct sotto_error *e)
{
	struct sotto_buf raw = SOTTO_BUF_SECRET_INIT;
	char *abs = NULL;
	sotto_err err;

	if (path == NULL) {
		size_t a = 0, b = strlen(inl);

		/* the inline patch is trimmed (strings.TrimSpace) */
		while (a < b && blank(inl[a]))
			a++;
		while (b > a && blank(inl[b - 1]))
			b--;
		return sotto_buf_add(out, inl + a, b - a) == SOTTO_OK ?
		    SOTTO_OK : oom(e);
	}
	if ((err = rc_resolve(&abs, c, dir, path, e)) != SOTTO_OK)
		return err;
	if ((err = rc_read(&raw, c, abs, e)) == SOTTO_OK) {
		*name = rc_intern(c, rc_rel(c, abs), strlen(rc_rel(c, abs)));
		err = decrypt ? rc_decrypt_bytes(out, c, *name, abs, raw.data,
		    raw.len, e) : sotto_buf_add(out, raw.data, raw.len);
	}
	sotto_buf_release(&raw);
	free(abs);
	return err;
}

/* ---- applying ---- */

static sotto_err
charge_match(struct rctx *c, const struct rlist *l, const char *name,
    struct sotto_error *e)
{
	return rc_charge(c, l->n * RN_NODE_COST, 0, name, e);
}

/*
 * Resource.ApplySmPatch: merges patch into o; the name, kind and
 * namespace stay o's unless the patch allows a name or kind change (then
 * the old id is remembered).
 */
static sotto_err
apply_smp(struct robj *o, struct rctx *c, const struct robj *patch,
    bool allow_name, bool allow_kind, const char *name,
    struct sotto_error *e)
{
	char *n = strdup(robj_name(o)), *k = strdup(robj_kind(o));
	char *ns = robj_ns(o) ? strdup(robj_ns(o)) : NULL;
	struct sotto_node *md, *pc;
	sotto_err err;

	if (n == NULL || k == NULL || (robj_ns(o) != NULL && ns == NULL)) {
		err = oom(e);
		goto out;
	}
	if ((allow_name || allow_kind) && robj_store_prev(c, o) != SOTTO_OK) {
		err = oom(e);
		goto out;
	}
	if ((err = rc_charge(c, rn_cost(patch->n), 0, name, e)) != SOTTO_OK)
		goto out;
	if ((pc = sotto_tree_clone(patch->n)) == NULL) {
		err = oom(e);
		goto out;
	}
	rn_strip_comments(pc);
	if ((err = rp_smp(&o->n, pc, c, name, e)) != SOTTO_OK)
		goto out;
	if (o->n == NULL || o->n->n == 0)
		goto out;
	if (!allow_kind && rn_set_str(o->n, "kind", k) != SOTTO_OK) {
		err = oom(e);
		goto out;
	}
	if ((md = rn_ensure_map(o->n, "metadata")) == NULL ||
	    (!allow_name && rn_set_str(md, "name", n) != SOTTO_OK) ||
	    (ns != NULL && ns[0] != '\0' && rn_set_str(md, "namespace", ns) !=
	    SOTTO_OK)) {
		err = oom(e);
		goto out;
	}
	if (ns == NULL || ns[0] == '\0')
		rn_del(md, "namespace");
out:
	free(n);
	free(k);
	free(ns);
	return err;
}

/* The object whose any id equals the patch's id (kustomize's GetById). */
static sotto_err
by_id(ssize_t *at, struct rlist *l, struct rctx *c, const struct robj *p,
    const char *name, const char *what, struct sotto_error *e)
{
	struct rid id;
	size_t i, hits = 0;
	char ids[512];

	*at = -1;
	robj_curid(p, &id);
	rid_string(ids, sizeof(ids), &id);
	for (i = 0; i < l->n; i++)
		if (robj_any_id_equal(c, &l->v[i], &id)) {
			hits++;
			*at = (ssize_t)i;
		}
	if (hits == 1)
		return SOTTO_OK;
	return sotto_error_set(e, SOTTO_E_NOTFOUND, "'%s': %s %s for Id %s; "
	    "failed to find unique target for patch %s", name, what,
	    hits ? "multiple matches" : "no matches", ids, ids);
}

/* resWrangler.ApplySmPatch for the selected objects: each gets a copy of
 * the patch with its own apiVersion; emptied objects go, and every id
 * must stay unique. */
static sotto_err
smp_selected(struct rlist *l, struct rctx *c, const bool *sel,
    const struct robj *patch, bool an, bool ak, const char *name,
    struct sotto_error *e)
{
	struct robj pc;
	size_t i;
	sotto_err err = SOTTO_OK;

	for (i = 0; i < l->n && err == SOTTO_OK; i++) {
		if (!sel[i])
			continue;
		memset(&pc, 0, sizeof(pc));
		if ((pc.n = sotto_tree_clone(patch->n)) == NULL ||
		    rn_set_str(pc.n, "apiVersion",
		    robj_apiversion(&l->v[i])) != SOTTO_OK) {
			sotto_tree_node_free(pc.n, true);
			return oom(e);
		}
		err = apply_smp(&l->v[i], c, &pc, an, ak, name, e);
		sotto_tree_node_free(pc.n, true);
	}
	for (i = 0; i < l->n; )
		if (l->v[i].n == NULL || l->v[i].n->n == 0)
			rl_remove(l, i);
		else
			i++;
	if (err == SOTTO_OK)
		err = rb_check_ids(l, c, name, e);
	return err;
}

static sotto_err
json_apply(struct robj *o, struct rctx *c, const struct sotto_node *ops,
    const char *name, struct sotto_error *e)
{
	size_t j;
	sotto_err err;

	/* every op walks a path, copying or not */
	if ((err = rc_charge(c, ops->n * RN_NODE_COST, 0, name, e)) !=
	    SOTTO_OK)
		return err;
	for (j = 0; j < ops->n; j++)
		if ((err = json_op(o->n, ops->items[j].val, c, name, e)) !=
		    SOTTO_OK) {
			if (err != SOTTO_E_LIMIT)
				sotto_error_prefix(e, "'%s'", name);
			return err;
		}
	/* the object went through JSON: block styles are gone, and
	 * kustomize sets its annotations again, as strings */
	rn_drop_styles(o->n);
	return rt_annotations_strings(o->n) == SOTTO_OK ? SOTTO_OK : oom(e);
}

static sotto_err
select_targets(bool **sel, size_t *hits, struct rlist *l, struct rctx *c,
    const struct sotto_node *target, const char *name, struct sotto_error *e)
{
	struct rsel s;
	size_t i;
	bool m;
	sotto_err err;

	*hits = 0;
	if ((*sel = calloc(l->n + 1, sizeof(**sel))) == NULL)
		return oom(e);
	if ((err = charge_match(c, l, name, e)) != SOTTO_OK ||
	    (err = rsel_init(&s, target, "patch target", e)) != SOTTO_OK)
		return err;
	for (i = 0; i < l->n; i++) {
		if ((err = rsel_match_obj(&m, c, &s, &l->v[i], e)) != SOTTO_OK)
			break;
		(*sel)[i] = m;
		*hits += m;
	}
	rsel_free(&s);
	return err;
}

static bool
opt_true(const struct sotto_node *opts, const char *k)
{
	const char *v = rn_str(opts, k);

	return v != NULL && strcmp(v, "true") == 0;
}

/* One `patches` entry (kustomize's PatchTransformer). */
sotto_err
rp_patch(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *p, const char *kname, struct sotto_error *e)
{
	const char *path = rn_str(p, "path"), *inl = rn_str(p, "patch");
	const struct sotto_node *target = rn_get(p, "target");
	const struct sotto_node *opts = rn_get(p, "options");
	bool an = opt_true(opts, "allowNameChange");
	bool ak = opt_true(opts, "allowKindChange");
	struct sotto_buf text = SOTTO_BUF_SECRET_INIT;
	struct sotto_doc *jdoc = NULL;
	struct sotto_node *ops = NULL;
	struct rlist smp = { NULL, 0, 0 };
	struct sotto_error smperr;
	const char *name = kname;
	bool *sel = NULL;
	size_t i, hits;
	ssize_t at;
	sotto_err err, serr;

	if (path != NULL && path[0] == '\0')
		path = NULL;
	if (inl != NULL && inl[0] == '\0')
		inl = NULL;
	if (path == NULL && inl == NULL)
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': must specify "
		    "one of patch and path", kname);
	if (path != NULL && inl != NULL)
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': patch and path "
		    "can't be set at the same time", kname);
	if ((err = patch_text(&text, &name, c, dir, path, inl, true, e)) !=
	    SOTTO_OK)
		goto out;
	if (text.len == 0 && path == NULL) {
		err = sotto_error_set(e, SOTTO_E_PARSE, "'%s': must specify "
		    "one of patch and path", kname);
		goto out;
	}
	serr = parse_smp(&smp, c, text.data ? text.data :
	    (const uint8_t *)"", text.len, name, &smperr);
	if ((err = parse_json_ops(&jdoc, &ops, text.data, text.len, name,
	    e)) != SOTTO_OK)
		goto out;
	if (serr == SOTTO_OK && ops != NULL) {
		err = sotto_error_set(e, SOTTO_E_PARSE, "'%s': illegally "
		    "qualifies as both an SM and JSON patch", name);
		goto out;
	}
	if (serr != SOTTO_OK && ops == NULL) {
		err = sotto_error_set(e, SOTTO_E_PARSE, "'%s': unable to parse "
		    "SM or JSON patch (%s)", name, smperr.msg);
		goto out;
	}
	if (serr == SOTTO_OK && smp.n > 0) {
		if (target != NULL) {
			if (smp.n > 1) {
				err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
				    "multiple strategic-merge patches in one "
				    "`patches` entry cannot have a target",
				    name);
				goto out;
			}
			if ((err = select_targets(&sel, &hits, l, c, target,
			    name, e)) != SOTTO_OK)
				goto out;
			err = smp_selected(l, c, sel, &smp.v[0], an, ak, name,
			    e);
			goto out;
		}
		for (i = 0; i < smp.n && err == SOTTO_OK; i++) {
			if ((err = charge_match(c, l, name, e)) != SOTTO_OK ||
			    (err = by_id(&at, l, c, &smp.v[i], name,
			    "no resource matches strategic merge patch", e)) !=
			    SOTTO_OK)
				break;
			err = apply_smp(&l->v[at], c, &smp.v[i], an, ak, name,
			    e);
		}
		goto out;
	}
	/* a JSON 6902 patch (or an empty file: no operations) */
	if (target == NULL) {
		err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': must specify a "
		    "target for JSON patch", name);
		goto out;
	}
	if ((err = select_targets(&sel, &hits, l, c, target, name, e)) !=
	    SOTTO_OK)
		goto out;
	for (i = 0; i < l->n && err == SOTTO_OK; i++) {
		if (!sel[i])
			continue;
		if (robj_store_prev(c, &l->v[i]) != SOTTO_OK) {
			err = oom(e);
			break;
		}
		if (ops != NULL)
			err = json_apply(&l->v[i], c, ops, name, e);
		else if (rt_annotations_strings(l->v[i].n) != SOTTO_OK)
			err = oom(e);
	}
out:
	free(sel);
	rl_free(&smp);
	sotto_tree_doc_free(jdoc);
	sotto_buf_release(&text);
	return err;
}

/* One patchesJson6902 entry (kustomize's PatchJson6902Transformer). */
sotto_err
rp_json6902(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *p, const char *kname, struct sotto_error *e)
{
	const char *path = rn_str(p, "path"), *inl = rn_str(p, "patch");
	const struct sotto_node *target = rn_get(p, "target");
	struct sotto_buf text = SOTTO_BUF_SECRET_INIT;
	struct sotto_doc *jdoc = NULL;
	struct sotto_node *ops = NULL;
	const char *name = kname;
	bool *sel = NULL;
	size_t i, hits;
	sotto_err err;

	if (path != NULL && path[0] == '\0')
		path = NULL;
	if (inl != NULL && inl[0] == '\0')
		inl = NULL;
	if (target == NULL || rn_str(target, "name") == NULL ||
	    rn_str(target, "name")[0] == '\0')
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': "
		    "patchesJson6902: must specify the target name", kname);
	if (path == NULL && inl == NULL)
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': "
		    "patchesJson6902: empty file path and empty jsonOp", kname);
	if (path != NULL && inl != NULL)
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': "
		    "patchesJson6902: must specify a file path or jsonOp, not "
		    "both", kname);
	if (path != NULL) {
		struct sotto_buf raw = SOTTO_BUF_SECRET_INIT;
		char *abs = NULL;

		if ((err = rc_resolve(&abs, c, dir, path, e)) == SOTTO_OK &&
		    (err = rc_read(&raw, c, abs, e)) == SOTTO_OK) {
			name = rc_intern(c, rc_rel(c, abs),
			    strlen(rc_rel(c, abs)));
			err = sotto_buf_add(&text, raw.data, raw.len);
		}
		sotto_buf_release(&raw);
		free(abs);
		if (err != SOTTO_OK)
			goto out;
		if (text.len == 0) {
			err = sotto_error_set(e, SOTTO_E_PARSE, "'%s': patch "
			    "file seems to be empty", name);
			goto out;
		}
	} else if ((err = sotto_buf_addstr(&text, inl)) != SOTTO_OK) {
		err = oom(e);
		goto out;
	}
	if ((err = parse_json_ops(&jdoc, &ops, text.data, text.len, name,
	    e)) != SOTTO_OK)
		goto out;
	if (ops == NULL || ops->n == 0) {
		err = sotto_error_set(e, SOTTO_E_PARSE, "'%s': %s", name,
		    ops == NULL ? "a JSON 6902 patch must be a list of "
		    "operations" : "patch appears to be empty");
		goto out;
	}
	if ((err = select_targets(&sel, &hits, l, c, target, name, e)) !=
	    SOTTO_OK)
		goto out;
	for (i = 0; i < l->n && err == SOTTO_OK; i++)
		if (sel[i])
			err = json_apply(&l->v[i], c, ops, name, e);
out:
	free(sel);
	sotto_tree_doc_free(jdoc);
	sotto_buf_release(&text);
	return err;
}

/* patchesStrategicMerge (kustomize's PatchStrategicMergeTransformer):
 * each entry is a patch (a string holding YAML) or a file of patches. */
sotto_err
rp_psm(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *paths, const char *kname, struct sotto_error *e)
{
	struct rlist pl = { NULL, 0, 0 };
	struct sotto_error ignore;
	bool *sel = NULL;
	size_t i, n0;
	ssize_t at;
	sotto_err err = SOTTO_OK;

	for (i = 0; i < paths->n && err == SOTTO_OK; i++) {
		const char *s = rn_value(paths->items[i].val);
		struct sotto_buf text = SOTTO_BUF_SECRET_INIT;
		const char *name = kname;

		n0 = pl.n;
		if (strchr(s, '\n') != NULL && parse_smp(&pl, c,
		    (const uint8_t *)s, strlen(s), kname, &ignore) ==
		    SOTTO_OK)
			continue;
		while (pl.n > n0)
			rl_remove(&pl, pl.n - 1);
		if ((err = patch_text(&text, &name, c, dir, s, NULL, false,
		    e)) == SOTTO_OK)
			err = parse_smp(&pl, c, text.data ? text.data :
			    (const uint8_t *)"", text.len, name, e);
		sotto_buf_release(&text);
	}
	if (err == SOTTO_OK && pl.n == 0)
		err = sotto_error_set(e, SOTTO_E_PARSE, "'%s': "
		    "patchesStrategicMerge: patch appears to be empty", kname);
	for (i = 0; i < pl.n && err == SOTTO_OK; i++) {
		const char *name = pl.v[i].origin ? pl.v[i].origin : kname;

		if ((err = charge_match(c, l, name, e)) != SOTTO_OK ||
		    (err = by_id(&at, l, c, &pl.v[i], name, "no resource "
		    "matches strategic merge patch", e)) != SOTTO_OK)
			break;
		free(sel);
		if ((sel = calloc(l->n + 1, sizeof(*sel))) == NULL) {
			err = oom(e);
			break;
		}
		sel[at] = true;
		err = smp_selected(l, c, sel, &pl.v[i], false, false, name, e);
	}
	free(sel);
	rl_free(&pl);
	return err;
}
