/* SPDX-License-Identifier: ISC */
/*
 * Tree helpers for the renderer: map get/set/delete by key or by a
 * '/'-separated path, comment stripping, the key-sorted clone that output
 * uses (kubectl kustomize prints keys sorted) and a Go-compatible JSON
 * encoding for the generator hash.  The object list lives here too.
 */
#include "render/rint.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "sotto/gofmt.h"

struct sotto_node *
rn_get(const struct sotto_node *map, const char *key)
{
	if (map == NULL || map->kind != SOTTO_NODE_MAP)
		return NULL;
	return sotto_tree_map_get(map, key);
}

bool
rn_is_scalar(const struct sotto_node *n)
{
	return n != NULL && n->kind == SOTTO_NODE_SCALAR &&
	    n->type != SOTTO_T_NULL;
}

const char *
rn_str(const struct sotto_node *map, const char *key)
{
	struct sotto_node *v = rn_get(map, key);

	return rn_is_scalar(v) ? v->text : NULL;
}

struct sotto_node *
rn_path(const struct sotto_node *map, const char *path)
{
	char seg[128];
	const char *p = path, *s;
	const struct sotto_node *n = map;
	size_t k;

	while (n != NULL && *p != '\0') {
		s = strchr(p, '/');
		k = s ? (size_t)(s - p) : strlen(p);
		if (k >= sizeof(seg))
			return NULL;
		memcpy(seg, p, k);
		seg[k] = '\0';
		n = rn_get(n, seg);
		p += k + (s ? 1 : 0);
	}
	return (struct sotto_node *)n;
}

static ssize_t
find_key(const struct sotto_node *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->n; i++)
		if (map->items[i].key != NULL &&
		    strcmp(map->items[i].key, key) == 0)
			return (ssize_t)i;
	return -1;
}

sotto_err
rn_set(struct sotto_node *map, const char *key, struct sotto_node *val)
{
	ssize_t i;

	if (val == NULL)
		return SOTTO_E_NOMEM;
	if (map == NULL || map->kind != SOTTO_NODE_MAP) {
		sotto_tree_node_free(val, true);
		return SOTTO_E_INTERNAL;
	}
	if ((i = find_key(map, key)) >= 0) {
		sotto_tree_node_free(map->items[i].val, true);
		map->items[i].val = val;
		return SOTTO_OK;
	}
	if (sotto_tree_map_add(map, key, strlen(key), val) != SOTTO_OK) {
		sotto_tree_node_free(val, true);
		return SOTTO_E_NOMEM;
	}
	return SOTTO_OK;
}

struct sotto_node *
rn_strnode(const char *s)
{
	return sotto_tree_new_scalar(SOTTO_T_STR, s, strlen(s));
}

sotto_err
rn_set_str(struct sotto_node *map, const char *key, const char *s)
{
	return rn_set(map, key, rn_strnode(s));
}

struct sotto_node *
rn_ensure_map(struct sotto_node *map, const char *key)
{
	struct sotto_node *v = rn_get(map, key);

	if (v != NULL && v->kind == SOTTO_NODE_MAP)
		return v;
	if (map == NULL || map->kind != SOTTO_NODE_MAP)
		return NULL;
	if (rn_set(map, key, sotto_tree_new_map()) != SOTTO_OK)
		return NULL;
	return rn_get(map, key);
}

struct sotto_node *
rn_ensure_path(struct sotto_node *map, const char *path)
{
	char seg[128];
	const char *p = path, *s;
	size_t k;

	while (map != NULL && *p != '\0') {
		s = strchr(p, '/');
		k = s ? (size_t)(s - p) : strlen(p);
		if (k >= sizeof(seg))
			return NULL;
		memcpy(seg, p, k);
		seg[k] = '\0';
		map = rn_ensure_map(map, seg);
		p += k + (s ? 1 : 0);
	}
	return map;
}

void
rn_del(struct sotto_node *map, const char *key)
{
	ssize_t i;

	if (map == NULL || map->kind != SOTTO_NODE_MAP ||
	    (i = find_key(map, key)) < 0)
		return;
	free(map->items[i].key);
	sotto_tree_node_free(map->items[i].val, true);
	memmove(&map->items[i], &map->items[i + 1],
	    (map->n - (size_t)i - 1) * sizeof(map->items[0]));
	map->n--;
}

