/* SPDX-License-Identifier: ISC */
/* .sops.yaml lookup, loading, rule matching and the RE2 translator. */
#include "testutil.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "sotto/age.h"
#include "sotto/config.h"
#include "sotto/tree.h"

/* Two valid X25519 recipients (generated once in setup). */
static char rec1[128], rec2[128];

static void
gen_recipient(char *out, size_t n)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_identity *id = NULL;
	struct sotto_age_recipient *r = NULL;

	assert_int_equal(sotto_age_identity_generate(&id, &e), SOTTO_OK);
	assert_int_equal(sotto_age_identity_to_recipient(&r, id, &e),
	    SOTTO_OK);
	snprintf(out, n, "%s", sotto_age_recipient_string(r));
	sotto_age_recipient_free(r);
	sotto_age_identity_free(id);
}

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	gen_recipient(rec1, sizeof(rec1));
	gen_recipient(rec2, sizeof(rec2));
	return 0;
}

/* Replaces R1/R2 in tmpl with the recipients and parses it. */
static sotto_err
parse(struct sotto_config **c, const char *tmpl, const char *path,
    struct sotto_error *e)
{
	char buf[8192];
	size_t o = 0;
	const char *p;

	for (p = tmpl; *p != '\0' && o < sizeof(buf) - 130; p++) {
		if (p[0] == 'R' && (p[1] == '1' || p[1] == '2')) {
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s",
			    p[1] == '1' ? rec1 : rec2);
			p++;
		} else {
			buf[o++] = *p;
		}
	}
	buf[o] = '\0';
	return sotto_config_parse(c, (const uint8_t *)buf, o, path, e);
}

static void
test_match_rules(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_config *c = NULL;
	const struct sotto_config_rule *r = NULL;

	(void)state;
	assert_int_equal(parse(&c,
	    "creation_rules:\n"
	    "  - path_regex: \\.dev\\.yaml$\n"
	    "    age: R1\n"
	    "  - path_regex: ^secrets/.*\n"
	    "    age: ' R1 , R2 ,, '\n"
	    "    encrypted_regex: ^(data|stringData)$\n"
	    "    shamir_threshold: 1\n"
	    "    mac_only_encrypted: true\n"
	    "stores:\n"
	    "  json:\n"
	    "    indent: 2\n",
	    "/proj/.sops.yaml", &e), SOTTO_OK);
	assert_true(c->has_creation_rules);
	assert_int_equal(c->nrules, 2);
	assert_string_equal(c->dir, "/proj");
	assert_int_equal(c->json_indent, 2);
	assert_int_equal(c->yaml_indent, 4);
	assert_int_equal(c->json_binary_indent, -1);

	assert_int_equal(sotto_config_match(&r, c, "/proj/a/b.dev.yaml", &e),
	    SOTTO_OK);
	assert_int_equal(r->index, 0);
	/* relative to the config dir: ^secrets/ matches */
	assert_int_equal(sotto_config_match(&r, c, "/proj/secrets/x.yaml",
	    &e), SOTTO_OK);
	assert_int_equal(r->index, 1);
	assert_int_equal(r->ngroups, 1);
	assert_int_equal(r->groups[0].nage, 2);
	assert_string_equal(r->groups[0].age[0], rec1);
	assert_string_equal(r->groups[0].age[1], rec2);
	assert_string_equal(r->encrypted_regex, "^(data|stringData)$");
	assert_int_equal(r->shamir_threshold, 1);
	assert_true(r->mac_only_encrypted);
	assert_false(r->has_key_groups);
	/* outside the config dir the path stays absolute: no match */
	assert_int_equal(sotto_config_match(&r, c, "/other/secrets/x.yaml",
	    &e), SOTTO_E_CONFIG);
	assert_non_null(strstr(e.msg, "no matching creation rules found"));
	assert_non_null(strstr(e.msg, "/proj/.sops.yaml"));
	/* ".." is cleaned before matching */
	assert_int_equal(sotto_config_match(&r, c,
	    "/proj/zz/../secrets/y.json", &e), SOTTO_OK);
	assert_int_equal(r->index, 1);
	sotto_config_free(c);
}

