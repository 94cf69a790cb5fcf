/* SPDX-License-Identifier: ISC */
/*
 * The public age API (sotto/age.h): key parsing, identity and recipient
 * files, and the encrypt/decrypt drivers that tie the header
 * (age_header.c), the payload (age_stream.c) and armor (armor.c) together.
 */
#include "crypto/age_internal.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/bech32.h"
#include "crypto/prim.h"
#include "sotto/secret.h"

#define ARMOR_PEEK (1024 + sizeof(AGE_ARMOR_BEGIN))
#define KEYFILE_MAX (16u << 20)

/* ---- objects and lists ------------------------------------------------ */

struct sotto_age_identity *
age_identity_new(const struct age_identity_ops *ops, void *priv)
{
	struct sotto_age_identity *id = calloc(1, sizeof(*id));

	if (id == NULL)
		return NULL;
	id->ops = ops;
	id->priv = priv;
	id->native = true;
	return id;
}

struct sotto_age_recipient *
age_recipient_new(const struct age_recipient_ops *ops, void *priv,
    const char *str)
{
	struct sotto_age_recipient *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->str = strdup(str);
	if (r->str == NULL) {
		free(r);
		return NULL;
	}
	r->ops = ops;
	r->priv = priv;
	return r;
}

void
sotto_age_identity_free(struct sotto_age_identity *id)
{
	if (id == NULL)
		return;
	if (id->ops->free_priv != NULL)
		id->ops->free_priv(id->priv);
	free(id);
}

void
sotto_age_recipient_free(struct sotto_age_recipient *r)
{
	if (r == NULL)
		return;
	if (r->ops->free_priv != NULL)
		r->ops->free_priv(r->priv);
	free(r->str);
	free(r);
}

const char *
sotto_age_recipient_string(const struct sotto_age_recipient *r)
{
	return r->str;
}

void
sotto_age_idlist_free(struct sotto_age_idlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		sotto_age_identity_free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
sotto_age_reclist_free(struct sotto_age_reclist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		sotto_age_recipient_free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

sotto_err
sotto_age_idlist_add(struct sotto_age_idlist *l, struct sotto_age_identity *id)
{
	struct sotto_age_identity **n = realloc(l->v, (l->n + 1) * sizeof(*n));

	if (n == NULL) {
		sotto_age_identity_free(id);
		return SOTTO_E_NOMEM;
	}
	l->v = n;
	l->v[l->n++] = id;
	return SOTTO_OK;
}

sotto_err
sotto_age_reclist_add(struct sotto_age_reclist *l,
    struct sotto_age_recipient *r)
{
	struct sotto_age_recipient **n = realloc(l->v, (l->n + 1) * sizeof(*n));

	if (n == NULL) {
		sotto_age_recipient_free(r);
		return SOTTO_E_NOMEM;
	}
	l->v = n;
	l->v[l->n++] = r;
	return SOTTO_OK;
}

/* ---- key strings ------------------------------------------------------ */

static bool
has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

sotto_err
sotto_age_recipient_parse(struct sotto_age_recipient **out, const char *s,
    struct sotto_error *e)
{
	char hrp[64];
	uint8_t data[128];
	size_t n = strlen(s), dlen;
	const char *sep;

	*out = NULL;
	if (has_prefix(s, "ssh-"))
		return age_ssh_recipient_parse(out, s, e);
	if (has_prefix(s, "age1pq1"))
		return age_pq_recipient_parse(out, s, e);
	if (has_prefix(s, "age1tag1") || has_prefix(s, "age1tagpq1"))
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "tagged recipients are not supported yet: '%.20s...'", s);
	if (!has_prefix(s, "age1")) {
		if (has_prefix(s, "AGE-"))
			return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
			    "invalid recipient: found what looks like an "
			    "identity (secret key), not a recipient");
		if (has_prefix(s, "github:"))
			return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
			    "github: recipients are not supported; use the "
			    "ssh keys from https://github.com/USER.keys");
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "unknown recipient type: '%.40s'", s);
	}
	sep = strrchr(s, '1');
	if (sep != s + 3)
		return age_plugin_recipient_parse(out, s, e);
	if (n > 200)
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "invalid recipient: too long");
	if (sotto_bech32_decode(hrp, sizeof(hrp), data, &dlen, s, n, e))
		return sotto_error_prefix(e, "malformed recipient '%.70s'", s);
	if (strcmp(hrp, "age") != 0 || dlen != 32)
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "malformed recipient '%.70s': wrong type or length", s);
	return age_x25519_recipient_from_bytes(out, data, e);
}

/* What native-only parsing says about a plugin identity. */
#define NATIVE_ONLY_PLUGIN "plugin identities are not accepted in-cluster " \
	"(only native age identities: AGE-SECRET-KEY-1..., " \
	"AGE-SECRET-KEY-PQ-1...)"

