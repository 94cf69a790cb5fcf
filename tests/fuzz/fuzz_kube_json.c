/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the API server's JSON as the agent reads it without a
 * server.  The input is one response body:
 *   - as an APIResourceList (kube_disc_add, as kdisc_load adds /api/v1 and
 *     each /apis/GROUP/VERSION), and as an APIGroupList whose groups and
 *     versions name the lists; every kind added must be found again
 *     (kdisc_find) and give a path (kres_path) under its group;
 *   - as a failed response's Status body (sotto_kube_status_error) for
 *     404, 409 and 500: the code follows the status and a message is set;
 *   - up to its first NUL, as an inventory id (kube_inventory_split): a
 *     split id joins back to itself.
 * Seeds: tests/fuzz/seeds/fuzz_kube_json/ (discovery and Status bodies).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kint.h"

static void
check_disc(const struct kdisc *d, size_t from)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	const struct kres *r;
	size_t i;

	for (i = from; i < d->n; i++) {
		r = kdisc_find(d, d->v[i].group, d->v[i].version, d->v[i].kind);
		if (r == NULL || strcmp(r->kind, d->v[i].kind) != 0)
			abort();
		sotto_buf_truncate(&b, 0);
		if (kres_path(&b, &d->v[i], "ns", "name") == SOTTO_OK &&
		    strncmp((const char *)b.data, d->v[i].group[0] ? "/apis/" :
		    "/api/v1", d->v[i].group[0] ? 6 : 7) != 0)
			abort();
	}
	sotto_buf_release(&b);
}

/* What kdisc_load does with /apis, each list being the same body. */
static void
groups(struct kdisc *d, const json_t *j)
{
	const json_t *g, *v;
	size_t i, x, before;

	json_array_foreach(json_object_get(j, "groups"), i, g) {
		const char *gn = json_string_value(json_object_get(g, "name"));

		json_array_foreach(json_object_get(g, "versions"), x, v) {
			const char *ver = json_string_value(json_object_get(v,
			    "version"));

			if (gn == NULL || ver == NULL || d->n > 4096)
				continue;
			before = d->n;
			if (kube_disc_add(d, j, gn, ver) != SOTTO_OK)
				return;
			check_disc(d, before);
		}
	}
}

static void
status(const uint8_t *data, size_t size, long st, sotto_err want)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct sotto_error e = { SOTTO_OK, "" };

	r.status = st;
	if (sotto_buf_add(&r.body, data, size) != SOTTO_OK)
		return;
	if (sotto_kube_status_error(&e, &r, "GET /api/v1/x") != want ||
	    e.code != want || e.msg[0] == '\0' ||
	    strncmp(e.msg, "GET /api/v1/x", 13) != 0)
		abort();
	sotto_kube_resp_release(&r);
}

static void
inventory(const uint8_t *data, size_t size)
{
	char ns[256], name[256], group[256], kind[256], *id, *join;
	size_t n = strnlen((const char *)data, size);

	if ((id = malloc(n + 1)) == NULL)
		return;
	memcpy(id, data, n);
	id[n] = '\0';
	if (kube_inventory_split(id, ns, name, group, kind)) {
		if (name[0] == '\0' || kind[0] == '\0' ||
		    (join = malloc(n + 1)) == NULL)
			abort();
		snprintf(join, n + 1, "%s_%s_%s_%s", ns, name, group, kind);
		if (strcmp(join, id) != 0)
			abort();
		free(join);
	}
	free(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kdisc d = { NULL, 0, 0 };
	json_t *j;

	if ((j = json_loadb((const char *)data, size, 0, NULL)) != NULL) {
		if (kube_disc_add(&d, j, "", "v1") == SOTTO_OK)
			check_disc(&d, 0);
		groups(&d, j);
		kdisc_free(&d);
		json_decref(j);
	}
	status(data, size, 404, SOTTO_E_KUBE_NOTFOUND);
	status(data, size, 409, SOTTO_E_KUBE_CONFLICT);
	status(data, size, 500, SOTTO_E_KUBE_API);
	inventory(data, size);
	return 0;
}