static void
test_catch_all_and_explain(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_config *c = NULL;
	const struct sotto_config_rule *r = NULL;
	struct sotto_config_explain ex[3];
	char *rel = NULL;

	(void)state;
	assert_int_equal(parse(&c,
	    "# comment\n"
	    "creation_rules:\n"
	    "  - path_regex: prod\n"
	    "    age: [R1]\n"
	    "  # catch-all\n"
	    "  - age:\n"
	    "      - R2\n"
	    "      - R2\n"
	    "  - path_regex: never\n",
	    "/p/.sops.yaml", &e), SOTTO_OK);
	assert_int_equal(c->nrules, 3);
	assert_int_equal(sotto_config_match(&r, c, "/p/dev/x.yaml", &e),
	    SOTTO_OK);
	assert_int_equal(r->index, 1);
	assert_int_equal(r->groups[0].nage, 1);	/* deduplicated */
	assert_string_equal(r->groups[0].age[0], rec2);

	assert_int_equal(sotto_config_explain(ex, &rel, c, "/p/dev/x.yaml",
	    &e), SOTTO_OK);
	assert_string_equal(rel, "dev/x.yaml");
	assert_int_equal(ex[0].verdict, SOTTO_CONFIG_NO_MATCH);
	assert_int_equal(ex[1].verdict, SOTTO_CONFIG_SELECTED);
	assert_int_equal(ex[2].verdict, SOTTO_CONFIG_NOT_REACHED);
	free(rel);
	sotto_config_free(c);
}

static void
test_key_groups_merge(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_config *c = NULL;
	const struct sotto_config_rule *r = NULL;
	struct sotto_buf b = SOTTO_BUF_INIT;

	(void)state;
	assert_int_equal(parse(&c,
	    "creation_rules:\n"
	    "  - age: R2\n"		/* ignored: key_groups wins */
	    "    key_groups:\n"
	    "      - age: [\"R1,R2\"]\n"
	    "        pgp: [ABCDEF]\n"
	    "        merge:\n"
	    "          - age: [R2]\n"
	    "            kms:\n"
	    "              - arn: arn:aws:kms:x\n"
	    "                role: r\n"
	    "      - age: [R2]\n"
	    "    shamir_threshold: 2\n",
	    "/p/.sops.yaml", &e), SOTTO_OK);
	assert_int_equal(sotto_config_match(&r, c, "/p/x", &e), SOTTO_OK);
	assert_true(r->has_key_groups);
	assert_int_equal(r->ngroups, 2);
	/* merge first (R2), then R1, R2 -> deduplicated R2, R1 */
	assert_int_equal(r->groups[0].nage, 2);
	assert_string_equal(r->groups[0].age[0], rec2);
	assert_string_equal(r->groups[0].age[1], rec1);
	assert_int_equal(r->groups[0].nother, 2);
	assert_int_equal(r->groups[0].other_types,
	    SOTTO_CONFIG_KEY_PGP | SOTTO_CONFIG_KEY_KMS);
	assert_int_equal(sotto_config_key_types(&b, r->groups[0].other_types),
	    SOTTO_OK);
	assert_string_equal((char *)b.data, "pgp, kms");
	sotto_buf_release(&b);
	assert_int_equal(r->groups[1].nage, 1);
	assert_int_equal(r->shamir_threshold, 2);
	sotto_config_free(c);
}

static void
test_flat_other_keys(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_config *c = NULL;
	const struct sotto_config_rule *r = NULL;

	(void)state;
	assert_int_equal(parse(&c,
	    "creation_rules:\n"
	    "  - pgp: 'FPR1, FPR2'\n"
	    "    kms: [arn1]\n",
	    "/p/.sops.yaml", &e), SOTTO_OK);
	assert_int_equal(sotto_config_match(&r, c, "/p/x", &e), SOTTO_OK);
	assert_int_equal(r->groups[0].nage, 0);
	assert_int_equal(r->groups[0].nother, 3);
	assert_int_equal(r->groups[0].other_types,
	    SOTTO_CONFIG_KEY_PGP | SOTTO_CONFIG_KEY_KMS);
	sotto_config_free(c);
}

