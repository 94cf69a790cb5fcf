/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: what a tenant controls in a Kustomization or a
 * GitRepository (issue #14).  The input is used
 *   - as JSON, an object's spec, checked against the field table
 *     (kfields_check) for both kinds: a refusal always names a reason and
 *     a field, an acceptance leaves none;
 *   - split at its first NUL bytes into up to four strings, as the
 *     namespace, name, subresource and a query value of a request path:
 *     whatever kpath_build accepts must pass kpath_safe (no dot segment,
 *     visible ASCII only), and every name it takes must be one
 *     kname_invalid accepts; a refused path appends nothing.
 * Seeds: tests/fuzz/seeds/fuzz_kube_spec/.
 */
#include <stdlib.h>
#include <string.h>

#include "kube/kint.h"

static void
spec(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = { "Kustomization", "GitRepository" };
	struct sotto_error e = { SOTTO_OK, "" };
	const char *reason;
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < 2; i++) {
		sotto_error_clear(&e);
		if (kfields_check(kinds[i], j, &reason, &e) == SOTTO_OK) {
			if (reason != NULL)
				abort();
		} else if (reason == NULL || e.code != SOTTO_E_CONFIG ||
		    strncmp(e.msg, "spec", 4) != 0) {
			abort();
		}
	}
	json_decref(j);
}

static void
path(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *part[4] = { "", "", "", "" };
	struct sotto_buf b = SOTTO_BUF_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct kref r;
	size_t i, n = 0;

	if (buf == NULL)
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	part[n++] = buf;
	for (i = 0; i < size && n < 4; i++)
		if (buf[i] == '\0')
			part[n++] = buf + i + 1;
	memset(&r, 0, sizeof(r));
	r.group = "";
	r.version = "v1";
	r.plural = "secrets";
	r.ns = part[0];
	r.name = part[1];
	r.sub = part[2][0] ? part[2] : NULL;
	if (kpath_build(&b, &r, &e) == SOTTO_OK) {
		if (kname_invalid(r.ns, KN_LABEL) != NULL ||
		    kname_invalid(r.name, KN_SEGMENT) != NULL ||
		    !kpath_safe((const char *)b.data))
			abort();
		if (kpath_query(&b, "continue", part[3]) != SOTTO_OK ||
		    !kpath_safe((const char *)b.data))
			abort();
	} else if (b.len != 0 || e.msg[0] == '\0') {
		abort();
	}
	/* every header value the client would send is checked the same way */
	if (kheader_ok(part[1]) && strpbrk(part[1], "\r\n") != NULL)
		abort();
	sotto_buf_release(&b);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spec(data, size);
	path(data, size);
	return 0;
}
