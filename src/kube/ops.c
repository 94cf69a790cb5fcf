/* SPDX-License-Identifier: ISC */
/*
 * The everyday commands of issue #20 on the Flux objects: get, reconcile
 * <kind> NAME, suspend, resume, events (install is in crds.c).  They talk
 * to the API server with the user's kubeconfig, as flux does, and read
 * the status the controller writes (reconcile.c): Ready,
 * lastAppliedRevision, lastHandledReconcileAt.  Every path goes through
 * kpath.c.
 */
#include "kube/kint.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kube/ops.h"
#include "sotto/kubeops.h"
#include "sotto/store.h"

static const struct okind okinds[] = {
	{ "Kustomization", "kustomization", "kustomize.toolkit.fluxcd.io",
	    "kustomizations" },
	{ "GitRepository", "source git", "source.toolkit.fluxcd.io",
	    "gitrepositories" },
};

const struct okind *
kops_kind(enum sotto_ops_kind k)
{
	return &okinds[k == SOTTO_OPS_GIT ? 1 : 0];
}

void
kops_close(struct oconn *c)
{
	sotto_kube_close(c->k);
	c->k = NULL;
}

sotto_err
kops_open(struct oconn *c, const struct sotto_ops *o, struct sotto_error *e)
{
	struct sotto_kube_config cfg;
	const char *ns;
	sotto_err rc;

	memset(c, 0, sizeof(*c));
	if (o->ns != NULL && kname_check("--namespace", o->ns, KN_LABEL, e) !=
	    SOTTO_OK)
		return e->code = SOTTO_E_USAGE;
	memset(&cfg, 0, sizeof(cfg));
	if ((rc = sotto_kube_config_load(&cfg, o->kubeconfig, o->context, e)) !=
	    SOTTO_OK)
		return rc;
	ns = o->ns ? o->ns : cfg.namespace ? cfg.namespace : "default";
	snprintf(c->ns, sizeof(c->ns), "%s", ns);
	if ((rc = kname_check("namespace", c->ns, KN_LABEL, e)) == SOTTO_OK)
		rc = sotto_kube_open(&c->k, &cfg, e);
	sotto_kube_config_free(&cfg);
	if (rc == SOTTO_OK)
		rc = sotto_kube_set_user_agent(c->k, "sotto-cli");
	return rc;
}

/*
 * method ref [?query] with body (NULL: none); *out the parsed answer
 * (out may be NULL).  A status >= 300 is an error named by what.
 */
