/* SPDX-License-Identifier: ISC */
/*
 * The apply engine (spec in-cluster.md §7): discovery, staging, server-side
 * apply with a dry-run drift check, inventory and prune.  Rendering and
 * decryption happened before (src/render/); status and scheduling belong
 * to reconcile.c.
 *
 * Requests per object: a no-change pass costs one LIST per (kind,
 * namespace) and nothing per object when the live object already holds
 * every desired field and no other manager owns any of them (the check
 * the dry-run would make, done locally); otherwise a dry-run PATCH, and a
 * real PATCH when the dry-run result differs from the live object.
 */
#include "kube/kint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/b64.h"
#include "sotto/store.h"

#define APPLY_CT "application/apply-patch+yaml"
#define LBL_NAME "kustomize.toolkit.fluxcd.io/name"
#define LBL_NS "kustomize.toolkit.fluxcd.io/namespace"

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

/* ---- discovery --------------------------------------------------------- */

static sotto_err
get_json(json_t **out, struct sotto_kube *k, const char *path,
    struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	sotto_err rc;

	*out = NULL;
	if ((rc = sotto_kube_request(k, &r, "GET", path, NULL, NULL, 0, e)) !=
	    SOTTO_OK)
		return rc;
	if (r.status != 200) {
		rc = sotto_kube_status_error(e, &r, path);
	} else if ((*out = json_loadb((char *)r.body.data, r.body.len, 0,
	    NULL)) == NULL) {
		rc = sotto_error_set(e, SOTTO_E_KUBE_API, "%s: response is "
		    "not JSON", path);
	}
	sotto_kube_resp_release(&r);
	return rc;
}

sotto_err
kube_disc_add(struct kdisc *d, const json_t *list, const char *group,
    const char *version)
{
	json_t *res = json_object_get(list, "resources"), *r;
	struct kres *kr;
	size_t i;
	const char *name;

	json_array_foreach(res, i, r) {
		name = json_string_value(json_object_get(r, "name"));
		if (name == NULL || strchr(name, '/') != NULL)
			continue;
		if (d->n == d->cap) {
			size_t nc = d->cap ? d->cap * 2 : 32;
			struct kres *nv = realloc(d->v, nc * sizeof(*nv));

			if (nv == NULL)
				return SOTTO_E_NOMEM;
			d->v = nv;
			d->cap = nc;
		}
		kr = &d->v[d->n];
		kr->group = strdup(group);
		kr->version = strdup(version);
		kr->plural = strdup(name);
		kr->kind = strdup(json_string_value(json_object_get(r,
		    "kind")) ? json_string_value(json_object_get(r, "kind")) :
		    "");
		kr->namespaced = json_is_true(json_object_get(r,
		    "namespaced"));
		d->n++;
		if (!kr->group || !kr->version || !kr->plural || !kr->kind)
			return SOTTO_E_NOMEM;
	}
	return SOTTO_OK;
}

sotto_err
kdisc_load(struct kdisc *d, struct sotto_kube *k, struct sotto_error *e)
{
	json_t *j = NULL, *groups, *g, *vs, *v;
	struct sotto_buf path = SOTTO_BUF_INIT;
	size_t i, x;
	sotto_err rc;

	kdisc_free(d);
	if ((rc = get_json(&j, k, "/api/v1", e)) != SOTTO_OK)
		return rc;
	rc = kube_disc_add(d, j, "", "v1");
	json_decref(j);
	if (rc != SOTTO_OK || (rc = get_json(&j, k, "/apis", e)) != SOTTO_OK)
		return rc == SOTTO_E_NOMEM ? oom(e) : rc;
	groups = json_object_get(j, "groups");
	json_array_foreach(groups, i, g) {
		const char *gn = json_string_value(json_object_get(g, "name"));

		vs = json_object_get(g, "versions");
		json_array_foreach(vs, x, v) {
			const char *ver = json_string_value(json_object_get(v,
			    "version"));
			struct kref ref = { gn, ver, NULL, NULL, NULL, NULL };
			json_t *l = NULL;

			if (gn == NULL || ver == NULL || gn[0] == '\0')
				continue;
			/* a group the server names oddly is skipped, not sent */
			sotto_buf_truncate(&path, 0);
			if (kpath_build(&path, &ref, e) != SOTTO_OK) {
				sotto_error_clear(e);
				continue;
			}
			if ((rc = get_json(&l, k, (char *)path.data, e)) !=
			    SOTTO_OK)
				break;
			rc = kube_disc_add(d, l, gn, ver);
			json_decref(l);
			if (rc != SOTTO_OK)
				break;
		}
		if (rc != SOTTO_OK)
			break;
	}
	json_decref(j);
	sotto_buf_release(&path);
	return rc == SOTTO_E_NOMEM ? oom(e) : rc;
}

const struct kres *
kdisc_find(const struct kdisc *d, const char *group, const char *version,
    const char *kind)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].kind, kind) == 0 &&
		    strcmp(d->v[i].group, group) == 0 &&
		    (version == NULL || strcmp(d->v[i].version, version) == 0))
			return &d->v[i];
	return NULL;
}

void
kdisc_free(struct kdisc *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].group);
		free(d->v[i].version);
		free(d->v[i].kind);
		free(d->v[i].plural);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

sotto_err
kres_path(struct sotto_buf *b, const struct kres *r, const char *ns,
    const char *name)
{
	struct kref ref;
	struct sotto_error e = { SOTTO_OK, "" };

	memset(&ref, 0, sizeof(ref));
	ref.group = r->group;
	ref.version = r->version;
	ref.plural = r->plural;
	ref.ns = r->namespaced ? ns : NULL;
	ref.name = name;
	return kpath_build(b, &ref, &e);
}

/* ---- building the set --------------------------------------------------- */

int
kube_stage_of(const char *group, const char *kind)
{
	static const char *const first[] = { "CustomResourceDefinition",
	    "Namespace", "StorageClass", "IngressClass", "PriorityClass",
	    "RuntimeClass", NULL };
	size_t i;

	(void)group;
	for (i = 0; first[i] != NULL; i++)
		if (strcmp(kind, first[i]) == 0)
			return 0;
	return 1;
}

