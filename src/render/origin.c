/* SPDX-License-Identifier: ISC */
/*
 * buildMetadata (kustomize's resource.Origin and the end of krusty's Run):
 * with originAnnotations, each object says where it came from
 * (config.kubernetes.io/origin: the file, or the generator and the
 * kustomization that configured it); with transformerAnnotations, which
 * transformers changed it (alpha.config.kubernetes.io/transformations);
 * with managedByLabel, app.kubernetes.io/managed-by names kustomize as
 * kubectl's build of it does ("kustomize-(devel)").  Only the top
 * kustomization's buildMetadata counts, as in kustomize.  Also the last
 * thing kustomize does to every object: its annotations set again, as
 * strings.
 */
#include "render/build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORIGIN_KEY "config.kubernetes.io/origin"
#define TRANSFORM_KEY "alpha.config.kubernetes.io/transformations"

/* configuredBy: a built-in plugin (name and namespace: its
 * configuration's, for one given as an entry of generators or
 * transformers) */
struct rby {
	const char *kind, *name, *ns;
};

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

/* filepath.Join(a, b), cleaned. */
static char *
join_clean(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2, i, k = 0, nseg = 0, sl;
	char *in = malloc(n), *out = malloc(n + 1), *s, *next;
	char **seg = calloc(n, sizeof(*seg));

	if (in == NULL || out == NULL || seg == NULL) {
		free(in);
		free(out);
		free(seg);
		return NULL;
	}
	snprintf(in, n, "%s%s%s", a, a[0] && b[0] ? "/" : "", b);
	for (s = in; s != NULL; s = next) {
		next = strchr(s, '/');
		if (next != NULL)
			*next++ = '\0';
		sl = strlen(s);
		if (sl == 0 || strcmp(s, ".") == 0)
			continue;
		if (strcmp(s, "..") == 0 && nseg > 0 &&
		    strcmp(seg[nseg - 1], "..") != 0) {
			nseg--;
			continue;
		}
		seg[nseg++] = s;
	}
	for (i = 0; i < nseg; i++)
		k += (size_t)snprintf(out + k, n + 1 - k, "%s%s", i ? "/" : "",
		    seg[i]);
	if (nseg == 0)
		snprintf(out, n + 1, ".");
	free(in);
	free(seg);
	return out;
}

sotto_err
ro_origin_push(struct rctx *c, const char *ref, char **saved,
    struct sotto_error *e)
{
	char *p = join_clean(c->opath ? c->opath : "", ref);

	if (p == NULL)
		return oom(e);
	*saved = c->opath ? c->opath : strdup("");
	if (*saved == NULL) {
		free(p);
		return oom(e);
	}
	c->opath = p;
	return SOTTO_OK;
}

void
ro_origin_pop(struct rctx *c, char *saved)
{
	free(c->opath);
	c->opath = saved;
}

void
ro_origin_free(struct rctx *c)
{
	free(c->opath);
	c->opath = NULL;
	sotto_tree_node_free(c->sort, true);
	c->sort = NULL;
}

/* A string as yaml.v3 writes it in a block map: plain when it can be. */
static sotto_err
yval(struct sotto_buf *b, const char *s)
{
	size_t i;
	bool plain = s[0] != '\0' && strchr("-?:,[]{}#&*!|>'\"%@` ",
	    s[0]) == NULL && s[strlen(s) - 1] != ' ';

	for (i = 0; plain && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (s[i] == ':' &&
		    (s[i + 1] == ' ' || s[i + 1] == '\0')) || (s[i] == '#' &&
		    i > 0 && s[i - 1] == ' '))
			plain = false;
	if (plain)
		return sotto_buf_addstr(b, s);
	if (sotto_buf_addch(b, '"') != SOTTO_OK)
		return SOTTO_E_NOMEM;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			if (sotto_buf_addch(b, '\\') != SOTTO_OK ||
			    sotto_buf_addch(b, ch) != SOTTO_OK)
				return SOTTO_E_NOMEM;
		} else if (ch < 0x20) {
			if (sotto_buf_addf(b, "\\x%02x", ch) != SOTTO_OK)
				return SOTTO_E_NOMEM;
		} else if (sotto_buf_addch(b, ch) != SOTTO_OK) {
			return SOTTO_E_NOMEM;
		}
	}
	return sotto_buf_addch(b, '"');
}

