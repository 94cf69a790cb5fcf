/* SPDX-License-Identifier: ISC */
/*
 * Issue #14, the classes made impossible: Kubernetes name rules, the one
 * request path builder (validated, percent-encoded segments), the last
 * check before a request is sent, header values, and the table of Flux
 * fields the agent implements (kpath.c, fields.c), and the children
 * killed at their deadline (child.c).
 */
#include "testutil.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kube/kint.h"

static void
test_name_rules(void **state)
{
	static const struct {
		const char *s;
		enum kname_rule r;
		bool ok;
	} t[] = {
		{ "tenant-a", KN_LABEL, true },
		{ "a", KN_LABEL, true },
		{ "0abc9", KN_LABEL, true },
		{ "", KN_LABEL, false },
		{ "-a", KN_LABEL, false },
		{ "a-", KN_LABEL, false },
		{ "A", KN_LABEL, false },
		{ "a.b", KN_LABEL, false },
		{ "a_b", KN_LABEL, false },
		{ "../../tenant-a", KN_LABEL, false },
		{ "sops-age", KN_SUBDOMAIN, true },
		{ "sops.age.key", KN_SUBDOMAIN, true },
		{ "../../tenant-a/secrets/sops-age", KN_SUBDOMAIN, false },
		{ "..", KN_SUBDOMAIN, false },
		{ "a..b", KN_SUBDOMAIN, false },
		{ ".a", KN_SUBDOMAIN, false },
		{ "a%2fb", KN_SUBDOMAIN, false },
		{ "a\r\nImpersonate-Group: system:masters", KN_SUBDOMAIN,
		    false },
		{ "system:controller:x", KN_SUBDOMAIN, false },
		{ "system:controller:x", KN_SEGMENT, true },
		{ "Mixed_Case.ok", KN_SEGMENT, true },
		{ ".", KN_SEGMENT, false },
		{ "..", KN_SEGMENT, false },
		{ "a/b", KN_SEGMENT, false },
		{ "a%b", KN_SEGMENT, false },
		{ "a\tb", KN_SEGMENT, false },
		{ "a\x7f", KN_SEGMENT, false },
		{ "", KN_SEGMENT, false },
		{ NULL, KN_SEGMENT, false },
	};
	char long_label[80], long_sub[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *why = kname_invalid(t[i].s, t[i].r);

		if ((why == NULL) != t[i].ok)
			fail_msg("'%s' rule %d: %s", t[i].s ? t[i].s : "(null)",
			    (int)t[i].r, why ? why : "accepted");
	}
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	assert_non_null(kname_invalid(long_label, KN_LABEL));
	long_label[63] = '\0';
	assert_null(kname_invalid(long_label, KN_LABEL));
	memset(long_sub, 'a', 254);
	for (i = 60; i < 254; i += 60)
		long_sub[i] = '.';
	long_sub[254] = '\0';
	assert_non_null(kname_invalid(long_sub, KN_SUBDOMAIN));
	long_sub[253] = '\0';
	assert_null(kname_invalid(long_sub, KN_SUBDOMAIN));
}

static void
test_name_check_message(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };

	(void)state;
	assert_int_equal(kname_check("spec.decryption.secretRef.name",
	    "../../tenant-a/secrets/sops-age", KN_SUBDOMAIN, &e),
	    SOTTO_E_CONFIG);
	assert_string_equal(e.msg, "spec.decryption.secretRef.name "
	    "'../../tenant-a/secrets/sops-age': not a DNS-1123 subdomain "
	    "(lowercase letters, digits, '-' and '.', starting and ending with "
	    "a letter or digit)");
	/* control bytes never reach a message raw */
	assert_int_equal(kname_check("spec.serviceAccountName",
	    "x\r\nImpersonate-Group: system:masters", KN_SUBDOMAIN, &e),
	    SOTTO_E_CONFIG);
	assert_string_equal(e.msg, "spec.serviceAccountName "
	    "'x\\x0d\\x0aImpersonate-Group: system:masters': must not contain "
	    "control characters");
	assert_int_equal(kname_check("f", "ok-name", KN_SUBDOMAIN, &e),
	    SOTTO_OK);
}

