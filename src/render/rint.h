/* SPDX-License-Identifier: ISC */
/*
 * Internal to src/render/: the object list, the render context and the
 * small tree helpers every stage shares.  Objects are MAP nodes holding
 * plaintext, so they are always freed with wiping.
 *
 * The model is kustomize's (api/resource, api/resmap): every object
 * carries, beside its tree, what kustomize keeps in build annotations
 * (the ids it had before each rename, the name prefixes and suffixes it
 * got, its generator behavior, whether it needs a hash suffix), and each
 * kustomization level builds an accumulator (objects, the transformer
 * field-spec configuration, vars) that its includer absorbs.
 */
#ifndef SOTTO_RENDER_RINT_H
#define SOTTO_RENDER_RINT_H

#include <stdbool.h>
#include <stddef.h>

#include "sotto/render.h"
#include "sotto/store.h"
#include "sotto/tree.h"

/* A growable list of strings (owned). */
struct rstrv {
	char **v;
	size_t n, cap;
};

/* An id an object had before a transformer changed it: kustomize's
 * previousKinds/Names/Namespaces (the namespace as EffectiveNamespace()
 * gave it then: "default" for none). */
struct rprev {
	char *kind, *name, *ns;
};

/* kustomize's generator behaviors; RB_NONE: not generated. */
enum rbeh { RB_NONE, RB_UNSPEC, RB_CREATE, RB_REPLACE, RB_MERGE };

struct robj {
	struct sotto_node *n;	/* the object (MAP), owned */
	char *origin;		/* file (relative to root) for messages */
	struct rprev *prev;	/* earlier ids, oldest first */
	size_t nprev;
	struct rstrv pfx, sfx;	/* name prefixes and suffixes added */
	struct rstrv vars;	/* vars whose objref is this object */
	unsigned char beh;	/* enum rbeh */
	bool hash;		/* generated: append the hash suffix */
};

struct rlist {
	struct robj *v;		/* objects in load order */
	size_t n, cap;
};

/*
 * Transformer field specs (kustomize's TransformerConfig): for each
 * built-in transformer, the fields it writes, by group/version/kind ("" is
 * any).  Strings are interned in the render context (rc_intern).
 */
struct rfs {
	const char *group, *version, *kind;
	const char *path;		/* "spec/template/metadata/labels" */
	const char *const *seg;		/* path split on '/' ('\/' kept) */
	size_t nseg;
	bool create;			/* create missing fields */
};

struct rfsl {
	struct rfs *v;
	size_t n, cap;
};

/* A nameReference entry: objects of this kind are referred to by name
 * in refs. */
struct rnbr {
	const char *group, *version, *kind;
	struct rfsl refs;
};

enum rcfg_field {
	RCF_PREFIX, RCF_SUFFIX, RCF_NAMESPACE, RCF_COMMONLABELS, RCF_LABELS,
	RCF_TEMPLATELABELS, RCF_ANNOTATIONS, RCF_VARREF, RCF_IMAGES,
	RCF_REPLICAS, RCF_N
};

/* What a config holds, to skip merges that change nothing. */
enum rcfg_state { RCS_EMPTY, RCS_DEFAULT, RCS_BASE, RCS_OTHER };

struct rcfg {
	struct rfsl fs[RCF_N];
	struct rnbr *nbr;
	size_t nnbr, cnbr;
	enum rcfg_state state;
	bool has_base;		/* the default config is merged in */
};

/* A var (kustomize's types.Var, defaulted). */
struct rvar {
	char *name;
	char *group, *version, *kind, *oname, *ons;	/* objref */
	char *fieldpath;				/* fieldref */
};

/* What one kustomization level builds (kustomize's ResAccumulator). */
struct racc {
	struct rlist l;
	struct rcfg cfg;
	struct rvar *vars;
	size_t nvars, cvars;
};

