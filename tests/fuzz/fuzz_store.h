/* SPDX-License-Identifier: ISC */
/*
 * The shared body of the store fuzz harnesses (fuzz_json.c, fuzz_dotenv.c,
 * fuzz_ini.c).  Properties, on any input the store parses (2 and 3 on
 * plaintexts, those without sops metadata):
 *   1. an unchanged splice reproduces the input byte for byte;
 *   2. encrypt: every value and comment replaced by a fake ENC string and
 *      metadata appended gives a file the store parses again, with the
 *      metadata found and the same leaves in the same order;
 *   3. decrypt: that file with each leaf set back to what was encrypted
 *      (the original type and text, as the sops layer does) splices to the
 *      input byte for byte, unless a leaf is flagged SOTTO_NODE_RESPELL
 *      (encrypt warns about those) or the JSON top-level object is empty
 *      (sops' "{}"); then it parses to the same leaves;
 *   4. emit() and emit_value() do not crash.
 * The including file defines STORE.
 */
#ifndef SOTTO_FUZZ_STORE_H
#define SOTTO_FUZZ_STORE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/store.h"
#include "sotto/tree.h"

#define FUZZ_MAX_LEAVES 4096

static const char fake_enc[] = "ENC[AES256_GCM,data:AA==,iv:AA==,"
    "tag:AA==,type:str]";

/* What encrypt touches: non-empty scalars (not null) and comments. */
static int
encryptable(const struct sotto_node *n)
{
	return (n->kind == SOTTO_NODE_SCALAR || n->kind == SOTTO_NODE_COMMENT) &&
	    n->len > 0 && n->type != SOTTO_T_NULL;
}

/* The encryptable leaves under n in tree order; -1 when too many. */
static int
leaves(struct sotto_node *n, struct sotto_node **v, size_t *k, size_t depth)
{
	size_t i;

	if (depth > 64)
		return 0;
	if (n->kind == SOTTO_NODE_SCALAR || n->kind == SOTTO_NODE_COMMENT) {
		if (!encryptable(n))
			return 0;
		if (*k == FUZZ_MAX_LEAVES)
			return -1;
		v[(*k)++] = n;
		return 0;
	}
	for (i = 0; i < n->n; i++)
		if (leaves(n->items[i].val, v, k, depth + 1) != 0)
			return -1;
	return 0;
}

/* A node under n flagged RESPELL (encrypted or not, e.g. empty). */
static int
any_respell(const struct sotto_node *n, size_t depth)
{
	size_t i;

	if (n->flags & SOTTO_NODE_RESPELL)
		return 1;
	if (depth > 64 || (n->kind != SOTTO_NODE_MAP &&
	    n->kind != SOTTO_NODE_SEQ))
		return 0;
	for (i = 0; i < n->n; i++)
		if (any_respell(n->items[i].val, depth + 1))
			return 1;
	return 0;
}

