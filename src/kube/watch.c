/* SPDX-License-Identifier: ISC */
/*
 * The watch between reconcile passes (issue #8: Kustomizations and
 * GitRepositories read "from the cluster (list/watch via libcurl)"): two
 * streamed GETs, ?watch=1 from the resourceVersion of a LIST, whose
 * JSON-lines events are compared with what the last pass handled.  A new
 * metadata.generation (a spec change), a new reconcile.fluxcd.io/
 * requestedAt (`flux reconcile ks`), an added or a deleted object wakes the
 * reconciler; the MODIFIED events of our own status writes, Kustomizations'
 * and GitRepositories' alike, keep both and do not.  410
 * Gone and ERROR events mean a LIST again; a stream the server ends is
 * resumed from the last resourceVersion (BOOKMARKs move it).  The
 * transfers are client.c's; what a wake-up leads to is reconcile.c's.
 */
#include "kube/kint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REQUESTED_AT "reconcile.fluxcd.io/requestedAt"
/* one event line: etcd caps an object at 1.5 MiB, JSON adds a little */
#define EVENT_MAX ((size_t)4 << 20)
#define DUE_MAX 4096	/* changed objects queued; more: a full pass */
#define BACKOFF_MAX 60	/* seconds between failing watch attempts */

enum { COL_KS, COL_GR, COL_KEY, NCOL };

/* What the last pass (or event) handled of one object. */
struct seen {
	char key[320];		/* "ns/name" */
	json_int_t gen;		/* metadata.generation */
	char req[128];		/* requestedAt, "" when none */
};

/* One watched collection. */
struct col {
	struct kwatch *w;	/* owner */
	int idx;		/* COL_KS or COL_GR, also the stream slot */
	const char *kind;	/* "Kustomization", for logs */
	char path[600];		/* collection URL path */
	char rv[64];		/* resume point; "": LIST first */
	struct seen *v;		/* handled objects (unordered) */
	size_t n, cap;
	json_t *seen_idx;	/* key -> index in v */
	bool primed;		/* v reflects a LIST or a pass */
	bool expired;		/* an ERROR event ended the stream */
	int fails;		/* transport failures in a row */
	bool events;		/* the current stream delivered events */
	double started;		/* when the current stream started */
	double retry_at;	/* no new attempt before this time */
	double backoff;		/* next back-off, seconds */
};

struct kwatch {
	struct sotto_kube *k;	/* client (LISTs) */
	struct kstreams *s;	/* the two streams */
	struct col c[NCOL];
	json_t *due;		/* Kustomizations that changed, or NULL */
	bool full;		/* something needs a full pass */
	bool keys;		/* a labelled age key Secret changed */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *
kwatch_requested_at(const json_t *obj)
{
	return json_string_value(json_object_get(kjson_get(obj,
	    "metadata.annotations"), REQUESTED_AT));
}

static bool
obj_key(char *key, size_t cap, const json_t *o)
{
	const char *ns = kjson_str(o, "metadata.namespace");
	const char *name = kjson_str(o, "metadata.name");

	if (name == NULL)
		return false;
	snprintf(key, cap, "%s/%s", ns ? ns : "", name);
	return true;
}

static struct seen *
seen_find(struct col *c, const char *key)
{
	json_t *i = json_object_get(c->seen_idx, key);

	return i != NULL ? &c->v[json_integer_value(i)] : NULL;
}

static void
seen_clear(struct col *c)
{
	c->n = 0;
	json_object_clear(c->seen_idx);
}

/* Has o's generation or requestedAt moved since we handled it? */
static bool
changed(struct col *c, const json_t *o)
{
	char key[320];
	const char *req = kwatch_requested_at(o);
	struct seen *s;

	if (!obj_key(key, sizeof(key), o) || (s = seen_find(c, key)) == NULL)
		return true;
	/* as Flux's predicates: a removed annotation requests nothing */
	return s->gen != json_integer_value(kjson_get(o,
	    "metadata.generation")) || (req != NULL && strcmp(s->req, req) !=
	    0);
}

static void
seen_set(struct col *c, const json_t *o)
{
	char key[320];
	const char *req = kwatch_requested_at(o);
	struct seen *s, *nv;

	if (!obj_key(key, sizeof(key), o))
		return;
	if ((s = seen_find(c, key)) == NULL) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 16;

			if ((nv = realloc(c->v, cap * sizeof(*nv))) == NULL)
				return;
			c->v = nv;
			c->cap = cap;
		}
		if (json_object_set_new(c->seen_idx, key, json_integer((json_int_t)
		    c->n)) != 0)
			return;	/* not remembered: its events always wake */
		s = &c->v[c->n++];
		snprintf(s->key, sizeof(s->key), "%s", key);
	}
	s->gen = json_integer_value(kjson_get(o, "metadata.generation"));
	snprintf(s->req, sizeof(s->req), "%s", req ? req : "");
}

