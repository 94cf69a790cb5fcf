/* SPDX-License-Identifier: ISC */
/*
 * Native OpenPGP decryption for the agent and the renderer (Flux's `*.asc`
 * entries): no gpg binary and no keyring.  Reads unprotected transferable
 * secret keys (RSA and ECDH cv25519 decryption keys) and decrypts messages
 * made of PKESK v3 packets and a SEIPD v1 packet (with its MDC), holding
 * compressed (ZIP/ZLIB) or literal data.  Secret key material and the
 * plaintext live in sodium_malloc() memory and are wiped on release.
 */
#ifndef SOTTO_PGP_H
#define SOTTO_PGP_H

#include <stddef.h>
#include <stdint.h>

#include "sotto/error.h"

/* The largest armored key or message accepted (bytes). */
#define SOTTO_PGP_MAX_INPUT (16u * 1024 * 1024)
/* The largest plaintext a message may expand to (bytes). */
#define SOTTO_PGP_MAX_PLAIN (64u * 1024 * 1024)

/* A set of decryption (sub)keys read from one or more secret key files. */
struct sotto_pgp_keys;

struct sotto_pgp_keys *sotto_pgp_keys_new(void);
void sotto_pgp_keys_free(struct sotto_pgp_keys *ks);
/* Number of usable decryption keys in ks. */
size_t sotto_pgp_keys_count(const struct sotto_pgp_keys *ks);

/*
 * Adds the decryption keys of one transferable secret key (armored or
 * binary) to ks.  name (e.g. "identity.asc") only labels errors.  Refuses
 * passphrase-protected keys and a file with no usable decryption key.
 */
sotto_err sotto_pgp_keys_add(struct sotto_pgp_keys *ks, const uint8_t *p,
    size_t n, const char *name, struct sotto_error *e);

/*
 * Decrypts one OpenPGP message (armored or binary) with ks.  On success
 * *out is a sodium_malloc() buffer of *outlen bytes (never NULL), to be
 * released with sotto_pgp_plain_free().
 */
sotto_err sotto_pgp_decrypt(const struct sotto_pgp_keys *ks,
    const uint8_t *msg, size_t n, uint8_t **out, size_t *outlen,
    struct sotto_error *e);

void sotto_pgp_plain_free(uint8_t *p);

#endif
