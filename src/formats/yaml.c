/* SPDX-License-Identifier: ISC */
/*
 * The YAML store: libyaml's event API -> struct sotto_doc and back.
 *
 * Typing follows go-yaml v3 (what sops uses) for untagged plain scalars:
 * see resolve() below and sops-format.md §5.1.
 *
 * Spans (node->src_start/src_end, byte offsets in doc->src):
 *   plain         the scalar text as written (may span lines);
 *   single/double the text including its quotes;
 *   literal/folded from the '|' or '>' indicator to the end of the last
 *                 content line (its line break and any trailing blank lines
 *                 are outside the span); the header comment, if any, is
 *                 not re-rendered (splice rewrites the indicator and the
 *                 content lines separately);
 *   comment       from '#' to the end of the line, line break (and a CR
 *                 before it) excluded.
 * node->style is one of YS_* below; for block scalars bits 8 and up hold
 * the content indentation of the block.  flags bits 16 and up hold the
 * column a value written anew indents from: for a block scalar the
 * enclosing collection's (for an indentation indicator), for a plain or
 * quoted one and for an alias its key's or its "-"'s.
 *
 * Comments: libyaml reports none, so parse() scans the bytes outside
 * scalar spans for '#' at a line start or after a blank.  A comment on a
 * line of its own goes into the innermost open collection whose column is
 * not right of the comment, in byte order among its items; an inline
 * comment (after a value on the same line) goes just before the entry or
 * item that starts on its line, as sops does with go-yaml line comments.
 *
 * Aliases are expanded into deep copies flagged YF_ALIAS; the copy's root
 * (YF_ALIASROOT) spans the "*name" token, and emit_splice() writes the
 * copy out there when something in it changed (sops has no aliases).
 *
 * emit_splice() copies the source and re-renders what changed: scalars in
 * their own style (printed as sops prints a value where the style must
 * change), entries removed or added (structural_edits(), which parses the
 * source again to see where each item was), the sops entry.  It falls
 * back to emit() (sops' layout) for a flow-mapping document that changed
 * and for what the structural edits cannot express.  What cannot come
 * back as written from an encryption is said per value by
 * sotto_yaml_roundtrip_note().
 */
#include "sotto/store.h"

#include <yaml.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/gofmt.h"

#include "formats/storeutil.h"
#include "formats/yaml.h"

enum ystyle {
	YS_PLAIN = 0,
	YS_SINGLE = 1,
	YS_DOUBLE = 2,
	YS_LITERAL = 3,
	YS_FOLDED = 4,
	YS_FLOWCOLL = 5,	/* a flow collection ({...} or [...]) */
};
#define YS_MASK 0xff
#define YF_ALIAS 0x100u		/* copied from an alias: no span */
#define YF_FLOW 0x200u		/* scalar inside a flow collection */
#define YF_TYPETAG 0x400u	/* scalar tagged !!int, !!float, !!bool,
				   !!timestamp or !!null */
#define YF_ALIAS1 0x800u	/* first value of an alias's copy */
#define YF_ALIASROOT 0x1000u	/* the copy made for an alias: its span is
				   the "*name" token, its parent column in
				   the bits from YF_PARENT_SHIFT */
#define YF_INSEQ 0x2000u	/* alias root, plain or quoted scalar: a
				   sequence item */
#define YF_NOCOL 0xffffu	/* parent column unknown */
#define YF_PARENT_SHIFT 16

/* ------------------------------------------------------------------ */
/* small helpers */

static void *
grow_array(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return p;
	ncap = *cap ? *cap : 8;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem)
			return NULL;
		ncap *= 2;
	}
	np = realloc(p, ncap * elem);
	if (np == NULL)
		return NULL;
	*cap = ncap;
	return np;
}

#define ARR_PUSH(arr, n, cap) \
	(((arr) = grow_array((arr), &(cap), (n) + 1, sizeof(*(arr)))) != NULL)

static bool
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* ------------------------------------------------------------------ */
/* libyaml marks count characters; map them to byte offsets */

#define CK_STEP 1024

struct cmap {
	const uint8_t *s;
	size_t len, base;	/* base: skipped BOM */
	bool ascii;
	size_t *ck, nck;	/* byte offset of char k * CK_STEP */
	size_t cur_c, cur_b;	/* last lookup */
};

static size_t
u8len(uint8_t c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

static sotto_err
cmap_init(struct cmap *m, const uint8_t *s, size_t len)
{
	size_t i, c, cap = 0;

	memset(m, 0, sizeof(*m));
	m->s = s;
	m->len = len;
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		m->base = 3;
	m->ascii = true;
	for (i = m->base; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ull)
			break;
	}
	for (; i < len; i++)
		if (s[i] >= 0x80) {
			m->ascii = false;
			break;
		}
	if (m->ascii)
		return SOTTO_OK;
	for (i = m->base, c = 0; i < len; c++) {
		if (c % CK_STEP == 0) {
			if (!ARR_PUSH(m->ck, m->nck, cap))
				return SOTTO_E_NOMEM;
			m->ck[m->nck++] = i;
		}
		i += u8len(s[i]);
	}
	m->cur_b = m->base;
	return SOTTO_OK;
}

static size_t
cmap_off(struct cmap *m, size_t idx)
{
	size_t c, b;

	if (m->ascii)
		return m->base + idx > m->len ? m->len : m->base + idx;
	if (idx >= m->cur_c && idx - m->cur_c < CK_STEP) {
		c = m->cur_c;
		b = m->cur_b;
	} else {
		size_t k = idx / CK_STEP;

		if (k >= m->nck)
			k = m->nck ? m->nck - 1 : 0;
		c = k * CK_STEP;
		b = m->nck ? m->ck[k] : m->base;
	}
	while (c < idx && b < m->len) {
		b += u8len(m->s[b]);
		c++;
	}
	if (b > m->len)
		b = m->len;
	m->cur_c = c;
	m->cur_b = b;
	return b;
}

/* ------------------------------------------------------------------ */
/* go-yaml v3 resolver (resolve.go) and Go strconv bits */

enum rtag { R_STR, R_INT, R_UINT, R_FLOAT, R_BOOL, R_NULL, R_TIME };

struct rval {
	int64_t i;
	uint64_t u;
	double f;
	bool b;
	char ts[64];		/* RFC 3339 nano form of a timestamp */
};

