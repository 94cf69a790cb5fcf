/* SPDX-License-Identifier: ISC */
/*
 * Helpers shared by the JSON, dotenv, INI and binary stores: splice edit
 * lists, Go float formatting, metadata (un)flattening and comparison.
 * The stores themselves own parsing and layout.
 */
#include "formats/storeutil.h"

#include "sotto/gofmt.h"
#include "sotto/store.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST_INDEX 100000

const char *
sotto_storeutil_name(const char *name)
{
	return name != NULL ? name : "<input>";
}

sotto_err
sotto_storeutil_set_src(struct sotto_buf *dst, const uint8_t *src,
    size_t len, struct sotto_buf *take)
{
	if (take == NULL || take->data == NULL || take->len != len)
		return sotto_buf_add(dst, len > 0 ? src : (const uint8_t *)"",
		    len);
	*dst = *take;
	*take = (struct sotto_buf)SOTTO_BUF_INIT;
	return SOTTO_OK;
}

struct sotto_limits
sotto_storeutil_limits(const struct sotto_limits *lim)
{
	struct sotto_limits d = SOTTO_LIMITS_DEFAULT;

	return lim != NULL ? *lim : d;
}

/* ---- edits ---- */

sotto_err
sotto_storeutil_edit(struct sotto_edits *ed, size_t start, size_t end,
    const void *p, size_t len)
{
	struct sotto_edit *nv;
	size_t ncap;
	char *t;

	if (ed->n == ed->cap) {
		ncap = ed->cap ? ed->cap * 2 : 16;
		if (ncap > SIZE_MAX / sizeof(*nv))
			return SOTTO_E_NOMEM;
		nv = realloc(ed->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return SOTTO_E_NOMEM;
		ed->v = nv;
		ed->cap = ncap;
	}
	t = malloc(len + 1);
	if (t == NULL)
		return SOTTO_E_NOMEM;
	if (len > 0)
		memcpy(t, p, len);
	t[len] = '\0';
	ed->v[ed->n].start = start;
	ed->v[ed->n].end = end;
	ed->v[ed->n].seq = ed->n;
	ed->v[ed->n].text = t;
	ed->v[ed->n].len = len;
	ed->n++;
	return SOTTO_OK;
}

static int
edit_cmp(const void *a, const void *b)
{
	const struct sotto_edit *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	/* insertions before replacements at the same point */
	if ((x->start == x->end) != (y->start == y->end))
		return x->start == x->end ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

sotto_err
sotto_storeutil_apply(struct sotto_buf *out, const uint8_t *src, size_t len,
    struct sotto_edits *ed, struct sotto_error *e)
{
	size_t i, cur = 0;

	if (ed->n > 1)
		qsort(ed->v, ed->n, sizeof(*ed->v), edit_cmp);
	for (i = 0; i < ed->n; i++) {
		const struct sotto_edit *x = &ed->v[i];

		if (x->start < cur || x->end < x->start || x->end > len)
			return sotto_error_set(e, SOTTO_E_INTERNAL,
			    "overlapping splice edits");
		if (sotto_buf_add(out, src + cur, x->start - cur) != SOTTO_OK ||
		    sotto_buf_add(out, x->text, x->len) != SOTTO_OK)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		cur = x->end;
	}
	if (sotto_buf_add(out, src + cur, len - cur) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

void
sotto_storeutil_edits_free(struct sotto_edits *ed)
{
	size_t i;

	for (i = 0; i < ed->n; i++) {
		sodium_memzero(ed->v[i].text, ed->v[i].len);
		free(ed->v[i].text);
	}
	free(ed->v);
	ed->v = NULL;
	ed->n = ed->cap = 0;
}

/* ---- floats (Go formatting lives in sotto/gofmt.h) ---- */

sotto_err
sotto_storeutil_float(struct sotto_buf *out, double v, int fmt)
{
	char b[SOTTO_GOFMT_FLOAT_MAX];
	int n, i;

	switch (fmt) {
	case 'f':
		n = sotto_gofmt_float_f(b, sizeof(b), v);
		break;
	case 'j':
		n = sotto_gofmt_float_json(b, sizeof(b), v);
		if (n < 0)
			return SOTTO_E_EMIT;
		break;
	case 'g':
	case 'G':
		n = sotto_gofmt_float_g(b, sizeof(b), v);
		for (i = 0; fmt == 'G' && i < n; i++)
			if (b[i] == 'e')
				b[i] = 'E';
		break;
	default:
		return SOTTO_E_INTERNAL;
	}
	if (n < 0)
		return SOTTO_E_INTERNAL;
	return sotto_buf_add(out, b, (size_t)n);
}

sotto_err
sotto_storeutil_float_valstr(struct sotto_buf *out, double v)
{
	size_t mark = out->len;

	if (sotto_storeutil_float(out, v, 'G') != SOTTO_OK)
		return SOTTO_E_NOMEM;
	/* "If the result can be confused with an integer" (no '.', no 'E') */
	if (isfinite(v) && memchr(out->data + mark, '.', out->len - mark) ==
	    NULL && memchr(out->data + mark, 'E', out->len - mark) == NULL) {
		sotto_buf_truncate(out, mark);
		return sotto_buf_addf(out, "%.1f", v);
	}
	return SOTTO_OK;
}

bool
sotto_storeutil_node_float(const struct sotto_node *n, double *v)
{
	return sotto_gofmt_parse_float(n->text, n->len, v) ||
	    (n->canon != NULL && sotto_gofmt_parse_float(n->canon,
	    strlen(n->canon), v));
}

bool
sotto_storeutil_node_int(const struct sotto_node *n, int64_t *v)
{
	return sotto_gofmt_parse_int(n->text, n->len, v) ||
	    (n->canon != NULL && sotto_gofmt_parse_int(n->canon,
	    strlen(n->canon), v));
}

bool
sotto_storeutil_node_bool(const struct sotto_node *n, bool *v)
{
	return sotto_gofmt_parse_bool(n->text, n->len, v) ||
	    (n->canon != NULL && sotto_gofmt_parse_bool(n->canon,
	    strlen(n->canon), v));
}

sotto_err
sotto_storeutil_time(struct sotto_buf *out, const struct sotto_node *n,
    bool nano)
{
	char b[64];
	int k;

	k = sotto_gofmt_time_rfc3339(b, sizeof(b), n->text, n->len, nano);
	if (k < 0 && n->canon != NULL)
		k = sotto_gofmt_time_rfc3339(b, sizeof(b), n->canon,
		    strlen(n->canon), nano);
	if (k < 0)
		return sotto_buf_add(out, n->text, n->len);
	return sotto_buf_add(out, b, (size_t)k);
}

sotto_err
sotto_store_val_to_string(struct sotto_buf *out, const struct sotto_node *n)
{
	char b[SOTTO_GOFMT_INT_MAX];
	int64_t iv;
	double fv;
	bool bv;

	if (n == NULL || (n->kind != SOTTO_NODE_SCALAR &&
	    n->kind != SOTTO_NODE_COMMENT))
		return SOTTO_E_EMIT;
	if (n->kind == SOTTO_NODE_COMMENT)
		return sotto_buf_add(out, n->text, n->len);
	switch (n->type) {
	case SOTTO_T_INT:
		if (!sotto_storeutil_node_int(n, &iv))
			break;
		sotto_gofmt_int(b, sizeof(b), iv);
		return sotto_buf_addstr(out, b);
	case SOTTO_T_FLOAT:
		if (!sotto_storeutil_node_float(n, &fv))
			break;
		return sotto_storeutil_float_valstr(out, fv);
	case SOTTO_T_BOOL:
		if (!sotto_storeutil_node_bool(n, &bv))
			break;
		return sotto_buf_addstr(out, bv ? "true" : "false");
	case SOTTO_T_TIME:
		return sotto_storeutil_time(out, n, false);
	case SOTTO_T_NULL:
		return sotto_buf_addstr(out, "<nil>");	/* Go's %v of nil */
	case SOTTO_T_BYTES: {		/* Go's %v of a []byte: [1 2 3] */
		size_t i;

		if (sotto_buf_addch(out, '['))
			return SOTTO_E_NOMEM;
		for (i = 0; i < n->len; i++)
			if (sotto_buf_addf(out, "%s%u", i ? " " : "",
			    (unsigned)(unsigned char)n->text[i]))
				return SOTTO_E_NOMEM;
		return sotto_buf_addch(out, ']');
	}
	default:
		break;
	}
	return sotto_buf_add(out, n->text, n->len);
}

bool
sotto_storeutil_parse_bool(const char *s, size_t len, bool *v)
{
	return sotto_gofmt_parse_bool(s, len, v);
}

/* ---- metadata comparison ---- */

bool
sotto_storeutil_equal(const struct sotto_node *a, const struct sotto_node *b)
{
	size_t i;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->kind != b->kind || a->n != b->n)
		return false;
	if (a->kind == SOTTO_NODE_SCALAR || a->kind == SOTTO_NODE_COMMENT) {
		if (a->type != b->type || a->len != b->len)
			return false;
		return a->len == 0 || memcmp(a->text, b->text, a->len) == 0;
	}
	for (i = 0; i < a->n; i++) {
		const struct sotto_entry *x = &a->items[i], *y = &b->items[i];

		if ((x->key == NULL) != (y->key == NULL))
			return false;
		if (x->key != NULL && (x->keylen != y->keylen ||
		    memcmp(x->key, y->key, x->keylen) != 0))
			return false;
		if (!sotto_storeutil_equal(x->val, y->val))
			return false;
	}
	return true;
}

/* ---- flattening ---- */

struct flatlist {
	struct sotto_flat *v;
	size_t n, cap;
};

static sotto_err
flat_push(struct flatlist *fl, const char *key, size_t klen,
    const struct sotto_node *val)
{
	struct sotto_flat *nv;
	struct sotto_buf b = SOTTO_BUF_INIT;
	size_t ncap;

	if (fl->n == fl->cap) {
		ncap = fl->cap ? fl->cap * 2 : 16;
		nv = realloc(fl->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return SOTTO_E_NOMEM;
		fl->v = nv;
		fl->cap = ncap;
	}
	if (sotto_buf_add(&b, key, klen) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	fl->v[fl->n].key = (char *)sotto_buf_detach(&b, NULL);
	if (val->type == SOTTO_T_BOOL) {
		bool bv = false;

		(void)sotto_storeutil_parse_bool(val->text, val->len, &bv);
		if (sotto_buf_addstr(&b, bv ? "true" : "false") != SOTTO_OK)
			goto nomem;
	} else if (sotto_buf_add(&b, val->text, val->len) != SOTTO_OK)
		goto nomem;
	fl->v[fl->n].vlen = b.len;
	fl->v[fl->n].val = (char *)sotto_buf_detach(&b, NULL);
	fl->n++;
	return SOTTO_OK;
nomem:
	free(fl->v[fl->n].key);
	sotto_buf_release(&b);
	return SOTTO_E_NOMEM;
}

static sotto_err
flat_walk(struct flatlist *fl, struct sotto_buf *path,
    const struct sotto_node *n, size_t depth)
{
	size_t i, mark = path->len;
	sotto_err rc;

	if (depth > 64)
		return SOTTO_E_LIMIT;
	if (n->kind == SOTTO_NODE_SCALAR) {
		if (n->type == SOTTO_T_NULL)
			return SOTTO_OK;
		return flat_push(fl, (const char *)path->data, path->len, n);
	}
	if (n->kind != SOTTO_NODE_MAP && n->kind != SOTTO_NODE_SEQ)
		return SOTTO_OK;
	for (i = 0; i < n->n; i++) {
		const struct sotto_entry *it = &n->items[i];

		if (n->kind == SOTTO_NODE_MAP) {
			if (it->key == NULL)
				continue;
			if (depth > 0 &&
			    sotto_buf_addstr(path, "__map_") != SOTTO_OK)
				return SOTTO_E_NOMEM;
			if (sotto_buf_add(path, it->key, it->keylen) != SOTTO_OK)
				return SOTTO_E_NOMEM;
		} else if (sotto_buf_addf(path, "__list_%zu", i) != SOTTO_OK)
			return SOTTO_E_NOMEM;
		rc = flat_walk(fl, path, it->val, depth + 1);
		if (rc != SOTTO_OK)
			return rc;
		sotto_buf_truncate(path, mark);
	}
	return SOTTO_OK;
}

static int
flat_cmp(const void *a, const void *b)
{
	const struct sotto_flat *x = a, *y = b;

	return strcmp(x->key, y->key);
}

sotto_err
sotto_storeutil_flatten(struct sotto_flat **out, size_t *n,
    const struct sotto_node *meta, bool sort, struct sotto_error *e)
{
	struct flatlist fl = { NULL, 0, 0 };
	struct sotto_buf path = SOTTO_BUF_INIT;
	sotto_err rc;

	*out = NULL;
	*n = 0;
	if (meta == NULL)
		return SOTTO_OK;
	if (meta->kind != SOTTO_NODE_MAP)
		return sotto_error_set(e, SOTTO_E_EMIT,
		    "sops metadata is not a mapping");
	rc = flat_walk(&fl, &path, meta, 0);
	sotto_buf_release(&path);
	if (rc != SOTTO_OK) {
		sotto_storeutil_flat_free(fl.v, fl.n);
		return sotto_error_set(e, rc, rc == SOTTO_E_NOMEM ?
		    "out of memory" : "sops metadata nested too deeply");
	}
	if (sort && fl.n > 1)
		qsort(fl.v, fl.n, sizeof(*fl.v), flat_cmp);
	*out = fl.v;
	*n = fl.n;
	return SOTTO_OK;
}

void
sotto_storeutil_flat_free(struct sotto_flat *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(f[i].key);
		free(f[i].val);
	}
	free(f);
}

/* ---- unflattening ---- */

struct seg {
	bool list;		/* list index, else map key */
	const char *p;		/* map key bytes */
	size_t len;		/* bytes of key */
	size_t idx;		/* list index */
};

/* Next separator ("__map_" or "__list_") at or after p; NULL if none. */
static const char *
next_sep(const char *p, const char *end, bool *list)
{
	for (; p + 6 <= end; p++) {
		if (memcmp(p, "__map_", 6) == 0) {
			*list = false;
			return p;
		}
		if (p + 7 <= end && memcmp(p, "__list_", 7) == 0) {
			*list = true;
			return p;
		}
	}
	return NULL;
}

/* Reads the segment starting at p (kind given); returns its end. */
static const char *
read_seg(const char *p, const char *end, bool list, struct seg *s, bool *ok)
{
	const char *q;
	bool nl;

	q = next_sep(p, end, &nl);
	if (q == NULL)
		q = end;
	s->list = list;
	s->p = p;
	s->len = (size_t)(q - p);
	s->idx = 0;
	*ok = true;
	if (list) {
		const char *d;

		if (s->len == 0 || s->len > 6)
			*ok = false;
		for (d = p; d < q && *ok; d++) {
			if (*d < '0' || *d > '9')
				*ok = false;
			else
				s->idx = s->idx * 10 + (size_t)(*d - '0');
		}
		if (s->idx > MAX_LIST_INDEX)
			*ok = false;
	}
	return q;
}

/* Child slot of c for segment s; creates placeholders in lists. */
static struct sotto_entry *
slot(struct sotto_node *c, const struct seg *s, bool *created)
{
	size_t i;

	*created = false;
	if (!s->list) {
		for (i = 0; i < c->n; i++)
			if (c->items[i].key != NULL &&
			    c->items[i].keylen == s->len &&
			    memcmp(c->items[i].key, s->p, s->len) == 0)
				return &c->items[i];
		return NULL;
	}
	if (s->idx >= c->n) {
		struct sotto_entry *ni;

		if (s->idx >= c->cap) {
			ni = realloc(c->items, (s->idx + 1) * sizeof(*ni));
			if (ni == NULL)
				return NULL;
			c->items = ni;
			c->cap = s->idx + 1;
		}
		for (i = c->n; i <= s->idx; i++) {
			c->items[i].key = NULL;
			c->items[i].keylen = 0;
			c->items[i].val = NULL;
		}
		c->n = s->idx + 1;
		*created = true;
	}
	return &c->items[s->idx];
}

static sotto_err
set_child(struct sotto_node *c, const struct seg *s, struct sotto_node *v,
    struct sotto_entry **where)
{
	bool created;
	struct sotto_entry *en;

	if (!s->list) {
		if (sotto_tree_map_add(c, s->p, s->len, v) != SOTTO_OK)
			return SOTTO_E_NOMEM;
		*where = &c->items[c->n - 1];
		return SOTTO_OK;
	}
	en = slot(c, s, &created);
	if (en == NULL)
		return SOTTO_E_NOMEM;
	en->val = v;
	*where = en;
	return SOTTO_OK;
}

static sotto_err
unflat_err(struct sotto_error *e, const char *name, size_t line,
    const char *what, const char *key, size_t klen)
{
	return sotto_error_set(e, SOTTO_E_SOPS_METADATA,
	    "'%s' line %zu: sops metadata: %s at '%.*s'",
	    sotto_storeutil_name(name), line, what,
	    (int)(klen > 200 ? 200 : klen), key);
}

sotto_err
sotto_storeutil_unflatten_add(struct sotto_node **root, const char *key,
    size_t klen, const char *val, size_t vlen, bool replace,
    const char *name, size_t line, struct sotto_error *e)
{
	const char *p = key, *end = key + klen;
	struct sotto_node *cur, *nn;
	struct sotto_entry *en;
	struct seg s, nx;
	bool ok, nlist = false, created, last;

	if (*root == NULL && (*root = sotto_tree_new_map()) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	cur = *root;
	p = read_seg(p, end, false, &s, &ok);
	for (;;) {
		last = (p == end);
		if (!last) {
			(void)next_sep(p, end, &nlist);
			p = read_seg(p + (nlist ? 7 : 6), end, nlist, &nx, &ok);
			if (!ok)
				return unflat_err(e, name, line,
				    "bad list index", key, klen);
		}
		en = slot(cur, &s, &created);
		if (s.list && en == NULL)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		if (last) {
			if (en != NULL && en->val != NULL) {
				if (en->val->kind != SOTTO_NODE_SCALAR)
					return unflat_err(e, name, line,
					    "type mismatch", key, klen);
				if (!replace)
					return unflat_err(e, name, line,
					    "duplicate value", key, klen);
				if (sotto_tree_set_text(en->val, SOTTO_T_STR,
				    val, vlen) != SOTTO_OK)
					return sotto_error_set(e,
					    SOTTO_E_NOMEM, "out of memory");
				en->val->dirty = false;
				return SOTTO_OK;
			}
			nn = sotto_tree_new_scalar(SOTTO_T_STR, val, vlen);
			if (nn == NULL)
				return sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
			nn->line = line;
			if (en != NULL) {
				en->val = nn;
				return SOTTO_OK;
			}
			if (set_child(cur, &s, nn, &en) != SOTTO_OK) {
				sotto_tree_node_free(nn, false);
				return sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
			}
			return SOTTO_OK;
		}
		if (en != NULL && en->val != NULL) {
			enum sotto_node_kind want = nx.list ? SOTTO_NODE_SEQ :
			    SOTTO_NODE_MAP;

			if (en->val->kind != want)
				return unflat_err(e, name, line,
				    "type mismatch", key, klen);
			cur = en->val;
		} else {
			nn = nx.list ? sotto_tree_new_seq() :
			    sotto_tree_new_map();
			if (nn == NULL)
				return sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
			if (en != NULL)
				en->val = nn;
			else if (set_child(cur, &s, nn, &en) != SOTTO_OK) {
				sotto_tree_node_free(nn, false);
				return sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
			}
			cur = nn;
		}
		s = nx;
	}
}

static bool
lists_complete(const struct sotto_node *n, const char **bad)
{
	size_t i;

	for (i = 0; i < n->n; i++) {
		if (n->items[i].val == NULL) {
			*bad = "list";
			return false;
		}
		if (!lists_complete(n->items[i].val, bad))
			return false;
	}
	return true;
}

sotto_err
sotto_storeutil_unflatten_done(struct sotto_node *root, const char *name,
    struct sotto_error *e)
{
	const char *bad = NULL;
	size_t i;

	if (root == NULL)
		return SOTTO_OK;
	for (i = 0; i < root->n; i++) {
		if (root->items[i].val != NULL &&
		    !lists_complete(root->items[i].val, &bad))
			return sotto_error_set(e, SOTTO_E_SOPS_METADATA,
			    "'%s': sops metadata: incomplete list under '%.*s'",
			    sotto_storeutil_name(name),
			    (int)(root->items[i].keylen > 200 ? 200 :
			    root->items[i].keylen), root->items[i].key);
	}
	return SOTTO_OK;
}