struct rmemo;
struct rschema;
struct rpool;

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
	struct rpool *pool;		/* interned strings (rc_intern) */
	size_t npool, cpool;
	size_t *phash, phcap;		/* index of pool (+1) */
	struct rcfg defcfg;		/* the default field specs, built once */
	struct rcfg basecfg;		/* an empty config merged with them */
	bool have_defcfg;
	struct rschema *schema;		/* OpenAPI state (schema.c) */
	unsigned schema_gen;		/* bumped when the schema changes */
	bool track_origin;		/* buildMetadata set: origins kept */
	bool origins;			/* buildMetadata: originAnnotations */
	bool transformations;		/* ... transformerAnnotations */
	bool managed_by;		/* ... managedByLabel */
	char *opath;			/* origin path of what is loading */
	struct sotto_node *sort;	/* the top's sortOptions, or NULL */
	struct sotto_doc *flux;		/* o->flux_overlay parsed (flux.c) */
	char *flux_dir;			/* the top directory it merges into */
	bool flux_synth;		/* the top has no kustomization file */
	struct rfetched *fetched;	/* remote bases fetched (build.c):
					   each URL and ref once */
	size_t nfetched;
};

/* ---- rnode.c: tree helpers (all return NULL / error on OOM) ---- */
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
bool rn_is_null(const struct sotto_node *n);
void rn_drop_styles(struct sotto_node *n);
bool rn_contains_marker(const struct sotto_node *n);
bool rn_equal(const struct sotto_node *a, const struct sotto_node *b);
/* yaml.v3's Node.Value: the text of a scalar, "" for anything else. */
const char *rn_value(const struct sotto_node *n);
/*
 * What a copy of n adds to a rendered stream, for the budget: its keys
 * and scalar text, and RN_NODE_COST per node (the indentation, ": " and
 * line break a node takes at least), so that a copy of many empty nodes
 * is not free.
 */
#define RN_NODE_COST 8
size_t rn_cost(const struct sotto_node *n);
sotto_err rn_to_json(struct sotto_buf *b, const struct sotto_node *n);
/* As rn_to_json(), with Go's json.Marshal typing of YAML scalars (what
 * kustomize's MarshalJSON gives): numbers, booleans and null as such. */
sotto_err rn_to_json_typed(struct sotto_buf *b, const struct sotto_node *n);

/* string lists */
sotto_err rsv_push(struct rstrv *s, const char *x);
sotto_err rsv_copy(struct rstrv *d, const struct rstrv *s);
void rsv_free(struct rstrv *s);
bool rsv_has(const struct rstrv *s, const char *x);

/* objects */
sotto_err rl_add(struct rlist *l, struct sotto_node *n, const char *origin,
    struct sotto_error *e);
void rl_free(struct rlist *l);
sotto_err rl_append(struct rlist *dst, struct rlist *src,
    struct sotto_error *e);
sotto_err rl_clone(struct rlist *dst, const struct rlist *src,
    struct sotto_error *e);
sotto_err robj_copy_meta(struct robj *d, const struct robj *s);
void robj_free(struct robj *o);		/* what it holds, not o itself */
void rl_remove(struct rlist *l, size_t i);
const char *robj_kind(const struct robj *o);
const char *robj_name(const struct robj *o);
const char *robj_ns(const struct robj *o);
const char *robj_apiversion(const struct robj *o);
/* kustomize's StorePreviousId: remembers the current id. */
sotto_err robj_store_prev(struct rctx *c, struct robj *o);

/* ---- rid.c: ids as kustomize compares them (kyaml/resid) ---- */

/* An id: borrowed strings; group and version point into an apiVersion. */
struct rid {
	const char *group;
	size_t glen;
	const char *version;
	size_t vlen;
	const char *kind, *name, *ns;	/* ns may be NULL */
};

void rid_gv(const char *apiversion, const char **group, size_t *glen,
    const char **version, size_t *vlen);
