/* SPDX-License-Identifier: ISC */
/* Growable byte buffer; see sotto/buf.h. */
#include "sotto/buf.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/io.h"

sotto_err
sotto_buf_grow(struct sotto_buf *b, size_t more)
{
	size_t need, ncap;
	uint8_t *n;

	if (more > SIZE_MAX - b->len - 1)
		return SOTTO_E_NOMEM;
	need = b->len + more + 1;
	if (need <= b->cap)
		return SOTTO_OK;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (b->secret) {
		n = malloc(ncap);
		if (n == NULL)
			return SOTTO_E_NOMEM;
		if (b->data != NULL) {
			memcpy(n, b->data, b->len + 1);
			sodium_memzero(b->data, b->cap);
			free(b->data);
		}
	} else {
		n = realloc(b->data, ncap);
		if (n == NULL)
			return SOTTO_E_NOMEM;
	}
	if (b->data == NULL)
		n[0] = '\0';
	b->data = n;
	b->cap = ncap;
	return SOTTO_OK;
}

sotto_err
sotto_buf_drain(struct sotto_buf *b, size_t min)
{
	size_t n;

	if (b->sink <= 0 || b->len < 2 || b->len < min)
		return SOTTO_OK;
	n = b->len - 1;
	if (sotto_io_write_all(b->sink, b->data, n) != SOTTO_OK)
		return SOTTO_E_IO;
	b->data[0] = b->data[n];
	if (b->secret)
		sodium_memzero(b->data + 1, n);
	b->len = 1;
	b->data[1] = '\0';
	return SOTTO_OK;
}

sotto_err
sotto_buf_add(struct sotto_buf *b, const void *p, size_t n)
{
	if (sotto_buf_grow(b, n) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return SOTTO_OK;
}

sotto_err
sotto_buf_addstr(struct sotto_buf *b, const char *s)
{
	return sotto_buf_add(b, s, strlen(s));
}

sotto_err
sotto_buf_addch(struct sotto_buf *b, int c)
{
	uint8_t ch = (uint8_t)c;

	return sotto_buf_add(b, &ch, 1);
}

sotto_err
sotto_buf_addf(struct sotto_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return SOTTO_E_INTERNAL;
	if (sotto_buf_grow(b, (size_t)n) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return SOTTO_OK;
}

void
sotto_buf_truncate(struct sotto_buf *b, size_t n)
{
	if (b->data == NULL || n > b->len)
		return;
	if (b->secret)
		sodium_memzero(b->data + n, b->len - n);
	b->len = n;
	b->data[n] = '\0';
}

void
sotto_buf_release(struct sotto_buf *b)
{
	if (b->data != NULL && b->secret)
		sodium_memzero(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

uint8_t *
sotto_buf_detach(struct sotto_buf *b, size_t *len)
{
	uint8_t *d = b->data;

	if (len != NULL)
		*len = b->len;
	if (d == NULL) {
		d = calloc(1, 1);
	}
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}
