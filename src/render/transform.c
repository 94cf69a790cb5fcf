/* SPDX-License-Identifier: ISC */
/*
 * kustomize's built-in transformers over the object list: namespace,
 * name prefix/suffix, labels (with selectors and templates), annotations,
 * images, replicas, the generator hash suffix and the back references to
 * renamed ConfigMaps, Secrets and ServiceAccounts.  Field lists follow
 * kustomize's builtin field specs for the built-in kinds.
 */
#include "render/rint.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cluster_kinds[] = {
	"Namespace", "ClusterRole", "ClusterRoleBinding",
	"CustomResourceDefinition", "PersistentVolume", "StorageClass",
	"PriorityClass", "APIService", "MutatingWebhookConfiguration",
	"ValidatingWebhookConfiguration", "Node", "CSIDriver", "CSINode",
	"VolumeAttachment", "RuntimeClass", "IngressClass",
	"PodSecurityPolicy", "ComponentStatus", "CertificateSigningRequest",
	"ClusterIssuer", "ValidatingAdmissionPolicy",
	"ValidatingAdmissionPolicyBinding", "FlowSchema",
	"PriorityLevelConfiguration", NULL
};

bool
rt_cluster_scoped(const char *kind)
{
	size_t i;

	for (i = 0; cluster_kinds[i] != NULL; i++)
		if (strcmp(kind, cluster_kinds[i]) == 0)
			return true;
	return false;
}

static bool
kind_in(const char *kind, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(kind, *list) == 0)
			return true;
	return false;
}

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

/*
 * What a transformer writes is charged to the render's budget before it
 * is written (rc_charge): a value in a kustomization is copied into every
 * object, or every container, so a short file could otherwise build
 * gigabytes.
 */
struct tx {
	struct rctx *c;
	const char *dir;		/* the kustomization, for messages */
	struct sotto_error *e;
};

static sotto_err
charge(const struct tx *t, size_t bytes)
{
	return rc_charge(t->c, bytes, 0, t->dir, t->e);
}

sotto_err
rt_namespace(struct rlist *l, struct rctx *c, const char *dir, const char *ns,
    struct sotto_error *e)
{
	struct tx t = { c, dir, e };
	size_t i, j, nl = strlen(ns) + RN_NODE_COST;
	sotto_err err;

	for (i = 0; i < l->n; i++) {
		struct robj *o = &l->v[i];
		const char *kind = robj_kind(o);
		struct sotto_node *md = rn_ensure_map(o->n, "metadata"), *subj;

		if (md == NULL)
			return oom(e);
		if ((err = charge(&t, nl)) != SOTTO_OK)
			return err;
		if (strcmp(kind, "Namespace") == 0) {
			if (rn_set_str(md, "name", ns) != SOTTO_OK)
				return oom(e);
			continue;
		}
		if (!rt_cluster_scoped(kind) &&
		    rn_set_str(md, "namespace", ns) != SOTTO_OK)
			return oom(e);
		if (strcmp(kind, "RoleBinding") != 0 &&
		    strcmp(kind, "ClusterRoleBinding") != 0)
			continue;
		subj = rn_path(o->n, "subjects");
		/*
		 * kustomize's default (setRoleBindingSubjects: defaultOnly):
		 * only ServiceAccount subjects named "default" move; the
		 * others follow their ServiceAccount in rt_namerefs.
		 */
		for (j = 0; subj && subj->kind == SOTTO_NODE_SEQ &&
		    j < subj->n; j++) {
			struct sotto_node *s = subj->items[j].val;
			const char *sk = rn_str(s, "kind");
			const char *sn = rn_str(s, "name");

			if (sk == NULL || strcmp(sk, "ServiceAccount") != 0 ||
			    sn == NULL || strcmp(sn, "default") != 0)
				continue;
			if ((err = charge(&t, nl)) != SOTTO_OK)
				return err;
			if (rn_set_str(s, "namespace", ns) != SOTTO_OK)
				return oom(e);
		}
	}
	return SOTTO_OK;
}

