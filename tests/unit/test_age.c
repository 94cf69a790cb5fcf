/* SPDX-License-Identifier: ISC */
/*
 * The age API (sotto/age.h) and Bech32 (crypto/bech32.h): key strings and
 * their errors, identity and recipient files, encrypt/decrypt round trips
 * at chunk boundaries, and the failure twin of each: wrong key, flipped
 * header or payload byte, truncation.  The CCTV vectors live in
 * test_age_vectors.c.
 */
#include "testutil.h"

#include <ctype.h>
#include <sodium.h>
#include <strings.h>

#include "crypto/age_internal.h"
#include "crypto/b64.h"
#include "crypto/bech32.h"
#include "sotto/age.h"
#include "sotto/secret.h"

/* The CCTV `x25519` vector's published test identity. */
static const char test_identity[] =
    "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* An independent BIP-173 checksum, to build strings the decoder rejects. */
static uint32_t
polymod(const uint8_t *v, size_t n)
{
	static const uint32_t g[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
		0x3d4233dd, 0x2a1462b3 };
	uint32_t chk = 1, b;
	size_t i;
	int j;

	for (i = 0; i < n; i++) {
		b = chk >> 25;
		chk = ((chk & 0x1ffffff) << 5) ^ v[i];
		for (j = 0; j < 5; j++)
			if ((b >> j) & 1)
				chk ^= g[j];
	}
	return chk;
}

/* Writes hrp "1" data5[] checksum (lower case) into out. */
static void
bech32_make(char *out, const char *hrp, const uint8_t *d5, size_t n)
{
	uint8_t v[256];
	size_t h = strlen(hrp), i, k = 0;
	uint32_t chk;

	for (i = 0; i < h; i++)
		v[k++] = (uint8_t)hrp[i] >> 5;
	v[k++] = 0;
	for (i = 0; i < h; i++)
		v[k++] = (uint8_t)hrp[i] & 31;
	memcpy(v + k, d5, n);
	k += n;
	memset(v + k, 0, 6);
	chk = polymod(v, k + 6) ^ 1;
	memcpy(out, hrp, h);
	out[h] = '1';
	for (i = 0; i < n; i++)
		out[h + 1 + i] = charset[d5[i]];
	for (i = 0; i < 6; i++)
		out[h + 1 + n + i] = charset[(chk >> (5 * (5 - i))) & 31];
	out[h + 1 + n + 6] = '\0';
}

static sotto_err
decode(const char *s, char *hrp, uint8_t *data, size_t *dlen,
    struct sotto_error *e)
{
	return sotto_bech32_decode(hrp, 100, data, dlen, s, strlen(s), e);
}

/* ---- bech32 ----------------------------------------------------------- */

static void
test_bech32_decode_bip173_valid(void **state)
{
	char hrp[100];
	uint8_t d[128];
	size_t n;
	struct sotto_error e;

	(void)state;
	assert_int_equal(decode("A12UEL5L", hrp, d, &n, &e), SOTTO_OK);
	assert_string_equal(hrp, "A");	/* original case kept */
	assert_int_equal(n, 0);
	assert_int_equal(decode("a12uel5l", hrp, d, &n, &e), SOTTO_OK);
	assert_string_equal(hrp, "a");
	assert_int_equal(decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
	    hrp, d, &n, &e), SOTTO_OK);
	assert_string_equal(hrp, "abcdef");
	assert_int_equal(n, 20);	/* 32 groups of 5 bits */
}

static void
test_bech32_roundtrip_identity(void **state)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	char hrp[100];
	uint8_t d[128];
	size_t n;
	struct sotto_error e;

	(void)state;
	assert_int_equal(decode(test_identity, hrp, d, &n, &e), SOTTO_OK);
	assert_string_equal(hrp, "AGE-SECRET-KEY-");
	assert_int_equal(n, 32);
	assert_int_equal(sotto_bech32_encode(&b, "AGE-SECRET-KEY-", d, n), 0);
	assert_string_equal((const char *)b.data, test_identity);
	sotto_buf_truncate(&b, 0);
	/* lower-case HRP: lower-case output, same checksum */
	assert_int_equal(sotto_bech32_encode(&b, "age-secret-key-", d, n), 0);
	assert_int_equal(strcasecmp((const char *)b.data, test_identity), 0);
	assert_int_equal(decode((const char *)b.data, hrp, d, &n, &e),
	    SOTTO_OK);
	assert_string_equal(hrp, "age-secret-key-");
	sotto_buf_release(&b);
}

static void
test_bech32_decode_rejects_mixed_case(void **state)
{
	char hrp[100], s[sizeof(test_identity)];
	uint8_t d[128];
	size_t n;
	struct sotto_error e;

	(void)state;
	assert_int_equal(decode("a12UEL5L", hrp, d, &n, &e), SOTTO_E_BECH32);
	assert_string_equal(e.msg, "mixed case");
	memcpy(s, test_identity, sizeof(s));
	s[sizeof(s) - 3] = (char)tolower((unsigned char)s[sizeof(s) - 3]);
	assert_int_equal(decode(s, hrp, d, &n, &e), SOTTO_E_BECH32);
	assert_string_equal(e.msg, "mixed case");
}

static void
test_bech32_decode_rejects_bad_checksum(void **state)
{
	char hrp[100], s[sizeof(test_identity)];
	uint8_t d[128];
	size_t n;
	struct sotto_error e;

	(void)state;
	/* BIP-173: checksum computed over the upper-case HRP */
	assert_int_equal(decode("A1G7SGD8", hrp, d, &n, &e), SOTTO_E_BECH32);
	assert_string_equal(e.msg, "invalid checksum");
	memcpy(s, test_identity, sizeof(s));
	s[sizeof(s) - 2] = s[sizeof(s) - 2] == 'Q' ? 'P' : 'Q';
	assert_int_equal(decode(s, hrp, d, &n, &e), SOTTO_E_BECH32);
	assert_string_equal(e.msg, "invalid checksum");
	assert_int_equal(decode("age1b", hrp, d, &n, &e), SOTTO_E_BECH32);
	assert_int_equal(decode("1qqqqqq", hrp, d, &n, &e), SOTTO_E_BECH32);
	assert_int_equal(decode("age1qqqqqqqqqqqqqb", hrp, d, &n, &e),
	    SOTTO_E_BECH32);	/* 'b' is not in the charset */
	assert_int_equal(decode("age 1qqqqqqq", hrp, d, &n, &e),
	    SOTTO_E_BECH32);
}