/* stringData -> data, as the API server stores it. */
static sotto_err
fold_string_data(json_t *o)
{
	json_t *sd = json_object_get(o, "stringData"), *data, *v;
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	const char *key;

	if (!json_is_object(sd))
		return SOTTO_OK;
	data = json_object_get(o, "data");
	if (!json_is_object(data)) {
		data = json_object();
		if (data == NULL || json_object_set_new(o, "data", data) != 0)
			return SOTTO_E_NOMEM;
	}
	json_object_foreach(sd, key, v) {
		const char *s = json_string_value(v);

		sotto_buf_truncate(&b, 0);
		if (s == NULL)
			continue;
		if (sotto_b64_encode(&b, (const uint8_t *)s,
		    json_string_length(v), true) != 0 ||
		    json_object_set_new(data, key, json_stringn((char *)b.data,
		    b.len)) != 0) {
			sotto_buf_release(&b);
			return SOTTO_E_NOMEM;
		}
	}
	sotto_buf_release(&b);
	json_object_del(o, "stringData");
	return SOTTO_OK;
}

/* Flux's SetCommonMetadata: spec.commonMetadata's labels and annotations
 * on every object (its metadata only), before the owner labels. */
static sotto_err
set_common(json_t *o, const struct kapply_opts *ao)
{
	static const char *const keys[] = { "labels", "annotations", NULL };
	json_t *md = json_object_get(o, "metadata"), *have, *want, *v;
	const char *key;
	size_t i;

	for (i = 0; ao->common != NULL && keys[i] != NULL; i++) {
		want = json_object_get(ao->common, keys[i]);
		if (!json_is_object(want) || json_object_size(want) == 0)
			continue;
		have = json_object_get(md, keys[i]);
		if (!json_is_object(have)) {
			have = json_object();
			if (have == NULL || json_object_set_new(md, keys[i],
			    have) != 0)
				return SOTTO_E_NOMEM;
		}
		json_object_foreach(want, key, v)
			if (json_object_set(have, key, v) != 0)
				return SOTTO_E_NOMEM;
	}
	return SOTTO_OK;
}

static sotto_err
set_owner(json_t *o, const struct kapply_opts *ao)
{
	json_t *md = json_object_get(o, "metadata"), *l;

	l = json_object_get(md, "labels");
	if (!json_is_object(l)) {
		l = json_object();
		if (l == NULL || json_object_set_new(md, "labels", l) != 0)
			return SOTTO_E_NOMEM;
	}
	if (json_object_set_new(l, LBL_NAME, json_string(ao->ks_name)) != 0 ||
	    json_object_set_new(l, LBL_NS, json_string(ao->ks_ns)) != 0)
		return SOTTO_E_NOMEM;
	return SOTTO_OK;
}

static void
split_gv(const char *apiv, char **group, char **version)
{
	const char *slash = strchr(apiv, '/');

	*group = slash ? strndup(apiv, (size_t)(slash - apiv)) : strdup("");
	*version = strdup(slash ? slash + 1 : apiv);
}

/* Resolves the kind and fixes namespace, id; needs discovery. */
static sotto_err
resolve_obj(struct kobj *ko, const struct kdisc *d,
    const struct kapply_opts *ao, struct sotto_error *e)
{
	json_t *md = json_object_get(ko->o, "metadata");
	const char *ns;
	struct sotto_buf id = SOTTO_BUF_INIT;

	ko->res = kdisc_find(d, ko->group, ko->version, ko->kind);
	if (ko->res == NULL)
		return sotto_error_set(e, SOTTO_E_KUBE_NOTFOUND, "no matches "
		    "for kind \"%s\" in version \"%s%s%s\"", ko->kind,
		    ko->group, ko->group[0] ? "/" : "", ko->version);
	if (ko->res->namespaced) {
		ns = ao->target_ns ? ao->target_ns : kjson_str(md,
		    "namespace");
		if (ns != NULL && ns[0] == '\0')
			ns = NULL;
		if (ns == NULL) {
			/* as Flux: no default namespace (run_stage fails it,
			 * so a tenant's objects never land in "default") */
			json_object_del(md, "namespace");
			ko->ns = NULL;
			goto id;
		}
		if (kname_check("metadata.namespace", ns,
		    KN_LABEL, e) != SOTTO_OK) {
			char q[96], qn[96];

			kquote(q, sizeof(q), ko->kind);
			kquote(qn, sizeof(qn), ko->name);
			return sotto_error_prefix(e, "%s/%s", q, qn);
		}
		if (json_object_set_new(md, "namespace", json_string(ns)) != 0)
			return oom(e);
		ko->ns = kjson_str(md, "namespace");
	} else {
		json_object_del(md, "namespace");
		ko->ns = NULL;
	}
id:
	free(ko->id);
	if (sotto_buf_addf(&id, "%s_%s_%s_%s", ko->ns ? ko->ns : "", ko->name,
	    ko->group, ko->kind) != SOTTO_OK)
		return oom(e);
	ko->id = (char *)sotto_buf_detach(&id, NULL);
	return SOTTO_OK;
}

static sotto_err
add_obj(struct kset *s, json_t *o, const struct kapply_opts *ao, size_t idx,
    struct sotto_error *e)
{
	const char *apiv = kjson_str(o, "apiVersion");
	const char *kind = kjson_str(o, "kind");
	const char *name = kjson_str(o, "metadata.name");
	struct kobj *ko;

	/* empty strings too: "" would make a collection URL and an inventory
	 * id that kube_inventory_split() refuses (prune could not use it) */
	if (apiv == NULL || kind == NULL || name == NULL || apiv[0] == '\0' ||
	    kind[0] == '\0' || name[0] == '\0') {
		/* kind and name point into o: the message first */
		sotto_error_set(e, SOTTO_E_PARSE, "failed to decode "
		    "Kubernetes apiVersion, kind and name from: %s%s%s",
		    kind ? kind : "document ", kind ? "/" : "", name ? name :
		    "");
		json_decref(o);
		return SOTTO_E_PARSE;
	}
	(void)idx;
	/* the name becomes a request path segment (kpath.c) */
	if (kname_check("metadata.name", name, KN_SEGMENT, e) != SOTTO_OK) {
		char q[96];

		kquote(q, sizeof(q), kind);
		sotto_error_prefix(e, "%s", q);
		json_decref(o);
		return SOTTO_E_CONFIG;
	}
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct kobj *nv = realloc(s->v, nc * sizeof(*nv));

		if (nv == NULL) {
			json_decref(o);
			return oom(e);
		}
		s->v = nv;
		s->cap = nc;
	}
	ko = &s->v[s->n++];
	memset(ko, 0, sizeof(*ko));
	ko->o = o;
	ko->kind = kind;
	ko->name = name;
	split_gv(apiv, &ko->group, &ko->version);
	ko->stage = kube_stage_of(ko->group, kind);
	if (ko->group == NULL || ko->version == NULL ||
	    set_common(o, ao) != SOTTO_OK || set_owner(o, ao) != SOTTO_OK ||
	    (strcmp(kind, "Secret") == 0 && ko->group[0] == '\0' &&
	    fold_string_data(o) != SOTTO_OK))
		return oom(e);
	return SOTTO_OK;
}

