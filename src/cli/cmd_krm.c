/* SPDX-License-Identifier: ISC */
/*
 * `sotto krm`: a KRM exec function (spec in-cluster.md §9.1) for
 * `kpt fn eval --exec` and `kustomize build --enable-alpha-plugins
 * --enable-exec`.  ResourceList in on stdin, ResourceList out: sops items
 * decrypted (transformer) and, with a SottoSecretGenerator functionConfig,
 * its files appended (generator).  Failure: one line on stderr, exit 1.
 */
#include "cli/cli.h"

#include <string.h>

#include "sotto/render.h"

/* The KRM function runs in the package directory: cwd is the root. */
static sotto_err
krm_here(struct sotto_buf *out, const uint8_t *in, size_t len,
    const struct sotto_render_opts *o, struct sotto_error *e)
{
	return sotto_render_krm(out, in, len, ".", o, e);
}

int
cmd_krm(int argc, char **argv, enum cli_mode mode)
{
	struct sotto_error e = { SOTTO_OK, "" };

	(void)mode;
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf("usage: sotto krm < resourcelist.yaml\n\nKRM function:"
		    " decrypts sops items of a ResourceList; with a\n"
		    "functionConfig of kind SottoSecretGenerator (sotto.dev/v1)"
		    " appends its\ndecrypted files.  Keys as for sotto "
		    "render.\n");
		return 0;
	}
	if (cli_render_filter(krm_here, &e) == SOTTO_OK)
		return 0;
	cli_error("sotto", &e);
	return 1;
}
