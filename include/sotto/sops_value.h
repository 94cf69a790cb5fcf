/* SPDX-License-Identifier: ISC */
/*
 * The format-independent sops crypto layer: ENC[AES256_GCM,...] value
 * strings (spec/sops-format.md section 1), the MAC over clear values and
 * its encrypted storage (section 3), and the lastmodified timestamp rules
 * that give the MAC its AAD.  Walking a tree, building AADs from key paths
 * and serialising values to bytes (see sotto/gofmt.h) belong to callers.
 *
 * WARNING: sops uses 32-byte AES-GCM IVs, which libsodium cannot do; the
 * primitive lives in src/crypto/aead.c on OpenSSL EVP.  A random 32-byte
 * IV per value keeps the (key, IV) collision bound far out of reach; only
 * reuse an IV ("IV stash") for the SAME (AAD, plaintext) under the same
 * key, which merely re-creates the identical ciphertext.
 */
#ifndef SOTTO_SOPS_VALUE_H
#define SOTTO_SOPS_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sotto/buf.h"
#include "sotto/error.h"

#define SOTTO_SOPS_DATAKEY_BYTES 32	/* AES-256 data key */
#define SOTTO_SOPS_IV_BYTES 32		/* IV length encrypt uses */
#define SOTTO_SOPS_TAG_BYTES 16		/* GCM tag length */
#define SOTTO_SOPS_TYPE_MAX 16		/* room for a known type name + NUL */
#define SOTTO_SOPS_MAC_HEX 129		/* 128 upper-case hex chars + NUL */

/*
 * A parsed ENC[...] string.  The *_b64 and type pointers borrow the input
 * string; data and iv are owned (ciphertext and IV, not secret): release
 * with sotto_sops_value_release().
 */
struct sotto_sops_enc {
	const char *data_b64;	/* borrowed: data group */
	size_t data_b64len;
	const char *iv_b64;	/* borrowed: iv group */
	size_t iv_b64len;
	const char *tag_b64;	/* borrowed: tag group */
	size_t tag_b64len;
	const char *type;	/* borrowed: type group, not NUL-terminated */
	size_t typelen;
	struct sotto_buf data;	/* decoded ciphertext (may be empty) */
	struct sotto_buf iv;	/* decoded IV, >= 1 byte */
	uint8_t tag[SOTTO_SOPS_TAG_BYTES];	/* decoded tag */
};

/* True if s starts with "ENC[AES256_GCM," (what sops treats as encrypted). */
bool sotto_sops_value_is_enc(const char *s, size_t n);

/*
 * Parses n bytes of s with the semantics of sops' Go regex
 *   ^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]
 * (not end-anchored, greedy groups, '.' never matches a newline, so only
 * the first line counts and trailing junk after ']' is ignored), then
 * decodes data, iv and tag as strict padded base64.  IV must be non-empty,
 * tag exactly 16 bytes.  The type is NOT checked here (see decrypt).
 * Initialises *out; on success release it with sotto_sops_value_release()
 * (also safe after a failure).  Errors: SOTTO_E_ENC_VALUE (the message
 * names the part, never the value), SOTTO_E_NOMEM.
 */
sotto_err sotto_sops_value_parse(struct sotto_sops_enc *out, const char *s,
    size_t n, struct sotto_error *e);

/* Frees what sotto_sops_value_parse() allocated; NULL is a no-op. */
void sotto_sops_value_release(struct sotto_sops_enc *enc);

/*
 * Encrypts n plaintext bytes (already serialised per spec 1.1: Go 'f'
 * floats, True/False, ...) and appends ENC[AES256_GCM,data:..,iv:..,
 * tag:..,type:<type>] to out.  type is one of str int float bool time
 * comment.  iv_or_null: a 32-byte IV to reuse (IV stash), else a random
 * one is drawn.  Empty plaintext is never encrypted: for n == 0 nothing is
 * appended (the caller writes the empty string) and SOTTO_OK returned.
 * Touches secret bytes (plain, key) but copies neither.
 * Errors: SOTTO_E_USAGE (bad type), SOTTO_E_ENCRYPT, SOTTO_E_NOMEM.
 */
sotto_err sotto_sops_value_encrypt(struct sotto_buf *out,
    const uint8_t *plain, size_t n, const char *type, const char *aad,
    size_t aadlen, const uint8_t key[32], const uint8_t *iv_or_null,
    struct sotto_error *e);

