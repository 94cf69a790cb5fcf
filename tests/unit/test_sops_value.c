/* SPDX-License-Identifier: ISC */
/* ENC[...] values, MAC and lastmodified handling (sotto/sops_value.h). */
#include "testutil.h"

#include <jansson.h>
#include <sodium.h>

#include "sotto/sops_value.h"

static const char hist_key_hex[] =
    "9ac088cf7029981341457c39dd56dde54600dfbce9b5ede23aa65c418900ab67";
static const char hist_json_key_hex[] =
    "82ee047aa51fbcf65882bdeb1996b6d729d457364a9eba6b41766cc742415fdb";
static const char fmt_yaml_key_hex[] =
    "af5e68dd342b72c6a0475f81a50da4fde898f4b7742c92cbcf1668211411f4e4";
static const char fmt_env_key_hex[] =
    "322d9a97997823fb2bf42f55a6c26100cbaf0520cf88bb7ebee1cf47dd6d318d";
static const char comments_key_hex[] =
    "61bec946f5783fd4cea3d1b1ce407fce2b6e81fc301cc539c422015e27f6d1be";

static const uint8_t key1[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
    14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
    32 };

static void
hexkey(uint8_t key[32], const char *hex)
{
	size_t len;

	assert_int_equal(sodium_hex2bin(key, 32, hex, 64, NULL, &len, NULL),
	    0);
	assert_int_equal(len, 32);
}

/* Reads a fixture below vectors/sops/; the caller frees. */
static char *
fixture(const char *rel)
{
	char path[512];
	uint8_t *p;

	snprintf(path, sizeof(path), "%s/vectors/sops/%s", test_shared_dir(),
	    rel);
	p = test_read_file(path, NULL);
	assert_non_null(p);
	return (char *)p;
}

/* The rest of the line after the first occurrence of marker (malloc'd). */
static char *
after(const char *text, const char *marker)
{
	const char *p = strstr(text, marker), *nl;
	char *r;

	assert_non_null(p);
	p += strlen(marker);
	nl = strchr(p, '\n');
	if (nl == NULL)
		nl = p + strlen(p);
	r = malloc((size_t)(nl - p) + 1);
	assert_non_null(r);
	memcpy(r, p, (size_t)(nl - p));
	r[nl - p] = '\0';
	return r;
}

/* Decrypts the value after marker in fixture rel; checks type and plain. */
static void
check_fixture_value(const char *rel, const char *keyhex, const char *marker,
    const char *aad, const char *want_type, const char *want_plain)
{
	struct sotto_buf plain = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e = { 0 };
	char type[SOTTO_SOPS_TYPE_MAX];
	uint8_t key[32];
	char *text = fixture(rel), *v = after(text, marker);

	hexkey(key, keyhex);
	assert_int_equal(sotto_sops_value_decrypt(&plain, type, v, strlen(v),
	    aad, strlen(aad), key, &e), SOTTO_OK);
	assert_string_equal(type, want_type);
	assert_int_equal(plain.len, strlen(want_plain));
	assert_memory_equal(plain.data, want_plain, plain.len);
	sotto_buf_release(&plain);
	free(v);
	free(text);
}

/* Same value with a wrong AAD must fail authentication. */
static void
check_fixture_value_bad_aad(const char *rel, const char *keyhex,
    const char *marker, const char *aad)
{
	struct sotto_buf plain = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e = { 0 };
	char type[SOTTO_SOPS_TYPE_MAX];
	uint8_t key[32];
	char *text = fixture(rel), *v = after(text, marker);

	hexkey(key, keyhex);
	assert_int_equal(sotto_sops_value_decrypt(&plain, type, v, strlen(v),
	    aad, strlen(aad), key, &e), SOTTO_E_DECRYPT);
	assert_int_equal(plain.len, 0);
	assert_string_equal(type, "");
	sotto_buf_release(&plain);
	free(v);
	free(text);
}

static void
test_sops_value_decrypt_hist_yaml(void **state)
{
	(void)state;
	check_fixture_value("hist/example.yaml", hist_key_hex, "myapp1: ",
	    "myapp1:", "str", "t00m4nys3cr3tzupdated");
	check_fixture_value("hist/example.yaml", hist_key_hex, "user: ",
	    "app2:db:user:", "str", "eve");
	check_fixture_value("hist/example.yaml", hist_key_hex, "number: ",
	    "number:", "float", "1234568000");
	check_fixture_value("hist/example.yaml", hist_key_hex,
	    "somebooleans:\n    - ", "somebooleans:", "bool", "True");
	check_fixture_value("hist/example.yaml", hist_key_hex,
	    "password: ENC[AES256_GCM,data:DywXZc/D+Q==,iv:O6r4yGD+odLEhDsc0y"
	    "7aYGb1j/UC83ipBPfiQ69Vvic=,tag:JrZvo0ZQNag1D+nGnwDf1A==,type:str"
	    "]\n        #", "app2:db:", "comment",
	    " private key for secret operations in app2");
	check_fixture_value("hist/example.yaml", hist_key_hex, "value: ",
	    "this:is:a:nested:value:", "str", "with something secret in it");
}

