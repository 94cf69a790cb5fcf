/* SPDX-License-Identifier: ISC */
/*
 * `sotto updatekeys [-y] [-r] FILE|DIR...`: make each file's age and pgp
 * keys match its .sops.yaml creation rule (pgp through the user's GnuPG).
 * The data key (from the editing session) is re-wrapped for the new
 * recipients; values, MAC and
 * lastmodified do not change, entries of recipients that stay are kept
 * byte for byte, and keys of types sotto cannot use stay in place.  The
 * recipient diff is shown as sops shows it and confirmed unless -y.
 */
#include "cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sotto/config.h"
#include "sotto/io.h"

struct uk_opts {
	enum cli_mode mode;
	bool yes;		/* -y: no confirmation */
	bool recursive;		/* -r: walk directories */
	const char *input_type;
	const char *config;	/* --config */
	int shamir;		/* --shamir-secret-sharing-threshold */
};

static const char updatekeys_usage[] =
    "usage: {P} updatekeys [options] FILE|DIR...\n"
    "\n"
    "Makes the recipients of each encrypted FILE match the creation rule of\n"
    "its .sops.yaml: shows the changes, asks for confirmation (unless -y)\n"
    "and re-wraps the same data key.  Values are not re-encrypted.\n"
    "\n"
    "options:\n"
    "  -y, --yes                   apply without asking\n"
    "  -r, --recursive             walk directories for encrypted files\n"
    "      --input-type T          yaml, json, dotenv, ini or binary\n"
    "      --config PATH           .sops.yaml to use (env SOPS_CONFIG)\n"
    "      --shamir-secret-sharing-threshold N\n"
    "                              key groups needed (default: the rule's)\n"
    "  -h, --help                  show this help\n";

static bool
has(const struct cli_rgroup *g, const char *r)
{
	size_t i;

	/* an SSH key's comment is a label: the same key with or without */
	for (i = 0; i < g->nage; i++)
		if (sotto_keys_recipient_equal(g->age[i], r))
			return true;
	return false;
}

static bool
has_pgp(const struct cli_rgroup *g, const char *fp)
{
	return sotto_sops_pgplist_has(&g->pgp, fp);
}

/* Prints the diff as sops' PrettyPrintDiffs; returns true if any. */
static bool
print_diff(FILE *out, const struct cli_rgroup *old, size_t nold,
    const struct cli_rgroup *new, size_t nnew)
{
	static const struct cli_rgroup none = { NULL, 0, { NULL, 0 }, 0 };
	size_t i, j, n = nold > nnew ? nold : nnew;
	bool any = nold != nnew;

	for (i = 0; i < n; i++) {
		const struct cli_rgroup *a = i < nold ? &old[i] : &none;
		const struct cli_rgroup *b = i < nnew ? &new[i] : &none;

		for (j = 0; j < b->nage; j++)
			any |= !has(a, b->age[j]);
		for (j = 0; j < a->nage; j++)
			any |= !has(b, a->age[j]);
		for (j = 0; j < b->pgp.n; j++)
			any |= !has_pgp(a, b->pgp.v[j]);
		for (j = 0; j < a->pgp.n; j++)
			any |= !has_pgp(b, a->pgp.v[j]);
	}
	if (!any)
		return false;
	fprintf(out, "The following changes will be made to the file's "
	    "groups:\n");
	for (i = 0; i < n; i++) {
		const struct cli_rgroup *a = i < nold ? &old[i] : &none;
		const struct cli_rgroup *b = i < nnew ? &new[i] : &none;

		/* sops' order: the rule's keys (age, then pgp) kept and
		 * added, then the file's (pgp, then age) removed */
		fprintf(out, "Group %zu\n", i + 1);
		for (j = 0; j < b->nage; j++)
			if (has(a, b->age[j]))
				fprintf(out, "    %s\n", b->age[j]);
		for (j = 0; j < b->pgp.n; j++)
			if (has_pgp(a, b->pgp.v[j]))
				fprintf(out, "    %s\n", b->pgp.v[j]);
		for (j = 0; j < b->nage; j++)
			if (!has(a, b->age[j]))
				fprintf(out, "+++ %s\n", b->age[j]);
		for (j = 0; j < b->pgp.n; j++)
			if (!has_pgp(a, b->pgp.v[j]))
				fprintf(out, "+++ %s\n", b->pgp.v[j]);
		for (j = 0; j < a->pgp.n; j++)
			if (!has_pgp(b, a->pgp.v[j]))
				fprintf(out, "--- %s\n", a->pgp.v[j]);
		for (j = 0; j < a->nage; j++)
			if (!has(b, a->age[j]))
				fprintf(out, "--- %s\n", a->age[j]);
	}
	return true;
}

