/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer: the YAML store.  Properties checked on every input that
 * parses:
 *  1. splice of an unchanged document is the identity;
 *  2. round trip: every value (and comment) replaced by an ENC[...]
 *     string as encryption does, spliced, parsed again, the values put
 *     back, spliced again, gives the input byte for byte, unless the
 *     store said why a value cannot come back (sotto_store_roundtrip_note)
 *     or a spelling goes to its canonical form (SOTTO_NODE_NONCANON);
 *  3. structure: an entry removed and one added (as unset and set do),
 *     the splice still parses and holds the new entry;
 *  4. emit and emit_value do not crash.
 */
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/store.h"
#include "sotto/tree.h"

struct saved {
	char **t;
	size_t *l;
	enum sotto_scalar_type *ty;
	size_t n, cap;
	bool noted;	/* a value the store says will not come back */
};

static bool
skip_value(const struct sotto_node *v)
{
	return v->kind == SOTTO_NODE_SCALAR &&
	    (v->type == SOTTO_T_NULL || v->len == 0);
}

/* Replaces each value with an ENC[...] string, keeping the original. */
static bool
encrypt_all(const struct sotto_doc *d, struct sotto_node *n,
    struct saved *s)
{
	char enc[96];
	size_t i;

	for (i = 0; i < n->n; i++) {
		struct sotto_node *v = n->items[i].val;

		if (v->kind == SOTTO_NODE_MAP || v->kind == SOTTO_NODE_SEQ) {
			if (!encrypt_all(d, v, s))
				return false;
			continue;
		}
		if (skip_value(v))
			continue;
		if (sotto_store_roundtrip_note(d, v) != NULL ||
		    (v->flags & SOTTO_NODE_NONCANON))
			s->noted = true;
		if (s->n == s->cap) {
			size_t c = s->cap ? s->cap * 2 : 64;
			char **t = realloc(s->t, c * sizeof(*t));
			size_t *l;
			enum sotto_scalar_type *ty;

			if (t == NULL)
				return false;
			s->t = t;
			if ((l = realloc(s->l, c * sizeof(*l))) == NULL)
				return false;
			s->l = l;
			if ((ty = realloc(s->ty, c * sizeof(*ty))) == NULL)
				return false;
			s->ty = ty;
			s->cap = c;
		}
		if ((s->t[s->n] = malloc(v->len + 1)) == NULL)
			return false;
		memcpy(s->t[s->n], v->text, v->len);
		s->t[s->n][v->len] = '\0';
		s->l[s->n] = v->len;
		s->ty[s->n] = v->type;
		s->n++;
		snprintf(enc, sizeof(enc), "ENC[AES256_GCM,data:%zu,iv:aXY=,"
		    "tag:dGFn,type:%s]", s->n, v->kind == SOTTO_NODE_COMMENT ?
		    "comment" : sotto_tree_type_name(v->type));
		if (sotto_tree_set_text(v, v->kind == SOTTO_NODE_COMMENT ?
		    v->type : SOTTO_T_STR, enc, strlen(enc)) != SOTTO_OK)
			return false;
	}
	return true;
}

/* Puts the saved values back, in the same order; false on a mismatch. */
static bool
decrypt_all(struct sotto_node *n, const struct saved *s, size_t *k)
{
	size_t i;

	for (i = 0; i < n->n; i++) {
		struct sotto_node *v = n->items[i].val;

		if (v->kind == SOTTO_NODE_MAP || v->kind == SOTTO_NODE_SEQ) {
			if (!decrypt_all(v, s, k))
				return false;
			continue;
		}
		if (skip_value(v))
			continue;
		if (*k >= s->n || v->len < 4 || memcmp(v->text, "ENC[", 4))
			return false;
		if (sotto_tree_set_text(v, v->kind == SOTTO_NODE_COMMENT ?
		    v->type : s->ty[*k], s->t[*k], s->l[*k]) != SOTTO_OK)
			return false;
		(*k)++;
	}
	return true;
}

static void
saved_free(struct saved *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->t[i]);
	free(s->t);
	free(s->l);
	free(s->ty);
}