/*
 * One identity string.  With SOTTO_AGE_IDS_NATIVE_ONLY a plugin identity is
 * refused here, before anything is built for it: only its unwrap would run
 * a program, but nothing of it should exist.
 */
static sotto_err
identity_parse(struct sotto_age_identity **out, const char *s,
    unsigned flags, struct sotto_error *e)
{
	char hrp[64];
	uint8_t data[128];
	size_t n = strlen(s), dlen;
	sotto_err err;

	*out = NULL;
	if (has_prefix(s, "AGE-SECRET-KEY-PQ-1"))
		return age_pq_identity_parse(out, s, e);
	if (has_prefix(s, "AGE-PLUGIN-")) {
		if (flags & SOTTO_AGE_IDS_NATIVE_ONLY)
			return sotto_error_set(e, SOTTO_E_UNSUPPORTED, "%s",
			    NATIVE_ONLY_PLUGIN);
		return age_plugin_identity_parse(out, s, e);
	}
	if (!has_prefix(s, "AGE-SECRET-KEY-1")) {
		if (has_prefix(s, "age1"))
			return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
			    "apparent recipient found: this is a public key "
			    "(age1...), not an identity");
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "not an age identity (expected AGE-SECRET-KEY-1...)");
	}
	if (n > 200)
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "malformed identity: too long");
	err = sotto_bech32_decode(hrp, sizeof(hrp), data, &dlen, s, n, e);
	if (err == SOTTO_OK && (strcmp(hrp, "AGE-SECRET-KEY-") != 0 ||
	    dlen != 32))
		err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "wrong type or length");
	if (err == SOTTO_OK)
		err = age_x25519_identity_from_bytes(out, data, e);
	else
		sotto_error_prefix(e, "malformed secret key");
	sodium_memzero(data, sizeof(data));
	return err;
}

sotto_err
sotto_age_identity_parse(struct sotto_age_identity **out, const char *s,
    struct sotto_error *e)
{
	return identity_parse(out, s, 0, e);
}

sotto_err
sotto_age_identity_to_recipient(struct sotto_age_recipient **out,
    const struct sotto_age_identity *id, struct sotto_error *e)
{
	if (id->ops->to_recipient == NULL)
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "%s identities have no recipient", id->ops->name);
	return id->ops->to_recipient(out, id, e);
}

sotto_err
sotto_age_identity_generate(struct sotto_age_identity **out,
    struct sotto_error *e)
{
	uint8_t sk[32];
	sotto_err err;

	randombytes_buf(sk, sizeof(sk));
	err = age_x25519_identity_from_bytes(out, sk, e);
	sodium_memzero(sk, sizeof(sk));
	return err;
}

sotto_err
sotto_age_identity_string(struct sotto_buf *b,
    const struct sotto_age_identity *id, struct sotto_error *e)
{
	const uint8_t *sk;

	if (age_x25519_identity_secret(id, &sk) != SOTTO_OK) {
		if (id->ops->to_string != NULL)
			return id->ops->to_string(b, id, e);
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "%s identities have no string form", id->ops->name);
	}
	if (sotto_bech32_encode(b, "AGE-SECRET-KEY-", sk, 32))
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

/* ---- the buffered reader ---------------------------------------------- */

sotto_err
age_reader_fill(struct age_reader *r, size_t want, struct sotto_error *e)
{
	size_t got;
	sotto_err err;

	if (r->off > 0 && r->off == r->len)
		r->off = r->len = 0;
	if (r->len - r->off >= want)
		return SOTTO_OK;
	if (r->off + want > r->cap) {	/* compact or grow */
		if (want <= r->cap) {
			memmove(r->buf, r->buf + r->off, r->len - r->off);
			r->len -= r->off;
			r->off = 0;
		} else {
			uint8_t *n = realloc(r->buf, want);

			if (n == NULL)
				return sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
			r->buf = n;
			r->cap = want;
			memmove(r->buf, r->buf + r->off, r->len - r->off);
			r->len -= r->off;
			r->off = 0;
		}
	}
	while (!r->eof && r->len - r->off < want) {
		err = r->fn(r->ctx, r->buf + r->len, r->cap - r->len, &got, e);
		if (err != SOTTO_OK)
			return err;
		if (got == 0)
			r->eof = true;
		r->len += got;
	}
	return SOTTO_OK;
}