static void
seen_del(struct col *c, const json_t *o)
{
	char key[320];
	struct seen *s;

	if (!obj_key(key, sizeof(key), o) || (s = seen_find(c, key)) == NULL)
		return;
	json_object_del(c->seen_idx, key);
	if (s != &c->v[c->n - 1]) {
		*s = c->v[c->n - 1];
		json_object_set_new(c->seen_idx, s->key, json_integer((json_int_t)
		    (s - c->v)));
	}
	c->n--;
}

/* No new attempt for a while, longer each time. */
static void
backoff(struct col *c, double t)
{
	c->retry_at = t + c->backoff;
	c->backoff = c->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
	    c->backoff * 2;
}

/* Keeps rv when it can go into a URL as it is (they are numbers). */
static void
set_rv(struct col *c, const char *rv)
{
	if (rv == NULL || rv[0] == '\0' || strlen(rv) >= sizeof(c->rv) ||
	    strspn(rv, "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.") != strlen(rv))
		c->rv[0] = '\0';	/* unusable: LIST again */
	else
		snprintf(c->rv, sizeof(c->rv), "%s", rv);
}

/* Queues a changed Kustomization; a later event for it replaces it. */
static void
queue_due(struct kwatch *w, json_t *o)
{
	char key[320], k2[320];
	json_t *d;
	size_t i;

	if (w->due == NULL && (w->due = json_array()) == NULL) {
		w->full = true;
		return;
	}
	obj_key(key, sizeof(key), o);
	json_array_foreach(w->due, i, d)
		if (obj_key(k2, sizeof(k2), d) && strcmp(k2, key) == 0) {
			json_array_set(w->due, i, o);
			return;
		}
	if (json_array_size(w->due) >= DUE_MAX)
		w->full = true;
	else
		json_array_append(w->due, o);
}

/* Logs what woke us: Kustomizations by key, sources in the message. */
static void
say(const struct col *c, const char *key, const char *what)
{
	if (c->idx == COL_KS)
		klog("info", key, NULL, "%s %s", c->kind, what);
	else if (c->idx == COL_KEY)
		klog("debug", NULL, NULL, "%s %s %s", c->kind, key, what);
	else
		klog("info", NULL, NULL, "%s %s %s", c->kind, key, what);
}

/* An ADDED or MODIFIED object (from an event or a LIST). */
static void
note_object(struct col *c, json_t *o, const char *why)
{
	char key[320], what[256];
	const char *req = kwatch_requested_at(o);
	struct seen *s;

	if (c->idx == COL_KEY) {
		/* no generation on Secrets: any change may be a request;
		 * the pass it starts writes nothing when none is */
		c->w->keys = true;
		return;
	}
	if (!changed(c, o))
		return;		/* status only: our own writes */
	obj_key(key, sizeof(key), o);
	if ((s = seen_find(c, key)) != NULL && req != NULL &&
	    strcmp(s->req, req) != 0)
		snprintf(what, sizeof(what), "reconcile requested at %.128s",
		    req);
	else
		snprintf(what, sizeof(what), "%s (generation %lld)", why,
		    (long long)json_integer_value(kjson_get(o,
		    "metadata.generation")));
	say(c, key, what);
	seen_set(c, o);
	if (c->idx == COL_KS)
		queue_due(c->w, o);
	else
		c->w->full = true;	/* every Kustomization may use it */
}

static bool
on_event(void *arg, char *line, size_t len)
{
	struct col *c = arg;
	json_t *ev = json_loadb(line, len, 0, NULL);
	json_t *o = json_object_get(ev, "object");
	const char *type = kjson_str(ev, "type");
	char key[320];
	bool go_on = true;

	if (type == NULL || !json_is_object(o)) {
		json_decref(ev);
		return true;	/* not an event: skip it */
	}
	c->events = true;
	if (strcmp(type, "ERROR") == 0) {
		/* usually 410 Gone: the resume point was compacted away */
		bool gone = json_integer_value(json_object_get(o, "code")) ==
		    410;

		klog(gone ? "info" : "error", NULL, NULL, "watch on %s: "
		    "%.200s; listing again", c->path, kjson_str(o, "message") ?
		    kjson_str(o, "message") : "ERROR event");
		if (!gone)
			backoff(c, now_s());	/* not at once, not forever */
		c->rv[0] = '\0';
		c->expired = true;
		go_on = false;
	} else {
		c->backoff = 1;
		c->fails = 0;
		set_rv(c, kjson_str(o, "metadata.resourceVersion"));
		if (strcmp(type, "DELETED") == 0) {
			obj_key(key, sizeof(key), o);
			say(c, key, "deleted");
			seen_del(c, o);
			c->w->full = c->w->full || c->idx != COL_KEY;
		} else if (strcmp(type, "ADDED") == 0) {
			note_object(c, o, "added");
		} else if (strcmp(type, "MODIFIED") == 0) {
			note_object(c, o, "changed");
		}		/* BOOKMARK: only the resourceVersion */
	}
	json_decref(ev);
	return go_on;
}

