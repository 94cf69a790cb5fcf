/* SPDX-License-Identifier: ISC */
/*
 * `sotto rotate [options] FILE...`: a new data key, every value encrypted
 * again under it, and the key wrapped for every recipient (with
 * --add-age / --rm-age / --add-pgp / --rm-pgp applied; pgp keys are
 * wrapped with the user's GnuPG).  The plaintext goes through the store
 * once more (emit then parse) so the user's formatting is kept.  Master
 * keys sotto cannot use (kms, ...) cannot be re-wrapped for a new data
 * key: rotate refuses, naming them, unless they are removed with
 * --rm-<type>.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sotto/io.h"
#include "sotto/keys.h"

#define NTYPES 6
static const char *const type_names[NTYPES] = { "pgp", "kms", "gcp_kms",
    "azure_kv", "hc_vault", "hckms" };
/* their --rm-<flag> names */
static const char *const flag_names[NTYPES] = { "pgp", "kms", "gcp-kms",
    "azure-kv", "hc-vault-transit", "hckms" };

/* The items of a comma-separated list, trimmed; empty ones skipped. */
struct items {
	char **v;
	size_t n;
};

struct rotate_opts {
	enum cli_mode mode;
	bool in_place;
	const char *output;
	const char *add_age, *rm_age, *add_pgp;
	const char *rm_other[NTYPES];	/* --rm-<type> lists */
	struct items rm_agev;		/* rm_age, split */
	struct items rm_otherv[NTYPES];	/* rm_other, split */
	const char *input_type, *output_type;
	bool ignore_mac;
};

static const char rotate_usage[] =
    "usage: {P} rotate [options] FILE...\n"
    "\n"
    "Generates a new data key, re-encrypts every value with it and wraps\n"
    "it for every recipient.  Writes to standard output, or in place with\n"
    "-i (required for several files).\n"
    "\n"
    "options:\n"
    "  -i, --in-place              write the result back to FILE\n"
    "      --output PATH           write the result to PATH\n"
    "      --add-age R[,R...]      add age recipients (first key group)\n"
    "      --rm-age R[,R...]       remove age recipients (every group)\n"
    "      --add-pgp FP[,...]      add PGP keys (first key group; gpg)\n"
    "      --rm-pgp FP[,...]       remove PGP keys (also --rm-kms,\n"
    "                              --rm-gcp-kms, --rm-azure-kv,\n"
    "                              --rm-hc-vault-transit, --rm-hckms)\n"
    "      --add-kms, ...          refused: sotto wraps for age and pgp\n"
    "      --input-type T          yaml, json, dotenv, ini or binary\n"
    "      --output-type T         format of the output (default: input)\n"
    "      --ignore-mac            do not verify the MAC\n"
    "  -h, --help                  show this help\n"
    "\n"
    "Files that also carry keys of types sotto cannot use (kms, ...) are\n"
    "refused, naming those types, unless they are removed with --rm-<type>.\n";

static void
items_free(struct items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++)
		free(it->v[i]);
	free(it->v);
	it->v = NULL;
	it->n = 0;
}

static sotto_err
items_parse(struct items *it, const char *list)
{
	const char *p = list, *a, *b;
	char **nv;

	memset(it, 0, sizeof(*it));
	while (p != NULL && *p != '\0') {
		a = p;
		b = a + strcspn(a, ",");
		p = *b == ',' ? b + 1 : b;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (a == b)
			continue;
		if ((nv = realloc(it->v, (it->n + 1) * sizeof(*nv))) == NULL)
			return SOTTO_E_NOMEM;
		it->v = nv;
		if ((it->v[it->n] = strndup(a, (size_t)(b - a))) == NULL)
			return SOTTO_E_NOMEM;
		it->n++;
	}
	return SOTTO_OK;
}

/* True when an item of it names recipient r (an SSH comment aside). */
static bool
rm_listed(const struct items *it, const char *r)
{
	size_t i;

	for (i = 0; i < it->n; i++)
		if (sotto_keys_recipient_equal(r, it->v[i]))
			return true;
	return false;
}

