/* SPDX-License-Identifier: ISC */
/*
 * Internal to the reconciler (`sotto reconcile`): what its files share.
 *
 *   sched.c      the records kept between passes, the passes, the worker
 *                pool (--concurrent) and the watch between passes
 *   reconcile.c  one Kustomization: render, apply, prune, health, status,
 *                Events, deletion (the finalizer)
 *   source.c     one GitRepository: fetch, artifact, status, Events
 *   serve.c      leader election and the /healthz, /readyz, /metrics server
 *
 * Threads: the scheduler (the main thread) owns every record; a worker
 * gets a job (one Kustomization or one GitRepository), a deep copy of the
 * object and a copy of what it needs from the records, and hands back a
 * result that the scheduler applies.  Each worker has its own API client
 * (struct sotto_kube is not thread-safe) and discovery cache.  Two jobs
 * never touch the same object, and no GitRepository is fetched while a
 * Kustomization renders its checkout (sched.c keeps the two apart).
 */
#ifndef SOTTO_KUBE_AGENT_H
#define SOTTO_KUBE_AGENT_H

#include "kube/kint.h"

#include <pthread.h>

#define KS_GROUP "kustomize.toolkit.fluxcd.io"
#define GR_GROUP "source.toolkit.fluxcd.io"
#define KS_FINALIZER "finalizers.fluxcd.io"	/* kustomize-controller's */
#define MSG_MAX 4096		/* condition messages (spec §8.2) */
#define KEY_MAX 320		/* "ns/name" */
#define DEP_REQUEUE 30.0	/* Flux's --requeue-dependency default */

/* A GitRepository's artifact as Kustomizations see it. */
struct artifact {
	bool ok;		/* revision and workdir can be applied */
	bool stalled;		/* refused spec: Kustomizations prefix the
				   error with the GitRepository's name */
	char revision[320];	/* "<branch>@sha1:<hex>" */
	char digest[80];	/* "sha256:<hex>" of the checkout */
	char updated[48];	/* lastUpdateTime (RFC 3339) */
	char workdir[4096];	/* the checkout (ciphertext only) */
	char error[SOTTO_ERROR_MSG_MAX];	/* why not ok (no value) */
};

/* Per worker: its client and discovery; o is shared and read-only. */
struct rctx {
	const struct sotto_reconcile_opts *o;
	struct agent *a;		/* shared state (the scheduler's) */
	struct sotto_kube *k;		/* this worker's client */
	struct kdisc disc;		/* this worker's discovery cache */
	char *default_ns;		/* kubeconfig / service account ns */
	char host[256];			/* reportingInstance of Events */
	int id;				/* 0 .. concurrent-1 */
};

/* A Kustomization between passes: small, whatever the object's size. */
struct ksrec {
	char key[KEY_MAX];	/* "ns/name" */
	char src[KEY_MAX];	/* its GitRepository "ns/name", "" if none */
	char *deps;		/* spec.dependsOn as "ns/name\n"..., or NULL */
	char *revision;		/* lastAppliedRevision, or NULL */
	char *req;		/* requestedAt last handled, or NULL */
	json_int_t gen;		/* generation last handled (0: never) */
	double interval, retry;	/* seconds */
	double next_due;	/* wall clock */
	double started, seconds;	/* the last reconcile */
	bool handled;		/* reconciled by this process */
	bool ready;		/* Ready=True for its generation */
	bool listed;		/* in this pass's list */
	bool done;		/* handled (or not due) in this pass */
	bool pending;		/* due, waiting for a dependency or source */
	bool running;		/* a worker has it */
	bool deleting;		/* has deletionTimestamp */
	unsigned long src_version;	/* its source's artifact version
					   when it last ran */
	struct kevent_memo events;	/* Events sent lately (dedupe) */
};

/* A GitRepository between passes. */
struct srcrec {
	char key[KEY_MAX];	/* "ns/name" */
	char *req;		/* requestedAt last handled, or NULL */
	json_int_t gen;		/* generation last fetched (0: never) */
	double interval;	/* seconds */
	double next_due;	/* wall clock */
	bool fetched;		/* tried by this process */
	bool listed;		/* in this pass's list (cluster) or file */
	bool due;		/* to be fetched in this pass */
	bool running;		/* a worker fetches it */
	unsigned long version;	/* bumped when the artifact changes */
	int users;		/* Kustomization jobs reading its checkout */
	struct artifact art;	/* the last one produced */
	struct kevent_memo events;	/* Events sent lately (dedupe) */
};

enum jobkind { JOB_KS, JOB_SRC };

