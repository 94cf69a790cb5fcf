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

#include "sotto/store.h"

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

/* ---- strategic merge ---- */

static const char *
merge_key(const char *field, const struct sotto_node *patchseq)
{
	size_t i;

	if (field == NULL)
		return NULL;
	if (strcmp(field, "containers") == 0 ||
	    strcmp(field, "initContainers") == 0 ||
	    strcmp(field, "ephemeralContainers") == 0 ||
	    strcmp(field, "env") == 0 || strcmp(field, "volumes") == 0 ||
	    strcmp(field, "imagePullSecrets") == 0 ||
	    strcmp(field, "resourceClaims") == 0 ||
	    strcmp(field, "schedulingGates") == 0)
		return "name";
	if (strcmp(field, "hostAliases") == 0)
		return "ip";
	if (strcmp(field, "volumeMounts") == 0)
		return "mountPath";
	if (strcmp(field, "volumeDevices") == 0)
		return "devicePath";
	if (strcmp(field, "ports") == 0) {
		for (i = 0; i < patchseq->n; i++)
			if (rn_get(patchseq->items[i].val, "containerPort"))
				return "containerPort";
		return "port";
	}
	return NULL;
}

static struct sotto_node *
find_item(const struct sotto_node *seq, const char *key,
    const struct sotto_node *pit, size_t *at)
{
	const char *val = rn_str(pit, key), *pp = rn_str(pit, "protocol");
	bool port = strcmp(key, "containerPort") == 0 ||
	    strcmp(key, "port") == 0;
	size_t i;

	for (i = 0; i < seq->n; i++) {
		const char *v = rn_str(seq->items[i].val, key);
		const char *dp = rn_str(seq->items[i].val, "protocol");

		/* a port is keyed by number and protocol (TCP if unset) */
		if (port && strcmp(pp ? pp : "TCP", dp ? dp : "TCP") != 0)
			continue;
		if (v != NULL && strcmp(v, val) == 0) {
			*at = i;
			return seq->items[i].val;
		}
	}
	return NULL;
}

static void
seq_remove(struct sotto_node *seq, size_t i)
{
	sotto_tree_node_free(seq->items[i].val, true);
	memmove(&seq->items[i], &seq->items[i + 1],
	    (seq->n - i - 1) * sizeof(seq->items[0]));
	seq->n--;
}

static sotto_err smp_map(struct sotto_node *dst, const struct sotto_node *p,
    const char *path, struct sotto_error *e);

static bool
is_directive(const struct sotto_node *it, const char *what)
{
	const char *d = rn_str(it, "$patch");

	return d != NULL && strcmp(d, what) == 0;
}

/*
 * Merges a list by its merge key as kustomize (kyaml) does: the items the
 * patch names come first, in patch order (merged into the existing item
 * of that key, or new), then the existing items it does not name, in
 * their order.  `$patch: delete` drops an item; a `{$patch: replace}`
 * item replaces the whole list with the other patch items; an item
 * carrying `$patch: replace` keeps the existing one unchanged, as kyaml
 * does.
 */