/* True when some scalar field of entry (fp, arn, ...) is s. */
static bool
entry_is(const struct sotto_node *ent, const char *s)
{
	size_t i;

	if (ent->kind != SOTTO_NODE_MAP)
		return false;
	for (i = 0; i < ent->n; i++)
		if (ent->items[i].val->kind == SOTTO_NODE_SCALAR &&
		    ent->items[i].val->len > 0 &&
		    strcmp(ent->items[i].val->text, s) == 0)
			return true;
	return false;
}

/* True when some scalar field of entry equals an item of list. */
static bool
entry_listed(const struct sotto_node *ent, const struct items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++)
		if (entry_is(ent, it->v[i]))
			return true;
	return false;
}

/* Types of the non-age keys that --rm-<type> does not remove. */
static unsigned
kept_others(const struct sotto_node *grp, const struct rotate_opts *o)
{
	const struct sotto_node *v;
	unsigned bits = 0;
	size_t t, i;

	for (t = 1; t < NTYPES; t++) {	/* [0], pgp: sotto re-wraps it */
		v = sotto_tree_map_get(grp, type_names[t]);
		for (i = 0; v != NULL && v->kind == SOTTO_NODE_SEQ && i < v->n;
		    i++)
			if (!entry_listed(v->items[i].val, &o->rm_otherv[t]))
				bits |= 1u << t;
	}
	return bits;
}

static sotto_err
check_others(const struct sotto_node *meta, const struct rotate_opts *o,
    const char *path, struct sotto_error *e)
{
	const struct sotto_node *kg = sotto_tree_map_get(meta, "key_groups");
	struct sotto_buf b = SOTTO_BUF_INIT;
	unsigned bits = 0;
	size_t i;

	if (kg != NULL && kg->kind == SOTTO_NODE_SEQ)
		for (i = 0; i < kg->n; i++)
			bits |= kept_others(kg->items[i].val, o);
	else
		bits = kept_others(meta, o);
	if (bits == 0)
		return SOTTO_OK;
	cli_other_type_names(&b, bits);
	sotto_error_set(e, SOTTO_E_UNSUPPORTED, "cannot rotate '%s': it has "
	    "%s keys, which sotto cannot re-wrap for a new data key; remove "
	    "them with --rm-<type> (e.g. --rm-kms ARN) or rotate with "
	    "sops", path, (const char *)b.data);
	sotto_buf_release(&b);
	return SOTTO_E_UNSUPPORTED;
}

/* The key groups of meta: key_groups[i], or meta itself (flat form). */
static const struct sotto_node *
group_at(const struct sotto_node *meta, size_t i, size_t *n)
{
	const struct sotto_node *kg = sotto_tree_map_get(meta, "key_groups");

	if (kg != NULL && kg->kind == SOTTO_NODE_SEQ && kg->n > 0) {
		*n = kg->n;
		return kg->items[i].val;
	}
	*n = 1;
	return meta;
}

/*
 * Every key that --rm-age / --rm-<type> names must be in the file: a typo
 * would otherwise remove nothing and look like success.
 */
static sotto_err
check_removals(const struct sotto_node *meta, const struct rotate_opts *o,
    const char *path, struct sotto_error *e)
{
	const struct sotto_node *grp, *v, *r;
	size_t i, g, ng, k, t;
	bool found;

	for (i = 0; i < o->rm_agev.n; i++) {
		found = false;
		for (g = 0, ng = 1; g < ng && !found; g++) {
			grp = group_at(meta, g, &ng);
			v = sotto_tree_map_get(grp, "age");
			for (k = 0; v != NULL && v->kind == SOTTO_NODE_SEQ &&
			    k < v->n && !found; k++) {
				r = v->items[k].val->kind == SOTTO_NODE_MAP ?
				    sotto_tree_map_get(v->items[k].val,
				    "recipient") : NULL;
				found = r != NULL && r->kind ==
				    SOTTO_NODE_SCALAR &&
				    sotto_keys_recipient_equal(r->text,
				    o->rm_agev.v[i]);
			}
		}
		if (!found)
			return sotto_error_set(e, SOTTO_E_PATH_MISSING, "'%s': "
			    "--rm-age '%.80s' is not a recipient of the file; "
			    "nothing was changed", path, o->rm_agev.v[i]);
	}
	for (t = 0; t < NTYPES; t++)
		for (i = 0; i < o->rm_otherv[t].n; i++) {
			found = false;
			for (g = 0, ng = 1; g < ng && !found; g++) {
				grp = group_at(meta, g, &ng);
				v = sotto_tree_map_get(grp, type_names[t]);
				for (k = 0; v != NULL && v->kind ==
				    SOTTO_NODE_SEQ && k < v->n && !found; k++)
					found = entry_is(v->items[k].val,
					    o->rm_otherv[t].v[i]);
			}
			if (!found)
				return sotto_error_set(e, SOTTO_E_PATH_MISSING,
				    "'%s': --rm-%s '%.80s' is not a key of the "
				    "file; nothing was changed", path,
				    flag_names[t], o->rm_otherv[t].v[i]);
		}
	return SOTTO_OK;
}

