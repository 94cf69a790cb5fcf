/* SPDX-License-Identifier: ISC */
/*
 * Operating sotto like Flux (issue #20): the everyday commands a Flux user
 * runs against the cluster, `get`, `reconcile <kind> NAME`, `suspend`,
 * `resume`, `install`, `events`, on the Flux objects the controller
 * (src/kube/reconcile.c) serves.  Progress lines go to o->err with flux's
 * symbols ("► ", "✔ ", "◎ "), tables and manifests to o->out.  Untrusted
 * text (names, messages) is printed with control bytes as \xNN.
 */
#ifndef SOTTO_KUBEOPS_H
#define SOTTO_KUBEOPS_H

#include <stdbool.h>
#include <stdio.h>

#include "sotto/error.h"

enum sotto_ops_kind {
	SOTTO_OPS_KS,		/* kustomize.toolkit.fluxcd.io/v1 Kustomization */
	SOTTO_OPS_GIT		/* source.toolkit.fluxcd.io/v1 GitRepository */
};

struct sotto_ops {
	const char *kubeconfig;	/* NULL: default lookup */
	const char *context;	/* NULL: current-context */
	const char *ns;		/* NULL: the context's namespace */
	bool all_ns;		/* get, events: every namespace */
	const char *output;	/* get: NULL (table), "json" or "yaml" */
	double timeout;		/* reconcile, resume: seconds (0: 300) */
	double poll;		/* seconds between reads (0: 0.5) */
	bool with_source;	/* reconcile ks: the source first */
	const char *version;	/* install: sotto's version (CRD label) */
	FILE *out, *err;
};

/*
 * flux get: a table (NAMESPACE with all_ns, NAME, REVISION, SUSPENDED,
 * READY, MESSAGE) or the objects as JSON / YAML.  name NULL: all of them.
 */
sotto_err sotto_ops_get(const struct sotto_ops *o, enum sotto_ops_kind kind,
    const char *name, struct sotto_error *e);
/*
 * flux reconcile: sets reconcile.fluxcd.io/requestedAt, waits until
 * status.lastHandledReconcileAt equals it and Ready is decided.
 * SOTTO_E_RECONCILE (message: the Ready condition's, "resource is
 * suspended", or the timeout) when it did not become Ready.
 */
sotto_err sotto_ops_reconcile(const struct sotto_ops *o,
    enum sotto_ops_kind kind, const char *name, struct sotto_error *e);
/* flux suspend / resume (resume waits as reconcile does). */
sotto_err sotto_ops_suspend(const struct sotto_ops *o,
    enum sotto_ops_kind kind, const char *name, bool suspend,
    struct sotto_error *e);
/*
 * flux install: the CRDs (unless components_only), the namespace, RBAC and
 * Deployment, printed as YAML (export) or applied server-side.  A CRD
 * labelled SOTTO_OPS_VERSION_LABEL with a newer version than o->version is
 * not overwritten: SOTTO_E_EXISTS.
 */
#define SOTTO_OPS_VERSION_LABEL "sotto.dev/version"
sotto_err sotto_ops_install(const struct sotto_ops *o, bool export,
    bool components_only, bool crds_only, struct sotto_error *e);
/*
 * flux events: the core Events of the namespace (or all), oldest first,
 * optionally only those about Kind/NAME.
 */
sotto_err sotto_ops_events(const struct sotto_ops *o, const char *for_ref,
    struct sotto_error *e);

/*
 * flux build / flux diff kustomization (build_ks.c): what the controller
 * would apply for a Kustomization from a local checkout of its spec.path.
 */
struct sotto_age_identity;
struct sotto_ops_build {
	const char *name;	/* the Kustomization */
	const char *path;	/* --path: spec.path, checked out locally */
	const char *ks_file;	/* --kustomization-file, or NULL */
	bool dry_run;		/* build: no cluster, ks_file only */
	bool show_secrets;	/* build: print Secret values */
	/* local keys: sops files are decrypted with them (in memory);
	 * with none they stay encrypted, and diff compares encrypted
	 * Secrets by their data keys only */
	struct sotto_age_identity *const *ids;
	size_t nids;
	const char *key_sources;	/* for "no key" messages */
	const char *cache_dir;	/* remote bases, or NULL */
};
/*
 * flux build kustomization: the objects as one YAML stream on o->out, each
 * followed by "---".  Without b->show_secrets every Secret's data value
 * is SOTTO_OPS_MASK in base64 (flux's mask for sops Secrets).
 */
#define SOTTO_OPS_MASK "**SOPS**"
sotto_err sotto_ops_build(const struct sotto_ops *o,
    const struct sotto_ops_build *b, struct sotto_error *e);
/*
 * flux diff kustomization: a server-side dry-run apply of each object and
 * "► Kind/ns/name created|drifted|skipped|deleted" lines on o->out, with
 * the changed fields under "drifted" (Secret values as "***", "*** (before)"
 * and "*** (after)", never the value).  *changed: something would be
 * created, changed or pruned.  Every object is tried; the first error is
 * returned after the others were printed.
 */
sotto_err sotto_ops_diff(const struct sotto_ops *o,
    const struct sotto_ops_build *b, bool *changed, struct sotto_error *e);

#endif
