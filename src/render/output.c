/* SPDX-License-Identifier: ISC */
/*
 * The end of a render: the ciphertext check (spec in-cluster.md §5.5,
 * §6.3), kustomize's legacy order and the YAML stream, keys sorted and
 * indented as `kubectl kustomize` prints them.
 */
#include "render/rint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/b64.h"
#include "render/build.h"
#include "sotto/store.h"

/* kustomize's SortOrderTransformer defaults: orderFirst and orderLast. */
static const char *const order_first[] = {
	"Namespace", "ResourceQuota", "StorageClass",
	"CustomResourceDefinition", "ServiceAccount", "PodSecurityPolicy",
	"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding",
	"ConfigMap", "Secret", "Endpoints", "Service", "LimitRange",
	"PriorityClass", "PersistentVolume", "PersistentVolumeClaim",
	"Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget", NULL
};
static const char *const order_last[] = {
	"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", NULL
};

/* The order lists in use (sortOptions.legacySortOptions or defaults). */
struct orders {
	const char *const *first, *const *last;
	size_t nfirst, nlast;
};

static int
kind_rank(const struct orders *o, const char *k)
{
	size_t i;

	/* kustomize builds a map: a kind listed twice gets its last place */
	for (i = o->nlast; i > 0; i--)
		if (strcmp(k, o->last[i - 1]) == 0)
			return (int)i;
	for (i = o->nfirst; i > 0; i--)
		if (strcmp(k, o->first[i - 1]) == 0)
			return (int)(i - 1) - (int)o->nfirst;
	return 0;
}

/* An object's sort key, computed once (the list may be long). */
struct okey {
	int rank;		/* kind_rank() */
	char *gvk;		/* "group_version_kind", ~G ~V ~K for none */
	char *id;		/* "Kind.version.group|namespace|name" */
	size_t at;		/* list order */
};

/* kustomize's legacyIDSorter.Less: kind rank; a core Namespace before a
 * Namespace of another group; the gvk string; then the joined id
 * string. */
static int
okey_cmp(const void *a, const void *b)
{
	const struct okey *x = a, *y = b;
	int c;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if ((c = strcmp(x->gvk, y->gvk)) != 0)
		return c;
	if ((c = strcmp(x->id, y->id)) != 0)
		return c;
	return x->at < y->at ? -1 : x->at > y->at;
}

static sotto_err
okey_init(struct okey *k, const struct robj *o, const struct orders *ord,
    size_t at)
{
	struct rid id;
	const char *ns = robj_ns(o), *name = robj_name(o);
	char buf[1024];
	int n;

	robj_curid(o, &id);
	k->rank = kind_rank(ord, id.kind);
	k->at = at;
	n = snprintf(buf, sizeof(buf), "%.*s_%.*s_%s",
	    id.glen ? (int)id.glen : 2, id.glen ? id.group : "~G",
	    id.vlen ? (int)id.vlen : 2, id.vlen ? id.version : "~V",
	    id.kind[0] ? id.kind : "~K");
	if (n < 0 || (k->gvk = strdup(buf)) == NULL)
		return SOTTO_E_NOMEM;
	/* a core Namespace sorts before any other group's Namespace kind
	 * (kustomize reverses the comparison between them) */
	if (strcmp(id.kind, "Namespace") == 0 && id.glen == 0)
		k->gvk[0] = '\x01';
	n = snprintf(buf, sizeof(buf), "%s.%.*s.%.*s|%s|%s",
	    id.kind[0] ? id.kind : "[noKind]",
	    id.vlen ? (int)id.vlen : 7, id.vlen ? id.version : "[noVer]",
	    id.glen ? (int)id.glen : 7, id.glen ? id.group : "[noGrp]",
	    ns && ns[0] ? ns : "~X", name[0] ? name : "~N");
	if (n < 0 || (k->id = strdup(buf)) == NULL)
		return SOTTO_E_NOMEM;
	return SOTTO_OK;
}

static void
orders_of(struct orders *o, const struct sotto_node *legacy,
    const char **fbuf, const char **lbuf)
{
	const struct sotto_node *f = rn_get(legacy, "orderFirst");
	const struct sotto_node *l = rn_get(legacy, "orderLast");
	size_t i;

	if (legacy == NULL) {
		o->first = order_first;
		o->last = order_last;
		for (o->nfirst = 0; order_first[o->nfirst]; o->nfirst++)
			;
		for (o->nlast = 0; order_last[o->nlast]; o->nlast++)
			;
		return;
	}
	for (i = 0; f != NULL && i < f->n; i++)
		fbuf[i] = rn_value(f->items[i].val);
	for (i = 0; l != NULL && i < l->n; i++)
		lbuf[i] = rn_value(l->items[i].val);
	o->first = fbuf;
	o->last = lbuf;
	o->nfirst = f ? f->n : 0;
	o->nlast = l ? l->n : 0;
}

