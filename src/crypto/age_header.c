/* SPDX-License-Identifier: ISC */
/*
 * Parses and writes the age header: version line, recipient stanzas and the
 * MAC line (spec age-format.md §2).  Parsing is canonical-only, so the MAC
 * is computed over the raw bytes as read.  The payload belongs to
 * age_stream.c.
 */
#include "crypto/age_internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/b64.h"
#include "crypto/prim.h"

void
age_stanza_clear(struct age_stanza *s)
{
	size_t i;

	free(s->type);
	for (i = 0; i < s->nargs; i++)
		free(s->args[i]);
	free(s->args);
	if (s->body != NULL)
		sodium_memzero(s->body, s->body_len);
	free(s->body);
	memset(s, 0, sizeof(*s));
}

void
age_header_clear(struct age_header *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		age_stanza_clear(&h->st[i]);
	free(h->st);
	sotto_buf_release(&h->raw);
	memset(h, 0, sizeof(*h));
}

struct age_stanza *
age_header_add(struct age_header *h, const char *type)
{
	struct age_stanza *n;

	if (h->n >= AGE_MAX_STANZAS)
		return NULL;
	n = realloc(h->st, (h->n + 1) * sizeof(*n));
	if (n == NULL)
		return NULL;
	h->st = n;
	memset(&n[h->n], 0, sizeof(*n));
	n[h->n].type = strdup(type);
	if (n[h->n].type == NULL)
		return NULL;
	return &n[h->n++];
}

sotto_err
age_stanza_add_arg(struct age_stanza *s, const char *arg)
{
	char **n = realloc(s->args, (s->nargs + 1) * sizeof(*n));

	if (n == NULL)
		return SOTTO_E_NOMEM;
	s->args = n;
	n[s->nargs] = strdup(arg);
	if (n[s->nargs] == NULL)
		return SOTTO_E_NOMEM;
	s->nargs++;
	return SOTTO_OK;
}

sotto_err
age_stanza_set_body(struct age_stanza *s, const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	if (b == NULL)
		return SOTTO_E_NOMEM;
	if (n > 0)
		memcpy(b, p, n);
	if (s->body != NULL)
		sodium_memzero(s->body, s->body_len);
	free(s->body);
	s->body = b;
	s->body_len = n;
	return SOTTO_OK;
}

bool
age_b64_arg(uint8_t *out, size_t want, const char *arg)
{
	size_t n = strlen(arg), got;
	uint8_t tmp[SOTTO_B64_DECODED_MAX(64)];

	if (n > 64 || !sotto_b64_decode(tmp, &got, arg, n, false) ||
	    got != want)
		return false;
	memcpy(out, tmp, want);
	return true;
}

sotto_err
age_header_mac(uint8_t mac[32], const uint8_t file_key[16], const uint8_t *raw,
    size_t n)
{
	uint8_t key[32];
	crypto_auth_hmacsha256_state st;

	if (sotto_hkdf_sha256(key, 32, file_key, 16, NULL, 0, "header") != 0)
		return SOTTO_E_CRYPTO;
	crypto_auth_hmacsha256_init(&st, key, 32);
	crypto_auth_hmacsha256_update(&st, raw, n);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&st, sizeof(st));
	return SOTTO_OK;
}

static bool
valid_arg(const char *a, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)a[i] < 0x21 || (unsigned char)a[i] > 0x7e)
			return false;
	return true;
}

/* Splits "-> a b c" (no LF) into a stanza. */
static sotto_err
parse_arg_line(struct age_header *h, char *line, size_t n,
    struct sotto_error *e)
{
	struct age_stanza *s = NULL;
	size_t i = 0, j, count = 0;
	char sep;

