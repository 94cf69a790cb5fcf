/* SPDX-License-Identifier: ISC */
/*
 * The sops document walk: which values are encrypted, the AAD of each
 * value, the MAC, the metadata block and the data key (spec
 * sops-format.md §1-4, §6).  Value crypto lives in value.c, Shamir in
 * shamir.c; stores own the bytes.
 */
#include "sotto/sops.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aead.h"
#include "sotto/config.h"
#include "sotto/gofmt.h"
#include "sotto/gpg.h"
#include "sotto/pgp.h"
#include "sotto/secret.h"
#include "sotto/shamir.h"
#include "sotto/sops_value.h"
#include "sotto/store.h"

#define MAX_DEPTH 512

/* ---- IV stash ---------------------------------------------------------- */

/*
 * Maps BLAKE2b(key = random session key, aad || 0 || type || 0 || plain)
 * to the IV a value was encrypted with.  Reusing an IV is safe here
 * because it is reused only for the identical (key, AAD, plaintext),
 * which reproduces the identical ciphertext and reveals nothing new.
 */
struct stash_ent {
	uint8_t h[16];		/* digest of (aad, type, plaintext) */
	uint8_t iv[32];		/* the IV used */
	bool used;
};

struct stash {
	uint8_t hkey[32];	/* random BLAKE2b key */
	struct stash_ent *v;	/* open-addressing table */
	size_t cap, n;
};

static void
stash_hash(const struct stash *st, uint8_t h[16], const char *aad,
    size_t aadlen, const char *type, const uint8_t *p, size_t n)
{
	crypto_generichash_state gs;
	static const uint8_t zero = 0;

	crypto_generichash_init(&gs, st->hkey, sizeof(st->hkey), 16);
	crypto_generichash_update(&gs, (const uint8_t *)aad, aadlen);
	crypto_generichash_update(&gs, &zero, 1);
	crypto_generichash_update(&gs, (const uint8_t *)type, strlen(type));
	crypto_generichash_update(&gs, &zero, 1);
	crypto_generichash_update(&gs, p, n);
	crypto_generichash_final(&gs, h, 16);
}

static struct stash_ent *
stash_slot(struct stash *st, const uint8_t h[16])
{
	size_t i;
	uint64_t x;

	memcpy(&x, h, sizeof(x));
	for (i = (size_t)x & (st->cap - 1);; i = (i + 1) & (st->cap - 1))
		if (!st->v[i].used || memcmp(st->v[i].h, h, 16) == 0)
			return &st->v[i];
}

static sotto_err
stash_put(struct stash *st, const uint8_t h[16], const uint8_t *iv,
    size_t ivlen)
{
	struct stash_ent *e, *old;
	size_t i, ocap;

	if (ivlen != 32)	/* only sops' own IV size is reused */
		return SOTTO_OK;
	if ((st->n + 1) * 2 > st->cap) {
		old = st->v;
		ocap = st->cap;
		st->cap = ocap ? ocap * 2 : 1024;
		st->v = calloc(st->cap, sizeof(*st->v));
		if (st->v == NULL) {
			st->v = old;
			st->cap = ocap;
			return SOTTO_E_NOMEM;
		}
		st->n = 0;
		for (i = 0; i < ocap; i++)
			if (old[i].used) {
				*stash_slot(st, old[i].h) = old[i];
				st->n++;
			}
		free(old);
	}
	e = stash_slot(st, h);
	if (!e->used)
		st->n++;
	e->used = true;
	memcpy(e->h, h, 16);
	memcpy(e->iv, iv, 32);
	return SOTTO_OK;
}

static const uint8_t *
stash_get(struct stash *st, const uint8_t h[16])
{
	struct stash_ent *e;

	if (st == NULL || st->cap == 0)
		return NULL;
	e = stash_slot(st, h);
	return e->used ? e->iv : NULL;
}

static void
stash_free(struct stash *st)
{
	if (st == NULL)
		return;
	sodium_memzero(st->hkey, sizeof(st->hkey));
	free(st->v);
	free(st);
}

/* ---- selection rules ------------------------------------------------- */

struct rules {
	const struct sotto_sops_rules *r;
	struct sotto_regex *re;	/* compiled regex rule, or NULL */
	const char *re_name;	/* which rule the regex is */
};

static sotto_err
rules_init(struct rules *ru, const struct sotto_sops_rules *r,
    struct sotto_error *e)
{
	const char *which[6];
	int n = 0;

	memset(ru, 0, sizeof(*ru));
	ru->r = r;
	if (r->unencrypted_suffix != NULL) which[n++] = "unencrypted_suffix";
	if (r->encrypted_suffix != NULL) which[n++] = "encrypted_suffix";
	if (r->unencrypted_regex != NULL) which[n++] = "unencrypted_regex";
	if (r->encrypted_regex != NULL) which[n++] = "encrypted_regex";
	if (r->unencrypted_comment_regex != NULL)
		which[n++] = "unencrypted_comment_regex";
	if (r->encrypted_comment_regex != NULL)
		which[n++] = "encrypted_comment_regex";
	if (n > 1)
		return sotto_error_set(e, SOTTO_E_CONFLICT,
		    "cannot use more than one of %s and %s", which[0],
		    which[1]);
	if (n == 1 && strstr(which[0], "regex") != NULL) {
		const char *src = r->unencrypted_regex ? r->unencrypted_regex :
		    r->encrypted_regex ? r->encrypted_regex :
		    r->unencrypted_comment_regex ?
		    r->unencrypted_comment_regex : r->encrypted_comment_regex;

		ru->re_name = which[0];
		if (sotto_regex_compile(&ru->re, src, e) != SOTTO_OK)
			return sotto_error_prefix(e, "%s", which[0]);
	}
	return SOTTO_OK;
}

static void
rules_free(struct rules *ru)
{
	sotto_regex_free(ru->re);
	ru->re = NULL;
}

static bool
ends_with(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);

	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/*
 * A comment in scope for the values after it.  Its text as the walk found
 * it (plaintext when encrypting, the file's text when decrypting, as in
 * sops' commentsStack): the walk rewrites the node itself.
 */
struct active {
	const struct sotto_node *node;
	char *text;
	size_t len;
};

struct walk {
	struct rules ru;
	const char *path[MAX_DEPTH];	/* keys from the root */
	size_t pathlen[MAX_DEPTH];
	size_t depth;
	struct active *comments;	/* active comments, all levels */
	size_t ncomments, capcomments;
	struct sotto_sops_mac mac;
	const uint8_t *key;		/* data key */
	struct sotto_aead_gcm *gcm;	/* AES-GCM bound to key */
	struct sotto_buf aad;
	struct sotto_buf plain;		/* one leaf's plaintext (secret),
					   reused from leaf to leaf */
	struct sotto_buf out;		/* one leaf's ENC string, reused */
	struct sotto_buf *warnings;
	bool encrypting;
	const char *name;		/* file name for messages */
	struct stash *stash;		/* IV stash, or NULL */
	const struct sotto_doc *doc;	/* the document walked */
	size_t nwarn;			/* warnings seen (listed or not) */
};

/* At most this many warnings are listed; the rest are counted. */
#define WARN_MAX 20

/* Adds a notice to w->warnings, the first WARN_MAX of them in full. */
static void __attribute__((format(printf, 2, 3)))
warn(struct walk *w, const char *fmt, ...)
{
	va_list ap;
	char line[1024];
	int k;

	if (w->warnings == NULL || ++w->nwarn > WARN_MAX)
		return;
	va_start(ap, fmt);
	k = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	if ((size_t)k >= sizeof(line))		/* cut: still one line */
		memcpy(line + sizeof(line) - 5, "...\n", 5);
	(void)sotto_buf_addstr(w->warnings, line);
}

/* *m = whether the regex rule matches s[0..n). */
static sotto_err
rx_match(bool *m, struct walk *w, const char *s, size_t n,
    struct sotto_error *e)
{
	if (sotto_regex_match(m, w->ru.re, s, n, e) != SOTTO_OK)
		return sotto_error_prefix(e, "'%s': %s", w->name,
		    w->ru.re_name);
	return SOTTO_OK;
}