void
rn_strip_comments(struct sotto_node *n)
{
	size_t i, j;

	if (n == NULL || (n->kind != SOTTO_NODE_MAP &&
	    n->kind != SOTTO_NODE_SEQ))
		return;
	for (i = j = 0; i < n->n; i++) {
		if (n->items[i].val != NULL &&
		    n->items[i].val->kind == SOTTO_NODE_COMMENT) {
			free(n->items[i].key);
			sotto_tree_node_free(n->items[i].val, true);
			continue;
		}
		rn_strip_comments(n->items[i].val);
		n->items[j++] = n->items[i];
	}
	n->n = j;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct sotto_entry *x = a, *y = b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	return x->keylen < y->keylen ? -1 : x->keylen > y->keylen;
}

/* Sorts map keys at every level and drops spans (recursion as deep as
 * the tree, which the parsers keep within their depth limit). */
static void
sort_keys(struct sotto_node *x)
{
	size_t i;

	x->src_start = x->src_end = SOTTO_SPAN_NONE;
	x->style = 0;
	if (x->kind != SOTTO_NODE_MAP && x->kind != SOTTO_NODE_SEQ)
		return;
	if (x->kind == SOTTO_NODE_MAP && x->n > 1)
		qsort(x->items, x->n, sizeof(x->items[0]), entry_cmp);
	for (i = 0; i < x->n; i++)
		sort_keys(x->items[i].val);
}

/* A clone with map keys sorted bytewise (Go's map order), no comments,
 * and no source spans, so the store renders it from scratch. */
struct sotto_node *
rn_sorted_clone(const struct sotto_node *n)
{
	struct sotto_node *c;

	if ((c = sotto_tree_clone(n)) == NULL)
		return NULL;
	rn_strip_comments(c);
	sort_keys(c);
	return c;
}

bool
rn_contains_marker(const struct sotto_node *n)
{
	size_t i;

	if (n == NULL)
		return false;
	if (n->kind == SOTTO_NODE_SCALAR)
		return n->text != NULL &&
		    strstr(n->text, "ENC[AES256_GCM,") != NULL;
	if (n->kind != SOTTO_NODE_MAP && n->kind != SOTTO_NODE_SEQ)
		return false;
	for (i = 0; i < n->n; i++) {
		if (n->items[i].key != NULL &&
		    strstr(n->items[i].key, "ENC[AES256_GCM,") != NULL)
			return true;
		if (rn_contains_marker(n->items[i].val))
			return true;
	}
	return false;
}

/* Go encoding/json string escaping (HTML-safe, as json.Marshal does). */
static sotto_err
json_str(struct sotto_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	sotto_err err = sotto_buf_addch(b, '"');
	size_t i;

	for (i = 0; i < n && err == SOTTO_OK; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			err = sotto_buf_addch(b, '\\');
			if (err == SOTTO_OK)
				err = sotto_buf_addch(b, ch);
		} else if (ch == '\n') {
			err = sotto_buf_addstr(b, "\\n");
		} else if (ch == '\r') {
			err = sotto_buf_addstr(b, "\\r");
		} else if (ch == '\t') {
			err = sotto_buf_addstr(b, "\\t");
		} else if (ch < 0x20 || ch == '<' || ch == '>' || ch == '&') {
			err = sotto_buf_addf(b, "\\u00%c%c", hex[ch >> 4],
			    hex[ch & 15]);
		} else if (ch == 0xe2 && i + 2 < n &&
		    (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0xa8 ||
		    (unsigned char)s[i + 2] == 0xa9)) {
			err = sotto_buf_addstr(b, (unsigned char)s[i + 2] ==
			    0xa8 ? "\\u2028" : "\\u2029");
			i += 2;
		} else {
			err = sotto_buf_addch(b, ch);
		}
	}
	if (err == SOTTO_OK)
		err = sotto_buf_addch(b, '"');
	return err;
}

