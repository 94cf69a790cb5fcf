/* SPDX-License-Identifier: ISC */
/*
 * The kustomization walker: path safety (every path stays under the root,
 * symlinks included), file loading with sops decryption at load time (the
 * MAC is checked on the committed bytes), and the per-kustomization
 * pipeline in kustomize's order: resources, generators, components, then
 * the built-in transformers.  Transformers live in transform.c, patches in
 * patch.c, generators in generate.c, ordering and output in output.c.
 * Also the render's budget (rc_charge) and the memo that builds a
 * directory listed more than once only once or twice.
 */
#include "sotto/render.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/b64.h"
#include "render/rint.h"
#include "sotto/io.h"
#include "sotto/sops.h"
#include "sotto/store.h"

/* ---- paths ---- */

const char *
rc_rel(const struct rctx *c, const char *abs)
{
	if (strncmp(abs, c->root, c->rootlen) == 0) {
		if (abs[c->rootlen] == '\0')
			return ".";
		if (abs[c->rootlen] == '/')
			return abs + c->rootlen + 1;
		if (c->rootlen == 1)
			return abs + 1;
	}
	return abs;
}

static bool
under_root(const struct rctx *c, const char *p)
{
	if (c->rootlen == 1)
		return p[0] == '/';
	return strncmp(p, c->root, c->rootlen) == 0 &&
	    (p[c->rootlen] == '\0' || p[c->rootlen] == '/');
}

/*
 * Joins rel to dir and resolves it (symlinks included); the result must
 * exist and stay under the root.  Absolute paths are refused.
 */
sotto_err
rc_resolve(char **out, struct rctx *c, const char *dir, const char *rel,
    struct sotto_error *e)
{
	char buf[PATH_MAX], *r;
	size_t dl = strlen(dir), rl = strlen(rel);

	*out = NULL;
	if (rel[0] == '/')
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': absolute "
		    "paths are not allowed", rel);
	if (dl + rl + 2 > sizeof(buf))
		return sotto_error_set(e, SOTTO_E_LIMIT, "path too long");
	memcpy(buf, dir, dl);
	buf[dl] = '/';
	memcpy(buf + dl + 1, rel, rl + 1);
	if ((r = realpath(buf, NULL)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "'%s': %s",
		    rc_rel(c, buf), strerror(errno));
	if (!under_root(c, r)) {
		free(r);
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s' (from '%s') "
		    "leaves the root", rel, rc_rel(c, dir));
	}
	*out = r;
	return SOTTO_OK;
}

sotto_err
rc_read(struct sotto_buf *out, struct rctx *c, const char *abs,
    struct sotto_error *e)
{
	struct stat st;
	sotto_err err;

	if (lstat(abs, &st) != 0 || !S_ISREG(st.st_mode))
		return sotto_error_set(e, SOTTO_E_IO, "'%s': not a regular "
		    "file", rc_rel(c, abs));
	if ((size_t)st.st_size > SOTTO_RENDER_MAX_FILE)
		return sotto_error_set(e, SOTTO_E_LIMIT, "'%s': cannot decrypt "
		    "file with size (%lld bytes) exceeding limit (%zu)",
		    rc_rel(c, abs), (long long)st.st_size,
		    SOTTO_RENDER_MAX_FILE);
	err = sotto_io_read_file(out, abs, SOTTO_RENDER_MAX_FILE, e);
	if (err != SOTTO_OK)
		return err;
	return rc_charge(c, out->len, 0, abs, e);
}

/*
 * The render's budget: bytes up to the stream cap (every file read; a
 * directory reused from memo as often as it is listed, as if read again;
 * what transformers, patches and generators copy into objects) and
 * objects up to the object cap (loaded, generated or copied).  Both grow
 * with the work, so a tree that multiplies its objects (a directory
 * listed twice per level, with a namePrefix to keep the ids apart) or a
 * value copied into every object stops at the cap, before the memory is
 * taken.  what: the file or directory charged, for the message.
 */
sotto_err
rc_charge(struct rctx *c, size_t bytes, size_t objects, const char *what,
    struct sotto_error *e)
{
	if (bytes > SOTTO_RENDER_MAX_STREAM - c->bytes)
		return sotto_error_set(e, SOTTO_E_LIMIT, "'%s': rendering "
		    "exceeds %zu bytes", rc_rel(c, what),
		    SOTTO_RENDER_MAX_STREAM);
	if (objects > SOTTO_RENDER_MAX_OBJECTS - c->objects)
		return sotto_error_set(e, SOTTO_E_LIMIT, "'%s': rendering "
		    "exceeds %zu objects", rc_rel(c, what),
		    SOTTO_RENDER_MAX_OBJECTS);
	c->bytes += bytes;
	c->objects += objects;
	return SOTTO_OK;
}

