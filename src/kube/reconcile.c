/* SPDX-License-Identifier: ISC */
/*
 * One Kustomization (spec in-cluster.md §2, §7, §8; issues #8, #15), in a
 * worker of sched.c: the checks of issue #14, the finalizer Flux uses,
 * dependsOn, render -> decrypt in memory with keys re-read from the
 * decryption Secret -> staged server-side apply -> inventory -> prune ->
 * health -> status and Events; and, once the object is being deleted,
 * the garbage collection spec.deletionPolicy asks for.  The apply itself
 * is apply.c; the source's checkout comes from source.c.
 */
#include "kube/agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sotto/io.h"
#include "sotto/pgp.h"
#include "sotto/render.h"

/* ---- status ------------------------------------------------------------- */

struct outcome {
	const char *ready;	/* "True", "False", "Unknown" */
	const char *reason;	/* Flux reason */
	char msg[MSG_MAX];	/* condition message */
	bool reconciling;	/* Reconciling=True (start of a new revision) */
	char progress[512];	/* the Reconciling condition's message */
	bool stalled;		/* Stalled=True (needs a spec change) */
	char attempted[320], applied[320];
};

json_t *
rc_condition(const char *type, const char *status, const char *reason,
    const char *msg, json_int_t gen, const json_t *prev)
{
	char ts[48];
	const char *pts = NULL;
	json_t *c;
	size_t i;

	json_array_foreach((json_t *)prev, i, c)
		if (kjson_str(c, "type") && strcmp(kjson_str(c, "type"), type)
		    == 0 && kjson_str(c, "status") && strcmp(kjson_str(c,
		    "status"), status) == 0)
			pts = kjson_str(c, "lastTransitionTime");
	know(ts, sizeof(ts), false);
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "type", type,
	    "status", status, "observedGeneration", gen,
	    "lastTransitionTime", pts ? pts : ts, "reason", reason, "message",
	    msg);
}

static json_t *
build_status(const struct outcome *out, json_int_t gen, const json_t *inv,
    const json_t *prev)
{
	json_t *conds = json_array(), *pc = kjson_get(prev, "conditions");
	json_t *s;

	json_array_append_new(conds, rc_condition("Ready", out->ready,
	    out->reason, out->msg, gen, pc));
	if (out->reconciling)
		json_array_append_new(conds, rc_condition("Reconciling", "True",
		    "Progressing", out->progress[0] ? out->progress : out->msg,
		    gen, pc));
	if (out->stalled)
		json_array_append_new(conds, rc_condition("Stalled", "True",
		    out->reason, out->msg, gen, pc));
	s = json_pack("{s:o, s:I}", "conditions", conds,
	    "observedGeneration", gen);
	if (out->attempted[0])
		json_object_set_new(s, "lastAttemptedRevision",
		    json_string(out->attempted));
	if (out->applied[0])
		json_object_set_new(s, "lastAppliedRevision",
		    json_string(out->applied));
	if (inv != NULL)
		json_object_set_new(s, "inventory", json_pack("{s:O}",
		    "entries", inv));
	return s;
}

/*
 * Does prev already hold every field of a, apart from the conditions'
 * lastTransitionTime?  (A merge patch of a would change nothing; fields
 * only prev has, such as another controller's, do not count.)
 */
static bool
same_status(const json_t *a, const json_t *b)
{
	json_t *x, *y, *c, *v;
	const char *key;
	size_t i;
	bool eq = true;

	if (a == NULL || b == NULL)
		return false;
	x = json_deep_copy(a);
	y = json_deep_copy(b);
	json_array_foreach(json_object_get(x, "conditions"), i, c)
		json_object_del(c, "lastTransitionTime");
	json_array_foreach(json_object_get(y, "conditions"), i, c)
		json_object_del(c, "lastTransitionTime");
	json_object_foreach(x, key, v)
		if (!json_equal(v, json_object_get(y, key)) &&
		    !(json_is_null(v) && json_object_get(y, key) == NULL))
			eq = false;
	json_decref(x);
	json_decref(y);
	return eq;
}

/* Local mode: the ConfigMap "sotto-inventory-<name>" holding the status. */
static sotto_err
local_cm_path(struct sotto_buf *p, const char *ns, const char *name,
    struct sotto_error *e)
{
	char cm[300];
	struct kref ref = { "", "v1", "configmaps", ns, cm, NULL };

	if ((size_t)snprintf(cm, sizeof(cm), "sotto-inventory-%s", name) >=
	    sizeof(cm))
		return sotto_error_set(e, SOTTO_E_CONFIG, "metadata.name is "
		    "too long");
	return kpath_build(p, &ref, e);
}

/*
 * Merge-patches {"status": status} into the status subresource of the
 * Flux object api/namespaces/ns/plural/name (field manager --field-manager).
 */
