/* SPDX-License-Identifier: ISC */
/*
 * Server authentication for the reconciler's git source, the part that
 * needs OpenSSL: an X.509 leaf checked against a CA bundle held in memory,
 * and the HMAC-SHA1 of OpenSSH's hashed known_hosts names.  Parsing
 * known_hosts and talking to libgit2 belong to kube/git.c.  Only
 * src/crypto/ includes OpenSSL.
 */
#ifndef SOTTO_HOSTVERIFY_H
#define SOTTO_HOSTVERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sotto/error.h"

/*
 * Verifies the DER certificate der (a TLS server's leaf) against the PEM
 * bundle ca (calen bytes, not necessarily NUL-terminated) and checks that
 * it is valid for host, a DNS name or an IP literal.  Every certificate in
 * ca is a trust anchor, as the roots of Go's tls.Config are for Flux, so a
 * bundle holding an intermediate works too.  Nothing touches disk.
 * Returns SOTTO_OK; SOTTO_E_KEY_FORMAT when ca holds no PEM certificate or
 * der does not parse; SOTTO_E_CRYPTO when the chain does not verify or the
 * certificate names another host (e->msg says which, without "host").
 */
sotto_err sotto_hostverify_x509(const uint8_t *der, size_t derlen,
    const char *ca, size_t calen, const char *host, struct sotto_error *e);

/* HMAC-SHA1 of msg under key (hashed known_hosts); false on failure. */
bool sotto_hostverify_hmac_sha1(uint8_t out[20], const uint8_t *key,
    size_t keylen, const uint8_t *msg, size_t n);

#endif
