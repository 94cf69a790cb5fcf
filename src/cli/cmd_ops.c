/* SPDX-License-Identifier: ISC */
/*
 * Operating sotto like Flux (issue #20): `sotto controller` (the agent's
 * name; `sotto reconcile` without a kind stays its alias), `sotto
 * reconcile kustomization|source git NAME`, `get`, `suspend`, `resume`,
 * `install`, `events`.  Flags follow flux's.  Exit: 0 done, 1 the object
 * failed to reconcile (or timed out), 2 usage, else the error's status.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/kube.h"
#include "sotto/kubeops.h"

static const char get_usage[] =
    "usage: sotto get kustomizations|ks [NAME] [-n NS | -A] [-o json|yaml |\n"
    "                 -w]\n"
    "       sotto get sources git [NAME] [-n NS | -A] [-o json|yaml | -w]\n"
    "\n"
    "The Flux objects and their status, as `flux get` prints them.  See\n"
    "sotto-get(1).\n"
    "\n"
    "    -n, --namespace NS     default: the context's namespace\n"
    "    -A, --all-namespaces   every namespace (a NAMESPACE column)\n"
    "    -o, --output FORMAT    json or yaml: the objects themselves\n"
    "    -w, --watch            then print each new or changed row until\n"
    "                           the API server ends the watch\n"
    "    --kubeconfig FILE      else $KUBECONFIG, ~/.kube/config\n"
    "    --context NAME         a kubeconfig context\n";

static const char reconcile_obj_usage[] =
    "usage: sotto reconcile kustomization|ks NAME [-n NS] [--with-source]\n"
    "                       [--timeout D]\n"
    "       sotto reconcile source git NAME [-n NS] [--timeout D]\n"
    "       sotto reconcile [--once] ...   the controller, sotto-reconcile(8)\n"
    "\n"
    "Asks the controller for a reconcile now (the annotation\n"
    "reconcile.fluxcd.io/requestedAt) and waits for its result, as `flux\n"
    "reconcile` does.  Exit 1 when it fails or --timeout passes.\n"
    "\n"
    "    -n, --namespace NS  default: the context's namespace\n"
    "    --with-source       reconcile the Kustomization's GitRepository "
    "first\n"
    "    --timeout D         how long to wait (default 5m)\n"
    "    --kubeconfig FILE   else $KUBECONFIG, ~/.kube/config\n"
    "    --context NAME      a kubeconfig context\n";

static const char suspend_usage[] =
    "usage: sotto suspend kustomization|ks NAME [-n NS]\n"
    "       sotto suspend source git NAME [-n NS]\n"
    "       sotto resume kustomization|ks NAME [-n NS] [--timeout D]\n"
    "       sotto resume source git NAME [-n NS] [--timeout D]\n"
    "\n"
    "suspend sets spec.suspend: the controller leaves the object alone.\n"
    "resume clears it and waits for the reconcile that follows.  See\n"
    "sotto-suspend(1).\n"
    "\n"
    "    -n, --namespace NS  default: the context's namespace\n"
    "    --timeout D         resume: how long to wait (default 5m)\n"
    "    --kubeconfig FILE   else $KUBECONFIG, ~/.kube/config\n"
    "    --context NAME      a kubeconfig context\n";

static const char install_usage[] =
    "usage: sotto install [--export] [--namespace NS] [--components-only |\n"
    "                     --crds-only] [--kubeconfig FILE] [--context NAME]\n"
    "\n"
    "Installs what the controller needs: the CustomResourceDefinitions of\n"
    "kustomize.toolkit.fluxcd.io/v1 Kustomization and\n"
    "source.toolkit.fluxcd.io/v1 GitRepository, the namespace, RBAC and the\n"
    "Deployment (server-side apply, field manager sotto).  Idempotent.  A\n"
    "CRD labelled with a newer sotto version is left alone (exit 1).  See\n"
    "sotto-install(1).\n"
    "\n"
    "    --export            print the manifests (YAML) instead\n"
    "    -n, --namespace NS  the controller's namespace (default "
    "sotto-system)\n"
    "    --components-only   no CRDs\n"
    "    --crds-only         only the CRDs\n";

static const char events_usage[] =
    "usage: sotto events [--for Kind/NAME] [-n NS | -A] [-w]\n"
    "\n"
    "The Events of the namespace, oldest first, as `flux events` prints\n"
    "them (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE).  See "
    "sotto-events(1).\n"
    "\n"
    "    --for Kind/NAME       only the Events about that object\n"
    "    -n, --namespace NS    default: the context's namespace\n"
    "    -A, --all-namespaces  every namespace\n"
    "    -w, --watch           print each new or changed Event until the\n"
    "                          API server ends the watch\n";

enum { O_KUBECONFIG = 256, O_CONTEXT, O_TIMEOUT, O_WITH_SOURCE, O_EXPORT,
    O_COMPONENTS, O_CRDS, O_FOR };

static const struct option ops_opts[] = {
	{ "namespace", required_argument, NULL, 'n' },
	{ "all-namespaces", no_argument, NULL, 'A' },
	{ "output", required_argument, NULL, 'o' },
	{ "kubeconfig", required_argument, NULL, O_KUBECONFIG },
	{ "context", required_argument, NULL, O_CONTEXT },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "with-source", no_argument, NULL, O_WITH_SOURCE },
	{ "export", no_argument, NULL, O_EXPORT },
	{ "components-only", no_argument, NULL, O_COMPONENTS },
	{ "crds-only", no_argument, NULL, O_CRDS },
	{ "for", required_argument, NULL, O_FOR },
	{ "watch", no_argument, NULL, 'w' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct opsargs {
	struct sotto_ops o;
	bool export, components, crds;
	bool watch;		/* get, events: -w (cmd_ops2.c) */
	const char *for_ref;
	char *pos[4];
	int npos;
};

