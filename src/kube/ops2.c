/* SPDX-License-Identifier: ISC */
/*
 * `sotto check` and `sotto uninstall`, as `flux check` and `flux
 * uninstall` do them, on what `sotto install` applies (crds.c gives the
 * objects, so the three cannot drift): the API server's version and
 * clock, the CRDs, the controller's Deployment and Lease, and its RBAC
 * (SelfSubjectAccessReviews made as its ServiceAccount).  Tree, logs and
 * the watches are in ops2view.c.
 */
#include "kube/kint.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/ops.h"
#include "sotto/kubeops2.h"

#define S_OK "\xe2\x9c\x94 "
#define S_BAD "\xe2\x9c\x97 "
#define S_ACT "\xe2\x96\xba "
#define S_WARN "\xe2\x9a\xa0\xef\xb8\x8f "
#define PART_OF "app.kubernetes.io/part-of"

static const char *
ctl_ns(const struct sotto_opsx *x)
{
	return x->ctl_ns != NULL ? x->ctl_ns : "sotto-system";
}

struct chk {
	struct oconn c;
	const struct sotto_ops *o;
	const char *ns;		/* the controller's */
	json_t *objs;		/* what install applies */
	json_t *deploy;		/* the live Deployment or NULL */
	bool failed;
};

static void
say(FILE *f, const char *sym, const char *fmt, va_list ap)
{
	fputs(sym, f);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
}

static void
bad(struct chk *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(k->o->err, S_BAD, fmt, ap);
	va_end(ap);
	k->failed = true;
}

static void
line(FILE *f, const char *sym, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(f, sym, fmt, ap);
	va_end(ap);
}

/* RFC 3339 (fraction allowed) to seconds; 0 if it is not one. */
static double
rfc3339(const char *s)
{
	struct tm tm;
	const char *rest;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) ==
	    NULL)
		return 0;
	return (double)timegm(&tm) + (rest[0] == '.' ? strtod(rest, NULL) : 0);
}

/* ---- check -------------------------------------------------------------- */

/* GET /version: false (a ✗ line said why) when nothing else can run. */
static bool
check_version(struct chk *k, long *skew)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct ksemver have, min;
	json_t *j = NULL;
	char shown[80];
	time_t date;
	bool ok = false;

	if (sotto_kube_request(k->c.k, &r, "GET", "/version", NULL, NULL, 0,
	    &e) != SOTTO_OK) {
		bad(k, "Kubernetes API call failed: %s (check the kubeconfig "
		    "and that the API server is reachable)", e.msg);
		goto out;
	}
	date = kube_last_date(k->c.k);
	*skew = date != 0 ? (long)(date - time(NULL)) : 0;
	if (r.status != 200 || (j = json_loadb((const char *)r.body.data,
	    r.body.len, 0, NULL)) == NULL) {
		sotto_kube_status_error(&e, &r, "GET /version");
		bad(k, "Kubernetes API call failed: %s (check the kubeconfig "
		    "and the credentials)", e.msg);
		goto out;
	}
	kops_shown(shown, sizeof(shown), kjson_str(j, "gitVersion"), 60);
	ksemver_parse(&min, SOTTO_OPS_KUBE_MIN);
	if (!ksemver_parse(&have, kjson_str(j, "gitVersion"))) {
		bad(k, "Kubernetes version can't be determined from '%s' "
		    "(is the server a Kubernetes API server?)", shown);
		goto out;
	}
	have.pre[0] = '\0';	/* 1.30.2-gke.1 is 1.30.2 here */
	if (ksemver_cmp(&have, &min) < 0) {
		bad(k, "Kubernetes version %s does not match >=%s-0 (sotto "
		    "needs Kubernetes %s or later: upgrade the cluster)",
		    shown, SOTTO_OPS_KUBE_MIN, SOTTO_OPS_KUBE_MIN);
		ok = true;
		goto out;
	}
	line(k->o->err, S_OK, "Kubernetes %ld.%ld.%ld >=%s-0", have.major,
	    have.minor, have.patch, SOTTO_OPS_KUBE_MIN);
	ok = true;
out:
	json_decref(j);
	sotto_kube_resp_release(&r);
	return ok;
}

