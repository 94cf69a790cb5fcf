/* SPDX-License-Identifier: ISC */
/* INI store: sops fixtures, go-ini parsing and layout, errors, property. */
#include "storetest.h"

static const char *fixtures[] = {
	"sops/hist/example.ini",
	"sops/current/format.enc.ini",
	"sops/current/format-2.enc.ini",
	"sops-oracle-check/getsops-sops-0b07dfbc5/example.ini",
};

static struct sotto_doc *
parse_ok(const void *src, size_t len)
{
	return store_parse_ok(&sotto_store_ini, src, len, "t.ini");
}

static void
test_ini_fixtures_round_trip(void **state)
{
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		uint8_t *src = load(fixtures[i], &len);
		struct sotto_buf out = SOTTO_BUF_INIT;
		struct sotto_error e = { 0 };
		struct sotto_doc *d, *d2;
		struct sotto_node *meta, *enc;
		bool v313 = strstr(fixtures[i], "format.enc") != NULL;

		if (src == NULL) {
			fprintf(stderr, "skip missing %s\n", fixtures[i]);
			continue;
		}
		d = parse_ok(src, len);
		meta = d->meta[0];
		assert_non_null(meta);
		assert_non_null(sotto_tree_map_get(meta, "lastmodified"));
		assert_non_null(sotto_tree_map_get(meta, "mac"));
		assert_null(sotto_tree_map_get(d->branches[0], "sops"));
		enc = sotto_tree_map_get(meta, "pgp");
		if (enc == NULL)
			enc = sotto_tree_map_get(meta, "age");
		enc = sotto_tree_map_get(enc->items[0].val, "enc");
		assert_non_null(strstr(enc->text, "-----\n"));
		splice_eq(d, meta, src, len);
		/* drop and re-append the metadata */
		assert_int_equal(sotto_store_ini.emit_splice(&out, d, NULL,
		    &e), SOTTO_OK);
		assert_null(strstr((char *)out.data, "[sops]"));
		d2 = parse_ok(out.data, out.len);
		if (v313)
			splice_eq(d2, meta, src, len);
		sotto_tree_doc_free(d2);
		sotto_buf_release(&out);
		assert_int_equal(sotto_store_ini.emit(&out, d, meta, NULL, &e),
		    SOTTO_OK);
		if (v313 && (out.len != len || memcmp(out.data, src, len) != 0))
			fail_msg("emit differs for %s:\n%s", fixtures[i],
			    (char *)out.data);
		sotto_buf_release(&out);
		sotto_tree_doc_free(d);
		free(src);
	}
}

static void
test_ini_emit_plain_layout(void **state)
{
	uint8_t *src;
	size_t len;
	struct sotto_doc *d;
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };
	struct sotto_node *name;

	(void)state;
	src = load("sops/hist/example.ini.plain", &len);
	if (src == NULL)
		skip();
	d = parse_ok(src, len);
	name = sotto_tree_map_get(d->branches[0], "name");
	assert_non_null(name);
	assert_int_equal(name->items[0].val->kind, SOTTO_NODE_COMMENT);
	assert_string_equal(name->items[0].val->text,
	    "An example file for use with sops!");
	assert_string_equal(sotto_tree_map_get(name, "age")->text, "25.4");
	assert_non_null(sotto_tree_map_get(d->branches[0], "not private"));
	splice_eq(d, NULL, src, len);
	/* go-ini writes no blank line after the last section any more */
	assert_int_equal(sotto_store_ini.emit(&out, d, NULL, NULL, &e), 0);
	assert_int_equal(out.len, len - 1);
	assert_memory_equal(out.data, src, len - 1);
	sotto_buf_release(&out);
	sotto_tree_doc_free(d);
	free(src);
}

