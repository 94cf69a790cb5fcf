/* SPDX-License-Identifier: ISC */
/*
 * The kustomization schema: every field of kustomize v5.5's
 * types.Kustomization and of the types inside it, as one table that the
 * renderer checks each kustomization against and that `sotto render
 * --list-fields` prints for sotto-render(1) and the README, so the check
 * and the documentation cannot drift.  A field the table marks refused is
 * an error naming it; a field it does not know is an error too, as in
 * kustomize (which decodes with DisallowUnknownFields).
 *
 * Decoding follows what kustomize does to a kustomization file:
 * sigs.k8s.io/yaml turns YAML into JSON with yaml.v2 (YAML 1.1: `yes` and
 * `on` are booleans, `1.20` a number), then encoding/json fills the Go
 * struct: field names match case-insensitively, the last of two spellings
 * wins, null leaves a field unset and a value of the wrong type is an
 * error.
 */
#include "render/kust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "render/rint.h"
#include "sotto/render.h"

/* yaml.c's scalar styles (node->style & 0xff): plain is 0. */
#define YAML_STYLE_MASK 0xff
#define YAML_STYLE_PLAIN 0

enum kty {
	KT_STR,		/* string */
	KT_BOOL,	/* bool */
	KT_INT,		/* int, int64 */
	KT_STRS,	/* []string */
	KT_SMAP,	/* map[string]string */
	KT_BMAP,	/* map[string]bool */
	KT_OBJ,		/* struct */
	KT_OBJS		/* []struct */
};

/* Field flags. */
#define KF_REFUSED 0x1	/* known to kustomize, not implemented: error */
#define KF_LEGACY 0x2	/* deprecated spelling kustomize still reads */

struct kfield {
	const char *name;	/* JSON name */
	enum kty type;
	const struct ktype *sub;	/* KT_OBJ, KT_OBJS */
	unsigned flags;
	const char *doc;	/* top level: one line for the docs */
};

struct ktype {
	const char *name;	/* Go type, for messages */
	const struct kfield *f;
	size_t n;
};

#define NF(a) (sizeof(a) / sizeof((a)[0]))
#define KTYPE(var, gname, fields) \
	const struct ktype var = { gname, fields, NF(fields) }

/* ---- the types ---- */

static const struct kfield f_fieldspec[] = {
	{ "group", KT_STR, NULL, 0, NULL },
	{ "version", KT_STR, NULL, 0, NULL },
	{ "kind", KT_STR, NULL, 0, NULL },
	{ "path", KT_STR, NULL, 0, NULL },
	{ "create", KT_BOOL, NULL, 0, NULL },
};
static KTYPE(kt_fieldspec, "FieldSpec", f_fieldspec);

static const struct kfield f_nbr[] = {
	{ "group", KT_STR, NULL, 0, NULL },
	{ "version", KT_STR, NULL, 0, NULL },
	{ "kind", KT_STR, NULL, 0, NULL },
	{ "fieldSpecs", KT_OBJS, &kt_fieldspec, 0, NULL },
};
static KTYPE(kt_nbr, "NameBackReferences", f_nbr);

static const struct kfield f_tconfig[] = {
	{ "namePrefix", KT_OBJS, &kt_fieldspec, 0, NULL },
	{ "nameSuffix", KT_OBJS, &kt_fieldspec, 0, NULL },
	{ "namespace", KT_OBJS, &kt_fieldspec, 0, NULL },
	{ "commonLabels", KT_OBJS, &kt_fieldspec, 0, NULL },
	{ "labels", KT_OBJS, &kt_fieldspec, 0, NULL },
	{ "templateLabels", KT_OBJS, &kt_fieldspec, 0, NULL },
	{ "commonAnnotations", KT_OBJS, &kt_fieldspec, 0, NULL },
	{ "nameReference", KT_OBJS, &kt_nbr, 0, NULL },
	{ "varReference", KT_OBJS, &kt_fieldspec, 0, NULL },
	{ "images", KT_OBJS, &kt_fieldspec, 0, NULL },
	{ "replicas", KT_OBJS, &kt_fieldspec, 0, NULL },
};
KTYPE(kt_tconfig, "TransformerConfig", f_tconfig);

static const struct kfield f_meta[] = {
	{ "name", KT_STR, NULL, 0, NULL },
	{ "namespace", KT_STR, NULL, 0, NULL },
	{ "labels", KT_SMAP, NULL, 0, NULL },
	{ "annotations", KT_SMAP, NULL, 0, NULL },
};
static KTYPE(kt_meta, "ObjectMeta", f_meta);

