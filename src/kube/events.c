/* SPDX-License-Identifier: ISC */
/*
 * Kubernetes Events on a Kustomization or a GitRepository, as Flux's
 * kustomize-controller and source-controller record them (issues #8,
 * #15): core/v1 Events in the object's namespace, type Normal or Warning,
 * the revision (and a GitRepository's digest) as annotations of the
 * object's API group.  A repeat of the same
 * type, reason and message for the same object PATCHes the count and
 * lastTimestamp of the Event already sent instead of creating another, as
 * client-go's event correlator does, so an unchanged failure or success
 * does not flood the namespace.  Events are best effort: a failure is
 * logged, never returned.
 *
 * Messages are the Ready condition texts and change set lines (kind,
 * namespace, name, action): never a value, a key or a request body.
 */
#include "kube/kint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sotto/kube.h"

#define EVENT_MSG_MAX 1024	/* events.k8s.io's note limit; we keep to it */
#define INSTANCE_MAX 128	/* reportingInstance limit */

/* FNV-1a over type, reason and message (NUL-separated). */
static uint64_t
event_key(const struct kevent *ev)
{
	const char *parts[3] = { ev->type, ev->reason, ev->message };
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;
	const char *p;

	for (i = 0; i < 3; i++) {
		for (p = parts[i] ? parts[i] : ""; *p != '\0'; p++) {
			h ^= (uint8_t)*p;
			h *= 0x100000001b3ULL;
		}
		h ^= 0xff;	/* separator */
		h *= 0x100000001b3ULL;
	}
	return h;
}

void
kevent_name(char *out, size_t cap, const char *obj_name, uint64_t stamp)
{
	char hex[24];
	int n;

	n = snprintf(hex, sizeof(hex), ".%llx", (unsigned long long)stamp);
	/* object names are at most 253 bytes: cut the prefix, not the stamp */
	snprintf(out, cap, "%.*s%s", 253 - n, obj_name ? obj_name : "", hex);
}

void
kevent_truncate(char *msg, size_t max)
{
	size_t n = strlen(msg), cut;

	if (n <= max || max < 4)
		return;
	cut = max - 3;	/* room for "…" (3 bytes) */
	while (cut > 0 && ((uint8_t)msg[cut] & 0xc0) == 0x80)
		cut--;	/* do not split a UTF-8 sequence */
	memcpy(msg + cut, "\xe2\x80\xa6", 4);
}

json_t *
kevent_json(const struct kevent *ev, const char *name, const char *ts)
{
	const json_t *o = ev->obj;
	char msg[EVENT_MSG_MAX + 4], inst[INSTANCE_MAX + 1], key[128];
	const char *group;
	json_t *j, *md, *ann;

	snprintf(msg, sizeof(msg), "%s", ev->message ? ev->message : "");
	if (ev->message != NULL && strlen(ev->message) > EVENT_MSG_MAX) {
		memcpy(msg, ev->message, EVENT_MSG_MAX + 1);
		msg[EVENT_MSG_MAX + 1] = '\0';
		kevent_truncate(msg, EVENT_MSG_MAX);
	}
	snprintf(inst, sizeof(inst), "%s", ev->instance ? ev->instance : "");
	j = json_pack("{s:s, s:s, s:{s:s, s:s?}, s:{s:s?, s:s?, s:s?, s:s?, "
	    "s:s?, s:s?}, s:s, s:s, s:s, s:{s:s}, s:s, s:s, s:s, s:s, s:i}",
	    "apiVersion", "v1", "kind", "Event",
	    "metadata", "name", name, "namespace", kjson_str(o,
	    "metadata.namespace"),
	    "involvedObject", "apiVersion", kjson_str(o, "apiVersion"), "kind",
	    kjson_str(o, "kind"), "name", kjson_str(o, "metadata.name"),
	    "namespace", kjson_str(o, "metadata.namespace"), "uid",
	    kjson_str(o, "metadata.uid"), "resourceVersion", kjson_str(o,
	    "metadata.resourceVersion"),
	    "reason", ev->reason, "message", msg, "type", ev->type,
	    "source", "component", ev->component,
	    "reportingComponent", ev->component, "reportingInstance", inst,
	    "firstTimestamp", ts, "lastTimestamp", ts, "count", 1);
	if (j == NULL)
		return NULL;
	md = json_object_get(j, "metadata");
	group = ev->group != NULL ? ev->group : "kustomize.toolkit.fluxcd.io";
	if (ev->revision != NULL && ev->revision[0] != '\0' &&
	    (ann = json_object()) != NULL) {
		snprintf(key, sizeof(key), "%s/revision", group);
		json_object_set_new(ann, key, json_string(ev->revision));
		if (ev->digest != NULL && ev->digest[0] != '\0') {
			snprintf(key, sizeof(key), "%s/digest", group);
			json_object_set_new(ann, key, json_string(ev->digest));
		}
		json_object_set_new(md, "annotations", ann);
	}
	return j;
}

