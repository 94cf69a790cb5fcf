/* SPDX-License-Identifier: ISC */
/*
 * sotto's entry point: picks a personality from argv[0] (sotto, age,
 * age-keygen, sops) and dispatches to the command table.
 */
#include "cli/cli.h"

#include <libgen.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/secret.h"

static int cmd_version(int argc, char **argv, enum cli_mode mode);
static int cmd_help(int argc, char **argv, enum cli_mode mode);

const struct cli_cmd cli_commands[] = {
	{ "age", "encrypt and decrypt age files (as the age tool)", cmd_age },
	{ "age-keygen", "generate age identities (as age-keygen)",
	    cmd_keygen },
	{ "encrypt", "encrypt a file with sops value-level encryption",
	    cmd_encrypt },
	{ "decrypt", "decrypt a sops file", cmd_decrypt },
	{ "version", "print the version", cmd_version },
	{ "help", "show this help", cmd_help },
	{ NULL, NULL, NULL },
};

static int
cmd_version(int argc, char **argv, enum cli_mode mode)
{
	(void)argc;
	(void)argv;
	(void)mode;
	printf("sotto %s\n", cli_version());
	return 0;
}

static void
usage(FILE *f)
{
	const struct cli_cmd *c;

	fprintf(f, "usage: sotto <command> [options] [args]\n\n"
	    "sotto keeps secrets in git encrypted with age and sops, "
	    "byte-compatible\nwith both tools.\n\ncommands:\n");
	for (c = cli_commands; c->name != NULL; c++)
		fprintf(f, "    %-14s %s\n", c->name, c->summary);
	fprintf(f, "\nRun 'sotto <command> --help' for a command's options; "
	    "see sotto(1).\nInvoked as 'age', 'age-keygen' or 'sops' (a "
	    "symlink), sotto behaves as that tool.\n");
}

static int
cmd_help(int argc, char **argv, enum cli_mode mode)
{
	(void)argc;
	(void)argv;
	(void)mode;
	usage(stdout);
	return 0;
}

static enum cli_mode
personality(const char *argv0)
{
	char *copy = strdup(argv0 ? argv0 : "sotto"), *b;
	enum cli_mode m = CLI_SOTTO;

	if (copy == NULL)
		return m;
	b = basename(copy);
	if (strcmp(b, "age") == 0)
		m = CLI_AGE;
	else if (strcmp(b, "age-keygen") == 0)
		m = CLI_KEYGEN;
	else if (strcmp(b, "sops") == 0)
		m = CLI_SOPS;
	free(copy);
	return m;
}

int
main(int argc, char **argv)
{
	const struct cli_cmd *c;
	enum cli_mode mode = personality(argv[0]);

	if (sotto_secret_init() != SOTTO_OK) {
		fprintf(stderr, "sotto: error: cannot initialise libsodium\n");
		return 1;
	}
	if (mode == CLI_AGE)
		return cmd_age(argc, argv, mode);
	if (mode == CLI_KEYGEN)
		return cmd_keygen(argc, argv, mode);
	if (mode == CLI_SOPS)
		return cli_sops_main(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(argc, argv, mode);
	for (c = cli_commands; c->name != NULL; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->run(argc - 1, argv + 1, mode);
	fprintf(stderr, "sotto: error: unknown command '%s'\n"
	    "sotto: hint: run 'sotto --help' for the list of commands\n",
	    argv[1]);
	return 2;
}

/*
 * sops accepts global flags before the subcommand and the legacy mode
 * flags (-e, -d) instead of one.  Global flags are moved after the
 * subcommand so one option parser serves both spellings.
 */
int
cli_sops_main(int argc, char **argv)
{
	static const char *subs[] = { "encrypt", "decrypt", NULL };
	char **nargv;
	int i, j, k, sub = -1, rc;
	bool legacy_enc = false, legacy_dec = false;

	for (i = 1; i < argc && sub < 0; i++) {
		for (k = 0; subs[k] != NULL; k++)
			if (strcmp(argv[i], subs[k]) == 0)
				sub = i;
		if (strcmp(argv[i], "-e") == 0 ||
		    strcmp(argv[i], "--encrypt") == 0)
			legacy_enc = true;
		if (strcmp(argv[i], "-d") == 0 ||
		    strcmp(argv[i], "--decrypt") == 0)
			legacy_dec = true;
		if (strcmp(argv[i], "--version") == 0 ||
		    strcmp(argv[i], "-v") == 0) {
			printf("sops %s (sotto %s)\n", "3.13.2", cli_version());
			return 0;
		}
	}
	if (sub < 0 && !legacy_enc && !legacy_dec) {
		if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0) {
			printf("usage: sops [global options] command "
			    "[command options] [FILE]\n\ncommands (sotto "
			    "drop-in):\n    encrypt, decrypt\nlegacy flags: "
			    "-e, -d\nSee sotto(1).\n");
			return argc < 2 ? 1 : 0;
		}
		fprintf(stderr, "sops: error: this sops command is not "
		    "supported by sotto yet: '%s'\n", argv[1]);
		return 1;
	}
	nargv = calloc((size_t)argc + 1, sizeof(*nargv));
	if (nargv == NULL)
		return 1;
	/* subcommand first, then everything else in order */
	j = 0;
	nargv[j++] = sub > 0 ? argv[sub] : (char *)(legacy_enc ? "encrypt" :
	    "decrypt");
	for (i = 1; i < argc; i++)
		if (i != sub)
			nargv[j++] = argv[i];
	nargv[j] = NULL;
	if (strcmp(nargv[0], "encrypt") == 0)
		rc = cmd_encrypt(j, nargv, CLI_SOPS);
	else
		rc = cmd_decrypt(j, nargv, CLI_SOPS);
	free(nargv);
	return rc;
}
