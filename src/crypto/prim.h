/* SPDX-License-Identifier: ISC */
/*
 * Thin wrappers over OpenSSL for the primitives age and sops need and
 * libsodium 1.0.18 lacks or does slowly: HKDF-SHA-256 and the payload
 * ChaCha20-Poly1305 (OpenSSL's EVP is ~2.4x faster than libsodium's here).
 * Only src/crypto/ includes OpenSSL.
 */
#ifndef SOTTO_PRIM_H
#define SOTTO_PRIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Initialises OpenSSL without loading openssl.cnf; 0 on success. */
int sotto_crypto_init(void);

/* HKDF-SHA-256 extract+expand; returns 0 on success. */
int sotto_hkdf_sha256(uint8_t *out, size_t outlen, const uint8_t *ikm,
    size_t ikmlen, const uint8_t *salt, size_t saltlen, const char *info);

/*
 * A reusable ChaCha20-Poly1305 (IETF) context bound to one 32-byte key.
 * seal/open work in place-or-not; open returns false on a bad tag and then
 * wipes out.
 */
struct sotto_chacha;
struct sotto_chacha *sotto_chacha_new(const uint8_t key[32]);
void sotto_chacha_free(struct sotto_chacha *c);
bool sotto_chacha_seal(struct sotto_chacha *c, uint8_t *out,
    const uint8_t nonce[12], const uint8_t *in, size_t n);
bool sotto_chacha_open(struct sotto_chacha *c, uint8_t *out,
    const uint8_t nonce[12], const uint8_t *in, size_t n)
    __attribute__((warn_unused_result));

#endif