static void
test_bech32_decode_rejects_bad_padding(void **state)
{
	char s[128], hrp[100];
	uint8_t d5[64], d[128];
	size_t n;
	struct sotto_error e;

	(void)state;
	memset(d5, 0, sizeof(d5));
	/* 52 groups = 260 bits: 4 padding bits must be zero */
	bech32_make(s, "age", d5, 52);
	assert_int_equal(decode(s, hrp, d, &n, &e), SOTTO_OK);
	assert_int_equal(n, 32);
	d5[51] = 1;
	bech32_make(s, "age", d5, 52);
	assert_int_equal(decode(s, hrp, d, &n, &e), SOTTO_E_BECH32);
	assert_string_equal(e.msg, "invalid padding");
	/* 3 groups = 15 bits: 7 leftover bits are too many */
	memset(d5, 0, sizeof(d5));
	bech32_make(s, "age", d5, 3);
	assert_int_equal(decode(s, hrp, d, &n, &e), SOTTO_E_BECH32);
	assert_string_equal(e.msg, "invalid padding");
}

/* ---- key strings ------------------------------------------------------ */

static void
expect_rec_err(const char *s, sotto_err code, const char *prefix)
{
	struct sotto_age_recipient *r = (void *)1;
	struct sotto_error e;

	sotto_error_clear(&e);
	assert_int_equal(sotto_age_recipient_parse(&r, s, &e), code);
	assert_null(r);
	if (strncmp(e.msg, prefix, strlen(prefix)) != 0)
		fail_msg("'%s': message '%s' lacks prefix '%s'", s, e.msg,
		    prefix);
}

static void
expect_id_err(const char *s, sotto_err code, const char *prefix)
{
	struct sotto_age_identity *id = (void *)1;
	struct sotto_error e;

	sotto_error_clear(&e);
	assert_int_equal(sotto_age_identity_parse(&id, s, &e), code);
	assert_null(id);
	if (strncmp(e.msg, prefix, strlen(prefix)) != 0)
		fail_msg("'%s': message '%s' lacks prefix '%s'", s, e.msg,
		    prefix);
}

/* The recipient string of the test identity. */
static char *
test_recipient(void)
{
	struct sotto_age_identity *id;
	struct sotto_age_recipient *r;
	struct sotto_error e;
	char *s;

	assert_int_equal(sotto_age_identity_parse(&id, test_identity, &e), 0);
	assert_int_equal(sotto_age_identity_to_recipient(&r, id, &e), 0);
	s = strdup(sotto_age_recipient_string(r));
	sotto_age_recipient_free(r);
	sotto_age_identity_free(id);
	return s;
}

static void
test_age_recipient_parse_valid(void **state)
{
	struct sotto_age_recipient *r, *r2;
	struct sotto_error e;
	char *s = test_recipient();

	(void)state;
	assert_int_equal(strlen(s), 62);
	assert_int_equal(strncmp(s, "age1", 4), 0);
	assert_int_equal(sotto_age_recipient_parse(&r, s, &e), SOTTO_OK);
	assert_string_equal(sotto_age_recipient_string(r), s);
	assert_int_equal(sotto_age_recipient_parse(&r2,
	    sotto_age_recipient_string(r), &e), SOTTO_OK);
	sotto_age_recipient_free(r);
	sotto_age_recipient_free(r2);
	free(s);
}

static void
test_age_recipient_parse_errors(void **state)
{
	char *s = test_recipient(), bad[128], up[128];
	size_t i;

	(void)state;
	expect_rec_err(test_identity, SOTTO_E_KEY_FORMAT,
	    "invalid recipient: found what looks like an identity");
	expect_rec_err("github:alice", SOTTO_E_KEY_FORMAT,
	    "github: recipients are not supported");
	expect_rec_err("hello", SOTTO_E_KEY_FORMAT, "unknown recipient type");
	expect_rec_err("", SOTTO_E_KEY_FORMAT, "unknown recipient type");
	/* post-quantum and plugins: issue #9 (tests in test_age_pq.c) */
	expect_rec_err("age1pq1qqqqqqqqqqqq", SOTTO_E_BECH32,
	    "malformed recipient 'age1pq1");
	expect_rec_err("age1tag1qqqqqqqqqqqq", SOTTO_E_UNSUPPORTED,
	    "tagged recipients are not supported");
	expect_rec_err("age1yubikey1qqqqqqqq", SOTTO_E_BECH32,
	    "malformed plugin recipient 'age1yubikey1");
	/* bad checksum */
	snprintf(bad, sizeof(bad), "%s", s);
	bad[61] = bad[61] == 'q' ? 'p' : 'q';
	expect_rec_err(bad, SOTTO_E_BECH32, "malformed recipient 'age1");
	/* upper case is not an age1 recipient */
	for (i = 0; s[i] != '\0'; i++)
		up[i] = (char)toupper((unsigned char)s[i]);
	up[i] = '\0';
	expect_rec_err(up, SOTTO_E_KEY_FORMAT, "unknown recipient type");
	/* mixed case */
	snprintf(bad, sizeof(bad), "%s", s);
	bad[10] = (char)toupper((unsigned char)bad[10]);
	if (bad[10] != s[10])
		expect_rec_err(bad, SOTTO_E_BECH32, "malformed recipient");
	/* valid Bech32, wrong length */
	expect_rec_err("age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqsn0tp6",
	    SOTTO_E_BECH32, "malformed recipient");
	free(s);
}

static void
test_age_recipient_parse_wrong_length(void **state)
{
	char s[128];
	uint8_t d5[64];
	struct sotto_age_recipient *r;
	struct sotto_error e;

	(void)state;
	memset(d5, 0, sizeof(d5));
	bech32_make(s, "age", d5, 48);	/* 30 bytes */
	assert_int_equal(sotto_age_recipient_parse(&r, s, &e),
	    SOTTO_E_KEY_FORMAT);
	assert_non_null(strstr(e.msg, "wrong type or length"));
}

