/* SPDX-License-Identifier: ISC */
/*
 * Binary store (sops-format.md §5.5): a plain file is one string under
 * "data"; an encrypted one is the JSON document {"data": "ENC[...]",
 * "sops": {...}}, which is parsed and written by the JSON store.
 */
#include "sotto/store.h"

#include <string.h>

#include "formats/storeutil.h"

static bool
looks_like_json_object(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i < len && s[i] == '{';
}

static sotto_err
bin_parse(struct sotto_doc **out, const uint8_t *src, size_t len,
    const char *name, const struct sotto_limits *lim, struct sotto_error *e)
{
	struct sotto_limits l = sotto_storeutil_limits(lim);
	struct sotto_error je = { SOTTO_OK, "" };
	struct sotto_doc *d = NULL;
	struct sotto_node *m = NULL, *v = NULL;

	*out = NULL;
	if (len > l.max_bytes)
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "'%s': input is %zu bytes, over the limit of %zu",
		    sotto_storeutil_name(name), len, l.max_bytes);
	if (looks_like_json_object(src, len)) {
		if (sotto_store_json.parse(&d, src, len, name, lim, &je) ==
		    SOTTO_OK) {
			if (d->meta[0] != NULL &&
			    sotto_tree_map_get(d->branches[0], "data") !=
			    NULL) {
				d->store = &sotto_store_binary;
				*out = d;
				return SOTTO_OK;
			}
			sotto_tree_doc_free(d);
		} else if (je.code == SOTTO_E_NOMEM)
			return sotto_error_set(e, je.code, "%s", je.msg);
	}
	d = sotto_tree_doc_new(name);
	if (d == NULL)
		goto nomem;
	d->store = &sotto_store_binary;
	if (sotto_buf_add(&d->src, src, len) != SOTTO_OK)
		goto nomem;
	m = sotto_tree_new_map();
	v = sotto_tree_new_scalar(SOTTO_T_STR, (const char *)src, len);
	if (m == NULL || v == NULL)
		goto nomem;
	v->src_start = 0;
	v->src_end = len;
	v->line = 1;
	if (sotto_tree_map_add(m, "data", 4, v) != SOTTO_OK)
		goto nomem;
	v = NULL;
	if (sotto_tree_doc_add(d, m) != SOTTO_OK)
		goto nomem;
	*out = d;
	return SOTTO_OK;
nomem:
	sotto_tree_node_free(v, true);
	sotto_tree_node_free(m, true);
	sotto_tree_doc_free(d);
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

/* sops' BinaryStore.EmitPlainFile: the first "data" value, a string. */
static sotto_err
bin_emit(struct sotto_buf *out, const struct sotto_doc *doc,
    const struct sotto_node *meta, const struct sotto_emit_opts *o,
    struct sotto_error *e)
{
	const struct sotto_node *data = NULL;

	if (meta != NULL)
		return sotto_store_json.emit(out, doc, meta, o, e);
	if (doc == NULL || doc->n != 1)
		return sotto_error_set(e, SOTTO_E_EMIT, "cannot write binary "
		    "output: there must be exactly one tree branch (%zu "
		    "documents)", doc != NULL ? doc->n : 0);
	if (doc->branches[0]->kind == SOTTO_NODE_MAP)
		data = sotto_tree_map_get(doc->branches[0], "data");
	if (data == NULL)
		return sotto_error_set(e, SOTTO_E_EMIT,
		    "no binary data found in tree");
	if (data->kind != SOTTO_NODE_SCALAR || (data->type != SOTTO_T_STR &&
	    data->type != SOTTO_T_BYTES))
		return sotto_error_set(e, SOTTO_E_EMIT, "cannot write binary "
		    "output: 'data' key in tree does not have a string value");
	if (sotto_buf_add(out, data->text, data->len) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

static sotto_err
bin_splice(struct sotto_buf *out, const struct sotto_doc *doc,
    const struct sotto_node *meta, struct sotto_error *e)
{
	return bin_emit(out, doc, meta, NULL, e);
}

static sotto_err
bin_emit_value(struct sotto_buf *out, const struct sotto_node *n,
    const struct sotto_emit_opts *o, struct sotto_error *e)
{
	(void)out;
	(void)n;
	(void)o;
	return sotto_error_set(e, SOTTO_E_EMIT,
	    "--extract is not supported for binary files");
}

const struct sotto_store sotto_store_binary = {
	"binary",
	bin_parse,
	bin_splice,
	bin_emit,
	bin_emit_value,
	NULL,
	NULL,	/* parse_buf: a failed JSON probe would need src back */
};
