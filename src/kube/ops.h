/* SPDX-License-Identifier: ISC */
/* Internal to src/kube/: shared by ops.c and crds.c (issue #20). */
#ifndef SOTTO_KUBE_OPS_H
#define SOTTO_KUBE_OPS_H

#include "kube/kint.h"
#include "sotto/kubeops.h"

struct okind {
	const char *kind;	/* "Kustomization" */
	const char *human;	/* flux's "kustomization", "source git" */
	const char *group;
	const char *plural;
};
const struct okind *kops_kind(enum sotto_ops_kind k);

struct oconn {
	struct sotto_kube *k;
	char ns[64];		/* --namespace or the context's */
};
sotto_err kops_open(struct oconn *c, const struct sotto_ops *o,
    struct sotto_error *e);
void kops_close(struct oconn *c);
/*
 * method ref, then query ("?a=b" or NULL), with body (NULL: none); *out
 * the parsed answer (out may be NULL).  A status >= 300 is an error
 * named by what.
 */
sotto_err kops_req(struct oconn *c, json_t **out, const char *method,
    const struct kref *ref, const char *query, const char *ctype,
    const json_t *body, const char *what, struct sotto_error *e);
/* s with control bytes as \xNN, at most max input bytes ("..." cut). */
void kops_shown(char *out, size_t cap, const char *s, size_t max);
/* j as JSON (indented) or YAML ("yaml"). */
sotto_err kops_print_obj(FILE *f, const char *output, const json_t *j,
    struct sotto_error *e);
/*
 * The objects `sotto install` applies for namespace ns (the CRDs, the
 * components, or both), as a new JSON array (ops2.c: check, uninstall).
 */
sotto_err kops_install_objects(json_t **out, const char *ns,
    const char *version, bool crds, bool components, struct sotto_error *e);
/*
 * The request path parts of install object obj (name and namespace
 * borrowed from it); false for a kind the install does not apply.
 */
bool kops_install_ref(struct kref *ref, const json_t *obj);

#endif
