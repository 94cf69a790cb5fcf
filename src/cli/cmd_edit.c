/* SPDX-License-Identifier: ISC */
/*
 * `sotto edit FILE` (and `sops FILE`): decrypts FILE into a 0600 file in a
 * private 0700 directory on tmpfs (a warning says so when the directory
 * is not on tmpfs), runs $SOPS_EDITOR / $EDITOR (split
 * shell-like, started with posix_spawnp, never a shell) and re-encrypts on
 * save with the same data key, so every unchanged value keeps its exact
 * ciphertext (the session's IV stash) and only what the user changed, the
 * MAC and lastmodified differ.  A FILE that does not exist is created
 * from an example document with keys from the flags or .sops.yaml.
 *
 * Guarantees: the original is replaced only by a complete, valid,
 * encrypted document (atomic rename); the plaintext directory is wiped
 * and removed on every exit path: success, no change (exit 200), invalid
 * syntax, editor failure or crash, and SIGINT/SIGTERM/SIGHUP sent to
 * sotto.  A ^C typed at the terminal belongs to the editor (as in git).
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "sotto/config.h"
#include "sotto/io.h"
#include "sotto/keys.h"

extern char **environ;

struct edit_opts {
	enum cli_mode mode;
	const char *input_type;
	bool ignore_mac;
	struct cli_keyopts keys;	/* for a new file */
};

static const char edit_usage[] =
    "usage: {P} edit [options] FILE\n"
    "\n"
    "Decrypts FILE into a private temporary file on tmpfs, opens it in\n"
    "$SOPS_EDITOR or $EDITOR (else vim, nano or vi) and re-encrypts it when\n"
    "the editor exits.  Unchanged values keep their exact ciphertext.  A\n"
    "FILE that does not exist is created from an example, encrypted to the\n"
    "keys of --age/--pgp, SOPS_AGE_RECIPIENTS/SOPS_PGP_FP or .sops.yaml.\n"
    "Exit status 200: the file was not modified.\n"
    "\n"
    "options:\n"
    "      --ignore-mac                 do not verify the MAC\n"
    "      --input-type T               yaml, json, dotenv, ini or binary\n"
    "      --output-type T              accepted for sops compatibility\n"
    "  -a, --age R[,R...]               recipients of a new file\n"
    "  -p, --pgp FP[,FP...]             pgp keys of a new file (gpg)\n"
    "      --config PATH                .sops.yaml to use (env SOPS_CONFIG)\n"
    "      --unencrypted-suffix S       new file: keys ending in S stay clear\n"
    "      --encrypted-suffix S         new file: encrypt only keys ending in S\n"
    "      --unencrypted-regex RE       new file: keys matching RE stay clear\n"
    "      --encrypted-regex RE         new file: encrypt only keys matching RE\n"
    "      --shamir-secret-sharing-threshold N\n"
    "                                   new file: key groups needed\n"
    "  -s, --show-master-keys           (ignored: metadata is never shown)\n"
    "  -h, --help                       show this help\n";

static const char example_yaml[] =
    "hello: Welcome to SOPS! Edit this file as you please!\n"
    "example_key: example_value\n"
    "# Example comment\n"
    "example_array:\n"
    "    - example_value1\n"
    "    - example_value2\n"
    "example_number: 1234.56789\n"
    "example_booleans:\n"
    "    - true\n"
    "    - false\n";
static const char example_json[] =
    "{\n"
    "\t\"hello\": \"Welcome to SOPS! Edit this file as you please!\",\n"
    "\t\"example_key\": \"example_value\",\n"
    "\t\"example_array\": [\n"
    "\t\t\"example_value1\",\n"
    "\t\t\"example_value2\"\n"
    "\t],\n"
    "\t\"example_number\": 1234.56789,\n"
    "\t\"example_booleans\": [\n"
    "\t\ttrue,\n"
    "\t\tfalse\n"
    "\t]\n"
    "}";
static const char example_dotenv[] =
    "hello=Welcome to SOPS! Edit this file as you please!\n"
    "example_key=example_value\n";
static const char example_ini[] =
    "[example]\n"
    "hello = Welcome to SOPS! Edit this file as you please!\n"
    "example_key = example_value\n";
static const char example_binary[] =
    "Welcome to SOPS! Edit this file as you please!";

static const char *
example_for(const struct sotto_store *s)
{
	if (strcmp(s->name, "yaml") == 0)
		return example_yaml;
	if (strcmp(s->name, "json") == 0)
		return example_json;
	if (strcmp(s->name, "dotenv") == 0)
		return example_dotenv;
	if (strcmp(s->name, "ini") == 0)
		return example_ini;
	return example_binary;
}