static sotto_err
smp_list(struct sotto_node *dst, const struct sotto_node *p, const char *key,
    const char *path, struct sotto_error *e)
{
	struct sotto_entry *out = NULL;
	size_t i, at, no = 0, cap = dst->n + p->n;
	bool replace = false;
	sotto_err err = SOTTO_OK;

	for (i = 0; i < p->n; i++)
		if (is_directive(p->items[i].val, "replace") &&
		    rn_str(p->items[i].val, key) == NULL)
			replace = true;
	if (replace)
		while (dst->n > 0)
			seq_remove(dst, dst->n - 1);
	if (cap > 0 && (out = calloc(cap, sizeof(*out))) == NULL)
		return oom(e);
	for (i = 0; i < p->n && err == SOTTO_OK; i++) {
		const struct sotto_node *it = p->items[i].val;
		const char *kv = rn_str(it, key);
		struct sotto_node *cur;

		if (kv == NULL)
			continue;
		cur = find_item(dst, key, it, &at);
		if (is_directive(it, "delete")) {
			if (cur != NULL)
				seq_remove(dst, at);
			continue;
		}
		if (cur != NULL) {
			/* take it out of dst, keeping it */
			memmove(&dst->items[at], &dst->items[at + 1],
			    (dst->n - at - 1) * sizeof(dst->items[0]));
			dst->n--;
		} else if (is_directive(it, "replace")) {
			continue;
		} else if ((cur = sotto_tree_new_map()) == NULL) {
			err = oom(e);
			break;
		}
		out[no].key = NULL;
		out[no++].val = cur;
		if (!is_directive(it, "replace"))
			err = smp_map(cur, it, path, e);
	}
	/* dst keeps the items the patch did not name; put ours first */
	for (i = 0; i < no && err == SOTTO_OK; i++)
		if (sotto_tree_seq_add(dst, out[i].val) == SOTTO_OK)
			out[i].val = NULL;
		else
			err = oom(e);
	if (err == SOTTO_OK && no > 0) {
		struct sotto_entry *tmp = calloc(dst->n,
		    sizeof(*tmp));
		size_t rest = dst->n - no;

		if (tmp != NULL) {
			memcpy(tmp, &dst->items[rest], no * sizeof(*tmp));
			memcpy(tmp + no, dst->items, rest * sizeof(*tmp));
			memcpy(dst->items, tmp, dst->n * sizeof(*tmp));
			free(tmp);
		} else {
			err = oom(e);
		}
	}
	for (i = 0; i < no; i++)
		sotto_tree_node_free(out[i].val, true);
	free(out);
	return err;
}

static sotto_err
smp_map(struct sotto_node *dst, const struct sotto_node *p, const char *path,
    struct sotto_error *e)
{
	size_t i;
	sotto_err err;
	const char *dir = rn_str(p, "$patch");

	if (dir != NULL && strcmp(dir, "replace") == 0) {
		while (dst->n > 0) {
			free(dst->items[dst->n - 1].key);
			sotto_tree_node_free(dst->items[dst->n - 1].val, true);
			dst->n--;
		}
	}
	for (i = 0; i < p->n; i++) {
		const char *k = p->items[i].key;
		const struct sotto_node *pv = p->items[i].val;
		struct sotto_node *dv;
		const char *mk;

		if (k == NULL || strcmp(k, "$patch") == 0)
			continue;
		if (k[0] == '$')
			return sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
			    "unsupported strategic merge directive '%.64s'",
			    path, k);
		dv = rn_get(dst, k);
		if (pv == NULL || (pv->kind == SOTTO_NODE_SCALAR &&
		    pv->type == SOTTO_T_NULL)) {
			rn_del(dst, k);
			continue;
		}
		if (dv != NULL && dv->kind == SOTTO_NODE_MAP &&
		    pv->kind == SOTTO_NODE_MAP) {
			if ((err = smp_map(dv, pv, path, e)) != SOTTO_OK)
				return err;
			continue;
		}
		if (dv != NULL && dv->kind == SOTTO_NODE_SEQ &&
		    pv->kind == SOTTO_NODE_SEQ &&
		    (mk = merge_key(k, pv)) != NULL) {
			if ((err = smp_list(dv, pv, mk, path, e)) != SOTTO_OK)
				return err;
			continue;
		}
		if (pv->kind == SOTTO_NODE_MAP) {
			/* new map: strip directives by merging into empty */
			struct sotto_node *nm = sotto_tree_new_map();

			if (nm == NULL || (err = smp_map(nm, pv, path, e)) !=
			    SOTTO_OK) {
				sotto_tree_node_free(nm, true);
				return nm ? err : oom(e);
			}
			if (rn_set(dst, k, nm) != SOTTO_OK)
				return oom(e);
			continue;
		}
		if (rn_set(dst, k, sotto_tree_clone(pv)) != SOTTO_OK)
			return oom(e);
	}
	return SOTTO_OK;
}

