/* SPDX-License-Identifier: ISC */
/*
 * vars (kustomize's legacy variables, api/internal/accumulator and
 * api/filters/refvar): each kustomization level names, for each var, the
 * object (objref) and field (fieldref) its value comes from; the object is
 * found among those built so far, by any of its ids.  After the whole
 * build, every $(NAME) in the fields the configuration's varReference
 * lists is replaced by the value; a field that is exactly $(NAME) takes
 * the value's type.  A var named twice is an error.
 */
#include "render/build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/gofmt.h"

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

void
rv_free(struct rvar *v)
{
	free(v->name);
	free(v->group);
	free(v->version);
	free(v->kind);
	free(v->oname);
	free(v->ons);
	free(v->fieldpath);
	memset(v, 0, sizeof(*v));
}

static char *
dup0(const char *s)
{
	return strdup(s ? s : "");
}

sotto_err
rv_add(struct racc *ra, const struct rvar *v, struct sotto_error *e)
{
	struct rvar *n;

	if (ra->nvars == ra->cvars) {
		size_t nc = ra->cvars ? ra->cvars * 2 : 8;

		if ((n = realloc(ra->vars, nc * sizeof(*n))) == NULL)
			return oom(e);
		ra->vars = n;
		ra->cvars = nc;
	}
	n = &ra->vars[ra->nvars];
	memset(n, 0, sizeof(*n));
	if ((n->name = dup0(v->name)) == NULL ||
	    (n->group = dup0(v->group)) == NULL ||
	    (n->version = dup0(v->version)) == NULL ||
	    (n->kind = dup0(v->kind)) == NULL ||
	    (n->oname = dup0(v->oname)) == NULL ||
	    (n->ons = dup0(v->ons)) == NULL ||
	    (n->fieldpath = dup0(v->fieldpath)) == NULL) {
		rv_free(n);
		return oom(e);
	}
	ra->nvars++;
	return SOTTO_OK;
}

static const struct rvar *
find_var(const struct racc *ra, const char *name)
{
	size_t i;

	for (i = 0; i < ra->nvars; i++)
		if (strcmp(ra->vars[i].name, name) == 0)
			return &ra->vars[i];
	return NULL;
}

sotto_err
rv_merge_set(struct racc *ra, const struct racc *sub, const char *kname,
    struct sotto_error *e)
{
	size_t i;
	sotto_err err;