static void
test_ini_go_ini_values(void **state)
{
	const char *s = "top = 1\n; c1\n# c2\n[s]\n  k1 =  v1  \n"
	    "k2: \"quoted \"\nk3 = 'sq'\nk4 = `a;b`\nk5 = v ; inline\n"
	    "k6 = \"\"\"multi\nline\"\"\"\n\"k 7\" = x\nk8 = a\\\n  b\nk9 =\n";
	struct sotto_doc *d = parse_ok(s, strlen(s));
	struct sotto_node *b = d->branches[0], *sec, *def;

	(void)state;
	def = sotto_tree_map_get(b, "DEFAULT");
	assert_non_null(def);
	assert_string_equal(b->items[0].key, "DEFAULT");
	assert_string_equal(sotto_tree_map_get(def, "top")->text, "1");
	sec = sotto_tree_map_get(b, "s");
	assert_int_equal(sec->items[0].val->kind, SOTTO_NODE_COMMENT);
	assert_string_equal(sec->items[0].val->text, "c1\nc2");
	assert_string_equal(sotto_tree_map_get(sec, "k1")->text, "v1");
	assert_string_equal(sotto_tree_map_get(sec, "k2")->text, "quoted ");
	assert_string_equal(sotto_tree_map_get(sec, "k3")->text, "sq");
	assert_string_equal(sotto_tree_map_get(sec, "k4")->text, "a;b");
	assert_string_equal(sotto_tree_map_get(sec, "k5")->text, "v");
	assert_string_equal(sotto_tree_map_get(sec, "k6")->text,
	    "multi\nline");
	assert_string_equal(sotto_tree_map_get(sec, "k 7")->text, "x");
	assert_string_equal(sotto_tree_map_get(sec, "k8")->text, "ab");
	assert_string_equal(sotto_tree_map_get(sec, "k9")->text, "");
	splice_eq(d, NULL, s, strlen(s));
	sotto_tree_doc_free(d);
}

static void
collect(struct sotto_node *b, struct sotto_node **v, size_t *n)
{
	size_t i, j;

	for (i = 0; i < b->n; i++)
		for (j = 0; j < b->items[i].val->n; j++)
			v[(*n)++] = b->items[i].val->items[j].val;
}

/*
 * Encrypt then decrypt through the splice writer: quotes, comment markers,
 * a missing final newline and trailing blank lines all come back; the
 * encrypted file stays readable as go-ini reads it (quotes around ENC).
 */