/*
 * Parses a file the render keeps in memory (a resource, a kustomization)
 * with st, and charges what its YAML aliases copied: the file's size
 * alone would let many small alias bombs each expand to the parser's own
 * limit.  (One file may go past the budget by that limit before it is
 * refused and freed.)
 */
sotto_err
rc_parse(struct sotto_doc **doc, const struct sotto_store *st,
    const struct sotto_buf *in, struct rctx *c, const char *abs,
    struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	sotto_err err;

	if ((err = st->parse(doc, in->data, in->len, rc_rel(c, abs), &lim,
	    e)) != SOTTO_OK)
		return err;
	return rc_charge(c, (*doc)->alias_bytes, 0, abs, e);
}

/* ---- decryption ---- */

sotto_err
rc_decrypt_doc(struct sotto_doc *doc, struct rctx *c, const char *name,
    struct sotto_error *e)
{
	struct sotto_sops_decrypt_opts dop;
	sotto_err err;

	memset(&dop, 0, sizeof(dop));
	dop.ids = c->o->ids;
	dop.nids = c->o->nids;
	dop.key_sources = c->o->key_sources;
	err = sotto_sops_decrypt(doc, &dop, e);
	if (err != SOTTO_OK)
		sotto_error_prefix(e, "cannot decrypt '%s'", name);
	return err;
}

bool
rc_disabled(const struct sotto_node *obj)
{
	const char *v = rn_str(rn_path(obj, "metadata/annotations"),
	    "kustomize.toolkit.fluxcd.io/decrypt");

	return v != NULL && strcasecmp(v, "disabled") == 0;
}

static bool
has_meta(const struct sotto_doc *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->meta[i] != NULL)
			return true;
	return false;
}

static sotto_err
add_branch(struct rlist *l, struct sotto_node *b, const char *name,
    struct sotto_error *e)
{
	struct sotto_node *items = rn_get(b, "items");
	const char *kind = rn_str(b, "kind");
	size_t i, kl;
	sotto_err err;

	rn_strip_comments(b);
	if (b->kind == SOTTO_NODE_MAP && b->n == 0) {
		sotto_tree_node_free(b, true);
		return SOTTO_OK;
	}
	kl = kind ? strlen(kind) : 0;
	if (kl > 4 && strcmp(kind + kl - 4, "List") == 0 && items != NULL &&
	    items->kind == SOTTO_NODE_SEQ) {
		for (i = 0; i < items->n; i++) {
			struct sotto_node *it = items->items[i].val;

			items->items[i].val = NULL;
			if ((err = add_branch(l, it, name, e)) != SOTTO_OK) {
				sotto_tree_node_free(b, true);
				return err;
			}
		}
		sotto_tree_node_free(b, true);
		return SOTTO_OK;
	}
	return rl_add(l, b, name, e);
}

/* Parses a resource file, decrypts it if it is a sops document, and
 * appends its objects to l. */
sotto_err
rc_load_file(struct rlist *l, struct rctx *c, const char *abs,
    struct sotto_error *e)
{
	struct sotto_buf in = SOTTO_BUF_INIT;
	const struct sotto_store *st = sotto_store_for_path(abs);
	struct sotto_doc *doc = NULL;
	const char *rel = rc_rel(c, abs);
	sotto_err err;
	size_t i, n0 = l->n;

	if (st != &sotto_store_json)
		st = &sotto_store_yaml;
	if ((err = rc_read(&in, c, abs, e)) != SOTTO_OK)
		goto out;
	if ((err = rc_parse(&doc, st, &in, c, abs, e)) != SOTTO_OK)
		goto out;
	doc->secret = true;
	if (has_meta(doc) && !(doc->n > 0 && rc_disabled(doc->branches[0]))) {
		if (!sotto_sops_is_encrypted(doc)) {
			err = sotto_error_set(e, SOTTO_E_MAC_NOT_FOUND, "'%s': "
			    "sops metadata without a MAC", rel);
			goto out;
		}
		if ((err = rc_decrypt_doc(doc, c, rel, e)) != SOTTO_OK)
			goto out;
	}
	for (i = 0; i < doc->n; i++) {
		struct sotto_node *b = doc->branches[i];

		doc->branches[i] = NULL;
		if (b == NULL)
			continue;
		if ((err = add_branch(l, b, rel, e)) != SOTTO_OK)
			goto out;
	}
	/* branches are NULL now; doc->n stays so the sops metadata of
	 * every document is freed with the doc */
	err = rc_charge(c, 0, l->n - n0, abs, e);
out:
	sotto_tree_doc_free(doc);
	sotto_buf_release(&in);
	return err;
}

