/* SPDX-License-Identifier: ISC */
/*
 * Where the sops layer gets age keys: identities from the environment and
 * the default key file, recipients from comma lists (spec sops-format.md
 * §8.2).  Parsing of the key text itself belongs to crypto/age.c.
 *
 * Like sops, every identity source that exists is loaded (not the first
 * one found), and a source that fails does not stop the others: its error
 * goes into the `sources` report, and loading fails only when no identity
 * at all could be loaded (or when opts.strict asks for it).
 */
#ifndef SOTTO_KEYS_H
#define SOTTO_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "sotto/age.h"
#include "sotto/buf.h"
#include "sotto/error.h"
#include "sotto/tree.h"

/* Largest identity text read from a file, descriptor or command. */
#define SOTTO_KEYS_MAX_BYTES ((size_t)16 << 20)

/* Which identity sources sotto_keys_load_identities() reads. */
enum sotto_keys_which {
	SOTTO_KEYS_ALL = 0,		/* every source */
	SOTTO_KEYS_NO_CMDS,		/* all but the two key commands */
	SOTTO_KEYS_CMDS_ONLY,		/* only SOPS_AGE_KEY_CMD and
					   SOPS_AGE_SSH_PRIVATE_KEY_CMD */
};

/* One age entry of a sops file's metadata (strings borrowed). */
struct sotto_keys_target {
	const char *recipient;		/* as written in the file */
	size_t group;			/* key group (0: the flat form) */
};

struct sotto_keys_opts {
	sotto_age_pass_cb cb;		/* passphrase prompt or NULL */
	void *cbctx;			/* its context */
	bool include_ssh_defaults;	/* also ~/.ssh/id_ed25519, id_rsa */
	bool strict;			/* any failing source is an error */
	const char *recipient;		/* SOPS_AGE_RECIPIENT for the key
					   commands, or NULL */
	bool report_only;		/* a failing source is only reported
					   in sources, even when nothing
					   loads (as sops: decryption then
					   fails for want of a key) */
	enum sotto_keys_which which;	/* sources to read */
	const struct sotto_keys_target *targets; /* the file's recipients,
					   for the key commands, or NULL */
	size_t ntargets;
};

/*
 * Appends to out the identities of every source that is set, in this
 * order: SOPS_AGE_KEY (inline; several whitespace-separated keys per line
 * allowed), SOPS_AGE_KEY_FD (read to EOF: consumed), SOPS_AGE_KEY_FILE,
 * SOPS_AGE_SSH_PRIVATE_KEY_FILE, then (if o->include_ssh_defaults)
 * ~/.ssh/id_ed25519 and ~/.ssh/id_rsa when they exist and parse without
 * a passphrase, the default $XDG_CONFIG_HOME/sops/age/keys.txt or
 * ~/.config/sops/age/keys.txt when it exists, and last the key commands
 * SOPS_AGE_KEY_CMD and SOPS_AGE_SSH_PRIVATE_KEY_CMD (run without a shell,
 * stdout is an identity file).  o may be NULL (no prompt, no SSH
 * defaults, every source).
 *
 * The key commands run as sops runs them: with targets, once per
 * recipient of the file in order, with SOPS_AGE_RECIPIENT set to it,
 * until a key group has an identity whose recipient is one of its own
 * (a command that ignores SOPS_AGE_RECIPIENT so runs once per group);
 * without, once, with o->recipient if set.
 *
 * sources (may be NULL) gets one "LABEL: STATUS" line per place tried,
 * set or not, e.g. "SOPS_AGE_KEY: not set", "SOPS_AGE_KEY_FILE=/x: 2
 * keys", "SOPS_AGE_KEY_FILE=/x: no such file", "/h/.ssh/id_rsa: not
 * found", "command 'pass' from SOPS_AGE_KEY_CMD failed: exit status 1"
 * (SOPS_AGE_KEY_FD only when set); never key material.  A failed source
 * is an error only with o->strict, or when nothing was loaded at all and
 * not o->report_only: then the first failure's code and message are
 * returned, the message naming the source (a missing SOPS_AGE_KEY_FILE
 * gives SOTTO_E_NOTFOUND naming the variable and the path).  Nothing set
 * and no default file: SOTTO_OK with no identities.  Key material read
 * lives in secret buffers and is wiped.
 */
sotto_err sotto_keys_load_identities(struct sotto_age_idlist *out,
    const struct sotto_keys_opts *o, struct sotto_buf *sources,
    struct sotto_error *e);

/*
 * The age entries of a file's metadata (the flat form or every key
 * group), in order, for o->targets.  Strings are borrowed from meta.
 * Free *out with free().  Fails only with SOTTO_E_NOMEM.
 */
sotto_err sotto_keys_targets(struct sotto_keys_target **out, size_t *n,
    const struct sotto_node *meta);

/*
 * True when a and b name the same recipient: equal strings, or SSH
 * public keys with the same type and base64 blob (comments, which sops
 * keeps in a file's metadata, are labels).
 */
bool sotto_keys_recipient_equal(const char *a, const char *b);

/*
 * Parses "age1a, age1b,ssh-ed25519 AAAA..." into out (appending): split on
 * ',', each entry trimmed, empty entries skipped.  Errors name the entry's
 * position; the age parser's message quotes at most a prefix of it and
 * never a secret key.
 */
sotto_err sotto_keys_parse_recipients(struct sotto_age_reclist *out,
    const char *comma_list, struct sotto_error *e);

/*
 * Splits a command line shell-like: whitespace separates words, '...'
 * quotes literally, "..." quotes with \" and \\ escapes, a backslash
 * outside quotes escapes the next character.  No expansion of any kind.
 * *argv_out is a new NULL-terminated array (free with
 * sotto_keys_argv_free()).  Errors: SOTTO_E_USAGE for an empty command or
 * an unterminated quote.
 */
sotto_err sotto_keys_split_command(char ***argv_out, const char *cmd,
    struct sotto_error *e);
void sotto_keys_argv_free(char **argv);

/*
 * Runs cmd (split as above, found on PATH with posix_spawnp, stdin from
 * /dev/null, stderr inherited) and appends its stdout to out (use a
 * secret buffer for keys), up to cap bytes (the command is killed past
 * that: SOTTO_E_LIMIT).  recipient, if not NULL, is put in the child's
 * environment as SOPS_AGE_RECIPIENT.  A non-zero exit is SOTTO_E_IO; the
 * message names only the command's first word, since arguments may carry
 * secrets.  what names the setting for messages ("SOPS_AGE_KEY_CMD").
 */
sotto_err sotto_keys_run_command(struct sotto_buf *out, const char *cmd,
    const char *what, const char *recipient, size_t cap,
    struct sotto_error *e);

#endif
