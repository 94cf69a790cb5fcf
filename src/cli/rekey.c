/* SPDX-License-Identifier: ISC */
/*
 * Key groups of a sops metadata block, for rotate, updatekeys and groups:
 * read the recipients per group, and re-wrap a data key for a new set of
 * groups without touching the values.  age and pgp (through the user's
 * GnuPG) are wrapped; entries of key types sotto cannot use (kms,
 * gcp_kms, azure_kv, hc_vault, hckms) are kept verbatim in the flat (one
 * group) form; where the data key must be re-split into Shamir shares
 * they cannot be re-wrapped, and the caller is told which.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "sotto/shamir.h"

static const char *const other_types[] = { "pgp", "kms", "gcp_kms",
    "azure_kv", "hc_vault", "hckms", NULL };

void
cli_rgroups_free(struct cli_rgroup *g, size_t n)
{
	size_t i, j;

	for (i = 0; g != NULL && i < n; i++) {
		for (j = 0; j < g[i].nage; j++)
			free(g[i].age[j]);
		free(g[i].age);
		sotto_sops_pgplist_free(&g[i].pgp);
	}
	free(g);
}

sotto_err
cli_rgroup_add(struct cli_rgroup *g, const char *rcp)
{
	char **n;
	size_t i;

	for (i = 0; i < g->nage; i++)
		if (strcmp(g->age[i], rcp) == 0)
			return SOTTO_OK;
	n = realloc(g->age, (g->nage + 1) * sizeof(*n));
	if (n == NULL)
		return SOTTO_E_NOMEM;
	g->age = n;
	if ((g->age[g->nage] = strdup(rcp)) == NULL)
		return SOTTO_E_NOMEM;
	g->nage++;
	return SOTTO_OK;
}

bool
cli_rgroup_remove(struct cli_rgroup *g, const char *rcp)
{
	size_t i;

	for (i = 0; i < g->nage; i++) {
		if (strcmp(g->age[i], rcp) != 0)
			continue;
		free(g->age[i]);
		memmove(&g->age[i], &g->age[i + 1], (g->nage - i - 1) *
		    sizeof(g->age[0]));
		g->nage--;
		return true;
	}
	return false;
}

static sotto_err
read_group(struct cli_rgroup *g, const struct sotto_node *m)
{
	const struct sotto_node *age = sotto_tree_map_get(m, "age"), *r, *v;
	size_t i;

	memset(g, 0, sizeof(*g));
	for (i = 0; age != NULL && age->kind == SOTTO_NODE_SEQ && i < age->n;
	    i++) {
		if (age->items[i].val->kind != SOTTO_NODE_MAP)
			continue;
		r = sotto_tree_map_get(age->items[i].val, "recipient");
		if (r != NULL && r->kind == SOTTO_NODE_SCALAR &&
		    cli_rgroup_add(g, r->text) != SOTTO_OK)
			return SOTTO_E_NOMEM;
	}
	v = sotto_tree_map_get(m, "pgp");
	for (i = 0; v != NULL && v->kind == SOTTO_NODE_SEQ && i < v->n; i++) {
		if (v->items[i].val->kind != SOTTO_NODE_MAP)
			continue;
		r = sotto_tree_map_get(v->items[i].val, "fp");
		if (r != NULL && r->kind == SOTTO_NODE_SCALAR &&
		    sotto_sops_pgplist_add(&g->pgp, r->text) != SOTTO_OK)
			return SOTTO_E_NOMEM;
	}
	for (i = 1; other_types[i] != NULL; i++) {	/* [0] is pgp */
		v = sotto_tree_map_get(m, other_types[i]);
		if (v != NULL && v->kind == SOTTO_NODE_SEQ && v->n > 0)
			g->other |= 1u << i;
	}
	return SOTTO_OK;
}

sotto_err
cli_meta_groups(struct cli_rgroup **out, size_t *n, int *threshold,
    const struct sotto_node *meta, struct sotto_error *e)
{
	const struct sotto_node *kg = sotto_tree_map_get(meta, "key_groups");
	const struct sotto_node *t = sotto_tree_map_get(meta,
	    "shamir_threshold");
	size_t i, ng = kg != NULL && kg->kind == SOTTO_NODE_SEQ ? kg->n : 0;
	struct cli_rgroup *g;

	*out = NULL;
	*n = 0;
	*threshold = t != NULL && t->kind == SOTTO_NODE_SCALAR ?
	    (int)strtol(t->text, NULL, 10) : 0;
	g = calloc(ng ? ng : 1, sizeof(*g));
	if (g == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	for (i = 0; i < (ng ? ng : 1); i++)
		if (read_group(&g[i], ng ? kg->items[i].val : meta)) {
			cli_rgroups_free(g, ng ? ng : 1);
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		}
	*out = g;
	*n = ng ? ng : 1;
	return SOTTO_OK;
}

sotto_err
cli_other_type_names(struct sotto_buf *b, unsigned bits)
{
	size_t i;

	for (i = 0; other_types[i] != NULL; i++)
		if ((bits & (1u << i)) && (sotto_buf_addstr(b, b->len ? ", " :
		    "") || sotto_buf_addstr(b, other_types[i])))
			return SOTTO_E_NOMEM;
	return SOTTO_OK;
}

/* Index of the first entry whose key sorts after k (3.13 order). */
static size_t
sorted_pos(const struct sotto_node *m, const char *k)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->items[i].key != NULL && strcmp(m->items[i].key, k) > 0)
			return i;
	return m->n;
}