/*
 * sops' question: "Is this okay? (y/n):" on standard output, the answer
 * read from standard input, a terminal or not (`yes | sotto updatekeys`),
 * asked again until it is "y" or "n".  Returns 1 for y, 0 for n, -1 when
 * the input ends first.
 */
static int
confirm(void)
{
	char line[256];
	size_t a, b;

	for (;;) {
		printf("Is this okay? (y/n):");
		fflush(stdout);
		if (fgets(line, sizeof(line), stdin) == NULL) {
			printf("\n");
			return -1;
		}
		if (strchr(line, '\n') == NULL && !feof(stdin)) {
			int c;

			while ((c = getchar()) != EOF && c != '\n')
				;
			continue;	/* too long: not y or n */
		}
		a = strspn(line, " \t");
		b = a + strcspn(line + a, " \t\r\n");
		if (b - a == 1 && (line[a] == 'y' || line[a] == 'n') &&
		    line[b + strspn(line + b, " \t\r\n")] == '\0')
			return line[a] == 'y';
	}
}

/* The creation rule's groups for path, as strings. */
static sotto_err
rule_groups(struct cli_rgroup **out, size_t *n, int *thr,
    const struct uk_opts *o, const char *path, struct sotto_error *e)
{
	struct sotto_sops_encrypt_opts eo;
	struct sotto_config *cfg = NULL;
	struct cli_keyopts k;
	struct cli_rgroup *g;
	size_t i, j;
	sotto_err err;

	memset(&k, 0, sizeof(k));
	k.prog = cli_prog(o->mode);
	k.config = o->config;
	k.shamir = o->shamir;
	if ((err = cli_sops_encryption_setup(&eo, &cfg, &k, path, e)))
		goto out;
	if (eo.ngroups == 0) {
		err = sotto_error_set(e, SOTTO_E_CONFIG_NOT_FOUND, "'%s': no "
		    ".sops.yaml creation rule gives recipients for this file",
		    path);
		goto out;
	}
	g = calloc(eo.ngroups, sizeof(*g));
	if (g == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < eo.ngroups; i++) {
		for (j = 0; j < eo.groups[i].n; j++)
			if (cli_rgroup_add(&g[i], sotto_age_recipient_string(
			    eo.groups[i].v[j])))
				err = sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
		g[i].pgp = eo.pgp[i];		/* moved */
		memset(&eo.pgp[i], 0, sizeof(eo.pgp[i]));
	}
	*out = g;
	*n = eo.ngroups;
	*thr = eo.threshold ? eo.threshold : (int)eo.ngroups;
out:
	cli_sops_encryption_free(&eo, cfg);
	return err;
}

static int
update_one(const void *ctx, const char *path)
{
	const struct uk_opts *o = ctx;
	struct sotto_error e = { SOTTO_OK, "" };
	struct cli_sfile f, raw;
	struct cli_rgroup *old = NULL, *new = NULL;
	size_t nold = 0, nnew = 0;
	int told = 0, tnew = 0, rc = 0;
	struct sotto_node *meta = NULL;
	struct sotto_buf out = SOTTO_BUF_INIT;

	memset(&raw, 0, sizeof(raw));
	if (cli_sfile_open(&f, path, o->input_type, false, &e) ||
	    cli_meta_groups(&old, &nold, &told,
	    sotto_sops_session_meta(f.sess), &e) ||
	    rule_groups(&new, &nnew, &tnew, o, path, &e))
		goto fail;
	if (!print_diff(stdout, old, nold, new, nnew) && (nold < 2 ||
	    told == tnew)) {
		fprintf(stderr, "File %s already up to date\n", path);
		goto out;
	}
	fflush(stdout);
	if (sotto_io_replace_check(path, &e) != SOTTO_OK)
		goto fail;
	if (!o->yes) {
		int yes = confirm();

		if (yes < 0) {
			sotto_error_set(&e, SOTTO_E_TTY, "'%s': not updated: "
			    "standard input ended before an answer (y or n; "
			    "-y does not ask)", path);
			goto fail;
		}
		if (yes == 0) {
			fprintf(stderr, "File %s left unchanged\n", path);
			goto out;
		}
	}
	if (cli_meta_rewrap(&meta, sotto_sops_session_meta(f.sess), new, nnew,
	    tnew, sotto_sops_session_key(f.sess), &e) ||
	    cli_sfile_load(&raw, path, o->input_type, &e) ||
	    raw.store->emit_splice(&out, raw.doc, meta, &e) ||
	    cli_write_encrypted(path, &out, &e))
		goto fail;
	fprintf(stderr, "File %s synced with new keys\n", path);
	goto out;
fail:
	rc = cli_fail(o->mode, &e);
out:
	sotto_tree_node_free(meta, false);
	sotto_buf_release(&out);
	cli_rgroups_free(old, nold);
	cli_rgroups_free(new, nnew);
	cli_sfile_free(&raw);
	cli_sfile_free(&f);
	return rc;
}

