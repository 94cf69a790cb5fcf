/* SPDX-License-Identifier: ISC */
/*
 * JSON store: our own tokenizer (jansson cannot keep duplicate keys,
 * number spellings or whitespace), a byte-faithful splice writer and the
 * canonical writer sops uses (Go json.Indent, one TAB per level, Go string
 * escaping, trailing newline).  Typing follows sops: integers that fit
 * int64 are int, other numbers float64, true/false bool, null null.
 *
 * Node style: the source token kind (JS_*).  Scalar flags: RESPELL when
 * the source string used escapes that the splice writer would not write
 * back (decrypt writes such a value another way).  Container flags: child count
 * at parse time + 1, so a splice can tell whether a container is still the
 * one it parsed (otherwise it is re-rendered whole in the file's style).
 */
#include "sotto/store.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/storeutil.h"
#include "sotto/gofmt.h"

enum { JS_STRING, JS_NUMBER, JS_TRUE, JS_FALSE, JS_NULL, JS_OBJECT,
    JS_ARRAY };

struct jp {
	const uint8_t *s;		/* source */
	size_t len, pos, line;		/* size, cursor, 1-based line */
	const char *name;		/* for messages */
	struct sotto_limits lim;	/* limits */
	size_t nodes;			/* nodes made so far */
	struct sotto_error *e;		/* error out */
};

/* Layout used when rendering: canonical, or detected from a file. */
struct jfmt {
	bool pretty;		/* newline + indentation between items */
	const char *nl;		/* newline sequence */
	size_t nllen;
	const char *unit;	/* one indentation level, or NULL: */
	size_t unitlen;		/* (bytes of unit, or) that many spaces */
	const char *colon;	/* between key and value */
	size_t colonlen;
	const char *comma;	/* after a comma when not pretty */
	size_t commalen;
	bool goesc;		/* Go escaping, else minimal (splice) */
	bool keep;		/* numbers as spelled (splice), else Go's */
};

static sotto_err render(struct sotto_buf *, const struct sotto_node *,
    const struct jfmt *, size_t, struct sotto_error *);

static sotto_err
nomem(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

static sotto_err
jerr(struct jp *p, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sotto_error_set(p->e, SOTTO_E_JSON, "'%s' line %zu: %s",
	    sotto_storeutil_name(p->name), p->line, msg);
}

static bool
is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_ws(struct jp *p)
{
	while (p->pos < p->len && is_ws(p->s[p->pos])) {
		if (p->s[p->pos] == '\n')
			p->line++;
		p->pos++;
	}
}

/* ---- UTF-8 (Go's utf8.DecodeRune acceptance rules) ---- */

/* Length of the valid UTF-8 sequence at s, or 0 if invalid. */
static size_t
utf8_len(const uint8_t *s, size_t n, uint32_t *r)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xBF;
	size_t k, need;

	if (c < 0x80) {
		*r = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		need = 2, *r = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 3, *r = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4, *r = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (n < need)
		return 0;
	for (k = 1; k < need; k++) {
		uint8_t b = s[k];

		if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
			return 0;
		*r = (*r << 6) | (b & 0x3F);
	}
	return need;
}

static sotto_err
put_utf8(struct sotto_buf *o, uint32_t r)
{
	uint8_t b[4];
	size_t n;

	if (r < 0x80) {
		b[0] = (uint8_t)r;
		n = 1;
	} else if (r < 0x800) {
		b[0] = (uint8_t)(0xC0 | (r >> 6));
		b[1] = (uint8_t)(0x80 | (r & 0x3F));
		n = 2;
	} else if (r < 0x10000) {
		b[0] = (uint8_t)(0xE0 | (r >> 12));
		b[1] = (uint8_t)(0x80 | ((r >> 6) & 0x3F));
		b[2] = (uint8_t)(0x80 | (r & 0x3F));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xF0 | (r >> 18));
		b[1] = (uint8_t)(0x80 | ((r >> 12) & 0x3F));
		b[2] = (uint8_t)(0x80 | ((r >> 6) & 0x3F));
		b[3] = (uint8_t)(0x80 | (r & 0x3F));
		n = 4;
	}
	return sotto_buf_add(o, b, n);
}

/* ---- token decoding (shared by the parser and the splice writer) ---- */

