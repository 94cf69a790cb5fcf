/* SPDX-License-Identifier: ISC */
/*
 * replacements: kustomize v5.5's ReplacementTransformer
 * (api/filters/replacement): a field of one object, or one part of it
 * split on a delimiter, is copied into fields of the selected objects.
 * The source path is read as kyaml's PathGetter reads it, the target paths
 * as its PathMatcher does ("[name=regexp]" matches list items by an
 * unanchored Go regexp, "*" every item, a number one item, and with
 * options.create missing fields are made).  A scalar target keeps its
 * type and style and takes only the value's text, as kustomize does; where
 * the YAML kustomize writes would then carry an explicit tag (a number
 * field given a word) or a value whose type we cannot tell as yaml.v3
 * does, the render is refused rather than written differently.
 */
#include "render/build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/kust.h"
#include "sotto/regex.h"

#define DEFAULT_PATH "metadata.name"

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

/* ---- paths (kyaml's SmarterPathSplitter on '.') ---- */

struct rpth {
	char **seg;
	size_t n, cap;
};

static void
rpth_free(struct rpth *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->seg[i]);
	free(p->seg);
	memset(p, 0, sizeof(*p));
}

static bool
rpth_push(struct rpth *p, const char *s, size_t n)
{
	char *x;

	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 8;
		char **v = realloc(p->seg, nc * sizeof(*v));

		if (v == NULL)
			return false;
		p->seg = v;
		p->cap = nc;
	}
	if ((x = strndup(s, n)) == NULL)
		return false;
	p->seg[p->n++] = x;
	return true;
}

static bool
ends_with(const char *s, char c)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == c;
}

/* PathSplitter: split on '.', a part ending in '\' goes on with the
 * next; then brackets holding dots are joined again. */
static sotto_err
rpth_split(struct rpth *out, const char *path, struct sotto_error *e)
{
	struct rpth raw = { NULL, 0, 0 }, joined = { NULL, 0, 0 };
	const char *p = path, *d;
	size_t i, j;

	memset(out, 0, sizeof(*out));
	for (;;) {
		d = strchr(p, '.');
		if (!rpth_push(&raw, p, d ? (size_t)(d - p) : strlen(p)))
			goto nomem;
		if (d == NULL)
			break;
		p = d + 1;
	}
	i = raw.n > 1 && raw.seg[0][0] == '\0' ? 1 : 0;
	if (!rpth_push(&joined, raw.seg[i], strlen(raw.seg[i])))
		goto nomem;
	for (i++; i < raw.n; i++) {
		char *last = joined.seg[joined.n - 1], *x;
		size_t ln = strlen(last);

		if (ln > 0 && last[ln - 1] == '\\') {
			if ((x = malloc(ln + strlen(raw.seg[i]) + 1)) == NULL)
				goto nomem;
			memcpy(x, last, ln - 1);
			x[ln - 1] = '.';
			memcpy(x + ln, raw.seg[i], strlen(raw.seg[i]) + 1);
			free(last);
			joined.seg[joined.n - 1] = x;
		} else if (!rpth_push(&joined, raw.seg[i],
		    strlen(raw.seg[i]))) {
			goto nomem;
		}
	}
	for (i = 0; i < joined.n; i++) {
		const char *s = joined.seg[i];
		struct sotto_buf b = SOTTO_BUF_INIT;
		const char *t;
		size_t tl;

		if (s[0] != '[' || ends_with(s, ']')) {
			if (!rpth_push(out, s, strlen(s)))
				goto nomem;
			continue;
		}
		if (sotto_buf_add(&b, s, strlen(s)) != SOTTO_OK)
			goto nomem;
		for (j = i; j + 1 < joined.n; ) {
			j++;
			if (sotto_buf_addch(&b, '.') != SOTTO_OK ||
			    sotto_buf_add(&b, joined.seg[j],
			    strlen(joined.seg[j])) != SOTTO_OK) {
				sotto_buf_release(&b);
				goto nomem;
			}
			if (ends_with(joined.seg[j], ']'))
				break;
		}
		i = j;
		t = (const char *)b.data;
		tl = b.len;
		if (memchr(t, '=', tl) == NULL) {
			/* strings.Trim(s, "[]") */
			while (tl > 0 && (*t == '[' || *t == ']')) {
				t++;
				tl--;
			}
			while (tl > 0 && (t[tl - 1] == '[' || t[tl - 1] == ']'))
				tl--;
		}
		if (!rpth_push(out, t, tl)) {
			sotto_buf_release(&b);
			goto nomem;
		}
		sotto_buf_release(&b);
	}
	rpth_free(&raw);
	rpth_free(&joined);
	return SOTTO_OK;
nomem:
	rpth_free(&raw);
	rpth_free(&joined);
	rpth_free(out);
	return oom(e);
}