static const char *
meta_text(const struct sotto_node *m, const char *k)
{
	const struct sotto_node *v = sotto_tree_map_get(m, k);

	return v != NULL && v->kind == SOTTO_NODE_SCALAR &&
	    v->type != SOTTO_T_NULL ? v->text : NULL;
}

/* Encryption options for the rotated file: groups and rules of meta. */
static sotto_err
rotate_setup(struct sotto_sops_encrypt_opts *eo, const struct sotto_node *m,
    const struct rotate_opts *o, struct sotto_error *e)
{
	struct cli_rgroup *g = NULL;
	size_t n = 0, i, j;
	int thr;
	const char *s;
	sotto_err err;

	memset(eo, 0, sizeof(*eo));
	if ((err = cli_meta_groups(&g, &n, &thr, m, e)) != SOTTO_OK)
		return err;
	for (i = 0; i < n; i++)
		for (j = 0; j < g[i].nage;)
			if (rm_listed(&o->rm_agev, g[i].age[j]))
				cli_rgroup_remove(&g[i], g[i].age[j]);
			else
				j++;
	eo->groups = calloc(n, sizeof(*eo->groups));
	eo->pgp = calloc(n, sizeof(*eo->pgp));
	if (eo->groups == NULL || eo->pgp == NULL) {
		cli_rgroups_free(g, n);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	eo->ngroups = n;
	eo->threshold = n > 1 ? thr : 0;
	for (i = 0; i < n && err == SOTTO_OK; i++) {
		for (j = 0; j < g[i].nage && err == SOTTO_OK; j++)
			err = sotto_keys_parse_recipients(&eo->groups[i],
			    g[i].age[j], e);
		/* the file's pgp keys, moved; --rm-pgp ones dropped */
		eo->pgp[i] = g[i].pgp;
		memset(&g[i].pgp, 0, sizeof(g[i].pgp));
		for (j = 0; j < o->rm_otherv[0].n; j++)
			sotto_sops_pgplist_remove(&eo->pgp[i],
			    o->rm_otherv[0].v[j]);
	}
	if (err == SOTTO_OK && o->add_age != NULL)
		err = sotto_keys_parse_recipients(&eo->groups[0], o->add_age,
		    e);
	if (err == SOTTO_OK && o->add_pgp != NULL &&
	    sotto_sops_pgplist_parse(&eo->pgp[0], o->add_pgp) != SOTTO_OK)
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	cli_rgroups_free(g, n);
	eo->rules.unencrypted_suffix = meta_text(m, "unencrypted_suffix");
	eo->rules.encrypted_suffix = meta_text(m, "encrypted_suffix");
	eo->rules.unencrypted_regex = meta_text(m, "unencrypted_regex");
	eo->rules.encrypted_regex = meta_text(m, "encrypted_regex");
	eo->rules.unencrypted_comment_regex = meta_text(m,
	    "unencrypted_comment_regex");
	eo->rules.encrypted_comment_regex = meta_text(m,
	    "encrypted_comment_regex");
	s = meta_text(m, "mac_only_encrypted");
	eo->rules.mac_only_encrypted = s != NULL && strcmp(s, "true") == 0;
	return err;
}

static void
free_eo(struct sotto_sops_encrypt_opts *eo)
{
	size_t i;

	for (i = 0; i < eo->ngroups; i++) {
		sotto_age_reclist_free(&eo->groups[i]);
		if (eo->pgp != NULL)
			sotto_sops_pgplist_free(&eo->pgp[i]);
	}
	free(eo->groups);
	free(eo->pgp);
	memset(eo, 0, sizeof(*eo));
}

static int
rotate_one(const struct rotate_opts *o, const char *path)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_buf pt = SOTTO_BUF_SECRET_INIT, out = SOTTO_BUF_INIT;
	struct sotto_buf warn = SOTTO_BUF_INIT;
	struct sotto_sops_encrypt_opts eo;
	struct sotto_emit_opts emo = { -1 };
	const struct sotto_store *os;
	struct sotto_node *meta = NULL;
	struct sotto_doc *nd = NULL;
	struct cli_sfile f;
	const char *target = o->in_place ? path : o->output;
	int rc = 0;

	memset(&eo, 0, sizeof(eo));
	if (cli_sfile_load(&f, path, o->input_type, &e) ||
	    (f.doc->n > 0 && f.doc->meta != NULL && f.doc->meta[0] != NULL &&
	    check_removals(f.doc->meta[0], o, path, &e)) ||
	    cli_sfile_decrypt(&f, o->ignore_mac, &e) ||
	    check_others(sotto_sops_session_meta(f.sess), o, path, &e) ||
	    rotate_setup(&eo, sotto_sops_session_meta(f.sess), o, &e) ||
	    (os = cli_pick_store(o->output_type ? o->output_type :
	    f.store->name, path, &e)) == NULL ||
	    f.store->emit_splice(&pt, f.doc, NULL, &e) != SOTTO_OK ||
	    f.store->parse(&nd, pt.data, pt.len, path, &lim, &e) != SOTTO_OK)
		goto fail;
	nd->secret = true;
	eo.warnings = &warn;
	if (sotto_sops_encrypt(&meta, nd, &eo, &e) != SOTTO_OK ||
	    (os == f.store ? os->emit_splice(&out, nd, meta, &e) :
	    os->emit(&out, nd, meta, &emo, &e)) != SOTTO_OK)
		goto fail;
	if (target == NULL || strcmp(target, "-") == 0) {
		if (sotto_io_write_all(STDOUT_FILENO, out.data, out.len)) {
			sotto_error_set(&e, SOTTO_E_IO, "cannot write to "
			    "standard output");
			goto fail;
		}
	} else if (cli_write_encrypted(target, &out, &e) != SOTTO_OK) {
		goto fail;
	}
	goto out;
fail:
	rc = cli_fail(o->mode, &e);
	if (e.code == SOTTO_E_NOTFOUND && o->mode == CLI_SOPS)
		rc = 49;	/* CannotChangeKeysFromNonExistentFile */
out:
	if (warn.len > 0)
		fputs((const char *)warn.data, stderr);
	eo.warnings = NULL;
	free_eo(&eo);
	sotto_tree_node_free(meta, false);
	sotto_tree_doc_free(nd);
	cli_sfile_free(&f);
	sotto_buf_release(&pt);
	sotto_buf_release(&out);
	sotto_buf_release(&warn);
	return rc;
}