sotto_err
rt_affix(struct rlist *l, struct rctx *c, const char *dir, const char *prefix,
    const char *suffix, struct sotto_error *e)
{
	struct tx t = { c, dir, e };
	size_t i, n, al = (prefix ? strlen(prefix) : 0) +
	    (suffix ? strlen(suffix) : 0);
	sotto_err err;
	char *nn;

	for (i = 0; i < l->n; i++) {
		struct robj *o = &l->v[i];
		const char *kind = robj_kind(o), *name = robj_name(o);

		if (strcmp(kind, "Namespace") == 0 ||
		    strcmp(kind, "CustomResourceDefinition") == 0)
			continue;
		if ((err = charge(&t, al)) != SOTTO_OK)
			return err;
		n = strlen(name) + al + 1;
		if ((nn = malloc(n)) == NULL)
			return oom(e);
		snprintf(nn, n, "%s%s%s", prefix ? prefix : "", name,
		    suffix ? suffix : "");
		if (rn_set_str(rn_ensure_map(o->n, "metadata"), "name", nn) !=
		    SOTTO_OK) {
			free(nn);
			return oom(e);
		}
		free(nn);
	}
	return SOTTO_OK;
}

static sotto_err
merge_pairs(const struct tx *t, struct sotto_node *dst,
    const struct sotto_node *pairs)
{
	size_t i;
	sotto_err err;

	if ((err = charge(t, rn_cost(pairs))) != SOTTO_OK)
		return err;
	for (i = 0; i < pairs->n; i++) {
		const struct sotto_node *v = pairs->items[i].val;

		if (pairs->items[i].key == NULL)
			continue;
		if (rn_set_str(dst, pairs->items[i].key, v &&
		    v->kind == SOTTO_NODE_SCALAR && v->type != SOTTO_T_NULL ?
		    v->text : "") != SOTTO_OK)
			return oom(t->e);
	}
	return SOTTO_OK;
}

/* Sets pairs at path: create, or only where the map exists. */
static sotto_err
put_at(const struct tx *t, struct sotto_node *obj, const char *path,
    const struct sotto_node *p, bool create)
{
	struct sotto_node *m = create ? rn_ensure_path(obj, path) :
	    rn_path(obj, path);

	if (m == NULL)
		return create ? oom(t->e) : SOTTO_OK;
	if (m->kind != SOTTO_NODE_MAP)
		return SOTTO_OK;
	return merge_pairs(t, m, p);
}

static const char *const pod_owner_kinds[] = {
	"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job",
	"ReplicationController", NULL
};

static sotto_err
template_paths(const struct tx *t, struct sotto_node *obj, const char *kind,
    const char *what, const struct sotto_node *p)
{
	char path[128];
	sotto_err err = SOTTO_OK;

	if (kind_in(kind, pod_owner_kinds)) {
		snprintf(path, sizeof(path), "spec/template/metadata/%s", what);
		err = put_at(t, obj, path, p, true);
	} else if (strcmp(kind, "CronJob") == 0) {
		snprintf(path, sizeof(path), "spec/jobTemplate/metadata/%s",
		    what);
		err = put_at(t, obj, path, p, true);
		snprintf(path, sizeof(path),
		    "spec/jobTemplate/spec/template/metadata/%s", what);
		if (err == SOTTO_OK)
			err = put_at(t, obj, path, p, true);
	}
	return err;
}

/* NetworkPolicy: spec/podSelector and the podSelector of every ingress
 * `from` and egress `to` peer, where present (kustomize's field specs). */
static sotto_err
netpol_peers(const struct tx *t, struct sotto_node *obj,
    const struct sotto_node *p)
{
	static const char *const rules[][2] = {
		{ "spec/ingress", "from" }, { "spec/egress", "to" }
	};
	struct sotto_node *r, *peers;
	size_t k, i, j;
	sotto_err err = put_at(t, obj, "spec/podSelector/matchLabels", p,
	    false);

	for (k = 0; k < 2 && err == SOTTO_OK; k++) {
		r = rn_path(obj, rules[k][0]);
		for (i = 0; r && r->kind == SOTTO_NODE_SEQ && i < r->n &&
		    err == SOTTO_OK; i++) {
			peers = rn_get(r->items[i].val, rules[k][1]);
			for (j = 0; peers && peers->kind == SOTTO_NODE_SEQ &&
			    j < peers->n && err == SOTTO_OK; j++)
				err = put_at(t, peers->items[j].val,
				    "podSelector/matchLabels", p, false);
		}
	}
	return err;
}