/* True when an executable `name` is on PATH. */
static bool
on_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *q;
	char buf[PATH_MAX];

	for (p = path ? path : "/usr/bin:/bin"; *p != '\0'; p = q) {
		q = strchr(p, ':');
		if (q == NULL)
			q = p + strlen(p);
		if (snprintf(buf, sizeof(buf), "%.*s/%s", (int)(q - p), p,
		    name) < (int)sizeof(buf) && access(buf, X_OK) == 0)
			return true;
		if (*q == ':')
			q++;
	}
	return false;
}

/* The editor command line: a new argv ending in path. */
static sotto_err
editor_argv(char ***out, const char *path, struct sotto_error *e)
{
	static const char *const fallback[] = { "vim", "nano", "vi", NULL };
	const char *ed = getenv("SOPS_EDITOR");
	char **argv = NULL, **n;
	size_t i, k;

	if (ed == NULL || ed[0] == '\0')
		ed = getenv("EDITOR");
	if (ed == NULL || ed[0] == '\0') {
		for (i = 0; fallback[i] != NULL && !on_path(fallback[i]); i++)
			;
		if (fallback[i] == NULL)
			return sotto_error_set(e, SOTTO_E_NO_EDITOR, "no editor "
			    "found: set SOPS_EDITOR or EDITOR (vim, nano and vi "
			    "are not on PATH)");
		ed = fallback[i];
	}
	if (sotto_keys_split_command(&argv, ed, e) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_NO_EDITOR, "invalid editor "
		    "command in SOPS_EDITOR/EDITOR: %s", e->msg);
	for (k = 0; argv[k] != NULL; k++)
		;
	n = realloc(argv, (k + 2) * sizeof(*argv));
	if (n == NULL || (n[k] = strdup(path)) == NULL) {
		sotto_keys_argv_free(n ? n : argv);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	n[k + 1] = NULL;
	*out = n;
	return SOTTO_OK;
}

/*
 * Runs the editor on path and waits.  A signal sent to sotto (kill)
 * terminates the editor; one typed at the terminal is the editor's.
 */
static sotto_err
run_editor(const char *path, struct sotto_error *e)
{
	char **argv = NULL;
	pid_t pid;
	int r, st;
	sotto_err err;

	if ((err = editor_argv(&argv, path, e)) != SOTTO_OK)
		return err;
	r = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (r != 0) {
		err = sotto_error_set(e, SOTTO_E_NO_EDITOR, "could not run "
		    "editor '%s': %s", argv[0], strerror(r));
		goto out;
	}
	if (cli_wait_child(pid, &st, true) != 0) {
		err = sotto_error_set(e, SOTTO_E_NO_EDITOR, "lost the editor "
		    "process: %s", strerror(errno));
		goto out;
	}
	cli_signals_clear_tty();
	if (cli_signals_pending()) {
		err = sotto_error_set(e, SOTTO_E_INTERRUPTED, "interrupted");
		goto out;
	}
	if (WIFSIGNALED(st))
		err = sotto_error_set(e, SOTTO_E_NO_EDITOR, "could not run "
		    "editor: '%s' was killed by signal %d", argv[0],
		    WTERMSIG(st));
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		err = sotto_error_set(e, SOTTO_E_NO_EDITOR, "could not run "
		    "editor: '%s' exited with status %d", argv[0],
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
out:
	sotto_keys_argv_free(argv);
	return err;
}

/* Asks on the terminal whether to re-open the editor. */
static bool
ask_reopen(void)
{
	char c = 0, first = 0;
	ssize_t r;

	if (!isatty(STDIN_FILENO))
		return false;
	fprintf(stderr, "Re-open the editor to fix it? [Y/n] ");
	fflush(stderr);
	for (;;) {
		r = read(STDIN_FILENO, &c, 1);
		if (r < 0 && errno == EINTR && !cli_signals_pending() &&
		    !cli_signals_tty())
			continue;
		if (r <= 0)
			return false;
		if (first == 0)
			first = c;
		if (c == '\n')
			break;
	}
	return first != 'n' && first != 'N';
}

/* The edited plaintext, encrypted: into out. */
static sotto_err
encrypt_edited(struct sotto_buf *out, struct sotto_doc *nd,
    struct cli_sfile *f, struct sotto_sops_encrypt_opts *eo,
    struct sotto_error *e)
{
	struct sotto_buf warn = SOTTO_BUF_INIT;
	struct sotto_node *meta = NULL;
	sotto_err err;

	if (nd->n == 0)
		return sotto_error_set(e, SOTTO_E_NO_DOCUMENT, "the edited "
		    "file has no document; nothing to encrypt");
	if (f->sess != NULL) {
		err = sotto_sops_reencrypt(&meta, nd, f->sess, &warn, e);
	} else {
		eo->warnings = &warn;
		err = sotto_sops_encrypt(&meta, nd, eo, e);
		eo->warnings = NULL;
	}
	if (warn.len > 0)
		fputs((const char *)warn.data, stderr);
	sotto_buf_release(&warn);
	if (err == SOTTO_OK)
		err = f->store->emit_splice(out, nd, meta, e);
	sotto_tree_node_free(meta, false);
	return err;
}

/*
 * The edit loop: editor, compare, parse (re-opening on bad syntax at a
 * terminal), encrypt.  out receives the encrypted file.
 */
static sotto_err
edit_loop(struct sotto_buf *out, struct cli_sfile *f, const char *tmp,
    const struct sotto_buf *orig, struct sotto_sops_encrypt_opts *eo,
    enum cli_mode mode, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_buf ed = SOTTO_BUF_SECRET_INIT;
	struct sotto_doc *nd = NULL;
	sotto_err err;

	for (;;) {
		if ((err = run_editor(tmp, e)) != SOTTO_OK)
			break;
		sotto_buf_truncate(&ed, 0);
		if ((err = sotto_io_read_file(&ed, tmp, lim.max_bytes, e))) {
			sotto_error_prefix(e, "cannot read the edited file");
			break;
		}
		if (ed.len == orig->len && sodium_memcmp(ed.data, orig->data,
		    orig->len) == 0) {
			err = sotto_error_set(e, SOTTO_E_UNCHANGED, "file has "
			    "not been modified, exiting");
			break;
		}
		err = f->store->parse(&nd, ed.data, ed.len, f->path, &lim, e);
		if (err == SOTTO_OK) {
			nd->secret = true;
			err = encrypt_edited(out, nd, f, eo, e);
			if (err == SOTTO_OK || (err != SOTTO_E_NO_DOCUMENT &&
			    err != SOTTO_E_CONFLICT))
				break;
		}
		sotto_tree_doc_free(nd);
		nd = NULL;
		if (!isatty(STDIN_FILENO))
			break;
		cli_warnf(cli_prog(mode), "the edited file is invalid: %s",
		    e->msg);
		if (!ask_reopen())
			break;
		sotto_error_clear(e);
	}
	sotto_tree_doc_free(nd);
	sotto_buf_release(&ed);
	return err;
}

static int
edit_file(const struct edit_opts *o, const char *path)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf pt = SOTTO_BUF_SECRET_INIT, out = SOTTO_BUF_INIT;
	struct sotto_sops_encrypt_opts eo;
	struct sotto_config *cfg = NULL;
	struct cli_sfile f;
	char dir[PATH_MAX] = "", tmp[PATH_MAX], *pc = NULL;
	bool created = !sotto_io_exists(path);
	int rc, sig;

	memset(&eo, 0, sizeof(eo));
	memset(&f, 0, sizeof(f));
	/* a file that cannot be written back is refused before the editor
	 * opens, not after the user's work (read-only, hard links) */
	if (sotto_io_replace_check(path, &e) != SOTTO_OK)
		goto fail;
	if (created) {
		f.path = path;
		if ((f.store = cli_pick_store(o->input_type, path, &e)) ==
		    NULL || cli_sops_encryption_setup(&eo, &cfg, &o->keys, path,
		    &e) != SOTTO_OK || sotto_buf_addstr(&pt,
		    example_for(f.store)) != SOTTO_OK)
			goto fail;
	} else if (cli_sfile_open(&f, path, o->input_type, o->ignore_mac,
	    &e) != SOTTO_OK || f.store->emit_splice(&pt, f.doc, NULL,
	    &e) != SOTTO_OK) {
		goto fail;
	}
	cli_signals_catch();
	if ((pc = strdup(path)) == NULL) {
		sotto_error_set(&e, SOTTO_E_NOMEM, "out of memory");
		goto fail;
	}
	if (cli_tmpdir_create(dir, sizeof(dir), o->mode, &e) != SOTTO_OK)
		goto fail;
	/* a warning, not a refusal: sops writes to $TMPDIR without a word,
	 * and its users expect edit to work wherever they are */
	if (!cli_tmpdir_on_tmpfs(dir))
		cli_warnf(cli_prog(o->mode), "'%s' is not on tmpfs: the "
		    "plaintext being edited is written to disk there; set "
		    "XDG_RUNTIME_DIR to a tmpfs directory such as /dev/shm",
		    dir);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", dir, basename(pc)) >=
	    sizeof(tmp)) {
		sotto_error_set(&e, SOTTO_E_IO, "'%s': file name too long",
		    path);
		goto fail;
	}
	if (sotto_io_write_new(tmp, pt.data, pt.len, 0600, &e) != SOTTO_OK ||
	    edit_loop(&out, &f, tmp, &pt, &eo, o->mode, &e) != SOTTO_OK)
		goto fail;
	cli_tmpdir_remove(dir);
	dir[0] = '\0';
	if (cli_signals_pending()) {
		sotto_error_set(&e, SOTTO_E_INTERRUPTED, "interrupted");
		goto fail;
	}
	if (cli_write_encrypted(path, &out, &e) != SOTTO_OK)
		goto fail;
	rc = 0;
	goto out;
fail:
	cli_tmpdir_remove(dir);
	if ((sig = cli_signals_pending()) != 0) {
		rc = -sig;
		goto out;
	}
	if (e.code == SOTTO_E_UNCHANGED) {
		fprintf(stderr, "%s: %s\n", cli_prog(o->mode), e.msg);
		rc = cli_exit_status(e.code, o->mode);
	} else {
		rc = cli_fail(o->mode, &e);
	}
out:
	free(pc);
	cli_sfile_free(&f);
	cli_sops_encryption_free(&eo, cfg);
	sotto_buf_release(&pt);
	sotto_buf_release(&out);
	if (rc < 0)
		return cli_signals_exit(-rc, o->mode);
	cli_signals_restore();
	return rc;
}

