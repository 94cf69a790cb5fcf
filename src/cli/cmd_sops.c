/* SPDX-License-Identifier: ISC */
/*
 * `sotto encrypt` / `sotto decrypt`, and the same under the sops
 * personality (`sops encrypt|decrypt`, legacy `sops -e|-d`).  Each file is
 * handled on its own; output to a file (-i or --output) goes through an
 * atomic temp-file rename, so a failure never leaves a half-written or
 * plaintext file.  Exit statuses are sops' (cli/exit.c).
 */
#include "cli/cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sotto/config.h"
#include "sotto/io.h"
#include "sotto/keys.h"
#include "sotto/sops.h"
#include "sotto/store.h"
#include "sotto/treepath.h"

enum {
	O_INPUT_TYPE = 256, O_OUTPUT_TYPE, O_FILENAME_OVERRIDE, O_EXTRACT,
	O_IGNORE_MAC, O_ENC_REGEX, O_UNENC_REGEX, O_ENC_SUFFIX, O_UNENC_SUFFIX,
	O_ENC_CREGEX, O_UNENC_CREGEX, O_MAC_ONLY, O_SHAMIR, O_CONFIG,
	O_INDENT, O_OUTPUT, O_VERBOSE, O_IGNORED, O_DECRYPTION_ORDER,
};

struct sops_opts {
	const char *prog;		/* for messages */
	enum cli_mode mode;
	bool encrypt;			/* else decrypt */
	bool in_place;
	const char *output;
	const char *input_type, *output_type, *filename_override;
	const char *extract;
	bool ignore_mac;
	const char *age;		/* --age list */
	const char *pgp;		/* --pgp list */
	struct sotto_sops_rules rules;	/* command-line selection */
	int shamir;			/* --shamir-secret-sharing-threshold */
	const char *config;		/* --config */
	int indent;			/* --indent, -1 default */
	char **files;
	int nfiles;
};

static const char encrypt_usage[] =
    "usage: {P} encrypt [options] [FILE...]\n"
    "\n"
    "Encrypts FILE (or standard input) with sops' value-level encryption\n"
    "and writes it to standard output, or in place with -i.\n"
    "\n"
    "options:\n"
    "  -i, --in-place                      write the result back to FILE\n"
    "      --output PATH                   write the result to PATH\n"
    "  -a, --age R[,R...]                  age recipients (env SOPS_AGE_RECIPIENTS)\n"
    "  -p, --pgp FP[,FP...]                OpenPGP fingerprints, wrapped with\n"
    "                                      gpg (env SOPS_PGP_FP)\n"
    "      --input-type T                  yaml, json, dotenv, ini or binary\n"
    "      --output-type T                 format of the output (default: input)\n"
    "      --filename-override NAME        file name for format and .sops.yaml\n"
    "                                      rules (required with standard input)\n"
    "      --unencrypted-suffix S          leave keys ending in S in clear\n"
    "      --encrypted-suffix S            encrypt only keys ending in S\n"
    "      --unencrypted-regex RE          leave keys matching RE in clear\n"
    "      --encrypted-regex RE            encrypt only keys matching RE\n"
    "      --unencrypted-comment-regex RE  leave values after matching comments\n"
    "      --encrypted-comment-regex RE    encrypt only after matching comments\n"
    "      --mac-only-encrypted            MAC only the encrypted values\n"
    "      --shamir-secret-sharing-threshold N\n"
    "                                      key groups needed to decrypt\n"
    "      --config PATH                   use this .sops.yaml (env SOPS_CONFIG)\n"
    "      --indent N                      indentation of re-emitted output\n"
    "  -h, --help                          show this help\n"
    "\n"
    "Recipients come from --age and --pgp (SOPS_AGE_RECIPIENTS, SOPS_PGP_FP),\n"
    "or the first matching creation rule of the nearest .sops.yaml.  Output\n"
    "keeps the input's own formatting (comments, order, quoting); see\n"
    "sotto-encrypt(1).\n";