sotto_err
rp_smp(struct sotto_node *dst, const struct sotto_node *patch,
    const char *path, struct sotto_error *e)
{
	return smp_map(dst, patch, path, e);
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

/* ---- targets ---- */

/*
 * A patch target's name patterns, compiled once per patch: a patch is
 * matched against every object, and regcomp() per object made a
 * kustomization of many patches over many objects crawl.  Each pattern
 * is anchored, as kustomize anchors them; one that does not compile is
 * compared as a literal.
 */
enum { TG_GROUP, TG_VERSION, TG_KIND, TG_NAME, TG_NS, TG_N };

struct tgt {
	const struct sotto_node *t;	/* the target map (borrowed) */
	const char *pat[TG_N];		/* NULL: any value */
	regex_t re[TG_N];
	bool compiled[TG_N];
};

static void
tgt_free(struct tgt *g)
{
	int i;

	for (i = 0; i < TG_N; i++)
		if (g->compiled[i])
			regfree(&g->re[i]);
	memset(g, 0, sizeof(*g));
}

static sotto_err
tgt_init(struct tgt *g, const struct sotto_node *t, struct sotto_error *e)
{
	static const char *const keys[TG_N] = { "group", "version", "kind",
	    "name", "namespace" };
	char *a;
	size_t n;
	int i;

	memset(g, 0, sizeof(*g));
	g->t = t;
	for (i = 0; i < TG_N; i++) {
		if ((g->pat[i] = rn_str(t, keys[i])) == NULL)
			continue;
		n = strlen(g->pat[i]) + 5;
		if ((a = malloc(n)) == NULL) {
			tgt_free(g);
			return oom(e);
		}
		snprintf(a, n, "^(%s)$", g->pat[i]);
		g->compiled[i] = regcomp(&g->re[i], a, REG_EXTENDED |
		    REG_NOSUB) == 0;
		free(a);
	}
	return SOTTO_OK;
}

static bool
target_re(const struct tgt *g, int i, const char *s)
{
	if (g->pat[i] == NULL)
		return true;
	if (s == NULL)
		s = "";
	if (!g->compiled[i])
		return strcmp(g->pat[i], s) == 0;
	return regexec(&g->re[i], s, 0, NULL, 0) == 0;
}

static const char *
sel_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Copies a selector word (a key or a value) into w; returns the end. */
static const char *
sel_word(char *w, size_t cap, const char *p)
{
	size_t n = 0;

	p = sel_ws(p);
	while (*p != '\0' && strchr(" \t,=!()", *p) == NULL) {
		if (n + 1 < cap)
			w[n++] = *p;
		p++;
	}
	w[n] = '\0';
	return sel_ws(p);
}

/*
 * A Kubernetes label selector (labels.Parse): requirements separated by
 * commas, each `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)` or
 * `k notin (a,b)`.  `!=` and `notin` hold when the key is absent.  A
 * selector that does not parse matches nothing.
 */
static bool
selector_match(const char *sel, const struct sotto_node *map)
{
	char key[256], w[256];
	const char *p = sel, *have;
	bool neg, in, found;

	if (sel == NULL)
		return true;
	for (;;) {
		p = sel_ws(p);
		if (*p == '\0')
			return true;
		neg = *p == '!';
		p = sel_word(key, sizeof(key), p + neg);
		if (key[0] == '\0')
			return false;
		have = rn_str(map, key);
		if (neg || *p == ',' || *p == '\0') {
			if ((have != NULL || rn_get(map, key) != NULL) == neg)
				return false;
		} else if (*p == '=' || (p[0] == '!' && p[1] == '=')) {
			neg = *p == '!';
			p += neg ? 2 : p[1] == '=' ? 2 : 1;
			p = sel_word(w, sizeof(w), p);
			found = have != NULL && strcmp(have, w) == 0;
			if (found == neg)
				return false;
		} else {
			p = sel_word(w, sizeof(w), p);
			if (strcmp(w, "in") != 0 && strcmp(w, "notin") != 0)
				return false;
			in = strcmp(w, "in") == 0;
			if (*p++ != '(')
				return false;
			found = false;
			for (;;) {
				p = sel_word(w, sizeof(w), p);
				if (have != NULL && strcmp(have, w) == 0)
					found = true;
				if (*p == ',') {
					p++;
					continue;
				}
				if (*p++ != ')')
					return false;
				break;
			}
			if (found != in)
				return false;
		}
		p = sel_ws(p);
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return false;
	}
}

static bool
target_match(const struct robj *o, const struct tgt *g)
{
	const char *av = robj_apiversion(o), *slash = strchr(av, '/');
	const struct sotto_node *t = g->t;
	char group[256] = "", version[256];

	if (slash != NULL)
		snprintf(group, sizeof(group), "%.*s", (int)(slash - av), av);
	snprintf(version, sizeof(version), "%s", slash ? slash + 1 : av);
	if (!target_re(g, TG_GROUP, group) ||
	    !target_re(g, TG_VERSION, version) ||
	    !target_re(g, TG_KIND, robj_kind(o)))
		return false;
	if (!target_re(g, TG_NAME, robj_name(o)) &&
	    !(o->orig_name && target_re(g, TG_NAME, o->orig_name)))
		return false;
	/* like the name, the namespace may match the current or the
	 * original one (kustomize's resWrangler.Select) */
	if (!target_re(g, TG_NS, robj_ns(o) ? robj_ns(o) : "default") &&
	    !(o->orig_name && target_re(g, TG_NS, o->orig_ns ? o->orig_ns :
	    "default")))
		return false;
	return selector_match(rn_str(t, "labelSelector"),
	    rn_path(o->n, "metadata/labels")) &&
	    selector_match(rn_str(t, "annotationSelector"),
	    rn_path(o->n, "metadata/annotations"));
}

/* ---- loading ---- */

/* Parses patch text; a top-level list is wrapped so the store takes it.
 * Returns the doc; *ops is the list for JSON 6902, else NULL. */
static sotto_err
parse_patch(struct sotto_doc **doc, struct sotto_node **ops,
    const uint8_t *p, size_t n, const char *name, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_buf w = SOTTO_BUF_SECRET_INIT;
	size_t i = 0;
	sotto_err err;

	*ops = NULL;
	while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\t' ||
	    p[i] == '\r'))
		i++;
	if (i < n && (p[i] == '-' || p[i] == '[') && !(n - i >= 3 &&
	    memcmp(p + i, "---", 3) == 0)) {
		err = sotto_buf_addstr(&w, "ops:\n  ");
		for (; err == SOTTO_OK && i < n; i++) {
			err = sotto_buf_addch(&w, p[i]);
			if (p[i] == '\n' && err == SOTTO_OK)
				err = sotto_buf_addstr(&w, "  ");
		}
		if (err != SOTTO_OK)
			return oom(e);
		err = sotto_store_yaml.parse(doc, w.data, w.len, name, &lim, e);
		sotto_buf_release(&w);
		if (err == SOTTO_OK && (*doc)->n > 0)
			*ops = rn_get((*doc)->branches[0], "ops");
		return err;
	}
	return sotto_store_yaml.parse(doc, p, n, name, &lim, e);
}

