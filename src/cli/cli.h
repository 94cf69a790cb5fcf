/* SPDX-License-Identifier: ISC */
/*
 * The command-line layer: one table of commands (name, usage, function),
 * the exit-status table, and small helpers shared by the cmd_*.c files.
 * Only src/cli/ calls exit().
 */
#ifndef SOTTO_CLI_H
#define SOTTO_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "sotto/age.h"
#include "sotto/buf.h"
#include "sotto/error.h"

/* How the binary was invoked (argv[0] personality). */
enum cli_mode {
	CLI_SOTTO,	/* sotto <command> */
	CLI_AGE,	/* age */
	CLI_KEYGEN,	/* age-keygen */
	CLI_SOPS,	/* sops drop-in */
};

struct cli_cmd {
	const char *name;	/* subcommand */
	const char *summary;	/* one line for `sotto --help` */
	int (*run)(int argc, char **argv, enum cli_mode mode);
};

extern const struct cli_cmd cli_commands[];

/* Exit statuses (see man/sotto.1 EXIT STATUS). */
int cli_exit_status(sotto_err code, enum cli_mode mode);

/* Prints "PROG: error: MSG" to stderr. */
void cli_error(const char *prog, const struct sotto_error *e);
void cli_errorf(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_warnf(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Reads a passphrase from the controlling terminal (/dev/tty) with echo
 * off.  Fails with SOTTO_E_TTY when there is no terminal.  pass must be a
 * secret buffer.
 */
sotto_err cli_read_passphrase(const char *prompt, struct sotto_buf *pass,
    struct sotto_error *e);
/* sotto_age_pass_cb adapter around cli_read_passphrase. */
sotto_err cli_pass_cb(void *ctx, const char *prompt, struct sotto_buf *pass,
    struct sotto_error *e);

/* Prints tmpl with {P} replaced by p and {K} by k (usage texts). */
void cli_print_template(FILE *f, const char *tmpl, const char *p,
    const char *k);

/* Version line. */
const char *cli_version(void);

int cmd_age(int argc, char **argv, enum cli_mode mode);
int cmd_keygen(int argc, char **argv, enum cli_mode mode);
int cmd_encrypt(int argc, char **argv, enum cli_mode mode);
int cmd_decrypt(int argc, char **argv, enum cli_mode mode);
/* The sops personality: sops' subcommands and legacy flags. */
int cli_sops_main(int argc, char **argv);

#endif