static const char decrypt_usage[] =
    "usage: {P} decrypt [options] [FILE...]\n"
    "\n"
    "Decrypts a sops file (or standard input) to standard output, or in\n"
    "place with -i.\n"
    "\n"
    "options:\n"
    "  -i, --in-place                      write the plaintext back to FILE\n"
    "      --output PATH                   write the result to PATH\n"
    "      --extract PATH                  print only the value at PATH,\n"
    "                                      e.g. '[\"db\"][\"password\"]'\n"
    "      --input-type T                  yaml, json, dotenv, ini or binary\n"
    "      --output-type T                 format of the output (default: input)\n"
    "      --filename-override NAME        file name used to pick the format\n"
    "      --ignore-mac                    do not verify the MAC\n"
    "      --indent N                      indentation of re-emitted output\n"
    "  -h, --help                          show this help\n"
    "\n"
    "Identities: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD,\n"
    "SOPS_AGE_SSH_PRIVATE_KEY_FILE, ~/.ssh/id_ed25519, ~/.ssh/id_rsa and\n"
    "$XDG_CONFIG_HOME/sops/age/keys.txt; pgp keys: the GnuPG keyring and\n"
    "gpg-agent (GNUPGHOME, SOPS_GPG_EXEC); see sotto-decrypt(1).\n";

/* What sops says of a key group without keys, and how sops ends. */
#define SOPS_EMPTY_GROUP "Could not generate data key: [empty key group provided]"

static int
fail(const struct sops_opts *o, const struct sotto_error *e)
{
	if (o->mode == CLI_SOPS && e->code == SOTTO_E_EMPTY_GROUP)
		/* the drop-in prints sops' words alone, as sops does */
		fprintf(stderr, "%s\n", SOPS_EMPTY_GROUP);
	else
		cli_error(o->prog, e);
	return cli_exit_status(e->code, o->mode);
}

static const struct sotto_store *
pick_store(const char *type, const char *path, struct sotto_error *e)
{
	const struct sotto_store *s;

	if (type != NULL) {
		s = sotto_store_by_name(type);
		if (s == NULL)
			sotto_error_set(e, SOTTO_E_USAGE, "unknown format '%s' "
			    "(use yaml, json, dotenv, ini or binary)", type);
		return s;
	}
	return sotto_store_for_path(path ? path : "");
}

static void
free_groups(struct sotto_age_reclist *g, struct sotto_sops_pgplist *p,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (g != NULL)
			sotto_age_reclist_free(&g[i]);
		if (p != NULL)
			sotto_sops_pgplist_free(&p[i]);
	}
	free(g);
	free(p);
}

