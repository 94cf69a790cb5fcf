/* SPDX-License-Identifier: ISC */
/* JSON store: sops fixtures round trip, canonical emit, errors, property. */
#include "storetest.h"

static const char *fixtures[] = {
	"sops/hist/example.json",
	"sops/hist/example.txt",
	"sops/current/format.enc.json",
	"sops/wild/talhelper/decrypt/encrypted.json",
	"sops/wild/mise/multiple_age_keys.env.json",
	"sops/wild/kustomize-controller/files/file.txt",
	"sops/wild/kustomize-controller/inside/secret.yaml.data.key.json",
	"sops/wild/cuegen/secret.enc.cue",
	"sops-oracle-check/getsops-sops-0b07dfbc5/example.json",
	"sops-oracle-check/getsops-sops-0b07dfbc5/example.txt",
	"sops-oracle-check/humphd-sops-age/secret.enc.json",
	"sops-oracle-check/humphd-sops-age/secret.json",
};

static struct sotto_doc *
parse_ok(const struct sotto_store *st, const void *src, size_t len)
{
	return store_parse_ok(st, src, len, "t.json");
}

static bool
version_at_least_310(const struct sotto_node *meta)
{
	const struct sotto_node *v = sotto_tree_map_get(meta, "version");
	int maj = 0, min = 0;

	if (v == NULL || sscanf(v->text, "%d.%d", &maj, &min) != 2)
		return false;
	return maj > 3 || (maj == 3 && min >= 10);
}

static void
test_json_fixtures_round_trip(void **state)
{
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		uint8_t *src = load(fixtures[i], &len);
		struct sotto_doc *d, *d2;
		struct sotto_buf out = SOTTO_BUF_INIT;
		struct sotto_error e = { 0 };
		struct sotto_node *meta;
		bool plain = strstr(fixtures[i], "secret.json") != NULL;

		if (src == NULL) {
			fprintf(stderr, "skip missing %s\n", fixtures[i]);
			continue;
		}
		d = parse_ok(&sotto_store_json, src, len);
		assert_int_equal(d->n, 1);
		/* unchanged splice reproduces the file */
		splice_eq(d, d->meta[0], src, len);
		if (plain) {
			assert_null(d->meta[0]);
			sotto_tree_doc_free(d);
			free(src);
			continue;
		}
		meta = d->meta[0];
		assert_non_null(meta);
		assert_non_null(sotto_tree_map_get(meta, "lastmodified"));
		assert_non_null(sotto_tree_map_get(meta, "mac"));
		assert_null(sotto_tree_map_get(d->branches[0], "sops"));
		/* remove the metadata, re-parse, append it again */
		assert_int_equal(sotto_store_json.emit_splice(&out, d, NULL,
		    &e), SOTTO_OK);
		assert_null(strstr((char *)out.data, "\"sops\""));
		d2 = parse_ok(&sotto_store_json, out.data, out.len);
		assert_null(d2->meta[0]);
		splice_eq(d2, meta, src, len);
		sotto_tree_doc_free(d2);
		sotto_buf_release(&out);
		/* canonical emit is what sops >= 3.10 wrote */
		assert_int_equal(sotto_store_json.emit(&out, d, meta, NULL,
		    &e), SOTTO_OK);
		if (version_at_least_310(meta) &&
		    strstr(fixtures[i], "humphd") == NULL) {
			if (out.len != len || memcmp(out.data, src, len) != 0)
				fail_msg("emit differs for %s", fixtures[i]);
		}
		sotto_buf_release(&out);
		sotto_tree_doc_free(d);
		free(src);
	}
}

