/* SPDX-License-Identifier: ISC */
/* .sops.yaml lookup, loading, rule matching and Go (RE2) regexes. */
#include "testutil.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "sotto/age.h"
#include "sotto/config.h"
#include "sotto/regex.h"
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
	/* pgp keys are sotto's own (issue 21): listed, not "other" */
	assert_int_equal(r->groups[0].npgp, 1);
	assert_string_equal(r->groups[0].pgp[0], "ABCDEF");
	assert_int_equal(r->groups[0].nother, 1);
	assert_int_equal(r->groups[0].other_types, SOTTO_CONFIG_KEY_KMS);
	assert_int_equal(sotto_config_key_types(&b, r->groups[0].other_types),
	    SOTTO_OK);
	assert_string_equal((char *)b.data, "kms");
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
	    "  - pgp: 'FPX, F P Y'\n"
	    "    kms: [arn1]\n",
	    "/p/.sops.yaml", &e), SOTTO_OK);
	assert_int_equal(sotto_config_match(&r, c, "/p/x", &e), SOTTO_OK);
	assert_int_equal(r->groups[0].nage, 0);
	assert_int_equal(r->groups[0].npgp, 2);
	assert_string_equal(r->groups[0].pgp[0], "FPX");
	assert_string_equal(r->groups[0].pgp[1], "F P Y");
	assert_int_equal(r->groups[0].nother, 1);
	assert_int_equal(r->groups[0].other_types, SOTTO_CONFIG_KEY_KMS);
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
	    "regex '(?=foo)': error parsing regexp: invalid or unsupported "
	    "Perl syntax: `(?=`"));
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

/* Go's regexp.MatchString results (what sops sees), case by case. */
static const struct {
	const char *re;
	const char *s;
	bool m;
} re_cases[] = {
	/* the widely copied encrypted_regex template */
#define TEMPLATE "((?i)(pass|secret($|[^N])|key|token|^data$|^stringData))"
	{ TEMPLATE, "password", true },
	{ TEMPLATE, "SECRET", true },
	{ TEMPLATE, "secretName", false },
	{ TEMPLATE, "secret_key", true },
	{ TEMPLATE, "data", true },
	{ TEMPLATE, "mydata", false },
	{ TEMPLATE, "stringData", true },
	{ TEMPLATE, "apiVersion", false },
	{ "\\d{3}", "ab123", true },
	{ "\\d{3}", "ab12x", false },
	{ "^\\w+$", "a_Z9", true },
	{ "\\w", "\xc3\xa9", false },			/* ASCII \w */
	{ "\\b\xc3\xa9", "x\xc3\xa9", true },		/* ASCII \b */
	{ "\\s", "\v", false },				/* no \v in \s */
	{ "\\S", "\v", true },
	{ "[[:space:]]", "\v", true },			/* but in [:space:] */
	{ "a$", "a\n", false },				/* $ is \z */
	{ "(?m)a$", "a\nb", true },
	{ "(?m)^b", "a\nb", true },
	{ "(?m)^$", "a\n", true },
	{ "a.b", "a\nb", false },
	{ "(?s)a.b", "a\nb", true },
	{ "(?i)k", "\xe2\x84\xaa", true },		/* KELVIN SIGN */
	{ "(?i)[^k]", "\xe2\x84\xaa", false },
	{ "(?i)\\W", "\xc5\xbf", false },		/* LONG S */
	{ "\\W", "\xc5\xbf", true },
	{ "a(?i)b|c", "C", true },			/* flags cross | */
	{ "(?i:a)b", "AB", false },
	{ "(?U)a+", "aa", true },
	{ "\\x{fffd}", "a\xff" "b", true },		/* bad UTF-8 */
	{ "^a.b$", "a\xff" "b", true },
	{ "\\12", "\n", true },				/* octal */
	{ "x{,3}", "x{,3}", true },			/* not a repeat */
	{ "x{,3}", "xxx", false },
	{ "\\pL+", "\xc3\xa9", true },
	{ "\\p{Greek}", "\xce\xb1", true },
	{ "\\P{Greek}", "\xce\xb1", false },
	{ "\\p{^Greek}", "a", true },
	{ "[^\\x00-\\x{10FFFF}]", "a", false },
	{ "(?P<env>prod)\\.yaml$", "prod.yaml", true },
	{ "(?<a>x)(?<a>y)", "xy", true },		/* Go allows it */
	{ "\\Q.*\\E", "a.*b", true },
	{ "\\Q.*\\E", "ab", false },
	{ "[[:^alpha:]]", "1", true },
	{ "[\\d-z]", "-", true },
	{ "[]a]", "]", true },
	{ "^*a", "a", true },				/* repeated anchor */
	{ "x(?i)*", "", true },				/* x* */
	{ "^(a{10}){2}$", "aaaaaaaaaaaaaaaaaaaa", true },
	{ "", "", true },
	{ "\\.enc\\.(ya?ml|json)$", "x.enc.yml", true },
};