static sotto_err
selector_paths(const struct tx *t, struct sotto_node *obj, const char *kind,
    const struct sotto_node *p)
{
	static const char *const sel_create[] = {
		"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", NULL
	};

	if (strcmp(kind, "Service") == 0 ||
	    strcmp(kind, "ReplicationController") == 0)
		return put_at(t, obj, "spec/selector", p, true);
	if (kind_in(kind, sel_create))
		return put_at(t, obj, "spec/selector/matchLabels", p, true);
	if (strcmp(kind, "Job") == 0 || strcmp(kind, "PodDisruptionBudget") ==
	    0)
		return put_at(t, obj, "spec/selector/matchLabels", p, false);
	if (strcmp(kind, "CronJob") == 0)
		return put_at(t, obj,
		    "spec/jobTemplate/spec/selector/matchLabels", p, false);
	if (strcmp(kind, "NetworkPolicy") == 0)
		return netpol_peers(t, obj, p);
	return SOTTO_OK;
}

static sotto_err
volume_claim_labels(const struct tx *t, struct sotto_node *obj,
    const struct sotto_node *p)
{
	struct sotto_node *v = rn_path(obj, "spec/volumeClaimTemplates");
	size_t i;
	sotto_err err = SOTTO_OK;

	for (i = 0; v && v->kind == SOTTO_NODE_SEQ && i < v->n &&
	    err == SOTTO_OK; i++)
		err = put_at(t, v->items[i].val, "metadata/labels", p, true);
	return err;
}

sotto_err
rt_labels(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *pairs, bool selectors, bool templates,
    struct sotto_error *e)
{
	struct tx t = { c, dir, e };
	size_t i;
	sotto_err err = SOTTO_OK;

	if (pairs == NULL || pairs->kind != SOTTO_NODE_MAP)
		return pairs == NULL || pairs->type == SOTTO_T_NULL ? SOTTO_OK :
		    sotto_error_set(e, SOTTO_E_PARSE, "labels must be a map");
	for (i = 0; i < l->n && err == SOTTO_OK; i++) {
		struct sotto_node *obj = l->v[i].n;
		const char *kind = robj_kind(&l->v[i]);

		err = put_at(&t, obj, "metadata/labels", pairs, true);
		if (err == SOTTO_OK && templates)
			err = template_paths(&t, obj, kind, "labels", pairs);
		if (err == SOTTO_OK && selectors)
			err = selector_paths(&t, obj, kind, pairs);
		if (err == SOTTO_OK && templates &&
		    strcmp(kind, "StatefulSet") == 0)
			err = volume_claim_labels(&t, obj, pairs);
	}
	return err;
}

sotto_err
rt_annotations(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *pairs, struct sotto_error *e)
{
	struct tx t = { c, dir, e };
	size_t i;
	sotto_err err = SOTTO_OK;

	if (pairs == NULL || pairs->kind != SOTTO_NODE_MAP)
		return pairs == NULL || pairs->type == SOTTO_T_NULL ? SOTTO_OK :
		    sotto_error_set(e, SOTTO_E_PARSE, "commonAnnotations must "
		    "be a map");
	for (i = 0; i < l->n && err == SOTTO_OK; i++) {
		err = put_at(&t, l->v[i].n, "metadata/annotations", pairs,
		    true);
		if (err == SOTTO_OK)
			err = template_paths(&t, l->v[i].n,
			    robj_kind(&l->v[i]), "annotations", pairs);
	}
	return err;
}

/* ---- images ---- */

/* Length of the repository part of an image reference. */
static size_t
image_name_len(const char *img)
{
	const char *at = strchr(img, '@'), *slash, *colon;
	size_t end = at ? (size_t)(at - img) : strlen(img);

	slash = NULL;
	for (colon = img; colon < img + end; colon++)
		if (*colon == '/')
			slash = colon;
	colon = memchr(slash ? slash : img, ':', end - (size_t)((slash ?
	    slash : img) - img));
	return colon ? (size_t)(colon - img) : end;
}

