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
#include <sys/prctl.h>

#include "crypto/prim.h"
#include "crypto/version.h"
#include "formats/version.h"
#include "sotto/regex.h"
#include "sotto/secret.h"
#include "sotto/sops.h"

static int cmd_version(int argc, char **argv, enum cli_mode mode);
static int cmd_help(int argc, char **argv, enum cli_mode mode);

const struct cli_cmd cli_commands[] = {
	{ "age", "encrypt and decrypt age files (as the age tool)", cmd_age },
	{ "age-keygen", "generate age identities (as age-keygen)",
	    cmd_keygen },
	{ "encrypt", "encrypt a file with sops value-level encryption",
	    cmd_encrypt },
	{ "decrypt", "decrypt a sops file", cmd_decrypt },
	{ "edit", "edit an encrypted file in $SOPS_EDITOR / $EDITOR",
	    cmd_edit },
	{ "set", "set one value of an encrypted file", cmd_set },
	{ "unset", "remove one value of an encrypted file", cmd_unset },
	{ "exec-env", "run a command with the decrypted values in its "
	    "environment", cmd_exec_env },
	{ "exec-file", "run a command with the decrypted file in a FIFO",
	    cmd_exec_file },
	{ "filestatus", "tell whether a file is sops-encrypted",
	    cmd_filestatus },
	{ "rotate", "re-encrypt with a new data key; add/remove recipients",
	    cmd_rotate },
	{ "updatekeys", "make recipients match .sops.yaml (no re-encryption)",
	    cmd_updatekeys },
	{ "groups", "add or delete key groups", cmd_groups },
	{ "config", "explain which .sops.yaml rule applies to a file",
	    cmd_config },
	{ "render", "render a kustomization with sops files decrypted",
	    cmd_render },
	{ "kustomize-plugin", "kustomize exec generator (SottoSecretGenerator)",
	    cmd_kustomize_plugin },
	{ "krm", "KRM function: decrypt or generate ResourceList items",
	    cmd_krm },
	{ "post-render", "Helm post-renderer: decrypt a YAML stream",
	    cmd_post_render },
	{ "guard", "refuse plaintext secrets in staged files or pushes",
	    cmd_guard },
	{ "hook", "install or remove the guard's git hook", cmd_hook },
	{ "git-setup", "configure decrypted git diffs (textconv)",
	    cmd_git_setup },
	{ "controller", "in-cluster agent: git, render, decrypt, server-side "
	    "apply", cmd_controller },
	{ "reconcile", "reconcile a Kustomization or GitRepository now (no "
	    "kind: the controller)", cmd_reconcile },
	{ "get", "list Kustomizations or GitRepositories and their status",
	    cmd_get },
	{ "suspend", "suspend a Kustomization or GitRepository", cmd_suspend },
	{ "resume", "resume a Kustomization or GitRepository", cmd_resume },
	{ "install", "install the CRDs, RBAC and the controller", cmd_install },
	{ "bootstrap", "install, then manage the controller from a git "
	    "repository", cmd_bootstrap },
	{ "events", "the Events of the Flux objects", cmd_events },
	{ "check", "check the cluster, the CRDs and the controller",
	    cmd_check },
	{ "uninstall", "delete the controller, its RBAC and the CRDs",
	    cmd_uninstall },
	{ "tree", "the objects a Kustomization applied, as a tree",
	    cmd_tree },
	{ "logs", "the controller's logs, filtered", cmd_logs },
	{ "build", "what the controller would apply for a Kustomization",
	    cmd_build },
	{ "diff", "server-side dry-run diff of a Kustomization", cmd_diff },
	{ "cluster", "a key born in the cluster: keygen, recipient, rotate, "
	    "retire, export, import", cmd_cluster },
	{ "version", "print the version", cmd_version },
	{ "help", "show this help", cmd_help },
	{ NULL, NULL, NULL },
};

