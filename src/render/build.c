/* SPDX-License-Identifier: ISC */
/*
 * The kustomization build, in kustomize's order (api/internal/target
 * kusttarget.go): each kustomization level loads its file (kust.c checks
 * every field), accumulates its resources (files, and directories built
 * as kustomizations of their own, absorbed with an id check), merges its
 * field-spec configuration, runs its generators, applies its components in
 * its own accumulator, runs the built-in transformers in kustomize's
 * order and then its `transformers`, and records its vars.  At the top,
 * as kustomize does once for the whole build: generator hash suffixes,
 * name references, vars, local-config objects dropped, the order, the
 * build metadata.
 *
 * A directory listed as a resource builds the same whoever lists it, so a
 * directory listed again is copied from a memo rather than built again.
 */
#include "render/rint.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render/build.h"
#include "render/kust.h"
#include "render/remote.h"
#include "render/schema.h"

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

/* Kustomizations that include each other deeper than this are refused:
 * the walk recurses once per level. */
#define MAX_NESTING 64

static const char *const kust_names[] = {
	"kustomization.yaml", "kustomization.yml", "Kustomization", NULL
};

/* Finds the kustomization file of dir: 1 found, 0 none, -1 several. */
static int
find_kust(char **path, const char *dir)
{
	char buf[PATH_MAX];
	struct stat st;
	int i, found = 0;

	*path = NULL;
	for (i = 0; kust_names[i] != NULL; i++) {
		snprintf(buf, sizeof(buf), "%s/%s", dir, kust_names[i]);
		if (lstat(buf, &st) == 0 && !S_ISDIR(st.st_mode)) {
			if (found++) {
				free(*path);
				*path = NULL;
				return -1;
			}
			*path = strdup(buf);
		}
	}
	return found;
}

bool
rb_has_kustomization(const char *dir)
{
	char *p = NULL;
	int f = find_kust(&p, dir);

	free(p);
	return f != 0;
}

/* ---- the kustomization file ---- */

static bool
empty_value(const struct sotto_node *v)
{
	if (v == NULL)
		return true;
	if (v->kind != SOTTO_NODE_SCALAR)
		return false;
	if (v->type == SOTTO_T_BOOL)
		return strcmp(v->text, "false") == 0;
	if (v->type == SOTTO_T_INT)
		return strcmp(v->text, "0") == 0;
	return v->len == 0;
}

/* kustomize's CheckEmpty: nothing but apiVersion and kind. */
static bool
kust_empty(const struct sotto_node *k)
{
	size_t i;

	for (i = 0; i < k->n; i++) {
		const char *key = k->items[i].key;

		if (key == NULL || strcmp(key, "apiVersion") == 0 ||
		    strcmp(key, "kind") == 0)
			continue;
		if (!empty_value(k->items[i].val))
			return false;
	}
	return true;
}

/* Appends the items of list `from` to list `to` (created if needed) and
 * drops `from`: kustomize's FixKustomization for legacy spellings. */
static sotto_err
fold_list(struct sotto_node *k, const char *from, const char *to)
{
	struct sotto_node *f = rn_get(k, from), *t;
	size_t i;

	if (f == NULL)
		return SOTTO_OK;
	if ((t = rn_get(k, to)) == NULL) {
		if (rn_set(k, to, sotto_tree_new_seq()) != SOTTO_OK)
			return SOTTO_E_NOMEM;
		t = rn_get(k, to);
	}
	for (i = 0; i < f->n; i++) {
		if (sotto_tree_seq_add(t, f->items[i].val) != SOTTO_OK)
			return SOTTO_E_NOMEM;
		f->items[i].val = NULL;
	}
	f->n = 0;
	rn_del(k, from);
	return SOTTO_OK;
}

/* A generator's legacy `env` is appended to its `envs`. */
static sotto_err
fold_env(struct sotto_node *gens)
{
	size_t i;

	for (i = 0; gens != NULL && i < gens->n; i++) {
		struct sotto_node *g = gens->items[i].val, *env, *envs;

		if ((env = rn_get(g, "env")) == NULL)
			continue;
		if (env->len > 0) {
			if ((envs = rn_get(g, "envs")) == NULL) {
				if (rn_set(g, "envs", sotto_tree_new_seq()) !=
				    SOTTO_OK)
					return SOTTO_E_NOMEM;
				envs = rn_get(g, "envs");
			}
			if (sotto_tree_seq_add(envs, sotto_tree_clone(env)) !=
			    SOTTO_OK)
				return SOTTO_E_NOMEM;
		}
		rn_del(g, "env");
	}
	return SOTTO_OK;
}

/* kustomize's FixKustomization and EnforceFields. */
static sotto_err
kust_fix(struct sotto_node *k, const char *kname, const char *dir,
    struct sotto_error *e)
{
	const char *kind = rn_str(k, "kind"), *av = rn_str(k, "apiVersion");
	const char *want;

	if (kind == NULL || kind[0] == '\0') {
		if (rn_set_str(k, "kind", "Kustomization") != SOTTO_OK)
			return oom(e);
		kind = "Kustomization";
	}
	want = strcmp(kind, "Component") == 0 ?
	    "kustomize.config.k8s.io/v1alpha1" :
	    "kustomize.config.k8s.io/v1beta1";
	if (strcmp(kind, "Kustomization") != 0 &&
	    strcmp(kind, "Component") != 0)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': kind should be "
		    "Kustomization or Component", kname);
	if (av != NULL && av[0] != '\0' && strcmp(av, want) != 0)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': apiVersion for "
		    "%s should be %s", kname, kind, want);
	if (fold_list(k, "bases", "resources") != SOTTO_OK ||
	    fold_list(k, "imageTags", "images") != SOTTO_OK ||
	    fold_env(rn_get(k, "configMapGenerator")) != SOTTO_OK ||
	    fold_env(rn_get(k, "secretGenerator")) != SOTTO_OK)
		return oom(e);
	(void)dir;
	return SOTTO_OK;
}

