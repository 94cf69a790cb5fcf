/* SPDX-License-Identifier: ISC */
/*
 * `sotto exec-env FILE CMD` and `sotto exec-file FILE CMD`: run a command
 * with the decrypted values, as sops does.  exec-env puts the top-level
 * values in the child's environment (nothing touches the disk); exec-file
 * hands the child the plaintext through a FIFO (or, with --no-fifo, a
 * 0600 file) in a private tmpfs directory that is wiped and removed when
 * the child ends, on signals too.  The child inherits none of the
 * variables that locate sotto's keys.  CMD is a shell command string run
 * with /bin/sh -c: that is sops' contract, and the one place sotto uses a
 * shell.  The child's exit status becomes ours.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "sotto/gofmt.h"
#include "sotto/io.h"

extern char **environ;

struct exec_opts {
	enum cli_mode mode;
	bool file;			/* exec-file, else exec-env */
	bool pristine;			/* exec-env: only decrypted vars */
	bool same_process;		/* exec-env: exec instead of spawn */
	bool background;		/* deprecated: do not wait */
	bool no_fifo;			/* exec-file: a regular file */
	bool ignore_mac;
	const char *filename;		/* exec-file: name in the dir */
	const char *input_type, *output_type;
	const char *user;		/* --user (refused) */
};

static const char exec_env_usage[] =
    "usage: {P} exec-env [options] FILE COMMAND\n"
    "\n"
    "Decrypts FILE and runs COMMAND (with /bin/sh -c) with each top-level\n"
    "key of FILE as an environment variable.  Nothing is written to disk.\n"
    "Numbers, booleans and times are printed as sops prints them; a list\n"
    "or map value is refused (as in sops).  The exit status is COMMAND's.\n"
    "COMMAND does not inherit the SOPS_AGE_KEY* variables.\n"
    "\n"
    "options:\n"
    "      --pristine          pass only the decrypted values, not the\n"
    "                          current environment\n"
    "      --same-process      replace sotto with COMMAND (no child)\n"
    "      --background        do not wait for COMMAND (deprecated)\n"
    "      --ignore-mac        do not verify the MAC\n"
    "      --input-type T      yaml, json, dotenv, ini or binary\n"
    "      --user NAME         (not supported by sotto)\n"
    "  -h, --help              show this help\n";

static const char exec_file_usage[] =
    "usage: {P} exec-file [options] FILE COMMAND\n"
    "\n"
    "Decrypts FILE into a FIFO (default) or a 0600 file in a private tmpfs\n"
    "directory and runs COMMAND (with /bin/sh -c), where every '{}' is\n"
    "replaced by that path.  The directory is wiped and removed when\n"
    "COMMAND ends.  The exit status is COMMAND's.  COMMAND does not\n"
    "inherit the SOPS_AGE_KEY* variables.\n"
    "\n"
    "options:\n"
    "      --no-fifo           use a regular 0600 file instead of a FIFO\n"
    "      --filename NAME     name of the file (default: tmp-file)\n"
    "      --background        do not wait for COMMAND (deprecated)\n"
    "      --ignore-mac        do not verify the MAC\n"
    "      --input-type T      yaml, json, dotenv, ini or binary\n"
    "      --output-type T     format of the plaintext (default: input)\n"
    "      --user NAME         (not supported by sotto)\n"
    "  -h, --help              show this help\n";

/* Free with free_env(): each "K=V" string is wiped. */
static void
free_env(char **env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++) {
		sodium_memzero(env[i], strlen(env[i]));
		free(env[i]);
	}
	free(env);
}

static bool
env_overridden(const char *kv, const struct sotto_node *top)
{
	size_t i, kl = strcspn(kv, "=");

	for (i = 0; i < top->n; i++)
		if (top->items[i].key != NULL && top->items[i].keylen == kl &&
		    memcmp(top->items[i].key, kv, kl) == 0)
			return true;
	return false;
}

/*
 * The variables that tell sotto where its age keys are (SOPS_AGE_KEY,
 * SOPS_AGE_KEY_FILE, _FD, _CMD, SOPS_AGE_SSH_PRIVATE_KEY_FILE, _CMD and any
 * other of those prefixes): the child needs the decrypted values, not the
 * means to decrypt everything else.  sops passes them on; sotto does not.
 */
