/* SPDX-License-Identifier: ISC */
/*
 * `sotto guard`: the pre-commit / pre-push check that refuses plaintext
 * secrets.  Parses options, loads identities lazily for rule
 * decrypted-copy, runs the library (src/git/) and prints the report as
 * text or JSON.  Exit 0 clean, 1 findings, 2 usage or internal error.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/guard.h"
#include "sotto/io.h"
#include "sotto/keys.h"

static const char guard_usage[] =
    "usage: sotto guard [--staged | --push | --range A..B | --all |\n"
    "                    --files FILE...] [--format text|json] [-C DIR]\n"
    "\n"
    "Refuses plaintext secrets in what git is about to record: by default\n"
    "the staged blobs (the index, GIT_INDEX_FILE honoured), never the\n"
    "working tree.\n"
    "\n"
    "modes:\n"
    "      --staged          files staged for the next commit (default)\n"
    "      --push            commits being pushed: reads the pre-push lines\n"
    "                        from standard input\n"
    "      --range A..B      every commit in A..B (or one revision's history)\n"
    "      --all             every file of HEAD\n"
    "      --files FILE...   these files (staged content when staged; the\n"
    "                        pre-commit framework passes names this way)\n"
    "options:\n"
    "      --format F        text (default) or json\n"
    "  -C DIR                run in DIR\n"
    "      --no-decrypt      skip rule decrypted-copy (needs a private key)\n"
    "  -h, --help            show this help\n"
    "\n"
    "rules: sops-plaintext, k8s-secret, private-key, decrypted-copy.\n"
    "Exceptions: .sottoignore (gitignore syntax) and an inline\n"
    "'sotto:allow RULE-ID' comment; both are shown in the report.\n"
    "Exit status: 0 clean, 1 findings, 2 usage or internal error.\n"
    "See sotto-guard(1).\n";

enum { O_PUSH = 256, O_RANGE, O_ALL, O_FILES, O_FORMAT, O_STAGED,
    O_NODECRYPT, O_HOOK };

static sotto_err
load_ids(void *arg, struct sotto_age_idlist *out, struct sotto_error *e)
{
	struct sotto_keys_opts ko;

	(void)arg;
	memset(&ko, 0, sizeof(ko));
	ko.include_ssh_defaults = true;	/* no prompt: hooks have no tty */
	return sotto_keys_load_identities(out, &ko, NULL, e);
}

static void
json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static const char *
fix_for(const char *rule)
{
	if (strcmp(rule, SOTTO_GUARD_RULE_KEY) == 0)
		return "git rm --cached '%s' (and rotate the key if it was "
		    "ever pushed)";
	if (strcmp(rule, SOTTO_GUARD_RULE_COPY) == 0)
		return "git rm --cached '%s' (the encrypted file is already "
		    "committed)";
	return "sotto encrypt -i '%s' && git add '%s'";
}

/*
 * Text from the repository (paths, .sops.yaml patterns, ignore lines) for
 * a terminal: control bytes become \xNN so a crafted name cannot drive
 * the terminal.  keep_nl keeps newlines (the notes are lines).
 */
static const char *
term_safe(struct sotto_buf *b, const char *s, bool keep_nl)
{
	const unsigned char *p;

	sotto_buf_truncate(b, 0);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 && !(keep_nl && *p == '\n') && *p != '\t') ||
		    *p == 0x7f)
			(void)sotto_buf_addf(b, "\\x%02x", *p);
		else
			(void)sotto_buf_add(b, p, 1);
	if (sotto_buf_add(b, "", 1) != SOTTO_OK)
		return "(out of memory)";
	return (const char *)b->data;
}

static void
print_text(FILE *f, const struct sotto_guard_report *r,
    enum sotto_guard_mode mode)
{
	const struct sotto_guard_finding *x;
	size_t i, active = sotto_guard_report_active(r);
	struct sotto_buf a = SOTTO_BUF_INIT, b = SOTTO_BUF_INIT;
	const char *path;

	for (i = 0; i < r->n; i++) {
		x = &r->v[i];
		if (x->rev != NULL)
			fprintf(f, "%s:", term_safe(&a, x->rev, false));
		path = term_safe(&b, x->path, false);
		fprintf(f, "%s:%zu: %s ", path, x->line, x->rule);
		if (x->allowed_by != NULL) {
			fprintf(f, "allowed by %s: ", term_safe(&a,
			    x->allowed_by, false));
			fprintf(f, "%s\n", term_safe(&a, x->msg, false));
			continue;
		}
		fprintf(f, "%s\n    fix: ", term_safe(&a, x->msg, false));
		if (x->fix != NULL)
			fputs(term_safe(&a, x->fix, true), f);
		else
			fprintf(f, fix_for(x->rule), path, path);
		fputc('\n', f);
	}
	sotto_buf_release(&b);
	if (r->notes.len > 0)
		fprintf(f, "%s", term_safe(&a, (const char *)r->notes.data,
		    true));
	sotto_buf_release(&a);
	if (r->copy_skipped)
		fprintf(f, "note: rule %s skipped: no age identity to decrypt "
		    "with (set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY)\n",
		    SOTTO_GUARD_RULE_COPY);
	if (active == 0 && r->suppressed == 0 && !r->copy_skipped)
		return;
	fprintf(f, "sotto guard: %zu finding%s", active, active == 1 ? "" :
	    "s");
	if (r->suppressed > 0)
		fprintf(f, ", %zu allowed (review them)", r->suppressed);
	fprintf(f, " in %zu file%s\n", r->files, r->files == 1 ? "" : "s");
	if (active > 0 && mode == SOTTO_GUARD_STAGED)
		fprintf(f, "sotto guard: commit refused; list reviewed "
		    "exceptions in .sottoignore or mark a line with "
		    "'sotto:allow RULE-ID'\n");
	else if (active > 0 && mode == SOTTO_GUARD_PUSH)
		fprintf(f, "sotto guard: push refused\n");
}