static const char *
marker_for(const struct sotto_store *st)
{
	if (st == &sotto_store_yaml)
		return "mac: ENC[";
	if (st == &sotto_store_dotenv)
		return "sops_mac=ENC[";
	if (st == &sotto_store_ini)
		return "[sops]";
	return "\"mac\": \"ENC[";
}

static bool
contains(const uint8_t *p, size_t n, const char *m)
{
	size_t ml = strlen(m), i;

	for (i = 0; i + ml <= n; i++)
		if (p[i] == (uint8_t)m[0] && memcmp(p + i, m, ml) == 0)
			return true;
	return false;
}

/*
 * A file source for a generator: if it holds the marker of the format
 * named by fmtname (a key or a path, spec in-cluster.md §4.2), it is
 * decrypted in memory and re-emitted in that format; else copied.
 */
sotto_err
rc_decrypt_bytes(struct sotto_buf *out, struct rctx *c, const char *name,
    const char *fmtname, const uint8_t *p, size_t n, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	const struct sotto_store *st = sotto_store_for_path(fmtname);
	struct sotto_doc *doc = NULL;
	size_t fl = strlen(fmtname);
	sotto_err err;

	if (fl >= 17 && strcmp(fmtname + fl - 17, ".dockerconfigjson") == 0)
		st = &sotto_store_json;
	if (!contains(p, n, marker_for(st)))
		return sotto_buf_add(out, p, n);
	if ((err = st->parse(&doc, p, n, name, &lim, e)) != SOTTO_OK)
		goto out;
	doc->secret = true;
	if ((err = rc_decrypt_doc(doc, c, name, e)) != SOTTO_OK)
		goto out;
	err = st->emit_splice(out, doc, NULL, e);
out:
	sotto_tree_doc_free(doc);
	return err;
}

/* Spec in-cluster.md §4.1: the format whose marker the bytes hold,
 * preferring pref (the format the key names), or NULL. */
static const struct sotto_store *
detect_store(const uint8_t *p, size_t n, const struct sotto_store *pref)
{
	static const struct sotto_store *const all[] = {
		&sotto_store_yaml, &sotto_store_json, &sotto_store_dotenv,
		&sotto_store_ini
	};
	size_t i;

	if (contains(p, n, marker_for(pref)))
		return pref;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (contains(p, n, marker_for(all[i])))
			return all[i];
	return NULL;
}

/*
 * Spec in-cluster.md §4.3 step 3: a Secret data value holding a sops file
 * is decrypted with the format its marker shows and re-emitted in the
 * format the data key names (as `sops -d --input-type --output-type`).
 * *found is false when no marker is there (out is then empty).
 */
