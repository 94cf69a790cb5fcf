/* SPDX-License-Identifier: ISC */
/*
 * Run-time versions of libsodium and OpenSSL (the linked libraries, not the
 * headers sotto was compiled against), for `sotto --version`.
 */
#include "crypto/version.h"

#include <openssl/crypto.h>
#include <sodium.h>

const char *
sotto_sodium_version(void)
{
	return sodium_version_string();
}

const char *
sotto_openssl_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}