static void
print_json(FILE *f, const struct sotto_guard_report *r)
{
	const struct sotto_guard_finding *x;
	size_t i;

	fprintf(f, "{\"files\":%zu,\"findings\":[", r->files);
	for (i = 0; i < r->n; i++) {
		x = &r->v[i];
		fprintf(f, "%s{\"rule\":", i ? "," : "");
		json_str(f, x->rule);
		fprintf(f, ",\"path\":");
		json_str(f, x->path);
		fprintf(f, ",\"line\":%zu,\"commit\":", x->line);
		if (x->rev)
			json_str(f, x->rev);
		else
			fprintf(f, "null");
		fprintf(f, ",\"message\":");
		json_str(f, x->msg);
		fprintf(f, ",\"allowed_by\":");
		if (x->allowed_by)
			json_str(f, x->allowed_by);
		else
			fprintf(f, "null");
		fprintf(f, "}");
	}
	fprintf(f, "],\"active\":%zu,\"allowed\":%zu,"
	    "\"decrypted_copy_skipped\":%s,\"notes\":",
	    sotto_guard_report_active(r), r->suppressed,
	    r->copy_skipped ? "true" : "false");
	json_str(f, r->notes.len ? (const char *)r->notes.data : "");
	fprintf(f, "}\n");
}

int
cmd_guard(int argc, char **argv, enum cli_mode mode)
{
	static const struct option longopts[] = {
		{ "staged", no_argument, NULL, O_STAGED },
		{ "push", no_argument, NULL, O_PUSH },
		{ "range", required_argument, NULL, O_RANGE },
		{ "all", no_argument, NULL, O_ALL },
		{ "files", no_argument, NULL, O_FILES },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "no-decrypt", no_argument, NULL, O_NODECRYPT },
		{ "hook", required_argument, NULL, O_HOOK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sotto_guard_opts o;
	struct sotto_guard_report r;
	struct sotto_guard_ids ids = { load_ids, NULL };
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf in = SOTTO_BUF_INIT;
	bool json = false, nodecrypt = false, hook = false;
	int c, nmodes = 0, rc;

	(void)mode;
	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	o.mode = SOTTO_GUARD_STAGED;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+hC:", longopts, NULL)) != -1) {
		switch (c) {
		case O_STAGED: o.mode = SOTTO_GUARD_STAGED; nmodes++; break;
		case O_PUSH: o.mode = SOTTO_GUARD_PUSH; nmodes++; break;
		case O_RANGE:
			o.mode = SOTTO_GUARD_RANGE;
			o.range = optarg;
			nmodes++;
			break;
		case O_ALL: o.mode = SOTTO_GUARD_ALL; nmodes++; break;
		case O_FILES: o.mode = SOTTO_GUARD_FILES; nmodes++; break;
		case O_FORMAT:
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") != 0) {
				cli_errorf("sotto guard", "unknown format "
				    "'%s' (use text or json)", optarg);
				return 2;
			}
			break;
		case O_NODECRYPT: nodecrypt = true; break;
		case O_HOOK: hook = true; break;	/* report on stderr */
		case 'C': o.repo = optarg; break;
		case 'h': fputs(guard_usage, stdout); return 0;
		default: fputs(guard_usage, stderr); return 2;
		}
	}
	if (nmodes > 1) {
		cli_errorf("sotto guard", "use one of --staged, --push, "
		    "--range, --all and --files");
		return 2;
	}
	if (o.mode == SOTTO_GUARD_FILES) {
		o.files = argv + optind;
		o.nfiles = (size_t)(argc - optind);
	} else if (optind < argc) {
		cli_errorf("sotto guard", "unexpected argument '%s' (file "
		    "names need --files)", argv[optind]);
		return 2;
	}
	if (o.mode == SOTTO_GUARD_PUSH) {
		if (sotto_io_read_file(&in, "-", (size_t)16 << 20, &e)) {
			cli_error("sotto guard", &e);
			return 2;
		}
		o.push_input = in.data ? (const char *)in.data : "";
	}
	o.ids = nodecrypt ? NULL : &ids;
	if (sotto_guard_run(&r, &o, &e) != SOTTO_OK) {
		cli_error("sotto guard", &e);
		rc = 2;
		goto out;
	}
	if (json)
		print_json(stdout, &r);
	else
		print_text(hook ? stderr : stdout, &r, o.mode);
	rc = sotto_guard_report_active(&r) > 0 ? 1 : 0;
out:
	fflush(stdout);
	sotto_guard_report_release(&r);
	sotto_buf_release(&in);
	return rc;
}
