/* SPDX-License-Identifier: ISC */
/*
 * Which fields of Flux's Kustomization v1 and GitRepository v1 the agent
 * implements (issue #14): one table, used both to refuse an object that
 * sets anything else (Stalled, the field named, nothing applied) and to
 * print the list in sotto-reconcile(8) (`sotto reconcile --list-fields`,
 * scripts/man-fields.sh), so the check and the documentation cannot drift.
 *
 * Field lists: kustomize-controller api/v1/kustomization_types.go and
 * source-controller api/v1/gitrepository_types.go.  A field the table does
 * not know at all is refused too: it may be a newer Flux field that would
 * change what gets applied.
 */
#include "kube/kint.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Types: what a supported field must hold. */
enum kt {
	KT_STR,		/* string, any text */
	KT_LINE,	/* string, no control characters */
	KT_NAME,	/* string, a DNS-1123 subdomain */
	KT_NS,		/* string, a DNS-1123 label */
	KT_DUR,		/* string, a Go duration as Flux's CRD pattern */
	KT_BOOL,	/* boolean */
	KT_OBJ,		/* object: its keys are looked up in the table */
	KT_LIST,	/* list of objects: keys looked up as "path[]." */
	KT_STRMAP,	/* object of any keys, every value a string */
	KT_ENUM,	/* string, one of `unset`'s '|'-separated values */
	KT_ANY		/* unsupported field: any value (checked as unset) */
};

struct kfield {
	const char *kind;	/* "Kustomization" or "GitRepository" */
	const char *path;	/* "spec.dependsOn[].name" */
	enum kt type;		/* what it holds */
	bool supported;		/* implemented by the agent */
	const char *unset;	/* unsupported: a value that means the
				   default ("generic"), or NULL; KT_ENUM:
				   the values allowed, '|'-separated */
	const char *note;	/* one line for the man page */
};

#define KS "Kustomization"
#define GR "GitRepository"