/*
 * kustomize reads a kustomization with sigs.k8s.io/yaml (yaml.v2 into a
 * map, then JSON): a key given twice keeps its last value.  Our parser
 * refuses duplicates, so the first definition's block (the key's line and
 * the lines indented under it, or a list starting in its column) is cut
 * from the text and the text parsed again.  Only a key that begins its
 * line is cut; any other duplicate stays an error, as do more than
 * MAX_KEY_CUTS of them or any in a kustomization past MAX_KEY_CUT_BYTES.
 */
#define MAX_KEY_CUTS 64
#define MAX_KEY_CUT_BYTES ((size_t)1 << 20)
static bool
cut_block(struct sotto_buf *b, size_t line, const char *key, size_t klen)
{
	char *p = (char *)b->data, *end = p + b->len, *s, *q, *next, *t0;
	size_t col, n;

	for (s = p, n = 1; n < line && s < end; s++)
		if (*s == '\n')
			n++;
	if (n != line || s >= end)
		return false;
	for (q = s; q < end && *q == ' '; q++)
		;
	if (q >= end || *q == '-' || *q == '#' || *q == '\n' || *q == '\r' ||
	    *q == '\t' || *q == '{' || *q == '[')
		return false;
	col = (size_t)(q - s);
	/* the line must define that key, plainly written */
	if ((size_t)(end - q) <= klen || memcmp(q, key, klen) != 0)
		return false;
	for (t0 = q + klen; t0 < end && *t0 == ' '; t0++)
		;
	if (t0 >= end || *t0 != ':')
		return false;
	q = memchr(q, '\n', (size_t)(end - q));
	q = q ? q + 1 : end;
	while (q < end) {
		char *t = q;

		next = memchr(q, '\n', (size_t)(end - q));
		next = next ? next + 1 : end;
		while (t < next && *t == ' ')
			t++;
		if (t < next && *t != '\n' && *t != '\r' && *t != '#' &&
		    (size_t)(t - q) <= col && !((size_t)(t - q) == col &&
		    *t == '-' && (t + 1 == next || t[1] == ' ' ||
		    t[1] == '\n' || t[1] == '\r')))
			break;
		q = next;
	}
	memmove(s, q, (size_t)(end - q));
	b->len -= (size_t)(q - s);
	return true;
}

static sotto_err
parse_kust(struct sotto_doc **doc, struct sotto_buf *in, struct rctx *c,
    const char *kpath, struct sotto_error *e)
{
	static const char mark[] = "already defined at line ";
	static const char kmark[] = "mapping key \"";
	struct sotto_error first;
	struct sotto_buf w = SOTTO_BUF_INIT;
	const char *m, *k;
	size_t line, cuts, klen;
	sotto_err err, err0;

	err0 = rc_parse(doc, &sotto_store_yaml, in, c, kpath, e);
	if (err0 != SOTTO_E_YAML || strstr(e->msg, mark) == NULL ||
	    in->len > MAX_KEY_CUT_BYTES)
		return err0;
	first = *e;
	if (sotto_buf_add(&w, in->data, in->len) != SOTTO_OK)
		return oom(e);
	err = err0;
	/* bounded: each cut parses the text again */
	for (cuts = 0; cuts < MAX_KEY_CUTS; cuts++) {
		if (err != SOTTO_E_YAML || (m = strstr(e->msg, mark)) == NULL)
			break;
		line = strtoul(m + sizeof(mark) - 1, NULL, 10);
		if ((k = strstr(e->msg, kmark)) == NULL)
			break;
		k += sizeof(kmark) - 1;
		/* the key as the message quotes it: cut to 64 bytes */
		klen = (size_t)(m - k) >= 2 ? (size_t)(m - k) - 2 : 0;
		if (line == 0 || klen == 0 || klen >= 64 ||
		    !cut_block(&w, line, k, klen))
			break;
		err = rc_parse(doc, &sotto_store_yaml, &w, c, kpath, e);
	}
	sotto_buf_release(&w);
	if (err == SOTTO_OK)
		return SOTTO_OK;
	if (err == SOTTO_E_YAML) {
		/* the text as written is what the message names */
		*e = first;
		return err0;
	}
	return err;
}

/* Reads, checks and normalizes the kustomization of dir. */
sotto_err
rb_load_kust(struct rkust *out, struct rctx *c, const char *dir,
    struct sotto_error *e)
{
	struct sotto_buf in = SOTTO_BUF_INIT;
	struct sotto_doc *doc = NULL;
	struct sotto_node *k = NULL, *synth = NULL, *raw;
	char *kpath = NULL;
	sotto_err err;
	bool flux = rf_is_top(c, dir);
	int f = flux && c->flux_synth ? 1 : find_kust(&kpath, dir);

	memset(out, 0, sizeof(*out));
	if (f < 0)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': found multiple "
		    "kustomization files", rc_rel(c, dir));
	if (f == 0)
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "'%s': no "
		    "kustomization file found", rc_rel(c, dir));
	if (kpath == NULL) {	/* Flux's generated kustomization.yaml */
		char buf[PATH_MAX];

		snprintf(buf, sizeof(buf), "%s/kustomization.yaml", dir);
		if ((kpath = strdup(buf)) == NULL) {
			err = oom(e);
			goto out;
		}
	}
	if ((out->kname = strdup(rc_rel(c, kpath))) == NULL) {
		err = oom(e);
		goto out;
	}
	if (flux && c->flux_synth) {
		if ((err = rf_synth(&synth, c, dir, e)) != SOTTO_OK)
			goto out;
		raw = synth;
	} else {
		if ((err = rc_read(&in, c, kpath, e)) != SOTTO_OK ||
		    (err = parse_kust(&doc, &in, c, kpath, e)) != SOTTO_OK)
			goto out;
		if (doc->n == 0 || rn_is_null(doc->branches[0])) {
			err = sotto_error_set(e, SOTTO_E_PARSE, "'%s': "
			    "kustomization is empty", out->kname);
			goto out;
		}
		/* comments are items of their sequence: drop them first */
		rn_strip_comments(doc->branches[0]);
		raw = doc->branches[0];
	}
	if (flux && (err = rf_merge(c, raw, out->kname, e)) != SOTTO_OK)
		goto out;
	{
		char what[PATH_MAX + 4];

		snprintf(what, sizeof(what), "'%s'", out->kname);
		if ((err = kj_normalize(&k, raw,
		    &kt_kustomization, true, what, e)) != SOTTO_OK)
			goto out;
	}
	if ((err = kust_fix(k, out->kname, dir, e)) != SOTTO_OK)
		goto out;
	if (kust_empty(k)) {
		err = sotto_error_set(e, SOTTO_E_PARSE, "'%s': kustomization "
		    "is empty", out->kname);
		goto out;
	}
	out->k = k;
	k = NULL;
	out->kfile = strrchr(kpath, '/') ? strdup(strrchr(kpath, '/') + 1) :
	    NULL;