static sotto_err
decrypt_value(struct sotto_buf *out, bool *found, struct rctx *c,
    const char *name, const char *key, const uint8_t *p, size_t n,
    struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_emit_opts eo = { -1 };
	const struct sotto_store *kst = sotto_store_for_path(key), *in;
	struct sotto_doc *doc = NULL, *nd = NULL;
	size_t kl = strlen(key), i;
	sotto_err err;

	if (kl >= 17 && strcmp(key + kl - 17, ".dockerconfigjson") == 0)
		kst = &sotto_store_json;
	*found = (in = detect_store(p, n, kst)) != NULL;
	if (in == NULL)
		return SOTTO_OK;
	if (in == kst)
		return rc_decrypt_bytes(out, c, name, key, p, n, e);
	if ((err = in->parse(&doc, p, n, name, &lim, e)) != SOTTO_OK)
		goto out;
	doc->secret = true;
	if ((err = rc_decrypt_doc(doc, c, name, e)) != SOTTO_OK)
		goto out;
	if ((nd = sotto_tree_doc_new(name)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	nd->secret = true;
	for (i = 0; i < doc->n && err == SOTTO_OK; i++) {
		if (doc->branches[i] == NULL)
			continue;
		if ((err = sotto_tree_doc_add(nd, doc->branches[i])) !=
		    SOTTO_OK)
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		else
			doc->branches[i] = NULL;
	}
	if (err == SOTTO_OK)
		err = kst->emit(out, nd, NULL, &eo, e);
out:
	sotto_tree_doc_free(nd);
	sotto_tree_doc_free(doc);
	return err;
}

/* ---- kustomization ---- */

/* Kustomizations that include each other deeper than this are refused:
 * the walk recurses once per level. */
#define MAX_NESTING 64

static const char *const kust_names[] = {
	"kustomization.yaml", "kustomization.yml", "Kustomization", NULL
};

static const char *const kust_fields[] = {
	"apiVersion", "kind", "resources", "components", "namespace",
	"namePrefix", "nameSuffix", "labels", "commonLabels",
	"commonAnnotations", "patches", "patchesStrategicMerge",
	"patchesJson6902", "images", "replicas", "configMapGenerator",
	"secretGenerator", "generatorOptions", "generators", NULL
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

static bool
is_remote(const char *s)
{
	return strstr(s, "://") != NULL || strncmp(s, "git@", 4) == 0 ||
	    strncmp(s, "github.com/", 11) == 0 ||
	    strncmp(s, "gitlab.com/", 11) == 0;
}

static sotto_err build_dir(struct rlist *out, struct rctx *c,
    const char *dir, struct sotto_error *e);
static sotto_err apply_kust(struct rlist *acc, struct rctx *c,
    const char *dir, bool component, struct sotto_error *e);

static sotto_err
check_fields(const struct sotto_node *k, const char *name,
    struct sotto_error *e)
{
	size_t i, j;

	if (k == NULL || k->kind != SOTTO_NODE_MAP)
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': not a "
		    "kustomization (expected a map)", name);
	for (i = 0; i < k->n; i++) {
		if (k->items[i].key == NULL)
			continue;
		for (j = 0; kust_fields[j] != NULL; j++)
			if (strcmp(k->items[i].key, kust_fields[j]) == 0)
				break;
		if (kust_fields[j] == NULL)
			return sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
			    "unsupported kustomization field '%.64s'", name,
			    k->items[i].key);
	}
	return SOTTO_OK;
}

/*
 * Sub-fields get the same rule as kustomization fields (spec in-cluster.md
 * §6.2): one we do not implement is an error, never skipped.  A non-map
 * is left to the caller.
 */
sotto_err
rc_check_keys(const struct sotto_node *map, const char *const *allowed,
    const char *what, const char *kname, struct sotto_error *e)
{
	size_t i, j;

	if (map == NULL || map->kind != SOTTO_NODE_MAP)
		return SOTTO_OK;
	for (i = 0; i < map->n; i++) {
		if (map->items[i].key == NULL)
			continue;
		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(map->items[i].key, allowed[j]) == 0)
				break;
		if (allowed[j] == NULL)
			return sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
			    "unsupported %s field '%.64s'", kname, what,
			    map->items[i].key);
	}
	return SOTTO_OK;
}

static sotto_err
seq_of_strings(const struct sotto_node *s, const char *field,
    const char *name, struct sotto_error *e)
{
	size_t i;

	if (s == NULL || (s->kind == SOTTO_NODE_SCALAR &&
	    s->type == SOTTO_T_NULL))
		return SOTTO_OK;
	if (s->kind != SOTTO_NODE_SEQ)
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': '%s' must be "
		    "a list", name, field);
	for (i = 0; i < s->n; i++)
		if (!rn_is_scalar(s->items[i].val))
			return sotto_error_set(e, SOTTO_E_PARSE, "'%s': '%s' "
			    "item %zu must be a string", name, field, i);
	return SOTTO_OK;
}

static sotto_err
add_resource(struct rlist *acc, struct rctx *c, const char *dir,
    const char *ref, const char *kname, struct sotto_error *e)
{
	struct stat st;
	char *abs = NULL;
	struct rlist sub = { NULL, 0, 0 };
	sotto_err err;

	if (is_remote(ref))
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED, "'%s': '%.100s': "
		    "remote bases are not supported", kname, ref);
	if ((err = rc_resolve(&abs, c, dir, ref, e)) != SOTTO_OK)
		return sotto_error_prefix(e, "'%s'", kname);
	if (stat(abs, &st) == 0 && S_ISDIR(st.st_mode)) {
		err = build_dir(&sub, c, abs, e);
		if (err == SOTTO_OK)
			err = rl_append(acc, &sub, e);
	} else {
		err = rc_load_file(acc, c, abs, e);
	}
	rl_free(&sub);
	free(abs);
	return err;
}

