/* SPDX-License-Identifier: ISC */
/*
 * Stores: bytes <-> struct sotto_doc for YAML, JSON, dotenv, INI and
 * binary.  One `struct sotto_store` per format, found by name or by file
 * extension.
 *
 * parse:        source bytes -> doc.  The top-level "sops" entry of each
 *               branch (for dotenv: the sops_* lines; for INI: the [sops]
 *               section) is taken OUT of the branch and put, unflattened,
 *               into doc->meta[i] as a MAP, with its span recorded.
 * emit_splice:  for a doc parsed by this same store: copy doc->src,
 *               re-rendering only dirty scalars/comments in their original
 *               style, removing the old sops entries and, if meta != NULL,
 *               appending `meta` in this store's layout to every branch
 *               (sops-format.md §4.4).  Output is byte-identical to the
 *               source when nothing is dirty and meta is unchanged.
 * emit:         render a doc from scratch in this store's canonical layout
 *               (what sops would write), appending meta if not NULL.
 * emit_value:   render one node for --extract (scalar as the store encodes
 *               it; a branch as a document).
 * parse_buf:    parse, taking the caller's buffer as doc->src instead of
 *               copying it (NULL for a store that always copies); call it
 *               through sotto_store_parse_buf().
 */
#ifndef SOTTO_STORE_H
#define SOTTO_STORE_H

#include "sotto/buf.h"
#include "sotto/error.h"
#include "sotto/tree.h"

struct sotto_emit_opts {
	int indent;	/* -1 = store default (YAML 4, JSON tab) */
};

struct sotto_store {
	const char *name;	/* "yaml", "json", "dotenv", "ini", "binary" */
	sotto_err (*parse)(struct sotto_doc **out, const uint8_t *src,
	    size_t len, const char *name, const struct sotto_limits *lim,
	    struct sotto_error *e);
	sotto_err (*emit_splice)(struct sotto_buf *out,
	    const struct sotto_doc *doc, const struct sotto_node *meta,
	    struct sotto_error *e);
	sotto_err (*emit)(struct sotto_buf *out, const struct sotto_doc *doc,
	    const struct sotto_node *meta, const struct sotto_emit_opts *o,
	    struct sotto_error *e);
	sotto_err (*emit_value)(struct sotto_buf *out,
	    const struct sotto_node *n, const struct sotto_emit_opts *o,
	    struct sotto_error *e);
	void (*free_priv)(void *priv);	/* frees doc->store_priv */
	sotto_err (*parse_buf)(struct sotto_doc **out, struct sotto_buf *in,
	    const char *name, const struct sotto_limits *lim,
	    struct sotto_error *e);
};

extern const struct sotto_store sotto_store_yaml;
extern const struct sotto_store sotto_store_json;
extern const struct sotto_store sotto_store_dotenv;
extern const struct sotto_store sotto_store_ini;
extern const struct sotto_store sotto_store_binary;

/* By name ("yaml", "yml", "json", "dotenv", "env", "ini", "binary"). */
const struct sotto_store *sotto_store_by_name(const char *name);
/* By file extension as sops does it; anything unknown is binary. */
const struct sotto_store *sotto_store_for_path(const char *path);

/*
 * sops' stores.ValToString for a scalar: what the dotenv and INI stores
 * write for a value that is not a string, and what exec-env puts in the
 * environment.  Appends to out: a string (or comment) as it is; an int as
 * strconv.Itoa ("0x1F" from YAML gives "31"); a float as FormatFloat 'G'
 * shortest, with ".0" added when that reads as an integer ("1.0",
 * "200000.0", "2E-10", "-2E+10", "1.2345E+100"); a bool "true"/"false";
 * a time as RFC 3339 ("2025-01-02T00:00:00Z"); null as "<nil>" (Go's %v
 * of nil, which is what sops writes).  Errors: SOTTO_E_EMIT for a map or
 * a list (the caller names the key), SOTTO_E_NOMEM.
 */
sotto_err sotto_store_val_to_string(struct sotto_buf *out,
    const struct sotto_node *n);

/*
 * As s->parse() on in->data/in->len, but takes ownership of in: its storage
 * becomes the new doc's src when the store can use it as it is (no second
 * copy of a big file), and is released otherwise.  On return, whatever the
 * result, *in is empty and reusable.  Errors are those of s->parse().
 */
sotto_err sotto_store_parse_buf(const struct sotto_store *s,
    struct sotto_doc **out, struct sotto_buf *in, const char *name,
    const struct sotto_limits *lim, struct sotto_error *e);

/*
 * Why the value n of doc, parsed from doc->src and about to be
 * encrypted, will not decrypt to the bytes it was written as (a phrase
 * for a warning after "value at 'path'", e.g. "has a tag, which sops
 * does not keep: it decrypts untagged"), or NULL when it will, when n
 * was not parsed from the source as it is, or when the store does not
 * say.  The phrase is static text and never holds the value; n's text is
 * only read (it may be a secret).
 */
const char *sotto_store_roundtrip_note(const struct sotto_doc *doc,
    const struct sotto_node *n);

#endif