static const struct kfield f_label[] = {
	{ "pairs", KT_SMAP, NULL, 0, NULL },
	{ "includeSelectors", KT_BOOL, NULL, 0, NULL },
	{ "includeTemplates", KT_BOOL, NULL, 0, NULL },
	{ "fields", KT_OBJS, &kt_fieldspec, 0, NULL },
};
static KTYPE(kt_label, "Label", f_label);

static const struct kfield f_selector[] = {
	{ "group", KT_STR, NULL, 0, NULL },
	{ "version", KT_STR, NULL, 0, NULL },
	{ "kind", KT_STR, NULL, 0, NULL },
	{ "name", KT_STR, NULL, 0, NULL },
	{ "namespace", KT_STR, NULL, 0, NULL },
	{ "annotationSelector", KT_STR, NULL, 0, NULL },
	{ "labelSelector", KT_STR, NULL, 0, NULL },
};
static KTYPE(kt_selector, "Selector", f_selector);

static const struct kfield f_patch[] = {
	{ "path", KT_STR, NULL, 0, NULL },
	{ "patch", KT_STR, NULL, 0, NULL },
	{ "target", KT_OBJ, &kt_selector, 0, NULL },
	{ "options", KT_BMAP, NULL, 0, NULL },
};
static KTYPE(kt_patch, "Patch", f_patch);

static const struct kfield f_image[] = {
	{ "name", KT_STR, NULL, 0, NULL },
	{ "newName", KT_STR, NULL, 0, NULL },
	{ "tagSuffix", KT_STR, NULL, 0, NULL },
	{ "newTag", KT_STR, NULL, 0, NULL },
	{ "digest", KT_STR, NULL, 0, NULL },
};
static KTYPE(kt_image, "Image", f_image);

static const struct kfield f_fieldopts[] = {
	{ "delimiter", KT_STR, NULL, 0, NULL },
	{ "index", KT_INT, NULL, 0, NULL },
	{ "encoding", KT_STR, NULL, 0, NULL },
	{ "create", KT_BOOL, NULL, 0, NULL },
};
static KTYPE(kt_fieldopts, "FieldOptions", f_fieldopts);

static const struct kfield f_source[] = {
	{ "group", KT_STR, NULL, 0, NULL },
	{ "version", KT_STR, NULL, 0, NULL },
	{ "kind", KT_STR, NULL, 0, NULL },
	{ "name", KT_STR, NULL, 0, NULL },
	{ "namespace", KT_STR, NULL, 0, NULL },
	{ "fieldPath", KT_STR, NULL, 0, NULL },
	{ "options", KT_OBJ, &kt_fieldopts, 0, NULL },
};
static KTYPE(kt_source, "SourceSelector", f_source);

static const struct kfield f_target[] = {
	{ "select", KT_OBJ, &kt_selector, 0, NULL },
	{ "reject", KT_OBJS, &kt_selector, 0, NULL },
	{ "fieldPaths", KT_STRS, NULL, 0, NULL },
	{ "options", KT_OBJ, &kt_fieldopts, 0, NULL },
};
static KTYPE(kt_target, "TargetSelector", f_target);

static const struct kfield f_replacement[] = {
	{ "source", KT_OBJ, &kt_source, 0, NULL },
	{ "targets", KT_OBJS, &kt_target, 0, NULL },
};
KTYPE(kt_replacement, "Replacement", f_replacement);

static const struct kfield f_replfield[] = {
	{ "source", KT_OBJ, &kt_source, 0, NULL },
	{ "targets", KT_OBJS, &kt_target, 0, NULL },
	{ "path", KT_STR, NULL, 0, NULL },
};
static KTYPE(kt_replfield, "ReplacementField", f_replfield);

static const struct kfield f_replica[] = {
	{ "name", KT_STR, NULL, 0, NULL },
	{ "count", KT_INT, NULL, 0, NULL },
};
static KTYPE(kt_replica, "Replica", f_replica);

static const struct kfield f_varref[] = {
	{ "apiVersion", KT_STR, NULL, 0, NULL },
	{ "group", KT_STR, NULL, 0, NULL },
	{ "version", KT_STR, NULL, 0, NULL },
	{ "kind", KT_STR, NULL, 0, NULL },
	{ "name", KT_STR, NULL, 0, NULL },
	{ "namespace", KT_STR, NULL, 0, NULL },
};
static KTYPE(kt_varref, "Target", f_varref);

static const struct kfield f_fieldsel[] = {
	{ "fieldPath", KT_STR, NULL, 0, NULL },
};
static KTYPE(kt_fieldsel, "FieldSelector", f_fieldsel);

static const struct kfield f_var[] = {
	{ "name", KT_STR, NULL, 0, NULL },
	{ "objref", KT_OBJ, &kt_varref, 0, NULL },
	{ "fieldref", KT_OBJ, &kt_fieldsel, 0, NULL },
};
static KTYPE(kt_var, "Var", f_var);