static sotto_err
run_transformers(struct rlist *acc, struct rctx *c, const char *dir,
    const struct sotto_node *k, struct sotto_error *e)
{
	const struct sotto_node *v, *labels;
	sotto_err err = SOTTO_OK;
	size_t i;

	if ((v = rn_get(k, "patchesStrategicMerge")) != NULL &&
	    (err = rp_patches(acc, c, dir, v, true, false, e)) != SOTTO_OK)
		return err;
	if ((v = rn_get(k, "patches")) != NULL &&
	    (err = rp_patches(acc, c, dir, v, false, false, e)) != SOTTO_OK)
		return err;
	if (rn_str(k, "namespace") != NULL &&
	    (err = rt_namespace(acc, c, dir, rn_str(k, "namespace"), e)) !=
	    SOTTO_OK)
		return err;
	if ((rn_str(k, "namePrefix") || rn_str(k, "nameSuffix")) &&
	    (err = rt_affix(acc, c, dir, rn_str(k, "namePrefix"),
	    rn_str(k, "nameSuffix"), e)) != SOTTO_OK)
		return err;
	/* kustomize runs each `labels` entry, then commonLabels */
	labels = rn_get(k, "labels");
	for (i = 0; labels && labels->kind == SOTTO_NODE_SEQ &&
	    i < labels->n; i++) {
		static const char *const lkeys[] = { "pairs",
		    "includeSelectors", "includeTemplates", NULL };
		const struct sotto_node *l = labels->items[i].val;
		const char *sel = rn_str(l, "includeSelectors");
		const char *tpl = rn_str(l, "includeTemplates");
		bool bs = sel && strcmp(sel, "true") == 0;
		bool bt = tpl && strcmp(tpl, "true") == 0;

		if ((err = rc_check_keys(l, lkeys, "labels", rc_rel(c, dir),
		    e)) != SOTTO_OK)
			return err;
		if ((err = rt_labels(acc, c, dir, rn_get(l, "pairs"), bs,
		    bs || bt, e)) != SOTTO_OK)
			return err;
	}
	if ((v = rn_get(k, "commonLabels")) != NULL &&
	    (err = rt_labels(acc, c, dir, v, true, true, e)) != SOTTO_OK)
		return err;
	if ((v = rn_get(k, "commonAnnotations")) != NULL &&
	    (err = rt_annotations(acc, c, dir, v, e)) != SOTTO_OK)
		return err;
	if ((v = rn_get(k, "patchesJson6902")) != NULL &&
	    (err = rp_patches(acc, c, dir, v, false, true, e)) != SOTTO_OK)
		return err;
	/* each replicas entry is tried on each object */
	if ((v = rn_get(k, "replicas")) != NULL &&
	    ((err = rc_charge(c, v->n * acc->n * RN_NODE_COST, 0, dir, e)) !=
	    SOTTO_OK || (err = rt_replicas(acc, v, e)) != SOTTO_OK))
		return err;
	if ((v = rn_get(k, "images")) != NULL &&
	    (err = rt_images(acc, c, dir, v, e)) != SOTTO_OK)
		return err;
	return SOTTO_OK;
}

static size_t
group_len(const char *av)
{
	const char *sl = strchr(av, '/');

	return sl ? (size_t)(sl - av) : 0;
}

/* An object's id, looked up once for the sort. */
struct rid {
	const char *kind, *name, *ns, *group;
	size_t glen;
};

/* Orders ids: kind, name, namespace ("" = "default"), group. */
static int
id_cmp(const void *pa, const void *pb)
{
	const struct rid *a = pa, *b = pb;
	int r;

	if ((r = strcmp(a->kind, b->kind)) != 0 ||
	    (r = strcmp(a->name, b->name)) != 0 ||
	    (r = strcmp(a->ns, b->ns)) != 0)
		return r;
	if ((r = memcmp(a->group, b->group, a->glen < b->glen ? a->glen :
	    b->glen)) != 0)
		return r;
	return a->glen < b->glen ? -1 : a->glen > b->glen;
}

/* kustomize refuses a resource whose id (group, kind, current name and
 * namespace, "" meaning "default") is already registered. */
