/* SPDX-License-Identifier: ISC */
/*
 * More commands of operating sotto like Flux: `sotto check`, `sotto
 * uninstall`, `sotto tree kustomization NAME`, `sotto logs`, and the
 * --watch of `get` and `events` (cmd_ops.c hands over).  Flags follow
 * flux's.  Exit: 0 done, 1 a check or deletion failed (or uninstall was
 * not confirmed), 2 usage, else the error's status.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sotto/kube.h"
#include "sotto/kubeops2.h"

static const char check_usage[] =
    "usage: sotto check [--pre] [-n NS] [--kubeconfig FILE] [--context NAME]\n"
    "\n"
    "Checks the cluster as `flux check` does: the Kubernetes version (at\n"
    "least " SOTTO_OPS_KUBE_MIN "), the clock skew to the API server (at most "
    "5s), the\n"
    "controller's Deployment (available) and Lease (a leader elected), "
    "the\n"
    "CRDs (v1 served, not newer than this sotto) and the controller's\n"
    "permissions (SelfSubjectAccessReviews as its ServiceAccount).  Exit 1\n"
    "with the fix named when a check fails.  See sotto-check(1).\n"
    "\n"
    "    --pre               only the prerequisites (the Kubernetes "
    "version)\n"
    "    -n, --namespace NS  the controller's namespace (default "
    "sotto-system)\n"
    "    --kubeconfig FILE   else $KUBECONFIG, ~/.kube/config\n"
    "    --context NAME      a kubeconfig context\n";

static const char uninstall_usage[] =
    "usage: sotto uninstall [--keep-namespace] [--delete-keys] [--dry-run]\n"
    "                       [-s | --silent] [-n NS] [--kubeconfig FILE]\n"
    "\n"
    "Deletes what `sotto install` applied, as `flux uninstall` does: the\n"
    "Deployment, RBAC and ServiceAccount, the finalizers of every\n"
    "Kustomization and GitRepository, the CRDs labelled\n"
    "app.kubernetes.io/part-of=sotto, and the namespace.  Key Secrets (a\n"
    "`sotto cluster keygen` key, decryption Secrets) are never deleted\n"
    "without --delete-keys: a namespace holding one is kept.  Asks first\n"
    "on a terminal; refuses without one unless --silent.  See\n"
    "sotto-uninstall(1).\n"
    "\n"
    "    --keep-namespace    do not delete the namespace\n"
    "    --delete-keys       delete the key Secrets too\n"
    "    --dry-run           only print what would be deleted\n"
    "    -s, --silent        do not ask for confirmation\n"
    "    -n, --namespace NS  the controller's namespace (default "
    "sotto-system)\n";

static const char tree_usage[] =
    "usage: sotto tree kustomization|ks NAME [-n NS] [--kubeconfig FILE]\n"
    "\n"
    "The objects a Kustomization applied (its status.inventory) as a tree,\n"
    "as `flux tree kustomization` prints it; nested Kustomizations are\n"
    "followed.  See sotto-tree(1).\n"
    "\n"
    "    -n, --namespace NS  default: the context's namespace\n"
    "    --kubeconfig FILE   else $KUBECONFIG, ~/.kube/config\n"
    "    --context NAME      a kubeconfig context\n";

static const char logs_usage[] =
    "usage: sotto logs [-f | --follow] [--tail N] [--level debug|info|error]\n"
    "                  [--kind KIND] [--name NAME] [-n NS | -A]\n"
    "                  [--flux-namespace NS] [--kubeconfig FILE]\n"
    "\n"
    "The controller's JSON log lines, read from its Pod (the leader's when\n"
    "there is one), filtered and formatted as `flux logs` does: \"TIME "
    "LEVEL\n"
    "Kind/name.namespace - message\".  See sotto-logs(1).\n"
    "\n"
    "    -f, --follow           stream new lines\n"
    "    --tail N               the last N lines only\n"
    "    --level LEVEL          only lines of that level\n"
    "    --kind KIND            only lines about that kind (Kustomization,\n"
    "                           GitRepository)\n"
    "    --name NAME            only lines about objects of that name\n"
    "    -n, --namespace NS     only lines about objects in NS\n"
    "    -A, --all-namespaces   every namespace (the default)\n"
    "    --flux-namespace NS    the controller's namespace (default "
    "sotto-system)\n";

enum { X_KUBECONFIG = 256, X_CONTEXT, X_PRE, X_KEEP_NS, X_DELETE_KEYS,
    X_DRY_RUN, X_TAIL, X_LEVEL, X_KIND, X_NAME, X_FLUX_NS };

static const struct option x_opts[] = {
	{ "namespace", required_argument, NULL, 'n' },
	{ "all-namespaces", no_argument, NULL, 'A' },
	{ "silent", no_argument, NULL, 's' },
	{ "follow", no_argument, NULL, 'f' },
	{ "kubeconfig", required_argument, NULL, X_KUBECONFIG },
	{ "context", required_argument, NULL, X_CONTEXT },
	{ "pre", no_argument, NULL, X_PRE },
	{ "keep-namespace", no_argument, NULL, X_KEEP_NS },
	{ "delete-keys", no_argument, NULL, X_DELETE_KEYS },
	{ "dry-run", no_argument, NULL, X_DRY_RUN },
	{ "tail", required_argument, NULL, X_TAIL },
	{ "level", required_argument, NULL, X_LEVEL },
	{ "kind", required_argument, NULL, X_KIND },
	{ "name", required_argument, NULL, X_NAME },
	{ "flux-namespace", required_argument, NULL, X_FLUX_NS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct xargs {
	struct sotto_ops o;
	struct sotto_opsx x;
	bool silent;
	char *pos[3];
	int npos;
};

/* one flag's value into a; -1 to go on, else the exit status */
static int
x_flag(void *arg, int c)
{
	struct xargs *a = arg;
	char *end;

	switch (c) {
	case 'n': a->o.ns = optarg; break;
	case 'A': a->o.all_ns = true; break;
	case 's': a->silent = true; break;
	case 'f': a->x.follow = true; break;
	case X_KUBECONFIG: a->o.kubeconfig = optarg; break;
	case X_CONTEXT: a->o.context = optarg; break;
	case X_PRE: a->x.pre = true; break;
	case X_KEEP_NS: a->x.keep_ns = true; break;
	case X_DELETE_KEYS: a->x.delete_keys = true; break;
	case X_DRY_RUN: a->x.dry_run = true; break;
	case X_TAIL:
		a->x.tail = strtol(optarg, &end, 10);
		if (*optarg == '\0' || *end != '\0' || a->x.tail < 0) {
			cli_errorf("sotto", "--tail '%s': want a number of "
			    "lines", optarg);
			return 2;
		}
		break;
	case X_LEVEL:
		if (strcmp(optarg, "debug") != 0 && strcmp(optarg, "info") !=
		    0 && strcmp(optarg, "error") != 0) {
			cli_errorf("sotto", "--level '%s': want debug, info or "
			    "error", optarg);
			return 2;
		}
		a->x.level = optarg;
		break;
	case X_KIND: a->x.kind = optarg; break;
	case X_NAME: a->x.name = optarg; break;
	case X_FLUX_NS: a->x.ctl_ns = optarg; break;
	default: break;
	}
	return -1;
}

