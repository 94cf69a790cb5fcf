/* SPDX-License-Identifier: ISC */
/* dotenv store: sops fixtures, metadata (un)flattening, errors, property. */
#include "storetest.h"

static const char *fixtures[] = {
	"sops/current/format.enc.env",
	"sops/wild/talhelper/decrypt/encrypted.env",
	"sops/wild/kustomize-controller/component/env.env",
	"sops/wild/kustomize-controller/envs/env.env",
	"sops/wild/kustomize-controller/remote/env.env",
	"sops/wild/kustomize-controller/e8f4808/year.env",
	"sops-oracle-check/humphd-sops-age/secret.enc.env",
};

static struct sotto_doc *
parse_ok(const void *src, size_t len)
{
	return store_parse_ok(&sotto_store_dotenv, src, len, "t.env");
}

/* sops >= 3.8 writes the flattened keys sorted. */
static bool
sorted_meta(const struct sotto_node *meta)
{
	const struct sotto_node *v = sotto_tree_map_get(meta, "version");

	return v != NULL && strncmp(v->text, "3.7", 3) != 0;
}

static void
test_dotenv_fixtures_round_trip(void **state)
{
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		uint8_t *src = load(fixtures[i], &len);
		struct sotto_buf out = SOTTO_BUF_INIT;
		struct sotto_error e = { 0 };
		struct sotto_doc *d, *d2;
		struct sotto_node *meta, *age;

		if (src == NULL) {
			fprintf(stderr, "skip missing %s\n", fixtures[i]);
			continue;
		}
		d = parse_ok(src, len);
		meta = d->meta[0];
		assert_non_null(meta);
		assert_non_null(sotto_tree_map_get(meta, "lastmodified"));
		assert_non_null(sotto_tree_map_get(meta, "mac"));
		age = sotto_tree_map_get(meta, "age");
		if (age != NULL) {
			assert_int_equal(age->kind, SOTTO_NODE_SEQ);
			assert_non_null(strchr(sotto_tree_map_get(
			    age->items[0].val, "enc")->text, '\n'));
		}
		splice_eq(d, meta, src, len);
		assert_int_equal(sotto_store_dotenv.emit_splice(&out, d, NULL,
		    &e), SOTTO_OK);
		assert_null(strstr((char *)out.data, "sops_"));
		d2 = parse_ok(out.data, out.len);
		assert_null(d2->meta[0]);
		if (sorted_meta(meta))
			splice_eq(d2, meta, src, len);
		sotto_tree_doc_free(d2);
		sotto_buf_release(&out);
		assert_int_equal(sotto_store_dotenv.emit(&out, d, meta, NULL,
		    &e), SOTTO_OK);
		if (sorted_meta(meta) && (out.len != len ||
		    memcmp(out.data, src, len) != 0))
			fail_msg("emit differs for %s", fixtures[i]);
		sotto_buf_release(&out);
		sotto_tree_doc_free(d);
		free(src);
	}
}

static void
test_dotenv_parse_lines(void **state)
{
	const char *s = "# hello\n\nfoo = bar\nA=\"x\"\\ny\r\n\nB=1=2\n";
	struct sotto_doc *d = parse_ok(s, strlen(s));
	struct sotto_node *b = d->branches[0];
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };

	(void)state;
	assert_int_equal(b->n, 4);
	assert_null(b->items[0].key);
	assert_int_equal(b->items[0].val->kind, SOTTO_NODE_COMMENT);
	assert_string_equal(b->items[0].val->text, " hello");
	assert_string_equal(b->items[1].key, "foo ");
	assert_string_equal(b->items[1].val->text, " bar");
	assert_string_equal(b->items[2].key, "A");
	assert_string_equal(b->items[2].val->text, "\"x\"\ny\r");
	assert_string_equal(b->items[3].val->text, "1=2");
	assert_null(d->meta[0]);
	splice_eq(d, NULL, s, strlen(s));
	/* canonical output drops blank lines, escapes newlines */
	assert_int_equal(sotto_store_dotenv.emit(&out, d, NULL, NULL, &e), 0);
	assert_string_equal((char *)out.data,
	    "# hello\nfoo = bar\nA=\"x\"\\ny\r\nB=1=2\n");
	sotto_buf_release(&out);
	assert_int_equal(sotto_store_dotenv.emit_value(&out, b->items[2].val,
	    NULL, &e), 0);
	assert_string_equal((char *)out.data, "\"x\"\ny\r");
	sotto_buf_release(&out);
	sotto_tree_doc_free(d);
}

