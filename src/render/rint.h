/* SPDX-License-Identifier: ISC */
/*
 * Internal to src/render/: the object list, the render context and the
 * small tree helpers every stage shares.  Objects are MAP nodes holding
 * plaintext, so they are always freed with wiping.
 */
#ifndef SOTTO_RENDER_RINT_H
#define SOTTO_RENDER_RINT_H

#include <stdbool.h>
#include <stddef.h>

#include "sotto/render.h"
#include "sotto/store.h"
#include "sotto/tree.h"

struct robj {
	struct sotto_node *n;	/* the object (MAP), owned */
	char *orig_name;	/* metadata.name when loaded/generated */
	char *orig_ns;		/* metadata.namespace then, or NULL */
	char *origin;		/* file (relative to root) for messages */
	bool hash;		/* generated: append the hash suffix */
};

struct rlist {
	struct robj *v;		/* objects in load order */
	size_t n, cap;
};

struct rmemo;

struct rctx {
	char *root;			/* realpath of the root */
	size_t rootlen;
	const struct sotto_render_opts *o;
	char **seen;			/* kustomization dirs being built */
	size_t nseen;
	size_t bytes;			/* bytes read or copied (rc_charge),
					   for the stream cap */
	size_t objects;			/* objects loaded, generated or copied
					   from memo, for the object cap */
	struct rmemo *memo;		/* kustomization dirs built as
					   resources (render.c) */
	size_t nmemo, cmemo;
	size_t *mhash, mhcap;		/* index of memo by dir (+1) */
};

/* rnode.c: tree helpers (all return NULL / error on OOM) */
struct sotto_node *rn_get(const struct sotto_node *map, const char *key);
const char *rn_str(const struct sotto_node *map, const char *key);
struct sotto_node *rn_path(const struct sotto_node *map, const char *path);
sotto_err rn_set(struct sotto_node *map, const char *key,
    struct sotto_node *val);
sotto_err rn_set_str(struct sotto_node *map, const char *key,
    const char *s);
struct sotto_node *rn_ensure_map(struct sotto_node *map, const char *key);
struct sotto_node *rn_ensure_path(struct sotto_node *map, const char *path);
void rn_del(struct sotto_node *map, const char *key);
struct sotto_node *rn_strnode(const char *s);
void rn_strip_comments(struct sotto_node *n);
struct sotto_node *rn_sorted_clone(const struct sotto_node *n);
bool rn_is_scalar(const struct sotto_node *n);
bool rn_contains_marker(const struct sotto_node *n);
/*
 * What a copy of n adds to a rendered stream, for the budget: its keys
 * and scalar text, and RN_NODE_COST per node (the indentation, ": " and
 * line break a node takes at least), so that a copy of many empty nodes
 * is not free.
 */
#define RN_NODE_COST 8
size_t rn_cost(const struct sotto_node *n);
sotto_err rn_to_json(struct sotto_buf *b, const struct sotto_node *n);

/* objects */
sotto_err rl_add(struct rlist *l, struct sotto_node *n, const char *origin,
    struct sotto_error *e);
void rl_free(struct rlist *l);
sotto_err rl_append(struct rlist *dst, struct rlist *src,
    struct sotto_error *e);
sotto_err rl_clone(struct rlist *dst, const struct rlist *src,
    struct sotto_error *e);
void robj_free(struct robj *o);		/* what it holds, not o itself */
const char *robj_kind(const struct robj *o);
const char *robj_name(const struct robj *o);
const char *robj_ns(const struct robj *o);
const char *robj_apiversion(const struct robj *o);

/* render.c */
sotto_err rc_init(struct rctx *c, const char *dir, char **absdir,
    const struct sotto_render_opts *o, struct sotto_error *e);
void rc_fini(struct rctx *c);
sotto_err rc_resolve(char **out, struct rctx *c, const char *dir,
    const char *rel, struct sotto_error *e);
const char *rc_rel(const struct rctx *c, const char *abs);
sotto_err rc_read(struct sotto_buf *out, struct rctx *c, const char *abs,
    struct sotto_error *e);
sotto_err rc_charge(struct rctx *c, size_t bytes, size_t objects,
    const char *what, struct sotto_error *e);
sotto_err rc_parse(struct sotto_doc **doc, const struct sotto_store *st,
    const struct sotto_buf *in, struct rctx *c, const char *abs,
    struct sotto_error *e);
sotto_err rc_load_file(struct rlist *l, struct rctx *c, const char *abs,
    struct sotto_error *e);
sotto_err rc_decrypt_doc(struct sotto_doc *doc, struct rctx *c,
    const char *name, struct sotto_error *e);
sotto_err rc_secret_value(struct sotto_node *obj, struct rctx *c,
    const char *origin, struct sotto_error *e);
sotto_err rc_secret_values(struct rlist *l, struct rctx *c,
    struct sotto_error *e);
bool rc_disabled(const struct sotto_node *obj);
sotto_err rc_check_keys(const struct sotto_node *map,
    const char *const *allowed, const char *what, const char *kname,
    struct sotto_error *e);
sotto_err rc_decrypt_bytes(struct sotto_buf *out, struct rctx *c,
    const char *name, const char *fmtname, const uint8_t *p, size_t n,
    struct sotto_error *e);

/* transform.c: what a transformer writes is charged to c (dir: the
 * kustomization, for the message) */
sotto_err rt_namespace(struct rlist *l, struct rctx *c, const char *dir,
    const char *ns, struct sotto_error *e);
sotto_err rt_affix(struct rlist *l, struct rctx *c, const char *dir,
    const char *prefix, const char *suffix, struct sotto_error *e);
sotto_err rt_labels(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *pairs, bool selectors, bool templates,
    struct sotto_error *e);
sotto_err rt_annotations(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *pairs, struct sotto_error *e);
sotto_err rt_images(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *images, struct sotto_error *e);
sotto_err rt_replicas(struct rlist *l, const struct sotto_node *reps,
    struct sotto_error *e);
sotto_err rt_hash_names(struct rlist *l, struct sotto_error *e);
sotto_err rt_namerefs(struct rlist *l, struct sotto_error *e);
bool rt_cluster_scoped(const char *kind);

/* patch.c */
sotto_err rp_patches(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *patches, bool legacy_smp, bool legacy_json,
    struct sotto_error *e);
sotto_err rp_smp(struct sotto_node *dst, const struct sotto_node *patch,
    const char *path, struct sotto_error *e);

/* generate.c */
sotto_err rg_generators(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *k, struct sotto_error *e);
sotto_err rg_sotto_generator(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *cfg, const char *cfgname,
    struct sotto_error *e);

/* output.c */
sotto_err ro_sort(struct rlist *l, struct sotto_error *e);
sotto_err ro_check(struct rlist *l, struct sotto_error *e);
sotto_err ro_emit(struct sotto_buf *out, struct rlist *l, bool redact,
    struct sotto_error *e);

#endif