/*
 * Decrypts the ENC string s (n bytes) with aad and the data key, appending
 * the plaintext to plain (which is switched to secret mode so it is wiped
 * when it grows or is released) and copying the type name to type_out
 * (SOTTO_SOPS_TYPE_MAX bytes, may be NULL).  As sops does, the tag is
 * checked first, then the type: str int float bool bytes time comment.
 * int/float/bool/time plaintext must parse as Go's Atoi / ParseFloat /
 * ParseBool / RFC 3339.  On any failure plain is wiped back to its old
 * length: no unauthenticated or rejected plaintext is left behind.
 * Errors: SOTTO_E_DECRYPT (tag/AAD/key mismatch), SOTTO_E_ENC_VALUE
 * (malformed, "unknown datatype", or content not valid for its type),
 * SOTTO_E_NOMEM.
 */
sotto_err sotto_sops_value_decrypt(struct sotto_buf *plain, char *type_out,
    const char *s, size_t n, const char *aad, size_t aadlen,
    const uint8_t key[32], struct sotto_error *e)
    __attribute__((warn_unused_result));

/*
 * The MAC hasher: SHA-512 over the clear serialised leaves in tree order,
 * no separators.  Opaque storage so that this header names no libsodium
 * type.  No allocation; wiped by sotto_sops_mac_final().
 */
struct sotto_sops_mac {
	union {
		uint64_t align;
		unsigned char bytes[256];
	} st;			/* crypto_hash_sha512_state */
};

/* Starts a MAC; feeds SHA-256("sops") first when mac_only_encrypted. */
void sotto_sops_mac_init(struct sotto_sops_mac *m, bool mac_only_encrypted);
/* Feeds one leaf's bytes (empty values may be fed; they add nothing). */
void sotto_sops_mac_add(struct sotto_sops_mac *m, const uint8_t *p,
    size_t n);
/* Writes the 128 upper-case hex chars + NUL and wipes the state. */
void sotto_sops_mac_final(struct sotto_sops_mac *m,
    char hex[SOTTO_SOPS_MAC_HEX]);

/*
 * Appends the encrypted MAC (type str, AAD = lastmodified re-formatted as
 * by sotto_sops_time_rfc3339_normalize()) to out.  iv_or_null as for
 * sotto_sops_value_encrypt().  Errors: SOTTO_E_SOPS_METADATA (lastmodified
 * not RFC 3339), those of sotto_sops_value_encrypt().
 */
sotto_err sotto_sops_mac_encrypt(struct sotto_buf *out,
    const char hex[SOTTO_SOPS_MAC_HEX], const char *lastmodified,
    const uint8_t key[32], const uint8_t *iv_or_null, struct sotto_error *e);

/*
 * Verifies the stored MAC enc_mac against the computed hex, decrypting it
 * with AAD = normalised lastmodified_raw and comparing in constant time.
 * Errors: SOTTO_E_MAC_NOT_FOUND (enc_mac NULL or empty),
 * SOTTO_E_SOPS_METADATA (lastmodified not RFC 3339), SOTTO_E_MAC_MISMATCH
 * (stored MAC malformed, undecryptable, not type str, or different).
 */
sotto_err sotto_sops_mac_check(const char *enc_mac,
    const char *lastmodified_raw, const char hex[SOTTO_SOPS_MAC_HEX],
    const uint8_t key[32], struct sotto_error *e)
    __attribute__((warn_unused_result));

/*
 * Parses in as Go's time.Parse(time.RFC3339, ...) does (fractional seconds
 * with '.' or ',' accepted, one-digit hour accepted, offsets up to +-24:60
 * as Go's general parser allows) and re-formats it with the RFC3339 layout:
 * "YYYY-MM-DDTHH:MM:SS" + "Z" for a zero offset or "+hh:mm"/"-hh:mm".
 * Fractional seconds are dropped.  Error: SOTTO_E_PARSE.
 */
sotto_err sotto_sops_time_rfc3339_normalize(char out[64], const char *in,
    struct sotto_error *e);

/* Current UTC time as YYYY-MM-DDTHH:MM:SSZ (lastmodified on encrypt). */
void sotto_sops_time_now(char out[32]);

/*
 * The same with a key-bound AES-GCM context (see src/crypto/aead.h)
 * instead of a raw key: what the document walk uses, so OpenSSL's key
 * schedule is built once per file rather than once per value.
 */
struct sotto_aead_gcm;
sotto_err sotto_sops_value_encrypt_with(struct sotto_buf *out,
    const uint8_t *plain, size_t n, const char *type, const char *aad,
    size_t aadlen, struct sotto_aead_gcm *g, const uint8_t *iv_or_null,
    struct sotto_error *e);
sotto_err sotto_sops_value_decrypt_with(struct sotto_buf *plain,
    char *type_out, const char *s, size_t n, const char *aad, size_t aadlen,
    struct sotto_aead_gcm *g, struct sotto_error *e)
    __attribute__((warn_unused_result));

#endif
