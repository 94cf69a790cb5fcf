/* SPDX-License-Identifier: ISC */
/*
 * dotenv store (sops-format.md §5.3): KEY=VALUE lines split on the first
 * '=', no trimming or quoting, "\n" in a value is a newline, '#' lines are
 * comments, empty lines are kept in the source but are not nodes.  The
 * sops_* lines are the flattened metadata (§4.4).  Every value is a
 * string.  store_priv keeps the spans of the sops_* lines for removal.
 */
#include "sotto/store.h"

#include <stdlib.h>
#include <string.h>

#include "formats/storeutil.h"

struct dpriv {
	size_t *span;	/* start/end pairs of sops_* lines (incl. '\n') */
	size_t n, cap;	/* pairs used, allocated */
};

static void
dpriv_free(void *p)
{
	struct dpriv *d = p;

	if (d == NULL)
		return;
	free(d->span);
	free(d);
}

static sotto_err
nomem(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

static sotto_err
add_span(struct dpriv *p, size_t a, size_t z)
{
	size_t *ns, ncap;

	if (p->n == p->cap) {
		ncap = p->cap ? p->cap * 2 : 16;
		ns = realloc(p->span, ncap * 2 * sizeof(*ns));
		if (ns == NULL)
			return SOTTO_E_NOMEM;
		p->span = ns;
		p->cap = ncap;
	}
	p->span[2 * p->n] = a;
	p->span[2 * p->n + 1] = z;
	p->n++;
	return SOTTO_OK;
}

/* Value bytes with the two-character "\n" turned into a newline. */
static sotto_err
unescape(struct sotto_buf *o, const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == 'n') {
			if (sotto_buf_addch(o, '\n') != SOTTO_OK)
				return SOTTO_E_NOMEM;
			i++;
		} else if (sotto_buf_addch(o, s[i]) != SOTTO_OK)
			return SOTTO_E_NOMEM;
	}
	return SOTTO_OK;
}

/* Newlines written as the two characters "\n". */
static sotto_err
escape(struct sotto_buf *o, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n' ? sotto_buf_addstr(o, "\\n") != SOTTO_OK :
		    sotto_buf_addch(o, s[i]) != SOTTO_OK)
			return SOTTO_E_NOMEM;
	}
	return SOTTO_OK;
}

struct dparse {
	struct sotto_doc *d;
	struct dpriv *priv;
	struct sotto_node *map, *meta;
	struct sotto_limits lim;
	size_t nodes;
};

static sotto_err
parse_line(struct dparse *p, size_t ls, size_t le, size_t next, size_t ln,
    struct sotto_error *e)
{
	const uint8_t *s = p->d->src.data;
	const char *name = sotto_storeutil_name(p->d->name);
	struct sotto_buf v = SOTTO_BUF_SECRET_INIT;
	struct sotto_node *n;
	const uint8_t *eq;
	sotto_err rc;

	if (++p->nodes > p->lim.max_nodes)
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "'%s' line %zu: more than %zu nodes", name, ln,
		    p->lim.max_nodes);
	if (s[ls] == '#') {
		n = sotto_tree_new_comment((const char *)s + ls + 1,
		    le - ls - 1);
		if (n == NULL)
			return nomem(e);
		n->src_start = ls + 1;
		n->src_end = le;
		n->line = ln;
		if (sotto_tree_map_add(p->map, NULL, 0, n) != SOTTO_OK) {
			sotto_tree_node_free(n, true);
			return nomem(e);
		}
		return SOTTO_OK;
	}
	eq = memchr(s + ls, '=', le - ls);
	if (eq == NULL)
		return sotto_error_set(e, SOTTO_E_DOTENV,
		    "'%s' line %zu: invalid dotenv input line", name, ln);
	if (unescape(&v, eq + 1, (size_t)(s + le - eq - 1)) != SOTTO_OK) {
		sotto_buf_release(&v);
		return nomem(e);
	}
	if ((size_t)(eq - s) - ls >= 5 && memcmp(s + ls, "sops_", 5) == 0) {
		rc = sotto_storeutil_unflatten_add(&p->meta,
		    (const char *)s + ls + 5, (size_t)(eq - s) - ls - 5,
		    v.len ? (const char *)v.data : "", v.len, false,
		    p->d->name, ln, e);
		if (rc == SOTTO_OK && add_span(p->priv, ls, next) != SOTTO_OK)
			rc = nomem(e);
		sotto_buf_release(&v);
		return rc;
	}
	n = sotto_tree_new_scalar(SOTTO_T_STR, v.len ? (char *)v.data : "",
	    v.len);
	sotto_buf_release(&v);
	if (n == NULL)
		return nomem(e);
	n->src_start = (size_t)(eq - s) + 1;
	n->src_end = le;
	n->line = ln;
	if (sotto_tree_map_add(p->map, (const char *)s + ls,
	    (size_t)(eq - s) - ls, n) != SOTTO_OK) {
		sotto_tree_node_free(n, true);
		return nomem(e);
	}
	return SOTTO_OK;
}