static int
cmd_version(int argc, char **argv, enum cli_mode mode)
{
	char pcre[64];

	(void)argc;
	(void)argv;
	(void)mode;
	/* the first line is the contract (scripts parse it); the rest is for
	 * bug reports: the sops format written and the libraries in use */
	printf("sotto %s\n", cli_version());
	printf("sops format %s\n", SOTTO_SOPS_VERSION);
	printf("libsodium %s\n", sotto_sodium_version());
	printf("%s\n", sotto_openssl_version());
	printf("libyaml %s\n", sotto_yaml_version());
	printf("jansson %s\n", sotto_json_version());
	sotto_regex_version(pcre, sizeof(pcre));
	printf("pcre2 %s\n", pcre);
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

	if (sotto_secret_init() != SOTTO_OK || sotto_crypto_init() != 0) {
		fprintf(stderr, "sotto: error: cannot initialise libsodium\n");
		return 1;
	}
	/*
	 * Nearly every command holds a key or plaintext (decrypt, edit,
	 * exec-*, set, rotate, updatekeys, encrypt, age, render, guard), so
	 * all are non-dumpable from the start: no core dump, and no process
	 * of the same user may ptrace sotto or read its /proc/PID/mem,
	 * environ or fd.  A child sotto starts (editor, exec-env command)
	 * is dumpable again after its exec().
	 */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	{
		/* links made by `kustomize-plugin install` and for KRM exec */
		const char *b = strrchr(argv[0] ? argv[0] : "", '/');

		b = b ? b + 1 : (argv[0] ? argv[0] : "");
		if (strcmp(b, "SottoSecretGenerator") == 0)
			return cmd_kustomize_plugin(argc, argv, mode);
		if (strcmp(b, "sotto-krm") == 0)
			return cmd_krm(argc, argv, mode);
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

/* sops' subcommands, as the sops personality dispatches them. */
static const struct cli_cmd sops_commands[] = {
	{ "encrypt", "encrypt a file", cmd_encrypt },
	{ "decrypt", "decrypt a file", cmd_decrypt },
	{ "edit", "edit an encrypted file", cmd_edit },
	{ "rotate", "generate a new data key and re-encrypt", cmd_rotate },
	{ "updatekeys", "update the keys from .sops.yaml", cmd_updatekeys },
	{ "set", "set a value", cmd_set },
	{ "unset", "unset a value", cmd_unset },
	{ "exec-env", "run a command with values in the environment",
	    cmd_exec_env },
	{ "exec-file", "run a command with the plaintext in a file",
	    cmd_exec_file },
	{ "filestatus", "encryption status of a file", cmd_filestatus },
	{ "groups", "modify the key groups", cmd_groups },
	{ NULL, NULL, NULL },
};

/* sops' flags (global or legacy) that take a separate value. */
static bool
takes_value(const char *a)
{
	static const char *const v[] = { "--config", "--indent",
	    "--keyservice", "--unencrypted-comment-regex",
	    "--encrypted-comment-regex", "-a", "--age", "-p", "--pgp", "-k",
	    "--kms", "--gcp-kms", "--azure-kv", "--hc-vault-transit",
	    "--output", "--extract", "--set", "--input-type",
	    "--output-type", "--filename-override", "--unencrypted-suffix",
	    "--encrypted-suffix", "--unencrypted-regex", "--encrypted-regex",
	    "--shamir-secret-sharing-threshold", "--add-age", "--rm-age",
	    "--add-pgp", "--rm-pgp", "--add-kms", "--rm-kms",
	    "--add-gcp-kms", "--rm-gcp-kms", "--add-azure-kv",
	    "--rm-azure-kv", "--add-hc-vault-transit",
	    "--rm-hc-vault-transit", "--decryption-order", "--aws-profile",
	    "--encryption-context", NULL };
	size_t i;

	if (strchr(a, '=') != NULL)
		return false;
	for (i = 0; v[i] != NULL; i++)
		if (strcmp(a, v[i]) == 0)
			return true;
	return false;
}

static void
sops_usage(FILE *f)
{
	const struct cli_cmd *c;

	fprintf(f, "usage: sops [global options] command [command options] "
	    "[FILE]\n       sops [options] FILE   (edit FILE)\n\n"
	    "sotto's sops drop-in: same subcommands, flags, environment and "
	    "exit codes.\n\ncommands:\n");
	for (c = sops_commands; c->name != NULL; c++)
		fprintf(f, "    %-12s %s\n", c->name, c->summary);
	fprintf(f, "\nlegacy flags: -e (encrypt), -d (decrypt), -r (rotate), "
	    "--set 'PATH VALUE', -s\nSee sotto(1); sotto COMMAND --help for "
	    "each command's options.\n");
}

/* The mode a legacy flag selects ("set" for --set), or NULL. */
static const char *
legacy_mode(const char *a)
{
	if (strcmp(a, "-e") == 0 || strcmp(a, "--encrypt") == 0)
		return "encrypt";
	if (strcmp(a, "-d") == 0 || strcmp(a, "--decrypt") == 0)
		return "decrypt";
	if (strcmp(a, "-r") == 0 || strcmp(a, "--rotate") == 0)
		return "rotate";
	if (strcmp(a, "--set") == 0 || strncmp(a, "--set=", 6) == 0)
		return "set";
	return NULL;
}

/*
 * Builds the argument vector for a legacy `sops --set 'PATH VALUE' FILE`:
 * set, the other flags, FILE, PATH, VALUE.
 */
static int
legacy_set(char **nargv, int j, const char *spec)
{
	const char *sp = strstr(spec, "] ");
	static char *path;

	if (sp == NULL)
		return -1;
	free(path);
	path = strndup(spec, (size_t)(sp - spec) + 1);
	if (path == NULL)
		return -1;
	nargv[j++] = path;
	nargv[j++] = (char *)(sp + 2);
	return j;
}

/*
 * sops accepts global flags before the subcommand, and the legacy mode
 * flags (-e, -d, -r, --set) or a bare FILE (= edit) instead of one.
 * Global flags are moved after the subcommand so one option parser per
 * command serves every spelling.
 */
int
cli_sops_main(int argc, char **argv)
{
	const struct cli_cmd *c, *cmd = NULL;
	const char *legacy = NULL, *setspec = NULL, *first = NULL;
	char **nargv;
	int i, j, sub = -1, rc;

	/* two modes at once: sops only warns and the last one wins */
	for (i = 1; i < argc; i++) {
		const char *mode = legacy_mode(argv[i]);

		if (strcmp(argv[i], "--") == 0)
			break;
		if (mode != NULL && first != NULL && strcmp(mode, first)) {
			fprintf(stderr, "sops: error: cannot use more than one "
			    "of --encrypt (-e), --decrypt (-d), --rotate (-r) "
			    "and --set\n");
			return 8;	/* ConflictingParameters */
		}
		if (mode != NULL)
			first = mode;
		if (argv[i][0] == '-' && takes_value(argv[i]))
			i++;
	}
	for (i = 1; i < argc && sub < 0; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
			printf("sops %s (sotto %s)\n", SOTTO_SOPS_VERSION,
			    cli_version());
			return 0;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			sops_usage(stdout);
			return 0;
		}
		if (strcmp(a, "-e") == 0 || strcmp(a, "--encrypt") == 0)
			legacy = "encrypt";
		else if (strcmp(a, "-d") == 0 || strcmp(a, "--decrypt") == 0)
			legacy = "decrypt";
		else if (strcmp(a, "-r") == 0 || strcmp(a, "--rotate") == 0)
			legacy = "rotate";
		else if (strcmp(a, "--set") == 0 && i + 1 < argc)
			setspec = argv[i + 1];
		if (a[0] == '-' && a[1] != '\0') {
			if (takes_value(a))
				i++;
			continue;
		}
		if (legacy != NULL || setspec != NULL)
			break;
		for (c = sops_commands; c->name != NULL; c++)
			if (strcmp(a, c->name) == 0)
				cmd = c;
		sub = cmd != NULL ? i : 0;	/* 0: a FILE (edit) */
	}
	if (argc < 2) {
		sops_usage(stderr);
		return 1;
	}
	if (cmd == NULL)
		for (c = sops_commands; c->name != NULL; c++)
			if (strcmp(legacy ? legacy : setspec ? "set" : "edit",
			    c->name) == 0)
				cmd = c;
	nargv = calloc((size_t)argc + 3, sizeof(*nargv));
	if (nargv == NULL)
		return 1;
	j = 0;
	nargv[j++] = (char *)cmd->name;
	for (i = 1; i < argc; i++) {
		if (sub > 0 && i == sub)
			continue;
		if (legacy != NULL && (strcmp(argv[i], "-e") == 0 ||
		    strcmp(argv[i], "--encrypt") == 0 ||
		    strcmp(argv[i], "-d") == 0 ||
		    strcmp(argv[i], "--decrypt") == 0 ||
		    strcmp(argv[i], "-r") == 0 ||
		    strcmp(argv[i], "--rotate") == 0))
			continue;
		if (setspec != NULL && legacy == NULL &&
		    strcmp(argv[i], "--set") == 0) {
			i++;
			continue;
		}
		/* --set always writes in place: -i is implied, as in sops */
		if (setspec != NULL && legacy == NULL &&
		    (strcmp(argv[i], "-i") == 0 ||
		    strcmp(argv[i], "--in-place") == 0))
			continue;
		nargv[j++] = argv[i];
	}
	if (setspec != NULL && legacy == NULL &&
	    (j = legacy_set(nargv, j, setspec)) < 0) {
		fprintf(stderr, "sops: error: invalid --set argument: want "
		    "'[\"path\"] JSON-VALUE'\n");
		free(nargv);
		return 7;
	}
	nargv[j] = NULL;
	rc = cmd->run(j, nargv, CLI_SOPS);
	free(nargv);
	return rc;
}