sotto_err
age_reader_line(struct age_reader *r, struct sotto_buf *line, size_t max,
    bool *eof, struct sotto_error *e)
{
	uint8_t *lf;
	size_t avail, take;
	sotto_err err;

	*eof = false;
	for (;;) {
		avail = r->len - r->off;
		lf = avail ? memchr(r->buf + r->off, '\n', avail) : NULL;
		take = lf ? (size_t)(lf - (r->buf + r->off)) + 1 : avail;
		if (line->len + take > max)
			return sotto_error_set(e, SOTTO_E_AGE_HEADER,
			    "header line too long");
		if (sotto_buf_add(line, r->buf + r->off, take))
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		r->off += take;
		if (lf != NULL)
			return SOTTO_OK;
		if (r->eof) {
			if (line->len == 0) {
				*eof = true;
				return SOTTO_OK;
			}
			return sotto_error_set(e, SOTTO_E_AGE_HEADER,
			    "unexpected end of header");
		}
		if ((err = age_reader_fill(r, 1, e)) != SOTTO_OK)
			return err;
	}
}

sotto_err
age_reader_read(struct age_reader *r, uint8_t *p, size_t n, size_t *got,
    struct sotto_error *e)
{
	size_t k, g;
	sotto_err err;

	*got = 0;
	k = r->len - r->off;
	if (k > n)
		k = n;
	memcpy(p, r->buf + r->off, k);
	r->off += k;
	*got = k;
	while (*got < n && !r->eof) {
		err = r->fn(r->ctx, p + *got, n - *got, &g, e);
		if (err != SOTTO_OK)
			return err;
		if (g == 0)
			r->eof = true;
		*got += g;
	}
	return SOTTO_OK;
}

/* ---- decryption ------------------------------------------------------- */

static bool
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

static sotto_err
unwrap_file_key(uint8_t file_key[16], const struct age_header *h,
    struct sotto_age_identity *const *ids, size_t nids, struct sotto_error *e)
{
	struct sotto_error last;
	size_t i, pass;
	sotto_err err;
	bool passphrase_tried = false;

	sotto_error_clear(&last);
	/* native identities first (Go's order), then the others */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < nids; i++) {
			if (ids[i]->native != (pass == 0))
				continue;
			sotto_error_clear(&last);
			err = ids[i]->ops->unwrap(ids[i], h, file_key, &last);
			if (err == SOTTO_OK)
				return SOTTO_OK;
			if (err != SOTTO_E_AGE_NO_MATCH) {
				if (e != NULL)
					*e = last;
				return err;
			}
			if (strcmp(ids[i]->ops->name, "scrypt") == 0 &&
			    last.msg[0] != '\0')
				passphrase_tried = true;
		}
	}
	if (passphrase_tried && nids == 1)
		return sotto_error_set(e, SOTTO_E_AGE_NO_MATCH,
		    "incorrect passphrase");
	return sotto_error_set(e, SOTTO_E_AGE_NO_MATCH,
	    "no identity matched any of the recipients");
}

struct fixed_ids {
	struct sotto_age_identity *const *ids;
	size_t n;
};

static sotto_err
fixed_ids_cb(void *ctx, enum sotto_age_kind kind,
    struct sotto_age_identity *const **ids, size_t *nids,
    struct sotto_error *e)
{
	struct fixed_ids *f = ctx;

	(void)kind;
	(void)e;
	*ids = f->ids;
	*nids = f->n;
	return SOTTO_OK;
}

sotto_err
sotto_age_decrypt(sotto_age_read_fn src, void *srcctx,
    struct sotto_age_identity *const *ids, size_t nids,
    sotto_age_write_fn sink, void *sinkctx, struct sotto_error *e)
{
	struct fixed_ids f = { ids, nids };

	return sotto_age_decrypt2(src, srcctx, fixed_ids_cb, &f, sink, sinkctx,
	    e);
}

static sotto_err
decrypt_body(struct age_reader *r, sotto_age_ids_cb get_ids, void *idsctx,
    unsigned threads, sotto_age_write_fn sink, void *sinkctx,
    struct sotto_error *e)
{
	struct age_header h;
	struct sotto_age_identity *const *ids = NULL;
	uint8_t *fk, nonce[16], mac[32], pkey[32];
	size_t nids = 0, got;
	sotto_err err;

	fk = sodium_malloc(16);
	if (fk == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if ((err = age_header_parse(&h, r, e)) != SOTTO_OK)
		goto out;
	err = get_ids(idsctx, h.n == 1 && strcmp(h.st[0].type, "scrypt") == 0 ?
	    SOTTO_AGE_KIND_SCRYPT : SOTTO_AGE_KIND_RECIPIENTS, &ids, &nids, e);
	if (err != SOTTO_OK)
		goto out;
	if ((err = unwrap_file_key(fk, &h, ids, nids, e)) != SOTTO_OK)
		goto out;
	if ((err = age_header_mac(mac, fk, h.raw.data, h.raw.len)) != SOTTO_OK)
		goto out;
	if (sodium_memcmp(mac, h.mac, 32) != 0) {
		err = sotto_error_set(e, SOTTO_E_AGE_HMAC, "bad header MAC");
		goto out;
	}
	if ((err = age_reader_read(r, nonce, 16, &got, e)) != SOTTO_OK)
		goto out;
	if (got != 16) {
		err = sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "file too short: missing payload nonce");
		goto out;
	}
	if (sotto_hkdf_sha256(pkey, 32, fk, 16, nonce, 16, "payload") != 0) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "HKDF failed");
		goto out;
	}
	err = age_stream_decrypt(r, pkey, threads, sink, sinkctx, e);
