/* SPDX-License-Identifier: ISC */
/*
 * `sotto set FILE PATH VALUE` and `sotto unset FILE PATH`: change one value
 * of an encrypted file in place, as sops does.  VALUE is JSON ('"str"',
 * 1, {"k":true}); missing path components are created.  The file is
 * decrypted into an editing session and re-encrypted with the same data
 * key, so every other value keeps its exact ciphertext and master keys
 * sotto cannot use (pgp, kms, ...) stay as they are.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/io.h"
#include "sotto/treepath.h"

struct set_opts {
	enum cli_mode mode;
	bool unset;			/* unset instead of set */
	bool value_file, value_stdin;	/* where VALUE comes from */
	bool idempotent;		/* no write (and no error) if nothing
					   changes */
	bool ignore_mac;
	const char *input_type;
	const char *output_type;	/* rewrite FILE in this format */
};

static const char set_usage[] =
    "usage: {P} set [options] FILE PATH VALUE\n"
    "\n"
    "Sets the value at PATH (e.g. '[\"db\"][\"hosts\"][0]') of the encrypted\n"
    "FILE to VALUE, a JSON value ('\"text\"', 42, true, {\"k\": [1, 2]}), and\n"
    "writes FILE in place.  Missing path components are created.  Other\n"
    "values keep their exact ciphertext.\n"
    "\n"
    "options:\n"
    "      --value-file        VALUE is the name of a file holding the JSON\n"
    "      --value-stdin       read the JSON value from standard input\n"
    "                          (no VALUE argument)\n"
    "      --idempotent        do not write the file when the value is\n"
    "                          already there\n"
    "      --ignore-mac        do not verify the MAC\n"
    "      --input-type T      yaml, json, dotenv, ini or binary\n"
    "      --output-type T     rewrite FILE in format T (as sops does)\n"
    "  -h, --help              show this help\n";

static const char unset_usage[] =
    "usage: {P} unset [options] FILE PATH\n"
    "\n"
    "Removes the key or list element at PATH (e.g. '[\"db\"][\"password\"]')\n"
    "from the encrypted FILE, in place.\n"
    "\n"
    "options:\n"
    "      --idempotent        no error (and no write) when PATH is absent\n"
    "      --ignore-mac        do not verify the MAC\n"
    "      --input-type T      yaml, json, dotenv, ini or binary\n"
    "      --output-type T     rewrite FILE in format T (as sops does)\n"
    "  -h, --help              show this help\n";

/* Parses a JSON value into a new in-memory node (no source spans). */
static void
unspan(struct sotto_node *n)
{
	size_t i;

	n->src_start = n->src_end = SOTTO_SPAN_NONE;
	n->style = 0;
	n->flags &= SOTTO_NODE_NONCANON;
	n->inline_comment = false;
	n->dirty = true;
	for (i = 0; i < n->n; i++)
		if (n->items[i].val != NULL)
			unspan(n->items[i].val);
}