static sotto_err
check_ids(const struct rlist *l, const char *kname, struct sotto_error *e)
{
	struct rid *v;
	size_t i;
	sotto_err err = SOTTO_OK;

	if (l->n < 2)
		return SOTTO_OK;
	if ((v = calloc(l->n, sizeof(*v))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	for (i = 0; i < l->n; i++) {
		v[i].kind = robj_kind(&l->v[i]);
		v[i].name = robj_name(&l->v[i]);
		v[i].ns = robj_ns(&l->v[i]) ? robj_ns(&l->v[i]) : "default";
		v[i].group = robj_apiversion(&l->v[i]);
		v[i].glen = group_len(v[i].group);
	}
	qsort(v, l->n, sizeof(*v), id_cmp);
	for (i = 1; i < l->n && err == SOTTO_OK; i++)
		if (id_cmp(&v[i - 1], &v[i]) == 0)
			err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': may not "
			    "add resource with an already registered id: "
			    "%s/%s in '%s'", kname, v[i].kind, v[i].name,
			    v[i].ns);
	free(v);
	return err;
}

static sotto_err
apply_parsed(struct rlist *acc, struct rctx *c, const char *dir,
    const struct sotto_node *k, const char *kname, bool component,
    struct sotto_error *e)
{
	const struct sotto_node *res, *comps;
	const char *kind = rn_str(k, "kind");
	char *cabs = NULL;
	sotto_err err;
	size_t i;

	if ((err = check_fields(k, kname, e)) != SOTTO_OK)
		return err;
	/* a missing kind means Kustomization, which a component is not */
	if (kind == NULL && component)
		kind = "Kustomization";
	if (kind != NULL && strcmp(kind, component ? "Component" :
	    "Kustomization") != 0)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': kind '%.40s' "
		    "where a %s is expected", kname, kind, component ?
		    "Component" : "Kustomization");
	res = rn_get(k, "resources");
	comps = rn_get(k, "components");
	if ((err = seq_of_strings(res, "resources", kname, e)) != SOTTO_OK ||
	    (err = seq_of_strings(comps, "components", kname, e)) != SOTTO_OK)
		return err;
	for (i = 0; res && res->kind == SOTTO_NODE_SEQ && i < res->n; i++)
		if ((err = add_resource(acc, c, dir, res->items[i].val->text,
		    kname, e)) != SOTTO_OK)
			return err;
	if ((err = check_ids(acc, kname, e)) != SOTTO_OK)
		return err;
	/* kustomize runs a kustomization's generators before its
	 * components: a component may merge into a generated object and
	 * its transformers see it */
	if ((err = rg_generators(acc, c, dir, k, e)) != SOTTO_OK)
		return err;
	for (i = 0; comps && comps->kind == SOTTO_NODE_SEQ &&
	    i < comps->n; i++) {
		if ((err = rc_resolve(&cabs, c, dir, comps->items[i].val->text,
		    e)) != SOTTO_OK)
			return sotto_error_prefix(e, "'%s'", kname);
		err = apply_kust(acc, c, cabs, true, e);
		free(cabs);
		if (err != SOTTO_OK)
			return err;
	}
	return run_transformers(acc, c, dir, k, e);
}

static sotto_err
apply_kust(struct rlist *acc, struct rctx *c, const char *dir, bool component,
    struct sotto_error *e)
{
	struct sotto_buf in = SOTTO_BUF_INIT;
	struct sotto_doc *doc = NULL;
	char *kpath = NULL, *kname = NULL;
	sotto_err err;
	size_t i;
	int f = find_kust(&kpath, dir);

	if (f < 0)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': found multiple "
		    "kustomization files", rc_rel(c, dir));
	if (f == 0)
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "'%s': no "
		    "kustomization file found", rc_rel(c, dir));
	for (i = 0; i < c->nseen; i++)
		if (strcmp(c->seen[i], dir) == 0) {
			free(kpath);
			return sotto_error_set(e, SOTTO_E_USAGE, "'%s': cycle "
			    "in kustomizations", rc_rel(c, dir));
		}
	if (c->nseen >= MAX_NESTING) {
		free(kpath);
		return sotto_error_set(e, SOTTO_E_LIMIT, "'%s': kustomizations "
		    "nested deeper than %d levels", rc_rel(c, dir),
		    MAX_NESTING);
	}
	c->seen[c->nseen++] = (char *)dir;
	kname = strdup(rc_rel(c, kpath));
	if (kname == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = rc_read(&in, c, kpath, e)) != SOTTO_OK ||
	    (err = rc_parse(&doc, &sotto_store_yaml, &in, c, kpath, e)) !=
	    SOTTO_OK)
		goto out;
	if (doc->n == 0) {
		err = sotto_error_set(e, SOTTO_E_PARSE, "'%s': empty "
		    "kustomization", kname);
		goto out;
	}
	/* comments are items of their sequence: drop them before use */
	rn_strip_comments(doc->branches[0]);
	err = apply_parsed(acc, c, dir, doc->branches[0], kname, component,
	    e);
out:
	c->nseen--;
	sotto_tree_doc_free(doc);
	sotto_buf_release(&in);
	free(kpath);
	free(kname);
	return err;
}

/* ---- memo of directories built as resources ---- */