/* Room for n groups of age and pgp keys in eo. */
static sotto_err
alloc_groups(struct sotto_sops_encrypt_opts *eo, size_t n,
    struct sotto_error *e)
{
	eo->groups = calloc(n ? n : 1, sizeof(*eo->groups));
	eo->pgp = calloc(n ? n : 1, sizeof(*eo->pgp));
	if (eo->groups == NULL || eo->pgp == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	eo->ngroups = n;
	return SOTTO_OK;
}

/*
 * Fills the encryption options from the command line, the environment
 * and the first matching creation rule.  *cfg_out keeps the config alive
 * while the rule's strings are borrowed.
 */
static sotto_err
encryption_setup(struct sotto_sops_encrypt_opts *eo, struct sotto_config **cfg_out,
    const struct sops_opts *o, const char *path, struct sotto_error *e)
{
	const char *age = o->age ? o->age : getenv("SOPS_AGE_RECIPIENTS");
	const char *pgp = o->pgp ? o->pgp : getenv("SOPS_PGP_FP");
	const struct sotto_config_rule *rule = NULL;
	struct sotto_config *cfg = NULL;
	char *cfgpath = NULL, *warning = NULL;
	size_t i, j;
	sotto_err err = SOTTO_OK;

	memset(eo, 0, sizeof(*eo));
	*cfg_out = NULL;
	eo->rules = o->rules;
	/* as sops: --config, SOPS_CONFIG, else from the working directory */
	err = sotto_config_locate(&cfgpath, &warning, o->config ? o->config :
	    getenv("SOPS_CONFIG"), e);
	if (warning != NULL) {
		cli_warnf(o->prog, "%s", warning);
		free(warning);
	}
	if (err != SOTTO_OK)
		return err;
	if (cfgpath != NULL) {
		err = sotto_config_load(&cfg, cfgpath, e);
		free(cfgpath);
		if (err != SOTTO_OK)
			return err;
		*cfg_out = cfg;
		if (cfg->has_creation_rules && cfg->nrules > 0 &&
		    age == NULL && pgp == NULL) {
			err = sotto_config_match(&rule, cfg,
			    path && strcmp(path, "-") ? path : "", e);
			if (err != SOTTO_OK)
				return err;
		}
	}
	if ((age != NULL && age[0] != '\0') || (pgp != NULL &&
	    pgp[0] != '\0')) {
		/* as sops: keys on the command line (or their environment
		 * variables) make one group and the config's rules unused */
		if ((err = alloc_groups(eo, 1, e)) != SOTTO_OK)
			return err;
		if (age != NULL)
			err = sotto_keys_parse_recipients(&eo->groups[0], age,
			    e);
		if (err == SOTTO_OK && pgp != NULL &&
		    sotto_sops_pgplist_parse(&eo->pgp[0], pgp) != SOTTO_OK)
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
	} else if (rule != NULL) {
		if ((err = alloc_groups(eo, rule->ngroups, e)) != SOTTO_OK)
			return err;
		for (i = 0; i < rule->ngroups && err == SOTTO_OK; i++) {
			for (j = 0; j < rule->groups[i].nage && !err; j++)
				err = sotto_keys_parse_recipients(&eo->groups[i],
				    rule->groups[i].age[j], e);
			for (j = 0; j < rule->groups[i].npgp && !err; j++)
				if (sotto_sops_pgplist_add(&eo->pgp[i],
				    rule->groups[i].pgp[j]) != SOTTO_OK)
					err = sotto_error_set(e, SOTTO_E_NOMEM,
					    "out of memory");
			if (err == SOTTO_OK && rule->groups[i].nage == 0 &&
			    rule->groups[i].npgp == 0 &&
			    rule->groups[i].nother == 0)
				/* sops' text: `sops` prints it alone (fail()) */
				err = sotto_error_set(e, SOTTO_E_EMPTY_GROUP,
				    "'%s' creation_rules[%zu]: key group %zu "
				    "has no keys: %s", cfg->path, rule->index,
				    i, SOPS_EMPTY_GROUP);
			else if (err == SOTTO_OK && rule->groups[i].nage == 0 &&
			    rule->groups[i].npgp == 0)
				err = sotto_error_set(e, SOTTO_E_NO_RECIPIENTS,
				    "'%s': the matching creation rule has no "
				    "age or pgp recipients%s", cfg->path,
				    rule->groups[i].nother ? " (sotto encrypts "
				    "only to age and pgp; kms/vault keys are "
				    "not supported)" : "");
		}
		eo->threshold = rule->shamir_threshold;
		if (!o->rules.unencrypted_suffix && !o->rules.encrypted_suffix &&
		    !o->rules.unencrypted_regex && !o->rules.encrypted_regex &&
		    !o->rules.unencrypted_comment_regex &&
		    !o->rules.encrypted_comment_regex) {
			eo->rules.unencrypted_suffix = rule->unencrypted_suffix;
			eo->rules.encrypted_suffix = rule->encrypted_suffix;
			eo->rules.unencrypted_regex = rule->unencrypted_regex;
			eo->rules.encrypted_regex = rule->encrypted_regex;
			eo->rules.unencrypted_comment_regex =
			    rule->unencrypted_comment_regex;
			eo->rules.encrypted_comment_regex =
			    rule->encrypted_comment_regex;
		}
		if (rule->mac_only_encrypted)
			eo->rules.mac_only_encrypted = true;
	}
	if (o->shamir > 0)
		eo->threshold = o->shamir;
	return err;
}

sotto_err
cli_sops_encryption_setup(struct sotto_sops_encrypt_opts *eo,
    struct sotto_config **cfg_out, const struct cli_keyopts *k,
    const char *path, struct sotto_error *e)
{
	struct sops_opts o;

	memset(&o, 0, sizeof(o));
	o.prog = k->prog;
	o.age = k->age;
	o.pgp = k->pgp;
	o.rules = k->rules;
	o.shamir = k->shamir;
	o.config = k->config;
	return encryption_setup(eo, cfg_out, &o, path, e);
}

void
cli_sops_encryption_free(struct sotto_sops_encrypt_opts *eo,
    struct sotto_config *cfg)
{
	free_groups(eo->groups, eo->pgp, eo->ngroups);
	eo->groups = NULL;
	eo->pgp = NULL;
	eo->ngroups = 0;
	sotto_config_free(cfg);
}

static sotto_err
write_result(const struct sops_opts *o, const char *path,
    const struct sotto_buf *out, bool plaintext, struct sotto_error *e)
{
	const char *target = o->in_place ? path : o->output;

	if (target == NULL || strcmp(target, "-") == 0) {
		if (out->len > 0 && sotto_io_write_all(STDOUT_FILENO, out->data,
		    out->len) != SOTTO_OK)
			return sotto_error_set(e, SOTTO_E_IO,
			    "cannot write to standard output");
		return SOTTO_OK;
	}
	/* new plaintext files are 0600; encrypted ones 0666 & ~umask; an
	 * existing file keeps its mode, a symbolic link its target */
	return sotto_io_write_replace(target, out->data, out->len,
	    plaintext ? 0600 : (0666 & ~sotto_io_umask()), e);
}

/*
 * The indentation a rendering store uses, as sops' outputStore() picks it:
 * --indent, else stores.<yaml|json|json_binary>.indent of the .sops.yaml
 * named by --config or SOPS_CONFIG or found from the working directory up
 * (sops' loadStoresConfig), else -1 (the store's default).  A config that
 * does not load fails the command, as in sops.
 */
static sotto_err
emit_indent(int *out, const struct sops_opts *o,
    const struct sotto_store *os, struct sotto_error *e)
{
	struct sotto_config *cfg = NULL;
	const char *env = getenv("SOPS_CONFIG");
	char *path = NULL;
	sotto_err err = SOTTO_OK;

	*out = o->indent;
	if (o->indent >= 0)
		return SOTTO_OK;
	if (o->config != NULL || (env != NULL && env[0] != '\0')) {
		if ((path = strdup(o->config ? o->config : env)) == NULL)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
	} else if ((err = sotto_config_find(&path, NULL, ".", e)) != SOTTO_OK)
		return err;
	if (path != NULL && (err = sotto_config_load(&cfg, path, e)) ==
	    SOTTO_OK) {
		if (os == &sotto_store_yaml)
			*out = cfg->yaml_indent;
		else if (os == &sotto_store_json)
			*out = cfg->json_indent;
		else if (os == &sotto_store_binary)
			*out = cfg->json_binary_indent;
	}
	sotto_config_free(cfg);
	free(path);
	return err;
}

/*
 * The stores for path (typed by name unless --input-type/--output-type say
 * otherwise) and its parsed document, marked secret.  The document takes
 * in's bytes as its source: no second copy.
 */
static sotto_err
load_doc(struct sotto_doc **doc, const struct sotto_store **is,
    const struct sotto_store **os, struct sotto_buf *in,
    const struct sops_opts *o, const char *path, const char *name,
    const struct sotto_limits *lim, struct sotto_error *e)
{
	sotto_err err;

	if ((*is = pick_store(o->input_type, name, e)) == NULL ||
	    (*os = pick_store(o->output_type ? o->output_type : (*is)->name,
	    name, e)) == NULL)
		return e->code;
	if ((err = sotto_io_read_file(in, path, lim->max_bytes, e)) !=
	    SOTTO_OK || (err = sotto_store_parse_buf(*is, doc, in,
	    strcmp(path, "-") ? path : "stdin", lim, e)) != SOTTO_OK)
		return err;
	(*doc)->secret = true;
	return SOTTO_OK;
}

static int
encrypt_one(const struct sops_opts *o, const char *path)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf in = SOTTO_BUF_SECRET_INIT, out = SOTTO_BUF_INIT;
	struct sotto_buf warn = SOTTO_BUF_INIT;
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_sops_encrypt_opts eo;
	struct sotto_config *cfg = NULL;
	const struct sotto_store *is, *os;
	struct sotto_doc *doc = NULL;
	struct sotto_node *meta = NULL;
	struct sotto_emit_opts eopt = { o->indent };
	const char *name = o->filename_override ? o->filename_override : path;
	int rc;

