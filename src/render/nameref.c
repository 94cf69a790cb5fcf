/* SPDX-License-Identifier: ISC */
/*
 * Name references (kustomize's nameReferenceTransformer and
 * api/filters/nameref): once the whole build is done and every generated
 * name has its hash, each field that refers to another object by name (the
 * configuration's nameReference field specs) gets that object's final
 * name, and for a reference with a namespace, its namespace.
 *
 * The object referred to is found as kustomize finds it: among objects the
 * referrer may see (same namespace, cluster-scoped, or a namespace its
 * RoleBinding subjects name), one that had the referenced name before a
 * rename (any earlier id), of the referenced kind, in the referrer's
 * namespace unless cluster-scoped or a ServiceAccount; between several,
 * the one whose name prefixes and suffixes end as the referrer's do.  Two
 * candidates left with different names is an error, never a guess.
 */
#include "render/rint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

/* What a sieve needs of each object, computed once. */
struct ninfo {
	const char *effns;	/* current effective namespace */
	const char *orgns;	/* original effective namespace */
	bool cs;		/* current id cluster-scoped */
	bool orgcs;		/* original id cluster-scoped */
};

/* Objects by each name they had before a rename (PrevIds). */
struct nindex {
	struct nslot {
		const char *name;
		size_t *at;	/* object indices, ascending */
		size_t n, cap;
	} *slot;
	size_t cap;
};

struct nr {
	struct rctx *c;
	struct rlist *l;
	struct ninfo *info;
	struct nindex idx;
	/* the referrer */
	size_t ri;
	struct rid rcur;
	const char *rkind;
	struct rstrv rbns;	/* namespaces its RoleBinding subjects name */
	/* the field spec */
	const struct rfs *fs;
	const struct rnbr *tgt;
	size_t *cand, ncand;	/* scratch */
	char what[512];
	struct sotto_error *e;
};