static bool
is_key_var(const char *kv)
{
	return strncmp(kv, "SOPS_AGE_KEY", 12) == 0 ||
	    strncmp(kv, "SOPS_AGE_SSH_PRIVATE_KEY", 24) == 0;
}

/*
 * Builds the child's environment: the current one (unless pristine) less
 * the key variables, with the decrypted top-level values of top (may be
 * NULL: exec-file) added last, as sops does.  A decrypted value is passed
 * whatever its name: the file asked for it.
 */
static sotto_err
build_env(char ***out, const struct sotto_node *top, bool pristine,
    struct sotto_error *e)
{
	static const struct sotto_node none;
	size_t n = 0, i, j = 0;
	char **env;

	if (top == NULL)
		top = &none;
	for (i = 0; environ != NULL && environ[i] != NULL; i++)
		n++;
	env = calloc(n + top->n + 1, sizeof(*env));
	if (env == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	for (i = 0; !pristine && i < n; i++)
		if (!is_key_var(environ[i]) &&
		    !env_overridden(environ[i], top) &&
		    (env[j++] = strdup(environ[i])) == NULL)
			goto nomem;
	for (i = 0; i < top->n; i++) {
		const struct sotto_entry *it = &top->items[i];
		struct sotto_buf kv = SOTTO_BUF_SECRET_INIT;

		if (it->key == NULL || it->val->kind == SOTTO_NODE_COMMENT)
			continue;
		if (it->val->kind != SOTTO_NODE_SCALAR) {
			free_env(env);
			return sotto_error_set(e, SOTTO_E_USAGE, "cannot use "
			    "complex value in environment; offending key "
			    "'%.64s' (a %s)", it->key, it->val->kind ==
			    SOTTO_NODE_SEQ ? "list" : "map");
		}
		if (memchr(it->key, '=', it->keylen) != NULL) {
			free_env(env);
			return sotto_error_set(e, SOTTO_E_USAGE, "cannot use "
			    "keys with '=' in environment: '%.64s'", it->key);
		}
		if (sotto_buf_add(&kv, it->key, it->keylen) ||
		    sotto_buf_addch(&kv, '=') ||
		    sotto_store_val_to_string(&kv, it->val)) {
			sotto_buf_release(&kv);
			goto nomem;
		}
		env[j++] = (char *)sotto_buf_detach(&kv, NULL);
	}
	env[j] = NULL;
	*out = env;
	return SOTTO_OK;
nomem:
	free_env(env);
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

static sotto_err
spawn_shell(pid_t *pid, const char *cmd, char **env, struct sotto_error *e)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	int r;

	r = posix_spawn(pid, "/bin/sh", NULL, NULL, argv, env);
	if (r != 0)
		return sotto_error_set(e, SOTTO_E_IO, "cannot run /bin/sh: %s",
		    strerror(r));
	return SOTTO_OK;
}

static int
run_exec_env(const struct exec_opts *o, struct cli_sfile *f,
    const char *cmd)
{
	struct sotto_error e = { SOTTO_OK, "" };
	char **env = NULL;
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	pid_t pid;
	int st, rc;

	if (build_env(&env, f->doc->branches[0], o->pristine, &e)) {
		cli_error(cli_prog(o->mode), &e);
		return e.code == SOTTO_E_NOMEM ? 1 : 1;	/* sops: generic */
	}
	cli_sfile_free(f);	/* wipes the decrypted tree */
	if (o->same_process) {
		execve("/bin/sh", argv, env);
		sotto_error_set(&e, SOTTO_E_IO, "cannot run /bin/sh: %s",
		    strerror(errno));
		free_env(env);
		return cli_fail(o->mode, &e);
	}
	if (spawn_shell(&pid, cmd, env, &e) != SOTTO_OK) {
		free_env(env);
		return cli_fail(o->mode, &e);
	}
	free_env(env);
	if (o->background)
		return 0;
	/* like a shell: the child alone reacts to ^C */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	rc = cli_wait_child(pid, &st, false) == 0 ?
	    cli_child_exit_code(st) : 1;
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	return rc;
}

/* Replaces every "{}" in cmd by path (a new string). */
static char *
placeholder(const char *cmd, const char *path)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	const char *s;

	for (s = cmd; *s != '\0'; s++) {
		if (s[0] == '{' && s[1] == '}') {
			if (sotto_buf_addstr(&b, path))
				goto nomem;
			s++;
		} else if (sotto_buf_addch(&b, *s)) {
			goto nomem;
		}
	}
	if (b.data == NULL && sotto_buf_addstr(&b, ""))
		goto nomem;
	return (char *)sotto_buf_detach(&b, NULL);
nomem:
	sotto_buf_release(&b);
	return NULL;
}