static void
test_errors(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_config *c = NULL;
	const struct sotto_config_rule *r = NULL;

	(void)state;
	/* two selection rules: deferred until the rule is selected */
	assert_int_equal(parse(&c,
	    "creation_rules:\n"
	    "  - path_regex: a\n"
	    "    age: R1\n"
	    "  - age: R1\n"
	    "    encrypted_suffix: _enc\n"
	    "    unencrypted_regex: ^pub\n",
	    "/p/.sops.yaml", &e), SOTTO_OK);
	assert_int_equal(sotto_config_match(&r, c, "/p/a", &e), SOTTO_OK);
	assert_int_equal(sotto_config_match(&r, c, "/p/b", &e),
	    SOTTO_E_CONFIG);
	assert_non_null(strstr(e.msg, "'/p/.sops.yaml' creation_rules[1]: "
	    "cannot use more than one of"));
	assert_int_equal(sotto_config_validate(c, &e), SOTTO_E_CONFIG);
	sotto_config_free(c);

	/* invalid regex: error names the rule and the regex */
	assert_int_equal(parse(&c,
	    "creation_rules:\n"
	    "  - path_regex: x\n"
	    "  - path_regex: (?=foo)\n"
	    "  - age: R1\n",
	    "/p/.sops.yaml", &e), SOTTO_OK);
	assert_int_equal(sotto_config_match(&r, c, "/p/x", &e), SOTTO_OK);
	assert_int_equal(sotto_config_match(&r, c, "/p/y", &e),
	    SOTTO_E_CONFIG);
	assert_non_null(strstr(e.msg, "creation_rules[1]: path_regex: "
	    "regex '(?=foo)': lookarounds"));
	sotto_config_free(c);

	assert_int_equal(parse(&c,
	    "creation_rules:\n"
	    "  - path_regex: '(unclosed'\n",
	    "/p/.sops.yaml", &e), SOTTO_OK);
	assert_int_equal(sotto_config_validate(c, &e), SOTTO_E_CONFIG);
	assert_non_null(strstr(e.msg, "creation_rules[0]"));
	assert_non_null(strstr(e.msg, "(unclosed"));
	sotto_config_free(c);

	/* bad age recipient */
	assert_int_equal(parse(&c,
	    "creation_rules:\n"
	    "  - age: age1notarecipient\n",
	    "/p/.sops.yaml", &e), SOTTO_OK);
	assert_int_equal(sotto_config_match(&r, c, "/p/x", &e),
	    SOTTO_E_CONFIG);
	assert_non_null(strstr(e.msg, "creation_rules[0]: key group 0: "
	    "age recipient 1"));
	sotto_config_free(c);

	/* type errors fail at load */
	assert_int_equal(parse(&c,
	    "creation_rules:\n"
	    "  - age: R1\n"
	    "  - shamir_threshold: two\n",
	    "/p/.sops.yaml", &e), SOTTO_E_CONFIG);
	assert_non_null(strstr(e.msg, "creation_rules[1]: 'shamir_threshold'"));
	assert_null(c);
	assert_int_equal(parse(&c,
	    "creation_rules:\n"
	    "  - key_groups:\n"
	    "      - age: R1\n",
	    "/p/.sops.yaml", &e), SOTTO_E_CONFIG);
	assert_non_null(strstr(e.msg, "creation_rules[0] key_groups[0]: "
	    "'age' must be a list"));
	assert_int_equal(parse(&c, "creation_rules: {a: 1}\n",
	    "/p/.sops.yaml", &e), SOTTO_E_CONFIG);
	assert_int_equal(parse(&c, "stores:\n  yaml:\n    indent: -2\n",
	    "/p/.sops.yaml", &e), SOTTO_E_CONFIG);
	assert_non_null(strstr(e.msg, "stores.yaml.indent"));
	assert_int_equal(parse(&c, "stores:\n  json:\n    indent: -2\n",
	    "/p/.sops.yaml", &e), SOTTO_E_CONFIG);
	assert_int_equal(parse(&c, "creation_rules: [\n",
	    "/p/.sops.yaml", &e), SOTTO_E_CONFIG);
}

static void
test_absent_rules(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_config *c = NULL;
	const struct sotto_config_rule *r = (void *)1;

	(void)state;
	assert_int_equal(parse(&c, "stores:\n  yaml:\n    indent: 2\n",
	    "/p/.sops.yaml", &e), SOTTO_OK);
	assert_false(c->has_creation_rules);
	assert_int_equal(c->yaml_indent, 2);
	assert_int_equal(sotto_config_match(&r, c, "/p/x", &e), SOTTO_OK);
	assert_null(r);
	sotto_config_free(c);

	assert_int_equal(parse(&c, "", "/p/.sops.yaml", &e), SOTTO_OK);
	assert_false(c->has_creation_rules);
	sotto_config_free(c);

	/* an empty list is present: no match */
	assert_int_equal(parse(&c, "creation_rules: []\n", "/p/.sops.yaml",
	    &e), SOTTO_OK);
	assert_int_equal(sotto_config_match(&r, c, "/p/x", &e),
	    SOTTO_E_CONFIG);
	sotto_config_free(c);
}