out:
	sotto_tree_node_free(k, true);
	sotto_tree_node_free(synth, true);
	sotto_tree_doc_free(doc);
	sotto_buf_release(&in);
	free(kpath);
	if (err != SOTTO_OK)
		rb_kust_free(out);
	return err;
}

void
rb_kust_free(struct rkust *k)
{
	sotto_tree_node_free(k->k, true);
	free(k->kname);
	free(k->kfile);
	memset(k, 0, sizeof(*k));
}

/* ---- the accumulator ---- */

void
ra_free(struct racc *ra)
{
	size_t i;

	rl_free(&ra->l);
	rcfg_free(&ra->cfg);
	for (i = 0; i < ra->nvars; i++)
		rv_free(&ra->vars[i]);
	free(ra->vars);
	memset(ra, 0, sizeof(*ra));
}

static size_t
id_hash(struct rctx *c, const struct rid *id)
{
	size_t h = 1469598103934665603ull, i;
	const char *ns = rid_eff_ns(c, id);

#define MIX(p, n) \
	for (i = 0; i < (n); i++) \
		h = (h ^ (unsigned char)(p)[i]) * 1099511628211ull; \
	h = (h ^ 0xff) * 1099511628211ull
	MIX(id->group, id->glen);
	MIX(id->version, id->vlen);
	MIX(id->kind, strlen(id->kind));
	MIX(id->name, strlen(id->name));
	MIX(ns, strlen(ns));
#undef MIX
	return h;
}

/*
 * Checks that no two objects of l share a current id (group, version,
 * kind, name, effective namespace): kustomize's resWrangler.Append, for a
 * whole list at once.  from: objects before it are known to be distinct.
 */
sotto_err
rb_check_ids(struct rlist *l, struct rctx *c, const char *kname,
    struct sotto_error *e)
{
	size_t cap = 64, i, slot, *tab;
	struct rid a, b;
	sotto_err err = SOTTO_OK;

	if (l->n < 2)
		return SOTTO_OK;
	while (cap < l->n * 2)
		cap *= 2;
	if ((tab = calloc(cap, sizeof(*tab))) == NULL)
		return oom(e);
	for (i = 0; i < l->n && err == SOTTO_OK; i++) {
		robj_curid(&l->v[i], &a);
		for (slot = id_hash(c, &a) & (cap - 1); tab[slot] != 0;
		    slot = (slot + 1) & (cap - 1)) {
			robj_curid(&l->v[tab[slot] - 1], &b);
			if (rid_equal(c, &a, &b)) {
				char s[512];

				rid_string(s, sizeof(s), &a);
				err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
				    "may not add resource with an already "
				    "registered id: %s", kname, s);
				break;
			}
		}
		tab[slot] = i + 1;
	}
	free(tab);
	return err;
}

sotto_err
ra_append(struct racc *ra, struct rctx *c, struct rlist *src,
    const char *kname, struct sotto_error *e)
{
	size_t n0 = ra->l.n;
	sotto_err err;

	struct rid id;
	size_t i;

	if (src->n == 0)
		return SOTTO_OK;
	/* kustomize places each object's kind (cluster-scoped or not) as
	 * it is added: what that loads of the OpenAPI schema depends on
	 * when it happens (schema.c) */
	for (i = 0; i < src->n; i++) {
		robj_curid(&src->v[i], &id);
		(void)rid_cluster_scoped(c, &id);
	}
	if ((err = rl_append(&ra->l, src, e)) != SOTTO_OK)
		return err;
	if ((err = rb_check_ids(&ra->l, c, kname, e)) != SOTTO_OK)
		return err;
	(void)n0;
	return SOTTO_OK;
}

/* kustomize's MergeAccumulator: objects (id-checked), config, vars. */
static sotto_err
ra_merge(struct racc *ra, struct rctx *c, struct racc *sub,
    const char *kname, struct sotto_error *e)
{
	sotto_err err;

	if ((err = ra_append(ra, c, &sub->l, kname, e)) != SOTTO_OK ||
	    (err = rcfg_merge(&ra->cfg, &sub->cfg, c, e)) != SOTTO_OK)
		return err;
	return rv_merge_set(ra, sub, kname, e);
}

static sotto_err
ra_clone(struct racc *dst, const struct racc *src, struct sotto_error *e)
{
	size_t i;
	sotto_err err;

	memset(dst, 0, sizeof(*dst));
	if ((err = rl_clone(&dst->l, &src->l, e)) != SOTTO_OK ||
	    (err = rcfg_copy(&dst->cfg, &src->cfg, e)) != SOTTO_OK)
		return err;
	for (i = 0; i < src->nvars; i++)
		if ((err = rv_add(dst, &src->vars[i], e)) != SOTTO_OK)
			return err;
	return SOTTO_OK;
}

/* ---- memo of directories built as resources ---- */

struct rmemo {
	char *dir;		/* realpath */
	bool kept;		/* res holds its objects */
	struct racc res;	/* what a build gives (kept from the second
				   build on) */
	size_t bytes;		/* input bytes a build reads */
	unsigned schema_gen;	/* the OpenAPI schema it was built with */
};