static void
test_path_builder(void **state)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct kref r = { "", "v1", "secrets", "tenant-b", "sops-age", NULL };

	(void)state;
	assert_int_equal(kpath_build(&b, &r, &e), SOTTO_OK);
	assert_string_equal((char *)b.data,
	    "/api/v1/namespaces/tenant-b/secrets/sops-age");
	sotto_buf_release(&b);
	r = (struct kref){ "kustomize.toolkit.fluxcd.io", "v1",
	    "kustomizations", "t", "app", "status" };
	assert_int_equal(kpath_build(&b, &r, &e), SOTTO_OK);
	assert_string_equal((char *)b.data, "/apis/kustomize.toolkit.fluxcd."
	    "io/v1/namespaces/t/kustomizations/app/status");
	assert_int_equal(kpath_query(&b, "fieldManager", "sotto x/y"),
	    SOTTO_OK);
	assert_int_equal(kpath_query(&b, "force", "true"), SOTTO_OK);
	assert_string_equal(strchr((char *)b.data, '?'),
	    "?fieldManager=sotto%20x%2Fy&force=true");
	sotto_buf_release(&b);
	/* RBAC names keep their ':'; anything else unusual is encoded */
	r = (struct kref){ "rbac.authorization.k8s.io", "v1", "clusterroles",
	    NULL, "system:aggregate to-view", NULL };
	assert_int_equal(kpath_build(&b, &r, &e), SOTTO_OK);
	assert_string_equal((char *)b.data, "/apis/rbac.authorization.k8s.io/"
	    "v1/clusterroles/system:aggregate%20to-view");
	sotto_buf_release(&b);
	/* all namespaces, cluster collections */
	r = (struct kref){ "source.toolkit.fluxcd.io", "v1", "gitrepositories",
	    NULL, NULL, NULL };
	assert_int_equal(kpath_build(&b, &r, &e), SOTTO_OK);
	assert_string_equal((char *)b.data,
	    "/apis/source.toolkit.fluxcd.io/v1/gitrepositories");
	sotto_buf_release(&b);
	/* refused, nothing appended */
	r = (struct kref){ "", "v1", "secrets", "tenant-b",
	    "../../tenant-a/secrets/sops-age", NULL };
	assert_int_equal(kpath_build(&b, &r, &e), SOTTO_E_CONFIG);
	assert_string_equal(e.msg, "name '../../tenant-a/secrets/sops-age': "
	    "may not contain '/' or '%'");
	assert_int_equal(b.len, 0);
	r = (struct kref){ "", "v1", "secrets", "..", "x", NULL };
	assert_int_equal(kpath_build(&b, &r, &e), SOTTO_E_CONFIG);
	r = (struct kref){ "", "v1", "secrets", "a", "..", NULL };
	assert_int_equal(kpath_build(&b, &r, &e), SOTTO_E_CONFIG);
	r = (struct kref){ "", "v1", "secrets", "a", "%2e%2e", NULL };
	assert_int_equal(kpath_build(&b, &r, &e), SOTTO_E_CONFIG);
	r = (struct kref){ "", "v1", "secrets", "a", "b", "../x" };
	assert_int_equal(kpath_build(&b, &r, &e), SOTTO_E_CONFIG);
	r = (struct kref){ "evil/../x", "v1", "secrets", "a", "b", NULL };
	assert_int_equal(kpath_build(&b, &r, &e), SOTTO_E_CONFIG);
	assert_int_equal(b.len, 0);
	sotto_buf_release(&b);
}

static void
test_path_safe(void **state)
{
	(void)state;
	assert_true(kpath_safe("/api/v1/namespaces/a/secrets/b"));
	assert_true(kpath_safe("/apis/g.io/v1/x?labelSelector=a%3Db&limit=5"));
	assert_true(kpath_safe("/api/v1/x/.hidden"));
	assert_false(kpath_safe("/api/v1/namespaces/a/secrets/../../b/c"));
	assert_false(kpath_safe("/api/v1/./x"));
	assert_false(kpath_safe("/api/v1/%2e%2E/x"));
	assert_false(kpath_safe("/api/v1/.%2e/x"));
	assert_false(kpath_safe("/api/v1/x/.."));
	assert_false(kpath_safe("/api/v1/x y"));
	assert_false(kpath_safe("/api/v1/x\r\nHost: evil"));
	assert_false(kpath_safe("/api/v1/x#frag"));
	assert_false(kpath_safe("/api/v1/x\\..\\y"));
	assert_false(kpath_safe("api/v1"));
	assert_false(kpath_safe(NULL));
	assert_false(kpath_safe("/api/v1/\xc3\xa9"));
}

static void
test_header_values(void **state)
{
	(void)state;
	assert_true(kheader_ok("system:serviceaccount:t:deployer"));
	assert_true(kheader_ok("a\tb"));
	assert_false(kheader_ok("x\r\nImpersonate-Group: system:masters"));
	assert_false(kheader_ok("x\n"));
	assert_false(kheader_ok("x\x7f"));
	assert_false(kheader_ok(NULL));
}

