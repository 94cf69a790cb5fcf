/* SPDX-License-Identifier: ISC */
/*
 * The kustomization build (build.c) and the stages it calls that have
 * files of their own: vars (vars.c), replacements (replace.c), plugins
 * given as resources (plugins.c), build metadata (origin.c).  Internal to
 * src/render/.
 */
#ifndef SOTTO_RENDER_BUILD_H
#define SOTTO_RENDER_BUILD_H

#include "render/rint.h"

/* A loaded kustomization. */
struct rkust {
	char *kname;		/* its file, relative to the root */
	char *kfile;		/* its file name ("kustomization.yaml") */
	struct sotto_node *k;	/* normalized by kust.c */
};

bool rb_has_kustomization(const char *dir);
sotto_err rb_load_kust(struct rkust *out, struct rctx *c, const char *dir,
    struct sotto_error *e);
void rb_kust_free(struct rkust *k);
sotto_err rb_check_ids(struct rlist *l, struct rctx *c, const char *kname,
    struct sotto_error *e);
sotto_err rb_resource(struct racc *ra, struct rctx *c, const char *dir,
    const char *ref, const char *kname, struct sotto_error *e);
sotto_err rb_after(struct racc *ra, struct rctx *c, const struct rkust *k,
    const char *kind, struct sotto_error *e);
/* The top kustomization's buildMetadata and sortOptions into c. */
sotto_err rb_top_options(struct rctx *c, const struct rkust *k,
    struct sotto_error *e);

/* flux.c: Flux's Kustomization spec merged into the top kustomization */
sotto_err rf_init(struct rctx *c, const char *absdir, struct sotto_error *e);
void rf_fini(struct rctx *c);
bool rf_is_top(const struct rctx *c, const char *dir);
sotto_err rf_merge(struct rctx *c, struct sotto_node *k, const char *kname,
    struct sotto_error *e);
sotto_err rf_synth(struct sotto_node **out, struct rctx *c, const char *dir,
    struct sotto_error *e);

/* render.c */
sotto_err rc_plain_dir(struct racc *ra, struct rctx *c, const char *dir,
    int depth, struct sotto_error *e);
char *rc_find_root(const char *dir);
bool rc_under_root(const struct rctx *c, const char *p);

/* rconfig.c */
sotto_err rc_load_config(struct rcfg *out, struct rctx *c, const char *dir,
    const char *path, const char *kname, struct sotto_error *e);
sotto_err rc_load_crds(struct rcfg *out, struct rctx *c, const char *dir,
    const struct sotto_node *paths, const char *kname,
    struct sotto_error *e);
sotto_err rc_parse_fsl(struct rfsl *out, struct rctx *c,
    const struct sotto_node *seq, struct sotto_error *e);

/* vars.c */
void rv_free(struct rvar *v);
sotto_err rv_add(struct racc *ra, const struct rvar *v,
    struct sotto_error *e);
sotto_err rv_merge_set(struct racc *ra, const struct racc *sub,
    const char *kname, struct sotto_error *e);
sotto_err rv_merge(struct racc *ra, struct rctx *c,
    const struct sotto_node *vars, const char *kname, struct sotto_error *e);
sotto_err rv_resolve(struct racc *ra, struct rctx *c, struct sotto_error *e);

/* replace.c */
sotto_err rr_replacements(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *list, const char *kname, struct sotto_error *e);

/* plugins.c */
sotto_err rx_generators(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, struct sotto_error *e);
sotto_err rx_transformers(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, struct sotto_error *e);
sotto_err rx_validators(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, struct sotto_error *e);

/* origin.c: buildMetadata */
sotto_err ro_origin_push(struct rctx *c, const char *ref, char **saved,
    struct sotto_error *e);
void ro_origin_pop(struct rctx *c, char *saved);
void ro_origin_free(struct rctx *c);
sotto_err ro_set_origin_path(struct robj *o, struct rctx *c, const char *path,
    struct sotto_error *e);
sotto_err ro_set_origin_builtin(struct rlist *l, struct rctx *c,
    const struct rkust *k, const char *kind, struct sotto_error *e);
sotto_err ro_add_transformation(struct rlist *l, struct rctx *c,
    const struct rkust *k, const char *kind, struct sotto_error *e);
/* The same for a plugin given as an entry of generators or transformers:
 * cfg is its configuration object. */
sotto_err ro_set_origin_plugin(struct rlist *l, struct rctx *c,
    const struct rkust *k, const struct robj *cfg, struct sotto_error *e);
sotto_err ro_add_transformation_plugin(struct rlist *l, struct rctx *c,
    const struct rkust *k, const struct robj *cfg, struct sotto_error *e);
sotto_err ro_build_metadata(struct rlist *l, struct rctx *c,
    struct sotto_error *e);

#endif