static void
test_ini_faithful_cycle(void **state)
{
	static const struct {
		const char *src;
		const char *enc_has;	/* in the encrypted file */
	} c[] = {
		{ "[s]\nk = 'x'\n", "k = 'ENC[" },
		{ "[s]\nk = \"  x  \"\n", "k = \"ENC[" },
		{ "[s]\nk = `a;b`\n", "k = `ENC[" },
		{ "[s]\nk = \"\"\"a\nb\"\"\"\n", "k = \"\"\"ENC[" },
		{ "[s]\n# hash\nk = v\n", "\n# ENC[" },
		{ "[s]\n;tight\nk = v\n", "\n;ENC[" },
		{ "[s]\nk = v   #  inline\n", "ENC[x0]   #  ENC[x1]" },
		{ "[s]\n#  a\n#  b\nk = v\n", "\n#  ENC[" },
		{ "[s]\nk = v", "k = ENC[x0]\n[sops]" },
		{ "[s]\nk = v\n\n\n", "\n\n\n\n[sops]" },
		{ "[s]\r\nk = v\r\n", "\r\n\n[sops]" },
		{ "k = v\n", "k = ENC[x0]\n\n[sops]" },
		{ "", "[sops]" },
		/* comments after a closing quote are comments, encrypted */
		{ "[s]\nk = \"\"\"v\"\"\" ; c\n", "ENC[x0]\"\"\" ; ENC[x1]\n" },
		{ "[s]\nk = `a\nb`  # c\n", "ENC[x0]`  # ENC[x1]\n" },
		/* values as they were: a mid-line '`' or CR unquoted */
		{ "[s]\nk = a`b\rc\n", "k = ENC[x0]\n" },
		{ "[s]\nk = \"\"\"a\"\"\"\"\n", "k = \"\"\"ENC[x0]\"\"\"\n" },
		/* comments no key follows are encrypted too, not left clear */
		{ "[s]\nk = v\n; tail\n", "k = ENC[x0]\n; ENC[x1]\n\n[sops]" },
		{ "; only\n", "; ENC[x0]\n\n[sops]" },
	};
	struct sotto_node *meta = sotto_tree_new_map();
	static struct sotto_node *v1[16], *v2[16], *vo[16];
	size_t i, j;

	(void)state;
	sotto_tree_map_add(meta, "mac", 3, sotto_tree_new_scalar(SOTTO_T_STR,
	    "ENC[mac]", 8));
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sotto_buf enc = SOTTO_BUF_INIT;
		struct sotto_error e = { 0 };
		struct sotto_doc *d = parse_ok(c[i].src, strlen(c[i].src));
		struct sotto_doc *dor = parse_ok(c[i].src, strlen(c[i].src));
		struct sotto_doc *d2;
		size_t n1 = 0, n2 = 0, no = 0;

		collect(d->branches[0], v1, &n1);
		collect(dor->branches[0], vo, &no);
		for (j = 0; j < n1; j++) {
			char fake[32];

			snprintf(fake, sizeof(fake), "ENC[x%zu]", j);
			sotto_tree_set_text(v1[j], SOTTO_T_STR, fake,
			    strlen(fake));
		}
		assert_int_equal(sotto_store_ini.emit_splice(&enc, d, meta,
		    &e), SOTTO_OK);
		sotto_buf_addch(&enc, '\0');
		if (strstr((char *)enc.data, c[i].enc_has) == NULL)
			fail_msg("case %zu: encrypted file lacks '%s':\n%s", i,
			    c[i].enc_has, (char *)enc.data);
		d2 = parse_ok(enc.data, enc.len - 1);
		assert_non_null(d2->meta[0]);
		collect(d2->branches[0], v2, &n2);
		assert_int_equal(n2, n1);
		for (j = 0; j < n2; j++) {
			/* what go-ini reads there is the ENC string */
			if (v2[j]->kind == SOTTO_NODE_SCALAR)
				assert_memory_equal(v2[j]->text, "ENC[x", 5);
			sotto_tree_set_text(v2[j], SOTTO_T_STR, vo[j]->text,
			    vo[j]->len);
		}
		splice_eq(d2, NULL, c[i].src, strlen(c[i].src));
		sotto_tree_doc_free(d);
		sotto_tree_doc_free(d2);
		sotto_tree_doc_free(dor);
		sotto_buf_release(&enc);
	}
	sotto_tree_node_free(meta, false);
}

/*
 * A comment after a section header ("[s] ; x", which go-ini drops) is
 * encrypted as the section's comment, above the header: an ENC string
 * on the header line would end the section name at its ']'.
 */
static void
test_ini_header_comment(void **state)
{
	static const struct {
		const char *src, *enc, *dec;
	} c[] = {
		{ "[s] ; note\nk = v\n", "; ENC[x0]\n[s]\nk = ENC[x1]\n\n",
		    "; note\n[s]\nk = v\n" },
		{ "; a\n\n[s]   # b  \nk = v\n",
		    "; ENC[x0]\n\n[s]\nk = ENC[x1]\n\n",
		    "; a\n; b\n\n[s]\nk = v\n" },
		{ "[s] ;x\r\nk = v\r\n", ";ENC[x0]\r\n[s]\r\nk = ENC[x1]\r\n\n",
		    ";x\r\n[s]\r\nk = v\r\n" },
	};
	struct sotto_node *meta = sotto_tree_new_map();
	static struct sotto_node *v1[8], *v2[8], *vo[8];
	size_t i, j;

	(void)state;
	sotto_tree_map_add(meta, "mac", 3, sotto_tree_new_scalar(SOTTO_T_STR,
	    "ENC[mac]", 8));
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sotto_buf enc = SOTTO_BUF_INIT;
		struct sotto_error e = { 0 };
		struct sotto_doc *d = parse_ok(c[i].src, strlen(c[i].src));
		struct sotto_doc *dor = parse_ok(c[i].src, strlen(c[i].src));
		struct sotto_doc *d2;
		size_t n1 = 0, n2 = 0, no = 0;

		collect(d->branches[0], v1, &n1);
		collect(dor->branches[0], vo, &no);
		assert_int_equal(vo[0]->kind, SOTTO_NODE_COMMENT);
		assert_true(vo[0]->flags & SOTTO_NODE_RESPELL);
		for (j = 0; j < n1; j++) {
			char fake[32];

			snprintf(fake, sizeof(fake), "ENC[x%zu]", j);
			sotto_tree_set_text(v1[j], SOTTO_T_STR, fake,
			    strlen(fake));
		}
		assert_int_equal(sotto_store_ini.emit_splice(&enc, d, meta,
		    &e), SOTTO_OK);
		if (enc.len < strlen(c[i].enc) || memcmp(enc.data, c[i].enc,
		    strlen(c[i].enc)) != 0)
			fail_msg("case %zu: encrypted '%.*s'", i, (int)enc.len,
			    (char *)enc.data);
		d2 = parse_ok(enc.data, enc.len);
		collect(d2->branches[0], v2, &n2);
		assert_int_equal(n2, n1);
		assert_string_equal(d2->branches[0]->items[0].key, "s");
		for (j = 0; j < n2; j++)
			sotto_tree_set_text(v2[j], SOTTO_T_STR, vo[j]->text,
			    vo[j]->len);
		splice_eq(d2, NULL, c[i].dec, strlen(c[i].dec));
		sotto_tree_doc_free(d);
		sotto_tree_doc_free(d2);
		sotto_tree_doc_free(dor);
		sotto_buf_release(&enc);
	}
	sotto_tree_node_free(meta, false);
}

