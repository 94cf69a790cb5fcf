/* SPDX-License-Identifier: ISC */
/*
 * Strategic merge patches as kustomize applies them: kyaml's merge2
 * walker (kyaml/yaml/walk, kyaml/yaml/merge2), ported step for step,
 * quirks included, since any difference is a different object applied.
 *
 * Maps merge field by field; a null in the patch deletes; `$patch:
 * delete | replace | merge` on a map or as a list item.  A list is merged
 * by key only where the OpenAPI schema (schema.c: Kubernetes 1.21, or the
 * kustomization's own) gives it the "merge" patch strategy; otherwise the
 * patch's list replaces the object's.  Merged items come first in the
 * patch's order, then the object's others.  kyaml's behaviours are kept:
 * an empty (`key:`) null in the object goes when the walk passes it, and
 * an object list item without the merge key collapses the list to it.
 *
 * Trees: the object and the patch copy are both taken; nodes move between
 * them as kyaml's pointers do, so every node the walk met is pooled and,
 * once the result is known, the ones it does not hold are freed (a node
 * the result holds twice is copied).
 */
#include "render/rint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/schema.h"

/* The node flags bit marking a pooled node the result holds. */
#define SMP_MARK 0x40000000u
/* A null kyaml keeps (MakePersistentNullNode). */
#define SMP_KEEP 0x20000000u

enum kind { K_NONE, K_MAP, K_SEQ, K_SCALAR };
enum dir { D_UNKNOWN, D_REPLACE, D_DELETE, D_MERGE };

struct smp {
	struct rctx *c;
	const char *name;		/* the patch, for messages */
	struct sotto_error *e;
	struct sotto_node **pool;	/* every node met */
	size_t npool, cpool;
	size_t depth;
};

static sotto_err
oom(struct smp *m)
{
	return sotto_error_set(m->e, SOTTO_E_NOMEM, "out of memory");
}

/* ---- the pool ---- */

static sotto_err
pool_add(struct smp *m, struct sotto_node *n)
{
	if (m->npool == m->cpool) {
		size_t nc = m->cpool ? m->cpool * 2 : 256;
		struct sotto_node **p = realloc(m->pool, nc * sizeof(*p));

		if (p == NULL)
			return SOTTO_E_NOMEM;
		m->pool = p;
		m->cpool = nc;
	}
	m->pool[m->npool++] = n;
	return SOTTO_OK;
}

static sotto_err
pool_tree(struct smp *m, struct sotto_node *n)
{
	size_t i;

	if (n == NULL)
		return SOTTO_OK;
	if (pool_add(m, n) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	for (i = 0; i < n->n; i++)
		if (pool_tree(m, n->items[i].val) != SOTTO_OK)
			return SOTTO_E_NOMEM;
	return SOTTO_OK;
}

static struct sotto_node *
new_node(struct smp *m, enum kind k)
{
	struct sotto_node *n = k == K_MAP ? sotto_tree_new_map() :
	    k == K_SEQ ? sotto_tree_new_seq() :
	    sotto_tree_new_scalar(SOTTO_T_STR, "", 0);

	if (n != NULL && pool_add(m, n) != SOTTO_OK) {
		sotto_tree_node_free(n, true);
		return NULL;
	}
	return n;
}

/* Marks what the result holds; a node held twice becomes a copy. */
static sotto_err
mark(struct sotto_node **np)
{
	struct sotto_node *n = *np, *c;
	size_t i;

	if (n == NULL)
		return SOTTO_OK;
	if (n->flags & SMP_MARK) {
		/* a copy is not pooled: nothing else frees it */
		if ((c = sotto_tree_clone(n)) == NULL)
			return SOTTO_E_NOMEM;
		*np = c;
		return SOTTO_OK;
	}
	n->flags |= SMP_MARK;
	for (i = 0; i < n->n; i++)
		if (mark(&n->items[i].val) != SOTTO_OK)
			return SOTTO_E_NOMEM;
	return SOTTO_OK;
}

/* Frees one node, not its children. */
static void
free_one(struct sotto_node *n)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		free(n->items[i].key);
	n->n = 0;
	sotto_tree_node_free(n, true);
}

/* Frees every pooled node the result does not hold. */
static void
pool_finish(struct smp *m)
{
	size_t i;

	for (i = 0; i < m->npool; i++)
		if (!(m->pool[i]->flags & SMP_MARK))
			free_one(m->pool[i]);
	free(m->pool);
	m->pool = NULL;
	m->npool = m->cpool = 0;
}