static const struct kfield f_legacysort[] = {
	{ "orderFirst", KT_STRS, NULL, 0, NULL },
	{ "orderLast", KT_STRS, NULL, 0, NULL },
};
static KTYPE(kt_legacysort, "LegacySortOptions", f_legacysort);

static const struct kfield f_sort[] = {
	{ "order", KT_STR, NULL, 0, NULL },
	{ "legacySortOptions", KT_OBJ, &kt_legacysort, 0, NULL },
};
static KTYPE(kt_sort, "SortOptions", f_sort);

static const struct kfield f_genopts[] = {
	{ "labels", KT_SMAP, NULL, 0, NULL },
	{ "annotations", KT_SMAP, NULL, 0, NULL },
	{ "disableNameSuffixHash", KT_BOOL, NULL, 0, NULL },
	{ "immutable", KT_BOOL, NULL, 0, NULL },
};
static KTYPE(kt_genopts, "GeneratorOptions", f_genopts);

static const struct kfield f_cmargs[] = {
	{ "namespace", KT_STR, NULL, 0, NULL },
	{ "name", KT_STR, NULL, 0, NULL },
	{ "behavior", KT_STR, NULL, 0, NULL },
	{ "literals", KT_STRS, NULL, 0, NULL },
	{ "files", KT_STRS, NULL, 0, NULL },
	{ "envs", KT_STRS, NULL, 0, NULL },
	{ "env", KT_STR, NULL, KF_LEGACY, NULL },
	{ "options", KT_OBJ, &kt_genopts, 0, NULL },
};
static KTYPE(kt_cmargs, "ConfigMapArgs", f_cmargs);

static const struct kfield f_secretargs[] = {
	{ "namespace", KT_STR, NULL, 0, NULL },
	{ "name", KT_STR, NULL, 0, NULL },
	{ "behavior", KT_STR, NULL, 0, NULL },
	{ "literals", KT_STRS, NULL, 0, NULL },
	{ "files", KT_STRS, NULL, 0, NULL },
	{ "envs", KT_STRS, NULL, 0, NULL },
	{ "env", KT_STR, NULL, KF_LEGACY, NULL },
	{ "options", KT_OBJ, &kt_genopts, 0, NULL },
	{ "type", KT_STR, NULL, 0, NULL },
};
static KTYPE(kt_secretargs, "SecretArgs", f_secretargs);

/* Helm's types are not decoded: the fields are refused. */
static const struct kfield f_opaque[] = { { NULL, KT_STR, NULL, 0, NULL } };
static const struct ktype kt_opaque = { "helm", f_opaque, 0 };

/*
 * types.Kustomization.  doc: what sotto does with the field (the man page
 * and the README print it).
 */
