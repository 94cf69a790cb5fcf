/* SPDX-License-Identifier: ISC */
/*
 * Private helpers shared by the JSON, dotenv, INI and binary stores:
 * splice edit lists, Go-compatible float formatting, sops metadata
 * (un)flattening for dotenv/INI, metadata comparison and limit defaults.
 * Not part of the public API; only src/formats/ includes this.
 */
#ifndef SOTTO_FORMATS_STOREUTIL_H
#define SOTTO_FORMATS_STOREUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sotto/buf.h"
#include "sotto/error.h"
#include "sotto/tree.h"

/* One replacement of src[start, end) (end == start: insertion). */
struct sotto_edit {
	size_t start, end;	/* span in the source */
	size_t seq;		/* insertion order, tie-breaker */
	char *text;		/* replacement bytes (owned, wiped on free) */
	size_t len;		/* bytes of text */
};

struct sotto_edits {
	struct sotto_edit *v;	/* edits */
	size_t n, cap;		/* count, allocated */
};

/* Adds a copy of p[0, len) as the replacement of [start, end). */
sotto_err sotto_storeutil_edit(struct sotto_edits *ed, size_t start,
    size_t end, const void *p, size_t len);
/* Appends src with every edit applied (sorted by position). */
sotto_err sotto_storeutil_apply(struct sotto_buf *out, const uint8_t *src,
    size_t len, struct sotto_edits *ed, struct sotto_error *e);
/* Wipes and frees the edit list (reusable afterwards). */
void sotto_storeutil_edits_free(struct sotto_edits *ed);

/*
 * Fills a new doc's src (empty) with the len bytes at src: copies them when
 * take is NULL; otherwise moves *take (whose data is src) into it, leaving
 * *take empty.  SOTTO_E_NOMEM on out-of-memory (nothing is moved then).
 */
sotto_err sotto_storeutil_set_src(struct sotto_buf *dst, const uint8_t *src,
    size_t len, struct sotto_buf *take);

/* Limits: lim, or the defaults when lim is NULL. */
struct sotto_limits sotto_storeutil_limits(const struct sotto_limits *lim);

/*
 * Go strconv.FormatFloat(v, fmt, -1, 64) for fmt 'f', 'e', 'g', 'G', and
 * 'j' for encoding/json's float64 encoding.  Non-finite values are written
 * as Go does ("+Inf", "-Inf", "NaN"); 'j' refuses them (SOTTO_E_EMIT).
 */
sotto_err sotto_storeutil_float(struct sotto_buf *out, double v, int fmt);
/* sops ValToString for a float: 'G', or 'f' with one decimal when that
 * has neither '.' nor 'E' ("1.0", "200000.0", "2E-10", "-2E+10"). */
sotto_err sotto_storeutil_float_valstr(struct sotto_buf *out, double v);
/*
 * The value of a number or bool scalar as Go reads it: its text, else its
 * canon (a YAML spelling such as "0x1F" or ".inf" has its Go form there).
 * False when neither parses.
 */
bool sotto_storeutil_node_float(const struct sotto_node *n, double *v);
bool sotto_storeutil_node_int(const struct sotto_node *n, int64_t *v);
bool sotto_storeutil_node_bool(const struct sotto_node *n, bool *v);
/*
 * A time scalar as Go's time.Format writes it: RFC 3339 (nano false, as
 * ValToString) or RFC3339Nano (as encoding/json).  Text that is no
 * timestamp is written as it is.  SOTTO_E_NOMEM.
 */
sotto_err sotto_storeutil_time(struct sotto_buf *out,
    const struct sotto_node *n, bool nano);
/* Parses a Go bool (ParseBool); false on anything else. */
bool sotto_storeutil_parse_bool(const char *s, size_t len, bool *v);

/* Deep equality of two metadata trees (kinds, keys, types, texts). */
bool sotto_storeutil_equal(const struct sotto_node *a,
    const struct sotto_node *b);

/* A flattened metadata line: key (without prefix) and string value. */
struct sotto_flat {
	char *key;	/* e.g. "age__list_0__map_enc" */
	char *val;	/* value; newlines kept (callers escape) */
	size_t vlen;	/* bytes of val */
};

/*
 * Flattens `meta` (a MAP) into `*out` (array of *n items), in tree order;
 * NULL scalars and empty containers give no line.  When sort is set the
 * result is sorted by key bytes, as sops 3.13 writes it.
 */
sotto_err sotto_storeutil_flatten(struct sotto_flat **out, size_t *n,
    const struct sotto_node *meta, bool sort, struct sotto_error *e);
void sotto_storeutil_flat_free(struct sotto_flat *f, size_t n);

/*
 * Adds one flattened key (no prefix) with string value to the metadata MAP
 * *root (created on first use).  Lists are filled by index; call
 * sotto_storeutil_unflatten_done() at the end to check them.  replace:
 * a duplicate overwrites (go-ini) instead of failing (dotenv).
 */
sotto_err sotto_storeutil_unflatten_add(struct sotto_node **root,
    const char *key, size_t klen, const char *val, size_t vlen, bool replace,
    const char *name, size_t line, struct sotto_error *e);
sotto_err sotto_storeutil_unflatten_done(struct sotto_node *root,
    const char *name, struct sotto_error *e);

/* Name for messages: name or "<stdin>"-like placeholder when NULL. */
const char *sotto_storeutil_name(const char *name);

#endif