static const struct kfield fields[] = {
	{ KS, "spec.interval", KT_DUR, true, NULL, "run every interval" },
	{ KS, "spec.retryInterval", KT_DUR, true, NULL,
	    "after a failure (default: interval)" },
	{ KS, "spec.timeout", KT_DUR, true, NULL,
	    "bounds render, apply and health (default: the interval less "
	    "30s, at least 30s)" },
	{ KS, "spec.path", KT_LINE, true, NULL, "inside the source" },
	{ KS, "spec.prune", KT_BOOL, true, NULL, "garbage-collect" },
	{ KS, "spec.suspend", KT_BOOL, true, NULL, NULL },
	{ KS, "spec.force", KT_BOOL, true, NULL,
	    "recreate on immutable fields" },
	{ KS, "spec.wait", KT_BOOL, true, NULL, NULL },
	{ KS, "spec.targetNamespace", KT_NS, true, NULL, NULL },
	{ KS, "spec.serviceAccountName", KT_NAME, true, NULL,
	    "impersonated for apply, prune and health" },
	{ KS, "spec.sourceRef", KT_OBJ, true, NULL, NULL },
	{ KS, "spec.sourceRef.apiVersion", KT_LINE, true, NULL,
	    "source.toolkit.fluxcd.io/v1 only" },
	{ KS, "spec.sourceRef.kind", KT_LINE, true, NULL,
	    "GitRepository only" },
	{ KS, "spec.sourceRef.name", KT_NAME, true, NULL, NULL },
	{ KS, "spec.sourceRef.namespace", KT_NS, true, NULL,
	    "refused with --no-cross-namespace-refs" },
	{ KS, "spec.decryption", KT_OBJ, true, NULL, NULL },
	{ KS, "spec.decryption.provider", KT_LINE, true, NULL, "sops only" },
	{ KS, "spec.decryption.secretRef", KT_OBJ, true, NULL, NULL },
	{ KS, "spec.decryption.secretRef.name", KT_NAME, true, NULL,
	    "in the Kustomization's namespace" },
	{ KS, "spec.decryption.serviceAccountName", KT_ANY, false, NULL,
	    "KMS workload identity" },
	{ KS, "spec.dependsOn", KT_LIST, true, NULL, NULL },
	{ KS, "spec.dependsOn[].name", KT_NAME, true, NULL, NULL },
	{ KS, "spec.dependsOn[].namespace", KT_NS, true, NULL, NULL },
	{ KS, "spec.dependsOn[].readyExpr", KT_ANY, false, NULL, "CEL" },
	{ KS, "spec.healthChecks", KT_LIST, true, NULL, NULL },
	{ KS, "spec.healthChecks[].apiVersion", KT_LINE, true, NULL, NULL },
	{ KS, "spec.healthChecks[].kind", KT_LINE, true, NULL, NULL },
	{ KS, "spec.healthChecks[].name", KT_LINE, true, NULL, NULL },
	{ KS, "spec.healthChecks[].namespace", KT_NS, true, NULL, NULL },
	{ KS, "spec.kubeConfig", KT_ANY, false, NULL,
	    "remote clusters (would apply here instead)" },
	{ KS, "spec.postBuild", KT_OBJ, true, NULL, NULL },
	{ KS, "spec.postBuild.substitute", KT_STRMAP, true, NULL,
	    "variables; override substituteFrom" },
	{ KS, "spec.postBuild.substituteFrom", KT_LIST, true, NULL, NULL },
	{ KS, "spec.postBuild.substituteFrom[].kind", KT_ENUM, true,
	    "ConfigMap|Secret", NULL },
	{ KS, "spec.postBuild.substituteFrom[].name", KT_NAME, true, NULL,
	    "in the Kustomization's namespace" },
	{ KS, "spec.postBuild.substituteFrom[].optional", KT_BOOL, true, NULL,
	    "a missing source then defines nothing" },
	{ KS, "spec.postBuild.substituteStrategy", KT_ENUM, true,
	    "WithVariables|Always", NULL },
	{ KS, "spec.commonMetadata", KT_ANY, false, NULL, NULL },
	{ KS, "spec.namePrefix", KT_ANY, false, NULL, NULL },
	{ KS, "spec.nameSuffix", KT_ANY, false, NULL, NULL },
	{ KS, "spec.patches", KT_ANY, false, NULL, NULL },
	{ KS, "spec.images", KT_ANY, false, NULL, NULL },
	{ KS, "spec.components", KT_ANY, false, NULL, NULL },
	{ KS, "spec.ignoreMissingComponents", KT_ANY, false, NULL, NULL },
	{ KS, "spec.deletionPolicy", KT_ENUM, true,
	    "MirrorPrune|Delete|WaitForTermination|Orphan",
	    "on deletion (finalizers.fluxcd.io): MirrorPrune deletes the "
	    "inventory when prune is true" },
	{ KS, "spec.healthCheckExprs", KT_ANY, false, NULL, "CEL" },
	{ KS, "spec.buildMetadata", KT_ANY, false, NULL, NULL },
	{ KS, "spec.ignore", KT_ANY, false, NULL, NULL },

	{ GR, "spec.url", KT_LINE, true, NULL,
	    "https://, ssh://, user@host:path (see the source flags)" },
	{ GR, "spec.interval", KT_DUR, true, NULL, NULL },
	{ GR, "spec.timeout", KT_DUR, true, NULL,
	    "the fetch child is killed after it (default 60s)" },
	{ GR, "spec.suspend", KT_BOOL, true, NULL,
	    "serves its last fetched checkout" },
	{ GR, "spec.ignore", KT_STR, true, NULL, NULL },
	{ GR, "spec.secretRef", KT_OBJ, true, NULL, NULL },
	{ GR, "spec.secretRef.name", KT_NAME, true, NULL,
	    "in the GitRepository's namespace" },
	{ GR, "spec.ref", KT_OBJ, true, NULL, NULL },
	{ GR, "spec.ref.branch", KT_LINE, true, NULL, NULL },
	{ GR, "spec.ref.tag", KT_LINE, true, NULL, NULL },
	{ GR, "spec.ref.semver", KT_LINE, true, NULL, NULL },
	{ GR, "spec.ref.name", KT_LINE, true, NULL, NULL },
	{ GR, "spec.ref.commit", KT_LINE, true, NULL, NULL },
	{ GR, "spec.verify", KT_ANY, false, NULL,
	    "commit signatures (an unsigned commit would be applied)" },
	{ GR, "spec.provider", KT_ANY, false, "generic", NULL },
	{ GR, "spec.serviceAccountName", KT_ANY, false, NULL, NULL },
	{ GR, "spec.proxySecretRef", KT_ANY, false, NULL, NULL },
	{ GR, "spec.recurseSubmodules", KT_ANY, false, NULL, NULL },
	{ GR, "spec.include", KT_ANY, false, NULL, NULL },
	{ GR, "spec.sparseCheckout", KT_ANY, false, NULL, NULL },
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct kfield *
lookup(const char *kind, const char *path)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		if (strcmp(fields[i].kind, kind) == 0 &&
		    strcmp(fields[i].path, path) == 0)
			return &fields[i];
	return NULL;
}

