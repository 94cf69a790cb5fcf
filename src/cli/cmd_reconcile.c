/* SPDX-License-Identifier: ISC */
/*
 * `sotto reconcile`: the in-cluster agent (issue #8, spec in-cluster.md).
 * Parses flags, installs the SIGTERM/SIGINT handlers that let the current
 * object finish, and runs src/kube/reconcile.c.  Exit: 0 ok (or stopped
 * by a signal), 1 a Kustomization failed, 2 usage or setup error.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "sotto/kube.h"

static const char reconcile_usage[] =
    "usage: sotto controller [--once] [--config FILE] [--kubeconfig FILE]\n"
    "           [--context NAME] [--namespace NS] [--field-manager NAME]\n"
    "           [--cache-dir DIR] [--interval DURATION] [--health-addr "
    "HOST:PORT]\n"
    "           [--leader-elect --lease-namespace NS [--lease-name NAME]\n"
    "           [--lease-duration DURATION] [--identity ID]]\n"
    "           [--no-cross-namespace-refs] [--default-service-account NAME]\n"
    "           [--allow-http-sources] [--allow-file-sources]\n"
    "           [--no-remote-bases] [--feature-gates NAME=BOOL,...]\n"
    "           [--concurrent N]\n"
    "       sotto reconcile --list-fields[=text|roff]\n"
    "\n"
    "Applies Flux-shaped Kustomizations: git fetch, render, decrypt in\n"
    "memory, server-side apply, prune, status.  See sotto-reconcile(8).\n"
    "\n"
    "    --once              one pass; exit 1 if a Kustomization failed\n"
    "    --config FILE       local mode: GitRepository + Kustomization "
    "YAML\n"
    "                        (inventory and status in a ConfigMap)\n"
    "    --kubeconfig FILE   else $KUBECONFIG, the service account, "
    "~/.kube/config\n"
    "    --namespace NS      cluster mode: only Kustomizations in NS\n"
    "    --field-manager N   default 'sotto' (kustomize-controller takes "
    "over\n"
    "                        objects Flux applied)\n"
    "    --cache-dir DIR     git cache, ciphertext only, mode 0700 (default\n"
    "                        $XDG_CACHE_HOME/sotto, else ~/.cache/sotto)\n"
    "    --interval D        override every spec.interval (e.g. 30s)\n"
    "    --health-addr A     serve /healthz, /readyz, /metrics on A\n"
    "    --leader-elect      only the holder of the Lease applies\n"
    "    --no-cross-namespace-refs\n"
    "                        refuse a spec.sourceRef in another namespace\n"
    "                        (Stalled, reason AccessDenied), as Flux's flag\n"
    "    --default-service-account NAME\n"
    "                        a Kustomization without serviceAccountName\n"
    "                        applies as NAME of its own namespace\n"
    "    --list-fields       the Kustomization and GitRepository fields\n"
    "                        sotto implements; any other field set makes\n"
    "                        the object Stalled and nothing is applied\n"
    "    --allow-http-sources\n"
    "                        GitRepository http:// URLs (no TLS)\n"
    "    --allow-file-sources\n"
    "                        GitRepository file:// URLs: tests and local mode\n"
    "                        only, unsafe on a shared cluster (any tenant can\n"
    "                        read the agent's files)\n"
    "    --no-remote-bases   refuse kustomize git remote bases (Flux's\n"
    "                        flag; by default they are fetched like a\n"
    "                        GitRepository, pinned to their ?ref=)\n"
    "    --feature-gates StrictPostBuildSubstitutions=false\n"
    "                        an unset ${var} in spec.postBuild reads as \"\"\n"
    "                        (default true: the build fails, as Flux's)\n"
    "    --concurrent N      Kustomizations and GitRepositories reconciled\n"
    "                        at once, 1 to 64 (default 4, as Flux's)\n";

enum { O_ONCE = 256, O_CONFIG, O_KUBECONFIG, O_CONTEXT, O_NS, O_FM,
    O_CACHE, O_INTERVAL, O_HEALTH, O_LEADER, O_LEASE_NS, O_LEASE_NAME,
    O_LEASE_DUR, O_IDENTITY, O_POLL, O_NO_XNS, O_DEFAULT_SA, O_FIELDS,
    O_ALLOW_HTTP, O_ALLOW_FILE, O_GATES, O_CONCURRENT, O_NO_REMOTE };

static const struct option reconcile_opts[] = {
	{ "once", no_argument, NULL, O_ONCE },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "kubeconfig", required_argument, NULL, O_KUBECONFIG },
	{ "context", required_argument, NULL, O_CONTEXT },
	{ "namespace", required_argument, NULL, O_NS },
	{ "field-manager", required_argument, NULL, O_FM },
	{ "cache-dir", required_argument, NULL, O_CACHE },
	{ "interval", required_argument, NULL, O_INTERVAL },
	{ "health-addr", required_argument, NULL, O_HEALTH },
	{ "leader-elect", no_argument, NULL, O_LEADER },
	{ "lease-namespace", required_argument, NULL, O_LEASE_NS },
	{ "lease-name", required_argument, NULL, O_LEASE_NAME },
	{ "lease-duration", required_argument, NULL, O_LEASE_DUR },
	{ "identity", required_argument, NULL, O_IDENTITY },
	{ "poll-interval", required_argument, NULL, O_POLL },
	{ "no-cross-namespace-refs", no_argument, NULL, O_NO_XNS },
	{ "default-service-account", required_argument, NULL, O_DEFAULT_SA },
	{ "list-fields", optional_argument, NULL, O_FIELDS },
	{ "allow-http-sources", no_argument, NULL, O_ALLOW_HTTP },
	{ "allow-file-sources", no_argument, NULL, O_ALLOW_FILE },
	{ "feature-gates", required_argument, NULL, O_GATES },
	{ "concurrent", required_argument, NULL, O_CONCURRENT },
	{ "no-remote-bases", no_argument, NULL, O_NO_REMOTE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static volatile int stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static double
parse_duration(const char *s, const char *flag)
{
	double v = 0, mult = 1;
	char *end;

	v = strtod(s, &end);
	if (strcmp(end, "ms") == 0)
		mult = 0.001;
	else if (strcmp(end, "m") == 0)
		mult = 60;
	else if (strcmp(end, "h") == 0)
		mult = 3600;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		v = -1;
	if (end == s || v <= 0) {
		cli_errorf("sotto", "%s '%s': want a duration like 30s", flag,
		    s);
		return -1;
	}
	return v * mult;
}

static const char *shown(char *out, size_t cap, const char *p, size_t n);

/* --concurrent: a decimal from 1 to SOTTO_RECONCILE_MAX_WORKERS */
static int
parse_workers(const char *s)
{
	char q[512];
	int v = 0;
	size_t i, n = strlen(s);

	for (i = 0; i < n && i < 3 && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (s[i] - '0');
	if (n == 0 || i != n || v < 1 || v > SOTTO_RECONCILE_MAX_WORKERS) {
		cli_errorf("sotto", "--concurrent '%s': want a number from 1 "
		    "to %d", shown(q, sizeof(q), s, n),
		    SOTTO_RECONCILE_MAX_WORKERS);
		return -1;
	}
	return v;
}

/* strconv.ParseBool's spellings */
static int
parse_bool(const char *s, size_t n)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true",
		"True", NULL }, *const no[] = { "0", "f", "F", "FALSE",
		"false", "False", NULL };
	size_t i;

	for (i = 0; yes[i] != NULL; i++)
		if (strlen(yes[i]) == n && memcmp(yes[i], s, n) == 0)
			return 1;
	for (i = 0; no[i] != NULL; i++)
		if (strlen(no[i]) == n && memcmp(no[i], s, n) == 0)
			return 0;
	return -1;
}