/* Encodes n as JSON; maps with sorted keys; every scalar as a string
 * (generator data is map[string]string). */
sotto_err
rn_to_json(struct sotto_buf *b, const struct sotto_node *n)
{
	struct sotto_node *c;
	sotto_err err = SOTTO_OK;
	size_t i;

	if (n == NULL || n->kind == SOTTO_NODE_SCALAR)
		return n == NULL || n->type == SOTTO_T_NULL ?
		    sotto_buf_addstr(b, "null") : json_str(b, n->text, n->len);
	if ((c = rn_sorted_clone(n)) == NULL)
		return SOTTO_E_NOMEM;
	err = sotto_buf_addch(b, c->kind == SOTTO_NODE_MAP ? '{' : '[');
	for (i = 0; i < c->n && err == SOTTO_OK; i++) {
		if (i > 0)
			err = sotto_buf_addch(b, ',');
		if (err == SOTTO_OK && c->kind == SOTTO_NODE_MAP) {
			err = json_str(b, c->items[i].key, c->items[i].keylen);
			if (err == SOTTO_OK)
				err = sotto_buf_addch(b, ':');
		}
		if (err == SOTTO_OK)
			err = rn_to_json(b, c->items[i].val);
	}
	if (err == SOTTO_OK)
		err = sotto_buf_addch(b, c->kind == SOTTO_NODE_MAP ? '}' : ']');
	sotto_tree_node_free(c, true);
	return err;
}

size_t
rn_cost(const struct sotto_node *n)
{
	size_t i, k;

	if (n == NULL)
		return 0;
	k = RN_NODE_COST + n->len;
	for (i = 0; i < n->n; i++)
		k += n->items[i].keylen + rn_cost(n->items[i].val);
	return k;
}


/* A node that went through JSON (kustomize re-encodes List items and
 * objects a JSON patch changed): block scalar styles are gone. */
void
rn_drop_styles(struct sotto_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	n->style = 0;
	for (i = 0; i < n->n; i++)
		rn_drop_styles(n->items[i].val);
}

bool
rn_is_null(const struct sotto_node *n)
{
	return n == NULL || (n->kind == SOTTO_NODE_SCALAR &&
	    n->type == SOTTO_T_NULL);
}

const char *
rn_value(const struct sotto_node *n)
{
	if (n == NULL || n->kind != SOTTO_NODE_SCALAR || n->text == NULL)
		return "";
	return n->text;
}

/* Deep equality of values (keys in order; comments ignored by callers
 * that strip them). */
bool
rn_equal(const struct sotto_node *a, const struct sotto_node *b)
{
	size_t i;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->kind != b->kind)
		return false;
	if (a->kind == SOTTO_NODE_SCALAR || a->kind == SOTTO_NODE_COMMENT)
		return a->type == b->type && a->len == b->len &&
		    (a->len == 0 || memcmp(a->text, b->text, a->len) == 0);
	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		if ((a->items[i].key == NULL) != (b->items[i].key == NULL))
			return false;
		if (a->items[i].key != NULL &&
		    (a->items[i].keylen != b->items[i].keylen ||
		    memcmp(a->items[i].key, b->items[i].key,
		    a->items[i].keylen) != 0))
			return false;
		if (!rn_equal(a->items[i].val, b->items[i].val))
			return false;
	}
	return true;
}

/* A scalar as Go's json.Marshal writes what yaml.v3 decodes it to. */
static sotto_err
json_scalar_typed(struct sotto_buf *b, const struct sotto_node *n)
{
	char buf[SOTTO_GOFMT_FLOAT_MAX];
	const char *t = n->canon != NULL ? n->canon : n->text;
	int64_t iv;
	double fv;
	int k;

	switch (n->type) {
	case SOTTO_T_NULL:
		return sotto_buf_addstr(b, "null");
	case SOTTO_T_BOOL:
		return sotto_buf_addstr(b, (t[0] == 't' || t[0] == 'T') ?
		    "true" : "false");
	case SOTTO_T_INT:
		if (sotto_gofmt_parse_int(t, strlen(t), &iv) &&
		    (k = sotto_gofmt_int(buf, sizeof(buf), iv)) > 0)
			return sotto_buf_add(b, buf, (size_t)k);
		break;
	case SOTTO_T_FLOAT:
		if (sotto_gofmt_parse_float(t, strlen(t), &fv) &&
		    (k = sotto_gofmt_float_json(buf, sizeof(buf), fv)) > 0)
			return sotto_buf_add(b, buf, (size_t)k);
		break;
	default:
		break;
	}
	return json_str(b, n->text ? n->text : "", n->len);
}

