/* SPDX-License-Identifier: ISC */
/*
 * `sotto git-setup`: configures the "sotto" git diff driver, whose
 * textconv (`sotto git-setup textconv FILE`) prints a sops file decrypted
 * when an identity is at hand and the file as it is otherwise, so
 * `git diff` shows the values that changed.  cachetextconv is set to
 * false on purpose: a cached textconv is stored in refs/notes/textconv,
 * which would put plaintext into the repository.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include "sotto/guard.h"
#include "sotto/io.h"
#include "sotto/keys.h"
#include "sotto/sops.h"
#include "sotto/store.h"

static const char setup_usage[] =
    "usage: sotto git-setup [-C DIR] [--attributes PATTERN]...\n"
    "       sotto git-setup textconv FILE\n"
    "\n"
    "Configures the 'sotto' diff driver in the repository's .git/config:\n"
    "    diff.sotto.textconv = <this sotto> git-setup textconv\n"
    "    diff.sotto.cachetextconv = false\n"
    "and, with --attributes, adds 'PATTERN diff=sotto' to .gitattributes.\n"
    "Mark your encrypted files in .gitattributes, e.g.:\n"
    "    secrets/**/*.yaml diff=sotto\n"
    "    *.enc.json        diff=sotto\n"
    "Then 'git diff' shows decrypted diffs when a key is present, and the\n"
    "encrypted text otherwise.  See sotto-guard(1).\n";

/* Prints FILE decrypted if possible, else as it is.  Never fails on a key. */
static int
textconv(const char *path)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_buf in = SOTTO_BUF_INIT, out = SOTTO_BUF_SECRET_INIT;
	struct sotto_age_idlist ids = { NULL, 0 };
	struct sotto_keys_opts ko;
	struct sotto_sops_decrypt_opts o;
	const struct sotto_store *s = sotto_store_for_path(path);
	struct sotto_doc *doc = NULL;
	int rc = 0;

	if (sotto_io_read_file(&in, path, lim.max_bytes, &e) != SOTTO_OK) {
		cli_error("sotto git-setup textconv", &e);
		return 2;
	}
	memset(&ko, 0, sizeof(ko));
	ko.include_ssh_defaults = true;
	memset(&o, 0, sizeof(o));
	if (s->parse(&doc, in.data, in.len, path, &lim, &e) == SOTTO_OK &&
	    sotto_sops_is_encrypted(doc) &&
	    sotto_keys_load_identities(&ids, &ko, NULL, &e) == SOTTO_OK &&
	    (ids.n > 0 || sotto_sops_meta_has_pgp(doc->meta[0]))) {
		doc->secret = true;
		o.ids = ids.v;
		o.nids = ids.n;
		o.gpg = true;	/* pgp: the user's GnuPG, as sops -d */
		if (sotto_sops_decrypt(doc, &o, &e) == SOTTO_OK &&
		    s->emit_splice(&out, doc, NULL, &e) == SOTTO_OK) {
			if (sotto_io_write_all(1, out.data, out.len))
				rc = 2;
			goto done;
		}
	}
	if (sotto_io_write_all(1, in.data, in.len))
		rc = 2;
done:
	sotto_tree_doc_free(doc);
	sotto_age_idlist_free(&ids);
	sotto_buf_release(&in);
	sotto_buf_release(&out);
	return rc;
}

