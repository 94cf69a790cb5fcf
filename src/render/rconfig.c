/* SPDX-License-Identifier: ISC */
/*
 * Transformer configurations (kustomize's builtinconfig.TransformerConfig):
 * the default field specs (fieldspecs.c) as a config, the kustomizeconfig
 * files a kustomization lists in `configurations`, merging them as
 * kustomize does (a field spec equal to one already there is dropped, one
 * that differs only in `create` is an error, then the lists are sorted),
 * and the field-spec walk every field-spec transformer uses
 * (api/filters/fieldspec).  Also the render's string pool, where every
 * field-spec string lives until the render ends.
 */
#include "render/rint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "render/build.h"
#include "render/fieldspecs.h"
#include "render/kust.h"

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

/* ---- string pool ---- */

struct rpool {
	char *s;
	size_t len;
	const char **seg;	/* path segments, split on first use */
	size_t nseg;
	bool split;
};

static size_t
phash(const char *s, size_t n)
{
	size_t h = 1469598103934665603ull, i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static sotto_err
pool_grow(struct rctx *c)
{
	size_t nc, i, slot;
	struct rpool *p;

	if (c->npool == c->cpool) {
		nc = c->cpool ? c->cpool * 2 : 256;
		if ((p = realloc(c->pool, nc * sizeof(*p))) == NULL)
			return SOTTO_E_NOMEM;
		c->pool = p;
		c->cpool = nc;
	}
	if ((c->npool + 1) * 2 <= c->phcap)
		return SOTTO_OK;
	nc = c->phcap ? c->phcap * 2 : 512;
	free(c->phash);
	if ((c->phash = calloc(nc, sizeof(*c->phash))) == NULL) {
		c->phcap = 0;
		return SOTTO_E_NOMEM;
	}
	c->phcap = nc;
	for (i = 0; i < c->npool; i++) {
		slot = phash(c->pool[i].s, c->pool[i].len) & (nc - 1);
		while (c->phash[slot] != 0)
			slot = (slot + 1) & (nc - 1);
		c->phash[slot] = i + 1;
	}
	return SOTTO_OK;
}

static struct rpool *
pool_get(struct rctx *c, const char *s, size_t n)
{
	size_t slot;
	struct rpool *p;

	if (pool_grow(c) != SOTTO_OK)
		return NULL;
	for (slot = phash(s, n) & (c->phcap - 1); c->phash[slot] != 0;
	    slot = (slot + 1) & (c->phcap - 1)) {
		p = &c->pool[c->phash[slot] - 1];
		if (p->len == n && memcmp(p->s, s, n) == 0)
			return p;
	}
	p = &c->pool[c->npool];
	memset(p, 0, sizeof(*p));
	if ((p->s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p->s, s, n);
	p->s[n] = '\0';
	p->len = n;
	c->phash[slot] = ++c->npool;
	return p;
}

const char *
rc_intern(struct rctx *c, const char *s, size_t n)
{
	struct rpool *p = pool_get(c, s, n);

	return p ? p->s : NULL;
}

/* kyaml's utils.PathSplitter(path, "/"). */
static sotto_err
split_path(struct rpool *p)
{
	const char *s = p->s, *q;
	size_t n = 1, k = 0, len;
	char *buf, *w;

	for (q = s; *q != '\0'; q++)
		n += *q == '/';
	if ((p->seg = calloc(n, sizeof(*p->seg))) == NULL)
		return SOTTO_E_NOMEM;
	/* one buffer holds every segment, NUL-separated */
	if ((buf = malloc(p->len + 1)) == NULL) {
		free(p->seg);
		p->seg = NULL;
		return SOTTO_E_NOMEM;
	}
	if (s[0] == '/' && strchr(s + 1, '/') != NULL)
		s++;
	else if (s[0] == '/' && s[1] != '\0')
		s++;
	w = buf;
	p->seg[k++] = w;
	for (q = s; *q != '\0'; q++) {
		if (*q != '/') {
			*w++ = *q;
			continue;
		}
		len = (size_t)(w - p->seg[k - 1]);
		if (len > 0 && w[-1] == '\\') {
			w[-1] = '/';
			continue;
		}
		*w++ = '\0';
		p->seg[k++] = w;
	}
	*w = '\0';
	p->nseg = k;
	p->split = true;
	return SOTTO_OK;
}

const char *
rc_intern_path(struct rctx *c, const char *path, const char *const **seg,
    size_t *nseg)
{
	struct rpool *p = pool_get(c, path, strlen(path));

	if (p == NULL || (!p->split && split_path(p) != SOTTO_OK))
		return NULL;
	*seg = p->seg;
	*nseg = p->nseg;
	return p->s;
}

void
rc_pool_free(struct rctx *c)
{
	size_t i;

	for (i = 0; i < c->npool; i++) {
		free(c->pool[i].s);
		if (c->pool[i].seg != NULL)
			free((void *)c->pool[i].seg[0]);
		free(c->pool[i].seg);
	}
	free(c->pool);
	free(c->phash);
	c->pool = NULL;
	c->phash = NULL;
	c->npool = c->cpool = c->phcap = 0;
}

/* ---- field-spec lists ---- */

sotto_err
rfsl_add(struct rfsl *l, struct rctx *c, const char *group,
    const char *version, const char *kind, const char *path, bool create,
    struct sotto_error *e)
{
	struct rfs *f;

	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;

		if ((f = realloc(l->v, nc * sizeof(*f))) == NULL)
			return oom(e);
		l->v = f;
		l->cap = nc;
	}
	f = &l->v[l->n];
	f->group = rc_intern(c, group, strlen(group));
	f->version = rc_intern(c, version, strlen(version));
	f->kind = rc_intern(c, kind, strlen(kind));
	f->path = rc_intern_path(c, path, &f->seg, &f->nseg);
	f->create = create;
	if (f->group == NULL || f->version == NULL || f->kind == NULL ||
	    f->path == NULL)
		return oom(e);
	l->n++;
	return SOTTO_OK;
}

static sotto_err
rfsl_push(struct rfsl *l, const struct rfs *x)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct rfs *f = realloc(l->v, nc * sizeof(*f));

		if (f == NULL)
			return SOTTO_E_NOMEM;
		l->v = f;
		l->cap = nc;
	}
	l->v[l->n++] = *x;
	return SOTTO_OK;
}