static size_t
str_hash(const char *s)
{
	size_t h = 1469598103934665603ull;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct rmemo *
memo_find(const struct rctx *c, const char *dir)
{
	size_t slot;

	if (c->mhcap == 0)
		return NULL;
	for (slot = str_hash(dir) & (c->mhcap - 1); c->mhash[slot] != 0;
	    slot = (slot + 1) & (c->mhcap - 1))
		if (strcmp(c->memo[c->mhash[slot] - 1].dir, dir) == 0)
			return &c->memo[c->mhash[slot] - 1];
	return NULL;
}

static void
memo_index(struct rctx *c, size_t i)
{
	size_t slot = str_hash(c->memo[i].dir) & (c->mhcap - 1);

	while (c->mhash[slot] != 0)
		slot = (slot + 1) & (c->mhcap - 1);
	c->mhash[slot] = i + 1;
}

/* Records that dir was built once (bytes: what the build read). */
static sotto_err
memo_add(struct rctx *c, const char *dir, size_t bytes, struct sotto_error *e)
{
	struct rmemo *m;
	size_t i;

	if (c->nmemo == c->cmemo) {
		size_t nc = c->cmemo ? c->cmemo * 2 : 16;

		if ((m = realloc(c->memo, nc * sizeof(*m))) == NULL)
			return oom(e);
		c->memo = m;
		c->cmemo = nc;
	}
	m = &c->memo[c->nmemo];
	memset(m, 0, sizeof(*m));
	if ((m->dir = strdup(dir)) == NULL)
		return oom(e);
	m->bytes = bytes;
	m->schema_gen = c->schema_gen;
	c->nmemo++;
	if (c->nmemo * 2 > c->mhcap) {
		size_t nc = c->mhcap ? c->mhcap * 2 : 64;

		free(c->mhash);
		if ((c->mhash = calloc(nc, sizeof(*c->mhash))) == NULL) {
			c->mhcap = 0;
			return oom(e);
		}
		c->mhcap = nc;
		for (i = 0; i < c->nmemo; i++)
			memo_index(c, i);
	} else {
		memo_index(c, c->nmemo - 1);
	}
	return SOTTO_OK;
}

static void
memo_free(struct rctx *c)
{
	size_t i;

	for (i = 0; i < c->nmemo; i++) {
		free(c->memo[i].dir);
		ra_free(&c->memo[i].res);
	}
	free(c->memo);
	free(c->mhash);
	c->memo = NULL;
	c->mhash = NULL;
	c->nmemo = c->cmemo = c->mhcap = 0;
}

static sotto_err build_kust(struct racc *ra, struct rctx *c, const char *dir,
    bool component, bool top, struct sotto_error *e);

/*
 * Builds the kustomization in dir into out (empty) as a resource.  What
 * a resource directory builds does not depend on who lists it: kustomize
 * builds it as a kustomization of its own (only components work in the
 * includer's accumulator, and they never come here).  So a directory
 * listed again is not built again: the second build is kept, and every
 * later listing gets a copy, charged to the budget as if its files were
 * read again (the kept copy counts its objects too).  A directory listed
 * once costs no copy.  A build under another OpenAPI schema is not
 * reused.
 */
static sotto_err
build_dir(struct racc *out, struct rctx *c, const char *dir,
    struct sotto_error *e)
{
	struct rmemo *m = memo_find(c, dir);
	size_t b0 = c->bytes;
	sotto_err err;

	if (m != NULL && m->kept && m->schema_gen == c->schema_gen) {
		if ((err = rc_charge(c, m->bytes, m->res.l.n, dir, e)) !=
		    SOTTO_OK)
			return err;
		return ra_clone(out, &m->res, e);
	}
	if ((err = build_kust(out, c, dir, false, false, e)) != SOTTO_OK)
		return err;
	if (m == NULL)
		return memo_add(c, dir, c->bytes - b0, e);
	if (m->kept || m->schema_gen != c->schema_gen)
		return SOTTO_OK;
	/* the kept copy is memory like any other object */
	if ((err = rc_charge(c, 0, out->l.n, dir, e)) != SOTTO_OK)
		return err;
	m->kept = true;
	return ra_clone(&m->res, out, e);
}

/* ---- resources ---- */

/* buildMetadata originAnnotations: config.kubernetes.io/origin. */
static sotto_err
annotate_origin(struct rlist *l, size_t from, struct rctx *c,
    const char *path, struct sotto_error *e)
{
	size_t i;
	sotto_err err;

	for (i = from; i < l->n; i++)
		if ((err = ro_set_origin_path(&l->v[i], c, path, e)) !=
		    SOTTO_OK)
			return err;
	return SOTTO_OK;
}

/* ---- remote bases ---- */

/* A remote base fetched in this render: its URL and ref, and where. */
struct rfetched {
	char *key;		/* repo, '\n', ref */
	char *root;		/* realpath of the checkout */
};

/* The root a remote base's build replaced (remote_enter). */
struct rsaved {
	char *root;
	size_t rootlen;
};

/*
 * Fetches the remote base spec (or finds it fetched earlier in this
 * render) and makes its checkout the root, so that nothing it names may
 * leave the repository: *abs is the directory to build, *saved what
 * remote_leave() restores.
 */
static sotto_err
remote_enter(struct rctx *c, const char *spec, const char *kname,
    char **abs, struct rsaved *saved, struct sotto_error *e)
{
	struct rremote r;
	struct rfetched *f = NULL, *nv;
	char dir[4096], shown[RR_SHOWN_MAX], *key;
	size_t i, kl;
	sotto_err err;

	*abs = NULL;
	rr_shown(shown, sizeof(shown), spec);
	if (c->o->no_remote_bases)
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED, "'%s': remote "
		    "base '%s': remote bases are disabled "
		    "(--no-remote-bases)", kname, shown);
	if ((err = rr_parse(&r, spec, e)) != SOTTO_OK)
		return sotto_error_prefix(e, "'%s'", kname);
	if (c->o->git == NULL)
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED, "'%s': remote "
		    "base '%s': remote bases are not supported here",
		    kname, shown);
	if (c->track_origin)
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED, "'%s': remote "
		    "base '%s': buildMetadata origin and transformer "
		    "annotations of remote bases are not supported", kname,
		    shown);
	kl = strlen(r.repo) + strlen(r.ref) + 2;
	if ((key = malloc(kl)) == NULL)
		return oom(e);
	snprintf(key, kl, "%s\n%s", r.repo, r.ref);
	for (i = 0; i < c->nfetched && f == NULL; i++)
		if (strcmp(c->fetched[i].key, key) == 0)
			f = &c->fetched[i];
	if (f == NULL) {
		char *real;

		if ((err = c->o->git(c->o->git_arg, dir, sizeof(dir), r.repo,
		    r.ref, r.timeout, e)) != SOTTO_OK) {
			free(key);
			return sotto_error_prefix(e, "'%s': remote base "
			    "'%s'", kname, shown);
		}
		if ((real = realpath(dir, NULL)) == NULL) {
			free(key);
			return sotto_error_set(e, SOTTO_E_IO, "'%s': remote "
			    "base '%s': checkout not found", kname, shown);
		}
		nv = realloc(c->fetched, (c->nfetched + 1) * sizeof(*nv));
		if (nv == NULL) {
			free(real);
			free(key);
			return oom(e);
		}
		c->fetched = nv;
		f = &c->fetched[c->nfetched++];
		f->key = key;
		f->root = real;
	} else {
		free(key);
	}
	saved->root = c->root;
	saved->rootlen = c->rootlen;
	c->root = f->root;
	c->rootlen = strlen(f->root);
	if ((err = rc_resolve(abs, c, f->root, r.path[0] ? r.path : ".",
	    e)) != SOTTO_OK) {
		c->root = saved->root;
		c->rootlen = saved->rootlen;
		return sotto_error_prefix(e, "'%s': remote base '%s'",
		    kname, shown);
	}
	return SOTTO_OK;
}

