/* SPDX-License-Identifier: ISC */
/*
 * The ${var} expansion of Flux's spec.postBuild: the grammar, the
 * functions and the errors of github.com/fluxcd/pkg/envsubst, Flux's fork
 * of github.com/drone/envsubst (eval.go, template.go, funcs.go,
 * parse/scan.go, parse/parse.go, path/match.go).  Only strict mode is the
 * fork's own; the rest is drone's.
 *
 * The scanner is kept in drone's shape on purpose: its quirks are the
 * behaviour users see (a NUL byte ends the input, "$$" becomes "$"
 * anywhere, ${var-x} is "missing closing brace", ${var:+x} and ${var:?x}
 * are defaults, a multi-byte character after ':' confuses the substring
 * parser), so they are reproduced rather than fixed.  Where drone panics or
 * recurses without bound, this file returns an error instead (see
 * kenv_eval() in kint.h).
 *
 * The variables, the YAML around the text and the Kubernetes side belong to
 * subst.c.  Input and output may hold Secret values: every buffer here is
 * secret (wiped when it grows and when it is released).
 */
#include "kube/kint.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#define NONE ((size_t)-1)
#define MAX_NEST 64	/* ${a:=${b:=${c...}}} levels */

/* ---- UTF-8 as Go's unicode/utf8 reads and writes it --------------------- */

#define RUNE_ERROR 0xfffdu

/* Decodes one rune at s[0..n) (n > 0); invalid bytes are U+FFFD, width 1. */
static uint32_t
u8dec(const unsigned char *s, size_t n, size_t *w)
{
	uint32_t r, min;
	size_t k, i;

	*w = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		k = 2;
		r = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		k = 3;
		r = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		k = 4;
		r = s[0] & 0x07;
		min = 0x10000;
	} else {
		return RUNE_ERROR;
	}
	if (n < k)
		return RUNE_ERROR;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return RUNE_ERROR;
		r = r << 6 | (s[i] & 0x3f);
	}
	if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
		return RUNE_ERROR;
	*w = k;
	return r;
}