/* An Origin as kyaml.Marshal writes it; ind: the indent of every line
 * after the first. */
static sotto_err
origin_yaml(struct sotto_buf *b, const char *path, const char *in,
    const struct rby *by, const char *ind)
{
	sotto_err err = SOTTO_OK;
	bool first = true;

	if (path != NULL) {
		err = sotto_buf_addstr(b, "path: ");
		if (err == SOTTO_OK)
			err = yval(b, path);
		if (err == SOTTO_OK)
			err = sotto_buf_addch(b, '\n');
		first = false;
	}
	if (in != NULL && err == SOTTO_OK) {
		err = sotto_buf_addf(b, "%sconfiguredIn: ", first ? "" : ind);
		if (err == SOTTO_OK)
			err = yval(b, in);
		if (err == SOTTO_OK)
			err = sotto_buf_addf(b, "\n%sconfiguredBy:\n%s  "
			    "apiVersion: builtin\n%s  kind: %s\n", ind, ind,
			    ind, by->kind);
		if (err == SOTTO_OK && by->name != NULL && by->name[0]) {
			err = sotto_buf_addf(b, "%s  name: ", ind);
			if (err == SOTTO_OK)
				err = yval(b, by->name);
			if (err == SOTTO_OK)
				err = sotto_buf_addch(b, '\n');
		}
		if (err == SOTTO_OK && by->ns != NULL && by->ns[0]) {
			err = sotto_buf_addf(b, "%s  namespace: ", ind);
			if (err == SOTTO_OK)
				err = yval(b, by->ns);
			if (err == SOTTO_OK)
				err = sotto_buf_addch(b, '\n');
		}
	}
	return err;
}

static sotto_err
set_anno(struct sotto_node *obj, const char *key, const struct sotto_buf *b)
{
	struct sotto_node *a = rn_ensure_path(obj, "metadata/annotations");

	if (a == NULL || a->kind != SOTTO_NODE_MAP)
		return SOTTO_E_NOMEM;
	return rn_set(a, key, sotto_tree_new_scalar(SOTTO_T_STR,
	    (const char *)b->data, b->len));
}

static const struct sotto_node *
get_anno(const struct robj *o, const char *key)
{
	return rn_get(rn_path(o->n, "metadata/annotations"), key);
}

sotto_err
ro_set_origin_path(struct robj *o, struct rctx *c, const char *path,
    struct sotto_error *e)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	sotto_err err;

	(void)c;
	if ((err = origin_yaml(&b, path, NULL, NULL, "")) == SOTTO_OK)
		err = set_anno(o->n, ORIGIN_KEY, &b);
	sotto_buf_release(&b);
	return err == SOTTO_OK ? SOTTO_OK : oom(e);
}

static char *
configured_in(struct rctx *c, const struct rkust *k)
{
	return join_clean(c->opath ? c->opath : "", k->kfile ? k->kfile :
	    "kustomization.yaml");
}

static sotto_err
set_origin(struct rlist *l, const char *in, const struct rby *by,
    struct sotto_error *e)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	size_t i;
	sotto_err err;

	err = origin_yaml(&b, NULL, in, by, "");
	for (i = 0; i < l->n && err == SOTTO_OK; i++)
		if (get_anno(&l->v[i], ORIGIN_KEY) == NULL)
			err = set_anno(l->v[i].n, ORIGIN_KEY, &b);
	sotto_buf_release(&b);
	return err == SOTTO_OK ? SOTTO_OK : oom(e);
}

sotto_err
ro_set_origin_builtin(struct rlist *l, struct rctx *c, const struct rkust *k,
    const char *kind, struct sotto_error *e)
{
	struct rby by = { kind, NULL, NULL };
	char *in = configured_in(c, k);
	sotto_err err;

	if (in == NULL)
		return oom(e);
	err = set_origin(l, in, &by, e);
	free(in);
	return err;
}

/*
 * Where a plugin configuration object was configured: the file it was
 * read from (its own origin annotation, set as it was loaded), else the
 * kustomization (an inline entry).  NULL: out of memory, or an origin
 * path written quoted (*bad).
 */