/* Go's refusals, with the whole message. */
static const struct {
	const char *re;
	const char *msg;
} re_bad[] = {
	{ "(?=x)", "regex '(?=x)': error parsing regexp: invalid or "
	    "unsupported Perl syntax: `(?=` (lookaheads are not in RE2)" },
	{ "(?<!x)", "regex '(?<!x)': error parsing regexp: invalid named "
	    "capture: `(?<!x)` (lookbehinds are not in RE2)" },
	{ "(a)\\1", "regex '(a)\\1': error parsing regexp: invalid escape "
	    "sequence: `\\1` (backreferences are not in RE2)" },
	{ "\\C", "regex '\\C': error parsing regexp: invalid escape "
	    "sequence: `\\C` (\\C (any byte) is not in RE2)" },
	{ "a*+", "regex 'a*+': error parsing regexp: invalid nested "
	    "repetition operator: `*+` (possessive quantifiers are not in "
	    "RE2)" },
	{ "(?>x)", "regex '(?>x)': error parsing regexp: invalid or "
	    "unsupported Perl syntax: `(?>` (atomic groups are not in RE2)" },
	{ "(?R)", "regex '(?R)': error parsing regexp: invalid or "
	    "unsupported Perl syntax: `(?R` (recursion is not in RE2)" },
	{ "(*FAIL)", "regex '(*FAIL)': error parsing regexp: missing "
	    "argument to repetition operator: `*` (backtracking verbs are "
	    "not in RE2)" },
	{ "\\Z", "regex '\\Z': error parsing regexp: invalid escape "
	    "sequence: `\\Z` (RE2 has \\z for the end of the text)" },
	{ "a**", "regex 'a**': error parsing regexp: invalid nested "
	    "repetition operator: `**`" },
	{ "x{1001}", "regex 'x{1001}': error parsing regexp: invalid repeat "
	    "count: `{1001}`" },
	{ "(a{100}){11}", "regex '(a{100}){11}': error parsing regexp: "
	    "invalid repeat count: `{11}`" },
	{ "[z-a]", "regex '[z-a]': error parsing regexp: invalid character "
	    "class range: `z-a`" },
	{ "[[:foo:]]", "regex '[[:foo:]]': error parsing regexp: invalid "
	    "character class range: `[:foo:]`" },
	{ "\\p{Grek}", "regex '\\p{Grek}': error parsing regexp: invalid "
	    "character class range: `\\p{Grek}`" },
	{ "[a", "regex '[a': error parsing regexp: missing closing ]: `[a`" },
	{ "a)", "regex 'a)': error parsing regexp: unexpected ): `a)`" },
	{ "(a", "regex '(a': error parsing regexp: missing closing ): `(a`" },
	{ "ab\\", "regex 'ab\\': error parsing regexp: trailing backslash "
	    "at end of expression: ``" },
	{ "*a", "regex '*a': error parsing regexp: missing argument to "
	    "repetition operator: `*`" },
	{ "(?x)a", "regex '(?x)a': error parsing regexp: invalid or "
	    "unsupported Perl syntax: `(?x` (RE2's flags are i, m, s and "
	    "U)" },
	{ "a\x01(", "regex 'a\\x01(': error parsing regexp: missing closing "
	    "): `a\\x01(`" },
	{ "\xff", "regex '\\xff': error parsing regexp: invalid UTF-8: "
	    "`\\xff`" },
	{ "(?i)\\p{Lu}", "regex '(?i)\\p{Lu}': case-insensitive \\p{Lu} is "
	    "not supported (Go adds the case-folded forms of its characters; "
	    "PCRE2 cannot)" },
};

