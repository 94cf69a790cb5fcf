/* SPDX-License-Identifier: ISC */
/*
 * `sotto install` and `sotto events` (issue #20).
 *
 * The CRDs are written by sotto from Flux's published API
 * (kustomize.toolkit.fluxcd.io/v1 Kustomization,
 * source.toolkit.fluxcd.io/v1 GitRepository): the same group, version,
 * kind, plural, short names, scope, status subresource and printer
 * columns, so Flux's CLI and manifests work against them.  The schema is
 * structural but keeps spec and status open
 * (x-kubernetes-preserve-unknown-fields): the controller validates the
 * fields itself (fields.c: an unsupported one makes the object Stalled,
 * with the field named), rather than the API server refusing it.  Each
 * CRD carries SOTTO_OPS_VERSION_LABEL; an install never overwrites a CRD
 * labelled with a newer version.
 *
 * The components are deploy/base, kept in step by
 * tests/cli/780-install.bats, with the namespace replaced.
 */
#include "kube/kint.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kube/ops.h"
#include "sotto/kubeops.h"
#include "sotto/store.h"

#define CRD_COMMON(group, kind, plural, singular, shortname) \
	"apiVersion: apiextensions.k8s.io/v1\n" \
	"kind: CustomResourceDefinition\n" \
	"metadata:\n" \
	"  name: " plural "." group "\n" \
	"  labels:\n" \
	"    app.kubernetes.io/part-of: sotto\n" \
	"    " SOTTO_OPS_VERSION_LABEL ": \"@VERSION@\"\n" \
	"spec:\n" \
	"  group: " group "\n" \
	"  names:\n" \
	"    kind: " kind "\n" \
	"    listKind: " kind "List\n" \
	"    plural: " plural "\n" \
	"    singular: " singular "\n" \
	"    shortNames:\n" \
	"      - " shortname "\n" \
	"  scope: Namespaced\n" \
	"  versions:\n" \
	"    - name: v1\n" \
	"      served: true\n" \
	"      storage: true\n" \
	"      subresources:\n" \
	"        status: {}\n" \
	"      additionalPrinterColumns:\n" \
	"        - jsonPath: .metadata.creationTimestamp\n" \
	"          name: Age\n" \
	"          type: date\n" \
	"        - jsonPath: .status.conditions[?(@.type==\"Ready\")].status\n" \
	"          name: Ready\n" \
	"          type: string\n" \
	"        - jsonPath: .status.conditions[?(@.type==\"Ready\")].message\n" \
	"          name: Status\n" \
	"          type: string\n" \
	"      schema:\n" \
	"        openAPIV3Schema:\n" \
	"          type: object\n" \
	"          properties:\n" \
	"            apiVersion:\n" \
	"              type: string\n" \
	"            kind:\n" \
	"              type: string\n" \
	"            metadata:\n" \
	"              type: object\n" \
	"            spec:\n" \
	"              type: object\n" \
	"              x-kubernetes-preserve-unknown-fields: true\n" \
	"            status:\n" \
	"              type: object\n" \
	"              x-kubernetes-preserve-unknown-fields: true\n"

static const char *const crds_yaml[] = {
	CRD_COMMON("kustomize.toolkit.fluxcd.io", "Kustomization",
	    "kustomizations", "kustomization", "ks"),
	CRD_COMMON("source.toolkit.fluxcd.io", "GitRepository",
	    "gitrepositories", "gitrepository", "gitrepo"),
	NULL,
};

