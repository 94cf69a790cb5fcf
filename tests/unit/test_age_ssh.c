/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for src/crypto/age_ssh.c: SSH recipients and identities.
 * Keys are generated at test time with ssh-keygen in a mkdtemp directory.
 */
#include "testutil.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/age_internal.h"
#include "crypto/b64.h"

static char dir[64];

/* Runs ssh-keygen without a shell; returns 0 on success. */
static int
keygen(const char *type, const char *bits, const char *pass,
    const char *fmt, const char *file)
{
	char path[128];
	const char *argv[16];
	int n = 0, st, fd;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	argv[n++] = "ssh-keygen";
	argv[n++] = "-q";
	argv[n++] = "-t";
	argv[n++] = type;
	if (bits != NULL) {
		argv[n++] = "-b";
		argv[n++] = bits;
	}
	if (fmt != NULL) {
		argv[n++] = "-m";
		argv[n++] = fmt;
	}
	argv[n++] = "-N";
	argv[n++] = pass;
	argv[n++] = "-C";
	argv[n++] = "test@sotto";
	argv[n++] = "-f";
	argv[n++] = path;
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp("ssh-keygen", (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static uint8_t *
slurp(const char *file, size_t *len)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return test_read_file(path, len);
}

/* The first line of a .pub file, NUL-terminated, LF stripped. */
static char *
publine(const char *file)
{
	char *s = (char *)slurp(file, NULL);

	assert_non_null(s);
	s[strcspn(s, "\r\n")] = '\0';
	return s;
}

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	snprintf(dir, sizeof(dir), "/tmp/sotto-ssh-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	if (keygen("ed25519", NULL, "", NULL, "ed") ||
	    keygen("ed25519", NULL, "", NULL, "ed2") ||
	    keygen("ed25519", NULL, "hunter2", NULL, "ed_enc") ||
	    keygen("rsa", "2048", "", NULL, "rsa") ||
	    keygen("rsa", "2048", "", NULL, "rsa2") ||
	    keygen("rsa", "2048", "hunter2", NULL, "rsa_enc") ||
	    keygen("rsa", "2048", "", "PEM", "rsa_pem") ||
	    keygen("rsa", "2048", "hunter2", "PEM", "rsa_pem_enc") ||
	    keygen("rsa", "2048", "", "PKCS8", "rsa_p8") ||
	    keygen("rsa", "1024", "", NULL, "rsa1024") ||
	    keygen("ecdsa", NULL, "", NULL, "ec"))
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	static const char *files[] = { "ed", "ed2", "ed_enc", "rsa", "rsa2",
		"rsa_enc", "rsa_pem", "rsa_pem_enc", "rsa_p8", "rsa1024",
		"ec" };
	char path[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s.pub", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

/* Passphrase callback: ctx is the passphrase; counts calls. */
static int pass_calls;

static sotto_err
pass_cb(void *ctx, const char *prompt, struct sotto_buf *pass,
    struct sotto_error *e)
{
	(void)e;
	pass_calls++;
	assert_non_null(strstr(prompt, "Enter passphrase for \""));
	return sotto_buf_addstr(pass, ctx);
}

static sotto_err
parse_id(struct sotto_age_identity **id, const char *file, void *pass,
    struct sotto_error *e)
{
	uint8_t *data;
	size_t len;
	sotto_err err;

	data = slurp(file, &len);
	assert_non_null(data);
	err = age_ssh_identity_parse(id, data, len, file,
	    pass != NULL ? pass_cb : NULL, pass, e);
	free(data);
	return err;
}

static struct sotto_age_recipient *
parse_rec(const char *pubfile)
{
	struct sotto_age_recipient *r = NULL;
	struct sotto_error e = { 0 };
	char *line = publine(pubfile);

	assert_int_equal(age_ssh_recipient_parse(&r, line, &e), SOTTO_OK);
	free(line);
	return r;
}

/* given: the .pub line (comment kept); derived: from the identity. */
static void
same_key(const char *given, const char *derived)
{
	size_t n = strlen(derived);

	assert_memory_equal(given, derived, n);
	assert_true(given[n] == ' ' || given[n] == '\0');
	assert_null(strchr(strchr(derived, ' ') + 1, ' '));
}

static void
free_rec(struct sotto_age_recipient *r)
{
	if (r == NULL)
		return;
	r->ops->free_priv(r->priv);
	free(r->str);
	free(r);
}

static void
free_id(struct sotto_age_identity *id)
{
	if (id == NULL)
		return;
	id->ops->free_priv(id->priv);
	free(id);
}

/* Wraps a random file key to r, unwraps it with id; returns the code. */
static sotto_err
round_trip(struct sotto_age_recipient *r, struct sotto_age_identity *id,
    struct sotto_error *e)
{
	struct age_header h = { 0 };
	uint8_t fk[16], got[16];
	sotto_err err;

	randombytes_buf(fk, sizeof(fk));
	assert_int_equal(r->ops->wrap(r, fk, &h, e), SOTTO_OK);
	assert_int_equal(h.n, 1);
	err = id->ops->unwrap(id, &h, got, e);
	if (err == SOTTO_OK)
		assert_memory_equal(fk, got, 16);
	age_header_clear(&h);
	return err;
}

/* ---- recipients ------------------------------------------------------ */

static void
test_age_ssh_recipient_parse_ed25519(void **state)
{
	struct sotto_age_recipient *r;
	char *line = publine("ed.pub");

	(void)state;
	r = parse_rec("ed.pub");
	/* kept as given, comment included, as sops keeps it */
	assert_string_equal(r->str, line);
	assert_non_null(strstr(r->str, "ssh-ed25519 AAAA"));
	assert_non_null(strchr(strchr(r->str, ' ') + 1, ' '));
	free(line);
	free_rec(r);
}

static void
test_age_ssh_recipient_parse_rejects_garbage(void **state)
{
	struct sotto_age_recipient *r = NULL;
	struct sotto_error e = { 0 };
	char *ed = publine("ed.pub"), buf[1024];

	(void)state;
	assert_int_equal(age_ssh_recipient_parse(&r, "ssh-ed25519", &e),
	    SOTTO_E_KEY_FORMAT);
	assert_int_equal(age_ssh_recipient_parse(&r, "ssh-ed25519 !!!!", &e),
	    SOTTO_E_KEY_FORMAT);
	assert_non_null(strstr(e.msg, "malformed SSH recipient"));
	/* type field does not match the blob */
	snprintf(buf, sizeof(buf), "ssh-rsa %s", strchr(ed, ' ') + 1);
	assert_int_equal(age_ssh_recipient_parse(&r, buf, &e),
	    SOTTO_E_KEY_FORMAT);
	assert_non_null(strstr(e.msg, "does not match"));
	/* truncated blob: drop 4 base64 chars (3 bytes) */
	snprintf(buf, sizeof(buf), "%s", ed);
	memmove(strstr(buf, "AAAA") + 20, strstr(buf, "AAAA") + 24,
	    strlen(strstr(buf, "AAAA") + 24) + 1);
	assert_int_equal(age_ssh_recipient_parse(&r, buf, &e),
	    SOTTO_E_KEY_FORMAT);
	assert_null(r);
	free(ed);
}

static void
test_age_ssh_recipient_parse_rsa(void **state)
{
	struct sotto_age_recipient *r;

	(void)state;
	r = parse_rec("rsa.pub");
	assert_non_null(strstr(r->str, "ssh-rsa AAAA"));
	assert_non_null(strstr(r->str, " test@sotto"));
	free_rec(r);
}

static void
test_age_ssh_recipient_parse_rsa_1024_refused(void **state)
{
	struct sotto_age_recipient *r = NULL;
	struct sotto_error e = { 0 };
	char *line = publine("rsa1024.pub");

	(void)state;
	assert_int_equal(age_ssh_recipient_parse(&r, line, &e),
	    SOTTO_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "2048"));
	assert_null(r);
	free(line);
}

static void
test_age_ssh_recipient_parse_ecdsa_unsupported(void **state)
{
	struct sotto_age_recipient *r = NULL;
	struct sotto_error e = { 0 };
	char *line = publine("ec.pub");

	(void)state;
	assert_int_equal(age_ssh_recipient_parse(&r, line, &e),
	    SOTTO_E_UNSUPPORTED);
	free(line);
}

static void
test_age_ssh_unsupported_type_ecdsa(void **state)
{
	struct sotto_buf b = SOTTO_BUF_INIT, line = SOTTO_BUF_INIT;
	static const char sk[] = "sk-ssh-ed25519@openssh.com";
	uint8_t blob[64] = { 0, 0, 0, sizeof(sk) - 1 };
	char *ec = publine("ec.pub");

	(void)state;
	assert_true(age_ssh_unsupported_type(ec));
	/* a hand-made sk- key line */
	memcpy(blob + 4, sk, sizeof(sk) - 1);
	assert_int_equal(sotto_b64_encode(&b, blob, 4 + sizeof(sk) - 1 + 8,
	    true), 0);
	assert_int_equal(sotto_buf_addf(&line, "%s %s c", sk,
	    (char *)b.data), 0);
	assert_true(age_ssh_unsupported_type((char *)line.data));
	sotto_buf_release(&b);
	sotto_buf_release(&line);
	free(ec);
}

static void
test_age_ssh_unsupported_type_rejects_supported(void **state)
{
	char *ed = publine("ed.pub"), *rsa = publine("rsa.pub");

	(void)state;
	assert_false(age_ssh_unsupported_type(ed));
	assert_false(age_ssh_unsupported_type(rsa));
	assert_false(age_ssh_unsupported_type("ecdsa-sha2-nistp256 !!!"));
	assert_false(age_ssh_unsupported_type("age1xyz"));
	assert_false(age_ssh_unsupported_type(""));
	free(ed);
	free(rsa);
}

/* ---- ed25519 ---------------------------------------------------------- */

static void
test_age_ssh_identity_parse_ed25519(void **state)
{
	struct sotto_age_identity *id = NULL;
	struct sotto_age_recipient *r, *r2 = NULL;
	struct sotto_error e = { 0 };

	(void)state;
	assert_int_equal(parse_id(&id, "ed", NULL, &e), SOTTO_OK);
	r = parse_rec("ed.pub");
	assert_int_equal(id->ops->to_recipient(&r2, id, &e), SOTTO_OK);
	same_key(r->str, r2->str);
	assert_int_equal(round_trip(r, id, &e), SOTTO_OK);
	assert_int_equal(round_trip(r2, id, &e), SOTTO_OK);
	free_rec(r);
	free_rec(r2);
	free_id(id);
}

static void
test_age_ssh_unwrap_ed25519_wrong_key(void **state)
{
	struct sotto_age_identity *id = NULL;
	struct sotto_age_recipient *r;
	struct sotto_error e = { 0 };

	(void)state;
	assert_int_equal(parse_id(&id, "ed2", NULL, &e), SOTTO_OK);
	r = parse_rec("ed.pub");
	assert_int_equal(round_trip(r, id, &e), SOTTO_E_AGE_NO_MATCH);
	free_rec(r);
	free_id(id);
}

/* Wraps with r, applies a mutation, and expects unwrap to return want. */
static void
mutate(const char *pub, const char *key, int what, sotto_err want)
{
	struct sotto_age_identity *id = NULL;
	struct sotto_age_recipient *r = parse_rec(pub);
	struct sotto_error e = { 0 };
	struct age_header h = { 0 };
	uint8_t fk[16] = { 1 }, got[16];

	assert_int_equal(parse_id(&id, key, NULL, &e), SOTTO_OK);
	assert_int_equal(r->ops->wrap(r, fk, &h, &e), SOTTO_OK);
	switch (what) {
	case 0:		/* flip a body bit */
		h.st[0].body[5] ^= 1;
		break;
	case 1:		/* extra argument */
		assert_int_equal(age_stanza_add_arg(&h.st[0], "AAAA"),
		    SOTTO_OK);
		break;
	case 2:		/* other tag */
		h.st[0].args[0][0] = h.st[0].args[0][0] == 'A' ? 'B' : 'A';
		break;
	case 3:		/* short body */
		h.st[0].body_len = 16;
		break;
	}
	assert_int_equal(id->ops->unwrap(id, &h, got, &e), want);
	age_header_clear(&h);
	free_rec(r);
	free_id(id);
}

static void
test_age_ssh_unwrap_ed25519_tampered_body(void **state)
{
	(void)state;
	mutate("ed.pub", "ed", 0, SOTTO_E_AGE_HEADER);
	mutate("ed.pub", "ed", 1, SOTTO_E_AGE_HEADER);
	mutate("ed.pub", "ed", 2, SOTTO_E_AGE_NO_MATCH);
	mutate("ed.pub", "ed", 3, SOTTO_E_AGE_HEADER);
}

static void
test_age_ssh_unwrap_ignores_other_types(void **state)
{
	struct sotto_age_identity *id = NULL;
	struct sotto_error e = { 0 };
	struct age_header h = { 0 };
	struct age_stanza *s;
	uint8_t body[32] = { 0 }, got[16];

	(void)state;
	assert_int_equal(parse_id(&id, "ed", NULL, &e), SOTTO_OK);
	s = age_header_add(&h, "X25519");
	assert_non_null(s);
	assert_int_equal(age_stanza_add_arg(s, "AAAA"), SOTTO_OK);
	assert_int_equal(age_stanza_set_body(s, body, 32), SOTTO_OK);
	assert_int_equal(id->ops->unwrap(id, &h, got, &e),
	    SOTTO_E_AGE_NO_MATCH);
	s = age_header_add(&h, "ssh-ed25519");
	assert_int_equal(age_stanza_add_arg(s, "AAAA"), SOTTO_OK);
	assert_int_equal(id->ops->unwrap(id, &h, got, &e),
	    SOTTO_E_AGE_HEADER);
	age_header_clear(&h);
	free_id(id);
}

/* ---- rsa -------------------------------------------------------------- */

static void
test_age_ssh_identity_parse_rsa(void **state)
{
	static const char *keys[] = { "rsa", "rsa_pem", "rsa_p8" };
	struct sotto_age_identity *id;
	struct sotto_age_recipient *r, *r2;
	struct sotto_error e = { 0 };
	char pub[32];
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		id = NULL;
		r2 = NULL;
		snprintf(pub, sizeof(pub), "%s.pub", keys[i]);
		assert_int_equal(parse_id(&id, keys[i], NULL, &e), SOTTO_OK);
		r = parse_rec(pub);
		assert_int_equal(id->ops->to_recipient(&r2, id, &e),
		    SOTTO_OK);
		same_key(r->str, r2->str);
		assert_int_equal(round_trip(r, id, &e), SOTTO_OK);
		free_rec(r);
		free_rec(r2);
		free_id(id);
	}
}

static void
test_age_ssh_unwrap_rsa_wrong_key(void **state)
{
	struct sotto_age_identity *id = NULL;
	struct sotto_age_recipient *r;
	struct sotto_error e = { 0 };

	(void)state;
	assert_int_equal(parse_id(&id, "rsa2", NULL, &e), SOTTO_OK);
	r = parse_rec("rsa.pub");
	assert_int_equal(round_trip(r, id, &e), SOTTO_E_AGE_NO_MATCH);
	free_rec(r);
	free_id(id);
}

static void
test_age_ssh_unwrap_rsa_tampered_body(void **state)
{
	(void)state;
	mutate("rsa.pub", "rsa", 0, SOTTO_E_AGE_HEADER);
	mutate("rsa.pub", "rsa", 1, SOTTO_E_AGE_HEADER);
	mutate("rsa.pub", "rsa", 2, SOTTO_E_AGE_NO_MATCH);
	mutate("rsa.pub", "rsa", 3, SOTTO_E_AGE_HEADER);
}

static void
test_age_ssh_identity_parse_rsa_1024_refused(void **state)
{
	struct sotto_age_identity *id = NULL;
	struct sotto_error e = { 0 };

	(void)state;
	assert_int_equal(parse_id(&id, "rsa1024", NULL, &e),
	    SOTTO_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "'rsa1024'"));
	assert_null(id);
}