/*
 * Decides whether the leaf self at the current path is (to be) encrypted,
 * as sops' shouldBeEncrypted: a comment being walked is the last active
 * comment; unencrypted_comment_regex sees it, encrypted_comment_regex
 * does not (a marker comment stays clear).
 */
static sotto_err
should_encrypt(bool *enc, struct walk *w, const struct sotto_node *self,
    struct sotto_error *e)
{
	const struct sotto_sops_rules *r = w->ru.r;
	bool m, unenc;
	size_t i, n;
	sotto_err err;

	*enc = true;
	if (r->unencrypted_suffix != NULL) {
		for (i = 0; i < w->depth; i++)
			if (ends_with(w->path[i], w->pathlen[i],
			    r->unencrypted_suffix))
				*enc = false;
		return SOTTO_OK;
	}
	if (r->encrypted_suffix != NULL) {
		*enc = false;
		for (i = 0; i < w->depth; i++)
			if (ends_with(w->path[i], w->pathlen[i],
			    r->encrypted_suffix))
				*enc = true;
		return SOTTO_OK;
	}
	if (w->ru.re == NULL)
		return SOTTO_OK;
	if (r->unencrypted_regex != NULL || r->encrypted_regex != NULL) {
		unenc = r->unencrypted_regex != NULL;
		*enc = unenc;
		for (i = 0; i < w->depth; i++) {
			if ((err = rx_match(&m, w, w->path[i], w->pathlen[i],
			    e)) != SOTTO_OK)
				return err;
			if (m) {
				*enc = !unenc;
				break;
			}
		}
		return SOTTO_OK;
	}
	unenc = r->unencrypted_comment_regex != NULL;
	*enc = unenc;
	n = w->ncomments;
	if (!unenc && self->kind == SOTTO_NODE_COMMENT && n > 0 &&
	    w->comments[n - 1].node == self)
		n--;
	for (i = 0; i < n; i++) {
		if ((err = rx_match(&m, w, w->comments[i].text,
		    w->comments[i].len, e)) != SOTTO_OK)
			return err;
		if (m) {
			*enc = !unenc;
			break;
		}
	}
	return SOTTO_OK;
}

static sotto_err
build_aad(struct walk *w)
{
	size_t i;

	sotto_buf_truncate(&w->aad, 0);
	for (i = 0; i < w->depth; i++)
		if (sotto_buf_add(&w->aad, w->path[i], w->pathlen[i]) ||
		    sotto_buf_addch(&w->aad, ':'))
			return SOTTO_E_NOMEM;
	if (w->depth == 0 && sotto_buf_addch(&w->aad, ':'))
		return SOTTO_E_NOMEM;
	return SOTTO_OK;
}

/* "a.b[].c" style path for messages (keys only, truncated). */
static const char *
path_str(struct walk *w, char *buf, size_t cap)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < w->depth && o + 4 < cap; i++) {
		size_t n = w->pathlen[i];

		if (n > cap - o - 4)
			n = cap - o - 4;
		if (i > 0)
			buf[o++] = '.';
		memcpy(buf + o, w->path[i], n);
		o += n;
		buf[o] = '\0';
	}
	if (o == 0 && cap > 7)
		memcpy(buf, "(root)", 7);
	return buf;
}

/* ---- canonical forms -------------------------------------------------- */

/*
 * Fast path for the common float spelling -?(0|[1-9][0-9]*)\.[0-9]+ with
 * at most 15 significant digits: such a decimal survives the trip through
 * a double (DBL_DIG), so Go's shortest 'f' form is the same digits with
 * the fraction's trailing zeros (and a bare '.') dropped, "-0.0" giving
 * "-0" as Go does.  Returns false when the spelling is anything else.
 */
static bool
float_fast(const char *s, size_t n, char *out, size_t cap)
{
	size_t i = 0, dot, end, sig = 0;
	bool lead = true;

	if (n >= cap || n == 0 || n > 40)	/* 40: far from subnormals */
		return false;
	if (s[0] == '-')
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9' ||
	    (s[i] == '0' && i + 1 < n && s[i + 1] != '.'))
		return false;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		if (!(lead && s[i] == '0')) {
			lead = false;
			sig++;
		}
	if (i >= n || s[i] != '.')
		return false;
	dot = i++;
	if (i >= n)
		return false;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		if (!(lead && s[i] == '0')) {
			lead = false;
			sig++;
		}
	if (i != n || sig > 15)
		return false;
	for (end = n; s[end - 1] == '0'; end--)
		;
	if (end == dot + 1)
		end = dot;
	memcpy(out, s, end);
	out[end] = '\0';
	return true;
}

/*
 * Computes sops' canonical serialisation of a scalar into out (for the
 * MAC), and whether the user's spelling is one Go parses back.
 */
static sotto_err
canonical(const struct sotto_node *n, char *out, size_t cap, bool *go_ok)
{
	int64_t iv;
	double fv;
	bool bv;

	*go_ok = true;
	switch (n->type) {
	case SOTTO_T_INT:
		if (sotto_gofmt_parse_int(n->text, n->len, &iv)) {
			sotto_gofmt_int(out, cap, iv);
			return SOTTO_OK;
		}
		*go_ok = false;
		if (n->canon == NULL)
			return SOTTO_E_PARSE;
		snprintf(out, cap, "%s", n->canon);
		return SOTTO_OK;
	case SOTTO_T_FLOAT:
		if (float_fast(n->text, n->len, out, cap))
			return SOTTO_OK;
		if (sotto_gofmt_parse_float(n->text, n->len, &fv)) {
			sotto_gofmt_float_f(out, cap, fv);
			return SOTTO_OK;
		}
		*go_ok = false;
		if (n->canon == NULL)
			return SOTTO_E_PARSE;
		snprintf(out, cap, "%s", n->canon);
		return SOTTO_OK;
	case SOTTO_T_BOOL:
		if (sotto_gofmt_parse_bool(n->text, n->len, &bv)) {
			snprintf(out, cap, "%s", bv ? "True" : "False");
			return SOTTO_OK;
		}
		*go_ok = false;
		if (n->canon == NULL)
			return SOTTO_E_PARSE;
		snprintf(out, cap, "%s", n->canon);
		return SOTTO_OK;
	case SOTTO_T_TIME:
		/* sops' form is Go's MarshalText (RFC 3339, nanoseconds),
		 * which the store puts in canon; no canon: text is it */
		if (n->canon == NULL) {
			if (n->len >= cap)
				return SOTTO_E_PARSE;
			memcpy(out, n->text, n->len);
			out[n->len] = '\0';
			return SOTTO_OK;
		}
		*go_ok = strlen(n->canon) == n->len &&
		    memcmp(n->canon, n->text, n->len) == 0;
		snprintf(out, cap, "%s", n->canon);
		return SOTTO_OK;
	default:
		return SOTTO_E_INTERNAL;
	}
}

static const char *
type_name(enum sotto_scalar_type t)
{
	switch (t) {
	case SOTTO_T_INT: return "int";
	case SOTTO_T_FLOAT: return "float";
	case SOTTO_T_BOOL: return "bool";
	case SOTTO_T_TIME: return "time";
	case SOTTO_T_BYTES: return "bytes";
	default: return "str";
	}
}

/* ---- encryption of one leaf ------------------------------------------ */