static void
test_json_parse_types_and_canon(void **state)
{
	const char *s = "{\"i\": -0, \"b\": 9223372036854775808, "
	    "\"f\": 1.0, \"x\": 1e21, \"t\": true, \"n\": null, "
	    "\"s\": \"a\\u00e9\\ud83d\\ude00\\n\", \"d\": 1, \"d\": 2}";
	struct sotto_doc *d = parse_ok(&sotto_store_json, s, strlen(s));
	struct sotto_node *b = d->branches[0], *n;

	(void)state;
	n = sotto_tree_map_get(b, "i");
	assert_int_equal(n->type, SOTTO_T_INT);
	assert_string_equal(n->text, "-0");
	assert_string_equal(n->canon, "0");
	n = sotto_tree_map_get(b, "b");
	assert_int_equal(n->type, SOTTO_T_FLOAT);
	assert_string_equal(n->canon, "9223372036854776000");
	n = sotto_tree_map_get(b, "f");
	assert_int_equal(n->type, SOTTO_T_FLOAT);
	assert_string_equal(n->canon, "1");
	n = sotto_tree_map_get(b, "x");
	assert_string_equal(n->canon, "1000000000000000000000");
	n = sotto_tree_map_get(b, "t");
	assert_int_equal(n->type, SOTTO_T_BOOL);
	assert_string_equal(n->canon, "True");
	assert_int_equal(sotto_tree_map_get(b, "n")->type, SOTTO_T_NULL);
	n = sotto_tree_map_get(b, "s");
	assert_int_equal(n->len, 2 + 4 + 1 + 1);
	assert_memory_equal(n->text, "a\xc3\xa9\xf0\x9f\x98\x80\n", 8);
	/* duplicate keys kept, in order */
	assert_int_equal(b->n, 9);
	assert_string_equal(b->items[7].val->text, "1");
	assert_string_equal(b->items[8].val->text, "2");
	sotto_tree_doc_free(d);
}

#define SP10 "          "
#define SP40 SP10 SP10 SP10 SP10

static void
test_json_emit_canonical(void **state)
{
	const char *s = "{\"a\":[1,{\"b\":\"<&>\\u2028\"},[]],\"c\":{},"
	    "\"x\":1e21,\"y\":0.0000001,\"z\":1.50}";
	const char *want = "{\n\t\"a\": [\n\t\t1,\n\t\t{\n\t\t\t\"b\": "
	    "\"\\u003c\\u0026\\u003e\\u2028\"\n\t\t},\n\t\t[]\n\t],\n\t"
	    "\"c\": {},\n\t\"x\": 1e+21,\n\t\"y\": 1e-7,\n\t\"z\": 1.5\n}\n";
	const char *want2 = "{\n  \"c\": {}\n}\n";
	struct sotto_doc *d = parse_ok(&sotto_store_json, s, strlen(s));
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };
	struct sotto_emit_opts o = { 2 };

	(void)state;
	assert_int_equal(sotto_store_json.emit(&out, d, NULL, NULL, &e), 0);
	assert_string_equal((char *)out.data, want);
	sotto_buf_release(&out);
	/* --extract: string raw, number JSON, list without newline */
	assert_int_equal(sotto_store_json.emit_value(&out,
	    sotto_tree_map_get(d->branches[0], "x"), NULL, &e), 0);
	assert_string_equal((char *)out.data, "1e+21");
	sotto_buf_release(&out);
	assert_int_equal(sotto_store_json.emit_value(&out,
	    sotto_tree_map_get(d->branches[0], "c"), &o, &e), 0);
	assert_string_equal((char *)out.data, "{}\n");
	sotto_buf_release(&out);
	sotto_tree_doc_free(d);
	s = "{\"c\":{}}";
	d = parse_ok(&sotto_store_json, s, strlen(s));
	assert_int_equal(sotto_store_json.emit(&out, d, NULL, &o, &e), 0);
	assert_string_equal((char *)out.data, want2);
	sotto_buf_release(&out);
	sotto_tree_doc_free(d);
	/* stores.json.indent: 0 (newlines, no indentation) and 40 spaces */
	s = "{\"a\":[1]}";
	d = parse_ok(&sotto_store_json, s, strlen(s));
	o.indent = 0;
	assert_int_equal(sotto_store_json.emit(&out, d, NULL, &o, &e), 0);
	assert_string_equal((char *)out.data, "{\n\"a\": [\n1\n]\n}\n");
	sotto_buf_release(&out);
	o.indent = 40;
	assert_int_equal(sotto_store_json.emit(&out, d, NULL, &o, &e), 0);
	sotto_buf_addch(&out, '\0');
	assert_string_equal((char *)out.data, "{\n" SP40 "\"a\": [\n" SP40 SP40
	    "1\n" SP40 "]\n}\n");
	sotto_buf_release(&out);
	sotto_tree_doc_free(d);
}