static void
test_age_ssh_identity_parse_ecdsa_unsupported(void **state)
{
	struct sotto_age_identity *id = NULL;
	struct sotto_error e = { 0 };

	(void)state;
	assert_int_equal(parse_id(&id, "ec", NULL, &e), SOTTO_E_UNSUPPORTED);
	assert_null(id);
}

/* ---- encrypted keys --------------------------------------------------- */

static void
test_age_ssh_identity_parse_encrypted(void **state)
{
	static const char *keys[] = { "ed_enc", "rsa_enc", "rsa_pem_enc" };
	struct sotto_age_identity *id;
	struct sotto_age_recipient *r;
	struct sotto_error e = { 0 };
	char pub[32];
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		id = NULL;
		pass_calls = 0;
		snprintf(pub, sizeof(pub), "%s.pub", keys[i]);
		assert_int_equal(parse_id(&id, keys[i], "hunter2", &e),
		    SOTTO_OK);
		assert_int_equal(pass_calls, 1);
		r = parse_rec(pub);
		assert_int_equal(round_trip(r, id, &e), SOTTO_OK);
		free_rec(r);
		free_id(id);
	}
}

static void
test_age_ssh_identity_parse_encrypted_wrong_pass(void **state)
{
	static const char *keys[] = { "ed_enc", "rsa_enc", "rsa_pem_enc" };
	struct sotto_age_identity *id = NULL;
	struct sotto_error e = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_int_equal(parse_id(&id, keys[i], "hunter3", &e),
		    SOTTO_E_BAD_PASSPHRASE);
		assert_non_null(strstr(e.msg, "incorrect passphrase"));
		assert_null(strstr(e.msg, "hunter"));
		assert_int_equal(parse_id(&id, keys[i], NULL, &e),
		    SOTTO_E_TTY);
		assert_null(id);
	}
}

