/* SPDX-License-Identifier: ISC */
/*
 * `sotto hook install|uninstall [--pre-commit] [--pre-push]`: writes the
 * guard hook into the hooks directory (core.hooksPath honoured).  A hook
 * that is already there is kept as <name>.sotto-chained and run first,
 * never overwritten; installing twice changes nothing.  The hook calls
 * the absolute path of the binary that installed it, then `sotto` on
 * PATH, and refuses the commit when neither exists: it never passes
 * silently.
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sotto/guard.h"
#include "sotto/io.h"

#define HOOK_MARK "# sotto-guard-hook"
#define CHAIN_SUFFIX ".sotto-chained"

static const char hook_usage[] =
    "usage: sotto hook install [--pre-commit] [--pre-push] [-C DIR]\n"
    "       sotto hook uninstall [--pre-commit] [--pre-push] [-C DIR]\n"
    "\n"
    "Installs (or removes) the 'sotto guard' git hook.  Default: the\n"
    "pre-commit hook; --pre-push for the pre-push hook (give both for\n"
    "both).  The hooks directory is core.hooksPath when set.  An existing\n"
    "hook is kept as HOOK" CHAIN_SUFFIX " and run before the guard.\n"
    "See sotto-hook(1).\n";

/* Appends s single-quoted for sh. */
static sotto_err
sh_quote(struct sotto_buf *b, const char *s)
{
	sotto_err err = sotto_buf_addch(b, '\'');

	for (; err == SOTTO_OK && *s != '\0'; s++)
		err = *s == '\'' ? sotto_buf_addstr(b, "'\\''") :
		    sotto_buf_addch(b, *s);
	return err ? err : sotto_buf_addch(b, '\'');
}

static sotto_err
hook_script(struct sotto_buf *b, const char *name, const char *self)
{
	bool push = strcmp(name, "pre-push") == 0;
	sotto_err err;

	err = sotto_buf_addf(b, "#!/bin/sh\n"
	    HOOK_MARK ": %s (written by 'sotto hook install'; remove it "
	    "with\n# 'sotto hook uninstall').  Runs the hook it replaced "
	    "first, then the guard.\n"
	    "hook_dir=$(dirname \"$0\")\n", name);
	if (!err && push)
		err = sotto_buf_addstr(b, "input=$(cat)\n");
	if (!err)
		err = sotto_buf_addf(b, "if [ -x \"$hook_dir/%s" CHAIN_SUFFIX
		    "\" ]; then\n\t%s\"$hook_dir/%s" CHAIN_SUFFIX "\" \"$@\" "
		    "|| exit $?\nfi\nsotto=", name, push ?
		    "printf '%s\\n' \"$input\" | " : "", name);
	if (!err)
		err = sh_quote(b, self);
	if (!err)
		err = sotto_buf_addstr(b, "\nif [ ! -x \"$sotto\" ]; then\n"
		    "\tsotto=$(command -v sotto 2>/dev/null) || sotto=\n"
		    "fi\nif [ -z \"$sotto\" ]; then\n\techo \"sotto guard: ");
	if (!err)
		err = sotto_buf_addf(b, "%s refused: the sotto binary that "
		    "installed this hook is gone and no 'sotto' is on PATH\" "
		    ">&2\n\techo \"sotto guard: install sotto again, or remove "
		    "the hook with 'sotto hook uninstall'\" >&2\n\texit 1\n"
		    "fi\n", push ? "push" : "commit");
	if (!err)
		err = push ? sotto_buf_addstr(b, "printf '%s\\n' \"$input\" | "
		    "\"$sotto\" guard --push --hook pre-push\n") :
		    sotto_buf_addstr(b, "exec \"$sotto\" guard --hook "
		    "pre-commit\n");
	return err;
}

static bool
is_ours(const struct sotto_buf *b)
{
	return b->len > 0 && memmem(b->data, b->len, HOOK_MARK,
	    sizeof(HOOK_MARK) - 1) != NULL;
}

static sotto_err
install_one(const char *dir, const char *name, const char *self,
    struct sotto_error *e)
{
	struct sotto_buf path = SOTTO_BUF_INIT, chain = SOTTO_BUF_INIT;
	struct sotto_buf old = SOTTO_BUF_INIT, script = SOTTO_BUF_INIT;
	struct stat st;
	sotto_err err;

	if (sotto_buf_addf(&path, "%s/%s", dir, name) ||
	    sotto_buf_addf(&chain, "%s/%s" CHAIN_SUFFIX, dir, name) ||
	    hook_script(&script, name, self)) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if (stat((const char *)path.data, &st) == 0) {
		err = sotto_io_read_file(&old, (const char *)path.data,
		    (size_t)1 << 20, e);
		if (err != SOTTO_OK)
			goto out;
		if (is_ours(&old)) {
			if (old.len == script.len && memcmp(old.data,
			    script.data, old.len) == 0) {
				printf("sotto: %s hook already installed in "
				    "'%s'\n", name, dir);
				err = SOTTO_OK;
				goto out;
			}
		} else {
			if (sotto_io_exists((const char *)chain.data)) {
				err = sotto_error_set(e, SOTTO_E_HOOK, "'%s' "
				    "exists and '%s' too: remove one of them "
				    "first", (const char *)path.data,
				    (const char *)chain.data);
				goto out;
			}
			if ((err = sotto_io_write_new((const char *)chain.data,
			    old.data, old.len, st.st_mode & 07777, e)))
				goto out;
			printf("sotto: kept the existing %s hook as '%s'; it "
			    "runs first\n", name, (const char *)chain.data);
		}
	}
	if ((err = sotto_io_write_atomic((const char *)path.data,
	    script.data, script.len, 0755, false, e)) != SOTTO_OK)
		goto out;
	printf("sotto: installed the %s hook in '%s'\n", name, dir);
out:
	sotto_buf_release(&path);
	sotto_buf_release(&chain);
	sotto_buf_release(&old);
	sotto_buf_release(&script);
	return err;
}