/* take: NULL to copy src, else the buffer holding it, moved into the doc */
static sotto_err
dotenv_parse_src(struct sotto_doc **out, const uint8_t *src, size_t len,
    struct sotto_buf *take, const char *name, const struct sotto_limits *lim,
    struct sotto_error *e)
{
	struct dparse p;
	const uint8_t *nl;
	size_t ls, le, ln = 1;
	sotto_err rc = SOTTO_OK;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.lim = sotto_storeutil_limits(lim);
	if (len > p.lim.max_bytes)
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "'%s': input is %zu bytes, over the limit of %zu",
		    sotto_storeutil_name(name), len, p.lim.max_bytes);
	p.d = sotto_tree_doc_new(name);
	p.map = sotto_tree_new_map();
	p.priv = calloc(1, sizeof(*p.priv));
	if (p.d == NULL || p.map == NULL || p.priv == NULL ||
	    sotto_storeutil_set_src(&p.d->src, src, len, take) != SOTTO_OK) {
		rc = nomem(e);
		goto out;
	}
	p.d->store = &sotto_store_dotenv;
	p.d->store_priv = p.priv;
	for (ls = 0; ls < len && rc == SOTTO_OK; ls = le + 1, ln++) {
		nl = memchr(p.d->src.data + ls, '\n', len - ls);
		le = nl != NULL ? (size_t)(nl - p.d->src.data) : len;
		if (le > ls)
			rc = parse_line(&p, ls, le, le < len ? le + 1 : len, ln,
			    e);
	}
	if (rc == SOTTO_OK)
		rc = sotto_storeutil_unflatten_done(p.meta, name, e);
	if (rc != SOTTO_OK)
		goto out;
	p.map->src_start = 0;
	p.map->src_end = len;
	p.map->flags = (unsigned)(p.map->n + 1);
	if (sotto_tree_doc_add(p.d, p.map) != SOTTO_OK) {
		rc = nomem(e);
		goto out;
	}
	p.map = NULL;
	p.d->meta[0] = p.meta;
	if (p.meta != NULL) {
		p.d->meta_start[0] = p.priv->span[0];
		p.d->meta_end[0] = p.priv->span[2 * p.priv->n - 1];
	}
	p.meta = NULL;
	*out = p.d;
	p.d = NULL;
out:
	if (p.d != NULL && p.d->store_priv == NULL)
		dpriv_free(p.priv);
	sotto_tree_node_free(p.map, true);
	sotto_tree_node_free(p.meta, false);
	sotto_tree_doc_free(p.d);
	return rc;
}

static sotto_err
dotenv_parse(struct sotto_doc **out, const uint8_t *src, size_t len,
    const char *name, const struct sotto_limits *lim, struct sotto_error *e)
{
	return dotenv_parse_src(out, src, len, NULL, name, lim, e);
}

static sotto_err
dotenv_parse_buf(struct sotto_doc **out, struct sotto_buf *in, const char *name,
    const struct sotto_limits *lim, struct sotto_error *e)
{
	return dotenv_parse_src(out, in->data != NULL ? in->data :
	    (const uint8_t *)"", in->len, in, name, lim, e);
}