	for (i = 0; i < sub->nvars; i++) {
		if (find_var(ra, sub->vars[i].name) != NULL)
			return sotto_error_set(e, SOTTO_E_USAGE, "'%s': var "
			    "'%.64s' already encountered", kname,
			    sub->vars[i].name);
		if ((err = rv_add(ra, &sub->vars[i], e)) != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

/* A var's objref as a target id (types.Target.GVK: apiVersion, when
 * set, gives the group and version). */
static void
var_id(const struct rvar *v, struct rid *id)
{
	id->group = v->group;
	id->glen = strlen(v->group);
	id->version = v->version;
	id->vlen = strlen(v->version);
	id->kind = v->kind;
	id->name = v->oname;
	id->ns = v->ons;
}

static bool
var_matches(struct rctx *c, const struct rvar *v, const struct rid *target,
    const struct rid *id)
{
	const char *a, *b;

	if (strcmp(id->name, target->name) != 0 ||
	    !rid_gvk_equal(id, target))
		return false;
	if (v->ons[0] == '\0')
		return true;
	/* the target's gvk is never cluster-scoped (kustomize builds it
	 * without the scope lookup) */
	a = strcmp(v->ons, "default") == 0 ? "default" : v->ons;
	b = rid_eff_ns(c, id);
	return strcmp(a, b) == 0;
}

sotto_err
rv_merge(struct racc *ra, struct rctx *c, const struct sotto_node *vars,
    const char *kname, struct sotto_error *e)
{
	size_t i, j, k, hits, at = 0;
	sotto_err err;

	for (i = 0; vars != NULL && i < vars->n; i++) {
		const struct sotto_node *v = vars->items[i].val;
		const struct sotto_node *o = rn_get(v, "objref");
		const char *av = rn_str(o, "apiVersion");
		const char *fp = rn_str(rn_get(v, "fieldref"), "fieldPath");
		struct rvar x;
		struct rid target, id;
		char *sl = NULL;

		memset(&x, 0, sizeof(x));
		x.name = (char *)(rn_str(v, "name") ? rn_str(v, "name") : "");
		x.group = (char *)(rn_str(o, "group") ? rn_str(o, "group") :
		    "");
		x.version = (char *)(rn_str(o, "version") ?
		    rn_str(o, "version") : "");
		x.kind = (char *)(rn_str(o, "kind") ? rn_str(o, "kind") : "");
		x.oname = (char *)(rn_str(o, "name") ? rn_str(o, "name") : "");
		x.ons = (char *)(rn_str(o, "namespace") ?
		    rn_str(o, "namespace") : "");
		x.fieldpath = (char *)(fp && fp[0] ? fp : "metadata.name");
		if (av != NULL && av[0] != '\0') {
			if ((sl = strdup(av)) == NULL)
				return oom(e);
			if (strchr(sl, '/') != NULL && strchr(strchr(sl, '/') +
			    1, '/') == NULL) {
				*strchr(sl, '/') = '\0';
				x.group = sl;
				x.version = sl + strlen(sl) + 1;
			} else if (strchr(sl, '/') == NULL) {
				x.version = sl;
			}
		}
		var_id(&x, &target);
		for (j = hits = 0; j < ra->l.n; j++) {
			const struct robj *ob = &ra->l.v[j];

			for (k = 0; k <= ob->nprev; k++) {
				if (k < ob->nprev)
					robj_previd(ob, k, &id);
				else
					robj_curid(ob, &id);
				if (var_matches(c, &x, &target, &id)) {
					hits++;
					at = j;
					break;
				}
			}
		}
		err = SOTTO_OK;
		if (hits > 1)
			err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': found %zu "
			    "resId matches for var '%.64s' (unable to "
			    "disambiguate)", kname, hits, x.name);
		else if (hits == 1 && rsv_push(&ra->l.v[at].vars, x.name) !=
		    SOTTO_OK)
			err = oom(e);
		if (err == SOTTO_OK && find_var(ra, x.name) != NULL)
			err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': var "
			    "'%.64s' already encountered", kname, x.name);
		if (err == SOTTO_OK)
			err = rv_add(ra, &x, e);
		free(sl);
		if (err != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

/* ---- resolving ---- */

/* A var's value as kustomize's GetFieldValue types it. */
enum vtype { VT_STR, VT_INT, VT_FLOAT, VT_BOOL, VT_OTHER };

struct vval {
	const char *name;
	enum vtype t;
	char *text;		/* formatted as fmt %v would */
	size_t uses;
};

static int
vval_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vval *)a)->name,
	    ((const struct vval *)b)->name);
}

/* kyaml's PathGetter on a dotted field path (a[0] is a, 0). */
static const struct sotto_node *
lookup_path(const struct sotto_node *n, const char *path)
{
	char seg[256];
	const char *p = path, *s;
	size_t k, idx;
	char *end;

	while (n != NULL && *p != '\0') {
		s = strchr(p, '.');
		k = s ? (size_t)(s - p) : strlen(p);
		if (k >= sizeof(seg))
			return NULL;
		memcpy(seg, p, k);
		seg[k] = '\0';
		p += k + (s ? 1 : 0);
		if (k > 0 && seg[k - 1] == ']' && strchr(seg, '[') != NULL) {
			char *br = strchr(seg, '[');

			idx = strtoul(br + 1, &end, 10);
			if (end != seg + k - 1 || br[1] == ']')
				return NULL;
			*br = '\0';
			if (seg[0] != '\0')
				n = rn_get(n, seg);
			if (n == NULL || n->kind != SOTTO_NODE_SEQ ||
			    idx >= n->n)
				return NULL;
			n = n->items[idx].val;
			continue;
		}
		if (n->kind == SOTTO_NODE_SEQ) {
			idx = strtoul(seg, &end, 10);
			if (*end != '\0' || seg[0] == '\0' || idx >= n->n)
				return NULL;
			n = n->items[idx].val;
			continue;
		}
		n = rn_get(n, seg);
	}
	return n;
}

static sotto_err
var_value(struct vval *out, const struct rvar *v, const struct racc *ra,
    struct sotto_error *e)
{
	const struct sotto_node *n = NULL;
	char buf[SOTTO_GOFMT_FLOAT_MAX];
	size_t i;
	int64_t iv;
	double fv;