void
rfsl_free(struct rfsl *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

sotto_err
rfsl_copy(struct rfsl *d, const struct rfsl *s, struct sotto_error *e)
{
	memset(d, 0, sizeof(*d));
	if (s->n == 0)
		return SOTTO_OK;
	if ((d->v = malloc(s->n * sizeof(*d->v))) == NULL)
		return oom(e);
	memcpy(d->v, s->v, s->n * sizeof(*d->v));
	d->n = d->cap = s->n;
	return SOTTO_OK;
}

/* Gvk.IsSelected with strings that are "" for any. */
static bool
gvk_selected(const char *g, const char *v, const char *k, const char *sg,
    const char *sv, const char *sk)
{
	return (sg[0] == '\0' || strcmp(g, sg) == 0) &&
	    (sv[0] == '\0' || strcmp(v, sv) == 0) &&
	    (sk[0] == '\0' || strcmp(k, sk) == 0);
}

/* FieldSpec.effectivelyEquals: x (already there) is selected by f's gvk
 * and has the same path.  Strings are interned: pointers compare. */
static bool
fs_eff_equal(const struct rfs *x, const struct rfs *f)
{
	return x->path == f->path && gvk_selected(x->group, x->version,
	    x->kind, f->group, f->version, f->kind);
}

static sotto_err
rfsl_merge_one(struct rfsl *dst, const struct rfs *f, struct sotto_error *e)
{
	size_t i;

	for (i = 0; i < dst->n; i++)
		if (fs_eff_equal(&dst->v[i], f)) {
			if (dst->v[i].create != f->create)
				return sotto_error_set(e, SOTTO_E_USAGE,
				    "conflicting fieldspecs for '%.200s'",
				    f->path);
			return SOTTO_OK;
		}
	return rfsl_push(dst, f) == SOTTO_OK ? SOTTO_OK : oom(e);
}

sotto_err
rfsl_merge(struct rfsl *dst, const struct rfsl *src, struct sotto_error *e)
{
	size_t i;
	sotto_err err;

	for (i = 0; i < src->n; i++)
		if ((err = rfsl_merge_one(dst, &src->v[i], e)) != SOTTO_OK)
			return err;
	return SOTTO_OK;
}

/* kyaml resid gvk.go orderFirst/orderLast (the sort of kinds). */
static const char *const kind_first[] = {
	"Namespace", "ResourceQuota", "StorageClass",
	"CustomResourceDefinition", "ServiceAccount", "PodSecurityPolicy",
	"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding",
	"ConfigMap", "Secret", "Endpoints", "Service", "LimitRange",
	"PriorityClass", "PersistentVolume", "PersistentVolumeClaim",
	"Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget"
};

static int
kind_order(const char *k)
{
	size_t nf = sizeof(kind_first) / sizeof(kind_first[0]), i;

	for (i = 0; i < nf; i++)
		if (strcmp(k, kind_first[i]) == 0)
			return (int)i - (int)nf;
	if (strcmp(k, "MutatingWebhookConfiguration") == 0)
		return 1;
	if (strcmp(k, "ValidatingWebhookConfiguration") == 0)
		return 2;
	return 0;
}

/* Gvk.IsLessThan, as a comparison. */
static int
gvk_cmp(const char *ag, const char *av, const char *ak, const char *bg,
    const char *bv, const char *bk)
{
	int a = kind_order(ak), b = kind_order(bk), r;

	if (a != b)
		return a < b ? -1 : 1;
	/* the "g_v_k" string with ~G, ~V, ~K for empty parts */
	if ((r = strcmp(ag[0] ? ag : "~G", bg[0] ? bg : "~G")) != 0)
		return r;
	if ((r = strcmp(av[0] ? av : "~V", bv[0] ? bv : "~V")) != 0)
		return r;
	return strcmp(ak[0] ? ak : "~K", bk[0] ? bk : "~K");
}

/* A stable insertion sort: lists are short and mostly sorted. */
static void
rfsl_sort(struct rfsl *l)
{
	size_t i, j;
	struct rfs t;

	for (i = 1; i < l->n; i++) {
		t = l->v[i];
		for (j = i; j > 0 && gvk_cmp(t.group, t.version, t.kind,
		    l->v[j - 1].group, l->v[j - 1].version,
		    l->v[j - 1].kind) < 0; j--)
			l->v[j] = l->v[j - 1];
		l->v[j] = t;
	}
}

/* ---- configs ---- */

void
rcfg_free(struct rcfg *cfg)
{
	size_t i;

	for (i = 0; i < RCF_N; i++)
		rfsl_free(&cfg->fs[i]);
	for (i = 0; i < cfg->nnbr; i++)
		rfsl_free(&cfg->nbr[i].refs);
	free(cfg->nbr);
	memset(cfg, 0, sizeof(*cfg));
}

sotto_err
rcfg_copy(struct rcfg *dst, const struct rcfg *src, struct sotto_error *e)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->state = src->state;
	dst->has_base = src->has_base;
	for (i = 0; i < RCF_N; i++)
		if (rfsl_copy(&dst->fs[i], &src->fs[i], e) != SOTTO_OK)
			goto fail;
	if (src->nnbr > 0 && (dst->nbr = calloc(src->nnbr,
	    sizeof(*dst->nbr))) == NULL)
		goto fail;
	dst->cnbr = src->nnbr;
	for (i = 0; i < src->nnbr; i++) {
		dst->nbr[i] = src->nbr[i];
		memset(&dst->nbr[i].refs, 0, sizeof(dst->nbr[i].refs));
		dst->nnbr++;
		if (rfsl_copy(&dst->nbr[i].refs, &src->nbr[i].refs, e) !=
		    SOTTO_OK)
			goto fail;
	}
	return SOTTO_OK;
fail:
	rcfg_free(dst);
	return oom(e);
}