static bool
ns_eq(const char *a, const char *b)
{
	return strcmp(a && *a ? a : "default", b && *b ? b : "default") == 0;
}

/*
 * A patch without a target applies to the object whose current or
 * original id (apiVersion, kind, name, namespace; none = "default")
 * equals the patch's, as kustomize's GetMatchingResourcesByAnyId does.
 */
static bool
smp_id_match(const struct robj *o, const struct sotto_node *patch)
{
	const char *kind = rn_str(patch, "kind");
	const char *av = rn_str(patch, "apiVersion");
	const char *pn = rn_str(rn_get(patch, "metadata"), "name");
	const char *pns = rn_str(rn_get(patch, "metadata"), "namespace");

	if (kind == NULL || pn == NULL || strcmp(robj_kind(o), kind) != 0 ||
	    (av != NULL && strcmp(robj_apiversion(o), av) != 0))
		return false;
	if (strcmp(robj_name(o), pn) == 0 && ns_eq(robj_ns(o), pns))
		return true;
	return o->orig_name != NULL && strcmp(o->orig_name, pn) == 0 &&
	    ns_eq(o->orig_ns, pns);
}

/*
 * Matching a patch against every object is work like copying: a
 * kustomization of many patches over many objects is charged RN_NODE_COST
 * per object per patch, so it stops at the budget instead of crawling.
 */
