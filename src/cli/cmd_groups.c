/* SPDX-License-Identifier: ISC */
/*
 * `sotto groups add|delete`: add or remove a key group (Shamir secret
 * sharing) of an encrypted file, as sops does.  The data key from the
 * editing session is split again for the new set of groups; values, MAC
 * and lastmodified stay.  age recipients are wrapped natively, pgp keys
 * with the user's GnuPG; other key types cannot be.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sotto/io.h"
#include "sotto/keys.h"

static const char groups_usage[] =
    "usage: {P} groups add --file FILE [--age R...] [--pgp FP...] [options]\n"
    "       {P} groups delete --file FILE [options] INDEX\n"
    "\n"
    "Adds a key group with the given age and pgp keys, or deletes the group\n"
    "at INDEX (from 0), and splits the data key again (Shamir).  Writes to\n"
    "standard output, or in place with -i.\n"
    "\n"
    "options:\n"
    "  -f, --file FILE             the encrypted file\n"
    "      --age R[,R...]          add: recipients of the new group\n"
    "                              (repeatable)\n"
    "      --pgp FP[,FP...]        add: pgp fingerprints of the new group\n"
    "                              (repeatable; wrapped with gpg)\n"
    "      --kms, ...              refused: sotto wraps for age and pgp\n"
    "  -i, --in-place              write the result back to FILE\n"
    "      --shamir-secret-sharing-threshold N\n"
    "                              groups needed to decrypt\n"
    "  -h, --help                  show this help\n";

struct groups_opts {
	enum cli_mode mode;
	bool add;
	const char *file;
	bool in_place;
	int threshold;
	struct cli_rgroup newg;		/* add: the new group */
	long index;			/* delete: which group */
};

static int
groups_run(struct groups_opts *o)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct cli_sfile f, raw;
	struct cli_rgroup *g = NULL, *ng;
	struct sotto_node *meta = NULL;
	struct sotto_buf out = SOTTO_BUF_INIT;
	size_t n = 0, nalloc = 0;
	int thr = 0, rc = 0;

	memset(&raw, 0, sizeof(raw));
	if (cli_sfile_open(&f, o->file, NULL, false, &e) ||
	    cli_meta_groups(&g, &n, &thr, sotto_sops_session_meta(f.sess),
	    &e))
		goto fail;
	nalloc = n;
	if (o->add) {
		if ((ng = realloc(g, (n + 1) * sizeof(*g))) == NULL) {
			sotto_error_set(&e, SOTTO_E_NOMEM, "out of memory");
			goto fail;
		}
		g = ng;
		g[n++] = o->newg;
		nalloc = n;
		memset(&o->newg, 0, sizeof(o->newg));
	} else {
		if (o->index < 0 || (size_t)o->index >= n) {
			sotto_error_set(&e, SOTTO_E_USAGE, "'%s' has %zu key "
			    "group(s): no group %ld", o->file, n, o->index);
			goto fail;
		}
		{
			struct cli_rgroup dead = g[o->index];

			memmove(&g[o->index], &g[o->index + 1], (n -
			    (size_t)o->index - 1) * sizeof(*g));
			n--;
			g[n] = dead;	/* freed with the array below */
		}
	}
	if (o->threshold > 0)
		thr = o->threshold;
	if (thr <= 0 || thr > (int)n)
		thr = (int)n;
	if (cli_meta_rewrap(&meta, sotto_sops_session_meta(f.sess), g, n,
	    thr, sotto_sops_session_key(f.sess), &e) ||
	    cli_sfile_load(&raw, o->file, NULL, &e) ||
	    raw.store->emit_splice(&out, raw.doc, meta, &e))
		goto fail;
	if (o->in_place ? cli_write_encrypted(o->file, &out, &e) :
	    sotto_io_write_all(STDOUT_FILENO, out.data, out.len)) {
		if (!o->in_place)
			sotto_error_set(&e, SOTTO_E_IO, "cannot write to "
			    "standard output");
		goto fail;
	}
	goto out;
fail:
	rc = cli_fail(o->mode, &e);
out:
	cli_rgroups_free(g, nalloc);
	sotto_tree_node_free(meta, false);
	sotto_buf_release(&out);
	cli_sfile_free(&raw);
	cli_sfile_free(&f);
	return rc;
}