static struct rnbr *
nbr_push(struct rcfg *cfg)
{
	struct rnbr *n;

	if (cfg->nnbr == cfg->cnbr) {
		size_t nc = cfg->cnbr ? cfg->cnbr * 2 : 16;

		if ((n = realloc(cfg->nbr, nc * sizeof(*n))) == NULL)
			return NULL;
		cfg->nbr = n;
		cfg->cnbr = nc;
	}
	n = &cfg->nbr[cfg->nnbr++];
	memset(n, 0, sizeof(*n));
	return n;
}

/* A nameReference entry added as it is (refs not merged), as the
 * default config and kustomize's mergeOne of a new kind do. */
sotto_err
rcfg_add_nbr(struct rcfg *cfg, struct rctx *c, const char *group,
    const char *version, const char *kind, const struct rfsl *refs,
    struct sotto_error *e)
{
	struct rnbr *n;
	size_t i;

	for (i = 0; i < cfg->nnbr; i++) {
		n = &cfg->nbr[i];
		if (strcmp(n->group, group) == 0 &&
		    strcmp(n->version, version) == 0 &&
		    strcmp(n->kind, kind) == 0)
			return rfsl_merge(&n->refs, refs, e);
	}
	if ((n = nbr_push(cfg)) == NULL)
		return oom(e);
	n->group = rc_intern(c, group, strlen(group));
	n->version = rc_intern(c, version, strlen(version));
	n->kind = rc_intern(c, kind, strlen(kind));
	if (n->group == NULL || n->version == NULL || n->kind == NULL ||
	    rfsl_copy(&n->refs, refs, e) != SOTTO_OK)
		return oom(e);
	return SOTTO_OK;
}

