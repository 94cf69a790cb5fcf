/* SPDX-License-Identifier: ISC */
/*
 * Ordered document tree; see sotto/tree.h.  Also the node arena: bump
 * allocation from a list of blocks, reference-counted by the nodes in it
 * and by the doc, released (wiped first when any node asked for a wipe)
 * when the count reaches zero.
 */
#include "sotto/tree.h"

#include "sotto/store.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ------------------------------------------------------------ */

#define ARENA_MIN_BLOCK ((size_t)64 << 10)
#define ARENA_MAX_BLOCK ((size_t)4 << 20)

struct ablock {
	struct ablock *next;	/* older block */
	size_t size, used;	/* bytes of data[] */
	_Alignas(max_align_t) unsigned char data[];
};

struct sotto_arena {
	struct ablock *cur;	/* newest block (allocation happens here) */
	size_t refs;		/* nodes in it + its owner */
	size_t next_size;	/* size of the next block */
	bool wipe;		/* wipe the blocks on release */
	bool refs_src;		/* nodes borrow text from the doc's src */
	struct sotto_buf src;	/* that src, once the doc is freed */
};

struct sotto_arena *
sotto_tree_arena_new(void)
{
	struct sotto_arena *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->refs = 1;
	a->next_size = ARENA_MIN_BLOCK;
	return a;
}

void
sotto_tree_arena_unref(struct sotto_arena *a)
{
	struct ablock *b, *nb;

	if (a == NULL || --a->refs > 0)
		return;
	for (b = a->cur; b != NULL; b = nb) {
		nb = b->next;
		if (a->wipe)
			sodium_memzero(b->data, b->used);
		free(b);
	}
	if (a->wipe)
		a->src.secret = true;
	sotto_buf_release(&a->src);
	free(a);
}

/* size bytes aligned to align (a power of two, at most max_align_t). */
static void *
arena_alloc(struct sotto_arena *a, size_t size, size_t align)
{
	struct ablock *b = a->cur, *nb;
	size_t off, bs;

	if (b != NULL) {
		off = (b->used + align - 1) & ~(align - 1);
		if (off <= b->size && size <= b->size - off) {
			b->used = off + size;
			return b->data + off;
		}
	}
	if (size > SIZE_MAX - sizeof(*nb) - ARENA_MAX_BLOCK)
		return NULL;
	bs = a->next_size;
	if (size > bs / 4) {
		/* a big piece gets a block of its own, behind the current
		 * one, so the current block's free tail is not wasted */
		nb = malloc(sizeof(*nb) + size);
		if (nb == NULL)
			return NULL;
		nb->size = nb->used = size;
		if (b != NULL) {
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = NULL;
			a->cur = nb;
			nb->used = size;
		}
		return nb->data;
	}
	nb = malloc(sizeof(*nb) + bs);
	if (nb == NULL)
		return NULL;
	nb->size = bs;
	nb->used = size;
	nb->next = b;
	a->cur = nb;
	if (a->next_size < ARENA_MAX_BLOCK)
		a->next_size *= 2;
	return nb->data;
}

static char *
text_alloc(struct sotto_arena *a, size_t size)
{
	return a != NULL ? arena_alloc(a, size, 1) : malloc(size);
}

/* Drops a text or canon of a node (wiping it when asked). */
static void
text_free(const struct sotto_node *n, char *p, size_t len, bool wipe)
{
	if (p == NULL || (p == n->text && (n->flags & SOTTO_NODE_TEXT_REF)))
		return;		/* borrowed: not ours to wipe */
	if (wipe)
		sodium_memzero(p, len);
	if (n->arena == NULL)
		free(p);
}