static void
check_clock(struct chk *k, long skew)
{
	long a = skew < 0 ? -skew : skew;

	if (kube_last_date(k->c.k) == 0) {
		line(k->o->err, S_WARN, "clock skew unknown: the API server "
		    "sent no Date header");
		return;
	}
	if (a > SOTTO_OPS_MAX_SKEW)
		bad(k, "clock skew %lds: the API server's clock is %lds %s "
		    "this machine's, more than %ds (synchronise both clocks, "
		    "e.g. with NTP)", skew, a, skew > 0 ? "ahead of" :
		    "behind", SOTTO_OPS_MAX_SKEW);
	else
		line(k->o->err, S_OK, "clock skew %lds (at most %ds)", skew,
		    SOTTO_OPS_MAX_SKEW);
}

/* The install object of kind (and name, NULL: the first). */
static const json_t *
install_obj(const json_t *objs, const char *kind, const char *name)
{
	const json_t *o;
	size_t i;

	json_array_foreach(objs, i, o) {
		const char *n = kjson_str(o, "metadata.name");

		if (strcmp(kjson_str(o, "kind"), kind) == 0 && (name == NULL ||
		    (n != NULL && strcmp(n, name) == 0)))
			return o;
	}
	return NULL;
}

/* the value of --flag=V in the first container's args, or dflt */
static const char *
arg_value(const json_t *deploy, const char *flag, const char *dflt)
{
	const json_t *args = kjson_get(json_array_get(kjson_get(deploy,
	    "spec.template.spec.containers"), 0), "args"), *a;
	size_t i, l = strlen(flag);
	const char *s;

	json_array_foreach(args, i, a) {
		if ((s = json_string_value(a)) == NULL)
			continue;
		if (strncmp(s, flag, l) == 0 && s[l] == '=')
			return s + l + 1;
		if (strcmp(s, flag) == 0)
			return s + l;	/* "" for a switch */
	}
	return dflt;
}

static void
check_lease(struct chk *k)
{
	struct kref ref = { "coordination.k8s.io", "v1", "leases", NULL, NULL,
		NULL };
	struct sotto_error e = { SOTTO_OK, "" };
	char lns[64], lname[254], holder[256], what[400];
	const json_t *spec;
	json_t *l = NULL;
	double renew, dur;
	sotto_err rc;

	if (arg_value(k->deploy, "--leader-elect", NULL) == NULL) {
		line(k->o->err, S_ACT, "leader election is off (no "
		    "--leader-elect): run one replica only");
		return;
	}
	kops_shown(lns, sizeof(lns), arg_value(k->deploy, "--lease-namespace",
	    k->ns), 63);
	kops_shown(lname, sizeof(lname), arg_value(k->deploy, "--lease-name",
	    "sotto-reconcile"), 253);
	ref.ns = lns;
	ref.name = lname;
	snprintf(what, sizeof(what), "cannot get Lease '%s/%s'", lns, lname);
	rc = kops_req(&k->c, &l, "GET", &ref, NULL, NULL, NULL, what, &e);
	if (rc == SOTTO_E_KUBE_NOTFOUND) {
		bad(k, "no leader elected: Lease %s/%s not found (the "
		    "controller has not started: see 'sotto logs')", lns,
		    lname);
		return;
	}
	if (rc != SOTTO_OK) {
		bad(k, "%s (check your access to leases)", e.msg);
		return;
	}
	spec = json_object_get(l, "spec");
	kops_shown(holder, sizeof(holder), kjson_str(spec, "holderIdentity"),
	    200);
	renew = rfc3339(kjson_str(spec, "renewTime"));
	dur = (double)json_integer_value(json_object_get(spec,
	    "leaseDurationSeconds"));
	if (holder[0] == '\0' || renew + dur < (double)time(NULL))
		bad(k, "no leader elected: Lease %s/%s %s (is the controller "
		    "running? see 'sotto logs')", lns, lname, holder[0] ?
		    "expired" : "has no holder");
	else
		line(k->o->err, S_OK, "leader elected: %s (Lease %s/%s)",
		    holder, lns, lname);
	json_decref(l);
}