static void
nbr_sort(struct rcfg *cfg)
{
	size_t i, j;
	struct rnbr t;

	for (i = 1; i < cfg->nnbr; i++) {
		t = cfg->nbr[i];
		for (j = i; j > 0 && gvk_cmp(t.group, t.version, t.kind,
		    cfg->nbr[j - 1].group, cfg->nbr[j - 1].version,
		    cfg->nbr[j - 1].kind) < 0; j--)
			cfg->nbr[j] = cfg->nbr[j - 1];
		cfg->nbr[j] = t;
	}
}

static void
rcfg_sort(struct rcfg *cfg)
{
	size_t i;

	for (i = 0; i < RCF_N; i++)
		rfsl_sort(&cfg->fs[i]);
	nbr_sort(cfg);
}

static sotto_err
merge_into(struct rcfg *dst, const struct rcfg *src, struct sotto_error *e)
{
	size_t i, j;
	sotto_err err;

	for (i = 0; i < RCF_N; i++)
		if ((err = rfsl_merge(&dst->fs[i], &src->fs[i], e)) !=
		    SOTTO_OK)
			return err;
	for (i = 0; i < src->nnbr; i++) {
		const struct rnbr *s = &src->nbr[i];

		for (j = 0; j < dst->nnbr; j++)
			if (dst->nbr[j].group == s->group &&
			    dst->nbr[j].version == s->version &&
			    dst->nbr[j].kind == s->kind)
				break;
		if (j < dst->nnbr) {
			if ((err = rfsl_merge(&dst->nbr[j].refs, &s->refs,
			    e)) != SOTTO_OK)
				return err;
			continue;
		}
		{
			struct rnbr *b = nbr_push(dst);

			if (b == NULL)
				return oom(e);
			b->group = s->group;
			b->version = s->version;
			b->kind = s->kind;
			if ((err = rfsl_copy(&b->refs, &s->refs, e)) !=
			    SOTTO_OK)
				return err;
		}
	}
	rcfg_sort(dst);
	return SOTTO_OK;
}

static bool
cfg_empty(const struct rcfg *cfg)
{
	size_t i;

	for (i = 0; i < RCF_N; i++)
		if (cfg->fs[i].n > 0)
			return false;
	return cfg->nnbr == 0;
}

sotto_err
rcfg_default(struct rcfg *out, struct rctx *c, struct sotto_error *e)
{
	const struct fsrow *rows;
	const struct nrtab *nr;
	struct rfsl refs;
	size_t n, i, j;
	sotto_err err;

	if (c->have_defcfg)
		return rcfg_copy(out, &c->defcfg, e);
	memset(&c->defcfg, 0, sizeof(c->defcfg));
	rows = rfs_default_rows(&n);
	for (i = 0; i < n; i++)
		if ((err = rfsl_add(&c->defcfg.fs[rows[i].field], c,
		    rows[i].group, rows[i].version, rows[i].kind,
		    rows[i].path, rows[i].create, e)) != SOTTO_OK)
			goto fail;
	nr = rfs_default_namerefs(&n);
	for (i = 0; i < n; i++) {
		struct rnbr *b;

		memset(&refs, 0, sizeof(refs));
		for (j = 0; j < nr[i].n; j++)
			if ((err = rfsl_add(&refs, c, nr[i].rows[j].group,
			    nr[i].rows[j].version, nr[i].rows[j].kind,
			    nr[i].rows[j].path, false, e)) != SOTTO_OK) {
				rfsl_free(&refs);
				goto fail;
			}
		if ((b = nbr_push(&c->defcfg)) == NULL) {
			rfsl_free(&refs);
			err = oom(e);
			goto fail;
		}
		b->group = rc_intern(c, nr[i].group, strlen(nr[i].group));
		b->version = rc_intern(c, nr[i].version,
		    strlen(nr[i].version));
		b->kind = rc_intern(c, nr[i].kind, strlen(nr[i].kind));
		b->refs = refs;
	}
	rcfg_sort(&c->defcfg);
	c->defcfg.state = RCS_DEFAULT;
	/* what every accumulator starts from: empty merged with it */
	memset(&c->basecfg, 0, sizeof(c->basecfg));
	if ((err = merge_into(&c->basecfg, &c->defcfg, e)) != SOTTO_OK)
		goto fail;
	c->basecfg.state = RCS_BASE;
	c->basecfg.has_base = true;
	c->have_defcfg = true;
	return rcfg_copy(out, &c->defcfg, e);
fail:
	rcfg_free(&c->defcfg);
	rcfg_free(&c->basecfg);
	return err;
}