sotto_err
rc_patch_status(struct rctx *c, const char *group, const char *plural,
    const char *ns, const char *name, json_t *status, struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct kref ref = { group, "v1", plural, ns, name, "status" };
	struct sotto_buf path = SOTTO_BUF_INIT;
	char *body;
	json_t *doc;
	sotto_err rc;

	if ((rc = kpath_build(&path, &ref, e)) != SOTTO_OK)
		return rc;
	if (kpath_query(&path, "fieldManager", c->o->field_manager) !=
	    SOTTO_OK) {
		sotto_buf_release(&path);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	doc = json_pack("{s:O}", "status", status);
	body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (body == NULL) {
		sotto_buf_release(&path);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	rc = sotto_kube_request(c->k, &r, "PATCH", (char *)path.data,
	    "application/merge-patch+json", body, strlen(body), e);
	if (rc == SOTTO_OK && r.status >= 300)
		rc = sotto_kube_status_error(e, &r, "cannot write status");
	free(body);
	sotto_buf_release(&path);
	sotto_kube_resp_release(&r);
	return rc;
}

/*
 * Writes a Kustomization's status: its status subresource in cluster mode,
 * the sotto-inventory-<name> ConfigMap (status and inventory) in local mode.
 */
static sotto_err
send_status(struct rctx *c, const char *ns, const char *name, json_t *status,
    struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct sotto_buf path = SOTTO_BUF_INIT;
	char *body = NULL, *st, *inv;
	json_t *doc;
	sotto_err rc;

	if (c->o->config_file == NULL)
		return rc_patch_status(c, KS_GROUP, "kustomizations", ns, name,
		    status, e);
	if ((rc = local_cm_path(&path, ns, name, e)) != SOTTO_OK)
		return rc;
	st = json_dumps(status, JSON_COMPACT | JSON_SORT_KEYS);
	inv = kjson_get(status, "inventory.entries") ? json_dumps(kjson_get(
	    status, "inventory.entries"), JSON_COMPACT) : NULL;
	doc = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:s, s:s}}",
	    "apiVersion", "v1", "kind", "ConfigMap", "metadata", "name", "",
	    "namespace", ns, "labels", "app.kubernetes.io/managed-by", "sotto",
	    "data", "status", st ? st : "{}", "inventory", inv ? inv : "[]");
	free(st);
	free(inv);
	json_object_set_new(json_object_get(doc, "metadata"), "name",
	    json_string(strrchr((char *)path.data, '/') + 1));
	body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (body == NULL || kpath_query(&path, "fieldManager",
	    c->o->field_manager) != SOTTO_OK || kpath_query(&path, "force",
	    "true") != SOTTO_OK)
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	else
		rc = sotto_kube_request(c->k, &r, "PATCH", (char *)path.data,
		    "application/apply-patch+yaml", body, strlen(body), e);
	if (rc == SOTTO_OK && r.status >= 300)
		rc = sotto_kube_status_error(e, &r, "cannot write status");
	free(body);
	sotto_buf_release(&path);
	sotto_kube_resp_release(&r);
	return rc;
}

/*
 * Sets s.lastHandledReconcileAt, what `flux reconcile` waits for: the
 * object's requestedAt annotation, else kept from prev when the
 * annotation goes.  True when s then differs from prev (a write is due).
 */
bool
rc_status_changed(json_t *s, const json_t *obj, const json_t *prev)
{
	const char *req = kwatch_requested_at(obj);

	if (req == NULL)
		req = kjson_str(prev, "lastHandledReconcileAt");
	if (req != NULL)
		json_object_set_new(s, "lastHandledReconcileAt",
		    json_string(req));
	return !same_status(s, prev);
}

/*
 * Writes out as the status when it differs from *prev (the object's, or
 * what this reconcile wrote last), which then becomes it.
 */
static void
write_status(struct rctx *c, const json_t *ks, json_t **prev,
    const struct outcome *out, const json_t *inv)
{
	const char *ns = kjson_str(ks, "metadata.namespace");
	const char *name = kjson_str(ks, "metadata.name");
	json_int_t gen = json_integer_value(kjson_get(ks,
	    "metadata.generation"));
	struct sotto_error e = { SOTTO_OK, "" };
	json_t *s = build_status(out, gen ? gen : 1, inv, *prev);
	char key[KEY_MAX];

	if (s == NULL)
		return;
	snprintf(key, sizeof(key), "%s/%s", ns, name);
	pthread_mutex_lock(&c->a->keys_mu);
	kkeys_status(c->a->keys, key, s);
	pthread_mutex_unlock(&c->a->keys_mu);
	if (!rc_status_changed(s, ks, *prev) && !out->reconciling) {
		json_decref(s);
		return;
	}
	if (send_status(c, ns, name, s, &e) != SOTTO_OK)
		klog("error", key, out->attempted, "%s", e.msg);
	json_decref(*prev);
	*prev = s;
}

/* GETs path; *out is the object (new reference) on 200. */
sotto_err
rc_get_path(json_t **out, struct rctx *c, const char *path,
    struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	sotto_err rc;

	*out = NULL;
	rc = sotto_kube_request(c->k, &r, "GET", path, NULL, NULL, 0, e);
	if (rc == SOTTO_OK && r.status != 200)
		rc = sotto_kube_status_error(e, &r, path);
	else if (rc == SOTTO_OK && (*out = json_loadb((char *)r.body.data,
	    r.body.len, 0, NULL)) == NULL)
		rc = sotto_error_set(e, SOTTO_E_KUBE_API, "%s: not JSON", path);
	sotto_kube_resp_release(&r);
	return rc;
}

sotto_err
rc_get_object(json_t **out, struct rctx *c, const struct kref *ref,
    struct sotto_error *e)
{
	struct sotto_buf path = SOTTO_BUF_INIT;
	sotto_err rc;

	*out = NULL;
	if ((rc = kpath_build(&path, ref, e)) == SOTTO_OK)
		rc = rc_get_path(out, c, (char *)path.data, e);
	sotto_buf_release(&path);
	return rc;
}

/* ---- what the agent accepts (issue #14) --------------------------------- */

static void
stall(struct outcome *out, const char *reason, const struct sotto_error *e)
{
	out->ready = "False";
	out->reason = reason;
	out->stalled = true;
	snprintf(out->msg, sizeof(out->msg), "%s", e->msg);
}

/* metadata.namespace/name of a Flux object: they go into paths. */
sotto_err
flux_check_meta(const json_t *o, struct sotto_error *e)
{
	sotto_err rc = kname_check("metadata.namespace", kjson_str(o,
	    "metadata.namespace"), KN_LABEL, e);

	return rc != SOTTO_OK ? rc : kname_check("metadata.name", kjson_str(o,
	    "metadata.name"), KN_SUBDOMAIN, e);
}