/* Go's strconv.Atoi: an optional sign and decimal digits. */
static bool
go_atoi(const char *s, long long *v)
{
	const char *p = s;
	char *end;

	if (*p == '+' || *p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool
is_list_index(const char *s)
{
	return s[0] == '[' && ends_with(s, ']');
}

static bool
is_idx_number(const char *s)
{
	long long v;

	return go_atoi(s, &v) && v >= 0;
}

/* SplitIndexNameValue: "[name=value]" */
static bool
split_index(const char *s, char **name, char **value)
{
	size_t n = strlen(s);
	const char *a = s, *eq;

	if (n > 0 && s[n - 1] == ']')
		n--;
	if (n > 0 && *a == '[') {
		a++;
		n--;
	}
	if ((eq = memchr(a, '=', n)) == NULL)
		return false;
	*name = strndup(a, (size_t)(eq - a));
	*value = strndup(eq + 1, n - (size_t)(eq - a) - 1);
	return true;
}

/* ---- node helpers ---- */

static bool
is_null(const struct sotto_node *n)
{
	return n == NULL || (n->kind == SOTTO_NODE_SCALAR &&
	    n->type == SOTTO_T_NULL);
}

static size_t
count_items(const struct sotto_node *n)
{
	size_t i, k = 0;

	for (i = 0; i < n->n; i++)
		if (n->items[i].val != NULL &&
		    n->items[i].val->kind != SOTTO_NODE_COMMENT)
			k++;
	return k;
}

static bool
real_item(const struct sotto_node *n, size_t i)
{
	return n->items[i].val != NULL &&
	    n->items[i].val->kind != SOTTO_NODE_COMMENT &&
	    (n->kind != SOTTO_NODE_MAP || n->items[i].key != NULL);
}

static struct sotto_node **
map_slot(struct sotto_node *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (real_item(m, i) && strcmp(m->items[i].key, key) == 0)
			return &m->items[i].val;
	return NULL;
}

static const char *
kind_name(const struct sotto_node *n)
{
	return n->kind == SOTTO_NODE_MAP ? "MappingNode" :
	    n->kind == SOTTO_NODE_SEQ ? "SequenceNode" : "ScalarNode";
}

/* ---- the source (PathGetter) ---- */

static sotto_err
lookup(const struct sotto_node **out, const struct sotto_node *n,
    const struct rpth *p, const char *fp, struct sotto_error *e)
{
	size_t i, j;

	*out = NULL;
	for (i = 0; i < p->n && n != NULL; i++) {
		const char *s = p->seg[i];
		char tmp[4096];
		size_t k = strlen(s);
		long long idx;

		/* cleanPath: trimmed, empty parts dropped */
		while (k > 0 && (s[0] == ' ' || s[0] == '\t' ||
		    s[0] == '\n')) {
			s++;
			k--;
		}
		while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t' ||
		    s[k - 1] == '\n'))
			k--;
		if (k == 0)
			continue;
		if (k >= sizeof(tmp))
			return sotto_error_set(e, SOTTO_E_USAGE, "fieldPath "
			    "'%.100s' is too long", fp);
		memcpy(tmp, s, k);
		tmp[k] = '\0';
		s = tmp;
		if (go_atoi(s, &idx) || strcmp(s, "-") == 0) {
			size_t cnt;

			if (strcmp(s, "-") != 0 && idx < 0)
				return sotto_error_set(e, SOTTO_E_USAGE,
				    "error looking up replacement source: "
				    "array index %lld cannot be negative",
				    idx);
			if (is_null(n))
				return SOTTO_OK;
			if (n->kind != SOTTO_NODE_SEQ)
				goto wrong;
			cnt = count_items(n);
			if (strcmp(s, "-") == 0) {
				if (cnt == 0)
					return sotto_error_set(e,
					    SOTTO_E_USAGE, "fieldPath "
					    "'%.100s': '-' in an empty list",
					    fp);
				idx = (long long)cnt - 1;
			}
			if ((unsigned long long)idx >= cnt)
				return SOTTO_OK;
			for (j = 0; j < n->n; j++)
				if (real_item(n, j) && idx-- == 0)
					break;
			n = n->items[j].val;
			continue;
		}
		if (strcmp(s, "*") == 0)
			return sotto_error_set(e, SOTTO_E_USAGE, "error "
			    "looking up replacement source: wildcard is not "
			    "supported in PathGetter");
		if (is_list_index(s)) {
			char *name = NULL, *value = NULL;
			const struct sotto_node *hit = NULL;

			if (!split_index(s, &name, &value))
				return sotto_error_set(e, SOTTO_E_USAGE,
				    "error looking up replacement source: "
				    "list path element must contain "
				    "fieldName=fieldValue for element to "
				    "match");
			if (name == NULL || value == NULL) {
				free(name);
				free(value);
				return oom(e);
			}
			if (!is_null(n) && n->kind != SOTTO_NODE_SEQ) {
				free(name);
				free(value);
				goto wrong;
			}
			for (j = 0; !is_null(n) && j < n->n && hit == NULL;
			    j++) {
				const struct sotto_node *x = n->items[j].val;
				const struct sotto_node *f;

				if (!real_item(n, j))
					continue;
				if (name[0] == '\0') {
					if (x->kind == SOTTO_NODE_SCALAR &&
					    strcmp(rn_value(x), value) == 0)
						hit = x;
					else if (x->kind != SOTTO_NODE_SCALAR &&
					    value[0] == '\0')
						hit = x;
					continue;
				}
				if (x->kind != SOTTO_NODE_MAP)
					continue;
				f = rn_get(x, name);
				if (f != NULL && strcmp(rn_value(f), value) ==
				    0)
					hit = x;
			}
			free(name);
			free(value);
			n = hit;
			continue;
		}
		if (is_null(n))
			return SOTTO_OK;
		if (n->kind != SOTTO_NODE_MAP)
			goto wrong;
		n = rn_get(n, s);
	}
	*out = n;
	return SOTTO_OK;
wrong:
	return sotto_error_set(e, SOTTO_E_USAGE, "error looking up "
	    "replacement source: fieldPath '%.100s': wrong node kind %s",
	    fp, kind_name(n));
}