static int
hex4(const uint8_t *s, size_t n, uint32_t *v)
{
	size_t i;

	*v = 0;
	if (n < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		uint8_t c = s[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* Decodes \u escapes at s (after the backslash-u); returns bytes used. */
static size_t
decode_u(const uint8_t *s, size_t n, struct sotto_buf *o, bool *bad)
{
	uint32_t r, r2;

	if (hex4(s, n, &r) != 0) {
		*bad = true;
		return 0;
	}
	if (r >= 0xD800 && r < 0xDC00 && n >= 10 && s[4] == '\\' &&
	    s[5] == 'u' && hex4(s + 6, n - 6, &r2) == 0 && r2 >= 0xDC00 &&
	    r2 < 0xE000) {
		r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
		*bad = put_utf8(o, r) != SOTTO_OK;
		return 10;
	}
	if (r >= 0xD800 && r < 0xE000)
		return 0;	/* Go would write U+FFFD: refused instead */
	*bad = put_utf8(o, r) != SOTTO_OK;
	return 4;
}

/*
 * Decodes the string token at s[*pos] (a '"') into o; *pos ends after the
 * closing quote.  Returns NULL or a message.  Invalid UTF-8 and a \u
 * escape of a lone UTF-16 surrogate are errors (Go would silently write
 * U+FFFD instead, changing the value).
 */
static const char *
str_decode(const uint8_t *s, size_t len, size_t *pos, struct sotto_buf *o,
    bool *escaped)
{
	size_t i = *pos + 1, k;
	uint32_t r;
	bool bad = false;

	*escaped = false;
	while (i < len) {
		uint8_t c = s[i];

		if (c == '"') {
			*pos = i + 1;
			return NULL;
		}
		if (c < 0x20)
			return "control character in string";
		if (c == '\\') {
			*escaped = true;
			if (i + 1 >= len)
				break;
			c = s[i + 1];
			i += 2;
			switch (c) {
			case '"': case '\\': case '/':
				bad = sotto_buf_addch(o, c) != SOTTO_OK;
				break;
			case 'b': bad = sotto_buf_addch(o, '\b') != SOTTO_OK;
				break;
			case 'f': bad = sotto_buf_addch(o, '\f') != SOTTO_OK;
				break;
			case 'n': bad = sotto_buf_addch(o, '\n') != SOTTO_OK;
				break;
			case 'r': bad = sotto_buf_addch(o, '\r') != SOTTO_OK;
				break;
			case 't': bad = sotto_buf_addch(o, '\t') != SOTTO_OK;
				break;
			case 'u':
				k = decode_u(s + i, len - i, o, &bad);
				if (k == 0)
					return "invalid \\u escape in string "
					    "(not four hex digits, or a lone "
					    "UTF-16 surrogate)";
				i += k;
				break;
			default:
				return "invalid escape in string";
			}
			if (bad)
				return "out of memory";
			continue;
		}
		k = utf8_len(s + i, len - i, &r);
		if (k == 0)
			return "invalid UTF-8 in string";
		bad = sotto_buf_add(o, s + i, k) != SOTTO_OK;
		if (bad)
			return "out of memory";
		i += k;
	}
	return "unterminated string";
}

/* Scans a number at s[*pos]; *isint says no fraction/exponent. */
static const char *
num_scan(const uint8_t *s, size_t len, size_t *pos, bool *isint)
{
	size_t i = *pos;

	*isint = true;
	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (i < len && s[i] >= '1' && s[i] <= '9')
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return "invalid number";
	if (i < len && s[i] == '.') {
		*isint = false;
		if (++i >= len || s[i] < '0' || s[i] > '9')
			return "invalid number";
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		*isint = false;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return "invalid number";
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	*pos = i;
	return NULL;
}

/*
 * sops' canonical form of a number spelled t[0, n): int64 decimal, or
 * FormatFloat 'f' -1.  *type gets INT or FLOAT.  Returns NULL or message.
 */
static const char *
num_canon(const char *t, size_t n, bool try_int, enum sotto_scalar_type *type,
    struct sotto_buf *o)
{
	char tmp[400], *end;
	long long ll;
	double d;

	if (n == 0 || n >= sizeof(tmp))
		return "number too long";
	memcpy(tmp, t, n);
	tmp[n] = '\0';
	if (try_int) {
		errno = 0;
		ll = strtoll(tmp, &end, 10);
		if (errno == 0 && *end == '\0') {
			*type = SOTTO_T_INT;
			return sotto_buf_addf(o, "%lld", ll) == SOTTO_OK ?
			    NULL : "out of memory";
		}
	}
	errno = 0;
	d = strtod(tmp, &end);
	if (*end != '\0' || end == tmp)
		return "invalid number";
	if (isinf(d) && errno == ERANGE)
		return "number out of range";
	*type = SOTTO_T_FLOAT;
	return sotto_storeutil_float(o, d, 'f') == SOTTO_OK ? NULL :
	    "cannot format number";
}

/* ---- parser ---- */

static sotto_err parse_value(struct jp *, size_t, struct sotto_node **);

static sotto_err
count_node(struct jp *p)
{
	if (++p->nodes > p->lim.max_nodes)
		return sotto_error_set(p->e, SOTTO_E_LIMIT,
		    "'%s' line %zu: more than %zu nodes",
		    sotto_storeutil_name(p->name), p->line, p->lim.max_nodes);
	return SOTTO_OK;
}

static sotto_err
parse_string(struct jp *p, struct sotto_buf *o, bool *esc)
{
	const char *m;

	m = str_decode(p->s, p->len, &p->pos, o, esc);
	if (m != NULL)
		return jerr(p, "%s", m);
	return SOTTO_OK;
}

static sotto_err
scalar_node(struct jp *p, enum sotto_scalar_type t, const char *text,
    size_t tl, size_t start, int style, struct sotto_node **out)
{
	struct sotto_node *n;

	if (count_node(p) != SOTTO_OK)
		return p->e->code;
	n = sotto_tree_new_scalar(t, text, tl);
	if (n == NULL)
		return nomem(p->e);
	n->src_start = start;
	n->src_end = p->pos;
	n->line = p->line;
	n->style = style;
	*out = n;
	return SOTTO_OK;
}

static sotto_err
parse_number(struct jp *p, struct sotto_node **out)
{
	struct sotto_buf c = SOTTO_BUF_INIT;
	enum sotto_scalar_type t;
	size_t start = p->pos;
	const char *m, *tx;
	bool isint, same;
	double d;
	sotto_err rc;

	m = num_scan(p->s, p->len, &p->pos, &isint);
	if (m != NULL)
		return jerr(p, "%s", m);
	tx = (const char *)p->s + start;
	m = num_canon(tx, p->pos - start, isint, &t, &c);
	if (m != NULL) {
		sotto_buf_release(&c);
		return jerr(p, "%s", m);
	}
	rc = scalar_node(p, t, tx, p->pos - start, start, JS_NUMBER, out);
	same = c.len == p->pos - start && memcmp(c.data, tx, c.len) == 0;
	if (rc == SOTTO_OK && !same && sotto_tree_set_canon(*out,
	    (const char *)c.data, c.len) != SOTTO_OK)
		rc = nomem(p->e);
	/*
	 * Spelled as Go's 'f' form, which is also what sops encrypts, but
	 * printed by sops in exponent form (1000000000000000000000 gives
	 * 1e+21): decrypt cannot tell it from a value sops wrote.
	 */
	if (rc == SOTTO_OK && same && t == SOTTO_T_FLOAT) {
		d = fabs(strtod((const char *)c.data, NULL));
		if (d >= 1e21 || (d != 0 && d < 1e-6))
			(*out)->flags |= SOTTO_NODE_RESPELL;
	}
	sotto_buf_release(&c);
	return rc;
}

static sotto_err
parse_word(struct jp *p, struct sotto_node **out)
{
	static const struct {
		const char *w;
		enum sotto_scalar_type t;
		const char *canon;
		int style;
	} words[] = {
		{ "true", SOTTO_T_BOOL, "True", JS_TRUE },
		{ "false", SOTTO_T_BOOL, "False", JS_FALSE },
		{ "null", SOTTO_T_NULL, NULL, JS_NULL },
	};
	size_t i, wl, start = p->pos;

	for (i = 0; i < 3; i++) {
		wl = strlen(words[i].w);
		if (p->len - p->pos < wl ||
		    memcmp(p->s + p->pos, words[i].w, wl) != 0)
			continue;
		p->pos += wl;
		if (scalar_node(p, words[i].t, words[i].w, wl, start,
		    words[i].style, out) != SOTTO_OK)
			return p->e->code;
		if (words[i].canon != NULL && sotto_tree_set_canon(*out,
		    words[i].canon, strlen(words[i].canon)) != SOTTO_OK)
			return nomem(p->e);
		return SOTTO_OK;
	}
	return jerr(p, "invalid character '%c' looking for a value",
	    p->s[p->pos] >= 0x20 && p->s[p->pos] < 0x7f ? p->s[p->pos] : '?');
}

/* Called with p->pos at '{' or '['. */
static sotto_err
container_begin(struct jp *p, size_t depth, bool map, struct sotto_node **out)
{
	if (depth > p->lim.max_depth)
		return sotto_error_set(p->e, SOTTO_E_LIMIT,
		    "'%s' line %zu: nesting deeper than %zu",
		    sotto_storeutil_name(p->name), p->line, p->lim.max_depth);
	if (count_node(p) != SOTTO_OK)
		return p->e->code;
	*out = map ? sotto_tree_new_map() : sotto_tree_new_seq();
	if (*out == NULL)
		return nomem(p->e);
	(*out)->src_start = p->pos;
	(*out)->line = p->line;
	(*out)->style = map ? JS_OBJECT : JS_ARRAY;
	p->pos++;
	return SOTTO_OK;
}

static void
container_end(struct jp *p, struct sotto_node *n)
{
	p->pos++;
	n->src_end = p->pos;
	n->flags = (unsigned)(n->n + 1);
}

static sotto_err
parse_array(struct jp *p, size_t depth, struct sotto_node **out)
{
	struct sotto_node *a = NULL, *v = NULL;
	sotto_err rc;

	if ((rc = container_begin(p, depth, false, &a)) != SOTTO_OK)
		return rc;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']')
		goto done;
	for (;;) {
		skip_ws(p);
		if ((rc = parse_value(p, depth, &v)) != SOTTO_OK)
			goto fail;
		if (sotto_tree_seq_add(a, v) != SOTTO_OK) {
			sotto_tree_node_free(v, true);
			rc = nomem(p->e);
			goto fail;
		}
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == ']')
			break;
		rc = jerr(p, "expected ',' or ']' after array element");
		goto fail;
	}
done:
	container_end(p, a);
	*out = a;
	return SOTTO_OK;
fail:
	sotto_tree_node_free(a, true);
	return rc;
}

/* Where the top-level "sops" member sits, for its removal span. */
struct sopspos {
	struct sotto_node *val;	/* extracted value */
	size_t start, end;	/* removal span */
	bool want_next;		/* first member: span ends at next key */
};

static sotto_err
parse_object(struct jp *p, size_t depth, struct sotto_node **out,
    struct sopspos *sp)
{
	struct sotto_buf k = SOTTO_BUF_INIT;
	struct sotto_node *o = NULL, *v = NULL;
	size_t kstart, prev_end = SOTTO_SPAN_NONE, members = 0;
	bool esc;
	sotto_err rc;

	if ((rc = container_begin(p, depth, true, &o)) != SOTTO_OK)
		return rc;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}')
		goto done;
	for (;;) {
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != '"') {
			rc = jerr(p, "expected a string object key");
			goto fail;
		}
		kstart = p->pos;
		if (sp != NULL && sp->want_next) {
			sp->end = kstart;
			sp->want_next = false;
		}
		sotto_buf_truncate(&k, 0);
		if ((rc = parse_string(p, &k, &esc)) != SOTTO_OK)
			goto fail;
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ':') {
			rc = jerr(p, "expected ':' after object key");
			goto fail;
		}
		p->pos++;
		skip_ws(p);
		if ((rc = parse_value(p, depth, &v)) != SOTTO_OK)
			goto fail;
		if (sp != NULL && sp->val == NULL && k.len == 4 &&
		    memcmp(k.data, "sops", 4) == 0) {
			sp->val = v;
			sp->end = p->pos;
			if (members > 0)
				sp->start = prev_end;
			else {
				sp->start = kstart;
				sp->want_next = true;
			}
		} else if (sotto_tree_map_add(o, k.len ? (char *)k.data : "",
		    k.len, v) != SOTTO_OK) {
			sotto_tree_node_free(v, true);
			rc = nomem(p->e);
			goto fail;
		}
		members++;
		prev_end = p->pos;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == '}')
			break;
		rc = jerr(p, "expected ',' or '}' after object value");
		goto fail;
	}