out:
	sodium_memzero(pkey, sizeof(pkey));
	sodium_free(fk);
	age_header_clear(&h);
	return err;
}

sotto_err
sotto_age_decrypt2(sotto_age_read_fn src, void *srcctx,
    sotto_age_ids_cb get_ids, void *idsctx, sotto_age_write_fn sink,
    void *sinkctx, struct sotto_error *e)
{
	struct sotto_age_io io = { src, srcctx, -1, sink, sinkctx, 1 };

	return sotto_age_decrypt_io(&io, get_ids, idsctx, e);
}

/* ---- inputs ------------------------------------------------------------ */

static sotto_err
fd_read(void *ctx, uint8_t *p, size_t n, size_t *got, struct sotto_error *e)
{
	const int *fd = ctx;
	ssize_t r;

	for (;;) {
		r = read(*fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sotto_error_set(e, SOTTO_E_IO,
			    "cannot read input: %s", strerror(errno));
		*got = (size_t)r;
		return SOTTO_OK;
	}
}

/* Sets r up over io's read function or descriptor. */
static sotto_err
input_open(struct age_reader *r, const struct sotto_age_io *io,
    struct sotto_error *e)
{
	memset(r, 0, sizeof(*r));
	r->fn = io->src != NULL ? io->src : fd_read;
	r->ctx = io->src != NULL ? io->srcctx : (void *)&io->fd;
	r->cap = SOTTO_AGE_CHUNK + 16;
	if ((r->buf = malloc(r->cap)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

static void
input_close(struct age_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* A read function over the raw reader, under the armor reader. */
static sotto_err
raw_read(void *ctx, uint8_t *p, size_t n, size_t *got,
    struct sotto_error *e)
{
	return age_reader_read(ctx, p, n, got, e);
}

sotto_err
sotto_age_decrypt_io(const struct sotto_age_io *io, sotto_age_ids_cb get_ids,
    void *idsctx, struct sotto_error *e)
{
	struct age_reader in, ar_r, *r = &in;
	struct age_armor_reader *ar = NULL;
	unsigned threads = age_stream_threads(io->threads);
	sotto_err err;

	memset(&ar_r, 0, sizeof(ar_r));
	if ((err = input_open(&in, io, e)) != SOTTO_OK)
		return err;
	if ((err = age_reader_fill(&in, ARMOR_PEEK, e)) != SOTTO_OK)
		goto out;
	if (age_armor_detect(in.buf + in.off, in.len - in.off)) {
		/* the armor reader decodes from the raw reader's bytes */
		err = age_armor_reader_new(&ar, raw_read, &in, NULL, 0);
		if (err != SOTTO_OK) {
			sotto_error_set(e, err, "out of memory");
			goto out;
		}
		ar_r.fn = age_armor_read;
		ar_r.ctx = ar;
		ar_r.cap = SOTTO_AGE_CHUNK + 16;
		if ((ar_r.buf = malloc(ar_r.cap)) == NULL) {
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
			goto out;
		}
		r = &ar_r;
	}
	err = decrypt_body(r, get_ids, idsctx, threads, io->sink, io->sinkctx,
	    e);
out:
	age_armor_reader_free(ar);
	free(ar_r.buf);
	input_close(&in);
	return err;
}

/* ---- encryption ------------------------------------------------------- */

struct sotto_age_writer {
	sotto_age_write_fn sink;	/* binary or armor writer */
	void *sinkctx;
	struct age_armor_writer *armor;	/* non-NULL when armoring */
	struct age_stream_enc *stream;	/* payload state */
	uint8_t *pend;			/* plaintext of the open chunk */
	size_t npend;
	uint8_t *ct;			/* ciphertext scratch */
	bool failed;			/* a sink error happened */
};

void
sotto_age_writer_free(struct sotto_age_writer *w)
{
	if (w == NULL)
		return;
	age_armor_writer_free(w->armor);
	age_stream_enc_free(w->stream);
	if (w->pend != NULL)
		sodium_free(w->pend);
	free(w->ct);
	free(w);
}

static const char *
labels_of(const struct sotto_age_recipient *r)
{
	return r->ops->labels != NULL ? r->ops->labels(r) : "";
}

/*
 * Go's wrapWithLabels: every recipient of a file must produce the same
 * stanza label set, so a post-quantum file cannot be opened with a classic
 * key (which would make the post-quantum protection pointless).
 */
static sotto_err
check_labels(struct sotto_age_recipient *const *rec, size_t i,
    struct sotto_error *e)
{
	const char *a = labels_of(rec[0]), *b = labels_of(rec[i]);
	bool pqa, pqb;

	if (strcmp(a, b) == 0)
		return SOTTO_OK;
	pqa = strstr(a, "postquantum") != NULL;
	pqb = strstr(b, "postquantum") != NULL;
	if (pqa != pqb)
		return sotto_error_set(e, SOTTO_E_USAGE,
		    "incompatible recipients: can't mix post-quantum and "
		    "classic recipients, or the file would be vulnerable to "
		    "quantum computers");
	return sotto_error_set(e, SOTTO_E_USAGE,
	    "incompatible recipients: labels [%s] and [%s] can't be mixed",
	    a, b);
}

/*
 * Builds the header for rec into hdr (MAC line and payload nonce
 * included) and derives the payload key.
 */
static sotto_err
seal_header(struct sotto_buf *hdr, uint8_t pkey[32],
    struct sotto_age_recipient *const *rec, size_t nrec,
    struct sotto_error *e)
{
	struct age_header h;
	uint8_t *fk, nonce[16];
	size_t i;
	sotto_err err;

	memset(&h, 0, sizeof(h));
	fk = sodium_malloc(16);
	if (fk == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	randombytes_buf(fk, 16);
	for (i = 0; i < nrec; i++) {
		if ((err = rec[i]->ops->wrap(rec[i], fk, &h, e)) != SOTTO_OK)
			goto out;
		if ((err = check_labels(rec, i, e)) != SOTTO_OK)
			goto out;
	}
	if ((err = age_header_encode(hdr, &h, fk, e)) != SOTTO_OK)
		goto out;
	randombytes_buf(nonce, sizeof(nonce));
	if (sotto_buf_add(hdr, nonce, 16)) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if (sotto_hkdf_sha256(pkey, 32, fk, 16, nonce, 16, "payload") != 0)
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "HKDF failed");
out:
	sodium_free(fk);
	age_header_clear(&h);
	return err;
}

static sotto_err
write_header(struct sotto_age_writer *w, struct sotto_age_recipient *const *rec,
    size_t nrec, struct sotto_error *e)
{
	struct sotto_buf hdr = SOTTO_BUF_INIT;
	uint8_t pkey[32];
	sotto_err err;

	if ((err = seal_header(&hdr, pkey, rec, nrec, e)) != SOTTO_OK)
		goto out;
	if ((w->stream = age_stream_enc_new(pkey)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "cannot set up STREAM");
		goto out;
	}
	err = w->sink(w->sinkctx, hdr.data, hdr.len, e);
out:
	sodium_memzero(pkey, sizeof(pkey));
	sotto_buf_release(&hdr);
	return err;
}

static sotto_err
check_exclusive(struct sotto_age_recipient *const *rec, size_t nrec,
    struct sotto_error *e)
{
	size_t i;

	if (nrec == 0)
		return sotto_error_set(e, SOTTO_E_NO_RECIPIENTS,
		    "no recipients");
	for (i = 0; i < nrec; i++)
		if (rec[i]->exclusive && nrec > 1)
			return sotto_error_set(e, SOTTO_E_USAGE,
			    "a passphrase recipient cannot be combined with "
			    "other recipients");
	return SOTTO_OK;
}

sotto_err
sotto_age_encrypt_io(const struct sotto_age_io *io,
    struct sotto_age_recipient *const *rec, size_t nrec, bool armor,
    struct sotto_error *e)
{
	struct sotto_buf hdr = SOTTO_BUF_INIT;
	struct age_armor_writer *aw = NULL;
	struct age_reader in;
	sotto_age_write_fn sink = io->sink;
	void *sinkctx = io->sinkctx;
	uint8_t pkey[32];
	sotto_err err;

	memset(&in, 0, sizeof(in));
	if ((err = check_exclusive(rec, nrec, e)) != SOTTO_OK)
		return err;
	if (armor) {
		if ((aw = age_armor_writer_new(sink, sinkctx)) == NULL)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		sink = age_armor_write;
		sinkctx = aw;
	}
	if ((err = seal_header(&hdr, pkey, rec, nrec, e)) != SOTTO_OK ||
	    (err = input_open(&in, io, e)) != SOTTO_OK ||
	    (err = sink(sinkctx, hdr.data, hdr.len, e)) != SOTTO_OK)
		goto out;
	err = age_stream_encrypt(&in, pkey, age_stream_threads(io->threads),
	    sink, sinkctx, e);
	if (err == SOTTO_OK && aw != NULL)
		err = age_armor_writer_finish(aw, e);
out:
	sodium_memzero(pkey, sizeof(pkey));
	sotto_buf_release(&hdr);
	if (in.buf != NULL)
		input_close(&in);
	age_armor_writer_free(aw);
	return err;
}

sotto_err
sotto_age_writer_new(struct sotto_age_writer **out,
    struct sotto_age_recipient *const *rec, size_t nrec, bool armor,
    sotto_age_write_fn sink, void *sinkctx, struct sotto_error *e)
{
	struct sotto_age_writer *w;
	sotto_err err;

	*out = NULL;
	if ((err = check_exclusive(rec, nrec, e)) != SOTTO_OK)
		return err;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	w->pend = sodium_malloc(SOTTO_AGE_CHUNK);
	w->ct = malloc(SOTTO_AGE_CHUNK + 16);
	if (w->pend == NULL || w->ct == NULL) {
		sotto_age_writer_free(w);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	w->sink = sink;
	w->sinkctx = sinkctx;
	if (armor) {
		w->armor = age_armor_writer_new(sink, sinkctx);
		if (w->armor == NULL) {
			sotto_age_writer_free(w);
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		}
		w->sink = age_armor_write;
		w->sinkctx = w->armor;
	}
	if ((err = write_header(w, rec, nrec, e)) != SOTTO_OK) {
		sotto_age_writer_free(w);
		return err;
	}
	*out = w;
	return SOTTO_OK;
}

static sotto_err
flush_chunk(struct sotto_age_writer *w, bool last, struct sotto_error *e)
{
	sotto_err err;

	err = age_stream_enc_chunk(w->stream, w->ct, w->pend, w->npend, last,
	    e);
	if (err == SOTTO_OK)
		err = w->sink(w->sinkctx, w->ct, w->npend + 16, e);
	/* pend is guarded memory, wiped by sodium_free() at the end */
	w->npend = 0;
	return err;
}

sotto_err
sotto_age_writer_update(struct sotto_age_writer *w, const uint8_t *p,
    size_t n, struct sotto_error *e)
{
	size_t k;
	sotto_err err;

	while (n > 0) {
		/* a full pending chunk is flushed only once more data comes,
		 * since the last chunk must carry the final flag */
		if (w->npend == SOTTO_AGE_CHUNK &&
		    (err = flush_chunk(w, false, e)) != SOTTO_OK)
			return err;
		/* more than a chunk in hand: seal it straight from the
		 * caller's buffer (it cannot be the last one), no copy */
		if (w->npend == 0 && n > SOTTO_AGE_CHUNK) {
			err = age_stream_enc_chunk(w->stream, w->ct, p,
			    SOTTO_AGE_CHUNK, false, e);
			if (err == SOTTO_OK)
				err = w->sink(w->sinkctx, w->ct,
				    SOTTO_AGE_CHUNK + 16, e);
			if (err != SOTTO_OK)
				return err;
			p += SOTTO_AGE_CHUNK;
			n -= SOTTO_AGE_CHUNK;
			continue;
		}
		k = SOTTO_AGE_CHUNK - w->npend;
		if (k > n)
			k = n;
		memcpy(w->pend + w->npend, p, k);
		w->npend += k;
		p += k;
		n -= k;
	}
	return SOTTO_OK;
}

sotto_err
sotto_age_writer_finish(struct sotto_age_writer *w, struct sotto_error *e)
{
	sotto_err err;

	if ((err = flush_chunk(w, true, e)) != SOTTO_OK)
		return err;
	if (w->armor != NULL)
		return age_armor_writer_finish(w->armor, e);
	return SOTTO_OK;
}

/* ---- in-memory helpers ------------------------------------------------ */

struct mem_src {
	const uint8_t *p;
	size_t n, off;
};

static sotto_err
mem_read(void *ctx, uint8_t *p, size_t n, size_t *got, struct sotto_error *e)
{
	struct mem_src *m = ctx;

	(void)e;
	if (n > m->n - m->off)
		n = m->n - m->off;
	memcpy(p, m->p + m->off, n);
	m->off += n;
	*got = n;
	return SOTTO_OK;
}

static sotto_err
buf_write(void *ctx, const uint8_t *p, size_t n, struct sotto_error *e)
{
	if (sotto_buf_add(ctx, p, n))
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

sotto_err
sotto_age_encrypt_mem(struct sotto_buf *out, const uint8_t *p, size_t n,
    struct sotto_age_recipient *const *rec, size_t nrec, bool armor,
    struct sotto_error *e)
{
	struct sotto_age_writer *w;
	sotto_err err;

	if ((err = sotto_age_writer_new(&w, rec, nrec, armor, buf_write, out,
	    e)) != SOTTO_OK)
		return err;
	err = sotto_age_writer_update(w, p, n, e);
	if (err == SOTTO_OK)
		err = sotto_age_writer_finish(w, e);
	sotto_age_writer_free(w);
	return err;
}

sotto_err
sotto_age_decrypt_mem(struct sotto_buf *out, const uint8_t *p, size_t n,
    struct sotto_age_identity *const *ids, size_t nids, struct sotto_error *e)
{
	struct mem_src m = { p, n, 0 };
	size_t start = out->len;
	sotto_err err;

	err = sotto_age_decrypt(mem_read, &m, ids, nids, buf_write, out, e);
	if (err != SOTTO_OK)
		sotto_buf_truncate(out, start);
	return err;
}

/* ---- identity and recipient files ------------------------------------ */

/* Iterates lines: strips LF and one CR; returns false at the end. */
static bool
next_line(const uint8_t *data, size_t len, size_t *off, const char **line,
    size_t *llen)
{
	const uint8_t *lf;
	size_t n;

	if (*off >= len)
		return false;
	lf = memchr(data + *off, '\n', len - *off);
	n = lf ? (size_t)(lf - (data + *off)) : len - *off;
	*line = (const char *)data + *off;
	*off += n + (lf ? 1 : 0);
	if (n > 0 && (*line)[n - 1] == '\r')
		n--;
	*llen = n;
	return true;
}

static sotto_err
parse_encrypted_identities(struct sotto_age_idlist *list, const uint8_t *data,
    size_t len, const char *name, sotto_age_pass_cb cb, void *cbctx,
    struct sotto_error *e)
{
	struct sotto_buf pass = SOTTO_BUF_SECRET_INIT;
	struct sotto_buf plain = SOTTO_BUF_SECRET_INIT;
	struct sotto_age_identity *sid = NULL;
	char prompt[300];
	sotto_err err;

	if (cb == NULL)
		return sotto_error_set(e, SOTTO_E_TTY,
		    "'%s' is passphrase-encrypted but no terminal is "
		    "available to ask for the passphrase", name);
	snprintf(prompt, sizeof(prompt),
	    "Enter passphrase for identity file \"%s\": ", name);
	if ((err = cb(cbctx, prompt, &pass, e)) != SOTTO_OK)
		goto out;
	err = sotto_age_identity_scrypt(&sid, (const char *)pass.data,
	    pass.len, SOTTO_AGE_SCRYPT_MAX_LOGN, e);
	if (err != SOTTO_OK)
		goto out;
	err = sotto_age_decrypt_mem(&plain, data, len, &sid, 1, e);
	if (err != SOTTO_OK) {
		sotto_error_prefix(e, "cannot decrypt identity file '%s'", name);
		goto out;
	}
	err = sotto_age_identities_parse(list, plain.data, plain.len, name,
	    NULL, NULL, e);
out:
	sotto_age_identity_free(sid);
	sotto_buf_release(&pass);
	sotto_buf_release(&plain);
	return err;
}

/*
 * Calls fn for each key line of a key file (LF or CRLF; empty lines and
 * '#' comments skipped), NUL-terminated in a scratch buffer that is wiped
 * (identity files hold secrets).  Errors from fn get "'NAME' line N"
 * prefixed; a line longer than max is an error.
 */
typedef sotto_err (*key_line_fn)(void *ctx, const char *line, size_t lineno,
    struct sotto_error *e);

static sotto_err
each_key_line(const uint8_t *data, size_t len, const char *name, size_t max,
    key_line_fn fn, void *ctx, struct sotto_error *e)
{
	struct sotto_buf tmp = SOTTO_BUF_SECRET_INIT;
	const char *line;
	size_t off = 0, llen, lineno = 0;
	sotto_err err = SOTTO_OK;

	while (next_line(data, len, &off, &line, &llen)) {
		lineno++;
		if (llen == 0 || line[0] == '#')
			continue;
		if (llen > max) {
			err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
			    "line %zu: line too long", lineno);
			if (name != NULL)
				sotto_error_prefix(e, "'%s'", name);
			break;
		}
		sotto_buf_truncate(&tmp, 0);
		if (sotto_buf_add(&tmp, line, llen)) {
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
			break;
		}
		if ((err = fn(ctx, (const char *)tmp.data, lineno, e))) {
			if (err != SOTTO_E_NOMEM && name != NULL)
				sotto_error_prefix(e, "'%s' line %zu", name,
				    lineno);
			else if (err != SOTTO_E_NOMEM)
				sotto_error_prefix(e, "line %zu", lineno);
			break;
		}
	}
	sotto_buf_release(&tmp);
	return err;
}

struct identity_lines {
	struct sotto_age_idlist *list;	/* where identities go */
	unsigned flags;			/* SOTTO_AGE_IDS_* */
};

static sotto_err
identity_line(void *ctx, const char *line, size_t lineno,
    struct sotto_error *e)
{
	struct identity_lines *il = ctx;
	struct sotto_age_identity *id;
	sotto_err err;

	(void)lineno;
	if ((err = identity_parse(&id, line, il->flags, e)) != SOTTO_OK)
		return err;
	if ((il->flags & SOTTO_AGE_IDS_NATIVE_ONLY) && !id->native) {
		sotto_age_identity_free(id);
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED, "%s",
		    NATIVE_ONLY_PLUGIN);
	}
	if (sotto_age_idlist_add(il->list, id))
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

sotto_err
sotto_age_identities_parse(struct sotto_age_idlist *list, const uint8_t *data,
    size_t len, const char *name, sotto_age_pass_cb cb, void *cbctx,
    struct sotto_error *e)
{
	return sotto_age_identities_parse_flags(list, data, len, name, 0, cb,
	    cbctx, e);
}

sotto_err
sotto_age_identities_parse_flags(struct sotto_age_idlist *list,
    const uint8_t *data, size_t len, const char *name, unsigned flags,
    sotto_age_pass_cb cb, void *cbctx, struct sotto_error *e)
{
	struct identity_lines il = { list, flags };
	struct sotto_age_identity *id;
	size_t before = list->n, i = 0;
	bool native = (flags & SOTTO_AGE_IDS_NATIVE_ONLY) != 0;
	sotto_err err;

	if (len > KEYFILE_MAX)
		return name != NULL ? sotto_error_set(e, SOTTO_E_LIMIT,
		    "identity file '%s' is larger than 16 MiB", name) :
		    sotto_error_set(e, SOTTO_E_LIMIT,
		    "identity data is larger than 16 MiB");
	while (i < len && is_space(data[i]))
		i++;
	if (len - i >= 14 && (memcmp(data + i, "age-encryption", 14) == 0 ||
	    memcmp(data + i, "-----BEGIN AGE", 14) == 0)) {
		if (native)
			return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
			    "passphrase-encrypted identity files are not "
			    "accepted in-cluster (only native age identities)");
		return parse_encrypted_identities(list, data, len, name, cb,
		    cbctx, e);
	}
	if (len - i >= 10 && memcmp(data + i, "-----BEGIN", 10) == 0) {
		if (native)
			return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
			    "SSH and PEM private keys are not accepted "
			    "in-cluster (only native age identities)");
		err = (flags & SOTTO_AGE_IDS_LAZY) ? age_ssh_identity_parse_lazy(
		    &id, data, len, name, cb, cbctx, e) :
		    age_ssh_identity_parse(&id, data, len, name, cb, cbctx, e);
		if (err == SOTTO_OK && sotto_age_idlist_add(list, id))
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		return err;
	}
	err = each_key_line(data, len, name, 65536, identity_line, &il, e);
	if (err == SOTTO_OK && list->n == before)
		err = name != NULL ? sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "no identities found in '%s'", name) :
		    sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "no identities found");
	return err;
}

struct recipient_lines {
	struct sotto_age_reclist *list;	/* where recipients go */
	struct sotto_buf *warn;		/* warnings, or NULL */
	const char *name;		/* file name for warnings */
};

static sotto_err
recipient_line(void *ctx, const char *line, size_t lineno,
    struct sotto_error *e)
{
	struct recipient_lines *rl = ctx;
	struct sotto_age_recipient *r;
	sotto_err err;

	if (age_ssh_unsupported_type(line)) {
		if (rl->warn != NULL)
			sotto_buf_addf(rl->warn, "warning: '%s' line %zu: "
			    "ignoring unsupported SSH key type\n", rl->name,
			    lineno);
		return SOTTO_OK;
	}
	if ((err = sotto_age_recipient_parse(&r, line, e)) != SOTTO_OK)
		return err;
	if (sotto_age_reclist_add(rl->list, r))
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

sotto_err
sotto_age_recipients_parse(struct sotto_age_reclist *list,
    const uint8_t *data, size_t len, const char *name, struct sotto_buf *warn,
    struct sotto_error *e)
{
	struct recipient_lines rl = { list, warn, name };
	size_t before = list->n;
	sotto_err err;

	if (len > KEYFILE_MAX)
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "recipients file '%s' is larger than 16 MiB", name);
	err = each_key_line(data, len, name, 8192, recipient_line, &rl, e);
	if (err == SOTTO_OK && list->n == before)
		err = sotto_error_set(e, SOTTO_E_NO_RECIPIENTS,
		    "no recipients found in '%s'", name);
	return err;
}
