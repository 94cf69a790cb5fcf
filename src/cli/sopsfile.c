/* SPDX-License-Identifier: ISC */
/*
 * Helpers shared by the sops subcommands that change an encrypted file in
 * place (edit, set, unset, rotate, updatekeys, groups) or run a command
 * with its values (exec-env, exec-file): load and decrypt a file into an
 * editing session, re-encrypt and write it back atomically, the private
 * tmpfs directory for plaintext, and the signal guard that removes it.
 * The crypto lives in src/sops/; this file only strings it together.
 */
#include "cli/cli.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/magic.h>

#include <sodium.h>

#include "sotto/io.h"
#include "sotto/keys.h"

const char *
cli_prog(enum cli_mode mode)
{
	return mode == CLI_SOPS ? "sops" : "sotto";
}

int
cli_fail(enum cli_mode mode, const struct sotto_error *e)
{
	cli_error(cli_prog(mode), e);
	return cli_exit_status(e->code, mode);
}

const struct sotto_store *
cli_pick_store(const char *type, const char *path, struct sotto_error *e)
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

sotto_err
cli_load_identities(struct sotto_age_idlist *ids, struct sotto_buf *sources,
    const struct sotto_node *meta, enum sotto_keys_which which,
    struct sotto_error *e)
{
	struct sotto_keys_opts ko;
	struct sotto_keys_target *t = NULL;
	size_t nt = 0;
	sotto_err err;

	memset(&ko, 0, sizeof(ko));
	ko.cb = cli_pass_cb;
	ko.include_ssh_defaults = true;
	ko.report_only = true;
	ko.which = which;
	if (meta != NULL && sotto_keys_targets(&t, &nt, meta) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	ko.targets = t;
	ko.ntargets = nt;
	err = sotto_keys_load_identities(ids, &ko, sources, e);
	free(t);
	return err;
}

void
cli_note_sources(const struct sotto_buf *sources)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	const char *p;
	size_t n;

	if (sources == NULL || sources->len == 0)
		return;
	(void)sotto_buf_addstr(&b, "age identities tried:\n");
	for (p = (const char *)sources->data; *p != '\0'; p += n) {
		n = strcspn(p, "\n");
		(void)sotto_buf_addf(&b, "    %.*s\n", (int)n, p);
		if (p[n] == '\n')
			n++;
	}
	cli_error_note(b.data != NULL ? (const char *)b.data : NULL);
	sotto_buf_release(&b);
}

sotto_err
cli_no_identity(const char *path, const struct sotto_buf *sources,
    struct sotto_error *e)
{
	cli_note_sources(sources);
	return sotto_error_set(e, SOTTO_E_NO_KEY, "'%s': failed to get the "
	    "data key: no age identity could be loaded", path);
}

static bool order_used;		/* the command takes the order */
static const char *order_flag;	/* --decryption-order, or NULL */

void
cli_set_decryption_order(const char *order)
{
	order_used = true;
	order_flag = order;
}

sotto_err
cli_decryption_pgp_first(bool *pgp_first, struct sotto_error *e)
{
	const char *s = order_flag ? order_flag :
	    getenv("SOPS_DECRYPTION_ORDER");
	const char *p, *c, *q, *qc;
	size_t i = 0, iage = SIZE_MAX, ipgp = SIZE_MAX, n;

	*pgp_first = false;
	if (!order_used || s == NULL || s[0] == '\0')
		return SOTTO_OK;	/* sops' default: age, pgp */
	for (p = s;; p = c + 1, i++) {
		c = p + strcspn(p, ",");
		n = (size_t)(c - p);
		for (q = s; q < p; q = qc + 1) {
			qc = q + strcspn(q, ",");
			if ((size_t)(qc - q) == n && memcmp(q, p, n) == 0)
				return sotto_error_set(e,
				    SOTTO_E_DECRYPTION_ORDER, "duplicate "
				    "decryption key type '%.*s' (in %s)",
				    (int)(n > 32 ? 32 : n), p, order_flag ?
				    "--decryption-order" :
				    "SOPS_DECRYPTION_ORDER");
		}
		if (n == 3 && memcmp(p, "age", 3) == 0)
			iage = i;
		if (n == 3 && memcmp(p, "pgp", 3) == 0)
			ipgp = i;
		if (*c == '\0')
			break;
	}
	*pgp_first = ipgp <= iage;
	return SOTTO_OK;
}