static void
test_sops_value_decrypt_hist_yaml_wrong_aad(void **state)
{
	(void)state;
	check_fixture_value_bad_aad("hist/example.yaml", hist_key_hex,
	    "myapp1: ", "myapp1");
	check_fixture_value_bad_aad("hist/example.yaml", hist_key_hex,
	    "user: ", "app2:db:password:");
	check_fixture_value_bad_aad("hist/example.yaml", hist_key_hex,
	    "number: ", "");
}

static void
test_sops_value_decrypt_current(void **state)
{
	(void)state;
	check_fixture_value("current/format.enc.yaml", fmt_yaml_key_hex,
	    "foo: ", "foo:", "str", "bar");
	/* dotenv: key "foo " keeps its trailing space, value " bar" */
	check_fixture_value("current/format.enc.env", fmt_env_key_hex,
	    "foo =", "foo :", "str", " bar");
	/* top-level comment: AAD is a single colon */
	check_fixture_value("current/comments.enc.yaml", comments_key_hex,
	    "#", ":", "comment", " first comment in file");
	/* JSON line: trailing '",' after ']' is ignored (no end anchor) */
	check_fixture_value("hist/example.json", hist_json_key_hex,
	    "\"firstName\": \"", "firstName:", "str", "John");
}

static void
test_sops_value_decrypt_current_wrong_key(void **state)
{
	(void)state;
	check_fixture_value_bad_aad("current/format.enc.yaml",
	    fmt_env_key_hex, "foo: ", "foo:");
	check_fixture_value_bad_aad("current/format.enc.env", fmt_env_key_hex,
	    "foo =", "foo:");
}

static void
mac_fixture(const char *rel, const char *keyhex, const char *lm_marker,
    const char *mac_marker, const char *want_hex, sotto_err want)
{
	struct sotto_buf plain = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e = { 0 };
	char type[SOTTO_SOPS_TYPE_MAX], aad[64], *lm, *mac, *q;
	uint8_t key[32];
	char *text = fixture(rel);

	hexkey(key, keyhex);
	lm = after(text, lm_marker);
	/* strip YAML/JSON quotes around the timestamp */
	q = lm + strspn(lm, "\"'");
	q[strcspn(q, "\"'")] = '\0';
	mac = after(text, mac_marker);
	assert_int_equal(sotto_sops_time_rfc3339_normalize(aad, q, &e),
	    SOTTO_OK);
	assert_int_equal(sotto_sops_value_decrypt(&plain, type, mac,
	    strlen(mac), aad, strlen(aad), key, &e), SOTTO_OK);
	assert_string_equal(type, "str");
	assert_int_equal(plain.len, 128);
	assert_int_equal(strspn((char *)plain.data, "0123456789ABCDEF"), 128);
	assert_string_equal((char *)plain.data, want_hex);
	assert_int_equal(sotto_sops_mac_check(mac, q, want_hex, key, &e),
	    want);
	sotto_buf_release(&plain);
	free(lm);
	free(mac);
	free(text);
}

static const char fmt_yaml_mac[] =
    "D82C4EB5261CB9C8AA9855EDD67D1BD10482F41529858D925094D173FA662AA91FF3"
    "9BC5B188615273484021DFB16FD8284CF684CCF0FC795BE3AA2FC1E6C181";

static void
test_sops_mac_check_fixtures(void **state)
{
	(void)state;
	mac_fixture("current/format.enc.yaml", fmt_yaml_key_hex,
	    "lastmodified: ", "    mac: ", fmt_yaml_mac, SOTTO_OK);
}

