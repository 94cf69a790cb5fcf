/* SPDX-License-Identifier: ISC */
/*
 * Flux's Kustomization spec fields (issue #15), as kustomize-controller's
 * generator (fluxcd/pkg kustomize/kustomize_generator.go) writes them into
 * the kustomization at spec.path before building it: here merged into the
 * top kustomization's tree in memory, so that nothing is written into the
 * checkout other Kustomizations read.
 *
 *   namespace, namePrefix, nameSuffix   replace the file's value
 *   patches, components                 appended after the file's own
 *   images                              an entry of the same name is
 *                                       updated field by field (newTag
 *                                       and digest together), else added
 *
 * Without a kustomization file one is made, as Flux's
 * findOrGenerateKustomization: every *.yaml and *.yml file in the tree, a
 * subdirectory holding a kustomization listed as one resource, in the
 * lexical order of filepath.Walk.
 */
#include "render/build.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

sotto_err
rf_init(struct rctx *c, const char *absdir, struct sotto_error *e)
{
	struct sotto_buf in = SOTTO_BUF_INIT;
	sotto_err err;

	if (c->o->flux_overlay == NULL)
		return SOTTO_OK;
	if ((c->flux_dir = strdup(absdir)) == NULL ||
	    sotto_buf_add(&in, c->o->flux_overlay,
	    strlen(c->o->flux_overlay)) != SOTTO_OK) {
		sotto_buf_release(&in);
		return oom(e);
	}
	err = rc_parse(&c->flux, &sotto_store_yaml, &in, c, absdir, e);
	sotto_buf_release(&in);
	if (err != SOTTO_OK)
		return sotto_error_prefix(e, "the Kustomization's spec");
	if (c->flux->n != 1 || c->flux->branches[0]->kind != SOTTO_NODE_MAP)
		return sotto_error_set(e, SOTTO_E_INTERNAL, "the "
		    "Kustomization's spec: not an object");
	return SOTTO_OK;
}

void
rf_fini(struct rctx *c)
{
	sotto_tree_doc_free(c->flux);
	c->flux = NULL;
	free(c->flux_dir);
	c->flux_dir = NULL;
}

bool
rf_is_top(const struct rctx *c, const char *dir)
{
	return c->flux != NULL && c->nseen == 0 &&
	    strcmp(dir, c->flux_dir) == 0;
}

/* A sequence at key (a null or absent value becomes an empty one). */
static struct sotto_node *
ensure_seq(struct sotto_node *k, const char *key)
{
	struct sotto_node *s = rn_get(k, key);

	if (s != NULL && s->kind == SOTTO_NODE_SEQ)
		return s;
	if (s != NULL && !rn_is_null(s))
		return NULL;
	if (rn_set(k, key, sotto_tree_new_seq()) != SOTTO_OK)
		return NULL;
	return rn_get(k, key);
}

static sotto_err
append(struct sotto_node *k, const char *key, const struct sotto_node *add,
    const char *kname, struct sotto_error *e)
{
	struct sotto_node *s;
	size_t i;

	if (add == NULL || add->n == 0)
		return SOTTO_OK;
	if ((s = ensure_seq(k, key)) == NULL)
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': %s is not a "
		    "list", kname, key);
	for (i = 0; i < add->n; i++) {
		struct sotto_node *v = sotto_tree_clone(add->items[i].val);

		if (v == NULL || sotto_tree_seq_add(s, v) != SOTTO_OK) {
			sotto_tree_node_free(v, true);
			return oom(e);
		}
	}
	return SOTTO_OK;
}

static sotto_err
set_or_del(struct sotto_node *m, const char *key, const char *v)
{
	if (v == NULL || v[0] == '\0') {
		rn_del(m, key);
		return SOTTO_OK;
	}
	return rn_set_str(m, key, v);
}

static sotto_err
images(struct sotto_node *k, const struct sotto_node *add, const char *kname,
    struct sotto_error *e)
{
	struct sotto_node *s;
	size_t i, j;

	if (add == NULL || add->n == 0)
		return SOTTO_OK;
	if ((s = ensure_seq(k, "images")) == NULL)
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': images is not "
		    "a list", kname);
	for (i = 0; i < add->n; i++) {
		const struct sotto_node *im = add->items[i].val;
		const char *name = rn_str(im, "name");
		const char *nn = rn_str(im, "newName");
		const char *tag = rn_str(im, "newTag");
		const char *dg = rn_str(im, "digest");
		struct sotto_node *old = NULL, *v;

		for (j = 0; name != NULL && j < s->n; j++) {
			const char *on = rn_str(s->items[j].val, "name");

			if (on != NULL && strcmp(on, name) == 0 &&
			    s->items[j].val->kind == SOTTO_NODE_MAP) {
				old = s->items[j].val;
				break;
			}
		}
		if (old == NULL) {
			v = sotto_tree_clone(im);
			if (v == NULL || sotto_tree_seq_add(s, v) != SOTTO_OK) {
				sotto_tree_node_free(v, true);
				return oom(e);
			}
			continue;
		}
		/* the generator: newName if given; newTag and digest as one */
		if (nn != NULL && nn[0] != '\0' &&
		    rn_set_str(old, "newName", nn) != SOTTO_OK)
			return oom(e);
		if (((tag != NULL && tag[0] != '\0') ||
		    (dg != NULL && dg[0] != '\0')) &&
		    (set_or_del(old, "newTag", tag) != SOTTO_OK ||
		    set_or_del(old, "digest", dg) != SOTTO_OK))
			return oom(e);
	}
	return SOTTO_OK;
}

