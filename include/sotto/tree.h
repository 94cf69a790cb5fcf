/* SPDX-License-Identifier: ISC */
/*
 * The ordered document tree every store parses into and emits from.
 *
 * A document is a list of branches (one per YAML document; exactly one for
 * JSON, dotenv, INI and binary).  A branch is a MAP node.  MAP nodes hold
 * (key, value) entries; SEQ nodes hold items; COMMENT nodes may appear in
 * both (in key position of a map: entry.key == NULL, value = COMMENT node).
 *
 * Byte-faithful round trip: a node parsed from source remembers the byte
 * span [src_start, src_end) of its scalar text in doc->src and a
 * store-specific `style`.  Layers above change a scalar by setting
 * `dirty`; a store's emit_splice() then copies the source and re-renders
 * only the dirty spans (in the original style), so everything else —
 * comments, spacing, quoting, key order — is reproduced byte for byte.
 *
 * Scalar text: `text` is the decoded value (for a string, its bytes; for
 * int/float/bool, the spelling as written, e.g. "0x1F", "1.50", "TRUE";
 * for a comment, the text after the comment marker, leading space kept).
 * `canon` is sops' canonical serialisation (spec sops-format.md §1.1) used
 * for the MAC and for the bytes encrypted when the spelling is not one Go
 * accepts back; NULL means "same as text".
 *
 * Memory: every node/string is owned by its parent; sotto_tree_doc_free()
 * frees all of it and wipes scalar text when doc->secret is set.
 *
 * Arenas: a store may allocate the nodes of a big document, with their
 * text and canon, from a struct sotto_arena (node->arena != NULL) instead
 * of one malloc() each.  Nothing changes for callers: such a node is
 * freed with sotto_tree_node_free() like any other (it only drops a
 * reference; the arena's blocks go, wiped, when the last node and the doc
 * are gone, so a branch detached from its doc stays valid), set_text() and
 * set_canon() allocate from the node's arena, and keys and items arrays
 * are always plain malloc() memory (callers may free()/realloc() them).
 * Never free() a node's text, canon or the node itself directly.  Arenas
 * are not thread-safe: a tree belongs to one thread at a time.
 */
#ifndef SOTTO_TREE_H
#define SOTTO_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sotto/buf.h"
#include "sotto/error.h"

enum sotto_node_kind {
	SOTTO_NODE_MAP,
	SOTTO_NODE_SEQ,
	SOTTO_NODE_SCALAR,
	SOTTO_NODE_COMMENT,
};

enum sotto_scalar_type {
	SOTTO_T_STR,
	SOTTO_T_INT,
	SOTTO_T_FLOAT,
	SOTTO_T_BOOL,
	SOTTO_T_NULL,
	SOTTO_T_TIME,	/* only for an explicit YAML !!timestamp tag */
	SOTTO_T_BYTES,	/* legacy sops decode side only */
};

#define SOTTO_SPAN_NONE ((size_t)-1)

/*
 * node->flags bits shared by all stores.  SOTTO_NODE_NONCANON: the scalar's
 * spelling (text) is not one Go's strconv parser accepts back with the same
 * value (e.g. YAML "0x1F", "1_000", ".inf", "010"), so the encrypt layer must
 * encrypt canon instead of text (and may warn that it was normalised).
 */
#define SOTTO_NODE_NONCANON 0x1u
/*
 * SOTTO_NODE_TEXT_REF: the scalar's text is borrowed from doc->src (see
 * sotto_tree_new_scalar_ref_in()): exactly len bytes, NOT NUL-terminated.
 * Read it as (text, len).  sotto_tree_set_text() and _take_text() drop the
 * bit; sotto_tree_clone() gives the copy its own, NUL-terminated text.
 */
#define SOTTO_NODE_TEXT_REF 0x2u
/*
 * SOTTO_NODE_RESPELL: the scalar's source spelling cannot be rebuilt from
 * its value once encrypted (e.g. a JSON string written with "\u00e9" or
 * "\/": the ciphertext holds the characters, not the escapes), so a
 * decrypt writes the same value spelled another way.  The encrypt layer
 * warns, naming the key path, when such a value is encrypted.
 */