/* Sets key k of map m to v (taken), in place or at its sorted spot. */
static sotto_err
meta_put(struct sotto_node *m, const char *k, struct sotto_node *v)
{
	struct sotto_entry tmp;
	size_t i, at;

	for (i = 0; i < m->n; i++)
		if (m->items[i].key != NULL && strcmp(m->items[i].key, k) ==
		    0) {
			sotto_tree_node_free(m->items[i].val, false);
			m->items[i].val = v;
			return SOTTO_OK;
		}
	at = sorted_pos(m, k);
	if (sotto_tree_map_add(m, k, strlen(k), v) != SOTTO_OK) {
		sotto_tree_node_free(v, false);
		return SOTTO_E_NOMEM;
	}
	tmp = m->items[m->n - 1];
	memmove(&m->items[at + 1], &m->items[at], (m->n - 1 - at) *
	    sizeof(tmp));
	m->items[at] = tmp;
	return SOTTO_OK;
}

static void
meta_del(struct sotto_node *m, const char *k)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->items[i].key != NULL && strcmp(m->items[i].key, k) ==
		    0) {
			sotto_tree_node_free(m->items[i].val, false);
			free(m->items[i].key);
			memmove(&m->items[i], &m->items[i + 1], (m->n - i - 1) *
			    sizeof(m->items[0]));
			m->n--;
			return;
		}
}

static sotto_err
map_str(struct sotto_node *m, const char *k, const char *v)
{
	struct sotto_node *n = sotto_tree_new_scalar(SOTTO_T_STR, v, strlen(v));

	if (n == NULL)
		return SOTTO_E_NOMEM;
	if (sotto_tree_map_add(m, k, strlen(k), n) != SOTTO_OK) {
		sotto_tree_node_free(n, false);
		return SOTTO_E_NOMEM;
	}
	return SOTTO_OK;
}

/*
 * The age entries for recipients g wrapping payload; an entry of old (a
 * seq, may be NULL) for the same recipient is kept as is when reuse.
 */
