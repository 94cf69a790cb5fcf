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
#include "render/build.h"
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

bool
rc_under_root(const struct rctx *c, const char *p)
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
	if (!rc_under_root(c, r)) {
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
	if ((size_t)st.st_size > SOTTO_RENDER_MAX_STREAM)
		return sotto_error_set(e, SOTTO_E_LIMIT, "'%s': file size "
		    "(%lld bytes) exceeds the render limit (%zu bytes)",
		    rc_rel(c, abs), (long long)st.st_size,
		    SOTTO_RENDER_MAX_STREAM);
	err = sotto_io_read_file(out, abs, SOTTO_RENDER_MAX_STREAM, e);
	if (err != SOTTO_OK)
		return err;
	return rc_charge(c, out->len, 0, abs, e);
}

/* Flux's decryptor refuses to decrypt a file over 5 MiB (its
 * maxEncryptedFileSize); plain files only count to the render's budget. */
static sotto_err
sops_size(const char *name, size_t len, struct sotto_error *e)
{
	if (len <= SOTTO_RENDER_MAX_SOPS_FILE)
		return SOTTO_OK;
	return sotto_error_set(e, SOTTO_E_LIMIT, "'%s': cannot decrypt file "
	    "with size (%zu bytes) exceeding limit (%zu)", name, len,
	    SOTTO_RENDER_MAX_SOPS_FILE);
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
	dop.pgp = c->o->pgp;
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

static sotto_err add_branch(struct rlist *l, struct sotto_node *b,
    const char *name, int depth, struct sotto_error *e);

/*
 * kustomize's inlineAnyEmbeddedLists: a kind ending in "List" with an
 * items list is replaced by its items (null items: nothing; items that are
 * not a list: an error); without items it is an object like any other.
 */
static sotto_err
add_list(struct rlist *l, struct sotto_node *b, struct sotto_node *items,
    const char *name, int depth, struct sotto_error *e)
{
	size_t i;
	sotto_err err = SOTTO_OK;

	if (rn_is_null(items)) {
		sotto_tree_node_free(b, true);
		return SOTTO_OK;
	}
	if (items->kind != SOTTO_NODE_SEQ) {
		sotto_tree_node_free(b, true);
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': expected a list "
		    "in %.64s/items", name, rn_str(b, "kind"));
	}
	for (i = 0; i < items->n && err == SOTTO_OK; i++) {
		struct sotto_node *it = items->items[i].val;

		items->items[i].val = NULL;
		if (it == NULL || it->kind == SOTTO_NODE_COMMENT) {
			sotto_tree_node_free(it, true);
			continue;
		}
		rn_drop_styles(it);
		err = add_branch(l, it, name, depth + 1, e);
	}
	sotto_tree_node_free(b, true);
	return err;
}

/* kustomize's dropBadNodes and GetValidatedMetadata: empty documents are
 * skipped; a kind is required, and a name unless the kind is a List. */
static sotto_err
add_branch(struct rlist *l, struct sotto_node *b, const char *name,
    int depth, struct sotto_error *e)
{
	struct sotto_node *items = rn_get(b, "items");
	const char *kind;
	size_t kl;

	rn_strip_comments(b);
	if (b == NULL || rn_is_null(b) || (b->kind == SOTTO_NODE_MAP &&
	    b->n == 0)) {
		sotto_tree_node_free(b, true);
		return SOTTO_OK;
	}
	if (b->kind != SOTTO_NODE_MAP || depth > 64) {
		sotto_tree_node_free(b, true);
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': a resource "
		    "must be a map", name);
	}
	kind = rn_str(b, "kind");
	kl = kind ? strlen(kind) : 0;
	if (kl == 0) {
		sotto_tree_node_free(b, true);
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': missing kind "
		    "in object", name);
	}
	if (kl >= 4 && strcmp(kind + kl - 4, "List") == 0) {
		if (rn_get(b, "items") != NULL)
			return add_list(l, b, items, name, depth, e);
	} else if (rn_str(rn_get(b, "metadata"), "name") == NULL ||
	    rn_str(rn_get(b, "metadata"), "name")[0] == '\0') {
		sotto_tree_node_free(b, true);
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s': missing "
		    "metadata.name in object of kind '%.64s'", name, kind);
	}
	return rl_add(l, b, name, e);
}

