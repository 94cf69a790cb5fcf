/* SPDX-License-Identifier: ISC */
/*
 * `sotto cluster`: keys born in the cluster (issue #19).  keygen makes
 * the labelled Secret and prints the recipient the agent publishes;
 * recipient prints it (and writes the .sops.yaml rule); rotate-key,
 * retire-key and export-key are requests the agent carries out; import-key
 * decrypts a bundle here, in locked memory, and merges it into the Secret.
 * The Kubernetes side is src/kube/keyreq.c, the .sops.yaml edit
 * sops_rule.c; the agent's side src/kube/clusterkey.c.
 * Exit: 0 done, 1 the agent refused (or another failure), 2 usage.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sotto/io.h"
#include "sotto/kube.h"

static const char cluster_usage[] =
    "usage: sotto cluster keygen --secret NAME [--namespace NS] [--pq]\n"
    "                            [--kubeconfig FILE] [--timeout D]\n"
    "       sotto cluster keygen --rbac --secret NAME [--namespace NS]\n"
    "                            [--agent NS/SERVICEACCOUNT]\n"
    "       sotto cluster recipient --secret NAME [--namespace NS] [--all]\n"
    "                            [--sops-rule PATH_REGEX |\n"
    "                             --add-to .sops.yaml PATH_REGEX]\n"
    "       sotto cluster rotate-key --secret NAME [--namespace NS]\n"
    "       sotto cluster retire-key --secret NAME [--namespace NS] "
    "--recipient R\n"
    "       sotto cluster export-key --secret NAME [--namespace NS] --to R "
    "[-o FILE]\n"
    "       sotto cluster import-key --secret NAME [--namespace NS] --from "
    "FILE\n"
    "                            -i IDENTITY_FILE\n"
    "\n"
    "A key that is born in the cluster and never leaves it unencrypted.\n"
    "The agent (sotto reconcile) generates, rotates, retires and exports;\n"
    "this command asks it through annotations on the Secret and reads its\n"
    "answers from the ConfigMap NAME-recipient.  See sotto-cluster(1).\n"
    "\n"
    "    -n, --namespace NS  the Secret's namespace (default: the context's)\n"
    "    --secret NAME       the key Secret\n"
    "    --kubeconfig FILE   else $KUBECONFIG, ~/.kube/config\n"
    "    --timeout D         how long to wait for the agent (default 60s)\n"
    "    --pq                a post-quantum hybrid key (age1pq1...)\n"
    "    --rbac              print the Role and RoleBinding the agent needs\n"
    "    --agent NS/NAME     its service account (default\n"
    "                        sotto-system/sotto-reconcile)\n"
    "    --all               every recipient, newest first\n"
    "    --sops-rule RE      print a .sops.yaml creation rule for RE\n"
    "    --add-to FILE RE    add or update that rule in FILE in place\n"
    "    --recipient R       the recipient whose identity to retire\n"
    "    --to R              the offline recipient of the export\n"
    "    -o FILE             write the export there (default stdout)\n"
    "    --from FILE         the exported bundle to import\n"
    "    -i FILE             the identity that decrypts it\n";

enum { O_NS = 256, O_SECRET, O_KUBECONFIG, O_TIMEOUT, O_PQ, O_RBAC,
    O_AGENT, O_ALL, O_RULE, O_ADD_TO, O_RECIPIENT, O_TO, O_FROM };

static const struct option cluster_opts[] = {
	{ "namespace", required_argument, NULL, 'n' },
	{ "secret", required_argument, NULL, O_SECRET },
	{ "kubeconfig", required_argument, NULL, O_KUBECONFIG },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "pq", no_argument, NULL, O_PQ },
	{ "rbac", no_argument, NULL, O_RBAC },
	{ "agent", required_argument, NULL, O_AGENT },
	{ "all", no_argument, NULL, O_ALL },
	{ "sops-rule", required_argument, NULL, O_RULE },
	{ "add-to", required_argument, NULL, O_ADD_TO },
	{ "recipient", required_argument, NULL, O_RECIPIENT },
	{ "to", required_argument, NULL, O_TO },
	{ "output", required_argument, NULL, 'o' },
	{ "from", required_argument, NULL, O_FROM },
	{ "identity", required_argument, NULL, 'i' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct copts {
	struct sotto_kube_keyreq q;
	bool pq, rbac, all;
	const char *agent, *rule, *add_to, *recipient, *to, *out, *from, *id;
	unsigned seen;		/* bit per option given, O_* - 256 */
};