	memset(&eo, 0, sizeof(eo));
	if (load_doc(&doc, &is, &os, &in, o, path, name, &lim, &e) !=
	    SOTTO_OK) {
		rc = fail(o, &e);
		goto out;
	}
	if (sotto_sops_is_encrypted(doc)) {
		sotto_error_set(&e, SOTTO_E_ALREADY_ENCRYPTED,
		    "'%s' is already encrypted", path);
		rc = fail(o, &e);
		goto out;
	}
	if (encryption_setup(&eo, &cfg, o, name, &e) != SOTTO_OK) {
		rc = fail(o, &e);
		goto out;
	}
	eo.warnings = &warn;
	if ((os != is && emit_indent(&eopt.indent, o, os, &e) != SOTTO_OK) ||
	    sotto_sops_encrypt(&meta, doc, &eo, &e) != SOTTO_OK ||
	    (os == is ? os->emit_splice(&out, doc, meta, &e) :
	    os->emit(&out, doc, meta, &eopt, &e)) != SOTTO_OK ||
	    write_result(o, path, &out, false, &e) != SOTTO_OK) {
		rc = fail(o, &e);
		goto out;
	}
	rc = 0;
out:
	if (warn.len > 0)
		fprintf(stderr, "%s", (const char *)warn.data);
	eo.warnings = NULL;
	free_groups(eo.groups, eo.pgp, eo.ngroups);
	sotto_config_free(cfg);
	sotto_tree_node_free(meta, false);
	sotto_tree_doc_free(doc);
	sotto_buf_release(&in);
	sotto_buf_release(&out);
	sotto_buf_release(&warn);
	return rc;
}

