/* SPDX-License-Identifier: ISC */
/*
 * src/kube without a cluster: kubeconfig and in-cluster config loading,
 * the JSON path helpers, Go durations both ways, discovery lists, the
 * object set (stages, inventory ids, namespaces, owner labels, Secret
 * stringData), inventory id parsing, resource paths and Event bodies.
 */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "kube/kint.h"
#include "sotto/kube.h"
#include "sotto/store.h"
#include "sotto/tree.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sotto-test-kube.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to dir/name; returns the path (static buffer). */
static const char *
put(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* "hello" base64 "aGVsbG8=", "PEM" "UEVN" */
static const char kc_token[] =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: one\n"
    "clusters:\n"
    "- name: c1\n"
    "  cluster:\n"
    "    server: https://10.1.2.3:6443/\n"
    "    certificate-authority-data: UEVN\n"
    "- name: c2\n"
    "  cluster:\n"
    "    server: https://other.example:443\n"
    "    insecure-skip-tls-verify: true\n"
    "users:\n"
    "- name: u1\n"
    "  user:\n"
    "    token: tok-123\n"
    "- name: u2\n"
    "  user:\n"
    "    client-certificate-data: aGVsbG8=\n"
    "    client-key-data: UEVN\n"
    "contexts:\n"
    "- name: one\n"
    "  context:\n"
    "    cluster: c1\n"
    "    user: u1\n"
    "    namespace: apps\n"
    "- name: two\n"
    "  context:\n"
    "    cluster: c2\n"
    "    user: u2\n";

static void
assert_buf(const struct sotto_buf *b, const char *want)
{
	assert_int_equal(b->len, strlen(want));
	assert_memory_equal(b->data, want, b->len);
}

static void
test_config_current_context(void **state)
{
	struct sotto_kube_config c;
	struct sotto_error e = { SOTTO_OK, "" };

	(void)state;
	assert_int_equal(sotto_kube_config_load(&c, put("kc", kc_token), NULL,
	    &e), SOTTO_OK);
	assert_string_equal(c.server, "https://10.1.2.3:6443");	/* no '/' */
	assert_string_equal(c.namespace, "apps");
	assert_buf(&c.token, "tok-123");
	assert_true(c.token.secret);
	assert_buf(&c.ca, "PEM");
	assert_int_equal(c.cert.len, 0);
	assert_false(c.insecure);
	sotto_kube_config_free(&c);
	assert_null(c.server);
}

static void
test_config_named_context_client_cert(void **state)
{
	struct sotto_kube_config c;
	struct sotto_error e = { SOTTO_OK, "" };

	(void)state;
	assert_int_equal(sotto_kube_config_load(&c, put("kc", kc_token),
	    "two", &e), SOTTO_OK);
	assert_string_equal(c.server, "https://other.example:443");
	assert_string_equal(c.namespace, "default");
	assert_true(c.insecure);
	assert_int_equal(c.token.len, 0);
	assert_buf(&c.cert, "hello");
	assert_buf(&c.key, "PEM");
	assert_true(c.key.secret);
	assert_int_equal(c.ca.len, 0);
	sotto_kube_config_free(&c);
}

static void
test_config_files(void **state)
{
	struct sotto_kube_config c;
	struct sotto_error e = { SOTTO_OK, "" };
	char kc[2048], tok[256], key[256], ca[256];

	(void)state;
	snprintf(tok, sizeof(tok), "%s", put("token", "file-token\r\n"));
	snprintf(key, sizeof(key), "%s", put("key.pem", "KEYPEM"));
	snprintf(ca, sizeof(ca), "%s", put("ca.pem", "CAPEM"));
	snprintf(kc, sizeof(kc),
	    "current-context: x\n"
	    "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:8080', "
	    "certificate-authority: %s}}]\n"
	    "users: [{name: u, user: {tokenFile: %s, client-key: %s}}]\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
	    ca, tok, key);
	assert_int_equal(sotto_kube_config_load(&c, put("kc", kc), NULL, &e),
	    SOTTO_OK);
	assert_string_equal(c.server, "http://127.0.0.1:8080");
	assert_buf(&c.token, "file-token");	/* CR LF trimmed */
	assert_buf(&c.key, "KEYPEM");
	assert_buf(&c.ca, "CAPEM");
	sotto_kube_config_free(&c);

	/* relative names are taken from the kubeconfig's directory, as
	 * client-go does, wherever the caller is; "-" is a file, not stdin */
	put("-", "dash-token\n");
	assert_int_equal(sotto_kube_config_load(&c, put("kc-rel",
	    "current-context: x\n"
	    "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:8080', "
	    "certificate-authority: ca.pem}}]\n"
	    "users: [{name: u, user: {tokenFile: '-', client-key: "
	    "./key.pem}}]\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\n"), NULL,
	    &e), SOTTO_OK);
	assert_buf(&c.token, "dash-token");
	assert_buf(&c.key, "KEYPEM");
	assert_buf(&c.ca, "CAPEM");
	sotto_kube_config_free(&c);

	/* $KUBECONFIG: the first file of the list */
	snprintf(kc, sizeof(kc), "%s:/nonexistent", put("kc2", kc_token));
	setenv("KUBECONFIG", kc, 1);
	assert_int_equal(sotto_kube_config_load(&c, NULL, NULL, &e),
	    SOTTO_OK);
	assert_string_equal(c.namespace, "apps");
	sotto_kube_config_free(&c);
	unsetenv("KUBECONFIG");
}

/* Loads text and expects code with a message containing want. */
static void
config_fails(const char *text, const char *context, sotto_err code,
    const char *want)
{
	struct sotto_kube_config c;
	struct sotto_error e = { SOTTO_OK, "" };

	assert_int_equal(sotto_kube_config_load(&c, put("bad", text), context,
	    &e), code);
	assert_int_equal(e.code, code);
	if (strstr(e.msg, want) == NULL)
		fail_msg("message '%s' lacks '%s'", e.msg, want);
	assert_null(c.server);	/* released on error */
}

static void
test_config_errors(void **state)
{
	static const char head[] =
	    "current-context: x\n"
	    "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\n";
	char buf[1024];
	struct sotto_kube_config c;
	struct sotto_error e = { SOTTO_OK, "" };

	(void)state;
	snprintf(buf, sizeof(buf), "%susers: [{name: u, user: {exec: "
	    "{command: aws}}}]\n", head);
	config_fails(buf, NULL, SOTTO_E_KUBE_CONFIG, "kubeconfig: exec and "
	    "auth-provider credential plugins are not supported; use a token "
	    "or a client certificate");
	snprintf(buf, sizeof(buf), "%susers: [{name: u, user: "
	    "{auth-provider: {name: gcp}}}]\n", head);
	config_fails(buf, NULL, SOTTO_E_KUBE_CONFIG, "are not supported");
	config_fails("clusters: []\n", NULL, SOTTO_E_KUBE_CONFIG,
	    "has no current-context");
	config_fails(head, "nope", SOTTO_E_KUBE_CONFIG,
	    "context 'nope' not found");
	config_fails("current-context: x\nclusters: [{name: c, cluster: "
	    "{}}]\ncontexts: [{name: x, context: {cluster: c}}]\n", NULL,
	    SOTTO_E_KUBE_CONFIG, "context 'x' has no cluster server");
	config_fails("current-context: x\nclusters: [{name: c, cluster: "
	    "{server: 'https://h', certificate-authority-data: '%%%'}}]\n"
	    "contexts: [{name: x, context: {cluster: c}}]\n", NULL,
	    SOTTO_E_KUBE_CONFIG,
	    "'certificate-authority-data' is not valid base64");
	snprintf(buf, sizeof(buf), "%susers: [{name: u, user: {tokenFile: "
	    "%s/missing}}]\n", head, dir);
	config_fails(buf, NULL, SOTTO_E_NOTFOUND, "kubeconfig tokenFile");
	/* a user the context names but the file lacks: no credentials */
	assert_int_equal(sotto_kube_config_load(&c, put("ok", head), NULL,
	    &e), SOTTO_OK);
	assert_int_equal(c.token.len + c.cert.len + c.key.len, 0);
	sotto_kube_config_free(&c);
	/* a file that does not exist */
	snprintf(buf, sizeof(buf), "%s/none", dir);
	assert_int_not_equal(sotto_kube_config_load(&c, buf, NULL, &e),
	    SOTTO_OK);
	assert_non_null(strstr(e.msg, "cannot read kubeconfig"));
}

static void
test_config_in_cluster(void **state)
{
	struct sotto_kube_config c;
	struct sotto_error e = { SOTTO_OK, "" };
	char sa[128];

	(void)state;
	snprintf(sa, sizeof(sa), "%s/sa", dir);
	assert_int_equal(mkdir(sa, 0700), 0);
	put("sa/token", "sa-token\n");
	put("sa/ca.crt", "CLUSTERCA");
	put("sa/namespace", "flux-system\n");
	/* not in a cluster */
	assert_int_equal(sotto_kube_config_in_cluster(&c, sa, &e),
	    SOTTO_E_KUBE_CONFIG);
	assert_non_null(strstr(e.msg, "KUBERNETES_SERVICE_HOST is not set"));

	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
	assert_int_equal(sotto_kube_config_in_cluster(&c, sa, &e), SOTTO_OK);
	assert_string_equal(c.server, "https://10.96.0.1:6443");
	assert_buf(&c.token, "sa-token");
	assert_true(c.token.secret);
	assert_buf(&c.ca, "CLUSTERCA");
	assert_string_equal(c.namespace, "flux-system");
	sotto_kube_config_free(&c);

	/* IPv6 service host, default port, no namespace file */
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	unsetenv("KUBERNETES_SERVICE_PORT");
	unlink(put("sa/namespace", ""));
	assert_int_equal(sotto_kube_config_in_cluster(&c, sa, &e), SOTTO_OK);
	assert_string_equal(c.server, "https://[fd00::1]:443");
	assert_string_equal(c.namespace, "default");
	sotto_kube_config_free(&c);

	/* no token: an error naming the in-cluster config */
	unlink(put("sa/token", ""));
	assert_int_not_equal(sotto_kube_config_in_cluster(&c, sa, &e),
	    SOTTO_OK);
	assert_non_null(strstr(e.msg, "in-cluster config"));
	assert_null(c.server);

	/* the default lookup goes in-cluster when the variable is set (and
	 * the service account directory is the fixed one) */
	if (access(SOTTO_KUBE_SA_DIR "/token", R_OK) != 0) {
		assert_int_not_equal(sotto_kube_config_load(&c, NULL, NULL, &e),
		    SOTTO_OK);
		assert_non_null(strstr(e.msg, "in-cluster config"));
	}
	unsetenv("KUBERNETES_SERVICE_HOST");
}

/* ---- JSON helpers ------------------------------------------------------- */

static json_t *
from_yaml(const char *y)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_doc *doc = NULL;
	json_t *j;

	assert_int_equal(sotto_store_yaml.parse(&doc, (const uint8_t *)y,
	    strlen(y), "t.yaml", &lim, &e), SOTTO_OK);
	assert_true(doc->n >= 1);
	j = kjson_from_tree(doc->branches[0]);
	sotto_tree_doc_free(doc);
	assert_non_null(j);
	return j;
}

