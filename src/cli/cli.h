/* SPDX-License-Identifier: ISC */
/*
 * The command-line layer: one table of commands (name, usage, function),
 * the exit-status table, and small helpers shared by the cmd_*.c files.
 * Only src/cli/ calls exit().
 */
#ifndef SOTTO_CLI_H
#define SOTTO_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "sotto/age.h"
#include "sotto/buf.h"
#include "sotto/error.h"
#include "sotto/keys.h"
#include "sotto/sops.h"
#include "sotto/store.h"

#include <sys/types.h>

/* How the binary was invoked (argv[0] personality). */
enum cli_mode {
	CLI_SOTTO,	/* sotto <command> */
	CLI_AGE,	/* age */
	CLI_KEYGEN,	/* age-keygen */
	CLI_SOPS,	/* sops drop-in */
};

struct cli_cmd {
	const char *name;	/* subcommand */
	const char *summary;	/* one line for `sotto --help` */
	int (*run)(int argc, char **argv, enum cli_mode mode);
};

extern const struct cli_cmd cli_commands[];

/* Exit statuses (see man/sotto.1 EXIT STATUS). */
int cli_exit_status(sotto_err code, enum cli_mode mode);

/* Prints "PROG: error: MSG" to stderr. */
void cli_error(const char *prog, const struct sotto_error *e);
void cli_errorf(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_warnf(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Reads a passphrase from the controlling terminal (/dev/tty) with echo
 * off.  Fails with SOTTO_E_TTY when there is no terminal.  pass must be a
 * secret buffer.
 */
sotto_err cli_read_passphrase(const char *prompt, struct sotto_buf *pass,
    struct sotto_error *e);
/* sotto_age_pass_cb adapter around cli_read_passphrase. */
sotto_err cli_pass_cb(void *ctx, const char *prompt, struct sotto_buf *pass,
    struct sotto_error *e);

/* Prints tmpl with {P} replaced by p and {K} by k (usage texts). */
void cli_print_template(FILE *f, const char *tmpl, const char *p,
    const char *k);

/* Version line. */
const char *cli_version(void);
/* The version alone, without " (git ...)": what labels and manifests hold. */
const char *cli_version_number(void);
/*
 * The Flux-style commands' failure: a reconcile failure as flux prints it
 * ("✗ message", exit 1), else the error (exit 2 for usage, else 1).
 */
int cli_ops_fail(const struct sotto_error *e);
/*
 * getopt_long for the Flux-style commands: flags and positionals in any
 * order, as flux takes them.  -h/--help prints usage (exit 0); a flag
 * outside shorts and longs (0-ended ids) is an error naming it, with
 * usage (exit 2); more than maxpos positionals too.  Every other flag
 * goes to flag(arg, c), which returns -1 to go on or an exit status.
 * Returns -1 when argv was read, else the exit status.
 */
struct option;
struct cli_ops_parse {
	const char *usage;
	const char *shorts;		/* the short flags taken */
	const char *with_arg;		/* those of them that take a value */
	const int *longs;
	const struct option *opts;	/* getopt_long's table */
	int (*flag)(void *arg, int c);
	int maxpos;
};
int cli_ops_parse(int argc, char **argv, const struct cli_ops_parse *p,
    void *arg, char **pos, int *npos);

int cmd_age(int argc, char **argv, enum cli_mode mode);
int cmd_keygen(int argc, char **argv, enum cli_mode mode);
int cmd_encrypt(int argc, char **argv, enum cli_mode mode);
int cmd_decrypt(int argc, char **argv, enum cli_mode mode);
/* Apply-time hooks (cmd_render.c holds the shared helpers). */
int cmd_render(int argc, char **argv, enum cli_mode mode);
int cmd_krm(int argc, char **argv, enum cli_mode mode);
int cmd_kustomize_plugin(int argc, char **argv, enum cli_mode mode);
int cmd_post_render(int argc, char **argv, enum cli_mode mode);
int cli_render_status(sotto_err code);
sotto_err cli_render_keys(struct sotto_age_idlist *ids,
    struct sotto_buf *sources, struct sotto_error *e);
sotto_err cli_render_write(const struct sotto_buf *out,
    struct sotto_error *e);
/*
 * The stdin -> stdout hooks (krm, post-render): reads standard input,
 * loads the identities, runs fn and writes its output.  Frees everything
 * it read, decrypted or wrote; the caller maps the error to an exit code.
 */
struct sotto_render_opts;
typedef sotto_err (*cli_render_fn)(struct sotto_buf *out, const uint8_t *in,
    size_t len, const struct sotto_render_opts *o, struct sotto_error *e);
sotto_err cli_render_filter(cli_render_fn fn, struct sotto_error *e);
/* The sops personality: sops' subcommands and legacy flags. */
int cli_sops_main(int argc, char **argv);

/* sops subcommands beyond encrypt/decrypt (cmd_<name>.c). */
int cmd_edit(int argc, char **argv, enum cli_mode mode);
int cmd_set(int argc, char **argv, enum cli_mode mode);
int cmd_unset(int argc, char **argv, enum cli_mode mode);
int cmd_exec_env(int argc, char **argv, enum cli_mode mode);
int cmd_exec_file(int argc, char **argv, enum cli_mode mode);
int cmd_filestatus(int argc, char **argv, enum cli_mode mode);
int cmd_rotate(int argc, char **argv, enum cli_mode mode);
int cmd_updatekeys(int argc, char **argv, enum cli_mode mode);
int cmd_groups(int argc, char **argv, enum cli_mode mode);
int cmd_config(int argc, char **argv, enum cli_mode mode);

/* The git guard (cmd_guard.c, cmd_hook.c, cmd_git_setup.c). */
int cmd_guard(int argc, char **argv, enum cli_mode mode);
int cmd_hook(int argc, char **argv, enum cli_mode mode);
int cmd_git_setup(int argc, char **argv, enum cli_mode mode);

/* The in-cluster agent (cmd_reconcile.c). */
int cmd_reconcile(int argc, char **argv, enum cli_mode mode);
/* Operating sotto like Flux (cmd_ops.c, issue #20). */
int cmd_controller(int argc, char **argv, enum cli_mode mode);
int cmd_reconcile_object(int argc, char **argv, enum cli_mode mode);
bool cli_reconcile_is_object(int argc, char **argv);
int cmd_get(int argc, char **argv, enum cli_mode mode);
int cmd_suspend(int argc, char **argv, enum cli_mode mode);
int cmd_resume(int argc, char **argv, enum cli_mode mode);
int cmd_install(int argc, char **argv, enum cli_mode mode);
/* `sotto bootstrap git` (cmd_bootstrap.c). */
int cmd_bootstrap(int argc, char **argv, enum cli_mode mode);
int cmd_events(int argc, char **argv, enum cli_mode mode);
/* check, uninstall, tree, logs and --watch (cmd_ops2.c). */
int cmd_check(int argc, char **argv, enum cli_mode mode);
int cmd_uninstall(int argc, char **argv, enum cli_mode mode);
int cmd_tree(int argc, char **argv, enum cli_mode mode);
int cmd_logs(int argc, char **argv, enum cli_mode mode);
struct sotto_ops;
/* get --watch (kind 0: Kustomization, 1: GitRepository), events --watch:
 * the exit status */
int cli_ops_watch(const struct sotto_ops *o, int kind, bool events,
    const char *name, const char *for_ref);
/* flux build / diff kustomization (cmd_build.c). */
int cmd_build(int argc, char **argv, enum cli_mode mode);
int cmd_diff(int argc, char **argv, enum cli_mode mode);
/* Keys born in the cluster (cmd_cluster.c). */
int cmd_cluster(int argc, char **argv, enum cli_mode mode);
/*
 * .sops.yaml creation rules for a cluster recipient (sops_rule.c).
 * print: appends a rule for path_regex re naming recipient to out.
 * update: in file path (created when absent), the rule whose path_regex
 * is re gets recipient in its age list in place of any of the Secret's
 * older recipients (all: one a line), other recipients kept; without
 * such a rule one is added before the first.  Only the lines of that age
 * value (or the new rule) change; the file is replaced atomically.
 */
void cli_sops_rule_print(struct sotto_buf *out, const char *re,
    const char *recipient);
sotto_err cli_sops_rule_update(const char *path, const char *re,
    const char *recipient, const char *all, struct sotto_error *e);

/*
 * Shared by the commands that change or run an encrypted file
 * (src/cli/sopsfile.c).
 */
const char *cli_prog(enum cli_mode mode);
/* Prints e and returns its exit status. */
int cli_fail(enum cli_mode mode, const struct sotto_error *e);
/* Store by --input-type name, else by path; NULL with e set. */
const struct sotto_store *cli_pick_store(const char *type, const char *path,
    struct sotto_error *e);
/*
 * Every identity sops would use for a file with metadata meta (NULL: the
 * key commands run once, without SOPS_AGE_RECIPIENT), prompting on the
 * terminal if needed.  As in sops a failing source is only reported in
 * sources: the caller fails with cli_no_identity() when none loaded.
 * which: the sources to read (SOTTO_KEYS_ALL, _NO_CMDS, _CMDS_ONLY).
 */
sotto_err cli_load_identities(struct sotto_age_idlist *ids,
    struct sotto_buf *sources, const struct sotto_node *meta,
    enum sotto_keys_which which, struct sotto_error *e);
/*
 * SOTTO_E_NO_KEY (exit 128, as sops) for path when no identity loaded;
 * the next error printed is followed by the places tried (sources).
 */
sotto_err cli_no_identity(const char *path, const struct sotto_buf *sources,
    struct sotto_error *e);
/*
 * sops' --decryption-order for the commands that take it (decrypt, edit,
 * set, unset, exec-env, exec-file, rotate): each calls _set(NULL) first,
 * then _set(optarg) for the flag; without the flag SOPS_DECRYPTION_ORDER
 * is read.  _pgp_first() says whether a group's pgp keys come before its
 * age keys (sops sorts stably, and a group lists pgp before age);
 * SOTTO_E_DECRYPTION_ORDER (exit 112) for a type named twice.
 */
#define CLI_OPT_DECRYPTION_ORDER 0x7d0
void cli_set_decryption_order(const char *order);
sotto_err cli_decryption_pgp_first(bool *pgp_first, struct sotto_error *e);
/* Lists sources ("age identities tried:") after the next error printed. */
void cli_note_sources(const struct sotto_buf *sources);
/* Text printed (once) after the next cli_error()/cli_errorf() message. */
void cli_error_note(const char *text);

/* An encrypted file loaded for change: free with cli_sfile_free(). */
struct cli_sfile {
	const char *path;		/* borrowed */
	const struct sotto_store *store; /* input store */
	struct sotto_buf in;		/* read buffer; empty once parsed
					   (its bytes are doc->src) */
	struct sotto_doc *doc;		/* parsed; decrypted after _decrypt */
	struct sotto_sops_session *sess; /* data key, metadata, IV stash */
};
/* Reads and parses path (SOTTO_E_NOTFOUND when missing). */
sotto_err cli_sfile_load(struct cli_sfile *f, const char *path,
    const char *input_type, struct sotto_error *e);
/* Decrypts a loaded file into an editing session. */
sotto_err cli_sfile_decrypt(struct cli_sfile *f, bool ignore_mac,
    struct sotto_error *e);
/* _load then _decrypt. */
sotto_err cli_sfile_open(struct cli_sfile *f, const char *path,
    const char *input_type, bool ignore_mac, struct sotto_error *e);
/*
 * Re-encrypts f->doc with the session (unchanged values keep their
 * ciphertext) and renders it: spliced into the source layout, or with
 * store os (NULL: the input store).
 */
sotto_err cli_sfile_encrypted_bytes(struct sotto_buf *out,
    struct cli_sfile *f, const struct sotto_store *os, struct sotto_error *e);
/* _encrypted_bytes, then sotto_io_write_replace() over f->path. */
sotto_err cli_sfile_save(struct cli_sfile *f, struct sotto_error *e);
/* The same, written in store os's format (NULL: the input's). */
sotto_err cli_sfile_save_as(struct cli_sfile *f, const struct sotto_store *os,
    struct sotto_error *e);
/*
 * Writes encrypted bytes over path with sotto_io_write_replace(): a
 * symbolic link's target is replaced, its mode kept; read-only and
 * hard-linked files are refused (SOTTO_E_WRITE, exit 3).
 */
sotto_err cli_write_encrypted(const char *path, const struct sotto_buf *out,
    struct sotto_error *e);
void cli_sfile_free(struct cli_sfile *f);

/*
 * A private 0700 directory for plaintext ($XDG_RUNTIME_DIR, else
 * /dev/shm), named after the sotto process that made it.  _create first
 * wipes and removes such directories left by a sotto of this user that
 * was killed (a warning names each).  _remove wipes and unlinks every
 * file in it (editor swap files included) and removes it; safe on "".
 * _on_tmpfs says whether dir is on tmpfs or ramfs (true when unknown).
 */
sotto_err cli_tmpdir_create(char *dir, size_t cap, enum cli_mode mode,
    struct sotto_error *e);
void cli_tmpdir_remove(const char *dir);
bool cli_tmpdir_on_tmpfs(const char *dir);

/*
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT are caught (not restarted) while
 * plaintext is on disk.  A keyboard SIGINT/SIGQUIT (from the terminal,
 * which the editor in the foreground also gets) is only noted in
 * cli_signals_tty(); a signal sent with kill(1) is cli_signals_pending().
 * cli_signals_exit() restores the handlers and returns the exit status
 * (85 for SIGINT; other signals are re-raised).
 */
void cli_signals_catch(void);
int cli_signals_pending(void);
int cli_signals_tty(void);
void cli_signals_clear_tty(void);
void cli_signals_restore(void);
int cli_signals_exit(int sig, enum cli_mode mode);
/* waitpid() that sends SIGTERM to the child once a signal is pending. */
int cli_wait_child(pid_t pid, int *status, bool kill_on_signal);
/* A child's exit status as a shell reports it (128+N for signal N). */
int cli_child_exit_code(int status);
bool cli_is_global_flag(const char *name);

/*
 * Moves the options in argv[1..argc-1] before the operands, as sops'
 * command-line library does for a subcommand, so that a flag written
 * after the file name is parsed: getopt_long (with "+") then stops at the
 * first operand.  With all, every argument that starts with '-' (but "-"
 * alone) counts as an option, so an unknown one is refused by getopt and
 * never taken for a file name; otherwise only the options of
 * shortopts/lo move, and an operand may start with '-' (set's VALUE -5).
 * Nothing after "--" moves.
 */
struct option;
void cli_reorder_args(int argc, char **argv, const char *shortopts,
    const struct option *lo, bool all);

/* Key selection for a new encryption (flags of encrypt/edit/rotate). */
struct cli_keyopts {
	const char *prog;		/* for warnings */
	const char *age;		/* --age list, else SOPS_AGE_RECIPIENTS */
	const char *pgp;		/* --pgp list, else SOPS_PGP_FP */
	struct sotto_sops_rules rules;	/* command-line selection rules */
	int shamir;			/* --shamir-secret-sharing-threshold */
	const char *config;		/* --config, else SOPS_CONFIG */
};
struct sotto_config;
/*
 * Fills eo as `encrypt` does: --age and --pgp (SOPS_AGE_RECIPIENTS,
 * SOPS_PGP_FP), or else the first creation rule of the nearest .sops.yaml
 * matching path.  *cfg_out keeps the config alive (rule strings are
 * borrowed); free both with cli_sops_encryption_free()
 * (src/cli/cmd_sops.c).
 */
sotto_err cli_sops_encryption_setup(struct sotto_sops_encrypt_opts *eo,
    struct sotto_config **cfg_out, const struct cli_keyopts *k,
    const char *path, struct sotto_error *e);
void cli_sops_encryption_free(struct sotto_sops_encrypt_opts *eo,
    struct sotto_config *cfg);

/* Recipients of one key group (src/cli/rekey.c). */
struct cli_rgroup {
	char **age;		/* age recipient strings */
	size_t nage;		/* count */
	struct sotto_sops_pgplist pgp;	/* pgp fingerprints */
	unsigned other;		/* bits: (pgp, never set) kms gcp_kms
				   azure_kv hc_vault hckms entries present */
};
/* Reads the groups of a metadata map (flat form = one group). */
sotto_err cli_meta_groups(struct cli_rgroup **out, size_t *n, int *threshold,
    const struct sotto_node *meta, struct sotto_error *e);
void cli_rgroups_free(struct cli_rgroup *g, size_t n);
sotto_err cli_rgroup_add(struct cli_rgroup *g, const char *rcp);
bool cli_rgroup_remove(struct cli_rgroup *g, const char *rcp);
/* Appends "kms, gcp_kms" for the other-type bits. */
sotto_err cli_other_type_names(struct sotto_buf *b, unsigned bits);
/*
 * A copy of meta with the data key (32 bytes) wrapped for groups g (age
 * natively, pgp with the user's GnuPG): one group keeps the flat form,
 * its other key types and the entries of recipients already there;
 * several groups re-split the key (Shamir) and fail with
 * SOTTO_E_UNSUPPORTED if keys of other types (kms, ...) are present.
 * The MAC and lastmodified are kept: values do not change.
 */
sotto_err cli_meta_rewrap(struct sotto_node **out,
    const struct sotto_node *meta, const struct cli_rgroup *g, size_t n,
    int threshold, const uint8_t *key, struct sotto_error *e);

/*
 * Runs one(ctx, path) for each file, with a progress line on a terminal
 * and a summary for several files; returns the first failure's status.
 */
int cli_run_files(char **files, int n, const char *verb,
    int (*one)(const void *ctx, const char *path), const void *ctx);

#endif