static sotto_err
extract(struct sotto_buf *out, const struct sops_opts *o,
    const struct sotto_store *os, struct sotto_doc *doc,
    const struct sotto_emit_opts *eo, struct sotto_error *e)
{
	struct sotto_path p;
	struct sotto_node *n;
	struct sotto_emit_opts eopt = *eo;
	sotto_err err;

	if (doc->n == 0)
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "empty document");
	if ((err = sotto_path_parse(&p, o->extract, e)) != SOTTO_OK)
		return err;
	err = sotto_path_lookup(&n, doc->branches[0], &p, e);
	if (err == SOTTO_OK) {
		err = os->emit_value(out, n, &eopt, e);
	} else {
		/* sops: "error truncating tree", ErrorGeneric */
		if (err == SOTTO_E_NOTFOUND)
			e->code = err = SOTTO_E_PATH_MISSING;
		sotto_error_prefix(e, "'%s': cannot extract '%s'", doc->name,
		    o->extract);
	}
	sotto_path_free(&p);
	return err;
}

/*
 * The identities for one file: those loaded once for every file (ids)
 * and those the key commands give for this file's recipients (*own).
 * *all points into both; sources gets both reports.
 */
static sotto_err
file_identities(struct sotto_age_identity ***all, size_t *nall,
    struct sotto_age_idlist *own, struct sotto_buf *sources,
    const struct sotto_age_idlist *ids, const struct sotto_buf *common,
    const struct sotto_doc *doc, struct sotto_error *e)
{
	sotto_err err;

	*all = NULL;
	*nall = 0;
	if (common->len > 0 && sotto_buf_add(sources, common->data,
	    common->len) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if ((err = cli_load_identities(own, sources, doc->meta[0],
	    SOTTO_KEYS_CMDS_ONLY, e)) != SOTTO_OK)
		return err;
	if (ids->n + own->n == 0)
		return SOTTO_OK;
	if ((*all = calloc(ids->n + own->n, sizeof(**all))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if (ids->n > 0)
		memcpy(*all, ids->v, ids->n * sizeof(**all));
	if (own->n > 0)
		memcpy(*all + ids->n, own->v, own->n * sizeof(**all));
	*nall = ids->n + own->n;
	return SOTTO_OK;
}

static int
decrypt_one(const struct sops_opts *o, const char *path,
    const struct sotto_age_idlist *ids, const struct sotto_buf *common)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf in = SOTTO_BUF_INIT, out = SOTTO_BUF_SECRET_INIT;
	struct sotto_buf warn = SOTTO_BUF_INIT, sources = SOTTO_BUF_INIT;
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_sops_decrypt_opts dop;
	struct sotto_age_idlist own = { NULL, 0 };
	struct sotto_age_identity **all = NULL;
	const struct sotto_store *is, *os;
	struct sotto_doc *doc = NULL;
	struct sotto_emit_opts eopt = { o->indent };
	const char *name = o->filename_override ? o->filename_override : path;
	size_t nall = 0;
	int rc;

	if (load_doc(&doc, &is, &os, &in, o, path, strcmp(name, "-") ? name :
	    "stdin.bin", &lim, &e) != SOTTO_OK) {
		rc = fail(o, &e);
		goto out;
	}
	/* (a file without a MAC is decrypted with --ignore-mac) */
	if (doc->n > 0 && doc->meta != NULL && doc->meta[0] != NULL) {
		if (file_identities(&all, &nall, &own, &sources, ids, common,
		    doc, &e) != SOTTO_OK ||
		    (nall == 0 && !sotto_sops_meta_has_pgp(doc->meta[0]) &&
		    cli_no_identity(strcmp(path, "-") ? path : "stdin",
		    &sources, &e) != SOTTO_OK)) {
			rc = fail(o, &e);
			goto out;
		}
	}
	memset(&dop, 0, sizeof(dop));
	dop.ids = all;
	dop.nids = nall;
	dop.ignore_mac = o->ignore_mac;
	dop.warnings = &warn;
	dop.gpg = true;		/* pgp: the user's GnuPG, as sops */
	if (cli_decryption_pgp_first(&dop.pgp_first, &e) != SOTTO_OK) {
		rc = fail(o, &e);
		goto out;
	}
	/* a spliced plaintext goes to stdout as it is made, in chunks */
	if (!o->extract && os == is && !o->in_place &&
	    (o->output == NULL || strcmp(o->output, "-") == 0))
		out.sink = STDOUT_FILENO;
	if (((os != is || o->extract) &&
	    emit_indent(&eopt.indent, o, os, &e) != SOTTO_OK) ||
	    sotto_sops_decrypt(doc, &dop, &e) != SOTTO_OK ||
	    (o->extract ? extract(&out, o, os, doc, &eopt, &e) : os == is ?
	    os->emit_splice(&out, doc, NULL, &e) :
	    os->emit(&out, doc, NULL, &eopt, &e)) != SOTTO_OK ||
	    write_result(o, path, &out, true, &e) != SOTTO_OK) {
		if (e.code == SOTTO_E_NO_KEY)
			cli_note_sources(&sources);
		rc = fail(o, &e);
		goto out;
	}
	rc = 0;
out:
	if (warn.len > 0)
		fprintf(stderr, "%s", (const char *)warn.data);
	free(all);
	sotto_age_idlist_free(&own);
	sotto_buf_release(&sources);
	sotto_tree_doc_free(doc);
	sotto_buf_release(&in);
	sotto_buf_release(&out);
	sotto_buf_release(&warn);
	return rc;
}

static int
run(struct sops_opts *o)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_idlist ids = { NULL, 0 };
	struct sotto_buf sources = SOTTO_BUF_INIT;
	static char *dash[] = { "-" };
	int i, rc = 0, r;

	if (o->nfiles == 0) {
		o->files = dash;
		o->nfiles = 1;
	}
	for (i = 0; i < o->nfiles; i++) {
		if (strcmp(o->files[i], "-") == 0 && o->in_place) {
			sotto_error_set(&e, SOTTO_E_CONFLICT, "cannot use "
			    "--in-place with standard input");
			return fail(o, &e);
		}
		if (strcmp(o->files[i], "-") == 0 && o->encrypt &&
		    o->filename_override == NULL && o->input_type == NULL) {
			sotto_error_set(&e, SOTTO_E_CONFLICT, "reading from "
			    "standard input requires --filename-override (or "
			    "--input-type)");
			return fail(o, &e);
		}
	}
	if (o->in_place && o->output != NULL) {
		sotto_error_set(&e, SOTTO_E_CONFLICT, "cannot use --in-place "
		    "and --output together");
		return fail(o, &e);
	}
	if (o->output != NULL && o->nfiles > 1) {
		sotto_error_set(&e, SOTTO_E_CONFLICT, "--output takes a single "
		    "input file");
		return fail(o, &e);
	}
	/* identities every file may use, once (the key commands run per
	 * file, for its recipients) */
	if (!o->encrypt && cli_load_identities(&ids, &sources, NULL,
	    SOTTO_KEYS_NO_CMDS, &e) != SOTTO_OK) {
		rc = fail(o, &e);
		goto out;
	}
	for (i = 0; i < o->nfiles; i++) {
		if (strcmp(o->files[i], "-") != 0 &&
		    !sotto_io_exists(o->files[i])) {
			sotto_error_set(&e, SOTTO_E_NOTFOUND, "'%s': no such "
			    "file", o->files[i]);
			r = fail(o, &e);
		} else {
			r = o->encrypt ? encrypt_one(o, o->files[i]) :
			    decrypt_one(o, o->files[i], &ids, &sources);
		}
		if (r != 0 && rc == 0)
			rc = r;
	}
out:
	sotto_age_idlist_free(&ids);
	sotto_buf_release(&sources);
	return rc;
}

static const struct option sops_longopts[] = {
	{ "in-place", no_argument, NULL, 'i' },
	{ "output", required_argument, NULL, O_OUTPUT },
	{ "age", required_argument, NULL, 'a' },
	{ "pgp", required_argument, NULL, 'p' },
	{ "input-type", required_argument, NULL, O_INPUT_TYPE },
	{ "output-type", required_argument, NULL, O_OUTPUT_TYPE },
	{ "filename-override", required_argument, NULL, O_FILENAME_OVERRIDE },
	{ "extract", required_argument, NULL, O_EXTRACT },
	{ "ignore-mac", no_argument, NULL, O_IGNORE_MAC },
	{ "encrypted-regex", required_argument, NULL, O_ENC_REGEX },
	{ "unencrypted-regex", required_argument, NULL, O_UNENC_REGEX },
	{ "encrypted-suffix", required_argument, NULL, O_ENC_SUFFIX },
	{ "unencrypted-suffix", required_argument, NULL, O_UNENC_SUFFIX },
	{ "encrypted-comment-regex", required_argument, NULL, O_ENC_CREGEX },
	{ "unencrypted-comment-regex", required_argument, NULL,
	    O_UNENC_CREGEX },
	{ "mac-only-encrypted", no_argument, NULL, O_MAC_ONLY },
	{ "shamir-secret-sharing-threshold", required_argument, NULL,
	    O_SHAMIR },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "indent", required_argument, NULL, O_INDENT },
	{ "verbose", no_argument, NULL, O_VERBOSE },
	{ "decryption-order", required_argument, NULL, O_DECRYPTION_ORDER },
	{ "disable-version-check", no_argument, NULL, O_IGNORED },
	{ "enable-local-keyservice", no_argument, NULL, O_IGNORED },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
parse_int(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < -1 || v > 255)
		return -1;
	*out = (int)v;
	return 0;
}