static void
test_json_paths(void **state)
{
	json_t *j = from_yaml("metadata:\n  name: app\n  labels:\n    a: b\n"
	    "spec:\n  interval: 10m\n  prune: true\n  replicas: 3\n"
	    "  ratio: 0.5\n  quoted: \"42\"\n  none: null\n"
	    "  list: [x, y]\n  # a comment\n");
	char longkey[300];

	(void)state;
	assert_string_equal(kjson_str(j, "metadata.name"), "app");
	assert_string_equal(kjson_str(j, "metadata.labels.a"), "b");
	assert_string_equal(kjson_str(j, "spec.interval"), "10m");
	assert_true(json_is_true(kjson_get(j, "spec.prune")));
	assert_int_equal(json_integer_value(kjson_get(j, "spec.replicas")), 3);
	assert_true(json_is_real(kjson_get(j, "spec.ratio")));
	assert_string_equal(kjson_str(j, "spec.quoted"), "42");
	assert_true(json_is_null(kjson_get(j, "spec.none")));
	assert_int_equal(json_array_size(kjson_get(j, "spec.list")), 2);
	assert_int_equal(json_object_size(kjson_get(j, "spec")), 7);
	/* absent, through a non-object, not a string */
	assert_null(kjson_get(j, "spec.missing"));
	assert_null(kjson_get(j, "metadata.name.x"));
	assert_null(kjson_get(j, "spec.list.0"));
	assert_null(kjson_str(j, "spec.replicas"));
	assert_null(kjson_str(NULL, "a"));
	assert_ptr_equal(kjson_get(j, ""), j);
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	assert_null(kjson_get(j, longkey));
	json_decref(j);
}