static bool
defined_by_crd(const struct kset *s, const struct kobj *ko)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].kind, "CustomResourceDefinition") == 0 &&
		    ko->group[0] != '\0' && strcmp(kjson_str(s->v[i].o,
		    "spec.group") ? kjson_str(s->v[i].o, "spec.group") : "",
		    ko->group) == 0)
			return true;
	return false;
}

sotto_err
kset_build(struct kset *s, const struct sotto_buf *yaml, struct kdisc *d,
    struct sotto_kube *k, const struct kapply_opts *o, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_doc *doc = NULL;
	size_t i;
	json_t *j;
	sotto_err rc = SOTTO_OK;

	(void)k;
	memset(s, 0, sizeof(*s));
	if (yaml->len == 0)
		return SOTTO_OK;
	if ((rc = sotto_store_yaml.parse(&doc, yaml->data, yaml->len,
	    "rendered output", &lim, e)) != SOTTO_OK)
		return rc;
	doc->secret = true;
	for (i = 0; i < doc->n && rc == SOTTO_OK; i++) {
		if (doc->branches[i] == NULL || doc->branches[i]->n == 0)
			continue;
		if ((j = kjson_from_tree(doc->branches[i])) == NULL) {
			/* jansson refuses strings that are not UTF-8 */
			rc = sotto_error_set(e, SOTTO_E_PARSE, "rendered "
			    "document %zu cannot be sent as JSON (text that is "
			    "not UTF-8, or out of memory)", i + 1);
			break;
		}
		rc = add_obj(s, j, o, i, e);
	}
	sotto_tree_doc_free(doc);
	for (i = 0; d != NULL && i < s->n && rc == SOTTO_OK; i++) {
		if (kdisc_find(d, s->v[i].group, s->v[i].version,
		    s->v[i].kind) == NULL && defined_by_crd(s, &s->v[i]))
			continue;	/* resolved after stage 1 */
		rc = resolve_obj(&s->v[i], d, o, e);
	}
	return rc;
}

sotto_err
kset_from_refs(struct kset *s, const json_t *refs, const struct kdisc *d,
    const struct kapply_opts *o, const char *def_ns, struct sotto_error *e)
{
	struct kapply_opts plain = *o;
	const json_t *r;
	json_t *j;
	size_t i;
	sotto_err rc = SOTTO_OK;

	memset(s, 0, sizeof(*s));
	plain.target_ns = NULL;	/* the refs name their own namespace */
	plain.common = NULL;
	json_array_foreach(refs, i, r) {
		const char *ns = kjson_str(r, "namespace");

		j = json_pack("{s:s?, s:s?, s:{s:s?, s:s?}}", "apiVersion",
		    kjson_str(r, "apiVersion"), "kind", kjson_str(r, "kind"),
		    "metadata", "name", kjson_str(r, "name"), "namespace",
		    ns ? ns : def_ns);
		if (j == NULL)
			return oom(e);
		if ((rc = add_obj(s, j, &plain, i, e)) != SOTTO_OK ||
		    (rc = resolve_obj(&s->v[s->n - 1], d, &plain, e)) !=
		    SOTTO_OK)
			return sotto_error_prefix(e, "spec.healthChecks[%zu]", i);
		s->v[s->n - 1].action = KA_UNCHANGED;
	}
	return rc;
}

void
kset_free(struct kset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		json_decref(s->v[i].o);
		json_decref(s->v[i].cleanup);
		free(s->v[i].group);
		free(s->v[i].version);
		free(s->v[i].id);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- comparing ---------------------------------------------------------- */

/* Every field of want is in have with the same value. */
static bool
subset(const json_t *want, const json_t *have)
{
	const char *key;
	json_t *v;

	if (json_is_object(want) && json_is_object(have)) {
		json_object_foreach((json_t *)want, key, v)
			if (!subset(v, json_object_get(have, key)))
				return false;
		return true;
	}
	return have != NULL && json_equal((json_t *)want, (json_t *)have);
}

/* Does managed-fields set f claim any field of want? */
static bool
fields_overlap(const json_t *f, const json_t *want)
{
	const char *key;
	json_t *v, *fv;
	char fk[300];

	if (!json_is_object(f) || !json_is_object(want))
		return false;
	json_object_foreach((json_t *)want, key, v) {
		snprintf(fk, sizeof(fk), "f:%s", key);
		fv = json_object_get(f, fk);
		if (fv == NULL)
			continue;
		if (json_is_object(v) && json_object_size(v) > 0 &&
		    json_object_size(fv) > 0 && json_object_get(fv, ".") ==
		    NULL) {
			if (fields_overlap(fv, v))
				return true;
		} else {
			return true;
		}
	}
	return false;
}

/* Does our own field set name a field want no longer has? */
static bool
fields_extra(const json_t *f, const json_t *want)
{
	const char *key;
	json_t *fv, *wv;

	json_object_foreach((json_t *)f, key, fv) {
		if (strncmp(key, "f:", 2) != 0)
			continue;
		wv = json_is_object(want) ? json_object_get(want, key + 2) :
		    NULL;
		if (wv == NULL)
			return true;
		if (json_object_size(fv) > 0 && json_is_object(wv) &&
		    fields_extra(fv, wv))
			return true;
	}
	return false;
}

/* The desired object without identity fields, for field-set checks. */
static json_t *
applied_fields(const json_t *o)
{
	json_t *c = json_deep_copy(o), *md;

	if (c == NULL)
		return NULL;
	json_object_del(c, "apiVersion");
	json_object_del(c, "kind");
	json_object_del(c, "status");
	md = json_object_get(c, "metadata");
	json_object_del(md, "name");
	json_object_del(md, "namespace");
	if (json_object_size(md) == 0)
		json_object_del(c, "metadata");
	return c;
}

/* The local no-change test (see the file comment). */
static bool
unchanged_locally(const json_t *want, const json_t *live, const char *fm)
{
	json_t *mf = kjson_get(live, "metadata.managedFields"), *ent, *af;
	bool ours = false, ok = true;
	size_t i;

	if (live == NULL || !subset(want, live))
		return false;
	if ((af = applied_fields(want)) == NULL)
		return false;
	json_array_foreach(mf, i, ent) {
		const char *m = kjson_str(ent, "manager");
		const char *op = kjson_str(ent, "operation");
		json_t *f = json_object_get(ent, "fieldsV1");

		if (kjson_str(ent, "subresource") != NULL)
			continue;
		if (m && op && strcmp(m, fm) == 0 && strcmp(op, "Apply") ==
		    0) {
			ours = true;
			if (fields_extra(f, af))
				ok = false;
		} else if (fields_overlap(f, af)) {
			ok = false;
		}
	}
	json_decref(af);
	return ours && ok;
}

static json_t *
without_volatile(const json_t *o)
{
	static const char *const md_skip[] = { "managedFields",
	    "resourceVersion", "generation", "creationTimestamp", "uid",
	    NULL };
	json_t *c = json_deep_copy(o), *md;
	size_t i;

	if (c == NULL)
		return NULL;
	json_object_del(c, "status");
	md = json_object_get(c, "metadata");
	for (i = 0; md_skip[i] != NULL; i++)
		json_object_del(md, md_skip[i]);
	return c;
}

static bool
same_object(const json_t *a, const json_t *b)
{
	json_t *x = without_volatile(a), *y = without_volatile(b);
	bool eq = x != NULL && y != NULL && json_equal(x, y);

	json_decref(x);
	json_decref(y);
	return eq;
}

/* ---- applying ------------------------------------------------------------ */

static void
obj_ref(char *out, size_t cap, const struct kobj *ko)
{
	if (ko->ns != NULL)
		snprintf(out, cap, "%s/%s/%s", ko->kind, ko->ns, ko->name);
	else
		snprintf(out, cap, "%s/%s", ko->kind, ko->name);
}

static const char *
annotation(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(kjson_get(o,
	    "metadata.annotations"), key));
}

