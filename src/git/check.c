/* SPDX-License-Identifier: ISC */
/*
 * The guard's rules over one snapshot of files (a commit, the index):
 * given a path and its bytes, decides which findings apply.  Knows nothing
 * of git; src/git/guard.c feeds it blobs.  Speed comes from a cheap
 * pre-scan (memmem for the few byte strings a rule needs) before any
 * parse: most files are never parsed at all.
 */
#include "sotto/guard.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/config.h"
#include "sotto/regex.h"
#include "sotto/sops.h"
#include "sotto/sops_value.h"
#include "sotto/store.h"

#define MAX_DEPTH 128
#define MAX_ALLOWS 64

struct cfg_entry {
	char *dir;			/* repository-relative, "" = root */
	struct sotto_config *cfg;	/* parsed .sops.yaml */
};

struct sotto_guard_ctx {
	char *root;				/* absolute work tree */
	const struct sotto_guard_snapshot *snap; /* borrowed */
	const struct sotto_guard_ids *ids;	/* borrowed, may be NULL */
	struct sotto_guard_ignore *ignore;	/* .sottoignore or NULL */
	struct cfg_entry *cfgs;			/* every .sops.yaml */
	size_t ncfgs;
	struct sotto_age_idlist idl;		/* loaded identities */
	bool ids_tried;				/* idl loaded (maybe empty) */
	struct sotto_buf scratch;		/* sibling bytes */
};

/* One `sotto:allow` comment. */
struct allow {
	size_t line;
	const char *ids;	/* points into the blob */
	size_t len;
};

struct file {
	struct sotto_guard_ctx *c;
	struct sotto_guard_report *r;
	const char *rev, *path;
	const uint8_t *p;
	size_t n;
	const char *ignored;		/* .sottoignore reason or NULL */
	struct allow allows[MAX_ALLOWS];
	size_t nallows;
	struct sotto_doc *doc;		/* parsed lazily */
	bool parse_tried;
};

/* ---- report ----------------------------------------------------------- */

void
sotto_guard_report_release(struct sotto_guard_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->v[i].rev);
		free(r->v[i].path);
		free(r->v[i].msg);
		free(r->v[i].allowed_by);
		free(r->v[i].fix);
	}
	free(r->v);
	sotto_buf_release(&r->notes);
	memset(r, 0, sizeof(*r));
}

size_t
sotto_guard_report_active(const struct sotto_guard_report *r)
{
	return r->n - r->suppressed;
}

static bool
is_file_rule(const char *rule)
{
	return strcmp(rule, SOTTO_GUARD_RULE_KEY) != 0;
}

/* Is there a `sotto:allow RULE` that covers a finding of rule at line? */
static bool
allowed_inline(const struct file *f, const char *rule, size_t line,
    size_t *at)
{
	size_t i, k, rl = strlen(rule);
	const char *s;

	for (i = 0; i < f->nallows; i++) {
		if (!is_file_rule(rule) && f->allows[i].line != line &&
		    f->allows[i].line + 1 != line)
			continue;
		s = f->allows[i].ids;
		for (k = 0; k + rl <= f->allows[i].len; k++) {
			if (memcmp(s + k, rule, rl) == 0 &&
			    (k == 0 || s[k - 1] == ' ' || s[k - 1] == ',') &&
			    (k + rl == f->allows[i].len || s[k + rl] == ' ' ||
			    s[k + rl] == ',')) {
				*at = f->allows[i].line;
				return true;
			}
		}
	}
	return false;
}