done:
	if (sp != NULL && sp->want_next) {
		/* "sops" was the only member: remove from after '{' */
		sp->start = o->src_start + 1;
		sp->end = p->pos;
		sp->want_next = false;
	}
	container_end(p, o);
	sotto_buf_release(&k);
	*out = o;
	return SOTTO_OK;
fail:
	sotto_buf_release(&k);
	sotto_tree_node_free(o, true);
	return rc;
}

static sotto_err put_string(struct sotto_buf *, const char *, size_t, bool);

/* True when the splice writer spells value v[0, n) as token t[0, tl). */
static bool
respelled_same(const uint8_t *t, size_t tl, const uint8_t *v, size_t n)
{
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	bool same;

	same = put_string(&b, n ? (const char *)v : "", n, false) ==
	    SOTTO_OK && b.len == tl && memcmp(b.data, t, tl) == 0;
	sotto_buf_release(&b);
	return same;
}

static sotto_err
parse_value(struct jp *p, size_t depth, struct sotto_node **out)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	size_t start = p->pos;
	bool esc;
	sotto_err rc;

	*out = NULL;
	if (p->pos >= p->len)
		return jerr(p, "unexpected end of input");
	switch (p->s[p->pos]) {
	case '{':
		return parse_object(p, depth + 1, out, NULL);
	case '[':
		return parse_array(p, depth + 1, out);
	case '"':
		b.secret = true;
		rc = parse_string(p, &b, &esc);
		if (rc == SOTTO_OK)
			rc = scalar_node(p, SOTTO_T_STR, b.len ?
			    (char *)b.data : "", b.len, start, JS_STRING, out);
		if (rc == SOTTO_OK && esc && !respelled_same(p->s + start,
		    p->pos - start, b.data, b.len))
			(*out)->flags |= SOTTO_NODE_RESPELL;
		sotto_buf_release(&b);
		return rc;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return parse_number(p, out);
	default:
		return parse_word(p, out);
	}
}