static const struct kfield f_kust[] = {
	{ "apiVersion", KT_STR, NULL, 0,
	    "kustomize.config.k8s.io/v1beta1, or v1alpha1 for a Component" },
	{ "kind", KT_STR, NULL, 0,
	    "Kustomization or Component (built directly as kustomize does)" },
	{ "metadata", KT_OBJ, &kt_meta, 0, "read and ignored" },
	{ "openapi", KT_SMAP, NULL, 0,
	    "path: a local schema file (merge keys, scope); version: v1.21.2" },
	{ "namePrefix", KT_STR, NULL, 0, NULL },
	{ "nameSuffix", KT_STR, NULL, 0, NULL },
	{ "namespace", KT_STR, NULL, 0, NULL },
	{ "commonLabels", KT_SMAP, NULL, KF_LEGACY, NULL },
	{ "labels", KT_OBJS, &kt_label, 0,
	    "pairs, includeSelectors, includeTemplates, fields" },
	{ "commonAnnotations", KT_SMAP, NULL, 0, NULL },
	{ "patchesStrategicMerge", KT_STRS, NULL, KF_LEGACY, NULL },
	{ "patchesJson6902", KT_OBJS, &kt_patch, KF_LEGACY, NULL },
	{ "patches", KT_OBJS, &kt_patch, 0,
	    "strategic merge and JSON 6902; options allowNameChange, "
	    "allowKindChange" },
	{ "images", KT_OBJS, &kt_image, 0,
	    "name, newName, newTag, digest, tagSuffix" },
	{ "imageTags", KT_OBJS, &kt_image, KF_LEGACY, NULL },
	{ "replacements", KT_OBJS, &kt_replfield, 0, "inline or path" },
	{ "replicas", KT_OBJS, &kt_replica, 0, NULL },
	{ "vars", KT_OBJS, &kt_var, KF_LEGACY, NULL },
	{ "sortOptions", KT_OBJ, &kt_sort, 0, "legacy (with orderFirst, "
	    "orderLast) or fifo" },
	{ "resources", KT_STRS, NULL, 0,
	    "files and directories under --root; git remote bases "
	    "(repo//path?ref=, pinned) unless --no-remote-bases; http(s) "
	    "file and archive URLs refused" },
	{ "components", KT_STRS, NULL, 0, "local or git remote" },
	{ "crds", KT_STRS, NULL, 0, "OpenAPI definitions files" },
	{ "bases", KT_STRS, NULL, KF_LEGACY, NULL },
	{ "configMapGenerator", KT_OBJS, &kt_cmargs, 0, NULL },
	{ "secretGenerator", KT_OBJS, &kt_secretargs, 0,
	    "sops-encrypted sources decrypted in memory" },
	{ "helmGlobals", KT_OBJ, &kt_opaque, KF_REFUSED,
	    "refused: Helm runs a program" },
	{ "helmCharts", KT_OBJS, &kt_opaque, KF_REFUSED,
	    "refused: Helm runs a program" },
	{ "helmChartInflationGenerator", KT_OBJS, &kt_opaque,
	    KF_REFUSED | KF_LEGACY, "refused: Helm runs a program" },
	{ "generatorOptions", KT_OBJ, &kt_genopts, 0, NULL },
	{ "configurations", KT_STRS, NULL, 0, "kustomizeconfig field specs" },
	{ "generators", KT_STRS, NULL, 0, "builtin ConfigMapGenerator, "
	    "SecretGenerator; SottoSecretGenerator; exec and container "
	    "functions refused" },
	{ "transformers", KT_STRS, NULL, 0, "builtin Namespace, Prefix, "
	    "Suffix, PrefixSuffix, Label, Annotations, Patch, Replacement, "
	    "ImageTag and ReplicaCount transformers; exec and container "
	    "functions refused" },
	{ "validators", KT_STRS, NULL, KF_REFUSED,
	    "refused: validators run programs" },
	{ "buildMetadata", KT_STRS, NULL, 0,
	    "originAnnotations, transformerAnnotations, managedByLabel" },
};
KTYPE(kt_kustomization, "Kustomization", f_kust);

/* ---- built-in plugin configurations (api/internal/builtins) ---- */

#define PLUGIN_HEAD \
	{ "apiVersion", KT_STR, NULL, 0, NULL }, \
	{ "kind", KT_STR, NULL, 0, NULL }, \
	{ "metadata", KT_OBJ, &kt_meta, 0, NULL }

static const struct kfield f_p_cm[] = {
	PLUGIN_HEAD,
	{ "namespace", KT_STR, NULL, 0, NULL },
	{ "name", KT_STR, NULL, 0, NULL },
	{ "behavior", KT_STR, NULL, 0, NULL },
	{ "literals", KT_STRS, NULL, 0, NULL },
	{ "files", KT_STRS, NULL, 0, NULL },
	{ "envs", KT_STRS, NULL, 0, NULL },
	{ "env", KT_STR, NULL, 0, NULL },
	{ "options", KT_OBJ, &kt_genopts, 0, NULL },
};
static KTYPE(kt_p_cm, "ConfigMapGeneratorPlugin", f_p_cm);

static const struct kfield f_p_secret[] = {
	PLUGIN_HEAD,
	{ "namespace", KT_STR, NULL, 0, NULL },
	{ "name", KT_STR, NULL, 0, NULL },
	{ "behavior", KT_STR, NULL, 0, NULL },
	{ "literals", KT_STRS, NULL, 0, NULL },
	{ "files", KT_STRS, NULL, 0, NULL },
	{ "envs", KT_STRS, NULL, 0, NULL },
	{ "env", KT_STR, NULL, 0, NULL },
	{ "options", KT_OBJ, &kt_genopts, 0, NULL },
	{ "type", KT_STR, NULL, 0, NULL },
};
static KTYPE(kt_p_secret, "SecretGeneratorPlugin", f_p_secret);

static const struct kfield f_p_ns[] = {
	PLUGIN_HEAD,
	{ "fieldSpecs", KT_OBJS, &kt_fieldspec, 0, NULL },
	{ "unsetOnly", KT_BOOL, NULL, 0, NULL },
	{ "setRoleBindingSubjects", KT_STR, NULL, 0, NULL },
};
static KTYPE(kt_p_ns, "NamespaceTransformerPlugin", f_p_ns);

static const struct kfield f_p_affix[] = {
	PLUGIN_HEAD,
	{ "prefix", KT_STR, NULL, 0, NULL },
	{ "suffix", KT_STR, NULL, 0, NULL },
	{ "fieldSpecs", KT_OBJS, &kt_fieldspec, 0, NULL },
};
static KTYPE(kt_p_affix, "PrefixSuffixTransformerPlugin", f_p_affix);