/* The options each subcommand takes (bits of O_* - 256; -o, -i apart). */
#define B(o) (1u << ((o) - 256))
#define B_OUT (1u << 20)
#define B_ID (1u << 21)
#define COMMON (B(O_NS) | B(O_SECRET) | B(O_KUBECONFIG) | B(O_TIMEOUT))
static const struct {
	const char *name;
	unsigned allowed;
} subs[] = {
	{ "keygen", COMMON | B(O_PQ) | B(O_RBAC) | B(O_AGENT) },
	{ "recipient", COMMON | B(O_ALL) | B(O_RULE) | B(O_ADD_TO) },
	{ "rotate-key", COMMON },
	{ "retire-key", COMMON | B(O_RECIPIENT) },
	{ "export-key", COMMON | B(O_TO) | B_OUT },
	{ "import-key", COMMON | B(O_FROM) | B_ID },
};

static double
parse_timeout(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v <= 0 || v > 86400)
		return -1;
	if (strcmp(end, "s") == 0 || *end == '\0')
		return v;
	if (strcmp(end, "m") == 0)
		return v * 60;
	if (strcmp(end, "ms") == 0)
		return v / 1000;
	return -1;
}

static int
parse(struct copts *o, int argc, char **argv)
{
	int c;
	unsigned bit;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hn:o:i:", cluster_opts, NULL)) !=
	    -1) {
		bit = c == 'n' ? B(O_NS) : c == 'o' ? B_OUT : c == 'i' ? B_ID :
		    c >= 256 ? B(c) : 0;
		o->seen |= bit;
		switch (c) {
		case 'n': o->q.ns = optarg; break;
		case O_SECRET: o->q.secret = optarg; break;
		case O_KUBECONFIG: o->q.kubeconfig = optarg; break;
		case O_PQ: o->pq = true; break;
		case O_RBAC: o->rbac = true; break;
		case O_AGENT: o->agent = optarg; break;
		case O_ALL: o->all = true; break;
		case O_RULE: o->rule = optarg; break;
		case O_ADD_TO: o->add_to = optarg; break;
		case O_RECIPIENT: o->recipient = optarg; break;
		case O_TO: o->to = optarg; break;
		case 'o': o->out = optarg; break;
		case O_FROM: o->from = optarg; break;
		case 'i': o->id = optarg; break;
		case O_TIMEOUT:
			if ((o->q.timeout = parse_timeout(optarg)) < 0) {
				cli_errorf("sotto", "--timeout '%s': want a "
				    "duration like 30s", optarg);
				return 2;
			}
			break;
		case 'h': fputs(cluster_usage, stdout); return 0;
		default: fputs(cluster_usage, stderr); return 2;
		}
	}
	return -1;
}

static int
fail(const struct sotto_error *e)
{
	cli_error("sotto", e);
	return e->code == SOTTO_E_USAGE ? 2 : 1;
}

static int
out_text(const char *s, size_t n)
{
	if (sotto_io_write_all(STDOUT_FILENO, s, n) != SOTTO_OK) {
		cli_errorf("sotto", "cannot write output");
		return 1;
	}
	return 0;
}