/* sops' message for a file whose top level is not an object. */
static sotto_err
top_level_error(struct jp *p)
{
	static const char only[] = "cannot unmarshal JSON: SOPS only supports "
	    "JSON files with a top-level object (starting with '{')";
	const char *what;

	if (p->pos >= p->len)
		return jerr(p, "%s, and this file has no value", only);
	switch (p->s[p->pos]) {
	case '[':
		return jerr(p, "%s, not arrays; to encrypt this file, wrap it "
		    "in an object, e.g. {\"data\": [...]}", only);
	case '"':
		what = "a string";
		break;
	case 't': case 'f':
		what = "a boolean";
		break;
	case 'n':
		what = "null";
		break;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		what = "a number";
		break;
	default:
		return jerr(p, "invalid character '%c' looking for the "
		    "beginning of a value", p->s[p->pos] >= 0x20 &&
		    p->s[p->pos] < 0x7f ? p->s[p->pos] : '?');
	}
	return jerr(p, "%s, not other JSON types (got %s)", only, what);
}

/* take: NULL to copy src, else the buffer holding it, moved into the doc */
static sotto_err
json_parse_src(struct sotto_doc **out, const uint8_t *src, size_t len,
    struct sotto_buf *take, const char *name, const struct sotto_limits *lim,
    struct sotto_error *e)
{
	struct sopspos sp = { NULL, SOTTO_SPAN_NONE, SOTTO_SPAN_NONE, false };
	struct sotto_node *top = NULL;
	struct sotto_doc *d;
	struct jp p;
	sotto_err rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.lim = sotto_storeutil_limits(lim);
	p.name = name;
	p.line = 1;
	p.e = e;
	if (len > p.lim.max_bytes)
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "'%s': input is %zu bytes, over the limit of %zu",
		    sotto_storeutil_name(name), len, p.lim.max_bytes);
	d = sotto_tree_doc_new(name);
	if (d == NULL)
		return nomem(e);
	d->store = &sotto_store_json;
	if (sotto_storeutil_set_src(&d->src, src, len, take) != SOTTO_OK) {
		rc = nomem(e);
		goto fail;
	}
	p.s = d->src.data;
	p.len = len;
	skip_ws(&p);
	if (p.pos >= p.len || p.s[p.pos] != '{') {
		rc = top_level_error(&p);
		goto fail;
	}
	if ((rc = parse_object(&p, 1, &top, &sp)) != SOTTO_OK) {
		sotto_tree_node_free(sp.val, false);
		goto fail;
	}
	skip_ws(&p);
	if (p.pos != p.len) {
		sotto_tree_node_free(top, true);
		sotto_tree_node_free(sp.val, false);
		rc = jerr(&p, "invalid character after top-level value");
		goto fail;
	}
	if (sotto_tree_doc_add(d, top) != SOTTO_OK) {
		sotto_tree_node_free(top, true);
		sotto_tree_node_free(sp.val, false);
		rc = nomem(e);
		goto fail;
	}
	d->meta[0] = sp.val;
	d->meta_start[0] = sp.val != NULL ? sp.start : SOTTO_SPAN_NONE;
	d->meta_end[0] = sp.val != NULL ? sp.end : SOTTO_SPAN_NONE;
	*out = d;
	return SOTTO_OK;
fail:
	sotto_tree_doc_free(d);
	return rc;
}

