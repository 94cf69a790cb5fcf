/* SPDX-License-Identifier: ISC */
/*
 * `sotto bootstrap git` (issue #20), as `flux bootstrap git`: the flags,
 * the credentials read here (the password from standard input only,
 * never argv; the ssh key from a file) and held in locked, wiped memory.
 * The work is src/kube/bootstrap.c.  Exit: 0 done (or nothing to do), 2
 * usage, 70 (71) a git step failed (libgit2 missing), 1 anything else.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "sotto/bootstrap.h"
#include "sotto/io.h"
#include "sotto/kube.h"

static const char bootstrap_usage[] =
    "usage: sotto bootstrap git --url URL --path clusters/NAME [--branch B]\n"
    "                           [--private-key-file FILE |\n"
    "                            --username USER --password-stdin]\n"
    "                           [--ca-file FILE] [-n NS] [--secret-name N]\n"
    "                           [--interval D] [--author-name NAME]\n"
    "                           [--author-email EMAIL] [--timeout D]\n"
    "                           [--dry-run] [--allow-file-sources]\n"
    "\n"
    "As `flux bootstrap git`: installs the controller, makes (or reuses) the\n"
    "in-cluster key, commits PATH/NS/gotk-components.yaml, gotk-sync.yaml,\n"
    "kustomization.yaml and a .sops.yaml rule for the cluster recipient,\n"
    "pushes, and applies the sync objects: the controller then manages\n"
    "itself from git.  A re-run with nothing to change makes no commit.\n"
    "See sotto-bootstrap(1).\n"
    "\n"
    "    --url URL               https://, ssh:// or user@host:path\n"
    "    --branch B              default main\n"
    "    --path DIR              the cluster's directory in the repository\n"
    "    --private-key-file F    ssh key (its passphrase: --password-stdin)\n"
    "    --username USER         https basic auth\n"
    "    --password-stdin        read the password from standard input\n"
    "    --ca-file FILE          https: extra CA certificates (PEM)\n"
    "    -n, --namespace NS      default sotto-system\n"
    "    --secret-name NAME      the git credentials Secret (default: NS)\n"
    "    --interval D            the GitRepository's (default 1m0s)\n"
    "    --author-name NAME      commit author (default sotto)\n"
    "    --author-email EMAIL    commit author's email\n"
    "    --timeout D             per step, and for the key (default 5m)\n"
    "    --dry-run               print the commit's diff; change nothing\n"
    "    --allow-file-sources    allow file:// URLs (tests, mirrors)\n"
    "    --kubeconfig FILE       else $KUBECONFIG, ~/.kube/config\n"
    "    --context NAME          a kubeconfig context\n";

enum { O_URL = 256, O_BRANCH, O_PATH, O_KEYFILE, O_USER, O_PASSSTDIN,
    O_CAFILE, O_SECRET, O_INTERVAL, O_AUTHOR, O_EMAIL, O_TIMEOUT, O_DRY,
    O_FILES, O_KUBECONFIG, O_CONTEXT };

static const struct option boot_opts[] = {
	{ "url", required_argument, NULL, O_URL },
	{ "branch", required_argument, NULL, O_BRANCH },
	{ "path", required_argument, NULL, O_PATH },
	{ "private-key-file", required_argument, NULL, O_KEYFILE },
	{ "username", required_argument, NULL, O_USER },
	{ "password-stdin", no_argument, NULL, O_PASSSTDIN },
	{ "ca-file", required_argument, NULL, O_CAFILE },
	{ "namespace", required_argument, NULL, 'n' },
	{ "secret-name", required_argument, NULL, O_SECRET },
	{ "interval", required_argument, NULL, O_INTERVAL },
	{ "author-name", required_argument, NULL, O_AUTHOR },
	{ "author-email", required_argument, NULL, O_EMAIL },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "dry-run", no_argument, NULL, O_DRY },
	{ "allow-file-sources", no_argument, NULL, O_FILES },
	{ "kubeconfig", required_argument, NULL, O_KUBECONFIG },
	{ "context", required_argument, NULL, O_CONTEXT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct bargs {
	struct sotto_bootstrap b;
	const char *keyfile, *cafile;
	bool pass_stdin;
};

static double
duration(const char *s)
{
	char *end;
	double v = strtod(s, &end), mult = 1;

	if (strcmp(end, "ms") == 0)
		mult = 0.001;
	else if (strcmp(end, "m") == 0)
		mult = 60;
	else if (strcmp(end, "h") == 0)
		mult = 3600;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return -1;
	return end == s || !(v > 0) ? -1 : v * mult;
}

static int
parse(struct bargs *a, int argc, char **argv)
{
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hn:", boot_opts, NULL)) != -1) {
		switch (c) {
		case O_URL: a->b.url = optarg; break;
		case O_BRANCH: a->b.branch = optarg; break;
		case O_PATH: a->b.path = optarg; break;
		case O_KEYFILE: a->keyfile = optarg; break;
		case O_USER: a->b.username = optarg; break;
		case O_PASSSTDIN:
			/* getopt_long takes "--password" as an abbreviation:
			 * the word that follows may be a password */
			if (strcmp(argv[optind - 1], "--password-stdin") != 0) {
				cli_errorf("sotto", "'%s': no flag takes a "
				    "password; give it on standard input with "
				    "--password-stdin", strncmp(argv[optind - 1],
				    "--password", 10) == 0 ? "--password" :
				    "--password-stdin");
				return 2;
			}
			a->pass_stdin = true;
			break;
		case O_CAFILE: a->cafile = optarg; break;
		case 'n': a->b.ns = optarg; break;
		case O_SECRET: a->b.secret_name = optarg; break;
		case O_INTERVAL: a->b.interval = optarg; break;
		case O_AUTHOR: a->b.author_name = optarg; break;
		case O_EMAIL: a->b.author_email = optarg; break;
		case O_DRY: a->b.dry_run = true; break;
		case O_FILES: a->b.allow_file = true; break;
		case O_KUBECONFIG: a->b.kubeconfig = optarg; break;
		case O_CONTEXT: a->b.context = optarg; break;
		case O_TIMEOUT:
			if ((a->b.timeout = duration(optarg)) < 0) {
				cli_errorf("sotto", "--timeout '%s': want a "
				    "duration like 5m", optarg);
				return 2;
			}
			break;
		case 'h': fputs(bootstrap_usage, stdout); return 0;
		default: fputs(bootstrap_usage, stderr); return 2;
		}
	}
	if (optind != argc) {
		/* not echoed: it may be a secret typed in the wrong place */
		cli_errorf("sotto", "bootstrap git: unexpected argument (only "
		    "flags are taken; see --help)");
		return 2;
	}
	if (a->keyfile != NULL && a->b.username != NULL) {
		cli_errorf("sotto", "--private-key-file and --username are "
		    "mutually exclusive");
		return 2;
	}
	if (a->b.username != NULL && !a->pass_stdin) {
		cli_errorf("sotto", "--username needs --password-stdin (a "
		    "password is never taken from the command line)");
		return 2;
	}
	return -1;
}