static int
digitval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* strconv.ParseUint(s, 0, 64). */
static bool
go_parse_uint0(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	int base = 10, d;

	if (n == 0)
		return false;
	if (s[0] == '0') {
		if (n >= 3 && (s[1] | 0x20) == 'b') {
			base = 2;
			i = 2;
		} else if (n >= 3 && (s[1] | 0x20) == 'o') {
			base = 8;
			i = 2;
		} else if (n >= 3 && (s[1] | 0x20) == 'x') {
			base = 16;
			i = 2;
		} else {
			base = 8;
			i = 1;
		}
	}
	for (; i < n; i++) {
		d = digitval((unsigned char)s[i]);
		if (d >= base)
			return false;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = v;
	return true;
}

/* strconv.ParseInt(s, 0, 64). */
static bool
go_parse_int0(const char *s, size_t n, int64_t *out)
{
	bool neg = false;
	uint64_t u;

	if (n == 0)
		return false;
	if (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-';
		s++;
		n--;
	}
	if (!go_parse_uint0(s, n, &u))
		return false;
	if (!neg && u > (uint64_t)INT64_MAX)
		return false;
	if (neg && u > (uint64_t)INT64_MAX + 1)
		return false;
	*out = neg ? (int64_t)(0 - u) : (int64_t)u;
	return true;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool
yaml_style_float(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i < n && s[i] == '.') {
		i++;
		for (d = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
		if (d == 0)
			return false;
	} else {
		for (d = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
		if (d == 0)
			return false;
		if (i < n && s[i] == '.') {
			i++;
			while (i < n && s[i] >= '0' && s[i] <= '9')
				i++;
		}
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
		if (d == 0)
			return false;
	}
	return i == n;
}

static size_t
getnum(const char *s, size_t n, size_t *i, size_t min, size_t max, int *v)
{
	size_t k = 0;

	*v = 0;
	while (*i < n && k < max && s[*i] >= '0' && s[*i] <= '9') {
		*v = *v * 10 + (s[*i] - '0');
		(*i)++;
		k++;
	}
	return k >= min ? k : 0;
}

static int
days_in(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/*
 * go-yaml parseTimestamp: "2006-1-2T15:4:5.999999999Z07:00" (T or t),
 * "2006-1-2 15:4:5.999999999" or "2006-1-2".  On success writes the
 * RFC 3339 nano form Go's MarshalText gives.
 */
static bool
parse_timestamp(const char *s, size_t n, char *ts, size_t tscap)
{
	int y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0;
	char frac[16] = "";
	size_t i = 0, fl = 0;
	int sign = 0;
	bool zone = false;

	if (getnum(s, n, &i, 4, 4, &y) == 0 || i >= n || s[i] != '-')
		return false;
	i++;
	if (getnum(s, n, &i, 1, 2, &mo) == 0 || i >= n || s[i] != '-')
		return false;
	i++;
	if (getnum(s, n, &i, 1, 2, &d) == 0)
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo))
		return false;
	if (i < n) {
		bool tz = s[i] == 'T' || s[i] == 't';

		if (!tz && s[i] != ' ')
			return false;
		i++;
		if (getnum(s, n, &i, 1, 2, &h) == 0 || i >= n || s[i] != ':')
			return false;
		i++;
		if (getnum(s, n, &i, 1, 2, &mi) == 0 || i >= n || s[i] != ':')
			return false;
		i++;
		if (getnum(s, n, &i, 1, 2, &se) == 0)
			return false;
		if (i < n && s[i] == '.') {
			i++;
			while (i < n && s[i] >= '0' && s[i] <= '9') {
				if (fl < 9)
					frac[fl++] = s[i];
				i++;
			}
			if (fl == 0)
				return false;
			frac[fl] = '\0';
		}
		if (tz) {
			if (i < n && s[i] == 'Z') {
				i++;
				zone = true;
			} else if (i < n && (s[i] == '+' || s[i] == '-')) {
				sign = s[i] == '-' ? -1 : 1;
				i++;
				if (getnum(s, n, &i, 2, 2, &oh) == 0 ||
				    i >= n || s[i] != ':')
					return false;
				i++;
				if (getnum(s, n, &i, 2, 2, &om) == 0)
					return false;
				zone = true;
			}
			if (!zone)
				return false;
		}
		if (i != n || h > 23 || mi > 59 || se > 59)
			return false;
	}
	while (fl > 0 && frac[fl - 1] == '0')
		frac[--fl] = '\0';
	if (ts != NULL) {
		char z[16];

		if (sign == 0 || (oh == 0 && om == 0))
			snprintf(z, sizeof(z), "Z");
		else
			snprintf(z, sizeof(z), "%c%02d:%02d",
			    sign < 0 ? '-' : '+', oh, om);
		snprintf(ts, tscap, "%04d-%02d-%02dT%02d:%02d:%02d%s%s%s", y,
		    mo, d, h, mi, se, fl ? "." : "", frac, z);
	}
	return true;
}

static bool
streq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static bool
in_list(const char *s, size_t n, const char *const *l)
{
	for (; *l != NULL; l++)
		if (streq(s, n, *l))
			return true;
	return false;
}

static const char *const r_true[] = { "true", "True", "TRUE", NULL };
static const char *const r_false[] = { "false", "False", "FALSE", NULL };
static const char *const r_null[] = { "", "~", "null", "Null", "NULL", NULL };
static const char *const r_nan[] = { ".nan", ".NaN", ".NAN", NULL };
static const char *const r_inf[] = { ".inf", ".Inf", ".INF", "+.inf",
	"+.Inf", "+.INF", NULL };
static const char *const r_ninf[] = { "-.inf", "-.Inf", "-.INF", NULL };

/*
 * resolve(tag, in) of go-yaml v3 for a resolvable tag; want_ts: the tag
 * is "" or !!timestamp.  Returns the resolved kind and fills v.
 */
static enum rtag
resolve_plain(const char *s, size_t n, bool want_ts, struct rval *v)
{
	char hint, *plain = NULL;
	size_t i, pn;
	enum rtag r = R_STR;

	if (n == 0)
		hint = 'N';
	else if (s[0] == '+' || s[0] == '-')
		hint = 'S';
	else if (s[0] >= '0' && s[0] <= '9')
		hint = 'D';
	else if (s[0] == 'y' || s[0] == 'Y' || s[0] == 'n' || s[0] == 'N' ||
	    s[0] == 't' || s[0] == 'T' || s[0] == 'f' || s[0] == 'F' ||
	    s[0] == 'o' || s[0] == 'O' || s[0] == '~')
		hint = 'M';
	else if (s[0] == '.')
		hint = '.';
	else
		hint = 0;
	if (hint == 0)
		return R_STR;
	if (in_list(s, n, r_true) || in_list(s, n, r_false)) {
		v->b = s[0] == 't' || s[0] == 'T';
		return R_BOOL;
	}
	if (in_list(s, n, r_null))
		return R_NULL;
	if (in_list(s, n, r_nan)) {
		v->f = NAN;
		return R_FLOAT;
	}
	if (in_list(s, n, r_inf)) {
		v->f = INFINITY;
		return R_FLOAT;
	}
	if (in_list(s, n, r_ninf)) {
		v->f = -INFINITY;
		return R_FLOAT;
	}
	if (hint == '.') {
		if (sotto_gofmt_parse_float(s, n, &v->f))
			return R_FLOAT;
		return R_STR;
	}
	if (hint != 'D' && hint != 'S')
		return R_STR;
	if (want_ts && parse_timestamp(s, n, v->ts, sizeof(v->ts)))
		return R_TIME;
	plain = malloc(n + 1);
	if (plain == NULL)
		return R_STR;
	for (i = 0, pn = 0; i < n; i++)
		if (s[i] != '_')
			plain[pn++] = s[i];
	plain[pn] = '\0';
	if (go_parse_int0(plain, pn, &v->i))
		r = R_INT;
	else if (go_parse_uint0(plain, pn, &v->u))
		r = R_UINT;
	else if (yaml_style_float(plain, pn) &&
	    sotto_gofmt_parse_float(plain, pn, &v->f))
		r = R_FLOAT;
	free(plain);
	return r;
}

/* True when go-yaml reads s back as a string (the encoder's test). */
static bool
resolves_to_str(const char *s, size_t n)
{
	struct rval v;

	return resolve_plain(s, n, true, &v) == R_STR;
}

bool
sotto_yaml_plain_is_str(const char *s, size_t n)
{
	return resolves_to_str(s, n);
}

static bool
is_old_bool(const char *s, size_t n)
{
	static const char *const l[] = { "y", "Y", "yes", "Yes", "YES", "on",
		"On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF",
		NULL };

	if (n == 0 || n > 3 || !(s[0] == 'y' || s[0] == 'Y' || s[0] == 'n' ||
	    s[0] == 'N' || s[0] == 'o' || s[0] == 'O'))
		return false;
	return in_list(s, n, l);
}


/* ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ */
static bool
is_base60_float(const char *s, size_t n)
{
	size_t i = 0, groups = 0, d;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return false;
	i++;
	while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
		i++;
	while (i < n && s[i] == ':') {
		i++;
		d = 0;
		if (i < n && s[i] >= '0' && s[i] <= '5' && i + 1 < n &&
		    s[i + 1] >= '0' && s[i + 1] <= '9') {
			i += 2;
			d = 2;
		} else if (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
			d = 1;
		}
		if (d == 0)
			return false;
		groups++;
	}
	if (groups == 0)
		return false;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			i++;
	}
	return i == n;
}

/*
 * True when go-yaml's encoder would quote the string s rather than
 * write it plain: it reads back as another type, or YAML 1.1 would take
 * it for a bool or a base 60 number (go-yaml's isOldBool and
 * isBase60Float).
 */
static bool
go_quotes(const char *s, size_t n)
{
	return !resolves_to_str(s, n) || is_old_bool(s, n) ||
	    is_base60_float(s, n);
}

/* ------------------------------------------------------------------ */
/* parse state */

#define REC_INL 4		/* item starts a rec holds itself */

struct rec {			/* one collection seen by the parser */
	struct sotto_node *node;
	size_t doc;		/* document index */
	size_t rstart, rend;	/* region for comment placement */
	size_t col;		/* column of its first item */
	size_t depth;
	bool flow, meta;
	size_t *starts, n, cap;	/* byte start of each item, in order:
				   NULL while they fit in inl */
	size_t inl[REC_INL];	/* the first starts, kept here so that a
				   small collection costs no allocation */
};

struct ent {			/* every item start, in byte order */
	size_t start;
	uint32_t rec;		/* new_rec() keeps recs below UINT32_MAX */
} __attribute__((packed));	/* 12 bytes: there is one per item */

struct frame {
	struct sotto_node *node;
	size_t rec;
	char *anchor;
	size_t line;
	bool meta;		/* inside the sops metadata value */
	/* mappings */
	bool have_key, key_meta;
	char *key;
	size_t keylen, keyline;
	const char **keys;	/* for the duplicate check (borrowed: the
				   keys handed to the map, or "sops") */
	size_t *keylens, *keylines, nkeys, ckeys;
	size_t *khash;		/* open-addressing index into keys (+1),
				   built once a map grows past 8 keys */
	size_t kcol;		/* column of the latest key (SIZE_MAX:
				   not at the start of its line's content) */
	size_t khcap;		/* slots in khash (power of two) */
};

struct anchor {
	char *name;
	struct sotto_node *node;
	bool owned;		/* a key node: freed with the table */
};

struct xspan {
	size_t s, e;
};

struct docinfo {
	size_t rstart, rend;	/* region */
	size_t ins;		/* where splice appends metadata */
	bool flow;		/* top level is a flow mapping */
	size_t root_rec;
	size_t root_col;	/* column of the top-level keys */
};

struct yaml_priv {
	struct docinfo *docs;
	size_t ndocs;
	size_t nnodes;
	bool crlf;
	size_t step;		/* indentation of a block map under a key
				   (first seen; 0: none) */
	size_t seq_step;	/* same for a block sequence (0 when
				   indentless) */
	bool have_seq_step;
};

struct pstate {
	const char *name;
	const struct sotto_limits *lim;
	struct sotto_error *e;
	struct sotto_doc *doc;
	struct sotto_arena *arena;	/* the doc's node arena (borrowed) */
	struct yaml_priv *priv;
	struct cmap cm;
	const uint8_t *src;
	size_t len;
	struct frame *st;
	size_t nst, cst;
	struct rec *recs;
	size_t nrec, crec;
	struct ent *ents;
	size_t nent, cent;
	struct anchor *anch;
	size_t nanch, canch;
	size_t *ahash;		/* open-addressing index of anch by name
				   (+1; the latest definition wins) */
	size_t ahcap;		/* slots in ahash (power of two) */
	struct xspan *xs;
	size_t nxs, cxs;
	size_t cdocs;
	size_t nodes, aliased;	/* parsed nodes; nodes copied by aliases */
	size_t alias_bytes;	/* bytes copied by aliases */
	size_t content_end;	/* end of the last scalar/alias/flow end */
	size_t prev_end;	/* end of the previous event */
	size_t docno;		/* 1-based number of the current document */
	struct sotto_node *root;
	bool root_done;
	size_t meta_key_start;
	struct sotto_node *meta;	/* this document's sops value */
	size_t meta_s, meta_e;
};

/*
 * A parse's collections with the byte start of each of their items
 * (parallel to node->items), kept for splice to see where items were.
 */
struct ylayout {
	struct rec *recs;	/* as the parser left them */
	size_t nrec;
	size_t *byptr;		/* rec indexes sorted by node address */
};

static sotto_err
nomem(struct pstate *ps)
{
	return sotto_error_set(ps->e, SOTTO_E_NOMEM, "'%s': out of memory",
	    ps->name);
}

static sotto_err
count_node(struct pstate *ps, size_t line)
{
	if (++ps->nodes > ps->lim->max_nodes)
		return sotto_error_set(ps->e, SOTTO_E_LIMIT,
		    "'%s' line %zu: more than %zu nodes", ps->name, line,
		    ps->lim->max_nodes);
	return SOTTO_OK;
}

static sotto_err
add_xspan(struct pstate *ps, size_t s, size_t e)
{
	struct xspan *l = ps->nxs > 0 ? &ps->xs[ps->nxs - 1] : NULL;

	if (e <= s)
		return SOTTO_OK;
	/* find_comments() only looks for '#' outside the spans, so a span
	 * that follows the last one across a gap without '#' extends it */
	if (l != NULL && s >= l->e &&
	    memchr(ps->src + l->e, '#', s - l->e) == NULL) {
		l->e = e;
		return SOTTO_OK;
	}
	if (!ARR_PUSH(ps->xs, ps->nxs, ps->cxs))
		return nomem(ps);
	ps->xs[ps->nxs].s = s;
	ps->xs[ps->nxs].e = e;
	ps->nxs++;
	return SOTTO_OK;
}

static size_t
line_start(const uint8_t *s, size_t off)
{
	while (off > 0 && s[off - 1] != '\n' && s[off - 1] != '\r')
		off--;
	return off;
}

/* A tag under which an encrypted (string) value would not decode. */
static bool
type_tag(const char *tag)
{
	static const char *const l[] = { "int", "float", "bool",
		"timestamp", "null", NULL };
	size_t i;

	if (strncmp(tag, "tag:yaml.org,2002:", 18) != 0)
		return false;
	for (i = 0; l[i] != NULL; i++)
		if (strcmp(tag + 18, l[i]) == 0)
			return true;
	return false;
}

/* Type a scalar as go-yaml (and then sops) would; sets canon/NONCANON. */
static sotto_err
type_scalar(struct pstate *ps, struct sotto_node *n, const char *tag,
    bool quoted)
{
	char buf[SOTTO_GOFMT_FLOAT_MAX], stag[64];
	struct rval v;
	enum rtag r;
	int64_t iv;
	double fv;
	int k;

	n->type = SOTTO_T_STR;
	if (tag == NULL && quoted)
		return SOTTO_OK;	/* the common case, kept cheap */
	memset(&v, 0, sizeof(v));
	if (tag == NULL)
		stag[0] = '\0';
	else if (strncmp(tag, "tag:yaml.org,2002:", 18) == 0)
		snprintf(stag, sizeof(stag), "!!%s", tag + 18);
	else
		snprintf(stag, sizeof(stag), "%s", tag);
	if (stag[0] == '\0' && quoted)
		return SOTTO_OK;
	if (strcmp(stag, "!!null") == 0) {
		n->type = SOTTO_T_NULL;
		return SOTTO_OK;
	}
	if (stag[0] != '\0' && strcmp(stag, "!!int") != 0 &&
	    strcmp(stag, "!!float") != 0 && strcmp(stag, "!!bool") != 0 &&
	    strcmp(stag, "!!timestamp") != 0)
		return SOTTO_OK;	/* !!str, !!binary, custom tags */
	r = resolve_plain(n->text, n->len, stag[0] == '\0' ||
	    strcmp(stag, "!!timestamp") == 0, &v);
	if (stag[0] == '\0') {
		/* an untagged plain timestamp is a time, as go-yaml v3
		 * decodes it and sops (3.10 on) encrypts it: type:time */
	} else if (strcmp(stag, "!!float") == 0 && r == R_INT) {
		r = R_FLOAT;
		v.f = (double)v.i;
	} else if (strcmp(stag, "!!float") == 0 && r == R_UINT) {
		r = R_FLOAT;
		v.f = (double)v.u;
	} else if (!((strcmp(stag, "!!int") == 0 &&
	    (r == R_INT || r == R_UINT)) ||
	    (strcmp(stag, "!!float") == 0 && r == R_FLOAT) ||
	    (strcmp(stag, "!!bool") == 0 && r == R_BOOL) ||
	    (strcmp(stag, "!!timestamp") == 0 && r == R_TIME)))
		return sotto_error_set(ps->e, SOTTO_E_YAML,
		    "'%s' line %zu: cannot decode value as %s", ps->name,
		    n->line, stag);
	switch (r) {
	case R_STR:
		return SOTTO_OK;
	case R_UINT:
		return sotto_error_set(ps->e, SOTTO_E_YAML,
		    "'%s' line %zu: unknown type: uint64", ps->name, n->line);
	case R_NULL:
		n->type = SOTTO_T_NULL;
		return SOTTO_OK;
	case R_BOOL:
		n->type = SOTTO_T_BOOL;
		k = snprintf(buf, sizeof(buf), "%s", v.b ? "True" : "False");
		break;
	case R_INT:
		n->type = SOTTO_T_INT;
		k = sotto_gofmt_int(buf, sizeof(buf), v.i);
		if (!sotto_gofmt_parse_int(n->text, n->len, &iv) ||
		    iv != v.i)
			n->flags |= SOTTO_NODE_NONCANON;
		break;
	case R_FLOAT:
		n->type = SOTTO_T_FLOAT;
		k = sotto_gofmt_float_f(buf, sizeof(buf), v.f);
		if (!sotto_gofmt_parse_float(n->text, n->len, &fv) ||
		    !(fv == v.f || (isnan(fv) && isnan(v.f))))
			n->flags |= SOTTO_NODE_NONCANON;
		break;
	case R_TIME:
		n->type = SOTTO_T_TIME;
		k = snprintf(buf, sizeof(buf), "%s", v.ts);
		if (!streq(n->text, n->len, v.ts))
			n->flags |= SOTTO_NODE_NONCANON;
		break;
	default:
		return SOTTO_OK;
	}
	if (k < 0)
		return sotto_error_set(ps->e, SOTTO_E_INTERNAL,
		    "'%s' line %zu: cannot format number", ps->name, n->line);
	if (sotto_tree_set_canon(n, buf, (size_t)k) != SOTTO_OK)
		return nomem(ps);
	return SOTTO_OK;
}

/* ------------------------------------------------------------------ */
/* tree bookkeeping during parse */

static void
frame_clear(struct frame *f)
{
	free(f->anchor);
	free(f->key);
	free(f->keys);
	free(f->keylens);
	free(f->keylines);
	free(f->khash);
	memset(f, 0, sizeof(*f));
}

static sotto_err
new_rec(struct pstate *ps, struct sotto_node *n, size_t rstart, size_t col,
    bool flow, bool meta, size_t *out)
{
	struct rec *r;

	if (ps->nrec >= UINT32_MAX)
		return sotto_error_set(ps->e, SOTTO_E_LIMIT,
		    "'%s': too many collections", ps->name);
	if (!ARR_PUSH(ps->recs, ps->nrec, ps->crec))
		return nomem(ps);
	r = &ps->recs[ps->nrec];
	memset(r, 0, sizeof(*r));
	r->node = n;
	r->doc = ps->docno - 1;
	r->rstart = rstart;
	r->rend = SIZE_MAX;
	r->col = col;
	r->depth = ps->nst;
	r->flow = flow;
	r->meta = meta;
	*out = ps->nrec++;
	return SOTTO_OK;
}

/* The item starts of r, wherever they are held. */
static size_t *
rec_starts(struct rec *r)
{
	return r->starts != NULL ? r->starts : r->inl;
}

/* Makes room for one more start: in r->inl while it fits, then on the heap. */
static bool
rec_room(struct rec *r)
{
	if (r->starts == NULL) {
		size_t *p;

		if (r->n < REC_INL)
			return true;
		p = malloc(2 * REC_INL * sizeof(*p));
		if (p == NULL)
			return false;
		memcpy(p, r->inl, r->n * sizeof(*p));
		r->starts = p;
		r->cap = 2 * REC_INL;
	}
	return ARR_PUSH(r->starts, r->n, r->cap);
}

static sotto_err
rec_add_start(struct pstate *ps, size_t rec, size_t start)
{
	struct rec *r = &ps->recs[rec];

	if (!rec_room(r))
		return nomem(ps);
	rec_starts(r)[r->n++] = start;
	if (!ARR_PUSH(ps->ents, ps->nent, ps->cent))
		return nomem(ps);
	ps->ents[ps->nent].rec = (uint32_t)rec;
	ps->ents[ps->nent].start = start;
	ps->nent++;
	return SOTTO_OK;
}

/* Column of the "-" before a block sequence item starting at off, or
 * SIZE_MAX. */
static size_t
dash_col_src(const uint8_t *src, size_t off)
{
	while (off > 0 && is_blank(src[off - 1]))
		off--;
	if (off == 0 || src[off - 1] != '-')
		return SIZE_MAX;
	return off - 1 - line_start(src, off - 1);
}

static size_t
dash_col(const struct pstate *ps, size_t off)
{
	return dash_col_src(ps->src, off);
}

/*
 * The document's own indentation (first seen), for what splice writes
 * anew: how far a block map or sequence that is a key's value sits right
 * of the key.  col: its first key or "-"; f: the frame holding it.
 */
static void
note_step(struct pstate *ps, const struct frame *f, bool map, size_t col)
{
	const struct frame *pf;
	struct yaml_priv *yp = ps->priv;

	if (ps->nst < 2 || f->meta || f->node->style == YS_FLOWCOLL ||
	    col == SIZE_MAX)
		return;
	pf = f - 1;
	if (pf->node->kind != SOTTO_NODE_MAP || !pf->have_key ||
	    pf->kcol == SIZE_MAX || col < pf->kcol)
		return;
	if (map && yp->step == 0 && col > pf->kcol)
		yp->step = col - pf->kcol;
	else if (!map && !yp->have_seq_step) {
		yp->seq_step = col - pf->kcol;
		yp->have_seq_step = true;
	}
}

/* A node begins at start: sequences record their item starts here. */
static sotto_err
begin_item(struct pstate *ps, size_t start, size_t line, bool collection)
{
	struct frame *f;

	if (ps->nst == 0)
		return SOTTO_OK;
	f = &ps->st[ps->nst - 1];
	if (f->node->kind == SOTTO_NODE_SEQ) {
		if (f->meta)
			return SOTTO_OK;
		if (f->node->n == 0)
			note_step(ps, f, false, dash_col(ps, start));
		return rec_add_start(ps, f->rec, start);
	}
	if (!f->have_key && collection)
		return sotto_error_set(ps->e, SOTTO_E_YAML,
		    "'%s' line %zu: tree contains a non-string key", ps->name,
		    line);
	return SOTTO_OK;
}

static size_t key_hash(const char *k, size_t n);

/* Puts anchor i in the index, replacing an earlier one of the same name:
 * YAML lets a name be redefined, and later aliases see the new node. */
static void
anchor_insert(struct pstate *ps, size_t i)
{
	const char *name = ps->anch[i].name;
	size_t slot, j;

	for (slot = key_hash(name, strlen(name)) & (ps->ahcap - 1);
	    ps->ahash[slot] != 0; slot = (slot + 1) & (ps->ahcap - 1)) {
		j = ps->ahash[slot] - 1;
		if (strcmp(ps->anch[j].name, name) == 0)
			break;
	}
	ps->ahash[slot] = i + 1;
}

/* The node an alias names (its latest definition), or NULL. */
static struct sotto_node *
anchor_find(const struct pstate *ps, const char *name)
{
	size_t slot, j;

	if (ps->ahcap == 0)
		return NULL;
	for (slot = key_hash(name, strlen(name)) & (ps->ahcap - 1);
	    ps->ahash[slot] != 0; slot = (slot + 1) & (ps->ahcap - 1)) {
		j = ps->ahash[slot] - 1;
		if (strcmp(ps->anch[j].name, name) == 0)
			return ps->anch[j].node;
	}
	return NULL;
}

/*
 * Records an anchor.  Lookups go through a hash index so that a document
 * with tens of thousands of anchors is not a quadratic scan; the index
 * holds at most half its slots (entries <= anchors).
 */
static sotto_err
add_anchor(struct pstate *ps, const char *name, struct sotto_node *n,
    size_t *idx)
{
	size_t i;

	*idx = SIZE_MAX;
	if (name == NULL)
		return SOTTO_OK;
	if (!ARR_PUSH(ps->anch, ps->nanch, ps->canch))
		return nomem(ps);
	ps->anch[ps->nanch].name = strdup(name);
	if (ps->anch[ps->nanch].name == NULL)
		return nomem(ps);
	ps->anch[ps->nanch].node = n;
	ps->anch[ps->nanch].owned = false;
	*idx = ps->nanch++;
	if (ps->nanch * 2 > ps->ahcap) {
		size_t ncap = ps->ahcap ? ps->ahcap * 2 : 64;

		free(ps->ahash);
		if ((ps->ahash = calloc(ncap, sizeof(*ps->ahash))) == NULL) {
			ps->ahcap = 0;
			return nomem(ps);
		}
		ps->ahcap = ncap;
		for (i = 0; i < ps->nanch; i++)
			anchor_insert(ps, i);
	} else {
		anchor_insert(ps, *idx);
	}
	return SOTTO_OK;
}

/* Anchors do not cross documents.  The index is dropped, not cleared, so
 * that many small documents after a big one cost nothing. */
static void
clear_anchors(struct pstate *ps)
{
	size_t i;

	for (i = 0; i < ps->nanch; i++) {
		free(ps->anch[i].name);
		if (ps->anch[i].owned)
			sotto_tree_node_free(ps->anch[i].node, true);
	}
	ps->nanch = 0;
	free(ps->ahash);
	ps->ahash = NULL;
	ps->ahcap = 0;
}

/* Frees a node that is not going into the tree (unless anchored). */
static void
drop_node(struct pstate *ps, struct sotto_node *n, size_t aidx)
{
	if (aidx != SIZE_MAX)
		ps->anch[aidx].owned = true;
	else
		sotto_tree_node_free(n, true);
}

/*
 * What a deep copy of n costs: nodes, bytes (each node and map entry as
 * allocated, plus its text, canon and key) and height (levels of
 * collections, 0 for a scalar).  n lies within the depth limit, which
 * bounds the recursion.
 */
struct copy_cost {
	size_t nodes, bytes, height;
};

static void
copy_cost(const struct sotto_node *n, struct copy_cost *c)
{
	size_t i, h = 0;

	c->nodes++;
	c->bytes += sizeof(*n) + n->len + (n->canon ? strlen(n->canon) : 0);
	for (i = 0; i < n->n; i++) {
		struct copy_cost k = { 0, 0, 0 };

		c->bytes += sizeof(n->items[i]) + n->items[i].keylen;
		copy_cost(n->items[i].val, &k);
		c->nodes += k.nodes;
		c->bytes += k.bytes;
		if (k.height > h)
			h = k.height;
	}
	if (n->kind == SOTTO_NODE_MAP || n->kind == SOTTO_NODE_SEQ)
		c->height = h + 1;
}

static void
mark_alias_(struct sotto_node *n, bool *first)
{
	size_t i;

	n->flags |= YF_ALIAS;
	n->flags &= ~(YF_ALIAS1 | YF_ALIASROOT | YF_INSEQ);
	n->src_start = SOTTO_SPAN_NONE;
	n->src_end = SOTTO_SPAN_NONE;
	n->dirty = false;
	if (*first && n->kind == SOTTO_NODE_SCALAR &&
	    n->type != SOTTO_T_NULL && n->len > 0) {
		n->flags |= YF_ALIAS1;
		*first = false;
	}
	for (i = 0; i < n->n; i++)
		mark_alias_(n->items[i].val, first);
}

/* Flags a copy made for an alias (and its first value, for one note). */
static void
mark_alias(struct sotto_node *n)
{
	bool first = true;

	mark_alias_(n, &first);
}

static size_t
to_eol_incl(const uint8_t *s, size_t len, size_t e)
{
	while (e < len && s[e] != '\n' && s[e] != '\r')
		e++;
	if (e < len && s[e] == '\r')
		e++;
	if (e < len && s[e] == '\n')
		e++;
	return e;
}

/*
 * Duplicate-key detection.  Small maps are scanned; past 8 keys an
 * open-addressing table of key indices keeps the check O(1), so a map
 * with 100k keys does not cost 5e9 comparisons.
 */
static size_t
key_hash(const char *k, size_t n)
{
	size_t h = 1469598103934665603ull;

	while (n-- > 0)
		h = (h ^ (unsigned char)*k++) * 1099511628211ull;
	return h;
}

static size_t
key_find(const struct frame *f, const char *k, size_t n)
{
	size_t i, slot;

	if (f->khash == NULL) {
		for (i = 0; i < f->nkeys; i++)
			if (f->keylens[i] == n && memcmp(f->keys[i], k, n) == 0)
				return i;
		return SIZE_MAX;
	}
	for (slot = key_hash(k, n) & (f->khcap - 1); f->khash[slot] != 0;
	    slot = (slot + 1) & (f->khcap - 1)) {
		i = f->khash[slot] - 1;
		if (f->keylens[i] == n && memcmp(f->keys[i], k, n) == 0)
			return i;
	}
	return SIZE_MAX;
}

static void
key_insert(struct frame *f, size_t i)
{
	size_t slot = key_hash(f->keys[i], f->keylens[i]) & (f->khcap - 1);

	while (f->khash[slot] != 0)
		slot = (slot + 1) & (f->khcap - 1);
	f->khash[slot] = i + 1;
}

/* Indexes the newest key (f->nkeys - 1), growing the table as needed. */
static sotto_err
key_index(struct frame *f)
{
	size_t i, ncap;

	if (f->nkeys <= 8)
		return SOTTO_OK;
	if (f->khash == NULL || f->nkeys * 2 > f->khcap) {
		ncap = f->khcap ? f->khcap * 2 : 64;
		free(f->khash);
		f->khash = calloc(ncap, sizeof(*f->khash));
		if (f->khash == NULL) {
			f->khcap = 0;
			return SOTTO_E_NOMEM;
		}
		f->khcap = ncap;
		for (i = 0; i < f->nkeys; i++)
			key_insert(f, i);
		return SOTTO_OK;
	}
	key_insert(f, f->nkeys - 1);
	return SOTTO_OK;
}

static sotto_err
take_key(struct pstate *ps, struct frame *f, struct sotto_node *n,
    size_t start, size_t line, bool steal)
{
	size_t i, c1, c2, len = n->len;

	{
		size_t ls = line_start(ps->src, start), k;

		for (k = ls; k < start && is_blank(ps->src[k]); k++)
			;
		f->kcol = k == start || ps->src[k] == '-' ? start - ls :
		    SIZE_MAX;
		if (f->nkeys == 0)
			note_step(ps, f, true, f->kcol);
		if (f->nkeys == 0 && ps->nst == 1 && f->kcol != SIZE_MAX &&
		    ps->docno > 0)
			ps->priv->docs[ps->docno - 1].root_col = f->kcol;
	}

	i = key_find(f, n->text, n->len);
	if (i != SIZE_MAX)
		return sotto_error_set(ps->e, SOTTO_E_YAML,
		    "'%s' line %zu: mapping key \"%.*s\" already "
		    "defined at line %zu", ps->name, line,
		    (int)(n->len > 64 ? 64 : n->len), n->text,
		    f->keylines[i]);
	c1 = c2 = f->ckeys;
	if (!ARR_PUSH(f->keys, f->nkeys, f->ckeys))
		return nomem(ps);
	f->keylens = grow_array(f->keylens, &c1, f->ckeys, sizeof(size_t));
	if (f->keylens == NULL)
		return nomem(ps);
	f->keylines = grow_array(f->keylines, &c2, f->ckeys, sizeof(size_t));
	if (f->keylines == NULL)
		return nomem(ps);
	/* the pending key is handed to the map entry as it is; the
	 * duplicate index borrows it (it outlives the frame) */
	if (steal) {
		f->key = n->text;
		n->text = NULL;
		n->len = 0;	/* the node is dropped next */
	} else {
		f->key = malloc(len + 1);
		if (f->key == NULL)
			return nomem(ps);
		memcpy(f->key, n->text, len + 1);
	}
	f->keys[f->nkeys] = f->key;
	f->keylens[f->nkeys] = len;
	f->keylines[f->nkeys] = line;
	f->nkeys++;
	if (key_index(f) != SOTTO_OK)
		return nomem(ps);
	f->keylen = len;
	f->keyline = line;
	f->have_key = true;
	f->key_meta = ps->nst == 1 && !f->meta &&
	    streq(f->key, len, "sops");
	if (f->key_meta) {
		size_t ls = line_start(ps->src, start), k;

		f->keys[f->nkeys - 1] = "sops";	/* f->key is freed */
		if (ls < ps->cm.base)
			ls = ps->cm.base;
		for (k = ls; k < start && is_blank(ps->src[k]); k++)
			;
		ps->meta_key_start = k == start ? ls : start;
		return SOTTO_OK;
	}
	if (f->meta)
		return SOTTO_OK;
	return rec_add_start(ps, f->rec, start);
}

/*
 * A node is complete: it becomes the document root, a map key, a map
 * value or a sequence item.  Takes ownership of n.  aidx: its anchor.
 */
static sotto_err
finish_node(struct pstate *ps, struct sotto_node *n, size_t start,
    size_t line, size_t aidx)
{
	struct frame *f;
	sotto_err err;

	if (ps->nst == 0) {
		if (n->kind == SOTTO_NODE_MAP) {
			ps->root = n;
			return SOTTO_OK;
		}
		bool null = n->kind == SOTTO_NODE_SCALAR &&
		    n->type == SOTTO_T_NULL;

		drop_node(ps, n, aidx);
		if (null)
			return SOTTO_OK;
		return sotto_error_set(ps->e, SOTTO_E_YAML,
		    "'%s': document %zu: top level must be a mapping",
		    ps->name, ps->docno);
	}
	f = &ps->st[ps->nst - 1];
	if (f->node->kind == SOTTO_NODE_SEQ) {
		if (sotto_tree_seq_add(f->node, n) != SOTTO_OK) {
			sotto_tree_node_free(n, true);
			return nomem(ps);
		}
		return SOTTO_OK;
	}
	if (!f->have_key) {
		/* a key that looks like a date stays the string it was */
		if (n->kind == SOTTO_NODE_SCALAR && n->type == SOTTO_T_TIME) {
			n->type = SOTTO_T_STR;
			n->flags &= ~SOTTO_NODE_NONCANON;
		}
		if (n->kind != SOTTO_NODE_SCALAR || n->type != SOTTO_T_STR) {
			drop_node(ps, n, aidx);
			return sotto_error_set(ps->e, SOTTO_E_YAML,
			    "'%s' line %zu: tree contains a non-string key",
			    ps->name, line);
		}
		/* a malloc()ed node that nobody else holds gives its
		 * text away */
		err = take_key(ps, f, n, start, line, aidx == SIZE_MAX &&
		    n->arena == NULL);
		drop_node(ps, n, aidx);
		return err;
	}
	f->have_key = false;
	if (f->key_meta) {
		f->key_meta = false;
		free(f->key);
		f->key = NULL;
		sotto_tree_node_free(ps->meta, false);
		ps->meta = n;
		ps->meta_s = ps->meta_key_start;
		ps->meta_e = to_eol_incl(ps->src, ps->len, ps->content_end);
		return SOTTO_OK;
	}
	err = sotto_tree_map_add(f->node, NULL, 0, n);
	if (err != SOTTO_OK) {
		sotto_tree_node_free(n, true);
		return nomem(ps);
	}
	/* the entry takes the pending key instead of a copy */
	f->node->items[f->node->n - 1].key = f->key;
	f->node->items[f->node->n - 1].keylen = f->keylen;
	f->key = NULL;
	return SOTTO_OK;
}

/* ------------------------------------------------------------------ */
/* events */

static size_t
mark_off(struct pstate *ps, const yaml_mark_t *m)
{
	return cmap_off(&ps->cm, m->index);
}

static sotto_err
push_frame(struct pstate *ps, struct sotto_node *n, size_t rec,
    const char *anchor, size_t line, bool meta)
{
	struct frame *f;

	if (!ARR_PUSH(ps->st, ps->nst, ps->cst)) {
		sotto_tree_node_free(n, true);
		return nomem(ps);
	}
	f = &ps->st[ps->nst++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	f->rec = rec;
	f->line = line;
	f->meta = meta;
	if (anchor != NULL) {
		f->anchor = strdup(anchor);
		if (f->anchor == NULL)
			return nomem(ps);
	}
	return SOTTO_OK;
}

static sotto_err
on_start(struct pstate *ps, const yaml_event_t *ev, bool map)
{
	struct sotto_node *n;
	const char *anchor;
	size_t start, line, rec, col;
	bool flow, meta = false;
	sotto_err err;

	start = mark_off(ps, &ev->start_mark);
	line = ev->start_mark.line + 1;
	col = ev->start_mark.column;
	if (map) {
		anchor = (const char *)ev->data.mapping_start.anchor;
		flow = ev->data.mapping_start.style ==
		    YAML_FLOW_MAPPING_STYLE;
	} else {
		anchor = (const char *)ev->data.sequence_start.anchor;
		flow = ev->data.sequence_start.style ==
		    YAML_FLOW_SEQUENCE_STYLE;
	}
	if (ps->nst + 1 > ps->lim->max_depth)
		return sotto_error_set(ps->e, SOTTO_E_LIMIT,
		    "'%s' line %zu: nesting deeper than %zu levels", ps->name,
		    line, ps->lim->max_depth);
	if ((err = count_node(ps, line)) != SOTTO_OK)
		return err;
	if ((err = begin_item(ps, start, line, true)) != SOTTO_OK)
		return err;
	if (ps->nst > 0) {
		struct frame *f = &ps->st[ps->nst - 1];

		meta = f->meta || (f->node->kind == SOTTO_NODE_MAP &&
		    f->key_meta);
		if (ps->st[ps->nst - 1].node->style == YS_FLOWCOLL)
			flow = true;
	}
	n = map ? sotto_tree_new_map_in(ps->arena) :
	    sotto_tree_new_seq_in(ps->arena);
	if (n == NULL)
		return nomem(ps);
	n->src_start = start;
	n->src_end = start;
	n->line = line;
	n->style = flow ? YS_FLOWCOLL : YS_PLAIN;
	if (ps->nst == 0 && flow && map)
		ps->priv->docs[ps->docno - 1].flow = true;
	err = new_rec(ps, n, ps->nst == 0 ? ps->priv->docs[ps->docno - 1]
	    .rstart : ps->prev_end, col, flow, meta, &rec);
	if (err != SOTTO_OK) {
		sotto_tree_node_free(n, true);
		return err;
	}
	if (ps->nst == 0)
		ps->priv->docs[ps->docno - 1].root_rec = rec;
	return push_frame(ps, n, rec, anchor, line, meta);
}

static sotto_err
on_end(struct pstate *ps, const yaml_event_t *ev)
{
	struct frame f;
	struct rec *r;
	size_t aidx, start;
	sotto_err err;

	if (ps->nst == 0)
		return sotto_error_set(ps->e, SOTTO_E_INTERNAL,
		    "'%s': unbalanced yaml events", ps->name);
	f = ps->st[--ps->nst];
	r = &ps->recs[f.rec];
	r->rend = mark_off(ps, &ev->end_mark);
	if (f.node->style == YS_FLOWCOLL)
		ps->content_end = r->rend;
	f.node->src_end = ps->content_end > f.node->src_start ?
	    ps->content_end : f.node->src_start;
	start = f.node->src_start;
	err = add_anchor(ps, f.anchor, f.node, &aidx);
	if (err == SOTTO_OK)
		err = finish_node(ps, f.node, start, f.line, aidx);
	else
		sotto_tree_node_free(f.node, true);
	frame_clear(&f);
	return err;
}

/* Block scalar: [indicator, end of last content line). */
static void
block_span(struct pstate *ps, size_t start, size_t end, size_t *hdr_end,
    size_t *cstart, size_t *cend)
{
	const uint8_t *s = ps->src;
	size_t h = start + 1, c, e, ls, k;

	while (h < end && (s[h] == '+' || s[h] == '-' ||
	    (s[h] >= '0' && s[h] <= '9')))
		h++;
	c = h;
	while (c < ps->len && s[c] != '\n' && s[c] != '\r')
		c++;
	c = to_eol_incl(s, ps->len, c);
	e = end;
	for (;;) {
		if (e > c && s[e - 1] == '\n')
			e--;
		if (e > c && s[e - 1] == '\r')
			e--;
		if (e <= c) {
			e = c;
			break;
		}
		ls = line_start(s, e);
		if (ls < c)
			ls = c;
		for (k = ls; k < e && is_blank(s[k]); k++)
			;
		if (k < e)
			break;
		if (ls == e && e == end)
			break;	/* no break to strip: stop */
		e = ls;
	}
	*hdr_end = h;
	*cstart = c;
	*cend = e;
}

/*
 * A line of blanks past the block's indentation is content (blanks the
 * text holds), not an empty line: the span runs to the end of the last
 * such line before end.
 */
static size_t
blank_content_end(struct pstate *ps, size_t e, size_t end, size_t ind)
{
	const uint8_t *s = ps->src;
	size_t p = to_eol_incl(s, ps->len, e), q, last = e;

	while (p < end && p < ps->len) {
		for (q = p; q < ps->len && s[q] == ' '; q++)
			;
		while (q < ps->len && is_blank(s[q]))
			q++;
		if (q < ps->len && s[q] != '\n' && s[q] != '\r')
			break;
		if (q - p > ind)
			last = q;
		p = to_eol_incl(s, ps->len, q);
	}
	return last;
}

static size_t
block_indent(struct pstate *ps, size_t hstart, size_t hend, size_t cstart,
    size_t cend, size_t parent)
{
	const uint8_t *s = ps->src;
	size_t i, k;

	for (i = hstart + 1; i < hend; i++)
		if (s[i] >= '1' && s[i] <= '9')
			return parent + (size_t)(s[i] - '0');
	i = cstart;
	while (i < cend) {
		for (k = 0; i + k < cend && s[i + k] == ' '; k++)
			;
		if (i + k < cend && s[i + k] != '\n' && s[i + k] != '\r')
			return k;
		i = to_eol_incl(s, cend, i + k);
	}
	return parent + 2;
}

/* Skips a node's anchor and tag ("&a !!str ") to its text. */
static size_t
skip_props(struct pstate *ps, size_t p, size_t end)
{
	const uint8_t *s = ps->src;

	while (p < end && (s[p] == '&' || s[p] == '!')) {
		while (p < end && !is_blank(s[p]) && s[p] != '\n' &&
		    s[p] != '\r')
			p++;
		while (p < end && (is_blank(s[p]) || s[p] == '\n' ||
		    s[p] == '\r'))
			p++;
	}
	return p;
}

/*
 * Where in the source the text of an untagged "ENC[AES256_GCM," value
 * (a map value or a sequence item, outside the sops metadata) lies byte for
 * byte, as it does when it is plain or quoted without escapes; SIZE_MAX
 * otherwise.  Such a value borrows its text from doc->src instead of a
 * copy: in an encrypted file these are most of the bytes.  start is the
 * scalar's span start after its properties.
 */
static size_t
enc_ref(const struct pstate *ps, const yaml_event_t *ev, size_t start,
    size_t end)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length, p;
	const struct frame *f;

	if (ps->arena == NULL || ps->nst == 0 || ev->data.scalar.tag != NULL ||
	    len < 15 || memcmp(v, "ENC[AES256_GCM,", 15) != 0)
		return SIZE_MAX;
	f = &ps->st[ps->nst - 1];
	if (f->meta || f->key_meta ||
	    (f->node->kind == SOTTO_NODE_MAP && !f->have_key))
		return SIZE_MAX;
	switch (ev->data.scalar.style) {
	case YAML_PLAIN_SCALAR_STYLE:
		p = start;
		break;
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		p = start + 1;
		break;
	default:
		return SIZE_MAX;
	}
	if (p > end || end > ps->len || end - p < len ||
	    memcmp(ps->src + p, v, len) != 0)
		return SIZE_MAX;
	return p;
}

static sotto_err
on_scalar(struct pstate *ps, const yaml_event_t *ev)
{
	struct sotto_node *n;
	size_t start, end, line, aidx, ref, parent = 0;
	bool quoted, flow = false;
	sotto_err err;

	start = mark_off(ps, &ev->start_mark);
	end = mark_off(ps, &ev->end_mark);
	line = ev->start_mark.line + 1;
	if ((err = count_node(ps, line)) != SOTTO_OK)
		return err;
	if ((err = begin_item(ps, start, line, false)) != SOTTO_OK)
		return err;
	start = skip_props(ps, start, end);
	if ((ref = enc_ref(ps, ev, start, end)) != SIZE_MAX)
		n = sotto_tree_new_scalar_ref_in(ps->arena, SOTTO_T_STR,
		    (const char *)ps->src + ref, ev->data.scalar.length);
	else
		/* a map key only lends its text to the entry: keep it out
		 * of the arena so that the node's memory is reused */
		n = sotto_tree_new_scalar_in(ps->nst > 0 &&
		    ps->st[ps->nst - 1].node->kind == SOTTO_NODE_MAP &&
		    !ps->st[ps->nst - 1].have_key ? NULL : ps->arena,
		    SOTTO_T_STR, (const char *)ev->data.scalar.value,
		    ev->data.scalar.length);
	if (n == NULL)
		return nomem(ps);
	n->line = line;
	n->src_start = start;
	if (ps->nst > 0) {
		parent = ps->recs[ps->st[ps->nst - 1].rec].col;
		flow = ps->st[ps->nst - 1].node->style == YS_FLOWCOLL;
	}
	switch (ev->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		n->style = YS_SINGLE;
		break;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		n->style = YS_DOUBLE;
		break;
	case YAML_LITERAL_SCALAR_STYLE:
		n->style = YS_LITERAL;
		break;
	case YAML_FOLDED_SCALAR_STYLE:
		n->style = YS_FOLDED;
		break;
	default:
		n->style = YS_PLAIN;
		break;
	}
	quoted = n->style != YS_PLAIN;
	if (flow)
		n->flags |= YF_FLOW;
	else if (ps->nst > 0 && n->style <= YS_DOUBLE) {
		/* where a value written anew as a literal block indents from */
		const struct frame *f = &ps->st[ps->nst - 1];
		size_t pc = f->node->kind == SOTTO_NODE_SEQ ?
		    dash_col(ps, start) : f->have_key ? f->kcol : SIZE_MAX;

		n->flags |= (unsigned)(pc < YF_NOCOL ? pc : YF_NOCOL) <<
		    YF_PARENT_SHIFT;
		if (f->node->kind == SOTTO_NODE_SEQ)
			n->flags |= YF_INSEQ;
	}
	if (n->style == YS_LITERAL || n->style == YS_FOLDED) {
		size_t h, c, e, ind;

		block_span(ps, start, end, &h, &c, &e);
		ind = block_indent(ps, start, h, c, e, parent);
		e = blank_content_end(ps, e, end, ind);
		n->style |= (int)((ind > 0xffff ? 0xffff : ind) << 8);
		n->flags |= (unsigned)(parent > 0xffff ? 0xffff : parent) <<
		    YF_PARENT_SHIFT;
		n->src_end = e > h ? e : h;
		if ((err = add_xspan(ps, start, h)) != SOTTO_OK ||
		    (err = add_xspan(ps, c, e)) != SOTTO_OK) {
			sotto_tree_node_free(n, true);
			return err;
		}
		ps->content_end = n->src_end;
	} else {
		n->src_end = end;
		if ((err = add_xspan(ps, start, end)) != SOTTO_OK) {
			sotto_tree_node_free(n, true);
			return err;
		}
		if (end > start)
			ps->content_end = end;
	}
	err = type_scalar(ps, n, (const char *)ev->data.scalar.tag, quoted);
	if (err != SOTTO_OK) {
		sotto_tree_node_free(n, true);
		return err;
	}
	if (ev->data.scalar.tag != NULL && type_tag((const char *)
	    ev->data.scalar.tag))
		n->flags |= YF_TYPETAG;
	err = add_anchor(ps, (const char *)ev->data.scalar.anchor, n, &aidx);
	if (err != SOTTO_OK) {
		sotto_tree_node_free(n, true);
		return err;
	}
	return finish_node(ps, n, start, line, aidx);
}

/*
 * An alias becomes a deep copy of its anchor's node.  Three budgets keep a
 * small file from expanding without bound: copied nodes (max_alias),
 * copied bytes (max_alias_bytes: a few long scalars aliased in a tree of
 * aliases cost few nodes and gigabytes), and the nesting depth of the
 * copy where it lands (an alias of a deep anchor inside another deep
 * anchor would otherwise nest past max_depth, and every recursive walk of
 * the tree would follow it).
 */
static sotto_err
on_alias(struct pstate *ps, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct copy_cost k = { 0, 0, 0 };
	struct sotto_node *src, *n;
	size_t start, line;
	sotto_err err;

	start = mark_off(ps, &ev->start_mark);
	line = ev->start_mark.line + 1;
	if ((src = anchor_find(ps, name)) == NULL)
		return sotto_error_set(ps->e, SOTTO_E_YAML,
		    "'%s' line %zu: unknown anchor '%.64s' referenced",
		    ps->name, line, name);
	copy_cost(src, &k);
	if (k.nodes > ps->lim->max_alias ||
	    ps->aliased > ps->lim->max_alias - k.nodes)
		return sotto_error_set(ps->e, SOTTO_E_LIMIT,
		    "'%s' line %zu: alias expansion exceeds %zu nodes",
		    ps->name, line, ps->lim->max_alias);
	if (k.bytes > ps->lim->max_alias_bytes ||
	    ps->alias_bytes > ps->lim->max_alias_bytes - k.bytes)
		return sotto_error_set(ps->e, SOTTO_E_LIMIT,
		    "'%s' line %zu: alias expansion exceeds %zu bytes",
		    ps->name, line, ps->lim->max_alias_bytes);
	if (k.height > ps->lim->max_depth - ps->nst)
		return sotto_error_set(ps->e, SOTTO_E_LIMIT,
		    "'%s' line %zu: nesting deeper than %zu levels", ps->name,
		    line, ps->lim->max_depth);
	ps->aliased += k.nodes;
	ps->alias_bytes += k.bytes;
	if ((err = begin_item(ps, start, line, src->kind != SOTTO_NODE_SCALAR))
	    != SOTTO_OK)
		return err;
	n = sotto_tree_clone(src);
	if (n == NULL)
		return nomem(ps);
	mark_alias(n);
	n->line = line;
	ps->content_end = mark_off(ps, &ev->end_mark);
	if (ps->nst > 0 && !ps->st[ps->nst - 1].meta) {
		/* a value (not a key): splice may write the copy out in
		 * place of "*name" when something in it changes */
		const struct frame *f = &ps->st[ps->nst - 1];
		size_t col = f->node->kind == SOTTO_NODE_SEQ ?
		    dash_col(ps, start) : f->kcol;

		if (col == SIZE_MAX)	/* not block layout: write flow */
			col = 0;

		n->src_start = start;
		n->src_end = ps->content_end;
		n->flags &= ~(YF_FLOW | YF_INSEQ | (~0u << YF_PARENT_SHIFT));
		n->flags |= YF_ALIASROOT |
		    (unsigned)(col > 0xffff ? 0xffff : col) << YF_PARENT_SHIFT;
		if (f->node->style == YS_FLOWCOLL || (f->node->kind ==
		    SOTTO_NODE_SEQ ? dash_col(ps, start) : f->kcol) ==
		    SIZE_MAX)
			n->flags |= YF_FLOW;
		if (f->node->kind == SOTTO_NODE_SEQ)
			n->flags |= YF_INSEQ;
	}
	return finish_node(ps, n, start, line, SIZE_MAX);
}

static sotto_err
on_doc_start(struct pstate *ps, const yaml_event_t *ev)
{
	struct docinfo *d;
	size_t cap = ps->cdocs;

	(void)ev;
	ps->priv->docs = grow_array(ps->priv->docs, &cap,
	    ps->priv->ndocs + 1, sizeof(*ps->priv->docs));
	if (ps->priv->docs == NULL)
		return nomem(ps);
	ps->cdocs = cap;
	d = &ps->priv->docs[ps->priv->ndocs];
	memset(d, 0, sizeof(*d));
	d->rstart = ps->priv->ndocs > 0 ?
	    ps->priv->docs[ps->priv->ndocs - 1].rend : 0;
	d->root_rec = SIZE_MAX;
	ps->priv->ndocs++;
	ps->docno = ps->priv->ndocs;
	ps->root = NULL;
	clear_anchors(ps);
	return SOTTO_OK;
}

static sotto_err
finish_doc(struct pstate *ps, size_t ins, size_t rend)
{
	struct docinfo *d = &ps->priv->docs[ps->docno - 1];
	struct sotto_node *root = ps->root;
	size_t i;
	sotto_err err;

	d->ins = ins;
	d->rend = rend > d->rstart ? rend : d->rstart;
	ps->root = NULL;
	if (root == NULL) {
		root = sotto_tree_new_map_in(ps->arena);
		if (root == NULL)
			return nomem(ps);
		root->src_start = root->src_end = d->rstart;
		err = new_rec(ps, root, d->rstart, 0, false, false,
		    &d->root_rec);
		if (err != SOTTO_OK) {
			sotto_tree_node_free(root, true);
			return err;
		}
	}
	if (sotto_tree_doc_add(ps->doc, root) != SOTTO_OK) {
		sotto_tree_node_free(root, true);
		return nomem(ps);
	}
	i = ps->doc->n - 1;
	ps->doc->meta[i] = ps->meta;
	if (ps->meta != NULL) {
		ps->doc->meta_start[i] = ps->meta_s;
		ps->doc->meta_end[i] = ps->meta_e;
	}
	ps->meta = NULL;
	return SOTTO_OK;
}

static sotto_err
yaml_problem(struct pstate *ps, yaml_parser_t *p)
{
	if (p->error == YAML_MEMORY_ERROR)
		return nomem(ps);
	return sotto_error_set(ps->e, SOTTO_E_YAML,
	    "'%s' line %zu column %zu: %s%s%s", ps->name,
	    p->problem_mark.line + 1, p->problem_mark.column + 1,
	    p->problem != NULL ? p->problem : "malformed yaml",
	    p->context != NULL ? " " : "",
	    p->context != NULL ? p->context : "");
}

static sotto_err
run_events(struct pstate *ps)
{
	yaml_parser_t p;
	yaml_event_t ev;
	sotto_err err = SOTTO_OK;
	bool done = false;

	if (!yaml_parser_initialize(&p))
		return nomem(ps);
	yaml_parser_set_input_string(&p, ps->src, ps->len);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	while (!done && err == SOTTO_OK) {
		if (!yaml_parser_parse(&p, &ev)) {
			err = yaml_problem(ps, &p);
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			err = on_doc_start(ps, &ev);
			break;
		case YAML_DOCUMENT_END_EVENT:
			err = finish_doc(ps, mark_off(ps, &ev.start_mark),
			    mark_off(ps, &ev.end_mark));
			break;
		case YAML_MAPPING_START_EVENT:
			err = on_start(ps, &ev, true);
			break;
		case YAML_SEQUENCE_START_EVENT:
			err = on_start(ps, &ev, false);
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			err = on_end(ps, &ev);
			break;
		case YAML_SCALAR_EVENT:
			err = on_scalar(ps, &ev);
			break;
		case YAML_ALIAS_EVENT:
			err = on_alias(ps, &ev);
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		ps->prev_end = mark_off(ps, &ev.end_mark);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return err;
}

/* ------------------------------------------------------------------ */
/* comments */

static int
xspan_cmp(const void *a, const void *b)
{
	const struct xspan *x = a, *y = b;

	return x->s < y->s ? -1 : x->s > y->s;
}

/* Inserts c at index k of a MAP/SEQ (appending first, then moving). */
static sotto_err
insert_item(struct sotto_node *coll, size_t k, struct sotto_node *c)
{
	struct sotto_entry tmp;
	sotto_err err;

	if (coll->kind == SOTTO_NODE_MAP)
		err = sotto_tree_map_add(coll, NULL, 0, c);
	else
		err = sotto_tree_seq_add(coll, c);
	if (err != SOTTO_OK)
		return err;
	if (k >= coll->n - 1)
		return SOTTO_OK;
	tmp = coll->items[coll->n - 1];
	memmove(&coll->items[k + 1], &coll->items[k],
	    (coll->n - 1 - k) * sizeof(tmp));
	coll->items[k] = tmp;
	return SOTTO_OK;
}

static size_t
upper_bound(const size_t *a, size_t n, size_t v)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static sotto_err
rec_insert(struct pstate *ps, size_t ri, size_t k, size_t pos,
    struct sotto_node *c)
{
	struct rec *r = &ps->recs[ri];

	if (r->n != r->node->n) {
		sotto_tree_node_free(c, true);
		return sotto_error_set(ps->e, SOTTO_E_INTERNAL,
		    "'%s': comment bookkeeping out of step", ps->name);
	}
	if (!rec_room(r)) {
		sotto_tree_node_free(c, true);
		return nomem(ps);
	}
	if (insert_item(r->node, k, c) != SOTTO_OK) {
		sotto_tree_node_free(c, true);
		return nomem(ps);
	}
	memmove(&rec_starts(r)[k + 1], &rec_starts(r)[k], (r->n - k) *
	    sizeof(size_t));
	rec_starts(r)[k] = pos;
	r->n++;
	return SOTTO_OK;
}

struct cplace {
	size_t *stack, nstack, cstack;
	size_t next;		/* next rec to consider */
	size_t ent;		/* first ent with start >= comment */
};

static sotto_err
place_comment(struct pstate *ps, struct cplace *cp, size_t s, size_t e,
    size_t line)
{
	const uint8_t *src = ps->src;
	struct sotto_node *c;
	size_t ls, col, k, di, ri = SIZE_MAX, i;
	bool inl;

	ls = line_start(src, s);
	if (ls < ps->cm.base)
		ls = ps->cm.base;
	for (k = ls; k < s && is_blank(src[k]); k++)
		;
	inl = k < s;
	col = s - ls;
	/* which document */
	for (di = 0; di + 1 < ps->priv->ndocs && s >= ps->priv->docs[di].rend;
	    di++)
		;
	if (ps->doc->meta_start[di] != SOTTO_SPAN_NONE &&
	    s >= ps->doc->meta_start[di] && s < ps->doc->meta_end[di])
		return SOTTO_OK;	/* inside the sops block: dropped */
	c = sotto_tree_new_comment_in(ps->arena, (const char *)src + s + 1,
	    e - s - 1);
	if (c == NULL)
		return nomem(ps);
	c->src_start = s;
	c->src_end = e;
	c->line = line;
	c->inline_comment = inl;
	/* open collections at s (regions nest in creation order) */
	while (cp->next < ps->nrec && ps->recs[cp->next].rstart <= s) {
		struct rec *r = &ps->recs[cp->next];

		while (cp->nstack > 0 &&
		    ps->recs[cp->stack[cp->nstack - 1]].rend <= r->rstart)
			cp->nstack--;
		if (!ARR_PUSH(cp->stack, cp->nstack, cp->cstack)) {
			sotto_tree_node_free(c, true);
			return nomem(ps);
		}
		cp->stack[cp->nstack++] = cp->next++;
	}
	while (cp->nstack > 0 && ps->recs[cp->stack[cp->nstack - 1]].rend <= s)
		cp->nstack--;
	while (cp->ent < ps->nent && ps->ents[cp->ent].start < s)
		cp->ent++;
	if (inl && cp->ent > 0) {
		const struct ent *en = &ps->ents[cp->ent - 1];

		if (ps->recs[en->rec].doc == di && !ps->recs[en->rec].meta &&
		    memchr(src + en->start, '\n', s - en->start) == NULL &&
		    memchr(src + en->start, '\r', s - en->start) == NULL) {
			struct rec *r = &ps->recs[en->rec];

			k = upper_bound(rec_starts(r), r->n, en->start);
			return rec_insert(ps, en->rec, k, en->start, c);
		}
	}
	for (i = cp->nstack; i > 0; i--) {
		struct rec *r = &ps->recs[cp->stack[i - 1]];

		if (r->doc != di || r->meta)
			continue;
		/* after the last item of an indentless sequence: the
		 * comment belongs to the mapping around it */
		if (!r->flow && r->node->kind == SOTTO_NODE_SEQ && i >= 2 &&
		    ps->recs[cp->stack[i - 2]].col == r->col &&
		    (r->n == 0 || rec_starts(r)[r->n - 1] < s))
			continue;
		if (r->flow || r->col <= col || r->depth == 0) {
			ri = cp->stack[i - 1];
			break;
		}
	}
	if (ri == SIZE_MAX)
		ri = ps->priv->docs[di].root_rec;
	if (ri == SIZE_MAX) {
		sotto_tree_node_free(c, true);
		return SOTTO_OK;
	}
	k = upper_bound(rec_starts(&ps->recs[ri]), ps->recs[ri].n, s);
	return rec_insert(ps, ri, k, s, c);
}

static sotto_err
find_comments(struct pstate *ps)
{
	const uint8_t *s = ps->src;
	struct cplace cp;
	size_t i, j = 0, e, lpos, line = 1;
	sotto_err err = SOTTO_OK;

	memset(&cp, 0, sizeof(cp));
	/* events come in byte order, so xs is nearly always sorted */
	for (i = 1; i < ps->nxs && ps->xs[i - 1].s <= ps->xs[i].s; i++)
		;
	if (i < ps->nxs)
		qsort(ps->xs, ps->nxs, sizeof(*ps->xs), xspan_cmp);
	i = lpos = ps->cm.base;
	while (i < ps->len && err == SOTTO_OK) {
		while (j < ps->nxs && ps->xs[j].e <= i)
			j++;
		if (j < ps->nxs && ps->xs[j].s <= i) {
			i = ps->xs[j].e;
			continue;
		}
		if (s[i] != '#') {
			/* on to the next '#' before the next scalar */
			size_t lim = j < ps->nxs ? ps->xs[j].s : ps->len;
			const uint8_t *h = memchr(s + i, '#', lim - i);

			i = h != NULL ? (size_t)(h - s) : lim;
			continue;
		}
		if ((i == ps->cm.base || is_blank(s[i - 1]) ||
		    s[i - 1] == '\n' || s[i - 1] == '\r')) {
			for (e = i; e < ps->len && s[e] != '\n' && s[e] != '\r';
			    e++)
				;
			for (; lpos < i; lpos++)
				if (s[lpos] == '\n')
					line++;
			err = place_comment(ps, &cp, i, e, line);
			i = e;
			continue;
		}
		i++;
	}
	free(cp.stack);
	return err;
}

/* ------------------------------------------------------------------ */
/* parse entry point */

static void
yaml_free_priv(void *p)
{
	struct yaml_priv *yp = p;

	if (yp == NULL)
		return;
	free(yp->docs);
	free(yp);
}

static size_t
count_all(const struct sotto_node *n)
{
	size_t i, k = 1;

	for (i = 0; i < n->n; i++)
		k += count_all(n->items[i].val);
	return k;
}

/* take: NULL to copy src, else the buffer holding it, moved into the doc */
static sotto_err
yaml_parse_src(struct sotto_doc **out, const uint8_t *src, size_t len,
    struct sotto_buf *take, const char *name, const struct sotto_limits *lim,
    struct ylayout *lay, struct sotto_error *e)
{
	struct sotto_limits dl = SOTTO_LIMITS_DEFAULT;
	struct pstate ps;
	sotto_err err;
	size_t i;

	*out = NULL;
	if (lim == NULL)
		lim = &dl;
	if (name == NULL)
		name = "-";
	if (len > lim->max_bytes)
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "'%s': input is %zu bytes, more than the limit of %zu",
		    name, len, lim->max_bytes);
	if (len >= 2 && ((src[0] == 0xff && src[1] == 0xfe) ||
	    (src[0] == 0xfe && src[1] == 0xff)))
		return sotto_error_set(e, SOTTO_E_YAML,
		    "'%s': utf-16 input is not supported", name);
	memset(&ps, 0, sizeof(ps));
	ps.name = name;
	ps.lim = lim;
	ps.e = e;
	ps.doc = sotto_tree_doc_new(name);
	ps.priv = calloc(1, sizeof(*ps.priv));
	if (ps.doc == NULL || ps.priv == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "'%s': out of memory",
		    name);
		goto out;
	}
	ps.doc->store = &sotto_store_yaml;
	if ((ps.doc->arena = sotto_tree_arena_new()) == NULL) {
		err = nomem(&ps);
		goto out;
	}
	ps.arena = ps.doc->arena;
	if (sotto_storeutil_set_src(&ps.doc->src, src, len, take) != SOTTO_OK) {
		err = nomem(&ps);
		goto out;
	}
	ps.src = ps.doc->src.data != NULL ? ps.doc->src.data :
	    (const uint8_t *)"";
	ps.len = len;
	if (cmap_init(&ps.cm, ps.src, len) != SOTTO_OK) {
		err = nomem(&ps);
		goto out;
	}
	err = run_events(&ps);
	if (err != SOTTO_OK)
		goto out;
	if (ps.priv->ndocs == 0) {
		ps.doc->nodoc = true;
		if ((err = on_doc_start(&ps, NULL)) != SOTTO_OK ||
		    (err = finish_doc(&ps, len, len)) != SOTTO_OK)
			goto out;
	}
	ps.priv->docs[ps.priv->ndocs - 1].rend = len;
	for (i = 0; i < ps.priv->ndocs; i++) {
		size_t r = ps.priv->docs[i].root_rec;

		if (r != SIZE_MAX) {
			ps.recs[r].rstart = ps.priv->docs[i].rstart;
			ps.recs[r].rend = ps.priv->docs[i].rend;
		}
	}
	err = find_comments(&ps);
	if (err != SOTTO_OK)
		goto out;
	for (i = 0; i < ps.doc->n; i++)
		ps.priv->nnodes += count_all(ps.doc->branches[i]);
	{
		const uint8_t *nl = memchr(ps.src, '\n', len);

		ps.priv->crlf = nl != NULL && nl > ps.src && nl[-1] == '\r';
	}
	ps.doc->store_priv = ps.priv;
	ps.doc->alias_bytes = ps.alias_bytes;
	if (lay != NULL) {
		lay->recs = ps.recs;
		lay->nrec = ps.nrec;
		ps.recs = NULL;
		ps.nrec = 0;
	}
	ps.priv = NULL;
	*out = ps.doc;
	ps.doc = NULL;
out:
	for (i = 0; i < ps.nst; i++) {
		sotto_tree_node_free(ps.st[i].node, true);
		frame_clear(&ps.st[i]);
	}
	free(ps.st);
	for (i = 0; i < ps.nrec; i++)
		free(ps.recs[i].starts);
	free(ps.recs);
	free(ps.ents);
	clear_anchors(&ps);
	free(ps.anch);
	free(ps.xs);
	free(ps.cm.ck);
	sotto_tree_node_free(ps.root, true);
	sotto_tree_node_free(ps.meta, false);
	yaml_free_priv(ps.priv);
	sotto_tree_doc_free(ps.doc);
	return err;
}

static sotto_err
yaml_parse(struct sotto_doc **out, const uint8_t *src, size_t len,
    const char *name, const struct sotto_limits *lim, struct sotto_error *e)
{
	return yaml_parse_src(out, src, len, NULL, name, lim, NULL, e);
}

static sotto_err
yaml_parse_buf(struct sotto_doc **out, struct sotto_buf *in, const char *name,
    const struct sotto_limits *lim, struct sotto_error *e)
{
	return yaml_parse_src(out, in->data != NULL ? in->data :
	    (const uint8_t *)"", in->len, in, name, lim, NULL, e);
}

/* ------------------------------------------------------------------ */
/* scalar analysis and writers (go-yaml v3 emitterc.go rules) */

/* a drained buffer (see sotto_buf_drain) goes out in chunks of this size */
#define EM_DRAIN_BYTES (1024 * 1024)

struct em {
	struct sotto_buf *b;
	size_t best;		/* indent step */
	const char *eol;
	sotto_err err;
	size_t step, seq_step;	/* splice: the document's own indentation
				   of a map / a sequence under a key */
	bool own;		/* splice: write new sequences under keys
				   seq_step right of the key */
};

static void
put(struct em *m, const void *p, size_t n)
{
	if (m->err == SOTTO_OK && sotto_buf_add(m->b, p, n) != SOTTO_OK)
		m->err = SOTTO_E_NOMEM;
	if (m->err == SOTTO_OK && m->b->sink > 0 &&
	    sotto_buf_drain(m->b, EM_DRAIN_BYTES) != SOTTO_OK)
		m->err = SOTTO_E_IO;
}

static void
puts_(struct em *m, const char *s)
{
	put(m, s, strlen(s));
}

static void
spaces(struct em *m, size_t n)
{
	static const char sp[] = "                                ";

	while (n > 0) {
		size_t k = n > 32 ? 32 : n;

		put(m, sp, k);
		n -= k;
	}
}

/* go-yaml's is_printable on the UTF-8 sequence at s[i]. */
static bool
yprintable(const uint8_t *s, size_t n, size_t i)
{
	uint8_t c = s[i], c1 = i + 1 < n ? s[i + 1] : 0,
	    c2 = i + 2 < n ? s[i + 2] : 0;

	return c == 0x0a || (c >= 0x20 && c <= 0x7e) ||
	    (c == 0xc2 && c1 >= 0xa0) || (c > 0xc2 && c < 0xed) ||
	    (c == 0xed && c1 < 0xa0) || c == 0xee ||
	    (c == 0xef && !(c1 == 0xbb && c2 == 0xbf) &&
	    !(c1 == 0xbf && (c2 == 0xbe || c2 == 0xbf)));
}

/*
 * A well-formed 4-byte UTF-8 sequence (U+10000..U+10FFFF).  go-yaml's
 * emitter treats these as non-printable and escapes them, and emit()
 * copies that; but when splicing a value back into the user's own file
 * in its original style, libyaml reads them fine in every style, so the
 * splice path accepts them and the round trip stays byte for byte.
 */
static bool
astral(const uint8_t *s, size_t n, size_t i)
{
	return s[i] >= 0xf0 && s[i] <= 0xf4 && i + 3 < n &&
	    (s[i + 1] & 0xc0) == 0x80 &&
	    (s[i + 2] & 0xc0) == 0x80 && (s[i + 3] & 0xc0) == 0x80;
}

static size_t
ybreak(const uint8_t *s, size_t n, size_t i)
{
	if (s[i] == '\r' || s[i] == '\n')
		return 1;
	if (s[i] == 0xc2 && i + 1 < n && s[i + 1] == 0x85)
		return 2;
	if (s[i] == 0xe2 && i + 2 < n && s[i + 1] == 0x80 &&
	    (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
		return 3;
	return 0;
}

static bool
yblankz(const uint8_t *s, size_t n, size_t i)
{
	return i >= n || s[i] == ' ' || s[i] == '\t' || s[i] == '\0' ||
	    ybreak(s, n, i) > 0;
}

struct ana {
	bool multiline, flow_plain, block_plain, single, block;
};

static void
analyze(const uint8_t *s, size_t n, struct ana *a, bool astral_ok)
{
	bool flow_ind = false, block_ind = false, lead_space = false,
	    lead_break = false, trail_space = false, trail_break = false,
	    break_space = false, space_break = false, prev_space = false,
	    prev_break = false, line_breaks = false, special = false,
	    preceded = true, followed;
	size_t i, w;

	memset(a, 0, sizeof(*a));
	if (n == 0) {
		a->block = a->single = true;
		return;
	}
	if (n >= 3 && ((s[0] == '-' && s[1] == '-' && s[2] == '-') ||
	    (s[0] == '.' && s[1] == '.' && s[2] == '.')))
		flow_ind = block_ind = true;
	for (i = 0; i < n; i += w) {
		uint8_t c = s[i];

		w = u8len(c);
		if (i + w > n)
			w = n - i;
		followed = yblankz(s, n, i + w);
		if (i == 0) {
			if (strchr("#,[]{}&*!|>'\"%@`", c) != NULL && c != 0) {
				flow_ind = block_ind = true;
			} else if (c == '?' || c == ':') {
				flow_ind = true;
				if (followed)
					block_ind = true;
			} else if (c == '-' && followed) {
				flow_ind = block_ind = true;
			}
		} else {
			if (c != 0 && strchr(",?[]{}", c) != NULL) {
				flow_ind = true;
			} else if (c == ':') {
				flow_ind = true;
				if (followed)
					block_ind = true;
			} else if (c == '#' && preceded) {
				flow_ind = block_ind = true;
			}
		}
		if (!yprintable(s, n, i) && !(astral_ok && astral(s, n, i)))
			special = true;
		if (ybreak(s, n, i))
			line_breaks = true;
		if (c == ' ') {
			if (i == 0)
				lead_space = true;
			if (i + w == n)
				trail_space = true;
			if (prev_break)
				break_space = true;
			prev_space = true;
			prev_break = false;
		} else if (ybreak(s, n, i)) {
			if (i == 0)
				lead_break = true;
			if (i + w == n)
				trail_break = true;
			if (prev_space)
				space_break = true;
			prev_break = true;
			prev_space = false;
		} else {
			prev_space = prev_break = false;
		}
		preceded = yblankz(s, n, i);
	}
	a->multiline = line_breaks;
	a->flow_plain = a->block_plain = a->single = a->block = true;
	if (lead_space || lead_break || trail_space || trail_break)
		a->flow_plain = a->block_plain = false;
	if (trail_space)
		a->block = false;
	if (break_space)
		a->flow_plain = a->block_plain = a->single = false;
	if (space_break || special)
		a->flow_plain = a->block_plain = a->single = a->block = false;
	if (line_breaks)
		a->flow_plain = a->block_plain = false;
	if (flow_ind)
		a->flow_plain = false;
	if (block_ind)
		a->block_plain = false;
}

/*
 * A double-quoted scalar, escaped as go-yaml escapes it; lit: characters
 * past U+FFFF stay as they are (the splice path: libyaml reads them back
 * fine, and the user wrote them so) instead of \U escapes.
 */
static void
write_double_(struct em *m, const uint8_t *s, size_t n, bool lit)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i, w, k;
	uint32_t cp;
	char esc[12];

	put(m, "\"", 1);
	for (i = 0; i < n; i += w) {
		uint8_t c = s[i];

		/* a run of printable ASCII needing no escape goes at once */
		for (w = 0; i + w < n && s[i + w] >= 0x20 && s[i + w] < 0x7f &&
		    s[i + w] != '"' && s[i + w] != '\\'; w++)
			;
		if (w > 0) {
			put(m, s + i, w);
			continue;
		}
		w = u8len(c);
		if (i + w > n)
			w = n - i;
		if (((yprintable(s, n, i) && !ybreak(s, n, i)) ||
		    (lit && astral(s, n, i))) && c != '"' &&
		    c != '\\' && !(c == 0xef && i + 2 < n &&
		    s[i + 1] == 0xbb && s[i + 2] == 0xbf)) {
			put(m, s + i, w);
			continue;
		}
		/* decode the code point (invalid bytes: one at a time) */
		cp = c;
		if (w == 2 && (s[i + 1] & 0xc0) == 0x80)
			cp = ((uint32_t)(c & 0x1f) << 6) | (s[i + 1] & 0x3f);
		else if (w == 3 && (s[i + 1] & 0xc0) == 0x80 &&
		    (s[i + 2] & 0xc0) == 0x80)
			cp = ((uint32_t)(c & 0x0f) << 12) |
			    ((uint32_t)(s[i + 1] & 0x3f) << 6) |
			    (s[i + 2] & 0x3f);
		else if (w == 4 && (s[i + 1] & 0xc0) == 0x80 &&
		    (s[i + 2] & 0xc0) == 0x80 && (s[i + 3] & 0xc0) == 0x80)
			cp = ((uint32_t)(c & 0x07) << 18) |
			    ((uint32_t)(s[i + 1] & 0x3f) << 12) |
			    ((uint32_t)(s[i + 2] & 0x3f) << 6) |
			    (s[i + 3] & 0x3f);
		else
			w = 1;
		switch (cp) {
		case 0: puts_(m, "\\0"); continue;
		case 7: puts_(m, "\\a"); continue;
		case 8: puts_(m, "\\b"); continue;
		case 9: puts_(m, "\\t"); continue;
		case 0xa: puts_(m, "\\n"); continue;
		case 0xb: puts_(m, "\\v"); continue;
		case 0xc: puts_(m, "\\f"); continue;
		case 0xd: puts_(m, "\\r"); continue;
		case 0x1b: puts_(m, "\\e"); continue;
		case '"': puts_(m, "\\\""); continue;
		case '\\': puts_(m, "\\\\"); continue;
		case 0x85: puts_(m, "\\N"); continue;
		case 0xa0: puts_(m, "\\_"); continue;
		case 0x2028: puts_(m, "\\L"); continue;
		case 0x2029: puts_(m, "\\P"); continue;
		default: break;
		}
		if (cp <= 0xff) {
			esc[0] = '\\';
			esc[1] = 'x';
			k = 2;
		} else if (cp <= 0xffff) {
			esc[0] = '\\';
			esc[1] = 'u';
			k = 4;
		} else {
			esc[0] = '\\';
			esc[1] = 'U';
			k = 8;
		}
		for (size_t j = 0; j < k; j++)
			esc[2 + j] = hx[(cp >> (4 * (k - 1 - j))) & 0xf];
		put(m, esc, 2 + k);
	}
	put(m, "\"", 1);
}

static void
write_double(struct em *m, const uint8_t *s, size_t n)
{
	write_double_(m, s, n, false);
}

static void
write_single(struct em *m, const uint8_t *s, size_t n)
{
	size_t i;

	put(m, "'", 1);
	for (i = 0; i < n; i++) {
		if (s[i] == '\'')
			put(m, "'", 1);
		put(m, s + i, 1);
	}
	put(m, "'", 1);
}

enum sstyle { SS_PLAIN, SS_SINGLE, SS_DOUBLE, SS_LITERAL };

/* Style yaml.v3 picks for a string (key/flow: no block scalars). */
static enum sstyle
string_style(const uint8_t *s, size_t n, bool key, bool flow)
{
	struct ana a;
	bool can_plain;

	analyze(s, n, &a, false);
	if (memchr(s, '\n', n) != NULL) {
		if (key || flow || !a.block)
			return SS_DOUBLE;
		/* CR and friends do not survive a literal block */
		for (size_t i = 0; i < n; i++)
			if (s[i] == '\r' || s[i] == '\t' ||
			    (ybreak(s, n, i) > 1))
				return SS_DOUBLE;
		return SS_LITERAL;
	}
	can_plain = resolves_to_str((const char *)s, n) &&
	    !is_base60_float((const char *)s, n) &&
	    !is_old_bool((const char *)s, n);
	if (!can_plain)
		return SS_DOUBLE;
	if ((flow && a.flow_plain) || (!flow && a.block_plain))
		return SS_PLAIN;
	if (a.single)
		return SS_SINGLE;
	return SS_DOUBLE;
}

/* Text yaml.v3 writes for a non-string scalar. */
static const char *
nonstr_text(const struct sotto_node *n, char *buf, size_t cap)
{
	const char *t = n->canon != NULL ? n->canon : n->text;
	size_t tl = strlen(t);
	double f;
	bool b;
	struct rval v;

	switch (n->type) {
	case SOTTO_T_NULL:
		return "null";
	case SOTTO_T_BOOL:
		if (sotto_gofmt_parse_bool(t, tl, &b))
			return b ? "true" : "false";
		if (resolve_plain(t, tl, false, &v) == R_BOOL)
			return v.b ? "true" : "false";
		return t;
	case SOTTO_T_FLOAT:
		if (!sotto_gofmt_parse_float(t, tl, &f)) {
			if (resolve_plain(t, tl, false, &v) != R_FLOAT)
				return t;
			f = v.f;
		}
		if (isnan(f))
			return ".nan";
		if (isinf(f))
			return f > 0 ? ".inf" : "-.inf";
		if (sotto_gofmt_float_g(buf, cap, f) < 0)
			return t;
		return buf;
	case SOTTO_T_TIME:
		return n->text;	/* as written: a time's canon is sops' */
	case SOTTO_T_INT:
	default:
		return t;
	}
}

static bool
is_str(const struct sotto_node *n)
{
	return n->type == SOTTO_T_STR || n->type == SOTTO_T_BYTES;
}

static void
write_literal_body(struct em *m, const uint8_t *s, size_t n, size_t ind)
{
	size_t i;
	bool bol = true;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n') {
			puts_(m, m->eol);
			bol = true;
			continue;
		}
		if (bol)
			spaces(m, ind);
		bol = false;
		put(m, s + i, 1);
	}
	if (n == 0 || s[n - 1] != '\n')
		puts_(m, m->eol);
}

