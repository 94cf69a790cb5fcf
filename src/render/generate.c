/* SPDX-License-Identifier: ISC */
/*
 * Generators: configMapGenerator and secretGenerator (files, envs,
 * literals, type, options, behavior, generatorOptions) with encrypted
 * sources decrypted in memory (spec in-cluster.md §4.3 step 1), and our
 * SottoSecretGenerator (files: sops documents, decrypted).  The name hash
 * suffix is added at the end of the build (transform.c), as kustomize
 * does, over the plaintext data.
 */
#include "render/rint.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

#include "crypto/b64.h"
#include "sotto/io.h"
#include "sotto/store.h"

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

static bool
valid_utf8(const uint8_t *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		uint8_t c = p[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		k = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 :
		    (c & 0xf8) == 0xf0 ? 3 : 0;
		if (k == 0 || i + k >= n)
			return false;
		for (; k > 0; k--)
			if ((p[++i] & 0xc0) != 0x80)
				return false;
		i++;
	}
	return true;
}

/*
 * kustomize's encodeBase64 (api/internal/generators): an encoding of 70
 * characters or more is cut into lines of 70, each ending in a newline,
 * the last one included.  The hash suffix is computed over this text.
 */
static sotto_err
b64_lines(struct sotto_buf *out, const uint8_t *v, size_t n)
{
	struct sotto_buf raw = SOTTO_BUF_SECRET_INIT;
	sotto_err err = SOTTO_OK;
	size_t i, k;

	if (sotto_b64_encode(&raw, v, n, true) != 0) {
		sotto_buf_release(&raw);
		return SOTTO_E_NOMEM;
	}
	if (raw.len < 70) {
		err = sotto_buf_add(out, raw.data, raw.len);
		sotto_buf_release(&raw);
		return err;
	}
	for (i = 0; i < raw.len && err == SOTTO_OK; i += 70) {
		k = raw.len - i < 70 ? raw.len - i : 70;
		if ((err = sotto_buf_add(out, raw.data + i, k)) == SOTTO_OK)
			err = sotto_buf_addch(out, '\n');
	}
	sotto_buf_release(&raw);
	return err;
}

/* Adds key=value to the generated object (data, or binaryData for a
 * ConfigMap value that is not UTF-8; base64 for a Secret). */
static sotto_err
put_kv(struct sotto_node *obj, bool secret, const char *key,
    const uint8_t *v, size_t n, const char *src, struct sotto_error *e)
{
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	struct sotto_node *m;
	bool bin = !secret && !valid_utf8(v, n);
	sotto_err err;

	if (rn_get(rn_get(obj, "data"), key) != NULL ||
	    rn_get(rn_get(obj, "binaryData"), key) != NULL)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': key '%.64s' "
		    "appears twice in generator '%s'", src, key,
		    rn_str(rn_get(obj, "metadata"), "name"));
	if ((m = rn_ensure_map(obj, bin ? "binaryData" : "data")) == NULL)
		return oom(e);
	if (secret || bin)
		err = b64_lines(&b, v, n);
	else
		err = sotto_buf_add(&b, v, n);
	if (err == SOTTO_OK)
		err = rn_set(m, key, sotto_tree_new_scalar(SOTTO_T_STR,
		    b.len ? (const char *)b.data : "", b.len));
	sotto_buf_release(&b);
	return err == SOTTO_OK ? SOTTO_OK : oom(e);
}