static const struct kfield f_p_labels[] = {
	PLUGIN_HEAD,
	{ "labels", KT_SMAP, NULL, 0, NULL },
	{ "fieldSpecs", KT_OBJS, &kt_fieldspec, 0, NULL },
};
static KTYPE(kt_p_labels, "LabelTransformerPlugin", f_p_labels);

static const struct kfield f_p_annos[] = {
	PLUGIN_HEAD,
	{ "annotations", KT_SMAP, NULL, 0, NULL },
	{ "fieldSpecs", KT_OBJS, &kt_fieldspec, 0, NULL },
};
static KTYPE(kt_p_annos, "AnnotationsTransformerPlugin", f_p_annos);

static const struct kfield f_p_patch[] = {
	PLUGIN_HEAD,
	{ "path", KT_STR, NULL, 0, NULL },
	{ "patch", KT_STR, NULL, 0, NULL },
	{ "target", KT_OBJ, &kt_selector, 0, NULL },
	{ "options", KT_BMAP, NULL, 0, NULL },
};
static KTYPE(kt_p_patch, "PatchTransformerPlugin", f_p_patch);

static const struct kfield f_p_repl[] = {
	PLUGIN_HEAD,
	{ "replacements", KT_OBJS, &kt_replfield, 0, NULL },
};
static KTYPE(kt_p_repl, "ReplacementTransformerPlugin", f_p_repl);

static const struct kfield f_p_image[] = {
	PLUGIN_HEAD,
	{ "imageTag", KT_OBJ, &kt_image, 0, NULL },
	{ "fieldSpecs", KT_OBJS, &kt_fieldspec, 0, NULL },
};
static KTYPE(kt_p_image, "ImageTagTransformerPlugin", f_p_image);

static const struct kfield f_p_replica[] = {
	PLUGIN_HEAD,
	{ "replica", KT_OBJ, &kt_replica, 0, NULL },
	{ "fieldSpecs", KT_OBJS, &kt_fieldspec, 0, NULL },
};
static KTYPE(kt_p_replica, "ReplicaCountTransformerPlugin", f_p_replica);

static const struct kfield f_p_ksvc[] = {
	{ "name", KT_STR, NULL, 0, NULL },
	{ "namespace", KT_STR, NULL, 0, NULL },
};
static KTYPE(kt_p_ksvc, "KubernetesService", f_p_ksvc);

static const struct kfield f_p_gsa[] = {
	{ "name", KT_STR, NULL, 0, NULL },
	{ "projectId", KT_STR, NULL, 0, NULL },
};
static KTYPE(kt_p_gsa, "ServiceAccount", f_p_gsa);

static const struct kfield f_p_iam[] = {
	PLUGIN_HEAD,
	{ "cloud", KT_STR, NULL, 0, NULL },
	{ "kubernetesService", KT_OBJ, &kt_p_ksvc, 0, NULL },
	{ "serviceAccount", KT_OBJ, &kt_p_gsa, 0, NULL },
};
static KTYPE(kt_p_iam, "IAMPolicyGeneratorPlugin", f_p_iam);

static const struct {
	const char *kind;
	const struct ktype *t;
} plugin_types[] = {
	{ "ConfigMapGenerator", &kt_p_cm },
	{ "SecretGenerator", &kt_p_secret },
	{ "IAMPolicyGenerator", &kt_p_iam },
	{ "NamespaceTransformer", &kt_p_ns },
	{ "PrefixSuffixTransformer", &kt_p_affix },
	{ "PrefixTransformer", &kt_p_affix },
	{ "SuffixTransformer", &kt_p_affix },
	{ "LabelTransformer", &kt_p_labels },
	{ "AnnotationsTransformer", &kt_p_annos },
	{ "PatchTransformer", &kt_p_patch },
	{ "ReplacementTransformer", &kt_p_repl },
	{ "ImageTagTransformer", &kt_p_image },
	{ "ReplicaCountTransformer", &kt_p_replica },
};

const struct ktype *
kj_plugin_type(const char *kind)
{
	size_t i;

	for (i = 0; kind != NULL && i < NF(plugin_types); i++)
		if (strcmp(plugin_types[i].kind, kind) == 0)
			return plugin_types[i].t;
	return NULL;
}

/* ---- YAML 1.1 typing ---- */

static bool
plain(const struct sotto_node *n)
{
	return (n->style & YAML_STYLE_MASK) == YAML_STYLE_PLAIN;
}