/*
 * Everything of a Kustomization the agent must refuse before it reads or
 * applies anything: unsupported or unknown fields, names that would reach
 * a request path or header, a source that is not a GitRepository, another
 * provider than sops, and (with --no-cross-namespace-refs) a source in
 * another namespace, with Flux's AccessDenied text.  False: out holds the
 * Stalled outcome.
 */
static bool
check_ks(struct rctx *c, const json_t *ks, const char *ns,
    struct outcome *out)
{
	struct sotto_error e = { SOTTO_OK, "" };
	const char *reason = NULL, *v;
	const char *sns = kjson_str(ks, "spec.sourceRef.namespace");
	const char *sname = kjson_str(ks, "spec.sourceRef.name");
	char q[96];

	if (kfields_check("Kustomization", ks, &reason, &e) != SOTTO_OK) {
		stall(out, reason, &e);
		return false;
	}
	v = kjson_str(ks, "spec.sourceRef.kind");
	if (v == NULL || strcmp(v, "GitRepository") != 0) {
		kquote(q, sizeof(q), v);
		sotto_error_set(&e, SOTTO_E_CONFIG, "spec.sourceRef.kind '%s' "
		    "is not supported by sotto: only GitRepository", q);
		stall(out, "UnsupportedField", &e);
		return false;
	}
	v = kjson_str(ks, "spec.sourceRef.apiVersion");
	if (v != NULL && strncmp(v, GR_GROUP "/", strlen(GR_GROUP) + 1) != 0) {
		kquote(q, sizeof(q), v);
		sotto_error_set(&e, SOTTO_E_CONFIG, "spec.sourceRef.apiVersion "
		    "'%s' is not supported by sotto: want " GR_GROUP "/v1", q);
		stall(out, "UnsupportedField", &e);
		return false;
	}
	if (sname == NULL) {
		sotto_error_set(&e, SOTTO_E_CONFIG, "spec.sourceRef.name is "
		    "required");
		stall(out, "InvalidSpec", &e);
		return false;
	}
	v = kjson_str(ks, "spec.decryption.provider");
	if (kjson_get(ks, "spec.decryption") != NULL && (v == NULL ||
	    strcmp(v, "sops") != 0)) {
		kquote(q, sizeof(q), v);
		sotto_error_set(&e, SOTTO_E_CONFIG, "spec.decryption.provider "
		    "'%s' is not supported (only 'sops')", q);
		stall(out, "UnsupportedField", &e);
		return false;
	}
	if (c->o->no_cross_ns_refs && sns != NULL && strcmp(sns, ns) != 0) {
		/* Flux's text (kustomize-controller, acl.AccessDeniedError) */
		sotto_error_set(&e, SOTTO_E_CONFIG, "can't access "
		    "'GitRepository/%s/%s', cross-namespace references have "
		    "been blocked", sns, sname);
		stall(out, "AccessDenied", &e);
		return false;
	}
	return true;
}

/* ---- one Kustomization -------------------------------------------------- */

static void
fail(struct outcome *out, const char *reason, const struct sotto_error *e)
{
	out->ready = "False";
	out->reason = reason;
	snprintf(out->msg, sizeof(out->msg), "%s", e->msg);
}

/*
 * The status to start from: the object's in cluster mode, the
 * sotto-inventory-<name> ConfigMap's in local mode (none yet: an empty
 * object).  *prev is a new reference.
 */
static sotto_err
load_prev(json_t **prev, struct rctx *c, const json_t *ks,
    struct sotto_error *e)
{
	struct sotto_buf path = SOTTO_BUF_INIT;
	json_t *cm = NULL;
	const char *st, *inv;

	*prev = NULL;
	if (c->o->config_file == NULL) {
		*prev = json_is_object(kjson_get(ks, "status")) ?
		    json_deep_copy(kjson_get(ks, "status")) : json_object();
		return *prev ? SOTTO_OK : sotto_error_set(e, SOTTO_E_NOMEM,
		    "out of memory");
	}
	if (local_cm_path(&path, kjson_str(ks, "metadata.namespace"),
	    kjson_str(ks, "metadata.name"), e) != SOTTO_OK)
		return e->code;
	if (rc_get_path(&cm, c, (char *)path.data, e) == SOTTO_OK) {
		st = kjson_str(cm, "data.status");
		inv = kjson_str(cm, "data.inventory");
		*prev = st ? json_loads(st, 0, NULL) : NULL;
		if (json_is_object(*prev) && inv != NULL)
			json_object_set_new(*prev, "inventory", json_pack(
			    "{s:o*}", "entries", json_loads(inv, 0, NULL)));
	} else if (e->code == SOTTO_E_KUBE_NOTFOUND) {
		sotto_error_clear(e);
	}
	json_decref(cm);
	sotto_buf_release(&path);
	if (e->code != SOTTO_OK)
		return e->code;
	if (!json_is_object(*prev)) {
		json_decref(*prev);
		*prev = json_object();
	}
	return *prev ? SOTTO_OK : sotto_error_set(e, SOTTO_E_NOMEM, "out of "
	    "memory");
}

struct run {
	struct kgit_result src;		/* the artifact's workdir, revision */
	struct sotto_age_idlist ids;
	struct sotto_pgp_keys *pgp;	/* `*.asc` entries of the Secret */
	struct sotto_buf rendered;
	struct kset set;
};

static sotto_err
build(struct rctx *c, struct run *r, const json_t *ks, const char *ns,
    struct kapply_opts *ao, struct outcome *out, struct sotto_error *e)
{
	struct ksrender_opts ko;
	const char *path = kjson_str(ks, "spec.path");
	const char *sec = kjson_str(ks, "spec.decryption.secretRef.name");
	char dir[8192];