static void
test_age_identity_parse_errors(void **state)
{
	char *rec = test_recipient(), s[sizeof(test_identity)];
	size_t i;

	(void)state;
	expect_id_err(rec, SOTTO_E_KEY_FORMAT, "apparent recipient found");
	expect_id_err("AGE-SECRET-KEY-PQ-1QQQQQQ", SOTTO_E_BECH32,
	    "malformed post-quantum secret key");
	expect_id_err("AGE-PLUGIN-YUBIKEY-1QQQQQQ", SOTTO_E_BECH32,
	    "malformed plugin identity");
	expect_id_err("ssh-ed25519 AAAA", SOTTO_E_KEY_FORMAT,
	    "not an age identity");
	for (i = 0; i < sizeof(s); i++)
		s[i] = (char)tolower((unsigned char)test_identity[i]);
	expect_id_err(s, SOTTO_E_KEY_FORMAT, "not an age identity");
	memcpy(s, test_identity, sizeof(s));
	s[sizeof(s) - 2] = s[sizeof(s) - 2] == 'Q' ? 'P' : 'Q';
	expect_id_err(s, SOTTO_E_BECH32, "malformed secret key: invalid "
	    "checksum");
	memcpy(s, test_identity, sizeof(s));
	s[30] = (char)tolower((unsigned char)s[30]);
	expect_id_err(s, SOTTO_E_BECH32, "malformed secret key: mixed case");
	free(rec);
}

static void
test_age_identity_string_roundtrip(void **state)
{
	struct sotto_age_identity *id, *id2;
	struct sotto_age_recipient *r, *r2;
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e;

	(void)state;
	assert_int_equal(sotto_age_identity_parse(&id, test_identity, &e), 0);
	assert_int_equal(sotto_age_identity_string(&b, id, &e), 0);
	assert_string_equal((const char *)b.data, test_identity);
	sotto_age_identity_free(id);
	sotto_buf_truncate(&b, 0);
	assert_int_equal(sotto_age_identity_generate(&id, &e), 0);
	assert_int_equal(sotto_age_identity_string(&b, id, &e), 0);
	assert_int_equal(b.len, 74);
	assert_int_equal(sotto_age_identity_parse(&id2, (const char *)b.data,
	    &e), 0);
	assert_int_equal(sotto_age_identity_to_recipient(&r, id, &e), 0);
	assert_int_equal(sotto_age_identity_to_recipient(&r2, id2, &e), 0);
	assert_string_equal(sotto_age_recipient_string(r),
	    sotto_age_recipient_string(r2));
	sotto_age_recipient_free(r);
	sotto_age_recipient_free(r2);
	sotto_age_identity_free(id);
	sotto_age_identity_free(id2);
	/* scrypt identities have neither a recipient nor a string */
	assert_int_equal(sotto_age_identity_scrypt(&id, "pw", 2, 22, &e), 0);
	assert_int_equal(sotto_age_identity_to_recipient(&r, id, &e),
	    SOTTO_E_UNSUPPORTED);
	sotto_buf_truncate(&b, 0);
	assert_int_equal(sotto_age_identity_string(&b, id, &e),
	    SOTTO_E_UNSUPPORTED);
	sotto_age_identity_free(id);
	assert_int_equal(sotto_age_identity_scrypt(&id, "", 0, 22, &e),
	    SOTTO_E_USAGE);
	sotto_buf_release(&b);
}

/* ---- identity and recipient files ------------------------------------- */

static sotto_err
parse_ids(struct sotto_age_idlist *l, const char *text, struct sotto_error *e)
{
	return sotto_age_identities_parse(l, (const uint8_t *)text,
	    strlen(text), "keys.txt", NULL, NULL, e);
}

static void
test_age_identities_parse_comments_crlf_multiple(void **state)
{
	struct sotto_age_idlist l = { NULL, 0 };
	struct sotto_age_identity *g;
	struct sotto_buf text = SOTTO_BUF_INIT, k2 = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e;

	(void)state;
	assert_int_equal(sotto_age_identity_generate(&g, &e), 0);
	assert_int_equal(sotto_age_identity_string(&k2, g, &e), 0);
	sotto_age_identity_free(g);
	sotto_buf_addf(&text, "# created: 2024-01-01T00:00:00Z\r\n"
	    "# public key: age1...\r\n%s\r\n\r\n#another\n%s\n%s", test_identity,
	    (const char *)k2.data, test_identity);
	assert_int_equal(parse_ids(&l, (const char *)text.data, &e), SOTTO_OK);
	assert_int_equal(l.n, 3);
	sotto_age_idlist_free(&l);
	/* appends to a list */
	assert_int_equal(parse_ids(&l, test_identity, &e), SOTTO_OK);
	assert_int_equal(parse_ids(&l, test_identity, &e), SOTTO_OK);
	assert_int_equal(l.n, 2);
	sotto_age_idlist_free(&l);
	sotto_buf_release(&text);
	sotto_buf_release(&k2);
}

static sotto_err
parse_native(struct sotto_age_idlist *l, const char *text,
    struct sotto_error *e)
{
	return sotto_age_identities_parse_flags(l, (const uint8_t *)text,
	    strlen(text), NULL, SOTTO_AGE_IDS_NATIVE_ONLY, NULL, NULL, e);
}

/*
 * Native-only parsing (keys from a cluster Secret): X25519 and the hybrid
 * pass; a plugin identity (its unwrap would run a program from PATH), an
 * SSH key and a passphrase-encrypted file are refused by type.
 */