enum kjt
kj_type(const struct sotto_node *n)
{
	static const char *const v2bool[] = { "y", "Y", "yes", "Yes", "YES",
	    "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
	    NULL };
	size_t i;

	if (n == NULL)
		return KJ_NULL;
	switch (n->kind) {
	case SOTTO_NODE_MAP:
		return KJ_MAP;
	case SOTTO_NODE_SEQ:
		return KJ_SEQ;
	case SOTTO_NODE_SCALAR:
		break;
	default:
		return KJ_NULL;
	}
	switch (n->type) {
	case SOTTO_T_NULL:
		return KJ_NULL;
	case SOTTO_T_BOOL:
		return KJ_BOOL;
	case SOTTO_T_INT:
		return KJ_INT;
	case SOTTO_T_FLOAT:
		return KJ_FLOAT;
	default:
		break;
	}
	if (plain(n) && n->text != NULL)
		for (i = 0; v2bool[i] != NULL; i++)
			if (strcmp(n->text, v2bool[i]) == 0)
				return KJ_BOOL;
	return KJ_STR;
}

static bool
kj_true(const struct sotto_node *n)
{
	const char *t = n->text ? n->text : "";

	return t[0] == 't' || t[0] == 'T' || t[0] == 'y' || t[0] == 'Y' ||
	    strcasecmp(t, "on") == 0;
}

/* ---- decoding ---- */

struct kdec {
	bool strict;
	const char *what;
	struct sotto_error *e;
	char path[256];		/* "patches[2].target" */
};

static sotto_err
kerr_type(struct kdec *d, const char *field, const char *want)
{
	return sotto_error_set(d->e, SOTTO_E_PARSE, "%s: '%s%s%.64s' must be "
	    "%s", d->what, d->path, d->path[0] ? "." : "", field, want);
}

static sotto_err
oom(struct kdec *d)
{
	return sotto_error_set(d->e, SOTTO_E_NOMEM, "out of memory");
}

/* The field of t a JSON key names: exact, else case-insensitive. */
static const struct kfield *
find_field(const struct ktype *t, const char *key, size_t kl)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strlen(t->f[i].name) == kl &&
		    memcmp(t->f[i].name, key, kl) == 0)
			return &t->f[i];
	for (i = 0; i < t->n; i++)
		if (strlen(t->f[i].name) == kl &&
		    strncasecmp(t->f[i].name, key, kl) == 0)
			return &t->f[i];
	return NULL;
}

static struct sotto_node *
str_node(const struct sotto_node *n)
{
	if (n == NULL || kj_type(n) == KJ_NULL)
		return sotto_tree_new_scalar(SOTTO_T_STR, "", 0);
	return sotto_tree_new_scalar(SOTTO_T_STR, n->text, n->len);
}

static sotto_err decode_obj(struct sotto_node **out,
    const struct sotto_node *in, const struct ktype *t, struct kdec *d);

static sotto_err
decode_str(struct sotto_node **out, const struct sotto_node *v,
    const char *field, struct kdec *d)
{
	enum kjt k = kj_type(v);

	if (k != KJ_STR && k != KJ_NULL)
		return kerr_type(d, field, "a string");
	return (*out = str_node(v)) != NULL ? SOTTO_OK : oom(d);
}

static sotto_err
decode_scalar(struct sotto_node **out, const struct sotto_node *v,
    const struct kfield *f, struct kdec *d)
{
	enum kjt k = kj_type(v);
	long long iv;
	double fv;
	char buf[32], *end;

	switch (f->type) {
	case KT_STR:
		return decode_str(out, v, f->name, d);
	case KT_BOOL:
		if (k != KJ_BOOL)
			return kerr_type(d, f->name, "true or false");
		*out = kj_true(v) ? sotto_tree_new_scalar(SOTTO_T_BOOL,
		    "true", 4) : sotto_tree_new_scalar(SOTTO_T_BOOL, "false",
		    5);
		return *out != NULL ? SOTTO_OK : oom(d);
	case KT_INT:
		if (k != KJ_INT && k != KJ_FLOAT)
			return kerr_type(d, f->name, "an integer");
		fv = strtod(v->canon ? v->canon : v->text, &end);
		iv = (long long)fv;
		if (k == KJ_INT)
			iv = strtoll(v->canon ? v->canon : v->text, &end, 10);
		else if ((double)iv != fv)
			return kerr_type(d, f->name, "an integer");
		snprintf(buf, sizeof(buf), "%lld", iv);
		*out = sotto_tree_new_scalar(SOTTO_T_INT, buf, strlen(buf));
		return *out != NULL ? SOTTO_OK : oom(d);
	default:
		return SOTTO_E_INTERNAL;
	}
}

