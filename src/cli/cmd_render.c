/* SPDX-License-Identifier: ISC */
/*
 * `sotto render DIR`: the native kustomize-subset renderer with sops
 * decryption at load time (spec in-cluster.md §6, §8.4).  Also holds the
 * key loading and output helpers the other apply-time hooks share
 * (kustomize-plugin, krm, post-render).  Exit: 0 ok, 1 error, 2 usage.
 * Nothing reaches stdout unless the whole render succeeded.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sotto/io.h"
#include "sotto/keys.h"
#include "sotto/kube.h"
#include "sotto/pgp.h"
#include "sotto/render.h"

static const char render_usage[] =
    "usage: sotto render [--redact] [--root DIR] [--key-secret NS/NAME]\n"
    "           [--no-remote-bases] [--cache-dir DIR] [--allow-http-sources]"
    "\n           [--allow-file-sources] DIR\n"
    "       sotto render --list-fields[=text|roff|md]\n"
    "\n"
    "Renders DIR (a kustomization, or a plain directory of *.yaml, *.yml\n"
    "and *.json files) with sops documents decrypted as they are loaded,\n"
    "and prints the objects as one YAML stream in kustomize's order.\n"
    "\n"
    "    --redact          replace Secret data/stringData values with "
    "<redacted>\n"
    "    --root DIR        no path may leave DIR (default: the git work "
    "tree\n"
    "                      holding the target, else the current "
    "directory)\n"
    "    --key-secret NS/NAME  read the *.agekey (age) and *.asc (OpenPGP) "
    "entries\n                      of a Kubernetes Secret (KUBECONFIG or "
    "the in-cluster\n                      service account)\n"
    "    --no-remote-bases refuse git remote bases (github.com/org/repo//"
    "path?ref=v1)\n                      instead of fetching them pinned "
    "to their ref\n"
    "    --cache-dir DIR   where they are fetched, mode 0700 (default\n"
    "                      $XDG_CACHE_HOME/sotto, else ~/.cache/sotto)\n"
    "    --allow-http-sources  http:// remote bases (no TLS)\n"
    "    --allow-file-sources  file:// remote bases (tests, local "
    "mirrors)\n"
    "    --list-fields     the kustomization fields and what sotto does "
    "with\n                      them (roff: sotto-render(1), md: the "
    "README)\n"
    "\n"
    "Keys: SOPS_AGE_KEY_FD, SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, then the "
    "default\nkeys file ($XDG_CONFIG_HOME/sops/age/keys.txt).  See "
    "sotto-render(1).\n";

int
cli_render_status(sotto_err code)
{
	if (code == SOTTO_OK)
		return 0;
	return code == SOTTO_E_USAGE ? 2 : 1;
}

sotto_err
cli_render_keys(struct sotto_age_idlist *ids, struct sotto_buf *sources,
    struct sotto_error *e)
{
	struct sotto_keys_opts ko;

	struct sotto_buf all = SOTTO_BUF_INIT;
	const char *p;
	size_t n;
	sotto_err err;

	memset(&ko, 0, sizeof(ko));
	err = sotto_keys_load_identities(ids, &ko, sources ? &all : NULL, e);
	/* for a one-line message: the sources that are set, "; "-joined */
	for (p = all.data ? (const char *)all.data : ""; sources && *p;
	    p += n + (p[n] == '\n')) {
		n = strcspn(p, "\n");
		if ((n >= 9 && memcmp(p + n - 9, ": not set", 9) == 0) ||
		    (n >= 11 && memcmp(p + n - 11, ": not found", 11) == 0))
			continue;
		if ((sources->len && sotto_buf_addstr(sources, "; ")) ||
		    sotto_buf_add(sources, p, n)) {
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
			break;
		}
	}
	if (sources != NULL && sources->len == 0 && sotto_buf_addstr(sources,
	    "no SOPS_AGE_KEY, SOPS_AGE_KEY_FILE or other source is set"))
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	sotto_buf_release(&all);
	return err;
}

sotto_err
cli_render_write(const struct sotto_buf *out, struct sotto_error *e)
{
	if (out->len == 0)
		return SOTTO_OK;
	if (sotto_io_write_all(STDOUT_FILENO, out->data, out->len) !=
	    SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_IO, "cannot write to "
		    "standard output");
	return SOTTO_OK;
}

sotto_err
cli_render_filter(cli_render_fn fn, struct sotto_error *e)
{
	struct sotto_age_idlist ids = { NULL, 0 };
	struct sotto_buf sources = SOTTO_BUF_INIT, in = SOTTO_BUF_SECRET_INIT;
	struct sotto_buf out = SOTTO_BUF_SECRET_INIT;
	struct sotto_render_opts ro;
	sotto_err err;

	memset(&ro, 0, sizeof(ro));
	if ((err = sotto_io_read_file(&in, "-", SOTTO_RENDER_MAX_STREAM, e)) ||
	    (err = cli_render_keys(&ids, &sources, e)))
		goto out;
	ro.ids = ids.v;
	ro.nids = ids.n;
	ro.key_sources = sources.len ? (const char *)sources.data : NULL;
	if ((err = fn(&out, in.data, in.len, &ro, e)) == SOTTO_OK)
		err = cli_render_write(&out, e);
out:
	sotto_buf_release(&in);
	sotto_buf_release(&out);
	sotto_buf_release(&sources);
	sotto_age_idlist_free(&ids);
	return err;
}

