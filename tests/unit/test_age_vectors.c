/* SPDX-License-Identifier: ISC */
/*
 * The CCTV age test kit ($SOTTO_SHARED/vectors/age, README.md there) run
 * through the library API exactly as the kit's harness describes: zlib
 * bodies are inflated, armor is left to sotto_age_decrypt's detection,
 * identities come from sotto_age_identity_parse and passphrases from
 * sotto_age_identity_scrypt(..., 22), and the sink appends every released
 * chunk so the SHA-256 of partial releases can be checked.  Each `expect:`
 * maps to one sotto_err, as testkit_test.go does.  The 19 hybrid
 * (post-quantum, mlkem768x25519) vectors run like the others and are
 * counted separately.
 *
 * Extra checks from the CCTV README: armor decode/encode round trip for
 * armored success vectors, header parse/encode round trip for every vector
 * that is not a header or armor failure, and STREAM re-encryption with the
 * `file key` for success vectors.
 */
#include "testutil.h"

#include <dirent.h>
#include <sodium.h>
#include <zlib.h>

#include "crypto/age_internal.h"
#include "crypto/prim.h"
#include "sotto/age.h"
#include "sotto/secret.h"

#define MAX_KEYS 8

struct vector {
	char name[128];
	char expect[32];
	char payload[65];		/* hex SHA-256, "" if absent */
	char file_key[33];		/* hex, "" if absent */
	char *keys[MAX_KEYS];		/* identity/passphrase values */
	bool is_pass[MAX_KEYS];		/* keys[i] is a passphrase */
	size_t nkeys;
	bool armored, compressed, hybrid;
	uint8_t *raw;			/* whole file (owns body) */
	const uint8_t *body;		/* age file after inflate */
	size_t body_len;
	uint8_t *inflated;		/* owned, when compressed */
};

/* ---- loading ---------------------------------------------------------- */

static uint8_t *
inflate_all(const uint8_t *p, size_t n, size_t *outlen)
{
	z_stream z;
	uint8_t *out = NULL, *nb;
	size_t cap = 1 << 16;
	int rc;

	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		return NULL;
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)n;
	do {
		cap *= 2;
		nb = realloc(out, cap);
		if (nb == NULL) {
			free(out);
			inflateEnd(&z);
			return NULL;
		}
		out = nb;
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
	} while (rc == Z_OK || (rc == Z_BUF_ERROR && z.avail_out == 0));
	*outlen = z.total_out;
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}

static void
vector_free(struct vector *v)
{
	size_t i;

	for (i = 0; i < v->nkeys; i++)
		free(v->keys[i]);
	free(v->raw);
	free(v->inflated);
	memset(v, 0, sizeof(*v));
}

static void
copy_field(char *dst, size_t cap, const char *val, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, val, n);
	dst[n] = '\0';
}

/* Parses one vector file; false (with a message) if it is unreadable. */
static bool
vector_load(struct vector *v, const char *dir, const char *name)
{
	char path[1024];
	size_t len, off = 0, klen, vlen;
	const char *line, *sep, *lf, *end;

	memset(v, 0, sizeof(*v));
	copy_field(v->name, sizeof(v->name), name, strlen(name));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	v->raw = test_read_file(path, &len);
	if (v->raw == NULL)
		return false;
	end = memmem(v->raw, len, "\n\n", 2);
	if (end == NULL)
		return false;
	v->body = (const uint8_t *)end + 2;
	v->body_len = len - (size_t)(v->body - v->raw);
	while (off < (size_t)(end - (const char *)v->raw) + 1) {
		line = (const char *)v->raw + off;
		lf = memchr(line, '\n', len - off);
		off += (size_t)(lf - line) + 1;
		sep = memmem(line, (size_t)(lf - line), ": ", 2);
		if (sep == NULL)
			return false;
		klen = (size_t)(sep - line);
		vlen = (size_t)(lf - sep - 2);
#define KEY(k) (klen == strlen(k) && memcmp(line, k, klen) == 0)
		if (KEY("expect"))
			copy_field(v->expect, sizeof(v->expect), sep + 2, vlen);
		else if (KEY("payload"))
			copy_field(v->payload, sizeof(v->payload), sep + 2, vlen);
		else if (KEY("file key"))
			copy_field(v->file_key, sizeof(v->file_key), sep + 2,
			    vlen);
		else if (KEY("identity") || KEY("passphrase")) {
			if (v->nkeys == MAX_KEYS)
				return false;
			v->is_pass[v->nkeys] = KEY("passphrase");
			v->keys[v->nkeys] = strndup(sep + 2, vlen);
			if (strncmp(v->keys[v->nkeys], "AGE-SECRET-KEY-PQ-",
			    18) == 0)
				v->hybrid = true;
			v->nkeys++;
		} else if (KEY("armored"))
			v->armored = vlen == 3 && memcmp(sep + 2, "yes", 3) == 0;
		else if (KEY("compressed"))
			v->compressed = true;
		else if (!KEY("comment"))
			return false;	/* unknown key: the kit says skip */
#undef KEY
	}
	if (v->compressed) {
		v->inflated = inflate_all(v->body, v->body_len, &v->body_len);
		if (v->inflated == NULL)
			return false;
		v->body = v->inflated;
	}
	return v->expect[0] != '\0';
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted vector file names (README.md excluded); caller frees. */
static char **
list_vectors(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;

	*n = 0;
	if (d == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "README.md") == 0)
			continue;
		v = realloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), name_cmp);
	return v;
}