static long
send_event(struct sotto_kube *k, const char *method, const char *path,
    const char *ctype, json_t *body, struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	char *s = json_dumps(body, JSON_COMPACT);
	long st = -1;

	if (s != NULL && sotto_kube_request(k, &r, method, path, ctype, s,
	    strlen(s), e) == SOTTO_OK) {
		st = r.status;
		if (st >= 300)
			sotto_kube_status_error(e, &r, "cannot record event");
	}
	free(s);
	sotto_kube_resp_release(&r);
	return st;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void
kevent_record(struct sotto_kube *k, struct kevent_memo *memo,
    const struct kevent *ev)
{
	struct sotto_error e = { SOTTO_OK, "" };
	const char *ns = kjson_str(ev->obj, "metadata.namespace");
	const char *name = kjson_str(ev->obj, "metadata.name");
	struct kref ref = { "", "v1", "events", ns, NULL, NULL };
	struct sotto_buf path = SOTTO_BUF_INIT;
	char ev_name[300], ts[48];
	uint64_t key = event_key(ev), stamp;
	struct kevent_slot *slot = NULL;
	json_t *body;
	long st;
	size_t i;

	if (ns == NULL || name == NULL || ev->reason == NULL)
		return;
	know(ts, sizeof(ts), false);
	for (i = 0; memo != NULL && i < KEVENT_MEMO; i++)
		if (memo->v[i].count > 0 && memo->v[i].key == key)
			slot = &memo->v[i];
	if (slot != NULL) {
		/* the same event again: count it on the one already sent */
		kevent_name(ev_name, sizeof(ev_name), name, slot->stamp);
		ref.name = ev_name;
		sotto_buf_truncate(&path, 0);
		body = json_pack("{s:I, s:s}", "count", (json_int_t)
		    (slot->count + 1), "lastTimestamp", ts);
		st = body && kpath_build(&path, &ref, &e) == SOTTO_OK ?
		    send_event(k, "PATCH", (char *)path.data,
		    "application/merge-patch+json", body, &e) : -1;
		json_decref(body);
		if (st >= 200 && st < 300) {
			slot->count++;
			sotto_buf_release(&path);
			return;
		}
		if (st != 404) {
			klog("warning", NULL, NULL, "%s", e.msg[0] ? e.msg :
			    "cannot record event");
			sotto_buf_release(&path);
			return;
		}
		/* expired (event TTL) or deleted: record a fresh one */
		sotto_error_clear(&e);
		slot->count = 0;
	}
	if (slot == NULL && memo != NULL) {
		slot = &memo->v[memo->next];
		memo->next = (memo->next + 1) % KEVENT_MEMO;
	}
	stamp = now_ns();
	kevent_name(ev_name, sizeof(ev_name), name, stamp);
	ref.name = NULL;
	sotto_buf_truncate(&path, 0);
	body = kevent_json(ev, ev_name, ts);
	st = body && kpath_build(&path, &ref, &e) == SOTTO_OK ?
	    send_event(k, "POST", (char *)path.data, "application/json", body,
	    &e) : -1;
	json_decref(body);
	sotto_buf_release(&path);
	if (st < 200 || st >= 300) {
		klog("warning", NULL, NULL, "%s", e.msg[0] ? e.msg :
		    "cannot record event");
		if (slot != NULL)
			slot->count = 0;
		return;
	}
	if (slot != NULL) {
		slot->key = key;
		slot->stamp = stamp;
		slot->count = 1;
	}
}
