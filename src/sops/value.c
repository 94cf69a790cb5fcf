/* SPDX-License-Identifier: ISC */
/*
 * sops ENC[AES256_GCM,...] values, the sops MAC and lastmodified handling;
 * see sotto/sops_value.h.  AES-GCM itself is src/crypto/aead.c; the Go
 * number/bool rules used to validate typed plaintext are gofmt.c.
 */
#include "sotto/sops_value.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/aead.h"
#include "crypto/b64.h"
#include "sotto/gofmt.h"

_Static_assert(sizeof(crypto_hash_sha512_state) <=
    sizeof(((struct sotto_sops_mac *)0)->st.bytes),
    "struct sotto_sops_mac too small for crypto_hash_sha512_state");

static const char enc_prefix[] = "ENC[AES256_GCM,";
static const char enc_data[] = "ENC[AES256_GCM,data:";

bool
sotto_sops_value_is_enc(const char *s, size_t n)
{
	return s != NULL && n >= sizeof(enc_prefix) - 1 &&
	    memcmp(s, enc_prefix, sizeof(enc_prefix) - 1) == 0;
}

/*
 * Largest index k in [lo, hi) such that s[k..] starts with lit and
 * k + strlen(lit) < limit (the following group is non-empty); -1 if none.
 */
static long
find_last(const char *s, size_t lo, size_t limit, const char *lit)
{
	size_t m = strlen(lit), k;

	if (limit < m + 1 || limit - m - 1 < lo)
		return -1;
	for (k = limit - m - 1;; k--) {
		if (s[k] == ',' && memcmp(s + k, lit, m) == 0)
			return (long)k;
		if (k == lo)
			break;
	}
	return -1;
}

static sotto_err
decode_part(struct sotto_buf *b, const char *s, size_t n, const char *what,
    struct sotto_error *e)
{
	size_t len;

	if (sotto_buf_grow(b, SOTTO_B64_DECODED_MAX(n)) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_NOMEM,
		    "cannot decode 'ENC[...]' value: out of memory");
	if (!sotto_b64_decode(b->data, &len, s, n, true))
		return sotto_error_set(e, SOTTO_E_ENC_VALUE,
		    "malformed 'ENC[AES256_GCM,...]' value: invalid base64 "
		    "in '%s'", what);
	b->len = len;
	b->data[len] = '\0';
	return SOTTO_OK;
}

/*
 * Finds the four groups of an ENC string (no decoding, no allocation).
 * Returns 0, or 1 for a missing prefix, 2 for missing fields.
 */
static int
enc_split(struct sotto_sops_enc *out, const char *s, size_t n)
{
	const char *nl;
	size_t line, p0 = sizeof(enc_data) - 1, k;
	long br = -1, ty, tg, iv;

	/* '.' does not match '\n' and no literal contains one */
	nl = n > 0 ? memchr(s, '\n', n) : NULL;
	line = nl != NULL ? (size_t)(nl - s) : n;
	if (line < p0 || memcmp(s, enc_data, p0) != 0)
		return 1;

	/*
	 * Greedy groups, leftmost-first: each group's end is the LAST
	 * separator that still lets everything after it match, and whether
	 * the rest matches depends only on where it starts.  So compute
	 * right to left: the last ']' ends type, the last ",type:" before it
	 * (with a non-empty type) ends tag, and so on.
	 */
	for (k = line; k > p0; k--)
		if (s[k - 1] == ']') {
			br = (long)(k - 1);
			break;
		}
	ty = br < 0 ? -1 : find_last(s, p0 + 1, (size_t)br, ",type:");
	tg = ty < 0 ? -1 : find_last(s, p0 + 1, (size_t)ty, ",tag:");
	iv = tg < 0 ? -1 : find_last(s, p0 + 1, (size_t)tg, ",iv:");
	if (br < 0 || ty < 0 || tg < 0 || iv < 0)
		return 2;
	out->data_b64 = s + p0;
	out->data_b64len = (size_t)iv - p0;
	out->iv_b64 = s + iv + 4;
	out->iv_b64len = (size_t)(tg - iv - 4);
	out->tag_b64 = s + tg + 5;
	out->tag_b64len = (size_t)(ty - tg - 5);
	out->type = s + ty + 6;
	out->typelen = (size_t)(br - ty - 6);
	return 0;
}