static sotto_err
age_seq(struct sotto_node **out, const struct cli_rgroup *g,
    const struct sotto_node *old, bool reuse, const uint8_t *payload,
    size_t n, struct sotto_error *e)
{
	struct sotto_node *seq = sotto_tree_new_seq(), *ent;
	struct sotto_age_recipient *r = NULL;
	struct sotto_buf enc = SOTTO_BUF_INIT;
	const struct sotto_node *rv;
	size_t i, j;
	sotto_err err = SOTTO_OK;

	if (seq == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	for (i = 0; i < g->nage && err == SOTTO_OK; i++) {
		ent = NULL;
		for (j = 0; reuse && old != NULL && j < old->n && !ent; j++) {
			rv = sotto_tree_map_get(old->items[j].val, "recipient");
			if (rv != NULL && rv->kind == SOTTO_NODE_SCALAR &&
			    sotto_keys_recipient_equal(rv->text, g->age[i]))
				ent = sotto_tree_clone(old->items[j].val);
		}
		if (ent == NULL) {
			sotto_buf_truncate(&enc, 0);
			if ((err = sotto_age_recipient_parse(&r, g->age[i],
			    e)) != SOTTO_OK || (err = sotto_age_encrypt_mem(&enc,
			    payload, n, &r, 1, true, e)) != SOTTO_OK)
				break;
			ent = sotto_tree_new_map();
			if (ent == NULL || map_str(ent, "enc",
			    (const char *)enc.data) || map_str(ent, "recipient",
			    sotto_age_recipient_string(r)))
				err = sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
			sotto_age_recipient_free(r);
			r = NULL;
		}
		if (err == SOTTO_OK && (ent == NULL ||
		    sotto_tree_seq_add(seq, ent)))
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	sotto_buf_release(&enc);
	if (err != SOTTO_OK) {
		sotto_tree_node_free(seq, false);
		return err;
	}
	*out = seq;
	return SOTTO_OK;
}

static sotto_err
rewrap_shamir(struct sotto_node *m, const struct cli_rgroup *g, size_t n,
    int threshold, const uint8_t *key, struct sotto_error *e)
{
	struct sotto_secret **shares = calloc(n, sizeof(*shares));
	struct sotto_node *kg = sotto_tree_new_seq(), *grp, *seq, *t;
	char buf[16];
	size_t i;
	sotto_err err;

	if (shares == NULL || kg == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = sotto_shamir_split(shares, key, 32, (int)n, threshold,
	    e)) != SOTTO_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if ((err = age_seq(&seq, &g[i], NULL, false, shares[i]->data,
		    shares[i]->len, e)) != SOTTO_OK)
			goto out;
		grp = sotto_tree_new_map();
		if (grp == NULL || sotto_tree_map_add(grp, "age", 3, seq) ||
		    sotto_tree_seq_add(kg, grp)) {
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
			goto out;
		}
		if (g[i].pgp.n == 0)
			continue;
		/* a group's keys in sops' order: age, ..., pgp */
		if ((err = sotto_sops_pgp_entries(&seq, &g[i].pgp, NULL,
		    shares[i]->data, shares[i]->len, e)) != SOTTO_OK)
			goto out;
		if (sotto_tree_map_add(grp, "pgp", 3, seq) != SOTTO_OK) {
			sotto_tree_node_free(seq, false);
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
			goto out;
		}
	}
	meta_del(m, "age");
	meta_del(m, "pgp");
	snprintf(buf, sizeof(buf), "%d", threshold);
	t = sotto_tree_new_scalar(SOTTO_T_INT, buf, strlen(buf));
	if (t == NULL || meta_put(m, "shamir_threshold", t) ||
	    meta_put(m, "key_groups", kg)) {
		kg = NULL;
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	kg = NULL;
out:
	sotto_tree_node_free(kg, false);
	for (i = 0; shares != NULL && i < n; i++)
		sotto_secret_free(shares[i]);
	free(shares);
	return err;
}

/*
 * The flat form's `age` and `pgp` lists for g in m (a list left empty is
 * removed, as sops omits it); entries of old (the file's metadata, or
 * NULL) for keys that stay are kept as they are.
 */
static sotto_err
flat_keys(struct sotto_node *m, const struct cli_rgroup *g,
    const struct sotto_node *old, const uint8_t *key, struct sotto_error *e)
{
	struct sotto_node *seq;
	sotto_err err;

	if (g->nage == 0) {
		meta_del(m, "age");
	} else {
		if ((err = age_seq(&seq, g, old ? sotto_tree_map_get(old,
		    "age") : NULL, old != NULL, key, 32, e)) != SOTTO_OK)
			return err;
		if (meta_put(m, "age", seq) != SOTTO_OK)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
	}
	if (g->pgp.n == 0) {
		meta_del(m, "pgp");
		return SOTTO_OK;
	}
	if ((err = sotto_sops_pgp_entries(&seq, &g->pgp, old ?
	    sotto_tree_map_get(old, "pgp") : NULL, key, 32, e)) != SOTTO_OK)
		return err;
	if (meta_put(m, "pgp", seq) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

sotto_err
cli_meta_rewrap(struct sotto_node **out, const struct sotto_node *meta,
    const struct cli_rgroup *g, size_t n, int threshold, const uint8_t *key,
    struct sotto_error *e)
{
	struct sotto_node *m = sotto_tree_clone(meta);
	const struct sotto_node *kg = sotto_tree_map_get(meta, "key_groups");
	struct cli_rgroup *cur = NULL;
	size_t ncur = 0, i;
	unsigned other = 0;
	int t0;
	sotto_err err;

	*out = NULL;
	if (m == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if ((err = cli_meta_groups(&cur, &ncur, &t0, meta, e)) != SOTTO_OK)
		goto fail;
	for (i = 0; i < ncur; i++)
		other |= cur[i].other;
	if (n == 0 || (n > 1 && (threshold < 2 || threshold > (int)n))) {
		err = sotto_error_set(e, SOTTO_E_CONFIG, "invalid key groups: "
		    "%zu group(s) with a Shamir threshold of %d", n, threshold);
		goto fail;
	}
	if (n == 1 && kg == NULL) {
		/* flat form: other key types stay next to the new age list */
		if ((err = flat_keys(m, &g[0], meta, key, e)) != SOTTO_OK)
			goto fail;
	} else if (other != 0) {
		struct sotto_buf b = SOTTO_BUF_INIT;

		cli_other_type_names(&b, other);
		err = sotto_error_set(e, SOTTO_E_UNSUPPORTED, "cannot re-split "
		    "the data key for %s keys (sotto re-wraps only age and "
		    "pgp); remove them first", b.len ? (const char *)b.data :
		    "other");
		sotto_buf_release(&b);
		goto fail;
	} else if (n == 1) {
		meta_del(m, "key_groups");
		meta_del(m, "shamir_threshold");
		if ((err = flat_keys(m, &g[0], NULL, key, e)) != SOTTO_OK)
			goto fail;
	} else if ((err = rewrap_shamir(m, g, n, threshold, key, e))) {
		goto fail;
	}
	cli_rgroups_free(cur, ncur);
	*out = m;
	return SOTTO_OK;
fail:
	cli_rgroups_free(cur, ncur);
	sotto_tree_node_free(m, false);
	return err;
}
