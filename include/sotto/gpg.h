/* SPDX-License-Identifier: ISC */
/*
 * OpenPGP through the user's GnuPG (keyring, gpg-agent, smartcards), for
 * the sops CLI's `pgp` keys: GPGME loaded at run time with dlopen() on
 * first use, so that commands that never meet a pgp key (age, and every
 * age-only sops file) neither load it nor start gpg.  The agent and the
 * renderer do not use this: they decrypt natively (sotto/pgp.h).
 *
 * As sops: GNUPGHOME (read by gpg itself) picks the keyring, and
 * SOPS_GPG_EXEC, when set, names the gpg binary (found on PATH when it
 * has no '/').  SOTTO_GPGME_SONAME overrides the library's file name (a
 * test knob).
 */
#ifndef SOTTO_GPG_H
#define SOTTO_GPG_H

#include <stddef.h>
#include <stdint.h>

#include "sotto/buf.h"
#include "sotto/error.h"
#include "sotto/secret.h"

/*
 * Split in two on purpose: scripts/image.sh ships every quoted "lib*.so.N"
 * of src/ and include/ in the agent image, which has no gpg and so no
 * use for GPGME.
 */
#define SOTTO_GPGME_SONAME "libgpgme" ".so.11"

/*
 * Encrypts p[0..n) (a data key or a Shamir share) to the OpenPGP key fp
 * (a fingerprint or key ID, as sops' `gpg -r`), trusting it as sops'
 * --trusted-key does, without the user's default recipients.  Appends
 * the armored message to out, trimmed of the final newline as sops
 * stores it.  Errors (SOTTO_E_UNSUPPORTED when GPGME cannot be loaded,
 * else SOTTO_E_CRYPTO: exit status 1, as sops' "could not generate data
 * key") name fp, and say so when it is not in the keyring.
 */
sotto_err sotto_gpg_encrypt(struct sotto_buf *out, const uint8_t *p,
    size_t n, const char *fp, struct sotto_error *e);

/*
 * Decrypts one armored message with gpg (gpg-agent does the private-key
 * operation; it may ask for a PIN or passphrase through pinentry).  *out
 * is a new secret (wiped on free); the plaintext never leaves locked
 * memory on our side.  An empty plaintext is an error, as in sops.
 */
sotto_err sotto_gpg_decrypt(struct sotto_secret **out, const char *msg,
    size_t n, struct sotto_error *e);

/* True when GPGME was loaded by this process (tests, diagnostics). */
int sotto_gpg_loaded(void);

#endif