static void
test_sops_mac_check_fixtures_mismatch(void **state)
{
	struct sotto_error e = { 0 };
	char *text = fixture("current/format.enc.yaml");
	char *mac = after(text, "    mac: ");
	char other[SOTTO_SOPS_MAC_HEX];
	uint8_t key[32];

	(void)state;
	hexkey(key, fmt_yaml_key_hex);
	memcpy(other, fmt_yaml_mac, sizeof(other));
	other[0] = 'E';
	assert_int_equal(sotto_sops_mac_check(mac, "2026-05-22T20:16:23Z",
	    other, key, &e), SOTTO_E_MAC_MISMATCH);
	/* wrong lastmodified -> wrong AAD -> undecryptable -> mismatch */
	assert_int_equal(sotto_sops_mac_check(mac, "2026-05-22T20:16:24Z",
	    fmt_yaml_mac, key, &e), SOTTO_E_MAC_MISMATCH);
	/* fractional seconds and +00:00 normalise to the same AAD */
	assert_int_equal(sotto_sops_mac_check(mac,
	    "2026-05-22T20:16:23.987+00:00", fmt_yaml_mac, key, &e), SOTTO_OK);
	assert_int_equal(sotto_sops_mac_check("", "2026-05-22T20:16:23Z",
	    fmt_yaml_mac, key, &e), SOTTO_E_MAC_NOT_FOUND);
	assert_int_equal(sotto_sops_mac_check(NULL, "2026-05-22T20:16:23Z",
	    fmt_yaml_mac, key, &e), SOTTO_E_MAC_NOT_FOUND);
	assert_int_equal(sotto_sops_mac_check(mac, "yesterday", fmt_yaml_mac,
	    key, &e), SOTTO_E_SOPS_METADATA);
	assert_int_equal(sotto_sops_mac_check("ENC[AES256_GCM,data:garbage",
	    "2026-05-22T20:16:23Z", fmt_yaml_mac, key, &e),
	    SOTTO_E_MAC_MISMATCH);
	free(mac);
	free(text);
}

/* Recomputes a fixture's MAC from its authoritative leaves.json. */
static void
mac_from_leaves(const char *rel, const char *want_field)
{
	char path[512], hex[SOTTO_SOPS_MAC_HEX];
	struct sotto_sops_mac m;
	json_t *root, *values, *v;
	json_error_t jerr;
	size_t i;

	snprintf(path, sizeof(path), "%s/vectors/sops/%s", test_shared_dir(),
	    rel);
	root = json_load_file(path, 0, &jerr);
	assert_non_null(root);
	values = json_object_get(root, "values");
	assert_true(json_is_array(values));
	sotto_sops_mac_init(&m, false);
	json_array_foreach(values, i, v) {
		json_t *p = json_object_get(v, "plain");

		if (json_is_string(p))
			sotto_sops_mac_add(&m,
			    (const uint8_t *)json_string_value(p),
			    json_string_length(p));
	}
	sotto_sops_mac_final(&m, hex);
	if (want_field != NULL)
		assert_string_equal(hex, json_string_value(json_object_get(root,
		    want_field)));
	else
		assert_string_not_equal(hex, json_string_value(
		    json_object_get(root, "mac")));
	json_decref(root);
}

static void
test_sops_mac_final_fixtures(void **state)
{
	(void)state;
	mac_from_leaves("hist/example.yaml.leaves.json", "mac");
	mac_from_leaves("hist/example.json.leaves.json", "mac");
	mac_from_leaves("current/format.enc.yaml.leaves.json", "mac");
}

static void
test_sops_mac_final_fixtures_wrong(void **state)
{
	struct sotto_sops_mac m;
	char hex[SOTTO_SOPS_MAC_HEX];

	(void)state;
	/* mac_only_encrypted prefixes SHA-256("sops"): a different MAC */
	sotto_sops_mac_init(&m, true);
	sotto_sops_mac_add(&m, (const uint8_t *)"bar", 3);
	sotto_sops_mac_final(&m, hex);
	assert_string_not_equal(hex, fmt_yaml_mac);
}

static void
test_sops_mac_init_only_encrypted(void **state)
{
	static const uint8_t sops256[32] = { 0x8a, 0x3f, 0xd2, 0xad, 0x54,
	    0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
	    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec,
	    0x81, 0x76, 0xf2, 0x7d, 0x69 };
	uint8_t buf[35], d[64];
	char hex[SOTTO_SOPS_MAC_HEX], want[129];
	struct sotto_sops_mac m;
	size_t i;

	(void)state;
	memcpy(buf, sops256, 32);
	memcpy(buf + 32, "bar", 3);
	crypto_hash_sha512(d, buf, sizeof(buf));
	sodium_bin2hex(want, sizeof(want), d, sizeof(d));
	for (i = 0; want[i] != '\0'; i++)
		if (want[i] >= 'a' && want[i] <= 'f')
			want[i] = (char)(want[i] - 'a' + 'A');
	sotto_sops_mac_init(&m, true);
	sotto_sops_mac_add(&m, (const uint8_t *)"ba", 2);
	sotto_sops_mac_add(&m, (const uint8_t *)"", 0);
	sotto_sops_mac_add(&m, (const uint8_t *)"r", 1);
	sotto_sops_mac_final(&m, hex);
	assert_string_equal(hex, want);
	/* empty MAC without the prefix is SHA-512("") */
	sotto_sops_mac_init(&m, false);
	sotto_sops_mac_final(&m, hex);
	assert_memory_equal(hex, "CF83E1357EEFB8BD", 16);
}