/* deploy/base, "@NS@" for the namespace */
static const char *const components_yaml[] = {
    "apiVersion: v1\n"
    "kind: Namespace\n"
    "metadata:\n"
    "  name: @NS@\n"
    ,
    "apiVersion: v1\n"
    "kind: ServiceAccount\n"
    "metadata:\n"
    "  name: sotto-reconcile\n"
    "  namespace: @NS@\n"
    "automountServiceAccountToken: true\n"
    ,
    "apiVersion: rbac.authorization.k8s.io/v1\n"
    "kind: ClusterRole\n"
    "metadata:\n"
    "  name: sotto-reconcile\n"
    "rules:\n"
    "  - apiGroups: [\"kustomize.toolkit.fluxcd.io\"]\n"
    "    resources: [\"kustomizations\"]\n"
    "    verbs: [\"get\", \"list\", \"watch\", \"patch\"]\n"
    "  - apiGroups: [\"kustomize.toolkit.fluxcd.io\"]\n"
    "    resources: [\"kustomizations/status\"]\n"
    "    verbs: [\"get\", \"patch\", \"update\"]\n"
    "  - apiGroups: [\"source.toolkit.fluxcd.io\"]\n"
    "    resources: [\"gitrepositories\"]\n"
    "    verbs: [\"get\", \"list\", \"watch\", \"patch\"]\n"
    "  - apiGroups: [\"source.toolkit.fluxcd.io\"]\n"
    "    resources: [\"gitrepositories/status\"]\n"
    "    verbs: [\"get\", \"patch\", \"update\"]\n"
    "  - apiGroups: [\"\"]\n"
    "    resources: [\"secrets\"]\n"
    "    verbs: [\"get\", \"list\", \"watch\"]\n"
    "  - apiGroups: [\"\"]\n"
    "    resources: [\"configmaps\"]\n"
    "    verbs: [\"get\"]\n"
    "  - apiGroups: [\"\"]\n"
    "    resources: [\"serviceaccounts\"]\n"
    "    verbs: [\"impersonate\"]\n"
    "  - apiGroups: [\"\"]\n"
    "    resources: [\"events\"]\n"
    "    verbs: [\"create\", \"patch\"]\n"
    ,
    "apiVersion: rbac.authorization.k8s.io/v1\n"
    "kind: ClusterRoleBinding\n"
    "metadata:\n"
    "  name: sotto-reconcile\n"
    "roleRef:\n"
    "  apiGroup: rbac.authorization.k8s.io\n"
    "  kind: ClusterRole\n"
    "  name: sotto-reconcile\n"
    "subjects:\n"
    "  - kind: ServiceAccount\n"
    "    name: sotto-reconcile\n"
    "    namespace: @NS@\n"
    ,
    "apiVersion: rbac.authorization.k8s.io/v1\n"
    "kind: Role\n"
    "metadata:\n"
    "  name: sotto-reconcile-leader\n"
    "  namespace: @NS@\n"
    "rules:\n"
    "  - apiGroups: [\"coordination.k8s.io\"]\n"
    "    resources: [\"leases\"]\n"
    "    verbs: [\"get\", \"create\", \"update\"]\n"
    ,
    "apiVersion: rbac.authorization.k8s.io/v1\n"
    "kind: RoleBinding\n"
    "metadata:\n"
    "  name: sotto-reconcile-leader\n"
    "  namespace: @NS@\n"
    "roleRef:\n"
    "  apiGroup: rbac.authorization.k8s.io\n"
    "  kind: Role\n"
    "  name: sotto-reconcile-leader\n"
    "subjects:\n"
    "  - kind: ServiceAccount\n"
    "    name: sotto-reconcile\n"
    "    namespace: @NS@\n"
    ,
    "apiVersion: rbac.authorization.k8s.io/v1\n"
    "kind: Role\n"
    "metadata:\n"
    "  name: sotto-reconcile-key\n"
    "  namespace: @NS@\n"
    "rules:\n"
    "  - apiGroups: [\"\"]\n"
    "    resources: [\"secrets\"]\n"
    "    resourceNames: [\"sops-age\"]\n"
    "    verbs: [\"get\", \"update\"]\n"
    "  - apiGroups: [\"\"]\n"
    "    resources: [\"configmaps\"]\n"
    "    verbs: [\"create\"]\n"
    "  - apiGroups: [\"\"]\n"
    "    resources: [\"configmaps\"]\n"
    "    resourceNames: [\"sops-age-recipient\"]\n"
    "    verbs: [\"get\", \"update\"]\n"
    ,
    "apiVersion: rbac.authorization.k8s.io/v1\n"
    "kind: RoleBinding\n"
    "metadata:\n"
    "  name: sotto-reconcile-key\n"
    "  namespace: @NS@\n"
    "roleRef:\n"
    "  apiGroup: rbac.authorization.k8s.io\n"
    "  kind: Role\n"
    "  name: sotto-reconcile-key\n"
    "subjects:\n"
    "  - kind: ServiceAccount\n"
    "    name: sotto-reconcile\n"
    "    namespace: @NS@\n"
    ,
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata:\n"
    "  name: sotto-reconcile\n"
    "  namespace: @NS@\n"
    "  labels:\n"
    "    app.kubernetes.io/name: sotto-reconcile\n"
    "spec:\n"
    "  replicas: 2\n"
    "  selector:\n"
    "    matchLabels:\n"
    "      app.kubernetes.io/name: sotto-reconcile\n"
    "  template:\n"
    "    metadata:\n"
    "      labels:\n"
    "        app.kubernetes.io/name: sotto-reconcile\n"
    "    spec:\n"
    "      serviceAccountName: sotto-reconcile\n"
    "      securityContext:\n"
    "        runAsNonRoot: true\n"
    "        runAsUser: 65532\n"
    "        runAsGroup: 65532\n"
    "        seccompProfile:\n"
    "          type: RuntimeDefault\n"
    "      containers:\n"
    "        - name: reconcile\n"
    "          image: sotto-agent:0.1.0\n"
    "          imagePullPolicy: IfNotPresent\n"
    "          args:\n"
    "            - controller\n"
    "            - --leader-elect\n"
    "            - --lease-namespace=@NS@\n"
    "            - --cache-dir=/cache/sotto\n"
    "            - --health-addr=0.0.0.0:8080\n"
    "            - --identity=$(POD_NAME)\n"
    "          env:\n"
    "            - name: POD_NAME\n"
    "              valueFrom:\n"
    "                fieldRef:\n"
    "                  fieldPath: metadata.name\n"
    "          ports:\n"
    "            - name: http\n"
    "              containerPort: 8080\n"
    "          livenessProbe:\n"
    "            httpGet: {path: /healthz, port: http}\n"
    "          readinessProbe:\n"
    "            httpGet: {path: /readyz, port: http}\n"
    "          resources:\n"
    "            requests: {cpu: 50m, memory: 32Mi}\n"
    "            limits: {memory: 128Mi}\n"
    "          securityContext:\n"
    "            readOnlyRootFilesystem: true\n"
    "            allowPrivilegeEscalation: false\n"
    "            privileged: false\n"
    "            capabilities:\n"
    "              drop: [\"ALL\"]\n"
    "          volumeMounts:\n"
    "            - name: cache\n"
    "              mountPath: /cache\n"
    "      volumes:\n"
    "        - name: cache\n"
    "          emptyDir: {}\n",
    NULL,
};