static void
test_age_ssh_identity_parse_plain_never_asks(void **state)
{
	struct sotto_age_identity *id = NULL;
	struct sotto_error e = { 0 };

	(void)state;
	pass_calls = 0;
	assert_int_equal(parse_id(&id, "rsa_pem", "x", &e), SOTTO_OK);
	assert_int_equal(pass_calls, 0);
	free_id(id);
}

/* ---- malformed files -------------------------------------------------- */

static sotto_err
parse_mem(const char *s, size_t n, struct sotto_error *e)
{
	struct sotto_age_identity *id = NULL;
	sotto_err err;

	err = age_ssh_identity_parse(&id, (const uint8_t *)s, n, "mem",
	    pass_cb, "hunter2", e);
	free_id(id);
	return err;
}

static void
test_age_ssh_identity_parse_garbage(void **state)
{
	struct sotto_error e = { 0 };
	static const char *bad[] = {
		"",
		"hello",
		"-----BEGIN OPENSSH PRIVATE KEY-----\n",
		"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n"
		    "-----END OPENSSH PRIVATE KEY-----\n",
		"-----BEGIN OPENSSH PRIVATE KEY-----\n!!!!\n"
		    "-----END OPENSSH PRIVATE KEY-----\n",
		"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n"
		    "-----END RSA PRIVATE KEY-----\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_mem(bad[i], strlen(bad[i]), &e),
		    SOTTO_E_KEY_FORMAT);
		assert_non_null(strstr(e.msg, "'mem'"));
	}
}