enum { O_REDACT = 256, O_ROOT, O_KEY_SECRET, O_FIELDS, O_NO_REMOTE,
    O_CACHE, O_ALLOW_HTTP, O_ALLOW_FILE };

static const struct option render_opts[] = {
	{ "redact", no_argument, NULL, O_REDACT },
	{ "root", required_argument, NULL, O_ROOT },
	{ "key-secret", required_argument, NULL, O_KEY_SECRET },
	{ "list-fields", optional_argument, NULL, O_FIELDS },
	{ "no-remote-bases", no_argument, NULL, O_NO_REMOTE },
	{ "cache-dir", required_argument, NULL, O_CACHE },
	{ "allow-http-sources", no_argument, NULL, O_ALLOW_HTTP },
	{ "allow-file-sources", no_argument, NULL, O_ALLOW_FILE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Remote bases' cache: $XDG_CACHE_HOME/sotto, else ~/.cache/sotto. */
static sotto_err
default_cache_dir(char *out, size_t cap, struct sotto_error *e)
{
	const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
	int n = -1;

	if (x != NULL && x[0] == '/')
		n = snprintf(out, cap, "%s/sotto", x);
	else if (h != NULL && h[0] == '/')
		n = snprintf(out, cap, "%s/.cache/sotto", h);
	if (n < 0 || (size_t)n >= cap)
		return sotto_error_set(e, SOTTO_E_IO, "no cache directory");
	return SOTTO_OK;
}

/* `--list-fields[=text|roff|md]`: the renderer's own field table. */
static int
list_fields(const char *format)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	int rc = 0;

	if (format == NULL)
		format = "text";
	if (strcmp(format, "text") != 0 && strcmp(format, "roff") != 0 &&
	    strcmp(format, "md") != 0) {
		cli_errorf("sotto", "--list-fields '%s': want text, roff or md",
		    format);
		return 2;
	}
	if (sotto_render_list_fields(&b, format) != SOTTO_OK ||
	    fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
		cli_errorf("sotto", "--list-fields: cannot write the list");
		rc = 1;
	}
	sotto_buf_release(&b);
	return rc;
}

int
cmd_render(int argc, char **argv, enum cli_mode mode)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_idlist ids = { NULL, 0 };
	struct sotto_buf sources = SOTTO_BUF_INIT;
	struct sotto_buf out = SOTTO_BUF_SECRET_INIT;
	struct sotto_render_opts ro;
	struct sotto_pgp_keys *pgp = NULL;
	struct sotto_remote_bases rb;
	const char *key_secret = NULL;
	char cache[4096];
	int c;

	(void)mode;
	memset(&ro, 0, sizeof(ro));
	memset(&rb, 0, sizeof(rb));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", render_opts, NULL)) != -1) {
		switch (c) {
		case O_REDACT: ro.redact = true; break;
		case O_ROOT: ro.root = optarg; break;
		case O_KEY_SECRET: key_secret = optarg; break;
		case O_FIELDS: return list_fields(optarg);
		case O_NO_REMOTE: ro.no_remote_bases = true; break;
		case O_CACHE: rb.cache_dir = optarg; break;
		case O_ALLOW_HTTP: rb.allow_http = true; break;
		case O_ALLOW_FILE: rb.allow_file = true; break;
		case 'h': fputs(render_usage, stdout); return 0;
		default: fputs(render_usage, stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(render_usage, stderr);
		return 2;
	}
	/* without a cache directory, a remote base says why it failed */
	if (rb.cache_dir == NULL && default_cache_dir(cache, sizeof(cache),
	    &e) == SOTTO_OK)
		rb.cache_dir = cache;
	ro.git = sotto_remote_base_fetch;
	ro.git_arg = &rb;
	e.code = SOTTO_OK;
	/*
	 * Key input order (issue 7): --key-secret first, then the
	 * environment sources.  Keys from the Secret stay in memory only.
	 */
	if (key_secret != NULL) {
		if ((pgp = sotto_pgp_keys_new()) == NULL) {
			sotto_error_set(&e, SOTTO_E_NOMEM, "out of memory");
			goto fail;
		}
		if (sotto_kube_load_key_secret(&ids, pgp, NULL, key_secret,
		    &e) != SOTTO_OK)
			goto fail;
		if (sotto_buf_addf(&sources, "Secret %s", key_secret) !=
		    SOTTO_OK) {
			sotto_error_set(&e, SOTTO_E_NOMEM, "out of memory");
			goto fail;
		}
	} else if (cli_render_keys(&ids, &sources, &e) != SOTTO_OK) {
		goto fail;
	}
	ro.ids = ids.v;
	ro.nids = ids.n;
	ro.pgp = pgp;
	ro.key_sources = sources.len ? (const char *)sources.data : NULL;
	if (sotto_render_dir(&out, argv[optind], &ro, &e) != SOTTO_OK ||
	    cli_render_write(&out, &e) != SOTTO_OK)
		goto fail;
	sotto_buf_release(&out);
	sotto_age_idlist_free(&ids);
	sotto_pgp_keys_free(pgp);
	sotto_buf_release(&sources);
	return 0;
fail:
	cli_error("sotto", &e);
	sotto_buf_release(&out);
	sotto_age_idlist_free(&ids);
	sotto_pgp_keys_free(pgp);
	sotto_buf_release(&sources);
	return cli_render_status(e.code);
}