static char *
dupmem_in(struct sotto_arena *a, const char *p, size_t len)
{
	char *s;

	if (len == SIZE_MAX)
		return NULL;
	s = text_alloc(a, len + 1);
	if (s == NULL)
		return NULL;
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static char *
dupmem(const char *p, size_t len)
{
	char *s;

	if (len == SIZE_MAX)
		return NULL;
	s = malloc(len + 1);
	if (s == NULL)
		return NULL;
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static struct sotto_node *
node_new(struct sotto_arena *a, enum sotto_node_kind kind)
{
	struct sotto_node *n;

	if (a != NULL) {
		n = arena_alloc(a, sizeof(*n), _Alignof(struct sotto_node));
		if (n == NULL)
			return NULL;
		memset(n, 0, sizeof(*n));
		n->arena = a;
		a->refs++;
	} else {
		n = calloc(1, sizeof(*n));
		if (n == NULL)
			return NULL;
	}
	n->kind = kind;
	n->src_start = SOTTO_SPAN_NONE;
	n->src_end = SOTTO_SPAN_NONE;
	return n;
}

/* Drops a node struct that holds nothing yet. */
static void
node_drop(struct sotto_node *n)
{
	if (n->arena != NULL)
		sotto_tree_arena_unref(n->arena);
	else
		free(n);
}

struct sotto_node *
sotto_tree_new_map_in(struct sotto_arena *a)
{
	return node_new(a, SOTTO_NODE_MAP);
}

struct sotto_node *
sotto_tree_new_seq_in(struct sotto_arena *a)
{
	return node_new(a, SOTTO_NODE_SEQ);
}

struct sotto_node *
sotto_tree_new_scalar_in(struct sotto_arena *a, enum sotto_scalar_type t,
    const char *text, size_t len)
{
	struct sotto_node *n;

	n = node_new(a, SOTTO_NODE_SCALAR);
	if (n == NULL)
		return NULL;
	n->type = t;
	n->text = dupmem_in(a, text != NULL ? text : "", text != NULL ? len :
	    0);
	if (n->text == NULL) {
		node_drop(n);
		return NULL;
	}
	n->len = text != NULL ? len : 0;
	return n;
}

struct sotto_node *
sotto_tree_new_scalar_ref_in(struct sotto_arena *a, enum sotto_scalar_type t,
    const char *text, size_t len)
{
	struct sotto_node *n;

	if (a == NULL || text == NULL)
		return NULL;
	n = node_new(a, SOTTO_NODE_SCALAR);
	if (n == NULL)
		return NULL;
	n->type = t;
	n->text = (char *)(uintptr_t)text;
	n->len = len;
	n->flags |= SOTTO_NODE_TEXT_REF;
	a->refs_src = true;
	return n;
}

struct sotto_node *
sotto_tree_new_comment_in(struct sotto_arena *a, const char *text,
    size_t len)
{
	struct sotto_node *n;

	n = sotto_tree_new_scalar_in(a, SOTTO_T_STR, text, len);
	if (n != NULL)
		n->kind = SOTTO_NODE_COMMENT;
	return n;
}

struct sotto_node *
sotto_tree_new_map(void)
{
	return node_new(NULL, SOTTO_NODE_MAP);
}

struct sotto_node *
sotto_tree_new_seq(void)
{
	return node_new(NULL, SOTTO_NODE_SEQ);
}

struct sotto_node *
sotto_tree_new_scalar(enum sotto_scalar_type t, const char *text, size_t len)
{
	return sotto_tree_new_scalar_in(NULL, t, text, len);
}

struct sotto_node *
sotto_tree_new_comment(const char *text, size_t len)
{
	return sotto_tree_new_comment_in(NULL, text, len);
}

static sotto_err
add_item(struct sotto_node *c, char *key, size_t keylen,
    struct sotto_node *val)
{
	struct sotto_entry *ni;
	size_t ncap;

	if (c->n == c->cap) {
		ncap = c->cap ? c->cap * 2 : 4;
		if (ncap > SIZE_MAX / sizeof(*ni))
			return SOTTO_E_NOMEM;
		ni = realloc(c->items, ncap * sizeof(*ni));
		if (ni == NULL)
			return SOTTO_E_NOMEM;
		c->items = ni;
		c->cap = ncap;
	}
	c->items[c->n].key = key;
	c->items[c->n].keylen = keylen;
	c->items[c->n].val = val;
	c->n++;
	return SOTTO_OK;
}

sotto_err
sotto_tree_map_add(struct sotto_node *map, const char *key, size_t keylen,
    struct sotto_node *val)
{
	char *k = NULL;

	if (map == NULL || val == NULL || map->kind != SOTTO_NODE_MAP)
		return SOTTO_E_INTERNAL;
	if (key != NULL) {
		k = dupmem(key, keylen);
		if (k == NULL)
			return SOTTO_E_NOMEM;
	} else
		keylen = 0;
	if (add_item(map, k, keylen, val) != SOTTO_OK) {
		free(k);
		return SOTTO_E_NOMEM;
	}
	return SOTTO_OK;
}

sotto_err
sotto_tree_seq_add(struct sotto_node *seq, struct sotto_node *val)
{
	if (seq == NULL || val == NULL || seq->kind != SOTTO_NODE_SEQ)
		return SOTTO_E_INTERNAL;
	return add_item(seq, NULL, 0, val);
}

sotto_err
sotto_tree_set_text(struct sotto_node *n, enum sotto_scalar_type t,
    const char *text, size_t len)
{
	char *s;

	if (n == NULL || (n->kind != SOTTO_NODE_SCALAR &&
	    n->kind != SOTTO_NODE_COMMENT))
		return SOTTO_E_INTERNAL;
	s = dupmem_in(n->arena, text != NULL ? text : "", text != NULL ? len :
	    0);
	if (s == NULL)
		return SOTTO_E_NOMEM;
	sotto_tree_take_text(n, t, s, text != NULL ? len : 0);
	return SOTTO_OK;
}

char *
sotto_tree_text_alloc(struct sotto_node *n, size_t size)
{
	return text_alloc(n->arena, size);
}

void
sotto_tree_take_text(struct sotto_node *n, enum sotto_scalar_type t,
    char *text, size_t len)
{
	text_free(n, n->text, n->len, true);
	if (n->canon != NULL) {
		text_free(n, n->canon, strlen(n->canon), true);
		n->canon = NULL;
	}
	n->text = text;
	n->len = len;
	n->type = t;
	n->flags &= ~SOTTO_NODE_TEXT_REF;
	n->dirty = true;
}

sotto_err
sotto_tree_set_canon(struct sotto_node *n, const char *canon, size_t len)
{
	char *s = NULL;

	if (n == NULL)
		return SOTTO_E_INTERNAL;
	if (canon != NULL) {
		s = dupmem_in(n->arena, canon, len);
		if (s == NULL)
			return SOTTO_E_NOMEM;
	}
	if (n->canon != NULL)
		text_free(n, n->canon, strlen(n->canon), true);
	n->canon = s;
	return SOTTO_OK;
}

struct sotto_node *
sotto_tree_map_get(const struct sotto_node *map, const char *key)
{
	size_t i, kl;

	if (map == NULL || key == NULL || map->kind != SOTTO_NODE_MAP)
		return NULL;
	kl = strlen(key);
	for (i = 0; i < map->n; i++) {
		if (map->items[i].key != NULL && map->items[i].keylen == kl &&
		    memcmp(map->items[i].key, key, kl) == 0)
			return map->items[i].val;
	}
	return NULL;
}

struct sotto_node *
sotto_tree_clone(const struct sotto_node *n)
{
	struct sotto_node *c;
	size_t i;

	if (n == NULL)
		return NULL;
	c = node_new(NULL, n->kind);
	if (c == NULL)
		return NULL;
	c->type = n->type;
	c->src_start = n->src_start;
	c->src_end = n->src_end;
	c->line = n->line;
	c->style = n->style;
	c->flags = n->flags & ~SOTTO_NODE_TEXT_REF;	/* text is copied */
	c->inline_comment = n->inline_comment;
	c->dirty = n->dirty;
	if (n->text != NULL) {
		c->text = dupmem(n->text, n->len);
		if (c->text == NULL)
			goto fail;
		c->len = n->len;
	}
	if (n->canon != NULL) {
		c->canon = dupmem(n->canon, strlen(n->canon));
		if (c->canon == NULL)
			goto fail;
	}
	if (n->n > 0) {
		c->items = calloc(n->n, sizeof(*c->items));
		if (c->items == NULL)
			goto fail;
		c->cap = n->n;
		for (i = 0; i < n->n; i++) {
			struct sotto_entry *d = &c->items[i];

			if (n->items[i].key != NULL) {
				d->key = dupmem(n->items[i].key,
				    n->items[i].keylen);
				if (d->key == NULL)
					goto fail;
				d->keylen = n->items[i].keylen;
			}
			c->n = i + 1;
			d->val = sotto_tree_clone(n->items[i].val);
			if (d->val == NULL)
				goto fail;
		}
	}
	return c;
fail:
	sotto_tree_node_free(c, true);
	return NULL;
}

void
sotto_tree_node_free(struct sotto_node *n, bool wipe)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++) {
		free(n->items[i].key);
		sotto_tree_node_free(n->items[i].val, wipe);
	}
	free(n->items);
	if (n->arena != NULL) {
		/* the arena wipes its blocks when it goes */
		if (wipe)
			n->arena->wipe = true;
		sotto_tree_arena_unref(n->arena);
		return;
	}
	text_free(n, n->text, n->len, wipe);
	if (n->canon != NULL)
		text_free(n, n->canon, strlen(n->canon), wipe);
	free(n);
}