static size_t
nhash(const char *s)
{
	size_t h = 1469598103934665603ull;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct nslot *
index_get(struct nindex *x, const char *name, bool add)
{
	size_t s = nhash(name) & (x->cap - 1);

	while (x->slot[s].name != NULL) {
		if (strcmp(x->slot[s].name, name) == 0)
			return &x->slot[s];
		s = (s + 1) & (x->cap - 1);
	}
	if (!add)
		return NULL;
	x->slot[s].name = name;
	return &x->slot[s];
}

static sotto_err
index_build(struct nr *n)
{
	size_t total = 0, i, j;

	for (i = 0; i < n->l->n; i++)
		total += n->l->v[i].nprev;
	for (n->idx.cap = 64; n->idx.cap < total * 2; n->idx.cap *= 2)
		;
	if ((n->idx.slot = calloc(n->idx.cap, sizeof(*n->idx.slot))) == NULL)
		return SOTTO_E_NOMEM;
	for (i = 0; i < n->l->n; i++)
		for (j = 0; j < n->l->v[i].nprev; j++) {
			struct nslot *s = index_get(&n->idx,
			    n->l->v[i].prev[j].name, true);

			if (s->n > 0 && s->at[s->n - 1] == i)
				continue;
			if (s->n == s->cap) {
				size_t nc = s->cap ? s->cap * 2 : 4;
				size_t *a = realloc(s->at, nc * sizeof(*a));

				if (a == NULL)
					return SOTTO_E_NOMEM;
				s->at = a;
				s->cap = nc;
			}
			s->at[s->n++] = i;
		}
	return SOTTO_OK;
}

static void
index_free(struct nindex *x)
{
	size_t i;

	for (i = 0; i < x->cap; i++)
		free(x->slot[i].at);
	free(x->slot);
}

/* ---- sieves ---- */

static bool
prev_gvk_selected(const struct robj *o, const char *g, const char *v,
    const char *k)
{
	struct rid id;
	size_t i;

	for (i = 0; i < o->nprev; i++) {
		robj_previd(o, i, &id);
		if (rid_gvk_selected(&id, g, v, k))
			return true;
	}
	return false;
}

/* SameEndingSubSlice: the shorter list ends the longer one. */
static bool
same_ending(const struct rstrv *a, const struct rstrv *b)
{
	const struct rstrv *s = a->n <= b->n ? a : b, *l = s == a ? b : a;
	size_t d = l->n - s->n, i;

	if (s->n == 0)
		return d == 0;
	for (i = 0; i < s->n; i++)
		if (strcmp(l->v[i + d], s->v[i]) != 0)
			return false;
	return true;
}

static bool
affixes_equal(const struct robj *c, const struct robj *r, bool allow_empty)
{
	if (allow_empty)
		return (c->pfx.n == 0 || r->pfx.n == 0 ||
		    same_ending(&c->pfx, &r->pfx)) &&
		    (c->sfx.n == 0 || r->sfx.n == 0 ||
		    same_ending(&c->sfx, &r->sfx));
	return same_ending(&c->pfx, &r->pfx) && same_ending(&c->sfx, &r->sfx);
}

/* SubsetThatCouldBeReferencedByResource, for one candidate. */
static bool
visible(const struct nr *n, size_t i)
{
	const struct ninfo *ri = &n->info[n->ri], *ci = &n->info[i];
	const char *ns;

	if (ri->cs || ci->cs || strcmp(ci->effns, ri->effns) == 0)
		return true;
	ns = robj_ns(&n->l->v[i]);
	return rsv_has(&n->rbns, ns ? ns : "");
}

/* roleRefFilter: a roleRef/name names an object of its roleRef's
 * apiGroup and kind. */
static bool
roleref_ok(const struct nr *n, const struct robj *c)
{
	size_t pl = strlen(n->fs->path);
	const struct sotto_node *rr;
	const char *g, *k;

	if (pl < 12 || strcmp(n->fs->path + pl - 12, "roleRef/name") != 0)
		return true;
	rr = rn_get(n->l->v[n->ri].n, "roleRef");
	if (rr == NULL || rr->kind != SOTTO_NODE_MAP ||
	    (g = rn_str(rr, "apiGroup")) == NULL ||
	    (k = rn_str(rr, "kind")) == NULL)
		return true;
	return prev_gvk_selected(c, g, "", k);
}

static bool
same_ns_as_referrer(const struct nr *n, size_t i)
{
	const struct ninfo *ri = &n->info[n->ri], *ci = &n->info[i];

	return ri->cs || ci->cs ||
	    strcmp(robj_kind(&n->l->v[i]), "ServiceAccount") == 0 ||
	    strcmp(ci->effns, ri->effns) == 0;
}

/*
 * The candidates for old: objects visible to the referrer (and, for a
 * reference with a namespace, in that original or current namespace),
 * filtered as kustomize's selectReferral does.  *out: the referral, or
 * -1 when none.  mapping: the reference is a map (name and namespace
 * must agree between candidates); mapns: its namespace field or NULL.
 */
static sotto_err
select_referral(struct nr *n, const char *old, bool mapping,
    const char *mapns, ssize_t *out)
{
	const struct nslot *s;
	const struct robj *r = &n->l->v[n->ri];
	size_t i, k, m;
	bool by_org = false;

	*out = -1;
	n->ncand = 0;
	if (n->idx.cap == 0 || (s = index_get(&n->idx, old, false)) == NULL)
		return SOTTO_OK;
	/* a namespace field: original namespace first, else current */
	if (mapns != NULL)
		for (i = 0; i < n->l->n && !by_org; i++)
			by_org = visible(n, i) && !n->info[i].orgcs &&
			    strcmp(n->info[i].orgns, mapns) == 0;
	for (k = 0; k < s->n; k++) {
		size_t i2 = s->at[k];
		const struct robj *c = &n->l->v[i2];

		if (!visible(n, i2))
			continue;
		if (mapns != NULL && (by_org ? (n->info[i2].orgcs ||
		    strcmp(n->info[i2].orgns, mapns) != 0) :
		    (n->info[i2].cs || strcmp(n->info[i2].effns, mapns) !=
		    0)))
			continue;
		if (!prev_gvk_selected(c, n->tgt->group, n->tgt->version,
		    n->tgt->kind) || !roleref_ok(n, c) ||
		    !same_ns_as_referrer(n, i2))
			continue;
		n->cand[n->ncand++] = i2;
	}
	if (n->ncand == 1) {
		*out = (ssize_t)n->cand[0];
		return SOTTO_OK;
	}
	for (k = m = 0; k < n->ncand; k++)
		if (affixes_equal(&n->l->v[n->cand[k]], r, true))
			n->cand[m++] = n->cand[k];
	n->ncand = m;
	if (n->ncand > 1) {
		for (k = m = 0; k < n->ncand; k++)
			if (affixes_equal(&n->l->v[n->cand[k]], r, false))
				n->cand[m++] = n->cand[k];
		n->ncand = m;
	}
	if (n->ncand == 0)
		return SOTTO_OK;
	for (k = 1; k < n->ncand; k++) {
		const struct robj *a = &n->l->v[n->cand[0]];
		const struct robj *b = &n->l->v[n->cand[k]];
		const char *an = robj_ns(a), *bn = robj_ns(b);

		if (strcmp(robj_name(a), robj_name(b)) != 0 ||
		    (mapping && strcmp(an ? an : "", bn ? bn : "") != 0))
			break;
	}
	if (k == n->ncand) {
		*out = (ssize_t)n->cand[0];
		return SOTTO_OK;
	}
	{
		struct sotto_buf ids = SOTTO_BUF_INIT;
		struct rid id;
		char buf[512];

		for (k = 0; k < n->ncand && k < 8; k++) {
			robj_curid(&n->l->v[n->cand[k]], &id);
			rid_string(buf, sizeof(buf), &id);
			sotto_buf_addf(&ids, "%s%s", k ? ", " : "", buf);
		}
		sotto_buf_addch(&ids, '\0');
		sotto_error_set(n->e, SOTTO_E_USAGE, "updating name reference "
		    "in '%.100s' field of '%s': found multiple possible "
		    "referrals: %s", n->fs->path, n->what, ids.data ?
		    (const char *)ids.data : "");
		sotto_buf_release(&ids);
		return SOTTO_E_USAGE;
	}
}

/* ---- setters ---- */

static sotto_err
set_scalar(struct nr *n, struct sotto_node *node)
{
	ssize_t at;
	const char *nn;
	sotto_err err;

	if ((err = select_referral(n, rn_value(node), false, NULL, &at)) !=
	    SOTTO_OK || at < 0)
		return err;
	nn = robj_name(&n->l->v[at]);
	if (strcmp(nn, rn_value(node)) == 0)
		return SOTTO_OK;
	if ((err = rc_charge(n->c, strlen(nn), 0, ".", n->e)) != SOTTO_OK)
		return err;
	return sotto_tree_set_text(node, SOTTO_T_STR, nn, strlen(nn)) ==
	    SOTTO_OK ? SOTTO_OK : oom(n->e);
}

static sotto_err
set_mapping(struct nr *n, struct sotto_node *node)
{
	struct sotto_node *name = rn_get(node, "name");
	struct sotto_node *nsn = rn_get(node, "namespace");
	const struct robj *ref;
	const char *ns;
	ssize_t at;
	sotto_err err;

	if (name == NULL)
		return sotto_error_set(n->e, SOTTO_E_USAGE, "updating name "
		    "reference in '%.100s' field of '%s': no 'name' field",
		    n->fs->path, n->what);
	if ((err = select_referral(n, rn_value(name), true, nsn != NULL ?
	    rn_value(nsn) : NULL, &at)) != SOTTO_OK || at < 0)
		return err;
	ref = &n->l->v[at];
	ns = robj_ns(ref);
	if (strcmp(robj_name(ref), rn_value(name)) == 0 &&
	    (ns == NULL || ns[0] == '\0'))
		return SOTTO_OK;
	if ((err = rc_charge(n->c, strlen(robj_name(ref)) + (ns ?
	    strlen(ns) : 0), 0, ".", n->e)) != SOTTO_OK)
		return err;
	if (rn_set_str(node, "name", robj_name(ref)) != SOTTO_OK ||
	    (ns != NULL && ns[0] != '\0' && rn_set_str(node, "namespace",
	    ns) != SOTTO_OK))
		return oom(n->e);
	return SOTTO_OK;
}

static sotto_err
set_ref(struct sotto_node *node, void *arg, struct sotto_error *e)
{
	struct nr *n = arg;
	size_t i;
	sotto_err err;

	(void)e;
	if (rn_is_null(node))
		return SOTTO_OK;
	switch (node->kind) {
	case SOTTO_NODE_SCALAR:
		return set_scalar(n, node);
	case SOTTO_NODE_MAP:
		return set_mapping(n, node);
	case SOTTO_NODE_SEQ:
		for (i = 0; i < node->n; i++) {
			struct sotto_node *it = node->items[i].val;

			if (rn_is_null(it) || it->kind == SOTTO_NODE_COMMENT)
				continue;
			if (it->kind == SOTTO_NODE_SCALAR)
				err = set_scalar(n, it);
			else if (it->kind == SOTTO_NODE_MAP)
				err = set_mapping(n, it);
			else
				err = sotto_error_set(n->e, SOTTO_E_USAGE,
				    "updating name reference in '%.100s' "
				    "field of '%s': expected a string or a "
				    "map", n->fs->path, n->what);
			if (err != SOTTO_OK)
				return err;
		}
		return SOTTO_OK;
	default:
		return SOTTO_OK;
	}
}

/* getNamespacesForRoleBinding: a ServiceAccount subject's namespace must
 * be a string (kustomize: "namespace is blank"). */
static sotto_err
rolebinding_namespaces(struct nr *n, const struct robj *r)
{
	const struct sotto_node *subj = rn_get(r->n, "subjects");
	size_t i;

	rsv_free(&n->rbns);
	if (strcmp(robj_kind(r), "RoleBinding") != 0 || subj == NULL ||
	    subj->kind != SOTTO_NODE_SEQ)
		return SOTTO_OK;
	for (i = 0; i < subj->n; i++) {
		const struct sotto_node *s = subj->items[i].val;
		const struct sotto_node *ns = rn_get(s, "namespace");

		if (ns == NULL || rn_get(s, "kind") == NULL ||
		    strcmp(rn_value(rn_get(s, "kind")), "ServiceAccount") != 0)
			continue;
		if (ns->kind != SOTTO_NODE_SCALAR || ns->type == SOTTO_T_NULL)
			return sotto_error_set(n->e, SOTTO_E_USAGE, "Invalid "
			    "Input: namespace is blank for resource '%s'",
			    n->what);
		if (rsv_push(&n->rbns, rn_value(ns)) != SOTTO_OK)
			return oom(n->e);
	}
	return SOTTO_OK;
}

static sotto_err
referrer(struct nr *n, const struct rcfg *cfg)
{
	struct robj *r = &n->l->v[n->ri];
	struct rid org;
	bool prepared = false;
	size_t b, j;
	sotto_err err;

	robj_orgid(r, &org);
	for (b = 0; b < cfg->nnbr; b++) {
		const struct rnbr *t = &cfg->nbr[b];

		for (j = 0; j < t->refs.n; j++) {
			const struct rfs *f = &t->refs.v[j];

			if (!rid_gvk_selected(&org, f->group, f->version,
			    f->kind))
				continue;
			if (!prepared) {
				robj_curid(r, &n->rcur);
				rid_string(n->what, sizeof(n->what), &n->rcur);
				if (!n->info[n->ri].cs &&
				    (err = rolebinding_namespaces(n, r)) !=
				    SOTTO_OK)
					return err;
				prepared = true;
			}
			n->fs = f;
			n->tgt = t;
			if ((err = rfs_walk(r->n, f, RFS_NOCREATE, set_ref, n,
			    n->what, n->e)) != SOTTO_OK)
				return err;
			/* the walk may have moved nodes the orgid used */
			robj_orgid(r, &org);
		}
	}
	return SOTTO_OK;
}

sotto_err
rt_namerefs(struct rlist *l, struct rctx *c, const struct rcfg *cfg,
    struct sotto_error *e)
{
	struct nr n;
	struct rid id;
	size_t i;
	sotto_err err = SOTTO_OK;

	if (l->n == 0 || cfg->nnbr == 0)
		return SOTTO_OK;
	memset(&n, 0, sizeof(n));
	n.c = c;
	n.l = l;
	n.e = e;
	if ((n.info = calloc(l->n, sizeof(*n.info))) == NULL ||
	    (n.cand = calloc(l->n, sizeof(*n.cand))) == NULL ||
	    index_build(&n) != SOTTO_OK) {
		err = oom(e);
		goto out;
	}
	/* names and namespaces do not change while references are fixed */
	for (i = 0; i < l->n; i++) {
		robj_curid(&l->v[i], &id);
		n.info[i].cs = rid_cluster_scoped(c, &id);
		n.info[i].effns = rid_eff_ns(c, &id);
		robj_orgid(&l->v[i], &id);
		n.info[i].orgcs = rid_cluster_scoped(c, &id);
		n.info[i].orgns = rid_eff_ns(c, &id);
	}
	for (i = 0; i < l->n && err == SOTTO_OK; i++) {
		n.ri = i;
		err = referrer(&n, cfg);
	}
out:
	rsv_free(&n.rbns);
	index_free(&n.idx);
	free(n.cand);
	free(n.info);
	return err;
}
