/* SPDX-License-Identifier: ISC */
/* Guarded memory for key material; see sotto/secret.h. */
#include "sotto/secret.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct sotto_secret *
sotto_secret_new(size_t n)
{
	struct sotto_secret *s;

	s = malloc(sizeof(*s));
	if (s == NULL)
		return NULL;
	s->data = sodium_malloc(n ? n : 1);
	if (s->data == NULL) {
		free(s);
		return NULL;
	}
	memset(s->data, 0, n ? n : 1);
	s->len = n;
	return s;
}

struct sotto_secret *
sotto_secret_dup(const void *p, size_t n)
{
	struct sotto_secret *s = sotto_secret_new(n);

	if (s != NULL && n > 0)
		memcpy(s->data, p, n);
	return s;
}

void
sotto_secret_free(struct sotto_secret *s)
{
	if (s == NULL)
		return;
	sodium_free(s->data);	/* wipes before unmapping */
	free(s);
}

sotto_err
sotto_secret_init(void)
{
	struct rlimit rl = { 0, 0 };

	if (sodium_init() < 0)
		return SOTTO_E_CRYPTO;
	(void)setrlimit(RLIMIT_CORE, &rl);
	return SOTTO_OK;
}