static void
test_re2(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_regex *re;
	struct sotto_buf b = SOTTO_BUF_INIT;
	char big[100001];
	size_t i;
	bool m;

	(void)state;
	for (i = 0; i < sizeof(re_cases) / sizeof(re_cases[0]); i++) {
		if (sotto_regex_compile(&re, re_cases[i].re, &e) != SOTTO_OK)
			fail_msg("compile '%s': %s", re_cases[i].re, e.msg);
		assert_int_equal(sotto_regex_match(&m, re, re_cases[i].s,
		    strlen(re_cases[i].s), &e), SOTTO_OK);
		if (m != re_cases[i].m)
			fail_msg("'%s' on '%s': want %d", re_cases[i].re,
			    re_cases[i].s, re_cases[i].m);
		sotto_regex_free(re);
	}
	for (i = 0; i < sizeof(re_bad) / sizeof(re_bad[0]); i++) {
		re = NULL;
		assert_int_equal(sotto_regex_compile(&re, re_bad[i].re, &e),
		    SOTTO_E_BAD_REGEX);
		assert_null(re);
		assert_string_equal(e.msg, re_bad[i].msg);
	}
	/* the PCRE2 forms of the constructs whose meaning differs */
	assert_int_equal(sotto_regex_translate(&b, "^a$|(?m)^b$|\\s|.", &e),
	    SOTTO_OK);
	assert_string_equal((char *)b.data, "\\Aa\\z|(?m:^)b(?m:$)|"
	    "[\\x{9}-\\x{a}\\x{c}-\\x{d}\\x{20}]|[^\\x{a}]");
	sotto_buf_release(&b);
	/* no backtracking: classic blow-ups finish, and do not match */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sotto_regex_compile(&re, "(a*)*b", &e), SOTTO_OK);
	assert_int_equal(sotto_regex_match(&m, re, big, strlen(big), &e),
	    SOTTO_OK);
	assert_false(m);
	sotto_regex_free(re);
	assert_int_equal(sotto_regex_compile(&re, "(x+x+)+y|(a|aa)+$c", &e),
	    SOTTO_OK);
	assert_int_equal(sotto_regex_match(&m, re, big, strlen(big), &e),
	    SOTTO_OK);
	assert_false(m);
	sotto_regex_free(re);
	sotto_regex_free(NULL);
}

/* Keys sops does not read are listed (sops ignores them), not refused. */
static void
test_unknown_keys(void **state)
{
	static const char y[] = "creation_rules:\n"
	    "  - pathregex: x\n    age: []\n"
	    "    key_groups:\n      - merge:\n          - agee: [x]\n"
	    "destination_rules:\n  - recreation_rule: {foo: 1}\n"
	    "stores: {ini: {indent: 2}}\n";
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_config *c = NULL;

	(void)state;
	assert_int_equal(sotto_config_parse(&c, (const uint8_t *)y,
	    strlen(y), "/d/.sops.yaml", &e), SOTTO_OK);
	assert_int_equal(c->nunknown, 4);
	assert_string_equal(c->unknown[0], "creation_rules[0].pathregex");
	assert_string_equal(c->unknown[1],
	    "creation_rules[0].key_groups[0].merge[0].agee");
	assert_string_equal(c->unknown[2],
	    "destination_rules[0].recreation_rule.foo");
	assert_string_equal(c->unknown[3], "stores.ini.indent");
	sotto_config_free(c);
}

/* A bad path_regex is a config error naming the rule (exit 5). */
static void
test_bad_path_regex(void **state)
{
	static const char y[] = "creation_rules:\n"
	    "  - path_regex: '(?<=x)y'\n    age: x\n";
	struct sotto_error e = { SOTTO_OK, "" };
	const struct sotto_config_rule *r;
	struct sotto_config *c = NULL;

	(void)state;
	assert_int_equal(sotto_config_parse(&c, (const uint8_t *)y,
	    strlen(y), "/d/.sops.yaml", &e), SOTTO_OK);
	assert_int_equal(sotto_config_match(&r, c, "/d/x", &e),
	    SOTTO_E_CONFIG);
	assert_string_equal(e.msg, "'/d/.sops.yaml' creation_rules[0]: "
	    "path_regex: regex '(?<=x)y': error parsing regexp: invalid "
	    "named capture: `(?<=x)y` (lookbehinds are not in RE2)");
	sotto_config_free(c);
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

	/* locate: from the working directory, as sops; given wins */
	{
		char old[PATH_MAX], want[PATH_MAX];

		assert_non_null(getcwd(old, sizeof(old)));
		assert_int_equal(chdir(deep), 0);
		unsetenv("PWD");
		assert_int_equal(sotto_config_locate(&found, &warn, NULL,
		    &e), SOTTO_OK);
		snprintf(want, sizeof(want), "%s/a/.sops.yaml", root);
		assert_non_null(found);
		assert_string_equal(found, want);
		free(found);
		free(warn);
		assert_int_equal(sotto_config_locate(&found, &warn, "x.yaml",
		    &e), SOTTO_OK);
		assert_string_equal(found, "x.yaml");
		assert_null(warn);
		free(found);
		assert_int_equal(chdir("/"), 0);
		assert_int_equal(sotto_config_locate(&found, &warn, NULL,
		    &e), SOTTO_OK);
		assert_null(found);
		assert_int_equal(chdir(old), 0);
	}

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
		cmocka_unit_test(test_bad_path_regex),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
