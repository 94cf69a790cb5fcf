/* SPDX-License-Identifier: ISC */
/*
 * Shamir secret sharing over GF(2^8), byte-compatible with sops' shamir
 * package (a copy of HashiCorp Vault's): the AES field x^8+x^4+x^3+x+1,
 * one random polynomial per secret byte with that byte as intercept, and
 * each share laid out as [ y_0, y_1, ..., y_{n-1}, x ] (the x coordinate
 * is the LAST byte, so a 32-byte data key gives 33-byte shares).  x
 * coordinates are distinct, non-zero and random, like Vault's Perm(255).
 *
 * Field arithmetic is branch-free and table-free (no secret-indexed
 * lookups); it yields exactly the values of Vault's log/exp tables.
 * Shares are secrets and live in sodium_malloc'd struct sotto_secret.
 */
#ifndef SOTTO_SHAMIR_H
#define SOTTO_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#include "sotto/error.h"
#include "sotto/secret.h"

/* Bytes a share adds to the secret (the trailing x coordinate). */
#define SOTTO_SHAMIR_SHARE_OVERHEAD 1

/*
 * Splits n secret bytes into `parts` shares of n + 1 bytes, any
 * `threshold` of which rebuild the secret.  shares must have room for
 * `parts` pointers; on success each is a new secret owned by the caller
 * (free each with sotto_secret_free()); on failure none is left allocated.
 * Limits as Vault: 2 <= threshold <= parts <= 255 and n >= 1, else
 * SOTTO_E_USAGE; SOTTO_E_NOMEM if guarded memory runs out.
 */
sotto_err sotto_shamir_split(struct sotto_secret **shares,
    const uint8_t *secret, size_t n, int parts, int threshold,
    struct sotto_error *e);

/*
 * Rebuilds the secret from nshares shares by Lagrange interpolation at 0.
 * Borrows shares; *out is a new secret (sotto_secret_free()).  With fewer
 * than threshold shares the result is silently wrong, as in Vault: the
 * caller detects that when the data key fails to decrypt.
 * Errors (SOTTO_E_NO_KEY): fewer than two shares, a share shorter than two
 * bytes, shares of different lengths, or two shares with the same x.
 */
sotto_err sotto_shamir_combine(struct sotto_secret **out,
    struct sotto_secret *const *shares, size_t nshares,
    struct sotto_error *e);

#endif
