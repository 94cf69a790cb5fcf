/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness: .sops.yaml bytes -> struct sotto_config, then every
 * rule through matching and explain, and every regex field through the
 * Go regex compiler.  Must never crash, leak or hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sotto/config.h"
#include "sotto/regex.h"

static void
try_regex(const char *s)
{
	static const char subj[] = "data/secret.enc.yaml";
	struct sotto_regex *re;
	bool m;

	if (s != NULL && sotto_regex_compile(&re, s, NULL) == SOTTO_OK) {
		(void)sotto_regex_match(&m, re, subj, sizeof(subj) - 1, NULL);
		sotto_regex_free(re);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_config *c = NULL;
	const struct sotto_config_rule *r = NULL;
	struct sotto_config_explain *ex = NULL;
	struct sotto_buf b = SOTTO_BUF_INIT;
	char *rel = NULL, *nul;
	size_t i;

	/* the raw bytes as a regex too (up to the first NUL) */
	if ((nul = malloc(size + 1)) != NULL) {
		for (i = 0; i < size && data[i] != '\0'; i++)
			nul[i] = (char)data[i];
		nul[i] = '\0';
		if (i <= 4096)
			try_regex(nul);
		free(nul);
	}
	if (sotto_config_parse(&c, data, size, "/fuzz/.sops.yaml", &e) !=
	    SOTTO_OK)
		return 0;
	(void)sotto_config_match(&r, c, "/fuzz/dir/file.yaml", &e);
	(void)sotto_config_match(&r, c, "/elsewhere/file.json", &e);
	(void)sotto_config_validate(c, &e);
	if (c->nrules > 0 && (ex = calloc(c->nrules, sizeof(*ex))) != NULL) {
		(void)sotto_config_explain(ex, &rel, c, "/fuzz/a.env", &e);
		free(rel);
		free(ex);
	}
	for (i = 0; i < c->nrules; i++) {
		try_regex(c->rules[i].encrypted_regex);
		try_regex(c->rules[i].unencrypted_regex);
		try_regex(c->rules[i].encrypted_comment_regex);
		try_regex(c->rules[i].unencrypted_comment_regex);
		if (c->rules[i].ngroups > 0)
			(void)sotto_config_key_types(&b,
			    c->rules[i].groups[0].other_types);
	}
	sotto_buf_release(&b);
	sotto_config_free(c);
	return 0;
}
