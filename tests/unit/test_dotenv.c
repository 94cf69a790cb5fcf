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
		cmocka_unit_test(test_dotenv_limits_and_emit_errors),
		cmocka_unit_test(test_dotenv_meta_flatten_order),
		cmocka_unit_test(test_dotenv_property_encrypt_cycle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