struct flist {
	char **v;
	int n, cap;
};

static int
flist_add(struct flist *l, const char *p)
{
	char **nv;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		nv = realloc(l->v, (size_t)l->cap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		l->v = nv;
	}
	if ((l->v[l->n] = strdup(p)) == NULL)
		return -1;
	l->n++;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects the sops-encrypted files under dir (hidden entries skipped). */
static void
walk(struct flist *l, const char *dir, const char *itype, int depth)
{
	struct dirent *de;
	struct stat st;
	char p[PATH_MAX];
	DIR *d;

	if (depth > 64 || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct sotto_error e = { SOTTO_OK, "" };
		struct cli_sfile f;

		if (de->d_name[0] == '.' || snprintf(p, sizeof(p), "%s/%s",
		    dir, de->d_name) >= (int)sizeof(p) || lstat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(l, p, itype, depth + 1);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (cli_sfile_load(&f, p, itype, &e) == SOTTO_OK &&
		    sotto_sops_is_encrypted(f.doc))
			(void)flist_add(l, p);
		cli_sfile_free(&f);
	}
	closedir(d);
}

int
cmd_updatekeys(int argc, char **argv, enum cli_mode mode)
{
	enum { O_IT = 256, O_CFG, O_SH, O_IGN, O_IGNV };
	static const struct option lo[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "recursive", no_argument, NULL, 'r' },
		{ "input-type", required_argument, NULL, O_IT },
		{ "config", required_argument, NULL, O_CFG },
		{ "shamir-secret-sharing-threshold", required_argument, NULL,
		    O_SH },
		{ "verbose", no_argument, NULL, O_IGN },
		{ "disable-version-check", no_argument, NULL, O_IGN },
		{ "enable-local-keyservice", no_argument, NULL, O_IGN },
		{ "keyservice", required_argument, NULL, O_IGNV },
		{ "indent", required_argument, NULL, O_IGNV },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct flist l = { NULL, 0, 0 };
	struct uk_opts o;
	struct stat st;
	char *end;
	int c, i, rc;

	memset(&o, 0, sizeof(o));
	o.mode = mode;
	cli_reorder_args(argc, argv, "yrh", lo, true);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+yrh", lo, NULL)) != -1) {
		switch (c) {
		case 'y': o.yes = true; break;
		case 'r': o.recursive = true; break;
		case O_IT: o.input_type = optarg; break;
		case O_CFG: o.config = optarg; break;
		case O_SH:
			o.shamir = (int)strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o.shamir < 0 ||
			    o.shamir > 255) {
				cli_errorf(cli_prog(mode), "invalid Shamir "
				    "threshold '%s'", optarg);
				return cli_exit_status(SOTTO_E_USAGE, mode);
			}
			break;
		case O_IGN: case O_IGNV: break;
		case 'h':
			cli_print_template(stdout, updatekeys_usage,
			    cli_prog(mode), "");
			return 0;
		default:
			return cli_exit_status(SOTTO_E_USAGE, mode);
		}
	}
	if (optind >= argc) {
		cli_errorf(cli_prog(mode), "no file specified");
		return cli_exit_status(SOTTO_E_NOTFOUND, mode);
	}
	/* recipients come from .sops.yaml only, as in sops */
	unsetenv("SOPS_AGE_RECIPIENTS");
	unsetenv("SOPS_PGP_FP");
	for (i = optind; i < argc; i++) {
		if (o.recursive && stat(argv[i], &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			int first = l.n;

			walk(&l, argv[i], o.input_type, 0);
			qsort(l.v + first, (size_t)(l.n - first), sizeof(*l.v),
			    cmp_str);
		} else if (flist_add(&l, argv[i]) != 0) {
			break;
		}
	}
	rc = cli_run_files(l.v, l.n, "updatekeys", update_one, &o);
	if (rc != 0 && l.n > 1 && mode == CLI_SOPS)
		rc = 1;		/* sops: "failed updating N key(s)" */
	for (i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return rc;
}