/* Same kind, type and value (numbers by sops' canonical form). */
static int
same_leaf(const struct sotto_node *a, const struct sotto_node *b)
{
	if (a->kind != b->kind || (a->kind == SOTTO_NODE_SCALAR &&
	    a->type != b->type))
		return 0;
	if (a->canon != NULL || b->canon != NULL)
		return strcmp(a->canon ? a->canon : a->text,
		    b->canon ? b->canon : b->text) == 0;
	return a->len == b->len &&
	    (a->len == 0 || memcmp(a->text, b->text, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sotto_node *v1[FUZZ_MAX_LEAVES], *vo[FUZZ_MAX_LEAVES];
	static struct sotto_node *v2[FUZZ_MAX_LEAVES], *v3[FUZZ_MAX_LEAVES];
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT, lim2;
	struct sotto_doc *d = NULL, *dor = NULL, *d2 = NULL, *d3 = NULL;
	struct sotto_buf out = SOTTO_BUF_INIT, enc = SOTTO_BUF_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_node *meta = NULL;
	size_t n1 = 0, no = 0, n2 = 0, n3 = 0, i;
	int respell = 0;

	lim.max_bytes = 1 << 20;
	lim.max_depth = 64;
	lim.max_nodes = 100000;
	lim2 = lim;
	lim2.max_bytes = 1 << 26;	/* ENC strings are longer */
	if (STORE.parse(&d, data, size, "fuzz", &lim, &e) != SOTTO_OK)
		return 0;
	/* 1 */
	if (STORE.emit_splice(&out, d, d->meta[0], &e) != SOTTO_OK ||
	    out.len != size || (size > 0 && memcmp(out.data, data, size) != 0))
		abort();
	sotto_buf_release(&out);
	meta = sotto_tree_new_map();
	if (meta == NULL || sotto_tree_map_add(meta, "mac", 3,
	    sotto_tree_new_scalar(SOTTO_T_STR, "ENC[x]", 6)) != SOTTO_OK)
		goto out;
	/* 2 and 3 are about plaintexts: an encrypted input only gets 1, 4 */
	if (d->n != 1 || d->meta[0] != NULL ||
	    STORE.parse(&dor, data, size, "fuzz", &lim, &e) !=
	    SOTTO_OK || leaves(d->branches[0], v1, &n1, 0) != 0 ||
	    leaves(dor->branches[0], vo, &no, 0) != 0 || n1 != no)
		goto emit;
	/* 2 */
	respell = any_respell(dor->branches[0], 0);
	for (i = 0; i < n1; i++) {
		if (sotto_tree_set_text(v1[i], v1[i]->kind ==
		    SOTTO_NODE_COMMENT ? v1[i]->type : SOTTO_T_STR, fake_enc,
		    sizeof(fake_enc) - 1) != SOTTO_OK)
			goto emit;
	}
	if (STORE.emit_splice(&enc, d, meta, &e) != SOTTO_OK)
		goto emit;
	if (STORE.parse(&d2, enc.data, enc.len, "fuzz2", &lim2, &e) !=
	    SOTTO_OK) {
		if (e.code == SOTTO_E_NOMEM || e.code == SOTTO_E_LIMIT)
			goto emit;
		abort();
	}
	if (d2->meta[0] == NULL || d2->n != 1 ||
	    leaves(d2->branches[0], v2, &n2, 0) != 0 || n2 != n1)
		abort();
	/* 3 */
	for (i = 0; i < n2; i++)
		if (sotto_tree_set_text(v2[i], vo[i]->type, vo[i]->text,
		    vo[i]->len) != SOTTO_OK ||
		    (vo[i]->canon != NULL && sotto_tree_set_canon(v2[i],
		    vo[i]->canon, strlen(vo[i]->canon)) != SOTTO_OK))
			goto emit;
	if (STORE.emit_splice(&out, d2, NULL, &e) != SOTTO_OK)
		abort();
	if (out.len == size && (size == 0 || memcmp(out.data, data, size) ==
	    0))
		goto emit;
	if (!respell && !(&STORE == &sotto_store_json &&
	    dor->branches[0]->n == 0))
		abort();
	if (STORE.parse(&d3, out.data, out.len, "fuzz3", &lim2, &e) !=
	    SOTTO_OK || leaves(d3->branches[0], v3, &n3, 0) != 0 || n3 != no)
		abort();
	for (i = 0; i < n3; i++)
		if (!same_leaf(v3[i], vo[i]))
			abort();
emit:
	/* 4 */
	sotto_buf_release(&out);
	(void)STORE.emit(&out, d, meta, NULL, &e);
	sotto_buf_release(&out);
	(void)STORE.emit_value(&out, d->branches[0], NULL, &e);
out:
	sotto_tree_node_free(meta, false);
	sotto_tree_doc_free(d);
	sotto_tree_doc_free(dor);
	sotto_tree_doc_free(d2);
	sotto_tree_doc_free(d3);
	sotto_buf_release(&out);
	sotto_buf_release(&enc);
	return 0;
}

#endif
