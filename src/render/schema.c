/* SPDX-License-Identifier: ISC */
/*
 * OpenAPI schemas as kustomize's kyaml/openapi keeps them: the Kubernetes
 * 1.21.2 schema it builds in (schema_k8s.c: the merge lists and the
 * fields leading to them), or a kustomization's own (`openapi: {path:
 * file}`, JSON or YAML swagger: definitions, their merge strategies and
 * keys, and from its paths which kinds are cluster-scoped).
 *
 * kustomize holds one schema for the whole build, set by the first
 * kustomization that names one (the top one first), and loads it when
 * first needed; the built-in schema is added too when a kind it cannot
 * place was met before the custom one was set.  This file keeps the same
 * state, per render.
 */
#include "render/schema_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/build.h"

enum builtin { B_NOT_PARSED, B_DELAYED, B_PARSED };

/* A custom schema's node, with its own storage. */
struct cnode {
	struct rsch s;
	const char *ref;		/* unresolved "$ref" definition name */
	char **keys;
	struct rsprop *props;
	struct cnode *items_c, *addl_c;
};

struct ctype {
	char *apiversion, *kind;
	struct cnode *s;
	bool namespaced, scoped;	/* scope known from the paths */
};

struct rschema {
	/* openapi.SetSchema */
	bool version_set;		/* kubernetesOpenAPIVersion != "" */
	bool custom_set;		/* customSchema != nil */
	struct sotto_buf custom;	/* its bytes */
	char *custom_name;		/* for messages */
	bool init;			/* schemaInit */
	enum builtin builtin;
	/* what initSchema added, in order */
	bool k8s_added, custom_added;
	bool custom_last;		/* custom added after the built-in */
	bool resolved;			/* its $refs resolved */
	/* the custom schema, parsed */
	struct cnode **nodes;
	size_t nnodes, cnodes;
	struct cnode **defs;		/* by definition name */
	char **defnames;
	size_t ndefs;
	struct ctype *types;
	size_t ntypes, ctypes;
};

#define RS_FULL 0x8	/* a custom node: its fields are all known */

static struct rschema *
state(struct rctx *c)
{
	if (c->schema == NULL)
		c->schema = calloc(1, sizeof(*c->schema));
	return c->schema;
}

void
rs_free(struct rctx *c)
{
	struct rschema *s = c->schema;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nnodes; i++) {
		struct cnode *n = s->nodes[i];
		size_t k;

		for (k = 0; k < n->s.nkeys; k++)
			free(n->keys[k]);
		free(n->keys);
		for (k = 0; k < n->s.nprops; k++)
			free((char *)n->props[k].name);
		free(n->props);
		free((char *)n->ref);
		free(n);
	}
	free(s->nodes);
	for (i = 0; i < s->ndefs; i++)
		free(s->defnames[i]);
	free(s->defnames);
	free(s->defs);
	for (i = 0; i < s->ntypes; i++) {
		free(s->types[i].apiversion);
		free(s->types[i].kind);
	}
	free(s->types);
	sotto_buf_release(&s->custom);
	free(s->custom_name);
	free(s);
	c->schema = NULL;
}

/* ---- parsing a custom schema ---- */

static struct cnode *
cnode_new(struct rschema *s)
{
	struct cnode *n;

	if (s->nnodes == s->cnodes) {
		size_t nc = s->cnodes ? s->cnodes * 2 : 64;
		struct cnode **v = realloc(s->nodes, nc * sizeof(*v));

		if (v == NULL)
			return NULL;
		s->nodes = v;
		s->cnodes = nc;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->s.flags = RS_KNOWN | RS_FULL;
	s->nodes[s->nnodes++] = n;
	return n;
}

static int
prop_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rsprop *)a)->name,
	    ((const struct rsprop *)b)->name);
}

