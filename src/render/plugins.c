/* SPDX-License-Identifier: ISC */
/*
 * The `generators`, `transformers` and `validators` fields (kustomize's
 * configureExternalGenerators/Transformers): each entry is either a
 * plugin configuration written inline (YAML) or a file or kustomization
 * directory whose objects are configurations.  Inline ones come first,
 * then those loaded from paths, in order.  A configuration with
 * `apiVersion: builtin` runs one of kustomize's built-in plugins (the
 * kinds kj_plugin_type() knows); a generator may also be a
 * SottoSecretGenerator.  Anything else (exec and container functions,
 * Go plugins, kinds not ported) is refused with a message naming it.
 */
#include "render/build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/kust.h"

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

/* kustomize tries an entry as YAML first: a path never holds a newline
 * or a mapping's ": ". */
static bool
is_inline(const char *s)
{
	return strchr(s, '\n') != NULL || strstr(s, ": ") != NULL;
}

/* The configuration objects of a field's entries into cfgs. */
static sotto_err
load_configs(struct racc *cfgs, struct rctx *c, const char *dir,
    const struct rkust *k, const struct sotto_node *list,
    struct sotto_error *e)
{
	size_t i;
	sotto_err err;

	for (i = 0; i < list->n; i++) {
		const char *s = rn_value(list->items[i].val);
		struct rlist l = { NULL, 0, 0 };

		if (!is_inline(s))
			continue;
		err = rc_load_bytes(&l, c, (const uint8_t *)s, strlen(s),
		    k->kname, false, e);
		if (err == SOTTO_OK)
			err = ra_append(cfgs, c, &l, k->kname, e);
		rl_free(&l);
		if (err != SOTTO_OK)
			return err;
	}
	for (i = 0; i < list->n; i++) {
		const char *s = rn_value(list->items[i].val);

		if (!is_inline(s) && (err = rb_resource(cfgs, c, dir, s,
		    k->kname, e)) != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

static bool
is_builtin(const struct robj *o)
{
	const char *av = robj_apiversion(o);

	return av != NULL && strcmp(av, "builtin") == 0;
}

/* The configuration decoded as kustomize decodes it into the plugin. */
static sotto_err
decode(struct sotto_node **out, const struct robj *o, const char *field,
    struct sotto_error *e)
{
	const struct ktype *t = kj_plugin_type(robj_kind(o));
	char what[600];

	*out = NULL;
	if (!is_builtin(o) || t == NULL)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': %s entry kind "
		    "'%.100s' (apiVersion '%.100s'): only kustomize's built-in "
		    "plugins run (not supported)", o->origin ? o->origin : "",
		    field, robj_kind(o), robj_apiversion(o) ?
		    robj_apiversion(o) : "");
	snprintf(what, sizeof(what), "'%s'", o->origin ? o->origin : "");
	return kj_normalize(out, o->n, t, false, what, e);
}

static sotto_err
fieldspecs(struct rfsl *fs, struct rctx *c, const struct sotto_node *cfg,
    struct sotto_error *e)
{
	memset(fs, 0, sizeof(*fs));
	return rc_parse_fsl(fs, c, rn_get(cfg, "fieldSpecs"), e);
}

/* ConfigMapGenerator / SecretGenerator: the args with the name and
 * namespace taken from metadata when not given. */
static sotto_err
run_generator(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, const struct robj *o, struct sotto_error *e)
{
	struct sotto_node *cfg = NULL;
	struct rlist gen = { NULL, 0, 0 };
	const struct sotto_node *md;
	const char *v;
	sotto_err err;

	if (strcmp(robj_kind(o), "ConfigMapGenerator") != 0 &&
	    strcmp(robj_kind(o), "SecretGenerator") != 0 &&
	    kj_plugin_type(robj_kind(o)) != NULL)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': plugin "
		    "'%.100s' is not a generator", o->origin, robj_kind(o));
	if ((err = decode(&cfg, o, "generators", e)) != SOTTO_OK)
		return err;
	md = rn_get(cfg, "metadata");
	if ((v = rn_str(cfg, "env")) != NULL && v[0] != '\0') {
		err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': field 'env' of "
		    "a %s (not supported)", o->origin, robj_kind(o));
		goto out;
	}
	if (((v = rn_str(cfg, "name")) == NULL || v[0] == '\0') &&
	    rn_str(md, "name") != NULL &&
	    rn_set_str(cfg, "name", rn_str(md, "name")) != SOTTO_OK) {
		err = oom(e);
		goto out;
	}
	if (((v = rn_str(cfg, "namespace")) == NULL || v[0] == '\0') &&
	    rn_str(md, "namespace") != NULL &&
	    rn_set_str(cfg, "namespace", rn_str(md, "namespace")) !=
	    SOTTO_OK) {
		err = oom(e);
		goto out;
	}
	err = rg_configmap(&gen, c, dir, cfg, NULL,
	    strcmp(robj_kind(o), "SecretGenerator") == 0, k->kname, e);
	if (err == SOTTO_OK && c->track_origin)
		err = ro_set_origin_plugin(&gen, c, k, o, e);
	if (err == SOTTO_OK)
		err = rg_absorb(&ra->l, c, &gen, k->kname, e);
out:
	rl_free(&gen);
	sotto_tree_node_free(cfg, true);
	return err;
}