	if (n < 2 || memcmp(line, "->", 2) != 0)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "malformed stanza opening line");
	i = 2;
	while (i < n) {
		if (line[i] != ' ')
			return sotto_error_set(e, SOTTO_E_AGE_HEADER,
			    "malformed stanza opening line");
		j = ++i;
		while (j < n && line[j] != ' ')
			j++;
		if (!valid_arg(line + i, j - i))
			return sotto_error_set(e, SOTTO_E_AGE_HEADER,
			    "malformed stanza: invalid or empty argument");
		sep = line[j];
		line[j] = '\0';
		if (count == 0) {
			s = age_header_add(h, line + i);
			if (s == NULL)
				return sotto_error_set(e, SOTTO_E_AGE_HEADER,
				    "too many stanzas or out of memory");
		} else if (age_stanza_add_arg(s, line + i) != SOTTO_OK) {
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		}
		line[j] = sep;
		count++;
		i = j;
	}
	if (count == 0)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "malformed stanza: no arguments");
	return SOTTO_OK;
}

/* Reads the stanza body lines following an argument line. */
static sotto_err
parse_body(struct age_header *h, struct age_reader *r, struct sotto_buf *line,
    struct sotto_error *e)
{
	struct age_stanza *s = &h->st[h->n - 1];
	struct sotto_buf body = SOTTO_BUF_SECRET_INIT;
	uint8_t dec[SOTTO_B64_DECODED_MAX(64)];
	size_t got, n;
	bool eof;
	sotto_err err;

	for (;;) {
		sotto_buf_truncate(line, 0);
		if ((err = age_reader_line(r, line, 66, &eof, e)) != SOTTO_OK)
			goto out;
		if (eof) {
			err = sotto_error_set(e, SOTTO_E_AGE_HEADER,
			    "unexpected end of header");
			goto out;
		}
		if (sotto_buf_add(&h->raw, line->data, line->len)) {
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
			goto out;
		}
		n = line->len - 1;	/* strip LF */
		if (n > 64 || !sotto_b64_decode(dec, &got,
		    (const char *)line->data, n, false)) {
			err = sotto_error_set(e, SOTTO_E_AGE_HEADER,
			    n > 64 ? "malformed stanza: body line too long" :
			    "malformed stanza: invalid body line");
			goto out;
		}
		if (sotto_buf_add(&body, dec, got)) {
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
			goto out;
		}
		if (got < 48)
			break;
	}
	err = age_stanza_set_body(s, body.data ? body.data : dec, body.len);
	if (err != SOTTO_OK)
		sotto_error_set(e, err, "out of memory");
out:
	sodium_memzero(dec, sizeof(dec));
	sotto_buf_release(&body);
	return err;
}

static sotto_err
parse_mac_line(struct age_header *h, const struct sotto_buf *line,
    struct sotto_error *e)
{
	size_t n = line->len - 1, got;
	uint8_t mac[SOTTO_B64_DECODED_MAX(43)];

	/* "--- " + 43 base64 chars */
	if (n != 47 || memcmp(line->data, "--- ", 4) != 0 ||
	    !sotto_b64_decode(mac, &got, (const char *)line->data + 4, 43,
	        false) || got != 32)
		return sotto_error_set(e, SOTTO_E_AGE_HEADER,
		    "malformed header MAC line");
	memcpy(h->mac, mac, 32);
	/* the MAC covers the header up to and including "---" */
	if (sotto_buf_add(&h->raw, line->data, 3))
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

sotto_err
age_header_parse(struct age_header *h, struct age_reader *r,
    struct sotto_error *e)
{
	struct sotto_buf line = SOTTO_BUF_INIT;
	bool eof;
	sotto_err err;

