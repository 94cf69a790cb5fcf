/* SPDX-License-Identifier: ISC */
/*
 * `sotto post-render`: a Helm post-renderer (spec in-cluster.md §9.2).
 * Reads the whole YAML stream from stdin and writes it back with every
 * sops document and sops-file Secret value decrypted, document order,
 * comments and formatting kept.  Any failure: nothing on stdout, exit 1.
 */
#include "cli/cli.h"

#include <string.h>

#include "sotto/render.h"

int
cmd_post_render(int argc, char **argv, enum cli_mode mode)
{
	struct sotto_error e = { SOTTO_OK, "" };

	(void)mode;
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf("usage: sotto post-render < stream.yaml\n\nHelm "
		    "post-renderer: decrypts the sops documents of a YAML "
		    "stream,\nkeeping document order and formatting.  Keys as "
		    "for sotto render.\n");
		return 0;
	}
	if (argc > 1) {
		cli_errorf("sotto", "post-render takes no arguments");
		return 2;
	}
	if (cli_render_filter(sotto_render_stream, &e) == SOTTO_OK)
		return 0;
	cli_error("sotto", &e);
	return cli_render_status(e.code);
}