/* sops ValToString for a scalar, newlines written as "\n". */
static sotto_err
valstr(struct sotto_buf *o, const struct sotto_node *n)
{
	struct sotto_buf t = SOTTO_BUF_SECRET_INIT;
	sotto_err rc;

	if (n->type == SOTTO_T_STR || n->kind == SOTTO_NODE_COMMENT)
		return escape(o, n->text, n->len);
	rc = sotto_store_val_to_string(&t, n);
	if (rc == SOTTO_OK)
		rc = escape(o, (const char *)t.data, t.len);
	sotto_buf_release(&t);
	return rc;
}

static sotto_err
emit_meta(struct sotto_buf *out, const struct sotto_node *meta,
    struct sotto_error *e)
{
	struct sotto_flat *f = NULL;
	size_t n = 0, i;
	sotto_err rc;

	rc = sotto_storeutil_flatten(&f, &n, meta, true, e);
	for (i = 0; rc == SOTTO_OK && i < n; i++) {
		if (sotto_buf_addstr(out, "sops_") != SOTTO_OK ||
		    sotto_buf_addstr(out, f[i].key) != SOTTO_OK ||
		    sotto_buf_addch(out, '=') != SOTTO_OK ||
		    escape(out, f[i].val, f[i].vlen) != SOTTO_OK ||
		    sotto_buf_addch(out, '\n') != SOTTO_OK)
			rc = nomem(e);
	}
	sotto_storeutil_flat_free(f, n);
	return rc;
}

static sotto_err
emit_branch(struct sotto_buf *out, const struct sotto_node *b,
    struct sotto_error *e)
{
	size_t i;

	if (b->kind != SOTTO_NODE_MAP)
		return sotto_error_set(e, SOTTO_E_EMIT,
		    "dotenv: the top level must be a mapping");
	for (i = 0; i < b->n; i++) {
		const struct sotto_entry *it = &b->items[i];
		const struct sotto_node *v = it->val;

		if (v->kind == SOTTO_NODE_COMMENT || it->key == NULL) {
			if (v->kind != SOTTO_NODE_COMMENT)
				continue;
			if (sotto_buf_addch(out, '#') != SOTTO_OK ||
			    escape(out, v->text, v->len) != SOTTO_OK ||
			    sotto_buf_addch(out, '\n') != SOTTO_OK)
				return nomem(e);
			continue;
		}
		if (v->kind != SOTTO_NODE_SCALAR)
			return sotto_error_set(e, SOTTO_E_EMIT,
			    "cannot use complex value '%.*s' in a dotenv file",
			    (int)(it->keylen > 200 ? 200 : it->keylen),
			    it->key);
		if (sotto_buf_add(out, it->key, it->keylen) != SOTTO_OK ||
		    sotto_buf_addch(out, '=') != SOTTO_OK ||
		    valstr(out, v) != SOTTO_OK ||
		    sotto_buf_addch(out, '\n') != SOTTO_OK)
			return nomem(e);
	}
	return SOTTO_OK;
}

static sotto_err
dotenv_emit(struct sotto_buf *out, const struct sotto_doc *doc,
    const struct sotto_node *meta, const struct sotto_emit_opts *o,
    struct sotto_error *e)
{
	sotto_err rc;

	(void)o;
	if (doc != NULL && doc->n > 0 &&
	    (rc = emit_branch(out, doc->branches[0], e)) != SOTTO_OK)
		return rc;
	return emit_meta(out, meta, e);
}

static bool
intact(const struct sotto_node *b)
{
	size_t i;

	if (b->kind != SOTTO_NODE_MAP || b->flags != b->n + 1)
		return false;
	for (i = 0; i < b->n; i++)
		if (b->items[i].val->src_start == SOTTO_SPAN_NONE ||
		    b->items[i].val->kind == SOTTO_NODE_MAP ||
		    b->items[i].val->kind == SOTTO_NODE_SEQ)
			return false;
	return true;
}

/*
 * Adds the sops_* lines to the file in out[mark, ...): at the end, as
 * sops does, when the file ends in a newline (or is empty); before its
 * last line when it does not, so that it still does not and decrypt, which
 * removes just those lines, gives the file back byte for byte.
 */
