/* SPDX-License-Identifier: ISC */
/*
 * kustomize's field-spec transformers over the object list: namespace,
 * name prefix and suffix, labels and annotations, images, replicas, and
 * the generator hash suffix.  Each writes where its field specs say
 * (rconfig.c: the defaults, extended by `configurations` and `crds`) and
 * records, as kustomize's build annotations do, the ids and affixes an
 * object had, for the name references fixed at the end (nameref.c).
 */
#include "render/rint.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/yaml.h"
#include "render/build.h"
#include "sotto/regex.h"

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
	const char *value;		/* what the setter writes */
	const char *key;		/* labels: the key */
	bool suffix, unset_only;
	char what[512];			/* the object, for messages */
};

static sotto_err
charge(const struct tx *t, size_t bytes)
{
	return rc_charge(t->c, bytes, 0, t->dir, t->e);
}

static void
obj_what(struct tx *t, const struct robj *o)
{
	struct rid id;

	robj_curid(o, &id);
	rid_string(t->what, sizeof(t->what), &id);
}

static sotto_err
not_scalar(const struct tx *t, const struct sotto_node *n)
{
	return sotto_error_set(t->e, SOTTO_E_USAGE, "%s: expected a scalar, "
	    "found a %s", t->what, n->kind == SOTTO_NODE_MAP ? "map" :
	    "list");
}

/* ---- namespace ---- */

static sotto_err
set_ns(struct sotto_node *n, void *arg, struct sotto_error *e)
{
	struct tx *t = arg;

	(void)e;
	if (n->kind != SOTTO_NODE_SCALAR)
		return sotto_error_set(t->e, SOTTO_E_USAGE, "%s: namespace "
		    "field specs must target scalar nodes", t->what);
	if (t->unset_only && n->type != SOTTO_T_NULL && n->len > 0)
		return SOTTO_OK;
	if (charge(t, strlen(t->value) + RN_NODE_COST) != SOTTO_OK)
		return SOTTO_E_LIMIT;
	return sotto_tree_set_text(n, SOTTO_T_STR, t->value,
	    strlen(t->value)) == SOTTO_OK ? SOTTO_OK : oom(t->e);
}

static bool
is_rolebinding(const char *kind)
{
	return strcmp(kind, "RoleBinding") == 0 ||
	    strcmp(kind, "ClusterRoleBinding") == 0;
}

/* kustomize's roleBindingHack: subjects named "default" (defaultOnly),
 * or every ServiceAccount subject (allServiceAccounts), get the
 * namespace. */
