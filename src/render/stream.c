/* SPDX-License-Identifier: ISC */
/*
 * The stream-shaped hooks: Helm's post-renderer (YAML stream in, same
 * stream out with sops documents decrypted, order, comments and spacing
 * kept), the KRM function (ResourceList in and out) and the legacy exec
 * generator of kustomize.  They share the loader and checks of render.c.
 */
#include "render/rint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/io.h"
#include "sotto/sops.h"
#include "sotto/store.h"

static bool
is_sep(const uint8_t *p, size_t n)
{
	return n >= 3 && memcmp(p, "---", 3) == 0 && (n == 3 || p[3] == ' ' ||
	    p[3] == '\n' || p[3] == '\r' || p[3] == '\t');
}

/* Decrypts one document's text (YAML) into out. */
static sotto_err
stream_doc(struct sotto_buf *out, struct rctx *c, const uint8_t *p, size_t n,
    size_t idx, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_doc *doc = NULL;
	char name[64];
	sotto_err err;
	size_t i;

	snprintf(name, sizeof(name), "document %zu", idx);
	if ((err = sotto_store_yaml.parse(&doc, p, n, name, &lim, e)) !=
	    SOTTO_OK)
		return err;
	doc->secret = true;
	if (doc->n > 0 && doc->meta[0] != NULL &&
	    !rc_disabled(doc->branches[0])) {
		if (!sotto_sops_is_encrypted(doc)) {
			err = sotto_error_set(e, SOTTO_E_MAC_NOT_FOUND, "%s: "
			    "sops metadata without a MAC", name);
			goto out;
		}
		if ((err = rc_decrypt_doc(doc, c, name, e)) != SOTTO_OK)
			goto out;
	}
	for (i = 0; i < doc->n && err == SOTTO_OK; i++)
		if (!rc_disabled(doc->branches[i]))
			err = rc_secret_value(doc->branches[i], c, name, e);
	for (i = 0; i < doc->n && err == SOTTO_OK; i++)
		if (!rc_disabled(doc->branches[i]) &&
		    rn_contains_marker(doc->branches[i]))
			err = sotto_error_set(e, SOTTO_E_UNSUPPORTED, "%s is "
			    "SOPS encrypted, configuring decryption is "
			    "required", name);
	/* the splice gives a document with nothing to decrypt back as it
	 * came in, flow style ({...}, JSON) too */
	if (err == SOTTO_OK)
		err = doc->n == 0 ? sotto_buf_add(out, p, n) :
		    sotto_store_yaml.emit_splice(out, doc, NULL, e);
out:
	sotto_tree_doc_free(doc);
	return err;
}

sotto_err
sotto_render_stream(struct sotto_buf *out, const uint8_t *in, size_t len,
    const struct sotto_render_opts *o, struct sotto_error *e)
{
	struct rctx c;
	size_t pos = 0, start = 0, idx = 0, eol;
	sotto_err err = SOTTO_OK;

	memset(&c, 0, sizeof(c));
	c.o = o;
	while (err == SOTTO_OK) {
		bool last = pos >= len;

		if (!last && !is_sep(in + pos, len - pos)) {
			const uint8_t *nl = memchr(in + pos, '\n', len - pos);

			pos = nl ? (size_t)(nl - in) + 1 : len;
			continue;
		}
		if (pos > start)
			err = stream_doc(out, &c, in + start, pos - start,
			    idx++, e);
		if (last || err != SOTTO_OK)
			break;
		eol = pos;
		while (eol < len && in[eol] != '\n')
			eol++;
		eol += eol < len;
		err = sotto_buf_add(out, in + pos, eol - pos);
		start = pos = eol;
	}
	if (err != SOTTO_OK)
		sotto_buf_release(out);
	return err;
}

/* ---- KRM ---- */

static bool
kpt_annotation(const char *k)
{
	return strncmp(k, "config.kubernetes.io/", 21) == 0 ||
	    strncmp(k, "internal.config.kubernetes.io/", 30) == 0 ||
	    strncmp(k, "config.k8s.io/", 14) == 0;
}