static void
list_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static const char *
vec_dir(char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/vectors/age", test_shared_dir());
	return buf;
}

/* ---- sources and sinks ------------------------------------------------ */

/* A memory source returning irregular short reads to exercise buffering. */
struct mem_src {
	const uint8_t *p;
	size_t n, off;
	unsigned step;
};

static sotto_err
mem_read(void *ctx, uint8_t *p, size_t n, size_t *got, struct sotto_error *e)
{
	static const size_t sizes[] = { 1, 3, 17, 4096, 70000, 1u << 20 };
	struct mem_src *m = ctx;
	size_t k = sizes[m->step++ % 6];

	(void)e;
	if (k > n)
		k = n;
	if (k > m->n - m->off)
		k = m->n - m->off;
	memcpy(p, m->p + m->off, k);
	m->off += k;
	*got = k;
	return SOTTO_OK;
}

static sotto_err
buf_sink(void *ctx, const uint8_t *p, size_t n, struct sotto_error *e)
{
	if (sotto_buf_add(ctx, p, n))
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

static void
sha256_hex(char out[65], const uint8_t *p, size_t n)
{
	uint8_t h[32];

	crypto_hash_sha256(h, p, n);
	test_hex(out, h, 32);
}

static const struct {
	const char *expect;
	sotto_err code;
} outcomes[] = {
	{ "success", SOTTO_OK },
	{ "no match", SOTTO_E_AGE_NO_MATCH },
	{ "HMAC failure", SOTTO_E_AGE_HMAC },
	{ "header failure", SOTTO_E_AGE_HEADER },
	{ "payload failure", SOTTO_E_AGE_PAYLOAD },
	{ "armor failure", SOTTO_E_AGE_ARMOR },
};

static const char *
outcome_name(sotto_err code)
{
	size_t i;

	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		if (outcomes[i].code == code)
			return outcomes[i].expect;
	return "other error";
}

/* ---- the harness ------------------------------------------------------ */

/* True if the body starts with the BEGIN line after blank space. */
static bool
starts_with_begin(const struct vector *v)
{
	size_t i = 0, n = strlen(AGE_ARMOR_BEGIN);

	while (i < v->body_len && strchr(" \t\r\n\v\f", v->body[i]) != NULL &&
	    v->body[i] != '\0')
		i++;
	return v->body_len - i >= n && memcmp(v->body + i, AGE_ARMOR_BEGIN,
	    n) == 0;
}

/*
 * Runs one vector; returns true if outcome and payload hash match.  With
 * autodetect, armored bodies go to sotto_age_decrypt as raw bytes and its
 * armor detection is exercised instead of an explicit armor reader.
 */
static bool
run_vector(const struct vector *v, bool autodetect, char *why,
    size_t whycap)
{
	struct sotto_age_idlist ids = { NULL, 0 };
	struct age_armor_reader *ar = NULL;
	struct sotto_age_identity *id;
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct mem_src src = { v->body, v->body_len, 0, 0 };
	char hash[65];
	size_t i;
	sotto_err err;
	bool ok = false;

	for (i = 0; i < v->nkeys; i++) {
		if (v->is_pass[i])
			err = sotto_age_identity_scrypt(&id, v->keys[i],
			    strlen(v->keys[i]), SOTTO_AGE_SCRYPT_MAX_LOGN, &e);
		else
			err = sotto_age_identity_parse(&id, v->keys[i], &e);
		if (err != SOTTO_OK) {
			snprintf(why, whycap, "identity %zu: %s", i, e.msg);
			goto out;
		}
		if (sotto_age_idlist_add(&ids, id) != SOTTO_OK)
			goto out;
	}
	if (v->armored && !autodetect) {
		/* the kit's harness: armor_reader(body) when `armored: yes` */
		if (age_armor_reader_new(&ar, mem_read, &src, NULL, 0))
			goto out;
		err = sotto_age_decrypt(age_armor_read, ar, ids.v, ids.n,
		    buf_sink, &out, &e);
	} else {
		err = sotto_age_decrypt(mem_read, &src, ids.v, ids.n, buf_sink,
		    &out, &e);
	}
	if (autodetect && err == SOTTO_E_AGE_HEADER && !starts_with_begin(v)) {
		/*
		 * Documented alias: auto-detection (as in age's CLI) only
		 * sees armor that starts with the exact BEGIN line, so
		 * garbage or a wrong label before it is a header failure.
		 */
		ok = true;
		goto out;
	}
	if (strcmp(outcome_name(err), v->expect) != 0) {
		snprintf(why, whycap, "expected %s, got %s (%d: %s)",
		    v->expect, outcome_name(err), (int)err, e.msg);
		goto out;
	}
	if (v->payload[0] != '\0') {
		sha256_hex(hash, out.data, out.len);
		if (strcmp(hash, v->payload) != 0) {
			snprintf(why, whycap, "payload hash %s (%zu bytes) != "
			    "%s", hash, out.len, v->payload);
			goto out;
		}
	} else if (out.len != 0) {
		snprintf(why, whycap, "released %zu bytes", out.len);
		goto out;
	}
	ok = true;
out:
	age_armor_reader_free(ar);
	sotto_age_idlist_free(&ids);
	sotto_buf_release(&out);
	return ok;
}

static void
test_age_vectors_all(void **state)
{
	char dir[512], why[SOTTO_ERROR_MSG_MAX + 200], **names;
	struct vector v;
	size_t n, i, pass = 0, fail = 0, hybrid = 0, total = 0;
	struct sotto_buf hyb = SOTTO_BUF_INIT;

	(void)state;
	names = list_vectors(vec_dir(dir, sizeof(dir)), &n);
	if (names == NULL)
		fail_msg("cannot read %s (set SOTTO_SHARED)", dir);
	assert_int_equal(n, 143);
	for (i = 0; i < n; i++) {
		if (!vector_load(&v, dir, names[i])) {
			print_error("%s: cannot load vector\n", names[i]);
			fail++;
			vector_free(&v);
			continue;
		}
		total++;
		why[0] = '\0';
		if (run_vector(&v, false, why, sizeof(why))) {
			pass++;
			if (v.hybrid) {
				hybrid++;
				sotto_buf_addf(&hyb, "%s%s", hyb.len ? ", " :
				    "", v.name);
			}
		} else {
			fail++;
			print_error("%s: %s\n", v.name, why);
		}
		if (v.armored && !run_vector(&v, true, why, sizeof(why))) {
			fail++;
			print_error("%s (armor auto-detection): %s\n", v.name,
			    why);
		}
		vector_free(&v);
	}
	print_message("age test kit: %zu/%zu vectors pass, %zu of them "
	    "hybrid (post-quantum)\n", pass, total, hybrid);
	print_message("hybrid vectors passing: %s\n",
	    hyb.len ? (const char *)hyb.data : "(none)");
	sotto_buf_release(&hyb);
	list_free(names, n);
	assert_int_equal(fail, 0);
	assert_int_equal(hybrid, 19);
	assert_int_equal(pass, 143);
}

/* ---- extra checks ----------------------------------------------------- */

/* Binary form of an armored vector body through the armor reader. */
static sotto_err
dearmor(struct sotto_buf *bin, const uint8_t *p, size_t n)
{
	struct age_armor_reader *ar;
	struct mem_src src = { p, n, 0, 0 };
	struct sotto_error e;
	uint8_t tmp[4096];
	size_t got;
	sotto_err err;

	if ((err = age_armor_reader_new(&ar, mem_read, &src, NULL, 0)))
		return err;
	do {
		err = age_armor_read(ar, tmp, sizeof(tmp), &got, &e);
		if (err == SOTTO_OK && sotto_buf_add(bin, tmp, got))
			err = SOTTO_E_NOMEM;
	} while (err == SOTTO_OK && got > 0);
	age_armor_reader_free(ar);
	return err;
}

/* Strips surrounding whitespace and CRs before LFs. */
static void
normalise_armor(struct sotto_buf *out, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (n > 0 && strchr(" \t\r\n\v\f", p[n - 1]) != NULL)
		n--;
	while (i < n && strchr(" \t\r\n\v\f", p[i]) != NULL)
		i++;
	for (; i < n; i++)
		if (!(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n'))
			sotto_buf_addch(out, p[i]);
}

static void
test_age_vectors_armor_roundtrip(void **state)
{
	char dir[512], **names;
	struct vector v;
	struct sotto_buf bin = SOTTO_BUF_INIT, enc = SOTTO_BUF_INIT;
	struct sotto_buf a = SOTTO_BUF_INIT, b = SOTTO_BUF_INIT;
	struct age_armor_writer *w;
	struct sotto_error e;
	size_t n, i, checked = 0;

	(void)state;
	names = list_vectors(vec_dir(dir, sizeof(dir)), &n);
	assert_non_null(names);
	for (i = 0; i < n; i++) {
		assert_true(vector_load(&v, dir, names[i]));
		if (!v.armored || strcmp(v.expect, "success") != 0) {
			vector_free(&v);
			continue;
		}
		sotto_buf_truncate(&bin, 0);
		sotto_buf_truncate(&enc, 0);
		sotto_buf_truncate(&a, 0);
		sotto_buf_truncate(&b, 0);
		assert_int_equal(dearmor(&bin, v.body, v.body_len), SOTTO_OK);
		w = age_armor_writer_new(buf_sink, &enc);
		assert_non_null(w);
		assert_int_equal(age_armor_write(w, bin.data, bin.len, &e),
		    SOTTO_OK);
		assert_int_equal(age_armor_writer_finish(w, &e), SOTTO_OK);
		age_armor_writer_free(w);
		normalise_armor(&a, v.body, v.body_len);
		normalise_armor(&b, enc.data, enc.len);
		if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
			fail_msg("%s: armor re-encoding differs", v.name);
		checked++;
		vector_free(&v);
	}
	print_message("armor round trip: %zu armored success vectors\n",
	    checked);
	assert_true(checked >= 6);
	sotto_buf_release(&bin);
	sotto_buf_release(&enc);
	sotto_buf_release(&a);
	sotto_buf_release(&b);
	list_free(names, n);
}

/* Binary age file of a vector (de-armored if needed) into bin. */
static bool
binary_body(struct sotto_buf *bin, const struct vector *v)
{
	sotto_buf_truncate(bin, 0);
	if (v->armored)
		return dearmor(bin, v->body, v->body_len) == SOTTO_OK;
	return sotto_buf_add(bin, v->body, v->body_len) == SOTTO_OK;
}

static void
reader_init(struct age_reader *r, struct mem_src *src)
{
	memset(r, 0, sizeof(*r));
	r->fn = mem_read;
	r->ctx = src;
	r->cap = SOTTO_AGE_CHUNK + 16;
	r->buf = malloc(r->cap);
	assert_non_null(r->buf);
}

/*
 * Header round trip: parse, re-encode with the file key and compare with
 * the bytes read (the MAC too, except for the HMAC failure vector).
 */
static void
test_age_vectors_header_roundtrip(void **state)
{
	char dir[512], **names;
	struct vector v;
	struct sotto_buf bin = SOTTO_BUF_INIT, enc = SOTTO_BUF_INIT;
	struct age_header h;
	struct age_reader r;
	struct mem_src src;
	struct sotto_error e;
	uint8_t fk[16];
	size_t n, i, checked = 0, hdrlen;

	(void)state;
	names = list_vectors(vec_dir(dir, sizeof(dir)), &n);
	assert_non_null(names);
	for (i = 0; i < n; i++) {
		assert_true(vector_load(&v, dir, names[i]));
		if (strcmp(v.expect, "header failure") == 0 ||
		    strcmp(v.expect, "armor failure") == 0 ||
		    strlen(v.file_key) != 32) {
			vector_free(&v);
			continue;
		}
		assert_true(binary_body(&bin, &v));
		src = (struct mem_src){ bin.data, bin.len, 0, 0 };
		reader_init(&r, &src);
		if (age_header_parse(&h, &r, &e) != SOTTO_OK)
			fail_msg("%s: header does not parse: %s", v.name,
			    e.msg);
		assert_int_equal(sodium_hex2bin(fk, 16, v.file_key, 32, NULL,
		    NULL, NULL), 0);
		sotto_buf_truncate(&enc, 0);
		assert_int_equal(age_header_encode(&enc, &h, fk, &e), SOTTO_OK);
		hdrlen = h.raw.len + 1 + 43 + 1;	/* " " MAC LF */
		assert_true(enc.len == hdrlen);
		if (memcmp(enc.data, h.raw.data, h.raw.len) != 0)
			fail_msg("%s: header re-encoding differs", v.name);
		if (strcmp(v.expect, "HMAC failure") != 0 &&
		    memcmp(enc.data, bin.data, hdrlen) != 0)
			fail_msg("%s: MAC line re-encoding differs", v.name);
		age_header_clear(&h);
		free(r.buf);
		checked++;
		vector_free(&v);
	}
	print_message("header round trip: %zu vectors\n", checked);
	assert_true(checked >= 45);
	sotto_buf_release(&bin);
	sotto_buf_release(&enc);
	list_free(names, n);
}

/*
 * STREAM re-encryption: decrypt a success vector, then encrypt the
 * plaintext again with the payload key from `file key` and the file's
 * nonce, and compare with the payload bytes.
 */
static void
reencrypt_check(const struct vector *v, const struct sotto_buf *bin,
    const struct sotto_buf *pt)
{
	struct age_header h;
	struct age_reader r;
	struct mem_src src = { bin->data, bin->len, 0, 0 };
	struct age_stream_enc *s;
	struct sotto_error e;
	uint8_t fk[16], key[32], *ct;
	size_t payload_off, off = 0, k, pos;
	bool last;

	reader_init(&r, &src);
	assert_int_equal(age_header_parse(&h, &r, &e), SOTTO_OK);
	payload_off = h.raw.len + 1 + 43 + 1;
	assert_true(bin->len >= payload_off + 16);
	assert_int_equal(sodium_hex2bin(fk, 16, v->file_key, 32, NULL, NULL,
	    NULL), 0);
	assert_int_equal(sotto_hkdf_sha256(key, 32, fk, 16,
	    bin->data + payload_off, 16, "payload"), 0);
	s = age_stream_enc_new(key);
	assert_non_null(s);
	ct = malloc(SOTTO_AGE_CHUNK + 16);
	assert_non_null(ct);
	pos = payload_off + 16;
	do {
		k = pt->len - off > SOTTO_AGE_CHUNK ? SOTTO_AGE_CHUNK :
		    pt->len - off;
		last = off + k == pt->len;
		assert_int_equal(age_stream_enc_chunk(s, ct, pt->data + off, k,
		    last, &e), SOTTO_OK);
		if (pos + k + 16 > bin->len ||
		    memcmp(ct, bin->data + pos, k + 16) != 0)
			fail_msg("%s: chunk at %zu re-encrypts differently",
			    v->name, off);
		pos += k + 16;
		off += k;
	} while (!last);
	assert_int_equal(pos, bin->len);
	free(ct);
	age_stream_enc_free(s);
	age_header_clear(&h);
	free(r.buf);
}

static void
test_age_vectors_stream_reencrypt(void **state)
{
	char dir[512], **names;
	struct vector v;
	struct sotto_buf bin = SOTTO_BUF_INIT, pt = SOTTO_BUF_INIT;
	struct sotto_age_idlist ids = { NULL, 0 };
	struct sotto_age_identity *id;
	struct sotto_error e;
	size_t n, i, k, checked = 0;

	(void)state;
	names = list_vectors(vec_dir(dir, sizeof(dir)), &n);
	assert_non_null(names);
	for (i = 0; i < n; i++) {
		assert_true(vector_load(&v, dir, names[i]));
		if (strcmp(v.expect, "success") != 0 ||
		    strlen(v.file_key) != 32 || v.nkeys == 0) {
			vector_free(&v);
			continue;
		}
		assert_true(binary_body(&bin, &v));
		for (k = 0; k < v.nkeys; k++) {
			if (v.is_pass[k])
				assert_int_equal(sotto_age_identity_scrypt(&id,
				    v.keys[k], strlen(v.keys[k]), 22, &e),
				    SOTTO_OK);
			else
				assert_int_equal(sotto_age_identity_parse(&id,
				    v.keys[k], &e), SOTTO_OK);
			assert_int_equal(sotto_age_idlist_add(&ids, id), 0);
		}
		sotto_buf_truncate(&pt, 0);
		assert_int_equal(sotto_age_decrypt_mem(&pt, bin.data, bin.len,
		    ids.v, ids.n, &e), SOTTO_OK);
		sotto_age_idlist_free(&ids);
		reencrypt_check(&v, &bin, &pt);
		checked++;
		vector_free(&v);
	}
	print_message("STREAM re-encryption: %zu success vectors\n", checked);
	assert_true(checked >= 20);
	sotto_buf_release(&bin);
	sotto_buf_release(&pt);
	list_free(names, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age_vectors_all),
		cmocka_unit_test(test_age_vectors_armor_roundtrip),
		cmocka_unit_test(test_age_vectors_header_roundtrip),
		cmocka_unit_test(test_age_vectors_stream_reencrypt),
	};

	if (sotto_secret_init() != SOTTO_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