static void
test_durations(void **state)
{
	static const struct { const char *in; double secs; } ok[] = {
		{ "10m", 600 }, { "1h30m", 5400 }, { "30s", 30 },
		{ "500ms", 0.5 }, { "1m30s", 90 }, { "1.5h", 5400 },
		{ "2h0m0s", 7200 }, { "0s", 0 }, { "1h1ms", 3600.001 },
	};
	static const char *const bad[] = { "", "10", "10x", "-1s", "m",
	    "1m-2s", "s10", "1 m", "1d" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		double d = kduration(ok[i].in);

		if (d < ok[i].secs - 1e-9 || d > ok[i].secs + 1e-9)
			fail_msg("kduration(%s) = %f", ok[i].in, d);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (kduration(bad[i]) >= 0)
			fail_msg("kduration(%s) accepted", bad[i]);
	assert_true(kduration(NULL) < 0);
}

static void
test_duration_format(void **state)
{
	static const struct { double secs; const char *out; } v[] = {
		{ 600, "10m0s" }, { 5400, "1h30m0s" }, { 30, "30s" },
		{ 0.5, "500ms" }, { 1.5, "1.5s" }, { 0, "0s" },
		{ 3600, "1h0m0s" }, { 90.25, "1m30.25s" }, { 60, "1m0s" },
		{ 0.0000015, "1.5\xc2\xb5s" }, { 0.000000007, "7ns" },
		{ 0.0015, "1.5ms" }, { 86400, "24h0m0s" }, { -30, "-30s" },
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		kduration_fmt(out, sizeof(out), v[i].secs);
		assert_string_equal(out, v[i].out);
		/* what we print, we read back (Go's units but µs and ns) */
		if (v[i].secs >= 0.001)
			assert_true(kduration(out) > v[i].secs - 1e-9 &&
			    kduration(out) < v[i].secs + 1e-9);
	}
}

static void
test_timestamps(void **state)
{
	char ts[48];

	(void)state;
	know(ts, sizeof(ts), false);
	assert_int_equal(strlen(ts), 20);	/* 2026-01-02T03:04:05Z */
	assert_int_equal(ts[4], '-');
	assert_int_equal(ts[10], 'T');
	assert_int_equal(ts[19], 'Z');
	know(ts, sizeof(ts), true);
	assert_int_equal(strlen(ts), 27);	/* ...05.123456Z */
	assert_int_equal(ts[19], '.');
	assert_int_equal(ts[26], 'Z');
}

/* ---- discovery, the object set, the inventory --------------------------- */

static void
load_disc(struct kdisc *d)
{
	static const char *const lists[][3] = {
		{ "", "v1", "{\"resources\": ["
		    "{\"name\": \"namespaces\", \"kind\": \"Namespace\", "
		    "\"namespaced\": false},"
		    "{\"name\": \"namespaces/status\", "
		    "\"kind\": \"Namespace\", "
		    "\"namespaced\": false},"
		    "{\"name\": \"configmaps\", \"kind\": \"ConfigMap\", "
		    "\"namespaced\": true},"
		    "{\"name\": \"secrets\", \"kind\": \"Secret\", "
		    "\"namespaced\": true}]}" },
		{ "apps", "v1", "{\"resources\": [{\"name\": \"deployments\", "
		    "\"kind\": \"Deployment\", \"namespaced\": true},"
		    "{\"name\": \"deployments/scale\", \"kind\": \"Scale\", "
		    "\"namespaced\": true}]}" },
		{ "apiextensions.k8s.io", "v1", "{\"resources\": [{\"name\": "
		    "\"customresourcedefinitions\", \"kind\": "
		    "\"CustomResourceDefinition\", \"namespaced\": false}]}" },
		{ "rbac.authorization.k8s.io", "v1", "{\"resources\": "
		    "[{\"name\": \"clusterroles\", \"kind\": \"ClusterRole\", "
		    "\"namespaced\": false}]}" },
	};
	size_t i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		json_t *l = json_loads(lists[i][2], 0, NULL);

		assert_non_null(l);
		assert_int_equal(kube_disc_add(d, l, lists[i][0], lists[i][1]),
		    SOTTO_OK);
		json_decref(l);
	}
}

static void
test_discovery(void **state)
{
	struct kdisc d;
	const struct kres *r;
	struct sotto_buf b = SOTTO_BUF_INIT;

	(void)state;
	load_disc(&d);
	assert_int_equal(d.n, 6);	/* subresources skipped */
	r = kdisc_find(&d, "apps", "v1", "Deployment");
	assert_non_null(r);
	assert_string_equal(r->plural, "deployments");
	assert_true(r->namespaced);
	assert_null(kdisc_find(&d, "apps", "v2", "Deployment"));
	assert_non_null(kdisc_find(&d, "apps", NULL, "Deployment"));
	assert_null(kdisc_find(&d, "", "v1", "Deployment"));
	assert_null(kdisc_find(&d, "apps", "v1", "Scale"));

	assert_int_equal(kres_path(&b, r, "web", "front"), SOTTO_OK);
	assert_string_equal((char *)b.data,
	    "/apis/apps/v1/namespaces/web/deployments/front");
	sotto_buf_truncate(&b, 0);
	assert_int_equal(kres_path(&b, kdisc_find(&d, "", "v1", "ConfigMap"),
	    "default", NULL), SOTTO_OK);
	assert_string_equal((char *)b.data,
	    "/api/v1/namespaces/default/configmaps");
	sotto_buf_truncate(&b, 0);
	assert_int_equal(kres_path(&b, kdisc_find(&d, "", "v1", "Namespace"),
	    NULL, "team-a"), SOTTO_OK);
	assert_string_equal((char *)b.data, "/api/v1/namespaces/team-a");
	sotto_buf_release(&b);
	kdisc_free(&d);
	assert_int_equal(d.n, 0);
}