/* " |-" and friends; digit 0 = none. */
static void
write_block_header(struct em *m, char ind, const uint8_t *s, size_t n,
    int digit)
{
	char h[4];
	size_t k = 0;

	h[k++] = ind;
	if (digit > 0)
		h[k++] = (char)('0' + digit);
	if (n == 0 || s[n - 1] != '\n')
		h[k++] = '-';
	else if (n == 1 || s[n - 2] == '\n')
		h[k++] = '+';
	put(m, h, k);
}

static bool
needs_indicator(const uint8_t *s, size_t n)
{
	return n > 0 && (s[0] == ' ' || s[0] == '\n');
}

/* Writes an inline (non-block) scalar: key or flow-safe value. */
static void
write_inline(struct em *m, const struct sotto_node *n, bool key, bool flow)
{
	char buf[SOTTO_GOFMT_FLOAT_MAX];
	const uint8_t *s = (const uint8_t *)n->text;

	if (!is_str(n)) {
		puts_(m, nonstr_text(n, buf, sizeof(buf)));
		return;
	}
	switch (string_style(s, n->len, key, flow)) {
	case SS_PLAIN:
		put(m, s, n->len);
		break;
	case SS_SINGLE:
		write_single(m, s, n->len);
		break;
	default:
		write_double(m, s, n->len);
		break;
	}
}

