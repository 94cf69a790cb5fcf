/* SPDX-License-Identifier: ISC */
/* sops-style tree paths (["a"][0]); see sotto/treepath.h. */
#include "sotto/treepath.h"

#include <stdlib.h>
#include <string.h>

void
sotto_path_free(struct sotto_path *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i].key);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static sotto_err
add(struct sotto_path *p, const char *key, size_t keylen, size_t index)
{
	struct sotto_path_elem *n = realloc(p->v, (p->n + 1) * sizeof(*n));

	if (n == NULL)
		return SOTTO_E_NOMEM;
	p->v = n;
	n[p->n].key = NULL;
	n[p->n].keylen = keylen;
	n[p->n].index = index;
	if (key != NULL) {
		n[p->n].key = malloc(keylen + 1);
		if (n[p->n].key == NULL)
			return SOTTO_E_NOMEM;
		memcpy(n[p->n].key, key, keylen);
		n[p->n].key[keylen] = '\0';
	}
	p->n++;
	return SOTTO_OK;
}

sotto_err
sotto_path_parse(struct sotto_path *p, const char *s, struct sotto_error *e)
{
	const char *c = s, *end;
	size_t idx;
	char q;

	p->v = NULL;
	p->n = 0;
	while (*c == ' ')
		c++;
	while (*c != '\0') {
		if (*c != '[')
			goto bad;
		c++;
		if (*c == '"' || *c == '\'') {
			q = *c++;
			end = strchr(c, q);
			if (end == NULL || end[1] != ']')
				goto bad;
			if (add(p, c, (size_t)(end - c), 0))
				goto nomem;
			c = end + 2;
		} else if (*c >= '0' && *c <= '9') {
			idx = 0;
			while (*c >= '0' && *c <= '9') {
				if (idx > 100000000)
					goto bad;
				idx = idx * 10 + (size_t)(*c++ - '0');
			}
			if (*c++ != ']')
				goto bad;
			if (add(p, NULL, 0, idx))
				goto nomem;
		} else {
			goto bad;
		}
	}
	return SOTTO_OK;
bad:
	sotto_path_free(p);
	return sotto_error_set(e, SOTTO_E_TREE_PATH,
	    "invalid tree path '%.80s': expected [\"key\"] or [index] "
	    "elements, e.g. '[\"db\"][\"hosts\"][0]'", s);
nomem:
	sotto_path_free(p);
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

sotto_err
sotto_path_lookup(struct sotto_node **out, struct sotto_node *branch,
    const struct sotto_path *p, struct sotto_error *e)
{
	struct sotto_node *n = branch, *next;
	size_t i, j, k;

	for (i = 0; i < p->n; i++) {
		next = NULL;
		if (p->v[i].key != NULL && n->kind == SOTTO_NODE_MAP) {
			for (j = 0; j < n->n; j++)
				if (n->items[j].key != NULL &&
				    n->items[j].keylen == p->v[i].keylen &&
				    memcmp(n->items[j].key, p->v[i].key,
				    p->v[i].keylen) == 0) {
					next = n->items[j].val;
					break;
				}
		} else if (p->v[i].key == NULL && n->kind == SOTTO_NODE_SEQ) {
			for (j = 0, k = 0; j < n->n; j++) {
				if (n->items[j].val->kind == SOTTO_NODE_COMMENT)
					continue;
				if (k++ == p->v[i].index) {
					next = n->items[j].val;
					break;
				}
			}
		}
		if (next == NULL) {
			if (p->v[i].key != NULL)
				return sotto_error_set(e, SOTTO_E_NOTFOUND,
				    "component ['%.60s'] not found",
				    p->v[i].key);
			return sotto_error_set(e, SOTTO_E_NOTFOUND,
			    "component [%zu] not found", p->v[i].index);
		}
		n = next;
	}
	*out = n;
	return SOTTO_OK;
}