static void
test_json_splice_type_change(void **state)
{
	const char *s = "{\n  \"n\": 1.0,\n  \"b\": true,\n"
	    "  \"s\": \"\\u0041\"\n}";
	const char *enc = "{\n  \"n\": \"ENC[x]\",\n  \"b\": \"ENC[y]\",\n"
	    "  \"s\": \"ENC[z]\"\n}";
	struct sotto_doc *d = parse_ok(&sotto_store_json, s, strlen(s)), *d2;
	struct sotto_node *b = d->branches[0], *b2;
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };

	(void)state;
	sotto_tree_set_text(b->items[0].val, SOTTO_T_STR, "ENC[x]", 6);
	sotto_tree_set_text(b->items[1].val, SOTTO_T_STR, "ENC[y]", 6);
	sotto_tree_set_text(b->items[2].val, SOTTO_T_STR, "ENC[z]", 6);
	splice_eq(d, NULL, enc, strlen(enc));
	d2 = parse_ok(&sotto_store_json, enc, strlen(enc));
	b2 = d2->branches[0];
	/* decrypt gives sops' canonical bytes back: "1" for the float */
	sotto_tree_set_text(b2->items[0].val, SOTTO_T_FLOAT, "1", 1);
	sotto_tree_set_text(b2->items[1].val, SOTTO_T_BOOL, "True", 4);
	sotto_tree_set_text(b2->items[2].val, SOTTO_T_STR, "A", 1);
	assert_int_equal(sotto_store_json.emit_splice(&out, d2, NULL, &e), 0);
	assert_string_equal((char *)out.data,
	    "{\n  \"n\": 1,\n  \"b\": true,\n  \"s\": \"A\"\n}");
	sotto_buf_release(&out);
	/* but against the original source the spelling comes back */
	sotto_tree_set_text(b->items[0].val, SOTTO_T_FLOAT, "1", 1);
	sotto_tree_set_text(b->items[1].val, SOTTO_T_BOOL, "True", 4);
	sotto_tree_set_text(b->items[2].val, SOTTO_T_STR, "A", 1);
	splice_eq(d, NULL, s, strlen(s));
	sotto_tree_doc_free(d);
	sotto_tree_doc_free(d2);
}

/*
 * Decrypting a file sotto wrote gives each number's spelling back; a
 * value sops wrote (Go's 'f' form) comes out as sops prints it; strings
 * whose escapes the splice writer would not write back are flagged.
 */
