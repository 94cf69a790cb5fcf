/* SPDX-License-Identifier: ISC */
/*
 * INI store (sops-format.md §5.4), read with gopkg.in/ini.v1 semantics:
 * sections become MAP entries of the branch (keys before any section live
 * in "DEFAULT"), values are trimmed strings with "...", '...', `...` and
 * """...""" quoting, ';'/'#' lines are comments (a block of comment lines
 * is one COMMENT node placed before the key or section it precedes; an
 * inline comment is a COMMENT node after its key).  The [sops] section is
 * the flattened metadata (§4.4).  emit() writes go-ini's pretty layout.
 *
 * Node style: how the value was quoted in the source (IQ_*).
 */
#include "sotto/store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/storeutil.h"

enum { IQ_PLAIN, IQ_DQ, IQ_SQ, IQ_BACK, IQ_TRIPLE, IQ_CONT };
/* comment written after a section header, on its line */
#define IF_HEADER 0x100u

struct iline {
	size_t ls, le, next;	/* start, end (no '\n'), next line start */
	size_t no;		/* 1-based line number */
};

struct ip {
	const uint8_t *s;		/* source */
	size_t len, pos, line;		/* size, next line start, line no */
	const char *name;		/* for messages */
	struct sotto_limits lim;	/* limits */
	size_t nodes;			/* nodes made */
	struct sotto_node *branch;	/* sections */
	struct sotto_node *cur;		/* current section map or NULL */
	struct sotto_node *meta;	/* unflattened [sops] */
	struct sotto_node *pend;	/* pending comment block */
	size_t sops_start, sops_end;	/* span of the [sops] section */
	bool in_sops;			/* inside [sops] */
	struct sotto_error *e;		/* error out */
};

static sotto_err
nomem(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

static sotto_err
ierr(struct ip *p, size_t line, const char *what)
{
	return sotto_error_set(p->e, SOTTO_E_INI, "'%s' line %zu: %s",
	    sotto_storeutil_name(p->name), line, what);
}

/* Bytes of the (unicode.IsSpace) whitespace character at s[i], or 0. */
static size_t
space_at(const uint8_t *s, size_t i, size_t end)
{
	uint8_t c = s[i];

	if (c == ' ' || (c >= '\t' && c <= '\r'))
		return 1;
	if (c == 0xC2 && i + 1 < end && (s[i + 1] == 0x85 || s[i + 1] == 0xA0))
		return 2;
	return 0;
}

static size_t
ltrim(const uint8_t *s, size_t a, size_t z)
{
	size_t k;

	while (a < z && (k = space_at(s, a, z)) > 0)
		a += k;
	return a;
}

static size_t
rtrim(const uint8_t *s, size_t a, size_t z)
{
	for (;;) {
		if (z > a && space_at(s, z - 1, z) == 1)
			z--;
		else if (z >= a + 2 && s[z - 2] == 0xC2 && (s[z - 1] == 0x85 ||
		    s[z - 1] == 0xA0))
			z -= 2;
		else
			return z;
	}
}

static bool
next_line(struct ip *p, struct iline *l)
{
	const uint8_t *nl;

	if (p->pos >= p->len)
		return false;
	l->ls = p->pos;
	nl = memchr(p->s + p->pos, '\n', p->len - p->pos);
	l->le = nl != NULL ? (size_t)(nl - p->s) : p->len;
	l->next = nl != NULL ? l->le + 1 : p->len;
	l->no = ++p->line;
	p->pos = l->next;
	return true;
}

static size_t
find_any(const uint8_t *s, size_t a, size_t z, const char *set)
{
	for (; a < z; a++)
		if (s[a] != '\0' && strchr(set, s[a]) != NULL)
			return a;
	return SOTTO_SPAN_NONE;
}

static size_t
find_str(const uint8_t *s, size_t a, size_t z, const char *q, bool last)
{
	size_t ql = strlen(q), i, r = SOTTO_SPAN_NONE;

	for (i = a; i + ql <= z; i++) {
		if (memcmp(s + i, q, ql) == 0) {
			r = i;
			if (!last)
				break;
		}
	}
	return r;
}

static sotto_err
count_node(struct ip *p, size_t line)
{
	if (++p->nodes > p->lim.max_nodes)
		return sotto_error_set(p->e, SOTTO_E_LIMIT,
		    "'%s' line %zu: more than %zu nodes",
		    sotto_storeutil_name(p->name), line, p->lim.max_nodes);
	return SOTTO_OK;
}

/* ---- comments ---- */

/* Comment text of one line s[a, z) starting at its marker. */
static void
comment_text(const uint8_t *s, size_t a, size_t z, size_t *ta, size_t *tz)
{
	*ta = ltrim(s, a + 1, z);
	*tz = rtrim(s, *ta, z);
}

static sotto_err
pend_add(struct ip *p, size_t a, size_t z, size_t line)
{
	size_t ta, tz;

	comment_text(p->s, a, z, &ta, &tz);
	if (p->pend == NULL) {
		if (count_node(p, line) != SOTTO_OK)
			return p->e->code;
		p->pend = sotto_tree_new_comment((const char *)p->s + ta,
		    tz - ta);
		if (p->pend == NULL)
			return nomem(p->e);
		p->pend->src_start = a;
		p->pend->line = line;
	} else {
		struct sotto_buf b = SOTTO_BUF_INIT;

		if (sotto_buf_add(&b, p->pend->text, p->pend->len) !=
		    SOTTO_OK || sotto_buf_addch(&b, '\n') != SOTTO_OK ||
		    sotto_buf_add(&b, p->s + ta, tz - ta) != SOTTO_OK ||
		    sotto_tree_set_text(p->pend, SOTTO_T_STR,
		    (const char *)b.data, b.len) != SOTTO_OK) {
			sotto_buf_release(&b);
			return nomem(p->e);
		}
		sotto_buf_release(&b);
		p->pend->dirty = false;
	}
	p->pend->src_end = rtrim(p->s, a, z);
	return SOTTO_OK;
}

static sotto_err render_comment(struct sotto_buf *, const uint8_t *, size_t,
    const struct sotto_node *);

/* Appends the comment at s[a, z) (on a header line) to the pending block. */
static sotto_err
join_header_comment(struct ip *p, size_t a, size_t z)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	size_t ta, tz;
	sotto_err rc = SOTTO_OK;

	comment_text(p->s, a, z, &ta, &tz);
	if (sotto_buf_add(&b, p->pend->text, p->pend->len) != SOTTO_OK ||
	    sotto_buf_addch(&b, '\n') != SOTTO_OK ||
	    sotto_buf_add(&b, p->s + ta, tz - ta) != SOTTO_OK ||
	    sotto_tree_set_text(p->pend, SOTTO_T_STR, (const char *)b.data,
	    b.len) != SOTTO_OK)
		rc = nomem(p->e);
	p->pend->dirty = false;
	sotto_buf_release(&b);
	return rc;
}