static void
test_sops_mac_init_only_encrypted_differs(void **state)
{
	char a[SOTTO_SOPS_MAC_HEX], b[SOTTO_SOPS_MAC_HEX];
	struct sotto_sops_mac m;

	(void)state;
	sotto_sops_mac_init(&m, true);
	sotto_sops_mac_final(&m, a);
	sotto_sops_mac_init(&m, false);
	sotto_sops_mac_final(&m, b);
	assert_string_not_equal(a, b);
}

static void
test_sops_mac_encrypt_roundtrip(void **state)
{
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };
	char hex[SOTTO_SOPS_MAC_HEX];
	struct sotto_sops_mac m;

	(void)state;
	sotto_sops_mac_init(&m, false);
	sotto_sops_mac_add(&m, (const uint8_t *)"x", 1);
	sotto_sops_mac_final(&m, hex);
	assert_int_equal(sotto_sops_mac_encrypt(&out, hex,
	    "2024-01-02T03:04:05Z", key1, NULL, &e), SOTTO_OK);
	assert_true(sotto_sops_value_is_enc((char *)out.data, out.len));
	assert_non_null(strstr((char *)out.data, ",type:str]"));
	assert_int_equal(sotto_sops_mac_check((char *)out.data,
	    "2024-01-02T03:04:05.123456Z", hex, key1, &e), SOTTO_OK);
	sotto_buf_release(&out);
}

static void
test_sops_mac_encrypt_roundtrip_bad_time(void **state)
{
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };
	char hex[SOTTO_SOPS_MAC_HEX];

	(void)state;
	memset(hex, 'A', 128);
	hex[128] = '\0';
	assert_int_equal(sotto_sops_mac_encrypt(&out, hex, "2024-01-02",
	    key1, NULL, &e), SOTTO_E_SOPS_METADATA);
	assert_int_equal(out.len, 0);
	/* a MAC encrypted under another lastmodified does not verify */
	assert_int_equal(sotto_sops_mac_encrypt(&out, hex,
	    "2024-01-02T03:04:05+01:00", key1, NULL, &e), SOTTO_OK);
	assert_int_equal(sotto_sops_mac_check((char *)out.data,
	    "2024-01-02T03:04:05Z", hex, key1, &e), SOTTO_E_MAC_MISMATCH);
	sotto_buf_release(&out);
}

static void
roundtrip(const char *type, const char *plain_s)
{
	struct sotto_buf out = SOTTO_BUF_INIT, plain = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e = { 0 };
	char t[SOTTO_SOPS_TYPE_MAX];

	assert_int_equal(sotto_sops_value_encrypt(&out,
	    (const uint8_t *)plain_s, strlen(plain_s), type, "a:b:", 4, key1,
	    NULL, &e), SOTTO_OK);
	assert_int_equal(sotto_sops_value_decrypt(&plain, t,
	    (char *)out.data, out.len, "a:b:", 4, key1, &e), SOTTO_OK);
	assert_string_equal(t, type);
	assert_string_equal((char *)plain.data, plain_s);
	sotto_buf_release(&out);
	sotto_buf_release(&plain);
}

static void
test_sops_value_encrypt_roundtrip(void **state)
{
	(void)state;
	roundtrip("str", "hello, world");
	roundtrip("str", "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]");
	roundtrip("int", "-42");
	roundtrip("float", "0.0000001234");
	roundtrip("bool", "True");
	roundtrip("time", "2006-01-02T15:04:05.999999999+07:00");
	roundtrip("comment", " a comment");
}

static void
test_sops_value_encrypt_roundtrip_bad_type(void **state)
{
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };

	(void)state;
	assert_int_equal(sotto_sops_value_encrypt(&out,
	    (const uint8_t *)"x", 1, "bytes", "a:", 2, key1, NULL, &e),
	    SOTTO_E_USAGE);
	assert_int_equal(sotto_sops_value_encrypt(&out,
	    (const uint8_t *)"x", 1, "Str", "a:", 2, key1, NULL, &e),
	    SOTTO_E_USAGE);
	assert_int_equal(out.len, 0);
	sotto_buf_release(&out);
}

