/* SPDX-License-Identifier: ISC */
/*
 * A growable byte buffer (git's strbuf idea).  Always NUL-terminated past
 * len so it can be used as a C string when it holds text.
 *
 * Invariants: data is NULL only while cap == 0; data[len] == '\0' otherwise.
 * A buffer flagged `secret` wipes its old storage whenever it grows and when
 * it is released, so plaintext never lingers in freed heap memory.
 */
#ifndef SOTTO_BUF_H
#define SOTTO_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sotto/error.h"

struct sotto_buf {
	uint8_t *data;	/* bytes, NUL-terminated past len */
	size_t len;	/* bytes in use */
	size_t cap;	/* bytes allocated */
	bool secret;	/* wipe on grow/release */
	int sink;	/* fd that sotto_buf_drain() writes to, or 0: none
			   (0 is stdin, never an output) */
};

#define SOTTO_BUF_INIT { NULL, 0, 0, false, 0 }
#define SOTTO_BUF_SECRET_INIT { NULL, 0, 0, true, 0 }

/* Ensures room for `more` bytes past len (+1 for the NUL). */
sotto_err sotto_buf_grow(struct sotto_buf *b, size_t more);
sotto_err sotto_buf_add(struct sotto_buf *b, const void *p, size_t n);
sotto_err sotto_buf_addstr(struct sotto_buf *b, const char *s);
sotto_err sotto_buf_addch(struct sotto_buf *b, int c);
sotto_err sotto_buf_addf(struct sotto_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * When b has a sink and holds at least `min` bytes, writes all but the last
 * byte to the sink and keeps that one (an emitter may look back at it), so
 * that a large output never sits in memory whole.  What was written is
 * wiped first if b is secret.  Returns SOTTO_E_IO if the write failed.
 */
sotto_err sotto_buf_drain(struct sotto_buf *b, size_t min);
/* Sets len to n (n <= len), keeping the NUL invariant. */
void sotto_buf_truncate(struct sotto_buf *b, size_t n);
/* Frees storage (wiping it first if secret); the buffer is reusable. */
void sotto_buf_release(struct sotto_buf *b);
/* Returns data and resets b; the caller owns the result (free()). */
uint8_t *sotto_buf_detach(struct sotto_buf *b, size_t *len);

#endif