/* ---- ids ---- */

/* A selector's ResId as a struct rid (strings borrowed from sel). */
static void
sel_rid(struct rid *id, const struct sotto_node *sel)
{
	const char *g = rn_str(sel, "group"), *v = rn_str(sel, "version");

	id->group = g ? g : "";
	id->glen = strlen(id->group);
	id->version = v ? v : "";
	id->vlen = strlen(id->version);
	id->kind = rn_str(sel, "kind") ? rn_str(sel, "kind") : "";
	id->name = rn_str(sel, "name") ? rn_str(sel, "name") : "";
	id->ns = rn_str(sel, "namespace") ? rn_str(sel, "namespace") : "";
}

static bool
rid_empty(const struct rid *s)
{
	return s->glen == 0 && s->vlen == 0 && s->kind[0] == '\0' &&
	    s->name[0] == '\0' && s->ns[0] == '\0';
}

/* ResId.IsSelectedBy */
static bool
selected_by(struct rctx *c, const struct rid *id, const struct rid *sel)
{
	char g[256], v[256];

	if (sel->name[0] != '\0' && strcmp(sel->name, id->name) != 0)
		return false;
	if (sel->ns[0] != '\0' && strcmp(rid_eff_ns(c, sel),
	    rid_eff_ns(c, id)) != 0)
		return false;
	if (sel->glen >= sizeof(g) || sel->vlen >= sizeof(v))
		return false;
	memcpy(g, sel->group, sel->glen);
	g[sel->glen] = '\0';
	memcpy(v, sel->version, sel->vlen);
	v[sel->vlen] = '\0';
	return rid_gvk_selected(id, g, v, sel->kind);
}

/* Any of o's ids (current, then previous) is selected by sel. */
static bool
obj_selected(struct rctx *c, const struct robj *o, const struct rid *sel)
{
	struct rid id;
	size_t i;

	robj_curid(o, &id);
	if (selected_by(c, &id, sel))
		return true;
	for (i = 0; i < o->nprev; i++) {
		robj_previd(o, i, &id);
		if (selected_by(c, &id, sel))
			return true;
	}
	return false;
}

static void
sel_string(char *out, size_t cap, const struct rid *id, const char *fp)
{
	char s[600];
	struct rid x = *id;

	if (x.name[0] == '\0')
		x.name = "";
	rid_string(s, sizeof(s), &x);
	snprintf(out, cap, "%s%s%s", s, fp && fp[0] ? ":" : "",
	    fp ? fp : "");
}

/* label and annotation selectors of one types.Selector */
static sotto_err
anno_label(bool *m, const struct robj *o, const struct sotto_node *sel,
    struct sotto_error *e)
{
	const char *ls = rn_str(sel, "labelSelector");
	const char *as = rn_str(sel, "annotationSelector");
	bool ok, a, l;

	a = rsel_match(as, rn_path(o->n, "metadata/annotations"), &ok);
	if (!ok)
		return sotto_error_set(e, SOTTO_E_USAGE, "unable to parse "
		    "annotation selector '%.100s'", as);
	l = rsel_match(ls, rn_path(o->n, "metadata/labels"), &ok);
	if (!ok)
		return sotto_error_set(e, SOTTO_E_USAGE, "unable to parse "
		    "label selector '%.100s'", ls);
	*m = a && l;
	return SOTTO_OK;
}

/* ---- values ---- */

static bool
is_word(const char *s)
{
	return strcmp(s, "true") == 0 || strcmp(s, "false") == 0 ||
	    strcmp(s, "True") == 0 || strcmp(s, "False") == 0 ||
	    strcmp(s, "TRUE") == 0 || strcmp(s, "FALSE") == 0;
}

static bool
is_dec_int(const char *s)
{
	const char *p = s;

	if (*p == '-' || *p == '+')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	if (*p == '0' && p[1] != '\0')
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* A plain scalar whose type yaml.v3, YAML 1.1 and our emitter agree
 * on, or false. */
static bool
plain_type(const char *s, enum sotto_scalar_type *t)
{
	static const char *const risky[] = { "y", "Y", "yes", "Yes", "YES",
	    "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
	    "OFF", "null", "Null", "NULL", "~", NULL };
	size_t i;
	const char *p;

	if (s[0] == '\0')
		return false;
	if (is_word(s)) {
		*t = SOTTO_T_BOOL;
		return strcmp(s, "true") == 0 || strcmp(s, "false") == 0;
	}
	if (is_dec_int(s)) {
		*t = SOTTO_T_INT;
		return s[0] != '+';
	}
	for (i = 0; risky[i] != NULL; i++)
		if (strcmp(s, risky[i]) == 0)
			return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	    s[0] == '/' || s[0] == '_'))
		return false;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_./@", *p) != NULL))
			return false;
	*t = SOTTO_T_STR;
	return true;
}

