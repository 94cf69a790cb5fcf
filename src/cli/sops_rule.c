/* SPDX-License-Identifier: ISC */
/*
 * The .sops.yaml creation rule of a cluster recipient (issue #19,
 * `sotto cluster recipient --sops-rule / --add-to`).  The edit works on
 * lines, not on a re-emitted tree, so that every byte outside the one age
 * value it changes (or the rule it adds) stays as the user wrote it:
 * comments, quoting, indentation, key order.  It understands block style
 * (what sops documents); a flow-style creation_rules is refused.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sotto/io.h"

#define LINES_MAX 100000

struct line {
	const char *p;	/* start, in the file's text */
	size_t n;	/* bytes, without the newline */
};

struct doc {
	struct line *v;
	size_t n;
};

static size_t
ind(const struct line *l)
{
	size_t i = 0;

	while (i < l->n && l->p[i] == ' ')
		i++;
	return i;
}

/* Blank or a comment: not part of the structure. */
static bool
idle(const struct line *l)
{
	size_t i = ind(l);

	return i == l->n || l->p[i] == '#';
}

static bool
starts(const struct line *l, size_t col, const char *s)
{
	size_t n = strlen(s);

	return col + n <= l->n && memcmp(l->p + col, s, n) == 0;
}

static bool
is_item(const struct line *l, size_t col)
{
	return ind(l) == col && starts(l, col, "-") && (col + 1 == l->n ||
	    l->p[col + 1] == ' ');
}

static sotto_err
split(struct doc *d, const struct sotto_buf *b, const char *path,
    struct sotto_error *e)
{
	const char *p = (const char *)b->data, *end = p + b->len, *nl;

	d->n = 0;
	if ((d->v = calloc(LINES_MAX, sizeof(*d->v))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	while (p != NULL && p < end) {
		if (d->n == LINES_MAX)
			return sotto_error_set(e, SOTTO_E_LIMIT, "'%s': more "
			    "than %d lines", path, LINES_MAX);
		nl = memchr(p, '\n', (size_t)(end - p));
		d->v[d->n].p = p;
		d->v[d->n].n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (d->v[d->n].n > 0 && p[d->v[d->n].n - 1] == '\r')
			return sotto_error_set(e, SOTTO_E_PARSE, "'%s': CRLF "
			    "line ends are not supported here", path);
		d->n++;
		p = nl ? nl + 1 : end;
	}
	return SOTTO_OK;
}

/*
 * A scalar as YAML spells it on one line: 'single' ('' is a quote),
 * "double" (\\ and \" only), or plain up to a " #" comment, trimmed.
 */
static void
unquote(struct sotto_buf *out, const char *p, size_t n)
{
	size_t i = 0;

	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	while (i < n && p[i] == ' ')
		i++;
	if (i < n && (p[i] == '\'' || p[i] == '"')) {
		char q = p[i++];

		for (; i < n; i++) {
			if (p[i] == q && q == '\'' && i + 1 < n && p[i + 1] ==
			    '\'')
				i++;
			else if (p[i] == '\\' && q == '"' && i + 1 < n)
				i++;
			else if (p[i] == q)
				break;
			(void)sotto_buf_addch(out, p[i]);
		}
		return;
	}
	for (; i < n; i++) {
		if (p[i] == '#' && i > 0 && (p[i - 1] == ' ' || p[i - 1] ==
		    '\t'))
			break;
		(void)sotto_buf_addch(out, p[i]);
	}
	while (out->len > 0 && (out->data[out->len - 1] == ' ' ||
	    out->data[out->len - 1] == '\t'))
		sotto_buf_truncate(out, out->len - 1);
}

/* Adds the comma-separated recipients of s to list (a \n-joined set). */
static void
add_list(struct sotto_buf *list, const char *s)
{
	const char *p = s, *c;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == ',' || *p == '\n')
			p++;
		c = p + strcspn(p, ",\n");
		n = (size_t)(c - p);
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n > 0) {
			(void)sotto_buf_add(list, p, n);
			(void)sotto_buf_addch(list, '\n');
		}
		p = c;
	}
}

