/* SPDX-License-Identifier: ISC */
/*
 * Tree paths as sops spells them for --extract, set and unset:
 * ["key"] or ['key'] for map keys, [N] for list indices, concatenated,
 * e.g. ["db"]["hosts"][0].
 */
#ifndef SOTTO_TREEPATH_H
#define SOTTO_TREEPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "sotto/error.h"
#include "sotto/tree.h"

struct sotto_path_elem {
	char *key;		/* map key, or NULL for an index */
	size_t keylen;
	size_t index;		/* list index when key == NULL */
};

struct sotto_path {
	struct sotto_path_elem *v;	/* elements, root first */
	size_t n;
};

/* Parses s; SOTTO_E_TREE_PATH on bad syntax.  Free with _free(). */
sotto_err sotto_path_parse(struct sotto_path *p, const char *s,
    struct sotto_error *e);
void sotto_path_free(struct sotto_path *p);

/*
 * Finds the node at p in branch (comments skipped when indexing lists).
 * SOTTO_E_NOTFOUND naming the first missing element.
 */
sotto_err sotto_path_lookup(struct sotto_node **out, struct sotto_node *branch,
    const struct sotto_path *p, struct sotto_error *e);

#endif
