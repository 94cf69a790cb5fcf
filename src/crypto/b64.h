/* SPDX-License-Identifier: ISC */
/*
 * Strict standard base64 (RFC 4648 section 4): canonical only (unused low
 * bits must be zero), no whitespace.  Two variants: unpadded (age stanzas,
 * header MAC) and padded (armor, sops values).
 */
#ifndef SOTTO_B64_H
#define SOTTO_B64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sotto/buf.h"

/* Decoded length bound for n input chars. */
#define SOTTO_B64_DECODED_MAX(n) (((n) / 4 + 1) * 3)

/*
 * Decodes n chars at s into out (room for SOTTO_B64_DECODED_MAX(n)).
 * padded: require '=' padding to a multiple of 4; else forbid '='.
 * Returns false on any invalid, non-canonical or mis-padded input.
 */
bool sotto_b64_decode(uint8_t *out, size_t *outlen, const char *s, size_t n,
    bool padded);
/* Appends the encoding of p to b. */
int sotto_b64_encode(struct sotto_buf *b, const uint8_t *p, size_t n,
    bool padded);

#endif