static sotto_err
add_finding(struct file *f, const char *rule, size_t line, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static sotto_err
add_finding(struct file *f, const char *rule, size_t line, const char *fmt,
    ...)
{
	struct sotto_guard_report *r = f->r;
	struct sotto_guard_finding *x;
	struct sotto_buf b = SOTTO_BUF_INIT;
	size_t at = 0;
	va_list ap;
	char msg[512];

	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;

		x = realloc(r->v, nc * sizeof(*x));
		if (x == NULL)
			return SOTTO_E_NOMEM;
		r->v = x;
		r->cap = nc;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x = &r->v[r->n];
	memset(x, 0, sizeof(*x));
	x->rule = rule;
	x->line = line ? line : 1;
	if (f->ignored != NULL) {
		if (sotto_buf_addstr(&b, f->ignored))
			return SOTTO_E_NOMEM;
	} else if (allowed_inline(f, rule, x->line, &at)) {
		if (sotto_buf_addf(&b, "sotto:allow at line %zu", at))
			return SOTTO_E_NOMEM;
	}
	if (b.len > 0)
		x->allowed_by = (char *)sotto_buf_detach(&b, NULL);
	x->msg = strdup(msg);
	x->path = strdup(f->path);
	x->rev = f->rev ? strdup(f->rev) : NULL;
	if (x->msg == NULL || x->path == NULL || (f->rev && x->rev == NULL)) {
		free(x->msg);
		free(x->path);
		free(x->rev);
		free(x->allowed_by);
		return SOTTO_E_NOMEM;
	}
	if (x->allowed_by != NULL)
		r->suppressed++;
	r->n++;
	return SOTTO_OK;
}

/* ---- helpers ---------------------------------------------------------- */

static size_t
line_at(const uint8_t *p, size_t off)
{
	size_t line = 1;
	const uint8_t *q = p, *end = p + off;

	while (q < end && (q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
		line++;
		q++;
	}
	return line;
}

static void
find_allows(struct file *f)
{
	static const char tag[] = "sotto:allow";
	const uint8_t *q = f->p, *end = f->p + f->n;
	size_t tl = sizeof(tag) - 1, k;

	while (f->nallows < MAX_ALLOWS && q < end &&
	    (q = memmem(q, (size_t)(end - q), tag, tl)) != NULL) {
		const uint8_t *s = q + tl;

		while (s < end && (*s == ' ' || *s == ':' || *s == '\t'))
			s++;
		k = 0;
		while (s + k < end && (s[k] == '-' || s[k] == ',' ||
		    s[k] == ' ' || (s[k] >= 'a' && s[k] <= 'z') ||
		    (s[k] >= '0' && s[k] <= '9')))
			k++;
		f->allows[f->nallows].line = line_at(f->p, (size_t)(q - f->p));
		f->allows[f->nallows].ids = (const char *)s;
		f->allows[f->nallows].len = k;
		f->nallows++;
		q += tl;
	}
}

static bool
has(const struct file *f, const char *s)
{
	return memmem(f->p, f->n, s, strlen(s)) != NULL;
}

static const char *
ext_of(const char *path)
{
	const char *b = strrchr(path, '/'), *d;

	b = b ? b + 1 : path;
	d = strrchr(b, '.');
	return d ? d + 1 : "";
}

static bool
yamlish(const char *path)
{
	const char *x = ext_of(path);

	return strcmp(x, "yaml") == 0 || strcmp(x, "yml") == 0 ||
	    strcmp(x, "json") == 0;
}

static struct sotto_doc *
parse_file(struct file *f)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_error e = { SOTTO_OK, "" };
	const struct sotto_store *s;

	if (f->parse_tried)
		return f->doc;
	f->parse_tried = true;
	s = sotto_store_for_path(f->path);
	if (s->parse(&f->doc, f->p, f->n, f->path, &lim, &e) != SOTTO_OK)
		f->doc = NULL;
	else
		f->doc->secret = true;	/* may hold plaintext secrets */
	return f->doc;
}

/* ---- rule private-key ---------------------------------------------------- */

static bool
bech32_upper(int c)
{
	return c != '\0' && strchr("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", c) != NULL;
}

static bool
b64ch(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static sotto_err
scan_age(struct file *f)
{
	static const char tag[] = "AGE-SECRET-KEY-";
	const uint8_t *q = f->p, *end = f->p + f->n, *s;
	size_t tl = sizeof(tag) - 1, k;

	while (q < end && (q = memmem(q, (size_t)(end - q), tag, tl)) != NULL) {
		s = q + tl;
		if (end - s >= 3 && memcmp(s, "PQ-", 3) == 0)
			s += 3;
		if (s < end && *s == '1') {
			for (k = 1; s + k < end && bech32_upper(s[k]); k++)
				;
			/* an X25519 key has 58 data characters; PQ more */
			if (k - 1 >= 58)
				return add_finding(f, SOTTO_GUARD_RULE_KEY,
				    line_at(f->p, (size_t)(q - f->p)),
				    "age secret key (AGE-SECRET-KEY-%s1...)",
				    s - q > (long)tl ? "PQ-" : "");
		}
		q += tl;
	}
	return SOTTO_OK;
}

/* PEM/OpenSSH/PGP armour labels that hold private keys. */
static const char *const pem_labels[] = {
	"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY",
	"DSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY",
	"PGP PRIVATE KEY BLOCK", NULL,
};

/*
 * A BEGIN line counts only when key material follows: before the END line,
 * within 4 KiB, a line made only of base64 (at least 40 characters; the
 * indentation, quotes and commas around it are ignored).  PEM and armour
 * headers may come between, and lines may be JSON "\n" escapes.  Prose
 * that names the header, or an elided example ("MIIE..."), does not count.
 */
static bool
body_line(const uint8_t *s, size_t n)
{
	size_t i, run = 0;

	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '"' || *s == '\''))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r' || s[n - 1] == '"' || s[n - 1] == '\'' ||
	    s[n - 1] == ','))
		n--;
	for (i = 0; i < n; i++) {
		if (b64ch(s[i]))
			run++;
		else if (s[i] != '=' || i + 2 < n)
			return false;
	}
	return run >= 40;
}