static void
roundtrip(const uint8_t *data, size_t size, const struct sotto_limits *lim)
{
	struct sotto_doc *d = NULL, *d2 = NULL;
	struct sotto_buf o1 = SOTTO_BUF_INIT, o2 = SOTTO_BUF_INIT;
	struct sotto_error e;
	struct saved s;
	size_t i, k = 0;
	bool ok = true;

	memset(&s, 0, sizeof(s));
	if (sotto_store_yaml.parse(&d, data, size, "fuzz", lim, &e) != SOTTO_OK)
		return;
	for (i = 0; i < d->n; i++) {
		if (d->meta[i] != NULL)	/* already "encrypted": not ours */
			goto out;
		if (sotto_store_roundtrip_note(d, d->branches[i]) != NULL)
			s.noted = true;
	}
	for (i = 0; i < d->n && ok; i++)
		ok = encrypt_all(d, d->branches[i], &s);
	if (!ok || sotto_store_yaml.emit_splice(&o1, d, NULL, &e) != SOTTO_OK)
		goto out;
	/* what encryption writes must read back */
	if (sotto_store_yaml.parse(&d2, o1.data, o1.len, "fuzz2", lim, &e) !=
	    SOTTO_OK) {
		/* a bigger copy of an alias may pass the parse limits */
		if (e.code == SOTTO_E_LIMIT)
			goto out;
		__builtin_trap();
	}
	for (i = 0; i < d2->n && ok; i++)
		ok = decrypt_all(d2->branches[i], &s, &k);
	if (!ok || k != s.n)
		__builtin_trap();
	if (sotto_store_yaml.emit_splice(&o2, d2, NULL, &e) != SOTTO_OK)
		goto out;
	if (!s.noted && (o2.len != size || (size > 0 &&
	    memcmp(o2.data, data, size) != 0)))
		__builtin_trap();
out:
	saved_free(&s);
	sotto_buf_release(&o1);
	sotto_buf_release(&o2);
	sotto_tree_doc_free(d2);
	sotto_tree_doc_free(d);
}

/* The first map holding an entry, depth first. */
static struct sotto_node *
some_map(struct sotto_node *n, int depth)
{
	size_t i;

	if (depth > 32)
		return NULL;
	if (n->kind == SOTTO_NODE_MAP)
		for (i = 0; i < n->n; i++)
			if (n->items[i].key != NULL)
				return n;
	for (i = 0; i < n->n; i++) {
		struct sotto_node *m = some_map(n->items[i].val, depth + 1);

		if (m != NULL)
			return m;
	}
	return NULL;
}

/* As unset then set do: the last entry of a map goes, a new one comes. */
static void
restructure(const uint8_t *data, size_t size, const struct sotto_limits *lim)
{
	struct sotto_doc *d = NULL, *d2 = NULL;
	struct sotto_buf o = SOTTO_BUF_INIT;
	struct sotto_error e;
	struct sotto_node *m, *v;
	size_t i;

	if (sotto_store_yaml.parse(&d, data, size, "fuzz", lim, &e) != SOTTO_OK)
		return;
	if (d->n == 0 || (m = some_map(d->branches[0], 0)) == NULL)
		goto out;
	for (i = m->n; i-- > 0;)
		if (m->items[i].key != NULL)
			break;
	sotto_tree_node_free(m->items[i].val, true);
	free(m->items[i].key);
	memmove(&m->items[i], &m->items[i + 1],
	    (m->n - i - 1) * sizeof(m->items[0]));
	m->n--;
	if (sotto_tree_map_get(m, "zz-added-key") != NULL)
		goto out;	/* the input has it: a duplicate would not parse */
	if ((v = sotto_tree_new_scalar(SOTTO_T_STR, "added value", 11)) ==
	    NULL || sotto_tree_map_add(m, "zz-added-key", 12, v) != SOTTO_OK)
		goto out;
	v->dirty = true;
	if (sotto_store_yaml.emit_splice(&o, d, NULL, &e) != SOTTO_OK)
		goto out;
	if (sotto_store_yaml.parse(&d2, o.data, o.len, "fuzz2", lim, &e) !=
	    SOTTO_OK) {
		if (e.code == SOTTO_E_LIMIT)
			goto out;
		__builtin_trap();
	}
	if (memmem(o.data, o.len, "zz-added-key: added value", 25) == NULL)
		__builtin_trap();
out:
	sotto_buf_release(&o);
	sotto_tree_doc_free(d2);
	sotto_tree_doc_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sotto_limits lim = { 1 << 20, 64, 100000, 10000, 1 << 20 };
	struct sotto_emit_opts o = { -1 };
	struct sotto_doc *d = NULL;
	struct sotto_buf out = SOTTO_BUF_INIT, out2 = SOTTO_BUF_INIT;
	struct sotto_error e;

	if (sotto_store_yaml.parse(&d, data, size, "fuzz", &lim, &e) !=
	    SOTTO_OK)
		return 0;
	/* unchanged splice must be the identity (when every document
	 * carries the same metadata: here, single documents) */
	if (d->n == 1 && sotto_store_yaml.emit_splice(&out, d, d->meta[0],
	    &e) == SOTTO_OK && (out.len != size ||
	    (size > 0 && memcmp(out.data, data, size) != 0)))
		__builtin_trap();
	sotto_buf_release(&out);
	(void)sotto_store_yaml.emit(&out2, d, d->meta[0], &o, &e);
	if (d->n > 0)
		(void)sotto_store_yaml.emit_value(&out2, d->branches[0], &o,
		    &e);
	sotto_buf_release(&out2);
	sotto_tree_doc_free(d);
	roundtrip(data, size, &lim);
	restructure(data, size, &lim);
	return 0;
}