sotto_err
rn_to_json_typed(struct sotto_buf *b, const struct sotto_node *n)
{
	struct sotto_node *c;
	sotto_err err = SOTTO_OK;
	size_t i;

	if (n == NULL)
		return sotto_buf_addstr(b, "null");
	if (n->kind == SOTTO_NODE_SCALAR)
		return json_scalar_typed(b, n);
	if ((c = rn_sorted_clone(n)) == NULL)
		return SOTTO_E_NOMEM;
	err = sotto_buf_addch(b, c->kind == SOTTO_NODE_MAP ? '{' : '[');
	for (i = 0; i < c->n && err == SOTTO_OK; i++) {
		if (i > 0)
			err = sotto_buf_addch(b, ',');
		if (err == SOTTO_OK && c->kind == SOTTO_NODE_MAP) {
			err = json_str(b, c->items[i].key, c->items[i].keylen);
			if (err == SOTTO_OK)
				err = sotto_buf_addch(b, ':');
		}
		if (err == SOTTO_OK)
			err = rn_to_json_typed(b, c->items[i].val);
	}
	if (err == SOTTO_OK)
		err = sotto_buf_addch(b, c->kind == SOTTO_NODE_MAP ? '}' : ']');
	sotto_tree_node_free(c, true);
	return err;
}

/* ---- string lists ---- */

sotto_err
rsv_push(struct rstrv *s, const char *x)
{
	char *d;

	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 4;
		char **v = realloc(s->v, nc * sizeof(*v));

		if (v == NULL)
			return SOTTO_E_NOMEM;
		s->v = v;
		s->cap = nc;
	}
	if ((d = strdup(x)) == NULL)
		return SOTTO_E_NOMEM;
	s->v[s->n++] = d;
	return SOTTO_OK;
}

sotto_err
rsv_copy(struct rstrv *d, const struct rstrv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (rsv_push(d, s->v[i]) != SOTTO_OK)
			return SOTTO_E_NOMEM;
	return SOTTO_OK;
}

void
rsv_free(struct rstrv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

bool
rsv_has(const struct rstrv *s, const char *x)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], x) == 0)
			return true;
	return false;
}

/* ---- object list ---- */

static char *
dupornull(const char *s)
{
	return s ? strdup(s) : NULL;
}

sotto_err
rl_add(struct rlist *l, struct sotto_node *n, const char *origin,
    struct sotto_error *e)
{
	struct robj *o;

	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct robj *v = realloc(l->v, nc * sizeof(*v));