sotto_err
rf_merge(struct rctx *c, struct sotto_node *k, const char *kname,
    struct sotto_error *e)
{
	static const char *const repl[] = { "namespace", "namePrefix",
	    "nameSuffix", NULL };
	const struct sotto_node *f = c->flux->branches[0];
	sotto_err err;
	size_t i;

	if (k->kind != SOTTO_NODE_MAP)
		return SOTTO_OK;	/* refused by the normalizer */
	for (i = 0; repl[i] != NULL; i++) {
		const char *v = rn_str(f, repl[i]);

		if (v != NULL && rn_set_str(k, repl[i], v) != SOTTO_OK)
			return oom(e);
	}
	if ((err = append(k, "patches", rn_get(f, "patches"), kname, e)) !=
	    SOTTO_OK || (err = append(k, "components", rn_get(f,
	    "components"), kname, e)) != SOTTO_OK)
		return err;
	return images(k, rn_get(f, "images"), kname, e);
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
yaml_name(const char *n)
{
	size_t l = strlen(n);

	return (l > 5 && strcmp(n + l - 5, ".yaml") == 0) ||
	    (l > 4 && strcmp(n + l - 4, ".yml") == 0);
}

static sotto_err
scan(struct sotto_node *res, struct rctx *c, const char *abs,
    const char *rel, int depth, struct sotto_error *e)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	sotto_err err = SOTTO_OK;

	if (depth > 32)
		return sotto_error_set(e, SOTTO_E_LIMIT, "'%s': directories "
		    "nested too deeply", rel);
	if ((d = opendir(abs)) == NULL)
		return sotto_error_set(e, SOTTO_E_IO, "'%s': %s", rel,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')	/* as rc_plain_dir */
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 32) *
			    sizeof(*nn));

			if (nn == NULL) {
				err = oom(e);
				break;
			}
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			err = oom(e);
			break;
		}
		n++;
	}
	closedir(d);
	if (names != NULL)
		qsort(names, n, sizeof(*names), cmp);
	for (i = 0; i < n && err == SOTTO_OK; i++) {
		char a[PATH_MAX], r[PATH_MAX];
		struct stat st;

		if ((size_t)snprintf(a, sizeof(a), "%s/%s", abs, names[i]) >=
		    sizeof(a) || (size_t)snprintf(r, sizeof(r), "%s/%s", rel,
		    names[i]) >= sizeof(r)) {
			err = sotto_error_set(e, SOTTO_E_LIMIT, "'%s': path "
			    "too long", rel);
			break;
		}
		if (stat(a, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (!rb_has_kustomization(a)) {
				err = scan(res, c, a, r, depth + 1, e);
				continue;
			}
		} else if (!yaml_name(names[i])) {
			continue;
		}
		if (sotto_tree_seq_add(res, rn_strnode(r)) != SOTTO_OK)
			err = oom(e);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}

sotto_err
rf_synth(struct sotto_node **out, struct rctx *c, const char *dir,
    struct sotto_error *e)
{
	struct sotto_node *k = sotto_tree_new_map(), *res = NULL;
	sotto_err err;

	*out = NULL;
	if (k == NULL || rn_set_str(k, "apiVersion",
	    "kustomize.config.k8s.io/v1beta1") != SOTTO_OK ||
	    rn_set_str(k, "kind", "Kustomization") != SOTTO_OK ||
	    rn_set(k, "resources", sotto_tree_new_seq()) != SOTTO_OK ||
	    (res = rn_get(k, "resources")) == NULL) {
		sotto_tree_node_free(k, true);
		return oom(e);
	}
	if ((err = scan(res, c, dir, ".", 0, e)) != SOTTO_OK) {
		sotto_tree_node_free(k, true);
		return err;
	}
	if (res->n == 0 && (rn_del(k, "resources"), rn_set_str(k, "namespace",
	    "_placeholder")) != SOTTO_OK) {
		sotto_tree_node_free(k, true);
		return oom(e);
	}
	*out = k;
	return SOTTO_OK;
}