/*
 * True when a comment block reads back from its text as it is written:
 * each line with the first line's marker and spacing, nothing else (no
 * blank line inside, no other indentation or marker, no trailing blanks).
 */
static bool
comment_faithful(const struct ip *p, const struct sotto_node *c)
{
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	bool same;

	same = render_comment(&b, p->s, p->len, c) == SOTTO_OK &&
	    b.len == c->src_end - c->src_start &&
	    memcmp(b.data, p->s + c->src_start, b.len) == 0;
	sotto_buf_release(&b);
	return same;
}

/*
 * Moves the pending comment block into the current section, or DEFAULT
 * before any.  go-ini drops a comment that no key or section follows (at
 * the end of the file, before [sops]); it is kept here as a node all the
 * same, so that encrypt encrypts it rather than leaving it in clear.
 */
static sotto_err
pend_flush(struct ip *p)
{
	struct sotto_node *c = p->pend;
	struct sotto_node *to = p->cur != NULL ? p->cur :
	    p->branch->items[0].val;

	p->pend = NULL;
	if (c == NULL)
		return SOTTO_OK;
	if (!comment_faithful(p, c))
		c->flags |= SOTTO_NODE_RESPELL;
	if (sotto_tree_map_add(to, NULL, 0, c) != SOTTO_OK) {
		sotto_tree_node_free(c, false);
		return nomem(p->e);
	}
	return SOTTO_OK;
}

/* ---- sections ---- */

static sotto_err
end_sops(struct ip *p, size_t at)
{
	if (p->in_sops && p->sops_end == SOTTO_SPAN_NONE)
		p->sops_end = at;
	p->in_sops = false;
	return SOTTO_OK;
}

static sotto_err
parse_section(struct ip *p, const struct iline *l, size_t t)
{
	struct sotto_node *m;
	size_t close = SOTTO_SPAN_NONE, i, at;
	sotto_err rc;

	for (i = t; i < l->le; i++)
		if (p->s[i] == ']')
			close = i;
	if (close == SOTTO_SPAN_NONE)
		return ierr(p, l->no, "unclosed section");
	if (close == t + 1)
		return ierr(p, l->no, "empty section name");
	at = p->pend != NULL ? p->pend->src_start : l->ls;
	end_sops(p, at);
	if (close - t - 1 == 4 && memcmp(p->s + t + 1, "sops", 4) == 0 &&
	    p->sops_start == SOTTO_SPAN_NONE) {
		if ((rc = pend_flush(p)) != SOTTO_OK)
			return rc;
		/* a [sops] section means metadata, even an empty one */
		if (p->meta == NULL && (p->meta = sotto_tree_new_map()) == NULL)
			return nomem(p->e);
		p->in_sops = true;
		p->cur = NULL;
		/*
		 * Take the one newline before the header along: the blank
		 * line sops (and sotto) writes before [sops], or the line
		 * break sotto added to a file that did not end in one.
		 */
		p->sops_start = l->ls > 0 && p->s[l->ls - 1] == '\n' ?
		    l->ls - 1 : l->ls;
		return SOTTO_OK;
	}
	if (count_node(p, l->no) != SOTTO_OK)
		return p->e->code;
	if ((m = sotto_tree_new_map()) == NULL)
		return nomem(p->e);
	m->src_start = l->ls;
	m->line = l->no;
	if (sotto_tree_map_add(p->branch, (const char *)p->s + t + 1,
	    close - t - 1, m) != SOTTO_OK) {
		sotto_tree_node_free(m, false);
		return nomem(p->e);
	}
	p->cur = m;
	/*
	 * go-ini ignores what follows the ']'.  A comment there joins the
	 * section's comment (the block above the header, or a new one): it
	 * is encrypted with it, and the splice writes it above the header,
	 * since an encrypted one on the header line would end the name at
	 * its ']'.  Other text there is refused rather than left in clear.
	 */
	i = ltrim(p->s, close + 1, l->le);
	if (i < rtrim(p->s, i, l->le)) {
		if (p->s[i] != '#' && p->s[i] != ';')
			return ierr(p, l->no, "text after a section header");
		if (p->pend != NULL)
			rc = join_header_comment(p, i, l->le);
		else if ((rc = pend_add(p, i, l->le, l->no)) == SOTTO_OK)
			p->pend->inline_comment = true;
		if (rc != SOTTO_OK)
			return rc;
		p->pend->flags |= IF_HEADER | SOTTO_NODE_RESPELL;
	}
	return pend_flush(p);
}

/* ---- keys and values ---- */

/* go-ini readKeyName: key span [*ka, *kz), value offset *off. */
static sotto_err
read_key(struct ip *p, const struct iline *l, size_t t, size_t *ka,
    size_t *kz, size_t *off)
{
	const char *q = NULL;
	size_t ql, pos, i;

	if (p->s[t] == '"')
		q = l->le - t > 6 && find_str(p->s, t, t + 3, "\"\"\"",
		    false) == t ? "\"\"\"" : "\"";
	else if (p->s[t] == '`')
		q = "`";
	if (q != NULL) {
		ql = strlen(q);
		pos = find_str(p->s, t + ql, l->le, q, false);
		if (pos == SOTTO_SPAN_NONE)
			return ierr(p, l->no, "missing closing key quote");
		i = find_any(p->s, pos + ql, l->le, "=:");
		if (i == SOTTO_SPAN_NONE)
			return ierr(p, l->no, "key-value delimiter not found");
		/* go-ini skips it; its reading of the key could change */
		if (ltrim(p->s, pos + ql, i) != i)
			return ierr(p, l->no, "text after the closing quote of "
			    "a key");
		*ka = ltrim(p->s, t + ql, pos);
		*kz = rtrim(p->s, *ka, pos);
		*off = i + 1;
		return SOTTO_OK;
	}
	i = find_any(p->s, t, l->le, "=:");
	if (i == SOTTO_SPAN_NONE)
		return ierr(p, l->no, "key-value delimiter not found");
	if (i == t)
		return ierr(p, l->no, "empty key name");
	*ka = t;
	*kz = rtrim(p->s, t, i);
	*off = i + 1;
	return SOTTO_OK;
}

struct ival {
	struct sotto_buf text;	/* decoded value */
	size_t a, z;		/* span of the value as written */
	int style;		/* IQ_* */
	size_t ca, cz;		/* inline comment span or NONE */
};

static bool
surrounded(const uint8_t *s, size_t a, size_t z, uint8_t q)
{
	size_t i;

	if (z - a < 2 || s[a] != q || s[z - 1] != q)
		return false;
	for (i = a + 1; i < z - 1; i++)
		if (s[i] == q)
			return false;
	return true;
}

/*
 * After the closing quote (at z) of a `...` or """...""" value, on the
 * line ending at le: a ';' or '#' comment becomes the value's inline
 * comment; other text is refused.  go-ini drops either silently, and
 * encrypt would have left it in clear.
 */