sotto_err
sotto_sops_value_parse(struct sotto_sops_enc *out, const char *s, size_t n,
    struct sotto_error *e)
{
	struct sotto_buf tag = SOTTO_BUF_INIT;
	sotto_err err;
	int r;

	memset(out, 0, sizeof(*out));
	out->data = (struct sotto_buf)SOTTO_BUF_INIT;
	out->iv = (struct sotto_buf)SOTTO_BUF_INIT;
	if (s == NULL)
		n = 0;
	if ((r = enc_split(out, s, n)) == 1)
		return sotto_error_set(e, SOTTO_E_ENC_VALUE,
		    "malformed 'ENC[AES256_GCM,...]' value: no "
		    "'ENC[AES256_GCM,data:' prefix");
	if (r != 0)
		return sotto_error_set(e, SOTTO_E_ENC_VALUE,
		    "malformed 'ENC[AES256_GCM,...]' value: expected "
		    "data, iv, tag and type fields");

	if ((err = decode_part(&out->data, out->data_b64, out->data_b64len,
	    "data", e)) != SOTTO_OK ||
	    (err = decode_part(&out->iv, out->iv_b64, out->iv_b64len, "iv",
	    e)) != SOTTO_OK ||
	    (err = decode_part(&tag, out->tag_b64, out->tag_b64len, "tag",
	    e)) != SOTTO_OK)
		goto out;
	if (out->iv.len == 0) {
		err = sotto_error_set(e, SOTTO_E_ENC_VALUE,
		    "malformed 'ENC[AES256_GCM,...]' value: empty iv");
		goto out;
	}
	if (tag.len != SOTTO_SOPS_TAG_BYTES) {
		err = sotto_error_set(e, SOTTO_E_ENC_VALUE,
		    "malformed 'ENC[AES256_GCM,...]' value: tag is %zu bytes, "
		    "want 16", tag.len);
		goto out;
	}
	memcpy(out->tag, tag.data, SOTTO_SOPS_TAG_BYTES);
	err = SOTTO_OK;
out:
	sotto_buf_release(&tag);
	if (err != SOTTO_OK)
		sotto_sops_value_release(out);
	return err;
}

void
sotto_sops_value_release(struct sotto_sops_enc *enc)
{
	if (enc == NULL)
		return;
	sotto_buf_release(&enc->data);
	sotto_buf_release(&enc->iv);
}

static bool
type_known(const char *t, size_t n, bool for_encrypt)
{
	static const char *const types[] = { "str", "int", "float", "bool",
	    "time", "comment", "bytes" };
	size_t i, count = sizeof(types) / sizeof(types[0]);

	if (for_encrypt)
		count--;	/* sops 3.x never writes "bytes" */
	for (i = 0; i < count; i++)
		if (strlen(types[i]) == n && memcmp(types[i], t, n) == 0)
			return true;
	return false;
}

sotto_err
sotto_sops_value_encrypt(struct sotto_buf *out, const uint8_t *plain,
    size_t n, const char *type, const char *aad, size_t aadlen,
    const uint8_t key[32], const uint8_t *iv_or_null, struct sotto_error *e)
{
	struct sotto_aead_gcm *g = sotto_aead_gcm_new(key);
	sotto_err err;

	if (g == NULL)
		return sotto_error_set(e, SOTTO_E_CRYPTO,
		    "cannot encrypt value: AES-GCM setup failed");
	err = sotto_sops_value_encrypt_with(out, plain, n, type, aad, aadlen,
	    g, iv_or_null, e);
	sotto_aead_gcm_free(g);
	return err;
}