static void
test_stages(void **state)
{
	static const char *const first[] = { "CustomResourceDefinition",
	    "Namespace", "StorageClass", "IngressClass", "PriorityClass",
	    "RuntimeClass" };
	static const char *const later[] = { "ConfigMap", "Secret",
	    "Deployment", "ClusterRole", "Service", "Kustomization" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		assert_int_equal(kube_stage_of("", first[i]), 0);
	for (i = 0; i < sizeof(later) / sizeof(later[0]); i++)
		assert_int_equal(kube_stage_of("", later[i]), 1);
}

static const char stream[] =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n"
    "data:\n  color: blue\n"
    "---\n"
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n"
    "---\n"
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n"
    "  namespace: team-a\nstringData:\n  password: hunter2\n"
    "data:\n  user: YWRtaW4=\n"
    "---\n"
    "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
    "metadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n"
    "---\n"
    "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
    "---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
    "metadata:\n  name: reader\n  namespace: ignored\n";

static void
build_set(struct kset *s, struct kdisc *d, const char *yaml,
    const char *target_ns, struct sotto_error *e, sotto_err want)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	struct kapply_opts ao;

	memset(&ao, 0, sizeof(ao));
	ao.field_manager = "sotto";
	ao.ks_name = "app";
	ao.ks_ns = "flux-system";
	ao.target_ns = target_ns;
	assert_int_equal(sotto_buf_addstr(&b, yaml), SOTTO_OK);
	assert_int_equal(kset_build(s, &b, d, NULL, &ao, e), want);
	sotto_buf_release(&b);
}

static const struct kobj *
by_name(const struct kset *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	fail_msg("no object '%s'", name);
	return NULL;
}

static void
test_object_set(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct kdisc d;
	struct kset s;
	const struct kobj *o;
	json_t *inv;
	char *dump;

	(void)state;
	load_disc(&d);
	build_set(&s, &d, stream, NULL, &e, SOTTO_OK);
	assert_int_equal(s.n, 6);

	o = by_name(&s, "app-config");
	assert_int_equal(o->stage, 1);
	/* no namespace: none, as in Flux (the apply fails it, issue #14) */
	assert_null(o->ns);
	assert_null(kjson_get(o->o, "metadata.namespace"));
	assert_string_equal(json_string_value(json_object_get(kjson_get(o->o,
	    "metadata.labels"), "kustomize.toolkit.fluxcd.io/name")), "app");
	assert_string_equal(json_string_value(json_object_get(kjson_get(o->o,
	    "metadata.labels"), "kustomize.toolkit.fluxcd.io/namespace")),
	    "flux-system");

	o = by_name(&s, "team-a");
	assert_int_equal(o->stage, 0);
	assert_null(o->ns);
	assert_string_equal(o->id, "_team-a__Namespace");

	o = by_name(&s, "creds");
	assert_string_equal(o->id, "team-a_creds__Secret");
	/* stringData folded into data, as the API server stores it */
	assert_null(kjson_get(o->o, "stringData"));
	assert_string_equal(kjson_str(o->o, "data.password"), "aHVudGVyMg==");
	assert_string_equal(kjson_str(o->o, "data.user"), "YWRtaW4=");

	o = by_name(&s, "widgets.example.com");
	assert_int_equal(o->stage, 0);
	assert_string_equal(o->id, "_widgets.example.com_apiextensions.k8s.io_"
	    "CustomResourceDefinition");

	/* a kind its own CRD defines resolves after stage 0 */
	o = by_name(&s, "w");
	assert_null(o->res);
	assert_null(o->id);
	assert_int_equal(o->stage, 1);

	o = by_name(&s, "reader");	/* cluster-scoped: namespace dropped */
	assert_null(o->ns);
	assert_null(kjson_get(o->o, "metadata.namespace"));
	assert_string_equal(o->id, "_reader_rbac.authorization.k8s.io_"
	    "ClusterRole");

	/* inventory entries: sorted by id, with the version (an object
	 * without a namespace never gets that far) */
	inv = kset_inventory(&s);
	dump = json_dumps(inv, JSON_COMPACT);
	assert_string_equal(dump, "["
	    "{\"id\":\"_reader_rbac.authorization.k8s.io_ClusterRole\","
	    "\"v\":\"v1\"},"
	    "{\"id\":\"_team-a__Namespace\",\"v\":\"v1\"},"
	    "{\"id\":\"_widgets.example.com_apiextensions.k8s.io_"
	    "CustomResourceDefinition\",\"v\":\"v1\"},"
	    "{\"id\":\"team-a_creds__Secret\",\"v\":\"v1\"}]");
	free(dump);
	json_decref(inv);
	kset_free(&s);

	/* spec.targetNamespace overrides every namespaced object */
	build_set(&s, &d, stream, "prod", &e, SOTTO_OK);
	assert_string_equal(by_name(&s, "creds")->id, "prod_creds__Secret");
	assert_string_equal(by_name(&s, "app-config")->ns, "prod");
	assert_null(by_name(&s, "team-a")->ns);
	kset_free(&s);
	kdisc_free(&d);
}

static void
test_object_set_errors(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct kdisc d;
	struct kset s;

	(void)state;
	load_disc(&d);
	build_set(&s, &d, "apiVersion: v1\nmetadata:\n  name: x\n", NULL, &e,
	    SOTTO_E_PARSE);
	assert_string_equal(e.msg, "failed to decode Kubernetes apiVersion, "
	    "kind and name from: document x");
	kset_free(&s);
	build_set(&s, &d, "apiVersion: v1\nkind: Secret\nmetadata: {}\n"
	    "stringData: {password: hunter2}\n", NULL, &e, SOTTO_E_PARSE);
	assert_string_equal(e.msg, "failed to decode Kubernetes apiVersion, "
	    "kind and name from: Secret/");
	kset_free(&s);
	/* an empty name is no name (found by tests/fuzz/fuzz_kube_set.c) */
	build_set(&s, &d, "apiVersion: v1\nkind: Namespace\nmetadata:\n"
	    "  name: \"\"\n", NULL, &e, SOTTO_E_PARSE);
	assert_string_equal(e.msg, "failed to decode Kubernetes apiVersion, "
	    "kind and name from: Namespace/");
	kset_free(&s);
	build_set(&s, &d, "apiVersion: ''\nkind: Namespace\nmetadata:\n"
	    "  name: n\n", NULL, &e, SOTTO_E_PARSE);
	kset_free(&s);
	build_set(&s, &d, "apiVersion: example.com/v9\nkind: Gadget\n"
	    "metadata:\n  name: g\n", NULL, &e, SOTTO_E_KUBE_NOTFOUND);
	assert_string_equal(e.msg, "no matches for kind \"Gadget\" in version "
	    "\"example.com/v9\"");
	kset_free(&s);
	/* an empty stream is an empty set */
	build_set(&s, &d, "", NULL, &e, SOTTO_OK);
	assert_int_equal(s.n, 0);
	kset_free(&s);
	kdisc_free(&d);
}