sotto_err
kops_req(struct oconn *c, json_t **out, const char *method,
    const struct kref *ref, const char *query, const char *ctype,
    const json_t *body, const char *what, struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct sotto_buf path = SOTTO_BUF_INIT;
	json_error_t je;
	char *b = NULL;
	sotto_err rc;

	if (out != NULL)
		*out = NULL;
	if ((rc = kpath_build(&path, ref, e)) != SOTTO_OK)
		return rc;
	if (query != NULL && sotto_buf_addstr(&path, query) !=
	    SOTTO_OK) {
		sotto_buf_release(&path);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	if (body != NULL && (b = json_dumps(body, JSON_COMPACT)) == NULL)
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	else
		rc = sotto_kube_request(c->k, &r, method, (char *)path.data,
		    ctype, b, b ? strlen(b) : 0, e);
	free(b);
	sotto_buf_release(&path);
	if (rc == SOTTO_OK && r.status >= 300)
		rc = sotto_kube_status_error(e, &r, what);
	if (rc == SOTTO_OK && out != NULL && (*out = json_loadb(
	    (const char *)r.body.data, r.body.len, 0, &je)) == NULL)
		rc = sotto_error_set(e, SOTTO_E_KUBE_API, "%s: the API server's "
		    "answer is not JSON", what);
	sotto_kube_resp_release(&r);
	return rc;
}

void
kops_shown(char *out, size_t cap, const char *s, size_t max)
{
	size_t i, o = 0;

	if (s == NULL)
		s = "";
	for (i = 0; s[i] != '\0' && i < max && o + 5 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	if (s[i] != '\0' && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* The condition of type t in obj's status, or NULL. */
static const json_t *
find_cond(const json_t *obj, const char *t)
{
	const json_t *cs = kjson_get(obj, "status.conditions"), *c;
	size_t i;
	const char *ct;

	if (!json_is_array(cs))
		return NULL;
	json_array_foreach(cs, i, c) {
		if ((ct = kjson_str(c, "type")) != NULL && strcmp(ct, t) == 0)
			return c;
	}
	return NULL;
}

/* The revision flux shows: lastAppliedRevision, artifact.revision, else
 * the one source_status() names in its Ready message. */
static void
revision_of(char *out, size_t cap, const json_t *obj, enum sotto_ops_kind k)
{
	const char *r = kjson_str(obj, k == SOTTO_OPS_KS ?
	    "status.lastAppliedRevision" : "status.artifact.revision");
	const char *m, *p, *q;
	static const char pre[] = "stored artifact for revision '";

	out[0] = '\0';
	if (r != NULL) {
		kops_shown(out, cap, r, 200);
		return;
	}
	if (k != SOTTO_OPS_GIT || (m = kjson_str(find_cond(obj, "Ready"),
	    "message")) == NULL || (p = strstr(m, pre)) == NULL)
		return;
	p += strlen(pre);
	if ((q = strchr(p, '\'')) == NULL || (size_t)(q - p) >= 200)
		return;
	char tmp[256];
	memcpy(tmp, p, (size_t)(q - p));
	tmp[q - p] = '\0';
	kops_shown(out, cap, tmp, 200);
}

/* ---- get ---------------------------------------------------------------- */

#define NCOL 6
struct row {
	char *c[NCOL];
};

static void
print_table(FILE *f, struct row *rows, size_t n, size_t ncol)
{
	size_t w[NCOL] = { 0 }, i, j, l;

	for (i = 0; i < n; i++)
		for (j = 0; j < ncol; j++)
			if ((l = strlen(rows[i].c[j])) > w[j])
				w[j] = l;
	for (i = 0; i < n; i++) {
		for (j = 0; j < ncol; j++) {
			if (j + 1 == ncol)
				fprintf(f, "%s\n", rows[i].c[j]);
			else
				fprintf(f, "%-*s\t", (int)w[j], rows[i].c[j]);
		}
	}
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (p == NULL)
		abort();
	return p;
}

static sotto_err
print_yaml(FILE *f, const json_t *j, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_emit_opts eo = { 2 };
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_doc *doc = NULL;
	char *s;
	sotto_err rc;

	if ((s = json_dumps(j, JSON_COMPACT)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	rc = sotto_store_json.parse(&doc, (const uint8_t *)s, strlen(s),
	    "object", &lim, e);
	free(s);
	if (rc == SOTTO_OK)
		rc = sotto_store_yaml.emit(&out, doc, NULL, &eo, e);
	if (rc == SOTTO_OK)
		fwrite(out.data, 1, out.len, f);
	sotto_buf_release(&out);
	if (doc != NULL)
		sotto_tree_doc_free(doc);
	return rc;
}

sotto_err
kops_print_obj(FILE *f, const char *output, const json_t *j,
    struct sotto_error *e)
{
	char *s;

	if (strcmp(output, "yaml") == 0)
		return print_yaml(f, j, e);
	if ((s = json_dumps(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	fprintf(f, "%s\n", s);
	free(s);
	return SOTTO_OK;
}

sotto_err
sotto_ops_get(const struct sotto_ops *o, enum sotto_ops_kind kind,
    const char *name, struct sotto_error *e)
{
	const struct okind *ok = kops_kind(kind);
	struct oconn c;
	struct kref ref = { ok->group, "v1", ok->plural, NULL, NULL, NULL };
	json_t *j = NULL, *items, *it;
	struct row *rows = NULL;
	size_t i, n, nr = 0, base;
	char what[300], buf[1024];
	const json_t *rc_;
	sotto_err rc;

	if (name != NULL && kname_check("name", name, KN_SUBDOMAIN, e) !=
	    SOTTO_OK)
		return e->code = SOTTO_E_USAGE;
	if ((rc = kops_open(&c, o, e)) != SOTTO_OK)
		return rc;
	ref.ns = o->all_ns ? NULL : c.ns;
	ref.name = name;
	if (name != NULL)
		snprintf(what, sizeof(what), "cannot get %s '%s/%s'", ok->kind,
		    c.ns, name);
	else
		snprintf(what, sizeof(what), "cannot list %s objects",
		    ok->kind);
	rc = kops_req(&c, &j, "GET", &ref, NULL, NULL, NULL, what, e);
	kops_close(&c);
	if (rc != SOTTO_OK)
		return rc;
	if (name != NULL) {
		items = json_array();
		json_array_append(items, j);
	} else {
		items = json_incref(json_object_get(j, "items"));
		if (!json_is_array(items)) {
			json_decref(items);
			items = json_array();
		}
	}
	if (o->output != NULL) {
		if (name != NULL)
			rc = kops_print_obj(o->out, o->output, j, e);
		else {
			json_t *l = json_pack("{s:s, s:s, s:O}", "apiVersion",
			    "v1", "kind", "List", "items", items);
			rc = kops_print_obj(o->out, o->output, l, e);
			json_decref(l);
		}
		goto out;
	}
	n = json_array_size(items);
	if (n == 0) {
		if (o->all_ns)
			fprintf(o->err, "\xe2\x9c\x97 no %s objects found in any "
			    "namespace\n", ok->kind);
		else
			fprintf(o->err, "\xe2\x9c\x97 no %s objects found in "
			    "\"%s\" namespace\n", ok->kind, c.ns);
		goto out;
	}
	if ((rows = calloc(n + 1, sizeof(*rows))) == NULL) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	base = o->all_ns ? 1 : 0;
	if (o->all_ns)
		rows[0].c[0] = xstrdup("NAMESPACE");
	rows[0].c[base] = xstrdup("NAME");
	rows[0].c[base + 1] = xstrdup("REVISION");
	rows[0].c[base + 2] = xstrdup("SUSPENDED");
	rows[0].c[base + 3] = xstrdup("READY");
	rows[0].c[base + 4] = xstrdup("MESSAGE");
	nr = 1;
	json_array_foreach(items, i, it) {
		struct row *r = &rows[nr++];

		if (o->all_ns) {
			kops_shown(buf, sizeof(buf), kjson_str(it,
			    "metadata.namespace"), 253);
			r->c[0] = xstrdup(buf);
		}
		kops_shown(buf, sizeof(buf), kjson_str(it, "metadata.name"),
		    253);
		r->c[base] = xstrdup(buf);
		revision_of(buf, sizeof(buf), it, kind);
		r->c[base + 1] = xstrdup(buf);
		r->c[base + 2] = xstrdup(json_is_true(kjson_get(it,
		    "spec.suspend")) ? "True" : "False");
		if ((rc_ = find_cond(it, "Ready")) != NULL) {
			kops_shown(buf, sizeof(buf), kjson_str(rc_, "status"),
			    16);
			r->c[base + 3] = xstrdup(buf);
			kops_shown(buf, sizeof(buf), kjson_str(rc_, "message"),
			    400);
			r->c[base + 4] = xstrdup(buf);
		} else {
			r->c[base + 3] = xstrdup("False");
			r->c[base + 4] = xstrdup("waiting to be reconciled");
		}
	}
	print_table(o->out, rows, nr, base + 5);
out:
	for (i = 0; i < nr; i++)
		for (n = 0; n < NCOL; n++)
			free(rows[i].c[n]);
	free(rows);
	json_decref(items);
	json_decref(j);
	return rc;
}

/* ---- reconcile, suspend, resume ------------------------------------------ */

static sotto_err
get_obj(struct oconn *c, json_t **out, const struct okind *ok,
    const char *ns, const char *name, struct sotto_error *e)
{
	struct kref ref = { ok->group, "v1", ok->plural, ns, name, NULL };
	char what[400];
	sotto_err rc;

	snprintf(what, sizeof(what), "cannot get %s '%s/%s'", ok->kind, ns,
	    name);
	rc = kops_req(c, out, "GET", &ref, NULL, NULL, NULL, what, e);
	if (rc == SOTTO_E_KUBE_NOTFOUND)
		return sotto_error_set(e, rc, "%s '%s/%s' not found", ok->kind,
		    ns, name);
	return rc;
}

static sotto_err
merge_patch(struct oconn *c, const struct okind *ok, const char *ns,
    const char *name, json_t *patch, struct sotto_error *e)
{
	struct kref ref = { ok->group, "v1", ok->plural, ns, name, NULL };
	char what[400];
	sotto_err rc;

	snprintf(what, sizeof(what), "cannot patch %s '%s/%s'", ok->kind, ns,
	    name);
	rc = kops_req(c, NULL, "PATCH", &ref, "?fieldManager=sotto",
	    "application/merge-patch+json", patch, what, e);
	json_decref(patch);
	return rc;
}

/* RFC 3339 with nanoseconds, as flux's time.Now().Format(RFC3339Nano) */
static void
now_nano(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	char base[32];
	char frac[16];
	int l;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(frac, sizeof(frac), "%09ld", ts.tv_nsec);
	for (l = 8; l >= 0 && frac[l] == '0'; l--)
		frac[l] = '\0';
	snprintf(out, cap, "%s%s%sZ", base, frac[0] ? "." : "", frac);
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Waits until ns/name has handled requested (lastHandledReconcileAt) at
 * its current generation and Ready is True or False.  *out the object.
 */
static sotto_err
wait_handled(struct oconn *c, const struct sotto_ops *o, json_t **out,
    const struct okind *ok, const char *ns, const char *name,
    const char *requested, struct sotto_error *e)
{
	double timeout = o->timeout > 0 ? o->timeout : 300;
	double poll = o->poll > 0 ? o->poll : 0.5;
	double end = mono() + timeout;
	const json_t *rd;
	const char *st, *h;
	char msg[600], dur[32];
	json_t *j;
	sotto_err rc;

	*out = NULL;
	for (;;) {
		if ((rc = get_obj(c, &j, ok, ns, name, e)) != SOTTO_OK)
			return rc;
		h = kjson_str(j, "status.lastHandledReconcileAt");
		rd = find_cond(j, "Ready");
		st = kjson_str(rd, "status");
		if (h != NULL && strcmp(h, requested) == 0 && st != NULL &&
		    json_integer_value(kjson_get(j, "status.observedGeneration"))
		    >= json_integer_value(kjson_get(j, "metadata.generation")) &&
		    (strcmp(st, "True") == 0 || strcmp(st, "False") == 0)) {
			if (strcmp(st, "True") == 0) {
				*out = j;
				return SOTTO_OK;
			}
			kops_shown(msg, sizeof(msg), kjson_str(rd, "message"),
			    500);
			json_decref(j);
			return sotto_error_set(e, SOTTO_E_RECONCILE, "%s",
			    msg[0] ? msg : "reconciliation failed");
		}
		json_decref(j);
		if (mono() >= end) {
			kduration_fmt(dur, sizeof(dur), timeout);
			return sotto_error_set(e, SOTTO_E_RECONCILE, "timed out "
			    "after %s waiting for %s '%s/%s' to be reconciled "
			    "(is the controller running?)", dur, ok->kind, ns,
			    name);
		}
		usleep((useconds_t)(poll * 1e6));
	}
}

static void
success_line(FILE *f, const json_t *j, enum sotto_ops_kind k)
{
	char rev[256];

	revision_of(rev, sizeof(rev), j, k);
	fprintf(f, "\xe2\x9c\x94 %s revision %s\n", k == SOTTO_OPS_KS ?
	    "applied" : "fetched", rev);
}

/* annotate ns/name, wait for it, print the result; suspended refused */
static sotto_err
reconcile_one(struct oconn *c, const struct sotto_ops *o,
    enum sotto_ops_kind kind, const char *ns, const char *name,
    struct sotto_error *e)
{
	const struct okind *ok = kops_kind(kind);
	char now[64];
	json_t *j = NULL, *patch;
	sotto_err rc;

	if ((rc = get_obj(c, &j, ok, ns, name, e)) != SOTTO_OK)
		return rc;
	if (json_is_true(kjson_get(j, "spec.suspend"))) {
		json_decref(j);
		return sotto_error_set(e, SOTTO_E_RECONCILE, "resource is "
		    "suspended");
	}
	json_decref(j);
	fprintf(o->err, "\xe2\x96\xba annotating %s %s in %s namespace\n",
	    ok->kind, name, ns);
	now_nano(now, sizeof(now));
	patch = json_pack("{s:{s:{s:s}}}", "metadata", "annotations",
	    "reconcile.fluxcd.io/requestedAt", now);
	if ((rc = merge_patch(c, ok, ns, name, patch, e)) != SOTTO_OK)
		return rc;
	fprintf(o->err, "\xe2\x9c\x94 %s annotated\n", ok->kind);
	fprintf(o->err, "\xe2\x97\x8e waiting for %s reconciliation\n",
	    ok->kind);
	fflush(o->err);
	if ((rc = wait_handled(c, o, &j, ok, ns, name, now, e)) != SOTTO_OK)
		return rc;
	success_line(o->err, j, kind);
	json_decref(j);
	return SOTTO_OK;
}

sotto_err
sotto_ops_reconcile(const struct sotto_ops *o, enum sotto_ops_kind kind,
    const char *name, struct sotto_error *e)
{
	struct oconn c;
	json_t *j = NULL;
	const char *sk, *sn, *sns;
	char sname[254], sns_[64];
	sotto_err rc;

	if (kname_check("name", name, KN_SUBDOMAIN, e) != SOTTO_OK)
		return e->code = SOTTO_E_USAGE;
	if ((rc = kops_open(&c, o, e)) != SOTTO_OK)
		return rc;
	if (kind == SOTTO_OPS_KS && o->with_source) {
		if ((rc = get_obj(&c, &j, kops_kind(kind), c.ns, name, e)) !=
		    SOTTO_OK)
			goto out;
		sk = kjson_str(j, "spec.sourceRef.kind");
		sn = kjson_str(j, "spec.sourceRef.name");
		sns = kjson_str(j, "spec.sourceRef.namespace");
		if (sk == NULL || strcmp(sk, "GitRepository") != 0 || sn ==
		    NULL) {
			kops_shown(sname, sizeof(sname), sk, 60);
			rc = sotto_error_set(e, SOTTO_E_UNSUPPORTED, "--with-"
			    "source: source kind '%s' is not served by sotto "
			    "(GitRepository only)", sname);
			goto out;
		}
		snprintf(sname, sizeof(sname), "%s", sn);
		snprintf(sns_, sizeof(sns_), "%s", sns ? sns : c.ns);
		if (kname_check("spec.sourceRef.name", sname, KN_SUBDOMAIN,
		    e) != SOTTO_OK || kname_check("spec.sourceRef.namespace",
		    sns_, KN_LABEL, e) != SOTTO_OK) {
			rc = e->code;
			goto out;
		}
		json_decref(j);
		j = NULL;
		if ((rc = reconcile_one(&c, o, SOTTO_OPS_GIT, sns_, sname, e)) !=
		    SOTTO_OK)
			goto out;
	}
	rc = reconcile_one(&c, o, kind, c.ns, name, e);
out:
	json_decref(j);
	kops_close(&c);
	return rc;
}

sotto_err
sotto_ops_suspend(const struct sotto_ops *o, enum sotto_ops_kind kind,
    const char *name, bool suspend, struct sotto_error *e)
{
	const struct okind *ok = kops_kind(kind);
	struct oconn c;
	json_t *j = NULL, *patch;
	char now[64];
	sotto_err rc;

	if (kname_check("name", name, KN_SUBDOMAIN, e) != SOTTO_OK)
		return e->code = SOTTO_E_USAGE;
	if ((rc = kops_open(&c, o, e)) != SOTTO_OK)
		return rc;
	if ((rc = get_obj(&c, &j, ok, c.ns, name, e)) != SOTTO_OK)
		goto out;
	json_decref(j);
	j = NULL;
	fprintf(o->err, "\xe2\x96\xba %s %s %s in %s namespace\n", suspend ?
	    "suspending" : "resuming", ok->human, name, c.ns);
	now_nano(now, sizeof(now));
	/* resume also asks for a reconcile, so its end can be waited for */
	if (suspend)
		patch = json_pack("{s:{s:b}}", "spec", "suspend", 1);
	else
		patch = json_pack("{s:{s:{s:s}}, s:{s:b}}", "metadata",
		    "annotations", "reconcile.fluxcd.io/requestedAt", now,
		    "spec", "suspend", 0);
	if ((rc = merge_patch(&c, ok, c.ns, name, patch, e)) != SOTTO_OK)
		goto out;
	fprintf(o->err, "\xe2\x9c\x94 %s %s\n", ok->human, suspend ?
	    "suspended" : "resumed");
	if (suspend)
		goto out;
	fprintf(o->err, "\xe2\x97\x8e waiting for %s reconciliation\n",
	    ok->kind);
	fflush(o->err);
	if ((rc = wait_handled(&c, o, &j, ok, c.ns, name, now, e)) != SOTTO_OK)
		goto out;
	fprintf(o->err, "\xe2\x9c\x94 %s reconciliation completed\n",
	    ok->kind);
	success_line(o->err, j, kind);
out:
	json_decref(j);
	kops_close(&c);
	return rc;
}