static bool
skip_obj(const struct kobj *ko, const json_t *live)
{
	const char *a = annotation(ko->o, "kustomize.toolkit.fluxcd.io/"
	    "reconcile"), *ssa = annotation(ko->o,
	    "kustomize.toolkit.fluxcd.io/ssa");

	if (live != NULL && (ssa == NULL || a == NULL)) {
		if (a == NULL)
			a = annotation(live, "kustomize.toolkit.fluxcd.io/"
			    "reconcile");
		if (ssa == NULL)
			ssa = annotation(live, "kustomize.toolkit.fluxcd.io/"
			    "ssa");
	}
	if (a != NULL && strcasecmp(a, "disabled") == 0)
		return true;
	if (ssa != NULL && strcasecmp(ssa, "Ignore") == 0)
		return true;
	return ssa != NULL && strcasecmp(ssa, "IfNotPresent") == 0 &&
	    live != NULL;
}

/* ---- managedFields clean-up (spec §7.3 step 7, as Flux does) ---------- */

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

/*
 * Entries the apply removes first, so that a field kubectl (any of its
 * managers: kubectl, kubectl-client-side-apply, kubectl-edit, ...) or an
 * Update by our own manager took over is ours alone again and a manual
 * edit is reverted.  before-first-apply is what the API server records
 * for objects created before server-side apply existed.
 */
static bool
stale_manager(const json_t *ent, const char *fm)
{
	const char *m = kjson_str(ent, "manager");
	const char *op = kjson_str(ent, "operation");

	if (m == NULL || op == NULL || kjson_str(ent, "subresource") != NULL)
		return false;
	if (strncmp(m, "kubectl", 7) == 0)
		return true;
	return strcmp(op, "Update") == 0 && (strcmp(m, "before-first-apply")
	    == 0 || strcmp(m, fm) == 0);
}

/*
 * The application/json-patch+json ops that drop those entries and
 * kubectl's last-applied annotation; NULL when there is nothing to drop,
 * the object is absent or annotated ssa: Merge.
 */
static json_t *
cleanup_ops(const struct kobj *ko, const json_t *live, const char *fm)
{
	const char *ssa = annotation(ko->o, "kustomize.toolkit.fluxcd.io/ssa");
	json_t *keep, *ops, *ent;
	bool drop = false;
	size_t i;

	if (live == NULL || (ssa != NULL && strcasecmp(ssa, "Merge") == 0))
		return NULL;
	if ((keep = json_array()) == NULL || (ops = json_array()) == NULL) {
		json_decref(keep);
		return NULL;
	}
	json_array_foreach(kjson_get(live, "metadata.managedFields"), i, ent) {
		if (stale_manager(ent, fm))
			drop = true;
		else
			json_array_append(keep, ent);
	}
	/* an empty list leaves managedFields as they are; [{}] clears them */
	if (drop && json_array_size(keep) == 0)
		json_array_append_new(keep, json_object());
	if (drop)
		json_array_append_new(ops, json_pack("{s:s, s:s, s:O}", "op",
		    "replace", "path", "/metadata/managedFields", "value",
		    keep));
	if (annotation(live, LAST_APPLIED) != NULL)
		json_array_append_new(ops, json_pack("{s:s, s:s}", "op",
		    "remove", "path", "/metadata/annotations/"
		    "kubectl.kubernetes.io~1last-applied-configuration"));
	json_decref(keep);
	if (json_array_size(ops) == 0) {
		json_decref(ops);
		return NULL;
	}
	return ops;
}

static sotto_err
send_cleanup(struct sotto_kube *k, const struct kobj *ko,
    struct sotto_error *e)
{
	struct sotto_buf path = SOTTO_BUF_INIT;
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	char *body = json_dumps(ko->cleanup, JSON_COMPACT), ref[512];
	sotto_err rc;

	if (body == NULL || kres_path(&path, ko->res, ko->ns, ko->name) !=
	    SOTTO_OK) {
		free(body);
		sotto_buf_release(&path);
		return oom(e);
	}
	rc = sotto_kube_request(k, &r, "PATCH", (char *)path.data,
	    "application/json-patch+json", body, strlen(body), e);
	obj_ref(ref, sizeof(ref), ko);
	if (rc == SOTTO_OK && r.status >= 300) {
		char what[600];

		snprintf(what, sizeof(what), "%s managedFields clean-up failed",
		    ref);
		rc = sotto_kube_status_error(e, &r, what);
	}
	free(body);
	sotto_buf_release(&path);
	sotto_kube_resp_release(&r);
	return rc;
}

/* PATCH apply-patch; *out gets the response object when 200/201. */
static sotto_err
patch_apply(struct sotto_kube *k, const struct kobj *ko, bool dry,
    const struct kapply_opts *ao, json_t **out, long *status,
    struct sotto_error *e)
{
	struct sotto_buf path = SOTTO_BUF_INIT;
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	char *body = NULL, ref[512];
	sotto_err rc;