/* One unit of work for a worker, and what it found. */
struct job {
	enum jobkind kind;
	struct job *next;		/* pool queue */
	json_t *obj;			/* the object (owned); NULL: GET it */
	char key[KEY_MAX];		/* "ns/name" */
	struct ksrec *ks;		/* JOB_KS: its record (events memo) */
	struct srcrec *src;		/* JOB_SRC: its record (events memo);
					   JOB_KS: its source, or NULL */
	struct artifact art;		/* JOB_KS: the source's artifact;
					   JOB_SRC: the result */
	char dep_blocked[600];		/* JOB_KS: why dependsOn is not met,
					   "" when it is */
	/* results (JOB_KS) */
	sotto_err rc;			/* SOTTO_OK, SOTTO_E_RECONCILE,
					   SOTTO_E_INTERRUPTED */
	bool gone;			/* the object no longer exists */
	bool ready;			/* Ready=True */
	bool dep_wait;			/* DependencyNotReady: 30 s requeue */
	char *revision;			/* lastAppliedRevision (owned) */
	double started, seconds;
};

/* ---- reconcile.c ---- */
/*
 * Reconciles j->obj (a Kustomization) with j->art as its source, or
 * finalizes it when it is being deleted; fills j's results.  Runs in a
 * worker.
 */
void ks_run(struct rctx *c, struct job *j);
/* Flux's defaults (GetTimeout, GetRetryInterval) in seconds. */
double ks_timeout(const json_t *ks);
/* The GitRepository "ns/name" a Kustomization uses ("" if none). */
void ks_source_key(char *out, size_t cap, const json_t *ks);
/* Does o's metadata.finalizers hold name? */
bool kobj_has_finalizer(const json_t *o, const char *name);
/*
 * Adds (add) or removes KS_FINALIZER, Flux's "finalizers.fluxcd.io", on o
 * of group/plural (v1), as Flux's patch helper does: a merge patch of
 * metadata.finalizers.  A 404 on removal is success.
 */
sotto_err kobj_set_finalizer(struct rctx *c, const json_t *o,
    const char *group, const char *plural, bool add, struct sotto_error *e);
/* metadata.namespace/name as a path may hold them (check_meta). */
sotto_err flux_check_meta(const json_t *o, struct sotto_error *e);
/* GETs path / the object ref names (new reference) through c's client. */
sotto_err rc_get_path(json_t **out, struct rctx *c, const char *path,
    struct sotto_error *e);
sotto_err rc_get_object(json_t **out, struct rctx *c, const struct kref *ref,
    struct sotto_error *e);
/*
 * Merge-patches {"status": status} into the status subresource of a Flux
 * object (field manager --field-manager).
 */
sotto_err rc_patch_status(struct rctx *c, const char *group,
    const char *plural, const char *ns, const char *name, json_t *status,
    struct sotto_error *e);
/*
 * A status condition (lastTransitionTime kept from prev when the status
 * is the same).
 */
json_t *rc_condition(const char *type, const char *status,
    const char *reason, const char *msg, json_int_t gen, const json_t *prev);
/* Sets s.lastHandledReconcileAt; true when s then differs from prev. */
bool rc_status_changed(json_t *s, const json_t *obj, const json_t *prev);

/* ---- source.c ---- */
/*
 * Fetches the GitRepository j->obj (GETs j->key first when j->obj is
 * NULL: j->obj is then what was read), writes its status and Events in
 * cluster mode, and leaves the artifact in j->art.  j->src->art, the
 * last one, is still served when the fetch fails.  Runs in a worker.
 */
void src_run(struct rctx *c, struct job *j);

/* ---- serve.c ---- */
struct agent;
/* Creates, renews or takes over the Lease; true when we hold it. */
bool lease_try(struct agent *a, bool release);
/* Serves /healthz, /readyz, /metrics on addr from a thread. */
sotto_err health_start(struct agent *a, const char *addr,
    struct sotto_error *e);
void health_stop(struct agent *a);
double now_s(void);

/* ---- sched.c: what serve.c and the workers share ---- */
struct metrics {
	pthread_mutex_t mu;	/* guards the fields below */
	unsigned long passes, failures, applied, requests;
	unsigned long *worker_requests;	/* per worker client */
	double last_seconds;	/* duration of the last pass */
	bool ready, leader;	/* /readyz, sotto_leader */
	struct sotto_buf per_ks;	/* per-Kustomization series (text) */
};

struct agent {
	const struct sotto_reconcile_opts *o;
	struct sotto_kube *k;		/* the scheduler's client: lists,
					   watch, Lease */
	char identity[256];		/* Lease holder identity */
	bool leader;			/* we hold the Lease */
	struct metrics m;		/* shared with the health thread */
	int listen_fd;			/* health server socket or -1 */
	pthread_t health;		/* its thread */
	volatile int health_stop;	/* ask it to return */
	struct kkeys *keys;		/* age keys born here (clusterkey.c) */
	pthread_mutex_t keys_mu;	/* guards keys: workers note and read
					   it, the scheduler runs its passes */
};

#endif