static void
check_controller(struct chk *k)
{
	const json_t *want = install_obj(k->objs, "Deployment", NULL), *c;
	struct sotto_error e = { SOTTO_OK, "" };
	struct kref ref;
	char img[300];
	long avail, repl;
	size_t i;
	sotto_err rc;

	line(k->o->err, S_ACT, "checking controller");
	kops_install_ref(&ref, want);
	rc = kops_req(&k->c, &k->deploy, "GET", &ref, NULL, NULL, NULL,
	    "cannot get the controller's Deployment", &e);
	if (rc == SOTTO_E_KUBE_NOTFOUND) {
		bad(k, "Deployment %s/%s not found (run 'sotto install')",
		    ref.ns, ref.name);
		return;
	}
	if (rc != SOTTO_OK) {
		bad(k, "%s", e.msg);
		return;
	}
	avail = (long)json_integer_value(kjson_get(k->deploy,
	    "status.availableReplicas"));
	repl = json_is_integer(kjson_get(k->deploy, "spec.replicas")) ? (long)
	    json_integer_value(kjson_get(k->deploy, "spec.replicas")) : 1;
	if (avail < 1)
		bad(k, "%s: deployment not ready: %ld/%ld replicas available "
		    "(see 'kubectl -n %s describe deployment %s' and 'sotto "
		    "logs')", ref.name, avail, repl, ref.ns, ref.name);
	else
		line(k->o->err, S_OK, "%s: deployment ready (%ld/%ld "
		    "available)", ref.name, avail, repl);
	json_array_foreach(kjson_get(k->deploy, "spec.template.spec."
	    "containers"), i, c) {
		kops_shown(img, sizeof(img), kjson_str(c, "image"), 250);
		line(k->o->err, S_ACT, "%s", img);
	}
	check_lease(k);
}

static void
check_crds(struct chk *k, const char *ours)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct ksemver have, mine;
	const json_t *o, *v;
	struct kref ref;
	json_t *live;
	const char *lv;
	char shown[80];
	bool served;
	size_t i, j;
	sotto_err rc;

	line(k->o->err, S_ACT, "checking crds");
	json_array_foreach(k->objs, i, o) {
		if (strcmp(kjson_str(o, "kind"), "CustomResourceDefinition") !=
		    0 || !kops_install_ref(&ref, o))
			continue;
		live = NULL;
		rc = kops_req(&k->c, &live, "GET", &ref, NULL, NULL, NULL,
		    "cannot get the CustomResourceDefinitions", &e);
		if (rc == SOTTO_E_KUBE_NOTFOUND) {
			bad(k, "CustomResourceDefinition %s not found (run "
			    "'sotto install')", ref.name);
			continue;
		}
		if (rc != SOTTO_OK) {
			bad(k, "%s", e.msg);
			continue;
		}
		served = false;
		json_array_foreach(kjson_get(live, "spec.versions"), j, v)
			if (kjson_str(v, "name") != NULL && strcmp(kjson_str(v,
			    "name"), "v1") == 0 && json_is_true(
			    json_object_get(v, "served")))
				served = true;
		lv = json_string_value(json_object_get(kjson_get(live,
		    "metadata.labels"), SOTTO_OPS_VERSION_LABEL));
		kops_shown(shown, sizeof(shown), lv, 60);
		if (!served)
			bad(k, "%s does not serve v1 (run 'sotto install')",
			    ref.name);
		else if (lv != NULL && ksemver_parse(&have, lv) &&
		    ksemver_parse(&mine, ours) && ksemver_cmp(&have, &mine) >
		    0)
			bad(k, "%s was installed by sotto %s, newer than this "
			    "sotto (%s) (upgrade the sotto CLI)", ref.name,
			    shown, ours);
		else if (lv != NULL && ksemver_parse(&have, lv) &&
		    ksemver_parse(&mine, ours) && ksemver_cmp(&have, &mine) <
		    0)
			line(k->o->err, S_WARN, "%s/v1 was installed by sotto "
			    "%s, older than this sotto (%s) (run 'sotto "
			    "install' to update it)", ref.name, shown, ours);
		else
			line(k->o->err, S_OK, "%s/v1", ref.name);
		json_decref(live);
	}
}