static sotto_err
retag(const struct tx *t, struct sotto_node *imgnode,
    const struct sotto_node *spec)
{
	const char *img = imgnode->text, *name = rn_str(spec, "name");
	const char *nn = rn_str(spec, "newName"), *tag = rn_str(spec,
	    "newTag"), *dg = rn_str(spec, "digest");
	size_t nl = image_name_len(img);
	struct sotto_buf b = SOTTO_BUF_INIT;
	sotto_err err;

	/* an empty value is unset, as in kustomize */
	nn = nn && *nn ? nn : NULL;
	tag = tag && *tag ? tag : NULL;
	dg = dg && *dg ? dg : NULL;

	if (name == NULL || strlen(name) != nl || strncmp(img, name, nl) != 0)
		return SOTTO_OK;
	if (nn != NULL)
		err = sotto_buf_addstr(&b, nn);
	else
		err = sotto_buf_add(&b, img, nl);
	if (err == SOTTO_OK) {
		if (dg != NULL)
			err = sotto_buf_addf(&b, "@%s", dg);
		else if (tag != NULL)
			err = sotto_buf_addf(&b, ":%s", tag);
		else
			err = sotto_buf_addstr(&b, img + nl);
	}
	if (err != SOTTO_OK)
		err = oom(t->e);
	else if ((err = charge(t, b.len)) == SOTTO_OK &&
	    sotto_tree_set_text(imgnode, SOTTO_T_STR, (const char *)b.data,
	    b.len) != SOTTO_OK)
		err = oom(t->e);
	sotto_buf_release(&b);
	return err;
}

static sotto_err
walk_images(const struct tx *t, struct sotto_node *n,
    const struct sotto_node *images)
{
	size_t i, j, k;
	sotto_err err = SOTTO_OK;

	if (n == NULL || (n->kind != SOTTO_NODE_MAP &&
	    n->kind != SOTTO_NODE_SEQ))
		return SOTTO_OK;
	for (i = 0; i < n->n && err == SOTTO_OK; i++) {
		struct sotto_node *v = n->items[i].val;
		const char *key = n->items[i].key;

		if (key != NULL && v != NULL && v->kind == SOTTO_NODE_SEQ &&
		    (strcmp(key, "containers") == 0 ||
		    strcmp(key, "initContainers") == 0)) {
			for (j = 0; j < v->n && err == SOTTO_OK; j++) {
				struct sotto_node *im = rn_get(v->items[j].val,
				    "image");

				/* each entry is tried on each container */
				if ((err = charge(t, images->n *
				    RN_NODE_COST)) != SOTTO_OK)
					break;
				for (k = 0; rn_is_scalar(im) &&
				    k < images->n && err == SOTTO_OK; k++)
					err = retag(t, im,
					    images->items[k].val);
			}
			continue;
		}
		err = walk_images(t, v, images);
	}
	return err;
}

sotto_err
rt_images(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *images, struct sotto_error *e)
{
	struct tx t = { c, dir, e };
	size_t i;
	sotto_err err;

	if (images->kind != SOTTO_NODE_SEQ)
		return sotto_error_set(e, SOTTO_E_PARSE, "'images' must be a "
		    "list");
	for (i = 0; i < images->n; i++) {
		static const char *const keys[] = { "name", "newName",
		    "newTag", "digest", NULL };

		if ((err = rc_check_keys(images->items[i].val, keys,
		    "images", "images", e)) != SOTTO_OK)
			return err;
	}
	for (i = 0; i < l->n; i++)
		if ((err = walk_images(&t, l->v[i].n, images)) != SOTTO_OK)
			return err;
	return SOTTO_OK;
}

sotto_err
rt_replicas(struct rlist *l, const struct sotto_node *reps,
    struct sotto_error *e)
{
	static const char *const kinds[] = {
		"Deployment", "ReplicaSet", "StatefulSet",
		"ReplicationController", NULL
	};
	size_t i, j;