/* Every truncation of the binary key, re-armored, is a format error. */
static void
truncations(const char *file)
{
	struct sotto_buf arm = SOTTO_BUF_INIT, txt = SOTTO_BUF_INIT;
	struct sotto_error e = { 0 };
	char *data = (char *)slurp(file, NULL), *p, *q;
	uint8_t *raw;
	size_t rawlen, n;
	sotto_err err;

	assert_non_null(data);
	p = strchr(data, '\n') + 1;
	q = strstr(p, "-----END");
	for (n = 0; p + n < q; n++)
		if (p[n] != '\n')
			assert_int_equal(sotto_buf_addch(&txt, p[n]), 0);
	raw = malloc(SOTTO_B64_DECODED_MAX(txt.len));
	assert_true(sotto_b64_decode(raw, &rawlen, (char *)txt.data, txt.len,
	    true));
	for (n = 0; n < rawlen; n++) {
		sotto_buf_truncate(&arm, 0);
		sotto_buf_addstr(&arm, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
		sotto_b64_encode(&arm, raw, n, true);
		sotto_buf_addstr(&arm, "\n-----END OPENSSH PRIVATE KEY-----\n");
		err = parse_mem((char *)arm.data, arm.len, &e);
		if (err != SOTTO_E_KEY_FORMAT)
			fail_msg("%s truncated to %zu: %d %s", file, n, err,
			    e.msg);
	}
	free(raw);
	free(data);
	sotto_buf_release(&arm);
	sotto_buf_release(&txt);
}

static void
test_age_ssh_identity_parse_truncated(void **state)
{
	(void)state;
	truncations("ed");
	truncations("rsa");
}

static void
test_age_ssh_identity_parse_truncated_text(void **state)
{
	struct sotto_error e = { 0 };
	size_t len;
	char *data = (char *)slurp("ed", &len);

	(void)state;
	assert_int_equal(parse_mem(data, len / 2, &e), SOTTO_E_KEY_FORMAT);
	assert_non_null(strstr(e.msg, "footer"));
	data[len / 2] = '!';	/* not a base64 character */
	assert_int_equal(parse_mem(data, len, &e), SOTTO_E_KEY_FORMAT);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age_ssh_recipient_parse_ed25519),
		cmocka_unit_test(test_age_ssh_recipient_parse_rejects_garbage),
		cmocka_unit_test(test_age_ssh_recipient_parse_rsa),
		cmocka_unit_test(test_age_ssh_recipient_parse_rsa_1024_refused),
		cmocka_unit_test(
		    test_age_ssh_recipient_parse_ecdsa_unsupported),
		cmocka_unit_test(test_age_ssh_unsupported_type_ecdsa),
		cmocka_unit_test(
		    test_age_ssh_unsupported_type_rejects_supported),
		cmocka_unit_test(test_age_ssh_identity_parse_ed25519),
		cmocka_unit_test(test_age_ssh_unwrap_ed25519_wrong_key),
		cmocka_unit_test(test_age_ssh_unwrap_ed25519_tampered_body),
		cmocka_unit_test(test_age_ssh_unwrap_ignores_other_types),
		cmocka_unit_test(test_age_ssh_identity_parse_rsa),
		cmocka_unit_test(test_age_ssh_unwrap_rsa_wrong_key),
		cmocka_unit_test(test_age_ssh_unwrap_rsa_tampered_body),
		cmocka_unit_test(test_age_ssh_identity_parse_rsa_1024_refused),
		cmocka_unit_test(
		    test_age_ssh_identity_parse_ecdsa_unsupported),
		cmocka_unit_test(test_age_ssh_identity_parse_encrypted),
		cmocka_unit_test(
		    test_age_ssh_identity_parse_encrypted_wrong_pass),
		cmocka_unit_test(test_age_ssh_identity_parse_plain_never_asks),
		cmocka_unit_test(test_age_ssh_identity_parse_garbage),
		cmocka_unit_test(test_age_ssh_identity_parse_truncated),
		cmocka_unit_test(test_age_ssh_identity_parse_truncated_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