static json_t *
obj(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	assert_non_null(j);
	return j;
}

static void
test_fields(void **state)
{
	static const struct {
		const char *kind, *json, *reason, *msg;
	} t[] = {
		{ "Kustomization", "{\"spec\": {\"interval\": \"1m\", "
		    "\"prune\": true, \"path\": \"./app\", \"sourceRef\": "
		    "{\"kind\": \"GitRepository\", \"name\": \"repo\"}, "
		    "\"decryption\": {\"provider\": \"sops\", \"secretRef\": "
		    "{\"name\": \"sops-age\"}}, \"dependsOn\": [{\"name\": "
		    "\"base\"}], \"healthChecks\": [{\"apiVersion\": \"v1\", "
		    "\"kind\": \"Pod\", \"name\": \"p\", \"namespace\": "
		    "\"x\"}]}}", NULL, NULL },
		{ "Kustomization", "{\"spec\": {\"kubeConfig\": {\"secretRef\": "
		    "{\"name\": \"remote\"}}}}", "UnsupportedField",
		    "spec.kubeConfig is not supported by sotto: nothing is "
		    "applied (see sotto-reconcile(8))" },
		{ "Kustomization", "{\"spec\": {\"postBuild\": {\"substitute\": "
		    "{\"a\": \"b\", \"c.d\": \"\"}, \"substituteStrategy\": "
		    "\"Always\", \"substituteFrom\": [{\"kind\": \"Secret\", "
		    "\"name\": \"vars\", \"optional\": true}, {\"kind\": "
		    "\"ConfigMap\", \"name\": \"v\"}]}}}", NULL, NULL },
		{ "Kustomization", "{\"spec\": {\"postBuild\": {\"substitute\": "
		    "{\"replicas\": 3}}}}", "InvalidSpec",
		    "spec.postBuild.substitute 'replicas' must be a string "
		    "(quote numbers and booleans)" },
		{ "Kustomization", "{\"spec\": {\"postBuild\": "
		    "{\"substituteFrom\": [{\"kind\": \"Pod\", \"name\": "
		    "\"p\"}]}}}", "InvalidSpec",
		    "spec.postBuild.substituteFrom[].kind 'Pod': must be one of "
		    "ConfigMap, Secret" },
		{ "Kustomization", "{\"spec\": {\"postBuild\": "
		    "{\"substituteStrategy\": \"Never\"}}}", "InvalidSpec",
		    "spec.postBuild.substituteStrategy 'Never': must be one of "
		    "WithVariables, Always" },
		{ "Kustomization", "{\"spec\": {\"postBuild\": "
		    "{\"substituteFrom\": [{\"kind\": \"Secret\", \"name\": "
		    "\"../x\"}]}}}", "InvalidSpec",
		    "spec.postBuild.substituteFrom[].name '../x': not a DNS-1123 "
		    "subdomain (lowercase letters, digits, '-' and '.', starting "
		    "and ending with a letter or digit)" },
		{ "Kustomization", "{\"spec\": {\"postBuild\": "
		    "{\"substituteFrom\": [{\"kind\": \"Secret\", \"name\": "
		    "\"x\", \"namespace\": \"other\"}]}}}", "UnsupportedField",
		    "spec.postBuild.substituteFrom[].namespace is not a field "
		    "sotto knows in Kustomization v1: nothing is applied (see "
		    "sotto-reconcile(8))" },
		{ "Kustomization", "{\"spec\": {\"dependsOn\": [{\"name\": "
		    "\"a\", \"readyExpr\": \"true\"}]}}", "UnsupportedField",
		    "spec.dependsOn[].readyExpr is not supported by sotto: "
		    "nothing is applied (see sotto-reconcile(8))" },
		{ "Kustomization", "{\"spec\": {\"ignoreMissingComponents\": "
		    "false, \"patches\": [], \"deletionPolicy\": "
		    "\"MirrorPrune\"}}", NULL, NULL },
		{ "Kustomization", "{\"spec\": {\"deletionPolicy\": "
		    "\"Orphan\"}}", NULL, NULL },
		{ "Kustomization", "{\"spec\": {\"deletionPolicy\": "
		    "\"Forget\"}}", "InvalidSpec",
		    "spec.deletionPolicy 'Forget': must be one of MirrorPrune, "
		    "Delete, WaitForTermination, Orphan" },
		{ "Kustomization", "{\"spec\": {\"frobnicate\": 1}}",
		    "UnsupportedField", "spec.frobnicate is not a field sotto "
		    "knows in Kustomization v1: nothing is applied (see "
		    "sotto-reconcile(8))" },
		{ "Kustomization", "{\"spec\": {\"decryption\": {\"secretRef\": "
		    "{\"name\": \"../../tenant-a/secrets/sops-age\"}}}}",
		    "InvalidSpec", "spec.decryption.secretRef.name "
		    "'../../tenant-a/secrets/sops-age': not a DNS-1123 subdomain "
		    "(lowercase letters, digits, '-' and '.', starting and "
		    "ending with a letter or digit)" },
		{ "Kustomization", "{\"spec\": {\"interval\": \"10 minutes\"}}",
		    "InvalidSpec", "spec.interval '10 minutes': not a duration "
		    "such as 10m or 1h30m" },
		{ "Kustomization", "{\"spec\": {\"prune\": \"yes\"}}",
		    "InvalidSpec", "spec.prune must be true or false" },
		{ "Kustomization", "{\"spec\": {\"sourceRef\": {\"namespace\": "
		    "\"Tenant_A\"}}}", "InvalidSpec", "spec.sourceRef.namespace "
		    "'Tenant_A': not a DNS-1123 label (lowercase letters, "
		    "digits and '-', starting and ending with a letter or "
		    "digit)" },
		{ "GitRepository", "{\"spec\": {\"url\": \"https://h/r\", "
		    "\"interval\": \"5m\", \"ref\": {\"branch\": \"main\"}, "
		    "\"ignore\": \"/a\\n/b\\n\", \"provider\": \"generic\", "
		    "\"recurseSubmodules\": false}}", NULL, NULL },
		{ "GitRepository", "{\"spec\": {\"verify\": {\"mode\": "
		    "\"HEAD\", \"secretRef\": {\"name\": \"pgp\"}}}}",
		    "UnsupportedField", "spec.verify is not supported by "
		    "sotto: nothing is applied (see sotto-reconcile(8))" },
		{ "GitRepository", "{\"spec\": {\"include\": [{\"repository\": "
		    "{\"name\": \"x\"}}]}}", "UnsupportedField", "spec.include "
		    "is not supported by sotto: nothing is applied (see "
		    "sotto-reconcile(8))" },
		{ "GitRepository", "{\"spec\": {\"url\": \"https://h/\\r\\nx\"}}",
		    "InvalidSpec", "spec.url must not contain control "
		    "characters" },
	};
	struct sotto_error e = { SOTTO_OK, "" };
	const char *reason;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_t *j = obj(t[i].json);
		sotto_err rc = kfields_check(t[i].kind, j, &reason, &e);

		if (t[i].reason == NULL) {
			if (rc != SOTTO_OK)
				fail_msg("case %zu: %s", i, e.msg);
		} else {
			assert_int_equal(rc, SOTTO_E_CONFIG);
			assert_string_equal(reason, t[i].reason);
			assert_string_equal(e.msg, t[i].msg);
		}
		json_decref(j);
	}
}