static sotto_err
after_quote(struct ip *p, size_t z, size_t le, size_t line, struct ival *v)
{
	size_t a = ltrim(p->s, z, le), e = rtrim(p->s, a, le);

	if (a == e)
		return SOTTO_OK;
	if (p->s[a] != '#' && p->s[a] != ';')
		return ierr(p, line, "text after the closing quote of a value");
	v->ca = a;
	v->cz = e;
	return SOTTO_OK;
}

/* Multi-line `...` / """...""" value continuing after line l. */
static sotto_err
read_multiline(struct ip *p, const struct iline *l, size_t vs, const char *q,
    struct ival *v)
{
	size_t ql = strlen(q), pos;
	struct iline n;

	if (sotto_buf_add(&v->text, p->s + vs + ql, l->next - vs - ql) !=
	    SOTTO_OK)
		return nomem(p->e);
	for (;;) {
		if (!next_line(p, &n))
			return ierr(p, l->no, "missing closing key quote");
		pos = find_str(p->s, n.ls, n.next, q, true);
		if (pos != SOTTO_SPAN_NONE) {
			if (sotto_buf_add(&v->text, p->s + n.ls, pos - n.ls) !=
			    SOTTO_OK)
				return nomem(p->e);
			v->z = pos + ql;
			return after_quote(p, v->z, n.le, n.no, v);
		}
		if (sotto_buf_add(&v->text, p->s + n.ls, n.next - n.ls) !=
		    SOTTO_OK)
			return nomem(p->e);
		if (n.next >= p->len)
			return ierr(p, l->no, "missing closing key quote");
	}
}

/* Continuation lines after a value ending in a backslash. */
static sotto_err
read_cont(struct ip *p, struct ival *v)
{
	struct iline n;
	size_t a, z;

	for (;;) {
		if (!next_line(p, &n))
			return SOTTO_OK;
		a = ltrim(p->s, n.ls, n.le);
		z = rtrim(p->s, a, n.le);
		if (a == z)
			return SOTTO_OK;
		v->z = z;
		if (sotto_buf_add(&v->text, p->s + a, z - a) != SOTTO_OK)
			return nomem(p->e);
		if (p->s[z - 1] != '\\')
			return SOTTO_OK;
		sotto_buf_truncate(&v->text, v->text.len - 1);
	}
}

/* go-ini readValue for s[off, l->le) (the line's '\n' follows). */
static sotto_err
read_value(struct ip *p, const struct iline *l, size_t off, struct ival *v)
{
	size_t vs = ltrim(p->s, off, l->le), ve, i, avail;
	const char *q = NULL;

	v->ca = v->cz = SOTTO_SPAN_NONE;
	v->a = v->z = vs;
	v->style = IQ_PLAIN;
	if (vs == l->le)
		return SOTTO_OK;
	avail = l->next - vs;
	if (avail > 3 && memcmp(p->s + vs, "\"\"\"", 3) == 0)
		q = "\"\"\"";
	else if (p->s[vs] == '`')
		q = "`";
	if (q != NULL) {
		size_t ql = strlen(q), pos;

		v->style = ql == 3 ? IQ_TRIPLE : IQ_BACK;
		pos = find_str(p->s, vs + ql, l->next, q, true);
		if (pos == SOTTO_SPAN_NONE)
			return read_multiline(p, l, vs, q, v);
		v->z = pos + ql;
		if (sotto_buf_add(&v->text, p->s + vs + ql, pos - vs - ql) !=
		    SOTTO_OK)
			return nomem(p->e);
		return after_quote(p, v->z, l->le, l->no, v);
	}
	ve = rtrim(p->s, vs, l->le);
	if (p->s[ve - 1] == '\\') {
		v->style = IQ_CONT;
		v->z = ve;
		if (sotto_buf_add(&v->text, p->s + vs, ve - 1 - vs) != SOTTO_OK)
			return nomem(p->e);
		return read_cont(p, v);
	}
	i = find_any(p->s, vs, ve, "#;");
	if (i != SOTTO_SPAN_NONE) {
		v->ca = i;
		v->cz = ve;
		ve = rtrim(p->s, vs, i);
	}
	v->z = ve;
	if (surrounded(p->s, vs, ve, '\'') || surrounded(p->s, vs, ve, '"')) {
		v->style = p->s[vs] == '"' ? IQ_DQ : IQ_SQ;
		vs++;
		ve--;
	}
	return sotto_buf_add(&v->text, p->s + vs, ve - vs) == SOTTO_OK ?
	    SOTTO_OK : nomem(p->e);
}

/* Metadata value: "\n" escapes back to newlines. */
static sotto_err
sops_key(struct ip *p, size_t ka, size_t kz, const struct ival *v,
    size_t line)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	size_t i;
	sotto_err rc;

	for (i = 0; i < v->text.len; i++) {
		if (v->text.data[i] == '\\' && i + 1 < v->text.len &&
		    v->text.data[i + 1] == 'n') {
			rc = sotto_buf_addch(&b, '\n');
			i++;
		} else
			rc = sotto_buf_addch(&b, v->text.data[i]);
		if (rc != SOTTO_OK) {
			sotto_buf_release(&b);
			return nomem(p->e);
		}
	}
	rc = sotto_storeutil_unflatten_add(&p->meta, (const char *)p->s + ka,
	    kz - ka, b.len ? (const char *)b.data : "", b.len, true, p->name,
	    line, p->e);
	sotto_buf_release(&b);
	return rc;
}

static sotto_err render_value(struct sotto_buf *, const char *, size_t,
    int, const uint8_t *, size_t);

static bool
value_faithful(const struct ip *p, const struct ival *v)
{
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	const uint8_t *nl = memchr(p->s + v->z, '\n', p->len - v->z);
	size_t le = nl != NULL ? (size_t)(nl - p->s) : p->len;
	bool same;

	same = v->style != IQ_CONT && render_value(&b, (const char *)
	    v->text.data, v->text.len, v->style, p->s + v->z, le - v->z) ==
	    SOTTO_OK && b.len == v->z - v->a &&
	    memcmp(b.data, p->s + v->a, b.len) == 0;
	sotto_buf_release(&b);
	return same;
}

