/* SPDX-License-Identifier: ISC */
/*
 * Helpers shared by the store unit tests (test_json.c, test_dotenv.c,
 * test_ini.c, test_binary.c): fixture loading from the shared vectors,
 * a parse that must succeed, and a splice that must give exact bytes.
 */
#ifndef SOTTO_STORETEST_H
#define SOTTO_STORETEST_H

#include "testutil.h"

#include "sotto/store.h"
#include "sotto/tree.h"

/* A file under ../shared/vectors, read whole; NULL if absent. */
static inline uint8_t *
load(const char *rel, size_t *len)
{
	char path[1024];

	*len = 0;
	snprintf(path, sizeof(path), "%s/vectors/%s", test_shared_dir(), rel);
	return test_read_file(path, len);
}

static inline struct sotto_doc *
store_parse_ok(const struct sotto_store *st, const void *src, size_t len,
    const char *name)
{
	struct sotto_error e = { 0 };
	struct sotto_doc *d = NULL;

	if (st->parse(&d, src, len, name, NULL, &e) != SOTTO_OK)
		fail_msg("parse: %s", e.msg);
	return d;
}

/* The splice of d (with meta, may be NULL) must equal want exactly. */
static inline void
splice_eq(const struct sotto_doc *d, const struct sotto_node *meta,
    const void *want, size_t wlen)
{
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };

	if (d->store->emit_splice(&out, d, meta, &e) != SOTTO_OK)
		fail_msg("splice: %s", e.msg);
	if (out.len != wlen || (wlen > 0 &&
	    memcmp(out.data, want, wlen) != 0)) {
		fprintf(stderr, "--- got\n%.*s\n--- want\n%.*s\n",
		    (int)out.len, (char *)out.data, (int)wlen, (char *)want);
		fail_msg("splice output differs");
	}
	sotto_buf_release(&out);
}

#endif