/*
 * A decrypted value the source's quotes cannot hold gets go-ini's quoting
 * instead; values that are not strings are written as sops' ValToString.
 */
static void
test_ini_requote_and_values(void **state)
{
	static const struct {
		const char *src;	/* one key k in [s] */
		enum sotto_scalar_type t;
		const char *val, *want;
	} c[] = {
		{ "k = 'x'", SOTTO_T_STR, "a;b", "k = `a;b`" },
		{ "k = \"x\"", SOTTO_T_STR, "say \"hi\"", "k = say \"hi\"" },
		{ "k = `x`", SOTTO_T_STR, "a`b\nc", "k = \"\"\"a`b\nc\"\"\"" },
		{ "k = 'x'", SOTTO_T_STR, " pad ", "k = ' pad '" },
		{ "k = v", SOTTO_T_STR, " pad ", "k = \" pad \"" },
		{ "k = v", SOTTO_T_FLOAT, "2e-10", "k = 2E-10" },
		{ "k = v", SOTTO_T_FLOAT, "1.0", "k = 1.0" },
		{ "k = v", SOTTO_T_INT, "0x1F", "k = 0x1F" },
		{ "k = v", SOTTO_T_BOOL, "True", "k = true" },
		{ "k = v", SOTTO_T_NULL, "", "k = <nil>" },
		{ "k = v", SOTTO_T_TIME, "2025-01-02", "k = 2025-01-02T00:00:00Z" },
		{ "k = v", SOTTO_T_TIME, "2025-01-02 03:04:05",
		    "k = 2025-01-02T03:04:05Z" },
	};
	struct sotto_buf src = SOTTO_BUF_INIT, want = SOTTO_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sotto_doc *d;
		struct sotto_node *v;

		sotto_buf_truncate(&src, 0);
		sotto_buf_addf(&src, "[s]\n%s\n", c[i].src);
		d = parse_ok(src.data, src.len);
		v = sotto_tree_map_get(d->branches[0]->items[0].val, "k");
		assert_int_equal(sotto_tree_set_text(v, c[i].t, c[i].val,
		    strlen(c[i].val)), 0);
		sotto_buf_truncate(&want, 0);
		sotto_buf_addf(&want, "[s]\n%s\n", c[i].want);
		splice_eq(d, NULL, want.data, want.len);
		sotto_tree_doc_free(d);
	}
	sotto_buf_release(&src);
	sotto_buf_release(&want);
}