/* Appends tmpl to b with every "@NAME@" of vars (name, value pairs). */
static sotto_err
fill1(struct sotto_buf *b, const char *tmpl, const char *const *vars)
{
	const char *p = tmpl, *at;
	size_t i, l;
	sotto_err rc = SOTTO_OK;

	while (rc == SOTTO_OK && (at = strchr(p, '@')) != NULL) {
		rc = sotto_buf_add(b, p, (size_t)(at - p));
		for (i = 0; vars[i] != NULL; i += 2) {
			l = strlen(vars[i]);
			if (strncmp(at + 1, vars[i], l) == 0 && at[1 + l] ==
			    '@')
				break;
		}
		if (vars[i] == NULL) {
			if (rc == SOTTO_OK)
				rc = sotto_buf_addch(b, '@');
			p = at + 1;
			continue;
		}
		if (rc == SOTTO_OK)
			rc = sotto_buf_addstr(b, vars[i + 1]);
		p = at + 2 + strlen(vars[i]);
	}
	if (rc == SOTTO_OK)
		rc = sotto_buf_addstr(b, p);
	return rc;
}

/* Each document of docs, filled, after "---". */
static sotto_err
fill(struct sotto_buf *b, const char *const *docs, const char *const *vars)
{
	sotto_err rc = SOTTO_OK;
	size_t i;

	for (i = 0; docs[i] != NULL && rc == SOTTO_OK; i++)
		if ((rc = sotto_buf_addstr(b, "---\n")) == SOTTO_OK)
			rc = fill1(b, docs[i], vars);
	return rc;
}

