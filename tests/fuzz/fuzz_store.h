/* SPDX-License-Identifier: ISC */
/*
 * The shared body of the store fuzz harnesses (fuzz_json.c, fuzz_dotenv.c,
 * fuzz_ini.c): parse; an unchanged splice must reproduce the input byte
 * for byte; replacing every value by a fake ENC string and appending
 * metadata must re-parse with the metadata found; emit() and
 * emit_value() must not crash.  The including file defines STORE.
 */
#ifndef SOTTO_FUZZ_STORE_H
#define SOTTO_FUZZ_STORE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/store.h"
#include "sotto/tree.h"

static void
encrypt_all(struct sotto_node *n, size_t depth)
{
	static const char fake[] = "ENC[AES256_GCM,data:AA==,iv:AA==,"
	    "tag:AA==,type:str]";
	size_t i;

	if (depth > 64)
		return;
	if (n->kind == SOTTO_NODE_SCALAR || n->kind == SOTTO_NODE_COMMENT) {
		if (n->len > 0 && n->type != SOTTO_T_NULL)
			(void)sotto_tree_set_text(n, SOTTO_T_STR, fake,
			    sizeof(fake) - 1);
		return;
	}
	for (i = 0; i < n->n; i++)
		encrypt_all(n->items[i].val, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_doc *d = NULL, *d2 = NULL;
	struct sotto_buf out = SOTTO_BUF_INIT, enc = SOTTO_BUF_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_node *meta = NULL;

	lim.max_bytes = 1 << 20;
	lim.max_depth = 64;
	lim.max_nodes = 100000;
	if (STORE.parse(&d, data, size, "fuzz", &lim, &e) != SOTTO_OK)
		return 0;
	if (STORE.emit_splice(&out, d, d->meta[0], &e) != SOTTO_OK ||
	    out.len != size || (size > 0 && memcmp(out.data, data, size) != 0))
		abort();
	meta = sotto_tree_new_map();
	if (meta == NULL || sotto_tree_map_add(meta, "mac", 3,
	    sotto_tree_new_scalar(SOTTO_T_STR, "ENC[x]", 6)) != SOTTO_OK)
		goto out;
	encrypt_all(d->branches[0], 0);
	if (STORE.emit_splice(&enc, d, meta, &e) == SOTTO_OK &&
	    STORE.parse(&d2, enc.data, enc.len, "fuzz2", &lim, &e) ==
	    SOTTO_OK && d2->meta[0] == NULL)
		abort();
	sotto_buf_release(&out);
	(void)STORE.emit(&out, d, meta, NULL, &e);
	sotto_buf_release(&out);
	(void)STORE.emit_value(&out, d->branches[0], NULL, &e);
out:
	sotto_tree_node_free(meta, false);
	sotto_tree_doc_free(d);
	sotto_tree_doc_free(d2);
	sotto_buf_release(&out);
	sotto_buf_release(&enc);
	return 0;
}

#endif
