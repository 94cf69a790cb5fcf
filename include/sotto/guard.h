/* SPDX-License-Identifier: ISC */
/*
 * The git guard: refuses plaintext secrets in what is about to be
 * committed or pushed.  Four rules, each with a stable id:
 *
 *   sops-plaintext  a path matched by a .sops.yaml creation rule is not a
 *                   well-formed sops file (metadata, ENC values the rule's
 *                   selection asks for, MAC, at least one recipient)
 *   k8s-secret      a Kubernetes Secret with data/stringData that is not
 *                   sops-encrypted, wherever it lives
 *   private-key     private key material: AGE-SECRET-KEY-1, PEM and
 *                   OpenSSH private keys, PGP private key blocks
 *   decrypted-copy  a plaintext file with the same content as an
 *                   encrypted sibling that a creation rule covers (needs
 *                   an identity; skipped, and said so, without one)
 *
 * Escape hatches, both reported so they get reviewed: .sottoignore at the
 * repository root (gitignore syntax) and an inline `sotto:allow RULE-ID`
 * on the finding's line or the line above (anywhere in the file for the
 * file-level rules sops-plaintext, k8s-secret and decrypted-copy).
 *
 * Two layers: a snapshot checker that works on (path, bytes) pairs and
 * knows nothing of git (sotto_guard_ctx_*, used by the unit tests), and
 * sotto_guard_run(), which reads blobs from a repository.  libgit2 is
 * loaded with dlopen() on first use only, so other commands never pay for
 * it.  No value of a secret is ever put in a finding: messages name files,
 * lines and key paths.
 */
#ifndef SOTTO_GUARD_H
#define SOTTO_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sotto/age.h"
#include "sotto/buf.h"
#include "sotto/error.h"

/* Stable rule ids (also what `sotto:allow` names). */
#define SOTTO_GUARD_RULE_SOPS "sops-plaintext"
#define SOTTO_GUARD_RULE_K8S "k8s-secret"
#define SOTTO_GUARD_RULE_KEY "private-key"
#define SOTTO_GUARD_RULE_COPY "decrypted-copy"

/* Blobs larger than this are not scanned (a note says so). */
#define SOTTO_GUARD_MAX_BLOB ((size_t)64 << 20)

struct sotto_guard_finding {
	const char *rule;	/* one of SOTTO_GUARD_RULE_* (static) */
	char *rev;		/* short commit id, or NULL (index, files) */
	char *path;		/* repository-relative path */
	size_t line;		/* 1-based */
	char *msg;		/* what is wrong; never a value */
	char *allowed_by;	/* NULL, or why it is suppressed */
	char *fix;		/* a suggested fix (lines after the first
				   indented by 9 spaces), or NULL: the
				   report prints the rule's usual one */
};

struct sotto_guard_report {
	struct sotto_guard_finding *v;	/* findings, in scan order */
	size_t n, cap;
	size_t files;			/* blobs examined */
	size_t suppressed;		/* findings with allowed_by set */
	bool copy_skipped;		/* rule decrypted-copy had candidates
					   but no identity was available */
	struct sotto_buf notes;		/* one line per note, for the report */
};

/* Frees everything in r (not r itself); r is reusable afterwards. */
void sotto_guard_report_release(struct sotto_guard_report *r);

/* Findings that are not suppressed. */
size_t sotto_guard_report_active(const struct sotto_guard_report *r);

/*
 * A snapshot: the files of one commit or of the index, by path.  The
 * checker asks it for .sops.yaml and .sottoignore files and, for rule
 * decrypted-copy, for siblings of a plaintext file.  get() appends the
 * bytes of path to out and returns SOTTO_OK, or SOTTO_E_NOTFOUND.
 */
struct sotto_guard_snapshot {
	const char *const *paths;	/* every path, sorted (borrowed) */
	size_t npaths;
	sotto_err (*get)(void *arg, const char *path, struct sotto_buf *out,
	    struct sotto_error *e);
	void *arg;
};

struct sotto_guard_ctx;

/*
 * Identities for rule decrypted-copy are asked for lazily, once, the first
 * time a candidate pair shows up; load() may return SOTTO_OK with an empty
 * list (then the rule is skipped and the report says so).
 */
struct sotto_guard_ids {
	sotto_err (*load)(void *arg, struct sotto_age_idlist *out,
	    struct sotto_error *e);
	void *arg;
};

