/* SPDX-License-Identifier: ISC */
/*
 * The schema nodes behind struct rsch (schema.c and the generated
 * schema_k8s.c), internal to src/render/.
 */
#ifndef SOTTO_RENDER_SCHEMA_INT_H
#define SOTTO_RENDER_SCHEMA_INT_H

#include <stddef.h>

#include "render/schema.h"

#define RS_KNOWN 0x1	/* a schema exists */
#define RS_ARRAY 0x2	/* type: [array] */
#define RS_MERGE 0x4	/* x-kubernetes-patch-strategy includes merge */

struct rsprop {
	const char *name;
	const struct rsch *s;
};

struct rsch {
	unsigned flags;
	size_t nkeys;
	const char *const *keys;	/* merge keys */
	const struct rsprop *props;	/* sorted by name */
	size_t nprops;
	const struct rsch *items;	/* a merge list's items */
	const struct rsch *addl;	/* additionalProperties */
};

struct rsroot {
	const char *apiversion, *kind;
	const struct rsch *s;
};

struct rsdef {
	const char *name;
	const struct rsch *s;
};

extern const struct rsch rs_k8s_nodes[];
extern const struct rsdef rs_k8s_defs[];
extern const size_t rs_k8s_ndefs;
extern const struct rsroot rs_k8s_roots[];
extern const size_t rs_k8s_nroots;

#endif