static void
test_inventory_ids(void **state)
{
	char ns[256], name[256], group[256], kind[256];
	char big[400];

	(void)state;
	assert_true(kube_inventory_split("default_podinfo__Service", ns, name,
	    group, kind));
	assert_string_equal(ns, "default");
	assert_string_equal(name, "podinfo");
	assert_string_equal(group, "");
	assert_string_equal(kind, "Service");
	assert_true(kube_inventory_split("_team-a__Namespace", ns, name, group,
	    kind));
	assert_string_equal(ns, "");
	assert_string_equal(name, "team-a");
	assert_true(kube_inventory_split("web_front_apps_Deployment", ns, name,
	    group, kind));
	assert_string_equal(group, "apps");
	assert_string_equal(kind, "Deployment");
	assert_true(kube_inventory_split("_widgets.example.com_apiextensions."
	    "k8s.io_CustomResourceDefinition", ns, name, group, kind));
	assert_string_equal(name, "widgets.example.com");
	assert_string_equal(group, "apiextensions.k8s.io");
	/* not ids: too few parts, no name, no kind, a part too long */
	assert_false(kube_inventory_split("nounderscores", ns, name, group,
	    kind));
	assert_false(kube_inventory_split("a_b_c", ns, name, group, kind));
	assert_false(kube_inventory_split("ns___Kind", ns, name, group, kind));
	assert_false(kube_inventory_split("ns_name_group_", ns, name, group,
	    kind));
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "ns_", 3);
	memcpy(big + sizeof(big) - 4, "_g_K", 3);
	assert_false(kube_inventory_split(big, ns, name, group, kind));
}

/* ---- Events ------------------------------------------------------------ */

static void
test_event_body(void **state)
{
	json_t *ks = json_loads("{\"apiVersion\": \"kustomize.toolkit.fluxcd."
	    "io/v1\", \"kind\": \"Kustomization\", \"metadata\": {\"name\": "
	    "\"app\", \"namespace\": \"flux-system\", \"uid\": \"u-1\", "
	    "\"resourceVersion\": \"42\"}}", 0, NULL), *j;
	struct kevent ev;
	char big[3000];

	(void)state;
	assert_non_null(ks);
	memset(&ev, 0, sizeof(ev));
	ev.obj = ks;
	ev.type = "Warning";
	ev.reason = "BuildFailed";
	ev.message = "kustomization path not found: apps";
	ev.revision = "main@sha1:0123";
	ev.component = "sotto";
	ev.instance = "sotto-reconcile-7d9f-abcde";
	j = kevent_json(&ev, "app.17f", "2026-01-02T03:04:05Z");
	assert_non_null(j);
	assert_string_equal(kjson_str(j, "apiVersion"), "v1");
	assert_string_equal(kjson_str(j, "kind"), "Event");
	assert_string_equal(kjson_str(j, "metadata.name"), "app.17f");
	assert_string_equal(kjson_str(j, "metadata.namespace"), "flux-system");
	assert_string_equal(json_string_value(json_object_get(kjson_get(j,
	    "metadata.annotations"), "kustomize.toolkit.fluxcd.io/revision")),
	    "main@sha1:0123");
	assert_string_equal(kjson_str(j, "involvedObject.apiVersion"),
	    "kustomize.toolkit.fluxcd.io/v1");
	assert_string_equal(kjson_str(j, "involvedObject.kind"),
	    "Kustomization");
	assert_string_equal(kjson_str(j, "involvedObject.name"), "app");
	assert_string_equal(kjson_str(j, "involvedObject.namespace"),
	    "flux-system");
	assert_string_equal(kjson_str(j, "involvedObject.uid"), "u-1");
	assert_string_equal(kjson_str(j, "involvedObject.resourceVersion"),
	    "42");
	assert_string_equal(kjson_str(j, "type"), "Warning");
	assert_string_equal(kjson_str(j, "reason"), "BuildFailed");
	assert_string_equal(kjson_str(j, "message"), ev.message);
	assert_string_equal(kjson_str(j, "source.component"), "sotto");
	assert_string_equal(kjson_str(j, "reportingComponent"), "sotto");
	assert_string_equal(kjson_str(j, "reportingInstance"), ev.instance);
	assert_string_equal(kjson_str(j, "firstTimestamp"),
	    "2026-01-02T03:04:05Z");
	assert_string_equal(kjson_str(j, "lastTimestamp"),
	    "2026-01-02T03:04:05Z");
	assert_int_equal(json_integer_value(kjson_get(j, "count")), 1);
	json_decref(j);

	/* long messages are cut to 1 KiB, ending in an ellipsis */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ev.message = big;
	ev.revision = NULL;
	j = kevent_json(&ev, "app.1", "t");
	assert_int_equal(strlen(kjson_str(j, "message")), 1024);
	assert_string_equal(kjson_str(j, "message") + 1021, "\xe2\x80\xa6");
	assert_null(kjson_get(j, "metadata.annotations"));
	json_decref(j);
	json_decref(ks);
}