/* stdin, one line: the trailing newline (LF or CRLF) dropped. */
static sotto_err
read_password(struct sotto_buf *pw, struct sotto_error *e)
{
	sotto_err rc;

	if ((rc = sotto_io_read_file(pw, "-", 4096, e)) != SOTTO_OK) {
		if (rc == SOTTO_E_LIMIT)
			return sotto_error_set(e, SOTTO_E_USAGE, "--password-"
			    "stdin: more than 4096 bytes on standard input");
		return rc;
	}
	if (pw->len > 0 && pw->data[pw->len - 1] == '\n')
		sotto_buf_truncate(pw, pw->len - 1);
	if (pw->len > 0 && pw->data[pw->len - 1] == '\r')
		sotto_buf_truncate(pw, pw->len - 1);
	if (pw->len == 0 || memchr(pw->data, '\n', pw->len) != NULL ||
	    memchr(pw->data, '\0', pw->len) != NULL)
		return sotto_error_set(e, SOTTO_E_USAGE, "--password-stdin: "
		    "want one non-empty line on standard input");
	return SOTTO_OK;
}

/* ~/.ssh/known_hosts, or "" (the host key check then says so). */
static void
read_known_hosts(struct sotto_buf *kh)
{
	struct sotto_error ignored = { SOTTO_OK, "" };
	const char *home = getenv("HOME");
	char p[4096];

	if (home != NULL && (size_t)snprintf(p, sizeof(p),
	    "%s/.ssh/known_hosts", home) < sizeof(p))
		(void)sotto_io_read_file(kh, p, 4u << 20, &ignored);
	(void)sotto_buf_addstr(kh, "");
}

