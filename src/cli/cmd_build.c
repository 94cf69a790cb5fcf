/* SPDX-License-Identifier: ISC */
/*
 * `sotto build kustomization NAME --path DIR` and `sotto diff
 * kustomization NAME --path DIR` (issue #20), flux's commands of the same
 * name on the controller's own pipeline (src/kube/build_ks.c).  Exit:
 * build 0 done, 1 error, 2 usage; diff as flux diff: 0 no change, 1
 * changes, 2 error or usage.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/kube.h"
#include "sotto/kubeops.h"

static const char build_usage[] =
    "usage: sotto build kustomization|ks NAME --path DIR [-n NS]\n"
    "           [--kustomization-file FILE [--dry-run]] [--show-secrets]\n"
    "\n"
    "What the controller would apply for the Kustomization NAME, with DIR a\n"
    "local checkout of its spec.path: the render, its spec transformations\n"
    "and postBuild substitution, as one YAML stream.  sops files are\n"
    "decrypted with the local keys, if any; Secret values are masked\n"
    "unless --show-secrets.  See sotto-build(1).\n"
    "\n"
    "    --path DIR                 the local spec.path (required)\n"
    "    -n, --namespace NS         default: the context's namespace\n"
    "    --kustomization-file FILE  the Kustomization's spec from FILE\n"
    "    --dry-run                  no cluster: FILE only, no "
    "substituteFrom\n"
    "    --show-secrets             print Secret values\n"
    "    --kubeconfig FILE          else $KUBECONFIG, ~/.kube/config\n"
    "    --context NAME             a kubeconfig context\n"
    "\n"
    "Keys: SOPS_AGE_KEY_FD, SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, then the "
    "default\nkeys file; never the cluster's decryption Secret.\n";

static const char diff_usage[] =
    "usage: sotto diff kustomization|ks NAME --path DIR [-n NS]\n"
    "           [--kustomization-file FILE]\n"
    "\n"
    "Builds as `sotto build` does, runs the controller's server-side apply\n"
    "of each object as a dry run and prints what would change: \"► "
    "Kind/ns/name\ncreated|drifted|skipped|deleted\" and the changed "
    "fields.  Secret values\nare masked.  Exit 0: no change, 1: changes, "
    "2: error.  See sotto-diff(1).\n"
    "\n"
    "    --path DIR                 the local spec.path (required)\n"
    "    -n, --namespace NS         default: the context's namespace\n"
    "    --kustomization-file FILE  the Kustomization's spec from FILE\n"
    "    --kubeconfig FILE          else $KUBECONFIG, ~/.kube/config\n"
    "    --context NAME             a kubeconfig context\n"
    "\n"
    "sops files are decrypted with the local keys (SOPS_AGE_KEY_FILE, ...)\n"
    "when there are any; else encrypted Secrets are compared by their data\n"
    "keys only.\n";

enum { O_PATH = 256, O_KSFILE, O_DRY, O_SHOW, O_KUBECONFIG, O_CONTEXT };

static const struct option build_opts[] = {
	{ "namespace", required_argument, NULL, 'n' },
	{ "path", required_argument, NULL, O_PATH },
	{ "kustomization-file", required_argument, NULL, O_KSFILE },
	{ "dry-run", no_argument, NULL, O_DRY },
	{ "show-secrets", no_argument, NULL, O_SHOW },
	{ "kubeconfig", required_argument, NULL, O_KUBECONFIG },
	{ "context", required_argument, NULL, O_CONTEXT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct bargs {
	struct sotto_ops o;
	struct sotto_ops_build b;
	char *pos[3];
	int npos;
};

/* Remote bases' cache: $XDG_CACHE_HOME/sotto, else ~/.cache/sotto. */
static const char *
cache_dir(char *out, size_t cap)
{
	const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
	int n = -1;

	if (x != NULL && x[0] == '/')
		n = snprintf(out, cap, "%s/sotto", x);
	else if (h != NULL && h[0] == '/')
		n = snprintf(out, cap, "%s/.cache/sotto", h);
	return n < 0 || (size_t)n >= cap ? NULL : out;
}