/* The value's text fits the target's type as yaml.v3 writes it back
 * without an explicit tag. */
static bool
fits(enum sotto_scalar_type t, const char *s)
{
	switch (t) {
	case SOTTO_T_STR:
		return true;
	case SOTTO_T_INT:
		return is_dec_int(s);
	case SOTTO_T_BOOL:
		return is_word(s);
	default:
		return false;
	}
}

struct rtarget {
	struct rctx *c;
	const char *kname;
	const char *fp;		/* the target field path, for messages */
	const struct sotto_node *opts;
	bool create;		/* options.create */
	int ckind;		/* the kind created last (the value's) */
	struct sotto_node ***slots;
	size_t nslots, cslots;
	struct sotto_node **made;	/* nodes created here */
	size_t nmade, cmade;
	struct sotto_error *e;
};

static bool
push_ptr(void ***v, size_t *n, size_t *cap, void *p)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		void **x = realloc(*v, nc * sizeof(*x));

		if (x == NULL)
			return false;
		*v = x;
		*cap = nc;
	}
	(*v)[(*n)++] = p;
	return true;
}

static bool
was_made(const struct rtarget *t, const struct sotto_node *n)
{
	size_t i;

	for (i = 0; i < t->nmade; i++)
		if (t->made[i] == n)
			return true;
	return false;
}

static struct sotto_node *
new_kind(int kind)
{
	if (kind == SOTTO_NODE_MAP)
		return sotto_tree_new_map();
	if (kind == SOTTO_NODE_SEQ)
		return sotto_tree_new_seq();
	return sotto_tree_new_scalar(SOTTO_T_NULL, "", 0);
}

/* getPathPartKind */
static int
part_kind(const char *next, int dflt)
{
	if (next == NULL)
		return dflt;
	if (is_list_index(next) || is_idx_number(next))
		return SOTTO_NODE_SEQ;
	return SOTTO_NODE_MAP;
}

static sotto_err
refuse(struct rtarget *t, const char *why)
{
	return sotto_error_set(t->e, SOTTO_E_USAGE, "'%s': replacements: "
	    "target field '%.100s': %s (not supported)", t->kname, t->fp,
	    why);
}

static sotto_err
not_found(struct rtarget *t, const char *why)
{
	return sotto_error_set(t->e, SOTTO_E_USAGE, "'%s': unable to %s "
	    "field \"%.100s\" in replacement target%s%s", t->kname,
	    t->create ? "find or create" : "find", t->fp, why ? ": " : "",
	    why ? why : "");
}

static sotto_err pm_filter(struct rtarget *t, struct sotto_node **slot,
    const struct rpth *p, size_t i);

static sotto_err
add_made(struct rtarget *t, struct sotto_node *n)
{
	if (!push_ptr((void ***)&t->made, &t->nmade, &t->cmade, n))
		return oom(t->e);
	return SOTTO_OK;
}

/* the text an item is matched on (elem.String(), trimmed) */
static sotto_err
match_text(struct rtarget *t, const struct sotto_node *x,
    const struct sotto_regex *re, bool *m)
{
	const char *src = sotto_regex_source(re);

	if (x->kind != SOTTO_NODE_SCALAR || x->type == SOTTO_T_NULL)
		return refuse(t, "list items matched on a value that is not "
		    "a plain scalar");
	if (x->style != 0 && strpbrk(src, "^$.\\[]()*+?{}|\"'") != NULL)
		return refuse(t, "a regular expression matched on a quoted "
		    "value");
	return sotto_regex_match(m, re, rn_value(x), strlen(rn_value(x)),
	    t->e);
}