static sotto_err
enc_leaf(struct walk *w, struct sotto_node *n, struct sotto_error *e)
{
	struct sotto_buf *out = &w->out;
	char canon[400], pbuf[200];
	const char *bytes = n->text;
	size_t blen = n->len;
	bool go_ok = true, enc;
	sotto_err err;

	if (n->kind == SOTTO_NODE_SCALAR && n->type == SOTTO_T_NULL)
		return SOTTO_OK;
	if (n->len == 0)	/* empty values are never encrypted */
		return SOTTO_OK;
	if ((err = should_encrypt(&enc, w, n, e)) != SOTTO_OK)
		return err;
	if (n->kind == SOTTO_NODE_SCALAR && n->type != SOTTO_T_STR &&
	    n->type != SOTTO_T_BYTES) {
		if (canonical(n, canon, sizeof(canon), &go_ok) != SOTTO_OK)
			return sotto_error_set(e, SOTTO_E_ENCRYPT,
			    "'%s': value at '%s' has no canonical %s form",
			    w->name, path_str(w, pbuf, sizeof(pbuf)),
			    type_name(n->type));
		if (!go_ok) {
			bytes = canon;
			blen = strlen(canon);
			if (enc && w->warnings != NULL)
				warn(w, "'%s': the %s value at '%s' is "
				    "spelled in a way sops cannot read: it was "
				    "encrypted in sops' canonical form\n",
				    w->name, type_name(n->type),
				    path_str(w, pbuf, sizeof(pbuf)));
		}
		if (n->kind == SOTTO_NODE_SCALAR && (!w->ru.r->mac_only_encrypted
		    || enc))
			sotto_sops_mac_add(&w->mac, (const uint8_t *)canon,
			    strlen(canon));
	} else if (n->kind == SOTTO_NODE_SCALAR &&
	    (!w->ru.r->mac_only_encrypted || enc)) {
		sotto_sops_mac_add(&w->mac, (const uint8_t *)n->text, n->len);
	}
	if (!enc)
		return SOTTO_OK;
	if (w->warnings != NULL) {
		/* the store says when the bytes written will not come back */
		const char *note = n->kind == SOTTO_NODE_SCALAR ?
		    sotto_store_roundtrip_note(w->doc, n) : NULL;

		if (note != NULL)
			warn(w, "'%s': value at '%s' %s\n",
			    w->name, path_str(w, pbuf, sizeof(pbuf)), note);
		else if (n->flags & SOTTO_NODE_RESPELL)
			warn(w, "'%s': the %s at '%s' will "
			    "decrypt spelled differently (the same %s; the "
			    "ciphertext cannot keep how it was written)\n",
			    w->name, n->kind == SOTTO_NODE_COMMENT ? "comment" :
			    "value", path_str(w, pbuf, sizeof(pbuf)),
			    n->kind == SOTTO_NODE_COMMENT ? "text" : "value");
	}
	if (build_aad(w))
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	{
		const char *tn = n->kind == SOTTO_NODE_COMMENT ? "comment" :
		    type_name(n->type);
		const uint8_t *iv = NULL;
		uint8_t h[16];

		if (w->stash != NULL) {
			stash_hash(w->stash, h, (const char *)w->aad.data,
			    w->aad.len, tn, (const uint8_t *)bytes, blen);
			iv = stash_get(w->stash, h);
		}
		sotto_buf_truncate(out, 0);
		err = sotto_sops_value_encrypt_with(out,
		    (const uint8_t *)bytes, blen, tn, (const char *)w->aad.data,
		    w->aad.len, w->gcm, iv, e);
	}
	if (err == SOTTO_OK && n->kind == SOTTO_NODE_COMMENT &&
	    w->ru.r->unencrypted_comment_regex != NULL) {
		bool m;

		/*
		 * sops' rule: decryption matches the regex against the
		 * encrypted comment, so one it matches would be left
		 * encrypted and the MAC would not verify.
		 */
		if ((err = rx_match(&m, w, out->len ? (const char *)out->data :
		    "", out->len, e)) == SOTTO_OK && m)
			err = sotto_error_set(e, SOTTO_E_ENCRYPT, "'%s': the "
			    "encrypted comment at '%s' matches "
			    "UnencryptedCommentRegex '%.80s': make sure that "
			    "unencrypted_comment_regex cannot match an "
			    "encrypted comment (ENC[...])", w->name,
			    path_str(w, pbuf, sizeof(pbuf)),
			    w->ru.r->unencrypted_comment_regex);
	}
	if (err == SOTTO_OK) {
		enum sotto_scalar_type t = n->type;

		err = sotto_tree_set_text(n, n->kind == SOTTO_NODE_COMMENT ? t :
		    SOTTO_T_STR, out->len ? (const char *)out->data : "",
		    out->len);
		if (err != SOTTO_OK)
			sotto_error_set(e, err, "out of memory");
	}
	return err;
}

/* ---- decryption of one leaf ------------------------------------------ */

static sotto_err
set_plain(struct walk *w, struct sotto_node *n, const char *type,
    struct sotto_buf *plain, struct sotto_error *e)
{
	enum sotto_scalar_type t = SOTTO_T_STR;
	char canon[400], pbuf[200];
	bool go_ok;
	sotto_err err;

	if (strcmp(type, "int") == 0)
		t = SOTTO_T_INT;
	else if (strcmp(type, "float") == 0)
		t = SOTTO_T_FLOAT;
	else if (strcmp(type, "bool") == 0)
		t = SOTTO_T_BOOL;
	else if (strcmp(type, "time") == 0)
		t = SOTTO_T_TIME;
	else if (strcmp(type, "bytes") == 0)
		t = SOTTO_T_STR;
	if (n->kind == SOTTO_NODE_COMMENT)
		t = n->type;
	err = sotto_tree_set_text(n, t, plain->len ? (const char *)plain->data :
	    "", plain->len);
	if (err != SOTTO_OK)
		return sotto_error_set(e, err, "out of memory");
	if (n->kind == SOTTO_NODE_COMMENT)
		return SOTTO_OK;
	if (t == SOTTO_T_INT || t == SOTTO_T_FLOAT || t == SOTTO_T_BOOL) {
		if (canonical(n, canon, sizeof(canon), &go_ok) != SOTTO_OK ||
		    !go_ok)
			return sotto_error_set(e, SOTTO_E_DECRYPT,
			    "'%s': value at '%s' is not a valid %s", w->name,
			    path_str(w, pbuf, sizeof(pbuf)), type);
		if ((err = sotto_tree_set_canon(n, canon, strlen(canon))))
			return sotto_error_set(e, err, "out of memory");
		sotto_sops_mac_add(&w->mac, (const uint8_t *)canon,
		    strlen(canon));
	} else {
		sotto_sops_mac_add(&w->mac, (const uint8_t *)n->text, n->len);
	}
	return SOTTO_OK;
}

/* Comments: sops' placement can differ from ours, so try outer paths. */
static sotto_err
dec_comment(struct walk *w, struct sotto_node *n, struct sotto_buf *plain,
    char *type, struct sotto_error *e)
{
	size_t keep = w->depth, d;
	sotto_err err = SOTTO_E_DECRYPT;

	for (d = keep + 1; d-- > 0;) {
		w->depth = d;
		if (build_aad(w))
			break;
		sotto_buf_truncate(plain, 0);
		err = sotto_sops_value_decrypt_with(plain, type, n->text,
		    n->len, (const char *)w->aad.data, w->aad.len, w->gcm, e);
		if (err == SOTTO_OK || err != SOTTO_E_DECRYPT)
			break;
	}
	w->depth = keep;
	return err;
}

/* Remembers the IV of a value just decrypted (with w->aad current). */
static sotto_err
stash_record(struct walk *w, const struct sotto_node *n, const char *type,
    const struct sotto_buf *plain, struct sotto_error *e)
{
	struct sotto_sops_enc enc;
	uint8_t h[16];
	sotto_err err;

	memset(&enc, 0, sizeof(enc));
	if ((err = sotto_sops_value_parse(&enc, n->text, n->len, e)))
		return err;
	stash_hash(w->stash, h, (const char *)w->aad.data, w->aad.len, type,
	    plain->data ? plain->data : (const uint8_t *)"", plain->len);
	err = stash_put(w->stash, h, enc.iv.data, enc.iv.len);
	sotto_sops_value_release(&enc);
	if (err != SOTTO_OK)
		return sotto_error_set(e, err, "out of memory");
	return SOTTO_OK;
}

