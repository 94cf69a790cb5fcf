/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the Helm post-renderer (sotto_render_stream, behind
 * `sotto post-render`): a YAML stream in, the same stream out with its
 * sops documents and Secret data holding sops files decrypted.  The
 * identity is the published sops test key (vectors/sops/hist/keys.txt),
 * so seeds encrypted to it reach the MAC check and decryption; anything
 * else fails without a key, which is fine.  Invariants: a failure sets a
 * message and its code and leaves the output empty (all or nothing); a
 * stream with no "sops", "ENC[" or "Secret" (whose data values may hide
 * sops files in base64) in it comes out byte for byte.
 * Seeds: tests/fuzz/seeds/fuzz_post_render/.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/age.h"
#include "sotto/render.h"

/* vectors/sops/hist/keys.txt: the published sops test identity */
static const char key[] =
    "AGE-SECRET-KEY-1NJT5YCS2LWU4V4QAJQ6R4JNU7LXPDX602DZ9NUFANVU5GDTGUWCQ5T59M6";

static struct sotto_age_identity *id;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0 ||
	    sotto_age_identity_parse(&id, key, NULL) != SOTTO_OK)
		abort();
	return 0;
}

static bool
contains(const uint8_t *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && memmem(p, n, s, k) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sotto_render_opts o = { &id, 1, "fuzz", NULL, false };
	struct sotto_buf out = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	sotto_err err;

	err = sotto_render_stream(&out, data, size, &o, &e);
	if (err != SOTTO_OK) {
		if (e.code != err || e.msg[0] == '\0' || out.len != 0)
			abort();
	} else if (!contains(data, size, "sops") &&
	    !contains(data, size, "ENC[") &&
	    !contains(data, size, "Secret") && (out.len != size ||
	    (size > 0 && memcmp(out.data, data, size) != 0))) {
		abort();
	}
	sotto_buf_release(&out);
	return 0;
}