static void
remote_leave(struct rctx *c, const struct rsaved *saved)
{
	c->root = saved->root;
	c->rootlen = saved->rootlen;
}

static void
remote_free(struct rctx *c)
{
	size_t i;

	for (i = 0; i < c->nfetched; i++) {
		free(c->fetched[i].key);
		free(c->fetched[i].root);
	}
	free(c->fetched);
}

/* A remote base in resources: its directory built and absorbed. */
static sotto_err
remote_resource(struct racc *ra, struct rctx *c, const char *spec,
    const char *kname, struct sotto_error *e)
{
	struct rsaved saved;
	struct racc sub;
	struct stat st;
	char *abs;
	sotto_err err;

	memset(&sub, 0, sizeof(sub));
	if ((err = remote_enter(c, spec, kname, &abs, &saved, e)) != SOTTO_OK)
		return err;
	if (stat(abs, &st) != 0 || !S_ISDIR(st.st_mode)) {
		char shown[RR_SHOWN_MAX];

		rr_shown(shown, sizeof(shown), spec);
		err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': remote base "
		    "'%s': not a directory", kname, shown);
	}
	if (err == SOTTO_OK && (err = build_dir(&sub, c, abs, e)) == SOTTO_OK)
		err = ra_merge(ra, c, &sub, kname, e);
	remote_leave(c, &saved);
	ra_free(&sub);
	free(abs);
	return err;
}

/*
 * One entry of `resources` (or of `generators`/`transformers`/
 * `validators`): a file of objects, or a directory built as a
 * kustomization of its own and absorbed.  kname: for messages.
 */
sotto_err
rb_resource(struct racc *ra, struct rctx *c, const char *dir, const char *ref,
    const char *kname, struct sotto_error *e)
{
	struct stat st;
	char *abs = NULL, *opath = NULL;
	struct racc sub;
	struct rlist l = { NULL, 0, 0 };
	sotto_err err;

	memset(&sub, 0, sizeof(sub));
	if (rr_is_remote(ref))
		return remote_resource(ra, c, ref, kname, e);
	if ((err = rc_resolve(&abs, c, dir, ref, e)) != SOTTO_OK)
		return sotto_error_prefix(e, "'%s'", kname);
	if (c->track_origin && (err = ro_origin_push(c, ref, &opath, e)) !=
	    SOTTO_OK)
		goto out;
	if (stat(abs, &st) == 0 && S_ISDIR(st.st_mode)) {
		if ((err = build_dir(&sub, c, abs, e)) == SOTTO_OK)
			err = ra_merge(ra, c, &sub, kname, e);
	} else {
		if ((err = rc_load_file(&l, c, abs, e)) == SOTTO_OK &&
		    c->track_origin)
			err = annotate_origin(&l, 0, c, c->opath, e);
		if (err == SOTTO_OK)
			err = ra_append(ra, c, &l, kname, e);
	}
	if (opath != NULL)
		ro_origin_pop(c, opath);
out:
	rl_free(&l);
	ra_free(&sub);
	free(abs);
	return err;
}

static sotto_err
add_resources(struct racc *ra, struct rctx *c, const char *dir,
    const struct sotto_node *list, const char *kname, struct sotto_error *e)
{
	size_t i;
	sotto_err err;

	for (i = 0; list != NULL && i < list->n; i++)
		if ((err = rb_resource(ra, c, dir, rn_value(list->items[i].val),
		    kname, e)) != SOTTO_OK)
			return err;
	return SOTTO_OK;
}

/* ---- configurations ---- */