static sotto_err
pm_seq(struct rtarget *t, struct sotto_node **slot, const struct rpth *p,
    size_t i, bool again)
{
	struct sotto_node *n = *slot;
	struct sotto_regex *re = NULL;
	char *name = NULL, *value = NULL;
	size_t j, before = t->nslots;
	sotto_err err = SOTTO_OK;
	bool m;

	if (!split_index(p->seg[i], &name, &value))
		return not_found(t, "list path element must contain "
		    "fieldName=fieldValue for element to match");
	if (name == NULL || value == NULL) {
		err = oom(t->e);
		goto out;
	}
	if (is_null(n)) {
		if (t->create)
			err = refuse(t, "a list created in a null field");
		goto out;
	}
	if (n->kind != SOTTO_NODE_SEQ) {
		err = not_found(t, "wrong node kind");
		goto out;
	}
	if ((err = sotto_regex_compile(&re, value, t->e)) != SOTTO_OK)
		goto out;
	for (j = 0; j < n->n && err == SOTTO_OK; j++) {
		struct sotto_node *x = n->items[j].val;
		const struct sotto_node *f;

		if (!real_item(n, j))
			continue;
		if (name[0] == '\0') {
			if ((err = match_text(t, x, re, &m)) == SOTTO_OK &&
			    m && !push_ptr((void ***)&t->slots, &t->nslots,
			    &t->cslots, &n->items[j].val))
				err = oom(t->e);
			continue;
		}
		if (x->kind != SOTTO_NODE_MAP ||
		    (f = rn_get(x, name)) == NULL)
			continue;
		if ((err = match_text(t, f, re, &m)) == SOTTO_OK && m)
			err = pm_filter(t, &n->items[j].val, p, i + 1);
	}
	if (err != SOTTO_OK || t->nslots > before || !t->create)
		goto out;
	if (again) {
		err = refuse(t, "a created list item its own pattern does "
		    "not match");
		goto out;
	}
	{
		enum sotto_scalar_type vt;
		struct sotto_node *v, *item;

		if (!plain_type(value, &vt)) {
			err = refuse(t, "a list item created with a value "
			    "whose YAML type is ambiguous");
			goto out;
		}
		v = sotto_tree_new_scalar(vt, value, strlen(value));
		if (name[0] == '\0') {
			item = v;
		} else {
			item = sotto_tree_new_map();
			if (item != NULL && v != NULL &&
			    sotto_tree_map_add(item, name, strlen(name), v) ==
			    SOTTO_OK)
				v = NULL;
			sotto_tree_node_free(v, false);
			if (v != NULL) {
				sotto_tree_node_free(item, false);
				item = NULL;
			}
		}
		if (item == NULL || sotto_tree_seq_add(n, item) != SOTTO_OK) {
			sotto_tree_node_free(item, false);
			err = oom(t->e);
			goto out;
		}
	}
	sotto_regex_free(re);
	re = NULL;
	err = pm_seq(t, slot, p, i, true);
out:
	sotto_regex_free(re);
	free(name);
	free(value);
	return err;
}

/* PathMatcher.filter: the slots p[i..] reaches from *slot */
static sotto_err
pm_filter(struct rtarget *t, struct sotto_node **slot, const struct rpth *p,
    size_t i)
{
	struct sotto_node *n = *slot, **f;
	const char *s, *next;
	long long idx;
	size_t j, cnt;
	sotto_err err;

	if (i == p->n) {
		if (!push_ptr((void ***)&t->slots, &t->nslots, &t->cslots,
		    slot))
			return oom(t->e);
		return SOTTO_OK;
	}
	s = p->seg[i];
	next = i + 1 < p->n ? p->seg[i + 1] : NULL;
	if (is_idx_number(s)) {
		go_atoi(s, &idx);
		if (is_null(n) && t->create)
			return refuse(t, "a list created in a null field");
		if (is_null(n))
			return not_found(t, NULL);
		if (n->kind != SOTTO_NODE_SEQ)
			return not_found(t, "wrong node kind");
		cnt = count_items(n);
		if ((unsigned long long)idx == cnt && t->create) {
			struct sotto_node *x = new_kind(part_kind(next,
			    t->ckind));

			if (x == NULL || sotto_tree_seq_add(n, x) != SOTTO_OK) {
				sotto_tree_node_free(x, false);
				return oom(t->e);
			}
			if ((err = add_made(t, x)) != SOTTO_OK)
				return err;
			cnt++;
		}
		if ((unsigned long long)idx >= cnt)
			return sotto_error_set(t->e, SOTTO_E_USAGE, "'%s': "
			    "unable to find field \"%.100s\" in replacement "
			    "target: index %lld specified but only %zu "
			    "elements found", t->kname, t->fp, idx, cnt);
		for (j = 0; j < n->n; j++)
			if (real_item(n, j) && idx-- == 0)
				break;
		return pm_filter(t, &n->items[j].val, p, i + 1);
	}
	if (is_list_index(s))
		return pm_seq(t, slot, p, i, false);
	if (strcmp(s, "*") == 0) {
		if (is_null(n))
			return SOTTO_OK;
		if (n->kind != SOTTO_NODE_SEQ)
			return not_found(t, "wrong node kind");
		for (j = 0; j < n->n; j++)
			if (real_item(n, j) && (err = pm_filter(t,
			    &n->items[j].val, p, i + 1)) != SOTTO_OK)
				return err;
		return SOTTO_OK;
	}
	if (is_null(n)) {
		if (t->create)
			return refuse(t, "a field created in a null value");
		return SOTTO_OK;
	}
	if (n->kind != SOTTO_NODE_MAP)
		return not_found(t, "wrong node kind");
	if ((f = map_slot(n, s)) == NULL) {
		struct sotto_node *x;

		if (!t->create)
			return SOTTO_OK;
		if ((x = new_kind(part_kind(next, t->ckind))) == NULL ||
		    sotto_tree_map_add(n, s, strlen(s), x) != SOTTO_OK) {
			sotto_tree_node_free(x, false);
			return oom(t->e);
		}
		if ((err = add_made(t, x)) != SOTTO_OK)
			return err;
		f = &n->items[n->n - 1].val;
	}
	return pm_filter(t, f, p, i + 1);
}