sotto_err
cli_sfile_load(struct cli_sfile *f, const char *path, const char *input_type,
    struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;

	memset(f, 0, sizeof(*f));
	f->path = path;
	f->in.secret = false;
	if ((f->store = cli_pick_store(input_type, path, e)) == NULL)
		return e->code;
	if (!sotto_io_exists(path))
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "cannot operate "
		    "on non-existent file '%s'", path);
	if (sotto_io_read_file(&f->in, path, lim.max_bytes, e) != SOTTO_OK)
		return e->code;
	/* f->in's bytes become the doc's source (f->in is left empty) */
	if (sotto_store_parse_buf(f->store, &f->doc, &f->in, path, &lim,
	    e) != SOTTO_OK)
		return e->code;
	f->doc->secret = true;
	return SOTTO_OK;
}

sotto_err
cli_sfile_decrypt(struct cli_sfile *f, bool ignore_mac, struct sotto_error *e)
{
	struct sotto_age_idlist ids = { NULL, 0 };
	struct sotto_buf sources = SOTTO_BUF_INIT, warn = SOTTO_BUF_INIT;
	struct sotto_sops_decrypt_opts dop;
	sotto_err err;

	if (!sotto_sops_is_encrypted(f->doc))
		return sotto_error_set(e, SOTTO_E_NOT_ENCRYPTED, "'%s': sops "
		    "metadata not found", f->path);
	memset(&dop, 0, sizeof(dop));
	if ((err = cli_decryption_pgp_first(&dop.pgp_first, e)) != SOTTO_OK)
		return err;
	if ((err = cli_load_identities(&ids, &sources, f->doc->meta[0],
	    SOTTO_KEYS_ALL, e)) != SOTTO_OK)
		goto out;
	if (ids.n == 0 && !sotto_sops_meta_has_pgp(f->doc->meta[0])) {
		err = cli_no_identity(f->path, &sources, e);
		goto out;
	}
	dop.ids = ids.v;
	dop.nids = ids.n;
	dop.ignore_mac = ignore_mac;
	dop.warnings = &warn;
	dop.gpg = true;		/* pgp: the user's GnuPG, as sops */
	err = sotto_sops_decrypt_session(&f->sess, f->doc, &dop, e);
	if (err == SOTTO_E_NO_KEY)
		cli_note_sources(&sources);
out:
	if (warn.len > 0)
		fputs((const char *)warn.data, stderr);
	sotto_age_idlist_free(&ids);
	sotto_buf_release(&sources);
	sotto_buf_release(&warn);
	return err;
}

sotto_err
cli_sfile_open(struct cli_sfile *f, const char *path, const char *input_type,
    bool ignore_mac, struct sotto_error *e)
{
	if (cli_sfile_load(f, path, input_type, e) != SOTTO_OK)
		return e->code;
	return cli_sfile_decrypt(f, ignore_mac, e);
}

sotto_err
cli_sfile_encrypted_bytes(struct sotto_buf *out, struct cli_sfile *f,
    const struct sotto_store *os, struct sotto_error *e)
{
	struct sotto_buf warn = SOTTO_BUF_INIT;
	struct sotto_node *meta = NULL;
	struct sotto_emit_opts eo = { -1 };
	sotto_err err;

	err = sotto_sops_reencrypt(&meta, f->doc, f->sess, &warn, e);
	if (warn.len > 0)
		fputs((const char *)warn.data, stderr);
	sotto_buf_release(&warn);
	if (err != SOTTO_OK)
		return err;
	if (os == NULL || os == f->store)
		err = f->store->emit_splice(out, f->doc, meta, e);
	else
		err = os->emit(out, f->doc, meta, &eo, e);
	sotto_tree_node_free(meta, false);
	return err;
}

sotto_err
cli_sfile_save(struct cli_sfile *f, struct sotto_error *e)
{
	return cli_sfile_save_as(f, NULL, e);
}

sotto_err
cli_sfile_save_as(struct cli_sfile *f, const struct sotto_store *os,
    struct sotto_error *e)
{
	struct sotto_buf out = SOTTO_BUF_INIT;
	sotto_err err;

	err = cli_sfile_encrypted_bytes(&out, f, os, e);
	if (err == SOTTO_OK)
		err = cli_write_encrypted(f->path, &out, e);
	sotto_buf_release(&out);
	return err;
}

sotto_err
cli_write_encrypted(const char *path, const struct sotto_buf *out,
    struct sotto_error *e)
{
	return sotto_io_write_replace(path, out->data, out->len,
	    0666 & ~sotto_io_umask(), e);
}

void
cli_sfile_free(struct cli_sfile *f)
{
	sotto_sops_session_free(f->sess);
	sotto_tree_doc_free(f->doc);
	sotto_buf_release(&f->in);
	memset(f, 0, sizeof(*f));
}

