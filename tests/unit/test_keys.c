/* SPDX-License-Identifier: ISC */
/* age identity sources (SOPS_AGE_KEY*, keys.txt) and recipient lists. */
#include "testutil.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "sotto/age.h"
#include "sotto/keys.h"

static char dir[] = "/tmp/sotto-keys-XXXXXX";
static char key1[128], key2[128], key3[128];	/* AGE-SECRET-KEY-1... */
static char rec1[128], rec2[128];

static void
gen(char *key, char *rec)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_identity *id = NULL;
	struct sotto_age_recipient *r = NULL;
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;

	assert_int_equal(sotto_age_identity_generate(&id, &e), SOTTO_OK);
	assert_int_equal(sotto_age_identity_string(&b, id, &e), SOTTO_OK);
	snprintf(key, 128, "%s", (char *)b.data);
	if (rec != NULL) {
		assert_int_equal(sotto_age_identity_to_recipient(&r, id, &e),
		    SOTTO_OK);
		snprintf(rec, 128, "%s", sotto_age_recipient_string(r));
		sotto_age_recipient_free(r);
	}
	sotto_buf_release(&b);
	sotto_age_identity_free(id);
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
clear_env(void)
{
	static const char *vars[] = {
		"SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD",
		"SOPS_AGE_KEY_FD", "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
		"SOPS_AGE_SSH_PRIVATE_KEY_CMD",
	};
	char empty[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	/* no default keys.txt: point XDG and HOME into an empty dir */
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	setenv("XDG_CONFIG_HOME", empty, 1);
	setenv("HOME", empty, 1);
}

static int
setup(void **state)
{
	char p[PATH_MAX];

	(void)state;
	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/empty", dir);
	mkdir(p, 0700);
	gen(key1, rec1);
	gen(key2, rec2);
	gen(key3, NULL);
	return 0;
}

static int
teardown(void **state)
{
	char p[PATH_MAX];
	static const char *files[] = {
		"keys.txt", "xdg/sops/age/keys.txt", "comments.txt",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/xdg/sops/age", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/xdg/sops", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/xdg", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/empty", dir);
	rmdir(p);
	rmdir(dir);
	return 0;
}

static void
test_nothing(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_idlist l = { NULL, 0 };

	(void)state;
	clear_env();
	assert_int_equal(sotto_keys_load_identities(&l, NULL, NULL, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 0);
}

static void
test_inline(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_idlist l = { NULL, 0 };
	struct sotto_buf src = SOTTO_BUF_INIT;
	char v[1024];

	(void)state;
	clear_env();
	snprintf(v, sizeof(v), "# created: now\n\n  %s \t%s\r\n# x\n%s\n",
	    key1, key2, key3);
	setenv("SOPS_AGE_KEY", v, 1);
	assert_int_equal(sotto_keys_load_identities(&l, NULL, &src, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 3);
	assert_non_null(strstr((char *)src.data, "SOPS_AGE_KEY: 3 keys"));
	assert_null(strstr((char *)src.data, "AGE-SECRET-KEY"));
	sotto_age_idlist_free(&l);
	sotto_buf_release(&src);

	/* empty or comment-only: no keys, no error */
	setenv("SOPS_AGE_KEY", "# nothing\n", 1);
	assert_int_equal(sotto_keys_load_identities(&l, NULL, NULL, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 0);

	/* a bad key is an error naming the source, never the value */
	setenv("SOPS_AGE_KEY", "AGE-SECRET-KEY-1NOTAKEYATALL", 1);
	assert_int_not_equal(sotto_keys_load_identities(&l, NULL, NULL, &e),
	    SOTTO_OK);
	assert_non_null(strstr(e.msg, "SOPS_AGE_KEY"));
	assert_null(strstr(e.msg, "NOTAKEY"));
	sotto_age_idlist_free(&l);
}

static void
test_file_and_default(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_idlist l = { NULL, 0 };
	struct sotto_buf src = SOTTO_BUF_INIT;
	char p[PATH_MAX], v[512];

	(void)state;
	clear_env();
	snprintf(p, sizeof(p), "%s/keys.txt", dir);
	snprintf(v, sizeof(v), "# public key: %s\n%s\n%s\n", rec1, key1,
	    key2);
	write_file(p, v);
	setenv("SOPS_AGE_KEY_FILE", p, 1);
	assert_int_equal(sotto_keys_load_identities(&l, NULL, &src, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 2);
	assert_non_null(strstr((char *)src.data, "SOPS_AGE_KEY_FILE="));
	sotto_age_idlist_free(&l);
	sotto_buf_release(&src);

	/* default file under XDG_CONFIG_HOME, loaded as well (all sources) */
	snprintf(p, sizeof(p), "%s/xdg", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/xdg/sops", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/xdg/sops/age", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/xdg/sops/age/keys.txt", dir);
	snprintf(v, sizeof(v), "%s\n", key3);
	write_file(p, v);
	snprintf(p, sizeof(p), "%s/xdg", dir);
	setenv("XDG_CONFIG_HOME", p, 1);
	assert_int_equal(sotto_keys_load_identities(&l, NULL, NULL, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 3);
	sotto_age_idlist_free(&l);

	/* only the default */
	unsetenv("SOPS_AGE_KEY_FILE");
	assert_int_equal(sotto_keys_load_identities(&l, NULL, NULL, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 1);
	sotto_age_idlist_free(&l);

	/* HOME fallback: ~/.config/sops/age/keys.txt (missing: fine) */
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(sotto_keys_load_identities(&l, NULL, NULL, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 0);
}

static void
test_missing_file(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_idlist l = { NULL, 0 };
	struct sotto_keys_opts o = { .strict = true };
	struct sotto_buf src = SOTTO_BUF_INIT;

	(void)state;
	clear_env();
	setenv("SOPS_AGE_KEY_FILE", "/nonexistent/keys.txt", 1);
	assert_int_equal(sotto_keys_load_identities(&l, NULL, NULL, &e),
	    SOTTO_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "/nonexistent/keys.txt"));

	/* like sops: not fatal when another source has keys ... */
	setenv("SOPS_AGE_KEY", key1, 1);
	assert_int_equal(sotto_keys_load_identities(&l, NULL, &src, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr((char *)src.data, "/nonexistent/keys.txt"));
	sotto_age_idlist_free(&l);
	sotto_buf_release(&src);

	/* ... unless strict */
	assert_int_equal(sotto_keys_load_identities(&l, &o, NULL, &e),
	    SOTTO_E_NOTFOUND);
	sotto_age_idlist_free(&l);
}

static void
test_cmd(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_idlist l = { NULL, 0 };
	struct sotto_buf out = SOTTO_BUF_INIT;
	char p[PATH_MAX], cmd[PATH_MAX + 32], v[512];

	(void)state;
	clear_env();
	snprintf(p, sizeof(p), "%s/keys.txt", dir);
	snprintf(v, sizeof(v), "%s\n%s\n", key1, key2);
	write_file(p, v);
	snprintf(cmd, sizeof(cmd), "cat '%s'", p);
	setenv("SOPS_AGE_KEY_CMD", cmd, 1);
	assert_int_equal(sotto_keys_load_identities(&l, NULL, NULL, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 2);
	sotto_age_idlist_free(&l);

	/* a failing command: named by its first word only */
	setenv("SOPS_AGE_KEY_CMD", "false --secret-arg", 1);
	assert_int_equal(sotto_keys_load_identities(&l, NULL, NULL, &e),
	    SOTTO_E_IO);
	assert_non_null(strstr(e.msg, "'false'"));
	assert_non_null(strstr(e.msg, "exit status 1"));
	assert_null(strstr(e.msg, "secret-arg"));

	setenv("SOPS_AGE_KEY_CMD", "/nonexistent/prog x", 1);
	assert_int_equal(sotto_keys_load_identities(&l, NULL, NULL, &e),
	    SOTTO_E_NOTFOUND);

	setenv("SOPS_AGE_KEY_CMD", "echo 'unterminated", 1);
	assert_int_equal(sotto_keys_load_identities(&l, NULL, NULL, &e),
	    SOTTO_E_USAGE);

	/* SOPS_AGE_RECIPIENT reaches the child; quoting works */
	assert_int_equal(sotto_keys_run_command(&out,
	    "sh -c 'printf \"%s|%s\" \"$SOPS_AGE_RECIPIENT\" \"a b\"'",
	    "test", "age1xyz", 1024, &e), SOTTO_OK);
	assert_string_equal((char *)out.data, "age1xyz|a b");
	sotto_buf_release(&out);

	/* output cap */
	assert_int_equal(sotto_keys_run_command(&out, "yes", "test", NULL,
	    100000, &e), SOTTO_E_LIMIT);
	assert_int_equal(out.len, 0);
	sotto_buf_release(&out);
}

static void
test_split(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	char **argv = NULL;

	(void)state;
	assert_int_equal(sotto_keys_split_command(&argv,
	    "  a 'b c' \"d \\\"e\\\\\" f\\ g h''i ", &e), SOTTO_OK);
	assert_string_equal(argv[0], "a");
	assert_string_equal(argv[1], "b c");
	assert_string_equal(argv[2], "d \"e\\");
	assert_string_equal(argv[3], "f g");
	assert_string_equal(argv[4], "hi");
	assert_null(argv[5]);
	sotto_keys_argv_free(argv);
	assert_int_equal(sotto_keys_split_command(&argv, "   ", &e),
	    SOTTO_E_USAGE);
	assert_int_equal(sotto_keys_split_command(&argv, "a \"b", &e),
	    SOTTO_E_USAGE);
}

static void
test_fd(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_idlist l = { NULL, 0 };
	char num[16];
	int fds[2];

	(void)state;
	clear_env();
	assert_int_equal(pipe(fds), 0);
	assert_true(write(fds[1], key1, strlen(key1)) > 0);
	close(fds[1]);
	snprintf(num, sizeof(num), "%d", fds[0]);
	setenv("SOPS_AGE_KEY_FD", num, 1);
	assert_int_equal(sotto_keys_load_identities(&l, NULL, NULL, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 1);
	sotto_age_idlist_free(&l);
	close(fds[0]);
	setenv("SOPS_AGE_KEY_FD", "x", 1);
	assert_int_equal(sotto_keys_load_identities(&l, NULL, NULL, &e),
	    SOTTO_E_USAGE);
	unsetenv("SOPS_AGE_KEY_FD");
}

static void
test_recipients(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_reclist l = { NULL, 0 };
	char v[512];

	(void)state;
	snprintf(v, sizeof(v), " %s ,, %s,", rec1, rec2);
	assert_int_equal(sotto_keys_parse_recipients(&l, v, &e), SOTTO_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(sotto_age_recipient_string(l.v[0]), rec1);
	assert_string_equal(sotto_age_recipient_string(l.v[1]), rec2);
	sotto_age_reclist_free(&l);

	assert_int_equal(sotto_keys_parse_recipients(&l, "", &e), SOTTO_OK);
	assert_int_equal(l.n, 0);

	snprintf(v, sizeof(v), "%s,age1bogus", rec1);
	assert_int_not_equal(sotto_keys_parse_recipients(&l, v, &e),
	    SOTTO_OK);
	assert_non_null(strstr(e.msg, "recipient 2"));
	sotto_age_reclist_free(&l);

	/* a secret key by mistake is never echoed */
	assert_int_not_equal(sotto_keys_parse_recipients(&l, key1, &e),
	    SOTTO_OK);
	assert_null(strstr(e.msg, key1 + 16));
	assert_non_null(strstr(e.msg, "recipient 1"));
	sotto_age_reclist_free(&l);
}

/* The key command runs per recipient until a group has its identity. */
static void
test_cmd_per_recipient(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_idlist l = { NULL, 0 };
	struct sotto_buf src = SOTTO_BUF_INIT;
	struct sotto_keys_target t[3];
	struct sotto_keys_opts o;
	char p[PATH_MAX], log[PATH_MAX], cmd[3 * PATH_MAX], v[512];
	FILE *f;
	int runs = 0, c;

	(void)state;
	clear_env();
	snprintf(p, sizeof(p), "%s/k1.txt", dir);
	snprintf(v, sizeof(v), "%s\n", key1);
	write_file(p, v);
	snprintf(log, sizeof(log), "%s/runs.log", dir);
	unlink(log);
	/* prints key1 only when asked for rec1; logs every run */
	snprintf(cmd, sizeof(cmd), "sh -c 'echo \"$SOPS_AGE_RECIPIENT\" "
	    ">>%s; [ \"$SOPS_AGE_RECIPIENT\" = %s ] && cat %s; exit 0'",
	    log, rec1, p);
	setenv("SOPS_AGE_KEY_CMD", cmd, 1);
	t[0].recipient = rec2;		/* group 0: rec2 then rec1 */
	t[0].group = 0;
	t[1].recipient = rec1;
	t[1].group = 0;
	t[2].recipient = rec2;		/* not tried: group 0 is done */
	t[2].group = 0;
	memset(&o, 0, sizeof(o));
	o.targets = t;
	o.ntargets = 3;
	assert_int_equal(sotto_keys_load_identities(&l, &o, &src, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 1);
	f = fopen(log, "r");
	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		runs += c == '\n';
	fclose(f);
	assert_int_equal(runs, 2);
	assert_non_null(strstr((char *)src.data, "SOPS_AGE_KEY_CMD for "));
	assert_non_null(strstr((char *)src.data, ": no keys\n"));
	assert_non_null(strstr((char *)src.data, ": 1 key\n"));
	sotto_age_idlist_free(&l);
	sotto_buf_release(&src);

	/* report_only: a failing command is reported, never an error */
	setenv("SOPS_AGE_KEY_CMD", "/nonexistent/prog", 1);
	o.report_only = true;
	assert_int_equal(sotto_keys_load_identities(&l, &o, &src, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 0);
	assert_non_null(strstr((char *)src.data, "cannot run "
	    "'/nonexistent/prog' from SOPS_AGE_KEY_CMD for "));
	sotto_buf_release(&src);
	/* NO_CMDS skips it, CMDS_ONLY reads nothing else */
	o.report_only = false;
	o.which = SOTTO_KEYS_NO_CMDS;
	setenv("SOPS_AGE_KEY", key2, 1);
	assert_int_equal(sotto_keys_load_identities(&l, &o, &src, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 1);
	assert_null(strstr((char *)src.data, "SOPS_AGE_KEY_CMD"));
	sotto_age_idlist_free(&l);
	sotto_buf_release(&src);
	o.which = SOTTO_KEYS_CMDS_ONLY;
	assert_int_not_equal(sotto_keys_load_identities(&l, &o, &src, &e),
	    SOTTO_OK);
	assert_int_equal(l.n, 0);
	assert_null(strstr((char *)src.data, "SOPS_AGE_KEY:"));
	sotto_buf_release(&src);
	unsetenv("SOPS_AGE_KEY_CMD");
	unsetenv("SOPS_AGE_KEY");
	unlink(log);
	unlink(p);
}

/* Every place tried is reported, set or not. */
static void
test_sources_report(void **state)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_idlist l = { NULL, 0 };
	struct sotto_buf src = SOTTO_BUF_INIT;
	struct sotto_keys_opts o;

	(void)state;
	clear_env();
	memset(&o, 0, sizeof(o));
	o.include_ssh_defaults = true;
	setenv("SOPS_AGE_KEY_FILE", "/nonexistent/k.txt", 1);
	assert_int_equal(sotto_keys_load_identities(&l, &o, &src, &e),
	    SOTTO_E_NOTFOUND);
	assert_string_equal(e.msg, "SOPS_AGE_KEY_FILE=/nonexistent/k.txt: "
	    "no such file");
	assert_non_null(strstr((char *)src.data, "SOPS_AGE_KEY: not set\n"
	    "SOPS_AGE_KEY_FILE=/nonexistent/k.txt: no such file\n"
	    "SOPS_AGE_SSH_PRIVATE_KEY_FILE: not set\n"));
	assert_non_null(strstr((char *)src.data, "/.ssh/id_ed25519: not "
	    "found\n"));
	assert_non_null(strstr((char *)src.data, "/.ssh/id_rsa: not found\n"));
	assert_non_null(strstr((char *)src.data, "sops/age/keys.txt: not "
	    "found\n"));
	assert_non_null(strstr((char *)src.data, "SOPS_AGE_KEY_CMD: not "
	    "set\nSOPS_AGE_SSH_PRIVATE_KEY_CMD: not set\n"));
	sotto_buf_release(&src);
	unsetenv("SOPS_AGE_KEY_FILE");
}

static void
test_recipient_equal(void **state)
{
	struct sotto_node *meta, *grp, *seq, *ent, *kg;
	struct sotto_keys_target *t = NULL;
	size_t n = 0;
	const char *ed = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID+Wi8WZw2bXf";

	(void)state;
	assert_true(sotto_keys_recipient_equal(rec1, rec1));
	assert_false(sotto_keys_recipient_equal(rec1, rec2));
	assert_true(sotto_keys_recipient_equal(ed, "ssh-ed25519 "
	    "AAAAC3NzaC1lZDI1NTE5AAAAID+Wi8WZw2bXf user@host"));
	assert_true(sotto_keys_recipient_equal("ssh-ed25519 "
	    "AAAAC3NzaC1lZDI1NTE5AAAAID+Wi8WZw2bXf a", "ssh-ed25519\t"
	    "AAAAC3NzaC1lZDI1NTE5AAAAID+Wi8WZw2bXf b"));
	assert_false(sotto_keys_recipient_equal(ed, "ssh-ed25519 "
	    "AAAAC3NzaC1lZDI1NTE5AAAAID+Wi8WZw2bX"));
	assert_false(sotto_keys_recipient_equal(ed, "ssh-rsa "
	    "AAAAC3NzaC1lZDI1NTE5AAAAID+Wi8WZw2bXf"));

	/* targets: every key group's age entries, in order */
	meta = sotto_tree_new_map();
	kg = sotto_tree_new_seq();
	assert_non_null(meta);
	assert_non_null(kg);
	for (int g = 0; g < 2; g++) {
		grp = sotto_tree_new_map();
		seq = sotto_tree_new_seq();
		ent = sotto_tree_new_map();
		assert_int_equal(sotto_tree_map_add(ent, "recipient", 9,
		    sotto_tree_new_scalar(SOTTO_T_STR, g ? rec2 : rec1,
		    strlen(rec1))), SOTTO_OK);
		assert_int_equal(sotto_tree_seq_add(seq, ent), SOTTO_OK);
		assert_int_equal(sotto_tree_map_add(grp, "age", 3, seq),
		    SOTTO_OK);
		assert_int_equal(sotto_tree_seq_add(kg, grp), SOTTO_OK);
	}
	assert_int_equal(sotto_tree_map_add(meta, "key_groups", 10, kg),
	    SOTTO_OK);
	assert_int_equal(sotto_keys_targets(&t, &n, meta), SOTTO_OK);
	assert_int_equal(n, 2);
	assert_string_equal(t[0].recipient, rec1);
	assert_int_equal(t[0].group, 0);
	assert_string_equal(t[1].recipient, rec2);
	assert_int_equal(t[1].group, 1);
	free(t);
	sotto_tree_node_free(meta, false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_file_and_default),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_cmd),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_fd),
		cmocka_unit_test(test_recipients),
		cmocka_unit_test(test_cmd_per_recipient),
		cmocka_unit_test(test_sources_report),
		cmocka_unit_test(test_recipient_equal),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