static void
test_sops_value_encrypt_format(void **state)
{
	struct sotto_buf a = SOTTO_BUF_INIT, b = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };
	struct sotto_sops_enc enc;
	uint8_t iv[32];

	(void)state;
	memset(iv, 0x5a, sizeof(iv));
	/* IV stash: same key, AAD, plaintext and IV -> identical bytes */
	assert_int_equal(sotto_sops_value_encrypt(&a, (const uint8_t *)"bar",
	    3, "str", "foo:", 4, key1, iv, &e), SOTTO_OK);
	assert_int_equal(sotto_sops_value_encrypt(&b, (const uint8_t *)"bar",
	    3, "str", "foo:", 4, key1, iv, &e), SOTTO_OK);
	assert_string_equal((char *)a.data, (char *)b.data);
	assert_int_equal(sotto_sops_value_parse(&enc, (char *)a.data, a.len,
	    &e), SOTTO_OK);
	assert_int_equal(enc.data.len, 3);
	assert_int_equal(enc.iv.len, 32);
	assert_int_equal(enc.iv_b64len, 44);
	assert_int_equal(enc.tag_b64len, 24);
	assert_memory_equal(enc.iv.data, iv, 32);
	assert_int_equal(enc.typelen, 3);
	sotto_sops_value_release(&enc);
	assert_memory_equal(a.data, "ENC[AES256_GCM,data:", 20);
	/* random IVs differ */
	sotto_buf_release(&b);
	assert_int_equal(sotto_sops_value_encrypt(&b, (const uint8_t *)"bar",
	    3, "str", "foo:", 4, key1, NULL, &e), SOTTO_OK);
	assert_string_not_equal((char *)a.data, (char *)b.data);
	sotto_buf_release(&a);
	sotto_buf_release(&b);
}

static void
test_sops_value_encrypt_format_empty(void **state)
{
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };

	(void)state;
	/* empty plaintext is never encrypted: nothing appended */
	assert_int_equal(sotto_sops_value_encrypt(&out, (const uint8_t *)"",
	    0, "str", "foo:", 4, key1, NULL, &e), SOTTO_OK);
	assert_int_equal(out.len, 0);
	sotto_buf_release(&out);
}

/* Encrypts "bar" then applies an edit and expects decrypt to give want. */
static void
tamper(size_t (*edit)(char *, size_t), sotto_err want)
{
	struct sotto_buf out = SOTTO_BUF_INIT, plain = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e = { 0 };
	char t[SOTTO_SOPS_TYPE_MAX];
	size_t n;

	assert_int_equal(sotto_sops_value_encrypt(&out,
	    (const uint8_t *)"barbaz", 6, "str", "k:", 2, key1, NULL, &e),
	    SOTTO_OK);
	assert_int_equal(sotto_buf_add(&plain, "keep", 4), SOTTO_OK);
	n = edit((char *)out.data, out.len);
	assert_int_equal(sotto_sops_value_decrypt(&plain, t,
	    (char *)out.data, n, "k:", 2, key1, &e), want);
	/* failure leaves the buffer as it was */
	assert_int_equal(plain.len, 4);
	assert_string_equal((char *)plain.data, "keep");
	assert_true(strlen(e.msg) > 0);
	assert_null(strstr(e.msg, "barbaz"));
	sotto_buf_release(&out);
	sotto_buf_release(&plain);
}

static size_t
flip_data(char *s, size_t n)
{
	/* first data char: 'data:' ends at 20; keep it a base64 letter */
	s[20] = s[20] == 'A' ? 'B' : 'A';
	return n;
}

static size_t
flip_iv(char *s, size_t n)
{
	char *p = strstr(s, ",iv:") + 4;

	*p = *p == 'A' ? 'B' : 'A';
	return n;
}

static size_t
flip_tag(char *s, size_t n)
{
	char *p = strstr(s, ",tag:") + 5;

	*p = *p == 'A' ? 'B' : 'A';
	return n;
}

static size_t
type_unknown(char *s, size_t n)
{
	memcpy(strstr(s, ",type:") + 6, "xyz", 3);	/* type not in AAD */
	return n;
}

static size_t
break_b64(char *s, size_t n)
{
	*(strstr(s, ",tag:") - 1) = '!';
	return n;
}

static size_t
truncate_value(char *s, size_t n)
{
	(void)s;
	return n - 1;	/* drop ']' */
}

static size_t
short_tag(char *s, size_t n)
{
	char *p = strstr(s, ",tag:") + 5;

	/* 24 chars of 16 bytes -> 12 bytes: "AAAAAAAAAAAAAAAA" */
	memcpy(p, "AAAAAAAAAAAAAAAA", 16);
	memmove(p + 16, p + 24, n - (size_t)(p + 24 - s) + 1);
	return n - 8;
}