/*
 * kustomize's SortOrderTransformer: sortOptions.order fifo keeps the build
 * order, legacy (the default) sorts by kind (orderFirst, orderLast), then
 * the joined id string.  Either way, two objects with one id are an
 * error.
 */
sotto_err
ro_sort(struct rlist *l, struct rctx *c, const struct sotto_node *opts,
    struct sotto_error *e)
{
	const char *order = rn_str(opts, "order");
	const struct sotto_node *legacy = rn_get(opts, "legacySortOptions");
	const char **fbuf = NULL, **lbuf = NULL;
	struct orders ord;
	struct okey *k = NULL;
	struct robj *v = NULL;
	size_t i;
	sotto_err err = SOTTO_OK;

	if (opts != NULL) {
		if (order == NULL || (strcmp(order, "fifo") != 0 &&
		    strcmp(order, "legacy") != 0))
			return sotto_error_set(e, SOTTO_E_USAGE, "the field "
			    "'sortOptions.order' must be one of [fifo, "
			    "legacy]");
		if (strcmp(order, "fifo") == 0 && legacy != NULL)
			return sotto_error_set(e, SOTTO_E_USAGE, "the field "
			    "'sortOptions.legacySortOptions' is set but the "
			    "selected sort order is 'fifo', not 'legacy'");
	}
	if ((err = rb_check_ids(l, c, "sortOptions", e)) != SOTTO_OK)
		return err;
	if ((opts != NULL && strcmp(order, "fifo") == 0) || l->n < 2)
		return SOTTO_OK;
	fbuf = calloc(rn_get(legacy, "orderFirst") ?
	    rn_get(legacy, "orderFirst")->n + 1 : 1, sizeof(*fbuf));
	lbuf = calloc(rn_get(legacy, "orderLast") ?
	    rn_get(legacy, "orderLast")->n + 1 : 1, sizeof(*lbuf));
	k = calloc(l->n, sizeof(*k));
	v = calloc(l->n, sizeof(*v));
	if (fbuf == NULL || lbuf == NULL || k == NULL || v == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	orders_of(&ord, legacy, fbuf, lbuf);
	for (i = 0; i < l->n; i++)
		if (okey_init(&k[i], &l->v[i], &ord, i) != SOTTO_OK) {
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
			goto out;
		}
	qsort(k, l->n, sizeof(*k), okey_cmp);
	for (i = 0; i < l->n; i++)
		v[i] = l->v[k[i].at];
	memcpy(l->v, v, l->n * sizeof(*v));
out:
	for (i = 0; k != NULL && i < l->n; i++) {
		free(k[i].gvk);
		free(k[i].id);
	}
	free(fbuf);
	free(lbuf);
	free(v);
	free(k);
	return err;
}

/* Every object has apiVersion, kind, name; nothing encrypted is left. */
/* Spec in-cluster.md §5.5: a Secret data value whose bytes still hold
 * sops ciphertext after decryption (step 3 found no sops file there). */
static bool
data_has_ciphertext(const struct sotto_node *obj)
{
	static const char mark[] = "ENC[AES256_GCM,";
	const struct sotto_node *data = rn_get(obj, "data");
	struct sotto_buf raw = SOTTO_BUF_SECRET_INIT;
	bool found = false;
	size_t i, j, dl;

	for (i = 0; data && data->kind == SOTTO_NODE_MAP && i < data->n &&
	    !found; i++) {
		const struct sotto_node *v = data->items[i].val;

		if (!rn_is_scalar(v) || sotto_buf_grow(&raw,
		    SOTTO_B64_DECODED_MAX(v->len)) != SOTTO_OK ||
		    !sotto_b64_decode(raw.data, &dl, v->text, v->len, true))
			continue;
		for (j = 0; j + sizeof(mark) - 1 <= dl && !found; j++)
			found = memcmp(raw.data + j, mark,
			    sizeof(mark) - 1) == 0;
	}
	sotto_buf_release(&raw);
	return found;
}

/*
 * A folded block scalar (">") that kustomize's YAML library (yaml.v3)
 * reads differently from the YAML spec, which our parser follows: a
 * more-indented line gets an extra line break before it, and kept
 * trailing blank lines (">+") one more.  The value Flux applies is
 * kustomize's, so such a scalar is refused rather than rendered with
 * another value.
 */
#define YAML_STYLE_FOLDED 4

static const struct sotto_node *
folded_diff(const struct sotto_node *n)
{
	const struct sotto_node *x;
	const char *t;
	size_t i;

	if (n == NULL)
		return NULL;
	if (n->kind == SOTTO_NODE_SCALAR) {
		if ((n->style & 0xff) != YAML_STYLE_FOLDED)
			return NULL;
		t = rn_value(n);
		if (t[0] == ' ' || t[0] == '\t' || strstr(t, "\n ") != NULL ||
		    strstr(t, "\n\t") != NULL ||
		    (strlen(t) >= 2 && strcmp(t + strlen(t) - 2, "\n\n") == 0))
			return n;
		return NULL;
	}
	if (n->kind != SOTTO_NODE_MAP && n->kind != SOTTO_NODE_SEQ)
		return NULL;
	for (i = 0; i < n->n; i++)
		if ((x = folded_diff(n->items[i].val)) != NULL)
			return x;
	return NULL;
}

sotto_err
ro_check(struct rlist *l, bool keep_sops, struct sotto_error *e)
{
	const struct sotto_node *f;

	size_t i;

	for (i = 0; i < l->n; i++) {
		struct robj *o = &l->v[i];

		if (*robj_apiversion(o) == '\0' || *robj_kind(o) == '\0' ||
		    *robj_name(o) == '\0')
			return sotto_error_set(e, SOTTO_E_PARSE, "failed to "
			    "decode Kubernetes apiVersion, kind and name from: "
			    "'%s' object %zu", o->origin ? o->origin : "?", i);
		if (!keep_sops && (rn_get(o->n, "sops") != NULL ||
		    rn_contains_marker(o->n) || (strcmp(robj_kind(o),
		    "Secret") == 0 && !rc_disabled(o->n) &&
		    data_has_ciphertext(o->n))))
			return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
			    "%s/%s/%s is SOPS encrypted, configuring decryption "
			    "is required for this secret to be reconciled",
			    robj_kind(o), robj_ns(o) ? robj_ns(o) : "",
			    robj_name(o));
		if ((f = folded_diff(o->n)) != NULL)
			return sotto_error_set(e, SOTTO_E_UNSUPPORTED, "'%s': "
			    "%s '%s': a folded block scalar (line %zu) with "
			    "more-indented lines or kept trailing blank lines, "
			    "which kustomize reads differently from the YAML "
			    "spec (not supported)", o->origin ? o->origin : "?",
			    robj_kind(o), robj_name(o), f->line);
	}
	return SOTTO_OK;
}

