/* SPDX-License-Identifier: ISC */
/*
 * Run-time versions of the crypto libraries, for `sotto --version`.
 * OpenSSL is only included under crypto/, so its version string is read
 * here rather than in the CLI.
 */
#ifndef SOTTO_CRYPTO_VERSION_H
#define SOTTO_CRYPTO_VERSION_H

/* libsodium's version as the linked library reports it ("1.0.18"). */
const char *sotto_sodium_version(void);

/* OpenSSL's version line, as OpenSSL_version(OPENSSL_VERSION) gives it
 * ("OpenSSL 3.0.19 27 Jan 2026"). */
const char *sotto_openssl_version(void);

#endif