sotto_err
sotto_sops_value_encrypt_with(struct sotto_buf *out, const uint8_t *plain,
    size_t n, const char *type, const char *aad, size_t aadlen,
    struct sotto_aead_gcm *g, const uint8_t *iv_or_null,
    struct sotto_error *e)
{
	uint8_t iv[SOTTO_SOPS_IV_BYTES], tag[SOTTO_SOPS_TAG_BYTES];
	uint8_t *ct = NULL, small[256];	/* ciphertext: not secret */
	size_t start = out->len;
	sotto_err err = SOTTO_OK;

	if (type == NULL || !type_known(type, strlen(type), true))
		return sotto_error_set(e, SOTTO_E_USAGE,
		    "cannot encrypt value: unsupported type");
	if (n == 0)	/* sops keeps "" unencrypted */
		return SOTTO_OK;
	if (iv_or_null != NULL)
		memcpy(iv, iv_or_null, sizeof(iv));
	else
		randombytes_buf(iv, sizeof(iv));
	ct = n <= sizeof(small) ? small : malloc(n);
	if (ct == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM,
		    "cannot encrypt value: out of memory");
	if (!sotto_aead_gcm_seal(g, ct, tag, plain, n,
	    (const uint8_t *)aad, aad != NULL ? aadlen : 0, iv, sizeof(iv))) {
		err = sotto_error_set(e, SOTTO_E_ENCRYPT,
		    "cannot encrypt value: AES-GCM failed");
		goto out;
	}
	if (sotto_buf_addstr(out, enc_data) != SOTTO_OK ||
	    sotto_b64_encode(out, ct, n, true) != 0 ||
	    sotto_buf_addstr(out, ",iv:") != SOTTO_OK ||
	    sotto_b64_encode(out, iv, sizeof(iv), true) != 0 ||
	    sotto_buf_addstr(out, ",tag:") != SOTTO_OK ||
	    sotto_b64_encode(out, tag, sizeof(tag), true) != 0 ||
	    sotto_buf_addstr(out, ",type:") != SOTTO_OK ||
	    sotto_buf_addstr(out, type) != SOTTO_OK ||
	    sotto_buf_addch(out, ']') != SOTTO_OK) {
		sotto_buf_truncate(out, start);
		err = sotto_error_set(e, SOTTO_E_NOMEM,
		    "cannot encrypt value: out of memory");
		goto out;
	}
out:
	if (ct != small)
		free(ct);
	return err;
}

/* Is the decrypted text acceptable to sops' decoder for its type? */
static bool
content_ok(const char *type, const uint8_t *p, size_t n);

/* The same with a type that is not NUL-terminated (a known one). */
static bool
content_ok_n(const char *t, size_t tn, const uint8_t *p, size_t n)
{
	char type[SOTTO_SOPS_TYPE_MAX];

	if (tn == 3 && memcmp(t, "str", 3) == 0)
		return true;
	memcpy(type, t, tn);
	type[tn] = '\0';
	return content_ok(type, p, n);
}

static bool
content_ok(const char *type, const uint8_t *p, size_t n)
{
	char tbuf[64], norm[64];
	int64_t i;
	double d;
	bool b;

	if (strcmp(type, "int") == 0)
		return sotto_gofmt_parse_int((const char *)p, n, &i);
	if (strcmp(type, "float") == 0)
		return sotto_gofmt_parse_float((const char *)p, n, &d);
	if (strcmp(type, "bool") == 0)
		return sotto_gofmt_parse_bool((const char *)p, n, &b);
	if (strcmp(type, "time") == 0) {
		if (n >= sizeof(tbuf) || memchr(p, '\0', n) != NULL)
			return false;
		memcpy(tbuf, p, n);
		tbuf[n] = '\0';
		return sotto_sops_time_rfc3339_normalize(norm, tbuf, NULL) ==
		    SOTTO_OK;
	}
	return true;
}

sotto_err
sotto_sops_value_decrypt(struct sotto_buf *plain, char *type_out,
    const char *s, size_t n, const char *aad, size_t aadlen,
    const uint8_t key[32], struct sotto_error *e)
{
	struct sotto_aead_gcm *g = sotto_aead_gcm_new(key);
	sotto_err err;

	if (g == NULL)
		return sotto_error_set(e, SOTTO_E_CRYPTO,
		    "cannot decrypt value: AES-GCM setup failed");
	err = sotto_sops_value_decrypt_with(plain, type_out, s, n, aad,
	    aadlen, g, e);
	sotto_aead_gcm_free(g);
	return err;
}