/*
 * Keys longer than this are written as explicit "? key" entries, as
 * yaml.v3 and libyaml do (their simple-key limit): a YAML parser refuses
 * an implicit key longer than 1024 characters.
 */
#define EM_SIMPLE_KEY_MAX 128

static void
write_key(struct em *m, const char *k, size_t kl)
{
	struct sotto_node tmp;

	memset(&tmp, 0, sizeof(tmp));
	tmp.kind = SOTTO_NODE_SCALAR;
	tmp.type = SOTTO_T_STR;
	tmp.text = (char *)(uintptr_t)k;
	tmp.len = kl;
	write_inline(m, &tmp, true, false);
}

static size_t
align_up(const struct em *m, size_t ind)
{
	return m->best * ((ind + m->best) / m->best);
}

static void em_seq(struct em *, const struct sotto_node *, size_t, bool);
static void em_map_(struct em *, const struct sotto_node *, size_t, bool);

static void
write_comment_line(struct em *m, const struct sotto_node *c)
{
	size_t i;

	put(m, "#", 1);
	for (i = 0; i < c->len; i++)
		put(m, (c->text[i] == '\n' || c->text[i] == '\r') ? " " :
		    c->text + i, 1);
	puts_(m, m->eol);
}

static bool
only_comments(const struct sotto_node *n)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		if (n->items[i].val->kind != SOTTO_NODE_COMMENT)
			return false;
	return true;
}

