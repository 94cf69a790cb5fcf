/* SPDX-License-Identifier: ISC */
/*
 * Read-only views on the controller's work: `sotto tree ks` (the
 * inventory the controller writes into status.inventory, as `flux tree`
 * prints it), `sotto logs` (the controller Pod's JSON log lines, read
 * through pods/log and filtered as `flux logs` does) and the --watch of
 * `get` and `events` (a watch on the collection; a row is printed when it
 * is new or changed).  Paths go through kpath.c.
 */
#include "kube/kint.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kube/ops.h"
#include "sotto/kubeops2.h"

/* ---- tree --------------------------------------------------------------- */

#define TREE_DEPTH 32	/* nested Kustomizations followed at most */

/* "Kind/ns/name" or "Kind/name" of an inventory id, escaped. */
static void
entry_text(char *out, size_t cap, const char *id, char *ns, char *name,
    char *group, char *kind)
{
	char a[300], b[300], c[80];

	if (!kube_inventory_split(id, ns, name, group, kind)) {
		kops_shown(out, cap, id, 600);
		ns[0] = name[0] = group[0] = kind[0] = '\0';
		return;
	}
	kops_shown(c, sizeof(c), kind, 63);
	kops_shown(a, sizeof(a), ns, 63);
	kops_shown(b, sizeof(b), name, 253);
	snprintf(out, cap, "%s/%s%s%s", c, a, ns[0] ? "/" : "", b);
}