static sotto_err
add_literals(struct sotto_node *obj, bool secret, const struct sotto_node *s,
    const char *kname, struct sotto_error *e)
{
	size_t i, vl;
	sotto_err err;

	for (i = 0; s && s->kind == SOTTO_NODE_SEQ && i < s->n; i++) {
		const char *lit = rn_is_scalar(s->items[i].val) ?
		    s->items[i].val->text : NULL, *eq;
		char *key;

		if (lit == NULL || (eq = strchr(lit, '=')) == NULL ||
		    eq == lit)
			return sotto_error_set(e, SOTTO_E_PARSE, "'%s': "
			    "literal %zu is not KEY=VALUE", kname, i);
		if ((key = strndup(lit, (size_t)(eq - lit))) == NULL)
			return oom(e);
		eq++;
		vl = strlen(eq);
		if (vl >= 2 && ((eq[0] == '"' && eq[vl - 1] == '"') ||
		    (eq[0] == '\'' && eq[vl - 1] == '\''))) {
			eq++;
			vl -= 2;
		}
		err = put_kv(obj, secret, key, (const uint8_t *)eq, vl, kname,
		    e);
		free(key);
		if (err != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

static sotto_err
read_source(struct sotto_buf *plain, struct rctx *c, const char *dir,
    const char *path, const char *fmtname, struct sotto_error *e)
{
	struct sotto_buf raw = SOTTO_BUF_SECRET_INIT;
	char *abs = NULL;
	sotto_err err;

	if ((err = rc_resolve(&abs, c, dir, path, e)) == SOTTO_OK &&
	    (err = rc_read(&raw, c, abs, e)) == SOTTO_OK)
		err = rc_decrypt_bytes(plain, c, rc_rel(c, abs), fmtname,
		    raw.data, raw.len, e);
	sotto_buf_release(&raw);
	free(abs);
	return err;
}

static sotto_err
add_files(struct sotto_node *obj, bool secret, struct rctx *c,
    const char *dir, const struct sotto_node *s, const char *kname,
    struct sotto_error *e)
{
	size_t i;
	sotto_err err = SOTTO_OK;

	for (i = 0; s && s->kind == SOTTO_NODE_SEQ && i < s->n; i++) {
		struct sotto_buf plain = SOTTO_BUF_SECRET_INIT;
		const char *spec = rn_is_scalar(s->items[i].val) ?
		    s->items[i].val->text : NULL, *eq, *path, *slash;
		char *key;

		if (spec == NULL)
			return sotto_error_set(e, SOTTO_E_PARSE, "'%s': file "
			    "%zu must be a string", kname, i);
		eq = strchr(spec, '=');
		path = eq ? eq + 1 : spec;
		slash = strrchr(path, '/');
		key = eq ? strndup(spec, (size_t)(eq - spec)) :
		    strdup(slash ? slash + 1 : path);
		if (key == NULL)
			return oom(e);
		err = read_source(&plain, c, dir, path, key, e);
		if (err == SOTTO_OK)
			err = put_kv(obj, secret, key, plain.data, plain.len,
			    kname, e);
		sotto_buf_release(&plain);
		free(key);
		if (err != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

static sotto_err
env_line(struct sotto_node *obj, bool secret, char *line, const char *src,
    size_t lineno, struct sotto_error *e)
{
	char *eq;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '\0' || *line == '#')
		return SOTTO_OK;
	if ((eq = strchr(line, '=')) == NULL || eq == line)
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s' line %zu: not "
		    "KEY=VALUE", src, lineno);
	*eq = '\0';
	return put_kv(obj, secret, line, (const uint8_t *)eq + 1,
	    strlen(eq + 1), src, e);
}

static sotto_err
add_envs(struct sotto_node *obj, bool secret, struct rctx *c,
    const char *dir, const struct sotto_node *s, const char *kname,
    struct sotto_error *e)
{
	size_t i, lineno;
	sotto_err err = SOTTO_OK;

	for (i = 0; s && s->kind == SOTTO_NODE_SEQ && i < s->n; i++) {
		struct sotto_buf plain = SOTTO_BUF_SECRET_INIT;
		const char *path = rn_is_scalar(s->items[i].val) ?
		    s->items[i].val->text : NULL;
		const struct sotto_store *st;
		char *p, *nl;

		if (path == NULL)
			return sotto_error_set(e, SOTTO_E_PARSE, "'%s': env "
			    "%zu must be a string", kname, i);
		st = sotto_store_for_path(path);
		err = read_source(&plain, c, dir, path, st ==
		    &sotto_store_binary ? "x.env" : path, e);
		p = (char *)plain.data;
		if (p != NULL && plain.len >= 3 && memcmp(p, "\xef\xbb\xbf",
		    3) == 0)
			p += 3;
		for (lineno = 1; err == SOTTO_OK && p != NULL && *p != '\0';
		    lineno++) {
			if ((nl = strchr(p, '\n')) != NULL)
				*nl = '\0';
			if (nl != NULL && nl > p && nl[-1] == '\r')
				nl[-1] = '\0';
			err = env_line(obj, secret, p, path, lineno, e);
			p = nl ? nl + 1 : p + strlen(p);
		}
		sotto_buf_release(&plain);
		if (err != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

/* The deprecated single `env:` source, which kustomize appends to envs. */
static sotto_err
add_env1(struct sotto_node *obj, bool secret, struct rctx *c,
    const char *dir, struct sotto_node *s, const char *kname,
    struct sotto_error *e)
{
	struct sotto_node *seq;
	sotto_err err;

	if (s == NULL || (s->kind == SOTTO_NODE_SCALAR &&
	    s->type == SOTTO_T_NULL))
		return SOTTO_OK;
	if (!rn_is_scalar(s))
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': 'env' must be "
		    "a file path", kname);
	if ((seq = sotto_tree_new_seq()) == NULL)
		return oom(e);
	if (sotto_tree_seq_add(seq, sotto_tree_clone(s)) != SOTTO_OK) {
		sotto_tree_node_free(seq, true);
		return oom(e);
	}
	err = add_envs(obj, secret, c, dir, seq, kname, e);
	sotto_tree_node_free(seq, true);
	return err;
}

static sotto_err
merge_meta_map(struct sotto_node *obj, const char *what,
    const struct sotto_node *pairs)
{
	struct sotto_node *m;
	size_t i;

	if (pairs == NULL || pairs->kind != SOTTO_NODE_MAP || pairs->n == 0)
		return SOTTO_OK;
	if ((m = rn_ensure_path(obj, what)) == NULL)
		return SOTTO_E_NOMEM;
	for (i = 0; i < pairs->n; i++)
		if (pairs->items[i].key != NULL &&
		    rn_set_str(m, pairs->items[i].key,
		    rn_is_scalar(pairs->items[i].val) ?
		    pairs->items[i].val->text : "") != SOTTO_OK)
			return SOTTO_E_NOMEM;
	return SOTTO_OK;
}

static bool
truthy(const struct sotto_node *m, const char *key)
{
	const char *v = rn_str(m, key);

	return v != NULL && strcmp(v, "true") == 0;
}

/* Builds one generated object from its generator entry. */
static sotto_err
make_object(struct sotto_node **out, bool *hash, struct rctx *c,
    const char *dir, const struct sotto_node *g, const struct sotto_node *gopt,
    bool secret, const char *kname, struct sotto_error *e)
{
	struct sotto_node *obj = sotto_tree_new_map(), *md;
	const struct sotto_node *opt = rn_get(g, "options");
	const char *name = rn_str(g, "name"), *ns = rn_str(g, "namespace");
	const char *type = rn_str(g, "type");
	sotto_err err;

	static const char *const gkeys[] = { "name", "namespace", "behavior",
	    "files", "envs", "env", "literals", "type", "options", NULL };
	static const char *const okeys[] = { "labels", "annotations",
	    "disableNameSuffixHash", "immutable", NULL };

	*out = NULL;
	if (obj == NULL)
		return oom(e);
	if ((err = rc_check_keys(g, gkeys, "generator", kname, e)) !=
	    SOTTO_OK || (err = rc_check_keys(opt, okeys, "generator option",
	    kname, e)) != SOTTO_OK || (err = rc_check_keys(gopt, okeys,
	    "generatorOptions", kname, e)) != SOTTO_OK) {
		sotto_tree_node_free(obj, true);
		return err;
	}
	if (name == NULL) {
		sotto_tree_node_free(obj, true);
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': a generator "
		    "has no name", kname);
	}
	if (rn_set_str(obj, "apiVersion", "v1") != SOTTO_OK ||
	    rn_set_str(obj, "kind", secret ? "Secret" : "ConfigMap") !=
	    SOTTO_OK || (md = rn_ensure_map(obj, "metadata")) == NULL ||
	    rn_set_str(md, "name", name) != SOTTO_OK ||
	    (ns && rn_set_str(md, "namespace", ns) != SOTTO_OK) ||
	    (secret && rn_set_str(obj, "type", type ? type : "Opaque") !=
	    SOTTO_OK) ||
	    merge_meta_map(obj, "metadata/labels", rn_get(gopt, "labels")) ||
	    merge_meta_map(obj, "metadata/annotations",
	    rn_get(gopt, "annotations")) ||
	    merge_meta_map(obj, "metadata/labels", rn_get(opt, "labels")) ||
	    merge_meta_map(obj, "metadata/annotations",
	    rn_get(opt, "annotations"))) {
		sotto_tree_node_free(obj, true);
		return oom(e);
	}
	if ((err = add_files(obj, secret, c, dir, rn_get(g, "files"), kname,
	    e)) != SOTTO_OK || (err = add_envs(obj, secret, c, dir,
	    rn_get(g, "envs"), kname, e)) != SOTTO_OK ||
	    (err = add_env1(obj, secret, c, dir, rn_get(g, "env"), kname,
	    e)) != SOTTO_OK ||
	    (err = add_literals(obj, secret, rn_get(g, "literals"), kname,
	    e)) != SOTTO_OK) {
		sotto_tree_node_free(obj, true);
		return err;
	}
	if ((truthy(opt, "immutable") || truthy(gopt, "immutable")) &&
	    rn_set(obj, "immutable", sotto_tree_new_scalar(SOTTO_T_BOOL,
	    "true", 4)) != SOTTO_OK) {
		sotto_tree_node_free(obj, true);
		return oom(e);
	}
	if (rn_get(obj, "data") == NULL && rn_get(obj, "binaryData") == NULL &&
	    rn_set(obj, "data", sotto_tree_new_map()) != SOTTO_OK) {
		sotto_tree_node_free(obj, true);
		return oom(e);
	}
	/* kustomize ORs the local and global options: a local false does
	 * not override a global true */
	*hash = !(truthy(opt, "disableNameSuffixHash") ||
	    truthy(gopt, "disableNameSuffixHash"));
	*out = obj;
	return SOTTO_OK;
}

static ssize_t
find_existing(struct rlist *l, const char *kind, const char *name,
    const char *ns)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const char *on = l->v[i].orig_name ? l->v[i].orig_name : "";

		if (strcmp(robj_kind(&l->v[i]), kind) == 0 &&
		    strcmp(on, name) == 0 && (ns == NULL ||
		    (robj_ns(&l->v[i]) && strcmp(robj_ns(&l->v[i]), ns) ==
		    0)))
			return (ssize_t)i;
	}
	return -1;
}

static bool
same_ns(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* kustomize refuses to add an object whose id (kind, current or original
 * name, namespace) is already registered. */
static bool
id_taken(struct rlist *l, const char *kind, const char *name, const char *ns)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct robj *o = &l->v[i];

		if (strcmp(robj_kind(o), kind) == 0 &&
		    same_ns(robj_ns(o), ns) && (strcmp(robj_name(o), name) ==
		    0 || (o->orig_name && strcmp(o->orig_name, name) == 0)))
			return true;
	}
	return false;
}

/* Copies the entries of src/what missing from dst/what (dst wins). */
static sotto_err
fill_missing(struct sotto_node *dst, const struct sotto_node *src,
    const char *what)
{
	const struct sotto_node *sm = rn_path(src, what);
	struct sotto_node *dm;
	size_t i;

	if (sm == NULL || sm->kind != SOTTO_NODE_MAP || sm->n == 0)
		return SOTTO_OK;
	if ((dm = rn_ensure_path(dst, what)) == NULL ||
	    dm->kind != SOTTO_NODE_MAP)
		return SOTTO_E_NOMEM;
	for (i = 0; i < sm->n; i++)
		if (sm->items[i].key != NULL &&
		    rn_get(dm, sm->items[i].key) == NULL &&
		    rn_set(dm, sm->items[i].key,
		    sotto_tree_clone(sm->items[i].val)) != SOTTO_OK)
			return SOTTO_E_NOMEM;
	return SOTTO_OK;
}

/*
 * behavior merge or replace, as kustomize's appendReplaceOrMerge: the new
 * object takes the old one's place, name and namespace; labels and
 * annotations are the old ones updated by the new; for merge, data and
 * binaryData keep the old keys the new object does not set.  Everything
 * else (type, immutable, the hash option) is the new generator's.  Takes
 * ownership of obj.
 */
static sotto_err
merge_into(struct robj *dst, struct sotto_node *obj, bool replace)
{
	struct sotto_node *md = rn_ensure_map(obj, "metadata");
	const char *name = robj_name(dst), *ns = robj_ns(dst);
	sotto_err err = SOTTO_OK;

	if (md == NULL)
		err = SOTTO_E_NOMEM;
	if (err == SOTTO_OK && !replace &&
	    ((err = fill_missing(obj, dst->n, "data")) != SOTTO_OK ||
	    (err = fill_missing(obj, dst->n, "binaryData")) != SOTTO_OK))
		goto out;
	if (err == SOTTO_OK)
		err = fill_missing(obj, dst->n, "metadata/labels");
	if (err == SOTTO_OK)
		err = fill_missing(obj, dst->n, "metadata/annotations");
	if (err == SOTTO_OK)
		err = rn_set_str(md, "name", name);
	if (err == SOTTO_OK && ns != NULL)
		err = rn_set_str(md, "namespace", ns);
	else if (err == SOTTO_OK)
		rn_del(md, "namespace");
out:
	if (err != SOTTO_OK) {
		sotto_tree_node_free(obj, true);
		return err;
	}
	sotto_tree_node_free(dst->n, true);
	dst->n = obj;
	return SOTTO_OK;
}

static sotto_err
run_list(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *gens, const struct sotto_node *gopt,
    bool secret, const char *kname, struct sotto_error *e)
{
	size_t i;
	sotto_err err;

	for (i = 0; gens && gens->kind == SOTTO_NODE_SEQ && i < gens->n; i++) {
		const struct sotto_node *g = gens->items[i].val;
		const char *beh = rn_str(g, "behavior");
		struct sotto_node *obj = NULL;
		bool hash = true;
		ssize_t at;

		/* the id check below scans the objects: charged like a
		 * patch matched against each */
		if ((err = rc_charge(c, l->n * RN_NODE_COST, 0, dir, e)) !=
		    SOTTO_OK || (err = make_object(&obj, &hash, c, dir, g,
		    gopt, secret, kname, e)) != SOTTO_OK)
			return err;
		if (beh == NULL || strcmp(beh, "create") == 0) {
			if (id_taken(l, secret ? "Secret" : "ConfigMap",
			    rn_str(g, "name"), rn_str(g, "namespace"))) {
				sotto_tree_node_free(obj, true);
				return sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
				    "generator '%s' creates a %s that already "
				    "exists (use behavior merge or replace)",
				    kname, rn_str(g, "name"), secret ?
				    "Secret" : "ConfigMap");
			}
			if ((err = rl_add(l, obj, kname, e)) != SOTTO_OK)
				return err;
			l->v[l->n - 1].hash = hash;
			/* generatorOptions labels and annotations are copied
			 * into every generated object */
			if ((err = rc_charge(c, rn_cost(obj), 1, dir, e)) !=
			    SOTTO_OK)
				return err;
			continue;
		}
		at = find_existing(l, secret ? "Secret" : "ConfigMap",
		    rn_str(g, "name"), rn_str(g, "namespace"));
		if (at < 0 || (strcmp(beh, "merge") != 0 &&
		    strcmp(beh, "replace") != 0)) {
			sotto_tree_node_free(obj, true);
			return sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
			    "behavior '%.20s' for '%s': %s", kname, beh,
			    rn_str(g, "name"), at < 0 ? "no such object to "
			    "merge into" : "unknown behavior");
		}
		if ((err = rc_charge(c, rn_cost(obj), 0, dir, e)) !=
		    SOTTO_OK) {
			sotto_tree_node_free(obj, true);
			return err;
		}
		err = merge_into(&l->v[at], obj, strcmp(beh, "replace") == 0);
		l->v[at].hash = hash;
		if (err != SOTTO_OK)
			return oom(e);
	}
	return SOTTO_OK;
}