	(void)out;
	/* the Kustomization's own namespace only (check_ks: a name) */
	if (sec != NULL && r->pgp == NULL &&
	    (r->pgp = sotto_pgp_keys_new()) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if (sec != NULL && sotto_kube_secret_identities(&r->ids, r->pgp, c->k,
	    ns, sec, NULL, e) != SOTTO_OK)
		return e->code;
	while (path != NULL && (path[0] == '.' && path[1] == '/'))
		path += 2;
	snprintf(dir, sizeof(dir), "%s/%s", r->src.workdir, path ? path : "");
	if (!sotto_io_exists(dir))
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "kustomization "
		    "path not found: %s", path ? path : "");
	memset(&ko, 0, sizeof(ko));
	ko.ks = ks;
	ko.root = r->src.workdir;
	ko.dir = dir;
	ko.k = c->k;
	ko.ids = r->ids.v;
	ko.nids = r->ids.n;
	ko.pgp = r->pgp;
	ko.key_sources = sec ? "the decryption Secret" : "no decryption "
	    "Secret (spec.decryption.secretRef)";
	ko.strict = !c->o->lax_substitutions;
	ko.no_remote_bases = c->o->no_remote_bases;
	ko.cache_dir = c->o->cache_dir;
	ko.allow_http = c->o->allow_http_sources;
	ko.allow_file = c->o->allow_file_sources;
	ko.timeout = ks_timeout(ks);
	if (ks_render(&r->rendered, &ko, e) != SOTTO_OK)
		return e->code;
	sotto_age_idlist_free(&r->ids);	/* keys live no longer than needed */
	sotto_pgp_keys_free(r->pgp);
	r->pgp = NULL;
	if (kset_build(&r->set, &r->rendered, &c->disc, c->k, ao, e) ==
	    SOTTO_E_KUBE_NOTFOUND) {
		kset_free(&r->set);
		if (kdisc_load(&c->disc, c->k, e) != SOTTO_OK)
			return e->code;
		sotto_error_clear(e);
		kset_build(&r->set, &r->rendered, &c->disc, c->k, ao, e);
	}
	sotto_buf_release(&r->rendered);
	return e->code;
}

static void
apply_opts(struct kapply_opts *ao, struct rctx *c, const json_t *ks,
    const char *ns, const char *name, const char *rev)
{
	memset(ao, 0, sizeof(*ao));
	ao->field_manager = c->o->field_manager;
	ao->ks_name = name;
	ao->ks_ns = ns;
	ao->revision = rev;
	ao->target_ns = kjson_str(ks, "spec.targetNamespace");
	ao->common = kjson_get(ks, "spec.commonMetadata");
	ao->force = json_is_true(kjson_get(ks, "spec.force"));
	ao->poll = c->o->poll_seconds;
	ao->stop = c->o->stop;
}

/*
 * Who the apply runs as: spec.serviceAccountName, else
 * --default-service-account, in the Kustomization's namespace (Flux's
 * WithServiceAccount); else the agent itself.  Both names were checked
 * (a DNS-1123 subdomain), and the client refuses control bytes again.
 */
static sotto_err
impersonate(struct rctx *c, const json_t *ks, const char *ns,
    struct sotto_error *e)
{
	const char *sa = kjson_str(ks, "spec.serviceAccountName");
	char user[600];

	if (sa == NULL || sa[0] == '\0')
		sa = c->o->default_sa;
	if (sa == NULL)
		return sotto_kube_set_impersonation(c->k, NULL);
	if (kname_check("spec.serviceAccountName", sa, KN_SUBDOMAIN, e) !=
	    SOTTO_OK || kname_check("metadata.namespace", ns, KN_LABEL, e) !=
	    SOTTO_OK)
		return e->code;
	snprintf(user, sizeof(user), "system:serviceaccount:%s:%s", ns, sa);
	if (sotto_kube_set_impersonation(c->k, user) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_CONFIG, "cannot impersonate "
		    "'%s'", user);
	return SOTTO_OK;
}

/*
 * spec.timeout, else Flux's default (GetTimeout in kustomize-controller's
 * api/v1): the interval less 30 s, and never under 30 s.  An explicit
 * timeout is kept as given (DIVERGES: Flux raises it to 30 s too; here a
 * tenant's bound is the tenant's).
 */
double
ks_timeout(const json_t *ks)
{
	double t = kduration(kjson_str(ks, "spec.timeout"));

	if (t > 0)
		return t;
	t = kduration(kjson_str(ks, "spec.interval"));
	if (t <= 0)
		t = 600;
	return t - 30 < 30 ? 30 : t - 30;
}

/* apply -> prune -> wait; sets out on failure. */
static sotto_err
deploy(struct rctx *c, struct run *r, const json_t *old_inv, const json_t *ks,
    const struct kapply_opts *ao, json_t **inv, struct outcome *out,
    struct sotto_error *e)
{
	json_t *keep = json_array();
	double timeout = ks_timeout(ks);

	/* fail closed: never apply as the agent when asked not to */
	if (impersonate(c, ks, ao->ks_ns, e) != SOTTO_OK) {
		fail(out, "ReconciliationFailed", e);
		goto out;
	}
	if (kset_apply(&r->set, c->k, &c->disc, ao, e) != SOTTO_OK) {
		if (e->code != SOTTO_E_INTERRUPTED)
			fail(out, "ReconciliationFailed", e);
		goto out;
	}
	*inv = kset_inventory(&r->set);
	if (json_is_true(kjson_get(ks, "spec.prune")) && kprune(keep,
	    old_inv, *inv, c->k, &c->disc, ao, NULL, e) != SOTTO_OK)
		fail(out, "PruneFailed", e);
	if (json_array_size(keep) > 0) {
		json_array_extend(*inv, keep);
	}
	if (e->code == SOTTO_OK && json_is_true(kjson_get(ks, "spec.wait")) &&
	    kset_wait(&r->set, c->k, ao, timeout, e) !=
	    SOTTO_OK)
		fail(out, "HealthCheckFailed", e);
	else if (e->code == SOTTO_OK && !json_is_true(kjson_get(ks,
	    "spec.wait")) && json_array_size(kjson_get(ks,
	    "spec.healthChecks")) > 0) {
		struct kset hc;

		/* spec §2: without wait, only the listed objects */
		if (kset_from_refs(&hc, kjson_get(ks, "spec.healthChecks"),
		    &c->disc, ao, ao->ks_ns, e) != SOTTO_OK ||
		    kset_wait(&hc, c->k, ao, timeout, e) != SOTTO_OK)
			fail(out, "HealthCheckFailed", e);
		kset_free(&hc);
	}
out:
	sotto_kube_set_impersonation(c->k, NULL);
	json_decref(keep);
	return e->code;
}