/* p[0..n) for a message: control bytes as \xNN, at most 100 bytes */
static const char *
shown(char *out, size_t cap, const char *p, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && i < 100 && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && strchr(" \t\n\v\f\r", (*p)[0]) != NULL) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && strchr(" \t\n\v\f\r", (*p)[*n - 1]) != NULL)
		(*n)--;
}

/*
 * --feature-gates, as Flux's controllers read it (k8s MapStringBool):
 * comma-separated NAME=BOOL pairs, blanks around each part ignored.  Of
 * kustomize-controller's gates only StrictPostBuildSubstitutions changes
 * what sotto does; any other name is refused as Flux refuses a gate it
 * does not have, so a copied flag never silently means nothing.
 */
static int
parse_gates(struct sotto_reconcile_opts *o, const char *arg)
{
	static const char strict[] = "StrictPostBuildSubstitutions";
	const char *p = arg, *comma, *eq, *k, *v;
	char q1[512], q2[512];
	size_t n, kn, vn;
	int b;

	for (; p != NULL; p = comma ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		k = p;
		trim(&k, &n);
		if (n == 0)
			continue;
		if ((eq = memchr(k, '=', n)) == NULL) {
			cli_errorf("sotto", "--feature-gates '%s': malformed "
			    "pair, expect string=bool", shown(q1, sizeof(q1), k,
			    n));
			return -1;
		}
		kn = (size_t)(eq - k);
		v = eq + 1;
		vn = n - kn - 1;
		trim(&k, &kn);
		trim(&v, &vn);
		if ((b = parse_bool(v, vn)) < 0) {
			cli_errorf("sotto", "--feature-gates: invalid value of "
			    "'%s': '%s', want true or false", shown(q1,
			    sizeof(q1), k, kn), shown(q2, sizeof(q2), v, vn));
			return -1;
		}
		if (kn != strlen(strict) || memcmp(k, strict, kn) != 0) {
			cli_errorf("sotto", "--feature-gates: feature-gate "
			    "'%s' not supported (sotto has %s)", shown(q1,
			    sizeof(q1), k, kn), strict);
			return -1;
		}
		o->lax_substitutions = b == 0;
	}
	return 0;
}

