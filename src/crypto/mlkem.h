/* SPDX-License-Identifier: ISC */
/*
 * ML-KEM-768 (FIPS 203, final, August 2024) and the MLKEM768-X25519 hybrid
 * KEM of draft-ietf-hpke-pq (age's mlkem768x25519 type, spec age-format.md
 * §4.3).  Hashing (SHA3-256, SHA3-512, SHAKE128, SHAKE256) is OpenSSL's;
 * X25519 is libsodium's.  Everything touching secrets is constant time.
 *
 * Byte formats are those of FIPS 203: ek 1184 bytes, dk 2400 bytes (the
 * expanded dkPKE || ek || H(ek) || z form), ciphertext 1088 bytes.
 * Functions return 0 on success and -1 on failure (bad input or an OpenSSL
 * allocation failure); outputs are undefined after a failure.
 */
#ifndef SOTTO_MLKEM_H
#define SOTTO_MLKEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOTTO_MLKEM768_EKBYTES 1184
#define SOTTO_MLKEM768_DKBYTES 2400
#define SOTTO_MLKEM768_CTBYTES 1088
#define SOTTO_MLKEM768_SSBYTES 32

/*
 * ML-KEM.KeyGen_internal(d, z) (Algorithm 16).  Touches secrets (dk).
 */
int sotto_mlkem768_keygen_internal(uint8_t ek[SOTTO_MLKEM768_EKBYTES],
    uint8_t dk[SOTTO_MLKEM768_DKBYTES], const uint8_t d[32],
    const uint8_t z[32]);

/*
 * The encapsulation key check of FIPS 203 §7.2 (modulus check): true iff
 * every ByteDecode12 coefficient of ek[0:1152] is below q.  Public data.
 */
bool sotto_mlkem768_ek_check(const uint8_t ek[SOTTO_MLKEM768_EKBYTES]);

/*
 * ML-KEM.Encaps_internal(ek, m) (Algorithm 17) after the §7.2 modulus check;
 * -1 if ek fails it.  m is the 32-byte randomness (secret).
 */
int sotto_mlkem768_encaps_internal(uint8_t ss[SOTTO_MLKEM768_SSBYTES],
    uint8_t ct[SOTTO_MLKEM768_CTBYTES], const uint8_t ek[SOTTO_MLKEM768_EKBYTES],
    const uint8_t m[32]);
/* ML-KEM.Encaps(ek) (Algorithm 20): the same with fresh randomness. */
int sotto_mlkem768_encaps(uint8_t ss[SOTTO_MLKEM768_SSBYTES],
    uint8_t ct[SOTTO_MLKEM768_CTBYTES], const uint8_t ek[SOTTO_MLKEM768_EKBYTES]);

/*
 * ML-KEM.Decaps(dk, c) (Algorithms 18 and 21) with the §7.3 hash check on
 * dk (-1 if H(ek) inside dk is wrong).  A bad ciphertext is not an error:
 * implicit rejection returns J(z || c), chosen in constant time.
 */
int sotto_mlkem768_decaps(uint8_t ss[SOTTO_MLKEM768_SSBYTES],
    const uint8_t ct[SOTTO_MLKEM768_CTBYTES],
    const uint8_t dk[SOTTO_MLKEM768_DKBYTES]);

/* ---- MLKEM768-X25519 ------------------------------------------------- */

#define SOTTO_XWING_SEEDBYTES 32
#define SOTTO_XWING_PKBYTES 1216	/* ek (1184) || X25519 pk (32) */
#define SOTTO_XWING_ENCBYTES 1120	/* ct (1088) || X25519 share (32) */
#define SOTTO_XWING_SSBYTES 32

/*
 * The expanded private key of MLKEM768-X25519: dk and the X25519 scalar,
 * plus the public key.  Holds secrets: keep it in guarded memory and wipe
 * it (sodium_memzero) after use.
 */
struct sotto_xwing_key {
	uint8_t dk[SOTTO_MLKEM768_DKBYTES];	/* ML-KEM decapsulation key */
	uint8_t sk_t[32];			/* X25519 scalar */
	uint8_t pk[SOTTO_XWING_PKBYTES];	/* ek || pk_T */
};

/* expand(seed): SHAKE256(seed, 96) -> KeyGen_internal(d, z), X25519. */
int sotto_xwing_expand(struct sotto_xwing_key *k,
    const uint8_t seed[SOTTO_XWING_SEEDBYTES]);

/*
 * Encap with explicit randomness (ikm = m || X25519 ephemeral scalar, 64
 * bytes; for tests) or fresh randomness.  -1 if pk fails the ML-KEM
 * modulus check or its X25519 part is low order.
 */
int sotto_xwing_encap_derand(uint8_t ss[SOTTO_XWING_SSBYTES],
    uint8_t enc[SOTTO_XWING_ENCBYTES], const uint8_t pk[SOTTO_XWING_PKBYTES],
    const uint8_t ikm[64]);
int sotto_xwing_encap(uint8_t ss[SOTTO_XWING_SSBYTES],
    uint8_t enc[SOTTO_XWING_ENCBYTES], const uint8_t pk[SOTTO_XWING_PKBYTES]);

/* Decap; -1 only if the X25519 shared secret is all zero. */
int sotto_xwing_decap(uint8_t ss[SOTTO_XWING_SSBYTES],
    const uint8_t enc[SOTTO_XWING_ENCBYTES], const struct sotto_xwing_key *k);

/*
 * HPKE (RFC 9180) base-mode key schedule for the suite MLKEM768-X25519,
 * HKDF-SHA256, ChaCha20-Poly1305: key (32) and base_nonce (12) from the
 * shared secret and info.  Touches secrets.
 */
int sotto_xwing_hpke_schedule(uint8_t key[32], uint8_t base_nonce[12],
    const uint8_t ss[SOTTO_XWING_SSBYTES], const uint8_t *info,
    size_t infolen);

#endif
