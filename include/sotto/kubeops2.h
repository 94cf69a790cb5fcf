/* SPDX-License-Identifier: ISC */
/*
 * More of operating sotto like Flux: `check`, `uninstall`, `tree`, `logs`
 * and the --watch of `get` and `events`.  Same conventions as kubeops.h:
 * progress lines on o->err with flux's symbols, data on o->out, untrusted
 * text with control bytes as \xNN.
 */
#ifndef SOTTO_KUBEOPS2_H
#define SOTTO_KUBEOPS2_H

#include <stdbool.h>

#include "sotto/kubeops.h"

/* The oldest Kubernetes `sotto check` accepts (see sotto-check(1)). */
#define SOTTO_OPS_KUBE_MIN "1.22.0"
/* The clock skew `sotto check` accepts, seconds. */
#define SOTTO_OPS_MAX_SKEW 5

struct sotto_opsx {
	bool pre;		/* check: the API server version only */
	bool keep_ns;		/* uninstall: keep the namespace */
	bool delete_keys;	/* uninstall: the key Secrets too */
	bool dry_run;		/* uninstall: dryRun=All, nothing deleted */
	bool follow;		/* logs: stream */
	long tail;		/* logs: last lines only (-1: all) */
	const char *level;	/* logs: only this level */
	const char *kind;	/* logs: only lines about this kind */
	const char *name;	/* logs: ... and this name */
	const char *ctl_ns;	/* check, uninstall, logs: the controller's
				   namespace (NULL: sotto-system) */
};

/*
 * flux check: SOTTO_E_RECONCILE ("check failed") when a check failed;
 * every failure is a "✗ ... (the fix)" line on o->err.
 */
sotto_err sotto_ops_check(const struct sotto_ops *o,
    const struct sotto_opsx *x, struct sotto_error *e);
/*
 * flux uninstall (the caller asked for confirmation): the Deployment,
 * RBAC and ServiceAccount of the install, the finalizers of every
 * Kustomization and GitRepository, the CRDs labelled part-of sotto, and
 * the namespace unless keep_ns or it holds key Secrets and not
 * delete_keys.  SOTTO_E_RECONCILE when a deletion failed.
 */
sotto_err sotto_ops_uninstall(const struct sotto_ops *o,
    const struct sotto_opsx *x, struct sotto_error *e);
/* flux tree ks: status.inventory of ns/name as a tree, on o->out. */
sotto_err sotto_ops_tree(const struct sotto_ops *o, const char *name,
    struct sotto_error *e);
/* flux logs: the controller Pod's JSON log lines, filtered, on o->out. */
sotto_err sotto_ops_logs(const struct sotto_ops *o,
    const struct sotto_opsx *x, struct sotto_error *e);
/*
 * get --watch (events: events true, for_ref as sotto_ops_events): the
 * rows of a watch, a row printed again when it changed; returns when the
 * server ends the watch.
 */
sotto_err sotto_ops_watch(const struct sotto_ops *o, enum sotto_ops_kind kind,
    bool events, const char *name, const char *for_ref,
    struct sotto_error *e);

#endif