	*out = NULL;
	obj_ref(ref, sizeof(ref), ko);
	if (kres_path(&path, ko->res, ko->ns, ko->name) != SOTTO_OK ||
	    (dry && kpath_query(&path, "dryRun", "All") != SOTTO_OK) ||
	    kpath_query(&path, "fieldManager", ao->field_manager) != SOTTO_OK ||
	    kpath_query(&path, "force", "true") != SOTTO_OK ||
	    (body = json_dumps(ko->o, JSON_COMPACT)) == NULL) {
		rc = oom(e);
		goto out;
	}
	rc = sotto_kube_request(k, &r, "PATCH", (char *)path.data, APPLY_CT,
	    body, strlen(body), e);
	if (rc != SOTTO_OK) {
		sotto_error_prefix(e, "%s %s failed", ref, dry ? "dry-run" :
		    "apply");
		goto out;
	}
	*status = r.status;
	if (r.status == 200 || r.status == 201)
		*out = json_loadb((char *)r.body.data, r.body.len, 0, NULL);
	if (*out == NULL) {
		char what[600];

		snprintf(what, sizeof(what), "%s %s failed", ref, dry ?
		    "dry-run" : "apply");
		rc = sotto_kube_status_error(e, &r, what);
	}
out:
	if (body != NULL) {
		memset(body, 0, strlen(body));
		free(body);
	}
	sotto_buf_release(&path);
	sotto_kube_resp_release(&r);
	return rc;
}

static sotto_err
delete_and_wait(struct sotto_kube *k, const struct kobj *ko, double poll,
    struct sotto_error *e)
{
	struct sotto_buf path = SOTTO_BUF_INIT;
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	static const char body[] = "{\"propagationPolicy\":\"Background\"}";
	sotto_err rc;
	int i;

	if (kres_path(&path, ko->res, ko->ns, ko->name) != SOTTO_OK)
		return oom(e);
	rc = sotto_kube_request(k, &r, "DELETE", (char *)path.data,
	    "application/json", body, sizeof(body) - 1, e);
	for (i = 0; rc == SOTTO_OK && i < 30 && r.status != 404; i++) {
		struct timespec ts = { 0, (long)(poll * 250e6) };

		nanosleep(&ts, NULL);
		rc = sotto_kube_request(k, &r, "GET", (char *)path.data, NULL,
		    NULL, 0, e);
	}
	sotto_buf_release(&path);
	sotto_kube_resp_release(&r);
	return rc;
}

static bool
force_wanted(const struct kobj *ko, const struct kapply_opts *ao)
{
	const char *a = annotation(ko->o, "kustomize.toolkit.fluxcd.io/force");
	const char *l = json_string_value(json_object_get(kjson_get(ko->o,
	    "metadata.labels"), "kustomize.toolkit.fluxcd.io/force"));

	return ao->force || (a && strcasecmp(a, "enabled") == 0) ||
	    (l && strcasecmp(l, "enabled") == 0);
}

/* Phase A: decide, with the local check or a dry-run. */
static sotto_err
plan_obj(struct kobj *ko, json_t *live, struct sotto_kube *k,
    const struct kapply_opts *ao, struct sotto_error *e)
{
	json_t *res = NULL;
	long st = 0;
	sotto_err rc;

	ko->pending = false;
	if (skip_obj(ko, live)) {
		ko->action = KA_SKIPPED;
		return SOTTO_OK;
	}
	json_decref(ko->cleanup);
	ko->cleanup = cleanup_ops(ko, live, ao->field_manager);
	if (ko->cleanup == NULL && unchanged_locally(ko->o, live,
	    ao->field_manager)) {
		ko->action = KA_UNCHANGED;
		return SOTTO_OK;
	}
	rc = patch_apply(k, ko, true, ao, &res, &st, e);
	if (rc != SOTTO_OK && st == 422 && force_wanted(ko, ao) &&
	    strstr(e->msg, "immutable") != NULL) {
		ko->pending = true;	/* recreated in phase B */
		ko->action = KA_NONE;
		sotto_error_clear(e);
		return SOTTO_OK;
	}
	if (rc != SOTTO_OK)
		return rc;
	if (live != NULL && ko->cleanup == NULL && same_object(res, live))
		ko->action = KA_UNCHANGED;
	else
		ko->pending = true;
	json_decref(res);
	return SOTTO_OK;
}

sotto_err
kobj_dry_run(json_t **out, struct sotto_kube *k, const struct kobj *ko,
    const struct kapply_opts *ao, struct sotto_error *e)
{
	long st = 0;
	sotto_err rc = patch_apply(k, ko, true, ao, out, &st, e);

	if (rc != SOTTO_OK && st == 422 && force_wanted(ko, ao) &&
	    strstr(e->msg, "immutable") != NULL) {
		sotto_error_clear(e);
		return SOTTO_E_EXISTS;	/* the apply recreates it */
	}
	return rc;
}

bool
kobj_skipped(const struct kobj *ko, const json_t *live)
{
	return skip_obj(ko, live);
}

static const char *
action_name(enum kaction a)
{
	switch (a) {
	case KA_CREATED: return "created";
	case KA_CONFIGURED: return "configured";
	case KA_UNCHANGED: return "unchanged";
	case KA_SKIPPED: return "skipped";
	case KA_DELETED: return "deleted";
	default: return "none";
	}
}

static sotto_err
apply_obj(struct kobj *ko, struct sotto_kube *k, const struct kapply_opts *ao,
    struct sotto_error *e)
{
	json_t *res = NULL;
	long st = 0;
	char ref[512];
	sotto_err rc;

	if (ko->cleanup != NULL && (rc = send_cleanup(k, ko, e)) != SOTTO_OK)
		return rc;
	rc = patch_apply(k, ko, false, ao, &res, &st, e);
	if (rc != SOTTO_OK && st == 409) {
		/* a forced apply should not conflict; if it does (an update
		 * raced us), retry once after a fresh GET (spec §7.4) */
		json_t *live = NULL;
		struct sotto_buf path = SOTTO_BUF_INIT;

		sotto_error_clear(e);
		if (kres_path(&path, ko->res, ko->ns, ko->name) != SOTTO_OK)
			return oom(e);
		if (get_json(&live, k, (char *)path.data, e) ==
		    SOTTO_E_KUBE_NOTFOUND)
			sotto_error_clear(e);
		json_decref(live);
		sotto_buf_release(&path);
		st = 0;
		rc = patch_apply(k, ko, false, ao, &res, &st, e);
	}
	if (rc != SOTTO_OK && st == 422 && force_wanted(ko, ao) &&
	    strstr(e->msg, "immutable") != NULL) {
		/* the 422 is handled: a recreation that succeeds is a success
		 * (the error left set made the caller skip health checks and
		 * report Ready with no message) */
		sotto_error_clear(e);
		if ((rc = delete_and_wait(k, ko, ao->poll, e)) != SOTTO_OK)
			return rc;
		rc = patch_apply(k, ko, false, ao, &res, &st, e);
	}
	if (rc != SOTTO_OK)
		return rc;
	json_decref(res);
	ko->action = st == 201 ? KA_CREATED : KA_CONFIGURED;
	obj_ref(ref, sizeof(ref), ko);
	klog("info", NULL, ao->revision, "%s %s", ref,
	    action_name(ko->action));
	if (ao->changes != NULL)
		(void)sotto_buf_addf(ao->changes, "%s %s\n", ref,
		    action_name(ko->action));
	return SOTTO_OK;
}