static bool
in_set(const char *set, const char *s, size_t n)
{
	const char *p = set;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t m = nl ? (size_t)(nl - p) : strlen(p);

		if (m == n && memcmp(p, s, n) == 0)
			return true;
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

/*
 * The new list: recipient first, then the old entries that are none of
 * the Secret's recipients (all), as a \n-joined list.
 */
static void
new_list(struct sotto_buf *out, const struct sotto_buf *old,
    const char *recipient, const char *all)
{
	const char *p = old->data ? (const char *)old->data : "";

	(void)sotto_buf_addf(out, "%s\n", recipient);
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n > 0 && !in_set(all, p, n) && !(n == strlen(recipient) &&
		    memcmp(p, recipient, n) == 0)) {
			(void)sotto_buf_add(out, p, n);
			(void)sotto_buf_addch(out, '\n');
		}
		p = nl ? nl + 1 : p + n;
	}
}

static void
put_line(struct sotto_buf *b, const struct line *l)
{
	(void)sotto_buf_add(b, l->p, l->n);
	(void)sotto_buf_addch(b, '\n');
}

static void
spaces(struct sotto_buf *b, size_t n)
{
	while (n-- > 0)
		(void)sotto_buf_addch(b, ' ');
}

static void
quote_re(struct sotto_buf *b, const char *re)
{
	(void)sotto_buf_addch(b, '\'');
	for (; *re != '\0'; re++) {
		if (*re == '\'')
			(void)sotto_buf_addch(b, '\'');
		(void)sotto_buf_addch(b, *re);
	}
	(void)sotto_buf_addch(b, '\'');
}

static void
new_rule(struct sotto_buf *b, size_t col, const char *re, const char *r)
{
	spaces(b, col);
	(void)sotto_buf_addstr(b, "- path_regex: ");
	quote_re(b, re);
	(void)sotto_buf_addch(b, '\n');
	spaces(b, col + 2);
	(void)sotto_buf_addf(b, "age: %s\n", r);
}

void
cli_sops_rule_print(struct sotto_buf *out, const char *re,
    const char *recipient)
{
	(void)sotto_buf_addstr(out, "creation_rules:\n");
	new_rule(out, 2, re, recipient);
}

/* Where one rule's keys are: the column after "- ". */
static size_t
key_col(const struct line *l, size_t dash)
{
	size_t c = dash + 1;

	while (c < l->n && l->p[c] == ' ')
		c++;
	return c;
}

/* The line of key in the item [s, e) at column col, or e. */
static size_t
find_key(const struct doc *d, size_t s, size_t e, size_t col,
    const char *key)
{
	size_t j;

	for (j = s; j < e; j++)
		if ((j == s || (ind(&d->v[j]) == col && !idle(&d->v[j]))) &&
		    starts(&d->v[j], col, key))
			return j;
	return e;
}

/* The age value at line a of an item ending at e: lines it spans, list. */
static size_t
read_age(const struct doc *d, size_t a, size_t e, size_t col,
    struct sotto_buf *list, int *form, size_t *vcol)
{
	const struct line *l = &d->v[a];
	size_t rest = col + 4, j = a + 1;
	struct sotto_buf v = SOTTO_BUF_INIT;

	while (rest < l->n && l->p[rest] == ' ')
		rest++;
	*vcol = col + 2;
	if (rest < l->n && l->p[rest] != '#' && l->p[rest] != '>' &&
	    l->p[rest] != '|') {
		*form = 0;	/* age: a,b */
		unquote(&v, l->p + rest, l->n - rest);
		add_list(list, v.data ? (char *)v.data : "");
	} else if (rest < l->n && l->p[rest] != '#') {
		*form = 1;	/* age: >- then indented lines */
		for (; j < e && (idle(&d->v[j]) || ind(&d->v[j]) > col); j++) {
			if (idle(&d->v[j]))
				continue;
			*vcol = ind(&d->v[j]);
			(void)sotto_buf_add(&v, d->v[j].p + ind(&d->v[j]),
			    d->v[j].n - ind(&d->v[j]));
			(void)sotto_buf_addch(&v, ',');
		}
		add_list(list, v.data ? (char *)v.data : "");
	} else {
		*form = 2;	/* age: then "- r" lines */
		for (; j < e && (idle(&d->v[j]) || (ind(&d->v[j]) >= col &&
		    is_item(&d->v[j], ind(&d->v[j])))); j++) {
			if (idle(&d->v[j]))
				continue;
			*vcol = ind(&d->v[j]);
			sotto_buf_truncate(&v, 0);
			unquote(&v, d->v[j].p + *vcol + 1, d->v[j].n - *vcol -
			    1);
			add_list(list, v.data ? (char *)v.data : "");
		}
	}
	sotto_buf_release(&v);
	while (j > a + 1 && idle(&d->v[j - 1]))
		j--;	/* trailing blanks and comments stay */
	return j;
}