/*
 * argv (argv[0] the command) into a; shorts and longs (X_* ids) are what
 * the command takes.  Returns -1 to go on, else the exit status.
 */
static int
x_parse(struct xargs *a, int argc, char **argv, const char *usage,
    const char *shorts, const int *longs)
{
	const struct cli_ops_parse p = { usage, shorts, "n", longs, x_opts,
	    x_flag, 3 };
	int st;

	memset(a, 0, sizeof(*a));
	a->o.out = stdout;
	a->o.err = stderr;
	a->x.tail = -1;
	if ((st = cli_ops_parse(argc, argv, &p, a, a->pos, &a->npos)) >= 0)
		return st;
	if (a->o.all_ns && a->o.ns != NULL) {
		cli_errorf("sotto", "--all-namespaces and --namespace are "
		    "mutually exclusive");
		return 2;
	}
	return -1;
}


int
cmd_check(int argc, char **argv, enum cli_mode mode)
{
	static const int longs[] = { X_KUBECONFIG, X_CONTEXT, X_PRE, 0 };
	struct sotto_error e = { SOTTO_OK, "" };
	struct xargs a;
	int st;

	(void)mode;
	if ((st = x_parse(&a, argc, argv, check_usage, "n", longs)) >= 0)
		return st;
	if (a.npos != 0) {
		fputs(check_usage, stderr);
		return 2;
	}
	a.o.version = cli_version_number();
	a.x.ctl_ns = a.o.ns;
	a.o.ns = NULL;
	sotto_kube_harden_json();
	if (sotto_ops_check(&a.o, &a.x, &e) != SOTTO_OK)
		return cli_ops_fail(&e);
	return 0;
}