static sotto_err
decode_map(struct sotto_node **out, const struct sotto_node *v,
    const struct kfield *f, struct kdec *d)
{
	struct sotto_node *m, *x;
	size_t i;
	sotto_err err;

	if (kj_type(v) != KJ_MAP)
		return kerr_type(d, f->name, f->type == KT_SMAP ?
		    "a map of strings" : "a map of booleans");
	if ((m = sotto_tree_new_map()) == NULL)
		return oom(d);
	for (i = 0; i < v->n; i++) {
		const struct sotto_node *iv = v->items[i].val;
		enum kjt k = kj_type(iv);

		if (v->items[i].key == NULL)
			continue;
		if (f->type == KT_SMAP) {
			if (k != KJ_STR && k != KJ_NULL) {
				sotto_tree_node_free(m, true);
				return sotto_error_set(d->e, SOTTO_E_PARSE,
				    "%s: '%s%s%s.%.64s' must be a string",
				    d->what, d->path, d->path[0] ? "." : "",
				    f->name, v->items[i].key);
			}
			x = str_node(iv);
		} else {
			if (k != KJ_BOOL && k != KJ_NULL) {
				sotto_tree_node_free(m, true);
				return sotto_error_set(d->e, SOTTO_E_PARSE,
				    "%s: '%s%s%s.%.64s' must be true or false",
				    d->what, d->path, d->path[0] ? "." : "",
				    f->name, v->items[i].key);
			}
			x = k == KJ_BOOL && kj_true(iv) ?
			    sotto_tree_new_scalar(SOTTO_T_BOOL, "true", 4) :
			    sotto_tree_new_scalar(SOTTO_T_BOOL, "false", 5);
		}
		if ((err = rn_set(m, v->items[i].key, x)) != SOTTO_OK) {
			sotto_tree_node_free(m, true);
			return oom(d);
		}
	}
	*out = m;
	return SOTTO_OK;
}

static sotto_err
decode_list(struct sotto_node **out, const struct sotto_node *v,
    const struct kfield *f, struct kdec *d)
{
	struct sotto_node *s, *x = NULL;
	size_t i, pl = strlen(d->path);
	sotto_err err = SOTTO_OK;

	if (kj_type(v) != KJ_SEQ)
		return kerr_type(d, f->name, "a list");
	if ((s = sotto_tree_new_seq()) == NULL)
		return oom(d);
	for (i = 0; i < v->n && err == SOTTO_OK; i++) {
		const struct sotto_node *it = v->items[i].val;
		char idx[64];

		if (it != NULL && it->kind == SOTTO_NODE_COMMENT)
			continue;
		snprintf(idx, sizeof(idx), "%s[%zu]", f->name, i);
		x = NULL;
		if (f->type == KT_STRS) {
			err = decode_str(&x, it, idx, d);
		} else if (kj_type(it) == KJ_NULL) {
			x = sotto_tree_new_map();
			err = x ? SOTTO_OK : oom(d);
		} else {
			snprintf(d->path + pl, sizeof(d->path) - pl, "%s%s",
			    pl ? "." : "", idx);
			err = decode_obj(&x, it, f->sub, d);
			d->path[pl] = '\0';
		}
		if (err == SOTTO_OK && sotto_tree_seq_add(s, x) != SOTTO_OK) {
			x = NULL;
			err = oom(d);
		}
	}
	if (err != SOTTO_OK) {
		sotto_tree_node_free(s, true);
		return err;
	}
	*out = s;
	return SOTTO_OK;
}

static sotto_err
decode_value(struct sotto_node **out, const struct sotto_node *v,
    const struct kfield *f, struct kdec *d)
{
	size_t pl = strlen(d->path);
	sotto_err err;

	*out = NULL;
	switch (f->type) {
	case KT_STR:
	case KT_BOOL:
	case KT_INT:
		return decode_scalar(out, v, f, d);
	case KT_SMAP:
	case KT_BMAP:
		return decode_map(out, v, f, d);
	case KT_STRS:
	case KT_OBJS:
		return decode_list(out, v, f, d);
	case KT_OBJ:
		snprintf(d->path + pl, sizeof(d->path) - pl, "%s%s",
		    pl ? "." : "", f->name);
		err = decode_obj(out, v, f->sub, d);
		d->path[pl] = '\0';
		return err;
	}
	return SOTTO_E_INTERNAL;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct sotto_entry *x = *(const struct sotto_entry *const *)a;
	const struct sotto_entry *y = *(const struct sotto_entry *const *)b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	return x->keylen < y->keylen ? -1 : x->keylen > y->keylen;
}

/*
 * One struct.  Keys are taken in sorted order, as json.Marshal of
 * sigs.k8s.io/yaml's map writes them, so of two spellings of one field
 * the last in that order wins.
 */