/* The general path: parse (allocating), then decrypt. */
static sotto_err
decrypt_slow(struct sotto_buf *plain, char *type_out, const char *s,
    size_t n, const char *aad, size_t aadlen, struct sotto_aead_gcm *g,
    struct sotto_error *e)
{
	struct sotto_sops_enc enc;
	char type[SOTTO_SOPS_TYPE_MAX];
	size_t start = plain->len;
	uint8_t *dst;
	sotto_err err;

	if (type_out != NULL)
		type_out[0] = '\0';
	plain->secret = true;
	if ((err = sotto_sops_value_parse(&enc, s, n, e)) != SOTTO_OK)
		return err;
	if (sotto_buf_grow(plain, enc.data.len) != SOTTO_OK) {
		err = sotto_error_set(e, SOTTO_E_NOMEM,
		    "cannot decrypt value: out of memory");
		goto out;
	}
	dst = plain->data + start;
	if (!sotto_aead_gcm_open(g, dst, enc.data.data, enc.data.len,
	    enc.tag, (const uint8_t *)aad, aad != NULL ? aadlen : 0,
	    enc.iv.data, enc.iv.len)) {
		err = sotto_error_set(e, SOTTO_E_DECRYPT,
		    "cannot decrypt value: authentication failed (wrong key "
		    "or path, or tampered value)");
		goto out;
	}
	plain->len = start + enc.data.len;
	plain->data[plain->len] = '\0';
	if (!type_known(enc.type, enc.typelen, false)) {
		err = sotto_error_set(e, SOTTO_E_ENC_VALUE,
		    "cannot decrypt value: unknown datatype");
		goto out;
	}
	memcpy(type, enc.type, enc.typelen);
	type[enc.typelen] = '\0';
	if (!content_ok(type, plain->data + start, enc.data.len)) {
		err = sotto_error_set(e, SOTTO_E_ENC_VALUE,
		    "cannot decrypt value: plaintext is not a valid '%s'",
		    type);
		goto out;
	}
	if (type_out != NULL)
		memcpy(type_out, type, enc.typelen + 1);
	err = SOTTO_OK;
out:
	if (err != SOTTO_OK && plain->data != NULL) {
		sodium_memzero(plain->data + start, plain->cap - start);
		sotto_buf_truncate(plain, start);
	}
	sotto_sops_value_release(&enc);
	return err;
}

/*
 * The common case without allocation: IV and tag are decoded on the stack
 * and the ciphertext straight into plain, where it is decrypted in place.
 * Anything unusual (or any error) goes through decrypt_slow(), which
 * reports exactly what the general parser reports.
 */
sotto_err
sotto_sops_value_decrypt_with(struct sotto_buf *plain, char *type_out,
    const char *s, size_t n, const char *aad, size_t aadlen,
    struct sotto_aead_gcm *g, struct sotto_error *e)
{
	struct sotto_sops_enc enc;
	uint8_t iv[72], tag[24];
	size_t start = plain->len, ivlen, taglen, clen;
	uint8_t *dst;