static void
test_dotenv_parse_errors(void **state)
{
	static const struct {
		const char *in;
		sotto_err code;
		const char *msg;
	} c[] = {
		{ "A=1\nnoequals\n", SOTTO_E_DOTENV,
		    "'bad.env' line 2: invalid dotenv input line" },
		{ "sops_age__list_1__map_enc=x\n", SOTTO_E_SOPS_METADATA,
		    "incomplete list" },
		{ "sops_a=x\nsops_a__map_b=y\n", SOTTO_E_SOPS_METADATA,
		    "line 2: sops metadata: type mismatch" },
		{ "sops_a__map_b=y\nsops_a=x\n", SOTTO_E_SOPS_METADATA,
		    "type mismatch" },
		{ "sops_a=1\nsops_a=2\n", SOTTO_E_SOPS_METADATA,
		    "duplicate value" },
		{ "sops_a__list_x=1\n", SOTTO_E_SOPS_METADATA,
		    "bad list index" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sotto_doc *d = NULL;
		struct sotto_error e = { 0 };

		assert_int_equal(sotto_store_dotenv.parse(&d, (const uint8_t *)
		    c[i].in, strlen(c[i].in), "bad.env", NULL, &e), c[i].code);
		assert_null(d);
		if (strstr(e.msg, c[i].msg) == NULL)
			fail_msg("case %zu: message '%s'", i, e.msg);
	}
}

/* sops' stores_test.go TestValToString, through the dotenv emitter */
static void
test_dotenv_val_to_string(void **state)
{
	static const struct {
		enum sotto_scalar_type t;
		const char *text, *canon, *want;
	} c[] = {
		{ SOTTO_T_INT, "1", NULL, "1" },
		{ SOTTO_T_INT, "0x1F", "31", "31" },
		{ SOTTO_T_FLOAT, "1.0", NULL, "1.0" },
		{ SOTTO_T_FLOAT, "1.10", NULL, "1.1" },
		{ SOTTO_T_FLOAT, "1.23", NULL, "1.23" },
		{ SOTTO_T_FLOAT, "1.234567890123456789", NULL,
		    "1.2345678901234567" },
		{ SOTTO_T_FLOAT, "2e5", NULL, "200000.0" },
		{ SOTTO_T_FLOAT, "-2e10", NULL, "-2E+10" },
		{ SOTTO_T_FLOAT, "2e-10", NULL, "2E-10" },
		{ SOTTO_T_FLOAT, "1.2345e100", NULL, "1.2345E+100" },
		{ SOTTO_T_FLOAT, "1.2345e-100", NULL, "1.2345E-100" },
		{ SOTTO_T_FLOAT, "0", NULL, "0.0" },
		{ SOTTO_T_FLOAT, "-0.0", NULL, "-0.0" },
		{ SOTTO_T_FLOAT, "1e21", NULL, "1E+21" },
		{ SOTTO_T_FLOAT, "999999", NULL, "999999.0" },
		{ SOTTO_T_FLOAT, "1000000", NULL, "1E+06" },
		{ SOTTO_T_FLOAT, "0.0001", NULL, "0.0001" },
		{ SOTTO_T_FLOAT, "0.00001", NULL, "1E-05" },
		{ SOTTO_T_FLOAT, ".inf", "+Inf", "+Inf" },
		{ SOTTO_T_FLOAT, "-.Inf", "-Inf", "-Inf" },
		{ SOTTO_T_FLOAT, ".nan", "NaN", "NaN" },
		{ SOTTO_T_BOOL, "true", NULL, "true" },
		{ SOTTO_T_BOOL, "False", NULL, "false" },
		{ SOTTO_T_BOOL, "yes", "True", "true" },
		{ SOTTO_T_TIME, "2025-01-02T03:04:05Z", NULL,
		    "2025-01-02T03:04:05Z" },
		{ SOTTO_T_TIME, "2025-01-02", NULL, "2025-01-02T00:00:00Z" },
		{ SOTTO_T_TIME, "2025-01-02 03:04:05.25", NULL,
		    "2025-01-02T03:04:05Z" },
		{ SOTTO_T_TIME, "2006-01-02T15:04:05.5+07:06", NULL,
		    "2006-01-02T15:04:05+07:06" },
		{ SOTTO_T_NULL, "", NULL, "<nil>" },
		{ SOTTO_T_STR, "a string", NULL, "a string" },
		{ SOTTO_T_STR, "two\nlines", NULL, "two\\nlines" },
	};
	struct sotto_buf out = SOTTO_BUF_INIT, want = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };
	struct sotto_doc *d;
	struct sotto_node *n;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		d = parse_ok("K=x\n", 4);
		n = d->branches[0]->items[0].val;
		assert_int_equal(sotto_tree_set_text(n, c[i].t, c[i].text,
		    strlen(c[i].text)), 0);
		if (c[i].canon != NULL)
			assert_int_equal(sotto_tree_set_canon(n, c[i].canon,
			    strlen(c[i].canon)), 0);
		sotto_buf_truncate(&want, 0);
		sotto_buf_addf(&want, "K=%s\n", c[i].want);
		/* emit (a conversion) and splice (decrypt) alike */
		assert_int_equal(sotto_store_dotenv.emit(&out, d, NULL, NULL,
		    &e), SOTTO_OK);
		if (out.len != want.len || memcmp(out.data, want.data,
		    want.len) != 0)
			fail_msg("case %zu: '%.*s'", i, (int)out.len,
			    (char *)out.data);
		sotto_buf_release(&out);
		splice_eq(d, NULL, want.data, want.len);
		/* the public function exec-env uses: no "\n" escaping */
		if (c[i].t != SOTTO_T_STR) {
			assert_int_equal(sotto_store_val_to_string(&out, n),
			    SOTTO_OK);
			assert_int_equal(out.len, strlen(c[i].want));
			assert_memory_equal(out.data, c[i].want, out.len);
			sotto_buf_release(&out);
		}
		sotto_tree_doc_free(d);
	}
	sotto_buf_release(&want);
	/* maps and lists have no string form */
	n = sotto_tree_new_seq();
	assert_int_equal(sotto_store_val_to_string(&out, n), SOTTO_E_EMIT);
	assert_int_equal(sotto_store_val_to_string(&out, NULL), SOTTO_E_EMIT);
	assert_int_equal(out.len, 0);
	sotto_tree_node_free(n, false);
}