static void
test_sops_value_decrypt_tampered(void **state)
{
	(void)state;
	tamper(flip_data, SOTTO_E_DECRYPT);
	tamper(flip_iv, SOTTO_E_DECRYPT);
	tamper(flip_tag, SOTTO_E_DECRYPT);
	tamper(type_unknown, SOTTO_E_ENC_VALUE);
	tamper(break_b64, SOTTO_E_ENC_VALUE);
	tamper(truncate_value, SOTTO_E_ENC_VALUE);
	tamper(short_tag, SOTTO_E_ENC_VALUE);
}

static void
test_sops_value_decrypt_typed(void **state)
{
	struct sotto_buf out = SOTTO_BUF_INIT, plain = SOTTO_BUF_SECRET_INIT;
	struct sotto_error e = { 0 };
	static const struct {
		const char *type, *plain;
		sotto_err want;
	} t[] = {
		{ "int", "+007", SOTTO_OK },
		{ "int", "1.0", SOTTO_E_ENC_VALUE },
		{ "int", "99999999999999999999", SOTTO_E_ENC_VALUE },
		{ "float", "1e21", SOTTO_OK },
		{ "float", "+Inf", SOTTO_OK },
		{ "float", "1,5", SOTTO_E_ENC_VALUE },
		{ "bool", "True", SOTTO_OK },
		{ "bool", "yes", SOTTO_E_ENC_VALUE },
		{ "time", "2006-01-02T15:04:05Z", SOTTO_OK },
		{ "time", "2006-01-02", SOTTO_E_ENC_VALUE },
	};
	char ty[SOTTO_SOPS_TYPE_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sotto_buf_release(&out);
		assert_int_equal(sotto_sops_value_encrypt(&out,
		    (const uint8_t *)t[i].plain, strlen(t[i].plain), t[i].type,
		    "k:", 2, key1, NULL, &e), SOTTO_OK);
		assert_int_equal(sotto_sops_value_decrypt(&plain, ty,
		    (char *)out.data, out.len, "k:", 2, key1, &e), t[i].want);
		if (t[i].want == SOTTO_OK)
			assert_string_equal((char *)plain.data, t[i].plain);
		else
			assert_int_equal(plain.len, 0);
		sotto_buf_truncate(&plain, 0);
	}
	sotto_buf_release(&out);
	sotto_buf_release(&plain);
}

/* 16 zero bytes, 32 zero bytes in padded base64 */
#define TAG0 "AAAAAAAAAAAAAAAAAAAAAA=="
#define IV0 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void
parse_ok(const char *s, const char *data, const char *iv, const char *tag,
    const char *type)
{
	struct sotto_error e = { 0 };
	struct sotto_sops_enc enc;

	assert_int_equal(sotto_sops_value_parse(&enc, s, strlen(s), &e),
	    SOTTO_OK);
	assert_int_equal(enc.data_b64len, strlen(data));
	assert_memory_equal(enc.data_b64, data, strlen(data));
	assert_int_equal(enc.iv_b64len, strlen(iv));
	assert_memory_equal(enc.iv_b64, iv, strlen(iv));
	assert_int_equal(enc.tag_b64len, strlen(tag));
	assert_memory_equal(enc.tag_b64, tag, strlen(tag));
	assert_int_equal(enc.typelen, strlen(type));
	assert_memory_equal(enc.type, type, strlen(type));
	sotto_sops_value_release(&enc);
}

static void
test_sops_value_parse_greedy(void **state)
{
	(void)state;
	parse_ok("ENC[AES256_GCM,data:AAAA,iv:" IV0 ",tag:" TAG0
	    ",type:str]", "AAAA", IV0, TAG0, "str");
	/* trailing junk after ']' is ignored; last ']' ends type */
	parse_ok("ENC[AES256_GCM,data:AAAA,iv:" IV0 ",tag:" TAG0
	    ",type:str]\",", "AAAA", IV0, TAG0, "str");
	/* only the first line counts ('.' excludes newline) */
	parse_ok("ENC[AES256_GCM,data:AAAA,iv:" IV0 ",tag:" TAG0
	    ",type:str]\nxx],type:int]", "AAAA", IV0, TAG0, "str");
	/* empty data base64 would not match (.+), but any b64 is fine */
	parse_ok("ENC[AES256_GCM,data:AA==,iv:AA==,tag:" TAG0 ",type:int]",
	    "AA==", "AA==", TAG0, "int");
}