/* group/version/plural of the kinds the install applies */
static const struct { const char *av, *kind, *group, *version, *plural;
    bool namespaced; } install_kinds[] = {
	{ "apiextensions.k8s.io/v1", "CustomResourceDefinition",
	    "apiextensions.k8s.io", "v1", "customresourcedefinitions", false },
	{ "v1", "Namespace", "", "v1", "namespaces", false },
	{ "v1", "ServiceAccount", "", "v1", "serviceaccounts", true },
	{ "rbac.authorization.k8s.io/v1", "ClusterRole",
	    "rbac.authorization.k8s.io", "v1", "clusterroles", false },
	{ "rbac.authorization.k8s.io/v1", "ClusterRoleBinding",
	    "rbac.authorization.k8s.io", "v1", "clusterrolebindings", false },
	{ "rbac.authorization.k8s.io/v1", "Role",
	    "rbac.authorization.k8s.io", "v1", "roles", true },
	{ "rbac.authorization.k8s.io/v1", "RoleBinding",
	    "rbac.authorization.k8s.io", "v1", "rolebindings", true },
	{ "apps/v1", "Deployment", "apps", "v1", "deployments", true },
};

bool
kops_install_ref(struct kref *ref, const json_t *obj)
{
	const char *av = kjson_str(obj, "apiVersion");
	const char *kind = kjson_str(obj, "kind");
	size_t i;

	memset(ref, 0, sizeof(*ref));
	for (i = 0; av != NULL && kind != NULL && i < sizeof(install_kinds) /
	    sizeof(install_kinds[0]); i++)
		if (strcmp(install_kinds[i].av, av) == 0 &&
		    strcmp(install_kinds[i].kind, kind) == 0) {
			ref->group = install_kinds[i].group;
			ref->version = install_kinds[i].version;
			ref->plural = install_kinds[i].plural;
			ref->name = kjson_str(obj, "metadata.name");
			if (install_kinds[i].namespaced)
				ref->ns = kjson_str(obj, "metadata.namespace");
			return ref->name != NULL;
		}
	return false;
}

/* A CRD of ours already there with a newer version: SOTTO_E_EXISTS. */
static sotto_err
check_crd_version(struct oconn *c, const json_t *crd, const char *ours,
    struct sotto_error *e)
{
	struct kref ref = { "apiextensions.k8s.io", "v1",
		"customresourcedefinitions", NULL, NULL, NULL };
	struct ksemver have, mine;
	const json_t *labels;
	const char *v;
	char shown[80];
	json_t *live = NULL;
	sotto_err rc;

