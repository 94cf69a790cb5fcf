/* SPDX-License-Identifier: ISC */
/* Diagnostics and terminal passphrase input for the CLI. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "sotto/io.h"

#ifndef SOTTO_VERSION
#define SOTTO_VERSION "0.0.0"
#endif
#ifndef SOTTO_GITREV
#define SOTTO_GITREV "unknown"
#endif

const char *
cli_version(void)
{
	return SOTTO_VERSION " (git " SOTTO_GITREV ")";
}

const char *
cli_version_number(void)
{
	return SOTTO_VERSION;
}

/* What the next error message is followed by (cli_error_note()). */
static char *error_note;

void
cli_error_note(const char *text)
{
	free(error_note);
	error_note = text != NULL && text[0] != '\0' ? strdup(text) : NULL;
}

static void
flush_note(const char *prog)
{
	if (error_note == NULL)
		return;
	fprintf(stderr, "%s: %s", prog, error_note);
	free(error_note);
	error_note = NULL;
}

void
cli_error(const char *prog, const struct sotto_error *e)
{
	fprintf(stderr, "%s: error: %s\n", prog,
	    e->msg[0] ? e->msg : sotto_strerror(e->code));
	flush_note(prog);
}

void
cli_errorf(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	flush_note(prog);
}

void
cli_warnf(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: warning: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

sotto_err
cli_read_passphrase(const char *prompt, struct sotto_buf *pass,
    struct sotto_error *e)
{
	struct termios old, raw;
	int fd;
	char c;
	ssize_t r;
	bool restored = false;
	sotto_err err = SOTTO_OK;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return sotto_error_set(e, SOTTO_E_TTY,
		    "a passphrase is needed but there is no terminal to "
		    "read it from");
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return sotto_error_set(e, SOTTO_E_TTY,
		    "cannot configure the terminal: %s", strerror(errno));
	}
	raw = old;
	raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	raw.c_lflag |= ICANON;
	(void)sotto_io_write_all(fd, prompt, strlen(prompt));
	/* TCSANOW, not TCSAFLUSH: keep what was typed ahead (as age) */
	if (tcsetattr(fd, TCSANOW, &raw) != 0) {
		close(fd);
		return sotto_error_set(e, SOTTO_E_TTY,
		    "cannot configure the terminal: %s", strerror(errno));
	}
	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0 && pass->len == 0)
				err = sotto_error_set(e, SOTTO_E_TTY,
				    "end of input while reading the "
				    "passphrase");
			break;
		}
		if (c == '\n' || c == '\r')
			break;
		if (pass->len > 4096) {
			err = sotto_error_set(e, SOTTO_E_USAGE,
			    "passphrase too long");
			break;
		}
		if (sotto_buf_addch(pass, c)) {
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
			break;
		}
	}
	c = 0;
	if (tcsetattr(fd, TCSANOW, &old) == 0)
		restored = true;
	(void)restored;
	(void)sotto_io_write_all(fd, "\n", 1);
	close(fd);
	return err;
}

sotto_err
cli_pass_cb(void *ctx, const char *prompt, struct sotto_buf *pass,
    struct sotto_error *e)
{
	(void)ctx;
	return cli_read_passphrase(prompt, pass, e);
}

void
cli_print_template(FILE *f, const char *tmpl, const char *p, const char *k)
{
	const char *s;

	for (s = tmpl; *s != '\0'; s++) {
		if (strncmp(s, "{P}", 3) == 0) {
			fputs(p, f);
			s += 2;
		} else if (strncmp(s, "{K}", 3) == 0) {
			fputs(k, f);
			s += 2;
		} else {
			fputc(*s, f);
		}
	}
}

/* The option of lo named by "--name[=value]" (exact name), or NULL. */
static const struct option *
long_opt(const struct option *lo, const char *a)
{
	size_t n = strcspn(a + 2, "=");

	for (; lo != NULL && lo->name != NULL; lo++)
		if (strlen(lo->name) == n && strncmp(lo->name, a + 2, n) == 0)
			return lo;
	return NULL;
}

/*
 * Is a an option (of shortopts/lo unless all), and does it take the next
 * argument as its value?
 */
static bool
is_option(const char *a, const char *shortopts, const struct option *lo,
    bool all, bool *takes_next)
{
	const struct option *o;
	const char *c, *p;

	*takes_next = false;
	if (a[0] != '-' || a[1] == '\0')
		return false;
	if (a[1] == '-') {
		o = long_opt(lo, a);
		if (o == NULL)
			return all;
		*takes_next = o->has_arg == required_argument &&
		    strchr(a, '=') == NULL;
		return true;
	}
	for (c = a + 1; *c != '\0'; c++) {
		p = *c != ':' && *c != '+' ? strchr(shortopts, *c) : NULL;
		if (p == NULL)
			return all;
		if (p[1] == ':') {
			*takes_next = c[1] == '\0';
			return true;
		}
	}
	return true;
}

void
cli_reorder_args(int argc, char **argv, const char *shortopts,
    const struct option *lo, bool all)
{
	char **opts, **ops, *dashes = NULL;
	int i, no = 0, np = 0, k = 1;
	bool next;

	if (argc < 3 || (opts = calloc((size_t)argc, sizeof(*opts))) == NULL)
		return;
	if ((ops = calloc((size_t)argc, sizeof(*ops))) == NULL) {
		free(opts);
		return;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			dashes = argv[i];
			for (i++; i < argc; i++)
				ops[np++] = argv[i];
			break;
		}
		if (is_option(argv[i], shortopts, lo, all, &next)) {
			opts[no++] = argv[i];
			if (next && i + 1 < argc)
				opts[no++] = argv[++i];
		} else {
			ops[np++] = argv[i];
		}
	}
	/*
	 * getopt stops at the first operand; one that looks like an option
	 * is refused there (as sops refuses an unknown flag before the file)
	 * and taken as it is further on (set's VALUE -5).
	 */
	for (i = 0; i < no; i++)
		argv[k++] = opts[i];
	if (dashes != NULL)
		argv[k++] = dashes;
	for (i = 0; i < np; i++)
		argv[k++] = ops[i];
	free(opts);
	free(ops);
}