/* Encodes r (a valid rune) into out (4 bytes); its length. */
static size_t
u8enc(unsigned char *out, uint32_t r)
{
	if (r < 0x80) {
		out[0] = (unsigned char)r;
		return 1;
	}
	if (r < 0x800) {
		out[0] = (unsigned char)(0xc0 | r >> 6);
		out[1] = (unsigned char)(0x80 | (r & 0x3f));
		return 2;
	}
	if (r < 0x10000) {
		out[0] = (unsigned char)(0xe0 | r >> 12);
		out[1] = (unsigned char)(0x80 | (r >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (r & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | r >> 18);
	out[1] = (unsigned char)(0x80 | (r >> 12 & 0x3f));
	out[2] = (unsigned char)(0x80 | (r >> 6 & 0x3f));
	out[3] = (unsigned char)(0x80 | (r & 0x3f));
	return 4;
}

/* ---- the scanner (parse/scan.go) ---------------------------------------- */

enum tok { T_ILLEGAL, T_EOF, T_IDENT, T_LBRACK, T_RBRACK };

#define M_IDENT 1u	/* scanIdent */
#define M_LBRACK 2u	/* scanLbrack */
#define M_RBRACK 4u	/* scanRbrack */
#define M_ESCAPE 8u	/* scanEscape */
#define E_DOLLAR 1u	/* "$$" is "$" */
#define E_BACKSLASH 2u	/* "\\" and "\/" lose the backslash */

/* i: bytes of the token so far, this rune included (drone's s.pos-s.start) */
typedef bool (*acceptfn)(uint32_t r, size_t i);

struct scan {
	unsigned char *buf;	/* a copy of the input: escapes remove bytes */
	size_t len;		/* bytes in buf */
	size_t pos, start;	/* next byte; start of the current token */
	size_t width;		/* bytes of the last rune read (0 at EOF) */
	unsigned mode, esc;	/* M_* and E_* bits */
	acceptfn accept;	/* which runes the current token takes */
};

/* The next rune, 0 at the end (a NUL byte reads as the end too). */
static uint32_t
rd(struct scan *s)
{
	uint32_t r;

	if (s->pos >= s->len) {
		s->width = 0;
		return 0;
	}
	r = u8dec(s->buf + s->pos, s->len - s->pos, &s->width);
	s->pos += s->width;
	return r;
}

static void
unrd(struct scan *s)
{
	s->pos -= s->width;
}

/* Drops the byte before pos (an escape character); pos stays. */
static void
skip(struct scan *s)
{
	memmove(s->buf + s->pos - 1, s->buf + s->pos, s->len - s->pos);
	s->len--;
	s->buf[s->len] = '\0';
}

static uint32_t
peek(struct scan *s)
{
	uint32_t r = rd(s);

	unrd(s);
	return r;
}

static bool
scan_lbrack(struct scan *s, uint32_t r)
{
	if (!(s->mode & M_LBRACK) || r != '$')
		return false;
	if (rd(s) == '{')
		return true;
	unrd(s);
	return false;
}

static bool
scan_escaped(struct scan *s, uint32_t r)
{
	if (!(s->mode & M_ESCAPE))
		return false;
	if (r == '$' && (s->esc & E_DOLLAR) && peek(s) == '$')
		return true;
	if (r == '\\' && (s->esc & E_BACKSLASH)) {
		r = peek(s);
		return r == '/' || r == '\\';
	}
	return false;
}

static bool
scan_ident(struct scan *s, uint32_t r)
{
	if (!(s->mode & M_IDENT))
		return false;
	if (scan_escaped(s, r))
		skip(s);
	else if (!s->accept(r, s->pos - s->start))
		return false;
	for (;;) {
		r = rd(s);
		if (r == 0) {
			unrd(s);
			break;
		}
		if (scan_lbrack(s, r)) {
			unrd(s);
			unrd(s);
			break;
		}
		if (scan_escaped(s, r)) {
			skip(s);
			continue;
		}
		if (!s->accept(r, s->pos - s->start)) {
			unrd(s);
			break;
		}
	}
	return true;
}

static enum tok
scan(struct scan *s)
{
	uint32_t r;

	s->start = s->pos;
	r = rd(s);
	if (r == 0)
		return T_EOF;
	if (scan_lbrack(s, r))
		return T_LBRACK;
	if ((s->mode & M_RBRACK) && r == '}')
		return T_RBRACK;
	if (scan_ident(s, r))
		return T_IDENT;
	return T_ILLEGAL;
}

/* drone's accept functions, by their names there */
static bool
accept_rune(uint32_t r, size_t i)
{
	(void)r;
	(void)i;
	return true;
}

static bool
accept_ident(uint32_t r, size_t i)
{
	(void)i;
	/* unicode.IsLetter/IsDigit in drone; names are ASCII in Flux */
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
	    (r >= '0' && r <= '9') || r == '_';
}

static bool
accept_colon(uint32_t r, size_t i)
{
	(void)i;
	return r == ':';
}

static bool
accept_one_hash(uint32_t r, size_t i)
{
	return r == '#' && i == 1;
}

static bool
accept_not_closing(uint32_t r, size_t i)
{
	(void)i;
	return r != '}';
}

static bool
accept_hash_func(uint32_t r, size_t i)
{
	return r == '#' && i < 3;
}

static bool
accept_percent_func(uint32_t r, size_t i)
{
	return r == '%' && i < 3;
}

static bool
accept_default_func(uint32_t r, size_t i)
{
	return (i == 1 && r == ':') || (i == 2 && (r == '=' || r == '-' ||
	    r == '?' || r == '+'));
}

static bool
accept_replace_func(uint32_t r, size_t i)
{
	return (i == 1 && r == '/') || (i == 2 && (r == '/' || r == '#' ||
	    r == '%'));
}

static bool
accept_one_equal(uint32_t r, size_t i)
{
	return i == 1 && r == '=';
}

static bool
accept_one_colon(uint32_t r, size_t i)
{
	return i == 1 && r == ':';
}

static bool
reject_colon_close(uint32_t r, size_t i)
{
	(void)i;
	return r != ':' && r != '}';
}

static bool
accept_slash(uint32_t r, size_t i)
{
	(void)i;
	return r == '/';
}

static bool
accept_not_slash(uint32_t r, size_t i)
{
	(void)i;
	return r != '/';
}

static bool
accept_casing_func(uint32_t r, size_t i)
{
	return (r == ',' || r == '^') && i < 3;
}

/* ---- the parse tree (parse/parse.go) ------------------------------------ */

enum { EN_TEXT, EN_FUNC };

/* Token text stays valid in scan.buf: escapes only remove bytes later on. */
struct enode {
	int kind;		/* EN_TEXT or EN_FUNC */
	char op[3];		/* EN_FUNC: "", ":=", "#", "//", ... */
	size_t off, len;	/* EN_TEXT: the text; EN_FUNC: the name */
	size_t arg;		/* EN_FUNC: first argument or NONE */
	size_t next;		/* next sibling (argument or top-level) */
};

struct parser {
	struct scan s;
	struct enode *v;	/* every node */
	size_t n, cap;
	const char *err;	/* drone's error text */
	int depth;		/* ${ levels open */
};

/* drone's errors, parse/parse.go */
#define ERR_BAD "bad substitution"
#define ERR_BRACE "missing closing brace"
#define ERR_NAME "unable to parse variable name"
#define ERR_FUNC "unable to parse substitution within function"
#define ERR_DEFAULT "unable to parse default function"
#define ERR_NOMEM "out of memory"
#define ERR_DEEP "substitutions nested deeper than 64 levels"

static size_t
new_node(struct parser *p, int kind)
{
	struct enode *v;
	size_t cap;

	if (p->n == p->cap) {
		cap = p->cap ? p->cap * 2 : 64;
		if (cap > SIZE_MAX / sizeof(*v) ||
		    (v = realloc(p->v, cap * sizeof(*v))) == NULL) {
			p->err = ERR_NOMEM;
			return NONE;
		}
		p->v = v;
		p->cap = cap;
	}
	memset(&p->v[p->n], 0, sizeof(p->v[0]));
	p->v[p->n].kind = kind;
	p->v[p->n].arg = p->v[p->n].next = NONE;
	return p->n++;
}

/* A text node holding the last token. */
static size_t
token_node(struct parser *p)
{
	size_t i = new_node(p, EN_TEXT);

	if (i != NONE) {
		p->v[i].off = p->s.start;
		p->v[i].len = p->s.pos - p->s.start;
	}
	return i;
}

/* NONE with p->err set */
static size_t
fail(struct parser *p, const char *err)
{
	p->err = err;
	return NONE;
}

/* A function node named after the last token (its operator). */
static size_t
func_node(struct parser *p, size_t name_off, size_t name_len)
{
	size_t i = new_node(p, EN_FUNC), n = p->s.pos - p->s.start;

	if (i == NONE)
		return NONE;
	p->v[i].off = name_off;
	p->v[i].len = name_len;
	memcpy(p->v[i].op, p->s.buf + p->s.start, n < 2 ? n : 2);
	return i;
}

/* Appends node c to f's arguments. */
static void
add_arg(struct parser *p, size_t f, size_t c)
{
	size_t *at = &p->v[f].arg;

	while (*at != NONE)
		at = &p->v[*at].next;
	*at = c;
}

static size_t parse_func(struct parser *p);

static bool
consume_rbrack(struct parser *p)
{
	p->s.mode = M_RBRACK;
	if (scan(&p->s) != T_RBRACK) {
		p->err = ERR_BAD;
		return false;
	}
	return true;
}

/* A parameter: text, or a nested ${...}. */
static size_t
parse_param(struct parser *p, acceptfn accept, unsigned mode)
{
	p->s.accept = accept;
	p->s.mode = mode | M_LBRACK;
	switch (scan(&p->s)) {
	case T_LBRACK:
		return parse_func(p);
	case T_IDENT:
	case T_RBRACK:
		return token_node(p);
	default:
		return fail(p, ERR_FUNC);
	}
}

/* ${param:offset} and ${param:offset:length} */
static size_t
parse_substr(struct parser *p, size_t name, size_t nlen)
{
	size_t f, a;

	p->s.accept = accept_one_colon;
	p->s.mode = M_IDENT;
	if (scan(&p->s) != T_IDENT)
		return fail(p, ERR_BAD);
	if ((f = func_node(p, name, nlen)) == NONE ||
	    (a = parse_param(p, reject_colon_close, M_IDENT)) == NONE)
		return NONE;
	add_arg(p, f, a);
	p->s.accept = accept_colon;
	p->s.mode = M_IDENT | M_RBRACK;
	switch (scan(&p->s)) {
	case T_RBRACK:
		return f;
	case T_IDENT:
		break;
	default:
		return fail(p, ERR_BAD);
	}
	if ((a = parse_param(p, accept_not_closing, M_IDENT)) == NONE)
		return NONE;
	add_arg(p, f, a);
	return consume_rbrack(p) ? f : NONE;
}

/* ${param#word} ${param##word} ${param%word} ${param%%word} */
static size_t
parse_remove(struct parser *p, size_t name, size_t nlen, acceptfn accept)
{
	size_t f, a;

	p->s.accept = accept;
	p->s.mode = M_IDENT;
	if (scan(&p->s) != T_IDENT)
		return fail(p, ERR_BAD);
	if ((f = func_node(p, name, nlen)) == NONE ||
	    (a = parse_param(p, accept_not_closing, M_IDENT)) == NONE)
		return NONE;
	add_arg(p, f, a);
	return consume_rbrack(p) ? f : NONE;
}

/* ${param/pattern/string} and its //, /# and /% forms */
static size_t
parse_replace(struct parser *p, size_t name, size_t nlen)
{
	size_t f, a;

	p->s.accept = accept_replace_func;
	p->s.mode = M_IDENT;
	if (scan(&p->s) != T_IDENT)
		return fail(p, ERR_BAD);
	if ((f = func_node(p, name, nlen)) == NONE ||
	    (a = parse_param(p, accept_not_slash, M_IDENT | M_ESCAPE)) ==
	    NONE)
		return NONE;
	add_arg(p, f, a);
	p->s.accept = accept_slash;
	p->s.mode = M_IDENT;
	if (scan(&p->s) != T_IDENT)
		return fail(p, ERR_BAD);
	if (peek(&p->s) == '}')
		return consume_rbrack(p) ? f : NONE;
	if ((a = parse_param(p, accept_not_closing, M_IDENT | M_ESCAPE)) ==
	    NONE)
		return NONE;
	add_arg(p, f, a);
	return consume_rbrack(p) ? f : NONE;
}

/* ${param=word} ${param:=word} ${param:-word} ${param:?word} ... */
static size_t
parse_default(struct parser *p, size_t name, size_t nlen)
{
	size_t f, a;

	p->s.accept = peek(&p->s) == '=' ? accept_one_equal :
	    accept_default_func;
	p->s.mode = M_IDENT;
	if (scan(&p->s) != T_IDENT)
		return fail(p, ERR_DEFAULT);
	if ((f = func_node(p, name, nlen)) == NONE)
		return NONE;
	for (;;) {
		if (peek(&p->s) == '}')
			return consume_rbrack(p) ? f : NONE;
		if ((a = parse_param(p, accept_not_closing, M_IDENT)) == NONE)
			return NONE;
		add_arg(p, f, a);
	}
}

static size_t
parse_default_or_substr(struct parser *p, size_t name, size_t nlen)
{
	uint32_t r;

	rd(&p->s);
	r = peek(&p->s);
	unrd(&p->s);	/* by the width of what peek read, as drone does */
	if (r == '=' || r == '-' || r == '?' || r == '+')
		return parse_default(p, name, nlen);
	return parse_substr(p, name, nlen);
}

/* ${param,} ${param,,} ${param^} ${param^^} */
static size_t
parse_casing(struct parser *p, size_t name, size_t nlen)
{
	size_t f;

	p->s.accept = accept_casing_func;
	p->s.mode = M_IDENT;
	if (scan(&p->s) != T_IDENT)
		return fail(p, ERR_BAD);
	if ((f = func_node(p, name, nlen)) == NONE)
		return NONE;
	return consume_rbrack(p) ? f : NONE;
}

/* ${#param} */
static size_t
parse_len(struct parser *p)
{
	size_t f;

	p->s.accept = accept_one_hash;
	p->s.mode = M_IDENT;
	if (scan(&p->s) != T_IDENT)
		return fail(p, ERR_BAD);
	if ((f = func_node(p, 0, 0)) == NONE)
		return NONE;
	p->s.accept = accept_ident;
	p->s.mode = M_IDENT;
	if (scan(&p->s) != T_IDENT)
		return fail(p, ERR_BAD);
	p->v[f].off = p->s.start;
	p->v[f].len = p->s.pos - p->s.start;
	return consume_rbrack(p) ? f : NONE;
}

static size_t
parse_func_at(struct parser *p)
{
	size_t name, nlen;

	p->s.esc = E_DOLLAR | E_BACKSLASH;
	if (peek(&p->s) == '#')
		return parse_len(p);
	p->s.accept = accept_ident;
	p->s.mode = M_IDENT;
	if (scan(&p->s) != T_IDENT)
		return fail(p, ERR_NAME);
	name = p->s.start;
	nlen = p->s.pos - p->s.start;
	switch (peek(&p->s)) {
	case ':':
		return parse_default_or_substr(p, name, nlen);
	case '=':
		return parse_default(p, name, nlen);
	case ',':
	case '^':
		return parse_casing(p, name, nlen);
	case '/':
		return parse_replace(p, name, nlen);
	case '#':
		return parse_remove(p, name, nlen, accept_hash_func);
	case '%':
		return parse_remove(p, name, nlen, accept_percent_func);
	}
	p->s.mode = M_RBRACK;
	if (scan(&p->s) != T_RBRACK)
		return fail(p, ERR_BRACE);
	p->s.start = p->s.pos;	/* an empty operator */
	return func_node(p, name, nlen);
}

/* After "${": the function, with the nesting bounded. */
static size_t
parse_func(struct parser *p)
{
	size_t f;

	if (p->depth >= MAX_NEST)
		return fail(p, ERR_DEEP);
	p->depth++;
	f = parse_func_at(p);
	p->depth--;
	return f;
}

/* The top level (drone's parseAny, a loop here): *first the list. */
static bool
parse_all(struct parser *p, size_t *first)
{
	size_t last = NONE, c;

	*first = NONE;
	for (;;) {
		p->s.accept = accept_rune;
		p->s.mode = M_IDENT | M_LBRACK | M_ESCAPE;
		p->s.esc = E_DOLLAR;
		switch (scan(&p->s)) {
		case T_IDENT:
			c = token_node(p);
			break;
		case T_EOF:
			return true;
		case T_LBRACK:
			c = parse_func(p);
			break;
		default:
			p->err = ERR_BAD;
			return false;
		}
		if (c == NONE)
			return false;
		if (last == NONE)
			*first = c;
		else
			p->v[last].next = c;	/* p->v may have moved */
		last = c;
	}
}

/* ---- evaluation (template.go, funcs.go) --------------------------------- */

struct eval {
	const struct parser *p;
	kenv_lookup_fn lookup;
	void *arg;
	bool strict;
	size_t budget;		/* bytes still allowed to be produced */
	locale_t loc;		/* C.UTF-8 for case mapping, or 0 */
	bool loc_tried;
	struct sotto_error *e;
};

/* A string: bytes and length (not NUL-terminated). */
struct str {
	const unsigned char *p;
	size_t n;
};

static sotto_err
put(struct eval *ev, struct sotto_buf *b, const void *p, size_t n)
{
	if (n > ev->budget)
		return sotto_error_set(ev->e, SOTTO_E_LIMIT, "the substituted "
		    "output would exceed %zu MiB", KENV_MAX_OUTPUT >> 20);
	ev->budget -= n;
	if (n > 0 && sotto_buf_add(b, p, n) != SOTTO_OK)
		return sotto_error_set(ev->e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

/* Go's strconv.Atoi: [+-]?[0-9]+ within int64. */
static bool
go_atoi(struct str s, long long *out)
{
	unsigned long long v = 0, lim = (unsigned long long)INT64_MAX;
	size_t i = 0;
	bool neg = false;

	if (s.n > 0 && (s.p[0] == '+' || s.p[0] == '-')) {
		neg = s.p[0] == '-';
		lim += neg;
		i = 1;
	}
	if (i == s.n)
		return false;
	for (; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		if (v > (lim - (unsigned)(s.p[i] - '0')) / 10)
			return false;
		v = v * 10 + (unsigned)(s.p[i] - '0');
	}
	*out = neg ? (long long)(0 - v) : (long long)v;
	return true;
}

/* toSubstr: bash's ${v:pos[:len]} on bytes. */
static sotto_err
fn_substr(struct eval *ev, struct sotto_buf *o, struct str v,
    const struct str *a, size_t na)
{
	long long pos, len, n = (long long)v.n;

	if (na == 0 || !go_atoi(a[0], &pos))
		return put(ev, o, v.p, v.n);
	if (pos < 0 && (pos += n) < 0)
		pos = 0;
	if (na == 1)
		return pos < n ? put(ev, o, v.p + pos, (size_t)(n - pos)) :
		    SOTTO_OK;
	if (!go_atoi(a[1], &len))
		return put(ev, o, v.p, v.n);
	if (len >= n - pos)	/* pos+len >= len(s), without overflow */
		return pos < n ? put(ev, o, v.p + pos, (size_t)(n - pos)) :
		    SOTTO_OK;
	if (len < 0)	/* drone slices s[pos:pos+len] and panics */
		return sotto_error_set(ev->e, SOTTO_E_CONFIG, "negative "
		    "substring length");
	return put(ev, o, v.p + pos, (size_t)len);
}

/* strings.Replace(s, old, new, all ? -1 : 1) */
static sotto_err
fn_replace(struct eval *ev, struct sotto_buf *o, struct str s,
    struct str old, struct str nw, bool all)
{
	size_t i = 0, w;
	const unsigned char *hit;
	bool done = false;

	if (old.n == 0) {	/* before each rune, and at the end */
		while (!done) {
			if (put(ev, o, nw.p, nw.n) != SOTTO_OK)
				return ev->e->code;
			if (i == s.n || !all)
				break;
			u8dec(s.p + i, s.n - i, &w);
			if (put(ev, o, s.p + i, w) != SOTTO_OK)
				return ev->e->code;
			i += w;
		}
		return put(ev, o, s.p + i, s.n - i);
	}
	while (!done && (hit = memmem(s.p + i, s.n - i, old.p, old.n)) !=
	    NULL) {
		if (put(ev, o, s.p + i, (size_t)(hit - s.p) - i) != SOTTO_OK ||
		    put(ev, o, nw.p, nw.n) != SOTTO_OK)
			return ev->e->code;
		i = (size_t)(hit - s.p) + old.n;
		done = !all;
	}
	return put(ev, o, s.p + i, s.n - i);
}

static bool
has_prefix(struct str s, struct str p)
{
	return s.n >= p.n && memcmp(s.p, p.p, p.n) == 0;
}

static bool
has_suffix(struct str s, struct str p)
{
	return s.n >= p.n && memcmp(s.p + s.n - p.n, p.p, p.n) == 0;
}

/* ---- path.Match of envsubst/path: '/' is not special ---- */

#define MATCH_BAD -1

/* One possibly escaped rune of a character class. */
static int
get_esc(struct str *c, uint32_t *r)
{
	size_t w;

	if (c->n == 0 || c->p[0] == '-' || c->p[0] == ']')
		return MATCH_BAD;
	if (c->p[0] == '\\') {
		c->p++;
		c->n--;
		if (c->n == 0)
			return MATCH_BAD;
	}
	*r = u8dec(c->p, c->n, &w);
	if (*r == RUNE_ERROR && w == 1)
		return MATCH_BAD;
	c->p += w;
	c->n -= w;
	return c->n == 0 ? MATCH_BAD : 0;
}

/* A character class at c (after '['), against rune r: 1, 0 or MATCH_BAD. */
static int
match_class(struct str *c, uint32_t r)
{
	bool negated = false, hit = false;
	uint32_t lo, hi;
	size_t nrange = 0;

	if (c->n > 0 && c->p[0] == '^') {
		negated = true;
		c->p++;
		c->n--;
	}
	for (;;) {
		if (c->n > 0 && c->p[0] == ']' && nrange > 0) {
			c->p++;
			c->n--;
			break;
		}
		if (get_esc(c, &lo) != 0)
			return MATCH_BAD;
		hi = lo;
		if (c->p[0] == '-') {
			c->p++;
			c->n--;
			if (get_esc(c, &hi) != 0)
				return MATCH_BAD;
		}
		if (lo <= r && r <= hi)
			hit = true;
		nrange++;
	}
	return hit != negated;
}

/*
 * matchChunk: whether chunk (no '*') matches the start of s; *rest is what
 * follows.  1, 0 or MATCH_BAD.
 */
static int
match_chunk(struct str c, struct str s, struct str *rest)
{
	uint32_t r;
	size_t w;
	int m;

	while (c.n > 0) {
		if (s.n == 0)
			return 0;
		switch (c.p[0]) {
		case '[':
			r = u8dec(s.p, s.n, &w);
			s.p += w;
			s.n -= w;
			c.p++;
			c.n--;
			if ((m = match_class(&c, r)) != 1)
				return m;
			break;
		case '?':
			u8dec(s.p, s.n, &w);
			s.p += w;
			s.n -= w;
			c.p++;
			c.n--;
			break;
		case '\\':
			c.p++;
			c.n--;
			if (c.n == 0)
				return MATCH_BAD;
			/* FALLTHROUGH */
		default:
			if (c.p[0] != s.p[0])
				return 0;
			s.p++;
			s.n--;
			c.p++;
			c.n--;
			break;
		}
	}
	*rest = s;
	return 1;
}

/* scanChunk: leading stars, then the chunk up to the next unbracketed '*'. */
static bool
scan_chunk(struct str *pat, struct str *chunk)
{
	bool star = false, inrange = false;
	size_t i;

	while (pat->n > 0 && pat->p[0] == '*') {
		pat->p++;
		pat->n--;
		star = true;
	}
	for (i = 0; i < pat->n; i++) {
		if (pat->p[i] == '\\') {
			if (i + 1 < pat->n)
				i++;
		} else if (pat->p[i] == '[') {
			inrange = true;
		} else if (pat->p[i] == ']') {
			inrange = false;
		} else if (pat->p[i] == '*' && !inrange) {
			break;
		}
	}
	chunk->p = pat->p;
	chunk->n = i;
	pat->p += i;
	pat->n -= i;
	return star;
}

/* Match(pattern, name): 1, 0 or MATCH_BAD. */
static int
match(struct str pat, struct str name)
{
	struct str chunk, t;
	bool star;
	size_t i;
	int m;

next:
	while (pat.n > 0) {
		star = scan_chunk(&pat, &chunk);
		if (star && chunk.n == 0)
			return 1;	/* a trailing '*' takes the rest */
		m = match_chunk(chunk, name, &t);
		if (m == 1 && (t.n == 0 || pat.n > 0)) {
			name = t;
			continue;
		}
		if (m == MATCH_BAD)
			return MATCH_BAD;
		if (star) {
			for (i = 0; i < name.n; i++) {
				struct str tail = { name.p + i + 1,
				    name.n - i - 1 };

				m = match_chunk(chunk, tail, &t);
				if (m == 1) {
					if (pat.n == 0 && t.n > 0)
						continue;
					name = t;
					goto next;
				}
				if (m == MATCH_BAD)
					return MATCH_BAD;
			}
		}
		return 0;
	}
	return name.n == 0;
}

/*
 * trimShortest / trimLongest: how many bytes of the longest (or shortest)
 * non-empty prefix of s that matches pat, 0 when none does or pat is bad.
 */
static size_t
trim_len(struct str s, struct str pat, bool longest)
{
	size_t i, found = 0;
	int m;

	for (i = 0; i < s.n; i++) {
		struct str pre = { s.p, s.n - i };

		if ((m = match(pat, pre)) == MATCH_BAD)
			return 0;
		if (m == 1) {
			found = pre.n;
			if (longest)
				return found;
		}
	}
	return found;
}

/* []rune(s) reversed back into a string (invalid bytes become U+FFFD). */
static sotto_err
reverse(struct eval *ev, struct sotto_buf *o, struct str s)
{
	unsigned char enc[4];
	size_t i = s.n, j, w, k;
	uint32_t r;

	while (i > 0) {
		/* the start of the last rune: step back over continuation
		 * bytes, then check that it decodes to the end */
		j = i - 1;
		for (k = 0; k < 3 && j > 0 && (s.p[j] & 0xc0) == 0x80; k++)
			j--;
		r = u8dec(s.p + j, i - j, &w);
		if (w != i - j) {
			j = i - 1;	/* invalid: one byte, U+FFFD */
			r = RUNE_ERROR;
		}
		w = u8enc(enc, r);
		if (put(ev, o, enc, w) != SOTTO_OK)
			return ev->e->code;
		i = j;
	}
	return SOTTO_OK;
}

/* # ## % %%: prefix (or, reversed, suffix) removal */
static sotto_err
fn_trim(struct eval *ev, struct sotto_buf *o, struct str v, struct str pat,
    bool longest, bool suffix)
{
	struct sotto_buf rv = SOTTO_BUF_SECRET_INIT, rp = SOTTO_BUF_SECRET_INIT;
	struct sotto_buf cut = SOTTO_BUF_SECRET_INIT;
	struct str a, b;
	size_t k;
	sotto_err rc;

	if (!suffix) {
		k = trim_len(v, pat, longest);
		return put(ev, o, v.p + k, v.n - k);
	}
	if ((rc = reverse(ev, &rv, v)) == SOTTO_OK &&
	    (rc = reverse(ev, &rp, pat)) == SOTTO_OK) {
		a.p = rv.data;
		a.n = rv.len;
		b.p = rp.data;
		b.n = rp.len;
		k = trim_len(a, b, longest);
		a.p += k;
		a.n -= k;
		if ((rc = reverse(ev, &cut, a)) == SOTTO_OK)
			rc = put(ev, o, cut.data, cut.len);
	}
	sotto_buf_release(&rv);
	sotto_buf_release(&rp);
	sotto_buf_release(&cut);
	return rc;
}

/* unicode case mapping through the C.UTF-8 locale, else ASCII only */
static uint32_t
fold_case(struct eval *ev, uint32_t r, bool upper)
{
	if (r < 0x80) {
		if (upper && r >= 'a' && r <= 'z')
			return r - 32;
		if (!upper && r >= 'A' && r <= 'Z')
			return r + 32;
		return r;
	}
	if (!ev->loc_tried) {
		ev->loc_tried = true;
		ev->loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	if (ev->loc == (locale_t)0 || r == RUNE_ERROR)
		return r;
	r = upper ? (uint32_t)towupper_l((wint_t)r, ev->loc) :
	    (uint32_t)towlower_l((wint_t)r, ev->loc);
	return r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff) ? RUNE_ERROR : r;
}

/* ^ ^^ , ,, */
static sotto_err
fn_case(struct eval *ev, struct sotto_buf *o, struct str v, bool upper,
    bool first_only)
{
	unsigned char enc[4];
	size_t i = 0, w;
	uint32_t r;

	while (i < v.n) {
		r = u8dec(v.p + i, v.n - i, &w);
		if (i > 0 && first_only)
			return put(ev, o, v.p + i, v.n - i);
		r = fold_case(ev, r, upper);
		/* strings.Map writes invalid bytes as U+FFFD; the first rune
		 * alone keeps its byte (string(rune) of RuneError is EF BF BD
		 * too) */
		if (put(ev, o, enc, u8enc(enc, r)) != SOTTO_OK)
			return ev->e->code;
		i += w;
	}
	return SOTTO_OK;
}

static bool
is_default_op(const char *op)
{
	static const char *const ops[] = { "-", "+", "=", "?", ":-", ":+",
		":=", ":?", NULL };
	size_t i;

	for (i = 0; ops[i] != NULL; i++)
		if (strcmp(op, ops[i]) == 0)
			return true;
	return false;
}

/* lookupFunc then the function, on value v and the arguments a[0..na) */
static sotto_err
apply(struct eval *ev, struct sotto_buf *o, const char *op, struct str v,
    const struct str *a, size_t na)
{
	char num[24];
	size_t i;

	if (strcmp(op, ",") == 0 || strcmp(op, ",,") == 0 ||
	    strcmp(op, "^") == 0 || strcmp(op, "^^") == 0)
		return fn_case(ev, o, v, op[0] == '^', op[1] == '\0');
	if (strcmp(op, "#") == 0 && na == 0) {
		snprintf(num, sizeof(num), "%zu", v.n);
		return put(ev, o, num, strlen(num));
	}
	if ((op[0] == '#' || op[0] == '%') && (op[1] == '\0' ||
	    op[1] == op[0]))
		return na == 0 ? put(ev, o, v.p, v.n) : fn_trim(ev, o, v,
		    a[0], op[1] != '\0', op[0] == '%');
	if (strcmp(op, ":") == 0)
		return fn_substr(ev, o, v, a, na);
	if (strcmp(op, "/#") == 0 || strcmp(op, "/%") == 0) {
		if (na != 2 || !(op[1] == '#' ? has_prefix(v, a[0]) :
		    has_suffix(v, a[0])))
			return put(ev, o, v.p, v.n);
		if (op[1] == '#')
			return fn_replace(ev, o, v, a[0], a[1], false);
		return put(ev, o, v.p, v.n - a[0].n) != SOTTO_OK ?
		    ev->e->code : put(ev, o, a[1].p, a[1].n);
	}
	if (strcmp(op, "/") == 0 || strcmp(op, "//") == 0) {
		struct str none = { (const unsigned char *)"", 0 };

		if (na == 0)
			return put(ev, o, v.p, v.n);
		return fn_replace(ev, o, v, a[0], na > 1 ? a[1] : none,
		    op[1] == '/');
	}
	/* toDefault, for every other operator (":+" and ":?" included) */
	if (v.n > 0 || na == 0)
		return put(ev, o, v.p, v.n);
	for (i = 0; i < na; i++)
		if (put(ev, o, a[i].p, a[i].n) != SOTTO_OK)
			return ev->e->code;
	return SOTTO_OK;
}

static sotto_err eval_list(struct eval *ev, struct sotto_buf *o,
    size_t first);

/* evalFunc: the arguments first, then the variable, then the function. */
static sotto_err
eval_func(struct eval *ev, struct sotto_buf *o, const struct enode *f)
{
	const struct parser *p = ev->p;
	struct sotto_buf tmp = SOTTO_BUF_SECRET_INIT;
	struct str a[8], *args = a, v = { (const unsigned char *)"", 0 };
	size_t na = 0, cap = 8, c, *ends = NULL;
	const char *val = NULL;
	size_t vlen = 0, i;
	sotto_err rc = SOTTO_OK;

	for (c = f->arg; c != NONE; c = p->v[c].next)
		na++;
	if (na > cap) {
		cap = na;
		args = calloc(na, sizeof(*args));
	}
	ends = calloc(na + 1, sizeof(*ends));
	if (args == NULL || ends == NULL) {
		rc = sotto_error_set(ev->e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0, c = f->arg; c != NONE; c = p->v[c].next, i++) {
		if (p->v[c].kind == EN_TEXT)
			rc = put(ev, &tmp, p->s.buf + p->v[c].off,
			    p->v[c].len);
		else
			rc = eval_func(ev, &tmp, &p->v[c]);
		if (rc != SOTTO_OK)
			goto out;
		ends[i + 1] = tmp.len;
	}
	for (i = 0; i < na; i++) {	/* tmp no longer moves */
		args[i].p = (tmp.data ? tmp.data : (uint8_t *)"") + ends[i];
		args[i].n = ends[i + 1] - ends[i];
	}
	if (ev->lookup(ev->arg, (const char *)p->s.buf + f->off, f->len, &val,
	    &vlen)) {
		v.p = (const unsigned char *)val;
		v.n = vlen;
	} else if (ev->strict && !is_default_op(f->op)) {
		/* names are [A-Za-z0-9_]: Go's %q shows them as they are */
		rc = sotto_error_set(ev->e, SOTTO_E_CONFIG, "variable not set "
		    "(strict mode): \"%.*s\"", (int)(f->len > 200 ? 200 :
		    f->len), (const char *)p->s.buf + f->off);
		goto out;
	}
	rc = apply(ev, o, f->op, v, args, na);
out:
	if (args != a)
		free(args);
	free(ends);
	sotto_buf_release(&tmp);
	return rc;
}

static sotto_err
eval_list(struct eval *ev, struct sotto_buf *o, size_t first)
{
	const struct parser *p = ev->p;
	size_t c;
	sotto_err rc;

	for (c = first; c != NONE; c = p->v[c].next) {
		if (p->v[c].kind == EN_TEXT)
			rc = put(ev, o, p->s.buf + p->v[c].off, p->v[c].len);
		else
			rc = eval_func(ev, o, &p->v[c]);
		if (rc != SOTTO_OK)
			return rc;
	}
	return SOTTO_OK;
}

sotto_err
kenv_eval(struct sotto_buf *out, const char *in, size_t len,
    kenv_lookup_fn lookup, void *arg, bool strict, struct sotto_error *e)
{
	struct sotto_buf copy = SOTTO_BUF_SECRET_INIT;
	struct parser p;
	struct eval ev;
	size_t first, start = out->len;
	sotto_err rc;

	memset(&p, 0, sizeof(p));
	memset(&ev, 0, sizeof(ev));
	if (sotto_buf_add(&copy, in, len) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	p.s.buf = copy.data ? copy.data : (uint8_t *)"";
	p.s.len = len;
	if (!parse_all(&p, &first)) {
		rc = sotto_error_set(e, strcmp(p.err, ERR_NOMEM) == 0 ?
		    SOTTO_E_NOMEM : SOTTO_E_CONFIG, "%s", p.err);
		goto out;
	}
	ev.p = &p;
	ev.lookup = lookup;
	ev.arg = arg;
	ev.strict = strict;
	ev.budget = KENV_MAX_WORK;
	ev.e = e;
	if ((rc = eval_list(&ev, out, first)) == SOTTO_OK &&
	    out->len - start > KENV_MAX_OUTPUT)
		rc = sotto_error_set(e, SOTTO_E_LIMIT, "the substituted "
		    "output would exceed %zu MiB", KENV_MAX_OUTPUT >> 20);
	if (rc != SOTTO_OK)
		sotto_buf_truncate(out, start);
out:
	if (ev.loc != (locale_t)0)
		freelocale(ev.loc);
	free(p.v);
	sotto_buf_release(&copy);
	return rc;
}