void robj_curid(const struct robj *o, struct rid *id);
/* i < o->nprev: a previous id (current group and version). */
void robj_previd(const struct robj *o, size_t i, struct rid *id);
/* The original id: the first previous one, else the current one. */
void robj_orgid(const struct robj *o, struct rid *id);
bool rid_cluster_scoped(struct rctx *c, const struct rid *id);
bool rc_cluster_scoped(struct rctx *c, const char *apiversion,
    const char *kind);
/* "default", the namespace, or "_non_namespaceable_". */
const char *rid_eff_ns(struct rctx *c, const struct rid *id);
bool rid_gvk_equal(const struct rid *a, const struct rid *b);
bool rid_equal(struct rctx *c, const struct rid *a, const struct rid *b);
/* Gvk.IsSelected: every non-empty part of the selector equals id's. */
bool rid_gvk_selected(const struct rid *id, const char *group,
    const char *version, const char *kind);
/* kustomize's ResId.String(): "Kind.version.group/name.namespace". */
void rid_string(char *out, size_t cap, const struct rid *id);
/* Any of o's ids (previous and current) equals id. */
bool robj_any_id_equal(struct rctx *c, const struct robj *o,
    const struct rid *id);

/*
 * A Kubernetes label selector (labels.Parse) matched against a map of
 * labels or annotations.  *ok false: the selector does not parse (kustomize
 * errors).
 */
bool rsel_match(const char *sel, const struct sotto_node *map, bool *ok);

/* kustomize's types.Selector compiled (anchored Go regexps). */
struct rsel {
	const char *group, *version, *kind, *name, *ns;	/* borrowed */
	const char *lsel, *asel;
	struct sotto_regex *re[5];
};
sotto_err rsel_init(struct rsel *s, const struct sotto_node *t,
    const char *what, struct sotto_error *e);
void rsel_free(struct rsel *s);
/* resWrangler.Select: original or current name and namespace. */
sotto_err rsel_match_obj(bool *hit, struct rctx *c, const struct rsel *s,
    const struct robj *o, struct sotto_error *e);

/* ---- render.c ---- */
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
sotto_err rc_load_bytes(struct rlist *l, struct rctx *c, const uint8_t *p,
    size_t n, const char *name, bool decrypt, struct sotto_error *e);
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
const char *rc_intern(struct rctx *c, const char *s, size_t n);
/* Interns a field-spec path and its segments (kyaml's PathSplitter on
 * '/': a segment ending in '\\' continues with the next). */
const char *rc_intern_path(struct rctx *c, const char *path,
    const char *const **seg, size_t *nseg);
void rc_pool_free(struct rctx *c);
/* Appends src's objects to ra (kustomize's AppendAll: an id already
 * registered is an error); src is left empty. */
sotto_err ra_append(struct racc *ra, struct rctx *c, struct rlist *src,
    const char *kname, struct sotto_error *e);
void ra_free(struct racc *ra);

/* ---- rconfig.c: field specs ---- */
sotto_err rcfg_default(struct rcfg *out, struct rctx *c,
    struct sotto_error *e);
sotto_err rcfg_copy(struct rcfg *dst, const struct rcfg *src,
    struct sotto_error *e);
/* kustomize's TransformerConfig.Merge into dst. */
sotto_err rcfg_merge(struct rcfg *dst, const struct rcfg *src,
    struct rctx *c, struct sotto_error *e);
/* A configurations file (kustomizeconfig) into out (empty). */
sotto_err rcfg_parse(struct rcfg *out, struct rctx *c,
    const struct sotto_node *doc, const char *name, struct sotto_error *e);
void rcfg_free(struct rcfg *c);
sotto_err rfsl_add(struct rfsl *l, struct rctx *c, const char *group,
    const char *version, const char *kind, const char *path, bool create,
    struct sotto_error *e);
sotto_err rfsl_merge(struct rfsl *dst, const struct rfsl *src,
    struct sotto_error *e);