static int
add_attribute(const char *start, const char *pattern)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf path = SOTTO_BUF_INIT, cur = SOTTO_BUF_INIT;
	struct sotto_buf line = SOTTO_BUF_INIT;
	char *root = NULL;
	int rc = 2;

	size_t n = strlen(pattern);

	/* "secrets/(glob) diff=sotto" is the pattern a user copies from a
	 * .gitattributes line: take it without doubling the attribute */
	while (n > 0 && (pattern[n - 1] == ' ' || pattern[n - 1] == '\t'))
		n--;
	if (n >= 10 && memcmp(pattern + n - 10, "diff=sotto", 10) == 0) {
		n -= 10;
		while (n > 0 && (pattern[n - 1] == ' ' || pattern[n - 1] ==
		    '\t'))
			n--;
	}
	if (n == 0 || memchr(pattern, ' ', n) || memchr(pattern, '\t', n) ||
	    memchr(pattern, '\n', n)) {
		cli_errorf("sotto git-setup", "--attributes '%s': want one "
		    "gitattributes pattern, such as 'secrets/**'", pattern);
		return 2;
	}
	if (sotto_guard_repo_root(&root, start, &e) != SOTTO_OK) {
		cli_error("sotto git-setup", &e);
		return 2;
	}
	if (sotto_buf_addf(&path, "%s/.gitattributes", root) ||
	    sotto_buf_addf(&line, "%.*s diff=sotto\n", (int)n, pattern))
		goto out;
	if (sotto_io_exists((const char *)path.data) &&
	    sotto_io_read_file(&cur, (const char *)path.data, (size_t)1 << 24,
	    &e) != SOTTO_OK) {
		cli_error("sotto git-setup", &e);
		goto out;
	}
	if (cur.len > 0 && memmem(cur.data, cur.len, line.data, line.len)) {
		rc = 0;
		goto out;
	}
	if ((cur.len > 0 && cur.data[cur.len - 1] != '\n' &&
	    sotto_buf_addch(&cur, '\n')) || sotto_buf_add(&cur, line.data,
	    line.len))
		goto out;
	if (sotto_io_write_atomic((const char *)path.data, cur.data, cur.len,
	    0644, true, &e) != SOTTO_OK) {
		cli_error("sotto git-setup", &e);
		goto out;
	}
	printf("sotto: added '%.*s diff=sotto' to .gitattributes\n", (int)n,
	    pattern);
	rc = 0;
out:
	free(root);
	sotto_buf_release(&path);
	sotto_buf_release(&cur);
	sotto_buf_release(&line);
	return rc;
}

int
cmd_git_setup(int argc, char **argv, enum cli_mode mode)
{
	static const struct option longopts[] = {
		{ "attributes", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf cmd = SOTTO_BUF_INIT;
	const char *start = NULL, *attrs[32];
	char self[PATH_MAX];
	size_t nattrs = 0, i;
	ssize_t sl;
	int c, rc = 0;

	(void)mode;
	if (argc >= 2 && strcmp(argv[1], "textconv") == 0) {
		if (argc != 3) {
			cli_errorf("sotto git-setup", "usage: sotto git-setup "
			    "textconv FILE");
			return 2;
		}
		return textconv(argv[2]);
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "hC:", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (nattrs < sizeof(attrs) / sizeof(attrs[0]))
				attrs[nattrs++] = optarg;
			break;
		case 'C': start = optarg; break;
		case 'h': fputs(setup_usage, stdout); return 0;
		default: fputs(setup_usage, stderr); return 2;
		}
	}
	sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0) {
		cli_errorf("sotto git-setup", "cannot find this binary's path");
		return 2;
	}
	self[sl] = '\0';
	if (sotto_buf_addf(&cmd, "'%s' git-setup textconv", self) ||
	    sotto_guard_config_set(start, "diff.sotto.textconv",
	    (const char *)cmd.data, &e) ||
	    sotto_guard_config_set(start, "diff.sotto.cachetextconv", "false",
	    &e)) {
		cli_error("sotto git-setup", &e);
		sotto_buf_release(&cmd);
		return 2;
	}
	sotto_buf_release(&cmd);
	printf("sotto: configured the 'sotto' diff driver (textconv, no "
	    "cache)\n");
	for (i = 0; i < nattrs && rc == 0; i++)
		rc = add_attribute(start, attrs[i]);
	if (nattrs == 0)
		printf("sotto: now mark encrypted files in .gitattributes, "
		    "e.g.\n    secrets/**/*.yaml diff=sotto\n");
	return rc;
}