struct rmemo {
	char *dir;		/* realpath */
	bool kept;		/* res holds its objects */
	struct rlist res;	/* what a build gives (kept from the second
				   build on) */
	size_t bytes;		/* input bytes a build reads */
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
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		c->memo = m;
		c->cmemo = nc;
	}
	m = &c->memo[c->nmemo];
	memset(m, 0, sizeof(*m));
	if ((m->dir = strdup(dir)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	m->bytes = bytes;
	c->nmemo++;
	if (c->nmemo * 2 > c->mhcap) {
		size_t nc = c->mhcap ? c->mhcap * 2 : 64;

		free(c->mhash);
		if ((c->mhash = calloc(nc, sizeof(*c->mhash))) == NULL) {
			c->mhcap = 0;
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
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
		rl_free(&c->memo[i].res);
	}
	free(c->memo);
	free(c->mhash);
	c->memo = NULL;
	c->mhash = NULL;
	c->nmemo = c->cmemo = c->mhcap = 0;
}

/*
 * Builds the kustomization in dir into out (empty) as a resource.  What
 * a resource directory builds does not depend on who lists it: kustomize
 * builds it as a kustomization of its own, and only components work in
 * the includer's context (they go through apply_kust(), never here).  So
 * a directory listed again is not built again: the second build is kept,
 * and every later listing gets a copy, charged to the budget as if its
 * files were read again (the kept copy counts its objects too).  A
 * directory listed once costs no copy.
 * Without this, a tree where each level lists the next twice (a/ and b/
 * both listing ../next) doubles the work per level.
 */
static sotto_err
build_dir(struct rlist *out, struct rctx *c, const char *dir,
    struct sotto_error *e)
{
	struct rmemo *m = memo_find(c, dir);
	size_t b0 = c->bytes;
	sotto_err err;

	if (m != NULL && m->kept) {
		if ((err = rc_charge(c, m->bytes, m->res.n, dir, e)) !=
		    SOTTO_OK)
			return err;
		return rl_clone(out, &m->res, e);
	}
	if ((err = apply_kust(out, c, dir, false, e)) != SOTTO_OK)
		return err;
	if (m == NULL)
		return memo_add(c, dir, c->bytes - b0, e);
	/* the kept copy is memory like any other object */
	if ((err = rc_charge(c, 0, out->n, dir, e)) != SOTTO_OK)
		return err;
	m->kept = true;
	return rl_clone(&m->res, out, e);
}

/* ---- plain directories ---- */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
manifest_name(const char *n)
{
	size_t l = strlen(n);

	return (l > 5 && strcmp(n + l - 5, ".yaml") == 0) ||
	    (l > 4 && strcmp(n + l - 4, ".yml") == 0) ||
	    (l > 5 && strcmp(n + l - 5, ".json") == 0);
}

/* Flux's behaviour without a kustomization: every manifest in the tree
 * (hidden entries skipped); a subdirectory with a kustomization file is
 * built as one. */
static sotto_err
plain_dir(struct rlist *acc, struct rctx *c, const char *dir, int depth,
    struct sotto_error *e)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, *abs = NULL, *kp = NULL;
	size_t n = 0, cap = 0, i;
	sotto_err err = SOTTO_OK;
	struct stat st;

	if (depth > 32)
		return sotto_error_set(e, SOTTO_E_LIMIT, "'%s': directories "
		    "nested too deeply", rc_rel(c, dir));
	if ((d = opendir(dir)) == NULL)
		return sotto_error_set(e, SOTTO_E_IO, "'%s': %s",
		    rc_rel(c, dir), strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 32) *
			    sizeof(*nn));

			if (nn == NULL)
				break;
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			break;
		n++;
	}
	closedir(d);
	if (names != NULL)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n && err == SOTTO_OK; i++) {
		if ((err = rc_resolve(&abs, c, dir, names[i], e)) != SOTTO_OK)
			break;
		if (stat(abs, &st) == 0 && S_ISDIR(st.st_mode)) {
			int f = find_kust(&kp, abs);

			free(kp);
			kp = NULL;
			err = f != 0 ? add_resource(acc, c, dir, names[i],
			    rc_rel(c, dir), e) :
			    plain_dir(acc, c, abs, depth + 1, e);
		} else if (manifest_name(names[i])) {
			err = rc_load_file(acc, c, abs, e);
		}
		free(abs);
		abs = NULL;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}

/* ---- entry ---- */