static bool
body_follows(const uint8_t *s, const uint8_t *end)
{
	size_t lim = (size_t)(end - s) < 4096 ? (size_t)(end - s) : 4096;
	size_t i, start = 0;

	for (i = 0; i <= lim; i++) {
		bool brk = i == lim || s[i] == '\n' || (s[i] == '\\' &&
		    i + 1 < lim && (s[i + 1] == 'n' || s[i + 1] == 'r'));

		if (!brk)
			continue;
		if (i - start >= 9 && memmem(s + start, i - start,
		    "-----END ", 9) != NULL)
			return false;
		if (body_line(s + start, i - start))
			return true;
		if (i < lim && s[i] == '\\')
			i++;
		start = i + 1;
	}
	return false;
}

static sotto_err
scan_pem(struct file *f)
{
	static const char tag[] = "-----BEGIN ";
	const uint8_t *q = f->p, *end = f->p + f->n, *s, *close;
	size_t tl = sizeof(tag) - 1, i, ll;

	while (q < end && (q = memmem(q, (size_t)(end - q), tag, tl)) != NULL) {
		s = q + tl;
		close = memmem(s, (size_t)(end - s) < 64 ? (size_t)(end - s) :
		    64, "-----", 5);
		if (close != NULL) {
			ll = (size_t)(close - s);
			for (i = 0; pem_labels[i] != NULL; i++) {
				if (strlen(pem_labels[i]) != ll ||
				    memcmp(s, pem_labels[i], ll) != 0)
					continue;
				if (body_follows(close + 5, end))
					return add_finding(f,
					    SOTTO_GUARD_RULE_KEY,
					    line_at(f->p, (size_t)(q - f->p)),
					    "%.*s block", (int)ll, s);
			}
		}
		q += tl;
	}
	return SOTTO_OK;
}

/* ---- rule sops-plaintext -------------------------------------------------- */

struct sel {
	const char *unenc_suffix, *enc_suffix;
	struct sotto_regex *re;	/* the regex rule, or NULL */
	bool re_unenc;		/* regex names values to leave in clear */
	bool comment_re;	/* regex applies to comments */
};

struct walk {
	struct sel *sel;
	const char *path[MAX_DEPTH];
	size_t pathlen[MAX_DEPTH];
	size_t depth;
	const struct sotto_node *comments[MAX_DEPTH * 4];
	size_t ncomments;
	size_t clear;			/* values in clear that must not be */
	size_t first_line;
	char first_key[128];
	bool any_value;
};

/* 1: re matches s[0..n), 0: it does not, -1: it could not be matched. */
static int
rx(const struct sotto_regex *re, const char *s, size_t n)
{
	struct sotto_error e = { SOTTO_OK, "" };
	bool m;

	if (sotto_regex_match(&m, re, s, n, &e) != SOTTO_OK)
		return -1;
	return m ? 1 : 0;
}

static bool
suffix(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);

	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* As sops decides: must the leaf at the current path be encrypted? */
static bool
must_encrypt(const struct walk *w)
{
	const struct sel *s = w->sel;
	size_t i;
	int m;

	if (s->unenc_suffix != NULL) {
		for (i = 0; i < w->depth; i++)
			if (suffix(w->path[i], w->pathlen[i], s->unenc_suffix))
				return false;
		return true;
	}
	if (s->enc_suffix != NULL) {
		for (i = 0; i < w->depth; i++)
			if (suffix(w->path[i], w->pathlen[i], s->enc_suffix))
				return true;
		return false;
	}
	/* a regex that cannot be matched: ask for encryption (strict) */
	if (s->re != NULL && !s->comment_re) {
		for (i = 0; i < w->depth; i++)
			if ((m = rx(s->re, w->path[i], w->pathlen[i])) != 0)
				return m < 0 || !s->re_unenc;
		return s->re_unenc;
	}
	if (s->re != NULL) {
		for (i = 0; i < w->ncomments; i++)
			if ((m = rx(s->re, w->comments[i]->text,
			    w->comments[i]->len)) != 0)
				return m < 0 || !s->re_unenc;
		return s->re_unenc;
	}
	return true;
}

static void
visit_leaf(struct walk *w, const struct sotto_node *n)
{
	size_t i, k = 0;

	if (n->type == SOTTO_T_NULL || n->len == 0)
		return;
	w->any_value = true;
	if (sotto_sops_value_is_enc(n->text, n->len) || !must_encrypt(w))
		return;
	if (w->clear++ > 0)
		return;
	w->first_line = n->line;
	for (i = 0; i < w->depth && k + 2 < sizeof(w->first_key); i++) {
		int m = snprintf(w->first_key + k, sizeof(w->first_key) - k,
		    "%s%.*s", i ? "." : "", (int)(w->pathlen[i] > 40 ? 40 :
		    w->pathlen[i]), w->path[i]);

		if (m < 0)
			break;
		k += (size_t)m;
		if (k >= sizeof(w->first_key))
			k = sizeof(w->first_key) - 1;
	}
	w->first_key[k] = '\0';
}