static void
test_age_identities_parse_native_only(void **state)
{
	static const uint8_t data[16] = { 0x42 };
	struct sotto_age_idlist l = { NULL, 0 };
	struct sotto_age_identity *pq;
	struct sotto_buf text = SOTTO_BUF_INIT, plug = SOTTO_BUF_INIT;
	struct sotto_buf pqs = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e;

	(void)state;
	assert_int_equal(sotto_age_identity_generate_pq(&pq, &e), SOTTO_OK);
	assert_int_equal(sotto_age_identity_string(&pqs, pq, &e), SOTTO_OK);
	sotto_age_identity_free(pq);
	assert_int_equal(sotto_bech32_encode(&plug, "AGE-PLUGIN-X-", data,
	    sizeof(data)), SOTTO_OK);
	sotto_buf_addf(&text, "# native\r\n%s\n%s\n", test_identity,
	    (const char *)pqs.data);
	assert_int_equal(parse_native(&l, (const char *)text.data, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 2);
	sotto_age_idlist_free(&l);
	/* a plugin line after native ones: refused, the line named */
	sotto_buf_addf(&text, "%s\n", (const char *)plug.data);
	assert_int_equal(parse_native(&l, (const char *)text.data, &e),
	    SOTTO_E_UNSUPPORTED);
	assert_string_equal(e.msg, "line 4: plugin identities are not "
	    "accepted in-cluster (only native age identities: "
	    "AGE-SECRET-KEY-1..., AGE-SECRET-KEY-PQ-1...)");
	assert_null(strstr(e.msg, (const char *)plug.data));
	sotto_age_idlist_free(&l);
	/* the same text without the flag: the plugin identity is parsed */
	assert_int_equal(parse_ids(&l, (const char *)text.data, &e), SOTTO_OK);
	assert_int_equal(l.n, 3);
	sotto_age_idlist_free(&l);
	assert_int_equal(parse_native(&l, "\n-----BEGIN OPENSSH PRIVATE KEY"
	    "-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", &e),
	    SOTTO_E_UNSUPPORTED);
	assert_string_equal(e.msg, "SSH and PEM private keys are not "
	    "accepted in-cluster (only native age identities)");
	assert_int_equal(parse_native(&l, "age-encryption.org/v1\n-> scrypt "
	    "AAAA 18\n", &e), SOTTO_E_UNSUPPORTED);
	assert_string_equal(e.msg, "passphrase-encrypted identity files are "
	    "not accepted in-cluster (only native age identities)");
	/* other errors keep their text, without a file name */
	assert_int_equal(parse_native(&l, "# only a comment\n", &e),
	    SOTTO_E_KEY_FORMAT);
	assert_string_equal(e.msg, "no identities found");
	assert_int_equal(parse_native(&l, "\nage1zzz\n", &e),
	    SOTTO_E_KEY_FORMAT);
	assert_string_equal(e.msg, "line 2: apparent recipient found: this "
	    "is a public key (age1...), not an identity");
	assert_int_equal(l.n, 0);
	sotto_buf_release(&text);
	sotto_buf_release(&plug);
	sotto_buf_release(&pqs);
}

static void
test_age_identities_parse_errors_name_the_line(void **state)
{
	struct sotto_age_idlist l = { NULL, 0 };
	struct sotto_buf text = SOTTO_BUF_INIT;
	struct sotto_error e;
	char *rec = test_recipient();

	(void)state;
	sotto_buf_addf(&text, "# comment\n%s\n\n%s\n", test_identity, rec);
	assert_int_equal(parse_ids(&l, (const char *)text.data, &e),
	    SOTTO_E_KEY_FORMAT);
	assert_string_equal(e.msg, "'keys.txt' line 4: apparent recipient "
	    "found: this is a public key (age1...), not an identity");
	sotto_age_idlist_free(&l);
	/* no leading-space tolerance, no inline comments */
	sotto_buf_truncate(&text, 0);
	sotto_buf_addf(&text, " %s\n", test_identity);
	assert_int_equal(parse_ids(&l, (const char *)text.data, &e),
	    SOTTO_E_KEY_FORMAT);
	assert_string_equal(e.msg, "'keys.txt' line 1: not an age identity "
	    "(expected AGE-SECRET-KEY-1...)");
	sotto_age_idlist_free(&l);
	sotto_buf_truncate(&text, 0);
	sotto_buf_addf(&text, "%s # mine\n", test_identity);
	assert_int_equal(parse_ids(&l, (const char *)text.data, &e),
	    SOTTO_E_BECH32);
	assert_int_equal(strncmp(e.msg, "'keys.txt' line 1: malformed secret "
	    "key", 37), 0);
	sotto_age_idlist_free(&l);
	/* nothing but comments */
	assert_int_equal(parse_ids(&l, "# nothing\n\n", &e),
	    SOTTO_E_KEY_FORMAT);
	assert_string_equal(e.msg, "no identities found in 'keys.txt'");
	assert_int_equal(parse_ids(&l, "", &e), SOTTO_E_KEY_FORMAT);
	/* an encrypted identity file needs a passphrase callback */
	assert_int_equal(parse_ids(&l, "age-encryption.org/v1\n-> scrypt",
	    &e), SOTTO_E_TTY);
	assert_int_equal(l.n, 0);
	sotto_buf_release(&text);
	free(rec);
}

static const char ecdsa_pub[] =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAAB"
    "BBH2OsslzLfmPDUhyaqLXU8+0GxpTYaOyt4aAve4wRSYniVxNWNHN3Md+2ThzxE6Sbzn7cgZ"
    "Kvc8htILMDhQ7+0E= test@example";

static void
test_age_recipients_parse_warns_unsupported_ssh(void **state)
{
	struct sotto_age_reclist l = { NULL, 0 };
	struct sotto_buf text = SOTTO_BUF_INIT, warn = SOTTO_BUF_INIT;
	struct sotto_error e;
	char *rec = test_recipient();

	(void)state;
	sotto_buf_addf(&text, "# team\r\n%s\r\n%s\n\n%s\n", rec, ecdsa_pub,
	    rec);
	assert_int_equal(sotto_age_recipients_parse(&l, text.data, text.len,
	    "recipients.txt", &warn, &e), SOTTO_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(sotto_age_recipient_string(l.v[0]), rec);
	assert_non_null(warn.data);
	assert_string_equal((const char *)warn.data, "warning: "
	    "'recipients.txt' line 3: ignoring unsupported SSH key type\n");
	sotto_age_reclist_free(&l);
	sotto_buf_release(&warn);
	sotto_buf_release(&text);
	free(rec);
}

static void
test_age_recipients_parse_errors(void **state)
{
	struct sotto_age_reclist l = { NULL, 0 };
	struct sotto_buf text = SOTTO_BUF_INIT;
	struct sotto_error e;
	char *rec = test_recipient();

	(void)state;
	sotto_buf_addf(&text, "%s\n%s\n", rec, test_identity);
	assert_int_equal(sotto_age_recipients_parse(&l, text.data, text.len,
	    "r.txt", NULL, &e), SOTTO_E_KEY_FORMAT);
	assert_string_equal(e.msg, "'r.txt' line 2: invalid recipient: found "
	    "what looks like an identity (secret key), not a recipient");
	sotto_age_reclist_free(&l);
	assert_int_equal(sotto_age_recipients_parse(&l,
	    (const uint8_t *)"# none\n", 7, "r.txt", NULL, &e),
	    SOTTO_E_NO_RECIPIENTS);
	assert_string_equal(e.msg, "no recipients found in 'r.txt'");
	assert_int_equal(sotto_age_recipients_parse(&l,
	    (const uint8_t *)"\nnonsense\n", 10, "r.txt", NULL, &e),
	    SOTTO_E_KEY_FORMAT);
	assert_int_equal(strncmp(e.msg, "'r.txt' line 2: unknown recipient "
	    "type", 38), 0);
	sotto_age_reclist_free(&l);
	sotto_buf_release(&text);
	free(rec);
}

/* ---- encryption and decryption ---------------------------------------- */

struct keypair {
	struct sotto_age_identity *id;
	struct sotto_age_recipient *rec;
};

static void
keypair_new(struct keypair *k)
{
	struct sotto_error e;

	assert_int_equal(sotto_age_identity_generate(&k->id, &e), 0);
	assert_int_equal(sotto_age_identity_to_recipient(&k->rec, k->id, &e),
	    0);
}

static void
keypair_free(struct keypair *k)
{
	sotto_age_identity_free(k->id);
	sotto_age_recipient_free(k->rec);
}

static uint8_t *
random_bytes(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	randombytes_buf(p, n);
	return p;
}

/* Offset of the payload nonce (just after the MAC line). */
static size_t
header_len(const struct sotto_buf *ct)
{
	const char *m = memmem(ct->data, ct->len, "\n--- ", 5);

	assert_non_null(m);
	return (size_t)(m - (const char *)ct->data) + 5 + 43 + 1;
}

static void
test_age_encrypt_mem_roundtrip_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, 65535, 65536, 65537, 200000 };
	struct keypair k;
	struct sotto_buf ct = SOTTO_BUF_INIT, pt = SOTTO_BUF_INIT;
	struct sotto_error e;
	uint8_t *msg;
	size_t i, chunks, line;
	int armor;
	const char *p;

	(void)state;
	keypair_new(&k);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		msg = random_bytes(sizes[i]);
		for (armor = 0; armor < 2; armor++) {
			sotto_buf_truncate(&ct, 0);
			sotto_buf_truncate(&pt, 0);
			assert_int_equal(sotto_age_encrypt_mem(&ct, msg,
			    sizes[i], &k.rec, 1, armor, &e), SOTTO_OK);
			if (armor) {
				assert_int_equal(strncmp((const char *)ct.data,
				    AGE_ARMOR_BEGIN "\n", 35), 0);
				assert_non_null(strstr((const char *)ct.data,
				    "\n" AGE_ARMOR_END "\n"));
				for (p = (const char *)ct.data; *p != '\0';
				    p += line + 1) {
					line = strcspn(p, "\n");
					assert_true(line <= 64);
				}
			} else {
				chunks = sizes[i] == 0 ? 1 :
				    (sizes[i] + 65535) / 65536;
				assert_int_equal(ct.len, header_len(&ct) + 16 +
				    sizes[i] + 16 * chunks);
			}
			assert_int_equal(sotto_age_decrypt_mem(&pt, ct.data,
			    ct.len, &k.id, 1, &e), SOTTO_OK);
			assert_int_equal(pt.len, sizes[i]);
			assert_memory_equal(pt.data ? pt.data :
			    (const uint8_t *)"", msg, sizes[i]);
		}
		free(msg);
	}
	sotto_buf_release(&ct);
	sotto_buf_release(&pt);
	keypair_free(&k);
}