static void
parse_fail(const char *s, size_t n)
{
	struct sotto_error e = { 0 };
	struct sotto_sops_enc enc;

	assert_int_equal(sotto_sops_value_parse(&enc, s, n, &e),
	    SOTTO_E_ENC_VALUE);
	assert_true(strlen(e.msg) > 0);
	assert_true(strlen(e.msg) < 120);
	sotto_sops_value_release(&enc);
}

static void
test_sops_value_parse_greedy_tricky(void **state)
{
	struct sotto_error e = { 0 };
	struct sotto_sops_enc enc;
	const char *s;

	(void)state;
	/* a second ",iv:" makes data run to the last feasible one */
	s = "ENC[AES256_GCM,data:AAAA,iv:BBBB,iv:" IV0 ",tag:" TAG0
	    ",type:str]";
	assert_int_equal(sotto_sops_value_parse(&enc, s, strlen(s), &e),
	    SOTTO_E_ENC_VALUE);	/* data "AAAA,iv:BBBB" is not base64 */
	assert_non_null(strstr(e.msg, "'data'"));
	sotto_sops_value_release(&enc);
	/* ... unless the later one cannot be followed by tag/type */
	parse_ok("ENC[AES256_GCM,data:AAAA,iv:" IV0 ",tag:" TAG0
	    ",type:str,iv:x]", "AAAA", IV0, TAG0, "str,iv:x");
	/* greedy type spans inner ']' up to the last one */
	parse_ok("ENC[AES256_GCM,data:AAAA,iv:" IV0 ",tag:" TAG0
	    ",type:str]x]", "AAAA", IV0, TAG0, "str]x");
	/* iv runs greedily over ",tag:x" up to the last ",tag:" */
	s = "ENC[AES256_GCM,data:AAAA,iv:" IV0 ",tag:x,tag:" TAG0
	    ",type:str]";
	assert_int_equal(sotto_sops_value_parse(&enc, s, strlen(s), &e),
	    SOTTO_E_ENC_VALUE);
	assert_non_null(strstr(e.msg, "'iv'"));
	sotto_sops_value_release(&enc);
	parse_fail("ENC[AES256_GCM,data:AAAA,iv:" IV0 ",tag:" TAG0
	    ",type:]", 0);
	parse_fail("", 0);
	s = "ENC[AES256_GCM,data:,iv:" IV0 ",tag:" TAG0 ",type:str]";
	parse_fail(s, strlen(s));	/* empty data group */
	s = "ENC[AES256_GCM,data:AAAA,iv:" IV0 ",tag:" TAG0 ",type:]";
	parse_fail(s, strlen(s));	/* empty type group */
	s = "ENC[AES256_GCM,data:AAAA,iv:" IV0 ",tag:" TAG0 ",type:str";
	parse_fail(s, strlen(s));	/* no ']' */
	s = "ENC[AES256_GCM,data:AAAA,iv:" IV0 ",tag:" TAG0 ",type:\nstr]";
	parse_fail(s, strlen(s));	/* newline inside type */
	s = " ENC[AES256_GCM,data:AAAA,iv:" IV0 ",tag:" TAG0 ",type:str]";
	parse_fail(s, strlen(s));	/* anchored at the start */
	s = "ENC[AES256_GCM,data:AAB=,iv:" IV0 ",tag:" TAG0 ",type:str]";
	parse_fail(s, strlen(s));	/* non-canonical base64 */
	s = "ENC[AES256_GCM,data:AAAA,iv:" IV0 ",tag:AAAA,type:str]";
	parse_fail(s, strlen(s));	/* 3-byte tag */
	s = "ENC[AES256_GCM,data:AAAA,iv:AAAA" IV0 ",tag:" TAG0 ",type:str]";
	parse_fail(s, strlen(s) - 1);	/* n excludes the ']' */
	s = "ENC[AES256_GCM,data:AAAA,iv:" IV0 ",tag:" TAG0 ",type:str]";
	assert_int_equal(sotto_sops_value_parse(&enc, s, strlen(s), &e),
	    SOTTO_OK);
	sotto_sops_value_release(&enc);
}

static void
test_sops_value_is_enc(void **state)
{
	(void)state;
	assert_true(sotto_sops_value_is_enc("ENC[AES256_GCM,", 15));
	assert_true(sotto_sops_value_is_enc("ENC[AES256_GCM,data:x", 21));
}

static void
test_sops_value_is_enc_not(void **state)
{
	(void)state;
	assert_false(sotto_sops_value_is_enc("ENC[AES256_GCM", 14));
	assert_false(sotto_sops_value_is_enc("enc[AES256_GCM,", 15));
	assert_false(sotto_sops_value_is_enc("", 0));
	assert_false(sotto_sops_value_is_enc(NULL, 0));
}