/* Parses argv into a; -1 to go on, else the exit status. */
static int
parse(struct bargs *a, int argc, char **argv, const char *cmd,
    const char *usage, bool diff)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->o.out = stdout;
	a->o.err = stderr;
	optind = 1;
	for (;;) {
		while ((c = getopt_long(argc, argv, "+hn:", build_opts,
		    NULL)) != -1) {
			if (diff && (c == O_DRY || c == O_SHOW)) {
				cli_errorf("sotto", "%s: unknown flag '%s'",
				    cmd, argv[optind - 1]);
				c = '?';
			}
			switch (c) {
			case 'h': fputs(usage, stdout); return 0;
			case 'n': a->o.ns = optarg; break;
			case O_PATH: a->b.path = optarg; break;
			case O_KSFILE: a->b.ks_file = optarg; break;
			case O_DRY: a->b.dry_run = true; break;
			case O_SHOW: a->b.show_secrets = true; break;
			case O_KUBECONFIG: a->o.kubeconfig = optarg; break;
			case O_CONTEXT: a->o.context = optarg; break;
			default: fputs(usage, stderr); return 2;
			}
		}
		if (optind >= argc)
			break;
		if (a->npos == 3) {
			fputs(usage, stderr);
			return 2;
		}
		a->pos[a->npos++] = argv[optind++];
	}
	if (a->npos == 0) {
		cli_errorf("sotto", "%s: which kind? (kustomization or ks)",
		    cmd);
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(a->pos[0], "kustomization") != 0 && strcmp(a->pos[0],
	    "ks") != 0) {
		cli_errorf("sotto", "%s: kind '%s' is not served by sotto "
		    "(kustomization or ks)", cmd, a->pos[0]);
		fputs(usage, stderr);
		return 2;
	}
	if (a->npos != 2) {
		cli_errorf("sotto", "%s: %s", cmd, a->npos < 2 ? "name is "
		    "required" : "one name only");
		fputs(usage, stderr);
		return 2;
	}
	a->b.name = a->pos[1];
	if (a->b.path == NULL || a->b.path[0] == '\0') {
		cli_errorf("sotto", "%s: --path is required", cmd);
		return 2;
	}
	if (a->b.dry_run && a->b.ks_file == NULL) {
		cli_errorf("sotto", "%s: --dry-run needs --kustomization-file",
		    cmd);
		return 2;
	}
	return -1;
}

/* The local keys (the CLI's usual sources); ids->n 0 when none is set. */
static sotto_err
local_keys(struct bargs *a, struct sotto_age_idlist *ids,
    struct sotto_buf *sources, struct sotto_error *e)
{
	sotto_err rc = cli_render_keys(ids, sources, e);

	a->b.ids = ids->v;
	a->b.nids = ids->n;
	a->b.key_sources = sources->len ? (const char *)sources->data : NULL;
	return rc;
}

int
cmd_build(int argc, char **argv, enum cli_mode mode)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_idlist ids = { NULL, 0 };
	struct sotto_buf sources = SOTTO_BUF_INIT;
	struct bargs a;
	char cache[4096];
	int st;

	(void)mode;
	if ((st = parse(&a, argc, argv, "build", build_usage, false)) >= 0)
		return st;
	a.b.cache_dir = cache_dir(cache, sizeof(cache));
	sotto_kube_harden_json();
	signal(SIGPIPE, SIG_IGN);
	if (local_keys(&a, &ids, &sources, &e) == SOTTO_OK &&
	    sotto_ops_build(&a.o, &a.b, &e) == SOTTO_OK)
		st = 0;
	else
		st = e.code == SOTTO_E_USAGE ? 2 : 1;
	if (st != 0)
		cli_error("sotto", &e);
	sotto_age_idlist_free(&ids);
	sotto_buf_release(&sources);
	return st;
}

int
cmd_diff(int argc, char **argv, enum cli_mode mode)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_idlist ids = { NULL, 0 };
	struct sotto_buf sources = SOTTO_BUF_INIT;
	struct bargs a;
	char cache[4096];
	bool changed = false;
	int st;

	(void)mode;
	if ((st = parse(&a, argc, argv, "diff", diff_usage, true)) >= 0)
		return st;
	a.b.cache_dir = cache_dir(cache, sizeof(cache));
	sotto_kube_harden_json();
	signal(SIGPIPE, SIG_IGN);
	if (local_keys(&a, &ids, &sources, &e) == SOTTO_OK &&
	    sotto_ops_diff(&a.o, &a.b, &changed, &e) == SOTTO_OK) {
		st = changed ? 1 : 0;
	} else {
		cli_error("sotto", &e);
		st = 2;
	}
	sotto_age_idlist_free(&ids);
	sotto_buf_release(&sources);
	return st;
}