static void
test_json_decrypt_spelling(void **state)
{
	static const struct {
		const char *plain;	/* decrypted bytes */
		enum sotto_scalar_type t;
		const char *want;	/* spliced */
		const char *canon;	/* canonical emit (sops) */
	} c[] = {
		{ "2.50", SOTTO_T_FLOAT, "2.50", "2.5" },
		{ "1.0", SOTTO_T_FLOAT, "1.0", "1" },
		{ "1E+21", SOTTO_T_FLOAT, "1E+21", "1e+21" },
		{ "12345678901234567890", SOTTO_T_FLOAT,
		    "12345678901234567890", "12345678901234567000" },
		{ "1000000000000000000000", SOTTO_T_FLOAT, "1e+21", "1e+21" },
		{ "0.0000001", SOTTO_T_FLOAT, "1e-7", "1e-7" },
		{ "6.02214076e+23", SOTTO_T_FLOAT, "6.02214076e+23",
		    "6.02214076e+23" },
		{ "-0.0", SOTTO_T_FLOAT, "-0.0", "-0" },
		{ "1", SOTTO_T_FLOAT, "1", "1" },
		{ "+1.5", SOTTO_T_FLOAT, "1.5", "1.5" },
		{ "1_000.5", SOTTO_T_FLOAT, "1000.5", "1000.5" },
		{ "-0", SOTTO_T_INT, "-0", "0" },
		{ "+7", SOTTO_T_INT, "7", "7" },
		{ "007", SOTTO_T_INT, "7", "7" },
		{ "True", SOTTO_T_BOOL, "true", "true" },
		{ "0", SOTTO_T_BOOL, "false", "false" },
		{ "2025-01-02T03:04:05.500Z", SOTTO_T_TIME,
		    "\"2025-01-02T03:04:05.5Z\"", "\"2025-01-02T03:04:05.5Z\"" },
	};
	const char *enc = "{\"v\": \"ENC[x]\"}";
	struct sotto_buf out = SOTTO_BUF_INIT, want = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };
	struct sotto_node *v;
	struct sotto_doc *d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		d = parse_ok(&sotto_store_json, enc, strlen(enc));
		v = d->branches[0]->items[0].val;
		assert_int_equal(sotto_tree_set_text(v, c[i].t, c[i].plain,
		    strlen(c[i].plain)), 0);
		sotto_buf_truncate(&want, 0);
		sotto_buf_addf(&want, "{\"v\": %s}", c[i].want);
		splice_eq(d, NULL, want.data, want.len);
		assert_int_equal(sotto_store_json.emit(&out, d, NULL, NULL, &e),
		    SOTTO_OK);
		sotto_buf_truncate(&want, 0);
		sotto_buf_addf(&want, "{\n\t\"v\": %s\n}\n", c[i].canon);
		if (out.len != want.len || memcmp(out.data, want.data,
		    want.len) != 0)
			fail_msg("case %zu: emit '%.*s'", i, (int)out.len,
			    (char *)out.data);
		sotto_buf_release(&out);
		sotto_tree_doc_free(d);
	}
	sotto_buf_release(&want);
	/* RESPELL: escapes the splice writer would write otherwise */
	{
		static const struct {
			const char *tok;
			bool respell;
		} r[] = {
			{ "\"plain\"", false }, { "\"a\\nb\\t\\\"\\\\\"", false },
			{ "\"\\u001b\\u0000\\b\\f\\r\"", false },
			{ "\"\\u001B\"", true }, { "\"\\/\"", true },
			{ "\"caf\\u00e9\"", true }, { "\"\\u000a\"", true },
			{ "\"\\ud83d\\ude80\"", true },
			{ "\"caf\xc3\xa9 <&>\"", false },
			/* numbers sops would print in exponent form */
			{ "1000000000000000000000", true },
			{ "-0.0000001", true }, { "1e21", false },
			{ "0.000001", false }, { "100000000000000000000", false },
			{ "12345678901234567890", false }, { "2.50", false },
		};
		for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
			sotto_buf_truncate(&want, 0);
			sotto_buf_addf(&want, "{\"k\": %s}", r[i].tok);
			d = parse_ok(&sotto_store_json, want.data, want.len);
			v = d->branches[0]->items[0].val;
			if (((v->flags & SOTTO_NODE_RESPELL) != 0) !=
			    r[i].respell)
				fail_msg("case %zu: %s: RESPELL %s", i,
				    r[i].tok, r[i].respell ? "unset" : "set");
			sotto_tree_doc_free(d);
		}
		sotto_buf_release(&want);
	}
}

static void
test_json_splice_structure_change(void **state)
{
	const char *s = "{\n  \"a\": {\"x\": 1},\n  \"b\": 2\n}\n";
	const char *want = "{\n  \"a\": {\n    \"x\": 1,\n    \"y\": \"new\"\n"
	    "  },\n  \"b\": 2\n}\n";
	struct sotto_doc *d = parse_ok(&sotto_store_json, s, strlen(s));
	struct sotto_node *a = d->branches[0]->items[0].val;

	(void)state;
	sotto_tree_map_add(a, "y", 1, sotto_tree_new_scalar(SOTTO_T_STR,
	    "new", 3));
	splice_eq(d, NULL, want, strlen(want));
	sotto_tree_doc_free(d);
}