/* Several YAML documents to INI: every document's sections, as sops. */
static void
test_ini_emit_every_branch(void **state)
{
	struct sotto_doc *d = sotto_tree_doc_new("m.yaml");
	struct sotto_node *b, *s;
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		b = sotto_tree_new_map();
		s = sotto_tree_new_map();
		sotto_tree_map_add(s, "a", 1, sotto_tree_new_scalar(SOTTO_T_INT,
		    i ? "2" : "1", 1));
		sotto_tree_map_add(b, i ? "two" : "one", 3, s);
		sotto_tree_doc_add(d, b);
	}
	assert_int_equal(sotto_store_ini.emit(&out, d, NULL, NULL, &e), 0);
	sotto_buf_addch(&out, '\0');
	assert_string_equal((char *)out.data,
	    "[one]\na = 1\n\n[two]\na = 2\n");
	sotto_buf_release(&out);
	/* a scalar where a section belongs is refused, with its name */
	sotto_tree_map_add(d->branches[1], "top", 3,
	    sotto_tree_new_scalar(SOTTO_T_STR, "x", 1));
	assert_int_equal(sotto_store_ini.emit(&out, d, NULL, NULL, &e),
	    SOTTO_E_EMIT);
	assert_string_equal(e.msg, "ini: value of section 'top' is not a "
	    "mapping");
	sotto_buf_release(&out);
	sotto_tree_doc_free(d);
}