static int
parse_num(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0 || v > 255)
		return -1;
	*out = (int)v;
	return 0;
}

int
cmd_edit(int argc, char **argv, enum cli_mode mode)
{
	enum { O_IT = 256, O_OT, O_IM, O_CFG, O_US, O_ES, O_UR, O_ER, O_SH,
	    O_IGN, O_IGNV };
	static const struct option lo[] = {
		{ "input-type", required_argument, NULL, O_IT },
		{ "output-type", required_argument, NULL, O_OT },
		{ "ignore-mac", no_argument, NULL, O_IM },
		{ "age", required_argument, NULL, 'a' },
		{ "pgp", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, O_CFG },
		{ "unencrypted-suffix", required_argument, NULL, O_US },
		{ "encrypted-suffix", required_argument, NULL, O_ES },
		{ "unencrypted-regex", required_argument, NULL, O_UR },
		{ "encrypted-regex", required_argument, NULL, O_ER },
		{ "shamir-secret-sharing-threshold", required_argument, NULL,
		    O_SH },
		{ "show-master-keys", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, O_IGN },
		{ "disable-version-check", no_argument, NULL, O_IGN },
		{ "enable-local-keyservice", no_argument, NULL, O_IGN },
		{ "mac-only-encrypted", no_argument, NULL, O_IGN },
		{ "indent", required_argument, NULL, O_IGNV },
		{ "keyservice", required_argument, NULL, O_IGNV },
		{ "decryption-order", required_argument, NULL,
		    CLI_OPT_DECRYPTION_ORDER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct edit_opts o;
	int c;

	memset(&o, 0, sizeof(o));
	o.mode = mode;
	o.keys.prog = cli_prog(mode);
	cli_set_decryption_order(NULL);
	cli_reorder_args(argc, argv, "a:p:sh", lo, true);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+a:p:sh", lo, NULL)) != -1) {
		switch (c) {
		case O_IT: o.input_type = optarg; break;
		case O_IM: o.ignore_mac = true; break;
		case 'a': o.keys.age = optarg; break;
		case 'p': o.keys.pgp = optarg; break;
		case O_CFG: o.keys.config = optarg; break;
		case O_US: o.keys.rules.unencrypted_suffix = optarg; break;
		case O_ES: o.keys.rules.encrypted_suffix = optarg; break;
		case O_UR: o.keys.rules.unencrypted_regex = optarg; break;
		case O_ER: o.keys.rules.encrypted_regex = optarg; break;
		case O_SH:
			if (parse_num(optarg, &o.keys.shamir) != 0) {
				cli_errorf(cli_prog(mode), "invalid Shamir "
				    "threshold '%s'", optarg);
				return cli_exit_status(SOTTO_E_USAGE, mode);
			}
			break;
		case 's':
			cli_warnf(cli_prog(mode), "--show-master-keys is "
			    "ignored: sotto edits the values only");
			break;
		case O_OT: case O_IGN: case O_IGNV: break;
		case CLI_OPT_DECRYPTION_ORDER:
			cli_set_decryption_order(optarg);
			break;
		case 'h':
			cli_print_template(stdout, edit_usage, cli_prog(mode),
			    "");
			return 0;
		default:
			return cli_exit_status(SOTTO_E_USAGE, mode);
		}
	}
	if (optind >= argc) {
		cli_errorf(cli_prog(mode), "no file specified");
		return cli_exit_status(SOTTO_E_NOTFOUND, mode);
	}
	if (argc - optind > 1)
		cli_warnf(cli_prog(mode), "more than one positional argument "
		    "provided; only the first one is used");
	return edit_file(&o, argv[optind]);
}