/*
 * Parses YAML (or JSON) text into objects appended to l: a sops document
 * is decrypted first (decrypt: a file, where sops documents may be),
 * empty documents are skipped and Lists inlined.  name: for messages.
 */
sotto_err
rc_load_bytes(struct rlist *l, struct rctx *c, const uint8_t *p, size_t n,
    const char *name, bool decrypt, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	const struct sotto_store *st = sotto_store_for_path(name);
	struct sotto_doc *doc = NULL;
	sotto_err err;
	size_t i, n0 = l->n;

	/* a .json file as sops writes JSON (its MAC is over that typing);
	 * anything else is YAML, JSON included, as kustomize reads it */
	if (!decrypt || st != &sotto_store_json)
		st = &sotto_store_yaml;
	if ((err = st->parse(&doc, p, n, name, &lim, e)) != SOTTO_OK)
		return err;
	doc->secret = true;
	if ((err = rc_charge(c, doc->alias_bytes, 0, name, e)) != SOTTO_OK)
		goto out;
	if (decrypt && !c->o->keep_sops && has_meta(doc) &&
	    !(doc->n > 0 && rc_disabled(doc->branches[0]))) {
		if ((err = sops_size(name, n, e)) != SOTTO_OK)
			goto out;
		if (!sotto_sops_is_encrypted(doc)) {
			err = sotto_error_set(e, SOTTO_E_MAC_NOT_FOUND, "'%s': "
			    "sops metadata without a MAC", name);
			goto out;
		}
		if ((err = rc_decrypt_doc(doc, c, name, e)) != SOTTO_OK)
			goto out;
	}
	for (i = 0; i < doc->n; i++) {
		struct sotto_node *b = doc->branches[i];

		/* kept encrypted: what identifies the object must be plain */
		if (decrypt && c->o->keep_sops && b != NULL &&
		    (rn_contains_marker(rn_get(b, "apiVersion")) ||
		    rn_contains_marker(rn_get(b, "kind")) ||
		    rn_contains_marker(rn_get(b, "metadata")))) {
			err = sotto_error_set(e, SOTTO_E_NO_KEY, "'%s': its "
			    "apiVersion, kind or metadata is encrypted: a key "
			    "is needed to build it (or encrypt only data and "
			    "stringData: encrypted_regex '^(data|stringData)$')",
			    name);
			goto out;
		}
		doc->branches[i] = NULL;
		if (b == NULL)
			continue;
		if ((err = add_branch(l, b, name, 0, e)) != SOTTO_OK)
			goto out;
	}
	/* branches are NULL now; doc->n stays so the sops metadata of
	 * every document is freed with the doc */
	err = rc_charge(c, 0, l->n - n0, name, e);
out:
	sotto_tree_doc_free(doc);
	return err;
}

/* Reads a resource file, decrypts it if it is a sops document, and
 * appends its objects to l. */
sotto_err
rc_load_file(struct rlist *l, struct rctx *c, const char *abs,
    struct sotto_error *e)
{
	struct sotto_buf in = SOTTO_BUF_INIT;
	sotto_err err;

	if ((err = rc_read(&in, c, abs, e)) == SOTTO_OK)
		err = rc_load_bytes(l, c, in.data, in.len, rc_rel(c, abs),
		    true, e);
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
	if (c->o->keep_sops || !contains(p, n, marker_for(st)))
		return sotto_buf_add(out, p, n);
	if ((err = sops_size(name, n, e)) != SOTTO_OK ||
	    (err = st->parse(&doc, p, n, name, &lim, e)) != SOTTO_OK)
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
sotto_err
rc_plain_dir(struct racc *ra, struct rctx *c, const char *dir, int depth,
    struct sotto_error *e)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, *abs = NULL;
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
			err = rb_has_kustomization(abs) ?
			    rb_resource(ra, c, dir, names[i], rc_rel(c, dir),
			    e) : rc_plain_dir(ra, c, abs, depth + 1, e);
		} else if (manifest_name(names[i])) {
			struct rlist l = { NULL, 0, 0 };

			if ((err = rc_load_file(&l, c, abs, e)) == SOTTO_OK)
				err = ra_append(ra, c, &l, rc_rel(c, dir), e);
			rl_free(&l);
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

char *
rc_find_root(const char *dir)
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

	if (c->o->keep_sops || strcmp(rn_str(obj, "kind") ? rn_str(obj,
	    "kind") : "", "Secret") != 0 || data == NULL || data->kind !=
	    SOTTO_NODE_MAP)
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