/* A value kustomize writes into YAML text unquoted: only plain words
 * that read back as the same string. */
static bool
plain_word(const char *s)
{
	static const char *const words[] = { "true", "false", "null", "yes",
	    "no", "on", "off", "y", "n", NULL };
	const char *p;
	size_t i;

	if (s == NULL || s[0] < 'a' || s[0] > 'z')
		return false;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.'))
			return false;
	for (i = 0; words[i] != NULL; i++)
		if (strcmp(s, words[i]) == 0)
			return false;
	return true;
}

/* IAMPolicyGenerator (cloud gke): a Kubernetes ServiceAccount bound to
 * a Google service account. */
static sotto_err
run_iam(struct racc *ra, struct rctx *c, const struct rkust *k,
    const struct robj *o, struct sotto_error *e)
{
	struct sotto_node *cfg = NULL, *sa = NULL, *md, *an;
	struct rlist gen = { NULL, 0, 0 };
	const char *cloud, *ksa, *ns, *gsa, *proj;
	char *v = NULL;
	sotto_err err;

	if ((err = decode(&cfg, o, "generators", e)) != SOTTO_OK)
		return err;
	cloud = rn_str(cfg, "cloud");
	ksa = rn_str(rn_get(cfg, "kubernetesService"), "name");
	ns = rn_str(rn_get(cfg, "kubernetesService"), "namespace");
	gsa = rn_str(rn_get(cfg, "serviceAccount"), "name");
	proj = rn_str(rn_get(cfg, "serviceAccount"), "projectId");
	if (cloud == NULL || strcmp(cloud, "gke") != 0) {
		err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': cloud provider "
		    "%.64s not supported yet", o->origin, cloud ? cloud : "");
		goto out;
	}
	if (!plain_word(ksa) || !plain_word(gsa) || !plain_word(proj) ||
	    (ns != NULL && ns[0] != '\0' && !plain_word(ns))) {
		err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
		    "IAMPolicyGenerator names other than lower-case words "
		    "(not supported)", o->origin);
		goto out;
	}
	if (asprintf(&v, "%s@%s.iam.gserviceaccount.com", gsa, proj) < 0) {
		v = NULL;
		err = oom(e);
		goto out;
	}
	err = SOTTO_E_NOMEM;
	if ((sa = sotto_tree_new_map()) == NULL ||
	    rn_set_str(sa, "apiVersion", "v1") != SOTTO_OK ||
	    rn_set_str(sa, "kind", "ServiceAccount") != SOTTO_OK ||
	    (md = rn_ensure_map(sa, "metadata")) == NULL ||
	    (an = rn_ensure_map(md, "annotations")) == NULL ||
	    rn_set_str(an, "iam.gke.io/gcp-service-account", v) != SOTTO_OK ||
	    rn_set_str(md, "name", ksa) != SOTTO_OK ||
	    (ns != NULL && ns[0] != '\0' &&
	    rn_set_str(md, "namespace", ns) != SOTTO_OK)) {
		err = oom(e);
		goto out;
	}
	err = rl_add(&gen, sa, o->origin, e);
	sa = NULL;
	if (err == SOTTO_OK && c->track_origin)
		err = ro_set_origin_plugin(&gen, c, k, o, e);
	if (err == SOTTO_OK)
		err = rg_absorb(&ra->l, c, &gen, k->kname, e);
out:
	free(v);
	sotto_tree_node_free(sa, true);
	rl_free(&gen);
	sotto_tree_node_free(cfg, true);
	return err;
}

sotto_err
rx_generators(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, struct sotto_error *e)
{
	const struct sotto_node *g = rn_get(k->k, "generators");
	struct racc cfgs;
	size_t i;
	sotto_err err;

	if (g == NULL || g->n == 0)
		return SOTTO_OK;
	memset(&cfgs, 0, sizeof(cfgs));
	err = load_configs(&cfgs, c, dir, k, g, e);
	for (i = 0; err == SOTTO_OK && i < cfgs.l.n; i++) {
		const struct robj *o = &cfgs.l.v[i];
		struct rlist l = { NULL, 0, 0 };

		if (is_builtin(o) && strcmp(robj_kind(o),
		    "IAMPolicyGenerator") == 0) {
			err = run_iam(ra, c, k, o, e);
			continue;
		}
		if (is_builtin(o)) {
			err = run_generator(ra, c, dir, k, o, e);
			continue;
		}
		err = rg_sotto_generator(&l, c, dir, o->n, o->origin, e);
		if (err == SOTTO_OK)
			err = ra_append(ra, c, &l, k->kname, e);
		rl_free(&l);
	}
	ra_free(&cfgs);
	return err;
}