static void
child_replies(void *arg, int fd)
{
	(void)arg;
	if (write(fd, "done", 4) != 4)
		_exit(1);
}

static void
child_hangs(void *arg, int fd)
{
	(void)arg;
	(void)fd;
	for (;;)
		pause();
}

static void
child_dies(void *arg, int fd)
{
	(void)arg;
	(void)fd;
	_exit(3);
}

static void
test_children(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct kchild c;
	char buf[8];
	int st;

	(void)state;
	assert_int_equal(kchild_start(&c, child_replies, NULL, 30, "test", &e),
	    SOTTO_OK);
	assert_int_equal(kchild_read(&c, buf, 4), 1);
	assert_memory_equal(buf, "done", 4);
	st = kchild_end(&c, false);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* a child that never answers is killed at its deadline */
	assert_int_equal(kchild_start(&c, child_hangs, NULL, 0.2, "test", &e),
	    SOTTO_OK);
	assert_int_equal(kchild_read(&c, buf, 4), -1);
	assert_true(c.late);
	st = kchild_end(&c, false);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* one that dies: end of file, its status */
	assert_int_equal(kchild_start(&c, child_dies, NULL, 30, "test", &e),
	    SOTTO_OK);
	assert_int_equal(kchild_read(&c, buf, 4), 0);
	assert_false(c.late);
	st = kchild_end(&c, true);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_rules),
		cmocka_unit_test(test_name_check_message),
		cmocka_unit_test(test_path_builder),
		cmocka_unit_test(test_path_safe),
		cmocka_unit_test(test_header_values),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_children),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