/* Moves kpt's bookkeeping annotations out of item into *saved. */
static sotto_err
take_annotations(struct sotto_node **saved, struct sotto_node *item)
{
	struct sotto_node *a = rn_path(item, "metadata/annotations");
	size_t i;

	*saved = NULL;
	if (a == NULL || a->kind != SOTTO_NODE_MAP)
		return SOTTO_OK;
	if ((*saved = sotto_tree_new_map()) == NULL)
		return SOTTO_E_NOMEM;
	for (i = 0; i < a->n; ) {
		if (a->items[i].key == NULL || !kpt_annotation(a->items[i].key)) {
			i++;
			continue;
		}
		if (sotto_tree_map_add(*saved, a->items[i].key,
		    a->items[i].keylen, a->items[i].val) != SOTTO_OK)
			return SOTTO_E_NOMEM;
		free(a->items[i].key);
		memmove(&a->items[i], &a->items[i + 1],
		    (a->n - i - 1) * sizeof(a->items[0]));
		a->n--;
	}
	if (a->n == 0)
		rn_del(rn_get(item, "metadata"), "annotations");
	return SOTTO_OK;
}

static sotto_err
restore_annotations(struct sotto_node *item, struct sotto_node *saved)
{
	struct sotto_node *a;
	size_t i;

	if (saved == NULL || saved->n == 0)
		return SOTTO_OK;
	if ((a = rn_ensure_path(item, "metadata/annotations")) == NULL)
		return SOTTO_E_NOMEM;
	for (i = 0; i < saved->n; i++) {
		if (rn_set(a, saved->items[i].key, saved->items[i].val) !=
		    SOTTO_OK)
			return SOTTO_E_NOMEM;
		saved->items[i].val = NULL;
	}
	return SOTTO_OK;
}

/* Decrypts one ResourceList item that is a sops document: emitted on its
 * own, parsed back (so its sops block is metadata again) and decrypted. */
