/* SPDX-License-Identifier: ISC */
/* Remote bases (remote.c): kustomize's git URLs taken apart. */
#ifndef SOTTO_RENDER_REMOTE_H
#define SOTTO_RENDER_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "sotto/error.h"

struct rremote {
	char repo[2048];	/* the URL git fetches */
	char path[1024];	/* the directory in it ("" = its root) */
	char ref[256];		/* ?ref= (or ?version=): a tag, branch or
				   commit */
	double timeout;		/* ?timeout= in seconds, 0 = the default */
};

/*
 * spec for a message: a URL's "user:password@" dropped, control bytes as
 * \xNN, cut after 200 bytes ("..." marks the cut).
 */
#define RR_SHOWN_MAX 1024
void rr_shown(char *out, size_t cap, const char *spec);

/* Whether a resources/components entry is a URL rather than a path. */
bool rr_is_remote(const char *s);

/*
 * Takes a remote base apart: SOTTO_E_USAGE naming it when it is no git
 * URL kustomize accepts, has no ?ref= or an odd one, or an unknown query
 * parameter; SOTTO_E_UNSUPPORTED for an http(s) file or archive URL.
 */
sotto_err rr_parse(struct rremote *r, const char *spec,
    struct sotto_error *e);

#endif