static sotto_err
json_parse(struct sotto_doc **out, const uint8_t *src, size_t len,
    const char *name, const struct sotto_limits *lim, struct sotto_error *e)
{
	return json_parse_src(out, src, len, NULL, name, lim, e);
}

static sotto_err
json_parse_buf(struct sotto_doc **out, struct sotto_buf *in, const char *name,
    const struct sotto_limits *lim, struct sotto_error *e)
{
	return json_parse_src(out, in->data != NULL ? in->data :
	    (const uint8_t *)"", in->len, in, name, lim, e);
}

/* ---- rendering ---- */

static const struct jfmt *
canon_fmt(struct jfmt *f, const struct sotto_emit_opts *o)
{
	int ind = o != NULL ? o->indent : -1;

	memset(f, 0, sizeof(*f));
	f->pretty = true;
	f->nl = "\n";
	f->nllen = 1;
	f->colon = ": ";
	f->colonlen = 2;
	f->comma = "";
	f->goesc = true;
	if (ind < 0) {
		f->unit = "\t";
		f->unitlen = 1;
	} else {	/* N spaces (sops: strings.Repeat(" ", N)) */
		f->unit = NULL;
		f->unitlen = (size_t)ind;
	}
	return f;
}

/* Go json.Marshal string escaping (HTML-safe, U+2028/9, bad UTF-8). */
static sotto_err
put_string(struct sotto_buf *o, const char *t, size_t n, bool goesc)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *s = (const uint8_t *)t;
	size_t i = 0, k;
	uint32_t r;
	char u[7];

	if (sotto_buf_addch(o, '"') != SOTTO_OK)
		return SOTTO_E_NOMEM;
	while (i < n) {
		uint8_t c = s[i];
		const char *rep = NULL;

		switch (c) {
		case '"': rep = "\\\""; break;
		case '\\': rep = "\\\\"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		case '\b': rep = "\\b"; break;
		case '\f': rep = "\\f"; break;
		default: break;
		}
		if (rep != NULL || c < 0x20 || (goesc && (c == '<' ||
		    c == '>' || c == '&'))) {
			if (rep == NULL) {
				memcpy(u, "\\u00", 4);
				u[4] = hex[c >> 4];
				u[5] = hex[c & 15];
				u[6] = '\0';
				rep = u;
			}
			if (sotto_buf_addstr(o, rep) != SOTTO_OK)
				return SOTTO_E_NOMEM;
			i++;
			continue;
		}
		k = utf8_len(s + i, n - i, &r);
		if (k == 0 && !goesc)
			k = 1, r = 0;
		if (k == 0) {
			if (sotto_buf_addstr(o, "\\ufffd") != SOTTO_OK)
				return SOTTO_E_NOMEM;
			i++;
			continue;
		}
		if (goesc && (r == 0x2028 || r == 0x2029)) {
			if (sotto_buf_addf(o, "\\u%04x", (unsigned)r) !=
			    SOTTO_OK)
				return SOTTO_E_NOMEM;
		} else if (sotto_buf_add(o, s + i, k) != SOTTO_OK)
			return SOTTO_E_NOMEM;
		i += k;
	}
	return sotto_buf_addch(o, '"');
}

/* True when t[0, n) is a JSON number (RFC 8259 grammar), all of it. */
static bool
json_number(const char *t, size_t n, bool *isint)
{
	size_t k = 0;

	return n > 0 && num_scan((const uint8_t *)t, n, &k, isint) == NULL &&
	    k == n;
}

/*
 * A float for JSON.  Canonical (emit): encoding/json's spelling.  Splice:
 * the spelling the value was encrypted with when it is a JSON number, so
 * "2.50", "1E+21" and 12345678901234567890 come back as written; Go's 'f'
 * form, which is what sops encrypts, comes back as sops prints it (so
 * 1e+21 for a value sops wrote as 1000000000000000000000).
 */