/*
 * Parses options for encrypt/decrypt.  argv[0] is the subcommand name.
 * Returns -1 to go on, else an exit status.
 */
static int
parse_opts(struct sops_opts *o, int argc, char **argv)
{
	struct sotto_error e = { SOTTO_OK, "" };
	int c;

	/* flags after the file name are parsed (as sops does), an unknown
	 * one is refused: never taken for one more file */
	cli_set_decryption_order(NULL);
	cli_reorder_args(argc, argv, "ia:p:h", sops_longopts, true);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+ia:p:h", sops_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'i': o->in_place = true; break;
		case O_OUTPUT: o->output = optarg; break;
		case 'a': o->age = optarg; break;
		case 'p': o->pgp = optarg; break;
		case O_INPUT_TYPE: o->input_type = optarg; break;
		case O_OUTPUT_TYPE: o->output_type = optarg; break;
		case O_FILENAME_OVERRIDE: o->filename_override = optarg; break;
		case O_EXTRACT: o->extract = optarg; break;
		case O_IGNORE_MAC: o->ignore_mac = true; break;
		case O_ENC_REGEX: o->rules.encrypted_regex = optarg; break;
		case O_UNENC_REGEX: o->rules.unencrypted_regex = optarg; break;
		case O_ENC_SUFFIX: o->rules.encrypted_suffix = optarg; break;
		case O_UNENC_SUFFIX: o->rules.unencrypted_suffix = optarg; break;
		case O_ENC_CREGEX:
			o->rules.encrypted_comment_regex = optarg;
			break;
		case O_UNENC_CREGEX:
			o->rules.unencrypted_comment_regex = optarg;
			break;
		case O_MAC_ONLY: o->rules.mac_only_encrypted = true; break;
		case O_SHAMIR:
			if (parse_int(optarg, &o->shamir) != 0 ||
			    o->shamir < 2) {
				sotto_error_set(&e, SOTTO_E_USAGE, "invalid "
				    "Shamir threshold '%s'", optarg);
				return fail(o, &e);
			}
			break;
		case O_CONFIG: o->config = optarg; break;
		case O_INDENT:
			if (parse_int(optarg, &o->indent) != 0) {
				sotto_error_set(&e, SOTTO_E_USAGE, "invalid "
				    "indent '%s'", optarg);
				return fail(o, &e);
			}
			break;
		case O_VERBOSE:
		case O_IGNORED:
			break;
		case O_DECRYPTION_ORDER:
			cli_set_decryption_order(optarg);
			break;
		case 'h':
			cli_print_template(stdout, o->encrypt ? encrypt_usage :
			    decrypt_usage, o->prog, o->prog);
			return 0;
		default:
			fprintf(stderr, "%s: hint: run '%s %s --help' for "
			    "usage\n", o->prog, o->prog,
			    o->encrypt ? "encrypt" : "decrypt");
			return cli_exit_status(SOTTO_E_USAGE, o->mode);
		}
	}
	o->files = argv + optind;
	o->nfiles = argc - optind;
	return -1;
}

static int
sops_cmd(int argc, char **argv, enum cli_mode mode, bool encrypt)
{
	struct sops_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.prog = mode == CLI_SOPS ? "sops" : "sotto";
	o.mode = mode;
	o.encrypt = encrypt;
	o.indent = -1;
	if ((rc = parse_opts(&o, argc, argv)) >= 0)
		return rc;
	return run(&o);
}

int
cmd_encrypt(int argc, char **argv, enum cli_mode mode)
{
	return sops_cmd(argc, argv, mode, true);
}

int
cmd_decrypt(int argc, char **argv, enum cli_mode mode)
{
	return sops_cmd(argc, argv, mode, false);
}