static void
unmark(struct sotto_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	n->flags &= ~(SMP_MARK | SMP_KEEP);
	for (i = 0; i < n->n; i++)
		unmark(n->items[i].val);
}

/* ---- kyaml's RNode helpers ---- */

static bool
missing_or_null(const struct sotto_node *n)
{
	return n == NULL || (n->kind == SOTTO_NODE_SCALAR &&
	    n->type == SOTTO_T_NULL);
}

static bool
tagged_null(const struct sotto_node *n)
{
	return n != NULL && n->kind == SOTTO_NODE_SCALAR &&
	    n->type == SOTTO_T_NULL;
}

static enum kind
kind_of(const struct sotto_node *n)
{
	if (n == NULL)
		return K_NONE;
	return n->kind == SOTTO_NODE_MAP ? K_MAP : n->kind == SOTTO_NODE_SEQ ?
	    K_SEQ : K_SCALAR;
}

static const char *
kind_word(enum kind k)
{
	return k == K_MAP ? "MappingNode" : k == K_SEQ ? "SequenceNode" :
	    "ScalarNode";
}

static const char *
value(const struct sotto_node *n)
{
	return rn_value(n);
}

/* RNode.Field: the first entry of that key in a map. */
static struct sotto_node *
field(const struct sotto_node *map, const char *key, size_t *at)
{
	size_t i, kl = strlen(key);

	if (map == NULL || map->kind != SOTTO_NODE_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (map->items[i].key != NULL && map->items[i].keylen == kl &&
		    memcmp(map->items[i].key, key, kl) == 0) {
			if (at != NULL)
				*at = i;
			return map->items[i].val;
		}
	return NULL;
}

/* A field exists (its value may be null): kyaml's Field() != nil. */
static bool
field_exists(const struct sotto_node *map, const char *key)
{
	size_t i, kl = strlen(key);

	if (map == NULL || map->kind != SOTTO_NODE_MAP)
		return false;
	for (i = 0; i < map->n; i++)
		if (map->items[i].key != NULL && map->items[i].keylen == kl &&
		    memcmp(map->items[i].key, key, kl) == 0)
			return true;
	return false;
}

/* FieldClearer: drops the first entry of key (the node stays pooled). */
static void
clear_field(struct sotto_node *map, const char *key)
{
	size_t i, kl = strlen(key);

	for (i = 0; map != NULL && i < map->n; i++)
		if (map->items[i].key != NULL && map->items[i].keylen == kl &&
		    memcmp(map->items[i].key, key, kl) == 0) {
			free(map->items[i].key);
			memmove(&map->items[i], &map->items[i + 1],
			    (map->n - i - 1) * sizeof(map->items[0]));
			map->n--;
			return;
		}
}

/* FieldSetter{Name: key, Value: val}: a null (not kept) or no value
 * clears the field. */
static sotto_err
set_field(struct smp *m, struct sotto_node *map, const char *key,
    struct sotto_node *val)
{
	size_t at;

	if (val == NULL || (tagged_null(val) && !(val->flags & SMP_KEEP))) {
		clear_field(map, key);
		return SOTTO_OK;
	}
	if (field_exists(map, key)) {
		(void)field(map, key, &at);
		map->items[at].val = val;
		return SOTTO_OK;
	}
	return sotto_tree_map_add(map, key, strlen(key), val) == SOTTO_OK ?
	    SOTTO_OK : oom(m);
}

static sotto_err
seq_append(struct smp *m, struct sotto_node *seq, struct sotto_node *val)
{
	return sotto_tree_seq_add(seq, val) == SOTTO_OK ? SOTTO_OK : oom(m);
}

/* FieldMatcher{Name: key, StringValue: v} on one element: the field
 * (any value when v is ""), or for key "" the element itself compared
 * by value.  *err for a key on a non-map. */
static bool
field_matches(struct smp *m, const struct sotto_node *elem, const char *key,
    const char *v, sotto_err *err)
{
	struct sotto_node *f;

	*err = SOTTO_OK;
	if (missing_or_null(elem))
		return false;
	if (key[0] == '\0') {
		if (elem->kind != SOTTO_NODE_SCALAR) {
			*err = sotto_error_set(m->e, SOTTO_E_USAGE, "'%s': wrong "
			    "node kind: expected ScalarNode but got %s",
			    m->name, kind_word(kind_of(elem)));
			return false;
		}
		return strcmp(value(elem), v) == 0;
	}
	if (elem->kind != SOTTO_NODE_MAP) {
		*err = sotto_error_set(m->e, SOTTO_E_USAGE, "'%s': wrong node "
		    "kind: expected MappingNode but got %s", m->name,
		    kind_word(kind_of(elem)));
		return false;
	}
	if (!field_exists(elem, key))
		return false;
	f = field(elem, key, NULL);
	return v[0] == '\0' || strcmp(value(f), v) == 0;
}

/*
 * ElementSetter on the list seq: elements matching keys/values are
 * replaced by elem (or dropped when elem is NULL); null and {} elements
 * always go; elem is appended when nothing matched.
 */
static sotto_err
element_setter(struct smp *m, struct sotto_node *seq, struct sotto_node *elem,
    const char *const *keys, size_t nk, const char *const *vals, size_t nv)
{
	static const char *const empty[] = { "" };
	struct sotto_entry *out;
	bool mapping_setter, matched = false, found;
	size_t i, j, no = 0;
	sotto_err err;

	if (nk == 0) {
		keys = empty;
		nk = 1;
	}
	mapping_setter = keys[0][0] != '\0' && nv > 0 && vals[0][0] != '\0';
	if ((out = calloc(seq->n + 1, sizeof(*out))) == NULL)
		return oom(m);
	for (i = 0; i < seq->n; i++) {
		struct sotto_node *it = seq->items[i].val;

		if (it == NULL || it->kind == SOTTO_NODE_COMMENT ||
		    missing_or_null(it) || (it->kind == SOTTO_NODE_MAP &&
		    it->n == 0))
			continue;
		if (it->kind != SOTTO_NODE_MAP && mapping_setter) {
			out[no++].val = it;
			continue;
		}
		/* kyaml checks the keys that have values; with none, no
		 * element matches */
		found = nv > 0;
		for (j = 0; j < nk && j < nv && found; j++) {
			found = field_matches(m, it, keys[j], vals[j], &err);
			if (err != SOTTO_OK) {
				free(out);
				return err;
			}
		}
		if (!found) {
			if (nv > 0)
				out[no++].val = it;
			continue;
		}
		matched = true;
		if (elem != NULL)
			out[no++].val = elem;
	}
	free(seq->items);
	seq->items = out;
	seq->n = no;
	seq->cap = seq->n + 1;
	if (missing_or_null(elem))
		return SOTTO_OK;
	if (!matched)
		return seq_append(m, seq, elem);
	return SOTTO_OK;
}

/* MatchElementList: the first element matching every key's value (for
 * key "", a scalar of that value). */
static struct sotto_node *
element_list(const struct sotto_node *seq, const char *const *keys,
    size_t nk, const char *const *vals, size_t nv)
{
	size_t i, j;

	if (seq == NULL || seq->kind != SOTTO_NODE_SEQ)
		return NULL;
	if (nk == 0 || keys[0][0] == '\0') {
		const char *v = nv > 0 ? vals[0] : "";

		for (i = 0; i < seq->n; i++)
			if (seq->items[i].val != NULL &&
			    strcmp(value(seq->items[i].val), v) == 0)
				return seq->items[i].val;
		return NULL;
	}
	if (nk != nv)
		return NULL;
	for (i = 0; i < seq->n; i++) {
		const struct sotto_node *it = seq->items[i].val;

		if (it == NULL || it->kind != SOTTO_NODE_MAP)
			continue;
		for (j = 0; j < nk; j++) {
			const struct sotto_node *f;

			if (!field_exists(it, keys[j]))
				break;
			f = field(it, keys[j], NULL);
			if (strcmp(value(f), vals[j]) != 0)
				break;
		}
		if (j == nk)
			return seq->items[i].val;
	}
	return NULL;
}

/* ---- patch directives (merge2/smpdirective.go) ---- */

static sotto_err
directive(struct smp *m, struct sotto_node *patch, enum dir *out)
{
	struct sotto_node *it = NULL, *v;
	const char *s;
	size_t i;

	*out = D_MERGE;
	if (patch == NULL)
		return SOTTO_OK;
	if (patch->kind == SOTTO_NODE_MAP) {
		if (!field_exists(patch, "$patch"))
			return SOTTO_OK;
		s = value(field(patch, "$patch", NULL));
		if (strcmp(s, "delete") == 0)
			*out = D_DELETE;
		else if (strcmp(s, "replace") == 0)
			*out = D_REPLACE;
		else if (strcmp(s, "merge") != 0) {
			*out = D_UNKNOWN;
			return sotto_error_set(m->e, SOTTO_E_USAGE, "'%s': "
			    "unknown patch strategy '%.40s'", m->name, s);
		}
		clear_field(patch, "$patch");
		return SOTTO_OK;
	}
	if (patch->kind != SOTTO_NODE_SEQ) {
		*out = D_UNKNOWN;
		return sotto_error_set(m->e, SOTTO_E_USAGE, "'%s': no "
		    "implemented strategic merge patch strategy for '%.40s'",
		    m->name, value(patch));
	}
	for (i = 0; i < patch->n; i++)
		if (patch->items[i].val != NULL &&
		    patch->items[i].val->kind == SOTTO_NODE_MAP &&
		    field_exists(patch->items[i].val, "$patch")) {
			it = patch->items[i].val;
			break;
		}
	if (it == NULL || it->n > 1)
		return SOTTO_OK;
	v = field(it, "$patch", NULL);
	s = value(v);
	if (strcmp(s, "delete") == 0)
		*out = D_DELETE;
	else if (strcmp(s, "replace") == 0)
		*out = D_REPLACE;
	else if (strcmp(s, "merge") != 0) {
		*out = D_UNKNOWN;
		return sotto_error_set(m->e, SOTTO_E_USAGE, "'%s': unknown "
		    "patch strategy '%.40s'", m->name, s);
	}
	{
		const char *k[] = { "$patch" }, *vv[] = { s };
		char *sv = strdup(s);
		sotto_err err;

		if (sv == NULL)
			return oom(m);
		vv[0] = sv;
		err = element_setter(m, patch, NULL, k, 1, vv, 1);
		free(sv);
		return err;
	}
}

/* ---- the walker ---- */

struct sources {
	struct sotto_node *dest, *origin;
};

static sotto_err walk(struct smp *m, struct sources s, const struct rsch *sch,
    struct sotto_node **out);

/* Walker.GetSchema: the given schema, else the type's, from the first
 * source with an apiVersion and a kind. */
static const struct rsch *
get_schema(struct smp *m, struct sources s, const struct rsch *sch)
{
	const struct sotto_node *src[2] = { s.dest, s.origin };
	size_t i;

	if (sch != NULL)
		return sch;
	for (i = 0; i < 2; i++) {
		const struct sotto_node *a, *k;

		if (missing_or_null(src[i]) || src[i]->kind != SOTTO_NODE_MAP)
			continue;
		a = field(src[i], "apiVersion", NULL);
		k = field(src[i], "kind", NULL);
		if (a == NULL || k == NULL || value(a)[0] == '\0' ||
		    value(k)[0] == '\0')
			continue;
		if ((sch = rs_for_type(m->c, value(a), value(k))) != NULL)
			return sch;
	}
	return NULL;
}

/* Merger.VisitMap */
static sotto_err
visit_map(struct smp *m, struct sources s, struct sotto_node **out)
{
	enum dir d;
	sotto_err err;
	struct sotto_node *n;

	*out = NULL;
	if (missing_or_null(s.dest)) {
		struct sotto_error ignore;
		struct sotto_error *save = m->e;

		/* kyaml ignores the error here */
		m->e = &ignore;
		err = directive(m, s.origin, &d);
		m->e = save;
		if (err == SOTTO_OK && d == D_DELETE)
			return SOTTO_OK;
		if (s.origin == NULL && s.dest != NULL && s.dest->len > 0) {
			/* a null written out (~, null) stays */
			if ((n = new_node(m, K_SCALAR)) == NULL ||
			    sotto_tree_set_text(n, SOTTO_T_NULL, s.dest->text,
			    s.dest->len) != SOTTO_OK)
				return oom(m);
			n->flags |= SMP_KEEP;
			*out = n;
			return SOTTO_OK;
		}
		*out = s.origin;
		return SOTTO_OK;
	}
	if (tagged_null(s.origin))
		return SOTTO_OK;
	if ((err = directive(m, s.origin, &d)) != SOTTO_OK)
		return err;
	if (d == D_DELETE)
		return SOTTO_OK;
	*out = d == D_REPLACE ? s.origin : s.dest;
	return SOTTO_OK;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Walker.walkMap: every field of either map, in sorted order. */
static sotto_err
walk_map(struct smp *m, struct sources s, const struct rsch *sch,
    struct sotto_node **out)
{
	struct sotto_node *dest, *val;
	char **names = NULL;
	size_t n = 0, i, cap;
	sotto_err err;

	*out = NULL;
	if ((err = visit_map(m, s, &dest)) != SOTTO_OK || dest == NULL)
		return err;
	s.dest = dest;
	cap = (dest->kind == SOTTO_NODE_MAP ? dest->n : 0) +
	    (s.origin != NULL && s.origin->kind == SOTTO_NODE_MAP ?
	    s.origin->n : 0);
	if (cap > 0 && (names = calloc(cap, sizeof(*names))) == NULL)
		return oom(m);
	for (i = 0; dest->kind == SOTTO_NODE_MAP && i < dest->n; i++)
		if (dest->items[i].key != NULL &&
		    (names[n++] = strdup(dest->items[i].key)) == NULL)
			goto nomem;
	for (i = 0; s.origin != NULL && s.origin->kind == SOTTO_NODE_MAP &&
	    i < s.origin->n; i++)
		if (s.origin->items[i].key != NULL &&
		    (names[n++] = strdup(s.origin->items[i].key)) == NULL)
			goto nomem;
	if (n > 0)
		qsort(names, n, sizeof(*names), str_cmp);
	for (i = 0; i < n && err == SOTTO_OK; i++) {
		struct sources f;

		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;
		f.dest = field(dest, names[i], NULL);
		f.origin = field(s.origin, names[i], NULL);
		err = walk(m, f, sch != NULL ? rs_field(m->c, sch, names[i]) :
		    NULL, &val);
		if (err == SOTTO_OK && dest->kind == SOTTO_NODE_MAP)
			err = set_field(m, dest, names[i], val);
	}
	free_names(names, n);
	*out = dest;
	return err;
nomem:
	free_names(names, n);
	return oom(m);
}

/* Merger.VisitList */
static sotto_err
visit_list(struct smp *m, struct sources s, bool assoc,
    struct sotto_node **out)
{
	enum dir d;
	sotto_err err;

	*out = NULL;
	if (!assoc) {
		*out = s.origin != NULL ? s.origin : s.dest;
		return SOTTO_OK;
	}
	if (missing_or_null(s.dest)) {
		*out = s.origin;
		return SOTTO_OK;
	}
	if (tagged_null(s.origin))
		return SOTTO_OK;
	if ((err = directive(m, s.origin, &d)) != SOTTO_OK)
		return err;
	if (d == D_DELETE)
		return SOTTO_OK;
	*out = d == D_REPLACE ? s.origin : s.dest;
	return SOTTO_OK;
}

/* ---- associative lists (walk/associative_sequence.go) ---- */

/* A list of values (one per key), as kyaml's [][]string. */
struct vlist {
	char ***v;	/* v[i][k] */
	size_t n, cap, nk;
};

static void
vlist_free(struct vlist *l)
{
	size_t i, k;

	for (i = 0; i < l->n; i++) {
		for (k = 0; k < l->nk; k++)
			free(l->v[i][k]);
		free(l->v[i]);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static bool
vrow_eq(char **a, char **b, size_t nk)
{
	size_t k;

	for (k = 0; k < nk; k++)
		if (strcmp(a[k], b[k]) != 0)
			return false;
	return true;
}

/* Appends a row (copied) unless an equal one is there. */
static sotto_err
vlist_add(struct vlist *l, char **row)
{
	size_t i, k;
	char **r;

	for (i = 0; i < l->n; i++)
		if (vrow_eq(l->v[i], row, l->nk))
			return SOTTO_OK;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 8;
		char ***nv = realloc(l->v, nc * sizeof(*nv));

		if (nv == NULL)
			return SOTTO_E_NOMEM;
		l->v = nv;
		l->cap = nc;
	}
	if ((r = calloc(l->nk ? l->nk : 1, sizeof(*r))) == NULL)
		return SOTTO_E_NOMEM;
	for (k = 0; k < l->nk; k++)
		if ((r[k] = strdup(row[k])) == NULL) {
			while (k > 0)
				free(r[--k]);
			free(r);
			return SOTTO_E_NOMEM;
		}
	l->v[l->n++] = r;
	return SOTTO_OK;
}

/* ElementValuesList of one element: each key's value, "" when missing
 * or empty. */
static void
elem_values(const struct sotto_node *it, const char *const *keys, size_t nk,
    const char **row)
{
	size_t k;

	for (k = 0; k < nk; k++) {
		const struct sotto_node *f = field(it, keys[k], NULL);

		row[k] = f == NULL || missing_or_null(f) ||
		    ((f->kind == SOTTO_NODE_MAP || f->kind == SOTTO_NODE_SEQ) &&
		    f->n == 0) ? "" : value(f);
	}
}

/* Walker.elementValues: the patch's elements first (kustomize merges
 * with ListIncreaseDirection prepend), then the object's. */
static sotto_err
element_values(struct vlist *out, struct sources s, const char *const *keys,
    size_t nk)
{
	const struct sotto_node *src[2] = { s.origin, s.dest };
	const char **row;
	size_t i, j;

	out->nk = nk;
	if ((row = calloc(nk ? nk : 1, sizeof(*row))) == NULL)
		return SOTTO_E_NOMEM;
	for (i = 0; i < 2; i++) {
		if (src[i] == NULL || src[i]->kind != SOTTO_NODE_SEQ)
			continue;
		for (j = 0; j < src[i]->n; j++) {
			if (nk == 0)
				continue;
			elem_values(src[i]->items[j].val, keys, nk, row);
			if (vlist_add(out, (char **)row) != SOTTO_OK) {
				free(row);
				return SOTTO_E_NOMEM;
			}
		}
	}
	free(row);
	return SOTTO_OK;
}

static sotto_err
primitive_values(struct vlist *out, struct sources s)
{
	const struct sotto_node *src[2] = { s.origin, s.dest };
	size_t i, j;

	out->nk = 1;
	for (i = 0; i < 2; i++) {
		if (src[i] == NULL || src[i]->kind != SOTTO_NODE_SEQ)
			continue;
		for (j = 0; j < src[i]->n; j++) {
			const char *v = value(src[i]->items[j].val);

			if (vlist_add(out, (char **)&v) != SOTTO_OK)
				return SOTTO_E_NOMEM;
		}
	}
	return SOTTO_OK;
}

/* kyaml's match: rows agreeing on one value, the others equal or one
 * empty; *merged gets the row with the blanks filled. */
static bool
vmatch(char **a, char **b, size_t nk, const char **merged)
{
	bool common = false;
	size_t k;

	for (k = 0; k < nk; k++) {
		if (strcmp(a[k], b[k]) == 0) {
			common = true;
			merged[k] = a[k];
			continue;
		}
		if (a[k][0] != '\0' && b[k][0] != '\0')
			return false;
		merged[k] = a[k][0] != '\0' ? a[k] : b[k];
	}
	return common;
}

/* mergeValues: rows that match become their merged row (both). */
static sotto_err
merge_values(struct vlist *l)
{
	const char **mg;
	size_t i, j, k;

	if ((mg = calloc(l->nk, sizeof(*mg))) == NULL)
		return SOTTO_E_NOMEM;
	for (i = 0; i < l->n; i++)
		for (j = 0; j < l->n; j++) {
			char *c[16];

			if (l->nk > 16 || !vmatch(l->v[i], l->v[j], l->nk, mg))
				continue;
			for (k = 0; k < l->nk; k++)
				if ((c[k] = strdup(mg[k])) == NULL) {
					free(mg);
					return SOTTO_E_NOMEM;
				}
			for (k = 0; k < l->nk; k++) {
				free(l->v[i][k]);
				l->v[i][k] = strdup(c[k]);
				free(l->v[j][k]);
				l->v[j][k] = c[k];
				if (l->v[i][k] == NULL) {
					free(mg);
					return SOTTO_E_NOMEM;
				}
			}
		}
	free(mg);
	return SOTTO_OK;
}

/* validateKeys: the keys some row has a value for (all keys when none
 * does), and this row's values for them. */
static size_t
validate_keys(const struct vlist *l, size_t nl, char **row,
    const char *const *keys, size_t nk, const char **vk, const char **vv,
    size_t *nvv)
{
	bool valid[16] = { false }, any = false;
	size_t i, k, n = 0, m = 0;

	for (i = 0; i < nl; i++)
		for (k = 0; k < nk && k < 16; k++)
			if (l->v[i][k][0] != '\0')
				valid[k] = any = true;
	if (!any) {
		for (k = 0; k < nk; k++) {
			vk[k] = keys[k];
			vv[k] = row[k];
		}
		*nvv = nk;
		return nk;
	}
	for (k = 0; k < nk; k++)
		if (valid[k])
			vk[n++] = keys[k];
	for (k = 0; k < nk; k++)
		if (row[k][0] != '\0' || valid[k])
			vv[m++] = row[k];
	*nvv = m;
	return n;
}

/* appendListNode(dst, src, keys): src's elements set into dst. */
static sotto_err
append_list(struct smp *m, struct sotto_node *dst, struct sotto_node *src,
    const char *const *keys, size_t nk)
{
	const char *v[16];
	size_t i, k, n;
	sotto_err err;

	for (i = 0; src != NULL && i < src->n; i++) {
		struct sotto_node *el = src->items[i].val;

		if (el == NULL || el->kind == SOTTO_NODE_COMMENT)
			continue;
		if (nk == 0 || keys[0][0] == '\0') {
			const char *k0[] = { "" }, *v0[1];

			v0[0] = value(el);
			if ((err = element_setter(m, dst, el, k0, 1, v0, 1)) !=
			    SOTTO_OK)
				return err;
			continue;
		}
		for (k = n = 0; k < nk && k < 16; k++) {
			const struct sotto_node *f;

			if (!missing_or_null(el) && el->kind != SOTTO_NODE_MAP)
				return sotto_error_set(m->e, SOTTO_E_USAGE,
				    "'%s': wrong node kind: expected "
				    "MappingNode but got %s", m->name,
				    kind_word(kind_of(el)));
			f = field(el, keys[k], NULL);
			if (f == NULL) {
				if ((err = seq_append(m, dst, el)) != SOTTO_OK)
					return err;
				continue;
			}
			v[n++] = value(f);
		}
		if (nk > 1 && (err = element_setter(m, dst, NULL, keys, nk, v,
		    n)) != SOTTO_OK)
			return err;
		if ((err = element_setter(m, dst, el, keys, nk, v, n)) !=
		    SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

/* Walker.setAssociativeSequenceElements */
static sotto_err
set_assoc(struct smp *m, struct sources s, struct vlist *vl,
    const char *const *keys, size_t nk, const struct rsch *sch,
    struct sotto_node *dest, struct sotto_node **out)
{
	const struct rsch *esch = sch != NULL ? rs_elements(m->c, sch) : NULL;
	const char *vk[16], *vv[16], *lastk[16];
	size_t i, j, nvk = 0, nvv, nlast = 0;
	struct sotto_node *items, *val;
	bool ran = false;
	sotto_err err;

	*out = NULL;
	if (nk > 16)
		return sotto_error_set(m->e, SOTTO_E_USAGE, "'%s': too many "
		    "merge keys", m->name);
	if ((items = new_node(m, K_SEQ)) == NULL)
		return oom(m);
	if (nk > 1 && merge_values(vl) != SOTTO_OK)
		return oom(m);
	for (i = 0; i < vl->n; i++) {
		struct sources e;
		const char *ek[16], *ev[16];
		size_t nek, nev;
		bool gone = false;

		nvk = validate_keys(vl, vl->n, vl->v[i], keys, nk, vk, vv,
		    &nvv);
		for (j = 0; j < nvk; j++)
			lastk[j] = vk[j];
		nlast = nvk;
		ran = true;
		/* elementValueList: the keys this row has values for (all
		 * when it has none) */
		for (j = nek = 0; j < nvk && j < nvv; j++)
			if (vv[j][0] != '\0') {
				ek[nek] = vk[j];
				ev[nek++] = vv[j];
			}
		if (nek == 0) {
			for (j = 0; j < nvk; j++)
				ek[j] = vk[j];
			for (j = 0; j < nvv; j++)
				ev[j] = vv[j];
			nek = nvk;
			nev = nvv;
		} else {
			nev = nek;
		}
		e.dest = element_list(s.dest, ek, nek, ev, nev);
		e.origin = element_list(s.origin, ek, nek, ev, nev);
		if ((err = walk(m, e, esch, &val)) != SOTTO_OK)
			return err;
		for (j = 0; j < nvk; j++) {
			if (missing_or_null(val) || (val->kind ==
			    SOTTO_NODE_MAP && val->n == 0)) {
				if ((err = element_setter(m, dest, NULL, vk,
				    nvk, vv, nvv)) != SOTTO_OK)
					return err;
				gone = true;
			} else if (!field_exists(val, vk[j]) && j < nvv &&
			    vv[j][0] != '\0') {
				struct sotto_node *sc;

				if (val->kind != SOTTO_NODE_MAP &&
				    vk[j][0] != '\0')
					return sotto_error_set(m->e,
					    SOTTO_E_USAGE, "'%s': wrong node "
					    "kind: expected MappingNode but "
					    "got %s", m->name,
					    kind_word(kind_of(val)));
				if (vk[j][0] == '\0')
					continue;
				if ((sc = new_node(m, K_SCALAR)) == NULL ||
				    sotto_tree_set_text(sc, SOTTO_T_STR,
				    vv[j], strlen(vv[j])) != SOTTO_OK ||
				    (err = set_field(m, val, vk[j], sc)) !=
				    SOTTO_OK)
					return oom(m);
			}
		}
		if (gone)
			continue;
		if ((err = element_setter(m, items, val, vk, nvk, vv, nvv)) !=
		    SOTTO_OK)
			return err;
	}
	if (ran && (err = append_list(m, items, dest, lastk, nlast)) !=
	    SOTTO_OK)
		return err;
	*out = ran ? items : dest;
	if (missing_or_null(*out))
		*out = NULL;
	return SOTTO_OK;
}

static sotto_err
walk_assoc(struct smp *m, struct sources s, const struct rsch *sch,
    struct sotto_node **out)
{
	struct sotto_node *dest;
	const char *const *keys = NULL;
	static const char *const prim[] = { "" };
	struct vlist vl;
	size_t nk = 0;
	sotto_err err;

	*out = NULL;
	if ((err = visit_list(m, s, true, &dest)) != SOTTO_OK || dest == NULL)
		return err;
	s.dest = dest;
	(void)rs_merge_list(sch, &keys, &nk);
	memset(&vl, 0, sizeof(vl));
	if ((err = element_values(&vl, s, keys, nk)) != SOTTO_OK) {
		vlist_free(&vl);
		return oom(m);
	}
	if (vl.n == 0 && nk == 0) {
		vlist_free(&vl);
		if (primitive_values(&vl, s) != SOTTO_OK) {
			vlist_free(&vl);
			return oom(m);
		}
		keys = prim;
		nk = 1;
	}
	err = set_assoc(m, s, &vl, keys, nk, sch, dest, out);
	vlist_free(&vl);
	return err;
}

/* Walker.Walk */
static sotto_err
walk(struct smp *m, struct sources s, const struct rsch *sch,
    struct sotto_node **out)
{
	enum kind k = K_NONE;
	const struct sotto_node *src[2] = { s.dest, s.origin };
	size_t i;
	sotto_err err;

	*out = NULL;
	if (++m->depth > 512) {
		m->depth--;
		return sotto_error_set(m->e, SOTTO_E_LIMIT, "'%s': patch "
		    "nested too deeply", m->name);
	}
	sch = get_schema(m, s, sch);
	for (i = 0; i < 2 && k == K_NONE; i++)
		if (!missing_or_null(src[i]))
			k = kind_of(src[i]);
	for (i = 0; i < 2 && k != K_NONE; i++)
		if (!missing_or_null(src[i]) && kind_of(src[i]) != k) {
			m->depth--;
			return sotto_error_set(m->e, SOTTO_E_USAGE, "'%s': wrong "
			    "node kind: expected %s but got %s", m->name,
			    kind_word(k), kind_word(kind_of(src[i])));
		}
	switch (k) {
	case K_SEQ:
		if (rs_merge_list(sch, NULL, NULL))
			err = walk_assoc(m, s, sch, out);
		else
			err = visit_list(m, s, false, out);
		break;
	case K_SCALAR:
		*out = s.origin != NULL ? s.origin : s.dest;
		err = SOTTO_OK;
		break;
	default:
		err = walk_map(m, s, sch, out);
		break;
	}
	m->depth--;
	return err;
}

/*
 * Merges the strategic merge patch into *objp (both taken): *objp gets
 * the result, NULL when the patch deletes the object.  The patch's
 * comments must be gone.
 */
sotto_err
rp_smp(struct sotto_node **objp, struct sotto_node *patch, struct rctx *c,
    const char *name, struct sotto_error *e)
{
	struct smp m;
	struct sources s;
	struct sotto_node *res = NULL;
	sotto_err err;

	memset(&m, 0, sizeof(m));
	m.c = c;
	m.name = name;
	m.e = e;
	s.dest = *objp;
	s.origin = patch;
	if (pool_tree(&m, *objp) != SOTTO_OK ||
	    pool_tree(&m, patch) != SOTTO_OK) {
		free(m.pool);
		sotto_tree_node_free(patch, true);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	err = walk(&m, s, NULL, &res);
	if (err != SOTTO_OK)
		res = *objp;	/* the object is kept whole, then dropped */
	if (mark(&res) != SOTTO_OK && err == SOTTO_OK)
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	pool_finish(&m);
	unmark(res);
	*objp = res;
	return err;
}
