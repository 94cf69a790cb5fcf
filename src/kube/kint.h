/* SPDX-License-Identifier: ISC */
/*
 * Internal to src/kube/: the git source (git.c), discovery and the apply
 * engine (apply.c), JSON helpers and the JSON-lines logger (util.c).
 * jansson types appear here only, never in include/sotto/.
 */
#ifndef SOTTO_KUBE_KINT_H
#define SOTTO_KUBE_KINT_H

#include <jansson.h>
#include <stdbool.h>

#include "sotto/kube.h"
#include "sotto/tree.h"

/* ---- git.c ---- */
struct kgit_ref {
	const char *branch, *tag, *commit;	/* one is set */
	const char *username, *password;	/* https basic auth or NULL */
};
struct kgit_result {
	char workdir[4096];	/* checkout root (ciphertext only) */
	char revision[320];	/* "<branch>@sha1:<hex>" */
};
/*
 * Fetches ref from url into cache_dir (incremental) and checks it out, in
 * a forked child so libgit2 is never mapped into the agent (in-process
 * when fork() fails).
 */
sotto_err kgit_sync(struct kgit_result *res, const char *cache_dir,
    const char *url, const struct kgit_ref *ref, struct sotto_error *e);

/* ---- util.c ---- */
/* A tree branch as JSON (comments dropped); NULL on out-of-memory. */
json_t *kjson_from_tree(const struct sotto_node *n);
/* o[a][b]... as a string or NULL; path is dot-separated, no escapes. */
const char *kjson_str(const json_t *o, const char *path);
json_t *kjson_get(const json_t *o, const char *path);
/* Go duration ("1m30s", "500ms") in seconds; -1 when malformed. */
double kduration(const char *s);
/* RFC 3339 UTC now; micro adds microseconds (Lease MicroTime). */
void know(char *out, size_t cap, bool micro);
/* One JSON line on stderr: ts, level, msg, kustomization, revision. */
void klog(const char *level, const char *ks, const char *rev,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- apply.c ---- */
struct kres {
	char *group, *version, *kind, *plural;	/* resource identity */
	bool namespaced;			/* namespaced kind */
};
struct kdisc {
	struct kres *v;		/* every kind the server serves */
	size_t n, cap;		/* count, allocated */
};
sotto_err kdisc_load(struct kdisc *d, struct sotto_kube *k,
    struct sotto_error *e);
const struct kres *kdisc_find(const struct kdisc *d, const char *group,
    const char *version, const char *kind);
void kdisc_free(struct kdisc *d);
/* "/api/v1/namespaces/ns/configmaps[/name]" */
sotto_err kres_path(struct sotto_buf *b, const struct kres *r,
    const char *ns, const char *name);

enum kaction { KA_NONE, KA_CREATED, KA_CONFIGURED, KA_UNCHANGED, KA_SKIPPED,
    KA_DELETED };

struct kobj {
	json_t *o;			/* desired object (owned) */
	const struct kres *res;		/* resolved kind */
	const char *ns, *name, *kind;	/* borrowed from o */
	char *group, *version;		/* from apiVersion */
	char *id;			/* inventory id */
	int stage;			/* 0: CRDs, Namespaces, classes */
	enum kaction action;		/* what happened */
	bool pending;			/* needs the real apply */
	bool planned;			/* compared with the live object */
	json_t *cleanup;		/* json-patch ops sent before the apply
					   (managedFields, last-applied) */
};

struct kapply_opts {
	const char *field_manager;	/* "sotto" */
	const char *ks_name, *ks_ns;	/* owner (labels, logs) */
	const char *revision;		/* for logs */
	const char *target_ns;		/* spec.targetNamespace or NULL */
	bool force;			/* spec.force */
	double poll;			/* seconds between wait polls */
	const volatile int *stop;	/* stop between objects */
};

struct kset {
	struct kobj *v;		/* objects in apply order */
	size_t n, cap;
};
/*
 * Parses a rendered YAML stream into s: checks apiVersion/kind/name,
 * resolves kinds, sets namespaces, owner labels, Secret stringData ->
 * data, inventory ids, stages.  Plaintext stays in wiped memory.
 */
sotto_err kset_build(struct kset *s, const struct sotto_buf *yaml,
    struct kdisc *d, struct sotto_kube *k, const struct kapply_opts *o,
    struct sotto_error *e);
/* Applies every object, stage by stage (spec §7.2-7.5). */
sotto_err kset_apply(struct kset *s, struct sotto_kube *k, struct kdisc *d,
    const struct kapply_opts *o, struct sotto_error *e);
/* Polls applied objects until healthy (spec §7.7) or timeout. */
sotto_err kset_wait(struct kset *s, struct sotto_kube *k,
    const struct kapply_opts *o, double timeout, struct sotto_error *e);
void kset_free(struct kset *s);
/* Inventory entries [{id, v}] sorted by id (new reference). */
json_t *kset_inventory(const struct kset *s);
/*
 * Deletes objects of old inventory missing from the new one (spec §7.6);
 * entries that could not be deleted are appended to keep.
 */
sotto_err kprune(json_t *keep, const json_t *old_entries,
    const json_t *new_entries, struct sotto_kube *k, struct kdisc *d,
    const struct kapply_opts *o, struct sotto_error *e);

#endif
