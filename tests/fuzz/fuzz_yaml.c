/* SPDX-License-Identifier: ISC */
/* libFuzzer: YAML parse, mark every scalar dirty, splice, emit. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sotto/store.h"
#include "sotto/tree.h"

static void
dirty_all(struct sotto_node *n, int *k)
{
	size_t i;

	for (i = 0; i < n->n; i++) {
		struct sotto_node *v = n->items[i].val;

		if (v->kind == SOTTO_NODE_MAP || v->kind == SOTTO_NODE_SEQ)
			dirty_all(v, k);
		else if ((*k)++ % 2 == 0)
			(void)sotto_tree_set_text(v, SOTTO_T_STR, "ENC[x,y]", 8);
		else
			v->dirty = true;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sotto_limits lim = { 1 << 20, 64, 100000, 10000 };
	struct sotto_emit_opts o = { -1 };
	struct sotto_doc *d = NULL, *d2 = NULL;
	struct sotto_buf out = SOTTO_BUF_INIT, out2 = SOTTO_BUF_INIT;
	struct sotto_error e;
	size_t i;
	int k = 0;

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
	for (i = 0; i < d->n; i++)
		dirty_all(d->branches[i], &k);
	if (sotto_store_yaml.emit_splice(&out, d, d->meta[0], &e) ==
	    SOTTO_OK)
		(void)sotto_store_yaml.parse(&d2, out.data, out.len, "fuzz2",
		    &lim, &e);
	(void)sotto_store_yaml.emit(&out2, d, d->meta[0], &o, &e);
	if (d->n > 0)
		(void)sotto_store_yaml.emit_value(&out2, d->branches[0], &o,
		    &e);
	sotto_buf_release(&out);
	sotto_buf_release(&out2);
	sotto_tree_doc_free(d2);
	sotto_tree_doc_free(d);
	return 0;
}
