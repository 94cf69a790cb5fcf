/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the OpenPGP armor and packet parsers.  The first byte
 * picks what the rest is: even, a secret key file for sotto_pgp_keys_add;
 * odd, a message for sotto_pgp_decrypt with the cv25519 and RSA-2048 test
 * keys of tests/fixtures/pgp/ (read at start-up from the repository root,
 * where tests/fuzz/run.sh runs; without them messages stop at "no matching
 * key").  What decrypts must be as long as it says.  Seeds:
 * tests/fuzz/seeds/fuzz_pgp/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sotto/pgp.h"

static struct sotto_pgp_keys *keys;

static void
load(const char *path)
{
	static uint8_t buf[65536];
	struct sotto_error e;
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	(void)sotto_pgp_keys_add(keys, buf, n, path, &e);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0 || (keys = sotto_pgp_keys_new()) == NULL)
		abort();
	load("tests/fixtures/pgp/cv25519.key.asc");
	load("tests/fixtures/pgp/rsa2048.key.asc");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sotto_error e;
	uint8_t *out = NULL;
	size_t outlen = 0;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		struct sotto_pgp_keys *ks = sotto_pgp_keys_new();

		if (ks == NULL)
			abort();
		(void)sotto_pgp_keys_add(ks, data + 1, size - 1, "fuzz", &e);
		sotto_pgp_keys_free(ks);
		return 0;
	}
	if (sotto_pgp_decrypt(keys, data + 1, size - 1, &out, &outlen, &e) ==
	    SOTTO_OK) {
		if (out == NULL)
			abort();
		if (outlen > 0)
			(void)sodium_is_zero(out, outlen);	/* touch it */
		sotto_pgp_plain_free(out);
	} else if (out != NULL || outlen != 0) {
		abort();
	}
	return 0;
}