#define SOTTO_NODE_RESPELL 0x4u

struct sotto_node;

struct sotto_entry {
	char *key;		/* map key (NUL-terminated; may hold NUL if
				   keylen says so); NULL for comment items
				   and sequence items */
	size_t keylen;		/* bytes of key */
	struct sotto_node *val;	/* value (owned) */
};

/* Fields are grouped by size so that a node takes 104 bytes, not 120: a
 * large document holds hundreds of thousands of them. */
struct sotto_node {
	enum sotto_node_kind kind;	/* what this is */
	/* SCALAR and COMMENT */
	enum sotto_scalar_type type;	/* scalar type */
	/* MAP and SEQ */
	struct sotto_entry *items;	/* entries / items in order */
	size_t n, cap;			/* count, allocated */
	/* SCALAR and COMMENT */
	char *text;			/* decoded text, NUL-terminated
					   unless SOTTO_NODE_TEXT_REF */
	size_t len;			/* bytes of text */
	char *canon;			/* canonical sops form or NULL */
	/* source position (SOTTO_SPAN_NONE when built in memory) */
	size_t src_start, src_end;	/* span of the value in doc->src */
	size_t line;			/* 1-based line, for messages */
	int style;			/* store-specific rendering style */
	unsigned flags;			/* SOTTO_NODE_* bits (low byte) and
					   store-specific bits (0x100 up) */
	struct sotto_arena *arena;	/* node, text and canon live in this
					   arena (one reference); NULL: each
					   is its own malloc() block */
	bool inline_comment;		/* comment on the same line as a value */
	bool dirty;			/* text changed: re-render on splice */
};

struct sotto_doc {
	struct sotto_node **branches;	/* one MAP per document */
	size_t n, cap;			/* count, allocated */
	struct sotto_node **meta;	/* per branch: its "sops" value or NULL
					   (extracted, not in the branch) */
	size_t *meta_start, *meta_end;	/* per branch: span of the whole sops
					   entry in src (for removal) or NONE */
	struct sotto_buf src;		/* the source bytes (owned) */
	const char *name;		/* file name for messages (borrowed) */
	const struct sotto_store *store; /* store that parsed it */
	bool secret;			/* wipe scalar text on free */
	void *store_priv;		/* store-specific extra state (owned
					   by the store; freed via store) */
	struct sotto_arena *arena;	/* arena the store built the tree in
					   (one reference), or NULL */
	size_t alias_bytes;		/* bytes YAML aliases copied at parse
					   (as max_alias_bytes counts them),
					   for a caller's own budget */
	bool nodoc;			/* the source held no document at all
					   (a YAML stream of blanks and
					   comments): the one empty branch is
					   a stand-in, and sops refuses to
					   encrypt such a file */
};

/* Constructors.  All return NULL on out-of-memory. */
struct sotto_node *sotto_tree_new_map(void);
struct sotto_node *sotto_tree_new_seq(void);
struct sotto_node *sotto_tree_new_scalar(enum sotto_scalar_type t,
    const char *text, size_t len);
struct sotto_node *sotto_tree_new_comment(const char *text, size_t len);
/* Appends (takes ownership of val; key copied, may be NULL). */
sotto_err sotto_tree_map_add(struct sotto_node *map, const char *key,
    size_t keylen, struct sotto_node *val);
sotto_err sotto_tree_seq_add(struct sotto_node *seq, struct sotto_node *val);
/* Replaces a scalar's text (and clears canon); marks it dirty. */
sotto_err sotto_tree_set_text(struct sotto_node *n, enum sotto_scalar_type t,
    const char *text, size_t len);
/* Sets canon (copied; NULL clears). */
sotto_err sotto_tree_set_canon(struct sotto_node *n, const char *canon,
    size_t len);