static sotto_err
add_meta(struct sotto_buf *out, size_t mark, const struct sotto_node *meta,
    struct sotto_error *e)
{
	struct sotto_buf tail = SOTTO_BUF_SECRET_INIT;
	size_t at;
	sotto_err rc;

	if (out->len == mark || out->data[out->len - 1] == '\n')
		return emit_meta(out, meta, e);
	for (at = out->len; at > mark && out->data[at - 1] != '\n'; at--)
		;
	if (sotto_buf_add(&tail, out->data + at, out->len - at) != SOTTO_OK)
		return nomem(e);
	sotto_buf_truncate(out, at);
	rc = emit_meta(out, meta, e);
	if (rc == SOTTO_OK && sotto_buf_add(out, tail.data, tail.len) !=
	    SOTTO_OK)
		rc = nomem(e);
	sotto_buf_release(&tail);
	return rc;
}

static sotto_err
dotenv_splice(struct sotto_buf *out, const struct sotto_doc *d,
    const struct sotto_node *meta, struct sotto_error *e)
{
	struct sotto_edits ed = { NULL, 0, 0 };
	struct sotto_buf t = SOTTO_BUF_SECRET_INIT;
	const struct dpriv *p;
	const struct sotto_node *b;
	bool keep;
	size_t i, mark;
	sotto_err rc = SOTTO_OK;

	if (d == NULL || d->n != 1 || d->store_priv == NULL)
		return sotto_error_set(e, SOTTO_E_INTERNAL,
		    "dotenv splice needs a document parsed as dotenv");
	b = d->branches[0];
	if (!intact(b))
		return dotenv_emit(out, d, meta, NULL, e);
	p = d->store_priv;
	for (i = 0; i < b->n && rc == SOTTO_OK; i++) {
		const struct sotto_node *v = b->items[i].val;

		if (!v->dirty)
			continue;
		sotto_buf_truncate(&t, 0);
		if (v->kind == SOTTO_NODE_COMMENT)
			rc = escape(&t, v->text, v->len);
		else
			rc = valstr(&t, v);
		if (rc == SOTTO_OK)
			rc = sotto_storeutil_edit(&ed, v->src_start, v->src_end,
			    t.data, t.len);
		if (rc != SOTTO_OK)
			rc = nomem(e);
	}
	keep = sotto_storeutil_equal(d->meta[0], meta);
	for (i = 0; !keep && i < p->n && rc == SOTTO_OK; i++)
		if (sotto_storeutil_edit(&ed, p->span[2 * i],
		    p->span[2 * i + 1], "", 0) != SOTTO_OK)
			rc = nomem(e);
	mark = out->len;
	if (rc == SOTTO_OK)
		rc = sotto_storeutil_apply(out, d->src.data, d->src.len, &ed,
		    e);
	if (rc == SOTTO_OK && !keep && meta != NULL)
		rc = add_meta(out, mark, meta, e);
	sotto_buf_release(&t);
	sotto_storeutil_edits_free(&ed);
	return rc;
}

static sotto_err
dotenv_emit_value(struct sotto_buf *out, const struct sotto_node *n,
    const struct sotto_emit_opts *o, struct sotto_error *e)
{
	(void)o;
	if (n == NULL)
		return sotto_error_set(e, SOTTO_E_INTERNAL, "no value");
	if (n->kind == SOTTO_NODE_MAP)
		return emit_branch(out, n, e);
	if (n->kind == SOTTO_NODE_SEQ)
		return sotto_error_set(e, SOTTO_E_EMIT,
		    "the dotenv store cannot write a list");
	if (n->type == SOTTO_T_STR || n->kind == SOTTO_NODE_COMMENT)
		return sotto_buf_add(out, n->text, n->len) == SOTTO_OK ?
		    SOTTO_OK : nomem(e);
	return valstr(out, n) == SOTTO_OK ? SOTTO_OK : nomem(e);
}

const struct sotto_store sotto_store_dotenv = {
	"dotenv",
	dotenv_parse,
	dotenv_splice,
	dotenv_emit,
	dotenv_emit_value,
	dpriv_free,
	dotenv_parse_buf,
};