/* setFieldValue */
static sotto_err
set_value(struct rtarget *t, struct sotto_node **slot,
    const struct sotto_node *value)
{
	struct sotto_node *tg = *slot, *v;
	const char *delim = rn_str(t->opts, "delimiter");
	const char *text = rn_value(value);
	struct sotto_buf b = SOTTO_BUF_INIT;
	sotto_err err = SOTTO_OK;

	if (delim != NULL && delim[0] != '\0') {
		const char *idxs = rn_str(t->opts, "index");
		long long idx = 0, k = 0;
		const char *p, *q;
		size_t dl = strlen(delim);
		bool done = false;

		if (idxs != NULL)
			idx = strtoll(idxs, NULL, 10);
		if (tg->kind != SOTTO_NODE_SCALAR)
			return sotto_error_set(t->e, SOTTO_E_USAGE, "'%s': "
			    "delimiter option can only be used with scalar "
			    "nodes", t->kname);
		if (value->kind != SOTTO_NODE_SCALAR)
			return refuse(t, "a delimiter with a value that is "
			    "not a scalar");
		if (idx < 0) {
			err = sotto_buf_addf(&b, "%s%s", text, delim);
			done = true;
		}
		for (p = rn_value(tg); err == SOTTO_OK; k++) {
			q = strstr(p, delim);
			if (k > 0)
				err = sotto_buf_add(&b, delim, dl);
			if (err == SOTTO_OK && k == idx && !done) {
				err = sotto_buf_add(&b, text, strlen(text));
				done = true;
			} else if (err == SOTTO_OK) {
				err = sotto_buf_add(&b, p, q ? (size_t)(q - p) :
				    strlen(p));
			}
			if (q == NULL)
				break;
			p = q + dl;
		}
		if (err == SOTTO_OK && !done)
			err = sotto_buf_addf(&b, "%s%s", delim, text);
		if (err == SOTTO_OK)
			err = sotto_buf_addch(&b, '\0');
		if (err != SOTTO_OK) {
			sotto_buf_release(&b);
			return oom(t->e);
		}
		text = (const char *)b.data;
	}
	if (tg->kind == SOTTO_NODE_SCALAR) {
		enum sotto_scalar_type ty = tg->type;

		if (value->kind != SOTTO_NODE_SCALAR) {
			err = refuse(t, "a map or list put into a scalar");
		} else if (was_made(t, tg)) {
			if (!plain_type(text, &ty))
				err = refuse(t, "a field created with a value "
				    "whose YAML type is ambiguous");
		} else if (!fits(ty, text)) {
			err = refuse(t, "a value that does not fit the "
			    "field's type");
		}
		if (err == SOTTO_OK && (err = sotto_tree_set_text(tg, ty, text,
		    strlen(text))) != SOTTO_OK)
			err = oom(t->e);
		if (err == SOTTO_OK)
			err = rc_charge(t->c, strlen(text) + RN_NODE_COST, 0,
			    t->kname, t->e);
		sotto_buf_release(&b);
		return err;
	}
	if ((v = sotto_tree_clone(value)) == NULL ||
	    (b.len > 0 && sotto_tree_set_text(v, v->type, text,
	    strlen(text)) != SOTTO_OK)) {
		sotto_tree_node_free(v, true);
		sotto_buf_release(&b);
		return oom(t->e);
	}
	sotto_buf_release(&b);
	sotto_tree_node_free(tg, true);
	*slot = v;
	return rc_charge(t->c, rn_cost(v), 0, t->kname, t->e);
}

static sotto_err
copy_to(struct rtarget *t, struct robj *o, const struct sotto_node *fps,
    const struct sotto_node *value)
{
	size_t i, j, nfp = fps != NULL ? fps->n : 0;
	sotto_err err;

	for (i = 0; i < (nfp ? nfp : 1); i++) {
		struct rpth p;

		t->fp = nfp ? rn_value(fps->items[i].val) : DEFAULT_PATH;
		t->nslots = 0;
		t->nmade = 0;
		if ((err = rpth_split(&p, t->fp, t->e)) != SOTTO_OK)
			return err;
		err = pm_filter(t, &o->n, &p, 0);
		rpth_free(&p);
		if (err != SOTTO_OK)
			return err;
		if (t->nslots == 0)
			return not_found(t, NULL);
		for (j = 0; j < t->nslots; j++)
			if ((err = set_value(t, t->slots[j], value)) !=
			    SOTTO_OK)
				return err;
	}
	return SOTTO_OK;
}

static sotto_err
one_target(struct rlist *l, struct rctx *c, const struct sotto_node *tgt,
    const struct sotto_node *value, const char *kname,
    struct sotto_error *e)
{
	const struct sotto_node *sel = rn_get(tgt, "select");
	const struct sotto_node *rej = rn_get(tgt, "reject");
	const struct sotto_node *opts = rn_get(tgt, "options");
	const char *create = rn_str(opts, "create");
	struct rtarget t;
	struct rid sid, rid;
	size_t i, j;
	sotto_err err = SOTTO_OK;