static void
test_json_splice_meta_positions(void **state)
{
	static const char *in[] = {
		"{\"sops\": {\"v\": \"1\"}, \"a\": 1}",
		"{\n\t\"sops\": {\"v\": \"1\"}\n}\n",
		"{}",
		"{\"a\":1,\"b\":2}",
	};
	static const char *nometa[] = {
		"{\"a\": 1}",
		"{}\n",
		"{}",
		"{\"a\":1,\"b\":2}",
	};
	static const char *withmeta[] = {
		"{\"a\": 1, \"sops\": {\"k\": \"v\"}}",
		"{\n\t\"sops\": {\n\t\t\"k\": \"v\"\n\t}\n}\n",
		"{\n\t\"sops\": {\n\t\t\"k\": \"v\"\n\t}\n}",
		"{\"a\":1,\"b\":2,\"sops\":{\"k\":\"v\"}}",
	};
	struct sotto_node *m = sotto_tree_new_map();
	size_t i;

	(void)state;
	sotto_tree_map_add(m, "k", 1, sotto_tree_new_scalar(SOTTO_T_STR,
	    "v", 1));
	for (i = 0; i < 4; i++) {
		struct sotto_doc *d = parse_ok(&sotto_store_json, in[i],
		    strlen(in[i]));

		splice_eq(d, d->meta[0], in[i], strlen(in[i]));
		splice_eq(d, NULL, nometa[i], strlen(nometa[i]));
		splice_eq(d, m, withmeta[i], strlen(withmeta[i]));
		sotto_tree_doc_free(d);
	}
	sotto_tree_node_free(m, false);
}

static void
test_json_parse_errors(void **state)
{
	static const struct {
		const char *in;
		sotto_err code;
		const char *msg;
	} c[] = {
		{ "[1, 2]", SOTTO_E_JSON, "line 1: cannot unmarshal JSON: SOPS "
		    "only supports JSON files with a top-level object (starting "
		    "with '{'), not arrays; to encrypt this file, wrap it in an "
		    "object, e.g. {\"data\": [...]}" },
		{ "\"x\"", SOTTO_E_JSON, "SOPS only supports JSON files with a "
		    "top-level object (starting with '{'), not other JSON types "
		    "(got a string)" },
		{ " 42 ", SOTTO_E_JSON, "(got a number)" },
		{ "\n\ntrue", SOTTO_E_JSON, "line 3: cannot unmarshal JSON: SOPS "
		    "only supports JSON files with a top-level object (starting "
		    "with '{'), not other JSON types (got a boolean)" },
		{ "null", SOTTO_E_JSON, "(got null)" },
		{ "", SOTTO_E_JSON, "line 1: cannot unmarshal JSON: SOPS only "
		    "supports JSON files with a top-level object (starting with "
		    "'{'), and this file has no value" },
		{ "{\"a\": \"caf\xe9\"}", SOTTO_E_JSON,
		    "line 1: invalid UTF-8 in string" },
		{ "{\"\xc3\x28\": 1}", SOTTO_E_JSON, "invalid UTF-8 in string" },
		{ "{\"a\": \"\xed\xa0\x80\"}", SOTTO_E_JSON,
		    "invalid UTF-8 in string" },
		{ "{\"a\": \"\\ud800\"}", SOTTO_E_JSON, "invalid \\u escape "
		    "in string (not four hex digits, or a lone UTF-16 "
		    "surrogate)" },
		{ "{\"a\": \"\\udc00\\ud800\"}", SOTTO_E_JSON,
		    "lone UTF-16 surrogate" },
		{ "{\"a\": \"\\u12G4\"}", SOTTO_E_JSON, "not four hex digits" },
		{ "{\"a\": 1} x", SOTTO_E_JSON, "after top-level" },
		{ "{\"a\": 01}", SOTTO_E_JSON, "expected ','" },
		{ "{\"a\": \"\\x\"}", SOTTO_E_JSON, "invalid escape" },
		{ "{\"a\": \"\t\"}", SOTTO_E_JSON, "control character" },
		{ "{\n\"a\": \"x}", SOTTO_E_JSON, "line 2: unterminated" },
		{ "{\"a\" 1}", SOTTO_E_JSON, "expected ':'" },
		{ "{\"a\": tru}", SOTTO_E_JSON, "invalid character" },
		{ "{\"a\": 1e999}", SOTTO_E_JSON, "out of range" },
		{ "{\"a\": [1,]}", SOTTO_E_JSON, "invalid character" },
		{ "{\"a\": 1,}", SOTTO_E_JSON, "object key" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sotto_doc *d = NULL;
		struct sotto_error e = { 0 };

		assert_int_equal(sotto_store_json.parse(&d, (const uint8_t *)
		    c[i].in, strlen(c[i].in), "bad.json", NULL, &e),
		    c[i].code);
		assert_null(d);
		if (strstr(e.msg, c[i].msg) == NULL ||
		    strncmp(e.msg, "'bad.json' line ", 16) != 0)
			fail_msg("case %zu: message '%s'", i, e.msg);
	}
}

static void
test_json_parse_limits(void **state)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_doc *d = NULL;
	struct sotto_error e = { 0 };
	const char *deep = "{\"a\":{\"b\":{\"c\":[[1]]}}}";
	const char *wide = "{\"a\":[1,2,3,4,5,6,7,8,9]}";

	(void)state;
	lim.max_depth = 4;
	assert_int_equal(sotto_store_json.parse(&d, (const uint8_t *)deep,
	    strlen(deep), "l.json", &lim, &e), SOTTO_E_LIMIT);
	assert_non_null(strstr(e.msg, "nesting"));
	lim.max_depth = 256;
	lim.max_nodes = 5;
	assert_int_equal(sotto_store_json.parse(&d, (const uint8_t *)wide,
	    strlen(wide), "l.json", &lim, &e), SOTTO_E_LIMIT);
	assert_non_null(strstr(e.msg, "nodes"));
	lim.max_nodes = 100;
	lim.max_bytes = 10;
	assert_int_equal(sotto_store_json.parse(&d, (const uint8_t *)wide,
	    strlen(wide), "l.json", &lim, &e), SOTTO_E_LIMIT);
	assert_non_null(strstr(e.msg, "bytes"));
	assert_null(d);
}