	memset(h, 0, sizeof(*h));
	err = age_reader_line(r, &line, AGE_MAX_LINE, &eof, e);
	if (err != SOTTO_OK)
		goto out;
	if (eof || line.len != sizeof(AGE_VERSION_LINE) ||
	    memcmp(line.data, AGE_VERSION_LINE "\n", line.len) != 0) {
		if (line.len == 0)
			err = sotto_error_set(e, SOTTO_E_AGE_HEADER,
			    "empty input: not an age file");
		else if (line.len >= 14 &&
		    memcmp(line.data, "age-encryption", 14) == 0 &&
		    line.len == sizeof(AGE_VERSION_LINE) + 1 &&
		    line.data[line.len - 2] == '\r')
			err = sotto_error_set(e, SOTTO_E_AGE_HEADER,
			    "malformed version line (CRLF line ending: was the "
			    "file converted to Windows line endings?)");
		else if (line.len >= 14 &&
		    memcmp(line.data, "age-encryption", 14) == 0)
			err = sotto_error_set(e, SOTTO_E_AGE_HEADER,
			    "unsupported age format version");
		else
			err = sotto_error_set(e, SOTTO_E_AGE_HEADER,
			    "not an age file (bad version line)");
		goto out;
	}
	if (sotto_buf_add(&h->raw, line.data, line.len)) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		sotto_buf_truncate(&line, 0);
		err = age_reader_line(r, &line, AGE_MAX_LINE, &eof, e);
		if (err != SOTTO_OK)
			goto out;
		if (eof) {
			err = sotto_error_set(e, SOTTO_E_AGE_HEADER,
			    "unexpected end of header");
			goto out;
		}
		if (h->raw.len + line.len > AGE_MAX_HEADER) {
			err = sotto_error_set(e, SOTTO_E_AGE_HEADER,
			    "header larger than %u bytes", AGE_MAX_HEADER);
			goto out;
		}
		if (line.len >= 3 && memcmp(line.data, "---", 3) == 0) {
			err = parse_mac_line(h, &line, e);
			goto out;
		}
		if (sotto_buf_add(&h->raw, line.data, line.len)) {
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
			goto out;
		}
		line.data[line.len - 1] = '\0';
		err = parse_arg_line(h, (char *)line.data, line.len - 1, e);
		if (err != SOTTO_OK)
			goto out;
		if ((err = parse_body(h, r, &line, e)) != SOTTO_OK)
			goto out;
	}
out:
	sotto_buf_release(&line);
	return err;
}

sotto_err
age_header_encode(struct sotto_buf *out, const struct age_header *h,
    const uint8_t file_key[16], struct sotto_error *e)
{
	struct sotto_buf enc = SOTTO_BUF_INIT;
	uint8_t mac[32];
	size_t i, j, start = out->len, off;
	const struct age_stanza *s;
	sotto_err err = SOTTO_E_NOMEM;

	if (sotto_buf_addstr(out, AGE_VERSION_LINE "\n"))
		goto out;
	for (i = 0; i < h->n; i++) {
		s = &h->st[i];
		if (sotto_buf_addf(out, "-> %s", s->type))
			goto out;
		for (j = 0; j < s->nargs; j++)
			if (sotto_buf_addf(out, " %s", s->args[j]))
				goto out;
		if (sotto_buf_addch(out, '\n'))
			goto out;
		sotto_buf_truncate(&enc, 0);
		if (sotto_b64_encode(&enc, s->body, s->body_len, false))
			goto out;
		for (off = 0;; off += 64) {
			size_t n = enc.len - off < 64 ? enc.len - off : 64;

			if (sotto_buf_add(out, enc.data ? enc.data + off :
			    (const uint8_t *)"", n) || sotto_buf_addch(out, '\n'))
				goto out;
			if (n < 64)
				break;
		}
	}
	if (sotto_buf_addstr(out, "---"))
		goto out;
	if ((err = age_header_mac(mac, file_key, out->data + start,
	    out->len - start)) != SOTTO_OK) {
		sotto_error_set(e, err, "cannot compute header MAC");
		goto out;
	}
	err = SOTTO_E_NOMEM;
	if (sotto_buf_addch(out, ' '))
		goto out;
	if (sotto_b64_encode(out, mac, 32, false) || sotto_buf_addch(out, '\n'))
		goto out;
	err = SOTTO_OK;
out:
	if (err == SOTTO_E_NOMEM)
		sotto_error_set(e, err, "out of memory");
	sotto_buf_release(&enc);
	return err;
}