static void
walk_node(struct walk *w, const struct sotto_node *n)
{
	size_t i, level = w->ncomments;
	const struct sotto_entry *it;

	if (n->kind == SOTTO_NODE_SCALAR) {
		visit_leaf(w, n);
		return;
	}
	if (n->kind == SOTTO_NODE_COMMENT)
		return;
	for (i = 0; i < n->n; i++) {
		it = &n->items[i];
		if (it->val->kind == SOTTO_NODE_COMMENT) {
			if (w->ncomments < sizeof(w->comments) /
			    sizeof(w->comments[0]))
				w->comments[w->ncomments++] = it->val;
			continue;
		}
		if (n->kind == SOTTO_NODE_MAP) {
			if (w->depth == MAX_DEPTH)
				return;
			w->path[w->depth] = it->key ? it->key : "";
			w->pathlen[w->depth] = it->key ? it->keylen : 0;
			w->depth++;
		}
		walk_node(w, it->val);
		if (n->kind == SOTTO_NODE_MAP)
			w->depth--;
		w->ncomments = level;
	}
	w->ncomments = level;
}

static const char *
meta_str(const struct sotto_node *m, const char *key)
{
	const struct sotto_node *v = sotto_tree_map_get(m, key);

	if (v == NULL || v->kind != SOTTO_NODE_SCALAR ||
	    v->type == SOTTO_T_NULL || v->len == 0)
		return NULL;
	return v->text;
}

static size_t
recipients(const struct sotto_node *m)
{
	static const char *const lists[] = { "age", "pgp", "kms", "gcp_kms",
	    "azure_kv", "hc_vault", "key_groups", "hckms", NULL };
	const struct sotto_node *v;
	size_t i, n = 0;

	for (i = 0; lists[i] != NULL; i++) {
		v = sotto_tree_map_get(m, lists[i]);
		if (v != NULL && (v->kind == SOTTO_NODE_SEQ ||
		    v->kind == SOTTO_NODE_MAP))
			n += v->n;
	}
	return n;
}

/* Fills sel from the creation rule's selection, else the metadata's. */
static sotto_err
sel_init(struct sel *s, const struct sotto_config_rule *rule,
    const struct sotto_node *meta, struct sotto_error *e)
{
	const char *us, *es, *ur, *er, *ucr, *ecr, *re;

	memset(s, 0, sizeof(*s));
	us = rule->unencrypted_suffix;
	es = rule->encrypted_suffix;
	ur = rule->unencrypted_regex;
	er = rule->encrypted_regex;
	ucr = rule->unencrypted_comment_regex;
	ecr = rule->encrypted_comment_regex;
	if (!us && !es && !ur && !er && !ucr && !ecr && meta != NULL) {
		us = meta_str(meta, "unencrypted_suffix");
		es = meta_str(meta, "encrypted_suffix");
		ur = meta_str(meta, "unencrypted_regex");
		er = meta_str(meta, "encrypted_regex");
		ucr = meta_str(meta, "unencrypted_comment_regex");
		ecr = meta_str(meta, "encrypted_comment_regex");
	}
	if (!us && !es && !ur && !er && !ucr && !ecr)
		us = "_unencrypted";
	s->unenc_suffix = us;
	s->enc_suffix = us ? NULL : es;
	if (us || es)
		return SOTTO_OK;
	re = ur ? ur : er ? er : ucr ? ucr : ecr;
	s->re_unenc = ur != NULL || (!er && ucr != NULL);
	s->comment_re = !ur && !er;
	return sotto_regex_compile(&s->re, re, e);
}