sotto_err
rcfg_merge(struct rcfg *dst, const struct rcfg *src, struct rctx *c,
    struct sotto_error *e)
{
	bool def = src->state == RCS_DEFAULT || src->state == RCS_BASE;
	sotto_err err;

	if (cfg_empty(src))
		return SOTTO_OK;
	/* the default config merged again changes nothing */
	if (def && dst->has_base)
		return SOTTO_OK;
	if (def && cfg_empty(dst) && c->have_defcfg) {
		rcfg_free(dst);
		if ((err = rcfg_copy(dst, &c->basecfg, e)) != SOTTO_OK)
			return err;
		dst->has_base = true;
		return SOTTO_OK;
	}
	if ((err = merge_into(dst, src, e)) != SOTTO_OK)
		return err;
	dst->state = RCS_OTHER;
	dst->has_base = dst->has_base || def || src->has_base;
	return SOTTO_OK;
}

/* ---- the field-spec walk ---- */

struct walk {
	const struct rfs *fs;
	int ck;			/* kind to create at the end, or -1 */
	rfs_set_fn set;
	void *arg;
	const char *what;	/* the object, for messages */
	struct sotto_error *e;
};

static struct sotto_node *
new_of_kind(int kind)
{
	switch (kind) {
	case SOTTO_NODE_MAP:
		return sotto_tree_new_map();
	case SOTTO_NODE_SEQ:
		return sotto_tree_new_seq();
	default:
		return sotto_tree_new_scalar(SOTTO_T_STR, "", 0);
	}
}

static sotto_err walk_node(const struct walk *w, struct sotto_node *obj,
    size_t at);

/* fieldspec handleMap: one path segment in a map. */
static sotto_err
walk_map(const struct walk *w, struct sotto_node *obj, size_t at)
{
	const char *seg = w->fs->seg[at];
	size_t sl = strlen(seg), i;
	bool seq = sl >= 2 && strcmp(seg + sl - 2, "[]") == 0;
	bool last = at + 1 == w->fs->nseg;
	bool create = w->fs->create && w->ck >= 0 && !seq;
	int kind = seq ? SOTTO_NODE_SEQ : !create ? -1 :
	    last ? w->ck : SOTTO_NODE_MAP;
	char name[256];
	struct sotto_node *field = NULL, *nn;

	if (seq)
		sl -= 2;
	if (sl == 0)
		return sotto_error_set(w->e, SOTTO_E_USAGE, "considering "
		    "field '%.200s' of object %s: cannot set or create an "
		    "empty field name", w->fs->path, w->what);
	if (sl >= sizeof(name))
		return SOTTO_OK;
	memcpy(name, seg, sl);
	name[sl] = '\0';
	for (i = 0; i < obj->n; i++)
		if (obj->items[i].key != NULL &&
		    obj->items[i].keylen == sl &&
		    memcmp(obj->items[i].key, name, sl) == 0)
			break;
	if (i < obj->n)
		field = obj->items[i].val;
	if (field == NULL && i == obj->n) {
		if (!create)
			return SOTTO_OK;
		if ((nn = new_of_kind(kind)) == NULL ||
		    sotto_tree_map_add(obj, name, sl, nn) != SOTTO_OK) {
			sotto_tree_node_free(nn, true);
			return sotto_error_set(w->e, SOTTO_E_NOMEM,
			    "out of memory");
		}
		field = nn;
	} else if (rn_is_null(field) && kind >= 0) {
		/* a null field becomes what would have been created */
		if ((nn = new_of_kind(kind)) == NULL)
			return sotto_error_set(w->e, SOTTO_E_NOMEM,
			    "out of memory");
		sotto_tree_node_free(field, true);
		obj->items[i].val = field = nn;
	}
	return walk_node(w, field, at + 1);
}