	for (i = 0; i < ra->l.n; i++)
		if (rsv_has(&ra->l.v[i].vars, v->name))
			break;
	if (i == ra->l.n)
		return sotto_error_set(e, SOTTO_E_USAGE, "var '%.64s' cannot "
		    "be mapped to a field in the set of known resources",
		    v->name);
	if ((n = lookup_path(ra->l.v[i].n, v->fieldpath)) == NULL)
		return sotto_error_set(e, SOTTO_E_USAGE, "field specified in "
		    "var '%.64s' (%.100s) not found in corresponding resource",
		    v->name, v->fieldpath);
	out->name = v->name;
	if (n->kind != SOTTO_NODE_SCALAR) {
		out->t = VT_OTHER;
		return SOTTO_OK;
	}
	switch (n->type) {
	case SOTTO_T_INT:
		/* strconv.Atoi of the text as written */
		if (!sotto_gofmt_parse_int(n->text, n->len, &iv) ||
		    strspn(n->text, "-+0123456789") != n->len)
			return sotto_error_set(e, SOTTO_E_USAGE, "var '%.64s': "
			    "cannot read '%.40s' as a number", v->name,
			    n->text);
		snprintf(buf, sizeof(buf), "%lld", (long long)iv);
		out->t = VT_INT;
		break;
	case SOTTO_T_FLOAT:
		if (!sotto_gofmt_parse_float(n->text, n->len, &fv))
			return sotto_error_set(e, SOTTO_E_USAGE, "var '%.64s': "
			    "cannot read '%.40s' as a number", v->name,
			    n->text);
		sotto_gofmt_float_g(buf, sizeof(buf), fv);
		out->t = VT_FLOAT;
		break;
	case SOTTO_T_BOOL:
		snprintf(buf, sizeof(buf), "%s", n->text[0] == 't' ||
		    n->text[0] == 'T' ? "true" : "false");
		out->t = VT_BOOL;
		break;
	default:
		out->t = VT_STR;
		out->text = strdup(n->text ? n->text : "");
		return out->text ? SOTTO_OK : oom(e);
	}
	return (out->text = strdup(buf)) ? SOTTO_OK : oom(e);
}

struct refvar {
	struct vval *vals;
	size_t n;
	struct rctx *c;
	const char *what;
	struct sotto_error *e;
};