	if (type_out != NULL)
		type_out[0] = '\0';
	plain->secret = true;
	if (s == NULL || enc_split(&enc, s, n) != 0 || enc.iv_b64len > 84 ||
	    enc.tag_b64len != 24 ||
	    !sotto_b64_decode(iv, &ivlen, enc.iv_b64, enc.iv_b64len, true) ||
	    ivlen == 0 ||
	    !sotto_b64_decode(tag, &taglen, enc.tag_b64, enc.tag_b64len,
	    true) || taglen != SOTTO_SOPS_TAG_BYTES ||
	    !type_known(enc.type, enc.typelen, false) ||
	    sotto_buf_grow(plain, SOTTO_B64_DECODED_MAX(enc.data_b64len)) !=
	    SOTTO_OK)
		return decrypt_slow(plain, type_out, s, n, aad, aadlen, g, e);
	dst = plain->data + start;
	if (!sotto_b64_decode(dst, &clen, enc.data_b64, enc.data_b64len,
	    true))
		return decrypt_slow(plain, type_out, s, n, aad, aadlen, g, e);
	if (!sotto_aead_gcm_open(g, dst, dst, clen, tag,
	    (const uint8_t *)aad, aad != NULL ? aadlen : 0, iv, ivlen)) {
		sodium_memzero(dst, plain->cap - start);
		plain->data[start] = '\0';
		return sotto_error_set(e, SOTTO_E_DECRYPT,
		    "cannot decrypt value: authentication failed (wrong key "
		    "or path, or tampered value)");
	}
	plain->len = start + clen;
	plain->data[plain->len] = '\0';
	if (!content_ok_n(enc.type, enc.typelen, dst, clen)) {
		char type[SOTTO_SOPS_TYPE_MAX];

		memcpy(type, enc.type, enc.typelen);
		type[enc.typelen] = '\0';
		sodium_memzero(dst, plain->cap - start);
		sotto_buf_truncate(plain, start);
		return sotto_error_set(e, SOTTO_E_ENC_VALUE,
		    "cannot decrypt value: plaintext is not a valid '%s'",
		    type);
	}
	if (type_out != NULL) {
		memcpy(type_out, enc.type, enc.typelen);
		type_out[enc.typelen] = '\0';
	}
	return SOTTO_OK;
}

void
sotto_sops_mac_init(struct sotto_sops_mac *m, bool mac_only_encrypted)
{
	crypto_hash_sha512_state *st = (void *)m->st.bytes;
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha512_init(st);
	if (mac_only_encrypted) {
		crypto_hash_sha256(h, (const uint8_t *)"sops", 4);
		crypto_hash_sha512_update(st, h, sizeof(h));
	}
}

void
sotto_sops_mac_add(struct sotto_sops_mac *m, const uint8_t *p, size_t n)
{
	if (n > 0)
		crypto_hash_sha512_update((void *)m->st.bytes, p, n);
}

void
sotto_sops_mac_final(struct sotto_sops_mac *m, char hex[SOTTO_SOPS_MAC_HEX])
{
	static const char digits[] = "0123456789ABCDEF";
	uint8_t d[crypto_hash_sha512_BYTES];
	size_t i;

	crypto_hash_sha512_final((void *)m->st.bytes, d);
	for (i = 0; i < sizeof(d); i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[2 * sizeof(d)] = '\0';
	sodium_memzero(d, sizeof(d));
	sodium_memzero(m, sizeof(*m));
}

sotto_err
sotto_sops_mac_encrypt(struct sotto_buf *out,
    const char hex[SOTTO_SOPS_MAC_HEX], const char *lastmodified,
    const uint8_t key[32], const uint8_t *iv_or_null, struct sotto_error *e)
{
	char aad[64];

	if (sotto_sops_time_rfc3339_normalize(aad, lastmodified, e) !=
	    SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_SOPS_METADATA,
		    "cannot encrypt mac: 'lastmodified' is not an RFC 3339 "
		    "time");
	return sotto_sops_value_encrypt(out, (const uint8_t *)hex,
	    strlen(hex), "str", aad, strlen(aad), key, iv_or_null, e);
}

sotto_err
sotto_sops_mac_check(const char *enc_mac, const char *lastmodified_raw,
    const char hex[SOTTO_SOPS_MAC_HEX], const uint8_t key[32],
    struct sotto_error *e)
{
	struct sotto_buf stored = SOTTO_BUF_SECRET_INIT;
	char aad[64], type[SOTTO_SOPS_TYPE_MAX];
	size_t hexlen = strlen(hex);
	sotto_err err;

	if (enc_mac == NULL || enc_mac[0] == '\0')
		return sotto_error_set(e, SOTTO_E_MAC_NOT_FOUND,
		    "no mac in sops metadata");
	if (lastmodified_raw == NULL ||
	    sotto_sops_time_rfc3339_normalize(aad, lastmodified_raw, e) !=
	    SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_SOPS_METADATA,
		    "'lastmodified' is not an RFC 3339 time");
	if (sotto_sops_value_decrypt(&stored, type, enc_mac, strlen(enc_mac),
	    aad, strlen(aad), key, e) != SOTTO_OK) {
		err = sotto_error_set(e, SOTTO_E_MAC_MISMATCH,
		    "mac mismatch: stored mac cannot be decrypted");
		goto out;
	}
	if (strcmp(type, "str") != 0 || stored.len != hexlen ||
	    sodium_memcmp(stored.data, hex, hexlen) != 0) {
		err = sotto_error_set(e, SOTTO_E_MAC_MISMATCH,
		    "mac mismatch: file has been modified or values are "
		    "missing");
		goto out;
	}
	err = SOTTO_OK;
out:
	sotto_buf_release(&stored);
	return err;
}

static int
num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
days_in(int month, int year)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : d[month - 1];
}