static void
test_event_names(void **state)
{
	char out[300], name[300], msg[16];

	(void)state;
	kevent_name(out, sizeof(out), "app", 0x18eb6fa623ee88f7ULL);
	assert_string_equal(out, "app.18eb6fa623ee88f7");
	memset(name, 'n', 253);
	name[253] = '\0';
	kevent_name(out, sizeof(out), name, 0x18eb6fa623ee88f7ULL);
	assert_int_equal(strlen(out), 253);
	assert_string_equal(out + 253 - 17, ".18eb6fa623ee88f7");

	/* cuts on a UTF-8 boundary: "ééééé" is 10 bytes */
	snprintf(msg, sizeof(msg), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	kevent_truncate(msg, 8);
	assert_string_equal(msg, "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
	snprintf(msg, sizeof(msg), "short");
	kevent_truncate(msg, 8);
	assert_string_equal(msg, "short");
}

/* ---- git source: spec.url allowlist, userinfo, cache names ------------- */

#define H KGIT_URL_HINT

static void
test_git_url_allowed(void **state)
{
	/* in, http, file: scheme, what libgit2 gets, host, port, user */
	static const struct {
		const char *in;
		bool http, file;
		enum kgit_scheme scheme;
		const char *url, *host;
		int port;
		const char *user;
	} ok[] = {
		{ "https://github.com/org/repo.git", false, false, KGIT_HTTPS,
		    "https://github.com/org/repo.git", "github.com", 443, "" },
		{ "HTTPS://Git.Example.COM:8443/x", false, false, KGIT_HTTPS,
		    "https://git.example.com:8443/x", "git.example.com", 8443,
		    "" },
		{ "https://user:p%40ss@host/r", false, false, KGIT_HTTPS,
		    "https://host/r", "host", 443, "user" },
		{ "https://tok@host/r", false, false, KGIT_HTTPS,
		    "https://host/r", "host", 443, "tok" },
		{ "https://[::1]:9/r", false, false, KGIT_HTTPS,
		    "https://[::1]:9/r", "::1", 9, "" },
		{ "https://a@b@host/r?x#y", false, false, KGIT_HTTPS,
		    "https://host/r?x#y", "host", 443, "a@b" },
		{ "http://10.0.0.1/r", true, false, KGIT_HTTP,
		    "http://10.0.0.1/r", "10.0.0.1", 80, "" },
		{ "ssh://git@host:2222/org/r", false, false, KGIT_SSH,
		    "ssh://host:2222/org/r", "host", 2222, "git" },
		{ "ssh+git://host/r", false, false, KGIT_SSH, "ssh://host/r",
		    "host", 22, "" },
		{ "git+ssh://me@host/~/r", false, false, KGIT_SSH,
		    "ssh://host/~/r", "host", 22, "me" },
		{ "git@github.com:org/repo.git", false, false, KGIT_SSH,
		    "github.com:org/repo.git", "github.com", 22, "git" },
		{ "host:/srv/r@v1", false, false, KGIT_SSH, "host:/srv/r@v1",
		    "host", 22, "" },
		{ "file:///srv/repo", false, true, KGIT_FILE,
		    "file:///srv/repo", "", 0, "" },
	};
	struct kgit_url u;
	struct sotto_error e = { SOTTO_OK, "" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (kgit_url_parse(&u, ok[i].in, ok[i].http, ok[i].file, &e) !=
		    SOTTO_OK)
			fail_msg("%s: %s", ok[i].in, e.msg);
		assert_int_equal(u.scheme, ok[i].scheme);
		assert_string_equal(u.url, ok[i].url);
		assert_string_equal(u.host, ok[i].host);
		assert_int_equal(u.port, ok[i].port);
		assert_string_equal(u.user, ok[i].user);
		kgit_url_wipe(&u);
	}
	assert_int_equal(kgit_url_parse(&u, "https://user:p%40ss@h/r", false,
	    false, &e), SOTTO_OK);
	assert_true(u.userinfo);
	assert_string_equal(u.pass, "p@ss");
	kgit_url_wipe(&u);
	assert_int_equal(kgit_url_parse(&u, "file:///srv/repo", false, true,
	    &e), SOTTO_OK);
	assert_string_equal(u.path, "/srv/repo");
	kgit_url_wipe(&u);
}

static void
test_git_url_refused(void **state)
{
	/* in, --allow-http-sources, --allow-file-sources, message */
	static const struct {
		const char *in;
		bool http, file;
		const char *msg;
	} bad[] = {
		{ "git://example.com/x", true, true, "spec.url "
		    "'git://example.com/x': scheme 'git' is not allowed " H },
		{ "http://h/r", false, true, "spec.url 'http://h/r': scheme "
		    "'http' is not allowed " H },
		{ "http://u:pw@h/r", false, false, "spec.url 'http://h/r': "
		    "scheme 'http' is not allowed " H },
		{ "file:///srv/r", true, false, "spec.url 'file:///srv/r': "
		    "scheme 'file' is not allowed " H },
		{ "ftp://h/r", true, true, "spec.url 'ftp://h/r': scheme 'ftp' "
		    "is not allowed " H },
		{ "/srv/repo", true, true, "spec.url '/srv/repo': a local path "
		    "is not a URL " H },
		{ "./x", true, true, "spec.url './x': a local path is not a "
		    "URL " H },
		{ "repo", true, true, "spec.url 'repo': a local path is not a "
		    "URL " H },
		{ "ext::sh", true, true, "spec.url 'ext::sh': 'transport::"
		    "address' URLs are not allowed " H },
		{ "fd::17", true, true, "spec.url 'fd::17': 'transport::"
		    "address' URLs are not allowed " H },
		{ "https://h/a b", true, true, "spec.url 'https://h/a b': "
		    "whitespace and control bytes are not allowed" },
		{ "https://h/a\nb", true, true, "spec.url 'https://h/a\\x0ab': "
		    "whitespace and control bytes are not allowed" },
		{ "https://u:secret@h/a\tb", true, true, "spec.url "
		    "'https://h/a\\x09b': whitespace and control bytes are not "
		    "allowed" },
		{ "", true, true, "spec.url is empty" },
		{ "https:///r", true, true, "spec.url 'https:///r': the host "
		    "is empty" },
		{ "https://u:pw@/r", true, true, "spec.url 'https:///r': the "
		    "host is empty" },
		{ ":repo", true, true, "spec.url ':repo': the host is empty" },
		{ "-oProxyCommand=x:r", true, true, "spec.url "
		    "'-oProxyCommand=x:r': host '-oProxyCommand=x' is not a "
		    "valid host name" },
		{ "ssh://-oProxyCommand=x/r", true, true, "spec.url "
		    "'ssh://-oProxyCommand=x/r': host '-oProxyCommand=x' is "
		    "not a valid host name" },
		{ "https://h%2fx/r", true, true, "spec.url 'https://h%2fx/r': "
		    "host 'h%2fx' is not a valid host name" },
		{ "https://[zz]/r", true, true, "spec.url 'https://[zz]/r': "
		    "host '[zz]' is not a valid host name" },
		{ "https://h:0/r", true, true, "spec.url 'https://h:0/r': port "
		    "'0' is not valid" },
		{ "https://h:99999/r", true, true, "spec.url "
		    "'https://h:99999/r': port '99999' is not valid" },
		{ "https://h:/r", true, true, "spec.url 'https://h:/r': port "
		    "'' is not valid" },
		{ "https://h:x/r", true, true, "spec.url 'https://h:x/r': port "
		    "'x' is not valid" },
		{ "https://h", true, true, "spec.url 'https://h': the "
		    "repository path is empty" },
		{ "https://h/", true, true, "spec.url 'https://h/': the "
		    "repository path is empty" },
		{ "host:", true, true, "spec.url 'host:': the repository path "
		    "is empty" },
		{ "ssh://git:pw@h/r", true, true, "spec.url 'ssh://h/r': a "
		    "password in an ssh URL is not allowed (the Secret's "
		    "'identity' authenticates)" },
		{ "git:pw@h:r", true, true, "spec.url 'h:r': a password in an "
		    "ssh URL is not allowed (the Secret's 'identity' "
		    "authenticates)" },
		{ "ssh://h/r'x", true, true, "spec.url 'ssh://h/r'x': a quote "
		    "(') in an ssh path is not allowed" },
		{ "h:r';x", true, true, "spec.url 'h:r';x': a quote (') in an "
		    "ssh path is not allowed" },
		{ "https://u:%zz@h/r", true, true, "spec.url 'https://h/r': "
		    "the user name or password is not valid percent-encoding "
		    "(or too long)" },
		{ "https://u:%00@h/r", true, true, "spec.url 'https://h/r': "
		    "the user name or password is not valid percent-encoding "
		    "(or too long)" },
		{ "https://u:p/w@h/r", true, true, "spec.url 'https://h/r': "
		    "the user name or password has a '/' (write it as %2F)" },
		{ "u:p/w@host:path", true, true, "spec.url 'host:path': a "
		    "password in an ssh URL is not allowed (the Secret's "
		    "'identity' authenticates)" },
		{ "abcdefghijklmnopqrstuvwxyz://u:pw@h/r", true, true,
		    "spec.url 'abcdefghijklmnopqrstuvwxyz://h/r': scheme "
		    "'abcdefghijklmnop' is not allowed " H },
		{ "file://host/srv/r", true, true, "spec.url "
		    "'file://host/srv/r': a file:// URL takes no host "
		    "(file:///path)" },
		{ "file:///srv/%2e%2e/r", true, true, "spec.url "
		    "'file:///srv/%2e%2e/r': percent-encoding is not allowed "
		    "in a file:// path" },
	};
	struct kgit_url u;
	struct sotto_error e = { SOTTO_OK, "" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (kgit_url_parse(&u, bad[i].in, bad[i].http, bad[i].file,
		    &e) != SOTTO_E_CONFIG)
			fail_msg("%s: accepted", bad[i].in);
		if (strcmp(e.msg, bad[i].msg) != 0)
			fail_msg("%s:\n got  %s\n want %s", bad[i].in, e.msg,
			    bad[i].msg);
		kgit_url_wipe(&u);
	}
}

static void
test_git_url_shown(void **state)
{
	static const struct { const char *in, *out; } v[] = {
		{ "https://user:pw@host/r", "https://host/r" },
		{ "https://a:b@c@host:1/r@x", "https://host:1/r@x" },
		{ "git@host:r", "host:r" },
		{ "u:pw@host:org/r", "host:org/r" },
		{ "host:org/r@v1", "host:org/r@v1" },
		{ "/srv/x@y", "/srv/x@y" },
		{ "https://u:p/w@h/r", "https://h/r" },
		{ "u:p/w@host:path", "host:path" },
		{ "https://h:8443/r@v1", "https://h:8443/r@v1" },
		{ "https://[::1]/r@v1", "https://[::1]/r@v1" },
		{ "https://h/\x1b[31m", "https://h/\\x1b[31m" },
	};
	char out[200], longurl[400];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		kgit_url_shown(out, sizeof(out), v[i].in);
		assert_string_equal(out, v[i].out);
	}
	memset(longurl, 'a', sizeof(longurl) - 1);
	longurl[sizeof(longurl) - 1] = '\0';
	memcpy(longurl, "https://", 8);
	kgit_url_shown(out, sizeof(out), longurl);
	assert_true(strlen(out) < 200);
	assert_string_equal(out + strlen(out) - 3, "...");
}

static void
test_git_cache_name(void **state)
{
	static const uint8_t key[KGIT_CACHE_KEY_BYTES] = { 1, 2, 3 };
	static const uint8_t key2[KGIT_CACHE_KEY_BYTES] = { 4 };
	static const char *const bad_ns[] = { "", "a/b", "..", "A", "a_b",
	    "-a", "a-", "a.b", "x\n", NULL };
	static const char *const bad_name[] = { "", "a/b", "..", "a..b",
	    ".a", "a.", "A", "a_b", "x\n", NULL };
	struct kgit_ref r, r2;
	struct kgit_url u, u2;
	struct sotto_error e = { SOTTO_OK, "" };
	char a[300], b[300];
	size_t i;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.src_ns = "tenant-a";
	r.src_name = "repo";
	assert_int_equal(kgit_url_parse(&u, "https://h/r", false, false, &e),
	    SOTTO_OK);
	assert_int_equal(kgit_cache_name(a, sizeof(a), &r, &u, key, &e),
	    SOTTO_OK);
	assert_int_equal(strlen(a), strlen("tenant-a_repo_") + 32);
	assert_memory_equal(a, "tenant-a_repo_", 14);
	/* the same GitRepository, URL, credentials and key: the same */
	assert_int_equal(kgit_cache_name(b, sizeof(b), &r, &u, key, &e),
	    SOTTO_OK);
	assert_string_equal(a, b);
	/* another namespace, name, key, URL or any credential: another */
	r2 = r;
	r2.src_ns = "tenant-b";
	assert_int_equal(kgit_cache_name(b, sizeof(b), &r2, &u, key, &e),
	    SOTTO_OK);
	assert_string_not_equal(a + 9, b + 9);
	r2 = r;
	r2.src_name = "repo2";
	assert_int_equal(kgit_cache_name(b, sizeof(b), &r2, &u, key, &e),
	    SOTTO_OK);
	assert_string_not_equal(a + 14, b + 15);
	assert_int_equal(kgit_cache_name(b, sizeof(b), &r, &u, key2, &e),
	    SOTTO_OK);
	assert_string_not_equal(a, b);
	assert_int_equal(kgit_url_parse(&u2, "https://h/r2", false, false,
	    &e), SOTTO_OK);
	assert_int_equal(kgit_cache_name(b, sizeof(b), &r, &u2, key, &e),
	    SOTTO_OK);
	assert_string_not_equal(a, b);
	kgit_url_wipe(&u2);
	assert_int_equal(kgit_url_parse(&u2, "https://x:y@h/r", false, false,
	    &e), SOTTO_OK);
	assert_string_equal(u2.url, u.url);
	assert_int_equal(kgit_cache_name(b, sizeof(b), &r, &u2, key, &e),
	    SOTTO_OK);
	assert_string_not_equal(a, b);
	assert_null(strstr(b, "y"));
	kgit_url_wipe(&u2);
#define DIFFERS(field, v) \
	r2 = r; \
	r2.field = v; \
	assert_int_equal(kgit_cache_name(b, sizeof(b), &r2, &u, key, &e), \
	    SOTTO_OK); \
	assert_string_not_equal(a, b);
	DIFFERS(username, "u");
	DIFFERS(password, "p");
	DIFFERS(bearer, "t");
	DIFFERS(identity, "k");
	DIFFERS(known_hosts, "h");
	DIFFERS(ca, "c");
#undef DIFFERS
	r2 = r;
	r2.username = "ab";
	assert_int_equal(kgit_cache_name(b, sizeof(b), &r2, &u, key, &e),
	    SOTTO_OK);
	r2.username = "a";
	r2.password = "b";
	assert_int_equal(kgit_cache_name(a, sizeof(a), &r2, &u, key, &e),
	    SOTTO_OK);
	assert_string_not_equal(a, b);
	/* names that could leave the cache or collide are refused */
	for (i = 0; bad_ns[i] != NULL; i++) {
		r2 = r;
		r2.src_ns = bad_ns[i];
		if (kgit_cache_name(b, sizeof(b), &r2, &u, key, &e) !=
		    SOTTO_E_CONFIG)
			fail_msg("namespace '%s' accepted", bad_ns[i]);
	}
	assert_string_equal(e.msg, "GitRepository namespace 'x\\x0a' is not a "
	    "valid DNS-1123 label");
	for (i = 0; bad_name[i] != NULL; i++) {
		r2 = r;
		r2.src_name = bad_name[i];
		if (kgit_cache_name(b, sizeof(b), &r2, &u, key, &e) !=
		    SOTTO_E_CONFIG)
			fail_msg("name '%s' accepted", bad_name[i]);
	}
	assert_string_equal(e.msg, "GitRepository name 'x\\x0a' is not a "
	    "valid DNS-1123 subdomain");
	r2 = r;
	r2.src_name = NULL;
	assert_int_equal(kgit_cache_name(b, sizeof(b), &r2, &u, key, &e),
	    SOTTO_E_CONFIG);
	/* a long name is cut; the hash still tells names apart */
	r2 = r;
	r2.src_name = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a."
	    "b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g."
	    "h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m."
	    "n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g";
	assert_int_equal(kgit_cache_name(b, sizeof(b), &r2, &u, key, &e),
	    SOTTO_OK);
	assert_true(strlen(b) <= 255);
	kgit_url_wipe(&u);
}

static void
test_git_private_dir(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	char p[200], want[400];

	(void)state;
	snprintf(p, sizeof(p), "%s/c/d", dir);
	assert_int_equal(kgit_private_dir(p, false, &e), SOTTO_E_IO);
	assert_int_equal(kgit_private_dir(p, true, &e), SOTTO_OK);
	assert_int_equal(kgit_private_dir(p, false, &e), SOTTO_OK);
	assert_int_equal(chmod(p, 0750), 0);
	assert_int_equal(kgit_private_dir(p, false, &e), SOTTO_E_IO);
	snprintf(want, sizeof(want), "cache directory '%s' is open to group "
	    "or others (mode 0750): it must be 0700", p);
	assert_string_equal(e.msg, want);
	snprintf(p, sizeof(p), "%s/c/link", dir);
	assert_int_equal(symlink("d", p), 0);
	assert_int_equal(kgit_private_dir(p, true, &e), SOTTO_E_IO);
	snprintf(want, sizeof(want), "cache directory '%s' is a symlink", p);
	assert_string_equal(e.msg, want);
	snprintf(p, sizeof(p), "%s/c/file", dir);
	put("c/file", "x");
	assert_int_equal(kgit_private_dir(p, true, &e), SOTTO_E_IO);
	snprintf(want, sizeof(want), "cache directory '%s' is not a "
	    "directory", p);
	assert_string_equal(e.msg, want);
}

#undef H

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_current_context),
		cmocka_unit_test(test_config_named_context_client_cert),
		cmocka_unit_test(test_config_files),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_in_cluster),
		cmocka_unit_test(test_json_paths),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_discovery),
		cmocka_unit_test(test_stages),
		cmocka_unit_test(test_object_set),
		cmocka_unit_test(test_object_set_errors),
		cmocka_unit_test(test_inventory_ids),
		cmocka_unit_test(test_event_body),
		cmocka_unit_test(test_event_names),
		cmocka_unit_test(test_git_url_allowed),
		cmocka_unit_test(test_git_url_refused),
		cmocka_unit_test(test_git_url_shown),
		cmocka_unit_test(test_git_cache_name),
		cmocka_unit_test(test_git_private_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