/* $XDG_CACHE_HOME/sotto, else $HOME/.cache/sotto: never a shared /tmp. */
static int
default_cache_dir(char *out, size_t cap)
{
	const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
	int n;

	if (x != NULL && x[0] == '/')
		n = snprintf(out, cap, "%s/sotto", x);
	else if (h != NULL && h[0] == '/')
		n = snprintf(out, cap, "%s/.cache/sotto", h);
	else {
		cli_errorf("sotto", "no cache directory: $XDG_CACHE_HOME and "
		    "$HOME are not set (use --cache-dir)");
		return -1;
	}
	if (n < 0 || (size_t)n >= cap) {
		cli_errorf("sotto", "the default cache directory path is too "
		    "long (use --cache-dir)");
		return -1;
	}
	return 0;
}

static int
parse_flags(struct sotto_reconcile_opts *o, bool *leader, int argc,
    char **argv)
{
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", reconcile_opts, NULL)) !=
	    -1) {
		switch (c) {
		case O_ONCE: o->once = true; break;
		case O_CONFIG: o->config_file = optarg; break;
		case O_KUBECONFIG: o->kubeconfig = optarg; break;
		case O_CONTEXT: o->context = optarg; break;
		case O_NS: o->watch_namespace = optarg; break;
		case O_FM: o->field_manager = optarg; break;
		case O_CACHE: o->cache_dir = optarg; break;
		case O_HEALTH: o->health_addr = optarg; break;
		case O_LEADER: *leader = true; break;
		case O_LEASE_NS: o->lease_namespace = optarg; break;
		case O_LEASE_NAME: o->lease_name = optarg; break;
		case O_IDENTITY: o->identity = optarg; break;
		case O_NO_XNS: o->no_cross_ns_refs = true; break;
		case O_DEFAULT_SA: o->default_sa = optarg; break;
		case O_FIELDS:
			if (optarg != NULL && strcmp(optarg, "roff") != 0 &&
			    strcmp(optarg, "text") != 0) {
				cli_errorf("sotto", "--list-fields '%s': want "
				    "text or roff", optarg);
				return 2;
			}
			sotto_reconcile_list_fields(stdout, optarg != NULL &&
			    strcmp(optarg, "roff") == 0);
			return 0;
		case O_ALLOW_HTTP: o->allow_http_sources = true; break;
		case O_ALLOW_FILE: o->allow_file_sources = true; break;
		case O_NO_REMOTE: o->no_remote_bases = true; break;
		case O_GATES:
			if (parse_gates(o, optarg) != 0)
				return 2;
			break;
		case O_CONCURRENT:
			if ((o->concurrent = parse_workers(optarg)) < 0)
				return 2;
			break;
		case O_INTERVAL:
			if ((o->interval_override = parse_duration(optarg,
			    "--interval")) < 0)
				return 2;
			break;
		case O_LEASE_DUR:
			if ((o->lease_seconds = parse_duration(optarg,
			    "--lease-duration")) < 0)
				return 2;
			break;
		case O_POLL:
			if ((o->poll_seconds = parse_duration(optarg,
			    "--poll-interval")) < 0)
				return 2;
			break;
		case 'h': fputs(reconcile_usage, stdout); return 0;
		default: fputs(reconcile_usage, stderr); return 2;
		}
	}
	if (optind != argc) {
		fputs(reconcile_usage, stderr);
		return 2;
	}
	return -1;
}

int
cmd_reconcile(int argc, char **argv, enum cli_mode mode)
{
	struct sotto_reconcile_opts o;
	struct sotto_error e = { SOTTO_OK, "" };
	struct rlimit nocore = { 0, 0 };
	char cache[4096];
	bool leader = false;
	int st;

	if (cli_reconcile_is_object(argc, argv))
		return cmd_reconcile_object(argc, argv, mode);
	(void)mode;
	memset(&o, 0, sizeof(o));
	o.field_manager = "sotto";
	o.lease_name = "sotto-reconcile";
	o.lease_seconds = 15;
	o.poll_seconds = 2;
	if ((st = parse_flags(&o, &leader, argc, argv)) >= 0)
		return st;
	if (leader && o.lease_namespace == NULL) {
		cli_errorf("sotto", "--leader-elect needs --lease-namespace");
		return 2;
	}
	if (!leader)
		o.lease_namespace = NULL;
	if (sotto_reconcile_check_opts(&o, &e) != SOTTO_OK) {
		cli_error("sotto", &e);
		return 2;
	}
	if (o.cache_dir == NULL && default_cache_dir(cache, sizeof(cache)) !=
	    0)
		return 2;
	if (o.cache_dir == NULL)
		o.cache_dir = cache;
	if (sotto_reconcile_cache_dir(o.cache_dir, &e) != SOTTO_OK) {
		cli_error("sotto", &e);
		return 2;
	}
	/* key hygiene (spec §3.4): no core dumps, nothing ptrace-readable,
	 * no swap where the kernel lets us lock memory */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setrlimit(RLIMIT_CORE, &nocore);
	sotto_kube_lock_memory(true);
	sotto_kube_harden_json();
	catch_signals();
	o.stop = &stop_requested;
	if (sotto_reconcile_run(&o, &e) == SOTTO_OK)
		return 0;
	cli_error("sotto", &e);
	return e.code == SOTTO_E_RECONCILE ? 1 : 2;
}