	if (reps->kind != SOTTO_NODE_SEQ)
		return sotto_error_set(e, SOTTO_E_PARSE, "'replicas' must be "
		    "a list");
	for (j = 0; j < reps->n; j++) {
		static const char *const keys[] = { "name", "count", NULL };
		const char *name = rn_str(reps->items[j].val, "name");
		const char *count = rn_str(reps->items[j].val, "count");
		sotto_err err = rc_check_keys(reps->items[j].val, keys,
		    "replicas", "replicas", e);

		if (err != SOTTO_OK)
			return err;

		if (name == NULL || count == NULL)
			return sotto_error_set(e, SOTTO_E_PARSE, "replicas "
			    "item %zu needs 'name' and 'count'", j);
		for (i = 0; i < l->n; i++) {
			struct robj *o = &l->v[i];
			struct sotto_node *spec;

			if (!kind_in(robj_kind(o), kinds) ||
			    (strcmp(robj_name(o), name) != 0 &&
			    (o->orig_name == NULL ||
			    strcmp(o->orig_name, name) != 0)))
				continue;
			if ((spec = rn_ensure_map(o->n, "spec")) == NULL ||
			    rn_set(spec, "replicas", sotto_tree_new_scalar(
			    SOTTO_T_INT, count, strlen(count))) != SOTTO_OK)
				return oom(e);
		}
	}
	return SOTTO_OK;
}

/* ---- hash suffix ---- */

void
sotto_render_hash_suffix(char out[11], const uint8_t *json, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t h[crypto_hash_sha256_BYTES];
	size_t i;

	crypto_hash_sha256(h, json, len);
	for (i = 0; i < 10; i++) {
		char c = hex[(h[i / 2] >> ((i & 1) ? 0 : 4)) & 15];

		switch (c) {
		case '0': c = 'g'; break;
		case '1': c = 'h'; break;
		case '3': c = 'k'; break;
		case 'a': c = 'm'; break;
		case 'e': c = 't'; break;
		default: break;
		}
		out[i] = c;
	}
	out[10] = '\0';
	sodium_memzero(h, sizeof(h));
}

static sotto_err
hash_one(struct robj *o)
{
	struct sotto_buf j = SOTTO_BUF_SECRET_INIT;
	struct sotto_node *m, *data, *bin;
	const char *kind = robj_kind(o), *type = rn_str(o->n, "type");
	char h[11], *nn;
	size_t nl;
	sotto_err err = SOTTO_E_NOMEM;

	if ((m = sotto_tree_new_map()) == NULL)
		return SOTTO_E_NOMEM;
	/*
	 * kustomize (api/hasher) looks "metadata/name" up as one key, so the
	 * name is always ""; a missing map is "" too.
	 */
	data = rn_get(o->n, "data");
	bin = rn_get(o->n, strcmp(kind, "Secret") == 0 ? "stringData" :
	    "binaryData");
	if (rn_set(m, "kind", rn_strnode(kind)) != SOTTO_OK ||
	    rn_set(m, "name", rn_strnode("")) != SOTTO_OK ||
	    rn_set(m, "data", data ? sotto_tree_clone(data) :
	    rn_strnode("")) != SOTTO_OK)
		goto out;
	if (strcmp(kind, "Secret") == 0 &&
	    rn_set(m, "type", rn_strnode(type ? type : "")) != SOTTO_OK)
		goto out;
	if (bin != NULL && bin->kind == SOTTO_NODE_MAP &&
	    rn_set(m, strcmp(kind, "Secret") == 0 ? "stringData" :
	    "binaryData", sotto_tree_clone(bin)) != SOTTO_OK)
		goto out;
	if (rn_to_json(&j, m) != SOTTO_OK)
		goto out;
	sotto_render_hash_suffix(h, j.data, j.len);
	nl = strlen(robj_name(o)) + 12;
	if ((nn = malloc(nl)) == NULL)
		goto out;
	snprintf(nn, nl, "%s-%s", robj_name(o), h);
	err = rn_set_str(rn_get(o->n, "metadata"), "name", nn);
	free(nn);
out:
	sotto_tree_node_free(m, true);
	sotto_buf_release(&j);
	return err;
}

sotto_err
rt_hash_names(struct rlist *l, struct sotto_error *e)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].hash && hash_one(&l->v[i]) != SOTTO_OK)
			return oom(e);
	return SOTTO_OK;
}

/* ---- name references ---- */

/*
 * An object whose name or namespace changed during the build.  References
 * are matched by kind and original name (kustomize's nameReference field
 * specs for the built-in kinds; namespaces are not compared except for
 * RoleBinding subjects, which carry one).
 */