/* x-kubernetes-list-map-keys, else x-kubernetes-patch-merge-key. */
static sotto_err
conv_keys(struct cnode *n, const struct sotto_node *m)
{
	const struct sotto_node *lk = rn_get(m, "x-kubernetes-list-map-keys");
	const char *mk = rn_str(m, "x-kubernetes-patch-merge-key");
	size_t i;

	if (lk != NULL && lk->kind == SOTTO_NODE_SEQ) {
		if ((n->keys = calloc(lk->n + 1, sizeof(*n->keys))) == NULL)
			return SOTTO_E_NOMEM;
		for (i = 0; i < lk->n; i++)
			if ((n->keys[n->s.nkeys++] =
			    strdup(rn_value(lk->items[i].val))) == NULL)
				return SOTTO_E_NOMEM;
	} else if (mk != NULL) {
		if ((n->keys = calloc(1, sizeof(*n->keys))) == NULL ||
		    (n->keys[0] = strdup(mk)) == NULL)
			return SOTTO_E_NOMEM;
		n->s.nkeys = 1;
	}
	n->s.keys = (const char *const *)n->keys;
	return SOTTO_OK;
}

static sotto_err
conv(struct rschema *s, const struct sotto_node *m, struct cnode **out)
{
	const struct sotto_node *t, *p, *it, *ad;
	const char *ref = rn_str(m, "$ref"), *ps;
	struct cnode *n;
	size_t i;

	*out = NULL;
	if (m == NULL || m->kind != SOTTO_NODE_MAP)
		return SOTTO_OK;
	if ((n = cnode_new(s)) == NULL)
		return SOTTO_E_NOMEM;
	*out = n;
	if (ref != NULL) {
		const char *h = strrchr(ref, '/');

		n->ref = strdup(h ? h + 1 : ref);
		return n->ref ? SOTTO_OK : SOTTO_E_NOMEM;
	}
	t = rn_get(m, "type");
	if ((t != NULL && t->kind == SOTTO_NODE_SCALAR &&
	    strcmp(rn_value(t), "array") == 0) || (t != NULL &&
	    t->kind == SOTTO_NODE_SEQ && t->n == 1 &&
	    strcmp(rn_value(t->items[0].val), "array") == 0))
		n->s.flags |= RS_ARRAY;
	if ((ps = rn_str(m, "x-kubernetes-patch-strategy")) != NULL) {
		char buf[128], *q, *next;

		snprintf(buf, sizeof(buf), "%s", ps);
		for (q = buf; q != NULL; q = next) {
			if ((next = strchr(q, ',')) != NULL)
				*next++ = '\0';
			if (strcmp(q, "merge") == 0)
				n->s.flags |= RS_MERGE;
		}
	}
	if (conv_keys(n, m) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	if ((p = rn_get(m, "properties")) != NULL &&
	    p->kind == SOTTO_NODE_MAP && p->n > 0) {
		if ((n->props = calloc(p->n, sizeof(*n->props))) == NULL)
			return SOTTO_E_NOMEM;
		for (i = 0; i < p->n; i++) {
			struct cnode *c;

			if (p->items[i].key == NULL)
				continue;
			if (conv(s, p->items[i].val, &c) != SOTTO_OK)
				return SOTTO_E_NOMEM;
			if ((n->props[n->s.nprops].name =
			    strdup(p->items[i].key)) == NULL)
				return SOTTO_E_NOMEM;
			n->props[n->s.nprops++].s = c ? &c->s : NULL;
		}
		qsort(n->props, n->s.nprops, sizeof(*n->props), prop_cmp);
		n->s.props = n->props;
	}
	if ((it = rn_get(m, "items")) != NULL &&
	    conv(s, it, &n->items_c) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	if ((ad = rn_get(m, "additionalProperties")) != NULL &&
	    conv(s, ad, &n->addl_c) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	n->s.items = n->items_c ? &n->items_c->s : NULL;
	n->s.addl = n->addl_c ? &n->addl_c->s : NULL;
	return SOTTO_OK;
}

static struct cnode *
def_by_name(const struct rschema *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->ndefs; i++)
		if (strcmp(s->defnames[i], name) == 0)
			return s->defs[i];
	return NULL;
}

static const struct rsch *
k8s_def(const char *name)
{
	size_t lo = 0, hi = rs_k8s_ndefs, mid;
	int r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((r = strcmp(rs_k8s_defs[mid].name, name)) == 0)
			return rs_k8s_defs[mid].s;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * What a $ref names: a definition of the custom schema or, once the
 * built-in schema is loaded too, one of its (kyaml resolves references in
 * one map of both; the one loaded last wins a name).
 */
static const struct rsch *
resolve(const struct rschema *s, const struct cnode *c)
{
	const struct rsch *k;
	size_t hops = 0;

	while (c != NULL && c->ref != NULL && hops++ < 64) {
		k = s->k8s_added ? k8s_def(c->ref) : NULL;
		if (k != NULL && (!s->custom_last ||
		    def_by_name(s, c->ref) == NULL))
			return k;
		c = def_by_name(s, c->ref);
	}
	return c ? &c->s : NULL;
}

static void
resolve_refs(struct rschema *s)
{
	size_t i, k;

	for (i = 0; i < s->nnodes; i++) {
		struct cnode *n = s->nodes[i];

		for (k = 0; k < n->s.nprops; k++)
			n->props[k].s = resolve(s,
			    (const struct cnode *)n->props[k].s);
		if (n->items_c != NULL)
			n->s.items = resolve(s, n->items_c);
		if (n->addl_c != NULL)
			n->s.addl = resolve(s, n->addl_c);
	}
}

static struct ctype *
type_get(struct rschema *s, const char *av, const char *kind, bool add)
{
	struct ctype *t;
	size_t i;

	for (i = 0; i < s->ntypes; i++)
		if (strcmp(s->types[i].apiversion, av) == 0 &&
		    strcmp(s->types[i].kind, kind) == 0)
			return &s->types[i];
	if (!add)
		return NULL;
	if (s->ntypes == s->ctypes) {
		size_t nc = s->ctypes ? s->ctypes * 2 : 16;

		if ((t = realloc(s->types, nc * sizeof(*t))) == NULL)
			return NULL;
		s->types = t;
		s->ctypes = nc;
	}
	t = &s->types[s->ntypes];
	memset(t, 0, sizeof(*t));
	if ((t->apiversion = strdup(av)) == NULL ||
	    (t->kind = strdup(kind)) == NULL) {
		free(t->apiversion);
		return NULL;
	}
	s->ntypes++;
	return t;
}

static sotto_err
gvk_apiversion(char *buf, size_t cap, const struct sotto_node *g)
{
	const char *grp = rn_str(g, "group"), *ver = rn_str(g, "version");

	if (ver == NULL || rn_str(g, "kind") == NULL)
		return SOTTO_E_PARSE;
	snprintf(buf, cap, "%s%s%s", grp && grp[0] ? grp : "",
	    grp && grp[0] ? "/" : "", ver);
	return SOTTO_OK;
}

/* The definitions' GVKs, and from the paths, which are namespaced. */
static sotto_err
parse_types(struct rschema *s, const struct sotto_node *doc)
{
	const struct sotto_node *defs = rn_get(doc, "definitions");
	const struct sotto_node *paths = rn_get(doc, "paths");
	char av[512];
	size_t i, j;

	for (i = 0; defs != NULL && i < defs->n; i++) {
		const struct sotto_node *g = rn_get(defs->items[i].val,
		    "x-kubernetes-group-version-kind");
		struct cnode *n = def_by_name(s, defs->items[i].key);

		for (j = 0; g != NULL && g->kind == SOTTO_NODE_SEQ &&
		    j < g->n; j++) {
			struct ctype *t;

			if (gvk_apiversion(av, sizeof(av), g->items[j].val) !=
			    SOTTO_OK)
				continue;
			if ((t = type_get(s, av, rn_str(g->items[j].val,
			    "kind"), true)) == NULL)
				return SOTTO_E_NOMEM;
			t->s = n;
		}
	}
	for (i = 0; paths != NULL && i < paths->n; i++) {
		const struct sotto_node *g = rn_path(paths->items[i].val,
		    "get/x-kubernetes-group-version-kind");
		struct ctype *t;

		if (g == NULL || paths->items[i].key == NULL ||
		    gvk_apiversion(av, sizeof(av), g) != SOTTO_OK)
			continue;
		if ((t = type_get(s, av, rn_str(g, "kind"), true)) == NULL)
			return SOTTO_E_NOMEM;
		if (strstr(paths->items[i].key, "namespaces/{namespace}") !=
		    NULL) {
			t->namespaced = true;
			t->scoped = true;
		} else if (!t->scoped) {
			t->scoped = true;
		}
	}
	return SOTTO_OK;
}

static sotto_err
parse_custom(struct rctx *c, struct sotto_error *e)
{
	struct rschema *s = state(c);
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_doc *doc = NULL;
	const struct sotto_node *defs;
	size_t i;
	sotto_err err;

	if ((err = sotto_store_yaml.parse(&doc, s->custom.data, s->custom.len,
	    s->custom_name, &lim, e)) != SOTTO_OK)
		return sotto_error_prefix(e, "invalid schema file");
	if (doc->n == 0 || (defs = rn_get(doc->branches[0], "definitions")) ==
	    NULL || defs->kind != SOTTO_NODE_MAP) {
		sotto_tree_doc_free(doc);
		return SOTTO_OK;
	}
	rn_strip_comments(doc->branches[0]);
	s->defs = calloc(defs->n + 1, sizeof(*s->defs));
	s->defnames = calloc(defs->n + 1, sizeof(*s->defnames));
	if (s->defs == NULL || s->defnames == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < defs->n; i++) {
		if (defs->items[i].key == NULL)
			continue;
		if ((s->defnames[s->ndefs] = strdup(defs->items[i].key)) ==
		    NULL || conv(s, defs->items[i].val, &s->defs[s->ndefs]) !=
		    SOTTO_OK) {
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
			goto out;
		}
		s->ndefs++;
	}
	if (parse_types(s, doc->branches[0]) != SOTTO_OK)
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
out:
	sotto_tree_doc_free(doc);
	return err;
}

/* ---- kyaml's global schema state ---- */

/* initSchema: what was added last wins where both define a type. */
static void
init_schema(struct rctx *c)
{
	struct rschema *s = state(c);
	struct sotto_error ignore;

	if (s == NULL || s->init)
		return;
	s->init = true;
	if (s->custom_set) {
		if (!s->custom_added && parse_custom(c, &ignore) == SOTTO_OK) {
			s->custom_added = true;
			s->custom_last = true;
		}
	} else {
		s->k8s_added = true;
		s->custom_last = false;
		s->builtin = B_PARSED;
	}
	if (s->builtin == B_DELAYED) {
		s->k8s_added = true;
		s->custom_last = false;
		s->builtin = B_PARSED;
	}
	if (s->custom_added && !s->resolved) {
		resolve_refs(s);
		s->resolved = true;
	}
}

sotto_err
rs_set_schema(struct rctx *c, const char *dir, const struct sotto_node *openapi,
    const char *kname, bool top, struct sotto_error *e)
{
	struct rschema *s = state(c);
	const char *version = rn_str(openapi, "version");
	const char *path = rn_str(openapi, "path");
	char *abs = NULL;
	sotto_err err;

	if (s == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	/* a later kustomization's schema counts only if none is set */
	if ((s->version_set || s->custom_set) && !top)
		return SOTTO_OK;
	if (path != NULL) {
		if (version != NULL)
			return sotto_error_set(e, SOTTO_E_USAGE, "'%s': openapi: "
			    "builtin version and custom schema provided, "
			    "cannot use both", kname);
		if ((err = rc_resolve(&abs, c, dir, path, e)) != SOTTO_OK)
			return sotto_error_prefix(e, "'%s'", kname);
		s->custom.len = 0;
		err = rc_read(&s->custom, c, abs, e);
		free(s->custom_name);
		s->custom_name = strdup(rc_rel(c, abs));
		free(abs);
		if (err != SOTTO_OK)
			return err;
		if (s->custom_name == NULL)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		s->custom_set = true;
		s->version_set = true;
		s->init = false;
		c->schema_gen++;
		return SOTTO_OK;
	}
	s->version_set = version != NULL && version[0] != '\0';
	if (!s->version_set)
		return SOTTO_OK;
	if (strcmp(version, "v1.21.2") != 0)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': openapi: the "
		    "specified OpenAPI version '%.40s' is not built in", kname,
		    version);
	s->custom_set = false;
	s->init = false;
	c->schema_gen++;
	return SOTTO_OK;
}

bool
rs_cluster_scoped(struct rctx *c, const char *apiversion, const char *kind)
{
	struct rschema *s = state(c);
	struct ctype *t;

	if (s == NULL)
		return false;
	/* isInitSchemaNeededForNamespaceScopeCheck (v1.21.2, the only
	 * version there is, is the default) */
	if (!s->init) {
		if (s->custom_set)
			init_schema(c);
		else if (s->builtin == B_NOT_PARSED)
			s->builtin = B_DELAYED;
	}
	/* the built-in schema knows no more than the precomputed table */
	if (!s->custom_added ||
	    (t = type_get(s, apiversion, kind, false)) == NULL)
		return false;
	return t->scoped && !t->namespaced;
}

const struct rsch *
rs_for_type(struct rctx *c, const char *apiversion, const char *kind)
{
	struct rschema *s = state(c);
	const struct rsch *k8s = NULL, *cus = NULL;
	struct ctype *t;
	size_t lo = 0, hi = rs_k8s_nroots, mid;
	int r;

	if (s == NULL)
		return NULL;
	init_schema(c);
	if (s->k8s_added)
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if ((r = strcmp(rs_k8s_roots[mid].apiversion,
			    apiversion)) == 0)
				r = strcmp(rs_k8s_roots[mid].kind, kind);
			if (r == 0) {
				k8s = rs_k8s_roots[mid].s;
				break;
			}
			if (r < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	if (s->custom_added && (t = type_get(s, apiversion, kind, false)) !=
	    NULL && t->s != NULL)
		cus = resolve(s, t->s);
	if (k8s != NULL && cus != NULL)
		return s->custom_last ? cus : k8s;
	return k8s != NULL ? k8s : cus;
}

const struct rsch *
rs_field(struct rctx *c, const struct rsch *s, const char *name)
{
	size_t lo = 0, hi, mid;
	int r;

	(void)c;
	if (s == NULL)
		return NULL;
	hi = s->nprops;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((r = strcmp(s->props[mid].name, name)) == 0)
			return s->props[mid].s;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->addl != NULL)
		return s->addl;
	/* a built-in node keeps only what leads to a merge list: any
	 * other field of it is known, with nothing to merge by key */
	return (s->flags & RS_FULL) ? NULL : &rs_k8s_nodes[0];
}

const struct rsch *
rs_elements(struct rctx *c, const struct rsch *s)
{
	(void)c;
	if (s == NULL || !(s->flags & RS_ARRAY))
		return NULL;
	if (s->items != NULL)
		return s->items;
	return (s->flags & RS_FULL) ? NULL : &rs_k8s_nodes[0];
}

bool
rs_merge_list(const struct rsch *s, const char *const **keys, size_t *nkeys)
{
	if (s == NULL || !(s->flags & RS_MERGE))
		return false;
	if (keys != NULL) {
		*keys = s->keys;
		*nkeys = s->nkeys;
	}
	return true;
}