static sotto_err
dec_leaf(struct walk *w, struct sotto_node *n, struct sotto_error *e)
{
	struct sotto_buf *plain = &w->plain;
	char type[SOTTO_SOPS_TYPE_MAX], canon[400], pbuf[200];
	bool enc, go_ok;
	sotto_err err = SOTTO_OK;

	if (n->kind == SOTTO_NODE_SCALAR && n->type == SOTTO_T_NULL)
		return SOTTO_OK;
	if ((err = should_encrypt(&enc, w, n, e)) != SOTTO_OK)
		return err;
	if (!sotto_sops_value_is_enc(n->text, n->len)) {
		if (n->kind == SOTTO_NODE_COMMENT || n->len == 0 ||
		    (w->ru.r->mac_only_encrypted && !enc))
			return SOTTO_OK;
		if (n->type == SOTTO_T_INT || n->type == SOTTO_T_FLOAT ||
		    n->type == SOTTO_T_BOOL || n->type == SOTTO_T_TIME) {
			if (canonical(n, canon, sizeof(canon), &go_ok))
				return sotto_error_set(e, SOTTO_E_PARSE,
				    "'%s': value at '%s' has no canonical form",
				    w->name, path_str(w, pbuf, sizeof(pbuf)));
			sotto_sops_mac_add(&w->mac, (const uint8_t *)canon,
			    strlen(canon));
		} else {
			sotto_sops_mac_add(&w->mac, (const uint8_t *)n->text,
			    n->len);
		}
		return SOTTO_OK;
	}
	if (n->kind == SOTTO_NODE_COMMENT) {
		err = dec_comment(w, n, plain, type, e);
		if (err == SOTTO_E_DECRYPT) {
			if (w->warnings != NULL)
				warn(w, "'%s': a comment "
				    "under '%s' (line %zu) could not be "
				    "decrypted and was left as it is\n",
				    w->name, path_str(w, pbuf, sizeof(pbuf)),
				    n->line);
			err = SOTTO_OK;
		} else if (err == SOTTO_OK) {
			if (w->stash != NULL)
				err = stash_record(w, n, type, plain, e);
			if (err == SOTTO_OK)
				err = set_plain(w, n, type, plain, e);
		}
		goto out;
	}
	if (build_aad(w)) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	err = sotto_sops_value_decrypt_with(plain, type, n->text, n->len,
	    (const char *)w->aad.data, w->aad.len, w->gcm, e);
	if (err == SOTTO_OK && w->stash != NULL)
		err = stash_record(w, n, type, plain, e);
	if (err != SOTTO_OK) {
		sotto_error_prefix(e, "'%s': cannot decrypt the value at '%s'"
		    "%s", w->name, path_str(w, pbuf, sizeof(pbuf)),
		    err == SOTTO_E_DECRYPT ? " (wrong key path or tampered)" :
		    "");
		goto out;
	}
	err = set_plain(w, n, type, plain, e);
out:
	sotto_buf_truncate(plain, 0);	/* wipes what was there */
	return err;
}

/* ---- the walk ---------------------------------------------------------- */

typedef sotto_err (*leaf_fn)(struct walk *, struct sotto_node *,
    struct sotto_error *);

static sotto_err
push_comment(struct walk *w, const struct sotto_node *c)
{
	struct active *a;

	if (w->ncomments == w->capcomments) {
		size_t nc = w->capcomments ? w->capcomments * 2 : 16;

		if ((a = realloc(w->comments, nc * sizeof(*a))) == NULL)
			return SOTTO_E_NOMEM;
		w->comments = a;
		w->capcomments = nc;
	}
	a = &w->comments[w->ncomments];
	if ((a->text = malloc(c->len + 1)) == NULL)
		return SOTTO_E_NOMEM;
	memcpy(a->text, c->text, c->len);
	a->text[c->len] = '\0';
	a->len = c->len;
	a->node = c;
	w->ncomments++;
	return SOTTO_OK;
}

/* Drops the active comments past level_start. */
static void
pop_comments(struct walk *w, size_t level_start)
{
	struct active *a;

	while (w->ncomments > level_start) {
		a = &w->comments[--w->ncomments];
		sodium_memzero(a->text, a->len);	/* may be a secret */
		free(a->text);
	}
}

static sotto_err
walk_node(struct walk *w, struct sotto_node *n, leaf_fn fn,
    struct sotto_error *e)
{
	size_t i, level_start = w->ncomments;
	struct sotto_entry *it;
	sotto_err err = SOTTO_OK;

	if (n->kind == SOTTO_NODE_SCALAR || n->kind == SOTTO_NODE_COMMENT)
		return fn(w, n, e);
	for (i = 0; i < n->n; i++) {
		it = &n->items[i];
		if (it->val->kind == SOTTO_NODE_COMMENT) {
			/* in scope for itself too, with its text as found */
			if (push_comment(w, it->val)) {
				err = sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
				break;
			}
			if ((err = fn(w, it->val, e)) != SOTTO_OK)
				break;
			continue;
		}
		if (n->kind == SOTTO_NODE_MAP) {
			if (w->depth == MAX_DEPTH) {
				err = sotto_error_set(e, SOTTO_E_LIMIT,
				    "'%s': nesting deeper than %d levels",
				    w->name, MAX_DEPTH);
				break;
			}
			w->path[w->depth] = it->key ? it->key : "";
			w->pathlen[w->depth] = it->key ? it->keylen : 0;
			w->depth++;
		}
		err = walk_node(w, it->val, fn, e);
		if (n->kind == SOTTO_NODE_MAP)
			w->depth--;
		if (err != SOTTO_OK)
			break;
		pop_comments(w, level_start);	/* reset after a value */
	}
	pop_comments(w, level_start);
	return err;
}

static sotto_err
walk_doc(struct walk *w, struct sotto_doc *doc, leaf_fn fn,
    struct sotto_error *e)
{
	size_t i;
	sotto_err err;