/* The " # comment" that ends a plain one-line value, or "". */
static const char *
tail_comment(const struct line *l, size_t from, size_t *n)
{
	size_t i;

	*n = 0;
	if (from < l->n && (l->p[from] == '\'' || l->p[from] == '"'))
		return "";
	for (i = from + 1; i < l->n; i++)
		if (l->p[i] == '#' && (l->p[i - 1] == ' ' || l->p[i - 1] ==
		    '\t')) {
			while (i > from && (l->p[i - 1] == ' ' ||
			    l->p[i - 1] == '\t'))
				i--;
			*n = l->n - i;
			return l->p + i;
		}
	return "";
}

static void
write_age(struct sotto_buf *b, const struct line *l, size_t col, int form,
    size_t vcol, const struct sotto_buf *list)
{
	size_t rest = col + 4, cn;
	const char *cm;

	const char *p = (const char *)list->data, *nl;
	bool first = true;

	(void)sotto_buf_add(b, l->p, col + 4);	/* "...age:" */
	if (form == 0)
		(void)sotto_buf_addch(b, ' ');
	else
		(void)sotto_buf_addstr(b, form == 1 ? " >-\n" : "\n");
	for (; p != NULL && *p != '\0'; p = nl + 1, first = false) {
		nl = strchr(p, '\n');
		if (form == 0) {
			if (!first)
				(void)sotto_buf_addch(b, ',');
			(void)sotto_buf_add(b, p, (size_t)(nl - p));
			continue;
		}
		if (form == 1 && !first)
			(void)sotto_buf_addstr(b, ",\n");
		spaces(b, vcol);
		if (form == 2)
			(void)sotto_buf_addstr(b, "- ");
		(void)sotto_buf_add(b, p, (size_t)(nl - p));
		if (form == 2)
			(void)sotto_buf_addch(b, '\n');
	}
	if (form == 0) {
		while (rest < l->n && l->p[rest] == ' ')
			rest++;
		cm = tail_comment(l, rest, &cn);
		(void)sotto_buf_add(b, cm, cn);	/* "# break-glass" stays */
	}
	if (form != 2)
		(void)sotto_buf_addch(b, '\n');
}

struct edit {
	size_t from, to;	/* lines [from, to) replaced */
	struct sotto_buf text;	/* by this */
};

/* Plans the change in the creation_rules starting at line cr. */
static sotto_err
plan(struct edit *ed, const struct doc *d, size_t cr, const char *re,
    const char *recipient, const char *all, const char *path,
    struct sotto_error *e)
{
	struct sotto_buf pr = SOTTO_BUF_INIT, old = SOTTO_BUF_INIT;
	struct sotto_buf list = SOTTO_BUF_INIT;
	size_t i = cr + 1, seq, s, end, col, a, pl;
	int form;

