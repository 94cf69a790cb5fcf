/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the KRM function (sotto_render_krm, behind `sotto
 * krm`): a ResourceList in, a ResourceList out, items that are sops
 * documents decrypted with kpt's annotations set aside and restored, and
 * a functionConfig of kind SottoSecretGenerator run against an empty
 * directory under /tmp (its root: nothing outside may be read).  The
 * identity is the published sops test key (vectors/sops/hist/keys.txt).
 * Invariants: a failure sets a message and its code and leaves the output
 * empty; a success is a ResourceList that parses again the same way
 * (parse -> emit -> parse -> emit gives the same bytes).
 * Seeds: tests/fuzz/seeds/fuzz_krm/.
 */
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sotto/age.h"
#include "sotto/render.h"

/* vectors/sops/hist/keys.txt: the published sops test identity */
static const char key[] =
    "AGE-SECRET-KEY-1NJT5YCS2LWU4V4QAJQ6R4JNU7LXPDX602DZ9NUFANVU5GDTGUWCQ5T59M6";

static struct sotto_age_identity *id;
static char dir[] = "/tmp/sotto-fuzz-krm-XXXXXX";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
cleanup(void)
{
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0 ||
	    sotto_age_identity_parse(&id, key, NULL) != SOTTO_OK ||
	    mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sotto_render_opts o = { &id, 1, "fuzz", dir, false };
	struct sotto_buf out = SOTTO_BUF_SECRET_INIT;
	struct sotto_buf out2 = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	sotto_err err;

	err = sotto_render_krm(&out, data, size, dir, &o, &e);
	if (err != SOTTO_OK) {
		if (e.code != err || e.msg[0] == '\0' || out.len != 0)
			abort();
		goto out;
	}
	/* the output is plaintext now: a second pass must keep it as is */
	err = sotto_render_krm(&out2, out.data, out.len, dir, &o, &e);
	if (err != SOTTO_OK || out2.len != out.len ||
	    memcmp(out.data, out2.data, out.len) != 0)
		abort();
out:
	sotto_buf_release(&out);
	sotto_buf_release(&out2);
	return 0;
}