	ref.name = kjson_str(crd, "metadata.name");
	rc = kops_req(c, &live, "GET", &ref, NULL, NULL, NULL, "cannot read "
	    "the CustomResourceDefinitions", e);
	if (rc == SOTTO_E_KUBE_NOTFOUND) {
		e->code = SOTTO_OK;
		e->msg[0] = '\0';
		return SOTTO_OK;
	}
	if (rc != SOTTO_OK)
		return rc;
	labels = kjson_get(live, "metadata.labels");
	v = json_string_value(json_object_get(labels,
	    SOTTO_OPS_VERSION_LABEL));
	if (v != NULL && ksemver_parse(&have, v) && ksemver_parse(&mine,
	    ours) && ksemver_cmp(&have, &mine) > 0) {
		kops_shown(shown, sizeof(shown), v, 60);
		rc = sotto_error_set(e, SOTTO_E_EXISTS, "CustomResourceDefinition "
		    "'%s' is labelled %s=%s, newer than this sotto (%s): not "
		    "overwritten (install with that version, or delete the "
		    "CRD first)", ref.name, SOTTO_OPS_VERSION_LABEL, shown,
		    ours);
	}
	json_decref(live);
	return rc;
}

static sotto_err
apply_obj(struct oconn *c, const json_t *obj, FILE *err,
    struct sotto_error *e)
{
	struct kref ref = { NULL, NULL, NULL, NULL, NULL, NULL };
	const char *av = kjson_str(obj, "apiVersion");
	const char *kind = kjson_str(obj, "kind");
	char what[400];
	size_t i;
	sotto_err rc;

	for (i = 0; i < sizeof(install_kinds) / sizeof(install_kinds[0]); i++)
		if (strcmp(install_kinds[i].av, av) == 0 &&
		    strcmp(install_kinds[i].kind, kind) == 0)
			break;
	if (i == sizeof(install_kinds) / sizeof(install_kinds[0]))
		return sotto_error_set(e, SOTTO_E_INTERNAL, "install: no "
		    "resource for %s", kind);
	ref.group = install_kinds[i].group;
	ref.version = install_kinds[i].version;
	ref.plural = install_kinds[i].plural;
	ref.name = kjson_str(obj, "metadata.name");
	if (install_kinds[i].namespaced)
		ref.ns = kjson_str(obj, "metadata.namespace");
	snprintf(what, sizeof(what), "cannot apply %s '%s'", kind, ref.name);
	rc = kops_req(c, NULL, "PATCH", &ref, "?fieldManager=sotto&force=true",
	    "application/apply-patch+yaml", obj, what, e);
	if (rc == SOTTO_OK)
		fprintf(err, "\xe2\x9c\x94 %s/%s%s%s applied\n", kind, ref.ns ?
		    ref.ns : "", ref.ns ? "/" : "", ref.name);
	return rc;
}