/* Map lookup by key (first match); NULL if absent. */
struct sotto_node *sotto_tree_map_get(const struct sotto_node *map,
    const char *key);
/* Deep copy (spans kept). */
struct sotto_node *sotto_tree_clone(const struct sotto_node *n);
/* Frees a node recursively; wipe: zero scalar text first. */
void sotto_tree_node_free(struct sotto_node *n, bool wipe);

struct sotto_doc *sotto_tree_doc_new(const char *name);
/* Appends a branch (takes ownership). */
sotto_err sotto_tree_doc_add(struct sotto_doc *d, struct sotto_node *branch);
void sotto_tree_doc_free(struct sotto_doc *d);

/*
 * Arenas (see "Arenas" above).  sotto_tree_arena_new() returns an arena
 * holding one reference (the caller's), or NULL on out-of-memory;
 * sotto_tree_arena_unref() drops one (NULL is a no-op) and, at zero, wipes
 * and frees every block.  The *_in constructors are the plain ones with
 * the node allocated from a (a NULL arena means malloc()); each node takes
 * a reference.  Touches secret bytes only to wipe them.
 */
struct sotto_arena;
struct sotto_arena *sotto_tree_arena_new(void);
void sotto_tree_arena_unref(struct sotto_arena *a);
struct sotto_node *sotto_tree_new_map_in(struct sotto_arena *a);
struct sotto_node *sotto_tree_new_seq_in(struct sotto_arena *a);
struct sotto_node *sotto_tree_new_scalar_in(struct sotto_arena *a,
    enum sotto_scalar_type t, const char *text, size_t len);
struct sotto_node *sotto_tree_new_comment_in(struct sotto_arena *a,
    const char *text, size_t len);
/*
 * A scalar whose text is the len bytes at text, borrowed, not copied (the
 * node is flagged SOTTO_NODE_TEXT_REF), for a parser keeping big values out
 * of the arena.  text must lie in the doc->src of the doc that owns a (it
 * is never written, wiped or freed through the node); a keeps that source
 * alive, as long as any node in a lives, once sotto_tree_doc_free() has
 * run.  a must not be NULL.  NULL on out-of-memory.
 */
struct sotto_node *sotto_tree_new_scalar_ref_in(struct sotto_arena *a,
    enum sotto_scalar_type t, const char *text, size_t len);
/*
 * n bytes of uninitialised memory from n's arena (malloc() when n->arena is
 * NULL), for a text about to be passed to sotto_tree_take_text().  NULL on
 * out-of-memory.
 */
char *sotto_tree_text_alloc(struct sotto_node *n, size_t size);
/*
 * As sotto_tree_set_text() with text (len bytes + NUL, from
 * sotto_tree_text_alloc() for this node) taken instead of copied.
 */
void sotto_tree_take_text(struct sotto_node *n, enum sotto_scalar_type t,
    char *text, size_t len);

/* Name of a scalar type as sops writes it ("str", "int", ...). */
const char *sotto_tree_type_name(enum sotto_scalar_type t);

/*
 * Limits for untrusted input, checked by every store's parser.  Start from
 * SOTTO_LIMITS_DEFAULT and change fields: the initialiser is positional.
 */
struct sotto_limits {
	size_t max_bytes;	/* whole input (default 256 MiB) */
	size_t max_depth;	/* nesting depth (default 256) */
	size_t max_nodes;	/* total nodes (default 10 million) */
	size_t max_alias;	/* YAML alias expansions, in nodes (default
				   1 million; billion-laughs guard) */
	size_t max_alias_bytes;	/* YAML alias expansions, in bytes copied:
				   nodes, entries, text and keys (default
				   64 MiB, the rendered-stream cap: a
				   document that grows past it through
				   aliases cannot be rendered anyway, and
				   the bound holds whatever the input size) */
};
#define SOTTO_LIMITS_DEFAULT \
	{ (size_t)256 << 20, 256, 10000000, 1000000, (size_t)64 << 20 }

#endif