static sotto_err
redact(struct sotto_node *obj)
{
	static const char *const keys[] = { "data", "stringData", NULL };
	struct sotto_node *m;
	size_t i, k;

	for (k = 0; keys[k] != NULL; k++) {
		if ((m = rn_get(obj, keys[k])) == NULL ||
		    m->kind != SOTTO_NODE_MAP)
			continue;
		for (i = 0; i < m->n; i++) {
			if (m->items[i].val == NULL ||
			    m->items[i].val->kind != SOTTO_NODE_SCALAR)
				continue;
			if (sotto_tree_set_text(m->items[i].val, SOTTO_T_STR,
			    "<redacted>", 10) != SOTTO_OK)
				return SOTTO_E_NOMEM;
		}
	}
	return SOTTO_OK;
}

/*
 * Writes the objects as one YAML stream, one at a time (a sorted copy of
 * each, so the peak is one copy, not the whole list twice), and stops at
 * the stream cap (spec in-cluster.md §5.2).
 */
sotto_err
ro_emit(struct sotto_buf *out, struct rlist *l, bool red,
    struct sotto_error *e)
{
	struct sotto_emit_opts eo = { 2 };
	sotto_err err = SOTTO_OK;
	size_t i;

	for (i = 0; i < l->n && err == SOTTO_OK; i++) {
		struct sotto_doc *d = sotto_tree_doc_new("render");
		struct sotto_node *c = rn_sorted_clone(l->v[i].n);

		if (d != NULL)
			d->secret = true;
		if (c != NULL && red && strcmp(robj_kind(&l->v[i]), "Secret") ==
		    0 && redact(c) != SOTTO_OK) {
			sotto_tree_node_free(c, true);
			c = NULL;
		}
		if (d == NULL || c == NULL || sotto_tree_doc_add(d, c) !=
		    SOTTO_OK) {
			sotto_tree_node_free(c, true);
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		}
		if (err == SOTTO_OK && i > 0 && sotto_buf_addstr(out, "---\n") !=
		    SOTTO_OK)
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		if (err == SOTTO_OK)
			err = sotto_store_yaml.emit(out, d, NULL, &eo, e);
		if (err == SOTTO_OK && out->len > SOTTO_RENDER_MAX_STREAM)
			err = sotto_error_set(e, SOTTO_E_LIMIT, "rendered "
			    "output exceeds %zu bytes",
			    SOTTO_RENDER_MAX_STREAM);
		sotto_tree_doc_free(d);
	}
	return err;
}