static sotto_err
run_transformer(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, const struct robj *o, struct sotto_error *e)
{
	const char *kind = robj_kind(o), *v;
	struct sotto_node *cfg = NULL;
	struct rfsl fs;
	sotto_err err;

	memset(&fs, 0, sizeof(fs));
	if ((err = decode(&cfg, o, "transformers", e)) != SOTTO_OK)
		return err;
	if (strcmp(kind, "PatchTransformer") == 0) {
		err = rp_patch(&ra->l, c, dir, cfg, k->kname, e);
	} else if (strcmp(kind, "ReplacementTransformer") == 0) {
		err = rr_replacements(&ra->l, c, dir,
		    rn_get(cfg, "replacements"), k->kname, e);
	} else if ((err = fieldspecs(&fs, c, cfg, e)) != SOTTO_OK) {
		/* nothing */
	} else if (strcmp(kind, "NamespaceTransformer") == 0) {
		v = rn_str(cfg, "unsetOnly");
		err = rt_namespace(&ra->l, c, dir,
		    rn_str(rn_get(cfg, "metadata"), "namespace"), &fs,
		    v != NULL && strcmp(v, "true") == 0,
		    rn_str(cfg, "setRoleBindingSubjects"), e);
	} else if (strcmp(kind, "PrefixSuffixTransformer") == 0 ||
	    strcmp(kind, "PrefixTransformer") == 0 ||
	    strcmp(kind, "SuffixTransformer") == 0) {
		if (strcmp(kind, "SuffixTransformer") != 0 &&
		    (v = rn_str(cfg, "prefix")) != NULL && v[0] != '\0')
			err = rt_affix(&ra->l, c, dir, v, false, &fs, e);
		if (err == SOTTO_OK &&
		    strcmp(kind, "PrefixTransformer") != 0 &&
		    (v = rn_str(cfg, "suffix")) != NULL && v[0] != '\0')
			err = rt_affix(&ra->l, c, dir, v, true, &fs, e);
	} else if (strcmp(kind, "LabelTransformer") == 0) {
		err = rt_labels(&ra->l, c, dir, rn_get(cfg, "labels"), &fs,
		    false, e);
	} else if (strcmp(kind, "AnnotationsTransformer") == 0) {
		err = rt_labels(&ra->l, c, dir, rn_get(cfg, "annotations"),
		    &fs, true, e);
	} else if (strcmp(kind, "ImageTagTransformer") == 0) {
		err = rt_image(&ra->l, c, dir, rn_get(cfg, "imageTag"), &fs,
		    e);
	} else if (strcmp(kind, "ReplicaCountTransformer") == 0) {
		err = rt_replica(&ra->l, c, dir, rn_get(cfg, "replica"), &fs,
		    e);
	} else {
		err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': transformers "
		    "entry kind '%.100s' is a generator", o->origin, kind);
	}
	rfsl_free(&fs);
	sotto_tree_node_free(cfg, true);
	if (err != SOTTO_OK || (err = rb_after(ra, c, k, NULL, e)) !=
	    SOTTO_OK || !c->track_origin)
		return err;
	return ro_add_transformation_plugin(&ra->l, c, k, o, e);
}

sotto_err
rx_transformers(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, struct sotto_error *e)
{
	const struct sotto_node *t = rn_get(k->k, "transformers");
	struct racc cfgs;
	size_t i;
	sotto_err err;

	if (t == NULL || t->n == 0)
		return SOTTO_OK;
	memset(&cfgs, 0, sizeof(cfgs));
	err = load_configs(&cfgs, c, dir, k, t, e);
	for (i = 0; err == SOTTO_OK && i < cfgs.l.n; i++)
		err = run_transformer(ra, c, dir, k, &cfgs.l.v[i], e);
	ra_free(&cfgs);
	return err;
}

sotto_err
rx_validators(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, struct sotto_error *e)
{
	const struct sotto_node *v = rn_get(k->k, "validators");

	(void)ra;
	(void)c;
	(void)dir;
	if (v != NULL && v->n > 0)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': unsupported "
		    "kustomization field 'validators'", k->kname);
	return SOTTO_OK;
}