/* ---- private plaintext directory ------------------------------------ */

/*
 * A plaintext directory is named "sotto-NS-PID-START-XXXXXX": the pid
 * namespace (its inode number), the pid and the process start time (clock
 * ticks after boot, field 22 of /proc/PID/stat) of the sotto that made
 * it.  A later sotto can so tell a directory left by a killed one (SIGKILL
 * runs no handler) from a live one, even once the pid is reused, and never
 * touches one made in another pid namespace (a container sharing
 * /dev/shm), whose pids mean nothing here.
 */
struct tmp_owner {
	unsigned long long ns;		/* pid namespace inode; 0: unknown */
	unsigned long long pid;		/* process id */
	unsigned long long start;	/* start time; 0: unknown */
};

static unsigned long long
pid_ns(void)
{
	struct stat st;

	return stat("/proc/self/ns/pid", &st) == 0 ?
	    (unsigned long long)st.st_ino : 0;
}

/* The start time of pid, or 0 when it cannot be read. */
static unsigned long long
pid_start(unsigned long long pid)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	struct sotto_error e;
	unsigned long long v = 0;
	char path[64];
	const char *p = NULL;
	int field;

	snprintf(path, sizeof(path), "/proc/%llu/stat", pid);
	if (sotto_io_read_file(&b, path, 4096, &e) == SOTTO_OK &&
	    sotto_buf_addch(&b, '\0') == SOTTO_OK)
		p = strrchr((const char *)b.data, ')');	/* ends field 2 */
	for (field = 2; p != NULL && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL && p[1] >= '0' && p[1] <= '9')
		v = strtoull(p + 1, NULL, 10);
	sotto_buf_release(&b);
	return v;
}

/* Reads "digits-" at *p. */
static bool
name_num(const char **p, unsigned long long *v)
{
	char *end;

	if (**p < '0' || **p > '9')
		return false;
	errno = 0;
	*v = strtoull(*p, &end, 10);
	if (errno != 0 || *end != '-')
		return false;
	*p = end + 1;
	return true;
}

static bool
parse_owner(const char *name, struct tmp_owner *o)
{
	const char *p = name + 6;
	size_t i;

	if (strncmp(name, "sotto-", 6) != 0 || !name_num(&p, &o->ns) ||
	    !name_num(&p, &o->pid) || !name_num(&p, &o->start))
		return false;
	for (i = 0; i < 6; i++)
		if (!isalnum((unsigned char)p[i]))
			return false;
	return p[6] == '\0';
}

/* Gone: no such process, or the pid now belongs to a later one. */
static bool
owner_gone(const struct tmp_owner *o)
{
	unsigned long long now;

	if (o->pid == 0 || o->pid > INT_MAX)
		return false;
	if (kill((pid_t)o->pid, 0) != 0 && errno == ESRCH)
		return true;
	if (o->start == 0 || (now = pid_start(o->pid)) == 0)
		return false;
	return now != o->start;
}

/*
 * Wipes and removes the plaintext directories in base that a sotto of
 * this uid and pid namespace left behind when it was killed: ours by
 * name, a real directory (not a symlink) owned by us with mode 0700, and
 * its process gone.  Anything else is left alone.
 */
static void
sweep_stale(const char *base, enum cli_mode mode)
{
	struct tmp_owner me = { pid_ns(), 0, 0 }, o;
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (me.ns == 0 || (d = opendir(base)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!parse_owner(de->d_name, &o) || o.ns != me.ns ||
		    fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != geteuid() || (st.st_mode & 07777) != 0700 ||
		    !owner_gone(&o))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", base,
		    de->d_name) >= sizeof(path))
			continue;
		cli_tmpdir_remove(path);
		if (!sotto_io_exists(path))
			cli_warnf(cli_prog(mode), "removed '%s': plaintext "
			    "left behind by sotto process %llu, which no "
			    "longer runs", path, o.pid);
	}
	closedir(d);
}

