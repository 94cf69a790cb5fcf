/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: age identity files, as `-i FILE` reads them
 * (sotto_age_identities_parse): AGE-SECRET-KEY-1 / -PQ-1 / AGE-PLUGIN-
 * lines with # comments, passphrase-encrypted identity files, and OpenSSH
 * ("openssh-key-v1", plain or bcrypt_pbkdf + AES) and PEM (PKCS#1, PKCS#8)
 * private keys.  Invariants: every failure sets a message and its code;
 * for each identity, its string form (X25519, hybrid) parses back to the
 * same string, and its recipient (native types) has a canonical string
 * that parses again.
 *
 * Passphrases: an OpenSSH key gets "fuzz" (the fuzz build caps bcrypt
 * rounds, see BCRYPT_MAX_ROUNDS in age_ssh.c); PEM keys and encrypted age
 * identity files get a failing callback, so OpenSSL's PBKDF2/scrypt and
 * age's scrypt (work factors taken from the input) never run.
 * Seeds: tests/fuzz/seeds/fuzz_identity/, test keys only: the X25519 and
 * hybrid identities are the CCTV kit's published ones, the SSH and PEM
 * keys were made for these seeds alone (ssh-keygen, openssl genpkey; the
 * encrypted ones with the passphrase "fuzz"), and the age-scrypt-* files
 * are the CCTV scrypt vectors.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/age.h"

#include "fuzz_sodium_init.h"

#define OPENSSH_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"

struct pass_ctx {
	bool openssh;	/* the input is an OpenSSH key */
	int calls;	/* times asked */
};

static sotto_err
pass_cb(void *ctx, const char *prompt, struct sotto_buf *pass,
    struct sotto_error *e)
{
	struct pass_ctx *pc = ctx;

	if (prompt == NULL || prompt[0] == '\0' || pc->calls++ > 0)
		abort();
	if (!pc->openssh)
		return sotto_error_set(e, SOTTO_E_BAD_PASSPHRASE,
		    "fuzz: no passphrase");
	if (sotto_buf_addstr(pass, "fuzz") != 0)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

static void
check_err(sotto_err err, const struct sotto_error *e)
{
	if (err != SOTTO_OK && (e->code != err || e->msg[0] == '\0'))
		abort();
}

static void
check_recipient(const struct sotto_age_identity *id)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_recipient *r = NULL, *r2 = NULL;
	const char *s;
	sotto_err err;

	err = sotto_age_identity_to_recipient(&r, id, &e);
	check_err(err, &e);
	if (err != SOTTO_OK)
		return;
	s = sotto_age_recipient_string(r);
	if (s == NULL || s[0] == '\0')
		abort();
	if (s[0] == '<')	/* a plugin identity's own recipient, as Go's
				 * "<identity-based recipient>": no string form */
		goto out;
	err = sotto_age_recipient_parse(&r2, s, &e);
	if (err != SOTTO_OK && err != SOTTO_E_NOMEM)
		abort();
	if (err == SOTTO_OK && strcmp(sotto_age_recipient_string(r2), s) != 0)
		abort();
out:
	sotto_age_recipient_free(r2);
	sotto_age_recipient_free(r);
}

static void
check_string(const struct sotto_age_identity *id)
{
	struct sotto_buf s = SOTTO_BUF_SECRET_INIT, s2 = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_identity *id2 = NULL;
	sotto_err err;

	err = sotto_age_identity_string(&s, id, &e);
	check_err(err, &e);
	if (err != SOTTO_OK)
		goto out;
	if (s.len == 0 || strlen((const char *)s.data) != s.len)
		abort();
	err = sotto_age_identity_parse(&id2, (const char *)s.data, &e);
	if (err == SOTTO_E_NOMEM)
		goto out;
	if (err != SOTTO_OK ||
	    sotto_age_identity_string(&s2, id2, &e) != SOTTO_OK ||
	    s2.len != s.len || memcmp(s.data, s2.data, s.len) != 0)
		abort();
out:
	sotto_age_identity_free(id2);
	sotto_buf_release(&s);
	sotto_buf_release(&s2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t bl = strlen(OPENSSH_BEGIN);
	struct sotto_age_idlist list = { NULL, 0 };
	struct sotto_error e = { SOTTO_OK, "" };
	struct pass_ctx pc = { false, 0 };
	size_t i = 0;
	sotto_err err;

	while (i < size && (data[i] == ' ' || data[i] == '\t' ||
	    data[i] == '\r' || data[i] == '\n'))
		i++;
	pc.openssh = size - i >= bl && memcmp(data + i, OPENSSH_BEGIN, bl) == 0;
	err = sotto_age_identities_parse(&list, data, size, "fuzz.key",
	    pass_cb, &pc, &e);
	check_err(err, &e);
	for (i = 0; i < list.n; i++) {
		check_recipient(list.v[i]);
		check_string(list.v[i]);
	}
	sotto_age_idlist_free(&list);
	return 0;
}