/* One SelfSubjectAccessReview: 1 allowed, 0 denied, -1 error (in e). */
static int
may(struct chk *k, const char *ns, const char *group, const char *res,
    const char *verb, const char *name, struct sotto_error *e)
{
	struct kref ref = { "authorization.k8s.io", "v1",
		"selfsubjectaccessreviews", NULL, NULL, NULL };
	char r[128], *sub;
	json_t *body, *ra, *out = NULL;
	int ok;

	snprintf(r, sizeof(r), "%s", res);
	if ((sub = strchr(r, '/')) != NULL)
		*sub++ = '\0';
	ra = json_pack("{s:s, s:s, s:s}", "group", group, "resource", r,
	    "verb", verb);
	if (ra == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory"), -1;
	if (sub != NULL)
		json_object_set_new(ra, "subresource", json_string(sub));
	if (ns != NULL)
		json_object_set_new(ra, "namespace", json_string(ns));
	if (name != NULL)
		json_object_set_new(ra, "name", json_string(name));
	body = json_pack("{s:s, s:s, s:{s:o}}", "apiVersion",
	    "authorization.k8s.io/v1", "kind", "SelfSubjectAccessReview",
	    "spec", "resourceAttributes", ra);
	if (body == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory"), -1;
	ok = kops_req(&k->c, &out, "POST", &ref, NULL, "application/json",
	    body, "cannot create a SelfSubjectAccessReview", e) != SOTTO_OK ?
	    -1 : json_is_true(kjson_get(out, "status.allowed"));
	json_decref(body);
	json_decref(out);
	return ok;
}

/*
 * Every permission of one rule (*n counted, *denied those refused); false
 * once a review failed (e).
 */
static bool
check_rule(struct chk *k, const json_t *role, const json_t *rule,
    size_t *n, json_t *denied, struct sotto_error *e)
{
	const json_t *groups = json_object_get(rule, "apiGroups");
	const json_t *res = json_object_get(rule, "resources");
	const json_t *verbs = json_object_get(rule, "verbs");
	const json_t *names = json_object_get(rule, "resourceNames");
	const char *ns = kjson_str(role, "metadata.namespace");
	size_t a, b, c, d, nn = json_array_size(names);
	const json_t *g, *r, *v;
	char what[600], where[128];
	int ok;

	if (ns != NULL)
		snprintf(where, sizeof(where), "in namespace %s", ns);
	else
		snprintf(where, sizeof(where), "cluster-wide");
	json_array_foreach(groups, a, g)
	json_array_foreach(res, b, r)
	json_array_foreach(verbs, c, v)
	for (d = 0; d < (nn ? nn : 1); d++) {
		const char *nm = nn ? json_string_value(json_array_get(names,
		    d)) : NULL;
		const char *gs = json_string_value(g);

		ok = may(k, ns, gs, json_string_value(r), json_string_value(v),
		    nm, e);
		if (ok < 0)
			return false;
		(*n)++;
		if (ok == 1)
			continue;
		snprintf(what, sizeof(what), "%s %s%s%s%s%s%s %s",
		    json_string_value(v), json_string_value(r), gs && gs[0] ?
		    " (" : "", gs ? gs : "", gs && gs[0] ? ")" : "", nm ?
		    " named " : "", nm ? nm : "", where);
		json_array_append_new(denied, json_string(what));
	}
	return true;
}

static void
check_rbac(struct chk *k)
{
	const json_t *sa = install_obj(k->objs, "ServiceAccount", NULL), *o;
	const json_t *rule;
	struct sotto_error e = { SOTTO_OK, "" };
	char user[400];
	size_t i, j, n;
	json_t *denied = NULL;
	const json_t *d;

	line(k->o->err, S_ACT, "checking permissions");
	snprintf(user, sizeof(user), "system:serviceaccount:%s:%s",
	    kjson_str(sa, "metadata.namespace"), kjson_str(sa,
	    "metadata.name"));
	if (sotto_kube_set_impersonation(k->c.k, user) != SOTTO_OK) {
		bad(k, "cannot impersonate '%s'", user);
		return;
	}
	json_array_foreach(k->objs, i, o) {
		const char *kind = kjson_str(o, "kind");

		if (strcmp(kind, "ClusterRole") != 0 && strcmp(kind, "Role") !=
		    0)
			continue;
		n = 0;
		json_decref(denied);
		if ((denied = json_array()) == NULL)
			break;
		json_array_foreach(json_object_get(o, "rules"), j, rule)
			if (!check_rule(k, o, rule, &n, denied, &e)) {
				bad(k, "cannot check the controller's "
				    "permissions: %s (run check as a user who "
				    "may create SelfSubjectAccessReviews and "
				    "impersonate service accounts)", e.msg);
				goto out;
			}
		if (json_array_size(denied) == 0)
			line(k->o->err, S_OK, "%s/%s: %zu permissions granted "
			    "to %s", kind, kjson_str(o, "metadata.name"), n,
			    user);
		else if (json_array_size(denied) == n)
			bad(k, "%s/%s: none of its %zu permissions is granted "
			    "to %s (run 'sotto install' to restore the %s and "
			    "its binding)", kind, kjson_str(o, "metadata.name"),
			    n, user, kind);
		else
			json_array_foreach(denied, j, d)
				bad(k, "the controller may not %s (run 'sotto "
				    "install' to restore %s %s and its "
				    "binding)", json_string_value(d), kind,
				    kjson_str(o, "metadata.name"));
	}
out:
	json_decref(denied);
	sotto_kube_set_impersonation(k->c.k, NULL);
}

sotto_err
sotto_ops_check(const struct sotto_ops *o, const struct sotto_opsx *x,
    struct sotto_error *e)
{
	struct chk k;
	long skew = 0;
	sotto_err rc;

	memset(&k, 0, sizeof(k));
	k.o = o;
	k.ns = ctl_ns(x);
	if (kname_check("--namespace", k.ns, KN_LABEL, e) != SOTTO_OK)
		return e->code = SOTTO_E_USAGE;
	if ((rc = kops_install_objects(&k.objs, k.ns, o->version, true, true,
	    e)) != SOTTO_OK)
		return rc;
	line(o->err, S_ACT, "checking prerequisites");
	if ((rc = kops_open(&k.c, o, e)) != SOTTO_OK) {
		bad(&k, "Kubernetes client initialization failed: %s", e->msg);
		goto out;
	}
	if (!check_version(&k, &skew))
		goto out;
	if (x->pre) {
		if (!k.failed)
			line(o->err, S_OK, "prerequisites checks passed");
		goto out;
	}
	check_clock(&k, skew);
	check_controller(&k);
	check_crds(&k, o->version);
	check_rbac(&k);
	if (!k.failed)
		line(o->err, S_OK, "all checks passed");
out:
	kops_close(&k.c);
	json_decref(k.deploy);
	json_decref(k.objs);
	if (k.failed)
		return sotto_error_set(e, SOTTO_E_RECONCILE, "check failed");
	e->code = SOTTO_OK;
	return SOTTO_OK;
}

/* ---- uninstall ---------------------------------------------------------- */

struct unin {
	struct oconn c;
	const struct sotto_ops *o;
	const struct sotto_opsx *x;
	const char *ns;
	const char *dry;	/* "" or " (dry run)" */
	bool failed;
};

/* "Kind/ns/name" or "Kind/name" */
static void
obj_name(char *out, size_t cap, const char *kind, const struct kref *ref)
{
	snprintf(out, cap, "%s/%s%s%s", kind, ref->ns ? ref->ns : "", ref->ns ?
	    "/" : "", ref->name);
}

/* DELETE ref; a missing object is no error (and no line). */
static void
del(struct unin *u, const char *kind, const struct kref *ref)
{
	struct sotto_error e = { SOTTO_OK, "" };
	char what[400];
	sotto_err rc;

	obj_name(what, sizeof(what), kind, ref);
	rc = kops_req(&u->c, NULL, "DELETE", ref, u->x->dry_run ?
	    "?dryRun=All" : NULL, NULL, NULL, "deletion failed", &e);
	if (rc == SOTTO_E_KUBE_NOTFOUND)
		return;
	if (rc != SOTTO_OK) {
		line(u->o->err, S_BAD, "%s %s", what, e.msg);
		u->failed = true;
		return;
	}
	line(u->o->err, S_OK, "%s deleted%s", what, u->dry);
}

/* The Deployment first (the controller stops), then the rest backwards. */
static void
del_components(struct unin *u, const json_t *objs)
{
	const json_t *o;
	struct kref ref;
	size_t i;

	line(u->o->err, S_ACT, "deleting components in %s namespace", u->ns);
	json_array_foreach(objs, i, o)
		if (strcmp(kjson_str(o, "kind"), "Deployment") == 0 &&
		    kops_install_ref(&ref, o))
			del(u, "Deployment", &ref);
	for (i = json_array_size(objs); i-- > 0;) {
		const char *kind;

		o = json_array_get(objs, i);
		kind = kjson_str(o, "kind");
		if (strcmp(kind, "Deployment") == 0 || strcmp(kind,
		    "Namespace") == 0 || strcmp(kind,
		    "CustomResourceDefinition") == 0 || !kops_install_ref(&ref,
		    o))
			continue;
		del(u, kind, &ref);
	}
}

/* item (of kind ok) without finalizers, if it had some */
static void
unfinalize(struct unin *u, const struct okind *ok, const json_t *item)
{
	struct kref ref = { ok->group, "v1", ok->plural, NULL, NULL, NULL };
	struct sotto_error e = { SOTTO_OK, "" };
	char what[400];
	json_t *patch;
	sotto_err rc;

	if (json_array_size(kjson_get(item, "metadata.finalizers")) == 0)
		return;
	ref.ns = kjson_str(item, "metadata.namespace");
	ref.name = kjson_str(item, "metadata.name");
	obj_name(what, sizeof(what), ok->kind, &ref);
	patch = json_pack("{s:{s:n}}", "metadata", "finalizers");
	rc = kops_req(&u->c, NULL, "PATCH", &ref, u->x->dry_run ?
	    "?dryRun=All" : NULL, "application/merge-patch+json", patch,
	    "removing finalizers failed", &e);
	json_decref(patch);
	if (rc == SOTTO_OK)
		line(u->o->err, S_OK, "%s finalizers deleted%s", what, u->dry);
	else if (rc != SOTTO_E_KUBE_NOTFOUND) {
		line(u->o->err, S_BAD, "%s %s", what, e.msg);
		u->failed = true;
	}
}

/*
 * Every Kustomization and GitRepository loses its finalizers, so deleting
 * the CRDs does not wait for a controller that is gone.  *kss the
 * Kustomizations (their decryption Secrets are keys).
 */
static void
del_finalizers(struct unin *u, json_t **kss)
{
	enum sotto_ops_kind kinds[] = { SOTTO_OPS_GIT, SOTTO_OPS_KS };
	struct sotto_error e = { SOTTO_OK, "" };
	const json_t *it;
	json_t *list;
	size_t i, j;
	sotto_err rc;

	line(u->o->err, S_ACT, "deleting toolkit.fluxcd.io finalizers in all "
	    "namespaces");
	for (i = 0; i < 2; i++) {
		const struct okind *ok = kops_kind(kinds[i]);
		struct kref ref = { ok->group, "v1", ok->plural, NULL, NULL,
			NULL };

		list = NULL;
		rc = kops_req(&u->c, &list, "GET", &ref, NULL, NULL, NULL,
		    "cannot list", &e);
		if (rc != SOTTO_OK && rc != SOTTO_E_KUBE_NOTFOUND) {
			line(u->o->err, S_BAD, "%s %s", ok->kind, e.msg);
			u->failed = true;
		}
		json_array_foreach(json_object_get(list, "items"), j, it)
			unfinalize(u, ok, it);
		if (kinds[i] == SOTTO_OPS_KS)
			*kss = json_incref(json_object_get(list, "items"));
		json_decref(list);
	}
}

/* Only the CRDs labelled part-of sotto: Flux's own are left alone. */
static void
del_crds(struct unin *u, const json_t *objs)
{
	struct sotto_error e = { SOTTO_OK, "" };
	const json_t *o;
	struct kref ref;
	json_t *live;
	const char *part;
	char shown[80];
	size_t i;
	sotto_err rc;

	line(u->o->err, S_ACT, "deleting toolkit.fluxcd.io custom resource "
	    "definitions");
	json_array_foreach(objs, i, o) {
		if (strcmp(kjson_str(o, "kind"), "CustomResourceDefinition") !=
		    0 || !kops_install_ref(&ref, o))
			continue;
		live = NULL;
		rc = kops_req(&u->c, &live, "GET", &ref, NULL, NULL, NULL,
		    "cannot get", &e);
		if (rc == SOTTO_E_KUBE_NOTFOUND)
			continue;
		part = json_string_value(json_object_get(kjson_get(live,
		    "metadata.labels"), PART_OF));
		if (rc != SOTTO_OK) {
			line(u->o->err, S_BAD, "CustomResourceDefinition/%s %s",
			    ref.name, e.msg);
			u->failed = true;
		} else if (part == NULL || strcmp(part, "sotto") != 0) {
			kops_shown(shown, sizeof(shown), part, 60);
			line(u->o->err, S_WARN, "CustomResourceDefinition/%s "
			    "kept: not installed by sotto (%s=%s)", ref.name,
			    PART_OF, shown);
		} else
			del(u, "CustomResourceDefinition", &ref);
		json_decref(live);
	}
}

/*
 * A Secret that holds keys: labelled SOTTO_KEY_LABEL (`sotto cluster
 * keygen`), with a *.agekey or *.asc entry, or named by a Kustomization's
 * spec.decryption.secretRef in its namespace.
 */
static bool
is_key_secret(const json_t *s, const json_t *kss)
{
	const char *name = kjson_str(s, "metadata.name");
	const char *ns = kjson_str(s, "metadata.namespace");
	const char *k, *rn, *kn;
	const json_t *v, *ks;
	size_t i, l;

	if (json_object_get(kjson_get(s, "metadata.labels"), SOTTO_KEY_LABEL)
	    != NULL)
		return true;
	json_object_foreach((json_t *)json_object_get(s, "data"), k, v) {
		l = strlen(k);
		if ((l > 7 && strcmp(k + l - 7, ".agekey") == 0) || (l > 4 &&
		    strcmp(k + l - 4, ".asc") == 0))
			return true;
	}
	json_array_foreach(kss, i, ks) {
		rn = kjson_str(ks, "spec.decryption.secretRef.name");
		kn = kjson_str(ks, "metadata.namespace");
		if (rn != NULL && name != NULL && kn != NULL && ns != NULL &&
		    strcmp(rn, name) == 0 && strcmp(kn, ns) == 0)
			return true;
	}
	return false;
}

/*
 * The namespace, and what to do about its key Secrets: kept (and so the
 * namespace) unless --delete-keys.
 */
static void
del_namespace(struct unin *u, const json_t *kss)
{
	struct kref sref = { "", "v1", "secrets", NULL, NULL, NULL };
	struct kref nref = { "", "v1", "namespaces", NULL, NULL, NULL };
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf names = SOTTO_BUF_INIT;
	json_t *list = NULL;
	const json_t *s;
	char shown[300];
	size_t i, nkeys = 0;
	sotto_err rc;

	sref.ns = u->ns;
	nref.name = u->ns;
	rc = kops_req(&u->c, &list, "GET", &sref, NULL, NULL, NULL,
	    "cannot list Secrets", &e);
	if (rc != SOTTO_OK && rc != SOTTO_E_KUBE_NOTFOUND) {
		line(u->o->err, S_BAD, "%s: namespace %s kept (its Secrets "
		    "may hold keys)", e.msg, u->ns);
		u->failed = true;
		goto out;
	}
	json_array_foreach(json_object_get(list, "items"), i, s) {
		if (!is_key_secret(s, kss))
			continue;
		kops_shown(shown, sizeof(shown), kjson_str(s, "metadata.name"),
		    253);
		if (nkeys++ > 0)
			sotto_buf_addstr(&names, ", ");
		sotto_buf_addstr(&names, shown);
		if (u->x->delete_keys && u->x->keep_ns) {
			sref.name = kjson_str(s, "metadata.name");
			del(u, "Secret", &sref);
			sref.name = NULL;
		}
	}
	if (nkeys > 0 && !u->x->delete_keys && !u->x->keep_ns) {
		line(u->o->err, S_WARN, "Namespace/%s kept: it holds the key "
		    "Secrets %.*s (pass --delete-keys to delete them with it)",
		    u->ns, (int)names.len, (const char *)names.data);
		goto out;
	}
	if (!u->x->keep_ns)
		del(u, "Namespace", &nref);
out:
	sotto_buf_release(&names);
	json_decref(list);
}

sotto_err
sotto_ops_uninstall(const struct sotto_ops *o, const struct sotto_opsx *x,
    struct sotto_error *e)
{
	struct unin u;
	json_t *objs = NULL, *kss = NULL;
	sotto_err rc;

	memset(&u, 0, sizeof(u));
	u.o = o;
	u.x = x;
	u.ns = ctl_ns(x);
	u.dry = x->dry_run ? " (dry run)" : "";
	if (kname_check("--namespace", u.ns, KN_LABEL, e) != SOTTO_OK)
		return e->code = SOTTO_E_USAGE;
	if ((rc = kops_install_objects(&objs, u.ns, o->version, true, true,
	    e)) != SOTTO_OK)
		return rc;
	if ((rc = kops_open(&u.c, o, e)) != SOTTO_OK)
		goto out;
	del_components(&u, objs);
	del_finalizers(&u, &kss);
	del_crds(&u, objs);
	del_namespace(&u, kss);
	if (u.failed)
		rc = sotto_error_set(e, SOTTO_E_RECONCILE, "uninstall failed");
	else
		line(o->err, S_OK, "uninstall finished%s", u.dry);
out:
	kops_close(&u.c);
	json_decref(kss);
	json_decref(objs);
	return rc;
}