static sotto_err
buf_sink(void *ctx, const uint8_t *p, size_t n, struct sotto_error *e)
{
	if (sotto_buf_add(ctx, p, n))
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

/* Uneven writer_update sizes give the same chunking as one big update. */
static void
test_age_writer_update_uneven_sizes(void **state)
{
	struct keypair k;
	struct sotto_age_writer *w;
	struct sotto_buf ct = SOTTO_BUF_INIT, pt = SOTTO_BUF_INIT;
	struct sotto_error e;
	uint8_t *msg = random_bytes(3 * 65536);
	size_t off = 0, step = 1, n;
	int armor;

	(void)state;
	keypair_new(&k);
	for (armor = 0; armor < 2; armor++) {
		sotto_buf_truncate(&ct, 0);
		sotto_buf_truncate(&pt, 0);
		assert_int_equal(sotto_age_writer_new(&w, &k.rec, 1, armor,
		    buf_sink, &ct, &e), SOTTO_OK);
		for (off = 0, step = 1; off < 3 * 65536; off += n) {
			n = step < 3 * 65536 - off ? step : 3 * 65536 - off;
			assert_int_equal(sotto_age_writer_update(w, msg + off,
			    n, &e), SOTTO_OK);
			step = step * 7 + 3;
			if (step > 100000)
				step = 1;
		}
		assert_int_equal(sotto_age_writer_finish(w, &e), SOTTO_OK);
		sotto_age_writer_free(w);
		if (!armor)	/* 3 full chunks, the last one final */
			assert_int_equal(ct.len, header_len(&ct) + 16 +
			    3 * (65536 + 16));
		assert_int_equal(sotto_age_decrypt_mem(&pt, ct.data, ct.len,
		    &k.id, 1, &e), SOTTO_OK);
		assert_int_equal(pt.len, 3 * 65536);
		assert_memory_equal(pt.data, msg, 3 * 65536);
	}
	assert_int_equal(sotto_age_writer_new(&w, NULL, 0, false, buf_sink,
	    &ct, &e), SOTTO_E_NO_RECIPIENTS);
	assert_null(w);
	sotto_buf_release(&ct);
	sotto_buf_release(&pt);
	free(msg);
	keypair_free(&k);
}

static void
test_age_encrypt_multiple_recipients(void **state)
{
	struct keypair a, b, c;
	struct sotto_age_recipient *recs[2];
	struct sotto_buf ct = SOTTO_BUF_INIT, pt = SOTTO_BUF_INIT;
	struct sotto_error e;

	(void)state;
	keypair_new(&a);
	keypair_new(&b);
	keypair_new(&c);
	recs[0] = a.rec;
	recs[1] = b.rec;
	assert_int_equal(sotto_age_encrypt_mem(&ct, (const uint8_t *)"hi", 2,
	    recs, 2, false, &e), SOTTO_OK);
	assert_int_equal(sotto_age_decrypt_mem(&pt, ct.data, ct.len, &b.id, 1,
	    &e), SOTTO_OK);
	assert_int_equal(pt.len, 2);
	sotto_buf_truncate(&pt, 0);
	assert_int_equal(sotto_age_decrypt_mem(&pt, ct.data, ct.len, &c.id, 1,
	    &e), SOTTO_E_AGE_NO_MATCH);
	assert_int_equal(pt.len, 0);
	assert_string_equal(e.msg, "no identity matched any of the recipients");
	assert_int_equal(sotto_age_encrypt_mem(&ct, (const uint8_t *)"hi", 2,
	    recs, 0, false, &e), SOTTO_E_NO_RECIPIENTS);
	sotto_buf_release(&ct);
	sotto_buf_release(&pt);
	keypair_free(&a);
	keypair_free(&b);
	keypair_free(&c);
}

static void
test_age_scrypt_recipient_must_be_alone(void **state)
{
	struct keypair k;
	struct sotto_age_recipient *recs[2];
	struct sotto_age_identity *sid;
	struct sotto_buf ct = SOTTO_BUF_INIT, pt = SOTTO_BUF_INIT;
	struct sotto_error e;

	(void)state;
	keypair_new(&k);
	assert_int_equal(sotto_age_recipient_scrypt(&recs[0], "hunter2", 7,
	    10, &e), SOTTO_OK);
	recs[1] = k.rec;
	assert_int_equal(sotto_age_encrypt_mem(&ct, (const uint8_t *)"x", 1,
	    recs, 2, false, &e), SOTTO_E_USAGE);
	assert_int_equal(ct.len, 0);
	assert_int_equal(sotto_age_encrypt_mem(&ct, (const uint8_t *)"x", 1,
	    recs + 1, 1, false, &e), SOTTO_OK);
	sotto_buf_truncate(&ct, 0);
	/* alone it works, and the right passphrase decrypts */
	assert_int_equal(sotto_age_encrypt_mem(&ct, (const uint8_t *)"x", 1,
	    recs, 1, true, &e), SOTTO_OK);
	assert_non_null(strstr((const char *)ct.data, AGE_ARMOR_BEGIN));
	assert_int_equal(sotto_age_identity_scrypt(&sid, "hunter2", 7, 22, &e),
	    SOTTO_OK);
	assert_int_equal(sotto_age_decrypt_mem(&pt, ct.data, ct.len, &sid, 1,
	    &e), SOTTO_OK);
	assert_int_equal(pt.len, 1);
	sotto_age_identity_free(sid);
	/* the wrong one is a no match */
	assert_int_equal(sotto_age_identity_scrypt(&sid, "hunter3", 7, 22, &e),
	    SOTTO_OK);
	sotto_buf_truncate(&pt, 0);
	assert_int_equal(sotto_age_decrypt_mem(&pt, ct.data, ct.len, &sid, 1,
	    &e), SOTTO_E_AGE_NO_MATCH);
	assert_int_equal(pt.len, 0);
	sotto_age_identity_free(sid);
	/* a work factor above the identity's maximum is a header failure */
	assert_int_equal(sotto_age_identity_scrypt(&sid, "hunter2", 7, 9, &e),
	    SOTTO_OK);
	assert_int_equal(sotto_age_decrypt_mem(&pt, ct.data, ct.len, &sid, 1,
	    &e), SOTTO_E_AGE_HEADER);
	sotto_age_identity_free(sid);
	/* an X25519 identity does not match a scrypt stanza */
	assert_int_equal(sotto_age_decrypt_mem(&pt, ct.data, ct.len, &k.id, 1,
	    &e), SOTTO_E_AGE_NO_MATCH);
	sotto_age_recipient_free(recs[0]);
	sotto_buf_release(&ct);
	sotto_buf_release(&pt);
	keypair_free(&k);
}

static void
test_age_decrypt_mem_wrong_identity_no_match(void **state)
{
	struct keypair a, b;
	struct sotto_buf ct = SOTTO_BUF_INIT, pt = SOTTO_BUF_INIT;
	struct sotto_error e;

	(void)state;
	keypair_new(&a);
	keypair_new(&b);
	assert_int_equal(sotto_age_encrypt_mem(&ct, (const uint8_t *)"secret",
	    6, &a.rec, 1, false, &e), SOTTO_OK);
	assert_int_equal(sotto_age_decrypt_mem(&pt, ct.data, ct.len, &b.id, 1,
	    &e), SOTTO_E_AGE_NO_MATCH);
	assert_int_equal(pt.len, 0);
	assert_int_equal(sotto_age_decrypt_mem(&pt, ct.data, ct.len, NULL, 0,
	    &e), SOTTO_E_AGE_NO_MATCH);
	sotto_buf_release(&ct);
	sotto_buf_release(&pt);
	keypair_free(&a);
	keypair_free(&b);
}

/*
 * A header with no stanza at all parses, as in Go's format.Parse, and then
 * matches no identity (tests/fuzz/fuzz_age_header.c used to assume that a
 * parsed header always has a stanza).
 */
static void
test_age_decrypt_mem_header_without_stanzas_no_match(void **state)
{
	static const char ct[] = "age-encryption.org/v1\n"
	    "--- +M2eEFbXSvJ8j+gW4TtQ8pu/PpF/Jj6nQLwi2uP94tk\n"
	    "0123456789abcdef0123456789abcdef";
	struct sotto_age_identity *id;
	struct sotto_buf pt = SOTTO_BUF_INIT;
	struct sotto_error e;

	(void)state;
	assert_int_equal(sotto_age_identity_parse(&id, test_identity, &e),
	    SOTTO_OK);
	assert_int_equal(sotto_age_decrypt_mem(&pt, (const uint8_t *)ct,
	    sizeof(ct) - 1, &id, 1, &e), SOTTO_E_AGE_NO_MATCH);
	assert_string_equal(e.msg, "no identity matched any of the recipients");
	assert_int_equal(pt.len, 0);
	sotto_age_identity_free(id);
	sotto_buf_release(&pt);
}

/*
 * Every single-bit flip in the header is caught before any plaintext:
 * a header failure, a no match (a stanza's share or body changed) or an
 * HMAC failure, never success.
 */
static void
test_age_decrypt_mem_rejects_flipped_header_byte(void **state)
{
	struct keypair k;
	struct sotto_buf ct = SOTTO_BUF_INIT, pt = SOTTO_BUF_INIT;
	struct sotto_error e;
	size_t i, hl, nmac = 0;
	sotto_err err;

	(void)state;
	keypair_new(&k);
	assert_int_equal(sotto_age_encrypt_mem(&ct, (const uint8_t *)"secret",
	    6, &k.rec, 1, false, &e), SOTTO_OK);
	hl = header_len(&ct);
	for (i = 0; i < hl; i++) {
		ct.data[i] ^= 0x01;
		err = sotto_age_decrypt_mem(&pt, ct.data, ct.len, &k.id, 1, &e);
		ct.data[i] ^= 0x01;
		assert_int_equal(pt.len, 0);
		if (err != SOTTO_E_AGE_HEADER && err != SOTTO_E_AGE_HMAC &&
		    err != SOTTO_E_AGE_NO_MATCH)
			fail_msg("flip at %zu: %d %s", i, (int)err, e.msg);
		if (err == SOTTO_E_AGE_HMAC)
			nmac++;
	}
	assert_true(nmac > 0);
	/* the MAC itself: 'A' <-> 'B' stays canonical base64 */
	i = hl - 44;
	ct.data[i] = ct.data[i] == 'A' ? 'B' : 'A';
	assert_int_equal(sotto_age_decrypt_mem(&pt, ct.data, ct.len, &k.id, 1,
	    &e), SOTTO_E_AGE_HMAC);
	assert_string_equal(e.msg, "bad header MAC");
	sotto_buf_release(&ct);
	sotto_buf_release(&pt);
	keypair_free(&k);
}

struct count_sink {
	size_t n;	/* bytes released */
};

static sotto_err
count_write(void *ctx, const uint8_t *p, size_t n, struct sotto_error *e)
{
	struct count_sink *c = ctx;

	(void)p;
	(void)e;
	c->n += n;
	return SOTTO_OK;
}

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

/* Streams ct through sotto_age_decrypt; returns bytes released. */
static sotto_err
stream_decrypt(const struct sotto_buf *ct, size_t len,
    struct sotto_age_identity *id, size_t *released, struct sotto_error *e)
{
	struct mem_src m = { ct->data, len, 0 };
	struct count_sink c = { 0 };
	sotto_err err;

	err = sotto_age_decrypt(mem_read, &m, &id, 1, count_write, &c, e);
	*released = c.n;
	return err;
}

static void
test_age_decrypt_rejects_flipped_payload_byte(void **state)
{
	struct keypair k;
	struct sotto_buf ct = SOTTO_BUF_INIT, pt = SOTTO_BUF_INIT;
	struct sotto_error e;
	uint8_t *msg = random_bytes(200000);
	size_t hl, rel, pos;

	(void)state;
	keypair_new(&k);
	assert_int_equal(sotto_age_encrypt_mem(&ct, msg, 200000, &k.rec, 1,
	    false, &e), SOTTO_OK);
	hl = header_len(&ct);
	/* nonce: the payload key changes, the first chunk fails */
	ct.data[hl + 3] ^= 0x80;
	assert_int_equal(stream_decrypt(&ct, ct.len, k.id, &rel, &e),
	    SOTTO_E_AGE_PAYLOAD);
	assert_int_equal(rel, 0);
	ct.data[hl + 3] ^= 0x80;
	/* chunk 0, chunk 1 and the last chunk's tag */
	for (pos = hl + 16 + 5; pos < ct.len; pos += 65536 + 16) {
		ct.data[pos] ^= 0x01;
		assert_int_equal(sotto_age_decrypt_mem(&pt, ct.data, ct.len,
		    &k.id, 1, &e), SOTTO_E_AGE_PAYLOAD);
		assert_int_equal(pt.len, 0);	/* _mem releases nothing */
		assert_int_equal(stream_decrypt(&ct, ct.len, k.id, &rel, &e),
		    SOTTO_E_AGE_PAYLOAD);
		/* streaming releases exactly the authenticated chunks */
		assert_int_equal(rel, (pos - hl - 16) / (65536 + 16) * 65536);
		ct.data[pos] ^= 0x01;
	}
	ct.data[ct.len - 1] ^= 0x01;
	assert_int_equal(stream_decrypt(&ct, ct.len, k.id, &rel, &e),
	    SOTTO_E_AGE_PAYLOAD);
	assert_int_equal(rel, 3 * 65536);
	ct.data[ct.len - 1] ^= 0x01;
	assert_int_equal(stream_decrypt(&ct, ct.len, k.id, &rel, &e),
	    SOTTO_OK);
	assert_int_equal(rel, 200000);
	free(msg);
	sotto_buf_release(&ct);
	sotto_buf_release(&pt);
	keypair_free(&k);
}

static void
test_age_decrypt_rejects_truncated_and_extended(void **state)
{
	struct keypair k;
	struct sotto_buf ct = SOTTO_BUF_INIT;
	struct sotto_error e;
	uint8_t *msg = random_bytes(65536 * 2);
	size_t hl, rel, cut;
	sotto_err err;

	(void)state;
	keypair_new(&k);
	assert_int_equal(sotto_age_encrypt_mem(&ct, msg, 65536 * 2, &k.rec, 1,
	    false, &e), SOTTO_OK);
	hl = header_len(&ct);
	for (cut = 0; cut < hl + 16; cut += 7) {
		err = stream_decrypt(&ct, cut, k.id, &rel, &e);
		assert_int_equal(err, SOTTO_E_AGE_HEADER);
		assert_int_equal(rel, 0);
	}
	/* cut at the chunk boundary: the full first chunk is not final */
	assert_int_equal(stream_decrypt(&ct, hl + 16 + 65536 + 16, k.id, &rel,
	    &e), SOTTO_E_AGE_PAYLOAD);
	assert_int_equal(rel, 65536);
	assert_int_equal(stream_decrypt(&ct, ct.len - 1, k.id, &rel, &e),
	    SOTTO_E_AGE_PAYLOAD);
	assert_int_equal(rel, 65536);
	/* trailing garbage after the final chunk */
	assert_int_equal(sotto_buf_addch(&ct, 0), 0);
	assert_int_equal(stream_decrypt(&ct, ct.len, k.id, &rel, &e),
	    SOTTO_E_AGE_PAYLOAD);
	assert_int_equal(stream_decrypt(&ct, 0, k.id, &rel, &e),
	    SOTTO_E_AGE_HEADER);
	assert_string_equal(e.msg, "empty input: not an age file");
	free(msg);
	sotto_buf_release(&ct);
	keypair_free(&k);
}

static void
test_age_decrypt_armored_errors(void **state)
{
	struct keypair k;
	struct sotto_buf ct = SOTTO_BUF_INIT, pt = SOTTO_BUF_INIT;
	struct sotto_error e;
	char *p;

	(void)state;
	keypair_new(&k);
	assert_int_equal(sotto_age_encrypt_mem(&ct, (const uint8_t *)"hello",
	    5, &k.rec, 1, true, &e), SOTTO_OK);
	/* whitespace lines around the armor are fine (Unicode spaces too) */
	{
		struct sotto_buf ws = SOTTO_BUF_INIT;

		sotto_buf_addstr(&ws, "\n \r\n\t\xc2\xa0\n");
		sotto_buf_add(&ws, ct.data, ct.len);
		sotto_buf_addstr(&ws, "\n\xe3\x80\x80\n");
		assert_int_equal(sotto_age_decrypt_mem(&pt, ws.data, ws.len,
		    &k.id, 1, &e), SOTTO_OK);
		assert_int_equal(pt.len, 5);
		/* but not on the BEGIN line itself */
		sotto_buf_truncate(&ws, 0);
		sotto_buf_addstr(&ws, "\n\t");
		sotto_buf_add(&ws, ct.data, ct.len);
		sotto_buf_truncate(&pt, 0);
		assert_int_equal(sotto_age_decrypt_mem(&pt, ws.data, ws.len,
		    &k.id, 1, &e), SOTTO_E_AGE_ARMOR);
		assert_string_equal(e.msg,
		    "invalid armor: malformed BEGIN line");
		assert_int_equal(pt.len, 0);
		sotto_buf_release(&ws);
	}
	/* an invalid character inside the armor */
	p = strchr((char *)ct.data, '\n') + 5;
	*p = '*';
	sotto_buf_truncate(&pt, 0);
	assert_int_equal(sotto_age_decrypt_mem(&pt, ct.data, ct.len, &k.id, 1,
	    &e), SOTTO_E_AGE_ARMOR);
	assert_int_equal(pt.len, 0);
	/* missing END line */
	sotto_buf_truncate(&ct, 0);
	assert_int_equal(sotto_age_encrypt_mem(&ct, (const uint8_t *)"hello",
	    5, &k.rec, 1, true, &e), SOTTO_OK);
	sotto_buf_truncate(&ct, ct.len - strlen(AGE_ARMOR_END) - 1);
	assert_int_equal(sotto_age_decrypt_mem(&pt, ct.data, ct.len, &k.id, 1,
	    &e), SOTTO_E_AGE_ARMOR);
	assert_string_equal(e.msg, "invalid armor: missing END line");
	sotto_buf_release(&ct);
	sotto_buf_release(&pt);
	keypair_free(&k);
}

/* Armors bin with a first line of `first` bytes, then 48-byte lines. */
static void
armor_split(struct sotto_buf *out, const struct sotto_buf *bin, size_t first)
{
	size_t off = 0, k = first;

	sotto_buf_truncate(out, 0);
	sotto_buf_addstr(out, AGE_ARMOR_BEGIN "\n");
	while (off < bin->len) {
		if (k > bin->len - off)
			k = bin->len - off;
		assert_int_equal(sotto_b64_encode(out, bin->data + off, k,
		    true), 0);
		sotto_buf_addch(out, '\n');
		off += k;
		k = 48;
	}
	sotto_buf_addstr(out, AGE_ARMOR_END "\n");
}

/*
 * Go's armor reader: a line that decodes to fewer than 48 bytes is the
 * last one, even when it fills 64 columns with '=' padding.
 */
static void
test_age_decrypt_armor_short_line_must_be_last(void **state)
{
	static const struct {
		size_t first;		/* bytes on the first line */
		sotto_err want;
	} rows[] = {
		{ 48, SOTTO_OK },		/* canonical */
		{ 47, SOTTO_E_AGE_ARMOR },	/* 64 columns, one '=' */
		{ 46, SOTTO_E_AGE_ARMOR },	/* 64 columns, "==" */
		{ 45, SOTTO_E_AGE_ARMOR },	/* 60 columns */
	};
	struct keypair k;
	struct sotto_buf bin = SOTTO_BUF_INIT, arm = SOTTO_BUF_INIT;
	struct sotto_buf pt = SOTTO_BUF_INIT;
	struct sotto_error e;
	size_t i;

	(void)state;
	keypair_new(&k);
	assert_int_equal(sotto_age_encrypt_mem(&bin, (const uint8_t *)"hello",
	    5, &k.rec, 1, false, &e), SOTTO_OK);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		armor_split(&arm, &bin, rows[i].first);
		sotto_buf_truncate(&pt, 0);
		assert_int_equal(sotto_age_decrypt_mem(&pt, arm.data, arm.len,
		    &k.id, 1, &e), rows[i].want);
		if (rows[i].want == SOTTO_OK) {
			assert_int_equal(pt.len, 5);
			continue;
		}
		assert_string_equal(e.msg, "invalid armor: short line not "
		    "followed by END line");
		assert_int_equal(pt.len, 0);
	}
	sotto_buf_release(&bin);
	sotto_buf_release(&arm);
	sotto_buf_release(&pt);
	keypair_free(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bech32_decode_bip173_valid),
		cmocka_unit_test(test_bech32_roundtrip_identity),
		cmocka_unit_test(test_bech32_decode_rejects_mixed_case),
		cmocka_unit_test(test_bech32_decode_rejects_bad_checksum),
		cmocka_unit_test(test_bech32_decode_rejects_bad_padding),
		cmocka_unit_test(test_age_recipient_parse_valid),
		cmocka_unit_test(test_age_recipient_parse_errors),
		cmocka_unit_test(test_age_recipient_parse_wrong_length),
		cmocka_unit_test(test_age_identity_parse_errors),
		cmocka_unit_test(test_age_identity_string_roundtrip),
		cmocka_unit_test(test_age_identities_parse_comments_crlf_multiple),
		cmocka_unit_test(test_age_identities_parse_errors_name_the_line),
		cmocka_unit_test(test_age_identities_parse_native_only),
		cmocka_unit_test(test_age_recipients_parse_warns_unsupported_ssh),
		cmocka_unit_test(test_age_recipients_parse_errors),
		cmocka_unit_test(test_age_encrypt_mem_roundtrip_sizes),
		cmocka_unit_test(test_age_writer_update_uneven_sizes),
		cmocka_unit_test(test_age_encrypt_multiple_recipients),
		cmocka_unit_test(test_age_scrypt_recipient_must_be_alone),
		cmocka_unit_test(test_age_decrypt_mem_wrong_identity_no_match),
		cmocka_unit_test(
		    test_age_decrypt_mem_header_without_stanzas_no_match),
		cmocka_unit_test(test_age_decrypt_mem_rejects_flipped_header_byte),
		cmocka_unit_test(test_age_decrypt_rejects_flipped_payload_byte),
		cmocka_unit_test(test_age_decrypt_rejects_truncated_and_extended),
		cmocka_unit_test(test_age_decrypt_armored_errors),
		cmocka_unit_test(
		    test_age_decrypt_armor_short_line_must_be_last),
	};

	if (sotto_secret_init() != SOTTO_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