static struct vval *
vlookup(struct refvar *r, const char *name, size_t nl)
{
	size_t lo = 0, hi = r->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strncmp(r->vals[mid].name, name, nl);
		if (c == 0 && r->vals[mid].name[nl] != '\0')
			c = 1;
		if (c == 0)
			return &r->vals[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* refvar.DoReplacements on one string node. */
static sotto_err
replace_node(struct refvar *r, struct sotto_node *n)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	const char *in = n->text ? n->text : "", *close;
	size_t len = n->len, i, ck = 0;
	struct vval *v;
	enum sotto_scalar_type t = SOTTO_T_STR;
	sotto_err err = SOTTO_OK;

	if (memchr(in, '$', len) == NULL)
		return SOTTO_OK;
	/* the whole value is one $(VAR): it takes the var's type */
	if (len > 3 && in[0] == '$' && in[1] == '(' && in[len - 1] == ')' &&
	    memchr(in + 2, ')', len - 3) == NULL &&
	    (v = vlookup(r, in + 2, len - 3)) != NULL && v->t != VT_OTHER) {
		v->uses++;
		t = v->t == VT_INT ? SOTTO_T_INT : v->t == VT_FLOAT ?
		    SOTTO_T_FLOAT : v->t == VT_BOOL ? SOTTO_T_BOOL :
		    SOTTO_T_STR;
		if ((err = rc_charge(r->c, strlen(v->text), 0, ".", r->e)) !=
		    SOTTO_OK)
			return err;
		if (sotto_tree_set_text(n, t, v->text, strlen(v->text)) !=
		    SOTTO_OK)
			return oom(r->e);
		n->style = 0;
		return SOTTO_OK;
	}
	for (i = 0; i < len && err == SOTTO_OK; i++) {
		if (in[i] != '$' || i + 1 >= len)
			continue;
		err = sotto_buf_add(&b, in + ck, i - ck);
		if (in[i + 1] == '$') {
			err = err ? err : sotto_buf_addch(&b, '$');
			i += 1;
		} else if (in[i + 1] == '(' && (close = memchr(in + i + 2, ')',
		    len - i - 2)) != NULL) {
			size_t nl = (size_t)(close - (in + i + 2));

			v = vlookup(r, in + i + 2, nl);
			if (v != NULL && v->t != VT_OTHER) {
				v->uses++;
				err = err ? err : sotto_buf_addstr(&b, v->text);
			} else {
				err = err ? err : sotto_buf_add(&b, in + i,
				    nl + 3);
			}
			i += nl + 2;
		} else {
			err = err ? err : sotto_buf_add(&b, in + i, 2);
			i += 1;
		}
		ck = i + 1;
	}
	if (err == SOTTO_OK && ck < len)
		err = sotto_buf_add(&b, in + ck, len - ck);
	if (err == SOTTO_OK)
		err = rc_charge(r->c, b.len, 0, ".", r->e);
	if (err == SOTTO_OK && sotto_tree_set_text(n, SOTTO_T_STR, b.len ?
	    (const char *)b.data : "", b.len) != SOTTO_OK)
		err = oom(r->e);
	if (err == SOTTO_OK)
		n->style = 0;
	sotto_buf_release(&b);
	return err;
}

static bool
is_string(const struct sotto_node *n)
{
	return n != NULL && n->kind == SOTTO_NODE_SCALAR &&
	    n->type == SOTTO_T_STR;
}

static sotto_err
set_refvar(struct sotto_node *n, void *arg, struct sotto_error *e)
{
	struct refvar *r = arg;
	size_t i;
	sotto_err err;

	(void)e;
	if (rn_is_null(n))
		return SOTTO_OK;
	switch (n->kind) {
	case SOTTO_NODE_SCALAR:
		return is_string(n) ? replace_node(r, n) : SOTTO_OK;
	case SOTTO_NODE_MAP:
		for (i = 0; i < n->n; i++)
			if (is_string(n->items[i].val) &&
			    (err = replace_node(r, n->items[i].val)) !=
			    SOTTO_OK)
				return err;
		return SOTTO_OK;
	case SOTTO_NODE_SEQ:
		for (i = 0; i < n->n; i++) {
			if (n->items[i].val != NULL &&
			    n->items[i].val->kind == SOTTO_NODE_COMMENT)
				continue;
			if (!is_string(n->items[i].val))
				return sotto_error_set(r->e, SOTTO_E_USAGE,
				    "%s: invalid value type expect a string",
				    r->what);
			if ((err = replace_node(r, n->items[i].val)) !=
			    SOTTO_OK)
				return err;
		}
		return SOTTO_OK;
	default:
		return SOTTO_OK;
	}
}

sotto_err
rv_resolve(struct racc *ra, struct rctx *c, struct sotto_error *e)
{
	struct refvar r;
	const struct rfsl *fs = &ra->cfg.fs[RCF_VARREF];
	size_t i, j;
	sotto_err err = SOTTO_OK;

	if (ra->nvars == 0)
		return SOTTO_OK;
	memset(&r, 0, sizeof(r));
	r.c = c;
	r.e = e;
	if ((r.vals = calloc(ra->nvars, sizeof(*r.vals))) == NULL)
		return oom(e);
	for (i = 0; i < ra->nvars && err == SOTTO_OK; i++, r.n++)
		err = var_value(&r.vals[i], &ra->vars[i], ra, e);
	qsort(r.vals, r.n, sizeof(*r.vals), vval_cmp);
	for (i = 0; i < ra->l.n && err == SOTTO_OK; i++) {
		struct robj *o = &ra->l.v[i];
		struct rid id;
		char what[512];

		robj_curid(o, &id);
		rid_string(what, sizeof(what), &id);
		r.what = what;
		for (j = 0; j < fs->n && err == SOTTO_OK; j++)
			if (rfs_match(&fs->v[j], o))
				err = rfs_walk(o->n, &fs->v[j], RFS_NOCREATE,
				    set_refvar, &r, what, e);
	}
	for (i = 0; i < r.n; i++)
		free(r.vals[i].text);
	free(r.vals);
	return err;
}
