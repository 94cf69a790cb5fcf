/* SPDX-License-Identifier: ISC */
/*
 * The default field-spec tables (fieldspecs.c), internal to src/render/.
 */
#ifndef SOTTO_RENDER_FIELDSPECS_H
#define SOTTO_RENDER_FIELDSPECS_H

#include <stdbool.h>
#include <stddef.h>

#include "render/rint.h"

/* One default field spec of a transformer (enum rcfg_field). */
struct fsrow {
	enum rcfg_field field;
	const char *group, *version, *kind, *path;
	bool create;
};

/* A field of a referrer kind that holds a name. */
struct nrrow {
	const char *group, *version, *kind, *path;
};

/* The fields that refer to objects of one kind by name. */
struct nrtab {
	const char *group, *version, *kind;
	const struct nrrow *rows;
	size_t n;
};

const struct fsrow *rfs_default_rows(size_t *n);
const struct nrtab *rfs_default_namerefs(size_t *n);

#endif