/* Flux's CRD pattern for durations: ^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$ */
static bool
duration_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s == '.') {
			s++;
			if (*s < '0' || *s > '9')
				return false;
			while (*s >= '0' && *s <= '9')
				s++;
		}
		if (s[0] == 'm' && s[1] == 's')
			s += 2;
		else if (*s == 's' || *s == 'm' || *s == 'h')
			s++;
		else
			return false;
	}
	return true;
}

/* Absent in effect: null, false, "", [], {} or the field's default. */
static bool
is_unset(const json_t *v, const char *unset)
{
	if (json_is_null(v) || json_is_false(v))
		return true;
	if (json_is_string(v))
		return json_string_length(v) == 0 || (unset != NULL &&
		    strcmp(json_string_value(v), unset) == 0);
	if (json_is_array(v))
		return json_array_size(v) == 0;
	if (json_is_object(v))
		return json_object_size(v) == 0;
	return false;
}

static sotto_err
bad(struct sotto_error *e, const char **reason, const char *why,
    const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static sotto_err
bad(struct sotto_error *e, const char **reason, const char *why,
    const char *path, const char *fmt, ...)
{
	char msg[SOTTO_ERROR_MSG_MAX], q[200];
	va_list ap;

	*reason = why;
	kquote(q, sizeof(q), path);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sotto_error_set(e, SOTTO_E_CONFIG, "%s %s", q, msg);
}

static sotto_err
check_value(const char *kind, const struct kfield *f, const char *path,
    const json_t *v, const char **reason, struct sotto_error *e);

/* s is one of the '|'-separated values */
static bool
enum_ok(const char *values, const char *s)
{
	size_t n = strlen(s);
	const char *p = values, *bar;

	for (;;) {
		bar = strchr(p, '|');
		if ((size_t)(bar ? bar - p : (ptrdiff_t)strlen(p)) == n &&
		    strncmp(p, s, n) == 0)
			return true;
		if (bar == NULL)
			return false;
		p = bar + 1;
	}
}

/* "one of A, B" from "A|B" */
static void
enum_list(char *out, size_t cap, const char *values)
{
	size_t i, k = (size_t)snprintf(out, cap, "one of ");

	for (i = 0; values[i] != '\0' && k + 3 < cap; i++) {
		if (values[i] == '|') {
			out[k++] = ',';
			out[k++] = ' ';
		} else {
			out[k++] = values[i];
		}
	}
	out[k] = '\0';
}

/* A map of strings (spec.postBuild.substitute): keys are free. */
static sotto_err
check_strmap(const char *path, const json_t *v, const char **reason,
    struct sotto_error *e)
{
	const char *key;
	json_t *x;
	char q[96];

	if (!json_is_object(v))
		return bad(e, reason, "InvalidSpec", path, "must be an object");
	json_object_foreach((json_t *)v, key, x) {
		if (json_is_string(x))
			continue;
		kquote(q, sizeof(q), key);
		return bad(e, reason, "InvalidSpec", path, "'%s' must be a "
		    "string (quote numbers and booleans)", q);
	}
	return SOTTO_OK;
}

/* Every key of obj, as prefix.key, against the table. */
static sotto_err
check_object(const char *kind, const char *prefix, const json_t *obj,
    const char **reason, struct sotto_error *e)
{
	const char *key;
	json_t *v;
	char path[1100];
	const struct kfield *f;
	sotto_err rc;

	json_object_foreach((json_t *)obj, key, v) {
		if (strlen(prefix) + strlen(key) + 2 > 512)
			return bad(e, reason, "InvalidSpec", prefix, "has a "
			    "field name that is too long");
		snprintf(path, sizeof(path), "%s.%s", prefix, key);
		if ((f = lookup(kind, path)) == NULL)
			return bad(e, reason, "UnsupportedField", path, "is not "
			    "a field sotto knows in %s v1: nothing is applied "
			    "(see sotto-reconcile(8))", kind);
		if (!f->supported) {
			if (is_unset(v, f->unset))
				continue;
			return bad(e, reason, "UnsupportedField", f->path,
			    "is not supported by sotto: nothing is applied "
			    "(see sotto-reconcile(8))");
		}
		if ((rc = check_value(kind, f, path, v, reason, e)) !=
		    SOTTO_OK)
			return rc;
	}
	return SOTTO_OK;
}

static sotto_err
check_value(const char *kind, const struct kfield *f, const char *path,
    const json_t *v, const char **reason, struct sotto_error *e)
{
	const char *s = json_string_value(v), *why;
	char item[1200], list[200];
	const json_t *x;
	size_t i;
	sotto_err rc;

	if (json_is_null(v))
		return SOTTO_OK;	/* as if absent */
	switch (f->type) {
	case KT_STR:
	case KT_LINE:
		if (s == NULL)
			return bad(e, reason, "InvalidSpec", path, "must be a "
			    "string");
		if (f->type == KT_STR || kheader_ok(s))
			return SOTTO_OK;
		return bad(e, reason, "InvalidSpec", path, "must not contain "
		    "control characters");
	case KT_NAME:
	case KT_NS:
		if (s == NULL)
			return bad(e, reason, "InvalidSpec", path, "must be a "
			    "string");
		if ((why = kname_invalid(s, f->type == KT_NS ? KN_LABEL :
		    KN_SUBDOMAIN)) == NULL)
			return SOTTO_OK;
		kquote(item, 96, s);
		return bad(e, reason, "InvalidSpec", path, "'%s': %s", item,
		    why);
	case KT_DUR:
		if (s != NULL && duration_ok(s))
			return SOTTO_OK;
		kquote(item, 96, s ? s : "(not a string)");
		return bad(e, reason, "InvalidSpec", path, "'%s': not a "
		    "duration such as 10m or 1h30m", item);
	case KT_BOOL:
		return json_is_boolean(v) ? SOTTO_OK : bad(e, reason,
		    "InvalidSpec", path, "must be true or false");
	case KT_OBJ:
		if (!json_is_object(v))
			return bad(e, reason, "InvalidSpec", path, "must be an "
			    "object");
		return check_object(kind, path, v, reason, e);
	case KT_LIST:
		if (!json_is_array(v))
			return bad(e, reason, "InvalidSpec", path, "must be a "
			    "list");
		json_array_foreach((json_t *)v, i, x) {
			if (!json_is_object(x))
				return bad(e, reason, "InvalidSpec", path,
				    "items must be objects");
			if ((size_t)snprintf(item, sizeof(item), "%s[]", path)
			    >= sizeof(item))
				return bad(e, reason, "InvalidSpec", path,
				    "is too long");
			if ((rc = check_object(kind, item, x, reason, e)) !=
			    SOTTO_OK)
				return rc;
		}
		return SOTTO_OK;
	case KT_STRMAP:
		return check_strmap(path, v, reason, e);
	case KT_ENUM:
		if (s != NULL && enum_ok(f->unset, s))
			return SOTTO_OK;
		kquote(item, 96, s ? s : "(not a string)");
		enum_list(list, sizeof(list), f->unset);
		return bad(e, reason, "InvalidSpec", path, "'%s': must be %s",
		    item, list);
	case KT_ANY:
		return SOTTO_OK;
	}
	return SOTTO_OK;
}

sotto_err
kfields_check(const char *kind, const json_t *obj, const char **reason,
    struct sotto_error *e)
{
	const json_t *spec = json_object_get(obj, "spec");

	*reason = NULL;
	if (spec == NULL || json_is_null(spec))
		return SOTTO_OK;
	if (!json_is_object(spec))
		return bad(e, reason, "InvalidSpec", "spec", "must be an "
		    "object");
	return check_object(kind, "spec", spec, reason, e);
}

void
kfields_print(FILE *f, bool roff)
{
	char list[200];
	size_t i;

	for (i = 0; i < NFIELDS; i++) {
		const struct kfield *k = &fields[i];

		if (k->type == KT_OBJ || k->type == KT_LIST)
			continue;	/* their items are listed */
		if (k->type == KT_ENUM)
			enum_list(list, sizeof(list), k->unset);
		if (!roff) {
			fprintf(f, "%-14s %-38s %-9s%s%s\n", k->kind, k->path,
			    k->supported ? "supported" : "refused",
			    k->note || k->type == KT_ENUM ? "  " : "",
			    k->note ? k->note : k->type == KT_ENUM ? list :
			    "");
			continue;
		}
		/* mdoc items, between .Bl and .El in sotto-reconcile(8) */
		fprintf(f, ".It Li %s\n%s: %s", k->path, k->kind,
		    k->supported ? "supported" : "refused");
		if (k->type == KT_ENUM)
			fprintf(f, " (%s)", list);
		else if (k->unset != NULL)
			fprintf(f, " (the default, %s, is accepted)", k->unset);
		fprintf(f, "%s%s.\n", k->note ? "; " : "", k->note ? k->note :
		    "");
	}
}

void
sotto_reconcile_list_fields(FILE *f, bool roff)
{
	kfields_print(f, roff);
}
