/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: age recipients, as `-R FILE` and `-r STRING` read
 * them.  The input is a recipients file (sotto_age_recipients_parse: X25519
 * age1..., age1pq1..., plugin age1NAME1..., ssh-ed25519 and ssh-rsa
 * authorized_keys lines, # comments, unsupported SSH types skipped with a
 * warning), and its first line is also given to sotto_age_recipient_parse.
 * Invariants: every failure sets a message and its code; every parsed
 * recipient's canonical string parses again to the same string.  No
 * plugin is started (plugins only run when a key is used).
 * Seeds: tests/fuzz/seeds/fuzz_recipient/.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/age.h"

#include "fuzz_sodium_init.h"

/* A failure must say what failed. */
static void
check_err(sotto_err err, const struct sotto_error *e)
{
	if (err != SOTTO_OK && (e->code != err || e->msg[0] == '\0'))
		abort();
}

/* The canonical string of r must be a fixed point of parse. */
static void
check_round_trip(const struct sotto_age_recipient *r)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_recipient *r2 = NULL;
	const char *s = sotto_age_recipient_string(r);
	sotto_err err;

	if (s == NULL || s[0] == '\0')
		abort();
	err = sotto_age_recipient_parse(&r2, s, &e);
	if (err == SOTTO_E_NOMEM)
		return;
	if (err != SOTTO_OK || r2 == NULL ||
	    strcmp(sotto_age_recipient_string(r2), s) != 0)
		abort();
	sotto_age_recipient_free(r2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sotto_age_reclist list = { NULL, 0 };
	struct sotto_buf warn = SOTTO_BUF_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_recipient *r = NULL;
	const uint8_t *lf;
	char *line;
	size_t i, n;
	sotto_err err;

	err = sotto_age_recipients_parse(&list, data, size, "fuzz.txt", &warn,
	    &e);
	check_err(err, &e);
	for (i = 0; i < list.n; i++)
		check_round_trip(list.v[i]);
	sotto_age_reclist_free(&list);
	sotto_buf_release(&warn);

	/* the first line as a command-line recipient (up to a NUL) */
	lf = memchr(data, '\n', size);
	n = lf ? (size_t)(lf - data) : size;
	if ((line = malloc(n + 1)) == NULL)
		return 0;
	memcpy(line, data, n);
	line[n] = '\0';
	sotto_error_clear(&e);
	err = sotto_age_recipient_parse(&r, line, &e);
	check_err(err, &e);
	if (err == SOTTO_OK) {
		check_round_trip(r);
		sotto_age_recipient_free(r);
	} else if (r != NULL) {
		abort();
	}
	free(line);
	return 0;
}