static void
log_changes(const struct kset *s, const char *key, const char *rev)
{
	size_t i, n[6] = { 0 };

	for (i = 0; i < s->n; i++)
		n[s->v[i].action]++;
	klog("info", key, rev, "server-side apply completed: %zu created, %zu "
	    "configured, %zu unchanged, %zu skipped", n[KA_CREATED],
	    n[KA_CONFIGURED], n[KA_UNCHANGED], n[KA_SKIPPED]);
}

/* An Event on the Kustomization (cluster mode; best effort). */
static void
event(struct rctx *c, struct job *j, const char *type, const char *reason,
    const char *msg, const char *rev)
{
	struct kevent ev;

	if (c->o->config_file != NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.obj = j->obj;
	ev.component = "sotto";
	ev.instance = c->host;
	ev.group = KS_GROUP;
	ev.type = type;
	ev.reason = reason;
	ev.message = msg;
	ev.revision = rev != NULL && rev[0] != '\0' ? rev : NULL;
	kevent_record(c->k, &j->ks->events, &ev);
}

/*
 * Events, as kustomize-controller records them (cluster mode only: a local
 * config has no Kustomization object to attach them to): the change set
 * (reason Progressing), then the outcome with the Ready reason, Warning
 * on failure.  Texts are those of the condition, already free of values.
 */
static void
record_events(struct rctx *c, struct job *j, const struct outcome *out,
    const struct sotto_buf *changes)
{
	char msg[MSG_MAX + 128], every[64];
	double iv = c->o->interval_override;

	if (changes->len > 0) {
		snprintf(msg, sizeof(msg), "%.*s", (int)(changes->len - 1),
		    (const char *)changes->data);
		event(c, j, "Normal", "Progressing", msg, out->attempted);
	}
	if (strcmp(out->ready, "True") == 0) {
		/* Flux's text without the duration, so repeats aggregate */
		if (iv <= 0)
			iv = kduration(kjson_str(j->obj, "spec.interval"));
		kduration_fmt(every, sizeof(every), iv > 0 ? iv : 600);
		snprintf(msg, sizeof(msg), "Reconciliation finished revision "
		    "%s, next run in %s", out->applied, every);
		event(c, j, "Normal", out->reason, msg, out->applied);
	} else if (strcmp(out->reason, "DependencyNotReady") == 0) {
		/* no fault: Flux's info text, which names the requeue */
		kduration_fmt(every, sizeof(every), DEP_REQUEUE);
		snprintf(msg, sizeof(msg), "Dependencies do not meet ready "
		    "condition, retrying in %s", every);
		event(c, j, "Normal", out->reason, msg, out->attempted);
	} else {
		event(c, j, "Warning", out->reason, out->msg, out->attempted);
	}
}

/*
 * A suspended Kustomization is not reconciled even when requested (as in
 * Flux, whose finalizeStatus still records the request): only
 * status.lastHandledReconcileAt moves.
 */
static void
suspended_request(struct rctx *c, const json_t *ks, json_t *prev)
{
	const char *req = kwatch_requested_at(ks);
	const char *had = kjson_str(prev, "lastHandledReconcileAt");
	struct sotto_error e = { SOTTO_OK, "" };
	json_t *s;

	/* local mode keeps status and inventory in one ConfigMap that a
	 * partial write would clobber; nobody annotates a local file */
	if (c->o->config_file != NULL || req == NULL || (had != NULL &&
	    strcmp(had, req) == 0))
		return;
	if ((s = json_pack("{s:s}", "lastHandledReconcileAt", req)) == NULL)
		return;
	if (send_status(c, kjson_str(ks, "metadata.namespace"),
	    kjson_str(ks, "metadata.name"), s, &e) != SOTTO_OK)
		klog("error", NULL, NULL, "%s", e.msg);
	json_decref(s);
}

/* Ready=True in the status s (for the generation it observed)? */
static bool
status_ready(const json_t *s)
{
	json_t *cd;
	size_t i;

	json_array_foreach(kjson_get(s, "conditions"), i, cd)
		if (kjson_str(cd, "type") && strcmp(kjson_str(cd, "type"),
		    "Ready") == 0)
			return kjson_str(cd, "status") && strcmp(kjson_str(cd,
			    "status"), "True") == 0;
	return false;
}

/* ---- the finalizer and deletion ------------------------------------------ */

/* Does o's metadata.finalizers hold name? */
bool
kobj_has_finalizer(const json_t *o, const char *name)
{
	json_t *f;
	size_t i;

	json_array_foreach(kjson_get(o, "metadata.finalizers"), i, f)
		if (json_string_value(f) && strcmp(json_string_value(f), name)
		    == 0)
			return true;
	return false;
}

/*
 * Adds (add) or removes KS_FINALIZER (source-controller's finalizer has
 * the same name) on o, a group/plural object, with a merge patch of the
 * whole list, as Flux's patch helper sends it.
 */
sotto_err
kobj_set_finalizer(struct rctx *c, const json_t *o, const char *group,
    const char *plural, bool add, struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct kref ref = { group, "v1", plural, kjson_str(o,
	    "metadata.namespace"), kjson_str(o, "metadata.name"), NULL };
	struct sotto_buf path = SOTTO_BUF_INIT;
	json_t *list = json_array(), *f, *doc;
	char *body = NULL;
	size_t i;
	sotto_err rc;

	json_array_foreach(kjson_get(o, "metadata.finalizers"), i, f)
		if (!json_string_value(f) || strcmp(json_string_value(f),
		    KS_FINALIZER) != 0)
			json_array_append(list, f);
	if (add)
		json_array_append_new(list, json_string(KS_FINALIZER));
	doc = json_pack("{s:{s:o}}", "metadata", "finalizers",
	    json_array_size(list) > 0 ? list : (json_decref(list),
	    json_null()));
	if ((rc = kpath_build(&path, &ref, e)) != SOTTO_OK)
		goto out;
	if (doc == NULL || (body = json_dumps(doc, JSON_COMPACT)) == NULL ||
	    kpath_query(&path, "fieldManager", c->o->field_manager) !=
	    SOTTO_OK) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	rc = sotto_kube_request(c->k, &r, "PATCH", (char *)path.data,
	    "application/merge-patch+json", body, strlen(body), e);
	if (rc == SOTTO_OK && r.status >= 300 && !(r.status == 404 && !add))
		rc = sotto_kube_status_error(e, &r, add ? "cannot add the "
		    "finalizer" : "cannot remove the finalizer");
out:
	if (rc != SOTTO_OK)
		sotto_error_prefix(e, "finalizer '%s'", KS_FINALIZER);
	free(body);
	json_decref(doc);
	sotto_buf_release(&path);
	sotto_kube_resp_release(&r);
	return rc;
}

static sotto_err
set_finalizer(struct rctx *c, const json_t *ks, bool add,
    struct sotto_error *e)
{
	return kobj_set_finalizer(c, ks, KS_GROUP, "kustomizations", add, e);
}

/* kustomize-controller's finalizerShouldDeleteResources. */
static bool
should_delete(const json_t *ks, const char **policy)
{
	*policy = kjson_str(ks, "spec.deletionPolicy");
	if (*policy == NULL || (*policy)[0] == '\0')
		*policy = "MirrorPrune";
	if (json_is_true(kjson_get(ks, "spec.suspend")) ||
	    json_array_size(kjson_get(ks, "status.inventory.entries")) == 0)
		return false;
	if (strcmp(*policy, "MirrorPrune") == 0)
		return json_is_true(kjson_get(ks, "spec.prune"));
	return strcmp(*policy, "Delete") == 0 || strcmp(*policy,
	    "WaitForTermination") == 0;
}

/*
 * Flux's CanImpersonate: with a service account to impersonate (spec or
 * --default-service-account), it must exist.
 */
static bool
can_impersonate(struct rctx *c, const json_t *ks)
{
	const char *sa = kjson_str(ks, "spec.serviceAccountName");
	struct sotto_error e = { SOTTO_OK, "" };
	struct kref ref = { "", "v1", "serviceaccounts", kjson_str(ks,
	    "metadata.namespace"), NULL, NULL };
	json_t *o = NULL;
	bool ok;

	if (sa == NULL || sa[0] == '\0')
		sa = c->o->default_sa;
	if (sa == NULL)
		return true;
	ref.name = sa;
	ok = rc_get_object(&o, c, &ref, &e) == SOTTO_OK;
	json_decref(o);
	return ok;
}

/*
 * WaitForTermination: polls the deleted objects until they are gone or
 * timeout passes (Flux's WaitForSetTermination).  False on timeout.
 */
static bool
wait_gone(struct rctx *c, const json_t *deleted, double timeout)
{
	double end = now_s() + timeout;
	char ns[256], name[256], group[256], kind[256];
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	const struct kres *res;
	json_t *x;
	size_t i;

	json_array_foreach((json_t *)deleted, i, x) {
		struct sotto_buf path = SOTTO_BUF_INIT;

		if (!kube_inventory_split(kjson_str(x, "id"), ns, name, group,
		    kind) || (res = kdisc_find(&c->disc, group, kjson_str(x,
		    "v"), kind)) == NULL || kres_path(&path, res, ns[0] ? ns :
		    NULL, name) != SOTTO_OK) {
			sotto_buf_release(&path);
			continue;
		}
		for (;;) {
			sotto_error_clear(&e);
			if (sotto_kube_request(c->k, &r, "GET", (char *)
			    path.data, NULL, NULL, 0, &e) == SOTTO_OK &&
			    r.status == 404)
				break;
			if (now_s() + c->o->poll_seconds > end || (c->o->stop &&
			    *c->o->stop)) {
				sotto_buf_release(&path);
				sotto_kube_resp_release(&r);
				return false;
			}
			usleep((useconds_t)(c->o->poll_seconds * 1e6));
		}
		sotto_buf_release(&path);
	}
	sotto_kube_resp_release(&r);
	return true;
}

/*
 * kustomize-controller's finalize(): a Kustomization being deleted.  Its
 * inventory is deleted when spec.deletionPolicy says so (MirrorPrune: as
 * spec.prune; Delete; WaitForTermination, which also waits for the objects
 * to be gone within spec.timeout; Orphan: never), not when it is
 * suspended, with the owner labels and exclusions prune uses; then the
 * finalizer goes and the API server deletes the object.  A failed
 * deletion keeps the finalizer so the next run retries.
 */
static sotto_err
finalize(struct rctx *c, struct job *j)
{
	const json_t *ks = j->obj;
	const char *ns = kjson_str(ks, "metadata.namespace");
	const char *rev = kjson_str(ks, "status.lastAppliedRevision");
	const char *policy, *reason = "Progressing";
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf changes = SOTTO_BUF_INIT;
	struct kapply_opts ao;
	json_t *keep = json_array(), *deleted = json_array(), *none =
	    json_array(), *cd;
	size_t i;

	json_array_foreach(kjson_get(ks, "status.conditions"), i, cd)
		if (kjson_str(cd, "type") && strcmp(kjson_str(cd, "type"),
		    "Ready") == 0 && kjson_str(cd, "reason"))
			reason = kjson_str(cd, "reason");
	if (!should_delete(ks, &policy)) {
		klog("info", j->key, rev, "being deleted: objects kept "
		    "(deletionPolicy %s%s)", policy, json_is_true(kjson_get(ks,
		    "spec.suspend")) ? ", suspended" : "");
	} else if (!can_impersonate(c, ks)) {
		/* Flux: the account is gone, the objects are left, the
		 * finalizer goes */
		klog("error", j->key, rev, "skipping pruning, failed to find "
		    "account to impersonate");
		event(c, j, "Warning", reason, "unable to prune objects: the "
		    "service account to impersonate is gone", rev);
	} else {
		apply_opts(&ao, c, ks, ns, kjson_str(ks, "metadata.name"), rev);
		ao.changes = &changes;
		if (c->disc.n == 0 && kdisc_load(&c->disc, c->k, &e) != SOTTO_OK)
			goto failed;
		if (impersonate(c, ks, ns, &e) != SOTTO_OK || kprune(keep,
		    kjson_get(ks, "status.inventory.entries"), none, c->k,
		    &c->disc, &ao, deleted, &e) != SOTTO_OK) {
			sotto_kube_set_impersonation(c->k, NULL);
			goto failed;
		}
		if (changes.len > 0) {
			changes.data[changes.len - 1] = '\0';
			event(c, j, "Normal", reason, (char *)changes.data, rev);
		}
		if (strcmp(policy, "WaitForTermination") == 0 &&
		    !wait_gone(c, deleted, ks_timeout(ks))) {
			klog("error", j->key, rev, "failed to wait for resources "
			    "termination");
			event(c, j, "Warning", reason, "failed to wait for "
			    "resources termination", rev);
		}
		sotto_kube_set_impersonation(c->k, NULL);
	}
	if (set_finalizer(c, ks, false, &e) != SOTTO_OK)
		goto failed;
	klog("info", j->key, rev, "finalizer %s removed", KS_FINALIZER);
	j->gone = true;
	goto out;
failed:
	klog("error", j->key, rev, "pruning for deleted resource failed: %s",
	    e.msg);
	event(c, j, "Warning", reason, "pruning for deleted resource failed",
	    rev);
out:
	sotto_buf_release(&changes);
	json_decref(keep);
	json_decref(deleted);
	json_decref(none);
	return e.code == SOTTO_OK ? SOTTO_OK : SOTTO_E_RECONCILE;
}

/* ---- one Kustomization -------------------------------------------------- */

/* Why the source cannot be applied, as the Kustomization reports it. */
static void
artifact_failed(struct outcome *out, const struct job *j)
{
	struct sotto_error e = { SOTTO_E_RECONCILE, "" };
	char src[KEY_MAX];

	ks_source_key(src, sizeof(src), j->obj);
	if (j->art.stalled)
		snprintf(e.msg, sizeof(e.msg), "GitRepository '%.200s': %.280s",
		    src, j->art.error);
	else
		snprintf(e.msg, sizeof(e.msg), "%s", j->art.error[0] ?
		    j->art.error : "source artifact not found");
	fail(out, "ArtifactFailed", &e);
}

static sotto_err
reconcile_ks(struct rctx *c, struct job *j)
{
	const json_t *ks = j->obj;
	const char *name = kjson_str(ks, "metadata.name");
	const char *ns = kjson_str(ks, "metadata.namespace");
	struct sotto_error e = { SOTTO_OK, "" };
	struct outcome out;
	struct kapply_opts ao;
	struct run r;
	json_t *inv = NULL, *prev = NULL, *old_inv = NULL;
	struct sotto_buf changes = SOTTO_BUF_INIT;
	char tbuf[64];

	memset(&out, 0, sizeof(out));
	memset(&r, 0, sizeof(r));
	r.rendered.secret = true;
	out.ready = "True";
	out.reason = "ReconciliationSucceeded";
	/* a name that cannot be a request path cannot even get a status */
	if (flux_check_meta(ks, &e) != SOTTO_OK) {
		klog("error", j->key, NULL, "Kustomization skipped: %s", e.msg);
		return SOTTO_E_RECONCILE;
	}
	if (c->o->config_file == NULL && kjson_str(ks,
	    "metadata.deletionTimestamp") != NULL) {
		if (!kobj_has_finalizer(ks, KS_FINALIZER))
			return SOTTO_OK;	/* not ours to hold */
		return finalize(c, j);
	}
	if (load_prev(&prev, c, ks, &e) != SOTTO_OK) {
		klog("error", j->key, NULL, "cannot read the status: %s",
		    e.msg);
		return SOTTO_E_RECONCILE;
	}
	old_inv = json_incref(kjson_get(prev, "inventory.entries"));
	if (old_inv == NULL)
		old_inv = json_array();
	snprintf(out.applied, sizeof(out.applied), "%s", kjson_str(prev,
	    "lastAppliedRevision") ? kjson_str(prev, "lastAppliedRevision") :
	    "");
	/* Flux adds its finalizer first, suspended or not */
	if (c->o->config_file == NULL && !kobj_has_finalizer(ks, KS_FINALIZER) &&
	    set_finalizer(c, ks, true, &e) != SOTTO_OK) {
		fail(&out, "ReconciliationFailed", &e);
		goto done;
	}
	if (json_is_true(kjson_get(ks, "spec.suspend"))) {
		klog("info", j->key, NULL, "reconciliation is suspended");
		j->ready = status_ready(prev);
		suspended_request(c, ks, prev);
		goto stopped;
	}
	if (!check_ks(c, ks, ns, &out))
		goto done;	/* Stalled: nothing read, nothing applied */
	if (j->dep_blocked[0] != '\0') {
		sotto_error_set(&e, SOTTO_E_RECONCILE, "%s", j->dep_blocked);
		fail(&out, "DependencyNotReady", &e);
		j->dep_wait = true;
		goto done;
	}
	if (!j->art.ok) {
		artifact_failed(&out, j);
		goto done;
	}
	snprintf(r.src.workdir, sizeof(r.src.workdir), "%s", j->art.workdir);
	snprintf(r.src.revision, sizeof(r.src.revision), "%s",
	    j->art.revision);
	/* every API request of this Kustomization is bounded by its
	 * spec.timeout; status writes below go back to the default */
	sotto_kube_set_timeout(c->k, ks_timeout(ks));
	snprintf(out.attempted, sizeof(out.attempted), "%s", r.src.revision);
	if (strcmp(out.applied, r.src.revision) != 0) {
		struct outcome start = out;

		start.ready = "Unknown";
		start.reason = "Progressing";
		start.reconciling = true;
		snprintf(start.msg, sizeof(start.msg), "Reconciliation in "
		    "progress");
		kduration_fmt(tbuf, sizeof(tbuf), ks_timeout(ks));
		/* Flux's text: it shows the timeout the reconcile runs with */
		snprintf(start.progress, sizeof(start.progress), "Fetching "
		    "manifests for revision %s with a timeout of %s",
		    r.src.revision, tbuf);
		write_status(c, ks, &prev, &start, old_inv);
	}
	apply_opts(&ao, c, ks, ns, name, r.src.revision);
	ao.changes = &changes;
	if (c->disc.n == 0 && kdisc_load(&c->disc, c->k, &e) != SOTTO_OK) {
		fail(&out, "ReconciliationFailed", &e);
		goto done;
	}
	if (build(c, &r, ks, ns, &ao, &out, &e) != SOTTO_OK) {
		/* like Flux: a missing spec.path is the artifact's fault */
		fail(&out, e.code == SOTTO_E_NOTFOUND && strncmp(e.msg,
		    "kustomization path not found", 28) == 0 ?
		    "ArtifactFailed" : "BuildFailed", &e);
		goto done;
	}
	if (deploy(c, &r, old_inv, ks, &ao, &inv, &out, &e) != SOTTO_OK) {
		if (e.code == SOTTO_E_INTERRUPTED)
			goto stopped;
		if (strcmp(out.ready, "True") == 0)	/* never Ready on error */
			fail(&out, "ReconciliationFailed", &e);
		goto done;
	}
	log_changes(&r.set, j->key, r.src.revision);
	kkeys_note(c->a->keys, &c->a->keys_mu, ks, r.src.workdir,
	    r.src.revision);
	snprintf(out.applied, sizeof(out.applied), "%s", r.src.revision);
	snprintf(out.msg, sizeof(out.msg), "Applied revision: %s",
	    r.src.revision);
done:
	sotto_kube_set_timeout(c->k, 0);
	j->ready = strcmp(out.ready, "True") == 0;
	if (!j->ready)
		klog("error", j->key, out.attempted, "%s: %s", out.reason,
		    out.msg);
	else
		klog("info", j->key, out.applied, "%s", out.msg);
	/* applied (even when prune or health then failed): the new
	 * inventory, else the old one */
	write_status(c, ks, &prev, &out, inv != NULL ? inv : old_inv);
	record_events(c, j, &out, &changes);
stopped:
	if (out.applied[0] != '\0')
		j->revision = strdup(out.applied);
	sotto_buf_release(&changes);
	sotto_kube_set_timeout(c->k, 0);
	json_decref(inv);
	json_decref(old_inv);
	json_decref(prev);
	kset_free(&r.set);
	sotto_age_idlist_free(&r.ids);
	sotto_pgp_keys_free(r.pgp);
	sotto_buf_release(&r.rendered);
	if (e.code == SOTTO_E_INTERRUPTED) {
		klog("info", j->key, out.attempted, "stopped after the current "
		    "object");
		return SOTTO_E_INTERRUPTED;
	}
	return j->ready ? SOTTO_OK : SOTTO_E_RECONCILE;
}

/* The Kustomization j names, fresh from the API (cluster mode). */
static sotto_err
load_ks(struct rctx *c, struct job *j, struct sotto_error *e)
{
	char ns[KEY_MAX], *name;
	struct kref ref = { KS_GROUP, "v1", "kustomizations", NULL, NULL,
	    NULL };

	snprintf(ns, sizeof(ns), "%s", j->key);
	if ((name = strchr(ns, '/')) == NULL)
		return sotto_error_set(e, SOTTO_E_KUBE_NOTFOUND, "no name");
	*name++ = '\0';
	ref.ns = ns;
	ref.name = name;
	return rc_get_object(&j->obj, c, &ref, e);
}

void
ks_run(struct rctx *c, struct job *j)
{
	struct sotto_error e = { SOTTO_OK, "" };

	j->started = now_s();
	j->rc = SOTTO_OK;
	if (j->obj == NULL && load_ks(c, j, &e) != SOTTO_OK) {
		j->gone = e.code == SOTTO_E_KUBE_NOTFOUND;
		if (!j->gone) {
			klog("error", j->key, NULL, "%s", e.msg);
			j->rc = SOTTO_E_RECONCILE;
		}
	} else {
		j->rc = reconcile_ks(c, j);
	}
	j->seconds = now_s() - j->started;
}

void
ks_source_key(char *out, size_t cap, const json_t *ks)
{
	const char *kind = kjson_str(ks, "spec.sourceRef.kind");
	const char *name = kjson_str(ks, "spec.sourceRef.name");
	const char *ns = kjson_str(ks, "spec.sourceRef.namespace");

	if (ns == NULL)
		ns = kjson_str(ks, "metadata.namespace");
	if (kind == NULL || strcmp(kind, "GitRepository") != 0 || name ==
	    NULL || ns == NULL)
		snprintf(out, cap, "%s", "");
	else
		snprintf(out, cap, "%s/%s", ns, name);
}