static double
ops_duration(const char *s)
{
	double v, mult = 1;
	char *end;

	v = strtod(s, &end);
	if (strcmp(end, "ms") == 0)
		mult = 0.001;
	else if (strcmp(end, "m") == 0)
		mult = 60;
	else if (strcmp(end, "h") == 0)
		mult = 3600;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return -1;
	if (end == s || v <= 0)
		return -1;
	return v * mult;
}

int
cli_ops_parse(int argc, char **argv, const struct cli_ops_parse *p,
    void *arg, char **pos, int *npos)
{
	char sopt[24];
	size_t o = 0;
	int c, i, st;
	bool ok;

	/* getopt: the shorts in p->with_arg take an argument */
	sopt[o++] = '+';
	sopt[o++] = 'h';
	for (i = 0; p->shorts[i] != '\0' && o + 3 < sizeof(sopt); i++) {
		sopt[o++] = p->shorts[i];
		if (strchr(p->with_arg, p->shorts[i]) != NULL)
			sopt[o++] = ':';
	}
	sopt[o] = '\0';
	optind = 1;
	*npos = 0;
	for (;;) {
		/* options and positionals in any order, as flux takes them */
		while ((c = getopt_long(argc, argv, sopt, p->opts, NULL)) !=
		    -1) {
			ok = c == 'h' || (c < 256 && c != '?' &&
			    strchr(p->shorts, c) != NULL);
			for (i = 0; !ok && p->longs[i] != 0; i++)
				ok = p->longs[i] == c;
			if (!ok) {
				if (c != '?')
					cli_errorf("sotto", "%s: unknown flag "
					    "'%s'", argv[0], argv[optind - 1]);
				fputs(p->usage, stderr);
				return 2;
			}
			if (c == 'h') {
				fputs(p->usage, stdout);
				return 0;
			}
			if ((st = p->flag(arg, c)) >= 0)
				return st;
		}
		if (optind >= argc)
			break;
		if (*npos == p->maxpos) {
			fputs(p->usage, stderr);
			return 2;
		}
		pos[(*npos)++] = argv[optind++];
	}
	return -1;
}

/* The values of the flags cmd_ops.c's commands take; -1 or exit status. */
static int
ops_flag(void *arg, int c)
{
	struct opsargs *a = arg;

	switch (c) {
	case 'n': a->o.ns = optarg; break;
	case 'A': a->o.all_ns = true; break;
	case 'o':
		if (strcmp(optarg, "json") != 0 && strcmp(optarg, "yaml") != 0) {
			cli_errorf("sotto", "--output '%s': want json or yaml",
			    optarg);
			return 2;
		}
		a->o.output = optarg;
		break;
	case O_KUBECONFIG: a->o.kubeconfig = optarg; break;
	case O_CONTEXT: a->o.context = optarg; break;
	case O_TIMEOUT:
		if ((a->o.timeout = ops_duration(optarg)) < 0) {
			cli_errorf("sotto", "--timeout '%s': want a duration "
			    "like 30s", optarg);
			return 2;
		}
		break;
	case O_WITH_SOURCE: a->o.with_source = true; break;
	case O_EXPORT: a->export = true; break;
	case O_COMPONENTS: a->components = true; break;
	case O_CRDS: a->crds = true; break;
	case O_FOR: a->for_ref = optarg; break;
	case 'w': a->watch = true; break;
	default: break;
	}
	return -1;
}