struct rename {
	const char *kind, *from, *to;
	const char *from_ns, *to_ns;	/* original and final, or NULL */
	size_t at;			/* index in the object list */
};

/* Renames are sorted by kind, original name, then list order, so that a
 * lookup is a binary search (a render of 80,000 objects has as many
 * references and renames) and finds the first object as a scan would. */
static int
rename_cmp(const void *pa, const void *pb)
{
	const struct rename *a = pa, *b = pb;
	int r;

	if ((r = strcmp(a->kind, b->kind)) != 0 ||
	    (r = strcmp(a->from, b->from)) != 0)
		return r;
	return a->at < b->at ? -1 : a->at > b->at;
}

/* The first rename of kind/from (further ones follow it), or NULL. */
static const struct rename *
find_rename(const struct rename *r, size_t n, const char *kind,
    const char *from)
{
	size_t lo = 0, hi = n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(r[mid].kind, kind)) == 0)
			c = strcmp(r[mid].from, from);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && strcmp(r[lo].kind, kind) == 0 &&
	    strcmp(r[lo].from, from) == 0)
		return &r[lo];
	return NULL;
}

static sotto_err
fix_name(struct sotto_node *map, const char *key, const char *kind,
    const struct rename *r, size_t nr)
{
	struct sotto_node *v = rn_get(map, key);
	const struct rename *x;

	if (!rn_is_scalar(v) || (x = find_rename(r, nr, kind, v->text)) ==
	    NULL || strcmp(x->from, x->to) == 0)
		return SOTTO_OK;
	return sotto_tree_set_text(v, SOTTO_T_STR, x->to, strlen(x->to));
}

static sotto_err
fix_items(struct sotto_node *seq, const char *key, const char *kind,
    const struct rename *r, size_t nr)
{
	size_t j;
	sotto_err err = SOTTO_OK;

	for (j = 0; seq && seq->kind == SOTTO_NODE_SEQ && j < seq->n &&
	    err == SOTTO_OK; j++)
		err = fix_name(seq->items[j].val, key, kind, r, nr);
	return err;
}

/* A reference map naming its kind: roleRef, scaleTargetRef. */
static sotto_err
fix_kinded(struct sotto_node *ref, const struct rename *r, size_t nr)
{
	const char *k = rn_str(ref, "kind");

	return k != NULL ? fix_name(ref, "name", k, r, nr) : SOTTO_OK;
}

static sotto_err
walk_refs(struct sotto_node *n, const struct rename *r, size_t nr)
{
	size_t i;
	sotto_err err = SOTTO_OK;

	if (n == NULL || (n->kind != SOTTO_NODE_MAP &&
	    n->kind != SOTTO_NODE_SEQ))
		return SOTTO_OK;
	for (i = 0; i < n->n && err == SOTTO_OK; i++) {
		const char *k = n->items[i].key;
		struct sotto_node *v = n->items[i].val;

		if (k == NULL || v == NULL) {
			err = walk_refs(v, r, nr);
			continue;
		}
		if (strcmp(k, "configMapRef") == 0 ||
		    strcmp(k, "configMapKeyRef") == 0 ||
		    strcmp(k, "configMap") == 0)
			err = fix_name(v, "name", "ConfigMap", r, nr);
		else if (strcmp(k, "secretRef") == 0 ||
		    strcmp(k, "secretKeyRef") == 0)
			err = fix_name(v, "name", "Secret", r, nr);
		else if (strcmp(k, "secret") == 0) {
			err = fix_name(v, "secretName", "Secret", r, nr);
			if (err == SOTTO_OK)
				err = fix_name(v, "name", "Secret", r, nr);
		} else if (strcmp(k, "serviceAccountName") == 0)
			err = fix_name(n, k, "ServiceAccount", r, nr);
		else if (strcmp(k, "imagePullSecrets") == 0)
			err = fix_items(v, "name", "Secret", r, nr);
		else if (strcmp(k, "tls") == 0)
			err = fix_items(v, "secretName", "Secret", r, nr);
		else if (strcmp(k, "persistentVolumeClaim") == 0)
			err = fix_name(v, "claimName", "PersistentVolumeClaim",
			    r, nr);
		else if (strcmp(k, "serviceName") == 0)
			err = fix_name(n, k, "Service", r, nr);
		else if (strcmp(k, "service") == 0)
			err = fix_name(v, "name", "Service", r, nr);
		else if (strcmp(k, "priorityClassName") == 0)
			err = fix_name(n, k, "PriorityClass", r, nr);
		else if (strcmp(k, "storageClassName") == 0)
			err = fix_name(n, k, "StorageClass", r, nr);
		else if (strcmp(k, "volumeName") == 0)
			err = fix_name(n, k, "PersistentVolume", r, nr);
		else if (strcmp(k, "scaleTargetRef") == 0)
			err = fix_kinded(v, r, nr);
		if (err == SOTTO_OK)
			err = walk_refs(v, r, nr);
	}
	return err;
}