static sotto_err
check_sops(struct file *f, const struct sotto_config_rule *rule,
    const char *cfgpath)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_doc *d = parse_file(f);
	const struct sotto_node *meta;
	const char *mac;
	struct sotto_sops_enc enc;
	struct sel sel;
	struct walk *w;
	size_t i;
	sotto_err err = SOTTO_OK;

	if (d == NULL)
		return add_finding(f, SOTTO_GUARD_RULE_SOPS, 1, "not a sops "
		    "file (cannot be parsed as %s), but %s creation_rules[%zu] "
		    "requires encryption", sotto_store_for_path(f->path)->name,
		    cfgpath, rule->index);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return SOTTO_E_NOMEM;
	for (i = 0; i < d->n; i++) {
		meta = d->meta && d->meta[i] ? d->meta[i] :
		    d->meta ? d->meta[0] : NULL;
		if (sel_init(&sel, rule, meta, &e) != SOTTO_OK) {
			err = add_finding(f, SOTTO_GUARD_RULE_SOPS, 1,
			    "cannot check: %s", e.msg);
			goto out;
		}
		memset(w, 0, sizeof(*w));
		w->sel = &sel;
		walk_node(w, d->branches[i]);
		sotto_regex_free(sel.re);
		sel.re = NULL;
		if (meta == NULL || meta->kind != SOTTO_NODE_MAP) {
			if (!w->any_value)
				continue;	/* nothing to protect */
			err = add_finding(f, SOTTO_GUARD_RULE_SOPS,
			    w->clear ? w->first_line : 1, "not encrypted: %s "
			    "creation_rules[%zu] requires sops encryption, "
			    "and the file has no sops metadata", cfgpath,
			    rule->index);
			goto out;
		}
		if (w->clear > 0) {
			err = add_finding(f, SOTTO_GUARD_RULE_SOPS,
			    w->first_line, "%zu value%s in clear that %s "
			    "creation_rules[%zu] requires encrypted (first: "
			    "'%s')", w->clear, w->clear > 1 ? "s" : "",
			    cfgpath, rule->index, w->first_key);
			goto out;
		}
		mac = meta_str(meta, "mac");
		if (mac == NULL || sotto_sops_value_parse(&enc, mac,
		    strlen(mac), &e) != SOTTO_OK) {
			if (mac != NULL)
				sotto_sops_value_release(&enc);
			err = add_finding(f, SOTTO_GUARD_RULE_SOPS, 1,
			    "malformed sops file: %s", mac ? "the MAC is not "
			    "an ENC[AES256_GCM,...] value" : "no MAC");
			goto out;
		}
		sotto_sops_value_release(&enc);
		if (recipients(meta) == 0) {
			err = add_finding(f, SOTTO_GUARD_RULE_SOPS, 1,
			    "malformed sops file: the metadata lists no "
			    "recipient");
			goto out;
		}
	}
out:
	free(w);
	return err;
}

/* ---- rule k8s-secret -------------------------------------------------- */

static bool
all_enc(const struct sotto_node *n, size_t *first_line)
{
	size_t i;

	if (n->kind == SOTTO_NODE_SCALAR) {
		if (n->type == SOTTO_T_NULL || n->len == 0 ||
		    sotto_sops_value_is_enc(n->text, n->len))
			return true;
		*first_line = n->line;
		return false;
	}
	if (n->kind == SOTTO_NODE_COMMENT)
		return true;
	for (i = 0; i < n->n; i++)
		if (!all_enc(n->items[i].val, first_line))
			return false;
	return true;
}

static bool
has_values(const struct sotto_node *n)
{
	size_t i;

	if (n == NULL)
		return false;
	if (n->kind == SOTTO_NODE_SCALAR)
		return n->type != SOTTO_T_NULL && n->len > 0;
	if (n->kind == SOTTO_NODE_COMMENT)
		return false;
	for (i = 0; i < n->n; i++)
		if (has_values(n->items[i].val))
			return true;
	return false;
}

static const struct cfg_entry *config_for(const struct sotto_guard_ctx *c,
    const char *path);

/* s as an RE2 literal ('.' -> "\\.") in YAML single quotes. */
static sotto_err
add_regex_literal(struct sotto_buf *b, const char *s)
{
	sotto_err err = sotto_buf_addstr(b, "'^");

	for (; err == SOTTO_OK && *s != '\0'; s++) {
		if (strchr("\\.+*?()|[]{}^$", *s) != NULL)
			err = sotto_buf_addch(b, '\\');
		if (err == SOTTO_OK)
			err = *s == '\'' ? sotto_buf_addstr(b, "''") :
			    sotto_buf_addch(b, *s);
	}
	return err ? err : sotto_buf_addstr(b, "$'");
}

/*
 * The fix for a Secret outside every creation rule: `sotto encrypt -i`
 * alone fails there (no rule gives recipients), so the rule to add to the
 * nearest .sops.yaml (path relative to it, the recipients of its first
 * rule that has some) and the command that then works.
 */