/*
 * Parses argv (argv[0] the command) into a; allowed: the short and long
 * flags the command takes ("nAo" and O_* ids in longs).  Returns -1 to go
 * on, else the exit status.
 */
static int
ops_parse(struct opsargs *a, int argc, char **argv, const char *usage,
    const char *shorts, const int *longs)
{
	const struct cli_ops_parse p = { usage, shorts, "no", longs, ops_opts,
	    ops_flag, 4 };
	int st;

	memset(a, 0, sizeof(*a));
	a->o.out = stdout;
	a->o.err = stderr;
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
cli_ops_fail(const struct sotto_error *e)
{
	if (e->code == SOTTO_E_RECONCILE) {
		fprintf(stderr, "\xe2\x9c\x97 %s\n", e->msg);
		return 1;
	}
	cli_error("sotto", e);
	return e->code == SOTTO_E_USAGE ? 2 : 1;
}

/*
 * The kind at pos[0] (and pos[1] for "source git"): KS or GIT, the
 * number of words it took, 0 if none.  plural: get's spellings.
 */
static int
ops_kind(const struct opsargs *a, enum sotto_ops_kind *k, bool plural)
{
	const char *w = a->npos > 0 ? a->pos[0] : "";

	if (strcmp(w, "kustomization") == 0 || strcmp(w, "ks") == 0 ||
	    (plural && strcmp(w, "kustomizations") == 0)) {
		*k = SOTTO_OPS_KS;
		return 1;
	}
	if ((strcmp(w, plural ? "sources" : "source") == 0 ||
	    strcmp(w, "source") == 0) && a->npos > 1 && strcmp(a->pos[1],
	    "git") == 0) {
		*k = SOTTO_OPS_GIT;
		return 2;
	}
	return 0;
}

static int
bad_kind(const struct opsargs *a, const char *cmd, const char *usage)
{
	if (a->npos == 0)
		cli_errorf("sotto", "%s: which kind? (kustomization, ks or "
		    "source git)", cmd);
	else
		cli_errorf("sotto", "%s: kind '%s%s%s' is not served by sotto "
		    "(kustomization, ks or source git)", cmd, a->pos[0],
		    a->npos > 1 && strcmp(a->pos[0], "source") == 0 ? " " : "",
		    a->npos > 1 && strcmp(a->pos[0], "source") == 0 ? a->pos[1] :
		    "");
	fputs(usage, stderr);
	return 2;
}

int
cmd_get(int argc, char **argv, enum cli_mode mode)
{
	static const int longs[] = { O_KUBECONFIG, O_CONTEXT, 0 };
	struct sotto_error e = { SOTTO_OK, "" };
	enum sotto_ops_kind k;
	struct opsargs a;
	int st, w;

	(void)mode;
	if ((st = ops_parse(&a, argc, argv, get_usage, "nAow", longs)) >= 0)
		return st;
	if ((w = ops_kind(&a, &k, true)) == 0)
		return bad_kind(&a, "get", get_usage);
	if (a.npos > w + 1) {
		fputs(get_usage, stderr);
		return 2;
	}
	sotto_kube_harden_json();
	if (a.watch && a.o.output != NULL) {
		cli_errorf("sotto", "--watch and --output are mutually "
		    "exclusive");
		return 2;
	}
	if (a.watch)
		return cli_ops_watch(&a.o, k == SOTTO_OPS_GIT, false, a.npos >
		    w ? a.pos[w] : NULL, NULL);
	if (sotto_ops_get(&a.o, k, a.npos > w ? a.pos[w] : NULL, &e) !=
	    SOTTO_OK)
		return cli_ops_fail(&e);
	return 0;
}

/* `sotto reconcile KIND NAME`: called by cmd_reconcile for a kind word */
int
cmd_reconcile_object(int argc, char **argv, enum cli_mode mode)
{
	static const int longs[] = { O_KUBECONFIG, O_CONTEXT, O_TIMEOUT,
		O_WITH_SOURCE, 0 };
	struct sotto_error e = { SOTTO_OK, "" };
	enum sotto_ops_kind k;
	struct opsargs a;
	int st, w;

	(void)mode;
	if ((st = ops_parse(&a, argc, argv, reconcile_obj_usage, "n", longs)) >=
	    0)
		return st;
	if ((w = ops_kind(&a, &k, false)) == 0)
		return bad_kind(&a, "reconcile", reconcile_obj_usage);
	if (a.npos != w + 1) {
		cli_errorf("sotto", "reconcile: name is required");
		fputs(reconcile_obj_usage, stderr);
		return 2;
	}
	if (a.o.with_source && k != SOTTO_OPS_KS) {
		cli_errorf("sotto", "--with-source: only for a kustomization");
		return 2;
	}
	sotto_kube_harden_json();
	signal(SIGPIPE, SIG_IGN);
	if (sotto_ops_reconcile(&a.o, k, a.pos[w], &e) != SOTTO_OK)
		return cli_ops_fail(&e);
	return 0;
}

bool
cli_reconcile_is_object(int argc, char **argv)
{
	return argc > 1 && (strcmp(argv[1], "kustomization") == 0 ||
	    strcmp(argv[1], "ks") == 0 || strcmp(argv[1], "source") == 0);
}

static int
suspend_resume(int argc, char **argv, bool suspend)
{
	static const int slongs[] = { O_KUBECONFIG, O_CONTEXT, 0 };
	static const int rlongs[] = { O_KUBECONFIG, O_CONTEXT, O_TIMEOUT, 0 };
	const char *cmd = suspend ? "suspend" : "resume";
	struct sotto_error e = { SOTTO_OK, "" };
	enum sotto_ops_kind k;
	struct opsargs a;
	int st, w;

	if ((st = ops_parse(&a, argc, argv, suspend_usage, "n", suspend ?
	    slongs : rlongs)) >= 0)
		return st;
	if ((w = ops_kind(&a, &k, false)) == 0)
		return bad_kind(&a, cmd, suspend_usage);
	if (a.npos != w + 1) {
		cli_errorf("sotto", "%s: name is required", cmd);
		fputs(suspend_usage, stderr);
		return 2;
	}
	sotto_kube_harden_json();
	if (sotto_ops_suspend(&a.o, k, a.pos[w], suspend, &e) != SOTTO_OK)
		return cli_ops_fail(&e);
	return 0;
}

int
cmd_suspend(int argc, char **argv, enum cli_mode mode)
{
	(void)mode;
	return suspend_resume(argc, argv, true);
}

int
cmd_resume(int argc, char **argv, enum cli_mode mode)
{
	(void)mode;
	return suspend_resume(argc, argv, false);
}

int
cmd_install(int argc, char **argv, enum cli_mode mode)
{
	static const int longs[] = { O_KUBECONFIG, O_CONTEXT, O_EXPORT,
		O_COMPONENTS, O_CRDS, 0 };
	struct sotto_error e = { SOTTO_OK, "" };
	struct opsargs a;
	int st;

	(void)mode;
	if ((st = ops_parse(&a, argc, argv, install_usage, "n", longs)) >= 0)
		return st;
	if (a.npos != 0) {
		fputs(install_usage, stderr);
		return 2;
	}
	if (a.components && a.crds) {
		cli_errorf("sotto", "--components-only and --crds-only are "
		    "mutually exclusive");
		return 2;
	}
	if (a.o.ns == NULL)
		a.o.ns = "sotto-system";
	a.o.version = cli_version_number();	/* the label: no "(git ...)" */
	sotto_kube_harden_json();
	if (sotto_ops_install(&a.o, a.export, a.components, a.crds, &e) !=
	    SOTTO_OK)
		return cli_ops_fail(&e);
	return 0;
}

int
cmd_events(int argc, char **argv, enum cli_mode mode)
{
	static const int longs[] = { O_KUBECONFIG, O_CONTEXT, O_FOR, 0 };
	struct sotto_error e = { SOTTO_OK, "" };
	struct opsargs a;
	int st;

	(void)mode;
	if ((st = ops_parse(&a, argc, argv, events_usage, "nAw", longs)) >= 0)
		return st;
	if (a.npos != 0) {
		fputs(events_usage, stderr);
		return 2;
	}
	sotto_kube_harden_json();
	if (a.watch)
		return cli_ops_watch(&a.o, 0, true, NULL, a.for_ref);
	if (sotto_ops_events(&a.o, a.for_ref, &e) != SOTTO_OK)
		return cli_ops_fail(&e);
	return 0;
}

/* The agent under its new name; `sotto reconcile` stays its alias. */
int
cmd_controller(int argc, char **argv, enum cli_mode mode)
{
	return cmd_reconcile(argc, argv, mode);
}