/* A value after "key:" or "-" (the indicator is written). */
static void
em_value(struct em *m, const struct sotto_node *v, size_t parent,
    size_t child, bool in_seq)
{
	const uint8_t *s = (const uint8_t *)v->text;

	switch (v->kind) {
	case SOTTO_NODE_MAP:
		if (v->n == 0 || only_comments(v)) {
			puts_(m, " {}");
			puts_(m, m->eol);
			return;
		}
		if (in_seq) {
			put(m, " ", 1);
			em_map_(m, v, child, true);
		} else {
			puts_(m, m->eol);
			em_map_(m, v, child, false);
		}
		return;
	case SOTTO_NODE_SEQ:
		if (v->n == 0 || only_comments(v)) {
			puts_(m, " []");
			puts_(m, m->eol);
			return;
		}
		if (in_seq) {
			put(m, " ", 1);
			em_seq(m, v, child, true);
		} else {
			puts_(m, m->eol);
			em_seq(m, v, child, false);
		}
		return;
	case SOTTO_NODE_COMMENT:
		put(m, " ", 1);
		write_comment_line(m, v);
		return;
	default:
		break;
	}
	if (is_str(v) && string_style(s, v->len, false, false) ==
	    SS_LITERAL) {
		size_t ind = in_seq ? parent + 2 : align_up(m, parent);
		int digit = 0;

		if (needs_indicator(s, v->len)) {
			if (ind - parent < 1 || ind - parent > 9) {
				put(m, " ", 1);
				write_double(m, s, v->len);
				puts_(m, m->eol);
				return;
			}
			digit = (int)(ind - parent);
		}
		put(m, " ", 1);
		write_block_header(m, '|', s, v->len, digit);
		puts_(m, m->eol);
		write_literal_body(m, s, v->len, ind);
		return;
	}
	put(m, " ", 1);
	write_inline(m, v, false, false);
	puts_(m, m->eol);
}

/*
 * The value of an explicit "? key" entry, after its ":" at column ind:
 * a collection starts on the same line at the child column, as yaml.v3
 * writes it (":   a: 1"), unless the indent leaves no room for that.
 */
static void
em_explicit_value(struct em *m, const struct sotto_node *v, size_t ind)
{
	size_t child = align_up(m, ind);

	if ((v->kind == SOTTO_NODE_MAP || v->kind == SOTTO_NODE_SEQ) &&
	    v->n > 0 && !only_comments(v) && child >= ind + 2) {
		spaces(m, child - ind - 2);
		em_value(m, v, ind, child, true);
		return;
	}
	em_value(m, v, ind, child, false);
}