static sotto_err
render_float(struct sotto_buf *o, const struct sotto_node *n,
    const struct jfmt *f, struct sotto_error *e)
{
	char fb[SOTTO_GOFMT_FLOAT_MAX];
	double d;
	bool isint;
	int k;

	if (!sotto_storeutil_node_float(n, &d))
		return sotto_error_set(e, SOTTO_E_EMIT,
		    "line %zu: value is not a number JSON can hold", n->line);
	if (f->keep && json_number(n->text, n->len, &isint)) {
		k = sotto_gofmt_float_f(fb, sizeof(fb), d);
		if (k < 0 || (size_t)k != n->len ||
		    memcmp(fb, n->text, n->len) != 0)
			return sotto_buf_add(o, n->text, n->len) == SOTTO_OK ?
			    SOTTO_OK : nomem(e);
	}
	if (sotto_storeutil_float(o, d, 'j') != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_EMIT,
		    "line %zu: json: unsupported value: %s", n->line,
		    isnan(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf");
	return SOTTO_OK;
}

static sotto_err
render_scalar(struct sotto_buf *o, const struct sotto_node *n,
    const struct jfmt *f, struct sotto_error *e)
{
	struct sotto_buf t = SOTTO_BUF_SECRET_INIT;
	char ib[SOTTO_GOFMT_INT_MAX];
	int64_t iv;
	bool bv, isint;
	sotto_err rc;

	switch (n->type) {
	case SOTTO_T_INT:
		if (f->keep && json_number(n->text, n->len, &isint) && isint)
			rc = sotto_buf_add(o, n->text, n->len);
		else if (sotto_storeutil_node_int(n, &iv)) {
			sotto_gofmt_int(ib, sizeof(ib), iv);
			rc = sotto_buf_addstr(o, ib);
		} else
			return sotto_error_set(e, SOTTO_E_EMIT,
			    "line %zu: value is not a number JSON can hold",
			    n->line);
		break;
	case SOTTO_T_FLOAT:
		return render_float(o, n, f, e);
	case SOTTO_T_BOOL:
		if (!sotto_storeutil_node_bool(n, &bv))
			return sotto_error_set(e, SOTTO_E_EMIT,
			    "line %zu: value is not a boolean", n->line);
		rc = sotto_buf_addstr(o, bv ? "true" : "false");
		break;
	case SOTTO_T_NULL:
		rc = sotto_buf_addstr(o, "null");
		break;
	case SOTTO_T_TIME:
		/* encoding/json writes a time.Time as RFC3339Nano */
		rc = sotto_storeutil_time(&t, n, true);
		if (rc == SOTTO_OK)
			rc = put_string(o, (const char *)t.data, t.len,
			    f->goesc);
		sotto_buf_release(&t);
		break;
	default:
		rc = put_string(o, n->text, n->len, f->goesc);
		break;
	}
	return rc == SOTTO_OK ? SOTTO_OK : nomem(e);
}

static sotto_err
newline(struct sotto_buf *o, const struct jfmt *f, size_t depth)
{
	static const char spaces[] = "                                ";
	size_t i, k, n;

	if (!f->pretty)
		return SOTTO_OK;
	if (sotto_buf_add(o, f->nl, f->nllen) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	for (i = 0; i < depth; i++) {
		if (f->unit != NULL) {
			if (sotto_buf_add(o, f->unit, f->unitlen) != SOTTO_OK)
				return SOTTO_E_NOMEM;
			continue;
		}
		for (k = f->unitlen; k > 0; k -= n) {
			n = k < sizeof(spaces) - 1 ? k : sizeof(spaces) - 1;
			if (sotto_buf_add(o, spaces, n) != SOTTO_OK)
				return SOTTO_E_NOMEM;
		}
	}
	return SOTTO_OK;
}

/* Separator before an item: "," (unless first) and newline. */
static sotto_err
item_sep(struct sotto_buf *o, const struct jfmt *f, size_t depth, bool first)
{
	if (!first && (sotto_buf_addch(o, ',') != SOTTO_OK ||
	    (!f->pretty && sotto_buf_add(o, f->comma, f->commalen) !=
	    SOTTO_OK)))
		return SOTTO_E_NOMEM;
	return newline(o, f, depth);
}

static sotto_err
render_member(struct sotto_buf *o, const char *k, size_t kl,
    const struct sotto_node *v, const struct jfmt *f, size_t depth,
    struct sotto_error *e)
{
	if (put_string(o, k, kl, f->goesc) != SOTTO_OK ||
	    sotto_buf_add(o, f->colon, f->colonlen) != SOTTO_OK)
		return nomem(e);
	return render(o, v, f, depth, e);
}

/* A map, plus (extra key, extra value) as last member if extra != NULL. */
static sotto_err
render_map(struct sotto_buf *o, const struct sotto_node *m,
    const struct sotto_node *extra, const struct jfmt *f, size_t depth,
    struct sotto_error *e)
{
	bool first = true;
	size_t i;
	sotto_err rc;

	if (sotto_buf_addch(o, '{') != SOTTO_OK)
		return nomem(e);
	for (i = 0; m != NULL && i < m->n; i++) {
		const struct sotto_entry *it = &m->items[i];

		if (it->key == NULL || it->val == NULL ||
		    it->val->kind == SOTTO_NODE_COMMENT)
			continue;
		if (item_sep(o, f, depth + 1, first) != SOTTO_OK)
			return nomem(e);
		first = false;
		rc = render_member(o, it->key, it->keylen, it->val, f,
		    depth + 1, e);
		if (rc != SOTTO_OK)
			return rc;
	}
	if (extra != NULL) {
		if (item_sep(o, f, depth + 1, first) != SOTTO_OK)
			return nomem(e);
		first = false;
		rc = render_member(o, "sops", 4, extra, f, depth + 1, e);
		if (rc != SOTTO_OK)
			return rc;
	}
	if ((!first && newline(o, f, depth) != SOTTO_OK) ||
	    sotto_buf_addch(o, '}') != SOTTO_OK)
		return nomem(e);
	return SOTTO_OK;
}

static sotto_err
render(struct sotto_buf *o, const struct sotto_node *n, const struct jfmt *f,
    size_t depth, struct sotto_error *e)
{
	bool first = true;
	size_t i;
	sotto_err rc;

	if (depth > 100000)
		return sotto_error_set(e, SOTTO_E_LIMIT, "tree too deep");
	switch (n->kind) {
	case SOTTO_NODE_MAP:
		return render_map(o, n, NULL, f, depth, e);
	case SOTTO_NODE_SEQ:
		if (sotto_buf_addch(o, '[') != SOTTO_OK)
			return nomem(e);
		for (i = 0; i < n->n; i++) {
			const struct sotto_node *v = n->items[i].val;

			if (v == NULL || v->kind == SOTTO_NODE_COMMENT)
				continue;
			if (item_sep(o, f, depth + 1, first) != SOTTO_OK)
				return nomem(e);
			first = false;
			if ((rc = render(o, v, f, depth + 1, e)) != SOTTO_OK)
				return rc;
		}
		if ((!first && newline(o, f, depth) != SOTTO_OK) ||
		    sotto_buf_addch(o, ']') != SOTTO_OK)
			return nomem(e);
		return SOTTO_OK;
	case SOTTO_NODE_SCALAR:
		return render_scalar(o, n, f, e);
	default:
		return put_string(o, n->text, n->len, f->goesc) == SOTTO_OK ?
		    SOTTO_OK :
		    nomem(e);
	}
}

/* ---- emit ---- */

static sotto_err
json_emit(struct sotto_buf *out, const struct sotto_doc *doc,
    const struct sotto_node *meta, const struct sotto_emit_opts *o,
    struct sotto_error *e)
{
	struct jfmt f;
	const struct sotto_node *b = doc != NULL && doc->n > 0 ?
	    doc->branches[0] : NULL;
	sotto_err rc;

	if (b != NULL && b->kind != SOTTO_NODE_MAP)
		return sotto_error_set(e, SOTTO_E_EMIT,
		    "json: the top level must be a mapping");
	rc = render_map(out, b, meta, canon_fmt(&f, o), 0, e);
	if (rc != SOTTO_OK)
		return rc;
	return sotto_buf_addch(out, '\n') == SOTTO_OK ? SOTTO_OK : nomem(e);
}

static sotto_err
json_emit_value(struct sotto_buf *out, const struct sotto_node *n,
    const struct sotto_emit_opts *o, struct sotto_error *e)
{
	struct jfmt f;
	sotto_err rc;

	if (n == NULL)
		return sotto_error_set(e, SOTTO_E_INTERNAL, "no value");
	if (n->kind == SOTTO_NODE_COMMENT || (n->kind == SOTTO_NODE_SCALAR &&
	    n->type == SOTTO_T_STR))
		return sotto_buf_add(out, n->text, n->len) == SOTTO_OK ?
		    SOTTO_OK : nomem(e);
	rc = render(out, n, canon_fmt(&f, o), 0, e);
	if (rc == SOTTO_OK && n->kind == SOTTO_NODE_MAP &&
	    sotto_buf_addch(out, '\n') != SOTTO_OK)
		rc = nomem(e);
	return rc;
}

/* ---- splice ---- */

/* Skips the JSON value at s[*pos] (source known to be valid). */
static void
skip_value(const uint8_t *s, size_t len, size_t *pos)
{
	size_t i = *pos, depth = 0;
	bool instr = false;

	for (; i < len; i++) {
		uint8_t c = s[i];

		if (instr) {
			if (c == '\\')
				i++;
			else if (c == '"') {
				instr = false;
				if (depth == 0) {
					i++;
					break;
				}
			}
			continue;
		}
		if (c == '"')
			instr = true;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']') {
			if (depth <= 1) {
				i++;
				break;
			}
			depth--;
		} else if (depth == 0 && (c == ',' || is_ws(c)))
			break;
	}
	*pos = i;
}

static size_t
ws_end(const uint8_t *s, size_t len, size_t i)
{
	while (i < len && is_ws(s[i]))
		i++;
	return i;
}

/* Detects the layout of the object at s[start] ('{'). */
static void
detect_fmt(struct jfmt *f, const uint8_t *s, size_t len, size_t start)
{
	size_t a = start + 1, b, i, k;
	struct sotto_buf tmp = SOTTO_BUF_INIT;
	bool esc;

	canon_fmt(f, NULL);
	f->goesc = false;
	f->keep = true;
	b = ws_end(s, len, a);
	if (b >= len || s[b] != '"')
		return;
	for (i = b; i > a && s[i - 1] != '\n'; i--)
		;
	if (i > a) {
		/* newline-separated: unit is what follows the newline */
		f->nl = (i - 1 > a && s[i - 2] == '\r') ? "\r\n" : "\n";
		f->nllen = strlen(f->nl);
		f->unit = (const char *)s + i;
		f->unitlen = b - i;
	} else
		f->pretty = false;
	k = b;
	if (str_decode(s, len, &k, &tmp, &esc) == NULL) {
		i = ws_end(s, len, k);
		if (i < len && s[i] == ':') {
			i = ws_end(s, len, i + 1);
			if (i - k <= 8) {
				f->colon = (const char *)s + k;
				f->colonlen = i - k;
			}
			skip_value(s, len, &i);
			i = ws_end(s, len, i);
			if (!f->pretty && i < len && s[i] == ',') {
				k = ws_end(s, len, i + 1);
				f->comma = (const char *)s + i + 1;
				f->commalen = k - i - 1 <= 8 ? k - i - 1 : 0;
			}
		}
	}
	sotto_buf_release(&tmp);
}

static bool
intact(const struct sotto_node *n)
{
	size_t i;

	if (n->src_start == SOTTO_SPAN_NONE || n->flags != n->n + 1)
		return false;
	for (i = 0; i < n->n; i++)
		if (n->items[i].val == NULL ||
		    n->items[i].val->src_start == SOTTO_SPAN_NONE ||
		    (n->kind == SOTTO_NODE_MAP && n->items[i].key == NULL))
			return false;
	return true;
}

/* True when dirty scalar n still says what its source token said. */
static bool
same_as_source(const struct sotto_doc *d, const struct sotto_node *n)
{
	const uint8_t *s = d->src.data;
	size_t a = n->src_start, z = n->src_end, k = a;
	struct sotto_buf b = SOTTO_BUF_INIT, c = SOTTO_BUF_INIT;
	enum sotto_scalar_type t1, t2;
	bool esc, r = false, bv;

	if (a == SOTTO_SPAN_NONE || z > d->src.len || a >= z)
		return false;
	b.secret = c.secret = true;
	switch (s[a]) {
	case '"':
		r = n->type == SOTTO_T_STR &&
		    str_decode(s, z, &k, &b, &esc) == NULL && b.len == n->len &&
		    (n->len == 0 || memcmp(b.data, n->text, n->len) == 0);
		break;
	case 't':
	case 'f':
		r = n->type == SOTTO_T_BOOL &&
		    sotto_storeutil_parse_bool(n->text, n->len, &bv) &&
		    bv == (s[a] == 't');
		break;
	case 'n':
		r = n->type == SOTTO_T_NULL;
		break;
	default:
		if (n->type != SOTTO_T_INT && n->type != SOTTO_T_FLOAT)
			break;
		if (num_canon((const char *)s + a, z - a, true, &t1, &b) !=
		    NULL)
			break;
		if (num_canon(n->canon ? n->canon : n->text,
		    strlen(n->canon ? n->canon : n->text),
		    n->type == SOTTO_T_INT, &t2, &c) != NULL)
			break;
		r = t1 == t2 && b.len == c.len &&
		    memcmp(b.data, c.data, b.len) == 0;
		break;
	}
	sotto_buf_release(&b);
	sotto_buf_release(&c);
	return r;
}

static sotto_err
replace_node(struct sotto_edits *ed, const struct sotto_node *n,
    const struct jfmt *f, size_t depth, struct sotto_error *e)
{
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	sotto_err rc;

	rc = render(&b, n, f, depth, e);
	if (rc == SOTTO_OK && sotto_storeutil_edit(ed, n->src_start,
	    n->src_end, b.data, b.len) != SOTTO_OK)
		rc = nomem(e);
	sotto_buf_release(&b);
	return rc;
}

static sotto_err
splice_walk(struct sotto_edits *ed, const struct sotto_doc *d,
    const struct sotto_node *n, const struct jfmt *f, size_t depth,
    struct sotto_error *e)
{
	size_t i;
	sotto_err rc;

	for (i = 0; i < n->n; i++) {
		const struct sotto_node *c = n->items[i].val;

		if (c->kind == SOTTO_NODE_SCALAR ||
		    c->kind == SOTTO_NODE_COMMENT) {
			if (!c->dirty || same_as_source(d, c))
				continue;
			rc = replace_node(ed, c, f, depth, e);
		} else if (!intact(c))
			rc = replace_node(ed, c, f, depth, e);
		else
			rc = splice_walk(ed, d, c, f, depth + 1, e);
		if (rc != SOTTO_OK)
			return rc;
	}
	return SOTTO_OK;
}

/* Appends the new "sops" member to the intact top-level object b. */
static sotto_err
splice_meta(struct sotto_edits *ed, const struct sotto_doc *d,
    const struct sotto_node *b, const struct sotto_node *meta,
    const struct jfmt *f, struct sotto_error *e)
{
	struct sotto_buf t = SOTTO_BUF_INIT;
	size_t at, ws, close = b->src_end - 1;
	bool nl = false;
	sotto_err rc = SOTTO_OK;

	at = b->n > 0 ? b->items[b->n - 1].val->src_end : b->src_start + 1;
	if (rc == SOTTO_OK && (item_sep(&t, f, 1, b->n == 0) != SOTTO_OK ||
	    put_string(&t, "sops", 4, false) != SOTTO_OK ||
	    sotto_buf_add(&t, f->colon, f->colonlen) != SOTTO_OK))
		rc = nomem(e);
	if (rc == SOTTO_OK)
		rc = render(&t, meta, f, 1, e);
	if (rc == SOTTO_OK && b->n == 0 && f->pretty) {
		ws = d->meta_start[0] != SOTTO_SPAN_NONE ? d->meta_end[0] : at;
		for (; ws < close; ws++)
			nl |= d->src.data[ws] == '\n';
		if (!nl && newline(&t, f, 0) != SOTTO_OK)
			rc = nomem(e);
	}
	if (rc == SOTTO_OK && sotto_storeutil_edit(ed, at, at, t.data, t.len) !=
	    SOTTO_OK)
		rc = nomem(e);
	sotto_buf_release(&t);
	return rc;
}

static sotto_err
json_splice(struct sotto_buf *out, const struct sotto_doc *d,
    const struct sotto_node *meta, struct sotto_error *e)
{
	struct sotto_edits ed = { NULL, 0, 0 };
	const struct sotto_node *b;
	struct jfmt f;
	sotto_err rc;

	if (d == NULL || d->n != 1 || d->branches[0]->kind != SOTTO_NODE_MAP ||
	    d->branches[0]->src_start == SOTTO_SPAN_NONE)
		return sotto_error_set(e, SOTTO_E_INTERNAL,
		    "json splice needs a document parsed as JSON");
	b = d->branches[0];
	detect_fmt(&f, d->src.data, d->src.len, b->src_start);
	if (!intact(b)) {
		struct sotto_buf t = SOTTO_BUF_SECRET_INIT;

		rc = render_map(&t, b, meta, &f, 0, e);
		if (rc == SOTTO_OK && sotto_storeutil_edit(&ed, b->src_start,
		    b->src_end, t.data, t.len) != SOTTO_OK)
			rc = nomem(e);
		sotto_buf_release(&t);
	} else {
		rc = splice_walk(&ed, d, b, &f, 1, e);
		if (rc == SOTTO_OK && !sotto_storeutil_equal(d->meta[0],
		    meta)) {
			if (d->meta_start[0] != SOTTO_SPAN_NONE &&
			    sotto_storeutil_edit(&ed, d->meta_start[0],
			    d->meta_end[0], "", 0) != SOTTO_OK)
				rc = nomem(e);
			if (rc == SOTTO_OK && meta != NULL)
				rc = splice_meta(&ed, d, b, meta, &f, e);
		}
	}
	if (rc == SOTTO_OK)
		rc = sotto_storeutil_apply(out, d->src.data, d->src.len, &ed,
		    e);
	sotto_storeutil_edits_free(&ed);
	return rc;
}

const struct sotto_store sotto_store_json = {
	"json",
	json_parse,
	json_splice,
	json_emit,
	json_emit_value,
	NULL,
	json_parse_buf,
};