static void
nap_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Feeds the plaintext to the FIFO while the child runs: open without
 * blocking (ENXIO until the child opens it for reading), then write with
 * poll().  Gives up quietly when the child exits without reading.
 * WARNING: opens a FIFO outside core/io.c; io.c has no non-blocking open.
 */
static void
feed_fifo(const char *path, const struct sotto_buf *pt, pid_t pid, int *st,
    bool *reaped)
{
	struct pollfd pfd;
	size_t off = 0;
	ssize_t w;
	int fd = -1;

	while (fd < 0) {
		if (cli_signals_pending())
			return;
		if (waitpid(pid, st, WNOHANG) == pid) {
			*reaped = true;
			return;
		}
		fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 && errno != ENXIO && errno != EINTR)
			return;
		if (fd < 0)
			nap_ms(5);
	}
	while (off < pt->len && !cli_signals_pending()) {
		w = write(fd, pt->data + off, pt->len - off);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			break;		/* EPIPE: the reader went away */
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 50) == 0 &&
		    waitpid(pid, st, WNOHANG) == pid) {
			*reaped = true;
			break;
		}
	}
	(void)close(fd);
}

static int
run_exec_file(const struct exec_opts *o, struct cli_sfile *f,
    const char *cmd)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf pt = SOTTO_BUF_SECRET_INIT;
	const struct sotto_store *os;
	struct sotto_emit_opts eo = { -1 };
	char dir[PATH_MAX] = "", path[PATH_MAX];
	char *full = NULL, **env = NULL;
	const char *name = o->filename ? o->filename : "tmp-file";
	bool reaped = false;
	pid_t pid;
	int st = 0, rc = 1, sig;
	sotto_err err;

	if (strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || name[0] == '\0') {
		sotto_error_set(&e, SOTTO_E_USAGE, "--filename must be a plain "
		    "file name, not '%s'", name);
		return cli_fail(o->mode, &e);
	}
	if ((os = cli_pick_store(o->output_type ? o->output_type :
	    f->store->name, f->path, &e)) == NULL ||
	    (os == f->store ? os->emit_splice(&pt, f->doc, NULL, &e) :
	    os->emit(&pt, f->doc, NULL, &eo, &e)) != SOTTO_OK)
		return cli_fail(o->mode, &e);
	cli_sfile_free(f);
	signal(SIGPIPE, SIG_IGN);
	cli_signals_catch();
	if (cli_tmpdir_create(dir, sizeof(dir), o->mode, &e) != SOTTO_OK)
		goto fail;
	/* a FIFO's bytes never reach the disk; a --no-fifo file may */
	if (o->no_fifo && !cli_tmpdir_on_tmpfs(dir))
		cli_warnf(cli_prog(o->mode), "'%s' is not on tmpfs: the "
		    "plaintext file is written to disk there; set "
		    "XDG_RUNTIME_DIR to a tmpfs directory such as /dev/shm",
		    dir);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		sotto_error_set(&e, SOTTO_E_IO, "file name too long");
		goto fail;
	}
	if (!o->no_fifo && mkfifo(path, 0600) != 0) {
		sotto_error_set(&e, SOTTO_E_IO, "cannot create a FIFO in '%s': "
		    "%s", dir, strerror(errno));
		goto fail;
	}
	if (o->no_fifo &&
	    sotto_io_write_new(path, pt.data, pt.len, 0600, &e) != SOTTO_OK)
		goto fail;
	if ((full = placeholder(cmd, path)) == NULL) {
		sotto_error_set(&e, SOTTO_E_NOMEM, "out of memory");
		goto fail;
	}
	if (build_env(&env, NULL, false, &e) != SOTTO_OK)
		goto fail;
	err = spawn_shell(&pid, full, env, &e);
	free_env(env);
	env = NULL;
	if (err != SOTTO_OK)
		goto fail;
	if (o->background) {
		/* sops leaves the file to the child; we cannot wait */
		cli_warnf(cli_prog(o->mode), "--background is deprecated; "
		    "the plaintext is removed when sotto exits");
	}
	if (!o->no_fifo)
		feed_fifo(path, &pt, pid, &st, &reaped);
	sotto_buf_release(&pt);
	if (!reaped && cli_wait_child(pid, &st, true) != 0)
		st = 1 << 8;
	rc = cli_child_exit_code(st);
	goto out;