static void
em_map_(struct em *m, const struct sotto_node *map, size_t ind, bool inl)
{
	size_t i;

	for (i = 0; i < map->n; i++) {
		const struct sotto_entry *en = &map->items[i];

		if (!(inl && i == 0))
			spaces(m, ind);
		if (en->val->kind == SOTTO_NODE_COMMENT || en->key == NULL) {
			if (en->val->kind == SOTTO_NODE_COMMENT)
				write_comment_line(m, en->val);
			else
				puts_(m, m->eol);
			continue;
		}
		if (en->keylen > EM_SIMPLE_KEY_MAX) {
			put(m, "? ", 2);
			write_key(m, en->key, en->keylen);
			puts_(m, m->eol);
			spaces(m, ind);
			put(m, ":", 1);
			em_explicit_value(m, en->val, ind);
			continue;
		}
		write_key(m, en->key, en->keylen);
		put(m, ":", 1);
		em_value(m, en->val, ind, m->own && en->val->kind ==
		    SOTTO_NODE_SEQ ? ind + m->seq_step : align_up(m, ind),
		    false);
	}
}

static void
em_seq(struct em *m, const struct sotto_node *seq, size_t ind, bool inl)
{
	size_t i;

	for (i = 0; i < seq->n; i++) {
		const struct sotto_node *v = seq->items[i].val;

		if (!(inl && i == 0))
			spaces(m, ind);
		if (v->kind == SOTTO_NODE_COMMENT) {
			write_comment_line(m, v);
			continue;
		}
		put(m, "-", 1);
		em_value(m, v, ind, ind + 2, true);
	}
}

/* ------------------------------------------------------------------ */
/* emit: canonical output like sops' yaml.v3 encoder */

static void
em_meta(struct em *m, const struct sotto_node *meta)
{
	puts_(m, "sops:");
	em_value(m, meta, 0, align_up(m, 0), false);
}

/*
 * The sops entry appended by splice, at the column of the document's
 * keys; nl: end with a line break (not when the source ends without
 * one: the encrypted file then ends without one too, which is how its
 * decryption knows to leave the last line as it was).
 */
static void
em_meta_at(struct em *m, const struct sotto_node *meta, size_t col, bool nl)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	struct em t = *m;
	size_t el = strlen(m->eol);

	t.b = &b;
	t.own = false;		/* sops' own layout */
	spaces(&t, col);
	puts_(&t, "sops:");
	em_value(&t, meta, col, align_up(&t, col), false);
	if (t.err != SOTTO_OK)
		m->err = t.err;
	else if (!nl && b.len >= el)
		put(m, b.data, b.len - el);
	else
		put(m, b.data, b.len);
	sotto_buf_release(&b);
}

static void
em_branch(struct em *m, const struct sotto_node *b,
    const struct sotto_node *meta)
{
	if (b->kind == SOTTO_NODE_MAP && meta == NULL && only_comments(b)) {
		/* comments, then the empty mapping, as go-yaml writes a
		 * mapping with no entries and a head comment */
		em_map_(m, b, 0, false);
		puts_(m, "{}");
		puts_(m, m->eol);
	} else if (b->kind == SOTTO_NODE_MAP && (b->n > 0 || meta != NULL))
		em_map_(m, b, 0, false);
	else if (b->kind == SOTTO_NODE_SEQ && b->n > 0)
		em_seq(m, b, 0, false);
	else if (meta == NULL) {
		puts_(m, b->kind == SOTTO_NODE_SEQ ? "[]" : "{}");
		puts_(m, m->eol);
	}
	if (meta != NULL)
		em_meta(m, meta);
}

static sotto_err
yaml_emit(struct sotto_buf *out, const struct sotto_doc *doc,
    const struct sotto_node *meta, const struct sotto_emit_opts *o,
    struct sotto_error *e)
{
	struct em m;
	size_t i;

	memset(&m, 0, sizeof(m));
	m.b = out;
	m.best = o != NULL && o->indent > 0 ? (size_t)o->indent : 4;
	m.eol = "\n";
	m.err = SOTTO_OK;
	if (o != NULL && o->indent == 0)
		m.best = 4;
	for (i = 0; i < doc->n; i++) {
		if (i > 0)
			puts_(&m, "---\n");
		em_branch(&m, doc->branches[i], meta);
	}
	if (m.err == SOTTO_E_IO)
		return sotto_error_set(e, m.err,
		    "cannot write to standard output");
	if (m.err != SOTTO_OK)
		return sotto_error_set(e, m.err, "'%s': out of memory",
		    doc->name != NULL ? doc->name : "-");
	return SOTTO_OK;
}

static sotto_err
yaml_emit_value(struct sotto_buf *out, const struct sotto_node *n,
    const struct sotto_emit_opts *o, struct sotto_error *e)
{
	char buf[SOTTO_GOFMT_FLOAT_MAX];
	struct em m;

	memset(&m, 0, sizeof(m));
	m.b = out;
	m.best = o != NULL && o->indent > 0 ? (size_t)o->indent : 4;
	m.eol = "\n";
	m.err = SOTTO_OK;
	switch (n->kind) {
	case SOTTO_NODE_SCALAR:
		if (is_str(n))
			put(&m, n->text, n->len);
		else {
			puts_(&m, nonstr_text(n, buf, sizeof(buf)));
			puts_(&m, "\n");
		}
		break;
	case SOTTO_NODE_COMMENT:
		write_comment_line(&m, n);
		break;
	default:
		em_branch(&m, n, NULL);
		break;
	}
	if (m.err == SOTTO_E_IO)
		return sotto_error_set(e, m.err,
		    "cannot write to standard output");
	if (m.err != SOTTO_OK)
		return sotto_error_set(e, m.err, "out of memory");
	return SOTTO_OK;
}

/* ------------------------------------------------------------------ */
/* emit_splice */

/* At one offset, edits apply in this order: an insertion (E_ABLOCK) goes
 * before an edit that replaces bytes from there. */
enum ekind { E_ABLOCK, E_INSERT, E_SCALAR, E_BHDR, E_BBODY, E_COMMENT,
	E_REMOVE, E_META, E_EMPTY, E_ALINE, E_AFLOW, E_LITERAL };

struct edit {
	size_t s, e;
	enum ekind kind;
	const struct sotto_node *n;
	size_t i0, i1, col;	/* E_INSERT: items [i0, i1) of n, written
				   at column col */
};

/*
 * The tree is walked twice.  The first walk (SC_COUNT) only checks that the
 * edits come in byte order and sizes the output; the second (SC_EMIT)
 * writes each edit as the walk meets it, merging in the few metadata edits
 * (med), so no list of every edit is held.  Out-of-order edits (SC_STORE)
 * are collected and sorted instead.
 */
enum smode { SC_STORE, SC_COUNT, SC_EMIT };

struct em;

struct scan {
	const uint8_t *src;	/* doc->src, for block scalar bounds */
	size_t len;		/* bytes of src */
	enum smode mode;	/* what push_edit does */
	struct edit *ed;	/* SC_STORE: the edits */
	size_t ned, ced;	/* edits seen (all modes), allocated */
	size_t count;
	bool fallback;
	bool skip_new;		/* structural splice: nodes built in memory
				   are written by E_INSERT edits */
	bool nomem;
	bool unsorted;		/* SC_COUNT: an edit sorted before the last */
	struct edit last;	/* SC_COUNT: previous edit */
	size_t cut, add;	/* SC_COUNT: bytes replaced, new text estimate */
	struct em *m;		/* SC_EMIT: output */
	size_t pos;		/* SC_EMIT: source bytes consumed */
	const struct edit *med;	/* SC_EMIT: metadata edits, sorted */
	size_t nmed, imed;	/* SC_EMIT: count, next to write */
};

static int edit_cmp(const void *, const void *);
static void apply_edit(struct em *, const uint8_t *, size_t, size_t *,
    const struct edit *);

static bool
push_edit(struct scan *sc, size_t s, size_t e, enum ekind k,
    const struct sotto_node *n)
{
	struct edit ed;

	memset(&ed, 0, sizeof(ed));
	ed.s = s;
	ed.e = e;
	ed.kind = k;
	ed.n = n;
	if (sc->mode == SC_COUNT) {
		if (sc->ned > 0 && edit_cmp(&sc->last, &ed) > 0)
			sc->unsorted = true;
		sc->last = ed;
		sc->ned++;
		sc->cut += e - s;
		if (n != NULL)
			sc->add += n->len + n->len / 8 + 16;
		return true;
	}
	if (sc->mode == SC_EMIT) {
		/* a stable sort would put equal metadata edits after ours */
		while (sc->imed < sc->nmed &&
		    edit_cmp(&sc->med[sc->imed], &ed) < 0)
			apply_edit(sc->m, sc->src, sc->len, &sc->pos,
			    &sc->med[sc->imed++]);
		apply_edit(sc->m, sc->src, sc->len, &sc->pos, &ed);
		return true;
	}
	if (!ARR_PUSH(sc->ed, sc->ned, sc->ced)) {
		sc->nomem = true;
		return false;
	}
	sc->ed[sc->ned] = ed;
	sc->ned++;
	return true;
}

static void block_bounds(const uint8_t *, size_t, const struct sotto_node *,
    size_t *, size_t *, size_t *);
static bool is_str(const struct sotto_node *);

/*
 * The tag token of the scalar whose text starts at start ("!!int 5",
 * "&a !!int 5", "!!int &a 5"), with the blanks after it, as [*ts, *te):
 * what to cut so that the text stands untagged.  False if none is found.
 */
static bool
tag_span(const uint8_t *src, size_t start, size_t *ts, size_t *te)
{
	size_t p = start, t, e;
	int k;

	for (k = 0; k < 2; k++) {
		e = p;
		while (p > 0 && (is_blank(src[p - 1]) || src[p - 1] == '\n' ||
		    src[p - 1] == '\r'))
			p--;
		t = p;
		while (t > 0 && !is_blank(src[t - 1]) && src[t - 1] != '\n' &&
		    src[t - 1] != '\r')
			t--;
		if (t == p || (src[t] != '!' && src[t] != '&'))
			return false;
		if (src[t] == '!') {
			*ts = t;
			*te = e;
			return true;
		}
		p = t;
	}
	return false;
}

static size_t count_all(const struct sotto_node *);
static bool any_dirty(const struct sotto_node *);
static bool only_comments(const struct sotto_node *);

/*
 * The copy made for an alias, with something in it changed (a value
 * encrypted, set or decrypted): sops has no aliases, so the copy is
 * written out in place of "*name", in the document's own indentation.
 * Three shapes: in a flow collection (or when empty) as flow text; as
 * the rest of its line; or, when a comment follows "*name" on its line,
 * the token goes and the block comes after that line.
 */
static void
scan_alias(struct scan *sc, const struct sotto_node *n, size_t len)
{
	const uint8_t *src = sc->src;
	size_t ts = n->src_start, te = n->src_end, b = ts, r = te;

	sc->count += count_all(n) - 1;
	if ((n->flags & YF_FLOW) || only_comments(n)) {
		push_edit(sc, ts, te, E_AFLOW, n);
		return;
	}
	while (b > 0 && is_blank(src[b - 1]))
		b--;
	while (r < len && is_blank(src[r]))
		r++;
	if (r >= len || src[r] == '\n' || src[r] == '\r') {
		push_edit(sc, b, to_eol_incl(src, len, te), E_ALINE, n);
		return;
	}
	push_edit(sc, b, te, E_REMOVE, NULL);
	r = to_eol_incl(src, len, te);
	push_edit(sc, r, r, E_ABLOCK, n);
}

/*
 * A string with line breaks in a plain span (sops writes every encrypted
 * value plain) is written as go-yaml writes it, a literal block, when
 * that can hold it and nothing but blanks follows on the line: returns
 * where the edit ends (past the line break), else 0.
 */
static size_t
literal_end(const uint8_t *src, size_t len, const struct sotto_node *n)
{
	size_t r = n->src_end;

	if ((n->style & YS_MASK) != YS_PLAIN || (n->flags & YF_FLOW) ||
	    !is_str(n) || (n->flags >> YF_PARENT_SHIFT) == YF_NOCOL ||
	    memchr(n->text, '\n', n->len) == NULL ||
	    string_style((const uint8_t *)n->text, n->len, false, false) !=
	    SS_LITERAL)
		return 0;
	while (r < len && is_blank(src[r]))
		r++;
	if (r < len && src[r] != '\n' && src[r] != '\r')
		return 0;
	return to_eol_incl(src, len, r);
}

static void
scan_tree(struct scan *sc, const struct sotto_node *n, size_t len)
{
	size_t i;

	sc->count++;
	if ((n->flags & YF_ALIASROOT) && n->src_start != SOTTO_SPAN_NONE &&
	    n->src_end <= len && n->src_start <= n->src_end &&
	    n->kind != SOTTO_NODE_SCALAR) {
		if (any_dirty(n)) {
			scan_alias(sc, n, len);
			return;
		}
	} else if ((n->flags & YF_ALIASROOT) &&
	    n->kind == SOTTO_NODE_SCALAR && n->dirty &&
	    n->src_start != SOTTO_SPAN_NONE && n->src_end <= len &&
	    n->src_start <= n->src_end) {
		/* "*name" becomes the value, on one line */
		push_edit(sc, n->src_start, n->src_end, E_SCALAR, n);
		return;
	}
	if (n->kind == SOTTO_NODE_SCALAR || n->kind == SOTTO_NODE_COMMENT) {
		bool nospan = n->src_start == SOTTO_SPAN_NONE ||
		    n->src_end == SOTTO_SPAN_NONE || n->src_end > len ||
		    n->src_start > n->src_end;

		if (nospan && sc->skip_new && !(n->flags & YF_ALIAS))
			return;
		if (nospan && (n->dirty || !(n->flags & YF_ALIAS)))
			sc->fallback = true;
		if (n->dirty && !nospan) {
			int st = n->style & YS_MASK;

			if (n->kind == SOTTO_NODE_COMMENT)
				push_edit(sc, n->src_start, n->src_end,
				    E_COMMENT, n);
			else if (st == YS_LITERAL || st == YS_FOLDED) {
				/* header and body edits, in byte order */
				size_t he, cs, ce;

				block_bounds(sc->src, len, n, &he, &cs, &ce);
				if (push_edit(sc, n->src_start, he, E_BHDR, n))
					push_edit(sc, cs, ce, E_BBODY, n);
			}
			else {
				size_t ts, te;

				/* "!!int ENC[...]" would not read back */
				if ((n->flags & YF_TYPETAG) && is_str(n) &&
				    tag_span(sc->src, n->src_start, &ts, &te))
					push_edit(sc, ts, te, E_REMOVE, NULL);
				if ((te = literal_end(sc->src, len, n)) != 0)
					push_edit(sc, n->src_start, te,
					    E_LITERAL, n);
				else
					push_edit(sc, n->src_start, n->src_end,
					    E_SCALAR, n);
			}
		}
		return;
	}
	if (n->src_start == SOTTO_SPAN_NONE && !(n->flags & YF_ALIAS)) {
		if (sc->skip_new)
			return;
		sc->fallback = true;
	}
	for (i = 0; i < n->n; i++)
		scan_tree(sc, n->items[i].val, len);
}

static bool
any_dirty(const struct sotto_node *n)
{
	size_t i;

	if (n == NULL)
		return false;
	if (n->dirty)
		return true;
	for (i = 0; i < n->n; i++)
		if (any_dirty(n->items[i].val))
			return true;
	return false;
}

static bool
tree_equal(const struct sotto_node *a, const struct sotto_node *b)
{
	size_t i;

	if (a == b)
		return true;
	if (a == NULL || b == NULL || a->kind != b->kind || a->n != b->n)
		return false;
	if (a->kind == SOTTO_NODE_SCALAR || a->kind == SOTTO_NODE_COMMENT) {
		if (a->type != b->type || a->len != b->len ||
		    memcmp(a->text, b->text, a->len) != 0)
			return false;
	}
	for (i = 0; i < a->n; i++) {
		const struct sotto_entry *x = &a->items[i], *y = &b->items[i];

		if ((x->key == NULL) != (y->key == NULL))
			return false;
		if (x->key != NULL && (x->keylen != y->keylen ||
		    memcmp(x->key, y->key, x->keylen) != 0))
			return false;
		if (!tree_equal(x->val, y->val))
			return false;
	}
	return true;
}

/* Document i's sops metadata stays as it is in the source (meta, the new
 * one, equals it and neither was edited). */
static bool
meta_kept(const struct sotto_doc *doc, const struct sotto_node *meta,
    size_t i)
{
	return meta != NULL && doc->meta[i] != NULL &&
	    tree_equal(meta, doc->meta[i]) && !any_dirty(meta) &&
	    !any_dirty(doc->meta[i]);
}