	if (sel == NULL || sel->kind != SOTTO_NODE_MAP)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': target must "
		    "specify resources to select", kname);
	memset(&t, 0, sizeof(t));
	t.c = c;
	t.kname = kname;
	t.opts = opts;
	t.e = e;
	t.create = create != NULL && strcmp(create, "true") == 0;
	t.ckind = value->kind;
	sel_rid(&sid, sel);
	for (i = 0; i < l->n && err == SOTTO_OK; i++) {
		struct robj *o = &l->v[i];
		bool m, hit;

		if ((err = anno_label(&m, o, sel, e)) != SOTTO_OK || !m)
			continue;
		for (j = 0; rej != NULL && j < rej->n && m; j++) {
			const struct sotto_node *r = rej->items[j].val;

			if (rn_str(r, "labelSelector") == NULL &&
			    rn_str(r, "annotationSelector") == NULL)
				continue;
			if ((err = anno_label(&hit, o, r, e)) != SOTTO_OK)
				break;
			m = !hit;
		}
		if (err != SOTTO_OK || !m || !obj_selected(c, o, &sid))
			continue;
		for (j = 0; rej != NULL && j < rej->n && m; j++) {
			sel_rid(&rid, rej->items[j].val);
			if (!rid_empty(&rid) && obj_selected(c, o, &rid))
				m = false;
		}
		if (m)
			err = copy_to(&t, o, rn_get(tgt, "fieldPaths"), value);
	}
	free(t.slots);
	free(t.made);
	return err;
}

/* One replacement (Filter's loop body). */
static sotto_err
apply_one(struct rlist *l, struct rctx *c, const struct sotto_node *r,
    const char *kname, struct sotto_error *e)
{
	const struct sotto_node *src = rn_get(r, "source");
	const struct sotto_node *tgts = rn_get(r, "targets");
	const struct sotto_node *opts, *found = NULL;
	const char *fp, *delim;
	struct sotto_node *value = NULL;
	struct rid sid;
	struct rpth p;
	char what[800];
	size_t i, hit = SIZE_MAX;
	sotto_err err = SOTTO_OK;

	if (src == NULL || src->kind != SOTTO_NODE_MAP || tgts == NULL)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': replacements "
		    "must specify a source and at least one target", kname);
	sel_rid(&sid, src);
	fp = rn_str(src, "fieldPath");
	for (i = 0; i < l->n; i++) {
		if (!obj_selected(c, &l->v[i], &sid))
			continue;
		if (hit != SIZE_MAX) {
			sel_string(what, sizeof(what), &sid, fp);
			return sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
			    "multiple matches for selector %s", kname, what);
		}
		hit = i;
	}
	if (hit == SIZE_MAX) {
		sel_string(what, sizeof(what), &sid, fp);
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': nothing "
		    "selected by %s", kname, what);
	}
	if (fp == NULL || fp[0] == '\0')
		fp = DEFAULT_PATH;
	if ((err = rpth_split(&p, fp, e)) != SOTTO_OK)
		return err;
	err = lookup(&found, l->v[hit].n, &p, fp, e);
	rpth_free(&p);
	if (err != SOTTO_OK)
		return sotto_error_prefix(e, "'%s'", kname);
	if (found == NULL || is_null(found) || (found->kind !=
	    SOTTO_NODE_SCALAR && count_items(found) == 0)) {
		sel_string(what, sizeof(what), &sid, NULL);
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': fieldPath "
		    "`%.100s` is missing for replacement source %s", kname,
		    fp, what);
	}
	if ((value = sotto_tree_clone(found)) == NULL)
		return oom(e);
	rn_strip_comments(value);
	opts = rn_get(src, "options");
	delim = rn_str(opts, "delimiter");
	if (delim != NULL && delim[0] != '\0') {
		const char *idxs = rn_str(opts, "index"), *s, *q;
		long long idx = idxs ? strtoll(idxs, NULL, 10) : 0, k;
		size_t dl = strlen(delim);

		if (value->kind != SOTTO_NODE_SCALAR) {
			err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
			    "delimiter option can only be used with scalar "
			    "nodes", kname);
			goto out;
		}
		s = rn_value(value);
		for (k = 0; k < idx && s != NULL; k++)
			if ((s = strstr(s, delim)) != NULL)
				s += dl;
		if (idx < 0 || s == NULL) {
			err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': "
			    "options.index %lld is out of bounds for value "
			    "%.100s", kname, idx, rn_value(value));
			goto out;
		}
		q = strstr(s, delim);
		{
			char *part = strndup(s, q ? (size_t)(q - s) :
			    strlen(s));

			if (part == NULL || sotto_tree_set_text(value,
			    value->type, part, strlen(part)) != SOTTO_OK) {
				free(part);
				err = oom(e);
				goto out;
			}
			free(part);
		}
	}
	for (i = 0; i < tgts->n && err == SOTTO_OK; i++)
		err = one_target(l, c, tgts->items[i].val, value, kname, e);
out:
	sotto_tree_node_free(value, true);
	return err;
}