static sotto_err
rolebinding_subjects(struct tx *t, struct sotto_node *obj, const char *mode)
{
	struct sotto_node *subj = rn_get(obj, "subjects"), *s, *nsn;
	size_t i;
	sotto_err err;

	if (mode != NULL && strcmp(mode, "none") == 0)
		return SOTTO_OK;
	if (subj == NULL || rn_is_null(subj))
		return SOTTO_OK;
	if (subj->kind != SOTTO_NODE_SEQ)
		return sotto_error_set(t->e, SOTTO_E_USAGE, "%s: subjects must "
		    "be a list", t->what);
	for (i = 0; i < subj->n; i++) {
		s = subj->items[i].val;
		if (mode != NULL && strcmp(mode, "allServiceAccounts") == 0) {
			if (strcmp(rn_value(rn_get(s, "kind")),
			    "ServiceAccount") != 0)
				continue;
		} else if (strcmp(rn_value(rn_get(s, "name")), "default") !=
		    0) {
			continue;
		}
		if (s->kind != SOTTO_NODE_MAP)
			continue;
		if ((nsn = rn_get(s, "namespace")) == NULL) {
			if (rn_set(s, "namespace", rn_strnode("")) != SOTTO_OK)
				return oom(t->e);
			nsn = rn_get(s, "namespace");
		}
		if ((err = set_ns(nsn, t, t->e)) != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

static sotto_err
namespace_one(struct tx *t, struct robj *o, const struct rfsl *fs,
    const char *subjects)
{
	static const char *const meta_ns_seg[] = { "metadata", "namespace" };
	static const struct rfs meta_ns = { "", "", "", "metadata/namespace",
	    meta_ns_seg, 2, true };
	const char *apiv = robj_apiversion(o), *kind = robj_kind(o);
	struct rid id;
	size_t i;
	sotto_err err;

	if ((err = robj_store_prev(t->c, o)) != SOTTO_OK)
		return oom(t->e);
	obj_what(t, o);
	robj_curid(o, &id);
	if (!rid_cluster_scoped(t->c, &id) && (err = rfs_walk(o->n, &meta_ns,
	    SOTTO_NODE_SCALAR, set_ns, t, t->what, t->e)) != SOTTO_OK)
		return err;
	if (is_rolebinding(kind) &&
	    (err = rolebinding_subjects(t, o->n, subjects)) != SOTTO_OK)
		return err;
	for (i = 0; i < fs->n; i++) {
		const struct rfs *f = &fs->v[i];

		if (strcmp(f->path, "metadata/namespace") == 0 ||
		    (strcmp(apiv, "v1") != 0 &&
		    strcmp(f->path, "metadata/name") == 0) ||
		    (is_rolebinding(kind) && is_rolebinding(f->kind) &&
		    strcmp(f->path, "subjects/namespace") == 0))
			continue;
		if (!rfs_match(f, o))
			continue;
		if ((err = rfs_walk(o->n, f, SOTTO_NODE_SCALAR, set_ns, t,
		    t->what, t->e)) != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

sotto_err
rt_namespace(struct rlist *l, struct rctx *c, const char *dir, const char *ns,
    const struct rfsl *fs, bool unset_only, const char *subjects,
    struct sotto_error *e)
{
	struct tx t;
	size_t i;
	sotto_err err;

	memset(&t, 0, sizeof(t));
	t.c = c;
	t.dir = dir;
	t.e = e;
	t.value = ns;
	t.unset_only = unset_only;
	if (ns == NULL || ns[0] == '\0')
		return SOTTO_OK;
	for (i = 0; i < l->n; i++) {
		if (l->v[i].n == NULL || l->v[i].n->n == 0)
			continue;
		if ((err = namespace_one(&t, &l->v[i], fs, subjects)) !=
		    SOTTO_OK)
			return err;
	}
	/* every object's id is still its own (kustomize checks each as it
	 * goes; a clash found then is one at the end too) */
	if ((err = rb_check_ids(l, c, rc_rel(c, dir), e)) != SOTTO_OK) {
		sotto_error_prefix(e, "namespace transformation produces ID "
		    "conflict");
		return err;
	}
	return SOTTO_OK;
}

/* ---- name prefix and suffix ---- */

static sotto_err
set_affix(struct sotto_node *n, void *arg, struct sotto_error *e)
{
	struct tx *t = arg;
	struct sotto_buf b = SOTTO_BUF_INIT;
	sotto_err err;

	(void)e;
	if (n->kind != SOTTO_NODE_SCALAR)
		return not_scalar(t, n);
	if (charge(t, strlen(t->value)) != SOTTO_OK)
		return SOTTO_E_LIMIT;
	if (t->suffix)
		err = sotto_buf_add(&b, n->text, n->len) == SOTTO_OK &&
		    sotto_buf_addstr(&b, t->value) == SOTTO_OK ? SOTTO_OK :
		    SOTTO_E_NOMEM;
	else
		err = sotto_buf_addstr(&b, t->value) == SOTTO_OK &&
		    sotto_buf_add(&b, n->text, n->len) == SOTTO_OK ? SOTTO_OK :
		    SOTTO_E_NOMEM;
	if (err == SOTTO_OK)
		err = sotto_tree_set_text(n, SOTTO_T_STR, b.len ?
		    (const char *)b.data : "", b.len);
	sotto_buf_release(&b);
	return err == SOTTO_OK ? SOTTO_OK : oom(t->e);
}

/* The kinds a prefix or suffix never touches (prefixFieldSpecsToSkip). */
static bool
affix_skipped(const struct rid *org)
{
	return rid_gvk_selected(org, NULL, NULL,
	    "CustomResourceDefinition") ||
	    rid_gvk_selected(org, "apiregistration.k8s.io", NULL,
	    "APIService") || rid_gvk_selected(org, NULL, NULL, "Namespace");
}

sotto_err
rt_affix(struct rlist *l, struct rctx *c, const char *dir, const char *affix,
    bool suffix, const struct rfsl *fs, struct sotto_error *e)
{
	struct tx t;
	struct rid org;
	size_t i, j;
	sotto_err err;

	memset(&t, 0, sizeof(t));
	t.c = c;
	t.dir = dir;
	t.e = e;
	t.value = affix;
	t.suffix = suffix;
	for (i = 0; i < l->n; i++) {
		struct robj *o = &l->v[i];

		robj_orgid(o, &org);
		if (affix_skipped(&org))
			continue;
		for (j = 0; j < fs->n; j++) {
			const struct rfs *f = &fs->v[j];

			/* the original id is the same after the first store
			 * (kustomize reads it once); re-read, as the name
			 * the current id points to may have changed */
			robj_orgid(o, &org);
			if (!rid_gvk_selected(&org, f->group, f->version,
			    f->kind))
				continue;
			if (strcmp(f->path, "metadata/name") == 0 &&
			    affix[0] != '\0' &&
			    (rsv_push(suffix ? &o->sfx : &o->pfx, affix) !=
			    SOTTO_OK || robj_store_prev(c, o) != SOTTO_OK))
				return oom(e);
			if (!rfs_match(f, o))
				continue;
			obj_what(&t, o);
			if ((err = rfs_walk(o->n, f, SOTTO_NODE_SCALAR,
			    set_affix, &t, t.what, e)) != SOTTO_OK)
				return err;
		}
	}
	return SOTTO_OK;
}

/* ---- labels and annotations ---- */

static sotto_err
set_entry(struct sotto_node *n, void *arg, struct sotto_error *e)
{
	struct tx *t = arg;

	(void)e;
	if (n->kind == SOTTO_NODE_SCALAR)
		return SOTTO_OK;	/* kyaml writes nowhere it shows */
	if (n->kind != SOTTO_NODE_MAP)
		return sotto_error_set(t->e, SOTTO_E_USAGE, "%s: cannot set "
		    "'%.64s' in a list", t->what, t->key);
	if (charge(t, strlen(t->key) + strlen(t->value) + RN_NODE_COST) !=
	    SOTTO_OK)
		return SOTTO_E_LIMIT;
	return rn_set_str(n, t->key, t->value) == SOTTO_OK ? SOTTO_OK :
	    oom(t->e);
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Labels (or annotations): each key, sorted, at every field spec. */
sotto_err
rt_labels(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *pairs, const struct rfsl *fs, bool annotations,
    struct sotto_error *e)
{
	struct tx t;
	const char **keys;
	size_t i, j, k, nk = 0;
	sotto_err err = SOTTO_OK;

	if (pairs == NULL || pairs->kind != SOTTO_NODE_MAP || pairs->n == 0)
		return SOTTO_OK;
	memset(&t, 0, sizeof(t));
	t.c = c;
	t.dir = dir;
	t.e = e;
	if ((keys = calloc(pairs->n, sizeof(*keys))) == NULL)
		return oom(e);
	for (i = 0; i < pairs->n; i++)
		if (pairs->items[i].key != NULL)
			keys[nk++] = pairs->items[i].key;
	qsort(keys, nk, sizeof(*keys), key_cmp);
	for (i = 0; i < l->n && err == SOTTO_OK; i++) {
		struct robj *o = &l->v[i];

		obj_what(&t, o);
		for (k = 0; k < nk && err == SOTTO_OK; k++) {
			t.key = keys[k];
			t.value = rn_value(rn_get(pairs, keys[k]));
			for (j = 0; j < fs->n && err == SOTTO_OK; j++) {
				if (!rfs_match(&fs->v[j], o))
					continue;
				/*
				 * kustomize writes the key unquoted and fails
				 * when go-yaml reads it back as no string
				 * (json: unsupported type)
				 */
				if (!sotto_yaml_plain_is_str(keys[k],
				    strlen(keys[k]))) {
					/* such a key holds no control byte */
					err = sotto_error_set(e, SOTTO_E_USAGE,
					    "'%s': %s key '%.64s' reads as a "
					    "number, boolean, null or date in "
					    "YAML: kustomize cannot set it",
					    rc_rel(c, dir), annotations ?
					    "annotation" : "label", keys[k]);
					break;
				}
				err = rfs_walk(o->n, &fs->v[j],
					    SOTTO_NODE_MAP, set_entry, &t,
					    t.what, e);
			}
		}
	}
	free(keys);
	return err;
}

/* ---- images ---- */

struct image {
	struct tx *t;
	const char *name, *newname, *newtag, *digest, *suffix;
	struct sotto_regex *re;
};

/* kustomize's image.Split: name, tag and digest. */
static void
image_split(const char *img, size_t *nl, const char **tag, size_t *tl,
    const char **dg)
{
	const char *search = img, *at, *colon;
	size_t si = 0, len = strlen(img);

	*tag = *dg = NULL;
	*tl = 0;
	if (strchr(img, '/') != NULL && strchr(img, '/') != img) {
		si = (size_t)(strchr(img, '/') - img);
		search = img + si;
	}
	at = strchr(search, '@');
	colon = strchr(search, ':');
	if (at == NULL && colon == NULL) {
		*nl = len;
		return;
	}
	if (at != NULL && (colon == NULL || at < colon)) {
		*nl = (size_t)(at - img);
		*dg = at + 1;
		return;
	}
	*nl = (size_t)(colon - img);
	*tag = colon + 1;
	if (at != NULL) {
		*tl = (size_t)(at - colon - 1);
		*dg = at + 1;
	} else {
		*tl = strlen(colon + 1);
	}
}

static sotto_err
set_image(struct sotto_node *n, void *arg, struct sotto_error *e)
{
	struct image *im = arg;
	struct sotto_buf b = SOTTO_BUF_INIT, tag = SOTTO_BUF_INIT;
	const char *t0, *dg;
	size_t nl, tl;
	bool m;
	sotto_err err;

	if (n->kind != SOTTO_NODE_SCALAR)
		return not_scalar(im->t, n);
	if ((err = sotto_regex_match(&m, im->re, n->text, n->len, e)) !=
	    SOTTO_OK || !m)
		return err;
	/* kustomize's imageTagUpdater */
	image_split(n->text, &nl, &t0, &tl, &dg);
	err = t0 != NULL ? sotto_buf_add(&tag, t0, tl) : SOTTO_OK;
	if (im->newtag != NULL && im->digest != NULL) {
		tag.len = 0;
		err = sotto_buf_addstr(&tag, im->newtag);
		dg = im->digest;
	} else if (im->newtag != NULL) {
		tag.len = 0;
		err = sotto_buf_addstr(&tag, im->newtag);
		dg = NULL;
	} else if (im->digest != NULL) {
		tag.len = 0;
		dg = im->digest;
	} else if (im->suffix != NULL) {
		err = sotto_buf_addstr(&tag, im->suffix);
		dg = NULL;
	}
	if (err == SOTTO_OK)
		err = im->newname ? sotto_buf_addstr(&b, im->newname) :
		    sotto_buf_add(&b, n->text, nl);
	if (err == SOTTO_OK && tag.len > 0)
		err = sotto_buf_addf(&b, ":%.*s", (int)tag.len,
		    (const char *)tag.data);
	if (err == SOTTO_OK && dg != NULL && dg[0] != '\0')
		err = sotto_buf_addf(&b, "@%s", dg);
	if (err == SOTTO_OK && (err = charge(im->t, b.len)) == SOTTO_OK)
		err = sotto_tree_set_text(n, SOTTO_T_STR, b.len ?
		    (const char *)b.data : "", b.len) == SOTTO_OK ? SOTTO_OK :
		    SOTTO_E_NOMEM;
	sotto_buf_release(&b);
	sotto_buf_release(&tag);
	return err == SOTTO_E_NOMEM ? oom(e) : err;
}

/* kustomize's LegacyFilter: every containers/initContainers list. */
static sotto_err
legacy_images(struct image *im, struct sotto_node *n)
{
	size_t i, j;
	sotto_err err;

	if (n == NULL || (n->kind != SOTTO_NODE_MAP &&
	    n->kind != SOTTO_NODE_SEQ))
		return SOTTO_OK;
	for (i = 0; i < n->n; i++) {
		struct sotto_node *v = n->items[i].val;
		const char *k = n->items[i].key;

		if ((err = legacy_images(im, v)) != SOTTO_OK)
			return err;
		if (n->kind != SOTTO_NODE_MAP || k == NULL || v == NULL ||
		    v->kind != SOTTO_NODE_SEQ || (strcmp(k, "containers") != 0 &&
		    strcmp(k, "initContainers") != 0))
			continue;
		/* each image entry is tried on each container */
		if ((err = charge(im->t, v->n * RN_NODE_COST)) != SOTTO_OK)
			return err;
		for (j = 0; j < v->n; j++) {
			struct sotto_node *img = rn_get(v->items[j].val,
			    "image");

			if (img != NULL && (err = set_image(img, im,
			    im->t->e)) != SOTTO_OK)
				return err;
		}
	}
	return SOTTO_OK;
}

static const char *
nonempty(const struct sotto_node *m, const char *k)
{
	const char *v = rn_str(m, k);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

sotto_err
rt_image(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *spec, const struct rfsl *fs,
    struct sotto_error *e)
{
	struct tx t;
	struct image im;
	struct sotto_buf re = SOTTO_BUF_INIT;
	size_t i, j;
	sotto_err err;

	memset(&t, 0, sizeof(t));
	memset(&im, 0, sizeof(im));
	t.c = c;
	t.dir = dir;
	t.e = e;
	im.t = &t;
	im.name = rn_str(spec, "name") ? rn_str(spec, "name") : "";
	im.newname = nonempty(spec, "newName");
	im.newtag = nonempty(spec, "newTag");
	im.digest = nonempty(spec, "digest");
	im.suffix = nonempty(spec, "tagSuffix");
	/* kustomize's IsImageMatched: the name is a regular expression */
	if (sotto_buf_addf(&re, "^%s(:[a-zA-Z0-9_.{}-]*)?"
	    "(@sha256:[a-zA-Z0-9_.{}-]*)?$", im.name) != SOTTO_OK ||
	    sotto_buf_addch(&re, '\0') != SOTTO_OK) {
		sotto_buf_release(&re);
		return oom(e);
	}
	err = sotto_regex_compile(&im.re, (const char *)re.data, e);
	sotto_buf_release(&re);
	if (err != SOTTO_OK)
		return sotto_error_prefix(e, "'%s': images name '%.100s'",
		    rc_rel(c, dir), im.name);
	for (i = 0; i < l->n && err == SOTTO_OK; i++) {
		struct robj *o = &l->v[i];

		if (strcmp(robj_kind(o), "CustomResourceDefinition") == 0)
			continue;
		obj_what(&t, o);
		err = legacy_images(&im, o->n);
		for (j = 0; j < fs->n && err == SOTTO_OK; j++)
			if (rfs_match(&fs->v[j], o))
				err = rfs_walk(o->n, &fs->v[j], RFS_NOCREATE,
				    set_image, &im, t.what, e);
	}
	sotto_regex_free(im.re);
	return err;
}

/* ---- replicas ---- */

static sotto_err
set_count(struct sotto_node *n, void *arg, struct sotto_error *e)
{
	struct tx *t = arg;

	(void)e;
	if (n->kind != SOTTO_NODE_SCALAR)
		return not_scalar(t, n);
	if (charge(t, strlen(t->value)) != SOTTO_OK)
		return SOTTO_E_LIMIT;
	return sotto_tree_set_text(n, SOTTO_T_INT, t->value,
	    strlen(t->value)) == SOTTO_OK ? SOTTO_OK : oom(t->e);
}

static bool
replica_hit(const struct robj *o, const char *name, const struct rfs *f)
{
	struct rid id;
	size_t i;

	for (i = 0; i <= o->nprev; i++) {
		if (i < o->nprev)
			robj_previd(o, i, &id);
		else
			robj_curid(o, &id);
		if (strcmp(id.name, name) == 0 &&
		    rid_gvk_selected(&id, f->group, f->version, f->kind))
			return true;
	}
	return false;
}

sotto_err
rt_replica(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *rep, const struct rfsl *fs,
    struct sotto_error *e)
{
	struct tx t;
	const char *name = rn_str(rep, "name");
	const char *count = rn_str(rep, "count");
	bool found = false;
	size_t i, j;
	sotto_err err;

	memset(&t, 0, sizeof(t));
	t.c = c;
	t.dir = dir;
	t.e = e;
	t.value = count ? count : "0";
	name = name ? name : "";
	/* each entry is tried on each object */
	if ((err = rc_charge(c, fs->n * l->n * RN_NODE_COST, 0, dir, e)) !=
	    SOTTO_OK)
		return err;
	for (j = 0; j < fs->n; j++) {
		for (i = 0; i < l->n; i++) {
			struct robj *o = &l->v[i];

			if (!replica_hit(o, name, &fs->v[j]))
				continue;
			found = true;
			if (!rfs_match(&fs->v[j], o))
				continue;
			obj_what(&t, o);
			if ((err = rfs_walk(o->n, &fs->v[j], SOTTO_NODE_SCALAR,
			    set_count, &t, t.what, e)) != SOTTO_OK)
				return err;
		}
	}
	if (!found)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': replicas: "
		    "resource with name '%.100s' does not match a config with "
		    "the following GVK [%s]", rc_rel(c, dir), name,
		    "Deployment, ReplicationController, ReplicaSet, "
		    "StatefulSet");
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

/* A field as kustomize's hasher reads it: a map as JSON, a scalar as its
 * text, missing as "". */
static sotto_err
hash_field(struct sotto_node *m, const char *key, const struct sotto_node *v)
{
	if (v == NULL)
		return rn_set(m, key, rn_strnode(""));
	if (v->kind == SOTTO_NODE_SCALAR)
		return rn_set(m, key, sotto_tree_new_scalar(SOTTO_T_STR,
		    rn_value(v), strlen(rn_value(v))));
	return rn_set(m, key, sotto_tree_clone(v));
}

static sotto_err
hash_one(struct robj *o, struct rctx *c)
{
	struct sotto_buf j = SOTTO_BUF_SECRET_INIT;
	struct sotto_node *m, *bin;
	const char *kind = robj_kind(o);
	bool secret = strcmp(kind, "Secret") == 0;
	char h[11], *nn;
	size_t nl;
	sotto_err err = SOTTO_E_NOMEM;

	if ((m = sotto_tree_new_map()) == NULL)
		return SOTTO_E_NOMEM;
	/*
	 * kustomize (api/hasher) looks "metadata/name" up as one key, so the
	 * name is always "".
	 */
	bin = rn_get(o->n, secret ? "stringData" : "binaryData");
	if (rn_set(m, "kind", rn_strnode(secret ? "Secret" : "ConfigMap")) !=
	    SOTTO_OK || rn_set(m, "name", rn_strnode("")) != SOTTO_OK ||
	    hash_field(m, "data", rn_get(o->n, "data")) != SOTTO_OK)
		goto out;
	if (secret && hash_field(m, "type", rn_get(o->n, "type")) != SOTTO_OK)
		goto out;
	if (bin != NULL && bin->kind == SOTTO_NODE_MAP &&
	    rn_set(m, secret ? "stringData" : "binaryData",
	    sotto_tree_clone(bin)) != SOTTO_OK)
		goto out;
	if (rn_to_json_typed(&j, m) != SOTTO_OK)
		goto out;
	sotto_render_hash_suffix(h, j.data, j.len);
	if (robj_store_prev(c, o) != SOTTO_OK)
		goto out;
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
rt_hash_names(struct rlist *l, struct rctx *c, struct sotto_error *e)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const char *k = robj_kind(&l->v[i]);

		if (!l->v[i].hash || (strcmp(k, "ConfigMap") != 0 &&
		    strcmp(k, "Secret") != 0))
			continue;
		if (hash_one(&l->v[i], c) != SOTTO_OK)
			return oom(e);
	}
	return SOTTO_OK;
}

/*
 * kustomize's GetAnnotations/SetAnnotations, which it runs on every
 * object before printing it: every value becomes a string (a scalar's
 * text as written, "" for a map or list) and an empty map goes.
 */
sotto_err
rt_annotations_strings(struct sotto_node *obj)
{
	struct sotto_node *md = rn_ensure_map(obj, "metadata"), *a, *m, *v;
	size_t i;

	if (md == NULL)
		return SOTTO_E_NOMEM;
	if ((a = rn_get(md, "annotations")) == NULL)
		return SOTTO_OK;
	if ((m = sotto_tree_new_map()) == NULL)
		return SOTTO_E_NOMEM;
	if (a->kind == SOTTO_NODE_MAP) {
		for (i = 0; i < a->n; i++) {
			if (a->items[i].key == NULL)
				continue;
			v = a->items[i].val;
			if (rn_set(m, a->items[i].key,
			    sotto_tree_new_scalar(SOTTO_T_STR, rn_value(v),
			    strlen(rn_value(v)))) != SOTTO_OK)
				goto fail;
		}
	} else if (a->kind == SOTTO_NODE_SEQ) {
		/* kyaml reads a list's items as key, value pairs */
		for (i = 0; i + 1 < a->n; i += 2)
			if (rn_set(m, rn_value(a->items[i].val),
			    sotto_tree_new_scalar(SOTTO_T_STR,
			    rn_value(a->items[i + 1].val),
			    strlen(rn_value(a->items[i + 1].val)))) !=
			    SOTTO_OK)
				goto fail;
	}
	if (m->n == 0) {
		sotto_tree_node_free(m, true);
		rn_del(md, "annotations");
		return SOTTO_OK;
	}
	return rn_set(md, "annotations", m);
fail:
	sotto_tree_node_free(m, true);
	return SOTTO_E_NOMEM;
}