/* LIST: the resume point, and what changed while we were not watching. */
static sotto_err
relist(struct col *c)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	json_t *l = NULL, *items, *o, *listed;
	char key[320];
	size_t i, j;

	if (sotto_kube_request(c->w->k, &r, "GET", c->path, NULL, NULL, 0,
	    &e) == SOTTO_OK && r.status != 200)
		sotto_kube_status_error(&e, &r, c->path);
	if (e.code == SOTTO_OK && (l = json_loadb((char *)r.body.data,
	    r.body.len, 0, NULL)) == NULL)
		sotto_error_set(&e, SOTTO_E_KUBE_API, "%s: not JSON", c->path);
	sotto_kube_resp_release(&r);
	if (e.code != SOTTO_OK) {
		klog("error", NULL, NULL, "watch: %s", e.msg);
		return e.code;
	}
	items = json_object_get(l, "items");
	if (c->primed && (listed = json_object()) != NULL) {
		json_array_foreach(items, j, o)
			if (obj_key(key, sizeof(key), o))
				json_object_set_new(listed, key, json_true());
		for (i = 0; i < c->n; i++)
			if (json_object_get(listed, c->v[i].key) == NULL &&
			    c->idx != COL_KEY) {
				say(c, c->v[i].key, "deleted");
				c->w->full = true;
			}
		json_decref(listed);
		json_array_foreach(items, i, o)
			note_object(c, o, obj_key(key, sizeof(key), o) &&
			    seen_find(c, key) != NULL ? "changed" : "added");
	}
	/* a key request made between the pass and this first LIST would
	 * otherwise wait for the next pass: one more key pass is harmless */
	if (!c->primed && c->idx == COL_KEY && json_array_size(items) > 0)
		c->w->keys = true;
	seen_clear(c);
	json_array_foreach(items, i, o)
		seen_set(c, o);
	c->primed = true;
	set_rv(c, kjson_str(l, "metadata.resourceVersion"));
	json_decref(l);
	return SOTTO_OK;
}

sotto_err
kwatch_open(struct kwatch **out, struct sotto_kube *k, const char *ns,
    struct sotto_error *e)
{
	struct kwatch *w;
	static const char *const group[NCOL] = {
	    "kustomize.toolkit.fluxcd.io", "source.toolkit.fluxcd.io", "" };
	static const char *const plural[NCOL] = { "kustomizations",
	    "gitrepositories", "secrets" };
	static const char *const kind[NCOL] = { "Kustomization",
	    "GitRepository", "Secret" };
	sotto_err rc;
	int i;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if ((rc = kstreams_open(&w->s, k, e)) != SOTTO_OK) {
		free(w);
		return rc;
	}
	w->k = k;
	for (i = 0; i < NCOL; i++) {
		struct col *c = &w->c[i];
		struct sotto_buf p = SOTTO_BUF_INIT;
		struct kref ref = { group[i], "v1", plural[i], ns, NULL,
		    NULL };

		c->w = w;
		c->idx = i;
		c->kind = kind[i];
		c->backoff = 1;
		/* only the Secrets of keys born here (clusterkey.c) */
		if ((c->seen_idx = json_object()) == NULL)
			rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		else if ((rc = kpath_build(&p, &ref, e)) == SOTTO_OK && i ==
		    COL_KEY && kpath_query(&p, "labelSelector",
		    SOTTO_KEY_LABEL) != SOTTO_OK)
			rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		if (rc == SOTTO_OK && p.len >= sizeof(c->path))
			rc = sotto_error_set(e, SOTTO_E_CONFIG, "watch path "
			    "too long");
		if (rc == SOTTO_OK)
			memcpy(c->path, p.data, p.len + 1);
		sotto_buf_release(&p);
		if (rc != SOTTO_OK) {
			kwatch_close(w);
			return rc;
		}
	}
	*out = w;
	return SOTTO_OK;
}

void
kwatch_close(struct kwatch *w)
{
	int i;

	if (w == NULL)
		return;
	kstreams_close(w->s);
	for (i = 0; i < NCOL; i++) {
		free(w->c[i].v);
		json_decref(w->c[i].seen_idx);
	}
	json_decref(w->due);
	free(w);
}

void
kwatch_list_begin(struct kwatch *w, enum kwatch_col col)
{
	int i = col == KWATCH_KS ? COL_KS : COL_GR;

	if (w == NULL)
		return;
	kstreams_stop(w->s, i);	/* resume from this LIST instead */
	seen_clear(&w->c[i]);
	if (i == COL_KS) {
		/* the pass sees them all: no second run after it */
		json_decref(w->due);
		w->due = NULL;
	}
}