static char *
find_root(const char *dir)
{
	char *r = strdup(dir), *s, buf[PATH_MAX], *cwd;

	while (r != NULL) {
		snprintf(buf, sizeof(buf), "%s/.git", r);
		if (access(buf, F_OK) == 0)
			return r;
		if ((s = strrchr(r, '/')) == NULL || s == r)
			break;
		*s = '\0';
	}
	free(r);
	if ((cwd = realpath(".", NULL)) != NULL) {
		size_t cl = strlen(cwd);

		if (strncmp(dir, cwd, cl) == 0 && (dir[cl] == '/' ||
		    dir[cl] == '\0' || cl == 1))
			return cwd;
		free(cwd);
	}
	return strdup(dir);
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
	c->root = o->root ? realpath(o->root, NULL) : find_root(*absdir);
	if (c->root == NULL)
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "root '%s' not "
		    "found", o->root ? o->root : dir);
	c->rootlen = strlen(c->root);
	if (!under_root(c, *absdir))
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s' is outside "
		    "the root '%s'", dir, o->root ? o->root : ".");
	if ((c->seen = calloc(MAX_NESTING, sizeof(*c->seen))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

void
rc_fini(struct rctx *c)
{
	memo_free(c);
	free(c->root);
	free(c->seen);
	memset(c, 0, sizeof(*c));
}

sotto_err
sotto_render_dir(struct sotto_buf *out, const char *dir,
    const struct sotto_render_opts *o, struct sotto_error *e)
{
	struct rctx c;
	struct rlist l = { NULL, 0, 0 };
	struct stat st;
	char *abs = NULL, *kp = NULL;
	sotto_err err;
	int f;

	if ((err = rc_init(&c, dir, &abs, o, e)) != SOTTO_OK)
		goto out;
	if (stat(abs, &st) != 0 || !S_ISDIR(st.st_mode)) {
		err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': not a "
		    "directory", dir);
		goto out;
	}
	f = find_kust(&kp, abs);
	free(kp);
	err = f == 0 ? plain_dir(&l, &c, abs, 0, e) :
	    build_dir(&l, &c, abs, e);
	if (err == SOTTO_OK)
		err = rt_hash_names(&l, e);
	if (err == SOTTO_OK)
		err = rt_namerefs(&l, e);
	if (err == SOTTO_OK)
		err = rc_secret_values(&l, &c, e);
	if (err == SOTTO_OK)
		err = ro_check(&l, e);
	if (err == SOTTO_OK)
		err = ro_sort(&l, e);
	if (err == SOTTO_OK)
		err = ro_emit(out, &l, o->redact, e);
out:
	if (err != SOTTO_OK)
		sotto_buf_release(out);
	rl_free(&l);
	rc_fini(&c);
	free(abs);
	return err;
}

/*
 * Spec in-cluster.md §4.3 step 3: a Secret data value whose base64 holds a
 * sops file (the marker of the format its key names) is decrypted and
 * re-encoded.  Invalid base64 is left alone.
 */
sotto_err
rc_secret_value(struct sotto_node *obj, struct rctx *c, const char *origin,
    struct sotto_error *e)
{
	struct sotto_node *data = rn_get(obj, "data");
	size_t i, dl;
	bool found;
	sotto_err err = SOTTO_OK;

	if (strcmp(rn_str(obj, "kind") ? rn_str(obj, "kind") : "", "Secret") !=
	    0 || data == NULL || data->kind != SOTTO_NODE_MAP)
		return SOTTO_OK;
	for (i = 0; i < data->n && err == SOTTO_OK; i++) {
		struct sotto_node *v = data->items[i].val;
		struct sotto_buf raw = SOTTO_BUF_SECRET_INIT,
		    plain = SOTTO_BUF_SECRET_INIT, enc = SOTTO_BUF_SECRET_INIT;

		if (!rn_is_scalar(v) || data->items[i].key == NULL ||
		    sotto_buf_grow(&raw, SOTTO_B64_DECODED_MAX(v->len)) !=
		    SOTTO_OK)
			goto next;
		if (!sotto_b64_decode(raw.data, &dl, v->text, v->len, true))
			goto next;
		raw.len = dl;
		if (!contains(raw.data, raw.len, "ENC[AES256_GCM,"))
			goto next;
		err = decrypt_value(&plain, &found, c, origin,
		    data->items[i].key, raw.data, raw.len, e);
		if (err == SOTTO_OK && !found)
			goto next;	/* no sops file: ro_check decides */
		if (err == SOTTO_OK && sotto_b64_encode(&enc, plain.data,
		    plain.len, true) != 0)
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		if (err == SOTTO_OK)
			err = sotto_tree_set_text(v, SOTTO_T_STR,
			    (const char *)enc.data, enc.len);
		if (err != SOTTO_OK)
			sotto_error_prefix(e, "Secret data '%.64s'",
			    data->items[i].key);
next:
		sotto_buf_release(&raw);
		sotto_buf_release(&plain);
		sotto_buf_release(&enc);
	}
	return err;
}

sotto_err
rc_secret_values(struct rlist *l, struct rctx *c, struct sotto_error *e)
{
	size_t i;
	sotto_err err;

	for (i = 0; i < l->n; i++)
		if ((err = rc_secret_value(l->v[i].n, c, l->v[i].origin ?
		    l->v[i].origin : "stream", e)) != SOTTO_OK)
			return err;
	return SOTTO_OK;
}