	w->doc = doc;
	for (i = 0; i < doc->n; i++) {
		w->depth = 0;
		pop_comments(w, 0);
		if (w->encrypting && w->warnings != NULL) {
			const char *note = sotto_store_roundtrip_note(doc,
			    doc->branches[i]);
			char pbuf[16];

			if (note != NULL)
				warn(w, "'%s': value at "
				    "'%s' %s\n", w->name, path_str(w, pbuf,
				    sizeof(pbuf)), note);
		}
		if ((err = walk_node(w, doc->branches[i], fn, e)) != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

static void
walk_free(struct walk *w)
{
	if (w->warnings != NULL && w->nwarn > WARN_MAX)
		(void)sotto_buf_addf(w->warnings, "'%s': %zu more values "
		    "like these (only the first %d are listed)\n", w->name,
		    w->nwarn - WARN_MAX, WARN_MAX);
	w->nwarn = 0;
	sotto_aead_gcm_free(w->gcm);
	w->gcm = NULL;
	rules_free(&w->ru);
	pop_comments(w, 0);
	free(w->comments);
	sotto_buf_release(&w->aad);
	sotto_buf_release(&w->plain);
	sotto_buf_release(&w->out);
	sodium_memzero(&w->mac, sizeof(w->mac));
}

/* ---- metadata: reading ----------------------------------------------- */

static const char *
meta_str(const struct sotto_node *m, const char *key)
{
	const struct sotto_node *v = sotto_tree_map_get(m, key);

	if (v == NULL || v->kind != SOTTO_NODE_SCALAR ||
	    v->type == SOTTO_T_NULL)
		return NULL;
	return v->text;
}

bool
sotto_sops_is_encrypted(const struct sotto_doc *doc)
{
	const struct sotto_node *m;

	if (doc->n == 0 || doc->meta == NULL || doc->meta[0] == NULL)
		return false;
	m = doc->meta[0];
	return m->kind == SOTTO_NODE_MAP && meta_str(m, "mac") != NULL &&
	    meta_str(m, "version") != NULL;
}

static bool
meta_bool(const struct sotto_node *m, const char *key)
{
	const char *s = meta_str(m, key);
	bool v = false;

	return s != NULL && sotto_gofmt_parse_bool(s, strlen(s), &v) && v;
}

static void
meta_rules(struct sotto_sops_rules *r, const struct sotto_node *m)
{
	memset(r, 0, sizeof(*r));
	r->unencrypted_suffix = meta_str(m, "unencrypted_suffix");
	r->encrypted_suffix = meta_str(m, "encrypted_suffix");
	r->unencrypted_regex = meta_str(m, "unencrypted_regex");
	r->encrypted_regex = meta_str(m, "encrypted_regex");
	r->unencrypted_comment_regex = meta_str(m, "unencrypted_comment_regex");
	r->encrypted_comment_regex = meta_str(m, "encrypted_comment_regex");
	r->mac_only_encrypted = meta_bool(m, "mac_only_encrypted");
	if (!r->encrypted_suffix && !r->unencrypted_regex &&
	    !r->encrypted_regex && !r->unencrypted_comment_regex &&
	    !r->encrypted_comment_regex && !r->unencrypted_suffix)
		r->unencrypted_suffix = "_unencrypted";
}

/*
 * Tries the `pgp` entries of one group with the native OpenPGP keys;
 * SOTTO_OK with *out set when one gives a non-empty data key.
 */
static sotto_err
unwrap_pgp(struct sotto_secret **out, const struct sotto_node *pgp,
    const struct sotto_sops_decrypt_opts *o, struct sotto_buf *why)
{
	struct sotto_error e2;
	size_t i, pn;
	const char *enc, *fp;
	uint8_t *pt;
	sotto_err err;

	for (i = 0; pgp != NULL && pgp->kind == SOTTO_NODE_SEQ && i < pgp->n;
	    i++) {
		const struct sotto_node *ent = pgp->items[i].val;

		if (ent->kind != SOTTO_NODE_MAP ||
		    (enc = meta_str(ent, "enc")) == NULL)
			continue;
		fp = meta_str(ent, "fp");
		sotto_error_clear(&e2);
		err = sotto_pgp_decrypt(o->pgp, (const uint8_t *)enc,
		    strlen(enc), &pt, &pn, &e2);
		if (err == SOTTO_OK && pn > 0) {
			*out = sotto_secret_dup(pt, pn);
			sotto_pgp_plain_free(pt);
			return *out ? SOTTO_OK : SOTTO_E_NOMEM;
		}
		sotto_pgp_plain_free(pt);
		sotto_buf_addf(why, "%spgp key %.40s: %s", why->len ? "; " : "",
		    fp ? fp : "(none)", err == SOTTO_OK ? "empty data key" :
		    e2.msg);
	}
	return SOTTO_E_NO_KEY;
}

/*
 * Tries the `pgp` entries of one group, in order, with the user's GnuPG
 * (sops' order: after age); SOTTO_OK with *out set on the first success.
 */
static sotto_err
unwrap_gpg(struct sotto_secret **out, const struct sotto_node *pgp,
    struct sotto_buf *why)
{
	struct sotto_error e2;
	const char *enc, *fp;
	size_t i;

	for (i = 0; pgp != NULL && pgp->kind == SOTTO_NODE_SEQ && i < pgp->n;
	    i++) {
		const struct sotto_node *ent = pgp->items[i].val;

		if (ent->kind != SOTTO_NODE_MAP ||
		    (enc = meta_str(ent, "enc")) == NULL)
			continue;
		fp = meta_str(ent, "fp");
		sotto_error_clear(&e2);
		if (sotto_gpg_decrypt(out, enc, strlen(enc), &e2) == SOTTO_OK)
			return SOTTO_OK;
		if (e2.code == SOTTO_E_NOMEM)
			return SOTTO_E_NOMEM;
		sotto_buf_addf(why, "%spgp key %.40s: %s", why->len ? "; " : "",
		    fp ? fp : "(none)", e2.msg);
		if (e2.code == SOTTO_E_UNSUPPORTED)
			break;	/* no GPGME: the others fail alike */
	}
	return SOTTO_E_NO_KEY;
}

bool
sotto_sops_meta_has_pgp(const struct sotto_node *meta)
{
	const struct sotto_node *kg, *p;
	size_t i;

	if (meta == NULL || meta->kind != SOTTO_NODE_MAP)
		return false;
	p = sotto_tree_map_get(meta, "pgp");
	if (p != NULL && p->kind == SOTTO_NODE_SEQ && p->n > 0)
		return true;
	kg = sotto_tree_map_get(meta, "key_groups");
	for (i = 0; kg != NULL && kg->kind == SOTTO_NODE_SEQ && i < kg->n;
	    i++) {
		if (kg->items[i].val->kind != SOTTO_NODE_MAP)
			continue;
		p = sotto_tree_map_get(kg->items[i].val, "pgp");
		if (p != NULL && p->kind == SOTTO_NODE_SEQ && p->n > 0)
			return true;
	}
	return false;
}

/* A group's pgp entries: the native keys first, then GnuPG. */
static sotto_err
unwrap_pgp_all(struct sotto_secret **out, const struct sotto_node *group,
    const struct sotto_sops_decrypt_opts *o, bool use_pgp,
    struct sotto_buf *why)
{
	const struct sotto_node *pgp = sotto_tree_map_get(group, "pgp");

	if (use_pgp && unwrap_pgp(out, pgp, o, why) == SOTTO_OK)
		return SOTTO_OK;
	if (o->gpg && unwrap_gpg(out, pgp, why) == SOTTO_OK)
		return SOTTO_OK;
	return SOTTO_E_NO_KEY;
}

/* Tries the age (and pgp) entries of one group; returns the unwrapped bytes. */
static sotto_err
unwrap_group(struct sotto_secret **out, const struct sotto_node *group,
    const struct sotto_sops_decrypt_opts *o, size_t gi, bool many,
    struct sotto_buf *why)
{
	const struct sotto_node *age = sotto_tree_map_get(group, "age");
	struct sotto_buf plain = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e2;
	size_t i, others = 0;
	const char *enc, *rcp;
	bool use_pgp = o->pgp != NULL && sotto_pgp_keys_count(o->pgp) > 0;

	for (i = 0; i < group->n; i++) {
		const struct sotto_node *v = group->items[i].val;

		if (group->items[i].key != NULL &&
		    strcmp(group->items[i].key, "age") != 0 &&
		    ((!use_pgp && !o->gpg) ||
		    strcmp(group->items[i].key, "pgp") != 0) &&
		    v->kind == SOTTO_NODE_SEQ && v->n > 0)
			others += v->n;
	}
	if (o->pgp_first && unwrap_pgp_all(out, group, o, use_pgp, why) ==
	    SOTTO_OK) {
		sotto_buf_release(&plain);
		return SOTTO_OK;
	}
	for (i = 0; age != NULL && age->kind == SOTTO_NODE_SEQ && i < age->n;
	    i++) {
		const struct sotto_node *ent = age->items[i].val;

		if (ent->kind != SOTTO_NODE_MAP)
			continue;
		enc = meta_str(ent, "enc");
		rcp = meta_str(ent, "recipient");
		if (enc == NULL)
			continue;
		sotto_buf_truncate(&plain, 0);
		sotto_error_clear(&e2);
		if (sotto_age_decrypt_mem(&plain, (const uint8_t *)enc,
		    strlen(enc), o->ids, o->nids, &e2) == SOTTO_OK &&
		    plain.len > 0) {
			*out = sotto_secret_dup(plain.data, plain.len);
			sotto_buf_release(&plain);
			return *out ? SOTTO_OK : SOTTO_E_NOMEM;
		}
		sotto_buf_addf(why, "%s%sage recipient %.24s...: %s",
		    why->len ? "; " : "", many ? "" : "",
		    rcp ? rcp : "(none)", e2.msg);
	}
	if (!o->pgp_first && unwrap_pgp_all(out, group, o, use_pgp, why) ==
	    SOTTO_OK) {
		sotto_buf_release(&plain);
		return SOTTO_OK;
	}
	if (others > 0)
		sotto_buf_addf(why, "%s%zu key(s) of types sotto cannot use "
		    "(%skms/vault...)", why->len ? "; " : "", others,
		    use_pgp || o->gpg ? "" : "pgp/");
	if (many)
		sotto_buf_addf(why, " [group %zu]", gi);
	sotto_buf_release(&plain);
	return SOTTO_E_NO_KEY;
}

static sotto_err
data_key(struct sotto_secret **key, const struct sotto_node *m,
    const struct sotto_sops_decrypt_opts *o, const char *name,
    struct sotto_error *e)
{
	const struct sotto_node *kg = sotto_tree_map_get(m, "key_groups");
	struct sotto_secret **shares = NULL;
	struct sotto_buf why = SOTTO_BUF_INIT;
	size_t i, ng, got = 0;
	const char *ts;
	long thr;
	sotto_err err;

	*key = NULL;
	if (kg == NULL || kg->kind != SOTTO_NODE_SEQ || kg->n == 0) {
		err = unwrap_group(key, m, o, 0, false, &why);
		if (err == SOTTO_OK && (*key)->len != 32) {
			sotto_secret_free(*key);
			*key = NULL;
			err = sotto_error_set(e, SOTTO_E_NO_KEY, "'%s': data "
			    "key has the wrong length", name);
		} else if (err != SOTTO_OK) {
			err = sotto_error_set(e, SOTTO_E_NO_KEY, "'%s': failed "
			    "to get the data key: %s%s%s", name,
			    why.len ? (const char *)why.data :
			    "no age recipients in the file",
			    o->key_sources ? "; identities tried: " : "",
			    o->key_sources ? o->key_sources : "");
		}
		sotto_buf_release(&why);
		return err;
	}
	ng = kg->n;
	ts = meta_str(m, "shamir_threshold");
	thr = ts ? strtol(ts, NULL, 10) : (long)ng;
	if (thr < 1 || thr > 255)
		return sotto_error_set(e, SOTTO_E_SOPS_METADATA,
		    "'%s': invalid shamir_threshold", name);
	shares = calloc(ng, sizeof(*shares));
	if (shares == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	for (i = 0; i < ng; i++) {
		if (kg->items[i].val->kind != SOTTO_NODE_MAP)
			continue;
		if (unwrap_group(&shares[got], kg->items[i].val, o, i, true,
		    &why) == SOTTO_OK)
			got++;
	}
	if ((long)got < thr) {
		err = sotto_error_set(e, SOTTO_E_NO_KEY, "'%s': failed to get "
		    "the data key: %zu of %ld key groups needed could be "
		    "decrypted: %s", name, got, thr,
		    why.len ? (const char *)why.data : "no usable keys");
		goto out;
	}
	err = sotto_shamir_combine(key, shares, got, e);
	if (err == SOTTO_OK && (*key)->len != 32) {
		sotto_secret_free(*key);
		*key = NULL;
		err = sotto_error_set(e, SOTTO_E_NO_KEY, "'%s': recombined data "
		    "key has the wrong length", name);
	}
out:
	for (i = 0; i < ng; i++)
		sotto_secret_free(shares[i]);
	free(shares);
	sotto_buf_release(&why);
	return err;
}

struct sotto_sops_session {
	struct sotto_secret *key;	/* data key */
	struct sotto_node *meta;	/* metadata as read (a copy) */
	struct stash *stash;		/* IVs of the decrypted values */
};

void
sotto_sops_session_free(struct sotto_sops_session *s)
{
	if (s == NULL)
		return;
	sotto_secret_free(s->key);
	sotto_tree_node_free(s->meta, false);
	stash_free(s->stash);
	free(s);
}

const struct sotto_node *
sotto_sops_session_meta(const struct sotto_sops_session *s)
{
	return s->meta;
}

const uint8_t *
sotto_sops_session_key(const struct sotto_sops_session *s)
{
	return s->key->data;
}

static sotto_err
decrypt_impl(struct sotto_doc *doc, const struct sotto_sops_decrypt_opts *o,
    struct sotto_sops_session **sess, struct sotto_error *e)
{
	const struct sotto_node *m;
	struct sotto_sops_rules rules;
	struct sotto_secret *key = NULL;
	struct walk *w;
	char hex[SOTTO_SOPS_MAC_HEX];
	const char *mac, *lm, *name = doc->name ? doc->name : "-";
	sotto_err err;

	/* a block without `mac` still decrypts: sops then reports a MAC
	 * mismatch (51) unless --ignore-mac, as for current/no_mac.yaml */
	if (doc->n == 0 || doc->meta == NULL || doc->meta[0] == NULL ||
	    doc->meta[0]->kind != SOTTO_NODE_MAP)
		return sotto_error_set(e, SOTTO_E_NOT_ENCRYPTED,
		    "'%s': sops metadata not found", name);
	m = doc->meta[0];
	mac = meta_str(m, "mac");
	if (mac == NULL)
		mac = "";
	lm = meta_str(m, "lastmodified");
	if (lm == NULL)
		return sotto_error_set(e, SOTTO_E_SOPS_METADATA,
		    "'%s': sops metadata has no lastmodified", name);
	meta_rules(&rules, m);
	doc->secret = true;
	w = calloc(1, sizeof(*w));
	if (w != NULL)
		w->plain.secret = true;
	if (w == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	w->name = name;
	w->warnings = o->warnings;
	if (sess != NULL) {
		w->stash = calloc(1, sizeof(*w->stash));
		if (w->stash == NULL) {
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
			goto out;
		}
		randombytes_buf(w->stash->hkey, sizeof(w->stash->hkey));
	}
	if ((err = rules_init(&w->ru, &rules, e)) != SOTTO_OK)
		goto out;
	if ((err = data_key(&key, m, o, name, e)) != SOTTO_OK)
		goto out;
	w->key = key->data;
	if ((w->gcm = sotto_aead_gcm_new(w->key)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "AES-GCM setup failed");
		goto out;
	}
	sotto_sops_mac_init(&w->mac, rules.mac_only_encrypted);
	if ((err = walk_doc(w, doc, dec_leaf, e)) != SOTTO_OK)
		goto out;
	sotto_sops_mac_final(&w->mac, hex);
	if (!o->ignore_mac) {
		if (mac[0] == '\0') {
			err = sotto_error_set(e, SOTTO_E_MAC_MISMATCH,
			    "'%s': the file has no MAC (was it stripped?); use "
			    "--ignore-mac to decrypt anyway", name);
			goto out;
		}
		err = sotto_sops_mac_check(mac, lm, hex, key->data, e);
		if (err != SOTTO_OK) {
			sotto_error_prefix(e, "'%s'", name);
			goto out;
		}
	}
	if (sess != NULL) {
		*sess = calloc(1, sizeof(**sess));
		if (*sess == NULL || ((*sess)->meta = sotto_tree_clone(m)) ==
		    NULL) {
			free(*sess);
			*sess = NULL;
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
			goto out;
		}
		(*sess)->key = key;
		(*sess)->stash = w->stash;
		key = NULL;
		w->stash = NULL;
	}
out:
	stash_free(w->stash);
	walk_free(w);
	free(w);
	sotto_secret_free(key);
	sodium_memzero(hex, sizeof(hex));
	return err;
}

sotto_err
sotto_sops_decrypt(struct sotto_doc *doc, const struct sotto_sops_decrypt_opts *o,
    struct sotto_error *e)
{
	return decrypt_impl(doc, o, NULL, e);
}

sotto_err
sotto_sops_decrypt_session(struct sotto_sops_session **s,
    struct sotto_doc *doc, const struct sotto_sops_decrypt_opts *o,
    struct sotto_error *e)
{
	*s = NULL;
	return decrypt_impl(doc, o, s, e);
}

/* ---- metadata: writing ----------------------------------------------- */

static sotto_err
map_add_str(struct sotto_node *m, const char *k, const char *v)
{
	struct sotto_node *n = sotto_tree_new_scalar(SOTTO_T_STR, v, strlen(v));

	if (n == NULL)
		return SOTTO_E_NOMEM;
	return sotto_tree_map_add(m, k, strlen(k), n);
}

static sotto_err
age_entries(struct sotto_node **out, const struct sotto_age_reclist *l,
    const uint8_t *payload, size_t n, struct sotto_error *e)
{
	struct sotto_node *seq = sotto_tree_new_seq(), *ent;
	struct sotto_buf enc = SOTTO_BUF_INIT;
	size_t i;
	sotto_err err = SOTTO_OK;

	if (seq == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	for (i = 0; i < l->n && err == SOTTO_OK; i++) {
		sotto_buf_truncate(&enc, 0);
		err = sotto_age_encrypt_mem(&enc, payload, n, &l->v[i], 1, true,
		    e);
		if (err != SOTTO_OK)
			break;
		ent = sotto_tree_new_map();
		if (ent == NULL || map_add_str(ent, "enc",
		    (const char *)enc.data) || map_add_str(ent, "recipient",
		    sotto_age_recipient_string(l->v[i])) ||
		    sotto_tree_seq_add(seq, ent))
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	sotto_buf_release(&enc);
	if (err != SOTTO_OK) {
		sotto_tree_node_free(seq, false);
		return err;
	}
	*out = seq;
	return SOTTO_OK;
}

/* ---- OpenPGP fingerprints -------------------------------------------- */

bool
sotto_sops_pgplist_has(const struct sotto_sops_pgplist *l, const char *fp)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], fp) == 0)
			return true;
	return false;
}

sotto_err
sotto_sops_pgplist_add(struct sotto_sops_pgplist *l, const char *fp)
{
	char *c, **nv;
	size_t i, k = 0;

	if ((c = malloc(strlen(fp) + 1)) == NULL)
		return SOTTO_E_NOMEM;
	for (i = 0; fp[i] != '\0'; i++)	/* sops removes every space */
		if (fp[i] != ' ')
			c[k++] = fp[i];
	c[k] = '\0';
	if (k == 0 || sotto_sops_pgplist_has(l, c)) {
		free(c);
		return SOTTO_OK;
	}
	if ((nv = realloc(l->v, (l->n + 1) * sizeof(*nv))) == NULL) {
		free(c);
		return SOTTO_E_NOMEM;
	}
	l->v = nv;
	l->v[l->n++] = c;
	return SOTTO_OK;
}

sotto_err
sotto_sops_pgplist_parse(struct sotto_sops_pgplist *l, const char *list)
{
	const char *p = list, *c;
	char *one;
	sotto_err err;

	while (p != NULL && *p != '\0') {
		c = p + strcspn(p, ",");
		if ((one = strndup(p, (size_t)(c - p))) == NULL)
			return SOTTO_E_NOMEM;
		err = sotto_sops_pgplist_add(l, one);
		free(one);
		if (err != SOTTO_OK)
			return err;
		p = *c == ',' ? c + 1 : c;
	}
	return SOTTO_OK;
}

bool
sotto_sops_pgplist_remove(struct sotto_sops_pgplist *l, const char *fp)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], fp) != 0)
			continue;
		free(l->v[i]);
		memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) *
		    sizeof(l->v[0]));
		l->n--;
		return true;
	}
	return false;
}