struct sotto_doc *
sotto_tree_doc_new(const char *name)
{
	struct sotto_doc *d;

	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->name = name;
	return d;
}

sotto_err
sotto_tree_doc_add(struct sotto_doc *d, struct sotto_node *branch)
{
	struct sotto_node **nb, **nm;
	size_t *ns, *ne, ncap, i;

	if (d == NULL || branch == NULL)
		return SOTTO_E_INTERNAL;
	if (d->n == d->cap) {
		ncap = d->cap ? d->cap * 2 : 2;
		if (ncap > SIZE_MAX / sizeof(*nb))
			return SOTTO_E_NOMEM;
		nb = realloc(d->branches, ncap * sizeof(*nb));
		if (nb == NULL)
			return SOTTO_E_NOMEM;
		d->branches = nb;
		nm = realloc(d->meta, ncap * sizeof(*nm));
		if (nm == NULL)
			return SOTTO_E_NOMEM;
		d->meta = nm;
		ns = realloc(d->meta_start, ncap * sizeof(*ns));
		if (ns == NULL)
			return SOTTO_E_NOMEM;
		d->meta_start = ns;
		ne = realloc(d->meta_end, ncap * sizeof(*ne));
		if (ne == NULL)
			return SOTTO_E_NOMEM;
		d->meta_end = ne;
		for (i = d->cap; i < ncap; i++) {
			d->meta[i] = NULL;
			d->meta_start[i] = SOTTO_SPAN_NONE;
			d->meta_end[i] = SOTTO_SPAN_NONE;
		}
		d->cap = ncap;
	}
	d->branches[d->n] = branch;
	d->meta[d->n] = NULL;
	d->meta_start[d->n] = SOTTO_SPAN_NONE;
	d->meta_end[d->n] = SOTTO_SPAN_NONE;
	d->n++;
	return SOTTO_OK;
}