static sotto_err
parse_key(struct ip *p, const struct iline *l, size_t t)
{
	struct ival v;
	struct sotto_node *n = NULL;
	size_t ka = 0, kz = 0, off = 0;
	sotto_err rc;

	memset(&v, 0, sizeof(v));
	v.text.secret = true;
	if ((rc = read_key(p, l, t, &ka, &kz, &off)) != SOTTO_OK)
		return rc;
	if ((rc = read_value(p, l, off, &v)) != SOTTO_OK)
		goto out;
	if (p->in_sops) {
		rc = sops_key(p, ka, kz, &v, l->no);
		goto out;
	}
	if (p->cur == NULL) {
		/* keys before any section: DEFAULT (branch item 0) */
		p->cur = p->branch->items[0].val;
	}
	if ((rc = pend_flush(p)) != SOTTO_OK ||
	    (rc = count_node(p, l->no)) != SOTTO_OK)
		goto out;
	n = sotto_tree_new_scalar(SOTTO_T_STR, v.text.len ?
	    (const char *)v.text.data : "", v.text.len);
	if (n == NULL) {
		rc = nomem(p->e);
		goto out;
	}
	n->src_start = v.a;
	n->src_end = v.z;
	n->style = v.style;
	n->line = l->no;
	/*
	 * Written back as it is?  Not when go-ini joined continuation lines
	 * (or any other spelling the splice writer would not give back):
	 * decrypt writes it another way, and encrypt warns.
	 */
	if (v.style == IQ_CONT || (v.text.len > 0 && !value_faithful(p, &v)))
		n->flags |= SOTTO_NODE_RESPELL;
	if (sotto_tree_map_add(p->cur, (const char *)p->s + ka, kz - ka, n) !=
	    SOTTO_OK) {
		sotto_tree_node_free(n, true);
		rc = nomem(p->e);
		goto out;
	}
	if (v.ca != SOTTO_SPAN_NONE) {
		if ((rc = pend_add(p, v.ca, v.cz, l->no)) != SOTTO_OK)
			goto out;
		p->pend->inline_comment = true;
		rc = pend_flush(p);
	}
out:
	sotto_buf_release(&v.text);
	return rc;
}

static sotto_err
parse_lines(struct ip *p)
{
	struct iline l;
	size_t t;
	sotto_err rc = SOTTO_OK;

	while (rc == SOTTO_OK && next_line(p, &l)) {
		t = ltrim(p->s, l.ls, l.le);
		if (t == l.le)
			continue;
		if (p->s[t] == '#' || p->s[t] == ';')
			rc = p->in_sops ? SOTTO_OK : pend_add(p, t, l.le, l.no);
		else if (p->s[t] == '[')
			rc = parse_section(p, &l, t);
		else
			rc = parse_key(p, &l, t);
	}
	return rc;
}

/* Sets the container counts that tell a splice nothing was added. */
static void
mark_counts(struct sotto_node *b)
{
	size_t i;

	b->flags = (unsigned)(b->n + 1);
	for (i = 0; i < b->n; i++)
		if (b->items[i].val->kind == SOTTO_NODE_MAP)
			b->items[i].val->flags =
			    (unsigned)(b->items[i].val->n + 1);
}

/* take: NULL to copy src, else the buffer holding it, moved into the doc */
static sotto_err
ini_parse_src(struct sotto_doc **out, const uint8_t *src, size_t len,
    struct sotto_buf *take, const char *name, const struct sotto_limits *lim,
    struct sotto_error *e)
{
	struct sotto_doc *d;
	struct sotto_node *def;
	struct ip p;
	sotto_err rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.lim = sotto_storeutil_limits(lim);
	p.name = name;
	p.e = e;
	p.sops_start = p.sops_end = SOTTO_SPAN_NONE;
	if (len > p.lim.max_bytes)
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "'%s': input is %zu bytes, over the limit of %zu",
		    sotto_storeutil_name(name), len, p.lim.max_bytes);
	d = sotto_tree_doc_new(name);
	if (d == NULL)
		return nomem(e);
	d->store = &sotto_store_ini;
	p.branch = sotto_tree_new_map();
	def = sotto_tree_new_map();
	if (p.branch == NULL || def == NULL ||
	    sotto_tree_map_add(p.branch, "DEFAULT", 7, def) != SOTTO_OK ||
	    sotto_storeutil_set_src(&d->src, src, len, take) != SOTTO_OK) {
		sotto_tree_node_free(def, false);
		rc = nomem(e);
		goto fail;
	}
	p.s = d->src.data;
	p.len = len;
	if (len >= 3 && memcmp(p.s, "\xEF\xBB\xBF", 3) == 0)
		p.pos = 3;
	if ((rc = parse_lines(&p)) != SOTTO_OK ||
	    (rc = pend_flush(&p)) != SOTTO_OK)
		goto fail;
	end_sops(&p, len);
	if ((rc = sotto_storeutil_unflatten_done(p.meta, name, e)) !=
	    SOTTO_OK)
		goto fail;
	if (def->n == 0) {
		sotto_tree_node_free(def, false);
		free(p.branch->items[0].key);
		memmove(p.branch->items, p.branch->items + 1,
		    (p.branch->n - 1) * sizeof(*p.branch->items));
		p.branch->n--;
	}
	p.branch->src_start = 0;
	p.branch->src_end = len;
	mark_counts(p.branch);
	if (sotto_tree_doc_add(d, p.branch) != SOTTO_OK) {
		rc = nomem(e);
		goto fail;
	}
	p.branch = NULL;
	d->meta[0] = p.meta;
	d->meta_start[0] = p.meta != NULL ? p.sops_start : SOTTO_SPAN_NONE;
	d->meta_end[0] = p.meta != NULL ? p.sops_end : SOTTO_SPAN_NONE;
	sotto_tree_node_free(p.pend, false);
	*out = d;
	return SOTTO_OK;
fail:
	sotto_tree_node_free(p.pend, false);
	sotto_tree_node_free(p.meta, false);
	sotto_tree_node_free(p.branch, true);
	sotto_tree_doc_free(d);
	return rc;
}

static sotto_err
ini_parse(struct sotto_doc **out, const uint8_t *src, size_t len,
    const char *name, const struct sotto_limits *lim, struct sotto_error *e)
{
	return ini_parse_src(out, src, len, NULL, name, lim, e);
}

static sotto_err
ini_parse_buf(struct sotto_doc **out, struct sotto_buf *in, const char *name,
    const struct sotto_limits *lim, struct sotto_error *e)
{
	return ini_parse_src(out, in->data != NULL ? in->data :
	    (const uint8_t *)"", in->len, in, name, lim, e);
}

/* ---- writing ---- */

/* sops ValToString. */
static sotto_err
valstr(struct sotto_buf *o, const struct sotto_node *n)
{
	if (n->type == SOTTO_T_STR)
		return sotto_buf_add(o, n->text, n->len);
	return sotto_store_val_to_string(o, n);
}

static bool
has_any(const char *s, size_t n, const char *set)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr(set, s[i]) != NULL && s[i] != '\0')
			return true;
	return false;
}

/* The quotes go-ini's writer puts around a value (IQ_*). */
static int
writer_style(const char *v, size_t n)
{
	size_t a = ltrim((const uint8_t *)v, 0, n);

	if (has_any(v, n, "\n`"))
		return IQ_TRIPLE;
	if (has_any(v, n, "#;"))
		return IQ_BACK;
	if (a != 0 || rtrim((const uint8_t *)v, a, n) != n)
		return IQ_DQ;
	return IQ_PLAIN;
}