/* A file without a final newline keeps it through encrypt and decrypt. */
static void
test_dotenv_no_final_newline(void **state)
{
	static const char *const src[] = { "A=1", "A=1\nB=2", "#c", "",
	    "A=1\n", "A=1\n\n", "A=1\r\nB=x\r\n" };
	struct sotto_node *meta = sotto_tree_new_map();
	size_t i;

	(void)state;
	sotto_tree_map_add(meta, "mac", 3, sotto_tree_new_scalar(SOTTO_T_STR,
	    "ENC[mac]", 8));
	for (i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
		struct sotto_buf enc = SOTTO_BUF_INIT;
		struct sotto_error e = { 0 };
		struct sotto_doc *d = parse_ok(src[i], strlen(src[i])), *d2;
		size_t k;

		assert_int_equal(sotto_store_dotenv.emit_splice(&enc, d, meta,
		    &e), SOTTO_OK);
		d2 = parse_ok(enc.data, enc.len);
		assert_non_null(d2->meta[0]);
		/* the metadata lines are whole lines of the file */
		for (k = 0; k + 4 < enc.len; k++)
			if (memcmp(enc.data + k, "sops_", 5) == 0)
				assert_true(k == 0 || enc.data[k - 1] == '\n');
		splice_eq(d2, NULL, src[i], strlen(src[i]));
		/* sops' layout: metadata last when the file ends in '\n' */
		if (strlen(src[i]) == 0 || src[i][strlen(src[i]) - 1] == '\n')
			assert_memory_equal(enc.data, src[i], strlen(src[i]));
		sotto_tree_doc_free(d);
		sotto_tree_doc_free(d2);
		sotto_buf_release(&enc);
	}
	sotto_tree_node_free(meta, false);
}

static void
test_dotenv_limits_and_emit_errors(void **state)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_doc *d = NULL;
	struct sotto_error e = { 0 };
	struct sotto_buf out = SOTTO_BUF_INIT;
	const char *s = "A=1\nB=2\nC=3\n";

	(void)state;
	lim.max_nodes = 2;
	assert_int_equal(sotto_store_dotenv.parse(&d, (const uint8_t *)s,
	    strlen(s), "l.env", &lim, &e), SOTTO_E_LIMIT);
	assert_non_null(strstr(e.msg, "nodes"));
	lim.max_nodes = 100;
	lim.max_bytes = 3;
	assert_int_equal(sotto_store_dotenv.parse(&d, (const uint8_t *)s,
	    strlen(s), "l.env", &lim, &e), SOTTO_E_LIMIT);
	assert_non_null(strstr(e.msg, "bytes"));
	d = parse_ok(s, strlen(s));
	sotto_tree_map_add(d->branches[0], "NESTED", 6, sotto_tree_new_map());
	assert_int_equal(sotto_store_dotenv.emit(&out, d, NULL, NULL, &e),
	    SOTTO_E_EMIT);
	assert_non_null(strstr(e.msg, "'NESTED'"));
	sotto_buf_release(&out);
	sotto_tree_doc_free(d);
}