/* Builds a config by hand through the tree API. */
static void
test_from_doc(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_config *c = NULL;
	const struct sotto_config_rule *r = NULL;
	struct sotto_doc *d = sotto_tree_doc_new("x");
	struct sotto_node *root = sotto_tree_new_map();
	struct sotto_node *rules = sotto_tree_new_seq();
	struct sotto_node *rule = sotto_tree_new_map();

	(void)state;
	assert_int_equal(sotto_tree_map_add(rule, "path_regex", 10,
	    sotto_tree_new_scalar(SOTTO_T_STR, "\\d+\\.env$", 9)), SOTTO_OK);
	assert_int_equal(sotto_tree_map_add(rule, "age", 3,
	    sotto_tree_new_scalar(SOTTO_T_STR, rec1, strlen(rec1))),
	    SOTTO_OK);
	assert_int_equal(sotto_tree_seq_add(rules,
	    sotto_tree_new_comment(" hi", 3)), SOTTO_OK);
	assert_int_equal(sotto_tree_seq_add(rules, rule), SOTTO_OK);
	assert_int_equal(sotto_tree_map_add(root, "creation_rules", 14,
	    rules), SOTTO_OK);
	assert_int_equal(sotto_tree_doc_add(d, root), SOTTO_OK);
	assert_int_equal(sotto_config_from_doc(&c, d, "rel/.sops.yaml", &e),
	    SOTTO_OK);
	assert_int_equal(c->nrules, 1);
	assert_int_equal(c->dir[0], '/');
	assert_int_equal(sotto_config_match(&r, c, "rel/app12.env", &e),
	    SOTTO_OK);
	assert_int_equal(sotto_config_match(&r, c, "rel/app.env", &e),
	    SOTTO_E_CONFIG);
	sotto_config_free(c);
	sotto_tree_doc_free(d);
}

static bool
rx_match(const char *re2, const char *s)
{
	struct sotto_error e = { SOTTO_OK, "" };
	regex_t re;
	bool m;

	if (sotto_config_regex_compile(&re, re2, &e) != SOTTO_OK)
		fail_msg("compile '%s': %s", re2, e.msg);
	m = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return m;
}

static void
test_re2(void **state)
{
	static const char *bad[] = {
		"(?=x)", "(?!x)", "(?<=x)", "(?<!x)", "a(?i)b", "(?m)^a",
		"\\pL", "\\p{Greek}", "(a)\\1", "[\\D]", "[\\S]", "x{2000}",
		"[a", "abc\\", "[[:foo:]]", "\\k", "(?i:a)", "[z-a]",
		"a**", "a++", "*a", "(|*)", "(a{100}){100}", "a)", "(a",
		"^*",
	};
	struct sotto_error e = { SOTTO_OK, "" };
	regex_t re;
	size_t i;

	(void)state;
	assert_true(rx_match("\\d{3}", "ab123"));
	assert_false(rx_match("\\d{3}", "ab12x"));
	assert_true(rx_match("^\\D+$", "abc"));
	assert_false(rx_match("^\\D+$", "a1c"));
	assert_true(rx_match("^\\w+$", "a_Z9"));
	assert_false(rx_match("^\\w+$", "a-b"));
	assert_true(rx_match("\\W", "a-b"));
	assert_true(rx_match("a\\sb", "a\tb"));
	assert_true(rx_match("^\\S+$", "ab"));
	assert_false(rx_match("^\\S+$", "a b"));
	assert_true(rx_match("^[\\w.-]+$", "my-file.v2_x"));
	assert_false(rx_match("^[\\w.-]+$", "a/b"));
	assert_true(rx_match("^[\\d\\s]+$", "1 2\t3"));
	assert_true(rx_match("(?:prod|stage)/", "env/stage/x"));
	assert_true(rx_match("(?P<env>prod)\\.yaml$", "prod.yaml"));
	assert_true(rx_match("(?i)^PROD", "production"));
	assert_false(rx_match("^PROD", "production"));
	assert_true(rx_match("a.*?b", "axxb"));
	assert_true(rx_match("^a+?$", "aaa"));
	assert_true(rx_match("\\.yaml$", "x.yaml"));
	assert_false(rx_match("\\.yaml$", "xyaml"));
	assert_true(rx_match("\\Aabc\\z", "abc"));
	assert_true(rx_match("[\\]]", "]"));
	assert_true(rx_match("[\\[\\]^-]", "^"));
	assert_true(rx_match("[\\[\\]^-]", "-"));
	assert_false(rx_match("[\\[\\]^-]", "a"));
	assert_true(rx_match("[^\\]]", "a"));
	assert_false(rx_match("^[^\\]]$", "]"));
	assert_true(rx_match("[\\.]", "."));
	assert_false(rx_match("[\\.]", "\\"));
	assert_true(rx_match("a{2,}", "aa"));
	assert_true(rx_match("x{", "x{"));
	assert_true(rx_match("\\x41", "A"));
	assert_true(rx_match("\\x{e9}", "caf\xc3\xa9"));
	assert_true(rx_match("\\Q.*\\E", "a.*b"));
	assert_false(rx_match("\\Q.*\\E", "ab"));
	assert_true(rx_match("^[[:alpha:]]+$", "abc"));
	assert_false(rx_match("a.b", "a\nb"));
	assert_true(rx_match("(?s)a.b", "a\nb"));
	assert_true(rx_match("\\/x", "a/x"));
	assert_true(rx_match("", "anything"));
	assert_true(rx_match("^(a{10}){2}$", "aaaaaaaaaaaaaaaaaaaa"));
	assert_true(rx_match("(a|b)*c", "ababc"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sotto_config_regex_compile(&re, bad[i], &e) == SOTTO_OK) {
			regfree(&re);
			fail_msg("'%s' should be rejected", bad[i]);
		}
		assert_int_equal(e.code, SOTTO_E_CONFIG);
		assert_non_null(strstr(e.msg, "regex '"));
	}
}

