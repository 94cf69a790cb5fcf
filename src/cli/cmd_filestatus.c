/* SPDX-License-Identifier: ISC */
/*
 * `sotto filestatus FILE`: prints {"encrypted":true} or {"encrypted":false}
 * exactly as sops does (encrypted = the file carries sops metadata with a
 * version and a MAC).  Nothing is decrypted, so no key is needed.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <string.h>

static const char filestatus_usage[] =
    "usage: {P} filestatus [--input-type T] FILE\n"
    "\n"
    "Prints {\"encrypted\":true} when FILE carries sops metadata (a version\n"
    "and a MAC), else {\"encrypted\":false}.  No key is needed.\n"
    "\n"
    "options:\n"
    "      --input-type T   yaml, json, dotenv, ini or binary\n"
    "  -h, --help           show this help\n";

int
cmd_filestatus(int argc, char **argv, enum cli_mode mode)
{
	static const struct option lo[] = {
		{ "input-type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'V' },
		{ "disable-version-check", no_argument, NULL, 'V' },
		{ "config", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct sotto_error e = { SOTTO_OK, "" };
	struct cli_sfile f;
	const char *itype = NULL;
	bool enc;
	int c;

	cli_reorder_args(argc, argv, "h", lo, true);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 't': itype = optarg; break;
		case 'V': break;
		case 'h':
			cli_print_template(stdout, filestatus_usage,
			    cli_prog(mode), "");
			return 0;
		default:
			return cli_exit_status(SOTTO_E_USAGE, mode);
		}
	}
	if (optind >= argc) {
		sotto_error_set(&e, SOTTO_E_NOTFOUND, "no file specified");
		return cli_fail(mode, &e);
	}
	if (cli_sfile_load(&f, argv[optind], itype, &e) != SOTTO_OK) {
		if (e.code != SOTTO_E_NOTFOUND)
			sotto_error_prefix(&e, "cannot check file status");
		cli_sfile_free(&f);
		return cli_fail(mode, &e);
	}
	enc = sotto_sops_is_encrypted(f.doc);
	cli_sfile_free(&f);
	printf("{\"encrypted\":%s}\n", enc ? "true" : "false");
	if (fflush(stdout) != 0)
		return cli_exit_status(SOTTO_E_IO, mode);
	return 0;
}