static sotto_err
parse_json_value(struct sotto_node **out, const uint8_t *p, size_t n,
    struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_buf w = SOTTO_BUF_SECRET_INIT;
	struct sotto_doc *doc = NULL;
	struct sotto_error e2 = { SOTTO_OK, "" };
	struct sotto_node *v;
	sotto_err err;

	*out = NULL;
	if (sotto_buf_addstr(&w, "{\"v\":") || sotto_buf_add(&w, p, n) ||
	    sotto_buf_addstr(&w, "\n}"))
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	err = sotto_store_json.parse(&doc, w.data, w.len, "value", &lim, &e2);
	if (err == SOTTO_OK && doc != NULL)
		doc->secret = true;
	if (err != SOTTO_OK || doc->n != 1 ||
	    (v = sotto_tree_map_get(doc->branches[0], "v")) == NULL ||
	    doc->branches[0]->n != 1) {
		err = sotto_error_set(e, SOTTO_E_USAGE, "the value is not "
		    "valid JSON (strings need quotes: '\"text\"')");
		goto out;
	}
	if ((*out = sotto_tree_clone(v)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	unspan(*out);
out:
	sotto_tree_doc_free(doc);
	sotto_buf_release(&w);
	return err;
}

static bool
node_equal(const struct sotto_node *a, const struct sotto_node *b)
{
	size_t i;

	if (a->kind != b->kind || a->n != b->n)
		return false;
	if (a->kind == SOTTO_NODE_SCALAR || a->kind == SOTTO_NODE_COMMENT)
		return a->type == b->type && a->len == b->len &&
		    (a->len == 0 || memcmp(a->text, b->text, a->len) == 0);
	for (i = 0; i < a->n; i++) {
		const struct sotto_entry *x = &a->items[i], *y = &b->items[i];

		if ((x->key == NULL) != (y->key == NULL) ||
		    (x->key != NULL && (x->keylen != y->keylen ||
		    memcmp(x->key, y->key, x->keylen) != 0)) ||
		    !node_equal(x->val, y->val))
			return false;
	}
	return true;
}

/* The index of the k-th non-comment item of a sequence, or n. */
static size_t
seq_slot(const struct sotto_node *seq, size_t k)
{
	size_t i;

	for (i = 0; i < seq->n; i++) {
		if (seq->items[i].val->kind == SOTTO_NODE_COMMENT)
			continue;
		if (k-- == 0)
			return i;
	}
	return seq->n;
}

static size_t
map_slot(const struct sotto_node *map, const struct sotto_path_elem *el)
{
	size_t i;

	for (i = 0; i < map->n; i++)
		if (map->items[i].key != NULL &&
		    map->items[i].keylen == el->keylen &&
		    memcmp(map->items[i].key, el->key, el->keylen) == 0)
			return i;
	return map->n;
}

/* Puts *val (taken) into *slot, keeping a scalar's span and style. */
static sotto_err
replace(struct sotto_node **slot, struct sotto_node **val, bool *changed,
    struct sotto_error *e)
{
	struct sotto_node *cur = *slot, *v = *val;

	if (cur != NULL && node_equal(cur, v)) {
		*changed = false;
		return SOTTO_OK;
	}
	*changed = true;
	if (cur != NULL && cur->kind == SOTTO_NODE_SCALAR &&
	    v->kind == SOTTO_NODE_SCALAR && cur->src_start != SOTTO_SPAN_NONE) {
		if (sotto_tree_set_text(cur, v->type, v->text, v->len) ||
		    (v->canon && sotto_tree_set_canon(cur, v->canon,
		    strlen(v->canon))))
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		cur->flags = (cur->flags & ~SOTTO_NODE_NONCANON) |
		    (v->flags & SOTTO_NODE_NONCANON);
		return SOTTO_OK;
	}
	sotto_tree_node_free(cur, true);
	*slot = v;
	*val = NULL;
	return SOTTO_OK;
}

static struct sotto_node *
new_container(const struct sotto_path *p, size_t i)
{
	return p->v[i].key != NULL ? sotto_tree_new_map() :
	    sotto_tree_new_seq();
}

/* Sets path element i.. under *slot. */
static sotto_err
set_in(struct sotto_node **slot, const struct sotto_path *p, size_t i,
    struct sotto_node **val, bool *changed, struct sotto_error *e)
{
	const struct sotto_path_elem *el;
	struct sotto_node *cur, *child;
	size_t k;
	sotto_err err;

	if (i == p->n)
		return replace(slot, val, changed, e);
	el = &p->v[i];
	cur = *slot;
	if (cur == NULL || cur->kind != (el->key ? SOTTO_NODE_MAP :
	    SOTTO_NODE_SEQ)) {
		if (i == 0)
			return sotto_error_set(e, SOTTO_E_TREE_PATH,
			    "the document root is a map: the path must start "
			    "with a key");
		if ((child = new_container(p, i)) == NULL)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		sotto_tree_node_free(cur, true);
		*slot = cur = child;
		*changed = true;
	}
	k = el->key ? map_slot(cur, el) : seq_slot(cur, el->index);
	if (k == cur->n) {
		child = i + 1 == p->n ? *val : new_container(p, i + 1);
		if (child == NULL)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		if (i + 1 == p->n)
			*val = NULL;
		err = el->key ? sotto_tree_map_add(cur, el->key, el->keylen,
		    child) : sotto_tree_seq_add(cur, child);
		if (err != SOTTO_OK)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		*changed = true;
		if (i + 1 == p->n)
			return SOTTO_OK;
	}
	return set_in(&cur->items[k].val, p, i + 1, val, changed, e);
}

static sotto_err
unset_in(struct sotto_node *branch, const struct sotto_path *p,
    struct sotto_error *e)
{
	struct sotto_node *cur = branch;
	const struct sotto_path_elem *el;
	size_t i, k;

	for (i = 0; i < p->n; i++) {
		el = &p->v[i];
		if (cur->kind != (el->key ? SOTTO_NODE_MAP : SOTTO_NODE_SEQ))
			k = (size_t)-1;
		else
			k = el->key ? map_slot(cur, el) :
			    seq_slot(cur, el->index);
		if (k == (size_t)-1 || k >= cur->n) {
			if (el->key)
				return sotto_error_set(e, SOTTO_E_NOTFOUND,
				    "component ['%.*s'] not found",
				    (int)(el->keylen > 64 ? 64 : el->keylen),
				    el->key);
			return sotto_error_set(e, SOTTO_E_NOTFOUND,
			    "index %zu out of bounds", el->index);
		}
		if (i + 1 < p->n) {
			cur = cur->items[k].val;
			continue;
		}
		sotto_tree_node_free(cur->items[k].val, true);
		free(cur->items[k].key);
		memmove(&cur->items[k], &cur->items[k + 1],
		    (cur->n - k - 1) * sizeof(cur->items[0]));
		cur->n--;
	}
	return SOTTO_OK;
}

static sotto_err
read_value(struct sotto_node **val, const struct set_opts *o,
    const char *arg, struct sotto_error *e)
{
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	sotto_err err;

	if (o->value_stdin)
		err = sotto_io_read_file(&b, "-", SOTTO_IO_DEFAULT_CAP, e);
	else if (o->value_file)
		err = sotto_io_read_file(&b, arg, SOTTO_IO_DEFAULT_CAP, e);
	else
		err = sotto_buf_addstr(&b, arg) ? sotto_error_set(e,
		    SOTTO_E_NOMEM, "out of memory") : SOTTO_OK;
	if (err == SOTTO_OK)
		err = parse_json_value(val, b.data, b.len, e);
	sotto_buf_release(&b);
	return err;
}

/* Exit status of set/unset errors, as sops. */
static int
set_fail(const struct set_opts *o, struct sotto_error *e)
{
	cli_error(cli_prog(o->mode), e);
	if (e->code == SOTTO_E_USAGE)
		return 7;		/* sops ErrorInvalidSetFormat */
	if (e->code == SOTTO_E_NOTFOUND && o->unset &&
	    strncmp(e->msg, "cannot operate", 14) != 0)
		return 1;		/* sops: key not found, generic */
	return cli_exit_status(e->code, o->mode);
}

static int
run_set(const struct set_opts *o, char **args, int nargs)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_path p = { NULL, 0 };
	struct sotto_node *val = NULL;
	const struct sotto_store *os = NULL;
	struct cli_sfile f;
	bool changed = false;
	int need = o->unset || o->value_stdin ? 2 : 3, rc;

	memset(&f, 0, sizeof(f));
	if (nargs != need) {
		sotto_error_set(&e, SOTTO_E_USAGE, "%s takes %s arguments",
		    o->unset ? "unset" : "set", o->unset ? "FILE PATH" :
		    o->value_stdin ? "FILE PATH (value on standard input)" :
		    "FILE PATH VALUE");
		cli_error(cli_prog(o->mode), &e);
		return o->unset ? 1 : 7;
	}
	if (o->output_type != NULL &&
	    (os = cli_pick_store(o->output_type, args[0], &e)) == NULL)
		return set_fail(o, &e);
	if (sotto_path_parse(&p, args[1], &e) != SOTTO_OK)
		return set_fail(o, &e);
	if (p.n == 0) {
		sotto_error_set(&e, SOTTO_E_TREE_PATH, "empty path '%s'",
		    args[1]);
		rc = set_fail(o, &e);
		goto out;
	}
	if (!o->unset && read_value(&val, o, args[2], &e) != SOTTO_OK) {
		rc = set_fail(o, &e);
		goto out;
	}
	if (cli_sfile_open(&f, args[0], o->input_type, o->ignore_mac, &e)) {
		rc = set_fail(o, &e);
		goto out;
	}
	if (f.doc->n == 0) {
		sotto_error_set(&e, SOTTO_E_NO_DOCUMENT, "'%s': no document",
		    f.path);
		rc = set_fail(o, &e);
		goto out;
	}
	if (o->unset) {
		if (unset_in(f.doc->branches[0], &p, &e) != SOTTO_OK) {
			rc = o->idempotent && e.code == SOTTO_E_NOTFOUND ? 0 :
			    set_fail(o, &e);
			goto out;
		}
		changed = true;
	} else if (set_in(&f.doc->branches[0], &p, 0, &val, &changed, &e)) {
		rc = set_fail(o, &e);
		goto out;
	}
	if (!changed && o->idempotent) {
		rc = 0;
		goto out;
	}
	/* as sops: FILE is rewritten in the output format, in place */
	rc = cli_sfile_save_as(&f, os == f.store ? NULL : os, &e) ==
	    SOTTO_OK ? 0 : set_fail(o, &e);
out:
	sotto_tree_node_free(val, true);
	sotto_path_free(&p);
	cli_sfile_free(&f);
	return rc;
}

static int
set_main(int argc, char **argv, enum cli_mode mode, bool unset)
{
	static const struct option lo[] = {
		{ "value-file", no_argument, NULL, 'f' },
		{ "value-stdin", no_argument, NULL, 's' },
		{ "idempotent", no_argument, NULL, 'I' },
		{ "ignore-mac", no_argument, NULL, 'm' },
		{ "input-type", required_argument, NULL, 't' },
		{ "output-type", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'V' },
		{ "disable-version-check", no_argument, NULL, 'V' },
		{ "config", required_argument, NULL, 'V' },
		{ "indent", required_argument, NULL, 'V' },
		{ "decryption-order", required_argument, NULL,
		    CLI_OPT_DECRYPTION_ORDER },
		{ NULL, 0, NULL, 0 },
	};
	struct set_opts o;
	int c;

	memset(&o, 0, sizeof(o));
	o.mode = mode;
	o.unset = unset;
	/* flags after FILE are parsed, as sops does; PATH and VALUE may
	 * start with '-' (a negative number) */
	cli_set_decryption_order(NULL);
	cli_reorder_args(argc, argv, "h", lo, false);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 'f': o.value_file = !unset; break;
		case 's': o.value_stdin = !unset; break;
		case 'I': o.idempotent = true; break;
		case 'm': o.ignore_mac = true; break;
		case 't': o.input_type = optarg; break;
		case 'o': o.output_type = optarg; break;
		case 'V': break;
		case CLI_OPT_DECRYPTION_ORDER:
			cli_set_decryption_order(optarg);
			break;
		case 'h':
			cli_print_template(stdout, unset ? unset_usage :
			    set_usage, cli_prog(mode), "");
			return 0;
		default:
			return cli_exit_status(SOTTO_E_USAGE, mode);
		}
	}
	if (o.value_file && o.value_stdin) {
		cli_errorf(cli_prog(mode), "--value-file and --value-stdin "
		    "cannot be used together");
		return cli_exit_status(SOTTO_E_CONFLICT, mode);
	}
	return run_set(&o, argv + optind, argc - optind);
}

int
cmd_set(int argc, char **argv, enum cli_mode mode)
{
	return set_main(argc, argv, mode, false);
}

int
cmd_unset(int argc, char **argv, enum cli_mode mode)
{
	return set_main(argc, argv, mode, true);
}
