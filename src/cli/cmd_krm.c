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

#include "sotto/io.h"
#include "sotto/render.h"

int
cmd_krm(int argc, char **argv, enum cli_mode mode)
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
		printf("usage: sotto krm < resourcelist.yaml\n\nKRM function:"
		    " decrypts sops items of a ResourceList; with a\n"
		    "functionConfig of kind SottoSecretGenerator (sotto.dev/v1)"
		    " appends its\ndecrypted files.  Keys as for sotto "
		    "render.\n");
		return 0;
	}
	memset(&ro, 0, sizeof(ro));
	if (sotto_io_read_file(&in, "-", SOTTO_RENDER_MAX_STREAM, &e) ||
	    cli_render_keys(&ids, &sources, &e))
		goto fail;
	ro.ids = ids.v;
	ro.nids = ids.n;
	ro.key_sources = sources.len ? (const char *)sources.data : NULL;
	if (sotto_render_krm(&out, in.data, in.len, ".", &ro, &e) ||
	    cli_render_write(&out, &e))
		goto fail;
	goto out;
fail:
	cli_error("sotto", &e);
	rc = 1;
out:
	sotto_buf_release(&in);
	sotto_buf_release(&out);
	sotto_buf_release(&sources);
	sotto_age_idlist_free(&ids);
	return rc;
}
