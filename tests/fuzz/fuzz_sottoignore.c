/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: .sottoignore (sotto_guard_ignore_parse, gitignore
 * syntax) and its matcher (sotto_guard_ignore_match, sotto_guard_glob).
 * The input is the ignore file; up to its first NUL, the rest (if any)
 * holds paths to match, one a line, else a fixed set of paths is used.
 * Every line of the file is also tried as a glob on the paths.
 * Invariants: parsing only fails for out-of-memory; a match's reason
 * names the file and a line of it (".sottoignore:N '...'"); a pattern with
 * no special character matches itself as a path; an ignored path stays
 * ignored under any trailing "/x" unless a later '!' re-includes (checked
 * only for files with no '!').  Paths are capped at 256 bytes and 16 per
 * input, as the globs backtrack.  Seeds: tests/fuzz/seeds/fuzz_sottoignore/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/guard.h"

static const char *const fixed[] = { "tests/keys/a.txt", "vectors/x",
	"src/cli/cmd_keygen.c", "a/b/c/d/e.yaml", ".sops.yaml", "secret.env",
	"deep/nested/dir/", "x" };

static bool
plain(const char *s)
{
	return s[0] != '\0' && strpbrk(s, "*?[\\!#/ ") == NULL;
}

static void
match_one(const struct sotto_guard_ignore *ig, const char *path,
    bool no_negation)
{
	const char *why = sotto_guard_ignore_match(ig, path);
	char sub[300];

	if (why == NULL)
		return;
	if (strncmp(why, ".sottoignore:", 13) != 0 || why[13] < '1' ||
	    why[13] > '9')
		abort();
	if (no_negation && strlen(path) < 256 && path[0] != '\0' &&
	    path[strlen(path) - 1] != '/') {
		snprintf(sub, sizeof(sub), "%s/x", path);
		if (sotto_guard_ignore_match(ig, sub) == NULL)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sotto_guard_ignore *ig = NULL;
	struct sotto_error e = { SOTTO_OK, "" };
	const uint8_t *z = memchr(data, '\0', size);
	size_t flen = z ? (size_t)(z - data) : size, i, npaths = 0;
	char *paths[16], *buf, *p, *nl, *line, *lines;
	bool no_neg;
	sotto_err err;

	err = sotto_guard_ignore_parse(&ig, ".sottoignore", data, flen, &e);
	if (err != SOTTO_OK) {
		if (err != SOTTO_E_NOMEM || ig != NULL)
			abort();
		return 0;
	}
	no_neg = memchr(data, '!', flen) == NULL;
	buf = z ? strndup((const char *)z + 1, size - flen - 1) : NULL;
	for (p = buf; p != NULL && npaths < 16; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (strlen(p) <= 256)
			paths[npaths++] = p;
	}
	if (buf == NULL)
		for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			paths[npaths++] = (char *)fixed[i];
	for (i = 0; i < npaths; i++)
		match_one(ig, paths[i], no_neg);
	/* each short line of the file as a glob */
	lines = strndup((const char *)data, flen);
	for (line = lines; line != NULL; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (strlen(line) > 64)
			continue;
		if (plain(line) && !sotto_guard_glob(line, line))
			abort();
		for (i = 0; i < npaths; i++)
			(void)sotto_guard_glob(line, paths[i]);
	}
	free(lines);
	free(buf);
	sotto_guard_ignore_free(ig);
	return 0;
}
