/* SPDX-License-Identifier: ISC */
/* Binary store: plain bytes, sops-encrypted JSON wrapper, emit. */
#include "storetest.h"

static void
test_binary_plain_round_trip(void **state)
{
	static const uint8_t raw[] = { 'a', 0, 0xff, '\n', '{', '"' };
	struct sotto_doc *d = NULL;
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };
	struct sotto_node *data;

	(void)state;
	assert_int_equal(sotto_store_binary.parse(&d, raw, sizeof(raw), "b",
	    NULL, &e), SOTTO_OK);
	assert_null(d->meta[0]);
	data = sotto_tree_map_get(d->branches[0], "data");
	assert_int_equal(data->type, SOTTO_T_STR);
	assert_int_equal(data->len, sizeof(raw));
	assert_int_equal(sotto_store_binary.emit(&out, d, NULL, NULL, &e), 0);
	assert_int_equal(out.len, sizeof(raw));
	assert_memory_equal(out.data, raw, sizeof(raw));
	sotto_buf_release(&out);
	assert_int_equal(sotto_store_binary.emit_value(&out, data, NULL, &e),
	    SOTTO_E_EMIT);
	sotto_tree_doc_free(d);
	/* a plain JSON object without sops metadata stays bytes */
	assert_int_equal(sotto_store_binary.parse(&d, (const uint8_t *)
	    "{\"data\": 1}", 11, "b", NULL, &e), SOTTO_OK);
	assert_int_equal(sotto_tree_map_get(d->branches[0], "data")->len, 11);
	sotto_tree_doc_free(d);
}

static void
test_binary_encrypted_fixtures(void **state)
{
	static const struct {
		const char *f;
		bool exact;	/* written by sops >= 3.10 */
	} c[] = {
		{ "sops/hist/example.txt", false },
		{ "sops/wild/kustomize-controller/files/file.txt", false },
		{ "sops/wild/cuegen/secret.enc.cue", true },
	};
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint8_t *src = load(c[i].f, &len);
		struct sotto_doc *d = NULL;
		struct sotto_buf out = SOTTO_BUF_INIT;
		struct sotto_error e = { 0 };
		struct sotto_node *data;

		if (src == NULL)
			continue;
		assert_int_equal(sotto_store_binary.parse(&d, src, len, "b",
		    NULL, &e), SOTTO_OK);
		assert_ptr_equal(d->store, &sotto_store_binary);
		assert_non_null(d->meta[0]);
		assert_non_null(sotto_tree_map_get(d->meta[0], "mac"));
		data = sotto_tree_map_get(d->branches[0], "data");
		assert_memory_equal(data->text, "ENC[AES256_GCM,", 15);
		assert_int_equal(sotto_store_binary.emit_splice(&out, d,
		    d->meta[0], &e), SOTTO_OK);
		if (c[i].exact) {
			assert_int_equal(out.len, len);
			assert_memory_equal(out.data, src, len);
		} else {
			/* sops < 3.10 wrote no final newline */
			assert_int_equal(out.len, len + 1);
			assert_memory_equal(out.data, src, len);
		}
		sotto_buf_release(&out);
		/* decrypted: raw bytes, no newline added */
		sotto_tree_set_text(data, SOTTO_T_STR, "x\n", 2);
		assert_int_equal(sotto_store_binary.emit(&out, d, NULL, NULL,
		    &e), SOTTO_OK);
		assert_int_equal(out.len, 2);
		sotto_buf_release(&out);
		sotto_tree_doc_free(d);
		free(src);
	}
}

static void
test_binary_limit(void **state)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_doc *d = NULL;
	struct sotto_error e = { 0 };

	(void)state;
	lim.max_bytes = 3;
	assert_int_equal(sotto_store_binary.parse(&d, (const uint8_t *)"abcd",
	    4, "b", &lim, &e), SOTTO_E_LIMIT);
	assert_null(d);
}

/* sops' BinaryStore.EmitPlainFile refusals (stores/json store_test.go) */
static void
test_binary_emit_refusals(void **state)
{
	static const struct {
		const char *json;	/* branch 0, parsed as JSON */
		const char *msg;
	} c[] = {
		{ "{\"data\": {\"foo\": \"bar\"}}", "cannot write binary "
		    "output: 'data' key in tree does not have a string value" },
		{ "{\"data\": [1]}", "'data' key in tree does not have a "
		    "string value" },
		{ "{\"data\": 5}", "'data' key in tree does not have a string "
		    "value" },
		{ "{\"data\": null}", "'data' key in tree does not have a "
		    "string value" },
		{ "{\"foo\": \"bar\"}", "no binary data found in tree" },
		{ "{}", "no binary data found in tree" },
	};
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };
	struct sotto_doc *d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		d = store_parse_ok(&sotto_store_json, c[i].json,
		    strlen(c[i].json), "t.json");
		assert_int_equal(sotto_store_binary.emit(&out, d, NULL, NULL,
		    &e), SOTTO_E_EMIT);
		assert_string_equal(e.msg + strlen(e.msg) - strlen(c[i].msg),
		    c[i].msg);
		assert_int_equal(out.len, 0);
		sotto_tree_doc_free(d);
	}
	/* the first "data" decides, as sops' loop does */
	d = store_parse_ok(&sotto_store_json,
	    "{\"data\": \"x\", \"data\": 1}", 24, "t.json");
	assert_int_equal(sotto_store_binary.emit(&out, d, NULL, NULL, &e), 0);
	assert_int_equal(out.len, 1);
	sotto_buf_release(&out);
	/* two documents (YAML ---): refused, nothing written */
	sotto_tree_doc_add(d, sotto_tree_new_map());
	assert_int_equal(sotto_store_binary.emit(&out, d, NULL, NULL, &e),
	    SOTTO_E_EMIT);
	assert_string_equal(e.msg, "cannot write binary output: there must be "
	    "exactly one tree branch (2 documents)");
	assert_int_equal(out.len, 0);
	sotto_tree_doc_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binary_plain_round_trip),
		cmocka_unit_test(test_binary_encrypted_fixtures),
		cmocka_unit_test(test_binary_limit),
		cmocka_unit_test(test_binary_emit_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