/* SottoSecretGenerator: apiVersion sotto.dev/v1, files: [paths]. */
sotto_err
rg_sotto_generator(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *cfg, const char *cfgname, struct sotto_error *e)
{
	const char *av = rn_str(cfg, "apiVersion"), *k = rn_str(cfg, "kind");
	const struct sotto_node *files = rn_get(cfg, "files");
	char *abs = NULL;
	size_t i;
	sotto_err err;

	if (av == NULL || k == NULL || strcmp(av, "sotto.dev/v1") != 0 ||
	    strcmp(k, "SottoSecretGenerator") != 0)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': expected "
		    "apiVersion sotto.dev/v1, kind SottoSecretGenerator",
		    cfgname);
	for (i = 0; i < cfg->n; i++)
		if (cfg->items[i].key != NULL &&
		    strcmp(cfg->items[i].key, "apiVersion") != 0 &&
		    strcmp(cfg->items[i].key, "kind") != 0 &&
		    strcmp(cfg->items[i].key, "metadata") != 0 &&
		    strcmp(cfg->items[i].key, "files") != 0)
			return sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
			    "unsupported SottoSecretGenerator field '%.64s'",
			    cfgname, cfg->items[i].key);
	if (files == NULL || files->kind != SOTTO_NODE_SEQ)
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': 'files' must "
		    "be a list", cfgname);
	for (i = 0; i < files->n; i++) {
		if (!rn_is_scalar(files->items[i].val))
			return sotto_error_set(e, SOTTO_E_PARSE, "'%s': file "
			    "%zu must be a string", cfgname, i);
		if ((err = rc_resolve(&abs, c, dir, files->items[i].val->text,
		    e)) != SOTTO_OK)
			return sotto_error_prefix(e, "'%s'", cfgname);
		err = rc_load_file(l, c, abs, e);
		free(abs);
		if (err != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

static sotto_err
run_generators_field(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *gens, const char *kname, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	size_t i;
	sotto_err err = SOTTO_OK;

	for (i = 0; gens && gens->kind == SOTTO_NODE_SEQ && i < gens->n &&
	    err == SOTTO_OK; i++) {
		struct sotto_buf in = SOTTO_BUF_INIT;
		struct sotto_doc *doc = NULL;
		char *abs = NULL;
		size_t j;

		if (!rn_is_scalar(gens->items[i].val))
			return sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
			    "generators item %zu must be a file path", kname,
			    i);
		if ((err = rc_resolve(&abs, c, dir, gens->items[i].val->text,
		    e)) == SOTTO_OK && (err = rc_read(&in, c, abs, e)) ==
		    SOTTO_OK)
			err = sotto_store_yaml.parse(&doc, in.data, in.len,
			    rc_rel(c, abs), &lim, e);
		for (j = 0; err == SOTTO_OK && j < doc->n; j++)
			rn_strip_comments(doc->branches[j]);
		for (j = 0; err == SOTTO_OK && j < doc->n; j++)
			err = rg_sotto_generator(l, c, dir, doc->branches[j],
			    rc_rel(c, abs), e);
		sotto_tree_doc_free(doc);
		sotto_buf_release(&in);
		free(abs);
	}
	return err;
}

sotto_err
rg_generators(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *k, struct sotto_error *e)
{
	const struct sotto_node *gopt = rn_get(k, "generatorOptions");
	const char *kname = rc_rel(c, dir);
	sotto_err err;

	if ((err = run_list(l, c, dir, rn_get(k, "configMapGenerator"), gopt,
	    false, kname, e)) != SOTTO_OK ||
	    (err = run_list(l, c, dir, rn_get(k, "secretGenerator"), gopt,
	    true, kname, e)) != SOTTO_OK)
		return err;
	return run_generators_field(l, c, dir, rn_get(k, "generators"), kname,
	    e);
}
