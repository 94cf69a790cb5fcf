/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: GitRepository spec.ref.semver ranges and versions.
 * The input is "RANGE\nVERSION"; the range must give 1, 0 or -1, a parsed
 * version must compare equal to itself, and the best-of-list pick must
 * agree with matching one by one.  Seeds: tests/fuzz/seeds/fuzz_semver/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *nl;
	struct ksemver v;
	struct sotto_error e = { 0 };
	const char *tags[1];
	size_t best;
	int m;

	if (size > 4096 || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if ((nl = strchr(s, '\n')) != NULL)
		*nl++ = '\0';
	else
		nl = s;
	if (ksemver_parse(&v, nl)) {
		if (ksemver_cmp(&v, &v) != 0)
			abort();
		m = ksemver_match(s, &v);
		if (m < -1 || m > 1)
			abort();
		tags[0] = nl;
		if ((ksemver_best(&best, s, tags, 1, &e) == SOTTO_OK) !=
		    (m == 1))
			abort();
	}
	free(s);
	return 0;
}
