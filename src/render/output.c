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
#include "sotto/store.h"

/* kustomize api/resid gvk.go: orderFirst and orderLast (v5). */
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

static int
kind_rank(const char *k)
{
	int i, nf = 0;

	for (i = 0; order_first[i] != NULL; i++)
		nf++;
	for (i = 0; order_first[i] != NULL; i++)
		if (strcmp(k, order_first[i]) == 0)
			return i - nf;
	for (i = 0; order_last[i] != NULL; i++)
		if (strcmp(k, order_last[i]) == 0)
			return i + 1;
	return 0;
}

/* Writes "group_version_kind" with kustomize's ~G/~V/~K for empty parts. */
static void
gvk_string(char *out, size_t cap, const struct robj *o)
{
	const char *av = robj_apiversion(o), *k = robj_kind(o);
	const char *slash = strchr(av, '/');

	if (slash != NULL)
		snprintf(out, cap, "%.*s_%s_%s", (int)(slash - av), av,
		    slash[1] ? slash + 1 : "~V", *k ? k : "~K");
	else
		snprintf(out, cap, "~G_%s_%s", *av ? av : "~V", *k ? k : "~K");
}

/* An object's sort key, computed once (the list may be long). */
struct okey {
	int rank;		/* kind_rank() */
	char *gvk;		/* gvk_string() */
	const char *ns;		/* namespace, "~X" (last) when unset */
	const char *name;
	size_t at;		/* list order, for a stable sort */
};

/* Kind rank, then GVK string (equal GVKs have equal ranks), namespace,
 * name, and list order. */
static int
okey_cmp(const void *a, const void *b)
{
	const struct okey *x = a, *y = b;
	int c;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if ((c = strcmp(x->gvk, y->gvk)) != 0 ||
	    (c = strcmp(x->ns, y->ns)) != 0 ||
	    (c = strcmp(x->name, y->name)) != 0)
		return c;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* kustomize's legacy order, stable. */
sotto_err
ro_sort(struct rlist *l, struct sotto_error *e)
{
	struct okey *k;
	struct robj *v;
	char buf[512];
	size_t i;
	sotto_err err = SOTTO_OK;

	if (l->n < 2)
		return SOTTO_OK;
	k = calloc(l->n, sizeof(*k));
	v = calloc(l->n, sizeof(*v));
	for (i = 0; k != NULL && v != NULL && i < l->n; i++) {
		gvk_string(buf, sizeof(buf), &l->v[i]);
		if ((k[i].gvk = strdup(buf)) == NULL)
			break;
		k[i].rank = kind_rank(robj_kind(&l->v[i]));
		k[i].ns = robj_ns(&l->v[i]) ? robj_ns(&l->v[i]) : "~X";
		k[i].name = robj_name(&l->v[i]);
		k[i].at = i;
	}
	if (k == NULL || v == NULL || i < l->n) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	qsort(k, l->n, sizeof(*k), okey_cmp);
	for (i = 0; i < l->n; i++)
		v[i] = l->v[k[i].at];
	memcpy(l->v, v, l->n * sizeof(*v));
out:
	for (i = 0; k != NULL && i < l->n; i++)
		free(k[i].gvk);
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

sotto_err
ro_check(struct rlist *l, struct sotto_error *e)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct robj *o = &l->v[i];

		if (*robj_apiversion(o) == '\0' || *robj_kind(o) == '\0' ||
		    *robj_name(o) == '\0')
			return sotto_error_set(e, SOTTO_E_PARSE, "failed to "
			    "decode Kubernetes apiVersion, kind and name from: "
			    "'%s' object %zu", o->origin ? o->origin : "?", i);
		if (rn_get(o->n, "sops") != NULL || rn_contains_marker(o->n) ||
		    (strcmp(robj_kind(o), "Secret") == 0 &&
		    !rc_disabled(o->n) && data_has_ciphertext(o->n)))
			return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
			    "%s/%s/%s is SOPS encrypted, configuring decryption "
			    "is required for this secret to be reconciled",
			    robj_kind(o), robj_ns(o) ? robj_ns(o) : "",
			    robj_name(o));
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