sotto_err
sotto_ops_install(const struct sotto_ops *o, bool export,
    bool components_only, bool crds_only, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_buf y = SOTTO_BUF_INIT;
	struct sotto_doc *doc = NULL;
	const char *vars[] = { "NS", o->ns, "VERSION", o->version, NULL };
	json_t **objs = NULL;
	struct oconn c;
	size_t i, n = 0;
	sotto_err rc = SOTTO_OK;

	memset(&c, 0, sizeof(c));
	if (kname_check("--namespace", o->ns, KN_LABEL, e) != SOTTO_OK)
		return e->code = SOTTO_E_USAGE;
	if (!components_only)
		rc = fill(&y, crds_yaml, vars);
	if (rc == SOTTO_OK && !crds_only)
		rc = fill(&y, components_yaml, vars);
	if (rc != SOTTO_OK) {
		sotto_buf_release(&y);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	if (export) {
		fwrite(y.data, 1, y.len, o->out);
		sotto_buf_release(&y);
		return SOTTO_OK;
	}
	rc = sotto_store_yaml.parse(&doc, y.data, y.len, "install", &lim, e);
	sotto_buf_release(&y);
	if (rc != SOTTO_OK)
		return rc;
	if ((objs = calloc(doc->n, sizeof(*objs))) == NULL) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	for (n = 0; n < doc->n; n++)
		if ((objs[n] = kjson_from_tree(doc->branches[n])) == NULL) {
			rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
			goto out;
		}
	if ((rc = kops_open(&c, o, e)) != SOTTO_OK)
		goto out;
	/* every CRD checked before anything is applied */
	for (i = 0; i < n && rc == SOTTO_OK; i++)
		if (strcmp(kjson_str(objs[i], "kind"),
		    "CustomResourceDefinition") == 0)
			rc = check_crd_version(&c, objs[i], o->version, e);
	for (i = 0; i < n && rc == SOTTO_OK; i++)
		rc = apply_obj(&c, objs[i], o->err, e);
	if (rc == SOTTO_OK)
		fprintf(o->err, "\xe2\x9c\x94 install finished\n");
out:
	kops_close(&c);
	for (i = 0; i < n; i++)
		json_decref(objs[i]);
	free(objs);
	if (doc != NULL)
		sotto_tree_doc_free(doc);
	return rc;
}

/*
 * What sotto_ops_install() would apply (CRDs and/or components) for
 * namespace ns, as a new JSON array (check and uninstall read it).
 */
sotto_err
kops_install_objects(json_t **out, const char *ns, const char *version,
    bool crds, bool components, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_buf y = SOTTO_BUF_INIT;
	struct sotto_doc *doc = NULL;
	const char *vars[] = { "NS", ns, "VERSION", version, NULL };
	json_t *arr = NULL, *o;
	size_t i;
	sotto_err rc = SOTTO_OK;

	*out = NULL;
	if (crds)
		rc = fill(&y, crds_yaml, vars);
	if (rc == SOTTO_OK && components)
		rc = fill(&y, components_yaml, vars);
	if (rc != SOTTO_OK) {
		sotto_buf_release(&y);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	rc = sotto_store_yaml.parse(&doc, y.data, y.len, "install", &lim, e);
	sotto_buf_release(&y);
	if (rc != SOTTO_OK)
		return rc;
	arr = json_array();
	for (i = 0; arr != NULL && i < doc->n; i++)
		if ((o = kjson_from_tree(doc->branches[i])) == NULL ||
		    json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	sotto_tree_doc_free(doc);
	if (arr == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	*out = arr;
	return SOTTO_OK;
}

/* ---- events ---------------------------------------------------------- */

static time_t
parse_ts(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return 0;
	return timegm(&tm);
}

static time_t
event_time(const json_t *ev)
{
	time_t t = parse_ts(kjson_str(ev, "lastTimestamp"));

	if (t == 0)
		t = parse_ts(kjson_str(ev, "eventTime"));
	if (t == 0)
		t = parse_ts(kjson_str(ev, "firstTimestamp"));
	return t;
}

static int
by_time(const void *a, const void *b)
{
	time_t x = event_time(*(json_t *const *)a);
	time_t y = event_time(*(json_t *const *)b);

	return x < y ? -1 : x > y;
}

/* kubectl's short age: 5s, 3m, 2h, 4d */
static void
age(char *out, size_t cap, time_t t)
{
	long d = (long)(time(NULL) - t);

	if (t == 0)
		snprintf(out, cap, "<unknown>");
	else if (d < 0)
		snprintf(out, cap, "0s");
	else if (d < 120)
		snprintf(out, cap, "%lds", d);
	else if (d < 7200)
		snprintf(out, cap, "%ldm", d / 60);
	else if (d < 172800)
		snprintf(out, cap, "%ldh", d / 3600);
	else
		snprintf(out, cap, "%ldd", d / 86400);
}

sotto_err
sotto_ops_events(const struct sotto_ops *o, const char *for_ref,
    struct sotto_error *e)
{
	struct kref ref = { "", "v1", "events", NULL, NULL, NULL };
	struct oconn c;
	json_t *j = NULL, *items, **v = NULL;
	const char *slash = for_ref ? strchr(for_ref, '/') : NULL;
	const char *k, *nm;
	char fk[64] = "", a[32], f[2][300];
	size_t i, n = 0, cnt;
	sotto_err rc;

	if (for_ref != NULL && (slash == NULL || slash == for_ref ||
	    (size_t)(slash - for_ref) >= sizeof(fk) ||
	    kname_invalid(slash + 1, KN_SEGMENT) != NULL)) {
		kops_shown(f[0], sizeof(f[0]), for_ref, 100);
		return sotto_error_set(e, SOTTO_E_USAGE, "--for '%s': want "
		    "Kind/NAME", f[0]);
	}
	if (for_ref != NULL)
		memcpy(fk, for_ref, (size_t)(slash - for_ref));
	if ((rc = kops_open(&c, o, e)) != SOTTO_OK)
		return rc;
	ref.ns = o->all_ns ? NULL : c.ns;
	rc = kops_req(&c, &j, "GET", &ref, NULL, NULL, NULL, "cannot list "
	    "events", e);
	kops_close(&c);
	if (rc != SOTTO_OK)
		return rc;
	items = json_object_get(j, "items");
	cnt = json_array_size(items);
	if ((v = calloc(cnt + 1, sizeof(*v))) == NULL) {
		json_decref(j);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	for (i = 0; i < cnt; i++) {
		json_t *ev = json_array_get(items, i);

		k = kjson_str(ev, "involvedObject.kind");
		nm = kjson_str(ev, "involvedObject.name");
		if (for_ref != NULL && (k == NULL || nm == NULL ||
		    strcasecmp(k, fk) != 0 || strcmp(nm, slash + 1) != 0))
			continue;
		v[n++] = ev;
	}
	qsort(v, n, sizeof(*v), by_time);
	if (n == 0) {
		fprintf(o->err, "No events found in %s namespace.\n",
		    o->all_ns ? "any" : c.ns);
		goto out;
	}
	/* columns: [NAMESPACE] LAST SEEN TYPE REASON OBJECT MESSAGE */
	{
		size_t w[6] = { 0 }, col, base = o->all_ns ? 0 : 1, r, l;
		const char *hdr[6] = { "NAMESPACE", "LAST SEEN", "TYPE",
			"REASON", "OBJECT", "MESSAGE" };
		char (*cells)[6][600] = calloc(n + 1, sizeof(*cells));

		if (cells == NULL) {
			rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
			goto out;
		}
		for (col = 0; col < 6; col++)
			snprintf(cells[0][col], 600, "%s", hdr[col]);
		for (r = 0; r < n; r++) {
			kops_shown(cells[r + 1][0], 600, kjson_str(v[r],
			    "metadata.namespace"), 63);
			age(a, sizeof(a), event_time(v[r]));
			snprintf(cells[r + 1][1], 600, "%s", a);
			kops_shown(cells[r + 1][2], 600, kjson_str(v[r],
			    "type"), 40);
			kops_shown(cells[r + 1][3], 600, kjson_str(v[r],
			    "reason"), 80);
			kops_shown(f[0], 64, kjson_str(v[r],
			    "involvedObject.kind"), 40);
			kops_shown(f[1], 300, kjson_str(v[r],
			    "involvedObject.name"), 253);
			snprintf(cells[r + 1][4], 600, "%.64s/%.300s", f[0],
			    f[1]);
			kops_shown(cells[r + 1][5], 600, kjson_str(v[r],
			    "message"), 500);
		}
		for (r = 0; r <= n; r++)
			for (col = base; col < 6; col++)
				if ((l = strlen(cells[r][col])) > w[col])
					w[col] = l;
		for (r = 0; r <= n; r++)
			for (col = base; col < 6; col++)
				if (col == 5)
					fprintf(o->out, "%s\n", cells[r][col]);
				else
					fprintf(o->out, "%-*s\t", (int)w[col],
					    cells[r][col]);
		free(cells);
	}
out:
	free(v);
	json_decref(j);
	return rc;
}