		if (v == NULL) {
			sotto_tree_node_free(n, true);
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		}
		l->v = v;
		l->cap = nc;
	}
	o = &l->v[l->n++];
	memset(o, 0, sizeof(*o));
	o->n = n;
	if (origin != NULL && (o->origin = strdup(origin)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

static void
prev_free(struct robj *o)
{
	size_t i;

	for (i = 0; i < o->nprev; i++) {
		free(o->prev[i].kind);
		free(o->prev[i].name);
		free(o->prev[i].ns);
	}
	free(o->prev);
	o->prev = NULL;
	o->nprev = 0;
}

void
robj_free(struct robj *o)
{
	sotto_tree_node_free(o->n, true);
	free(o->origin);
	prev_free(o);
	rsv_free(&o->pfx);
	rsv_free(&o->sfx);
	rsv_free(&o->vars);
	o->n = NULL;
	o->origin = NULL;
}

void
rl_free(struct rlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		robj_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Drops object i, keeping the order of the others. */
void
rl_remove(struct rlist *l, size_t i)
{
	robj_free(&l->v[i]);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(l->v[0]));
	l->n--;
}

static sotto_err
prev_push(struct robj *o, const char *kind, const char *name, const char *ns)
{
	struct rprev *p = realloc(o->prev, (o->nprev + 1) * sizeof(*p));

	if (p == NULL)
		return SOTTO_E_NOMEM;
	o->prev = p;
	p = &o->prev[o->nprev];
	p->kind = strdup(kind);
	p->name = strdup(name);
	p->ns = strdup(ns);
	if (p->kind == NULL || p->name == NULL || p->ns == NULL) {
		free(p->kind);
		free(p->name);
		free(p->ns);
		return SOTTO_E_NOMEM;
	}
	o->nprev++;
	return SOTTO_OK;
}

sotto_err
robj_store_prev(struct rctx *c, struct robj *o)
{
	struct rid id;

	robj_curid(o, &id);
	return prev_push(o, id.kind, id.name, rid_eff_ns(c, &id));
}

/*
 * Copies what kustomize keeps in build annotations (and the vars that
 * name the object) from s to d, replacing d's.
 */
sotto_err
robj_copy_meta(struct robj *d, const struct robj *s)
{
	size_t i;

	prev_free(d);
	rsv_free(&d->pfx);
	rsv_free(&d->sfx);
	rsv_free(&d->vars);
	for (i = 0; i < s->nprev; i++)
		if (prev_push(d, s->prev[i].kind, s->prev[i].name,
		    s->prev[i].ns) != SOTTO_OK)
			return SOTTO_E_NOMEM;
	if (rsv_copy(&d->pfx, &s->pfx) != SOTTO_OK ||
	    rsv_copy(&d->sfx, &s->sfx) != SOTTO_OK ||
	    rsv_copy(&d->vars, &s->vars) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	d->beh = s->beh;
	d->hash = s->hash;
	return SOTTO_OK;
}

const char *
robj_kind(const struct robj *o)
{
	const char *k = rn_str(o->n, "kind");

	return k ? k : "";
}

const char *
robj_apiversion(const struct robj *o)
{
	const char *k = rn_str(o->n, "apiVersion");

	return k ? k : "";
}

const char *
robj_name(const struct robj *o)
{
	const char *k = rn_str(rn_get(o->n, "metadata"), "name");

	return k ? k : "";
}

const char *
robj_ns(const struct robj *o)
{
	return rn_str(rn_get(o->n, "metadata"), "namespace");
}

/* Moves every object of src to the end of dst; src is left empty. */
sotto_err
rl_append(struct rlist *dst, struct rlist *src, struct sotto_error *e)
{
	size_t need = dst->n + src->n, nc;

	if (need > dst->cap) {
		struct robj *v;

		/* doubling: a kustomization listing many small resources
		 * appends them one list at a time */
		nc = dst->cap ? dst->cap : 16;
		while (nc < need)
			nc *= 2;
		if ((v = realloc(dst->v, nc * sizeof(*v))) == NULL)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		dst->v = v;
		dst->cap = nc;
	}
	if (src->n > 0)
		memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
	dst->n = need;
	src->n = 0;
	return SOTTO_OK;
}

/* Appends deep copies of src's objects to dst (src is unchanged). */
sotto_err
rl_clone(struct rlist *dst, const struct rlist *src, struct sotto_error *e)
{
	struct rlist t = { NULL, 0, 0 };
	sotto_err err;
	size_t i;

	if (src->n == 0)
		return SOTTO_OK;
	if ((t.v = calloc(src->n, sizeof(*t.v))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	t.cap = src->n;
	for (i = 0; i < src->n; i++) {
		const struct robj *s = &src->v[i];
		struct robj *d = &t.v[t.n++];

		if ((d->n = sotto_tree_clone(s->n)) == NULL ||
		    (s->origin && !(d->origin = dupornull(s->origin))) ||
		    robj_copy_meta(d, s) != SOTTO_OK) {
			rl_free(&t);
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		}
	}
	err = rl_append(dst, &t, e);
	rl_free(&t);
	return err;
}