/* The replacements of a `path:` entry: one or a list. */
static sotto_err
load_path(struct sotto_node **out, struct rctx *c, const char *dir,
    const char *path, const char *kname, struct sotto_error *e)
{
	struct sotto_buf in = SOTTO_BUF_INIT;
	struct sotto_doc *doc = NULL;
	struct sotto_node *seq = NULL, *norm = NULL;
	const struct sotto_node *top;
	char *abs = NULL, what[512];
	bool wrapped = false;
	size_t i;
	sotto_err err;

	*out = NULL;
	if ((err = rc_resolve(&abs, c, dir, path, e)) != SOTTO_OK)
		return sotto_error_prefix(e, "'%s'", kname);
	snprintf(what, sizeof(what), "'%s'", rc_rel(c, abs));
	if ((err = rc_read(&in, c, abs, e)) != SOTTO_OK)
		goto done;
	if ((err = rc_parse(&doc, &sotto_store_yaml, &in, c, abs, e)) ==
	    SOTTO_E_YAML && strstr(e->msg, "top level must be a mapping") !=
	    NULL) {
		/* a list: parsed as the value of a key (a block sequence
		 * may start in the key's column) */
		struct sotto_buf w = SOTTO_BUF_INIT;

		if (sotto_buf_add(&w, "__r:\n", 5) != SOTTO_OK ||
		    sotto_buf_add(&w, in.data, in.len) != SOTTO_OK) {
			sotto_buf_release(&w);
			err = oom(e);
			goto done;
		}
		err = rc_parse(&doc, &sotto_store_yaml, &w, c, abs, e);
		sotto_buf_release(&w);
		if (err == SOTTO_OK && doc->n == 1)
			wrapped = true;
	}
	if (err != SOTTO_OK)
		goto done;
	top = doc->n > 0 ? doc->branches[0] : NULL;
	if (wrapped)
		top = rn_get(top, "__r");
	if (doc->n > 1) {
		err = sotto_error_set(e, SOTTO_E_USAGE, "%s: more than one "
		    "YAML document in a replacements file", what);
		goto done;
	}
	if (top == NULL || (top->kind != SOTTO_NODE_SEQ &&
	    top->kind != SOTTO_NODE_MAP)) {
		err = sotto_error_set(e, SOTTO_E_USAGE, "%s: unsupported "
		    "replacement type encountered within replacement path",
		    what);
		goto done;
	}
	rn_strip_comments(doc->branches[0]);
	if (wrapped && top->kind != SOTTO_NODE_SEQ) {
		err = sotto_error_set(e, SOTTO_E_USAGE, "%s: unsupported "
		    "replacement type encountered within replacement path",
		    what);
		goto done;
	}
	if ((seq = sotto_tree_new_seq()) == NULL) {
		err = oom(e);
		goto done;
	}
	for (i = 0; i < (top->kind == SOTTO_NODE_SEQ ? top->n : 1); i++) {
		const struct sotto_node *r = top->kind == SOTTO_NODE_SEQ ?
		    top->items[i].val : top;

		if ((err = kj_normalize(&norm, r, &kt_replacement, false,
		    what, e)) != SOTTO_OK)
			goto done;
		if (sotto_tree_seq_add(seq, norm) != SOTTO_OK) {
			sotto_tree_node_free(norm, true);
			err = oom(e);
			goto done;
		}
	}
	*out = seq;
	seq = NULL;
done:
	sotto_tree_node_free(seq, true);
	sotto_tree_doc_free(doc);
	sotto_buf_release(&in);
	free(abs);
	return err;
}

sotto_err
rr_replacements(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *list, const char *kname, struct sotto_error *e)
{
	struct sotto_node **loaded;
	size_t i, j;
	sotto_err err = SOTTO_OK;

	if (list == NULL || list->n == 0)
		return SOTTO_OK;
	/* the plugin's Config: every path is loaded before any runs */
	if ((loaded = calloc(list->n, sizeof(*loaded))) == NULL)
		return oom(e);
	for (i = 0; i < list->n && err == SOTTO_OK; i++) {
		const struct sotto_node *r = list->items[i].val;
		const char *path = rn_str(r, "path");
		const struct sotto_node *tg = rn_get(r, "targets");

		if (path == NULL || path[0] == '\0')
			continue;
		if (rn_get(r, "source") != NULL || (tg != NULL && tg->n > 0))
			err = sotto_error_set(e, SOTTO_E_USAGE, "'%s': cannot "
			    "specify both path and inline replacement", kname);
		else
			err = load_path(&loaded[i], c, dir, path, kname, e);
	}
	for (i = 0; i < list->n && err == SOTTO_OK; i++) {
		if (loaded[i] == NULL) {
			err = apply_one(l, c, list->items[i].val, kname, e);
			continue;
		}
		for (j = 0; j < loaded[i]->n && err == SOTTO_OK; j++)
			err = apply_one(l, c, loaded[i]->items[j].val, kname,
			    e);
	}
	for (i = 0; i < list->n; i++)
		sotto_tree_node_free(loaded[i], true);
	free(loaded);
	return err;
}