static int
edit_cmp(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

/* True when text can be written as a plain scalar and read back the same. */
/* Can text be a plain scalar here (whatever it resolves to)? */
static bool
plain_shape(const struct sotto_node *n, bool flow)
{
	struct ana a;

	if (n->len == 0)
		return false;
	analyze((const uint8_t *)n->text, n->len, &a, true);
	return flow ? a.flow_plain : a.block_plain;
}

static bool
single_ok(const struct sotto_node *n)
{
	size_t i;

	for (i = 0; i < n->len; i += u8len((uint8_t)n->text[i]))
		if ((!yprintable((const uint8_t *)n->text, n->len, i) &&
		    !astral((const uint8_t *)n->text, n->len, i)) ||
		    ybreak((const uint8_t *)n->text, n->len, i))
			return false;
	return true;
}

/*
 * A float is written as its text says when that spelling reads back as
 * this float in go-yaml and is no integer to any YAML reader (it has a
 * '.' or an exponent: ".inf", "1.50", "1e21"); otherwise as go-yaml
 * writes the value, as sops prints it ("1234568000", sops' 'f' form of
 * 1.234568e+09, is an integer to YAML; "+Inf" is a string).
 */
static bool
float_as_written(const char *t, size_t n)
{
	struct rval v;

	if (resolve_plain(t, n, false, &v) != R_FLOAT)
		return false;
	return memchr(t, '.', n) != NULL || memchr(t, 'e', n) != NULL ||
	    memchr(t, 'E', n) != NULL;
}

/* A non-string scalar in the splice: its text where YAML reads it back
 * as the same value, else go-yaml's spelling of the value. */
static bool
nonstr_kept(const struct sotto_node *n)
{
	struct rval v;

	if (n->len == 0)
		return n->type == SOTTO_T_NULL;
	switch (n->type) {
	case SOTTO_T_FLOAT:
		return float_as_written(n->text, n->len);
	case SOTTO_T_BOOL:
		/* sops' own "True"/"False" print as go-yaml prints a bool */
		return resolve_plain(n->text, n->len, false, &v) == R_BOOL &&
		    !streq(n->text, n->len, "True") &&
		    !streq(n->text, n->len, "False");
	default:
		return true;
	}
}

static void
render_nonstr(struct em *m, const struct sotto_node *n)
{
	char buf[SOTTO_GOFMT_FLOAT_MAX];

	if (n->type == SOTTO_T_NULL && n->len == 0)
		puts_(m, "null");
	else if (nonstr_kept(n))
		put(m, n->text, n->len);
	else
		puts_(m, nonstr_text(n, buf, sizeof(buf)));
}

/*
 * A string in the splice, in the style its span had where that reads it
 * back the same.  A plain one that go-yaml would quote (it resolves to
 * another type, or YAML 1.1 reads it as a bool or a base 60 number:
 * "off", "yes", "1:20") gets go-yaml's double quotes, as sops prints it.
 * In a flow collection a plain value that cannot stay plain (an ENC[...]
 * value has commas) is single-quoted, and a single-quoted one decrypts
 * plain where plain reads back the same: so a plain flow value survives
 * encryption, and only single quotes a value did not need are lost.
 */
static void
render_str(struct em *m, const struct sotto_node *n, int st)
{
	const uint8_t *s = (const uint8_t *)n->text;
	bool flow = (n->flags & YF_FLOW) != 0, go_quote;

	if (st != YS_PLAIN && st != YS_SINGLE) {
		write_double_(m, s, n->len, true);
		return;
	}
	go_quote = go_quotes(n->text, n->len);
	if (!go_quote && (st == YS_PLAIN || flow) && plain_shape(n, flow))
		put(m, s, n->len);
	else if ((st == YS_SINGLE || !go_quote) && single_ok(n))
		write_single(m, s, n->len);
	else
		write_double_(m, s, n->len, true);
}

static void
render_flat(struct em *m, const struct sotto_node *n, int st)
{
	if (!is_str(n))
		render_nonstr(m, n);
	else
		render_str(m, n, st);
}

/* Can a block scalar hold this text? */
static bool
block_ok(const struct sotto_node *n)
{
	const uint8_t *s = (const uint8_t *)n->text;
	size_t i;

	for (i = 0; i < n->len; i += u8len(s[i])) {
		if (s[i] == '\n')
			continue;
		if (s[i] == '\t')
			continue;
		if ((!yprintable(s, n->len, i) && !astral(s, n->len, i)) ||
		    ybreak(s, n->len, i))
			return false;
	}
	return true;
}

/*
 * Folded block: would the line breaks from s[i] on be folded when read
 * back?  Only those between two lines that start with no blank (YAML
 * keeps the breaks around a more-indented line); each then needs one
 * more, as an empty line, since no line is ever wrapped.  ls: where the
 * line ending at s[i] starts.
 */
static bool
fold_here(const uint8_t *s, size_t body, size_t ls, size_t i)
{
	size_t j = i;

	if (s[ls] == ' ' || s[ls] == '\t')
		return false;
	while (j < body && s[j] == '\n')
		j++;
	return j < body && s[j] != ' ' && s[j] != '\t';
}

struct bplan {
	bool as_flat;		/* render double-quoted instead */
	bool literal;
	int digit;
	size_t ind;
};

static void
plan_block(const struct sotto_node *n, struct bplan *p)
{
	const uint8_t *s = (const uint8_t *)n->text;
	size_t parent = n->flags >> YF_PARENT_SHIFT;

	memset(p, 0, sizeof(*p));
	p->ind = (size_t)n->style >> 8;
	p->literal = (n->style & YS_MASK) == YS_LITERAL;
	if (!is_str(n) || !block_ok(n)) {
		p->as_flat = true;
		return;
	}
	if (needs_indicator(s, n->len) && s[0] == ' ') {
		if (p->ind <= parent || p->ind - parent > 9) {
			p->as_flat = true;
			return;
		}
		p->digit = (int)(p->ind - parent);
	}
}

/* Blank lines following a block scalar's last content line. */
static size_t
blank_after(const uint8_t *src, size_t len, size_t ce)
{
	size_t p = to_eol_incl(src, len, ce), blank = 0;

	while (p < len) {
		size_t q = p;

		while (q < len && is_blank(src[q]))
			q++;
		if (q >= len || (src[q] != '\n' && src[q] != '\r'))
			break;
		blank++;
		p = to_eol_incl(src, len, q);
	}
	return blank;
}

static void
render_bhdr(struct em *m, const struct sotto_node *n, const uint8_t *src,
    size_t len, size_t he, size_t cs, size_t ce)
{
	const uint8_t *s = (const uint8_t *)n->text;
	struct bplan p;
	size_t k = 0, i;
	bool keep = false;

	plan_block(n, &p);
	if (p.as_flat) {
		write_double_(m, s, n->len, true);
		return;
	}
	for (i = n->src_start + 1; i < he; i++) {
		if (src[i] == '+')
			keep = true;
		/* an indentation indicator the text does not need stays:
		 * the content lines keep their indentation anyway */
		if (src[i] >= '1' && src[i] <= '9' && p.digit == 0)
			p.digit = src[i] - '0';
	}
	while (k < n->len && s[n->len - 1 - k] == '\n')
		k++;
	/* "|+" holding one final newline reads the same as "|" */
	if (keep && k == 1 && ce > cs && blank_after(src, len, ce) == 0) {
		char h[3];
		size_t hl = 0;

		h[hl++] = p.literal ? '|' : '>';
		if (p.digit > 0)
			h[hl++] = (char)('0' + p.digit);
		h[hl++] = '+';
		put(m, h, hl);
		return;
	}
	write_block_header(m, p.literal ? '|' : '>', s, n->len, p.digit);
}

static void
render_bbody(struct em *m, const struct sotto_node *n, const uint8_t *src,
    size_t len, size_t cs, size_t ce)
{
	const uint8_t *s = (const uint8_t *)n->text;
	size_t body = n->len, k, i, blank = 0, ls = 0;
	struct bplan pl;
	bool bol = true;

	plan_block(n, &pl);
	if (pl.as_flat)
		return;
	while (body > 0 && s[body - 1] == '\n')
		body--;
	k = n->len - body;
	if (ce == cs && cs == len && len > 0 && src[len - 1] != '\n' &&
	    src[len - 1] != '\r' && body > 0)
		puts_(m, m->eol);
	for (i = 0; i < body; i++) {
		const uint8_t *nl;
		size_t run;

		if (s[i] == '\n') {
			if (!pl.literal && i > 0 && s[i - 1] != '\n' &&
			    fold_here(s, body, ls, i))
				puts_(m, m->eol);
			puts_(m, m->eol);
			bol = true;
			ls = i + 1;
			continue;
		}
		if (bol)
			spaces(m, pl.ind);
		bol = false;
		nl = memchr(s + i, '\n', body - i);
		run = nl != NULL ? (size_t)(nl - (s + i)) : body - i;
		put(m, s + i, run);
		i += run - 1;
	}
	if (ce == cs) {
		/* nothing was there: terminate our own last line */
		if (body > 0)
			puts_(m, m->eol);
		return;
	}
	blank = blank_after(src, len, ce);
	if (ce >= len && k > 0)
		puts_(m, m->eol);
	for (; k >= 2 && blank < k - 1; blank++)
		puts_(m, m->eol);
}

static void
render_comment(struct em *m, const struct sotto_node *n)
{
	size_t i;

	put(m, "#", 1);
	for (i = 0; i < n->len; i++)
		put(m, (n->text[i] == '\n' || n->text[i] == '\r') ? " " :
		    n->text + i, 1);
}

static void
block_bounds(const uint8_t *src, size_t len, const struct sotto_node *n,
    size_t *he, size_t *cs, size_t *ce)
{
	size_t h = n->src_start + 1, c;

	while (h < len && (src[h] == '+' || src[h] == '-' ||
	    (src[h] >= '0' && src[h] <= '9')))
		h++;
	c = h;
	while (c < len && src[c] != '\n' && src[c] != '\r')
		c++;
	c = to_eol_incl(src, len, c);
	*he = h;
	*cs = c;
	*ce = n->src_end > c ? n->src_end : c;
}

static void
em_flow(struct em *m, const struct sotto_node *v)
{
	struct sotto_node key;
	bool first = true;
	size_t i;

	if (v->kind == SOTTO_NODE_SCALAR) {
		write_inline(m, v, false, true);
		return;
	}
	put(m, v->kind == SOTTO_NODE_MAP ? "{" : "[", 1);
	for (i = 0; i < v->n; i++) {
		const struct sotto_entry *en = &v->items[i];

		if (en->val->kind == SOTTO_NODE_COMMENT)
			continue;	/* a flow collection has no room */
		if (!first)
			put(m, ", ", 2);
		first = false;
		if (v->kind == SOTTO_NODE_MAP) {
			memset(&key, 0, sizeof(key));
			key.kind = SOTTO_NODE_SCALAR;
			key.type = SOTTO_T_STR;
			key.text = en->key != NULL ? en->key : (char *)"";
			key.len = en->key != NULL ? en->keylen : 0;
			write_inline(m, &key, true, true);
			put(m, ": ", 2);
		}
		em_flow(m, en->val);
	}
	put(m, v->kind == SOTTO_NODE_MAP ? "}" : "]", 1);
}

/* An alias's copy written out (see scan_alias()). */
static void
render_alias(struct em *m, const uint8_t *src, size_t len,
    const struct edit *ed)
{
	const struct sotto_node *v = ed->n;
	size_t parent = v->flags >> YF_PARENT_SHIFT, child, best = m->best;
	bool in_seq = (v->flags & YF_INSEQ) != 0;

	if (ed->kind == E_AFLOW) {
		em_flow(m, v);
		return;
	}
	m->best = m->step;
	child = in_seq ? parent + 2 : parent + (v->kind == SOTTO_NODE_SEQ ?
	    m->seq_step : m->step);
	if (ed->kind == E_ALINE && ed->s > 0 && src[ed->s - 1] != '\n' &&
	    src[ed->s - 1] != '\r') {
		/* after "key:" or "-" on the same line */
		em_value(m, v, parent, child, in_seq);
	} else {
		if (ed->s >= len && m->b->len > 0 &&
		    m->b->data[m->b->len - 1] != '\n')
			puts_(m, m->eol);
		if (v->kind == SOTTO_NODE_MAP)
			em_map_(m, v, child, false);
		else
			em_seq(m, v, child, false);
	}
	m->best = best;
}

/* See literal_end(). */
static void
render_literal(struct em *m, const struct sotto_node *n)
{
	const uint8_t *s = (const uint8_t *)n->text;
	size_t parent = n->flags >> YF_PARENT_SHIFT, ind;
	int digit = 0;

	ind = (n->flags & YF_INSEQ) ? parent + 2 : parent + m->step;
	if (needs_indicator(s, n->len)) {
		if (ind - parent > 9) {
			write_double_(m, s, n->len, true);
			puts_(m, m->eol);
			return;
		}
		digit = (int)(ind - parent);
	}
	write_block_header(m, '|', s, n->len, digit);
	puts_(m, m->eol);
	write_literal_body(m, s, n->len, ind);
}

/* New items of a collection, as lines of their own at its column. */
static void
render_insert(struct em *m, const uint8_t *src, size_t len,
    const struct edit *ed)
{
	struct sotto_node t = *ed->n;
	size_t best = m->best;

	t.items = ed->n->items + ed->i0;
	t.n = ed->i1 - ed->i0;
	if ((ed->s >= len || (ed->s > 0 && src[ed->s - 1] != '\n' &&
	    src[ed->s - 1] != '\r')) && m->b->len > 0 &&
	    m->b->data[m->b->len - 1] != '\n')
		puts_(m, m->eol);
	m->best = m->step;
	if (t.kind == SOTTO_NODE_MAP)
		em_map_(m, &t, ed->col, false);
	else
		em_seq(m, &t, ed->col, false);
	m->best = best;
}

/* ------------------------------------------------------------------ */
/* structural splice: entries removed or added since the parse */

/*
 * The source is parsed again to see where each item of each collection
 * was; the document's collections are then matched with those of that
 * parse (an item by the start of its value, which a changed scalar
 * keeps) and what is gone is cut out line by line, what is new written
 * in as lines of its own at the collection's column.  Untouched lines
 * stay as they are.  Anything this cannot express (flow collections,
 * compact "- - x" items, an emptied collection at the top) makes splice
 * write the whole document instead.
 */
struct sdiff {
	const uint8_t *src;
	size_t len;
	struct ylayout lay;
	struct scan *sc;	/* SC_STORE: the edits */
	bool fail;
};

struct pidx {
	uintptr_t p;
	size_t i;
};

static int
pidx_cmp(const void *a, const void *b)
{
	const struct pidx *x = a, *y = b;

	return x->p < y->p ? -1 : x->p > y->p;
}

static struct rec *
lay_find(const struct ylayout *lay, const struct pidx *ix,
    const struct sotto_node *n)
{
	struct pidx key, *f;

	key.p = (uintptr_t)n;
	key.i = 0;
	f = bsearch(&key, ix, lay->nrec, sizeof(*ix), pidx_cmp);
	return f != NULL ? &lay->recs[f->i] : NULL;
}

/* The end of n's text and of everything in it, comments included. */
static size_t
item_end(const struct sotto_node *n)
{
	size_t e = n->src_end != SOTTO_SPAN_NONE ? n->src_end : 0, i, k;

	for (i = 0; i < n->n; i++)
		if ((k = item_end(n->items[i].val)) > e)
			e = k;
	return e;
}

/*
 * Where the line of an item starting at off begins, when the item is
 * the first thing on it (after its "-" for a sequence item); SIZE_MAX
 * otherwise.
 */
static size_t
item_line(const uint8_t *src, size_t off, bool seq)
{
	size_t p = off;

	while (p > 0 && is_blank(src[p - 1]))
		p--;
	if (seq && p > 0 && src[p - 1] == '-') {
		p--;
		while (p > 0 && is_blank(src[p - 1]))
			p--;
	}
	if (p == 0 || src[p - 1] == '\n' || src[p - 1] == '\r')
		return p;
	return SIZE_MAX;
}

static size_t
a_line(struct sdiff *sd, const struct sotto_node *a, struct rec *ra,
    size_t k)
{
	size_t p = item_line(sd->src, rec_starts(ra)[k], a->kind ==
	    SOTTO_NODE_SEQ);

	if (p == SIZE_MAX)
		sd->fail = true;
	return p;
}

static void
sd_remove(struct sdiff *sd, const struct sotto_node *a, struct rec *ra,
    size_t k)
{
	size_t s = a_line(sd, a, ra, k), e, end;

	/* to the next item's line, and past all of this one (a comment
	 * left of a sequence's items belongs to the map around it, yet
	 * lies between them) */
	end = to_eol_incl(sd->src, sd->len, item_end(a->items[k].val));
	e = k + 1 < a->n ? a_line(sd, a, ra, k + 1) : end;
	if (e < end)
		e = end;
	if (!sd->fail && s < e)
		push_edit(sd->sc, s, e, E_REMOVE, NULL);
}

static size_t
entries(const struct sotto_node *n)
{
	size_t i, k = 0;

	for (i = 0; i < n->n; i++)
		if (n->items[i].val->kind != SOTTO_NODE_COMMENT)
			k++;
	return k;
}

/* Column new items of a (block) take: its first entry's, or "-"'s. */
static size_t
a_col(struct sdiff *sd, const struct sotto_node *a, struct rec *ra)
{
	size_t i, st, ls;

	for (i = 0; i < a->n; i++) {
		if (a->items[i].val->kind == SOTTO_NODE_COMMENT)
			continue;
		st = rec_starts(ra)[i];
		ls = item_line(sd->src, st, false);
		if (a->kind == SOTTO_NODE_MAP && ls != SIZE_MAX)
			return st - ls;
		if (a->kind == SOTTO_NODE_SEQ &&
		    (ls = item_line(sd->src, st, true)) != SIZE_MAX)
			return dash_col_src(sd->src, st);
		break;
	}
	sd->fail = true;
	return 0;
}

static void
sd_insert(struct sdiff *sd, const struct sotto_node *a, struct rec *ra,
    const struct sotto_node *b, size_t j, size_t i0, size_t i1)
{
	size_t p, col = a_col(sd, a, ra);

	if (j < a->n)
		p = a_line(sd, a, ra, j);
	else
		p = to_eol_incl(sd->src, sd->len,
		    item_end(a->items[a->n - 1].val));
	if (sd->fail)
		return;
	if (push_edit(sd->sc, p, p, E_INSERT, b)) {
		struct edit *ed = &sd->sc->ed[sd->sc->ned - 1];

		ed->i0 = i0;
		ed->i1 = i1;
		ed->col = col;
	}
}

static bool
has_span(const struct sotto_node *n)
{
	return n->src_start != SOTTO_SPAN_NONE;
}

static void sd_coll(struct sdiff *, const struct pidx *,
    const struct sotto_node *, const struct sotto_node *);

/* A flow collection: only values may have changed, not its items. */
static void
sd_flow(struct sdiff *sd, const struct pidx *ix, const struct sotto_node *a,
    const struct sotto_node *b)
{
	size_t i;

	if (a->n != b->n) {
		sd->fail = true;
		return;
	}
	for (i = 0; i < a->n && !sd->fail; i++) {
		const struct sotto_node *x = a->items[i].val,
		    *y = b->items[i].val;

		if (!has_span(y) || y->src_start != x->src_start ||
		    y->kind != x->kind)
			sd->fail = true;
		else if (y->kind == SOTTO_NODE_MAP ||
		    y->kind == SOTTO_NODE_SEQ)
			sd_coll(sd, ix, x, y);
	}
}

static void
sd_coll(struct sdiff *sd, const struct pidx *ix, const struct sotto_node *a,
    const struct sotto_node *b)
{
	struct rec *ra = lay_find(&sd->lay, ix, a);
	size_t i = 0, j = 0, k, r;

	if (ra == NULL || ra->n != a->n || a->kind != b->kind ||
	    (b->flags & YF_ALIASROOT)) {
		sd->fail = a->kind != b->kind || ra == NULL || ra->n != a->n;
		return;	/* an alias's copy is written out whole */
	}
	if (ra->flow) {
		sd_flow(sd, ix, a, b);
		return;
	}
	while (i < b->n && !sd->fail) {
		const struct sotto_node *y = b->items[i].val, *x;

		if (!has_span(y)) {
			size_t i0 = i;

			while (i < b->n && !has_span(b->items[i].val))
				i++;
			sd_insert(sd, a, ra, b, j, i0, i);
			continue;
		}
		for (k = j; k < a->n; k++)
			if (a->items[k].val->src_start == y->src_start &&
			    a->items[k].val->kind == y->kind)
				break;
		if (k == a->n) {
			sd->fail = true;
			return;
		}
		for (r = j; r < k; r++)
			sd_remove(sd, a, ra, r);
		x = a->items[k].val;
		if ((y->kind == SOTTO_NODE_MAP || y->kind == SOTTO_NODE_SEQ) &&
		    !(y->flags & YF_ALIASROOT)) {
			struct rec *rx = lay_find(&sd->lay, ix, x);

			if (rx != NULL && !rx->flow && entries(y) == 0 &&
			    entries(x) > 0) {
				/* emptied: the entry is written anew */
				sd_insert(sd, a, ra, b, k, i, i + 1);
				sd_remove(sd, a, ra, k);
			} else
				sd_coll(sd, ix, x, y);
		}
		j = k + 1;
		i++;
	}
	for (r = j; r < a->n && !sd->fail; r++)
		sd_remove(sd, a, ra, r);
}

/*
 * Adds to sc the edits that turn the source's collections into doc's.
 * False when that cannot be done in place (splice then writes the whole
 * document).
 */
static bool
structural_edits(struct scan *sc, const struct sotto_doc *doc)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_error e2 = { SOTTO_OK, "" };
	struct sotto_doc *d0 = NULL;
	struct pidx *ix = NULL;
	struct sdiff sd;
	size_t i;
	bool ok = false;

	memset(&sd, 0, sizeof(sd));
	sd.src = sc->src;
	sd.len = sc->len;
	sd.sc = sc;
	if (lim.max_bytes < sc->len)
		lim.max_bytes = sc->len;
	if (yaml_parse_src(&d0, sc->src, sc->len, NULL, doc->name, &lim,
	    &sd.lay, &e2) != SOTTO_OK)
		goto out;
	d0->secret = doc->secret;
	if (d0->n != doc->n)
		goto out;
	ix = calloc(sd.lay.nrec ? sd.lay.nrec : 1, sizeof(*ix));
	if (ix == NULL)
		goto out;
	for (i = 0; i < sd.lay.nrec; i++) {
		ix[i].p = (uintptr_t)sd.lay.recs[i].node;
		ix[i].i = i;
	}
	qsort(ix, sd.lay.nrec, sizeof(*ix), pidx_cmp);
	for (i = 0; i < doc->n && !sd.fail; i++) {
		const struct sotto_node *a = d0->branches[i],
		    *b = doc->branches[i];

		if (a->kind != b->kind || a->n == 0 ||
		    a->src_start != b->src_start)
			sd.fail = true;
		else
			sd_coll(&sd, ix, a, b);
	}
	ok = !sd.fail && !sc->nomem;
out:
	free(ix);
	for (i = 0; i < sd.lay.nrec; i++)
		free(sd.lay.recs[i].starts);
	free(sd.lay.recs);
	sotto_tree_doc_free(d0);
	return ok;
}