static sotto_err
walk_node(const struct walk *w, struct sotto_node *obj, size_t at)
{
	size_t i;
	sotto_err err;

	if (at == w->fs->nseg)
		return w->set(obj, w->arg, w->e);
	if (obj == NULL || rn_is_null(obj))
		return SOTTO_OK;
	switch (obj->kind) {
	case SOTTO_NODE_SEQ:
		for (i = 0; i < obj->n; i++)
			if (obj->items[i].val != NULL &&
			    obj->items[i].val->kind != SOTTO_NODE_COMMENT &&
			    (err = walk_node(w, obj->items[i].val, at)) !=
			    SOTTO_OK)
				return err;
		return SOTTO_OK;
	case SOTTO_NODE_MAP:
		return walk_map(w, obj, at);
	default:
		return sotto_error_set(w->e, SOTTO_E_USAGE, "considering "
		    "field '%.200s' of object %s: expected sequence or "
		    "mapping node", w->fs->path, w->what);
	}
}

sotto_err
rfs_walk(struct sotto_node *obj, const struct rfs *fs, int create_kind,
    rfs_set_fn set, void *arg, const char *what, struct sotto_error *e)
{
	struct walk w = { fs, create_kind, set, arg, what, e };

	return walk_node(&w, obj, 0);
}

bool
rfs_match(const struct rfs *fs, const struct robj *o)
{
	const char *av = robj_apiversion(o), *g, *v;
	size_t gl, vl;

	if (fs->kind[0] != '\0' && strcmp(fs->kind, robj_kind(o)) != 0)
		return false;
	rid_gv(av, &g, &gl, &v, &vl);
	if (fs->group[0] != '\0' && (strlen(fs->group) != gl ||
	    memcmp(fs->group, g, gl) != 0))
		return false;
	return fs->version[0] == '\0' || (strlen(fs->version) == vl &&
	    memcmp(fs->version, v, vl) == 0);
}

/* ---- configurations files ---- */

sotto_err
rc_parse_fsl(struct rfsl *out, struct rctx *c, const struct sotto_node *seq,
    struct sotto_error *e)
{
	size_t i;
	sotto_err err;