/* prefix: the "│   " / "    " columns of the levels above */
static sotto_err
tree_items(struct oconn *c, FILE *f, const json_t *ks, char *prefix,
    size_t plen, int depth, struct sotto_error *e)
{
	const struct okind *ok = kops_kind(SOTTO_OPS_KS);
	const json_t *entries = kjson_get(ks, "status.inventory.entries"), *en;
	const char *kns = kjson_str(ks, "metadata.namespace");
	const char *kname = kjson_str(ks, "metadata.name");
	char ns[256], name[256], group[256], kind[256], text[800];
	const json_t **v = NULL;
	size_t i, n = 0, last;
	sotto_err rc = SOTTO_OK;

	if ((v = calloc(json_array_size(entries) + 1, sizeof(*v))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	/* itself (a Kustomization may list itself) is not a child */
	json_array_foreach(entries, i, en) {
		if (kjson_str(en, "id") == NULL)
			continue;
		if (kube_inventory_split(kjson_str(en, "id"), ns, name, group,
		    kind) && strcmp(group, ok->group) == 0 && strcmp(kind,
		    ok->kind) == 0 && kns != NULL && kname != NULL &&
		    strcmp(ns, kns) == 0 && strcmp(name, kname) == 0)
			continue;
		v[n++] = en;
	}
	for (i = 0; i < n && rc == SOTTO_OK; i++) {
		last = i + 1 == n;
		entry_text(text, sizeof(text), kjson_str(v[i], "id"), ns, name,
		    group, kind);
		fprintf(f, "%.*s%s%s\n", (int)plen, prefix, last ?
		    "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x80 " :
		    "\xe2\x94\x9c\xe2\x94\x80\xe2\x94\x80 ", text);
		if (strcmp(group, ok->group) != 0 || strcmp(kind, ok->kind) !=
		    0 || depth >= TREE_DEPTH || ns[0] == '\0')
			continue;
		{
			struct kref ref = { ok->group, "v1", ok->plural, ns,
				name, NULL };
			json_t *child = NULL;
			size_t add = last ? 4 : 6;

			rc = kops_req(c, &child, "GET", &ref, NULL, NULL, NULL,
			    "failed to find object", e);
			if (rc == SOTTO_OK) {
				memcpy(prefix + plen, last ? "    " :
				    "\xe2\x94\x82   ", add);
				rc = tree_items(c, f, child, prefix, plen + add,
				    depth + 1, e);
			}
			json_decref(child);
		}
	}
	free(v);
	return rc;
}

sotto_err
sotto_ops_tree(const struct sotto_ops *o, const char *name,
    struct sotto_error *e)
{
	const struct okind *ok = kops_kind(SOTTO_OPS_KS);
	char prefix[TREE_DEPTH * 6 + 8], shown[300], what[400];
	struct oconn c;
	json_t *ks = NULL;
	sotto_err rc;

	if (kname_check("name", name, KN_SUBDOMAIN, e) != SOTTO_OK)
		return e->code = SOTTO_E_USAGE;
	if ((rc = kops_open(&c, o, e)) != SOTTO_OK)
		return rc;
	{
		struct kref ref = { ok->group, "v1", ok->plural, c.ns, name,
			NULL };

		snprintf(what, sizeof(what), "cannot get Kustomization "
		    "'%s/%s'", c.ns, name);
		rc = kops_req(&c, &ks, "GET", &ref, NULL, NULL, NULL, what, e);
	}
	if (rc == SOTTO_E_KUBE_NOTFOUND)
		rc = sotto_error_set(e, rc, "Kustomization '%s/%s' not found",
		    c.ns, name);
	if (rc == SOTTO_OK) {
		kops_shown(shown, sizeof(shown), name, 253);
		fprintf(o->out, "Kustomization/%s/%s\n", c.ns, shown);
		rc = tree_items(&c, o->out, ks, prefix, 0, 1, e);
	}
	json_decref(ks);
	kops_close(&c);
	return rc;
}

/* ---- logs --------------------------------------------------------------- */

struct logf {
	const struct sotto_ops *o;
	const struct sotto_opsx *x;
	const char *obj_ns;	/* -n: only lines about objects there */
};

/*
 * The object a line of sotto's log is about: "kustomization": "ns/name"
 * (reconcile.c), or a message "GitRepository ns/name..." (source.c,
 * watch.c); Flux's own fields ("controllerKind", "name", "namespace")
 * where a line has them.
 */
static void
log_object(const json_t *l, char *kind, char *ns, char *name, size_t cap)
{
	const char *ks = kjson_str(l, "kustomization");
	const char *m = kjson_str(l, "msg"), *sl, *end;
	static const char gr[] = "GitRepository ";

	kind[0] = ns[0] = name[0] = '\0';
	if (ks != NULL && (sl = strchr(ks, '/')) != NULL) {
		snprintf(kind, cap, "Kustomization");
		snprintf(ns, cap, "%.*s", (int)(sl - ks), ks);
		snprintf(name, cap, "%s", sl + 1);
	} else if (m != NULL && strncmp(m, gr, sizeof(gr) - 1) == 0 &&
	    (sl = strchr(m + sizeof(gr) - 1, '/')) != NULL) {
		m += sizeof(gr) - 1;
		end = sl + 1 + strcspn(sl + 1, ": ");
		snprintf(kind, cap, "GitRepository");
		snprintf(ns, cap, "%.*s", (int)(sl - m), m);
		snprintf(name, cap, "%.*s", (int)(end - sl - 1), sl + 1);
	} else if (kjson_str(l, "controllerKind") != NULL) {
		snprintf(kind, cap, "%s", kjson_str(l, "controllerKind"));
		snprintf(ns, cap, "%s", kjson_str(l, "namespace") ?
		    kjson_str(l, "namespace") : "");
		snprintf(name, cap, "%s", kjson_str(l, "name") ?
		    kjson_str(l, "name") : "");
	}
}

/* flux's "{ts} {level} {Kind}/{name}.{ns} - {msg} {error}", filtered */
static bool
log_line(void *arg, char *s, size_t len)
{
	struct logf *lf = arg;
	const struct sotto_opsx *x = lf->x;
	char kind[128], ns[128], name[300], buf[4][1100];
	const char *lv, *er;
	json_t *l;

	if (len == 0 || s[0] != '{' || (l = json_loadb(s, len, 0, NULL)) ==
	    NULL)
		return true;
	lv = kjson_str(l, "level");
	log_object(l, kind, ns, name, sizeof(name) < sizeof(kind) ?
	    sizeof(name) : sizeof(kind));
	if ((x->level != NULL && (lv == NULL || strcmp(lv, x->level) != 0)) ||
	    (x->kind != NULL && strcasecmp(x->kind, kind) != 0) ||
	    (x->name != NULL && strcasecmp(x->name, name) != 0) ||
	    (lf->obj_ns != NULL && strcmp(lf->obj_ns, ns) != 0)) {
		json_decref(l);
		return true;
	}
	kops_shown(buf[0], sizeof(buf[0]), kjson_str(l, "ts"), 64);
	kops_shown(buf[1], sizeof(buf[1]), lv, 16);
	kops_shown(buf[2], sizeof(buf[2]), kjson_str(l, "msg"), 1000);
	er = kjson_str(l, "error");
	kops_shown(buf[3], sizeof(buf[3]), er, 1000);
	fprintf(lf->o->out, "%s %s ", buf[0], buf[1]);
	if (kind[0] != '\0') {
		char k2[300], n2[600], s2[300];

		kops_shown(k2, sizeof(k2), kind, 63);
		kops_shown(n2, sizeof(n2), name, 253);
		kops_shown(s2, sizeof(s2), ns, 63);
		fprintf(lf->o->out, "%s/%s.%s ", k2, n2, s2);
	}
	fprintf(lf->o->out, "- %s%s%s\n", buf[2], er ? " " : "", er ? buf[3] :
	    "");
	fflush(lf->o->out);
	json_decref(l);
	return true;
}

/* The Pod to read: the Lease holder if it is one, else a Running one. */
static sotto_err
pick_pod(struct oconn *c, const char *ns, char *pod, size_t cap,
    struct sotto_error *e)
{
	struct kref dref = { "apps", "v1", "deployments", NULL,
		"sotto-reconcile", NULL };
	struct kref pref = { "", "v1", "pods", NULL, NULL, NULL };
	struct kref lref = { "coordination.k8s.io", "v1", "leases", NULL,
		"sotto-reconcile", NULL };
	struct sotto_buf q = SOTTO_BUF_INIT, sel = SOTTO_BUF_INIT;
	struct sotto_error le = { SOTTO_OK, "" };
	json_t *d = NULL, *pods = NULL, *lease = NULL;
	const json_t *it;
	const char *k, *holder, *best = NULL;
	const json_t *v;
	bool running = false;
	size_t i;
	sotto_err rc;

	dref.ns = pref.ns = lref.ns = ns;
	if ((rc = kops_req(c, &d, "GET", &dref, NULL, NULL, NULL, "cannot get "
	    "the controller's Deployment", e)) != SOTTO_OK) {
		if (rc == SOTTO_E_KUBE_NOTFOUND)
			sotto_error_set(e, rc, "no controller found: "
			    "Deployment '%s/sotto-reconcile' not found (run "
			    "'sotto install', or pass --flux-namespace)", ns);
		goto out;
	}
	json_object_foreach(kjson_get(d, "spec.selector.matchLabels"), k, v) {
		if (sel.len > 0)
			sotto_buf_addch(&sel, ',');
		sotto_buf_addf(&sel, "%s=%s", k, json_string_value(v) ?
		    json_string_value(v) : "");
	}
	if (sel.len > 0)
		kpath_query(&q, "labelSelector", (const char *)sel.data);
	if ((rc = kops_req(c, &pods, "GET", &pref, q.len ? (const char *)
	    q.data : NULL, NULL, NULL, "cannot list the controller's Pods",
	    e)) != SOTTO_OK)
		goto out;
	(void)kops_req(c, &lease, "GET", &lref, NULL, NULL, NULL, "lease",
	    &le);
	holder = kjson_str(lease, "spec.holderIdentity");
	json_array_foreach(json_object_get(pods, "items"), i, it) {
		const char *n = kjson_str(it, "metadata.name");
		const char *ph = kjson_str(it, "status.phase");

		if (n == NULL)
			continue;
		if (holder != NULL && strcmp(holder, n) == 0) {
			best = n;
			break;
		}
		if (ph != NULL && strcmp(ph, "Running") == 0 && !running) {
			best = n;
			running = true;
		} else if (best == NULL)
			best = n;
	}
	if (best == NULL)
		rc = sotto_error_set(e, SOTTO_E_KUBE_NOTFOUND, "no controller "
		    "Pods found in namespace '%s'", ns);
	else
		snprintf(pod, cap, "%s", best);
out:
	sotto_buf_release(&q);
	sotto_buf_release(&sel);
	json_decref(d);
	json_decref(pods);
	json_decref(lease);
	return rc;
}

/* The Pod's log at once: lines handed to log_line. */
static sotto_err
log_once(struct oconn *c, const char *path, struct logf *lf,
    struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	char *p, *nl, *end;
	sotto_err rc;

	if ((rc = sotto_kube_request(c->k, &r, "GET", path, NULL, NULL, 0,
	    e)) != SOTTO_OK)
		return rc;
	if (r.status != 200) {
		rc = sotto_kube_status_error(e, &r, "cannot read the "
		    "controller's log");
		goto out;
	}
	p = (char *)r.body.data;
	end = p + r.body.len;
	while (p != NULL && p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		log_line(lf, p, (size_t)(nl - p));
		p = nl + 1;
	}
out:
	sotto_kube_resp_release(&r);
	return rc;
}

/* Runs the transfer in slot 0 of s to its end: status and rest. */
static sotto_err
stream_to_end(struct kstreams *s, const char *what, struct sotto_error *e)
{
	const struct sotto_buf *rest;
	const char *err;
	long status;
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	sotto_err rc = SOTTO_OK;

	while (kstreams_running(s, 0))
		kstreams_run(s, 500);
	if (!kstreams_ended(s, 0, &status, &rest, &err))
		return SOTTO_OK;
	if (status == 0 && err[0] != '\0')
		return sotto_error_set(e, SOTTO_E_KUBE_TRANSPORT, "%s: %s",
		    what, err);
	if (status != 200 && status != 0) {
		r.status = status;
		if (sotto_buf_add(&r.body, rest->data, rest->len) == SOTTO_OK)
			rc = sotto_kube_status_error(e, &r, what);
		sotto_kube_resp_release(&r);
	}
	return rc;
}

sotto_err
sotto_ops_logs(const struct sotto_ops *o, const struct sotto_opsx *x,
    struct sotto_error *e)
{
	const char *ns = x->ctl_ns ? x->ctl_ns : "sotto-system";
	struct kref ref = { "", "v1", "pods", NULL, NULL, "log" };
	struct sotto_buf path = SOTTO_BUF_INIT;
	struct kstreams *s = NULL;
	struct logf lf = { o, x, NULL };
	char pod[254], tail[32];
	struct oconn c;
	sotto_err rc;

	if (kname_check("--flux-namespace", ns, KN_LABEL, e) != SOTTO_OK)
		return e->code = SOTTO_E_USAGE;
	if ((rc = kops_open(&c, o, e)) != SOTTO_OK)
		return rc;
	lf.obj_ns = o->all_ns || o->ns == NULL ? NULL : c.ns;
	if ((rc = pick_pod(&c, ns, pod, sizeof(pod), e)) != SOTTO_OK)
		goto out;
	ref.ns = ns;
	ref.name = pod;
	if ((rc = kpath_build(&path, &ref, e)) != SOTTO_OK)
		goto out;
	if (x->follow)
		kpath_query(&path, "follow", "true");
	if (x->tail >= 0) {
		snprintf(tail, sizeof(tail), "%ld", x->tail);
		kpath_query(&path, "tailLines", tail);
	}
	if (!x->follow) {
		rc = log_once(&c, (const char *)path.data, &lf, e);
		goto out;
	}
	if ((rc = kstreams_open(&s, c.k, e)) == SOTTO_OK &&
	    (rc = kstreams_start(s, 0, (const char *)path.data, 86400,
	    (size_t)1 << 20, log_line, &lf, e)) == SOTTO_OK)
		rc = stream_to_end(s, "cannot read the controller's log", e);
out:
	kstreams_close(s);
	sotto_buf_release(&path);
	kops_close(&c);
	return rc;
}

/* ---- get --watch, events --watch --------------------------------------- */

#define WCOLS 6

struct wstate {
	const struct sotto_ops *o;
	enum sotto_ops_kind kind;
	bool events;
	const char *name;		/* get NAME: only it */
	const char *for_kind, *for_name;	/* events --for */
	size_t base;			/* 1: cells[0] is the namespace */
	size_t ncol;
	bool header;			/* printed */
	json_t *seen;			/* uid -> the row last printed */
	struct sotto_error err;		/* an ERROR event */
};

/* the Ready condition's field f, or NULL */
static const char *
ready(const json_t *obj, const char *f)
{
	const json_t *cs = kjson_get(obj, "status.conditions"), *c;
	size_t i;

	json_array_foreach(cs, i, c)
		if (kjson_str(c, "type") != NULL && strcmp(kjson_str(c,
		    "type"), "Ready") == 0)
			return kjson_str(c, f);
	return NULL;
}

static void
row_of(struct wstate *w, const json_t *obj, char cells[WCOLS][600])
{
	size_t b = w->base;
	char k[80], n[300];

	kops_shown(cells[0], 600, kjson_str(obj, "metadata.namespace"), 63);
	if (w->events) {
		kops_shown(cells[b], 600, kjson_str(obj, "lastTimestamp") ?
		    kjson_str(obj, "lastTimestamp") : kjson_str(obj,
		    "eventTime"), 40);
		kops_shown(cells[b + 1], 600, kjson_str(obj, "type"), 40);
		kops_shown(cells[b + 2], 600, kjson_str(obj, "reason"), 80);
		kops_shown(k, sizeof(k), kjson_str(obj, "involvedObject.kind"),
		    40);
		kops_shown(n, sizeof(n), kjson_str(obj, "involvedObject.name"),
		    253);
		snprintf(cells[b + 3], 600, "%s/%s", k, n);
		kops_shown(cells[b + 4], 600, kjson_str(obj, "message"), 500);
		return;
	}
	kops_shown(cells[b], 600, kjson_str(obj, "metadata.name"), 253);
	kops_shown(cells[b + 1], 600, kjson_str(obj, w->kind == SOTTO_OPS_KS ?
	    "status.lastAppliedRevision" : "status.artifact.revision"), 200);
	snprintf(cells[b + 2], 600, "%s", json_is_true(kjson_get(obj,
	    "spec.suspend")) ? "True" : "False");
	if (ready(obj, "status") != NULL) {
		kops_shown(cells[b + 3], 600, ready(obj, "status"), 16);
		kops_shown(cells[b + 4], 600, ready(obj, "message"), 400);
	} else {
		snprintf(cells[b + 3], 600, "False");
		snprintf(cells[b + 4], 600, "waiting to be reconciled");
	}
}

static void
print_row(struct wstate *w, char cells[WCOLS][600])
{
	static const char *const gh[] = { "NAMESPACE", "NAME", "REVISION",
		"SUSPENDED", "READY", "MESSAGE" };
	static const char *const eh[] = { "NAMESPACE", "LAST SEEN", "TYPE",
		"REASON", "OBJECT", "MESSAGE" };
	const char *const *h = w->events ? eh : gh;
	size_t i, start = w->o->all_ns ? 0 : 1;

	if (!w->header) {
		for (i = start; i < WCOLS; i++)
			fprintf(w->o->out, i + 1 == WCOLS ? "%s\n" : "%s\t",
			    h[i]);
		w->header = true;
	}
	for (i = start; i < WCOLS; i++)
		fprintf(w->o->out, i + 1 == WCOLS ? "%s\n" : "%s\t", cells[i]);
	fflush(w->o->out);
}

static bool
watch_line(void *arg, char *s, size_t len)
{
	struct wstate *w = arg;
	char cells[WCOLS][600], joined[WCOLS * 601];
	const char *type, *uid, *n;
	const json_t *obj;
	json_t *ev;
	size_t i, o = 0;

	if ((ev = json_loadb(s, len, 0, NULL)) == NULL)
		return true;
	type = kjson_str(ev, "type");
	obj = json_object_get(ev, "object");
	if (type != NULL && strcmp(type, "ERROR") == 0) {
		char m[300];

		kops_shown(m, sizeof(m), kjson_str(obj, "message"), 250);
		sotto_error_set(&w->err, SOTTO_E_KUBE_API, "the watch failed: "
		    "%s", m);
		json_decref(ev);
		return false;
	}
	uid = kjson_str(obj, "metadata.uid");
	n = kjson_str(obj, w->events ? "involvedObject.name" :
	    "metadata.name");
	if (type == NULL || (strcmp(type, "ADDED") != 0 && strcmp(type,
	    "MODIFIED") != 0) || uid == NULL || n == NULL ||
	    (w->name != NULL && strcmp(n, w->name) != 0) ||
	    (w->for_name != NULL && (strcmp(n, w->for_name) != 0 ||
	    kjson_str(obj, "involvedObject.kind") == NULL || strcasecmp(
	    kjson_str(obj, "involvedObject.kind"), w->for_kind) != 0))) {
		json_decref(ev);
		return true;
	}
	memset(cells, 0, sizeof(cells));
	row_of(w, obj, cells);
	for (i = 0; i < WCOLS; i++)
		o += (size_t)snprintf(joined + o, sizeof(joined) - o, "%s\t",
		    cells[i]);
	if (kjson_str(w->seen, uid) == NULL || strcmp(kjson_str(w->seen,
	    uid), joined) != 0) {
		json_object_set_new(w->seen, uid, json_string(joined));
		print_row(w, cells);
	}
	json_decref(ev);
	return true;
}

sotto_err
sotto_ops_watch(const struct sotto_ops *o, enum sotto_ops_kind kind,
    bool events, const char *name, const char *for_ref,
    struct sotto_error *e)
{
	const struct okind *ok = kops_kind(kind);
	struct kref ref = { ok->group, "v1", ok->plural, NULL, NULL, NULL };
	struct sotto_buf path = SOTTO_BUF_INIT;
	struct kstreams *s = NULL;
	struct wstate w;
	char fk[64] = "", shown[120];
	const char *slash = for_ref ? strchr(for_ref, '/') : NULL;
	struct oconn c;
	sotto_err rc;

	memset(&w, 0, sizeof(w));
	w.o = o;
	w.kind = kind;
	w.events = events;
	w.name = name;
	w.base = 1;
	if (for_ref != NULL && (slash == NULL || slash == for_ref ||
	    (size_t)(slash - for_ref) >= sizeof(fk) ||
	    kname_invalid(slash + 1, KN_SEGMENT) != NULL)) {
		kops_shown(shown, sizeof(shown), for_ref, 100);
		return sotto_error_set(e, SOTTO_E_USAGE, "--for '%s': want "
		    "Kind/NAME", shown);
	}
	if (for_ref != NULL) {
		memcpy(fk, for_ref, (size_t)(slash - for_ref));
		w.for_kind = fk;
		w.for_name = slash + 1;
	}
	if (name != NULL && kname_check("name", name, KN_SUBDOMAIN, e) !=
	    SOTTO_OK)
		return e->code = SOTTO_E_USAGE;
	if (events) {
		ref.group = "";
		ref.plural = "events";
	}
	if ((rc = kops_open(&c, o, e)) != SOTTO_OK)
		return rc;
	ref.ns = o->all_ns ? NULL : c.ns;
	if ((w.seen = json_object()) == NULL) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = kpath_build(&path, &ref, e)) != SOTTO_OK ||
	    kpath_query(&path, "watch", "1") != SOTTO_OK ||
	    kpath_query(&path, "timeoutSeconds", "1800") != SOTTO_OK) {
		if (rc == SOTTO_OK)
			rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = kstreams_open(&s, c.k, e)) == SOTTO_OK &&
	    (rc = kstreams_start(s, 0, (const char *)path.data, 1800,
	    (size_t)64 << 20, watch_line, &w, e)) == SOTTO_OK)
		rc = stream_to_end(s, events ? "cannot watch events" :
		    "cannot watch", e);
	if (w.err.code != SOTTO_OK)
		rc = sotto_error_set(e, w.err.code, "%s", w.err.msg);
out:
	kstreams_close(s);
	sotto_buf_release(&path);
	json_decref(w.seen);
	kops_close(&c);
	return rc;
}
