/* SPDX-License-Identifier: ISC */
/*
 * Guarded, locked memory for keys, file keys, data keys and passphrases.
 *
 * WARNING: sodium_malloc() costs at least three pages per allocation plus an
 * mlock(); use it for key material, not per scalar value.
 */
#ifndef SOTTO_SECRET_H
#define SOTTO_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "sotto/error.h"

struct sotto_secret {
	uint8_t *data;	/* sodium_malloc'd, wiped on free */
	size_t len;	/* bytes of secret */
};

/* Allocates n bytes (zeroed); free with sotto_secret_free(). */
struct sotto_secret *sotto_secret_new(size_t n);
/* Allocates and copies n bytes from p. */
struct sotto_secret *sotto_secret_dup(const void *p, size_t n);
/* Wipes and frees; NULL is a no-op. */
void sotto_secret_free(struct sotto_secret *s);

/* Process start-up hygiene for the CLI: sodium_init, no core dumps. */
sotto_err sotto_secret_init(void);

#endif