sotto_err
cli_tmpdir_create(char *dir, size_t cap, enum cli_mode mode,
    struct sotto_error *e)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int n;

	if (base == NULL || base[0] != '/' || stat(base, &st) != 0 ||
	    !S_ISDIR(st.st_mode) || access(base, W_OK | X_OK) != 0)
		base = "/dev/shm";
	if (stat(base, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    access(base, W_OK | X_OK) != 0)
		return sotto_error_set(e, SOTTO_E_IO, "no private tmpfs "
		    "directory for plaintext: set XDG_RUNTIME_DIR or mount "
		    "/dev/shm");
	sweep_stale(base, mode);
	n = snprintf(dir, cap, "%s/sotto-%llu-%ld-%llu-XXXXXX", base,
	    pid_ns(), (long)getpid(), pid_start((unsigned long long)getpid()));
	if (n < 0 || (size_t)n >= cap)
		return sotto_error_set(e, SOTTO_E_IO, "temporary directory "
		    "path too long");
	if (mkdtemp(dir) == NULL)
		return sotto_error_set(e, SOTTO_E_IO, "cannot create a "
		    "private directory in '%s': %s", base, strerror(errno));
	(void)chmod(dir, 0700);
	return SOTTO_OK;
}

bool
cli_tmpdir_on_tmpfs(const char *dir)
{
	struct statfs sf;

	if (statfs(dir, &sf) != 0)
		return true;	/* unknown: no warning on a guess */
	return sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC;
}

/*
 * Overwrites a regular file with zeros before it is unlinked, so the
 * plaintext does not linger in tmpfs pages handed out again.
 * WARNING: the one open() outside core/io.c; a sotto_io_wipe_file() in
 * io.c would be its proper home.
 */
static void
wipe_file(int dfd, const char *name)
{
	static const uint8_t zero[4096];
	struct stat st;
	off_t left;
	int fd;

	fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		for (left = st.st_size; left > 0;) {
			size_t n = left > (off_t)sizeof(zero) ? sizeof(zero) :
			    (size_t)left;
			if (sotto_io_write_all(fd, zero, n) != SOTTO_OK)
				break;
			left -= (off_t)n;
		}
		(void)fsync(fd);
	}
	(void)close(fd);
}

void
cli_tmpdir_remove(const char *dir)
{
	DIR *d;
	struct dirent *de;

	if (dir == NULL || dir[0] == '\0')
		return;
	d = opendir(dir);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			wipe_file(dirfd(d), de->d_name);
			if (unlinkat(dirfd(d), de->d_name, 0) != 0)
				(void)unlinkat(dirfd(d), de->d_name,
				    AT_REMOVEDIR);
		}
		closedir(d);
	}
	(void)rmdir(dir);
}

/* ---- signals --------------------------------------------------------- */

static volatile sig_atomic_t caught_sig;
static volatile sig_atomic_t caught_from_tty;
static struct sigaction old_int, old_term, old_hup, old_quit;

static void
on_signal(int sig, siginfo_t *si, void *uctx)
{
	(void)uctx;
	/* keyboard signals come from the kernel; kill(1) is SI_USER */
	if ((sig == SIGINT || sig == SIGQUIT) && si != NULL &&
	    si->si_code == SI_KERNEL) {
		caught_from_tty = sig;
		return;
	}
	caught_sig = sig;
}

void
cli_signals_catch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;	/* no SA_RESTART: waits see EINTR */
	sigemptyset(&sa.sa_mask);
	caught_sig = 0;
	caught_from_tty = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	sigaction(SIGQUIT, &sa, &old_quit);
}

int
cli_signals_pending(void)
{
	return caught_sig;
}

int
cli_signals_tty(void)
{
	return caught_from_tty;
}

void
cli_signals_clear_tty(void)
{
	caught_from_tty = 0;
}

void
cli_signals_restore(void)
{
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
}

int
cli_signals_exit(int sig, enum cli_mode mode)
{
	cli_signals_restore();
	if (sig == SIGINT) {
		fprintf(stderr, "%s: error: interrupted\n", cli_prog(mode));
		return cli_exit_status(SOTTO_E_INTERRUPTED, mode);
	}
	signal(sig, SIG_DFL);
	raise(sig);
	return 128 + sig;
}

/* ---- child processes -------------------------------------------------- */

int
cli_wait_child(pid_t pid, int *status, bool kill_on_signal)
{
	pid_t r;
	bool sent = false;

	for (;;) {
		r = waitpid(pid, status, 0);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (kill_on_signal && cli_signals_pending() && !sent) {
			(void)kill(pid, SIGTERM);
			sent = true;
		}
	}
}

int
cli_child_exit_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

/* ---- small option helpers --------------------------------------------- */

bool
cli_is_global_flag(const char *name)
{
	static const char *const g[] = { "verbose", "disable-version-check",
	    "check-for-updates", "enable-local-keyservice", "keyservice",
	    "mac-only-encrypted", NULL };
	size_t i;

	for (i = 0; g[i] != NULL; i++)
		if (strcmp(name, g[i]) == 0)
			return true;
	return false;
}