static int
print_rbac(const struct copts *o)
{
	const char *agent = o->agent ? o->agent : "sotto-system/sotto-reconcile";
	const char *slash = strchr(agent, '/');
	const char *ns = o->q.ns ? o->q.ns : "default";
	struct sotto_error e = { SOTTO_OK, "" };
	char ans[64];

	if (slash == NULL || (size_t)(slash - agent) >= sizeof(ans)) {
		cli_errorf("sotto", "--agent '%s': want NAMESPACE/NAME", agent);
		return 2;
	}
	memcpy(ans, agent, (size_t)(slash - agent));
	ans[slash - agent] = '\0';
	if (sotto_kube_check_name("--agent namespace", ans, true, &e) ||
	    sotto_kube_check_name("--agent name", slash + 1, false, &e) ||
	    sotto_kube_check_name("--namespace", ns, true, &e) ||
	    sotto_kube_check_name("--secret", o->q.secret, false, &e))
		return fail(&e);
	printf("# Lets the sotto agent (%s) fill, rotate and retire the key\n"
	    "# in Secret %s/%s and publish its recipients; nothing else.\n"
	    "apiVersion: rbac.authorization.k8s.io/v1\n"
	    "kind: Role\n"
	    "metadata:\n"
	    "  name: sotto-key-%s\n"
	    "  namespace: %s\n"
	    "rules:\n"
	    "  # read the key Secret and write the identities into it\n"
	    "  - apiGroups: [\"\"]\n"
	    "    resources: [\"secrets\"]\n"
	    "    resourceNames: [\"%s\"]\n"
	    "    verbs: [\"get\", \"update\"]\n"
	    "  # create the recipient ConfigMap (create takes no name)\n"
	    "  - apiGroups: [\"\"]\n"
	    "    resources: [\"configmaps\"]\n"
	    "    verbs: [\"create\"]\n"
	    "  # read and update it afterwards (answers to requests)\n"
	    "  - apiGroups: [\"\"]\n"
	    "    resources: [\"configmaps\"]\n"
	    "    resourceNames: [\"%s-recipient\"]\n"
	    "    verbs: [\"get\", \"update\"]\n"
	    "---\n"
	    "apiVersion: rbac.authorization.k8s.io/v1\n"
	    "kind: RoleBinding\n"
	    "metadata:\n"
	    "  name: sotto-key-%s\n"
	    "  namespace: %s\n"
	    "roleRef:\n"
	    "  apiGroup: rbac.authorization.k8s.io\n"
	    "  kind: Role\n"
	    "  name: sotto-key-%s\n"
	    "subjects:\n"
	    "  - kind: ServiceAccount\n"
	    "    name: %s\n"
	    "    namespace: %.*s\n", agent, ns, o->q.secret, o->q.secret, ns,
	    o->q.secret, o->q.secret, o->q.secret, ns, o->q.secret, slash + 1,
	    (int)(slash - agent), agent);
	return 0;
}

static int
do_keygen(struct copts *o)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf r = SOTTO_BUF_INIT;
	int st;

	if (o->rbac)
		return print_rbac(o);
	if (o->agent != NULL) {
		cli_errorf("sotto", "--agent goes with --rbac");
		return 2;
	}
	if (sotto_kube_key_create(&r, &o->q, o->pq, &e) != SOTTO_OK) {
		sotto_buf_release(&r);
		return fail(&e);
	}
	(void)sotto_buf_addch(&r, '\n');
	st = out_text((char *)r.data, r.len);
	sotto_buf_release(&r);
	return st;
}

static int
do_recipient(struct copts *o, int argc, char **argv)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf cur = SOTTO_BUF_INIT, all = SOTTO_BUF_INIT;
	struct sotto_buf out = SOTTO_BUF_INIT;
	const char *re = o->rule;
	int st = 0;

	if ((o->rule != NULL) + (o->add_to != NULL) + o->all > 1) {
		cli_errorf("sotto", "--sops-rule, --add-to and --all go alone");
		return 2;
	}
	if (o->add_to != NULL) {
		if (optind + 1 != argc) {
			cli_errorf("sotto", "--add-to FILE wants one "
			    "PATH_REGEX after it");
			return 2;
		}
		re = argv[optind];
	} else if (optind != argc) {
		fputs(cluster_usage, stderr);
		return 2;
	}
	if (sotto_kube_key_recipients(&cur, &all, &o->q, &e) != SOTTO_OK) {
		st = fail(&e);
		goto out;
	}
	if (o->add_to != NULL) {
		if (cli_sops_rule_update(o->add_to, re, (char *)cur.data,
		    (char *)all.data, &e) != SOTTO_OK)
			st = fail(&e);
		goto out;
	}
	if (o->all)
		(void)sotto_buf_addstr(&out, (char *)all.data);
	else if (re != NULL)
		cli_sops_rule_print(&out, re, (char *)cur.data);
	else
		(void)sotto_buf_addf(&out, "%s\n", (char *)cur.data);
	if (st == 0)
		st = out_text((char *)out.data, out.len);
out:
	sotto_buf_release(&cur);
	sotto_buf_release(&all);
	sotto_buf_release(&out);
	return st;
}