static bool
stage_ready(const struct kobj *ko, const json_t *o)
{
	json_t *conds, *c;
	size_t i;

	if (strcmp(ko->kind, "Namespace") == 0) {
		const char *ph = kjson_str(o, "status.phase");

		return ph == NULL || strcmp(ph, "Active") == 0;
	}
	if (strcmp(ko->kind, "CustomResourceDefinition") != 0)
		return true;
	conds = kjson_get(o, "status.conditions");
	json_array_foreach(conds, i, c)
		if (kjson_str(c, "type") && strcmp(kjson_str(c, "type"),
		    "Established") == 0 && kjson_str(c, "status") &&
		    strcmp(kjson_str(c, "status"), "True") == 0)
			return true;
	return false;
}

/* After stage 1: CRDs Established, Namespaces Active (60 s). */
static sotto_err
wait_stage0(struct kset *s, struct sotto_kube *k,
    const struct kapply_opts *ao, struct sotto_error *e)
{
	size_t i;
	int tries;

	for (i = 0; i < s->n; i++) {
		struct kobj *ko = &s->v[i];
		struct sotto_buf path = SOTTO_BUF_INIT;
		json_t *o = NULL;
		bool ok = false;

		if (ko->stage != 0 || (ko->action != KA_CREATED &&
		    ko->action != KA_CONFIGURED))
			continue;
		if (kres_path(&path, ko->res, ko->ns, ko->name) != SOTTO_OK)
			return oom(e);
		for (tries = 0; !ok && tries < (int)(60 / ao->poll); tries++) {
			if (tries > 0) {
				struct timespec ts = { (time_t)ao->poll, 0 };

				nanosleep(&ts, NULL);
			}
			if (get_json(&o, k, (char *)path.data, e) != SOTTO_OK)
				break;
			ok = stage_ready(ko, o);
			json_decref(o);
		}
		sotto_buf_release(&path);
		if (!ok)
			return sotto_error_set(e, SOTTO_E_RECONCILE, "%s/%s is "
			    "not ready", ko->kind, ko->name);
	}
	return SOTTO_OK;
}

/* ---- planning against the live objects ---------------------------------- */

#define LIST_PAGE 250	/* objects per LIST page: bounds the decoded JSON */

static bool
same_group(const struct kobj *a, const struct kobj *b)
{
	return a->res == b->res && ((a->ns == NULL && b->ns == NULL) ||
	    (a->ns != NULL && b->ns != NULL && strcmp(a->ns, b->ns) == 0));
}

/* "…?labelSelector=<ours>&limit=N[&continue=<token>]", values encoded */
static sotto_err
page_path(struct sotto_buf *path, const struct kres *res, const char *ns,
    const struct kapply_opts *ao, const char *cont)
{
	struct sotto_buf sel = SOTTO_BUF_INIT;
	char limit[16];
	sotto_err rc;

	snprintf(limit, sizeof(limit), "%d", LIST_PAGE);
	if ((rc = kres_path(path, res, ns, NULL)) != SOTTO_OK)
		return rc;
	rc = sotto_buf_addf(&sel, LBL_NAME "=%s," LBL_NS "=%s", ao->ks_name,
	    ao->ks_ns);
	if (rc == SOTTO_OK)
		rc = kpath_query(path, "labelSelector", (char *)sel.data);
	if (rc == SOTTO_OK)
		rc = kpath_query(path, "limit", limit);
	if (rc == SOTTO_OK && cont != NULL)
		rc = kpath_query(path, "continue", cont);
	sotto_buf_release(&sel);
	return rc;
}

/*
 * Plans every object of stage that shares s->v[first]'s kind and
 * namespace.  The live objects come from a label-selected LIST read a
 * page at a time, and each page is released before the next is read, so
 * memory stays bounded by LIST_PAGE however many objects there are.
 * Objects no page names are absent and planned with live = NULL.
 */
static sotto_err
plan_group(struct kset *s, size_t first, int stage, struct sotto_kube *k,
    const struct kapply_opts *ao, struct sotto_error *e)
{
	json_t *idx = json_object(), *page = NULL, *it, *x;
	struct sotto_buf path = SOTTO_BUF_INIT;
	const struct kobj *g = &s->v[first];
	char *cont = NULL;
	const char *key;
	size_t i;
	sotto_err rc = SOTTO_OK;

	if (idx == NULL)
		return oom(e);
	for (i = first; i < s->n; i++)
		if (s->v[i].stage == stage && !s->v[i].planned &&
		    same_group(&s->v[i], g) && json_object_set_new(idx,
		    s->v[i].name, json_integer((json_int_t)i)) != 0)
			rc = oom(e);
	do {
		sotto_buf_truncate(&path, 0);
		if (rc == SOTTO_OK && page_path(&path, g->res, g->ns, ao, cont)
		    != SOTTO_OK)
			rc = oom(e);
		if (rc == SOTTO_OK)
			rc = get_json(&page, k, (char *)path.data, e);
		free(cont);
		cont = NULL;
		json_array_foreach(rc == SOTTO_OK ? json_object_get(page,
		    "items") : NULL, i, it) {
			key = kjson_str(it, "metadata.name");
			if (key == NULL || (x = json_object_get(idx, key)) ==
			    NULL)
				continue;
			s->v[json_integer_value(x)].planned = true;
			rc = plan_obj(&s->v[json_integer_value(x)], it, k, ao,
			    e);
			json_object_del(idx, key);
			if (rc != SOTTO_OK)
				break;
		}
		if (rc == SOTTO_OK && kjson_str(page, "metadata.continue") &&
		    kjson_str(page, "metadata.continue")[0] != '\0' &&
		    (cont = strdup(kjson_str(page, "metadata.continue"))) ==
		    NULL)
			rc = oom(e);
		json_decref(page);
		page = NULL;
	} while (rc == SOTTO_OK && cont != NULL);
	json_object_foreach(idx, key, x) {
		if (rc != SOTTO_OK)
			break;
		s->v[json_integer_value(x)].planned = true;
		rc = plan_obj(&s->v[json_integer_value(x)], NULL, k, ao, e);
	}
	sotto_buf_release(&path);
	json_decref(idx);
	return rc;
}