/* ---- property test ---- */

static uint64_t rng = 88172645463325252ull;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void
gen_ws(struct sotto_buf *b)
{
	static const char *ws[] = { "", " ", "\n  ", "\t", "\r\n", "  " };

	sotto_buf_addstr(b, ws[rnd(6)]);
}

/* canon: only spellings a fresh render gives back (re-parse cycle) */
static bool canon_only;	/* numbers sops spells the same way only */
static bool canon_str;		/* no escapes the splice writer changes */

static void
gen_string(struct sotto_buf *b)
{
	static const char *parts[] = { "a", "xyz", "\\n", "\\\"", "<&>",
	    "\xc3\xa9", " ", "\\u0000", "", "\\u00e9", "\\/",
	    "\\ud83d\\ude00" };
	unsigned i, n = rnd(5);

	sotto_buf_addch(b, '"');
	for (i = 0; i < n; i++)
		sotto_buf_addstr(b, parts[rnd(canon_str ? 9 : 12)]);
	sotto_buf_addch(b, '"');
}

static void
gen_value(struct sotto_buf *b, int depth)
{
	static const char *nums[] = { "0", "1", "42", "-7", "1.5", "1e+21",
	    "3.14159", "9223372036854775807", "-9223372036854775808", "1e-7",
	    "-0", "1.0", "1.50", "1E21", "123456789012345678901234",
	    "0.1e1" };
	unsigned k = rnd(depth > 3 ? 4 : 6), i, n;

	switch (k) {
	case 0:
		gen_string(b);
		break;
	case 1:
		sotto_buf_addstr(b, nums[rnd(canon_only ? 10 : 16)]);
		break;
	case 2:
		sotto_buf_addstr(b, rnd(2) ? "true" : "false");
		break;
	case 3:
		sotto_buf_addstr(b, rnd(4) ? "\"ENC-like\"" : "null");
		break;
	case 4:
		n = rnd(4);
		sotto_buf_addch(b, '[');
		for (i = 0; i < n; i++) {
			if (i)
				sotto_buf_addch(b, ',');
			gen_ws(b);
			gen_value(b, depth + 1);
			gen_ws(b);
		}
		sotto_buf_addch(b, ']');
		break;
	default:
		n = rnd(4);
		sotto_buf_addch(b, '{');
		for (i = 0; i < n; i++) {
			if (i)
				sotto_buf_addch(b, ',');
			gen_ws(b);
			gen_string(b);
			gen_ws(b);
			sotto_buf_addch(b, ':');
			gen_ws(b);
			gen_value(b, depth + 1);
			gen_ws(b);
		}
		sotto_buf_addch(b, '}');
		break;
	}
}

static void
collect(struct sotto_node *n, struct sotto_node **v, size_t *k)
{
	size_t i;

	if (n->kind == SOTTO_NODE_SCALAR) {
		if (n->type != SOTTO_T_NULL)
			v[(*k)++] = n;
		return;
	}
	for (i = 0; i < n->n; i++)
		collect(n->items[i].val, v, k);
}