static void
test_ini_parse_errors(void **state)
{
	static const struct {
		const char *in;
		const char *msg;
	} c[] = {
		{ "[a\n", "'bad.ini' line 1: unclosed section" },
		{ "[a]\nnovalue\n", "'bad.ini' line 2: key-value delimiter" },
		{ "[a]\n= v\n", "line 2: empty key name" },
		{ "[a]\nk = \"\"\"open\nmore\n", "line 2: missing closing" },
		{ "[]\n", "empty section name" },
		/* what go-ini would drop silently and encrypt leave clear */
		{ "[a] junk\n", "'bad.ini' line 1: text after a section "
		    "header" },
		{ "[a]\nk = `v` junk\n", "'bad.ini' line 2: text after the "
		    "closing quote of a value" },
		{ "[a]\nk = \"\"\"v\nw\"\"\" x\n", "'bad.ini' line 3: text "
		    "after the closing quote of a value" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sotto_doc *d = NULL;
		struct sotto_error e = { 0 };

		assert_int_equal(sotto_store_ini.parse(&d, (const uint8_t *)
		    c[i].in, strlen(c[i].in), "bad.ini", NULL, &e),
		    SOTTO_E_INI);
		assert_null(d);
		if (strstr(e.msg, c[i].msg) == NULL)
			fail_msg("case %zu: message '%s'", i, e.msg);
	}
}

static void
test_ini_emit_errors_and_limits(void **state)
{
	const char *s = "[a]\nk = v\nl = w\n";
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_doc *d = parse_ok(s, strlen(s)), *d2 = NULL;
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };
	struct sotto_node *a = sotto_tree_map_get(d->branches[0], "a");

	(void)state;
	sotto_tree_map_add(a, "list", 4, sotto_tree_new_seq());
	assert_int_equal(sotto_store_ini.emit(&out, d, NULL, NULL, &e),
	    SOTTO_E_EMIT);
	assert_non_null(strstr(e.msg, "'a:list'"));
	assert_int_equal(sotto_store_ini.emit_splice(&out, d, NULL, &e),
	    SOTTO_E_EMIT);
	sotto_buf_release(&out);
	sotto_tree_doc_free(d);
	lim.max_nodes = 2;
	assert_int_equal(sotto_store_ini.parse(&d2, (const uint8_t *)s,
	    strlen(s), "l.ini", &lim, &e), SOTTO_E_LIMIT);
	lim.max_bytes = 4;
	assert_int_equal(sotto_store_ini.parse(&d2, (const uint8_t *)s,
	    strlen(s), "l.ini", &lim, &e), SOTTO_E_LIMIT);
	assert_null(d2);
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void
gen_ini(struct sotto_buf *b)
{
	static const char *vals[] = { "v", "a b", "\"q \"", "'s'", "`x;y`",
	    "\"\"\"m\nl\"\"\"", "1.50", "", "v ; c", "\xc3\xa9" };
	unsigned ns = rnd(4), i, j, nk;

	if (rnd(2))
		sotto_buf_addstr(b, "d = 1\n");
	for (i = 0; i < ns; i++) {
		if (rnd(3) == 0)
			sotto_buf_addstr(b, rnd(2) ? "; sec c\n" : "#x\n");
		sotto_buf_addf(b, "[s%u]\n", i);
		nk = rnd(4);
		for (j = 0; j < nk; j++) {
			if (rnd(4) == 0)
				sotto_buf_addstr(b, "  ;  key c  \n");
			sotto_buf_addf(b, "%sk%u%s=%s%s\n", rnd(2) ? "" : "  ",
			    j, rnd(2) ? " " : "", rnd(2) ? " " : "",
			    vals[rnd(10)]);
		}
		if (rnd(2))
			sotto_buf_addch(b, '\n');
	}
}

static void
test_ini_property_encrypt_cycle(void **state)
{
	static struct sotto_node *v1[256], *v2[256], *vo[256];
	struct sotto_node *meta = sotto_tree_new_map();
	int iter;

	(void)state;
	sotto_tree_map_add(meta, "mac", 3, sotto_tree_new_scalar(SOTTO_T_STR,
	    "ENC[mac]", 8));
	for (iter = 0; iter < 400; iter++) {
		struct sotto_buf src = SOTTO_BUF_INIT, enc = SOTTO_BUF_INIT;
		struct sotto_error e = { 0 };
		struct sotto_doc *d1, *dor, *d2;
		size_t n1 = 0, no = 0, n2 = 0, i;

		gen_ini(&src);
		d1 = parse_ok(src.data, src.len);
		dor = parse_ok(src.data, src.len);
		collect(d1->branches[0], v1, &n1);
		collect(dor->branches[0], vo, &no);
		for (i = 0; i < n1; i++) {
			char fake[80];

			snprintf(fake, sizeof(fake), "ENC[AES256_GCM,data:%zu,"
			    "type:%s]", i, v1[i]->kind == SOTTO_NODE_COMMENT ?
			    "comment" : "str");
			if (v1[i]->len > 0)
				sotto_tree_set_text(v1[i], SOTTO_T_STR, fake,
				    strlen(fake));
		}
		assert_int_equal(sotto_store_ini.emit_splice(&enc, d1, meta,
		    &e), SOTTO_OK);
		d2 = parse_ok(enc.data, enc.len);
		assert_non_null(d2->meta[0]);
		collect(d2->branches[0], v2, &n2);
		assert_int_equal(n1, n2);
		/* same doc: every original spelling comes back */
		for (i = 0; i < n1; i++)
			sotto_tree_set_text(v1[i], SOTTO_T_STR, vo[i]->text,
			    vo[i]->len);
		splice_eq(d1, NULL, src.data, src.len);
		for (i = 0; i < n2; i++)
			sotto_tree_set_text(v2[i], SOTTO_T_STR, vo[i]->text,
			    vo[i]->len);
		/* decrypting the encrypted file gives the source back */
		splice_eq(d2, NULL, src.data, src.len);
		/* re-parsed: values match their originals */
		sotto_buf_release(&enc);
		assert_int_equal(sotto_store_ini.emit_splice(&enc, d2, NULL,
		    &e), SOTTO_OK);
		sotto_tree_doc_free(d2);
		d2 = parse_ok(enc.data, enc.len);
		n2 = 0;
		collect(d2->branches[0], v2, &n2);
		assert_int_equal(n2, no);
		for (i = 0; i < n2; i++) {
			assert_int_equal(v2[i]->len, vo[i]->len);
			assert_memory_equal(v2[i]->text, vo[i]->text,
			    vo[i]->len);
		}
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
		cmocka_unit_test(test_ini_fixtures_round_trip),
		cmocka_unit_test(test_ini_emit_plain_layout),
		cmocka_unit_test(test_ini_go_ini_values),
		cmocka_unit_test(test_ini_faithful_cycle),
		cmocka_unit_test(test_ini_header_comment),
		cmocka_unit_test(test_ini_requote_and_values),
		cmocka_unit_test(test_ini_emit_every_branch),
		cmocka_unit_test(test_ini_parse_errors),
		cmocka_unit_test(test_ini_emit_errors_and_limits),
		cmocka_unit_test(test_ini_property_encrypt_cycle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
