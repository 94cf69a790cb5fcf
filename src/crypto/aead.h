/* SPDX-License-Identifier: ISC */
/*
 * AES-256-GCM for sops values.  Only the primitive lives here; the ENC[...]
 * string format belongs to src/sops/value.c.
 *
 * WARNING: sops uses 32-byte GCM IVs (not the usual 12).  GCM then derives
 * its counter block J0 with GHASH over the IV (NIST SP 800-38D 7.1).
 * libsodium's crypto_aead_aes256gcm only takes 12-byte nonces (and needs
 * AES-NI), so this file goes through OpenSSL EVP with
 * EVP_CTRL_GCM_SET_IVLEN.  Any non-zero IV length is accepted so that
 * values written with other IV sizes still decrypt; encrypt callers pass 32.
 */
#ifndef SOTTO_AEAD_H
#define SOTTO_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOTTO_AEAD_AES256GCM_KEYBYTES 32
#define SOTTO_AEAD_AES256GCM_TAGBYTES 16

/*
 * Encrypts n bytes of in into out (n bytes, may alias in) and writes the
 * 16-byte tag.  Returns false if OpenSSL fails or a length is over INT_MAX.
 */
bool sotto_aead_aes256gcm_seal(uint8_t *out, uint8_t tag[16],
    const uint8_t *in, size_t n, const uint8_t *aad, size_t aadlen,
    const uint8_t *iv, size_t ivlen, const uint8_t key[32]);

/*
 * Decrypts n bytes of in into out (n bytes, may alias in) and checks tag.
 * Returns false on a bad tag (or an OpenSSL failure); out is then wiped,
 * so no unauthenticated plaintext survives.
 */
bool sotto_aead_aes256gcm_open(uint8_t *out, const uint8_t *in, size_t n,
    const uint8_t tag[16], const uint8_t *aad, size_t aadlen,
    const uint8_t *iv, size_t ivlen, const uint8_t key[32])
    __attribute__((warn_unused_result));

/*
 * A key-bound context that keeps OpenSSL's key schedule across values:
 * creating an EVP context per value costs a cipher fetch and a key
 * expansion, which dominated decrypting files with many values.
 */
struct sotto_aead_gcm;
struct sotto_aead_gcm *sotto_aead_gcm_new(const uint8_t key[32]);
void sotto_aead_gcm_free(struct sotto_aead_gcm *g);
bool sotto_aead_gcm_seal(struct sotto_aead_gcm *g, uint8_t *out,
    uint8_t tag[16], const uint8_t *in, size_t n, const uint8_t *aad,
    size_t aadlen, const uint8_t *iv, size_t ivlen);
bool sotto_aead_gcm_open(struct sotto_aead_gcm *g, uint8_t *out,
    const uint8_t *in, size_t n, const uint8_t tag[16], const uint8_t *aad,
    size_t aadlen, const uint8_t *iv, size_t ivlen)
    __attribute__((warn_unused_result));

#endif
