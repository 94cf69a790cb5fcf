/* SPDX-License-Identifier: ISC */
/*
 * `sotto post-render`: a Helm post-renderer (spec in-cluster.md §9.2).
 * Reads the whole YAML stream from stdin and writes it back with every
 * sops document and sops-file Secret value decrypted, document order,
 * comments and formatting kept.  Any failure: nothing on stdout, exit 1.
 */
#include "cli/cli.h"

#include <string.h>

#include "sotto/io.h"
#include "sotto/render.h"

int
cmd_post_render(int argc, char **argv, enum cli_mode mode)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_idlist ids = { NULL, 0 };
	struct sotto_buf sources = SOTTO_BUF_INIT, in = SOTTO_BUF_SECRET_INIT;
	struct sotto_buf out = SOTTO_BUF_SECRET_INIT;
	struct sotto_render_opts ro;
	int rc = 0;

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
	memset(&ro, 0, sizeof(ro));
	if (sotto_io_read_file(&in, "-", SOTTO_RENDER_MAX_STREAM, &e) ||
	    cli_render_keys(&ids, &sources, &e))
		goto fail;
	ro.ids = ids.v;
	ro.nids = ids.n;
	ro.key_sources = sources.len ? (const char *)sources.data : NULL;
	if (sotto_render_stream(&out, in.data, in.len, &ro, &e) ||
	    cli_render_write(&out, &e))
		goto fail;
	goto out;
fail:
	cli_error("sotto", &e);
	rc = cli_render_status(e.code);
out:
	sotto_buf_release(&in);
	sotto_buf_release(&out);
	sotto_buf_release(&sources);
	sotto_age_idlist_free(&ids);
	return rc;
}