static sotto_err
krm_item(struct sotto_node **itemp, struct rctx *c, size_t idx,
    struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_buf y = SOTTO_BUF_SECRET_INIT;
	struct sotto_emit_opts eo = { 2 };
	struct sotto_doc *one = NULL, *doc = NULL;
	struct sotto_node *saved = NULL, *item = *itemp;
	char name[64];
	sotto_err err;

	snprintf(name, sizeof(name), "item %zu", idx);
	if (rn_get(rn_get(item, "sops"), "mac") == NULL || rc_disabled(item))
		return rc_secret_value(item, c, name, e);
	if (take_annotations(&saved, item) != SOTTO_OK ||
	    (one = sotto_tree_doc_new(name)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	one->secret = true;
	if ((err = sotto_tree_doc_add(one, item)) != SOTTO_OK) {
		err = sotto_error_set(e, err, "out of memory");
		goto out;
	}
	*itemp = NULL;
	if ((err = sotto_store_yaml.emit(&y, one, NULL, &eo, e)) != SOTTO_OK ||
	    (err = sotto_store_yaml.parse(&doc, y.data, y.len, name, &lim,
	    e)) != SOTTO_OK)
		goto out;
	doc->secret = true;
	if ((err = rc_decrypt_doc(doc, c, name, e)) != SOTTO_OK)
		goto out;
	*itemp = doc->branches[0];
	doc->branches[0] = NULL;
	rn_strip_comments(*itemp);
	if (restore_annotations(*itemp, saved) != SOTTO_OK)
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	else
		err = rc_secret_value(*itemp, c, name, e);
out:
	if (*itemp == NULL && one != NULL && one->n > 0) {
		/* put the (still encrypted) item back so the list stays whole */
		*itemp = one->branches[0];
		one->branches[0] = NULL;	/* the doc frees its meta */
	}
	sotto_tree_doc_free(one);
	sotto_tree_doc_free(doc);
	sotto_tree_node_free(saved, true);
	sotto_buf_release(&y);
	return err;
}

static sotto_err
krm_generate(struct sotto_node *items, struct rctx *c, const char *cwd,
    const struct sotto_node *fc, struct sotto_error *e)
{
	struct rlist l = { NULL, 0, 0 };
	sotto_err err;
	size_t i;

	err = rg_sotto_generator(&l, c, cwd, fc, "functionConfig", e);
	for (i = 0; err == SOTTO_OK && i < l.n; i++) {
		if (sotto_tree_seq_add(items, l.v[i].n) != SOTTO_OK)
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		else
			l.v[i].n = NULL;
	}
	rl_free(&l);
	return err;
}

sotto_err
sotto_render_krm(struct sotto_buf *out, const uint8_t *in, size_t len,
    const char *cwd, const struct sotto_render_opts *o,
    struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_emit_opts eo = { 2 };
	struct sotto_doc *doc = NULL;
	struct sotto_node *rl, *items, *fc;
	struct rctx c;
	char *abs = NULL;
	const char *kind;
	sotto_err err;
	size_t i;

	if ((err = rc_init(&c, cwd, &abs, o, e)) != SOTTO_OK)
		goto out;
	if ((err = sotto_store_yaml.parse(&doc, in, len, "ResourceList", &lim,
	    e)) != SOTTO_OK)
		goto out;
	doc->secret = true;
	rl = doc->n > 0 ? doc->branches[0] : NULL;
	kind = rn_str(rl, "kind");
	if (kind == NULL || strcmp(kind, "ResourceList") != 0) {
		err = sotto_error_set(e, SOTTO_E_PARSE, "input is not a "
		    "ResourceList");
		goto out;
	}
	rn_strip_comments(rl);
	if ((items = rn_get(rl, "items")) == NULL ||
	    items->kind != SOTTO_NODE_SEQ) {
		if (rn_set(rl, "items", sotto_tree_new_seq()) != SOTTO_OK) {
			err = sotto_error_set(e, SOTTO_E_NOMEM, "oom");
			goto out;
		}
		items = rn_get(rl, "items");
	}
	for (i = 0; i < items->n; i++)
		if ((err = krm_item(&items->items[i].val, &c, i, e)) !=
		    SOTTO_OK)
			goto out;
	fc = rn_get(rl, "functionConfig");
	kind = rn_str(fc, "kind");
	if (kind != NULL && strcmp(kind, "SottoSecretGenerator") == 0 &&
	    (err = krm_generate(items, &c, abs, fc, e)) != SOTTO_OK)
		goto out;
	for (i = 0; i < items->n; i++)
		if (!rc_disabled(items->items[i].val) &&
		    (rn_get(items->items[i].val, "sops") != NULL ||
		    rn_contains_marker(items->items[i].val))) {
			err = sotto_error_set(e, SOTTO_E_UNSUPPORTED, "item %zu "
			    "is SOPS encrypted, configuring decryption is "
			    "required", i);
			goto out;
		}
	{
		/* emit the ResourceList from scratch, in its own order */
		struct sotto_doc *od = sotto_tree_doc_new("ResourceList");

		if (od == NULL || sotto_tree_doc_add(od, rl) != SOTTO_OK) {
			sotto_tree_doc_free(od);
			err = sotto_error_set(e, SOTTO_E_NOMEM, "oom");
			goto out;
		}
		doc->branches[0] = NULL;
		od->secret = true;
		err = sotto_store_yaml.emit(out, od, NULL, &eo, e);
		sotto_tree_doc_free(od);
	}
out:
	if (err != SOTTO_OK)
		sotto_buf_release(out);
	sotto_tree_doc_free(doc);
	rc_fini(&c);
	free(abs);
	return err;
}

/* ---- legacy exec generator ---- */

sotto_err
sotto_render_generate(struct sotto_buf *out, const char *config_path,
    const char *cwd, const struct sotto_render_opts *o,
    struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_buf in = SOTTO_BUF_INIT;
	struct sotto_doc *doc = NULL;
	struct rlist l = { NULL, 0, 0 };
	struct rctx c;
	char *abs = NULL;
	sotto_err err;
	size_t i;

	if ((err = rc_init(&c, cwd, &abs, o, e)) != SOTTO_OK)
		goto out;
	if ((err = sotto_io_read_file(&in, config_path,
	    SOTTO_RENDER_MAX_SOPS_FILE, e)) != SOTTO_OK ||
	    (err = sotto_store_yaml.parse(&doc, in.data, in.len,
	    "generator config", &lim, e)) != SOTTO_OK)
		goto out;
	for (i = 0; i < doc->n && err == SOTTO_OK; i++)
		err = rg_sotto_generator(&l, &c, abs, doc->branches[i],
		    "generator config", e);
	if (err == SOTTO_OK)
		err = rc_secret_values(&l, &c, e);
	if (err == SOTTO_OK)
		err = ro_check(&l, o->keep_sops, e);
	if (err == SOTTO_OK)
		err = ro_emit(out, &l, o->redact, e);
out:
	if (err != SOTTO_OK)
		sotto_buf_release(out);
	rl_free(&l);
	sotto_tree_doc_free(doc);
	sotto_buf_release(&in);
	rc_fini(&c);
	free(abs);
	return err;
}