static char *
plugin_in(struct rctx *c, const struct rkust *k, const struct robj *cfg,
    bool *bad)
{
	const char *v = rn_value(get_anno(cfg, ORIGIN_KEY)), *nl;

	*bad = false;
	if (v[0] == '\0')
		return configured_in(c, k);
	if (strncmp(v, "path: ", 6) != 0 || v[6] == '"' ||
	    (nl = strchr(v, '\n')) == NULL || nl[1] != '\0') {
		*bad = true;
		return NULL;
	}
	return strndup(v + 6, (size_t)(nl - v - 6));
}

sotto_err
ro_set_origin_plugin(struct rlist *l, struct rctx *c, const struct rkust *k,
    const struct robj *cfg, struct sotto_error *e)
{
	struct rby by = { robj_kind(cfg), robj_name(cfg), robj_ns(cfg) };
	bool bad;
	char *in = plugin_in(c, k, cfg, &bad);
	sotto_err err;

	if (bad)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': origin of a "
		    "plugin configuration with a quoted path (not "
		    "supported)", k->kname);
	if (in == NULL)
		return oom(e);
	err = set_origin(l, in, &by, e);
	free(in);
	return err;
}

static sotto_err
add_transformation(struct rlist *l, char *in, const struct rby *by,
    struct sotto_error *e)
{
	struct sotto_buf own = SOTTO_BUF_INIT, item = SOTTO_BUF_INIT;
	struct sotto_buf list = SOTTO_BUF_INIT;
	size_t i;
	sotto_err err;

	if (in == NULL)
		return oom(e);
	err = origin_yaml(&own, NULL, in, by, "");
	if (err == SOTTO_OK && (err = sotto_buf_addstr(&item, "- ")) ==
	    SOTTO_OK)
		err = origin_yaml(&item, NULL, in, by, "  ");
	for (i = 0; i < l->n && err == SOTTO_OK; i++) {
		const struct sotto_node *t;

		if (get_anno(&l->v[i], ORIGIN_KEY) == NULL) {
			err = set_anno(l->v[i].n, ORIGIN_KEY, &own);
			continue;
		}
		list.len = 0;
		t = get_anno(&l->v[i], TRANSFORM_KEY);
		if (t != NULL && (err = sotto_buf_addstr(&list,
		    rn_value(t))) != SOTTO_OK)
			break;
		if ((err = sotto_buf_add(&list, item.data, item.len)) ==
		    SOTTO_OK)
			err = set_anno(l->v[i].n, TRANSFORM_KEY, &list);
	}
	sotto_buf_release(&own);
	sotto_buf_release(&item);
	sotto_buf_release(&list);
	return err == SOTTO_OK ? SOTTO_OK : oom(e);
}

sotto_err
ro_add_transformation(struct rlist *l, struct rctx *c, const struct rkust *k,
    const char *kind, struct sotto_error *e)
{
	struct rby by = { kind, NULL, NULL };
	char *in = configured_in(c, k);
	sotto_err err;

	if (in == NULL)
		return oom(e);
	err = add_transformation(l, in, &by, e);
	free(in);
	return err;
}

sotto_err
ro_add_transformation_plugin(struct rlist *l, struct rctx *c,
    const struct rkust *k, const struct robj *cfg, struct sotto_error *e)
{
	struct rby by = { robj_kind(cfg), robj_name(cfg), robj_ns(cfg) };
	bool bad;
	char *in = plugin_in(c, k, cfg, &bad);
	sotto_err err;

	if (bad)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': origin of a "
		    "plugin configuration with a quoted path (not "
		    "supported)", k->kname);
	if (in == NULL)
		return oom(e);
	err = add_transformation(l, in, &by, e);
	free(in);
	return err;
}

sotto_err
ro_build_metadata(struct rlist *l, struct rctx *c, struct sotto_error *e)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct sotto_node *o = l->v[i].n, *a;

		if (c->managed_by &&
		    ((a = rn_ensure_path(o, "metadata/labels")) == NULL ||
		    (a->kind == SOTTO_NODE_MAP && rn_set_str(a,
		    "app.kubernetes.io/managed-by", "kustomize-(devel)") !=
		    SOTTO_OK)))
			return oom(e);
		a = rn_path(o, "metadata/annotations");
		if (!c->origins)
			rn_del(a, ORIGIN_KEY);
		if (!c->transformations)
			rn_del(a, TRANSFORM_KEY);
		if (rt_annotations_strings(o) != SOTTO_OK)
			return oom(e);
	}
	return SOTTO_OK;
}