int
cli_run_files(char **files, int n, const char *verb,
    int (*one)(const void *ctx, const char *path), const void *ctx)
{
	bool tty = n > 1 && isatty(STDERR_FILENO);
	int i, r, rc = 0, failed = 0;

	for (i = 0; i < n; i++) {
		if (tty)
			fprintf(stderr, "%s [%d/%d] %s\n", verb, i + 1, n,
			    files[i]);
		r = one(ctx, files[i]);
		if (r != 0) {
			failed++;
			if (rc == 0)
				rc = r;
		}
	}
	if (n > 1)
		fprintf(stderr, "%s: %d file(s) done, %d failed\n", verb,
		    n - failed, failed);
	return rc;
}

static int
rotate_cb(const void *ctx, const char *path)
{
	return rotate_one(ctx, path);
}

int
cmd_rotate(int argc, char **argv, enum cli_mode mode)
{
	enum { O_OUT = 256, O_ADD_AGE, O_RM_AGE, O_RM0, O_ADD_OTHER =
	    O_RM0 + NTYPES, O_ADD_PGP, O_IT, O_OT, O_IM, O_IGN, O_IGNV };
	static const struct option lo[] = {
		{ "in-place", no_argument, NULL, 'i' },
		{ "output", required_argument, NULL, O_OUT },
		{ "add-age", required_argument, NULL, O_ADD_AGE },
		{ "rm-age", required_argument, NULL, O_RM_AGE },
		{ "rm-pgp", required_argument, NULL, O_RM0 },
		{ "rm-kms", required_argument, NULL, O_RM0 + 1 },
		{ "rm-gcp-kms", required_argument, NULL, O_RM0 + 2 },
		{ "rm-azure-kv", required_argument, NULL, O_RM0 + 3 },
		{ "rm-hc-vault-transit", required_argument, NULL, O_RM0 + 4 },
		{ "rm-hckms", required_argument, NULL, O_RM0 + 5 },
		{ "add-pgp", required_argument, NULL, O_ADD_PGP },
		{ "add-kms", required_argument, NULL, O_ADD_OTHER },
		{ "add-gcp-kms", required_argument, NULL, O_ADD_OTHER },
		{ "add-azure-kv", required_argument, NULL, O_ADD_OTHER },
		{ "add-hc-vault-transit", required_argument, NULL, O_ADD_OTHER },
		{ "add-hckms", required_argument, NULL, O_ADD_OTHER },
		{ "input-type", required_argument, NULL, O_IT },
		{ "output-type", required_argument, NULL, O_OT },
		{ "ignore-mac", no_argument, NULL, O_IM },
		{ "verbose", no_argument, NULL, O_IGN },
		{ "disable-version-check", no_argument, NULL, O_IGN },
		{ "enable-local-keyservice", no_argument, NULL, O_IGN },
		{ "config", required_argument, NULL, O_IGNV },
		{ "indent", required_argument, NULL, O_IGNV },
		{ "keyservice", required_argument, NULL, O_IGNV },
		{ "decryption-order", required_argument, NULL,
		    CLI_OPT_DECRYPTION_ORDER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rotate_opts o;
	int c, i;

	memset(&o, 0, sizeof(o));
	o.mode = mode;
	cli_set_decryption_order(NULL);
	cli_reorder_args(argc, argv, "ih", lo, true);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+ih", lo, NULL)) != -1) {
		if (c >= O_RM0 && c < O_RM0 + NTYPES) {
			o.rm_other[c - O_RM0] = optarg;
			continue;
		}
		switch (c) {
		case 'i': o.in_place = true; break;
		case O_OUT: o.output = optarg; break;
		case O_ADD_AGE: o.add_age = optarg; break;
		case O_ADD_PGP: o.add_pgp = optarg; break;
		case O_RM_AGE: o.rm_age = optarg; break;
		case O_IT: o.input_type = optarg; break;
		case O_OT: o.output_type = optarg; break;
		case O_IM: o.ignore_mac = true; break;
		case O_IGN: case O_IGNV: break;
		case CLI_OPT_DECRYPTION_ORDER:
			cli_set_decryption_order(optarg);
			break;
		case O_ADD_OTHER:
			cli_errorf(cli_prog(mode), "sotto can add only age "
			    "and pgp keys (--add-age, --add-pgp)");
			return 1;
		case 'h':
			cli_print_template(stdout, rotate_usage,
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
	if (items_parse(&o.rm_agev, o.rm_age) != SOTTO_OK) {
		cli_errorf(cli_prog(mode), "out of memory");
		return 1;
	}
	for (c = 0; c < NTYPES; c++)
		if (items_parse(&o.rm_otherv[c], o.rm_other[c]) != SOTTO_OK) {
			cli_errorf(cli_prog(mode), "out of memory");
			return 1;
		}
	if ((o.in_place && o.output) || (argc - optind > 1 && !o.in_place)) {
		cli_errorf(cli_prog(mode), "%s", o.output && o.in_place ?
		    "cannot use --in-place and --output together" :
		    "several files need --in-place");
		return cli_exit_status(SOTTO_E_CONFLICT, mode);
	}
	c = cli_run_files(argv + optind, argc - optind, "rotate", rotate_cb,
	    &o);
	items_free(&o.rm_agev);
	for (i = 0; i < NTYPES; i++)
		items_free(&o.rm_otherv[i]);
	return c;
}