void
sotto_tree_doc_free(struct sotto_doc *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++) {
		sotto_tree_node_free(d->branches[i], d->secret);
		if (d->meta != NULL)
			sotto_tree_node_free(d->meta[i], false);
	}
	free(d->branches);
	free(d->meta);
	free(d->meta_start);
	free(d->meta_end);
	if (d->store_priv != NULL && d->store != NULL &&
	    d->store->free_priv != NULL)
		d->store->free_priv(d->store_priv);
	if (d->secret)
		d->src.secret = true;
	if (d->arena != NULL && d->arena->refs_src) {
		/* nodes may outlive the doc: the arena keeps what they
		 * borrow */
		d->arena->src = d->src;
		d->src = (struct sotto_buf)SOTTO_BUF_INIT;
	}
	sotto_buf_release(&d->src);
	if (d->arena != NULL && d->secret)
		d->arena->wipe = true;
	sotto_tree_arena_unref(d->arena);
	free(d);
}

const char *
sotto_tree_type_name(enum sotto_scalar_type t)
{
	switch (t) {
	case SOTTO_T_STR:
		return "str";
	case SOTTO_T_INT:
		return "int";
	case SOTTO_T_FLOAT:
		return "float";
	case SOTTO_T_BOOL:
		return "bool";
	case SOTTO_T_NULL:
		return "null";
	case SOTTO_T_TIME:
		return "time";
	case SOTTO_T_BYTES:
		return "bytes";
	}
	return "unknown";
}