static sotto_err
uninstall_one(const char *dir, const char *name, struct sotto_error *e)
{
	struct sotto_buf path = SOTTO_BUF_INIT, chain = SOTTO_BUF_INIT;
	struct sotto_buf old = SOTTO_BUF_INIT;
	struct stat st;
	sotto_err err = SOTTO_OK;

	if (sotto_buf_addf(&path, "%s/%s", dir, name) ||
	    sotto_buf_addf(&chain, "%s/%s" CHAIN_SUFFIX, dir, name)) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if (!sotto_io_exists((const char *)path.data))
		goto out;
	if ((err = sotto_io_read_file(&old, (const char *)path.data,
	    (size_t)1 << 20, e)) != SOTTO_OK)
		goto out;
	if (!is_ours(&old)) {
		printf("sotto: the %s hook in '%s' is not sotto's; left "
		    "alone\n", name, dir);
		goto out;
	}
	if (stat((const char *)chain.data, &st) == 0) {
		sotto_buf_truncate(&old, 0);
		if ((err = sotto_io_read_file(&old, (const char *)chain.data,
		    (size_t)1 << 20, e)) != SOTTO_OK ||
		    (err = sotto_io_write_atomic((const char *)path.data,
		    old.data, old.len, st.st_mode & 07777, false, e)))
			goto out;
		if (unlink((const char *)chain.data) != 0) {
			err = sotto_error_set(e, SOTTO_E_IO, "cannot remove "
			    "'%s': %s", (const char *)chain.data,
			    strerror(errno));
			goto out;
		}
		printf("sotto: removed the %s hook; the previous hook is "
		    "back\n", name);
	} else {
		if (unlink((const char *)path.data) != 0) {
			err = sotto_error_set(e, SOTTO_E_IO, "cannot remove "
			    "'%s': %s", (const char *)path.data,
			    strerror(errno));
			goto out;
		}
		printf("sotto: removed the %s hook\n", name);
	}
out:
	sotto_buf_release(&path);
	sotto_buf_release(&chain);
	sotto_buf_release(&old);
	return err;
}

/* mkdir -p for the hooks directory (core.hooksPath may not exist). */
static void
make_dirs(const char *dir)
{
	char buf[PATH_MAX], *p;

	if (strlen(dir) >= sizeof(buf))
		return;
	memcpy(buf, dir, strlen(dir) + 1);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(buf, 0755);
		*p = '/';
	}
	(void)mkdir(buf, 0755);
}

int
cmd_hook(int argc, char **argv, enum cli_mode mode)
{
	static const struct option longopts[] = {
		{ "pre-commit", no_argument, NULL, 'c' },
		{ "pre-push", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sotto_error e = { SOTTO_OK, "" };
	const char *start = NULL, *names[2];
	char self[PATH_MAX], *dir = NULL;
	bool install, pre_commit = false, pre_push = false;
	size_t nn = 0, i;
	ssize_t sl;
	int c, rc = 0;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		fputs(hook_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "install") == 0)
		install = true;
	else if (strcmp(argv[1], "uninstall") == 0)
		install = false;
	else {
		cli_errorf("sotto hook", "unknown subcommand '%s' (use install "
		    "or uninstall)", argv[1]);
		return 2;
	}
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "hC:", longopts, NULL))
	    != -1) {
		switch (c) {
		case 'c': pre_commit = true; break;
		case 'p': pre_push = true; break;
		case 'C': start = optarg; break;
		case 'h': fputs(hook_usage, stdout); return 0;
		default: fputs(hook_usage, stderr); return 2;
		}
	}
	if (optind < argc - 1) {
		cli_errorf("sotto hook", "unexpected argument '%s'",
		    argv[optind + 1]);
		return 2;
	}
	if (!pre_commit && !pre_push)
		pre_commit = true;
	if (pre_commit)
		names[nn++] = "pre-commit";
	if (pre_push)
		names[nn++] = "pre-push";
	if (sotto_guard_hooks_dir(&dir, start, &e) != SOTTO_OK) {
		cli_error("sotto hook", &e);
		return cli_exit_status(e.code, mode);
	}
	sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0) {
		cli_errorf("sotto hook", "cannot find this binary's path");
		free(dir);
		return 2;
	}
	self[sl] = '\0';
	if (install)
		make_dirs(dir);
	for (i = 0; i < nn && rc == 0; i++) {
		if ((install ? install_one(dir, names[i], self, &e) :
		    uninstall_one(dir, names[i], &e)) != SOTTO_OK) {
			cli_error("sotto hook", &e);
			rc = cli_exit_status(e.code, mode);
		}
	}
	free(dir);
	return rc;
}
