/* SPDX-License-Identifier: ISC */
/* Shared helpers for the cmocka unit tests. */
#ifndef SOTTO_TESTUTIL_H
#define SOTTO_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Directory of the shared vectors: $SOTTO_SHARED or ../shared. */
static inline const char *
test_shared_dir(void)
{
	const char *s = getenv("SOTTO_SHARED");

	return s != NULL ? s : "../shared";
}

/* Reads a whole file into a malloc'd NUL-terminated buffer; NULL if absent. */
static inline uint8_t *
test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 65537 > cap) {
			cap = (n + 65537) * 2;
			p = realloc(p, cap);
			if (p == NULL) {
				fclose(f);
				return NULL;
			}
		}
		r = fread(p + n, 1, 65536, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	p[n] = '\0';
	if (len != NULL)
		*len = n;
	return p;
}

static inline void
test_hex(char *out, const uint8_t *p, size_t n)
{
	static const char h[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = h[p[i] >> 4];
		out[2 * i + 1] = h[p[i] & 15];
	}
	out[2 * n] = '\0';
}

#endif