static void
test_dotenv_meta_flatten_order(void **state)
{
	const char *s = "X=1\nsops_version=3.13.1\nsops_age__list_0__map_"
	    "recipient=age1\nsops_age__list_0__map_enc=a\\nb\\n\nsops_"
	    "lastmodified=t\nsops_mac=m\n";
	const char *want = "X=1\nsops_age__list_0__map_enc=a\\nb\\n\nsops_"
	    "age__list_0__map_recipient=age1\nsops_lastmodified=t\nsops_mac="
	    "m\nsops_version=3.13.2\n";
	struct sotto_doc *d = parse_ok(s, strlen(s));
	struct sotto_node *m = sotto_tree_clone(d->meta[0]);

	(void)state;
	/* unchanged metadata stays where and how it was */
	splice_eq(d, m, s, strlen(s));
	/* changed metadata is re-written, sorted like sops 3.13 */
	sotto_tree_set_text(sotto_tree_map_get(m, "version"), SOTTO_T_STR,
	    "3.13.2", 6);
	splice_eq(d, m, want, strlen(want));
	sotto_tree_node_free(m, false);
	sotto_tree_doc_free(d);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void
test_dotenv_property_encrypt_cycle(void **state)
{
	static const char *parts[] = { "a", "=", " ", "\"q\"", "\\n", "\\\\n",
	    "\xc3\xa9", "\r", "'", "#", "x y" };
	static struct sotto_node *v1[512], *v2[512], *vo[512];
	struct sotto_node *meta = sotto_tree_new_map();
	int iter;

	(void)state;
	sotto_tree_map_add(meta, "mac", 3, sotto_tree_new_scalar(SOTTO_T_STR,
	    "ENC[mac]", 8));
	for (iter = 0; iter < 400; iter++) {
		struct sotto_buf src = SOTTO_BUF_INIT, enc = SOTTO_BUF_INIT;
		struct sotto_error e = { 0 };
		struct sotto_doc *d1, *d2, *dor;
		size_t n = 0, i, j, lines = rnd(8);

		for (i = 0; i < lines; i++) {
			unsigned k = rnd(6), np = rnd(4);

			if (k == 0) {
				sotto_buf_addstr(&src, "\n");
				continue;
			}
			sotto_buf_addstr(&src, k == 1 ? "#" : "K");
			if (k > 1)
				sotto_buf_addf(&src, "%zu%s=", i,
				    rnd(3) ? "" : " ");
			for (j = 0; j < np; j++)
				sotto_buf_addstr(&src, parts[rnd(11)]);
			if (i + 1 < lines || rnd(2))
				sotto_buf_addch(&src, '\n');
		}
		d1 = parse_ok(src.data, src.len);
		dor = parse_ok(src.data, src.len);
		for (i = 0; i < d1->branches[0]->n; i++) {
			char fake[80];

			v1[i] = d1->branches[0]->items[i].val;
			vo[i] = dor->branches[0]->items[i].val;
			snprintf(fake, sizeof(fake), "ENC[AES256_GCM,data:%zu,"
			    "type:%s]", i, v1[i]->kind == SOTTO_NODE_COMMENT ?
			    "comment" : "str");
			if (v1[i]->len > 0)
				sotto_tree_set_text(v1[i], SOTTO_T_STR, fake,
				    strlen(fake));
		}
		n = d1->branches[0]->n;
		assert_int_equal(sotto_store_dotenv.emit_splice(&enc, d1, meta,
		    &e), SOTTO_OK);
		d2 = parse_ok(enc.data, enc.len);
		assert_non_null(d2->meta[0]);
		assert_int_equal(d2->branches[0]->n, n);
		for (i = 0; i < n; i++) {
			v2[i] = d2->branches[0]->items[i].val;
			sotto_tree_set_text(v2[i], SOTTO_T_STR, vo[i]->text,
			    vo[i]->len);
		}
		/* byte for byte, a missing final newline included */
		splice_eq(d2, NULL, src.data, src.len);
		sotto_tree_doc_free(d1);
		sotto_tree_doc_free(d2);
		sotto_tree_doc_free(dor);
		sotto_buf_release(&src);
		sotto_buf_release(&enc);
	}
	sotto_tree_node_free(meta, false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dotenv_fixtures_round_trip),
		cmocka_unit_test(test_dotenv_parse_lines),
		cmocka_unit_test(test_dotenv_parse_errors),
		cmocka_unit_test(test_dotenv_val_to_string),
		cmocka_unit_test(test_dotenv_no_final_newline),
		cmocka_unit_test(test_dotenv_limits_and_emit_errors),
		cmocka_unit_test(test_dotenv_meta_flatten_order),
		cmocka_unit_test(test_dotenv_property_encrypt_cycle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