void
kwatch_list_item(struct kwatch *w, enum kwatch_col col, const json_t *o)
{
	if (w != NULL)
		seen_set(&w->c[col == KWATCH_KS ? COL_KS : COL_GR], o);
}

void
kwatch_list_end(struct kwatch *w, enum kwatch_col col, const char *rv)
{
	struct col *c;

	if (w == NULL)
		return;
	c = &w->c[col == KWATCH_KS ? COL_KS : COL_GR];
	c->primed = true;
	set_rv(c, rv);
}

/* A stream has ended: why, and when to try again. */
static void
ended(struct kwatch *w, struct col *c, double t)
{
	const struct sotto_buf *rest;
	const char *err;
	long status;

	if (!kstreams_ended(w->s, c->idx, &status, &rest, &err))
		return;
	if (status == 200 && rest->len > 0)
		on_event(c, (char *)rest->data, rest->len);
	if (c->expired) {
		c->expired = false;	/* already logged: LIST now */
	} else if (status == 410) {
		c->rv[0] = '\0';
	} else if (status != 200) {
		struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
		struct sotto_error e = { SOTTO_OK, "" };

		r.status = status;
		if (status != 0 && sotto_buf_add(&r.body, rest->data,
		    rest->len) == SOTTO_OK)
			sotto_kube_status_error(&e, &r, "watch");
		else
			sotto_error_set(&e, SOTTO_E_KUBE_TRANSPORT, "watch: %s",
			    err[0] ? err : "connection closed");
		sotto_kube_resp_release(&r);
		klog("error", NULL, NULL, "%s on %s; retrying in %.0f s",
		    e.msg, c->path, c->backoff);
		/* twice in a row (an event too long to read?): LIST instead */
		if (status == 0 && ++c->fails >= 2)
			c->rv[0] = '\0';
		backoff(c, t);
	} else if (!c->events && t - c->started < 1) {
		backoff(c, t);	/* ends at once: do not spin */
	} else {
		c->backoff = 1;	/* a timeout: resume now */
		c->fails = 0;
	}
	kstreams_stop(w->s, c->idx);
}

static void
start(struct kwatch *w, struct col *c, double t, double end)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf path = SOTTO_BUF_INIT;
	char tsecs[24];
	long secs = (long)(end - t + 0.999);

	if (c->rv[0] == '\0' && relist(c) != SOTTO_OK) {
		backoff(c, t);
		return;
	}
	if (c->rv[0] == '\0') {
		c->retry_at = end;	/* the LIST has none: wait for the pass */
		return;
	}
	snprintf(tsecs, sizeof(tsecs), "%ld", secs < 1 ? 1 : secs);
	c->events = false;
	c->started = t;
	if (sotto_buf_addstr(&path, c->path) != SOTTO_OK ||
	    kpath_query(&path, "watch", "1") != SOTTO_OK ||
	    kpath_query(&path, "resourceVersion", c->rv) != SOTTO_OK ||
	    kpath_query(&path, "allowWatchBookmarks", "true") != SOTTO_OK ||
	    kpath_query(&path, "timeoutSeconds", tsecs) != SOTTO_OK)
		sotto_error_set(&e, SOTTO_E_NOMEM, "out of memory");
	else
		kstreams_start(w->s, c->idx, (char *)path.data, secs, EVENT_MAX,
		    on_event, c, &e);
	sotto_buf_release(&path);
	if (e.code != SOTTO_OK) {
		klog("error", NULL, NULL, "watch: %s", e.msg);
		backoff(c, t);
	}
}

enum kwake
kwatch_wait(struct kwatch *w, double end, double wake,
    const volatile int *stop, json_t **due)
{
	double t, until = end < wake ? end : wake;
	int i, ms;

	*due = NULL;
	for (;;) {
		if (stop != NULL && *stop)
			return KW_STOP;
		if (w->full) {
			w->full = false;
			json_decref(w->due);
			w->due = NULL;
			return KW_FULL;
		}
		if (w->due != NULL) {
			*due = w->due;
			w->due = NULL;
			return KW_SOME;
		}
		if (w->keys) {
			w->keys = false;
			return KW_KEYS;
		}
		t = now_s();
		if (t >= until)
			return KW_TIMEOUT;
		for (i = 0; i < NCOL; i++) {
			struct col *c = &w->c[i];

			if (kstreams_running(w->s, i))
				continue;
			ended(w, c, t);
			if (t >= c->retry_at && end - t >= 1)
				start(w, c, t, end);
		}
		if (w->full || w->due != NULL || w->keys)
			continue;
		ms = (int)((until - t) * 1000) + 1;
		kstreams_run(w->s, ms < 100 ? ms : 100);
	}
}