static sotto_err
put_styled(struct sotto_buf *o, const char *v, size_t n, int style)
{
	static const char *const q[] = { "", "\"", "'", "`", "\"\"\"" };
	const char *qs = style >= IQ_DQ && style <= IQ_TRIPLE ? q[style] : "";

	if (sotto_buf_addstr(o, qs) != SOTTO_OK ||
	    sotto_buf_add(o, v, n) != SOTTO_OK ||
	    sotto_buf_addstr(o, qs) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	return SOTTO_OK;
}

/* A value as go-ini writes it (quoted when needed). */
static sotto_err
put_value(struct sotto_buf *o, const char *v, size_t n)
{
	return put_styled(o, v, n, writer_style(v, n));
}

/* Comment lines as go-ini writes them ("; text"), no final newline. */
static sotto_err
put_comment(struct sotto_buf *o, const char *t, size_t n, bool trim)
{
	size_t a = 0, z, la, lz;

	while (a <= n) {
		z = a;
		while (z < n && t[z] != '\n')
			z++;
		la = a;
		lz = z;
		if (a > 0 && sotto_buf_addch(o, '\n') != SOTTO_OK)
			return SOTTO_E_NOMEM;
		if (lz > la && (t[la] == '#' || t[la] == ';')) {
			if (sotto_buf_addch(o, t[la]) != SOTTO_OK)
				return SOTTO_E_NOMEM;
			la = ltrim((const uint8_t *)t, la + 1, lz);
			lz = rtrim((const uint8_t *)t, la, lz);
			if (sotto_buf_addch(o, ' ') != SOTTO_OK)
				return SOTTO_E_NOMEM;
		} else {
			if (trim) {
				la = ltrim((const uint8_t *)t, la, lz);
				lz = rtrim((const uint8_t *)t, la, lz);
			}
			if (sotto_buf_addstr(o, "; ") != SOTTO_OK)
				return SOTTO_E_NOMEM;
		}
		if (sotto_buf_add(o, t + la, lz - la) != SOTTO_OK)
			return SOTTO_E_NOMEM;
		a = z + 1;
	}
	return SOTTO_OK;
}

struct ikey {
	const char *k;			/* key */
	size_t kl;
	const struct sotto_node *v;	/* value */
	const struct sotto_node *c;	/* comment written above, or NULL */
};

/* Key as go-ini writes it, and its width for alignment. */
static size_t
key_width(const char *k, size_t kl, const char **q)
{
	*q = "";
	if (has_any(k, kl, "\"=:")) {
		*q = "`";
		return kl + 2;
	}
	if (has_any(k, kl, "`")) {
		*q = "\"\"\"";
		return kl + 6;
	}
	return kl;
}

static sotto_err
put_section(struct sotto_buf *o, const char *name, size_t nl,
    const struct sotto_node *scom, const struct ikey *keys, size_t nk,
    bool first, bool last)
{
	size_t i, w, width = 0;
	const char *q;

	if (scom != NULL && (put_comment(o, scom->text, scom->len, false) !=
	    SOTTO_OK || sotto_buf_addch(o, '\n') != SOTTO_OK))
		return SOTTO_E_NOMEM;
	if (!first || nl != 7 || strncasecmp(name, "DEFAULT", 7) != 0) {
		if (sotto_buf_addch(o, '[') != SOTTO_OK ||
		    sotto_buf_add(o, name, nl) != SOTTO_OK ||
		    sotto_buf_addstr(o, "]\n") != SOTTO_OK)
			return SOTTO_E_NOMEM;
	} else if (nk == 0)
		return SOTTO_OK;
	for (i = 0; i < nk; i++)
		if ((w = key_width(keys[i].k, keys[i].kl, &q)) > width)
			width = w;
	for (i = 0; i < nk; i++) {
		if (keys[i].c != NULL && (put_comment(o, keys[i].c->text,
		    keys[i].c->len, true) != SOTTO_OK ||
		    sotto_buf_addch(o, '\n') != SOTTO_OK))
			return SOTTO_E_NOMEM;
		w = key_width(keys[i].k, keys[i].kl, &q);
		if (sotto_buf_addstr(o, q) != SOTTO_OK ||
		    sotto_buf_add(o, keys[i].k, keys[i].kl) != SOTTO_OK ||
		    sotto_buf_addstr(o, q) != SOTTO_OK)
			return SOTTO_E_NOMEM;
		for (; w < width; w++)
			if (sotto_buf_addch(o, ' ') != SOTTO_OK)
				return SOTTO_E_NOMEM;
		if (sotto_buf_addstr(o, " = ") != SOTTO_OK ||
		    put_value(o, keys[i].v->text, keys[i].v->len) != SOTTO_OK ||
		    sotto_buf_addch(o, '\n') != SOTTO_OK)
			return SOTTO_E_NOMEM;
	}
	if (!last && sotto_buf_addch(o, '\n') != SOTTO_OK)
		return SOTTO_E_NOMEM;
	return SOTTO_OK;
}

/* Scalar nodes holding ValToString of the values (for put_section). */
struct strpool {
	struct sotto_node **v;
	size_t n, cap;
};

static const struct sotto_node *
pool_str(struct strpool *sp, const struct sotto_node *v)
{
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	struct sotto_node *n, **nv;

	if (v->type == SOTTO_T_STR)
		return v;
	if (sp->n == sp->cap) {
		nv = realloc(sp->v, (sp->cap ? sp->cap * 2 : 16) * sizeof(*nv));
		if (nv == NULL)
			return NULL;
		sp->v = nv;
		sp->cap = sp->cap ? sp->cap * 2 : 16;
	}
	if (valstr(&b, v) != SOTTO_OK) {
		sotto_buf_release(&b);
		return NULL;
	}
	n = sotto_tree_new_scalar(SOTTO_T_STR, b.len ? (char *)b.data : "",
	    b.len);
	sotto_buf_release(&b);
	if (n != NULL)
		sp->v[sp->n++] = n;
	return n;
}

static void
pool_free(struct strpool *sp)
{
	size_t i;

	for (i = 0; i < sp->n; i++)
		sotto_tree_node_free(sp->v[i], true);
	free(sp->v);
}

/* One section in sops' encodeTree way (comments attach to prior key). */
static sotto_err
emit_section(struct sotto_buf *o, const struct sotto_entry *sec,
    struct strpool *sp, bool first, bool last, struct sotto_error *e)
{
	const struct sotto_node *m = sec->val, *scom = NULL;
	struct ikey *keys;
	size_t i = 0, nk = 0;
	sotto_err rc;

	if (m->kind != SOTTO_NODE_MAP)
		return sotto_error_set(e, SOTTO_E_EMIT,
		    "ini: value of section '%.*s' is not a mapping",
		    (int)(sec->keylen > 200 ? 200 : sec->keylen), sec->key);
	keys = calloc(m->n + 1, sizeof(*keys));
	if (keys == NULL)
		return nomem(e);
	if (m->n > 0 && m->items[0].val->kind == SOTTO_NODE_COMMENT)
		scom = m->items[i++].val;
	for (; i < m->n; i++) {
		const struct sotto_entry *it = &m->items[i];

		if (it->val->kind == SOTTO_NODE_COMMENT || it->key == NULL) {
			if (it->val->kind == SOTTO_NODE_COMMENT && nk > 0)
				keys[nk - 1].c = it->val;
			continue;
		}
		if (it->val->kind != SOTTO_NODE_SCALAR) {
			free(keys);
			return sotto_error_set(e, SOTTO_E_EMIT,
			    "ini: cannot write complex value '%.*s:%.*s'",
			    (int)(sec->keylen > 100 ? 100 : sec->keylen),
			    sec->key, (int)(it->keylen > 100 ? 100 :
			    it->keylen), it->key);
		}
		keys[nk].k = it->key;
		keys[nk].kl = it->keylen;
		keys[nk].v = pool_str(sp, it->val);
		if (keys[nk].v == NULL) {
			free(keys);
			return nomem(e);
		}
		nk++;
	}
	rc = put_section(o, sec->key, sec->keylen, scom, keys, nk, first, last);
	free(keys);
	return rc == SOTTO_OK ? SOTTO_OK : nomem(e);
}

static sotto_err
emit_meta(struct sotto_buf *o, const struct sotto_node *meta, bool first,
    struct sotto_error *e)
{
	struct sotto_flat *f = NULL;
	struct ikey *keys = NULL;
	struct sotto_node **vals = NULL;
	size_t n = 0, i, j, k;
	sotto_err rc;

	if ((rc = sotto_storeutil_flatten(&f, &n, meta, true, e)) != SOTTO_OK)
		return rc;
	keys = calloc(n + 1, sizeof(*keys));
	vals = calloc(n + 1, sizeof(*vals));
	if (keys == NULL || vals == NULL)
		rc = nomem(e);
	for (i = 0; rc == SOTTO_OK && i < n; i++) {
		struct sotto_buf b = SOTTO_BUF_INIT;

		for (j = 0; j < f[i].vlen; j++) {
			k = f[i].val[j] == '\n' ? sotto_buf_addstr(&b, "\\n") :
			    sotto_buf_addch(&b, f[i].val[j]);
			if (k != SOTTO_OK)
				rc = nomem(e);
		}
		vals[i] = sotto_tree_new_scalar(SOTTO_T_STR, b.len ?
		    (char *)b.data : "", b.len);
		sotto_buf_release(&b);
		if (vals[i] == NULL)
			rc = nomem(e);
		keys[i].k = f[i].key;
		keys[i].kl = strlen(f[i].key);
		keys[i].v = vals[i];
	}
	if (rc == SOTTO_OK && put_section(o, "sops", 4, NULL, keys, n, first,
	    true) != SOTTO_OK)
		rc = nomem(e);
	for (i = 0; vals != NULL && i < n; i++)
		sotto_tree_node_free(vals[i], false);
	free(vals);
	free(keys);
	sotto_storeutil_flat_free(f, n);
	return rc;
}

/* Sections of every branch in order (sops' encodeTree), then meta. */
static sotto_err
emit_branches(struct sotto_buf *o, struct sotto_node *const *bv, size_t nb,
    const struct sotto_node *meta, struct sotto_error *e)
{
	struct strpool sp = { NULL, 0, 0 };
	size_t i, j, nsec = 0, k = 0;
	sotto_err rc = SOTTO_OK;

	for (j = 0; j < nb; j++) {
		if (bv[j]->kind != SOTTO_NODE_MAP)
			return sotto_error_set(e, SOTTO_E_EMIT,
			    "ini: the top level must be a mapping");
		for (i = 0; i < bv[j]->n; i++)
			nsec += bv[j]->items[i].key != NULL;
	}
	for (j = 0; j < nb && rc == SOTTO_OK; j++) {
		const struct sotto_node *b = bv[j];

		for (i = 0; i < b->n && rc == SOTTO_OK; i++) {
			if (b->items[i].key == NULL)
				continue;
			rc = emit_section(o, &b->items[i], &sp, k == 0,
			    k + 1 == nsec && meta == NULL, e);
			k++;
		}
	}
	pool_free(&sp);
	if (rc == SOTTO_OK && meta != NULL)
		rc = emit_meta(o, meta, k == 0, e);
	return rc;
}

static sotto_err
emit_branch(struct sotto_buf *o, const struct sotto_node *b,
    const struct sotto_node *meta, struct sotto_error *e)
{
	struct sotto_node *one = (struct sotto_node *)(uintptr_t)b;

	return emit_branches(o, &one, b != NULL, meta, e);
}

static sotto_err
ini_emit(struct sotto_buf *out, const struct sotto_doc *doc,
    const struct sotto_node *meta, const struct sotto_emit_opts *o,
    struct sotto_error *e)
{
	(void)o;
	if (doc == NULL)
		return emit_branches(out, NULL, 0, meta, e);
	return emit_branches(out, doc->branches, doc->n, meta, e);
}

/* ---- splice ---- */

static bool
intact(const struct sotto_node *b)
{
	size_t i, j;

	if (b->kind != SOTTO_NODE_MAP || b->flags != b->n + 1)
		return false;
	for (i = 0; i < b->n; i++) {
		const struct sotto_node *m = b->items[i].val;

		if (m->kind != SOTTO_NODE_MAP || m->flags != m->n + 1 ||
		    b->items[i].key == NULL)
			return false;
		for (j = 0; j < m->n; j++)
			if (m->items[j].val->src_start == SOTTO_SPAN_NONE ||
			    (m->items[j].val->kind != SOTTO_NODE_SCALAR &&
			    m->items[j].val->kind != SOTTO_NODE_COMMENT))
				return false;
	}
	return true;
}

/* Decodes what the source says at n's span (value or comment block). */
static sotto_err
source_text(const struct sotto_doc *d, const struct sotto_node *n,
    struct sotto_buf *o)
{
	const uint8_t *s = d->src.data;
	size_t a = n->src_start, z = n->src_end, le, ta, tz;
	bool first = true;

	if (n->kind == SOTTO_NODE_COMMENT) {
		while (a < z) {
			const uint8_t *nl = memchr(s + a, '\n', z - a);

			le = nl != NULL ? (size_t)(nl - s) : z;
			a = ltrim(s, a, le);
			comment_text(s, a, le, &ta, &tz);
			if ((!first && sotto_buf_addch(o, '\n') != SOTTO_OK) ||
			    sotto_buf_add(o, s + ta, tz - ta) != SOTTO_OK)
				return SOTTO_E_NOMEM;
			first = false;
			a = le + 1;
		}
		return SOTTO_OK;
	}
	switch (n->style) {
	case IQ_DQ:
	case IQ_SQ:
		return sotto_buf_add(o, s + a + 1, z - a - 2);
	case IQ_BACK:
		return sotto_buf_add(o, s + a + 1, z - a - 2);
	case IQ_TRIPLE:
		return sotto_buf_add(o, s + a + 3, z - a - 6);
	case IQ_CONT:
		return SOTTO_E_UNSUPPORTED;
	default:
		return sotto_buf_add(o, s + a, z - a);
	}
}

static bool
same_as_source(const struct sotto_doc *d, const struct sotto_node *n)
{
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	bool r;

	if (n->type != SOTTO_T_STR)
		return false;
	r = source_text(d, n, &b) == SOTTO_OK && b.len == n->len &&
	    (n->len == 0 || memcmp(b.data, n->text, n->len) == 0);
	sotto_buf_release(&b);
	return r;
}

/* True when value v[0, n) reads back as it is inside quotes of style. */
static bool
quote_ok(int style, const char *v, size_t n)
{
	switch (style) {
	case IQ_DQ:
	case IQ_SQ:
		return !has_any(v, n, style == IQ_DQ ? "\"#;\n" : "'#;\n");
	default:
		return false;
	}
}

/*
 * A comment in the layout of the one at its span in src: that line's
 * marker and spacing ("# ", ";", "; ") before each line, so that what was
 * written with '#' stays '#' through encrypt and decrypt.
 */
static sotto_err
render_comment(struct sotto_buf *t, const uint8_t *s, size_t slen,
    const struct sotto_node *n)
{
	size_t a = n->src_start, le, ta, i = 0, j;
	bool crlf;

	if (a == SOTTO_SPAN_NONE || a >= slen || (s[a] != '#' && s[a] != ';'))
		return put_comment(t, n->text, n->len, true);
	for (le = a; le < slen && s[le] != '\n'; le++)
		;
	ta = ltrim(s, a + 1, le);
	/* lines end as the block's last line does (an encrypted block is
	 * one line, ending as the plaintext's last line did) */
	for (le = n->src_end; le < slen && s[le] != '\n'; le++)
		;
	crlf = le > 0 && s[le - 1] == '\r';	/* '\r' at the end too */
	for (;;) {
		for (j = i; j < n->len && n->text[j] != '\n'; j++)
			;
		if (sotto_buf_add(t, s + a, ta - a) != SOTTO_OK ||
		    sotto_buf_add(t, n->text + i, j - i) != SOTTO_OK)
			return SOTTO_E_NOMEM;
		if (j >= n->len)
			return SOTTO_OK;
		if (sotto_buf_addstr(t, crlf ? "\r\n" : "\n") != SOTTO_OK)
			return SOTTO_E_NOMEM;
		i = j + 1;
	}
}

/*
 * True when value v[0, n) reads back as it is, written unquoted; last: it
 * ends the line (a final '\\' would continue it).
 */
static bool
plain_ok(const char *v, size_t n, bool last)
{
	const uint8_t *u = (const uint8_t *)v;

	if (n == 0 || ltrim(u, 0, n) != 0 || rtrim(u, 0, n) != n ||
	    has_any(v, n, "#;\n") || v[0] == '`' ||
	    (last && v[n - 1] == '\\') ||
	    (n >= 3 && memcmp(v, "\"\"\"", 3) == 0))
		return false;
	return !surrounded(u, 0, n, '"') && !surrounded(u, 0, n, '\'');
}

/*
 * True when v[0, n) reads back as it is between quotes q (` or """) with
 * rest after the closing one.  The reader ends the value at the last q of
 * the line where it first finds one: so no line of v but its last may hold
 * q, and no q may start after the closing one's first byte.
 */
static bool
lastq_ok(const char *v, size_t n, const char *q, const uint8_t *rest,
    size_t rn)
{
	size_t ql = strlen(q), i, k, at;
	const char *nl = n > 0 ? memrchr(v, '\n', n) : NULL;

	if (nl != NULL && memmem(v, (size_t)(nl - v), q, ql) != NULL)
		return false;
	/* the line after the closing q[0] is q[1..] then rest */
	for (i = 1; i + ql <= ql + rn; i++) {
		for (k = 0; k < ql; k++) {
			at = i + k;
			if ((at < ql ? (uint8_t)q[at] : rest[at - ql]) !=
			    (uint8_t)q[k])
				break;
		}
		if (k == ql)
			return false;
	}
	return true;
}

/*
 * True when v[0, n) reads back as it is in style, with rest (what follows
 * on the line) after it.
 */
static bool
style_ok(int style, const char *v, size_t n, const uint8_t *rest,
    size_t rn)
{
	size_t z = rn > 0 ? rtrim(rest, 0, rn) : 0;

	switch (style) {
	case IQ_BACK:
		return lastq_ok(v, n, "`", rest, rn);
	case IQ_TRIPLE:
		return lastq_ok(v, n, "\"\"\"", rest, rn);
	default:
		/* a line ending in '\' continues an unquoted or '"' value */
		if (z > 0 && rest[z - 1] == '\\')
			return false;
		return style == IQ_PLAIN ? plain_ok(v, n, z == 0) :
		    quote_ok(style, v, n);
	}
}

/*
 * A value as the splice writes it: as the source had it (unquoted, or in
 * the same quotes) when that reads back as the value, else as go-ini's
 * writer quotes it when that does, else in the first quotes that do.
 */
static sotto_err
render_value(struct sotto_buf *t, const char *v, size_t n, int style,
    const uint8_t *rest, size_t rn)
{
	static const int order[] = { IQ_SQ, IQ_DQ, IQ_BACK, IQ_TRIPLE };
	int w = writer_style(v, n);
	size_t i;

	if (style != IQ_CONT && style_ok(style, v, n, rest, rn))
		return put_styled(t, v, n, style);
	if (style_ok(w, v, n, rest, rn))
		return put_styled(t, v, n, w);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (style_ok(order[i], v, n, rest, rn))
			return put_styled(t, v, n, order[i]);
	return put_styled(t, v, n, w);	/* nothing reads back as v */
}

/* A changed value or comment; rest: what the output has after it. */
static sotto_err
render_dirty(struct sotto_buf *t, const struct sotto_doc *d,
    const struct sotto_node *n, const uint8_t *rest, size_t rn)
{
	struct sotto_buf v = SOTTO_BUF_SECRET_INIT;
	sotto_err rc;

	if (n->kind == SOTTO_NODE_COMMENT)
		return render_comment(t, d->src.data, d->src.len, n);
	rc = valstr(&v, n);
	if (rc == SOTTO_OK)
		rc = render_value(t, v.len ? (char *)v.data : "", v.len,
		    n->src_start != SOTTO_SPAN_NONE ? n->style : IQ_PLAIN,
		    rest, rn);
	sotto_buf_release(&v);
	return rc;
}

/*
 * What the output holds after value item j of section m, up to the end of
 * its line: its inline comment as it will be written, and source bytes.
 */
static sotto_err
line_rest(struct sotto_buf *r, const struct sotto_doc *d,
    const struct sotto_node *m, size_t j)
{
	const uint8_t *s = d->src.data;
	const struct sotto_node *v = m->items[j].val, *c;
	size_t a = v->src_end, le = a;

	while (le < d->src.len && s[le] != '\n')
		le++;
	c = j + 1 < m->n ? m->items[j + 1].val : NULL;
	if (c != NULL && c->kind == SOTTO_NODE_COMMENT && c->dirty &&
	    c->src_start >= a && c->src_start < le && c->src_end <= le) {
		if (sotto_buf_add(r, s + a, c->src_start - a) != SOTTO_OK ||
		    render_comment(r, s, d->src.len, c) != SOTTO_OK)
			return SOTTO_E_NOMEM;
		a = c->src_end;
	}
	return sotto_buf_add(r, s + a, le - a);
}

/*
 * A changed section comment that took in the comment after its header
 * ("[s] ; x"): written above the header, where go-ini writes a section
 * comment, and taken off the header line.  With no block above, it is a
 * new line before the header.
 */
static sotto_err
move_header_comment(struct sotto_edits *ed, const struct sotto_doc *d,
    const struct sotto_node *v, struct sotto_buf *t)
{
	const uint8_t *s = d->src.data;
	size_t len = d->src.len, hl = v->src_start, i, close, ws, we;
	bool own;

	while (hl > 0 && s[hl - 1] != '\n')
		hl--;
	if (hl == 0 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		hl = 3;			/* the BOM stays first */
	own = s[ltrim(s, hl, len)] == '[';	/* the span is on the header */
	if (!own) {	/* the header: the next line that is not blank */
		hl = ltrim(s, v->src_end, len);
		if (hl >= len || s[hl] != '[')
			return SOTTO_E_INTERNAL;
		while (hl > 0 && s[hl - 1] != '\n')
			hl--;
	}
	for (we = hl; we < len && s[we] != '\n'; we++)
		;
	for (i = close = hl; i < we; i++)
		if (s[i] == ']')
			close = i;
	ws = close + 1;
	if (we > ws && s[we - 1] == '\r')
		we--;
	if (render_dirty(t, d, v, NULL, 0) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	if (own) {
		if (sotto_buf_addstr(t, we < len && s[we] == '\r' ?
		    "\r\n" : "\n") != SOTTO_OK ||
		    sotto_storeutil_edit(ed, hl, hl, t->data, t->len) !=
		    SOTTO_OK)
			return SOTTO_E_NOMEM;
	} else if (sotto_storeutil_edit(ed, v->src_start, v->src_end, t->data,
	    t->len) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	return sotto_storeutil_edit(ed, ws, we, "", 0);
}

static sotto_err
splice_values(struct sotto_edits *ed, const struct sotto_doc *d,
    struct sotto_error *e)
{
	const struct sotto_node *b = d->branches[0];
	struct sotto_buf t = SOTTO_BUF_SECRET_INIT, r = SOTTO_BUF_SECRET_INIT;
	size_t i, j;
	sotto_err rc = SOTTO_OK;

	for (i = 0; i < b->n && rc == SOTTO_OK; i++) {
		const struct sotto_node *m = b->items[i].val;

		for (j = 0; j < m->n && rc == SOTTO_OK; j++) {
			const struct sotto_node *v = m->items[j].val;

			if (!v->dirty || same_as_source(d, v))
				continue;
			sotto_buf_truncate(&t, 0);
			sotto_buf_truncate(&r, 0);
			if (v->flags & IF_HEADER)
				rc = move_header_comment(ed, d, v, &t);
			else if ((v->kind == SOTTO_NODE_SCALAR &&
			    line_rest(&r, d, m, j) != SOTTO_OK) ||
			    render_dirty(&t, d, v, r.data, r.len) != SOTTO_OK ||
			    sotto_storeutil_edit(ed, v->src_start, v->src_end,
			    t.data, t.len) != SOTTO_OK)
				rc = SOTTO_E_NOMEM;
			if (rc != SOTTO_OK)
				rc = nomem(e);
		}
	}
	sotto_buf_release(&t);
	sotto_buf_release(&r);
	return rc;
}

/* True when out[mark, ...) ends with a line whose last non-blank is '\\'. */
static bool
ends_in_backslash(const struct sotto_buf *out, size_t mark)
{
	size_t z = out->len;

	if (z > mark && out->data[z - 1] == '\n')
		z--;
	while (z > mark && (out->data[z - 1] == ' ' ||
	    out->data[z - 1] == '\t' || out->data[z - 1] == '\r'))
		z--;
	return z > mark && out->data[z - 1] == '\\';
}

static sotto_err
ini_splice(struct sotto_buf *out, const struct sotto_doc *d,
    const struct sotto_node *meta, struct sotto_error *e)
{
	struct sotto_edits ed = { NULL, 0, 0 };
	size_t mark;
	bool keep;
	sotto_err rc;

	if (d == NULL || d->n != 1)
		return sotto_error_set(e, SOTTO_E_INTERNAL,
		    "ini splice needs a document parsed as INI");
	if (!intact(d->branches[0]))
		return ini_emit(out, d, meta, NULL, e);
	mark = out->len;
	rc = splice_values(&ed, d, e);
	keep = sotto_storeutil_equal(d->meta[0], meta);
	if (rc == SOTTO_OK && !keep && d->meta_start[0] != SOTTO_SPAN_NONE &&
	    sotto_storeutil_edit(&ed, d->meta_start[0], d->meta_end[0], "",
	    0) != SOTTO_OK)
		rc = nomem(e);
	if (rc == SOTTO_OK)
		rc = sotto_storeutil_apply(out, d->src.data, d->src.len, &ed,
		    e);
	if (rc == SOTTO_OK && !keep && meta != NULL) {
		/*
		 * One newline, then [sops]: a blank line after a file that
		 * ends in a newline (sops' layout), the missing line break
		 * after one that does not; decrypt removes just that one.
		 */
		if (out->len > mark && sotto_buf_addch(out, '\n') != SOTTO_OK)
			rc = nomem(e);
		/* a last line ending in '\\' would continue into [sops] */
		if (rc == SOTTO_OK && ends_in_backslash(out, mark) &&
		    sotto_buf_addch(out, '\n') != SOTTO_OK)
			rc = nomem(e);
		if (rc == SOTTO_OK)
			rc = emit_meta(out, meta, true, e);
	}
	sotto_storeutil_edits_free(&ed);
	return rc;
}

static sotto_err
ini_emit_value(struct sotto_buf *out, const struct sotto_node *n,
    const struct sotto_emit_opts *o, struct sotto_error *e)
{
	if (n == NULL)
		return sotto_error_set(e, SOTTO_E_INTERNAL, "no value");
	if (n->kind == SOTTO_NODE_MAP)
		return emit_branch(out, n, NULL, e);
	return sotto_store_json.emit_value(out, n, o, e);
}

const struct sotto_store sotto_store_ini = {
	"ini",
	ini_parse,
	ini_splice,
	ini_emit,
	ini_emit_value,
	NULL,
	ini_parse_buf,
};