static int
do_request(struct copts *o, enum sotto_kube_key_op op)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf ans = SOTTO_BUF_INIT;
	bool refused = false;
	int st = 0;

	if (op == SOTTO_KEY_OP_RETIRE && o->recipient == NULL) {
		cli_errorf("sotto", "retire-key needs --recipient");
		return 2;
	}
	if (op == SOTTO_KEY_OP_EXPORT && o->to == NULL) {
		cli_errorf("sotto", "export-key needs --to");
		return 2;
	}
	if (op == SOTTO_KEY_OP_EXPORT && o->out != NULL &&
	    sotto_io_replace_check(o->out, &e) != SOTTO_OK)
		return fail(&e);
	if (sotto_kube_key_request(&ans, &refused, &o->q, op,
	    op == SOTTO_KEY_OP_RETIRE ? o->recipient : o->to, &e) != SOTTO_OK) {
		st = fail(&e);
	} else if (refused) {
		cli_errorf("sotto", "the agent %s", (char *)ans.data);
		st = 1;
	} else if (op == SOTTO_KEY_OP_EXPORT && o->out != NULL) {
		if (sotto_io_write_replace(o->out, ans.data, ans.len, 0600,
		    &e) != SOTTO_OK)
			st = fail(&e);
	} else {
		if (op != SOTTO_KEY_OP_EXPORT)
			(void)sotto_buf_addch(&ans, '\n');
		st = out_text((char *)ans.data, ans.len);
	}
	sotto_buf_release(&ans);
	return st;
}

static int
do_import(struct copts *o)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf bundle = SOTTO_BUF_INIT;
	struct sotto_buf idtext = SOTTO_BUF_SECRET_INIT;
	struct sotto_buf plain = SOTTO_BUF_SECRET_INIT;
	struct sotto_age_idlist ids = { NULL, 0 };
	size_t added = 0;
	int st = 0;

	if (o->from == NULL || o->id == NULL) {
		cli_errorf("sotto", "import-key needs --from and -i");
		return 2;
	}
	/* the bundle is decrypted here: locked memory, no core dump */
	sotto_kube_lock_memory(false);
	sotto_kube_harden_json();
	if (sotto_io_read_file(&bundle, o->from, 16u << 20, &e) != SOTTO_OK ||
	    sotto_io_read_file(&idtext, o->id, 16u << 20, &e) != SOTTO_OK ||
	    sotto_age_identities_parse(&ids, idtext.data, idtext.len, o->id,
	    cli_pass_cb, NULL, &e) != SOTTO_OK)
		goto bad;
	if (sotto_age_decrypt_mem(&plain, bundle.data, bundle.len, ids.v,
	    ids.n, &e) != SOTTO_OK) {
		sotto_error_prefix(&e, "cannot decrypt '%s'", o->from);
		goto bad;
	}
	if (sotto_kube_key_import(&added, &o->q, plain.data, plain.len, &e) !=
	    SOTTO_OK)
		goto bad;
	fprintf(stderr, "sotto: %zu identit%s imported into Secret '%s%s%s'\n",
	    added, added == 1 ? "y" : "ies", o->q.ns ? o->q.ns : "",
	    o->q.ns ? "/" : "", o->q.secret);
	goto out;
bad:
	st = fail(&e);
out:
	sotto_age_idlist_free(&ids);
	sotto_buf_release(&bundle);
	sotto_buf_release(&idtext);
	sotto_buf_release(&plain);
	return st;
}

int
cmd_cluster(int argc, char **argv, enum cli_mode mode)
{
	struct copts o;
	struct rlimit nocore = { 0, 0 };
	const char *sub;
	size_t i;
	int st;

	(void)mode;
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		fputs(cluster_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(subs[i].name, sub) == 0)
			break;
	if (i == sizeof(subs) / sizeof(subs[0])) {
		cli_errorf("sotto", "unknown cluster command '%s'", sub);
		fputs(cluster_usage, stderr);
		return 2;
	}
	memset(&o, 0, sizeof(o));
	if ((st = parse(&o, argc - 1, argv + 1)) >= 0)
		return st;
	if ((o.seen & ~subs[i].allowed) != 0) {
		cli_errorf("sotto", "an option given is not one of 'sotto "
		    "cluster %s' (see --help)", sub);
		return 2;
	}
	if (o.q.secret == NULL) {
		cli_errorf("sotto", "'sotto cluster %s' needs --secret", sub);
		return 2;
	}
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setrlimit(RLIMIT_CORE, &nocore);
	argc--;
	argv++;
	if (strcmp(sub, "recipient") == 0)
		return do_recipient(&o, argc, argv);
	if (optind != argc) {
		fputs(cluster_usage, stderr);
		return 2;
	}
	if (strcmp(sub, "keygen") == 0)
		return do_keygen(&o);
	if (strcmp(sub, "rotate-key") == 0)
		return do_request(&o, SOTTO_KEY_OP_ROTATE);
	if (strcmp(sub, "retire-key") == 0)
		return do_request(&o, SOTTO_KEY_OP_RETIRE);
	if (strcmp(sub, "export-key") == 0)
		return do_request(&o, SOTTO_KEY_OP_EXPORT);
	return do_import(&o);
}