static sotto_err
load_configs(struct rcfg *out, struct rctx *c, const char *dir,
    const struct sotto_node *paths, const char *kname, struct sotto_error *e)
{
	struct rcfg user;
	size_t i;
	sotto_err err;

	if ((err = rcfg_default(out, c, e)) != SOTTO_OK)
		return err;
	for (i = 0; paths != NULL && i < paths->n; i++) {
		if ((err = rc_load_config(&user, c, dir,
		    rn_value(paths->items[i].val), kname, e)) != SOTTO_OK)
			return err;
		err = rcfg_merge(out, &user, c, e);
		rcfg_free(&user);
		if (err != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

/* ---- generators ---- */

static sotto_err
run_generators(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, struct sotto_error *e)
{
	static const char *const lists[] = { "configMapGenerator",
	    "secretGenerator" };
	const struct sotto_node *gopt = rn_get(k->k, "generatorOptions");
	size_t i, j;
	sotto_err err;

	for (j = 0; j < 2; j++) {
		const struct sotto_node *gens = rn_get(k->k, lists[j]);

		for (i = 0; gens != NULL && i < gens->n; i++) {
			struct rlist gen = { NULL, 0, 0 };

			err = rg_configmap(&gen, c, dir, gens->items[i].val,
			    gopt, j == 1, k->kname, e);
			if (err == SOTTO_OK && c->track_origin)
				err = ro_set_origin_builtin(&gen, c, k,
				    j == 1 ? "SecretGenerator" :
				    "ConfigMapGenerator", e);
			if (err == SOTTO_OK)
				err = rg_absorb(&ra->l, c, &gen, k->kname, e);
			rl_free(&gen);
			if (err != SOTTO_OK)
				return err;
		}
	}
	return rx_generators(ra, c, dir, k, e);
}

/* ---- transformers ---- */

/* After each transformer: buildMetadata transformerAnnotations, and
 * objects a patch emptied are dropped (kustomize's DropEmpties). */
sotto_err
rb_after(struct racc *ra, struct rctx *c, const struct rkust *k,
    const char *kind, struct sotto_error *e)
{
	size_t i;

	for (i = 0; i < ra->l.n; )
		if (ra->l.v[i].n == NULL || (ra->l.v[i].n->kind ==
		    SOTTO_NODE_MAP && ra->l.v[i].n->n == 0))
			rl_remove(&ra->l, i);
		else
			i++;
	if (c->track_origin && kind != NULL)
		return ro_add_transformation(&ra->l, c, k, kind, e);
	return SOTTO_OK;
}

static sotto_err
run_labels(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, struct sotto_error *e)
{
	const struct sotto_node *labels = rn_get(k->k, "labels");
	const struct rcfg *cfg = &ra->cfg;
	size_t i;
	sotto_err err;

	for (i = 0; labels != NULL && i < labels->n; i++) {
		const struct sotto_node *lb = labels->items[i].val;
		const char *sel = rn_str(lb, "includeSelectors");
		const char *tpl = rn_str(lb, "includeTemplates");
		struct rfsl fs;

		memset(&fs, 0, sizeof(fs));
		err = rc_parse_fsl(&fs, c, rn_get(lb, "fields"), e);
		if (err == SOTTO_OK)
			err = rfsl_merge(&fs, &cfg->fs[RCF_LABELS], e);
		if (err == SOTTO_OK && sel && strcmp(sel, "true") == 0) {
			err = rfsl_merge(&fs, &cfg->fs[RCF_COMMONLABELS], e);
		} else if (err == SOTTO_OK) {
			if (tpl && strcmp(tpl, "true") == 0)
				err = rfsl_merge(&fs,
				    &cfg->fs[RCF_TEMPLATELABELS], e);
			if (err == SOTTO_OK)
				err = rfsl_add(&fs, c, "", "", "",
				    "metadata/labels", true, e);
		}
		if (err == SOTTO_OK)
			err = rt_labels(&ra->l, c, dir, rn_get(lb, "pairs"),
			    &fs, false, e);
		rfsl_free(&fs);
		if (err != SOTTO_OK ||
		    (err = rb_after(ra, c, k, "LabelTransformer", e)) !=
		    SOTTO_OK)
			return err;
	}
	if ((err = rt_labels(&ra->l, c, dir, rn_get(k->k, "commonLabels"),
	    &cfg->fs[RCF_COMMONLABELS], false, e)) != SOTTO_OK)
		return err;
	return rb_after(ra, c, k, "LabelTransformer", e);
}

static sotto_err
each_entry(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, const char *field, const char *kind,
    sotto_err (*fn)(struct racc *, struct rctx *, const char *,
    const struct sotto_node *, const struct rkust *, struct sotto_error *),
    struct sotto_error *e)
{
	const struct sotto_node *list = rn_get(k->k, field);
	size_t i;
	sotto_err err;

	for (i = 0; list != NULL && i < list->n; i++)
		if ((err = fn(ra, c, dir, list->items[i].val, k, e)) !=
		    SOTTO_OK || (err = rb_after(ra, c, k, kind, e)) !=
		    SOTTO_OK)
			return err;
	return SOTTO_OK;
}

static sotto_err
one_patch(struct racc *ra, struct rctx *c, const char *dir,
    const struct sotto_node *p, const struct rkust *k, struct sotto_error *e)
{
	return rp_patch(&ra->l, c, dir, p, k->kname, e);
}

static sotto_err
one_json6902(struct racc *ra, struct rctx *c, const char *dir,
    const struct sotto_node *p, const struct rkust *k, struct sotto_error *e)
{
	return rp_json6902(&ra->l, c, dir, p, k->kname, e);
}

static sotto_err
one_replica(struct racc *ra, struct rctx *c, const char *dir,
    const struct sotto_node *p, const struct rkust *k, struct sotto_error *e)
{
	(void)k;
	return rt_replica(&ra->l, c, dir, p, &ra->cfg.fs[RCF_REPLICAS], e);
}

static sotto_err
one_image(struct racc *ra, struct rctx *c, const char *dir,
    const struct sotto_node *p, const struct rkust *k, struct sotto_error *e)
{
	(void)k;
	return rt_image(&ra->l, c, dir, p, &ra->cfg.fs[RCF_IMAGES], e);
}

/* The built-in transformers in kustomize's order
 * (configureBuiltinTransformers), then the `transformers` entries. */
static sotto_err
run_transformers(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, struct sotto_error *e)
{
	const struct sotto_node *v;
	const char *s;
	sotto_err err;

	if ((v = rn_get(k->k, "patchesStrategicMerge")) != NULL &&
	    v->n > 0 && ((err = rp_psm(&ra->l, c, dir, v, k->kname, e)) !=
	    SOTTO_OK || (err = rb_after(ra, c, k,
	    "PatchStrategicMergeTransformer", e)) != SOTTO_OK))
		return err;
	if ((err = each_entry(ra, c, dir, k, "patches", "PatchTransformer",
	    one_patch, e)) != SOTTO_OK)
		return err;
	if ((s = rn_str(k->k, "namespace")) != NULL && s[0] != '\0' &&
	    ((err = rt_namespace(&ra->l, c, dir, s,
	    &ra->cfg.fs[RCF_NAMESPACE], false, NULL, e)) != SOTTO_OK ||
	    (err = rb_after(ra, c, k, "NamespaceTransformer", e)) !=
	    SOTTO_OK))
		return err;
	if ((s = rn_str(k->k, "namePrefix")) != NULL && s[0] != '\0' &&
	    ((err = rt_affix(&ra->l, c, dir, s, false,
	    &ra->cfg.fs[RCF_PREFIX], e)) != SOTTO_OK ||
	    (err = rb_after(ra, c, k, "PrefixTransformer", e)) != SOTTO_OK))
		return err;
	if ((s = rn_str(k->k, "nameSuffix")) != NULL && s[0] != '\0' &&
	    ((err = rt_affix(&ra->l, c, dir, s, true,
	    &ra->cfg.fs[RCF_SUFFIX], e)) != SOTTO_OK ||
	    (err = rb_after(ra, c, k, "SuffixTransformer", e)) != SOTTO_OK))
		return err;
	if ((rn_get(k->k, "labels") != NULL ||
	    rn_get(k->k, "commonLabels") != NULL) &&
	    (err = run_labels(ra, c, dir, k, e)) != SOTTO_OK)
		return err;
	if ((v = rn_get(k->k, "commonAnnotations")) != NULL && v->n > 0 &&
	    ((err = rt_labels(&ra->l, c, dir, v, &ra->cfg.fs[RCF_ANNOTATIONS],
	    true, e)) != SOTTO_OK || (err = rb_after(ra, c, k,
	    "AnnotationsTransformer", e)) != SOTTO_OK))
		return err;
	if ((err = each_entry(ra, c, dir, k, "patchesJson6902",
	    "PatchJson6902Transformer", one_json6902, e)) != SOTTO_OK ||
	    (err = each_entry(ra, c, dir, k, "replicas",
	    "ReplicaCountTransformer", one_replica, e)) != SOTTO_OK ||
	    (err = each_entry(ra, c, dir, k, "images", "ImageTagTransformer",
	    one_image, e)) != SOTTO_OK)
		return err;
	if ((v = rn_get(k->k, "replacements")) != NULL && v->n > 0 &&
	    ((err = rr_replacements(&ra->l, c, dir, v, k->kname, e)) !=
	    SOTTO_OK || (err = rb_after(ra, c, k, "ReplacementTransformer",
	    e)) != SOTTO_OK))
		return err;
	return rx_transformers(ra, c, dir, k, e);
}

/* ---- one kustomization ---- */

static sotto_err
check_kind(struct rctx *c, const struct rkust *k, const char *dir,
    bool component, bool top, struct sotto_error *e)
{
	const char *kind = rn_str(k->k, "kind");
	bool is_comp = kind != NULL && strcmp(kind, "Component") == 0;

	if (component && !is_comp)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': expected kind "
		    "'Component' for path '%s' but got '%s'", k->kname,
		    rc_rel(c, dir), kind ? kind : "");
	if (!component && !top && is_comp)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': expected kind "
		    "!= 'Component' for path '%s'", k->kname, rc_rel(c, dir));
	return SOTTO_OK;
}

static sotto_err
add_components(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, struct sotto_error *e)
{
	const struct sotto_node *list = rn_get(k->k, "components");
	char *abs = NULL, *opath = NULL;
	size_t i;
	sotto_err err;

	for (i = 0; list != NULL && i < list->n; i++) {
		const char *ref = rn_value(list->items[i].val);
		struct rsaved saved = { NULL, 0 };

		if (rr_is_remote(ref)) {
			if ((err = remote_enter(c, ref, k->kname, &abs,
			    &saved, e)) != SOTTO_OK)
				return err;
		} else if ((err = rc_resolve(&abs, c, dir, ref, e)) !=
		    SOTTO_OK) {
			return sotto_error_prefix(e, "'%s'", k->kname);
		}
		err = SOTTO_OK;
		if (c->track_origin)
			err = ro_origin_push(c, ref, &opath, e);
		if (err == SOTTO_OK)
			err = build_kust(ra, c, abs, true, false, e);
		if (opath != NULL)
			ro_origin_pop(c, opath);
		opath = NULL;
		if (saved.root != NULL)
			remote_leave(c, &saved);
		free(abs);
		if (err != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

static sotto_err
build_level(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, bool top, struct sotto_error *e)
{
	struct rcfg cfg;
	sotto_err err;

	memset(&cfg, 0, sizeof(cfg));
	if ((err = rs_set_schema(c, dir, rn_get(k->k, "openapi"), k->kname,
	    top, e)) != SOTTO_OK ||
	    (err = add_resources(ra, c, dir, rn_get(k->k, "resources"),
	    k->kname, e)) != SOTTO_OK)
		return err;
	if ((err = load_configs(&cfg, c, dir, rn_get(k->k, "configurations"),
	    k->kname, e)) == SOTTO_OK)
		err = rcfg_merge(&ra->cfg, &cfg, c, e);
	rcfg_free(&cfg);
	if (err != SOTTO_OK)
		return err;
	if ((err = rc_load_crds(&cfg, c, dir, rn_get(k->k, "crds"), k->kname,
	    e)) == SOTTO_OK)
		err = rcfg_merge(&ra->cfg, &cfg, c, e);
	rcfg_free(&cfg);
	if (err != SOTTO_OK)
		return err;
	if ((err = run_generators(ra, c, dir, k, e)) != SOTTO_OK ||
	    (err = add_components(ra, c, dir, k, e)) != SOTTO_OK ||
	    (err = run_transformers(ra, c, dir, k, e)) != SOTTO_OK ||
	    (err = rx_validators(ra, c, dir, k, e)) != SOTTO_OK)
		return err;
	return rv_merge(ra, c, rn_get(k->k, "vars"), k->kname, e);
}

static sotto_err
build_kust(struct racc *ra, struct rctx *c, const char *dir, bool component,
    bool top, struct sotto_error *e)
{
	struct rkust k;
	sotto_err err;
	size_t i;

	for (i = 0; i < c->nseen; i++)
		if (strcmp(c->seen[i], dir) == 0)
			return sotto_error_set(e, SOTTO_E_USAGE, "'%s': cycle "
			    "in kustomizations", rc_rel(c, dir));
	if (c->nseen >= MAX_NESTING)
		return sotto_error_set(e, SOTTO_E_LIMIT, "'%s': kustomizations "
		    "nested deeper than %d levels", rc_rel(c, dir),
		    MAX_NESTING);
	if ((err = rb_load_kust(&k, c, dir, e)) != SOTTO_OK)
		return err;
	if ((err = check_kind(c, &k, dir, component, top, e)) == SOTTO_OK) {
		if (top && (err = rb_top_options(c, &k, e)) != SOTTO_OK)
			goto out;
		c->seen[c->nseen++] = (char *)dir;
		err = build_level(ra, c, dir, &k, top, e);
		c->nseen--;
	}
out:
	rb_kust_free(&k);
	return err;
}

/* ---- the top ---- */

/* kustomize's IgnoreLocal: objects annotated
 * config.kubernetes.io/local-config (other than "false") are dropped. */
static void
drop_local(struct rlist *l)
{
	size_t i;

	for (i = 0; i < l->n; ) {
		const struct sotto_node *a = rn_path(l->v[i].n,
		    "metadata/annotations");
		const struct sotto_node *v = rn_get(a,
		    "config.kubernetes.io/local-config");

		if (v != NULL && strcmp(rn_value(v), "false") != 0)
			rl_remove(l, i);
		else
			i++;
	}
}

sotto_err
rc_init(struct rctx *c, const char *dir, char **absdir,
    const struct sotto_render_opts *o, struct sotto_error *e)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	if ((*absdir = realpath(dir, NULL)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "kustomization "
		    "path not found: %s", dir);
	c->root = o->root ? realpath(o->root, NULL) : rc_find_root(*absdir);
	if (c->root == NULL)
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "root '%s' not "
		    "found", o->root ? o->root : dir);
	c->rootlen = strlen(c->root);
	if (!rc_under_root(c, *absdir))
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s' is outside "
		    "the root '%s'", dir, o->root ? o->root : ".");
	if ((c->seen = calloc(MAX_NESTING, sizeof(*c->seen))) == NULL)
		return oom(e);
	return SOTTO_OK;
}

void
rc_fini(struct rctx *c)
{
	memo_free(c);
	remote_free(c);
	rcfg_free(&c->defcfg);
	rcfg_free(&c->basecfg);
	rs_free(c);
	ro_origin_free(c);
	rf_fini(c);
	rc_pool_free(c);
	free(c->root);
	free(c->seen);
	memset(c, 0, sizeof(*c));
}

/* What kustomize does once, after the whole build. */
static sotto_err
finish(struct racc *ra, struct rctx *c, struct sotto_error *e)
{
	sotto_err err;

	if ((err = rt_hash_names(&ra->l, c, e)) != SOTTO_OK ||
	    (err = rt_namerefs(&ra->l, c, &ra->cfg, e)) != SOTTO_OK ||
	    (err = rv_resolve(ra, c, e)) != SOTTO_OK)
		return err;
	drop_local(&ra->l);
	if ((err = ro_sort(&ra->l, c, c->sort, e)) != SOTTO_OK)
		return err;
	return ro_build_metadata(&ra->l, c, e);
}

sotto_err
sotto_render_dir(struct sotto_buf *out, const char *dir,
    const struct sotto_render_opts *o, struct sotto_error *e)
{
	struct rctx c;
	struct racc ra;
	struct stat st;
	char *abs = NULL;
	sotto_err err;

	memset(&ra, 0, sizeof(ra));
	if ((err = rc_init(&c, dir, &abs, o, e)) != SOTTO_OK)
		goto out;
	if (stat(abs, &st) != 0 || !S_ISDIR(st.st_mode)) {
		err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': not a "
		    "directory", dir);
		goto out;
	}
	if ((err = rf_init(&c, abs, e)) != SOTTO_OK)
		goto out;
	c.flux_synth = c.flux != NULL && !rb_has_kustomization(abs);
	if (c.flux != NULL || rb_has_kustomization(abs)) {
		err = build_kust(&ra, &c, abs, false, true, e);
	} else {
		err = rcfg_default(&ra.cfg, &c, e);
		if (err == SOTTO_OK) {
			rcfg_free(&ra.cfg);
			err = rcfg_merge(&ra.cfg, &c.defcfg, &c, e);
		}
		if (err == SOTTO_OK)
			err = rc_plain_dir(&ra, &c, abs, 0, e);
	}
	if (err == SOTTO_OK)
		err = finish(&ra, &c, e);
	if (err == SOTTO_OK)
		err = rc_secret_values(&ra.l, &c, e);
	if (err == SOTTO_OK)
		err = ro_check(&ra.l, o->keep_sops, e);
	if (err == SOTTO_OK)
		err = ro_emit(out, &ra.l, o->redact, e);
out:
	if (err != SOTTO_OK)
		sotto_buf_release(out);
	ra_free(&ra);
	rc_fini(&c);
	free(abs);
	return err;
}

sotto_err
rb_top_options(struct rctx *c, const struct rkust *k, struct sotto_error *e)
{
	const struct sotto_node *bm = rn_get(k->k, "buildMetadata");
	const struct sotto_node *so = rn_get(k->k, "sortOptions");
	size_t i;

	for (i = 0; bm != NULL && i < bm->n; i++) {
		const char *v = rn_value(bm->items[i].val);

		c->track_origin = true;
		if (strcmp(v, "originAnnotations") == 0)
			c->origins = true;
		else if (strcmp(v, "transformerAnnotations") == 0)
			c->transformations = true;
		else if (strcmp(v, "managedByLabel") == 0)
			c->managed_by = true;
	}
	if (so != NULL && (c->sort = sotto_tree_clone(so)) == NULL)
		return oom(e);
	return SOTTO_OK;
}