static char *
k8s_fix(const struct file *f)
{
	const struct cfg_entry *ce = config_for(f->c, f->path);
	const struct sotto_config_rule *r;
	struct sotto_buf b = SOTTO_BUF_INIT, rcp = SOTTO_BUF_INIT;
	const char *rel = f->path, *cfg = ".sops.yaml";
	size_t i, g, k;
	sotto_err err = SOTTO_OK;

	if (ce != NULL) {
		if (ce->dir[0] != '\0')
			rel = f->path + strlen(ce->dir) + 1;
		if (strlen(ce->cfg->path) > strlen(f->c->root))
			cfg = ce->cfg->path + strlen(f->c->root) + 1;
		for (i = 0; i < ce->cfg->nrules && rcp.len == 0; i++) {
			r = &ce->cfg->rules[i];
			for (g = 0; g < r->ngroups && !err; g++)
				for (k = 0; k < r->groups[g].nage && !err; k++)
					err = sotto_buf_addf(&rcp, "%s%s",
					    rcp.len ? "," : "",
					    r->groups[g].age[k]);
		}
	}
	if (!err)
		err = sotto_buf_addf(&b, "add a creation rule for it to %s, "
		    "e.g.\n           - path_regex: ", cfg);
	if (!err)
		err = add_regex_literal(&b, rel);
	if (!err)
		err = sotto_buf_addf(&b, "\n             encrypted_regex: "
		    "'^(data|stringData)$'\n             age: %s\n"
		    "         then: sotto encrypt -i '%s' && git add '%s'",
		    rcp.len ? (const char *)rcp.data : "AGE_RECIPIENT "
		    "# your public key: sotto age-keygen -y KEYFILE",
		    f->path, f->path);
	sotto_buf_release(&rcp);
	if (err) {
		sotto_buf_release(&b);
		return NULL;
	}
	return (char *)sotto_buf_detach(&b, NULL);
}

static sotto_err
check_k8s(struct file *f)
{
	struct sotto_doc *d;
	const struct sotto_node *b, *kind, *md, *name, *meta;
	const char *fields[] = { "data", "stringData" };
	size_t i, k, line;
	sotto_err err;

	if (!yamlish(f->path) || !has(f, "Secret") || !has(f, "kind"))
		return SOTTO_OK;
	if ((d = parse_file(f)) == NULL)
		return SOTTO_OK;
	for (i = 0; i < d->n; i++) {
		b = d->branches[i];
		kind = sotto_tree_map_get(b, "kind");
		if (kind == NULL || kind->kind != SOTTO_NODE_SCALAR ||
		    strcmp(kind->text, "Secret") != 0)
			continue;
		meta = d->meta && d->meta[i] ? d->meta[i] :
		    d->meta ? d->meta[0] : NULL;
		for (k = 0; k < 2; k++) {
			const struct sotto_node *v =
			    sotto_tree_map_get(b, fields[k]);

			if (!has_values(v))
				continue;
			line = kind->line;
			if (all_enc(v, &line) && meta != NULL)
				continue;
			md = sotto_tree_map_get(b, "metadata");
			name = md ? sotto_tree_map_get(md, "name") : NULL;
			err = add_finding(f, SOTTO_GUARD_RULE_K8S, line,
			    "Kubernetes Secret '%.80s' has %s in clear: "
			    "encrypt it with sops", name && name->kind ==
			    SOTTO_NODE_SCALAR ? name->text : "?", fields[k]);
			if (err)
				return err;
			/* no creation rule covers it (else check_sops) */
			if (meta == NULL)
				f->r->v[f->r->n - 1].fix = k8s_fix(f);
			break;
		}
	}
	return SOTTO_OK;
}

/* ---- creation rules ----------------------------------------------------- */

/* The nearest .sops.yaml above path, or NULL. */
static const struct cfg_entry *
config_for(const struct sotto_guard_ctx *c, const char *path)
{
	const struct cfg_entry *best = NULL;
	size_t i, l;

	for (i = 0; i < c->ncfgs; i++) {
		l = strlen(c->cfgs[i].dir);
		if (l > 0 && (strncmp(path, c->cfgs[i].dir, l) != 0 ||
		    path[l] != '/'))
			continue;
		if (best == NULL || l > strlen(best->dir))
			best = &c->cfgs[i];
	}
	return best;
}

/* The creation rule selected for path (NULL: none). */
static const struct sotto_config_rule *
rule_for(const struct sotto_guard_ctx *c, const char *path,
    const char **cfgname)
{
	const struct cfg_entry *ce = config_for(c, path);
	struct sotto_config_explain ex[64], *exv = ex;
	struct sotto_error e = { SOTTO_OK, "" };
	const struct sotto_config_rule *r = NULL;
	struct sotto_buf abs = SOTTO_BUF_INIT;
	size_t i;

	if (ce == NULL || !ce->cfg->has_creation_rules ||
	    ce->cfg->nrules == 0)
		return NULL;
	if (ce->cfg->nrules > 64 &&
	    (exv = calloc(ce->cfg->nrules, sizeof(*exv))) == NULL)
		return NULL;
	if (sotto_buf_addf(&abs, "%s/%s", c->root, path) == SOTTO_OK) {
		(void)sotto_config_explain(exv, NULL, ce->cfg,
		    (const char *)abs.data, &e);
		for (i = 0; i < ce->cfg->nrules; i++)
			if (exv[i].verdict == SOTTO_CONFIG_SELECTED)
				r = &ce->cfg->rules[exv[i].rule];
	}
	sotto_buf_release(&abs);
	if (exv != ex)
		free(exv);
	if (cfgname != NULL)
		*cfgname = ce->cfg->path + strlen(c->root) + 1;
	return r;
}