static sotto_err
charge_match(struct rctx *c, const struct rlist *l, const char *name,
    struct sotto_error *e)
{
	return rc_charge(c, l->n * RN_NODE_COST, 0, name, e);
}

/* Merges one strategic-merge patch document into its targets; each
 * merge is charged to c as a copy of the patch. */
static sotto_err
apply_smp_doc(struct rlist *l, struct rctx *c, const struct sotto_node *patch,
    const struct sotto_node *target, const char *name, struct sotto_error *e)
{
	const char *kind = rn_str(patch, "kind");
	const char *pn = rn_str(rn_get(patch, "metadata"), "name");
	const char *dir = rn_str(patch, "$patch");
	bool del = dir != NULL && strcmp(dir, "delete") == 0;
	struct sotto_node *p = NULL;
	struct tgt g;
	size_t i, w, hits = 0, cost;
	sotto_err err;

	memset(&g, 0, sizeof(g));
	if ((err = charge_match(c, l, name, e)) != SOTTO_OK ||
	    (target != NULL && (err = tgt_init(&g, target, e)) != SOTTO_OK))
		return err;
	if ((p = sotto_tree_clone(patch)) == NULL) {
		tgt_free(&g);
		return oom(e);
	}
	rn_strip_comments(p);
	cost = rn_cost(p);
	/* the patch names its target; it never renames it (kustomize's
	 * allowNameChange and allowKindChange are off) */
	rn_del(rn_get(p, "metadata"), "name");
	rn_del(rn_get(p, "metadata"), "namespace");
	rn_del(p, "kind");
	rn_del(p, "apiVersion");
	/* deleted objects are dropped as the list is compacted (w), not
	 * one memmove each */
	for (i = w = 0; i < l->n; i++) {
		struct robj *o = &l->v[i];
		bool hit = err == SOTTO_OK && (target ? target_match(o, &g) :
		    smp_id_match(o, patch));

		if (hit && del) {
			hits++;
			robj_free(o);
			continue;
		}
		if (hit) {
			hits++;
			if ((err = rc_charge(c, cost, 0, name, e)) == SOTTO_OK)
				err = smp_map(o->n, p, name, e);
		}
		l->v[w++] = *o;
	}
	l->n = w;
	sotto_tree_node_free(p, true);
	tgt_free(&g);
	if (err == SOTTO_OK && hits == 0 && target == NULL)
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "'%s': no resource "
		    "matches patch for %s/%s", name, kind ? kind : "?",
		    pn ? pn : "?");
	return err;
}

static sotto_err
apply_json(struct rlist *l, struct rctx *c, const struct sotto_node *ops,
    const struct sotto_node *target, const char *name, struct sotto_error *e)
{
	struct tgt g;
	size_t i, j;
	sotto_err err = SOTTO_OK;

	if (target == NULL)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': a JSON 6902 "
		    "patch needs a target", name);
	if ((err = charge_match(c, l, name, e)) != SOTTO_OK ||
	    (err = tgt_init(&g, target, e)) != SOTTO_OK)
		return err;
	for (i = 0; i < l->n && err == SOTTO_OK; i++) {
		if (!target_match(&l->v[i], &g))
			continue;
		/* every op walks a path, copying or not */
		if ((err = rc_charge(c, ops->n * RN_NODE_COST, 0, name, e)) !=
		    SOTTO_OK)
			break;
		for (j = 0; j < ops->n && err == SOTTO_OK; j++)
			if ((err = json_op(l->v[i].n, ops->items[j].val, c,
			    name, e)) != SOTTO_OK && err != SOTTO_E_LIMIT)
				sotto_error_prefix(e, "'%s'", name);
	}
	tgt_free(&g);
	return err;
}

static sotto_err
one_patch(struct rlist *l, struct rctx *c, const char *dir,
    const uint8_t *text, size_t tlen, const char *path,
    const struct sotto_node *target, bool force_json, const char *kname,
    struct sotto_error *e)
{
	struct sotto_buf raw = SOTTO_BUF_SECRET_INIT,
	    plain = SOTTO_BUF_SECRET_INIT;
	struct sotto_doc *doc = NULL;
	struct sotto_node *ops = NULL;
	char *abs = NULL;
	const char *name = kname;
	sotto_err err = SOTTO_OK;
	size_t i;

