/* SPDX-License-Identifier: ISC */
/*
 * BIP-173 Bech32 (constant 1, not Bech32m) without the 90-character limit,
 * as age uses it: the checksum is over the lower-case HRP; output is
 * upper-case when the HRP was given upper-case.
 */
#ifndef SOTTO_BECH32_H
#define SOTTO_BECH32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sotto/buf.h"
#include "sotto/error.h"

/*
 * Appends hrp + "1" + data + checksum to out.  If hrp is upper-case the
 * whole string is upper-case.
 */
sotto_err sotto_bech32_encode(struct sotto_buf *out, const char *hrp,
    const uint8_t *data, size_t n);

/*
 * Decodes s (len n).  hrp receives the HRP in its original case (NUL
 * terminated, at most hrpcap-1 chars); data receives the 8-bit payload
 * (room for n bytes).  Rejects mixed case, bad chars, bad checksum and
 * non-zero padding.
 */
sotto_err sotto_bech32_decode(char *hrp, size_t hrpcap, uint8_t *data,
    size_t *datalen, const char *s, size_t n, struct sotto_error *e);

#endif