static void
test_sops_time_rfc3339_normalize(void **state)
{
	static const char *const t[][2] = {
		{ "2022-03-15T22:11:15Z", "2022-03-15T22:11:15Z" },
		{ "2022-03-15T22:11:15.5Z", "2022-03-15T22:11:15Z" },
		{ "2022-03-15T22:11:15,123456789123Z", "2022-03-15T22:11:15Z" },
		{ "2022-03-15T22:11:15+00:00", "2022-03-15T22:11:15Z" },
		{ "2022-03-15T22:11:15-00:00", "2022-03-15T22:11:15Z" },
		{ "2022-03-15T22:11:15+02:00", "2022-03-15T22:11:15+02:00" },
		{ "2022-03-15T22:11:15.1-05:30", "2022-03-15T22:11:15-05:30" },
		{ "2022-03-15T5:04:05Z", "2022-03-15T05:04:05Z" },
		{ "2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z" },
		{ "2022-03-15T22:11:15+01:60", "2022-03-15T22:11:15+02:00" },
	};
	struct sotto_error e = { 0 };
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(sotto_sops_time_rfc3339_normalize(out, t[i][0],
		    &e), SOTTO_OK);
		assert_string_equal(out, t[i][1]);
	}
}

static void
test_sops_time_rfc3339_normalize_bad(void **state)
{
	static const char *const t[] = {
		"", "2022-03-15", "2022-03-15T22:11:15", "2022-03-15 22:11:15Z",
		"2022-03-15t22:11:15Z", "2022-03-15T22:11:15z",
		"2023-02-29T00:00:00Z", "2022-13-01T00:00:00Z",
		"2022-03-15T24:00:00Z", "2022-03-15T22:60:00Z",
		"2022-03-15T22:11:60Z", "2022-03-15T22:11:15.Z",
		"2022-03-15T22:11:15+2:00", "2022-03-15T22:11:15+25:00",
		"2022-03-15T22:11:15+0200", "2022-03-15T22:11:15Z ",
		"22-03-15T22:11:15Z", "2022-03-15T122:11:15Z",
	};
	struct sotto_error e = { 0 };
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(sotto_sops_time_rfc3339_normalize(out, t[i],
		    &e), SOTTO_E_PARSE);
}

static void
test_sops_time_now(void **state)
{
	struct sotto_error e = { 0 };
	char now[32], norm[64];

	(void)state;
	sotto_sops_time_now(now);
	assert_int_equal(strlen(now), 20);
	assert_int_equal(now[19], 'Z');
	assert_int_equal(sotto_sops_time_rfc3339_normalize(norm, now, &e),
	    SOTTO_OK);
	assert_string_equal(norm, now);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sops_value_decrypt_hist_yaml),
		cmocka_unit_test(test_sops_value_decrypt_hist_yaml_wrong_aad),
		cmocka_unit_test(test_sops_value_decrypt_current),
		cmocka_unit_test(test_sops_value_decrypt_current_wrong_key),
		cmocka_unit_test(test_sops_mac_check_fixtures),
		cmocka_unit_test(test_sops_mac_check_fixtures_mismatch),
		cmocka_unit_test(test_sops_mac_final_fixtures),
		cmocka_unit_test(test_sops_mac_final_fixtures_wrong),
		cmocka_unit_test(test_sops_mac_init_only_encrypted),
		cmocka_unit_test(test_sops_mac_init_only_encrypted_differs),
		cmocka_unit_test(test_sops_mac_encrypt_roundtrip),
		cmocka_unit_test(test_sops_mac_encrypt_roundtrip_bad_time),
		cmocka_unit_test(test_sops_value_encrypt_roundtrip),
		cmocka_unit_test(test_sops_value_encrypt_roundtrip_bad_type),
		cmocka_unit_test(test_sops_value_encrypt_format),
		cmocka_unit_test(test_sops_value_encrypt_format_empty),
		cmocka_unit_test(test_sops_value_decrypt_tampered),
		cmocka_unit_test(test_sops_value_decrypt_typed),
		cmocka_unit_test(test_sops_value_parse_greedy),
		cmocka_unit_test(test_sops_value_parse_greedy_tricky),
		cmocka_unit_test(test_sops_value_is_enc),
		cmocka_unit_test(test_sops_value_is_enc_not),
		cmocka_unit_test(test_sops_time_rfc3339_normalize),
		cmocka_unit_test(test_sops_time_rfc3339_normalize_bad),
		cmocka_unit_test(test_sops_time_now),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