static sotto_err
run_stage(struct kset *s, int stage, struct sotto_kube *k,
    const struct kapply_opts *ao, struct sotto_error *e)
{
	size_t i;
	sotto_err rc = SOTTO_OK;

	for (i = 0; i < s->n; i++) {
		struct kobj *ko = &s->v[i];

		if (ko->stage != stage)
			continue;
		ko->planned = false;
		/* Flux's text: its dry-run of such an object gets a 404 */
		if (ko->res != NULL && ko->res->namespaced && ko->ns == NULL)
			return sotto_error_set(e, SOTTO_E_KUBE_NOTFOUND, "%s/%s "
			    "namespace not specified: the server could not find "
			    "the requested resource", ko->kind, ko->name);
	}
	for (i = 0; i < s->n && rc == SOTTO_OK; i++)
		if (s->v[i].stage == stage && !s->v[i].planned &&
		    s->v[i].res != NULL)
			rc = plan_group(s, i, stage, k, ao, e);
	for (i = 0; i < s->n && rc == SOTTO_OK; i++) {
		if (s->v[i].stage != stage || !s->v[i].pending)
			continue;
		if (ao->stop != NULL && *ao->stop) {
			rc = sotto_error_set(e, SOTTO_E_INTERRUPTED, "stopped "
			    "by a signal before all objects were applied");
			break;
		}
		rc = apply_obj(&s->v[i], k, ao, e);
	}
	return rc;
}

sotto_err
kset_apply(struct kset *s, struct sotto_kube *k, struct kdisc *d,
    const struct kapply_opts *ao, struct sotto_error *e)
{
	size_t i;
	bool crds = false;
	sotto_err rc;

	if ((rc = run_stage(s, 0, k, ao, e)) != SOTTO_OK ||
	    (rc = wait_stage0(s, k, ao, e)) != SOTTO_OK)
		return rc;
	for (i = 0; i < s->n; i++)
		if (s->v[i].res == NULL)
			crds = true;
	if (crds && (rc = kdisc_load(d, k, e)) != SOTTO_OK)
		return rc;
	for (i = 0; i < s->n; i++)
		if (s->v[i].res == NULL || crds)
			if ((rc = resolve_obj(&s->v[i], d, ao, e)) != SOTTO_OK)
				return rc;
	return run_stage(s, 1, k, ao, e);
}

/* ---- health --------------------------------------------------------------- */

static bool
cond_true(const json_t *o, const char *type)
{
	json_t *conds = kjson_get(o, "status.conditions"), *c;
	size_t i;

	json_array_foreach(conds, i, c)
		if (kjson_str(c, "type") && strcmp(kjson_str(c, "type"), type)
		    == 0)
			return kjson_str(c, "status") && strcmp(kjson_str(c,
			    "status"), "True") == 0;
	return false;
}

static json_int_t
int_at(const json_t *o, const char *p)
{
	return json_integer_value(kjson_get(o, p));
}

/* kstatus, simplified: rollouts complete, Jobs complete, Ready=True. */
static bool
healthy(const struct kobj *ko, const json_t *o)
{
	json_int_t gen = int_at(o, "metadata.generation");
	json_t *conds = kjson_get(o, "status.conditions");

	if (kjson_get(o, "status.observedGeneration") != NULL &&
	    int_at(o, "status.observedGeneration") < gen)
		return false;
	if (strcmp(ko->kind, "Deployment") == 0 || strcmp(ko->kind,
	    "StatefulSet") == 0) {
		json_int_t want = kjson_get(o, "spec.replicas") ? int_at(o,
		    "spec.replicas") : 1;

		if (kjson_get(o, "status") == NULL)
			return false;
		if (int_at(o, "status.updatedReplicas") < want)
			return false;
		return strcmp(ko->kind, "Deployment") == 0 ?
		    int_at(o, "status.availableReplicas") >= want :
		    int_at(o, "status.readyReplicas") >= want;
	}
	if (strcmp(ko->kind, "Job") == 0)
		return cond_true(o, "Complete");
	if (json_array_size(conds) == 0)
		return true;
	return cond_true(o, "Ready") || kjson_get(o, "status.conditions") ==
	    NULL;
}

sotto_err
kset_wait(struct kset *s, struct sotto_kube *k, const struct kapply_opts *ao,
    double timeout, struct sotto_error *e)
{
	struct timespec t0, now, ts;
	struct sotto_buf bad = SOTTO_BUF_INIT;
	size_t i;
	sotto_err rc = SOTTO_OK;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		sotto_buf_truncate(&bad, 0);
		for (i = 0; i < s->n && rc == SOTTO_OK; i++) {
			struct kobj *ko = &s->v[i];
			struct sotto_buf path = SOTTO_BUF_INIT;
			json_t *o = NULL;
			char ref[512];

			if (ko->action == KA_SKIPPED || ko->res == NULL)
				continue;
			kres_path(&path, ko->res, ko->ns, ko->name);
			rc = get_json(&o, k, (char *)path.data, e);
			sotto_buf_release(&path);
			if (rc == SOTTO_E_KUBE_NOTFOUND) {
				/* not there (yet): not ready, keep waiting */
				sotto_error_clear(e);
				rc = SOTTO_OK;
			} else if (rc != SOTTO_OK || healthy(ko, o)) {
				json_decref(o);
				continue;
			}
			obj_ref(ref, sizeof(ref), ko);
			sotto_buf_addf(&bad, "%s%s%s", bad.len ? ", " : "", ref,
			    o == NULL ? " (not found)" : "");
			json_decref(o);
		}
		if (rc != SOTTO_OK || bad.len == 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - t0.tv_sec) + ao->poll > timeout ||
		    (ao->stop && *ao->stop)) {
			rc = sotto_error_set(e, SOTTO_E_RECONCILE, "health "
			    "check failed after %.0fs: timeout waiting for: "
			    "[%.400s]", timeout, (char *)bad.data);
			break;
		}
		ts.tv_sec = (time_t)ao->poll;
		ts.tv_nsec = (long)((ao->poll - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	sotto_buf_release(&bad);
	return rc;
}

/* ---- inventory and prune -------------------------------------------------- */

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(kjson_str(*(json_t *const *)a, "id"),
	    kjson_str(*(json_t *const *)b, "id"));
}