static void
write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static void
test_find(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	char tmpl[] = "/tmp/sotto-config-XXXXXX", p[PATH_MAX], deep[PATH_MAX];
	char *root, *found = NULL, *warn = NULL;
	struct sotto_config *c = NULL;

	(void)state;
	root = mkdtemp(tmpl);
	assert_non_null(root);
	snprintf(deep, sizeof(deep), "%s/a", root);
	assert_int_equal(mkdir(deep, 0700), 0);
	snprintf(deep, sizeof(deep), "%s/a/b", root);
	assert_int_equal(mkdir(deep, 0700), 0);
	snprintf(deep, sizeof(deep), "%s/a/b/c", root);
	assert_int_equal(mkdir(deep, 0700), 0);

	/* nothing (assuming no .sops.yaml above /tmp) */
	assert_int_equal(sotto_config_find(&found, &warn, deep, &e),
	    SOTTO_OK);
	assert_null(found);

	/* .sops.yml is only a warning */
	snprintf(p, sizeof(p), "%s/a/b/.sops.yml", root);
	write_file(p, "creation_rules: []\n");
	assert_int_equal(sotto_config_find(&found, &warn, deep, &e),
	    SOTTO_OK);
	assert_null(found);
	assert_non_null(warn);
	assert_non_null(strstr(warn, ".sops.yml"));
	free(warn);
	warn = NULL;

	snprintf(p, sizeof(p), "%s/a/.sops.yaml", root);
	write_file(p, "creation_rules:\n  - path_regex: ^b/c/\n");
	assert_int_equal(sotto_config_find(&found, &warn, deep, &e),
	    SOTTO_OK);
	assert_string_equal(found, p);
	assert_non_null(warn);
	assert_non_null(strstr(warn, "using"));
	free(warn);

	assert_int_equal(sotto_config_load(&c, found, &e), SOTTO_OK);
	snprintf(p, sizeof(p), "%s/a/b/c/s.yaml", root);
	{
		const struct sotto_config_rule *r = NULL;

		assert_int_equal(sotto_config_match(&r, c, p, &e), SOTTO_OK);
		assert_non_null(r);
	}
	sotto_config_free(c);
	free(found);

	assert_int_equal(sotto_config_load(&c, "/nonexistent/.sops.yaml",
	    &e), SOTTO_E_NOTFOUND);

	snprintf(p, sizeof(p), "%s/a/b/.sops.yml", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/a/.sops.yaml", root);
	unlink(p);
	rmdir(deep);
	snprintf(p, sizeof(p), "%s/a/b", root);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/a", root);
	rmdir(p);
	rmdir(root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_rules),
		cmocka_unit_test(test_catch_all_and_explain),
		cmocka_unit_test(test_key_groups_merge),
		cmocka_unit_test(test_flat_other_keys),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_absent_rules),
		cmocka_unit_test(test_from_doc),
		cmocka_unit_test(test_re2),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