/*
 * A ServiceAccount subject follows its ServiceAccount: name and
 * namespace.  A subject with a namespace must name the original one.
 */
static sotto_err
fix_subject(struct sotto_node *s, const struct rename *r, size_t nr)
{
	const char *sk = rn_str(s, "kind"), *sn = rn_str(s, "name");
	const char *sns = rn_str(s, "namespace");
	const struct rename *x, *end = r + nr;
	sotto_err err;

	if (sk == NULL || strcmp(sk, "ServiceAccount") != 0 || sn == NULL ||
	    (x = find_rename(r, nr, "ServiceAccount", sn)) == NULL)
		return SOTTO_OK;
	for (; x < end && strcmp(x->kind, "ServiceAccount") == 0 &&
	    strcmp(x->from, sn) == 0; x++) {
		const char *fns = x->from_ns ? x->from_ns : "default";

		if (sns != NULL && strcmp(sns, fns) != 0)
			continue;
		if ((err = rn_set_str(s, "name", x->to)) != SOTTO_OK)
			return err;
		if (x->to_ns != NULL)
			return rn_set_str(s, "namespace", x->to_ns);
		return SOTTO_OK;
	}
	return SOTTO_OK;
}

static bool
str_eq(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

sotto_err
rt_namerefs(struct rlist *l, struct sotto_error *e)
{
	struct rename *r;
	size_t i, j, nr = 0;
	sotto_err err = SOTTO_OK;

	if (l->n == 0)
		return SOTTO_OK;
	if ((r = calloc(l->n, sizeof(*r))) == NULL)
		return oom(e);
	for (i = 0; i < l->n; i++) {
		if (l->v[i].orig_name == NULL ||
		    (strcmp(l->v[i].orig_name, robj_name(&l->v[i])) == 0 &&
		    str_eq(l->v[i].orig_ns, robj_ns(&l->v[i]))))
			continue;
		r[nr].kind = robj_kind(&l->v[i]);
		r[nr].from = l->v[i].orig_name;
		r[nr].to = robj_name(&l->v[i]);
		r[nr].from_ns = l->v[i].orig_ns;
		r[nr].to_ns = robj_ns(&l->v[i]);
		r[nr].at = i;
		nr++;
	}
	qsort(r, nr, sizeof(*r), rename_cmp);
	for (i = 0; nr > 0 && i < l->n && err == SOTTO_OK; i++) {
		struct sotto_node *o = l->v[i].n;
		struct sotto_node *subj = rn_get(o, "subjects");
		const char *kind = robj_kind(&l->v[i]);

		err = walk_refs(rn_get(o, "spec"), r, nr);
		if (err == SOTTO_OK && rn_get(o, "roleRef") != NULL)
			err = fix_kinded(rn_get(o, "roleRef"), r, nr);
		/* kustomize renames a ServiceAccount's imagePullSecrets but
		 * not its (legacy) secrets list */
		if (err == SOTTO_OK && strcmp(kind, "ServiceAccount") == 0)
			err = fix_items(rn_get(o, "imagePullSecrets"), "name",
			    "Secret", r, nr);
		for (j = 0; err == SOTTO_OK && subj &&
		    subj->kind == SOTTO_NODE_SEQ && j < subj->n; j++)
			err = fix_subject(subj->items[j].val, r, nr);
	}
	free(r);
	return err == SOTTO_OK ? SOTTO_OK : oom(e);
}
