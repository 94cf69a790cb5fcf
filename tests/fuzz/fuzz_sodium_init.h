/* SPDX-License-Identifier: ISC */
/*
 * The libFuzzer initializer of the targets whose keys live in
 * sodium_malloc (fuzz_identity.c, fuzz_recipient.c, fuzz_guard.c): libsodium
 * is set up once, before the first input.
 */
#ifndef SOTTO_FUZZ_SODIUM_INIT_H
#define SOTTO_FUZZ_SODIUM_INIT_H

#include <stdlib.h>

#include <sodium.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

#endif
