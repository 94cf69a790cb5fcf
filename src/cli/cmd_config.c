/* SPDX-License-Identifier: ISC */
/*
 * `sotto config explain FILE`: which .sops.yaml applies to FILE, which
 * creation rule is selected and why each other rule was not.  Matching
 * itself belongs to src/sops/config.c (sotto_config_explain).
 */
#include "cli/cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sotto/config.h"

static const char config_usage[] =
    "usage: {P} config explain [--config PATH] FILE\n"
    "\n"
    "Shows which .sops.yaml applies to FILE (searched, as sops does, from\n"
    "the working directory upwards, or --config / SOPS_CONFIG), the path its\n"
    "rules see, for each creation rule whether it was selected, did not\n"
    "match, or was not reached, and the keys sops ignores (unknown keys).\n"
    "FILE need not exist.\n"
    "\n"
    "options:\n"
    "      --config PATH   use this .sops.yaml\n"
    "  -h, --help          show this help\n";

static const char *
verdict_name(enum sotto_config_verdict v)
{
	switch (v) {
	case SOTTO_CONFIG_SELECTED: return "selected";
	case SOTTO_CONFIG_NO_MATCH: return "no match";
	case SOTTO_CONFIG_BAD_REGEX: return "invalid path_regex";
	default: return "not reached";
	}
}

static void
print_rule(const struct sotto_config *cfg, const struct sotto_config_explain *x)
{
	const struct sotto_config_rule *r = &cfg->rules[x->rule];
	size_t g, na = 0, np = 0, no = 0;

	for (g = 0; g < r->ngroups; g++) {
		na += r->groups[g].nage;
		np += r->groups[g].npgp;
		no += r->groups[g].nother;
	}
	printf("rule %zu: %s", x->rule, verdict_name(x->verdict));
	if (r->path_regex != NULL && r->path_regex[0] != '\0')
		printf(" (path_regex '%s')", r->path_regex);
	else
		printf(" (no path_regex)");
	if (x->reason != NULL)
		printf(": %s", x->reason);
	printf("\n");
	if (x->verdict == SOTTO_CONFIG_SELECTED) {
		printf("    %zu key group(s), %zu age recipient(s)",
		    r->ngroups, na);
		if (np > 0)
			printf(", %zu pgp key(s)", np);
		printf("%s\n", no ? ", plus keys of types sotto cannot use" :
		    "");
	}
}

static int
explain(const char *file, const char *config, enum cli_mode mode)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_config *cfg = NULL;
	struct sotto_config_explain *ex = NULL;
	char *path = NULL, *warning = NULL, *dir = NULL, *rel = NULL;
	size_t i;
	sotto_err err;
	int rc = 0;

	if (sotto_config_locate(&path, &warning, config ? config :
	    getenv("SOPS_CONFIG"), &e) != SOTTO_OK)
		goto fail;
	if (warning != NULL)
		cli_warnf(cli_prog(mode), "%s", warning);
	if (path == NULL) {
		sotto_error_set(&e, SOTTO_E_CONFIG_NOT_FOUND, "no .sops.yaml "
		    "found from the working directory '%s' upwards",
		    (dir = getcwd(NULL, 0)) != NULL ? dir : ".");
		goto fail;
	}
	printf("config: %s\n", path);
	if (sotto_config_load(&cfg, path, &e) != SOTTO_OK)
		goto fail;
	/* sops reads the file into structs: other keys are ignored */
	for (i = 0; i < cfg->nunknown; i++)
		printf("ignored: '%s' is not a key sops reads (sops ignores "
		    "it)\n", cfg->unknown[i]);
	if (cfg->nunknown_more > 0)
		printf("ignored: %zu more unknown keys\n", cfg->nunknown_more);
	if (!cfg->has_creation_rules || cfg->nrules == 0) {
		printf("no creation_rules: the config counts as absent "
		    "(keys come from --age or SOPS_AGE_RECIPIENTS)\n");
		goto out;
	}
	if ((ex = calloc(cfg->nrules, sizeof(*ex))) == NULL) {
		sotto_error_set(&e, SOTTO_E_NOMEM, "out of memory");
		goto fail;
	}
	err = sotto_config_explain(ex, &rel, cfg, file, &e);
	if (rel != NULL)
		printf("path seen by the rules: %s\n", rel);
	for (i = 0; i < cfg->nrules; i++)
		print_rule(cfg, &ex[i]);
	if (err != SOTTO_OK)
		goto fail;
	goto out;
fail:
	rc = cli_fail(mode, &e);
out:
	free(ex);
	free(rel);
	free(dir);
	free(path);
	free(warning);
	sotto_config_free(cfg);
	return rc;
}

int
cmd_config(int argc, char **argv, enum cli_mode mode)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	int c;

	if (argc < 2 || strcmp(argv[1], "explain") != 0) {
		bool help = argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
		    strcmp(argv[1], "--help") == 0);

		cli_print_template(help ? stdout : stderr, config_usage,
		    cli_prog(mode), "");
		return help ? 0 : cli_exit_status(SOTTO_E_USAGE, mode);
	}
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'h':
			cli_print_template(stdout, config_usage,
			    cli_prog(mode), "");
			return 0;
		default:
			return cli_exit_status(SOTTO_E_USAGE, mode);
		}
	}
	if (optind != argc - 2) {
		cli_errorf(cli_prog(mode), "config explain takes one FILE");
		return cli_exit_status(SOTTO_E_USAGE, mode);
	}
	return explain(argv[optind + 1], config, mode);
}