int
cmd_groups(int argc, char **argv, enum cli_mode mode)
{
	enum { O_AGE = 256, O_PGP, O_OTHER, O_SH, O_IGN, O_IGNV };
	static const struct option lo[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "age", required_argument, NULL, O_AGE },
		{ "pgp", required_argument, NULL, O_PGP },
		{ "kms", required_argument, NULL, O_OTHER },
		{ "gcp-kms", required_argument, NULL, O_OTHER },
		{ "azure-kv", required_argument, NULL, O_OTHER },
		{ "hc-vault-transit", required_argument, NULL, O_OTHER },
		{ "in-place", no_argument, NULL, 'i' },
		{ "shamir-secret-sharing-threshold", required_argument, NULL,
		    O_SH },
		{ "aws-profile", required_argument, NULL, O_IGNV },
		{ "encryption-context", required_argument, NULL, O_IGNV },
		{ "keyservice", required_argument, NULL, O_IGNV },
		{ "config", required_argument, NULL, O_IGNV },
		{ "verbose", no_argument, NULL, O_IGN },
		{ "enable-local-keyservice", no_argument, NULL, O_IGN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct groups_opts o;
	struct sotto_age_reclist rl = { NULL, 0 };
	struct sotto_error e = { SOTTO_OK, "" };
	char *end;
	size_t k;
	bool empty;
	int c, rc;

	memset(&o, 0, sizeof(o));
	o.mode = mode;
	if (argc < 2 || (strcmp(argv[1], "add") != 0 &&
	    strcmp(argv[1], "delete") != 0)) {
		if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
		    strcmp(argv[1], "--help") == 0)) {
			cli_print_template(stdout, groups_usage,
			    cli_prog(mode), "");
			return 0;
		}
		cli_print_template(stderr, groups_usage, cli_prog(mode), "");
		return 1;
	}
	o.add = strcmp(argv[1], "add") == 0;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "+f:ih", lo,
	    NULL)) != -1) {
		switch (c) {
		case 'f': o.file = optarg; break;
		case 'i': o.in_place = true; break;
		case O_AGE:
			if (sotto_keys_parse_recipients(&rl, optarg, &e)) {
				sotto_age_reclist_free(&rl);
				return cli_fail(mode, &e);
			}
			break;
		case O_PGP:
			if (sotto_sops_pgplist_parse(&o.newg.pgp, optarg)) {
				sotto_age_reclist_free(&rl);
				sotto_sops_pgplist_free(&o.newg.pgp);
				cli_errorf(cli_prog(mode), "out of memory");
				return 1;
			}
			break;
		case O_SH:
			o.threshold = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || o.threshold < 1)
				o.threshold = -1;
			break;
		case O_OTHER:
			sotto_age_reclist_free(&rl);
			sotto_sops_pgplist_free(&o.newg.pgp);
			cli_errorf(cli_prog(mode), "sotto can add only age "
			    "and pgp keys (--age, --pgp)");
			return 1;
		case O_IGN: case O_IGNV: break;
		case 'h':
			sotto_age_reclist_free(&rl);
			sotto_sops_pgplist_free(&o.newg.pgp);
			cli_print_template(stdout, groups_usage,
			    cli_prog(mode), "");
			return 0;
		default:
			sotto_age_reclist_free(&rl);
			sotto_sops_pgplist_free(&o.newg.pgp);
			return cli_exit_status(SOTTO_E_USAGE, mode);
		}
	}
	for (k = 0; k < rl.n; k++)
		(void)cli_rgroup_add(&o.newg,
		    sotto_age_recipient_string(rl.v[k]));
	sotto_age_reclist_free(&rl);
	empty = o.newg.nage == 0 && o.newg.pgp.n == 0;
	if (o.file == NULL || (o.add && empty) ||
	    (o.add && optind != argc - 1) || (!o.add && optind != argc - 2)) {
		cli_errorf(cli_prog(mode), "%s", o.file == NULL ?
		    "no file specified (--file)" : o.add ? (empty ?
		    "the new group needs at least one --age or --pgp key" :
		    "no positional arguments allowed") : "exactly one "
		    "positional argument (index) required");
		for (k = 0; k < o.newg.nage; k++)
			free(o.newg.age[k]);
		free(o.newg.age);
		sotto_sops_pgplist_free(&o.newg.pgp);
		return 1;
	}
	if (!o.add) {
		o.index = strtol(argv[optind + 1], &end, 10);
		if (*end != '\0' || argv[optind + 1][0] == '\0')
			o.index = -1;
	}
	rc = groups_run(&o);
	for (k = 0; k < o.newg.nage; k++)
		free(o.newg.age[k]);
	free(o.newg.age);
	sotto_sops_pgplist_free(&o.newg.pgp);
	return rc;
}
