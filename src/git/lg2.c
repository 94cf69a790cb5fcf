/* SPDX-License-Identifier: ISC */
/*
 * Loads libgit2 with dlopen() and resolves the functions struct lg2
 * lists.  Nothing else: callers own what they do with the library.
 */
#include "git/lg2.h"

#include <dlfcn.h>
#include <string.h>

sotto_err
sotto_lg2_open(struct lg2 *g, bool verify_hashes, struct sotto_error *e)
{
	const char *missing = NULL;

	memset(g, 0, sizeof(*g));
	g->handle = dlopen(SOTTO_LG2_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (g->handle == NULL)
		return sotto_error_set(e, SOTTO_E_GIT_LOAD, "cannot load "
		    "'%s' (install libgit2-1.5): %s", SOTTO_LG2_SONAME,
		    dlerror());
#define LG2_RESOLVE(f) \
	if (missing == NULL) { \
		*(void **)&g->f = dlsym(g->handle, #f); \
		if (g->f == NULL) \
			missing = #f; \
	}
	LG2_FUNCS(LG2_RESOLVE)
#undef LG2_RESOLVE
	if (missing != NULL) {
		dlclose(g->handle);
		g->handle = NULL;
		return sotto_error_set(e, SOTTO_E_GIT_LOAD, "'%s' lacks "
		    "'%s'", SOTTO_LG2_SONAME, missing);
	}
	if (g->git_libgit2_init() < 0) {
		dlclose(g->handle);
		g->handle = NULL;
		return sotto_error_set(e, SOTTO_E_GIT_LOAD, "cannot "
		    "initialise libgit2");
	}
	/* the guard only reads: skip re-hashing every object it loads */
	if (!verify_hashes)
		g->git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	return SOTTO_OK;
}

void
sotto_lg2_close(struct lg2 *g)
{
	if (g->handle == NULL)
		return;
	g->git_libgit2_shutdown();
	dlclose(g->handle);
	g->handle = NULL;
}

sotto_err
sotto_lg2_fail(struct lg2 *g, struct sotto_error *e, const char *what)
{
	const git_error *ge = g->git_error_last();

	return sotto_error_set(e, SOTTO_E_GIT, "%s: %s", what,
	    ge && ge->message ? ge->message : "unknown libgit2 error");
}
