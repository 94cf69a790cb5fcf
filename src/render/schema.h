/* SPDX-License-Identifier: ISC */
/*
 * OpenAPI schemas (schema.c), internal to src/render/: the Kubernetes
 * schema kustomize builds in (v1.21.2: strategic-merge list keys and
 * scope), or a custom one a kustomization's `openapi` field names.
 */
#ifndef SOTTO_RENDER_SCHEMA_H
#define SOTTO_RENDER_SCHEMA_H

#include "render/rint.h"

/* A schema node: NULL for none. */
struct rsch;

/* kustomize's openapi.SetSchema for one kustomization (top: reset). */
sotto_err rs_set_schema(struct rctx *c, const char *dir,
    const struct sotto_node *openapi, const char *kname, bool top,
    struct sotto_error *e);
void rs_free(struct rctx *c);
/* A kind the custom schema (not the precomputed table) knows as
 * cluster-scoped. */
bool rs_cluster_scoped(struct rctx *c, const char *apiversion,
    const char *kind);
/* The schema of a resource type, of a field, of a list's items. */
const struct rsch *rs_for_type(struct rctx *c, const char *apiversion,
    const char *kind);
const struct rsch *rs_field(struct rctx *c, const struct rsch *s,
    const char *field);
const struct rsch *rs_elements(struct rctx *c, const struct rsch *s);
/* A list that strategic merge merges (patch strategy "merge"); *keys and
 * *nkeys: its merge keys (x-kubernetes-list-map-keys, else the patch
 * merge key; none for a list of scalars). */
bool rs_merge_list(const struct rsch *s, const char *const **keys,
    size_t *nkeys);

#endif