static void
put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

sotto_err
sotto_sops_time_rfc3339_normalize(char out[64], const char *in,
    struct sotto_error *e)
{
	int year, mon, day, hour, min, sec, oh = 0, om = 0, off = 0;
	size_t n = strlen(in), i, hl;
	char sign = 0;

	/* YYYY-MM-DDT */
	if (n < 11 || in[4] != '-' || in[7] != '-' || in[10] != 'T')
		goto bad;
	year = num(in, 4);
	mon = num(in + 5, 2);
	day = num(in + 8, 2);
	if (year < 0 || mon < 1 || mon > 12 || day < 1 ||
	    day > days_in(mon, year))
		goto bad;
	/* Go's "15" hour takes one or two digits */
	i = 11;
	hl = i + 1 < n && in[i + 1] >= '0' && in[i + 1] <= '9' ? 2 : 1;
	if (i + hl > n || (hour = num(in + i, hl)) < 0 || hour > 23)
		goto bad;
	i += hl;
	if (i + 6 > n || in[i] != ':' || in[i + 3] != ':')
		goto bad;
	min = num(in + i + 1, 2);
	sec = num(in + i + 4, 2);
	if (min < 0 || min > 59 || sec < 0 || sec > 59)
		goto bad;
	i += 6;
	if (i + 1 < n && (in[i] == '.' || in[i] == ',') && in[i + 1] >= '0' &&
	    in[i + 1] <= '9') {
		for (i++; i < n && in[i] >= '0' && in[i] <= '9'; i++)
			;
	}
	if (i + 1 == n && in[i] == 'Z')
		off = 0;
	else if (i + 6 == n && (in[i] == '+' || in[i] == '-') &&
	    in[i + 3] == ':') {
		sign = in[i];
		oh = num(in + i + 1, 2);
		om = num(in + i + 4, 2);
		/* Go's general parser allows 24 hours and 60 minutes */
		if (oh < 0 || om < 0 || oh > 24 || om > 60)
			goto bad;
		off = oh * 60 + om;
	} else
		goto bad;

	put2(out, year / 100);
	put2(out + 2, year % 100);
	out[4] = '-';
	put2(out + 5, mon);
	out[7] = '-';
	put2(out + 8, day);
	out[10] = 'T';
	put2(out + 11, hour);
	out[13] = ':';
	put2(out + 14, min);
	out[16] = ':';
	put2(out + 17, sec);
	if (off == 0) {
		out[19] = 'Z';
		out[20] = '\0';
	} else {
		out[19] = sign;
		put2(out + 20, off / 60);
		out[22] = ':';
		put2(out + 23, off % 60);
		out[25] = '\0';
	}
	return SOTTO_OK;
bad:
	return sotto_error_set(e, SOTTO_E_PARSE,
	    "timestamp is not RFC 3339 (YYYY-MM-DDTHH:MM:SSZ)");
}

void
sotto_sops_time_now(char out[32])
{
	struct tm tm;
	time_t t = time(NULL);

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		memcpy(out, "1970-01-01T00:00:00Z", 21);
}