static void
fake_encrypt(struct sotto_node **v, size_t n)
{
	char fake[64];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(fake, sizeof(fake), "ENC[AES256_GCM,data:%zu,type:%s]",
		    i, sotto_tree_type_name(v[i]->type));
		assert_int_equal(sotto_tree_set_text(v[i], SOTTO_T_STR, fake,
		    strlen(fake)), 0);
	}
}

/*
 * What a decrypt produces: the original type and the bytes encrypted,
 * sops' canonical ones (canon) or the spelling sotto encrypts (text).
 */
static void
fake_decrypt(struct sotto_node **v, struct sotto_node **orig, size_t n,
    bool canon)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *t = canon && orig[i]->canon ? orig[i]->canon :
		    orig[i]->text;

		assert_int_equal(sotto_tree_set_text(v[i], orig[i]->type, t,
		    canon && orig[i]->canon ? strlen(t) : orig[i]->len), 0);
	}
}

static void
test_json_property_encrypt_cycle(void **state)
{
	static struct sotto_node *v1[4096], *v2[4096], *vo[4096];
	struct sotto_node *meta = sotto_tree_new_map();
	int iter;

	(void)state;
	sotto_tree_map_add(meta, "mac", 3, sotto_tree_new_scalar(SOTTO_T_STR,
	    "ENC[mac]", 8));
	for (iter = 0; iter < 600; iter++) {
		struct sotto_buf src = SOTTO_BUF_INIT, enc = SOTTO_BUF_INIT;
		struct sotto_error e = { 0 };
		struct sotto_doc *d1, *d2, *dor;
		size_t n1 = 0, n2 = 0, no = 0, i;
		unsigned m = rnd(6);

		/*
		 * 0: re-parse cycle, sops' bytes decrypted; 1: same doc (any
		 * spelling); 2: re-parse cycle, sotto's bytes decrypted (any
		 * number spelling comes back)
		 */
		canon_only = iter % 3 == 0;
		canon_str = iter % 3 != 1;
		gen_ws(&src);
		sotto_buf_addch(&src, '{');
		for (i = 0; i < m; i++) {
			if (i)
				sotto_buf_addch(&src, ',');
			sotto_buf_addstr(&src, rnd(2) ? "\n\t" : " ");
			gen_string(&src);
			sotto_buf_addstr(&src, rnd(2) ? ": " : ":");
			gen_value(&src, 1);
		}
		/* (an empty object loses inner whitespace, as with sops) */
		sotto_buf_addstr(&src, m > 0 && rnd(2) ? "\n}\n" : "}");
		d1 = parse_ok(&sotto_store_json, src.data, src.len);
		dor = parse_ok(&sotto_store_json, src.data, src.len);
		collect(d1->branches[0], v1, &n1);
		collect(dor->branches[0], vo, &no);
		fake_encrypt(v1, n1);
		assert_int_equal(sotto_store_json.emit_splice(&enc, d1, meta,
		    &e), SOTTO_OK);
		if (iter % 3 != 1) {
			d2 = parse_ok(&sotto_store_json, enc.data, enc.len);
			assert_non_null(d2->meta[0]);
			collect(d2->branches[0], v2, &n2);
			assert_int_equal(n1, n2);
			fake_decrypt(v2, vo, n2, canon_only);
			splice_eq(d2, NULL, src.data, src.len);
			sotto_tree_doc_free(d2);
		} else {
			fake_decrypt(v1, vo, n1, true);
			splice_eq(d1, NULL, src.data, src.len);
		}
		sotto_tree_doc_free(d1);
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
		cmocka_unit_test(test_json_fixtures_round_trip),
		cmocka_unit_test(test_json_parse_types_and_canon),
		cmocka_unit_test(test_json_emit_canonical),
		cmocka_unit_test(test_json_splice_type_change),
		cmocka_unit_test(test_json_decrypt_spelling),
		cmocka_unit_test(test_json_splice_structure_change),
		cmocka_unit_test(test_json_splice_meta_positions),
		cmocka_unit_test(test_json_parse_errors),
		cmocka_unit_test(test_json_parse_limits),
		cmocka_unit_test(test_json_property_encrypt_cycle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