	while (i < d->n && idle(&d->v[i]))
		i++;
	if (i == d->n || (ind(&d->v[i]) == 0 && !is_item(&d->v[i], 0))) {
		ed->from = ed->to = cr + 1;	/* no rule yet */
		new_rule(&ed->text, 2, re, recipient);
		return SOTTO_OK;
	}
	seq = ind(&d->v[i]);
	if (!is_item(&d->v[i], seq))
		return sotto_error_set(e, SOTTO_E_PARSE, "'%s' line %zu: "
		    "creation_rules is not a block sequence", path, i + 1);
	ed->from = ed->to = cr + 1;	/* a new rule goes first, above the
					   first one's comments */
	for (s = i; s < d->n && is_item(&d->v[s], seq); s = end) {
		for (end = s + 1; end < d->n && (idle(&d->v[end]) ||
		    ind(&d->v[end]) > seq); end++)
			;
		col = key_col(&d->v[s], seq);
		pl = find_key(d, s, end, col, "path_regex:");
		if (pl == end)
			continue;
		sotto_buf_truncate(&pr, 0);
		unquote(&pr, d->v[pl].p + col + 11, d->v[pl].n - col - 11);
		if (pr.data == NULL || strcmp((char *)pr.data, re) != 0)
			continue;
		if ((a = find_key(d, s, end, col, "age:")) == end) {
			ed->from = ed->to = pl + 1;
			spaces(&ed->text, col);
			(void)sotto_buf_addf(&ed->text, "age: %s\n", recipient);
		} else {
			ed->from = a;
			ed->to = read_age(d, a, end, col, &old, &form, &pl);
			new_list(&list, &old, recipient, all);
			write_age(&ed->text, &d->v[a], col, form, pl, &list);
		}
		break;
	}
	if (ed->text.len == 0)
		new_rule(&ed->text, seq, re, recipient);
	sotto_buf_release(&pr);
	sotto_buf_release(&old);
	sotto_buf_release(&list);
	return SOTTO_OK;
}

sotto_err
cli_sops_rule_update(const char *path, const char *re,
    const char *recipient, const char *all, struct sotto_error *e)
{
	struct sotto_buf in = SOTTO_BUF_INIT, out = SOTTO_BUF_INIT;
	struct doc d = { NULL, 0 };
	struct edit ed = { 0, 0, SOTTO_BUF_INIT };
	size_t i, cr;
	sotto_err rc;

	if (re[0] == '\0' || strchr(re, '\n') != NULL)
		return sotto_error_set(e, SOTTO_E_USAGE, "PATH_REGEX must be "
		    "one non-empty line");
	if ((rc = sotto_io_read_file(&in, path, 4u << 20, e)) != SOTTO_OK &&
	    rc != SOTTO_E_NOTFOUND)
		return rc;
	sotto_error_clear(e);
	if ((rc = split(&d, &in, path, e)) != SOTTO_OK)
		goto out;
	for (cr = 0; cr < d.n; cr++)
		if (ind(&d.v[cr]) == 0 && starts(&d.v[cr], 0,
		    "creation_rules:"))
			break;
	if (cr < d.n) {
		struct sotto_buf rest = SOTTO_BUF_INIT;

		unquote(&rest, d.v[cr].p + 15, d.v[cr].n - 15);
		if (rest.len > 0) {
			sotto_buf_release(&rest);
			rc = sotto_error_set(e, SOTTO_E_PARSE, "'%s' line %zu: "
			    "creation_rules in flow style; edit it by hand",
			    path, cr + 1);
			goto out;
		}
		if ((rc = plan(&ed, &d, cr, re, recipient, all, path, e)) !=
		    SOTTO_OK)
			goto out;
	} else {
		ed.from = ed.to = d.n;
		(void)sotto_buf_addstr(&ed.text, "creation_rules:\n");
		new_rule(&ed.text, 2, re, recipient);
	}
	for (i = 0; i < d.n || i == ed.from; i++) {
		if (i == ed.from)
			(void)sotto_buf_add(&out, ed.text.data, ed.text.len);
		if (i >= ed.from && i < ed.to)
			continue;
		if (i < d.n)
			put_line(&out, &d.v[i]);
	}
	if (in.len > 0 && in.data[in.len - 1] != '\n' && ed.to < d.n)
		sotto_buf_truncate(&out, out.len - 1);	/* as it was */
	rc = sotto_io_write_replace(path, out.data ? out.data : (uint8_t *)"",
	    out.len, 0644, e);
out:
	free(d.v);
	sotto_buf_release(&in);
	sotto_buf_release(&out);
	sotto_buf_release(&ed.text);
	return rc;
}