static int
run(struct bargs *a, enum cli_mode mode)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf pw = SOTTO_BUF_SECRET_INIT;
	struct sotto_buf key = SOTTO_BUF_SECRET_INIT;
	struct sotto_buf ca = SOTTO_BUF_INIT, kh = SOTTO_BUF_INIT;
	sotto_err rc = SOTTO_OK;

	if (a->pass_stdin && (rc = read_password(&pw, &e)) == SOTTO_OK)
		a->b.password = (char *)pw.data;
	if (rc == SOTTO_OK && a->keyfile != NULL && (rc = sotto_io_read_file(
	    &key, a->keyfile, 64u << 10, &e)) == SOTTO_OK) {
		(void)sotto_buf_addstr(&key, "");
		a->b.identity = (char *)key.data;
		read_known_hosts(&kh);
		a->b.known_hosts = (char *)kh.data;
	}
	if (rc == SOTTO_OK && a->cafile != NULL && (rc = sotto_io_read_file(
	    &ca, a->cafile, 1u << 20, &e)) == SOTTO_OK) {
		a->b.ca = (char *)ca.data;
		a->b.ca_len = ca.len;
	}
	if (rc == SOTTO_OK) {
		a->b.version = cli_version_number();
		rc = sotto_bootstrap_git(&a->b, &e);
	}
	sotto_buf_release(&pw);
	sotto_buf_release(&key);
	sotto_buf_release(&ca);
	sotto_buf_release(&kh);
	if (rc == SOTTO_OK)
		return 0;
	cli_error("sotto", &e);
	/* as the other cluster commands: 2 usage, 70/71 git, else 1 */
	return rc == SOTTO_E_USAGE ? 2 : rc == SOTTO_E_GIT ||
	    rc == SOTTO_E_GIT_LOAD ? cli_exit_status(rc, mode) : 1;
}

int
cmd_bootstrap(int argc, char **argv, enum cli_mode mode)
{
	struct rlimit nocore = { 0, 0 };
	struct bargs a;
	int st;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		fputs(bootstrap_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "git") != 0) {
		cli_errorf("sotto", "unknown bootstrap provider '%s' (sotto "
		    "bootstraps from plain git: 'sotto bootstrap git')",
		    argv[1]);
		return 2;
	}
	memset(&a, 0, sizeof(a));
	a.b.ns = "sotto-system";
	a.b.branch = "main";
	a.b.out = stdout;
	a.b.err = stderr;
	a.b.sops_rule = cli_sops_rule_update;
	if ((st = parse(&a, argc - 1, argv + 1)) >= 0)
		return st;
	/* the password and key live here: no core dump, no swap */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setrlimit(RLIMIT_CORE, &nocore);
	sotto_kube_lock_memory(false);
	sotto_kube_harden_json();
	signal(SIGPIPE, SIG_IGN);
	return run(&a, mode);
}