/*
 * Makes a checker for one snapshot.  root is the absolute work-tree
 * directory (used to make the paths .sops.yaml rules see; it need not
 * exist).  snap and ids are borrowed and must outlive the ctx; ids may be
 * NULL (rule decrypted-copy skipped).  Reads .sottoignore and every
 * .sops.yaml of the snapshot.  Errors: SOTTO_E_CONFIG for a .sops.yaml
 * that cannot be parsed, SOTTO_E_NOMEM.
 */
sotto_err sotto_guard_ctx_new(struct sotto_guard_ctx **out, const char *root,
    const struct sotto_guard_snapshot *snap,
    const struct sotto_guard_ids *ids, struct sotto_error *e);
void sotto_guard_ctx_free(struct sotto_guard_ctx *c);

/*
 * Checks one file's bytes, appending findings to r (rev may be NULL).
 * Errors only for out-of-memory; bad input is a finding or nothing.
 */
sotto_err sotto_guard_check(struct sotto_guard_report *r,
    struct sotto_guard_ctx *c, const char *rev, const char *path,
    const uint8_t *p, size_t n, struct sotto_error *e);

/* What sotto_guard_run() reads. */
enum sotto_guard_mode {
	SOTTO_GUARD_STAGED,	/* the index (GIT_INDEX_FILE honoured) */
	SOTTO_GUARD_PUSH,	/* commits of pre-push stdin lines */
	SOTTO_GUARD_RANGE,	/* commits in A..B */
	SOTTO_GUARD_ALL,	/* every file of HEAD (or the index) */
	SOTTO_GUARD_FILES,	/* named files: index entry, else disk */
};

struct sotto_guard_opts {
	enum sotto_guard_mode mode;
	const char *range;		/* RANGE: "A..B" (or one rev: all of
					   its history) */
	const char *push_input;		/* PUSH: the pre-push stdin text */
	char *const *files;		/* FILES: paths relative to the cwd */
	size_t nfiles;
	const char *repo;		/* start directory, NULL = cwd */
	const struct sotto_guard_ids *ids;	/* may be NULL */
};

/*
 * Opens the repository (GIT_DIR honoured, else discovered from repo or
 * the cwd; worktrees and submodules use their own git directory and
 * index) and checks what the mode selects.  Errors: SOTTO_E_GIT_LOAD (no
 * libgit2.so.1.5), SOTTO_E_GIT_REPO (not a repository), SOTTO_E_GIT
 * (a libgit2 failure, message included), SOTTO_E_USAGE (a bad range),
 * and those of sotto_guard_ctx_new().
 */
sotto_err sotto_guard_run(struct sotto_guard_report *r,
    const struct sotto_guard_opts *o, struct sotto_error *e);

/*
 * The hooks directory of the repository at start (NULL = cwd): the
 * core.hooksPath setting (relative to the work tree) or the common git
 * directory's hooks/.  *out is a new string (free()).
 */
sotto_err sotto_guard_hooks_dir(char **out, const char *start,
    struct sotto_error *e);

/*
 * Sets key = value in the repository's own config (.git/config), for
 * `sotto git-setup`.  Errors: as sotto_guard_run() opening the repository.
 */
sotto_err sotto_guard_config_set(const char *start, const char *key,
    const char *value, struct sotto_error *e);

/* The work tree's top directory (a new string), for .gitattributes. */
sotto_err sotto_guard_repo_root(char **out, const char *start,
    struct sotto_error *e);

/* --- .sottoignore (gitignore syntax) ---------------------------------- */

struct sotto_guard_ignore;

/* Parses the text of an ignore file; name is used in reasons. */
sotto_err sotto_guard_ignore_parse(struct sotto_guard_ignore **out,
    const char *name, const uint8_t *p, size_t n, struct sotto_error *e);
/*
 * If path (repository-relative, '/'-separated) is ignored, returns a
 * static-lifetime-of-ig reason (".sottoignore:3 'tests/'"), else NULL.
 */
const char *sotto_guard_ignore_match(const struct sotto_guard_ignore *ig,
    const char *path);
void sotto_guard_ignore_free(struct sotto_guard_ignore *ig);

/* Glob match with gitignore semantics for '*', '?', '[...]' and '**'. */
bool sotto_guard_glob(const char *pat, const char *path);

#endif
