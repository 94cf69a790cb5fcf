/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: a rendered YAML stream into the apply engine's object
 * set (kset_build: apiVersion/kind/name checks, kinds resolved against a
 * fixed discovery, namespaces, owner labels, Secret stringData -> data,
 * inventory ids, stages), then the inventory (kset_inventory).  No server
 * is involved: kset_build does not talk to one.  Invariants: a failure
 * sets a message and its code; every inventory entry is sorted, splits
 * (kube_inventory_split) into the object's own namespace, name, group and
 * kind when those hold no '_' (Kubernetes names cannot), and a Secret has
 * no stringData left.  Seeds: tests/fuzz/seeds/fuzz_kube_set/.
 */
#include <stdlib.h>
#include <string.h>

#include "kube/kint.h"

static struct kdisc disc;

static const char *const kinds[][5] = {
	/* group, version, kind, plural, namespaced */
	{ "", "v1", "ConfigMap", "configmaps", "y" },
	{ "", "v1", "Secret", "secrets", "y" },
	{ "", "v1", "Namespace", "namespaces", "" },
	{ "", "v1", "Service", "services", "y" },
	{ "apps", "v1", "Deployment", "deployments", "y" },
	{ "apiextensions.k8s.io", "v1", "CustomResourceDefinition",
	    "customresourcedefinitions", "" },
	{ "rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles",
	    "" },
	{ "example.com", "v1", "Widget", "widgets", "y" },
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	json_t *l;
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		l = json_pack("{s:[{s:s, s:s, s:b}]}", "resources", "name",
		    kinds[i][3], "kind", kinds[i][2], "namespaced",
		    kinds[i][4][0] != '\0');
		if (l == NULL ||
		    kube_disc_add(&disc, l, kinds[i][0], kinds[i][1]) != 0)
			abort();
		json_decref(l);
	}
	return 0;
}

static bool
has_us(const char *s)
{
	return s != NULL && strchr(s, '_') != NULL;
}

static void
check_obj(const struct kobj *ko)
{
	char ns[256], name[256], group[256], kind[256];

	if (strcmp(ko->kind, "Secret") == 0 && ko->group[0] == '\0' &&
	    json_is_object(json_object_get(ko->o, "stringData")))
		abort();
	if (ko->id == NULL)
		return;
	if (has_us(ko->ns) || has_us(ko->name) || has_us(ko->group) ||
	    has_us(ko->kind) || strlen(ko->id) > 4 * 255)
		return;
	if (!kube_inventory_split(ko->id, ns, name, group, kind) ||
	    strcmp(ns, ko->ns ? ko->ns : "") != 0 ||
	    strcmp(name, ko->name) != 0 || strcmp(group, ko->group) != 0 ||
	    strcmp(kind, ko->kind) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kapply_opts o = { 0 };
	struct sotto_buf yaml = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct kset s;
	json_t *inv, *x;
	const char *prev = NULL, *cur;
	size_t i;
	sotto_err err;

	o.field_manager = "sotto";
	o.ks_name = "app";
	o.ks_ns = "flux-system";
	o.target_ns = size > 0 && data[0] == '#' ? "target" : NULL;
	if (sotto_buf_add(&yaml, data, size) != SOTTO_OK)
		return 0;
	err = kset_build(&s, &yaml, &disc, NULL, &o, &e);
	if (err != SOTTO_OK) {
		if (e.code != err || e.msg[0] == '\0')
			abort();
		goto out;
	}
	for (i = 0; i < s.n; i++)
		check_obj(&s.v[i]);
	if ((inv = kset_inventory(&s)) == NULL)
		goto out;
	json_array_foreach(inv, i, x) {
		if ((cur = kjson_str(x, "id")) == NULL)
			abort();
		if (prev != NULL && strcmp(prev, cur) > 0)
			abort();
		prev = cur;
	}
	json_decref(inv);
out:
	kset_free(&s);
	sotto_buf_release(&yaml);
	return 0;
}