/* ---- rule decrypted-copy ------------------------------------------------- */

static bool
same_tree(const struct sotto_node *a, const struct sotto_node *b)
{
	size_t i = 0, j = 0;

	if (a->kind != b->kind)
		return false;
	if (a->kind == SOTTO_NODE_SCALAR)
		return a->len == b->len && memcmp(a->text, b->text, a->len)
		    == 0;
	for (;;) {
		while (i < a->n && a->items[i].val->kind == SOTTO_NODE_COMMENT)
			i++;
		while (j < b->n && b->items[j].val->kind == SOTTO_NODE_COMMENT)
			j++;
		if (i == a->n || j == b->n)
			return i == a->n && j == b->n;
		if ((a->items[i].key == NULL) != (b->items[j].key == NULL) ||
		    (a->items[i].key != NULL && (a->items[i].keylen !=
		    b->items[j].keylen || memcmp(a->items[i].key,
		    b->items[j].key, a->items[i].keylen) != 0)))
			return false;
		if (!same_tree(a->items[i].val, b->items[j].val))
			return false;
		i++;
		j++;
	}
}

static size_t
lower_bound(const struct sotto_guard_snapshot *s, const char *key)
{
	size_t lo = 0, hi = s->npaths, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(s->paths[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static sotto_err
compare_sibling(struct file *f, const char *sib, bool *done)
{
	struct sotto_guard_ctx *c = f->c;
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_sops_decrypt_opts o;
	struct sotto_doc *sd = NULL, *d;
	size_t i;
	bool same;
	sotto_err err = SOTTO_OK;

	sotto_buf_truncate(&c->scratch, 0);
	if (c->snap->get(c->snap->arg, sib, &c->scratch, &e) != SOTTO_OK)
		return SOTTO_OK;
	if (sotto_store_for_path(sib)->parse(&sd, c->scratch.data,
	    c->scratch.len, sib, &lim, &e) != SOTTO_OK)
		return SOTTO_OK;
	sd->secret = true;
	if (!sotto_sops_is_encrypted(sd))
		goto out;
	if ((d = parse_file(f)) == NULL || sotto_sops_is_encrypted(d) ||
	    (d->meta && d->meta[0]))
		goto out;
	if (!c->ids_tried) {
		c->ids_tried = true;
		if (c->ids != NULL && c->ids->load(c->ids->arg, &c->idl, &e))
			c->idl.n = 0;
	}
	if (c->idl.n == 0) {
		f->r->copy_skipped = true;
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.ids = c->idl.v;
	o.nids = c->idl.n;
	if (sotto_sops_decrypt(sd, &o, &e) != SOTTO_OK) {
		sotto_buf_addf(&f->r->notes, "rule %s: cannot decrypt '%s' "
		    "to compare with '%s': %s\n", SOTTO_GUARD_RULE_COPY, sib,
		    f->path, sotto_strerror(e.code));
		goto out;
	}
	same = sd->n == d->n;
	for (i = 0; same && i < d->n; i++)
		same = same_tree(d->branches[i], sd->branches[i]);
	if (same) {
		*done = true;
		err = add_finding(f, SOTTO_GUARD_RULE_COPY, 1, "decrypted copy "
		    "of the encrypted '%s' (same content, in clear)", sib);
	}
out:
	sotto_tree_doc_free(sd);
	sotto_buf_truncate(&c->scratch, 0);
	return err;
}

static sotto_err
check_copy(struct file *f)
{
	struct sotto_guard_ctx *c = f->c;
	const struct sotto_guard_snapshot *s = c->snap;
	const char *slash = strrchr(f->path, '/'), *base, *dot, *q;
	struct sotto_buf prefix = SOTTO_BUF_INIT;
	size_t i, pl;
	bool done = false;
	sotto_err err = SOTTO_OK;

	if (s == NULL || s->npaths == 0 || f->n == 0)
		return SOTTO_OK;
	if (strcmp(sotto_store_for_path(f->path)->name, "binary") == 0)
		return SOTTO_OK;
	base = slash ? slash + 1 : f->path;
	dot = strchr(base, '.');
	if (dot == NULL || dot == base)
		return SOTTO_OK;
	if (sotto_buf_add(&prefix, f->path, (size_t)(dot - f->path)))
		return SOTTO_E_NOMEM;
	pl = prefix.len;
	for (i = lower_bound(s, (const char *)prefix.data);
	    i < s->npaths && !done && err == SOTTO_OK; i++) {
		q = s->paths[i];
		if (strncmp(q, (const char *)prefix.data, pl) != 0)
			break;
		if (q[pl] != '.' || strchr(q + pl, '/') != NULL ||
		    strcmp(q, f->path) == 0)
			continue;
		if (rule_for(c, q, NULL) == NULL)
			continue;
		err = compare_sibling(f, q, &done);
	}
	sotto_buf_release(&prefix);
	return err;
}

/* ---- the ctx ---------------------------------------------------------- */

static sotto_err
add_config(struct sotto_guard_ctx *c, const char *path, struct sotto_error *e)
{
	struct sotto_buf b = SOTTO_BUF_INIT, abs = SOTTO_BUF_INIT;
	struct cfg_entry *ce;
	const char *slash;
	sotto_err err;

	if ((err = c->snap->get(c->snap->arg, path, &b, e)) != SOTTO_OK)
		goto out;
	ce = realloc(c->cfgs, (c->ncfgs + 1) * sizeof(*ce));
	if (ce == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	c->cfgs = ce;
	ce = &c->cfgs[c->ncfgs];
	memset(ce, 0, sizeof(*ce));
	slash = strrchr(path, '/');
	ce->dir = strndup(path, slash ? (size_t)(slash - path) : 0);
	if (ce->dir == NULL || sotto_buf_addf(&abs, "%s/%s", c->root, path)) {
		free(ce->dir);
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	err = sotto_config_parse(&ce->cfg, b.data, b.len,
	    (const char *)abs.data, e);
	if (err != SOTTO_OK) {
		free(ce->dir);
		goto out;
	}
	c->ncfgs++;
out:
	sotto_buf_release(&b);
	sotto_buf_release(&abs);
	return err;
}

sotto_err
sotto_guard_ctx_new(struct sotto_guard_ctx **out, const char *root,
    const struct sotto_guard_snapshot *snap,
    const struct sotto_guard_ids *ids, struct sotto_error *e)
{
	struct sotto_guard_ctx *c;
	struct sotto_buf b = SOTTO_BUF_INIT;
	const char *p, *base;
	size_t i;
	sotto_err err = SOTTO_OK;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->root = strdup(root)) == NULL) {
		free(c);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	c->snap = snap;
	c->ids = ids;
	for (i = 0; snap != NULL && i < snap->npaths; i++) {
		p = snap->paths[i];
		base = strrchr(p, '/');
		base = base ? base + 1 : p;
		if (strcmp(base, ".sops.yaml") == 0) {
			if ((err = add_config(c, p, e)) != SOTTO_OK)
				goto fail;
		} else if (strcmp(p, ".sottoignore") == 0) {
			sotto_buf_truncate(&b, 0);
			if ((err = snap->get(snap->arg, p, &b, e)) != SOTTO_OK ||
			    (err = sotto_guard_ignore_parse(&c->ignore,
			    ".sottoignore", b.data, b.len, e)) != SOTTO_OK)
				goto fail;
		}
	}
	sotto_buf_release(&b);
	*out = c;
	return SOTTO_OK;
fail:
	sotto_buf_release(&b);
	sotto_guard_ctx_free(c);
	return err;
}

void
sotto_guard_ctx_free(struct sotto_guard_ctx *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ncfgs; i++) {
		free(c->cfgs[i].dir);
		sotto_config_free(c->cfgs[i].cfg);
	}
	free(c->cfgs);
	sotto_guard_ignore_free(c->ignore);
	sotto_age_idlist_free(&c->idl);
	sotto_buf_release(&c->scratch);
	free(c->root);
	free(c);
}

sotto_err
sotto_guard_check(struct sotto_guard_report *r, struct sotto_guard_ctx *c,
    const char *rev, const char *path, const uint8_t *p, size_t n,
    struct sotto_error *e)
{
	struct file *f;
	const struct sotto_config_rule *rule;
	const char *cfgname = NULL, *base;
	sotto_err err;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	f->c = c;
	f->r = r;
	f->rev = rev;
	f->path = path;
	f->p = p;
	f->n = n;
	f->ignored = sotto_guard_ignore_match(c->ignore, path);
	r->files++;
	find_allows(f);
	if ((err = scan_age(f)) || (err = scan_pem(f)))
		goto out;
	/* a creation rule such as '\.yaml$' also matches .sops.yaml, the
	 * configuration itself, which is never encrypted */
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	rule = strcmp(base, ".sops.yaml") == 0 ? NULL : rule_for(c, path,
	    &cfgname);
	if (rule != NULL) {
		err = check_sops(f, rule, cfgname);
		goto out;
	}
	if ((err = check_k8s(f)) != SOTTO_OK)
		goto out;
	err = check_copy(f);
out:
	sotto_tree_doc_free(f->doc);
	free(f);
	if (err != SOTTO_OK)
		return sotto_error_set(e, err, "out of memory");
	return SOTTO_OK;
}