/* flux's confirmation: y or yes on a terminal */
static bool
confirmed(void)
{
	char ans[16];

	fputs("? Are you sure you want to delete sotto and its custom "
	    "resource definitions? [y/N] ", stderr);
	fflush(stderr);
	if (fgets(ans, sizeof(ans), stdin) == NULL)
		return false;
	ans[strcspn(ans, "\r\n")] = '\0';
	return strcmp(ans, "y") == 0 || strcmp(ans, "Y") == 0 ||
	    strcmp(ans, "yes") == 0;
}

int
cmd_uninstall(int argc, char **argv, enum cli_mode mode)
{
	static const int longs[] = { X_KUBECONFIG, X_CONTEXT, X_KEEP_NS,
		X_DELETE_KEYS, X_DRY_RUN, 0 };
	struct sotto_error e = { SOTTO_OK, "" };
	struct xargs a;
	int st;

	(void)mode;
	if ((st = x_parse(&a, argc, argv, uninstall_usage, "ns", longs)) >= 0)
		return st;
	if (a.npos != 0) {
		fputs(uninstall_usage, stderr);
		return 2;
	}
	if (!a.silent && !a.x.dry_run) {
		if (!isatty(STDIN_FILENO)) {
			cli_errorf("sotto", "uninstall: refusing to delete "
			    "without confirmation: stdin is not a terminal "
			    "(pass --silent)");
			return 1;
		}
		if (!confirmed()) {
			cli_errorf("sotto", "uninstall: aborting");
			return 1;
		}
	}
	a.o.version = cli_version_number();
	a.x.ctl_ns = a.o.ns;
	a.o.ns = NULL;
	sotto_kube_harden_json();
	if (sotto_ops_uninstall(&a.o, &a.x, &e) != SOTTO_OK)
		return cli_ops_fail(&e);
	return 0;
}

int
cmd_tree(int argc, char **argv, enum cli_mode mode)
{
	static const int longs[] = { X_KUBECONFIG, X_CONTEXT, 0 };
	struct sotto_error e = { SOTTO_OK, "" };
	struct xargs a;
	int st;

	(void)mode;
	if ((st = x_parse(&a, argc, argv, tree_usage, "n", longs)) >= 0)
		return st;
	if (a.npos == 0 || (strcmp(a.pos[0], "kustomization") != 0 &&
	    strcmp(a.pos[0], "ks") != 0)) {
		if (a.npos == 0)
			cli_errorf("sotto", "tree: which kind? (kustomization "
			    "or ks)");
		else
			cli_errorf("sotto", "tree: kind '%s' is not served by "
			    "sotto (kustomization or ks)", a.pos[0]);
		fputs(tree_usage, stderr);
		return 2;
	}
	if (a.npos != 2) {
		cli_errorf("sotto", "tree: kustomization name is required");
		fputs(tree_usage, stderr);
		return 2;
	}
	sotto_kube_harden_json();
	if (sotto_ops_tree(&a.o, a.pos[1], &e) != SOTTO_OK)
		return cli_ops_fail(&e);
	return 0;
}

int
cmd_logs(int argc, char **argv, enum cli_mode mode)
{
	static const int longs[] = { X_KUBECONFIG, X_CONTEXT, X_TAIL, X_LEVEL,
		X_KIND, X_NAME, X_FLUX_NS, 0 };
	struct sotto_error e = { SOTTO_OK, "" };
	struct xargs a;
	int st;

	(void)mode;
	if ((st = x_parse(&a, argc, argv, logs_usage, "nAf", longs)) >= 0)
		return st;
	if (a.npos != 0) {
		cli_errorf("sotto", "logs: no argument required");
		fputs(logs_usage, stderr);
		return 2;
	}
	sotto_kube_harden_json();
	signal(SIGPIPE, SIG_IGN);
	if (sotto_ops_logs(&a.o, &a.x, &e) != SOTTO_OK)
		return cli_ops_fail(&e);
	return 0;
}

int
cli_ops_watch(const struct sotto_ops *o, int kind, bool events,
    const char *name, const char *for_ref)
{
	struct sotto_error e = { SOTTO_OK, "" };

	signal(SIGPIPE, SIG_IGN);
	if (sotto_ops_watch(o, kind == 1 ? SOTTO_OPS_GIT : SOTTO_OPS_KS, events,
	    name, for_ref, &e) != SOTTO_OK)
		return cli_ops_fail(&e);
	return 0;
}