fail:
	rc = cli_fail(o->mode, &e);
out:
	free(full);
	sotto_buf_release(&pt);
	cli_tmpdir_remove(dir);
	if ((sig = cli_signals_pending()) != 0)
		return cli_signals_exit(sig, o->mode);
	cli_signals_restore();
	return rc;
}

static int
exec_main(int argc, char **argv, enum cli_mode mode, bool file)
{
	static const struct option lo[] = {
		{ "pristine", no_argument, NULL, 'P' },
		{ "same-process", no_argument, NULL, 'S' },
		{ "background", no_argument, NULL, 'B' },
		{ "no-fifo", no_argument, NULL, 'N' },
		{ "filename", required_argument, NULL, 'F' },
		{ "user", required_argument, NULL, 'U' },
		{ "ignore-mac", no_argument, NULL, 'm' },
		{ "input-type", required_argument, NULL, 't' },
		{ "output-type", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'V' },
		{ "disable-version-check", no_argument, NULL, 'V' },
		{ "enable-local-keyservice", no_argument, NULL, 'V' },
		{ "keyservice", required_argument, NULL, 'V' },
		{ "config", required_argument, NULL, 'V' },
		{ "indent", required_argument, NULL, 'V' },
		{ "decryption-order", required_argument, NULL,
		    CLI_OPT_DECRYPTION_ORDER },
		{ NULL, 0, NULL, 0 },
	};
	struct sotto_error e = { SOTTO_OK, "" };
	struct exec_opts o;
	struct cli_sfile f;
	int c, rc;

	memset(&o, 0, sizeof(o));
	o.mode = mode;
	o.file = file;
	/* flags after FILE are parsed, as sops does; COMMAND may start
	 * with '-' */
	cli_set_decryption_order(NULL);
	cli_reorder_args(argc, argv, "h", lo, false);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 'P': o.pristine = true; break;
		case 'S': o.same_process = true; break;
		case 'B': o.background = true; break;
		case 'N': o.no_fifo = true; break;
		case 'F': o.filename = optarg; break;
		case 'U': o.user = optarg; break;
		case 'm': o.ignore_mac = true; break;
		case 't': o.input_type = optarg; break;
		case 'o': o.output_type = optarg; break;
		case 'V': break;
		case CLI_OPT_DECRYPTION_ORDER:
			cli_set_decryption_order(optarg);
			break;
		case 'h':
			cli_print_template(stdout, file ? exec_file_usage :
			    exec_env_usage, cli_prog(mode), "");
			return 0;
		default:
			return cli_exit_status(SOTTO_E_USAGE, mode);
		}
	}
	if (argc - optind != 2) {
		cli_errorf(cli_prog(mode), "missing file to decrypt (usage: "
		    "%s %s FILE COMMAND)", cli_prog(mode), argv[0]);
		return 1;
	}
	if (o.same_process && o.background) {
		cli_errorf(cli_prog(mode), "the --same-process flag cannot be "
		    "used with --background");
		return cli_exit_status(SOTTO_E_CONFLICT, mode);
	}
	if (o.user != NULL) {
		cli_errorf(cli_prog(mode), "--user is not supported by sotto: "
		    "run sotto as that user instead");
		return 1;
	}
	if (o.background)
		cli_warnf(cli_prog(mode), "%s's --background option is "
		    "deprecated", argv[0]);
	if (cli_sfile_open(&f, argv[optind], o.input_type, o.ignore_mac,
	    &e) != SOTTO_OK) {
		cli_sfile_free(&f);
		return cli_fail(mode, &e);
	}
	if (f.doc->n == 0) {
		cli_sfile_free(&f);
		sotto_error_set(&e, SOTTO_E_NO_DOCUMENT, "no document");
		return cli_fail(mode, &e);
	}
	rc = file ? run_exec_file(&o, &f, argv[optind + 1]) :
	    run_exec_env(&o, &f, argv[optind + 1]);
	cli_sfile_free(&f);
	return rc;
}

int
cmd_exec_env(int argc, char **argv, enum cli_mode mode)
{
	return exec_main(argc, argv, mode, false);
}

int
cmd_exec_file(int argc, char **argv, enum cli_mode mode)
{
	return exec_main(argc, argv, mode, true);
}