/*
 * The line break of the line at pos ("\r\n" or "\n"), so that what is
 * written there ends its lines as the file does there (a file may mix
 * them); def when the line has none.
 */
static const char *
line_eol(const uint8_t *src, size_t len, size_t pos, const char *def)
{
	const uint8_t *nl = NULL;

	if (pos < len)
		nl = memchr(src + pos, '\n', len - pos);
	if (nl == NULL) {
		/* the last line: as the one before it ends */
		for (pos = pos < len ? pos : len; pos > 0; pos--)
			if (src[pos - 1] == '\n')
				break;
		if (pos == 0)
			return def;
		nl = src + pos - 1;
	}
	return nl > src && nl[-1] == '\r' ? "\r\n" : "\n";
}

/* Writes the source up to ed, then ed itself; *pos is the source consumed. */
static void
apply_edit(struct em *m, const uint8_t *src, size_t len, size_t *pos,
    const struct edit *ed)
{
	bool insertion = ed->kind == E_INSERT || ed->kind == E_ABLOCK ||
	    ed->kind == E_META;
	const char *eol;

	if (ed->s < *pos && !insertion)
		return;		/* inside a removed span */
	if (ed->s > *pos) {
		put(m, src + *pos, ed->s - *pos);
		*pos = ed->s;
	}
	/* an insertion whose place was cut goes where the cut ends: what
	 * it adds (the sops entry above all) is never dropped */
	eol = m->eol;
	if (ed->kind != E_META && ed->kind != E_EMPTY)
		m->eol = line_eol(src, len, ed->s, eol);
	switch (ed->kind) {
	case E_SCALAR:
		render_flat(m, ed->n, ed->n->style & YS_MASK);
		break;
	case E_BHDR: {
		size_t he, cs, ce;

		block_bounds(src, len, ed->n, &he, &cs, &ce);
		render_bhdr(m, ed->n, src, len, he, cs, ce);
		break;
	}
	case E_BBODY:
		render_bbody(m, ed->n, src, len, ed->s, ed->e);
		break;
	case E_COMMENT:
		render_comment(m, ed->n);
		break;
	case E_REMOVE:
		break;
	case E_META:
		if (m->b->len > 0 && m->b->data[m->b->len - 1] != '\n')
			puts_(m, m->eol);
		em_meta_at(m, ed->n, ed->col, !(ed->s >= len && len > 0 &&
		    src[len - 1] != '\n' && src[len - 1] != '\r'));
		break;
	case E_ALINE:
	case E_ABLOCK:
	case E_AFLOW:
		render_alias(m, src, len, ed);
		break;
	case E_INSERT:
		render_insert(m, src, len, ed);
		break;
	case E_LITERAL:
		render_literal(m, ed->n);
		break;
	case E_EMPTY:
		/* the sops entry was all the mapping held: what is left is
		 * the empty mapping, as sops writes it */
		if (m->b->len > 0 && m->b->data[m->b->len - 1] != '\n')
			puts_(m, m->eol);
		puts_(m, "{}");
		puts_(m, m->eol);
		break;
	}
	m->eol = eol;
	if (ed->e > *pos)
		*pos = ed->e;
}

static sotto_err
yaml_emit_splice(struct sotto_buf *out, const struct sotto_doc *doc,
    const struct sotto_node *meta, struct sotto_error *e)
{
	const struct yaml_priv *yp = doc->store_priv;
	const uint8_t *src = doc->src.data != NULL ? doc->src.data :
	    (const uint8_t *)"";
	size_t len = doc->src.len, i, j, pos = 0;
	struct sotto_emit_opts o = { 4 };
	struct scan sc, ms;
	struct em m;
	sotto_err err = SOTTO_OK;
	bool flow = false, untouched, structural;

	if (doc->store != &sotto_store_yaml || yp == NULL ||
	    yp->ndocs != doc->n)
		return yaml_emit(out, doc, meta, &o, e);
	memset(&sc, 0, sizeof(sc));
	sc.src = src;
	sc.len = len;
	sc.mode = SC_COUNT;
	for (i = 0; i < doc->n; i++) {
		flow |= yp->docs[i].flow;
		scan_tree(&sc, doc->branches[i], len);
	}
	/* items removed or added: see structural_edits() */
	structural = sc.fallback || sc.count != yp->nnodes;
	/* flow style ({...}, JSON) is not spliced but emitted again in block
	 * style, unless nothing changed at all: then the source is the output */
	untouched = !structural && sc.ned == 0;
	for (i = 0; i < doc->n && untouched; i++)
		untouched = meta_kept(doc, meta, i) || (meta == NULL &&
		    doc->meta_start[i] == SOTTO_SPAN_NONE);
	if (flow && untouched)
		return sotto_buf_add(out, src, len) == SOTTO_OK ? SOTTO_OK :
		    sotto_error_set(e, SOTTO_E_NOMEM, "'%s': out of memory",
		    doc->name);
	if (flow)
		return yaml_emit(out, doc, meta, &o, e);
	/* the metadata edits, few, in a list of their own */
	memset(&ms, 0, sizeof(ms));
	ms.src = src;
	ms.len = len;
	ms.mode = SC_STORE;
	for (i = 0; i < doc->n; i++) {
		if (meta_kept(doc, meta, i))
			continue;
		if (doc->meta_start[i] != SOTTO_SPAN_NONE) {
			size_t ms0 = doc->meta_start[i];

			/* a file ending without a line break ends so after
			 * its sops entry: the break before it is sotto's (a
			 * new entry keeps it: see em_meta_at()) */
			if (meta == NULL && doc->meta_end[i] >= len &&
			    len > 0 &&
			    src[len - 1] != '\n' && src[len - 1] != '\r' &&
			    ms0 > 0 && src[ms0 - 1] == '\n') {
				ms0--;
				if (ms0 > 0 && src[ms0 - 1] == '\r')
					ms0--;
			}
			push_edit(&ms, ms0, doc->meta_end[i],
			    meta == NULL && only_comments(doc->branches[i]) ?
			    E_EMPTY : E_REMOVE, NULL);
		}
		if (meta != NULL &&
		    push_edit(&ms, yp->docs[i].ins, yp->docs[i].ins, E_META,
		    meta))
			ms.ed[ms.ned - 1].col = yp->docs[i].root_col;
	}
	if (ms.nomem) {
		free(ms.ed);
		return sotto_error_set(e, SOTTO_E_NOMEM, "'%s': out of memory",
		    doc->name);
	}
	/* insertion sort: stable, as the list is short */
	for (i = 1; i < ms.ned; i++)
		for (j = i; j > 0 && edit_cmp(&ms.ed[j - 1], &ms.ed[j]) > 0;
		    j--) {
			struct edit t = ms.ed[j];

			ms.ed[j] = ms.ed[j - 1];
			ms.ed[j - 1] = t;
		}
	{
		/* one allocation for the whole output, near enough: the
		 * source minus the replaced spans plus the new texts */
		size_t est = len + sc.add, cut = sc.cut;

		for (i = 0; i < ms.ned; i++) {
			cut += ms.ed[i].e - ms.ed[i].s;
			if (ms.ed[i].n != NULL)
				est += ms.ed[i].n->len + ms.ed[i].n->len / 8 +
				    16;
		}
		est = cut < est ? est - cut : len;
		if (sotto_buf_grow(out, est) != SOTTO_OK) {
			free(ms.ed);
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "'%s': out of memory", doc->name);
		}
	}
	memset(&m, 0, sizeof(m));
	m.b = out;
	m.best = 4;
	m.eol = yp->crlf ? "\r\n" : "\n";
	m.err = SOTTO_OK;
	m.step = yp->step > 0 ? yp->step : yp->have_seq_step &&
	    yp->seq_step > 0 ? yp->seq_step : 4;
	m.seq_step = yp->have_seq_step ? yp->seq_step : m.step;
	m.own = true;
	if (!sc.unsorted && !structural) {
		/* write each edit as the walk meets it */
		sc.mode = SC_EMIT;
		sc.ned = 0;
		sc.m = &m;
		sc.med = ms.ed;
		sc.nmed = ms.ned;
		for (i = 0; i < doc->n; i++)
			scan_tree(&sc, doc->branches[i], len);
		for (; sc.imed < sc.nmed; sc.imed++)
			apply_edit(&m, src, len, &sc.pos, &sc.med[sc.imed]);
		pos = sc.pos;
	} else {
		sc.mode = SC_STORE;
		sc.ned = 0;
		sc.skip_new = structural;
		if (structural && !structural_edits(&sc, doc)) {
			free(sc.ed);
			free(ms.ed);
			if (sc.nomem)
				return sotto_error_set(e, SOTTO_E_NOMEM,
				    "'%s': out of memory", doc->name);
			return yaml_emit(out, doc, meta, &o, e);
		}
		for (i = 0; i < doc->n; i++)
			scan_tree(&sc, doc->branches[i], len);
		for (i = 0; i < ms.ned && !sc.nomem; i++)
			push_edit(&sc, ms.ed[i].s, ms.ed[i].e, ms.ed[i].kind,
			    ms.ed[i].n);
		if (sc.nomem) {
			free(sc.ed);
			free(ms.ed);
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "'%s': out of memory", doc->name);
		}
		qsort(sc.ed, sc.ned, sizeof(*sc.ed), edit_cmp);
		for (i = 0; i < sc.ned; i++)
			apply_edit(&m, src, len, &pos, &sc.ed[i]);
		free(sc.ed);
	}
	put(&m, src + pos, len - pos);
	free(ms.ed);
	if (m.err == SOTTO_E_IO)
		err = sotto_error_set(e, m.err,
		    "cannot write to standard output");
	else if (m.err != SOTTO_OK)
		err = sotto_error_set(e, m.err, "'%s': out of memory",
		    doc->name);
	return err;
}

/* ------------------------------------------------------------------ */
/* round-trip notes */

/*
 * Writes what the splice writes for n once its value comes back from
 * encryption: same text (sops' form where the encrypt layer uses it,
 * which it says itself), in the style an encrypted value takes in its
 * place (plain in a flow collection turns single-quoted).
 */
static void
render_after(struct em *m, const struct sotto_node *n)
{
	struct sotto_node t = *n;
	int st = n->style & YS_MASK;

	if ((n->flags & YF_FLOW) && st == YS_PLAIN)
		st = YS_SINGLE;
	t.dirty = true;
	render_flat(m, &t, st);
}

/* Does the body of block scalar n come back as written (no line of a
 * folded block was wrapped, no break was written otherwise than as an
 * empty line, no blank line holds spaces)? */
static bool
folded_kept(const struct sotto_doc *doc, const struct sotto_node *n,
    struct em *m)
{
	const uint8_t *src = doc->src.data;
	size_t he, cs, ce;

	block_bounds(src, doc->src.len, n, &he, &cs, &ce);
	render_bbody(m, n, src, doc->src.len, cs, ce);
	return m->err == SOTTO_OK && m->b->len >= ce - cs &&
	    memcmp(m->b->data, src + cs, ce - cs) == 0 &&
	    (m->b->len == ce - cs || m->b->data[ce - cs] == '\n' ||
	    m->b->data[ce - cs] == '\r');
}

/* A quoted value of printable ASCII with nothing to escape, written as
 * its quotes around its text: it comes back the same. */
static bool
quoted_as_is(const struct sotto_doc *doc, const struct sotto_node *n, char q)
{
	const uint8_t *p = doc->src.data + n->src_start;
	size_t i;

	if (n->src_end - n->src_start != n->len + 2 || p[0] != q ||
	    p[n->len + 1] != q || memcmp(p + 1, n->text, n->len) != 0)
		return false;
	for (i = 0; i < n->len; i++)
		if (n->text[i] < 0x20 || n->text[i] > 0x7e ||
		    n->text[i] == q || n->text[i] == '\\')
			return false;
	return true;
}

/* A "|" or ">" block whose text has no final line break: only at the
 * end of a file without one; its encrypted form needs "|-", and the
 * decryption cannot tell the two apart. */
static bool
clip_at_eof(const struct sotto_doc *doc, const struct sotto_node *n)
{
	const uint8_t *src = doc->src.data;
	size_t he, cs, ce, i;

	if (n->len > 0 && n->text[n->len - 1] == '\n')
		return false;
	block_bounds(src, doc->src.len, n, &he, &cs, &ce);
	for (i = n->src_start + 1; i < he; i++)
		if (src[i] == '-' || src[i] == '+')
			return false;
	return n->len > 0;
}

static bool
spans_lines(const struct sotto_doc *doc, const struct sotto_node *n)
{
	const uint8_t *p = doc->src.data + n->src_start;
	size_t k = n->src_end - n->src_start;

	return memchr(p, '\n', k) != NULL || memchr(p, '\r', k) != NULL;
}

const char *
sotto_yaml_roundtrip_note(const struct sotto_doc *doc,
    const struct sotto_node *n)
{
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	struct em m;
	const char *note = NULL;
	int st = n->style & YS_MASK;
	bool same;

	if (n->kind == SOTTO_NODE_MAP && only_comments(n)) {
		size_t i;

		const struct yaml_priv *yp = doc->store_priv;

		for (i = 0; i < doc->n; i++)
			if (doc->branches[i] == n && (yp == NULL ||
			    i >= yp->ndocs || !yp->docs[i].flow))
				return "is an empty document: it decrypts as "
				    "{}, as sops writes one";
	}
	if (n->kind != SOTTO_NODE_SCALAR)
		return NULL;
	if (n->flags & YF_ALIAS)
		return (n->flags & YF_ALIAS1) ? "is under an alias, which "
		    "sops cannot keep: the encrypted file holds a copy, and "
		    "it decrypts written out in full" : NULL;
	if (n->dirty || doc->src.data == NULL ||
	    n->src_start == SOTTO_SPAN_NONE || n->src_end > doc->src.len ||
	    n->src_start > n->src_end || (n->flags & SOTTO_NODE_NONCANON))
		return NULL;
	if (n->flags & YF_TYPETAG)
		return "has a tag, which sops does not keep: it decrypts "
		    "untagged";
	if ((st == YS_LITERAL || st == YS_FOLDED) && clip_at_eof(doc, n))
		return "is a block scalar that ends the file without a line "
		    "break: it decrypts with a strip indicator (|-)";
	if (st == YS_LITERAL) {
		memset(&m, 0, sizeof(m));
		m.b = &b;
		m.best = 4;
		m.eol = "\n";
		if (!folded_kept(doc, n, &m))
			note = "is a literal block with a line holding only "
			    "spaces: it decrypts with that line empty";
		sotto_buf_release(&b);
		return note;
	}
	if (st == YS_PLAIN && !(n->flags & YF_FLOW) &&
	    n->src_end - n->src_start == n->len &&
	    memcmp(doc->src.data + n->src_start, n->text, n->len) == 0 &&
	    (is_str(n) ? !go_quotes(n->text, n->len) && plain_shape(n, false) :
	    nonstr_kept(n)))
		return NULL;	/* the common case, without a rendering */
	if ((st == YS_DOUBLE || (st == YS_SINGLE && !(n->flags & YF_FLOW))) &&
	    quoted_as_is(doc, n, st == YS_DOUBLE ? '"' : '\''))
		return NULL;
	memset(&m, 0, sizeof(m));
	m.b = &b;
	m.best = 4;
	m.eol = "\n";
	if (st == YS_FOLDED) {
		if (!folded_kept(doc, n, &m))
			note = "is a folded block with wrapped lines: it "
			    "decrypts with each paragraph on one line";
		sotto_buf_release(&b);
		return note;
	}
	render_after(&m, n);
	same = m.err == SOTTO_OK && b.len == n->src_end - n->src_start &&
	    memcmp(b.data, doc->src.data + n->src_start, b.len) == 0;
	sotto_buf_release(&b);
	if (same)
		return NULL;
	if (!is_str(n))
		return "decrypts in the spelling go-yaml gives its value, as "
		    "sops writes it";
	if (st == YS_PLAIN && (is_old_bool(n->text, n->len) ||
	    is_base60_float(n->text, n->len)))
		return "is a plain string that YAML 1.1 reads as a boolean or "
		    "a number: it decrypts quoted, as sops writes it";
	if (spans_lines(doc, n))
		return "spans several lines: it decrypts on one line";
	if (st == YS_DOUBLE)
		return "has escapes in its double quotes: it decrypts with "
		    "the characters they stand for";
	if (st == YS_SINGLE && (n->flags & YF_FLOW))
		return "is single-quoted in a flow collection where it needs "
		    "no quotes: it decrypts plain";
	return "decrypts in another spelling";
}

const struct sotto_store sotto_store_yaml = {
	"yaml",
	yaml_parse,
	yaml_emit_splice,
	yaml_emit,
	yaml_emit_value,
	yaml_free_priv,
	yaml_parse_buf,
};