	if (path != NULL) {
		if ((err = rc_resolve(&abs, c, dir, path, e)) != SOTTO_OK ||
		    (err = rc_read(&raw, c, abs, e)) != SOTTO_OK ||
		    (err = rc_decrypt_bytes(&plain, c, rc_rel(c, abs), abs,
		    raw.data, raw.len, e)) != SOTTO_OK)
			goto out;
		name = rc_rel(c, abs);
		text = plain.data;
		tlen = plain.len;
	}
	if ((err = parse_patch(&doc, &ops, text ? text : (const uint8_t *)"",
	    tlen, name, e)) != SOTTO_OK)
		goto out;
	for (i = 0; i < doc->n; i++)
		rn_strip_comments(doc->branches[i]);
	if (ops != NULL) {
		err = apply_json(l, c, ops, target, name, e);
		goto out;
	}
	if (force_json) {
		err = sotto_error_set(e, SOTTO_E_PARSE, "'%s': a JSON 6902 "
		    "patch must be a list of operations", name);
		goto out;
	}
	for (i = 0; i < doc->n && err == SOTTO_OK; i++)
		err = apply_smp_doc(l, c, doc->branches[i], target, name, e);
out:
	sotto_tree_doc_free(doc);
	sotto_buf_release(&raw);
	sotto_buf_release(&plain);
	free(abs);
	return err;
}

sotto_err
rp_patches(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *patches, bool legacy_smp, bool legacy_json,
    struct sotto_error *e)
{
	const char *kname = rc_rel(c, dir);
	size_t i;
	sotto_err err;

	if (patches->kind != SOTTO_NODE_SEQ)
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': patches must "
		    "be a list", kname);
	for (i = 0; i < patches->n; i++) {
		const struct sotto_node *p = patches->items[i].val;
		const char *path, *inl;

		if (legacy_smp) {
			if (!rn_is_scalar(p))
				return sotto_error_set(e, SOTTO_E_PARSE, "'%s': "
				    "patchesStrategicMerge item %zu must be a "
				    "string", kname, i);
			inl = strchr(p->text, '\n') ? p->text : NULL;
			err = one_patch(l, c, dir, (const uint8_t *)inl,
			    inl ? strlen(inl) : 0, inl ? NULL : p->text, NULL,
			    false, kname, e);
		} else {
			static const char *const pkeys[] = { "path", "patch",
			    "target", "options", NULL };
			static const char *const tkeys[] = { "group",
			    "version", "kind", "name", "namespace",
			    "labelSelector", "annotationSelector", NULL };
			const struct sotto_node *opt = rn_get(p, "options");
			size_t k;

			if ((err = rc_check_keys(p, pkeys, "patch", kname,
			    e)) != SOTTO_OK || (err = rc_check_keys(
			    rn_get(p, "target"), tkeys, "patch target", kname,
			    e)) != SOTTO_OK)
				return err;
			/* kustomize keeps the name and kind unless told; we
			 * implement only that */
			for (k = 0; opt && opt->kind == SOTTO_NODE_MAP &&
			    k < opt->n; k++) {
				const struct sotto_node *v = opt->items[k].val;

				if (opt->items[k].key != NULL &&
				    !(rn_is_scalar(v) &&
				    strcmp(v->text, "false") == 0))
					return sotto_error_set(e,
					    SOTTO_E_USAGE, "'%s': unsupported "
					    "patch option '%.64s'", kname,
					    opt->items[k].key);
			}
			path = rn_str(p, "path");
			inl = rn_str(p, "patch");
			if ((path == NULL) == (inl == NULL))
				return sotto_error_set(e, SOTTO_E_PARSE, "'%s': "
				    "patch %zu needs exactly one of 'path' and "
				    "'patch'", kname, i);
			err = one_patch(l, c, dir, (const uint8_t *)inl,
			    inl ? strlen(inl) : 0, path, rn_get(p, "target"),
			    legacy_json, kname, e);
		}
		if (err != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}