void
sotto_sops_pgplist_free(struct sotto_sops_pgplist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

sotto_err
sotto_sops_pgp_entries(struct sotto_node **out,
    const struct sotto_sops_pgplist *fps, const struct sotto_node *old,
    const uint8_t *payload, size_t n, struct sotto_error *e)
{
	struct sotto_node *seq = sotto_tree_new_seq(), *ent;
	struct sotto_buf enc = SOTTO_BUF_INIT;
	char now[32];
	const char *ofp;
	size_t i, j;
	sotto_err err = SOTTO_OK;

	*out = NULL;
	if (seq == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	sotto_sops_time_now(now);
	for (i = 0; fps != NULL && i < fps->n && err == SOTTO_OK; i++) {
		ent = NULL;
		for (j = 0; old != NULL && old->kind == SOTTO_NODE_SEQ &&
		    j < old->n && ent == NULL; j++)
			if (old->items[j].val->kind == SOTTO_NODE_MAP &&
			    (ofp = meta_str(old->items[j].val, "fp")) != NULL &&
			    strcmp(ofp, fps->v[i]) == 0 &&
			    meta_str(old->items[j].val, "enc") != NULL &&
			    (ent = sotto_tree_clone(old->items[j].val)) ==
			    NULL)
				err = sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
		if (err != SOTTO_OK)
			break;
		if (ent == NULL) {
			sotto_buf_truncate(&enc, 0);
			if ((err = sotto_gpg_encrypt(&enc, payload, n,
			    fps->v[i], e)) != SOTTO_OK)
				break;
			/* created_at, enc, fp: sops' (alphabetical) order */
			ent = sotto_tree_new_map();
			if (ent == NULL || map_add_str(ent, "created_at", now) ||
			    map_add_str(ent, "enc", (const char *)enc.data) ||
			    map_add_str(ent, "fp", fps->v[i])) {
				sotto_tree_node_free(ent, false);
				err = sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
				break;
			}
		}
		if (sotto_tree_seq_add(seq, ent) != SOTTO_OK)
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	sotto_buf_release(&enc);
	if (err != SOTTO_OK) {
		sotto_tree_node_free(seq, false);
		return err;
	}
	*out = seq;
	return SOTTO_OK;
}

static size_t
group_npgp(const struct sotto_sops_encrypt_opts *o, size_t i)
{
	return o->pgp != NULL ? o->pgp[i].n : 0;
}

/* The pgp entries of group i into map m (nothing when it has none). */
static sotto_err
add_pgp(struct sotto_node *m, const struct sotto_sops_encrypt_opts *o,
    size_t i, const uint8_t *payload, size_t n, struct sotto_error *e)
{
	struct sotto_node *seq;
	sotto_err err;

	if (group_npgp(o, i) == 0)
		return SOTTO_OK;
	if ((err = sotto_sops_pgp_entries(&seq, &o->pgp[i], NULL, payload, n,
	    e)) != SOTTO_OK)
		return err;
	if (sotto_tree_map_add(m, "pgp", 3, seq) != SOTTO_OK) {
		sotto_tree_node_free(seq, false);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	return SOTTO_OK;
}

static sotto_err
build_keys(struct sotto_node *m, const struct sotto_sops_encrypt_opts *o,
    const struct sotto_secret *key, struct sotto_error *e)
{
	struct sotto_secret **shares = NULL;
	struct sotto_node *kg = NULL, *g, *seq;
	size_t i;
	int thr = o->threshold ? o->threshold : (int)o->ngroups;
	sotto_err err;

	if (o->ngroups == 1) {
		/* flat form: `age` first; `pgp` after `mac` (build_meta) */
		if (o->groups[0].n == 0)
			return SOTTO_OK;
		if ((err = age_entries(&seq, &o->groups[0], key->data, key->len,
		    e)) != SOTTO_OK)
			return err;
		if (sotto_tree_map_add(m, "age", 3, seq))
			return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		return SOTTO_OK;
	}
	shares = calloc(o->ngroups, sizeof(*shares));
	if (shares == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	err = sotto_shamir_split(shares, key->data, key->len, (int)o->ngroups,
	    thr, e);
	if (err != SOTTO_OK)
		goto out;
	if ((kg = sotto_tree_new_seq()) == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < o->ngroups; i++) {
		err = age_entries(&seq, &o->groups[i], shares[i]->data,
		    shares[i]->len, e);
		if (err != SOTTO_OK)
			goto out;
		g = sotto_tree_new_map();
		if (g == NULL || sotto_tree_map_add(g, "age", 3, seq) ||
		    sotto_tree_map_add(g, "hc_vault", 8, sotto_tree_new_seq()) ||
		    sotto_tree_seq_add(kg, g)) {
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
			goto out;
		}
		if ((err = add_pgp(g, o, i, shares[i]->data, shares[i]->len,
		    e)) != SOTTO_OK)
			goto out;
	}
	if (sotto_tree_map_add(m, "key_groups", 10, kg)) {
		kg = NULL;
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	kg = NULL;
out:
	sotto_tree_node_free(kg, false);
	for (i = 0; i < o->ngroups; i++)
		sotto_secret_free(shares[i]);
	free(shares);
	return err;
}

static sotto_err
build_meta(struct sotto_node **out, const struct sotto_sops_encrypt_opts *o,
    const struct sotto_sops_rules *r, const struct sotto_secret *key,
    const char *lm, const char *mac, struct sotto_error *e)
{
	struct sotto_node *m = sotto_tree_new_map(), *n;
	char thr[16];
	sotto_err err;

	if (m == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	/* 3.13 layout: keys in alphabetical order */
	if (o->ngroups == 1 && (err = build_keys(m, o, key, e)) != SOTTO_OK)
		goto fail;
	err = SOTTO_E_NOMEM;
	if ((r->encrypted_comment_regex && map_add_str(m,
	    "encrypted_comment_regex", r->encrypted_comment_regex)) ||
	    (r->encrypted_regex && map_add_str(m, "encrypted_regex",
	    r->encrypted_regex)) ||
	    (r->encrypted_suffix && map_add_str(m, "encrypted_suffix",
	    r->encrypted_suffix)))
		goto nomem;
	if (o->ngroups > 1 && (err = build_keys(m, o, key, e)) != SOTTO_OK)
		goto fail;
	if (map_add_str(m, "lastmodified", lm) || map_add_str(m, "mac", mac))
		goto nomem;
	if (r->mac_only_encrypted) {
		n = sotto_tree_new_scalar(SOTTO_T_BOOL, "true", 4);
		if (n == NULL || sotto_tree_map_add(m, "mac_only_encrypted", 18,
		    n))
			goto nomem;
	}
	if (o->ngroups == 1 && (err = add_pgp(m, o, 0, key->data, key->len,
	    e)) != SOTTO_OK)
		goto fail;
	if (o->ngroups > 1) {
		snprintf(thr, sizeof(thr), "%d", o->threshold ? o->threshold :
		    (int)o->ngroups);
		n = sotto_tree_new_scalar(SOTTO_T_INT, thr, strlen(thr));
		if (n == NULL || sotto_tree_map_add(m, "shamir_threshold", 16,
		    n))
			goto nomem;
	}
	if ((r->unencrypted_comment_regex && map_add_str(m,
	    "unencrypted_comment_regex", r->unencrypted_comment_regex)) ||
	    (r->unencrypted_regex && map_add_str(m, "unencrypted_regex",
	    r->unencrypted_regex)) ||
	    (r->unencrypted_suffix && map_add_str(m, "unencrypted_suffix",
	    r->unencrypted_suffix)) ||
	    map_add_str(m, "version", SOTTO_SOPS_VERSION))
		goto nomem;
	*out = m;
	return SOTTO_OK;
nomem:
	err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
fail:
	sotto_tree_node_free(m, false);
	return err;
}

static bool
has_sops_key(const struct sotto_doc *doc)
{
	size_t i;

	for (i = 0; i < doc->n; i++)
		if (doc->meta != NULL && doc->meta[i] != NULL)
			return true;
	return false;
}

sotto_err
sotto_sops_encrypt(struct sotto_node **meta, struct sotto_doc *doc,
    const struct sotto_sops_encrypt_opts *o, struct sotto_error *e)
{
	struct sotto_sops_rules rules = o->rules;
	struct sotto_secret *key = NULL;
	struct sotto_buf mac = SOTTO_BUF_INIT;
	struct walk *w;
	char hex[SOTTO_SOPS_MAC_HEX], lm[32];
	const char *name = doc->name ? doc->name : "-";
	size_t i;
	sotto_err err;

	*meta = NULL;
	if (has_sops_key(doc))
		return sotto_error_set(e, SOTTO_E_ALREADY_ENCRYPTED,
		    "'%s': the file already has sops metadata (already "
		    "encrypted?)", name);
	if (o->ngroups == 0)
		return sotto_error_set(e, SOTTO_E_NO_RECIPIENTS,
		    "'%s': no recipients to encrypt to (use --age, --pgp, "
		    "SOPS_AGE_RECIPIENTS, SOPS_PGP_FP or a .sops.yaml creation "
		    "rule)", name);
	for (i = 0; i < o->ngroups; i++)
		if (o->groups[i].n == 0 && group_npgp(o, i) == 0)
			return sotto_error_set(e, SOTTO_E_NO_RECIPIENTS,
			    "'%s': key group %zu has no age or pgp recipients",
			    name, i);
	if (o->ngroups > 1 && (o->threshold < 0 ||
	    o->threshold > (int)o->ngroups || o->threshold == 1))
		return sotto_error_set(e, SOTTO_E_CONFIG, "invalid Shamir "
		    "threshold %d for %zu key groups", o->threshold,
		    o->ngroups);
	if (doc->n == 0 || doc->nodoc)
		return sotto_error_set(e, SOTTO_E_NO_DOCUMENT, "'%s': File "
		    "cannot be completely empty, it must contain at least one "
		    "document", name);
	if (!rules.unencrypted_suffix && !rules.encrypted_suffix &&
	    !rules.unencrypted_regex && !rules.encrypted_regex &&
	    !rules.unencrypted_comment_regex && !rules.encrypted_comment_regex)
		rules.unencrypted_suffix = "_unencrypted";
	w = calloc(1, sizeof(*w));
	if (w != NULL)
		w->plain.secret = true;
	key = sotto_secret_new(32);
	if (w == NULL || key == NULL) {
		free(w);
		sotto_secret_free(key);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	w->name = name;
	w->warnings = o->warnings;
	w->encrypting = true;
	if ((err = rules_init(&w->ru, &rules, e)) != SOTTO_OK) {
		sotto_error_prefix(e, "'%s'", name);
		goto out;
	}
	randombytes_buf(key->data, 32);
	w->key = key->data;
	if ((w->gcm = sotto_aead_gcm_new(w->key)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "AES-GCM setup failed");
		goto out;
	}
	sotto_sops_mac_init(&w->mac, rules.mac_only_encrypted);
	if ((err = walk_doc(w, doc, enc_leaf, e)) != SOTTO_OK)
		goto out;
	sotto_sops_mac_final(&w->mac, hex);
	sotto_sops_time_now(lm);
	if ((err = sotto_sops_mac_encrypt(&mac, hex, lm, key->data, NULL, e)))
		goto out;
	err = build_meta(meta, o, &rules, key, lm, (const char *)mac.data, e);
out:
	walk_free(w);
	free(w);
	sotto_secret_free(key);
	sotto_buf_release(&mac);
	sodium_memzero(hex, sizeof(hex));
	return err;
}

/* Replaces (or appends) a string entry of a metadata map. */
static sotto_err
meta_set(struct sotto_node *m, const char *k, const char *v)
{
	struct sotto_node *n = sotto_tree_map_get(m, k);

	if (n != NULL && n->kind == SOTTO_NODE_SCALAR)
		return sotto_tree_set_text(n, SOTTO_T_STR, v, strlen(v));
	return map_add_str(m, k, v);
}

sotto_err
sotto_sops_reencrypt(struct sotto_node **meta, struct sotto_doc *doc,
    struct sotto_sops_session *s, struct sotto_buf *warnings,
    struct sotto_error *e)
{
	struct sotto_sops_rules rules;
	struct sotto_buf mac = SOTTO_BUF_INIT;
	struct sotto_node *m = NULL;
	struct walk *w;
	char hex[SOTTO_SOPS_MAC_HEX], lm[32];
	sotto_err err;

	*meta = NULL;
	meta_rules(&rules, s->meta);
	w = calloc(1, sizeof(*w));
	if (w != NULL)
		w->plain.secret = true;
	if (w == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	w->name = doc->name ? doc->name : "-";
	w->warnings = warnings;
	w->encrypting = true;
	w->stash = s->stash;
	w->key = s->key->data;
	if ((w->gcm = sotto_aead_gcm_new(w->key)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "AES-GCM setup failed");
		goto out;
	}
	if ((err = rules_init(&w->ru, &rules, e)) != SOTTO_OK)
		goto out;
	sotto_sops_mac_init(&w->mac, rules.mac_only_encrypted);
	if ((err = walk_doc(w, doc, enc_leaf, e)) != SOTTO_OK)
		goto out;
	sotto_sops_mac_final(&w->mac, hex);
	sotto_sops_time_now(lm);
	if ((err = sotto_sops_mac_encrypt(&mac, hex, lm, w->key, NULL, e)))
		goto out;
	m = sotto_tree_clone(s->meta);
	if (m == NULL || meta_set(m, "lastmodified", lm) ||
	    meta_set(m, "mac", (const char *)mac.data) ||
	    meta_set(m, "version", SOTTO_SOPS_VERSION)) {
		sotto_tree_node_free(m, false);
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	*meta = m;
out:
	w->stash = NULL;
	walk_free(w);
	free(w);
	sotto_buf_release(&mac);
	sodium_memzero(hex, sizeof(hex));
	return err;
}