static json_t *
sorted_entries(json_t **v, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	qsort(v, n, sizeof(*v), cmp_entry);
	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, v[i]);
	return arr;
}

json_t *
kset_inventory(const struct kset *s)
{
	json_t **v = calloc(s->n + 1, sizeof(*v)), *arr;
	size_t i, n = 0;

	if (v == NULL)
		return NULL;
	for (i = 0; i < s->n; i++)
		if (s->v[i].id != NULL && !(s->v[i].res != NULL &&
		    s->v[i].res->namespaced && s->v[i].ns == NULL))
			v[n++] = json_pack("{s:s, s:s}", "id", s->v[i].id, "v",
			    s->v[i].version);
	arr = sorted_entries(v, n);
	free(v);
	return arr;
}

static bool
in_entries(const json_t *entries, const char *id)
{
	size_t i;
	json_t *x;

	json_array_foreach(entries, i, x)
		if (kjson_str(x, "id") && strcmp(kjson_str(x, "id"), id) == 0)
			return true;
	return false;
}

static int
prune_rank(const char *kind)
{
	if (strcmp(kind, "CustomResourceDefinition") == 0)
		return 2;
	return kube_stage_of("", kind) == 0 ? 1 : 0;
}

/* "<ns>_<name>_<group>_<Kind>" (ns and group may be empty). */
bool
kube_inventory_split(const char *id, char *ns, char *name, char *group,
    char *kind)
{
	char *parts[4] = { ns, name, group, kind };
	const char *p = id, *u;
	size_t i, n;

	for (i = 0; i < 4; i++) {
		u = i < 3 ? strchr(p, '_') : p + strlen(p);
		if (u == NULL || (n = (size_t)(u - p)) >= 256)
			return false;
		memcpy(parts[i], p, n);
		parts[i][n] = '\0';
		p = u + (i < 3);
	}
	/* a status can be edited: only names a request path may hold */
	return name[0] != '\0' && kind[0] != '\0' && kname_invalid(name,
	    KN_SEGMENT) == NULL && (ns[0] == '\0' || kname_invalid(ns,
	    KN_LABEL) == NULL);
}

/*
 * Flux's deletion exclusions (deleteObjects in kustomize-controller):
 * prune: disabled, reconcile: disabled or ssa: Ignore, as an annotation
 * or a label.
 */
static bool
excluded(const json_t *live)
{
	static const char *const ex[][2] = {
		{ "kustomize.toolkit.fluxcd.io/prune", "disabled" },
		{ "kustomize.toolkit.fluxcd.io/reconcile", "disabled" },
		{ "kustomize.toolkit.fluxcd.io/ssa", "Ignore" },
	};
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		v = annotation(live, ex[i][0]);
		if (v == NULL)
			v = json_string_value(json_object_get(kjson_get(live,
			    "metadata.labels"), ex[i][0]));
		if (v != NULL && strcasecmp(v, ex[i][1]) == 0)
			return true;
	}
	return false;
}

static sotto_err
prune_one(const char *id, const char *ver, struct sotto_kube *k,
    struct kdisc *d, const struct kapply_opts *ao, bool *kept, bool *gone,
    struct sotto_error *e)
{
	char ns[256], name[256], group[256], kind[256];
	struct kobj ko;
	struct sotto_buf path = SOTTO_BUF_INIT;
	json_t *live = NULL;
	const char *lname, *lns;
	sotto_err rc;

	*kept = true;
	*gone = false;
	if (!kube_inventory_split(id, ns, name, group, kind))
		return SOTTO_OK;	/* foreign id: keep */
	memset(&ko, 0, sizeof(ko));
	ko.kind = kind;
	ko.name = name;
	ko.ns = ns[0] ? ns : NULL;
	if ((ko.res = kdisc_find(d, group, ver, kind)) == NULL &&
	    (ko.res = kdisc_find(d, group, NULL, kind)) == NULL) {
		*kept = false;	/* the kind is gone, so is the object */
		return SOTTO_OK;
	}
	if (kres_path(&path, ko.res, ko.ns, name) != SOTTO_OK) {
		sotto_buf_release(&path);
		return SOTTO_OK;	/* not a path we may send: keep */
	}
	rc = get_json(&live, k, (char *)path.data, e);
	sotto_buf_release(&path);
	if (rc == SOTTO_E_KUBE_NOTFOUND) {
		*kept = false;
		sotto_error_clear(e);
		return SOTTO_OK;
	}
	if (rc != SOTTO_OK)
		return rc;
	lname = json_string_value(json_object_get(kjson_get(live,
	    "metadata.labels"), LBL_NAME));
	lns = json_string_value(json_object_get(kjson_get(live,
	    "metadata.labels"), LBL_NS));
	if (excluded(live) || lname == NULL ||
	    lns == NULL || strcmp(lname, ao->ks_name) != 0 ||
	    strcmp(lns, ao->ks_ns) != 0) {
		json_decref(live);
		*kept = false;	/* not ours any more: forget, do not delete */
		return SOTTO_OK;
	}
	json_decref(live);
	if ((rc = delete_and_wait(k, &ko, 0.4, e)) != SOTTO_OK)
		return rc;
	*kept = false;
	*gone = true;
	{
		char ref[800];

		obj_ref(ref, sizeof(ref), &ko);
		klog("info", NULL, ao->revision, "%s deleted", ref);
		if (ao->changes != NULL)
			(void)sotto_buf_addf(ao->changes, "%s deleted\n", ref);
	}
	return SOTTO_OK;
}

sotto_err
kprune(json_t *keep, const json_t *old_entries, const json_t *new_entries,
    struct sotto_kube *k, struct kdisc *d, const struct kapply_opts *ao,
    json_t *deleted, struct sotto_error *e)
{
	size_t i;
	int rank;
	json_t *x;
	bool kept, gone;
	sotto_err rc, first = SOTTO_OK;

	for (rank = 0; rank <= 2; rank++) {
		json_array_foreach((json_t *)old_entries, i, x) {
			const char *id = kjson_str(x, "id");
			const char *kind = id ? strrchr(id, '_') : NULL;

			if (id == NULL || kind == NULL || in_entries(new_entries,
			    id) || prune_rank(kind + 1) != rank)
				continue;
			rc = prune_one(id, kjson_str(x, "v"), k, d, ao, &kept,
			    &gone, first == SOTTO_OK ? e : NULL);
			if (rc != SOTTO_OK && first == SOTTO_OK)
				first = rc;
			if (kept || rc != SOTTO_OK)
				json_array_append(keep, x);
			else if (gone && deleted != NULL)
				json_array_append(deleted, x);
		}
	}
	return first;
}