	for (i = 0; seq != NULL && seq->kind == SOTTO_NODE_SEQ &&
	    i < seq->n; i++) {
		const struct sotto_node *f = seq->items[i].val;
		const char *g = rn_str(f, "group"), *v = rn_str(f, "version");
		const char *k = rn_str(f, "kind"), *p = rn_str(f, "path");
		const struct sotto_node *cr = rn_get(f, "create");

		if ((err = rfsl_add(out, c, g ? g : "", v ? v : "",
		    k ? k : "", p ? p : "", cr != NULL &&
		    cr->type == SOTTO_T_BOOL && strcmp(cr->text, "true") ==
		    0, e)) != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

static const char *const cfg_keys[RCF_N] = {
	"namePrefix", "nameSuffix", "namespace", "commonLabels", "labels",
	"templateLabels", "commonAnnotations", "varReference", "images",
	"replicas"
};

/*
 * A kustomizeconfig document (already normalized by kj_normalize with
 * kt_tconfig: canonical keys, checked types) into out, sorted as
 * kustomize's makeTransformerConfigFromBytes leaves it.
 */
sotto_err
rcfg_parse(struct rcfg *out, struct rctx *c, const struct sotto_node *doc,
    const char *name, struct sotto_error *e)
{
	const struct sotto_node *nr = rn_get(doc, "nameReference");
	size_t i;
	sotto_err err;

	(void)name;
	memset(out, 0, sizeof(*out));
	out->state = RCS_OTHER;
	for (i = 0; i < RCF_N; i++)
		if ((err = rc_parse_fsl(&out->fs[i], c,
		    rn_get(doc, cfg_keys[i]), e)) != SOTTO_OK)
			goto fail;
	for (i = 0; nr != NULL && nr->kind == SOTTO_NODE_SEQ && i < nr->n;
	    i++) {
		const struct sotto_node *b = nr->items[i].val;
		const char *g = rn_str(b, "group"), *v = rn_str(b, "version");
		const char *k = rn_str(b, "kind");
		struct rfsl refs;

		memset(&refs, 0, sizeof(refs));
		if ((err = rc_parse_fsl(&refs, c, rn_get(b, "fieldSpecs"),
		    e)) == SOTTO_OK)
			err = rcfg_add_nbr(out, c, g ? g : "", v ? v : "",
			    k ? k : "", &refs, e);
		rfsl_free(&refs);
		if (err != SOTTO_OK)
			goto fail;
	}
	rcfg_sort(out);
	return SOTTO_OK;
fail:
	rcfg_free(out);
	return err;
}

/* One `configurations` file: a kustomizeconfig document. */
sotto_err
rc_load_config(struct rcfg *out, struct rctx *c, const char *dir,
    const char *path, const char *kname, struct sotto_error *e)
{
	struct sotto_buf in = SOTTO_BUF_INIT;
	struct sotto_doc *doc = NULL;
	struct sotto_node *norm = NULL;
	char *abs = NULL, what[512];
	sotto_err err;

	memset(out, 0, sizeof(*out));
	if ((err = rc_resolve(&abs, c, dir, path, e)) != SOTTO_OK)
		return sotto_error_prefix(e, "'%s'", kname);
	snprintf(what, sizeof(what), "'%s'", rc_rel(c, abs));
	if ((err = rc_read(&in, c, abs, e)) != SOTTO_OK ||
	    (err = rc_parse(&doc, &sotto_store_yaml, &in, c, abs, e)) !=
	    SOTTO_OK)
		goto out;
	if (doc->n == 0 || rn_is_null(doc->branches[0])) {
		out->state = RCS_OTHER;
		goto out;
	}
	rn_strip_comments(doc->branches[0]);
	if ((err = kj_normalize(&norm, doc->branches[0], &kt_tconfig, true,
	    what, e)) == SOTTO_OK)
		err = rcfg_parse(out, c, norm, what, e);
out:
	sotto_tree_node_free(norm, true);
	sotto_tree_doc_free(doc);
	sotto_buf_release(&in);
	free(abs);
	return err;
}

/* ---- crds: OpenAPI definitions (accumulator.LoadConfigFromCRDs) ---- */

#define CRD_MAX_DEPTH 32

/* encoding/json's field match: exact, else case-insensitive */
static const struct sotto_node *
get_ci(const struct sotto_node *m, const char *key)
{
	const struct sotto_node *v = rn_get(m, key);
	size_t i;

	if (v != NULL || m == NULL || m->kind != SOTTO_NODE_MAP)
		return v;
	for (i = 0; i < m->n; i++)
		if (m->items[i].key != NULL &&
		    strcasecmp(m->items[i].key, key) == 0)
			return m->items[i].val;
	return NULL;
}

/* spec.Extensions.GetString: keys case-insensitive, a string value */
static const char *
ext_string(const struct sotto_node *prop, const char *key)
{
	const struct sotto_node *v = get_ci(prop, key);

	if (v == NULL || v->kind != SOTTO_NODE_SCALAR ||
	    v->type != SOTTO_T_STR)
		return NULL;
	return rn_value(v);
}

static sotto_err
crd_type(struct rcfg *cfg, struct rctx *c, const char *kind,
    const struct sotto_node *defs, const char *tname, struct sotto_buf *path,
    int depth, const char *what, struct sotto_error *e)
{
	const struct sotto_node *api = rn_get(defs, tname), *props;
	size_t i, plen = path->len;
	sotto_err err = SOTTO_OK;

	if (api == NULL)
		return SOTTO_OK;
	if (depth > CRD_MAX_DEPTH)
		return sotto_error_set(e, SOTTO_E_LIMIT, "%s: '$ref' nested "
		    "deeper than %d levels", what, CRD_MAX_DEPTH);
	props = get_ci(get_ci(api, "Schema"), "properties");
	for (i = 0; props != NULL && props->kind == SOTTO_NODE_MAP &&
	    i < props->n && err == SOTTO_OK; i++) {
		const struct sotto_node *p = props->items[i].val;
		const char *ver, *rk, *nk, *ref;

		if (props->items[i].key == NULL || p == NULL ||
		    p->kind != SOTTO_NODE_MAP)
			continue;
		path->len = plen;
		if ((plen && sotto_buf_addch(path, '/') != SOTTO_OK) ||
		    sotto_buf_addstr(path, props->items[i].key) != SOTTO_OK ||
		    sotto_buf_addch(path, '\0') != SOTTO_OK)
			return oom(e);
		path->len--;
		if (ext_string(p, "x-kubernetes-annotation") != NULL)
			err = rfsl_add(&cfg->fs[RCF_ANNOTATIONS], c, "", "",
			    kind, (const char *)path->data, false, e);
		if (err == SOTTO_OK &&
		    ext_string(p, "x-kubernetes-label-selector") != NULL)
			err = rfsl_add(&cfg->fs[RCF_COMMONLABELS], c, "", "",
			    kind, (const char *)path->data, false, e);
		if (err == SOTTO_OK &&
		    ext_string(p, "x-kubernetes-identity") != NULL)
			err = rfsl_add(&cfg->fs[RCF_PREFIX], c, "", "", kind,
			    (const char *)path->data, false, e);
		ver = ext_string(p, "x-kubernetes-object-ref-api-version");
		rk = ext_string(p, "x-kubernetes-object-ref-kind");
		if (err == SOTTO_OK && ver != NULL && rk != NULL) {
			struct rfsl refs;
			struct sotto_buf np = SOTTO_BUF_INIT;

			nk = ext_string(p, "x-kubernetes-object-ref-name-key");
			memset(&refs, 0, sizeof(refs));
			if (sotto_buf_addf(&np, "%s/%s",
			    (const char *)path->data, nk ? nk : "name") !=
			    SOTTO_OK || sotto_buf_addch(&np, '\0') != SOTTO_OK)
				err = oom(e);
			if (err == SOTTO_OK)
				err = rfsl_add(&refs, c, "", "", kind,
				    (const char *)np.data, false, e);
			if (err == SOTTO_OK)
				err = rcfg_add_nbr(cfg, c, "", ver, rk, &refs,
				    e);
			rfsl_free(&refs);
			sotto_buf_release(&np);
		}
		ref = rn_str(p, "$ref");
		if (err == SOTTO_OK && ref != NULL && ref[0] != '\0') {
			char *sub = strdup((const char *)path->data);

			if (sub == NULL)
				return oom(e);
			err = crd_type(cfg, c, kind, defs, ref, path, depth + 1,
			    what, e);
			path->len = 0;
			if (err == SOTTO_OK && sotto_buf_addstr(path, sub) !=
			    SOTTO_OK)
				err = oom(e);
			free(sub);
		}
	}
	path->len = plen;
	if (path->data != NULL)
		path->data[plen] = '\0';
	return err;
}

static sotto_err
crd_file(struct rcfg *out, struct rctx *c, const char *dir, const char *ref,
    const char *kname, struct sotto_error *e)
{
	struct sotto_buf in = SOTTO_BUF_INIT, path = SOTTO_BUF_INIT;
	struct sotto_doc *doc = NULL;
	const struct sotto_node *defs;
	char *abs = NULL, what[512];
	size_t i;
	sotto_err err;

	if ((err = rc_resolve(&abs, c, dir, ref, e)) != SOTTO_OK)
		return sotto_error_prefix(e, "'%s'", kname);
	snprintf(what, sizeof(what), "'%s'", rc_rel(c, abs));
	if ((err = rc_read(&in, c, abs, e)) != SOTTO_OK ||
	    (err = rc_parse(&doc, &sotto_store_yaml, &in, c, abs, e)) !=
	    SOTTO_OK)
		goto out;
	defs = doc->n > 0 ? doc->branches[0] : NULL;
	for (i = 0; defs != NULL && i < defs->n && err == SOTTO_OK; i++) {
		const char *name = defs->items[i].key, *kind;
		const struct sotto_node *props = get_ci(get_ci(
		    defs->items[i].val, "Schema"), "properties");
		struct rcfg one;

		if (name == NULL || rn_get(props, "kind") == NULL ||
		    rn_get(props, "apiVersion") == NULL ||
		    rn_get(props, "metadata") == NULL)
			continue;
		/* makeGvkFromTypeName: the part after the last '.' */
		kind = strrchr(name, '.') ? strrchr(name, '.') + 1 : name;
		memset(&one, 0, sizeof(one));
		one.state = RCS_OTHER;
		path.len = 0;
		err = crd_type(&one, c, kind, defs, name, &path, 0, what, e);
		if (err == SOTTO_OK) {
			rcfg_sort(&one);
			err = rcfg_merge(out, &one, c, e);
		}
		rcfg_free(&one);
	}
out:
	sotto_buf_release(&path);
	sotto_tree_doc_free(doc);
	sotto_buf_release(&in);
	free(abs);
	return err;
}

sotto_err
rc_load_crds(struct rcfg *out, struct rctx *c, const char *dir,
    const struct sotto_node *paths, const char *kname, struct sotto_error *e)
{
	size_t i;
	sotto_err err;

	memset(out, 0, sizeof(*out));
	for (i = 0; paths != NULL && i < paths->n; i++)
		if ((err = crd_file(out, c, dir, rn_value(paths->items[i].val),
		    kname, e)) != SOTTO_OK) {
			rcfg_free(out);
			return err;
		}
	return SOTTO_OK;
}