void rfsl_free(struct rfsl *l);
sotto_err rfsl_copy(struct rfsl *d, const struct rfsl *s,
    struct sotto_error *e);
sotto_err rcfg_add_nbr(struct rcfg *cfg, struct rctx *c, const char *group,
    const char *version, const char *kind, const struct rfsl *refs,
    struct sotto_error *e);

/*
 * The field-spec walk (kustomize's api/filters/fieldspec): follows fs's
 * path in obj (every item of a list, "name[]" marks a list), creating
 * missing fields when fs->create and create_kind != 0
 * (SOTTO_NODE_MAP or SOTTO_NODE_SCALAR), and calls set on each node the
 * path reaches.  set may change the node in place.  The kind/apiVersion
 * check is the caller's.
 */
typedef sotto_err (*rfs_set_fn)(struct sotto_node *node, void *arg,
    struct sotto_error *e);
#define RFS_NOCREATE (-1)
sotto_err rfs_walk(struct sotto_node *obj, const struct rfs *fs,
    int create_kind, rfs_set_fn set, void *arg, const char *what,
    struct sotto_error *e);
/* fieldspec isMatchGVK on the object's current kind and apiVersion. */
bool rfs_match(const struct rfs *fs, const struct robj *o);

/* ---- transform.c: what a transformer writes is charged to c ---- */
sotto_err rt_namespace(struct rlist *l, struct rctx *c, const char *dir,
    const char *ns, const struct rfsl *fs, bool unset_only,
    const char *subjects, struct sotto_error *e);
sotto_err rt_affix(struct rlist *l, struct rctx *c, const char *dir,
    const char *affix, bool suffix, const struct rfsl *fs,
    struct sotto_error *e);
sotto_err rt_labels(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *pairs, const struct rfsl *fs,
    bool annotations, struct sotto_error *e);
sotto_err rt_image(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *image, const struct rfsl *fs,
    struct sotto_error *e);
sotto_err rt_replica(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *rep, const struct rfsl *fs,
    struct sotto_error *e);
sotto_err rt_hash_names(struct rlist *l, struct rctx *c,
    struct sotto_error *e);
sotto_err rt_annotations_strings(struct sotto_node *obj);

/* ---- nameref.c ---- */
sotto_err rt_namerefs(struct rlist *l, struct rctx *c,
    const struct rcfg *cfg, struct sotto_error *e);

/* ---- patch.c ---- */
sotto_err rp_patch(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *p, const char *kname, struct sotto_error *e);
sotto_err rp_psm(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *paths, const char *kname,
    struct sotto_error *e);
sotto_err rp_json6902(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *p, const char *kname, struct sotto_error *e);
/* smp.c: merges patch (taken) into *objp (the result; NULL when the
 * patch deletes the object). */
sotto_err rp_smp(struct sotto_node **objp, struct sotto_node *patch,
    struct rctx *c, const char *name, struct sotto_error *e);

/* ---- generate.c ---- */
sotto_err rg_configmap(struct rlist *out, struct rctx *c, const char *dir,
    const struct sotto_node *g, const struct sotto_node *gopt, bool secret,
    const char *kname, struct sotto_error *e);
/* kustomize's AbsorbAll: generated objects replace, merge or join. */
sotto_err rg_absorb(struct rlist *l, struct rctx *c, struct rlist *gen,
    const char *kname, struct sotto_error *e);
sotto_err rg_sotto_generator(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *cfg, const char *cfgname,
    struct sotto_error *e);

/* ---- output.c ---- */
sotto_err ro_sort(struct rlist *l, struct rctx *c,
    const struct sotto_node *opts, struct sotto_error *e);
/* Names, folded scalars and (unless keep_sops) no ciphertext left. */
sotto_err ro_check(struct rlist *l, bool keep_sops, struct sotto_error *e);
sotto_err ro_emit(struct sotto_buf *out, struct rlist *l, bool redact,
    struct sotto_error *e);

#endif