static sotto_err
decode_obj(struct sotto_node **out, const struct sotto_node *in,
    const struct ktype *t, struct kdec *d)
{
	const struct sotto_entry **keys = NULL;
	struct sotto_node *m, *x;
	size_t i, nk = 0;
	sotto_err err = SOTTO_OK;

	*out = NULL;
	if (kj_type(in) != KJ_MAP)
		return sotto_error_set(d->e, SOTTO_E_PARSE, "%s: '%s' must be "
		    "a map", d->what, d->path[0] ? d->path : t->name);
	if ((m = sotto_tree_new_map()) == NULL)
		return oom(d);
	if (in->n > 0 && (keys = calloc(in->n, sizeof(*keys))) == NULL) {
		sotto_tree_node_free(m, true);
		return oom(d);
	}
	for (i = 0; i < in->n; i++)
		if (in->items[i].key != NULL)
			keys[nk++] = &in->items[i];
	if (nk > 0)
		qsort(keys, nk, sizeof(*keys), key_cmp);
	for (i = 0; i < nk && err == SOTTO_OK; i++) {
		const struct kfield *f = find_field(t, keys[i]->key,
		    keys[i]->keylen);

		if (f == NULL) {
			if (d->strict && t == &kt_kustomization)
				err = sotto_error_set(d->e, SOTTO_E_USAGE,
				    "%s: unknown kustomization field '%.64s'",
				    d->what, keys[i]->key);
			else if (d->strict)
				err = sotto_error_set(d->e, SOTTO_E_USAGE,
				    "%s: unknown field '%.64s'%s%s", d->what,
				    keys[i]->key, d->path[0] ? " in " : "",
				    d->path);
			continue;
		}
		if (f->flags & KF_REFUSED) {
			err = sotto_error_set(d->e, SOTTO_E_USAGE, "%s: "
			    "unsupported %s field '%s'", d->what,
			    t == &kt_kustomization ? "kustomization" :
			    t->name, f->name);
			break;
		}
		if (kj_type(keys[i]->val) == KJ_NULL) {
			rn_del(m, f->name);
			continue;
		}
		if ((err = decode_value(&x, keys[i]->val, f, d)) != SOTTO_OK)
			break;
		if (rn_set(m, f->name, x) != SOTTO_OK)
			err = oom(d);
	}
	free(keys);
	if (err != SOTTO_OK) {
		sotto_tree_node_free(m, true);
		return err;
	}
	*out = m;
	return SOTTO_OK;
}

sotto_err
kj_normalize(struct sotto_node **out, const struct sotto_node *in,
    const struct ktype *t, bool strict, const char *what,
    struct sotto_error *e)
{
	struct kdec d;

	memset(&d, 0, sizeof(d));
	d.strict = strict;
	d.what = what;
	d.e = e;
	return decode_obj(out, in, t, &d);
}

/* ---- the documentation ---- */

static const char *
type_word(const struct kfield *f)
{
	switch (f->type) {
	case KT_STR:
		return "string";
	case KT_BOOL:
		return "boolean";
	case KT_INT:
		return "integer";
	case KT_STRS:
		return "list of strings";
	case KT_SMAP:
		return "map";
	case KT_BMAP:
		return "map";
	case KT_OBJ:
		return "object";
	case KT_OBJS:
		return "list";
	}
	return "";
}

sotto_err
kj_list_fields(struct sotto_buf *out, const char *format)
{
	const struct ktype *t = &kt_kustomization;
	sotto_err err = SOTTO_OK;
	size_t i;

	for (i = 0; i < t->n && err == SOTTO_OK; i++) {
		const struct kfield *f = &t->f[i];
		const char *st = (f->flags & KF_REFUSED) ? "refused" :
		    (f->flags & KF_LEGACY) ? "supported (legacy)" :
		    "supported";
		const char *doc = f->doc ? f->doc : "";
		const char *sep = doc[0] ? ": " : "";

		/* a refused field's doc says why, starting with "refused" */
		if ((f->flags & KF_REFUSED) && doc[0]) {
			st = doc;
			doc = sep = "";
		}
		if (strcmp(format, "roff") == 0)
			err = sotto_buf_addf(out, ".It Li %s\n%s%s%s\n",
			    f->name, st, sep, doc);
		else if (strcmp(format, "md") == 0)
			err = sotto_buf_addf(out, "| `%s` | %s%s%s |\n",
			    f->name, st, sep, doc);
		else
			err = sotto_buf_addf(out, "%s\t%s\t%s%s%s\n", f->name,
			    type_word(f), st, sep, doc);
	}
	return err;
}

sotto_err
sotto_render_list_fields(struct sotto_buf *out, const char *format)
{
	return kj_list_fields(out, format);
}
